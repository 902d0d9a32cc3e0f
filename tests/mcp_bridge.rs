//! `loop-tui mcp-bridge` as an agent's CLI sees it: the real binary, started
//! as a child process and driven over its stdin and stdout, by rmcp's own
//! client and by raw JSON-RPC lines. On the other side of the server sits a
//! fake bridge: a Unix socket in a temp dir that answers like loop-tui and
//! records every request, so each test can assert exactly what reached
//! loop-tui and exactly what the model is shown.

// The helpers below are test code too: a panic there is a failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use loop_tui::bridge::protocol::{
    BridgeCall, BridgeReply, BridgeRequest, DEFAULT_MAX_MESSAGE_BYTES, ENV_AGENT, ENV_MAX_MESSAGE,
    ENV_RUN_ID, ENV_SOCKET, ENV_TOKEN,
};
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How long any single answer may take before a test fails.
const TIMEOUT: Duration = Duration::from_secs(10);
const TOKEN: &str = "secret-token-1234";

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "lt-mcp-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type Answer = dyn Fn(&BridgeCall) -> BridgeReply + Send + Sync;

/// A stand-in for loop-tui's bridge socket. Like loop-tui it reads one
/// request line per connection, closes the connection without an answer
/// when the token is wrong, and otherwise answers with one reply line; the
/// connection of a `Hello` stays open after the answer, as the agent's
/// presence, until the bridge process closes it.
struct FakeBridge {
    _dir: TempDir,
    socket: PathBuf,
    requests: Arc<Mutex<Vec<BridgeRequest>>>,
    /// The agents whose `Hello` (sent once the MCP client is initialised)
    /// arrived; kept apart from the tool calls the tests check.
    hellos: Arc<Mutex<Vec<String>>>,
}

impl FakeBridge {
    fn start(answer: impl Fn(&BridgeCall) -> BridgeReply + Send + Sync + 'static) -> Self {
        let dir = TempDir::new();
        let socket = dir.0.join("bridge.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let hellos = Arc::new(Mutex::new(Vec::new()));
        let answer: Arc<Answer> = Arc::new(answer);
        let recorded = Arc::clone(&requests);
        let greeted = Arc::clone(&hellos);
        // The thread ends with the test process; a test's socket file goes
        // with its temp dir.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let recorded = Arc::clone(&recorded);
                let greeted = Arc::clone(&greeted);
                let answer = Arc::clone(&answer);
                // One thread per connection, so a slow answer never holds
                // up another call.
                std::thread::spawn(move || {
                    let mut line = String::new();
                    let mut reader = BufReader::new(&stream);
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let request: BridgeRequest = serde_json::from_str(&line).unwrap();
                    let reply = if request.call == BridgeCall::Hello {
                        greeted.lock().unwrap().push(request.agent.clone());
                        BridgeReply::ok("connected")
                    } else {
                        recorded.lock().unwrap().push(request.clone());
                        if request.token != TOKEN {
                            return;
                        }
                        answer(&request.call)
                    };
                    let mut reply = serde_json::to_vec(&reply).unwrap();
                    reply.push(b'\n');
                    let _ = (&stream).write_all(&reply);
                    if request.call == BridgeCall::Hello {
                        // Held until the bridge process ends.
                        let _ = std::io::copy(&mut reader, &mut std::io::sink());
                    }
                });
            }
        });
        Self {
            _dir: dir,
            socket,
            requests,
            hellos,
        }
    }

    fn requests(&self) -> Vec<BridgeRequest> {
        self.requests.lock().unwrap().clone()
    }

    fn hellos(&self) -> Vec<String> {
        self.hellos.lock().unwrap().clone()
    }

    /// The environment loop-tui gives an agent named `agent`.
    fn env(&self, agent: &str) -> Vec<(&'static str, String)> {
        vec![
            (ENV_SOCKET, self.socket.display().to_string()),
            (ENV_TOKEN, TOKEN.to_owned()),
            (ENV_AGENT, agent.to_owned()),
            (ENV_RUN_ID, "run-1".to_owned()),
        ]
    }
}

