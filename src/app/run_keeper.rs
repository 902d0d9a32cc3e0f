//! The executor's side of a persistent run: opens (or resumes) the run,
//! builds each agent's command with the session it starts or resumes,
//! watches for the sessions codex creates, and keeps the manifest's state
//! in step with the workflow. The journal records it returns are written
//! by the executor like every other record.

use std::path::PathBuf;
use std::sync::mpsc::Sender;

use anyhow::{Context, Result};

use super::event::AppEvent;
use super::workflow::Phase;
use crate::agents::profile::{
    launch_command, AgentSpec, BridgeContext, Command, Launch, ResumeVia,
};
use crate::agents::task::{LoopTask, Verdict};
use crate::bridge::protocol::DEFAULT_MAX_MESSAGE_BYTES;
use crate::bridge::relay::RelayRecord;
use crate::pane::emulator::EmulatorKind;
use crate::pane::PaneId;
use crate::runs::live::{now_ms, LiveRun};
use crate::runs::manifest::RunState;
use crate::runs::resume::settings;
use crate::runs::session::{session_args, watch_codex_session, LaunchPlan, SessionLaunch, Watcher};

/// An agent's command line and the extra environment it runs with.
pub type AgentCommand = (Command, Vec<(String, String)>);

pub struct RunKeeper {
    live: LiveRun,
    ctx: BridgeContext,
    agents: Vec<AgentSpec>,
    cwd: PathBuf,
    /// Per pane: the last launch should find the session its CLI creates.
    discover: Vec<bool>,
    /// Per pane: the codex session watcher of its current child, if any.
    watchers: Vec<Option<Watcher>>,
}

