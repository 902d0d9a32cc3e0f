//! The same behaviour checked on both emulators: what a child sees of its
//! terminal (answers to queries, keyboard protocol, synchronized output,
//! clipboard, history) must not depend on which emulator parses it.

use std::time::Duration;

use super::emulator::{
    ClipboardPolicy, Emulator, EmulatorKind, EmulatorOptions, KeyboardFlags, PaneSize, Rgb,
};
use super::replies;

const KINDS: [EmulatorKind; 2] = [EmulatorKind::Alacritty, EmulatorKind::Vt100];

fn emu(kind: EmulatorKind, rows: u16, cols: u16) -> Box<dyn Emulator> {
    kind.create(PaneSize { rows, cols }, 1_000)
}

/// Feeds `input` and returns the answers as text.
fn answer(e: &mut dyn Emulator, input: &[u8]) -> String {
    e.process(input);
    String::from_utf8(e.take_replies()).expect("answers are UTF-8")
}

fn for_each_kind(check: impl Fn(EmulatorKind)) {
    for kind in KINDS {
        check(kind);
    }
}

#[test]
fn cursor_position_and_status_reports() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 5, 20);
        assert_eq!(answer(&mut *e, b"ab\x1b[6n"), "\x1b[1;3R", "{kind:?}");
        assert_eq!(
            answer(&mut *e, b"\x1b[3;7H\x1b[6n"),
            "\x1b[3;7R",
            "{kind:?}"
        );
        assert_eq!(answer(&mut *e, b"\x1b[5n"), "\x1b[0n", "{kind:?}");
        // After the last column the cursor is reported on it, as xterm does.
        let mut e = emu(kind, 5, 5);
        assert_eq!(answer(&mut *e, b"abcde\x1b[6n"), "\x1b[1;5R", "{kind:?}");
    });
}

#[test]
fn device_attributes_and_xtversion() {
    let da2 = replies::secondary_device_attributes();
    let xtversion = format!("\x1bP>|loop-tui {}\x1b\\", replies::VERSION);
    for_each_kind(|kind| {
        let mut e = emu(kind, 5, 20);
        assert_eq!(answer(&mut *e, b"\x1b[c"), "\x1b[?62;22c", "{kind:?}");
        assert_eq!(answer(&mut *e, b"\x1b[0c"), "\x1b[?62;22c", "{kind:?}");
        assert_eq!(answer(&mut *e, b"\x1b[>c"), da2, "{kind:?}");
        assert_eq!(answer(&mut *e, b"\x1b[>0c"), da2, "{kind:?}");
        assert_eq!(answer(&mut *e, b"\x1b[>q"), xtversion, "{kind:?}");
        assert_eq!(answer(&mut *e, b"\x1b[>0q"), xtversion, "{kind:?}");
        // Claude Code's start-up pair: the XTVERSION answer must come
        // before the DA1 that marks the end of the answers.
        assert_eq!(
            answer(&mut *e, b"\x1b[>0q\x1b[c"),
            format!("{xtversion}\x1b[?62;22c"),
            "{kind:?}"
        );
        // A query split across two reads is still answered, once.
        assert_eq!(answer(&mut *e, b"\x1b[>"), "", "{kind:?}");
        assert_eq!(answer(&mut *e, b"0q"), xtversion, "{kind:?}");
        // Other `q` sequences are not XTVERSION.
        assert_eq!(answer(&mut *e, b"\x1b[2 q\x1b[>1q"), "", "{kind:?}");
    });
    assert!(da2.starts_with("\x1b[>1;") && da2.ends_with(";0c"));
}

