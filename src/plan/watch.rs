//! Watching the plan file: a `notify` watcher on its directory and one
//! thread that reads and parses the file after each burst of changes and
//! hands the result to the app.
//!
//! The directory is watched rather than the file because editors (and
//! agents writing atomically) save by writing a new file and renaming it
//! over the old one: a watch on the old file would see it vanish and
//! nothing after. Watching the directory also sees the file appear when
//! it did not exist yet.
//!
//! This thread reads and parses the file, not the app loop, so the loop
//! never waits on the disk and `update` stays free of I/O: it receives a
//! finished [`PlanLoad`] and only compares it with the version it shows.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::load::{load, PlanLoad};

/// How long the file must be quiet before it is read. One save is several
/// events (create, write, close, rename; an agent may write in several
/// calls), and reading in the middle would show half a file for a moment;
/// 150 ms covers such a burst while the pane still follows well within
/// the second the issue allows.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// The longest a read waits for quiet: a file written continuously (a
/// log-like append every 100 ms) is still shown at least this often.
pub const DEBOUNCE_MAX: Duration = Duration::from_millis(500);

/// Keeps the watch alive; dropping it stops the watcher and its thread.
pub struct PlanWatcher {
    _watcher: RecommendedWatcher,
}

impl PlanWatcher {
    /// Watches `path` and calls `deliver` with the file as it is now and
    /// again after every burst of changes. `deliver` returns false once
    /// the app is gone, which ends the thread.
    pub fn start(path: &Path, deliver: impl Fn(PlanLoad) -> bool + Send + 'static) -> Result<Self> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(ToOwned::to_owned)
            .with_context(|| format!("{} names no file", path.display()))?;
        let (touched, touches) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            if concerns(&event, &name) {
                let _ = touched.send(());
            }
        })
        .context("failed to start a file watcher")?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("failed to watch {}", dir.display()))?;
        // The watch is in place before the first read, so no change made
        // in between can be missed.
        let path = path.to_path_buf();
        thread::Builder::new()
            .name("plan-watcher".into())
            .spawn(move || {
                if deliver(load(&path)) {
                    while wait_for_burst(&touches) {
                        if !deliver(load(&path)) {
                            break;
                        }
                    }
                }
            })
            .context("failed to start the plan watcher thread")?;
        Ok(Self { _watcher: watcher })
    }
}

/// Whether a watcher event may have changed the file called `name`.
/// Opening or reading it does not (our own read would otherwise trigger
/// the next read, for ever); an error or an overflow might have hidden a
/// change, so it counts.
fn concerns(event: &notify::Result<Event>, name: &OsString) -> bool {
    let Ok(event) = event else {
        return true;
    };
    if event.need_rescan() {
        return true;
    }
    if let EventKind::Access(access) = event.kind {
        if access != AccessKind::Close(AccessMode::Write) {
            return false;
        }
    }
    event
        .paths
        .iter()
        .any(|p| p.file_name() == Some(name.as_os_str()))
}

/// Blocks until the file was touched and the burst of events is over;
/// false once the watcher is gone. Idle, this blocks without a timeout.
fn wait_for_burst(touches: &Receiver<()>) -> bool {
    if touches.recv().is_err() {
        return false;
    }
    let started = Instant::now();
    loop {
        let now = Instant::now();
        let quiet_at = (now + DEBOUNCE).min(started + DEBOUNCE_MAX);
        match touches.recv_timeout(quiet_at.saturating_duration_since(now)) {
            Ok(()) if Instant::now() < started + DEBOUNCE_MAX => {}
            Ok(()) | Err(RecvTimeoutError::Timeout) => return true,
            Err(RecvTimeoutError::Disconnected) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::markdown::Line;
    use std::io::Write;

    /// Waits (bounded) for the next delivered load.
    fn next(rx: &Receiver<PlanLoad>) -> PlanLoad {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the watcher delivers within 10 s")
    }

    fn first_line(load: &PlanLoad) -> String {
        match load {
            PlanLoad::Loaded(doc) => doc.lines.first().map(Line::text).unwrap_or_default(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn delivers_the_file_now_and_after_renames_appends_and_removal() {
        let dir = std::env::temp_dir().join(format!("loop-tui-plan-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("PLAN.md");
        let (tx, rx) = mpsc::channel();
        let _watcher = PlanWatcher::start(&path, move |load| tx.send(load).is_ok()).unwrap();
        assert_eq!(next(&rx), PlanLoad::Missing);

        // Written elsewhere and renamed over, as editors save.
        let temp = dir.join(".PLAN.md.tmp");
        std::fs::write(&temp, "# One\n").unwrap();
        std::fs::rename(&temp, &path).unwrap();
        assert_eq!(first_line(&next(&rx)), "# One");

        // Appended in place.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"\nmore\n").unwrap();
        drop(file);
        let PlanLoad::Loaded(doc) = next(&rx) else {
            panic!("the appended file loads");
        };
        assert_eq!(doc.lines.last().map(Line::text).as_deref(), Some("more"));

        std::fs::remove_file(&path).unwrap();
        assert_eq!(next(&rx), PlanLoad::Missing);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
