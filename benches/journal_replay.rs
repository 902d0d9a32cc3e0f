//! How long resuming a long run takes on the relay's side: reading a
//! journal of 10 000 relayed messages back and replaying it into a
//! `RelayQueue` (issue target: under 1 s).
//!
//! The journal is made the way a run makes it: every message goes through
//! the real `RelayQueue` (`submit`, the human's `approve`, the delivery's
//! `delivery_started` and `delivered`), and each record is written as the
//! `JournalEntry` line `Journal::append` writes (the same serde encoding
//! and newline, without the fsync per line, which only slows building the
//! fixture). Messages alternate between the two agents and are about 1 KB
//! of prose each, like a review comment; each ends up delivered, so the
//! file holds `sent`, `human_action`, `approved`, `delivery_started` and
//! `delivered` records: 50 000 lines, about 15 MB.
//!
//! Groups:
//! - `journal_replay/read_10k`: `Journal::replay` (read and decode).
//! - `journal_replay/apply_10k`: `RelayQueue::replay` of the decoded
//!   records into a fresh queue.
//! - `journal_replay/resume_10k`: both, which is what `--run-id` does.
//!
//! `cargo bench --bench journal_replay -- --test` runs each once.

use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use loop_tui::bridge::journal::Journal;
use loop_tui::bridge::relay::{JournalEntry, MessageState, RelayQueue, RelayRecord};

const MESSAGES: u64 = 10_000;
/// About the size of a review comment an agent sends.
const MESSAGE_BYTES: usize = 1_000;
const AGENTS: [&str; 2] = ["claude", "codex"];

// A compact word table; rustfmt would put one word per line.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "parser", "splits", "lines", "at", "width", "and", "keeps", "history", "when",
    "resized", "please", "review", "step", "tests", "pass", "edge", "case", "empty", "input",
    "returns", "error", "instead", "of", "panicking", "I", "changed", "src/pane/pty.rs", "so",
    "reader", "thread", "wakes", "loop", "once", "per", "frame", "journal", "fsync", "before",
    "reply", "approve", "reject", "message", "delivered", "check", "this", "function", "looks",
];

/// Knuth's MMIX LCG, so every run builds the same journal.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).expect("31 bits fit") % n
    }
}

/// A message of about [`MESSAGE_BYTES`], unique to `step` so the relay
/// never suppresses it as a repeat.
fn message_text(rng: &mut Lcg, step: u64) -> String {
    let mut text = format!("Step {step}: ");
    while text.len() < MESSAGE_BYTES {
        text.push_str(WORDS[rng.below(WORDS.len())]);
        text.push(if rng.below(12) == 0 { '\n' } else { ' ' });
    }
    text
}

/// Writes the journal of a run that relayed [`MESSAGES`] messages, each
/// approved by the human and delivered.
fn write_journal(path: &Path) {
    let mut queue = RelayQueue::new(AGENTS.map(str::to_owned).to_vec(), 64 * 1024);
    let mut rng = Lcg(7);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create journal"));
    let mut ts = 1_767_000_000_000_i64;
    for step in 0..MESSAGES {
        let from = AGENTS[usize::from(step % 2 == 1)];
        let to = AGENTS[usize::from(step % 2 == 0)];
        let text = message_text(&mut rng, step);
        let (id, _, mut records) = queue.submit(from, to, &text, ts).expect("accepted");
        records.extend(queue.approve(id).expect("pending"));
        records.extend(queue.delivery_started(id));
        records.extend(queue.delivered(id, false));
        for record in records {
            ts += 250;
            serde_json::to_writer(&mut out, &JournalEntry { ts, record }).expect("encode");
            out.write_all(b"\n").expect("write journal");
        }
    }
    out.flush().expect("flush journal");
}

fn read(path: &Path) -> Vec<RelayRecord> {
    let replay = Journal::replay::<JournalEntry>(path).expect("read journal");
    assert!(replay.skipped.is_empty(), "{:?}", replay.skipped);
    replay.records.into_iter().map(|e| e.record).collect()
}

fn apply(records: &[RelayRecord]) -> RelayQueue {
    let mut queue = RelayQueue::new(AGENTS.map(str::to_owned).to_vec(), 64 * 1024);
    queue.replay(records);
    queue
}

fn journal_path() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loop-tui-bench-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("journal.jsonl")
}

fn journal_replay(c: &mut Criterion) {
    let path = journal_path();
    write_journal(&path);
    let records = read(&path);
    // What is measured must be what a resume sees: every message back,
    // delivered.
    let queue = apply(&records);
    assert_eq!(queue.messages().len(), 10_000);
    assert!(queue
        .messages()
        .iter()
        .all(|m| m.state == MessageState::Delivered && m.text.len() >= MESSAGE_BYTES - 20));
    eprintln!(
        "journal: {} records, {} bytes",
        records.len(),
        std::fs::metadata(&path).map_or(0, |m| m.len())
    );

    let mut group = c.benchmark_group("journal_replay");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("read_10k", |b| b.iter(|| black_box(read(&path))));
    group.bench_function("apply_10k", |b| b.iter(|| black_box(apply(&records))));
    group.bench_function("resume_10k", |b| {
        b.iter(|| black_box(apply(&read(&path))));
    });
    group.finish();
    let _ = std::fs::remove_dir_all(path.parent().expect("a directory"));
}

criterion_group!(benches, journal_replay);
criterion_main!(benches);
