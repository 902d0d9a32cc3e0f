//! `loop-tui mcp-bridge`: the stdio MCP server each agent's CLI starts, built
//! with rmcp. It is a thin translator: it checks what it can without loop-tui
//! (an empty or oversized message), passes each tool call to the running
//! loop-tui over the bridge socket, and hands loop-tui's answer back to the
//! model, as a tool error when loop-tui refused the call. Every decision about
//! a message (valid target, echo suppression, queueing for the human) is
//! loop-tui's.
//!
//! Nothing but protocol goes to stdout; diagnostics go to stderr, which the
//! agent CLIs keep out of the model's sight.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ClientJsonRpcMessage, ContentBlock, ErrorData, Implementation, RequestId,
    ServerCapabilities, ServerConfig, ServerJsonRpcMessage,
};
use rmcp::transport::Transport;
use rmcp::{tool, tool_handler, tool_router, RoleServer, ServerHandler, ServiceExt};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::client::{BridgeClient, ClientError};
use super::protocol::{BridgeCall, DEFAULT_MAX_MESSAGE_BYTES, ENV_MAX_MESSAGE};

/// What the server tells the model about the bridge as a whole, in the
/// `initialize` answer.
const INSTRUCTIONS: &str = "\
You are one of several coding agents working side by side in loop-tui. These tools are \
the only way to talk to the other agents. Your normal replies are seen by the human, not \
by the other agents: whenever you answer another agent, or have something for it, use \
send_message. Never ask the human to pass a message on. A human approves, edits or \
rejects every message before it is typed into the other agent's input. Messages sent to \
you arrive in your input by themselves, marked with the sender's name. Keep each message \
self-contained (the other agent does not see your conversation) and do not send \
acknowledgements or thanks that carry no new information. Use bridge_status to learn the \
agents' names and states, and receive_messages only when a message you were told about \
did not arrive in your input.";

const SEND_DESCRIPTION: &str = "\
Send a message to another agent in this loop-tui run. This is the ONLY way another agent \
sees anything from you: your normal replies go to the human, not to the other agents, so \
when you reply to another agent's message, reply with send_message. Never ask the human \
to relay a message. A human approves (and may edit or reject) each message before it is \
typed into the other agent's input; the result says whether it was queued or delivered. \
Make each message self-contained: the receiver cannot see your conversation, so include \
the file paths, code, findings or questions it needs. Do not send acknowledgements, \
thanks or \"ok\" without new information.";

const RECEIVE_DESCRIPTION: &str = "\
Fetch the messages other agents sent you that you have not received yet. Messages \
normally arrive by themselves, typed into your input, so you rarely need this: use it \
only as a fallback, when a message is mentioned (by the human, by another agent or by \
bridge_status) but did not arrive in your input.";

const STATUS_DESCRIPTION: &str = "\
Show this loop-tui run: the agents' names (the valid targets for send_message) and what \
each is doing, how many messages wait for the human's approval, and the relay mode. Use \
it to learn whom you can message.";

const EMPTY_TARGET: &str = "send_message needs a target: the name of the agent to send to. \
                            Call bridge_status to see the agents in this run.";

const EMPTY_MESSAGE: &str = "The message is empty. Put the complete text the other agent \
                             should read in `message`.";

/// The arguments of `send_message`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SendMessageArgs {
    // The descriptions go to the model in the input schema; doc comments
    // would carry their line breaks into it.
    #[schemars(
        description = "The name of the agent to send to, as bridge_status lists it (for example \"codex\" or \"claude\")."
    )]
    pub target: String,
    #[schemars(description = "The complete, self-contained text for the other agent to read.")]
    pub message: String,
}

/// The MCP service: three tools, each one bridge call.
#[derive(Debug, Clone)]
pub struct BridgeServer {
    /// The bridge to talk to, or why there is none: the server still
    /// answers `tools/list` outside loop-tui, and explains on each call.
    bridge: Result<BridgeClient, String>,
    max_message_bytes: usize,
    /// True while this process holds its presence connection to loop-tui,
    /// or is opening it: loop-tui shows the agent's bridge as up while
    /// that connection is open, and as down once this process ends.
    present: Arc<AtomicBool>,
    tool_router: ToolRouter<Self>,
}

