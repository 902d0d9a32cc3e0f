//! The executor: owns the terminal, the PTYs and the event channel, feeds
//! events to `update`, carries out its effects and draws when needed.

use std::io::{stdout, BufWriter, Stdout};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ratatui::backend::{Backend, CrosstermBackend};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::event::{AppEvent, Effect, ScrollAction};
use super::relay_actions::wall_ms;
use super::run_keeper::{resume_summary, RunKeeper};
use super::state::{AppState, ChildState, PaneSpec};
use super::update::{next_deadline, update};
use super::workflow::Workflow;
use crate::agents::profile::{AgentSpec, Command};
use crate::agents::role::Role;
use crate::agents::task::LoopTask;
use crate::bridge::journal::Journal;
use crate::bridge::listener::{BridgeListener, ListenerEvent};
use crate::bridge::relay::{JournalEntry, RelayPolicy, RelayRecord};
use crate::config::{GridLayout, Theme};
use crate::keymap::Keymap;
use crate::pane::emulator::EmulatorKind;
use crate::pane::pty::PaneProgram;
use crate::pane::pty::{end_children, PtyEvent, PtyProcess};
use crate::pane::PaneId;
use crate::plan::watch::PlanWatcher;
use crate::runs::session::LaunchPlan;
use crate::terminal::TerminalGuard;
use crate::ui::Presenter;

/// The shortest gap between two frames while output keeps arriving: one
/// frame per 60 Hz refresh. An isolated change (a key's echo) is drawn at
/// once, because the previous frame is then long past.
const FRAME_INTERVAL: Duration = Duration::from_millis(16);

/// How long each of SIGHUP and SIGTERM gets to end a child on quit before
/// the next, harsher signal.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// Events handled before drawing, so a burst is folded into one frame but
/// a flood of input cannot starve the screen.
const MAX_EVENTS_PER_FRAME: usize = 512;

type Tui = Presenter<CrosstermBackend<BufWriter<Stdout>>>;

pub struct RunOptions {
    pub agents: Vec<AgentSpec>,
    pub scrollback_lines: usize,
    pub emulator: EmulatorKind,
    /// Resume this run (replaying its journal) instead of starting a new one.
    pub run_id: Option<String>,
    /// The task, its proof and done signal (the loop workflow).
    pub task: LoopTask,
    /// Keys, colours, layout and relay policy from the config file.
    pub settings: RunSettings,
    /// The shared plan, relative to the working directory ([plan] path).
    pub plan_path: PathBuf,
}

/// What a run takes from the config file besides its agents.
pub struct RunSettings {
    /// The prefix key and its bindings ([keys]).
    pub keymap: Keymap,
    /// Auto-approve, hop cap, message size and rules ([relay]).
    pub relay: RelayPolicy,
    pub theme: Theme,
    /// How the agent panes share the screen ([ui] layout).
    pub layout: GridLayout,
}

/// What the executor owns besides the state: the children and the run's files.
struct Io {
    processes: Vec<Option<PtyProcess>>,
    journal: Journal,
    run: RunKeeper,
    /// Why the journal could not take the records of the event being
    /// handled: the answer to that event's bridge call must say so.
    journal_failure: Option<String>,
}

/// Turns the agents into panes: their commands (each starting or resuming
/// its CLI session), environment and titles; also says how each agent
/// starts, for the resume notice.
fn pane_specs(
    agents: &[AgentSpec],
    run: &mut RunKeeper,
) -> Result<(Vec<PaneSpec>, Vec<LaunchPlan>)> {
    let mut plans = Vec::new();
    let mut specs = Vec::new();
    for (pane, agent) in agents.iter().enumerate() {
        let ((command, env), plan) = run.command(pane)?;
        plans.push(plan);
        specs.push(pane_spec(agent, command, env));
    }
    Ok((specs, plans))
}

fn pane_spec(agent: &AgentSpec, command: Command, env: Vec<(String, String)>) -> PaneSpec {
    let program = match command {
        Command::Exec(argv) => PaneProgram::Exec(argv),
        Command::Shell(line) => PaneProgram::Shell(line),
    };
    PaneSpec {
        title: if agent.name == agent.role.to_string() {
            agent.name.clone()
        } else {
            format!("{} · {}", agent.name, agent.role)
        },
        name: agent.name.clone(),
        program,
        env,
        submit_gap: agent.submit_gap(),
        shift_enter_as_esc_cr: agent.shift_enter_as_esc_cr(),
    }
}

