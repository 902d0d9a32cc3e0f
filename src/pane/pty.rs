//! A child process in its own PTY: spawning, the reader thread that feeds
//! the pane's emulator, the writer queue, resizing and ending the child.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use filedescriptor::{FileDescriptor, POLLIN, POLLOUT};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use portable_pty::{native_pty_system, CommandBuilder, MasterPty, PtySize};

use super::emulator::PaneSize;
use super::screen::PaneScreen;
use super::{ChildEnd, PaneId};

/// What to run in a pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaneProgram {
    /// A shell command line, run with `$SHELL -c` (or `/bin/sh -c`).
    Shell(String),
    /// A program and its arguments, run directly.
    Exec(Vec<String>),
}

impl PaneProgram {
    fn command(&self) -> CommandBuilder {
        match self {
            Self::Shell(line) => {
                let shell = std::env::var("SHELL")
                    .ok()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "/bin/sh".to_owned());
                let mut cmd = CommandBuilder::new(shell);
                cmd.arg("-c");
                cmd.arg(line);
                cmd
            }
            Self::Exec(argv) => {
                let mut cmd = CommandBuilder::new(argv.first().map_or("/bin/sh", String::as_str));
                cmd.args(argv.iter().skip(1));
                cmd
            }
        }
    }
}

/// What the PTY threads tell the app loop. The bytes themselves never travel
/// this way: the reader parses them into the pane's screen and only wakes the
/// loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PtyEvent {
    /// New output was parsed into the pane's screen.
    Output { pane: PaneId, generation: u32 },
    /// The child ended; its output has been drained.
    Exited {
        pane: PaneId,
        generation: u32,
        end: ChildEnd,
        /// When the child was reaped: the exit is reported up to
        /// [`DRAIN_GRACE`] later, after its last output.
        ended_at: Instant,
    },
}

/// A running child in a PTY. Dropping it closes the PTY, which hangs the
/// child up.
pub struct PtyProcess {
    master: Box<dyn MasterPty + Send>,
    /// The PTY for writes from the app loop itself (see [`Self::write`]).
    direct: Mutex<FileDescriptor>,
    writer: Sender<Vec<u8>>,
    /// Bytes queued for the child and not yet written: a child that stops
    /// reading its input makes this grow.
    backlog: Arc<AtomicUsize>,
    pid: Option<u32>,
    size: PaneSize,
}

/// How long the waiter gives the reader to drain the last output after the
/// child exits, so the pane shows the final screen. Grandchildren that keep
/// the PTY open must not delay the exit status for long.
const DRAIN_GRACE: Duration = Duration::from_millis(300);

/// Reads of 64 KiB keep the parse lock short (about 2 ms at vt100's
/// ~30 MB/s) while still amortising the syscall.
const READ_CHUNK: usize = 64 * 1024;

