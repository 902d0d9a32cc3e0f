//! The config file: typed settings with their defaults, and how they map
//! onto what the rest of loop-tui runs with (agents, keymap, relay policy,
//! theme). `load` reads and layers the files; see
//! `assets/default-config.toml` for what each key means.
//!
//! Core module: no ratatui here; the UI turns [`Colour`] into its colours.

mod load;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

pub use load::{load, load_sources, ConfigError, ConfigPaths, Loaded, Source, SourceStatus};

use crate::agents::profile::{AgentSpec, Launch, Profile, ProfileKind};
use crate::agents::role::Role;
use crate::bridge::protocol::DEFAULT_MAX_MESSAGE_BYTES;
use crate::bridge::relay::{Pattern, RelayPolicy, DEFAULT_HOP_CAP};
use crate::keymap::{Action, KeySpec, Keymap, KeymapError, ACTIONS, DEFAULT_PREFIX};

/// The built-in defaults as a commented file: what `loop-tui config
/// --default` prints and users copy. A test checks it equals
/// `Config::default()`.
pub const DEFAULT_CONFIG: &str = include_str!("../../assets/default-config.toml");

/// The hold rules of the default file: commands a human should see before
/// another agent runs them.
const DEFAULT_HOLD: [&str; 5] = [
    r"(?i)\brm\s+-\w*(rf|fr)",
    r"(?i)\bgit\s+push\b.*(--force|\s-f\b)",
    r"(?i)\bgit\s+reset\s+--hard\b",
    r"(?i)\bsudo\s",
    r"(?i)\bdrop\s+(table|database)\b",
];

/// Everything the config files can set. Every section has defaults, so a
/// file only needs the keys it changes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The [agents] entry that works (left pane).
    pub worker: String,
    /// The [agents] entry that reviews (right pane).
    pub reviewer: String,
    pub agents: BTreeMap<AgentName, AgentConfig>,
    pub keys: KeysConfig,
    pub relay: RelayConfig,
    pub ui: UiConfig,
    pub plan: PlanConfig,
}

impl Default for Config {
    fn default() -> Self {
        let agents = [
            ("claude", ProfileChoice::Claude),
            ("codex", ProfileChoice::Codex),
            ("gemini", ProfileChoice::Gemini),
        ]
        .into_iter()
        .map(|(name, profile)| {
            (
                AgentName(name.to_owned()),
                AgentConfig {
                    profile: Some(profile),
                    ..AgentConfig::default()
                },
            )
        })
        .collect();
        Self {
            worker: "claude".to_owned(),
            reviewer: "codex".to_owned(),
            agents,
            keys: KeysConfig::default(),
            relay: RelayConfig::default(),
            ui: UiConfig::default(),
            plan: PlanConfig::default(),
        }
    }
}

/// What the command line overrides: the last layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--agent NAME`
    pub worker: Option<String>,
    /// `--reviewer NAME`
    pub reviewer: Option<String>,
    /// `--scrollback LINES`
    pub scrollback_lines: Option<usize>,
}

impl Config {
    /// Layers the command line over the files. `--agent` alone picks the
    /// worker; when that is the configured reviewer, the configured worker
    /// reviews instead (so `--agent codex` pairs codex with claude).
    pub fn apply_flags(&mut self, flags: &Flags) -> Result<(), ConfigError> {
        for (flag, name) in [("--agent", &flags.worker), ("--reviewer", &flags.reviewer)] {
            if let Some(name) = name {
                if name.is_empty() {
                    return Err(ConfigError::Flag(format!(
                        "{flag} is empty: give the name of an agent; the config has {}",
                        self.agent_names()
                    )));
                }
                if self.agent(name).is_none() {
                    return Err(ConfigError::Flag(format!(
                        "{flag} {name}: there is no agent called {name}; the config has {} \
                         (add [agents.{name}] to a config file to define it)",
                        self.agent_names()
                    )));
                }
            }
        }
        if let Some(worker) = &flags.worker {
            if flags.reviewer.is_none() && *worker == self.reviewer {
                self.reviewer = std::mem::replace(&mut self.worker, worker.clone());
            } else {
                self.worker.clone_from(worker);
            }
        }
        if let Some(reviewer) = &flags.reviewer {
            self.reviewer.clone_from(reviewer);
        }
        if let Some(lines) = flags.scrollback_lines {
            self.ui.scrollback_lines = lines;
        }
        Ok(())
    }

    pub fn agent(&self, name: &str) -> Option<&AgentConfig> {
        self.agents.get(name)
    }

