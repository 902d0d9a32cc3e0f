//! The kitty keyboard protocol's per-pane state: the progressive
//! enhancement flags a child asks for with `CSI > flags u` (push),
//! `CSI < n u` (pop), `CSI = flags ; mode u` (set) and `CSI ? u` (query).
//! <https://sw.kovidgoyal.net/kitty/keyboard-protocol/>
//!
//! Both emulators keep one [`KeyboardStacks`], so a pane behaves the same
//! whichever emulator parses it.

/// The progressive enhancement flags of the kitty keyboard protocol. No
/// flag set means legacy (xterm) key encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct KeyboardFlags(u8);

impl KeyboardFlags {
    /// 0b1: Esc, and keys with Ctrl or Alt, are sent as `CSI u` escape codes.
    pub const DISAMBIGUATE: Self = Self(0b1);
    /// 0b10: repeats and releases are reported, not only presses.
    pub const REPORT_EVENT_TYPES: Self = Self(0b10);
    /// 0b100: the shifted key is reported next to the key.
    pub const REPORT_ALTERNATE_KEYS: Self = Self(0b100);
    /// 0b1000: every key, text keys included, is sent as an escape code.
    pub const REPORT_ALL_KEYS: Self = Self(0b1000);
    /// 0b10000: the text a key produces is embedded in its escape code.
    pub const REPORT_ASSOCIATED_TEXT: Self = Self(0b1_0000);
    /// Every flag the protocol defines.
    pub const ALL: Self = Self(0b1_1111);

    /// The flags in `bits`; bits the protocol does not define are dropped.
    #[must_use]
    pub const fn from_bits(bits: u16) -> Self {
        // The mask keeps the value below 32, so the cast is lossless.
        #[allow(clippy::cast_possible_truncation)]
        Self((bits & Self::ALL.0 as u16) as u8)
    }

    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// No flag set: keys are encoded the legacy (xterm) way.
    #[must_use]
    pub const fn is_legacy(self) -> bool {
        self.0 == 0
    }

    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }
}

/// How `CSI = flags ; mode u` combines `flags` with the current ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// Mode 1 (the default): exactly these flags.
    Replace,
    /// Mode 2: these flags as well.
    Union,
    /// Mode 3: all but these flags.
    Difference,
}

impl SetMode {
    /// The mode for the second parameter of `CSI = flags ; mode u`; unknown
    /// values fall back to the default, as in kitty.
    #[must_use]
    pub fn from_param(mode: u16) -> Self {
        match mode {
            2 => Self::Union,
            3 => Self::Difference,
            _ => Self::Replace,
        }
    }
}

/// How many entries each stack keeps. The protocol asks terminals to bound
/// the stack so a child cannot grow it without limit; when it is full the
/// oldest entry is dropped. Kitty keeps 8; a little more room costs nothing.
pub const STACK_DEPTH: usize = 16;

/// One screen's stack of flags; the top entry is in force, an empty stack
/// means legacy encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Stack(Vec<KeyboardFlags>);

impl Stack {
    fn current(&self) -> KeyboardFlags {
        self.0.last().copied().unwrap_or_default()
    }

    fn push(&mut self, flags: KeyboardFlags) {
        if self.0.len() >= STACK_DEPTH {
            self.0.remove(0);
        }
        self.0.push(flags);
    }

    fn pop(&mut self, count: usize) {
        let keep = self.0.len().saturating_sub(count);
        self.0.truncate(keep);
    }

    fn set(&mut self, flags: KeyboardFlags, mode: SetMode) {
        let current = self.current();
        let new = match mode {
            SetMode::Replace => flags,
            SetMode::Union => current.union(flags),
            SetMode::Difference => current.difference(flags),
        };
        // As in kitty, setting flags with nothing pushed creates the first
        // entry, so a later pop returns to legacy encoding.
        match self.0.last_mut() {
            Some(top) => *top = new,
            None => self.0.push(new),
        }
    }
}

/// The main and the alternate screen each keep their own stack, as the
/// protocol requires: an editor on the alternate screen can change its
/// keyboard mode without knowing or disturbing the shell's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyboardStacks {
    main: Stack,
    alternate: Stack,
}

impl KeyboardStacks {
    fn stack(&mut self, alternate_screen: bool) -> &mut Stack {
        if alternate_screen {
            &mut self.alternate
        } else {
            &mut self.main
        }
    }

    /// The flags in force on the given screen.
    #[must_use]
    pub fn current(&self, alternate_screen: bool) -> KeyboardFlags {
        if alternate_screen {
            self.alternate.current()
        } else {
            self.main.current()
        }
    }

