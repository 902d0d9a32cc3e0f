//! Command-line definitions only.

use std::fmt::Write as _;

use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
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
    /// bridge (a letter, then letters, digits, - or _); by default it is
    /// named after the program. The command runs with `$SHELL -c` (or
    /// /bin/sh) in the current directory.
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
    #[arg(long, value_name = "LINES", value_parser = scrollback_lines, allow_negative_numbers = true)]
    pub scrollback: Option<usize>,

    /// The terminal emulator that parses each pane's output.
    #[arg(long, value_enum, default_value_t = EmulatorChoice::Alacritty)]
    pub emulator: EmulatorChoice,

    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// `--scrollback LINES`: a count of lines, so that `-5` is refused as a bad
/// value rather than taken for an unknown option.
fn scrollback_lines(text: &str) -> Result<usize, String> {
    text.trim()
        .parse()
        .map_err(|_| "must be a whole number of lines, 0 or more".to_owned())
}

impl Cli {
    /// Checks what clap cannot: the `--pane` syntax, that a task naming a
    /// FILE.md names a file, and that the texts given are not empty. The
    /// error is one line naming the bad value and what to write instead.
    pub fn check(&self) -> Result<(), String> {
        for line in &self.panes {
            parse_pane(line)?;
        }
        if let Some(task) = &self.task {
            check_task("the task", task)?;
        }
        if let Some(prompt) = &self.prompt {
            check_task("--prompt", prompt)?;
        }
        if let Some(proof) = &self.proof {
            if proof.trim().is_empty() {
                return Err(
                    "--proof is empty: say what proves the task done, e.g. --proof \
                            \"cargo test passes\""
                        .to_owned(),
                );
            }
        }
        if self.done_signal.trim().is_empty() {
            return Err(format!(
                "--done-signal is empty: give the line the worker prints when the task is done \
                 (the default is {})",
                crate::agents::task::DEFAULT_DONE_SIGNAL
            ));
        }
        if self.done_signal.contains(['\n', '\r']) {
            return Err(format!(
                "--done-signal {:?} has a line break: the worker prints the signal alone on one \
                 line, so give one line",
                self.done_signal
            ));
        }
        Ok(())
    }
}

/// A task argument (TASK or `--prompt`): text, or a FILE.md used as the
/// plan. One word ending in `.md` is meant as a file, so it must be one.
fn check_task(what: &str, task: &str) -> Result<(), String> {
    if task.trim().is_empty() {
        return Err(format!(
            "{what} is empty: give the task as text, or a FILE.md to use as the plan"
        ));
    }
    let path = Path::new(task);
    let names_a_file = !task.contains(char::is_whitespace)
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"));
    if names_a_file && !path.is_file() {
        let why = if path.exists() {
            "is not a file"
        } else {
            "does not exist"
        };
        return Err(format!(
            "{what} {task}: {why}; give an existing FILE.md to use as the plan, or the task as \
             text"
        ));
    }
    Ok(())
}

/// `--pane [NAME:]CMD` as (name, command). A plain command is named after
/// its program; text before the first `:` that could only be meant as a
/// name (no spaces, slashes, quotes, …) must be a valid name, and the
/// command after it must not be empty. A command with a `:` of its own
/// (`ssh host:22`, `./x --at 1:2`) is a plain command.
pub fn parse_pane(line: &str) -> Result<(String, String), String> {
    let syntax = "write --pane CMD or --pane NAME:CMD, e.g. --pane 'a:./my-agent'";
    if line.trim().is_empty() {
        return Err(format!("--pane {line:?}: the command is empty; {syntax}"));
    }
    if let Some((name, command)) = line.split_once(':') {
        let name_like = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if name_like {
            if name.is_empty() {
                return Err(format!(
                    "--pane {line:?}: the name before ':' is empty; {syntax}"
                ));
            }
            if !crate::config::valid_agent_name(name) {
                return Err(format!(
                    "--pane {line:?}: {name:?} cannot name an agent: use a letter, then \
                     letters, digits, - or _ (at most 32)"
                ));
            }
            if command.trim().is_empty() {
                return Err(format!(
                    "--pane {line:?}: the command after {name}: is empty; {syntax}"
                ));
            }
            return Ok((name.to_owned(), command.to_owned()));
        }
    }
    let program = line.split_whitespace().next().unwrap_or("pane");
    let base = program.rsplit('/').next().unwrap_or(program);
    let name = if base.is_empty() { "pane" } else { base };
    Ok((name.to_owned(), line.to_owned()))
}

