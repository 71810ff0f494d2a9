//! The HTTP parser (through the app tracker) fed one connection's two directions in
//! random splits, with gaps, FINs and a close. Operations come from the input:
//! `[op][len][bytes…]`.
#![no_main]

use layerscope::app::{AppCollector, AppConfig};
use layerscope::capture::Timestamp;
use layerscope::flow::{Direction, SegmentCtx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut app = AppCollector::new(AppConfig {
        max_http_head: 2048,
        ..AppConfig::default()
    });
    let mut rest = data;
    let mut frame = 0u64;
    while let [op, len, tail @ ..] = rest {
        frame += 1;
        let ctx = SegmentCtx {
            ports: Some((40000, 80)),
            ..SegmentCtx::at(frame, Timestamp::from_secs(frame as i64))
        };
        let dir = if op & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let conn = ((op >> 5) & 1) as u64;
        match (op >> 1) & 15 {
            0 => app.on_gap(conn, dir, *len as u64 * 97, ctx),
            1 => app.on_fin(conn, dir, ctx),
            2 if op & 0x80 != 0 => app.on_close(conn),
            3 => app.on_gap(conn, dir, u64::MAX - *len as u64, ctx),
            _ => {}
        }
        let n = (*len as usize).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        if (op >> 1) & 15 >= 4 {
            let layers = app.feed_segment(conn, dir, chunk, ctx);
            let _ = layers.app_of(frame);
        }
        for event in app.drain_events() {
            let _ = format!("{event:?}");
        }
    }
    app.on_close(0);
    app.on_close(1);
    let _ = app.take_conn_stats(0);
    let _ = app.stats();
});
