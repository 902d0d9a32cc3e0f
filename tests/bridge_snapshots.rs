//! Snapshots of the bridge pane and the editor popup, rendered with
//! ratatui's `TestBackend` from a state built through the same relay calls
//! the app makes.

use insta::assert_snapshot;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use loop_tui::app::relay_actions::open_editor;
use loop_tui::app::state::{AppState, EditPurpose, PaneSpec};
use loop_tui::bridge::relay::Pause;
use loop_tui::pane::pty::PaneProgram;

/// 2026-11-22 10:00:00 UTC; the pane shows local time, so tests pin TZ.
const T0: i64 = 1_795_341_600_000;

fn state(cols: u16, rows: u16) -> AppState {
    // Times are shown in local time: make them the same on every machine.
    std::env::set_var("TZ", "UTC");
    let specs = ["claude", "codex"]
        .map(|n| PaneSpec::new(n, PaneProgram::Shell("true".into())))
        .into();
    let mut state = AppState::new(specs, (cols, rows), 100);
    // The bridge pane alone below the agents, as wide as the screen; the
    // plan pane beside it has its own snapshots (tests/plan_snapshots.rs).
    state.plan.shown = false;
    state
}

fn screen(state: &AppState) -> String {
    let (cols, rows) = state.term_size;
    let mut terminal = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    terminal.draw(|f| loop_tui::ui::draw(f, state)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..rows)
        .map(|y| {
            (0..cols)
                .map(|x| buffer[(x, y)].symbol().to_owned())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The bridge pane's rows only (the agents have no output here).
fn bridge_rows(state: &AppState) -> String {
    let full = screen(state);
    let top = state.frame_layout().bridge.expect("bridge shown").y;
    full.lines()
        .skip(usize::from(top))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_message_state_with_the_newest_pending_selected() {
    let mut s = state(120, 40);
    let q = &mut s.relay;
    let (delivered, _, _) = q
        .submit(
            "claude",
            "codex",
            "Please review src/parser.rs: I split tokenize() into lex() and parse().",
            T0,
        )
        .unwrap();
    q.approve(delivered).unwrap();
    q.delivered(delivered, false);
    let (edited, _, _) = q
        .submit("codex", "claude", "Looks fine.", T0 + 5_000)
        .unwrap();
    q.edit(
        edited,
        "Looks fine, but add a test for empty input.",
        T0 + 6_000,
    )
    .unwrap();
    let (rejected, _, _) = q
        .submit("claude", "codex", "Can I delete the old tests?", T0 + 9_000)
        .unwrap();
    q.reject(rejected, Some("no, keep them"), T0 + 10_000)
        .unwrap();
    // claude echoes codex's (edited) message back: suppressed.
    let (_, echo, _) = q
        .submit(
            "claude",
            "codex",
            "[loop-tui] message #2 from codex:\nlooks fine, but add a test for EMPTY input.",
            T0 + 11_000,
        )
        .unwrap();
    assert!(matches!(
        echo,
        loop_tui::bridge::relay::Disposition::Suppressed { of: 2 }
    ));
    // Typed into codex, which died right after its Enter.
    let (doubted, _, _) = q
        .submit("claude", "codex", "Also run the fuzzer.", T0 + 11_500)
        .unwrap();
    q.approve(doubted).unwrap();
    q.delivered(doubted, false);
    q.doubt_delivery(
        doubted,
        "codex ended right after it was typed and may not have read it",
    );
    let long = (1..=6)
        .map(|i| format!("line {i} of a long review comment"))
        .collect::<Vec<_>>()
        .join("\n");
    q.submit("codex", "claude", &long, T0 + 12_000).unwrap();
    q.submit(
        "claude",
        "codex",
        "Done: lex() now returns an iterator; please look again.",
        T0 + 13_000,
    )
    .unwrap();
    loop_tui::app::relay_actions::select_newest_pending(&mut s);
    // Zoomed, so every message fits on the screen.
    s.bridge.focused = true;
    s.zoomed = true;
    assert_snapshot!(bridge_rows(&s));
}

#[test]
fn focused_bridge_title_shows_pending_auto_and_a_hop_cap_pause() {
    let mut s = state(100, 30);
    s.bridge.focused = true;
    s.relay.set_auto_all(true);
    s.relay.hop_cap = 1;
    s.relay.submit("claude", "codex", "first", T0).unwrap();
    s.relay
        .submit("codex", "claude", "second", T0 + 1_000)
        .unwrap();
    assert_eq!(s.relay.pause, Some(Pause::HopCap(1)));
    assert_snapshot!(bridge_rows(&s));
}

#[test]
fn empty_bridge_says_what_will_appear() {
    let s = state(100, 30);
    assert_snapshot!(bridge_rows(&s));
}

#[test]
fn editor_popup_over_the_panes() {
    let mut s = state(100, 30);
    s.relay
        .submit("claude", "codex", "Use a mutex here.\nIt is simpler.", T0)
        .unwrap();
    open_editor(&mut s, EditPurpose::Edit(1));
    assert_snapshot!(screen(&s));
}

#[test]
fn reject_and_compose_popups() {
    let mut s = state(100, 30);
    s.relay.submit("claude", "codex", "x", T0).unwrap();
    open_editor(&mut s, EditPurpose::Reject(1));
    let reject = screen(&s);
    open_editor(&mut s, EditPurpose::Compose { target: None });
    let compose = screen(&s);
    assert_snapshot!(format!("{reject}\n\n{compose}"));
}

#[test]
fn ten_thousand_messages_show_the_selected_one_or_the_newest() {
    let mut s = state(120, 40);
    for i in 1..=10_000 {
        let (from, to) = if i % 2 == 0 {
            ("claude", "codex")
        } else {
            ("codex", "claude")
        };
        s.relay
            .submit(from, to, &format!("message number {i}"), T0)
            .unwrap();
    }
    s.bridge.selected = None;
    let newest = bridge_rows(&s);
    assert!(newest.contains("message number 10000"), "{newest}");
    s.bridge.selected = Some(5_000);
    let middle = bridge_rows(&s);
    assert!(middle.contains("▶ #5000 "), "{middle}");
    assert!(middle.contains("message number 5000"), "{middle}");
}
