//! The [`Emulator`] implemented with `alacritty_terminal`, the emulator
//! core of Alacritty (also used by Zed). It parses about twice as fast as
//! vt100 when history is kept.
//!
//! The parser drives [`Performer`], which hands almost every operation to
//! alacritty's `Term` and keeps for itself what loop-tui decides: the
//! answers to terminal queries (shared with the vt100 emulator through
//! [`super::replies`]), the kitty keyboard protocol flags, OSC 52 clipboard
//! writes and the state of synchronized output. Synchronized updates are
//! held back by the parser itself (vte's `Processor`), with loop-tui's own
//! safety timeout.

use std::io::BufRead as _;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use alacritty_terminal::event::{Event, EventListener, WindowSize};
use alacritty_terminal::grid::{Dimensions, Grid, GridCell};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::{Config, Term, TermDamage, TermMode};
use alacritty_terminal::vte::ansi::cursor_icon::CursorIcon;
use alacritty_terminal::vte::ansi::{
    Attr, CharsetIndex, ClearMode, Color, CursorShape, CursorStyle, Handler, Hyperlink,
    KeyboardModes, KeyboardModesApplyBehavior, LineClearMode, Mode, ModifyOtherKeys, NamedColor,
    NamedPrivateMode, PrivateMode, Processor, Rgb, ScpCharPath, ScpUpdateMode, StandardCharset,
    TabulationClearMode, Timeout,
};

use super::clipboard;
use super::emulator::{
    CellAttrs, CellColor, CellText, CellView, CursorState, Damage, Emulator, EmulatorOptions,
    InputModes, MouseEncoding, MouseMode, PaneSize,
};
use super::history::{CompactHistory, LineBuilder};
use super::keyboard::{KeyboardFlags, KeyboardStacks, SetMode};
use super::replies::{self, ModeState};
use super::sync::SYNC_TIMEOUT;
use super::utf8_carry::{prefix_len, Utf8Carry};

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

impl Listener {
    fn lock(&self) -> MutexGuard<'_, Collected> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventListener for Listener {
    fn send_event(&self, event: Event) {
        let mut c = self.lock();
        match event {
            Event::PtyWrite(text) => c.replies.extend_from_slice(text.as_bytes()),
            Event::Title(title) => c.title = title,
            Event::ResetTitle => c.title.clear(),
            Event::Bell => c.bell = true,
            Event::TextAreaSizeRequest(format) => {
                let size = WindowSize {
                    num_lines: c.size.rows,
                    num_cols: c.size.cols,
                    cell_width: 0,
                    cell_height: 0,
                };
                c.replies.extend_from_slice(format(size).as_bytes());
            }
            // Colour queries and the clipboard are answered by `Performer`
            // before they reach `Term`; the rest concern a GUI window.
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

/// The deadline of a synchronized update, for vte's `Processor`, which
/// holds the update's bytes back while a deadline is pending and leaves it
/// to its owner to end the update when the deadline passes
/// ([`Emulator::flush_expired_sync`]).
#[derive(Debug, Default)]
struct SyncDeadline(Option<Instant>);

impl Timeout for SyncDeadline {
    fn set_timeout(&mut self, _vte_default: Duration) {
        // loop-tui's own timeout, shared with the vt100 emulator, replaces
        // vte's 150 ms.
        self.0 = Some(Instant::now() + SYNC_TIMEOUT);
    }

    fn clear_timeout(&mut self) {
        self.0 = None;
    }

    fn pending_timeout(&self) -> bool {
        self.0.is_some()
    }
}

/// What loop-tui keeps next to alacritty's `Term`.
#[derive(Default)]
struct PaneState {
    options: EmulatorOptions,
    keyboard: KeyboardStacks,
    /// Inside a synchronized update (between BSU and ESU, as the parser
    /// replays it), for DECRQM 2026.
    in_sync: bool,
    /// Answers to XTVERSION queries that arrived inside a synchronized
    /// update, sent when the update ends so they follow the answers to the
    /// queries before them.
    deferred_replies: Vec<u8>,
    clipboard: Option<String>,
    /// The child erased the history (`CSI 3 J` or RIS) since the history
    /// was last copied out of alacritty.
    history_erased: bool,
}

/// The parser's handler: alacritty's `Term` plus loop-tui's own state.
struct Performer<'a> {
    term: &'a mut Term<Listener>,
    state: &'a mut PaneState,
    listener: &'a Listener,
    /// loop-tui's own history held lines when this slice began.
    history_kept: bool,
}

impl Performer<'_> {
    fn reply(&self, text: &str) {
        self.listener
            .lock()
            .replies
            .extend_from_slice(text.as_bytes());
    }

    fn alternate_screen(&self) -> bool {
        self.term.mode().contains(TermMode::ALT_SCREEN)
    }

    /// Every cell of the screen is blank as alacritty's `CSI 2 J` judges
    /// it (no character, colour or line attribute).
    fn screen_is_blank(&self) -> bool {
        let grid = self.term.grid();
        (0..grid.screen_lines()).all(|line| {
            let line = Line(i32::try_from(line).unwrap_or(i32::MAX));
            grid[line][..].iter().all(GridCell::is_empty)
        })
    }

    fn is_sync_mode(mode: PrivateMode) -> bool {
        matches!(mode, PrivateMode::Named(NamedPrivateMode::SyncUpdate))
    }
}

impl Handler for Performer<'_> {
    fn identify_terminal(&mut self, intermediate: Option<char>) {
        match intermediate {
            None => self.reply(replies::PRIMARY_DEVICE_ATTRIBUTES),
            Some('>') => self.reply(&replies::secondary_device_attributes()),
            Some(_) => {}
        }
    }

