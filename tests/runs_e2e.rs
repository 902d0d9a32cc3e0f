//! Persistent runs, end to end: the real `loop-tui demo` is killed in the
//! middle of a run, `loop-tui --run-id ID` alone brings the run back (the
//! demo agents from its manifest, its messages from its journal), and
//! `loop-tui runs` / `loop-tui log ID` show what the user would look for.
//! Every run's files go to a test directory through `XDG_STATE_HOME`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use nix::sys::signal::Signal;
use support::{wait_no_processes_with, Loop, Screen, TempDir, TIMEOUT};

const ROWS: u16 = 48;
const COLS: u16 = 160;

/// The task the worker gets, what it sends the reviewer, and the review.
const TASK: &str = "add a --verbose flag";
const REQUEST: &str = "Please review: add a --verbose flag. I changed the code for it and added a unit test; does it handle the edge cases?";
const REVIEW: &str = "Review of #1: the new code path has no test for empty input; please add one. Verdict: approve once that test is in.";

// The layout at 48x160 (see tests/bridge_e2e.rs): the bridge pane's title
// is row 33, in columns 0..80 beside the plan pane; the worker fills
// columns 0..80 above it, the reviewer 80..160.
const BRIDGE_TOP: usize = 33;
const BRIDGE_COLS: usize = 80;

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn worker(s: &Screen) -> String {
    flat(&s.region(1, 1, 31, 78))
}

fn reviewer(s: &Screen) -> String {
    flat(&s.region(1, 81, 31, 78))
}

/// The bridge pane's title and text without the side borders, so that a
/// message wrapped onto several rows reads as one phrase.
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

/// A test's directories: the project the agents work in, and the state
/// directory (`XDG_STATE_HOME`) that keeps the runs.
struct Dirs {
    _root: TempDir,
    project: PathBuf,
    state: PathBuf,
    elsewhere: PathBuf,
}

impl Dirs {
    fn new(tag: &str) -> Self {
        let root = TempDir::new(tag);
        let project = root.path().join("my-project");
        let state = root.path().join("state");
        let elsewhere = root.path().join("elsewhere");
        for dir in [&project, &state, &elsewhere] {
            std::fs::create_dir_all(dir).unwrap();
        }
        Self {
            _root: root,
            project,
            state,
            elsewhere,
        }
    }

    /// loop-tui in a terminal, in `cwd`.
    fn start(&self, args: &[&str], cwd: &Path) -> Loop {
        Loop::start_with(
            args,
            ROWS,
            COLS,
            cwd,
            &[("XDG_STATE_HOME", self.state.as_os_str())],
        )
    }

    /// loop-tui without a terminal (`runs`, `log`), in the state's parent.
    fn command(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_loop-tui"))
            .args(args)
            .current_dir(&self.elsewhere)
            .env("XDG_STATE_HOME", &self.state)
            .output()
            .expect("run loop-tui")
    }

