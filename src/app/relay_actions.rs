//! The relay's decisions inside `update`: answering the agents' bridge
//! calls and carrying out the human's approve / edit / reject / compose.
//! Every change to the queue is journalled before the answer that depends
//! on it, and selection follows the newest pending message.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::event::Effect;
use super::state::{AppState, BridgeStatus, ChildState, EditPurpose, Editor, Mode};
use crate::bridge::listener::{BridgeEvent, ConnectionId, SocketChange};
use crate::bridge::protocol::{BridgeCall, BridgeReply};
use crate::bridge::relay::{Disposition, MessageId, MessageState, Pause, RelayRecord};

/// Wall-clock time for the journal and the bridge pane, in Unix ms.
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn journal(records: Vec<RelayRecord>) -> Vec<Effect> {
    if records.is_empty() {
        Vec::new()
    } else {
        vec![Effect::Journal(records)]
    }
}

/// An agent called a bridge tool.
pub fn on_request(state: &mut AppState, event: BridgeEvent) -> Vec<Effect> {
    let BridgeEvent {
        agent,
        call,
        reply,
        connection,
    } = event;
    let (mut effects, answer) = match call {
        BridgeCall::Send { target, message } => send(state, &agent, &target, &message),
        BridgeCall::Receive => receive(state, &agent),
        BridgeCall::Status => (Vec::new(), BridgeReply::ok(status_text(state, &agent))),
        BridgeCall::Hello => hello(state, &agent, connection),
    };
    effects.push(Effect::Reply {
        to: reply,
        reply: answer,
    });
    effects
}

fn send(state: &mut AppState, agent: &str, target: &str, text: &str) -> (Vec<Effect>, BridgeReply) {
    match state.relay.submit(agent, target, text, wall_ms()) {
        Err(err) => (Vec::new(), BridgeReply::error(err.to_string())),
        Ok((id, disposition, records)) => {
            state.needs_redraw = true;
            if let Some(m) = state.relay.get(id) {
                let (from, to, text) = (m.from.clone(), m.to.clone(), m.text.clone());
                super::workflow::on_message(state, &from, &to, &text);
            }
            let to = state
                .relay
                .get(id)
                .map(|m| m.to.clone())
                .unwrap_or_default();
            let answer = match disposition {
                Disposition::Queued => {
                    select_if_nothing_pending_is(state);
                    if let Some(Pause::HopCap(cap)) = state.relay.pause {
                        state.notice = Some(format!(
                            "relay paused: {cap} agent-to-agent messages in a row without you; approve or press space in the bridge to resume"
                        ));
                    }
                    BridgeReply::ok(format!(
                        "queued for human approval as #{id}. The human will approve, edit or reject it; if approved it is typed into {to}'s input and {to} answers with its own send_message. Do not send it again."
                    ))
                }
                Disposition::AutoApproved => BridgeReply::ok(format!(
                    "delivered as #{id}: it is typed into {to}'s input as soon as {to} is idle."
                )),
                Disposition::Suppressed { of } => BridgeReply::error(format!(
                    "not sent (suppressed as #{id}): it repeats {to}'s last message to you (#{of}). Send only new information, or nothing."
                )),
            };
            (journal(records), answer)
        }
    }
}

fn hello(
    state: &mut AppState,
    agent: &str,
    connection: ConnectionId,
) -> (Vec<Effect>, BridgeReply) {
    let Some(pane) = state
        .relay
        .resolve_agent(agent)
        .and_then(|name| state.pane_of(name))
    else {
        return (
            Vec::new(),
            BridgeReply::error(format!("\"{agent}\" is not an agent of this run")),
        );
    };
    let was = state.bridge_status(pane);
    state.panes[pane].bridge_link.hello(connection);
    if was == BridgeStatus::Down && state.bridge_status(pane) == BridgeStatus::Up {
        state.notice = Some(format!(
            "pane {} {}: bridge connected again",
            pane + 1,
            state.panes[pane].spec.name
        ));
    }
    state.needs_redraw = true;
    (
        Vec::new(),
        BridgeReply::ok(format!("connected as {}", state.panes[pane].spec.name)),
    )
}

