//! The plain state of the demo agent and how events change it.
//!
//! Nothing here touches the terminal or reads the clock: the current time
//! is passed in, so the behaviour can be tested without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::bridge::{CallResult, Outgoing};
use super::inbox::{classify, Inbound};
use super::script::{
    edited_reply, is_reviewer, rejected_reply, review_message, review_reply, review_request,
    scripted_reply, task_reply, thanks,
};

/// How long the agent pretends to think before replying.
pub const THINKING_TIME: Duration = Duration::from_millis(1200);
/// Interval between spinner frames, about 10 Hz.
pub const SPINNER_TICK: Duration = Duration::from_millis(100);
/// Braille spinner frames, the same style real agent TUIs use.
pub const SPINNER_FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// How often the loop looks for the result of a bridge call in flight. The
/// calls run on their own threads and cannot wake the terminal read, so
/// the loop polls, but only while a call is out.
pub const CALL_POLL: Duration = Duration::from_millis(25);

/// Who wrote an entry of the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Typed by the human (or written by the human in loop-tui's bridge pane).
    User,
    Agent,
    /// A message from another agent that loop-tui delivered.
    Received {
        id: u64,
        from: String,
    },
    /// loop-tui telling this agent what happened to one of its messages.
    Notice,
    /// A `send_message` call; `result` is `None` while it is in flight.
    Tool {
        call: u64,
        target: String,
        result: Option<CallResult>,
    },
}

/// One entry of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: Role,
    pub text: String,
}

/// A reply being "thought about"; the spinner shows while this exists.
#[derive(Debug, Clone)]
pub struct Thinking {
    pub started: Instant,
    /// What the agent says when done.
    pub reply: String,
    /// The message it then sends, as (target, text).
    pub send: Option<(String, String)>,
}

/// What the event loop should do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

/// Everything the view needs to draw a frame.
#[derive(Debug, Clone)]
pub struct DemoState {
    pub name: String,
    /// The agent it talks to through loop-tui's bridge, if any.
    pub peer: Option<String>,
    /// One line saying where the bridge is, for the banner.
    pub bridge_status: String,
    pub messages: Vec<Message>,
    pub input: String,
    pub thinking: Option<Thinking>,
    /// Inputs submitted while thinking; each is handled in turn.
    pub queued: VecDeque<String>,
    /// Index into `SPINNER_FRAMES`, kept here so drawing stays a pure
    /// function of the state.
    pub spinner_frame: usize,
    /// How many canned replies were given, the `n` of `scripted_reply`.
    pub turns: usize,
    /// How many reviews were sent, which picks the next finding.
    pub reviews: usize,
    /// Bridge calls decided but not started yet; the loop takes them.
    pub outbox: Vec<Outgoing>,
    next_call: u64,
}

