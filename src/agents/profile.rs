//! Launch profiles: what to run for each kind of agent, how to register
//! loop-tui's MCP bridge with it, how to hand it its role prompt and which
//! input quirks apply. Profiles are data; an `[agents.NAME]` entry of the
//! config file (src/config) overrides their program, args and env.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;

use super::role::{role_prompt, Role};
use crate::bridge::protocol::{ENV_AGENT, ENV_MAX_MESSAGE, ENV_RUN_ID, ENV_SOCKET, ENV_TOKEN};

/// The MCP server name loop-tui registers; the model sees its tools as
/// `mcp__loop__send_message` (claude, codex) or `mcp_loop_send_message` (gemini).
pub const MCP_SERVER_NAME: &str = "loop";

/// The bridge tools, all pre-approved so no permission prompt interrupts a relay.
pub const BRIDGE_TOOLS: [&str; 3] = ["send_message", "receive_messages", "bridge_status"];

/// The pause between a delivered paste and the Enter that submits it. Codex
/// takes an Enter within ~100 ms of typed text as part of a paste (a
/// newline); after a bracketed paste a short gap is enough in all three
/// CLIs, and it costs the human nothing.
const PASTE_SUBMIT_GAP: Duration = Duration::from_millis(150);

/// Environment variables for a child, in order.
pub type Env = Vec<(String, String)>;

/// Which built-in profile an agent uses.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ProfileKind {
    Claude,
    Codex,
    Gemini,
}

impl ProfileKind {
    pub fn program(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Gemini => "gemini",
        }
    }

    /// How to install the CLI, for the error when it is missing.
    pub fn install_hint(self) -> &'static str {
        match self {
            Self::Claude => "npm install -g @anthropic-ai/claude-code",
            Self::Codex => "npm install -g @openai/codex",
            Self::Gemini => "npm install -g @google/gemini-cli",
        }
    }
}

/// How a CLI is told about loop-tui's MCP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpRegistration {
    /// `--mcp-config FILE` plus `--allowedTools` (claude).
    ClaudeMcpConfig,
    /// `-c mcp_servers.NAME.*` settings, with the variables listed (codex).
    CodexConfigFlags,
    /// A settings file named by `GEMINI_CLI_SYSTEM_SETTINGS_PATH` (gemini).
    GeminiSettings,
}

/// How a CLI receives its role prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolePromptVia {
    /// A flag followed by the prompt, e.g. claude's `--append-system-prompt`.
    Flag(String),
    /// A `-c KEY="…"` setting, e.g. codex's `developer_instructions`.
    ConfigSetting(String),
    /// Typed as the agent's first input (no flag exists, e.g. gemini).
    FirstInput,
}

/// How a CLI's own session is named and resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeVia {
    /// loop-tui picks the session id: `--session-id ID` to start,
    /// `--resume ID` to resume (claude).
    SessionIdFlags { start: String, resume: String },
    /// The CLI picks the id; `SUBCOMMAND ID` resumes it (codex `resume`).
    Subcommand(String),
    /// Sessions cannot be resumed from the command line.
    Unsupported,
}

/// A launch profile: everything loop-tui needs to run one kind of agent.
/// Plain data, so a config file can override any field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub kind: ProfileKind,
    /// The program, looked up on PATH.
    pub program: String,
    /// Arguments always passed, before loop-tui's own.
    pub args: Vec<String>,
    pub env: Env,
    pub mcp: McpRegistration,
    pub role_prompt: RolePromptVia,
    pub resume: ResumeVia,
    /// The pause between a delivered paste and the Enter that submits it.
    pub submit_gap: Duration,
    /// Shift-Enter is sent as ESC CR while the CLI has not asked for the
    /// kitty keyboard protocol: claude reads ESC CR as "newline" (the
    /// binding its own `/terminal-setup` installs), and only asks for the
    /// protocol in terminals it recognises by name.
    pub shift_enter_as_esc_cr: bool,
}

impl Profile {
    /// The built-in profile of `kind`.
    pub fn builtin(kind: ProfileKind) -> Self {
        match kind {
            ProfileKind::Claude => Self {
                kind,
                program: "claude".into(),
                args: Vec::new(),
                env: Vec::new(),
                mcp: McpRegistration::ClaudeMcpConfig,
                role_prompt: RolePromptVia::Flag("--append-system-prompt".into()),
                resume: ResumeVia::SessionIdFlags {
                    start: "--session-id".into(),
                    resume: "--resume".into(),
                },
                submit_gap: PASTE_SUBMIT_GAP,
                shift_enter_as_esc_cr: true,
            },
            ProfileKind::Codex => Self {
                kind,
                program: "codex".into(),
                // The normal screen keeps codex's conversation where
                // loop-tui's scrollback can hold it; in the alternate
                // screen no terminal keeps history.
                args: vec!["--no-alt-screen".into()],
                env: Vec::new(),
                mcp: McpRegistration::CodexConfigFlags,
                role_prompt: RolePromptVia::ConfigSetting("developer_instructions".into()),
                resume: ResumeVia::Subcommand("resume".into()),
                submit_gap: PASTE_SUBMIT_GAP,
                shift_enter_as_esc_cr: false,
            },
            ProfileKind::Gemini => Self {
                kind,
                program: "gemini".into(),
                args: Vec::new(),
                env: Vec::new(),
                mcp: McpRegistration::GeminiSettings,
                role_prompt: RolePromptVia::FirstInput,
                resume: ResumeVia::Unsupported,
                submit_gap: PASTE_SUBMIT_GAP,
                shift_enter_as_esc_cr: false,
            },
        }
    }
}

