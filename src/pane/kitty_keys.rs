//! Key encoding under the kitty keyboard protocol, for a child that pushed
//! progressive enhancement flags (`CSI > flags u`).
//! <https://sw.kovidgoyal.net/kitty/keyboard-protocol/>
//!
//! Keys that produce text are sent as that text unless the child asked for
//! every key as an escape code; other keys become `CSI number ; modifiers u`
//! (or the `CSI 1 ; modifiers A`…`~` forms of the functional keys). Without
//! the disambiguate flag, the combinations legacy terminals can express keep
//! their legacy bytes, so a child that only asked for, say, release events
//! still reads Ctrl-C as 0x03.

use std::fmt::Write as _;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers, MediaKeyCode, ModifierKeyCode,
};

use super::keyboard::KeyboardFlags;

const ESC: u8 = 0x1b;

// The protocol's modifier bits (the encoded value is 1 + the bits).
const SHIFT: u8 = 1;
const ALT: u8 = 2;
const CTRL: u8 = 4;

fn modifier_bits(mods: KeyModifiers) -> u8 {
    [
        (KeyModifiers::SHIFT, SHIFT),
        (KeyModifiers::ALT, ALT),
        (KeyModifiers::CONTROL, CTRL),
        (KeyModifiers::SUPER, 8),
        (KeyModifiers::HYPER, 16),
        (KeyModifiers::META, 32),
    ]
    .into_iter()
    .filter(|(m, _)| mods.contains(*m))
    .fold(0, |bits, (_, bit)| bits | bit)
}

/// One key event as the protocol sees it.
struct Key {
    /// The unshifted key's code point, or the functional key's number.
    number: u32,
    /// The shifted key, reported with the alternate keys flag.
    shifted: Option<char>,
    mods: u8,
    /// 1 press, 2 repeat, 3 release.
    event: u8,
    /// The text the key types, if any.
    text: Option<char>,
    trailer: u8,
}

/// The bytes of `CSI number : shifted ; modifiers : event ; text trailer`,
/// leaving out every field that holds its default.
fn serialize(key: &Key, flags: KeyboardFlags) -> Vec<u8> {
    let event =
        (flags.contains(KeyboardFlags::REPORT_EVENT_TYPES) && key.event != 1).then_some(key.event);
    let shifted = key
        .shifted
        .filter(|_| flags.contains(KeyboardFlags::REPORT_ALTERNATE_KEYS) && key.mods & SHIFT != 0);
    let text = key
        .text
        .filter(|_| flags.contains(KeyboardFlags::REPORT_ASSOCIATED_TEXT) && key.event != 3);
    let mods_field = key.mods != 0 || event.is_some();
    let mut out = format!("{}[", char::from(ESC));
    if key.number != 1 || shifted.is_some() || mods_field || text.is_some() {
        out.push_str(&key.number.to_string());
    }
    if let Some(shifted) = shifted {
        let _ = write!(out, ":{}", u32::from(shifted));
    }
    if mods_field || text.is_some() {
        out.push(';');
        if mods_field {
            out.push_str(&(u32::from(key.mods) + 1).to_string());
        }
        if let Some(event) = event {
            let _ = write!(out, ":{event}");
        }
    }
    if let Some(text) = text {
        let _ = write!(out, ";{}", u32::from(text));
    }
    out.push(char::from(key.trailer));
    out.into_bytes()
}

/// The shifted form of an ASCII key on a US layout, as kitty reports it.
fn shifted_ascii(c: char) -> Option<char> {
    const PAIRS: &[(char, char)] = &[
        ('`', '~'),
        ('1', '!'),
        ('2', '@'),
        ('3', '#'),
        ('4', '$'),
        ('5', '%'),
        ('6', '^'),
        ('7', '&'),
        ('8', '*'),
        ('9', '('),
        ('0', ')'),
        ('-', '_'),
        ('=', '+'),
        ('[', '{'),
        (']', '}'),
        ('\\', '|'),
        (';', ':'),
        ('\'', '"'),
        (',', '<'),
        ('.', '>'),
        ('/', '?'),
    ];
    PAIRS.iter().find(|(base, _)| *base == c).map(|&(_, s)| s)
}

