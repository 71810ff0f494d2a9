//! The fields of one HTTP/2 frame as `follow` shows them (RFC 9113 §6): SETTINGS
//! parameters by name, WINDOW_UPDATE's increment, RST_STREAM's and GOAWAY's error codes,
//! GOAWAY's last stream and debug data, PING's opaque data, PRIORITY's dependency and
//! weight (also in a HEADERS frame with the PRIORITY flag), PUSH_PROMISE's promised
//! stream, the pad length of padded frames. Only read for the followed connection; a field
//! that does not fit its frame is left out, never a panic.

use super::http2_frame::{
    error_name, FrameHeader, GOAWAY, HEADERS, PING, PRIORITY, PUSH_PROMISE, RST_STREAM, SETTINGS,
    WINDOW_UPDATE,
};

const PADDED: u8 = 0x8;
const PRIORITY_FLAG: u8 = 0x20;
/// GOAWAY debug data kept (bytes from the wire: escape before showing).
const MAX_DEBUG: usize = 256;
/// SETTINGS parameters listed (a frame may carry thousands of 6-byte pairs).
const MAX_SETTINGS: usize = 32;

/// A field's name and value (values may hold wire bytes, read lossily: escape them).
pub type Field = (&'static str, String);

/// The name of a SETTINGS parameter (RFC 9113 §6.5.2, RFC 8441, RFC 9218).
pub fn setting_name(id: u16) -> &'static str {
    match id {
        0x1 => "HEADER_TABLE_SIZE",
        0x2 => "ENABLE_PUSH",
        0x3 => "MAX_CONCURRENT_STREAMS",
        0x4 => "INITIAL_WINDOW_SIZE",
        0x5 => "MAX_FRAME_SIZE",
        0x6 => "MAX_HEADER_LIST_SIZE",
        0x8 => "ENABLE_CONNECT_PROTOCOL",
        0x9 => "NO_RFC7540_PRIORITIES",
        _ => "unknown",
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Dependency, exclusive bit and weight of a 5-byte priority block at `at`.
fn priority(p: &[u8], at: usize, out: &mut Vec<Field>) {
    let (Some(dep), Some(&w)) = (be32(p, at), p.get(at + 4)) else {
        return;
    };
    out.push(("exclusive", (dep >> 31 == 1).to_string()));
    out.push(("depends on", (dep & 0x7fff_ffff).to_string()));
    // The wire holds weight - 1 (RFC 7540 §6.3).
    out.push(("weight", (u16::from(w) + 1).to_string()));
}

/// The fields of a frame with header `h` and `payload` (exactly `h.len` bytes, or fewer
/// when the frame was not kept whole: fields beyond are left out). DATA, HEADERS and
/// CONTINUATION content (body bytes, header lists) is shown by the caller; this gives
/// their pad length and priority only.
pub fn frame_fields(h: &FrameHeader, payload: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let padded = matches!(h.kind, 0 | HEADERS | PUSH_PROMISE) && h.flags & PADDED != 0;
    let body_at = usize::from(padded);
    if padded {
        if let Some(&pad) = payload.first() {
            out.push(("pad length", pad.to_string()));
        }
    }
    match h.kind {
        HEADERS if h.flags & PRIORITY_FLAG != 0 => priority(payload, body_at, &mut out),
        PRIORITY => priority(payload, 0, &mut out),
        RST_STREAM => {
            if let Some(code) = be32(payload, 0) {
                out.push(("error", format!("{} (0x{code:x})", error_name(code))));
            }
        }
        SETTINGS => {
            let pairs = payload.chunks_exact(6);
            let n = pairs.len();
            for c in pairs.take(MAX_SETTINGS) {
                let id = u16::from_be_bytes([c[0], c[1]]);
                let v = u32::from_be_bytes([c[2], c[3], c[4], c[5]]);
                out.push((setting_name(id), format!("{v} (0x{id:x})")));
            }
            if n > MAX_SETTINGS {
                out.push(("parameters not listed", (n - MAX_SETTINGS).to_string()));
            }
        }
        PUSH_PROMISE => {
            if let Some(id) = be32(payload, body_at) {
                out.push(("promised stream", (id & 0x7fff_ffff).to_string()));
            }
        }
        PING => {
            if let Some(opaque) = payload.get(..8) {
                let hex: String = opaque.iter().map(|b| format!("{b:02x}")).collect();
                out.push(("opaque data", hex));
            }
        }
        GOAWAY => {
            if let (Some(last), Some(code)) = (be32(payload, 0), be32(payload, 4)) {
                out.push(("last stream", (last & 0x7fff_ffff).to_string()));
                out.push(("error", format!("{} (0x{code:x})", error_name(code))));
                let debug = &payload[8..];
                if !debug.is_empty() {
                    let kept = &debug[..debug.len().min(MAX_DEBUG)];
                    out.push(("debug data", String::from_utf8_lossy(kept).into_owned()));
                }
            }
        }
        WINDOW_UPDATE => {
            if let Some(inc) = be32(payload, 0) {
                out.push(("increment", (inc & 0x7fff_ffff).to_string()));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(kind: u8, flags: u8, len: usize) -> FrameHeader {
        FrameHeader {
            len: len as u32,
            kind,
            flags,
            stream: 1,
        }
    }

    /// curl's first SETTINGS and WINDOW_UPDATE in `captures/tls-keylog.pcap` (tshark:
    /// settings 3, 4, 2 = 100, 33554432, 0; increment 33488897).
    #[test]
    fn settings_and_window_update_as_tshark_reads_them() {
        let p = [0, 3, 0, 0, 0, 100, 0, 4, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0];
        let f = frame_fields(&h(SETTINGS, 0, p.len()), &p);
        assert_eq!(
            f,
            [
                ("MAX_CONCURRENT_STREAMS", "100 (0x3)".to_string()),
                ("INITIAL_WINDOW_SIZE", "33554432 (0x4)".to_string()),
                ("ENABLE_PUSH", "0 (0x2)".to_string()),
            ]
        );
        let w = 33_488_897u32.to_be_bytes();
        assert_eq!(
            frame_fields(&h(WINDOW_UPDATE, 0, 4), &w),
            [("increment", "33488897".to_string())]
        );
    }

    #[test]
    fn goaway_rst_ping_priority_push_promise() {
        let mut g = vec![0, 0, 0, 5, 0, 0, 0, 0xb];
        g.extend_from_slice(b"calm\x1b");
        assert_eq!(
            frame_fields(&h(GOAWAY, 0, g.len()), &g),
            [
                ("last stream", "5".to_string()),
                ("error", "ENHANCE_YOUR_CALM (0xb)".to_string()),
                ("debug data", "calm\x1b".to_string()),
            ]
        );
        assert_eq!(
            frame_fields(&h(RST_STREAM, 0, 4), &[0, 0, 0, 8]),
            [("error", "CANCEL (0x8)".to_string())]
        );
        assert_eq!(
            frame_fields(&h(PING, 1, 8), &[1, 2, 3, 4, 5, 6, 7, 0xff]),
            [("opaque data", "01020304050607ff".to_string())]
        );
        // Exclusive dependency on stream 3, weight 16 (wire 15).
        assert_eq!(
            frame_fields(&h(PRIORITY, 0, 5), &[0x80, 0, 0, 3, 15]),
            [
                ("exclusive", "true".to_string()),
                ("depends on", "3".to_string()),
                ("weight", "16".to_string()),
            ]
        );
        // Padded PUSH_PROMISE: pad length 2, promised stream 2.
        assert_eq!(
            frame_fields(&h(PUSH_PROMISE, 0x8, 7), &[2, 0, 0, 0, 2, 0, 0]),
            [
                ("pad length", "2".to_string()),
                ("promised stream", "2".to_string())
            ]
        );
        // Short payloads: fields left out.
        assert!(frame_fields(&h(GOAWAY, 0, 3), &[0, 0, 0]).is_empty());
        assert!(frame_fields(&h(HEADERS, 0x28, 2), &[0, 1]).len() == 1);
    }
}
