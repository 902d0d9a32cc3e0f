//! Keys that loop-tui itself acts on: the prefix key and what follows it.
//! Everything else goes to the focused pane.
//!
//! The bindings are one table, [`ACTIONS`]: the `[keys]` section of the
//! config file names its entries, and `--help` and the help overlay list
//! them, so the three can never disagree.

use std::fmt;
use std::str::FromStr;

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
    /// Focus the plan (PLAN.md) pane.
    FocusPlan,
}

/// One key as the config file writes it: `C-]`, `C-b`, `M-x`, `F5`,
/// `Right`, `S-Up`, `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    code: KeyCode,
    /// Only CONTROL, ALT and (for named keys) SHIFT are ever set.
    mods: KeyModifiers,
}

/// Why a key name was not understood; the text says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyParseError(String);

/// What every key-name error ends with, so the user sees the notation.
const KEY_NOTATION: &str =
    "write keys like \"C-]\", \"C-b\", \"M-x\", \"F5\", \"Right\", \"S-Up\", \
     \"Space\" or a single character";

impl KeySpec {
    /// A plain character key.
    pub const fn char(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            mods: KeyModifiers::NONE,
        }
    }

    /// Ctrl with a character, e.g. `ctrl(']')` for Ctrl-].
    pub const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    /// A named key without modifiers, e.g. `KeyCode::Right`.
    pub const fn key(code: KeyCode) -> Self {
        Self {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    /// The event a terminal reports for this key, e.g. to send it to a pane.
    pub fn to_event(self) -> KeyEvent {
        KeyEvent::new(self.code, self.mods)
    }

    /// Whether `key` is this key. Shift is part of a character (`?`, `A`)
    /// and of Shift-Tab, so it only counts for the other named keys;
    /// terminals report it inconsistently for characters.
    pub fn matches(self, key: &KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release {
            return false;
        }
        let relevant = match key.code {
            KeyCode::Char(_) | KeyCode::BackTab => KeyModifiers::CONTROL | KeyModifiers::ALT,
            _ => KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT,
        };
        if key.modifiers & relevant != self.mods & relevant {
            return false;
        }
        if key.code == self.code {
            return true;
        }
        // In the legacy keyboard protocol the bytes 0x1c-0x1f are Ctrl-\,
        // Ctrl-], Ctrl-^ and Ctrl-_, but crossterm reports them as
        // Ctrl+'4'..'7' (Ctrl-] arrives as Ctrl+'5'); accept both spellings
        // so such a prefix works in every terminal.
        match (self.code, key.code) {
            (KeyCode::Char(mine), KeyCode::Char(got))
                if self.mods.contains(KeyModifiers::CONTROL) =>
            {
                legacy_ctrl_digit(mine) == Some(got)
            }
            _ => false,
        }
    }

    /// How the key is shown to people: `Ctrl-]`, `Alt-x`, `→`, `F5`.
    pub fn label(self) -> String {
        let mut out = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            out.push_str("Ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            out.push_str("Alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            out.push_str("Shift-");
        }
        match self.code {
            KeyCode::Right => out.push('→'),
            KeyCode::Left => out.push('←'),
            KeyCode::Up => out.push('↑'),
            KeyCode::Down => out.push('↓'),
            _ => out.push_str(&self.base_name()),
        }
        out
    }

    /// The key without modifiers, in config notation.
    fn base_name(self) -> String {
        match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            code => NAMED_KEYS
                .iter()
                .find(|(_, named)| *named == code)
                .map_or_else(|| format!("{code:?}"), |(name, _)| (*name).to_owned()),
        }
    }
}

/// The digit crossterm reports with Ctrl for the legacy bytes 0x1c-0x1f.
fn legacy_ctrl_digit(c: char) -> Option<char> {
    match c {
        '\\' => Some('4'),
        ']' => Some('5'),
        '^' => Some('6'),
        '_' => Some('7'),
        _ => None,
    }
}

