//! Snapshots of the plan pane, rendered with ratatui's `TestBackend` from
//! a state fed the way the app feeds it: each read of PLAN.md arrives as
//! `AppEvent::PlanChanged`, keys as terminal events, all through `update`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::time::Instant;

use crossterm::event::{Event as TerminalEvent, KeyCode, KeyEvent, KeyModifiers};
use insta::assert_snapshot;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::Terminal;

use loop_tui::app::event::AppEvent;
use loop_tui::app::state::{AppState, PaneSpec};
use loop_tui::app::update::{next_deadline, update};
use loop_tui::pane::pty::PaneProgram;
use loop_tui::plan::load::PlanLoad;
use loop_tui::plan::markdown::parse;
use loop_tui::plan::CHANGE_HIGHLIGHT;

/// A plan with every kind of block the pane draws.
const FULL_PLAN: &str = "\
# Plan: the PLAN.md viewer

Issue 5 asks for a pane that shows **PLAN.md** with *live reload*; see
[the notify docs](https://docs.rs/notify) and <https://commonmark.org>.

## Tasks

- [x] Parse markdown with `pulldown-cmark`
- [x] Wrap to the pane width, keeping nested items aligned under their bullet even when long
- [ ] Watch the file
  - [x] notify on the directory
  - [ ] debounce (~150 ms)
- [ ] ~~Poll the file~~ never

### Notes

> Editors save by renaming,
> so the directory is watched.

```rust
let watcher = notify::recommended_watcher(handler)?;
```

---

1. first
2. second
";

const TASKS: &str = "\
## Milestone 1

- [x] layout strip
- [x] plan_view
- [ ] e2e test
- [x] README
- [ ] merge

Done when every box is checked.
";

/// Two agents (so the bridge and plan panes are shown) in a terminal of
/// `cols` x `rows`, with the plan at a fixed absolute path.
fn state(cols: u16, rows: u16) -> AppState {
    let specs = ["worker", "reviewer"]
        .map(|n| PaneSpec::new(n, PaneProgram::Shell("true".into())))
        .into();
    let mut state = AppState::new(specs, (cols, rows), 100);
    state.plan.path = "/work/project/PLAN.md".into();
    state
}

fn read(state: &mut AppState, load: PlanLoad, now: Instant) {
    update(state, AppEvent::PlanChanged(load), now);
}

fn load(state: &mut AppState, markdown: &str, now: Instant) {
    read(state, PlanLoad::Loaded(parse(markdown)), now);
}

fn key(state: &mut AppState, code: KeyCode) {
    let event = TerminalEvent::Key(KeyEvent::new(code, KeyModifiers::NONE));
    update(state, AppEvent::Terminal(event), Instant::now());
}

fn prefix(state: &mut AppState, c: char) {
    let event = TerminalEvent::Key(KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL));
    update(state, AppEvent::Terminal(event), Instant::now());
    key(state, KeyCode::Char(c));
}

fn draw(state: &AppState) -> Terminal<TestBackend> {
    let (cols, rows) = state.term_size;
    let mut terminal = Terminal::new(TestBackend::new(cols, rows)).unwrap();
    terminal.draw(|f| loop_tui::ui::draw(f, state)).unwrap();
    terminal
}

fn plan_rect(state: &AppState) -> Rect {
    state.frame_layout().plan.expect("the plan pane is shown")
}

