//! `loop-tui log ID`: a run's timeline from its journal — when it started
//! and was resumed, every message with its sender, target and text, every
//! decision (approved, edited with the new text, rejected with the reason,
//! delivered), relay mode changes and state changes — as readable text,
//! as a markdown document for a pull request, or as the journal's JSON lines.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use jiff::tz::TimeZone;

use super::list::{summarize, RunSummary};
use super::manifest::{AgentRecord, Manifest};
use super::store::find_run;
use super::{format_time, journal_path, read_journal};
use crate::bridge::relay::{
    JournalEntry, Message, MessageState, Pause, RelayRecord, HUMAN, LOOP_TUI,
};

/// How `loop-tui log` writes the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable text with local times.
    #[default]
    Text,
    /// The journal's records, one JSON object per line, as written.
    Jsonl,
    /// A markdown document to paste into a pull request.
    Markdown,
}

/// One step of the timeline: when, a one-line headline, and an optional
/// body (a message's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub ts: i64,
    pub headline: String,
    pub body: Option<String>,
}

/// What the run's messages are, by id, to name them in later decisions,
/// and which were being typed when the journal last heard of them.
#[derive(Default)]
struct Known {
    messages: HashMap<u64, (String, String)>,
    /// Typing began and was neither confirmed nor decided again: if the
    /// run is resumed before that, the message comes back uncertain.
    typing: BTreeSet<u64>,
}

impl Known {
    fn to(&self, id: u64) -> String {
        self.messages
            .get(&id)
            .map_or_else(|| "its target".to_owned(), |(_, to)| to.clone())
    }

    /// Follows which messages are being typed.
    fn track(&mut self, record: &RelayRecord) {
        match record {
            RelayRecord::DeliveryStarted { id } => {
                self.typing.insert(*id);
            }
            RelayRecord::Approved { id }
            | RelayRecord::Edited { id, .. }
            | RelayRecord::Rejected { id, .. }
            | RelayRecord::Delivered { id, .. }
            | RelayRecord::Failed { id, .. } => {
                self.typing.remove(id);
            }
            _ => {}
        }
    }

