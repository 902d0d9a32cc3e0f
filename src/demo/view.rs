//! Drawing of the demo agent: a pure function of `DemoState`.

use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::state::{DemoState, Message, Role, SPINNER_FRAMES};

/// Truecolor accents; the agent name picks one so that two demo agents side
/// by side are easy to tell apart.
const ACCENTS: [Color; 4] = [
    Color::Rgb(215, 119, 87),
    Color::Rgb(106, 168, 255),
    Color::Rgb(120, 200, 120),
    Color::Rgb(200, 140, 230),
];
/// Prompt shown in the input box.
const PROMPT: &str = "❯ ";
/// Width of the `> ` and `● ` prefixes, also the indent of wrapped lines.
const PREFIX_WIDTH: usize = 2;
/// The banner's three lines and a blank line below them.
const BANNER_ROWS: u16 = 4;
/// The task suggested in the worker's banner.
pub const EXAMPLE_TASK: &str = "add a --verbose flag";

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, state: &DemoState) {
    let accent = accent(&state.name);
    let [banner, conversation, input, hint] = Layout::vertical([
        Constraint::Length(BANNER_ROWS),
        Constraint::Min(0),
        Constraint::Length(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    draw_banner(frame, banner, state, accent);
    draw_conversation(frame, conversation, state, accent);
    draw_input(frame, input, state, accent);
    draw_hint(frame, hint, state);
}

fn accent(name: &str) -> Color {
    let index = name.bytes().map(usize::from).sum::<usize>() % ACCENTS.len();
    ACCENTS[index]
}

fn dim() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

fn draw_banner(frame: &mut Frame, area: Rect, state: &DemoState, accent: Color) {
    let mut lines = vec![Line::from(vec![
        Span::styled("✻ ", Style::new().fg(accent)),
        Span::styled(
            format!("demo-agent {}", state.name),
            Style::new().fg(accent).add_modifier(Modifier::BOLD),
        ),
    ])];
    // The second line tells a newcomer what to do in this pane, which is
    // the whole point of the demo.
    match &state.peer {
        Some(peer) if state.is_reviewer() => {
            lines.push(Line::raw(format!(
                "I review what {peer} sends me through the bridge and answer with a review."
            )));
        }
        Some(peer) => {
            lines.push(Line::from(vec![
                Span::raw("type a task, e.g. "),
                Span::styled(
                    format!("`{EXAMPLE_TASK}`"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(format!(", and I ask {peer} to review it")),
            ]));
        }
        None => lines.push(Line::styled(
            "scripted demo agent · no API key needed · /exit to quit",
            dim(),
        )),
    }
    if !state.bridge_status.is_empty() {
        lines.push(Line::styled(
            format!(
                "{} · scripted, no API key · /exit quits",
                state.bridge_status
            ),
            dim(),
        ));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_conversation(frame: &mut Frame, area: Rect, state: &DemoState, accent: Color) {
    let lines = conversation_lines(state, usize::from(area.width), accent);
    // Only the newest lines that fit are kept, so the conversation sticks to
    // the input box and older lines scroll away at the top.
    let skip = lines.len().saturating_sub(usize::from(area.height));
    let visible: Vec<Line> = lines.into_iter().skip(skip).collect();
    frame.render_widget(Paragraph::new(visible), area);
}

/// All conversation lines, already wrapped to `width`.
fn conversation_lines(state: &DemoState, width: usize, accent: Color) -> Vec<Line<'static>> {
    let text_width = width.saturating_sub(PREFIX_WIDTH).max(1);
    let mut lines = Vec::new();
    for (i, message) in state.messages.iter().enumerate() {
        // A blank line before each new turn (anything not written by this
        // agent) keeps exchanges apart.
        if i > 0 && !matches!(message.role, Role::Agent | Role::Tool { .. }) {
            lines.push(Line::default());
        }
        let (prefix, prefix_style, text, text_style) = entry_style(message, accent);
        for (j, part) in text
            .lines()
            .flat_map(|line| wrap(line, text_width))
            .enumerate()
        {
            let lead = if j == 0 { prefix } else { "  " };
            lines.push(Line::from(vec![
                Span::styled(lead, prefix_style),
                Span::styled(part, text_style),
            ]));
        }
    }
    if state.thinking.is_some() {
        let frame = SPINNER_FRAMES[state.spinner_frame % SPINNER_FRAMES.len()];
        lines.push(Line::from(vec![
            Span::styled(format!("{frame} "), Style::new().fg(accent)),
            Span::styled(
                "thinking…",
                Style::new().fg(accent).add_modifier(Modifier::ITALIC),
            ),
        ]));
    }
    lines
}

/// How an entry is drawn: its prefix, the prefix's style, its text and
/// the text's style.
fn entry_style(message: &Message, accent: Color) -> (&'static str, Style, String, Style) {
    let notice = Style::new().fg(Color::Yellow);
    match &message.role {
        Role::User => (
            "> ",
            dim(),
            message.text.clone(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Role::Agent => (
            "● ",
            Style::new().fg(accent),
            message.text.clone(),
            Style::new(),
        ),
        Role::Received { id, from } => (
            "◀ ",
            Style::new().fg(Color::Cyan),
            format!("message #{id} from {from}:\n{}", message.text),
            Style::new().fg(Color::Cyan),
        ),
        Role::Notice => ("! ", notice, message.text.clone(), notice),
        Role::Tool { target, result, .. } => {
            let call = format!("send_message({target})");
            let (text, style) = match result {
                None => (format!("{call} …"), dim()),
                Some(Ok(answer)) => (format!("{call}: {}", first_sentence(answer)), dim()),
                Some(Err(err)) => (format!("{call} failed: {err}"), Style::new().fg(Color::Red)),
            };
            ("→ ", style, text, style)
        }
    }
}

/// The first sentence of a tool's answer: what happened, without the
/// advice for the model that follows it.
fn first_sentence(text: &str) -> &str {
    let text = text.trim();
    text.split_once(". ").map_or(text, |(first, _)| first)
}

/// Greedy word wrap by display width; words longer than a line are split.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_width = 0;
    for word in text.split_whitespace() {
        let word_width = word.width();
        let sep = usize::from(line_width > 0);
        if line_width + sep + word_width <= width {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            line_width += sep + word_width;
            continue;
        }
        if line_width > 0 {
            lines.push(std::mem::take(&mut line));
            line_width = 0;
        }
        for c in word.chars() {
            let w = c.width().unwrap_or(0);
            if line_width + w > width && line_width > 0 {
                lines.push(std::mem::take(&mut line));
                line_width = 0;
            }
            line.push(c);
            line_width += w;
        }
    }
    if line_width > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn draw_input(frame: &mut Frame, area: Rect, state: &DemoState, accent: Color) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(Color::DarkGray));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    // One column is kept free after the text so the cursor stays inside the
    // box; long input scrolls horizontally, showing its end.
    let room = usize::from(inner.width).saturating_sub(PROMPT.width() + 1);
    // A pasted message keeps its line breaks for the agent to read; the
    // one-line box shows them as spaces.
    let flat = state.input.replace('\n', " ");
    let shown = tail_fitting(&flat, room);
    let line = Line::from(vec![
        Span::styled(PROMPT, Style::new().fg(accent).add_modifier(Modifier::BOLD)),
        Span::raw(shown),
    ]);
    frame.render_widget(Paragraph::new(line), inner);
    let offset = u16::try_from(PROMPT.width() + shown.width()).unwrap_or(u16::MAX);
    let x = inner.x + offset.min(inner.width - 1);
    frame.set_cursor_position(Position::new(x, inner.y));
}

/// The longest suffix of `text` whose display width is at most `width`.
fn tail_fitting(text: &str, width: usize) -> &str {
    let mut used = 0;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        used += c.width().unwrap_or(0);
        if used > width {
            break;
        }
        start = i;
    }
    &text[start..]
}

fn draw_hint(frame: &mut Frame, area: Rect, state: &DemoState) {
    let mut hint = String::new();
    if !state.queued.is_empty() {
        hint = format!("{} queued · ", state.queued.len());
    }
    hint.push_str("enter to send · ctrl-c to quit");
    frame.render_widget(Paragraph::new(Line::styled(hint, dim())), area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::state::Thinking;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use std::time::Instant;

    fn render(state: &DemoState, width: u16, height: u16) -> (Vec<String>, Position) {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
        terminal.draw(|frame| draw(frame, state)).expect("draw");
        let buffer = terminal.backend().buffer().clone();
        let lines = (0..height)
            .map(|y| (0..width).map(|x| buffer[(x, y)].symbol()).collect())
            .collect();
        let cursor = terminal.get_cursor_position().expect("cursor");
        (lines, cursor)
    }

    fn sample_state() -> DemoState {
        let mut state = DemoState::new("worker");
        state.messages.push(Message {
            role: Role::User,
            text: "fix the failing test".to_owned(),
        });
        state.messages.push(Message {
            role: Role::Agent,
            text: "worker: got \"fix the failing test\". I'll start by reading the code around this, then make the smallest change that works.".to_owned(),
        });
        state.input = "next step".to_owned();
        state
    }

    #[test]
    fn render_60x15_shows_banner_conversation_and_input() {
        let (lines, cursor) = render(&sample_state(), 60, 15);
        let screen = lines.join("\n");
        assert!(lines[0].starts_with("✻ demo-agent worker"), "{screen}");
        assert!(lines[1].contains("no API key needed"), "{screen}");
        assert!(lines[4].starts_with("> fix the failing test"), "{screen}");
        assert!(
            lines[5].starts_with("● worker: got \"fix the failing test\""),
            "{screen}"
        );
        assert!(
            lines[6].starts_with("  "),
            "wrapped reply is indented: {screen}"
        );
        assert!(
            lines[11].starts_with('╭') && lines[11].ends_with('╮'),
            "{screen}"
        );
        assert!(lines[12].starts_with("│❯ next step"), "{screen}");
        assert!(lines[13].starts_with('╰'), "{screen}");
        assert!(
            lines[14].contains("enter to send · ctrl-c to quit"),
            "{screen}"
        );
        assert_eq!(cursor, Position::new(1 + 2 + 9, 12));
    }

    #[test]
    fn render_shows_spinner_while_thinking() {
        let mut state = sample_state();
        state.thinking = Some(Thinking {
            started: Instant::now(),
            reply: "x".to_owned(),
            send: None,
        });
        state.spinner_frame = 2;
        state.queued.push_back("later".to_owned());
        let (lines, _) = render(&state, 60, 15);
        assert!(
            lines.iter().any(|l| l.starts_with("⠹ thinking…")),
            "{lines:#?}"
        );
        assert!(lines[14].starts_with("1 queued"), "{lines:#?}");
    }

    #[test]
    fn render_keeps_newest_lines_at_the_bottom() {
        let mut state = DemoState::new("w");
        for i in 0..30 {
            state.messages.push(Message {
                role: Role::User,
                text: format!("message {i}"),
            });
        }
        let (lines, _) = render(&state, 60, 15);
        assert!(lines[10].starts_with("> message 29"), "{lines:#?}");
        assert!(!lines.iter().any(|l| l.contains("message 0 ")));
    }

    #[test]
    fn long_input_scrolls_and_keeps_cursor_in_box() {
        let mut state = DemoState::new("w");
        state.input = "abcdefghijklmnopqrstuvwxyz".to_owned();
        let (lines, cursor) = render(&state, 12, 8);
        assert!(lines[5].contains("uvwxyz"), "{lines:#?}");
        assert!(cursor.x < 11 && cursor.y == 5, "{cursor:?}");
    }

    #[test]
    fn tiny_terminals_do_not_panic() {
        let state = sample_state();
        for (w, h) in [(1, 1), (10, 3), (2, 2), (3, 5), (1, 20), (80, 1)] {
            render(&state, w, h);
        }
        let mut thinking = sample_state();
        thinking.thinking = Some(Thinking {
            started: Instant::now(),
            reply: "x".to_owned(),
            send: None,
        });
        render(&thinking, 1, 1);
        render(&thinking, 10, 3);
    }

    #[test]
    fn the_worker_banner_says_what_to_type_and_where_the_bridge_is() {
        let state =
            DemoState::with_peer("worker", Some("reviewer"), "bridge: loop-tui run r1".into());
        let (lines, _) = render(&state, 80, 15);
        assert!(
            lines[1].starts_with(
                "type a task, e.g. `add a --verbose flag`, and I ask reviewer to review it"
            ),
            "{lines:#?}"
        );
        assert!(
            lines[2].starts_with("bridge: loop-tui run r1"),
            "{lines:#?}"
        );
        let reviewer = DemoState::with_peer("reviewer", Some("worker"), String::new());
        let (lines, _) = render(&reviewer, 80, 15);
        assert!(
            lines[1].starts_with("I review what worker sends me"),
            "{lines:#?}"
        );
    }

    #[test]
    fn received_messages_notices_and_tool_calls_are_told_apart() {
        let mut state = DemoState::new("reviewer");
        state.messages = vec![
            Message {
                role: Role::Received {
                    id: 3,
                    from: "worker".into(),
                },
                text: "Please review: x.\nSecond line.".into(),
            },
            Message {
                role: Role::Tool {
                    call: 1,
                    target: "worker".into(),
                    result: Some(Ok("queued for human approval as #4. The human will".into())),
                },
                text: "Review of #3".into(),
            },
            Message {
                role: Role::Tool {
                    call: 2,
                    target: "worker".into(),
                    result: None,
                },
                text: "again".into(),
            },
            Message {
                role: Role::Tool {
                    call: 3,
                    target: "worker".into(),
                    result: Some(Err("this process was not started by loop-tui".into())),
                },
                text: "again".into(),
            },
            Message {
                role: Role::Notice,
                text: "[loop-tui] your message #4 to worker was rejected by the human: no".into(),
            },
        ];
        let (lines, _) = render(&state, 100, 20);
        let conversation = lines[4..12].join("\n");
        let expected = [
            "◀ message #3 from worker:",
            "  Please review: x.",
            "  Second line.",
            "→ send_message(worker): queued for human approval as #4",
            "→ send_message(worker) …",
            "→ send_message(worker) failed: this process was not started by loop-tui",
            "",
            "! [loop-tui] your message #4 to worker was rejected by the human: no",
        ];
        for (line, want) in lines[4..12].iter().zip(expected) {
            assert_eq!(line.trim_end(), want, "{conversation}");
        }
    }

    #[test]
    fn a_pasted_message_shows_on_one_line_in_the_input_box() {
        let mut state = DemoState::new("w");
        state.input = "[loop-tui] header\nbody".into();
        let (lines, _) = render(&state, 60, 15);
        assert!(
            lines[12].starts_with("│❯ [loop-tui] header body"),
            "{lines:#?}"
        );
    }

    #[test]
    fn wrap_splits_words_and_long_tokens() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefg", 3), ["abc", "def", "g"]);
        assert_eq!(wrap("", 3), [""]);
        assert_eq!(wrap("a b", 0), ["a", "b"]);
    }
}
