//! The loop workflow's words: what the worker is asked first (write the
//! plan, get it reviewed, implement, print the done signal), and what the
//! reviewer is asked when the worker says it is done.

use std::path::PathBuf;

/// What the worker prints, on a line of its own, when the task is done.
pub const DEFAULT_DONE_SIGNAL: &str = "<promise>DONE</promise>";

/// The task given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskPrompt {
    /// A plain-text task: the worker plans first.
    Text(String),
    /// A markdown file that already is the plan.
    PlanFile(PathBuf),
}

/// The run's task and how it is proven done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopTask {
    pub prompt: Option<TaskPrompt>,
    /// What counts as proof that the task is done.
    pub proof: Option<String>,
    pub done_signal: String,
    /// The shared plan, relative to the working directory.
    pub plan_path: String,
}

impl Default for LoopTask {
    fn default() -> Self {
        Self {
            prompt: None,
            proof: None,
            done_signal: DEFAULT_DONE_SIGNAL.to_owned(),
            plan_path: "PLAN.md".to_owned(),
        }
    }
}

impl LoopTask {
    /// `--prompt TEXT|FILE.md`: an existing `.md` file is the plan, anything
    /// else is the task's text.
    pub fn prompt_from_arg(arg: &str) -> TaskPrompt {
        let path = PathBuf::from(arg);
        let is_md = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"));
        if is_md && path.is_file() {
            TaskPrompt::PlanFile(path)
        } else {
            TaskPrompt::Text(arg.to_owned())
        }
    }

    /// The proof requirement and done signal, for both role prompts. The
    /// signal is quoted in backticks so that a wrapped echo of this text can
    /// never show the bare signal on a line of its own.
    pub fn role_addendum(&self, worker: bool) -> String {
        let proof = self
            .proof
            .as_deref()
            .map(|p| format!(" Proof required before the task counts as done: {p}."))
            .unwrap_or_default();
        if worker {
            format!(
                "{proof} When the whole task is done and proven, print the done signal `{}` alone on its own line.",
                self.done_signal
            )
        } else {
            format!(
                "{proof} When asked for the final review, start your message with VERDICT: APPROVE or VERDICT: CHANGES."
            )
        }
    }

    /// The worker's first input, if the run has a task: `plan_exists` says
    /// whether the plan file is already there.
    pub fn kickoff(&self, reviewer: &str, plan_exists: bool) -> Option<String> {
        let plan = &self.plan_path;
        let signal = &self.done_signal;
        let first = match &self.prompt {
            Some(TaskPrompt::Text(text)) => format!(
                "Task from the human: {text}\n\nFirst write the plan to {plan}: the steps as a checklist (`- [ ] step`) and how each will be proven. \
Then ask {reviewer} to review the plan with send_message and wait for the review. After that, implement it step by step, ticking the boxes in {plan}."
            ),
            Some(TaskPrompt::PlanFile(file)) => format!(
                "Task from the human: implement the plan in {}. Keep {plan} as the shared plan (copy the plan there if it is not there yet) and tick its boxes as steps are done; ask {reviewer} to review each finished step with send_message.",
                file.display()
            ),
            None if plan_exists => format!(
                "Continue with the plan in {plan}: take the first unchecked step, and ask {reviewer} to review each finished step with send_message."
            ),
            None => return None,
        };
        let proof = self
            .proof
            .as_deref()
            .map(|p| format!("\n\nProof required: {p}"))
            .unwrap_or_default();
        Some(format!(
            "{first}{proof}\n\nWhen everything is done and proven, print `{signal}` alone on its own line."
        ))
    }

    /// What the reviewer is asked once the worker says it is done.
    pub fn review_request(&self, worker: &str) -> String {
        let proof = self
            .proof
            .as_deref()
            .map(|p| format!(" Check the proof required: {p}."))
            .unwrap_or_default();
        format!(
            "[loop-tui] {worker} says the task is done. Review the work against {} and the task.{proof} \
Answer {worker} with send_message, starting with VERDICT: APPROVE or VERDICT: CHANGES and the reasons.",
            self.plan_path
        )
    }

