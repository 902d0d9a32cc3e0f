//! The config file: the default file, layering, every error path (each
//! names its file, line and column), flags, and what the settings do to
//! the keymap, the relay and the agents.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use loop_tui::agents::profile::{Launch, ProfileKind};
use loop_tui::agents::role::Role;
use loop_tui::app::event::{AppEvent, Effect};
use loop_tui::app::state::{AppState, PaneSpec};
use loop_tui::app::update::update;
use loop_tui::bridge::relay::{Disposition, Pattern, RelayPolicy};
use loop_tui::config::{
    load, load_sources, Colour, Config, ConfigError, ConfigPaths, Flags, GridLayout, Source,
    SourceStatus, DEFAULT_CONFIG,
};
use loop_tui::keymap::{Command, Keymap};
use loop_tui::pane::pty::PaneProgram;
use support::TempDir;

/// A home with an XDG config dir and a project dir, all under one temp dir,
/// so no test reads or writes the real home.
struct Dirs {
    root: TempDir,
}

impl Dirs {
    fn new(tag: &str) -> Self {
        let root = TempDir::new(tag);
        std::fs::create_dir_all(root.path().join("xdg/loop-tui")).unwrap();
        std::fs::create_dir_all(root.path().join("project")).unwrap();
        Self { root }
    }

    fn user_file(&self) -> PathBuf {
        self.root.path().join("xdg/loop-tui/config.toml")
    }

    fn project_dir(&self) -> PathBuf {
        self.root.path().join("project")
    }

    fn project_file(&self) -> PathBuf {
        self.project_dir().join(".loop-tui.toml")
    }

    fn write_user(&self, text: &str) {
        std::fs::write(self.user_file(), text).unwrap();
    }

    fn write_project(&self, text: &str) {
        std::fs::write(self.project_file(), text).unwrap();
    }

    fn paths(&self, explicit: Option<&str>) -> ConfigPaths {
        ConfigPaths::new(
            Some(self.root.path().join("xdg")),
            None,
            &self.project_dir(),
            explicit.map(PathBuf::from),
        )
    }

    fn load(&self) -> Result<Config, ConfigError> {
        load(&self.paths(None)).map(|loaded| loaded.config)
    }
}

fn defaults() -> Source {
    Source {
        name: "<built-in defaults>".into(),
        text: DEFAULT_CONFIG.into(),
    }
}

/// The config of the defaults with one file of `text` over them.
fn with_file(text: &str) -> Result<Config, ConfigError> {
    load_sources(&[
        defaults(),
        Source {
            name: "user.toml".into(),
            text: text.into(),
        },
    ])
}

/// The error `text` gives as a file over the defaults: file, line, column
/// and message.
/// Each config text gives its error at its line and column, with its
/// message, in the user's file.
fn assert_errors(cases: &[(&str, (usize, usize), &str)]) {
    for (text, (line, column), message) in cases {
        assert_eq!(
            error_of(text),
            ("user.toml".into(), *line, *column, (*message).to_owned()),
            "{text}"
        );
    }
}

fn error_of(text: &str) -> (String, usize, usize, String) {
    match with_file(text) {
        Err(ConfigError::Invalid {
            file,
            line,
            column,
            message,
        }) => (file, line, column, message),
        other => panic!("expected an error at a place for {text:?}, got {other:?}"),
    }
}

#[test]
fn the_default_file_parses_and_equals_the_defaults_in_code() {
    let alone: Config = toml::from_str(DEFAULT_CONFIG).unwrap();
    assert_eq!(alone, Config::default());
    assert_eq!(load_sources(&[defaults()]).unwrap(), Config::default());
    // And so its keys are the built-in keymap and its relay is the default
    // policy plus the hold rules it documents.
    assert_eq!(Config::default().keymap().unwrap(), Keymap::default());
    let policy = Config::default().relay_policy();
    assert_eq!(
        RelayPolicy {
            hold: Vec::new(),
            ..policy.clone()
        },
        RelayPolicy::default()
    );
    assert_eq!(policy.hold.len(), 5);
}

