//! Faults around the bridge, on the real binary: an agent's bridge process
//! that dies or is restarted, a bridge socket that disappears, a journal
//! that cannot be written (a full disk, played by a file size limit), and a
//! run directory that cannot be made.
//!
//! The agents here are shell scripts in `--pane` panes. The one that talks
//! MCP runs the real `loop-tui mcp-bridge` with the pane's terminal as its
//! stdin, so the test types the JSON-RPC lines an agent CLI would send into
//! the pane, and reads the bridge's answers from the file its stdout goes
//! to. Every assertion is about what the human sees on the outer terminal,
//! what an agent was told, or what reached the other agent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use loop_tui::bridge::client::BridgeClient;
use loop_tui::bridge::listener::{BridgeListener, ListenerEvent};
use loop_tui::bridge::protocol::{
    BridgeCall, BridgeReply, ENV_AGENT, ENV_MAX_MESSAGE, ENV_RUN_ID, ENV_SOCKET, ENV_TOKEN,
};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};
use support::{processes_with, Loop, Screen, TempDir, TIMEOUT};

const ROWS: u16 = 48;
const COLS: u16 = 160;

// Layout at 48x160 with two agents (as in tests/bridge_e2e.rs): the agents
// share rows 0..33, the first in columns 0..80 with its border title on
// row 0, the second in columns 80..160; the bridge pane's title is on row
// 33, its messages below; the status bar is the last row.
const BRIDGE_TOP: usize = 33;
const BRIDGE_COLS: usize = 80;
const FIRST_LEFT: usize = 0;
const SECOND_LEFT: usize = 80;

/// The border title of the agent pane whose left edge is at `left`.
fn border(s: &Screen, left: usize) -> String {
    s.region(0, left, 1, 80)
}

fn status_bar(s: &Screen) -> String {
    s.row(usize::from(ROWS) - 1)
}

fn bridge_title(s: &Screen) -> String {
    s.region(BRIDGE_TOP, 0, 1, BRIDGE_COLS)
}

/// The header row of message #`id` in the bridge pane, or "" when it is
/// not shown.
fn header(s: &Screen, id: u64) -> String {
    let marker = format!("#{id} ");
    (BRIDGE_TOP + 1..BRIDGE_TOP + 13)
        .map(|row| s.region(row, 1, 1, BRIDGE_COLS - 2))
        .find(|line| {
            line.starts_with(&format!("▶ {marker}")) || line.starts_with(&format!("  {marker}"))
        })
        .unwrap_or_default()
}

fn wait(lt: &Loop, what: &str, cond: impl Fn(&Screen) -> bool) {
    if let Err(e) = lt.wait_for_screen(cond, TIMEOUT) {
        panic!("waiting for {what}: {e}");
    }
}