fn single_case(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

/// The keys whose Shift/Alt/Ctrl combinations have legacy encodings.
fn is_legacy_text_key(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || "`-=[]\\;',./".contains(c)
}

/// The legacy control byte for Ctrl+`c` (kitty's table, a superset of
/// the VT100's); keys outside it are left as they are.
fn ctrl_mapped(c: char) -> u8 {
    match c {
        'a'..='z' => c as u8 - b'a' + 1,
        ' ' | '2' | '@' => 0,
        '3' | '[' => 27,
        '4' | '\\' => 28,
        '5' | ']' => 29,
        '6' | '^' | '~' => 30,
        '7' | '/' | '_' => 31,
        '8' | '?' => 127,
        // Only ASCII reaches this table.
        #[allow(clippy::cast_possible_truncation)]
        _ => c as u8,
    }
}

/// The legacy bytes for a text key with Shift, Alt, Ctrl, Shift+Alt or
/// Ctrl+Alt; `None` for other combinations.
fn legacy_text_key(base: char, shifted: Option<char>, mods: u8) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    if base == ' ' && mods & CTRL != 0 && mods & !(CTRL | ALT) == 0 {
        if mods & ALT != 0 {
            out.push(ESC);
        }
        out.push(0);
        return Some(out);
    }
    if !is_legacy_text_key(base) {
        return None;
    }
    let shifted = shifted.unwrap_or(base);
    let mut utf8 = [0u8; 4];
    match mods {
        SHIFT => out.extend_from_slice(shifted.encode_utf8(&mut utf8).as_bytes()),
        ALT => out.extend_from_slice(&[ESC, base as u8]),
        m if m == SHIFT | ALT => {
            out.push(ESC);
            out.extend_from_slice(shifted.encode_utf8(&mut utf8).as_bytes());
        }
        CTRL => out.push(ctrl_mapped(base)),
        m if m == CTRL | ALT => out.extend_from_slice(&[ESC, ctrl_mapped(base)]),
        _ => return None,
    }
    Some(out)
}

fn event_number(kind: KeyEventKind) -> u8 {
    match kind {
        KeyEventKind::Press => 1,
        KeyEventKind::Repeat => 2,
        KeyEventKind::Release => 3,
    }
}

/// Encodes a key for a child that set `flags` (not empty).
pub fn encode(key: &KeyEvent, flags: KeyboardFlags, application_cursor: bool) -> Option<Vec<u8>> {
    if key.kind == KeyEventKind::Release && !flags.contains(KeyboardFlags::REPORT_EVENT_TYPES) {
        return None;
    }
    let mods = modifier_bits(key.modifiers);
    let event = event_number(key.kind);
    match key.code {
        KeyCode::Char(c) => Some(encode_char(c, mods, event, flags, key.state)),
        KeyCode::Null => Some(encode_char(' ', mods | CTRL, event, flags, key.state)),
        code => encode_functional(code, mods, event, flags, application_cursor, key.state),
    }
}

