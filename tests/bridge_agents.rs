//! The bridge with the real Claude Code and Codex CLIs, run offline: plain
//! `loop-tui` launches both through its launch profiles (the offline
//! wrappers are first on PATH), claude messages codex through the MCP
//! bridge, and every message waits for the human.

mod support;

#[path = "support/agents.rs"]
mod agents;

use std::ffi::OsStr;
use std::time::Duration;

use agents::{agents_available, wrapper_path, FakeModel, AGENT_TIMEOUT};
use support::{wait_no_processes_with, Loop, TempDir};

const ROWS: u16 = 50;
const COLS: u16 = 220;

/// claude asks codex when told to; codex answers; claude reacts to the
/// answer and to loop-tui's notices. Tokens are distinct per step so the
/// request log tells exactly what reached which model.
const SCENARIO: &str = r#"{"rules": [
  {"agent": "claude", "match": "ASK-CODEX", "tool_suffix": "send_message",
   "arguments": {"target": "codex", "message": "Q-42: what is six times seven?"},
   "final_text": "Asked codex; waiting for the answer."},
  {"agent": "codex", "match": "Q-42", "tool_suffix": "send_message",
   "arguments": {"target": "claude", "message": "A-42: forty-two"},
   "final_text": "Answered claude."},
  {"agent": "claude", "match": "A-42", "text": "Codex says forty-two. DONE-42"},
  {"agent": "claude", "match": "was rejected by the human", "text": "Understood. REJECT-SEEN"},
  {"agent": "claude", "match": "was edited by the human", "text": "Noted. EDIT-SEEN"},
  {"agent": "claude", "match": "Task from the human", "text": "Plan written and implemented; tests pass.\n\n<promise>DONE</promise>"},
  {"agent": "codex", "match": "says the task is done", "tool_suffix": "send_message",
   "arguments": {"target": "claude", "message": "VERDICT: APPROVE the tests pass"},
   "final_text": "Reviewed."}],
 "default_text": "ok"}"#;

struct Session {
    lt: Loop,
    model: FakeModel,
    _dir: TempDir,
}

/// Starts `loop-tui` (no arguments: claude works, codex reviews) and
/// waits until both CLIs are at their prompt.
fn start() -> Option<Session> {
    start_with_args(&[])
}

/// Starts `loop-tui ARGS` (claude works, codex reviews) and waits until
/// both CLIs are at their prompt.
fn start_with_args(args: &[&str]) -> Option<Session> {
    let (offline, bin) = agents_available(&["claude", "codex"])?;
    let dir = TempDir::new("bridge-agents");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("create the project dir");
    let model = FakeModel::start(&offline, dir.path(), SCENARIO);
    let path = wrapper_path(&offline, &bin, dir.path());
    let state = dir.path().join("state");
    let agent_state = dir.path().join("agent-state");
    let lt = Loop::start_with(
        args,
        ROWS,
        COLS,
        &project,
        &[
            ("PATH", path.as_os_str()),
            ("FAKE_LLM_URL", OsStr::new(&model.url)),
            ("AGENT_STATE", agent_state.as_os_str()),
            ("XDG_STATE_HOME", state.as_os_str()),
        ],
    );
    // Ready: both prompts drawn, and both agents' MCP clients have said
    // hello to the bridge (the pane titles say `bridge✓`), so the model
    // is offered the bridge tools from the first request.
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
    Some(Session {
        lt,
        model,
        _dir: dir,
    })
}

/// Types a prompt into the focused agent like a person: Enter after a pause.
fn ask(lt: &Loop, prompt: &str) {
    lt.send_str(prompt);
    std::thread::sleep(Duration::from_millis(500));
    lt.send(b"\r");
}

fn wait_screen(lt: &Loop, what: &str, cond: impl Fn(&str) -> bool) {
    if let Err(screen) = lt.wait_for(cond, AGENT_TIMEOUT) {
        panic!("waiting for {what}:\n{screen}");
    }
}

/// The request bodies `agent` sent the model, as JSON text.
fn request_bodies(model: &FakeModel, agent: &str) -> Vec<String> {
    std::fs::read_to_string(&model.log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["agent"] == agent)
        .map(|v| v["body"].to_string())
        .collect()
}

