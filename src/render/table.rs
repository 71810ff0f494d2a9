//! Human views: per-connection blocks (the default), the flat packet list, and summary
//! tables of connections, HTTP transactions, DNS messages and TLS connections.
//!
//! Each view has its file in `table/`: a connection's block (`conn_block.rs`: its rows,
//! notes and drawing), the packet list (`packet_list.rs`: the rows and their Info text),
//! and each summary table (`conns_view.rs`, `http_view.rs`, `dns_view.rs`, `tls_view.rs`:
//! its page of rows and how it is drawn). [`TableSink`] (here) hands what arrives to the
//! chosen view and writes the end-of-run summary line they share.

use crate::app::{
    tls_alert_level_name, tls_alert_name, tls_cipher_name, tls_handshake_name, tls_version_name,
    AppConnStats, AppEvent, DnsMessage, HttpTransaction, QuicPacket, TlsKind, TlsMessage,
};
use crate::capture::{CaptureError, RawFrame, Timestamp};
use crate::decode::{DecodedPacket, LayerName, TcpFlags, Transport};
use crate::flow::{AnalysisFlags, ConnId, ConnSummary, Direction, PacketFlow, Step};
use crate::pipeline::{RunSummary, Sink};
use crate::render::escape::escape_str;
use crate::render::row_marks::{RowKind, RowMarks};
use crate::render::style::{layer_ansi, RESET};
use crate::render::text::{
    endpoint_string, info, pad_right, pad_to, put_endpoint, put_right, put_u64, put_u64_padded,
    Endpoints, StepLabels,
};
use comfy_table::{presets, Cell, Color, ContentArrangement, Table};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, Write};

mod app_info;
mod conn_block;
mod conns_view;
mod dns_view;
mod http_view;
mod packet_list;
mod tls_view;
use app_info::{dns_summary, http_summary, quic_summary, tls_summary};
use conns_view::ConnsView;
use dns_view::DnsView;
use http_view::HttpView;
use tls_view::{TlsSummaryText, TlsView};

/// The rows of a summary table's page being made (each view, in its file, draws them).
struct PageRows<T> {
    rows: Vec<T>,
}

impl<T> Default for PageRows<T> {
    fn default() -> Self {
        PageRows { rows: Vec::new() }
    }
}

impl<T> PageRows<T> {
    /// Adds a row; the rows the page now has.
    fn add(&mut self, row: T) -> usize {
        self.rows.push(row);
        self.rows.len()
    }
}

/// Which table to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum View {
    /// One block per connection, printed when it ends (the default).
    #[default]
    Connections,
    /// One row per packet, in capture order, streamed.
    Packets,
    /// One summary row per connection.
    Conns,
    /// One row per HTTP transaction.
    Http,
    /// One row per DNS message.
    Dns,
    /// One row per TLS connection: server name, version, cipher, ALPN, handshake time,
    /// certificate, alerts.
    Tls,
}

pub use crate::render::time::TimeFormat;

/// Extra per-packet columns of the connection tables (`--columns`), shown before the
/// analysis column, named as the JSON `packet.tcp` fields that carry the same values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtraColumn {
    /// tshark's `tcp.analysis.ack_rtt`: an ACK's time since the segment it acknowledges.
    AckRtt,
    /// tshark's `tcp.analysis.bytes_in_flight`.
    BytesInFlight,
    /// RFC 6298's smoothed RTT after a sample.
    Srtt,
    /// RFC 6298's retransmission timeout after a sample.
    Rto,
}

impl ExtraColumn {
    fn heading(self) -> &'static str {
        match self {
            ExtraColumn::AckRtt => "ack RTT ms",
            ExtraColumn::BytesInFlight => "in flight",
            ExtraColumn::Srtt => "SRTT ms",
            ExtraColumn::Rto => "RTO ms",
        }
    }

    /// The cell of a row ("" where the packet has no such value).
    fn cell(self, rtt: &crate::flow::rtt::SegmentRtt) -> String {
        let ms = |ns: f64| format!("{:.3}", ns / 1e6);
        match self {
            ExtraColumn::AckRtt if rtt.acked_frame != 0 => ms(rtt.ack_rtt_ns as f64),
            ExtraColumn::BytesInFlight if rtt.bytes_in_flight != 0 => {
                rtt.bytes_in_flight.to_string()
            }
            ExtraColumn::Srtt => rtt
                .estimate
                .and_then(|e| e.srtt_ns)
                .map(ms)
                .unwrap_or_default(),
            ExtraColumn::Rto => rtt
                .estimate
                .and_then(|e| e.rto_ns)
                .map(ms)
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
}
use crate::render::time::{push_epoch, push_seconds6, push_time, push_time_of_day};

#[derive(Clone, Debug)]
pub struct TableOptions {
    pub view: View,
    pub color: bool,
    /// Rows kept per connection block before eliding plain data rows.
    pub rows_per_conn: usize,
    /// Show absolute sequence numbers instead of relative ones.
    pub absolute_seq: bool,
    /// Table width; None: the terminal's (or unlimited when not a terminal).
    pub width: Option<u16>,
    pub is_terminal: bool,
    pub time_format: TimeFormat,
    /// Flush after every packet row (live capture).
    pub flush_each: bool,
    /// With the packet view, also keep each connection's table and print them all at the
    /// end (live capture: rows stream, the tables follow when the capture stops).
    pub blocks_at_end: bool,
    /// Teaching mode: a plain-language line under each handshake, teardown, RST, HTTP and
    /// DNS row, and a closing "What this capture shows".
    pub teach: bool,
    /// `--columns`: extra per-packet columns of the connection tables.
    pub columns: Vec<ExtraColumn>,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            view: View::Connections,
            color: false,
            rows_per_conn: 200,
            absolute_seq: false,
            width: None,
            is_terminal: false,
            time_format: TimeFormat::Relative,
            teach: false,
            flush_each: false,
            blocks_at_end: false,
            columns: Vec::new(),
        }
    }
}

