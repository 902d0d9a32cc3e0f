//! End-to-end tests of the bridge: the real `loop-tui demo` (or loop-tui
//! with plain shell panes) runs in a PTY owned by the test, and every
//! assertion is about what the user sees on the outer terminal, what an
//! agent received, or what the journal kept.
//!
//! The demo agents are scripted (src/demo): the worker sends every task the
//! human types to the reviewer for review, the reviewer answers every
//! delivered message with a review, and the worker answers a review without
//! sending anything. So the texts below are exact, and each task makes at
//! most one round trip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

use support::{Loop, Screen, TempDir, TIMEOUT};

const ROWS: u16 = 48;
const COLS: u16 = 160;

/// Control keys as the terminal sends them: the editor's go to start of
/// line, delete to end of line and save, and the demo agent's clear input.
const CTRL_A: &str = "\x01";
const CTRL_K: &str = "\x0b";
const CTRL_S: &str = "\x13";
const CTRL_U: &str = "\x15";

/// The task the tests give the worker, and what the worker then sends.
const TASK: &str = "add a --verbose flag";
const REQUEST: &str = "Please review: add a --verbose flag. I changed the code for it and added a unit test; does it handle the edge cases?";
/// The reviewer's answer to the first message it reviews, #N.
fn review(n: u64) -> String {
    format!("Review of #{n}: the new code path has no test for empty input; please add one. Verdict: approve once that test is in.")
}

// Layout at 48x160 with two agents (see src/layout.rs): the status bar is
// the last row; the bridge pane takes the 14 rows above it (rows 33..47,
// its title on row 33) in columns 0..80, beside the plan pane in 80..160;
// the agents share rows 0..33, the worker in columns 0..80 and the
// reviewer in 80..160, each inside a one-cell border.
const BRIDGE_TOP: usize = 33;
const BRIDGE_COLS: usize = 80;
const WORKER_LEFT: usize = 0;
const REVIEWER_LEFT: usize = 80;

fn pane(s: &Screen, left: usize) -> String {
    flat(&s.region(1, left + 1, 31, 78))
}

fn worker(s: &Screen) -> String {
    pane(s, WORKER_LEFT)
}

fn reviewer(s: &Screen) -> String {
    pane(s, REVIEWER_LEFT)
}

/// The bridge pane's title and text, without the side borders, so that
/// a message wrapped onto several rows reads as one phrase.
fn bridge(s: &Screen) -> String {
    flat(&format!(
        "{}\n{}",
        s.region(BRIDGE_TOP, 0, 1, BRIDGE_COLS),
        s.region(BRIDGE_TOP + 1, 1, 12, BRIDGE_COLS - 2)
    ))
}

fn bridge_title(s: &Screen) -> String {
    s.region(BRIDGE_TOP, 0, 1, BRIDGE_COLS)
}

/// The header row of message #`id` in the bridge pane (`#1 12:00:00 worker
/// → reviewer pending`), or an empty string when it is not shown.
fn header(s: &Screen, id: u64) -> String {
    let marker = format!("#{id} ");
    (BRIDGE_TOP + 1..BRIDGE_TOP + 13)
        .map(|row| s.region(row, 1, 1, BRIDGE_COLS - 2))
        .find(|line| {
            line.starts_with(&format!("▶ {marker}")) || line.starts_with(&format!("  {marker}"))
        })
        .map(|line| flat(&line))
        .unwrap_or_default()
}

/// Whether pane `left`'s focus border is the thick one.
fn focused(s: &Screen, top: usize, left: usize) -> bool {
    s.cell(top, left) == "┏"
}

/// What is typed in the demo agent's input box in the pane at `left`.
fn input_box(s: &Screen, left: usize) -> Option<String> {
    (1..32)
        .find(|&row| s.cell(row, left + 2) == "❯")
        .map(|row| s.region(row, left + 3, 1, 75).trim().to_owned())
}

/// Text with every run of whitespace made one space, so phrases can be
/// found whatever line breaks the wrapping put into them.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How many times `needle` occurs in `haystack`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// `loop-tui demo`, with the run's files under `state`.
struct Demo {
    lt: Loop,
}

