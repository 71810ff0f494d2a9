//! QUIC Initial unprotection, frame walk, CRYPTO reassembly and hello parsing, through
//! `app::AppCollector` on one UDP flow. Input: `[op][len][bytes…]…`. op bit 0: direction;
//! bit 1 set: `bytes` is a raw datagram (header parsing, failed unprotection); clear:
//! `bytes` is the plaintext frames of an Initial packet that is protected here with the
//! fixed keys of DCID 8394c8f03e515708 (client keys, or the server's with bit 2), version
//! from bits 3-4 (v1, v2, draft 29, mvfst), so the frame walk and reassembly see
//! arbitrary frames behind a valid tag.
#![no_main]

use layerscope::app::quic::initial::{protect, InitialKeys};
use layerscope::app::quic::QUIC_V2;
use layerscope::app::{AppCollector, AppConfig};
use layerscope::capture::Timestamp;
use layerscope::flow::{Direction, SegmentCtx};
use libfuzzer_sys::fuzz_target;

const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
const VERSIONS: [u32; 4] = [1, QUIC_V2, 0xff00_001d, 0xfaceb001];

fuzz_target!(|data: &[u8]| {
    static KEYS: std::sync::OnceLock<Vec<InitialKeys>> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        VERSIONS
            .iter()
            .map(|&v| InitialKeys::derive(v, &DCID).unwrap())
            .collect()
    });
    let mut app = AppCollector::new(AppConfig::default());
    let mut rest = data;
    let mut frame = 0u64;
    while let [op, len, tail @ ..] = rest {
        frame += 1;
        let ctx = SegmentCtx::at(frame, Timestamp::from_secs(frame as i64));
        let n = (*len as usize * 8).min(tail.len());
        let (bytes, next) = tail.split_at(n);
        rest = next;
        let dir = if op & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        if op & 2 != 0 {
            app.on_datagram(1, dir, bytes, ctx);
            continue;
        }
        let vi = usize::from((op >> 3) & 3);
        let version = VERSIONS[vi];
        // Initial type bits: 0b00 in v1 and drafts, 0b01 in v2; 2-byte packet number.
        let first = if version == QUIC_V2 { 0xd1 } else { 0xc1 };
        let mut payload = bytes.to_vec();
        payload.resize(payload.len().max(4), 0);
        let length = 2 + payload.len() + 16;
        let mut header = vec![first];
        header.extend_from_slice(&version.to_be_bytes());
        header.push(DCID.len() as u8);
        header.extend_from_slice(&DCID);
        header.extend_from_slice(&[0, 0]); // no SCID, no token
        header.extend_from_slice(&(0x4000u16 | length as u16).to_be_bytes());
        let pn_offset = header.len();
        header.extend_from_slice(&(frame as u16).to_be_bytes());
        let k = &keys[vi];
        let side = if op & 4 == 0 { &k.client } else { &k.server };
        let packet = protect(side, &header, pn_offset, &payload);
        app.on_datagram(1, dir, &packet, ctx);
    }
    app.on_close(1);
    app.drain_events().for_each(drop);
});
