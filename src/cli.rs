//! Command-line definitions only.

use std::fmt::Write as _;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::keymap::Keymap;
use crate::pane::emulator::EmulatorKind;
use crate::runs::log::LogFormat;

/// Builds the "default keys" section of `--help` from the key table, so the
/// help text can never disagree with the bindings.
fn keys_help() -> String {
    let mut text = String::from(
        "Keys (the defaults; [keys] in the config file changes them): press the prefix Ctrl-] then \
         one of these; every other key goes to the focused pane.\n",
    );
    for (key, what) in Keymap::default().help_rows() {
        let _ = writeln!(text, "  {key:<12} {what}");
    }
    text.push_str(
        "\nBridge pane (focused with the prefix then b): j/k select, Enter/a approve, e edit (Ctrl-S \
         or Alt-Enter approves the edit), x reject, m write to an agent, A auto-approve, D \
         auto-approve the selected direction, space pause/resume the relay.\n\
         \nMouse: clicking a pane focuses it; the wheel scrolls a pane's history unless its program \
         asked for the mouse.\n\nExamples:\n  loop-tui                      # claude (worker) and codex (reviewer)\n  \
         loop-tui demo                 # two built-in demo agents, no API keys\n  \
         loop-tui --agent codex        # codex works, claude reviews\n  \
         loop-tui runs                 # the runs, newest first; resume one with --run-id ID\n  \
         loop-tui --pane 'a:./my-agent' --pane 'b:./other-agent'",
    );
    text
}

/// loop-tui: run terminal coding agents side by side in one full-screen
/// terminal, each in its own PTY.
#[derive(Debug, Parser)]
#[command(name = "loop-tui", version, about, after_help = keys_help())]
pub struct Cli {
    /// Run this shell command line in its own pane instead of the built-in
    /// agents (repeatable; panes are placed side by side when each gets at
    /// least 80 columns, else stacked). `NAME:CMD` names the agent for the
    /// bridge; by default it is named after the program. The command runs
    /// with `$SHELL -c` (or /bin/sh) in the current directory.
    #[arg(long = "pane", value_name = "[NAME:]CMD")]
    pub panes: Vec<String>,

    /// The agent that does the work (left pane, focused at start): an entry
    /// of [agents] in the config file (built in: claude, codex, gemini);
    /// default: `worker` of the config file, claude.
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,

    /// The agent that reviews (right pane); default: `reviewer` of the
    /// config file (codex), or the config's worker when --agent picks that.
    #[arg(long, value_name = "NAME")]
    pub reviewer: Option<String>,

    /// Read this config file instead of ./.loop-tui.toml (it is layered
    /// over ~/.config/loop-tui/config.toml like the file it replaces).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Resume the run with this id: its agents come back from the run's
    /// manifest (resuming their CLI sessions where the CLI can) in the run's
    /// directory, and its journal is replayed (pending messages are pending
    /// again). `loop-tui runs` lists the ids.
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// The task for the pair, as text (the worker writes PLAN.md first and
    /// has the reviewer review it) or as a FILE.md that is the plan.
    #[arg(value_name = "TASK")]
    pub task: Option<String>,

    /// The same as TASK: the task's text, or a FILE.md used as the plan.
    #[arg(long, value_name = "TEXT|FILE.md", conflicts_with = "task")]
    pub prompt: Option<String>,

    /// What proves the task done (e.g. "cargo test passes"); both agents'
    /// role prompts and the final review include it.
    #[arg(long, value_name = "TEXT")]
    pub proof: Option<String>,

    /// The line the worker prints when the task is done; loop-tui then asks
    /// the reviewer for the final review (through the bridge, gated).
    #[arg(long, value_name = "TEXT", default_value = crate::agents::task::DEFAULT_DONE_SIGNAL)]
    pub done_signal: String,

    /// Run inside a fresh git worktree and branch named after the run,
    /// created next to the repository.
    #[arg(long)]
    pub worktree: bool,

    /// Lines of history kept per pane for scroll mode; default:
    /// `scrollback_lines` in [ui] of the config file (10000).
    #[arg(long, value_name = "LINES")]
    pub scrollback: Option<usize>,

    /// The terminal emulator that parses each pane's output.
    #[arg(long, value_enum, default_value_t = EmulatorChoice::Alacritty)]
    pub emulator: EmulatorChoice,

    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Start two built-in demo agents side by side (no API keys, nothing to install).
    Demo,
    /// Run one built-in demo agent in this terminal (used by `demo`).
    #[command(hide = true)]
    DemoAgent {
        /// The agent's name, shown in its banner.
        #[arg(long, default_value = "demo")]
        name: String,
        /// The agent it talks to through the bridge.
        #[arg(long)]
        peer: Option<String>,
    },
    /// Print the default config file, or check the config files.
    Config(ConfigArgs),
    /// List the runs, newest first: id, repository, state, start, agents,
    /// messages and how many wait for the human.
    Runs,
    /// Print a run's timeline: starts and resumes, every message, every
    /// decision (approved, edited, rejected, delivered), relay and state
    /// changes.
    Log {
        /// The run's id (`loop-tui runs` lists them).
        id: String,
        /// `text` (readable, local times), `jsonl` (the journal's records) or
        /// `markdown` (a document to paste into a pull request).
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        format: LogFormat,
    },
    /// Serve the bridge's MCP tools on stdin and stdout (started by each
    /// agent's CLI, with the bridge settings loop-tui put in its environment).
    #[command(hide = true)]
    McpBridge,
}

/// `loop-tui config`: one of its two jobs.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ConfigArgs {
    /// Print the built-in default config file, commented; copy it to
    /// ~/.config/loop-tui/config.toml or ./.loop-tui.toml and keep the keys
    /// you change.
    #[arg(long)]
    pub default: bool,
    /// Read every config file as a run would, say which were read, and
    /// print "ok" or the first error (with the file, line and column).
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmulatorChoice {
    /// `alacritty_terminal` (default: about twice as fast with history kept).
    Alacritty,
    /// The vt100 crate.
    Vt100,
}

impl From<EmulatorChoice> for EmulatorKind {
    fn from(choice: EmulatorChoice) -> Self {
        match choice {
            EmulatorChoice::Alacritty => Self::Alacritty,
            EmulatorChoice::Vt100 => Self::Vt100,
        }
    }
}