/// The presence connection of one of `agent`'s bridge processes closed.
/// When it was the last, the agent cannot reach its peers any more: its
/// border says so, and the status bar says what to do.
pub fn on_presence_ended(state: &mut AppState, agent: &str, connection: ConnectionId) {
    let Some(pane) = state
        .relay
        .resolve_agent(agent)
        .and_then(|name| state.pane_of(name))
    else {
        return;
    };
    let p = &mut state.panes[pane];
    if !p.bridge_link.closed(connection) {
        return;
    }
    state.needs_redraw = true;
    if p.child == ChildState::Running {
        // The status bar is one line, cut at the screen's edge: what
        // happened comes first, what to do after.
        state.notice = Some(format!(
            "pane {} {name}: bridge down (its mcp-bridge ended); reconnect MCP server loop in \
             {name} (claude: /mcp) or quit {name} and press {} r",
            pane + 1,
            state.keymap.prefix_name(),
            name = p.spec.name,
        ));
    }
}

/// The bridge socket's file changed; the listener has already listened
/// again where it could.
pub fn on_socket(state: &mut AppState, change: SocketChange) {
    state.needs_redraw = true;
    match change {
        SocketChange::Recreated => {
            state.bridge_socket_lost = None;
            state.notice =
                Some("the bridge socket was deleted; loop-tui listens there again".to_owned());
        }
        SocketChange::Lost(why) => {
            state.notice = Some(format!("bridge down for every agent: {why}"));
            state.bridge_socket_lost = Some(why);
        }
        SocketChange::Unwatched(why) => {
            state.notice = Some(format!(
                "a deleted bridge socket would not be noticed or re-created ({why})"
            ));
        }
    }
}

fn receive(state: &mut AppState, agent: &str) -> (Vec<Effect>, BridgeReply) {
    let Some(name) = state.relay.resolve_agent(agent).map(str::to_owned) else {
        return (
            Vec::new(),
            BridgeReply::error(format!("\"{agent}\" is not an agent of this run")),
        );
    };
    let (messages, records) = state.relay.receive(&name);
    if messages.is_empty() {
        return (Vec::new(), BridgeReply::ok("no new messages"));
    }
    state.needs_redraw = true;
    let mut text = String::new();
    for m in &messages {
        let _ = writeln!(
            text,
            "message #{} from {}:\n{}\n",
            m.id,
            m.from,
            m.outgoing_text()
        );
    }
    (journal(records), BridgeReply::ok(text.trim_end()))
}

/// The text `bridge_status` returns.
pub fn status_text(state: &AppState, caller: &str) -> String {
    let relay = &state.relay;
    let mut text = format!("run {}\nyou are {caller}\nagents:\n", state.run_id);
    for (index, pane) in state.panes.iter().enumerate() {
        let pending = relay
            .messages()
            .iter()
            .filter(|m| m.from == pane.spec.name && m.state == MessageState::Pending)
            .count();
        let bridge = match state.bridge_status(index) {
            BridgeStatus::Unknown => "",
            BridgeStatus::Up => ", bridge up",
            BridgeStatus::Down => ", bridge down: it cannot send messages",
        };
        let _ = writeln!(
            text,
            "  {} ({}{bridge}), {pending} of its messages pending",
            pane.spec.name,
            pane.activity_label()
        );
    }
    let mode = if relay.auto_all {
        "auto-approve for every message".to_owned()
    } else if relay.auto_directions.is_empty() {
        "every message waits for the human's approval".to_owned()
    } else {
        let directions: Vec<String> = relay
            .auto_directions
            .iter()
            .map(|(from, to)| format!("{from} → {to}"))
            .collect();
        format!(
            "auto-approve for {}; others wait for the human",
            directions.join(", ")
        )
    };
    let pause = match &relay.pause {
        None => String::new(),
        Some(Pause::Human) => "; paused by the human".to_owned(),
        Some(Pause::HopCap(cap)) => format!("; paused after {cap} relays without the human"),
    };
    let _ = write!(
        text,
        "pending: {}{}\nrelay: {mode}{pause}; hops {}/{}",
        relay.pending_count(),
        match relay.uncertain_count() {
            0 => String::new(),
            n => format!(" (and {n} delivery uncertain, for the human to send again or reject)"),
        },
        relay.hops,
        relay.hop_cap
    );
    text
}

