//! How long the bridge takes on its two hot paths (issue targets: 50 ms
//! and 5 ms):
//!
//! - `bridge/send_message_to_visible`: an agent's `send_message` over the
//!   real Unix socket (`BridgeClient`, as `mcp-bridge` sends it), through
//!   the listener thread and the app's `update`, the journal append with
//!   its fsync on a real file, the reply, and the next frame of the bridge
//!   pane (ratatui `TestBackend`) showing the message.
//! - `bridge/approve_to_pty`: the human's prefix + `a`, through `update`,
//!   the delivery pump and `PtyProcess::write`, until the writer thread has
//!   written the whole paste to the target's PTY (a real `cat` child).
//!
//! `cargo bench --bench bridge_latency -- --test` runs each once.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use loop_tui::app::event::{AppEvent, Effect};
use loop_tui::app::state::{AppState, PaneSpec};
use loop_tui::app::update::update;
use loop_tui::bridge::client::BridgeClient;
use loop_tui::bridge::journal::Journal;
use loop_tui::bridge::listener::{BridgeListener, ConnectionId, ListenerEvent};
use loop_tui::bridge::protocol::BridgeCall;
use loop_tui::bridge::relay::{JournalEntry, RelayQueue};
use loop_tui::pane::pty::{PaneProgram, PtyProcess};

fn specs() -> Vec<PaneSpec> {
    ["claude", "codex"]
        .map(|n| PaneSpec::new(n, PaneProgram::Shell("cat > /dev/null".into())))
        .into()
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loop-tui-bench-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

enum Msg {
    App(AppEvent),
    /// Start from an empty queue, so every sample draws the same pane.
    Reset,
}

/// A minimal executor like `app::run`: one thread owns the state, runs
/// `update`, journals and answers, and draws a frame after each event.
fn spawn_app_loop(journal_path: PathBuf) -> (mpsc::Sender<Msg>, mpsc::Receiver<bool>) {
    let (tx, rx) = mpsc::channel::<Msg>();
    let (frame_tx, frame_rx) = mpsc::channel::<bool>();
    thread::spawn(move || {
        let mut state = AppState::new(specs(), (200, 50), 100);
        let mut journal = Journal::open(&journal_path).expect("journal");
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
        for msg in rx {
            let event = match msg {
                Msg::Reset => {
                    state.relay = RelayQueue::new(vec!["claude".into(), "codex".into()], 65_536);
                    continue;
                }
                Msg::App(event) => event,
            };
            for effect in update(&mut state, event, Instant::now()) {
                match effect {
                    Effect::Journal(records) => {
                        for record in records {
                            journal
                                .append(&JournalEntry { ts: 0, record })
                                .expect("journal append");
                        }
                    }
                    Effect::Reply { to, reply } => to.send(reply),
                    _ => {}
                }
            }
            terminal
                .draw(|f| loop_tui::ui::draw(f, &state))
                .expect("draw");
            let buffer = terminal.backend().buffer();
            let shown = buffer
                .content()
                .iter()
                .map(ratatui::buffer::Cell::symbol)
                .collect::<String>()
                .contains("claude → codex");
            let _ = frame_tx.send(shown);
        }
    });
    (tx, frame_rx)
}

fn send_message_to_visible(c: &mut Criterion) {
    let dir = temp_dir("send");
    let socket = dir.join("bridge.sock");
    let (tx, frames) = spawn_app_loop(dir.join("journal.jsonl"));
    let app = std::sync::Mutex::new(tx.clone());
    let _listener = BridgeListener::start(&socket, "token".into(), move |event| {
        if let ListenerEvent::Request(request) = event {
            let _ = app
                .lock()
                .expect("lock")
                .send(Msg::App(AppEvent::Bridge(request)));
        }
    })
    .expect("listener");
    let client = BridgeClient {
        socket,
        token: "token".into(),
        agent: "claude".into(),
    };
    c.bench_function("bridge/send_message_to_visible", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                tx.send(Msg::Reset).expect("reset");
                let start = Instant::now();
                let reply = client
                    .call(BridgeCall::Send {
                        target: "codex".into(),
                        message: format!("please review step {i}: the parser split"),
                    })
                    .expect("call");
                assert!(reply.ok, "{reply:?}");
                assert!(frames.recv().expect("a frame"), "the message is on screen");
                total += start.elapsed();
            }
            total
        });
    });
}

fn approve_to_pty(c: &mut Criterion) {
    let mut state = AppState::new(specs(), (200, 50), 100);
    let pane = &mut state.panes[1];
    let process = PtyProcess::spawn(
        1,
        0,
        &pane.spec.program,
        &[],
        pane.size,
        pane.screen.clone(),
        |_| {},
    )
    .expect("spawn cat");
    pane.input_backlog = process.backlog();
    // `cat` has no MCP bridge to say hello; without this every delivery
    // would wait out the start-up grace instead of being measured.
    pane.bridge_link.hello(ConnectionId::next());
    let backlog: Arc<_> = process.backlog();
    let key = |code, modifiers| AppEvent::Terminal(Event::Key(KeyEvent::new(code, modifiers)));
    c.bench_function("bridge/approve_to_pty", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                state
                    .relay
                    .submit("claude", "codex", &format!("please review step {i}"), 0)
                    .expect("submit");
                let start = Instant::now();
                let mut effects = update(
                    &mut state,
                    key(KeyCode::Char(']'), KeyModifiers::CONTROL),
                    start,
                );
                effects.extend(update(
                    &mut state,
                    key(KeyCode::Char('a'), KeyModifiers::NONE),
                    start,
                ));
                for effect in effects {
                    if let Effect::Deliver { bytes, .. } | Effect::TypeMessage { bytes, .. } =
                        effect
                    {
                        process.write(bytes);
                    }
                }
                while backlog.load(Ordering::Relaxed) > 0 {
                    std::hint::spin_loop();
                }
                total += start.elapsed();
                // Finish the delivery (its Enter) outside the measurement.
                let done = state.panes[1]
                    .delivery
                    .expect("a delivery started")
                    .enter_at;
                for effect in update(&mut state, AppEvent::Timer, done) {
                    if let Effect::Deliver { bytes, .. } | Effect::TypeMessage { bytes, .. } =
                        effect
                    {
                        process.write(bytes);
                    }
                }
                // A delivery waits for an empty input queue: let it drain.
                while backlog.load(Ordering::Relaxed) > 0 {
                    std::thread::yield_now();
                }
            }
            total
        });
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = send_message_to_visible, approve_to_pty
}
criterion_main!(benches);
