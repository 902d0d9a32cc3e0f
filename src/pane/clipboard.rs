//! OSC 52 clipboard writes from a child (`OSC 52 ; c ; base64 ST`).

use super::emulator::ClipboardPolicy;

/// The text of a clipboard write, if the pane collects them and the
/// payload is valid base64 of UTF-8 text.
pub fn accept_write(policy: ClipboardPolicy, base64: &[u8]) -> Option<String> {
    match policy {
        ClipboardPolicy::Ignore => None,
        ClipboardPolicy::Collect => String::from_utf8(decode_base64(base64)?).ok(),
    }
}

/// Standard base64 with optional padding; `None` on any other byte.
fn decode_base64(input: &[u8]) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    };
    let data = input
        .iter()
        .rposition(|&c| c != b'=')
        .map_or(&input[..0], |last| &input[..=last]);
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in data {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // Masked to one byte, so the cast keeps every bit.
            #[allow(clippy::cast_possible_truncation)]
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_padded_and_unpadded_base64() {
        assert_eq!(decode_base64(b"aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64(b"aGVsbG8").as_deref(), Some(&b"hello"[..]));
        assert_eq!(decode_base64(b"").as_deref(), Some(&b""[..]));
        assert_eq!(decode_base64(b"4pyT").as_deref(), Some("✓".as_bytes()));
        assert_eq!(decode_base64(b"a!"), None);
    }

    #[test]
    fn writes_are_ignored_unless_collected() {
        assert_eq!(accept_write(ClipboardPolicy::Ignore, b"aGk="), None);
        assert_eq!(
            accept_write(ClipboardPolicy::Collect, b"aGk=").as_deref(),
            Some("hi")
        );
    }
}
