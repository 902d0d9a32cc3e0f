//! PLAN.md as plain lines: pulldown-cmark parses the markdown, and this
//! module turns its events into a model of lines and styled spans that the
//! UI only has to colour and wrap. Keeping the model free of ratatui lets
//! the parsing be tested on its own.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// What a piece of text is, so the UI can pick its colour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    #[default]
    Text,
    /// Structure rather than content: bullets, numbers, quote bars,
    /// heading marks, table separators.
    Marker,
    /// The checkbox of an open task, `☐`.
    TaskOpen,
    /// The checkbox of a done task, `☑`.
    TaskDone,
    /// A link's target, shown after its text.
    Url,
    /// Raw HTML, shown as written.
    Html,
    /// Not from the file: the pane saying what is wrong with it.
    Problem,
}

/// How a span of text looks; the inline flags combine (`***x***`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TextStyle {
    pub role: Role,
    pub strong: bool,
    pub emphasis: bool,
    pub strikethrough: bool,
    /// Inline code or a code block.
    pub code: bool,
    /// The text of a link.
    pub link: bool,
}

impl TextStyle {
    fn role(role: Role) -> Self {
        Self {
            role,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub text: String,
    pub style: TextStyle,
}

impl Span {
    pub fn new(text: impl Into<String>, style: TextStyle) -> Self {
        Self {
            text: text.into(),
            style,
        }
    }

    fn marker(text: impl Into<String>) -> Self {
        Self::new(text, TextStyle::role(Role::Marker))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineKind {
    /// A paragraph, a list item's text, a table row or HTML.
    Text,
    /// A heading of this level (1 to 6).
    Heading(u8),
    /// One line of a code block: never word-wrapped, since spaces matter.
    Code,
    /// A thematic break, drawn across the whole width.
    Rule,
    /// The gap between two blocks.
    Blank,
}

/// One logical line: a paragraph, a list item's text, a heading, a line of
/// code. The UI wraps it to the pane's width.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line {
    pub kind: LineKind,
    /// Drawn before the first row: quote bars, a list bullet or checkbox,
    /// heading marks.
    pub prefix: Vec<Span>,
    /// Drawn before every further row the line wraps onto, so that wrapped
    /// text stays aligned under its bullet and inside its quote.
    pub continuation: Vec<Span>,
    pub spans: Vec<Span>,
    /// The text of a task that is done, which the UI dims.
    pub done: bool,
}

impl Line {
    /// A line of plain text without any prefix.
    pub fn plain(spans: Vec<Span>) -> Self {
        Self {
            kind: LineKind::Text,
            prefix: Vec::new(),
            continuation: Vec::new(),
            spans,
            done: false,
        }
    }

    pub fn blank() -> Self {
        Self {
            kind: LineKind::Blank,
            ..Self::plain(Vec::new())
        }
    }

    /// The line as plain text, prefix included (for tests and diagnostics).
    pub fn text(&self) -> String {
        self.prefix
            .iter()
            .chain(&self.spans)
            .map(|s| s.text.as_str())
            .collect()
    }
}

/// Task list items: how many there are and how many are checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// A parsed plan: its lines and its task progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanDoc {
    pub lines: Vec<Line>,
    pub progress: Progress,
}

/// Bullets of unordered lists, by nesting depth (cycling when deeper).
const BULLETS: [&str; 3] = ["•", "◦", "▪"];
const QUOTE_BAR: &str = "▎ ";
const TASK_OPEN: &str = "☐";
const TASK_DONE: &str = "☑";
/// Code blocks are indented by this much, which sets them apart even
/// where the terminal shows no colour.
const CODE_INDENT: &str = "  ";
/// A tab in the text becomes this many spaces: the width of a tab cannot be
/// known cell by cell, and a raw tab would break the layout.
const TAB: &str = "    ";

/// Parses markdown (`CommonMark` with task lists, strikethrough and tables).
pub fn parse(markdown: &str) -> PlanDoc {
    let options =
        Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let mut builder = Builder::default();
    for event in Parser::new_ext(markdown, options) {
        builder.event(event);
    }
    builder.flush();
    PlanDoc {
        lines: builder.lines,
        progress: builder.progress,
    }
}

/// Text as it may be drawn: tabs become spaces, and control characters
/// (an escape sequence in the file) become U+FFFD, so nothing in PLAN.md
/// can reach the outer terminal as a command.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push_str(TAB),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

enum Container {
    Quote,
    /// A list; `next` numbers the next item of an ordered list.
    List {
        next: Option<u64>,
    },
    Item {
        marker: Vec<Span>,
        ordered: bool,
        /// The marker is drawn on the item's first line only.
        pending: bool,
        done: bool,
    },
}

impl Container {
    fn marker_width(marker: &[Span]) -> usize {
        marker.iter().map(|s| width(&s.text)).sum()
    }
}

#[derive(Default)]
struct Builder {
    lines: Vec<Line>,
    containers: Vec<Container>,
    /// The inline text of the line being built.
    spans: Vec<Span>,
    heading: Option<u8>,
    strong: usize,
    emphasis: usize,
    strikethrough: usize,
    /// Open links and images: their target and where their text starts.
    links: Vec<(String, usize)>,
    /// The text of the code block being read.
    code: Option<String>,
    in_table_head: bool,
    table_cell: usize,
    /// A blank line goes before the next block.
    blank_pending: bool,
    progress: Progress,
}

impl Builder {
    fn style(&self) -> TextStyle {
        TextStyle {
            role: Role::Text,
            strong: self.strong > 0 || self.in_table_head,
            emphasis: self.emphasis > 0,
            strikethrough: self.strikethrough > 0,
            code: false,
            link: !self.links.is_empty(),
        }
    }

    fn push_text(&mut self, text: &str, style: TextStyle) {
        if !text.is_empty() {
            self.spans.push(Span::new(clean(text), style));
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                if let Some(code) = &mut self.code {
                    code.push_str(&text);
                } else {
                    self.push_text(&text, self.style());
                }
            }
            Event::Code(text) => {
                let style = TextStyle {
                    code: true,
                    ..self.style()
                };
                self.push_text(&text, style);
            }
            Event::InlineMath(text) | Event::DisplayMath(text) => {
                self.push_text(&text, self.style());
            }
            Event::Html(html) => {
                // An HTML block comes line by line, each with its newline.
                for line in html.lines() {
                    self.push_text(line, TextStyle::role(Role::Html));
                    self.flush();
                }
            }
            Event::InlineHtml(html) => self.push_text(&html, TextStyle::role(Role::Html)),
            Event::FootnoteReference(label) => {
                self.push_text(&format!("[^{label}]"), TextStyle::role(Role::Marker));
            }
            Event::SoftBreak => self.push_text(" ", self.style()),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.block_start();
                self.spans.clear();
                let (prefix, continuation, _) = self.prefixes();
                self.lines.push(Line {
                    kind: LineKind::Rule,
                    prefix,
                    continuation,
                    spans: Vec::new(),
                    done: false,
                });
                self.blank_pending = true;
            }
            Event::TaskListMarker(checked) => self.task(checked),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph | Tag::HtmlBlock | Tag::Table(_) => self.block_start(),
            Tag::Heading { level, .. } => {
                self.block_start();
                self.heading = Some(heading_level(level));
            }
            Tag::BlockQuote(_) => {
                self.block_start();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.block_start();
                self.code = Some(String::new());
                if let CodeBlockKind::Fenced(lang) = kind {
                    // The language is worth seeing: it says what the code is.
                    if !lang.is_empty() {
                        self.push_text(&lang, TextStyle::role(Role::Marker));
                        self.flush();
                    }
                }
            }
            Tag::List(start) => {
                // The text of a tight item ends where its nested list starts.
                self.block_start();
                self.containers.push(Container::List { next: start });
            }
            Tag::Item => {
                self.flush();
                let depth = self
                    .containers
                    .iter()
                    .filter(|c| matches!(c, Container::List { .. }))
                    .count();
                let (marker, ordered) = match self.containers.last_mut() {
                    Some(Container::List { next: Some(n) }) => {
                        let marker = format!("{n}. ");
                        *n += 1;
                        (marker, true)
                    }
                    _ => (
                        format!("{} ", BULLETS[depth.saturating_sub(1) % BULLETS.len()]),
                        false,
                    ),
                };
                self.containers.push(Container::Item {
                    marker: vec![Span::marker(marker)],
                    ordered,
                    pending: true,
                    done: false,
                });
            }
            Tag::Emphasis => self.emphasis += 1,
            Tag::Strong => self.strong += 1,
            Tag::Strikethrough => self.strikethrough += 1,
            Tag::Link { dest_url, .. } => self.links.push((dest_url.to_string(), self.spans.len())),
            Tag::Image { dest_url, .. } => {
                self.push_text("[image: ", TextStyle::role(Role::Marker));
                self.links.push((dest_url.to_string(), self.spans.len()));
            }
            Tag::TableHead => {
                self.in_table_head = true;
                self.table_cell = 0;
            }
            Tag::TableRow => self.table_cell = 0,
            Tag::TableCell => {
                if self.table_cell > 0 {
                    self.push_text(" │ ", TextStyle::role(Role::Marker));
                }
                self.table_cell += 1;
            }
            Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::Superscript
            | Tag::Subscript
            | Tag::MetadataBlock(_) => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock | TagEnd::Table => {
                self.flush();
                self.blank_pending = true;
            }
            TagEnd::Heading(_) => {
                self.flush();
                self.heading = None;
                self.blank_pending = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.blank_pending = true;
            }
            TagEnd::CodeBlock => {
                let code = self.code.take().unwrap_or_default();
                for text in code.strip_suffix('\n').unwrap_or(&code).split('\n') {
                    let (mut prefix, mut continuation, _) = self.prefixes();
                    prefix.push(Span::marker(CODE_INDENT));
                    continuation.push(Span::marker(CODE_INDENT));
                    let style = TextStyle {
                        code: true,
                        ..TextStyle::default()
                    };
                    let spans = if text.is_empty() {
                        Vec::new()
                    } else {
                        vec![Span::new(clean(text), style)]
                    };
                    self.lines.push(Line {
                        kind: LineKind::Code,
                        prefix,
                        continuation,
                        spans,
                        done: false,
                    });
                }
                self.blank_pending = true;
            }
            TagEnd::List(_) => {
                self.flush();
                self.containers.pop();
                // Inside an item the next sibling item follows without a
                // gap (a tight list); after a whole list, the next block
                // is set apart.
                if !self
                    .containers
                    .iter()
                    .any(|c| matches!(c, Container::Item { .. }))
                {
                    self.blank_pending = true;
                }
            }
            TagEnd::Item => {
                self.flush();
                self.containers.pop();
            }
            TagEnd::Emphasis => self.emphasis = self.emphasis.saturating_sub(1),
            TagEnd::Strong => self.strong = self.strong.saturating_sub(1),
            TagEnd::Strikethrough => self.strikethrough = self.strikethrough.saturating_sub(1),
            TagEnd::Link => self.end_link(false),
            TagEnd::Image => self.end_link(true),
            TagEnd::TableHead => {
                self.flush();
                self.in_table_head = false;
            }
            TagEnd::TableRow => self.flush(),
            TagEnd::TableCell
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::MetadataBlock(_) => {}
        }
    }

