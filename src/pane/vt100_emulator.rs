//! The [`Emulator`] implemented with the `vt100` crate. vt100 leaves the
//! queries a child sends to its callbacks, so [`Hooks`] answers them through
//! [`super::replies`] (the same answers as the alacritty emulator), tracks
//! the kitty keyboard flags, and a [`SyncBuffer`] in front of the parser
//! holds synchronized updates back.

use std::num::NonZeroU16;
use std::time::Instant;

use super::clipboard;
use super::emulator::{
    CellAttrs, CellColor, CellText, CellView, CursorState, Emulator, EmulatorOptions, InputModes,
    MouseEncoding, MouseMode, PaneSize,
};
use super::keyboard::{KeyboardFlags, KeyboardStacks, SetMode};
use super::replies::{self, ModeState};
use super::sync::{find_anchored, SyncBuffer};
use super::utf8_carry::{Head, Utf8Carry};

/// Collects what `vt100` does not handle itself: queries the child waits
/// on, the title, the bell, the keyboard protocol and clipboard writes.
#[derive(Default)]
struct Hooks {
    options: EmulatorOptions,
    replies: Vec<u8>,
    title: String,
    bell: bool,
    keyboard: KeyboardStacks,
    /// The bytes being parsed are the inside of a synchronized update.
    in_sync: bool,
    /// Answers to OSC colour queries whose terminator is not known yet:
    /// vt100 dispatches an OSC string at the ESC of an `ESC \` terminator
    /// (or at BEL) without saying which, so the answer waits for the next
    /// event. A `\` escape right after means ST; anything else means BEL.
    pending_osc: Vec<String>,
    clipboard: Option<String>,
}

impl Hooks {
    fn reply(&mut self, text: &str) {
        self.resolve_osc("\x07");
        self.replies.extend_from_slice(text.as_bytes());
    }

    /// Sends the pending OSC answers with the terminator their query used.
    fn resolve_osc(&mut self, terminator: &str) {
        for body in std::mem::take(&mut self.pending_osc) {
            self.replies.extend_from_slice(body.as_bytes());
            self.replies.extend_from_slice(terminator.as_bytes());
        }
    }

