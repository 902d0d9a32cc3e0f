//! Copies an emulator's visible cells into a ratatui buffer.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use crate::pane::emulator::{CellAttrs, CellColor, CellText, CellView, Emulator};

fn color(c: CellColor) -> Color {
    match c {
        CellColor::Default => Color::Reset,
        CellColor::Indexed(i) => Color::Indexed(i),
        CellColor::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

fn modifiers(a: CellAttrs) -> Modifier {
    let mut m = Modifier::empty();
    for (on, flag) in [
        (a.bold, Modifier::BOLD),
        (a.dim, Modifier::DIM),
        (a.italic, Modifier::ITALIC),
        (a.underline, Modifier::UNDERLINED),
        (a.inverse, Modifier::REVERSED),
    ] {
        if on {
            m |= flag;
        }
    }
    m
}

fn is_default(cell: &CellView<'_>) -> bool {
    cell.fg == CellColor::Default
        && cell.bg == CellColor::Default
        && cell.attrs == CellAttrs::default()
        && !cell.wide_continuation
}

/// Draws the emulator's screen into `area`, clipped to whichever is
/// smaller (the PTY may briefly lag a resize). `buf` must be blank there.
pub fn render(emulator: &dyn Emulator, area: Rect, buf: &mut Buffer) {
    for row in 0..area.height {
        render_row(emulator, area, row, buf);
    }
}

/// Draws row `row` of the emulator's screen (0 is the top) into the same
/// row of `area`; cells of `buf` outside `buf.area` are left alone, and
/// the row must be blank in `buf`.
pub fn render_row(emulator: &dyn Emulator, area: Rect, row: u16, buf: &mut Buffer) {
    let size = emulator.size();
    let y = area.y.saturating_add(row);
    if row >= area.height.min(size.rows) || y < buf.area.top() || y >= buf.area.bottom() {
        return;
    }
    let left = area.x.max(buf.area.left());
    let right = area.right().min(buf.area.right());
    let cols = area.width.min(size.cols);
    for x in left..right {
        let col = x - area.x;
        if col >= cols {
            break;
        }
        let Some(cell) = emulator.cell(row, col) else {
            continue;
        };
        // The row starts blank, so blank default cells (most of an
        // agent's screen) need no copy.
        if cell.text.is_blank() && is_default(&cell) {
            continue;
        }
        let target = &mut buf[(x, y)];
        let style = Style::new()
            .fg(color(cell.fg))
            .bg(color(cell.bg))
            .add_modifier(modifiers(cell.attrs));
        if cell.wide_continuation {
            // The wide character before this cell covers it; ratatui
            // skips such cells when diffing, so only its style matters.
            target.reset();
            target.set_style(style);
        } else if cell.wide && col + 1 >= cols {
            // Half a wide character cannot be drawn at the right edge.
            target.set_symbol(" ").set_style(style);
        } else {
            match cell.text {
                CellText::Empty => target.set_char(' '),
                CellText::Char(c) => target.set_char(c),
                CellText::Str(s) => target.set_symbol(s),
                combined @ CellText::Combined(..) => {
                    let mut s = String::new();
                    combined.push_to(&mut s);
                    target.set_symbol(&s)
                }
            }
            .set_style(style);
        }
    }
}