impl Demo {
    fn start(state: &TempDir, extra: &[&str]) -> Self {
        let mut args = extra.to_vec();
        args.push("demo");
        let lt = Loop::start_with(
            &args,
            ROWS,
            COLS,
            state.path(),
            &[("XDG_STATE_HOME", state.path().as_os_str())],
        );
        let demo = Self { lt };
        demo.wait("both demo agents", |s| {
            worker(s).contains("type a task, e.g. `add a --verbose flag`")
                && reviewer(s).contains("I review what worker sends me")
        });
        demo
    }

    /// Waits for a condition on the screen, panicking with the screen and
    /// `what` if it never holds.
    fn wait(&self, what: &str, cond: impl Fn(&Screen) -> bool) {
        if let Err(e) = self.lt.wait_for_screen(cond, TIMEOUT) {
            panic!("waiting for {what}: {e}");
        }
    }

    fn screen(&self) -> Screen {
        self.lt.screen()
    }

    fn send(&self, text: &str) {
        self.lt.send_str(text);
    }

    fn prefix(&self, key: &str) {
        self.lt.prefix(key);
    }

    /// Types the task into the worker (focused at start) and waits until
    /// its review request waits in the bridge as #1 and the worker shows
    /// the answer of its `send_message` call.
    fn task_pending(&self) {
        self.send(TASK);
        self.send("\r");
        self.wait("the review request pending as #1", |s| {
            let h = header(s, 1);
            h.contains("worker → reviewer")
                && h.ends_with("pending")
                && bridge(s).contains(REQUEST)
                && worker(s).contains("→ send_message(reviewer): queued for human approval as #1")
        });
    }

    /// Focuses the bridge pane and waits until its border shows it.
    fn focus_bridge(&self) {
        self.prefix("b");
        self.wait("the bridge pane focused", |s| focused(s, BRIDGE_TOP, 0));
    }

    /// The text row of the open editor popup titled `title`.
    fn editor_row(s: &Screen, title: &str) -> Option<String> {
        let row = (0..s.rows()).find(|&r| s.row(r).contains(title))?;
        // The editor wraps long text: its first two rows.
        Some(format!("{}\n{}", s.row(row + 1), s.row(row + 2)))
    }

    /// Replaces the whole (one-line) text of the open editor titled
    /// `title` with `text`, step by step as a human watching it would.
    fn replace_editor_text(&self, title: &str, text: &str) {
        self.send(CTRL_A);
        self.wait("the start of the text in the editor", |s| {
            Self::editor_row(s, title).is_some_and(|row| row.contains("│Please review: add a"))
        });
        self.send(CTRL_K);
        self.wait("the editor emptied", |s| {
            Self::editor_row(s, title).is_some_and(|row| !row.contains("Please review: add a"))
        });
        self.send(text);
        self.wait("the new text in the editor", |s| {
            Self::editor_row(s, title).is_some_and(|row| row.contains(&format!("│{text}")))
        });
    }
}

#[test]
fn a_task_waits_in_the_bridge_and_reaches_nobody_before_approval() {
    let state = TempDir::new("bridge-pending");
    let demo = Demo::start(&state, &[]);
    demo.task_pending();
    let s = demo.screen();
    assert!(
        bridge_title(&s).contains(" 1 pending "),
        "the title counts it:\n{}",
        s.text()
    );
    assert!(
        !reviewer(&s).contains("Please review") && !reviewer(&s).contains("message #1"),
        "the reviewer got the message before approval:\n{}",
        s.text()
    );
}

#[test]
fn approving_both_ways_delivers_the_request_and_the_review() {
    let state = TempDir::new("bridge-approve");
    let demo = Demo::start(&state, &[]);
    demo.task_pending();

    demo.prefix("a");
    demo.wait("the request delivered to the reviewer", |s| {
        reviewer(s).contains(&format!("◀ message #1 from worker: {REQUEST}"))
    });
    demo.wait("the review pending as #2", |s| {
        let h = header(s, 2);
        h.contains("reviewer → worker")
            && h.ends_with("pending")
            && bridge(s).contains(&review(1))
            && reviewer(s).contains("→ send_message(worker): queued for human approval as #2")
    });
    let s = demo.screen();
    assert!(header(&s, 1).ends_with("delivered"), "{}", s.text());
    assert!(
        !worker(&s).contains("message #2"),
        "the worker got the review before approval:\n{}",
        s.text()
    );

    demo.prefix("a");
    demo.wait("the review delivered to the worker and answered", |s| {
        worker(s).contains(&format!("◀ message #2 from reviewer: {}", review(1)))
            && worker(s).contains("● Thanks — applying the review (#2 from reviewer).")
    });
    demo.wait("both messages delivered", |s| {
        header(s, 1).ends_with("delivered") && header(s, 2).ends_with("delivered")
    });
    let s = demo.screen();
    assert_eq!(
        count(&worker(&s), "→ send_message("),
        1,
        "the worker answers a review without sending another message:\n{}",
        s.text()
    );
    assert!(header(&s, 3).is_empty(), "no third message:\n{}", s.text());
    assert!(bridge_title(&s).contains(" 0 pending "), "{}", s.text());
}

