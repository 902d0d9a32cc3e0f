//! A pane's scrollback history, kept compactly: each line is its text and
//! its style runs, with trailing default blanks trimmed, instead of a
//! full-width row of fat cells. `alacritty_terminal` keeps every history
//! line as a row of 24-byte cells (about 2.3 KB for a 98-column pane); a
//! typical coloured 80-character line takes about a twentieth of that here.
//! The alacritty emulator copies every line that leaves its screen into
//! this store and keeps its own history empty.
//!
//! The lines are encoded one after another into chunks of 64 KiB rather
//! than allocated one by one: a history of 10 000 lines is then a few dozen
//! allocations instead of 20 000, costs no allocator overhead per line, and
//! a line is copied in with a few `memcpy`s. Lines leave in the order they
//! came, so a chunk is freed (or reused) once its last line is dropped.
//!
//! Lines are not reflowed when the pane is resized: a line wider than the
//! pane is clipped, a narrower one padded with blanks.

use std::collections::VecDeque;
use std::mem::size_of;

use super::emulator::{CellAttrs, CellColor, CellText, CellView};

/// How a run of cells is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Style {
    fg: CellColor,
    bg: CellColor,
    attrs: CellAttrs,
}

/// The style of the cells from column `start` up to the next run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    start: u16,
    style: Style,
}

/// A blank cell in the default style, drawn past the end of a line.
const BLANK: CellView<'static> = CellView {
    text: CellText::Empty,
    fg: CellColor::Default,
    bg: CellColor::Default,
    attrs: CellAttrs {
        bold: false,
        dim: false,
        italic: false,
        underline: false,
        inverse: false,
    },
    wide: false,
    wide_continuation: false,
};

/// Whether a cell looks exactly like [`BLANK`] on screen, so it can be
/// dropped from the end of a line.
#[must_use]
pub fn looks_blank(cell: &CellView<'_>) -> bool {
    cell.text.is_blank()
        && !cell.wide_continuation
        && cell.bg == CellColor::Default
        && !cell.attrs.inverse
        && !cell.attrs.underline
}

// The encoding of one line in a chunk, every number little-endian:
//
//   header   width: u16, text length: u32, runs: u16, column table: u8
//            (0 none, 2 or 4: the size of each entry)
//   text     the columns' text, a blank is a space, the second half of a
//            wide character has none, combining marks follow their base
//   columns  where each column's text starts, plus its end (width + 1
//            entries); absent when every column is exactly one byte (plain
//            ASCII, no wide characters), where the column is the offset
//   runs     start: u16, fg: 4 bytes, bg: 4 bytes, attributes: 1 byte
const HEADER: usize = 9;
const RUN: usize = 11;

fn encode_color(color: CellColor) -> [u8; 4] {
    match color {
        CellColor::Default => [0; 4],
        CellColor::Indexed(i) => [1, i, 0, 0],
        CellColor::Rgb(r, g, b) => [2, r, g, b],
    }
}

fn decode_color(bytes: &[u8]) -> CellColor {
    match bytes {
        [1, i, ..] => CellColor::Indexed(*i),
        [2, r, g, b, ..] => CellColor::Rgb(*r, *g, *b),
        _ => CellColor::Default,
    }
}

fn encode_attrs(attrs: CellAttrs) -> u8 {
    u8::from(attrs.bold)
        | u8::from(attrs.dim) << 1
        | u8::from(attrs.italic) << 2
        | u8::from(attrs.underline) << 3
        | u8::from(attrs.inverse) << 4
}