    /// `CSI > flags u`.
    pub fn push(&mut self, alternate_screen: bool, flags: KeyboardFlags) {
        self.stack(alternate_screen).push(flags);
    }

    /// `CSI < count u`; popping more entries than there are empties the
    /// stack, which means legacy encoding.
    pub fn pop(&mut self, alternate_screen: bool, count: usize) {
        self.stack(alternate_screen).pop(count);
    }

    /// `CSI = flags ; mode u`.
    pub fn set(&mut self, alternate_screen: bool, flags: KeyboardFlags, mode: SetMode) {
        self.stack(alternate_screen).set(flags, mode);
    }

    /// The answer to `CSI ? u` on the given screen.
    #[must_use]
    pub fn report(&self, alternate_screen: bool) -> String {
        format!("\x1b[?{}u", self.current(alternate_screen).bits())
    }

    /// A full reset (RIS) forgets both stacks.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: bool = false;
    const ALT: bool = true;

    fn flags(bits: u16) -> KeyboardFlags {
        KeyboardFlags::from_bits(bits)
    }

    #[test]
    fn push_pop_and_query_follow_the_stack() {
        let mut s = KeyboardStacks::default();
        assert_eq!(s.report(MAIN), "\x1b[?0u", "legacy before any push");
        s.push(MAIN, flags(1));
        s.push(MAIN, flags(7));
        assert_eq!(s.report(MAIN), "\x1b[?7u");
        s.pop(MAIN, 1);
        assert_eq!(s.current(MAIN), KeyboardFlags::DISAMBIGUATE);
        s.pop(MAIN, 5);
        assert!(
            s.current(MAIN).is_legacy(),
            "popping past the bottom empties the stack"
        );
    }

    #[test]
    fn undefined_bits_are_dropped() {
        assert_eq!(flags(0xff).bits(), 0b1_1111);
        assert_eq!(flags(0x120).bits(), 0);
    }

    #[test]
    fn set_modes_replace_add_and_remove_on_the_top_entry() {
        let mut s = KeyboardStacks::default();
        s.set(MAIN, flags(0b101), SetMode::Replace);
        assert_eq!(s.current(MAIN).bits(), 0b101, "set with nothing pushed");
        s.set(MAIN, flags(0b10), SetMode::Union);
        assert_eq!(s.current(MAIN).bits(), 0b111);
        s.set(MAIN, flags(0b1), SetMode::Difference);
        assert_eq!(s.current(MAIN).bits(), 0b110);
        s.push(MAIN, flags(1));
        s.set(MAIN, flags(8), SetMode::Replace);
        assert_eq!(s.current(MAIN).bits(), 8, "set changes the top entry only");
        s.pop(MAIN, 1);
        assert_eq!(
            s.current(MAIN).bits(),
            0b110,
            "the entry below is untouched"
        );
        s.pop(MAIN, 1);
        assert!(s.current(MAIN).is_legacy());
        assert_eq!(SetMode::from_param(0), SetMode::Replace);
        assert_eq!(SetMode::from_param(1), SetMode::Replace);
        assert_eq!(SetMode::from_param(2), SetMode::Union);
        assert_eq!(SetMode::from_param(3), SetMode::Difference);
        assert_eq!(SetMode::from_param(9), SetMode::Replace);
    }

    #[test]
    fn screens_keep_independent_stacks() {
        let mut s = KeyboardStacks::default();
        s.push(MAIN, flags(1));
        s.push(ALT, flags(31));
        assert_eq!(s.current(MAIN).bits(), 1);
        assert_eq!(s.current(ALT).bits(), 31);
        s.pop(ALT, 1);
        assert!(s.current(ALT).is_legacy());
        assert_eq!(s.current(MAIN).bits(), 1);
        s.reset();
        assert!(s.current(MAIN).is_legacy());
    }

    #[test]
    fn a_full_stack_drops_its_oldest_entry() {
        let mut s = KeyboardStacks::default();
        for _ in 0..STACK_DEPTH {
            s.push(MAIN, flags(1));
        }
        // Thousands of pushes neither grow memory nor panic.
        for _ in 0..10_000 {
            s.push(MAIN, flags(2));
        }
        s.pop(MAIN, STACK_DEPTH - 1);
        assert_eq!(s.current(MAIN).bits(), 2, "the oldest entries were evicted");
        s.pop(MAIN, 1);
        assert!(s.current(MAIN).is_legacy());
    }
}