/// A command-line error from clap as one line, like every other error
/// loop-tui reports: clap's message, its tip or the possible values, the
/// usage when an argument is missing, and where the help is. Help and
/// version requests are not errors and are not passed here.
pub fn usage_error_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let mut parts: Vec<String> = Vec::new();
    let mut usage = None;
    for line in rendered.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("Usage:") {
            usage = Some(rest.trim().to_owned());
            continue;
        }
        if line.starts_with("For more information") {
            continue;
        }
        let line = line.strip_prefix("error:").map_or(line, str::trim_start);
        match parts.last_mut() {
            // "[possible values: …]" and the list after "…not provided:"
            // belong to the line before.
            Some(last) if line.starts_with('[') || last.ends_with(':') => {
                last.push(' ');
                last.push_str(line);
            }
            _ => parts.push(line.to_owned()),
        }
    }
    // The usage line starts with the command the error is about, e.g.
    // `loop-tui log <ID>`: its help is the one to read.
    let command = usage.as_deref().map_or_else(
        || "loop-tui".to_owned(),
        |usage| {
            usage
                .split_whitespace()
                .take_while(|word| !word.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ")
        },
    );
    if matches!(
        err.kind(),
        ErrorKind::MissingRequiredArgument | ErrorKind::MissingSubcommand
    ) {
        if let Some(usage) = usage {
            parts.push(format!("usage: {usage}"));
        }
    }
    parts.push(format!("see `{command} --help`"));
    parts.join("; ")
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let mut argv = vec!["loop-tui"];
        argv.extend_from_slice(args);
        Cli::command()
            .try_get_matches_from(argv)
            .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches))
    }

    fn usage_error(args: &[&str]) -> String {
        usage_error_line(&parse(args).expect_err("a usage error"))
    }

    #[test]
    fn pane_names_and_commands() {
        let ok = |line: &str| parse_pane(line).unwrap();
        assert_eq!(ok("a:./my-agent"), ("a".into(), "./my-agent".into()));
        assert_eq!(ok("cat"), ("cat".into(), "cat".into()));
        assert_eq!(
            ok("/usr/bin/htop -d 5"),
            ("htop".into(), "/usr/bin/htop -d 5".into())
        );
        assert_eq!(ok("b:x:y"), ("b".into(), "x:y".into()));
        // A colon inside a command is not a name.
        assert_eq!(ok("ssh host:22"), ("ssh".into(), "ssh host:22".into()));
        assert_eq!(ok("./x --at=1:2"), ("x".into(), "./x --at=1:2".into()));
    }

    #[test]
    fn bad_panes_say_what_is_wrong_and_how_to_write_one() {
        for (line, says) in [
            (
                "",
                "--pane \"\": the command is empty; write --pane CMD or --pane NAME:CMD",
            ),
            ("   ", "the command is empty"),
            (
                ":cat",
                "--pane \":cat\": the name before ':' is empty; write --pane CMD",
            ),
            (
                "a:",
                "--pane \"a:\": the command after a: is empty; write --pane CMD",
            ),
            ("a:  ", "the command after a: is empty"),
            (
                "9lives:cat",
                "\"9lives\" cannot name an agent: use a letter, then",
            ),
            (&format!("{}:cat", "n".repeat(33)), "cannot name an agent"),
        ] {
            let err = parse_pane(line).unwrap_err();
            assert!(err.contains(says), "{line:?}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn tasks_naming_a_missing_file_and_empty_texts_are_refused() {
        let check = |args: &[&str]| parse(args).unwrap().check();
        assert!(
            check(&["fix README.md please"]).is_ok(),
            "text mentioning a file"
        );
        assert!(check(&["--prompt", "Cargo.toml"]).is_ok(), "not .md: text");
        let err = check(&["--prompt", "no-such-plan.md"]).unwrap_err();
        assert_eq!(
            err,
            "--prompt no-such-plan.md: does not exist; give an existing FILE.md to use as the \
             plan, or the task as text"
        );
        let dir = std::env::temp_dir().join(format!("loop-tui-cli-{}.md", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = check(&[dir.to_str().unwrap()]).unwrap_err();
        assert!(
            err.starts_with("the task /") && err.contains(": is not a file;"),
            "{err}"
        );
        std::fs::remove_dir(&dir).unwrap();
        for (args, says) in [
            (&["", "--pane", "cat"][..], "the task is empty"),
            (&["--prompt", " "], "--prompt is empty"),
            (&["--proof", ""], "--proof is empty"),
            (&["--done-signal", ""], "--done-signal is empty"),
            (&["--done-signal", "DONE\nREALLY"], "has a line break"),
            (&["--pane", "a:"], "the command after a: is empty"),
        ] {
            let err = check(args).unwrap_err();
            assert!(err.contains(says), "{args:?}: {err}");
        }
    }

    #[test]
    fn usage_errors_are_one_line_with_what_to_do() {
        assert_eq!(
            usage_error(&["--bogus"]),
            "unexpected argument '--bogus' found; tip: to pass '--bogus' as a value, use '-- \
             --bogus'; see `loop-tui --help`"
        );
        assert_eq!(
            usage_error(&["--emulator", "bogus"]),
            "invalid value 'bogus' for '--emulator <EMULATOR>' [possible values: alacritty, \
             vt100]; see `loop-tui --help`"
        );
        assert_eq!(
            usage_error(&["log"]),
            "the following required arguments were not provided: <ID>; usage: loop-tui log \
             <ID>; see `loop-tui log --help`"
        );
        assert_eq!(
            usage_error(&["--scrollback", "-5"]),
            "invalid value '-5' for '--scrollback <LINES>': must be a whole number of lines, 0 \
             or more; see `loop-tui --help`"
        );
        assert_eq!(
            usage_error(&["--agent"]),
            "a value is required for '--agent <NAME>' but none was supplied; see `loop-tui \
             --help`"
        );
    }
}