    fn set_private_mode(&mut self, mode: PrivateMode) {
        if Self::is_sync_mode(mode) {
            self.state.in_sync = true;
        }
        self.term.set_private_mode(mode);
    }

    fn unset_private_mode(&mut self, mode: PrivateMode) {
        if Self::is_sync_mode(mode) {
            self.state.in_sync = false;
            let deferred = std::mem::take(&mut self.state.deferred_replies);
            self.listener.lock().replies.extend_from_slice(&deferred);
        }
        self.term.unset_private_mode(mode);
    }

    fn report_private_mode(&mut self, mode: PrivateMode) {
        if Self::is_sync_mode(mode) {
            let state = ModeState::from(self.state.in_sync);
            self.reply(&replies::private_mode_report(replies::SYNC_MODE, state));
        } else {
            self.term.report_private_mode(mode);
        }
    }

    fn dynamic_color_sequence(&mut self, prefix: String, index: usize, terminator: &str) {
        let set_by_child = self.term.colors()[index].map(|c| replies::Rgb::new(c.r, c.g, c.b));
        let color = set_by_child.unwrap_or_else(|| match u8::try_from(index) {
            Ok(palette_index) => replies::palette(palette_index),
            Err(_) if index == NamedColor::Background as usize => self.state.options.background,
            // The foreground, and the cursor, which is drawn in it.
            Err(_) => self.state.options.foreground,
        });
        self.reply(&replies::color_report(&prefix, color, terminator));
    }

    fn clipboard_store(&mut self, _clipboard: u8, base64: &[u8]) {
        if let Some(text) = clipboard::accept_write(self.state.options.clipboard, base64) {
            self.state.clipboard = Some(text);
        }
    }

    fn clipboard_load(&mut self, _clipboard: u8, _terminator: &str) {
        // A child may never read the user's clipboard: it could be a
        // password. No answer, as in tmux.
    }

    fn reset_state(&mut self) {
        // alacritty erases its history on RIS, as xterm does.
        self.state.history_erased = true;
        self.state.keyboard.reset();
        self.term.reset_state();
    }

    fn report_keyboard_mode(&mut self) {
        let report = self.state.keyboard.report(self.alternate_screen());
        self.reply(&report);
    }

    fn push_keyboard_mode(&mut self, mode: KeyboardModes) {
        let alternate = self.alternate_screen();
        self.state
            .keyboard
            .push(alternate, KeyboardFlags::from_bits(u16::from(mode.bits())));
    }

    fn pop_keyboard_modes(&mut self, to_pop: u16) {
        let alternate = self.alternate_screen();
        self.state.keyboard.pop(alternate, usize::from(to_pop));
    }

    fn set_keyboard_mode(&mut self, mode: KeyboardModes, behavior: KeyboardModesApplyBehavior) {
        let alternate = self.alternate_screen();
        let how = match behavior {
            KeyboardModesApplyBehavior::Replace => SetMode::Replace,
            KeyboardModesApplyBehavior::Union => SetMode::Union,
            KeyboardModesApplyBehavior::Difference => SetMode::Difference,
        };
        self.state.keyboard.set(
            alternate,
            KeyboardFlags::from_bits(u16::from(mode.bits())),
            how,
        );
    }

    // Everything else is alacritty's.

    fn set_title(&mut self, title: Option<String>) {
        self.term.set_title(title);
    }

    fn set_cursor_style(&mut self, value: Option<CursorStyle>) {
        self.term.set_cursor_style(value);
    }

    fn set_cursor_shape(&mut self, shape: CursorShape) {
        self.term.set_cursor_shape(shape);
    }

    fn input(&mut self, c: char) {
        self.term.input(c);
    }

    fn goto(&mut self, line: i32, col: usize) {
        self.term.goto(line, col);
    }

    fn goto_line(&mut self, line: i32) {
        self.term.goto_line(line);
    }

    fn goto_col(&mut self, col: usize) {
        self.term.goto_col(col);
    }

    fn insert_blank(&mut self, value: usize) {
        self.term.insert_blank(value);
    }

    fn move_up(&mut self, value: usize) {
        self.term.move_up(value);
    }

    fn move_down(&mut self, value: usize) {
        self.term.move_down(value);
    }

    fn device_status(&mut self, value: usize) {
        self.term.device_status(value);
    }

    fn move_forward(&mut self, col: usize) {
        self.term.move_forward(col);
    }

    fn move_backward(&mut self, col: usize) {
        self.term.move_backward(col);
    }

    fn move_down_and_cr(&mut self, row: usize) {
        self.term.move_down_and_cr(row);
    }

    fn move_up_and_cr(&mut self, row: usize) {
        self.term.move_up_and_cr(row);
    }

    fn put_tab(&mut self, count: u16) {
        self.term.put_tab(count);
    }

    fn backspace(&mut self) {
        self.term.backspace();
    }

    fn carriage_return(&mut self) {
        self.term.carriage_return();
    }

    fn linefeed(&mut self) {
        self.term.linefeed();
    }

    fn bell(&mut self) {
        self.term.bell();
    }

    fn substitute(&mut self) {
        self.term.substitute();
    }

    fn newline(&mut self) {
        self.term.newline();
    }

    fn set_horizontal_tabstop(&mut self) {
        self.term.set_horizontal_tabstop();
    }

    fn scroll_up(&mut self, value: usize) {
        self.term.scroll_up(value);
    }

    fn scroll_down(&mut self, value: usize) {
        self.term.scroll_down(value);
    }

    fn insert_blank_lines(&mut self, value: usize) {
        self.term.insert_blank_lines(value);
    }

    fn delete_lines(&mut self, value: usize) {
        self.term.delete_lines(value);
    }

    fn erase_chars(&mut self, value: usize) {
        self.term.erase_chars(value);
    }

    fn delete_chars(&mut self, value: usize) {
        self.term.delete_chars(value);
    }

