//! What each graph shows, computed from a [`ConnTrace`]: series of points in data units
//! (seconds, bytes, milliseconds, bits per second), with the axis names and units. Drawing
//! (terminal or SVG) is elsewhere and knows nothing of TCP.

use super::trace::{ConnTrace, TracePacket};
use crate::flow::{AnalysisFlags, Direction};

/// Which graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphKind {
    /// Stevens time-sequence: each data segment's sequence number against time.
    Seq,
    /// tcptrace: segments as bars, the ACK line, the receive-window line, SACKed ranges.
    Tcptrace,
    /// RTT samples with the SRTT and RTO lines.
    Rtt,
    /// Goodput per interval, with the average.
    Throughput,
    /// Bytes in flight against the advertised window.
    Window,
    /// The whole capture: the bit rate of every frame per interval
    /// ([`super::capture::CaptureTimeline`]).
    CaptureThroughput,
    /// The whole capture: connections open and started per interval.
    Connections,
}

impl GraphKind {
    pub fn name(self) -> &'static str {
        match self {
            GraphKind::Seq => "seq",
            GraphKind::Tcptrace => "tcptrace",
            GraphKind::Rtt => "rtt",
            GraphKind::Throughput => "throughput",
            GraphKind::Window => "window",
            GraphKind::CaptureThroughput => "throughput",
            GraphKind::Connections => "conns",
        }
    }

    /// A graph of the whole capture rather than of one connection.
    pub fn of_capture(self) -> bool {
        matches!(self, GraphKind::CaptureThroughput | GraphKind::Connections)
    }
}

/// What a series stands for: its colour and legend come from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Data,
    Ack,
    Window,
    Sack,
    Sample,
    Srtt,
    Rto,
    Goodput,
    Average,
    InFlight,
    Retransmission,
    DupAck,
    ZeroWindow,
    WindowFull,
    /// Whole-capture graphs: frame bit rate, connections open, connections started.
    WireRate,
    OpenConns,
    NewConns,
}

impl Role {
    pub fn legend(self) -> &'static str {
        match self {
            Role::Data => "data segment",
            Role::Ack => "ACK",
            Role::Window => "receive window edge",
            Role::Sack => "SACKed range",
            Role::Sample => "RTT sample",
            Role::Srtt => "SRTT",
            Role::Rto => "RTO",
            Role::Goodput => "goodput",
            Role::Average => "average",
            Role::InFlight => "bytes in flight",
            Role::Retransmission => "retransmission",
            Role::DupAck => "duplicate ACK",
            Role::ZeroWindow => "zero window",
            Role::WindowFull => "window full",
            Role::WireRate => "bit rate of all frames",
            Role::OpenConns => "connections open",
            Role::NewConns => "connections started",
        }
    }
}

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// One dot per point.
    Dot,
    /// Points joined by straight lines.
    Line,
    /// Points joined as a staircase (the value holds until the next point).
    Step,
    /// A vertical bar per point, from `y` to `y2`.
    Bar,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// Top of a bar.
    pub y2: f64,
    pub frame: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub role: Role,
    pub mark: Mark,
    pub points: Vec<Point>,
}

/// A graph ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub kind: GraphKind,
    pub title: String,
    pub x_label: &'static str,
    pub y_label: &'static str,
    /// Unit name for the y tick labels ("B", "ms", "bit/s").
    pub y_unit: &'static str,
    pub series: Vec<Series>,
    /// Lines printed under the graph: cut counts, empty-graph reasons.
    pub notes: Vec<String>,
}

