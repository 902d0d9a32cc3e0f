//! The terminal emulator behind a small trait, so the rest of loop-tui never
//! depends on one emulator crate (and never on ratatui: this is core).

use std::time::Instant;

pub use super::keyboard::KeyboardFlags;
pub use super::replies::Rgb;
use super::replies::{DEFAULT_BACKGROUND, DEFAULT_FOREGROUND};

/// A colour as a child program asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CellColor {
    /// The outer terminal's own default colour.
    #[default]
    Default,
    /// One of the 256 indexed colours (0–15 are the ANSI 16).
    Indexed(u8),
    /// A 24-bit colour.
    Rgb(u8, u8, u8),
}

/// Text attributes of one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct CellAttrs {
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
}

/// The text of one cell, borrowed in whichever form the emulator keeps it,
/// so reading a screen allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellText<'a> {
    Empty,
    Char(char),
    /// A whole grapheme cluster.
    Str(&'a str),
    /// A base character followed by zero-width characters (combining marks).
    Combined(char, &'a [char]),
}

impl CellText<'_> {
    /// Nothing visible: empty or a plain space.
    pub fn is_blank(&self) -> bool {
        matches!(self, Self::Empty | Self::Char(' '))
            || matches!(self, Self::Str(s) if s.is_empty() || *s == " ")
    }

    pub fn push_to(&self, out: &mut String) {
        match self {
            Self::Empty | Self::Str("") => out.push(' '),
            Self::Char(c) => out.push(*c),
            Self::Str(s) => out.push_str(s),
            Self::Combined(c, rest) => {
                out.push(*c);
                out.extend(rest.iter());
            }
        }
    }
}

/// One visible cell, borrowed from the emulator while its lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellView<'a> {
    pub text: CellText<'a>,
    pub fg: CellColor,
    pub bg: CellColor,
    pub attrs: CellAttrs,
    /// The first half of a double-width character (CJK, emoji).
    pub wide: bool,
    /// The second half of a double-width character: draw nothing here.
    pub wide_continuation: bool,
}

/// Where the cursor is and whether the child wants it shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CursorState {
    pub row: u16,
    pub col: u16,
    pub visible: bool,
}

/// Which mouse events the child asked to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MouseMode {
    #[default]
    None,
    /// X10: button presses only.
    Press,
    /// Normal tracking (1000): presses and releases.
    PressRelease,
    /// Button-event tracking (1002): also motion while a button is held.
    ButtonMotion,
    /// Any-event tracking (1003): all motion.
    AnyMotion,
}

/// How mouse events must be encoded for the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MouseEncoding {
    /// `ESC [ M` followed by three bytes, coordinates limited to 223.
    #[default]
    Default,
    /// Like default, but coordinates are UTF-8 encoded (1005).
    Utf8,
    /// `ESC [ < b ; x ; y M/m` (1006).
    Sgr,
}

/// The input modes a child has set, which decide how keys, pastes and mouse
/// events are encoded for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputModes {
    /// DECCKM: arrows send `ESC O A` instead of `ESC [ A`.
    pub application_cursor: bool,
    /// DECKPAM: the keypad sends application sequences.
    pub application_keypad: bool,
    /// Mode 2004: pastes must be wrapped in `ESC[200~` … `ESC[201~`.
    pub bracketed_paste: bool,
    pub mouse_mode: MouseMode,
    pub mouse_encoding: MouseEncoding,
    /// The child is drawing on the alternate screen.
    pub alternate_screen: bool,
    /// The kitty keyboard protocol flags in force on the current screen;
    /// empty means legacy (xterm) key encoding.
    pub keyboard: KeyboardFlags,
}

/// Size of a pane's inner area in cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaneSize {
    pub rows: u16,
    pub cols: u16,
}

impl PaneSize {
    /// A size the emulator and the PTY accept: both dimensions at least 1.
    #[must_use]
    pub fn clamped(self) -> Self {
        Self {
            rows: self.rows.max(1),
            cols: self.cols.max(1),
        }
    }
}

/// What happens to a child's OSC 52 clipboard writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClipboardPolicy {
    /// Dropped: a program in a pane must not change the user's clipboard
    /// behind their back (the default, as in tmux with `set-clipboard
    /// external`).
    #[default]
    Ignore,
    /// Kept for [`Emulator::take_clipboard`], so the app can pass it on.
    Collect,
}

