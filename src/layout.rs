//! Where every pane goes: a pure function of the screen size and the UI
//! state, shared by the renderer and by PTY sizing so both always agree.

use ratatui::layout::Rect;

use crate::config::GridLayout;
use crate::pane::emulator::PaneSize;

/// The narrowest a pane may be before panes are stacked instead of placed
/// side by side: 80 columns is what agent TUIs are designed for.
pub const MIN_SIDE_BY_SIDE_COLS: u16 = 80;

/// The bridge pane's share of the height below the agents: a third of
/// the screen, at least 6 rows (a message and its header with the border)
/// and at most 14, because the agents need the height more.
const BRIDGE_MIN_ROWS: u16 = 6;
const BRIDGE_MAX_ROWS: u16 = 14;

/// Below this many rows for the body, the bridge pane is only shown when
/// zoomed: the agents' TUIs would not fit beside it.
const BRIDGE_HIDE_BELOW_ROWS: u16 = 16;

/// The narrowest the bridge and plan panes may be side by side. They hold
/// wrapped prose, which reads well at 50 columns, unlike agent TUIs that
/// need 80; so they sit side by side down to a 100-column terminal, below
/// the agents in the strip the bridge alone had, which keeps the agents'
/// size the same with or without the plan. Narrower, they are stacked.
pub const TEXT_PANE_MIN_COLS: u16 = 50;

/// The panes below the agents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Below {
    pub bridge: bool,
    pub plan: bool,
    /// The plan pane has the focus: where the strip below the agents has
    /// room for only one of the two, it is the one shown.
    pub plan_focused: bool,
}

/// What fills the whole body when zoomed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zoom {
    Pane(usize),
    Bridge,
    Plan,
}

/// The rectangles of one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameLayout {
    /// One rectangle (border included) per pane; `None` for panes hidden
    /// by zoom. Hidden panes keep their PTY size.
    pub panes: Vec<Option<Rect>>,
    /// The bridge pane, when shown.
    pub bridge: Option<Rect>,
    /// The plan pane, when shown.
    pub plan: Option<Rect>,
    pub status_bar: Rect,
}

/// Lays out `count` panes in `area`: a grid with as many columns as fit at
/// [`MIN_SIDE_BY_SIDE_COLS`] each (at least one), filled row by row; the
/// last row's panes share its full width. The bridge and plan panes of
/// `below` share a strip across the full width below them (see
/// [`split_below`]). `zoom` gives one pane all space.
pub fn frame_layout(area: Rect, count: usize, below: Below, zoom: Option<Zoom>) -> FrameLayout {
    frame_layout_in(area, count, below, zoom, GridLayout::Auto)
}

/// [`frame_layout`] with the agent grid the config file asks for: `Auto`
/// as described there, or all panes side by side, or all stacked.
pub fn frame_layout_in(
    area: Rect,
    count: usize,
    below: Below,
    zoom: Option<Zoom>,
    layout: GridLayout,
) -> FrameLayout {
    let status_height = u16::from(area.height > 0);
    let status_bar = Rect::new(
        area.x,
        area.bottom() - status_height,
        area.width,
        status_height,
    );
    let body = Rect::new(area.x, area.y, area.width, area.height - status_height);
    match zoom {
        Some(Zoom::Pane(z)) if z < count => {
            return FrameLayout {
                panes: (0..count).map(|i| (i == z).then_some(body)).collect(),
                bridge: None,
                plan: None,
                status_bar,
            }
        }
        Some(Zoom::Bridge) if below.bridge => {
            return FrameLayout {
                panes: vec![None; count],
                bridge: Some(body),
                plan: None,
                status_bar,
            }
        }
        Some(Zoom::Plan) if below.plan => {
            return FrameLayout {
                panes: vec![None; count],
                bridge: None,
                plan: Some(body),
                status_bar,
            }
        }
        _ => {}
    }
    let (agents, bridge, plan) =
        if (below.bridge || below.plan) && body.height >= BRIDGE_HIDE_BELOW_ROWS {
            let rows = (body.height / 3).clamp(BRIDGE_MIN_ROWS, BRIDGE_MAX_ROWS);
            let agents = Rect::new(body.x, body.y, body.width, body.height - rows);
            let strip = Rect::new(body.x, agents.bottom(), body.width, rows);
            let (bridge, plan) = split_below(strip, below);
            (agents, bridge, plan)
        } else {
            (body, None, None)
        };
    FrameLayout {
        panes: grid(agents, count, layout).into_iter().map(Some).collect(),
        bridge,
        plan,
        status_bar,
    }
}

