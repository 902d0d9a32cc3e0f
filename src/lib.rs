//! loop-tui: a full-screen terminal multiplexer for agent-to-agent pair
//! programming.
//!
//! `pane` is the core (PTYs, emulators, input encoding) and never touches
//! ratatui; `app` owns the state and decides; `ui` only draws.

pub mod agents;
pub mod app;
pub mod bridge;
pub mod cli;
pub mod config;
pub mod demo;
pub mod keymap;
pub mod layout;
pub mod pane;
pub mod run_dir;
pub mod runs;
pub mod terminal;
pub mod ui;
