//! Graphs of the whole capture (`layerscope graph FILE` without `--conn`): the bit rate of
//! every frame on the wire over time, and connections over time (how many were open at the
//! end of each interval, how many started in it).
//!
//! Memory is bounded whatever the capture's length: at most [`MAX_BINS`] intervals; when
//! the capture outgrows them, neighbouring intervals merge and the interval doubles, so a
//! week-long capture costs what a second-long one does (and says its interval in a note).

use super::model::{Graph, GraphKind, Mark, Point, Role, Series};
use crate::app::AppConnStats;
use crate::capture::{RawFrame, Timestamp};
use crate::decode::DecodedPacket;
use crate::flow::{ConnSummary, PacketFlow};
use crate::pipeline::Sink;
use std::io;

/// Intervals kept at most.
pub const MAX_BINS: usize = 512;
/// The first interval width: 1 ms (it doubles as the capture grows).
const FIRST_WIDTH_NS: i64 = 1_000_000;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Bin {
    /// Frame bytes on the wire and frames.
    bytes: u64,
    frames: u64,
    /// Connections whose first / last packet fell in this interval.
    started: u64,
    ended: u64,
}

/// The whole capture's timeline, fed as a [`Sink`].
#[derive(Clone, Debug, Default)]
pub struct CaptureTimeline {
    start: Option<Timestamp>,
    width_ns: i64,
    bins: Vec<Bin>,
    /// Frames timed before the first frame (a clock that went back): counted in the first
    /// interval.
    pub early_frames: u64,
}

impl CaptureTimeline {
    pub fn new() -> CaptureTimeline {
        CaptureTimeline {
            width_ns: FIRST_WIDTH_NS,
            ..CaptureTimeline::default()
        }
    }

    /// The interval of `ts`, merging intervals until it fits.
    fn bin(&mut self, ts: Timestamp) -> &mut Bin {
        let start = *self.start.get_or_insert(ts);
        let since = ts.nanos_since(&start);
        if since < 0 {
            self.early_frames += 1;
        }
        let since = since.max(0);
        while since / i128::from(self.width_ns) >= MAX_BINS as i128 {
            self.merge();
        }
        let i = (since / i128::from(self.width_ns)) as usize;
        if self.bins.len() <= i {
            self.bins.resize(i + 1, Bin::default());
        }
        &mut self.bins[i]
    }

    /// Every two neighbouring intervals become one of twice the width.
    fn merge(&mut self) {
        let merged = self
            .bins
            .chunks(2)
            .map(|pair| {
                pair.iter().fold(Bin::default(), |a, b| Bin {
                    bytes: a.bytes + b.bytes,
                    frames: a.frames + b.frames,
                    started: a.started + b.started,
                    ended: a.ended + b.ended,
                })
            })
            .collect();
        self.bins = merged;
        self.width_ns = self.width_ns.saturating_mul(2);
    }

    /// One frame of `wire_len` bytes at `ts`.
    pub fn frame(&mut self, ts: Timestamp, wire_len: u32) {
        let b = self.bin(ts);
        b.bytes += u64::from(wire_len);
        b.frames += 1;
    }

    /// A connection that ran from `start` to `end`.
    pub fn conn(&mut self, start: Timestamp, end: Timestamp) {
        self.bin(start).started += 1;
        self.bin(end).ended += 1;
    }

    /// The interval width in seconds.
    pub fn interval_s(&self) -> f64 {
        self.width_ns as f64 / 1e9
    }