/// Named keys, in the spelling `Display` uses first; matching is without
/// regard to case.
const NAMED_KEYS: &[(&str, KeyCode)] = &[
    ("Right", KeyCode::Right),
    ("Left", KeyCode::Left),
    ("Up", KeyCode::Up),
    ("Down", KeyCode::Down),
    ("Home", KeyCode::Home),
    ("End", KeyCode::End),
    ("PageUp", KeyCode::PageUp),
    ("PgUp", KeyCode::PageUp),
    ("PageDown", KeyCode::PageDown),
    ("PgDn", KeyCode::PageDown),
    ("Tab", KeyCode::Tab),
    ("BackTab", KeyCode::BackTab),
    ("Enter", KeyCode::Enter),
    ("Return", KeyCode::Enter),
    ("Esc", KeyCode::Esc),
    ("Escape", KeyCode::Esc),
    ("Backspace", KeyCode::Backspace),
    ("BS", KeyCode::Backspace),
    ("Delete", KeyCode::Delete),
    ("Del", KeyCode::Delete),
    ("Insert", KeyCode::Insert),
    ("Ins", KeyCode::Insert),
];

impl FromStr for KeySpec {
    type Err = KeyParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |what: String| KeyParseError(format!("{what}; {KEY_NOTATION}"));
        if text.is_empty() {
            return Err(err("the key name is empty".to_owned()));
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        // "C-", "M-"/"A-" and "S-" prefixes, in any order; a lone "-" or a
        // trailing "C-" is a key, not a modifier.
        while let Some((modifier, after)) = rest.split_once('-') {
            if after.is_empty() {
                break;
            }
            let flag = match modifier {
                "C" | "c" => KeyModifiers::CONTROL,
                "M" | "m" | "A" | "a" => KeyModifiers::ALT,
                "S" | "s" => KeyModifiers::SHIFT,
                _ => break,
            };
            mods |= flag;
            rest = after;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => named_key(rest).ok_or_else(|| err(format!("unknown key name \"{text}\"")))?,
        };
        let code = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => {
                return Err(err(format!(
                    "\"{text}\": write the shifted character itself (\"{}\"), without S-",
                    c.to_uppercase()
                )))
            }
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                ctrl_char(c, text).map_err(|why| err(format!("\"{text}\" {why}")))?
            }
            // Shift-Tab is its own key to terminals.
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Ok(Self { code, mods })
    }
}

/// A named key (`Right`, `F5`, `Space`), without regard to case.
fn named_key(name: &str) -> Option<KeyCode> {
    if name.eq_ignore_ascii_case("space") {
        return Some(KeyCode::Char(' '));
    }
    if let Some(n) = name.strip_prefix(['F', 'f']) {
        if let Ok(n @ 1..=24) = n.parse::<u8>() {
            return Some(KeyCode::F(n));
        }
    }
    NAMED_KEYS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, code)| *code)
}

/// The character of a Ctrl key a terminal can send. Without the kitty
/// keyboard protocol only letters and a few symbols have a control byte,
/// and three of those are the same byte as another key.
fn ctrl_char(c: char, text: &str) -> Result<KeyCode, String> {
    let lower = c.to_ascii_lowercase();
    match lower {
        'i' => Err("is the same byte as Tab in most terminals; pick another key".to_owned()),
        'm' => Err("is the same byte as Enter in most terminals; pick another key".to_owned()),
        '[' => Err("is the same byte as Esc; pick another key".to_owned()),
        'a'..='z' | ' ' | '\\' | ']' | '^' | '_' => Ok(KeyCode::Char(lower)),
        _ => Err(format!(
            "is not a key terminals send (in \"{text}\", Ctrl works with a-z, \\, ], ^, _ and Space)"
        )),
    }
}

impl fmt::Display for KeySpec {
    /// Config notation, which parses back to the same key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("C-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("M-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("S-")?;
        }
        f.write_str(&self.base_name())
    }
}

impl<'de> serde::Deserialize<'de> for KeySpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Something the keys after the prefix can do; each is one entry of the
/// `[keys]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    FocusNext,
    FocusPrev,
    /// The n-th key focuses pane n.
    FocusPane,
    FocusBridge,
    Approve,
    Reject,
    Edit,
    Compose,
    Zoom,
    Scroll,
    Restart,
    Quit,
    Help,
    /// Focus the PLAN.md viewer pane.
    Plan,
}