/// One kept row of a connection block.
#[derive(Clone, Debug)]
struct ConnRow {
    frame: u64,
    ts: Timestamp,
    dir: Direction,
    /// TCP flags, or None for a datagram or message (text made only when the row is printed).
    flags: Option<TcpFlags>,
    /// What the flags cell says without TCP flags: "udp", "icmp", "icmpv6", "sctp".
    transport: &'static str,
    /// An ICMP error quoting this connection's packet (always kept, like flagged rows).
    icmp_error: bool,
    seq: Option<u32>,
    ack: Option<u32>,
    len: u32,
    /// The window as the row shows it (None for UDP).
    win: Option<WinCell>,
    marks: RowMarks,
    note: Option<String>,
    l7: String,
    /// `--teach`: what just happened, in plain words.
    teach: Option<String>,
    /// Rows elided just before this one.
    skipped_before: u64,
    /// The RTT values of the packet (shown by `--columns`).
    rtt: crate::flow::rtt::SegmentRtt,
}

/// A row's window: scaled once the scale is known, raw in SYNs and RSTs (never scaled),
/// raw marked "×?" when the SYNs were not captured.
#[derive(Clone, Copy, Debug)]
enum WinCell {
    Scaled(u64),
    Raw(u16),
    Unknown(u16),
}

impl std::fmt::Display for WinCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WinCell::Scaled(w) => write!(f, "{w}"),
            WinCell::Raw(w) => write!(f, "{w}"),
            WinCell::Unknown(w) => write!(f, "{w} ×?"),
        }
    }
}

impl ConnRow {
    fn flags_text(&self) -> String {
        match self.flags {
            Some(flags) => flags.to_string(),
            None => self.transport.to_string(),
        }
    }

    /// Handshake, teardown, RST, flagged and ICMP error rows: always kept (up to a hard cap).
    fn important(&self) -> bool {
        self.marks.step.is_some() || !self.marks.analysis.is_empty() || self.icmp_error
    }
    /// Rows with an application summary: kept while the block has room.
    fn annotated(&self) -> bool {
        self.important() || !self.l7.is_empty()
    }
}

/// The ICMP error a packet carries (type, code and frame), if it is one.
fn icmp_error_of(
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
) -> Option<crate::flow::icmp_error::IcmpError> {
    let (v6, i) = match &packet.transport {
        Some(Transport::Icmpv4(i)) => (false, i),
        Some(Transport::Icmpv6(i)) => (true, i),
        _ => return None,
    };
    Some(crate::flow::icmp_error::IcmpError {
        v6,
        icmp_type: i.icmp_type,
        code: i.code,
        frame: frame.number,
    })
}

/// Handshake/teardown/flagged rows of one block are kept up to this many times
/// `rows_per_conn` (a bound on memory for connections with thousands of flagged packets).
const IMPORTANT_ROWS_FACTOR: usize = 10;

/// Rows of one open connection, bounded by `rows_per_conn`.
#[derive(Default)]
struct ConnRows {
    start: Option<Timestamp>,
    kept: Vec<ConnRow>,
    tail: VecDeque<ConnRow>,
    /// Rows dropped since the last kept row.
    pending_skip: u64,
    total: u64,
    /// A tunnel's UDP connection: the sender of its first packet (its client), to tell the
    /// direction of the packets it carries.
    tunnel_client: Option<(std::net::IpAddr, u16)>,
}

impl ConnRows {
    fn push(&mut self, mut row: ConnRow, limit: usize) {
        self.total += 1;
        let head = (limit / 2).max(1);
        let tail_cap = (limit / 4).max(1);
        if self.kept.len() < head && self.tail.is_empty() && self.pending_skip == 0 {
            self.kept.push(row);
            return;
        }
        let keep = (row.important()
            && self.kept.len() < limit.saturating_mul(IMPORTANT_ROWS_FACTOR))
            || (row.annotated() && self.kept.len() < limit);
        if keep {
            self.pending_skip += self.tail.len() as u64;
            self.tail.clear();
            row.skipped_before = self.pending_skip;
            self.pending_skip = 0;
            self.kept.push(row);
            return;
        }
        self.tail.push_back(row);
        if self.tail.len() > tail_cap {
            self.tail.pop_front();
            self.pending_skip += 1;
        }
    }
    /// Rows held now.
    fn held(&self) -> usize {
        self.kept.len() + self.tail.len()
    }
    /// Over the sink's global row budget: the row replaces the oldest tail row (or is
    /// dropped), so the number held does not grow; what goes is counted as elided.
    fn push_without_growing(&mut self, row: ConnRow) {
        self.total += 1;
        self.pending_skip += 1;
        if self.tail.pop_front().is_some() {
            self.tail.push_back(row);
        }
    }
    fn rows(&mut self) -> Vec<ConnRow> {
        let mut rows = std::mem::take(&mut self.kept);
        let mut first_tail = true;
        for mut r in self.tail.drain(..) {
            if first_tail {
                r.skipped_before = self.pending_skip;
                first_tail = false;
            }
            rows.push(r);
        }
        rows
    }
    fn row_mut(&mut self, frame: u64) -> Option<&mut ConnRow> {
        if let Some(r) = self.kept.iter_mut().rev().find(|r| r.frame == frame) {
            return Some(r);
        }
        self.tail.iter_mut().rev().find(|r| r.frame == frame)
    }
}