/// What a pane runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// An agent CLI run through its launch profile.
    Profile(Box<Profile>),
    /// Any shell command line, with extra environment variables (a config
    /// file's `env`); it gets the bridge environment besides, nothing more.
    Custom(String, Env),
    /// One of loop-tui's own demo agents.
    Demo,
}

/// One agent of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    /// The name other agents address it by.
    pub name: String,
    pub role: Role,
    /// The name of the agent it pairs with.
    pub peer: String,
    pub launch: Launch,
    /// Appended to the role prompt: the run's proof requirement and done
    /// signal.
    pub task_note: String,
}

impl AgentSpec {
    /// An agent run through the built-in profile of `kind`.
    pub fn with_profile(name: &str, role: Role, peer: &str, kind: ProfileKind) -> Self {
        Self {
            name: name.to_owned(),
            role,
            peer: peer.to_owned(),
            launch: Launch::Profile(Box::new(Profile::builtin(kind))),
            task_note: String::new(),
        }
    }

    /// The gap between a delivered paste and its Enter.
    pub fn submit_gap(&self) -> Duration {
        match &self.launch {
            Launch::Profile(profile) => profile.submit_gap,
            Launch::Custom(..) | Launch::Demo => PASTE_SUBMIT_GAP,
        }
    }

    /// Whether Shift-Enter goes to this agent as ESC CR (see [`Profile`]).
    pub fn shift_enter_as_esc_cr(&self) -> bool {
        matches!(&self.launch, Launch::Profile(p) if p.shift_enter_as_esc_cr)
    }

    /// Whether the role prompt must be typed as the agent's first input
    /// because its CLI has no flag for it.
    pub fn role_prompt_as_first_input(&self) -> bool {
        matches!(&self.launch, Launch::Profile(p) if p.role_prompt == RolePromptVia::FirstInput)
    }

    pub fn role_prompt(&self) -> String {
        role_prompt(&self.name, self.role, &self.peer) + &self.task_note
    }
}

/// Everything a launch needs to know about the running loop-tui.
#[derive(Debug, Clone)]
pub struct BridgeContext {
    /// The loop-tui executable, which serves `mcp-bridge`.
    pub exe: String,
    pub run_dir: PathBuf,
    pub run_id: String,
    pub socket: PathBuf,
    pub token: String,
    pub max_message_bytes: usize,
}

impl BridgeContext {
    /// The variables the agent (and so its MCP bridge process) gets.
    pub fn env_for(&self, agent: &str) -> Vec<(String, String)> {
        vec![
            (ENV_SOCKET.to_owned(), self.socket.display().to_string()),
            (ENV_TOKEN.to_owned(), self.token.clone()),
            (ENV_AGENT.to_owned(), agent.to_owned()),
            (ENV_RUN_ID.to_owned(), self.run_id.clone()),
            (
                ENV_MAX_MESSAGE.to_owned(),
                self.max_message_bytes.to_string(),
            ),
        ]
    }
}

/// The program line of a pane and the extra environment it runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// argv, run directly.
    Exec(Vec<String>),
    /// A shell command line.
    Shell(String),
}

