//! The whole pipeline over a sequence of frames cut from the input: each frame is
//! `[link: u8][len: u16 le][time step: u8][bytes…]`, the last one takes what is left.
//! Small caps so eviction and cut paths run.
#![no_main]

use layerscope::capture::{LinkType, RawFrame, Timestamp};
use layerscope::pipeline::{DiscardSink, Pipeline, PipelineConfig};
use libfuzzer_sys::fuzz_target;

const LINKS: [u32; 8] = [1, 1, 1, 101, 113, 276, 0, 228];

fuzz_target!(|data: &[u8]| {
    let mut config = PipelineConfig::default();
    config.flow.max_flows = 8;
    config.flow.max_reassembly_per_flow = 4096;
    config.flow.max_reassembly_total = 16384;
    config.decoder.max_fragment_datagrams = 4;
    config.decoder.max_fragment_bytes = 8192;
    config.app.max_http_head = 1024;
    config.app.max_pending_dns = 4;
    let mut pipeline = Pipeline::new(config);
    let mut sink = DiscardSink;
    let mut rest = data;
    let mut number = 0u64;
    let mut secs = 1_000_000i64;
    while let [link, l0, l1, step, tail @ ..] = rest {
        let len = (u16::from_le_bytes([*l0, *l1]) as usize).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        number += 1;
        // Mostly small steps, sometimes a large jump either way (timeouts, bogus clocks).
        secs += match step {
            250 => 7200,
            251 => -7200,
            252 => 40,
            253 => 700,
            s => (*s % 3) as i64,
        };
        let raw = RawFrame {
            number,
            ts: Timestamp {
                secs,
                nanos: (*step as u32) * 1000,
                precision: if *step == 255 { 0 } else { 6 },
            },
            link: LinkType(LINKS[(*link & 7) as usize]),
            interface: 0,
            file: 0,
            orig_len: frame.len() as u32 + (*link as u32 >> 6),
            data: frame,
        };
        if pipeline.process(&raw, &mut sink).is_err() {
            return;
        }
    }
    let _ = pipeline.finish(&mut sink, None, None);
});
