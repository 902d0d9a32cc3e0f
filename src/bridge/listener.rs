//! The bridge socket inside loop-tui: accepts connections from the
//! `mcp-bridge` processes, checks the run's token and turns each request
//! into an event for the app loop, which decides and answers through the
//! request's [`ReplyHandle`]. This thread never touches the relay state.
//!
//! Two things about the connections are reported as events too, and the
//! app decides what they mean:
//!
//! - An agent's bridge process keeps the connection on which it said
//!   `Hello` open for as long as it runs (its presence). When that
//!   connection closes, the process has ended (or lost loop-tui), and the
//!   listener says so with [`ListenerEvent::PresenceEnded`].
//! - The socket file is kept in place. If it is deleted while loop-tui runs
//!   (a cleanup script, a mistaken `rm`), a watch on its directory notices,
//!   and loop-tui listens at the same path again with the same token, so the
//!   agents' next calls reach it without a restart; connections already
//!   open do not depend on the file and carry on. A path taken by a file
//!   loop-tui did not make is left alone and reported as lost until it is
//!   removed.
//!
//! The socket is private to the user (0600 in a 0700 directory), but a
//! buggy or runaway client of the same user must not hurt the run either,
//! so a connection is bounded until it presents the run's token: its first
//! request line must arrive in full within [`Limits::request_timeout`] and
//! be at most [`MAX_REQUEST_LINE_BYTES`] long, anything that is not a
//! request with the token gets one error line and the connection is
//! closed, and at most [`Limits::max_connections`] such connections are
//! served at once (each has its own thread); more are refused at once. A
//! connection that presented the token is trusted: it may stay open, idle,
//! for as long as its bridge process runs (a presence does).

use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use super::protocol::{BridgeCall, BridgeReply, BridgeRequest, MAX_REQUEST_LINE_BYTES};

/// How long a connection waits for the app loop's answer before telling
/// the caller loop-tui is busy. The loop answers within a frame normally.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the accept thread rests after an accept error that is not
/// about one connection (out of file descriptors), so it does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// How the listener bounds what a client without the token can take from
/// the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long the first request line may take to arrive in full, from
    /// when the connection is accepted. `mcp-bridge` writes its line at
    /// once after connecting; a client that sends nothing, or a byte now
    /// and then, is cut off after this.
    pub request_timeout: Duration,
    /// How long writing an answer may block on a client that does not read.
    pub write_timeout: Duration,
    /// The most connections served at once before they presented the
    /// token. Each agent's `mcp-bridge` opens one per tool call, so a few
    /// are normal; beyond this a connection gets a "busy" error and is
    /// closed at once, costing no thread.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            max_connections: 32,
        }
    }
}

/// What is said to a caller presenting another token: most likely an agent
/// started by another loop-tui, or by this run before it was resumed
/// (every loop-tui process gives its run a new secret).
pub const WRONG_TOKEN: &str = "refused: wrong token for this loop-tui run. This bridge process \
    was not started by the loop-tui now running this run (a resumed run gets a new secret, \
    so agents started before the resume cannot reach it). Nothing was sent; tell the human, \
    who can restart this agent from loop-tui.";

/// One connection to the bridge socket, so the app can tell which agent's
/// presence a closed connection was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// An id no other connection of this process has.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A request from an agent's bridge process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeEvent {
    /// The caller's agent name, as its environment says.
    pub agent: String,
    pub call: BridgeCall,
    pub reply: ReplyHandle,
    /// The connection the request came on; a `Hello` makes it the agent's
    /// presence.
    pub connection: ConnectionId,
}

/// What the listener tells the app loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerEvent {
    /// A request presenting the run's token, to decide and answer.
    Request(BridgeEvent),
    /// The connection on which `agent` said `Hello` (and was answered
    /// yes) has closed: that bridge process ended or lost loop-tui.
    PresenceEnded {
        agent: String,
        connection: ConnectionId,
    },
    /// Something happened to the socket file.
    Socket(SocketChange),
}

/// What happened to the socket file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketChange {
    /// The file was deleted and loop-tui listens at its path again.
    Recreated,
    /// The file was deleted or replaced and loop-tui cannot listen there;
    /// why, in a sentence. Reported once per loss; `Recreated` ends it.
    Lost(String),
    /// The socket's directory cannot be watched (why), so a deleted socket
    /// file would not be noticed or re-created.
    Unwatched(String),
}

/// Where the answer to one request goes.
#[derive(Clone)]
pub struct ReplyHandle {
    id: u64,
    tx: mpsc::Sender<BridgeReply>,
}

