//! `layerscope report`: the whole capture as one self-contained HTML page (inline CSS, JS
//! and SVG; nothing fetched): a summary with the `--teach` story, the connection list, and
//! per connection its ladder, time-sequence and RTT graphs, annotated packet table and HTTP
//! transactions; clicking a packet opens its explain pane.
//!
//! [`ReportSink`] collects what the page shows as the pipeline runs (within fixed caps,
//! what is left out is counted and said on the page) and writes the page at the end. One
//! file per part: [`page`] (skeleton, CSS, JS), [`summary`], [`conn_list`],
//! [`conn_section`] (with [`ladder_svg`]), [`packet_table`], [`explain_data`], [`escape`].

pub mod conn_list;
pub mod conn_section;
pub mod escape;
pub mod explain_data;
pub mod ladder_svg;
pub mod packet_table;
pub mod page;
pub mod summary;

use crate::app::{AppConnStats, AppEvent, DnsMessage, HttpTransaction};
use crate::capture::{RawFrame, Timestamp};
use crate::decode::DecodedPacket;
use crate::flow::{ConnId, ConnSummary, Direction, PacketFlow};
use crate::pipeline::{RunSummary, Sink};
use crate::render::graph::TraceSink;
use crate::render::ladder::Ladder;
use crate::render::row_marks::RowMarks;
use crate::render::teach::CaptureStory;
use crate::render::time::{push_time, TimeFormat};
use std::collections::BTreeMap;
use std::io::{self, Write};

pub use explain_data::ExplainedFrame;

/// Caps on what one page holds (a page must stay small enough to open); what they leave
/// out is counted and said on the page, with the `--conn`/`--filter` that narrows it.
#[derive(Clone, Debug)]
pub struct ReportLimits {
    /// Connections listed and given a section.
    pub max_conns: usize,
    /// Packet rows over all tables.
    pub max_rows: usize,
    /// Packet rows of one connection's table.
    pub max_rows_per_conn: usize,
    /// Packets whose explain data (fields and bytes) is embedded.
    pub max_explained: usize,
    /// Bytes of one packet embedded for its hex dump.
    pub max_bytes_per_packet: usize,
    /// Arrows of one connection's ladder, and of all ladders together.
    pub max_ladder_rows: usize,
    pub max_ladder_rows_total: usize,
    /// TCP connections given graphs.
    pub max_graphs: usize,
    /// Packets of one connection beyond which its graphs are not drawn on the page.
    pub max_graph_packets: usize,
    /// HTTP transactions and DNS messages kept per connection.
    pub max_app_per_conn: usize,
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits {
            max_conns: 500,
            max_rows: 10_000,
            max_rows_per_conn: 2_000,
            max_explained: 2_000,
            max_bytes_per_packet: 512,
            max_ladder_rows: 200,
            max_ladder_rows_total: 20_000,
            max_graphs: 50,
            max_graph_packets: 5_000,
            max_app_per_conn: 200,
        }
    }
}

/// Settings of the report.
#[derive(Clone, Debug, Default)]
pub struct ReportOptions {
    /// What the page is of (the file names), shown in its title.
    pub title: String,
    pub limits: ReportLimits,
    /// How the page writes times (`--time-format`).
    pub time_format: crate::render::time::TimeFormat,
}

/// One packet row of a table.
#[derive(Clone, Debug)]
pub struct PacketRow {
    pub frame: u64,
    pub ts: Timestamp,
    pub conn: Option<ConnId>,
    pub dir: Option<Direction>,
    /// `10.0.0.1:80`, escaped.
    pub src: String,
    pub dst: String,
    /// `eth › ipv4 › tcp › http`.
    pub stack: String,
    /// `SYN+ACK`, `UDP`, or the innermost layer's name.
    pub flags: String,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub len: u32,
    pub win: Option<u64>,
    pub marks: RowMarks,
    /// Why the step or analysis flags were set.
    pub note: Option<String>,
    /// tshark-like info, escaped.
    pub info: String,
    /// Application label (request line, status, DNS question), escaped.
    pub l7: String,
    /// The `--teach` line for this packet.
    pub teach: Option<String>,
    /// Its explain data is embedded.
    pub explained: bool,
}

/// Everything kept of one connection.
#[derive(Debug, Default)]
pub struct ConnEntry {
    pub id: ConnId,
    pub ladder: Ladder,
    pub rows: Vec<PacketRow>,
    /// Packets of this connection with no row (a cap was reached).
    pub rows_cut: u64,
    pub summary: Option<(ConnSummary, AppConnStats)>,
    pub http: Vec<HttpTransaction>,
    pub dns: Vec<DnsMessage>,
    /// HTTP transactions and DNS messages not kept.
    pub app_cut: u64,
    /// Packets this connection carried as a UDP tunnel (their rows are the inner
    /// connection's), and the first connections it carried ([`MAX_INNER_LISTED`]).
    pub carried: u64,
    pub inner: Vec<ConnId>,
}

