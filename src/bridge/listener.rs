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

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

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
        // A socket file left by a crashed run would make bind fail; no one
        // listens on it any more if connecting fails.
        if path.exists() && UnixStream::connect(path).is_err() {
            let _ = fs::remove_file(path);
        }
        let keeper = Arc::new(Keeper {
            path: path.to_owned(),
            token: Arc::new(token),
            notify: Arc::new(notify),
            state: Mutex::new(KeeperState::default()),
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
}

/// Keeps the socket file in place and owns the accept thread of the
/// socket listening there now.
struct Keeper {
    path: PathBuf,
    token: Arc<String>,
    notify: Arc<Notify>,
    state: Mutex<KeeperState>,
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
        let listener = UnixListener::bind(path)
            .with_context(|| format!("failed to listen on the bridge socket {}", path.display()))?;
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
        let token = Arc::clone(&self.token);
        let notify = Arc::clone(&self.notify);
        thread::Builder::new()
            .name("bridge-accept".into())
            .spawn(move || accept_loop(&listener, &stopped, &token, &notify))
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

/// Accepts connections until `stop` becomes readable (its other end was
/// dropped), serving each on its own thread.
fn accept_loop(
    listener: &UnixListener,
    stop: &UnixStream,
    token: &Arc<String>,
    notify: &Arc<Notify>,
) {
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
            Ok((stream, _)) => {
                // Accepted sockets must block: `serve` reads line by line.
                if stream.set_nonblocking(false).is_err() {
                    continue;
                }
                let token = Arc::clone(token);
                let notify = Arc::clone(notify);
                let _ = thread::Builder::new()
                    .name("bridge-conn".into())
                    .spawn(move || serve(stream, &token, &*notify));
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

/// Answers the requests of one connection; when the connection was an
/// agent's presence, reports its end.
fn serve(stream: UnixStream, token: &str, notify: &Notify) {
    let connection = ConnectionId::next();
    if let Some(agent) = serve_requests(stream, connection, token, notify) {
        notify(ListenerEvent::PresenceEnded { agent, connection });
    }
}

/// Answers the requests of one connection, one line each, until it closes;
/// returns the agent whose `Hello` it carried, if any.
fn serve_requests(
    stream: UnixStream,
    connection: ConnectionId,
    token: &str,
    notify: &Notify,
) -> Option<String> {
    let Ok(mut writer) = stream.try_clone() else {
        return None;
    };
    let mut reader = BufReader::new(stream);
    let mut presence = None;
    loop {
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_REQUEST_LINE_BYTES).unwrap_or(u64::MAX);
        match reader.by_ref().take(limit).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return presence,
            Ok(_) => {}
        }
        if !line.ends_with(b"\n") && line.len() as u64 >= limit {
            answer(
                &mut writer,
                &BridgeReply::error(format!(
                    "the request is over {MAX_REQUEST_LINE_BYTES} bytes; send a shorter message"
                )),
            );
            return presence;
        }
        let request: BridgeRequest = match serde_json::from_slice(&line) {
            Ok(request) => request,
            Err(err) => {
                answer(
                    &mut writer,
                    &BridgeReply::error(format!("malformed bridge request: {err}")),
                );
                continue;
            }
        };
        if request.token != token {
            answer(&mut writer, &BridgeReply::error(WRONG_TOKEN));
            return presence;
        }
        let hello = request.call == BridgeCall::Hello;
        let agent = request.agent;
        let (reply, rx) = ReplyHandle::channel();
        notify(ListenerEvent::Request(BridgeEvent {
            agent: agent.clone(),
            call: request.call,
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
    use std::os::unix::fs::MetadataExt;
    use std::time::Instant;

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

    #[test]
    fn malformed_lines_get_an_error_and_the_connection_keeps_serving() {
        let path = temp_socket("bad");
        let _listener = BridgeListener::start(&path, "t".into(), |event| {
            if let ListenerEvent::Request(request) = event {
                request.reply.send(BridgeReply::ok("fine"));
            }
        })
        .unwrap();
        let mut stream = UnixStream::connect(&path).unwrap();
        stream.write_all(b"{not json\n").unwrap();
        let good = serde_json::to_string(&BridgeRequest {
            token: "t".into(),
            agent: "a".into(),
            call: BridgeCall::Receive,
        })
        .unwrap();
        stream.write_all(format!("{good}\n").as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert!(first.contains("malformed bridge request"), "{first}");
        let mut second = String::new();
        reader.read_line(&mut second).unwrap();
        assert!(second.contains("fine"), "{second}");
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
