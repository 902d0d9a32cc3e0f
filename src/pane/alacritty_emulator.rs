//! The [`Emulator`] implemented with `alacritty_terminal`, the emulator
//! core of Alacritty (also used by Zed). It parses about twice as fast as
//! vt100 when history is kept, and answers the terminal queries agents send.

use std::sync::{Arc, Mutex, PoisonError};

use alacritty_terminal::event::{Event, EventListener, WindowSize};
use alacritty_terminal::grid::{Dimensions, Scroll};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::Flags;
use alacritty_terminal::term::{Config, Term, TermMode};
use alacritty_terminal::vte::ansi::{Color, NamedColor, Processor, Rgb};

use super::emulator::{
    CellAttrs, CellColor, CellText, CellView, CursorState, Emulator, InputModes, MouseEncoding,
    MouseMode, PaneSize,
};

/// The colours loop-tui reports for OSC 10/11 queries: a light foreground
/// on a dark background, which is what most agents' themes assume when they
/// cannot tell.
const REPORTED_FOREGROUND: Rgb = Rgb {
    r: 0xd0,
    g: 0xd0,
    b: 0xd0,
};
const REPORTED_BACKGROUND: Rgb = Rgb {
    r: 0x00,
    g: 0x00,
    b: 0x00,
};

/// What the terminal tells its host, collected for the pane's owner.
#[derive(Default)]
struct Collected {
    replies: Vec<u8>,
    title: String,
    bell: bool,
    size: PaneSize,
}

#[derive(Clone, Default)]
struct Listener(Arc<Mutex<Collected>>);

impl EventListener for Listener {
    fn send_event(&self, event: Event) {
        let mut c = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            Event::PtyWrite(text) => c.replies.extend_from_slice(text.as_bytes()),
            Event::Title(title) => c.title = title,
            Event::ResetTitle => c.title.clear(),
            Event::Bell => c.bell = true,
            Event::ColorRequest(index, format) => {
                let rgb = if index == NamedColor::Background as usize {
                    REPORTED_BACKGROUND
                } else {
                    REPORTED_FOREGROUND
                };
                c.replies.extend_from_slice(format(rgb).as_bytes());
            }
            Event::TextAreaSizeRequest(format) => {
                let size = WindowSize {
                    num_lines: c.size.rows,
                    num_cols: c.size.cols,
                    cell_width: 0,
                    cell_height: 0,
                };
                c.replies.extend_from_slice(format(size).as_bytes());
            }
            // Clipboard access by a child is not allowed (OSC 52), and the
            // rest concern a GUI window.
            _ => {}
        }
    }
}

/// The grid size in the form alacritty asks for.
struct GridSize(PaneSize);

impl Dimensions for GridSize {
    fn total_lines(&self) -> usize {
        usize::from(self.0.rows)
    }

    fn screen_lines(&self) -> usize {
        usize::from(self.0.rows)
    }

    fn columns(&self) -> usize {
        usize::from(self.0.cols)
    }
}

pub struct AlacrittyEmulator {
    term: Term<Listener>,
    parser: Processor,
    collected: Arc<Mutex<Collected>>,
    /// The child's title, mirrored out of the listener after each parse so
    /// it can be lent without holding the listener's lock.
    title: String,
}

/// `alacritty_terminal` 0.26 panics when a wide character is written into a
/// one-column grid, so its grid is never narrower than two columns; the
/// extra column is simply clipped when drawn.
fn grid_size(size: PaneSize) -> PaneSize {
    let size = size.clamped();
    PaneSize {
        rows: size.rows,
        cols: size.cols.max(2),
    }
}

impl AlacrittyEmulator {
    pub fn new(size: PaneSize, scrollback_lines: usize) -> Self {
        let size = grid_size(size);
        let listener = Listener::default();
        let collected = Arc::clone(&listener.0);
        let config = Config {
            scrolling_history: scrollback_lines,
            ..Config::default()
        };
        let term = Term::new(config, &GridSize(size), listener);
        let emulator = Self {
            term,
            parser: Processor::new(),
            collected,
            title: String::new(),
        };
        emulator.collected().size = size;
        emulator
    }

    fn collected(&self) -> std::sync::MutexGuard<'_, Collected> {
        self.collected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn color(c: Color) -> CellColor {
    match c {
        Color::Spec(rgb) => CellColor::Rgb(rgb.r, rgb.g, rgb.b),
        Color::Indexed(i) => CellColor::Indexed(i),
        Color::Named(named) => {
            let index = named as usize;
            if let Ok(i) = u8::try_from(index) {
                CellColor::Indexed(i)
            } else if (NamedColor::DimBlack as usize..=NamedColor::DimWhite as usize)
                .contains(&index)
            {
                // Dim colours are the normal ones drawn with the dim attribute.
                u8::try_from(index - NamedColor::DimBlack as usize)
                    .map_or(CellColor::Default, CellColor::Indexed)
            } else {
                CellColor::Default
            }
        }
    }
}

impl Emulator for AlacrittyEmulator {
    fn process(&mut self, bytes: &[u8]) {
        self.parser.advance(&mut self.term, bytes);
        let changed = {
            let c = self.collected();
            (c.title != self.title).then(|| c.title.clone())
        };
        if let Some(title) = changed {
            self.title = title;
        }
    }

