//! Keys that loop-tui itself acts on: the prefix key and what follows it.
//! Everything else goes to the focused pane.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What the user asked loop-tui to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    FocusNext,
    FocusPrev,
    /// Focus the pane with this 0-based index.
    FocusPane(usize),
    ToggleZoom,
    EnterScroll,
    Restart,
    Quit,
    Help,
    /// The prefix pressed twice: send the prefix key itself to the child.
    SendPrefix,
    FocusBridge,
    /// Approve the oldest pending message.
    ApproveOldest,
    /// Reject the oldest pending message (asks for an optional reason).
    RejectOldest,
    /// Edit the oldest pending message.
    EditOldest,
    /// Write a message to an agent or to all.
    Compose,
    FocusPlan,
}

/// The prefix key and the bindings after it.
#[derive(Debug, Clone)]
pub struct Keymap {
    prefix_code: KeyCode,
    prefix_mods: KeyModifiers,
    /// The byte the prefix key sends to a child when pressed twice.
    prefix_byte: u8,
}

impl Default for Keymap {
    fn default() -> Self {
        // Ctrl-] is the default because no agent CLI binds it and it is
        // telnet's traditional escape key.
        Self {
            prefix_code: KeyCode::Char(']'),
            prefix_mods: KeyModifiers::CONTROL,
            prefix_byte: 0x1d,
        }
    }
}

/// Every binding with its description, for `--help` and the help overlay.
pub const BINDINGS: &[(&str, &str)] = &[
    (
        "o / → / ↓",
        "focus the next pane (agents, bridge, then plan)",
    ),
    ("← / ↑", "focus the previous pane"),
    ("1 … 9", "focus pane N"),
    (
        "b",
        "focus the bridge pane (its own keys are listed in its border)",
    ),
    ("p", "focus the plan pane (PLAN.md; j/k/g/G scroll it)"),
    ("a", "approve the oldest pending message"),
    (
        "x",
        "reject the oldest pending message (asks for an optional reason)",
    ),
    (
        "e",
        "edit the oldest pending message, then Ctrl-S approves it",
    ),
    ("m", "write a message to an agent or to all"),
    ("z", "zoom the focused pane to the whole screen and back"),
    ("[", "scroll mode: PgUp/PgDn/↑/↓/g/G move, q or Esc leaves"),
    ("r", "restart the focused pane after its program exited"),
    ("q", "quit (asks first while programs are running)"),
    ("?", "this help"),
    ("Ctrl-]", "send a literal Ctrl-] to the focused pane"),
];

impl Keymap {
    /// A human-readable name of the prefix key.
    pub fn prefix_name(&self) -> String {
        match self.prefix_code {
            KeyCode::Char(c) if self.prefix_mods.contains(KeyModifiers::CONTROL) => {
                format!("Ctrl-{c}")
            }
            other => format!("{other:?}"),
        }
    }

    pub fn prefix_byte(&self) -> u8 {
        self.prefix_byte
    }

    /// Whether `key` is the prefix key. In the legacy keyboard protocol
    /// crossterm reports Ctrl-] (0x1d) as Ctrl+'5', so both are accepted.
    pub fn is_prefix(&self, key: &KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release || !key.modifiers.contains(self.prefix_mods) {
            return false;
        }
        key.code == self.prefix_code || (self.prefix_byte == 0x1d && key.code == KeyCode::Char('5'))
    }

    /// The command bound to `key` pressed right after the prefix.
    pub fn after_prefix(&self, key: &KeyEvent) -> Option<Command> {
        if self.is_prefix(key) {
            return Some(Command::SendPrefix);
        }
        let command = match key.code {
            KeyCode::Char('o') | KeyCode::Right | KeyCode::Down => Command::FocusNext,
            KeyCode::Left | KeyCode::Up => Command::FocusPrev,
            KeyCode::Char(c @ '1'..='9') => Command::FocusPane(c as usize - '1' as usize),
            KeyCode::Char('z') => Command::ToggleZoom,
            KeyCode::Char('[') => Command::EnterScroll,
            KeyCode::Char('r') => Command::Restart,
            KeyCode::Char('q') => Command::Quit,
            KeyCode::Char('?') => Command::Help,
            KeyCode::Char('b') => Command::FocusBridge,
            KeyCode::Char('a') => Command::ApproveOldest,
            KeyCode::Char('x') => Command::RejectOldest,
            KeyCode::Char('e') => Command::EditOldest,
            KeyCode::Char('m') => Command::Compose,
            KeyCode::Char('p') => Command::FocusPlan,
            _ => return None,
        };
        Some(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_recognised_in_both_keyboard_protocols() {
        let map = Keymap::default();
        assert!(map.is_prefix(&KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)));
        assert!(map.is_prefix(&KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL)));
        assert!(!map.is_prefix(&KeyEvent::new(KeyCode::Char(']'), KeyModifiers::NONE)));
        assert!(!map.is_prefix(&KeyEvent::new(KeyCode::Char('5'), KeyModifiers::NONE)));
        assert_eq!(map.prefix_name(), "Ctrl-]");
    }

    #[test]
    fn bindings_after_prefix() {
        let map = Keymap::default();
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('o'))),
            Some(Command::FocusNext)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Left)),
            Some(Command::FocusPrev)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('3'))),
            Some(Command::FocusPane(2))
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('z'))),
            Some(Command::ToggleZoom)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('['))),
            Some(Command::EnterScroll)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('r'))),
            Some(Command::Restart)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('q'))),
            Some(Command::Quit)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('?'))),
            Some(Command::Help)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('b'))),
            Some(Command::FocusBridge)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('a'))),
            Some(Command::ApproveOldest)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('x'))),
            Some(Command::RejectOldest)
        );
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('p'))),
            Some(Command::FocusPlan)
        );
        assert_eq!(map.after_prefix(&k(KeyCode::Char('y'))), None);
        let twice = KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL);
        assert_eq!(map.after_prefix(&twice), Some(Command::SendPrefix));
    }
}
