//! How fast a pane keeps up with a coding agent's output, and what a frame
//! costs.
//!
//! The input is ~10 MiB of synthetic but typical agent output, generated
//! deterministically here (a fixed-seed LCG, no extra dependencies) so every
//! run measures the same bytes: coloured build logs, diffs, long wrapping
//! lines, box drawing and CJK, and the in-place redraws agent TUIs do
//! (cursor moves, erase line, a spinner redrawn after CR, a status line at
//! the bottom drawn with save/restore cursor).
//!
//! Groups, each run for both emulators (`vt100` and `alacritty`):
//! - `emulator/<kind>_process`: parsing only, fed in 64 KiB chunks as the
//!   PTY reader does.
//! - `scroll/<kind>_process`: the same for ~10 MiB of output that only
//!   scrolls (the logs, diffs, long lines and panels without the in-place
//!   redraws), where every line goes through the history: what a build or
//!   a test run in a pane costs.
//! - `emulator+render/<kind>_frame_per_MiB`: the same, plus one frame
//!   rendered per MiB, as the 60 Hz UI does while output floods in.
//! - `render/frame_200x50/<kind>`: one dense, fully coloured 198x48 pane
//!   screen (a 200x50 pane with its border) copied into a ratatui buffer.
//!
//! `cargo bench --bench emulator_render -- --test` runs each once as a
//! smoke test.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use loop_tui::pane::emulator::{Emulator, EmulatorKind, PaneSize};
use loop_tui::ui::term_view;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// The inner size of a pane filling a 200x50 terminal's body with its
/// border: the size agents see when loop-tui runs zoomed or alone.
const PANE: PaneSize = PaneSize {
    rows: 48,
    cols: 198,
};
const SCROLLBACK: usize = 10_000;
/// The PTY reader's read size.
const CHUNK: usize = 64 * 1024;
/// Output between two frames when a flood saturates the parser.
const FRAME_EVERY: usize = 1024 * 1024;
const TARGET_LEN: usize = 10 * 1024 * 1024;

/// Knuth's MMIX LCG: good enough to vary the content, and identical on
/// every machine, so runs are comparable.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // The high bits of an LCG are the random-looking ones.
        u32::try_from(self.0 >> 32).expect("32 bits fit")
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).expect("u32 fits in usize") % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

// The word tables are kept compact by hand; rustfmt would put one word
// per line.
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "let", "fn", "self", "buffer", "render", "state", "pane", "emulator", "cursor", "parse",
    "Result", "Option", "impl", "match", "return", "async", "await", "config", "layout",
    "width", "height", "error", "value", "into", "from", "clone", "iter", "map", "collect",
    "unwrap_or",
];
#[rustfmt::skip]
const CRATES: &[&str] = &[
    "serde", "tokio", "ratatui", "crossterm", "vt100", "clap", "anyhow", "regex",
    "portable-pty", "unicode-width", "hashbrown", "syn", "quote", "proc-macro2", "libc", "mio",
];
const CJK: &[&str] = &[
    "构建成功",
    "测试通过",
    "テスト完了",
    "ファイル",
    "빌드 완료",
    "설정",
    "漢字",
    "日本語の説明",
];
const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

fn words(rng: &mut Lcg, out: &mut String, count: usize) {
    for i in 0..count {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.pick(WORDS));
    }
}

