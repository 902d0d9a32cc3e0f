//! The plan pane: PLAN.md rendered from the core's line model, wrapped to
//! the pane, with task progress in the title and lines that just changed
//! marked in a gutter on the left.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::accent;
use crate::app::state::AppState;
use crate::layout::inner;
use crate::plan::markdown::{LineKind, Role, TextStyle};
use crate::plan::GUTTER;

/// The gutter mark of a changed line.
const CHANGED_MARK: &str = "▌";
/// Behind the text of a changed line: a dark green that every 256-colour
/// terminal has and that keeps the text's own colours readable.
const CHANGED_BG: Color = Color::Indexed(22);

fn title(state: &AppState, focused: bool) -> Line<'static> {
    let plan = &state.plan;
    let name_style = if focused {
        Style::new()
            .fg(Color::Black)
            .bg(accent(state))
            .add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Gray)
    };
    let mut text = format!(" plan · {} ", plan.file_name());
    if let Some(progress) = plan.progress().filter(|p| p.total > 0) {
        let _ = write!(text, "· {}/{} done ", progress.done, progress.total);
    }
    if state.zoomed {
        text.push_str("· zoomed ");
    }
    let mut spans = vec![Span::styled(text, name_style)];
    if plan.highlight_until.is_some() {
        spans.push(Span::styled(
            " changed ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Green)
                .add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

/// The look of a span, from its style and the kind of line it is on;
/// headings take the theme's `accent`.
fn span_style(style: TextStyle, kind: LineKind, done: bool, accent: Color) -> Style {
    let mut out = match style.role {
        Role::Marker | Role::Url => Style::new().fg(Color::DarkGray),
        Role::TaskOpen => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        Role::TaskDone => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        Role::Html => Style::new().fg(Color::Magenta),
        Role::Problem => Style::new().fg(Color::Red),
        Role::Text => match kind {
            LineKind::Heading(1) => Style::new()
                .fg(accent)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            LineKind::Heading(2) => Style::new().fg(accent).add_modifier(Modifier::BOLD),
            LineKind::Heading(_) => Style::new().add_modifier(Modifier::BOLD),
            _ if done => Style::new().fg(Color::DarkGray),
            _ => Style::new(),
        },
    };
    if style.strong {
        out = out.add_modifier(Modifier::BOLD);
    }
    if style.emphasis {
        out = out.add_modifier(Modifier::ITALIC);
    }
    if style.strikethrough {
        out = out.add_modifier(Modifier::CROSSED_OUT);
    }
    if style.code {
        out = out.fg(Color::Yellow);
    }
    if style.link {
        out = out.fg(Color::Blue).add_modifier(Modifier::UNDERLINED);
    }
    out
}

pub fn render(state: &AppState, rect: Rect, buf: &mut Buffer) {
    let plan = &state.plan;
    let focused = plan.focused;
    let unfocused = if plan.highlight_until.is_some() {
        Style::new().fg(Color::Green)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    let mut block = super::pane_block(state, focused, unfocused).title(title(state, focused));
    let area = inner(rect);
    let width = usize::from(area.width).saturating_sub(GUTTER);
    let height = usize::from(area.height);
    let doc = plan.doc();
    let rows = plan.rows(width);
    let first = plan.first_row(rows.len(), height);
    if rows.len() > height {
        let last = (first + height).min(rows.len());
        block = block.title_bottom(
            Line::from(format!(" {}–{}/{} ", first + 1, last, rows.len())).right_aligned(),
        );
    }
    if focused {
        block = block.title_bottom(Line::from(" j/k scroll · PgUp/PgDn · g/G top/bottom "));
    }
    block.render(rect, buf);
    let lines: Vec<Line> = rows
        .iter()
        .skip(first)
        .take(height)
        .map(|row| {
            let (kind, done) = doc
                .lines
                .get(row.line)
                .map_or((LineKind::Text, false), |l| (l.kind, l.done));
            let changed = plan.is_changed(row.line);
            let mut spans = vec![if changed {
                Span::styled(CHANGED_MARK, Style::new().fg(Color::Green))
            } else {
                Span::raw(" ".repeat(GUTTER))
            }];
            spans.extend(row.spans.iter().map(|s| {
                Span::styled(
                    s.text.clone(),
                    span_style(s.style, kind, done, accent(state)),
                )
            }));
            Line::from(spans)
        })
        .collect();
    Paragraph::new(lines).render(area, buf);
    // The background spans the whole row, so a changed line stands out
    // however short it is.
    for (y, row) in (area.y..area.bottom()).zip(rows.iter().skip(first)) {
        if plan.is_changed(row.line) {
            buf.set_style(
                Rect::new(area.x, y, area.width, 1),
                Style::new().bg(CHANGED_BG),
            );
        }
    }
}
