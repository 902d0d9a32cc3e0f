//! A run's `manifest.json`: who took part, how each agent was launched and
//! which CLI session it had, where the run stands, and the options needed
//! to resume it. The journal says what happened; the manifest says how to
//! bring the run back.
//!
//! The manifest is rewritten whole on every change, atomically (a temporary
//! file, fsynced, renamed over the old one, then the directory fsynced), so
//! a crash leaves either the old or the new manifest, never half of one.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::agents::profile::{AgentSpec, Launch, Profile, ProfileKind};
use crate::agents::role::Role;
use crate::pane::emulator::EmulatorKind;

/// The manifest's file name inside the run directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The format version written; a reader accepts this one and older ones.
pub const MANIFEST_VERSION: u32 = 1;

/// Where a run stands. The string forms are what `loop-tui runs` shows and
/// what the manifest and journal hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    /// loop-tui is (or was, if it was killed) running the agents.
    Running,
    /// The worker printed its done signal; the reviewer's final review is
    /// awaited.
    DoneAwaitingReview,
    /// The reviewer approved the final review: both agents say it is done.
    Approved,
    /// The reviewer asked for changes in the final review.
    ChangesRequested,
    /// The human quit loop-tui (or a signal ended it cleanly).
    Ended,
}

impl RunState {
    pub const ALL: [Self; 5] = [
        Self::Running,
        Self::DoneAwaitingReview,
        Self::Approved,
        Self::ChangesRequested,
        Self::Ended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::DoneAwaitingReview => "done-awaiting-review",
            Self::Approved => "approved",
            Self::ChangesRequested => "changes-requested",
            Self::Ended => "ended",
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run state name that is not one of [`RunState::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown run state {0:?}")]
pub struct UnknownRunState(pub String);

impl FromStr for RunState {
    type Err = UnknownRunState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownRunState(s.to_owned()))
    }
}

/// The terminal emulator, as the manifest names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmulatorName {
    Alacritty,
    Vt100,
}

impl From<EmulatorKind> for EmulatorName {
    fn from(kind: EmulatorKind) -> Self {
        match kind {
            EmulatorKind::Alacritty => Self::Alacritty,
            EmulatorKind::Vt100 => Self::Vt100,
        }
    }
}

impl From<EmulatorName> for EmulatorKind {
    fn from(name: EmulatorName) -> Self {
        match name {
            EmulatorName::Alacritty => Self::Alacritty,
            EmulatorName::Vt100 => Self::Vt100,
        }
    }
}

/// The command-line options a resume needs to bring the run back as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    pub emulator: EmulatorName,
    pub scrollback: usize,
    /// The task as given (`TASK` or `--prompt`: text or a plan file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_signal: Option<String>,
}

/// How an agent was launched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LaunchRecord {
    /// A CLI through a launch profile; `program` and `args` as they were,
    /// so a profile overridden by a config file comes back the same.
    Profile {
        profile: ProfileKind,
        program: String,
        args: Vec<String>,
    },
    /// A shell command line (`--pane`).
    Custom { command: String },
    /// A built-in demo agent.
    Demo,
}

impl LaunchRecord {
    pub fn of(launch: &Launch) -> Self {
        match launch {
            Launch::Profile(profile) => Self::Profile {
                profile: profile.kind,
                program: profile.program.clone(),
                args: profile.args.clone(),
            },
            Launch::Custom(command, _) => Self::Custom {
                command: command.clone(),
            },
            Launch::Demo => Self::Demo,
        }
    }

    /// The launch again. A profile is rebuilt from the built-in one of its
    /// kind with the recorded program and arguments; its environment is
    /// not kept (it may hold secrets) and comes from the profile as it is
    /// now; a command line's config-file environment is not kept either.
    pub fn launch(&self) -> Launch {
        match self {
            Self::Profile {
                profile,
                program,
                args,
            } => Launch::Profile(Box::new(Profile {
                program: program.clone(),
                args: args.clone(),
                ..Profile::builtin(*profile)
            })),
            Self::Custom { command } => Launch::Custom(command.clone(), Vec::new()),
            Self::Demo => Launch::Demo,
        }
    }

    /// A short description: `claude`, `demo`, `sh: ./my-agent`.
    pub fn describe(&self) -> String {
        match self {
            Self::Profile { program, .. } => program.clone(),
            Self::Custom { command } => format!("command: {command}"),
            Self::Demo => "demo".to_owned(),
        }
    }
}

/// One agent of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub name: String,
    pub role: Role,
    pub peer: String,
    pub launch: LaunchRecord,
    /// The agent CLI's own session id, once known (claude: chosen by
    /// loop-tui at start; codex: discovered after its first message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// What the run's task added to the role prompt.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub task_note: String,
}

impl AgentRecord {
    pub fn of(agent: &AgentSpec) -> Self {
        Self {
            name: agent.name.clone(),
            role: agent.role,
            peer: agent.peer.clone(),
            launch: LaunchRecord::of(&agent.launch),
            session: None,
            task_note: agent.task_note.clone(),
        }
    }

    pub fn spec(&self) -> AgentSpec {
        AgentSpec {
            name: self.name.clone(),
            role: self.role,
            peer: self.peer.clone(),
            launch: self.launch.launch(),
            task_note: self.task_note.clone(),
        }
    }

    /// `claude (worker, claude)`, `worker (worker, demo)`.
    pub fn describe(&self) -> String {
        format!("{} ({}, {})", self.name, self.role, self.launch.describe())
    }
}

/// The manifest of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub id: String,
    /// The directory the agents run in.
    pub cwd: PathBuf,
    /// The repository the run belongs to (see [`super::repo::repo_name`]).
    pub repo: String,
    pub state: RunState,
    /// Unix time in milliseconds when the run was first started.
    pub started_ms: i64,
    /// Unix time in milliseconds of the last change to the manifest.
    pub updated_ms: i64,
    /// How many times the run was resumed.
    #[serde(default)]
    pub resumed: u32,
    pub options: RunSettings,
    pub agents: Vec<AgentRecord>,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("could not read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a valid loop-tui manifest: {source}")]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} was written by a newer loop-tui (manifest version {version}); update loop-tui to resume it")]
    TooNew { path: PathBuf, version: u32 },
}

impl Manifest {
    /// The specs of the run's agents, to launch them again.
    pub fn agent_specs(&self) -> Vec<AgentSpec> {
        self.agents.iter().map(AgentRecord::spec).collect()
    }

    pub fn agent_mut(&mut self, name: &str) -> Option<&mut AgentRecord> {
        self.agents.iter_mut().find(|a| a.name == name)
    }

    /// Reads the manifest in the run directory `dir`.
    pub fn read(dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let text = fs::read(&path).map_err(|source| ManifestError::Io {
            path: path.clone(),
            source,
        })?;
        let manifest: Self =
            serde_json::from_slice(&text).map_err(|source| ManifestError::Invalid {
                path: path.clone(),
                source,
            })?;
        if manifest.version > MANIFEST_VERSION {
            return Err(ManifestError::TooNew {
                path,
                version: manifest.version,
            });
        }
        Ok(manifest)
    }

    /// Writes the manifest into the run directory `dir`, atomically.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let mut text = serde_json::to_vec_pretty(self)
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        text.push(b'\n');
        write_atomic(&dir.join(MANIFEST_FILE), &text)
    }
}

/// Replaces `path` with `bytes` so that a crash at any moment leaves either
/// the old file or the new one: the bytes go to a temporary file next to
/// it, which is synced and then renamed over `path`; the directory is
/// synced so the rename itself survives a crash.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let context = |what: &str, err: io::Error| {
        io::Error::new(
            err.kind(),
            format!("could not {what} {}: {err}", path.display()),
        )
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    // The process id keeps two loop-tuis from sharing a temporary file; the
    // run lock means that never happens for one run, but it costs nothing.
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|err| context("write", err))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::runs::test_dir::TestDir;

    fn manifest() -> Manifest {
        let worker = AgentSpec::with_profile("claude", Role::Worker, "codex", ProfileKind::Claude);
        let mut reviewer =
            AgentSpec::with_profile("codex", Role::Reviewer, "claude", ProfileKind::Codex);
        reviewer.task_note = " Proof required: cargo test passes.".into();
        let mut agents: Vec<AgentRecord> = [worker, reviewer].iter().map(AgentRecord::of).collect();
        agents[0].session = Some("3f0c5a8e-1b2d-4c3e-8f4a-5b6c7d8e9f00".into());
        Manifest {
            version: MANIFEST_VERSION,
            id: "20261122-101500-3fa1".into(),
            cwd: "/home/me/src/loop-tui".into(),
            repo: "loop-tui".into(),
            state: RunState::Running,
            started_ms: 1_795_000_000_000,
            updated_ms: 1_795_000_000_500,
            resumed: 0,
            options: RunSettings {
                emulator: EmulatorName::Vt100,
                scrollback: 5000,
                task: Some("add a --verbose flag".into()),
                proof: Some("cargo test passes".into()),
                done_signal: None,
            },
            agents,
        }
    }

    #[test]
    fn a_manifest_round_trips_through_its_file() {
        let dir = TestDir::new("manifest-round-trip");
        let written = manifest();
        written.write(dir.path()).unwrap();
        let read = Manifest::read(dir.path()).unwrap();
        assert_eq!(read, written);
        // What it takes to relaunch the agents comes back too.
        let specs = read.agent_specs();
        assert_eq!(
            specs[0].launch,
            Launch::Profile(Box::new(Profile::builtin(ProfileKind::Claude)))
        );
        assert_eq!(specs[1].task_note, " Proof required: cargo test passes.");
        assert_eq!(
            EmulatorKind::from(read.options.emulator),
            EmulatorKind::Vt100
        );
        let text = std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap();
        assert!(text.contains("\"state\": \"running\""), "{text}");
        assert!(text.contains("\"type\": \"profile\""), "{text}");
    }

    #[test]
    fn rewriting_replaces_the_whole_file_and_leaves_no_temporary_behind() {
        let dir = TestDir::new("manifest-rewrite");
        let mut m = manifest();
        m.write(dir.path()).unwrap();
        m.state = RunState::DoneAwaitingReview;
        m.agents.truncate(1);
        m.write(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), m);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [MANIFEST_FILE], "only the manifest is left");
        let mode = std::fs::metadata(dir.path().join(MANIFEST_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_failed_write_keeps_the_old_manifest() {
        let dir = TestDir::new("manifest-failed-write");
        let m = manifest();
        m.write(dir.path()).unwrap();
        // A directory where the temporary file would go makes the write fail
        // before anything is renamed.
        let temp = dir
            .path()
            .join(format!(".{MANIFEST_FILE}.tmp-{}", std::process::id()));
        std::fs::create_dir(&temp).unwrap();
        let mut changed = m.clone();
        changed.state = RunState::Ended;
        let err = changed.write(dir.path()).unwrap_err();
        assert!(err.to_string().contains(MANIFEST_FILE), "{err}");
        assert_eq!(Manifest::read(dir.path()).unwrap(), m);
    }

    #[test]
    fn unreadable_and_newer_manifests_are_reported_by_path() {
        let dir = TestDir::new("manifest-bad");
        let missing = Manifest::read(dir.path()).unwrap_err();
        assert!(matches!(missing, ManifestError::Io { .. }), "{missing}");
        std::fs::write(dir.path().join(MANIFEST_FILE), "{\"id\": 1").unwrap();
        let invalid = Manifest::read(dir.path()).unwrap_err();
        assert!(
            matches!(invalid, ManifestError::Invalid { .. }),
            "{invalid}"
        );
        assert!(invalid.to_string().contains(MANIFEST_FILE), "{invalid}");
        let mut newer = serde_json::to_value(manifest()).unwrap();
        newer["version"] = (MANIFEST_VERSION + 1).into();
        std::fs::write(dir.path().join(MANIFEST_FILE), newer.to_string()).unwrap();
        let too_new = Manifest::read(dir.path()).unwrap_err();
        assert!(matches!(too_new, ManifestError::TooNew { .. }), "{too_new}");
    }

    #[test]
    fn run_states_have_one_string_form_each() {
        for state in RunState::ALL {
            assert_eq!(state.as_str().parse::<RunState>(), Ok(state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::from(state.as_str())
            );
        }
        assert_eq!(
            "finished".parse::<RunState>(),
            Err(UnknownRunState("finished".into()))
        );
    }
}