    fn move_backward_tabs(&mut self, count: u16) {
        self.term.move_backward_tabs(count);
    }

    fn move_forward_tabs(&mut self, count: u16) {
        self.term.move_forward_tabs(count);
    }

    fn save_cursor_position(&mut self) {
        self.term.save_cursor_position();
    }

    fn restore_cursor_position(&mut self) {
        self.term.restore_cursor_position();
    }

    fn clear_line(&mut self, mode: LineClearMode) {
        self.term.clear_line(mode);
    }

    fn clear_screen(&mut self, mode: ClearMode) {
        // `CSI 3 J` erases the history of the primary screen (the
        // alternate screen has none), which loop-tui keeps itself.
        if matches!(mode, ClearMode::Saved) && !self.alternate_screen() {
            self.state.history_erased = true;
        }
        // alacritty's `CSI 2 J` scrolls the screen into the history down to
        // its last non-blank cell; on a blank screen it stops at the first
        // history line, but with no history at all it pushes one blank
        // line. Our history lives outside alacritty's grid, so its grid
        // always looks history-less: every `clear` of a blank screen would
        // add a blank line that alacritty with its own history would not.
        let blank_line_pushed = matches!(mode, ClearMode::All)
            && !self.alternate_screen()
            && self.history_kept
            && !self.state.history_erased
            && self.term.grid().history_size() == 0
            && self.screen_is_blank();
        self.term.clear_screen(mode);
        if blank_line_pushed {
            self.term.grid_mut().clear_history();
        }
    }

    fn clear_tabs(&mut self, mode: TabulationClearMode) {
        self.term.clear_tabs(mode);
    }

    fn set_tabs(&mut self, interval: u16) {
        self.term.set_tabs(interval);
    }

    fn reverse_index(&mut self) {
        self.term.reverse_index();
    }

    fn terminal_attribute(&mut self, attr: Attr) {
        self.term.terminal_attribute(attr);
    }

    fn set_mode(&mut self, mode: Mode) {
        self.term.set_mode(mode);
    }

    fn unset_mode(&mut self, mode: Mode) {
        self.term.unset_mode(mode);
    }

    fn report_mode(&mut self, mode: Mode) {
        self.term.report_mode(mode);
    }

    fn set_scrolling_region(&mut self, top: usize, bottom: Option<usize>) {
        self.term.set_scrolling_region(top, bottom);
    }

    fn set_keypad_application_mode(&mut self) {
        self.term.set_keypad_application_mode();
    }

    fn unset_keypad_application_mode(&mut self) {
        self.term.unset_keypad_application_mode();
    }

    fn set_active_charset(&mut self, value: CharsetIndex) {
        self.term.set_active_charset(value);
    }

    fn configure_charset(&mut self, index: CharsetIndex, charset: StandardCharset) {
        self.term.configure_charset(index, charset);
    }

    fn set_color(&mut self, index: usize, color: Rgb) {
        self.term.set_color(index, color);
    }

    fn reset_color(&mut self, value: usize) {
        self.term.reset_color(value);
    }

    fn decaln(&mut self) {
        self.term.decaln();
    }

    fn push_title(&mut self) {
        self.term.push_title();
    }

    fn pop_title(&mut self) {
        self.term.pop_title();
    }

    fn text_area_size_pixels(&mut self) {
        self.term.text_area_size_pixels();
    }

    fn text_area_size_chars(&mut self) {
        self.term.text_area_size_chars();
    }

    fn set_hyperlink(&mut self, value: Option<Hyperlink>) {
        self.term.set_hyperlink(value);
    }

    fn set_mouse_cursor_icon(&mut self, value: CursorIcon) {
        self.term.set_mouse_cursor_icon(value);
    }

    fn set_modify_other_keys(&mut self, mode: ModifyOtherKeys) {
        self.term.set_modify_other_keys(mode);
    }

    fn report_modify_other_keys(&mut self) {
        self.term.report_modify_other_keys();
    }

    fn set_scp(&mut self, char_path: ScpCharPath, update_mode: ScpUpdateMode) {
        self.term.set_scp(char_path, update_mode);
    }
}

/// Finds XTVERSION queries (`CSI > q`, `CSI > 0 q`) in the byte stream:
/// vte's handler interface has no call for them. It looks for the final
/// `q`, rare in terminal output, and checks the bytes before it; the last
/// bytes of the previous read count too, so a query split across two reads
/// is still found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct XtversionScan {
    /// Up to the last four bytes already scanned.
    tail: Vec<u8>,
}

impl XtversionScan {
    /// Scans `bytes`, calling `found` with the offset just past each
    /// complete query.
    fn scan(&mut self, bytes: &[u8], mut found: impl FnMut(usize)) {
        let mut from = 0;
        while from < bytes.len() {
            let mut rest = &bytes[from..];
            let skipped = rest.skip_until(b'q').unwrap_or(0);
            if skipped == 0 || bytes[from + skipped - 1] != b'q' {
                break;
            }
            let at = from + skipped - 1;
            // The (up to) four bytes before the `q`, across the read.
            let here = &bytes[at.saturating_sub(4)..at];
            let earlier = &self.tail[self.tail.len().saturating_sub(4 - here.len())..];
            let before: Vec<u8> = earlier.iter().chain(here).copied().collect();
            if before.ends_with(b"\x1b[>") || before.ends_with(b"\x1b[>0") {
                found(at + 1);
            }
            from = at + 1;
        }
        self.tail
            .extend_from_slice(&bytes[bytes.len().saturating_sub(4)..]);
        let excess = self.tail.len().saturating_sub(4);
        self.tail.drain(..excess);
    }
}