    fn osc_colour_query(&mut self, params: &[&[u8]]) {
        let code = |p: &[u8]| std::str::from_utf8(p).ok()?.parse::<u16>().ok();
        match params {
            // OSC 10/11/12 ; ? (; ? …): each further `?` asks for the next
            // dynamic colour, as in xterm.
            [first, rest @ ..] if matches!(code(first), Some(10..=12)) => {
                let codes = code(first).unwrap_or(10)..=12;
                for (dynamic, param) in codes.zip(rest.iter()) {
                    if *param != b"?" {
                        break;
                    }
                    let colour = if dynamic == 11 {
                        self.options.background
                    } else {
                        self.options.foreground
                    };
                    self.pending_osc
                        .push(replies::color_report(&dynamic.to_string(), colour, ""));
                }
            }
            // OSC 4 ; index ; ? (; index ; ? …): palette entries.
            [b"4", pairs @ ..] => {
                for pair in pairs.chunks(2) {
                    if let [index, b"?"] = pair {
                        if let Some(index) = code(index).and_then(|i| u8::try_from(i).ok()) {
                            self.pending_osc.push(replies::color_report(
                                &format!("4;{index}"),
                                replies::palette(index),
                                "",
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn private_mode(&self, screen: &vt100::Screen, mode: u16) -> ModeState {
        let mouse = screen.mouse_protocol_mode();
        let encoding = screen.mouse_protocol_encoding();
        match mode {
            1 => screen.application_cursor().into(),
            9 => (mouse == vt100::MouseProtocolMode::Press).into(),
            25 => (!screen.hide_cursor()).into(),
            47 | 1049 => screen.alternate_screen().into(),
            1000 => (mouse == vt100::MouseProtocolMode::PressRelease).into(),
            1002 => (mouse == vt100::MouseProtocolMode::ButtonMotion).into(),
            1003 => (mouse == vt100::MouseProtocolMode::AnyMotion).into(),
            1005 => (encoding == vt100::MouseProtocolEncoding::Utf8).into(),
            1006 => (encoding == vt100::MouseProtocolEncoding::Sgr).into(),
            2004 => screen.bracketed_paste().into(),
            replies::SYNC_MODE => self.in_sync.into(),
            _ => ModeState::NotRecognized,
        }
    }

    fn keyboard(&mut self, screen: &vt100::Screen, kind: u8, params: &[&[u16]]) {
        let alternate = screen.alternate_screen();
        let param = |i: usize| params.get(i).and_then(|p| p.first()).copied();
        match kind {
            b'?' => {
                let report = self.keyboard.report(alternate);
                self.reply(&report);
            }
            b'>' => self
                .keyboard
                .push(alternate, KeyboardFlags::from_bits(param(0).unwrap_or(0))),
            // A missing or zero count pops one entry.
            b'<' => self
                .keyboard
                .pop(alternate, usize::from(param(0).unwrap_or(1).max(1))),
            b'=' => self.keyboard.set(
                alternate,
                KeyboardFlags::from_bits(param(0).unwrap_or(0)),
                SetMode::from_param(param(1).unwrap_or(1)),
            ),
            _ => {}
        }
    }
}

impl vt100::Callbacks for Hooks {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }

    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.title = String::from_utf8_lossy(title).into_owned();
    }

    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _ty: &[u8], data: &[u8]) {
        if let Some(text) = clipboard::accept_write(self.options.clipboard, data) {
            self.clipboard = Some(text);
        }
    }

    // A child may never read the user's clipboard (it could hold a
    // password): `paste_from_clipboard` keeps vt100's silent default.

    fn unhandled_escape(&mut self, _: &mut vt100::Screen, i1: Option<u8>, _i2: Option<u8>, b: u8) {
        if i1.is_none() && b == b'\\' {
            self.resolve_osc("\x1b\\");
        } else {
            self.resolve_osc("\x07");
        }
    }

    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        self.resolve_osc("\x07");
        self.osc_colour_query(params);
    }

    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied().unwrap_or(0);
        match (i1, i2, c) {
            // DSR 6: cursor position report. Shells and many TUIs
            // (crossterm's `cursor::position`) block until it arrives.
            (None, None, 'n') if first == 6 => {
                let (row, col) = screen.cursor_position();
                // After writing the last column vt100 reports the column
                // past the edge (the pending wrap); terminals say the last.
                let col = col.min(screen.size().1.get() - 1);
                self.reply(&replies::cursor_position(
                    usize::from(row),
                    usize::from(col),
                ));
            }
            (None, None, 'n') if first == 5 => self.reply(replies::OPERATING_STATUS),
            (None, None, 'c') if first == 0 => self.reply(replies::PRIMARY_DEVICE_ATTRIBUTES),
            (Some(b'>'), None, 'c') if first == 0 => {
                self.reply(&replies::secondary_device_attributes());
            }
            (Some(b'>'), None, 'q') if first == 0 => self.reply(&replies::xtversion()),
            (Some(b'?'), Some(b'$'), 'p') => {
                let state = self.private_mode(screen, first);
                self.reply(&replies::private_mode_report(first, state));
            }
            // vt100 implements no ANSI mode (insert, newline).
            (Some(b'$'), None, 'p') => {
                self.reply(&replies::ansi_mode_report(first, ModeState::NotRecognized));
            }
            (Some(kind @ (b'?' | b'>' | b'<' | b'=')), None, 'u') => {
                self.resolve_osc("\x07");
                self.keyboard(screen, kind, params);
            }
            (None, None, 't') if first == 18 => {
                let (rows, cols) = screen.size();
                self.reply(&replies::text_area_chars(rows.get(), cols.get()));
            }
            (None, None, 't') if first == 14 => self.reply(replies::TEXT_AREA_PIXELS),
            _ => {}
        }
    }
}

/// A pane's screen and history, parsed by `vt100`.
pub struct Vt100Emulator {
    parser: vt100::Parser<Hooks>,
    sync: SyncBuffer,
    /// The start of a character the last read ended inside.
    utf8_carry: Utf8Carry,
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

/// The grid vt100 gets: at least two columns, because vt100 0.18.1 panics
/// (an `unwrap` on a missing cell) when a combining mark follows a
/// variation selector in a one-column screen. The renderer clips the
/// extra column, as it does for the alacritty grid.
fn grid_size(size: PaneSize) -> PaneSize {
    let size = size.clamped();
    PaneSize {
        rows: size.rows,
        cols: size.cols.max(2),
    }
}

impl Vt100Emulator {
    pub fn new(size: PaneSize, scrollback_lines: usize) -> Self {
        Self::with_options(size, scrollback_lines, EmulatorOptions::default())
    }

    pub fn with_options(size: PaneSize, scrollback_lines: usize, options: EmulatorOptions) -> Self {
        let size = grid_size(size);
        Self {
            parser: vt100::Parser::new_with_callbacks(
                non_zero(size.rows),
                non_zero(size.cols),
                scrollback_lines,
                Hooks {
                    options,
                    ..Hooks::default()
                },
            ),
            sync: SyncBuffer::default(),
            utf8_carry: Utf8Carry::default(),
        }
    }

    /// Parses bytes the sync buffer let through.
    fn parse(parser: &mut vt100::Parser<Hooks>, bytes: &[u8], in_sync: bool) {
        parser.callbacks_mut().in_sync = in_sync;
        // vt100 resets itself on RIS (`ESC c`) without telling its
        // callbacks, so the keyboard flags are forgotten here, at the same
        // point in the stream. The sync buffer never splits `ESC c` (it
        // keeps a trailing ESC back), so looking at the bytes is exact.
        let mut rest = bytes;
        while let Some(at) = find_anchored(rest, b"\x1bc", 1) {
            let (before, after) = rest.split_at(at + 2);
            // vt100 itself moves a scrolled-back view along as history
            // grows, so the lines the user is reading stay in place.
            parser.process(before);
            parser.callbacks_mut().keyboard.reset();
            rest = after;
        }
        parser.process(rest);
        parser.callbacks_mut().in_sync = false;
    }

    /// OSC answers still waiting for their terminator are sent with BEL
    /// once a parse ends anywhere but right after an ESC (the sync buffer
    /// keeps a trailing ESC back, so the parser never ends there).
    fn finish_parse(&mut self) {
        self.parser.callbacks_mut().resolve_osc("\x07");
    }
}

impl Emulator for Vt100Emulator {
    fn process(&mut self, bytes: &[u8]) {
        // vte must not see a character cut in two (see `utf8_carry`).
        let (head, rest) = self.utf8_carry.take_head(bytes);
        let now = self.utf8_carry.hold_tail(rest);
        let parser = &mut self.parser;
        let now_at = Instant::now();
        for read in head.as_ref().map(Head::as_bytes).into_iter().chain([now]) {
            self.sync.feed(read, now_at, |run, in_sync| {
                Self::parse(parser, run, in_sync);
            });
        }
        self.finish_parse();
    }

    fn resize(&mut self, size: PaneSize) {
        let size = grid_size(size);
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
            keyboard: self
                .parser
                .callbacks()
                .keyboard
                .current(screen.alternate_screen()),
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

    fn sync_deadline(&self) -> Option<Instant> {
        self.sync.deadline()
    }

    fn flush_expired_sync(&mut self, now: Instant) -> bool {
        let parser = &mut self.parser;
        let flushed = self.sync.flush_expired(now, |run, in_sync| {
            Self::parse(parser, run, in_sync);
        });
        self.finish_parse();
        flushed
    }

    fn take_clipboard(&mut self) -> Option<String> {
        self.parser.callbacks_mut().clipboard.take()
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
        assert_eq!(
            e.take_replies(),
            format!(
                "\x1b[1;3R\x1b[?62;22c{}",
                replies::secondary_device_attributes()
            )
            .as_bytes()
        );
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
        e.process("0\u{fe0f}\u{301}".as_bytes());
        // The grid keeps two columns (see `grid_size`), as alacritty's does.
        assert_eq!(e.size(), PaneSize { rows: 1, cols: 2 });
    }
}
