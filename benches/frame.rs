//! What a frame costs at 200x50 with two busy agent panes, the bridge and
//! the plan: a whole frame (every frame before the presenter, and still
//! every frame after a state change) against the row-only frame that
//! follows a key's echo (one changed row). The difference is most of what
//! loop-tui used to add to echo latency (docs/performance.md).

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use loop_tui::app::state::{AppState, PaneSpec};
use loop_tui::pane::emulator::EmulatorKind;
use loop_tui::pane::pty::PaneProgram;
use loop_tui::ui::Presenter;
use ratatui::backend::TestBackend;

const COLS: u16 = 200;
const ROWS: u16 = 50;

/// Two panes full of coloured agent-like output.
fn busy_state() -> AppState {
    let specs = ["claude", "codex"]
        .iter()
        .map(|t| PaneSpec::new(t, PaneProgram::Shell((*t).to_owned())))
        .collect();
    let mut state = AppState::with_emulator(specs, (COLS, ROWS), 10_000, EmulatorKind::Alacritty);
    let count = state.panes.len();
    for index in 0..count {
        let size = state.layout_size(index, count);
        state.panes[index].size = size;
        state.panes[index].screen.lock().resize(size);
        let mut text = String::new();
        for line in 0..200 {
            let _ = write!(
                text,
                "\x1b[3{}m{line:04} \x1b[1mcompiling\x1b[0m crate module function return value struct impl trait\r\n",
                line % 7 + 1
            );
        }
        state.panes[index].screen.feed(text.as_bytes());
    }
    state
}

fn frames(c: &mut Criterion) {
    let state = busy_state();
    let mut group = c.benchmark_group("frame_200x50");
    group.bench_function("whole", |b| {
        let mut presenter = Presenter::new(TestBackend::new(COLS, ROWS));
        let mut n = 0u32;
        b.iter(|| {
            // A different character each time, so there is always a change.
            n = n.wrapping_add(1);
            let c = char::from(b'a' + u8::try_from(n % 26).unwrap_or(0));
            state.panes[0].screen.feed(c.to_string().as_bytes());
            presenter.draw(black_box(&state)).expect("draw");
        });
    });
    group.bench_function("echo_rows_only", |b| {
        let mut presenter = Presenter::new(TestBackend::new(COLS, ROWS));
        presenter.draw(&state).expect("draw");
        let mut n = 0u32;
        b.iter(|| {
            n = n.wrapping_add(1);
            let c = char::from(b'a' + u8::try_from(n % 26).unwrap_or(0));
            state.panes[0].screen.feed(c.to_string().as_bytes());
            assert!(presenter.draw_pane_output(black_box(&state)).expect("draw"));
        });
    });
    group.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