/// Builds the command for `agent`, writing any config file the CLI needs
/// into the run directory.
pub fn launch_command(
    agent: &AgentSpec,
    ctx: &BridgeContext,
) -> Result<(Command, Vec<(String, String)>)> {
    let env = ctx.env_for(&agent.name);
    let command = match &agent.launch {
        Launch::Custom(line, extra) => {
            // As for profiles, the bridge's variables come last.
            let mut env_out = extra.clone();
            env_out.extend(env);
            return Ok((Command::Shell(line.clone()), env_out));
        }
        Launch::Demo => Command::Exec(vec![
            ctx.exe.clone(),
            "demo-agent".into(),
            "--name".into(),
            agent.name.clone(),
            "--peer".into(),
            agent.peer.clone(),
        ]),
        Launch::Profile(profile) => {
            let mut argv = vec![profile.program.clone()];
            argv.extend(profile.args.iter().cloned());
            let mut env_out = profile.env.clone();
            match profile.mcp {
                McpRegistration::ClaudeMcpConfig => argv.extend(claude_mcp_args(agent, ctx, &env)?),
                McpRegistration::CodexConfigFlags => argv.extend(codex_mcp_args(ctx, &env)),
                McpRegistration::GeminiSettings => {
                    env_out.extend(gemini_mcp_env(agent, ctx, &env)?);
                }
            }
            match &profile.role_prompt {
                RolePromptVia::Flag(flag) => {
                    argv.push(flag.clone());
                    argv.push(agent.role_prompt());
                }
                RolePromptVia::ConfigSetting(key) => {
                    argv.push("-c".into());
                    argv.push(format!("{key}={}", toml_string(&agent.role_prompt())));
                }
                RolePromptVia::FirstInput => {}
            }
            // The bridge's variables come last so a profile cannot shadow them.
            env_out.extend(env);
            return Ok((Command::Exec(argv), env_out));
        }
    };
    Ok((command, env))
}

fn mcp_env_object(env: &[(String, String)]) -> serde_json::Value {
    env.iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    // The file holds the run's token: only the user may read it.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()).map(|()| f))
        .with_context(|| format!("failed to write {}", path.display()))?;
    file.flush()
        .with_context(|| format!("failed to write {}", path.display()))
}

/// claude: `--mcp-config FILE` registers the server and `--allowedTools`
/// pre-approves its tools.
fn claude_mcp_args(
    agent: &AgentSpec,
    ctx: &BridgeContext,
    env: &[(String, String)],
) -> Result<Vec<String>> {
    let config = ctx.run_dir.join(format!("mcp-{}.json", agent.name));
    let servers = json!({
        "mcpServers": {
            MCP_SERVER_NAME: {
                "type": "stdio",
                "command": ctx.exe,
                "args": ["mcp-bridge"],
                "env": mcp_env_object(env),
            }
        }
    });
    write_private(&config, &servers.to_string())?;
    let allowed: Vec<String> = BRIDGE_TOOLS
        .iter()
        .map(|tool| format!("mcp__{MCP_SERVER_NAME}__{tool}"))
        .collect();
    Ok(vec![
        "--mcp-config".into(),
        config.display().to_string(),
        "--allowedTools".into(),
        allowed.join(","),
    ])
}

/// A TOML basic string; JSON's escaping is a subset TOML accepts.
fn toml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// codex: `-c mcp_servers.loop.*` registers the server; codex hands an MCP
/// server only a small whitelist of variables, so the bridge's are listed
/// in `env_vars`, and its tools are approved up front.
fn codex_mcp_args(ctx: &BridgeContext, env: &[(String, String)]) -> Vec<String> {
    let server = format!("mcp_servers.{MCP_SERVER_NAME}");
    let names: Vec<String> = env.iter().map(|(k, _)| toml_string(k)).collect();
    let mut argv = Vec::new();
    for setting in [
        format!("{server}.command={}", toml_string(&ctx.exe)),
        format!("{server}.args=[\"mcp-bridge\"]"),
        format!("{server}.env_vars=[{}]", names.join(",")),
        format!("{server}.default_tools_approval_mode=\"approve\""),
    ] {
        argv.push("-c".into());
        argv.push(setting);
    }
    argv
}

/// gemini has no flag that adds an MCP server: loop-tui writes a settings
/// file and points `GEMINI_CLI_SYSTEM_SETTINGS_PATH` at it. Gemini hides
/// secret-looking variables from MCP servers, so the bridge's are given
/// explicitly; `trust` skips the tool confirmation.
fn gemini_mcp_env(agent: &AgentSpec, ctx: &BridgeContext, env: &[(String, String)]) -> Result<Env> {
    let settings = ctx
        .run_dir
        .join(format!("gemini-{}-settings.json", agent.name));
    let server = json!({
        "command": ctx.exe,
        "args": ["mcp-bridge"],
        "env": mcp_env_object(env),
        "trust": true,
    });
    let object = json!({ "mcpServers": { MCP_SERVER_NAME: server } });
    write_private(&settings, &object.to_string())?;
    Ok(vec![
        (
            "GEMINI_CLI_SYSTEM_SETTINGS_PATH".into(),
            settings.display().to_string(),
        ),
        // The offline test wrapper merges this into the settings it writes.
        ("GEMINI_EXTRA_SETTINGS_JSON".into(), object.to_string()),
    ])
}

