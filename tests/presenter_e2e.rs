//! End-to-end checks of the two ways loop-tui now takes a shortcut, as a
//! user sees them: frames that redraw only the pane rows the emulator
//! reports as changed (`ui::Presenter`), and keys written straight into a
//! non-blocking PTY (`PtyProcess::write`).
//!
//! The programs in the panes are small Python scripts (python3, which
//! .ci/run installs) that log every byte they print and, for typing, every
//! byte they receive; bash runs behind one that logs for it. The test
//! feeds a print log to its own vt100 parser, sized like the pane, and
//! compares the result cell by cell (text, wide characters, colours,
//! attributes, and the cursor for the focused pane) with the pane's inner
//! area on the outer terminal, which the harness parses from loop-tui's
//! raw output. The receive logs must equal what the test typed.
//!
//! A pane's border says `working` while the pane printed within the last
//! two seconds; while it does, new output is drawn by row-only frames, and
//! when it turns to `waiting for you` loop-tui draws a whole frame, which
//! would repair any stale cell. So every screen check here also requires
//! the border to still say `working`: the row-only frames themselves must
//! have shown the right screen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fmt::Write as _;
use std::num::NonZeroU16;
use std::path::Path;
use std::time::{Duration, Instant};

use support::{Loop, TempDir, TIMEOUT};

/// Two agent panes side by side (each at least 80 columns) above the
/// bridge and plan panes.
const ROWS: u16 = 30;
const COLS: u16 = 160;

/// Scrollback lines per pane, given to loop-tui and to the reference
/// parser alike, so scroll-mode offsets mean the same in both.
const SCROLLBACK: usize = 1000;

/// The arguments that select `emulator` (`alacritty` or `vt100`), or
/// `None` when this run must skip it: when `LOOP_TUI_TEST_EMULATOR` is
/// set (CI's second pass), the harness passes that emulator itself and
/// only its test runs.
fn emulator_args(emulator: &str) -> Option<Vec<String>> {
    match std::env::var("LOOP_TUI_TEST_EMULATOR") {
        Ok(chosen) if chosen == emulator => Some(Vec::new()),
        Ok(chosen) => {
            eprintln!("skipped: LOOP_TUI_TEST_EMULATOR={chosen} selects the other emulator");
            None
        }
        Err(_) => Some(vec!["--emulator".to_owned(), emulator.to_owned()]),
    }
}

/// Starts loop-tui in `dir` with `args` (plus the emulator's), its run
/// files kept in `dir` too.
fn start(dir: &TempDir, emulator_args: &[String], args: &[&str]) -> Loop {
    let state = dir.path().join("state");
    let mut all: Vec<&str> = emulator_args.iter().map(String::as_str).collect();
    let scrollback = SCROLLBACK.to_string();
    all.extend(["--scrollback", &scrollback]);
    all.extend(args);
    Loop::start_with(
        &all,
        ROWS,
        COLS,
        dir.path(),
        &[("XDG_STATE_HOME", state.as_os_str())],
    )
}

/// Writes a pane program into `dir` and returns the pane's command line.
fn script(dir: &TempDir, name: &str, source: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, source).unwrap();
    format!(
        "exec python3 '{}' '{}'",
        path.display(),
        dir.path().display()
    )
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// One cell as a person sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    text: String,
    fg: vt100::Color,
    bg: vt100::Color,
    bold: bool,
    italic: bool,
    underline: bool,
    inverse: bool,
}

impl Cell {
    fn of(cell: Option<&vt100::Cell>) -> Self {
        let Some(cell) = cell else {
            return Self {
                text: "?".to_owned(),
                fg: vt100::Color::Default,
                bg: vt100::Color::Default,
                bold: false,
                italic: false,
                underline: false,
                inverse: false,
            };
        };
        // The right half of a wide character has no text of its own; a
        // blank cell looks the same whether a space was written or not.
        let text = if cell.is_wide_continuation() {
            "<right half>".to_owned()
        } else if cell.has_contents() && cell.contents() != " " {
            cell.contents().to_owned()
        } else {
            " ".to_owned()
        };
        // A blank cell's foreground colour, boldness and slant cannot be
        // seen (unless it is inverted, which paints the background with
        // the foreground colour); terminals differ in which attributes
        // they give the cell they blank when half of a wide character is
        // overwritten.
        let invisible = text == " " && !cell.inverse();
        Self {
            fg: if invisible {
                vt100::Color::Default
            } else {
                cell.fgcolor()
            },
            bg: cell.bgcolor(),
            bold: cell.bold() && !invisible,
            italic: cell.italic() && !invisible,
            underline: cell.underline(),
            inverse: cell.inverse(),
            text,
        }
    }
}

