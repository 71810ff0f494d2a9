//! Graphs of one TCP connection (`layerscope graph`) and the RTT table (`--view rtt`):
//! [`trace`] collects the connection's packets from the pipeline, [`model`] turns them into
//! series in data units, [`terminal`] and [`svg`] draw them, [`teach`] says what to look for,
//! [`rtt_table`] lists the RTT samples.

pub mod capture;
pub mod model;
pub mod rtt_table;
pub mod scale;
pub mod svg;
pub mod teach;
pub mod terminal;
pub mod timing_table;
pub mod trace;

pub use model::GraphKind;
pub use trace::{ConnTrace, TraceSink};

use crate::app::AppConnStats;
use crate::capture::RawFrame;
use crate::decode::DecodedPacket;
use crate::flow::{ConnSummary, Direction, PacketFlow};
use crate::pipeline::{RunSummary, Sink};
use std::io::{self, Write};

/// Output of `layerscope graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// Braille cells for the terminal.
    Text,
    Svg,
}

#[derive(Clone, Copy, Debug)]
pub struct GraphOptions {
    pub kind: GraphKind,
    pub format: GraphFormat,
    /// Columns (text).
    pub width: usize,
    pub color: bool,
    pub teach: bool,
    /// Segments of this direction (default: the one that carried more payload).
    pub dir: Option<Direction>,
}

/// The graph of `trace` as the options ask, `--teach` lines under a text graph (and as
/// notes in an SVG).
pub fn render(trace: &ConnTrace, opts: &GraphOptions) -> String {
    let dir = opts.dir.unwrap_or_else(|| trace.busier_direction());
    let teach = if opts.teach {
        teach::lines(trace, opts.kind, dir)
    } else {
        Vec::new()
    };
    draw(model::build(trace, opts.kind, dir), teach, opts)
}

/// A graph of the whole capture ([`GraphKind::CaptureThroughput`] or
/// [`GraphKind::Connections`]), as the options ask.
pub fn render_capture(timeline: &capture::CaptureTimeline, opts: &GraphOptions) -> String {
    let teach = if opts.teach {
        timeline.teach(opts.kind)
    } else {
        Vec::new()
    };
    draw(timeline.graph(opts.kind), teach, opts)
}

/// `graph` in the format asked, with the teaching lines under it (text) or as notes (SVG).
fn draw(mut graph: model::Graph, teach: Vec<String>, opts: &GraphOptions) -> String {
    match opts.format {
        GraphFormat::Text => {
            let mut out = terminal::render(&graph, opts.width, opts.color);
            for line in teach {
                out.push_str(&terminal::wrap(&line, opts.width.max(40)));
            }
            out
        }
        GraphFormat::Svg => {
            graph.notes.extend(teach);
            svg::render(&graph)
        }
    }
}

/// `read --view rtt`: the RTT table of each chosen TCP connection, written at the end.
pub struct RttViewSink<W: Write> {
    out: W,
    traces: TraceSink,
}

impl<W: Write> RttViewSink<W> {
    pub fn new(out: W, conns: Vec<u64>) -> RttViewSink<W> {
        RttViewSink {
            out,
            traces: TraceSink::new(conns),
        }
    }
}

impl<W: Write> Sink for RttViewSink<W> {
    fn packet(
        &mut self,
        f: &RawFrame<'_>,
        p: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.traces.add(f, p, flow);
        Ok(())
    }
    fn conn_end(&mut self, c: &ConnSummary, _app: &AppConnStats) -> io::Result<()> {
        self.traces.ended(c);
        Ok(())
    }
    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        for t in self.traces.traces.values() {
            self.out.write_all(rtt_table::render(t).as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        if self.traces.conns_cut > 0 {
            writeln!(
                self.out,
                "{} more TCP connections were not traced (cap {})",
                self.traces.conns_cut,
                trace::MAX_TRACED_CONNS
            )?;
        }
        self.out.flush()
    }
}
