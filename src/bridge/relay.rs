//! `RelayQueue`: every message between agents (and from the human) and the
//! decisions taken on it, as a pure state machine.
//!
//! Each change is first described as a [`RelayRecord`] and then applied, so
//! the records written to the journal replay into exactly the same queue
//! after a crash. No I/O here: callers journal the returned records.

use std::collections::BTreeSet;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::sanitize::sanitize;
use crate::runs::manifest::RunState;

pub type MessageId = u64;

/// The sender name of messages the human composes.
pub const HUMAN: &str = "human";
/// The sender name of loop-tui's own notices (outcomes told to a sender).
pub const LOOP_TUI: &str = "loop-tui";

/// How many agent-to-agent relays may happen in a row without any human
/// action before the relay pauses itself: enough for a real back-and-forth,
/// few enough that two agents thanking each other cannot run away.
pub const DEFAULT_HOP_CAP: u32 = 12;

/// A regular expression of a relay rule, compiled once when the config is
/// read. Two patterns are equal when their source text is.
#[derive(Debug, Clone)]
pub struct Pattern(Regex);

impl Pattern {
    /// Compiles `source`; the error is one line, for a config error.
    pub fn new(source: &str) -> Result<Self, String> {
        Regex::new(source).map(Self).map_err(|err| {
            // regex's syntax errors draw the pattern with a caret over
            // several lines; the last line says what is wrong.
            let text = err.to_string();
            let why = text
                .lines()
                .rev()
                .find(|line| !line.trim().is_empty())
                .unwrap_or(&text)
                .trim()
                .trim_start_matches("error: ")
                .to_owned();
            format!("invalid regular expression \"{source}\": {why}")
        })
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Self::new(&source).map_err(serde::de::Error::custom)
    }
}

/// How the relay decides without the human, as configured: the `[relay]`
/// section of the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct RelayPolicy {
    pub auto_all: bool,
    pub auto_directions: BTreeSet<(String, String)>,
    pub hop_cap: u32,
    pub max_message_bytes: usize,
    /// A message matching any of these is never approved automatically.
    pub hold: Vec<Pattern>,
    /// A message matching any of these is approved automatically even
    /// with auto-approve off, unless a hold rule matches too.
    pub auto_matching: Vec<Pattern>,
}

impl Default for RelayPolicy {
    fn default() -> Self {
        Self {
            auto_all: false,
            auto_directions: BTreeSet::new(),
            hop_cap: DEFAULT_HOP_CAP,
            max_message_bytes: crate::bridge::protocol::DEFAULT_MAX_MESSAGE_BYTES,
            hold: Vec::new(),
            auto_matching: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Waiting for the human.
    Pending,
    /// Approved as sent; waiting to be typed into the target.
    Approved,
    /// Approved with the human's edits; waiting to be typed into the target.
    Edited,
    Rejected,
    Delivered,
    Failed,
    /// A repeat of the last message in the other direction; never delivered.
    Suppressed,
    /// loop-tui stopped after typing it and before confirming it: it may or
    /// may not have reached the target. Only the human can say, so it is
    /// never typed again on its own (delivery is at most once).
    Uncertain,
}

impl MessageState {
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Edited => "edited",
            Self::Rejected => "rejected",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::Suppressed => "suppressed",
            Self::Uncertain => "delivery uncertain",
        }
    }

    /// Approved (as sent or edited) and not yet delivered.
    pub fn awaits_delivery(self) -> bool {
        matches!(self, Self::Approved | Self::Edited)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub from: String,
    pub to: String,
    /// The text as the sender wrote it, sanitised.
    pub text: String,
    /// The human's replacement text, when edited.
    pub edited_text: Option<String>,
    pub state: MessageState,
    /// Why it was rejected, failed or suppressed, or which rule holds it
    /// for the human.
    pub reason: Option<String>,
    /// Unix time in milliseconds when it was sent.
    pub sent_ms: i64,
    /// Approved by an auto-approve rule rather than by the human.
    pub auto: bool,
    /// Whether the edited text was ever delivered (by typing or by
    /// `receive_messages`): `Delivered` alone does not say how.
    pub delivered_by_tool: bool,
    /// Typing it into the target began (journalled before the first byte).
    #[serde(default)]
    pub delivery_started: bool,
}

impl Message {
    /// The text the target gets: the edit when there is one.
    pub fn outgoing_text(&self) -> &str {
        self.edited_text.as_deref().unwrap_or(&self.text)
    }

    /// Waiting for the human's decision.
    pub fn needs_human(&self) -> bool {
        matches!(self.state, MessageState::Pending | MessageState::Uncertain)
    }

    pub fn is_notice(&self) -> bool {
        self.from == LOOP_TUI
    }

    pub fn is_between_agents(&self) -> bool {
        self.from != HUMAN && self.from != LOOP_TUI
    }
}

/// Why the relay is paused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pause {
    /// The human pressed pause; only the human resumes.
    Human,
    /// The hop cap was reached; any human action resumes.
    HopCap(u32),
}

/// A record as written to the journal: when, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Unix time in milliseconds.
    pub ts: i64,
    #[serde(flatten)]
    pub record: RelayRecord,
}