/// The worker's first input for a fresh run: the task, or the existing
/// plan. Demo agents cannot work on a real plan, so only an explicit task
/// starts them.
fn kickoff_text(agents: &[AgentSpec], task: &LoopTask) -> Option<String> {
    let reviewer = agents.iter().find(|a| a.role == Role::Reviewer)?;
    agents.iter().find(|a| a.role == Role::Worker)?;
    let demo = agents
        .iter()
        .all(|a| matches!(a.launch, crate::agents::profile::Launch::Demo));
    let plan_exists = !demo && std::path::Path::new(&task.plan_path).is_file();
    task.kickoff(&reviewer.name, plan_exists)
}

/// Runs loop-tui until the user quits or a signal ends it.
pub fn run(options: RunOptions) -> Result<()> {
    let RunOptions {
        agents,
        scrollback_lines,
        emulator,
        run_id,
        task,
        settings,
        plan_path,
    } = options;
    let mut run_keeper = RunKeeper::open(
        agents.clone(),
        emulator,
        scrollback_lines,
        &task,
        run_id.as_deref(),
    )?;
    run_keeper.set_max_message_bytes(settings.relay.max_message_bytes);
    let run_dir = run_keeper.live().dir.clone();
    let (specs, launch_plans) = pane_specs(&agents, &mut run_keeper)?;
    let replay = Journal::replay::<JournalEntry>(&run_dir.journal_path())
        .with_context(|| format!("failed to read {}", run_dir.journal_path().display()))?;
    let journal = Journal::open(&run_dir.journal_path())
        .with_context(|| format!("failed to open {}", run_dir.journal_path().display()))?;

    let (guard, mut terminal, size) = enter_terminal()?;

    let (tx, rx) = mpsc::channel();
    spawn_input_reader(tx.clone())?;
    spawn_signal_listener(tx.clone())?;
    let _listener = listen(&run_dir, &tx)?;

    let mut state =
        AppState::with_emulator(specs, (size.width, size.height), scrollback_lines, emulator);
    state.run_id.clone_from(&run_dir.id);
    // Before the journal is replayed, so the human's changes in a resumed
    // run win over the config file.
    configure(&mut state, settings);
    let worker = agents.iter().position(|a| a.role == Role::Worker);
    let reviewer = agents.iter().position(|a| a.role == Role::Reviewer);
    let kickoff = kickoff_text(&agents, &task);
    state.workflow = Workflow::new(task, worker, reviewer);
    if let Some(phase) = run_keeper.resumed_phase() {
        state.workflow.phase = phase;
    }
    let _plan_watcher = watch_plan(&mut state, plan_path, &tx);
    let mut io = Io {
        processes: Vec::new(),
        journal,
        run: run_keeper,
        journal_failure: None,
    };
    let records: Vec<RelayRecord> = replay.records.into_iter().map(|e| e.record).collect();
    let opening = io.run.opening_record(&launch_plans);
    journal_records(&mut state, &mut io, vec![opening]);
    let resumed = io.run.is_resumed();
    if resumed {
        state.relay.replay(&records);
        super::relay_actions::select_newest_pending(&mut state);
        state.notice = Some(format!(
            "resumed run {}: {} messages, {} pending{}{}{}",
            run_dir.id,
            state.relay.messages().len(),
            state.relay.pending_count(),
            match state.relay.uncertain_count() {
                0 => String::new(),
                n => format!(", {n} delivery uncertain"),
            },
            if replay.skipped.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} unreadable journal lines skipped",
                    replay.skipped.len()
                )
            },
            resume_summary(&agents, &launch_plans),
        ));
    }
    // CLIs without a system-prompt flag get their role as first input; on
    // resume too, since such a CLI cannot resume its session either.
    for agent in agents.iter().filter(|a| a.role_prompt_as_first_input()) {
        let notice = state
            .relay
            .system_notice(&agent.name, agent.role_prompt(), wall_ms());
        journal_records(&mut state, &mut io, notice);
    }
    // The task from the command line is the human's first message.
    if let (Some(text), Some(w), false) = (kickoff, worker, resumed) {
        let records = state.relay.compose(Some(&agents[w].name), &text, wall_ms());
        journal_records(&mut state, &mut io, records);
    }
    for pane in 0..state.panes.len() {
        io.processes.push(None);
        spawn_pane(&mut state, &mut io.processes, pane, &tx);
        io.run.watch(pane, state.panes[pane].generation, &tx);
    }

    let result = event_loop(&mut state, &mut io, &mut terminal, &tx, &rx);
    shutdown(&mut state, &io.processes, &rx);
    match io.run.end() {
        Ok(record) => journal_records(&mut state, &mut io, record.into_iter().collect()),
        // The terminal is about to be restored: say it where it will be seen.
        Err(err) => eprintln!("loop-tui: {err:#}"),
    }
    drop(terminal);
    drop(guard);
    result
}