/// Polls `cond` until it holds, failing with `what` and `detail()`.
fn wait_until(what: &str, cond: impl Fn() -> bool, detail: impl Fn() -> String) {
    let deadline = Instant::now() + TIMEOUT;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "waiting for {what}: {}",
            detail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The value of `name` in an `env` dump a pane wrote to `file`, once there.
fn pane_env(file: &Path, name: &str) -> String {
    let read = || std::fs::read_to_string(file).unwrap_or_default();
    wait_until(
        &format!("the environment in {}", file.display()),
        || read().contains("LOOP_TUI_BRIDGE_TOKEN="),
        read,
    );
    support::env_value(&read(), name)
}

/// The bridge client of the pane whose environment is in `file`, as `agent`.
fn client_of(file: &Path, agent: &str) -> BridgeClient {
    BridgeClient {
        socket: PathBuf::from(pane_env(file, "LOOP_TUI_BRIDGE_SOCKET")),
        token: pane_env(file, "LOOP_TUI_BRIDGE_TOKEN"),
        agent: agent.to_owned(),
    }
}

/// An agent pane whose program is `loop-tui mcp-bridge` reading the pane's
/// terminal, restarted after it ends when the human presses Enter (as a
/// CLI restarts its MCP server); `q` and Enter end the pane instead. Bridge
/// number N writes its answers to `out.N` in `dir`; the pane's environment
/// goes to `env`.
fn mcp_pane(name: &str, dir: &Path) -> String {
    let script = dir.join(format!("{name}.sh"));
    std::fs::write(
        &script,
        r#"env > "$2/env"
n=0
while :; do
  n=$((n+1))
  echo "bridge $n starting"
  "$1" mcp-bridge > "$2/out.$n" 2> "$2/err.$n"
  echo "bridge $n ended; Enter starts another, q quits"
  read answer || exit 0
  [ "$answer" = q ] && exit 0
done
"#,
    )
    .unwrap();
    format!(
        "{name}:sh '{}' '{}' '{}'",
        script.display(),
        env!("CARGO_BIN_EXE_loop-tui"),
        dir.display()
    )
}

/// Types the MCP handshake into the focused pane, as an agent's CLI sends
/// it once its MCP server started: the bridge then says hello to loop-tui.
fn mcp_handshake(lt: &Loop) {
    lt.send_str(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
    );
    lt.send_str("\r");
    lt.send_str(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    lt.send_str("\r");
}

/// Types a `send_message` call with JSON-RPC id `id` into the focused pane.
fn mcp_send(lt: &Loop, id: u64, target: &str, message: &str) {
    let call = json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "tools/call",
        "params": {"name": "send_message", "arguments": {"target": target, "message": message}},
    });
    lt.send_str(&call.to_string());
    lt.send_str("\r");
}

/// Waits for the answer with id `id` in bridge number `n`'s output and
/// returns whether it is a tool error and its text.
fn mcp_answer(dir: &Path, n: u32, id: u64) -> (bool, String) {
    let out = dir.join(format!("out.{n}"));
    let find = || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|answer| answer["id"] == id)
    };
    wait_until(
        &format!("the answer to call {id} in {}", out.display()),
        || find().is_some(),
        || std::fs::read_to_string(&out).unwrap_or_default(),
    );
    let answer = find().unwrap();
    let result = &answer["result"];
    let text = result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {answer}"))
        .to_owned();
    (result["isError"] == true, text)
}

/// The live `loop-tui mcp-bridge` processes started under `lt`.
fn bridge_processes(lt: &Loop) -> Vec<u32> {
    processes_with(lt.marker())
        .into_iter()
        .filter(|(_, cmd)| cmd.contains(" mcp-bridge"))
        .map(|(pid, _)| pid)
        .collect()
}

/// loop-tui with the MCP pane `alice` (focused) and a plain `bob`, its run
/// files under `dir`.
fn start_with_mcp_pane(dir: &TempDir) -> Loop {
    let bob = "bob:exec cat";
    let lt = Loop::start_with(
        &["--pane", &mcp_pane("alice", dir.path()), "--pane", bob],
        ROWS,
        COLS,
        dir.path(),
        &[("XDG_STATE_HOME", dir.path().as_os_str())],
    );
    wait(&lt, "the first bridge started", |s| {
        s.region(1, 1, 31, 78).contains("bridge 1 starting")
    });
    lt
}

