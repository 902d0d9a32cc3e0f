//! The real Claude Code and Codex CLI TUIs, run offline against the
//! scripted model server of `../shared/agents-offline`, inside loop-tui:
//! they must render, take typed input and show the model's answer, and
//! quitting must end them.
//!
//! The CLIs are installed by `.ci/run` (npm); locally, run
//! `../shared/agents-offline/install-agents.sh ~/.cache/loop-tui-agents`
//! first. Outside CI the test is skipped with a message when they are
//! missing; in CI (`CI` set) a missing CLI fails it.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{wait_no_processes_with, Loop, TempDir};

/// Agent TUIs start Node.js or a large native binary: on a loaded 2-core
/// machine their first frame can take many seconds.
const AGENT_TIMEOUT: Duration = Duration::from_secs(60);

fn agents_offline_dir() -> PathBuf {
    std::env::var_os("LOOP_TUI_AGENTS_OFFLINE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/agents-offline"),
        PathBuf::from,
    )
}

fn agents_bin_dir() -> PathBuf {
    std::env::var_os("LOOP_TUI_AGENTS_BIN").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/loop-tui-agents/node_modules/.bin")
        },
        PathBuf::from,
    )
}

/// The directories the test needs, or `None` (skip) outside CI.
fn agents_available() -> Option<(PathBuf, PathBuf)> {
    let offline = agents_offline_dir();
    let bin = agents_bin_dir();
    let ok = offline.join("fake_llm.py").is_file()
        && bin.join("claude").exists()
        && bin.join("codex").exists();
    if ok {
        return Some((offline, bin));
    }
    let msg = format!(
        "real agent CLIs not found (agents-offline: {}, bin: {}); install them with \
         ../shared/agents-offline/install-agents.sh ~/.cache/loop-tui-agents",
        offline.display(),
        bin.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

/// The scripted model server, stopped on drop.
struct FakeModel {
    child: Child,
    url: String,
}

impl FakeModel {
    fn start(offline: &Path, dir: &Path, scenario: &str) -> Self {
        let scenario_path = dir.join("scenario.json");
        std::fs::write(&scenario_path, scenario).expect("write the scenario");
        let mut child = Command::new("python3")
            .arg(offline.join("fake_llm.py"))
            .args(["--port", "0", "--scenario"])
            .arg(&scenario_path)
            .arg("--log")
            .arg(dir.join("llm.jsonl"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fake_llm.py (python3)");
        // fake_llm prints the port it bound as its first line.
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("fake_llm stdout"))
            .read_line(&mut line)
            .expect("read fake_llm's port");
        let port: u16 = line.trim().parse().expect("fake_llm printed a port");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// Types `prompt` and Enter into the focused agent and waits until `answered`
/// holds. Codex takes an Enter that follows typed text within ~100 ms as part
/// of a paste (a newline), so Enter comes after a pause, as a person's would.
fn ask(lt: &Loop, prompt: &str, answered: impl Fn(&str) -> bool) {
    lt.send_str(prompt);
    std::thread::sleep(Duration::from_millis(500));
    lt.send(b"\r");
    if let Err(screen) = lt.wait_for(answered, AGENT_TIMEOUT) {
        panic!("no answer to {prompt:?}: {screen}");
    }
}

#[test]
fn real_claude_and_codex_render_take_input_and_quit_cleanly() {
    let Some((offline, bin)) = agents_available() else {
        return;
    };
    let dir = TempDir::new("real-agents");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("create the project dir");
    let model = FakeModel::start(
        &offline,
        dir.path(),
        r#"{"rules": [
            {"agent": "claude", "match": "PING-CLAUDE", "text": "PONG-CLAUDE from the fake model"},
            {"agent": "codex", "match": "PING-CODEX", "text": "PONG-CODEX from the fake model"}],
          "default_text": "ok"}"#,
    );
    let pane = |agent: &str| {
        format!(
            "PATH={bin}:$PATH FAKE_LLM_URL={url} AGENT_STATE={state} {wrapper}",
            bin = bin.display(),
            url = model.url,
            state = dir.path().join(format!("{agent}-state")).display(),
            wrapper = offline.join(format!("{agent}-offline")).display(),
        )
    };
    let (claude, codex) = (pane("claude"), pane("codex"));
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