/// The bridge and the plan in the strip below the agents: side by side
/// (the bridge on the left) when each gets [`TEXT_PANE_MIN_COLS`];
/// otherwise stacked (the bridge on top) when each still gets
/// [`BRIDGE_MIN_ROWS`]; otherwise only one of them, the plan if it has the
/// focus and the bridge if not, because two panes with a line or two of
/// text each would show neither.
fn split_below(strip: Rect, below: Below) -> (Option<Rect>, Option<Rect>) {
    match (below.bridge, below.plan) {
        (false, false) => (None, None),
        (true, false) => (Some(strip), None),
        (false, true) => (None, Some(strip)),
        (true, true) => {
            let halves = if strip.width >= 2 * TEXT_PANE_MIN_COLS {
                split(strip, 2, true)
            } else if strip.height >= 2 * BRIDGE_MIN_ROWS {
                split(strip, 2, false)
            } else if below.plan_focused {
                return (None, Some(strip));
            } else {
                return (Some(strip), None);
            };
            (halves.first().copied(), halves.get(1).copied())
        }
    }
}

/// The unzoomed rectangle of every pane.
fn grid(body: Rect, count: usize, layout: GridLayout) -> Vec<Rect> {
    if count == 0 {
        return Vec::new();
    }
    let fit = usize::from(body.width / MIN_SIDE_BY_SIDE_COLS).max(1);
    let columns = match layout {
        GridLayout::Auto => fit.min(count),
        GridLayout::SideBySide => count,
        GridLayout::Stacked => 1,
    };
    let rows = count.div_ceil(columns);
    let mut rects = Vec::with_capacity(count);
    for (r, row_rect) in split(body, rows, false).into_iter().enumerate() {
        let in_row = (count - r * columns).min(columns);
        rects.extend(split(row_rect, in_row, true));
    }
    rects
}

/// Splits `rect` into `n` nearly equal parts, the remainder going to the
/// first parts, so the parts always cover `rect` exactly.
fn split(rect: Rect, n: usize, horizontal: bool) -> Vec<Rect> {
    let total = if horizontal { rect.width } else { rect.height };
    let n16 = u16::try_from(n).unwrap_or(u16::MAX).max(1);
    let (base, extra) = (total / n16, total % n16);
    let mut offset = 0;
    (0..n16)
        .map(|i| {
            let len = base + u16::from(i < extra);
            let part = if horizontal {
                Rect::new(rect.x + offset, rect.y, len, rect.height)
            } else {
                Rect::new(rect.x, rect.y + offset, rect.width, len)
            };
            offset += len;
            part
        })
        .collect()
}

/// The area inside a pane's one-cell border: what the child's PTY gets.
pub fn inner(rect: Rect) -> Rect {
    Rect::new(
        rect.x.saturating_add(1),
        rect.y.saturating_add(1),
        rect.width.saturating_sub(2),
        rect.height.saturating_sub(2),
    )
}

