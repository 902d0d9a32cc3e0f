//! What loop-tui answers when a child queries its terminal. Both emulators
//! answer through these functions, so a child sees the same terminal
//! whichever emulator parses its output.

/// loop-tui's version, as XTVERSION and DA2 report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A 24-bit colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Rgb {
    #[must_use]
    pub const fn new(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b }
    }
}

/// The foreground loop-tui reports for OSC 10 when nobody told it the
/// outer terminal's: a light grey, because the default is a dark theme.
pub const DEFAULT_FOREGROUND: Rgb = Rgb::new(0xd0, 0xd0, 0xd0);
/// The background loop-tui reports for OSC 11 by default: black. Agents
/// pick a dark or light theme from it, and dark is the common case.
pub const DEFAULT_BACKGROUND: Rgb = Rgb::new(0x00, 0x00, 0x00);

/// DA1 (`CSI c`): a VT220 with ANSI colour, as xterm-like terminals claim.
/// Programs mostly send DA1 after another query, as a marker that every
/// answer has arrived (the kitty keyboard protocol check works this way).
pub const PRIMARY_DEVICE_ATTRIBUTES: &str = "\x1b[?62;22c";

/// DA2 (`CSI > c`): terminal type 1 (VT220), loop-tui's version as one
/// number (major × 10000 + minor × 100 + patch), ROM cartridge 0.
#[must_use]
pub fn secondary_device_attributes() -> String {
    format!("\x1b[>1;{};0c", version_number(VERSION))
}

/// XTVERSION (`CSI > q`): `DCS > | name version ST`. Claude Code uses the
/// answer to tell whether the terminal is alive, and only then asks whether
/// synchronized output is supported.
#[must_use]
pub fn xtversion() -> String {
    format!("\x1bP>|loop-tui {VERSION}\x1b\\")
}

fn version_number(version: &str) -> u32 {
    let mut parts = version
        .split(['.', '-', '+'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    major * 10_000 + minor.min(99) * 100 + patch.min(99)
}

/// DSR 6 (`CSI 6 n`): the cursor position, 0-based in, 1-based out.
#[must_use]
pub fn cursor_position(row: usize, col: usize) -> String {
    format!("\x1b[{};{}R", row + 1, col + 1)
}

/// DSR 5 (`CSI 5 n`): "no malfunction".
pub const OPERATING_STATUS: &str = "\x1b[0n";

/// The answer to DECRQM (`CSI ? Ps $ p` and `CSI Ps $ p`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeState {
    /// The mode is not known to loop-tui.
    NotRecognized = 0,
    Set = 1,
    Reset = 2,
    PermanentlySet = 3,
    PermanentlyReset = 4,
}

impl From<bool> for ModeState {
    fn from(set: bool) -> Self {
        if set {
            Self::Set
        } else {
            Self::Reset
        }
    }
}

/// DECRPM for a private (DEC) mode: `CSI ? Ps ; Pm $ y`.
#[must_use]
pub fn private_mode_report(mode: u16, state: ModeState) -> String {
    format!("\x1b[?{mode};{}$y", state as u8)
}

/// DECRPM for an ANSI mode: `CSI Ps ; Pm $ y`.
#[must_use]
pub fn ansi_mode_report(mode: u16, state: ModeState) -> String {
    format!("\x1b[{mode};{}$y", state as u8)
}

/// The synchronized output mode (DEC 2026).
pub const SYNC_MODE: u16 = 2026;

/// An OSC colour answer in xterm's form, `OSC prefix ; rgb:rrrr/gggg/bbbb`,
/// ended by `terminator` (BEL or ST, whichever the query used).
#[must_use]
pub fn color_report(prefix: &str, color: Rgb, terminator: &str) -> String {
    let Rgb { r, g, b } = color;
    format!("\x1b]{prefix};rgb:{r:02x}{r:02x}/{g:02x}{g:02x}/{b:02x}{b:02x}{terminator}")
}

/// Xterm's default colour for palette entry `index` (OSC 4 queries).
#[must_use]
pub fn palette(index: u8) -> Rgb {
    const ANSI: [Rgb; 16] = [
        Rgb::new(0x00, 0x00, 0x00),
        Rgb::new(0xcd, 0x00, 0x00),
        Rgb::new(0x00, 0xcd, 0x00),
        Rgb::new(0xcd, 0xcd, 0x00),
        Rgb::new(0x00, 0x00, 0xee),
        Rgb::new(0xcd, 0x00, 0xcd),
        Rgb::new(0x00, 0xcd, 0xcd),
        Rgb::new(0xe5, 0xe5, 0xe5),
        Rgb::new(0x7f, 0x7f, 0x7f),
        Rgb::new(0xff, 0x00, 0x00),
        Rgb::new(0x00, 0xff, 0x00),
        Rgb::new(0xff, 0xff, 0x00),
        Rgb::new(0x5c, 0x5c, 0xff),
        Rgb::new(0xff, 0x00, 0xff),
        Rgb::new(0x00, 0xff, 0xff),
        Rgb::new(0xff, 0xff, 0xff),
    ];
    match index {
        0..=15 => ANSI[usize::from(index)],
        16..=231 => {
            let i = index - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            Rgb::new(level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        232..=255 => {
            let v = 8 + (index - 232) * 10;
            Rgb::new(v, v, v)
        }
    }
}

/// `CSI 18 t`: the text area in characters, `CSI 8 ; rows ; cols t`.
#[must_use]
pub fn text_area_chars(rows: u16, cols: u16) -> String {
    format!("\x1b[8;{rows};{cols}t")
}

/// `CSI 14 t`: the text area in pixels. loop-tui does not know the outer
/// terminal's cell size, so it says 0×0 (as `alacritty_terminal` does)
/// rather than leave the child waiting.
pub const TEXT_AREA_PIXELS: &str = "\x1b[4;0;0t";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_number_packs_major_minor_patch() {
        assert_eq!(version_number("0.1.0"), 100);
        assert_eq!(version_number("1.2.3"), 10_203);
        assert_eq!(version_number("2.10.0-beta"), 21_000);
    }

    #[test]
    fn palette_matches_xterm() {
        assert_eq!(palette(1), Rgb::new(0xcd, 0, 0));
        assert_eq!(palette(16), Rgb::new(0, 0, 0));
        assert_eq!(palette(196), Rgb::new(0xff, 0, 0));
        assert_eq!(palette(231), Rgb::new(0xff, 0xff, 0xff));
        assert_eq!(palette(232), Rgb::new(8, 8, 8));
        assert_eq!(palette(255), Rgb::new(0xee, 0xee, 0xee));
    }

    #[test]
    fn colour_reports_use_four_hex_digits_per_channel() {
        assert_eq!(
            color_report("11", Rgb::new(0x12, 0xab, 0), "\x07"),
            "\x1b]11;rgb:1212/abab/0000\x07"
        );
    }
}