/// Listens on the run's bridge socket; requests, presences that end and
/// changes to the socket file become app events.
fn listen(run_dir: &crate::run_dir::RunDir, tx: &Sender<AppEvent>) -> Result<BridgeListener> {
    let bridge_tx = std::sync::Mutex::new(tx.clone());
    BridgeListener::start(&run_dir.socket, run_dir.token.clone(), move |event| {
        let event = match event {
            ListenerEvent::Request(request) => AppEvent::Bridge(request),
            ListenerEvent::PresenceEnded { agent, connection } => {
                AppEvent::BridgePresenceEnded { agent, connection }
            }
            ListenerEvent::Socket(change) => AppEvent::BridgeSocket(change),
        };
        if let Ok(tx) = bridge_tx.lock() {
            let _ = tx.send(event);
        }
    })
}

/// Takes over the terminal: the guard restores it when dropped.
fn enter_terminal() -> Result<(TerminalGuard, Tui, ratatui::layout::Size)> {
    let guard = TerminalGuard::enter()?;
    // A large buffer turns a frame into one write to the terminal.
    let backend = CrosstermBackend::new(BufWriter::with_capacity(1 << 16, stdout()));
    let size = backend.size().context("failed to read the terminal size")?;
    Ok((guard, Presenter::new(backend), size))
}

/// Applies the config file's keys, colours, layout and relay policy.
fn configure(state: &mut AppState, settings: RunSettings) {
    state.keymap = settings.keymap;
    state.theme = settings.theme;
    state.layout = settings.layout;
    // The panes were sized for the automatic layout; give them their size
    // in the configured one before their programs start.
    let count = state.panes.len();
    for pane in 0..count {
        let size = state.layout_size(pane, count);
        state.panes[pane].screen.lock().resize(size);
        state.panes[pane].size = size;
    }
    state.relay.set_policy(settings.relay);
}

fn event_loop(
    state: &mut AppState,
    io: &mut Io,
    terminal: &mut Tui,
    tx: &Sender<AppEvent>,
    rx: &Receiver<AppEvent>,
) -> Result<()> {
    let mut first_frame_drawn = false;
    let mut last_frame = Instant::now()
        .checked_sub(FRAME_INTERVAL)
        .unwrap_or_else(Instant::now);
    loop {
        let draw_at =
            (state.needs_redraw || state.pane_output).then(|| last_frame + FRAME_INTERVAL);
        let wake_at = [draw_at, next_deadline(state, Instant::now())]
            .into_iter()
            .flatten()
            .min();
        let first = match wake_at {
            // Idle: block until something happens, using no CPU.
            None => rx.recv().ok(),
            Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(event) => Some(event),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            },
        };
        let mut pending = first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()));
        for event in pending.by_ref().take(MAX_EVENTS_PER_FRAME) {
            handle(state, io, event, tx);
            if state.quitting {
                return Ok(());
            }
        }
        let now = Instant::now();
        if next_deadline(state, now).is_some_and(|at| at <= now) {
            handle(state, io, AppEvent::Timer, tx);
        }
        let now = Instant::now();
        if (state.needs_redraw || state.pane_output) && now >= last_frame + FRAME_INTERVAL {
            draw(state, terminal)?;
            // The first frame shows the borders before any child has
            // printed: a child's first output must not wait a whole frame
            // interval behind it (that was most of loop-tui's time to first
            // frame), so it does not count for the pacing.
            last_frame = if first_frame_drawn {
                now
            } else {
                now.checked_sub(FRAME_INTERVAL).unwrap_or(now)
            };
            first_frame_drawn = true;
        }
    }
}