impl Action {
    /// The command the `index`-th key of this action runs; `None` for an
    /// action this build has no command for.
    pub fn command(self, index: usize) -> Option<Command> {
        Some(match self {
            Self::FocusNext => Command::FocusNext,
            Self::FocusPrev => Command::FocusPrev,
            Self::FocusPane => Command::FocusPane(index),
            Self::FocusBridge => Command::FocusBridge,
            Self::Approve => Command::ApproveOldest,
            Self::Reject => Command::RejectOldest,
            Self::Edit => Command::EditOldest,
            Self::Compose => Command::Compose,
            Self::Zoom => Command::ToggleZoom,
            Self::Scroll => Command::EnterScroll,
            Self::Restart => Command::Restart,
            Self::Quit => Command::Quit,
            Self::Help => Command::Help,
            Self::Plan => Command::FocusPlan,
        })
    }

    /// This action's entry of [`ACTIONS`]. Every action has one (a unit
    /// test checks), so the fallback is never taken.
    pub fn info(self) -> &'static ActionInfo {
        ACTIONS
            .iter()
            .find(|info| info.action == self)
            .unwrap_or(&ACTIONS[0])
    }
}

/// One row of the key table.
#[derive(Debug)]
pub struct ActionInfo {
    pub action: Action,
    /// Its name in the `[keys]` table of the config file.
    pub name: &'static str,
    pub defaults: &'static [KeySpec],
    /// What it does, for `--help` and the help overlay.
    pub about: &'static str,
}

/// Every binding after the prefix: config name, default keys, description.
pub const ACTIONS: &[ActionInfo] = &[
    ActionInfo {
        action: Action::FocusNext,
        name: "focus_next",
        defaults: &[
            KeySpec::char('o'),
            KeySpec::key(KeyCode::Right),
            KeySpec::key(KeyCode::Down),
        ],
        about: "focus the next pane (agents, bridge, then plan)",
    },
    ActionInfo {
        action: Action::FocusPrev,
        name: "focus_prev",
        defaults: &[KeySpec::key(KeyCode::Left), KeySpec::key(KeyCode::Up)],
        about: "focus the previous pane",
    },
    ActionInfo {
        action: Action::FocusPane,
        name: "focus_pane",
        defaults: &[
            KeySpec::char('1'),
            KeySpec::char('2'),
            KeySpec::char('3'),
            KeySpec::char('4'),
            KeySpec::char('5'),
            KeySpec::char('6'),
            KeySpec::char('7'),
            KeySpec::char('8'),
            KeySpec::char('9'),
        ],
        about: "focus pane N",
    },
    ActionInfo {
        action: Action::FocusBridge,
        name: "focus_bridge",
        defaults: &[KeySpec::char('b')],
        about: "focus the bridge pane (its own keys are listed in its border)",
    },
    ActionInfo {
        action: Action::Plan,
        name: "plan",
        defaults: &[KeySpec::char('p')],
        about: "focus the plan pane (PLAN.md; j/k/g/G scroll it)",
    },
    ActionInfo {
        action: Action::Approve,
        name: "approve",
        defaults: &[KeySpec::char('a')],
        about: "approve the oldest pending message",
    },
    ActionInfo {
        action: Action::Reject,
        name: "reject",
        defaults: &[KeySpec::char('x')],
        about: "reject the oldest pending message (asks for an optional reason)",
    },
    ActionInfo {
        action: Action::Edit,
        name: "edit",
        defaults: &[KeySpec::char('e')],
        about: "edit the oldest pending message, then Ctrl-S approves it",
    },
    ActionInfo {
        action: Action::Compose,
        name: "compose",
        defaults: &[KeySpec::char('m')],
        about: "write a message to an agent or to all",
    },
    ActionInfo {
        action: Action::Zoom,
        name: "zoom",
        defaults: &[KeySpec::char('z')],
        about: "zoom the focused pane to the whole screen and back",
    },
    ActionInfo {
        action: Action::Scroll,
        name: "scroll",
        defaults: &[KeySpec::char('[')],
        about: "scroll mode: PgUp/PgDn/↑/↓/g/G move, q or Esc leaves",
    },
    ActionInfo {
        action: Action::Restart,
        name: "restart",
        defaults: &[KeySpec::char('r')],
        about: "restart the focused pane after its program exited",
    },
    ActionInfo {
        action: Action::Quit,
        name: "quit",
        defaults: &[KeySpec::char('q')],
        about: "quit (asks first while programs are running)",
    },
    ActionInfo {
        action: Action::Help,
        name: "help",
        defaults: &[KeySpec::char('?')],
        about: "this help",
    },
];

