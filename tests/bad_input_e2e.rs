//! Every wrong command-line argument and config value, given to the real
//! binary in a real PTY (issue 6): loop-tui must exit non-zero with exactly
//! one line on the terminal, `loop-tui: error: …`, that names the bad value
//! and says what to do, never panic, and leave the terminal as it found it
//! (no alternate screen, cursor shown, not in raw mode).
//!
//! Decided here: clap's own errors follow the same rule. loop-tui turns them
//! into one line too (message, tip or possible values, the usage when an
//! argument is missing, and which `--help` to read) instead of clap's
//! multi-line block, so every error a user or a script sees has one form.
//!
//! The exact wording of each config error is checked in tests/config.rs;
//! this sweep checks what the user sees of each kind of mistake, through
//! the binary and the terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::termios::Termios;
use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use support::{assert_terminal_left_clean, Loop, TempDir, TIMEOUT};

/// What one run of loop-tui in a PTY left behind.
struct Outcome {
    success: bool,
    /// Everything loop-tui wrote to the terminal.
    raw: Vec<u8>,
    /// The terminal's modes before loop-tui started and after it exited.
    before: Termios,
    after: Termios,
}

/// The test's directories: a project that is no git repository, an empty
/// config home, a state directory for runs, a home, and an empty directory
/// to use as a PATH in which no agent CLI exists.
struct Dirs {
    root: TempDir,
}

impl Dirs {
    fn new() -> Self {
        let root = TempDir::new("bad-input");
        // p/notes.md is a directory, for a task that names it as a file.
        for dir in ["p/notes.md", "config-home", "state", "home", "empty-path"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        Self { root }
    }

    fn path(&self, dir: &str) -> PathBuf {
        self.root.path().join(dir)
    }

    fn project(&self) -> PathBuf {
        self.path("p")
    }

    /// The environment of every run: only this test's files are read and
    /// written, git stops looking for a repository at the test directory,
    /// and nothing says loop-tui runs inside another loop-tui or tmux.
    fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("TERM", "xterm-256color".into()),
            ("XDG_CONFIG_HOME", self.path("config-home").into()),
            ("XDG_STATE_HOME", self.path("state").into()),
            ("HOME", self.path("home").into()),
            ("GIT_CEILING_DIRECTORIES", self.root.path().into()),
            ("RUST_BACKTRACE", "1".into()),
        ]
    }

    /// Runs loop-tui with `args` in the project directory in a PTY the
    /// test owns, until it exits (it must, by itself, within [`TIMEOUT`]).
    fn run(&self, args: &[OsString], env: &[(&str, OsString)]) -> Outcome {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 100,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a PTY");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_loop-tui"));
        cmd.args(args);
        cmd.cwd(self.project());
        for name in [
            "TMUX",
            "TMUX_PANE",
            "LOOP_TUI_AGENT",
            "LOOP_TUI_BRIDGE_SOCKET",
            "LOOP_TUI_BRIDGE_TOKEN",
            "LOOP_TUI_RUN_ID",
        ] {
            cmd.env_remove(name);
        }
        for (name, value) in self.env().iter().chain(env) {
            cmd.env(name, value);
        }
        let before = pair.master.get_termios().expect("the PTY's modes");
        let mut child = pair.slave.spawn_command(cmd).expect("start loop-tui");
        let output = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let mut reader = pair.master.try_clone_reader().unwrap();
            let mut writer = pair.master.take_writer().unwrap();
            let output = Arc::clone(&output);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            let mut all = output.lock().unwrap();
                            all.extend_from_slice(&buf[..n]);
                            // Answer the device attributes request a real
                            // terminal answers, so loop-tui does not wait
                            // for it when it takes over the terminal.
                            if all.ends_with(b"\x1b[c") {
                                let _ = writer.write_all(b"\x1b[?62;22c");
                            }
                        }
                    }
                }
            })
        };
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let raw = output.lock().unwrap().clone();
                panic!(
                    "loop-tui {args:?} did not exit by itself (it started?); its output: {}",
                    String::from_utf8_lossy(&raw).escape_debug()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        // The modes while the slave side is still open: the kernel keeps
        // whatever loop-tui left them in.
        let after = pair.master.get_termios().expect("the PTY's modes");
        // With the last slave handle closed, the reader reads what is left
        // and then sees the end.
        drop(pair.slave);
        let deadline = Instant::now() + TIMEOUT;
        while !reader.is_finished() {
            assert!(
                Instant::now() < deadline,
                "loop-tui {args:?} left a process holding the terminal"
            );
            thread::sleep(Duration::from_millis(10));
        }
        let raw = output.lock().unwrap().clone();
        Outcome {
            success: status.success(),
            raw,
            before,
            after,
        }
    }
}

