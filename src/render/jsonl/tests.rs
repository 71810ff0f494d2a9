//! The JSON writer's tests: the records written in place against the reference writers
//! (`*_reference.rs`), the number and string primitives against `core::fmt` and serde_json.

use super::super::text::put_u64;
use super::app_reference::write_http;
use super::conn::{conn_record_at, end_reason_name, put_conn_record, ConnMemo};
use super::conn_reference::put_conn_record_reference;
use super::http::http_fields;
use super::packet::{packet_record_at, PacketMemo};
use super::packet_reference::write_packet;
use super::reference::opt_f64;
use super::writer::{needs_escape, put_appended, put_fixed};
use super::{JsonRecords, JsonSink, HELD_CONN_BYTES};
use crate::app::{AppConnStats, HttpTransaction};
use crate::capture::RawFrame;
use crate::decode::DecodedPacket;
use crate::flow::{ConnSummary, EndReason, PacketFlow};
use crate::pipeline::RunSummary;
use std::io;

/// Every connection end reason.
const END_REASONS: [EndReason; 6] = [
    EndReason::Closed,
    EndReason::Reset,
    EndReason::Idle,
    EndReason::EndOfInput,
    EndReason::Evicted,
    EndReason::Reused,
];

/// Runs every capture of the project, and of the shared ones (tunnels and QUIC included)
/// when present, through `sink`.
fn run_over_captures(sink: &mut dyn crate::pipeline::Sink) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("captures")];
    if let Some(shared) = crate::shared_captures_dir() {
        dirs.push(shared.join("../captures-encap"));
        dirs.push(shared);
    }
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.contains(".pcap") {
                continue;
            }
            let Ok(mut src) = crate::capture::FileSource::open(&path) else {
                continue;
            };
            let _ = crate::pipeline::run(&mut src, Default::default(), sink);
        }
    }
}

/// A real connection summary (the first of a recorded capture).
fn some_conn() -> (ConnSummary, AppConnStats) {
    struct First(Option<(ConnSummary, AppConnStats)>);
    impl crate::pipeline::Sink for First {
        fn conn_end(&mut self, c: &ConnSummary, a: &AppConnStats) -> io::Result<()> {
            self.0.get_or_insert((c.clone(), a.clone()));
            Ok(())
        }
    }
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/http11-keepalive.pcap");
    let mut src = crate::capture::FileSource::open(&path).unwrap();
    let mut first = First(None);
    crate::pipeline::run(&mut src, Default::default(), &mut first).unwrap();
    first.0.unwrap()
}

/// `--view conns`: records written as they end come out in id order whatever order
/// the connections end in, with or without falling back to holding them (a tiny
/// limit), and with the held records spilled.
#[test]
fn conn_records_in_id_order_whatever_order_they_end() {
    let (conn, app) = some_conn();
    // Connection 0 ends last; the others in a scrambled order.
    let mut order: Vec<u64> = (1..300).collect();
    let mut x: u64 = 7;
    for i in (1..order.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        order.swap(i, (x >> 33) as usize % (i + 1));
    }
    order.push(0);
    let expected: String = (0..300)
        .map(|id| {
            let mut c = conn.clone();
            c.id = id;
            let mut b = Vec::new();
            put_conn_record(&mut b, &c, &app, &mut ConnMemo::default());
            String::from_utf8(b).unwrap() + "\n"
        })
        .collect();
    for limit in [HELD_CONN_BYTES, 5_000, 0] {
        let mut sink = JsonSink::new(Vec::new());
        sink.records = JsonRecords {
            conns: true,
            ..JsonRecords::NONE
        };
        sink.held_limit = limit;
        for &id in &order {
            let mut c = conn.clone();
            c.id = id;
            crate::pipeline::Sink::conn_end(&mut sink, &c, &app).unwrap();
        }
        crate::pipeline::Sink::finish(&mut sink, &RunSummary::default()).unwrap();
        let out = String::from_utf8(sink.into_inner()).unwrap();
        let records: String = out
            .lines()
            .filter(|l| l.contains("\"type\":\"conn\""))
            .map(|l| l.to_string() + "\n")
            .collect();
        assert_eq!(records, expected, "limit {limit}");
        assert!(out.lines().last().unwrap().contains("\"type\":\"summary\""));
    }
}