    /// `loop-tui ARGS`, which must succeed; its standard output.
    fn stdout(&self, args: &[&str]) -> String {
        let out = self.command(args);
        assert!(
            out.status.success(),
            "loop-tui {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The only run: its id and directory (`runs/<repo>/<id>`).
    fn only_run(&self) -> (String, PathBuf) {
        let runs = self.state.join("loop-tui/runs");
        let repos: Vec<PathBuf> = std::fs::read_dir(&runs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(
            repos,
            [runs.join("my-project")],
            "runs are filed under the project's name"
        );
        let dirs: Vec<PathBuf> = std::fs::read_dir(&repos[0])
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(dirs.len(), 1, "one run: {dirs:?}");
        let id = dirs[0].file_name().unwrap().to_string_lossy().into_owned();
        (id, dirs[0].clone())
    }
}

fn wait(lt: &Loop, what: &str, cond: impl Fn(&Screen) -> bool) {
    if let Err(e) = lt.wait_for_screen(cond, TIMEOUT) {
        panic!("waiting for {what}: {e}");
    }
}

fn wait_for_demo_agents(lt: &Loop) {
    wait(lt, "both demo agents", |s| {
        worker(s).contains("type a task, e.g. `add a --verbose flag`")
            && reviewer(s).contains("I review what worker sends me")
    });
}

/// The line of `table` that starts with `id`.
fn row_of<'a>(table: &'a str, id: &str) -> &'a str {
    table
        .lines()
        .find(|line| line.starts_with(id))
        .unwrap_or_else(|| panic!("no row for {id} in:\n{table}"))
}

#[test]
fn a_killed_run_comes_back_with_its_agents_history_and_pending_message() {
    let dirs = Dirs::new("runs-resume");
    let lt = dirs.start(&["demo"], &dirs.project);
    wait_for_demo_agents(&lt);
    lt.send_str(TASK);
    lt.send_str("\r");
    wait(&lt, "the review request pending as #1", |s| {
        header(s, 1).contains("worker → reviewer") && header(s, 1).ends_with("pending")
    });
    lt.prefix("a");
    wait(&lt, "#1 delivered and the review pending as #2", |s| {
        header(s, 1).ends_with("delivered")
            && header(s, 2).contains("reviewer → worker")
            && header(s, 2).ends_with("pending")
            && bridge(s).contains(REVIEW)
    });

    // Killed outright: no chance to end the agents or write anything more.
    lt.signal(Signal::SIGKILL);
    assert!(lt.wait_exit(TIMEOUT).is_some(), "loop-tui survived SIGKILL");
    // Its PTYs closed with it, which hangs up on the agents.
    if let Err(left) = wait_no_processes_with(lt.marker(), TIMEOUT) {
        panic!("agents outlived the killed loop-tui: {left:?}");
    }
    let (id, dir) = dirs.only_run();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["state"], "running", "{manifest:#}");
    assert_eq!(
        Path::new(manifest["cwd"].as_str().unwrap()),
        dirs.project.canonicalize().unwrap()
    );
    let table = dirs.stdout(&["runs"]);
    let row = flat(row_of(&table, &id));
    assert!(
        row.starts_with(&format!(
            "{id} my-project interrupted {}",
            &id[..4] // the year the run started
        )),
        "{table}"
    );
    assert!(
        row.ends_with("worker (demo), reviewer (demo) 2 1"),
        "2 messages, 1 pending:\n{table}"
    );

