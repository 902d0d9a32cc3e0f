//! A harness that runs the real `loop-tui` binary inside a PTY owned by the
//! test, plays the outer terminal with a `vt100` parser, and lets tests type,
//! resize, signal and look at the screen the way a user would.
//!
//! Every wait polls a condition instead of sleeping for a fixed time, so the
//! tests are as fast as loop-tui allows and do not become flaky on a loaded
//! machine.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

/// How long any single wait may take before the test fails. It is generous
/// because a loaded CI machine can be slow; passing tests never wait this
/// long, since every wait returns as soon as its condition holds.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How often a wait re-checks its condition.
const POLL: Duration = Duration::from_millis(20);

/// The prefix key, Ctrl-], as the outer terminal sends it.
pub const PREFIX: &[u8] = b"\x1d";

/// The name of the environment variable that carries each harness's unique
/// marker. loop-tui passes its environment on to its panes, so every process
/// it starts (and everything those start) carries the marker too, which is
/// how tests find leftover processes.
pub const MARKER_VAR: &str = "LOOP_TUI_E2E_MARKER";

/// The cursor position request some programs send to the terminal; the
/// harness answers it like a real terminal would, so a program waiting for
/// the answer never hangs.
const CURSOR_POSITION_REQUEST: &[u8] = b"\x1b[6n";

/// Primary device attributes (DA1). Every real terminal answers it, and
/// loop-tui sends it at start-up after asking whether the terminal speaks
/// the kitty keyboard protocol: without an answer it would wait two
/// seconds before drawing.
const DEVICE_ATTRIBUTES_REQUEST: &[u8] = b"\x1b[c";
const DEVICE_ATTRIBUTES_ANSWER: &[u8] = b"\x1b[?62;22c";

/// The kitty keyboard protocol query. A harness started with
/// [`Loop::start_with_kitty_keyboard`] answers it (flags 0: supported,
/// nothing pushed yet), so loop-tui turns the protocol on and the test
/// must then speak it, for instance send Shift+Enter as `CSI 13 ; 2 u`.
const KEYBOARD_QUERY: &[u8] = b"\x1b[?u";
const KEYBOARD_ANSWER: &[u8] = b"\x1b[?0u";

/// Shift+Enter as a terminal speaking the kitty keyboard protocol sends it.
pub const KITTY_SHIFT_ENTER: &[u8] = b"\x1b[13;2u";

/// The prefix key, Ctrl-], as a terminal speaking the kitty keyboard
/// protocol (with loop-tui's flags, disambiguation) sends it.
pub const KITTY_PREFIX: &[u8] = b"\x1b[93;5u";

