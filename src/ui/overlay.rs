//! Pop-ups drawn over the panes: the key help and the quit confirmation.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};

use super::accent;
use crate::app::state::{AppState, EditPurpose};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(row);
    rect
}

fn popup(buf: &mut Buffer, accent: Color, title: &str, lines: Vec<Line<'_>>, width: u16) {
    // As wide as the longest line (at least `width`), as the screen allows;
    // the height counts the rows wrapped lines take, so nothing is cut off.
    let longest = lines.iter().map(Line::width).max().unwrap_or(0);
    let width = width
        .max(u16::try_from(longest).unwrap_or(u16::MAX).saturating_add(2))
        .min(buf.area.width);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2);
    let rect = centered(buf.area, width, height.min(buf.area.height));
    Clear.render(rect, buf);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(
            Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(Style::new().fg(accent))
                .title(Span::styled(
                    title,
                    Style::new().add_modifier(Modifier::BOLD),
                )),
        )
        .render(rect, buf);
}

pub fn help(buf: &mut Buffer, state: &AppState) {
    let prefix = state.keymap.prefix_name();
    let key = Style::new().fg(accent(state)).add_modifier(Modifier::BOLD);
    let mut lines = vec![
        Line::from(vec![
            Span::raw("Press "),
            Span::styled(prefix.clone(), key),
            Span::raw(", then:"),
        ]),
        Line::raw(""),
    ];
    for (k, what) in state.keymap.help_rows() {
        lines.push(Line::from(vec![
            Span::styled(format!("  {k:<12}"), key),
            Span::raw(what),
        ]));
    }
    lines.push(Line::raw(""));
    // Short lines, so the popup's height (one row per line) is never
    // cut short by wrapping.
    for text in [
        "Every other key goes to the focused pane.",
        "The mouse wheel scrolls a pane's history unless",
        "its program uses the mouse.",
    ] {
        lines.push(Line::styled(text, Style::new().fg(Color::Gray)));
    }
    popup(buf, accent(state), " loop-tui keys ", lines, 72);
}

pub fn confirm_quit(buf: &mut Buffer, state: &AppState) {
    let running = state.running_count();
    let lines = vec![
        Line::raw(format!(
            "{running} program{} still running. Quit and end {}?",
            if running == 1 { " is" } else { "s are" },
            if running == 1 { "it" } else { "them" }
        )),
        Line::from(vec![
            Span::styled(
                "y",
                Style::new().fg(accent(state)).add_modifier(Modifier::BOLD),
            ),
            Span::raw(" quit   "),
            Span::styled(
                "n",
                Style::new().fg(accent(state)).add_modifier(Modifier::BOLD),
            ),
            Span::raw(" stay"),
        ]),
    ];
    popup(buf, accent(state), " Quit loop-tui? ", lines, 56);
}

/// The editor popup: editing a message, a reject reason or a new message.
pub fn editor(buf: &mut Buffer, state: &AppState) {
    let Some(editor) = &state.editor else {
        return;
    };
    let describe = |id| {
        state
            .relay
            .get(id)
            .map_or(format!("#{id}"), |m| format!("#{id} {} → {}", m.from, m.to))
    };
    let (title, hint) = match &editor.purpose {
        EditPurpose::Edit(id) => (
            format!(" Edit {} ", describe(*id)),
            " Ctrl-S or Alt-Enter approves the edited text · Esc cancels ",
        ),
        EditPurpose::Reject(id) => (
            format!(" Reject {}: reason (optional) ", describe(*id)),
            " Enter rejects · Esc cancels ",
        ),
        EditPurpose::Compose { target } => (
            format!(
                " Message to {} (Tab changes) ",
                target
                    .and_then(|i| state.panes.get(i))
                    .map_or("all agents".to_owned(), |p| p.spec.name.clone())
            ),
            " Ctrl-S or Alt-Enter sends · Esc cancels ",
        ),
    };
    let area = buf.area;
    let height = if matches!(editor.purpose, EditPurpose::Reject(_)) {
        3
    } else {
        area.height.saturating_sub(4).clamp(3, 16)
    };
    let rect = centered(
        area,
        area.width.saturating_sub(4).clamp(1, 100),
        height.min(area.height),
    );
    Clear.render(rect, buf);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(accent(state)))
        .title(Span::styled(
            title,
            Style::new().add_modifier(Modifier::BOLD),
        ))
        .title_bottom(Line::from(hint).right_aligned());
    let inner = block.inner(rect);
    block.render(rect, buf);
    (&editor.text).render(inner, buf);
}
