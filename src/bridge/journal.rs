//! The run's `journal.jsonl`: every message and every decision about it is
//! appended here, one JSON object per line, and synced to disk before the
//! sender's tool call is answered. After a crash the journal is the record
//! of what was said and decided, so a reply "queued as #7" is never lost.
//!
//! The journal is generic over its record type: the relay decides what a
//! record holds, this module only makes appending durable and reading back
//! forgiving. A crash can leave a partial last line; replay reports it and
//! the lines around it still count.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Only the user may read the journal: it holds everything the agents said
/// to each other, which can include code and secrets from the project.
const JOURNAL_MODE: u32 = 0o600;

/// An open journal, appending to the end of its file.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
    /// True when the file may end in the middle of a line (a crash or a
    /// failed write), so the next record must start on a line of its own.
    needs_newline: bool,
}

/// What replaying a journal found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay<T> {
    /// The records that could be read, in the order they were appended.
    pub records: Vec<T>,
    /// The lines that could not be read, in file order.
    pub skipped: Vec<SkippedLine>,
}

/// A journal line that replay could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// The line number, counting from 1.
    pub line: usize,
    /// Why the line was skipped.
    pub error: String,
}

impl Journal {
    /// Opens the journal at `path` for appending, creating it with mode 0600
    /// if it does not exist. An existing file that does not end with a
    /// newline (loop-tui stopped in the middle of a write) is left as it is,
    /// and the next record starts on a new line so the partial one stays an
    /// isolated unreadable line instead of corrupting the next record.
    pub fn open(path: &Path) -> io::Result<Self> {
        let path = path.to_path_buf();
        let context = |what: &str, err: io::Error| {
            io::Error::new(
                err.kind(),
                format!("could not {what} the journal {}: {err}", path.display()),
            )
        };
        let (file, created) = match OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .mode(JOURNAL_MODE)
            .open(&path)
        {
            Ok(file) => (file, true),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                let file = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(&path)
                    .map_err(|err| context("open", err))?;
                (file, false)
            }
            Err(err) => return Err(context("create", err)),
        };
        if created {
            // A new file's directory entry must reach the disk too, or a
            // crash could lose the whole journal along with its records.
            sync_parent_dir(&path).map_err(|err| context("create", err))?;
        } else {
            // The mode given to `open` only applies to a new file; a journal
            // left readable by others is tightened rather than trusted.
            let mut permissions = file
                .metadata()
                .map_err(|err| context("inspect", err))?
                .permissions();
            if permissions.mode() & 0o077 != 0 {
                permissions.set_mode(JOURNAL_MODE);
                file.set_permissions(permissions)
                    .map_err(|err| context("restrict the permissions of", err))?;
            }
        }
        let needs_newline = !ends_with_newline(&file).map_err(|err| context("read", err))?;
        Ok(Self {
            file,
            path,
            needs_newline,
        })
    }

    /// The journal file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `record` as one JSON line and syncs it to disk. The line goes
    /// out in a single write, so a crash leaves at most one partial line,
    /// always the last one.
    pub fn append<T: Serialize>(&mut self, record: &T) -> io::Result<()> {
        let mut line = Vec::with_capacity(256);
        if self.needs_newline {
            line.push(b'\n');
        }
        serde_json::to_writer(&mut line, record).map_err(|err| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("could not encode a journal record: {err}"),
            )
        })?;
        line.push(b'\n');
        let result = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        // A failed write may have left part of the line behind; a failed
        // sync may have too, after a crash. Either way the next record must
        // not be glued onto it. A redundant newline only adds a blank line,
        // which replay passes over.
        self.needs_newline = result.is_err();
        result.map_err(|err| {
            io::Error::new(
                err.kind(),
                format!(
                    "could not write to the journal {}: {err}",
                    self.path.display()
                ),
            )
        })
    }

    /// Reads every record of the journal at `path`. A missing file is an
    /// empty journal. A line that cannot be decoded, including a last line
    /// cut short by a crash, is skipped and reported, never fatal; blank
    /// lines are passed over silently.
    pub fn replay<T: DeserializeOwned>(path: &Path) -> io::Result<Replay<T>> {
        let context = |err: io::Error| {
            io::Error::new(
                err.kind(),
                format!("could not read the journal {}: {err}", path.display()),
            )
        };
        let mut replay = Replay {
            records: Vec::new(),
            skipped: Vec::new(),
        };
        let file = match File::open(path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(replay),
            Err(err) => return Err(context(err)),
        };
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        let mut number = 0;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(context)? == 0 {
                break;
            }
            number += 1;
            // `append` writes the newline in the same write as the record,
            // so a line without one was cut short, even if what is there
            // happens to decode.
            let Some(content) = line.strip_suffix(b"\n") else {
                replay.skipped.push(SkippedLine {
                    line: number,
                    error: "the line is incomplete (no newline at its end): \
                            loop-tui probably stopped while writing it"
                        .into(),
                });
                break;
            };
            if content.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice(content) {
                Ok(record) => replay.records.push(record),
                Err(err) => replay.skipped.push(SkippedLine {
                    line: number,
                    error: err.to_string(),
                }),
            }
        }
        Ok(replay)
    }
}

/// Whether `file` is empty or ends with a newline.
fn ends_with_newline(file: &File) -> io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(true);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, len - 1)?;
    Ok(last[0] == b'\n')
}

fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct Record {
        id: u64,
        text: String,
    }

    fn record(id: u64, text: &str) -> Record {
        Record {
            id,
            text: text.into(),
        }
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "loop-tui-journal-test-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn journal(&self) -> PathBuf {
            self.0.join("journal.jsonl")
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn records_round_trip_in_order() {
        let dir = TempDir::new();
        let mut journal = Journal::open(&dir.journal()).unwrap();
        assert_eq!(journal.path(), dir.journal());
        let records = [
            record(1, "review src/main.rs"),
            record(2, "line one\nline two \u{1b}[31m \"quoted\""),
            record(3, "漢字 👩‍💻"),
        ];
        for r in &records {
            journal.append(r).unwrap();
        }
        let text = std::fs::read_to_string(dir.journal()).unwrap();
        assert_eq!(text.lines().count(), 3, "one line per record: {text:?}");

        let replay = Journal::replay::<Record>(&dir.journal()).unwrap();
        assert_eq!(replay.records, records);
        assert!(replay.skipped.is_empty());
    }

    #[test]
    fn reopening_appends_after_the_existing_records() {
        let dir = TempDir::new();
        Journal::open(&dir.journal())
            .unwrap()
            .append(&record(1, "first run"))
            .unwrap();
        Journal::open(&dir.journal())
            .unwrap()
            .append(&record(2, "second run"))
            .unwrap();
        let replay = Journal::replay::<Record>(&dir.journal()).unwrap();
        assert_eq!(
            replay.records,
            [record(1, "first run"), record(2, "second run")]
        );
    }

    #[test]
    fn a_truncated_last_line_is_skipped_and_appending_goes_on_after_it() {
        let dir = TempDir::new();
        let mut journal = Journal::open(&dir.journal()).unwrap();
        journal.append(&record(1, "kept")).unwrap();
        journal.append(&record(2, "cut short")).unwrap();
        drop(journal);
        // Simulate a crash in the middle of the second record's write.
        let full = std::fs::read(dir.journal()).unwrap();
        std::fs::write(dir.journal(), &full[..full.len() - 8]).unwrap();

        let replay = Journal::replay::<Record>(&dir.journal()).unwrap();
        assert_eq!(replay.records, [record(1, "kept")]);
        assert_eq!(replay.skipped.len(), 1);
        assert_eq!(replay.skipped[0].line, 2);
        assert!(
            replay.skipped[0].error.contains("incomplete"),
            "{:?}",
            replay.skipped[0]
        );

        let mut journal = Journal::open(&dir.journal()).unwrap();
        journal.append(&record(3, "after the crash")).unwrap();
        let replay = Journal::replay::<Record>(&dir.journal()).unwrap();
        assert_eq!(
            replay.records,
            [record(1, "kept"), record(3, "after the crash")]
        );
        assert_eq!(replay.skipped.len(), 1, "{:?}", replay.skipped);
        assert_eq!(replay.skipped[0].line, 2);
    }

    #[test]
    fn a_truncated_line_that_still_decodes_is_not_trusted() {
        let dir = TempDir::new();
        // `7` decodes as a number, but without its newline it may be the
        // start of `71`: only a complete line counts.
        std::fs::write(dir.journal(), "5\n7").unwrap();
        let replay = Journal::replay::<u64>(&dir.journal()).unwrap();
        assert_eq!(replay.records, [5]);
        assert_eq!(replay.skipped.len(), 1);
        assert_eq!(replay.skipped[0].line, 2);
    }

    #[test]
    fn a_garbage_line_in_the_middle_is_skipped_and_reported() {
        let dir = TempDir::new();
        let mut journal = Journal::open(&dir.journal()).unwrap();
        journal.append(&record(1, "before")).unwrap();
        drop(journal);
        let mut file = OpenOptions::new().append(true).open(dir.journal()).unwrap();
        file.write_all(b"{\"id\": \"not a number\"}\nnot json at all\n\n")
            .unwrap();
        drop(file);
        let mut journal = Journal::open(&dir.journal()).unwrap();
        journal.append(&record(2, "after")).unwrap();

        let replay = Journal::replay::<Record>(&dir.journal()).unwrap();
        assert_eq!(replay.records, [record(1, "before"), record(2, "after")]);
        let lines: Vec<usize> = replay.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [2, 3], "{:?}", replay.skipped);
        assert!(replay.skipped.iter().all(|s| !s.error.is_empty()));
    }

    #[test]
    fn a_missing_journal_replays_as_empty() {
        let dir = TempDir::new();
        let replay = Journal::replay::<Record>(&dir.0.join("never-written.jsonl")).unwrap();
        assert!(replay.records.is_empty());
        assert!(replay.skipped.is_empty());
    }

    #[test]
    fn a_new_journal_is_private_to_the_user() {
        let dir = TempDir::new();
        let mut journal = Journal::open(&dir.journal()).unwrap();
        journal.append(&record(1, "secret")).unwrap();
        let mode = std::fs::metadata(dir.journal())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn an_existing_journal_readable_by_others_is_made_private() {
        let dir = TempDir::new();
        std::fs::write(dir.journal(), "").unwrap();
        std::fs::set_permissions(dir.journal(), std::fs::Permissions::from_mode(0o644)).unwrap();
        Journal::open(&dir.journal()).unwrap();
        let mode = std::fs::metadata(dir.journal())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn opening_in_a_missing_directory_names_the_path() {
        let dir = TempDir::new();
        let path = dir.0.join("no-such-dir").join("journal.jsonl");
        let err = Journal::open(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }
}
