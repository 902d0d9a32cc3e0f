//! The demo agent's side of loop-tui's bridge: `send_message` calls made on
//! background threads, so a slow or missing loop-tui never freezes the
//! agent's screen, with their results collected by the event loop.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use crate::bridge::client::BridgeClient;
use crate::bridge::protocol::{BridgeCall, ENV_RUN_ID};

/// One `send_message` call the agent decided to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Matches the result to the transcript line that shows the call.
    pub call: u64,
    pub target: String,
    pub message: String,
}

/// How a call ended: the bridge's answer text, or why it failed.
pub type CallResult = Result<String, String>;

/// Makes bridge calls and hands back their results.
pub struct Bridge {
    /// The client, or why there is none (not started by loop-tui).
    client: Result<BridgeClient, String>,
    results_tx: Sender<(u64, CallResult)>,
    results_rx: Receiver<(u64, CallResult)>,
}

impl Bridge {
    /// The bridge loop-tui described in the environment, if any.
    pub fn from_env() -> Self {
        Self::new(BridgeClient::from_env().map_err(|err| err.to_string()))
    }

    /// A bridge using `client`, or failing every call with its error.
    pub fn new(client: Result<BridgeClient, String>) -> Self {
        let (results_tx, results_rx) = mpsc::channel();
        Self {
            client,
            results_tx,
            results_rx,
        }
    }

    /// Tells loop-tui this agent is up and its input ready, as a real
    /// agent's MCP bridge does once initialised, and keeps that presence
    /// open while the agent runs; on its own thread, since it must never
    /// hold up the first frame.
    pub fn hello(&self) {
        if let Ok(client) = self.client.clone() {
            let _ = std::thread::Builder::new()
                .name("bridge-presence".into())
                .spawn(move || {
                    if let Ok(presence) = client.announce() {
                        presence.wait_closed();
                    }
                });
        }
    }

    /// One line for the banner saying whether messages can go anywhere.
    pub fn describe(&self) -> String {
        match &self.client {
            Ok(_) => match std::env::var(ENV_RUN_ID) {
                Ok(run) if !run.is_empty() => format!("bridge: loop-tui run {run}"),
                _ => "bridge: loop-tui".to_owned(),
            },
            Err(_) => "bridge: none (not started by loop-tui)".to_owned(),
        }
    }

    /// Starts `outgoing` on its own thread; its result arrives through
    /// [`Bridge::results`]. A call that cannot even start fails at once.
    pub fn send(&self, outgoing: Outgoing) {
        let client = match &self.client {
            Ok(client) => client.clone(),
            Err(err) => {
                let _ = self.results_tx.send((outgoing.call, Err(err.clone())));
                return;
            }
        };
        let tx = self.results_tx.clone();
        let call = outgoing.call;
        let spawned = thread::Builder::new()
            .name("demo-bridge-call".into())
            .spawn(move || {
                let result = client
                    .call(BridgeCall::Send {
                        target: outgoing.target,
                        message: outgoing.message,
                    })
                    .map_err(|err| err.to_string())
                    .and_then(|reply| {
                        if reply.ok {
                            Ok(reply.text)
                        } else {
                            Err(reply.text)
                        }
                    });
                let _ = tx.send((outgoing.call, result));
            });
        if let Err(err) = spawned {
            let _ = self
                .results_tx
                .send((call, Err(format!("could not start the call: {err}"))));
        }
    }

    /// The results that arrived since the last look, without waiting.
    pub fn results(&self) -> impl Iterator<Item = (u64, CallResult)> + '_ {
        self.results_rx.try_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;
    use std::time::{Duration, Instant};

    fn wait_result(bridge: &Bridge) -> (u64, CallResult) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(result) = bridge.results().next() {
                return result;
            }
            assert!(Instant::now() < deadline, "no result within 10 s");
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn outgoing(call: u64) -> Outgoing {
        Outgoing {
            call,
            target: "reviewer".into(),
            message: "Please review".into(),
        }
    }

    #[test]
    fn without_loop_tui_every_call_fails_with_the_reason() {
        let bridge = Bridge::new(Err("not started by loop-tui".into()));
        bridge.send(outgoing(7));
        assert_eq!(
            wait_result(&bridge),
            (7, Err("not started by loop-tui".into()))
        );
        assert!(bridge.describe().contains("not started by loop-tui"));
    }

    #[test]
    fn a_call_sends_one_request_line_and_returns_the_answer() {
        let dir = std::env::temp_dir().join(format!("loop-tui-demo-bridge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let server = thread::spawn(move || {
            let mut answers = Vec::new();
            for reply in [
                r#"{"ok":true,"text":"queued for human approval as #1. More."}"#,
                r#"{"ok":false,"text":"unknown target"}"#,
            ] {
                let (stream, _) = listener.accept().unwrap();
                let mut line = String::new();
                BufReader::new(&stream).read_line(&mut line).unwrap();
                answers.push(line);
                (&stream)
                    .write_all(format!("{reply}\n").as_bytes())
                    .unwrap();
            }
            answers
        });
        let bridge = Bridge::new(Ok(BridgeClient {
            socket: path.clone(),
            token: "tok".into(),
            agent: "worker".into(),
        }));
        bridge.send(outgoing(1));
        assert_eq!(
            wait_result(&bridge),
            (1, Ok("queued for human approval as #1. More.".into()))
        );
        bridge.send(outgoing(2));
        assert_eq!(wait_result(&bridge), (2, Err("unknown target".into())));
        let requests = server.join().unwrap();
        let request: serde_json::Value = serde_json::from_str(&requests[0]).unwrap();
        assert_eq!(request["token"], "tok");
        assert_eq!(request["agent"], "worker");
        assert_eq!(request["call"]["type"], "send");
        assert_eq!(request["call"]["target"], "reviewer");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