/// `loop-tui mcp-bridge` with exactly `env` for the bridge variables, so
/// the developer's own environment cannot leak into a test.
fn bridge_command(env: &[(&'static str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loop-tui"));
    command.arg("mcp-bridge");
    for var in [
        ENV_SOCKET,
        ENV_TOKEN,
        ENV_AGENT,
        ENV_RUN_ID,
        ENV_MAX_MESSAGE,
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    command.kill_on_drop(true);
    command
}

/// The server, started and initialized by rmcp's real client.
async fn connect(env: &[(&'static str, String)]) -> RunningService<RoleClient, ()> {
    let (transport, _stderr) = TokioChildProcess::builder(bridge_command(env))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::timeout(TIMEOUT, ().serve(transport))
        .await
        .expect("initialize timed out")
        .expect("initialize failed")
}

async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &'static str,
    arguments: Value,
) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object");
    };
    let params = CallToolRequestParams::new(tool).with_arguments(arguments);
    tokio::time::timeout(TIMEOUT, client.call_tool(params))
        .await
        .expect("tools/call timed out")
        .expect("tools/call failed at the protocol level")
}

/// The text a tool result shows the model, and whether it is an error.
fn shown(result: &CallToolResult) -> (bool, String) {
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

fn send_call(target: &str, message: &str) -> BridgeCall {
    BridgeCall::Send {
        target: target.into(),
        message: message.into(),
    }
}

#[tokio::test]
async fn initialize_names_the_server_and_lists_three_tools() {
    let bridge = FakeBridge::start(|_| BridgeReply::ok("unused"));
    let client = connect(&bridge.env("claude")).await;

    let info = client.peer_info().expect("server info after initialize");
    let server = info.server_info.as_ref().expect("server identity");
    assert_eq!(server.name, "loop-tui");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    let instructions = info.instructions.as_deref().unwrap_or_default();
    for needle in [
        "send_message",
        "Never ask the human",
        "bridge_status",
        "receive_messages",
    ] {
        assert!(
            instructions.contains(needle),
            "{needle:?} not in {instructions}"
        );
    }

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["bridge_status", "receive_messages", "send_message"]);
    let description = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.description.as_deref())
            .unwrap_or_default()
            .to_owned()
    };
    let send = description("send_message");
    for needle in [
        "ONLY way",
        "Never ask the human",
        "self-contained",
        "acknowledgements",
    ] {
        assert!(send.contains(needle), "{needle:?} not in {send}");
    }
    assert!(description("receive_messages").contains("fallback"));
    assert!(description("bridge_status").contains("names"));

    let send_tool = tools.iter().find(|t| t.name == "send_message").unwrap();
    let schema = Value::Object((*send_tool.input_schema).clone());
    assert_eq!(schema["required"], json!(["target", "message"]), "{schema}");
    assert_eq!(schema["properties"]["target"]["type"], "string");
    assert_eq!(schema["properties"]["message"]["type"], "string");
    assert!(
        bridge.requests().is_empty(),
        "listing tools reached the bridge"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn send_message_reaches_the_bridge_exactly_and_returns_its_answer() {
    let bridge = FakeBridge::start(|_| BridgeReply::ok("queued for human approval as #7"));
    let client = connect(&bridge.env("claude")).await;

    // Loop-tui sanitises on delivery; the server passes the text unchanged.
    let message = "Please review src/relay.rs:\n\t- the hop cap ✓\n\u{1b}[31mred\u{1b}[0m 漢字";
    let result = call(
        &client,
        "send_message",
        json!({"target": " codex ", "message": message}),
    )
    .await;
    assert_eq!(
        shown(&result),
        (false, "queued for human approval as #7".to_owned())
    );
    assert_eq!(
        bridge.requests(),
        [BridgeRequest {
            token: TOKEN.into(),
            agent: "claude".into(),
            call: send_call("codex", message),
        }]
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn receive_and_status_pass_the_bridge_text_through() {
    let bridge = FakeBridge::start(|call| match call {
        BridgeCall::Receive => BridgeReply::ok("#3 from codex: looks good"),
        BridgeCall::Status => BridgeReply::ok("run run-1; agents: claude (you), codex (working)"),
        BridgeCall::Send { .. } | BridgeCall::Hello => BridgeReply::error("unexpected"),
    });
    let client = connect(&bridge.env("claude")).await;

    let received = call(&client, "receive_messages", json!({})).await;
    assert_eq!(
        shown(&received),
        (false, "#3 from codex: looks good".into())
    );
    let status = call(&client, "bridge_status", json!({})).await;
    assert_eq!(
        shown(&status),
        (
            false,
            "run run-1; agents: claude (you), codex (working)".into()
        )
    );
    let calls: Vec<BridgeCall> = bridge.requests().into_iter().map(|r| r.call).collect();
    assert_eq!(calls, [BridgeCall::Receive, BridgeCall::Status]);
    // Initialising the MCP session told loop-tui this agent is connected.
    assert_eq!(bridge.hellos(), ["claude"]);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_refusal_from_the_bridge_is_a_tool_error_with_its_text() {
    let refusal = "unknown target \"bob\"; agents in this run: claude, codex";
    let bridge = FakeBridge::start(move |_| BridgeReply::error(refusal));
    let client = connect(&bridge.env("claude")).await;

    let result = call(
        &client,
        "send_message",
        json!({"target": "bob", "message": "hi"}),
    )
    .await;
    assert_eq!(shown(&result), (true, refusal.to_owned()));
    assert_eq!(bridge.requests().len(), 1);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn empty_messages_and_targets_are_refused_before_the_bridge() {
    let bridge = FakeBridge::start(|_| BridgeReply::ok("queued"));
    let client = connect(&bridge.env("claude")).await;

    for message in ["", "  \n\t  "] {
        let result = call(
            &client,
            "send_message",
            json!({"target": "codex", "message": message}),
        )
        .await;
        let (is_error, text) = shown(&result);
        assert!(is_error, "{message:?} was accepted: {text}");
        assert!(text.contains("empty"), "{text}");
    }
    let result = call(
        &client,
        "send_message",
        json!({"target": "  ", "message": "hello"}),
    )
    .await;
    let (is_error, text) = shown(&result);
    assert!(is_error);
    assert!(
        text.contains("target") && text.contains("bridge_status"),
        "{text}"
    );
    assert!(bridge.requests().is_empty(), "{:?}", bridge.requests());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn an_oversized_message_is_refused_with_its_size_and_the_cap() {
    let bridge = FakeBridge::start(|_| BridgeReply::ok("queued"));
    let mut env = bridge.env("claude");
    env.push((ENV_MAX_MESSAGE, "16".into()));
    let client = connect(&env).await;

    let result = call(
        &client,
        "send_message",
        json!({"target": "codex", "message": "x".repeat(17)}),
    )
    .await;
    let (is_error, text) = shown(&result);
    assert!(is_error, "{text}");
    assert!(
        text.contains("17 bytes") && text.contains("16 bytes"),
        "{text}"
    );
    assert!(
        text.contains("Split") && text.contains("summarise"),
        "{text}"
    );
    assert!(bridge.requests().is_empty());

    // Exactly at the cap is fine.
    let result = call(
        &client,
        "send_message",
        json!({"target": "codex", "message": "x".repeat(16)}),
    )
    .await;
    assert_eq!(shown(&result), (false, "queued".into()));
    assert_eq!(bridge.requests().len(), 1);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_default_cap_applies_without_the_variable() {
    let bridge = FakeBridge::start(|_| BridgeReply::ok("queued"));
    let client = connect(&bridge.env("claude")).await;
    let result = call(
        &client,
        "send_message",
        json!({"target": "codex", "message": "x".repeat(DEFAULT_MAX_MESSAGE_BYTES + 1)}),
    )
    .await;
    let (is_error, text) = shown(&result);
    assert!(is_error);
    assert!(
        text.contains(&format!("{DEFAULT_MAX_MESSAGE_BYTES} bytes")),
        "{text}"
    );
    assert!(bridge.requests().is_empty());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_bridge_is_a_tool_error_naming_the_socket() {
    let dir = TempDir::new();
    let socket = dir.0.join("gone.sock");
    let env = [
        (ENV_SOCKET, socket.display().to_string()),
        (ENV_TOKEN, TOKEN.to_owned()),
        (ENV_AGENT, "claude".to_owned()),
    ];
    let client = connect(&env).await;
    let result = call(
        &client,
        "send_message",
        json!({"target": "codex", "message": "hello"}),
    )
    .await;
    let (is_error, text) = shown(&result);
    assert!(is_error);
    assert!(text.contains("not reachable"), "{text}");
    assert!(text.contains(&socket.display().to_string()), "{text}");
    assert!(text.contains("Is loop-tui still running?"), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_wrong_token_gets_no_answer_and_becomes_a_tool_error() {
    let bridge = FakeBridge::start(|_| BridgeReply::ok("queued"));
    let mut env = bridge.env("claude");
    env.retain(|(k, _)| *k != ENV_TOKEN);
    env.push((ENV_TOKEN, "stale-token".into()));
    let client = connect(&env).await;
    let result = call(
        &client,
        "send_message",
        json!({"target": "codex", "message": "hello"}),
    )
    .await;
    let (is_error, text) = shown(&result);
    assert!(is_error);
    assert!(text.contains("closed without an answer"), "{text}");
    assert_eq!(bridge.requests()[0].token, "stale-token");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn outside_loop_tui_tools_are_listed_and_every_call_explains() {
    let client = connect(&[]).await;
    assert_eq!(client.list_all_tools().await.unwrap().len(), 3);
    for (tool, arguments) in [
        (
            "send_message",
            json!({"target": "codex", "message": "hello"}),
        ),
        ("receive_messages", json!({})),
        ("bridge_status", json!({})),
    ] {
        let (is_error, text) = shown(&call(&client, tool, arguments).await);
        assert!(is_error, "{tool}: {text}");
        assert!(text.contains("not started by loop-tui"), "{tool}: {text}");
        assert!(text.contains(ENV_SOCKET), "{tool}: {text}");
    }
    client.cancel().await.unwrap();
}

/// The server driven by hand, one JSON-RPC line at a time.
struct Raw {
    child: Child,
    stdin: ChildStdin,
    stdout: tokio::io::BufReader<ChildStdout>,
}

impl Raw {
    fn start(env: &[(&'static str, String)]) -> Self {
        let mut child = bridge_command(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    async fn send_line(&mut self, line: &str) {
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn send(&mut self, message: &Value) {
        self.send_line(&message.to_string()).await;
    }

    /// The next line on stdout, which must be one JSON-RPC message.
    async fn next(&mut self) -> Value {
        let mut line = String::new();
        let read = tokio::time::timeout(TIMEOUT, self.stdout.read_line(&mut line))
            .await
            .expect("no answer in time")
            .unwrap();
        assert!(read > 0, "the server closed stdout");
        let message: Value = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("stdout carried a non-JSON line {line:?}: {err}"));
        assert_eq!(message["jsonrpc"], "2.0", "{message}");
        message
    }

    async fn initialize(&mut self, version: &str) -> Value {
        self.send(&json!({
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"}
            }
        }))
        .await;
        let answer = self.next().await;
        assert_eq!(answer["id"], 0, "{answer}");
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        answer
    }

    async fn tools_call(&mut self, id: u64, arguments: &Value) {
        self.send(&json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "send_message", "arguments": arguments}
        }))
        .await;
    }
}

#[tokio::test]
async fn a_malformed_line_gets_a_parse_error_and_the_session_goes_on() {
    let mut raw = Raw::start(&[]);
    raw.initialize("2025-06-18").await;

    raw.send_line("this is not json {").await;
    let error = raw.next().await;
    assert_eq!(error["error"]["code"], -32700, "{error}");
    // No id could be read, so none is claimed (the MCP schema makes the
    // error's id optional for exactly this case).
    assert!(error.get("id").is_none_or(Value::is_null), "{error}");

    raw.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .await;
    let listed = raw.next().await;
    assert_eq!(listed["id"], 1, "{listed}");
    assert_eq!(listed["result"]["tools"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn unknown_methods_and_bad_arguments_get_errors_and_the_session_goes_on() {
    let bridge = FakeBridge::start(|_| BridgeReply::ok("queued as #1"));
    let mut raw = Raw::start(&bridge.env("codex"));
    raw.initialize("2025-06-18").await;

    raw.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "no/such/method"}))
        .await;
    let unknown = raw.next().await;
    assert_eq!(unknown["id"], 1, "{unknown}");
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    // Argument mistakes are tool errors, so the model reads what to fix.
    raw.tools_call(2, &json!({"target": "claude"})).await;
    let missing = raw.next().await;
    assert_eq!(missing["id"], 2, "{missing}");
    assert_eq!(missing["result"]["isError"], true, "{missing}");
    let text = missing["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("missing field `message`"), "{text}");

    raw.tools_call(3, &json!({"target": 5, "message": "hi"}))
        .await;
    let wrong_type = raw.next().await;
    assert_eq!(wrong_type["id"], 3, "{wrong_type}");
    assert_eq!(wrong_type["result"]["isError"], true, "{wrong_type}");

    raw.send(&json!({
        "jsonrpc": "2.0", "id": 4, "method": "tools/call",
        "params": {"name": "no_such_tool", "arguments": {}}
    }))
    .await;
    let no_tool = raw.next().await;
    assert_eq!(no_tool["id"], 4, "{no_tool}");
    assert_eq!(no_tool["error"]["code"], -32602, "{no_tool}");

    // Params that are not an object at all: an invalid-params error that
    // carries the request's id.
    raw.send(&json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": 5}))
        .await;
    let bad_params = raw.next().await;
    assert_eq!(bad_params["id"], 5, "{bad_params}");
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");

    assert!(bridge.requests().is_empty(), "{:?}", bridge.requests());
    raw.tools_call(6, &json!({"target": "claude", "message": "still here"}))
        .await;
    let sent = raw.next().await;
    assert_eq!(sent["id"], 6, "{sent}");
    assert_eq!(
        sent["result"]["content"][0]["text"], "queued as #1",
        "{sent}"
    );
    assert_eq!(bridge.requests()[0].call, send_call("claude", "still here"));
}

#[tokio::test]
async fn a_slow_bridge_does_not_hold_up_other_requests() {
    let bridge = FakeBridge::start(|call| {
        if matches!(call, BridgeCall::Send { .. }) {
            std::thread::sleep(Duration::from_millis(1500));
        }
        BridgeReply::ok("queued as #2")
    });
    let mut raw = Raw::start(&bridge.env("claude"));
    raw.initialize("2025-06-18").await;

    raw.tools_call(1, &json!({"target": "codex", "message": "slow"}))
        .await;
    raw.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
        .await;
    // The ping is answered while the send still waits for the bridge, and
    // both answers arrive whole.
    let first = raw.next().await;
    assert_eq!(first["id"], 2, "{first}");
    let second = raw.next().await;
    assert_eq!(second["id"], 1, "{second}");
    assert_eq!(second["result"]["content"][0]["text"], "queued as #2");
}

#[tokio::test]
async fn a_line_too_long_to_buffer_is_refused_and_the_session_goes_on() {
    let bridge = FakeBridge::start(|_| BridgeReply::ok("queued"));
    let mut raw = Raw::start(&bridge.env("claude"));
    raw.initialize("2025-06-18").await;

    // Over the 16 MiB line limit: never buffered whole, never sent on.
    raw.tools_call(
        1,
        &json!({"target": "codex", "message": "x".repeat(17 << 20)}),
    )
    .await;
    let refused = raw.next().await;
    assert_eq!(refused["error"]["code"], -32600, "{refused}");

    raw.send(&json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
        .await;
    let pong = raw.next().await;
    assert_eq!(pong["id"], 2, "{pong}");
    assert!(bridge.requests().is_empty());
}

#[tokio::test]
async fn a_request_split_around_an_answer_still_arrives_whole() {
    let bridge = FakeBridge::start(|call| {
        if matches!(call, BridgeCall::Send { .. }) {
            std::thread::sleep(Duration::from_millis(500));
        }
        BridgeReply::ok("queued as #3")
    });
    let mut raw = Raw::start(&bridge.env("claude"));
    raw.initialize("2025-06-18").await;

    raw.tools_call(1, &json!({"target": "codex", "message": "slow"}))
        .await;
    // Half a request goes out, then the slow answer is written while the
    // server is in the middle of reading that line.
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}).to_string();
    let (head, tail) = ping.split_at(ping.len() / 2);
    raw.stdin.write_all(head.as_bytes()).await.unwrap();
    raw.stdin.flush().await.unwrap();
    let answer = raw.next().await;
    assert_eq!(answer["id"], 1, "{answer}");
    raw.send_line(tail).await;
    let pong = raw.next().await;
    assert_eq!(pong["id"], 2, "{pong}");
    assert!(pong.get("result").is_some(), "{pong}");
}

#[tokio::test]
async fn older_protocol_versions_are_echoed_and_unknown_ones_fall_back() {
    // Agents' CLIs lag behind the newest MCP revision; the server must
    // speak whichever revision they ask for.
    for (asked, answered) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2024-10-07", "2025-11-25"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let mut raw = Raw::start(&[]);
        let answer = raw.initialize(asked).await;
        assert_eq!(
            answer["result"]["protocolVersion"], answered,
            "asked {asked}: {answer}"
        );
        assert_eq!(answer["result"]["serverInfo"]["name"], "loop-tui");
    }
}

#[tokio::test]
async fn the_server_exits_cleanly_when_stdin_closes() {
    let mut raw = Raw::start(&[]);
    raw.initialize("2025-11-25").await;
    let Raw {
        mut child, stdin, ..
    } = raw;
    drop(stdin);
    let status = tokio::time::timeout(TIMEOUT, child.wait())
        .await
        .expect("the server did not exit after stdin closed")
        .unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn the_subcommand_is_hidden_from_help() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_loop-tui"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("demo"), "{help}");
    assert!(!help.contains("mcp-bridge"), "{help}");
}