impl PtyProcess {
    /// Starts `program` in a new PTY of `size`, in the current directory.
    /// Output is parsed into `screen`; `notify` hears about output and exit.
    pub fn spawn<F>(
        pane: PaneId,
        generation: u32,
        program: &PaneProgram,
        env: &[(String, String)],
        size: PaneSize,
        screen: Arc<PaneScreen>,
        notify: F,
    ) -> Result<Self>
    where
        F: Fn(PtyEvent) + Send + Clone + 'static,
    {
        let size = size.clamped();
        let pair = native_pty_system()
            .openpty(pty_size(size))
            .context("failed to open a PTY")?;
        let mut cmd = program.command();
        cmd.cwd(std::env::current_dir().context("failed to read the current directory")?);
        // Agents pick their colour depth and key protocol from these; a
        // stray TMUX makes Claude Code drop to 256 colours.
        cmd.env("TERM", "xterm-256color");
        cmd.env("COLORTERM", "truecolor");
        cmd.env_remove("TMUX");
        cmd.env_remove("TMUX_PANE");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut child = pair
            .slave
            .spawn_command(cmd)
            .with_context(|| format!("failed to start {program:?}"))?;
        // Keeping the slave open here would stop EOF from ever arriving.
        drop(pair.slave);
        let pid = child.process_id();

        let reader = pair
            .master
            .try_clone_reader()
            .context("failed to read from the PTY")?;
        let writer = pair
            .master
            .take_writer()
            .context("failed to write to the PTY")?;
        // The PTY is non-blocking (the flag belongs to the open PTY, so the
        // reader's and writer's copies share it): the app loop can then
        // write a key itself without ever being stuck behind a child that
        // stopped reading; the threads wait in `poll` instead.
        let raw = pair
            .master
            .as_raw_fd()
            .context("the PTY has no file descriptor")?;
        let mut direct =
            FileDescriptor::dup(&Fd(raw)).context("failed to duplicate the PTY descriptor")?;
        direct
            .set_non_blocking(true)
            .context("failed to make the PTY non-blocking")?;
        let (write_tx, write_rx) = mpsc::channel::<Vec<u8>>();
        let backlog = Arc::new(AtomicUsize::new(0));
        spawn_writer(pane, writer, raw, write_rx, backlog.clone())?;

        let (drained_tx, drained_rx) = mpsc::channel::<()>();
        // Answers to the child's queries go through the writer queue like
        // input, and count in its backlog.
        let reply = {
            let (reply_tx, reply_backlog) = (write_tx.clone(), backlog.clone());
            move |bytes: Vec<u8>| {
                reply_backlog.fetch_add(bytes.len(), Ordering::Relaxed);
                let _ = reply_tx.send(bytes);
            }
        };
        let on_output = notify.clone();
        let wake = move || on_output(PtyEvent::Output { pane, generation });
        let sync_timer = spawn_sync_timer(pane, Arc::clone(&screen), reply.clone(), wake.clone())?;
        thread::Builder::new()
            .name(format!("pty-reader-{pane}"))
            .spawn(move || {
                read_loop(reader, raw, &screen, reply, &sync_timer, wake);
                let _ = drained_tx.send(());
            })
            .context("failed to start the PTY reader thread")?;

        thread::Builder::new()
            .name(format!("pty-waiter-{pane}"))
            .spawn(move || {
                let end = child
                    .wait()
                    .map_or(ChildEnd::Unknown, |status| ChildEnd::from_status(&status));
                let ended_at = Instant::now();
                let _ = drained_rx.recv_timeout(DRAIN_GRACE);
                notify(PtyEvent::Exited {
                    pane,
                    generation,
                    end,
                    ended_at,
                });
            })
            .context("failed to start the PTY waiter thread")?;

        Ok(Self {
            master: pair.master,
            direct: Mutex::new(direct),
            writer: write_tx,
            backlog,
            pid,
            size,
        })
    }

    /// Sends bytes to the child; never blocks, even if the child has
    /// stopped reading.
    ///
    /// Typing is what echo latency is made of, so when nothing is queued
    /// the bytes are written at once from the calling thread, which saves
    /// waking the writer thread (tens of microseconds). Whatever the PTY
    /// does not take then is queued behind, and while anything is queued
    /// everything else is too, so the child gets the bytes in order.
    pub fn write(&self, mut bytes: Vec<u8>) {
        if self.backlog.load(Ordering::Acquire) == 0 {
            if let Ok(mut direct) = self.direct.lock() {
                match direct.write(&bytes) {
                    Ok(n) if n == bytes.len() => return,
                    Ok(n) => {
                        bytes.drain(..n);
                    }
                    // Full (or interrupted): the writer thread waits for room.
                    // Any other error ends the writer thread too, which then
                    // drops what is queued, as before.
                    Err(_) => {}
                }
            }
        }
        self.backlog.fetch_add(bytes.len(), Ordering::AcqRel);
        let _ = self.writer.send(bytes);
    }

    /// The count of queued, unwritten input bytes, shared so the app can
    /// hold a delivery back while the child is not reading.
    pub fn backlog(&self) -> Arc<AtomicUsize> {
        self.backlog.clone()
    }

    /// Resizes the PTY (the child gets SIGWINCH) if the size really changed.
    pub fn resize(&mut self, size: PaneSize) -> Result<()> {
        let size = size.clamped();
        if size == self.size {
            return Ok(());
        }
        self.master
            .resize(pty_size(size))
            .context("failed to resize the PTY")?;
        self.size = size;
        Ok(())
    }