impl Graph {
    /// (x min, x max, y min, y max) over every point (bars' tops too); a unit range when
    /// there is nothing. A receive-window or RTO line more than twice as high as everything
    /// else does not stretch the y axis (it is clipped at 1.5 times the rest's top: the data
    /// would otherwise be a flat line at the bottom).
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        let mut b = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        let mut window_top = f64::MIN;
        for s in &self.series {
            for p in &s.points {
                b.0 = b.0.min(p.x);
                b.1 = b.1.max(p.x);
                if matches!(s.role, Role::Window | Role::Rto) {
                    window_top = window_top.max(p.y.max(p.y2));
                    continue;
                }
                b.2 = b.2.min(p.y.min(p.y2));
                b.3 = b.3.max(p.y.max(p.y2));
            }
        }
        if window_top > f64::MIN {
            if b.3 == f64::MIN {
                b.2 = 0.0;
                b.3 = window_top;
            } else if window_top <= 2.0 * b.3 {
                b.3 = b.3.max(window_top);
            } else {
                b.3 *= 1.5;
            }
        }
        if b.0 > b.1 {
            return (0.0, 1.0, 0.0, 1.0);
        }
        if b.1 - b.0 < 1e-9 {
            b.1 = b.0 + 1e-3;
        }
        b.2 = b.2.min(0.0);
        if b.3 - b.2 < 1e-9 {
            b.3 = b.2 + 1.0;
        }
        b
    }

    /// The y axis title: "label (unit)", or the label alone for counts.
    pub fn y_title(&self) -> String {
        if self.y_unit.is_empty() {
            self.y_label.to_string()
        } else {
            format!("{} ({})", self.y_label, self.y_unit)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty())
    }
}

fn pt(p: &TracePacket, y: f64) -> Point {
    Point {
        x: p.t,
        y,
        y2: y,
        frame: p.frame,
    }
}

fn resent(p: &TracePacket) -> bool {
    p.analysis.0
        & (AnalysisFlags::RETRANSMISSION
            | AnalysisFlags::FAST_RETRANSMISSION
            | AnalysisFlags::SPURIOUS_RETRANSMISSION)
        != 0
}

fn push(series: &mut Vec<Series>, role: Role, mark: Mark, points: Vec<Point>) {
    if !points.is_empty() {
        series.push(Series { role, mark, points });
    }
}

