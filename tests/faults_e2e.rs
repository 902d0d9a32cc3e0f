//! Faults, end to end: the real binary is killed or signalled at the worst
//! moments, and what the user relies on must hold afterwards.
//!
//! - loop-tui itself is killed with SIGKILL while messages wait in the
//!   bridge, while one is open in the bridge editor and while one is being
//!   typed into its target; `--run-id` brings the run back with nothing
//!   lost, nothing typed twice, the interrupted delivery marked `delivery
//!   uncertain` for the human, and a journal `loop-tui log` reads whole.
//! - An agent dies (SIGKILL) in the middle of a turn and in the middle of a
//!   delivery: its pane says how it ended, its messages wait for it, `r`
//!   brings it back and they are delivered to it then, and the other agent
//!   never notices. With the real claude (offline), the restarted claude
//!   resumes its conversation.
//! - SIGTERM, SIGHUP and SIGINT to loop-tui running the real claude and
//!   codex: the terminal is restored, no process of the run survives (the
//!   CLIs' `loop-tui mcp-bridge` servers included) and the journal ends
//!   with the run's end.
//!
//! The plain panes are shell command lines whose environment and input the
//! test controls: `alice` sends through the bridge socket (as an agent's
//! MCP server would), `bob` records every byte typed into it in a file of
//! its own per start, so a message typed twice shows up twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

#[path = "support/agents.rs"]
mod agents;

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use support::{find_from, rfind, wait_no_processes_with, Loop, Screen, TempDir, TIMEOUT};

const ROWS: u16 = 48;
const COLS: u16 = 160;

// The layout at 48x160 with two agents (see tests/bridge_e2e.rs): the
// agents share rows 0..33, the first in columns 0..80 and the second in
// 80..160; the bridge pane's title is row 33, its text rows 34..46, in
// columns 0..80 beside the plan pane.
const BRIDGE_TOP: usize = 33;
const BRIDGE_COLS: usize = 80;
const SECOND_LEFT: usize = 80;

/// Control keys as the terminal sends them: the editor's start of line,
/// delete to end of line and save.
const CTRL_A: &str = "\x01";
const CTRL_K: &str = "\x0b";
const CTRL_S: &str = "\x13";

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text inside the first agent pane's border.
fn first_pane(s: &Screen) -> String {
    flat(&s.region(1, 1, 31, 78))
}

/// The top border of the pane whose left edge is `left`: its name and how
/// its program is doing.
fn border(s: &Screen, left: usize) -> String {
    s.region(0, left, 1, 80)
}

/// The bridge pane's title and text without the side borders.
fn bridge(s: &Screen) -> String {
    flat(&format!(
        "{}\n{}",
        s.region(BRIDGE_TOP, 0, 1, BRIDGE_COLS),
        s.region(BRIDGE_TOP + 1, 1, 12, BRIDGE_COLS - 2)
    ))
}

/// The header row of message #`id` in the bridge pane, or "".
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

fn status_bar(s: &Screen) -> String {
    s.row(usize::from(ROWS) - 1)
}

fn wait(lt: &Loop, what: &str, cond: impl Fn(&Screen) -> bool) {
    if let Err(e) = lt.wait_for_screen(cond, TIMEOUT) {
        panic!("waiting for {what}: {e}");
    }
}

/// Polls `cond` every millisecond until it returns `Some`; panics with
/// `what` and the last state `describe` gives after `timeout`.
fn poll<T>(
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = cond() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "waiting for {what}; {}",
            describe()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A test's directories: the project the panes run in (its name is the
/// run's repository name) and the state directory that keeps the runs.
struct Dirs {
    _root: TempDir,
    project: PathBuf,
    state: PathBuf,
}

impl Dirs {
    fn new(tag: &str) -> Self {
        let root = TempDir::new(tag);
        let project = root.path().join("project");
        let state = root.path().join("state");
        for dir in [&project, &state] {
            std::fs::create_dir_all(dir).unwrap();
        }
        Self {
            _root: root,
            project,
            state,
        }
    }

    fn start(&self, args: &[&str]) -> Loop {
        self.start_env(args, &[])
    }

    fn start_env(&self, args: &[&str], env: &[(&str, &OsStr)]) -> Loop {
        let mut env = env.to_vec();
        env.push(("XDG_STATE_HOME", self.state.as_os_str()));
        Loop::start_with(args, ROWS, COLS, &self.project, &env)
    }

    /// The only run: its id and directory.
    fn only_run(&self) -> (String, PathBuf) {
        let repo = self.state.join("loop-tui/runs/project");
        let dir = poll(
            "the run's directory",
            TIMEOUT,
            || {
                let dirs: Vec<PathBuf> = std::fs::read_dir(&repo)
                    .ok()?
                    .map(|e| e.unwrap().path())
                    .collect();
                assert!(dirs.len() <= 1, "one run expected: {dirs:?}");
                dirs.into_iter().next()
            },
            || format!("nothing in {}", repo.display()),
        );
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        (id, dir)
    }

    /// `loop-tui ARGS` without a terminal, which must succeed; its output.
    fn stdout(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_loop-tui"))
            .args(args)
            .current_dir(&self.project)
            .env("XDG_STATE_HOME", &self.state)
            .output()
            .expect("run loop-tui");
        assert!(
            out.status.success(),
            "loop-tui {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// Every record of the run's journal. Each line must be a whole JSON
/// record: the kills in these tests come after a record was written, so a
/// torn line would be loop-tui's fault.
fn journal(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap_or_default();
    text.lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("unreadable journal line {line:?}: {e}\n{text}"))
        })
        .collect()
}

/// How many records of `kind` about message `id` the journal holds.
fn count_records(records: &[serde_json::Value], kind: &str, id: u64) -> usize {
    records
        .iter()
        .filter(|r| r["record"] == kind && r["id"] == id)
        .count()
}

fn journal_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("journal.jsonl")).unwrap_or_default()
}

