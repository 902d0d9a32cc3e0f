//! The agent CLIs' own sessions, so that a resumed run brings back each
//! agent's conversation and not only the bridge's messages.
//!
//! * claude: loop-tui picks the session id (a UUID v4) and starts claude
//!   with `--session-id ID`; `--resume ID` brings it back.
//! * codex: codex picks the id and writes its session only once the first
//!   message is sent, as `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-…-ID.jsonl`
//!   whose first line (`session_meta`) holds the id, the working directory
//!   and the start time. loop-tui watches for the session that started in
//!   its directory after the pane did, and `codex … resume ID` brings it back.
//! * gemini and custom commands: nothing to resume; they start afresh.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::Result;

use super::manifest::{AgentRecord, LaunchRecord};
use crate::agents::profile::{Launch, ResumeVia};
use crate::run_dir::random_hex;

/// How often the codex session watcher looks for the new session.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(1);

/// Slack when comparing codex's session start with the pane's: both come
/// from the same clock, but codex rounds to milliseconds and the pane's
/// start is taken just before the spawn.
const START_SLACK_MS: i64 = 1000;

/// The longest first line of a codex session file that is read: it holds
/// codex's base instructions (about 20 KiB today).
const MAX_META_LINE: u64 = 1 << 20;

/// How an agent's CLI session starts this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionLaunch {
    /// No session arguments: the CLI starts a new session of its own.
    Fresh,
    /// A new session with the id loop-tui chose (claude `--session-id`).
    Start(String),
    /// The earlier session with this id (claude `--resume`, codex `resume`).
    Resume(String),
}

/// The arguments that start or resume a session, appended to the CLI's
/// command line: claude takes its flags anywhere, and codex takes its
/// `resume ID` subcommand after the global options (they apply to it).
pub fn session_args(resume: &ResumeVia, launch: &SessionLaunch) -> Vec<String> {
    match (resume, launch) {
        (ResumeVia::SessionIdFlags { start, .. }, SessionLaunch::Start(id)) => {
            vec![start.clone(), id.clone()]
        }
        (ResumeVia::SessionIdFlags { resume, .. }, SessionLaunch::Resume(id)) => {
            vec![resume.clone(), id.clone()]
        }
        (ResumeVia::Subcommand(sub), SessionLaunch::Resume(id)) => vec![sub.clone(), id.clone()],
        _ => Vec::new(),
    }
}

/// A random UUID v4, from the kernel's random source like the run's secret.
pub fn new_session_uuid() -> Result<String> {
    let mut hex: Vec<u8> = random_hex(16)?.into_bytes();
    // Version 4 in the 13th hex digit; variant 10xx in the 17th.
    hex[12] = b'4';
    let variant = char::from(hex[16]).to_digit(16).unwrap_or(0);
    hex[16] = b"89ab"[(variant & 0x3) as usize];
    let hex = String::from_utf8_lossy(&hex).into_owned();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// Where the CLIs keep their sessions, as loop-tui's environment says.
/// The CLIs run with loop-tui's environment, so they use the same places
/// unless a wrapper changes them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionStores {
    /// claude's configuration directory (`$CLAUDE_CONFIG_DIR`, else `~/.claude`).
    pub claude_config: Option<PathBuf>,
    /// codex's home (`$CODEX_HOME`, else `~/.codex`).
    pub codex_home: Option<PathBuf>,
}

impl SessionStores {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let home = var("HOME").map(PathBuf::from);
        Self {
            claude_config: var("CLAUDE_CONFIG_DIR")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".claude"))),
            codex_home: var("CODEX_HOME")
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".codex"))),
        }
    }

    /// Whether claude saved a conversation for session `id`
    /// (`projects/<project>/<id>.jsonl`); claude writes it with the first
    /// message, and `--resume` of an id without one fails.
    pub fn claude_session_saved(&self, id: &str) -> bool {
        let Some(config) = &self.claude_config else {
            return false;
        };
        let file = format!("{id}.jsonl");
        subdirs(&config.join("projects"))
            .iter()
            .any(|project| project.join(&file).is_file())
    }

    /// Whether codex saved session `id` (a rollout file named after it).
    pub fn codex_session_saved(&self, id: &str) -> bool {
        let Some(home) = &self.codex_home else {
            return false;
        };
        let suffix = format!("-{id}.jsonl");
        day_dirs(&home.join("sessions"), None)
            .iter()
            .flat_map(|day| files(day))
            .any(|file| {
                file.file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with(&suffix))
            })
    }

    pub fn codex_sessions(&self) -> Option<PathBuf> {
        self.codex_home.as_ref().map(|home| home.join("sessions"))
    }
}

