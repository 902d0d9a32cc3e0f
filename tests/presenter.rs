//! The presenter's row-only frames must leave the terminal showing exactly
//! what a whole frame would: after any sequence of child output (text,
//! colours, wide characters, cursor moves, scrolling, erasing, the
//! alternate screen, titles) and frames, the test terminal's cells and
//! cursor equal a fresh whole render of the same state. A row the
//! emulator forgot to report as changed shows up here as a stale cell.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io;
use std::num::NonZeroU16;
use std::rc::Rc;

use loop_tui::app::state::{AppState, PaneSpec};
use loop_tui::pane::emulator::EmulatorKind;
use loop_tui::pane::pty::PaneProgram;
use loop_tui::ui::Presenter;
use proptest::prelude::*;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

const COLS: u16 = 60;
const ROWS: u16 = 14;

/// The real backend writing into memory, with a fixed size (there is no
/// terminal to ask). Its bytes go to a vt100 parser standing in for the
/// user's terminal, which overwrites cells under wide characters as a real
/// terminal does.
struct Recorder(CrosstermBackend<Output>);

/// The bytes written so far, shared with the test.
#[derive(Clone, Default)]
struct Output(Rc<RefCell<Vec<u8>>>);

impl io::Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Recorder {
    fn new() -> (Self, Output) {
        let output = Output::default();
        (Self(CrosstermBackend::new(output.clone())), output)
    }
}

impl Backend for Recorder {
    type Error = io::Error;
    fn draw<'a, I: Iterator<Item = (u16, u16, &'a Cell)>>(&mut self, content: I) -> io::Result<()> {
        self.0.draw(content)
    }
    fn hide_cursor(&mut self) -> io::Result<()> {
        self.0.hide_cursor()
    }
    fn show_cursor(&mut self) -> io::Result<()> {
        self.0.show_cursor()
    }
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(Position::ORIGIN)
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.0.set_cursor_position(position)
    }
    fn clear(&mut self) -> io::Result<()> {
        self.0.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.0.clear_region(clear_type)
    }
    fn size(&self) -> io::Result<Size> {
        Ok(Size::new(COLS, ROWS))
    }
    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: Size::new(COLS, ROWS),
            pixels: Size::new(0, 0),
        })
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A presenter and the terminal screen its output builds.
struct Screen {
    presenter: Presenter<Recorder>,
    output: Output,
    terminal: vt100::Parser,
}

impl Screen {
    fn new() -> Self {
        let (recorder, output) = Recorder::new();
        let size = |n| NonZeroU16::new(n).unwrap();
        Self {
            presenter: Presenter::new(recorder),
            output,
            terminal: vt100::Parser::new(size(ROWS), size(COLS), 0),
        }
    }

    fn whole(&mut self, state: &AppState) {
        self.presenter.draw(state).unwrap();
        self.pump();
    }

    /// A frame as the executor draws one after pane output.
    fn after_output(&mut self, state: &AppState) -> bool {
        let rows_only = self.presenter.draw_pane_output(state).unwrap();
        if !rows_only {
            self.presenter.draw(state).unwrap();
        }
        self.pump();
        rows_only
    }

    fn pump(&mut self) {
        let bytes = self.take();
        self.terminal.process(&bytes);
    }

    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.output.0.borrow_mut())
    }

    /// Every cell as a person sees it (text, colours, attributes; an
    /// untouched cell looks like a written space) and the cursor.
    fn shows(&self) -> (Vec<String>, (u16, u16), bool) {
        let screen = self.terminal.screen();
        let mut rows = Vec::new();
        for row in 0..ROWS {
            let mut line = String::new();
            for col in 0..COLS {
                let Some(cell) = screen.cell(row, col) else {
                    continue;
                };
                let text = match cell.contents() {
                    "" => " ",
                    text => text,
                };
                let _ = write!(
                    line,
                    "[{text}|{:?}|{:?}|{}{}{}{}]",
                    cell.fgcolor(),
                    cell.bgcolor(),
                    u8::from(cell.bold()),
                    u8::from(cell.italic()),
                    u8::from(cell.underline()),
                    u8::from(cell.inverse()),
                );
            }
            rows.push(line);
        }
        (rows, screen.cursor_position(), screen.hide_cursor())
    }
}

