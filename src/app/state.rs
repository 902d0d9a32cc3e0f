//! Everything the app loop owns. The panes' emulators are shared with
//! their reader threads; everything else is only touched by `update`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bridge::listener::ConnectionId;
use crate::bridge::protocol::DEFAULT_MAX_MESSAGE_BYTES;
use crate::bridge::relay::{MessageId, RelayQueue};
use crate::keymap::Keymap;
use crate::layout::{frame_layout_in, Below, FrameLayout, Zoom};
use crate::pane::emulator::{EmulatorKind, PaneSize};
use crate::pane::pty::PaneProgram;
use crate::pane::screen::PaneScreen;
use crate::pane::ChildEnd;
use crate::plan::{PlanPane, DEFAULT_PLAN_PATH};

/// What one pane runs and how it is labelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneSpec {
    pub title: String,
    /// The agent name the bridge knows this pane by.
    pub name: String,
    pub program: PaneProgram,
    /// Extra environment: the bridge's variables and the profile's own.
    pub env: Vec<(String, String)>,
    /// The pause between a delivered paste and the Enter that submits it.
    pub submit_gap: Duration,
    /// Shift-Enter is sent as ESC CR while the child has no kitty flags.
    pub shift_enter_as_esc_cr: bool,
}

impl PaneSpec {
    /// A pane named `name` running `program`, labelled with its name.
    pub fn new(name: &str, program: PaneProgram) -> Self {
        Self {
            title: name.to_owned(),
            name: name.to_owned(),
            program,
            env: Vec::new(),
            submit_gap: Duration::from_millis(150),
            shift_enter_as_esc_cr: false,
        }
    }
}

/// A delivery in progress: the paste is written, the Enter is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveDelivery {
    pub id: MessageId,
    pub enter_at: Instant,
}

/// Where a pane's child is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildState {
    Running,
    Ended(ChildEnd),
    /// The program could not be started; the text says why.
    FailedToStart(String),
}

impl ChildState {
    pub fn label(&self) -> String {
        match self {
            Self::Running => "running".to_owned(),
            Self::Ended(end) => end.to_string(),
            Self::FailedToStart(_) => "failed to start".to_owned(),
        }
    }
}

/// What the pane's border says about the agent's bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeStatus {
    /// No bridge process of this child has said hello: a program that is
    /// not an agent, or an agent still starting. Nothing is shown.
    Unknown,
    /// At least one bridge process is connected.
    Up,
    /// A bridge process said hello and none is connected now: the agent
    /// cannot send or receive messages.
    Down,
}

/// The presence of an agent's `mcp-bridge` processes. Each keeps the
/// connection it said hello on open while it runs; the listener reports
/// the hello and the close, and this keeps count. A set, not a flag,
/// because a CLI that restarts its MCP server may start the new process
/// before the old one's connection is seen to close.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeLink {
    open: BTreeSet<ConnectionId>,
    greeted: bool,
}

impl BridgeLink {
    /// A bridge process said hello on `connection`.
    pub fn hello(&mut self, connection: ConnectionId) {
        self.open.insert(connection);
        self.greeted = true;
    }

    /// The presence `connection` closed; returns whether that took the
    /// bridge down (it was the last one open).
    pub fn closed(&mut self, connection: ConnectionId) -> bool {
        self.open.remove(&connection) && self.open.is_empty()
    }

    /// Whether a bridge process of this child ever said hello: its MCP
    /// client is initialised, so its TUI takes input.
    pub fn greeted(&self) -> bool {
        self.greeted
    }

    pub fn status(&self) -> BridgeStatus {
        match (self.greeted, self.open.is_empty()) {
            (false, _) => BridgeStatus::Unknown,
            (true, false) => BridgeStatus::Up,
            (true, true) => BridgeStatus::Down,
        }
    }
}

pub struct PaneState {
    pub spec: PaneSpec,
    pub screen: Arc<PaneScreen>,
    pub child: ChildState,
    /// Increases with every (re)start, so events from an earlier child of
    /// this pane are recognised and ignored.
    pub generation: u32,
    /// The size the PTY and emulator were last given.
    pub size: PaneSize,
    /// When the child last wrote output.
    pub last_output: Option<Instant>,
    /// When the human last typed or pasted into this pane.
    pub last_input: Option<Instant>,
    /// The border says `working`: output within the last [`WORKING_WINDOW`].
    pub working: bool,
    /// Unfocused and became ready for the human (or rang the bell) since
    /// it was last focused.
    pub attention: bool,
    pub delivery: Option<ActiveDelivery>,
    /// Keys the human typed while a delivery was between paste and Enter;
    /// they follow the Enter so they never split a message.
    pub held_input: Vec<u8>,
    /// The last message typed into the current child and when its Enter
    /// was written: if the child ended about then, it may never have read
    /// it (see [`DELIVERY_DOUBT`]).
    pub last_enter: Option<(MessageId, Instant)>,
    /// Input bytes queued for the child and not yet written.
    pub input_backlog: Arc<AtomicUsize>,
    /// The agent's MCP bridge processes, as their presence connections
    /// tell: up, down, or not heard of yet.
    pub bridge_link: BridgeLink,
    /// When the current child was started.
    pub started_at: Instant,
}

