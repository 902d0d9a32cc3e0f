//! Keeps a character that a read cut in two away from the parser until it
//! is whole.
//!
//! vte 0.15 (the parser inside both `alacritty_terminal` and `vt100`) mishandles
//! a UTF-8 sequence split across two `advance` calls when more text follows
//! it in the second call: it prints the completed character but counts the
//! bytes after it as consumed too, so the next character is lost (upstream
//! alacritty/vte#159; 0.15.0 is the newest release). `e\u{301}` split inside
//! the accent loses the `e` that follows. A PTY read can end anywhere, so
//! each emulator hands vte only pieces that end on a character boundary:
//! [`Utf8Carry`] holds the start of a cut character until the next read
//! completes it, and [`prefix_len`] cuts long reads into slices.

/// The longest UTF-8 sequence, in bytes.
const MAX_SEQUENCE: usize = 4;

/// The start of a character that the previous read ended inside.
#[derive(Debug, Default, Clone)]
pub struct Utf8Carry {
    bytes: [u8; MAX_SEQUENCE],
    len: usize,
}

/// The carried bytes completed by the start of the next read, to be
/// parsed on their own before the rest of that read.
#[derive(Debug, Clone, Copy)]
pub struct Head {
    bytes: [u8; MAX_SEQUENCE],
    len: usize,
}

impl Head {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Utf8Carry {
    /// Splits a read into what finishes the character carried from the
    /// previous one (`None` when nothing was carried, or when the read was
    /// too short to finish it) and the rest. The head is a whole character
    /// or an invalid sequence that vte reports as one replacement
    /// character; either way the rest starts on a boundary.
    pub fn take_head<'a>(&mut self, input: &'a [u8]) -> (Option<Head>, &'a [u8]) {
        if self.len == 0 {
            return (None, input);
        }
        let room = MAX_SEQUENCE - self.len;
        let continued = input
            .iter()
            .take(room)
            .take_while(|&&byte| is_continuation(byte))
            .count();
        self.bytes[self.len..self.len + continued].copy_from_slice(&input[..continued]);
        self.len += continued;
        let whole = self.len >= sequence_len(self.bytes[0]);
        let ended = continued < input.len() || self.len == MAX_SEQUENCE;
        if !whole && !ended {
            return (None, &input[continued..]);
        }
        let head = Head {
            bytes: self.bytes,
            len: self.len,
        };
        self.len = 0;
        (Some(head), &input[continued..])
    }

    /// Holds back the character the read ends inside, if any, and returns
    /// the part that can be parsed now. Call after [`Self::take_head`],
    /// which leaves nothing carried unless it used up the whole read.
    pub fn hold_tail<'a>(&mut self, rest: &'a [u8]) -> &'a [u8] {
        let held = incomplete_tail(rest);
        if held == 0 {
            return rest;
        }
        debug_assert_eq!(self.len, 0, "take_head finishes what was carried");
        let start = rest.len() - held;
        self.bytes[..held].copy_from_slice(&rest[start..]);
        self.len = held;
        &rest[..start]
    }
}

/// The length of the longest start of `bytes`, at most `max` long, that
/// does not end inside a character; used to cut a long read into slices.
/// It is `max` itself when no lead byte is within reach (not UTF-8, and
/// cutting there loses nothing).
pub fn prefix_len(bytes: &[u8], max: usize) -> usize {
    if max >= bytes.len() {
        return bytes.len();
    }
    let mut cut = max;
    while cut > 0 && max - cut < MAX_SEQUENCE - 1 && is_continuation(bytes[cut]) {
        cut -= 1;
    }
    if cut == 0 || is_continuation(bytes[cut]) {
        max
    } else {
        cut
    }
}