/// Prints the human views.
pub struct TableSink<W: Write> {
    out: W,
    opts: TableOptions,
    first_ts: Option<Timestamp>,
    prev_ts: Option<Timestamp>,
    open: FxHashMap<ConnId, ConnRows>,
    /// The connections table's page (`--view conns`).
    conns: ConnsView,
    /// The HTTP table's page (`--view http`).
    http: HttpView,
    /// The DNS table's page (`--view dns`).
    dns: DnsView,
    /// Bad records skipped (their messages go to stderr, from the binary).
    warnings: u64,
    header_done: bool,
    /// The packet row being built (bytes: no UTF-8 checks on the per-packet path).
    row: Vec<u8>,
    /// The Time column of the row being built.
    time_scratch: Vec<u8>,
    pending_l7: Vec<(u64, String)>,
    pending_teach: Vec<(u64, String)>,
    /// Rows held over all open connection tables (bounded by `MAX_HELD_ROWS`).
    rows_held: usize,
    /// The TLS table's page (`--view tls`).
    tls: TlsView,
    /// The TLS line for the block being printed.
    block_tls: Option<String>,
    /// `blocks_at_end`: rendered connection tables waiting for the end of the capture.
    saved_blocks: VecDeque<String>,
    dropped_blocks: u64,
    story: Option<crate::render::teach::CaptureStory>,
    /// [`TableSink::row_width`], once asked.
    row_width: Option<Option<usize>>,
}

/// Display columns of a full packet row before its Info column.
const FULL_ROW_PREFIX: usize = 6 + 1 + 11 + 1 + 22 + 1 + 22 + 1 + 5 + 1 + 4 + 1 + 13 + 1 + 34 + 1;
/// Narrowest Info column the full packet row is drawn with (else the compact row).
const MIN_INFO: usize = 30;

const PAGE: usize = 1000;

/// Below this width, connection blocks are drawn as compact lines instead of a table.
const NARROW_BELOW: usize = 150;

/// Rows held over all open connection tables; past it plain rows are elided (counted), so
/// memory stays bounded however many long connections are open at once (~200 B a row).
const MAX_HELD_ROWS: usize = 500_000;

/// Connection tables kept for the end of a live capture (the oldest are dropped, counted).
const MAX_SAVED_BLOCKS: usize = 10_000;

impl<W: Write> TableSink<W> {
    pub fn new(out: W, opts: TableOptions) -> TableSink<W> {
        let opts_teach = opts.teach;
        TableSink {
            out,
            opts,
            first_ts: None,
            prev_ts: None,
            open: FxHashMap::default(),
            conns: PageRows::default(),
            http: HttpView::new(),
            dns: PageRows::default(),
            warnings: 0,
            header_done: false,
            row: Vec::with_capacity(256),
            time_scratch: Vec::with_capacity(32),
            pending_l7: Vec::new(),
            pending_teach: Vec::new(),
            rows_held: 0,
            tls: PageRows::default(),
            block_tls: None,
            saved_blocks: VecDeque::new(),
            dropped_blocks: 0,
            story: opts_teach.then(crate::render::teach::CaptureStory::new),
            row_width: None,
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn new_table(&self) -> Table {
        new_table(&self.opts)
    }

    fn flush_conns_page(&mut self) -> io::Result<()> {
        let table = new_table(&self.opts);
        let (first_ts, time_format) = (self.first_ts, self.opts.time_format);
        self.conns.write_page(&mut self.out, table, |ts| {
            start_text(time_format, first_ts, ts)
        })
    }

    fn flush_tls_page(&mut self) -> io::Result<()> {
        self.tls.write_page(&mut self.out, new_table(&self.opts))
    }

    fn flush_dns_page(&mut self) -> io::Result<()> {
        self.dns.write_page(&mut self.out, new_table(&self.opts))
    }

    fn flush_http_page(&mut self) -> io::Result<()> {
        // Uncoloured, unwrapped output (a file or pipe) is drawn directly.
        let plain = !self.opts.color && self.opts.width.is_none() && !self.opts.is_terminal;
        let opts = &self.opts;
        self.http
            .write_page(&mut self.out, plain, || new_table(opts))
    }
}

/// When a connection started, in the `--time-format` chosen: relative and delta are
/// seconds since the first packet (the first connection's start where packets are
/// not seen), absolute the UTC time of day, epoch seconds since 1970.
fn start_text(format: TimeFormat, first_ts: Option<Timestamp>, ts: &Timestamp) -> String {
    let mut out = Vec::new();
    match format {
        TimeFormat::Relative | TimeFormat::Delta => {
            let first = first_ts.unwrap_or(*ts);
            push_seconds6(&mut out, ts.nanos_since(&first));
        }
        TimeFormat::Epoch => push_epoch(&mut out, ts),
        TimeFormat::Absolute => push_time_of_day(&mut out, ts),
    }
    String::from_utf8(out).unwrap_or_default()
}

/// A comfy-table table drawn as the options say (colour, width, terminal).
fn new_table(opts: &TableOptions) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    if opts.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    match opts.width {
        Some(w) => {
            t.set_width(w);
            t.set_content_arrangement(ContentArrangement::Dynamic);
        }
        None if opts.is_terminal => {
            t.set_content_arrangement(ContentArrangement::Dynamic);
        }
        None => {
            t.set_content_arrangement(ContentArrangement::Disabled);
        }
    }
    t
}

/// What a connection travels in: its encapsulations, outermost first, and the tunnel
/// connections that carry it (Zeek's tunnel_parents): "VXLAN vni 42 · 10.0.0.1 → 10.0.0.2
/// (tunnel conn 0)"; empty when it travels in none.
fn tunnel_text(c: &ConnSummary) -> String {
    let mut text = match &c.encapsulation {
        Some(e) => e.to_string(),
        None => String::new(),
    };
    if c.tunnel_parents.is_empty() {
        return text;
    }
    let label = if c.tunnel_parents.len() == 1 {
        "tunnel conn "
    } else {
        "tunnel conns "
    };
    if text.is_empty() {
        text.push_str(label);
    } else {
        text.push_str(" (");
        text.push_str(label);
    }
    // Every tunnel flow that carried one of its packets (nested or side by side).
    for (i, id) in c.tunnel_parents.iter().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let _ = write!(text, "{id}");
    }
    if c.encapsulation.is_some() {
        text.push(')');
    }
    text
}