#[test]
fn a_killed_bridge_process_shows_down_and_its_successor_brings_it_back() {
    let dir = TempDir::new("faults-bridge-killed");
    let lt = start_with_mcp_pane(&dir);
    assert!(
        !border(&lt.screen(), FIRST_LEFT).contains("bridge"),
        "nothing is said about a bridge before its hello:\n{}",
        lt.screen_text()
    );
    mcp_handshake(&lt);
    wait(&lt, "bridge✓ on alice", |s| {
        border(s, FIRST_LEFT).contains("bridge✓")
    });
    assert!(
        !border(&lt.screen(), SECOND_LEFT).contains("bridge"),
        "bob has no bridge:\n{}",
        lt.screen_text()
    );

    // The bridge process dies without a word.
    let bridges = bridge_processes(&lt);
    assert_eq!(bridges.len(), 1, "one mcp-bridge: {bridges:?}");
    kill(
        Pid::from_raw(bridges[0].try_into().unwrap()),
        Signal::SIGKILL,
    )
    .unwrap();
    wait(&lt, "bridge✗ on alice and why in the status bar", |s| {
        border(s, FIRST_LEFT).contains("bridge✗")
            && !border(s, FIRST_LEFT).contains("bridge✓")
            && status_bar(s).contains("pane 1 alice: bridge down (its mcp-bridge ended)")
    });
    let alice = border(&lt.screen(), FIRST_LEFT);
    assert!(
        !alice.contains("exited") && !alice.contains("killed"),
        "the agent itself still runs:\n{}",
        lt.screen_text()
    );

    // The CLI starts its MCP server again: the new process's hello.
    lt.send_str("\r");
    wait(&lt, "the second bridge started", |s| {
        s.region(1, 1, 31, 78).contains("bridge 2 starting")
    });
    mcp_handshake(&lt);
    wait(&lt, "bridge✓ again", |s| {
        border(s, FIRST_LEFT).contains("bridge✓")
            && !border(s, FIRST_LEFT).contains("bridge✗")
            && status_bar(s).contains("pane 1 alice: bridge connected again")
    });

    // A bridge that ends cleanly (its CLI closed its stdin) is down too.
    lt.send_str("\x04");
    wait(&lt, "bridge✗ after a clean end", |s| {
        border(s, FIRST_LEFT).contains("bridge✗")
    });
    // The agent exits: its border says so and no longer speaks of a bridge.
    lt.send_str("q\r");
    wait(&lt, "alice exited", |s| {
        border(s, FIRST_LEFT).contains("exited 0") && !border(s, FIRST_LEFT).contains("bridge")
    });
    // Restarted with the prefix key and r: a new agent, a new hello.
    lt.prefix("r");
    wait(&lt, "the restarted agent's bridge", |s| {
        s.region(1, 1, 31, 78).contains("bridge 1 starting")
    });
    mcp_handshake(&lt);
    wait(&lt, "bridge✓ after the restart", |s| {
        border(s, FIRST_LEFT).contains("bridge✓")
    });
}