/// Selects the newest pending message unless the human already has a
/// pending one selected: a message arriving must never change what Enter
/// approves.
fn select_if_nothing_pending_is(state: &mut AppState) {
    let selected_pending = state
        .bridge
        .selected
        .and_then(|id| state.relay.get(id))
        .is_some_and(|m| m.state == MessageState::Pending);
    if !selected_pending {
        select_newest_pending(state);
    }
}

/// Selects the newest message waiting for the human, if any.
pub fn select_newest_pending(state: &mut AppState) {
    if let Some(m) = state.relay.newest_pending() {
        state.bridge.selected = Some(m.id);
    }
}

/// After a decision the selection moves on to the newest pending message,
/// else stays on the decided one.
fn after_decision(state: &mut AppState, records: Vec<RelayRecord>) -> Vec<Effect> {
    state.needs_redraw = true;
    select_newest_pending(state);
    journal(records)
}

pub fn approve(state: &mut AppState, id: MessageId) -> Vec<Effect> {
    match state.relay.approve(id) {
        Ok(records) => after_decision(state, records),
        Err(err) => {
            state.notice = Some(err.to_string());
            Vec::new()
        }
    }
}

pub fn reject(state: &mut AppState, id: MessageId, reason: &str) -> Vec<Effect> {
    let reason = Some(reason).filter(|r| !r.trim().is_empty());
    match state.relay.reject(id, reason, wall_ms()) {
        Ok(records) => after_decision(state, records),
        Err(err) => {
            state.notice = Some(err.to_string());
            Vec::new()
        }
    }
}

pub fn edit(state: &mut AppState, id: MessageId, text: &str) -> Vec<Effect> {
    if text.trim().is_empty() {
        state.notice =
            Some("an empty edit would send nothing: reject the message instead (x)".into());
        return Vec::new();
    }
    match state.relay.edit(id, text, wall_ms()) {
        Ok(records) => after_decision(state, records),
        Err(err) => {
            state.notice = Some(err.to_string());
            Vec::new()
        }
    }
}

pub fn compose(state: &mut AppState, target: Option<usize>, text: &str) -> Vec<Effect> {
    let name = target
        .and_then(|i| state.panes.get(i))
        .map(|p| p.spec.name.clone());
    let records = state.relay.compose(name.as_deref(), text, wall_ms());
    if records.is_empty() {
        state.notice = Some("nothing to send: the message was empty".into());
    }
    state.needs_redraw = true;
    journal(records)
}

pub fn toggle_auto(state: &mut AppState) -> Vec<Effect> {
    let on = !state.relay.auto_all;
    let records = state.relay.set_auto_all(on);
    state.notice = Some(if on {
        "auto-approve on: agents' messages are delivered without asking (hop cap still applies)"
            .into()
    } else {
        "auto-approve off: every message waits for you".into()
    });
    state.needs_redraw = true;
    journal(records)
}

/// Toggles auto-approve for the direction of the selected message.
pub fn toggle_auto_direction(state: &mut AppState) -> Vec<Effect> {
    let Some(m) = state.bridge.selected.and_then(|id| state.relay.get(id)) else {
        state.notice = Some("select a message first: auto-approve applies to its direction".into());
        return Vec::new();
    };
    if !m.is_between_agents() {
        state.notice = Some("only messages between agents can be auto-approved".into());
        return Vec::new();
    }
    let (from, to) = (m.from.clone(), m.to.clone());
    let on = !state.relay.is_auto(&from, &to) || state.relay.auto_all;
    let records = state.relay.set_auto_direction(&from, &to, on);
    state.notice = Some(format!(
        "auto-approve {from} → {to}: {}",
        if on { "on" } else { "off" }
    ));
    state.needs_redraw = true;
    journal(records)
}