#[test]
fn editing_in_the_bridge_delivers_the_edit_tells_the_sender_and_keeps_the_bridge_focused() {
    let state = TempDir::new("bridge-edit");
    let demo = Demo::start(&state, &[]);
    demo.task_pending();
    demo.focus_bridge();

    demo.send("e");
    let title = "Edit #1 worker → reviewer";
    demo.wait("the editor with the message's text", |s| {
        Demo::editor_row(s, title).is_some_and(|row| row.contains("the edge cases?"))
    });
    let edited = "Please review only the flag parsing.";
    demo.replace_editor_text(title, edited);
    demo.send(CTRL_S);

    demo.wait("the edited text delivered to the reviewer", |s| {
        reviewer(s).contains(&format!("◀ message #1 from worker: {edited}"))
    });
    demo.wait("the worker told of the edit", |s| {
        worker(s).contains(&format!(
            "! [loop-tui] your message #1 to reviewer was edited by the human before delivery; reviewer received: {edited}"
        )) && worker(s).contains("● Noted: the human edited #1 before reviewer got it")
    });
    let s = demo.screen();
    assert!(
        !reviewer(&s).contains("I changed the code for it"),
        "the reviewer got the original text:\n{}",
        s.text()
    );
    assert!(
        header(&s, 1).contains("edited") || header(&s, 1).ends_with("delivered"),
        "{}",
        s.text()
    );
    assert!(
        focused(&s, BRIDGE_TOP, 0) && !focused(&s, 0, WORKER_LEFT),
        "focus returns to the bridge pane:\n{}",
        s.text()
    );
    assert_eq!(count(&worker(&s), "→ send_message("), 1, "{}", s.text());
}

#[test]
fn editing_from_an_agent_pane_returns_the_focus_to_that_pane() {
    let state = TempDir::new("bridge-edit-agent");
    let demo = Demo::start(&state, &[]);
    demo.task_pending();

    demo.prefix("e");
    let title = "Edit #1 worker → reviewer";
    demo.wait("the editor", |s| s.text().contains(title));
    let edited = "Please review the flag, briefly.";
    demo.replace_editor_text(title, edited);
    demo.send(CTRL_S);
    demo.wait("the edited text delivered to the reviewer", |s| {
        reviewer(s).contains(&format!("◀ message #1 from worker: {edited}"))
    });
    let s = demo.screen();
    assert!(
        focused(&s, 0, WORKER_LEFT) && !focused(&s, BRIDGE_TOP, 0),
        "focus returns to the worker:\n{}",
        s.text()
    );
    // Keys go to the worker again.
    demo.send("typed after the edit");
    demo.wait("the typed text in the worker's input", |s| {
        input_box(s, WORKER_LEFT).as_deref() == Some("typed after the edit")
    });
}

#[test]
fn rejecting_with_a_reason_tells_the_worker_and_never_reaches_the_reviewer() {
    let state = TempDir::new("bridge-reject");
    let demo = Demo::start(&state, &[]);
    demo.task_pending();

    demo.prefix("x");
    demo.wait("the reason prompt", |s| {
        s.text()
            .contains("Reject #1 worker → reviewer: reason (optional)")
    });
    let reason = "not now, fix the tests first";
    demo.send(reason);
    demo.send("\r");
    demo.wait("the rejection in the bridge", |s| {
        header(s, 1).contains(&format!("rejected: {reason}"))
    });
    demo.wait("the worker told why", |s| {
        worker(s).contains(&format!(
            "! [loop-tui] your message #1 to reviewer was rejected by the human: {reason}"
        )) && worker(s).contains(&format!(
            "● Understood: the human rejected #1 ({reason}). I won't send it again"
        ))
    });
    let s = demo.screen();
    assert!(
        !reviewer(&s).contains("message #1") && !reviewer(&s).contains("Please review"),
        "a rejected message reached the reviewer:\n{}",
        s.text()
    );
    assert_eq!(
        count(&worker(&s), "→ send_message("),
        1,
        "a rejection notice does not make the worker send again:\n{}",
        s.text()
    );
    assert!(bridge_title(&s).contains(" 0 pending "), "{}", s.text());
}