#[test]
fn every_default_is_written_out_in_the_default_file() {
    // The file is what users copy: each key with its value, not left to the
    // code. An empty table's keys would fall back silently.
    let table: toml::Table = DEFAULT_CONFIG.parse().unwrap();
    for key in [
        "worker", "reviewer", "agents", "keys", "relay", "ui", "plan",
    ] {
        assert!(table.contains_key(key), "{key} is missing");
    }
    let keys = table["keys"].as_table().unwrap();
    for info in loop_tui::keymap::ACTIONS {
        assert!(
            keys.contains_key(info.name),
            "[keys] {} is missing",
            info.name
        );
    }
    let theme = table["ui"]["theme"].as_table().unwrap();
    assert_eq!(theme.len(), 5);
    assert_eq!(table["relay"].as_table().unwrap().len(), 6);
}

#[test]
fn layers_stack_defaults_then_user_then_project_then_flags() {
    let dirs = Dirs::new("layers");
    // Nothing but the defaults.
    let loaded = load(&dirs.paths(None)).unwrap();
    assert_eq!(loaded.config, Config::default());
    assert_eq!(
        loaded.sources,
        [
            SourceStatus::Read("<built-in defaults>".into()),
            SourceStatus::NotFound(dirs.user_file().display().to_string()),
            SourceStatus::NotFound(dirs.project_file().display().to_string()),
        ]
    );

    dirs.write_user(
        r#"
[keys]
prefix = "C-b"

[relay]
hop_cap = 5
hold = ["user-rule"]

[ui]
scrollback_lines = 500

[agents.claude]
args = ["--model", "opus"]
env = { A = "1" }
"#,
    );
    let user = dirs.load().unwrap();
    assert_eq!(user.ui.scrollback_lines, 500);
    assert_eq!(user.relay.hop_cap, 5);
    assert_eq!(user.keys.prefix.to_string(), "C-b");

    dirs.write_project(
        r#"
[relay]
hold = ["project-rule"]

[ui]
scrollback_lines = 700

[agents.claude]
env = { B = "2" }
"#,
    );
    let loaded = load(&dirs.paths(None)).unwrap();
    assert_eq!(
        loaded.sources,
        [
            SourceStatus::Read("<built-in defaults>".into()),
            SourceStatus::Read(dirs.user_file().display().to_string()),
            SourceStatus::Read(dirs.project_file().display().to_string()),
        ]
    );
    let mut config = loaded.config;
    // The project file wins where both set a key ...
    assert_eq!(config.ui.scrollback_lines, 700);
    // ... the user's other keys stay ...
    assert_eq!(config.keys.prefix.to_string(), "C-b");
    assert_eq!(config.relay.hop_cap, 5);
    // ... tables merge key by key, however deep ...
    let claude = config.agent("claude").unwrap();
    assert_eq!(claude.args, ["--model", "opus"]);
    assert_eq!(
        claude.env.iter().collect::<Vec<_>>(),
        [
            (&"A".to_owned(), &"1".to_owned()),
            (&"B".to_owned(), &"2".to_owned())
        ]
    );
    assert_eq!(config.ui.layout, GridLayout::Auto, "no layer set it");
    // ... and arrays are replaced whole.
    let hold: Vec<&str> = config.relay.hold.iter().map(Pattern::as_str).collect();
    assert_eq!(hold, ["project-rule"]);

    // Flags come last.
    config
        .apply_flags(&Flags {
            scrollback_lines: Some(900),
            ..Flags::default()
        })
        .unwrap();
    assert_eq!(config.ui.scrollback_lines, 900);
}

#[test]
fn a_layer_may_leave_required_keys_to_another() {
    // Alone, neither file defines a complete agent; together they do.
    let dirs = Dirs::new("partial");
    dirs.write_user("worker = \"mine\"\n[agents.mine]\ncommand = \"./my-agent\"\n");
    dirs.write_project("[agents.mine]\nprofile = \"custom\"\n");
    let config = dirs.load().unwrap();
    let agents = config.agent_pair().unwrap();
    assert_eq!(agents[0].name, "mine");
    assert_eq!(
        agents[0].launch,
        Launch::Custom("./my-agent".into(), Vec::new())
    );
    // Without the project file the missing profile is reported in the
    // user's file, at the table that lacks it.
    dirs.write_project("");
    let err = dirs.load().unwrap_err();
    assert!(
        matches!(&err, ConfigError::Invalid { file, line: 2, column: 9, message }
            if *file == dirs.user_file().display().to_string()
                && message.starts_with("[agents.mine] has no profile")),
        "{err:?}"
    );
}