/// Cargo-style build and test output: bold 16-colour status words,
/// 256-colour warnings, truecolor paths.
fn build_log(rng: &mut Lcg, out: &mut String) {
    for _ in 0..(3 + rng.below(20)) {
        match rng.below(6) {
            0 | 1 => {
                let _ = write!(
                    out,
                    "\x1b[1;32m   Compiling\x1b[0m {} v{}.{}.{}\r\n",
                    rng.pick(CRATES),
                    rng.below(3),
                    rng.below(40),
                    rng.below(12)
                );
            }
            2 => {
                let _ = write!(
                    out,
                    "\x1b[1;33mwarning\x1b[0m\x1b[1m: unused variable: `{}`\x1b[0m\r\n   \x1b[38;5;33m-->\x1b[0m \x1b[38;2;97;175;239msrc/{}.rs:{}:{}\x1b[0m\r\n",
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.below(900),
                    rng.below(80)
                );
            }
            3 => {
                let ok = rng.chance(90);
                let _ = write!(
                    out,
                    "test {}::tests::{}_{} ... {}\r\n",
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    rng.pick(WORDS),
                    if ok {
                        "\x1b[32mok\x1b[0m"
                    } else {
                        "\x1b[1;31mFAILED\x1b[0m"
                    }
                );
            }
            4 => {
                let _ = write!(
                    out,
                    "\x1b[38;5;244m[{:>4}ms]\x1b[0m \x1b[38;5;{}m{}\x1b[0m ",
                    rng.below(5000),
                    16 + rng.below(216),
                    rng.pick(CRATES)
                );
                let count = 4 + rng.below(10);
                words(rng, out, count);
                out.push_str("\r\n");
            }
            _ => {
                let _ = write!(
                    out,
                    "\x1b[1;32m    Finished\x1b[0m `dev` profile in {}.{:02}s\r\n",
                    rng.below(60),
                    rng.below(100)
                );
            }
        }
    }
}

/// A unified diff, some lines on truecolor backgrounds as agents show them.
fn diff(rng: &mut Lcg, out: &mut String) {
    let _ = write!(
        out,
        "\x1b[36m@@ -{},{} +{},{} @@\x1b[0m fn {}()\r\n",
        rng.below(500),
        rng.below(30),
        rng.below(500),
        rng.below(30),
        rng.pick(WORDS)
    );
    for _ in 0..(4 + rng.below(16)) {
        let (prefix, style) = match rng.below(4) {
            0 => ("+", "\x1b[32m"),
            1 => ("-", "\x1b[31m"),
            2 => ("+", "\x1b[38;2;220;255;220;48;2;0;60;0m"),
            _ => (" ", ""),
        };
        let _ = write!(out, "{style}{prefix}    ");
        let count = 3 + rng.below(12);
        words(rng, out, count);
        out.push_str(";\x1b[0m\r\n");
    }
}

/// A paragraph long enough to wrap several times at 198 columns.
fn long_line(rng: &mut Lcg, out: &mut String) {
    let count = 40 + rng.below(120);
    words(rng, out, count);
    out.push_str("\r\n");
}

/// A box-drawn panel with some CJK inside.
fn panel(rng: &mut Lcg, out: &mut String) {
    let width = 30 + rng.below(100);
    out.push('╭');
    out.push_str(&"─".repeat(width));
    out.push_str("╮\r\n");
    for _ in 0..(2 + rng.below(5)) {
        out.push_str("│ ");
        if rng.chance(50) {
            out.push_str(rng.pick(CJK));
            out.push(' ');
        }
        let count = 2 + rng.below(6);
        words(rng, out, count);
        out.push_str(" │\r\n");
    }
    out.push('╰');
    out.push_str(&"─".repeat(width));
    out.push_str("╯\r\n");
}

/// The in-place redraws of an agent TUI.
fn tui_redraw(rng: &mut Lcg, out: &mut String) {
    // A spinner line redrawn many times after CR, each draw erasing the
    // rest of the previous one.
    for tick in 0..(5 + rng.below(30)) {
        let _ = write!(
            out,
            "\r\x1b[38;5;174m{}\x1b[0m Thinking… \x1b[2m({}s · esc to interrupt)\x1b[0m\x1b[K",
            SPINNER[tick % SPINNER.len()],
            tick / 4
        );
    }
    out.push_str("\r\x1b[K");
    // A task list redrawn in place with absolute cursor moves.
    let top = 2 + rng.below(30);
    for row in top..top + 3 + rng.below(10) {
        let done = rng.chance(40);
        let _ = write!(
            out,
            "\x1b[{row};3H\x1b[2K{} ",
            if done { "\x1b[32m✔\x1b[0m" } else { "☐" }
        );
        let count = 3 + rng.below(6);
        words(rng, out, count);
    }
    // The status line at the bottom, drawn without losing the cursor.
    let _ = write!(
        out,
        "\x1b7\x1b[48;1H\x1b[7m model: opus · {} tokens · ${}.{:02} \x1b[0m\x1b[K\x1b8",
        rng.below(200_000),
        rng.below(10),
        rng.below(100)
    );
    // Back to where output continues.
    out.push_str("\x1b[47;1H\r\n");
}