impl ReplyHandle {
    /// A handle whose answer `rx` receives; for tests and benchmarks.
    pub fn channel() -> (Self, mpsc::Receiver<BridgeReply>) {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let (tx, rx) = mpsc::channel();
        (
            Self {
                id: NEXT.fetch_add(1, Ordering::Relaxed),
                tx,
            },
            rx,
        )
    }

    pub fn send(&self, reply: BridgeReply) {
        // The caller may have given up (timeout, closed); nothing to do then.
        let _ = self.tx.send(reply);
    }
}

impl PartialEq for ReplyHandle {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for ReplyHandle {}

impl std::fmt::Debug for ReplyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReplyHandle({})", self.id)
    }
}

type Notify = dyn Fn(ListenerEvent) + Send + Sync;

/// A file's identity: its device and inode numbers.
type FileId = (u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    fs::symlink_metadata(path)
        .ok()
        .map(|meta| (meta.dev(), meta.ino()))
}

/// The listening socket; dropping it removes the socket file (when it is
/// still loop-tui's) and ends the accept thread.
pub struct BridgeListener {
    keeper: Arc<Keeper>,
    /// Watches the socket's directory; `None` when that failed.
    _watcher: Option<RecommendedWatcher>,
}

impl Drop for BridgeListener {
    fn drop(&mut self) {
        let mut state = self.keeper.lock();
        state.closed = true;
        // Dropping the stop stream wakes the accept thread, which ends.
        state.stop = None;
        if state.bound.is_some() && file_id(&self.keeper.path) == state.bound {
            let _ = fs::remove_file(&self.keeper.path);
        }
    }
}

impl BridgeListener {
    /// Listens on `path` (mode 0600) and calls `notify` for every request
    /// presenting `token`, every presence that ends and every change to
    /// the socket file.
    pub fn start(
        path: &Path,
        token: String,
        notify: impl Fn(ListenerEvent) + Send + Sync + 'static,
    ) -> Result<Self> {
        Self::start_with_limits(path, token, Limits::default(), notify)
    }

    /// Like [`BridgeListener::start`], with the given limits.
    pub fn start_with_limits(
        path: &Path,
        token: String,
        limits: Limits,
        notify: impl Fn(ListenerEvent) + Send + Sync + 'static,
    ) -> Result<Self> {
        // A socket file left by a crashed run would make bind fail; no one
        // listens on it any more if connecting fails. Anything else there
        // is not loop-tui's to remove.
        if let Ok(meta) = fs::symlink_metadata(path) {
            if !meta.file_type().is_socket() {
                anyhow::bail!(
                    "{} is in the way of the run's bridge socket: it is not a socket; move it \
                     away and start again",
                    path.display()
                );
            }
            if UnixStream::connect(path).is_err() {
                let _ = fs::remove_file(path);
            }
        }
        let keeper = Arc::new(Keeper {
            path: path.to_owned(),
            token: Arc::new(token),
            notify: Arc::new(notify),
            state: Mutex::new(KeeperState::default()),
            limits,
            waiting: Arc::new(AtomicUsize::new(0)),
        });
        let (bound, stop) = keeper.bind()?;
        {
            let mut state = keeper.lock();
            state.bound = Some(bound);
            state.stop = Some(stop);
        }
        let watcher = match keeper.watch() {
            Ok(watcher) => Some(watcher),
            Err(err) => {
                (keeper.notify)(ListenerEvent::Socket(SocketChange::Unwatched(format!(
                    "{err:#}"
                ))));
                None
            }
        };
        Ok(Self {
            keeper,
            _watcher: watcher,
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.keeper.path
    }

    /// How many connections are open that have not presented the token
    /// yet: the ones [`Limits::max_connections`] counts.
    pub fn waiting_connections(&self) -> usize {
        self.keeper.waiting.load(Ordering::SeqCst)
    }
}

/// Keeps the socket file in place and owns the accept thread of the
/// socket listening there now.
struct Keeper {
    path: PathBuf,
    token: Arc<String>,
    notify: Arc<Notify>,
    state: Mutex<KeeperState>,
    limits: Limits,
    /// Connections served that have not presented the token yet.
    waiting: Arc<AtomicUsize>,
}

#[derive(Default)]
struct KeeperState {
    /// The listener was dropped: nothing is re-created any more.
    closed: bool,
    /// The socket file loop-tui listens on now.
    bound: Option<FileId>,
    /// Held open while the current accept thread should run; dropping it
    /// ends that thread.
    stop: Option<UnixStream>,
    /// A loss was reported and nothing has been re-created since.
    lost: bool,
}

impl Keeper {
    fn lock(&self) -> MutexGuard<'_, KeeperState> {
        // The state stays consistent even if a holder panicked: every
        // change is a single assignment.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Listens at the path and starts the accept thread; returns the
    /// socket file's identity and the stream that keeps the thread going.
    fn bind(&self) -> Result<(FileId, UnixStream)> {
        let path = &self.path;
        let listener = UnixListener::bind(path).with_context(|| {
            format!(
                "failed to listen on the bridge socket {} (is another loop-tui running this \
                 run?)",
                path.display()
            )
        })?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .with_context(|| format!("failed to make {} private", path.display()))?;
        let bound = file_id(path)
            .with_context(|| format!("the bridge socket {} vanished at once", path.display()))?;
        // Non-blocking, so a connection that gave up between the poll and
        // the accept cannot block the thread.
        listener
            .set_nonblocking(true)
            .context("failed to set up the bridge socket")?;
        let (stop, stopped) =
            UnixStream::pair().context("failed to set up the bridge socket's thread")?;
        let server = Server {
            token: Arc::clone(&self.token),
            notify: Arc::clone(&self.notify),
            limits: self.limits,
            waiting: Arc::clone(&self.waiting),
        };
        thread::Builder::new()
            .name("bridge-accept".into())
            .spawn(move || accept_loop(&listener, &stopped, &server))
            .context("failed to start the bridge thread")?;
        Ok((bound, stop))
    }

    /// Watches the socket's directory, checking the socket file after
    /// every change there.
    fn watch(self: &Arc<Self>) -> Result<RecommendedWatcher> {
        let dir = self
            .path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        let name = self.path.file_name().map(ToOwned::to_owned);
        // Weak, so the watcher (owned by the listener) does not keep the
        // keeper alive in a cycle.
        let keeper = Arc::downgrade(self);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let concerns = match &event {
                    Ok(event) => {
                        event.need_rescan()
                            || event.paths.iter().any(|p| p.file_name() == name.as_deref())
                    }
                    Err(_) => true,
                };
                if let (true, Some(keeper)) = (concerns, keeper.upgrade()) {
                    keeper.check();
                }
            })
            .context("failed to start a watcher for the bridge socket")?;
        watcher
            .watch(&dir, RecursiveMode::NonRecursive)
            .with_context(|| format!("failed to watch {}", dir.display()))?;
        Ok(watcher)
    }

