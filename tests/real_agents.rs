//! The real Claude Code, Codex CLI and Gemini CLI TUIs, run offline against
//! the scripted model server of `../shared/agents-offline`, inside loop-tui:
//! each must start without hanging on a terminal query, take typed text and
//! Shift+Enter newlines, keep its whole conversation in loop-tui's history,
//! keep its colours, and end when loop-tui quits.
//!
//! The CLIs are installed by `.ci/run` (npm); locally, run
//! `../shared/agents-offline/install-agents.sh ~/.cache/loop-tui-agents`
//! first. Outside CI a test is skipped with a message when they are
//! missing; in CI (`CI` set) a missing CLI fails it.
//!
//! `record_agent_fixtures` (ignored) re-records the byte streams of
//! `tests/fixtures/agents/`; see the README there.

mod support;

#[path = "support/agents.rs"]
mod agents;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use agents::{agents_available, FakeModel, AGENT_TIMEOUT};
use loop_tui::pane::emulator::{Emulator, EmulatorKind, PaneSize};
use portable_pty::{native_pty_system, CommandBuilder, PtySize};
use support::{wait_no_processes_with, Loop, TempDir, KITTY_PREFIX, KITTY_SHIFT_ENTER};

/// The agents these tests run, by wrapper name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agent {
    Claude,
    Codex,
    Gemini,
}

impl Agent {
    const ALL: [Self; 3] = [Self::Claude, Self::Codex, Self::Gemini];

    fn name(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Gemini => "gemini",
        }
    }

    /// Arguments after the wrapper. Codex runs inline (`--no-alt-screen`),
    /// where its history scrolls into the terminal's: the mode in which a
    /// multiplexer can lose it.
    fn args(self) -> &'static [&'static str] {
        match self {
            Self::Codex => &["--no-alt-screen"],
            Self::Claude | Self::Gemini => &[],
        }
    }

    /// The agent has drawn its prompt and is ready for input (see the
    /// agents-offline README for these markers).
    fn is_ready(self, screen: &str) -> bool {
        match self {
            Self::Claude => screen.contains("? for shortcuts"),
            Self::Codex => screen.contains("gpt-fake"),
            Self::Gemini => screen.contains("Type your message"),
        }
    }
}

/// Where the wrappers and the CLIs are.
struct Agents {
    offline: PathBuf,
    bin: PathBuf,
}

impl Agents {
    /// The directories the tests need, or `None` (skip) outside CI.
    fn find(agents: &[Agent]) -> Option<Self> {
        let names: Vec<&str> = agents.iter().map(|a| a.name()).collect();
        let (offline, bin) = agents_available(&names)?;
        Some(Self { offline, bin })
    }

    /// The shell command line that runs `agent` offline, for `--pane`.
    fn pane_command(&self, agent: Agent, model: &FakeModel, state: &Path, env: &str) -> String {
        format!(
            "PATH={bin}:$PATH FAKE_LLM_URL={url} AGENT_STATE={state} {env} {wrapper} {args}",
            bin = self.bin.display(),
            url = model.url,
            state = state.display(),
            wrapper = self
                .offline
                .join(format!("{}-offline", agent.name()))
                .display(),
            args = agent.args().join(" "),
        )
    }
}

/// A model reply of `lines` list items, each naming its turn, ended by a
/// marker line; markdown list items stay one per line in every agent.
fn long_reply(turn: &str, lines: usize, end: &str) -> String {
    let mut text = String::new();
    for n in 1..=lines {
        let _ = writeln!(text, "- {turn} answer, line {n}");
    }
    text.push('\n');
    text.push_str(end);
    text
}

/// The scenario every test and recording uses.
fn scenario() -> String {
    let rules = serde_json::json!({
        "rules": [
            {"match": "PING-AGENT", "text": "PONG from the fake model"},
            {"match": "SHIFT-ENTER-A", "text": "Got both lines. NEWLINE-OK"},
            {"match": "TOOL-TURN", "tool_suffix": "send_message",
             "arguments": {"target": "reviewer", "message": "hello from the fixture"},
             "pre_text": "Relaying your message.",
             "final_text": "Relayed it to the reviewer. TOOL-DONE"},
            {"match": "FIRST-TURN", "text": long_reply("first", 24, "END-OF-FIRST")},
            {"match": "SECOND-TURN", "text": long_reply("second", 24, "END-OF-SECOND")},
            {"match": "THIRD-TURN", "text": long_reply("third", 24, "END-OF-THIRD")}
        ],
        "default_text": "ok"
    });
    rules.to_string()
}