pub struct AlacrittyEmulator {
    term: Term<Listener>,
    parser: Processor<SyncDeadline>,
    listener: Listener,
    state: PaneState,
    xtversion: XtversionScan,
    /// The start of a character the last read ended inside.
    utf8_carry: Utf8Carry,
    /// The child's title, mirrored out of the listener after each parse so
    /// it can be lent without holding the listener's lock.
    title: String,
    /// Every line that scrolled off the primary screen. alacritty's own
    /// history is emptied into it after each slice of output, so
    /// alacritty never keeps more than a slice's worth of its fat rows.
    history: CompactHistory,
    /// How many lines back in `history` the view is (0 is the live
    /// screen); alacritty's own display offset stays 0.
    offset: usize,
    /// The view moved since the renderer last asked for damage.
    view_moved: bool,
    /// Reused for every line copied into `history`.
    line_builder: LineBuilder,
    /// How many spare rows alacritty's primary grid has for history lines
    /// before it must allocate more (see [`SPARE_ROWS`]).
    spare_rows: usize,
    /// The primary grid's spare rows are not [`SPARE_ROWS`] any more (a
    /// resize, or a slice that scrolled more lines than that): it is
    /// primed again once output allows.
    reprime: bool,
}

/// Output is parsed in slices of at most this many bytes, and alacritty's
/// history is copied out after each one. A slice of plain output adds at
/// most one line per byte, so alacritty's history never needs more than
/// [`SPARE_ROWS`] rows. Nothing is lost when a slice adds more (a scroll of
/// many lines, or a long synchronized update replayed at once): alacritty's
/// history holds as many lines as ours, so it then holds exactly the
/// newest lines ours must keep.
const SLICE: usize = 128;