    /// Makes sure loop-tui still listens at the path, listening there again
    /// when the file is gone.
    fn check(&self) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        let now = file_id(&self.path);
        if now.is_some() && now == state.bound {
            return;
        }
        let path = self.path.display();
        let lost = if now.is_some() {
            format!(
                "the bridge socket was replaced by a file loop-tui did not create; remove it \
                 and loop-tui listens there again ({path})"
            )
        } else {
            match self.bind() {
                Ok((bound, stop)) => {
                    state.bound = Some(bound);
                    // The replaced stop stream drops here, ending the
                    // thread of the socket that lost its file.
                    state.stop = Some(stop);
                    state.lost = false;
                    drop(state);
                    (self.notify)(ListenerEvent::Socket(SocketChange::Recreated));
                    return;
                }
                Err(err) => format!(
                    "the bridge socket was deleted and loop-tui cannot listen there again; quit \
                     and resume the run ({err:#})"
                ),
            }
        };
        if !state.lost {
            state.lost = true;
            drop(state);
            (self.notify)(ListenerEvent::Socket(SocketChange::Lost(lost)));
        }
    }
}

/// What every connection's thread needs.
#[derive(Clone)]
struct Server {
    token: Arc<String>,
    notify: Arc<Notify>,
    limits: Limits,
    waiting: Arc<AtomicUsize>,
}