/// Inner connections a tunnel's section names.
pub const MAX_INNER_LISTED: usize = 20;

/// What the page left out, counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportCuts {
    /// Connections beyond `max_conns` (no row, no section).
    pub conns: u64,
    /// Packets of those connections.
    pub conn_packets: u64,
    /// Packets with no row because a row cap was reached.
    pub rows: u64,
    /// Packets with a row but no embedded explain data.
    pub explained: u64,
}

/// Collects a capture for the HTML page, and writes it at the end of input.
pub struct ReportSink<W: Write> {
    out: W,
    opts: ReportOptions,
    conns: BTreeMap<ConnId, ConnEntry>,
    /// Packets that belong to no connection (ARP, ICMP, non-IP).
    other: Vec<PacketRow>,
    explained: Vec<ExplainedFrame>,
    rows: usize,
    /// Arrows over all ladders.
    ladder_rows: usize,
    cuts: ReportCuts,
    story: CaptureStory,
    traces: TraceSink,
    first_ts: Option<Timestamp>,
    /// The highest connection id seen: ids are given in order, so a larger one is new.
    max_conn_seen: Option<ConnId>,
    written: bool,
}

impl<W: Write> ReportSink<W> {
    pub fn new(out: W, opts: ReportOptions) -> ReportSink<W> {
        ReportSink {
            out,
            opts,
            conns: BTreeMap::new(),
            other: Vec::new(),
            explained: Vec::new(),
            rows: 0,
            ladder_rows: 0,
            cuts: ReportCuts::default(),
            story: CaptureStory::new(),
            traces: TraceSink::new(Vec::new()),
            first_ts: None,
            max_conn_seen: None,
            written: false,
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// What the page left out (known once input ended).
    pub fn cuts(&self) -> &ReportCuts {
        &self.cuts
    }

    fn write_page(&mut self, run: &RunSummary) -> io::Result<()> {
        if self.written {
            return Ok(());
        }
        self.written = true;
        let page = page::Page {
            title: &self.opts.title,
            limits: &self.opts.limits,
            run,
            conns: &self.conns,
            other: &self.other,
            explained: &self.explained,
            cuts: &self.cuts,
            story: &self.story,
            traces: &self.traces,
            times: Times {
                start: self.first_ts.unwrap_or_default(),
                format: self.opts.time_format,
            },
        };
        let html = page.render();
        self.out.write_all(html.as_bytes())?;
        self.out.flush()
    }
}

impl<W: Write> ReportSink<W> {
    /// The UDP tunnels that carried this packet get an entry of their own (as the JSON
    /// output lists them), counting what they carried, within the connection cap.
    fn note_tunnels(&mut self, flow: &PacketFlow) {
        let max = self.opts.limits.max_conns;
        for &id in &flow.outer_conns {
            let new = self.max_conn_seen.is_none_or(|m| id > m);
            if new {
                self.max_conn_seen = Some(id);
            }
            if !self.conns.contains_key(&id) && self.conns.len() >= max {
                if new {
                    self.cuts.conns += 1;
                }
                continue;
            }
            let e = self.conns.entry(id).or_insert_with(|| ConnEntry {
                id,
                ..ConnEntry::default()
            });
            e.carried += 1;
            if let Some(inner) = flow.conn {
                if !e.inner.contains(&inner) && e.inner.len() < MAX_INNER_LISTED {
                    e.inner.push(inner);
                }
            }
        }
        if let Some(id) = flow.conn {
            if self.max_conn_seen.is_none_or(|m| id > m) {
                self.max_conn_seen = Some(id);
            }
        }
    }
}

impl<W: Write> Sink for ReportSink<W> {
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.first_ts.get_or_insert(frame.ts);
        self.story.packet(frame, packet, flow);
        self.note_tunnels(flow);
        let limits = &self.opts.limits;
        // The connection's entry, unless the connection cap leaves it out.
        let entry = match flow.conn {
            Some(id) => {
                if !self.conns.contains_key(&id) && self.conns.len() >= limits.max_conns {
                    if flow.new_conn {
                        self.cuts.conns += 1;
                    }
                    self.cuts.conn_packets += 1;
                    return Ok(());
                }
                Some(self.conns.entry(id).or_insert_with(|| ConnEntry {
                    id,
                    ..ConnEntry::default()
                }))
            }
            None => None,
        };
        // Only the connections that may get graphs are traced (each trace holds every
        // packet of its connection).
        // A trace that outgrew the graph cap stops one packet past it (no graph is drawn
        // for it, and it holds no more).
        if let Some(id) = flow.conn.filter(|_| packet.tcp().is_some()) {
            let room = match self.traces.traces.get(&id) {
                Some(t) => t.packets.len() <= limits.max_graph_packets,
                None => self.traces.traces.len() < limits.max_graphs,
            };
            if room {
                self.traces.add(frame, packet, flow);
            }
        }
        let room = self.rows < limits.max_rows
            && entry
                .as_ref()
                .is_none_or(|e| e.rows.len() < limits.max_rows_per_conn);
        if let Some(e) = entry {
            let before = e.ladder.rows.len();
            let max = if self.ladder_rows < limits.max_ladder_rows_total {
                limits.max_ladder_rows
            } else {
                before
            };
            e.ladder.add_packet(frame, packet, flow, max);
            self.ladder_rows += e.ladder.rows.len() - before;
            if !room {
                e.rows_cut += 1;
            }
        }
        if !room {
            self.cuts.rows += 1;
            return Ok(());
        }
        let explained = self.explained.len() < limits.max_explained;
        if explained {
            self.explained.push(ExplainedFrame::of(
                frame,
                packet,
                flow,
                limits.max_bytes_per_packet,
            ));
        } else {
            self.cuts.explained += 1;
        }
        let row = packet_table::row_of(frame, packet, flow, explained);
        self.rows += 1;
        match flow.conn.and_then(|id| self.conns.get_mut(&id)) {
            Some(e) => e.rows.push(row),
            None => self.other.push(row),
        }
        Ok(())
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        self.story.app_event(event);
        let Some(e) = self.conns.get_mut(&event.conn()) else {
            return Ok(());
        };
        e.ladder.add_app(event);
        packet_table::label_rows(&mut e.rows, event);
        let max = self.opts.limits.max_app_per_conn;
        match event {
            AppEvent::Http(h) if e.http.len() < max => e.http.push(h.clone()),
            AppEvent::Dns(d) if e.dns.len() < max => e.dns.push(d.clone()),
            AppEvent::Http(_) | AppEvent::Dns(_) => e.app_cut += 1,
            _ => {}
        }
        Ok(())
    }

    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        self.story.conn_end(conn, app);
        self.traces.ended(conn);
        if let Some(e) = self.conns.get_mut(&conn.id) {
            e.summary = Some((conn.clone(), app.clone()));
        }
        Ok(())
    }

    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        self.write_page(summary)
    }
}