/// One change to the queue, as journalled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum RelayRecord {
    /// A new message, in the state it starts in.
    Sent {
        message: Message,
    },
    Approved {
        id: MessageId,
    },
    Edited {
        id: MessageId,
        text: String,
    },
    Rejected {
        id: MessageId,
        reason: Option<String>,
    },
    Delivered {
        id: MessageId,
        by_tool: bool,
    },
    /// Typing it into the target is about to begin.
    DeliveryStarted {
        id: MessageId,
    },
    /// It was typed, but its target ended about then and may never have
    /// read it: back to the human as delivery uncertain.
    DeliveryDoubted {
        id: MessageId,
        reason: String,
    },
    Failed {
        id: MessageId,
        reason: String,
    },
    AutoApprove {
        all: bool,
        directions: BTreeSet<(String, String)>,
    },
    Paused {
        pause: Option<Pause>,
    },
    /// A human action: the hop counter starts again.
    HumanAction,
    /// The run started, with these agents (descriptions such as `claude
    /// (worker, claude)`). Like the two records below it changes nothing in
    /// the queue: it is the run's own history, for `loop-tui log`.
    RunStarted {
        cwd: String,
        agents: Vec<String>,
    },
    /// The run was resumed; each note says how one agent came back (its
    /// session resumed, or started afresh and why).
    RunResumed {
        notes: Vec<String>,
    },
    /// The run's state changed (done and awaiting review, ended, ...).
    StateChanged {
        state: RunState,
    },
    /// A record kind this version does not know, written by a newer
    /// loop-tui. Replay passes over it: an old binary must still be able to
    /// resume a run a newer one journalled.
    #[serde(other)]
    Unknown,
}

/// Why a message was not accepted; the text is for the sending model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("the message is empty: write what you want {0} to know")]
    Empty(String),
    #[error(
        "the message is {size} bytes, over the {cap}-byte limit: send a summary or split it into several messages"
    )]
    TooLarge { size: usize, cap: usize },
    #[error("unknown target \"{target}\"; agents in this run: {valid}")]
    UnknownTarget { target: String, valid: String },
    #[error("\"{0}\" is you: send_message goes to another agent of this run ({1})")]
    SelfTarget(String, String),
    #[error("\"{0}\" is not an agent of this run, so it cannot send messages")]
    UnknownSender(String),
}

/// Why a decision could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("there is no message #{0}")]
    NoSuchMessage(MessageId),
    #[error("message #{0} is {1}, not pending")]
    NotPending(MessageId, &'static str),
}

/// What happened to an accepted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Waits for the human.
    Queued,
    /// Approved by an auto-approve rule; it will be delivered.
    AutoApproved,
    /// Held back as a repeat of message `of`.
    Suppressed { of: MessageId },
}

/// The queue of every message in a run, and the relay's mode.
#[derive(Debug, Clone)]
pub struct RelayQueue {
    agents: Vec<String>,
    messages: Vec<Message>,
    next_id: MessageId,
    pub auto_all: bool,
    /// (from, to) pairs that are approved automatically.
    pub auto_directions: BTreeSet<(String, String)>,
    pub pause: Option<Pause>,
    /// Agent-to-agent relays since the last human action.
    pub hops: u32,
    pub hop_cap: u32,
    pub max_message_bytes: usize,
    /// Rules whose match keeps a message from being auto-approved.
    pub hold: Vec<Pattern>,
    /// Rules whose match auto-approves a message.
    pub auto_matching: Vec<Pattern>,
}

impl RelayQueue {
    pub fn new(agents: Vec<String>, max_message_bytes: usize) -> Self {
        Self {
            agents,
            messages: Vec::new(),
            next_id: 1,
            auto_all: false,
            auto_directions: BTreeSet::new(),
            pause: None,
            hops: 0,
            hop_cap: DEFAULT_HOP_CAP,
            max_message_bytes,
            hold: Vec::new(),
            auto_matching: Vec::new(),
        }
    }

    /// Takes the configured policy. Called before a journal is replayed, so
    /// auto-approve changes the human made during the run win on resume.
    pub fn set_policy(&mut self, policy: RelayPolicy) {
        self.auto_all = policy.auto_all;
        self.auto_directions = policy.auto_directions;
        self.hop_cap = policy.hop_cap;
        self.max_message_bytes = policy.max_message_bytes;
        self.hold = policy.hold;
        self.auto_matching = policy.auto_matching;
    }

    /// The first hold rule `text` matches.
    fn hold_rule(&self, text: &str) -> Option<&Pattern> {
        self.hold.iter().find(|rule| rule.is_match(text))
    }

    pub fn agents(&self) -> &[String] {
        &self.agents
    }

    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn get(&self, id: MessageId) -> Option<&Message> {
        self.index_of(id).map(|i| &self.messages[i])
    }

    /// Where message `id` is in `messages`. Ids are handed out in
    /// increasing order and messages appended as they are sent, so the
    /// list is sorted by id and a binary search finds it: replaying a
    /// journal of 10 000 messages must not cost 10 000 linear scans. A
    /// journal edited by hand could break the order, so a miss falls back
    /// to a scan.
    fn index_of(&self, id: MessageId) -> Option<usize> {
        self.messages
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .or_else(|| self.messages.iter().position(|m| m.id == id))
    }

