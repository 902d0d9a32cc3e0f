//! The decisions: `update(state, event) -> effects`, with no I/O, so every
//! key binding and mode change is tested without a terminal or a child.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{
    Event as TerminalEvent, KeyCode, KeyEvent, KeyEventKind, MouseEvent, MouseEventKind,
};

use super::event::{AppEvent, Effect, ScrollAction};
use super::state::{AppState, BridgeLink, ChildState, EditPurpose, Mode, WORKING_WINDOW};
use super::{delivery, editor, plan_actions, relay_actions, workflow};
use crate::keymap::Command;
use crate::layout::inner;
use crate::pane::input::{encode_mouse, encode_paste, KeyEncoder};
use crate::pane::pty::PtyEvent;

/// How long a burst of terminal resizes must be quiet before the PTYs are
/// resized: window managers send dozens of sizes while the user drags, and
/// each PTY resize makes the agent redraw everything.
pub const RESIZE_SETTLE: Duration = Duration::from_millis(40);

/// Lines one mouse-wheel step scrolls, as in most terminals.
pub const WHEEL_LINES: usize = 3;

pub fn update(state: &mut AppState, event: AppEvent, now: Instant) -> Vec<Effect> {
    let mut effects = match event {
        AppEvent::Terminal(TerminalEvent::Key(key)) => {
            if key.kind == KeyEventKind::Release {
                return on_release(state, &key, now);
            }
            // Until the press reaches a pane, loop-tui owns it, and the
            // release of a key loop-tui acted on must not reach a pane.
            state.swallow_release = Some(key.code);
            on_key(state, &key, now)
        }
        AppEvent::Terminal(TerminalEvent::Paste(text)) => on_paste(state, &text, now),
        AppEvent::Terminal(TerminalEvent::Mouse(mouse)) => on_mouse(state, mouse),
        AppEvent::Terminal(TerminalEvent::Resize(cols, rows)) => {
            state.term_size = (cols, rows);
            state.resize_due = Some(now + RESIZE_SETTLE);
            state.needs_redraw = true;
            Vec::new()
        }
        AppEvent::Terminal(_) => Vec::new(),
        AppEvent::Pty(PtyEvent::Output { pane, generation }) => {
            on_output(state, pane, generation, now);
            Vec::new()
        }
        AppEvent::Pty(PtyEvent::Exited {
            pane,
            generation,
            end,
            ended_at,
        }) => {
            let Some(p) = state
                .panes
                .get_mut(pane)
                .filter(|p| p.generation == generation)
            else {
                return Vec::new();
            };
            p.screen.take_dirty();
            state.notice = Some(format!("pane {} {end}", pane + 1));
            p.child = ChildState::Ended(end);
            p.working = false;
            // A message still between paste and Enter stays approved and
            // is typed into the restarted program.
            p.delivery = None;
            // Its bridge processes go with it; a restart starts afresh.
            p.bridge_link = BridgeLink::default();
            state.needs_redraw = true;
            delivery::doubt_last_enter(state, pane, ended_at)
        }
        AppEvent::Bridge(request) => relay_actions::on_request(state, request),
        AppEvent::BridgePresenceEnded { agent, connection } => {
            relay_actions::on_presence_ended(state, &agent, connection);
            Vec::new()
        }
        AppEvent::BridgeSocket(change) => {
            relay_actions::on_socket(state, change);
            Vec::new()
        }
        AppEvent::Signal(_) => return quit(state),
        AppEvent::PlanChanged(load) => {
            plan_actions::on_changed(state, load, now);
            Vec::new()
        }
        // Only the current child's session counts: a restarted pane has a new one.
        AppEvent::SessionFound {
            pane,
            generation,
            session,
        } => state
            .panes
            .get(pane)
            .filter(|p| p.generation == generation)
            .map(|p| {
                vec![Effect::RecordSession {
                    agent: p.spec.name.clone(),
                    session,
                }]
            })
            .unwrap_or_default(),
        AppEvent::Timer => {
            let mut effects = expire_activity(state, now);
            plan_actions::expire(state, now);
            if state.resize_due.is_some_and(|due| due <= now) {
                state.resize_due = None;
                effects.extend(apply_layout(state));
            }
            effects
        }
    };
    if !state.quitting {
        effects.extend(delivery::pump(state, now));
    }
    plan_actions::wrap_rows(state);
    effects
}