/// Whether `program` is an executable file on PATH.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    fn ctx(dir: &Path) -> BridgeContext {
        BridgeContext {
            exe: "/opt/loop-tui".into(),
            run_dir: dir.to_owned(),
            run_id: "r1".into(),
            socket: dir.join("bridge.sock"),
            token: "tok".into(),
            max_message_bytes: 1000,
        }
    }

    fn agent(kind: ProfileKind, name: &str, peer: &str) -> AgentSpec {
        AgentSpec::with_profile(name, Role::Worker, peer, kind)
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("loop-tui-profile-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn claude_gets_an_mcp_config_preapproved_tools_and_its_role() {
        let dir = temp_dir("claude");
        let (command, env) =
            launch_command(&agent(ProfileKind::Claude, "claude", "codex"), &ctx(&dir)).unwrap();
        let Command::Exec(argv) = command else {
            panic!("{command:?}")
        };
        assert_eq!(argv[0], "claude");
        assert_eq!(argv[1], "--mcp-config");
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&argv[2]).unwrap()).unwrap();
        let server = &config["mcpServers"]["loop"];
        assert_eq!(server["command"], "/opt/loop-tui");
        assert_eq!(server["args"], json!(["mcp-bridge"]));
        assert_eq!(server["env"]["LOOP_TUI_AGENT"], "claude");
        assert_eq!(server["env"]["LOOP_TUI_BRIDGE_TOKEN"], "tok");
        assert_eq!(
            argv[3..5],
            [
                "--allowedTools".to_owned(),
                "mcp__loop__send_message,mcp__loop__receive_messages,mcp__loop__bridge_status"
                    .to_owned()
            ]
        );
        assert_eq!(argv[5], "--append-system-prompt");
        assert!(argv[6].contains("You are claude"));
        assert!(env.contains(&("LOOP_TUI_AGENT".into(), "claude".into())));
        assert_eq!(std::fs::metadata(&argv[2]).unwrap().mode() & 0o777, 0o600);
    }

    #[test]
    fn codex_gets_its_server_its_variables_and_no_alt_screen() {
        let dir = temp_dir("codex");
        let (command, _) =
            launch_command(&agent(ProfileKind::Codex, "codex", "claude"), &ctx(&dir)).unwrap();
        let Command::Exec(argv) = command else {
            panic!("{command:?}")
        };
        assert_eq!(
            argv[..2],
            ["codex".to_owned(), "--no-alt-screen".to_owned()]
        );
        let settings: Vec<&String> = argv.iter().skip(2).filter(|a| *a != "-c").collect();
        assert_eq!(settings[0], "mcp_servers.loop.command=\"/opt/loop-tui\"");
        assert_eq!(settings[1], "mcp_servers.loop.args=[\"mcp-bridge\"]");
        assert!(
            settings[2].contains("\"LOOP_TUI_BRIDGE_TOKEN\"")
                && settings[2].contains("\"LOOP_TUI_AGENT\"")
        );
        assert!(settings[4].starts_with("developer_instructions=\"You are codex"));
        assert!(
            !settings[4].contains('\n'),
            "one TOML line: {}",
            settings[4]
        );
    }

    #[test]
    fn gemini_gets_a_settings_file_with_explicit_secrets() {
        let dir = temp_dir("gemini");
        let spec = agent(ProfileKind::Gemini, "gemini", "claude");
        let (_, env) = launch_command(&spec, &ctx(&dir)).unwrap();
        let path = &env
            .iter()
            .find(|(k, _)| k == "GEMINI_CLI_SYSTEM_SETTINGS_PATH")
            .unwrap()
            .1;
        let settings: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(settings["mcpServers"]["loop"]["trust"], true);
        assert_eq!(
            settings["mcpServers"]["loop"]["env"]["LOOP_TUI_BRIDGE_TOKEN"],
            "tok"
        );
        assert!(spec.role_prompt_as_first_input());
    }

    #[test]
    fn custom_commands_only_get_the_environment() {
        let dir = temp_dir("custom");
        let spec = AgentSpec {
            name: "sh".into(),
            role: Role::Reviewer,
            peer: "x".into(),
            launch: Launch::Custom("echo hi".into(), Vec::new()),
            task_note: String::new(),
        };
        let (command, env) = launch_command(&spec, &ctx(&dir)).unwrap();
        assert_eq!(command, Command::Shell("echo hi".into()));
        assert_eq!(env.len(), 5);
        // A config file's variables come first, so they cannot shadow the
        // bridge's.
        let with_env = AgentSpec {
            launch: Launch::Custom(
                "echo hi".into(),
                vec![
                    ("MY_VAR".into(), "1".into()),
                    ("LOOP_TUI_AGENT".into(), "forged".into()),
                ],
            ),
            ..spec
        };
        let (_, env) = launch_command(&with_env, &ctx(&dir)).unwrap();
        assert_eq!(env[0], ("MY_VAR".to_owned(), "1".to_owned()));
        let last_agent = env
            .iter()
            .rev()
            .find(|(k, _)| k == "LOOP_TUI_AGENT")
            .unwrap();
        assert_eq!(last_agent.1, "sh");
    }
}
