//! Core of a pane: the child in its PTY, the emulator that parses its
//! output, and the encoders for what is sent to it. No ratatui here.

pub mod alacritty_emulator;
mod clipboard;
pub mod emulator;
#[cfg(test)]
mod emulator_tests;
pub mod history;
pub mod input;
pub mod keyboard;
mod kitty_keys;
pub mod pty;
pub mod replies;
pub mod screen;
pub mod sync;
mod utf8_carry;
pub mod vt100_emulator;

use std::fmt;

/// A pane's index in the layout, 0-based (shown 1-based to the user).
pub type PaneId = usize;

/// How a child ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildEnd {
    Exited(u32),
    /// Killed by a signal, named like `SIGKILL` where known.
    Signaled(String),
    /// The wait failed; the child is gone but its status is not known.
    Unknown,
}

impl ChildEnd {
    pub fn from_status(status: &portable_pty::ExitStatus) -> Self {
        match status.signal() {
            Some(description) => Self::Signaled(signal_name(description)),
            None => Self::Exited(status.exit_code()),
        }
    }
}

/// portable-pty reports a signal by its `strsignal` description; users
/// know the short names better.
fn signal_name(description: &str) -> String {
    let name = match description {
        "Hangup" => "SIGHUP",
        "Interrupt" => "SIGINT",
        "Quit" => "SIGQUIT",
        "Aborted" => "SIGABRT",
        "Killed" => "SIGKILL",
        "Segmentation fault" => "SIGSEGV",
        "Broken pipe" => "SIGPIPE",
        "Terminated" => "SIGTERM",
        "Bus error" => "SIGBUS",
        "Floating point exception" => "SIGFPE",
        "Illegal instruction" => "SIGILL",
        _ => description,
    };
    name.to_owned()
}

impl fmt::Display for ChildEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exited(code) => write!(f, "exited {code}"),
            Self::Signaled(name) => write!(f, "killed by {name}"),
            Self::Unknown => f.write_str("ended"),
        }
    }
}