/// A screen's cells and cursor, copied out so the harness's lock is held
/// only for the copy.
struct Snap {
    cells: Vec<Vec<Cell>>,
    cursor: (usize, usize),
    cursor_hidden: bool,
}

impl Snap {
    fn of(screen: &vt100::Screen) -> Self {
        let (rows, cols) = screen.size();
        let cells = (0..rows.get())
            .map(|row| {
                (0..cols.get())
                    .map(|col| Cell::of(screen.cell(row, col)))
                    .collect()
            })
            .collect();
        let (row, col) = screen.cursor_position();
        Self {
            cells,
            cursor: (usize::from(row), usize::from(col)),
            cursor_hidden: screen.hide_cursor(),
        }
    }

    fn text(&self, row: usize, col: usize) -> &str {
        self.cells
            .get(row)
            .and_then(|r| r.get(col))
            .map_or("", |c| c.text.as_str())
    }

    /// The text of `width` cells of `row` from `left`.
    fn line(&self, row: usize, left: usize, width: usize) -> String {
        (left..left + width)
            .map(|col| match self.text(row, col) {
                "<right half>" => "",
                text => text,
            })
            .collect::<String>()
            .trim_end()
            .to_owned()
    }

    fn all_text(&self) -> String {
        let cols = self.cells.first().map_or(0, Vec::len);
        (0..self.cells.len())
            .map(|row| self.line(row, 0, cols))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Where agent pane `n` (1-based) is on the outer screen.
struct PaneArea {
    /// The row of its top border, which holds its title.
    border_row: usize,
    /// The columns of its left and right borders.
    left: usize,
    right: usize,
    /// The height of its inner area, which starts under the top border.
    rows: usize,
}

impl PaneArea {
    fn top(&self) -> usize {
        self.border_row + 1
    }
    fn inner_left(&self) -> usize {
        self.left + 1
    }
    fn cols(&self) -> usize {
        self.right - self.left - 1
    }
    fn title(&self, s: &Snap) -> String {
        s.line(self.border_row, self.left, self.right - self.left + 1)
    }
}

/// Finds pane `n` by its border: a top-left corner followed by ` n `.
fn find_pane(s: &Snap, n: usize) -> Result<PaneArea, String> {
    let label = n.to_string();
    for (row, cells) in s.cells.iter().enumerate() {
        for col in 0..cells.len() {
            if matches!(s.text(row, col), "┏" | "┌")
                && s.text(row, col + 1) == " "
                && s.text(row, col + 2) == label
                && s.text(row, col + 3) == " "
            {
                let right = (col + 1..cells.len())
                    .find(|&c| matches!(s.text(row, c), "┓" | "┐"))
                    .ok_or_else(|| format!("pane {n} has no top-right corner"))?;
                let bottom = (row + 1..s.cells.len())
                    .find(|&r| matches!(s.text(r, col), "┗" | "└"))
                    .ok_or_else(|| format!("pane {n} has no bottom-left corner"))?;
                return Ok(PaneArea {
                    border_row: row,
                    left: col,
                    right,
                    rows: bottom - row - 1,
                });
            }
        }
    }
    Err(format!("pane {n} is not on the screen:\n{}", s.all_text()))
}

/// A terminal of the pane's size that has been fed `bytes`: what the
/// pane's program printed, as a terminal shows it.
fn reference(bytes: &[u8], pane: &PaneArea) -> vt100::Parser {
    let size = |n: usize| NonZeroU16::new(u16::try_from(n).unwrap()).unwrap();
    let mut parser = vt100::Parser::new(size(pane.rows), size(pane.cols()), SCROLLBACK);
    parser.process(bytes);
    parser
}

/// Whether the pane's inner area on the outer screen shows exactly what
/// `expected` shows; the error names the first differing cell and shows
/// both screens.
fn same_cells(s: &Snap, pane: &PaneArea, expected: &vt100::Screen) -> Result<(), String> {
    let want = Snap::of(expected);
    for row in 0..pane.rows {
        for col in 0..pane.cols() {
            let shown = &s.cells[pane.top() + row][pane.inner_left() + col];
            let wanted = &want.cells[row][col];
            if shown != wanted {
                let width = pane.cols();
                let shown_text = (0..pane.rows)
                    .map(|r| s.line(pane.top() + r, pane.inner_left(), width))
                    .collect::<Vec<_>>()
                    .join("\n");
                let wanted_text = (0..pane.rows)
                    .map(|r| want.line(r, 0, width))
                    .collect::<Vec<_>>()
                    .join("\n");
                let near = |cells: &[Cell]| {
                    cells[col.saturating_sub(3)..(col + 4).min(cells.len())]
                        .iter()
                        .map(|c| format!("{:?}/{:?}/{:?}", c.text, c.fg, c.bg))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let shown_row =
                    &s.cells[pane.top() + row][pane.inner_left()..pane.inner_left() + pane.cols()];
                return Err(format!(
                    "row {row}, column {col} of the pane shows {shown:?} where the program printed {wanted:?}\n\
                     from column {}: shown {}\n\
                     {:>width$}printed {}\n\
                     the pane shows:\n{shown_text}\nthe program printed:\n{wanted_text}",
                    col.saturating_sub(3),
                    near(shown_row),
                    "",
                    near(&want.cells[row]),
                    width = format!("from column {}: ", col.saturating_sub(3)).len(),
                ));
            }
        }
    }
    Ok(())
}

/// The cursor is shown where the focused pane's program left it.
fn cursor_at(s: &Snap, pane: &PaneArea, expected: &vt100::Screen) -> Result<(), String> {
    let (row, col) = expected.cursor_position();
    let want = (
        pane.top() + usize::from(row),
        pane.inner_left() + usize::from(col),
    );
    if s.cursor_hidden || s.cursor != want {
        return Err(format!(
            "the cursor is at {:?}{} where the focused pane's program left it at {want:?}",
            s.cursor,
            if s.cursor_hidden { " (hidden)" } else { "" }
        ));
    }
    Ok(())
}

/// The pane's border still says `working`, so what is on the screen was
/// drawn by the row-only frames that follow output, not by the whole frame
/// drawn when the pane falls quiet.
fn still_working(s: &Snap, pane: &PaneArea, n: usize) -> Result<(), String> {
    let title = pane.title(s);
    if title.contains("working") {
        Ok(())
    } else {
        Err(format!(
            "pane {n}'s border no longer says working ({title:?}): the frames drawn while it printed never showed the screen below, only the whole frame after it fell quiet did"
        ))
    }
}

fn look(lt: &Loop) -> Snap {
    lt.with_vt100_screen(Snap::of)
}

/// Polls `check` until it passes; panics with its last error on timeout.
fn wait_until(what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match check() {
            Ok(()) => return,
            Err(e) if Instant::now() >= deadline => panic!("{what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// A tiny deterministic random source, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap() % below
    }
}

/// A program that echoes what it receives, every character in its own
/// colours and attributes, Enter as a new line, under a status row (kept
/// out of a scroll region) that counts the characters; it logs what it
/// receives to in.log and what it prints to out.log, before printing it.
const COLOUR_ECHO: &str = r#"
import codecs, os, sys, tty
d = sys.argv[1]
tty.setraw(0)
received = open(os.path.join(d, "in.log"), "ab", buffering=0)
printed = open(os.path.join(d, "out.log"), "ab", buffering=0)
rows = os.get_terminal_size(1).lines
def emit(text):
    data = text.encode()
    printed.write(data)
    os.write(1, data)
emit("\x1b[2;%dr\x1b[1;1H\x1b[0;44m echo ready \x1b[0m\x1b[2;1Hready> " % rows)
decoder = codecs.getincrementaldecoder("utf-8")()
n = 0
while True:
    data = os.read(0, 4096)
    if not data:
        break
    received.write(data)
    out = []
    for ch in decoder.decode(data):
        n += 1
        if ch == "\r":
            out.append("\x1b[0m\r\n")
            continue
        style = n % 6
        if style == 0:
            out.append("\x1b[0;3%dm" % (1 + n % 7))
        elif style == 1:
            out.append("\x1b[0;1;38;5;%dm" % (n % 256))
        elif style == 2:
            out.append("\x1b[0;4;38;2;%d;%d;%dm" % (n * 7 % 256, n * 13 % 256, n * 29 % 256))
        elif style == 3:
            out.append("\x1b[0;7m")
        elif style == 4:
            out.append("\x1b[0;3;4%dm" % (n % 8))
        else:
            out.append("\x1b[0m")
        out.append(ch)
    out.append("\x1b[0m\x1b7\x1b[1;1H\x1b[0;44m echo %d chars \x1b[0m\x1b8" % n)
    emit("".join(out))
"#;

/// A program printing a numbered, coloured line with wide characters every
/// few milliseconds, now and then rewriting the line above, until the file
/// `stop` appears; it logs everything it prints to b.log.
const TICKER: &str = r##"
import os, sys, time, tty
d = sys.argv[1]
tty.setraw(0)
log = open(os.path.join(d, "b.log"), "ab", buffering=0)
def emit(text):
    data = text.encode()
    log.write(data)
    os.write(1, data)
i = 0
while not os.path.exists(os.path.join(d, "stop")):
    i += 1
    # The wide characters shift by a column from line to line, so a
    # scrolled row's new characters overlap halves of the old ones.
    emit("\x1b[3%dm%05d\x1b[0m tick%s \x1b[4%dm世界\x1b[0m \x1b[48;5;%dm%s\x1b[0m%s\r\n"
         % (1 + i % 7, i, " " * (i % 2), 1 + i % 6, i % 256, "#" * (i % 13), "." * (i % 53)))
    if i % 9 == 0:
        emit("\x1b[A\r\x1b[K\x1b[1;35mredone %d 中\x1b[0m\r\n" % i)
    time.sleep(0.004)
emit("\x1b[1mstopped after %d\x1b[0m" % i)
open(os.path.join(d, "b.done"), "w").close()
time.sleep(1000)
"##;

/// Characters typed: letters, digits, punctuation, spaces and wide
/// (CJK) ones, and one half-width katakana.
const TYPED: &[&str] = &[
    "a", "b", "c", "x", "y", "z", "Q", "W", "0", "7", "9", "-", ".", ",", ":", "?", "_", " ", " ",
    "中", "文", "字", "한", "글", "ｱ",
];

/// `text` cut into bursts of 5 to 40 characters.
fn bursts(text: &str, rng: &mut Lcg) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut bursts = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        let len = (5 + rng.next(36)).min(chars.len() - at);
        bursts.push(chars[at..at + len].iter().collect());
        at += len;
    }
    bursts
}

/// 500 characters for the colour echo, Enter now and then among them.
fn echo_typing() -> Vec<String> {
    let mut rng = Lcg(0x5eed_1234);
    let text: String = (0..500)
        .map(|_| {
            if rng.next(29) == 0 {
                "\r"
            } else {
                TYPED[rng.next(TYPED.len())]
            }
        })
        .collect();
    bursts(&text, &mut rng)
}

/// 500 characters for bash: `echo '…'` command lines long enough to wrap
/// in the pane, each ended by Enter.
fn bash_typing() -> Vec<String> {
    let mut rng = Lcg(0xba5e_0500);
    let mut text = String::new();
    let mut count = 0;
    while count < 500 {
        let room = 500 - count - "echo ''\r".len();
        // The last line takes whatever is left of the 500.
        let len = 90 + rng.next(60);
        let len = if room < len + 98 { room } else { len };
        let words: String = (0..len).map(|_| TYPED[rng.next(TYPED.len())]).collect();
        let line = format!("echo '{words}'\r");
        count += line.chars().count();
        text.push_str(&line);
    }
    assert_eq!(text.chars().count(), 500);
    bursts(&text, &mut rng)
}

/// A wrapper that runs a program (here bash) in a PTY of its own with the
/// pane's size, passing the pane's input to it and its output to the pane,
/// and logs both: in.log what it receives, out.log what it prints.
const TEE_PTY: &str = r#"
import fcntl, os, pty, select, sys, termios, tty
d = sys.argv[1]
size = fcntl.ioctl(1, termios.TIOCGWINSZ, b"\0" * 8)
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, size)
    os.execvp(sys.argv[2], sys.argv[2:])
tty.setraw(0)
printed = open(os.path.join(d, "out.log"), "ab", buffering=0)
received = open(os.path.join(d, "in.log"), "ab", buffering=0)
while True:
    ready, _, _ = select.select([0, fd], [], [])
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        printed.write(data)
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        received.write(data)
        os.write(fd, data)
"#;

/// What types into the focused pane.
#[derive(Clone, Copy)]
enum Typist {
    /// [`COLOUR_ECHO`]: every character in its own colours.
    ColourEcho,
    /// `bash --norc --noprofile -i` behind [`TEE_PTY`]: readline echoes,
    /// wraps long lines and runs each `echo`.
    Bash,
}

/// bash ran every `echo` command typed: each one's words came back on a
/// line of their own.
fn assert_bash_ran(printed: &[u8], typed: &[u8]) {
    let printed = String::from_utf8_lossy(printed);
    let typed = String::from_utf8_lossy(typed);
    for command in typed.split_terminator('\r') {
        let words = command
            .strip_prefix("echo '")
            .and_then(|c| c.strip_suffix('\''))
            .unwrap();
        // The line echo prints ends with the words (the command line bash
        // displayed ends with the closing quote). Its start may carry the
        // terminal's own echo of keys typed ahead while bash ran the
        // previous command, which is bash's business, not loop-tui's: that
        // every byte arrived once and in order is checked on what bash read.
        assert!(
            printed.contains(&format!("{words}\r\n")),
            "bash did not print {words:?}; it printed {printed:?}"
        );
    }
}

/// Types 500 characters in quick bursts into a pane while the other pane
/// prints a line every few milliseconds: every byte reaches the program
/// once and in order, and after each group of bursts the pane on the
/// screen is exactly what the program printed (scrolled, coloured, with
/// wide characters, the cursor where it left it), drawn while both panes
/// were still working.
fn fast_typing_beside_a_printing_pane(emulator: &str, typist: Typist) {
    let Some(emulator_args) = emulator_args(emulator) else {
        return;
    };
    let dir = TempDir::new("presenter-typing");
    let (a, typing) = match typist {
        Typist::ColourEcho => (script(&dir, "echo.py", COLOUR_ECHO), echo_typing()),
        Typist::Bash => (
            format!(
                "{} bash --norc --noprofile -i",
                script(&dir, "teepty.py", TEE_PTY)
            ),
            bash_typing(),
        ),
    };
    let a = format!("a:{a}");
    let b = format!("b:{}", script(&dir, "ticker.py", TICKER));
    let lt = start(&dir, &emulator_args, &["--pane", &a, "--pane", &b]);
    let in_log = dir.path().join("in.log");
    let out_log = dir.path().join("out.log");
    let b_log = dir.path().join("b.log");
    wait_until("the typing pane's prompt and the ticker", || {
        let printed = read(&out_log);
        let s = look(&lt);
        let a = find_pane(&s, 1)?;
        let b = find_pane(&s, 2)?;
        if printed.is_empty() || !s.all_text().contains("tick") {
            return Err(format!("not started yet:\n{}", s.all_text()));
        }
        same_cells(&s, &a, reference(&printed, &a).screen())?;
        still_working(&s, &b, 2)
    });
    // The focused pane shows what its program printed, drawn by frames
    // that followed output, once the program has received `typed`.
    let check_typing = |typed: &[u8]| -> Result<(), String> {
        let received = read(&in_log);
        assert!(
            typed.starts_with(&received),
            "the program received bytes that were not typed, or not in that order:\nreceived: {:?}\ntyped:    {:?}",
            String::from_utf8_lossy(&received),
            String::from_utf8_lossy(typed)
        );
        if received.len() < typed.len() {
            return Err(format!(
                "the program received {} of {} typed bytes",
                received.len(),
                typed.len()
            ));
        }
        let printed = read(&out_log);
        let s = look(&lt);
        let pane = find_pane(&s, 1)?;
        let expected = reference(&printed, &pane);
        same_cells(&s, &pane, expected.screen())?;
        cursor_at(&s, &pane, expected.screen())?;
        still_working(&s, &pane, 1)?;
        still_working(&s, &find_pane(&s, 2)?, 2)
    };

    let mut typed = Vec::new();
    for (i, burst) in typing.iter().enumerate() {
        lt.send_str(burst);
        typed.extend_from_slice(burst.as_bytes());
        // Two or three bursts go out back to back, a few milliseconds
        // apart, before the screen is checked.
        if i % 3 == 2 {
            wait_until(&format!("the screen after burst {i}"), || {
                check_typing(&typed)
            });
        } else {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    wait_until("the screen after the last burst", || check_typing(&typed));
    assert_eq!(
        String::from_utf8_lossy(&read(&in_log)),
        String::from_utf8_lossy(&typed),
        "every typed byte arrived once and in order"
    );
    if matches!(typist, Typist::Bash) {
        assert_bash_ran(&read(&out_log), &typed);
    }

    // The ticker stops; its last lines are drawn by row-only frames too.
    std::fs::write(dir.path().join("stop"), "").unwrap();
    wait_until("the ticker's last screen", || {
        if !dir.path().join("b.done").exists() {
            return Err("the ticker has not stopped yet".to_owned());
        }
        let printed = read(&b_log);
        let s = look(&lt);
        let pane = find_pane(&s, 2)?;
        same_cells(&s, &pane, reference(&printed, &pane).screen())?;
        still_working(&s, &pane, 2)
    });
    // And the typing pane is still right beside it.
    let s = look(&lt);
    let pane = find_pane(&s, 1).unwrap();
    let expected = reference(&read(&out_log), &pane);
    same_cells(&s, &pane, expected.screen()).unwrap();
    cursor_at(&s, &pane, expected.screen()).unwrap();
}

#[test]
fn fast_typing_beside_a_printing_pane_alacritty() {
    fast_typing_beside_a_printing_pane("alacritty", Typist::ColourEcho);
}

#[test]
fn fast_typing_beside_a_printing_pane_vt100() {
    fast_typing_beside_a_printing_pane("vt100", Typist::ColourEcho);
}

#[test]
fn fast_typing_into_bash_beside_a_printing_pane_alacritty() {
    fast_typing_beside_a_printing_pane("alacritty", Typist::Bash);
}

#[test]
fn fast_typing_into_bash_beside_a_printing_pane_vt100() {
    fast_typing_beside_a_printing_pane("vt100", Typist::Bash);
}

/// A program that takes its terminal raw, says so, and reads nothing
/// until the file `go` appears; then it reads slowly (4 KiB every 10 ms),
/// appending everything to the file `got`.
const STALLED_READER: &str = r#"
import os, sys, time, tty
d = sys.argv[1]
tty.setraw(0)
os.write(1, b"stalled reader waits\r\n")
while not os.path.exists(os.path.join(d, "go")):
    time.sleep(0.01)
open(os.path.join(d, "reading"), "w").close()
got = open(os.path.join(d, "got"), "ab", buffering=0)
while True:
    data = os.read(0, 4096)
    if not data:
        break
    got.write(data)
    time.sleep(0.01)
"#;

/// 200 KB of numbered lines, ASCII and UTF-8, as the user pastes them.
fn big_paste() -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 200_000 {
        n += 1;
        let _ = writeln!(
            text,
            "{n:06} the quick brown fox jumps over the lazy dog 中文 {}",
            "z".repeat(n % 40)
        );
    }
    text
}

/// Where `got` first differs from `want`, with the bytes around it.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let at = got
        .iter()
        .zip(want)
        .position(|(g, w)| g != w)
        .unwrap_or_else(|| got.len().min(want.len()));
    let around = |bytes: &[u8]| {
        let from = at.saturating_sub(40);
        String::from_utf8_lossy(&bytes[from.min(bytes.len())..(at + 40).min(bytes.len())])
            .escape_debug()
            .to_string()
    };
    format!(
        "the child got {} bytes where {} were sent; they first differ at byte {at}:\ngot:  {}\nsent: {}",
        got.len(),
        want.len(),
        around(got),
        around(want)
    )
}

/// A child that reads nothing while the user pastes 200 KB and types: the
/// PTY fills, the rest waits in loop-tui's queue, and loop-tui stays
/// responsive (the prefix key moves the focus, the other pane echoes).
/// Once the child reads, slowly, while more keys arrive, it gets every
/// byte once and in order: the paste (its newlines as Enter), the keys
/// typed after it, and the keys typed while the queue drained.
#[test]
fn a_child_that_stops_reading_loses_nothing_and_blocks_nothing() {
    let dir = TempDir::new("presenter-stalled");
    let a = format!("a:{}", script(&dir, "reader.py", STALLED_READER));
    let lt = start(&dir, &[], &["--pane", &a, "--pane", "b:exec cat"]);
    wait_until("the stalled reader", || {
        let s = look(&lt);
        if s.all_text().contains("stalled reader waits") && find_pane(&s, 2).is_ok() {
            Ok(())
        } else {
            Err(s.all_text())
        }
    });

    // A 200 KB paste and keys after it: the child reads none of it, so
    // most of it waits in loop-tui's queue for that pane.
    let paste = big_paste();
    let mut sent = paste.replace('\n', "\r").into_bytes();
    let mut outer = b"\x1b[200~".to_vec();
    outer.extend_from_slice(paste.as_bytes());
    outer.extend_from_slice(b"\x1b[201~");
    lt.send(&outer);
    for key in ["k", "e", "y", "s", "-", "1", "\r"] {
        lt.send_str(key);
        sent.extend_from_slice(key.as_bytes());
    }

    // loop-tui still answers: the prefix key moves the focus, and the
    // other pane echoes what is typed into it.
    lt.prefix("o");
    lt.send_str("still-responsive");
    wait_until("the other pane's echo", || {
        let s = look(&lt);
        let b = find_pane(&s, 2)?;
        let text = (0..b.rows)
            .map(|r| s.line(b.top() + r, b.inner_left(), b.cols()))
            .collect::<Vec<_>>()
            .join("\n");
        if s.text(b.border_row, b.left) != "┏" {
            return Err(format!("pane 2 is not focused:\n{}", s.all_text()));
        }
        if !text.contains("still-responsive") {
            return Err(format!("no echo in pane 2:\n{}", s.all_text()));
        }
        assert!(
            !text.contains("quick brown fox"),
            "the paste went to pane 2:\n{}",
            s.all_text()
        );
        Ok(())
    });
    assert!(
        !dir.path().join("reading").exists(),
        "the stalled child started reading before the test let it"
    );
    // Back in the stalled pane, more keys queue up behind the paste.
    lt.prefix("1");
    for key in ["m", "o", "r", "e", "\r"] {
        lt.send_str(key);
        sent.extend_from_slice(key.as_bytes());
    }
    wait_until("the focus back on pane 1", || {
        let s = look(&lt);
        let a = find_pane(&s, 1)?;
        if s.text(a.border_row, a.left) == "┏" {
            Ok(())
        } else {
            Err(s.all_text())
        }
    });

    // The child starts reading, slowly; keys typed while the queue drains
    // must still come after everything queued before them.
    std::fs::write(dir.path().join("go"), "").unwrap();
    let got_path = dir.path().join("got");
    wait_until("the child to start reading", || {
        if dir.path().join("reading").exists() {
            Ok(())
        } else {
            Err("not yet".to_owned())
        }
    });
    for i in 0..60 {
        let key = char::from(b'a' + u8::try_from(i % 26).unwrap()).to_string();
        lt.send_str(&key);
        sent.extend_from_slice(key.as_bytes());
        std::thread::sleep(Duration::from_millis(3));
    }
    wait_until("every byte to reach the child", || {
        let got = read(&got_path);
        if got.len() < sent.len() && sent.starts_with(&got) {
            return Err(format!("{} of {} bytes so far", got.len(), sent.len()));
        }
        if got == sent {
            Ok(())
        } else {
            panic!("{}", first_difference(&got, &sent));
        }
    });
    // Nothing more trickles in afterwards (a duplicate would).
    std::thread::sleep(Duration::from_millis(100));
    let got = read(&got_path);
    assert!(got == sent, "{}", first_difference(&got, &sent));
}

/// A program that prints in phases, each started by a file the test
/// creates: scrolling coloured lines, then a new title (OSC 2) with more
/// lines, then another title with more lines and an overwrite, then more
/// lines again; it logs everything it prints to b.log.
const PHASES: &str = r#"
import os, sys, time, tty
d = sys.argv[1]
tty.setraw(0)
log = open(os.path.join(d, "b.log"), "ab", buffering=0)
def emit(text):
    data = text.encode()
    log.write(data)
    os.write(1, data)
def lines(first, count):
    for i in range(first, first + count):
        emit("\x1b[3%dmline %03d\x1b[0m %s%s\r\n" % (1 + i % 7, i, "世界" * (i % 4), "-" * (i % 30)))
def wait(name):
    while not os.path.exists(os.path.join(d, name)):
        time.sleep(0.01)
lines(1, 40)
emit("\x1b[1mphase 0\x1b[0m")
wait("go1")
emit("\x1b]2;title-one\x07\r\n")
lines(41, 30)
emit("\x1b[1mphase 1\x1b[0m")
wait("go2")
emit("\x1b]2;title-two\x07\r\n")
lines(71, 30)
emit("\x1b[3;5H\x1b[7moverwritten\x1b[0m\x1b[K\x1b[99;1Hphase 2")
wait("go3")
emit("\r\n")
lines(101, 25)
emit("phase 3")
time.sleep(1000)
"#;

/// The "N/M" of pane `pane`'s scroll indicator, if shown.
fn scroll_indicator(s: &Snap, pane: &PaneArea) -> Option<(usize, usize)> {
    let row = s.line(
        pane.top() + pane.rows,
        pane.left,
        pane.right - pane.left + 1,
    );
    let rest = &row[row.find("scrolled back ")? + "scrolled back ".len()..];
    let (n, rest) = rest.split_once('/')?;
    let m = rest.split_whitespace().next()?;
    Some((n.parse().ok()?, m.parse().ok()?))
}

/// A pane that is not focused scrolls and changes its title (OSC 2) twice:
/// each time its border shows the new title and its area exactly what it
/// printed while it is still working, so the row-only frames fell back to
/// whole frames where the border changed; the cursor stays in the focused
/// pane. Then, focused and scrolled back in scroll mode, the pane prints
/// more: the indicator counts the grown history and the area shows the
/// history at the offset the indicator names.
fn title_and_scrolling_in_an_unfocused_pane(emulator: &str) {
    let Some(emulator_args) = emulator_args(emulator) else {
        return;
    };
    let dir = TempDir::new("presenter-title");
    let b = format!("b:{}", script(&dir, "phases.py", PHASES));
    let lt = start(
        &dir,
        &emulator_args,
        &["--pane", "a:exec cat", "--pane", &b],
    );
    let b_log = dir.path().join("b.log");
    let check = |phase: &str, title: Option<&str>| -> Result<(), String> {
        let printed = read(&b_log);
        if !String::from_utf8_lossy(&printed).contains(phase) {
            return Err(format!("the program has not printed {phase:?} yet"));
        }
        let s = look(&lt);
        let pane = find_pane(&s, 2)?;
        let border = pane.title(&s);
        if let Some(title) = title {
            if !border.contains(title) {
                return Err(format!(
                    "pane 2's border does not show the title {title:?}: {border:?}"
                ));
            }
        }
        same_cells(&s, &pane, reference(&printed, &pane).screen())?;
        still_working(&s, &pane, 2)?;
        // The cursor belongs to the focused pane, which shows nothing.
        let a = find_pane(&s, 1)?;
        cursor_at(&s, &a, vt100::Parser::default().screen())
    };
    wait_until("phase 0", || check("phase 0", None));
    std::fs::write(dir.path().join("go1"), "").unwrap();
    wait_until("phase 1 with its title", || {
        check("phase 1", Some("title-one"))
    });
    std::fs::write(dir.path().join("go2"), "").unwrap();
    wait_until("phase 2 with its new title", || {
        check("phase 2", Some("title-two"))
    });
    let border = find_pane(&look(&lt), 2).unwrap().title(&look(&lt));
    assert!(
        !border.contains("title-one"),
        "the old title is still on the border: {border:?}"
    );

    // Scroll mode in pane 2, one page back, while it prints once more.
    lt.prefix("2");
    lt.prefix("[");
    lt.send(b"\x1b[5~");
    wait_until("the scroll indicator", || {
        let s = look(&lt);
        let pane = find_pane(&s, 2)?;
        scroll_indicator(&s, &pane)
            .map(|_| ())
            .ok_or_else(|| format!("no scroll indicator:\n{}", s.all_text()))
    });
    std::fs::write(dir.path().join("go3"), "").unwrap();
    wait_until("the scrolled-back pane after more output", || {
        let printed = read(&b_log);
        if !String::from_utf8_lossy(&printed).contains("phase 3") {
            return Err("the program has not printed phase 3 yet".to_owned());
        }
        let s = look(&lt);
        let pane = find_pane(&s, 2)?;
        let (offset, history) = scroll_indicator(&s, &pane)
            .ok_or_else(|| format!("no scroll indicator:\n{}", s.all_text()))?;
        let mut expected = reference(&printed, &pane);
        let want_history = expected.screen().scrollback_len();
        if history != want_history {
            return Err(format!(
                "the indicator says {offset}/{history} lines, but the history holds {want_history}"
            ));
        }
        expected.screen_mut().set_scrollback(offset);
        same_cells(&s, &pane, expected.screen())?;
        still_working(&s, &pane, 2)
    });
}

#[test]
fn title_and_scrolling_in_an_unfocused_pane_alacritty() {
    title_and_scrolling_in_an_unfocused_pane("alacritty");
}

#[test]
fn title_and_scrolling_in_an_unfocused_pane_vt100() {
    title_and_scrolling_in_an_unfocused_pane("vt100");
}