#[test]
fn the_human_writes_to_the_agent_picked_with_tab_or_to_the_focused_one() {
    let state = TempDir::new("bridge-compose");
    let demo = Demo::start(&state, &[]);
    demo.focus_bridge();

    demo.send("m");
    demo.wait("the compose popup", |s| {
        s.text().contains("Message to all agents")
    });
    demo.send("\t\t");
    demo.wait("the reviewer picked", |s| {
        s.text().contains("Message to reviewer")
    });
    let note = "Human here: focus on the error paths";
    demo.send(note);
    demo.send(CTRL_S);
    demo.wait("the note in the reviewer", |s| {
        reviewer(s).contains(&format!("> {note}"))
    });
    demo.wait("the note delivered in the bridge", |s| {
        header(s, 1).contains("human → reviewer") && header(s, 1).ends_with("delivered")
    });
    assert!(
        !worker(&demo.screen()).contains(note),
        "{}",
        demo.screen().text()
    );

    // From an agent pane, prefix m writes to that agent.
    demo.prefix("1");
    demo.prefix("m");
    demo.wait("the compose popup for the worker", |s| {
        s.text().contains("Message to worker")
    });
    demo.send(TASK);
    demo.send(CTRL_S);
    demo.wait("the worker takes the human's message as a task", |s| {
        worker(s).contains(&format!("> {TASK}"))
            && header(s, 3).contains("worker → reviewer")
            && header(s, 3).ends_with("pending")
    });
}

#[test]
fn a_paused_relay_holds_an_approved_message_until_resumed() {
    let state = TempDir::new("bridge-pause");
    let demo = Demo::start(&state, &[]);
    demo.focus_bridge();
    demo.send(" ");
    demo.wait("the pause in the title", |s| {
        bridge_title(s).contains("PAUSED (space resumes)")
    });
    demo.prefix("1");
    demo.task_pending();
    demo.prefix("a");
    demo.wait("the message approved and held", |s| {
        header(s, 1).contains("approved · held: relay paused")
    });
    // Typing into the reviewer after the approval is a barrier: had the
    // message been delivered at approval, its paste would be in the
    // reviewer's input before these keys.
    demo.prefix("2");
    demo.send("zz");
    demo.wait("the reviewer's input", |s| {
        input_box(s, REVIEWER_LEFT).is_some_and(|t| t.ends_with("zz"))
    });
    let s = demo.screen();
    assert_eq!(
        input_box(&s, REVIEWER_LEFT).as_deref(),
        Some("zz"),
        "{}",
        s.text()
    );
    assert!(!reviewer(&s).contains("message #1"), "{}", s.text());
    demo.send(CTRL_U);
    demo.wait("the reviewer's input cleared", |s| {
        input_box(s, REVIEWER_LEFT).as_deref() == Some("")
    });

    demo.focus_bridge();
    demo.send(" ");
    demo.wait("the relay resumed", |s| !bridge_title(s).contains("PAUSED"));
    demo.wait("the held message delivered", |s| {
        reviewer(s).contains(&format!("◀ message #1 from worker: {REQUEST}"))
            && header(s, 1).ends_with("delivered")
    });
}

#[test]
fn auto_approve_runs_a_whole_round_trip_without_the_human() {
    let state = TempDir::new("bridge-auto");
    let demo = Demo::start(&state, &[]);
    demo.focus_bridge();
    demo.send("A");
    demo.wait("auto-approve in the title", |s| {
        bridge_title(s).contains("auto-approve")
    });
    demo.prefix("1");
    demo.send(TASK);
    demo.send("\r");
    demo.wait("the round trip", |s| {
        reviewer(s).contains(&format!("◀ message #1 from worker: {REQUEST}"))
            && worker(s).contains(&format!("◀ message #2 from reviewer: {}", review(1)))
            && worker(s).contains("● Thanks — applying the review (#2 from reviewer).")
    });
    demo.wait("both delivered automatically", |s| {
        header(s, 1).ends_with("delivered · auto") && header(s, 2).ends_with("delivered · auto")
    });
    let s = demo.screen();
    assert!(
        worker(&s).contains("→ send_message(reviewer): delivered as #1"),
        "{}",
        s.text()
    );
    assert!(bridge_title(&s).contains(" 0 pending "), "{}", s.text());
    assert!(
        header(&s, 3).is_empty(),
        "the loop stops by itself:\n{}",
        s.text()
    );
}

