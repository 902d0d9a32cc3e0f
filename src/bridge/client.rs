//! The blocking client side of the bridge socket, used by `mcp-bridge` and
//! by the demo agents. One connection per call keeps it simple and makes a
//! socket loop-tui re-created reachable again without any reconnect logic;
//! the one long-lived connection is the agent's presence (`announce`),
//! which tells loop-tui the agent's bridge is up until it closes.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use super::protocol::{BridgeCall, BridgeReply, BridgeRequest, ENV_AGENT, ENV_SOCKET, ENV_TOKEN};

/// How long a call may wait for loop-tui's answer. Sends are answered as
/// soon as the message is journalled, so this only trips when loop-tui is
/// stuck or gone.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "this process was not started by loop-tui ({0} is not set), so there is no bridge to talk to"
    )]
    NotConfigured(&'static str),
    /// The socket could not be reached: the call never got to loop-tui.
    #[error(
        "loop-tui's bridge is not reachable at {path}: {}. The call did not reach loop-tui, so \
         nothing was sent. Is loop-tui still running? If it is, it listens at that path again \
         within a second of the file being deleted: try once more. If it still fails, tell the \
         human that loop-tui's bridge is down; once loop-tui runs again, this agent must be \
         restarted from it to reconnect.",
        unreachable_reason(source)
    )]
    Unreachable {
        path: String,
        source: std::io::Error,
    },
    /// The request was sent, and no answer came: loop-tui may or may not
    /// have acted on it.
    #[error(
        "loop-tui's bridge at {path} took the call but did not answer ({source}): loop-tui may \
         have stopped while handling it, so it is not known whether the call took effect. Do \
         not assume a message was queued; tell the human, who sees every queued message in \
         loop-tui's bridge pane."
    )]
    NoAnswer {
        path: String,
        source: std::io::Error,
    },
    #[error("loop-tui's bridge sent an answer that is not valid: {0}")]
    BadReply(String),
    /// loop-tui answered a `Hello` with an error.
    #[error("loop-tui did not accept this agent's bridge: {0}")]
    Refused(String),
}

/// What a connection error means for someone who cannot see the socket.
fn unreachable_reason(source: &std::io::Error) -> String {
    match source.kind() {
        std::io::ErrorKind::NotFound => {
            "the socket file is gone (loop-tui has exited, or the file was deleted)".to_owned()
        }
        std::io::ErrorKind::ConnectionRefused => {
            "nothing is listening on it (loop-tui has exited or crashed)".to_owned()
        }
        _ => source.to_string(),
    }
}

/// An open presence connection: loop-tui shows the agent's bridge as up
/// while it is open, and as down once it closes, which happens by itself
/// when the process holding it ends, however it ends.
#[derive(Debug)]
pub struct Presence {
    stream: UnixStream,
    greeting: String,
}

impl Presence {
    /// loop-tui's answer to the `Hello` (`connected as claude`).
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// Blocks until loop-tui closes the connection (it exited, or was
    /// restarted): this agent's presence is gone then.
    pub fn wait_closed(mut self) {
        let mut buf = [0u8; 256];
        // loop-tui sends nothing more on a presence connection; anything it
        // did send is read and dropped until the end.
        while matches!(self.stream.read(&mut buf), Ok(n) if n > 0) {}
    }
}

/// Where and as whom to talk to the bridge.
#[derive(Debug, Clone)]
pub struct BridgeClient {
    pub socket: PathBuf,
    pub token: String,
    pub agent: String,
}

impl BridgeClient {
    /// Reads the socket path, token and agent name loop-tui put in the
    /// environment of the pane's program.
    pub fn from_env() -> Result<Self, ClientError> {
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or(ClientError::NotConfigured(name))
        };
        Ok(Self {
            socket: PathBuf::from(var(ENV_SOCKET)?),
            token: var(ENV_TOKEN)?,
            agent: var(ENV_AGENT)?,
        })
    }

    /// Sends one call and waits for its reply.
    pub fn call(&self, call: BridgeCall) -> Result<BridgeReply, ClientError> {
        let mut stream = self.connect()?;
        self.exchange(&mut stream, call)
    }

    /// Says `Hello` on a connection of its own and keeps it open as this
    /// agent's presence (see [`Presence`]).
    pub fn announce(&self) -> Result<Presence, ClientError> {
        let mut stream = self.connect()?;
        let reply = self.exchange(&mut stream, BridgeCall::Hello)?;
        if !reply.ok {
            return Err(ClientError::Refused(reply.text));
        }
        // The presence waits for loop-tui's end however long it takes.
        stream
            .set_read_timeout(None)
            .map_err(|source| self.no_answer(source))?;
        Ok(Presence {
            stream,
            greeting: reply.text,
        })
    }

    fn connect(&self) -> Result<UnixStream, ClientError> {
        let unreachable = |source| ClientError::Unreachable {
            path: self.socket.display().to_string(),
            source,
        };
        let stream = UnixStream::connect(&self.socket).map_err(unreachable)?;
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(unreachable)?;
        Ok(stream)
    }

    fn no_answer(&self, source: std::io::Error) -> ClientError {
        ClientError::NoAnswer {
            path: self.socket.display().to_string(),
            source,
        }
    }

    /// Sends one request on `stream` and reads its reply line.
    fn exchange(
        &self,
        stream: &mut UnixStream,
        call: BridgeCall,
    ) -> Result<BridgeReply, ClientError> {
        let request = BridgeRequest {
            token: self.token.clone(),
            agent: self.agent.clone(),
            call,
        };
        let mut line = serde_json::to_vec(&request)
            .map_err(|err| ClientError::BadReply(format!("could not encode the request: {err}")))?;
        line.push(b'\n');
        stream
            .write_all(&line)
            .map_err(|source| self.no_answer(source))?;
        // loop-tui sends nothing after the reply, so the buffer cannot
        // take anything a presence would need later.
        let mut reply = String::new();
        BufReader::new(&*stream)
            .read_line(&mut reply)
            .map_err(|source| self.no_answer(source))?;
        if reply.is_empty() {
            return Err(self.no_answer(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the connection closed without an answer",
            )));
        }
        serde_json::from_str(&reply).map_err(|err| ClientError::BadReply(err.to_string()))
    }
}