/// The earliest time `update` wants an [`AppEvent::Timer`].
pub fn next_deadline(state: &AppState, now: Instant) -> Option<Instant> {
    let working_ends = state
        .panes
        .iter()
        .filter(|p| p.working)
        .filter_map(|p| p.last_output.map(|t| t + WORKING_WINDOW));
    [
        state.resize_due,
        delivery::next_deadline(state, now),
        state.plan.highlight_until,
    ]
    .into_iter()
    .flatten()
    .chain(working_ends)
    .min()
}

/// A pane printed something: it is working, and a bell asks for attention.
fn on_output(state: &mut AppState, pane: usize, generation: u32, now: Instant) {
    let focused = state.focused_agent() == Some(pane);
    let Some(p) = state
        .panes
        .get_mut(pane)
        .filter(|p| p.generation == generation)
    else {
        return;
    };
    p.screen.take_dirty();
    p.last_output = Some(now);
    let border_changes = !p.working;
    p.working = true;
    if p.screen.lock().take_bell() && !focused && !p.attention {
        p.attention = true;
        state.needs_redraw = true;
    }
    // While the border says "working" already, output changes nothing but
    // the pane's rows, which a frame can redraw alone.
    if border_changes {
        state.needs_redraw = true;
    } else {
        state.pane_output = true;
    }
}

/// Panes quiet for [`WORKING_WINDOW`] are waiting for the human; an
/// unfocused one that just became so is highlighted until focused.
fn expire_activity(state: &mut AppState, now: Instant) -> Vec<Effect> {
    let focused = state.focused_agent();
    let mut quiet = Vec::new();
    for (index, pane) in state.panes.iter_mut().enumerate() {
        if pane.working && pane.last_output.is_none_or(|t| t + WORKING_WINDOW <= now) {
            pane.working = false;
            if focused != Some(index) && pane.child == ChildState::Running {
                pane.attention = true;
            }
            state.needs_redraw = true;
            quiet.push(index);
        }
    }
    // A turn ended: the worker may have printed the done signal.
    quiet
        .into_iter()
        .flat_map(|index| workflow::on_worker_quiet(state, index))
        .collect()
}

fn quit(state: &mut AppState) -> Vec<Effect> {
    state.quitting = true;
    vec![Effect::Quit]
}

fn on_key(state: &mut AppState, key: &KeyEvent, now: Instant) -> Vec<Effect> {
    // A notice answers the previous action; the next key makes it stale.
    if state.notice.take().is_some() {
        state.needs_redraw = true;
    }
    match state.mode {
        Mode::Normal => {
            if state.keymap.is_prefix(key) {
                state.mode = Mode::Prefix;
                state.needs_redraw = true;
                return Vec::new();
            }
            if state.bridge.focused {
                return bridge_key(state, key);
            }
            if state.plan.focused {
                return plan_actions::on_key(state, key);
            }
            send_key(state, key, now)
        }
        Mode::Prefix => {
            state.mode = Mode::Normal;
            state.needs_redraw = true;
            if let Some(command) = state.keymap.after_prefix(key) {
                run_command(state, command, now)
            } else {
                if key.code != KeyCode::Esc {
                    state.notice = Some(format!(
                        "{} {} is not bound; {} ? lists the keys",
                        state.keymap.prefix_name(),
                        key_name(key),
                        state.keymap.prefix_name()
                    ));
                }
                Vec::new()
            }
        }
        Mode::Scroll => on_scroll_key(state, key),
        Mode::Help => {
            state.mode = Mode::Normal;
            state.needs_redraw = true;
            Vec::new()
        }
        Mode::ConfirmQuit => {
            state.needs_redraw = true;
            if matches!(key.code, KeyCode::Char('y' | 'Y') | KeyCode::Enter) {
                quit(state)
            } else {
                state.mode = Mode::Normal;
                Vec::new()
            }
        }
        Mode::Edit => editor::on_key(state, key),
    }
}