    // `--run-id` alone, from another directory: the manifest says which
    // agents to start and where.
    let lt = dirs.start(&["--run-id", &id], &dirs.elsewhere);
    wait_for_demo_agents(&lt);
    wait(&lt, "the history and the pending message", |s| {
        header(s, 1).contains("worker → reviewer")
            && header(s, 1).ends_with("delivered")
            && header(s, 2).contains("reviewer → worker")
            && header(s, 2).ends_with("pending")
            && bridge(s).contains(REQUEST)
            && bridge(s).contains(REVIEW)
    });
    let s = lt.screen();
    assert!(
        status_bar(&s).contains(&format!("resumed run {id}: 2 messages, 1 pending")),
        "{}",
        s.text()
    );
    assert!(
        !worker(&s).contains("message #2"),
        "the pending review reached the worker without approval:\n{}",
        s.text()
    );
    // Pending again means live again: approving it reaches the new worker.
    lt.prefix("a");
    wait(&lt, "the review delivered to the worker", |s| {
        worker(s).contains(&format!("◀ message #2 from reviewer: {REVIEW}"))
            && header(s, 2).ends_with("delivered")
    });
    lt.prefix("q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send_str("y");
    assert!(lt.expect_exit().success());

    let table = dirs.stdout(&["runs"]);
    assert!(
        flat(row_of(&table, &id)).contains(" my-project ended "),
        "{table}"
    );
    assert!(
        flat(row_of(&table, &id)).ends_with(" 2 0"),
        "2 messages, none pending:\n{table}"
    );

    assert_log_tells_the_whole_story(&dirs, &id, &dir);
}

/// `loop-tui log` of the run `a_killed_run_comes_back_...` left, in all
/// three formats.
fn assert_log_tells_the_whole_story(dirs: &Dirs, id: &str, dir: &Path) {
    // The log tells the whole story in order, across the kill.
    let log = dirs.stdout(&["log", id]);
    let expected = [
        "run started in ".to_owned(),
        "#1 worker → reviewer (waits for the human)".to_owned(),
        REQUEST.to_owned(),
        "#1 (worker → reviewer) approved by the human".to_owned(),
        "#1 delivered to reviewer".to_owned(),
        "#2 reviewer → worker (waits for the human)".to_owned(),
        REVIEW.to_owned(),
        "run resumed".to_owned(),
        "the previous loop-tui of this run was killed".to_owned(),
        "worker starts again (a demo agent keeps no session)".to_owned(),
        "#2 (reviewer → worker) approved by the human".to_owned(),
        "#2 delivered to worker".to_owned(),
        "run state: ended".to_owned(),
    ];
    let mut from = 0;
    for step in &expected {
        match log[from..].find(step.as_str()) {
            Some(at) => from += at + step.len(),
            None => panic!("{step:?} missing or out of order in the log:\n{log}"),
        }
    }
    assert!(log.starts_with(&format!("run {id}\n")), "{log}");
    assert!(log.contains("  state      ended\n"), "{log}");
    assert!(log.contains("  messages   2, 0 pending\n"), "{log}");

    let markdown = dirs.stdout(&["log", id, "--format", "markdown"]);
    assert!(
        markdown.starts_with(&format!("# loop-tui run `{id}`\n")),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("\n  > {REQUEST}\n")),
        "the request is quoted:\n{markdown}"
    );
    assert!(markdown.contains("\\#2 delivered to worker"), "{markdown}");

    let jsonl = dirs.stdout(&["log", id, "--format", "jsonl"]);
    let kinds: Vec<String> = jsonl
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["record"].as_str().unwrap().to_owned()
        })
        .collect();
    for kind in [
        "run_started",
        "sent",
        "approved",
        "delivered",
        "run_resumed",
        "state_changed",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} missing: {kinds:?}");
    }
    assert_eq!(
        jsonl,
        std::fs::read_to_string(dir.join("journal.jsonl")).unwrap(),
        "the export is the journal as written"
    );
}