impl DemoState {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            peer: None,
            bridge_status: String::new(),
            messages: Vec::new(),
            input: String::new(),
            thinking: None,
            queued: VecDeque::new(),
            spinner_frame: 0,
            turns: 0,
            reviews: 0,
            outbox: Vec::new(),
            next_call: 1,
        }
    }

    /// An agent paired with `peer` through the bridge described by `bridge_status`.
    pub fn with_peer(name: &str, peer: Option<&str>, bridge_status: String) -> Self {
        Self {
            peer: peer.map(str::to_owned),
            bridge_status,
            ..Self::new(name)
        }
    }

    /// Whether this agent reviews (answers messages with a review) rather
    /// than works (sends tasks out for review).
    pub fn is_reviewer(&self) -> bool {
        is_reviewer(&self.name)
    }

    /// Applies one terminal event at time `now`.
    pub fn handle_event(&mut self, event: &Event, now: Instant) -> Flow {
        match event {
            Event::Key(key) => self.handle_key(key, now),
            Event::Paste(text) => {
                self.input.push_str(&normalize_paste(text));
                Flow::Continue
            }
            // Resizes only need a redraw, which the loop does after every event.
            _ => Flow::Continue,
        }
    }

    fn handle_key(&mut self, key: &KeyEvent, now: Instant) -> Flow {
        // Release events only arrive with keyboard enhancement, which is
        // off, but ignoring them keeps a key from being typed twice if it
        // ever gets enabled.
        if key.kind == KeyEventKind::Release {
            return Flow::Continue;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char('c') if ctrl => Flow::Quit,
            KeyCode::Char('d') if ctrl && self.input.is_empty() => Flow::Quit,
            KeyCode::Char('u') if ctrl => {
                self.input.clear();
                Flow::Continue
            }
            KeyCode::Char('w') if ctrl => {
                delete_word(&mut self.input);
                Flow::Continue
            }
            KeyCode::Char(c) if !ctrl && !alt => {
                self.input.push(c);
                Flow::Continue
            }
            KeyCode::Backspace => {
                self.input.pop();
                Flow::Continue
            }
            KeyCode::Enter => self.submit(now),
            _ => Flow::Continue,
        }
    }

    /// Handles the typed (or delivered) input, or queues it while a reply
    /// is still being thought about.
    fn submit(&mut self, now: Instant) -> Flow {
        let text = self.input.trim().to_owned();
        if text.is_empty() {
            return Flow::Continue;
        }
        self.input.clear();
        if text == "/exit" || text == "/quit" {
            return Flow::Quit;
        }
        if self.thinking.is_some() {
            self.queued.push_back(text);
        } else {
            self.begin(&text, now);
        }
        Flow::Continue
    }

    /// Shows `text` in the transcript and starts thinking about the answer
    /// the script gives for it. Only two things make the agent send a
    /// message: a worker given a task asks for a review, and a reviewer
    /// given a message answers with a review. Answers to reviews and to
    /// loop-tui's notices are never sent, so one task makes at most one
    /// round trip between the agents.
    fn begin(&mut self, text: &str, now: Instant) {
        let (entry, reply, send) = match classify(text) {
            Inbound::Typed(task) => {
                let entry = (Role::User, task.clone());
                match self.peer.clone() {
                    Some(peer) if !self.is_reviewer() => {
                        let send = (peer.clone(), review_request(&task));
                        (entry, Some(task_reply(&peer, &task)), Some(send))
                    }
                    _ => {
                        let reply = scripted_reply(&self.name, &task, self.turns);
                        self.turns += 1;
                        (entry, Some(reply), None)
                    }
                }
            }
            Inbound::Message { id, from, body } => {
                let entry = (
                    Role::Received {
                        id,
                        from: from.clone(),
                    },
                    body,
                );
                if self.is_reviewer() {
                    let send = (from.clone(), review_message(id, self.reviews));
                    self.reviews += 1;
                    (entry, Some(review_reply(id, &from)), Some(send))
                } else {
                    (entry, Some(thanks(id, &from)), None)
                }
            }
            Inbound::Rejected { id, reason, .. } => (
                (Role::Notice, text.to_owned()),
                Some(rejected_reply(id, reason.as_deref())),
                None,
            ),
            Inbound::Edited { id, to, .. } => (
                (Role::Notice, text.to_owned()),
                Some(edited_reply(id, &to)),
                None,
            ),
            Inbound::Notice(notice) => ((Role::Notice, notice), None, None),
        };
        self.messages.push(Message {
            role: entry.0,
            text: entry.1,
        });
        match reply {
            Some(reply) => {
                self.thinking = Some(Thinking {
                    started: now,
                    reply,
                    send,
                });
                self.spinner_frame = 0;
            }
            None => self.next_queued(now),
        }
    }

    /// Starts on the next queued input, if any.
    fn next_queued(&mut self, now: Instant) {
        if let Some(next) = self.queued.pop_front() {
            self.begin(&next, now);
        }
    }

    /// Advances the spinner and delivers the reply once thinking is over.
    pub fn tick(&mut self, now: Instant) {
        let Some(thinking) = &self.thinking else {
            return;
        };
        let elapsed = now.saturating_duration_since(thinking.started);
        if elapsed < THINKING_TIME {
            let ticks = elapsed.as_millis() / SPINNER_TICK.as_millis();
            self.spinner_frame = usize::try_from(ticks % SPINNER_FRAMES.len() as u128).unwrap_or(0);
            return;
        }
        let Some(Thinking { reply, send, .. }) = self.thinking.take() else {
            return;
        };
        self.messages.push(Message {
            role: Role::Agent,
            text: reply,
        });
        if let Some((target, message)) = send {
            let call = self.next_call;
            self.next_call += 1;
            self.messages.push(Message {
                role: Role::Tool {
                    call,
                    target: target.clone(),
                    result: None,
                },
                text: message.clone(),
            });
            self.outbox.push(Outgoing {
                call,
                target,
                message,
            });
        }
        self.next_queued(now);
    }

    /// Records how bridge call `call` ended.
    pub fn call_finished(&mut self, call: u64, outcome: CallResult) {
        for message in &mut self.messages {
            if let Role::Tool {
                call: c, result, ..
            } = &mut message.role
            {
                if *c == call {
                    *result = Some(outcome);
                    return;
                }
            }
        }
    }

    /// Whether a bridge call is still waiting for its result.
    pub fn calls_in_flight(&self) -> bool {
        self.messages
            .iter()
            .any(|m| matches!(m.role, Role::Tool { result: None, .. }))
    }

    /// When the loop must wake up without an event: the next spinner frame,
    /// the end of thinking, or the next look for a bridge call's result.
    /// `None` means idle, so the loop can block.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let poll = self.calls_in_flight().then(|| now + CALL_POLL);
        let thinking = self.thinking.as_ref().map(|thinking| {
            let done = thinking.started + THINKING_TIME;
            let elapsed = now.saturating_duration_since(thinking.started);
            let ticks = elapsed.as_millis() / SPINNER_TICK.as_millis() + 1;
            let next_tick = thinking.started
                + SPINNER_TICK.saturating_mul(u32::try_from(ticks).unwrap_or(u32::MAX));
            next_tick.min(done)
        });
        [poll, thinking].into_iter().flatten().min()
    }
}