/// What a connection carries, in Zeek's service names with what names it: "ssl
/// example.com (h2)", "quic example.com (h3)", "http example.com, 3 requests", "dns
/// www.example.test +2 names"; several joined with "; "; empty when no analyzer knew it.
/// Names come from the wire: escaped.
pub(crate) fn service_text(app: &AppConnStats) -> String {
    use crate::app::{ConnService, ServiceName};
    let sv = &app.service;
    let name = |n: &ServiceName| {
        let mut t = escape_str(&n.text);
        if n.cut {
            t.push('…');
        }
        t
    };
    let mut parts: Vec<String> = Vec::new();
    for (bit, zeek) in [(ConnService::QUIC, "quic"), (ConnService::SSL, "ssl")] {
        if sv.kinds & bit != 0 {
            let mut p = zeek.to_string();
            if !sv.server_name.is_empty() {
                let _ = write!(p, " {}", name(&sv.server_name));
            }
            if !sv.alpn.is_empty() {
                let offered = if sv.alpn_chosen { "" } else { " offered" };
                let _ = write!(p, " ({}{offered})", name(&sv.alpn));
            }
            parts.push(p);
            // QUIC carries its TLS handshake: one entry says both.
            break;
        }
    }
    if sv.kinds & ConnService::HTTP != 0 {
        let mut p = "http".to_string();
        if !sv.name.is_empty() {
            let _ = write!(p, " {},", name(&sv.name));
        }
        let n = app.http_requests;
        let _ = write!(p, " {n} {}", if n == 1 { "request" } else { "requests" });
        parts.push(p);
    }
    if sv.kinds & ConnService::DNS != 0 {
        let mut p = "dns".to_string();
        if !sv.name.is_empty() && sv.kinds & ConnService::HTTP == 0 {
            let _ = write!(p, " {}", name(&sv.name));
            if sv.other_names > 0 {
                let _ = write!(p, " +{} more", sv.other_names);
            }
        }
        parts.push(p);
    }
    parts.join("; ")
}

/// Removes the `sport → dport ` that starts the Info text at `at`, if it does.
fn drop_ports_prefix(line: &mut Vec<u8>, at: usize) {
    let digits = |from: usize| {
        line.get(from..)
            .map_or(0, |t| t.iter().take_while(|b| b.is_ascii_digit()).count())
    };
    let arrow = " → ".as_bytes();
    let first = digits(at);
    let mid = at + first;
    if first == 0 || line.get(mid..mid + arrow.len()) != Some(arrow) {
        return;
    }
    let second = digits(mid + arrow.len());
    let end = mid + arrow.len() + second;
    if second > 0 && line.get(end) == Some(&b' ') {
        line.drain(at..=end);
    }
}

/// Pads the column begun at `start` to `cols` columns; `cut`: a longer text is first cut
/// to `cols` with `…` (else it is left whole, as the unlimited table leaves it).
fn fit_column(line: &mut Vec<u8>, start: usize, cols: usize, cut: bool) {
    if cut {
        crate::render::fit::truncate_tail(line, start, cols);
        let used = crate::render::fit::display_width(line.get(start..).unwrap_or_default());
        pad_to(line, cols.saturating_sub(used));
    } else {
        // Endpoints and link names are ASCII: a column per byte.
        pad_right(line, start, cols);
    }
}