#[test]
fn an_unknown_run_id_is_one_line_that_says_how_to_find_ids() {
    let dirs = Dirs::new("runs-unknown");
    let out = dirs.command(&["--run-id", "20200101-000000-dead"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("loop-tui: error: no run with id \"20200101-000000-dead\""),
        "{err}"
    );
    assert!(err.contains("`loop-tui runs` lists the runs"), "{err}");
    let out = dirs.command(&["log", "20200101-000000-dead"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`loop-tui runs` lists the runs"),
        "{out:?}"
    );
    assert!(
        dirs.stdout(&["runs"])
            .starts_with("No runs yet: start one with `loop-tui`"),
        "an empty list says so"
    );
}

#[test]
fn a_run_open_elsewhere_or_with_other_agents_is_not_resumed() {
    let dirs = Dirs::new("runs-refused");
    let first = dirs.start(&["demo"], &dirs.project);
    wait_for_demo_agents(&first);
    let (id, _) = dirs.only_run();

    // Two loop-tuis on one journal would each replay and append to it.
    let second = dirs.start(&["--run-id", &id], &dirs.project);
    second.wait_for_text(&format!("run {id} is open in another loop-tui"));
    assert!(!second.expect_exit().success());
    assert!(
        dirs.stdout(&["runs"]).contains(" running "),
        "the live run is listed as running"
    );

    first.prefix("q");
    first.wait_for_text("Quit loop-tui?");
    first.send_str("y");
    assert!(first.expect_exit().success());

    // Other agents than the run's own are refused, not silently ignored.
    let out = dirs.command(&["--run-id", &id, "--agent", "codex"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("resumes the run's own agents (worker (worker, demo), reviewer (reviewer, demo)); leave out --agent"),
        "{err}"
    );
    assert!(
        dirs.stdout(&["runs"]).contains(" ended "),
        "a run quit normally has ended"
    );
}

/// Waits until `path` exists and `cond` holds for its text.
fn wait_file(path: &Path, what: &str, cond: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if cond(&text) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waiting for {what} in {}: {text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_run_of_commands_is_resumed_with_its_commands_in_its_directory() {
    let dirs = Dirs::new("runs-commands");
    let first_pwd = dirs.project.join("first.pwd");
    let a = "a:pwd > first.pwd; exec cat";
    let lt = dirs.start(&["--pane", a, "--pane", "b:exec cat"], &dirs.project);
    wait_file(&first_pwd, "the first pwd", |t| !t.is_empty());
    lt.prefix("q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send_str("y");
    assert!(lt.expect_exit().success());
    std::fs::remove_file(&first_pwd).unwrap();
    let (id, _) = dirs.only_run();

    let lt = dirs.start(&["--run-id", &id], &dirs.elsewhere);
    let pwd = wait_file(&first_pwd, "the resumed command's pwd", |t| !t.is_empty());
    assert_eq!(
        Path::new(pwd.trim()),
        dirs.project.canonicalize().unwrap(),
        "the command runs in the run's directory again"
    );
    wait(&lt, "the resume notice", |s| {
        status_bar(s).contains(&format!("resumed run {id}"))
            && status_bar(s).contains("a: command started again")
    });
    drop(lt);
}

#[test]
fn a_worker_that_says_done_leaves_the_run_awaiting_review_across_a_resume() {
    let dirs = Dirs::new("runs-done");
    let worker = "w:printf '<promise>DONE</promise>\\n'; exec cat";
    let lt = dirs.start(&["--pane", worker, "--pane", "r:exec cat"], &dirs.project);
    wait(&lt, "the review request pending", |s| {
        s.text().contains("done — awaiting review") && header(s, 1).contains("loop-tui → r")
    });
    let (id, dir) = dirs.only_run();
    wait_file(&dir.join("manifest.json"), "the state", |t| {
        t.contains("\"state\": \"done-awaiting-review\"")
    });
    lt.prefix("q");
    lt.wait_for_text("Quit loop-tui?");
    lt.send_str("y");
    assert!(lt.expect_exit().success());
    // Quitting does not hide that the run waits for its final review.
    let table = dirs.stdout(&["runs"]);
    assert!(
        flat(row_of(&table, &id)).contains(" done-awaiting-review "),
        "{table}"
    );

    let lt = dirs.start(&["--run-id", &id], &dirs.elsewhere);
    wait(&lt, "the run still awaiting review", |s| {
        s.text().contains("done — awaiting review")
            && header(s, 1).contains("loop-tui → r")
            && header(s, 1).ends_with("pending")
    });
    // The worker prints its signal again, but it is the same review: once
    // its pane has gone from working to quiet, which is when loop-tui looks
    // for the signal, there is still no second request.
    let worker_title = |s: &Screen| s.region(0, 0, 1, usize::from(COLS) / 2);
    wait(&lt, "the worker at work", |s| {
        worker_title(s).contains(" working ")
    });
    wait(&lt, "the worker quiet", |s| {
        worker_title(s).contains(" waiting for you ")
    });
    let s = lt.screen();
    assert!(header(&s, 2).is_empty(), "{}", s.text());
    drop(lt);
    let log = dirs.stdout(&["log", &id]);
    assert!(log.contains("run state: done-awaiting-review"), "{log}");
    assert!(
        log.contains("#1 loop-tui → r (from loop-tui, waits for the human)"),
        "{log}"
    );
}
