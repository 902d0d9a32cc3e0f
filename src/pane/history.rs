//! A pane's scrollback history, kept compactly: each line is its text and
//! its style runs, with trailing default blanks trimmed, instead of a
//! full-width row of fat cells. `alacritty_terminal` keeps every history
//! line as a row of 24-byte cells (about 2.3 KB for a 98-column pane); a
//! typical coloured 80-character line takes about a tenth of that here.
//! The alacritty emulator copies every line that leaves its screen into
//! this store and keeps its own history empty.
//!
//! Lines are not reflowed when the pane is resized: a line wider than the
//! pane is clipped, a narrower one padded with blanks (tmux does the same
//! for lines it did not wrap itself).

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

/// One history line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    /// Each column's text in order: a blank is a space, the second half of
    /// a wide character has no text, combining marks follow their base.
    text: Box<str>,
    /// Where each column's text starts in `text`, plus a final entry at its
    /// end; `None` when every column is exactly one byte (plain ASCII, no
    /// wide characters), where the column is the byte offset.
    columns: Option<Box<[u32]>>,
    runs: Box<[Run]>,
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

impl HistoryLine {
    /// Builds a line from its cells, left to right.
    pub fn from_cells<'a>(cells: impl IntoIterator<Item = CellView<'a>>) -> Self {
        let mut builder = LineBuilder::new();
        for cell in cells {
            builder.set_style(cell.fg, cell.bg, cell.attrs);
            builder.push(cell.text, cell.wide_continuation);
        }
        builder.finish()
    }

    /// How many columns the line has after trimming.
    #[must_use]
    pub fn width(&self) -> usize {
        self.columns
            .as_ref()
            .map_or(self.text.len(), |columns| columns.len() - 1)
    }

    fn span(&self, col: usize) -> &str {
        match &self.columns {
            None => &self.text[col..=col],
            Some(columns) => {
                let start = columns[col] as usize;
                let end = columns[col + 1] as usize;
                &self.text[start..end]
            }
        }
    }

    /// The cell at `col`; past the end of the line, a default blank.
    #[must_use]
    pub fn cell(&self, col: usize) -> CellView<'_> {
        if col >= self.width() {
            return BLANK;
        }
        let run = self
            .runs
            .partition_point(|run| usize::from(run.start) <= col)
            .saturating_sub(1);
        let style = self.runs.get(run).map_or_else(Style::default, |r| r.style);
        let span = self.span(col);
        let mut chars = span.chars();
        let text = match (chars.next(), chars.next()) {
            (None | Some(' '), None) => CellText::Empty,
            (Some(c), None) => CellText::Char(c),
            _ => CellText::Str(span),
        };
        let wide = col + 1 < self.width() && self.span(col + 1).is_empty();
        CellView {
            text,
            fg: style.fg,
            bg: style.bg,
            attrs: style.attrs,
            wide,
            wide_continuation: span.is_empty(),
        }
    }

    /// The heap and inline bytes this line takes.
    #[must_use]
    pub fn bytes(&self) -> usize {
        size_of::<Self>()
            + self.text.len()
            + self
                .columns
                .as_ref()
                .map_or(0, |c| c.len() * size_of::<u32>())
            + self.runs.len() * size_of::<Run>()
    }
}

/// Builds a [`HistoryLine`] cell by cell. Copying every line that leaves
/// the screen is on the output's hot path, so a cell costs a few
/// comparisons: the style is set only when it changes, and plain
/// characters skip the column table until a line needs one.
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

    /// The line, trailing default blanks trimmed. The builder is empty
    /// again afterwards and keeps its buffers for the next line, so a line
    /// costs exactly one allocation per part it has.
    pub fn finish(&mut self) -> HistoryLine {
        let (width, text_len, run_count) = self.kept;
        let text = &self.text[..text_len];
        let columns = self.columns.as_mut().and_then(|columns| {
            columns.truncate(width);
            columns.push(u32::try_from(text_len).unwrap_or(u32::MAX));
            // Trimming may have removed the only columns that are not one
            // byte.
            let simple = columns
                .iter()
                .enumerate()
                .all(|(col, &offset)| offset as usize == col);
            (!simple).then(|| Box::<[u32]>::from(&columns[..]))
        });
        let line = HistoryLine {
            text: Box::from(text),
            columns,
            runs: Box::from(&self.runs[..run_count]),
        };
        self.text.clear();
        self.columns = None;
        self.runs.clear();
        self.width = 0;
        self.style = Style::default();
        self.new_run = true;
        self.blank_is_default = true;
        self.kept = (0, 0, 0);
        line
    }
}