    /// Shows a link's target after its text, unless the text already is
    /// the target (`<https://…>`, or a bare e-mail address).
    fn end_link(&mut self, image: bool) {
        let Some((url, start)) = self.links.pop() else {
            return;
        };
        if image {
            self.push_text("]", TextStyle::role(Role::Marker));
        }
        let text: String = self.spans[start.min(self.spans.len())..]
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        let same = url == text || url.strip_prefix("mailto:") == Some(text.as_str());
        if !url.is_empty() && !same {
            self.push_text(&format!(" ({url})"), TextStyle::role(Role::Url));
        }
    }

    /// `- [ ]` / `- [x]`: the bullet becomes a checkbox, and it counts.
    fn task(&mut self, checked: bool) {
        self.progress.total += 1;
        self.progress.done += usize::from(checked);
        let (text, role) = if checked {
            (TASK_DONE, Role::TaskDone)
        } else {
            (TASK_OPEN, Role::TaskOpen)
        };
        let item = self
            .containers
            .iter_mut()
            .rev()
            .find(|c| matches!(c, Container::Item { .. }));
        if let Some(Container::Item {
            marker,
            ordered,
            done,
            ..
        }) = item
        {
            let checkbox = Span::new(format!("{text} "), TextStyle::role(role));
            if *ordered {
                marker.push(checkbox);
            } else {
                *marker = vec![checkbox];
            }
            *done = checked;
        }
    }