    /// The names of [agents], comma-separated, for messages.
    fn agent_names(&self) -> String {
        let names: Vec<&str> = self.agents.keys().map(|n| n.0.as_str()).collect();
        names.join(", ")
    }

    /// The worker and the reviewer, each naming the other as its peer. The
    /// same entry on both sides gets `-2` on the reviewer's name.
    pub fn agent_pair(&self) -> Result<Vec<AgentSpec>, ConfigError> {
        let worker_name = self.worker.clone();
        let mut reviewer_name = self.reviewer.clone();
        if reviewer_name == worker_name {
            reviewer_name.push_str("-2");
        }
        let spec = |entry: &str, name: &str, peer: &str, side: Role| {
            let agent = self.agent(entry).ok_or_else(|| {
                ConfigError::Flag(format!(
                    "there is no agent called {entry}; the config has {}",
                    self.agent_names()
                ))
            })?;
            Ok(AgentSpec {
                name: name.to_owned(),
                role: agent.role.unwrap_or(side),
                peer: peer.to_owned(),
                launch: agent.launch(),
                task_note: String::new(),
            })
        };
        Ok(vec![
            spec(&self.worker, &worker_name, &reviewer_name, Role::Worker)?,
            spec(&self.reviewer, &reviewer_name, &worker_name, Role::Reviewer)?,
        ])
    }

    /// The keymap of [keys]. `load` has already checked it, so an error here
    /// only comes from a `Config` built by hand.
    pub fn keymap(&self) -> Result<Keymap, KeymapError> {
        self.keys.keymap()
    }

    /// The relay policy of [relay].
    pub fn relay_policy(&self) -> RelayPolicy {
        let relay = &self.relay;
        RelayPolicy {
            auto_all: relay.auto_approve,
            auto_directions: relay
                .auto_approve_directions
                .iter()
                .map(|d| (d.from.clone(), d.to.clone()))
                .collect::<BTreeSet<_>>(),
            hop_cap: relay.hop_cap,
            max_message_bytes: relay.max_message_bytes,
            hold: relay.hold.clone(),
            auto_matching: relay.auto_approve_matching.clone(),
        }
    }
}

/// The name of an [agents] entry: how the bridge addresses the agent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AgentName(pub String);

impl std::borrow::Borrow<str> for AgentName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `name` can name an agent: agents address each other by it, so
/// it stays short and plain.
pub fn valid_agent_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl<'de> Deserialize<'de> for AgentName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if valid_agent_name(&name) {
            Ok(Self(name))
        } else {
            Err(serde::de::Error::custom(format!(
                "\"{name}\" cannot name an agent: use a letter, then letters, digits, - or _ \
                 (at most 32)"
            )))
        }
    }
}

/// `profile` of an [agents] entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileChoice {
    Claude,
    Codex,
    Gemini,
    /// `command` is a shell command line.
    Custom,
}

impl<'de> Deserialize<'de> for ProfileChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        one_of(
            deserializer,
            &[
                ("claude", Self::Claude),
                ("codex", Self::Codex),
                ("gemini", Self::Gemini),
                ("custom", Self::Custom),
            ],
        )
    }
}

/// One of `choices`, by name. Whatever else is written, a wrong name or a
/// value of another type, the error lists the names to choose from.
fn one_of<'de, D: Deserializer<'de>, T: Copy + 'static>(
    deserializer: D,
    choices: &'static [(&'static str, T)],
) -> Result<T, D::Error> {
    struct Visitor<T: 'static>(&'static [(&'static str, T)]);
    impl<T> Visitor<T> {
        /// "a or b", or "one of a, b, c".
        fn names(&self) -> String {
            let names: Vec<&str> = self.0.iter().map(|(name, _)| *name).collect();
            match names.as_slice() {
                [a, b] => format!("{a} or {b}"),
                _ => format!("one of {}", names.join(", ")),
            }
        }
    }
    impl<T: Copy> serde::de::Visitor<'_> for Visitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.names())
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
            self.0
                .iter()
                .find(|(name, _)| *name == text)
                .map(|(_, choice)| *choice)
                .ok_or_else(|| {
                    E::custom(format!(
                        "unknown variant `{text}`, expected {}",
                        self.names()
                    ))
                })
        }
    }
    deserializer.deserialize_any(Visitor(choices))
}

/// A string read with `parse`; a value of another type is refused saying
/// what was `expecting`, not only that a string was.
fn string_as<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct Visitor<T> {
        expecting: &'static str,
        parse: fn(&str) -> Result<T, String>,
    }
    impl<T> serde::de::Visitor<'_> for Visitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
            (self.parse)(text).map_err(E::custom)
        }
    }
    deserializer.deserialize_any(Visitor { expecting, parse })
}

