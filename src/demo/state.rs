//! The plain state of the demo agent and how events change it.
//!
//! Nothing here touches the terminal or reads the clock: the current time
//! is passed in, so the behaviour can be tested without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::script::scripted_reply;

/// How long the agent pretends to think before replying.
pub const THINKING_TIME: Duration = Duration::from_millis(1200);
/// Interval between spinner frames, about 10 Hz.
pub const SPINNER_TICK: Duration = Duration::from_millis(100);
/// Braille spinner frames, the same style real agent TUIs use.
pub const SPINNER_FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Who wrote a line of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Agent,
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
    pub input: String,
    pub started: Instant,
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
    pub messages: Vec<Message>,
    pub input: String,
    pub thinking: Option<Thinking>,
    /// Messages submitted while thinking; each is answered in turn.
    pub queued: VecDeque<String>,
    /// Index into `SPINNER_FRAMES`, kept here so drawing stays a pure
    /// function of the state.
    pub spinner_frame: usize,
    /// How many replies were given, the `n` of `scripted_reply`.
    pub turns: usize,
}

impl DemoState {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            messages: Vec::new(),
            input: String::new(),
            thinking: None,
            queued: VecDeque::new(),
            spinner_frame: 0,
            turns: 0,
        }
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

    /// Sends the typed line, or queues it when a reply is still pending.
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
            self.begin(text, now);
        }
        Flow::Continue
    }

    fn begin(&mut self, text: String, now: Instant) {
        self.messages.push(Message {
            role: Role::User,
            text: text.clone(),
        });
        self.thinking = Some(Thinking {
            input: text,
            started: now,
        });
        self.spinner_frame = 0;
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
        let reply = scripted_reply(&self.name, &thinking.input, self.turns);
        self.turns += 1;
        self.messages.push(Message {
            role: Role::Agent,
            text: reply,
        });
        self.thinking = None;
        if let Some(next) = self.queued.pop_front() {
            self.begin(next, now);
        }
    }

    /// When the loop must wake up without an event: the next spinner frame
    /// or the end of thinking. `None` means idle, so the loop can block.
    pub fn next_deadline(&self, now: Instant) -> Option<Instant> {
        let thinking = self.thinking.as_ref()?;
        let done = thinking.started + THINKING_TIME;
        let elapsed = now.saturating_duration_since(thinking.started);
        let ticks = elapsed.as_millis() / SPINNER_TICK.as_millis() + 1;
        let next_tick = thinking.started
            + SPINNER_TICK.saturating_mul(u32::try_from(ticks).unwrap_or(u32::MAX));
        Some(next_tick.min(done))
    }
}

/// Pasted text goes into a one-line input, so line breaks and tabs become
/// spaces and other control characters, which would corrupt the screen,
/// are dropped.
fn normalize_paste(text: &str) -> String {
    text.replace("\r\n", " ")
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
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
    fn paste_is_one_line() {
        let now = Instant::now();
        let mut state = DemoState::new("w");
        state.handle_event(&Event::Paste("a\r\nb\nc\td\u{1b}".to_owned()), now);
        assert_eq!(state.input, "a b c d");
    }
}