/// How the page writes a time (`--time-format`), the first packet's time known.
#[derive(Clone, Copy, Debug, Default)]
pub struct Times {
    pub start: Timestamp,
    pub format: TimeFormat,
}

impl Times {
    /// A table cell: `ts` as the format says, `prev` being the row above's time (what a
    /// delta is from; none for the first row).
    pub fn cell(&self, ts: &Timestamp, prev: Option<&Timestamp>) -> String {
        if self.format == TimeFormat::Relative {
            return rel_secs(ts, &self.start);
        }
        let mut v = Vec::new();
        push_time(self.format, ts, &self.start, prev.unwrap_or(ts), &mut v);
        String::from_utf8_lossy(&v).into_owned()
    }

    /// A moment in running text: `1.500000 s` after the first packet (relative and delta),
    /// `at 10:00:01.500000 UTC`, or `at 1700000001.500000 (Unix time)`.
    pub fn moment(&self, ts: &Timestamp) -> String {
        match self.format {
            TimeFormat::Relative | TimeFormat::Delta => format!("{} s", rel_secs(ts, &self.start)),
            TimeFormat::Absolute => format!("at {} UTC", self.cell(ts, None)),
            TimeFormat::Epoch => format!("at {} (Unix time)", self.cell(ts, None)),
        }
    }
}

/// Seconds from `start` to `ts`, 6 decimals.
pub(crate) fn rel_secs(ts: &Timestamp, start: &Timestamp) -> String {
    format!("{:.6}", ts.nanos_since(start) as f64 / 1e9)
}

/// Another sink with a report written alongside (`live … --report FILE`): everything goes
/// to both.
pub struct WithReport<S, W: Write> {
    pub inner: S,
    pub report: ReportSink<W>,
}