/// The rows alacritty's primary grid keeps beyond its screen for the lines
/// a slice scrolls into its history, before they are copied out.
///
/// alacritty allocates history rows at least 1 000 at a time, full width
/// and initialised (2.3 MB for a 98-column pane), and keeps up to 1 000
/// spare after its history is cleared, which is more than the compact
/// history of 10 000 typical lines takes. Its grid only allocates exactly
/// when it is created, so [`AlacrittyEmulator::prime_spare_rows`] gives it
/// a grid made with this many extra rows, which the history then reuses
/// slice after slice. A slice that scrolls more (escape sequences can
/// scroll a whole screen in a few bytes) makes alacritty allocate its
/// 1 000 rows; the grid is primed again once output is back to normal.
const SPARE_ROWS: usize = SLICE;

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
        Self::with_options(size, scrollback_lines, EmulatorOptions::default())
    }

    pub fn with_options(size: PaneSize, scrollback_lines: usize, options: EmulatorOptions) -> Self {
        let size = grid_size(size);
        let listener = Listener::default();
        let config = Config {
            scrolling_history: scrollback_lines,
            ..Config::default()
        };
        let term = Term::new(config, &GridSize(size), listener.clone());
        listener.lock().size = size;
        let mut emulator = Self {
            term,
            parser: Processor::new(),
            listener,
            state: PaneState {
                options,
                ..PaneState::default()
            },
            xtversion: XtversionScan::default(),
            utf8_carry: Utf8Carry::default(),
            title: String::new(),
            history: CompactHistory::new(scrollback_lines),
            offset: 0,
            view_moved: false,
            line_builder: LineBuilder::new(),
            spare_rows: 0,
            reprime: true,
        };
        emulator.prime_spare_rows(SPARE_ROWS);
        emulator
    }

    /// Gives the primary grid exactly `spare` rows beyond its screen for
    /// history lines, so it does not allocate its own 1 000 (see
    /// [`SPARE_ROWS`]). The screen, cursors and settings stay as they are;
    /// alacritty's history must be empty, as it is between slices.
    fn prime_spare_rows(&mut self, spare: usize) {
        if self.history.capacity() == 0 {
            // alacritty keeps no history, so it needs no spare rows.
            self.reprime = false;
            return;
        }
        if self.term.mode().contains(TermMode::ALT_SCREEN) {
            // The primary grid is out of reach until the child leaves
            // the alternate screen.
            self.reprime = true;
            return;
        }
        let grid = self.term.grid_mut();
        let (lines, columns) = (grid.screen_lines(), grid.columns());
        // Made taller and then shrunk, a grid keeps the rows it lost as
        // spare ones, and allocates nothing more until they are used up.
        let mut fresh: Grid<Cell> = Grid::new(lines + spare, columns, self.history.capacity());
        fresh.resize::<Color>(false, lines, columns);
        for line in 0..i32::try_from(lines).unwrap_or(i32::MAX) {
            std::mem::swap(&mut fresh[Line(line)], &mut grid[Line(line)]);
        }
        fresh.cursor = grid.cursor.clone();
        fresh.saved_cursor = grid.saved_cursor.clone();
        *grid = fresh;
        self.spare_rows = spare;
        self.reprime = false;
    }

    /// Parses a read that ends on a character boundary, answering
    /// XTVERSION queries in place; returns whether it scrolled more lines
    /// into alacritty's history than it had spare rows for.
    fn parse_read(&mut self, bytes: &[u8]) -> bool {
        let mut ends = Vec::new();
        self.xtversion.scan(bytes, |end| ends.push(end));
        let mut start = 0;
        let mut overflowed = false;
        for end in ends {
            overflowed |= self.advance(&bytes[start..end]);
            self.answer_xtversion();
            start = end;
        }
        overflowed | self.advance(&bytes[start..])
    }

    /// Parses `bytes` slice by slice, each cut on a character boundary
    /// (see [`utf8_carry`](super::utf8_carry)); returns whether a slice
    /// scrolled more lines into alacritty's history than it had spare rows
    /// for.
    fn advance(&mut self, mut bytes: &[u8]) -> bool {
        let mut overflowed = false;
        while !bytes.is_empty() {
            let (slice, rest) = bytes.split_at(prefix_len(bytes, SLICE));
            bytes = rest;
            let mut performer = Performer {
                term: &mut self.term,
                state: &mut self.state,
                listener: &self.listener,
                history_kept: !self.history.is_empty(),
            };
            self.parser.advance(&mut performer, slice);
            overflowed |= self.take_history();
        }
        overflowed
    }

    /// Moves the lines that entered alacritty's history into ours, oldest
    /// first, and empties alacritty's. A view scrolled back stays on the
    /// lines it shows, as in alacritty and tmux. Returns whether there were
    /// more than alacritty had spare rows for.
    fn take_history(&mut self) -> bool {
        if std::mem::take(&mut self.state.history_erased) {
            self.history.clear();
            self.view_moved |= self.offset != 0;
            self.offset = 0;
        }
        if self.offset != 0 && self.term.mode().contains(TermMode::ALT_SCREEN) {
            // The alternate screen has no history to scroll back in.
            self.offset = 0;
            self.view_moved = true;
        }
        let grid = self.term.grid();
        let added = grid.history_size();
        if added == 0 {
            return false;
        }
        // Lines our store would drop straight away are not copied.
        let first = added.saturating_sub(self.history.capacity());
        for back in (1..=added - first).rev() {
            let row = &grid[Line(-i32::try_from(back).unwrap_or(i32::MAX))];
            compact_line(&mut self.line_builder, &row[..]);
            self.history.push(&mut self.line_builder);
        }
        self.term.grid_mut().clear_history();
        if self.offset != 0 {
            self.offset = (self.offset + added).min(self.history_len());
            self.view_moved = true;
        }
        let overflowed = added > self.spare_rows;
        self.reprime |= overflowed;
        overflowed
    }

    /// The lines that can be scrolled back to: none on the alternate
    /// screen, as in alacritty, xterm and tmux.
    fn history_len(&self) -> usize {
        if self.term.mode().contains(TermMode::ALT_SCREEN) {
            0
        } else {
            self.history.len()
        }
    }

    /// The cell at a visible position with the view `offset` lines back.
    fn cell_at(&self, offset: usize, row: u16, col: u16) -> Option<CellView<'_>> {
        let grid = self.term.grid();
        if usize::from(row) >= grid.screen_lines() || usize::from(col) >= grid.columns() {
            return None;
        }
        // Rows above the live screen come from our history.
        let history_len = self.history_len();
        let line = (history_len - offset.min(history_len)) + usize::from(row);
        match line.checked_sub(history_len) {
            None => self
                .history
                .line(line)
                .map(|history_line| history_line.cell(usize::from(col))),
            Some(screen_row) => {
                let row = &grid[Line(i32::try_from(screen_row).unwrap_or(i32::MAX))];
                Some(screen_cell(&row[..], usize::from(col)))
            }
        }
    }

    /// Copies the title the listener collected, so `title()` can lend it.
    fn mirror_title(&mut self) {
        let changed = {
            let c = self.listener.lock();
            (c.title != self.title).then(|| c.title.clone())
        };
        if let Some(title) = changed {
            self.title = title;
        }
    }

    fn answer_xtversion(&mut self) {
        let reply = replies::xtversion();
        if self.parser.sync_timeout().0.is_some() {
            // The query is inside an update the parser holds back: answer
            // it when the update is replayed.
            self.state
                .deferred_replies
                .extend_from_slice(reply.as_bytes());
        } else {
            self.listener
                .lock()
                .replies
                .extend_from_slice(reply.as_bytes());
        }
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

/// The flags that change how a cell is drawn, apart from its text.
const STYLE_FLAGS: Flags = Flags::BOLD
    .union(Flags::DIM)
    .union(Flags::ITALIC)
    .union(Flags::ALL_UNDERLINES)
    .union(Flags::INVERSE);

/// The flags after which a cell's text is not simply its character.
const TEXT_FLAGS: Flags = Flags::HIDDEN
    .union(Flags::WIDE_CHAR)
    .union(Flags::WIDE_CHAR_SPACER);

/// Builds a row of alacritty's history in compact form in `line`, drawn as
/// [`view`] draws it. The styles are converted only where they change and
/// plain characters are copied as they are: this runs for every line of
/// output.
fn compact_line(line: &mut LineBuilder, cells: &[Cell]) {
    // Blank cells at the end are dropped without a look. Most of a row is
    // usually cells never written since the row was reset, exactly the
    // default cell, which this checks in a few comparisons; the builder
    // trims any other blanks that look like default ones.
    let width = cells
        .iter()
        .rposition(|cell| {
            !(cell.c == ' '
                && cell.flags.is_empty()
                && cell.extra.is_none()
                && cell.bg == Color::Named(NamedColor::Background))
        })
        .map_or(0, |last| last + 1);
    let cells = &cells[..width];
    let key = |cell: &Cell| (cell.fg, cell.bg, cell.flags & STYLE_FLAGS);
    // One column, one ASCII character, nothing attached.
    let plain = |cell: &Cell| {
        cell.c.is_ascii() && !cell.flags.intersects(TEXT_FLAGS) && cell.zerowidth().is_none()
    };
    let mut style = None;
    let mut at = 0;
    while let Some(cell) = cells.get(at) {
        let cell_key = key(cell);
        if style != Some(cell_key) {
            let drawn = view(cell);
            line.set_style(drawn.fg, drawn.bg, drawn.attrs);
            style = Some(cell_key);
        }
        if plain(cell) {
            // Most of a line is plain characters in a few styles: each run
            // of them is copied in one go.
            // (The same colours and flags as this plain cell, so the same
            // style and plain too, unless it has something attached.)
            let run = cells[at..]
                .iter()
                .take_while(|next| {
                    next.c.is_ascii()
                        && next.flags == cell.flags
                        && next.fg == cell.fg
                        && next.bg == cell.bg
                        && next.extra.is_none()
                })
                .count();
            line.push_ascii(
                cells[at..at + run]
                    .iter()
                    .map(|cell| match u8::try_from(cell.c) {
                        Ok(0) | Err(_) => b' ',
                        Ok(byte) => byte,
                    }),
            );
            at += run;
            continue;
        }
        if cell.flags.intersects(TEXT_FLAGS) || cell.zerowidth().is_some() {
            let drawn = view(cell);
            line.push(drawn.text, drawn.wide_continuation);
        } else {
            line.push_char(if cell.c == '\0' { ' ' } else { cell.c });
        }
        at += 1;
    }
}

/// How alacritty's cell is drawn.
/// A cell of a screen row. alacritty keeps a wide character whose second
/// half was erased (`CSI K` from its middle) marked wide; the history knows
/// a wide character by the half after it, so the screen does too, and a
/// line looks the same once scrolled off. (Either way it is drawn two
/// columns wide.)
fn screen_cell(row: &[Cell], col: usize) -> CellView<'_> {
    let mut cell = view(&row[col]);
    if cell.wide {
        cell.wide = row
            .get(col + 1)
            .is_some_and(|next| next.flags.contains(Flags::WIDE_CHAR_SPACER));
    }
    cell
}