/// Per-pane choices made when the emulator is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmulatorOptions {
    pub clipboard: ClipboardPolicy,
    /// The default foreground reported for OSC 10 queries.
    pub foreground: Rgb,
    /// The default background reported for OSC 11 queries; agents choose a
    /// light or dark theme from it.
    pub background: Rgb,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        Self {
            clipboard: ClipboardPolicy::default(),
            foreground: DEFAULT_FOREGROUND,
            background: DEFAULT_BACKGROUND,
        }
    }
}

/// A terminal emulator for one pane: it is fed the child's output, and the
/// renderer reads the visible cells back.
pub trait Emulator: Send {
    /// Parses a chunk of the child's output.
    fn process(&mut self, bytes: &[u8]);
    /// Changes the screen size (the PTY is resized separately).
    fn resize(&mut self, size: PaneSize);
    fn size(&self) -> PaneSize;
    /// The cell at a visible position, taking the scrollback view into account.
    fn cell(&self, row: u16, col: u16) -> Option<CellView<'_>>;
    fn cursor(&self) -> CursorState;
    fn input_modes(&self) -> InputModes;
    /// The window title the child set with OSC 0/2, if any.
    fn title(&self) -> &str;
    /// How many lines of history are kept above the live screen.
    fn scrollback_len(&self) -> usize;
    /// Shows the screen `lines` back in history (0 is the live screen);
    /// returns the offset actually used after clamping.
    fn set_scroll_offset(&mut self, lines: usize) -> usize;
    fn scroll_offset(&self) -> usize;
    /// Bytes the emulator must send back to the child (answers to queries
    /// such as the cursor position report), drained by the caller.
    fn take_replies(&mut self) -> Vec<u8>;
    /// Whether the child rang the bell since the last call.
    fn take_bell(&mut self) -> bool;
    /// While the child is inside a synchronized update (DEC mode 2026), the
    /// time at which the held-back output is shown anyway, even if the
    /// update has not ended; `None` outside an update.
    fn sync_deadline(&self) -> Option<Instant>;
    /// Shows the output held back by a synchronized update whose deadline
    /// is at or before `now`; true if anything was held back.
    fn flush_expired_sync(&mut self, now: Instant) -> bool;
    /// The latest text the child wrote to the clipboard with OSC 52, if
    /// the pane collects clipboard writes ([`ClipboardPolicy::Collect`]).
    fn take_clipboard(&mut self) -> Option<String>;
    /// The rows that changed since the last call, which starts the next
    /// count. Only the renderer calls this. An emulator that does not
    /// track changes answers [`Damage::All`], which is always correct.
    fn take_damage(&mut self) -> Damage {
        Damage::All
    }
    /// The visible text, one line per row, trailing blanks trimmed.
    fn text_contents(&self) -> String {
        let size = self.size();
        let mut out = String::new();
        for row in 0..size.rows {
            let mut line = String::new();
            for col in 0..size.cols {
                match self.cell(row, col) {
                    Some(cell) if cell.wide_continuation => {}
                    Some(cell) => cell.text.push_to(&mut line),
                    None => {}
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Which visible rows changed since the renderer last asked, so a frame
/// that only follows a pane's output redraws those rows and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// Anything may have changed: redraw every row.
    All,
    /// Only these rows (0 is the top of the pane) changed, in any order.
    Rows(Vec<u16>),
}

/// Which emulator parses a pane's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmulatorKind {
    /// `alacritty_terminal`: the faster one with history, and it answers
    /// terminal queries itself.
    #[default]
    Alacritty,
    /// The `vt100` crate.
    Vt100,
}

impl EmulatorKind {
    /// An emulator with the default options.
    pub fn create(self, size: PaneSize, scrollback_lines: usize) -> Box<dyn Emulator> {
        self.create_with(size, scrollback_lines, EmulatorOptions::default())
    }

    pub fn create_with(
        self,
        size: PaneSize,
        scrollback_lines: usize,
        options: EmulatorOptions,
    ) -> Box<dyn Emulator> {
        match self {
            Self::Alacritty => {
                Box::new(super::alacritty_emulator::AlacrittyEmulator::with_options(
                    size,
                    scrollback_lines,
                    options,
                ))
            }
            Self::Vt100 => Box::new(super::vt100_emulator::Vt100Emulator::with_options(
                size,
                scrollback_lines,
                options,
            )),
        }
    }
}
