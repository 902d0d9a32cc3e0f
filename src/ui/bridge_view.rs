//! The bridge pane: every message between the agents with its state, the
//! selection, and the relay's mode in the border.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};
use unicode_width::UnicodeWidthChar;

use super::{accent, colour};
use crate::app::state::AppState;
use crate::bridge::relay::{Message, MessageState, Pause};

/// Lines of text shown for a message that is neither selected nor pending.
const FOLDED_LINES: usize = 3;

fn state_style(state: MessageState, pending: Color) -> Style {
    match state {
        MessageState::Pending => Style::new()
            .fg(Color::Black)
            .bg(pending)
            .add_modifier(Modifier::BOLD),
        MessageState::Approved | MessageState::Edited => Style::new().fg(Color::Cyan),
        MessageState::Delivered => Style::new().fg(Color::Green),
        MessageState::Rejected | MessageState::Failed => Style::new().fg(Color::Red),
        MessageState::Suppressed => Style::new().fg(Color::DarkGray),
        MessageState::Uncertain => Style::new()
            .fg(Color::Black)
            .bg(Color::Magenta)
            .add_modifier(Modifier::BOLD),
    }
}

/// Local wall-clock time of a message, `HH:MM:SS`.
fn clock(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| "--:--:--".to_owned(),
        |t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%H:%M:%S")
                .to_string()
        },
    )
}

/// The state word of a message, with what it waits for.
fn state_label(message: &Message, state: &AppState) -> String {
    let mut label = message.state.label().to_owned();
    if message.state.awaits_delivery() {
        if state.relay.pause.is_some() {
            label.push_str(" · held: relay paused");
        } else if let Some(pane) = state.pane_of(&message.to).map(|i| &state.panes[i]) {
            if pane.working {
                label = format!("{label} · waits for {} to be idle", message.to);
            }
        }
    }
    if message.state == MessageState::Delivered && message.delivered_by_tool {
        label.push_str(" (receive_messages)");
    }
    if let Some(reason) = &message.reason {
        label = format!("{label}: {reason}");
    }
    if message.auto {
        label.push_str(" · auto");
    }
    label
}

/// Wraps `text` to `width` columns, breaking at spaces where possible.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for source in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in source.split_inclusive(' ') {
            // A trailing space may hang past the edge; it is trimmed anyway.
            let word_width: usize = word
                .trim_end()
                .chars()
                .map(|c| c.width().unwrap_or(0))
                .sum();
            if used + word_width.min(width) > width && used > 0 {
                out.push(std::mem::take(&mut line).trim_end().to_owned());
                used = 0;
            }
            for c in word.chars() {
                let w = c.width().unwrap_or(0);
                if used + w > width && !(c == ' ' && used == width) {
                    out.push(std::mem::take(&mut line));
                    used = 0;
                }
                line.push(c);
                used += w;
            }
        }
        out.push(line.trim_end().to_owned());
    }
    out
}