/// How one agent launches this time, and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchPlan {
    pub session: SessionLaunch,
    /// The session id to record in the manifest now (one loop-tui chose).
    pub record: Option<String>,
    /// Watch for the session the CLI creates itself (codex).
    pub discover: bool,
    /// For the resume notice and the journal: how the agent comes back.
    pub note: String,
}

/// Decides how `agent` starts: resuming its recorded session when the CLI
/// can and saved one, else a new session (with an id loop-tui chooses, for
/// claude). A recorded claude id without a saved conversation is replaced
/// by a new one: `--session-id` with the old id could collide with a
/// conversation saved where loop-tui does not look, and there is nothing
/// to lose.
pub fn plan_launch(agent: &AgentRecord, stores: &SessionStores) -> Result<LaunchPlan> {
    let name = &agent.name;
    let fresh = |note: String| LaunchPlan {
        session: SessionLaunch::Fresh,
        record: None,
        discover: false,
        note,
    };
    let Launch::Profile(profile) = agent.launch.launch() else {
        return Ok(match agent.launch {
            LaunchRecord::Demo => fresh(format!(
                "{name} starts again (a demo agent keeps no session)"
            )),
            _ => fresh(format!(
                "{name} runs its command again (a command has no session to resume)"
            )),
        });
    };
    let plan = match (&profile.resume, &agent.session) {
        (ResumeVia::SessionIdFlags { .. }, Some(id)) if stores.claude_session_saved(id) => {
            LaunchPlan {
                session: SessionLaunch::Resume(id.clone()),
                record: None,
                discover: false,
                note: format!("{name} resumes its session {id}"),
            }
        }
        (ResumeVia::SessionIdFlags { .. }, recorded) => {
            let id = new_session_uuid()?;
            let note = if recorded.is_some() {
                format!("{name} starts a new session {id} (the earlier one saved no conversation)")
            } else {
                format!("{name} starts session {id}")
            };
            LaunchPlan {
                session: SessionLaunch::Start(id.clone()),
                record: Some(id),
                discover: false,
                note,
            }
        }
        (ResumeVia::Subcommand(_), Some(id)) if stores.codex_session_saved(id) => LaunchPlan {
            session: SessionLaunch::Resume(id.clone()),
            record: None,
            discover: false,
            note: format!("{name} resumes its session {id}"),
        },
        (ResumeVia::Subcommand(_), _) => LaunchPlan {
            session: SessionLaunch::Fresh,
            record: None,
            discover: true,
            note: format!(
                "{name} starts a new session (none was saved: {} saves it with the first message)",
                profile.program
            ),
        },
        (ResumeVia::Unsupported, _) => fresh(format!(
            "{name} starts a new session ({} cannot resume one)",
            profile.program
        )),
    };
    Ok(plan)
}

/// The session codex started in `cwd` at or after `started_ms` (Unix
/// milliseconds), found in `sessions` (`$CODEX_HOME/sessions`): the
/// earliest such session not in `exclude`. The earliest, because codex
/// creates its session within moments of starting, so a later session in
/// the same directory belongs to another codex started after this one.
pub fn discover_codex_session(
    sessions: &Path,
    cwd: &Path,
    started_ms: i64,
    exclude: &[String],
) -> Option<String> {
    let cwd = fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let since = started_ms - START_SLACK_MS;
    day_dirs(sessions, Some(since))
        .iter()
        .flat_map(|day| files(day))
        .filter(|file| {
            file.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("rollout-") && n.ends_with(".jsonl")
            })
        })
        .filter_map(|file| session_meta(&file))
        .filter(|meta| {
            meta.started_ms >= since
                && fs::canonicalize(&meta.cwd).unwrap_or_else(|_| meta.cwd.clone()) == cwd
                && !exclude.contains(&meta.id)
        })
        .min_by_key(|meta| meta.started_ms)
        .map(|meta| meta.id)
}