    pub fn pending_count(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| m.state == MessageState::Pending)
            .count()
    }

    /// Messages that may or may not have reached their target, waiting
    /// for the human to send them again or reject them.
    pub fn uncertain_count(&self) -> usize {
        self.messages
            .iter()
            .filter(|m| m.state == MessageState::Uncertain)
            .count()
    }

    /// The oldest message waiting for the human (pending or uncertain).
    pub fn oldest_pending(&self) -> Option<&Message> {
        self.messages.iter().find(|m| m.needs_human())
    }

    /// The newest message waiting for the human (pending or uncertain).
    pub fn newest_pending(&self) -> Option<&Message> {
        self.messages.iter().rev().find(|m| m.needs_human())
    }

    /// The agent name `name` refers to, matched without regard to case.
    pub fn resolve_agent(&self, name: &str) -> Option<&str> {
        let name = name.trim();
        self.agents
            .iter()
            .find(|a| a.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }

    pub fn is_auto(&self, from: &str, to: &str) -> bool {
        self.auto_all
            || self
                .auto_directions
                .contains(&(from.to_owned(), to.to_owned()))
    }

    /// The next message to type into `target`, unless the relay is paused.
    pub fn next_for_delivery(&self, target: &str) -> Option<&Message> {
        if self.pause.is_some() {
            return None;
        }
        self.messages
            .iter()
            .find(|m| m.to == target && m.state.awaits_delivery())
    }

    /// An agent sends a message through `send_message`.
    pub fn submit(
        &mut self,
        from: &str,
        target: &str,
        text: &str,
        now_ms: i64,
    ) -> Result<(MessageId, Disposition, Vec<RelayRecord>), SubmitError> {
        let from = self
            .resolve_agent(from)
            .ok_or_else(|| SubmitError::UnknownSender(from.to_owned()))?
            .to_owned();
        let others = self.agent_list_except(&from);
        let to = match self.resolve_agent(target) {
            Some(to) if to == from => return Err(SubmitError::SelfTarget(from, others)),
            Some(to) => to.to_owned(),
            None => {
                return Err(SubmitError::UnknownTarget {
                    target: target.to_owned(),
                    valid: others,
                })
            }
        };
        if text.len() > self.max_message_bytes {
            return Err(SubmitError::TooLarge {
                size: text.len(),
                cap: self.max_message_bytes,
            });
        }
        let text = sanitize(text).trim().to_owned();
        if text.is_empty() {
            return Err(SubmitError::Empty(to));
        }
        let held_by = self.hold_rule(&text).map(|rule| rule.as_str().to_owned());
        // A hold rule beats every way of auto-approving; a matching
        // auto-approve rule works even with auto-approve off.
        let auto = held_by.is_none()
            && (self.is_auto(&from, &to) || self.auto_matching.iter().any(|r| r.is_match(&text)));
        let mut message = self.new_message(&from, &to, text, now_ms);
        let mut records = Vec::new();
        let disposition = if let Some(of) = self.echo_of(&message) {
            message.state = MessageState::Suppressed;
            message.reason = Some(format!("repeats #{of}"));
            Disposition::Suppressed { of }
        } else if auto && self.pause.is_none() {
            if self.hops >= self.hop_cap {
                records.push(RelayRecord::Paused {
                    pause: Some(Pause::HopCap(self.hop_cap)),
                });
                Disposition::Queued
            } else {
                message.state = MessageState::Approved;
                message.auto = true;
                Disposition::AutoApproved
            }
        } else {
            // The human sees why it was not approved automatically.
            if let Some(rule) = held_by {
                message.reason = Some(format!("held by rule {rule}"));
            }
            Disposition::Queued
        };
        let id = message.id;
        records.insert(0, RelayRecord::Sent { message });
        self.apply_all(&records);
        Ok((id, disposition, records))
    }

    /// The human writes to one agent or, with `to = None`, to every agent.
    /// Human messages need no approval.
    pub fn compose(&mut self, to: Option<&str>, text: &str, now_ms: i64) -> Vec<RelayRecord> {
        let text = sanitize(text).trim().to_owned();
        if text.is_empty() {
            return Vec::new();
        }
        let targets: Vec<String> = match to {
            Some(to) => self
                .resolve_agent(to)
                .map(str::to_owned)
                .into_iter()
                .collect(),
            None => self.agents.clone(),
        };
        let mut records = vec![RelayRecord::HumanAction];
        self.apply(&RelayRecord::HumanAction);
        for target in targets {
            let mut message = self.new_message(HUMAN, &target, text.clone(), now_ms);
            message.state = MessageState::Approved;
            // Ids are assigned as records are applied, so apply each at once.
            let record = RelayRecord::Sent { message };
            self.apply(&record);
            records.push(record);
        }
        records
    }

    pub fn approve(&mut self, id: MessageId) -> Result<Vec<RelayRecord>, DecisionError> {
        self.pending(id)?;
        let records = vec![RelayRecord::HumanAction, RelayRecord::Approved { id }];
        self.apply_all(&records);
        Ok(records)
    }

    /// Approves `id` with the human's `text`; the sender is told.
    pub fn edit(
        &mut self,
        id: MessageId,
        text: &str,
        now_ms: i64,
    ) -> Result<Vec<RelayRecord>, DecisionError> {
        let message = self.pending(id)?.clone();
        let text = sanitize(text).trim().to_owned();
        if text == message.text {
            return self.approve(id);
        }
        let mut records = vec![
            RelayRecord::HumanAction,
            RelayRecord::Edited {
                id,
                text: text.clone(),
            },
        ];
        self.apply_all(&records);
        if message.is_between_agents() {
            let notice = format!(
                "[loop-tui] your message #{id} to {} was edited by the human before delivery; {} received:\n{text}",
                message.to, message.to
            );
            records.push(self.notice(&message.from, notice, now_ms));
        }
        Ok(records)
    }

    /// Rejects `id`; the sender is told, with the reason when given.
    pub fn reject(
        &mut self,
        id: MessageId,
        reason: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<RelayRecord>, DecisionError> {
        let message = self.pending(id)?.clone();
        let reason = reason
            .map(|r| sanitize(r).trim().to_owned())
            .filter(|r| !r.is_empty());
        let mut records = vec![
            RelayRecord::HumanAction,
            RelayRecord::Rejected {
                id,
                reason: reason.clone(),
            },
        ];
        self.apply_all(&records);
        if message.is_between_agents() {
            let notice = match reason {
                Some(reason) => format!(
                    "[loop-tui] your message #{id} to {} was rejected by the human: {reason}",
                    message.to
                ),
                None => format!(
                    "[loop-tui] your message #{id} to {} was rejected by the human.",
                    message.to
                ),
            };
            records.push(self.notice(&message.from, notice, now_ms));
        }
        Ok(records)
    }

    /// The message was typed into its target (or fetched by the target
    /// with `receive_messages` when `by_tool`).
    pub fn delivered(&mut self, id: MessageId, by_tool: bool) -> Vec<RelayRecord> {
        if !self.get(id).is_some_and(|m| m.state.awaits_delivery()) {
            return Vec::new();
        }
        let records = vec![RelayRecord::Delivered { id, by_tool }];
        self.apply_all(&records);
        records
    }

    pub fn failed(&mut self, id: MessageId, reason: &str) -> Vec<RelayRecord> {
        if !self.get(id).is_some_and(|m| m.state.awaits_delivery()) {
            return Vec::new();
        }
        let records = vec![RelayRecord::Failed {
            id,
            reason: reason.to_owned(),
        }];
        self.apply_all(&records);
        records
    }

    /// Takes back a message that could not be journalled: it is shown as
    /// failed and never delivered. Nothing is returned to journal, since
    /// the journal is what failed.
    pub fn refuse(&mut self, id: MessageId, reason: &str) {
        self.apply(&RelayRecord::Failed {
            id,
            reason: reason.to_owned(),
        });
    }

    /// Approved messages for `agent` not typed into it yet, handed over
    /// through `receive_messages` instead (and so never typed later).
    pub fn receive(&mut self, agent: &str) -> (Vec<Message>, Vec<RelayRecord>) {
        let waiting: Vec<Message> = self
            .messages
            .iter()
            .filter(|m| m.to == agent && m.state.awaits_delivery())
            .cloned()
            .collect();
        let records: Vec<RelayRecord> = waiting
            .iter()
            .map(|m| RelayRecord::Delivered {
                id: m.id,
                by_tool: true,
            })
            .collect();
        self.apply_all(&records);
        (waiting, records)
    }

    /// Turns auto-approve for everything on or off.
    pub fn set_auto_all(&mut self, on: bool) -> Vec<RelayRecord> {
        let records = vec![
            RelayRecord::HumanAction,
            RelayRecord::AutoApprove {
                all: on,
                directions: self.auto_directions.clone(),
            },
        ];
        self.apply_all(&records);
        records
    }

    /// Turns auto-approve for one direction on or off.
    pub fn set_auto_direction(&mut self, from: &str, to: &str, on: bool) -> Vec<RelayRecord> {
        let mut directions = self.auto_directions.clone();
        if on {
            directions.insert((from.to_owned(), to.to_owned()));
        } else {
            directions.remove(&(from.to_owned(), to.to_owned()));
        }
        let records = vec![
            RelayRecord::HumanAction,
            RelayRecord::AutoApprove {
                all: self.auto_all,
                directions,
            },
        ];
        self.apply_all(&records);
        records
    }

    /// Pauses the relay, or resumes it from any pause.
    pub fn toggle_pause(&mut self) -> Vec<RelayRecord> {
        let pause = if self.pause.is_some() {
            None
        } else {
            Some(Pause::Human)
        };
        let records = vec![RelayRecord::HumanAction, RelayRecord::Paused { pause }];
        self.apply_all(&records);
        records
    }

    /// Applies records read back from the journal. A message whose typing
    /// began but was never confirmed is marked uncertain for the human.
    pub fn replay<'a>(&mut self, records: impl IntoIterator<Item = &'a RelayRecord>) {
        for record in records {
            self.apply(record);
        }
        for m in &mut self.messages {
            if m.delivery_started && m.state.awaits_delivery() {
                m.state = MessageState::Uncertain;
                m.reason = Some(
                    "loop-tui stopped while typing it: check the target, then approve to send again or reject".into(),
                );
            }
        }
    }

    /// `id` was typed into its target, which then ended before it could
    /// be sure to have read it: the human decides whether to send it again.
    /// Only a message typed (not fetched with `receive_messages`) and not
    /// decided again since can be doubted.
    pub fn doubt_delivery(&mut self, id: MessageId, reason: &str) -> Vec<RelayRecord> {
        if !self
            .get(id)
            .is_some_and(|m| m.state == MessageState::Delivered && !m.delivered_by_tool)
        {
            return Vec::new();
        }
        let records = vec![RelayRecord::DeliveryDoubted {
            id,
            reason: reason.to_owned(),
        }];
        self.apply_all(&records);
        records
    }

    /// Typing `id` into its target begins: journalled first, so a crash
    /// in between leaves it uncertain instead of typed twice.
    pub fn delivery_started(&mut self, id: MessageId) -> Vec<RelayRecord> {
        let records = vec![RelayRecord::DeliveryStarted { id }];
        self.apply_all(&records);
        records
    }

    fn apply_all(&mut self, records: &[RelayRecord]) {
        for record in records {
            self.apply(record);
        }
    }

    /// The only place the queue changes.
    fn apply(&mut self, record: &RelayRecord) {
        match record {
            RelayRecord::Sent { message } => {
                if message.auto && message.is_between_agents() {
                    self.hops += 1;
                }
                self.next_id = self.next_id.max(message.id + 1);
                self.messages.push(message.clone());
            }
            // A pending message's only reason is the rule that held it,
            // which the human's approval has answered.
            RelayRecord::Approved { id } => {
                if let Some(m) = self.message_mut(*id) {
                    m.state = MessageState::Approved;
                    m.reason = None;
                    m.delivery_started = false;
                }
            }
            RelayRecord::DeliveryStarted { id } => {
                if let Some(m) = self.message_mut(*id) {
                    m.delivery_started = true;
                }
            }
            RelayRecord::Edited { id, text } => {
                if let Some(m) = self.message_mut(*id) {
                    m.edited_text = Some(text.clone());
                    m.state = MessageState::Edited;
                    m.reason = None;
                    m.delivery_started = false;
                }
            }
            RelayRecord::Rejected { id, reason } => {
                if let Some(m) = self.message_mut(*id) {
                    m.state = MessageState::Rejected;
                    m.reason.clone_from(reason);
                }
            }
            RelayRecord::Delivered { id, by_tool } => {
                if let Some(m) = self.message_mut(*id) {
                    m.state = MessageState::Delivered;
                    m.delivered_by_tool = *by_tool;
                }
            }
            RelayRecord::Failed { id, reason } => {
                if let Some(m) = self.message_mut(*id) {
                    m.state = MessageState::Failed;
                    m.reason = Some(reason.clone());
                }
            }
            RelayRecord::DeliveryDoubted { id, reason } => {
                if let Some(m) = self
                    .message_mut(*id)
                    .filter(|m| m.state == MessageState::Delivered)
                {
                    m.state = MessageState::Uncertain;
                    m.reason = Some(reason.clone());
                }
            }
            RelayRecord::AutoApprove { all, directions } => {
                self.auto_all = *all;
                self.auto_directions.clone_from(directions);
            }
            RelayRecord::Paused { pause } => self.pause.clone_from(pause),
            RelayRecord::HumanAction => {
                self.hops = 0;
                if matches!(self.pause, Some(Pause::HopCap(_))) {
                    self.pause = None;
                }
            }
            RelayRecord::RunStarted { .. }
            | RelayRecord::RunResumed { .. }
            | RelayRecord::StateChanged { .. }
            | RelayRecord::Unknown => {}
        }
    }

    fn message_mut(&mut self, id: MessageId) -> Option<&mut Message> {
        self.index_of(id).map(|i| &mut self.messages[i])
    }

    fn pending(&self, id: MessageId) -> Result<&Message, DecisionError> {
        let message = self.get(id).ok_or(DecisionError::NoSuchMessage(id))?;
        if matches!(
            message.state,
            MessageState::Pending | MessageState::Uncertain
        ) {
            Ok(message)
        } else {
            Err(DecisionError::NotPending(id, message.state.label()))
        }
    }

    fn new_message(&self, from: &str, to: &str, text: String, now_ms: i64) -> Message {
        Message {
            id: self.next_id,
            from: from.to_owned(),
            to: to.to_owned(),
            text,
            edited_text: None,
            state: MessageState::Pending,
            reason: None,
            sent_ms: now_ms,
            auto: false,
            delivered_by_tool: false,
            delivery_started: false,
        }
    }

    /// Queues a notice from loop-tui to `to` (e.g. a role prompt for a CLI
    /// without a system-prompt flag); it needs no approval.
    pub fn system_notice(&mut self, to: &str, text: String, now_ms: i64) -> Vec<RelayRecord> {
        vec![self.notice(to, text, now_ms)]
    }

    /// Queues a request from loop-tui to `to` that waits for the human like
    /// an agent's message (e.g. the final review request).
    pub fn system_request(&mut self, to: &str, text: String, now_ms: i64) -> Vec<RelayRecord> {
        let record = RelayRecord::Sent {
            message: self.new_message(LOOP_TUI, to, text, now_ms),
        };
        self.apply(&record);
        vec![record]
    }

    /// A notice from loop-tui to `to`, approved at once, applied.
    fn notice(&mut self, to: &str, text: String, now_ms: i64) -> RelayRecord {
        let mut message = self.new_message(LOOP_TUI, to, text, now_ms);
        message.state = MessageState::Approved;
        let record = RelayRecord::Sent { message };
        self.apply(&record);
        record
    }

    /// The id of the last message in the opposite direction when `message`
    /// repeats it: two agents echoing each other add nothing. Messages that
    /// never went out (suppressed, rejected) are not what the sender saw.
    fn echo_of(&self, message: &Message) -> Option<MessageId> {
        let last = self
            .messages
            .iter()
            .rev()
            .filter(|m| !matches!(m.state, MessageState::Suppressed | MessageState::Rejected))
            .find(|m| m.from == message.to && m.to == message.from)?;
        (normalize_for_echo(last.outgoing_text()) == normalize_for_echo(&message.text))
            .then_some(last.id)
    }

    fn agent_list_except(&self, name: &str) -> String {
        let others: Vec<&str> = self
            .agents
            .iter()
            .filter(|a| *a != name)
            .map(String::as_str)
            .collect();
        if others.is_empty() {
            "none besides you".to_owned()
        } else {
            others.join(", ")
        }
    }
}

