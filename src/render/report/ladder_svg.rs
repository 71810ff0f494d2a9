//! A connection's ladder as inline SVG, from the ladder's model ([`Ladder`]), with time
//! running down the page and every arrow slanted by the real one-way delays, so latency is
//! visible.
//!
//! The capture point sits somewhere between the two hosts. The handshake says where: the
//! SYN → SYN-ACK time is the round trip from the capture point to the server, the
//! SYN-ACK → ACK time the round trip to the client. A packet the client sends, captured at
//! `t`, left the client half a client round trip earlier and reaches the server half a
//! server round trip later (and the other way round). Without a handshake both delays are
//! unknown and the arrows are drawn level.
//!
//! Time maps to height piece by piece: each gap between packets gets a height in
//! proportion to its length, but at least [`MIN_GAP`] pixels (so labels never overlap) and
//! at most [`MAX_GAP`] (a long idle time is drawn as a break with its length written).

use super::escape::html;
use super::Times;
use crate::capture::Timestamp;
use crate::flow::{ConnId, Direction, Step, TcpState};
use crate::render::ladder::{Ladder, LadderRow};
use crate::render::row_marks::RowKind;
use crate::render::text::StepLabels;
use crate::render::time::TimeFormat;
use std::fmt::Write as _;

/// Fewest and most pixels between two consecutive packets.
pub const MIN_GAP: f64 = 24.0;
pub const MAX_GAP: f64 = 120.0;
const TOP: f64 = 78.0;
const X_CLIENT: f64 = 250.0;
const X_SERVER: f64 = 640.0;
const WIDTH: f64 = 980.0;

/// The one-way delays from the capture point: (to the client, to the server), seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Delays {
    pub client: f64,
    pub server: f64,
}

impl Delays {
    /// From the handshake's two round trips at the capture point (nanoseconds).
    pub fn from_handshake(syn_to_synack_ns: Option<u64>, synack_to_ack_ns: Option<u64>) -> Delays {
        Delays {
            server: syn_to_synack_ns.map_or(0.0, |n| n as f64 / 2e9),
            client: synack_to_ack_ns.map_or(0.0, |n| n as f64 / 2e9),
        }
    }
}

/// The piecewise map from seconds (since the first packet) to pixels.
struct TimeAxis {
    /// (seconds, y) at each packet, increasing.
    knots: Vec<(f64, f64)>,
    /// Pixels per second of the proportional part.
    scale: f64,
}

impl TimeAxis {
    fn new(times: &[f64]) -> TimeAxis {
        let mut gaps: Vec<f64> = times
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|g| *g > 0.0)
            .collect();
        gaps.sort_by(f64::total_cmp);
        // The median gap gets the smallest height; longer gaps grow in proportion.
        let median = gaps.get(gaps.len() / 2).copied().unwrap_or(1.0);
        let scale = MIN_GAP / median.max(1e-9);
        let mut knots = Vec::with_capacity(times.len());
        let mut y = TOP;
        for (i, t) in times.iter().enumerate() {
            if i > 0 {
                let g = (t - times[i - 1]).max(0.0);
                y += (g * scale).clamp(MIN_GAP, MAX_GAP);
            }
            knots.push((*t, y));
        }
        TimeAxis { knots, scale }
    }

    /// y of time `t`: between two knots in proportion, outside them at the proportional
    /// scale (capped at one gap's height).
    fn y(&self, t: f64) -> f64 {
        let Some(&(t0, y0)) = self.knots.first() else {
            return TOP;
        };
        if t <= t0 {
            return y0 - ((t0 - t) * self.scale).min(MAX_GAP);
        }
        for w in self.knots.windows(2) {
            let ((ta, ya), (tb, yb)) = (w[0], w[1]);
            if t <= tb {
                if tb - ta <= 0.0 {
                    return yb;
                }
                return ya + (t - ta) / (tb - ta) * (yb - ya);
            }
        }
        let &(tn, yn) = self.knots.last().unwrap_or(&(t0, y0));
        yn + ((t - tn) * self.scale).min(MAX_GAP)
    }
}

