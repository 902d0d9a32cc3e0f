//! The bridge: how agents message each other through loop-tui, and how the
//! human gates every message. Core only: no ratatui here.
//!
//! - `protocol`: the JSON lines spoken on the run's Unix socket;
//! - `client`: the blocking socket client used by `mcp-bridge` and the demo agents;
//! - `listener`: the socket server thread inside loop-tui (it only sends events);
//! - `relay`: the `RelayQueue` state machine (pending, approved, delivered, ...);
//! - `sanitize`: makes relayed text safe to type into another agent's PTY;
//! - `journal`: the fsynced `journal.jsonl` every message and decision goes to;
//! - `mcp_server`: the stdio MCP server (`loop-tui mcp-bridge`) built with rmcp.

pub mod client;
pub mod journal;
pub mod listener;
pub mod mcp_server;
pub mod protocol;
pub mod relay;
pub mod sanitize;