/// Accepts connections until `stop` becomes readable (its other end was
/// dropped), serving each on its own thread while fewer than
/// `limits.max_connections` wait for their first request.
fn accept_loop(listener: &UnixListener, stop: &UnixStream, server: &Server) {
    loop {
        let mut fds = [
            PollFd::new(listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(stop.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return,
        }
        if fds[1].revents().is_some_and(|events| !events.is_empty()) {
            return;
        }
        match listener.accept() {
            Ok((mut stream, _)) => {
                let Some(slot) =
                    ConnectionSlot::take(&server.waiting, server.limits.max_connections)
                else {
                    // Refusing costs no thread: the accepted socket is
                    // still non-blocking, and the answer fits in its empty
                    // buffer, so it goes out whole or not at all, and the
                    // connection closes with `stream`.
                    answer(
                        &mut stream,
                        &BridgeReply::error(format!(
                            "refused: loop-tui's bridge is serving {} connections already; try \
                             again in a moment",
                            server.limits.max_connections
                        )),
                    );
                    continue;
                };
                // Accepted sockets must block: `serve` reads with deadlines.
                if stream.set_nonblocking(false).is_err() {
                    continue;
                }
                let server = server.clone();
                // When the thread cannot start, the closure is dropped with
                // the slot and the stream: the connection closes and the
                // slot is free again.
                let _ = thread::Builder::new()
                    .name("bridge-conn".into())
                    .spawn(move || serve(stream, slot, &server));
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                ) => {}
            Err(_) => thread::sleep(ACCEPT_ERROR_PAUSE),
        }
    }
}

/// One of the `max_connections` places for connections that have not
/// presented the token; given back when dropped.
struct ConnectionSlot(Arc<AtomicUsize>);

impl ConnectionSlot {
    fn take(waiting: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(Arc::clone(waiting)))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What waiting for one request line gave.
#[derive(Debug, PartialEq, Eq)]
enum LineRead {
    /// A whole line, with its newline (without one when the client closed
    /// its side right after it).
    Line(Vec<u8>),
    /// The client closed the connection between requests.
    Closed,
    /// More than the limit without a newline.
    TooLong,
    /// The line did not arrive in full before the deadline.
    TimedOut,
    /// Reading failed.
    Failed,
}

/// Reads request lines from a connection, each by a deadline or without.
struct LineReader {
    stream: UnixStream,
    /// Bytes read but not yet returned: the start of the next line.
    pending: Vec<u8>,
    limit: usize,
}

impl LineReader {
    fn new(stream: UnixStream, limit: usize) -> Self {
        Self {
            stream,
            pending: Vec::new(),
            limit,
        }
    }

    /// The next line, if it arrives whole by `deadline` (when there is
    /// one). The deadline is for the whole line, so a client sending a byte
    /// now and then cannot hold the connection open, as it could with a
    /// timeout for each read.
    fn read_line(&mut self, deadline: Option<Instant>) -> LineRead {
        let mut chunk = [0u8; 8192];
        loop {
            let window = &self.pending[..self.pending.len().min(self.limit)];
            if let Some(end) = window.iter().position(|&b| b == b'\n') {
                let rest = self.pending.split_off(end + 1);
                return LineRead::Line(std::mem::replace(&mut self.pending, rest));
            }
            if self.pending.len() >= self.limit {
                return LineRead::TooLong;
            }
            let timeout = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return LineRead::TimedOut;
                    }
                    Some(left)
                }
                None => None,
            };
            if self.stream.set_read_timeout(timeout).is_err() {
                return LineRead::Failed;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) if self.pending.is_empty() => return LineRead::Closed,
                Ok(0) => return LineRead::Line(std::mem::take(&mut self.pending)),
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return LineRead::TimedOut
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return LineRead::Failed,
            }
        }
    }
}

/// What to do with one line a client sent.
#[derive(Debug, PartialEq, Eq)]
enum Decoded {
    /// A request with the run's token: the app loop answers it.
    Request { agent: String, call: BridgeCall },
    /// Not a request at all: answer this error.
    Malformed(String),
    /// A request with another token: answer [`WRONG_TOKEN`] and close.
    WrongToken,
}

/// Decodes one request line and checks its token: the only part of the
/// protocol a client without the token can reach.
fn decode(line: &[u8], token: &str) -> Decoded {
    match serde_json::from_slice::<BridgeRequest>(line) {
        Err(err) => Decoded::Malformed(format!(
            "malformed bridge request: {err}; send one JSON request per line"
        )),
        Ok(request) if !same_token(&request.token, token) => Decoded::WrongToken,
        Ok(request) => Decoded::Request {
            agent: request.agent,
            call: request.call,
        },
    }
}

