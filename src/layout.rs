//! Where every pane goes: a pure function of the screen size and the UI
//! state, shared by the renderer and by PTY sizing so both always agree.

use ratatui::layout::Rect;

use crate::pane::emulator::PaneSize;

/// The narrowest a pane may be before panes are stacked instead of placed
/// side by side: 80 columns is what agent TUIs are designed for.
pub const MIN_SIDE_BY_SIDE_COLS: u16 = 80;

/// The rectangles of one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameLayout {
    /// One rectangle (border included) per pane; `None` for panes hidden
    /// by zoom. Hidden panes keep their PTY size.
    pub panes: Vec<Option<Rect>>,
    pub status_bar: Rect,
}

/// Lays out `count` panes in `area`: a grid with as many columns as fit at
/// [`MIN_SIDE_BY_SIDE_COLS`] each (at least one), filled row by row; the
/// last row's panes share its full width. `zoomed` gives one pane all space.
pub fn frame_layout(area: Rect, count: usize, zoomed: Option<usize>) -> FrameLayout {
    let status_height = u16::from(area.height > 0);
    let status_bar = Rect::new(
        area.x,
        area.bottom() - status_height,
        area.width,
        status_height,
    );
    let body = Rect::new(area.x, area.y, area.width, area.height - status_height);
    let panes = match zoomed {
        Some(z) if z < count => (0..count).map(|i| (i == z).then_some(body)).collect(),
        _ => grid(body, count).into_iter().map(Some).collect(),
    };
    FrameLayout { panes, status_bar }
}

/// The unzoomed rectangle of every pane.
fn grid(body: Rect, count: usize) -> Vec<Rect> {
    if count == 0 {
        return Vec::new();
    }
    let fit = usize::from(body.width / MIN_SIDE_BY_SIDE_COLS).max(1);
    let columns = fit.min(count);
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
        let l = frame_layout(Rect::new(0, 0, 200, 50), 2, None);
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
        let l = frame_layout(Rect::new(0, 0, 120, 41), 2, None);
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 120, 20)));
        assert_eq!(l.panes[1], Some(Rect::new(0, 20, 120, 20)));
    }

    #[test]
    fn odd_pane_counts_fill_the_last_row() {
        let l = frame_layout(Rect::new(0, 0, 170, 41), 3, None);
        assert_eq!(l.panes[0], Some(Rect::new(0, 0, 85, 20)));
        assert_eq!(l.panes[1], Some(Rect::new(85, 0, 85, 20)));
        assert_eq!(l.panes[2], Some(Rect::new(0, 20, 170, 20)));
    }

    #[test]
    fn one_pane_fills_the_screen_and_zoom_gives_all_space() {
        let l = frame_layout(Rect::new(0, 0, 80, 24), 1, None);
        assert_eq!(l.panes, vec![Some(Rect::new(0, 0, 80, 23))]);
        let z = frame_layout(Rect::new(0, 0, 200, 50), 2, Some(1));
        assert_eq!(z.panes, vec![None, Some(Rect::new(0, 0, 200, 49))]);
    }

    #[test]
    fn tiny_and_empty_areas_do_not_panic() {
        for (w, h) in [(0, 0), (1, 1), (10, 3), (3, 10), (1, 0), (0, 1)] {
            for n in 0..5 {
                let l = frame_layout(Rect::new(0, 0, w, h), n, None);
                assert_eq!(l.panes.len(), n);
                for r in l.panes.iter().flatten() {
                    let s = pty_size(*r);
                    assert!(s.rows >= 1 && s.cols >= 1);
                }
            }
        }
    }
}