/// Keys while the bridge pane has the focus.
fn bridge_key(state: &mut AppState, key: &KeyEvent) -> Vec<Effect> {
    state.needs_redraw = true;
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => move_selection(state, 1),
        KeyCode::Char('k') | KeyCode::Up => move_selection(state, -1),
        KeyCode::Enter | KeyCode::Char('a') => {
            if let Some(id) = relay_actions::selected_pending(state) {
                return relay_actions::approve(state, id);
            }
        }
        KeyCode::Char('e') => {
            if let Some(id) = relay_actions::selected_pending(state) {
                relay_actions::open_editor(state, EditPurpose::Edit(id));
            }
        }
        KeyCode::Char('x') => {
            if let Some(id) = relay_actions::selected_pending(state) {
                relay_actions::open_editor(state, EditPurpose::Reject(id));
            }
        }
        KeyCode::Char('m') => {
            relay_actions::open_editor(state, EditPurpose::Compose { target: None });
        }
        KeyCode::Char('A') => return relay_actions::toggle_auto(state),
        KeyCode::Char('D') => return relay_actions::toggle_auto_direction(state),
        KeyCode::Char(' ') => return relay_actions::toggle_pause(state),
        KeyCode::Esc => {}
        _ => {
            state.notice = Some(
                "bridge keys: j/k select · Enter approve · e edit · x reject · m write · A auto · D auto this direction · space pause".into(),
            );
        }
    }
    Vec::new()
}

/// Moves the selection `by` messages (positive = newer).
fn move_selection(state: &mut AppState, by: isize) {
    let messages = state.relay.messages();
    if messages.is_empty() {
        return;
    }
    let current = state
        .bridge
        .selected
        .and_then(|id| messages.iter().position(|m| m.id == id))
        .unwrap_or(messages.len() - 1);
    let next = current.saturating_add_signed(by).min(messages.len() - 1);
    state.bridge.selected = Some(messages[next].id);
}

fn key_name(key: &KeyEvent) -> String {
    match key.code {
        KeyCode::Char(c) => c.to_string(),
        other => format!("{other:?}"),
    }
}

fn send_key(state: &mut AppState, key: &KeyEvent, now: Instant) -> Vec<Effect> {
    let Some(index) = state.focused_agent() else {
        return Vec::new();
    };
    state.swallow_release = None;
    let modes = state.panes[index].screen.lock().input_modes();
    if state.panes[index].spec.shift_enter_as_esc_cr
        && key.code == KeyCode::Enter
        && key.modifiers == crossterm::event::KeyModifiers::SHIFT
        && key.kind != KeyEventKind::Release
        && modes.keyboard.bits() == 0
    {
        return human_input(state, index, b"\x1b\r".to_vec(), now);
    }
    KeyEncoder::encode(key, &modes)
        .map(|bytes| human_input(state, index, bytes, now))
        .unwrap_or_default()
}

/// A key release (only reported by terminals speaking the kitty keyboard
/// protocol): it goes to the focused pane in normal mode, where the
/// encoder sends it only if the child asked for event types, unless
/// loop-tui acted on its press.
fn on_release(state: &mut AppState, key: &KeyEvent, now: Instant) -> Vec<Effect> {
    if state.swallow_release == Some(key.code) {
        state.swallow_release = None;
        return Vec::new();
    }
    if state.mode != Mode::Normal || state.keymap.is_prefix(key) {
        return Vec::new();
    }
    let Some(index) = state.focused_agent() else {
        return Vec::new();
    };
    let modes = state.panes[index].screen.lock().input_modes();
    KeyEncoder::encode(key, &modes)
        .map(|bytes| human_input(state, index, bytes, now))
        .unwrap_or_default()
}

/// Input from the human for pane `index`: held back while a delivery is
/// between its paste and its Enter, so the two never interleave.
fn human_input(state: &mut AppState, index: usize, bytes: Vec<u8>, now: Instant) -> Vec<Effect> {
    let pane = &mut state.panes[index];
    pane.last_input = Some(now);
    if pane.delivery.is_some() {
        pane.held_input.extend(bytes);
        return Vec::new();
    }
    vec![Effect::SendInput { pane: index, bytes }]
}

fn on_paste(state: &mut AppState, text: &str, now: Instant) -> Vec<Effect> {
    if state.mode == Mode::Edit {
        editor::on_paste(state, text);
        return Vec::new();
    }
    if state.mode != Mode::Normal {
        return Vec::new();
    }
    let Some(index) = state.focused_agent() else {
        return Vec::new();
    };
    let modes = state.panes[index].screen.lock().input_modes();
    human_input(state, index, encode_paste(text, &modes), now)
}

