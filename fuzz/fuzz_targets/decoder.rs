//! The decoder: the first 2 bytes pick the link type, the rest is one frame. Decoded twice
//! with a shared decoder so the fragment pool sees state carried between frames.
#![no_main]

use layerscope::capture::{LinkType, RawFrame, Timestamp};
use layerscope::decode::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, frame @ ..] = data else {
        return;
    };
    let link = LinkType(u16::from_le_bytes([*a, *b]) as u32);
    let mut decoder = Decoder::new();
    for number in 1..=2u64 {
        let raw = RawFrame {
            number,
            ts: Timestamp {
                secs: number as i64,
                nanos: 0,
                precision: 6,
            },
            link,
            interface: 0,
            file: 0,
            orig_len: frame.len() as u32,
            data: frame,
        };
        let packet = decoder.decode(&raw);
        for layer in &packet.layers {
            let _ = layer.osi();
        }
        let _ = packet.ports();
        if let Some(issue) = &packet.issue {
            let _ = issue.to_string();
        }
    }
    let _ = decoder.stats();
});