fn state(kind: EmulatorKind) -> AppState {
    let specs = ["left", "right"]
        .iter()
        .map(|t| PaneSpec::new(t, PaneProgram::Shell(format!("{t} --dry-run"))))
        .collect();
    let mut state = AppState::with_emulator(specs, (COLS, ROWS), 200, kind);
    let count = state.panes.len();
    for index in 0..count {
        let size = state.layout_size(index, count);
        state.panes[index].size = size;
        state.panes[index].screen.lock().resize(size);
    }
    state
}

/// What a fresh terminal shows after one whole frame of `state`.
fn whole_frame(state: &AppState) -> (Vec<String>, (u16, u16), bool) {
    let mut screen = Screen::new();
    screen.whole(state);
    screen.shows()
}

/// Pieces of child output that move, change and erase cells.
fn chunk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-z ]{1,30}".prop_map(String::into_bytes),
        Just(b"\r\n".to_vec()),
        Just(b"\n\n\n\n\n\n\n\n\n\n".to_vec()),
        Just("\u{4e2d}\u{6587}\u{1f600}x".as_bytes().to_vec()),
        // Emoji with a presentation selector (U+FE0F) are left out: their
        // width is disputed between ratatui, the emulators and terminals,
        // so even two whole frames can differ on them.
        Just("e\u{301}a\u{308}".as_bytes().to_vec()),
        (0u8..8, 0u8..30).prop_map(|(r, c)| format!("\x1b[{};{}H", r + 1, c + 1).into_bytes()),
        (30u8..38, 40u8..48).prop_map(|(f, b)| format!("\x1b[{f};{b};1m").into_bytes()),
        Just(b"\x1b[38;2;10;200;30m\x1b[7m".to_vec()),
        Just(b"\x1b[0m".to_vec()),
        Just(b"\x1b[K".to_vec()),
        Just(b"\x1b[2J".to_vec()),
        Just(b"\x1b[1;5r\x1b[5;1H\n\n".to_vec()),
        Just(b"\x1b[r".to_vec()),
        Just(b"\x1b[2L\x1b[3M\x1b[4@\x1b[2P".to_vec()),
        Just(b"\x1b[?1049h".to_vec()),
        Just(b"\x1b[?1049l".to_vec()),
        Just(b"\x1b[?25l".to_vec()),
        Just(b"\x1b[?25h".to_vec()),
        Just(b"\x1b]2;a title\x07".to_vec()),
        Just(b"\x1bc".to_vec()),
        Just(b"\x1b[3J".to_vec()),
        Just(b"\x1b[?2026h".to_vec()),
        Just(b"\x1b[?2026l".to_vec()),
    ]
}

/// One step: output into a pane, and whether a frame follows.
fn steps() -> impl Strategy<Value = Vec<(usize, Vec<u8>, bool)>> {
    prop::collection::vec((0usize..2, chunk(), any::<bool>()), 1..40)
}

