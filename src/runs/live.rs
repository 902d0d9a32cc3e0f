//! The run loop-tui is running now: its directory, its lock and its
//! manifest, kept current as sessions become known and the state changes.
//! Owned by the executor; `update` never touches the disk.

use std::io;
use std::path::Path;

use anyhow::{Context, Result};

use super::manifest::{AgentRecord, Manifest, RunSettings, RunState, MANIFEST_VERSION};
use super::repo::repo_name;
use super::session::{plan_launch, LaunchPlan, SessionStores};
use super::store::{find_run, RunLock};
use crate::agents::profile::AgentSpec;
use crate::run_dir::RunDir;

/// How a resumed run came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// The state the manifest had: `running` means loop-tui was killed.
    pub previous: RunState,
}

pub struct LiveRun {
    pub dir: RunDir,
    manifest: Manifest,
    stores: SessionStores,
    resumed: Option<Resumed>,
    _lock: RunLock,
}

impl LiveRun {
    /// Opens the run `id` when it exists (to resume it: the manifest's
    /// agents and sessions count, `agents` must be the same ones), else
    /// creates a new run for `agents` working in `cwd` (with the id `id`
    /// when given, e.g. the one a `--worktree` branch is named after).
    pub fn open(
        agents: &[AgentSpec],
        settings: RunSettings,
        id: Option<&str>,
        cwd: &Path,
    ) -> Result<Self> {
        let existing = id.and_then(|id| find_run(id).ok().map(|dir| (id, dir)));
        let now = now_ms();
        if let Some((id, path)) = existing {
            let lock = RunLock::acquire(&path, id)?;
            let mut manifest =
                Manifest::read(&path).with_context(|| format!("failed to resume run {id}"))?;
            let previous = manifest.state;
            // A run that ended is at work again; one that awaits the final
            // review (or the human's call) still does, and says so.
            if previous == RunState::Ended {
                manifest.state = RunState::Running;
            }
            manifest.resumed += 1;
            manifest.updated_ms = now;
            manifest.options = settings;
            let dir = RunDir::existing(path, id.to_owned())?;
            let run = Self {
                dir,
                manifest,
                stores: SessionStores::from_env(),
                resumed: Some(Resumed { previous }),
                _lock: lock,
            };
            run.save().context("failed to update the run's manifest")?;
            return Ok(run);
        }
        let repo = repo_name(cwd);
        let dir = RunDir::create(&repo, id)?;
        let lock = RunLock::acquire(&dir.path, &dir.id)?;
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            id: dir.id.clone(),
            cwd: cwd.to_path_buf(),
            repo,
            state: RunState::Running,
            started_ms: now,
            updated_ms: now,
            resumed: 0,
            options: settings,
            agents: agents.iter().map(AgentRecord::of).collect(),
        };
        let run = Self {
            dir,
            manifest,
            stores: SessionStores::from_env(),
            resumed: None,
            _lock: lock,
        };
        run.save().context("failed to write the run's manifest")?;
        Ok(run)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn resumed(&self) -> Option<&Resumed> {
        self.resumed.as_ref()
    }

    pub fn stores(&self) -> &SessionStores {
        &self.stores
    }

    /// How the agent `name` launches now, at its first start or a restart;
    /// a session id loop-tui chose is recorded in the manifest at once.
    pub fn plan_launch(&mut self, name: &str) -> Result<LaunchPlan> {
        let agent = self
            .manifest
            .agents
            .iter()
            .find(|a| a.name == name)
            .with_context(|| format!("the run's manifest has no agent {name}"))?;
        let plan = plan_launch(agent, &self.stores)?;
        if let Some(id) = &plan.record {
            self.record_session(name, id)
                .context("failed to record the session in the run's manifest")?;
        }
        Ok(plan)
    }

    /// The session ids the run's agents other than `name` have, so that
    /// two codex agents never claim the same session.
    pub fn sessions_except(&self, name: &str) -> Vec<String> {
        self.manifest
            .agents
            .iter()
            .filter(|a| a.name != name)
            .filter_map(|a| a.session.clone())
            .collect()
    }

    /// Records that agent `name` has CLI session `id`.
    pub fn record_session(&mut self, name: &str, id: &str) -> io::Result<()> {
        let Some(agent) = self.manifest.agent_mut(name) else {
            return Ok(());
        };
        if agent.session.as_deref() == Some(id) {
            return Ok(());
        }
        agent.session = Some(id.to_owned());
        self.touch_and_save()
    }

    pub fn state(&self) -> RunState {
        self.manifest.state
    }

    /// Moves the run to `state`; returns whether it changed.
    pub fn set_state(&mut self, state: RunState) -> io::Result<bool> {
        if self.manifest.state == state {
            return Ok(false);
        }
        self.manifest.state = state;
        self.touch_and_save().map(|()| true)
    }

    fn touch_and_save(&mut self) -> io::Result<()> {
        self.manifest.updated_ms = now_ms();
        self.save()
    }

    fn save(&self) -> io::Result<()> {
        self.manifest.write(&self.dir.path)
    }
}

/// The current Unix time in milliseconds.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
