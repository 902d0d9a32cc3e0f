//! The plan pane's core: PLAN.md read, parsed into plain lines, watched,
//! and the pane's own state (scroll position, lines that just changed).
//! No ratatui here; `ui::plan_view` draws it.

pub mod load;
pub mod markdown;
pub mod watch;
pub mod wrap;

use std::borrow::Cow;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp};

use self::load::PlanLoad;
use self::markdown::{Line, LineKind, PlanDoc, Progress, Role, Span, TextStyle};
use self::wrap::Row;

/// Where the plan is read from unless configured otherwise: the working
/// directory, where the agents' role prompts tell them to keep it.
pub const DEFAULT_PLAN_PATH: &str = "PLAN.md";

/// How long lines that changed in a reload stay highlighted: long enough
/// to be noticed while the human works in an agent pane, short enough that
/// the next change stands out again.
pub const CHANGE_HIGHLIGHT: Duration = Duration::from_secs(4);

/// The columns left of the text where changed lines are marked. Always
/// reserved, so the text does not shift when a highlight comes and goes.
pub const GUTTER: usize = 1;

/// The most time spent finding what changed; past it the diff is coarser
/// (more lines marked), never wrong, so a huge rewrite cannot stall the UI.
const DIFF_BUDGET: Duration = Duration::from_millis(20);

/// How to move the plan's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanScroll {
    Up(usize),
    Down(usize),
    Top,
    Bottom,
}

/// The plan pane's state, owned by `AppState`.
#[derive(Debug, Clone)]
pub struct PlanPane {
    /// The plan file (absolute once the app runs, so messages say exactly
    /// where it is expected).
    pub path: PathBuf,
    /// Shown below the agents (runs with two or more agents).
    pub shown: bool,
    /// Keys go to the plan pane (to scroll it).
    pub focused: bool,
    /// The latest read of the file; `None` until the first read arrives.
    pub content: Option<PlanLoad>,
    /// The first row shown, counted in wrapped rows. Kept across reloads;
    /// drawing clamps it when the plan got shorter.
    pub scroll: usize,
    /// Per line of the shown plan: whether it changed in the last reload.
    changed: Vec<bool>,
    /// When the change highlight ends; `None` when nothing is highlighted,
    /// so an idle app sets no timer for it.
    pub highlight_until: Option<Instant>,
    /// The rows at the width they were last wrapped to. Frames come up to
    /// 60 times a second while the agents print, and wrapping a long plan
    /// for each one would cost more than drawing it.
    wrapped: Option<(usize, Vec<Row>)>,
}

impl PlanPane {
    pub fn new(path: PathBuf, shown: bool) -> Self {
        Self {
            path,
            shown,
            focused: false,
            content: None,
            scroll: 0,
            changed: Vec::new(),
            highlight_until: None,
            wrapped: None,
        }
    }

    /// The file's name, for the pane's title.
    pub fn file_name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// Task progress of the loaded plan.
    pub fn progress(&self) -> Option<Progress> {
        match &self.content {
            Some(PlanLoad::Loaded(doc)) => Some(doc.progress),
            _ => None,
        }
    }

    /// Takes a new read of the file; returns whether anything changed.
    /// Lines that differ from the previous version are highlighted for
    /// [`CHANGE_HIGHLIGHT`]; a first version (or one following a missing
    /// or unreadable file) highlights nothing, as there is nothing to
    /// compare it with.
    pub fn apply(&mut self, load: PlanLoad, now: Instant) -> bool {
        if self.content.as_ref() == Some(&load) {
            return false;
        }
        self.changed = match (&self.content, &load) {
            (Some(PlanLoad::Loaded(old)), PlanLoad::Loaded(new)) => changed_lines(old, new),
            _ => Vec::new(),
        };
        self.highlight_until = self
            .changed
            .contains(&true)
            .then_some(now + CHANGE_HIGHLIGHT);
        self.content = Some(load);
        self.wrapped = None;
        true
    }

    /// Ends the change highlight once its time is up; returns whether it
    /// ended.
    pub fn expire(&mut self, now: Instant) -> bool {
        if self.highlight_until.is_some_and(|t| t <= now) {
            self.highlight_until = None;
            self.changed.clear();
            return true;
        }
        false
    }

    /// Whether line `index` of the shown plan is highlighted as changed.
    pub fn is_changed(&self, index: usize) -> bool {
        self.highlight_until.is_some() && self.changed.get(index).copied().unwrap_or(false)
    }