fn run_command(state: &mut AppState, command: Command, now: Instant) -> Vec<Effect> {
    let count = state.panes.len();
    // Focus cycles through the agents, then the bridge pane, then the plan.
    let slots = count + usize::from(state.bridge.shown) + usize::from(state.plan.shown);
    let slot = if state.bridge.focused {
        count
    } else if state.plan.focused {
        count + usize::from(state.bridge.shown)
    } else {
        state.focused
    };
    match command {
        Command::FocusNext | Command::FocusPrev | Command::FocusPane(_) if count == 0 => Vec::new(),
        Command::FocusNext => focus_slot(state, (slot + 1) % slots),
        Command::FocusPrev => focus_slot(state, (slot + slots - 1) % slots),
        Command::FocusBridge => {
            if state.bridge.shown {
                focus_slot(state, count)
            } else {
                state.notice = Some("the bridge pane needs two or more agents".into());
                Vec::new()
            }
        }
        Command::FocusPlan => {
            if state.plan.shown {
                focus_slot(state, slots - 1)
            } else {
                state.notice = Some("the plan pane needs two or more agents".into());
                Vec::new()
            }
        }
        Command::ApproveOldest => match relay_actions::oldest_pending(state) {
            Some(id) => relay_actions::approve(state, id),
            None => Vec::new(),
        },
        Command::RejectOldest => {
            if let Some(id) = relay_actions::oldest_pending(state) {
                relay_actions::open_editor(state, EditPurpose::Reject(id));
            }
            Vec::new()
        }
        Command::EditOldest => {
            if let Some(id) = relay_actions::oldest_pending(state) {
                relay_actions::open_editor(state, EditPurpose::Edit(id));
            }
            Vec::new()
        }
        Command::Compose => {
            let target = state.focused_agent();
            relay_actions::open_editor(state, EditPurpose::Compose { target });
            Vec::new()
        }
        Command::FocusPane(index) => {
            if index < count {
                focus(state, index)
            } else {
                state.notice = Some(format!("there is no pane {}", index + 1));
                Vec::new()
            }
        }
        Command::ToggleZoom => {
            state.zoomed = !state.zoomed;
            apply_layout(state)
        }
        Command::EnterScroll | Command::Restart if state.focused_agent().is_none() => {
            state.notice = Some("focus an agent pane first (o, or 1-9)".into());
            Vec::new()
        }
        Command::EnterScroll => {
            state.mode = Mode::Scroll;
            Vec::new()
        }
        Command::Restart => restart(state, now),
        Command::Quit => {
            if state.running_count() > 0 {
                state.mode = Mode::ConfirmQuit;
                Vec::new()
            } else {
                quit(state)
            }
        }
        Command::Help => {
            state.mode = Mode::Help;
            Vec::new()
        }
        // Encoded like any typed key, so a configured prefix (C-b, F12)
        // reaches the pane as the bytes that key sends.
        Command::SendPrefix => {
            let key = state.keymap.prefix_event();
            send_key(state, &key, now)
        }
    }
}

/// Focuses agent pane `slot`; past the agents come the bridge pane and
/// then the plan pane, each when shown.
fn focus_slot(state: &mut AppState, slot: usize) -> Vec<Effect> {
    let count = state.panes.len();
    if slot >= count {
        if slot == count && state.bridge.shown {
            state.bridge.focused = true;
            state.plan.focused = false;
        } else {
            plan_actions::focus(state);
        }
        state.needs_redraw = true;
        return if state.zoomed {
            apply_layout(state)
        } else {
            Vec::new()
        };
    }
    focus(state, slot)
}

fn focus(state: &mut AppState, index: usize) -> Vec<Effect> {
    state.focused = index;
    state.bridge.focused = false;
    state.plan.focused = false;
    if let Some(pane) = state.panes.get_mut(index) {
        pane.attention = false;
    }
    state.needs_redraw = true;
    // The zoomed view follows the focus, so the zoomed pane's size moves.
    if state.zoomed {
        apply_layout(state)
    } else {
        Vec::new()
    }
}

fn restart(state: &mut AppState, now: Instant) -> Vec<Effect> {
    let index = state.focused;
    let Some(size) = state.panes.get(index).map(|p| p.size) else {
        return Vec::new();
    };
    let screen = Arc::new(state.new_screen(size));
    let pane = &mut state.panes[index];
    if pane.child == ChildState::Running {
        state.notice = Some(format!(
            "pane {} is still running; r restarts it after its program exits",
            index + 1
        ));
        return Vec::new();
    }
    pane.generation += 1;
    pane.screen = screen;
    pane.child = ChildState::Running;
    pane.started_at = now;
    state.notice = Some(format!("pane {} restarted", index + 1));
    vec![Effect::Spawn { pane: index }]
}

