//! `loop-tui runs`: every run, newest first, as a table.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use jiff::tz::TimeZone;

use super::manifest::{Manifest, RunState};
use super::store::{all_runs, is_open};
use super::{format_time, read_journal};
use crate::bridge::protocol::DEFAULT_MAX_MESSAGE_BYTES;
use crate::bridge::relay::RelayQueue;
use crate::run_dir::runs_root;

/// The longest agents column, so a long `--pane` command cannot push the
/// numbers off the screen.
const MAX_AGENTS_WIDTH: usize = 48;

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub id: String,
    pub repo: String,
    /// The manifest's state, or `interrupted` for a run whose loop-tui is
    /// gone while its manifest still says `running`.
    pub status: String,
    pub started_ms: i64,
    pub agents: String,
    /// Messages from agents and the human (loop-tui's notices not counted).
    pub messages: usize,
    pub pending: usize,
    /// Messages whose delivery was cut short or doubted, waiting for the
    /// human like pending ones.
    pub uncertain: usize,
}

/// A run's row: its manifest plus what its journal says.
pub fn summarize(dir: &Path, manifest: &Manifest) -> RunSummary {
    let mut queue = RelayQueue::new(
        manifest.agents.iter().map(|a| a.name.clone()).collect(),
        DEFAULT_MAX_MESSAGE_BYTES,
    );
    let (records, _) = read_journal(dir);
    queue.replay(records.iter().map(|entry| &entry.record));
    let status = if manifest.state == RunState::Running && !is_open(dir) {
        "interrupted".to_owned()
    } else {
        manifest.state.to_string()
    };
    let agents = manifest
        .agents
        .iter()
        .map(|a| {
            let launch = a.launch.describe();
            if launch == a.name {
                a.name.clone()
            } else {
                format!("{} ({launch})", a.name)
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    RunSummary {
        id: manifest.id.clone(),
        repo: manifest.repo.clone(),
        status,
        started_ms: manifest.started_ms,
        agents: truncate(&agents, MAX_AGENTS_WIDTH),
        messages: queue.messages().iter().filter(|m| !m.is_notice()).count(),
        pending: queue.pending_count(),
        uncertain: queue.uncertain_count(),
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

/// The table, newest run first, times in `tz`.
pub fn render_table(runs: &mut [RunSummary], tz: &TimeZone) -> String {
    runs.sort_by(|a, b| b.started_ms.cmp(&a.started_ms).then(b.id.cmp(&a.id)));
    let header = [
        "ID", "REPO", "STATE", "STARTED", "AGENTS", "MESSAGES", "PENDING",
    ];
    let rows: Vec<[String; 7]> = runs
        .iter()
        .map(|r| {
            [
                r.id.clone(),
                r.repo.clone(),
                r.status.clone(),
                format_time(r.started_ms, tz, "%Y-%m-%d %H:%M"),
                r.agents.clone(),
                r.messages.to_string(),
                // Everything waiting for the human's decision; `loop-tui
                // log` tells pending and uncertain apart.
                (r.pending + r.uncertain).to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            // Counts are right-aligned, like numbers in any table.
            if i >= 5 {
                let _ = write!(text, "{cell:>width$}  ");
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header.map(str::to_owned));
    for row in &rows {
        line(row);
    }
    out
}

/// Prints the table of every run (or a friendly line when there is none);
/// unreadable manifests are reported on stderr, not fatal.
pub fn print_runs() -> Result<()> {
    let root = runs_root()?;
    let mut rows = Vec::new();
    for run in all_runs(&root) {
        match &run.manifest {
            Ok(manifest) => rows.push(summarize(&run.dir, manifest)),
            Err(err) => eprintln!("loop-tui: skipped {}: {err}", run.dir.display()),
        }
    }
    if rows.is_empty() {
        println!(
            "No runs yet: start one with `loop-tui` (or try `loop-tui demo`). Runs are kept in {}.",
            root.display()
        );
        return Ok(());
    }
    print!("{}", render_table(&mut rows, &TimeZone::system()));
    println!("\nResume one with `loop-tui --run-id ID`; see what happened with `loop-tui log ID`.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, started_ms: i64, status: &str, agents: &str) -> RunSummary {
        RunSummary {
            id: id.into(),
            repo: "loop-tui".into(),
            status: status.into(),
            started_ms,
            agents: agents.into(),
            messages: 12,
            pending: 1,
            uncertain: 0,
        }
    }

    #[test]
    fn the_table_lists_the_newest_run_first_in_aligned_columns() {
        let mut runs = vec![
            row(
                "20261121-090000-aaaa",
                1_795_251_600_000,
                "ended",
                "claude, codex",
            ),
            row(
                "20261122-101500-3fa1",
                1_795_342_500_000,
                "interrupted",
                "worker (demo), reviewer (demo)",
            ),
        ];
        // Cut short by a crash: waits for the human like a pending one.
        runs[0].uncertain = 1;
        let table = render_table(&mut runs, &TimeZone::UTC);
        assert_eq!(
            table,
            "\
ID                    REPO      STATE        STARTED           AGENTS                          MESSAGES  PENDING
20261122-101500-3fa1  loop-tui  interrupted  2026-11-22 10:15  worker (demo), reviewer (demo)        12        1
20261121-090000-aaaa  loop-tui  ended        2026-11-21 09:00  claude, codex                         12        2
"
        );
    }

    #[test]
    fn long_agent_lists_are_cut_short() {
        let cut = truncate(&"x".repeat(100), MAX_AGENTS_WIDTH);
        assert_eq!(cut.chars().count(), MAX_AGENTS_WIDTH);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate("short", MAX_AGENTS_WIDTH), "short");
    }
}