/// The default prefix. Ctrl-] is the default because no agent CLI binds it
/// and it is telnet's traditional escape key.
pub const DEFAULT_PREFIX: KeySpec = KeySpec::ctrl(']');

/// Why a set of bindings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error(
        "the key {key} is bound to both {first} and {second}; bind one of them to another key"
    )]
    Conflict {
        key: String,
        first: &'static str,
        second: &'static str,
    },
    #[error("the key {key} is the prefix, so it cannot also be bound to {action} (the prefix pressed twice sends it to the pane)")]
    PrefixBound { key: String, action: &'static str },
}

impl KeymapError {
    /// The `[keys]` entries involved, for pointing at the config line.
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Self::Conflict { first, second, .. } => vec![second, first],
            Self::PrefixBound { action, .. } => vec![action, "prefix"],
        }
    }
}

/// The prefix key and the bindings after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    prefix: KeySpec,
    /// The keys of every action, in [`ACTIONS`] order.
    bindings: Vec<(Action, Vec<KeySpec>)>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX,
            bindings: ACTIONS
                .iter()
                .map(|info| (info.action, info.defaults.to_vec()))
                .collect(),
        }
    }
}

impl Keymap {
    /// A keymap with `prefix` and, for each action, its keys; an action
    /// left out keeps its default keys. A key may do one thing only.
    pub fn new(
        prefix: KeySpec,
        keys: impl IntoIterator<Item = (Action, Vec<KeySpec>)>,
    ) -> Result<Self, KeymapError> {
        let mut map = Self {
            prefix,
            ..Self::default()
        };
        for (action, list) in keys {
            if let Some(slot) = map.bindings.iter_mut().find(|(a, _)| *a == action) {
                slot.1 = list;
            }
        }
        let mut seen: Vec<(KeySpec, Action)> = Vec::new();
        for (action, list) in &map.bindings {
            for key in list {
                if *key == prefix || key.matches(&prefix.to_event()) {
                    return Err(KeymapError::PrefixBound {
                        key: key.to_string(),
                        action: action.info().name,
                    });
                }
                if let Some((_, first)) = seen.iter().find(|(k, _)| k == key) {
                    return Err(KeymapError::Conflict {
                        key: key.to_string(),
                        first: first.info().name,
                        second: action.info().name,
                    });
                }
                seen.push((*key, *action));
            }
        }
        Ok(map)
    }

    /// A human-readable name of the prefix key.
    pub fn prefix_name(&self) -> String {
        self.prefix.label()
    }

    /// The prefix key as a terminal reports it: what "prefix twice" sends
    /// to the focused pane.
    pub fn prefix_event(&self) -> KeyEvent {
        self.prefix.to_event()
    }

    /// Whether `key` is the prefix key.
    pub fn is_prefix(&self, key: &KeyEvent) -> bool {
        self.prefix.matches(key)
    }

    /// The command bound to `key` pressed right after the prefix.
    pub fn after_prefix(&self, key: &KeyEvent) -> Option<Command> {
        if self.is_prefix(key) {
            return Some(Command::SendPrefix);
        }
        self.bindings.iter().find_map(|(action, keys)| {
            let index = keys.iter().position(|k| k.matches(key))?;
            action.command(index)
        })
    }

    /// The keys bound to `action`.
    pub fn keys(&self, action: Action) -> &[KeySpec] {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map_or(&[], |(_, keys)| keys.as_slice())
    }

    /// The first key of `action`, as shown to people (for short hints).
    pub fn key_label(&self, action: Action) -> Option<String> {
        self.keys(action).first().map(|k| k.label())
    }

