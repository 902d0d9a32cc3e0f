//! The loop workflow inside `update`: noticing the worker's done signal,
//! asking the reviewer for the final review (gated like any message), and
//! reading the verdict. Agreement is shown to the human, never acted on.

use super::event::Effect;
use super::relay_actions::wall_ms;
use super::state::AppState;
use crate::agents::task::{verdict_of, LoopTask, Verdict};

/// Where the run's task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The agents are at work (or idle, waiting for the human).
    Working,
    /// The worker printed the done signal; the reviewer is asked.
    DoneAwaitingReview,
    /// The reviewer answered the final review.
    Reviewed(Verdict),
}

/// The workflow's state, owned by `AppState`.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub task: LoopTask,
    pub worker: Option<usize>,
    pub reviewer: Option<usize>,
    pub phase: Phase,
    /// The absolute line (history included) of the last done signal seen,
    /// so the same line on screen never counts twice.
    last_done_line: Option<usize>,
}

impl Workflow {
    pub fn new(task: LoopTask, worker: Option<usize>, reviewer: Option<usize>) -> Self {
        Self {
            task,
            worker,
            reviewer,
            phase: Phase::Working,
            last_done_line: None,
        }
    }

    /// A one-line description for the bridge pane's title, if there is news.
    pub fn label(&self) -> Option<&'static str> {
        match self.phase {
            Phase::Working => None,
            Phase::DoneAwaitingReview => Some("done — awaiting review"),
            Phase::Reviewed(Verdict::Approve) => Some("both agree it is done — your call"),
            Phase::Reviewed(Verdict::Changes) => Some("reviewer asks for changes"),
        }
    }
}

impl Default for Workflow {
    fn default() -> Self {
        Self::new(LoopTask::default(), None, None)
    }
}

/// The newest done-signal line on the worker's screen, as an absolute line
/// number, if it is newer than the last one seen.
fn new_done_line(state: &AppState, worker: usize) -> Option<usize> {
    let emulator = state.panes.get(worker)?.screen.lock();
    let top = emulator
        .scrollback_len()
        .saturating_sub(emulator.scroll_offset());
    let text = emulator.text_contents();
    let found = text
        .lines()
        .enumerate()
        .filter(|(_, line)| state.workflow.task.is_done_line(line))
        .map(|(row, _)| top + row)
        .max()?;
    (state.workflow.last_done_line < Some(found)).then_some(found)
}

/// Called when the worker has gone quiet: a new done signal moves the run
/// to "done — awaiting review" and queues the review request for the human.
pub fn on_worker_quiet(state: &mut AppState, pane: usize) -> Vec<Effect> {
    let wf = &state.workflow;
    if wf.worker != Some(pane) || wf.phase == Phase::DoneAwaitingReview {
        return Vec::new();
    }
    let Some(line) = new_done_line(state, pane) else {
        return Vec::new();
    };
    state.workflow.last_done_line = Some(line);
    state.workflow.phase = Phase::DoneAwaitingReview;
    state.needs_redraw = true;
    let worker = state.panes[pane].spec.name.clone();
    let Some(reviewer) = state
        .workflow
        .reviewer
        .and_then(|r| state.panes.get(r))
        .map(|p| p.spec.name.clone())
    else {
        state.notice = Some(format!("{worker} says the task is done"));
        return Vec::new();
    };
    let request = state.workflow.task.review_request(&worker);
    let records = state.relay.system_request(&reviewer, request, wall_ms());
    super::relay_actions::select_newest_pending(state);
    state.notice = Some(format!(
        "{worker} says the task is done: approve the review request to {reviewer} in the bridge"
    ));
    vec![Effect::Journal(records)]
}