fn quit(session: Session) {
    let Session { lt, .. } = session;
    lt.prefix("q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send(b"y");
    assert!(lt.expect_exit().success());
    wait_no_processes_with(lt.marker(), Duration::from_secs(10))
        .expect("no agent or bridge process survives loop-tui");
}

#[test]
fn claude_messages_codex_only_after_approval_and_the_answer_comes_back() {
    let Some(session) = start() else {
        return;
    };
    let (lt, model) = (&session.lt, &session.model);
    ask(lt, "ASK-CODEX how much is six times seven?");
    wait_screen(lt, "claude's message pending in the bridge", |s| {
        s.contains("claude → codex  pending") && s.contains("Q-42: what is six times seven?")
    });
    assert!(lt.screen_text().contains("1 pending"));
    // Held: codex's model has not seen it, however long we wait.
    wait_screen(lt, "claude's turn to end", |s| {
        s.contains("Asked codex; waiting")
    });
    assert!(
        !model.inputs("codex").iter().any(|i| i.contains("Q-42")),
        "codex got the message before approval"
    );

    lt.prefix("a");
    let input = model.wait_for_input("codex", "Q-42: what is six times seven?");
    assert!(
        input.contains("[loop-tui] message #1 from claude"),
        "the header names the sender: {input}"
    );
    wait_screen(lt, "codex's answer pending", |s| {
        s.contains("codex → claude  pending") && s.contains("A-42: forty-two")
    });
    lt.prefix("a");
    model.wait_for_input("claude", "A-42: forty-two");
    wait_screen(lt, "claude's reaction", |s| s.contains("DONE-42"));
    quit(session);
}

#[test]
fn an_edited_message_arrives_edited_and_a_rejected_one_never_arrives() {
    let Some(session) = start() else {
        return;
    };
    let (lt, model) = (&session.lt, &session.model);

    ask(lt, "ASK-CODEX first question");
    wait_screen(lt, "the first message pending", |s| {
        s.contains("claude → codex  pending")
    });
    lt.prefix("e");
    wait_screen(lt, "the editor", |s| s.contains("Edit #1 claude → codex"));
    // Replace the text: the editor opens with the cursor at its end.
    lt.send(&[0x7f; 40]);
    lt.send_str("Q-42 EDITED: what is seven times six?");
    lt.send(b"\x13"); // Ctrl-S approves the edited text.
    let input = model.wait_for_input("codex", "Q-42 EDITED");
    assert!(
        !input.contains("six times seven"),
        "the original text leaked: {input}"
    );
    model.wait_for_input("claude", "your message #1 to codex was edited by the human");
    wait_screen(lt, "claude told of the edit", |s| s.contains("EDIT-SEEN"));
    // codex answers the edited question; approving it ends that exchange.
    wait_screen(lt, "codex's answer pending", |s| {
        s.contains("codex → claude  pending")
    });
    lt.prefix("a");
    wait_screen(lt, "claude's reaction", |s| s.contains("DONE-42"));

    // The same question again, rejected with a reason this time.
    ask(lt, "ASK-CODEX second question");
    wait_screen(lt, "the second message pending", |s| {
        s.contains("claude → codex  pending")
    });
    lt.prefix("x");
    wait_screen(lt, "the reason prompt", |s| s.contains("reason (optional)"));
    lt.send_str("not needed any more");
    lt.send(b"\r");
    model.wait_for_input(
        "claude",
        "to codex was rejected by the human: not needed any more",
    );
    wait_screen(lt, "claude told of the rejection", |s| {
        s.contains("REJECT-SEEN")
    });
    assert!(
        !model
            .inputs("codex")
            .iter()
            .any(|i| i.contains("six times seven")),
        "codex got a rejected message (or the original of the edited one)"
    );
    wait_screen(lt, "the bridge shows the outcomes", |s| {
        s.contains("edited") && s.contains("rejected: not needed any more")
    });
    quit(session);
}

#[test]
fn a_task_asks_the_worker_for_the_plan_and_done_asks_the_reviewer_through_the_gate() {
    let Some(session) = start_with_args(&[
        "Implement a greeting library",
        "--proof",
        "cargo test passes",
    ]) else {
        return;
    };
    let (lt, model) = (&session.lt, &session.model);
    // The task is claude's first input: write PLAN.md, have codex review it.
    let input = model.wait_for_input(
        "claude",
        "Task from the human: Implement a greeting library",
    );
    assert!(input.contains("First write the plan to PLAN.md"), "{input}");
    assert!(
        input.contains("ask codex to review the plan with send_message"),
        "{input}"
    );
    assert!(
        input.contains("Proof required: cargo test passes"),
        "{input}"
    );
    // The proof is part of the worker's role prompt (its system prompt).
    // claude may send a side request with the task (a title for the
    // conversation) before its main one, so wait for the main one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !request_bodies(model, "claude")
        .iter()
        .any(|b| b.contains("Proof required before the task counts as done: cargo test passes"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "claude's role prompt carries the proof"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // claude prints the done signal: loop-tui asks codex, gated.
    wait_screen(lt, "the review request pending", |s| {
        s.contains("done — awaiting review") && s.contains("loop-tui → codex  pending")
    });
    assert!(!model
        .inputs("codex")
        .iter()
        .any(|i| i.contains("says the task is done")));
    lt.prefix("a");
    model.wait_for_input("codex", "claude says the task is done");
    assert!(
        request_bodies(model, "codex")
            .iter()
            .any(|b| b.contains("cargo test passes")
                && b.contains("VERDICT: APPROVE or VERDICT: CHANGES")),
        "codex's role prompt carries the proof and the verdict words"
    );
    wait_screen(lt, "the verdict", |s| {
        s.contains("both agree it is done — your call")
    });
    quit(session);
}