/// Types `prompt` and Enter into the focused pane. Codex takes an Enter
/// that follows typed text within ~100 ms as part of a paste (a newline),
/// so Enter comes after a pause, as a person's would.
fn type_and_submit(lt: &Loop, prompt: &str) {
    lt.send_str(prompt);
    std::thread::sleep(Duration::from_millis(500));
    lt.send(b"\r");
}

/// Like [`type_and_submit`], then waits until `answered` holds.
fn ask(lt: &Loop, prompt: &str, answered: impl Fn(&str) -> bool) {
    type_and_submit(lt, prompt);
    if let Err(screen) = lt.wait_for(answered, AGENT_TIMEOUT) {
        panic!("no answer to {prompt:?}: {screen}");
    }
}

/// The left and right halves of the screen, where the two panes are.
fn halves(text: &str, cols: usize) -> (String, String) {
    let mut left = String::new();
    let mut right = String::new();
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        let mid = (cols / 2).min(chars.len());
        left.extend(&chars[..mid]);
        right.extend(&chars[mid..]);
        left.push('\n');
        right.push('\n');
    }
    (left, right)
}

#[test]
fn real_claude_and_codex_render_take_input_and_quit_cleanly() {
    let Some(agents) = Agents::find(&[Agent::Claude, Agent::Codex]) else {
        return;
    };
    let dir = TempDir::new("real-agents");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("create the project dir");
    let model = FakeModel::start(
        &agents.offline,
        dir.path(),
        r#"{"rules": [
            {"agent": "claude", "match": "PING-CLAUDE", "text": "PONG-CLAUDE from the fake model"},
            {"agent": "codex", "match": "PING-CODEX", "text": "PONG-CODEX from the fake model"}],
          "default_text": "ok"}"#,
    );
    let pane = |agent: Agent| {
        let state = dir.path().join(format!("{}-state", agent.name()));
        // This test runs codex in its default alternate-screen mode.
        agents
            .pane_command(agent, &model, &state, "")
            .replace("--no-alt-screen", "")
    };
    let (claude, codex) = (pane(Agent::Claude), pane(Agent::Codex));
    let cols = 220;
    let lt = Loop::start_in(&["--pane", &claude, "--pane", &codex], 50, cols, &project);

    // Both TUIs have drawn their input prompt in their own half.
    lt.wait_for(
        |s| {
            let (left, right) = halves(s, usize::from(cols));
            left.contains("Claude Code") && left.contains('❯') && right.contains("OpenAI Codex")
        },
        AGENT_TIMEOUT,
    )
    .expect("claude and codex start side by side");

    // Claude takes typed text and Enter in the focused left pane.
    ask(&lt, "PING-CLAUDE are you there?", |s| {
        halves(s, usize::from(cols))
            .0
            .contains("PONG-CLAUDE from the fake model")
    });

    // Codex gets input after the prefix moves the focus.
    lt.prefix("o");
    ask(&lt, "PING-CODEX are you there?", |s| {
        halves(s, usize::from(cols))
            .1
            .contains("PONG-CODEX from the fake model")
    });
    let (left, _) = halves(&lt.screen_text(), usize::from(cols));
    assert!(
        !left.contains("PING-CODEX"),
        "codex's input must not reach claude"
    );

    // Quitting asks first (both run), then ends both agents.
    lt.prefix("q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send(b"y");
    let status = lt.expect_exit();
    assert!(status.success(), "loop-tui exits 0 after a confirmed quit");
    wait_no_processes_with(lt.marker(), Duration::from_secs(10))
        .expect("no agent process survives loop-tui");
}

/// One agent alone in loop-tui, in an outer terminal that speaks the kitty
/// keyboard protocol, with the model server the checks read.
struct Session {
    lt: Loop,
    model: FakeModel,
    agent: Agent,
    _dir: TempDir,
}

/// Rows and columns of the outer terminal: the pane is two columns and
/// three rows smaller (borders, status bar), shorter than one long reply.
const ROWS: u16 = 32;
const COLS: u16 = 100;

