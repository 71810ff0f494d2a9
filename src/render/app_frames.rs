//! The HTTP/2 and HTTP/3 frames a packet carried ([`crate::app::FrameNames`]), as the
//! packet rows show them: `HEADERS[1], WINDOW_UPDATE[0]` in the text views' Info column
//! (tshark's Info style: the type, the stream id in brackets), an `app_frames` list in
//! the JSON `packet` record.

use crate::app::FrameNames;
use crate::render::text::put_u64;
use std::io::Write;

/// `HEADERS[1], DATA[1]` (and ` +N more` past the named ones); an unknown type with its
/// number: `UNKNOWN(0x21)[0]`. Nothing for no frame.
pub(crate) fn put_frames_text(names: &FrameNames, out: &mut Vec<u8>) {
    for (i, f) in names.frames().iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(names.name(f).as_bytes());
        if !names.is_known(f) {
            let _ = write!(out, "(0x{:x})", f.kind);
        }
        out.push(b'[');
        put_u64(out, f.stream);
        out.push(b']');
    }
    if names.more() > 0 {
        out.extend_from_slice(b" +");
        put_u64(out, u64::from(names.more()));
        out.extend_from_slice(b" more");
    }
}

/// `,"app_frames":[{"type":"HEADERS","type_id":1,"stream":1},…],"app_frames_more":0` for
/// a packet that carried frames; nothing for one that carried none. (At most ~420 bytes:
/// four frames with every number at its widest.) The JSON writer writes the same fields
/// field by field (`render/jsonl/packet.rs`); this is its tests' reference.
#[cfg(test)]
pub(crate) fn app_frames_json(names: &FrameNames) -> arrayvec::ArrayVec<u8, 512> {
    let mut a = arrayvec::ArrayVec::new();
    if names.is_empty() {
        return a;
    }
    let _ = a.write_all(b",\"app_frames\":[");
    for (i, f) in names.frames().iter().enumerate() {
        let _ = write!(
            a,
            "{}{{\"type\":\"{}\",\"type_id\":{},\"stream\":{}}}",
            if i > 0 { "," } else { "" },
            names.name(f),
            f.kind,
            f.stream
        );
    }
    let _ = write!(a, "],\"app_frames_more\":{}", names.more());
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::FrameProtocol;

    #[test]
    fn text_and_json_of_named_counted_and_unknown_frames() {
        let mut n = FrameNames::NONE;
        let mut text = Vec::new();
        put_frames_text(&n, &mut text);
        assert!(text.is_empty() && app_frames_json(&n).is_empty());
        for (kind, stream) in [(4, 0), (8, 0), (1, 1), (0xfb, 3), (0, 1), (0, 3)] {
            n.push(5, FrameProtocol::Http2, kind, stream);
        }
        put_frames_text(&n, &mut text);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "SETTINGS[0], WINDOW_UPDATE[0], HEADERS[1], UNKNOWN(0xfb)[3] +2 more"
        );
        assert_eq!(
            std::str::from_utf8(&app_frames_json(&n)).unwrap(),
            ",\"app_frames\":[{\"type\":\"SETTINGS\",\"type_id\":4,\"stream\":0},\
             {\"type\":\"WINDOW_UPDATE\",\"type_id\":8,\"stream\":0},\
             {\"type\":\"HEADERS\",\"type_id\":1,\"stream\":1},\
             {\"type\":\"UNKNOWN\",\"type_id\":251,\"stream\":3}],\"app_frames_more\":2"
        );
        // The widest frames fit the buffer.
        let mut wide = FrameNames::NONE;
        for _ in 0..4 {
            wide.push(1, FrameProtocol::Http3, 0xf0700, u64::MAX);
        }
        let json = app_frames_json(&wide);
        assert!(json.ends_with(b"\"app_frames_more\":0"), "{json:?}");
    }
}
