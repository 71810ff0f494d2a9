//! ICMP errors that quote a packet, and SCTP associations, through `decode::Decoder` and
//! `flow::FlowTracker`: each frame is `[kind][len u8][time step][bytes…]`, built into an
//! Ethernet frame between 10.0.0.1 and 10.0.0.2 (or 2001:db8::1 and ::2): kind 0 an ICMP
//! message whose type/code are the first two bytes and whose data (the quoted packet) is
//! an IPv4 header quoting 10.0.0.1 → 10.0.0.2 with the next bytes as protocol and ports,
//! or the raw bytes; kind 1 the same in ICMPv6; kind 2 an SCTP packet (ports and chunks
//! from the bytes); kind 3 a UDP datagram and kind 4 a TCP segment between the two hosts
//! (so quoted flows exist). The bytes are also given to `flow::icmp_error::quoted_flow`
//! directly. Small table caps so eviction runs; idle ends and the end of input run too.
#![no_main]

use layerscope::capture::{LinkType, RawFrame, Timestamp};
use layerscope::decode::Decoder;
use layerscope::flow::icmp_error::{quoted_flow, IcmpError};
use layerscope::flow::{FlowConfig, FlowTracker, NullSink};
use libfuzzer_sys::fuzz_target;

const A4: [u8; 4] = [10, 0, 0, 1];
const B4: [u8; 4] = [10, 0, 0, 2];

fn ipv4(out: &mut Vec<u8>, src: [u8; 4], dst: [u8; 4], proto: u8, payload_len: usize) {
    let total = (20 + payload_len).min(65535) as u16;
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 64, proto, 0, 0]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
}

fn ipv6(out: &mut Vec<u8>, src_last: u8, dst_last: u8, next: u8, payload_len: usize) {
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    out.extend_from_slice(&(payload_len.min(65535) as u16).to_be_bytes());
    out.extend_from_slice(&[next, 64]);
    for last in [src_last, dst_last] {
        out.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        out.extend_from_slice(&[0; 11]);
        out.push(last);
    }
}

/// An Ethernet frame of `ether_type` around `l3`.
fn ethernet(ether_type: u16, l3: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(l3);
    f
}

fn build(kind: u8, b: &[u8]) -> Vec<u8> {
    let byte = |i: usize| b.get(i).copied().unwrap_or(0);
    match kind % 5 {
        0 | 1 => {
            let v6 = kind % 5 == 1;
            // The quoted packet: a well-formed header quoting the two hosts (bit 0 of
            // byte 2), or the raw bytes.
            let mut quoted = Vec::new();
            let rest = b.get(3..).unwrap_or(&[]);
            if byte(2) & 1 == 0 {
                if v6 {
                    ipv6(&mut quoted, 1, 2, byte(3), rest.len());
                } else {
                    ipv4(&mut quoted, A4, B4, byte(3), rest.len());
                }
                quoted.extend_from_slice(rest.get(1..).unwrap_or(&[]));
            } else {
                quoted.extend_from_slice(rest);
            }
            let mut icmp = vec![byte(0), byte(1), 0, 0, 0, 0, 0, 0];
            icmp.extend_from_slice(&quoted);
            let mut l3 = Vec::new();
            if v6 {
                ipv6(&mut l3, 0xff, 1, 58, icmp.len());
                l3.extend_from_slice(&icmp);
                ethernet(0x86dd, &l3)
            } else {
                ipv4(&mut l3, [10, 0, 0, 254], A4, 1, icmp.len());
                l3.extend_from_slice(&icmp);
                ethernet(0x0800, &l3)
            }
        }
        2 => {
            let mut sctp = b.get(..4).unwrap_or(&[0, 7, 0, 7]).to_vec();
            sctp.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
            sctp.extend_from_slice(b.get(4..).unwrap_or(&[]));
            let (src, dst) = if byte(0) & 0x80 == 0 {
                (A4, B4)
            } else {
                (B4, A4)
            };
            let mut l3 = Vec::new();
            ipv4(&mut l3, src, dst, 132, sctp.len());
            l3.extend_from_slice(&sctp);
            ethernet(0x0800, &l3)
        }
        k => {
            let tcp = k == 4;
            let mut l4 = b.get(..4).unwrap_or(&[0, 9, 0, 53]).to_vec();
            if tcp {
                l4.extend_from_slice(&[
                    0,
                    0,
                    0,
                    1,
                    0,
                    0,
                    0,
                    0,
                    0x50,
                    byte(4),
                    0xff,
                    0xff,
                    0,
                    0,
                    0,
                    0,
                ]);
            } else {
                l4.extend_from_slice(
                    &((8 + b.len().saturating_sub(4)).min(65535) as u16).to_be_bytes(),
                );
                l4.extend_from_slice(&[0, 0]);
            }
            l4.extend_from_slice(b.get(5..).unwrap_or(&[]));
            let (src, dst) = if byte(0) & 0x80 == 0 {
                (A4, B4)
            } else {
                (B4, A4)
            };
            let mut l3 = Vec::new();
            ipv4(&mut l3, src, dst, if tcp { 6 } else { 17 }, l4.len());
            l3.extend_from_slice(&l4);
            ethernet(0x0800, &l3)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let config = FlowConfig {
        max_flows: 6,
        ..FlowConfig::default()
    };
    let mut tracker = FlowTracker::new(config);
    let mut decoder = Decoder::new();
    let mut sink = NullSink;
    let mut ended = Vec::new();
    let mut rest = data;
    let mut number = 0u64;
    let mut secs = 1_000_000i64;
    while let [kind, len, step, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (bytes, next) = tail.split_at(len);
        rest = next;
        for v6 in [false, true] {
            if let Some(q) = quoted_flow(v6, bytes) {
                assert!(matches!(q.proto.as_str(), "tcp" | "udp" | "sctp"));
            }
        }
        let e = IcmpError {
            v6: kind & 1 == 1,
            icmp_type: bytes.first().copied().unwrap_or(0),
            code: bytes.get(1).copied().unwrap_or(0),
            frame: 1,
        };
        assert!(!e.name().is_empty());
        number += 1;
        secs += match step {
            255 => 3600,
            254 => 3,
            s => i64::from(s & 1),
        };
        let data = build(*kind, bytes);
        let frame = RawFrame {
            number,
            ts: Timestamp {
                secs,
                nanos: u32::from(*step) * 1000,
                precision: 6,
            },
            link: LinkType(1),
            interface: 0,
            file: 0,
            orig_len: data.len() as u32,
            data: &data,
        };
        let packet = decoder.decode(&frame);
        let flow = tracker.process(&frame, &packet, &mut sink, &mut ended);
        if let Some((quoted, _)) = flow.quoted_conn {
            assert_ne!(Some(quoted), flow.conn);
        }
        tracker.expire(frame.ts, &mut sink, &mut ended);
        ended.clear();
    }
    tracker.finish(&mut sink, &mut ended);
});
