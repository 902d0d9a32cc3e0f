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
/// smaller (the PTY may briefly lag a resize).
pub fn render(emulator: &dyn Emulator, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    let size = emulator.size();
    let rows = area.height.min(size.rows);
    let cols = area.width.min(size.cols);
    for row in 0..rows {
        for col in 0..cols {
            let Some(cell) = emulator.cell(row, col) else {
                continue;
            };
            // ratatui starts every frame from a blank buffer, so blank
            // default cells (most of an agent's screen) need no copy.
            if cell.text.is_blank() && is_default(&cell) {
                continue;
            }
            let target = &mut buf[(area.x + col, area.y + row)];
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
}