    /// Starts a block: ends the line in progress and, after an earlier
    /// block, leaves a blank line (inside the enclosing quotes).
    fn block_start(&mut self) {
        self.flush();
        if self.blank_pending && !self.lines.is_empty() {
            let quotes = self
                .containers
                .iter()
                .filter(|c| matches!(c, Container::Quote))
                .count();
            let bars = vec![Span::marker(QUOTE_BAR.trim_end()); quotes];
            self.lines.push(Line {
                kind: LineKind::Blank,
                prefix: bars.clone(),
                continuation: bars,
                spans: Vec::new(),
                done: false,
            });
        }
        self.blank_pending = false;
    }

    /// The prefixes the containers give the next line, and whether it is
    /// the text of a done task. Draws each pending item marker once.
    fn prefixes(&mut self) -> (Vec<Span>, Vec<Span>, bool) {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        let mut in_done_task = false;
        for container in &mut self.containers {
            match container {
                Container::Quote => {
                    first.push(Span::marker(QUOTE_BAR));
                    rest.push(Span::marker(QUOTE_BAR));
                }
                Container::List { .. } => {}
                Container::Item {
                    marker,
                    pending,
                    done,
                    ..
                } => {
                    let pad = " ".repeat(Container::marker_width(marker));
                    if *pending {
                        first.extend(marker.iter().cloned());
                        *pending = false;
                    } else {
                        first.push(Span::marker(pad.clone()));
                    }
                    rest.push(Span::marker(pad));
                    in_done_task = *done;
                }
            }
        }
        (first, rest, in_done_task)
    }