impl BridgeServer {
    /// A server talking to `bridge`; `Err` makes every tool call fail with
    /// that error's text. Messages over `max_message_bytes` are refused
    /// before they reach loop-tui.
    pub fn new(bridge: Result<BridgeClient, ClientError>, max_message_bytes: usize) -> Self {
        Self {
            bridge: bridge.map_err(|err| err.to_string()),
            max_message_bytes,
            present: Arc::new(AtomicBool::new(false)),
            tool_router: Self::tool_router(),
        }
    }

    /// A server configured from the environment loop-tui gave the agent.
    pub fn from_env() -> Self {
        let bridge = BridgeClient::from_env();
        if let Err(err) = &bridge {
            eprintln!("loop-tui mcp-bridge: {err}; serving anyway, every tool call will say so");
        }
        Self::new(bridge, max_message_bytes_from_env())
    }

    /// Makes one bridge call and turns loop-tui's answer into a tool result.
    async fn call(&self, call: BridgeCall) -> CallToolResult {
        let client = match &self.bridge {
            Ok(client) => client.clone(),
            Err(text) => return tool_error(text.clone()),
        };
        // The socket client blocks for up to its reply timeout. On the
        // blocking pool that wait holds no runtime thread, so the server
        // keeps reading stdin and answering other requests meanwhile.
        match tokio::task::spawn_blocking(move || client.call(call)).await {
            Ok(Ok(reply)) if reply.ok => {
                // loop-tui is reachable: if the presence was lost (loop-tui
                // went away and is back at the same socket), open it again.
                let _ = self.keep_presence();
                CallToolResult::success(vec![ContentBlock::text(reply.text)])
            }
            Ok(Ok(reply)) if reply.text.trim().is_empty() => {
                tool_error("loop-tui refused the call without saying why".into())
            }
            Ok(Ok(reply)) => tool_error(reply.text),
            Ok(Err(err)) => tool_error(err.to_string()),
            Err(err) => tool_error(format!("the bridge call failed inside mcp-bridge: {err}")),
        }
    }

    /// Opens this process's presence connection unless it is open: a
    /// `Hello` that loop-tui answers, then the connection held on a thread
    /// of its own until loop-tui closes it. The process ending closes it
    /// too, which is how loop-tui learns that this agent's bridge is gone.
    /// The receiver, if any, is told once loop-tui has answered the hello.
    fn keep_presence(&self) -> Option<tokio::sync::oneshot::Receiver<()>> {
        let Ok(client) = &self.bridge else {
            return None;
        };
        if self.present.swap(true, Ordering::SeqCst) {
            return None;
        }
        let client = client.clone();
        let present = Arc::clone(&self.present);
        let (answered, on_answer) = tokio::sync::oneshot::channel();
        // A plain thread, not the runtime's blocking pool: it lives as long
        // as the process, and the runtime must not wait for it to end.
        let spawned = std::thread::Builder::new()
            .name("bridge-presence".into())
            .spawn(move || {
                let announced = client.announce();
                let _ = answered.send(());
                match announced {
                    Ok(presence) => presence.wait_closed(),
                    Err(err) => eprintln!(
                        "loop-tui mcp-bridge: could not tell loop-tui this agent is connected: {err}"
                    ),
                }
                present.store(false, Ordering::SeqCst);
            });
        if spawned.is_err() {
            self.present.store(false, Ordering::SeqCst);
            return None;
        }
        Some(on_answer)
    }

    /// Checks a message before it goes to loop-tui, returning the text of
    /// the tool error that tells the model how to fix its call.
    fn check_send(&self, target: &str, message: &str) -> Result<(), String> {
        if target.trim().is_empty() {
            return Err(EMPTY_TARGET.into());
        }
        if message.trim().is_empty() {
            return Err(EMPTY_MESSAGE.into());
        }
        if message.len() > self.max_message_bytes {
            return Err(format!(
                "The message is {} bytes, over the bridge's limit of {} bytes, and was not \
                 sent. Split it into several self-contained messages, or summarise it (for \
                 example, point to files instead of pasting them), and send again.",
                message.len(),
                self.max_message_bytes
            ));
        }
        Ok(())
    }
}

#[tool_router]
impl BridgeServer {
    #[tool(description = SEND_DESCRIPTION)]
    async fn send_message(
        &self,
        Parameters(SendMessageArgs { target, message }): Parameters<SendMessageArgs>,
    ) -> CallToolResult {
        if let Err(text) = self.check_send(&target, &message) {
            return tool_error(text);
        }
        self.call(BridgeCall::Send {
            target: target.trim().to_owned(),
            message,
        })
        .await
    }