#[test]
fn decrqm_reports_set_reset_and_unknown_modes() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 5, 20);
        let mode = |e: &mut dyn Emulator, m: u16| answer(e, format!("\x1b[?{m}$p").as_bytes());
        // Reset, then set, for modes both emulators implement.
        for m in [1, 1000, 1002, 1003, 1006, 1049, 2004] {
            assert_eq!(mode(&mut *e, m), format!("\x1b[?{m};2$y"), "{kind:?} {m}");
        }
        let cursor = mode(&mut *e, 25);
        assert_eq!(
            cursor, "\x1b[?25;1$y",
            "{kind:?}: the cursor starts visible"
        );
        let sync = mode(&mut *e, 2026);
        assert_eq!(sync, "\x1b[?2026;2$y", "{kind:?}: supported, not active");
        let graphemes = mode(&mut *e, 2027);
        assert_eq!(
            graphemes, "\x1b[?2027;0$y",
            "{kind:?}: no grapheme clustering"
        );
        assert_eq!(mode(&mut *e, 9999), "\x1b[?9999;0$y", "{kind:?}");
        e.process(b"\x1b[?1h\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[?25l\x1b[?1049h");
        for m in [1, 1000, 1006, 1049, 2004] {
            assert_eq!(mode(&mut *e, m), format!("\x1b[?{m};1$y"), "{kind:?} {m}");
        }
        assert_eq!(mode(&mut *e, 25), "\x1b[?25;2$y", "{kind:?}");
        assert_eq!(
            answer(&mut *e, b"\x1b[9999$p"),
            "\x1b[9999;0$y",
            "{kind:?}: unknown ANSI mode"
        );
    });
}

#[test]
fn decrqm_2026_inside_an_update_is_answered_set_when_the_update_ends() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 5, 20);
        assert_eq!(answer(&mut *e, b"\x1b[?2026h\x1b[?2026$p"), "", "{kind:?}");
        assert_eq!(
            answer(&mut *e, b"\x1b[?2026l"),
            "\x1b[?2026;1$y",
            "{kind:?}"
        );
        assert_eq!(
            answer(&mut *e, b"\x1b[?2026$p"),
            "\x1b[?2026;2$y",
            "{kind:?}"
        );
    });
}

#[test]
fn kitty_keyboard_flags_are_tracked_per_screen() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 5, 20);
        let flags = |e: &dyn Emulator| e.input_modes().keyboard.bits();
        assert_eq!(answer(&mut *e, b"\x1b[?u"), "\x1b[?0u", "{kind:?}");
        assert!(e.input_modes().keyboard.is_legacy());
        e.process(b"\x1b[>1u");
        assert_eq!(flags(&*e), 1, "{kind:?}: push");
        e.process(b"\x1b[>5u");
        assert_eq!(answer(&mut *e, b"\x1b[?u"), "\x1b[?5u", "{kind:?}");
        e.process(b"\x1b[=2;2u");
        assert_eq!(flags(&*e), 7, "{kind:?}: set, union");
        e.process(b"\x1b[=4;3u");
        assert_eq!(flags(&*e), 3, "{kind:?}: set, difference");
        e.process(b"\x1b[=16u");
        assert_eq!(flags(&*e), 16, "{kind:?}: set, replace");
        e.process(b"\x1b[<u");
        assert_eq!(flags(&*e), 1, "{kind:?}: pop returns to the entry below");
        // The alternate screen has its own stack.
        e.process(b"\x1b[?1049h");
        assert_eq!(
            flags(&*e),
            0,
            "{kind:?}: fresh stack on the alternate screen"
        );
        e.process(b"\x1b[>31u");
        assert_eq!(answer(&mut *e, b"\x1b[?u"), "\x1b[?31u", "{kind:?}");
        e.process(b"\x1b[?1049l");
        assert_eq!(flags(&*e), 1, "{kind:?}: the main screen's flags are back");
        e.process(b"\x1b[<10u");
        assert_eq!(flags(&*e), 0, "{kind:?}: popping everything means legacy");
        // Codex's start-up: push, then query with DA1 as the end marker.
        assert_eq!(
            answer(&mut *e, b"\x1b[>7u\x1b[?u\x1b[c"),
            "\x1b[?7u\x1b[?62;22c",
            "{kind:?}"
        );
        assert_eq!(
            e.input_modes().keyboard,
            KeyboardFlags::from_bits(7),
            "{kind:?}"
        );
        // A full reset forgets the flags.
        e.process(b"\x1bc");
        assert_eq!(flags(&*e), 0, "{kind:?}: RIS");
        // A child pushing without end neither crashes nor grows memory.
        e.process(&b"\x1b[>1u".repeat(10_000));
        assert_eq!(flags(&*e), 1, "{kind:?}");
    });
}