/// `role` of an [agents] entry.
fn role<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Role>, D::Error> {
    one_of(
        deserializer,
        &[("worker", Role::Worker), ("reviewer", Role::Reviewer)],
    )
    .map(Some)
}

/// One [agents.NAME] entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// Required once the layers are merged; `load` says where it is missing.
    pub profile: Option<ProfileChoice>,
    /// The program (for a profile) or the shell command line (custom).
    pub command: Option<String>,
    /// Appended to the profile's arguments.
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// The role prompt it gets, whichever side it runs on.
    #[serde(deserialize_with = "role")]
    pub role: Option<Role>,
}

impl AgentConfig {
    /// How this agent is launched: the built-in profile with this entry's
    /// program, arguments and environment, or its shell command line.
    pub fn launch(&self) -> Launch {
        let env: Vec<(String, String)> = self
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // `load` refuses an entry without a profile, so `None` only comes
        // from a `Config` built by hand.
        let kind = match self.profile {
            Some(ProfileChoice::Claude) | None => ProfileKind::Claude,
            Some(ProfileChoice::Codex) => ProfileKind::Codex,
            Some(ProfileChoice::Gemini) => ProfileKind::Gemini,
            Some(ProfileChoice::Custom) => {
                let mut line = self.command.clone().unwrap_or_default();
                for arg in &self.args {
                    line.push(' ');
                    line.push_str(&shell_quote(arg));
                }
                return Launch::Custom(line, env);
            }
        };
        let mut profile = Profile::builtin(kind);
        if let Some(program) = &self.command {
            profile.program.clone_from(program);
        }
        profile.args.extend(self.args.iter().cloned());
        profile.env.extend(env);
        Launch::Profile(Box::new(profile))
    }
}

/// `arg` as one word for `sh -c`.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// One key or a list of keys; `[]` unbinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyList(pub Vec<KeySpec>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KeyList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key such as \"C-b\" or a list of keys")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<KeyList, E> {
                text.parse()
                    .map(|key| KeyList(vec![key]))
                    .map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyList, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = seq.next_element::<KeySpec>()? {
                    keys.push(key);
                }
                Ok(KeyList(keys))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// [keys]: the prefix and one entry per [`Action`], named as in
/// [`ACTIONS`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    pub prefix: KeySpec,
    pub focus_next: KeyList,
    pub focus_prev: KeyList,
    pub focus_pane: KeyList,
    pub focus_bridge: KeyList,
    pub approve: KeyList,
    pub reject: KeyList,
    pub edit: KeyList,
    pub compose: KeyList,
    pub zoom: KeyList,
    pub scroll: KeyList,
    pub restart: KeyList,
    pub quit: KeyList,
    pub help: KeyList,
    pub plan: KeyList,
}

impl Default for KeysConfig {
    fn default() -> Self {
        let d = |action: Action| KeyList(action.info().defaults.to_vec());
        Self {
            prefix: DEFAULT_PREFIX,
            focus_next: d(Action::FocusNext),
            focus_prev: d(Action::FocusPrev),
            focus_pane: d(Action::FocusPane),
            focus_bridge: d(Action::FocusBridge),
            approve: d(Action::Approve),
            reject: d(Action::Reject),
            edit: d(Action::Edit),
            compose: d(Action::Compose),
            zoom: d(Action::Zoom),
            scroll: d(Action::Scroll),
            restart: d(Action::Restart),
            quit: d(Action::Quit),
            help: d(Action::Help),
            plan: d(Action::Plan),
        }
    }
}

impl KeysConfig {
    /// The keys of `action`. The match is exhaustive, so a new action
    /// cannot be forgotten here.
    pub fn get(&self, action: Action) -> &KeyList {
        match action {
            Action::FocusNext => &self.focus_next,
            Action::FocusPrev => &self.focus_prev,
            Action::FocusPane => &self.focus_pane,
            Action::FocusBridge => &self.focus_bridge,
            Action::Approve => &self.approve,
            Action::Reject => &self.reject,
            Action::Edit => &self.edit,
            Action::Compose => &self.compose,
            Action::Zoom => &self.zoom,
            Action::Scroll => &self.scroll,
            Action::Restart => &self.restart,
            Action::Quit => &self.quit,
            Action::Help => &self.help,
            Action::Plan => &self.plan,
        }
    }