fn encode_char(
    c: char,
    mods: u8,
    event: u8,
    flags: KeyboardFlags,
    state: KeyEventState,
) -> Vec<u8> {
    let all_keys = flags.contains(KeyboardFlags::REPORT_ALL_KEYS);
    // crossterm reports Shift+A as 'A' (with or without the Shift flag);
    // the protocol wants the unshifted key plus Shift.
    let (base, mods) = match single_case(c.to_lowercase()).filter(|&l| l != c) {
        Some(lower) => (lower, mods | SHIFT),
        None => (c, mods),
    };
    let shifted = if mods & SHIFT == 0 {
        None
    } else {
        single_case(base.to_uppercase())
            .filter(|&u| u != base)
            .or_else(|| shifted_ascii(base))
    };
    // A key types text when no modifier but Shift is held.
    let text = (mods & !SHIFT == 0).then(|| shifted.unwrap_or(base));
    if state.contains(KeyEventState::KEYPAD) && flags.contains(KeyboardFlags::DISAMBIGUATE) {
        if let Some(number) = keypad_number(base) {
            if all_keys || text.is_none() || event == 3 {
                let key = Key {
                    number,
                    shifted: None,
                    mods,
                    event,
                    text,
                    trailer: b'u',
                };
                return serialize(&key, flags);
            }
        }
    }
    if let Some(t) = text.filter(|_| !all_keys && event != 3) {
        let mut utf8 = [0u8; 4];
        return t.encode_utf8(&mut utf8).as_bytes().to_vec();
    }
    let key = Key {
        number: u32::from(base),
        shifted,
        mods,
        event,
        text,
        trailer: b'u',
    };
    // Only a press or repeat with nothing extra to report may keep its
    // legacy bytes.
    let extras = (flags.contains(KeyboardFlags::REPORT_EVENT_TYPES) && event == 3)
        || (flags.contains(KeyboardFlags::REPORT_ALTERNATE_KEYS) && shifted.is_some())
        || (flags.contains(KeyboardFlags::REPORT_ASSOCIATED_TEXT) && text.is_some());
    if !extras && !all_keys && !flags.contains(KeyboardFlags::DISAMBIGUATE) {
        if let Some(bytes) = legacy_text_key(base, shifted, mods) {
            return bytes;
        }
    }
    serialize(&key, flags)
}

/// The protocol's numbers for keypad keys that crossterm reports as
/// characters.
fn keypad_number(c: char) -> Option<u32> {
    let n = match c {
        '0'..='9' => 57399 + (c as u32 - '0' as u32),
        '.' => 57409,
        '/' => 57410,
        '*' => 57411,
        '-' => 57412,
        '+' => 57413,
        '=' => 57415,
        ',' => 57416,
        _ => return None,
    };
    Some(n)
}

fn media_number(key: MediaKeyCode) -> u32 {
    57428
        + match key {
            MediaKeyCode::Play => 0,
            MediaKeyCode::Pause => 1,
            MediaKeyCode::PlayPause => 2,
            MediaKeyCode::Reverse => 3,
            MediaKeyCode::Stop => 4,
            MediaKeyCode::FastForward => 5,
            MediaKeyCode::Rewind => 6,
            MediaKeyCode::TrackNext => 7,
            MediaKeyCode::TrackPrevious => 8,
            MediaKeyCode::Record => 9,
            MediaKeyCode::LowerVolume => 10,
            MediaKeyCode::RaiseVolume => 11,
            MediaKeyCode::MuteVolume => 12,
        }
}

fn modifier_key_number(key: ModifierKeyCode) -> u32 {
    57441
        + match key {
            ModifierKeyCode::LeftShift => 0,
            ModifierKeyCode::LeftControl => 1,
            ModifierKeyCode::LeftAlt => 2,
            ModifierKeyCode::LeftSuper => 3,
            ModifierKeyCode::LeftHyper => 4,
            ModifierKeyCode::LeftMeta => 5,
            ModifierKeyCode::RightShift => 6,
            ModifierKeyCode::RightControl => 7,
            ModifierKeyCode::RightAlt => 8,
            ModifierKeyCode::RightSuper => 9,
            ModifierKeyCode::RightHyper => 10,
            ModifierKeyCode::RightMeta => 11,
            ModifierKeyCode::IsoLevel3Shift => 12,
            ModifierKeyCode::IsoLevel5Shift => 13,
        }
}