/// ~10 MiB of agent output, the same bytes on every run.
fn agent_output() -> Vec<u8> {
    let mut rng = Lcg(0x5eed_1234_abcd_0042);
    let mut out = String::with_capacity(TARGET_LEN + 64 * 1024);
    while out.len() < TARGET_LEN {
        match rng.below(100) {
            0..35 => build_log(&mut rng, &mut out),
            35..55 => diff(&mut rng, &mut out),
            55..65 => long_line(&mut rng, &mut out),
            65..75 => panel(&mut rng, &mut out),
            _ => tui_redraw(&mut rng, &mut out),
        }
    }
    out.into_bytes()
}

/// ~10 MiB of output that only scrolls, every line into the history.
fn scrolling_output() -> Vec<u8> {
    let mut rng = Lcg(0x5eed_1234_abcd_0043);
    let mut out = String::with_capacity(TARGET_LEN + 64 * 1024);
    while out.len() < TARGET_LEN {
        match rng.below(100) {
            0..45 => build_log(&mut rng, &mut out),
            45..75 => diff(&mut rng, &mut out),
            75..85 => long_line(&mut rng, &mut out),
            _ => panel(&mut rng, &mut out),
        }
    }
    out.into_bytes()
}

/// One screen where every cell has text and most have colours: the worst
/// case for a frame copy, since no cell can be skipped.
fn dense_screen() -> Vec<u8> {
    let mut rng = Lcg(7);
    let mut out = String::new();
    for row in 1..=PANE.rows {
        let _ = write!(out, "\x1b[{row};1H");
        let mut col = 0;
        while col < usize::from(PANE.cols) {
            let style = match rng.below(4) {
                0 => format!("\x1b[{}m", 30 + rng.below(8)),
                1 => format!("\x1b[1;38;5;{}m", rng.below(256)),
                2 => format!(
                    "\x1b[38;2;{};{};{};48;2;{};{};{}m",
                    rng.below(256),
                    rng.below(256),
                    rng.below(256),
                    rng.below(64),
                    rng.below(64),
                    rng.below(64)
                ),
                _ => "\x1b[0m".to_owned(),
            };
            out.push_str(&style);
            let word = rng.pick(WORDS);
            // Stop exactly at the last column so the bottom row never
            // scrolls the screen.
            let room = usize::from(PANE.cols) - col;
            let take = word.len().min(room);
            out.push_str(&word[..take]);
            col += take;
            if col < usize::from(PANE.cols) {
                out.push('.');
                col += 1;
            }
        }
    }
    out.into_bytes()
}

/// The emulators compared, with the names used in benchmark ids.
const EMULATORS: [(EmulatorKind, &str); 2] = [
    (EmulatorKind::Vt100, "vt100"),
    (EmulatorKind::Alacritty, "alacritty"),
];

fn new_emulator(kind: EmulatorKind) -> Box<dyn Emulator> {
    // Boxed as the app holds it, so calls go through the same dynamic
    // dispatch as in `ui::draw`.
    kind.create(PANE, SCROLLBACK)
}

/// A 200x50 buffer and the pane's inner area inside its border.
fn frame_buffer() -> (Buffer, Rect) {
    let buf = Buffer::empty(Rect::new(0, 0, PANE.cols + 2, PANE.rows + 2));
    (buf, Rect::new(1, 1, PANE.cols, PANE.rows))
}