/// How long after its last output an agent still counts as working: agent
/// TUIs animate a spinner or a timer at least once a second while busy.
pub const WORKING_WINDOW: Duration = Duration::from_secs(2);

/// A message whose Enter was written less than this before its target
/// ended is shown as delivery uncertain instead of delivered. The Enter can
/// reach a child that has already died (its exit is reported only after
/// its output is drained), and a child that dies right after the Enter
/// may not have taken the message in; a second is longer than any agent
/// CLI takes to read a submitted prompt into its history.
pub const DELIVERY_DOUBT: Duration = Duration::from_secs(1);

impl PaneState {
    fn new(spec: PaneSpec, screen: PaneScreen, size: PaneSize) -> Self {
        Self {
            spec,
            screen: Arc::new(screen),
            child: ChildState::Running,
            generation: 0,
            size,
            last_output: None,
            last_input: None,
            working: false,
            attention: false,
            delivery: None,
            held_input: Vec::new(),
            last_enter: None,
            input_backlog: Arc::new(AtomicUsize::new(0)),
            bridge_link: BridgeLink::default(),
            started_at: Instant::now(),
        }
    }

    /// What the border says about the agent.
    pub fn activity_label(&self) -> String {
        match &self.child {
            ChildState::Running if self.working => "working".to_owned(),
            ChildState::Running => "waiting for you".to_owned(),
            other => other.label(),
        }
    }

    pub fn backlog(&self) -> usize {
        self.input_backlog.load(Ordering::Relaxed)
    }
}

/// The bridge pane's view state.
#[derive(Debug, Clone, Default)]
pub struct BridgeView {
    /// Shown below the agents (runs with two or more agents).
    pub shown: bool,
    /// Keys go to the bridge pane rather than to an agent.
    pub focused: bool,
    /// The selected message.
    pub selected: Option<MessageId>,
}

/// What the editor popup is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditPurpose {
    /// Edit a pending message; saving approves the edited text.
    Edit(MessageId),
    /// The (optional) reason for rejecting a pending message.
    Reject(MessageId),
    /// A new message from the human to one agent (`Some(index)`) or to all.
    Compose { target: Option<usize> },
}

/// The editor popup and where focus returns when it closes.
pub struct Editor {
    pub purpose: EditPurpose,
    pub text: ratatui_textarea::TextArea<'static>,
    pub return_to_bridge: bool,
}

/// What keys currently mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Keys go to the focused pane.
    Normal,
    /// The prefix was pressed; the next key is a loop-tui command.
    Prefix,
    /// Keys move the focused pane's scrollback view.
    Scroll,
    Help,
    /// Quit was asked while children are running.
    ConfirmQuit,
    /// Keys go to the editor popup.
    Edit,
}

pub struct AppState {
    pub panes: Vec<PaneState>,
    pub focused: usize,
    pub zoomed: bool,
    pub mode: Mode,
    pub keymap: Keymap,
    /// The outer terminal's size (columns, rows).
    pub term_size: (u16, u16),
    /// When a burst of resizes has settled and the PTYs get the new size.
    pub resize_due: Option<Instant>,
    /// A one-line message for the status bar.
    pub notice: Option<String>,
    pub scrollback_lines: usize,
    pub emulator: EmulatorKind,
    /// Something visible changed since the last frame.
    pub needs_redraw: bool,
    /// Only pane output changed since the last frame: the next frame may
    /// redraw just the rows the panes' emulators report as changed.
    pub pane_output: bool,
    pub quitting: bool,
    pub relay: RelayQueue,
    pub bridge: BridgeView,
    pub editor: Option<Editor>,
    /// The run's id, for `bridge_status`.
    pub run_id: String,
    pub workflow: super::workflow::Workflow,
    /// The key whose press loop-tui kept for itself; its release is dropped.
    pub swallow_release: Option<crossterm::event::KeyCode>,
    /// The colours of [ui.theme] in the config file.
    pub theme: crate::config::Theme,
    /// How the agent panes share the screen ([ui] layout).
    pub layout: crate::config::GridLayout,
    /// The PLAN.md pane, shown beside the bridge pane.
    pub plan: PlanPane,
    /// Why agents cannot reach the bridge socket now (its file was deleted
    /// or replaced and loop-tui cannot listen there again); `None` while
    /// the socket is in place.
    pub bridge_socket_lost: Option<String>,
}