impl Session {
    /// Starts `agent` and waits for its prompt. `env` is set for loop-tui
    /// (and so its panes), as if it came from the user's terminal.
    fn start(agents: &Agents, agent: Agent, env: &[(&str, &str)]) -> Self {
        let dir = TempDir::new(&format!("real-{}", agent.name()));
        let project = dir.path().join("project");
        std::fs::create_dir_all(&project).expect("create the project dir");
        let model = FakeModel::start(&agents.offline, dir.path(), &scenario());
        let state = dir.path().join("state");
        // The wrappers pass a clean environment to the CLIs; names listed
        // in OFFLINE_PASS_ENV go through.
        let pass: Vec<&str> = env.iter().map(|(name, _)| *name).collect();
        let pass = format!("OFFLINE_PASS_ENV='{}'", pass.join(" "));
        let command = agents.pane_command(agent, &model, &state, &pass);
        let started = Instant::now();
        let lt = Loop::start_with_kitty_keyboard(&["--pane", &command], ROWS, COLS, &project, env);
        if let Err(screen) = lt.wait_for(|s| agent.is_ready(s), AGENT_TIMEOUT) {
            panic!("{} never became ready: {screen}", agent.name());
        }
        eprintln!("{} ready after {:?}", agent.name(), started.elapsed());
        Self {
            lt,
            model,
            agent,
            _dir: dir,
        }
    }

    /// The prefix key and `key`, as the kitty-protocol terminal sends them.
    fn prefix(&self, key: &str) {
        self.lt.send(&[KITTY_PREFIX, key.as_bytes()].concat());
    }

    /// Two lines joined by Shift+Enter must reach the model as one message
    /// with a newline, and the turn must complete.
    fn check_shift_enter(&self) {
        let lt = &self.lt;
        lt.send_str("SHIFT-ENTER-A first line");
        // loop-tui asked its terminal for key releases too; one arrives
        // here (of the `e` just typed) and must not reach the agent as text.
        lt.send(b"\x1b[101;1:3u");
        std::thread::sleep(Duration::from_millis(500));
        lt.send(KITTY_SHIFT_ENTER);
        std::thread::sleep(Duration::from_millis(300));
        lt.send_str("second line SHIFT-ENTER-B");
        std::thread::sleep(Duration::from_millis(500));
        lt.send(b"\r");
        let input = self.model.wait_for_any_input("SHIFT-ENTER-A");
        assert!(
            input.contains("SHIFT-ENTER-A first line\nsecond line SHIFT-ENTER-B"),
            "{}: Shift+Enter must be a newline inside one message: {input:?}",
            self.agent.name()
        );
        if let Err(screen) = lt.wait_for(|s| s.contains("NEWLINE-OK"), AGENT_TIMEOUT) {
            panic!(
                "{}: no answer after Shift+Enter: {screen}",
                self.agent.name()
            );
        }
    }

    /// Three long answers, more than the pane holds; then scroll mode
    /// must reach the first one.
    fn check_history_keeps_the_first_turn(&self) {
        let lt = &self.lt;
        for (prompt, end) in [
            ("FIRST-TURN please", "END-OF-FIRST"),
            ("SECOND-TURN please", "END-OF-SECOND"),
            ("THIRD-TURN please", "END-OF-THIRD"),
        ] {
            ask(lt, prompt, |s| s.contains(end));
        }
        lt.wait_for(|s| !s.contains("first answer, line 1\n"), AGENT_TIMEOUT)
            .expect("the first answer has scrolled out of the pane");
        // Prefix, `[` for scroll mode, `g` for the top of the history.
        self.prefix("[");
        lt.send(b"g");
        if let Err(screen) = lt.wait_for(
            |s| s.contains("FIRST-TURN please") && s.contains("first answer, line 1"),
            Duration::from_secs(10),
        ) {
            panic!(
                "{}: the first turn is not in the history: {screen}",
                self.agent.name()
            );
        }
        lt.send(b"q");
        lt.wait_for(|s| s.contains("END-OF-THIRD"), Duration::from_secs(10))
            .expect("leaving scroll mode shows the live screen again");
    }