    /// Whether a screen line is the done signal on its own (agent TUIs put a
    /// bullet or marker before their text, so leading symbols are ignored).
    pub fn is_done_line(&self, line: &str) -> bool {
        let text = line
            .trim()
            .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '<')
            .trim();
        text == self.done_signal
    }
}

/// The reviewer's verdict on a finished task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Changes,
}

/// The verdict a reviewer's message states, if any.
pub fn verdict_of(text: &str) -> Option<Verdict> {
    let upper = text.to_uppercase();
    let at = upper.find("VERDICT:")?;
    let rest = upper[at + "VERDICT:".len()..].trim_start();
    if rest.starts_with("APPROVE") {
        Some(Verdict::Approve)
    } else if rest.starts_with("CHANGES") {
        Some(Verdict::Changes)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(prompt: Option<TaskPrompt>, proof: Option<&str>) -> LoopTask {
        LoopTask {
            prompt,
            proof: proof.map(str::to_owned),
            ..LoopTask::default()
        }
    }

    #[test]
    fn a_text_task_asks_for_the_plan_first_then_review() {
        let t = task(
            Some(TaskPrompt::Text("Implement X".into())),
            Some("cargo test passes"),
        );
        let k = t.kickoff("codex", false).unwrap();
        assert!(
            k.starts_with("Task from the human: Implement X\n\nFirst write the plan to PLAN.md"),
            "{k}"
        );
        assert!(
            k.contains("ask codex to review the plan with send_message"),
            "{k}"
        );
        assert!(k.contains("Proof required: cargo test passes"), "{k}");
        assert!(k.contains("print `<promise>DONE</promise>` alone"), "{k}");
        // However the prompt wraps, the bare signal never stands alone.
        assert!(!k.lines().any(|l| t.is_done_line(l)));
    }

    #[test]
    fn a_plan_file_an_existing_plan_or_nothing() {
        let t = task(Some(TaskPrompt::PlanFile("spec.md".into())), None);
        assert!(t
            .kickoff("codex", false)
            .unwrap()
            .contains("implement the plan in spec.md"));
        let t = task(None, None);
        assert!(t
            .kickoff("codex", true)
            .unwrap()
            .starts_with("Continue with the plan in PLAN.md"));
        assert_eq!(
            t.kickoff("codex", false),
            None,
            "nothing to do: both start idle"
        );
    }

    #[test]
    fn prompt_arguments_that_are_markdown_files_are_plans() {
        let dir = std::env::temp_dir().join(format!("loop-tui-task-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("spec.md");
        std::fs::write(&file, "# plan").unwrap();
        assert_eq!(
            LoopTask::prompt_from_arg(file.to_str().unwrap()),
            TaskPrompt::PlanFile(file.clone())
        );
        assert_eq!(
            LoopTask::prompt_from_arg("missing.md"),
            TaskPrompt::Text("missing.md".into())
        );
        assert_eq!(
            LoopTask::prompt_from_arg("Implement X"),
            TaskPrompt::Text("Implement X".into())
        );
    }

    #[test]
    fn the_done_signal_is_recognised_behind_agent_bullets_only_alone() {
        let t = LoopTask::default();
        for line in [
            "<promise>DONE</promise>",
            "● <promise>DONE</promise>",
            "  ⏺ <promise>DONE</promise>  ",
            "✦ <promise>DONE</promise>",
        ] {
            assert!(t.is_done_line(line), "{line:?}");
        }
        for line in [
            "print `<promise>DONE</promise>` alone",
            "<promise>DONE</promise> soon",
            "DONE",
        ] {
            assert!(!t.is_done_line(line), "{line:?}");
        }
    }

    #[test]
    fn verdicts_are_read_from_the_reviewers_message() {
        assert_eq!(
            verdict_of("VERDICT: APPROVE — tests pass"),
            Some(Verdict::Approve)
        );
        assert_eq!(
            verdict_of("Review done.\nverdict: changes: add a test"),
            Some(Verdict::Changes)
        );
        assert_eq!(verdict_of("looks good"), None);
    }
}