#[test]
fn a_deleted_socket_is_listened_on_again_and_a_replaced_one_shows_the_bridge_down() {
    let dir = TempDir::new("faults-bridge-socket");
    let lt = start_with_mcp_pane(&dir);
    mcp_handshake(&lt);
    wait(&lt, "bridge✓ on alice", |s| {
        border(s, FIRST_LEFT).contains("bridge✓")
    });
    let socket = PathBuf::from(pane_env(&dir.path().join("env"), "LOOP_TUI_BRIDGE_SOCKET"));

    // Deleted: loop-tui listens at the same path again, and the bridge
    // process's next call (a new connection) reaches it.
    std::fs::remove_file(&socket).unwrap();
    wait(&lt, "the socket re-created", |s| {
        status_bar(s).contains("the bridge socket was deleted; loop-tui listens there again")
    });
    assert!(
        border(&lt.screen(), FIRST_LEFT).contains("bridge✓"),
        "{}",
        lt.screen_text()
    );
    mcp_send(&lt, 2, "bob", "sent after the socket came back");
    let (is_error, text) = mcp_answer(dir.path(), 1, 2);
    assert!(!is_error, "{text}");
    assert!(
        text.starts_with("queued for human approval as #1"),
        "{text}"
    );
    wait(&lt, "the message pending in the bridge", |s| {
        header(s, 1).contains("alice → bob") && header(s, 1).ends_with("pending")
    });

    // Replaced by a file loop-tui did not make: left alone, the bridge is
    // down for the agent, and its calls fail with what to do.
    let other = dir.path().join("not-a-socket");
    std::fs::write(&other, "someone else's file").unwrap();
    std::fs::rename(&other, &socket).unwrap();
    wait(&lt, "bridge✗ and why", |s| {
        border(s, FIRST_LEFT).contains("bridge✗")
            && status_bar(s).contains(
                "bridge down for every agent: the bridge socket was replaced by a file loop-tui did not create; remove it",
            )
    });
    mcp_send(
        &lt,
        3,
        "bob",
        "sent while the socket is someone else's file",
    );
    let (is_error, text) = mcp_answer(dir.path(), 1, 3);
    assert!(is_error, "{text}");
    for needle in [
        "not reachable",
        socket.to_str().unwrap(),
        "nothing was sent",
        "tell the human",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    assert!(header(&lt.screen(), 2).is_empty(), "{}", lt.screen_text());

    // Removed: loop-tui listens there again and the bridge is up.
    std::fs::remove_file(&socket).unwrap();
    wait(&lt, "bridge✓ once the file is gone", |s| {
        border(s, FIRST_LEFT).contains("bridge✓")
            && status_bar(s).contains("loop-tui listens there again")
    });
    mcp_send(&lt, 4, "bob", "sent once the file was removed");
    let (is_error, text) = mcp_answer(dir.path(), 1, 4);
    assert!(!is_error, "{text}");
    assert!(
        text.starts_with("queued for human approval as #2"),
        "{text}"
    );
}

// --- the tool error an agent sees when loop-tui's socket is gone ----------

const TOKEN: &str = "faults-token";

/// `loop-tui mcp-bridge` for `agent`, reaching the bridge at `socket` with
/// `token`, started and initialised by rmcp's real client.
async fn mcp_client(socket: &Path, token: &str, agent: &str) -> RunningService<RoleClient, ()> {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_loop-tui"));
    command.arg("mcp-bridge");
    command.env_remove(ENV_RUN_ID).env_remove(ENV_MAX_MESSAGE);
    command
        .env(ENV_SOCKET, socket)
        .env(ENV_TOKEN, token)
        .env(ENV_AGENT, agent);
    command.kill_on_drop(true);
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::timeout(TIMEOUT, ().serve(transport))
        .await
        .expect("initialize timed out")
        .expect("initialize failed")
}

/// Calls `send_message` and returns whether the result is a tool error,
/// and its text.
async fn send_message(client: &RunningService<RoleClient, ()>, message: &str) -> (bool, String) {
    let Value::Object(arguments) = json!({"target": "codex", "message": message}) else {
        unreachable!()
    };
    let result: CallToolResult = tokio::time::timeout(
        TIMEOUT,
        client.call_tool(CallToolRequestParams::new("send_message").with_arguments(arguments)),
    )
    .await
    .expect("tools/call timed out")
    .expect("tools/call failed at the protocol level");
    let text = result
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::Text(text) => text.text.clone(),
            other => panic!("unexpected content {other:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n");
    (result.is_error == Some(true), text)
}

/// loop-tui's listener at `socket`, answering like the app loop would.
fn listener(socket: &Path) -> BridgeListener {
    BridgeListener::start(socket, TOKEN.into(), |event| {
        if let ListenerEvent::Request(request) = event {
            request.reply.send(match request.call {
                BridgeCall::Send { .. } => BridgeReply::ok("queued for human approval as #1"),
                _ => BridgeReply::ok("connected as claude"),
            });
        }
    })
    .unwrap()
}

#[tokio::test]
async fn when_the_socket_is_gone_send_message_says_what_happened_and_what_to_do() {
    let dir = TempDir::new("faults-tool-error");
    let socket = dir.path().join("bridge.sock");
    let bridge = listener(&socket);
    let client = mcp_client(&socket, TOKEN, "claude").await;
    assert_eq!(
        send_message(&client, "before").await,
        (false, "queued for human approval as #1".into())
    );

    // loop-tui ends: its socket file goes with it.
    drop(bridge);
    let (is_error, gone) = send_message(&client, "after loop-tui ended").await;
    assert!(is_error, "{gone}");
    for needle in [
        "not reachable",
        socket.to_str().unwrap(),
        "the socket file is gone (loop-tui has exited, or the file was deleted)",
        "nothing was sent",
        "try once more",
        "tell the human",
    ] {
        assert!(gone.contains(needle), "{needle:?} missing from: {gone}");
    }

    // loop-tui crashed: its socket file is left, with nobody listening.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let (is_error, refused) = send_message(&client, "after loop-tui crashed").await;
    assert!(is_error, "{refused}");
    assert!(
        refused.contains("nothing is listening on it (loop-tui has exited or crashed)")
            && refused.contains("nothing was sent"),
        "{refused}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_call_loop_tui_took_but_never_answered_is_not_called_sent() {
    let dir = TempDir::new("faults-no-answer");
    let socket = dir.path().join("bridge.sock");
    // A loop-tui that answers the hello, then dies in the middle of every
    // call: it reads the request and closes the connection.
    let server = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Write};
        for stream in server.incoming().flatten() {
            std::thread::spawn(move || {
                let mut line = String::new();
                let mut reader = BufReader::new(&stream);
                let _ = reader.read_line(&mut line);
                if line.contains(r#""type":"hello""#) {
                    let _ = (&stream).write_all(b"{\"ok\":true,\"text\":\"connected\"}\n");
                    // The presence stays open until the bridge process ends.
                    let _ = std::io::copy(&mut reader, &mut std::io::sink());
                }
            });
        }
    });
    let client = mcp_client(&socket, TOKEN, "claude").await;
    let (is_error, text) = send_message(&client, "lost in flight").await;
    assert!(is_error, "{text}");
    for needle in [
        "did not answer",
        "it is not known whether the call took effect",
        "Do not assume a message was queued",
        "tell the human",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bridge_process_from_before_a_resume_is_refused_with_what_to_do() {
    let dir = TempDir::new("faults-resume");
    let env_file = dir.path().join("alice.env");
    let alice = format!("alice:env > '{}'; exec cat", env_file.display());
    let start = |args: &[&str]| {
        Loop::start_with(
            args,
            ROWS,
            COLS,
            dir.path(),
            &[("XDG_STATE_HOME", dir.path().as_os_str())],
        )
    };
    let first = start(&["--pane", &alice, "--pane", "bob:exec cat"]);
    let run_id = pane_env(&env_file, ENV_RUN_ID);
    // A bridge process of alice's, outside loop-tui's panes, so it
    // survives loop-tui: its hello shows bridge✓ on alice.
    let survivor = mcp_client(
        Path::new(&pane_env(&env_file, ENV_SOCKET)),
        &pane_env(&env_file, ENV_TOKEN),
        "alice",
    )
    .await;
    wait(&first, "bridge✓ on alice", |s| {
        border(s, FIRST_LEFT).contains("bridge✓")
    });
    first.prefix("q");
    wait(&first, "the quit question", |s| {
        s.text().contains("Quit loop-tui?")
    });
    first.send_str("y");
    first.expect_exit();
    std::fs::remove_file(&env_file).unwrap();

    let resumed = start(&["--run-id", &run_id]);
    // The resumed run's alice has the run's new secret.
    let new_token = pane_env(&env_file, ENV_TOKEN);
    assert_ne!(new_token, "", "the resumed pane has a token");
    let (is_error, text) = send_message(&survivor, "from before the resume").await;
    assert!(is_error, "{text}");
    for needle in [
        "wrong token",
        "was not started by the loop-tui now running this run",
        "Nothing was sent",
        "tell the human",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    wait(&resumed, "the resumed run", |s| {
        status_bar(s).contains(&format!("resumed run {run_id}"))
    });
    let s = resumed.screen();
    assert!(header(&s, 1).is_empty(), "no ghost message:\n{}", s.text());
    assert!(
        !border(&s, FIRST_LEFT).contains("bridge"),
        "the survivor's refused call is no presence:\n{}",
        s.text()
    );
    survivor.cancel().await.unwrap();
}

// --- a journal that cannot be written ----------------------------------

/// Starts loop-tui with a file size limit and SIGXFSZ ignored (the
/// disposition survives exec), so a write past the limit fails with EFBIG
/// just as one on a full disk fails with ENOSPC; no root needed. `sh` counts
/// `ulimit -f` in 512-byte blocks (dash) or 1024-byte ones (bash): 40 is
/// 20 or 40 KiB, far more than the journal holds at start and far less
/// than [`BIG`] bytes.
fn start_with_file_limit(args: &[&str], dir: &TempDir) -> Loop {
    Loop::start_wrapped(
        &["sh", "-c", r#"trap '' XFSZ; ulimit -f 40; exec "$0" "$@""#],
        args,
        ROWS,
        COLS,
        dir.path(),
        &[("XDG_STATE_HOME", dir.path().as_os_str())],
    )
}

/// A message larger than any file size limit the tests set.
const BIG: usize = 50_000;

fn big_message() -> String {
    format!("BIGMARK {}", "x".repeat(BIG))
}

/// The run's journal under `state` (its only run).
fn journal_of(state: &Path) -> PathBuf {
    let runs = state.join("loop-tui").join("runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .flat_map(|repo| std::fs::read_dir(repo.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .next()
        .expect("a run directory");
    run.join("journal.jsonl")
}

/// Asserts that bob has received nothing with `BIGMARK`: the human types
/// `zz` into bob first, and since a delivery is written to bob's terminal
/// in order with the human's keys, everything typed into bob before the
/// `zz` has arrived once it has.
fn assert_never_delivered(lt: &Loop, received: &Path) {
    lt.prefix("2");
    wait(lt, "bob focused", |s| s.cell(0, SECOND_LEFT) == "┏");
    lt.send_str("zz");
    let read =
        || String::from_utf8_lossy(&std::fs::read(received).unwrap_or_default()).into_owned();
    wait_until(
        "zz in bob's input",
        || read().contains("zz") || read().contains("BIGMARK"),
        || format!("{:?}\n{}", read(), lt.screen_text()),
    );
    assert!(
        !read().contains("BIGMARK"),
        "a refused message was typed into bob: {:?}",
        read()
    );
}

/// The reply a refused message's sender gets, checked for what it must say.
fn assert_refused_reply(reply: &BridgeReply) {
    assert!(!reply.ok, "{reply:?}");
    for needle in [
        "not accepted: loop-tui could not record it",
        "failed to write the journal",
        "File too large",
        "Nothing was queued",
        "tell the human",
    ] {
        assert!(
            reply.text.contains(needle),
            "{needle:?} missing from: {}",
            reply.text
        );
    }
}

#[test]
fn a_message_the_journal_cannot_take_is_refused_and_shown_failed_not_pending() {
    let dir = TempDir::new("faults-journal-full");
    let env_file = dir.path().join("alice.env");
    let received = dir.path().join("bob.bin");
    let alice = format!("alice:env > '{}'; exec cat", env_file.display());
    let bob = format!("bob:stty raw -echo; exec cat > '{}'", received.display());
    let lt = start_with_file_limit(&["--pane", &alice, "--pane", &bob], &dir);
    let alice = client_of(&env_file, "alice");

    let reply = alice
        .call(BridgeCall::Send {
            target: "bob".into(),
            message: big_message(),
        })
        .unwrap();
    assert_refused_reply(&reply);
    wait(
        &lt,
        "the message shown failed, the failure in the status bar",
        |s| {
            header(s, 1).contains("alice → bob  failed: failed to write the journal")
                && status_bar(s).contains("failed to write the journal")
                && bridge_title(s).contains(" 0 pending ")
        },
    );
    // Nothing waits for the human: approving finds nothing to approve.
    lt.prefix("a");
    wait(&lt, "no pending message to approve", |s| {
        status_bar(s).contains("no message is waiting for approval")
    });
    assert!(
        header(&lt.screen(), 1).contains("failed"),
        "{}",
        lt.screen_text()
    );
    assert!(lt.exit_status().is_none(), "loop-tui stays up");
    assert_never_delivered(&lt, &received);
    // The journal holds no record of it: a resumed run will not bring it
    // back as accepted.
    let journal = std::fs::read(journal_of(dir.path())).unwrap();
    let complete_lines = journal.split(|&b| b == b'\n').rev().skip(1);
    assert!(
        !complete_lines
            .into_iter()
            .any(|line| line.windows(7).any(|w| w == b"BIGMARK")),
        "a complete journal line holds the refused message"
    );
}

#[test]
fn an_auto_approved_message_the_journal_cannot_take_is_never_typed() {
    let dir = TempDir::new("faults-journal-full-auto");
    let env_file = dir.path().join("alice.env");
    let received = dir.path().join("bob.bin");
    let alice = format!("alice:env > '{}'; exec cat", env_file.display());
    let bob = format!("bob:stty raw -echo; exec cat > '{}'", received.display());
    let lt = start_with_file_limit(&["--pane", &alice, "--pane", &bob], &dir);
    let alice = client_of(&env_file, "alice");
    lt.prefix("b");
    lt.send_str("A");
    wait(&lt, "auto-approve on", |s| {
        bridge_title(s).contains("auto-approve")
    });
    // A message the journal takes is typed into bob by itself: bob is
    // ready, so a refused message would be typed at once too.
    let first = alice
        .call(BridgeCall::Send {
            target: "bob".into(),
            message: "a small first message".into(),
        })
        .unwrap();
    assert!(
        first.ok && first.text.starts_with("delivered as #1"),
        "{first:?}"
    );
    let read =
        || String::from_utf8_lossy(&std::fs::read(&received).unwrap_or_default()).into_owned();
    wait_until(
        "the first message typed into bob",
        || read().contains("a small first message"),
        || format!("{:?}\n{}", read(), lt.screen_text()),
    );
    wait(&lt, "#1 delivered", |s| header(s, 1).contains("delivered"));

    let reply = alice
        .call(BridgeCall::Send {
            target: "bob".into(),
            message: big_message(),
        })
        .unwrap();
    assert_refused_reply(&reply);
    wait(&lt, "#2 failed", |s| {
        header(s, 2).contains("alice → bob  failed: failed to write the journal")
    });
    assert_never_delivered(&lt, &received);
    assert!(lt.exit_status().is_none(), "loop-tui stays up");
}

#[test]
fn a_run_directory_that_cannot_be_made_stops_loop_tui_with_one_line() {
    let dir = TempDir::new("faults-run-dir");
    // A file where the state directory should be: no root can write into it.
    let state = dir.path().join("state-is-a-file");
    std::fs::write(&state, "").unwrap();
    let lt = Loop::start_with(
        &["--pane", "a:cat", "--pane", "b:cat"],
        ROWS,
        COLS,
        dir.path(),
        &[("XDG_STATE_HOME", state.as_os_str())],
    );
    let status = lt.expect_exit();
    assert!(!status.success(), "{status:?}");
    let out = String::from_utf8_lossy(&lt.raw_output()).into_owned();
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {out:?}");
    assert!(
        lines[0].starts_with("loop-tui: error: failed to create the run directory")
            && lines[0].contains(state.to_str().unwrap())
            && lines[0].contains("Not a directory")
            && lines[0].contains("XDG_STATE_HOME"),
        "{out:?}"
    );
    // The terminal was never taken over, so there is nothing to restore.
    assert!(
        !out.contains("\x1b[?1049h") && !out.contains("\x1b[?25l"),
        "{out:?}"
    );
}

#[test]
fn a_disk_full_at_start_stops_loop_tui_with_one_line() {
    let dir = TempDir::new("faults-start-full");
    // Not one byte may be written: the run's manifest cannot be.
    let lt = Loop::start_wrapped(
        &["sh", "-c", r#"trap '' XFSZ; ulimit -f 0; exec "$0" "$@""#],
        &["--pane", "a:cat", "--pane", "b:cat"],
        ROWS,
        COLS,
        dir.path(),
        &[("XDG_STATE_HOME", dir.path().as_os_str())],
    );
    let status = lt.expect_exit();
    assert!(!status.success(), "{status:?}");
    let out = String::from_utf8_lossy(&lt.raw_output()).into_owned();
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {out:?}");
    assert!(
        lines[0].starts_with("loop-tui: error: failed to write the run's manifest")
            && lines[0].contains("File too large"),
        "{out:?}"
    );
    assert!(
        !out.contains("\x1b[?1049h") && !out.contains("\x1b[?25l"),
        "{out:?}"
    );
}

// --- the real Claude Code, offline ----------------------------------------

#[path = "support/agents.rs"]
mod agents;

#[test]
fn claude_whose_mcp_bridge_is_killed_shows_it_down_until_reconnected() {
    let Some((offline, bin)) = agents::agents_available(&["claude"]) else {
        return;
    };
    let dir = TempDir::new("faults-claude");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    // claude works; its peer is a plain program, so only claude runs Node.
    std::fs::write(
        project.join(".loop-tui.toml"),
        "[agents.peer]\nprofile = \"custom\"\ncommand = \"cat\"\n",
    )
    .unwrap();
    let model = agents::FakeModel::start(
        &offline,
        dir.path(),
        r#"{"rules": [], "default_text": "ok"}"#,
    );
    let path = agents::wrapper_path(&offline, &bin, dir.path());
    let state = dir.path().join("state");
    let agent_state = dir.path().join("agent-state");
    let lt = Loop::start_with(
        &["--agent", "claude", "--reviewer", "peer"],
        ROWS,
        COLS,
        &project,
        &[
            ("PATH", path.as_os_str()),
            ("FAKE_LLM_URL", std::ffi::OsStr::new(&model.url)),
            ("AGENT_STATE", agent_state.as_os_str()),
            ("XDG_STATE_HOME", state.as_os_str()),
        ],
    );
    if let Err(e) = lt.wait_for_screen(
        |s| s.text().contains("? for shortcuts") && border(s, FIRST_LEFT).contains("bridge✓"),
        agents::AGENT_TIMEOUT,
    ) {
        panic!("waiting for claude with its bridge connected: {e}");
    }
    let bridges = bridge_processes(&lt);
    assert!(
        !bridges.is_empty(),
        "claude's mcp-bridge: {:?}",
        processes_with(lt.marker())
    );
    for pid in bridges {
        kill(Pid::from_raw(pid.try_into().unwrap()), Signal::SIGKILL).unwrap();
    }
    wait(&lt, "claude's bridge shown down", |s| {
        border(s, FIRST_LEFT).contains("bridge✗")
            && status_bar(s).contains("pane 1 claude: bridge down (its mcp-bridge ended)")
    });
    let claude = border(&lt.screen(), FIRST_LEFT);
    assert!(
        !claude.contains("exited") && !claude.contains("killed"),
        "claude itself runs on:\n{}",
        lt.screen_text()
    );

    // The human reconnects the server in claude (/mcp, loop, Reconnect):
    // claude starts a new mcp-bridge, whose hello brings bridge✓ back.
    lt.send_str("/mcp");
    // Enter right after typed text can be taken as part of a paste.
    std::thread::sleep(Duration::from_millis(500));
    lt.send_str("\r");
    let claude_pane = |s: &Screen| s.region(1, 1, 31, 78);
    wait(&lt, "claude's MCP servers", |s| {
        claude_pane(s).contains("loop · ✘ failed")
    });
    lt.send_str("\r");
    wait(&lt, "the loop server's menu", |s| {
        claude_pane(s).contains("Reconnect")
    });
    lt.send_str("\r");
    wait(&lt, "claude reconnected, bridge✓ again", |s| {
        claude_pane(s).contains("Reconnected to loop")
            && border(s, FIRST_LEFT).contains("bridge✓")
            && status_bar(s).contains("pane 1 claude: bridge connected again")
    });
}