#[test]
fn colour_queries_are_answered_with_the_query_terminator() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 5, 20);
        assert_eq!(
            answer(&mut *e, b"\x1b]10;?\x07"),
            "\x1b]10;rgb:d0d0/d0d0/d0d0\x07",
            "{kind:?}"
        );
        assert_eq!(
            answer(&mut *e, b"\x1b]11;?\x1b\\"),
            "\x1b]11;rgb:0000/0000/0000\x1b\\",
            "{kind:?}"
        );
        // The ST split across two reads (alacritty answers at the ESC,
        // vt100 once it has seen the backslash).
        let first = answer(&mut *e, b"\x1b]11;?\x1b");
        let second = answer(&mut *e, b"\\");
        assert_eq!(
            first + &second,
            "\x1b]11;rgb:0000/0000/0000\x1b\\",
            "{kind:?}"
        );
        // Codex asks for both in a row, then the cursor position.
        assert_eq!(
            answer(&mut *e, b"\x1b]10;?\x1b\\\x1b]11;?\x1b\\\x1b[6n"),
            "\x1b]10;rgb:d0d0/d0d0/d0d0\x1b\\\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R",
            "{kind:?}"
        );
        assert_eq!(
            answer(&mut *e, b"\x1b]11;?\x07\x1b[c"),
            "\x1b]11;rgb:0000/0000/0000\x07\x1b[?62;22c",
            "{kind:?}"
        );
        assert_eq!(
            answer(&mut *e, b"\x1b]4;1;?\x07"),
            "\x1b]4;1;rgb:cdcd/0000/0000\x07",
            "{kind:?}: palette"
        );
        // Reading the clipboard is never answered.
        assert_eq!(answer(&mut *e, b"\x1b]52;c;?\x07"), "", "{kind:?}");

        let options = EmulatorOptions {
            foreground: Rgb::new(0x11, 0x22, 0x33),
            background: Rgb::new(0xfe, 0xfd, 0xfc),
            ..EmulatorOptions::default()
        };
        let mut e = kind.create_with(PaneSize { rows: 5, cols: 20 }, 100, options);
        assert_eq!(
            answer(&mut *e, b"\x1b]10;?\x07\x1b]11;?\x07"),
            "\x1b]10;rgb:1111/2222/3333\x07\x1b]11;rgb:fefe/fdfd/fcfc\x07",
            "{kind:?}: the configured colours"
        );
    });
}

#[test]
fn text_area_size_reports() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 7, 33);
        assert_eq!(answer(&mut *e, b"\x1b[18t"), "\x1b[8;7;33t", "{kind:?}");
        assert_eq!(answer(&mut *e, b"\x1b[14t"), "\x1b[4;0;0t", "{kind:?}");
    });
}

#[test]
fn osc52_clipboard_writes_are_ignored_unless_collected() {
    for_each_kind(|kind| {
        let write = b"\x1b]52;c;aGVsbG8=\x07";
        let mut e = emu(kind, 5, 20);
        e.process(write);
        assert_eq!(e.take_clipboard(), None, "{kind:?}: ignored by default");
        assert!(e.take_replies().is_empty());
        let options = EmulatorOptions {
            clipboard: ClipboardPolicy::Collect,
            ..EmulatorOptions::default()
        };
        let mut e = kind.create_with(PaneSize { rows: 5, cols: 20 }, 100, options);
        e.process(write);
        assert_eq!(e.take_clipboard().as_deref(), Some("hello"), "{kind:?}");
        assert_eq!(e.take_clipboard(), None, "{kind:?}: taken once");
    });
}

#[test]
fn a_synchronized_update_is_shown_whole_or_not_at_all() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 3, 20);
        e.process(b"old frame");
        assert_eq!(e.sync_deadline(), None, "{kind:?}");
        e.process(b"\x1b[?2026h\x1b[2J\x1b[Hnew fr");
        assert!(e.text_contents().starts_with("old frame"), "{kind:?}");
        assert!(e.sync_deadline().is_some(), "{kind:?}");
        e.process(b"ame");
        assert!(e.text_contents().starts_with("old frame"), "{kind:?}");
        e.process(b"\x1b[?2026l");
        assert!(e.text_contents().starts_with("new frame"), "{kind:?}");
        assert_eq!(e.sync_deadline(), None, "{kind:?}");
    });
}

