//! Text made safe for the HTML report: element text and attribute values, and JSON placed
//! inside a `<script>` element.
//!
//! Wire bytes reach these functions already made terminal-safe by
//! [`crate::render::escape`] (control characters as `\xNN`); [`html`] escapes the five
//! characters HTML gives meaning to and, as a second guard, writes any control or
//! bidi-override character still present as `\u{…}`, so no wire byte is ever markup.

use std::fmt::Write as _;

/// Appends `s` as HTML text (valid in element content and in quoted attribute values).
pub fn push_html(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `s` with any control or bidi-override character written as `\u{…}`, for text the
/// script sets with `textContent` (so it needs no HTML escaping, only the same guard).
pub fn text(s: &str) -> String {
    if !s.chars().any(is_unsafe_char) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// `s` as HTML text (see [`push_html`]).
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_html(&mut out, s);
    out
}

/// Control characters (but not the whitespace HTML treats as a space), DEL, the C1
/// controls, the bidi overrides and isolates, and the line/paragraph separators.
fn is_unsafe_char(c: char) -> bool {
    let u = c as u32;
    (u < 0x20 && c != '\n' && c != '\t')
        || (0x7f..=0x9f).contains(&u)
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || c == '\u{2028}'
        || c == '\u{2029}'
}

/// A JSON value serialised for a `<script type="application/json">` element: `<`, `>`
/// and `&` are written as `\u003c`, `\u003e`, `\u0026` (so no `</script>` or `<!--` can
/// close or change the element) and U+2028/U+2029 as `\u2028`/`\u2029`. They can only
/// occur inside JSON strings, where these escapes mean the same characters.
pub fn script_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_entities() {
        assert_eq!(
            html(r#"GET /<script>alert("x")</script>&'"#),
            "GET /&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }

    #[test]
    fn control_and_bidi_characters_never_pass_through() {
        assert_eq!(html("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(html("x\u{202e}y\u{85}z"), "x\\u{202e}y\\u{85}z");
        assert_eq!(html("l\u{2028}m"), "l\\u{2028}m");
        // Already terminal-escaped text keeps its backslashes.
        assert_eq!(html("\\x1b[2J"), "\\x1b[2J");
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let v = serde_json::json!({"uri": "/</script><script>alert(1)</script>\u{2028}&"});
        let s = script_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert!(!s.contains('\u{2028}'), "{s}");
        // Still the same JSON value.
        let back: serde_json::Value = serde_json::from_str(&s).expect("valid JSON");
        assert_eq!(back, v);
    }
}