/// Waits (polling every millisecond) until the journal holds a `kind`
/// record about message `id`.
fn wait_record(dir: &Path, kind: &str, id: u64) {
    poll(
        &format!("a {kind} record for #{id}"),
        TIMEOUT,
        || {
            let text = journal_text(dir);
            text.lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .any(|r| r["record"] == kind && r["id"] == id)
                .then_some(())
        },
        || journal_text(dir),
    );
}

/// The bridge settings a pane dumped with `env > FILE`.
struct BridgeEnv {
    socket: String,
    token: String,
    /// The connections hellos were said on: a real `mcp-bridge` keeps its
    /// open while it runs (its presence), and one that closes shows the
    /// agent's bridge as down.
    presences: std::cell::RefCell<Vec<UnixStream>>,
}

impl BridgeEnv {
    /// Reads `file` once it holds the variables. A pane restarted by a
    /// resume writes it again, so callers remove it first.
    fn read(file: &Path) -> Self {
        let env = poll(
            &format!("the bridge environment in {}", file.display()),
            TIMEOUT,
            || {
                let text = std::fs::read_to_string(file).ok()?;
                text.contains("LOOP_TUI_BRIDGE_TOKEN=")
                    .then_some(text)
                    .filter(|t| t.ends_with('\n'))
            },
            String::new,
        );
        let var = |name: &str| support::env_value(&env, name);
        Self {
            socket: var("LOOP_TUI_BRIDGE_SOCKET"),
            token: var("LOOP_TUI_BRIDGE_TOKEN"),
            presences: std::cell::RefCell::default(),
        }
    }

    /// Makes one bridge call as `agent`, the way `loop-tui mcp-bridge`
    /// does; returns loop-tui's reply.
    fn call(&self, agent: &str, call: &serde_json::Value) -> serde_json::Value {
        let mut stream = UnixStream::connect(&self.socket).unwrap();
        let request = serde_json::json!({"token": self.token, "agent": agent, "call": call});
        let mut line = serde_json::to_vec(&request).unwrap();
        line.push(b'\n');
        stream.write_all(&line).unwrap();
        let mut reply = String::new();
        BufReader::new(stream).read_line(&mut reply).unwrap();
        serde_json::from_str(&reply).unwrap_or_else(|e| panic!("{e}: {reply:?}"))
    }

    /// `agent`'s MCP client says hello: loop-tui then takes the pane to be
    /// ready for deliveries at once instead of after its start-up grace.
    fn hello(&self, agent: &str) {
        let mut stream = UnixStream::connect(&self.socket).unwrap();
        let request =
            serde_json::json!({"token": self.token, "agent": agent, "call": {"type": "hello"}});
        let mut line = serde_json::to_vec(&request).unwrap();
        line.push(b'\n');
        stream.write_all(&line).unwrap();
        let mut reply = String::new();
        BufReader::new(&stream).read_line(&mut reply).unwrap();
        let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(reply["ok"], true, "{reply}");
        self.presences.borrow_mut().push(stream);
    }

