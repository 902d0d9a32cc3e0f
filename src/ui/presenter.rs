//! Puts frames on the terminal.
//!
//! A frame that follows anything but pane output is drawn whole and
//! compared with what the terminal shows, as ratatui's `Terminal::draw`
//! does. A frame that only follows pane output redraws just the rows the
//! panes' emulators report as changed: a key's echo then costs one or two
//! rows of work instead of every cell of the screen, which is what keeps
//! loop-tui's echo latency in tmux's class (ratatui's whole-screen render
//! and diff took about 0.3 ms per frame at 200x50).

use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect};
use unicode_width::UnicodeWidthStr;

use super::{pane_cursor, term_view};
use crate::app::state::{AppState, Mode};
use crate::layout::inner;
use crate::pane::emulator::Damage;

/// What a pane's border showed at the last whole frame, besides the
/// application state: a change to either needs a whole frame.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct PaneChrome {
    title: String,
    scroll_offset: usize,
}

/// Draws frames to a ratatui backend, remembering what the terminal shows.
pub struct Presenter<B: Backend> {
    backend: B,
    /// What the terminal shows now.
    shown: Buffer,
    /// Where the next whole frame is drawn.
    next: Buffer,
    /// Where the terminal's cursor is shown; `None` while hidden.
    cursor: Option<Position>,
    /// Whether the terminal's cursor state is known at all (not before the
    /// first frame).
    cursor_known: bool,
    chrome: Vec<PaneChrome>,
    /// One screen row as the terminal shows it and as it is redrawn, for
    /// frames that redraw single rows.
    row_before: Buffer,
    row_after: Buffer,
}

impl<B: Backend> Presenter<B> {
    /// A presenter for a terminal whose screen is blank or unknown: the
    /// first frame clears it and draws everything.
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            shown: Buffer::empty(Rect::default()),
            next: Buffer::empty(Rect::default()),
            cursor: None,
            cursor_known: false,
            chrome: Vec::new(),
            row_before: Buffer::empty(Rect::default()),
            row_after: Buffer::empty(Rect::default()),
        }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    /// Draws the whole frame and writes what differs from the screen.
    pub fn draw(&mut self, state: &AppState) -> Result<(), B::Error> {
        let size = self.backend.size()?;
        let area = Rect::new(0, 0, size.width, size.height);
        if area != self.shown.area {
            // A new size: the terminal's content is unknown (it may have
            // reflowed), so clear it and draw every cell.
            self.shown.resize(area);
            self.shown.reset();
            self.next.resize(area);
            self.backend.clear()?;
        }
        // Damage is taken before drawing: output parsed after this point is
        // either in this frame already or redrawn by the next one.
        self.chrome.clear();
        for pane in &state.panes {
            let mut emulator = pane.screen.lock();
            let _ = emulator.take_damage();
            self.chrome.push(PaneChrome {
                title: emulator.title().to_owned(),
                scroll_offset: emulator.scroll_offset(),
            });
        }
        self.next.reset();
        let cursor = super::render(&mut self.next, state);
        let mut updates: Vec<(u16, u16, &Cell)> = self.shown.diff_iter(&self.next).collect();
        repaint_blanked_halves(&self.shown, &self.next, &mut updates);
        self.backend.draw(updates.into_iter())?;
        std::mem::swap(&mut self.shown, &mut self.next);
        self.place_cursor(cursor)?;
        self.backend.flush()
    }

    /// Redraws only the pane rows that changed since the last frame, when
    /// nothing else on the screen can have changed; returns false (having
    /// written nothing that needs undoing) when a whole frame is needed.
    pub fn draw_pane_output(&mut self, state: &AppState) -> Result<bool, B::Error> {
        let layout = state.frame_layout();
        let overlay = matches!(state.mode, Mode::Help | Mode::ConfirmQuit | Mode::Edit);
        let size = (self.shown.area.width, self.shown.area.height);
        if overlay || size != state.term_size || self.chrome.len() != state.panes.len() {
            return Ok(false);
        }
        let mut cursor = None;
        for (index, rect) in layout.panes.iter().enumerate() {
            let Some(rect) = *rect else {
                continue;
            };
            let area = inner(rect);
            let mut emulator = state.panes[index].screen.lock();
            let chrome = &self.chrome[index];
            // A scrolled-back pane's border counts its history, which grows
            // with output; a new title changes the border too.
            if chrome.scroll_offset != 0
                || emulator.scroll_offset() != 0
                || chrome.title != emulator.title()
            {
                return Ok(false);
            }
            match emulator.take_damage() {
                // Everything moved (a scroll, mostly): rows are written whole,
                // as tmux does. A moved row rarely matches what was under it
                // anyway, and whole rows keep each line's text contiguous in
                // the output, so whatever reads the byte stream (a terminal
                // logger, muxbench's markers) sees the pane's lines rather
                // than the fragments that happened to differ.
                Damage::All => {
                    for row in 0..area.height {
                        self.redraw_row(&**emulator, area, row, true)?;
                    }
                }
                Damage::Rows(rows) => {
                    for row in rows {
                        self.redraw_row(&**emulator, area, row, false)?;
                    }
                }
            }
            cursor = cursor.or(pane_cursor(state, index, area, &**emulator));
        }
        self.place_cursor(cursor)?;
        self.backend.flush()?;
        Ok(true)
    }

    /// Draws row `row` of a pane's screen, writing only the cells that
    /// differ from what the terminal shows, or every cell of the pane's row
    /// when `whole`.
    fn redraw_row(
        &mut self,
        emulator: &dyn crate::pane::emulator::Emulator,
        area: Rect,
        row: u16,
        whole: bool,
    ) -> Result<(), B::Error> {
        if row >= area.height {
            return Ok(());
        }
        let y = area.y + row;
        let width = self.shown.area.width;
        if y >= self.shown.area.bottom() || area.x >= width {
            return Ok(());
        }
        // The pane's columns and the border column on each side: nothing
        // else on the row changes, and a border is never part of a wide
        // character, so the diff starts and ends exactly as a whole-row
        // diff would around the pane. This runs for every echoed key, so
        // the row buffers are kept, and cells are moved between them and
        // the screen rather than cloned.
        let left = area.x.saturating_sub(1);
        let right = area.right().saturating_add(1).min(width);
        let span = Rect::new(left, y, right - left, 1);
        let start = self.shown.index_of(left, y);
        let line = start..start + usize::from(span.width);
        for scratch in [&mut self.row_before, &mut self.row_after] {
            if scratch.area != span {
                scratch.resize(span);
            }
        }
        self.row_before
            .content
            .swap_with_slice(&mut self.shown.content[line.clone()]);
        // The pane's cells start blank; the borders stay as shown.
        for (offset, (after, before)) in self
            .row_after
            .content
            .iter_mut()
            .zip(&self.row_before.content)
            .enumerate()
        {
            let x = left + u16::try_from(offset).unwrap_or(u16::MAX);
            if (area.x..area.right()).contains(&x) {
                after.reset();
            } else {
                after.clone_from(before);
            }
        }
        term_view::render_row(emulator, area, row, &mut self.row_after);
        if whole {
            // Each pane cell is taken as showing something else, so the
            // diff writes them all, in order: a write that blanks half of
            // a wide character is then always followed by the write of
            // the cell it blanked.
            for x in area.x..area.right().min(width) {
                let other = if self.row_after[(x, y)].symbol() == " " {
                    "x"
                } else {
                    " "
                };
                self.row_before[(x, y)].set_symbol(other);
            }
        }
        let mut updates: Vec<(u16, u16, &Cell)> =
            self.row_before.diff_iter(&self.row_after).collect();
        let drawn = if updates.is_empty() {
            Ok(())
        } else {
            repaint_blanked_halves(&self.row_before, &self.row_after, &mut updates);
            self.backend.draw(updates.into_iter())
        };
        self.shown.content[line].swap_with_slice(&mut self.row_after.content);
        drawn
    }

    /// Shows the cursor at `cursor` or hides it. Drawing moves the
    /// terminal's cursor, so a shown cursor is put back every frame.
    fn place_cursor(&mut self, cursor: Option<Position>) -> Result<(), B::Error> {
        match cursor {
            None if self.cursor.is_some() || !self.cursor_known => self.backend.hide_cursor()?,
            None => {}
            Some(at) => {
                if self.cursor.is_none() || !self.cursor_known {
                    self.backend.show_cursor()?;
                }
                self.backend.set_cursor_position(at)?;
            }
        }
        self.cursor = cursor;
        self.cursor_known = true;
        Ok(())
    }
}

