//! Wire bytes made terminal-safe.

/// Escapes bytes from the wire for display: printable ASCII and valid UTF-8 printable
/// characters stay, control characters, ESC, DEL and invalid UTF-8 become `\xNN`, and
/// `\r`, `\n`, `\t` become `\r`, `\n`, `\t`. A backslash becomes `\\`.
pub fn escape_bytes(bytes: &[u8], out: &mut String) {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            escape_char(c, out);
        }
        for b in chunk.invalid() {
            push_hex(*b, out);
        }
    }
}

/// Escapes a string that came from the wire (see [`escape_bytes`]).
pub fn escape_str(s: &str) -> String {
    // Printable ASCII other than the backslash stays as it is.
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        escape_char(c, &mut out);
    }
    out
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => push_hex(c as u8, out),
        // C1 controls and the bidi overrides could also move the cursor or reorder text.
        c if ('\u{80}'..='\u{9f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c) =>
        {
            out.push_str(&format!("\\u{{{:x}}}", c as u32))
        }
        c => out.push(c),
    }
}

fn push_hex(b: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\x");
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_become_visible() {
        let mut s = String::new();
        escape_bytes(b"GET /\x1b[31mred\x07\x00\r\n\xff", &mut s);
        assert_eq!(s, "GET /\\x1b[31mred\\x07\\x00\\r\\n\\xff");
        assert!(s.bytes().all(|b| b >= 0x20));
    }

    #[test]
    fn printable_ascii_stays_backslash_doubles() {
        assert_eq!(escape_str("GET /a?b=c d~"), "GET /a?b=c d~");
        assert_eq!(escape_str("a\\b"), "a\\\\b");
        assert_eq!(escape_str("a\x7fb"), "a\\x7fb");
        assert_eq!(escape_str(""), "");
    }

    #[test]
    fn unicode_kept_c1_escaped() {
        assert_eq!(escape_str("café\u{9b}"), "café\\u{9b}");
    }
}