fn decode_attrs(bits: u8) -> CellAttrs {
    CellAttrs {
        bold: bits & 1 != 0,
        dim: bits & 1 << 1 != 0,
        italic: bits & 1 << 2 != 0,
        underline: bits & 1 << 3 != 0,
        inverse: bits & 1 << 4 != 0,
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// One history line, borrowed from the store.
#[derive(Debug, Clone, Copy)]
pub struct LineView<'a> {
    width: usize,
    text: &'a [u8],
    /// The column table's entries and their size (0: no table).
    columns: &'a [u8],
    column_size: usize,
    runs: &'a [u8],
}

impl<'a> LineView<'a> {
    /// Reads the line encoded at the start of `bytes`; also returns its
    /// encoded length.
    fn decode(bytes: &'a [u8]) -> (Self, usize) {
        let width = usize::from(u16_at(bytes, 0));
        let text_len = u32_at(bytes, 2) as usize;
        let run_count = usize::from(u16_at(bytes, 6));
        let column_size = usize::from(bytes[8]);
        let text_end = HEADER + text_len;
        let columns_end = text_end
            + if column_size == 0 {
                0
            } else {
                (width + 1) * column_size
            };
        let runs_end = columns_end + run_count * RUN;
        let view = Self {
            width,
            text: &bytes[HEADER..text_end],
            columns: &bytes[text_end..columns_end],
            column_size,
            runs: &bytes[columns_end..runs_end],
        };
        (view, runs_end)
    }

    /// How many columns the line has after trimming.
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    fn column_start(&self, col: usize) -> usize {
        match self.column_size {
            0 => col,
            2 => usize::from(u16_at(self.columns, col * 2)),
            _ => u32_at(self.columns, col * 4) as usize,
        }
    }

    fn span(&self, col: usize) -> &'a str {
        let bytes = &self.text[self.column_start(col)..self.column_start(col + 1)];
        // The text was written from whole characters, so every column's
        // span is valid UTF-8.
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    fn run_start(&self, run: usize) -> usize {
        usize::from(u16_at(self.runs, run * RUN))
    }

    fn style(&self, col: usize) -> Style {
        // The last run that starts at or before `col`.
        let (mut low, mut high) = (0, self.runs.len() / RUN);
        while low < high {
            let mid = low.midpoint(high);
            if self.run_start(mid) <= col {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        let Some(run) = low.checked_sub(1) else {
            return Style::default();
        };
        let bytes = &self.runs[run * RUN..(run + 1) * RUN];
        Style {
            fg: decode_color(&bytes[2..6]),
            bg: decode_color(&bytes[6..10]),
            attrs: decode_attrs(bytes[10]),
        }
    }

    /// The cell at `col`; past the end of the line, a default blank.
    #[must_use]
    pub fn cell(&self, col: usize) -> CellView<'a> {
        if col >= self.width {
            return BLANK;
        }
        let style = self.style(col);
        let span = self.span(col);
        let mut chars = span.chars();
        let text = match (chars.next(), chars.next()) {
            (None | Some(' '), None) => CellText::Empty,
            (Some(c), None) => CellText::Char(c),
            _ => CellText::Str(span),
        };
        let wide = col + 1 < self.width && self.span(col + 1).is_empty();
        CellView {
            text,
            fg: style.fg,
            bg: style.bg,
            attrs: style.attrs,
            wide,
            wide_continuation: span.is_empty(),
        }
    }
}

/// Builds a history line cell by cell. Copying every line that leaves the
/// screen is on the output's hot path, so a cell costs a few comparisons:
/// the style is set only when it changes, and plain characters skip the
/// column table until a line needs one.
#[derive(Debug, Default)]
pub struct LineBuilder {
    text: String,
    /// Where each column starts in `text`, once a column is not one byte.
    columns: Option<Vec<u32>>,
    runs: Vec<Run>,
    width: usize,
    style: Style,
    /// The style has changed since the last run began.
    new_run: bool,
    /// A blank in the current style looks like a default blank.
    blank_is_default: bool,
    /// Everything up to the last cell that does not look like a default
    /// blank: (columns, text length, runs).
    kept: (usize, usize, usize),
}

impl LineBuilder {
    #[must_use]
    pub fn new() -> Self {
        Self {
            text: String::with_capacity(256),
            runs: Vec::with_capacity(16),
            new_run: true,
            blank_is_default: true,
            ..Self::default()
        }
    }

    /// The style of the cells pushed from now on.
    #[inline]
    pub fn set_style(&mut self, fg: CellColor, bg: CellColor, attrs: CellAttrs) {
        let style = Style { fg, bg, attrs };
        if style == self.style && !self.runs.is_empty() {
            self.new_run = false;
            return;
        }
        self.style = style;
        self.new_run = self.runs.last().is_none_or(|run| run.style != style);
        self.blank_is_default = bg == CellColor::Default && !attrs.inverse && !attrs.underline;
    }

    #[inline]
    fn start_cell(&mut self) {
        if self.new_run {
            let start = u16::try_from(self.width).unwrap_or(u16::MAX);
            self.runs.push(Run {
                start,
                style: self.style,
            });
            self.new_run = false;
        }
    }

    #[inline]
    fn end_cell(&mut self, blank: bool) {
        self.width += 1;
        if !(blank && self.blank_is_default) {
            self.kept = (self.width, self.text.len(), self.runs.len());
        }
    }

    /// A one-column cell holding one character (a space is a blank).
    #[inline]
    pub fn push_char(&mut self, c: char) {
        self.start_cell();
        let before = self.text.len();
        self.text.push(c);
        if let Some(columns) = &mut self.columns {
            columns.push(u32::try_from(before).unwrap_or(u32::MAX));
        } else if c.len_utf8() != 1 {
            self.start_column_table(before);
        }
        self.end_cell(c == ' ');
    }

    /// One-column cells in the current style, each holding one ASCII
    /// character (a space is a blank): the common case, without the
    /// per-cell checks of [`LineBuilder::push_char`].
    #[inline]
    pub fn push_ascii(&mut self, bytes: impl IntoIterator<Item = u8>) {
        let first_col = self.width;
        let first_byte = self.text.len();
        let bytes = bytes.into_iter();
        self.text.reserve(bytes.size_hint().0);
        for byte in bytes {
            self.text.push(char::from(byte));
        }
        if self.text.len() > first_byte {
            self.start_cell();
        }
        let last_visible = self.text.as_bytes()[first_byte..]
            .iter()
            .rposition(|&byte| byte != b' ');
        let count = self.text.len() - first_byte;
        if let Some(columns) = &mut self.columns {
            columns.extend(
                (first_byte..first_byte + count).map(|at| u32::try_from(at).unwrap_or(u32::MAX)),
            );
        }
        self.width += count;
        if count > 0 && !self.blank_is_default {
            self.kept = (self.width, self.text.len(), self.runs.len());
        } else if let Some(last) = last_visible {
            self.kept = (first_col + last + 1, first_byte + last + 1, self.runs.len());
        }
    }

    /// Any cell; the second half of a wide character holds no text.
    pub fn push(&mut self, text: CellText<'_>, wide_continuation: bool) {
        if let (false, CellText::Char(c)) = (wide_continuation, text) {
            return self.push_char(c);
        }
        self.start_cell();
        let before = self.text.len();
        if !wide_continuation {
            text.push_to(&mut self.text);
        }
        if let Some(columns) = &mut self.columns {
            columns.push(u32::try_from(before).unwrap_or(u32::MAX));
        } else if self.text.len() - before != 1 {
            self.start_column_table(before);
        }
        self.end_cell(text.is_blank() && !wide_continuation);
    }

    /// Every column so far was one byte; the one starting at `at` is not.
    fn start_column_table(&mut self, at: usize) {
        let mut columns: Vec<u32> = (0..self.width)
            .map(|col| u32::try_from(col).unwrap_or(u32::MAX))
            .collect();
        columns.push(u32::try_from(at).unwrap_or(u32::MAX));
        self.columns = Some(columns);
    }

    /// Appends the line, trailing default blanks trimmed, to `out` in the
    /// encoding [`LineView::decode`] reads. The builder is empty again
    /// afterwards and keeps its buffers for the next line.
    fn finish_into(&mut self, out: &mut Vec<u8>) {
        let (width, text_len, run_count) = self.kept;
        let text = &self.text.as_bytes()[..text_len];
        // Trimming may have removed the only columns that are not one byte.
        let columns = self
            .columns
            .as_deref()
            .map(|columns| &columns[..width])
            .filter(|columns| {
                text_len != width
                    || columns
                        .iter()
                        .enumerate()
                        .any(|(col, &offset)| offset as usize != col)
            });
        let column_size: u8 = match columns {
            None => 0,
            Some(_) if u16::try_from(text_len).is_ok() => 2,
            Some(_) => 4,
        };
        let width16 = u16::try_from(width).unwrap_or(u16::MAX);
        out.extend_from_slice(&width16.to_le_bytes());
        out.extend_from_slice(&u32::try_from(text_len).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&u16::try_from(run_count).unwrap_or(u16::MAX).to_le_bytes());
        out.push(column_size);
        out.extend_from_slice(text);
        if let Some(columns) = columns {
            let end = u32::try_from(text_len).unwrap_or(u32::MAX);
            for &offset in columns.iter().chain([&end]) {
                if column_size == 2 {
                    let offset = u16::try_from(offset).unwrap_or(u16::MAX);
                    out.extend_from_slice(&offset.to_le_bytes());
                } else {
                    out.extend_from_slice(&offset.to_le_bytes());
                }
            }
        }
        for run in &self.runs[..run_count] {
            out.extend_from_slice(&run.start.to_le_bytes());
            out.extend_from_slice(&encode_color(run.style.fg));
            out.extend_from_slice(&encode_color(run.style.bg));
            out.push(encode_attrs(run.style.attrs));
        }
        self.text.clear();
        self.columns = None;
        self.runs.clear();
        self.width = 0;
        self.style = Style::default();
        self.new_run = true;
        self.blank_is_default = true;
        self.kept = (0, 0, 0);
    }

    /// The bytes the line built so far will take once encoded, at most.
    fn encoded_len(&self) -> usize {
        let (width, text_len, run_count) = self.kept;
        let columns = if self.columns.is_some() {
            (width + 1) * 4
        } else {
            0
        };
        HEADER + text_len + columns + run_count * RUN
    }
}

/// How big a chunk of encoded lines is: big enough that a history is a few
/// dozen allocations, small enough that the chunk being filled and the one
/// being emptied waste little.
const CHUNK: usize = 64 * 1024;

/// The newest `capacity` lines that scrolled off a pane's screen.
#[derive(Debug, Clone, Default)]
pub struct CompactHistory {
    /// Encoded lines, oldest first. A line never spans two chunks.
    chunks: VecDeque<Vec<u8>>,
    /// The number of `chunks[0]`, counted since the store was created.
    first_chunk: u64,
    /// Where each line starts, oldest first: its chunk's number in the
    /// high 32 bits, its offset in the low 32.
    starts: VecDeque<u64>,
    capacity: usize,
    /// An emptied chunk kept for the next one, so a full history cycling
    /// through its chunks does not allocate.
    spare: Option<Vec<u8>>,
}

impl CompactHistory {
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ..Self::default()
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// How many lines it keeps at most.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Adds the line `builder` holds as the newest, dropping the oldest
    /// when full; the builder is empty afterwards.
    pub fn push(&mut self, builder: &mut LineBuilder) {
        if self.capacity == 0 {
            builder.finish_into(&mut Vec::new());
            return;
        }
        if self.starts.len() == self.capacity {
            self.drop_oldest();
        }
        let needed = builder.encoded_len();
        let fits = self
            .chunks
            .back()
            .is_some_and(|chunk| chunk.capacity() - chunk.len() >= needed);
        if !fits {
            let mut chunk = self.spare.take().unwrap_or_default();
            chunk.clear();
            chunk.reserve_exact(CHUNK.max(needed));
            self.chunks.push_back(chunk);
        }
        let number = self.first_chunk + (self.chunks.len() as u64 - 1);
        let Some(chunk) = self.chunks.back_mut() else {
            return;
        };
        self.starts.push_back(number << 32 | chunk.len() as u64);
        builder.finish_into(chunk);
    }

    fn drop_oldest(&mut self) {
        self.starts.pop_front();
        // Chunks before the one holding the new oldest line hold no line.
        let keep_from = self.starts.front().map_or(u64::MAX, |start| start >> 32);
        while self.first_chunk < keep_from {
            let Some(chunk) = self.chunks.pop_front() else {
                break;
            };
            self.first_chunk += 1;
            if chunk.capacity() == CHUNK {
                self.spare = Some(chunk);
            }
        }
    }

    pub fn clear(&mut self) {
        self.first_chunk += self.chunks.len() as u64;
        self.chunks = VecDeque::new();
        self.starts = VecDeque::new();
        self.spare = None;
    }

    /// Line `index`, counted from the oldest.
    #[must_use]
    pub fn line(&self, index: usize) -> Option<LineView<'_>> {
        let start = *self.starts.get(index)?;
        let chunk = usize::try_from((start >> 32) - self.first_chunk).ok()?;
        let offset = usize::try_from(start & u64::from(u32::MAX)).ok()?;
        let bytes = self.chunks.get(chunk)?.get(offset..)?;
        Some(LineView::decode(bytes).0)
    }

    /// The bytes the store has allocated: its chunks and its line index.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum::<usize>()
            + self.spare.as_ref().map_or(0, Vec::capacity)
            + self.starts.capacity() * size_of::<u64>()
            + self.chunks.capacity() * size_of::<Vec<u8>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: CellText<'_>, fg: CellColor, bg: CellColor) -> CellView<'_> {
        CellView {
            text,
            fg,
            bg,
            ..BLANK
        }
    }

    fn push_cells<'a>(history: &mut CompactHistory, cells: impl IntoIterator<Item = CellView<'a>>) {
        let mut builder = LineBuilder::new();
        for cell in cells {
            builder.set_style(cell.fg, cell.bg, cell.attrs);
            builder.push(cell.text, cell.wide_continuation);
        }
        history.push(&mut builder);
    }

    fn plain(text: &str) -> impl Iterator<Item = CellView<'static>> + '_ {
        text.chars()
            .map(|c| cell(CellText::Char(c), CellColor::Default, CellColor::Default))
    }

    fn texts(line: &LineView<'_>, cols: usize) -> String {
        let mut out = String::new();
        for col in 0..cols {
            let c = line.cell(col);
            if !c.wide_continuation {
                c.text.push_to(&mut out);
            }
        }
        out
    }

    #[test]
    fn a_line_with_colours_wide_and_combining_characters_round_trips() {
        let red = CellColor::Indexed(1);
        let blue = CellColor::Rgb(0, 0, 255);
        let bold = CellAttrs {
            bold: true,
            ..CellAttrs::default()
        };
        let every_attr = CellAttrs {
            bold: true,
            dim: true,
            italic: true,
            underline: true,
            inverse: true,
        };
        let marks = ['\u{301}'];
        let mut cells = vec![
            cell(CellText::Char('a'), red, CellColor::Default),
            CellView {
                attrs: bold,
                ..cell(CellText::Char('b'), red, blue)
            },
            CellView {
                wide: true,
                ..cell(CellText::Char('漢'), CellColor::Default, blue)
            },
            CellView {
                wide_continuation: true,
                ..cell(CellText::Empty, CellColor::Default, blue)
            },
            cell(CellText::Combined('e', &marks), blue, CellColor::Default),
            CellView {
                attrs: every_attr,
                ..cell(CellText::Char('x'), red, red)
            },
            cell(CellText::Empty, CellColor::Default, blue),
        ];
        cells.extend(std::iter::repeat_n(BLANK, 10));
        let mut history = CompactHistory::new(10);
        push_cells(&mut history, cells.clone());
        let line = history.line(0).expect("one line");
        assert_eq!(line.width(), 7, "trailing default blanks are trimmed");
        for (col, expected) in cells.iter().enumerate() {
            let got = line.cell(col);
            let mut want = String::new();
            expected.text.push_to(&mut want);
            let mut have = String::new();
            got.text.push_to(&mut have);
            assert_eq!(have, want, "column {col}");
            assert_eq!(
                (got.fg, got.bg, got.attrs, got.wide, got.wide_continuation),
                (
                    expected.fg,
                    expected.bg,
                    expected.attrs,
                    expected.wide,
                    expected.wide_continuation
                ),
                "column {col}"
            );
        }
        assert_eq!(
            texts(&line, 20),
            "ab漢e\u{301}x".to_owned() + &" ".repeat(14)
        );
    }

    #[test]
    fn a_plain_line_needs_no_column_table() {
        let mut history = CompactHistory::new(10);
        push_cells(&mut history, plain("hello   "));
        let line = history.line(0).expect("one line");
        assert_eq!(line.width(), 5);
        assert_eq!(line.column_size, 0);
        assert_eq!(line.cell(1).text, CellText::Char('e'));
        assert_eq!(line.cell(7), BLANK);
    }

    #[test]
    fn the_oldest_lines_are_dropped_at_capacity() {
        let mut history = CompactHistory::new(3);
        for i in 0..5 {
            push_cells(&mut history, plain(&format!("line {i}")));
        }
        assert_eq!(history.len(), 3);
        assert_eq!(texts(&history.line(0).expect("three lines"), 6), "line 2");
        assert_eq!(texts(&history.line(2).expect("three lines"), 6), "line 4");
        assert!(history.line(3).is_none());
        history.clear();
        assert!(history.is_empty());
        push_cells(&mut history, plain("after"));
        assert_eq!(texts(&history.line(0).expect("one line"), 5), "after");
        let mut none = CompactHistory::new(0);
        push_cells(&mut none, plain("dropped"));
        assert!(none.is_empty(), "no history configured");
    }

    /// Lines cycle through many chunks, some longer than a chunk: every
    /// kept line still reads back as written, and the chunks of dropped
    /// lines are given up.
    #[test]
    fn lines_read_back_across_chunks_as_old_ones_are_dropped() {
        let mut history = CompactHistory::new(500);
        let line_text = |i: usize| {
            let repeat = if i.is_multiple_of(97) {
                40_000
            } else {
                i % 300
            };
            format!("{i}:{}", "ü".repeat(repeat))
        };
        for i in 0..5_000 {
            push_cells(&mut history, plain(&line_text(i)));
            let oldest = (i + 1).saturating_sub(500);
            for (index, n) in (oldest..=i).enumerate().step_by(61) {
                let want = line_text(n);
                let width = want.chars().count();
                let line = history.line(index).expect("kept");
                assert_eq!(line.width(), width, "line {n}");
                assert_eq!(texts(&line, width), want, "line {n}");
            }
        }
        // What the kept lines need (a column table of four-byte entries
        // at most), plus the line index and the chunk being filled, the
        // one being emptied and a spare.
        let needed: usize = (4_500..5_000)
            .map(|n| {
                let text = line_text(n);
                9 + text.len() + 4 * (text.chars().count() + 1)
            })
            .sum();
        assert!(
            history.bytes() < needed + 8 * 1_024 + 3 * CHUNK,
            "{} bytes for {needed} bytes of lines",
            history.bytes()
        );
    }

    /// 10 000 typical lines of coloured output (a coloured prefix, plain
    /// text, a coloured word) in a 98-column pane take under 2 MB,
    /// where alacritty's rows took about 23 MB.
    #[test]
    fn ten_thousand_coloured_lines_take_under_two_megabytes() {
        let mut history = CompactHistory::new(10_000);
        for i in 0..20_000 {
            let text = format!(
                "{i:>6} INFO request handled in 12ms path=/api/items/{i:<8} status=200 ok, hit!"
            );
            assert_eq!(text.len(), 80);
            let cells = text.chars().enumerate().map(|(col, c)| {
                let fg = match col {
                    0..=5 => CellColor::Indexed(2),
                    7..=10 => CellColor::Rgb(200, 100, 0),
                    60..70 => CellColor::Indexed(4),
                    _ => CellColor::Default,
                };
                cell(CellText::Char(c), fg, CellColor::Default)
            });
            push_cells(&mut history, cells.chain(std::iter::repeat_n(BLANK, 18)));
        }
        assert_eq!(history.len(), 10_000);
        let bytes = history.bytes();
        // 80 bytes of text, a 9-byte header and six runs of 11 bytes a
        // line: 1.55 MB, and the index and the chunks' slack.
        assert!(bytes < 2_000_000, "{bytes} bytes");
    }
}