    #[tool(description = RECEIVE_DESCRIPTION)]
    async fn receive_messages(&self) -> CallToolResult {
        self.call(BridgeCall::Receive).await
    }

    #[tool(
        description = STATUS_DESCRIPTION,
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn bridge_status(&self) -> CallToolResult {
        self.call(BridgeCall::Status).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for BridgeServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("loop-tui", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    /// Tells loop-tui this agent's bridge is up, and keeps telling it for
    /// as long as this process runs, so its pane can say so (and a human
    /// knows the agent can reach its peer). Best effort: the session works
    /// the same if loop-tui cannot be told.
    fn on_initialized(
        &self,
        _context: rmcp::service::NotificationContext<RoleServer>,
    ) -> impl std::future::Future<Output = ()> + Send + '_ {
        let answered = self.keep_presence();
        async move {
            // The first tool call comes after loop-tui knows of the agent.
            if let Some(answered) = answered {
                let _ = answered.await;
            }
        }
    }
}

fn tool_error(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

/// The message cap from `LOOP_TUI_MAX_MESSAGE_BYTES`, or the default when it
/// is unset or not a positive number.
fn max_message_bytes_from_env() -> usize {
    let Ok(value) = std::env::var(ENV_MAX_MESSAGE) else {
        return DEFAULT_MAX_MESSAGE_BYTES;
    };
    parse_max_message_bytes(&value).unwrap_or_else(|| {
        eprintln!(
            "loop-tui mcp-bridge: {ENV_MAX_MESSAGE}={value:?} is not a positive number of \
             bytes; using {DEFAULT_MAX_MESSAGE_BYTES}"
        );
        DEFAULT_MAX_MESSAGE_BYTES
    })
}

fn parse_max_message_bytes(value: &str) -> Option<usize> {
    value.trim().parse().ok().filter(|&bytes| bytes > 0)
}

/// Serves MCP on stdin and stdout until the client closes stdin. This is the
/// whole `loop-tui mcp-bridge` subcommand.
pub fn run_stdio() -> anyhow::Result<()> {
    // One thread is plenty for one client; bridge calls wait on the
    // blocking pool, never on this thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async {
        let (stdin, stdout) = rmcp::transport::stdio_pipes();
        serve(BridgeServer::from_env(), stdin, stdout).await
    })
}

/// Serves `server` over newline-delimited JSON-RPC on `reader` and `writer`
/// until `reader` ends.
pub async fn serve<R, W>(server: BridgeServer, reader: R, writer: W) -> anyhow::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let running = server
        .serve(LineTransport::new(reader, writer))
        .await
        .context("the MCP client did not complete the initialize handshake")?;
    running
        .waiting()
        .await
        .context("the MCP session ended with an error")?;
    Ok(())
}

/// The longest JSON-RPC line read from the client. A message at the cap can
/// grow up to six times when JSON-escaped; the rest is headroom for the
/// request around it and for a larger configured cap.
const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Newline-delimited JSON-RPC over a reader and a writer, like rmcp's own
/// stdio transport, except in how it treats a line it cannot use: rmcp
/// silently ignores a line that is not JSON, which leaves a client waiting
/// for an answer that never comes. Here such a line is answered with a
/// JSON-RPC parse error (-32700, id null), a request whose shape is wrong
/// with an error carrying its id when it has one, and the session goes on.
struct LineTransport<R, W> {
    reader: BufReader<R>,
    /// The line being read. It lives here, not in `receive`, because rmcp
    /// polls `receive` in a `select!` and drops it whenever something else
    /// is ready: a partial line must survive that.
    line: Vec<u8>,
    /// True while skipping the rest of a line that was too long.
    discarding: bool,
    writer: Arc<tokio::sync::Mutex<W>>,
}

/// What one bounded line read produced.
enum LineRead {
    Complete,
    TooLong,
    Eof,
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    fn new(reader: R, writer: W) -> Self {
        Self {
            reader: BufReader::new(reader),
            line: Vec::new(),
            discarding: false,
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
        }
    }