    /// `from` sends `message` to `to`; returns the id it was queued as.
    fn send(&self, from: &str, to: &str, message: &str) -> u64 {
        let reply = self.call(
            from,
            &serde_json::json!({"type": "send", "target": to, "message": message}),
        );
        let text = reply["text"].as_str().unwrap_or_default();
        assert!(
            reply["ok"] == true && text.starts_with("queued for human approval as #"),
            "{reply}"
        );
        text["queued for human approval as #".len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// A pane that records its input: each start appends its pid to
/// `bob.pids` and writes every byte typed into it, raw, to `bob-PID.bin`.
const RECORDER: &str = "echo $$ >> bob.pids; stty raw -echo; exec cat > bob-$$.bin";

/// The pids of the recorder's starts, oldest first.
fn recorder_pids(project: &Path) -> Vec<u32> {
    std::fs::read_to_string(project.join("bob.pids"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

/// Waits for the `n`th start of the recorder (1-based); returns its pid.
fn recorder_start(project: &Path, n: usize) -> u32 {
    poll(
        &format!("start {n} of bob"),
        TIMEOUT,
        || recorder_pids(project).get(n - 1).copied(),
        || format!("{:?}", recorder_pids(project)),
    )
}

/// What the recorder with `pid` has received so far.
fn received(project: &Path, pid: u32) -> String {
    String::from_utf8_lossy(
        &std::fs::read(project.join(format!("bob-{pid}.bin"))).unwrap_or_default(),
    )
    .into_owned()
}

/// Waits until the recorder with `pid` has received `needle` followed by
/// the Enter that submits it (typed without bracketed paste, a message is
/// its text and then CR).
fn wait_submitted(project: &Path, pid: u32, needle: &str) -> String {
    poll(
        &format!("bob ({pid}) to receive {needle:?} and its Enter"),
        TIMEOUT,
        || {
            let got = received(project, pid);
            got.contains(&format!("{needle}\r")).then_some(got)
        },
        || format!("it got {:?}", received(project, pid)),
    )
}

/// The messages the tests send, each with a word no other one contains.
const DELIVERED: &str = "DELIVERED-ONE before the kill";
const UNCERTAIN: &str = "UNCERTAIN-TWO as sent";
const UNCERTAIN_EDITED: &str = "UNCERTAIN-TWO as the human edited it";
const PENDING: &str = "PENDING-THREE waits";
const EDITING: &str = "EDITING-FOUR as sent";
const EDITOR_CHANGE: &str = "CHANGED-IN-EDITOR";
const PROBE: &str = "FRESH-SIX after the resume";

fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Kills loop-tui outright and waits until it and its panes are gone.
fn kill_loop(lt: &Loop) {
    lt.signal(Signal::SIGKILL);
    assert!(lt.wait_exit(TIMEOUT).is_some(), "loop-tui survived SIGKILL");
    if let Err(left) = wait_no_processes_with(lt.marker(), TIMEOUT) {
        panic!("panes outlived the killed loop-tui: {left:?}");
    }
}

/// The ids the messages above get, in the order they are sent; #5 is
/// loop-tui's notice to alice that her #2 was edited.
const DELIVERED_ID: u64 = 1;
const UNCERTAIN_ID: u64 = 2;
const PENDING_ID: u64 = 3;
const EDITING_ID: u64 = 4;
const PROBE_ID: u64 = 6;

/// Quits loop-tui with the prefix key and q, as a user does.
fn quit(lt: &Loop) {
    lt.prefix("q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send_str("y");
    assert!(lt.expect_exit().success());
}

/// The run the loop-tui-killing test starts again and again: alice sends,
/// bob records, in the project directory.
struct Killed {
    dirs: Dirs,
    env_file: PathBuf,
}

impl Killed {
    fn new(tag: &str) -> Self {
        let dirs = Dirs::new(tag);
        let env_file = dirs.project.join("alice.env");
        Self { dirs, env_file }
    }

    /// loop-tui with `args`, once alice dumped the bridge environment and
    /// bob (its `n`th start) said hello; returns bob's pid too.
    fn start(&self, args: &[&str], n: usize) -> (Loop, BridgeEnv, u32) {
        let _ = std::fs::remove_file(&self.env_file);
        let lt = self.dirs.start(args);
        let bridge_env = BridgeEnv::read(&self.env_file);
        let bob = recorder_start(&self.dirs.project, n);
        bridge_env.hello("bob");
        (lt, bridge_env, bob)
    }

    fn received(&self, pid: u32) -> String {
        received(&self.dirs.project, pid)
    }
}

#[test]
fn killed_while_editing_and_while_typing_no_message_is_lost_or_typed_twice() {
    let run = Killed::new("faults-kill-loop");
    let (id, dir) = killed_while_editing(&run);
    killed_while_typing(&run, &id, &dir);
    the_human_decides_what_was_uncertain(&run, &id, &dir);
    assert_log_tells_the_story(&run.dirs, &id, &dir);
}

/// The first loop-tui: one message delivered, three pending, and the last
/// one open in the editor, changed but not saved, when it is killed.
fn killed_while_editing(run: &Killed) -> (String, PathBuf) {
    // alice prints a dot a second: always busy, so the notices loop-tui
    // sends her (the edit below) wait and take no part in the timing.
    let alice = "alice:env > alice.env; while :; do printf .; sleep 1; done";
    let bob = format!("bob:{RECORDER}");
    let (lt, bridge_env, bob1) = run.start(&["--pane", alice, "--pane", &bob], 1);
    let (id, dir) = run.dirs.only_run();
    let sent = [DELIVERED, UNCERTAIN, PENDING, EDITING].map(|m| {
        let id = bridge_env.send("alice", "bob", m);
        if id == DELIVERED_ID {
            lt.prefix("a");
            wait_submitted(&run.dirs.project, bob1, DELIVERED);
            wait_record(&dir, "delivered", DELIVERED_ID);
        }
        id
    });
    assert_eq!(sent, [DELIVERED_ID, UNCERTAIN_ID, PENDING_ID, EDITING_ID]);
    wait(&lt, "three messages pending", |s| {
        header(s, DELIVERED_ID).ends_with("delivered")
            && [UNCERTAIN_ID, PENDING_ID, EDITING_ID]
                .iter()
                .all(|&n| header(s, n).ends_with("pending"))
    });
    lt.prefix("b");
    // The selection starts on a pending message; j walks to the newest.
    lt.send_str("jjjj");
    lt.send_str("e");
    wait(&lt, "the editor on the newest message", |s| {
        s.text()
            .contains(&format!("Edit #{EDITING_ID} alice → bob"))
            && s.text().contains(EDITING)
    });
    lt.send_str(&format!(" {EDITOR_CHANGE}"));
    wait(&lt, "the change typed into the editor", |s| {
        s.text().contains(EDITOR_CHANGE)
    });
    kill_loop(&lt);
    assert!(
        !journal_text(&dir).contains(EDITOR_CHANGE),
        "an edit the human never saved was journalled:\n{}",
        journal_text(&dir)
    );
    assert_eq!(count_records(&journal(&dir), "delivered", DELIVERED_ID), 1);
    let got = run.received(bob1);
    assert_eq!(occurrences(&got, DELIVERED), 1, "{got:?}");
    (id, dir)
}

/// The second loop-tui: everything comes back; then the human edits #2
/// and saves, and loop-tui is killed while typing the edit into bob.
fn killed_while_typing(run: &Killed, id: &str, dir: &Path) {
    let (lt, _presence, bob2) = run.start(&["--run-id", id], 2);
    wait(&lt, "the resumed run with its messages", |s| {
        status_bar(s).contains(&format!("resumed run {id}: 4 messages, 3 pending"))
            && header(s, DELIVERED_ID).ends_with("delivered")
            && [UNCERTAIN_ID, PENDING_ID, EDITING_ID]
                .iter()
                .all(|&n| header(s, n).ends_with("pending"))
    });
    let s = lt.screen();
    assert!(
        !status_bar(&s).contains("unreadable"),
        "the journal did not read cleanly: {}",
        status_bar(&s)
    );
    assert!(
        bridge(&s).contains(EDITING) && !bridge(&s).contains(EDITOR_CHANGE),
        "the message being edited came back as sent:\n{}",
        s.text()
    );
    // The oldest pending one is #2.
    lt.prefix("e");
    wait(&lt, "the editor on #2", |s| {
        s.text()
            .contains(&format!("Edit #{UNCERTAIN_ID} alice → bob"))
            && s.text().contains(UNCERTAIN)
    });
    lt.send_str(CTRL_A);
    lt.send_str(CTRL_K);
    lt.send_str(UNCERTAIN_EDITED);
    wait(&lt, "the edit in the editor", |s| {
        s.text().contains(UNCERTAIN_EDITED)
    });
    lt.send_str(CTRL_S);
    // The paste is written right after this record and the Enter that
    // submits it follows 400 ms later (bob has no bracketed paste): kill
    // loop-tui in between.
    wait_record(dir, "delivery_started", UNCERTAIN_ID);
    lt.signal(Signal::SIGKILL);
    assert!(lt.wait_exit(TIMEOUT).is_some(), "loop-tui survived SIGKILL");
    assert_eq!(
        count_records(&journal(dir), "delivered", UNCERTAIN_ID),
        0,
        "the test missed the window between typing and Enter:\n{}",
        journal_text(dir)
    );
    if let Err(left) = wait_no_processes_with(lt.marker(), TIMEOUT) {
        panic!("panes outlived the killed loop-tui: {left:?}");
    }
    // bob has no bracketed paste, so the paste itself may have arrived
    // (its line break typed as CR) before the kill; the Enter that submits
    // it follows the whole text and must not have.
    let got = run.received(bob2);
    assert!(
        !got.contains(&format!("{UNCERTAIN_EDITED}\r")),
        "bob got the Enter after the message: {got:?}"
    );
}

/// The third loop-tui: #2 may or may not have reached bob, so only the
/// human can say; nothing is typed on its own, and then what the human
/// approves is typed once.
fn the_human_decides_what_was_uncertain(run: &Killed, id: &str, dir: &Path) {
    let (lt, bridge_env, bob3) = run.start(&["--run-id", id], 3);
    wait(&lt, "#2 uncertain after the resume", |s| {
        status_bar(s).contains(&format!(
            "resumed run {id}: 5 messages, 2 pending, 1 delivery uncertain"
        )) && header(s, UNCERTAIN_ID).contains("delivery uncertain")
            && header(s, PENDING_ID).ends_with("pending")
            && header(s, EDITING_ID).ends_with("pending")
    });
    assert!(
        !status_bar(&lt.screen()).contains("unreadable"),
        "{}",
        lt.screen_text()
    );
    // A new message approved now reaches bob; had anything older been
    // queued for bob again, it would have been typed before it.
    assert_eq!(bridge_env.send("alice", "bob", PROBE), PROBE_ID);
    lt.prefix("b");
    lt.send_str("jjjjjjjj");
    wait(&lt, "the new message selected", |s| {
        header(s, PROBE_ID).starts_with(&format!("▶ #{PROBE_ID} "))
    });
    lt.send_str("\r");
    let got = wait_submitted(&run.dirs.project, bob3, PROBE);
    for old in [DELIVERED, "UNCERTAIN-TWO", PENDING, EDITING] {
        assert!(
            !got.contains(old),
            "{old:?} was typed into bob without the human: {got:?}"
        );
    }
    // The human looks and decides: #2 once more (as edited), then the rest.
    lt.prefix("a");
    lt.prefix("a");
    lt.prefix("a");
    wait_submitted(&run.dirs.project, bob3, EDITING);
    wait(&lt, "every message delivered", |s| {
        [UNCERTAIN_ID, PENDING_ID, EDITING_ID, PROBE_ID]
            .iter()
            .all(|&n| header(s, n).ends_with("delivered"))
    });
    let got = run.received(bob3);
    for (text, times) in [
        (DELIVERED, 0),
        (UNCERTAIN, 0),
        (UNCERTAIN_EDITED, 1),
        (PENDING, 1),
        (EDITING, 1),
        (EDITOR_CHANGE, 0),
        (PROBE, 1),
    ] {
        assert_eq!(occurrences(&got, text), times, "{text:?} in {got:?}");
    }
    quit(&lt);
    // Over the three loop-tuis, each message was submitted to bob once.
    let records = journal(dir);
    for n in [DELIVERED_ID, UNCERTAIN_ID, PENDING_ID, EDITING_ID, PROBE_ID] {
        assert_eq!(count_records(&records, "delivered", n), 1, "#{n}");
    }
}

/// `loop-tui log` tells the story across both kills, in order.
fn assert_log_tells_the_story(dirs: &Dirs, id: &str, dir: &Path) {
    let log = dirs.stdout(&["log", id]);
    assert!(!log.contains("unreadable"), "{log}");
    let story = [
        "#1 alice → bob (waits for the human)".to_owned(),
        "#1 delivered to bob".to_owned(),
        "#4 alice → bob (waits for the human)".to_owned(),
        "run resumed".to_owned(),
        "the previous loop-tui of this run was killed".to_owned(),
        "#2 (alice → bob) edited by the human and approved; bob gets:".to_owned(),
        UNCERTAIN_EDITED.to_owned(),
        "#2 being typed into bob".to_owned(),
        "run resumed".to_owned(),
        "the previous loop-tui of this run was killed".to_owned(),
        "#2 (alice → bob) comes back as delivery uncertain: loop-tui stopped while typing it into bob".to_owned(),
        format!("#{PROBE_ID} delivered to bob"),
        "#2 (alice → bob) approved by the human".to_owned(),
        "#2 delivered to bob".to_owned(),
        "#4 delivered to bob".to_owned(),
        "run state: ended".to_owned(),
    ];
    let mut from = 0;
    for step in &story {
        match log[from..].find(step.as_str()) {
            Some(at) => from += at + step.len(),
            None => panic!("{step:?} missing or out of order in the log:\n{log}"),
        }
    }
    // The journal as written, every line whole.
    assert_eq!(journal(dir).len(), journal_text(dir).lines().count());
}

/// Sends `signal` to process `pid` (a pane's program, not loop-tui).
fn signal_pid(pid: u32, signal: Signal) {
    kill(Pid::from_raw(i32::try_from(pid).unwrap()), signal).expect("signal the pane's program");
}

/// bob "thinks" (prints) while the file `busy` exists, as an agent does
/// during a turn, then records its input like [`RECORDER`].
const THINKER: &str = "bob:echo $$ >> bob.pids; stty raw -echo; \
     while [ -e busy ]; do printf 'thinking\\r\\n'; sleep 0.3; done; exec cat > bob-$$.bin";

/// Types `text` into alice (`cat`): the terminal echoes the line, then cat
/// writes it back, so it shows twice while she runs.
fn alice_echoes(lt: &Loop, text: &str) {
    lt.prefix("1");
    lt.send_str(&format!("{text}\r"));
    wait(lt, &format!("alice echoing {text}"), |s| {
        occurrences(&first_pane(s), text) == 2
    });
    let s = lt.screen();
    assert!(
        border(&s, 0).contains(" working ") || border(&s, 0).contains(" waiting for you "),
        "{}",
        s.text()
    );
}

/// `r` with bob's pane focused starts bob again (its `n`th start); its
/// MCP client says hello. Returns the new bob's pid.
fn restart_bob(lt: &Loop, dirs: &Dirs, bridge_env: &BridgeEnv, n: usize) -> u32 {
    lt.prefix("2");
    lt.prefix("r");
    let pid = recorder_start(&dirs.project, n);
    bridge_env.hello("bob");
    pid
}

fn bob_border(s: &Screen) -> String {
    border(s, SECOND_LEFT)
}

#[test]
fn an_agent_killed_mid_turn_and_mid_delivery_gets_its_messages_after_r() {
    let dirs = Dirs::new("faults-kill-agent");
    std::fs::write(dirs.project.join("busy"), "").unwrap();
    let lt = dirs.start(&[
        "--pane",
        "alice:env > alice.env; exec cat",
        "--pane",
        THINKER,
    ]);
    let bridge_env = BridgeEnv::read(&dirs.project.join("alice.env"));
    let bob1 = recorder_start(&dirs.project, 1);
    bridge_env.hello("bob");
    let (_, run) = dirs.only_run();
    wait(&lt, "bob at work", |s| bob_border(s).contains(" working "));

    // Mid-turn: one message approved (it waits for bob to be idle), one
    // pending, when bob dies.
    let held = bridge_env.send("alice", "bob", "HELD-WHILE-BUSY for bob");
    let later = bridge_env.send("alice", "bob", "LATER-ONE for bob");
    lt.prefix("a");
    wait(&lt, "the approved message waiting for bob", |s| {
        header(s, held).contains("approved · waits for bob to be idle")
    });
    signal_pid(bob1, Signal::SIGKILL);
    wait(&lt, "bob's pane saying how it ended", |s| {
        bob_border(s).contains(" killed by SIGKILL ")
    });
    let s = lt.screen();
    assert!(
        s.region(1, SECOND_LEFT + 1, 31, 78).contains("thinking"),
        "bob's last screen is kept:\n{}",
        s.text()
    );
    assert!(
        header(&s, held).contains("approved") && header(&s, later).ends_with("pending"),
        "bob's messages wait for it:\n{}",
        s.text()
    );
    let records = journal(&run);
    assert_eq!(count_records(&records, "delivery_started", held), 0);
    assert_eq!(count_records(&records, "delivered", held), 0);
    alice_echoes(&lt, "alice-still-here-1");

    // The new bob is done thinking; the held message goes to it.
    std::fs::remove_file(dirs.project.join("busy")).unwrap();
    let bob2 = restart_bob(&lt, &dirs, &bridge_env, 2);
    wait_submitted(&dirs.project, bob2, "HELD-WHILE-BUSY for bob");
    wait(&lt, "the held message delivered", |s| {
        header(s, held).ends_with("delivered") && header(s, later).ends_with("pending")
    });

    // Mid-delivery: bob dies between the paste and its Enter (400 ms
    // apart, as bob has no bracketed paste).
    lt.prefix("a");
    wait_record(&run, "delivery_started", later);
    signal_pid(bob2, Signal::SIGKILL);
    wait(&lt, "bob's pane saying how it ended again", |s| {
        bob_border(s).contains(" killed by SIGKILL ")
    });
    let s = lt.screen();
    assert!(
        header(&s, later).contains("approved"),
        "a message typed into an agent that died before its Enter is not delivered:\n{}",
        s.text()
    );
    alice_echoes(&lt, "alice-still-here-2");
    let bob3 = restart_bob(&lt, &dirs, &bridge_env, 3);
    let got = wait_submitted(&dirs.project, bob3, "LATER-ONE for bob");
    wait(&lt, "the message delivered to the new bob", |s| {
        header(s, later).ends_with("delivered")
    });
    assert_eq!(occurrences(&got, "LATER-ONE"), 1, "{got:?}");
    assert!(!got.contains("HELD-WHILE-BUSY"), "{got:?}");
    let got2 = received(&dirs.project, bob2);
    assert_eq!(
        occurrences(&got2, "HELD-WHILE-BUSY for bob\r"),
        1,
        "{got2:?}"
    );
    assert!(
        !got2.contains("LATER-ONE for bob\r"),
        "the dead bob got an Enter after it died: {got2:?}"
    );
    let records = journal(&run);
    assert_eq!(count_records(&records, "delivered", held), 1);
    assert_eq!(count_records(&records, "delivered", later), 1);
    quit(&lt);
}

/// A bob that reads its input byte by byte up to the Enter that submits
/// "... for bob", keeps what it read in `bob-got.txt` and exits 3 at once,
/// as an agent that crashes the moment a prompt is submitted would. (The
/// message's own line breaks arrive as CR too, so the Enter is the CR
/// after its last words.)
const LAST_WORDS: &str = "bob:echo $$ >> bob.pids; stty raw -echo; cr=$(printf '\\r'); acc=; \
     while :; do c=$(dd bs=1 count=1 2>/dev/null); acc=\"$acc$c\"; \
     case \"$acc\" in *\"for bob$cr\") break;; esac; done; \
     printf %s \"$acc\" > bob-got.txt; exit 3";

#[test]
fn an_agent_that_dies_as_its_enter_arrives_gets_the_message_back_as_uncertain() {
    let dirs = Dirs::new("faults-last-words");
    let lt = dirs.start(&[
        "--pane",
        "alice:env > alice.env; exec cat",
        "--pane",
        LAST_WORDS,
    ]);
    let bridge_env = BridgeEnv::read(&dirs.project.join("alice.env"));
    recorder_start(&dirs.project, 1);
    bridge_env.hello("bob");
    let (_, run) = dirs.only_run();
    let id = bridge_env.send("alice", "bob", "LAST-WORDS for bob");
    lt.prefix("a");
    wait(&lt, "bob's pane saying how it ended", |s| {
        bob_border(s).contains(" exited 3 ")
    });
    wait(&lt, "the message back with the human", |s| {
        header(s, id).contains("delivery uncertain: bob ended right after")
    });
    let s = lt.screen();
    assert!(
        status_bar(&s).contains(&format!("#{id} may not have reached bob")),
        "the status bar says why:\n{}",
        s.text()
    );
    assert!(
        bridge(&s).contains("bridge 0 pending 1 uncertain manual"),
        "the bridge counts it as waiting for the human:\n{}",
        s.text()
    );
    let got = std::fs::read_to_string(dirs.project.join("bob-got.txt")).unwrap();
    assert!(got.contains("LAST-WORDS for bob"), "{got:?}");
    wait_record(&run, "delivery_doubted", id);
    let records = journal(&run);
    assert_eq!(count_records(&records, "delivered", id), 1);
    // The human decides: rejecting it ends it; nothing is typed again.
    lt.prefix("x");
    lt.send_str("\r");
    wait(&lt, "the uncertain message rejected", |s| {
        header(s, id).contains("rejected")
    });
    quit(&lt);
}

/// Every model request gets a plain answer, except the one the tests
/// use to catch claude in the middle of a turn, which never comes in time.
const SCENARIO: &str = r#"{"rules": [
  {"agent": "claude", "match": "SLOW-TURN", "text": "finally", "delay_s": 120}
 ], "default_text": "Noted."}"#;

/// The real agent CLIs offline: the fake model and the environment that
/// points the wrappers at it.
struct Agents {
    dirs: Dirs,
    model: agents::FakeModel,
    env: Vec<(&'static str, OsString)>,
}

impl Agents {
    fn new(tag: &str, clis: &[&str]) -> Option<Self> {
        let (offline, bin) = agents::agents_available(clis)?;
        let dirs = Dirs::new(tag);
        let root = dirs.project.parent().unwrap().to_owned();
        let model = agents::FakeModel::start(&offline, &root, SCENARIO);
        let agent_state = root.join("agent-state");
        let env = vec![
            ("PATH", agents::wrapper_path(&offline, &bin, &root)),
            ("FAKE_LLM_URL", OsString::from(&model.url)),
            ("AGENT_STATE", agent_state.clone().into_os_string()),
            (
                "CLAUDE_CONFIG_DIR",
                agent_state.join("claude-config").into_os_string(),
            ),
            (
                "CODEX_HOME",
                agent_state.join("codex-home").into_os_string(),
            ),
        ];
        Some(Self { dirs, model, env })
    }

    /// loop-tui with `args`, once every agent pane's border shows its
    /// bridge connected and `ready` holds for the screen.
    fn start(&self, args: &[&str], agents: usize, ready: impl Fn(&str) -> bool) -> Loop {
        let env: Vec<(&str, &OsStr)> = self.env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        let lt = self.dirs.start_env(args, &env);
        lt.wait_for(
            |s| {
                ready(s)
                    && s.lines()
                        .next()
                        .is_some_and(|top| top.matches("bridge✓").count() == agents)
            },
            agents::AGENT_TIMEOUT,
        )
        .expect("the agents reach their prompts with the bridge connected");
        lt
    }
}

/// The live processes of run `id`: those with `LOOP_TUI_RUN_ID=id` in
/// their environment (every agent and every `mcp-bridge` it starts: codex
/// passes its MCP servers only the variables it is told to, and that is
/// one), those carrying the harness's marker, and those whose command line
/// names the run's directory. Zombies are dead already and not listed.
fn run_processes(marker: &str, id: &str, run_dir: &Path) -> Vec<(u32, u32, String)> {
    let run_dir = run_dir.display().to_string();
    support::live_processes()
        .into_iter()
        .filter(|p| {
            p.has_env("LOOP_TUI_RUN_ID", id)
                || p.has_env(support::MARKER_VAR, marker)
                || p.cmdline_contains(&run_dir)
        })
        .map(|p| (p.pid, p.ppid, p.command()))
        .collect()
}

/// Asserts that the raw output ends with the terminal restored (as in
/// tests/e2e.rs): the alternate screen left, mouse reporting and bracketed
/// paste off, the cursor shown and not hidden again.
fn assert_terminal_restored(raw: &[u8]) {
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(600)..])
        .escape_debug()
        .to_string();
    let entered = rfind(raw, b"\x1b[?1049h").expect("loop-tui entered the alternate screen");
    for (seq, what) in [
        (&b"\x1b[?1049l"[..], "leave the alternate screen"),
        (b"\x1b[?2004l", "disable bracketed paste"),
        (b"\x1b[?1000l", "disable mouse reporting"),
        (b"\x1b[?25h", "show the cursor"),
    ] {
        assert!(
            find_from(raw, seq, entered).is_some(),
            "loop-tui did not {what} on exit; output tail: {tail}"
        );
    }
    assert!(
        rfind(raw, b"\x1b[?25h") > rfind(raw, b"\x1b[?25l"),
        "the cursor was hidden again; output tail: {tail}"
    );
    assert!(
        !String::from_utf8_lossy(raw).contains("panicked"),
        "loop-tui panicked: {tail}"
    );
}

/// claude and codex both at their prompts.
fn pair_ready(s: &str) -> bool {
    s.contains("? for shortcuts") && s.contains("gpt-fake")
}

#[test]
fn a_signal_to_loop_tui_ends_claude_codex_and_their_bridges() {
    for signal in [Signal::SIGTERM, Signal::SIGHUP, Signal::SIGINT] {
        let Some(agents) = Agents::new(&format!("faults-signal-{signal}"), &["claude", "codex"])
        else {
            return;
        };
        let lt = agents.start(&[], 2, pair_ready);
        let (id, run) = agents.dirs.only_run();
        let before = run_processes(lt.marker(), &id, &run);
        let bridges = before
            .iter()
            .filter(|(_, _, cmd)| cmd.contains(" mcp-bridge"))
            .count();
        // The scan sees what it must see gone: both CLIs and both bridges.
        assert!(
            bridges == 2
                && before.iter().any(|(_, ppid, _)| *ppid == lt.pid())
                && before.iter().any(|(_, _, cmd)| cmd.contains("codex")),
            "{signal}: the run's processes: {before:#?}"
        );
        lt.signal(signal);
        let status = lt
            .wait_exit(Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{signal}: loop-tui did not exit:\n{}", lt.screen_text()));
        assert!(status.success(), "{signal}: {status:?}");
        assert_terminal_restored(&lt.raw_output());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = run_processes(lt.marker(), &id, &run);
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{signal}: processes of the run outlived loop-tui: {left:#?}\nbefore: {before:#?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let records = journal(&run);
        let last = records.last().unwrap();
        assert!(
            last["record"] == "state_changed" && last["state"] == "ended",
            "{signal}: the journal does not end with the run's end: {last}"
        );
    }
}

/// Types a prompt into the focused agent like a person: Enter after a pause.
fn ask(lt: &Loop, prompt: &str) {
    lt.send_str(prompt);
    std::thread::sleep(Duration::from_millis(500));
    lt.send(b"\r");
}

/// The run's manifest.
fn manifest(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap()
}

/// The pid of the process of `processes` whose parent is `parent` and
/// whose command line contains `needle`.
fn child_with(processes: &[(u32, u32, String)], parent: u32, needle: &str) -> u32 {
    processes
        .iter()
        .find(|(_, ppid, cmd)| *ppid == parent && cmd.contains(needle))
        .unwrap_or_else(|| panic!("no child of {parent} with {needle:?} among {processes:#?}"))
        .0
}

/// The body of the model request whose input contains `needle`.
fn request_body(model: &agents::FakeModel, needle: &str) -> String {
    model.wait_for_any_input(needle);
    std::fs::read_to_string(&model.log)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|v| v["input"].as_str().is_some_and(|i| i.contains(needle)))
        .map(|v| v["body"].to_string())
        .unwrap()
}

#[test]
fn claude_killed_mid_turn_comes_back_with_r_resuming_its_conversation() {
    let Some(agents) = Agents::new("faults-kill-claude", &["claude"]) else {
        return;
    };
    // claude's peer is a plain program, so only one agent CLI starts.
    let config = agents.dirs.project.parent().unwrap().join("loop-tui.toml");
    std::fs::write(
        &config,
        "[agents.peer]\nprofile = \"custom\"\ncommand = \"exec cat\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let args = [
        "--config",
        &config,
        "--agent",
        "claude",
        "--reviewer",
        "peer",
    ];
    let lt = agents.start(&args, 1, |s| s.contains("? for shortcuts"));
    let (id, run) = agents.dirs.only_run();
    let processes = || run_processes(lt.marker(), &id, &run);
    let session = manifest(&run)["agents"][0]["session"]
        .as_str()
        .expect("claude's session id is recorded at its start")
        .to_owned();
    ask(&lt, "FIRST-CLAUDE-5150 remember this");
    agents.model.wait_for_input("claude", "FIRST-CLAUDE-5150");
    lt.wait_for(|s| s.contains("Noted."), agents::AGENT_TIMEOUT)
        .expect("claude's first turn ends");
    // The model never answers this one in time: claude is mid-turn.
    ask(&lt, "SLOW-TURN please think");
    agents.model.wait_for_input("claude", "SLOW-TURN");
    wait(&lt, "claude at work", |s| {
        border(s, 0).contains(" working ")
    });

    let claude = child_with(&processes(), lt.pid(), &format!("--session-id {session}"));
    let bridge = child_with(&processes(), claude, " mcp-bridge");
    signal_pid(claude, Signal::SIGKILL);
    wait(&lt, "claude's pane saying how it ended", |s| {
        border(s, 0).contains(" killed by SIGKILL ")
    });
    // What claude started goes with it: its MCP bridge has no client left.
    poll(
        "claude's mcp-bridge to end with claude",
        TIMEOUT,
        || (!processes().iter().any(|(pid, _, _)| *pid == bridge)).then_some(()),
        || format!("{:#?}", processes()),
    );
    child_with(&processes(), lt.pid(), "cat");

    lt.prefix("r");
    lt.wait_for_screen(
        |s| border(s, 0).contains("bridge✓") && s.text().contains("? for shortcuts"),
        agents::AGENT_TIMEOUT,
    )
    .expect("claude restarts with its bridge");
    child_with(&processes(), lt.pid(), &format!("--resume {session}"));
    ask(&lt, "AFTER-RESTART-7 what did I say first?");
    let body = request_body(&agents.model, "AFTER-RESTART-7");
    assert!(
        body.contains("FIRST-CLAUDE-5150"),
        "the restarted claude's request lacks the earlier conversation: {body}"
    );
    quit(&lt);
    poll(
        "no process of the run left",
        TIMEOUT,
        || processes().is_empty().then_some(()),
        || format!("{:#?}", processes()),
    );
}
