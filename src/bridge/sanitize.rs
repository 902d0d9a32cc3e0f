//! Makes relayed text safe to type into another agent's PTY.
//!
//! A message from one agent is untrusted: it may be copied terminal output
//! full of colour codes, or text crafted to break out of the bracketed paste
//! loop-tui wraps it in (`ESC [201~` ends a paste early, after which the rest
//! would be read as keystrokes). [`sanitize`] keeps the text a person would
//! read and removes every control function, so the result never contains ESC
//! or any other control character except `'\n'` and `'\t'`.
//!
//! This is a small hand-written state machine over `char`s rather than the
//! `vte` parser: `vte` reads 8-bit C1 introducers such as U+009B (CSI) in
//! UTF-8 text as single controls, so the parameters after them would survive
//! as text, and it has no notion of the CR normalisation we need. Every input
//! character is looked at once, so the work is linear in the input.

/// Returns `text` with every escape sequence removed whole and every control
/// character dropped, except `'\n'` and `'\t'`; `"\r\n"` and a lone `'\r'`
/// both become `'\n'`.
///
/// Removed whole: CSI (`ESC [` or U+009B, parameters, intermediates, final),
/// OSC (`ESC ]` or U+009D, up to BEL or ST), DCS, SOS, PM and APC (`ESC P`,
/// `ESC X`, `ESC ^`, `ESC _` or their 8-bit forms, up to ST), and the short
/// `ESC` sequences (`ESC ( B`, `ESC 7`, `ESC c`, ...). A string sequence that
/// is never terminated is dropped to the end of the text, as a terminal would
/// swallow it. All other characters, including wide characters, emoji and
/// combining marks, are kept unchanged.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut state = State::Ground;
    // Set right after a '\r' was written as '\n', so the '\n' of a "\r\n"
    // pair is not written a second time.
    let mut after_cr = false;
    for c in text.chars() {
        let was_after_cr = std::mem::take(&mut after_cr);
        state = match state {
            State::Ground => ground(c, &mut out, was_after_cr, &mut after_cr),
            State::Escape => escape(c, &mut out, &mut after_cr),
            State::EscapeIntermediate => escape_intermediate(c, &mut out, &mut after_cr),
            State::Csi => csi(c, &mut out, &mut after_cr),
            State::String(kind) => string(kind, c),
            State::StringEscape => string_escape(c, &mut out, &mut after_cr),
        };
    }
    out
}

/// Where the parser is between two characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Plain text.
    Ground,
    /// Just after ESC.
    Escape,
    /// After ESC and one or more intermediates (`ESC ( B`, `ESC # 8`).
    EscapeIntermediate,
    /// Inside a control sequence, waiting for its final character.
    Csi,
    /// Inside an OSC, DCS, SOS, PM or APC string, waiting for its terminator.
    String(StringKind),
    /// An ESC inside a string: `ESC \` (ST) ends it, anything else ends it
    /// and starts a new escape sequence, as in xterm.
    StringEscape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StringKind {
    /// Operating system command: xterm also ends it with BEL.
    Osc,
    /// DCS, SOS, PM and APC: only ST ends them.
    Other,
}

const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
/// CAN and SUB cancel a sequence in progress on every terminal.
const CAN: char = '\u{18}';
const SUB: char = '\u{1a}';
/// String terminator, 8-bit form.
const ST: char = '\u{9c}';

/// The 8-bit (C1) form of a sequence introducer, if `c` is one.
fn c1_introducer(c: char) -> Option<State> {
    match c {
        '\u{9b}' => Some(State::Csi),
        '\u{9d}' => Some(State::String(StringKind::Osc)),
        // DCS, SOS, PM, APC.
        '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => Some(State::String(StringKind::Other)),
        _ => None,
    }
}

fn ground(c: char, out: &mut String, was_after_cr: bool, after_cr: &mut bool) -> State {
    match c {
        ESC => State::Escape,
        '\n' if was_after_cr => State::Ground,
        _ => {
            if let Some(state) = c1_introducer(c) {
                return state;
            }
            text_char(c, out, after_cr);
            State::Ground
        }
    }
}

/// Writes one character met outside any sequence: printable text and
/// `'\n'`/`'\t'` are kept, `'\r'` becomes `'\n'`, every other control
/// character is dropped.
fn text_char(c: char, out: &mut String, after_cr: &mut bool) {
    match c {
        '\n' | '\t' => out.push(c),
        '\r' => {
            out.push('\n');
            *after_cr = true;
        }
        c if c.is_control() => {}
        c => out.push(c),
    }
}

