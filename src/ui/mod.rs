//! Rendering only: every frame is drawn from `&AppState`.

pub mod bridge_view;
mod overlay;
pub mod plan_view;
mod presenter;
mod status_bar;
pub mod term_view;

pub use presenter::Presenter;

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Widget};
use ratatui::Frame;

use crate::app::state::{AppState, BridgeStatus, ChildState, Mode, PaneState};
use crate::config::Colour;
use crate::layout::inner;
use crate::pane::emulator::Emulator;

/// The default accent of the focused pane's border and of mode
/// indicators; draw with [`accent`] so the configured theme applies.
pub const ACCENT: Color = Color::Cyan;

/// A theme colour as ratatui draws it.
pub fn colour(c: Colour) -> Color {
    match c {
        Colour::Black => Color::Black,
        Colour::Red => Color::Red,
        Colour::Green => Color::Green,
        Colour::Yellow => Color::Yellow,
        Colour::Blue => Color::Blue,
        Colour::Magenta => Color::Magenta,
        Colour::Cyan => Color::Cyan,
        Colour::Gray => Color::Gray,
        Colour::DarkGray => Color::DarkGray,
        Colour::LightRed => Color::LightRed,
        Colour::LightGreen => Color::LightGreen,
        Colour::LightYellow => Color::LightYellow,
        Colour::LightBlue => Color::LightBlue,
        Colour::LightMagenta => Color::LightMagenta,
        Colour::LightCyan => Color::LightCyan,
        Colour::White => Color::White,
        Colour::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

/// The accent colour of the configured theme.
pub fn accent(state: &AppState) -> Color {
    colour(state.theme.accent)
}

/// The border every pane shares: thick and in the accent colour when
/// focused, else plain in `unfocused` (which says what the pane wants).
pub(crate) fn pane_block<'a>(state: &AppState, focused: bool, unfocused: Style) -> Block<'a> {
    Block::new()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused {
            Style::new().fg(accent(state)).add_modifier(Modifier::BOLD)
        } else {
            unfocused
        })
}

/// Draws a whole frame into a ratatui frame (tests and benchmarks use this
/// with `Terminal::draw`; loop-tui itself presents through [`Presenter`]).
pub fn draw(frame: &mut Frame, state: &AppState) {
    if let Some(cursor) = render(frame.buffer_mut(), state) {
        frame.set_cursor_position(cursor);
    }
}

/// Draws a whole frame into `buf`, which starts blank; returns where the
/// terminal's cursor goes, if it is shown.
pub fn render(buf: &mut Buffer, state: &AppState) -> Option<Position> {
    let layout = state.frame_layout();
    let mut cursor = None;
    for (index, rect) in layout.panes.iter().enumerate() {
        if let Some(rect) = rect {
            cursor = cursor.or(draw_pane(buf, state, index, *rect));
        }
    }
    if let Some(rect) = layout.bridge {
        bridge_view::render(state, rect, buf);
    }
    if let Some(rect) = layout.plan {
        plan_view::render(state, rect, buf);
    }
    status_bar::draw(buf, state, layout.status_bar);
    match state.mode {
        Mode::Help => overlay::help(buf, state),
        Mode::ConfirmQuit => overlay::confirm_quit(buf, state),
        Mode::Edit => overlay::editor(buf, state),
        _ => {}
    }
    cursor
}

/// Draws pane `index` with its border into `rect`; returns the cursor
/// position if this pane shows the terminal's cursor.
fn draw_pane(buf: &mut Buffer, state: &AppState, index: usize, rect: Rect) -> Option<Position> {
    let pane = &state.panes[index];
    let focused = state.focused_agent() == Some(index);
    let emulator = pane.screen.lock();
    let offset = emulator.scroll_offset();
    let unfocused = if pane.attention {
        Style::new()
            .fg(colour(state.theme.attention))
            .add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    let mut block = pane_block(state, focused, unfocused).title(pane_title(
        state,
        pane,
        index,
        focused,
        state.zoomed && state.panes.len() > 1,
        emulator.title(),
    ));
    if offset > 0 {
        block = block.title_bottom(
            Line::from(format!(
                " scrolled back {offset}/{} lines ",
                emulator.scrollback_len()
            ))
            .right_aligned()
            .style(Style::new().fg(Color::Black).bg(Color::Yellow)),
        );
    }
    let area = inner(rect);
    block.render(rect, buf);
    term_view::render(&**emulator, area, buf);
    pane_cursor(state, index, area, &**emulator)
}

/// Where the terminal's cursor goes for pane `index` drawn in `area`: only
/// the focused pane shows its child's cursor, and only in normal mode.
pub(crate) fn pane_cursor(
    state: &AppState,
    index: usize,
    area: Rect,
    emulator: &dyn Emulator,
) -> Option<Position> {
    let cursor = emulator.cursor();
    (state.focused_agent() == Some(index)
        && state.mode == Mode::Normal
        && cursor.visible
        && cursor.row < area.height
        && cursor.col < area.width)
        .then(|| Position::new(area.x + cursor.col, area.y + cursor.row))
}

fn pane_title<'a>(
    state: &AppState,
    pane: &'a PaneState,
    index: usize,
    focused: bool,
    zoomed: bool,
    osc_title: &str,
) -> Line<'a> {
    let name_style = if focused {
        Style::new()
            .fg(Color::Black)
            .bg(accent(state))
            .add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Gray)
    };
    let theme = &state.theme;
    let state_style = match &pane.child {
        ChildState::Running if pane.attention => Style::new()
            .fg(Color::Black)
            .bg(colour(theme.attention))
            .add_modifier(Modifier::BOLD),
        ChildState::Running if pane.working => Style::new().fg(colour(theme.working)),
        ChildState::Running | ChildState::Ended(crate::pane::ChildEnd::Exited(0)) => {
            Style::new().fg(colour(theme.waiting))
        }
        _ => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    };
    let mut name = format!(" {} {} ", index + 1, pane.spec.title);
    if zoomed {
        name.push_str("· zoomed ");
    }
    if !osc_title.is_empty() && osc_title != pane.spec.title {
        let _ = write!(name, "· {} ", sanitize_title(osc_title));
    }
    let mut spans = vec![
        Span::styled(name, name_style),
        Span::styled(format!(" {} ", pane.activity_label()), state_style),
    ];
    match state.bridge_status(index) {
        BridgeStatus::Unknown => {}
        BridgeStatus::Up => spans.push(Span::styled("bridge✓ ", Style::new().fg(Color::Green))),
        // The agent cannot send messages: as loud as an ended program.
        BridgeStatus::Down => spans.push(Span::styled(
            "bridge✗ ",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
    }
    Line::from(spans)
}

/// A title set by a child is drawn in our border: keep it to one line of
/// printable text.
fn sanitize_title(title: &str) -> String {
    title.chars().filter(|c| !c.is_control()).take(60).collect()
}