/// The graph of `kind` for the segments sent in `dir` (and the ACKs coming back).
pub fn build(trace: &ConnTrace, kind: GraphKind, dir: Direction) -> Graph {
    let data: Vec<&TracePacket> = trace
        .packets
        .iter()
        .filter(|p| p.dir == dir && (p.len > 0 || p.syn || p.fin))
        .collect();
    let acks: Vec<&TracePacket> = trace
        .packets
        .iter()
        .filter(|p| p.dir != dir && p.ack_flag)
        .collect();
    let mut series = Vec::new();
    let (y_label, y_unit) = match kind {
        GraphKind::Seq => {
            let (plain, re): (Vec<&&TracePacket>, Vec<&&TracePacket>) =
                data.iter().partition(|p| !resent(p));
            push(
                &mut series,
                Role::Data,
                Mark::Dot,
                plain.iter().map(|p| pt(p, f64::from(p.seq))).collect(),
            );
            push(
                &mut series,
                Role::Retransmission,
                Mark::Dot,
                re.iter().map(|p| pt(p, f64::from(p.seq))).collect(),
            );
            ("sequence number (relative)", "B")
        }
        GraphKind::Tcptrace => {
            let bar = |p: &&&TracePacket| Point {
                y2: f64::from(p.seq) + f64::from(p.len.max(1)),
                ..pt(p, f64::from(p.seq))
            };
            let (plain, re): (Vec<&&TracePacket>, Vec<&&TracePacket>) =
                data.iter().partition(|p| !resent(p));
            push(
                &mut series,
                Role::Data,
                Mark::Bar,
                plain.iter().map(bar).collect(),
            );
            push(
                &mut series,
                Role::Retransmission,
                Mark::Bar,
                re.iter().map(bar).collect(),
            );
            push(
                &mut series,
                Role::Ack,
                Mark::Step,
                acks.iter().map(|p| pt(p, f64::from(p.ack))).collect(),
            );
            push(
                &mut series,
                Role::Window,
                Mark::Step,
                acks.iter()
                    .map(|p| pt(p, f64::from(p.ack) + p.window as f64))
                    .collect(),
            );
            let sacks = acks
                .iter()
                .flat_map(|p| {
                    p.sack.iter().map(|(l, r)| Point {
                        y2: f64::from(*r),
                        ..pt(p, f64::from(*l))
                    })
                })
                .collect();
            push(&mut series, Role::Sack, Mark::Bar, sacks);
            let dups = acks
                .iter()
                .filter(|p| p.analysis.has(AnalysisFlags::DUPLICATE_ACK))
                .map(|p| pt(p, f64::from(p.ack)))
                .collect();
            push(&mut series, Role::DupAck, Mark::Dot, dups);
            let zero = acks
                .iter()
                .filter(|p| p.analysis.has(AnalysisFlags::ZERO_WINDOW))
                .map(|p| pt(p, f64::from(p.ack)))
                .collect();
            push(&mut series, Role::ZeroWindow, Mark::Dot, zero);
            ("sequence number (relative)", "B")
        }
        GraphKind::Rtt => {
            // Samples taken on ACKs coming back, timing the segments sent in `dir`.
            let with: Vec<_> = acks
                .iter()
                .filter_map(|p| p.rtt.estimate.map(|e| (p, e)))
                .collect();
            push(
                &mut series,
                Role::Sample,
                Mark::Dot,
                with.iter().map(|(p, e)| pt(p, e.sample_ns / 1e6)).collect(),
            );
            push(
                &mut series,
                Role::Srtt,
                Mark::Line,
                with.iter()
                    .filter_map(|(p, e)| e.srtt_ns.map(|v| pt(p, v / 1e6)))
                    .collect(),
            );
            push(
                &mut series,
                Role::Rto,
                Mark::Line,
                with.iter()
                    .filter_map(|(p, e)| e.rto_ns.map(|v| pt(p, v / 1e6)))
                    .collect(),
            );
            ("round-trip time", "ms")
        }
        GraphKind::Throughput | GraphKind::CaptureThroughput | GraphKind::Connections => {
            let (points, average) = goodput(trace, dir);
            push(&mut series, Role::Goodput, Mark::Step, points);
            push(&mut series, Role::Average, Mark::Line, average);
            ("goodput (new payload bytes)", "bit/s")
        }
        GraphKind::Window => {
            push(
                &mut series,
                Role::InFlight,
                Mark::Dot,
                data.iter()
                    .filter(|p| p.rtt.bytes_in_flight > 0)
                    .map(|p| pt(p, f64::from(p.rtt.bytes_in_flight)))
                    .collect(),
            );
            push(
                &mut series,
                Role::Window,
                Mark::Step,
                acks.iter().map(|p| pt(p, p.window as f64)).collect(),
            );
            let full = data
                .iter()
                .filter(|p| p.analysis.has(AnalysisFlags::WINDOW_FULL))
                .map(|p| pt(p, f64::from(p.rtt.bytes_in_flight)))
                .collect();
            push(&mut series, Role::WindowFull, Mark::Dot, full);
            let zero = acks
                .iter()
                .filter(|p| p.analysis.has(AnalysisFlags::ZERO_WINDOW))
                .map(|p| pt(p, 0.0))
                .collect();
            push(&mut series, Role::ZeroWindow, Mark::Dot, zero);
            ("bytes", "B")
        }
    };
    let ends = match (&trace.client, &trace.server) {
        (Some(c), Some(s)) if dir == Direction::ToServer => format!(" {c} → {s}"),
        (Some(c), Some(s)) => format!(" {s} → {c}"),
        _ => format!(" {}", dir.as_str()),
    };
    let mut notes = Vec::new();
    if trace.cut > 0 {
        notes.push(format!(
            "{} packets after the first {} were not kept (cap); the graph ends there",
            trace.cut,
            trace.packets.len()
        ));
    }
    let graph = Graph {
        kind,
        title: format!("conn {} {}:{}", trace.conn, kind.name(), ends),
        x_label: "time since the connection's first packet",
        y_label,
        y_unit,
        series,
        notes,
    };
    if graph.is_empty() {
        let mut g = graph;
        g.notes.push(format!(
            "nothing to draw: no {} in this direction",
            match kind {
                GraphKind::Rtt => "RTT samples",
                GraphKind::Window => "bytes in flight",
                _ => "data segments",
            }
        ));
        return g;
    }
    graph
}

