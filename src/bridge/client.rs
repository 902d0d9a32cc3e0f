//! The blocking client side of the bridge socket, used by `mcp-bridge` and
//! by the demo agents. One connection per call keeps it simple and makes a
//! restarted loop-tui reachable again without any reconnect logic.

use std::io::{BufRead, BufReader, Write};
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
    #[error("loop-tui's bridge is not reachable at {path}: {source}. Is loop-tui still running?")]
    Unreachable {
        path: String,
        source: std::io::Error,
    },
    #[error("loop-tui's bridge sent an answer that is not valid: {0}")]
    BadReply(String),
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
        let unreachable = |source| ClientError::Unreachable {
            path: self.socket.display().to_string(),
            source,
        };
        let mut stream = UnixStream::connect(&self.socket).map_err(unreachable)?;
        stream
            .set_read_timeout(Some(REPLY_TIMEOUT))
            .map_err(unreachable)?;
        let request = BridgeRequest {
            token: self.token.clone(),
            agent: self.agent.clone(),
            call,
        };
        let mut line = serde_json::to_vec(&request)
            .map_err(|err| ClientError::BadReply(format!("could not encode the request: {err}")))?;
        line.push(b'\n');
        stream.write_all(&line).map_err(unreachable)?;
        let mut reply = String::new();
        BufReader::new(stream)
            .read_line(&mut reply)
            .map_err(unreachable)?;
        if reply.is_empty() {
            return Err(unreachable(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the connection closed without an answer",
            )));
        }
        serde_json::from_str(&reply).map_err(|err| ClientError::BadReply(err.to_string()))
    }
}