#[test]
fn the_journal_keeps_the_run_and_resuming_shows_history_and_pending() {
    let state = TempDir::new("bridge-journal");
    {
        let demo = Demo::start(&state, &[]);
        demo.task_pending();
        demo.prefix("a");
        demo.wait("the review pending as #2", |s| {
            header(s, 1).ends_with("delivered") && header(s, 2).ends_with("pending")
        });
        demo.prefix("q");
        demo.wait("the quit question", |s| s.text().contains("Quit loop-tui?"));
        demo.send("y");
        demo.lt.expect_exit();
    }

    let (id, dir) = support::only_run_dir(state.path());
    let journal = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = journal
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let summary: Vec<String> = records
        .iter()
        .filter_map(|r| {
            let kind = r["record"].as_str()?;
            match kind {
                "sent" => Some(format!(
                    "sent #{} {} → {} {}",
                    r["message"]["id"],
                    r["message"]["from"].as_str()?,
                    r["message"]["to"].as_str()?,
                    r["message"]["state"].as_str()?
                )),
                "approved" | "delivered" => Some(format!("{kind} #{}", r["id"])),
                _ => None,
            }
        })
        .collect();
    assert_eq!(
        summary,
        [
            "sent #1 worker → reviewer pending",
            "approved #1",
            "delivered #1",
            "sent #2 reviewer → worker pending",
        ],
        "{journal}"
    );
    let first = records.iter().find(|r| r["record"] == "sent").unwrap();
    assert_eq!(first["message"]["text"], REQUEST, "{journal}");

    let demo = Demo::start(&state, &["--run-id", &id]);
    demo.wait("the earlier messages", |s| {
        header(s, 1).contains("worker → reviewer")
            && header(s, 1).ends_with("delivered")
            && header(s, 2).contains("reviewer → worker")
            && header(s, 2).ends_with("pending")
            && bridge(s).contains(&review(1))
            && bridge_title(s).contains(" 1 pending ")
    });
    assert!(
        demo.screen()
            .row(usize::from(ROWS) - 1)
            .contains(&format!("resumed run {id}: 2 messages, 1 pending")),
        "{}",
        demo.screen().text()
    );
    // The pending message is live again: approving it reaches the new worker.
    demo.prefix("a");
    demo.wait("the resumed review delivered", |s| {
        worker(s).contains(&format!("◀ message #2 from reviewer: {}", review(1)))
            && header(s, 2).ends_with("delivered")
    });
}