fn view(cell: &Cell) -> CellView<'_> {
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
    CellView {
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
    }
}

impl Emulator for AlacrittyEmulator {
    fn process(&mut self, bytes: &[u8]) {
        let (head, rest) = self.utf8_carry.take_head(bytes);
        let now = self.utf8_carry.hold_tail(rest);
        let mut overflowed = false;
        if let Some(head) = head {
            overflowed |= self.parse_read(head.as_bytes());
        }
        overflowed |= self.parse_read(now);
        // While output keeps scrolling more lines per slice than the spare
        // rows hold, alacritty's own 1 000 are kept rather than allocated
        // again for every read.
        if self.reprime && !overflowed {
            self.prime_spare_rows(SPARE_ROWS);
        }
        self.mirror_title();
    }

    fn resize(&mut self, size: PaneSize) {
        let size = grid_size(size);
        if size == self.size() {
            return;
        }
        // A taller grid takes its new rows from the spare ones, and would
        // allocate 1 000 if there were not enough.
        let growth = usize::from(size.rows).saturating_sub(self.term.grid().screen_lines());
        if growth > self.spare_rows {
            self.prime_spare_rows(SPARE_ROWS + growth);
        }
        self.term.resize(GridSize(size));
        self.listener.lock().size = size;
        // Lines a smaller screen pushes out go to our history. A taller
        // screen does not pull them back (alacritty's history is empty):
        // the screen gains blank rows at the bottom instead.
        self.take_history();
        // A new width rebuilds alacritty's rows without spare ones, a new
        // height changes how many there are.
        self.prime_spare_rows(SPARE_ROWS);
    }

    fn size(&self) -> PaneSize {
        let grid = self.term.grid();
        PaneSize {
            rows: u16::try_from(grid.screen_lines()).unwrap_or(u16::MAX),
            cols: u16::try_from(grid.columns()).unwrap_or(u16::MAX),
        }
    }