    /// The graph of `kind` ([`GraphKind::CaptureThroughput`] or [`GraphKind::Connections`]).
    pub fn graph(&self, kind: GraphKind) -> Graph {
        let step = self.interval_s();
        let x = |i: usize| i as f64 * step;
        let mut series = Vec::new();
        let (title, y_label, y_unit) = match kind {
            GraphKind::Connections => {
                let mut open = 0i64;
                let mut open_points = Vec::with_capacity(self.bins.len());
                let mut started = Vec::new();
                for (i, b) in self.bins.iter().enumerate() {
                    open += b.started as i64 - b.ended as i64;
                    // A connection whose last packet is in this interval still counts
                    // as open in it: the line shows those open at some time in it.
                    let during = open + b.ended as i64;
                    open_points.push(Point {
                        x: x(i),
                        y: during as f64,
                        y2: during as f64,
                        frame: 0,
                    });
                    if b.started > 0 {
                        started.push(Point {
                            x: x(i),
                            y: 0.0,
                            y2: b.started as f64,
                            frame: 0,
                        });
                    }
                }
                series.push(Series {
                    role: Role::NewConns,
                    mark: Mark::Bar,
                    points: started,
                });
                series.push(Series {
                    role: Role::OpenConns,
                    mark: Mark::Step,
                    points: open_points,
                });
                ("capture: connections over time", "connections", "")
            }
            _ => {
                let rate = |b: &Bin| b.bytes as f64 * 8.0 / step;
                let points: Vec<Point> = self
                    .bins
                    .iter()
                    .enumerate()
                    .map(|(i, b)| Point {
                        x: x(i),
                        y: rate(b),
                        y2: rate(b),
                        frame: 0,
                    })
                    .collect();
                let total: u64 = self.bins.iter().map(|b| b.bytes).sum();
                let span = step * self.bins.len().max(1) as f64;
                let avg = total as f64 * 8.0 / span;
                series.push(Series {
                    role: Role::WireRate,
                    mark: Mark::Step,
                    points,
                });
                series.push(Series {
                    role: Role::Average,
                    mark: Mark::Line,
                    points: [0.0, span]
                        .iter()
                        .map(|&x| Point {
                            x,
                            y: avg,
                            y2: avg,
                            frame: 0,
                        })
                        .collect(),
                });
                ("capture: throughput", "frame bytes on the wire", "bit/s")
            }
        };
        let mut notes = vec![format!(
            "interval {} (at most {MAX_BINS} intervals: a longer capture gets wider ones)",
            interval_text(step)
        )];
        if self.early_frames > 0 {
            notes.push(format!(
                "{} frames were timed before the first frame (the clock went back): counted in the first interval",
                self.early_frames
            ));
        }
        let graph = Graph {
            kind,
            title: title.into(),
            x_label: "time since the capture's first frame",
            y_label,
            y_unit,
            series,
            notes,
        };
        if graph.is_empty() {
            let mut g = graph;
            g.notes
                .push("nothing to draw: the capture has no frames".into());
            return g;
        }
        graph
    }

    /// `--teach` lines under a whole-capture graph: what to look for, with this capture's
    /// peak interval.
    pub fn teach(&self, kind: GraphKind) -> Vec<String> {
        let step = self.interval_s();
        let mut out = Vec::new();
        match kind {
            GraphKind::Connections => {
                out.push(
                    "What to look for: the staircase is how many connections were open; bars \
                     are connections opened in each interval. A staircase that climbs and never \
                     comes down means connections are left open (keep-alive, or a leak); bars \
                     with a flat staircase mean short connections (HTTP/1.0, one request each)."
                        .into(),
                );
                if let Some((i, b)) = self.bins.iter().enumerate().max_by_key(|(_, b)| b.started) {
                    if b.started > 0 {
                        out.push(format!(
                            "In this capture: the most connections opened in one interval was {} at {:.3} s ({:.0} per second).",
                            b.started,
                            i as f64 * step,
                            b.started as f64 / step
                        ));
                    }
                }
            }
            _ => {
                out.push(
                    "What to look for: the bit rate of every frame (all connections, headers \
                     included) per interval, and the average line. Bursts above the average and \
                     silences below it show when the capture point was busy; a plateau is a \
                     link or a shaper at its rate."
                        .into(),
                );
                if let Some((i, b)) = self.bins.iter().enumerate().max_by_key(|(_, b)| b.bytes) {
                    if b.bytes > 0 {
                        out.push(format!(
                            "In this capture: the busiest interval starts at {:.3} s: {} frames, {:.0} bit/s.",
                            i as f64 * step,
                            b.frames,
                            b.bytes as f64 * 8.0 / step
                        ));
                    }
                }
            }
        }
        out
    }
}