/// Pasted line breaks are kept, because a delivered message's header line
/// is how the agent tells it from typed text (the input box shows them as
/// spaces); tabs become spaces and other control characters, which would
/// corrupt the screen, are dropped.
fn normalize_paste(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter_map(|c| match c {
            '\r' | '\n' => Some('\n'),
            '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// Ctrl-W as in a shell: drop trailing spaces, then the word before them.
fn delete_word(input: &mut String) {
    let trimmed = input.trim_end().len();
    input.truncate(trimmed);
    let start = input.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    input.truncate(start);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    fn type_str(state: &mut DemoState, text: &str, now: Instant) {
        for c in text.chars() {
            assert_eq!(
                state.handle_event(&key(KeyCode::Char(c), KeyModifiers::NONE), now),
                Flow::Continue
            );
        }
    }

    fn enter(state: &mut DemoState, now: Instant) -> Flow {
        state.handle_event(&key(KeyCode::Enter, KeyModifiers::NONE), now)
    }

    #[test]
    fn typing_backspace_and_clear() {
        let now = Instant::now();
        let mut state = DemoState::new("w");
        type_str(&mut state, "hello world", now);
        state.handle_event(&key(KeyCode::Backspace, KeyModifiers::NONE), now);
        assert_eq!(state.input, "hello worl");
        state.handle_event(&key(KeyCode::Char('w'), KeyModifiers::CONTROL), now);
        assert_eq!(state.input, "hello ");
        state.handle_event(&key(KeyCode::Char('u'), KeyModifiers::CONTROL), now);
        assert_eq!(state.input, "");
    }

    #[test]
    fn submit_thinks_then_replies() {
        let t0 = Instant::now();
        let mut state = DemoState::new("worker");
        type_str(&mut state, "fix the bug", t0);
        assert_eq!(enter(&mut state, t0), Flow::Continue);
        assert_eq!(state.input, "");
        assert_eq!(state.messages.len(), 1);
        assert!(state.thinking.is_some());
        assert_eq!(state.next_deadline(t0), Some(t0 + SPINNER_TICK));

        state.tick(t0 + Duration::from_millis(350));
        assert_eq!(state.spinner_frame, 3);
        assert_eq!(state.messages.len(), 1);

        state.tick(t0 + THINKING_TIME);
        assert!(state.thinking.is_none());
        assert_eq!(state.next_deadline(t0 + THINKING_TIME), None);
        assert_eq!(state.messages[1].role, Role::Agent);
        assert_eq!(
            state.messages[1].text,
            scripted_reply("worker", "fix the bug", 0)
        );
    }

    #[test]
    fn input_during_thinking_is_queued() {
        let t0 = Instant::now();
        let mut state = DemoState::new("worker");
        type_str(&mut state, "first", t0);
        enter(&mut state, t0);
        type_str(&mut state, "second", t0);
        enter(&mut state, t0);
        assert_eq!(state.queued.len(), 1);
        assert_eq!(state.messages.len(), 1);

        let t1 = t0 + THINKING_TIME;
        state.tick(t1);
        assert_eq!(state.messages.len(), 3);
        assert_eq!(state.messages[2].text, "second");
        state.tick(t1 + THINKING_TIME);
        assert_eq!(
            state.messages[3].text,
            scripted_reply("worker", "second", 1)
        );
        assert!(state.queued.is_empty());
    }

    #[test]
    fn quitting() {
        let now = Instant::now();
        let mut state = DemoState::new("w");
        assert_eq!(enter(&mut state, now), Flow::Continue);
        type_str(&mut state, "x", now);
        let ctrl_d = key(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(state.handle_event(&ctrl_d, now), Flow::Continue);
        state.input.clear();
        assert_eq!(state.handle_event(&ctrl_d, now), Flow::Quit);
        let ctrl_c = key(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(state.handle_event(&ctrl_c, now), Flow::Quit);
        type_str(&mut state, "/exit", now);
        assert_eq!(enter(&mut state, now), Flow::Quit);
    }

    #[test]
    fn paste_keeps_line_breaks_and_drops_controls() {
        let now = Instant::now();
        let mut state = DemoState::new("w");
        state.handle_event(&Event::Paste("a\r\nb\rc\td\u{1b}\u{9b}".to_owned()), now);
        assert_eq!(state.input, "a\nb\nc d");
    }

    /// What loop-tui types into an agent for message `id` (see
    /// `src/app/delivery.rs`): a paste, then Enter.
    fn deliver(state: &mut DemoState, text: &str, now: Instant) {
        state.handle_event(&Event::Paste(text.to_owned()), now);
        enter(state, now);
    }

    fn delivery(id: u64, from: &str, body: &str) -> String {
        format!("[loop-tui] message #{id} from {from} (answer with send_message to \"{from}\" only if you have something new):\n{body}")
    }

    fn pair(name: &str, peer: &str) -> DemoState {
        DemoState::with_peer(name, Some(peer), "bridge: test".into())
    }

    #[test]
    fn a_worker_given_a_task_replies_then_asks_its_peer_for_a_review() {
        let t0 = Instant::now();
        let mut worker = pair("worker", "reviewer");
        type_str(&mut worker, "add a --verbose flag", t0);
        enter(&mut worker, t0);
        assert!(worker.outbox.is_empty(), "nothing is sent while thinking");
        worker.tick(t0 + THINKING_TIME);
        assert_eq!(
            worker.messages[1].text,
            task_reply("reviewer", "add a --verbose flag")
        );
        assert_eq!(
            worker.outbox,
            [Outgoing {
                call: 1,
                target: "reviewer".into(),
                message: review_request("add a --verbose flag"),
            }]
        );
        assert!(worker.calls_in_flight());
        let later = t0 + THINKING_TIME;
        assert_eq!(worker.next_deadline(later), Some(later + CALL_POLL));
        worker.call_finished(
            1,
            Ok("queued for human approval as #1. The human will approve".into()),
        );
        assert!(!worker.calls_in_flight());
        assert_eq!(worker.next_deadline(later), None);
        assert!(matches!(
            &worker.messages[2].role,
            Role::Tool { target, result: Some(Ok(_)), .. } if target == "reviewer"
        ));
    }

    #[test]
    fn a_reviewer_answers_a_delivered_message_with_a_review_to_the_sender() {
        let t0 = Instant::now();
        let mut reviewer = pair("reviewer", "worker");
        deliver(
            &mut reviewer,
            &delivery(4, "worker", "Please review: x."),
            t0,
        );
        assert_eq!(
            reviewer.messages[0],
            Message {
                role: Role::Received {
                    id: 4,
                    from: "worker".into()
                },
                text: "Please review: x.".into()
            }
        );
        reviewer.tick(t0 + THINKING_TIME);
        assert_eq!(reviewer.messages[1].text, review_reply(4, "worker"));
        assert_eq!(reviewer.outbox.len(), 1);
        assert_eq!(reviewer.outbox[0].target, "worker");
        assert_eq!(reviewer.outbox[0].message, review_message(4, 0));
    }

    #[test]
    fn a_task_makes_exactly_one_round_trip() {
        let mut now = Instant::now();
        let mut worker = pair("worker", "reviewer");
        let mut reviewer = pair("reviewer", "worker");
        type_str(&mut worker, "fix the parser", now);
        enter(&mut worker, now);
        let mut sends = 0;
        let mut next_id = 1;
        // Plays loop-tui approving every message at once, until no agent
        // has anything left to say.
        for _ in 0..10 {
            now += THINKING_TIME;
            worker.tick(now);
            reviewer.tick(now);
            let mut idle = true;
            for out in std::mem::take(&mut worker.outbox) {
                sends += 1;
                idle = false;
                deliver(
                    &mut reviewer,
                    &delivery(next_id, "worker", &out.message),
                    now,
                );
                next_id += 1;
            }
            for out in std::mem::take(&mut reviewer.outbox) {
                sends += 1;
                idle = false;
                deliver(
                    &mut worker,
                    &delivery(next_id, "reviewer", &out.message),
                    now,
                );
                next_id += 1;
            }
            if idle && worker.thinking.is_none() && reviewer.thinking.is_none() {
                break;
            }
        }
        assert_eq!(sends, 2, "the review request and the review, nothing more");
        let last = worker.messages.last().expect("the worker answered");
        assert_eq!(last.text, thanks(2, "reviewer"));
    }

    #[test]
    fn notices_about_own_messages_are_answered_but_never_sent() {
        let t0 = Instant::now();
        let mut worker = pair("worker", "reviewer");
        let rejected = "[loop-tui] your message #1 to reviewer was rejected by the human: not now";
        deliver(&mut worker, rejected, t0);
        assert_eq!(
            worker.messages[0],
            Message {
                role: Role::Notice,
                text: rejected.into()
            }
        );
        worker.tick(t0 + THINKING_TIME);
        assert_eq!(worker.messages[1].text, rejected_reply(1, Some("not now")));
        let edited = "[loop-tui] your message #2 to reviewer was edited by the human before delivery; reviewer received:\nshorter";
        deliver(&mut worker, edited, t0 + THINKING_TIME);
        worker.tick(t0 + THINKING_TIME * 2);
        assert_eq!(worker.messages[3].text, edited_reply(2, "reviewer"));
        assert!(worker.outbox.is_empty());
    }

    #[test]
    fn other_notices_are_shown_without_thinking_and_the_queue_moves_on() {
        let t0 = Instant::now();
        let mut worker = pair("worker", "reviewer");
        type_str(&mut worker, "first", t0);
        enter(&mut worker, t0);
        deliver(&mut worker, "[loop-tui] something else", t0);
        type_str(&mut worker, "second", t0);
        enter(&mut worker, t0);
        assert_eq!(worker.queued.len(), 2);
        worker.tick(t0 + THINKING_TIME);
        let texts: Vec<&str> = worker.messages.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts[3], "[loop-tui] something else");
        assert_eq!(worker.messages[3].role, Role::Notice);
        assert_eq!(texts[4], "second", "the notice did not hold up the queue");
        assert!(worker.thinking.is_some());
    }

    #[test]
    fn without_a_peer_the_agent_only_chats() {
        let t0 = Instant::now();
        let mut worker = DemoState::with_peer("worker", None, String::new());
        type_str(&mut worker, "hello", t0);
        enter(&mut worker, t0);
        worker.tick(t0 + THINKING_TIME);
        assert!(worker.outbox.is_empty());
        assert_eq!(
            worker.messages[1].text,
            scripted_reply("worker", "hello", 0)
        );
    }
}
