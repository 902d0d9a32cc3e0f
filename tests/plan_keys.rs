//! The plan pane's keys and mouse, through `update` as the app runs them:
//! focusing it (prefix p, the focus cycle, a click), scrolling it (keys
//! and the wheel), zooming it, and keys that never reach an agent while
//! it has the focus.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use crossterm::event::{
    Event as TerminalEvent, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};

use loop_tui::app::event::{AppEvent, Effect};
use loop_tui::app::state::{AppState, Mode, PaneSpec};
use loop_tui::app::update::update;
use loop_tui::layout::Zoom;
use loop_tui::pane::pty::PaneProgram;
use loop_tui::plan::load::PlanLoad;
use loop_tui::plan::markdown::parse;

fn state(agents: usize) -> AppState {
    let specs = (0..agents)
        .map(|i| PaneSpec::new(&format!("agent{i}"), PaneProgram::Shell("true".into())))
        .collect();
    let mut s = AppState::new(specs, (160, 48), 100);
    let long: String = (1..=100).fold(String::new(), |text, i| text + &format!("- step {i}\n"));
    update(
        &mut s,
        AppEvent::PlanChanged(PlanLoad::Loaded(parse(&long))),
        Instant::now(),
    );
    s
}

fn send(s: &mut AppState, event: TerminalEvent) -> Vec<Effect> {
    update(s, AppEvent::Terminal(event), Instant::now())
}

fn key(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    send(
        s,
        TerminalEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)),
    )
}

fn prefix(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    send(
        s,
        TerminalEvent::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)),
    );
    key(s, code)
}

fn mouse(s: &mut AppState, kind: MouseEventKind, column: u16, row: u16) -> Vec<Effect> {
    send(
        s,
        TerminalEvent::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }),
    )
}

/// Which pane has the focus, by name.
fn focus(s: &AppState) -> String {
    if s.bridge.focused {
        "bridge".into()
    } else if s.plan.focused {
        "plan".into()
    } else {
        format!("agent{}", s.focused)
    }
}

#[test]
fn the_focus_cycles_agents_bridge_plan_and_prefix_p_jumps_to_the_plan() {
    let mut s = state(2);
    let mut seen = vec![focus(&s)];
    for _ in 0..4 {
        prefix(&mut s, KeyCode::Char('o'));
        seen.push(focus(&s));
    }
    assert_eq!(seen, ["agent0", "agent1", "bridge", "plan", "agent0"]);
    prefix(&mut s, KeyCode::Left);
    assert_eq!(focus(&s), "plan", "backwards from the first agent");
    prefix(&mut s, KeyCode::Char('1'));
    prefix(&mut s, KeyCode::Char('p'));
    assert_eq!(focus(&s), "plan");
    assert_eq!(s.focused_agent(), None);
    prefix(&mut s, KeyCode::Char('b'));
    assert_eq!(focus(&s), "bridge");
    assert!(!s.plan.focused, "one pane has the focus at a time");
}

#[test]
fn keys_scroll_the_focused_plan_and_never_reach_an_agent() {
    let mut s = state(2);
    prefix(&mut s, KeyCode::Char('p'));
    let mut effects = Vec::new();
    for code in [
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::Down,
        KeyCode::Char('k'),
    ] {
        effects.extend(key(&mut s, code));
    }
    assert_eq!(s.plan.scroll, 2);
    effects.extend(key(&mut s, KeyCode::PageDown));
    // The plan pane at 160x48 is 14 rows, 12 of text: a page is 11.
    assert_eq!(s.plan.scroll, 13);
    effects.extend(key(&mut s, KeyCode::Char('G')));
    assert_eq!(s.plan.scroll, 100 - 12);
    effects.extend(key(&mut s, KeyCode::PageUp));
    assert_eq!(s.plan.scroll, 100 - 12 - 11);
    effects.extend(key(&mut s, KeyCode::Home));
    assert_eq!(s.plan.scroll, 0);
    effects.extend(key(&mut s, KeyCode::Char('x')));
    assert!(
        effects.is_empty(),
        "nothing is sent to an agent: {effects:?}"
    );
    assert!(
        s.notice.as_deref().is_some_and(|n| n.contains("plan keys")),
        "an unbound key says what the plan keys are"
    );
    prefix(&mut s, KeyCode::Char('['));
    assert_eq!(s.mode, Mode::Normal, "scroll mode is for agent panes");
}

#[test]
fn zoom_gives_the_plan_the_whole_screen_and_the_focus_cycle_moves_it() {
    let mut s = state(2);
    prefix(&mut s, KeyCode::Char('p'));
    prefix(&mut s, KeyCode::Char('z'));
    assert_eq!(s.zoom(), Some(Zoom::Plan));
    let layout = s.frame_layout();
    assert_eq!(layout.plan.map(|r| (r.width, r.height)), Some((160, 47)));
    assert_eq!((layout.bridge, layout.panes), (None, vec![None, None]));
    // Zoomed, the next pane takes the whole screen in turn.
    prefix(&mut s, KeyCode::Char('o'));
    assert_eq!(s.zoom(), Some(Zoom::Pane(0)));
    prefix(&mut s, KeyCode::Char('z'));
    assert_eq!(s.zoom(), None);
}

#[test]
fn a_click_focuses_the_plan_and_the_wheel_scrolls_it_focused_or_not() {
    let mut s = state(2);
    let plan = s.frame_layout().plan.unwrap();
    let (x, y) = (plan.x + 5, plan.y + 3);
    mouse(&mut s, MouseEventKind::ScrollDown, x, y);
    assert_eq!(s.plan.scroll, 3);
    assert_eq!(
        focus(&s),
        "agent0",
        "the wheel alone does not move the focus"
    );
    mouse(&mut s, MouseEventKind::ScrollUp, x, y);
    assert_eq!(s.plan.scroll, 0);
    let fx = mouse(&mut s, MouseEventKind::Down(MouseButton::Left), x, y);
    assert!(fx.is_empty());
    assert_eq!(focus(&s), "plan");
    let bridge = s.frame_layout().bridge.unwrap();
    mouse(
        &mut s,
        MouseEventKind::Down(MouseButton::Left),
        bridge.x + 1,
        bridge.y + 1,
    );
    assert_eq!(focus(&s), "bridge");
}

#[test]
fn one_agent_has_no_plan_pane() {
    let mut s = state(1);
    assert!(!s.plan.shown);
    assert_eq!(s.frame_layout().plan, None);
    prefix(&mut s, KeyCode::Char('p'));
    assert_eq!(focus(&s), "agent0");
    assert!(s
        .notice
        .as_deref()
        .is_some_and(|n| n.contains("two or more agents")));
}
