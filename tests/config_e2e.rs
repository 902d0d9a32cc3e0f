//! The config file through the real binary: a project file's prefix key
//! drives a running loop-tui, a broken file stops it with one line naming
//! the file, line and column, and `loop-tui config` prints and checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use loop_tui::config::{load_sources, Config, Source, DEFAULT_CONFIG};
use support::{Loop, Screen, TempDir, TIMEOUT};

/// A project directory, an empty config home and a state directory, so the
/// developer's own config files are never read.
struct Dirs {
    root: TempDir,
}

impl Dirs {
    fn new(tag: &str) -> Self {
        let root = TempDir::new(tag);
        for dir in ["project", "config-home", "state", "home"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        Self { root }
    }

    fn path(&self, dir: &str) -> PathBuf {
        self.root.path().join(dir).canonicalize().unwrap()
    }

    fn project(&self) -> PathBuf {
        self.path("project")
    }

    /// The environment of a loop-tui that reads only this test's files.
    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("XDG_CONFIG_HOME", self.path("config-home")),
            ("XDG_STATE_HOME", self.path("state")),
            ("HOME", self.path("home")),
        ]
    }

    /// Runs loop-tui without a terminal in the project directory.
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_loop-tui"));
        cmd.args(args)
            .current_dir(self.project())
            .stdin(Stdio::null());
        for (name, value) in self.env() {
            cmd.env(name, value);
        }
        cmd.output().unwrap()
    }
}

fn left_pane(s: &Screen) -> String {
    s.region(1, 1, 30, 98)
}

fn right_pane(s: &Screen) -> String {
    s.region(1, 101, 30, 98)
}

fn wait(lt: &Loop, what: &str, cond: impl Fn(&Screen) -> bool) {
    if let Err(e) = lt.wait_for_screen(cond, TIMEOUT) {
        panic!("waiting for {what}: {e}");
    }
}

#[test]
fn a_prefix_from_the_project_file_drives_loop_tui() {
    let dirs = Dirs::new("config-prefix");
    std::fs::write(
        dirs.project().join(".loop-tui.toml"),
        "# tmux fingers\n[keys]\nprefix = \"C-b\"\n",
    )
    .unwrap();
    let env = dirs.env();
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    let lt = Loop::start_with(
        &["--pane", "a:cat", "--pane", "b:cat"],
        50,
        200,
        &dirs.project(),
        &env,
    );
    // The status bar names the configured prefix.
    wait(&lt, "the status bar to show Ctrl-b", |s| {
        s.row(49).contains("Ctrl-b then")
    });

    lt.send_str("typed-left");
    wait(&lt, "the left cat to echo", |s| {
        left_pane(s).contains("typed-left")
    });

    // Ctrl-B o moves to the right pane.
    lt.send(b"\x02o");
    lt.send_str("typed-right");
    wait(&lt, "the right cat to echo", |s| {
        right_pane(s).contains("typed-right")
    });
    assert!(!left_pane(&lt.screen()).contains("typed-right"));

    // Ctrl-] is an ordinary key now: the pane's terminal echoes it as ^].
    lt.send(b"\x1d");
    wait(&lt, "Ctrl-] to reach the right pane", |s| {
        right_pane(s).contains("typed-right^]")
    });
    // Ctrl-B twice types one Ctrl-B into the pane.
    lt.send(b"\x02\x02");
    wait(&lt, "Ctrl-B to reach the right pane", |s| {
        right_pane(s).contains("typed-right^]^B")
    });

    lt.send(b"\x02q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send_str("y");
    let status = lt.expect_exit();
    assert!(status.success(), "loop-tui exited with {status:?}");
}

#[test]
fn a_broken_config_file_stops_loop_tui_with_one_line_naming_the_place() {
    let dirs = Dirs::new("config-broken");
    let project_file = dirs.project().join(".loop-tui.toml");
    std::fs::write(&project_file, "[ui]\nlayout = \"stacked\"\nscrollbak = 5\n").unwrap();
    let out = dirs.run(&["--pane", "cat"]);
    assert!(!out.status.success(), "loop-tui started: {out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "loop-tui: error: {}:3:1: unknown field `scrollbak` in [ui], expected one of layout, \
             scrollback_lines, theme\n",
            project_file.display()
        )
    );

    // In the user's file under the home directory, the path is shown with ~.
    std::fs::remove_file(&project_file).unwrap();
    let user_dir = dirs.path("home").join(".config/loop-tui");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::write(
        user_dir.join("config.toml"),
        "[keys]\nprefix = \"Ctrl-b\"\n",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_loop-tui"));
    cmd.args(["config", "--check"])
        .current_dir(dirs.project())
        .stdin(Stdio::null())
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", dirs.path("home"));
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "loop-tui: error: ~/.config/loop-tui/config.toml:2:10: keys.prefix: unknown key \
             name \"Ctrl-b\"; write keys like \"C-]\""
        ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn config_default_prints_a_file_that_round_trips() {
    let dirs = Dirs::new("config-default");
    let out = dirs.run(&["config", "--default"]);
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, DEFAULT_CONFIG);
    let parsed = load_sources(&[Source {
        name: "printed".into(),
        text: printed.clone(),
    }])
    .unwrap();
    assert_eq!(parsed, Config::default());

    // Copied as the project file, it checks out.
    let project_file = dirs.project().join(".loop-tui.toml");
    std::fs::write(&project_file, &printed).unwrap();
    let out = dirs.run(&["config", "--check"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let user_file = dirs.path("config-home").join("loop-tui/config.toml");
    assert_eq!(
        stdout,
        format!(
            "read       <built-in defaults>\nnot found  {}\nread       {}\nok\n",
            user_file.display(),
            project_file.display()
        )
    );
}

#[test]
fn config_check_reads_the_file_given_with_config_and_checks_the_flags() {
    let dirs = Dirs::new("config-check");
    std::fs::write(
        dirs.project().join("team.toml"),
        "[agents.mine]\nprofile = \"custom\"\ncommand = \"./agent\"\n",
    )
    .unwrap();
    let out = dirs.run(&[
        "--config",
        "team.toml",
        "--agent",
        "mine",
        "config",
        "--check",
    ]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "read       {}",
            dirs.project().join("team.toml").display()
        )),
        "{stdout}"
    );
    assert!(stdout.ends_with("ok\n"), "{stdout}");
    assert!(!stdout.contains(".loop-tui.toml"), "{stdout}");

    // Without it, there is no agent called mine.
    let out = dirs.run(&["--agent", "mine", "config", "--check"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "loop-tui: error: --agent mine: there is no agent called mine; the config has claude, \
         codex, gemini (add [agents.mine] to a config file to define it)\n"
    );
}
