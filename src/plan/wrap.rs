//! Wrapping the plan's lines to the pane's width: words move to the next
//! row whole (a word longer than the row is split), code keeps every
//! space and breaks anywhere, and wrapped rows start with the line's
//! continuation prefix so they stay aligned under their bullet.

use unicode_width::UnicodeWidthChar;

use super::markdown::{Line, LineKind, PlanDoc, Role, Span, TextStyle};

/// One row on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The index of the logical line this row belongs to.
    pub line: usize,
    pub spans: Vec<Span>,
}

/// Every row of `doc` at `width` columns.
pub fn wrap_doc(doc: &PlanDoc, width: usize) -> Vec<Row> {
    doc.lines
        .iter()
        .enumerate()
        .flat_map(|(index, line)| {
            wrap_line(line, width)
                .into_iter()
                .map(move |spans| Row { line: index, spans })
        })
        .collect()
}

fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

fn spans_width(spans: &[Span]) -> usize {
    spans
        .iter()
        .flat_map(|s| s.text.chars())
        .map(char_width)
        .sum()
}

/// The rows of one line at `width` columns (at least one row).
pub fn wrap_line(line: &Line, width: usize) -> Vec<Vec<Span>> {
    let width = width.max(1);
    // A pane narrower than the indentation shows the text unindented
    // rather than nothing at all.
    let fits = spans_width(&line.prefix) < width && spans_width(&line.continuation) < width;
    let (prefix, continuation): (&[Span], &[Span]) = if fits {
        (&line.prefix, &line.continuation)
    } else {
        (&[], &[])
    };
    let first_room = width - spans_width(prefix);
    let rest_room = width - spans_width(continuation);
    let chars: Vec<(char, TextStyle)> = line
        .spans
        .iter()
        .flat_map(|s| s.text.chars().map(move |c| (c, s.style)))
        .collect();
    let rows = match line.kind {
        LineKind::Rule => {
            let style = TextStyle {
                role: Role::Marker,
                ..TextStyle::default()
            };
            vec![vec![('─', style); first_room]]
        }
        LineKind::Code => break_anywhere(&chars, first_room, rest_room),
        _ => break_at_spaces(&chars, first_room, rest_room),
    };
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let mut spans = if i == 0 { prefix } else { continuation }.to_vec();
            spans.extend(merge(&row));
            spans
        })
        .collect()
}

/// Splits `chars` into rows of at most `first` columns, then `rest`.
fn break_anywhere(
    chars: &[(char, TextStyle)],
    first: usize,
    rest: usize,
) -> Vec<Vec<(char, TextStyle)>> {
    let mut rows = Rows::new(first, rest);
    for &(c, style) in chars {
        if rows.used > 0 && !rows.fits(char_width(c)) {
            rows.rows.push(Vec::new());
            rows.used = 0;
        }
        rows.push(c, style);
    }
    rows.rows
}

/// Greedy word wrapping: a word that does not fit on the row starts the
/// next one; spaces at a break are dropped.
fn break_at_spaces(
    chars: &[(char, TextStyle)],
    first: usize,
    rest: usize,
) -> Vec<Vec<(char, TextStyle)>> {
    let mut rows = Rows::new(first, rest);
    let mut start = 0;
    while start < chars.len() {
        let space = chars[start].0 == ' ';
        let end = chars[start..]
            .iter()
            .position(|(c, _)| (*c == ' ') != space)
            .map_or(chars.len(), |n| start + n);
        let token = &chars[start..end];
        start = end;
        let token_width: usize = token.iter().map(|(c, _)| char_width(*c)).sum();
        if space {
            // Spaces separate words within a row; a row never starts with them.
            if rows.used > 0 {
                if rows.fits(token_width) {
                    for &(c, style) in token {
                        rows.push(c, style);
                    }
                } else {
                    rows.next_row();
                }
            }
            continue;
        }
        if rows.used > 0 && !rows.fits(token_width) {
            rows.next_row();
        }
        // A word longer than a whole row is split where the row ends.
        for &(c, style) in token {
            if rows.used > 0 && !rows.fits(char_width(c)) {
                rows.next_row();
            }
            rows.push(c, style);
        }
    }
    rows.finish()
}

/// Rows being filled, the first with its own room.
struct Rows {
    rows: Vec<Vec<(char, TextStyle)>>,
    used: usize,
    first: usize,
    rest: usize,
}

impl Rows {
    fn new(first: usize, rest: usize) -> Self {
        Self {
            rows: vec![Vec::new()],
            used: 0,
            first,
            rest,
        }
    }

    fn fits(&self, width: usize) -> bool {
        let room = if self.rows.len() == 1 {
            self.first
        } else {
            self.rest
        };
        self.used + width <= room
    }

    fn push(&mut self, c: char, style: TextStyle) {
        if let Some(row) = self.rows.last_mut() {
            row.push((c, style));
        }
        self.used += char_width(c);
    }

    /// Ends the row; spaces at its end are invisible and dropped.
    fn next_row(&mut self) {
        self.trim();
        self.rows.push(Vec::new());
        self.used = 0;
    }

    fn trim(&mut self) {
        if let Some(row) = self.rows.last_mut() {
            while row.last().is_some_and(|(c, _)| *c == ' ') {
                row.pop();
            }
        }
    }

    fn finish(mut self) -> Vec<Vec<(char, TextStyle)>> {
        self.trim();
        self.rows
    }
}

/// Adjacent characters of the same style as one span.
fn merge(chars: &[(char, TextStyle)]) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    for &(c, style) in chars {
        match spans.last_mut() {
            Some(span) if span.style == style => span.text.push(c),
            _ => spans.push(Span::new(c.to_string(), style)),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::markdown::parse;

    fn rows(markdown: &str, width: usize) -> Vec<String> {
        wrap_doc(&parse(markdown), width)
            .iter()
            .map(|r| r.spans.iter().map(|s| s.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn words_wrap_under_their_bullet() {
        assert_eq!(
            rows("- [ ] write the watcher thread and its tests", 16),
            ["☐ write the", "  watcher thread", "  and its tests"]
        );
        assert_eq!(
            rows("> a quoted line that wraps", 12),
            ["▎ a quoted", "▎ line that", "▎ wraps"]
        );
    }

    #[test]
    fn long_words_and_code_break_anywhere() {
        assert_eq!(rows("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(
            rows("```\nlet  x = 12345;\n```", 8),
            ["  let  x", "   = 123", "  45;"]
        );
    }

    #[test]
    fn styles_survive_wrapping_and_rows_know_their_line() {
        let doc = parse("# Title\n\nplain **bold words** end");
        let rows = wrap_doc(&doc, 12);
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [0, 1, 2, 2]);
        let bold: Vec<&str> = rows
            .iter()
            .flat_map(|r| &r.spans)
            .filter(|s| s.style.strong)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(bold, ["bold", "words"]);
    }

    #[test]
    fn rules_fill_the_width_and_tiny_widths_still_make_progress() {
        assert_eq!(rows("---", 5), ["─────"]);
        for width in 0..4 {
            let out = rows("- - nested item text\n\n> > ```\n> > code\n> > ```", width).concat();
            assert!(
                out.contains("text") && out.contains("code"),
                "{width}: {out}"
            );
        }
        assert_eq!(rows("- item", 1), ["i", "t", "e", "m"]);
    }

    #[test]
    fn wide_characters_count_two_columns() {
        assert_eq!(rows("日本語 テキスト", 6), ["日本語", "テキス", "ト"]);
    }
}