    /// What the pane shows: the plan, or a message saying why there is
    /// none, in the same model so both wrap and scroll alike.
    pub fn doc(&self) -> Cow<'_, PlanDoc> {
        let path = self.path.display().to_string();
        let strong = TextStyle {
            strong: true,
            ..TextStyle::default()
        };
        let code = TextStyle {
            code: true,
            ..TextStyle::default()
        };
        let text = |t: &str| Span::new(t, TextStyle::default());
        let lines = match &self.content {
            Some(PlanLoad::Loaded(doc)) => return Cow::Borrowed(doc),
            None => vec![Line::plain(vec![text("Reading "), Span::new(path, code), text("…")])],
            Some(PlanLoad::Missing) => vec![
                Line::plain(vec![Span::new("No plan yet.", strong)]),
                Line::blank(),
                Line::plain(vec![text("The plan is expected at")]),
                Line::plain(vec![Span::new(path, code)]),
                Line::plain(vec![text("which does not exist yet.")]),
                Line::blank(),
                Line::plain(vec![text(&format!(
                    "The worker agent writes it (its role prompt names {} as the shared plan), or create it yourself. It shows here as soon as it appears.",
                    self.file_name()
                ))]),
            ],
            Some(PlanLoad::Unreadable(why)) => vec![
                Line::plain(vec![Span::new(
                    "Cannot show the plan:",
                    TextStyle {
                        role: Role::Problem,
                        ..strong
                    },
                )]),
                Line::plain(vec![Span::new(path, code)]),
                Line::plain(vec![text(why)]),
                Line::blank(),
                Line::plain(vec![text("It is read again whenever it changes.")]),
            ],
        };
        Cow::Owned(PlanDoc {
            lines,
            progress: Progress::default(),
        })
    }

    /// The pane's rows at `width` columns of text: those wrapped by
    /// [`PlanPane::wrap_to`] when the width matches, else wrapped now.
    pub fn rows(&self, width: usize) -> Cow<'_, [Row]> {
        match &self.wrapped {
            Some((w, rows)) if *w == width => Cow::Borrowed(rows),
            _ => Cow::Owned(wrap::wrap_doc(&self.doc(), width)),
        }
    }

    /// Wraps the plan to `width` columns and keeps the rows, unless they
    /// are kept at that width already. Only a loaded plan is kept: the
    /// messages shown without one are a few lines (and name the path,
    /// which may still be set after them).
    pub fn wrap_to(&mut self, width: usize) {
        let loaded = matches!(self.content, Some(PlanLoad::Loaded(_)));
        if loaded && !matches!(&self.wrapped, Some((w, _)) if *w == width) {
            let rows = self.rows(width).into_owned();
            self.wrapped = Some((width, rows));
        }
    }

    /// The first row shown when `total` rows fit `height` at a time:
    /// the scroll position, clamped so the view is never past the end.
    pub fn first_row(&self, total: usize, height: usize) -> usize {
        self.scroll.min(total.saturating_sub(height))
    }

    /// Moves the view; `total` rows, `height` of them visible.
    pub fn scroll(&mut self, by: PlanScroll, total: usize, height: usize) {
        let current = self.first_row(total, height);
        let target = match by {
            PlanScroll::Up(n) => current.saturating_sub(n),
            PlanScroll::Down(n) => current.saturating_add(n),
            PlanScroll::Top => 0,
            PlanScroll::Bottom => usize::MAX,
        };
        self.scroll = target.min(total.saturating_sub(height));
    }
}