/// `raw` without escape sequences (CSI, OSC, and two-byte ones): the text a
/// user reads.
fn visible_text(raw: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != 0x1b {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        match raw.get(i + 1) {
            Some(b'[') => {
                i += 2;
                while i < raw.len() && !(0x40..=0x7e).contains(&raw[i]) {
                    i += 1;
                }
                i += 1;
            }
            Some(b']') => {
                i += 2;
                while i < raw.len() && raw[i] != 0x07 && !raw[i..].starts_with(b"\x1b\\") {
                    i += 1;
                }
                i += if raw[i..].starts_with(b"\x1b\\") {
                    2
                } else {
                    1
                };
            }
            _ => i += 2,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What is wrong with `outcome` as the answer to a bad input whose error
/// line must contain every one of `says`; `None` when all is right.
fn problems(outcome: &Outcome, says: &[&str]) -> Option<String> {
    let raw = &outcome.raw;
    let shown = || String::from_utf8_lossy(raw).escape_debug().to_string();
    if outcome.success {
        return Some(format!("exited 0; output: {}", shown()));
    }
    let text = visible_text(raw);
    if text.contains("panicked") {
        return Some(format!("panicked: {text}"));
    }
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.trim().is_empty())
        .collect();
    let [line] = lines.as_slice() else {
        return Some(format!("{} lines instead of one: {lines:#?}", lines.len()));
    };
    if !line.starts_with("loop-tui: error: ") {
        return Some(format!("not an error line: {line:?}"));
    }
    let missing: Vec<&&str> = says.iter().filter(|s| !line.contains(**s)).collect();
    if !missing.is_empty() {
        return Some(format!("{line:?} does not say {missing:?}"));
    }
    // The line comes last, after any terminal modes were undone, with the
    // newline the terminal turned into CR LF: it was printed in cooked mode.
    let at = support::rfind(raw, b"loop-tui: error: ").unwrap_or_default();
    let tail = &raw[at..];
    if tail.contains(&0x1b) || !tail.ends_with(b"\r\n") || tail.split(|&b| b == b'\n').count() != 2
    {
        return Some(format!(
            "the error line is not the last thing printed, in cooked mode: {}",
            String::from_utf8_lossy(tail).escape_debug()
        ));
    }
    let (before, after) = (&outcome.before, &outcome.after);
    if after.local_flags != before.local_flags
        || after.input_flags != before.input_flags
        || after.output_flags != before.output_flags
    {
        return Some(format!(
            "the terminal's modes changed (raw mode left on?): local {:?} -> {:?}, input {:?} -> \
             {:?}, output {:?} -> {:?}",
            before.local_flags,
            after.local_flags,
            before.input_flags,
            after.input_flags,
            before.output_flags,
            after.output_flags
        ));
    }
    if let Err(panic) = std::panic::catch_unwind(|| assert_terminal_left_clean(raw)) {
        let why = panic
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "the terminal was not restored".into());
        return Some(why);
    }
    None
}

/// One bad input: the arguments, a config file to pass with `--config`
/// (written as `bad.toml`), extra environment, and what the error line
/// must say: the bad value and the way out.
struct Case {
    what: &'static str,
    args: Vec<OsString>,
    config: Option<&'static [u8]>,
    env: Vec<(&'static str, OsString)>,
    says: Vec<&'static str>,
}

fn case(what: &'static str, args: &[&str], says: &[&'static str]) -> Case {
    Case {
        what,
        args: args.iter().map(OsString::from).collect(),
        config: None,
        env: Vec::new(),
        says: says.to_vec(),
    }
}

/// A config file `text` given with `--config bad.toml`, two `cat` panes
/// otherwise (so no agent CLI is needed).
fn config_case(what: &'static str, text: &'static str, says: &[&'static str]) -> Case {
    Case {
        config: Some(text.as_bytes()),
        ..case(
            what,
            &["--config", "bad.toml", "--pane", "a:cat", "--pane", "b:cat"],
            says,
        )
    }
}

/// The command line's mistakes: what, the arguments, what the line says.
const CLI_CASES: &[(&str, &[&str], &[&str])] = &[
    (
        "an unknown flag",
        &["--bogus"],
        &["'--bogus'", "`loop-tui --help`"],
    ),
    (
        "--pane without its value",
        &["--pane"],
        &["'--pane <[NAME:]CMD>'", "none was supplied", "--help"],
    ),
    (
        "--agent without its value",
        &["--agent"],
        &["'--agent <NAME>'", "none was supplied"],
    ),
    (
        "--config without its value",
        &["--config"],
        &["'--config <FILE>'", "none was supplied"],
    ),
    (
        "--run-id without its value",
        &["--run-id"],
        &["'--run-id <ID>'", "none was supplied"],
    ),
    (
        "--pane without a name before ':'",
        &["--pane", ":cat"],
        &["\":cat\"", "name before ':' is empty", "NAME:CMD"],
    ),
    (
        "--pane with an empty command",
        &["--pane", "a:"],
        &["\"a:\"", "command after a: is empty", "NAME:CMD"],
    ),
    (
        "--pane with blanks for a command",
        &["--pane", "a:   "],
        &["command after a: is empty"],
    ),
    (
        "an empty --pane",
        &["--pane", ""],
        &["--pane \"\"", "the command is empty", "NAME:CMD"],
    ),
    (
        "--pane with a name that cannot be one",
        &["--pane", "9lives:cat"],
        &["\"9lives\"", "cannot name an agent", "use a letter"],
    ),
    (
        "a --config file that does not exist",
        &["--config", "nope.toml", "--pane", "cat"],
        &["nope.toml", "give --config the path of a TOML config file"],
    ),
    (
        "a --config that is a directory",
        &["--config", ".", "--pane", "cat"],
        &["it is a directory", "give --config"],
    ),
    (
        "an unknown --agent",
        &["--agent", "nobody"],
        &["--agent nobody", "claude, codex, gemini", "[agents.nobody]"],
    ),
    (
        "an unknown --reviewer",
        &["--reviewer", "nobody"],
        &["--reviewer nobody", "[agents.nobody]"],
    ),
    (
        "an empty --agent",
        &["--agent", ""],
        &["--agent is empty", "claude, codex, gemini"],
    ),
    (
        "an unknown --run-id",
        &["--run-id", "20200101-000000-dead"],
        &["20200101-000000-dead", "`loop-tui runs`"],
    ),
    (
        "a --run-id that is no id",
        &["--run-id", "../etc"],
        &["\"../etc\"", "`loop-tui runs`"],
    ),
    (
        "--prompt naming a FILE.md that does not exist",
        &["--prompt", "plan.md", "--pane", "cat"],
        &[
            "--prompt plan.md",
            "does not exist",
            "existing FILE.md",
            "task as text",
        ],
    ),
    (
        "a TASK naming a FILE.md that does not exist",
        &["missing-plan.md", "--pane", "cat"],
        &["missing-plan.md", "does not exist"],
    ),
    (
        "--prompt naming a directory",
        &["--prompt", "notes.md", "--pane", "cat"],
        &["--prompt notes.md", "is not a file"],
    ),
    (
        "an empty task",
        &["", "--pane", "cat"],
        &["the task is empty", "FILE.md"],
    ),
    (
        "an empty --proof",
        &["--proof", "", "--pane", "cat"],
        &["--proof is empty", "--proof \"cargo test passes\""],
    ),
    (
        "an empty --done-signal",
        &["--done-signal", "", "--pane", "cat"],
        &["--done-signal is empty", "<promise>DONE</promise>"],
    ),
    (
        "a --done-signal of two lines",
        &["--done-signal", "DONE\nREALLY", "--pane", "cat"],
        &["line break", "give one line"],
    ),
    (
        "a bogus --emulator",
        &["--emulator", "bogus"],
        &["'bogus'", "alacritty, vt100"],
    ),
    (
        "a negative --scrollback",
        &["--scrollback", "-5"],
        &["'-5'", "whole number of lines"],
    ),
    (
        "a --scrollback that is no number",
        &["--scrollback", "lots"],
        &["'lots'", "whole number of lines"],
    ),
    (
        "log without a run id",
        &["log"],
        &["<ID>", "usage: loop-tui log <ID>", "`loop-tui log --help`"],
    ),
    (
        "log with a bogus --format",
        &["log", "X", "--format", "bogus"],
        &["'bogus'", "text, jsonl, markdown"],
    ),
    (
        "log of an unknown run",
        &["log", "20200101-000000-dead"],
        &["20200101-000000-dead", "`loop-tui runs`"],
    ),
    (
        "config without what to do",
        &["config"],
        &["<--default|--check>", "loop-tui config --help"],
    ),
    (
        "--worktree outside a git repository",
        &["--worktree", "--pane", "cat"],
        &["--worktree needs the current directory to be inside a git repository"],
    ),
    (
        "--worktree with --run-id",
        &["--worktree", "--run-id", "x", "--pane", "cat"],
        &["--worktree starts a new run", "--run-id"],
    ),
];

/// What takes more than arguments or a config file of text: agents that
/// cannot be started, bytes that are not UTF-8.
fn special_cases(dirs: &Dirs) -> Vec<Case> {
    vec![
        Case {
            args: vec![OsStr::from_bytes(b"fix \xff").to_owned()],
            ..case("an argument that is not UTF-8", &[], &["invalid UTF-8", "--help"])
        },
        Case {
            config: Some(b"\xff\xfe[ui]\n"),
            ..config_case("a config file that is not UTF-8", "", &["bad.toml", "not UTF-8 text", "give --config"])
        },
        Case {
            env: vec![("PATH", dirs.path("empty-path").into())],
            ..case(
                "claude and codex not installed",
                &[],
                &["claude is not on PATH", "npm install -g @anthropic-ai/claude-code", "codex is not on PATH", "`loop-tui demo`", "--pane"],
            )
        },
        Case {
            config: Some(b"worker = \"mine\"\nreviewer = \"cat\"\n[agents.mine]\nprofile = \"claude\"\ncommand = \"/nonexistent/claude\"\n[agents.cat]\nprofile = \"custom\"\ncommand = \"cat\"\n"),
            ..case(
                "an agent whose program does not exist",
                &["--config", "bad.toml"],
                &["/nonexistent/claude", "does not exist or cannot be run", "[agents.mine]"],
            )
        },
    ]
}

/// The config file's mistakes, in every section: what, the file given
/// with `--config bad.toml`, what the line says.
const CONFIG_CASES: &[(&str, &str, &[&str])] = &[
    (
        "a config file that is not TOML",
        "this is not toml\n",
        &["bad.toml:1:", "expected `=`"],
    ),
    (
        "an unknown top-level key",
        "colour = 1\n",
        &[
            "bad.toml:1:1",
            "unknown field `colour`",
            "expected one of worker",
        ],
    ),
    (
        "a worker naming no agent",
        "worker = \"nobody\"\n",
        &[
            "bad.toml:1:1",
            "\"nobody\" names no entry of [agents]",
            "claude, codex, gemini",
        ],
    ),
    (
        "[agents.X] of the wrong type",
        "[agents]\nx = 5\n",
        &["bad.toml:2:", "agents.x", "expected a table"],
    ),
    (
        "[agents.X] profile of the wrong type",
        "[agents.x]\nprofile = 5\n",
        &[
            "bad.toml:2:11",
            "agents.x.profile",
            "one of claude, codex, gemini, custom",
        ],
    ),
    (
        "[agents.X] an unknown profile",
        "[agents.x]\nprofile = \"claud\"\n",
        &[
            "bad.toml:2:11",
            "`claud`",
            "one of claude, codex, gemini, custom",
        ],
    ),
    (
        "[agents.X] an unknown key",
        "[agents.x]\nprofile = \"custom\"\ncommand = \"cat\"\nflags = []\n",
        &[
            "bad.toml:4:1",
            "unknown field `flags` in [agents.x]",
            "expected one of profile",
        ],
    ),
    (
        "[agents.X] custom without a command",
        "[agents.x]\nprofile = \"custom\"\n",
        &["bad.toml:1:", "no command", "set command ="],
    ),
    (
        "[agents.X] args of the wrong type",
        "[agents.claude]\nargs = \"--model opus\"\n",
        &["bad.toml:2:8", "agents.claude.args", "expected an array"],
    ),
    (
        "[agents.X] a NUL in env",
        "[agents.claude]\nenv = { A = \"x\\u0000\" }\n",
        &["bad.toml:2:1", "NUL", "remove it"],
    ),
    (
        "[agents.X] a bad role",
        "[agents.claude]\nrole = \"boss\"\n",
        &["bad.toml:2:8", "`boss`", "worker or reviewer"],
    ),
    (
        "[keys] a prefix of the wrong type",
        "[keys]\nprefix = 5\n",
        &["bad.toml:2:10", "keys.prefix", "expected a string"],
    ),
    (
        "[keys] an unknown key name",
        "[keys]\napprove = \"Rigth\"\n",
        &["bad.toml:2:", "\"Rigth\"", "write keys like"],
    ),
    (
        "[keys] a key bound twice",
        "[keys]\napprove = \"o\"\n",
        &[
            "bad.toml:2:1",
            "bound to both",
            "bind one of them to another key",
        ],
    ),
    (
        "[keys] an unknown action",
        "[keys]\nfrobnicate = \"f\"\n",
        &[
            "bad.toml:2:1",
            "`frobnicate` in [keys]",
            "expected one of prefix",
        ],
    ),
    (
        "[relay] a bad regex",
        "[relay]\nhold = ['(unclosed']\n",
        &["bad.toml:2:9", "\"(unclosed\"", "unclosed group"],
    ),
    (
        "[relay] a zero hop_cap",
        "[relay]\nhop_cap = 0\n",
        &["bad.toml:2:11", "relay.hop_cap", "at least 1", "not 0"],
    ),
    (
        "[relay] a negative hop_cap",
        "[relay]\nhop_cap = -4\n",
        &["bad.toml:2:11", "at least 1", "not -4"],
    ),
    (
        "[relay] a hop_cap too large",
        "[relay]\nhop_cap = 99999999999\n",
        &["bad.toml:2:11", "at most 4294967295", "not 99999999999"],
    ),
    (
        "[relay] auto_approve of the wrong type",
        "[relay]\nauto_approve = \"yes\"\n",
        &["bad.toml:2:16", "\"yes\"", "expected a boolean"],
    ),
    (
        "[relay] a bad direction",
        "[relay]\nauto_approve_directions = [\"claude=>codex\"]\n",
        &["bad.toml:2:", "\"claude=>codex\"", "write \"FROM->TO\""],
    ),
    (
        "[relay] max_message_bytes too large",
        "[relay]\nmax_message_bytes = 1000000\n",
        &["bad.toml:2:21", "must be 1 to 65536", "not 1000000"],
    ),
    (
        "[ui] a bad colour",
        "[ui.theme]\naccent = \"purple\"\n",
        &["bad.toml:2:10", "\"purple\" is not a colour", "\"#rrggbb\""],
    ),
    (
        "[ui] a colour of the wrong type",
        "[ui.theme]\naccent = 5\n",
        &[
            "bad.toml:2:10",
            "ui.theme.accent",
            "a name such as \"cyan\"",
        ],
    ),
    (
        "[ui] a bad layout",
        "[ui]\nlayout = \"diagonal\"\n",
        &[
            "bad.toml:2:10",
            "`diagonal`",
            "one of auto, side-by-side, stacked",
        ],
    ),
    (
        "[ui] a layout of the wrong type",
        "[ui]\nlayout = 3\n",
        &[
            "bad.toml:2:10",
            "ui.layout",
            "one of auto, side-by-side, stacked",
        ],
    ),
    (
        "[ui] a negative scrollback",
        "[ui]\nscrollback_lines = -1\n",
        &["bad.toml:2:20", "`-1`", "whole number, 0 or more"],
    ),
    (
        "[ui] a scrollback that is no number",
        "[ui]\nscrollback_lines = \"many\"\n",
        &["bad.toml:2:20", "\"many\"", "whole number"],
    ),
    (
        "[ui] a theme that is no table",
        "[ui]\ntheme = \"dark\"\n",
        &["bad.toml:2:9", "ui.theme", "expected a table"],
    ),
    (
        "[plan] an empty path",
        "[plan]\npath = \"\"\n",
        &["bad.toml:2:8", "plan.path", "PLAN.md"],
    ),
    (
        "[plan] a path of the wrong type",
        "[plan]\npath = 5\n",
        &["bad.toml:2:8", "plan.path", "the plan file's path"],
    ),
    (
        "[plan] an unknown key",
        "[plan]\nfile = \"x.md\"\n",
        &["bad.toml:2:1", "`file` in [plan]", "expected path"],
    ),
];

#[test]
fn every_bad_argument_and_config_value_gets_one_clear_line_and_a_clean_terminal() {
    let dirs = Dirs::new();
    let cases: Vec<Case> = CLI_CASES
        .iter()
        .map(|(what, args, says)| case(what, args, says))
        .chain(
            CONFIG_CASES
                .iter()
                .map(|(what, text, says)| config_case(what, text, says)),
        )
        .chain(special_cases(&dirs))
        .collect();
    let mut failures = Vec::new();
    for case in &cases {
        let config = dirs.project().join("bad.toml");
        match case.config {
            Some(text) => std::fs::write(&config, text).unwrap(),
            None => {
                let _ = std::fs::remove_file(&config);
            }
        }
        let outcome = dirs.run(&case.args, &case.env);
        if let Some(problem) = problems(&outcome, &case.says) {
            failures.push(format!("{} ({:?}): {problem}", case.what, case.args));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs were not answered with one clear line:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The run directory `loop-tui --pane a:cat` made in `dirs`: it starts,
/// shows its pane, and quits.
fn make_a_run(dirs: &Dirs) -> (String, PathBuf) {
    let env: Vec<(&str, OsString)> = dirs.env();
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    let lt = Loop::start_with(&["--pane", "a:exec cat"], 24, 100, &dirs.project(), &env);
    lt.wait_for_text("a ·");
    lt.prefix("q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send_str("y");
    assert!(lt.expect_exit().success());
    let runs = dirs.path("state").join("loop-tui/runs/p");
    let dir = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .expect("one run")
        .unwrap()
        .path();
    let id = dir.file_name().unwrap().to_string_lossy().into_owned();
    (id, dir)
}

#[test]
fn resuming_a_run_with_bad_options_or_a_broken_run_directory_says_so_in_one_line() {
    let dirs = Dirs::new();
    let (id, run_dir) = make_a_run(&dirs);
    let arg = |args: &[&str]| -> Vec<OsString> { args.iter().map(OsString::from).collect() };

    // Options that would choose other agents are refused, naming them.
    let outcome = dirs.run(&arg(&["--run-id", &id, "--agent", "codex"]), &[]);
    if let Some(problem) = problems(&outcome, &[&format!("--run-id {id}"), "leave out --agent"]) {
        panic!("resuming with --agent: {problem}");
    }

    // Something that is not a socket where the run's bridge socket goes:
    // loop-tui finds out only after taking over the terminal, which it
    // must give back before it says why.
    let in_the_way = run_dir.join("bridge.sock");
    std::fs::create_dir(&in_the_way).unwrap();
    let outcome = dirs.run(&arg(&["--run-id", &id]), &[]);
    assert!(
        support::rfind(&outcome.raw, b"\x1b[?1049h").is_some(),
        "loop-tui stopped before it took over the terminal, so this case tests nothing new: {}",
        String::from_utf8_lossy(&outcome.raw).escape_debug()
    );
    let says = [
        in_the_way.to_str().unwrap(),
        "is in the way",
        "move it away",
    ];
    if let Some(problem) = problems(&outcome, &says) {
        panic!("resuming with a directory as the socket: {problem}");
    }
    assert!(in_the_way.is_dir(), "loop-tui removed what was in the way");
}

/// The helpers above must catch what they are for; otherwise the sweep
/// could pass whatever loop-tui did.
#[test]
fn the_checks_catch_a_garbled_terminal_and_more_than_one_line() {
    let dirs = Dirs::new();
    let outcome = dirs.run(&[OsString::from("--pane"), OsString::from(":cat")], &[]);
    assert!(problems(&outcome, &["\":cat\""]).is_none());
    let with = |raw: &[u8]| Outcome {
        raw: raw.to_vec(),
        success: false,
        before: outcome.before.clone(),
        after: outcome.after.clone(),
    };
    let line = b"loop-tui: error: --pane \":cat\": the name before ':' is empty\r\n";
    for (raw, why) in [
        (
            [&b"\x1b[?1049h"[..], line].concat(),
            "left on the alternate screen",
        ),
        (
            [&b"\x1b[?1049h\x1b[?25l\x1b[?1049l"[..], line].concat(),
            "left the cursor hidden",
        ),
        (
            [&line[..], b"  and a second line\r\n"].concat(),
            "two lines",
        ),
        (
            line[..line.len() - 2]
                .iter()
                .chain(b"\n")
                .copied()
                .collect(),
            "printed in raw mode",
        ),
        (
            [&line[..], b"\x1b[?1049h"].concat(),
            "the error printed before the takeover",
        ),
        (
            b"thread 'main' panicked at src/main.rs:1:1\r\n".to_vec(),
            "a panic",
        ),
    ] {
        assert!(
            problems(&with(&raw), &["\":cat\""]).is_some(),
            "missed: {why}"
        );
    }
    assert!(
        problems(&with(line), &["the bad value it does not name"]).is_some(),
        "missed a line that does not name the value"
    );
    let mut raw_mode = with(line);
    raw_mode
        .after
        .local_flags
        .remove(nix::sys::termios::LocalFlags::ICANON);
    assert!(
        problems(&raw_mode, &["\":cat\""]).is_some(),
        "missed raw mode left on"
    );
}
