//! A pane's emulator, shared between its PTY reader thread (which parses)
//! and the UI (which reads cells), as in alacritty's event loop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

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

    /// Marks the screen changed; true if the app loop needs a wake-up.
    pub fn mark_dirty(&self) -> bool {
        !self.dirty.swap(true, Ordering::AcqRel)
    }

    /// Acknowledges the change; the next output wakes the loop again.
    pub fn take_dirty(&self) -> bool {
        self.dirty.swap(false, Ordering::AcqRel)
    }
}