pub fn toggle_pause(state: &mut AppState) -> Vec<Effect> {
    let records = state.relay.toggle_pause();
    state.notice = Some(if state.relay.pause.is_some() {
        "relay paused: nothing is delivered until you press space again".into()
    } else {
        "relay resumed".into()
    });
    state.needs_redraw = true;
    journal(records)
}

/// Opens the editor popup for `purpose`, remembering where focus was.
pub fn open_editor(state: &mut AppState, purpose: EditPurpose) {
    let initial = match &purpose {
        EditPurpose::Edit(id) => state
            .relay
            .get(*id)
            .map(|m| m.outgoing_text().to_owned())
            .unwrap_or_default(),
        EditPurpose::Reject(_) | EditPurpose::Compose { .. } => String::new(),
    };
    let lines: Vec<String> = if initial.is_empty() {
        vec![String::new()]
    } else {
        initial.lines().map(str::to_owned).collect()
    };
    let mut text = ratatui_textarea::TextArea::new(lines);
    // Messages are prose: wrap them so the popup shows each from its first
    // word, instead of scrolling sideways to the cursor.
    text.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
    text.move_cursor(ratatui_textarea::CursorMove::Bottom);
    text.move_cursor(ratatui_textarea::CursorMove::End);
    state.editor = Some(Editor {
        purpose,
        text,
        return_to_bridge: state.bridge.focused,
    });
    state.mode = Mode::Edit;
    state.needs_redraw = true;
}

/// The oldest pending message, or a notice that there is none.
pub fn oldest_pending(state: &mut AppState) -> Option<MessageId> {
    let id = state.relay.oldest_pending().map(|m| m.id);
    if id.is_none() {
        state.notice = Some("no message is waiting for approval".into());
    }
    id
}

