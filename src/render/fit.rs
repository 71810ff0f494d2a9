//! Fitting text to a terminal width, measured in display columns (a CJK character takes
//! two, a combining mark none, an ANSI colour sequence none): streamed rows are cut with
//! `…`, never wrapped.

use unicode_width::UnicodeWidthChar;

/// The character that marks a cut.
pub const ELLIPSIS: char = '…';

/// Display columns of `text` (UTF-8; invalid bytes count one column each, as the escaped
/// text that replaces them never is shorter); ANSI CSI sequences (`ESC [ … final`) take
/// none.
pub fn display_width(text: &[u8]) -> usize {
    let mut cols = 0;
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(n) = csi_len(rest) {
            rest = &rest[n..];
            continue;
        }
        let (ch, n) = first_char(rest);
        cols += ch.map_or(1, |c| c.width().unwrap_or(0));
        rest = &rest[n..];
    }
    cols
}

/// Cuts `line[from..]` so that it takes at most `cols` display columns, ending it with `…`
/// when something was cut (the `…` counted in `cols`). ANSI sequences inside are kept
/// (they take no column); a cut never splits a character. Returns whether it cut.
pub fn truncate_tail(line: &mut Vec<u8>, from: usize, cols: usize) -> bool {
    let Some(tail) = line.get(from..) else {
        return false;
    };
    if display_width(tail) <= cols {
        return false;
    }
    // Keep characters while they and the ellipsis fit.
    let room = cols.saturating_sub(1);
    let mut used = 0;
    let mut at = 0;
    let mut rest = tail;
    while !rest.is_empty() {
        if let Some(n) = csi_len(rest) {
            rest = &rest[n..];
            at += n;
            continue;
        }
        let (ch, n) = first_char(rest);
        let w = ch.map_or(1, |c| c.width().unwrap_or(0));
        if used + w > room {
            break;
        }
        used += w;
        rest = &rest[n..];
        at += n;
    }
    line.truncate(from + at);
    if cols > 0 {
        let mut buf = [0u8; 4];
        line.extend_from_slice(ELLIPSIS.encode_utf8(&mut buf).as_bytes());
    }
    true
}

/// `text` cut to `cols` display columns with `…` (as [`truncate_tail`]), as a String.
pub fn truncate_str(text: &str, cols: usize) -> String {
    let mut v = text.as_bytes().to_vec();
    truncate_tail(&mut v, 0, cols);
    String::from_utf8_lossy(&v).into_owned()
}

/// Length of an ANSI CSI sequence at the start of `b` (`ESC [` parameters, one final byte
/// in 0x40..=0x7e), if there is one.
fn csi_len(b: &[u8]) -> Option<usize> {
    if b.len() < 2 || b[0] != 0x1b || b[1] != b'[' {
        return None;
    }
    b.iter()
        .skip(2)
        .position(|c| (0x40..=0x7e).contains(c))
        .map(|p| p + 3)
}

/// The first character of `b` and its length in bytes (None for an invalid byte, length 1).
fn first_char(b: &[u8]) -> (Option<char>, usize) {
    let len = match b[0] {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    };
    match b.get(..len).and_then(|s| std::str::from_utf8(s).ok()) {
        Some(s) => (s.chars().next(), len),
        None => (None, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_in_columns() {
        assert_eq!(display_width(b"abc"), 3);
        assert_eq!(display_width("a › b · c …".as_bytes()), 11);
        // CJK: two columns each; a combining acute accent: none.
        assert_eq!(display_width("日本".as_bytes()), 4);
        assert_eq!(display_width("e\u{301}".as_bytes()), 1);
        assert_eq!(display_width(b"\x1b[1;32mSYN\x1b[0m"), 3);
        assert_eq!(display_width(b"\xff\xfeok"), 4);
    }

    #[test]
    fn tails_cut_with_an_ellipsis() {
        let mut l = b"12345 GET /index.html HTTP/1.1".to_vec();
        assert!(truncate_tail(&mut l, 6, 10));
        assert_eq!(std::str::from_utf8(&l).unwrap(), "12345 GET /inde…");
        assert_eq!(display_width(&l[6..]), 10);
        let mut l = b"short".to_vec();
        assert!(!truncate_tail(&mut l, 0, 5));
        assert_eq!(l, b"short");
        // A wide character that would straddle the edge goes whole.
        let mut l = "ab日本".as_bytes().to_vec();
        assert!(truncate_tail(&mut l, 0, 4));
        assert_eq!(std::str::from_utf8(&l).unwrap(), "ab…");
        assert_eq!(truncate_str("x · y · z", 4), "x ·…");
        assert_eq!(truncate_str("abc", 0), "");
    }
}