    /// Sends `signal` to the child's process group and to every other
    /// process of its session. The child leads its own session, and some
    /// programs start helpers in process groups of their own (codex does so
    /// for its MCP servers), which a signal to the group alone would miss.
    pub fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) {
            let _ = killpg(Pid::from_raw(pid), signal);
            for member in session_members(pid) {
                let _ = kill(Pid::from_raw(member), signal);
            }
        }
    }
}

/// The live processes of session `sid`, from /proc (none where there is no
/// /proc). A session's id stays taken while any process is in it, so these
/// are the child's own even after the child itself is gone.
fn session_members(sid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // After the command name, which may hold spaces and
            // parentheses itself, come the state, ppid, pgrp and session.
            let (_, rest) = stat.rsplit_once(')')?;
            let session: i32 = rest.split_whitespace().nth(3)?.parse().ok()?;
            (session == sid && pid != sid).then_some(pid)
        })
        .collect()
}

fn pty_size(size: PaneSize) -> PtySize {
    PtySize {
        rows: size.rows,
        cols: size.cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

fn spawn_writer(
    pane: PaneId,
    mut writer: Box<dyn Write + Send>,
    fd: RawFd,
    queue: Receiver<Vec<u8>>,
    backlog: Arc<AtomicUsize>,
) -> Result<()> {
    // Writing is its own thread: a child that stops reading its input must
    // stall only this queue, never the UI.
    thread::Builder::new()
        .name(format!("pty-writer-{pane}"))
        .spawn(move || {
            while let Ok(bytes) = queue.recv() {
                let written = write_all(&mut *writer, fd, &bytes);
                backlog.fetch_sub(bytes.len(), Ordering::AcqRel);
                if written.is_err() {
                    break;
                }
            }
        })
        .context("failed to start the PTY writer thread")?;
    Ok(())
}

/// A PTY descriptor borrowed for `FileDescriptor::dup`, which takes any
/// `AsRawFd`; the PTY itself outlives every use.
struct Fd(RawFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Waits until the non-blocking PTY `fd` is ready for `events`.
fn wait_for(fd: RawFd, events: i16) -> std::io::Result<()> {
    let mut poll = [filedescriptor::pollfd {
        fd,
        events,
        revents: 0,
    }];
    filedescriptor::poll(&mut poll, None)
        .map(|_| ())
        .map_err(std::io::Error::other)
}

/// Writes all of `bytes` to the non-blocking PTY, waiting for room.
fn write_all(writer: &mut dyn Write, fd: RawFd, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match writer.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => wait_for(fd, POLLOUT)?,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn read_loop(
    mut reader: Box<dyn Read + Send>,
    fd: RawFd,
    screen: &PaneScreen,
    reply: impl Fn(Vec<u8>),
    sync_timer: &Sender<Instant>,
    wake: impl Fn(),
) {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut armed = None;
    loop {
        // On Linux a read on the master fails with EIO once the child side
        // is gone: that is the end of output, like EOF.
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if wait_for(fd, POLLIN).is_err() {
                    break;
                }
                continue;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let answer = screen.feed(&buf[..n]);
        if !answer.is_empty() {
            reply(answer);
        }
        // This thread blocks in `read` while an update is held back, so a
        // timer shows it if the child never ends it.
        let deadline = screen.sync_deadline();
        if deadline.is_some() && deadline != armed {
            if let Some(at) = deadline {
                let _ = sync_timer.send(at);
            }
        }
        armed = deadline;
        if screen.mark_dirty() {
            wake();
        }
    }
    // The child is gone mid-update: show what it managed to write.
    if screen.flush_sync().is_some() && screen.mark_dirty() {
        wake();
    }
}

/// Starts the thread that shows a synchronized update when its deadline
/// passes (`sync::SYNC_TIMEOUT` after it began) even though the child sent
/// nothing more. The reader sends it each new deadline; it sleeps until
/// then, flushes, and wakes the app loop like new output would. It ends
/// with the reader.
fn spawn_sync_timer(
    pane: PaneId,
    screen: Arc<PaneScreen>,
    reply: impl Fn(Vec<u8>) + Send + 'static,
    wake: impl Fn() + Send + 'static,
) -> Result<Sender<Instant>> {
    let (tx, rx) = mpsc::channel::<Instant>();
    thread::Builder::new()
        .name(format!("pty-sync-{pane}"))
        .spawn(move || {
            while let Ok(mut deadline) = rx.recv() {
                loop {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(newer) => deadline = newer,
                        Err(RecvTimeoutError::Timeout) => {
                            if let Some(answer) = screen.flush_expired_sync(Instant::now()) {
                                if !answer.is_empty() {
                                    reply(answer);
                                }
                                if screen.mark_dirty() {
                                    wake();
                                }
                            }
                            match screen.sync_deadline() {
                                Some(next) => deadline = next,
                                None => break,
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            }
        })
        .context("failed to start the PTY sync timer thread")?;
    Ok(tx)
}

/// Ends every given child: SIGHUP first (what closing a terminal sends),
/// then SIGTERM, then SIGKILL. `wait_all` waits up to the given time for
/// every child to be reaped and says whether any is still alive.
pub fn end_children(
    processes: &[&PtyProcess],
    grace: Duration,
    mut wait_all: impl FnMut(Duration) -> bool,
) {
    for signal in [Signal::SIGHUP, Signal::SIGTERM, Signal::SIGKILL] {
        for p in processes {
            p.signal(signal);
            if signal == Signal::SIGTERM {
                // A stopped child cannot act on SIGTERM until it continues.
                p.signal(Signal::SIGCONT);
            }
        }
        if !wait_all(grace) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pane::emulator::EmulatorKind;

    /// A child that begins a synchronized update and then stalls without
    /// ending it: the reader is blocked in `read`, so only the timer can
    /// show the held-back output, and it must, while the child still runs.
    #[test]
    fn a_stalled_synchronized_update_is_shown_by_the_timer() {
        for kind in [EmulatorKind::Alacritty, EmulatorKind::Vt100] {
            let size = PaneSize { rows: 5, cols: 40 };
            let screen = Arc::new(PaneScreen::new(kind.create(size, 100)));
            let (tx, rx) = mpsc::channel();
            let program = PaneProgram::Exec(vec![
                "/bin/sh".into(),
                "-c".into(),
                "printf 'before\\033[?2026h held back'; sleep 60".into(),
            ]);
            let process =
                PtyProcess::spawn(0, 0, &program, &[], size, Arc::clone(&screen), move |e| {
                    let _ = tx.send(e);
                })
                .expect("spawn the child");
            let shown = loop {
                // Acknowledge the output as the app loop does, so the next
                // change wakes this loop again.
                screen.take_dirty();
                if screen.lock().text_contents().contains("held back") {
                    break true;
                }
                match rx.recv_timeout(Duration::from_secs(10)) {
                    Ok(PtyEvent::Output { .. }) => {}
                    Ok(PtyEvent::Exited { .. }) | Err(_) => break false,
                }
            };
            process.signal(Signal::SIGKILL);
            assert!(shown, "{kind:?}: {}", screen.lock().text_contents());
        }
    }

    /// A helper the child put in a process group of its own (as codex does
    /// with its MCP servers; here a shell with job control) is signalled
    /// with the child, through the session they share.
    #[test]
    fn a_signal_reaches_the_whole_session_not_only_the_group() {
        let size = PaneSize { rows: 5, cols: 40 };
        let screen = Arc::new(PaneScreen::new(EmulatorKind::Vt100.create(size, 100)));
        let dir = std::env::temp_dir().join(format!("loop-tui-pty-session-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("helper.pid");
        let program = PaneProgram::Exec(vec![
            "/bin/sh".into(),
            "-c".into(),
            format!(
                "set -m; sleep 60 & echo $! > '{}'; wait",
                pid_file.display()
            ),
        ]);
        let process =
            PtyProcess::spawn(0, 0, &program, &[], size, screen, |_| {}).expect("spawn the child");
        let deadline = Instant::now() + Duration::from_secs(10);
        let helper: i32 = loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "the helper never started");
            thread::sleep(Duration::from_millis(10));
        };
        let group = |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(2)?
                        .parse::<i32>()
                        .ok()
                })
        };
        let leader = i32::try_from(process.pid.unwrap()).unwrap();
        assert_ne!(
            group(helper),
            Some(leader),
            "the helper has a group of its own"
        );
        process.signal(Signal::SIGTERM);
        let gone = |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| {
                s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            })
        };
        while !gone(helper) {
            assert!(Instant::now() < deadline, "the helper outlived the signal");
            thread::sleep(Duration::from_millis(10));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
