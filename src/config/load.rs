//! Reading the config files: each file is checked on its own, so an error
//! names the file, line and column it is in; then the files are merged
//! over the built-in defaults, table by table, and checked as a whole.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use super::{AgentConfig, Config, ProfileChoice, DEFAULT_CONFIG};
use crate::keymap::KeymapError;

/// The project file, looked for in the current directory.
pub const PROJECT_FILE: &str = ".loop-tui.toml";

/// The name the built-in defaults go by in messages.
const DEFAULTS_NAME: &str = "<built-in defaults>";

/// Why the configuration cannot be used. The text is one line that names
/// the file, and the line and column when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A bad key or value at a place in a file.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A file that exists but cannot be read, or a `--config` file that
    /// does not exist.
    #[error("failed to read {file}: {message}")]
    Unreadable { file: String, message: String },
    /// A command-line flag that does not fit the configuration.
    #[error("{0}")]
    Flag(String),
    /// The layers were each valid but their merge is not: a bug, since
    /// merging only combines valid values.
    #[error("the merged configuration is invalid (a bug in loop-tui): {0}")]
    Merged(String),
}

/// Where the config files are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPaths {
    /// `$XDG_CONFIG_HOME/loop-tui/config.toml`, when a home is known.
    pub user: Option<PathBuf>,
    /// `./.loop-tui.toml`, or the `--config` file.
    pub project: PathBuf,
    /// Whether the project file was asked for (`--config`), so that its
    /// absence is an error rather than nothing to read.
    pub project_required: bool,
    /// Shown as `~` in messages.
    pub home: Option<PathBuf>,
}

impl ConfigPaths {
    /// The standard places, from the values of `XDG_CONFIG_HOME` and
    /// `HOME` and the current directory; `explicit` (`--config FILE`)
    /// replaces the project file.
    pub fn new(
        xdg_config_home: Option<PathBuf>,
        home: Option<PathBuf>,
        cwd: &Path,
        explicit: Option<PathBuf>,
    ) -> Self {
        let home = home.filter(|h| h.is_absolute());
        // The XDG spec says a relative XDG_CONFIG_HOME is to be ignored.
        let config_home = xdg_config_home
            .filter(|p| p.is_absolute())
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        let project_required = explicit.is_some();
        let project = explicit.map_or_else(|| cwd.join(PROJECT_FILE), |path| cwd.join(path));
        Self {
            user: config_home.map(|dir| dir.join("loop-tui").join("config.toml")),
            project,
            project_required,
            home,
        }
    }

    /// The standard places for this process.
    pub fn from_env(explicit: Option<PathBuf>) -> Result<Self, ConfigError> {
        let cwd = std::env::current_dir().map_err(|err| ConfigError::Unreadable {
            file: "the current directory".to_owned(),
            message: err.to_string(),
        })?;
        Ok(Self::new(
            std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            &cwd,
            explicit,
        ))
    }

    /// `path` for messages, with the home directory shown as `~`.
    pub fn display(&self, path: &Path) -> String {
        match self
            .home
            .as_ref()
            .and_then(|home| path.strip_prefix(home).ok())
        {
            Some(rest) => format!("~/{}", rest.display()),
            None => path.display().to_string(),
        }
    }
}

/// One layer's text and the name messages give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// What became of each place a config file was looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceStatus {
    Read(String),
    NotFound(String),
}

/// The merged configuration and which files it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    /// In layering order, the built-in defaults first.
    pub sources: Vec<SourceStatus>,
}