impl RunKeeper {
    /// Opens the run `run_id` (resuming it when it exists) or a new one.
    pub fn open(
        agents: Vec<AgentSpec>,
        emulator: EmulatorKind,
        scrollback: usize,
        task: &LoopTask,
        run_id: Option<&str>,
    ) -> Result<Self> {
        let cwd = std::env::current_dir().context("failed to read the current directory")?;
        let live = LiveRun::open(&agents, settings(emulator, scrollback, task), run_id, &cwd)?;
        let exe = std::env::current_exe().context("failed to find the loop-tui executable")?;
        let dir = &live.dir;
        let ctx = BridgeContext {
            exe: exe.display().to_string(),
            run_dir: dir.path.clone(),
            run_id: dir.id.clone(),
            socket: dir.socket.clone(),
            token: dir.token.clone(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        };
        let count = agents.len();
        Ok(Self {
            live,
            ctx,
            agents,
            cwd,
            discover: vec![false; count],
            watchers: (0..count).map(|_| None).collect(),
        })
    }

    pub fn live(&self) -> &LiveRun {
        &self.live
    }

    /// The largest message an agent may send ([relay] of the config
    /// file); set before the panes' commands are built, which pass it on.
    pub fn set_max_message_bytes(&mut self, bytes: usize) {
        self.ctx.max_message_bytes = bytes;
    }

    pub fn ctx(&self) -> &BridgeContext {
        &self.ctx
    }

    pub fn is_resumed(&self) -> bool {
        self.live.resumed().is_some()
    }

    pub fn agents(&self) -> &[AgentSpec] {
        &self.agents
    }

    /// The command and environment agent `pane` starts with now: its
    /// session started or resumed. Also returns the plan, to say how.
    pub fn command(&mut self, pane: PaneId) -> Result<(AgentCommand, LaunchPlan)> {
        let agent = &self.agents[pane];
        let plan = self.live.plan_launch(&agent.name)?;
        let (mut command, env) = launch_command(agent, &self.ctx)?;
        if let (Command::Exec(argv), Launch::Profile(profile)) = (&mut command, &agent.launch) {
            argv.extend(session_args(&profile.resume, &plan.session));
        }
        self.discover[pane] = plan.discover;
        // A new child's session is not the old child's: stop looking for that.
        self.watchers[pane] = None;
        Ok(((command, env), plan))
    }

    /// Starts watching for the session the child just started in `pane`
    /// creates, when its CLI picks the id itself; the watcher reports it
    /// as an event, so the app loop records it.
    pub fn watch(&mut self, pane: PaneId, generation: u32, tx: &Sender<AppEvent>) {
        if !self.discover[pane] {
            return;
        }
        let Some(sessions) = self.live.stores().codex_sessions() else {
            return;
        };
        let tx = tx.clone();
        let exclude = self.live.sessions_except(&self.agents[pane].name);
        self.watchers[pane] = watch_codex_session(
            sessions,
            self.cwd.clone(),
            now_ms(),
            exclude,
            move |session| {
                let _ = tx.send(AppEvent::SessionFound {
                    pane,
                    generation,
                    session,
                });
            },
        )
        .ok();
    }

    /// Records agent `name`'s session in the manifest.
    pub fn record_session(&mut self, name: &str, session: &str) -> Result<()> {
        self.live
            .record_session(name, session)
            .context("failed to record the agent's session in the run's manifest")
    }

    /// The journal record that opens this stretch of the run: started,
    /// with its agents, or resumed, with how each agent came back.
    pub fn opening_record(&self, plans: &[LaunchPlan]) -> RelayRecord {
        if let Some(resumed) = self.live.resumed() {
            let mut notes: Vec<String> = plans.iter().map(|p| p.note.clone()).collect();
            if resumed.previous == RunState::Running {
                notes.insert(
                    0,
                    "the previous loop-tui of this run was killed (it never said it ended)".into(),
                );
            }
            RelayRecord::RunResumed { notes }
        } else {
            RelayRecord::RunStarted {
                cwd: self.cwd.display().to_string(),
                agents: self
                    .live
                    .manifest()
                    .agents
                    .iter()
                    .map(crate::runs::manifest::AgentRecord::describe)
                    .collect(),
            }
        }
    }

    /// The workflow phase a resumed run was in, if not plain work.
    pub fn resumed_phase(&self) -> Option<Phase> {
        match self.live.resumed()?.previous {
            RunState::DoneAwaitingReview => Some(Phase::DoneAwaitingReview),
            RunState::Approved => Some(Phase::Reviewed(Verdict::Approve)),
            RunState::ChangesRequested => Some(Phase::Reviewed(Verdict::Changes)),
            RunState::Running | RunState::Ended => None,
        }
    }

    /// Keeps the manifest's state in step with the workflow's `phase`;
    /// returns the record to journal when it changed.
    pub fn sync_phase(&mut self, phase: Phase) -> Result<Option<RelayRecord>> {
        let state = match phase {
            Phase::Working => RunState::Running,
            Phase::DoneAwaitingReview => RunState::DoneAwaitingReview,
            Phase::Reviewed(Verdict::Approve) => RunState::Approved,
            Phase::Reviewed(Verdict::Changes) => RunState::ChangesRequested,
        };
        self.set_state(state)
    }

    /// loop-tui is ending cleanly: a run at work has ended; one that awaits
    /// the final review (or the human's call) keeps saying so.
    pub fn end(&mut self) -> Result<Option<RelayRecord>> {
        if self.live.state() == RunState::Running {
            self.set_state(RunState::Ended)
        } else {
            Ok(None)
        }
    }

    fn set_state(&mut self, state: RunState) -> Result<Option<RelayRecord>> {
        let changed = self
            .live
            .set_state(state)
            .context("failed to update the run's manifest")?;
        Ok(changed.then_some(RelayRecord::StateChanged { state }))
    }
}

/// How the agents came back, short enough for the status bar after the
/// resume notice: demo agents are left out (they keep no session), the
/// journal has every detail.
pub fn resume_summary(agents: &[AgentSpec], plans: &[LaunchPlan]) -> String {
    let parts: Vec<String> = agents
        .iter()
        .zip(plans)
        .filter_map(|(agent, plan)| {
            let name = &agent.name;
            Some(match (&agent.launch, &plan.session) {
                (Launch::Demo, _) => return None,
                (_, SessionLaunch::Resume(_)) => format!("{name}: session resumed"),
                (Launch::Profile(p), _) if p.resume == ResumeVia::Unsupported => {
                    format!("{name}: new session ({} cannot resume)", p.program)
                }
                (Launch::Profile(_), _) => format!("{name}: new session"),
                (Launch::Custom(..), _) => format!("{name}: command started again"),
            })
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}
