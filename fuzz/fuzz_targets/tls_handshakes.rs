//! TLS handshakes through the app tracker (port 443): the hello, ServerKeyExchange,
//! ClientKeyExchange and ChangeCipherSpec facts that give `curve`, `resumed` and the
//! certificate fingerprints, fed as one connection's two directions. Operations come from
//! the input, `[op][len_hi][len_lo][bytes…]…`: op bit 0 the direction; bits 1–2: 0 the bytes
//! as they are, 1 the bytes as one handshake record whose message type is the first byte
//! (lengths made consistent, so the message parser sees hostile bodies), 2 a
//! ChangeCipherSpec record, 3 a gap. Every TLS message's facts must stay consistent
//! (`sni_matches_cert` only after the server's Certificate, `hello_retry` only on a
//! ServerHello).
#![no_main]

use layerscope::app::{AppCollector, AppConfig, AppEvent, TlsKind};
use layerscope::capture::Timestamp;
use layerscope::flow::{Direction, SegmentCtx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut app = AppCollector::new(AppConfig::default());
    let mut rest = data;
    let mut frame = 0u64;
    let mut record = Vec::new();
    let mut server_certificate_seen = false;
    while let [op, hi, lo, tail @ ..] = rest {
        frame += 1;
        // The connection's ports, as the flow stage gives them (443: not DNS, not DoT).
        let ctx = SegmentCtx {
            ports: Some((40000, 443)),
            ..SegmentCtx::at(frame, Timestamp::from_secs(frame as i64))
        };
        let dir = if op & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        rest = next;
        match (op >> 1) & 3 {
            0 => app.on_data(0, dir, chunk, ctx),
            1 => {
                let (t, body) = chunk.split_first().unwrap_or((&1, &[]));
                let body = &body[..body.len().min((1 << 14) - 4)];
                record.clear();
                record.extend_from_slice(&[22, 3, 3]);
                record.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
                record.push(*t);
                record.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
                record.extend_from_slice(body);
                app.on_data(0, dir, &record, ctx);
            }
            2 => app.on_data(0, dir, &[20, 3, 3, 0, 1, 1], ctx),
            _ => app.on_gap(0, dir, n as u64, ctx),
        }
        for event in app.drain_events() {
            if let AppEvent::Tls(m) = &event {
                // Certificates only on Certificate messages; the named group, when known,
                // came from a hello or a ServerKeyExchange, and every fingerprint is 64 hex.
                if !m.certificates.is_empty() {
                    assert_eq!(m.kind, TlsKind::Handshake(11));
                }
                for c in &m.certificates {
                    assert_eq!(c.sha256_hex().len(), 64);
                }
                // `sni_matches_cert` only once the server's Certificate was read;
                // `hello_retry` only on a ServerHello.
                if m.kind == TlsKind::Handshake(11) && m.dir == Direction::ToClient {
                    server_certificate_seen = true;
                }
                if m.sni_matches_cert.is_some() {
                    assert!(server_certificate_seen);
                }
                if m.hello_retry {
                    assert_eq!(m.kind, TlsKind::Handshake(2));
                }
                if let Some(g) = m.curve {
                    let _ = layerscope::app::tls_group_name(g);
                }
            }
        }
    }
    app.on_close(0);
    app.drain_events().for_each(drop);
    let _ = app.stats();
});
