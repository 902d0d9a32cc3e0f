//! Runs on disk: finding a run by id in any repository, listing them all,
//! and the lock that tells a live run from one whose loop-tui is gone.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::manifest::{Manifest, ManifestError, MANIFEST_FILE};
use crate::run_dir::{runs_root, validate_id};

/// The lock file's name inside a run directory.
const LOCK_FILE: &str = "lock";

/// Why `--run-id` or `loop-tui log` could not find a run.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(
        "no run with id {id:?} (looked in {root}); `loop-tui runs` lists the runs and their ids"
    )]
    NotFound { id: String, root: String },
    #[error("{0:?} is not a run id (run ids look like 20261122-101500-3fa1); `loop-tui runs` lists them")]
    BadId(String),
    #[error("{0}")]
    Root(String),
}

/// The directory of the run `id`, in whichever repository it was filed.
pub fn find_run(id: &str) -> Result<PathBuf, FindError> {
    let root = runs_root().map_err(|err| FindError::Root(format!("{err:#}")))?;
    find_run_in(&root, id)
}

/// The directory of the run `id` under the runs root `root`.
pub fn find_run_in(root: &Path, id: &str) -> Result<PathBuf, FindError> {
    validate_id(id).map_err(|_| FindError::BadId(id.to_owned()))?;
    repo_dirs(root)
        .into_iter()
        .map(|repo| repo.join(id))
        .find(|dir| dir.join(MANIFEST_FILE).is_file())
        .ok_or_else(|| FindError::NotFound {
            id: id.to_owned(),
            root: root.display().to_string(),
        })
}

/// A run directory and what its manifest says (or why it cannot be read).
pub struct StoredRun {
    pub dir: PathBuf,
    pub manifest: Result<Manifest, ManifestError>,
}

/// Every run under `root` (the runs root), in no particular order. A
/// directory without a manifest is not a run (a legacy or foreign
/// directory) and is left out; an unreadable manifest is kept, with why.
pub fn all_runs(root: &Path) -> Vec<StoredRun> {
    repo_dirs(root)
        .into_iter()
        .flat_map(|repo| subdirs(&repo))
        .filter(|dir| dir.join(MANIFEST_FILE).exists())
        .map(|dir| StoredRun {
            manifest: Manifest::read(&dir),
            dir,
        })
        .collect()
}

fn repo_dirs(root: &Path) -> Vec<PathBuf> {
    subdirs(root)
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// Held by the loop-tui running a run, for as long as it runs. The kernel
/// drops an `flock` when its holder dies, even by SIGKILL, so a run whose
/// manifest says "running" but whose lock is free was interrupted. The file
/// is opened close-on-exec, so agents never inherit (and outlive with) it.
#[derive(Debug)]
pub struct RunLock {
    _lock: Flock<File>,
}

/// Why a run could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("run {0} is open in another loop-tui; quit that one first (or look at it with `loop-tui log {0}`)")]
    Busy(String),
    #[error("could not lock the run directory {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl RunLock {
    /// Locks the run in `dir` (named `id` in the error), without waiting.
    pub fn acquire(dir: &Path, id: &str) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        let file = open_lock_file(&path).map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => Ok(Self { _lock: lock }),
            Err((_, Errno::EWOULDBLOCK)) => Err(LockError::Busy(id.to_owned())),
            Err((_, errno)) => Err(LockError::Io {
                path,
                source: errno.into(),
            }),
        }
    }
}

/// Whether a loop-tui holds the run in `dir` right now.
pub fn is_open(dir: &Path) -> bool {
    let Ok(file) = open_lock_file(&dir.join(LOCK_FILE)) else {
        return false;
    };
    // Taking the lock for a moment and dropping it again is how to ask.
    matches!(
        Flock::lock(file, FlockArg::LockExclusiveNonblock),
        Err((_, Errno::EWOULDBLOCK))
    )
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::test_dir::TestDir;

    #[test]
    fn a_run_is_locked_once_and_free_again_when_its_holder_is_gone() {
        let dir = TestDir::new("store-lock");
        assert!(!is_open(dir.path()));
        let lock = RunLock::acquire(dir.path(), "r1").unwrap();
        assert!(is_open(dir.path()));
        let second = RunLock::acquire(dir.path(), "r1").unwrap_err();
        assert!(matches!(second, LockError::Busy(_)), "{second}");
        assert!(second.to_string().contains("another loop-tui"), "{second}");
        drop(lock);
        assert!(!is_open(dir.path()));
        RunLock::acquire(dir.path(), "r1").unwrap();
    }

    #[test]
    fn a_run_is_found_by_its_id_alone_in_any_repository() {
        let dir = TestDir::new("store-find");
        let run = dir.path().join("beta/20261122-101500-3fa1");
        fs::create_dir_all(&run).unwrap();
        fs::create_dir_all(dir.path().join("alpha")).unwrap();
        fs::write(run.join(MANIFEST_FILE), "{}").unwrap();
        assert_eq!(
            find_run_in(dir.path(), "20261122-101500-3fa1").unwrap(),
            run
        );
        let missing = find_run_in(dir.path(), "20261122-101500-ffff").unwrap_err();
        assert!(matches!(missing, FindError::NotFound { .. }));
        assert!(
            missing.to_string().contains("`loop-tui runs` lists"),
            "{missing}"
        );
        let bad = find_run_in(dir.path(), "../beta").unwrap_err();
        assert!(matches!(bad, FindError::BadId(_)), "{bad}");
    }

    #[test]
    fn only_directories_with_a_manifest_are_runs() {
        let dir = TestDir::new("store-all");
        let run = dir.path().join("proj/20261122-101500-3fa1");
        fs::create_dir_all(&run).unwrap();
        fs::write(run.join(MANIFEST_FILE), "not json").unwrap();
        // A run directory of the layout before runs were filed by repository.
        let legacy = dir.path().join("20261101-090000-aaaa");
        fs::create_dir_all(&legacy).unwrap();
        fs::write(legacy.join("journal.jsonl"), "").unwrap();
        let runs = all_runs(dir.path());
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].dir, run);
        assert!(runs[0].manifest.is_err());
        assert!(all_runs(&dir.path().join("missing")).is_empty());
    }
}
