//! Keys while the editor popup is open: editing a pending message, the
//! reason for a rejection, or a message from the human.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::event::Effect;
use super::relay_actions;
use super::state::{AppState, EditPurpose, Mode};

/// Whether `key` saves the editor: Ctrl-S, or Alt-Enter for terminals
/// where Ctrl-S is flow control. A one-line reject reason also takes Enter.
fn is_save(key: &KeyEvent, purpose: &EditPurpose) -> bool {
    match key.code {
        KeyCode::Char('s' | 'S') => key.modifiers.contains(KeyModifiers::CONTROL),
        KeyCode::Enter => {
            key.modifiers.contains(KeyModifiers::ALT) || matches!(purpose, EditPurpose::Reject(_))
        }
        _ => false,
    }
}

pub fn on_key(state: &mut AppState, key: &KeyEvent) -> Vec<Effect> {
    let Some(editor) = state.editor.as_mut() else {
        state.mode = Mode::Normal;
        return Vec::new();
    };
    state.needs_redraw = true;
    if key.code == KeyCode::Esc {
        close(state);
        return Vec::new();
    }
    if is_save(key, &editor.purpose) {
        let text = editor.text.lines().join("\n");
        let purpose = editor.purpose.clone();
        close(state);
        return match purpose {
            EditPurpose::Edit(id) => relay_actions::edit(state, id, &text),
            EditPurpose::Reject(id) => relay_actions::reject(state, id, &text),
            EditPurpose::Compose { target } => relay_actions::compose(state, target, &text),
        };
    }
    if let (EditPurpose::Compose { target }, KeyCode::Tab | KeyCode::BackTab) =
        (&mut editor.purpose, key.code)
    {
        // Tab walks the targets: every agent, then all of them.
        let count = state.panes.len();
        let forward = key.code == KeyCode::Tab;
        let slot = target.unwrap_or(count);
        let next = if forward {
            (slot + 1) % (count + 1)
        } else {
            (slot + count) % (count + 1)
        };
        *target = (next < count).then_some(next);
        return Vec::new();
    }
    editor.text.input(*key);
    Vec::new()
}

/// Pasted text goes into the editor as typed.
pub fn on_paste(state: &mut AppState, text: &str) {
    if let Some(editor) = state.editor.as_mut() {
        editor
            .text
            .insert_str(text.replace("\r\n", "\n").replace('\r', "\n"));
        state.needs_redraw = true;
    }
}

/// Closes the editor; focus returns where it was when it opened.
fn close(state: &mut AppState) {
    if let Some(editor) = state.editor.take() {
        state.bridge.focused = editor.return_to_bridge && state.bridge.shown;
    }
    state.mode = Mode::Normal;
}
