//! `loop-tui --run-id ID`: what to run to bring a run back, from its
//! manifest: the same agents (resuming their sessions), in the same
//! directory, with the same emulator, scrollback and task.

use anyhow::{bail, Context, Result};

use super::manifest::{LaunchRecord, Manifest, RunSettings};
use super::store::find_run;
use crate::agents::profile::AgentSpec;
use crate::agents::task::{LoopTask, TaskPrompt};
use crate::pane::emulator::EmulatorKind;

/// The options given on the command line along with `--run-id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Given {
    /// `--emulator`, when given: it overrides the run's.
    pub emulator: Option<EmulatorKind>,
    /// `--scrollback`, when given: it overrides the run's.
    pub scrollback: Option<usize>,
    /// Options that choose other agents (`--agent`, `--pane`, a task, ...),
    /// by name: a resumed run keeps its own, so these are refused.
    pub agent_options: Vec<String>,
    /// `loop-tui demo --run-id ID`: fine for a demo run.
    pub demo: bool,
}

/// What `run` needs to resume a run.
#[derive(Debug, Clone)]
pub struct ResumeSetup {
    pub agents: Vec<AgentSpec>,
    pub emulator: EmulatorKind,
    pub scrollback: usize,
    pub task: LoopTask,
}

/// Reads run `id`'s manifest, checks the command line does not ask for
/// other agents, and moves into the run's directory: the agents' sessions
/// belong to it (claude files them by directory).
pub fn prepare(id: &str, given: &Given) -> Result<ResumeSetup> {
    let dir = find_run(id)?;
    let manifest = Manifest::read(&dir)?;
    let agents = manifest.agent_specs();
    let described = || {
        manifest
            .agents
            .iter()
            .map(super::manifest::AgentRecord::describe)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !given.agent_options.is_empty() {
        bail!(
            "--run-id {id} resumes the run's own agents ({}); leave out {}",
            described(),
            given.agent_options.join(", ")
        );
    }
    if given.demo
        && !manifest
            .agents
            .iter()
            .all(|a| a.launch == LaunchRecord::Demo)
    {
        bail!(
            "run {id} is not a demo run (its agents: {}); resume it with `loop-tui --run-id {id}`",
            described()
        );
    }
    std::env::set_current_dir(&manifest.cwd).with_context(|| {
        format!(
            "failed to enter {}, where run {id} worked (was it removed?)",
            manifest.cwd.display()
        )
    })?;
    Ok(ResumeSetup {
        agents,
        emulator: given
            .emulator
            .unwrap_or_else(|| manifest.options.emulator.into()),
        scrollback: given.scrollback.unwrap_or(manifest.options.scrollback),
        task: task_of(&manifest.options),
    })
}

/// The manifest's record of the run's options.
pub fn settings(emulator: EmulatorKind, scrollback: usize, task: &LoopTask) -> RunSettings {
    let default = LoopTask::default();
    RunSettings {
        emulator: emulator.into(),
        scrollback,
        task: task.prompt.as_ref().map(|prompt| match prompt {
            TaskPrompt::Text(text) => text.clone(),
            TaskPrompt::PlanFile(path) => path.display().to_string(),
        }),
        proof: task.proof.clone(),
        done_signal: (task.done_signal != default.done_signal).then(|| task.done_signal.clone()),
    }
}

/// The run's task back from its manifest.
pub fn task_of(settings: &RunSettings) -> LoopTask {
    let default = LoopTask::default();
    LoopTask {
        prompt: settings.task.as_deref().map(LoopTask::prompt_from_arg),
        proof: settings.proof.clone(),
        done_signal: settings.done_signal.clone().unwrap_or(default.done_signal),
        ..default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_task_survives_the_manifest() {
        let task = LoopTask {
            prompt: Some(TaskPrompt::Text("add a --verbose flag".into())),
            proof: Some("cargo test passes".into()),
            done_signal: "ALL DONE".into(),
            ..LoopTask::default()
        };
        let settings = settings(EmulatorKind::Vt100, 500, &task);
        assert_eq!(task_of(&settings), task);
        let plain = settings_for_default();
        assert_eq!(plain.done_signal, None, "the default signal is not written");
        assert_eq!(task_of(&plain), LoopTask::default());
    }

    fn settings_for_default() -> RunSettings {
        settings(EmulatorKind::Alacritty, 10_000, &LoopTask::default())
    }
}