#[test]
fn a_stalled_update_is_shown_when_its_deadline_passes() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 3, 20);
        e.process(b"old\x1b[?2026h\rnew\x1b]2;held title\x07");
        let deadline = e.sync_deadline().expect("inside an update");
        assert!(
            !e.flush_expired_sync(
                deadline
                    .checked_sub(Duration::from_millis(1))
                    .expect("a deadline after the epoch")
            ),
            "{kind:?}: not before the deadline"
        );
        assert!(e.text_contents().starts_with("old"), "{kind:?}");
        assert_eq!(e.title(), "", "{kind:?}: the title is part of the update");
        assert!(e.flush_expired_sync(deadline), "{kind:?}");
        assert!(e.text_contents().starts_with("new"), "{kind:?}");
        assert_eq!(e.title(), "held title", "{kind:?}");
        assert_eq!(e.sync_deadline(), None, "{kind:?}");
        assert!(!e.flush_expired_sync(deadline), "{kind:?}: nothing left");
        // Output after the timeout is drawn as it comes.
        e.process(b"\r!");
        assert!(e.text_contents().starts_with("!ew"), "{kind:?}");
    });
}

/// Codex `--no-alt-screen` writes its history by scrolling a region
/// anchored at the top row (`CSI 1 ; n r`, then newlines at its bottom);
/// those lines must land in the pane's history as they do in xterm and
/// tmux.
#[test]
fn lines_scrolled_out_of_a_top_anchored_region_are_kept() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 10, 30);
        // The bottom two rows are the composer, outside the region.
        e.process(b"\x1b[9;1Hcomposer\x1b[10;1Hstatus");
        e.process(b"\x1b[1;8r\x1b[8;1H");
        for i in 0..20 {
            e.process(format!("\r\nhistory {i}").as_bytes());
        }
        e.process(b"\x1b[r");
        assert!(e.scrollback_len() >= 12, "{kind:?}: {}", e.scrollback_len());
        e.set_scroll_offset(usize::MAX);
        let top = e.text_contents();
        assert!(top.contains("history 0\n"), "{kind:?}: {top}");
        e.set_scroll_offset(0);
        let live = e.text_contents();
        assert!(
            live.contains("history 19") && live.contains("composer"),
            "{kind:?}"
        );
    });
}

/// Claude Code clears the history (`CSI 3 J`) before it redraws the whole
/// conversation; a pane scrolled back at that moment must stay consistent.
#[test]
fn erasing_history_while_scrolled_back_is_consistent() {
    for_each_kind(|kind| {
        let mut e = emu(kind, 4, 20);
        for i in 0..30 {
            e.process(format!("line {i}\r\n").as_bytes());
        }
        assert_eq!(e.set_scroll_offset(10), 10, "{kind:?}");
        e.process(b"\x1b[H\x1b[2J\x1b[3Jredrawn");
        assert_eq!(e.scroll_offset(), 0, "{kind:?}");
        assert!(
            e.scrollback_len() <= 4,
            "{kind:?}: {} lines left",
            e.scrollback_len()
        );
        assert!(
            e.set_scroll_offset(usize::MAX) <= e.scrollback_len(),
            "{kind:?}"
        );
        e.set_scroll_offset(0);
        assert!(e.text_contents().starts_with("redrawn"), "{kind:?}");
        for i in 0..10 {
            e.process(format!("\r\nmore {i}").as_bytes());
        }
        assert!(e.set_scroll_offset(3) == 3, "{kind:?}: history grows again");
    });
}

/// A PTY read can end inside a character. vte 0.15 then drops the
/// character after it when another multi-byte one follows within three
/// bytes (alacritty/vte#159): `e\u{301}x漢` cut inside the accent showed
/// `é漢` without the `x`. Both emulators carry the cut character over to
/// the next read instead.
#[test]
fn a_read_cut_inside_a_character_loses_nothing() {
    let text = "e\u{301}x漢字y\u{1F600}z─w ─";
    let stream = text.as_bytes();
    for_each_kind(|kind| {
        let mut whole = emu(kind, 3, 30);
        whole.process(stream);
        let expected = whole.text_contents();
        assert!(expected.contains("x漢字y"), "{kind:?}: {expected}");
        for at in 1..stream.len() {
            let mut cut = emu(kind, 3, 30);
            cut.process(&stream[..at]);
            cut.process(&stream[at..]);
            assert_eq!(cut.text_contents(), expected, "{kind:?}: cut at {at}");
        }
        // One byte per read, as a slow child's output can arrive.
        let mut bytewise = emu(kind, 3, 30);
        for byte in stream {
            bytewise.process(std::slice::from_ref(byte));
        }
        assert_eq!(bytewise.text_contents(), expected, "{kind:?}: byte by byte");
    });
}
