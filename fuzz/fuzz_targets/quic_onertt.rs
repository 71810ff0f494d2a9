//! QUIC Handshake and 1-RTT packets opened with a key log, their STREAM frames reassembled
//! and read as HTTP/3 (frames, unidirectional stream types, QPACK encoder streams and
//! field sections), through `app::quic::session::QuicSession` with fixed secrets. Byte 0
//! picks the suite (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305) and the version (v1, v2);
//! then `[op][len][bytes…]…`: op bit 0 the sender (client, server); bit 1 set: `bytes` is a
//! raw packet (failed unprotection, hostile headers); clear: `bytes` is the plaintext frames
//! of a packet protected here, a 0-RTT packet with bit 4 (the client's early keys; byte 0's
//! bit 6: the ServerHello's suite not known yet, found by trying each), a Handshake packet
//! with bit 2, else a short-header packet, in the next key phase with bit 3 (a key update);
//! bit 4 on a raw packet reads it as 0-RTT. Closed at the end (open requests reported, held
//! stream bytes counted).
#![no_main]

use layerscope::app::keylog::KeyLog;
use layerscope::app::quic::protection::{protect, PacketKeys};
use layerscope::app::quic::session::{Handshake, QuicKeyStats, QuicSession, SessionOut, Space};
use layerscope::app::quic::QUIC_V2;
use layerscope::capture::Timestamp;
use layerscope::flow::SegmentCtx;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const RANDOM: [u8; 32] = [0x5a; 32];
const DCID: [u8; 8] = [0xd1; 8];
const LABELS: [&str; 5] = [
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "CLIENT_EARLY_TRAFFIC_SECRET",
];

fn secret(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|b| (b * 7 + i * 31) as u8).collect()
}

/// The key log and the senders' keys of one (suite, version).
struct Fixed {
    keylog: KeyLog,
    /// Client and server handshake, client and server 1-RTT keys, then the client's 0-RTT
    /// keys.
    keys: Vec<PacketKeys>,
    /// The 1-RTT keys of the next key phase.
    next: Vec<PacketKeys>,
}

impl Fixed {
    fn new(suite: u16, v2: bool) -> Fixed {
        let hash_len = if suite == 0x1302 { 48 } else { 32 };
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let text: String = LABELS
            .iter()
            .enumerate()
            .map(|(i, l)| format!("{l} {} {}\n", hex(&RANDOM), hex(&secret(i, hash_len))))
            .collect();
        let keys: Vec<PacketKeys> = (0..5)
            .map(|i| PacketKeys::from_secret(suite, &secret(i, hash_len), v2).unwrap())
            .collect();
        let next = keys[2..4].iter().map(|k| k.next_phase().unwrap()).collect();
        Fixed {
            keylog: KeyLog::from_text(&text),
            keys,
            next,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let suite = [0x1301u16, 0x1302, 0x1303][usize::from(pick % 3)];
    let version = if pick & 0x80 != 0 { QUIC_V2 } else { 1 };
    let v2 = version == QUIC_V2;
    // Key logs and keys made once per (suite, version).
    static FIXED: OnceLock<Vec<Fixed>> = OnceLock::new();
    let fixed = FIXED.get_or_init(|| {
        let mut v = Vec::new();
        for v2 in [false, true] {
            for suite in [0x1301u16, 0x1302, 0x1303] {
                v.push(Fixed::new(suite, v2));
            }
        }
        v
    });
    let f = &fixed[usize::from(v2) * 3 + usize::from(pick % 3)];
    let (keylog, keys, next) = (&f.keylog, &f.keys, &f.next);
    let hs = Handshake {
        keylog,
        client_random: &RANDOM,
        // Bit 6: the ServerHello not seen yet (0-RTT finds its suite by trying each).
        suite: if pick & 0x40 != 0 { 0 } else { suite },
        version,
    };
    let mut session = QuicSession::default();
    let mut events = Vec::new();
    let mut stats = QuicKeyStats::default();
    let mut frame = 0u64;
    while let [op, len, tail @ ..] = rest {
        frame += 1;
        let ctx = SegmentCtx::at(frame, Timestamp::from_secs(frame as i64));
        let n = (*len as usize * 4).min(tail.len());
        let (bytes, next_rest) = tail.split_at(n);
        rest = next_rest;
        let side = usize::from(op & 1);
        let mut out = SessionOut {
            conn: 1,
            events: &mut events,
            stats: &mut stats,
            frames: layerscope::app::FrameNames::NONE,
        };
        if op & 2 != 0 {
            let space = if op & 0x10 != 0 {
                Space::ZeroRtt
            } else if op & 4 != 0 {
                Space::Handshake
            } else {
                Space::OneRtt
            };
            session.on_packet(hs, space, side, bytes, 1 + DCID.len(), ctx, &mut out);
            continue;
        }
        let mut payload = bytes.to_vec();
        payload.resize(payload.len().max(4), 0);
        let pn = (frame as u16).to_be_bytes();
        // A long header with first byte `first`, a 2-byte packet number: (header, where
        // the packet number is).
        let long_header = |first: u8| {
            let mut h = vec![first];
            h.extend_from_slice(&version.to_be_bytes());
            h.push(DCID.len() as u8);
            h.extend_from_slice(&DCID);
            h.push(0);
            h.extend_from_slice(&(0x4000u16 | (2 + payload.len() + 16) as u16).to_be_bytes());
            let at = h.len();
            h.extend_from_slice(&pn);
            (h, at)
        };
        let (space, header, pn_offset, k) = if op & 0x10 != 0 {
            // 0-RTT: type bits 0b01 in v1, 0b10 in v2; the client's early keys.
            let (h, at) = long_header(if v2 { 0xe1 } else { 0xd1 });
            (Space::ZeroRtt, h, at, &keys[4])
        } else if op & 4 != 0 {
            // Handshake: type bits 0b10 in v1, 0b11 in v2.
            let (h, at) = long_header(if v2 { 0xf1 } else { 0xe1 });
            (Space::Handshake, h, at, &keys[side])
        } else {
            let phase = op & 8 != 0;
            let mut h = vec![0x41 | if phase { 0x04 } else { 0 }];
            h.extend_from_slice(&DCID);
            h.extend_from_slice(&pn);
            let k = if phase { &next[side] } else { &keys[2 + side] };
            (Space::OneRtt, h, 1 + DCID.len(), k)
        };
        let packet = protect(k, &header, pn_offset, &payload);
        session.on_packet(hs, space, side, &packet, pn_offset, ctx, &mut out);
    }
    let mut out = SessionOut {
        conn: 1,
        events: &mut events,
        stats: &mut stats,
        frames: layerscope::app::FrameNames::NONE,
    };
    session.close(&mut out);
});