impl<S: Sink, W: Write> Sink for WithReport<S, W> {
    fn wants_packets(&self) -> bool {
        true
    }
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        if self.inner.wants_packets() {
            self.inner.packet(frame, packet, flow)?;
        }
        self.report.packet(frame, packet, flow)
    }
    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        self.inner.app_event(event)?;
        self.report.app_event(event)
    }
    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        self.inner.conn_end(conn, app)?;
        self.report.conn_end(conn, app)
    }
    fn warning(&mut self, error: &crate::capture::CaptureError) -> io::Result<()> {
        self.inner.warning(error)?;
        self.report.warning(error)
    }
    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        self.inner.finish(summary)?;
        self.report.finish(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::FileSource;
    use crate::pipeline::{run, PipelineConfig};

    fn page(file: &str, limits: ReportLimits) -> (String, ReportCuts) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let mut src = FileSource::open(&path).expect("capture opens");
        let mut sink = ReportSink::new(
            Vec::new(),
            ReportOptions {
                title: file.into(),
                limits,
                ..ReportOptions::default()
            },
        );
        let mut config = PipelineConfig::default();
        config.flow.notes = true;
        run(&mut src, config, &mut sink).expect("runs");
        let cuts = sink.cuts().clone();
        (String::from_utf8(sink.into_inner()).expect("utf-8"), cuts)
    }

    /// The rows of the page's first packet table (its data).
    fn table_rows(html: &str) -> Vec<serde_json::Value> {
        let at = html.find("class=\"rows\">").expect("rows") + 13;
        let end = at + html[at..].find("</script>").expect("their end");
        serde_json::from_str(&html[at..end]).expect("JSON")
    }

    #[test]
    fn refused_connection_rows_marks_and_explain_data() {
        let (html, cuts) = page("captures/refused.pcap", ReportLimits::default());
        assert_eq!(cuts, ReportCuts::default());
        // Two packets: the SYN (handshake, H) and the RST (refused, R), as the table's data.
        assert!(html.contains("<table class=\"packets\" data-rows=\"2\" data-conn=\"0\">"));
        let rows = table_rows(&html);
        assert_eq!(rows.len(), 2);
        let col = |r: &serde_json::Value, name: &str| {
            r[packet_table::ROW_COLUMNS
                .iter()
                .position(|c| *c == name)
                .unwrap()]
            .clone()
        };
        assert_eq!(
            rows.iter()
                .map(|r| (
                    col(r, "frame"),
                    col(r, "mark"),
                    col(r, "class"),
                    col(r, "step")
                ))
                .collect::<Vec<_>>(),
            vec![
                (1.into(), "H".into(), "hs".into(), "handshake 1/3".into()),
                (2.into(), "R".into(), "rst".into(), "refused (RST)".into())
            ]
        );
        // Both frames' explain data, with the TCP flags field as explain words it.
        let at = html.find("id=\"explain-data\">").expect("explain data") + 18;
        let end = at + html[at..].find("</script>").expect("its end");
        let data: serde_json::Value = serde_json::from_str(&html[at..end]).expect("JSON");
        let frames = data["frames"].as_array().expect("frames");
        assert_eq!(frames.len(), 2);
        assert_eq!(
            (frames[0]["f"].as_u64(), frames[1]["f"].as_u64()),
            (Some(1), Some(2))
        );
        let text = |v: &serde_json::Value| data["S"][v.as_u64().unwrap_or(0) as usize].clone();
        let syn_flags: Vec<(u64, serde_json::Value, serde_json::Value, serde_json::Value)> = frames
            [0]["F"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| {
                (
                    f[0].as_u64().unwrap_or(9),
                    text(&f[1]),
                    f[2].clone(),
                    text(&f[3]),
                )
            })
            .filter(|f| f.1 == "flags")
            .collect();
        assert_eq!(
            syn_flags,
            vec![(2, "flags".into(), "0x002".into(), "SYN".into())],
            "the SYN's TCP flags field (layer 2 = TCP)"
        );
        // The ladder starts CLOSED/CLOSED (refused) and has two arrows.
        assert_eq!(html.matches("<g class=\"arrow").count(), 2);
    }

    #[test]
    fn caps_count_what_they_leave_out() {
        let limits = ReportLimits {
            max_rows: 10,
            max_explained: 4,
            ..ReportLimits::default()
        };
        let (html, cuts) = page("captures/http11-keepalive.pcap", limits);
        // 22 packets: 10 rows (4 of them explained), 12 without a row.
        assert_eq!(
            cuts,
            ReportCuts {
                conns: 0,
                conn_packets: 0,
                rows: 12,
                explained: 6
            }
        );
        let rows = table_rows(&html);
        assert_eq!(rows.len(), 10);
        assert_eq!(
            rows.iter().filter(|r| r[18] == 1).count(),
            6,
            "not explained"
        );
        assert!(html.contains("12 packets have no table row"));
        assert!(html.contains("12 more packets of this connection have no row"));
    }
}