/// Gives every pane the size the current layout assigns it; only real
/// changes produce an effect.
fn apply_layout(state: &mut AppState) -> Vec<Effect> {
    state.needs_redraw = true;
    let count = state.panes.len();
    let mut effects = Vec::new();
    for index in 0..count {
        let size = state.layout_size(index, count);
        let pane = &mut state.panes[index];
        if size != pane.size {
            pane.size = size;
            effects.push(Effect::Resize { pane: index, size });
        }
    }
    effects
}

fn on_scroll_key(state: &mut AppState, key: &KeyEvent) -> Vec<Effect> {
    let Some(pane) = state.focused_agent() else {
        state.mode = Mode::Normal;
        return Vec::new();
    };
    let page = state
        .panes
        .get(pane)
        .map_or(1, |p| usize::from(p.size.rows.saturating_sub(1)).max(1));
    let action = match key.code {
        KeyCode::PageUp => ScrollAction::Back(page),
        KeyCode::PageDown => ScrollAction::Forward(page),
        KeyCode::Up | KeyCode::Char('k') => ScrollAction::Back(1),
        KeyCode::Down | KeyCode::Char('j') => ScrollAction::Forward(1),
        KeyCode::Char('g') | KeyCode::Home => ScrollAction::Top,
        KeyCode::Char('G') | KeyCode::End => ScrollAction::Live,
        KeyCode::Char('q') | KeyCode::Esc => {
            state.mode = Mode::Normal;
            ScrollAction::Live
        }
        _ => return Vec::new(),
    };
    state.needs_redraw = true;
    vec![Effect::Scroll { pane, action }]
}

