//! Puts the outer terminal into the modes loop-tui needs and restores it
//! exactly, from every exit path: normal return, error, panic and signal.

use std::io::{stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use anyhow::{Context, Result};
use crossterm::cursor::Show;
use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};

/// Whether the terminal is currently in loop-tui's modes; makes `restore`
/// idempotent, since Drop, the panic hook and signal handling may all run.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Owns the outer terminal's modes for as long as it lives.
pub struct TerminalGuard(());

impl TerminalGuard {
    pub fn enter() -> Result<Self> {
        install_panic_hook();
        enable_raw_mode().context("failed to put the terminal into raw mode")?;
        ACTIVE.store(true, Ordering::SeqCst);
        execute!(
            stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste,
            EnableMouseCapture
        )
        .context("failed to set up the terminal")?;
        Ok(Self(()))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves every mode loop-tui entered: mouse reporting, bracketed paste,
/// the alternate screen and raw mode, and shows the cursor again.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = stdout();
    // Errors are ignored: the terminal may already be gone (SIGHUP), and
    // every later step must still be tried.
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        DisableFocusChange,
        LeaveAlternateScreen,
        Show
    );
    let _ = out.flush();
    let _ = disable_raw_mode();
}

/// Restores the terminal before the panic message prints, so the message
/// is readable and the shell is usable afterwards.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Only a panic of the main thread ends loop-tui; restoring the
            // terminal under a still-running UI would garble it.
            if std::thread::current().name() == Some("main") {
                restore();
            }
            previous(info);
        }));
    });
}