/// Reads the files at `paths` over the built-in defaults.
pub fn load(paths: &ConfigPaths) -> Result<Loaded, ConfigError> {
    let mut sources = vec![Source {
        name: DEFAULTS_NAME.to_owned(),
        text: DEFAULT_CONFIG.to_owned(),
    }];
    let mut statuses = vec![SourceStatus::Read(DEFAULTS_NAME.to_owned())];
    let places = paths
        .user
        .iter()
        .map(|p| (p, false))
        .chain([(&paths.project, paths.project_required)]);
    for (path, required) in places {
        let name = paths.display(path);
        match std::fs::read_to_string(path) {
            Ok(text) => {
                statuses.push(SourceStatus::Read(name.clone()));
                sources.push(Source { name, text });
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => {
                statuses.push(SourceStatus::NotFound(name));
            }
            Err(err) => {
                return Err(ConfigError::Unreadable {
                    file: name,
                    message: unreadable(&err, required),
                })
            }
        }
    }
    Ok(Loaded {
        config: load_sources(&sources)?,
        sources: statuses,
    })
}

/// Why a config file cannot be read, and what to do about it.
fn unreadable(err: &std::io::Error, required: bool) -> String {
    let what = match err.kind() {
        std::io::ErrorKind::InvalidData => "it is not UTF-8 text".to_owned(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_owned(),
        _ => err.to_string(),
    };
    if required {
        format!("{what}; give --config the path of a TOML config file")
    } else {
        format!("{what}; a config file must be readable TOML text: fix or remove it")
    }
}

/// Layers `sources`, each over the ones before it. The first is normally
/// the built-in defaults; anything a layer leaves out keeps the value of
/// `Config::default()`.
pub fn load_sources(sources: &[Source]) -> Result<Config, ConfigError> {
    let mut merged = toml::Table::new();
    for source in sources {
        // Checking the layer alone points an error into its own file.
        toml::from_str::<Config>(&source.text).map_err(|err| toml_error(source, &err))?;
        let table: toml::Table = source
            .text
            .parse()
            .map_err(|err: toml::de::Error| toml_error(source, &err))?;
        merge(&mut merged, table);
    }
    // Every layer was valid alone and merging only combines valid values,
    // so this fails only on a bug; say so rather than point at a file.
    let config =
        Config::deserialize(merged).map_err(|err| ConfigError::Merged(one_line(err.message())))?;
    check_whole(&config, sources)?;
    Ok(config)
}

/// Merges `over` into `base`: tables key by key, however deep; any other
/// value (arrays included) replaces the one before whole.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(base_table)), toml::Value::Table(over_table)) => {
                merge(base_table, over_table);
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// What only the merged configuration can show: names that refer to other
/// entries, required keys that no layer set, keys bound twice.
fn check_whole(config: &Config, sources: &[Source]) -> Result<(), ConfigError> {
    for key in ["worker", "reviewer"] {
        let name = if key == "worker" {
            &config.worker
        } else {
            &config.reviewer
        };
        if config.agent(name).is_none() {
            return Err(at(
                sources,
                &[&[key]],
                format!(
                    "{key} = \"{name}\" names no entry of [agents]; there are {}",
                    config.agent_names()
                ),
            ));
        }
    }
    for (name, agent) in &config.agents {
        let path: &[&str] = &["agents", &name.0];
        match (agent.profile, &agent.command) {
            (None, _) => {
                return Err(at(
                    sources,
                    &[path],
                    format!(
                        "[agents.{name}] has no profile: set profile = \"claude\", \"codex\", \
                         \"gemini\" or \"custom\""
                    ),
                ))
            }
            (Some(ProfileChoice::Custom), None) => {
                return Err(at(
                    sources,
                    &[path],
                    format!(
                        "[agents.{name}] has profile = \"custom\" but no command: set command = \
                         the shell command line to run"
                    ),
                ))
            }
            (_, Some(command)) if command.trim().is_empty() => {
                let command_path: &[&str] = &["agents", &name.0, "command"];
                return Err(at(
                    sources,
                    &[command_path],
                    format!(
                        "[agents.{name}] command is empty: set it to the program or the shell \
                         command line to run, or remove it"
                    ),
                ));
            }
            _ => {}
        }
        check_launchable(&name.0, agent, sources)?;
    }
    config.keys.keymap().map_err(|err: KeymapError| {
        let paths: Vec<[&str; 2]> = err.names().into_iter().map(|n| ["keys", n]).collect();
        let paths: Vec<&[&str]> = paths.iter().map(<[&str; 2]>::as_slice).collect();
        at(sources, &paths, format!("in [keys]: {err}"))
    })?;
    Ok(())
}

/// What no program can be started with: a NUL in its command line,
/// arguments or environment, or an environment variable without a name.
fn check_launchable(
    name: &str,
    agent: &AgentConfig,
    sources: &[Source],
) -> Result<(), ConfigError> {
    let nul = |text: &str| text.contains('\0');
    let bad = if agent.command.as_deref().is_some_and(nul) {
        Some((
            "command",
            "contains a NUL character (\\u0000), which no command line can; remove it".to_owned(),
        ))
    } else if agent.args.iter().any(|arg| nul(arg)) {
        Some((
            "args",
            "contain a NUL character (\\u0000), which no argument can; remove it".to_owned(),
        ))
    } else if let Some(key) = agent
        .env
        .keys()
        .find(|key| key.is_empty() || key.contains('=') || nul(key))
    {
        Some((
            "env",
            format!(
                "\"{}\" cannot name an environment variable: use a name without = or NUL",
                key.escape_debug()
            ),
        ))
    } else if agent.env.values().any(|value| nul(value)) {
        Some(("env", "values contain a NUL character (\\u0000), which no environment variable can; remove it".to_owned()))
    } else {
        None
    };
    match bad {
        Some((key, what)) => {
            let path: &[&str] = &["agents", name, key];
            Err(at(
                sources,
                &[path],
                format!("[agents.{name}] {key} {what}"),
            ))
        }
        None => Ok(()),
    }
}

/// An error at the key the last layer that set any of `paths` has there
/// (the first path wins within a layer); without one, at the top of the
/// last file, which is where the merge ended.
fn at(sources: &[Source], paths: &[&[&str]], message: String) -> ConfigError {
    for source in sources.iter().rev() {
        let Ok(doc) = DeTable::parse(&source.text) else {
            continue;
        };
        if let Some(span) = paths.iter().find_map(|path| key_span(doc.get_ref(), path)) {
            let (line, column) = line_column(&source.text, span.start);
            return ConfigError::Invalid {
                file: source.name.clone(),
                line,
                column,
                message,
            };
        }
    }
    ConfigError::Invalid {
        file: sources
            .last()
            .map_or(DEFAULTS_NAME.to_owned(), |s| s.name.clone()),
        line: 1,
        column: 1,
        message,
    }
}

/// The span of the key at `path` (`["keys", "approve"]`) in `table`.
fn key_span(table: &DeTable<'_>, path: &[&str]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    let (key, value) = table.iter().find(|(k, _)| k.get_ref() == first)?;
    if rest.is_empty() {
        return Some(key.span());
    }
    match value.get_ref() {
        DeValue::Table(inner) => key_span(inner, rest),
        _ => None,
    }
}

/// The value at `path` in `table`.
fn value_at<'a, 'i>(table: &'a DeTable<'i>, path: &[&str]) -> Option<&'a DeValue<'i>> {
    let (first, rest) = path.split_first()?;
    let (_, value) = table.iter().find(|(k, _)| k.get_ref() == first)?;
    match (rest.is_empty(), value.get_ref()) {
        (true, value) => Some(value),
        (false, DeValue::Table(inner)) => value_at(inner, rest),
        (false, _) => None,
    }
}

/// The dotted key whose name or value holds `span`: where an error is.
fn key_path_at(table: &DeTable<'_>, span: &Range<usize>, path: &mut Vec<String>) -> bool {
    for (key, value) in table {
        path.push(key.get_ref().to_string());
        if key.span() == *span {
            return true;
        }
        let found = if let DeValue::Table(inner) = value.get_ref() {
            key_path_at(inner, span, path)
        } else {
            let v = value.span();
            v.start <= span.start && span.end <= v.end
        };
        if found {
            return true;
        }
        path.pop();
    }
    false
}

/// toml's error as one line at its file, line and column, saying which
/// table or key it is about.
fn toml_error(source: &Source, err: &toml::de::Error) -> ConfigError {
    let message = one_line(err.message());
    let Some(span) = err.span() else {
        return ConfigError::Invalid {
            file: source.name.clone(),
            line: 1,
            column: 1,
            message,
        };
    };
    let mut path = Vec::new();
    let mut start = span.start;
    if let Ok(doc) = DeTable::parse(&source.text) {
        key_path_at(doc.get_ref(), &span, &mut path);
        // toml puts an error in a list element at the whole list; the
        // element the message quotes first is the one meant (a message may
        // quote an example after it).
        let segments: Vec<&str> = path.iter().map(String::as_str).collect();
        if let Some(DeValue::Array(items)) = value_at(doc.get_ref(), &segments) {
            let quoted = items
                .iter()
                .filter_map(|item| {
                    let text = item.get_ref().as_str()?;
                    let at = message.find(&format!("\"{text}\""))?;
                    Some((at, item.span().start))
                })
                .min();
            if let Some((_, item_start)) = quoted {
                start = item_start;
            }
        }
    }
    let (line, column) = line_column(&source.text, start);
    ConfigError::Invalid {
        file: source.name.clone(),
        line,
        column,
        message: with_place(&message, &path),
    }
}

/// serde's message with the table it is in ("unknown field `x` in [ui],
/// expected one of layout, …") or the key it is about ("ui.layout: …"),
/// in TOML's words rather than Rust's.
fn with_place(message: &str, path: &[String]) -> String {
    let message = toml_words(message);
    let message = message.as_str();
    // serde quotes every allowed name; plain names read better on one line.
    let (what, allowed) = match message.split_once(", ") {
        Some((what, allowed)) if message.starts_with("unknown ") => {
            (what, Some(allowed.replace('`', "")))
        }
        _ => (message, None),
    };
    let head = if message.starts_with("unknown field") {
        // The unknown key is the end of the path: name the table it is in.
        match path.split_last() {
            Some((_, [])) | None => format!("{what} at the top level"),
            Some((_, parents)) => format!("{what} in [{}]", parents.join(".")),
        }
    } else if path.is_empty() {
        what.to_owned()
    } else {
        format!("{}: {what}", path.join("."))
    };
    match allowed {
        Some(allowed) => format!("{head}, {allowed}"),
        None => head,
    }
}

/// serde's and toml's names for what was expected, as a TOML file says
/// them: `usize` is a whole number, a sequence is an array, a map or a
/// struct is a table.
fn toml_words(message: &str) -> String {
    let mut text = message.to_owned();
    for (rust, toml) in [
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected i64", "expected a whole number"),
        ("invalid type: sequence", "invalid type: array"),
        ("expected a sequence", "expected an array"),
        ("invalid type: map", "invalid type: table"),
        ("expected a map", "expected a table"),
        ("expected path string", "expected a path (a string)"),
        ("wanted string or table", "expected a string"),
    ] {
        text = text.replace(rust, toml);
    }
    // "expected struct Theme": every struct is a table of the file.
    if let Some(at) = text.find("expected struct ") {
        let end = text[at..].find([',', ';']).map_or(text.len(), |i| at + i);
        text.replace_range(at..end, "expected a table");
    }
    text
}

/// A message on one line: toml's syntax errors can span several.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 10), (2, 4), "é is one column");
    }

    #[test]
    fn merging_replaces_values_and_arrays_but_merges_tables() {
        let mut base: toml::Table = "a = [1, 2]\n[t]\nx = 1\ny = 2\n[t.deep]\nz = 3\n"
            .parse()
            .unwrap();
        let over: toml::Table = "a = [9]\n[t]\ny = 20\n[t.deep]\nw = 4\n".parse().unwrap();
        merge(&mut base, over);
        let want: toml::Table = "a = [9]\n[t]\nx = 1\ny = 20\n[t.deep]\nz = 3\nw = 4\n"
            .parse()
            .unwrap();
        assert_eq!(base, want);
    }

    #[test]
    fn paths_show_home_as_a_tilde() {
        let paths = ConfigPaths::new(None, Some("/home/u".into()), Path::new("/work"), None);
        assert_eq!(
            paths.user.as_deref(),
            Some(Path::new("/home/u/.config/loop-tui/config.toml"))
        );
        assert_eq!(paths.project, Path::new("/work/.loop-tui.toml"));
        assert_eq!(
            paths.display(paths.user.as_deref().unwrap()),
            "~/.config/loop-tui/config.toml"
        );
        let xdg = ConfigPaths::new(
            Some("/xdg".into()),
            Some("/home/u".into()),
            Path::new("/work"),
            Some("other.toml".into()),
        );
        assert_eq!(
            xdg.user.as_deref(),
            Some(Path::new("/xdg/loop-tui/config.toml"))
        );
        assert_eq!(xdg.project, Path::new("/work/other.toml"));
        assert!(xdg.project_required);
        let relative = ConfigPaths::new(Some("rel".into()), None, Path::new("/w"), None);
        assert_eq!(relative.user, None, "a relative XDG_CONFIG_HOME is ignored");
    }
}
