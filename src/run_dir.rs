//! A run's directory: `$XDG_STATE_HOME/loop-tui/runs/<repo>/<run-id>/`
//! (default `~/.local/state/...`), private to the user, holding the
//! manifest, the journal and the bridge socket. `<repo>` is the repository
//! the run works in (see `runs::repo`), so runs are listed per project.

use std::fmt::Write as _;
use std::fs::{self, DirBuilder, File};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The longest path a Unix socket address holds on Linux is 107 bytes
/// (`sun_path` is 108 with the NUL); deeper run directories put their
/// socket in a private directory under /tmp instead.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, Clone)]
pub struct RunDir {
    pub id: String,
    pub path: PathBuf,
    pub socket: PathBuf,
    /// The secret every bridge request must present.
    pub token: String,
}

impl RunDir {
    /// Creates the directory of a new run filed under `repo`, with the id
    /// `id` (e.g. the one a `--worktree` branch is named after) or a new one.
    pub fn create(repo: &str, id: Option<&str>) -> Result<Self> {
        let id = match id {
            Some(id) => {
                validate_id(id)?;
                id.to_owned()
            }
            None => new_run_id()?,
        };
        let path = runs_root()?.join(repo).join(&id);
        // The one line loop-tui stops with also says where runs are kept,
        // since the directory named may be deep below the culprit.
        create_private_dir(&path).map_err(|err| {
            anyhow::anyhow!(
                "{err:#}; loop-tui keeps its runs under $XDG_STATE_HOME/loop-tui (else \
                 ~/.local/state/loop-tui): point XDG_STATE_HOME at a writable directory"
            )
        })?;
        Self::existing(path, id)
    }

    /// The directory `path` of the existing run `id`, to resume it; the
    /// bridge gets a new secret.
    pub fn existing(path: PathBuf, id: String) -> Result<Self> {
        create_private_dir(&path)?;
        let socket = socket_path(&path, &id)?;
        Ok(Self {
            token: random_hex(16)?,
            id,
            path,
            socket,
        })
    }

    pub fn journal_path(&self) -> PathBuf {
        crate::runs::journal_path(&self.path)
    }
}

/// `$XDG_STATE_HOME/loop-tui/runs`, else `~/.local/state/loop-tui/runs`.
pub fn runs_root() -> Result<PathBuf> {
    let state = if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        PathBuf::from(dir)
    } else {
        let home = std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .context("neither XDG_STATE_HOME nor HOME is set, so there is nowhere to keep the run; set one of them")?;
        PathBuf::from(home).join(".local/state")
    };
    Ok(state.join("loop-tui").join("runs"))
}

pub fn validate_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("run id {id:?} is not valid: use letters, digits, '-' and '_' (up to 64)");
    }
    Ok(())
}

/// A sortable, readable id: local date and time plus a random suffix so
/// two runs started in the same second differ.
pub fn new_run_id() -> Result<String> {
    let now = jiff::Zoned::now();
    Ok(format!(
        "{}-{}",
        now.strftime("%Y%m%d-%H%M%S"),
        random_hex(2)?
    ))
}

fn create_private_dir(path: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("failed to create the run directory {}", path.display()))?;
    // An existing directory keeps its mode; make it private either way.
    fs::set_permissions(path, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("failed to make {} private", path.display()))
}

fn socket_path(run: &Path, id: &str) -> Result<PathBuf> {
    let socket = run.join("bridge.sock");
    if socket.as_os_str().len() <= MAX_SOCKET_PATH {
        return Ok(socket);
    }
    let uid = nix::unistd::getuid();
    let dir = std::env::temp_dir().join(format!("loop-tui-{uid}"));
    create_private_dir(&dir)?;
    Ok(dir.join(format!("{id}.sock")))
}

/// `bytes` random bytes from the kernel, as hex.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("failed to read /dev/urandom for the run's secret")?;
    Ok(buf.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_checked() {
        assert!(validate_id("20261122-101010-ab12").is_ok());
        for bad in ["", "../x", "a b", "a/b", &"x".repeat(65)] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secrets_are_random_hex() {
        let a = random_hex(16).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_hex(16).unwrap());
    }
}