/// The record written in place is byte for byte the one written through `Vec`
/// pushes, over every enum value, IPv6, strings that need escaping, a description
/// longer than the usual room (written again), extreme numbers and times.
#[test]
fn conn_record_in_place_as_the_reference_writes_it() {
    use crate::flow::{Direction, Proto, TcpState, TeardownKind};
    use std::borrow::Cow;
    let (base, app) = some_conn();
    let states = [
        TcpState::Closed,
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
    ];
    let kinds = [
        TeardownKind::Fin,
        TeardownKind::Rst,
        TeardownKind::HalfClose,
        TeardownKind::None,
    ];
    let reasons = END_REASONS;
    let long = "x\"y\u{1}\\".repeat(700);
    let mut cases = Vec::new();
    for i in 0..40usize {
        let mut c = base.clone();
        let mut a = app.clone();
        c.proto = if i % 2 == 0 { Proto::Tcp } else { Proto::Udp };
        c.final_state = (i % 5 != 0).then(|| (states[i % 11], states[(i * 7 + 3) % 11]));
        c.teardown.kind = kinds[i % 4];
        c.teardown.initiator = [None, Some(Direction::ToServer), Some(Direction::ToClient)][i % 3];
        c.end_reason = reasons[i % 6];
        c.roles_guessed = i % 3 == 1;
        if i % 3 == 2 {
            c.client.set_port(i as u16 * 1000);
            c.server.set_port(i as u16 % 2 + 79);
        }
        if i % 11 == 10 {
            c.server.set_ip("10.1.255.7".parse().unwrap());
        }
        match i % 8 {
            1 => {
                c.client = "[2001:db8::1]:443".parse().unwrap();
                c.server = "[::ffff:10.0.0.1]:65535".parse().unwrap();
            }
            2 => c.teardown.description = Cow::Owned(long.clone()),
            3 => {
                c.teardown.description = Cow::Owned("tab\there \u{e9}".into());
                c.history = arrayvec::ArrayString::from("a\"b").unwrap();
            }
            4 => {
                c.id = u64::MAX;
                c.first_frame = u64::MAX - 1;
                c.packets.to_server = u64::MAX;
                c.bytes.to_client = 10_000_000_000;
                c.gap_bytes.to_server = 7;
                c.cut_bytes.to_client = 1 << 40;
                a.http_requests = 99;
                a.dns_messages = 1_000_000;
                c.handshake.frames = [None, Some(12), None];
                c.handshake.syn_to_synack_ns = Some(1 << 52);
                c.handshake.synack_to_ack_ns = Some(2);
            }
            5 => {
                c.start.secs = -5;
                c.start.nanos = 999_999_999;
                c.start.precision = 9;
                c.end.secs = i64::MAX;
                c.handshake.syn_to_synack_ns = None;
            }
            6 => {
                c.end = c.start;
                c.end.secs -= 10;
                c.start.nanos = 7;
                c.teardown.frames.clear();
                c.handshake.syn_to_synack_ns = Some(500);
                c.handshake.synack_to_ack_ns = Some(1_000);
            }
            7 => {
                c.start.precision = 9;
                c.end.nanos = c.start.nanos.wrapping_add(1_500) % 1_000_000_000;
                c.gap_bytes.to_client = 1;
            }
            _ => {}
        }
        cases.push((c, a));
    }
    // One memo over all the records (the previous records' text reused, or not).
    let mut memo = ConnMemo::default();
    for (c, a) in &cases {
        let mut want = b"prefix".to_vec();
        put_conn_record_reference(&mut want, c, a).unwrap();
        let mut got = b"prefix".to_vec();
        put_conn_record(&mut got, c, a, &mut memo);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        // In place after other bytes, in a buffer longer than the record.
        let mut buf = vec![b'#'; 5000];
        let n = conn_record_at(&mut buf, 3, c, a, true, &mut memo);
        assert_eq!(&buf[3..3 + n], [&want[6..], b"\n"].concat().as_slice());
        assert_eq!(&buf[..3], b"###");
    }
}

