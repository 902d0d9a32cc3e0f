//! The wire protocol between `loop-tui mcp-bridge` (one per agent, started
//! by the agent's CLI) and the running loop-tui: one JSON object per line
//! over the run's Unix socket, a request answered by exactly one reply.
//!
//! Every request carries the run's secret token (from the agent's
//! environment) and the caller's agent name; loop-tui refuses a request
//! with a wrong token and closes that connection.

use serde::{Deserialize, Serialize};

/// Environment variable naming the run's bridge socket.
pub const ENV_SOCKET: &str = "LOOP_TUI_BRIDGE_SOCKET";
/// Environment variable holding the run's secret token.
pub const ENV_TOKEN: &str = "LOOP_TUI_BRIDGE_TOKEN";
/// Environment variable holding the name of the agent a pane runs.
pub const ENV_AGENT: &str = "LOOP_TUI_AGENT";
/// Environment variable holding the run id.
pub const ENV_RUN_ID: &str = "LOOP_TUI_RUN_ID";
/// Environment variable holding the largest message in bytes.
pub const ENV_MAX_MESSAGE: &str = "LOOP_TUI_MAX_MESSAGE_BYTES";

/// The largest message text accepted, in bytes (64 KiB): far more than a
/// review comment needs, small enough to show and journal at once.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The longest request line the socket reads, in bytes. Larger lines are
/// refused without being buffered whole, so a runaway client cannot make
/// loop-tui allocate without bound. JSON escaping can grow text up to six
/// times (`\u001b`), hence the factor.
pub const MAX_REQUEST_LINE_BYTES: usize = DEFAULT_MAX_MESSAGE_BYTES * 6 + 4096;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeRequest {
    pub token: String,
    /// The caller's agent name (`LOOP_TUI_AGENT`).
    pub agent: String,
    pub call: BridgeCall,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BridgeCall {
    /// Send `message` to the agent named `target` (case-insensitive).
    Send { target: String, message: String },
    /// Messages for the caller it has not received yet.
    Receive,
    /// Run id, agents, their states, pending counts and relay mode.
    Status,
    /// The agent's MCP client finished initialising with `mcp-bridge`: its
    /// bridge tools are being loaded. loop-tui shows the agent as connected
    /// while the connection that said it stays open (the bridge process
    /// keeps it open as its presence), and as down once it closes.
    Hello,
}

/// The answer to one request: text for the model, and whether it is an
/// error (an MCP tool error, so the model sees why and can fix its call).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeReply {
    pub ok: bool,
    pub text: String,
}

impl BridgeReply {
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            text: text.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_json_lines() {
        let request = BridgeRequest {
            token: "t".into(),
            agent: "claude".into(),
            call: BridgeCall::Send {
                target: "codex".into(),
                message: "line one\nline two".into(),
            },
        };
        let line = serde_json::to_string(&request).unwrap();
        assert!(!line.contains('\n'), "one request is one line: {line}");
        assert!(line.contains(r#""type":"send""#), "{line}");
        assert_eq!(
            serde_json::from_str::<BridgeRequest>(&line).unwrap(),
            request
        );
    }
}
