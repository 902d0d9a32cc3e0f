use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use loop_tui::agents::profile::{on_path, AgentSpec, Launch};
use loop_tui::agents::role::Role;
use loop_tui::agents::task::LoopTask;
use loop_tui::app::run::{run, RunOptions, RunSettings};
use loop_tui::cli::{parse_pane, usage_error_line, Cli, CliCommand, ConfigArgs};
use loop_tui::config::{self, Config, ConfigPaths, Flags, SourceStatus};
use loop_tui::pane::emulator::EmulatorKind;
use loop_tui::runs::resume::{prepare, Given};

/// The two demo agents `loop-tui demo` starts, as a worker and a reviewer.
const DEMO_AGENTS: [&str; 2] = ["worker", "reviewer"];

fn main() -> ExitCode {
    // The matches say which options were given on the command line, which
    // a resumed run needs to know (see `resume`).
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            err.exit()
        }
        Err(err) => {
            eprintln!("loop-tui: error: {}", usage_error_line(&err));
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    match dispatch(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loop-tui: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The run's task from the command line.
fn loop_task(cli: &Cli) -> LoopTask {
    LoopTask {
        prompt: cli
            .prompt
            .as_deref()
            .or(cli.task.as_deref())
            .map(LoopTask::prompt_from_arg),
        proof: cli.proof.clone(),
        done_signal: cli.done_signal.clone(),
        ..LoopTask::default()
    }
}

/// Creates a git worktree and branch named after a new run next to the
/// repository, and moves into it; returns the run id it was named for.
fn enter_worktree() -> Result<String> {
    let git = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .output()
            .context("failed to run git (is it installed?)")?;
        if !out.status.success() {
            bail!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let root = std::path::PathBuf::from(
        git(&["rev-parse", "--show-toplevel"])
            .context("--worktree needs the current directory to be inside a git repository")?,
    );
    let id = loop_tui::run_dir::new_run_id()?;
    let repo = root
        .file_name()
        .map_or_else(|| "repo".to_owned(), |n| n.to_string_lossy().into_owned());
    let path = root.with_file_name(format!("{repo}.loop-tui-{id}"));
    let branch = format!("loop-tui/{id}");
    git(&["worktree", "add", "-b", &branch, &path.to_string_lossy()])?;
    std::env::set_current_dir(&path)
        .with_context(|| format!("failed to enter the worktree {}", path.display()))?;
    eprintln!("loop-tui: working in {} on branch {branch}", path.display());
    Ok(id)
}

/// The layered configuration: built-in defaults, the user's file, the
/// project's (or --config) file, then the command line.
/// `explicit` is the --config file.
fn load_config(cli: &Cli, explicit: Option<PathBuf>) -> Result<(Config, Vec<SourceStatus>)> {
    let paths = ConfigPaths::from_env(explicit)?;
    let loaded = config::load(&paths)?;
    let mut config = loaded.config;
    config.apply_flags(&Flags {
        worker: cli.agent.clone(),
        reviewer: cli.reviewer.clone(),
        scrollback_lines: cli.scrollback,
    })?;
    Ok((config, loaded.sources))
}

/// `loop-tui config --default | --check`.
fn config_command(cli: &Cli, args: &ConfigArgs) -> Result<()> {
    if args.default {
        print!("{}", config::DEFAULT_CONFIG);
        return Ok(());
    }
    let (config, sources) = load_config(cli, cli.config.clone())?;
    config.keymap()?;
    for source in sources {
        match source {
            SourceStatus::Read(name) => println!("read       {name}"),
            SourceStatus::NotFound(name) => println!("not found  {name}"),
        }
    }
    println!("ok");
    Ok(())
}

fn dispatch(cli: Cli, matches: &ArgMatches) -> Result<()> {
    match &cli.command {
        // First: the agent's CLI starts this with pipes, never a terminal,
        // and a broken config file must not take its bridge down.
        Some(CliCommand::McpBridge) => return loop_tui::bridge::mcp_server::run_stdio(),
        Some(CliCommand::DemoAgent { name, peer }) => {
            return loop_tui::demo::run_demo_agent(name, peer.as_deref())
        }
        Some(CliCommand::Config(args)) => return config_command(&cli, args),
        Some(CliCommand::Runs) => return loop_tui::runs::list::print_runs(),
        Some(CliCommand::Log { id, format }) => return loop_tui::runs::log::print_log(id, *format),
        Some(CliCommand::Demo) | None => {}
    }
    cli.check().map_err(anyhow::Error::msg)?;
    if cli.run_id.is_some() && !cli.worktree {
        return resume(&cli, matches);
    }
    let (config, _) = load_config(&cli, cli.config.clone())?;
    let agents = match cli.command {
        Some(CliCommand::Demo) => pair(DEMO_AGENTS.map(|name| (name.to_owned(), Launch::Demo))),
        _ if cli.panes.is_empty() => profile_pair(&config)?,
        _ => custom_agents(&cli.panes)?,
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("loop-tui is a full-screen program and needs a terminal on stdin and stdout");
    }
    let mut task = loop_task(&cli);
    task.plan_path = config.plan.path.display().to_string();
    let mut agents = agents;
    for agent in &mut agents {
        agent.task_note = task.role_addendum(agent.role == Role::Worker);
    }
    let run_id = if cli.worktree {
        if cli.run_id.is_some() {
            bail!("--worktree starts a new run; it cannot be combined with --run-id");
        }
        Some(enter_worktree()?)
    } else {
        cli.run_id
    };
    run(run_options(
        &config,
        agents,
        config.ui.scrollback_lines,
        cli.emulator.into(),
        run_id,
        task,
    )?)
}

/// `--run-id ID`: the run comes back with its own agents, directory and
/// options from its manifest. Options that would choose other agents are
/// refused rather than ignored; `--emulator` and `--scrollback` override.
fn resume(cli: &Cli, matches: &ArgMatches) -> Result<()> {
    let id = cli.run_id.as_deref().unwrap_or_default();
    let given = |arg: &str| matches.value_source(arg) == Some(ValueSource::CommandLine);
    let agent_options = [
        ("agent", "--agent"),
        ("reviewer", "--reviewer"),
        ("panes", "--pane"),
        ("task", "TASK"),
        ("prompt", "--prompt"),
        ("proof", "--proof"),
        ("done_signal", "--done-signal"),
    ]
    .into_iter()
    .filter(|(arg, _)| given(arg))
    .map(|(_, flag)| flag.to_owned())
    .collect();
    // A relative --config names a file from here, before `prepare` moves
    // into the run's directory (whose .loop-tui.toml is the project file).
    let explicit = cli
        .config
        .as_deref()
        .map(std::path::absolute)
        .transpose()
        .context("failed to find the --config file")?;
    let setup = prepare(
        id,
        &Given {
            emulator: given("emulator").then(|| cli.emulator.into()),
            scrollback: cli.scrollback,
            agent_options,
            demo: matches!(cli.command, Some(CliCommand::Demo)),
        },
    )?;
    // The run keeps its agents; keys, colours and the relay policy come
    // from the config files as they are now.
    let (config, _) = load_config(cli, explicit)?;
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("loop-tui is a full-screen program and needs a terminal on stdin and stdout");
    }
    run(run_options(
        &config,
        setup.agents,
        setup.scrollback,
        setup.emulator,
        Some(id.to_owned()),
        setup.task,
    )?)
}

/// The options of a run: what it runs, and the config file's settings.
fn run_options(
    config: &Config,
    agents: Vec<AgentSpec>,
    scrollback_lines: usize,
    emulator: EmulatorKind,
    run_id: Option<String>,
    task: LoopTask,
) -> Result<RunOptions> {
    Ok(RunOptions {
        agents,
        scrollback_lines,
        emulator,
        run_id,
        task,
        settings: RunSettings {
            keymap: config.keymap()?,
            relay: config.relay_policy(),
            theme: config.ui.theme,
            layout: config.ui.layout,
        },
        plan_path: config.plan.path.clone(),
    })
}

/// A worker and a reviewer that name each other as peers.
fn pair(agents: [(String, Launch); 2]) -> Vec<AgentSpec> {
    let [(worker, worker_launch), (reviewer, reviewer_launch)] = agents;
    vec![
        AgentSpec {
            name: worker.clone(),
            role: Role::Worker,
            peer: reviewer.clone(),
            launch: worker_launch,
            task_note: String::new(),
        },
        AgentSpec {
            name: reviewer,
            role: Role::Reviewer,
            peer: worker,
            launch: reviewer_launch,
            task_note: String::new(),
        },
    ]
}

/// The configured worker and reviewer (or what --agent/--reviewer pick);
/// the programs of their profiles must be on PATH.
fn profile_pair(config: &Config) -> Result<Vec<AgentSpec>> {
    let agents = config.agent_pair()?;
    let missing: Vec<String> = agents
        .iter()
        .filter_map(|agent| match &agent.launch {
            Launch::Profile(profile) if !on_path(&profile.program) => {
                let hint = profile.kind.install_hint();
                Some(if profile.program.contains('/') {
                    format!(
                        "{} (the program of {}) does not exist or cannot be run: fix `command` \
                         of [agents.{}], or remove it to use the one on PATH",
                        profile.program, agent.name, agent.name
                    )
                } else {
                    format!(
                        "{} is not on PATH (install it with: {hint})",
                        profile.program
                    )
                })
            }
            _ => None,
        })
        .collect();
    if !missing.is_empty() {
        // One line, like every other error: the programs, then the ways on.
        bail!(
            "loop-tui pairs {} (worker) with {} (reviewer), but {}; to try loop-tui without any \
             agent or API key, run `loop-tui demo`, or give --pane \"CMD\" to run other programs",
            config.worker,
            config.reviewer,
            missing.join(" and ")
        );
    }
    Ok(agents)
}

/// Agents from `--pane [NAME:]CMD`: the first works, the others review.
fn custom_agents(panes: &[String]) -> Result<Vec<AgentSpec>> {
    let mut names: Vec<String> = Vec::new();
    let mut commands = Vec::new();
    for line in panes {
        let (name, command) = parse_pane(line).map_err(anyhow::Error::msg)?;
        let mut unique = name.clone();
        let mut n = 2;
        while names.contains(&unique) {
            unique = format!("{name}-{n}");
            n += 1;
        }
        names.push(unique);
        commands.push(command);
    }
    Ok(names
        .iter()
        .zip(commands)
        .enumerate()
        .map(|(i, (name, command))| {
            let peer = if i == 0 { names.get(1) } else { names.first() };
            AgentSpec {
                name: name.clone(),
                role: if i == 0 { Role::Worker } else { Role::Reviewer },
                peer: peer.cloned().unwrap_or_else(|| name.clone()),
                launch: Launch::Custom(command, Vec::new()),
                task_note: String::new(),
            }
        })
        .collect())
}