#[test]
fn an_explicit_config_file_replaces_the_project_file_and_must_exist() {
    let dirs = Dirs::new("explicit");
    dirs.write_project("[ui]\nscrollback_lines = 1\n");
    std::fs::write(
        dirs.project_dir().join("other.toml"),
        "[ui]\nscrollback_lines = 2\n",
    )
    .unwrap();
    let config = load(&dirs.paths(Some("other.toml"))).unwrap().config;
    assert_eq!(
        config.ui.scrollback_lines, 2,
        "other.toml, not .loop-tui.toml"
    );
    let err = load(&dirs.paths(Some("missing.toml"))).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Unreadable { file, .. } if file.ends_with("missing.toml")),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("failed to read "), "{err}");
}

#[test]
fn an_error_points_into_the_file_it_is_in() {
    let dirs = Dirs::new("which-file");
    dirs.write_user("# fine\n[keys]\nprefix = \"C-b\"\n");
    dirs.write_project("# two lines\n# of comments\n[ui]\nlayout = \"diagonal\"\n");
    let err = dirs.load().unwrap_err();
    assert_eq!(
        err,
        ConfigError::Invalid {
            file: dirs.project_file().display().to_string(),
            line: 4,
            column: 10,
            message: "ui.layout: unknown variant `diagonal`, expected one of auto, side-by-side, \
                      stacked"
                .into(),
        }
    );
    // The same mistake in the user file is reported there.
    dirs.write_project("");
    dirs.write_user("[ui]\nlayout = \"diagonal\"\n");
    let ConfigError::Invalid { file, line, .. } = dirs.load().unwrap_err() else {
        panic!("an error at a place");
    };
    assert_eq!((file, line), (dirs.user_file().display().to_string(), 2));
}

#[test]
fn unknown_keys_name_the_table_and_what_is_allowed() {
    assert_eq!(
        error_of("[ui]\nlayout = \"auto\"\nscrollbak = 5\n"),
        (
            "user.toml".into(),
            3,
            1,
            "unknown field `scrollbak` in [ui], expected one of layout, scrollback_lines, theme"
                .into()
        )
    );
    let (_, line, column, message) = error_of("colour = 1\n");
    assert_eq!((line, column), (1, 1));
    assert!(
        message.starts_with("unknown field `colour` at the top level, expected one of worker,"),
        "{message}"
    );
    let (_, line, column, message) =
        error_of("[agents.claude]\nprofile = \"claude\"\nflags = []\n");
    assert_eq!((line, column), (3, 1));
    assert!(
        message.starts_with("unknown field `flags` in [agents.claude], expected one of profile,"),
        "{message}"
    );
    let (_, line, _, message) = error_of("[ui.theme]\naccentt = \"red\"\n");
    assert_eq!(line, 2);
    assert!(message.contains("in [ui.theme]"), "{message}");
}

#[test]
fn wrong_types_and_bad_values_name_the_key() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "[ui]\nscrollback_lines = \"many\"\n",
            (2, 20),
            "ui.scrollback_lines: invalid type: string \"many\", expected a whole number, 0 or \
             more",
        ),
        (
            "[ui]\nscrollback_lines = -1\n",
            (2, 20),
            "ui.scrollback_lines: invalid value: integer `-1`, expected a whole number, 0 or more",
        ),
        (
            "[relay]\nauto_approve = \"yes\"\n",
            (2, 16),
            "relay.auto_approve: invalid type: string \"yes\", expected a boolean",
        ),
        (
            "[agents.x]\nprofile = \"claud\"\n",
            (2, 11),
            "agents.x.profile: unknown variant `claud`, expected one of claude, codex, gemini, \
             custom",
        ),
        (
            "[agents.claude]\nrole = \"boss\"\n",
            (2, 8),
            "agents.claude.role: unknown variant `boss`, expected worker or reviewer",
        ),
        (
            "[relay]\nhop_cap = 0\n",
            (2, 11),
            "relay.hop_cap: must be at least 1 (the relay pauses after that many automatic \
             approvals in a row), not 0",
        ),
        (
            "[relay]\nmax_message_bytes = 100000\n",
            (2, 21),
            "relay.max_message_bytes: must be 1 to 65536 (the bridge socket reads nothing \
             larger), not 100000",
        ),
        (
            "[relay]\nauto_approve_directions = [\"claude->codex\", \"codex=>claude\"]\n",
            (2, 45),
            "relay.auto_approve_directions: \"codex=>claude\" is not a direction: write \
             \"FROM->TO\" with two different agent names, e.g. \"claude->codex\"",
        ),
        (
            "[agents.\"two words\"]\nprofile = \"custom\"\n",
            (1, 9),
            "agents.two words: \"two words\" cannot name an agent: use a letter, then letters, \
             digits, - or _ (at most 32)",
        ),
        ("[ui\n", (1, 4), "unclosed table, expected `]`"),
    ];
    assert_errors(cases);
}

