//! The [`Emulator`] implemented with the `vt100` crate.

use std::num::NonZeroU16;

use super::emulator::{
    CellAttrs, CellColor, CellText, CellView, CursorState, Emulator, InputModes, MouseEncoding,
    MouseMode, PaneSize,
};

/// Collects what `vt100` does not handle itself: queries the child waits
/// on, the title and the bell.
#[derive(Default)]
struct Hooks {
    replies: Vec<u8>,
    title: String,
    bell: bool,
}

impl vt100::Callbacks for Hooks {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }

    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = String::from_utf8_lossy(title).into_owned();
    }

    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied().unwrap_or(0);
        match (i1, c, first) {
            // DSR 6: cursor position report, 1-based. Shells and many TUIs
            // (crossterm's `cursor::position`) block until it arrives.
            (None, 'n', 6) => {
                let (row, col) = screen.cursor_position();
                let col = col.min(screen.size().1.get() - 1);
                self.replies
                    .extend_from_slice(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
            }
            // DSR 5: "are you OK" — answer "no malfunction".
            (None, 'n', 5) => self.replies.extend_from_slice(b"\x1b[0n"),
            // DA1: claim a VT220 with ANSI colour, as xterm does.
            (None, 'c', 0) => self.replies.extend_from_slice(b"\x1b[?62;22c"),
            // DA2: a terminal type and version that programs treat as xterm-like.
            (Some(b'>'), 'c', 0) => self.replies.extend_from_slice(b"\x1b[>1;10;0c"),
            _ => {}
        }
    }
}

/// A pane's screen and history, parsed by `vt100`.
pub struct Vt100Emulator {
    parser: vt100::Parser<Hooks>,
}

fn non_zero(value: u16) -> NonZeroU16 {
    NonZeroU16::new(value).unwrap_or(NonZeroU16::MIN)
}

fn color(c: vt100::Color) -> CellColor {
    match c {
        vt100::Color::Default => CellColor::Default,
        vt100::Color::Idx(i) => CellColor::Indexed(i),
        vt100::Color::Rgb(r, g, b) => CellColor::Rgb(r, g, b),
    }
}

impl Vt100Emulator {
    pub fn new(size: PaneSize, scrollback_lines: usize) -> Self {
        let size = size.clamped();
        Self {
            parser: vt100::Parser::new_with_callbacks(
                non_zero(size.rows),
                non_zero(size.cols),
                scrollback_lines,
                Hooks::default(),
            ),
        }
    }
}

impl Emulator for Vt100Emulator {
    fn process(&mut self, bytes: &[u8]) {
        // vt100 itself moves a scrolled-back view along as history grows,
        // so the lines the user is reading stay in place.
        self.parser.process(bytes);
    }

    fn resize(&mut self, size: PaneSize) {
        let size = size.clamped();
        let offset = self.parser.screen().scrollback();
        self.parser
            .set_size(non_zero(size.rows), non_zero(size.cols));
        self.parser.screen_mut().set_scrollback(offset);
    }

    fn size(&self) -> PaneSize {
        let (rows, cols) = self.parser.screen().size();
        PaneSize {
            rows: rows.get(),
            cols: cols.get(),
        }
    }