    /// Ends the line in progress, if it has any text.
    fn flush(&mut self) {
        if self.spans.is_empty() {
            return;
        }
        let spans = std::mem::take(&mut self.spans);
        let (mut prefix, mut continuation, done) = self.prefixes();
        let kind = match self.heading {
            Some(level) => {
                let marks = "#".repeat(usize::from(level));
                continuation.push(Span::marker(" ".repeat(marks.len() + 1)));
                prefix.push(Span::marker(format!("{marks} ")));
                LineKind::Heading(level)
            }
            None => LineKind::Text,
        };
        self.lines.push(Line {
            kind,
            prefix,
            continuation,
            spans,
            done,
        });
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(doc: &PlanDoc) -> Vec<String> {
        doc.lines.iter().map(Line::text).collect()
    }

    #[test]
    fn headings_paragraphs_and_blank_lines_between_blocks() {
        let doc = parse("# Plan\n\nSome *text*\nacross lines.\n\n## Next\ntext");
        assert_eq!(
            texts(&doc),
            [
                "# Plan",
                "",
                "Some text across lines.",
                "",
                "## Next",
                "",
                "text"
            ]
        );
        assert_eq!(doc.lines[0].kind, LineKind::Heading(1));
        assert_eq!(doc.lines[4].kind, LineKind::Heading(2));
        assert!(doc.lines[2].spans[1].style.emphasis);
    }

    #[test]
    fn tasks_count_and_become_checkboxes_at_any_depth() {
        let doc = parse(
            "- [x] parse the file\n- [ ] watch it\n  - [X] nested done\n  - plain nested\n- plain\n\n1. [ ] numbered task\n",
        );
        assert_eq!(
            texts(&doc),
            [
                "☑ parse the file",
                "☐ watch it",
                "  ☑ nested done",
                "  ◦ plain nested",
                "• plain",
                "",
                "1. ☐ numbered task",
            ]
        );
        assert_eq!(doc.progress, Progress { done: 2, total: 4 });
        assert!(doc.lines[0].done, "a done task's text is marked done");
        assert!(!doc.lines[1].done);
        assert_eq!(doc.lines[0].prefix[0].style.role, Role::TaskDone);
        assert_eq!(doc.lines[1].prefix[0].style.role, Role::TaskOpen);
        assert_eq!(
            doc.lines[2]
                .continuation
                .iter()
                .map(|s| s.text.as_str())
                .collect::<String>(),
            "    ",
            "wrapped rows of a nested item align under its text"
        );
    }

    #[test]
    fn a_bracket_that_is_not_a_task_does_not_count() {
        let doc = parse("- [link](x) item\n- [ ]not a task\ntext [ ] here\n");
        assert_eq!(doc.progress, Progress::default());
    }

    #[test]
    fn ordered_lists_keep_their_numbers_and_loose_items_are_spaced() {
        let doc = parse("3. three\n4. four\n\n- a\n\n- b\n");
        assert_eq!(texts(&doc), ["3. three", "4. four", "", "• a", "", "• b"]);
    }

    #[test]
    fn code_inline_and_in_blocks_keeps_its_spaces_and_language() {
        let doc = parse("Run `cargo test` now.\n\n```rust\nfn main() {\n\tlet  x = 1;\n}\n```\n");
        assert_eq!(
            texts(&doc),
            [
                "Run cargo test now.",
                "",
                "rust",
                "  fn main() {",
                "      let  x = 1;",
                "  }"
            ]
        );
        assert!(doc.lines[0].spans[1].style.code);
        assert_eq!(doc.lines[3].kind, LineKind::Code);
        assert_eq!(doc.lines[2].spans[0].style.role, Role::Marker);
    }

    #[test]
    fn links_show_their_text_and_target_once() {
        let doc =
            parse("See [the docs](https://docs.rs/x) and <https://a.example>, ![logo](l.png).");
        assert_eq!(
            texts(&doc),
            ["See the docs (https://docs.rs/x) and https://a.example, [image: logo] (l.png)."]
        );
        let spans = &doc.lines[0].spans;
        assert!(spans[1].style.link);
        assert_eq!(spans[2].style.role, Role::Url);
    }

    #[test]
    fn quotes_rules_emphasis_and_tables() {
        let doc = parse(
            "> quoted **bold**\n>\n> more ~~old~~\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert_eq!(
            texts(&doc),
            [
                "▎ quoted bold",
                "▎",
                "▎ more old",
                "",
                "",
                "",
                "a │ b",
                "1 │ 2"
            ]
        );
        assert!(doc.lines[0].spans[1].style.strong);
        assert!(doc.lines[2].spans[1].style.strikethrough);
        assert_eq!(doc.lines[4].kind, LineKind::Rule);
        assert!(doc.lines[6].spans[0].style.strong, "the header row is bold");
    }

    #[test]
    fn control_characters_never_reach_the_screen() {
        let doc = parse("evil \u{1b}[2J text\u{7}");
        let text = doc.lines[0].text();
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(text.contains("\u{FFFD}[2J"));
    }

    #[test]
    fn an_empty_file_has_no_lines() {
        assert_eq!(parse(""), PlanDoc::default());
        assert_eq!(parse("\n\n"), PlanDoc::default());
    }
}