/// Makes markers and temporary directories unique within this process.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// A string no other test (in this or a concurrent test process) uses.
pub fn unique(tag: &str) -> String {
    let n = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{tag}-{}-{n}-{nanos}", std::process::id())
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(unique(&format!("loop-tui-e2e-{tag}")));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A snapshot of the outer terminal's screen, one string per cell, so that
/// columns can be addressed exactly (box-drawing characters are several
/// bytes long in UTF-8).
#[derive(Debug, Clone)]
pub struct Screen {
    cells: Vec<Vec<String>>,
}

impl Screen {
    fn capture(screen: &vt100::Screen) -> Self {
        let (rows, cols) = screen.size();
        let cells = (0..rows.get())
            .map(|row| {
                (0..cols.get())
                    .map(|col| match screen.cell(row, col) {
                        Some(cell) if cell.is_wide_continuation() => String::new(),
                        Some(cell) if cell.has_contents() => cell.contents().to_owned(),
                        _ => " ".to_owned(),
                    })
                    .collect()
            })
            .collect();
        Self { cells }
    }

    pub fn rows(&self) -> usize {
        self.cells.len()
    }

    pub fn cols(&self) -> usize {
        self.cells.first().map_or(0, Vec::len)
    }

    /// The text of one cell (a single space when it is blank); an empty
    /// string outside the screen.
    pub fn cell(&self, row: usize, col: usize) -> &str {
        self.cells
            .get(row)
            .and_then(|r| r.get(col))
            .map_or("", String::as_str)
    }

    /// One full row, trailing blanks removed.
    pub fn row(&self, row: usize) -> String {
        self.region(row, 0, 1, self.cols()).trim_end().to_owned()
    }

    /// The text of a rectangle, rows joined by newlines, trailing blanks of
    /// each row removed.
    pub fn region(&self, top: usize, left: usize, height: usize, width: usize) -> String {
        let mut out = Vec::new();
        for r in top..(top + height).min(self.rows()) {
            let line: String = self.cells[r]
                .iter()
                .skip(left)
                .take(width)
                .map(String::as_str)
                .collect();
            out.push(line.trim_end().to_owned());
        }
        out.join("\n")
    }

    /// The whole screen as text.
    pub fn text(&self) -> String {
        self.region(0, 0, self.rows(), self.cols())
    }
}

/// What the reader thread shares with the test.
struct Shared {
    parser: vt100::Parser,
    raw: Vec<u8>,
}

/// The real loop-tui running in a PTY the test owns.
pub struct Loop {
    master: Box<dyn MasterPty + Send>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Mutex<Box<dyn Child + Send + Sync>>,
    status: Mutex<Option<portable_pty::ExitStatus>>,
    shared: Arc<Mutex<Shared>>,
    /// Set by the reader thread once loop-tui's output is closed for good.
    eof: Arc<AtomicBool>,
    pid: u32,
    marker: String,
}

fn non_zero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("terminal sizes are at least 1x1")
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another test thread must not hide this test's own result.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Loop {
    /// Starts loop-tui with `args` in a fresh `rows` x `cols` terminal, with
    /// the current directory set to the system temp dir.
    pub fn start(args: &[&str], rows: u16, cols: u16) -> Self {
        Self::start_in(args, rows, cols, &std::env::temp_dir())
    }

    /// Like [`Loop::start`], with the given working directory.
    pub fn start_in(args: &[&str], rows: u16, cols: u16, cwd: &Path) -> Self {
        Self::start_with(args, rows, cols, cwd, &[])
    }

    /// Like [`Loop::start_in`], with extra environment variables (for
    /// example `XDG_STATE_HOME`, so a run's files go to a test directory).
    pub fn start_with(
        args: &[&str],
        rows: u16,
        cols: u16,
        cwd: &Path,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Self {
        Self::start_full(args, rows, cols, cwd, env, false, &[])
    }

    /// Like [`Loop::start_with`], with loop-tui started through `wrapper`:
    /// the wrapper's words, then loop-tui's path and `args`. For instance
    /// `["sh", "-c", "ulimit -f 64; exec \"$0\" \"$@\""]` starts it with a
    /// file size limit.
    pub fn start_wrapped(
        wrapper: &[&str],
        args: &[&str],
        rows: u16,
        cols: u16,
        cwd: &Path,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Self {
        Self::start_full(args, rows, cols, cwd, env, false, wrapper)
    }

    /// Like [`Loop::start_with`], in an outer terminal that supports the
    /// kitty keyboard protocol.
    pub fn start_with_kitty_keyboard(
        args: &[&str],
        rows: u16,
        cols: u16,
        cwd: &Path,
        env: &[(&str, &str)],
    ) -> Self {
        let env: Vec<(&str, &std::ffi::OsStr)> = env
            .iter()
            .map(|(name, value)| (*name, std::ffi::OsStr::new(*value)))
            .collect();
        Self::start_full(args, rows, cols, cwd, &env, true, &[])
    }

    fn start_full(
        args: &[&str],
        rows: u16,
        cols: u16,
        cwd: &Path,
        env: &[(&str, &std::ffi::OsStr)],
        kitty_keyboard: bool,
        wrapper: &[&str],
    ) -> Self {
        let marker = unique("marker");
        let pair = native_pty_system()
            .openpty(pty_size(rows, cols))
            .expect("open the outer PTY");
        let exe = env!("CARGO_BIN_EXE_loop-tui");
        let mut cmd = match wrapper.split_first() {
            None => CommandBuilder::new(exe),
            Some((program, words)) => {
                let mut cmd = CommandBuilder::new(program);
                cmd.args(words);
                cmd.arg(exe);
                cmd
            }
        };
        // The same suite covers every emulator: CI runs it once more with
        // LOOP_TUI_TEST_EMULATOR=vt100.
        if let Ok(emulator) = std::env::var("LOOP_TUI_TEST_EMULATOR") {
            cmd.args(["--emulator", &emulator]);
        }
        cmd.args(args);
        cmd.cwd(cwd);
        // A fixed terminal type and shell keep the runs deterministic
        // whatever the developer's own environment is.
        cmd.env("TERM", "xterm-256color");
        cmd.env("SHELL", "/bin/sh");
        cmd.env(MARKER_VAR, &marker);
        cmd.env_remove("TMUX");
        cmd.env_remove("TMUX_PANE");
        cmd.env_remove("COLORTERM");
        cmd.env("RUST_BACKTRACE", "1");
        // The developer's own config file (a different prefix key, say)
        // must not change what the tests see; a test that wants a user
        // config file passes its own XDG_CONFIG_HOME.
        cmd.env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("loop-tui-e2e-no-config-home"),
        );
        for (name, value) in env {
            cmd.env(name, value);
        }
        let child = pair.slave.spawn_command(cmd).expect("start loop-tui");
        // The test must not keep the slave side open, or it would never see
        // the end of loop-tui's output.
        drop(pair.slave);
        let pid = child.process_id().expect("loop-tui has a pid");

        let reader = pair.master.try_clone_reader().expect("PTY reader");
        let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("PTY writer")));
        let shared = Arc::new(Mutex::new(Shared {
            parser: vt100::Parser::new(non_zero(rows), non_zero(cols), 0),
            raw: Vec::new(),
        }));
        let eof = Arc::new(AtomicBool::new(false));
        {
            let shared = Arc::clone(&shared);
            let writer = Arc::clone(&writer);
            let eof = Arc::clone(&eof);
            thread::Builder::new()
                .name("outer-terminal-reader".into())
                .spawn(move || read_loop(reader, &shared, &writer, &eof, kitty_keyboard))
                .expect("start the reader thread");
        }

        Self {
            master: pair.master,
            writer,
            child: Mutex::new(child),
            status: Mutex::new(None),
            shared,
            eof,
            pid,
            marker,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The unique value of [`MARKER_VAR`] in this loop-tui's environment.
    pub fn marker(&self) -> &str {
        &self.marker
    }

    /// Types bytes into loop-tui, as the outer terminal would.
    pub fn send(&self, bytes: &[u8]) {
        let mut w = lock(&self.writer);
        w.write_all(bytes).expect("write to loop-tui");
        w.flush().expect("flush to loop-tui");
    }

    pub fn send_str(&self, text: &str) {
        self.send(text.as_bytes());
    }

    /// Sends the prefix key followed by `key`.
    pub fn prefix(&self, key: &str) {
        let mut bytes = PREFIX.to_vec();
        bytes.extend_from_slice(key.as_bytes());
        self.send(&bytes);
    }

    /// Sends a signal to loop-tui itself.
    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(pid_t(self.pid)), signal).expect("signal loop-tui");
    }

    pub fn screen(&self) -> Screen {
        Screen::capture(lock(&self.shared).parser.screen())
    }

    pub fn screen_text(&self) -> String {
        self.screen().text()
    }

    /// Runs `f` on the outer terminal's screen as the harness's vt100 parser
    /// holds it, for checks of colours and attributes.
    pub fn with_vt100_screen<T>(&self, f: impl FnOnce(&vt100::Screen) -> T) -> T {
        f(lock(&self.shared).parser.screen())
    }

    /// Everything loop-tui has written so far.
    pub fn raw_output(&self) -> Vec<u8> {
        lock(&self.shared).raw.clone()
    }

    /// Waits until `cond` holds for the screen text; on timeout the error
    /// holds the last screen, so a failure shows what the user would see.
    pub fn wait_for(&self, cond: impl Fn(&str) -> bool, timeout: Duration) -> Result<(), String> {
        self.wait_for_screen(|s| cond(&s.text()), timeout)
    }

    /// Waits until `cond` holds for a screen snapshot.
    pub fn wait_for_screen(
        &self,
        cond: impl Fn(&Screen) -> bool,
        timeout: Duration,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if cond(&screen) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "condition not met within {timeout:?}; the screen was:\n{}\n{}\n{}",
                    "-".repeat(screen.cols()),
                    screen.text(),
                    "-".repeat(screen.cols())
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until `cond` holds for the raw output.
    pub fn wait_for_raw(
        &self,
        cond: impl Fn(&[u8]) -> bool,
        timeout: Duration,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let shared = lock(&self.shared);
                if cond(&shared.raw) {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                let raw = self.raw_output();
                let tail = &raw[raw.len().saturating_sub(2000)..];
                return Err(format!(
                    "raw output condition not met within {timeout:?}; the output ended with:\n{}",
                    String::from_utf8_lossy(tail).escape_debug()
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until `text` is on the screen; panics with the screen if not.
    pub fn wait_for_text(&self, text: &str) {
        if let Err(e) = self.wait_for(|s| s.contains(text), TIMEOUT) {
            panic!("waiting for {text:?}: {e}");
        }
    }

    /// Waits until `text` is no longer on the screen; panics if it stays.
    pub fn wait_for_no_text(&self, text: &str) {
        if let Err(e) = self.wait_for(|s| !s.contains(text), TIMEOUT) {
            panic!("waiting for {text:?} to disappear: {e}");
        }
    }

    /// Resizes the outer terminal; the kernel sends loop-tui SIGWINCH.
    pub fn resize(&self, rows: u16, cols: u16) {
        // The parser is resized under the same lock the reader holds while
        // parsing, so output drawn for the new size is parsed at that size.
        let mut shared = lock(&self.shared);
        shared
            .parser
            .screen_mut()
            .set_size(non_zero(rows), non_zero(cols));
        self.master
            .resize(pty_size(rows, cols))
            .expect("resize the outer PTY");
    }

    /// Whether loop-tui has exited (reaping it if so).
    pub fn exit_status(&self) -> Option<portable_pty::ExitStatus> {
        let mut status = lock(&self.status);
        if status.is_none() {
            if let Ok(Some(s)) = lock(&self.child).try_wait() {
                *status = Some(s);
            }
        }
        status.clone()
    }

    /// Waits for loop-tui to exit and for its output to be fully read, so
    /// that [`Loop::raw_output`] then holds everything it wrote.
    pub fn wait_exit(&self, timeout: Duration) -> Option<portable_pty::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.exit_status() {
                break s;
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(POLL);
        };
        while !self.eof.load(Ordering::SeqCst) && Instant::now() < deadline {
            thread::sleep(POLL);
        }
        Some(status)
    }

    /// Like [`Loop::wait_exit`] with the default timeout, panicking with the
    /// screen if loop-tui does not exit.
    pub fn expect_exit(&self) -> portable_pty::ExitStatus {
        match self.wait_exit(TIMEOUT) {
            Some(status) => status,
            None => panic!(
                "loop-tui did not exit within {TIMEOUT:?}; the screen was:\n{}",
                self.screen_text()
            ),
        }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if self.exit_status().is_some() {
            return;
        }
        // Ask politely first so loop-tui ends its panes and restores the
        // terminal; kill the whole process group if it does not.
        let _ = kill(Pid::from_raw(pid_t(self.pid)), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.exit_status().is_none() && Instant::now() < deadline {
            thread::sleep(POLL);
        }
        if self.exit_status().is_none() {
            let _ = killpg(Pid::from_raw(pid_t(self.pid)), Signal::SIGKILL);
            let _ = lock(&self.child).wait();
        }
    }
}

fn pid_t(pid: u32) -> i32 {
    i32::try_from(pid).expect("pid fits in pid_t")
}

fn pty_size(rows: u16, cols: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

fn read_loop(
    mut reader: Box<dyn Read + Send>,
    shared: &Mutex<Shared>,
    writer: &Mutex<Box<dyn Write + Send>>,
    eof: &AtomicBool,
    kitty_keyboard: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    // Requests answered like a real terminal, in the order they appear.
    let mut answers: Vec<(&[u8], &[u8])> = vec![
        (CURSOR_POSITION_REQUEST, b"\x1b[1;1R"),
        (DEVICE_ATTRIBUTES_REQUEST, DEVICE_ATTRIBUTES_ANSWER),
    ];
    if kitty_keyboard {
        answers.push((KEYBOARD_QUERY, KEYBOARD_ANSWER));
    }
    let longest = answers.iter().map(|(q, _)| q.len()).max().unwrap_or(1);
    // The last bytes of the previous read, so a request split across two
    // reads is still recognised.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = match reader.read(&mut buf) {
            // On Linux, reading the master fails with EIO once loop-tui and
            // everything else holding the slave side are gone.
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        {
            let mut s = lock(shared);
            s.raw.extend_from_slice(chunk);
            s.parser.process(chunk);
        }
        // A match must end in a new byte, because the tail is shorter than
        // every request; so no request is answered twice.
        let mut window = std::mem::take(&mut tail);
        let old = window.len();
        window.extend_from_slice(chunk);
        for end in old + 1..=window.len() {
            for (request, answer) in &answers {
                if window[..end].ends_with(request) {
                    let mut w = lock(writer);
                    let _ = w.write_all(answer);
                    let _ = w.flush();
                }
            }
        }
        tail = window[window.len().saturating_sub(longest - 1)..].to_vec();
    }
    eof.store(true, Ordering::SeqCst);
}

/// A live process as /proc shows it.
pub struct ProcessInfo {
    pub pid: u32,
    pub ppid: u32,
    /// The command line, NUL-separated.
    pub cmdline: Vec<u8>,
    /// The environment, `NAME=value` entries each ended by a NUL.
    pub environ: Vec<u8>,
}

impl ProcessInfo {
    /// The command line with spaces between its words.
    pub fn command(&self) -> String {
        String::from_utf8_lossy(&self.cmdline).replace('\0', " ")
    }

    /// Whether the environment has exactly `NAME=value` (the whole entry,
    /// so that one value can never be mistaken for a longer one).
    pub fn has_env(&self, name: &str, value: &str) -> bool {
        contains(&self.environ, format!("{name}={value}\0").as_bytes())
    }

    pub fn cmdline_contains(&self, needle: &str) -> bool {
        contains(&self.cmdline, needle.as_bytes())
    }
}

fn contains(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

/// Every live process but the test itself; zombies are dead already (only
/// their parent's wait is missing) and not listed.
pub fn live_processes() -> Vec<ProcessInfo> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            if pid == me {
                return None;
            }
            let dir = entry.path();
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            let mut fields = stat.rsplit(')').next()?.split_whitespace();
            if fields.next() == Some("Z") {
                return None;
            }
            let ppid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            Some(ProcessInfo {
                pid,
                ppid,
                cmdline: std::fs::read(dir.join("cmdline")).unwrap_or_default(),
                environ: std::fs::read(dir.join("environ")).unwrap_or_default(),
            })
        })
        .collect()
}

/// The live processes whose command line contains `marker` or whose
/// environment has [`MARKER_VAR`] set to it, excluding the test process.
pub fn processes_with(marker: &str) -> Vec<(u32, String)> {
    live_processes()
        .into_iter()
        .filter(|p| p.cmdline_contains(marker) || p.has_env(MARKER_VAR, marker))
        .map(|p| (p.pid, p.command()))
        .collect()
}

/// Waits until no live process carries `marker`; returns the survivors if
/// some remain after the timeout.
pub fn wait_no_processes_with(marker: &str, timeout: Duration) -> Result<(), Vec<(u32, String)>> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = processes_with(marker);
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(left);
        }
        thread::sleep(POLL);
    }
}

