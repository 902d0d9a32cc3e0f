//! The agents loop-tui launches: built-in launch profiles (claude, codex,
//! gemini, custom commands, the demo agents), how each registers the MCP
//! bridge and gets its role prompt. Core only: no ratatui here.

pub mod profile;
pub mod role;
pub mod task;
