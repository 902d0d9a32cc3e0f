//! The short role prompt each agent gets: who it is, who its peer is, and
//! how to talk to it through the bridge.

use std::fmt;

/// What an agent does in the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Does the work.
    Worker,
    /// Reviews the worker's work and pushes back.
    Reviewer,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Worker => "worker",
            Self::Reviewer => "reviewer",
        })
    }
}

/// The role prompt for `name` with `peer`.
pub fn role_prompt(name: &str, role: Role, peer: &str) -> String {
    let duty = match role {
        Role::Worker => format!(
            "You do the work the human asks for. When a step is done, or when you are unsure, ask {peer} to review it: say what you changed and where, and what you want checked."
        ),
        Role::Reviewer => format!(
            "You review what {peer} does: read the changes it points you to, check them critically, and push back with concrete, actionable findings. Say plainly when you agree."
        ),
    };
    format!(
        "You are {name}, the {role} in a pair-programming loop run by loop-tui. Your peer is {peer}, another AI coding agent running next to you. {duty} \
Talk to {peer} only with the send_message tool (target \"{peer}\"); it does not see your replies otherwise, and never ask the human to relay a message. \
Messages from {peer} arrive in your input starting with \"[loop-tui] message #N from {peer}\"; the human approves, edits or rejects every message, and loop-tui tells you when yours is edited or rejected. \
Do not send acknowledgements or thanks without new information. PLAN.md in the working directory is the shared plan: keep it current."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_names_both_agents_and_the_tool() {
        let p = role_prompt("claude", Role::Worker, "codex");
        assert!(p.starts_with("You are claude, the worker"), "{p}");
        assert!(p.contains("send_message tool (target \"codex\")"), "{p}");
        assert!(p.contains("PLAN.md"));
        let r = role_prompt("codex", Role::Reviewer, "claude");
        assert!(r.contains("You review what claude does"), "{r}");
    }
}