/// The number and final byte of a key that types no text; keypad keys get
/// their own numbers when the child asked to tell them apart.
fn functional_number(code: KeyCode, keypad: bool) -> Option<(u32, u8)> {
    let plain = match code {
        KeyCode::Esc => (27, b'u'),
        KeyCode::Enter if keypad => (57414, b'u'),
        KeyCode::Enter => (13, b'u'),
        KeyCode::Tab | KeyCode::BackTab => (9, b'u'),
        KeyCode::Backspace => (127, b'u'),
        KeyCode::Left if keypad => (57417, b'u'),
        KeyCode::Right if keypad => (57418, b'u'),
        KeyCode::Up if keypad => (57419, b'u'),
        KeyCode::Down if keypad => (57420, b'u'),
        KeyCode::PageUp if keypad => (57421, b'u'),
        KeyCode::PageDown if keypad => (57422, b'u'),
        KeyCode::Home if keypad => (57423, b'u'),
        KeyCode::End if keypad => (57424, b'u'),
        KeyCode::Insert if keypad => (57425, b'u'),
        KeyCode::Delete if keypad => (57426, b'u'),
        KeyCode::Insert => (2, b'~'),
        KeyCode::Delete => (3, b'~'),
        KeyCode::Left => (1, b'D'),
        KeyCode::Right => (1, b'C'),
        KeyCode::Up => (1, b'A'),
        KeyCode::Down => (1, b'B'),
        KeyCode::PageUp => (5, b'~'),
        KeyCode::PageDown => (6, b'~'),
        KeyCode::Home => (1, b'H'),
        KeyCode::End => (1, b'F'),
        KeyCode::KeypadBegin => (1, b'E'),
        KeyCode::F(1) => (1, b'P'),
        KeyCode::F(2) => (1, b'Q'),
        // `CSI R` would read as a cursor position report, so F3 takes
        // the protocol's other form.
        KeyCode::F(3) => (13, b'~'),
        KeyCode::F(4) => (1, b'S'),
        KeyCode::F(n @ 5..=12) => (
            u32::from([15u8, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)]),
            b'~',
        ),
        KeyCode::F(n @ 13..=35) => (57376 + u32::from(n - 13), b'u'),
        KeyCode::CapsLock => (57358, b'u'),
        KeyCode::ScrollLock => (57359, b'u'),
        KeyCode::NumLock => (57360, b'u'),
        KeyCode::PrintScreen => (57361, b'u'),
        KeyCode::Pause => (57362, b'u'),
        KeyCode::Menu => (57363, b'u'),
        KeyCode::Media(m) => (media_number(m), b'u'),
        KeyCode::Modifier(m) => (modifier_key_number(m), b'u'),
        _ => return None,
    };
    Some(plain)
}

fn encode_functional(
    code: KeyCode,
    mods: u8,
    event: u8,
    flags: KeyboardFlags,
    application_cursor: bool,
    state: KeyEventState,
) -> Option<Vec<u8>> {
    let disambiguate = flags.contains(KeyboardFlags::DISAMBIGUATE);
    let all_keys = flags.contains(KeyboardFlags::REPORT_ALL_KEYS);
    // crossterm reports Shift+Tab as BackTab, the protocol as Tab + Shift.
    let mods = if code == KeyCode::BackTab {
        mods | SHIFT
    } else {
        mods
    };
    let is_enter_tab_backspace = matches!(
        code,
        KeyCode::Enter | KeyCode::Tab | KeyCode::BackTab | KeyCode::Backspace
    );
    if matches!(code, KeyCode::Modifier(_)) && !all_keys {
        return None;
    }
    if event == 3 && is_enter_tab_backspace && !all_keys {
        // So that a shell's user can still type `reset` after a program
        // crashed with the flags set, these keys send no release unless
        // every key is reported.
        return None;
    }
    let keypad = state.contains(KeyEventState::KEYPAD) && disambiguate;
    let (number, trailer) = functional_number(code, keypad)?;
    // The legacy forms carry no event type, so releases never use them, and
    // keypad keys told apart from the main keys have none.
    if event != 3 && !keypad {
        if let Some(bytes) = legacy_functional(code, mods, flags, application_cursor) {
            return Some(bytes);
        }
    }
    let key = Key {
        number,
        shifted: None,
        mods,
        event,
        text: None,
        trailer,
    };
    Some(serialize(&key, flags))
}

