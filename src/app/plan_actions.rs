//! The plan pane's part of `update`: a new read of PLAN.md, the end of its
//! change highlight, and the keys, clicks and wheel that focus and scroll
//! it.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};

use super::event::Effect;
use super::state::AppState;
use super::update::WHEEL_LINES;
use crate::layout::{inner, FrameLayout};
use crate::plan::load::PlanLoad;
use crate::plan::{PlanScroll, GUTTER};

/// What the plan pane's keys are, for the hint when another key is typed.
pub const PLAN_KEYS: &str = "plan keys: j/k ↑/↓ scroll · PgUp/PgDn page · g/G top/bottom";

/// A new read of the plan file arrived from the watcher.
pub fn on_changed(state: &mut AppState, load: PlanLoad, now: Instant) {
    if state.plan.apply(load, now) {
        state.needs_redraw = true;
    }
}

/// The timer: ends the change highlight when its time is up.
pub fn expire(state: &mut AppState, now: Instant) {
    if state.plan.expire(now) {
        state.needs_redraw = true;
    }
}

/// Gives the plan pane the focus (the caller re-lays out when zoomed).
pub fn focus(state: &mut AppState) {
    state.plan.focused = true;
    state.bridge.focused = false;
    state.needs_redraw = true;
}

/// Keys while the plan pane has the focus.
pub fn on_key(state: &mut AppState, key: &KeyEvent) -> Vec<Effect> {
    let page = view_size(state).map_or(1, |(_, height)| height.saturating_sub(1).max(1));
    let by = match key.code {
        KeyCode::Char('j') | KeyCode::Down => PlanScroll::Down(1),
        KeyCode::Char('k') | KeyCode::Up => PlanScroll::Up(1),
        KeyCode::PageDown | KeyCode::Char(' ') => PlanScroll::Down(page),
        KeyCode::PageUp => PlanScroll::Up(page),
        KeyCode::Char('g') | KeyCode::Home => PlanScroll::Top,
        KeyCode::Char('G') | KeyCode::End => PlanScroll::Bottom,
        KeyCode::Esc => return Vec::new(),
        _ => {
            state.notice = Some(PLAN_KEYS.into());
            state.needs_redraw = true;
            return Vec::new();
        }
    };
    scroll(state, by);
    Vec::new()
}

/// A click on the plan pane focuses it; the wheel over it scrolls it.
/// `None` when the mouse is not over the plan pane.
pub fn on_mouse(
    state: &mut AppState,
    layout: &FrameLayout,
    mouse: &MouseEvent,
) -> Option<Vec<Effect>> {
    let rect = layout.plan?;
    if !rect.contains((mouse.column, mouse.row).into()) {
        return None;
    }
    match mouse.kind {
        MouseEventKind::Down(_) => focus(state),
        MouseEventKind::ScrollUp => scroll(state, PlanScroll::Up(WHEEL_LINES)),
        MouseEventKind::ScrollDown => scroll(state, PlanScroll::Down(WHEEL_LINES)),
        _ => {}
    }
    Some(Vec::new())
}

/// The plan's text area in the current layout: columns beside the change
/// gutter, and rows. `None` while the pane is not on screen.
pub fn view_size(state: &AppState) -> Option<(usize, usize)> {
    let area = inner(state.frame_layout().plan?);
    Some((
        usize::from(area.width).saturating_sub(GUTTER),
        usize::from(area.height),
    ))
}

/// Keeps the plan wrapped to the width it is drawn at, after any event
/// that may have changed the plan or the layout.
pub fn wrap_rows(state: &mut AppState) {
    if let Some((width, _)) = view_size(state) {
        state.plan.wrap_to(width);
    }
}

fn scroll(state: &mut AppState, by: PlanScroll) {
    let Some((width, height)) = view_size(state) else {
        return;
    };
    let total = state.plan.rows(width).len();
    state.plan.scroll(by, total, height);
    state.needs_redraw = true;
}
