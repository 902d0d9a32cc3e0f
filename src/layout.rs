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

/// What fills the whole body when zoomed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zoom {
    Pane(usize),
    Bridge,
}

/// The rectangles of one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameLayout {
    /// One rectangle (border included) per pane; `None` for panes hidden
    /// by zoom. Hidden panes keep their PTY size.
    pub panes: Vec<Option<Rect>>,
    /// The bridge pane, when shown.
    pub bridge: Option<Rect>,
    pub status_bar: Rect,
}

/// Lays out `count` panes in `area`: a grid with as many columns as fit at
/// [`MIN_SIDE_BY_SIDE_COLS`] each (at least one), filled row by row; the
/// last row's panes share its full width. With `bridge`, the bridge pane
/// spans the full width below them. `zoom` gives one pane all space.
pub fn frame_layout(area: Rect, count: usize, bridge: bool, zoom: Option<Zoom>) -> FrameLayout {
    frame_layout_in(area, count, bridge, zoom, GridLayout::Auto)
}

/// [`frame_layout`] with the agent grid the config file asks for: `Auto`
/// as described there, or all panes side by side, or all stacked.
pub fn frame_layout_in(
    area: Rect,
    count: usize,
    bridge: bool,
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
                status_bar,
            }
        }
        Some(Zoom::Bridge) if bridge => {
            return FrameLayout {
                panes: vec![None; count],
                bridge: Some(body),
                status_bar,
            }
        }
        _ => {}
    }
    let (agents, bridge) = if bridge && body.height >= BRIDGE_HIDE_BELOW_ROWS {
        let rows = (body.height / 3).clamp(BRIDGE_MIN_ROWS, BRIDGE_MAX_ROWS);
        let agents = Rect::new(body.x, body.y, body.width, body.height - rows);
        let bridge = Rect::new(body.x, agents.bottom(), body.width, rows);
        (agents, Some(bridge))
    } else {
        (body, None)
    };
    FrameLayout {
        panes: grid(agents, count, layout).into_iter().map(Some).collect(),
        bridge,
        status_bar,
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

    #[test]
    fn two_panes_side_by_side_when_wide_enough() {
        let l = frame_layout(Rect::new(0, 0, 200, 50), 2, false, None);
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
        let l = frame_layout(Rect::new(0, 0, 120, 41), 2, false, None);
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 120, 20)));
        assert_eq!(l.panes[1], Some(Rect::new(0, 20, 120, 20)));
    }

    #[test]
    fn a_configured_layout_overrides_the_width_rule() {
        let area = Rect::new(0, 0, 120, 41);
        let side = frame_layout_in(area, 2, false, None, GridLayout::SideBySide);
        assert_eq!(side.panes[0], Some(Rect::new(0, 0, 60, 40)));
        assert_eq!(side.panes[1], Some(Rect::new(60, 0, 60, 40)));
        let wide = Rect::new(0, 0, 200, 41);
        let stacked = frame_layout_in(wide, 2, false, None, GridLayout::Stacked);
        assert_eq!(stacked.panes[0], Some(Rect::new(0, 0, 200, 20)));
        assert_eq!(stacked.panes[1], Some(Rect::new(0, 20, 200, 20)));
    }

    #[test]
    fn odd_pane_counts_fill_the_last_row() {
        let l = frame_layout(Rect::new(0, 0, 170, 41), 3, false, None);
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 85, 20)));
        assert_eq!(l.panes[1], Some(Rect::new(85, 0, 85, 20)));
        assert_eq!(l.panes[2], Some(Rect::new(0, 20, 170, 20)));
    }

    #[test]
    fn one_pane_fills_the_screen_and_zoom_gives_all_space() {
        let l = frame_layout(Rect::new(0, 0, 80, 24), 1, false, None);
        assert_eq!(l.panes, vec![Some(Rect::new(0, 0, 80, 23))]);
        let z = frame_layout(Rect::new(0, 0, 200, 50), 2, false, Some(Zoom::Pane(1)));
        assert_eq!(z.panes, vec![None, Some(Rect::new(0, 0, 200, 49))]);
    }

    #[test]
    fn tiny_and_empty_areas_do_not_panic() {
        for (w, h) in [(0, 0), (1, 1), (10, 3), (3, 10), (1, 0), (0, 1)] {
            for n in 0..5 {
                for bridge in [false, true] {
                    let l = frame_layout(Rect::new(0, 0, w, h), n, bridge, None);
                    assert_eq!(l.panes.len(), n);
                    for r in l.panes.iter().flatten().chain(&l.bridge) {
                        let s = pty_size(*r);
                        assert!(s.rows >= 1 && s.cols >= 1);
                    }
                }
            }
        }
    }

    #[test]
    fn the_bridge_spans_the_width_below_the_agents() {
        let l = frame_layout(Rect::new(0, 0, 200, 50), 2, true, None);
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 100, 35)));
        assert_eq!(l.panes[1], Some(Rect::new(100, 0, 100, 35)));
        assert_eq!(l.bridge, Some(Rect::new(0, 35, 200, 14)));
        let small = frame_layout(Rect::new(0, 0, 100, 30), 2, true, None);
        assert_eq!(small.bridge, Some(Rect::new(0, 20, 100, 9)));
        let tiny = frame_layout(Rect::new(0, 0, 100, 12), 2, true, None);
        assert_eq!(tiny.bridge, None, "too short: the agents keep the rows");
        let zoomed = frame_layout(Rect::new(0, 0, 100, 12), 2, true, Some(Zoom::Bridge));
        assert_eq!(zoomed.bridge, Some(Rect::new(0, 0, 100, 11)));
        assert_eq!(zoomed.panes, vec![None, None]);
    }
}
