//! Recognises what arrives in the demo agent's input: text the human
//! typed, a message loop-tui delivered from the peer, or one of loop-tui's
//! notices about the agent's own messages.
//!
//! loop-tui types deliveries into the agent's input like a human would, so
//! the only way to tell them apart is the `[loop-tui]` header line that
//! `src/app/delivery.rs` and `src/bridge/relay.rs` put in front of them.

/// Every delivery and notice starts with this.
const TAG: &str = "[loop-tui] ";

/// One submitted input, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// Anything not from loop-tui: a task typed by the human, or a message
    /// the human wrote in loop-tui's bridge pane (those carry no header).
    Typed(String),
    /// A message from another agent, approved by the human.
    Message { id: u64, from: String, body: String },
    /// The human rejected this agent's message `id` to `to`.
    Rejected {
        id: u64,
        to: String,
        reason: Option<String>,
    },
    /// The human edited this agent's message `id` to `to` before delivery.
    Edited { id: u64, to: String, text: String },
    /// Another notice from loop-tui, shown as it is.
    Notice(String),
}

/// Classifies the text of one submitted input.
pub fn classify(text: &str) -> Inbound {
    let text = text.trim();
    let Some(rest) = text.strip_prefix(TAG) else {
        return Inbound::Typed(text.to_owned());
    };
    let parsed = if let Some(after) = rest.strip_prefix("message #") {
        parse_message(after)
    } else if let Some(after) = rest.strip_prefix("your message #") {
        parse_outcome(after)
    } else {
        None
    };
    parsed.unwrap_or_else(|| Inbound::Notice(text.to_owned()))
}

/// `N from NAME (answer with ...):\nBODY`. The body normally starts on the
/// next line; when the header and body arrived on one line (a paste whose
/// line breaks were lost), it starts after the header's `):`.
fn parse_message(after: &str) -> Option<Inbound> {
    let (id, after) = leading_number(after)?;
    let after = after.strip_prefix(" from ")?;
    let (header, body) = match after.split_once('\n') {
        Some((header, body)) => (header, body),
        None => after.split_once("):").map_or((after, ""), |(h, b)| (h, b)),
    };
    let from = header
        .split(|c: char| c.is_whitespace() || c == ':' || c == '(')
        .next()
        .filter(|name| !name.is_empty())?;
    Some(Inbound::Message {
        id,
        from: from.to_owned(),
        body: body.trim().to_owned(),
    })
}

/// `N to NAME was rejected by the human[: REASON | .]` or
/// `N to NAME was edited by the human before delivery; NAME received:\nTEXT`.
fn parse_outcome(after: &str) -> Option<Inbound> {
    let (id, after) = leading_number(after)?;
    let after = after.strip_prefix(" to ")?;
    let (to, after) = after.split_once(' ')?;
    let to = to.to_owned();
    if let Some(rest) = after.strip_prefix("was rejected by the human") {
        let reason = rest
            .strip_prefix(':')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        return Some(Inbound::Rejected { id, to, reason });
    }
    if after.starts_with("was edited by the human") {
        let text = after
            .split_once('\n')
            .or_else(|| after.split_once("received:"))
            .map_or("", |(_, text)| text);
        return Some(Inbound::Edited {
            id,
            to,
            text: text.trim().to_owned(),
        });
    }
    None
}

/// The decimal number at the start of `text` and what follows it.
fn leading_number(text: &str) -> Option<(u64, &str)> {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let id = text[..end].parse().ok()?;
    Some((id, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_is_a_task() {
        assert_eq!(
            classify("  add a --verbose flag \n"),
            Inbound::Typed("add a --verbose flag".into())
        );
    }

    #[test]
    fn a_delivered_message_gives_its_number_sender_and_body() {
        let delivered = "[loop-tui] message #12 from worker (answer with send_message to \"worker\" only if you have something new):\nPlease review: x.\nSecond line.";
        assert_eq!(
            classify(delivered),
            Inbound::Message {
                id: 12,
                from: "worker".into(),
                body: "Please review: x.\nSecond line.".into()
            }
        );
        let one_line = "[loop-tui] message #3 from reviewer (answer with send_message to \"reviewer\" only if you have something new): Review of #2: fine.";
        assert_eq!(
            classify(one_line),
            Inbound::Message {
                id: 3,
                from: "reviewer".into(),
                body: "Review of #2: fine.".into()
            }
        );
    }

    #[test]
    fn rejections_with_and_without_a_reason() {
        assert_eq!(
            classify("[loop-tui] your message #1 to reviewer was rejected by the human: not now"),
            Inbound::Rejected {
                id: 1,
                to: "reviewer".into(),
                reason: Some("not now".into())
            }
        );
        assert_eq!(
            classify("[loop-tui] your message #4 to reviewer was rejected by the human."),
            Inbound::Rejected {
                id: 4,
                to: "reviewer".into(),
                reason: None
            }
        );
    }

    #[test]
    fn an_edit_notice_gives_the_text_the_peer_received() {
        assert_eq!(
            classify("[loop-tui] your message #2 to reviewer was edited by the human before delivery; reviewer received:\nOnly the flag."),
            Inbound::Edited {
                id: 2,
                to: "reviewer".into(),
                text: "Only the flag.".into()
            }
        );
    }

    #[test]
    fn other_notices_and_malformed_headers_are_shown_as_they_are() {
        for text in [
            "[loop-tui] the relay is paused",
            "[loop-tui] message #x from y",
            "[loop-tui] your message #1 to reviewer was eaten",
        ] {
            assert_eq!(classify(text), Inbound::Notice(text.into()), "{text}");
        }
    }
}
