//! `--view rtt`: one row per RTT sample of a connection, the numbers a student is asked
//! for: SampleRTT (tshark's ack_rtt), the textbook's EstimatedRTT, DevRTT and
//! TimeoutInterval, and RFC 6298's SRTT, RTTVAR and RTO with Karn's rule.

use super::trace::ConnTrace;
use crate::flow::Direction;
use std::fmt::Write as _;

fn ms(ns: Option<f64>) -> String {
    ns.map_or_else(|| "-".into(), |v| format!("{:.3}", v / 1e6))
}

/// The table of one connection's samples (both directions, in capture order).
pub fn render(trace: &ConnTrace) -> String {
    let mut o = String::new();
    let ends = match (&trace.client, &trace.server) {
        (Some(c), Some(s)) => format!(" {c} ⇄ {s}"),
        _ => String::new(),
    };
    let _ = writeln!(o, "conn {}{ends}: RTT samples (times in ms)", trace.conn);
    let _ = writeln!(
        o,
        "{:>7} {:>10} {:>6} {:<9} {:>10} {:>10} {:>9} {:>10} {:>10} {:>9} {:>9} Karn",
        "frame",
        "time s",
        "acks",
        "timing",
        "SampleRTT",
        "Estimated",
        "DevRTT",
        "Timeout",
        "SRTT",
        "RTTVAR",
        "RTO"
    );
    let mut n = 0;
    for p in &trace.packets {
        let Some(e) = p.rtt.estimate else { continue };
        n += 1;
        let measured = match e.measured {
            Some(Direction::ToServer) => "client",
            Some(Direction::ToClient) => "server",
            None => "-",
        };
        let _ = writeln!(
            o,
            "{:>7} {:>10.6} {:>6} {:<9} {:>10} {:>10} {:>9} {:>10} {:>10} {:>9} {:>9} {}",
            p.frame,
            p.t,
            p.rtt.acked_frame,
            measured,
            ms(Some(e.sample_ns)),
            ms(Some(e.estimated_ns)),
            ms(Some(e.dev_ns)),
            ms(Some(e.timeout_ns)),
            ms(e.srtt_ns),
            ms(e.rttvar_ns),
            ms(e.rto_ns),
            if e.karn_skipped {
                "skipped (resent)"
            } else {
                ""
            }
        );
    }
    if n == 0 {
        let _ = writeln!(o, "(no RTT sample: no ACK acknowledged a segment exactly)");
    }
    let _ = writeln!(
        o,
        "timing: whose segments the ACK times. Estimated = 0.875·Estimated + 0.125·SampleRTT \
         (first: SampleRTT); DevRTT = 0.75·DevRTT + 0.25·|SampleRTT − Estimated|; Timeout = \
         Estimated + 4·DevRTT. RFC 6298: RTTVAR = 0.75·RTTVAR + 0.25·|SRTT − R|, then SRTT = \
         0.875·SRTT + 0.125·R; RTO = SRTT + 4·RTTVAR, at least 1000 ms; Karn: no sample from \
         an ACK covering a resent segment."
    );
    if trace.cut > 0 {
        let _ = writeln!(o, "{} later packets were not kept (cap)", trace.cut);
    }
    o
}
