//! The built-in demo agent: a scripted stand-in for a coding agent TUI, so
//! loop-tui can be tried and tested end to end without API keys or network.
//!
//! Given a peer (`--peer`), the agent talks to it through loop-tui's real
//! bridge, as a real agent's `send_message` tool would: a worker sends each
//! task typed by the human to its peer for review, a reviewer answers each
//! delivered message with a scripted review, and the worker takes the
//! review without answering, so every task makes one round trip through
//! the human's approve / edit / reject.
//!
//! `mod.rs` owns the terminal and the event loop, `state` the plain state
//! and its updates, `view` the drawing, `script` the canned replies,
//! `inbox` the recognition of loop-tui's deliveries and `bridge` the
//! bridge calls made on background threads.

mod bridge;
mod inbox;
mod script;
mod state;
mod view;

use std::io::{self, Stdout};
use std::time::Instant;

use anyhow::Context as _;
use crossterm::event::{self, DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use bridge::Bridge;
pub use script::scripted_reply;
use state::{DemoState, Flow};

/// Runs the demo agent on the current terminal (stdin/stdout are a PTY)
/// until the user quits. With a `peer`, messages go through the bridge
/// loop-tui described in the environment; without loop-tui each attempt
/// shows why it failed in the transcript.
pub fn run_demo_agent(name: &str, peer: Option<&str>) -> anyhow::Result<()> {
    let bridge = Bridge::from_env();
    let state = DemoState::with_peer(name, peer, bridge.describe());
    let _guard = TerminalGuard::enter()?;
    let mut terminal =
        Terminal::new(CrosstermBackend::new(io::stdout())).context("creating the terminal")?;
    event_loop(&mut terminal, state, &bridge)
}

fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    mut state: DemoState,
    bridge: &Bridge,
) -> anyhow::Result<()> {
    loop {
        for outgoing in std::mem::take(&mut state.outbox) {
            bridge.send(outgoing);
        }
        for (call, result) in bridge.results() {
            state.call_finished(call, result);
        }
        terminal
            .draw(|frame| view::draw(frame, &state))
            .context("drawing")?;
        // When idle the loop blocks in `read` with no timeout, so an agent
        // nobody talks to costs no CPU; only the spinner needs a timer.
        let event = match state.next_deadline(Instant::now()) {
            None => Some(event::read().context("reading an event")?),
            Some(deadline) => {
                let timeout = deadline.saturating_duration_since(Instant::now());
                if event::poll(timeout).context("polling for events")? {
                    Some(event::read().context("reading an event")?)
                } else {
                    None
                }
            }
        };
        let now = Instant::now();
        if let Some(event) = event {
            if state.handle_event(&event, now) == Flow::Quit {
                return Ok(());
            }
        }
        state.tick(now);
    }
}

/// Puts the terminal into raw mode, the alternate screen and bracketed
/// paste, and undoes all of it on drop, so the shell gets a sane terminal
/// back even when the loop fails or panics.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<Self> {
        enable_raw_mode().context("enabling raw mode")?;
        // The guard exists from here on, so a failure below still restores
        // raw mode.
        let guard = Self;
        // The screen is cleared with a plain escape sequence rather than
        // `Terminal::clear`, which asks the terminal for the cursor position
        // and fails when the host emulator does not answer that query.
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            Clear(ClearType::All),
            EnableBracketedPaste
        )
        .context("entering the alternate screen")?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Errors are ignored: there is nothing better to do while tearing
        // down, and each step should still be attempted.
        let _ = execute!(
            io::stdout(),
            DisableBracketedPaste,
            LeaveAlternateScreen,
            crossterm::cursor::Show
        );
        let _ = disable_raw_mode();
    }
}