/// How many bytes at the end of `bytes` are the start of a character that
/// is not complete yet.
fn incomplete_tail(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(MAX_SEQUENCE - 1) {
        let byte = bytes[bytes.len() - back];
        if !is_continuation(byte) {
            return if sequence_len(byte) > back { back } else { 0 };
        }
    }
    0
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

/// How long a sequence starting with `lead` is meant to be (1 for ASCII
/// and for bytes that cannot start one).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alacritty_terminal::vte::{Params, Parser, Perform};
    use proptest::prelude::*;

    /// Everything vte reports, in order.
    #[derive(Default, Debug, PartialEq)]
    struct Log(Vec<String>);

    impl Perform for Log {
        fn print(&mut self, c: char) {
            self.0.push(format!("print {c:?}"));
        }

        fn execute(&mut self, byte: u8) {
            self.0.push(format!("execute {byte}"));
        }

        fn csi_dispatch(&mut self, params: &Params, _: &[u8], _: bool, action: char) {
            self.0.push(format!("csi {params:?} {action}"));
        }
    }

    fn parsed_whole(stream: &[u8]) -> Log {
        let mut log = Log::default();
        Parser::new().advance(&mut log, stream);
        log
    }

    /// As an emulator parses: read by read through the carry, each read
    /// cut into slices of at most `slice` bytes.
    fn parsed_in_reads(stream: &[u8], cuts: &[usize], slice: usize) -> Log {
        let mut log = Log::default();
        let mut parser = Parser::new();
        let mut carry = Utf8Carry::default();
        let mut advance = |mut bytes: &[u8]| {
            while !bytes.is_empty() {
                let (now, rest) = bytes.split_at(prefix_len(bytes, slice));
                parser.advance(&mut log, now);
                bytes = rest;
            }
        };
        let mut start = 0;
        for end in cuts.iter().copied().chain([stream.len()]) {
            let end = end.clamp(start, stream.len());
            let (head, rest) = carry.take_head(&stream[start..end]);
            let now = carry.hold_tail(rest);
            if let Some(head) = head {
                advance(head.as_bytes());
            }
            advance(now);
            start = end;
        }
        log
    }

    #[test]
    fn a_character_cut_anywhere_loses_nothing() {
        // The reproducer of alacritty/vte#159: split inside U+0301, plain
        // vte loses the C.
        let stream = "B\u{301}C\u{2500}".as_bytes();
        let mut plain = Log::default();
        let mut parser = Parser::new();
        parser.advance(&mut plain, &stream[..2]);
        parser.advance(&mut plain, &stream[2..]);
        assert_ne!(
            plain,
            parsed_whole(stream),
            "vte 0.15 still loses a character"
        );
        for at in 0..=stream.len() {
            assert_eq!(
                parsed_in_reads(stream, &[at], 128),
                parsed_whole(stream),
                "cut at {at}"
            );
        }
    }

    #[test]
    fn a_read_too_short_to_finish_a_character_is_carried_on() {
        let stream = "x\u{1F600}y".as_bytes();
        assert_eq!(
            parsed_in_reads(stream, &[2, 3, 4], 128),
            parsed_whole(stream)
        );
    }

    /// Text, multi-byte and combining characters, and what is not UTF-8:
    /// lone continuation and lead bytes, overlong and surrogate forms, C1
    /// controls, escape sequences cutting a character short.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::sample::select(vec![
                "a",
                "word ",
                "é",
                "e\u{301}",
                "漢",
                "\u{2500}",
                "\u{1F600}",
                "\u{2764}\u{fe0f}",
                "\r\n",
                "\x1b[31m",
                "\x1b[2J",
                "\x1b]0;t\x07",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            prop::sample::select(vec![
                vec![0x80],
                vec![0xBF, 0x80],
                vec![0xC3],
                vec![0xE2, 0x94],
                vec![0xF0, 0x9F, 0x98],
                vec![0xC0, 0xAF],
                vec![0xED, 0xA0, 0x80],
                vec![0xF8, 0x88, 0x80, 0x80, 0x80],
                vec![0x9B],
                vec![0xFF],
                vec![0xE2, 0x1B, b'[', b'm'],
            ]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// However the reads and slices cut the stream, vte reports what
        /// it reports for the stream in one piece.
        #[test]
        fn reads_cut_anywhere_parse_like_the_whole_stream(
            pieces in prop::collection::vec(piece(), 0..60),
            cuts in prop::collection::vec(0usize..400, 0..12),
            slice in 1usize..20,
        ) {
            // A character cut short at the very end is reported when the
            // next read shows it was invalid, by vte (whole stream) or by
            // the carry; the closing `z` is that next read.
            let stream = [pieces.concat(), b"z".to_vec()].concat();
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(parsed_in_reads(&stream, &cuts, slice), parsed_whole(&stream));
        }
    }
}