/// What a character that does not belong to the sequence in progress does.
/// CAN and SUB abort the sequence; ESC and the C1 introducers abort it and
/// start a new one; other C0 controls are carried out by terminals in the
/// middle of a sequence, so a newline there still counts; anything else
/// ends the malformed sequence and is read as text again.
fn interrupt(c: char, out: &mut String, after_cr: &mut bool, stay: State) -> State {
    match c {
        CAN | SUB => State::Ground,
        ESC => State::Escape,
        c if c < ' ' => {
            text_char(c, out, after_cr);
            stay
        }
        '\u{7f}' => stay,
        c => {
            if let Some(state) = c1_introducer(c) {
                return state;
            }
            text_char(c, out, after_cr);
            State::Ground
        }
    }
}

fn escape(c: char, out: &mut String, after_cr: &mut bool) -> State {
    match c {
        '[' => State::Csi,
        ']' => State::String(StringKind::Osc),
        'P' | 'X' | '^' | '_' => State::String(StringKind::Other),
        ' '..='/' => State::EscapeIntermediate,
        '0'..='~' => State::Ground,
        _ => interrupt(c, out, after_cr, State::Escape),
    }
}

fn escape_intermediate(c: char, out: &mut String, after_cr: &mut bool) -> State {
    match c {
        ' '..='/' => State::EscapeIntermediate,
        '0'..='~' => State::Ground,
        _ => interrupt(c, out, after_cr, State::EscapeIntermediate),
    }
}

fn csi(c: char, out: &mut String, after_cr: &mut bool) -> State {
    match c {
        // Parameters and intermediates.
        ' '..='?' => State::Csi,
        // The final character ends the sequence.
        '@'..='~' => State::Ground,
        _ => interrupt(c, out, after_cr, State::Csi),
    }
}

fn string(kind: StringKind, c: char) -> State {
    match c {
        BEL if kind == StringKind::Osc => State::Ground,
        ST | CAN | SUB => State::Ground,
        ESC => State::StringEscape,
        // Everything else, newlines included, is the string's payload.
        _ => State::String(kind),
    }
}

