//! `follow` on an HTTP/2 or HTTP/3 connection: each frame as a line (direction, capture
//! frame, type, stream, flags, length) and under it what it carries: the decoded header
//! list of a header block, a DATA frame's bytes, the fields of SETTINGS, WINDOW_UPDATE,
//! RST_STREAM, GOAWAY, PING, PRIORITY, PUSH_PROMISE. Every byte from the wire is escaped
//! ([`super::escape`]).

use crate::app::follow_watch::{FrameItem, FrameProto};
use crate::flow::Direction;
use crate::render::escape::escape_bytes;

/// Indent of what a frame carries, under its line.
const INDENT: &str = "    ";

/// The names of the flags set in `flags` for an HTTP/2 frame of type `kind`
/// (RFC 9113 §6), `|`-joined; unknown bits as hex.
pub fn h2_flag_names(kind: u64, flags: u8) -> String {
    let known: &[(u8, &str)] = match kind {
        0 => &[(0x1, "END_STREAM"), (0x8, "PADDED")],
        1 => &[
            (0x1, "END_STREAM"),
            (0x4, "END_HEADERS"),
            (0x8, "PADDED"),
            (0x20, "PRIORITY"),
        ],
        4 | 6 => &[(0x1, "ACK")],
        5 => &[(0x4, "END_HEADERS"), (0x8, "PADDED")],
        9 => &[(0x4, "END_HEADERS")],
        _ => &[],
    };
    let mut names: Vec<String> = Vec::new();
    let mut rest = flags;
    for &(bit, name) in known {
        if flags & bit != 0 {
            names.push(name.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        names.push(format!("0x{rest:02x}"));
    }
    names.join("|")
}

/// The frame's line: `→ frame 37 · HTTP/2 HEADERS · stream 1 · flags 0x05
/// END_STREAM|END_HEADERS · 36 bytes` (HTTP/3 frames have no flags).
pub fn frame_line(f: &FrameItem) -> String {
    let arrow = match f.dir {
        Direction::ToServer => "→",
        Direction::ToClient => "←",
    };
    let mut line = format!("{arrow} frame {} · ", f.frame);
    match f.proto {
        FrameProto::Http2 => {
            line.push_str(&format!(
                "HTTP/2 {} · stream {} · flags 0x{:02x}",
                f.name, f.stream, f.flags
            ));
            let names = h2_flag_names(f.kind, f.flags);
            if !names.is_empty() {
                line.push(' ');
                line.push_str(&names);
            }
        }
        FrameProto::Http3 => {
            line.push_str(&format!("HTTP/3 {}", f.name));
            if f.name == "unknown" || f.name.starts_with("reserved") {
                line.push_str(&format!(" (0x{:x})", f.kind));
            }
            line.push_str(&format!(" · stream {}", f.stream));
        }
    }
    line.push_str(&format!(" · {} bytes", f.len));
    line
}

/// What the frame carries, one indented line each (escaped), ending with a newline when
/// not empty.
pub fn frame_body(f: &FrameItem, out: &mut String) {
    for (name, value) in &f.fields {
        out.push_str(INDENT);
        out.push_str(name);
        out.push_str(": ");
        escape_bytes(value.as_bytes(), out);
        out.push('\n');
    }
    match &f.headers {
        Some(Ok(list)) => {
            for (name, value) in list {
                out.push_str(INDENT);
                escape_bytes(name.as_bytes(), out);
                out.push_str(": ");
                escape_bytes(value.as_bytes(), out);
                out.push('\n');
            }
        }
        Some(Err(why)) => {
            out.push_str(INDENT);
            out.push('[');
            escape_bytes(why.as_bytes(), out);
            out.push_str("]\n");
        }
        None => {}
    }
    if !f.data.is_empty() {
        indented_bytes(&f.data, out);
    }
    if f.data_cut > 0 {
        out.push_str(&format!("{INDENT}[… {} bytes not shown …]\n", f.data_cut));
    }
}

/// `bytes` escaped, each of its lines indented (a line break shown as `\n` and kept).
pub fn indented_bytes(bytes: &[u8], out: &mut String) {
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        out.push_str(INDENT);
        let (body, nl) = match line.split_last() {
            Some((b'\n', rest)) => (rest, true),
            _ => (line, false),
        };
        escape_bytes(body, out);
        if nl {
            out.push_str("\\n");
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(proto: FrameProto, kind: u64, name: &'static str, flags: u8) -> FrameItem {
        FrameItem {
            proto,
            frame: 37,
            dir: Direction::ToClient,
            kind,
            name,
            flags,
            stream: 1,
            len: 23,
            fields: Vec::new(),
            headers: None,
            data: Vec::new(),
            data_cut: 0,
        }
    }

    #[test]
    fn lines_and_bodies_are_escaped() {
        let mut f = item(FrameProto::Http2, 1, "HEADERS", 0x25);
        assert_eq!(
            frame_line(&f),
            "← frame 37 · HTTP/2 HEADERS · stream 1 · flags 0x25 END_STREAM|END_HEADERS|PRIORITY · 23 bytes"
        );
        f.headers = Some(Ok(vec![(":status".into(), "200\x1b[2J".into())]));
        f.fields = vec![("weight", "16".into())];
        let mut body = String::new();
        frame_body(&f, &mut body);
        assert_eq!(body, "    weight: 16\n    :status: 200\\x1b[2J\n");
        let mut d = item(FrameProto::Http3, 0, "DATA", 0);
        d.data = b"hi\nthere".to_vec();
        d.data_cut = 15;
        assert_eq!(
            frame_line(&d),
            "← frame 37 · HTTP/3 DATA · stream 1 · 23 bytes"
        );
        let mut body = String::new();
        frame_body(&d, &mut body);
        assert_eq!(body, "    hi\\n\n    there\n    [… 15 bytes not shown …]\n");
        assert_eq!(h2_flag_names(4, 0x41), "ACK|0x40");
    }
}