/// The plan pane's cells as text, one line per row, trailing blanks cut.
fn plan_text(state: &AppState) -> String {
    let terminal = draw(state);
    let buf = terminal.backend().buffer();
    let rect = plan_rect(state);
    (rect.top()..rect.bottom())
        .map(|y| {
            (rect.left()..rect.right())
                .map(|x| buf[(x, y)].symbol().to_owned())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One line per run of equally styled cells in `area` (unstyled runs left
/// out), with the run's text, to read beside the text snapshot.
fn style_dump(buf: &Buffer, area: Rect) -> String {
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut x = area.left();
        while x < area.right() {
            let first = &buf[(x, y)];
            let start = x;
            let mut run = String::new();
            while x < area.right() {
                let cell = &buf[(x, y)];
                if (cell.fg, cell.bg, cell.modifier) != (first.fg, first.bg, first.modifier) {
                    break;
                }
                run.push_str(cell.symbol());
                x += 1;
            }
            let plain =
                first.fg == Color::Reset && first.bg == Color::Reset && first.modifier.is_empty();
            if !plain {
                writeln!(
                    out,
                    "y{y:02} x{start:03}..{x:03} fg={:?} bg={:?} mod={:?} {run:?}",
                    first.fg, first.bg, first.modifier
                )
                .unwrap();
            }
        }
    }
    out
}

#[test]
fn checkboxes_and_progress_in_the_title() {
    let mut s = state(160, 48);
    load(&mut s, TASKS, Instant::now());
    let text = plan_text(&s);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains(" plan · PLAN.md · 3/5 done "),
        "{text}"
    );
    assert_snapshot!(text);
}

#[test]
fn headings_code_links_quotes_and_rules_zoomed() {
    let mut s = state(100, 36);
    load(&mut s, FULL_PLAN, Instant::now());
    prefix(&mut s, 'p');
    prefix(&mut s, 'z');
    assert_eq!(
        plan_rect(&s),
        Rect::new(0, 0, 100, 35),
        "zoomed: the whole body"
    );
    assert_snapshot!("plan_full_zoomed", plan_text(&s));
    let terminal = draw(&s);
    assert_snapshot!(
        "plan_full_zoomed_styles",
        style_dump(terminal.backend().buffer(), plan_rect(&s))
    );
}

#[test]
fn a_long_plan_scrolled_with_keys() {
    let mut s = state(60, 20);
    let long: String = (1..=60).fold(String::from("# Long plan\n\n"), |text, i| {
        text + &format!("- [{}] step {i}\n", if i % 3 == 0 { "x" } else { " " })
    });
    load(&mut s, &long, Instant::now());
    prefix(&mut s, 'p');
    prefix(&mut s, 'z');
    // 17 rows of text: j, PgDn (a page is one row less, 16) and ↑.
    key(&mut s, KeyCode::Char('j'));
    key(&mut s, KeyCode::PageDown);
    key(&mut s, KeyCode::Up);
    assert_eq!(s.plan.scroll, 16);
    assert_snapshot!("plan_long_scrolled", plan_text(&s));

    key(&mut s, KeyCode::Char('G'));
    let bottom = plan_text(&s);
    assert!(bottom.contains("☑ step 60"), "{bottom}");
    assert!(bottom.contains(" 46–62/62 "), "{bottom}");
    key(&mut s, KeyCode::Char('g'));
    assert!(plan_text(&s).contains("# Long plan"));
}

#[test]
fn a_missing_plan_says_where_it_belongs_and_how_it_comes() {
    let mut s = state(160, 48);
    read(&mut s, PlanLoad::Missing, Instant::now());
    assert_snapshot!(plan_text(&s));
}

#[test]
fn an_unreadable_plan_says_why() {
    let mut s = state(160, 48);
    read(
        &mut s,
        PlanLoad::Unreadable(
            "it is not UTF-8 text (an invalid byte follows the first 12 bytes)".into(),
        ),
        Instant::now(),
    );
    assert_snapshot!(plan_text(&s));
}

#[test]
fn changed_lines_are_marked_until_the_highlight_ends() {
    let mut s = state(160, 48);
    let t0 = Instant::now();
    load(&mut s, TASKS, t0);
    assert_eq!(
        next_deadline(&s, t0),
        None,
        "a first version highlights nothing"
    );
    let edited = TASKS
        .replace("- [ ] e2e test", "- [x] e2e test")
        .replace("- [ ] merge", "- [ ] merge\n- [ ] release notes");
    load(&mut s, &edited, t0);
    let text = plan_text(&s);
    assert!(text.contains(" 4/6 done "), "{text}");
    assert_snapshot!("plan_changed_marked", text);

    // The whole row of a changed line has the highlight background.
    let terminal = draw(&s);
    let rect = plan_rect(&s);
    let buf = terminal.backend().buffer();
    let row = (rect.top()..rect.bottom())
        .find(|&y| buf[(rect.x + 2, y)].symbol() == "☑" && buf[(rect.x + 4, y)].symbol() == "e")
        .expect("the checked e2e test row");
    assert!((rect.x + 1..rect.right() - 1).all(|x| buf[(x, row)].bg == Color::Indexed(22)));

    // A timer ends the highlight, and then nothing is due at all.
    let due = next_deadline(&s, t0).expect("the highlight asks for a timer");
    assert_eq!(due, t0 + CHANGE_HIGHLIGHT);
    update(&mut s, AppEvent::Timer, due);
    assert!(!plan_text(&s).contains('▌'));
    assert_eq!(next_deadline(&s, due), None, "idle: no timer left");
}

#[test]
fn a_reload_keeps_the_scroll_position() {
    let mut s = state(60, 20);
    let long: String = (1..=40).fold(String::new(), |text, i| text + &format!("line {i}\n\n"));
    load(&mut s, &long, Instant::now());
    prefix(&mut s, 'p');
    prefix(&mut s, 'z');
    for _ in 0..10 {
        key(&mut s, KeyCode::Char('j'));
    }
    let before = plan_text(&s);
    assert!(
        before.lines().nth(1).unwrap().contains("line 6"),
        "{before}"
    );
    load(&mut s, &format!("{long}line 41\n"), Instant::now());
    let after = plan_text(&s);
    assert_eq!(after.lines().nth(1), before.lines().nth(1), "{after}");
}

#[test]
fn tiny_terminals_never_panic() {
    for (cols, rows) in [
        (0, 0),
        (1, 1),
        (2, 2),
        (5, 3),
        (10, 20),
        (30, 16),
        (80, 24),
        (99, 40),
    ] {
        for zoom in [false, true] {
            for focus in [false, true] {
                let mut s = state(cols, rows);
                load(&mut s, FULL_PLAN, Instant::now());
                load(&mut s, &FULL_PLAN.replace("first", "1st"), Instant::now());
                s.plan.focused = focus;
                s.zoomed = zoom;
                s.plan.scroll = 1000;
                draw(&s);
                key(&mut s, KeyCode::PageDown);
                key(&mut s, KeyCode::Char('G'));
                draw(&s);
            }
        }
    }
}