/// Every packet of the project's captures (and of the shared ones, when present, tunnels
/// and QUIC included):
/// the record written in place is byte for byte the one `write_packet` writes, with
/// the remembered addresses and seconds carried from packet to packet.
#[test]
fn packet_records_in_place_as_the_reference_writes_them() {
    struct Both {
        memo: PacketMemo,
        buf: Vec<u8>,
        packets: usize,
    }
    impl crate::pipeline::Sink for Both {
        fn wants_packets(&self) -> bool {
            true
        }
        fn packet(
            &mut self,
            frame: &RawFrame<'_>,
            packet: &DecodedPacket<'_>,
            flow: &PacketFlow,
        ) -> io::Result<()> {
            let mut want = Vec::new();
            write_packet(&mut want, frame, packet, flow)?;
            // After a record's worth of other bytes, over stale bytes past the end.
            let at = self.packets % 700;
            let n = packet_record_at(&mut self.buf, at, frame, packet, flow, &mut self.memo);
            assert_eq!(
                String::from_utf8_lossy(&self.buf[at..at + n]),
                String::from_utf8_lossy(&want),
                "frame {}",
                frame.number
            );
            self.packets += 1;
            Ok(())
        }
    }
    let mut both = Both {
        memo: PacketMemo::default(),
        buf: Vec::new(),
        packets: 0,
    };
    run_over_captures(&mut both);
    assert!(both.packets > 100, "{} packets", both.packets);
}

#[test]
fn decimal_numbers_as_display_writes_them() {
    let mut values: Vec<u64> = (0..=1000).collect();
    for p in 1..=19 {
        let t = 10u64.pow(p);
        values.extend([t - 1, t, t + 1, t + 7 * (t / 10)]);
    }
    values.extend([u64::MAX, u64::MAX - 1, 4_294_967_295, 1_700_000_000]);
    let mut buf = b"x".to_vec();
    for v in values {
        buf.truncate(1);
        put_u64(&mut buf, v);
        assert_eq!(buf, format!("x{v}").as_bytes(), "{v}");
        // The writer's own digits, in a region too short at first.
        buf.truncate(1);
        put_appended(&mut buf, 1, |o| o.u64(v));
        assert_eq!(buf, format!("x{v}").as_bytes(), "{v}");
    }
}

#[test]
fn fixed_point_numbers_as_the_float_formatter_writes_them() {
    let mut cases: Vec<u64> = vec![
        0,
        1,
        499,
        500,
        501,
        999,
        1000,
        1499,
        1500,
        1501,
        999_499,
        999_500,
        999_501,
        999_999_499,
        999_999_500,
        999_999_501,
        1_000_000_000,
        2_500_000_500,
        12_345_678_901,
        (1 << 50) - 1,
        1 << 50,
        (1 << 53) + 1,
        u64::MAX,
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        cases.push(x % 10_000_000_000_000);
        cases.push(x % 100_000_000);
        cases.push((x % 1_000_000) * 1000 + 500);
    }
    for ns in cases {
        let mut b = Vec::new();
        put_fixed(&mut b, ns, 9);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            format!("{:.6}", ns as f64 / 1e9),
            "{ns}"
        );
        let mut b = Vec::new();
        put_fixed(&mut b, ns, 6);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            format!("{:.3}", ns as f64 / 1e6),
            "{ns}"
        );
    }
    for v in [
        0,
        9,
        10,
        99,
        100,
        101,
        999,
        1000,
        65535,
        u64::from(u32::MAX),
        u64::MAX,
    ] {
        let mut b = Vec::new();
        put_u64(&mut b, v);
        assert_eq!(b, v.to_string().as_bytes());
    }
    let mut b = Vec::new();
    put_appended(&mut b, 8, |o| {
        o.padded(42, 6);
        o.padded(1_234_567, 6);
        o.padded(0, 9);
        o.padded(7, 3);
        o.padded(999_999_999, 9);
        o.padded(1_000, 3);
    });
    assert_eq!(b, b"00004212345670000000000079999999991000");
    // Every width the fractions use, against the formatter's zero padding.
    for (v, width) in (0..1_000u32)
        .map(|v| (v, 3))
        .chain((0..1_000_000).step_by(997).map(|v| (v, 6)))
        .chain((0..1_000_000_000).step_by(999_983).map(|v| (v, 9)))
        .chain([
            (999_999, 6),
            (999_999_999, 9),
            (1_000_000, 6),
            (u32::MAX, 9),
        ])
    {
        let mut b = Vec::new();
        put_appended(&mut b, 8, |o| o.padded(v, width));
        assert_eq!(b, format!("{v:0width$}").as_bytes(), "{v} in {width}");
    }
}