/// Connects to the bridge of the loop-tui that started the pane whose
/// environment was dumped into `env_file`, as agent `agent`, and sends
/// `message` to `target`; returns loop-tui's reply.
fn send_through_socket(
    env_file: &Path,
    agent: &str,
    target: &str,
    message: &str,
) -> serde_json::Value {
    let deadline = std::time::Instant::now() + TIMEOUT;
    let env = loop {
        let text = std::fs::read_to_string(env_file).unwrap_or_default();
        if text.contains("LOOP_TUI_BRIDGE_TOKEN=") {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no environment in {}",
            env_file.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let var = |name: &str| support::env_value(&env, name);
    let mut stream = UnixStream::connect(var("LOOP_TUI_BRIDGE_SOCKET")).unwrap();
    let request = serde_json::json!({
        "token": var("LOOP_TUI_BRIDGE_TOKEN"),
        "agent": agent,
        "call": {"type": "send", "target": target, "message": message},
    });
    let mut line = serde_json::to_vec(&request).unwrap();
    line.push(b'\n');
    stream.write_all(&line).unwrap();
    let mut reply = String::new();
    BufReader::new(stream).read_line(&mut reply).unwrap();
    serde_json::from_str(&reply).unwrap_or_else(|e| panic!("{e}: {reply:?}"))
}

/// A message built to break out of a bracketed paste and to drive the
/// target's terminal: a paste end, an OSC 52 clipboard write, C1 controls
/// (CSI, OSC, DCS, ST as Unicode code points), a screen clear and a bell.
const HOSTILE: &str = "before \x1b[201~ after-paste-end \x1b]52;c;SGVsbG8=\x07 osc52 \u{9b}31m c1-csi \u{9d}0;title\u{9c} c1-osc \u{90}q\u{9c} dcs \x1b[2J\x07 end";
/// The words of [`HOSTILE`] that must arrive, in order.
const HOSTILE_WORDS: [&str; 6] = [
    "before",
    "after-paste-end",
    "osc52",
    "c1-csi",
    "c1-osc",
    "end",
];

/// Sends [`HOSTILE`] from alice to bob through the socket, approves it, and
/// returns the bytes bob's terminal received (bob reads its PTY raw).
/// `bracketed` makes bob ask for bracketed paste first.
fn hostile_delivery(tag: &str, bracketed: bool) -> Vec<u8> {
    let dir = TempDir::new(tag);
    let env_file = dir.path().join("alice.env");
    let received = dir.path().join("bob.bin");
    let alice = format!("alice:env > '{}'; exec cat", env_file.display());
    let enable = if bracketed {
        r"printf '\033[?2004h'; "
    } else {
        ""
    };
    let bob = format!(
        "bob:{enable}stty raw -echo; exec cat > '{}'",
        received.display()
    );
    let lt = Loop::start_with(
        &["--pane", &alice, "--pane", &bob],
        ROWS,
        COLS,
        dir.path(),
        &[("XDG_STATE_HOME", dir.path().as_os_str())],
    );
    let reply = send_through_socket(&env_file, "alice", "bob", HOSTILE);
    assert_eq!(reply["ok"], true, "{reply}");
    assert!(
        reply["text"]
            .as_str()
            .unwrap()
            .starts_with("queued for human approval as #1"),
        "{reply}"
    );
    if let Err(e) = lt.wait_for_screen(
        |s| header(s, 1).contains("alice → bob") && bridge(s).contains("after-paste-end"),
        TIMEOUT,
    ) {
        panic!("waiting for the message in the bridge: {e}");
    }
    lt.prefix("a");
    // The delivery is complete when the Enter that follows the paste arrived.
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let bytes = std::fs::read(&received).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        if text.contains(" end")
            && bytes.ends_with(b"\r")
            && (!bracketed || text.contains("\x1b[201~"))
        {
            if let Err(e) = lt.wait_for_screen(|s| header(s, 1).ends_with("delivered"), TIMEOUT) {
                panic!("waiting for the delivery in the bridge: {e}");
            }
            return std::fs::read(&received).unwrap();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bob did not receive the message; it got {:?}; the screen was:\n{}",
            String::from_utf8_lossy(&bytes),
            lt.screen_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Asserts that `body` (what the target got, paste markers removed) holds
/// no escape or control sequence and all of the message's words in order.
fn assert_harmless(body: &[u8]) {
    let shown = String::from_utf8_lossy(body).escape_debug().to_string();
    assert!(
        !body.contains(&0x1b),
        "an ESC byte reached the target: {shown}"
    );
    assert!(!body.contains(&0x07), "a BEL reached the target: {shown}");
    let text = std::str::from_utf8(body).expect("the target got UTF-8");
    assert!(
        !text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)),
        "a C1 control reached the target: {shown}"
    );
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\r'),
        "a control character reached the target: {shown}"
    );
    assert!(
        text.starts_with("[loop-tui] message #1 from alice"),
        "{shown}"
    );
    let mut at = 0;
    for word in HOSTILE_WORDS {
        let found = text[at..]
            .find(word)
            .unwrap_or_else(|| panic!("{word:?} was lost: {shown}"));
        at += found + word.len();
    }
}

#[test]
fn a_hostile_message_arrives_as_one_harmless_bracketed_paste() {
    let bytes = hostile_delivery("bridge-hostile-bracketed", true);
    let shown = String::from_utf8_lossy(&bytes).escape_debug().to_string();
    let body = bytes
        .strip_prefix(b"\x1b[200~")
        .and_then(|rest| rest.strip_suffix(b"\x1b[201~\r"))
        .unwrap_or_else(|| panic!("not one bracketed paste followed by Enter: {shown}"));
    assert_harmless(body);
}

#[test]
fn a_hostile_message_typed_without_bracketed_paste_has_no_escape_at_all() {
    let bytes = hostile_delivery("bridge-hostile-plain", false);
    let shown = String::from_utf8_lossy(&bytes).escape_debug().to_string();
    let body = bytes
        .strip_suffix(b"\r")
        .unwrap_or_else(|| panic!("the message was not submitted with Enter: {shown}"));
    assert_harmless(body);
}

#[test]
fn the_demo_agent_alone_shows_why_it_cannot_send_and_keeps_running() {
    let dir = TempDir::new("bridge-standalone");
    // Empty values count as unset, so the agent has no bridge even when
    // the tests themselves run inside a loop-tui pane.
    let empty = std::ffi::OsStr::new("");
    let lt = Loop::start_with(
        &["demo-agent", "--name", "worker", "--peer", "reviewer"],
        24,
        100,
        dir.path(),
        &[
            ("LOOP_TUI_BRIDGE_SOCKET", empty),
            ("LOOP_TUI_BRIDGE_TOKEN", empty),
            ("LOOP_TUI_AGENT", empty),
        ],
    );
    let wait = |what: &str, cond: &dyn Fn(&str) -> bool| {
        if let Err(e) = lt.wait_for(|s| cond(&flat(s)), TIMEOUT) {
            panic!("waiting for {what}: {e}");
        }
    };
    wait("the banner", &|s| {
        s.contains("type a task, e.g. `add a --verbose flag`")
            && s.contains("bridge: none (not started by loop-tui)")
    });
    lt.send_str(TASK);
    lt.send_str("\r");
    wait("the failed call in the transcript", &|s| {
        s.contains("→ send_message(reviewer) failed: this process was not started by loop-tui (LOOP_TUI_BRIDGE_SOCKET is not set)")
    });
    assert!(
        lt.exit_status().is_none(),
        "the agent exited:\n{}",
        lt.screen_text()
    );
    lt.send_str("\x03");
    assert!(lt.expect_exit().success(), "{}", lt.screen_text());
}

#[test]
fn the_editor_shows_a_long_message_from_its_first_word() {
    let state = TempDir::new("bridge-edit-long");
    let demo = Demo::start(&state, &[]);
    demo.task_pending();
    demo.prefix("e");
    let title = "Edit #1 worker → reviewer";
    demo.wait("the editor", |s| Demo::editor_row(s, title).is_some());
    // REQUEST is 118 columns wide and the popup's text area 98: the whole
    // message fits on two wrapped rows, and the human must see how it starts.
    let s = demo.screen();
    assert!(
        Demo::editor_row(&s, title)
            .is_some_and(|row| row.contains("│Please review: add a --verbose flag.")),
        "the editor hides the start of the message:\n{}",
        s.text()
    );
}

#[test]
fn enter_approves_the_message_the_human_selected_even_when_another_arrives() {
    let dir = TempDir::new("bridge-selection");
    let env_file = dir.path().join("alice.env");
    let alice = format!("alice:env > '{}'; exec cat", env_file.display());
    let lt = Loop::start_with(
        &["--pane", &alice, "--pane", "bob:exec cat"],
        ROWS,
        COLS,
        dir.path(),
        &[("XDG_STATE_HOME", dir.path().as_os_str())],
    );
    let wait = |what: &str, cond: &dyn Fn(&Screen) -> bool| {
        if let Err(e) = lt.wait_for_screen(cond, TIMEOUT) {
            panic!("waiting for {what}: {e}");
        }
    };
    for text in ["first message", "second message"] {
        let reply = send_through_socket(&env_file, "alice", "bob", text);
        assert_eq!(reply["ok"], true, "{reply}");
    }
    wait("two pending messages", &|s| {
        header(s, 2).ends_with("pending")
    });
    lt.prefix("b");
    lt.send_str("k");
    wait("the first message selected", &|s| {
        (BRIDGE_TOP + 1..BRIDGE_TOP + 13).any(|row| s.region(row, 1, 1, 10).starts_with("▶ #1 "))
    });
    let reply = send_through_socket(&env_file, "alice", "bob", "third message");
    assert_eq!(reply["ok"], true, "{reply}");
    wait("the third message", &|s| header(s, 3).ends_with("pending"));
    lt.send_str("\r");
    wait("a message approved", &|s| {
        (1..=3).any(|id| !header(s, id).ends_with("pending"))
    });
    let s = lt.screen();
    assert!(
        !header(&s, 1).ends_with("pending") && header(&s, 3).ends_with("pending"),
        "Enter approved another message than the selected #1:\n{}",
        s.text()
    );
}