/// Which lines of `new` differ from `old`. A deletion marks the line that
/// now stands where the removed ones were, so a removal is seen too.
/// Blank lines are never marked: a highlighted gap says nothing.
fn changed_lines(old: &PlanDoc, new: &PlanDoc) -> Vec<bool> {
    let mut changed = vec![false; new.lines.len()];
    // The budget is computing time, not a decision about the UI, so the
    // clock is read here rather than taken from the event.
    let deadline = Instant::now() + DIFF_BUDGET;
    let ops = similar::capture_diff_slices_deadline(
        Algorithm::Myers,
        &old.lines,
        &new.lines,
        Some(deadline),
    );
    let text_line = |i: usize| new.lines.get(i).is_some_and(|l| l.kind != LineKind::Blank);
    for op in ops {
        match op {
            DiffOp::Equal { .. } => {}
            DiffOp::Delete { new_index, .. } => {
                let at = (new_index..new.lines.len())
                    .find(|&i| text_line(i))
                    .or_else(|| (0..new_index).rev().find(|&i| text_line(i)));
                if let Some(at) = at {
                    changed[at] = true;
                }
            }
            DiffOp::Insert {
                new_index, new_len, ..
            }
            | DiffOp::Replace {
                new_index, new_len, ..
            } => {
                for (i, mark) in changed.iter_mut().enumerate().skip(new_index).take(new_len) {
                    *mark = text_line(i);
                }
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::markdown::parse;

    fn loaded(markdown: &str) -> PlanLoad {
        PlanLoad::Loaded(parse(markdown))
    }

    fn marked(pane: &PlanPane) -> Vec<String> {
        let doc = pane.doc();
        (0..doc.lines.len())
            .filter(|&i| pane.is_changed(i))
            .map(|i| doc.lines[i].text())
            .collect()
    }

    #[test]
    fn a_reload_highlights_the_changed_lines_until_the_timer() {
        let t0 = Instant::now();
        let mut pane = PlanPane::new(PathBuf::from("/p/PLAN.md"), true);
        assert!(pane.apply(loaded("- [ ] a\n- [ ] b\n- [ ] c\n"), t0));
        assert_eq!(
            pane.highlight_until, None,
            "the first version is not a change"
        );
        assert!(
            !pane.apply(loaded("- [ ] a\n- [ ] b\n- [ ] c\n"), t0),
            "same text: nothing to do"
        );

        assert!(pane.apply(loaded("- [ ] a\n- [x] b\n- [ ] c\n- [ ] d\n"), t0));
        assert_eq!(marked(&pane), ["☑ b", "☐ d"]);
        assert_eq!(pane.progress(), Some(Progress { done: 1, total: 4 }));
        assert_eq!(pane.highlight_until, Some(t0 + CHANGE_HIGHLIGHT));

        assert!(!pane.expire(t0 + CHANGE_HIGHLIGHT / 2));
        assert!(pane.expire(t0 + CHANGE_HIGHLIGHT));
        assert!(marked(&pane).is_empty());
        assert_eq!(
            pane.highlight_until, None,
            "no timer once nothing is highlighted"
        );
    }

    #[test]
    fn a_removal_marks_the_line_now_in_its_place() {
        let t0 = Instant::now();
        let mut pane = PlanPane::new(PathBuf::from("PLAN.md"), true);
        pane.apply(loaded("one\n\ntwo\n\nthree\n"), t0);
        pane.apply(loaded("one\n\nthree\n"), t0);
        assert_eq!(marked(&pane), ["three"]);
    }

    #[test]
    fn a_file_that_appears_is_not_highlighted_and_missing_says_where() {
        let t0 = Instant::now();
        let mut pane = PlanPane::new(PathBuf::from("/work/project/PLAN.md"), true);
        pane.apply(PlanLoad::Missing, t0);
        let text: Vec<String> = pane.doc().lines.iter().map(Line::text).collect();
        assert!(
            text.contains(&"/work/project/PLAN.md".to_owned()),
            "{text:?}"
        );
        assert!(text.iter().any(|l| l.contains("create it yourself")));
        pane.apply(loaded("# Plan\n"), t0);
        assert_eq!(pane.highlight_until, None);
    }

    #[test]
    fn kept_rows_follow_a_reload() {
        let mut pane = PlanPane::new(PathBuf::from("PLAN.md"), true);
        pane.apply(loaded("old text\n"), Instant::now());
        pane.wrap_to(40);
        pane.apply(loaded("new text\n"), Instant::now());
        let rows = pane.rows(40);
        assert_eq!(rows[0].spans[0].text, "new text");
    }

    #[test]
    fn scrolling_stays_within_the_rows_and_survives_a_reload() {
        let mut pane = PlanPane::new(PathBuf::from("PLAN.md"), true);
        let many = (1..=50).fold(String::new(), |text, i| text + &format!("line {i}\n\n"));
        pane.apply(loaded(&many), Instant::now());
        let total = pane.rows(40).len();
        assert_eq!(total, 99);
        pane.scroll(PlanScroll::Down(30), total, 10);
        assert_eq!(pane.scroll, 30);
        pane.scroll(PlanScroll::Bottom, total, 10);
        assert_eq!(pane.scroll, 89);
        pane.scroll(PlanScroll::Up(100), total, 10);
        assert_eq!(pane.scroll, 0);
        pane.scroll(PlanScroll::Down(20), total, 10);
        pane.apply(loaded(&format!("{many}more\n")), Instant::now());
        assert_eq!(pane.scroll, 20, "a reload keeps the position");
        assert_eq!(pane.first_row(5, 10), 0, "a short plan shows from its top");
    }
}