impl AppState {
    pub fn new(specs: Vec<PaneSpec>, term_size: (u16, u16), scrollback_lines: usize) -> Self {
        Self::with_emulator(specs, term_size, scrollback_lines, EmulatorKind::default())
    }

    pub fn with_emulator(
        specs: Vec<PaneSpec>,
        term_size: (u16, u16),
        scrollback_lines: usize,
        emulator: EmulatorKind,
    ) -> Self {
        let mut state = Self {
            panes: Vec::with_capacity(specs.len()),
            focused: 0,
            zoomed: false,
            mode: Mode::Normal,
            keymap: Keymap::default(),
            term_size,
            resize_due: None,
            notice: None,
            scrollback_lines,
            emulator,
            needs_redraw: true,
            pane_output: false,
            quitting: false,
            relay: RelayQueue::new(
                specs.iter().map(|s| s.name.clone()).collect(),
                DEFAULT_MAX_MESSAGE_BYTES,
            ),
            bridge: BridgeView {
                shown: specs.len() >= 2,
                ..BridgeView::default()
            },
            editor: None,
            run_id: String::new(),
            workflow: super::workflow::Workflow::default(),
            swallow_release: None,
            theme: crate::config::Theme::default(),
            layout: crate::config::GridLayout::default(),
            plan: PlanPane::new(DEFAULT_PLAN_PATH.into(), specs.len() >= 2),
            bridge_socket_lost: None,
        };
        let count = specs.len();
        for (i, spec) in specs.into_iter().enumerate() {
            let size = state.layout_size(i, count);
            let screen = state.new_screen(size);
            state.panes.push(PaneState::new(spec, screen, size));
        }
        state
    }

    /// The PTY size pane `index` gets in the current layout.
    pub fn layout_size(&self, index: usize, count: usize) -> PaneSize {
        let layout = frame_layout_in(self.area(), count, self.below(), self.zoom(), self.layout);
        layout.panes.get(index).copied().flatten().map_or(
            self.panes
                .get(index)
                .map_or(PaneSize { rows: 1, cols: 1 }, |p| p.size),
            crate::layout::pty_size,
        )
    }

    pub fn area(&self) -> ratatui::layout::Rect {
        ratatui::layout::Rect::new(0, 0, self.term_size.0, self.term_size.1)
    }

    /// What fills the screen while zoomed.
    pub fn zoom(&self) -> Option<Zoom> {
        if !self.zoomed {
            None
        } else if self.bridge.focused {
            Some(Zoom::Bridge)
        } else if self.plan.focused {
            Some(Zoom::Plan)
        } else {
            Some(Zoom::Pane(self.focused))
        }
    }

    /// The rectangles of the current frame.
    pub fn frame_layout(&self) -> FrameLayout {
        frame_layout_in(
            self.area(),
            self.panes.len(),
            self.below(),
            self.zoom(),
            self.layout,
        )
    }

    /// Which panes share the strip below the agents.
    pub fn below(&self) -> Below {
        Below {
            bridge: self.bridge.shown,
            plan: self.plan.shown,
            plan_focused: self.plan.focused,
        }
    }

    /// The agent pane keys go to, if keys go to an agent.
    pub fn focused_agent(&self) -> Option<usize> {
        (!self.bridge.focused && !self.plan.focused && self.focused < self.panes.len())
            .then_some(self.focused)
    }

    /// The pane of the agent called `name`.
    pub fn pane_of(&self, name: &str) -> Option<usize> {
        self.panes.iter().position(|p| p.spec.name == name)
    }

    /// What pane `index`'s border says about its agent's bridge: down for
    /// every connected agent while the socket is lost, since their calls
    /// cannot reach loop-tui even though their presence is still open.
    pub fn bridge_status(&self, index: usize) -> BridgeStatus {
        let status = self
            .panes
            .get(index)
            .map_or(BridgeStatus::Unknown, |p| p.bridge_link.status());
        if status == BridgeStatus::Up && self.bridge_socket_lost.is_some() {
            BridgeStatus::Down
        } else {
            status
        }
    }

    /// A fresh screen for a pane of `size`.
    pub fn new_screen(&self, size: PaneSize) -> PaneScreen {
        PaneScreen::new(self.emulator.create(size, self.scrollback_lines))
    }

    pub fn running_count(&self) -> usize {
        self.panes
            .iter()
            .filter(|p| p.child == ChildState::Running)
            .count()
    }
}