/// A value of the wrong type, in every section, says what is expected in
/// TOML's words (a whole number, an array, a table), and a choice lists the
/// names to choose from.
#[test]
fn wrong_types_in_every_section_say_what_is_expected() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "[agents.x]\nprofile = 5\n",
            (2, 11),
            "agents.x.profile: invalid type: integer `5`, expected one of claude, codex, gemini, \
             custom",
        ),
        (
            "[agents.claude]\nrole = true\n",
            (2, 8),
            "agents.claude.role: invalid type: boolean `true`, expected worker or reviewer",
        ),
        (
            "[agents.claude]\nenv = [\"A=1\"]\n",
            (2, 7),
            "agents.claude.env: invalid type: array, expected a table",
        ),
        (
            "[ui]\nlayout = 2\n",
            (2, 10),
            "ui.layout: invalid type: integer `2`, expected one of auto, side-by-side, stacked",
        ),
        (
            "[ui]\ntheme = \"red\"\n",
            (2, 9),
            "ui.theme: invalid type: string \"red\", expected a table",
        ),
        (
            "[ui.theme]\naccent = 5\n",
            (2, 10),
            "ui.theme.accent: invalid type: integer `5`, expected a colour: a name such as \
             \"cyan\" or \"#rrggbb\"",
        ),
        (
            "[relay]\nhop_cap = 99999999999\n",
            (2, 11),
            "relay.hop_cap: must be at most 4294967295 (the relay pauses after that many \
             automatic approvals in a row), not 99999999999",
        ),
        (
            "[relay]\nhop_cap = 2.5\n",
            (2, 11),
            "relay.hop_cap: invalid type: floating point `2.5`, expected a whole number",
        ),
        (
            "[relay]\nhold = \"rm -rf\"\n",
            (2, 8),
            "relay.hold: invalid type: string \"rm -rf\", expected an array",
        ),
        (
            "[relay]\nauto_approve_directions = [1]\n",
            (2, 28),
            "relay.auto_approve_directions: invalid type: integer `1`, expected a direction \
             \"FROM->TO\", e.g. \"claude->codex\"",
        ),
        (
            "[plan]\npath = \"\"\n",
            (2, 8),
            "plan.path: is empty: name the plan file, e.g. \"PLAN.md\"",
        ),
        (
            "[plan]\npath = 5\n",
            (2, 8),
            "plan.path: invalid type: integer `5`, expected the plan file's path, e.g. \
             \"PLAN.md\"",
        ),
        (
            "plan = \"PLAN.md\"\n",
            (1, 8),
            "plan: invalid type: string \"PLAN.md\", expected a table",
        ),
    ];
    assert_errors(cases);
}

#[test]
fn a_bad_regex_is_reported_at_its_element() {
    let (_, line, column, message) =
        error_of("[relay]\nhold = [\n  '(?i)rm -rf',\n  '(unclosed',\n]\n");
    assert_eq!((line, column), (4, 3));
    assert_eq!(
        message,
        "relay.hold: invalid regular expression \"(unclosed\": unclosed group"
    );
    let (_, line, column, _) = error_of("[relay]\nauto_approve_matching = ['a{2,1}']\n");
    assert_eq!((line, column), (2, 26));
}

#[test]
fn a_bad_key_name_is_reported_at_its_element() {
    let (_, line, column, message) = error_of("[keys]\nfocus_next = [\"o\", \"Rigth\"]\n");
    assert_eq!((line, column), (2, 20));
    assert!(
        message.starts_with("keys.focus_next: unknown key name \"Rigth\"; write keys like \"C-]\""),
        "{message}"
    );
    let (_, line, column, message) = error_of("[keys]\nprefix = \"C-i\"\n");
    assert_eq!((line, column), (2, 10));
    assert!(message.contains("same byte as Tab"), "{message}");
}