fn on_mouse(state: &mut AppState, mouse: MouseEvent) -> Vec<Effect> {
    let layout = state.frame_layout();
    if let Some(effects) = plan_actions::on_mouse(state, &layout, &mouse) {
        return effects;
    }
    if matches!(mouse.kind, MouseEventKind::Down(_))
        && layout
            .bridge
            .is_some_and(|r| r.contains((mouse.column, mouse.row).into()))
    {
        state.bridge.focused = true;
        state.plan.focused = false;
        state.needs_redraw = true;
        return Vec::new();
    }
    let hit = layout.panes.iter().enumerate().find_map(|(i, rect)| {
        rect.filter(|r| r.contains((mouse.column, mouse.row).into()))
            .map(|r| (i, r))
    });
    let Some((index, rect)) = hit else {
        return Vec::new();
    };
    if matches!(mouse.kind, MouseEventKind::Down(_)) && state.focused_agent() != Some(index) {
        focus(state, index);
    }
    let area = inner(rect);
    let pane = &state.panes[index];
    let (modes, live) = {
        let emulator = pane.screen.lock();
        (emulator.input_modes(), emulator.scroll_offset() == 0)
    };
    if state.mode == Mode::Normal
        && live
        && pane.child == ChildState::Running
        && area.contains((mouse.column, mouse.row).into())
    {
        if let Some(bytes) = encode_mouse(&mouse, mouse.column - area.x, mouse.row - area.y, &modes)
        {
            return vec![Effect::SendInput { pane: index, bytes }];
        }
        if modes.mouse_mode != crate::pane::emulator::MouseMode::None {
            return Vec::new();
        }
    }
    let action = match mouse.kind {
        MouseEventKind::ScrollUp => ScrollAction::Back(WHEEL_LINES),
        MouseEventKind::ScrollDown => ScrollAction::Forward(WHEEL_LINES),
        _ => return Vec::new(),
    };
    state.needs_redraw = true;
    vec![Effect::Scroll {
        pane: index,
        action,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::PaneSpec;
    use crate::pane::emulator::PaneSize;
    use crate::pane::pty::PaneProgram;
    use crate::pane::ChildEnd;
    use crossterm::event::{KeyModifiers, MouseButton};

    /// `n` panes without the bridge and plan panes, so sizes are the
    /// plain grid's.
    fn state(n: usize) -> AppState {
        let specs = (0..n)
            .map(|i| PaneSpec::new(&format!("p{i}"), PaneProgram::Shell("true".into())))
            .collect();
        let mut s = AppState::new(specs, (200, 50), 100);
        s.bridge.shown = false;
        s.plan.shown = false;
        for i in 0..n {
            s.panes[i].size = s.layout_size(i, n);
        }
        s
    }

    fn key(code: KeyCode) -> AppEvent {
        AppEvent::Terminal(TerminalEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn prefix() -> AppEvent {
        AppEvent::Terminal(TerminalEvent::Key(KeyEvent::new(
            KeyCode::Char(']'),
            KeyModifiers::CONTROL,
        )))
    }

    fn run(s: &mut AppState, events: Vec<AppEvent>) -> Vec<Effect> {
        let now = Instant::now();
        events.into_iter().flat_map(|e| update(s, e, now)).collect()
    }

    #[test]
    fn keys_go_to_the_focused_pane_and_prefix_moves_focus() {
        let mut s = state(2);
        let fx = run(&mut s, vec![key(KeyCode::Char('a'))]);
        assert_eq!(
            fx,
            vec![Effect::SendInput {
                pane: 0,
                bytes: b"a".to_vec()
            }]
        );
        let fx = run(
            &mut s,
            vec![prefix(), key(KeyCode::Char('o')), key(KeyCode::Char('b'))],
        );
        assert_eq!(s.focused, 1);
        assert_eq!(
            fx,
            vec![Effect::SendInput {
                pane: 1,
                bytes: b"b".to_vec()
            }]
        );
        run(&mut s, vec![prefix(), key(KeyCode::Char('1'))]);
        assert_eq!(s.focused, 0);
        run(&mut s, vec![prefix(), key(KeyCode::Left)]);
        assert_eq!(s.focused, 1, "previous wraps around");
    }

    #[test]
    fn prefix_twice_sends_a_literal_prefix_and_unbound_keys_are_swallowed() {
        let mut s = state(1);
        let fx = run(&mut s, vec![prefix(), prefix()]);
        assert_eq!(
            fx,
            vec![Effect::SendInput {
                pane: 0,
                bytes: vec![0x1d]
            }]
        );
        assert_eq!(s.mode, Mode::Normal);
        let fx = run(&mut s, vec![prefix(), key(KeyCode::Char('y'))]);
        assert!(fx.is_empty());
        assert!(s.notice.as_deref().is_some_and(|n| n.contains("not bound")));
        assert_eq!(s.mode, Mode::Normal);
    }

    #[test]
    fn zoom_resizes_the_focused_pane_to_the_whole_screen_and_back() {
        let mut s = state(2);
        let before = s.panes[0].size;
        assert_eq!(before, PaneSize { rows: 47, cols: 98 });
        let fx = run(&mut s, vec![prefix(), key(KeyCode::Char('z'))]);
        let full = PaneSize {
            rows: 47,
            cols: 198,
        };
        assert_eq!(
            fx,
            vec![Effect::Resize {
                pane: 0,
                size: full
            }]
        );
        let fx = run(&mut s, vec![prefix(), key(KeyCode::Char('z'))]);
        assert_eq!(
            fx,
            vec![Effect::Resize {
                pane: 0,
                size: before
            }]
        );
    }

    #[test]
    fn a_burst_of_resizes_becomes_one_pty_resize_per_pane() {
        let mut s = state(2);
        let t0 = Instant::now();
        for (i, w) in [150u16, 170, 190, 120].into_iter().enumerate() {
            let at = t0 + Duration::from_millis(5 * i as u64);
            assert!(
                update(&mut s, AppEvent::Terminal(TerminalEvent::Resize(w, 40)), at).is_empty()
            );
        }
        assert!(update(&mut s, AppEvent::Timer, t0 + Duration::from_millis(20)).is_empty());
        let due = next_deadline(&s, Instant::now()).expect("a resize is pending");
        let fx = update(&mut s, AppEvent::Timer, due);
        // 120 columns is too narrow for two 80-column panes: stacked.
        assert_eq!(
            fx,
            vec![
                Effect::Resize {
                    pane: 0,
                    size: PaneSize {
                        rows: 18,
                        cols: 118
                    }
                },
                Effect::Resize {
                    pane: 1,
                    size: PaneSize {
                        rows: 17,
                        cols: 118
                    }
                },
            ]
        );
        assert!(update(&mut s, AppEvent::Timer, due).is_empty());
    }

    #[test]
    fn quit_asks_while_children_run_and_not_after() {
        let mut s = state(1);
        assert!(run(&mut s, vec![prefix(), key(KeyCode::Char('q'))]).is_empty());
        assert_eq!(s.mode, Mode::ConfirmQuit);
        assert!(run(&mut s, vec![key(KeyCode::Char('n'))]).is_empty());
        assert_eq!(s.mode, Mode::Normal);
        run(
            &mut s,
            vec![AppEvent::Pty(PtyEvent::Exited {
                pane: 0,
                generation: 0,
                end: ChildEnd::Exited(0),
                ended_at: Instant::now(),
            })],
        );
        let fx = run(&mut s, vec![prefix(), key(KeyCode::Char('q'))]);
        assert_eq!(fx, vec![Effect::Quit]);
        assert!(s.quitting);
    }

    #[test]
    fn restart_only_after_exit_and_stale_events_are_ignored() {
        let mut s = state(1);
        assert!(run(&mut s, vec![prefix(), key(KeyCode::Char('r'))]).is_empty());
        run(
            &mut s,
            vec![AppEvent::Pty(PtyEvent::Exited {
                pane: 0,
                generation: 0,
                end: ChildEnd::Signaled("SIGKILL".into()),
                ended_at: Instant::now(),
            })],
        );
        assert_eq!(s.panes[0].child.label(), "killed by SIGKILL");
        let fx = run(&mut s, vec![prefix(), key(KeyCode::Char('r'))]);
        assert_eq!(fx, vec![Effect::Spawn { pane: 0 }]);
        assert_eq!(s.panes[0].generation, 1);
        run(
            &mut s,
            vec![AppEvent::Pty(PtyEvent::Exited {
                pane: 0,
                generation: 0,
                end: ChildEnd::Exited(3),
                ended_at: Instant::now(),
            })],
        );
        assert_eq!(
            s.panes[0].child,
            ChildState::Running,
            "an old child's exit is ignored"
        );
    }

    #[test]
    fn scroll_mode_keys_move_the_view_and_q_leaves() {
        let mut s = state(1);
        run(&mut s, vec![prefix(), key(KeyCode::Char('['))]);
        assert_eq!(s.mode, Mode::Scroll);
        let fx = run(
            &mut s,
            vec![
                key(KeyCode::PageUp),
                key(KeyCode::Char('k')),
                key(KeyCode::Char('g')),
                key(KeyCode::Char('a')),
            ],
        );
        let pane = 0;
        assert_eq!(
            fx,
            vec![
                Effect::Scroll {
                    pane,
                    action: ScrollAction::Back(46)
                },
                Effect::Scroll {
                    pane,
                    action: ScrollAction::Back(1)
                },
                Effect::Scroll {
                    pane,
                    action: ScrollAction::Top
                },
            ],
            "other keys do nothing and never reach the child"
        );
        let fx = run(&mut s, vec![key(KeyCode::Esc)]);
        assert_eq!(
            fx,
            vec![Effect::Scroll {
                pane,
                action: ScrollAction::Live
            }]
        );
        assert_eq!(s.mode, Mode::Normal);
    }

    #[test]
    fn help_overlay_opens_and_any_key_closes_it() {
        let mut s = state(1);
        run(&mut s, vec![prefix(), key(KeyCode::Char('?'))]);
        assert_eq!(s.mode, Mode::Help);
        assert!(run(&mut s, vec![key(KeyCode::Char('a'))]).is_empty());
        assert_eq!(s.mode, Mode::Normal);
    }

    #[test]
    fn mouse_is_forwarded_only_when_asked_otherwise_wheel_scrolls() {
        let mut s = state(2);
        let wheel = |col| {
            AppEvent::Terminal(TerminalEvent::Mouse(MouseEvent {
                kind: MouseEventKind::ScrollUp,
                column: col,
                row: 5,
                modifiers: KeyModifiers::NONE,
            }))
        };
        let fx = run(&mut s, vec![wheel(150)]);
        assert_eq!(
            fx,
            vec![Effect::Scroll {
                pane: 1,
                action: ScrollAction::Back(WHEEL_LINES)
            }]
        );
        s.panes[1].screen.feed(b"\x1b[?1000h\x1b[?1006h");
        let fx = run(&mut s, vec![wheel(150)]);
        assert_eq!(
            fx,
            vec![Effect::SendInput {
                pane: 1,
                bytes: b"\x1b[<64;50;5M".to_vec()
            }]
        );
        let click = AppEvent::Terminal(TerminalEvent::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 150,
            row: 5,
            modifiers: KeyModifiers::NONE,
        }));
        run(&mut s, vec![click]);
        assert_eq!(s.focused, 1, "a click focuses the pane under it");
    }

    #[test]
    fn paste_is_bracketed_for_children_that_asked() {
        let mut s = state(1);
        s.panes[0].screen.feed(b"\x1b[?2004h");
        let fx = run(
            &mut s,
            vec![AppEvent::Terminal(TerminalEvent::Paste("hi\n".into()))],
        );
        assert_eq!(
            fx,
            vec![Effect::SendInput {
                pane: 0,
                bytes: b"\x1b[200~hi\r\x1b[201~".to_vec()
            }]
        );
    }

    #[test]
    fn signals_quit() {
        let mut s = state(1);
        assert_eq!(run(&mut s, vec![AppEvent::Signal(15)]), vec![Effect::Quit]);
    }
}

#[cfg(test)]
mod key_protocol_tests {
    use std::time::Instant;

    use crossterm::event::{
        Event as TerminalEvent, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers,
    };

    use super::update;
    use crate::app::event::{AppEvent, Effect};
    use crate::app::state::{AppState, PaneSpec};
    use crate::pane::pty::PaneProgram;

    fn state(shift_enter_as_esc_cr: bool) -> AppState {
        let mut spec = PaneSpec::new("claude", PaneProgram::Shell("true".into()));
        spec.shift_enter_as_esc_cr = shift_enter_as_esc_cr;
        AppState::new(vec![spec], (100, 30), 100)
    }

    fn key(code: KeyCode, modifiers: KeyModifiers, kind: KeyEventKind) -> AppEvent {
        AppEvent::Terminal(TerminalEvent::Key(KeyEvent {
            code,
            modifiers,
            kind,
            state: KeyEventState::NONE,
        }))
    }

    fn sent(fx: &[Effect]) -> Vec<u8> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::SendInput { bytes, .. } => Some(bytes.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    #[test]
    fn shift_enter_is_esc_cr_for_claude_until_it_asks_for_the_kitty_protocol() {
        let now = Instant::now();
        let shift_enter = || key(KeyCode::Enter, KeyModifiers::SHIFT, KeyEventKind::Press);
        let mut s = state(true);
        assert_eq!(sent(&update(&mut s, shift_enter(), now)), b"\x1b\r");
        // With flags pushed, the protocol's own encoding wins.
        s.panes[0].screen.feed(b"\x1b[>1u");
        assert_eq!(sent(&update(&mut s, shift_enter(), now)), b"\x1b[13;2u");
        // Other agents get what a plain terminal sends.
        let mut other = state(false);
        assert_eq!(sent(&update(&mut other, shift_enter(), now)), b"\r");
    }

    #[test]
    fn releases_reach_a_pane_that_asked_and_never_after_a_loop_tui_command() {
        let now = Instant::now();
        let mut s = state(false);
        let release = |c| key(KeyCode::Char(c), KeyModifiers::NONE, KeyEventKind::Release);
        assert!(
            sent(&update(&mut s, release('a'), now)).is_empty(),
            "not asked for"
        );
        // Disambiguate + report event types.
        s.panes[0].screen.feed(b"\x1b[>3u");
        update(
            &mut s,
            key(KeyCode::Char('a'), KeyModifiers::NONE, KeyEventKind::Press),
            now,
        );
        assert_eq!(sent(&update(&mut s, release('a'), now)), b"\x1b[97;1:3u");
        // The prefix and the key after it belong to loop-tui, presses and releases.
        let ctrl_bracket = KeyModifiers::CONTROL;
        update(
            &mut s,
            key(KeyCode::Char(']'), ctrl_bracket, KeyEventKind::Press),
            now,
        );
        assert!(sent(&update(
            &mut s,
            key(KeyCode::Char(']'), ctrl_bracket, KeyEventKind::Release),
            now
        ))
        .is_empty());
        update(
            &mut s,
            key(KeyCode::Char('?'), KeyModifiers::NONE, KeyEventKind::Press),
            now,
        );
        assert!(sent(&update(&mut s, release('?'), now)).is_empty());
    }
}
