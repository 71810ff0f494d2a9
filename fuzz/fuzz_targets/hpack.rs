//! HPACK header blocks (`app::http2_hpack::HeaderDecoder`, with
//! layerscope's caps): the input is `[len hi][len lo][block…]…`, each block decoded in
//! turn by one decoder (the dynamic table carried over, as on one connection direction);
//! decoded lists stay under the header list cap, and once a block fails every later one
//! reports the table lost.
#![no_main]

use layerscope::app::http2_hpack::{HeaderDecoder, HpackError, MAX_HEADER_LIST};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut d = HeaderDecoder::default();
    let mut rest = data;
    while let [a, b, tail @ ..] = rest {
        let take = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        let (block, next) = tail.split_at(take);
        rest = next;
        let was_lost = d.is_lost();
        match d.decode(block) {
            Ok(list) => {
                assert!(!was_lost);
                let size: usize = list
                    .fields
                    .iter()
                    .map(|(n, v)| n.len() + v.len() + 32)
                    .sum();
                // (Lossy UTF-8 may grow a field: 3 bytes for each invalid one.)
                assert!(size <= 3 * MAX_HEADER_LIST);
            }
            Err(HpackError::TableLost) => assert!(was_lost),
            Err(HpackError::Decode(_)) => assert!(d.is_lost()),
        }
    }
});