fn class_of(r: &LadderRow) -> &'static str {
    match RowKind::of(r.step, r.analysis) {
        RowKind::Handshake => "hs",
        RowKind::Teardown => "td",
        RowKind::Reset => "rst",
        RowKind::Flagged => "flag",
        RowKind::Plain => "data",
    }
}

fn secs(ts: &Timestamp, start: &Timestamp) -> f64 {
    ts.nanos_since(start) as f64 / 1e9
}

/// The arrow heads every ladder uses, one per kind of row (placed once on the page).
pub fn markers() -> String {
    let mut o =
        String::from("<svg class=\"defs\" width=\"0\" height=\"0\" aria-hidden=\"true\"><defs>");
    for class in ["hs", "td", "rst", "flag", "data"] {
        let _ = write!(
            o,
            "<marker id=\"lh-{class}\" class=\"m-{class}\" viewBox=\"0 0 10 10\" refX=\"10\" \
             refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
             <path d=\"M0,0 L10,5 L0,10 z\"/></marker>"
        );
    }
    o.push_str("</defs></svg>");
    o
}

/// What the time column's head says for each `--time-format`.
fn time_head(format: TimeFormat) -> &'static str {
    match format {
        TimeFormat::Relative => "time (s)",
        TimeFormat::Absolute => "time (UTC)",
        TimeFormat::Delta => "Δt (s)",
        TimeFormat::Epoch => "Unix time (s)",
    }
}

