//! Synchronized output (DEC private mode 2026): a child brackets a redraw
//! with `CSI ? 2026 h` (begin, BSU) and `CSI ? 2026 l` (end, ESU), and the
//! terminal shows the screen as it was before the update until the update
//! ends, so a full redraw never appears half done. Claude Code brackets
//! every frame this way once the terminal says it supports the mode.
//!
//! `alacritty_terminal`'s parser holds an update back itself; [`SyncBuffer`]
//! does the same in front of an emulator that does not (vt100): it passes
//! bytes through until a BSU, then keeps them until the ESU, the safety
//! timeout or the size limit.

use std::borrow::Cow;
use std::io::BufRead as _;
use std::time::{Duration, Instant};

/// Begin synchronized update, exactly as agents send it.
pub const BSU: &[u8] = b"\x1b[?2026h";
/// End synchronized update.
pub const ESU: &[u8] = b"\x1b[?2026l";

/// How long a synchronized update may hold a pane's output back, counted
/// from its BSU, before the output is shown anyway: a child that crashes
/// or stalls inside an update must not freeze its pane. Agents finish an
/// update within a few milliseconds (it is one write), so half a second is
/// ample even on a loaded machine, and short enough to read as a hiccup
/// rather than a hang. A duration, in milliseconds.
pub const SYNC_TIMEOUT: Duration = Duration::from_millis(500);

/// The most output one update may hold back (2 MiB, as in vte); beyond it
/// the update is shown at once, so a child cannot make loop-tui buffer
/// without limit.
pub const SYNC_BUFFER_LIMIT: usize = 2 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct SyncBuffer {
    /// The output of the update in progress.
    held: Vec<u8>,
    /// When the update in progress is shown anyway; `None` outside one.
    deadline: Option<Instant>,
    /// The end of the last chunk when it could be the first bytes of a BSU
    /// split across two reads: it is kept back until the next chunk.
    partial: Vec<u8>,
}

impl SyncBuffer {
    /// The time at which the update in progress is shown anyway.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Takes a chunk of the child's output and passes to `parse`, in order,
    /// every run of bytes that may be parsed now. The flag tells whether
    /// the run is the inside of a synchronized update (which ends with its
    /// ESU), so that a DECRQM query inside it is answered "set".
    pub fn feed(&mut self, bytes: &[u8], now: Instant, mut parse: impl FnMut(&[u8], bool)) {
        let mut data: Cow<[u8]> = if self.partial.is_empty() {
            Cow::Borrowed(bytes)
        } else {
            let mut joined = std::mem::take(&mut self.partial);
            joined.extend_from_slice(bytes);
            Cow::Owned(joined)
        };
        let mut pos = 0;
        loop {
            if self.deadline.is_none() {
                let rest = &data[pos..];
                if let Some(at) = find(rest, BSU) {
                    parse(&rest[..at + BSU.len()], false);
                    pos += at + BSU.len();
                    self.deadline = Some(now + SYNC_TIMEOUT);
                    continue;
                }
                let keep = bsu_prefix_len(rest);
                let (now_part, later) = rest.split_at(rest.len() - keep);
                if !now_part.is_empty() {
                    parse(now_part, false);
                }
                self.partial = later.to_vec();
                return;
            }
            // The ESU may straddle the old and the new bytes.
            let search_from = self.held.len().saturating_sub(ESU.len() - 1);
            self.held.extend_from_slice(&data[pos..]);
            if let Some(at) = find(&self.held[search_from..], ESU) {
                let end = search_from + at + ESU.len();
                let held = std::mem::take(&mut self.held);
                parse(&held[..end], true);
                self.deadline = None;
                data = Cow::Owned(held);
                pos = end;
                continue;
            }
            // A new BSU inside an update restarts its clock, as in vte.
            if find(&self.held[search_from..], BSU).is_some() {
                self.deadline = Some(now + SYNC_TIMEOUT);
            }
            if self.held.len() >= SYNC_BUFFER_LIMIT {
                self.flush(&mut parse);
            }
            return;
        }
    }

    /// Shows the update in progress if its deadline has passed; true if
    /// anything was held back.
    pub fn flush_expired(&mut self, now: Instant, parse: impl FnMut(&[u8], bool)) -> bool {
        if self.deadline.is_some_and(|deadline| deadline <= now) {
            self.flush(parse);
            true
        } else {
            false
        }
    }

    /// Ends the update in progress and passes on everything it held.
    fn flush(&mut self, mut parse: impl FnMut(&[u8], bool)) {
        self.deadline = None;
        let held = std::mem::take(&mut self.held);
        if !held.is_empty() {
            parse(&held, true);
        }
    }
}

/// The first occurrence of `needle` in `haystack`, found by looking for
/// its byte at `anchor` (pick one that is rare in terminal output) with
/// memchr (through the slice's `BufRead::skip_until`) and checking the
/// rest around it. This runs over every byte a pane receives, so it must
/// cost next to nothing; agent output has an ESC every few bytes, but
/// hardly any `?`.
pub(crate) fn find_anchored(haystack: &[u8], needle: &[u8], anchor: usize) -> Option<usize> {
    let key = *needle.get(anchor)?;
    let mut from = anchor;
    while from < haystack.len() {
        let mut rest = &haystack[from..];
        let skipped = rest.skip_until(key).unwrap_or(0);
        if skipped == 0 || haystack[from + skipped - 1] != key {
            return None;
        }
        let at = from + skipped - 1 - anchor;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from += skipped;
    }
    None
}