#[test]
fn a_bad_colour_says_which_colours_there_are() {
    let (_, line, column, message) = error_of("[ui.theme]\nworking = \"purple\"\n");
    assert_eq!((line, column), (2, 11));
    assert!(
        message.starts_with("ui.theme.working: \"purple\" is not a colour: use one of black, red,"),
        "{message}"
    );
    assert!(message.ends_with("or \"#rrggbb\""), "{message}");
    let (_, _, _, message) = error_of("[ui.theme]\naccent = \"#12345g\"\n");
    assert!(message.contains("\"#12345g\" is not a colour"), "{message}");
    // Good ones, by name in any spelling or by value.
    let theme = with_file(
        "[ui.theme]\naccent = \"#ff8000\"\npending = \"Dark_Grey\"\nworking = \"light-green\"\n",
    )
    .unwrap()
    .ui
    .theme;
    assert_eq!(theme.accent, Colour::Rgb(255, 128, 0));
    assert_eq!(theme.pending, Colour::DarkGray);
    assert_eq!(theme.working, Colour::LightGreen);
}

#[test]
fn what_only_the_merged_config_shows_is_reported_where_it_was_set() {
    // A name that refers to no agent.
    assert_eq!(
        error_of("# pick\nworker = \"nobody\"\n"),
        (
            "user.toml".into(),
            2,
            1,
            "worker = \"nobody\" names no entry of [agents]; there are claude, codex, gemini"
                .into()
        )
    );
    // An agent without a profile, or custom without a command.
    let (_, line, column, message) = error_of("[agents.mine]\ncommand = \"./x\"\n");
    assert_eq!((line, column), (1, 9));
    assert!(
        message.starts_with("[agents.mine] has no profile"),
        "{message}"
    );
    let (_, line, _, message) = error_of("\n[agents.mine]\nprofile = \"custom\"\n");
    assert_eq!(line, 2);
    assert!(message.contains("no command"), "{message}");
    // A key bound twice: at the binding this file made.
    assert_eq!(
        error_of("[keys]\nzoom = \"Z\"\napprove = \"o\"\n"),
        (
            "user.toml".into(),
            3,
            1,
            "in [keys]: the key o is bound to both focus_next and approve; bind one of them to \
             another key"
                .into()
        )
    );
    // The prefix bound to a command.
    let (_, line, _, message) = error_of("[keys]\nprefix = \"C-b\"\nhelp = \"C-b\"\n");
    assert_eq!(line, 3);
    assert!(message.contains("is the prefix"), "{message}");
    // Moving a key first frees it.
    let config = with_file("[keys]\nfocus_next = [\"n\"]\napprove = \"o\"\n").unwrap();
    let map = config.keymap().unwrap();
    let o = KeyEvent::new(KeyCode::Char('o'), KeyModifiers::NONE);
    assert_eq!(map.after_prefix(&o), Some(Command::ApproveOldest));
}

#[test]
fn what_no_program_can_be_started_with_is_refused_at_its_key() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "[agents.x]\nprofile = \"custom\"\ncommand = \"ca\\u0000t\"\n",
            (3, 1),
            "[agents.x] command contains a NUL character (\\u0000), which no command line can; \
             remove it",
        ),
        (
            "[agents.claude]\nargs = [\"--model\", \"a\\u0000b\"]\n",
            (2, 1),
            "[agents.claude] args contain a NUL character (\\u0000), which no argument can; \
             remove it",
        ),
        (
            "[agents.claude]\nenv = { \"A=B\" = \"1\" }\n",
            (2, 1),
            "[agents.claude] env \"A=B\" cannot name an environment variable: use a name \
             without = or NUL",
        ),
        (
            "[agents.claude]\nenv = { \"\" = \"1\" }\n",
            (2, 1),
            "[agents.claude] env \"\" cannot name an environment variable: use a name without \
             = or NUL",
        ),
        (
            "[agents.codex]\nenv = { A = \"x\\u0000\" }\n",
            (2, 1),
            "[agents.codex] env values contain a NUL character (\\u0000), which no environment \
             variable can; remove it",
        ),
        (
            "[agents.codex]\ncommand = \"  \"\n",
            (2, 1),
            "[agents.codex] command is empty: set it to the program or the shell command line \
             to run, or remove it",
        ),
    ];
    assert_errors(cases);
}

