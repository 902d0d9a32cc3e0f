//! Pure encoders: a key press, a paste or a mouse event becomes the bytes a
//! real terminal would send for the child's current input modes: xterm's
//! encoding by default, the kitty keyboard protocol once the child asked
//! for it.

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::emulator::{InputModes, MouseEncoding, MouseMode};
use super::kitty_keys;

const ESC: u8 = 0x1b;

/// Encodes keys for a child.
pub struct KeyEncoder;

impl KeyEncoder {
    /// The bytes for `key`, or `None` for events a terminal sends nothing
    /// for: in legacy mode releases, bare modifier keys and media keys;
    /// under the kitty keyboard protocol whatever the child's flags leave
    /// out (releases unless it asked for event types, for instance).
    ///
    /// With no kitty flags pushed, Shift+Enter sends CR like Enter, as in
    /// xterm, tmux and kitty's own legacy mode.
    pub fn encode(key: &KeyEvent, modes: &InputModes) -> Option<Vec<u8>> {
        if !modes.keyboard.is_legacy() {
            return kitty_keys::encode(key, modes.keyboard, modes.application_cursor);
        }
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let mods = key.modifiers;
        let alt = mods.contains(KeyModifiers::ALT);
        let ctrl = mods.contains(KeyModifiers::CONTROL);
        let mut out = Vec::new();
        match key.code {
            KeyCode::Char(c) => {
                if alt {
                    out.push(ESC);
                }
                if ctrl {
                    out.push(ctrl_byte(c)?);
                } else {
                    let mut utf8 = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
            }
            KeyCode::Enter => simple(&mut out, alt, b"\r"),
            KeyCode::Tab => simple(&mut out, alt, b"\t"),
            KeyCode::BackTab => out.extend_from_slice(b"\x1b[Z"),
            // xterm sends DEL for Backspace and BS for Ctrl-Backspace.
            KeyCode::Backspace => simple(&mut out, alt, if ctrl { b"\x08" } else { b"\x7f" }),
            KeyCode::Esc => simple(&mut out, alt, b"\x1b"),
            KeyCode::Up => cursor_key(&mut out, b'A', mods, *modes),
            KeyCode::Down => cursor_key(&mut out, b'B', mods, *modes),
            KeyCode::Right => cursor_key(&mut out, b'C', mods, *modes),
            KeyCode::Left => cursor_key(&mut out, b'D', mods, *modes),
            KeyCode::Home => cursor_key(&mut out, b'H', mods, *modes),
            KeyCode::End => cursor_key(&mut out, b'F', mods, *modes),
            KeyCode::Insert => tilde_key(&mut out, 2, mods),
            KeyCode::Delete => tilde_key(&mut out, 3, mods),
            KeyCode::PageUp => tilde_key(&mut out, 5, mods),
            KeyCode::PageDown => tilde_key(&mut out, 6, mods),
            KeyCode::F(n) => function_key(&mut out, n, mods)?,
            KeyCode::Null => out.push(0),
            _ => return None,
        }
        Some(out)
    }
}

fn simple(out: &mut Vec<u8>, alt: bool, bytes: &[u8]) {
    if alt {
        out.push(ESC);
    }
    out.extend_from_slice(bytes);
}

/// The control byte for Ctrl+`c`, as xterm maps it. crossterm reports the
/// legacy bytes 0x1c–0x1f as Ctrl+'4'..'7' (Ctrl-] arrives as Ctrl+'5'),
/// so the digit row maps like xterm's: Ctrl-2 NUL … Ctrl-8 DEL.
fn ctrl_byte(c: char) -> Option<u8> {
    let byte = match c.to_ascii_lowercase() {
        c @ 'a'..='z' => c as u8 - b'a' + 1,
        '@' | ' ' | '2' => 0x00,
        '[' | '3' => 0x1b,
        '\\' | '4' => 0x1c,
        ']' | '5' => 0x1d,
        '^' | '6' => 0x1e,
        '_' | '7' | '/' => 0x1f,
        '?' | '8' => 0x7f,
        _ => return None,
    };
    Some(byte)
}

/// xterm's modifier parameter: 1 + Shift(1) + Alt(2) + Ctrl(4).
fn modifier_param(mods: KeyModifiers) -> u8 {
    1 + u8::from(mods.contains(KeyModifiers::SHIFT))
        + 2 * u8::from(mods.contains(KeyModifiers::ALT))
        + 4 * u8::from(mods.contains(KeyModifiers::CONTROL))
}

fn cursor_key(out: &mut Vec<u8>, letter: u8, mods: KeyModifiers, modes: InputModes) {
    let m = modifier_param(mods);
    if m > 1 {
        out.extend_from_slice(format!("\x1b[1;{m}").as_bytes());
        out.push(letter);
    } else if modes.application_cursor {
        out.extend_from_slice(&[ESC, b'O', letter]);
    } else {
        out.extend_from_slice(&[ESC, b'[', letter]);
    }
}

fn tilde_key(out: &mut Vec<u8>, code: u8, mods: KeyModifiers) {
    let m = modifier_param(mods);
    if m > 1 {
        out.extend_from_slice(format!("\x1b[{code};{m}~").as_bytes());
    } else {
        out.extend_from_slice(format!("\x1b[{code}~").as_bytes());
    }
}

fn function_key(out: &mut Vec<u8>, n: u8, mods: KeyModifiers) -> Option<()> {
    let m = modifier_param(mods);
    match n {
        1..=4 => {
            let letter = b"PQRS"[usize::from(n - 1)];
            if m > 1 {
                out.extend_from_slice(format!("\x1b[1;{m}").as_bytes());
                out.push(letter);
            } else {
                out.extend_from_slice(&[ESC, b'O', letter]);
            }
        }
        5..=12 => {
            // The gaps (16, 22) are historical: VT220 numbering.
            let code = [15u8, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)];
            tilde_key(out, code, mods);
        }
        _ => return None,
    }
    Some(())
}