/// Goodput of `dir` per interval (new payload bytes, retransmissions left out, as bit/s)
/// and the average over the transfer: the interval is the connection's duration over 40,
/// at least 1 ms.
fn goodput(trace: &ConnTrace, dir: Direction) -> (Vec<Point>, Vec<Point>) {
    let data: Vec<&TracePacket> = trace
        .packets
        .iter()
        .filter(|p| p.dir == dir && p.len > 0 && !resent(p))
        .collect();
    let (Some(first), Some(last)) = (data.first(), data.last()) else {
        return (Vec::new(), Vec::new());
    };
    let span = (last.t - first.t).max(1e-3);
    let step = (span / 40.0).max(1e-3);
    let bins = ((span / step).ceil() as usize).clamp(1, 1000);
    let mut bytes = vec![0u64; bins];
    for p in &data {
        let i = (((p.t - first.t) / step) as usize).min(bins - 1);
        bytes[i] += u64::from(p.len);
    }
    let points = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| Point {
            x: first.t + i as f64 * step,
            y: *b as f64 * 8.0 / step,
            y2: *b as f64 * 8.0 / step,
            frame: 0,
        })
        .collect();
    let total: u64 = bytes.iter().sum();
    let avg = total as f64 * 8.0 / (step * bins as f64);
    let line = [first.t, first.t + step * bins as f64]
        .iter()
        .map(|x| Point {
            x: *x,
            y: avg,
            y2: avg,
            frame: 0,
        })
        .collect();
    (points, line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::rtt::SegmentRtt;

    fn packet(
        frame: u64,
        t: f64,
        dir: Direction,
        seq: u32,
        len: u32,
        analysis: u16,
    ) -> TracePacket {
        TracePacket {
            frame,
            t,
            dir,
            seq,
            ack: 1,
            len,
            syn: false,
            fin: false,
            rst: false,
            ack_flag: true,
            window: 65535,
            analysis: AnalysisFlags(analysis),
            rtt: SegmentRtt::default(),
            sack: Default::default(),
        }
    }

    /// Three new 1000-byte segments at 0, 0.5 and 1 s and a resent one: the interval is
    /// 1 s / 40 = 25 ms, each segment's interval carries 1000·8 / 0.025 = 320 000 bit/s,
    /// the average is 3000·8 bits over 40·25 ms = 24 000 bit/s; the resend counts nowhere.
    #[test]
    fn goodput_by_hand() {
        let s = Direction::ToClient;
        let trace = ConnTrace {
            packets: vec![
                packet(1, 0.0, s, 1, 1000, 0),
                packet(2, 0.5, s, 1001, 1000, 0),
                packet(3, 0.75, s, 1, 1000, AnalysisFlags::RETRANSMISSION),
                packet(4, 1.0, s, 2001, 1000, 0),
            ],
            ..ConnTrace::default()
        };
        let g = build(&trace, GraphKind::Throughput, s);
        let bins = &g.series[0].points;
        assert_eq!(bins.len(), 40);
        let busy: Vec<(usize, f64)> = bins
            .iter()
            .enumerate()
            .filter(|(_, p)| p.y > 0.0)
            .map(|(i, p)| (i, p.y))
            .collect();
        assert_eq!(busy.len(), 3);
        assert_eq!((busy[0].0, busy[1].0, busy[2].0), (0, 20, 39));
        for (_, y) in &busy {
            assert!((y - 320_000.0).abs() < 1e-6, "{y}");
        }
        assert!((g.series[1].points[0].y - 24_000.0).abs() < 1e-6);
        // Seq: the resend is its own series, at its seq.
        let seq = build(&trace, GraphKind::Seq, s);
        assert_eq!(seq.series[0].points.len(), 3);
        assert_eq!(seq.series[1].role, Role::Retransmission);
        assert_eq!(
            (seq.series[1].points[0].x, seq.series[1].points[0].y),
            (0.75, 1.0)
        );
    }
}