/// The PTY size for a pane rectangle; never zero, as PTYs and emulators
/// need at least one cell.
pub fn pty_size(rect: Rect) -> PaneSize {
    let i = inner(rect);
    PaneSize {
        rows: i.height,
        cols: i.width,
    }
    .clamped()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Below = Below {
        bridge: false,
        plan: false,
        plan_focused: false,
    };
    const BRIDGE: Below = Below {
        bridge: true,
        ..NONE
    };
    const BOTH: Below = Below {
        bridge: true,
        plan: true,
        plan_focused: false,
    };

    #[test]
    fn two_panes_side_by_side_when_wide_enough() {
        let l = frame_layout(Rect::new(0, 0, 200, 50), 2, NONE, None);
        assert_eq!(l.status_bar, Rect::new(0, 49, 200, 1));
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 100, 49)));
        assert_eq!(l.panes[1], Some(Rect::new(100, 0, 100, 49)));
        assert_eq!(
            pty_size(Rect::new(0, 0, 100, 49)),
            PaneSize { rows: 47, cols: 98 }
        );
    }

    #[test]
    fn stacked_when_too_narrow() {
        let l = frame_layout(Rect::new(0, 0, 120, 41), 2, NONE, None);
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 120, 20)));
        assert_eq!(l.panes[1], Some(Rect::new(0, 20, 120, 20)));
    }

    #[test]
    fn a_configured_layout_overrides_the_width_rule() {
        let area = Rect::new(0, 0, 120, 41);
        let side = frame_layout_in(area, 2, NONE, None, GridLayout::SideBySide);
        assert_eq!(side.panes[0], Some(Rect::new(0, 0, 60, 40)));
        assert_eq!(side.panes[1], Some(Rect::new(60, 0, 60, 40)));
        let wide = Rect::new(0, 0, 200, 41);
        let stacked = frame_layout_in(wide, 2, NONE, None, GridLayout::Stacked);
        assert_eq!(stacked.panes[0], Some(Rect::new(0, 0, 200, 20)));
        assert_eq!(stacked.panes[1], Some(Rect::new(0, 20, 200, 20)));
    }

    #[test]
    fn odd_pane_counts_fill_the_last_row() {
        let l = frame_layout(Rect::new(0, 0, 170, 41), 3, NONE, None);
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 85, 20)));
        assert_eq!(l.panes[1], Some(Rect::new(85, 0, 85, 20)));
        assert_eq!(l.panes[2], Some(Rect::new(0, 20, 170, 20)));
    }

    #[test]
    fn one_pane_fills_the_screen_and_zoom_gives_all_space() {
        let l = frame_layout(Rect::new(0, 0, 80, 24), 1, NONE, None);
        assert_eq!(l.panes, vec![Some(Rect::new(0, 0, 80, 23))]);
        let z = frame_layout(Rect::new(0, 0, 200, 50), 2, NONE, Some(Zoom::Pane(1)));
        assert_eq!(z.panes, vec![None, Some(Rect::new(0, 0, 200, 49))]);
    }

    #[test]
    fn tiny_and_empty_areas_do_not_panic() {
        for (w, h) in [(0, 0), (1, 1), (10, 3), (3, 10), (1, 0), (0, 1)] {
            for n in 0..5 {
                for below in [NONE, BRIDGE, BOTH] {
                    for zoom in [
                        None,
                        Some(Zoom::Bridge),
                        Some(Zoom::Plan),
                        Some(Zoom::Pane(1)),
                    ] {
                        let l = frame_layout(Rect::new(0, 0, w, h), n, below, zoom);
                        assert_eq!(l.panes.len(), n);
                        for r in l.panes.iter().flatten().chain(&l.bridge).chain(&l.plan) {
                            let s = pty_size(*r);
                            assert!(s.rows >= 1 && s.cols >= 1);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_bridge_spans_the_width_below_the_agents() {
        let l = frame_layout(Rect::new(0, 0, 200, 50), 2, BRIDGE, None);
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 100, 35)));
        assert_eq!(l.panes[1], Some(Rect::new(100, 0, 100, 35)));
        assert_eq!(l.bridge, Some(Rect::new(0, 35, 200, 14)));
        assert_eq!(l.plan, None);
        let small = frame_layout(Rect::new(0, 0, 100, 30), 2, BRIDGE, None);
        assert_eq!(small.bridge, Some(Rect::new(0, 20, 100, 9)));
        let tiny = frame_layout(Rect::new(0, 0, 100, 12), 2, BRIDGE, None);
        assert_eq!(tiny.bridge, None, "too short: the agents keep the rows");
        let zoomed = frame_layout(Rect::new(0, 0, 100, 12), 2, BRIDGE, Some(Zoom::Bridge));
        assert_eq!(zoomed.bridge, Some(Rect::new(0, 0, 100, 11)));
        assert_eq!(zoomed.panes, vec![None, None]);
    }

    #[test]
    fn the_plan_shares_the_strip_below_the_agents_without_shrinking_them() {
        let with_bridge = frame_layout(Rect::new(0, 0, 200, 50), 2, BRIDGE, None);
        let l = frame_layout(Rect::new(0, 0, 200, 50), 2, BOTH, None);
        assert_eq!(l.panes, with_bridge.panes, "the agents keep their size");
        assert_eq!(l.bridge, Some(Rect::new(0, 35, 100, 14)));
        assert_eq!(l.plan, Some(Rect::new(100, 35, 100, 14)));
        // 100 columns still give each 50.
        let narrow = frame_layout(Rect::new(0, 0, 100, 30), 2, BOTH, None);
        assert_eq!(narrow.bridge, Some(Rect::new(0, 20, 50, 9)));
        assert_eq!(narrow.plan, Some(Rect::new(50, 20, 50, 9)));
    }

    #[test]
    fn narrower_the_plan_is_stacked_or_shown_when_focused() {
        let tall = frame_layout(Rect::new(0, 0, 90, 60), 2, BOTH, None);
        assert_eq!(tall.bridge, Some(Rect::new(0, 45, 90, 7)));
        assert_eq!(tall.plan, Some(Rect::new(0, 52, 90, 7)));
        let short = frame_layout(Rect::new(0, 0, 80, 24), 2, BOTH, None);
        assert_eq!(short.bridge, Some(Rect::new(0, 16, 80, 7)));
        assert_eq!(short.plan, None, "one strip of 7 rows: the bridge");
        let focused = Below {
            plan_focused: true,
            ..BOTH
        };
        let short = frame_layout(Rect::new(0, 0, 80, 24), 2, focused, None);
        assert_eq!(
            (short.bridge, short.plan),
            (None, Some(Rect::new(0, 16, 80, 7)))
        );
        let zoomed = frame_layout(Rect::new(0, 0, 80, 24), 2, BOTH, Some(Zoom::Plan));
        assert_eq!(zoomed.plan, Some(Rect::new(0, 0, 80, 23)));
        assert_eq!((zoomed.panes, zoomed.bridge), (vec![None, None], None));
    }
}