/// Text reduced to what echo suppression compares: loop-tui's own header
/// lines dropped, whitespace collapsed, case folded.
pub fn normalize_for_echo(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("[loop-tui]"))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> RelayQueue {
        RelayQueue::new(vec!["claude".into(), "codex".into()], 64 * 1024)
    }

    fn send(q: &mut RelayQueue, from: &str, to: &str, text: &str) -> (MessageId, Disposition) {
        let (id, disposition, _) = q.submit(from, to, text, 0).expect("accepted");
        (id, disposition)
    }

    /// Replays `records` into a fresh queue and checks it matches `q`.
    fn assert_replays(q: &RelayQueue, records: &[RelayRecord]) {
        let mut fresh = queue();
        fresh.replay(records);
        assert_eq!(fresh.messages(), q.messages());
        assert_eq!(fresh.pause, q.pause);
        assert_eq!(fresh.hops, q.hops);
        assert_eq!(fresh.auto_all, q.auto_all);
        assert_eq!(fresh.next_id, q.next_id);
    }

    #[test]
    fn a_sent_message_waits_for_the_human_then_is_delivered() {
        let mut q = queue();
        let (id, disposition) = send(&mut q, "Claude", "CODEX", "please review");
        assert_eq!(disposition, Disposition::Queued);
        assert_eq!(q.pending_count(), 1);
        let m = q.get(id).unwrap();
        assert_eq!((m.from.as_str(), m.to.as_str()), ("claude", "codex"));
        assert_eq!(q.next_for_delivery("codex"), None, "not before approval");
        q.approve(id).unwrap();
        assert_eq!(q.next_for_delivery("codex").unwrap().id, id);
        q.delivered(id, false);
        assert_eq!(q.get(id).unwrap().state, MessageState::Delivered);
        assert_eq!(q.next_for_delivery("codex"), None);
        assert_eq!(
            q.approve(id),
            Err(DecisionError::NotPending(id, "delivered"))
        );
        assert_eq!(q.approve(99), Err(DecisionError::NoSuchMessage(99)));
    }

    #[test]
    fn bad_messages_are_refused_with_a_reason_for_the_model() {
        let mut q = queue();
        let err = |q: &mut RelayQueue, from, to, text| q.submit(from, to, text, 0).unwrap_err();
        assert_eq!(
            err(&mut q, "claude", "codex", "  \n\t "),
            SubmitError::Empty("codex".into())
        );
        let unknown = err(&mut q, "claude", "bob", "hi");
        assert_eq!(
            unknown.to_string(),
            "unknown target \"bob\"; agents in this run: codex"
        );
        let me = err(&mut q, "claude", "Claude", "hi");
        assert!(matches!(me, SubmitError::SelfTarget(_, _)), "{me}");
        assert!(me.to_string().contains("codex"), "{me}");
        let big = "x".repeat(64 * 1024 + 1);
        assert_eq!(
            err(&mut q, "claude", "codex", &big),
            SubmitError::TooLarge {
                size: 64 * 1024 + 1,
                cap: 64 * 1024
            }
        );
        assert!(matches!(
            err(&mut q, "mallory", "codex", "hi"),
            SubmitError::UnknownSender(_)
        ));
        assert!(q.messages().is_empty(), "nothing refused is kept");
    }

    #[test]
    fn relayed_text_is_sanitised_on_the_way_in() {
        let mut q = queue();
        let (id, _) = send(
            &mut q,
            "claude",
            "codex",
            "ok\x1b[201~\x1b]52;c;AAAA\x07 done",
        );
        assert_eq!(q.get(id).unwrap().text, "ok done");
    }

    #[test]
    fn editing_delivers_the_new_text_and_tells_the_sender() {
        let mut q = queue();
        let (id, _) = send(&mut q, "claude", "codex", "use a mutex");
        let records = q.edit(id, "use a channel", 5).unwrap();
        let m = q.get(id).unwrap();
        assert_eq!(m.state, MessageState::Edited);
        assert_eq!(m.outgoing_text(), "use a channel");
        assert_eq!(q.next_for_delivery("codex").unwrap().id, id);
        let notice = q.next_for_delivery("claude").expect("sender is told");
        assert_eq!(notice.from, LOOP_TUI);
        assert!(
            notice.text.starts_with(&format!(
                "[loop-tui] your message #{id} to codex was edited"
            )),
            "{}",
            notice.text
        );
        assert!(notice.text.contains("use a channel"));
        assert_eq!(records.len(), 3, "human action, edit, notice: {records:?}");
    }

    #[test]
    fn rejecting_never_delivers_and_tells_the_sender_why() {
        let mut q = queue();
        let (id, _) = send(&mut q, "claude", "codex", "delete the tests");
        q.reject(id, Some("no, keep them"), 0).unwrap();
        assert_eq!(q.get(id).unwrap().state, MessageState::Rejected);
        assert_eq!(q.next_for_delivery("codex"), None);
        let notice = q.next_for_delivery("claude").unwrap();
        assert_eq!(
            notice.text,
            format!(
                "[loop-tui] your message #{id} to codex was rejected by the human: no, keep them"
            )
        );
        let (id2, _) = send(&mut q, "claude", "codex", "another");
        q.reject(id2, None, 0).unwrap();
        assert!(q.messages().iter().any(|m| m.text
            == format!("[loop-tui] your message #{id2} to codex was rejected by the human.")));
    }

    #[test]
    fn a_repeat_of_the_last_message_the_other_way_is_suppressed() {
        let mut q = queue();
        let (first, _) = send(&mut q, "claude", "codex", "Looks   good to me.");
        q.approve(first).unwrap();
        let (echo, disposition) = send(
            &mut q,
            "codex",
            "claude",
            "[loop-tui] message #1 from claude:\nlooks good\nto me.",
        );
        assert_eq!(disposition, Disposition::Suppressed { of: first });
        assert_eq!(q.get(echo).unwrap().state, MessageState::Suppressed);
        assert_eq!(q.next_for_delivery("claude"), None);
        // The same text in the same direction is not an echo.
        let (_, again) = send(&mut q, "claude", "codex", "Looks good to me.");
        assert_eq!(again, Disposition::Queued);
    }

    #[test]
    fn auto_approve_globally_per_direction_and_the_hop_cap() {
        let mut q = queue();
        q.set_auto_direction("claude", "codex", true);
        assert_eq!(
            send(&mut q, "claude", "codex", "a").1,
            Disposition::AutoApproved
        );
        assert_eq!(send(&mut q, "codex", "claude", "b").1, Disposition::Queued);
        q.set_auto_all(true);
        q.hop_cap = 3;
        assert_eq!(
            send(&mut q, "codex", "claude", "c").1,
            Disposition::AutoApproved
        );
        assert_eq!(
            send(&mut q, "claude", "codex", "d").1,
            Disposition::AutoApproved
        );
        assert_eq!(
            send(&mut q, "codex", "claude", "e").1,
            Disposition::AutoApproved
        );
        assert_eq!(q.hops, 3);
        // The fourth relay in a row without the human pauses the relay.
        let (held, disposition) = send(&mut q, "claude", "codex", "f");
        assert_eq!(disposition, Disposition::Queued);
        assert_eq!(q.pause, Some(Pause::HopCap(3)));
        assert_eq!(q.get(held).unwrap().state, MessageState::Pending);
        assert_eq!(
            q.next_for_delivery("claude"),
            None,
            "paused: nothing goes out"
        );
        // Any human action resets the counter and lifts a hop-cap pause.
        q.approve(held).unwrap();
        assert_eq!((q.hops, q.pause.clone()), (0, None));
        assert_eq!(
            send(&mut q, "codex", "claude", "g").1,
            Disposition::AutoApproved
        );
    }

    #[test]
    fn a_human_pause_holds_everything_until_resumed() {
        let mut q = queue();
        let (id, _) = send(&mut q, "claude", "codex", "x");
        q.toggle_pause();
        assert_eq!(q.pause, Some(Pause::Human));
        q.approve(id).unwrap();
        assert_eq!(q.pause, Some(Pause::Human), "approving does not resume");
        assert_eq!(q.next_for_delivery("codex"), None);
        q.set_auto_all(true);
        assert_eq!(send(&mut q, "codex", "claude", "y").1, Disposition::Queued);
        q.toggle_pause();
        assert_eq!(q.next_for_delivery("codex").unwrap().id, id);
    }

    #[test]
    fn the_human_writes_to_one_agent_or_all_without_approval() {
        let mut q = queue();
        q.compose(Some("CODEX"), "focus on tests", 0);
        q.compose(None, "stop and summarise", 0);
        let to: Vec<(&str, &str, MessageState)> = q
            .messages()
            .iter()
            .map(|m| (m.from.as_str(), m.to.as_str(), m.state))
            .collect();
        assert_eq!(
            to,
            [
                ("human", "codex", MessageState::Approved),
                ("human", "claude", MessageState::Approved),
                ("human", "codex", MessageState::Approved),
            ]
        );
        assert!(q.compose(None, " \x1b[2J ", 0).is_empty());
    }

    #[test]
    fn a_delivery_cut_short_by_a_crash_is_uncertain_never_typed_twice() {
        let mut q = queue();
        let mut records = Vec::new();
        let (typed, _, r) = q.submit("claude", "codex", "one", 1).unwrap();
        records.extend(r);
        let (done, _, r) = q.submit("claude", "codex", "two", 2).unwrap();
        records.extend(r);
        records.extend(q.approve(done).unwrap());
        records.extend(q.delivery_started(done));
        records.extend(q.delivered(done, false));
        records.extend(q.approve(typed).unwrap());
        // loop-tui dies after typing began, before it was confirmed.
        records.extend(q.delivery_started(typed));
        let mut resumed = queue();
        resumed.replay(&records);
        let m = resumed.get(typed).unwrap();
        assert_eq!(m.state, MessageState::Uncertain);
        assert!(m
            .reason
            .as_deref()
            .unwrap()
            .contains("approve to send again"));
        assert_eq!(resumed.get(done).unwrap().state, MessageState::Delivered);
        assert_eq!(resumed.next_for_delivery("codex"), None, "at most once");
        assert_eq!(
            resumed.oldest_pending().map(|m| m.id),
            Some(typed),
            "the human decides"
        );
        // The human checked codex and sends it again.
        resumed.approve(typed).unwrap();
        assert_eq!(
            resumed.next_for_delivery("codex").map(|m| m.id),
            Some(typed)
        );
        assert!(!resumed.get(typed).unwrap().delivery_started);
    }

    #[test]
    fn a_doubted_delivery_replays_as_uncertain_and_a_fetched_one_cannot_be_doubted() {
        let mut q = queue();
        let mut records = Vec::new();
        let (typed, _, r) = q.submit("claude", "codex", "one", 1).unwrap();
        records.extend(r);
        let (fetched, _, r) = q.submit("claude", "codex", "two", 2).unwrap();
        records.extend(r);
        for id in [typed, fetched] {
            records.extend(q.approve(id).unwrap());
        }
        records.extend(q.delivery_started(typed));
        records.extend(q.delivered(typed, false));
        records.extend(q.delivered(fetched, true));
        // codex fetched the second itself: it has it, whatever happens next.
        assert!(q.doubt_delivery(fetched, "codex ended").is_empty());
        let doubted = q.doubt_delivery(typed, "codex ended");
        assert_eq!(doubted.len(), 1);
        assert!(q.doubt_delivery(typed, "again").is_empty(), "once");
        records.extend(doubted);
        let mut resumed = queue();
        resumed.replay(&records);
        let m = resumed.get(typed).unwrap();
        assert_eq!(
            (m.state, m.reason.as_deref()),
            (MessageState::Uncertain, Some("codex ended"))
        );
        assert_eq!(resumed.get(fetched).unwrap().state, MessageState::Delivered);
        assert_eq!(
            resumed.next_for_delivery("codex"),
            None,
            "never typed again on its own"
        );
        resumed.approve(typed).unwrap();
        assert_eq!(
            resumed.next_for_delivery("codex").map(|m| m.id),
            Some(typed)
        );
    }

    #[test]
    fn a_message_that_could_not_be_journalled_is_never_delivered() {
        let mut q = queue();
        q.set_auto_all(true);
        let (id, disposition) = send(&mut q, "claude", "codex", "x");
        assert_eq!(disposition, Disposition::AutoApproved);
        q.refuse(id, "failed to write the journal: No space left on device");
        let m = q.get(id).unwrap();
        assert_eq!(m.state, MessageState::Failed);
        assert!(m.reason.as_deref().unwrap().contains("No space left"));
        assert_eq!(q.next_for_delivery("codex"), None);
        assert_eq!(q.pending_count(), 0);
    }

    #[test]
    fn receive_hands_over_approved_messages_once() {
        let mut q = queue();
        let (a, _) = send(&mut q, "claude", "codex", "one");
        let (b, _) = send(&mut q, "claude", "codex", "two");
        q.approve(a).unwrap();
        let (got, _) = q.receive("codex");
        assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [a]);
        assert!(q.get(a).unwrap().delivered_by_tool);
        assert_eq!(q.next_for_delivery("codex"), None, "never typed later");
        assert!(q.receive("codex").0.is_empty());
        q.approve(b).unwrap();
        assert_eq!(q.receive("codex").0.len(), 1);
    }

    fn rules(patterns: &[&str]) -> Vec<Pattern> {
        patterns.iter().map(|p| Pattern::new(p).unwrap()).collect()
    }

    #[test]
    fn a_hold_rule_keeps_a_message_for_the_human_whatever_auto_approves() {
        let mut q = queue();
        q.set_policy(RelayPolicy {
            auto_all: true,
            hold: rules(&["(?i)rm -rf", r"git push\s+--force"]),
            ..RelayPolicy::default()
        });
        let (held, disposition) = send(&mut q, "claude", "codex", "now run RM -RF target/");
        assert_eq!(disposition, Disposition::Queued);
        let m = q.get(held).unwrap();
        assert_eq!(m.state, MessageState::Pending);
        assert!(!m.auto);
        assert_eq!(m.reason.as_deref(), Some("held by rule (?i)rm -rf"));
        assert_eq!(q.next_for_delivery("codex"), None, "nothing goes out");
        // Everything else is still approved automatically.
        assert_eq!(
            send(&mut q, "codex", "claude", "looks fine").1,
            Disposition::AutoApproved
        );
        // Approving answers the hold: the reason goes.
        q.approve(held).unwrap();
        assert_eq!(q.get(held).unwrap().reason, None);
        assert_eq!(q.next_for_delivery("codex").unwrap().id, held);
    }

    #[test]
    fn an_auto_approve_rule_works_with_auto_off_but_never_over_a_hold() {
        let mut q = queue();
        q.set_policy(RelayPolicy {
            hold: rules(&["(?i)rm -rf"]),
            auto_matching: rules(&["^(?i)status:"]),
            hop_cap: 2,
            ..RelayPolicy::default()
        });
        assert!(!q.auto_all);
        let (id, disposition) = send(&mut q, "claude", "codex", "Status: tests pass");
        assert_eq!(disposition, Disposition::AutoApproved);
        assert!(q.get(id).unwrap().auto);
        assert_eq!(
            send(&mut q, "claude", "codex", "please review").1,
            Disposition::Queued,
            "no rule matches and auto-approve is off"
        );
        let (held, disposition) = send(&mut q, "claude", "codex", "status: about to rm -rf /");
        assert_eq!(disposition, Disposition::Queued);
        assert_eq!(q.get(held).unwrap().state, MessageState::Pending);
        // Rule approvals count towards the hop cap like any other.
        assert_eq!(
            send(&mut q, "codex", "claude", "status: reviewing").1,
            Disposition::AutoApproved
        );
        assert_eq!(
            send(&mut q, "claude", "codex", "status: still fine").1,
            Disposition::Queued
        );
        assert_eq!(q.pause, Some(Pause::HopCap(2)));
    }

    #[test]
    fn the_policy_sets_auto_approve_caps_and_size() {
        let mut q = queue();
        q.set_policy(RelayPolicy {
            auto_directions: [("claude".to_owned(), "codex".to_owned())].into(),
            max_message_bytes: 10,
            ..RelayPolicy::default()
        });
        assert_eq!(
            send(&mut q, "claude", "codex", "short").1,
            Disposition::AutoApproved
        );
        assert_eq!(
            send(&mut q, "codex", "claude", "back").1,
            Disposition::Queued
        );
        assert_eq!(
            q.submit("claude", "codex", "eleven byte", 0).unwrap_err(),
            SubmitError::TooLarge { size: 11, cap: 10 }
        );
    }

    #[test]
    fn a_bad_pattern_is_a_one_line_error_naming_it() {
        let err = Pattern::new("(unclosed").unwrap_err();
        assert_eq!(
            err,
            "invalid regular expression \"(unclosed\": unclosed group"
        );
    }

    #[test]
    fn replaying_the_records_rebuilds_the_same_queue() {
        let mut q = queue();
        let mut records = Vec::new();
        let mut take = |r: Vec<RelayRecord>| records.extend(r);
        let (first, _, r) = q.submit("claude", "codex", "one", 1).unwrap();
        take(r);
        let (second, _, r) = q.submit("codex", "claude", "two", 2).unwrap();
        take(r);
        let (third, _, r) = q.submit("claude", "codex", "three", 3).unwrap();
        take(r);
        take(q.approve(first).unwrap());
        take(q.delivered(first, false));
        take(q.edit(second, "two, edited", 4).unwrap());
        take(q.reject(third, Some("no"), 5).unwrap());
        take(q.set_auto_all(true));
        let (_, _, r) = q.submit("claude", "codex", "four", 6).unwrap();
        take(r);
        take(q.toggle_pause());
        assert_replays(&q, &records);
        let mut fresh = queue();
        fresh.replay(&records);
        let (next, _, _) = fresh.submit("claude", "codex", "five", 7).unwrap();
        assert_eq!(next, q.next_id, "ids continue after a replay");
        // Every record survives a JSON round trip, as the journal does it.
        for record in &records {
            let line = serde_json::to_string(record).unwrap();
            assert_eq!(&serde_json::from_str::<RelayRecord>(&line).unwrap(), record);
        }
    }

    #[test]
    fn decisions_find_their_message_in_a_journal_out_of_id_order() {
        // A journal edited by hand can list messages out of id order; the
        // decisions about them must still reach the right message.
        let mut q = queue();
        let (first, _, mut records) = q.submit("claude", "codex", "one", 1).unwrap();
        let (second, _, r) = q.submit("codex", "claude", "two", 2).unwrap();
        records.splice(0..0, r);
        let mut fresh = queue();
        fresh.replay(&records);
        let mut decisions = fresh.approve(first).unwrap();
        decisions.extend(fresh.reject(second, None, 3).unwrap());
        decisions.extend(fresh.delivered(first, false));
        assert!(!decisions.is_empty());
        assert_eq!(fresh.get(first).unwrap().state, MessageState::Delivered);
        assert_eq!(fresh.get(second).unwrap().state, MessageState::Rejected);
        assert_eq!(fresh.get(second).unwrap().text, "two");
    }
}