/// The end marker of a bracketed paste; pasted text must never contain it,
/// or the rest of the paste would be read as typed keys.
pub const PASTE_END: &[u8] = b"\x1b[201~";

/// The start marker of a bracketed paste; a nested one inside the text
/// could confuse a child's paste parser, so it is removed as well.
pub const PASTE_START: &[u8] = b"\x1b[200~";

/// Encodes pasted text. Line breaks become CR, as a terminal sends for
/// Enter; the text is wrapped in `ESC[200~ … ESC[201~` if and only if the
/// child enabled bracketed paste.
pub fn encode_paste(text: &str, modes: &InputModes) -> Vec<u8> {
    let normalized = text.replace("\r\n", "\r").replace('\n', "\r");
    if !modes.bracketed_paste {
        return normalized.into_bytes();
    }
    let mut body = normalized.into_bytes();
    // Removing one marker can join the bytes around it into a new one, so
    // repeat until none is left.
    while let Some((at, len)) = find(&body, PASTE_END)
        .map(|at| (at, PASTE_END.len()))
        .or_else(|| find(&body, PASTE_START).map(|at| (at, PASTE_START.len())))
    {
        body.drain(at..at + len);
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(PASTE_START);
    out.extend_from_slice(&body);
    out.extend_from_slice(PASTE_END);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Encodes a mouse event at a pane-relative cell (0-based) in the
/// protocol the child asked for; `None` when the child did not ask for
/// this kind of event or the position cannot be encoded.
pub fn encode_mouse(event: &MouseEvent, col: u16, row: u16, modes: &InputModes) -> Option<Vec<u8>> {
    let (base, release, motion) = match event.kind {
        MouseEventKind::Down(b) => (button_code(b), false, false),
        MouseEventKind::Up(b) => (button_code(b), true, false),
        MouseEventKind::Drag(b) => (button_code(b), false, true),
        MouseEventKind::Moved => (3, false, true),
        MouseEventKind::ScrollUp => (64, false, false),
        MouseEventKind::ScrollDown => (65, false, false),
        MouseEventKind::ScrollLeft => (66, false, false),
        MouseEventKind::ScrollRight => (67, false, false),
    };
    let wanted = match modes.mouse_mode {
        MouseMode::None => false,
        MouseMode::Press => !release && !motion,
        MouseMode::PressRelease => !motion,
        MouseMode::ButtonMotion => !matches!(event.kind, MouseEventKind::Moved),
        MouseMode::AnyMotion => true,
    };
    if !wanted {
        return None;
    }
    let mut code = base;
    if motion {
        code += 32;
    }
    if event.modifiers.contains(KeyModifiers::SHIFT) {
        code += 4;
    }
    if event.modifiers.contains(KeyModifiers::ALT) {
        code += 8;
    }
    if event.modifiers.contains(KeyModifiers::CONTROL) {
        code += 16;
    }
    let (x, y) = (u32::from(col) + 1, u32::from(row) + 1);
    match modes.mouse_encoding {
        MouseEncoding::Sgr => {
            let end = if release { 'm' } else { 'M' };
            Some(format!("\x1b[<{code};{x};{y}{end}").into_bytes())
        }
        MouseEncoding::Default | MouseEncoding::Utf8 => {
            // The legacy encodings cannot say which button was released.
            let code = if release { (code & !3) | 3 } else { code };
            let mut out = b"\x1b[M".to_vec();
            for value in [u32::from(code), x, y] {
                let v = value + 32;
                if modes.mouse_encoding == MouseEncoding::Utf8 {
                    let c = char::from_u32(v).filter(|_| v < 2048)?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                } else {
                    out.push(u8::try_from(v).ok()?);
                }
            }
            Some(out)
        }
    }
}

fn button_code(button: MouseButton) -> u8 {
    match button {
        MouseButton::Left => 0,
        MouseButton::Middle => 1,
        MouseButton::Right => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventState;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    fn enc(code: KeyCode, mods: KeyModifiers, app_cursor: bool) -> Vec<u8> {
        let modes = InputModes {
            application_cursor: app_cursor,
            ..InputModes::default()
        };
        KeyEncoder::encode(&key(code, mods), &modes).expect("key has an encoding")
    }

    #[test]
    fn key_table_matches_xterm() {
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        let alt = KeyModifiers::ALT;
        let shift = KeyModifiers::SHIFT;
        let table: Vec<(KeyCode, KeyModifiers, bool, &[u8])> = vec![
            (KeyCode::Enter, none, false, b"\r"),
            (KeyCode::Backspace, none, false, b"\x7f"),
            (KeyCode::Backspace, ctrl, false, b"\x08"),
            (KeyCode::Tab, none, false, b"\t"),
            (KeyCode::BackTab, shift, false, b"\x1b[Z"),
            (KeyCode::Esc, none, false, b"\x1b"),
            (KeyCode::Up, none, false, b"\x1b[A"),
            (KeyCode::Down, none, false, b"\x1b[B"),
            (KeyCode::Right, none, false, b"\x1b[C"),
            (KeyCode::Left, none, false, b"\x1b[D"),
            (KeyCode::Up, none, true, b"\x1bOA"),
            (KeyCode::Down, none, true, b"\x1bOB"),
            (KeyCode::Right, none, true, b"\x1bOC"),
            (KeyCode::Left, none, true, b"\x1bOD"),
            (KeyCode::Home, none, false, b"\x1b[H"),
            (KeyCode::End, none, false, b"\x1b[F"),
            (KeyCode::Home, none, true, b"\x1bOH"),
            (KeyCode::End, none, true, b"\x1bOF"),
            (KeyCode::Up, ctrl, true, b"\x1b[1;5A"),
            (KeyCode::Right, shift, false, b"\x1b[1;2C"),
            (KeyCode::PageUp, none, false, b"\x1b[5~"),
            (KeyCode::PageDown, none, false, b"\x1b[6~"),
            (KeyCode::Insert, none, false, b"\x1b[2~"),
            (KeyCode::Delete, none, false, b"\x1b[3~"),
            (KeyCode::Delete, ctrl, false, b"\x1b[3;5~"),
            (KeyCode::F(1), none, false, b"\x1bOP"),
            (KeyCode::F(2), none, false, b"\x1bOQ"),
            (KeyCode::F(3), none, false, b"\x1bOR"),
            (KeyCode::F(4), none, false, b"\x1bOS"),
            (KeyCode::F(5), none, false, b"\x1b[15~"),
            (KeyCode::F(6), none, false, b"\x1b[17~"),
            (KeyCode::F(7), none, false, b"\x1b[18~"),
            (KeyCode::F(8), none, false, b"\x1b[19~"),
            (KeyCode::F(9), none, false, b"\x1b[20~"),
            (KeyCode::F(10), none, false, b"\x1b[21~"),
            (KeyCode::F(11), none, false, b"\x1b[23~"),
            (KeyCode::F(12), none, false, b"\x1b[24~"),
            (KeyCode::F(1), shift, false, b"\x1b[1;2P"),
            (KeyCode::Char('a'), none, false, b"a"),
            (KeyCode::Char('A'), shift, false, b"A"),
            (KeyCode::Char('c'), ctrl, false, b"\x03"),
            (KeyCode::Char('d'), ctrl, false, b"\x04"),
            (KeyCode::Char('a'), ctrl, false, b"\x01"),
            (KeyCode::Char('z'), ctrl, false, b"\x1a"),
            (KeyCode::Char(']'), ctrl, false, b"\x1d"),
            (KeyCode::Char('5'), ctrl, false, b"\x1d"),
            (KeyCode::Char(' '), ctrl, false, b"\x00"),
            (KeyCode::Char('x'), alt, false, b"\x1bx"),
            (KeyCode::Char('x'), ctrl | alt, false, b"\x1b\x18"),
            (KeyCode::Enter, alt, false, b"\x1b\r"),
            (KeyCode::Char('é'), none, false, "é".as_bytes()),
        ];
        for (code, mods, app, want) in table {
            assert_eq!(
                enc(code, mods, app),
                want,
                "{code:?} {mods:?} app_cursor={app}"
            );
        }
    }

    #[test]
    fn releases_are_not_sent_but_repeats_are() {
        let modes = InputModes::default();
        let mut k = KeyEvent::new_with_kind_and_state(
            KeyCode::Char('a'),
            KeyModifiers::NONE,
            KeyEventKind::Release,
            KeyEventState::NONE,
        );
        assert_eq!(KeyEncoder::encode(&k, &modes), None);
        k.kind = KeyEventKind::Repeat;
        assert_eq!(KeyEncoder::encode(&k, &modes), Some(b"a".to_vec()));
    }

    #[test]
    fn paste_is_bracketed_only_when_the_child_asked() {
        let plain = InputModes::default();
        let bracketed = InputModes {
            bracketed_paste: true,
            ..InputModes::default()
        };
        assert_eq!(encode_paste("a\nb", &plain), b"a\rb");
        assert_eq!(
            encode_paste("a\r\nb", &bracketed),
            b"\x1b[200~a\rb\x1b[201~"
        );
        let hostile = "x\x1b[201~\x1b[2\x1b[201~01~rm -rf /";
        let out = encode_paste(hostile, &bracketed);
        assert_eq!(find(&out, PASTE_END), Some(out.len() - PASTE_END.len()));
    }

    #[test]
    fn mouse_follows_the_mode_and_encoding_the_child_chose() {
        let click = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        };
        let release = MouseEvent {
            kind: MouseEventKind::Up(MouseButton::Left),
            ..click
        };
        let moved = MouseEvent {
            kind: MouseEventKind::Moved,
            ..click
        };
        let mut modes = InputModes::default();
        assert_eq!(encode_mouse(&click, 4, 2, &modes), None);
        modes.mouse_mode = MouseMode::PressRelease;
        assert_eq!(
            encode_mouse(&click, 4, 2, &modes),
            Some(b"\x1b[M %#".to_vec())
        );
        assert_eq!(
            encode_mouse(&release, 4, 2, &modes),
            Some(b"\x1b[M#%#".to_vec())
        );
        assert_eq!(encode_mouse(&moved, 4, 2, &modes), None);
        modes.mouse_encoding = MouseEncoding::Sgr;
        assert_eq!(
            encode_mouse(&click, 4, 2, &modes),
            Some(b"\x1b[<0;5;3M".to_vec())
        );
        assert_eq!(
            encode_mouse(&release, 4, 2, &modes),
            Some(b"\x1b[<0;5;3m".to_vec())
        );
        modes.mouse_mode = MouseMode::AnyMotion;
        assert_eq!(
            encode_mouse(&moved, 4, 2, &modes),
            Some(b"\x1b[<35;5;3M".to_vec())
        );
        let wheel = MouseEvent {
            kind: MouseEventKind::ScrollUp,
            ..click
        };
        assert_eq!(
            encode_mouse(&wheel, 0, 0, &modes),
            Some(b"\x1b[<64;1;1M".to_vec())
        );
        modes.mouse_encoding = MouseEncoding::Default;
        assert_eq!(
            encode_mouse(&click, 300, 0, &modes),
            None,
            "legacy cannot encode x > 223"
        );
        modes.mouse_encoding = MouseEncoding::Utf8;
        assert!(encode_mouse(&click, 300, 0, &modes).is_some());
    }
}