/// Adds to `updates` (a diff from `before` to `after`) the cells the
/// terminal blanks as a side effect of writing them, with what `after` has
/// there.
///
/// Writing over part of a wide character makes the terminal blank the rest
/// of it, in the attributes of the write in some terminals (xterm, vt100)
/// and in the default ones in others; ratatui's diff trusts the latter, so
/// a coloured write could leave a coloured blank the program never printed.
/// The rest runs from where the new character ends to where the old
/// characters it covers end: a narrow character over the left half of a
/// wide one blanks the right half, and a wide character whose right half
/// lands on the left half of another blanks that one's right half.
fn repaint_blanked_halves<'a>(
    before: &Buffer,
    after: &'a Buffer,
    updates: &mut Vec<(u16, u16, &'a Cell)>,
) {
    let right = before.area.right();
    let width_of = |cell: &Cell| u16::try_from(cell.symbol().width()).unwrap_or(1);
    let mut blanked = Vec::new();
    for &(x, y, cell) in updates.iter() {
        let new_end = x.saturating_add(width_of(cell).max(1)).min(right);
        let old_end = (x..new_end)
            .map(|p| p.saturating_add(width_of(&before[(p, y)])))
            .max()
            .unwrap_or(new_end)
            .min(right);
        blanked.extend((new_end..old_end).map(|t| (t, y, &after[(t, y)])));
    }
    if blanked.is_empty() {
        return;
    }
    updates.extend(blanked);
    // In screen order, so each repaint follows the write that blanked the
    // cell; a cell the diff writes anyway is written once.
    updates.sort_by_key(|&(x, y, _)| (y, x));
    updates.dedup_by_key(|&mut (x, y, _)| (x, y));
}