#[test]
fn unreadable_files_say_what_to_do() {
    let dirs = Dirs::new("unreadable");
    // Not UTF-8: a binary file saved as the config by mistake.
    std::fs::write(dirs.user_file(), b"\xff\xfe[ui]\n").unwrap();
    let err = dirs.load().unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "failed to read {}: it is not UTF-8 text; a config file must be readable TOML text: \
             fix or remove it",
            dirs.user_file().display()
        )
    );
    std::fs::remove_file(dirs.user_file()).unwrap();
    // --config naming a directory.
    let err = load(&dirs.paths(Some("."))).unwrap_err().to_string();
    assert!(
        err.ends_with(": it is a directory; give --config the path of a TOML config file"),
        "{err}"
    );
}

#[test]
fn agent_flags_pick_entries_by_name() {
    let config = with_file(
        "[agents.opus]\nprofile = \"claude\"\nargs = [\"--model\", \"opus\"]\nrole = \"reviewer\"\n\
         [agents.mine]\nprofile = \"custom\"\ncommand = \"./agent\"\nenv = { K = \"v\" }\n",
    )
    .unwrap();
    let pair = |worker: Option<&str>, reviewer: Option<&str>| {
        let mut c = config.clone();
        c.apply_flags(&Flags {
            worker: worker.map(str::to_owned),
            reviewer: reviewer.map(str::to_owned),
            scrollback_lines: None,
        })
        .map(|()| {
            c.agent_pair()
                .unwrap()
                .into_iter()
                .map(|a| (a.name, a.role, a.peer))
                .collect::<Vec<_>>()
        })
    };
    let named = |w: &str, wr: Role, r: &str, rr: Role| {
        Ok(vec![
            (w.to_owned(), wr, r.to_owned()),
            (r.to_owned(), rr, w.to_owned()),
        ])
    };
    assert_eq!(
        pair(None, None),
        named("claude", Role::Worker, "codex", Role::Reviewer)
    );
    // --agent codex: the configured worker reviews instead of codex itself.
    assert_eq!(
        pair(Some("codex"), None),
        named("codex", Role::Worker, "claude", Role::Reviewer)
    );
    assert_eq!(
        pair(Some("gemini"), None),
        named("gemini", Role::Worker, "codex", Role::Reviewer)
    );
    assert_eq!(
        pair(Some("mine"), Some("mine")),
        named("mine", Role::Worker, "mine-2", Role::Reviewer)
    );
    // An entry's own role wins over its side.
    assert_eq!(
        pair(Some("opus"), Some("gemini")),
        named("opus", Role::Reviewer, "gemini", Role::Reviewer)
    );
    let err = pair(Some("nobody"), None).unwrap_err().to_string();
    assert_eq!(
        err,
        "--agent nobody: there is no agent called nobody; the config has claude, codex, gemini, \
         mine, opus (add [agents.nobody] to a config file to define it)"
    );
    assert!(pair(None, Some("x"))
        .unwrap_err()
        .to_string()
        .starts_with("--reviewer x:"));

    // What each launches.
    let mut c = config.clone();
    c.apply_flags(&Flags {
        worker: Some("opus".into()),
        reviewer: Some("mine".into()),
        scrollback_lines: None,
    })
    .unwrap();
    let agents = c.agent_pair().unwrap();
    let Launch::Profile(profile) = &agents[0].launch else {
        panic!("opus runs through a profile");
    };
    assert_eq!(profile.kind, ProfileKind::Claude);
    assert_eq!(profile.args, ["--model", "opus"]);
    assert_eq!(
        agents[1].launch,
        Launch::Custom("./agent".into(), vec![("K".into(), "v".into())])
    );
}

