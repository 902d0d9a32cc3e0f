//! When and how an approved message is typed into its target agent.
//!
//! A delivery is a paste (bracketed when the target asked for bracketed
//! paste) followed, after the profile's gap, by Enter. It starts only when
//! the target is running and idle: no output for [`WORKING_WINDOW`] (a
//! busy codex would take the Enter as a "steer" that drops its running
//! request), the human has not typed into it for [`HUMAN_QUIET`], and its
//! input queue is empty. Keys the human types between paste and Enter are
//! held and follow the Enter, so nothing interleaves with a message.

use std::time::{Duration, Instant};

use super::event::Effect;
use super::state::{ActiveDelivery, AppState, ChildState, PaneState, WORKING_WINDOW};
use crate::bridge::relay::{Message, HUMAN, LOOP_TUI};
use crate::bridge::sanitize::sanitize;
use crate::pane::input::encode_paste;

/// How long the human must have left a pane alone before a message is
/// typed into it: long enough to finish a word, short enough not to stall.
pub const HUMAN_QUIET: Duration = Duration::from_millis(1500);

/// How often a delivery held back by a full input queue is retried.
const BACKLOG_RETRY: Duration = Duration::from_millis(50);

/// A plain Enter: every agent CLI submits its input on CR.
const ENTER: &[u8] = b"\r";

/// The text typed into the target: who sent it and how to answer, then the
/// message. Human messages arrive as the human's own words; loop-tui's
/// notices carry their own `[loop-tui]` prefix.
pub fn delivery_text(message: &Message) -> String {
    let body = sanitize(message.outgoing_text());
    match message.from.as_str() {
        HUMAN | LOOP_TUI => body,
        from => format!(
            "[loop-tui] message #{} from {from} (answer with send_message to \"{from}\" only if you have something new):\n{body}",
            message.id
        ),
    }
}

/// Why a pane cannot take a delivery now, and when to look again.
fn blocked_until(pane: &PaneState, now: Instant) -> Option<Option<Instant>> {
    if pane.child != ChildState::Running || pane.delivery.is_some() {
        return Some(None);
    }
    let human_quiet_at = pane.last_input.map(|t| t + HUMAN_QUIET);
    let idle_at = pane.last_output.map(|t| t + WORKING_WINDOW);
    let wait_until = [human_quiet_at, idle_at].into_iter().flatten().max();
    if let Some(at) = wait_until.filter(|at| *at > now) {
        return Some(Some(at));
    }
    if pane.working {
        // The activity timer clears `working` at `idle_at`; the pump runs then.
        return Some(idle_at);
    }
    if pane.backlog() > 0 {
        return Some(Some(now + BACKLOG_RETRY));
    }
    None
}

/// Starts every delivery that can start and finishes every one whose
/// Enter is due.
pub fn pump(state: &mut AppState, now: Instant) -> Vec<Effect> {
    let mut effects = Vec::new();
    for index in 0..state.panes.len() {
        if let Some(active) = state.panes[index].delivery {
            if active.enter_at <= now {
                effects.extend(finish(state, index, active));
            }
            continue;
        }
        let name = state.panes[index].spec.name.clone();
        let Some(message) = state.relay.next_for_delivery(&name) else {
            continue;
        };
        if blocked_until(&state.panes[index], now).is_some() {
            continue;
        }
        let text = delivery_text(message);
        let id = message.id;
        let pane = &mut state.panes[index];
        let modes = pane.screen.lock().input_modes();
        let gap = if modes.bracketed_paste {
            pane.spec.submit_gap
        } else {
            // Without bracketed paste the text arrives like typing, and
            // codex merges an Enter that follows typing within ~100 ms.
            pane.spec.submit_gap.max(Duration::from_millis(400))
        };
        pane.delivery = Some(ActiveDelivery {
            id,
            enter_at: now + gap,
        });
        state.needs_redraw = true;
        effects.push(Effect::Deliver {
            pane: index,
            bytes: encode_paste(&text, &modes),
        });
    }
    effects
}

fn finish(state: &mut AppState, index: usize, active: ActiveDelivery) -> Vec<Effect> {
    let pane = &mut state.panes[index];
    pane.delivery = None;
    let held = std::mem::take(&mut pane.held_input);
    let mut effects = vec![Effect::Deliver {
        pane: index,
        bytes: ENTER.to_vec(),
    }];
    if !held.is_empty() {
        effects.push(Effect::SendInput {
            pane: index,
            bytes: held,
        });
    }
    let records = state.relay.delivered(active.id, false);
    if !records.is_empty() {
        effects.push(Effect::Journal(records));
    }
    state.needs_redraw = true;
    effects
}

/// When the pump next needs to run.
pub fn next_deadline(state: &AppState, now: Instant) -> Option<Instant> {
    state
        .panes
        .iter()
        .filter_map(|pane| {
            if let Some(active) = pane.delivery {
                return Some(active.enter_at);
            }
            state.relay.next_for_delivery(&pane.spec.name)?;
            blocked_until(pane, now).flatten()
        })
        .min()
}