    fn cell(&self, row: u16, col: u16) -> Option<CellView<'_>> {
        self.cell_at(self.offset, row, col)
    }

    fn cursor(&self) -> CursorState {
        let grid = self.term.grid();
        let point = grid.cursor.point;
        CursorState {
            row: u16::try_from(point.line.0.max(0)).unwrap_or(0),
            col: u16::try_from(point.column.0).unwrap_or(u16::MAX),
            visible: self.term.mode().contains(TermMode::SHOW_CURSOR) && self.offset == 0,
        }
    }

    fn input_modes(&self) -> InputModes {
        let mode = *self.term.mode();
        let alternate_screen = mode.contains(TermMode::ALT_SCREEN);
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
            alternate_screen,
            keyboard: self.state.keyboard.current(alternate_screen),
        }
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn scrollback_len(&self) -> usize {
        self.history_len()
    }

    fn set_scroll_offset(&mut self, lines: usize) -> usize {
        let offset = lines.min(self.history_len());
        self.view_moved |= offset != self.offset;
        self.offset = offset;
        offset
    }

    fn scroll_offset(&self) -> usize {
        self.offset
    }

    fn take_damage(&mut self) -> Damage {
        let rows = self.term.grid().screen_lines();
        // alacritty tracks damage for its own renderer: every change to
        // the grid, the old and new cursor lines, and a full redraw after
        // a resize, a scroll of the view or a mode that moves everything.
        let damage = match self.term.damage() {
            TermDamage::Full => Damage::All,
            TermDamage::Partial(lines) => Damage::Rows(
                lines
                    .filter(|bounds| bounds.line < rows)
                    .filter_map(|bounds| u16::try_from(bounds.line).ok())
                    .collect(),
            ),
        };
        self.term.reset_damage();
        // While scrolled back, output moves the screen under the view.
        if std::mem::take(&mut self.view_moved) || self.offset != 0 {
            return Damage::All;
        }
        damage
    }

    fn take_replies(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.listener.lock().replies)
    }

    fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.listener.lock().bell)
    }

    fn sync_deadline(&self) -> Option<Instant> {
        self.parser.sync_timeout().0
    }

    fn flush_expired_sync(&mut self, now: Instant) -> bool {
        if self.sync_deadline().is_none_or(|deadline| deadline > now) {
            return false;
        }
        let mut performer = Performer {
            term: &mut self.term,
            state: &mut self.state,
            listener: &self.listener,
            history_kept: !self.history.is_empty(),
        };
        self.parser.stop_sync(&mut performer);
        self.take_history();
        self.mirror_title();
        true
    }

    fn take_clipboard(&mut self) -> Option<String> {
        self.state.clipboard.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alacritty_terminal::event::VoidListener;
    use alacritty_terminal::index::Column;
    use alacritty_terminal::vte::ansi::StdSyncHandler;
    use proptest::prelude::*;
    use std::fmt::Write as _;

    /// Real agent sessions and the synthetic fixtures: every kind of
    /// sequence the panes see.
    const STREAMS: [&[u8]; 9] = [
        include_bytes!("../../tests/fixtures/colors.bin"),
        include_bytes!("../../tests/fixtures/cursor_moves.bin"),
        include_bytes!("../../tests/fixtures/alt_screen.bin"),
        include_bytes!("../../tests/fixtures/wide.bin"),
        include_bytes!("../../tests/fixtures/agent_left.bin"),
        include_bytes!("../../tests/fixtures/agents/claude_long_conversation.bin"),
        include_bytes!("../../tests/fixtures/agents/codex_long_conversation.bin"),
        include_bytes!("../../tests/fixtures/agents/gemini_long_conversation.bin"),
        include_bytes!("../../tests/fixtures/agents/codex_tool_turn.bin"),
    ];

    /// The live screen, cursor and modes (history is compared cell by
    /// cell with [`assert_same_history`]).
    fn describe_grid(term: &Term<impl EventListener>) -> String {
        let grid = term.grid();
        let mut out = String::new();
        for line in 0..i32::try_from(grid.screen_lines()).expect("small") {
            for col in 0..grid.columns() {
                let cell = &grid[Line(line)][Column(col)];
                let _ = write!(out, "{}{:?}{:?}{:?}|", cell.c, cell.fg, cell.bg, cell.flags);
            }
            out.push('\n');
        }
        let _ = write!(out, "cursor {:?} mode {:?}", grid.cursor.point, term.mode());
        out
    }

    #[test]
    fn xtversion_is_found_wherever_the_reads_split_it() {
        for query in [&b"\x1b[>q"[..], b"\x1b[>0q"] {
            let prefix = b"text q \x1b[2 q";
            let stream = [&prefix[..], query, b" more q"].concat();
            let end = prefix.len() + query.len();
            for split in 0..=stream.len() {
                let mut scan = XtversionScan::default();
                let mut ends = Vec::new();
                scan.scan(&stream[..split], |e| ends.push(e));
                scan.scan(&stream[split..], |e| ends.push(e + split));
                assert_eq!(ends, vec![end], "{query:?} split at {split}");
            }
        }
    }

    /// `Performer` hands every operation it does not own to `Term`: the
    /// same streams parsed straight into a `Term` must leave the same grid,
    /// history, cursor and modes. A forgotten delegation shows up here.
    #[test]
    fn the_performer_leaves_the_same_grid_as_term_alone() {
        let size = PaneSize {
            rows: 30,
            cols: 100,
        };
        for (i, stream) in STREAMS.iter().enumerate() {
            let mut ours = AlacrittyEmulator::new(size, 1_000);
            ours.process(stream);
            let config = Config {
                scrolling_history: 1_000,
                ..Config::default()
            };
            let mut plain = Term::new(config, &GridSize(size), VoidListener);
            let mut parser: Processor<StdSyncHandler> = Processor::new();
            parser.advance(&mut plain, stream);
            assert!(
                describe_grid(&ours.term) == describe_grid(&plain),
                "stream {i} differs"
            );
            assert_same_history(&ours, &plain, &format!("stream {i}"));
        }
    }

    /// A cell as the user sees it: a cell that looks like a default blank
    /// is one, whatever colour its invisible parts have.
    fn seen(cell: CellView<'_>) -> (String, CellColor, CellColor, CellAttrs, bool, bool) {
        if crate::pane::history::looks_blank(&cell) {
            return (
                " ".to_owned(),
                CellColor::Default,
                CellColor::Default,
                CellAttrs::default(),
                false,
                false,
            );
        }
        let mut text = String::new();
        if !cell.wide_continuation {
            cell.text.push_to(&mut text);
        }
        (
            text,
            cell.fg,
            cell.bg,
            cell.attrs,
            cell.wide,
            cell.wide_continuation,
        )
    }

    /// Every history line as `ours` shows it at every scroll offset, and
    /// the live screen under it, against the same lines in `plain`, a
    /// `Term` that kept at least as much history itself.
    fn assert_same_history(ours: &AlacrittyEmulator, plain: &Term<VoidListener>, what: &str) {
        let mut ours_view = ours.clone_view();
        let grid = plain.grid();
        let kept = grid.history_size().min(ours.history.capacity());
        // (On the alternate screen neither has any.)
        assert_eq!(ours.scrollback_len(), kept, "{what}: history length");
        let rows = grid.screen_lines();
        for offset in 0..=kept {
            assert_eq!(ours_view.set_scroll_offset(offset), offset, "{what}");
            for row in 0..rows {
                let line = Line(
                    i32::try_from(row).expect("small") - i32::try_from(offset).expect("small"),
                );
                for col in 0..grid.columns() {
                    let cell = |r: usize, c: usize| {
                        ours_view
                            .cell(
                                u16::try_from(r).expect("small"),
                                u16::try_from(c).expect("small"),
                            )
                            .expect("on the screen")
                    };
                    assert_eq!(
                        seen(cell(row, col)),
                        seen(screen_cell(&grid[line][..], col)),
                        "{what}: offset {offset} row {row} column {col}"
                    );
                }
            }
        }
    }

    impl AlacrittyEmulator {
        /// The same screen and history in a fresh emulator whose view can
        /// be moved without touching the original.
        fn clone_view(&self) -> ViewOf<'_> {
            ViewOf {
                emulator: self,
                offset: 0,
            }
        }
    }

    /// Reads an emulator's history at any offset through the same code as
    /// [`Emulator::cell`].
    struct ViewOf<'a> {
        emulator: &'a AlacrittyEmulator,
        offset: usize,
    }

    impl ViewOf<'_> {
        fn set_scroll_offset(&mut self, offset: usize) -> usize {
            self.offset = offset.min(self.emulator.history_len());
            self.offset
        }

        fn cell(&self, row: u16, col: u16) -> Option<CellView<'_>> {
            self.emulator.cell_at(self.offset, row, col)
        }
    }

    /// Pieces of output: text, wide and combining characters, colours,
    /// and every way lines reach the history (newlines, scrolls, erasing
    /// the screen, a region at the top), erasing it (`CSI 3 J`, RIS) and
    /// the alternate screen, which has none.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "word ",
            "a longer line of text that wraps ",
            "\r\n",
            "\n",
            "\r",
            "漢字",
            "e\u{301}",
            "\u{2764}\u{fe0f}",
            "\x1b[31m",
            "\x1b[1;44m",
            "\x1b[38;2;1;2;3m",
            "\x1b[4m",
            "\x1b[7m",
            "\x1b[8m",
            "\x1b[0m",
            "\x1b[2J",
            "\x1b[3S",
            "\x1b[40S",
            "\x1b[H",
            "\x1b[4;3H",
            "\x1b[K",
            "\x1b[2M",
            "\x1b[1;3r",
            "\x1b[r",
            "\x1b[3J",
            "\x1bc",
            "\x1b[?1049h",
            "\x1b[?1049l",
            "\x1bM",
            "\x1b[?2026h",
            "\x1b[?2026l",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The compact history shows what alacritty's own history would,
        /// however the output is split into reads.
        #[test]
        fn history_matches_a_term_that_keeps_its_own(
            pieces in prop::collection::vec(piece(), 0..300),
            splits in prop::collection::vec(1usize..700, 1..20),
            capacity in prop::sample::select(vec![0usize, 7, 1_000]),
        ) {
            let stream = pieces.concat().into_bytes();
            let size = PaneSize { rows: 5, cols: 12 };
            let mut ours = AlacrittyEmulator::new(size, capacity);
            let mut rest = &stream[..];
            for split in splits.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (now, later) = rest.split_at((*split).min(rest.len()));
                ours.process(now);
                rest = later;
            }
            let config = Config {
                scrolling_history: 100_000,
                ..Config::default()
            };
            let mut plain = Term::new(config, &GridSize(size), VoidListener);
            let mut parser: Processor<StdSyncHandler> = Processor::new();
            parser.advance(&mut plain, &stream);
            // A synchronized update still open is held back by both.
            assert_same_history(&ours, &plain, "random output");
        }

        /// The same through resizes that make the pane shorter, which push
        /// lines into the history, with the spare rows given to alacritty
        /// again after each. (A taller or a narrower pane is not compared:
        /// alacritty pulls history lines back onto a taller screen and
        /// reflows wrapped lines, the compact history does neither.)
        #[test]
        fn history_matches_a_term_through_shorter_resizes(
            parts in prop::collection::vec(
                (prop::collection::vec(piece(), 0..60), 0u16..4),
                1..6,
            ),
        ) {
            let size = PaneSize { rows: 12, cols: 12 };
            let mut ours = AlacrittyEmulator::new(size, 1_000);
            let config = Config {
                scrolling_history: 100_000,
                ..Config::default()
            };
            let mut plain = Term::new(config, &GridSize(size), VoidListener);
            let mut parser: Processor<StdSyncHandler> = Processor::new();
            let mut rows = size.rows;
            for (pieces, shrink) in &parts {
                let stream = pieces.concat().into_bytes();
                ours.process(&stream);
                parser.advance(&mut plain, &stream);
                rows = rows.saturating_sub(*shrink).max(1);
                let smaller = PaneSize { rows, cols: size.cols };
                ours.resize(smaller);
                plain.resize(GridSize(smaller));
            }
            assert_same_history(&ours, &plain, "output and shorter resizes");
        }
    }

    /// Through any resize, taller, shorter, wider or narrower, every line
    /// is kept once and in order: on the screen or in the history.
    #[test]
    fn resizes_keep_every_line_once() {
        let mut ours = AlacrittyEmulator::new(PaneSize { rows: 10, cols: 20 }, 1_000);
        let sizes = [(4, 20), (30, 20), (6, 12), (6, 40), (3, 8), (12, 30)];
        let mut printed = 0;
        for (rows, cols) in sizes {
            for _ in 0..25 {
                ours.process(format!("\x1b[3{}mline {printed}\x1b[0m\r\n", printed % 7).as_bytes());
                printed += 1;
            }
            ours.resize(PaneSize { rows, cols });
        }
        let size = ours.size();
        let mut seen = Vec::new();
        let mut view = ours.clone_view();
        view.set_scroll_offset(ours.scrollback_len());
        let total_rows = ours.scrollback_len() + usize::from(size.rows);
        for line in 0..total_rows {
            let offset = ours.scrollback_len().saturating_sub(line);
            view.set_scroll_offset(offset);
            let row = u16::try_from(line - (ours.scrollback_len() - offset)).expect("small");
            let mut text = String::new();
            for col in 0..size.cols {
                let cell = view.cell(row, col).expect("on the screen");
                cell.text.push_to(&mut text);
            }
            let text = text.trim_end().to_owned();
            if !text.is_empty() {
                seen.push(text);
            }
        }
        let expected: Vec<String> = (0..printed).map(|n| format!("line {n}")).collect();
        assert_eq!(seen, expected);
    }
}