/// "1 ms", "64 ms", "2.048 s".
fn interval_text(s: f64) -> String {
    if s < 1.0 {
        format!("{} ms", (s * 1e3).round())
    } else {
        format!("{s:.3} s")
    }
}

impl Sink for CaptureTimeline {
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        _packet: &DecodedPacket<'_>,
        _flow: &PacketFlow,
    ) -> io::Result<()> {
        self.frame(frame.ts, frame.orig_len);
        Ok(())
    }
    fn conn_end(&mut self, c: &ConnSummary, _app: &AppConnStats) -> io::Result<()> {
        self.conn(c.start, c.end);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(ms: i64) -> Timestamp {
        Timestamp {
            secs: 1_000 + ms.div_euclid(1000),
            nanos: (ms.rem_euclid(1000) * 1_000_000) as u32,
            precision: 6,
        }
    }

    /// Hand-worked: 3 frames of 1000 B in the first ms (24 000 bit in 1 ms = 24 Mbit/s),
    /// none in the second, one of 500 B in the third (4 Mbit/s); average 3500 B over 3 ms
    /// = 9.333 Mbit/s.
    #[test]
    fn throughput_by_hand() {
        let mut t = CaptureTimeline::new();
        for _ in 0..3 {
            t.frame(ts(0), 1000);
        }
        t.frame(ts(2), 500);
        let g = t.graph(GraphKind::CaptureThroughput);
        let rates: Vec<f64> = g.series[0].points.iter().map(|p| p.y).collect();
        assert_eq!(rates, vec![24e6, 0.0, 4e6]);
        let avg = g.series[1].points[0].y;
        assert!((avg - 3500.0 * 8.0 / 0.003).abs() < 1e-3, "{avg}");
    }

    /// Connections 0–5 ms, 1–2 ms and 3–3 ms: open during each 1 ms interval 1, 2, 2, 2, 1,
    /// 1; started 1, 1, 0, 1, 0, 0.
    #[test]
    fn connections_by_hand() {
        let mut t = CaptureTimeline::new();
        t.frame(ts(0), 60);
        t.conn(ts(0), ts(5));
        t.conn(ts(1), ts(2));
        t.conn(ts(3), ts(3));
        let g = t.graph(GraphKind::Connections);
        let open: Vec<f64> = g.series[1].points.iter().map(|p| p.y).collect();
        assert_eq!(open, vec![1.0, 2.0, 2.0, 2.0, 1.0, 1.0]);
        let started: Vec<(f64, f64)> = g.series[0].points.iter().map(|p| (p.x, p.y2)).collect();
        assert_eq!(started, vec![(0.0, 1.0), (0.001, 1.0), (0.003, 1.0)]);
    }

    /// A capture longer than MAX_BINS ms merges intervals: bounded, totals kept.
    #[test]
    fn long_captures_merge_intervals_and_keep_totals() {
        let mut t = CaptureTimeline::new();
        for s in 0..3600 {
            t.frame(ts(s * 1000), 100);
        }
        assert!(t.bins.len() <= MAX_BINS);
        assert_eq!(t.bins.iter().map(|b| b.frames).sum::<u64>(), 3600);
        // 3600 s in at most 512 intervals: 2^13 ms = 8.192 s each.
        assert_eq!(t.width_ns, 8_192_000_000);
        // A clock that goes back is counted, not lost.
        t.frame(ts(-5), 100);
        assert_eq!(t.early_frames, 1);
        assert_eq!(t.bins[0].frames, 9 + 1);
    }
}