    /// (keys, what they do) for every bound action this build can run,
    /// then the prefix itself: the rows of `--help` and the help overlay.
    pub fn help_rows(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = self
            .bindings
            .iter()
            .filter(|(action, keys)| !keys.is_empty() && action.command(0).is_some())
            .map(|(action, keys)| {
                let labels: Vec<String> = keys.iter().map(|k| k.label()).collect();
                let shown = match labels.as_slice() {
                    // A run of pane keys reads best as a range.
                    [first, .., last] if *action == Action::FocusPane && labels.len() > 2 => {
                        format!("{first} … {last}")
                    }
                    _ => labels.join(" / "),
                };
                (shown, action.info().about.to_owned())
            })
            .collect();
        let prefix = self.prefix_name();
        rows.push((
            prefix.clone(),
            format!("send a literal {prefix} to the focused pane"),
        ));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> KeySpec {
        text.parse().unwrap()
    }

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
    fn a_configured_prefix_replaces_ctrl_bracket() {
        let map = Keymap::new(parse("C-b"), []).unwrap();
        assert!(map.is_prefix(&KeyEvent::new(KeyCode::Char('b'), KeyModifiers::CONTROL)));
        assert!(!map.is_prefix(&KeyEvent::new(KeyCode::Char(']'), KeyModifiers::CONTROL)));
        assert!(!map.is_prefix(&KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL)));
        assert_eq!(map.prefix_name(), "Ctrl-b");
        assert_eq!(
            map.after_prefix(&KeyEvent::new(KeyCode::Char('b'), KeyModifiers::CONTROL)),
            Some(Command::SendPrefix)
        );
        // Ctrl-\ arrives as Ctrl+'4' in the legacy protocol.
        let backslash = Keymap::new(parse("C-\\"), []).unwrap();
        assert!(backslash.is_prefix(&KeyEvent::new(KeyCode::Char('4'), KeyModifiers::CONTROL)));
    }