/// The legacy bytes a functional key keeps under the given flags.
fn legacy_functional(
    code: KeyCode,
    mods: u8,
    flags: KeyboardFlags,
    application_cursor: bool,
) -> Option<Vec<u8>> {
    let disambiguate = flags.contains(KeyboardFlags::DISAMBIGUATE);
    let all_keys = flags.contains(KeyboardFlags::REPORT_ALL_KEYS);
    let event_types = flags.contains(KeyboardFlags::REPORT_EVENT_TYPES);
    if application_cursor && !disambiguate && !event_types && mods == 0 {
        let letter = match code {
            KeyCode::Up => Some(b'A'),
            KeyCode::Down => Some(b'B'),
            KeyCode::Right => Some(b'C'),
            KeyCode::Left => Some(b'D'),
            KeyCode::End => Some(b'F'),
            KeyCode::Home => Some(b'H'),
            _ => None,
        };
        if let Some(letter) = letter {
            return Some(vec![ESC, b'O', letter]);
        }
    }
    let bytes: &[u8] = match (code, mods) {
        (KeyCode::Esc, 0) if !disambiguate && !all_keys => b"\x1b",
        (KeyCode::Enter, 0) if !all_keys => b"\r",
        (KeyCode::Backspace, 0) if !all_keys => b"\x7f",
        (KeyCode::Tab, 0) if !all_keys => b"\t",
        (KeyCode::Tab, ALT) if !disambiguate => b"\x1b\t",
        (KeyCode::Enter, ALT) if !disambiguate => b"\x1b\r",
        (KeyCode::Backspace, ALT) if !disambiguate => b"\x1b\x7f",
        (KeyCode::Tab | KeyCode::BackTab, SHIFT) if !disambiguate => b"\x1b[Z",
        (KeyCode::Backspace, CTRL) if !disambiguate => b"\x08",
        _ => return None,
    };
    Some(bytes.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pane::emulator::InputModes;
    use crate::pane::input::KeyEncoder;

    const NONE: KeyModifiers = KeyModifiers::NONE;
    const S: KeyModifiers = KeyModifiers::SHIFT;
    const C: KeyModifiers = KeyModifiers::CONTROL;
    const A: KeyModifiers = KeyModifiers::ALT;
    const PRESS: KeyEventKind = KeyEventKind::Press;
    const REPEAT: KeyEventKind = KeyEventKind::Repeat;
    const RELEASE: KeyEventKind = KeyEventKind::Release;

    /// Encodes through the public entry point, as the app does.
    fn enc_full(
        bits: u16,
        code: KeyCode,
        mods: KeyModifiers,
        kind: KeyEventKind,
        state: KeyEventState,
        app_cursor: bool,
    ) -> Option<String> {
        let modes = InputModes {
            keyboard: KeyboardFlags::from_bits(bits),
            application_cursor: app_cursor,
            ..InputModes::default()
        };
        let key = KeyEvent::new_with_kind_and_state(code, mods, kind, state);
        KeyEncoder::encode(&key, &modes).map(|b| String::from_utf8(b).expect("UTF-8"))
    }

    fn enc(bits: u16, code: KeyCode, mods: KeyModifiers, kind: KeyEventKind) -> Option<String> {
        enc_full(bits, code, mods, kind, KeyEventState::NONE, false)
    }

    fn ch(c: char) -> KeyCode {
        KeyCode::Char(c)
    }

    #[test]
    fn disambiguate_matches_the_spec() {
        let table: Vec<(KeyCode, KeyModifiers, &str)> = vec![
            (ch('a'), NONE, "a"),
            (ch('A'), S, "A"),
            (ch('c'), C, "\x1b[99;5u"),
            (ch('a'), A, "\x1b[97;3u"),
            (ch('a'), C | A, "\x1b[97;7u"),
            (ch('A'), A, "\x1b[97;4u"),
            (ch('A'), C | S, "\x1b[97;6u"),
            (ch(' '), C, "\x1b[32;5u"),
            (ch(']'), C, "\x1b[93;5u"),
            (KeyCode::Esc, NONE, "\x1b[27u"),
            (KeyCode::Enter, NONE, "\r"),
            (KeyCode::Enter, S, "\x1b[13;2u"),
            (KeyCode::Enter, C, "\x1b[13;5u"),
            (KeyCode::Enter, A, "\x1b[13;3u"),
            (KeyCode::Tab, NONE, "\t"),
            (KeyCode::BackTab, S, "\x1b[9;2u"),
            (KeyCode::Backspace, NONE, "\x7f"),
            (KeyCode::Backspace, C, "\x1b[127;5u"),
            (KeyCode::Up, NONE, "\x1b[A"),
            (KeyCode::Up, C, "\x1b[1;5A"),
            (KeyCode::Home, S, "\x1b[1;2H"),
            (KeyCode::F(1), NONE, "\x1b[P"),
            (KeyCode::F(3), NONE, "\x1b[13~"),
            (KeyCode::F(3), S, "\x1b[13;2~"),
            (KeyCode::F(5), NONE, "\x1b[15~"),
            (KeyCode::F(12), C, "\x1b[24;5~"),
            (KeyCode::F(13), NONE, "\x1b[57376u"),
            (KeyCode::Delete, NONE, "\x1b[3~"),
            (KeyCode::PageDown, A, "\x1b[6;3~"),
            (KeyCode::CapsLock, NONE, "\x1b[57358u"),
            (KeyCode::Media(MediaKeyCode::PlayPause), NONE, "\x1b[57430u"),
            (KeyCode::Null, NONE, "\x1b[32;5u"),
        ];
        for (code, mods, want) in table {
            assert_eq!(
                enc(1, code, mods, PRESS).as_deref(),
                Some(want),
                "{code:?} {mods:?}"
            );
        }
        assert_eq!(
            enc(1, ch('a'), NONE, RELEASE),
            None,
            "no releases by default"
        );
        assert_eq!(
            enc(1, KeyCode::Modifier(ModifierKeyCode::LeftShift), S, PRESS),
            None,
            "modifier keys alone only with report-all-keys"
        );
        assert_eq!(
            enc_full(1, KeyCode::Up, NONE, PRESS, KeyEventState::NONE, true).as_deref(),
            Some("\x1b[A"),
            "no SS3 cursor keys once disambiguated"
        );
        let keypad = KeyEventState::KEYPAD;
        assert_eq!(
            enc_full(1, KeyCode::Enter, NONE, PRESS, keypad, false).as_deref(),
            Some("\x1b[57414u")
        );
        assert_eq!(
            enc_full(1, ch('5'), NONE, PRESS, keypad, false).as_deref(),
            Some("5"),
            "keypad keys that type text still send the text"
        );
        assert_eq!(
            enc_full(1, ch('5'), C, PRESS, keypad, false).as_deref(),
            Some("\x1b[57404;5u")
        );
    }

    #[test]
    fn event_types_report_repeats_and_releases() {
        let f = 0b11;
        assert_eq!(enc(f, ch('a'), NONE, PRESS).as_deref(), Some("a"));
        assert_eq!(enc(f, ch('a'), NONE, REPEAT).as_deref(), Some("a"));
        assert_eq!(
            enc(f, ch('a'), NONE, RELEASE).as_deref(),
            Some("\x1b[97;1:3u")
        );
        assert_eq!(enc(f, ch('c'), C, REPEAT).as_deref(), Some("\x1b[99;5:2u"));
        assert_eq!(enc(f, ch('c'), C, RELEASE).as_deref(), Some("\x1b[99;5:3u"));
        assert_eq!(
            enc(f, KeyCode::Esc, NONE, RELEASE).as_deref(),
            Some("\x1b[27;1:3u")
        );
        assert_eq!(
            enc(f, KeyCode::Up, NONE, RELEASE).as_deref(),
            Some("\x1b[1;1:3A")
        );
        assert_eq!(
            enc(f, KeyCode::F(5), NONE, REPEAT).as_deref(),
            Some("\x1b[15;1:2~")
        );
        for key in [KeyCode::Enter, KeyCode::Tab, KeyCode::Backspace] {
            assert_eq!(enc(f, key, NONE, RELEASE), None, "{key:?} sends no release");
            assert_eq!(enc(f, key, S, RELEASE), None, "{key:?} sends no release");
        }
        // Without disambiguation, presses keep their legacy bytes and only
        // releases need the escape code.
        assert_eq!(enc(2, ch('c'), C, PRESS).as_deref(), Some("\x03"));
        assert_eq!(enc(2, ch('c'), C, RELEASE).as_deref(), Some("\x1b[99;5:3u"));
        assert_eq!(enc(2, KeyCode::Esc, NONE, PRESS).as_deref(), Some("\x1b"));
        assert_eq!(
            enc(2, KeyCode::Esc, NONE, RELEASE).as_deref(),
            Some("\x1b[27;1:3u")
        );
        assert_eq!(enc(2, KeyCode::Enter, A, PRESS).as_deref(), Some("\x1b\r"));
    }

    #[test]
    fn alternate_keys_add_the_shifted_key() {
        let f = 0b100;
        assert_eq!(enc(f, ch('A'), C, PRESS).as_deref(), Some("\x1b[97:65;6u"));
        assert_eq!(
            enc(f, ch('a'), C | S, PRESS).as_deref(),
            Some("\x1b[97:65;6u")
        );
        assert_eq!(
            enc(f, ch('1'), C | S, PRESS).as_deref(),
            Some("\x1b[49:33;6u")
        );
        assert_eq!(
            enc(f, ch('A'), S, PRESS).as_deref(),
            Some("A"),
            "text stays text"
        );
        assert_eq!(
            enc(f, ch('a'), A, PRESS).as_deref(),
            Some("\x1ba"),
            "no shift, legacy"
        );
        assert_eq!(
            enc_full(f, KeyCode::Up, NONE, PRESS, KeyEventState::NONE, true).as_deref(),
            Some("\x1bOA"),
            "cursor key mode still applies without disambiguation"
        );
        assert_eq!(
            enc(f, KeyCode::Enter, S, PRESS).as_deref(),
            Some("\x1b[13;2u"),
            "functional keys never carry alternates"
        );
    }

    #[test]
    fn report_all_keys_and_associated_text() {
        assert_eq!(enc(8, ch('a'), NONE, PRESS).as_deref(), Some("\x1b[97u"));
        assert_eq!(enc(8, ch('A'), S, PRESS).as_deref(), Some("\x1b[97;2u"));
        assert_eq!(
            enc(8, KeyCode::Enter, NONE, PRESS).as_deref(),
            Some("\x1b[13u")
        );
        assert_eq!(
            enc(8, KeyCode::Tab, NONE, PRESS).as_deref(),
            Some("\x1b[9u")
        );
        assert_eq!(
            enc(8, KeyCode::Backspace, NONE, PRESS).as_deref(),
            Some("\x1b[127u")
        );
        assert_eq!(
            enc(8, KeyCode::Esc, NONE, PRESS).as_deref(),
            Some("\x1b[27u")
        );
        assert_eq!(
            enc(8, KeyCode::Modifier(ModifierKeyCode::LeftShift), S, PRESS).as_deref(),
            Some("\x1b[57441;2u")
        );
        assert_eq!(
            enc(8, KeyCode::Modifier(ModifierKeyCode::RightAlt), A, PRESS).as_deref(),
            Some("\x1b[57449;3u")
        );
        assert_eq!(
            enc(24, ch('a'), NONE, PRESS).as_deref(),
            Some("\x1b[97;;97u")
        );
        assert_eq!(enc(24, ch('A'), S, PRESS).as_deref(), Some("\x1b[97;2;65u"));
        assert_eq!(
            enc(24, ch('a'), C, PRESS).as_deref(),
            Some("\x1b[97;5u"),
            "no text"
        );
        assert_eq!(
            enc(24, ch('é'), NONE, PRESS).as_deref(),
            Some("\x1b[233;;233u")
        );
        assert_eq!(enc(16, ch('a'), NONE, PRESS).as_deref(), Some("a"));
        assert_eq!(enc(16, ch('a'), A, PRESS).as_deref(), Some("\x1ba"));
        let all = 31;
        assert_eq!(
            enc(all, ch('A'), S, PRESS).as_deref(),
            Some("\x1b[97:65;2;65u")
        );
        assert_eq!(
            enc(all, ch('A'), S, RELEASE).as_deref(),
            Some("\x1b[97:65;2:3u")
        );
        assert_eq!(
            enc(all, ch('a'), NONE, REPEAT).as_deref(),
            Some("\x1b[97;1:2;97u")
        );
        assert_eq!(
            enc(all, KeyCode::Enter, NONE, RELEASE).as_deref(),
            Some("\x1b[13;1:3u")
        );
    }

    /// What each flag promises, checked under all 32 combinations.
    #[test]
    fn every_flag_combination_keeps_each_flags_promise() {
        for bits in 0u16..32 {
            let has = |flag: KeyboardFlags| KeyboardFlags::from_bits(bits).contains(flag);
            let disambiguate = has(KeyboardFlags::DISAMBIGUATE);
            let events = has(KeyboardFlags::REPORT_EVENT_TYPES);
            let alternates = has(KeyboardFlags::REPORT_ALTERNATE_KEYS);
            let all = has(KeyboardFlags::REPORT_ALL_KEYS);
            let text = has(KeyboardFlags::REPORT_ASSOCIATED_TEXT);
            let ctx = format!("flags {bits:#07b}");
            let escaped = disambiguate || all;

            let a = enc(bits, ch('a'), NONE, PRESS).expect("a is sent");
            if all {
                assert!(a.starts_with("\x1b[97"), "{ctx}: {a:?}");
                assert_eq!(a.ends_with(";97u"), text, "{ctx}: {a:?}");
            } else {
                assert_eq!(a, "a", "{ctx}");
            }

            let ctrl_c = enc(bits, ch('c'), C, PRESS).expect("ctrl-c is sent");
            if escaped {
                assert_eq!(ctrl_c, "\x1b[99;5u", "{ctx}");
            } else {
                assert_eq!(ctrl_c, "\x03", "{ctx}");
            }

            let release = enc(bits, ch('a'), NONE, RELEASE);
            assert_eq!(release.is_some(), events, "{ctx}: {release:?}");
            if let Some(r) = release {
                assert!(r.starts_with("\x1b[97") && r.contains(":3"), "{ctx}: {r:?}");
            }
            let enter_release = enc(bits, KeyCode::Enter, NONE, RELEASE);
            assert_eq!(
                enter_release.as_deref(),
                (events && all).then_some("\x1b[13;1:3u"),
                "{ctx}"
            );

            let shift_enter = enc(bits, KeyCode::Enter, S, PRESS).expect("sent");
            // Shift+Enter has no legacy form but CR, which only flags 0 use.
            let want = if bits == 0 { "\r" } else { "\x1b[13;2u" };
            assert_eq!(shift_enter, want, "{ctx}");

            let esc = enc(bits, KeyCode::Esc, NONE, PRESS).expect("sent");
            assert_eq!(esc, if escaped { "\x1b[27u" } else { "\x1b" }, "{ctx}");

            let ctrl_shift_a = enc(bits, ch('A'), C, PRESS).expect("sent");
            // Ctrl+Shift has no legacy form either: Ctrl-A is all flags 0 send.
            let want = if alternates {
                "\x1b[97:65;6u"
            } else if bits == 0 {
                "\x01"
            } else {
                "\x1b[97;6u"
            };
            assert_eq!(ctrl_shift_a, want, "{ctx}");

            let up = enc_full(bits, KeyCode::Up, NONE, PRESS, KeyEventState::NONE, true);
            let want = if disambiguate || events {
                "\x1b[A"
            } else {
                "\x1bOA"
            };
            assert_eq!(up.as_deref(), Some(want), "{ctx}");

            let repeat = enc(bits, ch('x'), NONE, REPEAT).expect("repeats are sent");
            if all {
                assert_eq!(repeat.contains(":2"), events, "{ctx}: {repeat:?}");
            } else {
                assert_eq!(repeat, "x", "{ctx}");
            }
        }
    }
}