/// What the first line of a codex session file says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionMeta {
    id: String,
    cwd: PathBuf,
    started_ms: i64,
}

fn session_meta(file: &Path) -> Option<SessionMeta> {
    let mut line = Vec::new();
    BufReader::new(File::open(file).ok()?)
        .take(MAX_META_LINE)
        .read_until(b'\n', &mut line)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&line).ok()?;
    if value["type"] != "session_meta" {
        return None;
    }
    let payload = &value["payload"];
    let id = payload["id"]
        .as_str()
        .or_else(|| payload["session_id"].as_str())?;
    let started: jiff::Timestamp = payload["timestamp"].as_str()?.parse().ok()?;
    Some(SessionMeta {
        id: id.to_owned(),
        cwd: PathBuf::from(payload["cwd"].as_str()?),
        started_ms: started.as_millisecond(),
    })
}

/// The `YYYY/MM/DD` directories under `sessions`, only those no more than
/// a day older than `since` (Unix milliseconds) when given: a day of slack
/// covers codex naming them in local time or in UTC.
fn day_dirs(sessions: &Path, since: Option<i64>) -> Vec<PathBuf> {
    let oldest = since.and_then(|ms| {
        let day_before = jiff::Timestamp::from_millisecond(ms)
            .ok()?
            .checked_sub(jiff::SignedDuration::from_hours(24))
            .ok()?;
        let date = day_before.to_zoned(jiff::tz::TimeZone::UTC).date();
        Some((
            i64::from(date.year()),
            i64::from(date.month()),
            i64::from(date.day()),
        ))
    });
    let number = |p: &Path| -> Option<i64> { p.file_name()?.to_str()?.parse().ok() };
    let mut days = Vec::new();
    for year in subdirs(sessions) {
        let Some(y) = number(&year) else { continue };
        for month in subdirs(&year) {
            let Some(m) = number(&month) else { continue };
            for day in subdirs(&month) {
                let Some(d) = number(&day) else { continue };
                if oldest.is_none_or(|oldest| (y, m, d) >= oldest) {
                    days.push(day);
                }
            }
        }
    }
    days
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    entries(dir, true)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    entries(dir, false)
}

fn entries(dir: &Path, dirs: bool) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() == dirs))
        .map(|e| e.path())
        .collect()
}