    #[test]
    fn bindings_after_prefix() {
        let map = Keymap::default();
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        let cases = [
            (KeyCode::Char('o'), Some(Command::FocusNext)),
            (KeyCode::Right, Some(Command::FocusNext)),
            (KeyCode::Left, Some(Command::FocusPrev)),
            (KeyCode::Char('3'), Some(Command::FocusPane(2))),
            (KeyCode::Char('z'), Some(Command::ToggleZoom)),
            (KeyCode::Char('['), Some(Command::EnterScroll)),
            (KeyCode::Char('r'), Some(Command::Restart)),
            (KeyCode::Char('q'), Some(Command::Quit)),
            (KeyCode::Char('?'), Some(Command::Help)),
            (KeyCode::Char('b'), Some(Command::FocusBridge)),
            (KeyCode::Char('a'), Some(Command::ApproveOldest)),
            (KeyCode::Char('x'), Some(Command::RejectOldest)),
            (KeyCode::Char('e'), Some(Command::EditOldest)),
            (KeyCode::Char('m'), Some(Command::Compose)),
            (KeyCode::Char('p'), Some(Command::FocusPlan)),
            (KeyCode::Char('y'), None),
        ];
        for (code, command) in cases {
            assert_eq!(map.after_prefix(&k(code)), command, "{code:?}");
        }
        let twice = KeyEvent::new(KeyCode::Char('5'), KeyModifiers::CONTROL);
        assert_eq!(map.after_prefix(&twice), Some(Command::SendPrefix));
        // Shift is part of '?' in terminals that report it.
        let shifted = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(map.after_prefix(&shifted), Some(Command::Help));
        // Ctrl or Alt make it another key.
        let ctrl_o = KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL);
        assert_eq!(map.after_prefix(&ctrl_o), None);
    }

    #[test]
    fn key_names_parse_and_print_back() {
        let cases = [
            ("C-]", KeyCode::Char(']'), KeyModifiers::CONTROL, "Ctrl-]"),
            ("C-b", KeyCode::Char('b'), KeyModifiers::CONTROL, "Ctrl-b"),
            ("C-B", KeyCode::Char('b'), KeyModifiers::CONTROL, "Ctrl-b"),
            ("M-x", KeyCode::Char('x'), KeyModifiers::ALT, "Alt-x"),
            ("A-x", KeyCode::Char('x'), KeyModifiers::ALT, "Alt-x"),
            (
                "C-M-x",
                KeyCode::Char('x'),
                KeyModifiers::CONTROL.union(KeyModifiers::ALT),
                "Ctrl-Alt-x",
            ),
            ("F5", KeyCode::F(5), KeyModifiers::NONE, "F5"),
            ("f12", KeyCode::F(12), KeyModifiers::NONE, "F12"),
            ("Right", KeyCode::Right, KeyModifiers::NONE, "→"),
            ("pgdn", KeyCode::PageDown, KeyModifiers::NONE, "PageDown"),
            ("S-Up", KeyCode::Up, KeyModifiers::SHIFT, "Shift-↑"),
            ("S-Tab", KeyCode::BackTab, KeyModifiers::NONE, "BackTab"),
            ("?", KeyCode::Char('?'), KeyModifiers::NONE, "?"),
            ("o", KeyCode::Char('o'), KeyModifiers::NONE, "o"),
            ("-", KeyCode::Char('-'), KeyModifiers::NONE, "-"),
            ("Space", KeyCode::Char(' '), KeyModifiers::NONE, "Space"),
            (
                "C-Space",
                KeyCode::Char(' '),
                KeyModifiers::CONTROL,
                "Ctrl-Space",
            ),
            ("é", KeyCode::Char('é'), KeyModifiers::NONE, "é"),
        ];
        for (text, code, mods, label) in cases {
            let key = parse(text);
            assert_eq!(key.to_event(), KeyEvent::new(code, mods), "{text}");
            assert_eq!(key.label(), label, "{text}");
            assert_eq!(parse(&key.to_string()), key, "{text} prints back as {key}");
        }
    }

    #[test]
    fn bad_key_names_say_what_is_allowed() {
        for (text, says) in [
            ("", "empty"),
            ("Ctrl-x", "unknown key name \"Ctrl-x\""),
            ("F25", "unknown key name"),
            ("C-", "unknown key name"),
            ("S-a", "write the shifted character itself (\"A\")"),
            ("C-i", "same byte as Tab"),
            ("C-[", "same byte as Esc"),
            ("C-1", "not a key terminals send"),
            ("C--", "not a key terminals send"),
        ] {
            let err = text.parse::<KeySpec>().unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
            assert!(
                err.contains("\"C-]\""),
                "{text:?} shows the notation: {err}"
            );
        }
    }

    #[test]
    fn rebinding_moves_a_command_and_conflicts_are_refused() {
        let map = Keymap::new(
            DEFAULT_PREFIX,
            [
                (Action::Approve, vec![parse("y")]),
                (Action::FocusNext, vec![parse("Tab")]),
            ],
        )
        .unwrap();
        let k = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(
            map.after_prefix(&k(KeyCode::Char('y'))),
            Some(Command::ApproveOldest)
        );
        assert_eq!(map.after_prefix(&k(KeyCode::Char('a'))), None);
        assert_eq!(map.after_prefix(&k(KeyCode::Tab)), Some(Command::FocusNext));
        assert_eq!(map.after_prefix(&k(KeyCode::Char('o'))), None);
        assert_eq!(
            Keymap::new(DEFAULT_PREFIX, [(Action::Approve, vec![parse("o")])]),
            Err(KeymapError::Conflict {
                key: "o".into(),
                first: "focus_next",
                second: "approve"
            })
        );
        let err = Keymap::new(parse("C-b"), [(Action::Zoom, vec![parse("C-b")])]).unwrap_err();
        assert_eq!(err.names(), ["zoom", "prefix"]);
    }

    #[test]
    fn every_action_has_one_row_in_the_table() {
        for info in ACTIONS {
            let rows = ACTIONS.iter().filter(|i| i.action == info.action).count();
            assert_eq!(rows, 1, "{}", info.name);
            assert_eq!(info.action.info().name, info.name);
        }
    }

    #[test]
    fn help_rows_follow_the_bindings() {
        let rows = Keymap::default().help_rows();
        let keys: Vec<&str> = rows.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "o / → / ↓",
                "← / ↑",
                "1 … 9",
                "b",
                "p",
                "a",
                "x",
                "e",
                "m",
                "z",
                "[",
                "r",
                "q",
                "?",
                "Ctrl-]"
            ]
        );
        let custom = Keymap::new(
            parse("C-b"),
            [(Action::Help, vec![parse("h"), parse("F1")])],
        )
        .unwrap()
        .help_rows();
        assert!(custom.contains(&("h / F1".to_owned(), "this help".to_owned())));
        assert_eq!(
            custom.last().unwrap(),
            &(
                "Ctrl-b".to_owned(),
                "send a literal Ctrl-b to the focused pane".to_owned()
            )
        );
    }
}