    /// Reads up to the next newline into `self.line`, never holding more
    /// than `MAX_LINE_BYTES`. Nothing is consumed across an `.await`
    /// without being stored, so a cancelled read resumes where it stopped.
    async fn read_line(&mut self) -> io::Result<LineRead> {
        loop {
            let (consumed, done) = {
                let available = self.reader.fill_buf().await?;
                if available.is_empty() {
                    return Ok(LineRead::Eof);
                }
                let newline = available.iter().position(|&b| b == b'\n');
                let take = newline.map_or(available.len(), |at| at + 1);
                if self.discarding {
                    self.discarding = newline.is_none();
                    (take, None)
                } else if self.line.len() + take > MAX_LINE_BYTES {
                    self.line.clear();
                    self.discarding = newline.is_none();
                    (take, Some(LineRead::TooLong))
                } else {
                    self.line.extend_from_slice(&available[..take]);
                    (take, newline.map(|_| LineRead::Complete))
                }
            };
            self.reader.consume(consumed);
            if let Some(done) = done {
                return Ok(done);
            }
        }
    }

    /// Sends `message` on its own task: `receive` may be dropped at any
    /// await, and a half-written answer would break the framing.
    fn reply_in_background(&mut self, message: ServerJsonRpcMessage) {
        let send = self.send(message);
        tokio::spawn(async move {
            if let Err(err) = send.await {
                eprintln!("loop-tui mcp-bridge: could not answer an unusable request: {err}");
            }
        });
    }
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let writer = Arc::clone(&self.writer);
        let line = serde_json::to_vec(&item).map(|mut line| {
            line.push(b'\n');
            line
        });
        async move {
            let line = line.map_err(io::Error::from)?;
            // One lock around the whole line and its flush keeps concurrent
            // answers from interleaving on stdout.
            let mut writer = writer.lock().await;
            writer.write_all(&line).await?;
            writer.flush().await
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            match self.read_line().await {
                Ok(LineRead::Complete) => {}
                Ok(LineRead::TooLong) => {
                    eprintln!(
                        "loop-tui mcp-bridge: discarded a request line over {MAX_LINE_BYTES} bytes"
                    );
                    self.reply_in_background(ServerJsonRpcMessage::error(
                        ErrorData::invalid_request(
                            format!("request discarded: the line is over {MAX_LINE_BYTES} bytes"),
                            None,
                        ),
                        None,
                    ));
                    continue;
                }
                // An unterminated last line is a message cut short by the
                // client closing its end; nobody would read an answer.
                Ok(LineRead::Eof) => return None,
                Err(err) => {
                    eprintln!("loop-tui mcp-bridge: could not read stdin: {err}");
                    return None;
                }
            }
            let incoming = parse_line(&self.line);
            self.line.clear();
            match incoming {
                Incoming::Message(message) => return Some(*message),
                Incoming::Ignore => {}
                Incoming::Reply(reply) => self.reply_in_background(*reply),
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.writer.lock().await.flush().await
    }
}

/// What to do with one line from the client.
#[derive(Debug)]
enum Incoming {
    Message(Box<ClientJsonRpcMessage>),
    /// Nothing to do: a blank line, or a notification that cannot be read
    /// (notifications are never answered).
    Ignore,
    Reply(Box<ServerJsonRpcMessage>),
}

/// Decodes one line (its newline included or not), and decides how to
/// answer one that is not a usable message.
fn parse_line(line: &[u8]) -> Incoming {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // RFC 8259 lets a parser skip a byte order mark, and some writers add one.
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Incoming::Ignore;
    }
    let err = match serde_json::from_slice::<ClientJsonRpcMessage>(line) {
        Ok(message) => return Incoming::Message(Box::new(message)),
        Err(err) => err,
    };
    let error_reply = |error: ErrorData, id: Option<RequestId>| {
        Incoming::Reply(Box::new(ServerJsonRpcMessage::error(error, id)))
    };
    if err.is_syntax() || err.is_eof() {
        eprintln!(
            "loop-tui mcp-bridge: answering a line that is not JSON with a parse error: {err}"
        );
        return error_reply(
            ErrorData::parse_error(format!("Parse error: {err}"), None),
            None,
        );
    }
    // Valid JSON that is not a valid message: answer with its id when it
    // has one, so the client can match the error to its request.
    let value: serde_json::Value = match serde_json::from_slice(line) {
        Ok(value) => value,
        Err(_) => return error_reply(ErrorData::invalid_request("Invalid request", None), None),
    };
    let method = value.get("method").and_then(serde_json::Value::as_str);
    let id = value
        .get("id")
        .filter(|id| !id.is_null())
        .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    eprintln!("loop-tui mcp-bridge: unusable message ({err}): {method:?}, id {id:?}");
    match (method, id) {
        // A notification is never answered, even with an error.
        (Some(_), None) if value.get("id").is_none() => Incoming::Ignore,
        (Some(method), Some(id)) => error_reply(
            ErrorData::invalid_params(format!("Invalid params for {method}: {err}"), None),
            Some(id),
        ),
        (_, id) => error_reply(
            ErrorData::invalid_request(format!("Invalid request: {err}"), None),
            id,
        ),
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::{ErrorCode, JsonRpcMessage};

    use super::*;

    fn error_of(incoming: Incoming) -> (ErrorCode, Option<RequestId>) {
        match incoming {
            Incoming::Reply(reply) => match *reply {
                JsonRpcMessage::Error(error) => (error.error.code, error.id),
                other => panic!("expected an error, got {other:?}"),
            },
            other => panic!("expected a reply, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_is_passed_on() {
        let line = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}
"#;
        assert!(matches!(parse_line(line), Incoming::Message(_)));
        let with_bom_and_crlf =
            b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n";
        assert!(matches!(
            parse_line(with_bom_and_crlf),
            Incoming::Message(_)
        ));
    }

    #[test]
    fn a_line_that_is_not_json_gets_a_parse_error_without_id() {
        for line in [
            &b"this is not json\n"[..],
            b"{\"jsonrpc\":\"2.0\",\"id\":1,",
            b"\xff\xfe\n",
        ] {
            assert_eq!(error_of(parse_line(line)), (ErrorCode::PARSE_ERROR, None));
        }
    }

    #[test]
    fn a_request_with_bad_params_gets_invalid_params_with_its_id() {
        let line = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":5}"#;
        assert_eq!(
            error_of(parse_line(line)),
            (ErrorCode::INVALID_PARAMS, Some(RequestId::Number(7)))
        );
    }

    #[test]
    fn json_that_is_no_message_gets_invalid_request() {
        for line in [&b"[]"[..], b"42", br#"{"jsonrpc":"2.0"}"#, br#"{"id":"a"}"#] {
            let (code, _) = error_of(parse_line(line));
            assert_eq!(
                code,
                ErrorCode::INVALID_REQUEST,
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn blank_lines_and_unreadable_notifications_are_not_answered() {
        assert!(matches!(parse_line(b"\n"), Incoming::Ignore));
        assert!(matches!(parse_line(b"  \r\n"), Incoming::Ignore));
        let line = br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":5}"#;
        assert!(matches!(parse_line(line), Incoming::Ignore));
    }

    #[test]
    fn the_message_cap_is_read_from_a_positive_number() {
        assert_eq!(parse_max_message_bytes("100"), Some(100));
        assert_eq!(parse_max_message_bytes(" 65536\n"), Some(65536));
        assert_eq!(parse_max_message_bytes("0"), None);
        assert_eq!(parse_max_message_bytes("64k"), None);
        assert_eq!(parse_max_message_bytes("-1"), None);
    }

    fn server(max: usize) -> BridgeServer {
        BridgeServer::new(Err(ClientError::NotConfigured("TEST")), max)
    }

    #[test]
    fn send_checks_explain_how_to_fix_the_call() {
        let server = server(10);
        let empty_target = server.check_send(" ", "hello").unwrap_err();
        assert!(empty_target.contains("bridge_status"), "{empty_target}");
        let empty = server.check_send("codex", " \n\t").unwrap_err();
        assert!(empty.contains("empty"), "{empty}");
        let big = server.check_send("codex", "12345678901").unwrap_err();
        assert!(
            big.contains("11 bytes") && big.contains("10 bytes"),
            "{big}"
        );
        assert!(big.contains("Split") && big.contains("summarise"), "{big}");
        assert_eq!(server.check_send("codex", "1234567890"), Ok(()));
        // The cap counts bytes, not characters: five 2-byte letters fit,
        // six do not.
        assert_eq!(server.check_send("codex", "ééééé"), Ok(()));
        assert!(server.check_send("codex", "éééééé").is_err());
    }
}
