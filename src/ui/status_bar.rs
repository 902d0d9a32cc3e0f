//! The one-line status bar: key hints on the left, the mode or the latest
//! notice on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::accent;
use crate::app::state::{AppState, Mode};
use crate::keymap::Action;

/// What the keys after the prefix do, shown before and after pressing it,
/// each with the first key the keymap binds to it.
const PREFIX_HINTS: &[(Action, &str)] = &[
    (Action::FocusNext, "next"),
    (Action::FocusBridge, "bridge"),
    (Action::Approve, "approve"),
    (Action::Zoom, "zoom"),
    (Action::Scroll, "scroll"),
    (Action::Quit, "quit"),
    (Action::Help, "help"),
];

pub fn draw(buf: &mut Buffer, state: &AppState, area: Rect) {
    if area.height == 0 {
        return;
    }
    let prefix = state.keymap.prefix_name();
    let key = Style::new().fg(accent(state)).add_modifier(Modifier::BOLD);
    let text = Style::new().fg(Color::Gray);
    let mut spans = Vec::new();
    // Unbound actions have no hint.
    let prefix_hints: Vec<(String, &str)> = PREFIX_HINTS
        .iter()
        .filter_map(|(action, what)| Some((state.keymap.key_label(*action)?, *what)))
        .collect();
    let prefix_hints: Vec<(&str, &str)> = prefix_hints
        .iter()
        .map(|(key, what)| (key.as_str(), *what))
        .collect();
    let (badge, hints): (Option<&str>, &[(&str, &str)]) = match state.mode {
        Mode::Normal => (None, &prefix_hints),
        Mode::Prefix => (Some(" PREFIX "), &prefix_hints),
        Mode::Scroll => (
            Some(" SCROLL "),
            &[
                ("PgUp/PgDn ↑/↓", "move"),
                ("g/G", "top/bottom"),
                ("q/Esc", "leave"),
            ],
        ),
        Mode::Help => (Some(" HELP "), &[("any key", "close")]),
        Mode::ConfirmQuit => (Some(" QUIT? "), &[("y", "quit"), ("n", "stay")]),
        Mode::Edit => (
            Some(" EDIT "),
            &[("Ctrl-S / Alt-Enter", "save"), ("Esc", "cancel")],
        ),
    };
    if let Some(badge) = badge {
        spans.push(Span::styled(
            badge,
            Style::new()
                .fg(Color::Black)
                .bg(accent(state))
                .add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(" "));
    }
    if state.mode == Mode::Normal {
        spans.push(Span::styled(format!("{prefix} "), key));
        spans.push(Span::styled("then ", text));
    }
    for (k, what) in hints {
        spans.push(Span::styled(*k, key));
        spans.push(Span::styled(format!(" {what}  "), text));
    }
    let hints = Line::from(spans);
    let Some(notice) = &state.notice else {
        Paragraph::new(hints).render(area, buf);
        return;
    };
    // The notice goes on the right if it fits beside the hints; otherwise
    // it replaces them, since it is the newer information.
    let notice = Span::styled(format!(" {notice} "), Style::new().fg(Color::Yellow));
    let notice_width = u16::try_from(notice.width()).unwrap_or(u16::MAX);
    let hints_width = u16::try_from(hints.width()).unwrap_or(u16::MAX);
    if hints_width.saturating_add(notice_width) <= area.width {
        Paragraph::new(hints).render(area, buf);
        let at = Rect::new(area.right() - notice_width, area.y, notice_width, 1);
        Paragraph::new(notice).render(at, buf);
    } else {
        Paragraph::new(Line::from(notice)).render(area, buf);
    }
}
