use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Parser;

use loop_tui::app::run::{run, RunOptions};
use loop_tui::app::state::PaneSpec;
use loop_tui::cli::{Cli, CliCommand};
use loop_tui::pane::pty::PaneProgram;

/// The two demo agents `loop-tui demo` starts, as a worker and a reviewer.
const DEMO_AGENTS: [&str; 2] = ["worker", "reviewer"];

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loop-tui: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    let panes = match cli.command {
        Some(CliCommand::DemoAgent { name }) => return loop_tui::demo::run_demo_agent(&name),
        Some(CliCommand::Demo) => demo_panes()?,
        None => cli
            .panes
            .iter()
            .map(|line| PaneSpec {
                title: line.clone(),
                program: PaneProgram::Shell(line.clone()),
            })
            .collect(),
    };
    if panes.is_empty() {
        bail!(
            "nothing to run: give one or more --pane \"CMD\", or try `loop-tui demo` (see --help)"
        );
    }
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("loop-tui is a full-screen program and needs a terminal on stdin and stdout");
    }
    run(RunOptions {
        panes,
        scrollback_lines: cli.scrollback,
        emulator: cli.emulator.into(),
    })
}

fn demo_panes() -> Result<Vec<PaneSpec>> {
    let exe = std::env::current_exe().context("failed to find the loop-tui executable")?;
    let exe = exe.to_string_lossy().into_owned();
    Ok(DEMO_AGENTS
        .iter()
        .map(|name| PaneSpec {
            title: format!("{name} (demo agent)"),
            program: PaneProgram::Exec(vec![
                exe.clone(),
                "demo-agent".into(),
                "--name".into(),
                (*name).into(),
            ]),
        })
        .collect())
}