    /// Quits loop-tui and checks it popped the keyboard flags it pushed
    /// and ended the agent.
    fn quit(self) {
        let lt = &self.lt;
        self.prefix("q");
        lt.wait_for_text("Quit loop-tui?");
        lt.send(b"y");
        assert!(lt.expect_exit().success());
        let raw = lt.raw_output();
        let pushed = support::find_from(&raw, b"\x1b[>3u", 0).expect("flags pushed");
        let popped = support::rfind(&raw, b"\x1b[<1u").expect("flags popped");
        let left_alt = support::rfind(&raw, b"\x1b[?1049l").expect("alternate screen left");
        assert!(pushed < popped && popped < left_alt, "pop before leaving");
        wait_no_processes_with(lt.marker(), Duration::from_secs(10))
            .expect("no agent process survives loop-tui");
    }
}

/// Claude Code pushes the kitty keyboard flags only in terminals it knows
/// support them, which it tells from `TERM_PROGRAM`; loop-tui passes that
/// on from the user's terminal, so this is a user running loop-tui in
/// `WezTerm`.
const CLAUDE_KNOWN_TERMINAL: (&str, &str) = ("TERM_PROGRAM", "WezTerm");

#[test]
fn claude_takes_shift_enter_keeps_its_history_and_colours() {
    let Some(agents) = Agents::find(&[Agent::Claude]) else {
        return;
    };
    let session = Session::start(&agents, Agent::Claude, &[CLAUDE_KNOWN_TERMINAL]);
    // The banner's logo is drawn in truecolor (Claude's orange), and must
    // reach the outer terminal as truecolor.
    let logo = session.lt.with_vt100_screen(|screen| {
        let (rows, cols) = screen.size();
        (0..rows.get())
            .flat_map(|r| (0..cols.get()).map(move |c| (r, c)))
            .filter_map(|(r, c)| screen.cell(r, c))
            .filter(|cell| matches!(cell.contents(), "▐" | "▛" | "▜" | "▌" | "▝" | "▘"))
            .map(vt100::Cell::fgcolor)
            .collect::<Vec<_>>()
    });
    assert!(!logo.is_empty(), "the banner logo is on screen");
    assert!(
        logo.iter().all(|c| matches!(c, vt100::Color::Rgb(..))),
        "the logo keeps its 24-bit colour: {logo:?}"
    );
    session.check_shift_enter();
    session.check_history_keeps_the_first_turn();
    session.quit();
}

#[test]
fn codex_inline_takes_shift_enter_and_keeps_its_history() {
    let Some(agents) = Agents::find(&[Agent::Codex]) else {
        return;
    };
    let session = Session::start(&agents, Agent::Codex, &[]);
    session.check_shift_enter();
    session.check_history_keeps_the_first_turn();
    session.quit();
}

#[test]
fn gemini_starts_and_takes_shift_enter() {
    let Some(agents) = Agents::find(&[Agent::Gemini]) else {
        return;
    };
    let session = Session::start(&agents, Agent::Gemini, &[]);
    session.check_shift_enter();
    session.quit();
}