/// Finds `needle` in `haystack` starting at or after `from`.
pub fn find_from(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Finds the last occurrence of `needle` in `haystack`.
pub fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Asserts that loop-tui's whole output `raw` leaves the outer terminal as
/// it found it, whether or not loop-tui ever took it over: every mode it
/// turned on (alternate screen, bracketed paste, mouse reporting, a hidden
/// cursor, kitty keyboard flags) is turned off again later, and nothing
/// says it panicked.
pub fn assert_terminal_left_clean(raw: &[u8]) {
    let tail = || {
        String::from_utf8_lossy(&raw[raw.len().saturating_sub(600)..])
            .escape_debug()
            .to_string()
    };
    for (on, off, what) in [
        (
            &b"\x1b[?1049h"[..],
            &b"\x1b[?1049l"[..],
            "the alternate screen",
        ),
        (b"\x1b[?2004h", b"\x1b[?2004l", "bracketed paste"),
        (b"\x1b[?1000h", b"\x1b[?1000l", "mouse reporting"),
        (b"\x1b[?25l", b"\x1b[?25h", "a hidden cursor"),
        (b"\x1b[>", b"\x1b[<", "kitty keyboard flags"),
    ] {
        if let Some(set) = rfind(raw, on) {
            assert!(
                rfind(raw, off).is_some_and(|reset| reset > set),
                "loop-tui left {what} on; output tail: {}",
                tail()
            );
        }
    }
    assert!(
        !String::from_utf8_lossy(raw).contains("panicked"),
        "loop-tui panicked: {}",
        tail()
    );
}

/// The value of `name` in `env`, the output of `env` that a pane wrote to a
/// file (the bridge socket, token and run id loop-tui gives its panes).
pub fn env_value(env: &str, name: &str) -> String {
    env.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} missing from the pane's environment"))
        .to_owned()
}

/// The only run directory under the state directory `state` (runs are
/// filed by repository: `runs/<repo>/<id>`): its id and path.
pub fn only_run_dir(state: &Path) -> (String, PathBuf) {
    let runs = state.join("loop-tui").join("runs");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .unwrap_or_else(|e| panic!("reading {}: {e}", runs.display()))
        .flat_map(|repo| {
            let repo = repo.expect("a repository's runs").path();
            std::fs::read_dir(&repo).unwrap_or_else(|e| panic!("reading {}: {e}", repo.display()))
        })
        .map(|entry| entry.expect("a run directory").path())
        .collect();
    assert_eq!(dirs.len(), 1, "one run: {dirs:?}");
    let id = dirs[0]
        .file_name()
        .expect("a run's id")
        .to_string_lossy()
        .into_owned();
    (id, dirs[0].clone())
}