/// The recorded sessions of the real agents (`tests/fixtures/agents/`),
/// repeated to about 4 MiB: Claude Code's and Codex's synchronized-output
/// frames, Codex's scroll regions, Gemini's full redraws.
fn agent_sessions() -> Vec<u8> {
    const SESSIONS: [&[u8]; 9] = [
        include_bytes!("../tests/fixtures/agents/claude_startup.bin"),
        include_bytes!("../tests/fixtures/agents/claude_tool_turn.bin"),
        include_bytes!("../tests/fixtures/agents/claude_long_conversation.bin"),
        include_bytes!("../tests/fixtures/agents/codex_startup.bin"),
        include_bytes!("../tests/fixtures/agents/codex_tool_turn.bin"),
        include_bytes!("../tests/fixtures/agents/codex_long_conversation.bin"),
        include_bytes!("../tests/fixtures/agents/gemini_startup.bin"),
        include_bytes!("../tests/fixtures/agents/gemini_tool_turn.bin"),
        include_bytes!("../tests/fixtures/agents/gemini_long_conversation.bin"),
    ];
    let mut out = Vec::new();
    while out.len() < 4 << 20 {
        for session in SESSIONS {
            // Each session starts from a reset terminal, as a new pane would.
            out.extend_from_slice(b"\x1bc");
            out.extend_from_slice(session);
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let input = agent_output();
    let bytes = u64::try_from(input.len()).expect("input length fits in u64");

    let mut group = c.benchmark_group("emulator");
    group.throughput(Throughput::Bytes(bytes));
    // One iteration takes tens of milliseconds: flat sampling keeps the
    // iteration count per sample small and the run short.
    group.sampling_mode(SamplingMode::Flat);
    for (kind, name) in EMULATORS {
        group.bench_function(format!("{name}_process"), |b| {
            b.iter(|| {
                let mut emulator = new_emulator(kind);
                for chunk in input.chunks(CHUNK) {
                    emulator.process(black_box(chunk));
                }
                black_box(emulator.cursor())
            });
        });
    }
    group.finish();

    let scrolling = scrolling_output();
    let mut group = c.benchmark_group("scroll");
    group.throughput(Throughput::Bytes(
        u64::try_from(scrolling.len()).expect("input length fits in u64"),
    ));
    group.sampling_mode(SamplingMode::Flat);
    for (kind, name) in EMULATORS {
        group.bench_function(format!("{name}_process"), |b| {
            b.iter(|| {
                let mut emulator = new_emulator(kind);
                for chunk in scrolling.chunks(CHUNK) {
                    emulator.process(black_box(chunk));
                }
                black_box(emulator.cursor())
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("emulator+render");
    group.throughput(Throughput::Bytes(bytes));
    group.sampling_mode(SamplingMode::Flat);
    for (kind, name) in EMULATORS {
        group.bench_function(format!("{name}_frame_per_MiB"), |b| {
            let (mut buf, area) = frame_buffer();
            b.iter(|| {
                let mut emulator = new_emulator(kind);
                let mut since_frame = 0;
                for chunk in input.chunks(CHUNK) {
                    emulator.process(black_box(chunk));
                    since_frame += chunk.len();
                    if since_frame >= FRAME_EVERY {
                        since_frame = 0;
                        // ratatui hands every frame a blank buffer, and
                        // `term_view::render` relies on that.
                        buf.reset();
                        term_view::render(&*emulator, area, &mut buf);
                        black_box(&buf);
                    }
                }
            });
        });
    }
    group.finish();

    let sessions = agent_sessions();
    let mut group = c.benchmark_group("agent_sessions");
    group.throughput(Throughput::Bytes(
        u64::try_from(sessions.len()).expect("input length fits in u64"),
    ));
    group.sampling_mode(SamplingMode::Flat);
    for (kind, name) in EMULATORS {
        group.bench_function(format!("{name}_process"), |b| {
            b.iter(|| {
                let mut emulator = new_emulator(kind);
                for chunk in sessions.chunks(CHUNK) {
                    emulator.process(black_box(chunk));
                }
                black_box(emulator.cursor())
            });
        });
    }
    group.finish();

    let screen = dense_screen();
    let mut group = c.benchmark_group("render");
    // Counted in cells, since a frame is not a byte stream.
    group.throughput(Throughput::Elements(
        u64::from(PANE.rows) * u64::from(PANE.cols),
    ));
    for (kind, name) in EMULATORS {
        let mut emulator = new_emulator(kind);
        emulator.process(&screen);
        group.bench_function(BenchmarkId::new("frame_200x50", name), |b| {
            let (mut buf, area) = frame_buffer();
            b.iter(|| {
                buf.reset();
                term_view::render(&*emulator, area, &mut buf);
                black_box(&buf);
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Small samples keep the whole run under two minutes on two cores.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
