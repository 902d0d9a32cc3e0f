//! Persistent runs: each run's directory holds a manifest (its agents,
//! their CLI sessions, its state and options) next to the bridge journal,
//! so `loop-tui --run-id ID` can bring a run back with its agents'
//! conversations, `loop-tui runs` can list the runs and `loop-tui log ID`
//! can tell what happened. Core only: no ratatui here.

pub mod list;
pub mod live;
pub mod log;
pub mod manifest;
pub mod repo;
pub mod resume;
pub mod session;
pub mod store;
#[cfg(test)]
mod test_dir;

use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;

use crate::bridge::journal::Journal;
use crate::bridge::relay::JournalEntry;

/// The journal's file name inside a run directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// The journal of the run in `dir`.
pub fn journal_path(dir: &Path) -> PathBuf {
    dir.join(JOURNAL_FILE)
}

/// The readable records of the run in `dir`'s journal and how many lines
/// were not readable. A journal that cannot be read at all counts as
/// empty: listing and logging show what they can.
pub fn read_journal(dir: &Path) -> (Vec<JournalEntry>, usize) {
    match Journal::replay::<JournalEntry>(&journal_path(dir)) {
        Ok(replay) => (replay.records, replay.skipped.len()),
        Err(_) => (Vec::new(), 0),
    }
}

/// Unix milliseconds as a time in `tz`, formatted with `strftime` `format`.
pub fn format_time(ms: i64, tz: &TimeZone, format: &str) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| format!("@{ms}ms"),
        |ts| ts.to_zoned(tz.clone()).strftime(format).to_string(),
    )
}
