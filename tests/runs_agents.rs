//! Resuming a run with the real Claude Code and Codex CLIs, run offline:
//! plain `loop-tui` starts claude with a session id of its choosing and
//! finds the session codex creates; `loop-tui --run-id ID` starts them
//! again with `--resume ID` and `resume ID`, and each model's next request
//! carries the conversation from before.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "support/agents.rs"]
mod agents;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use agents::{agents_available, wrapper_path, FakeModel, AGENT_TIMEOUT};
use support::{processes_with, wait_no_processes_with, Loop, TempDir};

const ROWS: u16 = 50;
const COLS: u16 = 220;

/// Every request gets a plain answer: the tests look at what reaches the
/// model, not at what it says.
const SCENARIO: &str = r#"{"rules": [], "default_text": "Noted."}"#;

struct Setup {
    _dir: TempDir,
    project: PathBuf,
    elsewhere: PathBuf,
    state: PathBuf,
    env: Vec<(&'static str, OsString)>,
    model: FakeModel,
}

impl Setup {
    fn new() -> Option<Self> {
        let (offline, bin) = agents_available(&["claude", "codex"])?;
        let dir = TempDir::new("runs-agents");
        let project = dir.path().join("project");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        let model = FakeModel::start(&offline, dir.path(), SCENARIO);
        let agent_state = dir.path().join("agent-state");
        let state = dir.path().join("state");
        // loop-tui looks for the CLIs' sessions where the wrappers keep them.
        let env = vec![
            ("PATH", wrapper_path(&offline, &bin, dir.path())),
            ("FAKE_LLM_URL", OsString::from(&model.url)),
            ("AGENT_STATE", agent_state.clone().into_os_string()),
            ("XDG_STATE_HOME", state.clone().into_os_string()),
            (
                "CLAUDE_CONFIG_DIR",
                agent_state.join("claude-config").into_os_string(),
            ),
            (
                "CODEX_HOME",
                agent_state.join("codex-home").into_os_string(),
            ),
        ];
        Some(Self {
            _dir: dir,
            project,
            elsewhere,
            state,
            env,
            model,
        })
    }

    /// loop-tui with `args` in `cwd`, once claude and codex are at their
    /// prompts with the bridge connected.
    fn start(&self, args: &[&str], cwd: &Path) -> Loop {
        let env: Vec<(&str, &std::ffi::OsStr)> =
            self.env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        let lt = Loop::start_with(args, ROWS, COLS, cwd, &env);
        lt.wait_for(
            |s| {
                s.contains("? for shortcuts")
                    && s.contains("gpt-fake")
                    && s.lines()
                        .next()
                        .is_some_and(|top| top.matches("bridge✓").count() == 2)
            },
            AGENT_TIMEOUT,
        )
        .expect("claude and codex reach their prompts with the bridge connected");
        lt
    }

    /// The run's manifest, once `cond` holds for it.
    fn manifest_when(
        &self,
        what: &str,
        cond: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let repo = self.state.join("loop-tui/runs/project");
        let deadline = Instant::now() + AGENT_TIMEOUT;
        loop {
            let manifest = std::fs::read_dir(&repo)
                .ok()
                .and_then(|mut dirs| dirs.next())
                .and_then(|dir| {
                    std::fs::read_to_string(dir.ok()?.path().join("manifest.json")).ok()
                })
                .and_then(|text| serde_json::from_str(&text).ok());
            if let Some(manifest) = manifest.filter(|m| cond(m)) {
                return manifest;
            }
            assert!(Instant::now() < deadline, "the manifest never had {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The body of `agent`'s model request whose input contains `needle`.
    fn request_body(&self, agent: &str, needle: &str) -> String {
        self.model.wait_for_input(agent, needle);
        std::fs::read_to_string(&self.model.log)
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|v| {
                v["agent"] == agent && v["input"].as_str().is_some_and(|i| i.contains(needle))
            })
            .map(|v| v["body"].to_string())
            .expect("the request is in the log")
    }
}

/// Types a prompt into the focused agent like a person: Enter after a
/// pause, since codex takes a quick Enter as part of the typing.
fn ask(lt: &Loop, prompt: &str) {
    lt.send_str(prompt);
    std::thread::sleep(Duration::from_millis(500));
    lt.send(b"\r");
}

fn quit(lt: &Loop) {
    lt.prefix("q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send(b"y");
    assert!(lt.expect_exit().success());
    wait_no_processes_with(lt.marker(), Duration::from_secs(10))
        .expect("no agent or bridge process survives loop-tui");
}

/// The command line of the live process carrying `lt`'s marker whose
/// command line contains `needle`.
fn command_line_with(lt: &Loop, needle: &str) -> Option<String> {
    processes_with(lt.marker())
        .into_iter()
        .map(|(_, cmd)| cmd)
        .find(|cmd| cmd.contains(needle))
}

#[test]
fn a_resumed_run_brings_back_claudes_and_codexs_conversations() {
    let Some(setup) = Setup::new() else {
        return;
    };
    let lt = setup.start(&[], &setup.project);
    ask(&lt, "FIRST-CLAUDE-7731 remember this");
    setup.model.wait_for_input("claude", "FIRST-CLAUDE-7731");
    lt.prefix("2");
    ask(&lt, "FIRST-CODEX-4417 remember this");
    setup.model.wait_for_input("codex", "FIRST-CODEX-4417");
    // claude's id is loop-tui's choice, known at once; codex's is found
    // once codex has saved its session.
    let manifest = setup.manifest_when("both sessions", |m| {
        m["agents"][0]["session"].is_string() && m["agents"][1]["session"].is_string()
    });
    let claude_session = manifest["agents"][0]["session"]
        .as_str()
        .unwrap()
        .to_owned();
    let codex_session = manifest["agents"][1]["session"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        command_line_with(&lt, &format!("--session-id {claude_session}")).is_some(),
        "claude was started with the recorded id: {:?}",
        processes_with(lt.marker())
    );
    quit(&lt);

    let id = manifest["id"].as_str().unwrap();
    let lt = setup.start(&["--run-id", id], &setup.elsewhere);
    assert!(
        command_line_with(&lt, &format!("--resume {claude_session}")).is_some(),
        "claude resumes its session: {:?}",
        processes_with(lt.marker())
    );
    assert!(
        command_line_with(&lt, &format!("resume {codex_session}")).is_some(),
        "codex resumes its session: {:?}",
        processes_with(lt.marker())
    );
    lt.wait_for_text(&format!("resumed run {id}"));

    ask(&lt, "SECOND-CLAUDE-9902 what did I say?");
    let body = setup.request_body("claude", "SECOND-CLAUDE-9902");
    assert!(
        body.contains("FIRST-CLAUDE-7731"),
        "claude's request after the resume lacks the earlier conversation: {body}"
    );
    lt.prefix("2");
    ask(&lt, "SECOND-CODEX-5510 what did I say?");
    let body = setup.request_body("codex", "SECOND-CODEX-5510");
    assert!(
        body.contains("FIRST-CODEX-4417"),
        "codex's request after the resume lacks the earlier conversation: {body}"
    );
    quit(&lt);
}