fn string_escape(c: char, out: &mut String, after_cr: &mut bool) -> State {
    if c == '\\' {
        State::Ground
    } else {
        escape(c, out, after_cr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_clean(output: &str) {
        assert!(
            !output
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "control character left in {output:?}"
        );
    }

    #[test]
    fn plain_text_and_unicode_survive_unchanged() {
        let text = "fn main() {\n\tprintln!(\"héllo\");\n}\n\
                    wide: 漢字かな, emoji: 👩‍💻🎉, combining: e\u{301} a\u{308}, \
                    rtl: שלום, math: ∀x∈ℝ, zero width joiner kept: \u{200d}, tab\tend";
        assert_eq!(sanitize(text), text);
    }

    #[test]
    fn an_early_bracketed_paste_end_is_removed_whole() {
        let hostile = "please review\x1b[201~rm -rf ~\n\x1b[200~more";
        let clean = sanitize(hostile);
        assert_eq!(clean, "please reviewrm -rf ~\nmore");
        assert!(!clean.contains("201~"), "{clean:?}");
    }

    #[test]
    fn osc_52_clipboard_writes_are_removed_with_either_terminator() {
        assert_eq!(sanitize("a\x1b]52;c;cm0gLXJmIH4=\x07b"), "ab");
        assert_eq!(sanitize("a\x1b]52;c;cm0gLXJmIH4=\x1b\\b"), "ab");
        assert_eq!(sanitize("a\u{9d}52;c;cm0gLXJmIH4=\u{9c}b"), "ab");
        // A title change with a newline in its payload is still one sequence.
        assert_eq!(sanitize("a\x1b]0;line\nline\x07b"), "ab");
    }

    #[test]
    fn an_unterminated_osc_is_dropped_to_the_end() {
        assert_eq!(sanitize("keep\x1b]52;c;cm0gLXJmIH4=\nand the rest"), "keep");
    }

    #[test]
    fn an_escape_inside_a_string_ends_it_and_starts_a_new_sequence() {
        assert_eq!(sanitize("a\x1b]0;title\x1b[31mred\x1b[0m"), "ared");
    }

    #[test]
    fn csi_sequences_are_removed_whole() {
        assert_eq!(
            sanitize("\x1b[1;31merror\x1b[0m: \x1b[38;2;255;0;0mred\x1b[m"),
            "error: red"
        );
        assert_eq!(sanitize("top\x1b[2J\x1b[H\x1b[10;20Hmoved"), "topmoved");
        assert_eq!(sanitize("\x1b[?1049h\x1b[?25lscreen\x1b[?1049l"), "screen");
        assert_eq!(sanitize("a\x1b[>4;2mb\x1b[ qc"), "abc");
    }

    #[test]
    fn eight_bit_c1_sequences_are_removed_whole() {
        assert_eq!(sanitize("a\u{9b}2Jb\u{9b}201~c"), "abc");
        assert_eq!(sanitize("a\u{90}1$r\u{9c}b"), "ab");
        assert_eq!(sanitize("a\u{9f}apc payload\u{9c}b"), "ab");
        assert_eq!(sanitize("a\u{98}sos\u{9c}b\u{9e}pm\u{9c}c"), "abc");
    }

    #[test]
    fn other_c1_controls_are_dropped() {
        let all_c1: String = ('\u{80}'..='\u{9f}').collect();
        // The introducers among them start sequences that swallow the rest,
        // so put each control alone between two letters.
        for c in all_c1.chars() {
            let clean = sanitize(&format!("x{c}y"));
            assert_clean(&clean);
            assert!(clean.starts_with('x'), "{c:?} gave {clean:?}");
        }
        assert_eq!(sanitize("a\u{85}b\u{8d}c\u{9c}d"), "abcd");
    }

    #[test]
    fn dcs_sos_pm_apc_are_removed_up_to_st() {
        assert_eq!(sanitize("a\x1bP1$r0m\x1b\\b"), "ab");
        assert_eq!(sanitize("a\x1bXsos\x1b\\b"), "ab");
        assert_eq!(sanitize("a\x1b^pm\x1b\\b"), "ab");
        assert_eq!(sanitize("a\x1b_Gf=100;AAAA\x1b\\b"), "ab");
        // BEL ends an OSC but not an APC: the APC runs on to its ST.
        assert_eq!(sanitize("a\x1b_x\x07hidden\x1b\\b"), "ab");
    }

    #[test]
    fn short_escape_sequences_are_removed_whole() {
        assert_eq!(
            sanitize("a\x1b(Bb\x1b7c\x1b8d\x1bce\x1b#8f\x1b=g\x1b>h"),
            "abcdefgh"
        );
        assert_eq!(sanitize("a\x1b%Gb"), "ab");
    }

    #[test]
    fn can_and_sub_abort_a_sequence() {
        assert_eq!(sanitize("a\x1b[31\x18b"), "ab");
        assert_eq!(sanitize("a\x1b]0;title\x1amore"), "amore");
    }

    #[test]
    fn c0_controls_and_del_are_dropped() {
        assert_eq!(
            sanitize("a\0b\x07c\x08d\x7fe\x0bf\x0cg\x05h\x1ci"),
            "abcdefghi"
        );
    }

    #[test]
    fn carriage_returns_become_newlines() {
        assert_eq!(sanitize("safe\rrm -rf ~"), "safe\nrm -rf ~");
        assert_eq!(sanitize("one\r\ntwo\r\n"), "one\ntwo\n");
        assert_eq!(sanitize("a\r\rb"), "a\n\nb");
        assert_eq!(sanitize("a\r\n\nb"), "a\n\nb");
        assert_eq!(sanitize("a\n\rb"), "a\n\nb");
    }

    #[test]
    fn a_newline_inside_a_csi_still_counts() {
        // Terminals carry out C0 controls met in the middle of a sequence.
        assert_eq!(sanitize("a\x1b[3\n1mb"), "a\nb");
    }

    #[test]
    fn a_malformed_sequence_gives_its_text_back() {
        assert_eq!(sanitize("a\x1b[12é"), "aé");
        assert_eq!(sanitize("a\x1bé"), "aé");
    }

    #[test]
    fn a_lone_escape_at_the_end_is_dropped() {
        assert_eq!(sanitize("end\x1b"), "end");
        assert_eq!(sanitize("end\x1b["), "end");
    }

    #[test]
    fn no_escape_survives_hostile_input() {
        let pieces = [
            "\x1b", "[", "]", "201~", "\u{9b}", "\u{9c}", "\u{9d}", "\\", "\x07", "\r", "\n", "P",
            "_", "x", "é", "\x18", "\0", ";", "\x7f", "(",
        ];
        // Every ordered pair and triple of pieces, so each state meets each
        // kind of character.
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let clean = sanitize(&format!("{a}{b}{c}"));
                    assert_clean(&clean);
                    assert!(!clean.contains('\x1b'), "{a:?}{b:?}{c:?} gave {clean:?}");
                }
            }
        }
    }

    #[test]
    fn one_mebibyte_of_hostile_input_is_cleaned() {
        // Each unit is 16 bytes and leaves exactly "ok\n" behind.
        let unit = "\x1b[31mok\r\n\x1b]0;t\x07\0";
        assert_eq!(unit.len(), 16);
        let hostile = unit.repeat(1024 * 1024 / unit.len());
        assert_eq!(hostile.len(), 1024 * 1024);
        let clean = sanitize(&hostile);
        assert_eq!(clean.len(), 3 * 1024 * 1024 / unit.len());
        assert!(clean.lines().all(|line| line == "ok"));
    }

    #[test]
    fn one_mebibyte_inside_an_unterminated_sequence_is_dropped() {
        let hostile = format!("keep\x1b[{}", "1;".repeat(512 * 1024));
        assert_eq!(sanitize(&hostile), "keep");
    }
}