/// Puts a frame on the terminal: only the panes' changed rows when nothing
/// but their output changed, else the whole screen.
fn draw(state: &mut AppState, terminal: &mut Tui) -> Result<()> {
    let rows_only = !state.needs_redraw
        && terminal
            .draw_pane_output(state)
            .context("failed to draw to the terminal")?;
    if !rows_only {
        terminal
            .draw(state)
            .context("failed to draw to the terminal")?;
    }
    state.needs_redraw = false;
    state.pane_output = false;
    Ok(())
}

fn handle(state: &mut AppState, io: &mut Io, event: AppEvent, tx: &Sender<AppEvent>) {
    io.journal_failure = None;
    for effect in update(state, event, Instant::now()) {
        execute(state, io, effect, tx);
    }
    // The run's manifest follows the workflow (done, awaiting review, ...).
    match io.run.sync_phase(state.workflow.phase) {
        Ok(record) => journal_records(state, io, record.into_iter().collect()),
        Err(err) => state.notice = Some(format!("{err:#}")),
    }
}

/// Appends records to the journal; a failure is shown, never fatal, so a
/// full disk does not take the agents down with it.
fn journal_records(state: &mut AppState, io: &mut Io, records: Vec<RelayRecord>) {
    let ts = wall_ms();
    for record in records {
        let refused = match &record {
            RelayRecord::Sent { message } if message.is_between_agents() => Some(message.id),
            // Typing is on record before its first byte (delivery at most
            // once): a message whose typing cannot be recorded is not typed.
            RelayRecord::DeliveryStarted { id } => Some(*id),
            _ => None,
        };
        if let Err(err) = io.journal.append(&JournalEntry { ts, record }) {
            let why = format!(
                "failed to write the journal {}: {err}",
                io.journal.path().display()
            );
            // A message that is not journalled would be lost in a crash:
            // it is not accepted, and its sender is told (see `Reply`).
            if let Some(id) = refused {
                state.relay.refuse(id, &why);
            }
            state.notice = Some(why.clone());
            state.needs_redraw = true;
            io.journal_failure = Some(why);
        }
    }
}

fn execute(state: &mut AppState, io: &mut Io, effect: Effect, tx: &Sender<AppEvent>) {
    let processes = &mut io.processes;
    match effect {
        Effect::SendInput { pane, bytes } => {
            // Typing returns a scrolled-back pane to its live screen.
            let mut emulator = state.panes[pane].screen.lock();
            if emulator.scroll_offset() != 0 {
                emulator.set_scroll_offset(0);
                drop(emulator);
                state.needs_redraw = true;
            }
            if let Some(process) = &processes[pane] {
                process.write(bytes);
            }
        }
        Effect::Scroll { pane, action } => {
            let mut emulator = state.panes[pane].screen.lock();
            let current = emulator.scroll_offset();
            let target = match action {
                ScrollAction::Back(n) => current.saturating_add(n),
                ScrollAction::Forward(n) => current.saturating_sub(n),
                ScrollAction::Top => usize::MAX,
                ScrollAction::Live => 0,
            };
            emulator.set_scroll_offset(target);
        }
        Effect::Resize { pane, size } => {
            state.panes[pane].screen.lock().resize(size);
            if let Some(process) = &mut processes[pane] {
                if let Err(err) = process.resize(size) {
                    state.notice = Some(format!("pane {}: {err:#}", pane + 1));
                }
            }
        }
        Effect::Spawn { pane } => {
            processes[pane] = None;
            // A restarted agent resumes its session when its CLI saved one.
            match io.run.command(pane) {
                Ok(((command, env), _)) => {
                    let spec = &mut state.panes[pane].spec;
                    let fresh = pane_spec(&io.run.agents()[pane], command, env);
                    spec.program = fresh.program;
                    spec.env = fresh.env;
                }
                Err(err) => state.notice = Some(format!("pane {}: {err:#}", pane + 1)),
            }
            spawn_pane(state, &mut io.processes, pane, tx);
            io.run.watch(pane, state.panes[pane].generation, tx);
        }
        Effect::RecordSession { agent, session } => {
            if let Err(err) = io.run.record_session(&agent, &session) {
                state.notice = Some(format!("{err:#}"));
                state.needs_redraw = true;
            }
        }
        Effect::Deliver { pane, bytes } => {
            if let Some(process) = &processes[pane] {
                process.write(bytes);
            }
        }
        Effect::TypeMessage { pane, id, bytes } => {
            if state.relay.get(id).is_some_and(|m| m.state.awaits_delivery()) {
                if let Some(process) = &processes[pane] {
                    process.write(bytes);
                }
            } else if state.panes[pane].delivery.is_some_and(|d| d.id == id) {
                // Refused while this event was handled: no paste, so no
                // Enter to follow it either.
                state.panes[pane].delivery = None;
                state.needs_redraw = true;
            }
        }
        Effect::Journal(records) => journal_records(state, io, records),
        Effect::Reply { to, reply } => match &io.journal_failure {
            Some(why) if reply.ok => to.send(crate::bridge::protocol::BridgeReply::error(format!(
                "not accepted: loop-tui could not record it ({why}). Nothing was queued; tell the human, who must fix the disk or the run directory."
            ))),
            _ => to.send(reply),
        },
        Effect::Quit => {}
    }
}

