//! Canned replies of the demo agent.
//!
//! The replies are pure functions of the agent name, the user input and the
//! turn number so that end-to-end tests can predict exactly what appears on
//! screen without any network access or randomness.

/// How many words of the input are echoed back, enough for a test to tell
/// which input a reply belongs to while keeping the reply short.
const ECHO_WORDS: usize = 6;

/// Replies of an agent that writes code; used unless the name says otherwise.
const WORKER_TEMPLATES: [&str; 5] = [
    "I'll start by reading the code around this, then make the smallest change that works.",
    "Done: I updated the handler and added a unit test; `cargo test` passes locally.",
    "Good catch. I moved that logic into a helper and removed the duplicated branch.",
    "I ran clippy and fixed two warnings; ready for another review pass.",
    "I traced the bug to an off-by-one in the loop bound and fixed it with a regression test.",
];

/// Replies of an agent that reviews code, picked when its name asks for it.
const REVIEWER_TEMPLATES: [&str; 5] = [
    "Looks good overall, but consider handling the empty-input case before merging.",
    "I read through the diff: the logic is right, though the function name could be clearer.",
    "Tests cover the happy path; please add one for the error branch as well.",
    "One concern: this allocates on every call. Could we reuse the buffer instead?",
    "LGTM, nice and small. Ship it.",
];

/// Returns the scripted reply of agent `name` to `input`, the `n`-th message
/// (0-based) it received.
pub fn scripted_reply(name: &str, input: &str, n: usize) -> String {
    let templates: &[&str] = if is_reviewer(name) {
        &REVIEWER_TEMPLATES
    } else {
        &WORKER_TEMPLATES
    };
    // Offsetting by a hash of the name keeps two agents of the same flavour
    // from answering in lockstep, which would look odd side by side.
    let offset = usize::try_from(name_hash(name) % templates.len() as u64).unwrap_or(0);
    let template = templates[(n + offset) % templates.len()];
    format!("{name}: got \"{}\". {template}", echo(input))
}

/// How many words of a task the review request quotes: enough to say what
/// the change is about, short enough to read at a glance in the bridge pane.
const SUMMARY_WORDS: usize = 12;

/// The reviewer's findings, one per review in turn: each is one concrete
/// issue and a verdict, which is what a useful review says.
const FINDINGS: [(&str, &str); 3] = [
    (
        "the new code path has no test for empty input; please add one.",
        "approve once that test is in.",
    ),
    (
        "the error message does not say which value was wrong; include it.",
        "approve with that change.",
    ),
    (
        "this allocates a new buffer on every call; reuse the existing one.",
        "fine to merge after that.",
    ),
];

/// What the worker says in its own pane when it takes on a task typed by
/// the human.
pub fn task_reply(peer: &str, task: &str) -> String {
    format!(
        "On it: \"{}\". I made the change and added a test; asking {peer} to review it.",
        summarize(task, ECHO_WORDS)
    )
}

/// The message the worker sends its peer about a task.
pub fn review_request(task: &str) -> String {
    format!(
        "Please review: {}. I changed the code for it and added a unit test; does it handle the edge cases?",
        summarize(task, SUMMARY_WORDS)
    )
}

/// What the reviewer says in its own pane when a message arrives.
pub fn review_reply(id: u64, from: &str) -> String {
    format!("Reviewing #{id} from {from}: I found one issue and am sending my review to {from}.")
}

/// The review the reviewer sends back; `n` is how many reviews it gave
/// before, so consecutive reviews differ but every run is the same.
pub fn review_message(id: u64, n: usize) -> String {
    let (finding, verdict) = FINDINGS[n % FINDINGS.len()];
    format!("Review of #{id}: {finding} Verdict: {verdict}")
}

/// The worker's answer to a message from its peer. It sends nothing back,
/// which is what keeps the demo to one round trip per task.
pub fn thanks(id: u64, from: &str) -> String {
    format!("Thanks — applying the review (#{id} from {from}). Nothing new to tell {from}, so I send no reply.")
}

