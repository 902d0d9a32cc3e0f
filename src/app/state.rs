//! Everything the app loop owns. The panes' emulators are shared with
//! their reader threads; everything else is only touched by `update`.

use std::sync::Arc;
use std::time::Instant;

use crate::keymap::Keymap;
use crate::pane::emulator::{EmulatorKind, PaneSize};
use crate::pane::pty::PaneProgram;
use crate::pane::screen::PaneScreen;
use crate::pane::ChildEnd;

/// What one pane runs and how it is labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneSpec {
    pub title: String,
    pub program: PaneProgram,
}

/// Where a pane's child is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildState {
    Running,
    Ended(ChildEnd),
    /// The program could not be started; the text says why.
    FailedToStart(String),
}

impl ChildState {
    pub fn label(&self) -> String {
        match self {
            Self::Running => "running".to_owned(),
            Self::Ended(end) => end.to_string(),
            Self::FailedToStart(_) => "failed to start".to_owned(),
        }
    }
}

pub struct PaneState {
    pub spec: PaneSpec,
    pub screen: Arc<PaneScreen>,
    pub child: ChildState,
    /// Increases with every (re)start, so events from an earlier child of
    /// this pane are recognised and ignored.
    pub generation: u32,
    /// The size the PTY and emulator were last given.
    pub size: PaneSize,
}

/// What keys currently mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keys go to the focused pane.
    Normal,
    /// The prefix was pressed; the next key is a loop-tui command.
    Prefix,
    /// Keys move the focused pane's scrollback view.
    Scroll,
    Help,
    /// Quit was asked while children are running.
    ConfirmQuit,
}

pub struct AppState {
    pub panes: Vec<PaneState>,
    pub focused: usize,
    pub zoomed: bool,
    pub mode: Mode,
    pub keymap: Keymap,
    /// The outer terminal's size (columns, rows).
    pub term_size: (u16, u16),
    /// When a burst of resizes has settled and the PTYs get the new size.
    pub resize_due: Option<Instant>,
    /// A one-line message for the status bar.
    pub notice: Option<String>,
    pub scrollback_lines: usize,
    pub emulator: EmulatorKind,
    /// Something visible changed since the last frame.
    pub needs_redraw: bool,
    pub quitting: bool,
}

impl AppState {
    pub fn new(specs: Vec<PaneSpec>, term_size: (u16, u16), scrollback_lines: usize) -> Self {
        Self::with_emulator(specs, term_size, scrollback_lines, EmulatorKind::default())
    }

    pub fn with_emulator(
        specs: Vec<PaneSpec>,
        term_size: (u16, u16),
        scrollback_lines: usize,
        emulator: EmulatorKind,
    ) -> Self {
        let mut state = Self {
            panes: Vec::with_capacity(specs.len()),
            focused: 0,
            zoomed: false,
            mode: Mode::Normal,
            keymap: Keymap::default(),
            term_size,
            resize_due: None,
            notice: None,
            scrollback_lines,
            emulator,
            needs_redraw: true,
            quitting: false,
        };
        let count = specs.len();
        for (i, spec) in specs.into_iter().enumerate() {
            let size = state.layout_size(i, count);
            state.panes.push(PaneState {
                spec,
                screen: Arc::new(state.new_screen(size)),
                child: ChildState::Running,
                generation: 0,
                size,
            });
        }
        state
    }

    /// The PTY size pane `index` gets in the current layout.
    pub fn layout_size(&self, index: usize, count: usize) -> PaneSize {
        let layout = crate::layout::frame_layout(self.area(), count, self.zoomed_pane());
        layout.panes.get(index).copied().flatten().map_or(
            self.panes
                .get(index)
                .map_or(PaneSize { rows: 1, cols: 1 }, |p| p.size),
            crate::layout::pty_size,
        )
    }

    pub fn area(&self) -> ratatui::layout::Rect {
        ratatui::layout::Rect::new(0, 0, self.term_size.0, self.term_size.1)
    }

    pub fn zoomed_pane(&self) -> Option<usize> {
        self.zoomed.then_some(self.focused)
    }

    /// A fresh screen for a pane of `size`.
    pub fn new_screen(&self, size: PaneSize) -> PaneScreen {
        PaneScreen::new(self.emulator.create(size, self.scrollback_lines))
    }

    pub fn running_count(&self) -> usize {
        self.panes
            .iter()
            .filter(|p| p.child == ChildState::Running)
            .count()
    }
}
