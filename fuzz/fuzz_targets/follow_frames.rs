//! `follow`'s frame view: `[op][len][bytes…]…` through an `app::http2::Http2Conn` and an
//! `app::http3::Http3Conn` that a `follow_watch::FollowWatch` watches (so DATA bytes are
//! kept, every frame's fields read by `http2_fields::frame_fields` and the HTTP/3 SETTINGS
//! and id readers, header lists attached), and every item rendered by
//! `render::follow_frames`. HTTP/2: op bit 0 the direction, bit 1 wraps `bytes` in a valid
//! frame header (type, flags from its first bytes). HTTP/3: op bit 2 set, bits 3-7 pick the
//! stream (client/server, bidirectional/unidirectional), bit 0 the sender. Each chunk is
//! also read alone by `frame_fields`. Asserts the items stay under their caps and the
//! rendered text holds no control character but the line breaks.
#![no_main]

use layerscope::app::follow_watch::{FollowItem, FollowWatch, MAX_DATA, MAX_ITEMS};
use layerscope::app::http2::{H2Out, Http2Conn, Http2Stats};
use layerscope::app::http2_fields::frame_fields;
use layerscope::app::http2_frame::{FrameHeader, PREFACE};
use layerscope::app::http3::{H3Out, Http3Conn, Http3Stats};
use layerscope::capture::Timestamp;
use layerscope::flow::{Direction, SegmentCtx};
use layerscope::render::follow_frames::{frame_body, frame_line, indented_bytes};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fn check(watch: &FollowWatch) {
    let items = watch.take();
    assert!(items.len() <= MAX_ITEMS);
    let mut text = String::new();
    for item in &items {
        match item {
            FollowItem::Frame(f) => {
                assert!(f.data.len() <= MAX_DATA);
                assert!(f.fields.len() <= 40);
                text.push_str(&frame_line(f));
                frame_body(f, &mut text);
            }
            FollowItem::Plain { bytes, .. } => indented_bytes(bytes, &mut text),
        }
    }
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
}

fuzz_target!(|data: &[u8]| {
    let watch = Arc::new(FollowWatch::new(0));
    let mut h2 = Http2Conn::new().watched(Some(&watch), 0);
    let mut h3 = Http3Conn::new().watched(Some(&watch), 0);
    let mut events = Vec::new();
    let mut stats2 = Http2Stats::default();
    let mut stats3 = Http3Stats::default();
    let ctx = |frame: u64| SegmentCtx::at(frame, Timestamp::from_secs(frame as i64));
    {
        let mut out = H2Out {
            conn: 0,
            events: &mut events,
            stats: &mut stats2,
            frames: layerscope::app::FrameNames::NONE,
        };
        h2.on_data(Direction::ToServer, PREFACE, ctx(0), &mut out);
    }
    let mut rest = data;
    let mut n = 0u64;
    while let [op, len, tail @ ..] = rest {
        let take = usize::from(*len).min(tail.len());
        let (bytes, next) = tail.split_at(take);
        rest = next;
        n += 1;
        if let [kind, flags, payload @ ..] = bytes {
            let h = FrameHeader {
                len: payload.len() as u32,
                kind: *kind % 12,
                flags: *flags,
                stream: 1,
            };
            let _ = frame_fields(&h, payload);
        }
        let side = usize::from(op & 1);
        if op & 4 != 0 {
            let id = u64::from(op >> 3) * 4 + u64::from(op & 3);
            let mut out = H3Out {
                conn: 0,
                events: &mut events,
                stats: &mut stats3,
                frames: layerscope::app::FrameNames::NONE,
            };
            h3.on_stream_data(side, id, bytes, op & 0x80 != 0 && id & 2 == 0, ctx(n), &mut out);
        } else {
            let dir = if side == 0 {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            let mut out = H2Out {
                conn: 0,
                events: &mut events,
                stats: &mut stats2,
                frames: layerscope::app::FrameNames::NONE,
            };
            if op & 2 != 0 {
                let (kind, flags, body) = match bytes {
                    [k, f, b @ ..] => (*k % 12, *f, b),
                    _ => (0, 0, bytes),
                };
                let mut f = (body.len() as u32).to_be_bytes()[1..].to_vec();
                f.extend_from_slice(&[kind, flags, 0, 0, 0, (op >> 3) | 1]);
                f.extend_from_slice(body);
                h2.on_data(dir, &f, ctx(n), &mut out);
            } else {
                h2.on_data(dir, bytes, ctx(n), &mut out);
            }
        }
        check(&watch);
        events.clear();
    }
    let mut out = H2Out {
        conn: 0,
        events: &mut events,
        stats: &mut stats2,
        frames: layerscope::app::FrameNames::NONE,
    };
    h2.close(&mut out);
    check(&watch);
});
