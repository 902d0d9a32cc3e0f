//! What the app loop receives and what it asks the executor to do.

use crossterm::event::Event as TerminalEvent;

use crate::bridge::listener::{BridgeEvent, ConnectionId, ReplyHandle, SocketChange};
use crate::bridge::protocol::BridgeReply;
use crate::bridge::relay::{MessageId, RelayRecord};
use crate::pane::emulator::PaneSize;
use crate::pane::pty::PtyEvent;
use crate::pane::PaneId;
use crate::plan::load::PlanLoad;

/// Everything the app loop reacts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppEvent {
    /// Input from the outer terminal: keys, paste, mouse, resize.
    Terminal(TerminalEvent),
    /// A pane's PTY produced output or its child exited.
    Pty(PtyEvent),
    /// An agent's MCP bridge process called a bridge tool.
    Bridge(BridgeEvent),
    /// The connection on which `agent`'s bridge process said hello closed:
    /// that process ended.
    BridgePresenceEnded {
        agent: String,
        connection: ConnectionId,
    },
    /// The bridge socket's file was deleted, re-created or replaced.
    BridgeSocket(SocketChange),
    /// SIGTERM, SIGHUP or SIGINT reached loop-tui: end everything cleanly.
    Signal(i32),
    /// A deadline the state asked for has passed.
    Timer,
    /// The CLI in `pane` (its child `generation`) created its own session,
    /// `session`; found by a watcher, to record in the run's manifest.
    SessionFound {
        pane: PaneId,
        generation: u32,
        session: String,
    },
    /// The plan file was read (at start, and after each change to it).
    PlanChanged(PlanLoad),
}

/// How to move a pane's scrollback view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScrollAction {
    /// Further back into history by this many lines.
    Back(usize),
    /// Towards the live screen by this many lines.
    Forward(usize),
    Top,
    /// Back to the live screen.
    Live,
}

/// Side effects decided by `update`, carried out by the executor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Bytes the user typed, pasted or clicked, for a pane's child; the
    /// pane returns to its live screen first, as a terminal does.
    SendInput {
        pane: PaneId,
        bytes: Vec<u8>,
    },
    Scroll {
        pane: PaneId,
        action: ScrollAction,
    },
    Resize {
        pane: PaneId,
        size: PaneSize,
    },
    /// Start the pane's program again (its state already says so).
    Spawn {
        pane: PaneId,
    },
    /// Bytes of a relayed message for a pane's child; unlike typing, this
    /// leaves the human's scrollback view where it is.
    Deliver {
        pane: PaneId,
        bytes: Vec<u8>,
    },
    /// The paste that starts typing message `id` into a pane, like
    /// `Deliver`, but only while the message still awaits delivery: one
    /// refused while this event was handled (its journal record failed) is
    /// never typed. Follows the `Journal` effect recording that typing
    /// begins.
    TypeMessage {
        pane: PaneId,
        id: MessageId,
        bytes: Vec<u8>,
    },
    /// Append these records to the run's journal and fsync it. Comes before
    /// the `Reply` that depends on it, and effects run in order.
    Journal(Vec<RelayRecord>),
    /// Answer a bridge request.
    Reply {
        to: ReplyHandle,
        reply: BridgeReply,
    },
    /// Record agent `agent`'s CLI session in the run's manifest.
    RecordSession {
        agent: String,
        session: String,
    },
    /// End every child, restore the terminal and exit.
    Quit,
}