    fn cell(&self, row: u16, col: u16) -> Option<CellView<'_>> {
        let cell = self.parser.screen().cell(row, col)?;
        Some(CellView {
            text: if cell.has_contents() {
                CellText::Str(cell.contents())
            } else {
                CellText::Empty
            },
            fg: color(cell.fgcolor()),
            bg: color(cell.bgcolor()),
            attrs: CellAttrs {
                bold: cell.bold(),
                dim: cell.dim(),
                italic: cell.italic(),
                underline: cell.underline(),
                inverse: cell.inverse(),
            },
            wide: cell.is_wide(),
            wide_continuation: cell.is_wide_continuation(),
        })
    }

    fn cursor(&self) -> CursorState {
        let screen = self.parser.screen();
        let (row, col) = screen.cursor_position();
        CursorState {
            row,
            // After writing the last column vt100 reports the column past
            // the edge (the pending wrap); a terminal shows it on the last.
            col: col.min(screen.size().1.get() - 1),
            visible: !screen.hide_cursor() && screen.scrollback() == 0,
        }
    }

    fn input_modes(&self) -> InputModes {
        let screen = self.parser.screen();
        InputModes {
            application_cursor: screen.application_cursor(),
            application_keypad: screen.application_keypad(),
            bracketed_paste: screen.bracketed_paste(),
            mouse_mode: match screen.mouse_protocol_mode() {
                vt100::MouseProtocolMode::None => MouseMode::None,
                vt100::MouseProtocolMode::Press => MouseMode::Press,
                vt100::MouseProtocolMode::PressRelease => MouseMode::PressRelease,
                vt100::MouseProtocolMode::ButtonMotion => MouseMode::ButtonMotion,
                vt100::MouseProtocolMode::AnyMotion => MouseMode::AnyMotion,
            },
            mouse_encoding: match screen.mouse_protocol_encoding() {
                vt100::MouseProtocolEncoding::Default => MouseEncoding::Default,
                vt100::MouseProtocolEncoding::Utf8 => MouseEncoding::Utf8,
                vt100::MouseProtocolEncoding::Sgr => MouseEncoding::Sgr,
            },
            alternate_screen: screen.alternate_screen(),
        }
    }

    fn title(&self) -> &str {
        &self.parser.callbacks().title
    }

    fn scrollback_len(&self) -> usize {
        self.parser.screen().scrollback_len()
    }

    fn set_scroll_offset(&mut self, lines: usize) -> usize {
        self.parser.screen_mut().set_scrollback(lines);
        self.parser.screen().scrollback()
    }

    fn scroll_offset(&self) -> usize {
        self.parser.screen().scrollback()
    }

    fn take_replies(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.parser.callbacks_mut().replies)
    }

    fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.parser.callbacks_mut().bell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emu(rows: u16, cols: u16) -> Vt100Emulator {
        Vt100Emulator::new(PaneSize { rows, cols }, 100)
    }

    #[test]
    fn answers_cursor_position_and_device_attributes() {
        let mut e = emu(5, 20);
        e.process(b"ab\x1b[6n\x1b[c\x1b[>c");
        assert_eq!(e.take_replies(), b"\x1b[1;3R\x1b[?62;22c\x1b[>1;10;0c");
        assert!(e.take_replies().is_empty(), "replies are drained once");
    }

    #[test]
    fn title_bell_and_modes_are_tracked() {
        let mut e = emu(5, 20);
        e.process(b"\x1b]2;my title\x07\x07\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?1006h");
        assert_eq!(e.title(), "my title");
        assert!(e.take_bell());
        assert!(!e.take_bell());
        let m = e.input_modes();
        assert!(m.application_cursor && m.bracketed_paste);
        assert_eq!(m.mouse_mode, MouseMode::PressRelease);
        assert_eq!(m.mouse_encoding, MouseEncoding::Sgr);
    }

    #[test]
    fn scrolled_back_view_stays_anchored_while_output_arrives() {
        let mut e = emu(3, 10);
        for i in 0..10 {
            e.process(format!("line{i}\r\n").as_bytes());
        }
        assert_eq!(e.set_scroll_offset(2), 2);
        let before = e.text_contents();
        e.process(b"more1\r\nmore2\r\n");
        assert_eq!(e.text_contents(), before, "the view must not drift");
        assert_eq!(e.scroll_offset(), 4);
    }

    #[test]
    fn anchoring_holds_when_history_is_full() {
        let mut e = Vt100Emulator::new(PaneSize { rows: 3, cols: 10 }, 5);
        for i in 0..20 {
            e.process(format!("l{i}\r\n").as_bytes());
        }
        e.set_scroll_offset(2);
        let before = e.text_contents();
        e.process(b"x\r\n");
        assert_eq!(e.text_contents(), before);
    }

    #[test]
    fn tiny_sizes_never_panic() {
        let mut e = emu(0, 0);
        e.process("漢字😀 hello \x1b[999;999H x".as_bytes());
        e.resize(PaneSize { rows: 1, cols: 1 });
        e.process("漢".as_bytes());
        assert_eq!(e.size(), PaneSize { rows: 1, cols: 1 });
    }
}