#[test]
fn escape_scan_finds_every_byte_that_needs_escaping() {
    for len in 0..20 {
        for at in 0..len {
            for b in 0u8..=255 {
                let mut v = vec![b'a'; len];
                v[at] = b;
                let slow = v.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
                assert_eq!(needs_escape(&v), slow, "{len} {at} {b}");
            }
        }
    }
    assert!(!needs_escape(
        "four-way close (FIN from both sides) \u{e9}".as_bytes()
    ));
}

#[test]
fn http_records_as_fmt_and_serde_wrote_them() {
    let mut t = HttpTransaction {
        conn: 12,
        index: 3,
        request_frame: Some(40),
        method: Some("GET".into()),
        uri: Some("/a\"b\\c\u{1}\u{e9}".into()),
        version: Some("HTTP/1.1".into()),
        host: Some("example.test".into()),
        status: Some(200),
        reason: Some("OK".into()),
        request_body_bytes: Some(0),
        response_body_bytes: Some(123_456),
        latency_ms: Some(1.2345),
        notes: vec!["one".into(), "two \"quoted\"\n".into()],
        ..HttpTransaction::default()
    };
    for round in 0..3 {
        let mut old = Vec::new();
        write_http(&mut old, &t).unwrap();
        let mut new = Vec::new();
        put_appended(&mut new, 64, |o| http_fields(o, &t));
        assert_eq!(
            String::from_utf8(new).unwrap(),
            String::from_utf8(old).unwrap()
        );
        match round {
            0 => t.latency_ms = Some(f64::NAN),
            _ => t = HttpTransaction::default(),
        }
    }
}

#[test]
fn latencies_with_integer_digits_as_the_float_formatter_writes_them() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut cases: Vec<f64> = vec![0.0, -0.0, -1.5, 0.0005, 0.0015, 1e300, f64::NAN, 0.1];
    for _ in 0..30_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for ns in [
            x % 10_000_000_000,
            x % 1_000_000,
            (x % 100_000) * 1000 + 500,
        ] {
            cases.push(ns as f64 / 1e6);
        }
        cases.push(f64::from_bits(x >> 2));
    }
    for ms in cases {
        let mut a = Vec::new();
        put_appended(&mut a, 4, |o| o.ms(ms));
        let mut b = Vec::new();
        opt_f64(&mut b, Some(ms)).unwrap();
        assert_eq!(
            String::from_utf8(a).unwrap(),
            String::from_utf8(b).unwrap(),
            "{ms:e}"
        );
    }
}

#[test]
fn end_reason_names_are_the_debug_names() {
    for r in END_REASONS {
        assert_eq!(end_reason_name(r), format!("{r:?}"));
    }
}