/// The selected message if it is pending, or a notice saying why not.
pub fn selected_pending(state: &mut AppState) -> Option<MessageId> {
    match state.bridge.selected.and_then(|id| state.relay.get(id)) {
        Some(m) if m.state == MessageState::Pending => Some(m.id),
        Some(m) => {
            state.notice = Some(format!(
                "message #{} is {}, not pending",
                m.id,
                m.state.label()
            ));
            None
        }
        None => {
            state.notice = Some("no message is selected".into());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::app::event::AppEvent;
    use crate::app::state::PaneSpec;
    use crate::app::update::update;
    use crate::bridge::listener::ReplyHandle;
    use crate::pane::pty::{PaneProgram, PtyEvent};
    use crate::pane::ChildEnd;

    fn state() -> AppState {
        let specs = ["claude", "codex"]
            .map(|n| PaneSpec::new(n, PaneProgram::Shell("true".into())))
            .into();
        AppState::new(specs, (200, 50), 100)
    }

    /// `agent`'s bridge process says hello on `connection`; returns the
    /// answer it gets.
    fn hello(s: &mut AppState, agent: &str, connection: ConnectionId) -> BridgeReply {
        let (reply, rx) = ReplyHandle::channel();
        let effects = update(
            s,
            AppEvent::Bridge(BridgeEvent {
                agent: agent.into(),
                call: BridgeCall::Hello,
                reply,
                connection,
            }),
            Instant::now(),
        );
        for effect in effects {
            if let Effect::Reply { to, reply } = effect {
                to.send(reply);
            }
        }
        rx.try_recv().expect("hello is answered at once")
    }

    fn ended(s: &mut AppState, agent: &str, connection: ConnectionId) {
        update(
            s,
            AppEvent::BridgePresenceEnded {
                agent: agent.into(),
                connection,
            },
            Instant::now(),
        );
    }

    fn statuses(s: &AppState) -> [BridgeStatus; 2] {
        [s.bridge_status(0), s.bridge_status(1)]
    }

    #[test]
    fn a_bridge_is_up_from_its_hello_until_its_presence_closes() {
        let mut s = state();
        assert_eq!(statuses(&s), [BridgeStatus::Unknown; 2]);
        let first = ConnectionId::next();
        assert_eq!(
            hello(&mut s, "codex", first),
            BridgeReply::ok("connected as codex")
        );
        assert_eq!(statuses(&s), [BridgeStatus::Unknown, BridgeStatus::Up]);

        ended(&mut s, "codex", first);
        assert_eq!(statuses(&s), [BridgeStatus::Unknown, BridgeStatus::Down]);
        let notice = s.notice.clone().unwrap();
        assert!(
            notice.starts_with("pane 2 codex: bridge down (its mcp-bridge ended)")
                && notice.contains("press Ctrl-] r"),
            "{notice}"
        );
        assert!(
            status_text(&s, "claude").contains("codex (waiting for you, bridge down"),
            "{}",
            status_text(&s, "claude")
        );
        // Still greeted: a down bridge does not make deliveries wait out
        // the start-up grace again.
        assert!(s.panes[1].bridge_link.greeted());

        // The CLI restarts its MCP server: the new process's hello.
        hello(&mut s, "codex", ConnectionId::next());
        assert_eq!(statuses(&s), [BridgeStatus::Unknown, BridgeStatus::Up]);
        assert!(
            s.notice.as_deref().unwrap().contains("connected again"),
            "{:?}",
            s.notice
        );
    }

    #[test]
    fn an_old_process_closing_after_its_successor_said_hello_keeps_the_bridge_up() {
        let mut s = state();
        let (old, new) = (ConnectionId::next(), ConnectionId::next());
        hello(&mut s, "claude", old);
        hello(&mut s, "claude", new);
        ended(&mut s, "claude", old);
        assert_eq!(s.bridge_status(0), BridgeStatus::Up);
        // A close that is no longer known (repeated, or of another run's
        // agent) changes nothing.
        ended(&mut s, "claude", old);
        ended(&mut s, "nobody", new);
        assert_eq!(s.bridge_status(0), BridgeStatus::Up);
        ended(&mut s, "claude", new);
        assert_eq!(s.bridge_status(0), BridgeStatus::Down);
    }

    #[test]
    fn an_agent_that_exits_and_restarts_starts_with_no_bridge_until_its_hello() {
        let mut s = state();
        let connection = ConnectionId::next();
        hello(&mut s, "claude", connection);
        update(
            &mut s,
            AppEvent::Pty(PtyEvent::Exited {
                pane: 0,
                generation: 0,
                end: ChildEnd::Exited(0),
                ended_at: Instant::now(),
            }),
            Instant::now(),
        );
        assert_eq!(s.bridge_status(0), BridgeStatus::Unknown);
        // Its bridge process's presence closes after the exit was seen:
        // nothing to show for an ended program, and no notice about it.
        ended(&mut s, "claude", connection);
        assert_eq!(s.bridge_status(0), BridgeStatus::Unknown);
        assert!(
            s.notice.as_deref().unwrap().contains("exited"),
            "{:?}",
            s.notice
        );
        assert!(!s.panes[0].bridge_link.greeted());
    }

    #[test]
    fn a_lost_socket_shows_every_connected_bridge_down_until_it_is_back() {
        let mut s = state();
        hello(&mut s, "claude", ConnectionId::next());
        update(
            &mut s,
            AppEvent::BridgeSocket(SocketChange::Lost(
                "the bridge socket was replaced (/r/bridge.sock)".into(),
            )),
            Instant::now(),
        );
        // codex never connected: nothing to say about it.
        assert_eq!(statuses(&s), [BridgeStatus::Down, BridgeStatus::Unknown]);
        let notice = s.notice.clone().unwrap();
        assert_eq!(
            notice,
            "bridge down for every agent: the bridge socket was replaced (/r/bridge.sock)"
        );
        update(
            &mut s,
            AppEvent::BridgeSocket(SocketChange::Recreated),
            Instant::now(),
        );
        assert_eq!(statuses(&s), [BridgeStatus::Up, BridgeStatus::Unknown]);
        assert!(
            s.notice.as_deref().unwrap().contains("listens there again"),
            "{:?}",
            s.notice
        );
    }
}