/// The newest `capacity` lines that scrolled off a pane's screen.
#[derive(Debug, Clone, Default)]
pub struct CompactHistory {
    lines: VecDeque<HistoryLine>,
    capacity: usize,
}

impl CompactHistory {
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            lines: VecDeque::new(),
            capacity,
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// How many lines it keeps at most.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds the newest line, dropping the oldest when full.
    pub fn push(&mut self, line: HistoryLine) {
        if self.capacity == 0 {
            return;
        }
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    pub fn clear(&mut self) {
        self.lines = VecDeque::new();
    }

    /// Line `index`, counted from the oldest.
    #[must_use]
    pub fn line(&self, index: usize) -> Option<&HistoryLine> {
        self.lines.get(index)
    }

    /// The bytes the store takes: its lines and its line slots.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.lines.iter().map(HistoryLine::bytes).sum::<usize>()
            + (self.lines.capacity() - self.lines.len()) * size_of::<HistoryLine>()
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

    fn texts(line: &HistoryLine, cols: usize) -> String {
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
            cell(CellText::Empty, CellColor::Default, blue),
        ];
        cells.extend(std::iter::repeat_n(BLANK, 10));
        let line = HistoryLine::from_cells(cells.clone());
        assert_eq!(line.width(), 6, "trailing default blanks are trimmed");
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
            "ab漢e\u{301}".to_owned() + &" ".repeat(15)
        );
    }

    #[test]
    fn a_plain_line_needs_no_column_table() {
        let line = HistoryLine::from_cells(
            "hello   "
                .chars()
                .map(|c| cell(CellText::Char(c), CellColor::Default, CellColor::Default)),
        );
        assert_eq!(line.width(), 5);
        assert!(line.columns.is_none());
        assert_eq!(line.cell(1).text, CellText::Char('e'));
        assert_eq!(line.cell(7), BLANK);
    }

    #[test]
    fn the_oldest_lines_are_dropped_at_capacity() {
        let mut history = CompactHistory::new(3);
        for i in 0..5 {
            let text = format!("line {i}");
            history.push(HistoryLine::from_cells(text.chars().map(|c| {
                cell(CellText::Char(c), CellColor::Default, CellColor::Default)
            })));
        }
        assert_eq!(history.len(), 3);
        let first = history.line(0).expect("three lines").clone();
        assert_eq!(texts(&first, 6), "line 2");
        assert_eq!(texts(history.line(2).expect("three lines"), 6), "line 4");
        history.clear();
        assert!(history.is_empty());
        let mut none = CompactHistory::new(0);
        none.push(first);
        assert!(none.is_empty(), "no history configured");
    }

    /// 10 000 typical lines of coloured output (a coloured prefix, plain
    /// text, a coloured word) in a 98-column pane take under 3 MB, where
    /// alacritty's rows took about 23 MB.
    #[test]
    fn ten_thousand_coloured_lines_take_under_three_megabytes() {
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
            let cells: Vec<_> = cells.chain(std::iter::repeat_n(BLANK, 18)).collect();
            history.push(HistoryLine::from_cells(cells));
        }
        assert_eq!(history.len(), 10_000);
        let bytes = history.bytes();
        assert!(bytes < 3_000_000, "{bytes} bytes");
    }
}
