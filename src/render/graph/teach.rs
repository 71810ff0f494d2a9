//! `--teach` under a graph: what to look for in it, with the frames of this capture that
//! show it (rounds of slow start, retransmissions and the silence before a timeout, the
//! RTT samples Karn's rule left out, window-limited stretches).

use super::model::GraphKind;
use super::trace::{ConnTrace, TracePacket};
use crate::flow::{AnalysisFlags, Direction};
use std::fmt::Write as _;

/// Frames listed at most per finding.
const LIST_MAX: usize = 8;

fn frames(list: &[u64]) -> String {
    let mut s: Vec<String> = list.iter().take(LIST_MAX).map(u64::to_string).collect();
    if list.len() > LIST_MAX {
        s.push(format!("… ({} in all)", list.len()));
    }
    s.join(", ")
}

/// The connection's RTT for grouping segments into rounds: the first SRTT, else the first
/// ack_rtt sample, in seconds.
fn round_trip(trace: &ConnTrace, dir: Direction) -> Option<f64> {
    trace
        .packets
        .iter()
        .filter(|p| p.dir != dir)
        .find_map(|p| p.rtt.estimate.and_then(|e| e.srtt_ns.or(Some(e.sample_ns))))
        .map(|ns| ns / 1e9)
        .filter(|s| *s > 0.0)
}

fn is_resent(p: &TracePacket) -> bool {
    p.analysis.0 & (AnalysisFlags::RETRANSMISSION | AnalysisFlags::FAST_RETRANSMISSION) != 0
}

