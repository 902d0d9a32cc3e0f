//! The real agent CLIs run offline (`../shared/agents-offline`): where they
//! are, the scripted model server, and its request log.
//!
//! The CLIs are installed by `.ci/run` (npm); locally, run
//! `../shared/agents-offline/install-agents.sh ~/.cache/loop-tui-agents`
//! first. Outside CI a test is skipped with a message when they are
//! missing; in CI (`CI` set) a missing CLI fails it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Agent TUIs start Node.js or a large native binary: on a loaded 2-core
/// machine their first frame can take many seconds.
pub const AGENT_TIMEOUT: Duration = Duration::from_secs(60);

pub fn agents_offline_dir() -> PathBuf {
    std::env::var_os("LOOP_TUI_AGENTS_OFFLINE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/agents-offline"),
        PathBuf::from,
    )
}

pub fn agents_bin_dir() -> PathBuf {
    std::env::var_os("LOOP_TUI_AGENTS_BIN").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/loop-tui-agents/node_modules/.bin")
        },
        PathBuf::from,
    )
}

/// The agents-offline directory and the CLIs' bin directory, or `None`
/// (skip) outside CI when they are missing.
pub fn agents_available(clis: &[&str]) -> Option<(PathBuf, PathBuf)> {
    let offline = agents_offline_dir();
    let bin = agents_bin_dir();
    let ok = offline.join("fake_llm.py").is_file() && clis.iter().all(|c| bin.join(c).exists());
    if ok {
        return Some((offline, bin));
    }
    let msg = format!(
        "real agent CLIs {clis:?} not found (agents-offline: {}, bin: {}); install them with \
         ../shared/agents-offline/install-agents.sh ~/.cache/loop-tui-agents",
        offline.display(),
        bin.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

/// A directory whose `claude`, `codex` and `gemini` are the offline
/// wrappers, to put first on PATH: loop-tui's launch profiles then start
/// the real CLIs against the fake model, with loop-tui's own flags.
pub fn wrapper_path(offline: &Path, bin: &Path, dir: &Path) -> std::ffi::OsString {
    let links = dir.join("wrappers");
    std::fs::create_dir_all(&links).expect("create the wrapper dir");
    for cli in ["claude", "codex", "gemini"] {
        let link = links.join(cli);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(offline.join(format!("{cli}-offline")), &link)
            .expect("link a wrapper");
    }
    let mut paths = vec![links, bin.to_owned()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).expect("a valid PATH")
}

/// The scripted model server, stopped on drop.
pub struct FakeModel {
    child: Child,
    pub url: String,
    pub log: PathBuf,
}

impl FakeModel {
    pub fn start(offline: &Path, dir: &Path, scenario: &str) -> Self {
        let scenario_path = dir.join("scenario.json");
        std::fs::write(&scenario_path, scenario).expect("write the scenario");
        let log = dir.join("llm.jsonl");
        let mut child = Command::new("python3")
            .arg(offline.join("fake_llm.py"))
            .args(["--port", "0", "--scenario"])
            .arg(&scenario_path)
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fake_llm.py (python3)");
        // fake_llm prints the port it bound as its first line.
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("fake_llm stdout"))
            .read_line(&mut line)
            .expect("read fake_llm's port");
        let port: u16 = line.trim().parse().expect("fake_llm printed a port");
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The `input` texts of the model requests `agent` has made so far.
    pub fn inputs(&self, agent: &str) -> Vec<String> {
        let Ok(text) = std::fs::read_to_string(&self.log) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|v| v["agent"] == agent)
            .filter_map(|v| v["input"].as_str().map(str::to_owned))
            .collect()
    }

    /// The `input` texts of every model request so far, whichever agent.
    pub fn all_inputs(&self) -> Vec<String> {
        let Ok(text) = std::fs::read_to_string(&self.log) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|v| v["input"].as_str().map(str::to_owned))
            .collect()
    }

    /// Waits until any model request's input contains `needle`; returns it.
    pub fn wait_for_any_input(&self, needle: &str) -> String {
        let deadline = Instant::now() + AGENT_TIMEOUT;
        loop {
            if let Some(input) = self.all_inputs().into_iter().find(|i| i.contains(needle)) {
                return input;
            }
            assert!(
                Instant::now() < deadline,
                "no model request contained {needle:?}; inputs: {:?}",
                self.all_inputs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until one of `agent`'s model requests has an input containing
    /// `needle`, and returns that input.
    pub fn wait_for_input(&self, agent: &str, needle: &str) -> String {
        let deadline = Instant::now() + AGENT_TIMEOUT;
        loop {
            if let Some(input) = self.inputs(agent).into_iter().find(|i| i.contains(needle)) {
                return input;
            }
            assert!(
                Instant::now() < deadline,
                "{agent} never sent the model a request containing {needle:?}; its inputs: {:#?}",
                self.inputs(agent)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for FakeModel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