/// Splits text into lines of at most `width` characters at spaces (a longer word stands
/// alone on its line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// 1,234,567
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 512 B, 1.2 KB, 3.4 MB (powers of 1000, like tshark's conversation table).
pub fn human_bytes(n: u64) -> String {
    if n < 1000 {
        format!("{n} B")
    } else if n < 1_000_000 {
        format!("{:.1} KB", n as f64 / 1e3)
    } else if n < 1_000_000_000 {
        format!("{:.1} MB", n as f64 / 1e6)
    } else {
        format!("{:.2} GB", n as f64 / 1e9)
    }
}

impl<W: Write> Sink for TableSink<W> {
    fn wants_packets(&self) -> bool {
        self.story.is_some() || matches!(self.opts.view, View::Packets | View::Connections)
    }
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        if let Some(story) = &mut self.story {
            story.packet(frame, packet, flow);
        }
        match self.opts.view {
            View::Packets => {
                if self.opts.blocks_at_end {
                    self.conn_row(frame, packet, flow);
                }
                self.packet_row(frame, packet, flow)?;
                if self.opts.flush_each {
                    self.out.flush()?;
                }
                Ok(())
            }
            View::Connections => {
                self.first_ts.get_or_insert(frame.ts);
                self.conn_row(frame, packet, flow);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        if let Some(story) = &mut self.story {
            story.app_event(event);
        }
        if self.opts.teach {
            if let Some(line) = crate::render::teach::teach_app(event) {
                let frame = match event {
                    AppEvent::Http(h) => h.response_frame.or(h.request_frame),
                    AppEvent::Dns(d) => Some(d.frame),
                    AppEvent::Tls(t) => Some(t.frame),
                    AppEvent::Quic(q) => Some(q.frame),
                };
                let conn = event.conn();
                if let Some(frame) = frame {
                    self.attach_teach(conn, frame, line);
                }
            }
        }
        match (self.opts.view, event) {
            (View::Http, AppEvent::Http(h)) => {
                let rows = self.http.add(h);
                if rows >= PAGE {
                    self.flush_http_page()?;
                }
            }
            (View::Dns, AppEvent::Dns(d)) => {
                let rows = self.dns.add(d.clone());
                if rows >= PAGE {
                    self.flush_dns_page()?;
                }
            }
            (View::Connections | View::Packets, AppEvent::Http(h)) => {
                if let Some(f) = h.request_frame {
                    self.attach_l7(h.conn, f, http_summary(h, false));
                }
                if let Some(f) = h.response_frame {
                    self.attach_l7(h.conn, f, http_summary(h, true));
                }
            }
            (View::Connections | View::Packets, AppEvent::Dns(d)) => {
                self.attach_l7(d.conn, d.frame, dns_summary(d));
            }
            (View::Connections | View::Packets, AppEvent::Tls(t)) => {
                self.attach_l7(t.conn, t.frame, tls_summary(t));
            }
            (View::Connections | View::Packets, AppEvent::Quic(q)) => {
                self.attach_l7(q.conn, q.frame, quic_summary(q));
            }
            _ => {}
        }
        Ok(())
    }

    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        if let Some(story) = &mut self.story {
            story.conn_end(conn, app);
        }
        let tls = app.tls.as_deref();
        match self.opts.view {
            View::Tls => {
                if let Some(t) = tls {
                    let rows = self.tls.add((conn.clone(), t.clone()));
                    if rows >= PAGE {
                        self.flush_tls_page()?;
                    }
                }
                Ok(())
            }
            View::Connections => {
                if let Some(t) = tls {
                    self.block_tls = Some(t.line());
                }
                self.print_block(conn, app)
            }
            View::Packets if self.opts.blocks_at_end => {
                if self.saved_blocks.len() >= MAX_SAVED_BLOCKS {
                    self.saved_blocks.pop_front();
                    self.dropped_blocks += 1;
                }
                let block = self.render_block(conn, app);
                self.saved_blocks.push_back(block);
                Ok(())
            }
            View::Conns => {
                if self.first_ts.is_none_or(|f| conn.start < f) {
                    self.first_ts = Some(conn.start);
                }
                let rows = self.conns.add((conn.clone(), app.clone()));
                if rows >= PAGE {
                    self.flush_conns_page()?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn warning(&mut self, _error: &CaptureError) -> io::Result<()> {
        self.warnings += 1;
        Ok(())
    }

    fn finish(&mut self, s: &RunSummary) -> io::Result<()> {
        if !self.saved_blocks.is_empty() || self.dropped_blocks > 0 {
            writeln!(self.out)?;
            if self.dropped_blocks > 0 {
                writeln!(
                    self.out,
                    "({} earlier connection tables not kept)",
                    group(self.dropped_blocks)
                )?;
            }
            for block in std::mem::take(&mut self.saved_blocks) {
                self.out.write_all(block.as_bytes())?;
            }
        }
        match self.opts.view {
            View::Conns => self.flush_conns_page()?,
            View::Http => self.flush_http_page()?,
            View::Dns => self.flush_dns_page()?,
            View::Tls => self.flush_tls_page()?,
            _ => {}
        }
        let dur = match (s.first_ts, s.last_ts) {
            (Some(a), Some(b)) => b.nanos_since(&a).max(0) as f64 / 1e9,
            _ => 0.0,
        };
        let plural = |n: u64, one: &str, many: &str| {
            format!("{} {}", group(n), if n == 1 { one } else { many })
        };
        let mut line = format!(
            "{} · {} · {:.3} s",
            plural(s.frames, "frame", "frames"),
            plural(s.conns, "connection", "connections"),
            dur
        );
        if s.filtered_out > 0 {
            let _ = write!(line, " · {} not matching the filter", group(s.filtered_out));
        }
        if s.decode_issues > 0 {
            let _ = write!(line, " · {} packets not fully decoded", s.decode_issues);
        }
        if s.evicted_flows > 0 {
            let _ = write!(
                line,
                " · {} connections evicted (flow table full)",
                s.evicted_flows
            );
        }
        if s.tombstones_evicted > 0 {
            let _ = write!(
                line,
                " · {} closed connections forgotten (tombstones full: their late packets start new ones)",
                s.tombstones_evicted
            );
        }
        if s.lingers_cut > 0 {
            let _ = write!(
                line,
                " · {} closed connections ended before their 2 s linger (too many lingering: their late packets were told by tombstones)",
                s.lingers_cut
            );
        }
        if s.reassembly_cut_bytes > 0 {
            let _ = write!(
                line,
                " · {} cut by reassembly caps",
                human_bytes(s.reassembly_cut_bytes)
            );
        }
        if s.fragments_evicted > 0 {
            let _ = write!(
                line,
                " · {} IP datagrams left unreassembled",
                s.fragments_evicted
            );
            if s.first_fragments_given_up > 0 {
                let _ = write!(
                    line,
                    " ({} shown from their first fragment alone)",
                    s.first_fragments_given_up
                );
            }
        }
        if s.fcs_stripped > 0 {
            let _ = write!(
                line,
                " · {} frames ended with an FCS (not payload)",
                s.fcs_stripped
            );
        }
        if s.http_heads_too_large > 0 {
            let _ = write!(
                line,
                " · {} HTTP heads over the size cap",
                s.http_heads_too_large
            );
        }
        if s.tls.decrypted_records + s.tls.decrypt_failures + s.tls.no_key > 0 {
            let _ = write!(
                line,
                " · TLS records opened with the key log {}, not opened {}, connections without a key {}",
                s.tls.decrypted_records, s.tls.decrypt_failures, s.tls.no_key
            );
        }
        let q = &s.tls.quic;
        if q.opened + q.not_opened + q.no_key > 0 {
            let _ = write!(
                line,
                " · QUIC packets opened with the key log {}, not opened {}, connections without a key {}",
                q.opened, q.not_opened, q.no_key
            );
        }
        let h2 = &s.tls.http2;
        for (n, what) in [
            (s.tls.cut_bytes, "TLS handshake bytes over the message cap"),
            (
                s.tls.records_cut,
                "TLS records over the decryption buffer (--max-tls-record)",
            ),
            (h2.streams_cut, "HTTP/2 streams over --max-h2-streams"),
            (
                h2.frames_cut,
                "HTTP/2 frames over --max-h2-frame or --max-h2-header-block",
            ),
            (h2.header_blocks_lost, "HTTP/2 header blocks not decoded"),
            (
                h2.header_fields_cut,
                "HTTP/2 header fields over the list cap",
            ),
            (
                s.quic_crypto_cut_bytes,
                "QUIC CRYPTO bytes not reassembled (--max-quic-crypto)",
            ),
            (
                q.streams.cut_bytes,
                "QUIC stream bytes cut (--max-quic-streams, --max-quic-stream-buffer)",
            ),
            (
                q.http3.qpack_blocked_cut,
                "HTTP/3 field sections that could not wait for their QPACK entries (--max-qpack-blocked)",
            ),
        ] {
            if n > 0 {
                let _ = write!(line, " · {n} {what}");
            }
        }
        if self.warnings > 0 {
            let _ = write!(line, " · {} bad records skipped", self.warnings);
        }
        if s.source.over_snaplen > 0 {
            let _ = write!(
                line,
                " · {} records longer than the file's snapshot length (read)",
                s.source.over_snaplen
            );
        }
        if s.source.other_blocks > 0 {
            let _ = write!(
                line,
                " · {} pcapng blocks other than packets",
                s.source.other_blocks
            );
        }
        if self.opts.color {
            writeln!(self.out, "\x1b[2m{line}{RESET}")?;
        } else {
            writeln!(self.out, "{line}")?;
        }
        if let Some(story) = &self.story {
            let width = self.opts.width.map(usize::from).unwrap_or(100);
            writeln!(self.out)?;
            story.write(&mut self.out, s, width)?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::time::push_zero_padded;

    #[test]
    fn analysis_flag_not_said_twice_when_the_note_names_it() {
        let mut f = AnalysisFlags::default();
        f.set(AnalysisFlags::RETRANSMISSION);
        let note = "retransmission: seq 1285 < next expected 1354";
        assert_eq!(analysis_text(f, Some(note)), note);
        f.set(AnalysisFlags::FAST_RETRANSMISSION);
        let fast = "fast retransmission: seq 9 after 3 duplicate acks of it within 20 ms";
        assert_eq!(
            analysis_text(f, Some(fast)),
            format!("retransmission: {fast}")
        );
        assert_eq!(
            analysis_text(f, None),
            "retransmission, fast_retransmission"
        );
    }

    #[test]
    fn seconds6_matches_float_formatting() {
        let cases: [i128; 14] = [
            0,
            1,
            499,
            500,
            501,
            999,
            1_000,
            1_499_500,
            2_000_000_500,
            16_000,
            123_456_789_012,
            999_999_999_999_999,
            -1,
            -2_500_000,
        ];
        for n in cases {
            let mut got = Vec::new();
            push_seconds6(&mut got, n);
            assert_eq!(
                got,
                format!("{:.6}", n as f64 / 1e9).as_bytes(),
                "nanos {n}"
            );
        }
        let mut s = Vec::new();
        push_seconds6(&mut s, 1_234_567_890);
        assert_eq!(s, b"1.234568");
    }

    #[test]
    fn zero_padded() {
        let mut s = b"x".to_vec();
        push_zero_padded(&mut s, 42, 6);
        push_zero_padded(&mut s, 1_234_567, 6);
        assert_eq!(s, b"x0000421234567");
    }
}

#[cfg(test)]
mod row_budget_tests {
    use super::*;

    fn row(frame: u64, step: Option<Step>) -> ConnRow {
        ConnRow {
            frame,
            ts: Timestamp::default(),
            dir: Direction::ToServer,
            flags: Some(TcpFlags(TcpFlags::ACK)),
            transport: "tcp",
            icmp_error: false,
            seq: Some(1),
            ack: Some(1),
            len: 0,
            win: None,
            marks: RowMarks {
                step,
                ..RowMarks::default()
            },
            note: None,
            l7: String::new(),
            teach: None,
            skipped_before: 0,
            rtt: Default::default(),
        }
    }

    #[test]
    fn over_budget_rows_do_not_grow_and_are_counted() {
        let mut rows = ConnRows::default();
        for f in 1..=12 {
            rows.push(row(f, None), 8); // head 4, tail 2
        }
        assert_eq!(rows.held(), 6);
        for f in 13..=20 {
            rows.push_without_growing(row(f, None));
        }
        assert_eq!(rows.held(), 6);
        assert_eq!(rows.total, 20);
        let out = rows.rows();
        let frames: Vec<u64> = out.iter().map(|r| r.frame).collect();
        // The first four, then the last two; everything between is counted as elided.
        assert_eq!(frames, [1, 2, 3, 4, 19, 20]);
        assert_eq!(out[4].skipped_before, 14);
    }
}

#[cfg(test)]
mod streamed_width_tests {
    use super::*;
    use crate::capture::FileSource;
    use crate::pipeline::{run, PipelineConfig};

    /// What `live` prints for `capture` (rows streamed and flushed one by one, each
    /// connection's table after them), at `width` columns.
    fn live_like(capture: &str, width: u16) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(capture);
        let mut src = FileSource::open(&path).expect("capture opens");
        let opts = TableOptions {
            view: View::Packets,
            width: Some(width),
            flush_each: true,
            blocks_at_end: true,
            ..TableOptions::default()
        };
        let mut sink = TableSink::new(Vec::new(), opts);
        run(&mut src, PipelineConfig::default(), &mut sink).expect("runs");
        String::from_utf8(sink.into_inner()).expect("utf-8")
    }

    fn assert_fits(text: &str, width: usize) {
        for line in text.lines() {
            let cols = crate::render::fit::display_width(line.as_bytes());
            assert!(cols <= width, "{cols} columns > {width}: {line}");
        }
    }

    #[test]
    fn live_rows_fit_80_columns() {
        let mut all = String::new();
        for capture in [
            "captures/http11-keepalive.pcap",
            "captures/dns-udp.pcap",
            "captures/tls13.pcap",
            "captures/ipv6-http.pcap",
        ] {
            let text = live_like(capture, 80);
            assert_fits(&text, 80);
            if capture.contains("http") {
                // Long rows were cut, not wrapped.
                assert!(text.contains('…'), "{capture}: nothing needed cutting?");
            }
            all.push_str(&text);
        }
        insta::assert_snapshot!(all);
    }

    #[test]
    fn live_rows_fit_160_columns() {
        let mut all = String::new();
        for capture in [
            "captures/http11-keepalive.pcap",
            "captures/dns-udp.pcap",
            "captures/tls13.pcap",
            "captures/ipv6-http.pcap",
        ] {
            let text = live_like(capture, 160);
            assert_fits(&text, 160);
            all.push_str(&text);
        }
        // The full row (Len, Conn, Step, Layers) at 160 columns.
        assert!(all.contains("Layers"));
        insta::assert_snapshot!(all);
    }

    #[test]
    fn port_prefix_dropped_only_when_whole() {
        let mut l = "x 40003 → 8080 [SYN]".as_bytes().to_vec();
        drop_ports_prefix(&mut l, 2);
        assert_eq!(l, b"x [SYN]");
        let mut l = "x 40003 → [SYN]".as_bytes().to_vec();
        drop_ports_prefix(&mut l, 2);
        assert_eq!(l, "x 40003 → [SYN]".as_bytes());
    }
}

#[cfg(test)]
mod service_tests {
    use super::*;
    use crate::capture::{FileSource, FrameSource};
    use crate::flow::Proto;
    use crate::pipeline::{Pipeline, PipelineConfig};

    #[test]
    fn tunnelled_connections_name_their_tunnels() {
        use crate::decode::{Encap, EncapKind, Encapsulation};
        let a = "10.0.0.1:40000".parse().unwrap();
        let b = "10.0.0.2:80".parse().unwrap();
        let mut c = ConnSummary::example(Proto::Tcp, a, b);
        assert_eq!(tunnel_text(&c), "");
        c.tunnel_parents.push(0);
        assert_eq!(tunnel_text(&c), "tunnel conn 0");
        let mut e = Encapsulation::default();
        e.hops.push(Encap {
            kind: EncapKind::Vxlan { vni: 42 },
            outer: Some(("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap())),
        });
        c.encapsulation = Some(Box::new(e));
        assert_eq!(
            tunnel_text(&c),
            "VXLAN vni 42 · 10.0.0.1 → 10.0.0.2 (tunnel conn 0)"
        );
        c.tunnel_parents.push(3);
        assert_eq!(
            tunnel_text(&c),
            "VXLAN vni 42 · 10.0.0.1 → 10.0.0.2 (tunnel conns 0, 3)"
        );
    }

    /// `--view conns` over several captures read one after the other into one pipeline
    /// (one table: connection ids run on across the files).
    fn conns_view(captures: &[&str], time_format: TimeFormat) -> String {
        let opts = TableOptions {
            view: View::Conns,
            time_format,
            ..TableOptions::default()
        };
        let mut sink = TableSink::new(Vec::new(), opts);
        let mut pipeline = Pipeline::new(PipelineConfig::default());
        for capture in captures {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(capture);
            let mut src = FileSource::open(&path).expect("capture opens");
            while let Some(frame) = src.next_frame().expect("reads") {
                pipeline.process(&frame, &mut sink).expect("processes");
            }
        }
        pipeline.finish(&mut sink, None, None).expect("finishes");
        String::from_utf8(sink.into_inner()).expect("utf-8")
    }

    #[test]
    fn conns_view_says_what_each_connection_is() {
        let text = conns_view(
            &[
                "captures/tls12.pcap",
                "captures/http11-keepalive.pcap",
                "captures/dns-udp.pcap",
                "captures/synthetic/quic-initial.pcap",
            ],
            TimeFormat::Absolute,
        );
        let row = |conn: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("│ {conn} ")))
                .unwrap_or_else(|| panic!("no row for conn {conn}:\n{text}"))
                .to_string()
        };
        // TLS: the ClientHello's server name, the ServerHello's ALPN (captures/README.md);
        // no HTTP count.
        let tls = row("0");
        assert!(tls.contains("ssl layerscope.test (http/1.1)"), "{tls}");
        assert!(tls.trim_end().ends_with("┆               │"), "{tls}");
        // HTTP: the Host and three requests, 3/3.
        let http = row("1");
        assert!(http.contains("http 127.0.0.1:8080, 3 requests"), "{http}");
        assert!(http.contains("3/3"), "{http}");
        // DNS: the query names; the start is frame 3's time (20:17:40.466048 UTC).
        assert!(row("2").contains("dns www.example.test"));
        let dns = row("3");
        assert!(dns.contains("dns nosuch.example.test"), "{dns}");
        assert!(dns.contains("20:17:40.466048"), "{dns}");
        // QUIC: long headers seen, no ClientHello decrypted; starts 00:00:00.001000.
        let quic = row("4");
        assert!(quic.contains("quic"), "{quic}");
        assert!(quic.contains("00:00:00.001000"), "{quic}");
        insta::assert_snapshot!(text);
    }

    /// The mDNS answer of `app::dns`'s test as the tables show it: the owner's name where
    /// the question is missing, SRV fields labelled, no empty name before the arrow.
    #[test]
    fn dns_response_without_question_shows_its_answer() {
        let d = DnsMessage {
            response: true,
            rcode: "NOERROR".into(),
            answers: vec!["SRV gemini.local:22 prio 0 weight 0".into()],
            answer_owner: "gemini._ssh._tcp.local".into(),
            ..DnsMessage::default()
        };
        assert_eq!(
            dns_summary(&d),
            "DNS response 0x0000 gemini._ssh._tcp.local → SRV gemini.local:22 prio 0 weight 0"
        );
    }

    #[test]
    fn zeek_service_names() {
        use crate::app::ConnService;
        let mut s = ConnService::default();
        assert_eq!(s.zeek_name(), None);
        s.kinds = ConnService::SSL;
        assert_eq!(s.zeek_name(), Some("ssl"));
        s.kinds = ConnService::QUIC | ConnService::SSL;
        assert_eq!(s.zeek_name(), Some("quic,ssl"));
        s.kinds = ConnService::HTTP | ConnService::DNS;
        assert_eq!(s.zeek_name(), Some("http,dns"));
        s.kinds = 0;
        s.dns_query("a.example");
        s.dns_query("a.example");
        s.dns_query("b.example");
        assert_eq!(
            (s.zeek_name(), s.name.text.as_str()),
            (Some("dns"), "a.example")
        );
        assert_eq!(s.other_names, 1);
        // A long name is cut at a character boundary, and says so.
        let long = "é".repeat(40);
        let n = crate::app::ServiceName::new(&long);
        assert_eq!((n.text.len(), n.cut), (64, true));
    }
}

/// A row's analysis flags and the analysis note ("retransmission: seq 201 < next expected
/// 501"): a flag the note already begins with is not said twice.
fn analysis_text(flags: AnalysisFlags, note: Option<&str>) -> String {
    let mut text = String::new();
    for n in flags.names() {
        // (tshark's field names have `_` where the note's words have spaces.)
        let said = note.is_some_and(|t| {
            t.len() > n.len()
                && t.as_bytes()[n.len()] == b':'
                && n.bytes()
                    .zip(t.bytes())
                    .all(|(a, b)| a == b || (a == b'_' && b == b' '))
        });
        if said {
            continue;
        }
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(n);
    }
    if let Some(note) = note {
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(note);
    }
    text
}