/// Compares a presented token with the run's in time that does not depend
/// on where they differ, so timing the answers cannot reveal the token.
fn same_token(given: &str, token: &str) -> bool {
    let (given, token) = (given.as_bytes(), token.as_bytes());
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// Answers the requests of one connection; when the connection was an
/// agent's presence, reports its end.
fn serve(stream: UnixStream, slot: ConnectionSlot, server: &Server) {
    let connection = ConnectionId::next();
    if let Some(agent) = serve_requests(stream, slot, connection, server) {
        (server.notify)(ListenerEvent::PresenceEnded { agent, connection });
    }
}

/// Answers the requests of one connection, one line each, until it closes;
/// returns the agent whose `Hello` it carried, if any. Until a request
/// presents the token the connection holds `slot` and each line must arrive
/// by the deadline; anything else closes it. After that it is trusted: it
/// may idle, and a malformed line only gets an error.
fn serve_requests(
    stream: UnixStream,
    slot: ConnectionSlot,
    connection: ConnectionId,
    server: &Server,
) -> Option<String> {
    let Ok(mut writer) = stream.try_clone() else {
        return None;
    };
    if writer
        .set_write_timeout(Some(server.limits.write_timeout))
        .is_err()
    {
        return None;
    }
    let mut reader = LineReader::new(stream, MAX_REQUEST_LINE_BYTES);
    let mut slot = Some(slot);
    let mut presence = None;
    loop {
        let deadline = slot
            .is_some()
            .then(|| Instant::now() + server.limits.request_timeout);
        let line = match reader.read_line(deadline) {
            LineRead::Line(line) => line,
            LineRead::Closed | LineRead::Failed => return presence,
            LineRead::TooLong => {
                answer(
                    &mut writer,
                    &BridgeReply::error(format!(
                        "the request is over {MAX_REQUEST_LINE_BYTES} bytes; send a shorter \
                         message"
                    )),
                );
                return presence;
            }
            LineRead::TimedOut => {
                answer(
                    &mut writer,
                    &BridgeReply::error(format!(
                        "refused: no complete request line within {} s; send the whole request \
                         at once",
                        server.limits.request_timeout.as_secs_f32()
                    )),
                );
                return presence;
            }
        };
        let (agent, call) = match decode(&line, &server.token) {
            Decoded::Request { agent, call } => (agent, call),
            Decoded::Malformed(why) => {
                answer(&mut writer, &BridgeReply::error(why));
                if slot.is_some() {
                    return presence;
                }
                continue;
            }
            Decoded::WrongToken => {
                answer(&mut writer, &BridgeReply::error(WRONG_TOKEN));
                return presence;
            }
        };
        // The token was right: the connection no longer counts against the
        // cap, and may wait as long as it likes for its next line.
        slot = None;
        let hello = call == BridgeCall::Hello;
        let (reply, rx) = ReplyHandle::channel();
        (server.notify)(ListenerEvent::Request(BridgeEvent {
            agent: agent.clone(),
            call,
            reply,
            connection,
        }));
        let reply = rx.recv_timeout(ANSWER_TIMEOUT).unwrap_or_else(|_| {
            BridgeReply::error("loop-tui did not answer in time; it may be shutting down")
        });
        if hello && reply.ok {
            presence = Some(agent);
        }
        if !answer(&mut writer, &reply) {
            return presence;
        }
    }
}

fn answer(writer: &mut UnixStream, reply: &BridgeReply) -> bool {
    let Ok(mut line) = serde_json::to_vec(reply) else {
        return false;
    };
    line.push(b'\n');
    writer.write_all(&line).is_ok()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::bridge::client::BridgeClient;

    fn temp_socket(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("loop-tui-listener-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir.join("b.sock")
    }

    fn client(path: &Path, agent: &str) -> BridgeClient {
        BridgeClient {
            socket: path.to_owned(),
            token: "t".into(),
            agent: agent.into(),
        }
    }

    /// A listener on `path` with token `t` whose app loop answers every
    /// request with `ok`, and a channel of the other events.
    fn answering(path: &Path, ok: bool) -> (BridgeListener, mpsc::Receiver<ListenerEvent>) {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let listener = BridgeListener::start(path, "t".into(), move |event| match event {
            ListenerEvent::Request(request) => {
                let answer = format!("hello {} on {:?}", request.agent, request.connection);
                request.reply.send(if ok {
                    BridgeReply::ok(answer)
                } else {
                    BridgeReply::error(answer)
                });
            }
            other => {
                let _ = tx.lock().unwrap().send(other);
            }
        })
        .unwrap();
        (listener, rx)
    }

    fn next_event(rx: &mpsc::Receiver<ListenerEvent>) -> ListenerEvent {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("an event within 10 s")
    }

    #[test]
    fn requests_with_the_token_reach_the_app_and_get_its_answer() {
        let path = temp_socket("ok");
        let (tx, rx) = mpsc::channel::<BridgeEvent>();
        let tx = Mutex::new(tx);
        let _listener = BridgeListener::start(&path, "s3cret".into(), move |event| {
            if let ListenerEvent::Request(request) = event {
                let _ = tx.lock().unwrap().send(request);
            }
        })
        .unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        // The app loop: answer whatever arrives.
        thread::spawn(move || {
            for event in rx {
                event
                    .reply
                    .send(BridgeReply::ok(format!("hello {}", event.agent)));
            }
        });
        let client = BridgeClient {
            socket: path.clone(),
            token: "s3cret".into(),
            agent: "claude".into(),
        };
        assert_eq!(
            client.call(BridgeCall::Status).unwrap(),
            BridgeReply::ok("hello claude")
        );
        let intruder = BridgeClient {
            token: "guess".into(),
            ..client
        };
        let refused = intruder.call(BridgeCall::Status).unwrap();
        assert!(
            !refused.ok && refused.text.contains("wrong token"),
            "{refused:?}"
        );
        assert!(
            refused.text.contains("tell the human"),
            "the refusal says what to do: {refused:?}"
        );
    }

    /// Long enough for any wait that passes, so a loaded machine never
    /// makes these tests fail; they return as soon as the condition holds.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// A listener whose app loop answers every request with `fine`.
    fn fine_listener(name: &str, limits: Limits) -> (BridgeListener, PathBuf) {
        let path = temp_socket(name);
        let listener = BridgeListener::start_with_limits(&path, "t".into(), limits, |event| {
            if let ListenerEvent::Request(request) = event {
                request.reply.send(BridgeReply::ok("fine"));
            }
        })
        .unwrap();
        (listener, path)
    }

    fn request_line(token: &str) -> String {
        let request = serde_json::to_string(&BridgeRequest {
            token: token.into(),
            agent: "a".into(),
            call: BridgeCall::Receive,
        })
        .unwrap();
        format!("{request}\n")
    }

    /// Everything the listener sends on `stream` until it closes it, and
    /// whether it did close it within [`PATIENCE`].
    fn read_until_closed(stream: &mut UnixStream) -> (String, bool) {
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut text = Vec::new();
        // Closing a Unix socket with unread bytes in it resets it: the
        // reader gets what was sent before, then ECONNRESET, not EOF.
        let closed = match stream.read_to_end(&mut text) {
            Ok(_) => true,
            Err(err) => err.kind() == io::ErrorKind::ConnectionReset,
        };
        (String::from_utf8_lossy(&text).into_owned(), closed)
    }

    fn wait_until(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !cond() {
            assert!(Instant::now() < deadline, "{what} did not happen");
            thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_malformed_first_line_gets_an_error_and_the_connection_is_closed() {
        let (listener, path) = fine_listener("bad", Limits::default());
        for bad in [
            "{not json\n".to_owned(),
            // No token at all.
            "{\"agent\":\"a\",\"call\":{\"type\":\"status\"}}\n".to_owned(),
            "\u{0}\u{7f}garbage\n".to_owned(),
        ] {
            let mut stream = UnixStream::connect(&path).unwrap();
            // A good request right behind it is never served.
            stream
                .write_all(format!("{bad}{}", request_line("t")).as_bytes())
                .unwrap();
            let (text, closed) = read_until_closed(&mut stream);
            assert!(closed, "{bad:?}: the connection stayed open");
            assert_eq!(text.lines().count(), 1, "{bad:?}: {text}");
            let reply: BridgeReply = serde_json::from_str(&text).unwrap();
            assert!(
                !reply.ok && reply.text.starts_with("malformed bridge request"),
                "{bad:?}: {reply:?}"
            );
        }
        wait_until("every connection closed", || {
            listener.waiting_connections() == 0
        });
    }

    #[test]
    fn after_the_token_a_malformed_line_gets_an_error_and_the_connection_keeps_serving() {
        let (_listener, path) = fine_listener("bad-later", Limits::default());
        let stream = UnixStream::connect(&path).unwrap();
        let mut writer = stream.try_clone().unwrap();
        writer
            .write_all(format!("{}{{not json\n{}", request_line("t"), request_line("t")).as_bytes())
            .unwrap();
        let mut reader = BufReader::new(stream);
        for expected in ["fine", "malformed bridge request", "fine"] {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(line.contains(expected), "{expected}: {line}");
        }
    }

    #[test]
    fn a_client_that_sends_nothing_or_dribbles_is_cut_off_at_the_deadline() {
        let limits = Limits {
            request_timeout: Duration::from_millis(300),
            ..Limits::default()
        };
        let (listener, path) = fine_listener("slow", limits);
        // Connects and never sends anything.
        let mut silent = UnixStream::connect(&path).unwrap();
        // Sends a valid request a byte at a time, each well within the
        // deadline of a single read, but the whole line not.
        let mut dribbler = UnixStream::connect(&path).unwrap();
        let line = request_line("t");
        let sender = {
            let mut stream = dribbler.try_clone().unwrap();
            thread::spawn(move || {
                for byte in line.as_bytes() {
                    if stream.write_all(&[*byte]).is_err() {
                        return true;
                    }
                    thread::sleep(Duration::from_millis(50));
                }
                false
            })
        };
        for (who, stream) in [("silent", &mut silent), ("dribbler", &mut dribbler)] {
            let (text, closed) = read_until_closed(stream);
            assert!(closed, "the {who} client is still connected");
            assert!(
                text.contains("no complete request line within 0.3 s"),
                "{who}: {text}"
            );
            assert!(!text.contains("fine"), "{who} was served: {text}");
        }
        assert!(
            sender.join().unwrap(),
            "the dribbler could send its whole request"
        );
        wait_until("both connections closed", || {
            listener.waiting_connections() == 0
        });
    }

    #[test]
    fn a_connection_with_the_token_may_idle_past_the_deadline() {
        let limits = Limits {
            request_timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let (listener, path) = fine_listener("idle", limits);
        let stream = UnixStream::connect(&path).unwrap();
        let mut writer = stream.try_clone().unwrap();
        writer.write_all(request_line("t").as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.contains("fine"), "{line}");
        assert_eq!(listener.waiting_connections(), 0, "it left the cap");
        // Five deadlines later it is still served.
        thread::sleep(Duration::from_secs(1));
        writer.write_all(request_line("t").as_bytes()).unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(line.contains("fine"), "{line}");
    }

    #[test]
    fn an_oversized_line_is_refused_without_reading_it_all() {
        let (listener, path) = fine_listener("big", Limits::default());
        let mut stream = UnixStream::connect(&path).unwrap();
        let writer = {
            let mut stream = stream.try_clone().unwrap();
            // Far more than the limit, never a newline: the listener closes
            // the connection, so the writing fails before it is all sent.
            thread::spawn(move || {
                let block = vec![b'x'; 64 * 1024];
                (0..64).all(|_| stream.write_all(&block).is_ok())
            })
        };
        let (text, closed) = read_until_closed(&mut stream);
        assert!(closed);
        assert!(text.contains("the request is over"), "{text}");
        assert!(!writer.join().unwrap(), "4 MiB went into the socket");
        wait_until("the connection closed", || {
            listener.waiting_connections() == 0
        });
    }

    #[test]
    fn connections_beyond_the_cap_are_refused_at_once_and_the_cap_frees_up() {
        let limits = Limits {
            max_connections: 2,
            ..Limits::default()
        };
        let (listener, path) = fine_listener("cap", limits);
        // A presence holds no place: it presented the token.
        let presence = client(&path, "claude").announce().unwrap();
        let idle: Vec<UnixStream> = (0..2)
            .map(|_| UnixStream::connect(&path).unwrap())
            .collect();
        wait_until("two connections served", || {
            listener.waiting_connections() == 2
        });
        let mut third = UnixStream::connect(&path).unwrap();
        let (text, closed) = read_until_closed(&mut third);
        assert!(closed);
        assert!(
            text.contains("serving 2 connections already; try again"),
            "{text}"
        );
        drop(idle);
        wait_until("the idle connections closed", || {
            listener.waiting_connections() == 0
        });
        assert_eq!(
            client(&path, "a").call(BridgeCall::Status).unwrap(),
            BridgeReply::ok("fine")
        );
        drop(presence);
    }

    #[test]
    fn decoding_tells_requests_from_everything_else() {
        assert_eq!(
            decode(request_line("t").as_bytes(), "t"),
            Decoded::Request {
                agent: "a".into(),
                call: BridgeCall::Receive
            }
        );
        assert_eq!(
            decode(request_line("x").as_bytes(), "t"),
            Decoded::WrongToken
        );
        assert_eq!(
            decode(request_line("").as_bytes(), "t"),
            Decoded::WrongToken
        );
        for line in [
            String::new(),
            "null".into(),
            "{\"token\":\"t\",\"agent\":\"a\"}".into(),
            "{\"token\":\"t\",\"agent\":\"a\",\"call\":{\"type\":\"rm\"}}".into(),
        ] {
            assert!(
                matches!(decode(line.as_bytes(), "t"), Decoded::Malformed(ref why) if why.starts_with("malformed bridge request")),
                "{line:?}"
            );
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(same_token("", ""));
        for other in ["abd", "ab", "abcd", "", "ABC"] {
            assert!(!same_token(other, "abc"), "{other}");
        }
    }

    #[test]
    fn a_file_in_the_way_of_the_socket_is_left_alone_and_named() {
        let path = temp_socket("in-the-way");
        fs::write(&path, "not a socket").unwrap();
        let err = BridgeListener::start(&path, "t".into(), |_| {})
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains("is in the way of the run's bridge socket"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "not a socket");
        fs::remove_file(&path).unwrap();
        // A socket left by a crashed run is replaced.
        drop(UnixListener::bind(&path).unwrap());
        let _listener = BridgeListener::start(&path, "t".into(), |_| {}).unwrap();
        assert!(UnixStream::connect(&path).is_ok());
    }

    #[test]
    fn a_presence_that_closes_is_reported_with_its_connection() {
        let path = temp_socket("presence");
        let (_listener, rx) = answering(&path, true);
        let presence = client(&path, "claude").announce().unwrap();
        // The answer names the connection the Hello came on.
        let hello_on = presence
            .greeting()
            .trim_start_matches("hello claude on ")
            .to_owned();
        // An ordinary call on its own connection ends no presence.
        client(&path, "codex").call(BridgeCall::Status).unwrap();
        assert!(
            rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "nothing ended yet"
        );
        drop(presence);
        match next_event(&rx) {
            ListenerEvent::PresenceEnded { agent, connection } => {
                assert_eq!(agent, "claude");
                assert_eq!(format!("{connection:?}"), hello_on);
            }
            other => panic!("expected the presence to end, got {other:?}"),
        }
    }

    #[test]
    fn a_refused_hello_is_no_presence() {
        let path = temp_socket("refused-hello");
        let (_listener, rx) = answering(&path, false);
        let err = client(&path, "nobody").announce().unwrap_err();
        assert!(err.to_string().contains("hello nobody"), "{err}");
        assert!(
            rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "a refused hello ends no presence"
        );
    }

    /// Waits until `path` exists and is a socket.
    fn wait_for_socket(path: &Path) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !fs::symlink_metadata(path).is_ok_and(|m| {
            use std::os::unix::fs::FileTypeExt;
            m.file_type().is_socket()
        }) {
            assert!(
                Instant::now() < deadline,
                "{} never came back",
                path.display()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_deleted_socket_is_listened_on_again_and_open_connections_carry_on() {
        let path = temp_socket("deleted");
        let (_listener, rx) = answering(&path, true);
        let presence = client(&path, "claude").announce().unwrap();
        fs::remove_file(&path).unwrap();
        assert_eq!(
            next_event(&rx),
            ListenerEvent::Socket(SocketChange::Recreated)
        );
        wait_for_socket(&path);
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        let reply = client(&path, "codex").call(BridgeCall::Status).unwrap();
        assert!(
            reply.ok && reply.text.starts_with("hello codex"),
            "{reply:?}"
        );
        // The presence opened before the deletion is still open.
        assert!(
            rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "the presence survived the file"
        );
        drop(presence);
        assert!(matches!(
            next_event(&rx),
            ListenerEvent::PresenceEnded { .. }
        ));
    }

    #[test]
    fn a_socket_replaced_by_another_file_is_lost_until_that_file_goes() {
        let path = temp_socket("replaced");
        let (_listener, rx) = answering(&path, true);
        let other = path.with_file_name("other");
        fs::write(&other, "not a socket").unwrap();
        // Renamed over the socket in one step: the path is never missing.
        fs::rename(&other, &path).unwrap();
        match next_event(&rx) {
            ListenerEvent::Socket(SocketChange::Lost(why)) => {
                assert!(why.contains("replaced"), "{why}");
                assert!(why.contains(&path.display().to_string()), "{why}");
            }
            other => panic!("expected the socket lost, got {other:?}"),
        }
        assert!(client(&path, "codex").call(BridgeCall::Status).is_err());
        fs::remove_file(&path).unwrap();
        assert_eq!(
            next_event(&rx),
            ListenerEvent::Socket(SocketChange::Recreated)
        );
        wait_for_socket(&path);
        assert!(client(&path, "codex").call(BridgeCall::Status).unwrap().ok);
    }

    #[test]
    fn dropping_the_listener_removes_the_socket_for_good() {
        let path = temp_socket("dropped");
        let (listener, rx) = answering(&path, true);
        drop(listener);
        assert!(!path.exists());
        thread::sleep(Duration::from_millis(300));
        assert!(!path.exists(), "a dropped listener re-created its socket");
        assert!(rx.try_recv().is_err(), "{:?}", rx.try_recv());
    }
}
