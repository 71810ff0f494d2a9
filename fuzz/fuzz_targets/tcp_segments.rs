//! One TCP connection's segments through the sequence analysis, Wireshark's unacked-segment
//! lists (ack_rtt, bytes in flight), the RFC 6298 / textbook estimators and the timing
//! breakdown; then, for short inputs, one graph (terminal or SVG, chosen by the first byte) and the RTT table of
//! what they said. Each segment is 16 bytes: `[dir+flags][seq u32][ack u32][len u16]
//! [window u16][time step][sack]` (LE); seq/ack are offsets from the last ones so that
//! in-order, repeated and wild numbers all occur.
#![no_main]

use layerscope::capture::Timestamp;
use layerscope::decode::{TcpFlags, TcpInfo, TcpOptions};
use layerscope::flow::analysis::TcpAnalyzer;
use layerscope::flow::{AnalysisFlags, Direction};
use layerscope::render::graph::model::GraphKind;
use layerscope::render::graph::trace::{ConnTrace, TracePacket};
use layerscope::render::graph::{self, GraphFormat, GraphOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut a = TcpAnalyzer::new();
    let mut trace = ConnTrace::default();
    let mut next = [1000u32, 5000u32];
    let mut ns = 1_700_000_000_000_000_000i64;
    for (i, c) in data.chunks_exact(16).enumerate() {
        let dir = if c[0] & 0x80 != 0 {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        let d = dir.index();
        let flags = u16::from(c[0] & 0x7f) | if c[0] & 0x40 != 0 { TcpFlags::ACK } else { 0 };
        let mode = c[15] >> 6;
        let seq_off = u32::from_le_bytes([c[1], c[2], c[3], c[4]]);
        let ack_off = u32::from_le_bytes([c[5], c[6], c[7], c[8]]);
        let seq = match mode {
            0 => next[d],
            1 => next[d].wrapping_sub(seq_off & 0xffff),
            _ => seq_off,
        };
        let ack = if mode == 3 {
            ack_off
        } else {
            next[1 - d].wrapping_sub(ack_off & 0x3fff)
        };
        let len = u32::from(u16::from_le_bytes([c[9], c[10]])) & 0x7fff;
        let window = u16::from_le_bytes([c[11], c[12]]);
        ns = ns.wrapping_add(match c[13] {
            255 => -3_000_000_000,
            254 => 60_000_000_000,
            s => i64::from(s) * 37_000,
        });
        let mut options = TcpOptions::default();
        if c[14] & 1 != 0 {
            options.window_scale = Some(c[14] >> 4);
        }
        for k in 0..(c[15] & 3) {
            let left = next[1 - d].wrapping_add(u32::from(c[14]) * 100 * u32::from(k + 1));
            let _ = options
                .sack
                .try_push((left, left.wrapping_add(u32::from(c[15]) * 10)));
        }
        let tcp = TcpInfo {
            src_port: 1,
            dst_port: 2,
            seq,
            ack,
            flags: TcpFlags(flags),
            window,
            header_len: 20,
            options,
            payload_len: len,
        };
        let ts = Timestamp {
            secs: ns.div_euclid(1_000_000_000),
            nanos: ns.rem_euclid(1_000_000_000) as u32,
            precision: 9,
        };
        let r = a.analyze(dir, &tcp, ts, i as u64 + 1);
        if mode == 0 {
            next[d] = seq.wrapping_add(len);
        }
        if data.len() <= 64 * 16 {
            trace.packets.push(TracePacket {
                frame: i as u64 + 1,
                t: (ns - 1_700_000_000_000_000_000i64) as f64 / 1e9,
                dir,
                seq,
                ack,
                len,
                syn: tcp.flags.syn(),
                fin: tcp.flags.fin(),
                rst: tcp.flags.rst(),
                ack_flag: tcp.flags.ack(),
                window: u64::from(window) << (c[14] >> 4).min(14),
                analysis: AnalysisFlags(r.flags.0),
                rtt: r.rtt,
                sack: tcp.options.sack.clone(),
            });
        }
    }
    let t = a.timing();
    let _ = t.server_ns(Some(1000));
    if !trace.packets.is_empty() {
        // One graph per input (its kind, format, colour and teaching from the first byte):
        // every combination is reached over the runs at a tenth of the cost of drawing all.
        let width = 20 + usize::from(data[0]);
        let kind = [
            GraphKind::Seq,
            GraphKind::Tcptrace,
            GraphKind::Rtt,
            GraphKind::Throughput,
            GraphKind::Window,
        ][usize::from(data[0] % 5)];
        let format = if data[0] & 0x20 != 0 {
            GraphFormat::Svg
        } else {
            GraphFormat::Text
        };
        let opts = GraphOptions {
            kind,
            format,
            width,
            color: data[0] & 1 != 0,
            teach: data[0] & 0x40 != 0,
            dir: None,
        };
        let _ = graph::render(&trace, &opts);
        let _ = graph::rtt_table::render(&trace);
    }
});