fn check(kind: EmulatorKind, steps: &[(usize, Vec<u8>, bool)]) -> Result<(), TestCaseError> {
    let state = state(kind);
    let mut screen = Screen::new();
    screen.whole(&state);
    for (pane, bytes, frame) in steps {
        state.panes[*pane].screen.feed(bytes);
        if *frame {
            screen.after_output(&state);
        }
    }
    screen.after_output(&state);
    let shown = screen.shows();
    let expected = whole_frame(&state);
    for (row, (shown, expected)) in shown.0.iter().zip(&expected.0).enumerate() {
        prop_assert_eq!(shown, expected, "row {}", row);
    }
    prop_assert_eq!(shown.2, expected.2, "cursor shown");
    if !expected.2 {
        prop_assert_eq!(shown.1, expected.1, "cursor position");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn row_frames_show_what_a_whole_frame_shows_alacritty(steps in steps()) {
        check(EmulatorKind::Alacritty, &steps)?;
    }

    #[test]
    fn row_frames_show_what_a_whole_frame_shows_vt100(steps in steps()) {
        check(EmulatorKind::Vt100, &steps)?;
    }
}

/// The common case the row frames exist for: a key's echo in an idle pane
/// redraws that row alone, and the screen is still right.
#[test]
fn an_echo_redraws_only_its_row() {
    let state = state(EmulatorKind::Alacritty);
    let mut screen = Screen::new();
    state.panes[0].screen.feed(b"$ ");
    screen.whole(&state);
    state.panes[0].screen.feed(b"x");
    assert!(screen.presenter.draw_pane_output(&state).unwrap());
    let bytes = screen.take();
    // The echo and putting the cursor back: a few dozen bytes, where a
    // whole frame of this screen is over a thousand.
    assert!(
        bytes.len() < 64,
        "{} bytes: {:?}",
        bytes.len(),
        String::from_utf8_lossy(&bytes)
    );
    screen.terminal.process(&bytes);
    assert_eq!(screen.shows(), whole_frame(&state));
    assert!(screen.terminal.screen().contents().contains("$ x"));
}

/// A new title changes the pane's border, which only a whole frame draws.
#[test]
fn a_new_title_needs_a_whole_frame() {
    let state = state(EmulatorKind::Alacritty);
    let mut screen = Screen::new();
    screen.whole(&state);
    state.panes[1].screen.feed(b"\x1b]2;building\x07");
    assert!(!screen.after_output(&state));
    assert!(screen.terminal.screen().contents().contains("building"));
    assert_eq!(screen.shows(), whole_frame(&state));
}

/// A wide character written over the left half of another makes the
/// terminal blank that one's right half, in the colours of the write in
/// some terminals (xterm, vt100): the frame must repaint that cell, or it
/// keeps a background the program never printed. Seen end to end in
/// `tests/presenter_e2e.rs`, where coloured CJK text scrolls by.
#[test]
fn a_wide_character_over_half_of_another_leaves_no_coloured_blank() {
    for kind in [EmulatorKind::Alacritty, EmulatorKind::Vt100] {
        for whole_frames in [false, true] {
            let state = state(kind);
            let mut screen = Screen::new();
            state.panes[0].screen.feed("x\u{4e16}".as_bytes());
            screen.whole(&state);
            state.panes[0]
                .screen
                .feed("\r\x1b[44m\u{4e2d}\x1b[0m\x1b[K".as_bytes());
            if whole_frames {
                screen.whole(&state);
            } else {
                screen.after_output(&state);
            }
            let shown = screen.shows();
            let expected = whole_frame(&state);
            for (row, (shown, expected)) in shown.0.iter().zip(&expected.0).enumerate() {
                assert_eq!(
                    shown, expected,
                    "{kind:?}, whole frames: {whole_frames}, row {row}"
                );
            }
        }
    }
}

/// After a scroll every row of the pane is written whole: a line that
/// happens to start like the line that was under it still appears in one
/// piece in the output, for whatever reads the byte stream (a terminal
/// logger, a benchmark's markers). Writing only the differing cells would
/// send just `END` here.
#[test]
fn a_scrolled_line_is_written_whole() {
    for kind in [EmulatorKind::Alacritty, EmulatorKind::Vt100] {
        let state = state(kind);
        let mut screen = Screen::new();
        let rows = state.panes[0].size.rows;
        // Every row shows a READY marker; the next line only differs at its end.
        for _ in 0..rows {
            state.panes[0].screen.feed(b"\r\nMARK_1234_READY");
        }
        screen.whole(&state);
        state.panes[0].screen.feed(b"\r\nMARK_1234_END");
        assert!(screen.presenter.draw_pane_output(&state).unwrap());
        let bytes = screen.take();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("MARK_1234_END"), "{kind:?}: {text:?}");
        screen.terminal.process(&bytes);
        assert_eq!(screen.shows(), whole_frame(&state), "{kind:?}");
    }
}