/// The first BSU or ESU, anchored on their `?`.
fn find(haystack: &[u8], marker: &[u8]) -> Option<usize> {
    find_anchored(haystack, marker, 2)
}

/// How many bytes at the end of `bytes` are the start of a BSU.
fn bsu_prefix_len(bytes: &[u8]) -> usize {
    (1..BSU.len())
        .rev()
        .find(|&n| bytes.len() >= n && bytes[bytes.len() - n..] == BSU[..n])
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_matches_a_naive_search() {
        let hay = b"?ab\x1bc\x1b\x1b[?2026h?\x1b[?2026l\x1b[?";
        for needle in [&b"\x1bc"[..], BSU, ESU, b"\x1b", b"\x1b[?2026hx", b"b"] {
            let naive = hay.windows(needle.len()).position(|w| w == needle);
            for anchor in 0..needle.len() {
                assert_eq!(
                    find_anchored(hay, needle, anchor),
                    naive,
                    "{needle:?} {anchor}"
                );
            }
        }
        assert_eq!(find(b"", BSU), None);
        assert_eq!(find_anchored(b"abc", b"", 0), None);
    }

    /// Feeds `chunks` and returns what was parsed, with the sync flag of
    /// each run.
    fn run(buffer: &mut SyncBuffer, now: Instant, chunks: &[&[u8]]) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        for chunk in chunks {
            buffer.feed(chunk, now, |bytes, sync| {
                out.push((String::from_utf8_lossy(bytes).into_owned(), sync));
            });
        }
        out
    }

    fn s(text: &str, sync: bool) -> (String, bool) {
        (text.to_owned(), sync)
    }

    #[test]
    fn an_update_is_held_until_its_end() {
        let now = Instant::now();
        let mut b = SyncBuffer::default();
        let out = run(&mut b, now, &[b"a\x1b[?2026hframe", b" more"]);
        assert_eq!(out, vec![s("a\x1b[?2026h", false)]);
        assert_eq!(b.deadline(), Some(now + SYNC_TIMEOUT));
        let out = run(&mut b, now, &[b" end\x1b[?2026lafter"]);
        assert_eq!(
            out,
            vec![s("frame more end\x1b[?2026l", true), s("after", false)]
        );
        assert_eq!(b.deadline(), None);
    }

    #[test]
    fn markers_split_across_reads_are_recognised() {
        let now = Instant::now();
        let mut b = SyncBuffer::default();
        let out = run(&mut b, now, &[b"x\x1b[?20", b"26hy\x1b[?2", b"026lz"]);
        assert_eq!(
            out,
            vec![
                s("x", false),
                s("\x1b[?2026h", false),
                s("y\x1b[?2026l", true),
                s("z", false)
            ]
        );
    }

    #[test]
    fn several_updates_in_one_read() {
        let now = Instant::now();
        let mut b = SyncBuffer::default();
        let out = run(
            &mut b,
            now,
            &[b"\x1b[?2026h1\x1b[?2026l\x1b[?2026h2\x1b[?2026l\x1b[?2026h3"],
        );
        assert_eq!(
            out,
            vec![
                s("\x1b[?2026h", false),
                s("1\x1b[?2026l", true),
                s("\x1b[?2026h", false),
                s("2\x1b[?2026l", true),
                s("\x1b[?2026h", false),
            ]
        );
        assert!(b.deadline().is_some(), "the third update is still open");
    }

    #[test]
    fn the_timeout_shows_a_stalled_update_and_later_output_flows() {
        let now = Instant::now();
        let mut b = SyncBuffer::default();
        run(&mut b, now, &[b"\x1b[?2026hhalf"]);
        let deadline = b.deadline().expect("in an update");
        let mut out = Vec::new();
        let early = deadline
            .checked_sub(Duration::from_millis(1))
            .expect("a deadline after the epoch");
        assert!(!b.flush_expired(early, |_, _| out.push(())));
        assert!(out.is_empty(), "nothing is shown before the deadline");
        let mut shown = String::new();
        assert!(b.flush_expired(deadline, |bytes, _| {
            shown.push_str(&String::from_utf8_lossy(bytes));
        }));
        assert_eq!(shown, "half");
        assert_eq!(b.deadline(), None);
        let out = run(&mut b, deadline, &[b"rest\x1b[?2026l"]);
        assert_eq!(out, vec![s("rest\x1b[?2026l", false)]);
    }

    #[test]
    fn a_new_begin_inside_an_update_restarts_its_clock() {
        let start = Instant::now();
        let mut b = SyncBuffer::default();
        run(&mut b, start, &[b"\x1b[?2026ha"]);
        let later = start + Duration::from_millis(100);
        run(&mut b, later, &[b"\x1b[?2026hb"]);
        assert_eq!(b.deadline(), Some(later + SYNC_TIMEOUT));
    }

    #[test]
    fn an_oversized_update_is_shown_at_once() {
        let now = Instant::now();
        let mut b = SyncBuffer::default();
        let big = vec![b'x'; SYNC_BUFFER_LIMIT];
        let mut total = 0;
        b.feed(b"\x1b[?2026h", now, |_, _| {});
        b.feed(&big, now, |bytes, _| total += bytes.len());
        assert_eq!(total, SYNC_BUFFER_LIMIT);
        assert_eq!(b.deadline(), None);
    }
}