/// Called for every accepted agent message: the reviewer's answer to the
/// final review carries its verdict.
pub fn on_message(state: &mut AppState, from: &str, to: &str, text: &str) {
    let wf = &state.workflow;
    let name = |i: Option<usize>| {
        i.and_then(|i| state.panes.get(i))
            .map(|p| p.spec.name.as_str())
    };
    if wf.phase != Phase::DoneAwaitingReview
        || name(wf.reviewer) != Some(from)
        || name(wf.worker) != Some(to)
    {
        return;
    }
    if let Some(verdict) = verdict_of(text) {
        state.workflow.phase = Phase::Reviewed(verdict);
        state.notice = Some(match verdict {
            Verdict::Approve => {
                format!("{from} approves: both agents say the task is done — your call")
            }
            Verdict::Changes => format!("{from} asks for changes before the task is done"),
        });
        state.needs_redraw = true;
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::app::event::AppEvent;
    use crate::app::state::PaneSpec;
    use crate::app::update::update;
    use crate::bridge::relay::{MessageState, LOOP_TUI};
    use crate::pane::pty::{PaneProgram, PtyEvent};

    fn state() -> AppState {
        let specs = ["claude", "codex"]
            .map(|n| PaneSpec::new(n, PaneProgram::Shell("true".into())))
            .into();
        let mut s = AppState::new(specs, (200, 50), 100);
        s.workflow = Workflow::new(
            LoopTask {
                proof: Some("cargo test passes".into()),
                ..LoopTask::default()
            },
            Some(0),
            Some(1),
        );
        s
    }

    /// The worker prints `text`, then is quiet long enough to be waiting.
    fn worker_prints(s: &mut AppState, text: &str, now: Instant) -> Vec<Effect> {
        s.panes[0].screen.feed(text.as_bytes());
        update(
            s,
            AppEvent::Pty(PtyEvent::Output {
                pane: 0,
                generation: 0,
            }),
            now,
        );
        update(s, AppEvent::Timer, now + Duration::from_secs(3))
    }

    #[test]
    fn the_done_signal_asks_the_reviewer_through_the_gate_once() {
        let mut s = state();
        let now = Instant::now();
        worker_prints(&mut s, "● Working on it\r\n", now);
        assert_eq!(s.workflow.phase, Phase::Working);
        let fx = worker_prints(
            &mut s,
            "● All steps pass.\r\n● <promise>DONE</promise>\r\n",
            now,
        );
        assert_eq!(s.workflow.phase, Phase::DoneAwaitingReview);
        assert!(matches!(fx[..], [Effect::Journal(_)]), "{fx:?}");
        let request = s.relay.messages().last().unwrap().clone();
        assert_eq!(
            (request.from.as_str(), request.to.as_str()),
            (LOOP_TUI, "codex")
        );
        assert_eq!(
            request.state,
            MessageState::Pending,
            "gated like any message"
        );
        assert!(
            request.text.contains("claude says the task is done"),
            "{}",
            request.text
        );
        assert!(
            request.text.contains("cargo test passes"),
            "{}",
            request.text
        );
        assert_eq!(s.bridge.selected, Some(request.id));
        assert_eq!(s.workflow.label(), Some("done — awaiting review"));

        // The same line still on screen after another turn does not count again.
        s.workflow.phase = Phase::Working;
        worker_prints(&mut s, "● fixed a typo\r\n", now);
        assert_eq!(s.workflow.phase, Phase::Working);
        assert_eq!(s.relay.pending_count(), 1);
        // A new signal does.
        worker_prints(&mut s, "● <promise>DONE</promise>\r\n", now);
        assert_eq!(s.workflow.phase, Phase::DoneAwaitingReview);
    }

    #[test]
    fn the_reviewers_verdict_is_shown_and_never_acted_on() {
        let mut s = state();
        let now = Instant::now();
        worker_prints(&mut s, "<promise>DONE</promise>\r\n", now);
        s.relay
            .submit("codex", "claude", "VERDICT: APPROVE — all tests pass", 0)
            .unwrap();
        // Only a message accepted through the bridge carries a verdict.
        assert_eq!(s.workflow.phase, Phase::DoneAwaitingReview);
        on_message(
            &mut s,
            "codex",
            "claude",
            "VERDICT: APPROVE — all tests pass",
        );
        assert_eq!(s.workflow.phase, Phase::Reviewed(Verdict::Approve));
        assert_eq!(
            s.workflow.label(),
            Some("both agree it is done — your call")
        );
        assert!(s.notice.as_deref().unwrap().contains("your call"));
        assert_eq!(s.relay.pending_count(), 2, "nothing approved automatically");
    }

    #[test]
    fn the_task_text_on_screen_is_not_the_signal() {
        let mut s = state();
        let task = LoopTask {
            prompt: Some(crate::agents::task::TaskPrompt::Text("Implement X".into())),
            ..LoopTask::default()
        };
        let kickoff = task.kickoff("codex", false).unwrap();
        // Narrow, so the prompt wraps around the quoted signal.
        for width in [20, 25, 30, 40] {
            let mut text = String::new();
            for line in kickoff.lines() {
                for chunk in line.chars().collect::<Vec<_>>().chunks(width) {
                    text.extend(chunk);
                    text.push_str("\r\n");
                }
            }
            worker_prints(&mut s, &text, Instant::now());
        }
        assert_eq!(s.workflow.phase, Phase::Working);
    }
}