#[test]
fn json_strings_as_serde_writes_them() {
    for s in [
        "",
        "four-way close",
        "ShADadFf",
        "abort by RST from server in ESTABLISHED",
        "a \"quoted\" word",
        "back\\slash",
        "tab\there",
        "\u{1}\u{1f}\u{7f}",
        "é → ✓",
    ] {
        let mut ours = Vec::new();
        put_appended(&mut ours, 4, |o| o.json_str(s));
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            serde_json::to_string(s).unwrap()
        );
    }
}

/// Every `http`, `dns`, `tls`/`tls_record` and `quic` record, and the `summary`, of the
/// project's captures (and of the shared ones, tunnels and QUIC included, when present):
/// written in place, byte for byte what the `core::fmt` and serde_json writers wrote.
#[test]
fn app_and_summary_records_as_the_reference_writes_them() {
    use super::app_reference::{write_dns, write_quic, write_summary, write_tls};
    use crate::app::AppEvent;
    #[derive(Default)]
    struct Both {
        buf: Vec<u8>,
        counts: [usize; 5],
    }
    impl Both {
        fn check(
            &mut self,
            kind: usize,
            want: Vec<u8>,
            room: usize,
            write: impl FnMut(&mut super::writer::Put<'_>),
        ) {
            // After other bytes, over stale bytes past the end, in a region too short at
            // first (written again).
            let at = self.counts.iter().sum::<usize>() % 300;
            let n = super::writer::put_in_place(&mut self.buf, at, room, write);
            assert_eq!(
                String::from_utf8_lossy(&self.buf[at..at + n]),
                String::from_utf8_lossy(&want)
            );
            self.counts[kind] += 1;
        }
    }
    impl crate::pipeline::Sink for Both {
        fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
            let mut want = Vec::new();
            match event {
                AppEvent::Http(t) => {
                    write_http(&mut want, t)?;
                    self.check(0, want, 16, |o| http_fields(o, t));
                }
                AppEvent::Dns(d) => {
                    write_dns(&mut want, d)?;
                    self.check(1, want, 16, |o| super::dns::dns_fields(o, d));
                }
                AppEvent::Tls(t) => {
                    write_tls(&mut want, t)?;
                    self.check(2, want, 16, |o| super::tls::tls_fields(o, t));
                }
                AppEvent::Quic(q) => {
                    write_quic(&mut want, q)?;
                    self.check(3, want, 16, |o| super::quic::quic_fields(o, q));
                }
            }
            Ok(())
        }
        fn finish(&mut self, s: &RunSummary) -> io::Result<()> {
            let mut want = Vec::new();
            write_summary(&mut want, s)?;
            self.check(4, want, 16, |o| super::summary::summary_fields(o, s));
            Ok(())
        }
    }
    let mut both = Both::default();
    run_over_captures(&mut both);
    // Every record type met (the project's captures alone have them all).
    assert!(both.counts.iter().all(|&n| n > 0), "{:?}", both.counts);
}

/// A summary with every optional part: the reference's text, in place.
#[test]
fn full_summary_as_the_reference_writes_it() {
    let mut s = RunSummary {
        frames: 12,
        error: Some("bad \"file\"\n".into()),
        truncated: Some(crate::capture::Truncation {
            last_frame: 11,
            offset: 1 << 40,
            needed: 1500,
            had: 3,
        }),
        tombstones_evicted: 1,
        tunnel_parents_cut: 2,
        lingers_cut: 3,
        fcs_stripped: 4,
        first_fragments_given_up: 5,
        quic_crypto_cut_bytes: 6,
        ..RunSummary::default()
    };
    s.tls.decrypted_records = 7;
    s.tls.quic.opened = 8;
    s.tls.http2.frames_cut = 9;
    let mut want = Vec::new();
    super::app_reference::write_summary(&mut want, &s).unwrap();
    let mut got = Vec::new();
    put_appended(&mut got, 8, |o| super::summary::summary_fields(o, &s));
    assert_eq!(
        String::from_utf8(got).unwrap(),
        String::from_utf8(want).unwrap()
    );
}
