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

/// Decides the flavour of the agent from its name, so `reviewer` or
/// `critic` panes sound like reviewers without any extra configuration.
fn is_reviewer(name: &str) -> bool {
    let lower = name.to_lowercase();
    ["review", "critic", "check"]
        .iter()
        .any(|k| lower.contains(k))
}

/// The first few words of the input, with an ellipsis when some were cut.
fn echo(input: &str) -> String {
    let words: Vec<&str> = input.split_whitespace().collect();
    let mut echoed = words
        .iter()
        .take(ECHO_WORDS)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if words.len() > ECHO_WORDS {
        echoed.push('…');
    }
    echoed
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
    fn scripted_reply_handles_empty_input() {
        assert!(scripted_reply("w", "", 3).starts_with("w: got \"\". "));
    }
}