fn spawn_pane(
    state: &mut AppState,
    processes: &mut [Option<PtyProcess>],
    pane: PaneId,
    tx: &Sender<AppEvent>,
) {
    let p = &mut state.panes[pane];
    let notify = {
        let tx = tx.clone();
        move |event: PtyEvent| {
            let _ = tx.send(AppEvent::Pty(event));
        }
    };
    match PtyProcess::spawn(
        pane,
        p.generation,
        &p.spec.program,
        &p.spec.env,
        p.size,
        p.screen.clone(),
        notify,
    ) {
        Ok(process) => {
            p.input_backlog = process.backlog();
            processes[pane] = Some(process);
        }
        Err(err) => {
            let message = format!("{err:#}");
            p.screen.feed(
                format!("\r\nloop-tui could not start this pane: {message}\r\nCheck the command, then press the prefix key and r to retry.\r\n")
                    .as_bytes(),
            );
            p.child = ChildState::FailedToStart(message);
            state.needs_redraw = true;
        }
    }
}

/// Ends every child and waits until each is reaped.
fn shutdown(state: &mut AppState, processes: &[Option<PtyProcess>], rx: &Receiver<AppEvent>) {
    let running_panes: Vec<bool> = state
        .panes
        .iter()
        .map(|pane| pane.child == ChildState::Running)
        .collect();
    let running: Vec<&PtyProcess> = processes
        .iter()
        .zip(running_panes)
        .filter_map(|(process, running)| process.as_ref().filter(|_| running))
        .collect();
    end_children(&running, EXIT_GRACE, |grace| {
        let deadline = Instant::now() + grace;
        while state.running_count() > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(event @ AppEvent::Pty(PtyEvent::Exited { .. })) => {
                    let _ = update(state, event, Instant::now());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        state.running_count() > 0
    });
}

/// Starts watching the plan file when the plan pane is shown. If the
/// watch cannot be set up, the file is still read once and the status bar
/// says that changes will not show.
fn watch_plan(state: &mut AppState, path: PathBuf, tx: &Sender<AppEvent>) -> Option<PlanWatcher> {
    if !state.plan.shown {
        return None;
    }
    // Absolute, so the pane can say exactly where a missing plan belongs.
    state.plan.path = std::path::absolute(&path).unwrap_or(path);
    let deliver = {
        let tx = tx.clone();
        move |load| tx.send(AppEvent::PlanChanged(load)).is_ok()
    };
    match PlanWatcher::start(&state.plan.path, deliver) {
        Ok(watcher) => Some(watcher),
        Err(err) => {
            let _ = tx.send(AppEvent::PlanChanged(crate::plan::load::load(
                &state.plan.path,
            )));
            state.notice = Some(format!("{err:#}; the plan pane will not follow changes"));
            None
        }
    }
}

fn spawn_input_reader(tx: Sender<AppEvent>) -> Result<()> {
    thread::Builder::new()
        .name("terminal-input".into())
        .spawn(move || loop {
            if let Ok(event) = crossterm::event::read() {
                if tx.send(AppEvent::Terminal(event)).is_err() {
                    break;
                }
            } else {
                // The terminal is gone (closed window): behave as on SIGHUP.
                let _ = tx.send(AppEvent::Signal(SIGHUP));
                break;
            }
        })
        .context("failed to start the input thread")?;
    Ok(())
}

fn spawn_signal_listener(tx: Sender<AppEvent>) -> Result<()> {
    let mut signals =
        Signals::new([SIGTERM, SIGHUP, SIGINT]).context("failed to install signal handlers")?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if tx.send(AppEvent::Signal(signal)).is_err() {
                    break;
                }
            }
        })
        .context("failed to start the signal thread")?;
    Ok(())
}