    pub fn keymap(&self) -> Result<Keymap, KeymapError> {
        Keymap::new(
            self.prefix,
            ACTIONS
                .iter()
                .map(|info| (info.action, self.get(info.action).0.clone())),
        )
    }
}

/// An auto-approved direction, written `"FROM->TO"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Direction {
    pub from: String,
    pub to: String,
}

impl<'de> Deserialize<'de> for Direction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_as(
            deserializer,
            "a direction \"FROM->TO\", e.g. \"claude->codex\"",
            |text| {
                let parsed = text
                    .split_once("->")
                    .map(|(from, to)| (from.trim(), to.trim()))
                    .filter(|(from, to)| {
                        valid_agent_name(from) && valid_agent_name(to) && from != to
                    });
                match parsed {
                    Some((from, to)) => Ok(Self {
                        from: from.to_owned(),
                        to: to.to_owned(),
                    }),
                    None => Err(format!(
                        "\"{text}\" is not a direction: write \"FROM->TO\" with two different \
                         agent names, e.g. \"claude->codex\""
                    )),
                }
            },
        )
    }
}

/// [relay]
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelayConfig {
    pub auto_approve: bool,
    pub auto_approve_directions: Vec<Direction>,
    #[serde(deserialize_with = "hop_cap")]
    pub hop_cap: u32,
    #[serde(deserialize_with = "max_message_bytes")]
    pub max_message_bytes: usize,
    pub hold: Vec<Pattern>,
    pub auto_approve_matching: Vec<Pattern>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            auto_approve: false,
            auto_approve_directions: Vec::new(),
            hop_cap: DEFAULT_HOP_CAP,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            // The patterns are constants a unit test compiles.
            hold: DEFAULT_HOLD
                .iter()
                .filter_map(|source| Pattern::new(source).ok())
                .collect(),
            auto_approve_matching: Vec::new(),
        }
    }
}

fn hop_cap<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let cap = i64::deserialize(deserializer)?;
    let bound = if cap < 1 {
        "at least 1".to_owned()
    } else {
        format!("at most {}", u32::MAX)
    };
    u32::try_from(cap)
        .ok()
        .filter(|&cap| cap >= 1)
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "must be {bound} (the relay pauses after that many automatic approvals in a \
                 row), not {cap}"
            ))
        })
}

fn max_message_bytes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    let bytes = i64::deserialize(deserializer)?;
    usize::try_from(bytes)
        .ok()
        .filter(|&b| (1..=DEFAULT_MAX_MESSAGE_BYTES).contains(&b))
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "must be 1 to {DEFAULT_MAX_MESSAGE_BYTES} (the bridge socket reads nothing \
                 larger), not {bytes}"
            ))
        })
}

/// `layout` of [ui]: how the agent panes share the screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GridLayout {
    /// Side by side while each pane gets 80 columns, else stacked.
    #[default]
    Auto,
    SideBySide,
    Stacked,
}

impl<'de> Deserialize<'de> for GridLayout {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        one_of(
            deserializer,
            &[
                ("auto", Self::Auto),
                ("side-by-side", Self::SideBySide),
                ("stacked", Self::Stacked),
            ],
        )
    }
}

/// [ui]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    pub layout: GridLayout,
    pub scrollback_lines: usize,
    pub theme: Theme,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            layout: GridLayout::Auto,
            scrollback_lines: 10_000,
            theme: Theme::default(),
        }
    }
}

/// A colour of the theme: a terminal colour name or `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Black,
    Red,
    Green,
    Yellow,
    Blue,
    Magenta,
    Cyan,
    Gray,
    DarkGray,
    LightRed,
    LightGreen,
    LightYellow,
    LightBlue,
    LightMagenta,
    LightCyan,
    White,
    Rgb(u8, u8, u8),
}

/// The colour names, as the config file writes them.
const COLOUR_NAMES: [(&str, Colour); 16] = [
    ("black", Colour::Black),
    ("red", Colour::Red),
    ("green", Colour::Green),
    ("yellow", Colour::Yellow),
    ("blue", Colour::Blue),
    ("magenta", Colour::Magenta),
    ("cyan", Colour::Cyan),
    ("gray", Colour::Gray),
    ("dark-gray", Colour::DarkGray),
    ("light-red", Colour::LightRed),
    ("light-green", Colour::LightGreen),
    ("light-yellow", Colour::LightYellow),
    ("light-blue", Colour::LightBlue),
    ("light-magenta", Colour::LightMagenta),
    ("light-cyan", Colour::LightCyan),
    ("white", Colour::White),
];