/// A child in a PTY whose queries are answered by loop-tui's own emulator,
/// with everything it writes kept: the recorder of the fixtures.
struct Recorder {
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    raw: Arc<Mutex<Vec<u8>>>,
    emulator: Arc<Mutex<Box<dyn Emulator>>>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Recorder {
    fn start(cmd: CommandBuilder, size: PaneSize) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: size.rows,
                cols: size.cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a PTY");
        let child = pair.slave.spawn_command(cmd).expect("start the agent");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("PTY reader");
        let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("PTY writer")));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let emulator = Arc::new(Mutex::new(EmulatorKind::default().create(size, 10_000)));
        {
            let (writer, raw, emulator) = (writer.clone(), raw.clone(), emulator.clone());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    lock(&raw).extend_from_slice(&buf[..n]);
                    let replies = {
                        let mut e = lock(&emulator);
                        e.process(&buf[..n]);
                        e.take_replies()
                    };
                    if !replies.is_empty() {
                        let _ = lock(&writer).write_all(&replies);
                    }
                }
            });
        }
        Self {
            writer,
            raw,
            emulator,
            child,
            _master: pair.master,
        }
    }

    fn send(&self, bytes: &[u8]) {
        let mut w = lock(&self.writer);
        w.write_all(bytes).expect("write to the agent");
        w.flush().expect("flush");
    }

    fn wait_for(&self, what: &str, cond: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + AGENT_TIMEOUT;
        loop {
            let text = lock(&self.emulator).text_contents();
            if cond(&text) {
                return;
            }
            assert!(Instant::now() < deadline, "waiting for {what}: {text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the agent has written nothing for `quiet` (spinners and
    /// late redraws settle), at most 10 s.
    fn settle(&self, quiet: Duration) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = lock(&self.raw).len();
        let mut since = Instant::now();
        while Instant::now() < deadline && since.elapsed() < quiet {
            std::thread::sleep(Duration::from_millis(50));
            let len = lock(&self.raw).len();
            if len != last {
                last = len;
                since = Instant::now();
            }
        }
    }

    fn ask(&self, prompt: &str, end: &str) {
        self.send(prompt.as_bytes());
        std::thread::sleep(Duration::from_millis(500));
        self.send(b"\r");
        self.wait_for(end, |s| s.contains(end));
    }

    fn finish(mut self) -> Vec<u8> {
        let raw = lock(&self.raw).clone();
        let _ = self.child.kill();
        let _ = self.child.wait();
        raw
    }
}

/// The recorded sessions: `(file stem, what happens)`.
const RECORDINGS: [&str; 3] = ["startup", "tool_turn", "long_conversation"];

/// Re-records `tests/fixtures/agents/*.bin` from the real CLIs (run by
/// `tests/fixtures/record-agents.sh`). Each file is a whole session from
/// the agent's start, in a 100x30 PTY whose queries loop-tui's default
/// emulator answers, exactly as in a pane.
#[test]
#[ignore = "re-records the agent fixtures; run tests/fixtures/record-agents.sh"]
fn record_agent_fixtures() {
    let Some(agents) = Agents::find(&Agent::ALL) else {
        return;
    };
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents");
    std::fs::create_dir_all(&out).expect("create the fixtures dir");
    // A fixed, short working directory: the agents show it on screen.
    let root = std::env::temp_dir().join("loop-tui-fixtures");
    let _ = std::fs::remove_dir_all(&root);
    let project = root.join("project");
    std::fs::create_dir_all(&project).expect("create the project dir");
    let model = FakeModel::start(&agents.offline, &root, &scenario());
    // The agents' state lives outside /tmp, where codex warns on screen
    // that it cannot create its helper binaries.
    let home = std::env::var_os("HOME").expect("HOME is set");
    let states = Path::new(&home).join(".cache/loop-tui-fixture-agents");
    let _ = std::fs::remove_dir_all(&states);
    let size = PaneSize {
        rows: 30,
        cols: 100,
    };
    for agent in Agent::ALL {
        for recording in RECORDINGS {
            let state = states.join(format!("{}-{recording}", agent.name()));
            let mut cmd =
                CommandBuilder::new(agents.offline.join(format!("{}-offline", agent.name())));
            cmd.args(agent.args());
            cmd.cwd(&project);
            let path = std::env::var("PATH").unwrap_or_default();
            cmd.env("PATH", format!("{}:{path}", agents.bin.display()));
            cmd.env("FAKE_LLM_URL", &model.url);
            cmd.env("AGENT_STATE", &state);
            // What loop-tui sets for every pane.
            cmd.env("TERM", "xterm-256color");
            cmd.env("COLORTERM", "truecolor");
            if recording == "tool_turn" {
                cmd.env("OFFLINE_ECHO_MCP", "1");
            }
            let rec = Recorder::start(cmd, size);
            rec.wait_for("the prompt", |s| agent.is_ready(s));
            rec.settle(Duration::from_millis(1500));
            match recording {
                "tool_turn" => rec.ask("TOOL-TURN relay hello to the reviewer", "TOOL-DONE"),
                "long_conversation" => {
                    rec.ask("FIRST-TURN please", "END-OF-FIRST");
                    rec.ask("SECOND-TURN please", "END-OF-SECOND");
                    rec.ask("THIRD-TURN please", "END-OF-THIRD");
                }
                _ => {}
            }
            rec.settle(Duration::from_millis(1500));
            let bytes = rec.finish();
            let file = out.join(format!("{}_{recording}.bin", agent.name()));
            std::fs::write(&file, &bytes).expect("write the fixture");
            eprintln!("{}: {} bytes", file.display(), bytes.len());
        }
    }
}