#[test]
fn the_relay_section_becomes_the_queue_policy() {
    let config = with_file(
        "[relay]\nauto_approve_directions = [\"claude->codex\"]\nhop_cap = 3\n\
         max_message_bytes = 1000\nhold = ['(?i)deploy']\nauto_approve_matching = ['^LGTM']\n",
    )
    .unwrap();
    let policy = config.relay_policy();
    assert!(!policy.auto_all);
    assert_eq!(
        policy.auto_directions.into_iter().collect::<Vec<_>>(),
        [("claude".to_owned(), "codex".to_owned())]
    );
    assert_eq!((policy.hop_cap, policy.max_message_bytes), (3, 1000));

    let mut queue =
        loop_tui::bridge::relay::RelayQueue::new(vec!["claude".into(), "codex".into()], 64 * 1024);
    queue.set_policy(config.relay_policy());
    let mut send = |from, to, text| queue.submit(from, to, text, 0).unwrap().1;
    assert_eq!(
        send("claude", "codex", "step 1 done"),
        Disposition::AutoApproved
    );
    assert_eq!(
        send("claude", "codex", "now Deploy it"),
        Disposition::Queued
    );
    assert_eq!(
        send("codex", "claude", "LGTM, go on"),
        Disposition::AutoApproved
    );
    assert_eq!(send("codex", "claude", "one question"), Disposition::Queued);
}

#[test]
fn a_configured_prefix_drives_update_and_is_what_prefix_twice_sends() {
    let config = with_file("[keys]\nprefix = \"C-b\"\nfocus_next = \"n\"\n").unwrap();
    let specs = ["a", "b"]
        .iter()
        .map(|name| PaneSpec::new(name, PaneProgram::Shell("true".into())))
        .collect();
    let mut state = AppState::new(specs, (200, 50), 100);
    state.keymap = config.keymap().unwrap();
    let now = Instant::now();
    let key = |code, mods| AppEvent::Terminal(Event::Key(KeyEvent::new(code, mods)));
    let ctrl_b = || key(KeyCode::Char('b'), KeyModifiers::CONTROL);
    let run = |events: Vec<AppEvent>, state: &mut AppState| -> Vec<Effect> {
        events
            .into_iter()
            .flat_map(|e| update(state, e, now))
            .collect()
    };
    // The old prefix is an ordinary key now: it goes to the pane.
    let fx = run(
        vec![key(KeyCode::Char(']'), KeyModifiers::CONTROL)],
        &mut state,
    );
    assert_eq!(
        fx,
        [Effect::SendInput {
            pane: 0,
            bytes: vec![0x1d]
        }]
    );
    // The configured prefix and binding move the focus; `o` no longer does.
    run(
        vec![ctrl_b(), key(KeyCode::Char('o'), KeyModifiers::NONE)],
        &mut state,
    );
    assert_eq!(state.focused, 0);
    run(
        vec![ctrl_b(), key(KeyCode::Char('n'), KeyModifiers::NONE)],
        &mut state,
    );
    assert_eq!(state.focused, 1);
    // The prefix twice types Ctrl-B (0x02) into the pane.
    let fx = run(vec![ctrl_b(), ctrl_b()], &mut state);
    assert_eq!(
        fx,
        [Effect::SendInput {
            pane: 1,
            bytes: vec![0x02]
        }]
    );
    // The status bar and help speak of the configured prefix.
    assert_eq!(state.keymap.prefix_name(), "Ctrl-b");
    let rows = state.keymap.help_rows();
    assert!(rows.contains(&(
        "n".to_owned(),
        "focus the next pane (agents, bridge, then plan)".to_owned()
    )));
}

#[test]
fn the_plan_path_is_relative_to_the_working_directory() {
    let config = with_file("[plan]\npath = \"docs/PLAN.md\"\n").unwrap();
    assert_eq!(config.plan.path, Path::new("docs/PLAN.md"));
    assert_eq!(Config::default().plan.path, Path::new("PLAN.md"));
}

#[test]
fn the_readme_example_is_a_valid_config() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme
        .find("## Configuration")
        .expect("a Configuration section")..];
    let start = section.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let end = start + section[start..].find("```").unwrap();
    let config = with_file(&section[start..end]).unwrap();
    assert_eq!(config.worker, "opus");
    assert_eq!(config.keys.prefix.to_string(), "C-b");
    assert_eq!(config.ui.layout, GridLayout::Stacked);
    assert_eq!(config.ui.theme.accent, Colour::Rgb(0xff, 0x87, 0x00));
    assert_eq!(config.agent_pair().unwrap()[0].name, "opus");
}