    fn resize(&mut self, size: PaneSize) {
        let size = grid_size(size);
        self.term.resize(GridSize(size));
        self.collected().size = size;
    }

    fn size(&self) -> PaneSize {
        let grid = self.term.grid();
        PaneSize {
            rows: u16::try_from(grid.screen_lines()).unwrap_or(u16::MAX),
            cols: u16::try_from(grid.columns()).unwrap_or(u16::MAX),
        }
    }

    fn cell(&self, row: u16, col: u16) -> Option<CellView<'_>> {
        let grid = self.term.grid();
        if usize::from(row) >= grid.screen_lines() || usize::from(col) >= grid.columns() {
            return None;
        }
        let offset = i32::try_from(grid.display_offset()).unwrap_or(i32::MAX);
        let cell = &grid[Line(i32::from(row) - offset)][Column(usize::from(col))];
        let flags = cell.flags;
        let wide = flags.contains(Flags::WIDE_CHAR);
        let text = match cell.zerowidth() {
            // alacritty keeps an emoji presentation selector (U+FE0F) in a
            // narrow cell, but the outer terminal and ratatui would draw
            // the pair two columns wide and hide the next cell.
            Some(['\u{fe0f}']) if !wide => CellText::Char(cell.c),
            Some(rest) if !rest.is_empty() => CellText::Combined(cell.c, rest),
            _ if cell.c == ' ' || cell.c == '\0' => CellText::Empty,
            _ => CellText::Char(cell.c),
        };
        let hidden = flags.contains(Flags::HIDDEN);
        Some(CellView {
            text: if hidden { CellText::Empty } else { text },
            fg: color(cell.fg),
            bg: color(cell.bg),
            attrs: CellAttrs {
                bold: flags.contains(Flags::BOLD),
                dim: flags.contains(Flags::DIM),
                italic: flags.contains(Flags::ITALIC),
                underline: flags.intersects(Flags::ALL_UNDERLINES),
                inverse: flags.contains(Flags::INVERSE),
            },
            wide,
            wide_continuation: flags.contains(Flags::WIDE_CHAR_SPACER),
        })
    }

    fn cursor(&self) -> CursorState {
        let grid = self.term.grid();
        let point = grid.cursor.point;
        CursorState {
            row: u16::try_from(point.line.0.max(0)).unwrap_or(0),
            col: u16::try_from(point.column.0).unwrap_or(u16::MAX),
            visible: self.term.mode().contains(TermMode::SHOW_CURSOR) && grid.display_offset() == 0,
        }
    }

    fn input_modes(&self) -> InputModes {
        let mode = *self.term.mode();
        InputModes {
            application_cursor: mode.contains(TermMode::APP_CURSOR),
            application_keypad: mode.contains(TermMode::APP_KEYPAD),
            bracketed_paste: mode.contains(TermMode::BRACKETED_PASTE),
            mouse_mode: if mode.contains(TermMode::MOUSE_MOTION) {
                MouseMode::AnyMotion
            } else if mode.contains(TermMode::MOUSE_DRAG) {
                MouseMode::ButtonMotion
            } else if mode.contains(TermMode::MOUSE_REPORT_CLICK) {
                MouseMode::PressRelease
            } else {
                MouseMode::None
            },
            mouse_encoding: if mode.contains(TermMode::SGR_MOUSE) {
                MouseEncoding::Sgr
            } else if mode.contains(TermMode::UTF8_MOUSE) {
                MouseEncoding::Utf8
            } else {
                MouseEncoding::Default
            },
            alternate_screen: mode.contains(TermMode::ALT_SCREEN),
        }
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn scrollback_len(&self) -> usize {
        self.term.grid().history_size()
    }

    fn set_scroll_offset(&mut self, lines: usize) -> usize {
        let current = self.term.grid().display_offset();
        let delta = i64::try_from(lines.min(self.scrollback_len())).unwrap_or(i64::MAX)
            - i64::try_from(current).unwrap_or(0);
        let delta = i32::try_from(delta).unwrap_or(if delta > 0 { i32::MAX } else { i32::MIN });
        self.term.scroll_display(Scroll::Delta(delta));
        self.term.grid().display_offset()
    }

    fn scroll_offset(&self) -> usize {
        self.term.grid().display_offset()
    }

    fn take_replies(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.collected().replies)
    }

    fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.collected().bell)
    }
}