/// The lines of every message and the line range of the selected one.
fn message_lines<'a>(
    state: &AppState,
    width: usize,
    height: usize,
) -> (Vec<Line<'a>>, Option<(usize, usize)>) {
    let mut lines = Vec::new();
    let mut selected_range = None;
    // Only the messages that can be on screen are laid out, so a run with
    // thousands of messages draws as fast as one with ten: every message
    // takes at least a line, so `height` messages on each side of the one
    // in view (the selected one, else the newest) always fill the pane.
    let messages = state.relay.messages();
    let anchor = state
        .bridge
        .selected
        .and_then(|id| messages.iter().position(|m| m.id == id))
        .unwrap_or(messages.len().saturating_sub(1));
    let window = anchor.saturating_sub(height)..(anchor + height + 1).min(messages.len());
    for message in &messages[window] {
        let selected = state.bridge.selected == Some(message.id);
        let start = lines.len();
        let marker = if selected { "▶ " } else { "  " };
        let head_style = if selected {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        lines.push(Line::from(vec![
            Span::styled(marker, Style::new().fg(accent(state))),
            Span::styled(format!("#{} ", message.id), head_style),
            Span::styled(
                format!("{} ", clock(message.sent_ms)),
                Style::new().fg(Color::DarkGray),
            ),
            Span::styled(format!("{} → {} ", message.from, message.to), head_style),
            Span::styled(
                format!(" {} ", state_label(message, state)),
                state_style(message.state, colour(state.theme.pending)),
            ),
        ]));
        let body = wrap(message.outgoing_text(), width.saturating_sub(4));
        let full = selected || message.state == MessageState::Pending;
        let shown = if full {
            body.len()
        } else {
            body.len().min(FOLDED_LINES)
        };
        let text_style = if message.state == MessageState::Suppressed
            || message.state == MessageState::Rejected
        {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        };
        for text in &body[..shown] {
            lines.push(Line::from(Span::styled(format!("    {text}"), text_style)));
        }
        if shown < body.len() {
            lines.push(Line::from(Span::styled(
                format!("    … {} more lines", body.len() - shown),
                Style::new().fg(Color::DarkGray),
            )));
        }
        if selected {
            selected_range = Some((start, lines.len()));
        }
    }
    (lines, selected_range)
}

/// The first line shown: the newest messages by default, moved so the
/// selected message is in view (its start when it is taller than the view).
fn scroll_offset(total: usize, height: usize, selected: Option<(usize, usize)>) -> usize {
    let mut offset = total.saturating_sub(height);
    if let Some((start, end)) = selected {
        if end > offset + height {
            offset = end.saturating_sub(height);
        }
        if start < offset || end - start > height {
            offset = start;
        }
    }
    offset
}

fn title(state: &AppState, focused: bool) -> Line<'static> {
    let pending = state.relay.pending_count();
    let name_style = if focused {
        Style::new()
            .fg(Color::Black)
            .bg(accent(state))
            .add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Gray)
    };
    let mut spans = vec![Span::styled(" bridge ", name_style)];
    let pending_style = if pending > 0 {
        Style::new()
            .fg(Color::Black)
            .bg(colour(state.theme.pending))
            .add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    spans.push(Span::styled(format!(" {pending} pending "), pending_style));
    // Uncertain messages wait for the human too; the count says so even
    // when they have scrolled out of the pane.
    let uncertain = state.relay.uncertain_count();
    if uncertain > 0 {
        spans.push(Span::styled(
            format!(" {uncertain} uncertain "),
            state_style(MessageState::Uncertain, colour(state.theme.pending)),
        ));
    }
    let relay = &state.relay;
    let mode = if relay.auto_all {
        "auto-approve".to_owned()
    } else if relay.auto_directions.is_empty() {
        "manual".to_owned()
    } else {
        let d: Vec<String> = relay
            .auto_directions
            .iter()
            .map(|(f, t)| format!("{f}→{t}"))
            .collect();
        format!("auto {}", d.join(" "))
    };
    spans.push(Span::styled(
        format!(" {mode} "),
        Style::new().fg(Color::Cyan),
    ));
    match &relay.pause {
        Some(Pause::Human) => spans.push(Span::styled(
            " PAUSED (space resumes) ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        )),
        Some(Pause::HopCap(cap)) => spans.push(Span::styled(
            format!(" PAUSED: {cap} agent relays in a row; approve or space resumes "),
            Style::new()
                .fg(Color::Black)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
        )),
        None if relay.auto_all || !relay.auto_directions.is_empty() => spans.push(Span::styled(
            format!(" hops {}/{} ", relay.hops, relay.hop_cap),
            Style::new().fg(Color::DarkGray),
        )),
        None => {}
    }
    if let Some(label) = state.workflow.label() {
        spans.push(Span::styled(
            format!(" {label} "),
            Style::new()
                .fg(Color::Black)
                .bg(Color::Green)
                .add_modifier(Modifier::BOLD),
        ));
    }
    Line::from(spans)
}

pub fn render(state: &AppState, rect: Rect, buf: &mut Buffer) {
    let focused = state.bridge.focused;
    let unfocused = if state.relay.oldest_pending().is_some() {
        Style::new().fg(colour(state.theme.pending))
    } else {
        Style::new().fg(Color::DarkGray)
    };
    let mut block = super::pane_block(state, focused, unfocused).title(title(state, focused));
    if focused {
        block = block.title_bottom(
            Line::from(
                " j/k select · Enter approve · e edit · x reject · m write · A auto · space pause ",
            )
            .right_aligned(),
        );
    }
    let area = block.inner(rect);
    block.render(rect, buf);
    if state.relay.messages().is_empty() {
        let names: Vec<&str> = state.panes.iter().map(|p| p.spec.name.as_str()).collect();
        Paragraph::new(vec![Line::from(Span::styled(
            format!(
                "No messages yet. When {} call send_message, each message waits here for you: Enter approves, e edits, x rejects.",
                names.join(" or ")
            ),
            Style::new().fg(Color::DarkGray),
        ))])
        .wrap(ratatui::widgets::Wrap { trim: true })
        .render(area, buf);
        return;
    }
    let (lines, selected) = message_lines(state, usize::from(area.width), usize::from(area.height));
    let offset = scroll_offset(lines.len(), usize::from(area.height), selected);
    let visible: Vec<Line> = lines
        .into_iter()
        .skip(offset)
        .take(usize::from(area.height))
        .collect();
    Paragraph::new(visible).render(area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
        assert_eq!(wrap("日本語テキスト", 6), ["日本語", "テキス", "ト"]);
    }

    #[test]
    fn the_selection_stays_in_view() {
        assert_eq!(scroll_offset(10, 4, None), 6, "newest at the bottom");
        assert_eq!(scroll_offset(10, 4, Some((0, 2))), 0);
        assert_eq!(scroll_offset(10, 4, Some((3, 9))), 3, "tall: its start");
        assert_eq!(scroll_offset(3, 4, Some((0, 1))), 0);
    }
}
