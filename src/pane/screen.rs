//! A pane's emulator, shared between its PTY reader thread (which parses)
//! and the UI (which reads cells), as in alacritty's event loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::emulator::Emulator;

pub struct PaneScreen {
    emulator: Mutex<Box<dyn Emulator>>,
    /// Set by the reader after parsing, cleared by the app loop when it
    /// takes notice; only the transition to `true` wakes the loop, so a
    /// flood of output costs one wake-up per frame, not one per read.
    dirty: AtomicBool,
}

impl PaneScreen {
    pub fn new(emulator: Box<dyn Emulator>) -> Self {
        Self {
            emulator: Mutex::new(emulator),
            dirty: AtomicBool::new(false),
        }
    }

    /// Locks the emulator. A reader thread that panicked mid-parse leaves a
    /// screen that is still worth drawing, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Box<dyn Emulator>> {
        self.emulator
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Parses output and returns the replies the child is waiting for.
    pub fn feed(&self, bytes: &[u8]) -> Vec<u8> {
        let mut emulator = self.lock();
        emulator.process(bytes);
        emulator.take_replies()
    }

    /// While the child is inside a synchronized update, when its held-back
    /// output is shown anyway. The PTY layer keeps a timer on it (see
    /// `pty.rs`), so the app only needs this to draw at the right moment
    /// if it owns a screen without a PTY.
    pub fn sync_deadline(&self) -> Option<Instant> {
        self.lock().sync_deadline()
    }

    /// Shows the output of a synchronized update whose deadline has
    /// passed. `Some` with the replies to send to the child (answers to
    /// queries inside the update, often none) if output was shown, `None`
    /// if there was nothing to show.
    pub fn flush_expired_sync(&self, now: Instant) -> Option<Vec<u8>> {
        let mut emulator = self.lock();
        emulator
            .flush_expired_sync(now)
            .then(|| emulator.take_replies())
    }

    /// Shows whatever a synchronized update still holds back, deadline or
    /// not: the child has gone, no end of the update will come.
    pub fn flush_sync(&self) -> Option<Vec<u8>> {
        let deadline = self.sync_deadline()?;
        self.flush_expired_sync(deadline)
    }

    /// Marks the screen changed; true if the app loop needs a wake-up.
    pub fn mark_dirty(&self) -> bool {
        !self.dirty.swap(true, Ordering::AcqRel)
    }

    /// Acknowledges the change; the next output wakes the loop again.
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }
}
