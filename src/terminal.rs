//! Puts the outer terminal into the modes loop-tui needs and restores it
//! exactly, from every exit path: normal return, error, panic and signal.

use std::io::{stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use anyhow::{Context, Result};
use crossterm::cursor::Show;
use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableMouseCapture, KeyboardEnhancementFlags, PopKeyboardEnhancementFlags,
    PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, supports_keyboard_enhancement, EnterAlternateScreen,
    LeaveAlternateScreen,
};

/// Whether the terminal is currently in loop-tui's modes; makes `restore`
/// idempotent, since Drop, the panic hook and signal handling may all run.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether loop-tui pushed kitty keyboard flags that `restore` must pop.
static KEYBOARD_PUSHED: AtomicBool = AtomicBool::new(false);

/// The kitty keyboard protocol flags loop-tui asks the outer terminal for,
/// when it supports the protocol:
/// - disambiguation, so that keys legacy encoding cannot tell apart reach
///   loop-tui as themselves: Shift+Enter (Claude Code's newline) instead of
///   Enter, Esc without a timeout, Ctrl+I apart from Tab;
/// - event types, so that a pane whose program asked for key releases can
///   be sent them.
///
/// Not "alternate keys": crossterm then reports Ctrl+Shift+A as Ctrl+'A'
/// without Shift, losing what the panes' kitty encoding needs. Not "all
/// keys as escape codes": plain typing stays plain text, which keeps pastes
/// from terminals without bracketed paste and IME input working.
const OUTER_KEYBOARD_FLAGS: KeyboardEnhancementFlags =
    KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES
        .union(KeyboardEnhancementFlags::REPORT_EVENT_TYPES);
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
        push_keyboard_flags();
        Ok(Self(()))
    }
}

/// Turns on the kitty keyboard protocol in the outer terminal if it says it
/// supports it. The question (`CSI ? u` followed by DA1) is answered at
/// once by every terminal, which all answer DA1; crossterm gives up after
/// two seconds if nothing answers. It must be asked before the input thread
/// starts, which would otherwise take the answer as input. The flags are
/// pushed on the alternate screen, whose stack the terminal keeps apart
/// from the shell's, and popped before leaving it.
fn push_keyboard_flags() {
    if !matches!(supports_keyboard_enhancement(), Ok(true)) {
        return;
    }
    if execute!(stdout(), PushKeyboardEnhancementFlags(OUTER_KEYBOARD_FLAGS)).is_ok() {
        KEYBOARD_PUSHED.store(true, Ordering::SeqCst);
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves every mode loop-tui entered: the keyboard protocol, mouse
/// reporting, bracketed paste, the alternate screen and raw mode, and shows
/// the cursor again.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = stdout();
    // Errors are ignored: the terminal may already be gone (SIGHUP), and
    // every later step must still be tried. The keyboard flags belong to
    // the alternate screen's stack, so they are popped before leaving it.
    if KEYBOARD_PUSHED.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
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