impl std::str::FromStr for Colour {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(hex) = text.strip_prefix('#') {
            let channel = |i: usize| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            };
            if hex.len() == 6 {
                if let (Some(r), Some(g), Some(b)) = (channel(0), channel(2), channel(4)) {
                    return Ok(Self::Rgb(r, g, b));
                }
            }
        } else {
            // "dark-gray", "dark_gray", "DarkGray" and "grey" all work.
            let folded: String = text
                .chars()
                .filter(|c| !matches!(c, '-' | '_' | ' '))
                .collect::<String>()
                .to_ascii_lowercase()
                .replace("grey", "gray");
            if let Some((_, colour)) = COLOUR_NAMES
                .iter()
                .find(|(name, _)| name.replace('-', "") == folded)
            {
                return Ok(*colour);
            }
        }
        let names: Vec<&str> = COLOUR_NAMES.iter().map(|(name, _)| *name).collect();
        Err(format!(
            "\"{text}\" is not a colour: use one of {} or \"#rrggbb\"",
            names.join(", ")
        ))
    }
}

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_as(
            deserializer,
            "a colour: a name such as \"cyan\" or \"#rrggbb\"",
            str::parse,
        )
    }
}

/// [ui.theme]: the colours the UI draws state with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Theme {
    /// The focused pane's border, key hints and mode badges.
    pub accent: Colour,
    /// A message waiting for the human.
    pub pending: Colour,
    /// An agent that printed something recently.
    pub working: Colour,
    /// A quiet agent: waiting for the human.
    pub waiting: Colour,
    /// An unfocused agent that wants the human.
    pub attention: Colour,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            accent: Colour::Cyan,
            pending: Colour::Yellow,
            working: Colour::Green,
            waiting: Colour::Yellow,
            attention: Colour::Yellow,
        }
    }
}

/// [plan]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanConfig {
    /// The shared plan, relative to the working directory.
    #[serde(deserialize_with = "plan_path")]
    pub path: PathBuf,
}

fn plan_path<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PathBuf, D::Error> {
    string_as(
        deserializer,
        "the plan file's path, e.g. \"PLAN.md\"",
        |text| {
            if text.is_empty() {
                Err("is empty: name the plan file, e.g. \"PLAN.md\"".to_owned())
            } else if text.contains('\0') {
                Err("contains a NUL character, which no file name can; remove it".to_owned())
            } else {
                Ok(PathBuf::from(text))
            }
        },
    )
}

impl Default for PlanConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("PLAN.md"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_hold_rules_all_compile() {
        assert_eq!(RelayConfig::default().hold.len(), DEFAULT_HOLD.len());
        let hold = RelayConfig::default().hold;
        let held = |text: &str| hold.iter().any(|p| p.is_match(text));
        assert!(held("then run rm -rf target"));
        assert!(held("RM -Rf /"));
        assert!(held("git push --force origin main"));
        assert!(held("git push -f"));
        assert!(held("sudo apt-get install x"));
        assert!(!held(
            "remove the -rf flag from the docs? no: git push origin main"
        ));
        assert!(!held("please review the diff"));
    }

    #[test]
    fn custom_agents_quote_their_arguments() {
        let agent = AgentConfig {
            profile: Some(ProfileChoice::Custom),
            command: Some("./agent --fast".into()),
            args: vec!["plain-arg".into(), "two words".into(), "it's".into()],
            env: [("K".to_owned(), "v".to_owned())].into(),
            role: None,
        };
        assert_eq!(
            agent.launch(),
            Launch::Custom(
                r"./agent --fast plain-arg 'two words' 'it'\''s'".into(),
                vec![("K".into(), "v".into())]
            )
        );
    }

    #[test]
    fn profile_agents_override_program_args_and_env_of_the_builtin() {
        let agent = AgentConfig {
            profile: Some(ProfileChoice::Codex),
            command: Some("/opt/codex".into()),
            args: vec!["--model".into(), "o3".into()],
            env: [("CODEX_HOME".to_owned(), "/tmp/c".to_owned())].into(),
            role: Some(Role::Worker),
        };
        let Launch::Profile(profile) = agent.launch() else {
            panic!("a profile agent");
        };
        let builtin = Profile::builtin(ProfileKind::Codex);
        assert_eq!(profile.program, "/opt/codex");
        assert_eq!(profile.args, ["--no-alt-screen", "--model", "o3"]);
        assert_eq!(profile.env, [("CODEX_HOME".into(), "/tmp/c".into())]);
        assert_eq!(profile.mcp, builtin.mcp);
        assert_eq!(profile.role_prompt, builtin.role_prompt);
    }
}
