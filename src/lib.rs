//! loop-tui: a full-screen terminal multiplexer for agent-to-agent pair
//! programming.
//!
//! `pane` (PTYs, emulators, input encoding) and `plan` (PLAN.md parsed and
//! watched) are the core and never touch ratatui; `app` owns the state and
//! decides; `ui` only draws.

pub mod agents;
pub mod app;
pub mod bridge;
pub mod cli;
pub mod config;
pub mod demo;
pub mod keymap;
pub mod layout;
pub mod pane;
pub mod plan;
pub mod run_dir;
pub mod runs;
pub mod terminal;
pub mod ui;