/// An agent's answer to being told the human rejected its message.
pub fn rejected_reply(id: u64, reason: Option<&str>) -> String {
    match reason {
        Some(reason) => format!(
            "Understood: the human rejected #{id} ({reason}). I won't send it again; I'll rework it as asked."
        ),
        None => format!(
            "Understood: the human rejected #{id}. I won't send it again; tell me what to do instead."
        ),
    }
}

/// An agent's answer to being told the human edited its message.
pub fn edited_reply(id: u64, to: &str) -> String {
    format!("Noted: the human edited #{id} before {to} got it; I'll go by the edited version.")
}

/// Decides the flavour of the agent from its name, so `reviewer` or
/// `critic` panes sound like reviewers without any extra configuration.
pub fn is_reviewer(name: &str) -> bool {
    let lower = name.to_lowercase();
    ["review", "critic", "check"]
        .iter()
        .any(|k| lower.contains(k))
}

/// The first few words of the input, with an ellipsis when some were cut.
fn echo(input: &str) -> String {
    summarize(input, ECHO_WORDS)
}

/// The first `count` words of `input`, with an ellipsis when some were cut.
fn summarize(input: &str, count: usize) -> String {
    let words: Vec<&str> = input.split_whitespace().collect();
    let mut summary = words
        .iter()
        .take(count)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if words.len() > count {
        summary.push('…');
    }
    summary
}

/// FNV-1a, because the standard hasher is not guaranteed to be stable
/// across Rust releases and the replies must be reproducible.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_reply_is_deterministic() {
        for n in 0..10 {
            assert_eq!(
                scripted_reply("worker", "fix the parser", n),
                scripted_reply("worker", "fix the parser", n)
            );
        }
    }

    #[test]
    fn scripted_reply_includes_input_words() {
        let reply = scripted_reply("worker", "please fix the failing parser test", 0);
        assert!(reply.starts_with("worker: got \"please fix the failing parser test\""));
    }

    #[test]
    fn scripted_reply_truncates_long_input() {
        let reply = scripted_reply("a", "one two three four five six seven eight", 0);
        assert!(
            reply.contains("\"one two three four five six…\""),
            "{reply}"
        );
        assert!(!reply.contains("seven"));
    }

    #[test]
    fn scripted_reply_varies_with_n() {
        let replies: Vec<String> = (0..WORKER_TEMPLATES.len())
            .map(|n| scripted_reply("worker", "hello", n))
            .collect();
        for (i, a) in replies.iter().enumerate() {
            for b in &replies[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // The templates cycle, so the script never runs out.
        assert_eq!(
            replies[0],
            scripted_reply("worker", "hello", WORKER_TEMPLATES.len())
        );
    }

    #[test]
    fn scripted_reply_varies_with_name() {
        let worker = scripted_reply("worker", "hello", 0);
        let reviewer = scripted_reply("reviewer", "hello", 0);
        assert_ne!(worker, reviewer);
        assert!(reviewer.starts_with("reviewer: got \"hello\""));
        let body = |reply: &str| reply.split_once(". ").map(|(_, b)| b.to_owned());
        assert!(REVIEWER_TEMPLATES
            .iter()
            .any(|t| Some((*t).to_owned()) == body(&reviewer)));
        assert!(WORKER_TEMPLATES
            .iter()
            .any(|t| Some((*t).to_owned()) == body(&worker)));
    }

    #[test]
    fn review_texts_quote_the_task_and_cycle_findings() {
        assert_eq!(
            review_request("add a --verbose flag"),
            "Please review: add a --verbose flag. I changed the code for it and added a unit test; does it handle the edge cases?"
        );
        assert!(task_reply("reviewer", "add a --verbose flag")
            .starts_with("On it: \"add a --verbose flag\"."));
        let first = review_message(1, 0);
        assert!(
            first.starts_with("Review of #1: the new code path"),
            "{first}"
        );
        assert!(first.contains("Verdict: "), "{first}");
        assert_ne!(review_message(3, 1), review_message(3, 2));
        assert_eq!(review_message(5, 0), review_message(5, FINDINGS.len()));
    }

    #[test]
    fn scripted_reply_handles_empty_input() {
        assert!(scripted_reply("w", "", 3).starts_with("w: got \"\". "));
    }
}