    /// The body of a resume: how each agent came back, then each message
    /// whose typing the previous loop-tui never finished. Replay marks those
    /// uncertain (see `RelayQueue::replay`); the log says so where it
    /// happens, or the human's second approval would look like a mistake.
    fn resumed(&mut self, notes: &[String]) -> Option<String> {
        let typing = std::mem::take(&mut self.typing);
        let uncertain = typing.iter().map(|id| {
            format!(
                "{} comes back as delivery uncertain: loop-tui stopped while typing it into {}",
                self.label(*id),
                self.to(*id)
            )
        });
        let lines: Vec<String> = notes.iter().cloned().chain(uncertain).collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    fn label(&self, id: u64) -> String {
        self.messages.get(&id).map_or_else(
            || format!("#{id}"),
            |(from, to)| format!("#{id} ({from} → {to})"),
        )
    }
}

/// The journal as a timeline.
pub fn timeline(entries: &[JournalEntry]) -> Vec<Step> {
    let mut known = Known::default();
    entries
        .iter()
        .filter_map(|entry| {
            let (headline, body) = describe(&entry.record, &mut known)?;
            Some(Step {
                ts: entry.ts,
                headline,
                body,
            })
        })
        .collect()
}

fn describe(record: &RelayRecord, known: &mut Known) -> Option<(String, Option<String>)> {
    known.track(record);
    let step = match record {
        RelayRecord::RunStarted { cwd, agents } => (
            format!("run started in {cwd} with {}", agents.join(", ")),
            None,
        ),
        RelayRecord::RunResumed { notes } => ("run resumed".to_owned(), known.resumed(notes)),
        RelayRecord::StateChanged { state } => (format!("run state: {state}"), None),
        RelayRecord::Sent { message } => {
            known
                .messages
                .insert(message.id, (message.from.clone(), message.to.clone()));
            (
                format!(
                    "#{} {} → {}{}",
                    message.id,
                    message.from,
                    message.to,
                    sent_note(message)
                ),
                Some(message.text.clone()),
            )
        }
        RelayRecord::Approved { id } => {
            (format!("{} approved by the human", known.label(*id)), None)
        }
        RelayRecord::Edited { id, text } => (
            format!(
                "{} edited by the human and approved; {} gets:",
                known.label(*id),
                known.to(*id)
            ),
            Some(text.clone()),
        ),
        RelayRecord::Rejected { id, reason } => (
            match reason {
                Some(reason) => format!("{} rejected by the human: {reason}", known.label(*id)),
                None => format!(
                    "{} rejected by the human (no reason given)",
                    known.label(*id)
                ),
            },
            None,
        ),
        RelayRecord::DeliveryStarted { id } => {
            (format!("#{id} being typed into {}", known.to(*id)), None)
        }
        RelayRecord::Delivered { id, by_tool } => (
            format!(
                "#{id} delivered to {}{}",
                known.to(*id),
                if *by_tool {
                    " (it fetched it with receive_messages)"
                } else {
                    ""
                }
            ),
            None,
        ),
        RelayRecord::Failed { id, reason } => {
            (format!("{} failed: {reason}", known.label(*id)), None)
        }
        RelayRecord::DeliveryDoubted { id, reason } => (
            format!(
                "{} comes back as delivery uncertain: {reason}",
                known.label(*id)
            ),
            None,
        ),
        RelayRecord::AutoApprove { all, directions } => {
            let headline = if *all {
                "auto-approve on for every message".to_owned()
            } else if directions.is_empty() {
                "auto-approve off".to_owned()
            } else {
                let list: Vec<String> = directions
                    .iter()
                    .map(|(from, to)| format!("{from} → {to}"))
                    .collect();
                format!("auto-approve on for {}", list.join(", "))
            };
            (headline, None)
        }
        RelayRecord::Paused { pause } => (
            match pause {
                Some(Pause::Human) => "relay paused by the human".to_owned(),
                Some(Pause::HopCap(n)) => {
                    format!("relay paused: {n} agent-to-agent relays in a row without the human")
                }
                None => "relay resumed".to_owned(),
            },
            None,
        ),
        // The hop counter's reset adds nothing a reader needs; unknown
        // records come from a newer loop-tui.
        RelayRecord::HumanAction | RelayRecord::Unknown => return None,
    };
    Some(step)
}

/// How a message started out, after its header.
fn sent_note(message: &Message) -> String {
    match message.state {
        MessageState::Pending if message.from == LOOP_TUI => {
            " (from loop-tui, waits for the human)".to_owned()
        }
        MessageState::Pending => " (waits for the human)".to_owned(),
        MessageState::Suppressed => format!(
            " (suppressed{})",
            message
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        _ if message.from == HUMAN => " (written by the human)".to_owned(),
        _ if message.from == LOOP_TUI => " (loop-tui notice)".to_owned(),
        _ if message.auto => " (auto-approved)".to_owned(),
        state => format!(" ({})", state.label()),
    }
}

/// The facts at the top of the log.
fn facts(manifest: &Manifest, summary: &RunSummary, tz: &TimeZone) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        (
            "repository",
            format!("{} ({})", manifest.repo, manifest.cwd.display()),
        ),
        (
            "agents",
            manifest
                .agents
                .iter()
                .map(AgentRecord::describe)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("state", summary.status.clone()),
        (
            "started",
            format_time(manifest.started_ms, tz, "%Y-%m-%d %H:%M:%S %Z"),
        ),
        (
            "messages",
            match summary.uncertain {
                0 => format!("{}, {} pending", summary.messages, summary.pending),
                n => format!(
                    "{}, {} pending, {n} delivery uncertain",
                    summary.messages, summary.pending
                ),
            },
        ),
    ];
    if let Some(task) = &manifest.options.task {
        facts.push(("task", task.clone()));
    }
    if let Some(proof) = &manifest.options.proof {
        facts.push(("proof", proof.clone()));
    }
    facts
}

/// The log as readable text.
pub fn render_text(
    manifest: &Manifest,
    summary: &RunSummary,
    steps: &[Step],
    tz: &TimeZone,
) -> String {
    let mut out = format!("run {}\n", manifest.id);
    for (name, value) in facts(manifest, summary, tz) {
        let _ = writeln!(out, "  {name:<11}{value}");
    }
    out.push('\n');
    for step in steps {
        let time = format_time(step.ts, tz, "%Y-%m-%d %H:%M:%S");
        let _ = writeln!(out, "{time}  {}", step.headline);
        if let Some(body) = &step.body {
            for line in body.lines() {
                let _ = writeln!(out, "{:21}{line}", "");
            }
        }
    }
    if steps.is_empty() {
        out.push_str("(nothing journalled yet)\n");
    }
    out
}

/// The log as a markdown document.
pub fn render_markdown(
    manifest: &Manifest,
    summary: &RunSummary,
    steps: &[Step],
    tz: &TimeZone,
) -> String {
    let mut out = format!("# loop-tui run `{}`\n\n", manifest.id);
    for (name, value) in facts(manifest, summary, tz) {
        let mut name = name.to_owned();
        if let Some(first) = name.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        let _ = writeln!(out, "- **{name}:** {}", escape_inline(&value));
    }
    out.push_str("\n## Timeline\n\n");
    for step in steps {
        let time = format_time(step.ts, tz, "%Y-%m-%d %H:%M:%S");
        let _ = writeln!(out, "- `{time}` {}", escape_inline(&step.headline));
        if let Some(body) = &step.body {
            // A quote keeps the message apart from the list; each line is
            // quoted, so a message cannot end the quote and add headings.
            out.push('\n');
            for line in body.lines() {
                let _ = writeln!(out, "  > {}", escape_inline(line));
            }
            out.push('\n');
        }
    }
    if steps.is_empty() {
        out.push_str("Nothing journalled yet.\n");
    }
    out
}

/// Text made inert inside a markdown line: characters that would start
/// markup or HTML are backslash-escaped.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '<' | '>' | '[' | ']' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The journal's lines that are complete JSON objects, as written.
pub fn render_jsonl(dir: &Path) -> Result<String> {
    let path = journal_path(dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("failed to read {}", path.display())),
    };
    let mut out = String::new();
    // `split_inclusive` keeps the newline, so a last line cut short by a
    // crash (no newline) is recognised and left out, as replay does.
    for line in text.split_inclusive('\n') {
        let Some(line) = line.strip_suffix('\n') else {
            continue;
        };
        if serde_json::from_str::<serde_json::Value>(line).is_ok() {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

/// Prints run `id`'s log in `format`.
pub fn print_log(id: &str, format: LogFormat) -> Result<()> {
    let dir = find_run(id)?;
    let output = log_of(&dir, format, &TimeZone::system())?;
    print!("{output}");
    Ok(())
}

/// Run `dir`'s log in `format`, times in `tz`.
pub fn log_of(dir: &Path, format: LogFormat, tz: &TimeZone) -> Result<String> {
    if format == LogFormat::Jsonl {
        return render_jsonl(dir);
    }
    let manifest = Manifest::read(dir)?;
    let summary = summarize(dir, &manifest);
    let (entries, skipped) = read_journal(dir);
    let steps = timeline(&entries);
    let mut out = match format {
        LogFormat::Markdown => render_markdown(&manifest, &summary, &steps, tz),
        _ => render_text(&manifest, &summary, &steps, tz),
    };
    if skipped > 0 {
        let _ = writeln!(out, "\n({skipped} unreadable journal lines skipped)");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::runs::manifest::{
        EmulatorName, LaunchRecord, RunSettings, RunState, MANIFEST_VERSION,
    };

    const T0: i64 = 1_795_342_500_000; // 2026-11-22 10:15:00 UTC

    fn message(id: u64, from: &str, to: &str, text: &str, state: MessageState) -> Message {
        Message {
            id,
            from: from.into(),
            to: to.into(),
            text: text.into(),
            edited_text: None,
            state,
            reason: None,
            sent_ms: T0,
            auto: false,
            delivered_by_tool: false,
            delivery_started: false,
        }
    }

    /// A pending message from `from` to `to`, as journalled when sent.
    fn sent(id: u64, from: &str, to: &str, text: &str) -> RelayRecord {
        RelayRecord::Sent {
            message: message(id, from, to, text, MessageState::Pending),
        }
    }

    /// Message `id` from claude: sent, approved, typed into codex and
    /// confirmed.
    fn typed_into_codex(id: u64, text: &str) -> [RelayRecord; 4] {
        [
            sent(id, "claude", "codex", text),
            RelayRecord::Approved { id },
            RelayRecord::DeliveryStarted { id },
            RelayRecord::Delivered { id, by_tool: false },
        ]
    }

    fn at_t0(records: Vec<RelayRecord>) -> Vec<JournalEntry> {
        records
            .into_iter()
            .map(|record| JournalEntry { ts: T0, record })
            .collect()
    }

    fn entries() -> Vec<JournalEntry> {
        let agents = vec![
            "claude (worker, claude)".into(),
            "codex (reviewer, codex)".into(),
        ];
        let notes = vec![
            "claude resumes its session 3f0c".into(),
            "codex resumes its session 01a2".into(),
        ];
        let auto = BTreeSet::from([("claude".to_owned(), "codex".to_owned())]);
        [
            (
                0,
                RelayRecord::RunStarted {
                    cwd: "/src/app".into(),
                    agents,
                },
            ),
            (
                5,
                sent(
                    1,
                    "claude",
                    "codex",
                    "Please review src/main.rs.\nI added a flag.",
                ),
            ),
            (6, RelayRecord::HumanAction),
            (6, RelayRecord::Approved { id: 1 }),
            (
                8,
                RelayRecord::Delivered {
                    id: 1,
                    by_tool: false,
                },
            ),
            (20, sent(2, "codex", "claude", "Use a mutex here.")),
            (
                21,
                RelayRecord::Edited {
                    id: 2,
                    text: "Use a channel here.".into(),
                },
            ),
            (30, sent(3, "claude", "codex", "Delete the tests?")),
            (
                31,
                RelayRecord::Rejected {
                    id: 3,
                    reason: Some("keep them".into()),
                },
            ),
            (
                32,
                RelayRecord::AutoApprove {
                    all: false,
                    directions: auto,
                },
            ),
            (
                33,
                RelayRecord::Paused {
                    pause: Some(Pause::Human),
                },
            ),
            (
                40,
                RelayRecord::StateChanged {
                    state: RunState::Ended,
                },
            ),
            (100, RelayRecord::RunResumed { notes }),
            (101, RelayRecord::Unknown),
        ]
        .into_iter()
        .map(|(s, record)| JournalEntry {
            ts: T0 + s * 1000,
            record,
        })
        .collect()
    }

    fn manifest() -> Manifest {
        Manifest {
            version: MANIFEST_VERSION,
            id: "20261122-101500-3fa1".into(),
            cwd: "/src/app".into(),
            repo: "app".into(),
            state: RunState::Ended,
            started_ms: T0,
            updated_ms: T0,
            resumed: 1,
            options: RunSettings {
                emulator: EmulatorName::Alacritty,
                scrollback: 10_000,
                task: Some("add a --verbose flag".into()),
                proof: None,
                done_signal: None,
            },
            agents: vec![AgentRecord {
                name: "claude".into(),
                role: crate::agents::role::Role::Worker,
                peer: "codex".into(),
                launch: LaunchRecord::Demo,
                session: None,
                task_note: String::new(),
            }],
        }
    }

    fn summary() -> RunSummary {
        RunSummary {
            id: "20261122-101500-3fa1".into(),
            repo: "app".into(),
            status: "ended".into(),
            started_ms: T0,
            agents: "claude".into(),
            messages: 3,
            pending: 0,
            uncertain: 0,
        }
    }

    #[test]
    fn the_summary_counts_uncertain_messages_apart_from_pending_ones() {
        let mut summary = summary();
        summary.pending = 2;
        summary.uncertain = 1;
        let text = render_text(&manifest(), &summary, &[], &TimeZone::UTC);
        assert!(
            text.contains("  messages   3, 2 pending, 1 delivery uncertain\n"),
            "{text}"
        );
    }

    #[test]
    fn the_text_log_tells_the_whole_story_in_order() {
        let text = render_text(
            &manifest(),
            &summary(),
            &timeline(&entries()),
            &TimeZone::UTC,
        );
        assert_eq!(
            text,
            "\
run 20261122-101500-3fa1
  repository app (/src/app)
  agents     claude (worker, demo)
  state      ended
  started    2026-11-22 10:15:00 UTC
  messages   3, 0 pending
  task       add a --verbose flag

2026-11-22 10:15:00  run started in /src/app with claude (worker, claude), codex (reviewer, codex)
2026-11-22 10:15:05  #1 claude → codex (waits for the human)
                     Please review src/main.rs.
                     I added a flag.
2026-11-22 10:15:06  #1 (claude → codex) approved by the human
2026-11-22 10:15:08  #1 delivered to codex
2026-11-22 10:15:20  #2 codex → claude (waits for the human)
                     Use a mutex here.
2026-11-22 10:15:21  #2 (codex → claude) edited by the human and approved; claude gets:
                     Use a channel here.
2026-11-22 10:15:30  #3 claude → codex (waits for the human)
                     Delete the tests?
2026-11-22 10:15:31  #3 (claude → codex) rejected by the human: keep them
2026-11-22 10:15:32  auto-approve on for claude → codex
2026-11-22 10:15:33  relay paused by the human
2026-11-22 10:15:40  run state: ended
2026-11-22 10:16:40  run resumed
                     claude resumes its session 3f0c
                     codex resumes its session 01a2
"
        );
    }

    #[test]
    fn the_markdown_log_quotes_messages_and_escapes_markup() {
        let mut entries = entries();
        entries.push(JournalEntry {
            ts: T0 + 200_000,
            record: RelayRecord::Sent {
                message: message(
                    4,
                    "codex",
                    "claude",
                    "# not a heading\n<script>x</script>",
                    MessageState::Pending,
                ),
            },
        });
        let md = render_markdown(&manifest(), &summary(), &timeline(&entries), &TimeZone::UTC);
        assert!(
            md.starts_with(
                "# loop-tui run `20261122-101500-3fa1`\n\n- **Repository:** app (/src/app)\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("\n## Timeline\n\n- `2026-11-22 10:15:00` run started in /src/app"),
            "{md}"
        );
        assert!(
            md.contains("- `2026-11-22 10:15:05` \\#1 claude → codex (waits for the human)\n\n  > Please review src/main.rs.\n  > I added a flag.\n\n"),
            "{md}"
        );
        assert!(
            md.contains(
                "edited by the human and approved; claude gets:\n\n  > Use a channel here.\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("  > \\# not a heading\n  > \\<script\\>x\\</script\\>\n"),
            "{md}"
        );
    }

    #[test]
    fn a_delivery_cut_short_shows_as_uncertain_where_the_run_resumes() {
        let mut records = typed_into_codex(1, "typed and confirmed").to_vec();
        records.extend([
            sent(2, "claude", "codex", "typed when loop-tui died"),
            RelayRecord::Approved { id: 2 },
            RelayRecord::DeliveryStarted { id: 2 },
            RelayRecord::RunResumed {
                notes: vec!["claude resumes its session 3f0c".into()],
            },
            RelayRecord::Approved { id: 2 },
            RelayRecord::DeliveryStarted { id: 2 },
            RelayRecord::Delivered {
                id: 2,
                by_tool: false,
            },
            RelayRecord::RunResumed { notes: Vec::new() },
        ]);
        let steps = timeline(&at_t0(records));
        let resumes: Vec<&Step> = steps
            .iter()
            .filter(|s| s.headline == "run resumed")
            .collect();
        assert_eq!(
            resumes[0].body.as_deref(),
            Some("claude resumes its session 3f0c\n#2 (claude → codex) comes back as delivery uncertain: loop-tui stopped while typing it into codex")
        );
        assert_eq!(resumes[1].body, None, "decided again and delivered");
    }

    #[test]
    fn a_delivery_doubted_when_its_target_ended_is_told() {
        let mut records = typed_into_codex(1, "typed, then codex died").to_vec();
        records.push(RelayRecord::DeliveryDoubted {
            id: 1,
            reason: "codex ended right after it was typed".into(),
        });
        let steps = timeline(&at_t0(records));
        assert_eq!(
            steps.last().map(|s| s.headline.as_str()),
            Some("#1 (claude → codex) comes back as delivery uncertain: codex ended right after it was typed")
        );
    }

    #[test]
    fn old_and_newer_journal_lines_both_replay() {
        use crate::bridge::journal::Journal;
        use crate::runs::test_dir::TestDir;
        let dir = TestDir::new("log-compat");
        // A journal from before runs had records of their own, one record
        // kind from a newer loop-tui, and this version's own records.
        let old = r#"{"ts":1,"record":"sent","message":{"id":1,"from":"a","to":"b","text":"hi","edited_text":null,"state":"pending","reason":null,"sent_ms":1,"auto":false,"delivered_by_tool":false}}"#;
        let newer = r#"{"ts":2,"record":"hologram","colour":"blue"}"#;
        let ours = r#"{"ts":3,"record":"state_changed","state":"done-awaiting-review"}"#;
        std::fs::write(
            dir.path().join("journal.jsonl"),
            format!("{old}\n{newer}\n{ours}\n"),
        )
        .unwrap();
        let replay = Journal::replay::<JournalEntry>(&dir.path().join("journal.jsonl")).unwrap();
        assert!(replay.skipped.is_empty(), "{:?}", replay.skipped);
        let kinds: Vec<&RelayRecord> = replay.records.iter().map(|e| &e.record).collect();
        assert!(matches!(kinds[0], RelayRecord::Sent { .. }));
        assert_eq!(kinds[1], &RelayRecord::Unknown);
        assert_eq!(
            kinds[2],
            &RelayRecord::StateChanged {
                state: RunState::DoneAwaitingReview
            }
        );
        let mut queue = crate::bridge::relay::RelayQueue::new(vec!["a".into(), "b".into()], 1000);
        queue.replay(kinds);
        assert_eq!(queue.pending_count(), 1);
        // The jsonl export keeps every complete line as written, and drops
        // a last line cut short.
        std::fs::write(
            dir.path().join("journal.jsonl"),
            format!("{old}\n{newer}\n{{\"ts\":4,\"rec"),
        )
        .unwrap();
        assert_eq!(
            render_jsonl(dir.path()).unwrap(),
            format!("{old}\n{newer}\n")
        );
    }
}