/// The lines printed under a graph of `kind`.
pub fn lines(trace: &ConnTrace, kind: GraphKind, dir: Direction) -> Vec<String> {
    let data: Vec<&TracePacket> = trace
        .packets
        .iter()
        .filter(|p| p.dir == dir && p.len > 0)
        .collect();
    let mut out = Vec::new();
    match kind {
        GraphKind::Seq | GraphKind::Tcptrace => {
            out.push(
                "What to look for: in slow start the line of segments curves upward (each round \
                 trip the sender sends about twice as much as in the one before); in congestion \
                 avoidance it climbs straight (about one segment more per round trip); a \
                 retransmission timeout shows as a flat stretch with nothing sent, then a red \
                 segment below the line."
                    .into(),
            );
            if kind == GraphKind::Tcptrace {
                out.push(
                    "The green staircase is the ACK line (what the receiver has), the cyan one \
                     the edge of its window (ACK + advertised window): the sender may not send \
                     above it. Light green bars are SACKed ranges, yellow dots duplicate ACKs."
                        .into(),
                );
            }
            if let Some(rtt) = round_trip(trace, dir) {
                let mut rounds: Vec<(u64, u64, u64)> = Vec::new();
                let start = data.first().map(|p| p.t).unwrap_or(0.0);
                for p in data.iter().filter(|p| !is_resent(p)) {
                    let r = ((p.t - start) / rtt) as usize;
                    if r >= 12 {
                        break;
                    }
                    while rounds.len() <= r {
                        rounds.push((0, p.frame, p.frame));
                    }
                    rounds[r].0 += u64::from(p.len);
                    rounds[r].2 = p.frame;
                }
                let rounds: Vec<_> = rounds.into_iter().filter(|r| r.0 > 0).collect();
                if rounds.len() >= 2 {
                    let mut s = format!("Bytes sent per round trip ({:.1} ms):", rtt * 1e3);
                    for (b, f0, f1) in rounds.iter().take(8) {
                        let _ = write!(s, " {b} (frames {f0}–{f1});");
                    }
                    out.push(s);
                    let doubling = rounds
                        .windows(2)
                        .take_while(|w| w[1].0 * 10 >= w[0].0 * 15)
                        .count();
                    if doubling >= 1 {
                        out.push(format!(
                            "Slow start: the first {} rounds grew by half or more each (exponential), up to frame {}.",
                            doubling + 1,
                            rounds[doubling].2
                        ));
                    } else {
                        out.push("No round grew by half over the one before: no visible slow start (the transfer may be too short, or limited by the application or the window).".into());
                    }
                }
            }
            let fast: Vec<u64> = data
                .iter()
                .filter(|p| p.analysis.has(AnalysisFlags::FAST_RETRANSMISSION))
                .map(|p| p.frame)
                .collect();
            let mut timeouts = Vec::new();
            let mut prev_t: Option<f64> = None;
            for p in trace.packets.iter().filter(|p| p.dir == dir) {
                if is_resent(p) && !p.analysis.has(AnalysisFlags::FAST_RETRANSMISSION) {
                    let gap = prev_t.map_or(0.0, |t| p.t - t);
                    timeouts.push(format!(
                        "frame {} after {:.0} ms of silence",
                        p.frame,
                        gap * 1e3
                    ));
                }
                prev_t = Some(p.t);
            }
            if !fast.is_empty() {
                out.push(format!(
                    "Fast retransmissions (after duplicate ACKs): frames {}.",
                    frames(&fast)
                ));
            }
            if !timeouts.is_empty() {
                let n = timeouts.len();
                timeouts.truncate(LIST_MAX);
                out.push(format!(
                    "Other retransmissions ({n}; a long silence before one means a timeout): {}.",
                    timeouts.join("; ")
                ));
            }
            if fast.is_empty() && timeouts.is_empty() {
                out.push("No retransmission in this direction.".into());
            }
        }
        GraphKind::Rtt => {
            out.push(
                "What to look for: each dot is one SampleRTT (an ACK that first acknowledges a \
                 segment, timed from when the segment was sent, as tshark's ack_rtt). SRTT \
                 follows them slowly (α = 1/8, the textbook's EstimatedRTT); RTO = SRTT + \
                 4·RTTVAR, never below 1 s (RFC 6298). Dots far above SRTT are queueing or \
                 delayed ACKs."
                    .into(),
            );
            let samples: Vec<(u64, f64, bool)> = trace
                .packets
                .iter()
                .filter(|p| p.dir != dir)
                .filter_map(|p| {
                    p.rtt
                        .estimate
                        .map(|e| (p.frame, e.sample_ns / 1e6, e.karn_skipped))
                })
                .collect();
            if let (Some(lo), Some(hi)) = (
                samples.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
                samples.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
            ) {
                let mean = samples.iter().map(|s| s.1).sum::<f64>() / samples.len() as f64;
                out.push(format!(
                    "{} samples: lowest {:.3} ms (frame {}), highest {:.3} ms (frame {}), mean {:.3} ms.",
                    samples.len(), lo.1, lo.0, hi.1, hi.0, mean
                ));
            }
            let karn: Vec<u64> = samples.iter().filter(|s| s.2).map(|s| s.0).collect();
            if !karn.is_empty() {
                out.push(format!("Karn's rule left out the samples of frames {} (they acknowledge resent segments).", frames(&karn)));
            }
        }
        GraphKind::Throughput | GraphKind::CaptureThroughput | GraphKind::Connections => {
            out.push(
                "What to look for: goodput counts new payload bytes only (retransmissions left \
                 out) per interval; a drop to zero is a stall (a timeout, a zero window, or the \
                 application waiting); the line is the average over the transfer."
                    .into(),
            );
            let mut biggest = (0.0f64, 0u64);
            for w in data.windows(2) {
                if w[1].t - w[0].t > biggest.0 {
                    biggest = (w[1].t - w[0].t, w[1].frame);
                }
            }
            if biggest.1 != 0 {
                out.push(format!(
                    "Longest pause between data segments: {:.1} ms, ending at frame {}.",
                    biggest.0 * 1e3,
                    biggest.1
                ));
            }
        }
        GraphKind::Window => {
            out.push(
                "What to look for: when the bytes in flight reach the advertised window the \
                 receiver limits the sender (window full); at a zero window the sender must \
                 wait; bytes in flight well under the window mean the congestion window or \
                 the sending application set the pace."
                    .into(),
            );
            let full: Vec<u64> = data
                .iter()
                .filter(|p| p.analysis.has(AnalysisFlags::WINDOW_FULL))
                .map(|p| p.frame)
                .collect();
            let zero: Vec<u64> = trace
                .packets
                .iter()
                .filter(|p| p.dir != dir && p.analysis.has(AnalysisFlags::ZERO_WINDOW))
                .map(|p| p.frame)
                .collect();
            out.push(if full.is_empty() {
                "The sender never filled the receiver's window.".into()
            } else {
                format!(
                    "Window full (the receiver limited the sender): frames {}.",
                    frames(&full)
                )
            });
            if !zero.is_empty() {
                out.push(format!("Zero window advertised: frames {}.", frames(&zero)));
            }
        }
    }
    out
}
