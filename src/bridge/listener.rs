//! The bridge socket inside loop-tui: accepts connections from the
//! `mcp-bridge` processes, checks the run's token and turns each request
//! into an event for the app loop, which decides and answers through the
//! request's [`ReplyHandle`]. This thread never touches the relay state.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use anyhow::{Context, Result};

use super::protocol::{BridgeCall, BridgeReply, BridgeRequest, MAX_REQUEST_LINE_BYTES};

/// How long a connection waits for the app loop's answer before telling
/// the caller loop-tui is busy. The loop answers within a frame normally.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// A request from an agent's bridge process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeEvent {
    /// The caller's agent name, as its environment says.
    pub agent: String,
    pub call: BridgeCall,
    pub reply: ReplyHandle,
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

/// The listening socket; dropping it removes the socket file.
pub struct BridgeListener {
    path: PathBuf,
}

impl Drop for BridgeListener {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl BridgeListener {
    /// Listens on `path` (mode 0600) and calls `notify` for every request
    /// presenting `token`.
    pub fn start(
        path: &Path,
        token: String,
        notify: impl Fn(BridgeEvent) + Send + Sync + 'static,
    ) -> Result<Self> {
        // A socket file left by a crashed run would make bind fail; no one
        // listens on it any more if connecting fails.
        if path.exists() && UnixStream::connect(path).is_err() {
            let _ = fs::remove_file(path);
        }
        let listener = UnixListener::bind(path)
            .with_context(|| format!("failed to listen on the bridge socket {}", path.display()))?;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .with_context(|| format!("failed to make {} private", path.display()))?;
        let notify = Arc::new(notify);
        let token = Arc::new(token);
        thread::Builder::new()
            .name("bridge-accept".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let notify = notify.clone();
                    let token = token.clone();
                    let _ = thread::Builder::new()
                        .name("bridge-conn".into())
                        .spawn(move || serve(stream, &token, &*notify));
                }
            })
            .context("failed to start the bridge thread")?;
        Ok(Self {
            path: path.to_owned(),
        })
    }
}

/// Answers the requests of one connection, one line each.
fn serve(stream: UnixStream, token: &str, notify: &dyn Fn(BridgeEvent)) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_REQUEST_LINE_BYTES).unwrap_or(u64::MAX);
        match reader.by_ref().take(limit).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        if !line.ends_with(b"\n") && line.len() as u64 >= limit {
            answer(
                &mut writer,
                &BridgeReply::error(format!(
                    "the request is over {MAX_REQUEST_LINE_BYTES} bytes; send a shorter message"
                )),
            );
            return;
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
            answer(
                &mut writer,
                &BridgeReply::error("refused: wrong token for this loop-tui run"),
            );
            return;
        }
        let (reply, rx) = ReplyHandle::channel();
        notify(BridgeEvent {
            agent: request.agent,
            call: request.call,
            reply,
        });
        let reply = rx.recv_timeout(ANSWER_TIMEOUT).unwrap_or_else(|_| {
            BridgeReply::error("loop-tui did not answer in time; it may be shutting down")
        });
        if !answer(&mut writer, &reply) {
            return;
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

    use super::*;
    use crate::bridge::client::BridgeClient;

    fn temp_socket(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("loop-tui-listener-{}-{name}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir.join("b.sock")
    }

    #[test]
    fn requests_with_the_token_reach_the_app_and_get_its_answer() {
        let path = temp_socket("ok");
        let (tx, rx) = mpsc::channel::<BridgeEvent>();
        let tx = std::sync::Mutex::new(tx);
        let _listener = BridgeListener::start(&path, "s3cret".into(), move |event| {
            let _ = tx.lock().unwrap().send(event);
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
    }

    #[test]
    fn malformed_lines_get_an_error_and_the_connection_keeps_serving() {
        let path = temp_socket("bad");
        let _listener = BridgeListener::start(&path, "t".into(), |event| {
            event.reply.send(BridgeReply::ok("fine"));
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
}