/// The ladder of connection `conn` as an `<svg>` element (no XML prolog). Each arrow's
/// time is written as the packet table writes it (`--time-format`: seconds since the
/// capture's first packet, time of day, since the arrow above, or Unix time); the arrows
/// are placed by the connection's own time, long idle gaps drawn as breaks.
pub fn render(ladder: &Ladder, conn: ConnId, delays: Delays, clock: &Times) -> String {
    let start = ladder.start.unwrap_or_default();
    let times: Vec<f64> = ladder.rows.iter().map(|r| secs(&r.ts, &start)).collect();
    let axis = TimeAxis::new(&times);
    let last_y = axis.knots.last().map_or(TOP, |k| k.1);
    let height = last_y + 60.0 + if ladder.cut > 0 { 20.0 } else { 0.0 };
    let mut o = String::with_capacity(256 + ladder.rows.len() * 400);
    let _ = write!(
        o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"ladder\" data-conn=\"{conn}\" \
         width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         font-family=\"monospace\" font-size=\"12\" role=\"img\">"
    );
    let _ = write!(
        o,
        "<title>{} ladder of connection {conn}: client {} and server {}</title>",
        html(&ladder.proto),
        html(&ladder.client),
        html(&ladder.server)
    );
    let _ = write!(
        o,
        "<text x=\"{X_CLIENT}\" y=\"20\" text-anchor=\"middle\" class=\"who\">client</text>\
         <text x=\"{X_CLIENT}\" y=\"36\" text-anchor=\"middle\">{}</text>\
         <text x=\"{X_SERVER}\" y=\"20\" text-anchor=\"middle\" class=\"who\">server</text>\
         <text x=\"{X_SERVER}\" y=\"36\" text-anchor=\"middle\">{}</text>\
         <text x=\"8\" y=\"36\" class=\"time-head\">{}  frame</text>",
        html(&ladder.client),
        html(&ladder.server),
        time_head(clock.format)
    );
    for x in [X_CLIENT, X_SERVER] {
        let _ = write!(
            o,
            "<line class=\"axis\" x1=\"{x}\" y1=\"46\" x2=\"{x}\" y2=\"{:.1}\"/>",
            height - 30.0
        );
    }
    // States before the first packet, when it is a SYN (the flow stage's).
    if ladder
        .rows
        .first()
        .is_some_and(|r| r.step == Some(Step::Handshake(1)))
    {
        let (client, server) = TcpState::before_syn(ladder.refused);
        let _ = write!(
            o,
            "<text class=\"state\" x=\"{:.0}\" y=\"58\" text-anchor=\"end\">{client}</text>\
             <text class=\"state\" x=\"{:.0}\" y=\"58\">{server}</text>",
            X_CLIENT - 6.0,
            X_SERVER + 6.0
        );
    }
    let mut steps = StepLabels::default();
    let mut last_state: Option<(TcpState, TcpState)> = None;
    for (i, r) in ladder.rows.iter().enumerate() {
        let t = times[i];
        let y = axis.knots[i].1;
        let at = clock.cell(&r.ts, i.checked_sub(1).map(|p| &ladder.rows[p].ts));
        if i > 0 && t - times[i - 1] > 0.0 && (t - times[i - 1]) * axis.scale > MAX_GAP {
            // A break: the idle time is longer than drawn.
            let _ = write!(
                o,
                "<text class=\"gap\" x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"middle\">⋯ {:.3} s idle ⋯</text>",
                (X_CLIENT + X_SERVER) / 2.0,
                y - MAX_GAP / 2.0 + 4.0,
                t - times[i - 1]
            );
        }
        let (x1, x2, y1, y2) = match r.dir {
            Direction::ToServer => (
                X_CLIENT,
                X_SERVER,
                axis.y(t - delays.client),
                axis.y(t + delays.server),
            ),
            Direction::ToClient => (
                X_SERVER,
                X_CLIENT,
                axis.y(t - delays.server),
                axis.y(t + delays.client),
            ),
        };
        let class = class_of(r);
        let label = r.label();
        let note = steps
            .label(r.step)
            .map(str::to_string)
            .unwrap_or_else(|| r.analysis.names().next().unwrap_or("").replace('_', " "));
        let _ = write!(
            o,
            "<g class=\"arrow {class}\" data-frame=\"{}\" data-conn=\"{conn}\">\
             <title>frame {} at {at}: {}</title>\
             <text x=\"8\" y=\"{y:.1}\" class=\"time\">{at} {:>5}</text>\
             <line x1=\"{x1:.0}\" y1=\"{y1:.1}\" x2=\"{x2:.0}\" y2=\"{y2:.1}\" marker-end=\"url(#lh-{class})\"/>\
             <text class=\"lbl\" x=\"{:.0}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            r.frame,
            r.frame,
            html(&label),
            r.frame,
            (X_CLIENT + X_SERVER) / 2.0,
            (y1 + y2) / 2.0 - 5.0,
            html(&truncate(&label, 60)),
        );
        if !note.is_empty() {
            let _ = write!(
                o,
                "<text class=\"note\" x=\"{:.0}\" y=\"{y:.1}\">{}</text>",
                X_SERVER + 110.0,
                html(&note)
            );
        }
        o.push_str("</g>");
        if let Some(st) = ladder.states(r) {
            if Some(st) != last_state {
                let ys = y2.max(y1) + 13.0;
                if last_state.map(|l| l.0) != Some(st.0) {
                    let _ = write!(
                        o,
                        "<text class=\"state\" x=\"{:.0}\" y=\"{ys:.1}\" text-anchor=\"end\">{}</text>",
                        X_CLIENT - 6.0,
                        st.0
                    );
                }
                if last_state.map(|l| l.1) != Some(st.1) {
                    let _ = write!(
                        o,
                        "<text class=\"state\" x=\"{:.0}\" y=\"{ys:.1}\">{}</text>",
                        X_SERVER + 6.0,
                        st.1
                    );
                }
                last_state = Some(st);
            }
        }
    }
    if ladder.cut > 0 {
        let _ = write!(
            o,
            "<text x=\"8\" y=\"{:.0}\">{} more packets not drawn (see the packet table)</text>",
            height - 8.0,
            ladder.cut
        );
    }
    o.push_str("</svg>");
    o
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_get_heights_in_proportion_within_bounds() {
        // Gaps 1 ms, 2 ms, 1 ms, 1 ms, 1 s: the median (1 ms) gets MIN_GAP, 2 ms twice
        // that, 1 s is capped.
        let axis = TimeAxis::new(&[0.0, 0.001, 0.003, 0.004, 0.005, 1.005]);
        let ys: Vec<f64> = axis.knots.iter().map(|k| k.1).collect();
        assert!((ys[1] - ys[0] - MIN_GAP).abs() < 1e-6);
        assert!((ys[2] - ys[1] - 2.0 * MIN_GAP).abs() < 1e-6);
        assert!((ys[3] - ys[2] - MIN_GAP).abs() < 1e-6);
        assert_eq!(ys[5] - ys[4], MAX_GAP);
        // Half way between two packets is half way down.
        assert!((axis.y(0.002) - (ys[1] + MIN_GAP)).abs() < 1e-6);
    }

    #[test]
    fn arrows_are_timed_as_the_time_format_says_and_long_gaps_break() {
        use crate::capture::Timestamp;
        use crate::render::ladder::LadderRow;
        // Packets at 10:00:01.5, +1 ms, +2 ms and +30 s UTC (Unix 1700042401.5 …): the
        // capture started one second before the first. The median gap (1 ms) sets the
        // scale, so the 30 s one is a break.
        let ts = |secs: i64, ms: u32| Timestamp {
            secs,
            nanos: 500_000_000 + ms * 1_000_000,
            precision: 6,
        };
        let mut ladder = Ladder::default();
        let at = [
            (1_700_042_401, 0),
            (1_700_042_401, 1),
            (1_700_042_401, 2),
            (1_700_042_431, 2),
        ];
        for (i, (secs, ms)) in at.into_iter().enumerate() {
            ladder.rows.push(LadderRow {
                frame: i as u64 + 1,
                ts: ts(secs, ms),
                dir: Direction::ToServer,
                flags: "ACK".into(),
                seq: None,
                ack: None,
                len: 0,
                step: None,
                state: None,
                analysis: Default::default(),
                l7: String::new(),
            });
        }
        ladder.start = Some(ts(1_700_042_401, 0));
        let svg = |format| {
            let clock = Times {
                start: ts(1_700_042_400, 0),
                format,
            };
            render(&ladder, 0, Delays::default(), &clock)
        };
        let rel = svg(TimeFormat::Relative);
        assert!(rel.contains(">time (s)  frame<"));
        assert!(rel.contains("class=\"time\">1.000000     1<"), "{rel}");
        assert!(rel.contains("class=\"time\">31.002000     4<"));
        assert!(rel.contains("⋯ 30.000 s idle ⋯"), "the 30 s gap is a break");
        let abs = svg(TimeFormat::Absolute);
        assert!(abs.contains(">time (UTC)  frame<"));
        assert!(
            abs.contains("class=\"time\">10:00:01.500000     1<"),
            "{abs}"
        );
        assert!(abs.contains("class=\"time\">10:00:31.502000     4<"));
        let delta = svg(TimeFormat::Delta);
        assert!(delta.contains("class=\"time\">0.001000     2<"), "{delta}");
        assert!(delta.contains("class=\"time\">30.000000     4<"));
        let epoch = svg(TimeFormat::Epoch);
        assert!(epoch.contains("class=\"time\">1700042431.502000     4<"));
    }

    #[test]
    fn delays_are_half_of_each_round_trip() {
        let d = Delays::from_handshake(Some(20_000_000), Some(4_000_000));
        assert!((d.server - 0.010).abs() < 1e-12);
        assert!((d.client - 0.002).abs() < 1e-12);
        assert_eq!(Delays::from_handshake(None, None), Delays::default());
    }
}