/// A codex session watcher running on its own thread; dropping the handle
/// stops it (the pane was restarted, or loop-tui is quitting).
#[derive(Debug)]
pub struct Watcher {
    stop: Arc<AtomicBool>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Watches `sessions` for the session a codex started in `cwd` at
/// `started_ms` creates, and calls `found` once with its id. Codex saves
/// its session only with the first message, which may come much later, so
/// the watcher keeps looking until it finds it or is dropped.
pub fn watch_codex_session(
    sessions: PathBuf,
    cwd: PathBuf,
    started_ms: i64,
    exclude: Vec<String>,
    found: impl FnOnce(String) + Send + 'static,
) -> std::io::Result<Watcher> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    thread::Builder::new()
        .name("codex-session".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                if let Some(id) = discover_codex_session(&sessions, &cwd, started_ms, &exclude) {
                    found(id);
                    return;
                }
                thread::sleep(DISCOVERY_INTERVAL);
            }
        })?;
    Ok(Watcher { stop })
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::agents::profile::{Profile, ProfileKind};
    use crate::agents::role::Role;
    use crate::runs::test_dir::TestDir;

    /// A codex session file as codex 0.169 writes it: the first line is
    /// `session_meta` (trimmed here: the real one also carries codex's
    /// base instructions and more).
    fn write_rollout(sessions: &Path, day: &str, id: &str, cwd: &Path, started: &str) -> PathBuf {
        let dir = sessions.join(day);
        fs::create_dir_all(&dir).unwrap();
        let stamp = started.replace(':', "-");
        let file = dir.join(format!("rollout-{}-{id}.jsonl", &stamp[..19]));
        let meta = serde_json::json!({
            "timestamp": started,
            "ordinal": 0,
            "type": "session_meta",
            "payload": {
                "session_id": id,
                "id": id,
                "timestamp": started,
                "cwd": cwd,
                "originator": "codex-tui",
                "cli_version": "0.169.0",
                "source": "cli",
                "base_instructions": {"text": "You are a coding agent running in the Codex CLI."},
            }
        });
        let turn = serde_json::json!({"timestamp": started, "type": "event_msg", "payload": {"type": "task_started"}});
        fs::write(&file, format!("{meta}\n{turn}\n")).unwrap();
        file
    }

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn the_codex_session_started_here_after_the_pane_is_found() {
        let dir = TestDir::new("codex-discovery");
        let sessions = dir.path().join("sessions");
        let project = dir.path().join("project");
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir_all(&project).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        let pane_started = ms("2026-11-22T05:45:08.500Z");
        // Before the pane, in another directory, and (below) a later one.
        write_rollout(
            &sessions,
            "2026/11/22",
            "01a201c0-0000-7000-8000-000000000001",
            &project,
            "2026-11-22T05:40:00.000Z",
        );
        write_rollout(
            &sessions,
            "2026/11/22",
            "01a201c0-0000-7000-8000-000000000002",
            &elsewhere,
            "2026-11-22T05:45:09.100Z",
        );
        assert_eq!(
            discover_codex_session(&sessions, &project, pane_started, &[]),
            None
        );
        write_rollout(
            &sessions,
            "2026/11/22",
            "01a201c9-729f-74c3-9c5a-f30ce694828a",
            &project,
            "2026-11-22T05:45:09.026Z",
        );
        write_rollout(
            &sessions,
            "2026/11/22",
            "01a201c0-0000-7000-8000-000000000003",
            &project,
            "2026-11-22T05:50:00.000Z",
        );
        assert_eq!(
            discover_codex_session(&sessions, &project, pane_started, &[]).as_deref(),
            Some("01a201c9-729f-74c3-9c5a-f30ce694828a")
        );
        // A session another pane of the run already claimed is skipped.
        assert_eq!(
            discover_codex_session(
                &sessions,
                &project,
                pane_started,
                &["01a201c9-729f-74c3-9c5a-f30ce694828a".to_owned()]
            )
            .as_deref(),
            Some("01a201c0-0000-7000-8000-000000000003")
        );
        let stores = SessionStores {
            claude_config: None,
            codex_home: Some(dir.path().to_owned()),
        };
        assert!(stores.codex_session_saved("01a201c9-729f-74c3-9c5a-f30ce694828a"));
        assert!(!stores.codex_session_saved("01a201c9-0000-0000-0000-000000000000"));
    }

    #[test]
    fn day_directories_long_before_the_pane_are_not_read() {
        let dir = TestDir::new("codex-old-days");
        let sessions = dir.path().join("sessions");
        let project = dir.path().join("project");
        fs::create_dir_all(&project).unwrap();
        // Filed under a day long past although its meta says today: never read.
        write_rollout(
            &sessions,
            "2026/10/01",
            "01a20000-0000-7000-8000-00000000000a",
            &project,
            "2026-11-22T05:45:09.000Z",
        );
        assert_eq!(
            discover_codex_session(&sessions, &project, ms("2026-11-22T05:45:00Z"), &[]),
            None
        );
        // The day before still counts: codex may name days in local time.
        write_rollout(
            &sessions,
            "2026/11/21",
            "01a20000-0000-7000-8000-00000000000b",
            &project,
            "2026-11-22T05:45:09.000Z",
        );
        assert_eq!(
            discover_codex_session(&sessions, &project, ms("2026-11-22T05:45:00Z"), &[]).as_deref(),
            Some("01a20000-0000-7000-8000-00000000000b")
        );
        // Not a session file, or not a session_meta first line: ignored.
        fs::write(sessions.join("2026/11/21/notes.txt"), "x").unwrap();
        fs::write(
            sessions.join("2026/11/21/rollout-bad.jsonl"),
            "{\"type\":\"event_msg\"}\n",
        )
        .unwrap();
        assert!(discover_codex_session(&sessions, &project, 0, &[]).is_some());
    }

    #[test]
    fn the_watcher_reports_a_session_that_appears_later() {
        let dir = TestDir::new("codex-watch");
        let sessions = dir.path().join("sessions");
        let project = dir.path().join("project");
        fs::create_dir_all(&project).unwrap();
        let (tx, rx) = mpsc::channel();
        let _watcher = watch_codex_session(
            sessions.clone(),
            project.clone(),
            ms("2026-11-22T05:45:00Z"),
            Vec::new(),
            move |id| tx.send(id).unwrap(),
        )
        .unwrap();
        write_rollout(
            &sessions,
            "2026/11/22",
            "01a20000-0000-7000-8000-0000000000cc",
            &project,
            "2026-11-22T05:46:00.000Z",
        );
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(30)).unwrap(),
            "01a20000-0000-7000-8000-0000000000cc"
        );
    }

    #[test]
    fn session_ids_are_uuid_v4() {
        let id = new_session_uuid().unwrap();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert!(parts[2].starts_with('4'), "{id}");
        assert!(parts[3].starts_with(['8', '9', 'a', 'b']), "{id}");
        assert_ne!(id, new_session_uuid().unwrap());
    }

    #[test]
    fn each_cli_gets_its_own_start_and_resume_arguments() {
        let claude = Profile::builtin(ProfileKind::Claude).resume;
        let codex = Profile::builtin(ProfileKind::Codex).resume;
        let gemini = Profile::builtin(ProfileKind::Gemini).resume;
        let id = || "x-1".to_owned();
        assert_eq!(
            session_args(&claude, &SessionLaunch::Start(id())),
            ["--session-id", "x-1"]
        );
        assert_eq!(
            session_args(&claude, &SessionLaunch::Resume(id())),
            ["--resume", "x-1"]
        );
        assert_eq!(
            session_args(&codex, &SessionLaunch::Resume(id())),
            ["resume", "x-1"]
        );
        assert!(session_args(&codex, &SessionLaunch::Fresh).is_empty());
        assert!(session_args(&gemini, &SessionLaunch::Resume(id())).is_empty());
    }

    fn record(kind: ProfileKind, session: Option<&str>) -> AgentRecord {
        let spec = crate::agents::profile::AgentSpec::with_profile(
            kind.program(),
            Role::Worker,
            "peer",
            kind,
        );
        let mut record = AgentRecord::of(&spec);
        record.session = session.map(str::to_owned);
        record
    }

    #[test]
    fn resuming_uses_a_saved_session_and_starts_afresh_otherwise() {
        let dir = TestDir::new("plan");
        let stores = SessionStores {
            claude_config: Some(dir.path().join("claude")),
            codex_home: Some(dir.path().join("codex")),
        };
        // A new claude gets an id of loop-tui's choosing, to record.
        let plan = plan_launch(&record(ProfileKind::Claude, None), &stores).unwrap();
        let SessionLaunch::Start(id) = &plan.session else {
            panic!("{plan:?}")
        };
        assert_eq!(plan.record.as_ref(), Some(id));
        // Recorded but never saved (no first message): a new id again.
        let plan = plan_launch(&record(ProfileKind::Claude, Some(id)), &stores).unwrap();
        assert!(
            matches!(&plan.session, SessionLaunch::Start(new) if new != id),
            "{plan:?}"
        );
        assert!(plan.note.contains("saved no conversation"), "{}", plan.note);
        // Saved: resumed.
        let project = dir.path().join("claude/projects/-tmp-project");
        fs::create_dir_all(&project).unwrap();
        fs::write(project.join(format!("{id}.jsonl")), "{}\n").unwrap();
        let plan = plan_launch(&record(ProfileKind::Claude, Some(id)), &stores).unwrap();
        assert_eq!(plan.session, SessionLaunch::Resume(id.clone()));
        assert_eq!(plan.record, None);

        let plan = plan_launch(&record(ProfileKind::Codex, None), &stores).unwrap();
        assert_eq!((plan.session, plan.discover), (SessionLaunch::Fresh, true));
        let plan = plan_launch(&record(ProfileKind::Gemini, None), &stores).unwrap();
        assert_eq!(plan.session, SessionLaunch::Fresh);
        assert_eq!(
            plan.note,
            "gemini starts a new session (gemini cannot resume one)"
        );
        let mut custom = record(ProfileKind::Claude, None);
        custom.launch = LaunchRecord::Custom {
            command: "htop".into(),
        };
        custom.name = "top".into();
        let plan = plan_launch(&custom, &stores).unwrap();
        assert_eq!(plan.session, SessionLaunch::Fresh);
        assert!(
            plan.note.starts_with("top runs its command again"),
            "{}",
            plan.note
        );
    }
}
