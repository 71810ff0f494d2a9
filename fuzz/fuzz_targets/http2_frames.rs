//! HTTP/2 frames (`app::http2_frame`) and connections (`app::http2::Http2Conn`): the input
//! is `[op][len][bytes…]…`; op bit 0 picks the direction (the client's bytes follow the
//! connection preface, given first), bit 1 makes `bytes` one frame with a valid header for
//! `bytes` (type and flags from the next two bytes) instead of raw stream bytes. Every chunk
//! is also read alone by `frame_header` and `parse_frame`. The connection is closed at the
//! end; streams, frames and header blocks stay under their caps.
#![no_main]

use layerscope::app::http2::{H2Out, Http2Conn, Http2Stats, MAX_STREAMS};
use layerscope::app::http2_frame::{frame_header, parse_frame, PREFACE};
use layerscope::app::AppEvent;
use layerscope::capture::Timestamp;
use layerscope::flow::{Direction, SegmentCtx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut conn = Http2Conn::new();
    let mut events = Vec::new();
    let mut stats = Http2Stats::default();
    let mut out = H2Out {
        conn: 0,
        events: &mut events,
        stats: &mut stats,
        frames: layerscope::app::FrameNames::NONE,
    };
    let ctx = |frame: u64| SegmentCtx {
        // Known for some chunks and not others (the server time subtracts it).
        handshake_rtt_ns: (frame % 3 != 0).then_some(frame * 1_000),
        ..SegmentCtx::at(frame, Timestamp::from_secs(frame as i64))
    };
    conn.on_data(Direction::ToServer, PREFACE, ctx(0), &mut out);
    let mut rest = data;
    let mut n = 0u64;
    while let [op, len, tail @ ..] = rest {
        let take = usize::from(*len).min(tail.len());
        let (bytes, next) = tail.split_at(take);
        rest = next;
        n += 1;
        let dir = if op & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        if let Some(h) = frame_header(bytes) {
            let payload = &bytes[9..];
            if payload.len() == h.len as usize {
                let _ = parse_frame(&h, payload);
            }
        }
        if op & 2 != 0 {
            let (kind, flags, body) = match bytes {
                [k, f, b @ ..] => (*k % 12, *f, b),
                _ => (0, 0, bytes),
            };
            let mut f = (body.len() as u32).to_be_bytes()[1..].to_vec();
            f.extend_from_slice(&[kind, flags, 0, 0, 0, u32::from(op >> 2) as u8 | 1]);
            f.extend_from_slice(body);
            conn.on_data(dir, &f, ctx(n), &mut out);
        } else {
            conn.on_data(dir, bytes, ctx(n), &mut out);
        }
    }
    conn.close(&mut out);
    // One record per stream followed, each an HTTP/2 one with its stream id.
    for e in &events {
        let AppEvent::Http(t) = e else {
            panic!("not an http record: {e:?}")
        };
        assert!(t.stream.is_some() && t.version.as_deref() == Some("HTTP/2"));
    }
    assert!(events.len() as u64 <= n * MAX_STREAMS as u64);
});
