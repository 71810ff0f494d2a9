//! `explain`: one frame taken apart for a learner — the seven OSI layers and what fills each,
//! every header field with its raw value and meaning, a hex dump marked by layer, and notes
//! from the connection context (handshake step, ISNs, stream bytes, HTTP message, analysis).

use crate::app::{AppConnStats, AppEvent, HttpTransaction};
use crate::capture::{RawFrame, Timestamp};
use crate::decode::{DecodedPacket, Layer, LayerName, Osi, TcpFlags, TcpInfo, Transport};
use crate::flow::{AnalysisFlags, ConnId, ConnSummary, Direction, PacketFlow, Step};
use crate::pipeline::{RunSummary, Sink};
use crate::render::escape::{escape_bytes, escape_str};
use crate::render::style::{layer_ansi, RESET};
use crate::render::text::endpoint_string;
use crate::render::time::{push_time, TimeFormat};
use rustc_hash::FxHashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

/// Settings of the `explain` view.
#[derive(Clone, Debug)]
pub struct ExplainOptions {
    /// The frame to explain (1-based, tshark's `frame.number`).
    pub frame: u64,
    /// Colour the hex dump by layer (otherwise a layer-letter row under each line).
    pub color: bool,
    /// Wrap width of the layer band and truncation width of long values.
    pub width: usize,
    /// How the frame's time is given (`--time-format`).
    pub time_format: TimeFormat,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            frame: 1,
            color: false,
            width: 80,
            time_format: TimeFormat::Relative,
        }
    }
}

/// Most connections whose handshake is remembered while looking for the chosen frame;
/// beyond it new connections are not remembered (counted in `ctx_dropped`).
const MAX_CTX: usize = 100_000;
/// Most HTTP header lines listed for an application layer.
const MAX_HEAD_LINES: usize = 12;

/// What earlier frames of a connection said: the handshake's frames and ISNs.
#[derive(Clone, Copy, Debug, Default)]
struct ConnCtx {
    /// (frame, client ISN j)
    syn: Option<(u64, u32)>,
    /// (frame, server ISN k)
    synack: Option<(u64, u32)>,
    packets: u64,
}

/// The chosen frame, rendered as far as it can be when it passes.
struct Chosen {
    number: u64,
    conn: Option<ConnId>,
    dir: Option<Direction>,
    /// Relative stream range carried, when there is payload.
    stream: Option<(u32, u32)>,
    body: String,
    notes: Vec<String>,
    /// HTTP transactions of this frame's connection completed after it.
    http: Vec<HttpTransaction>,
    written: bool,
    /// The frame has a `tls` layer whose bytes start an application-data record.
    tls: bool,
    /// The frame has a `quic` layer.
    quic: bool,
}

/// Explains one frame. Implements [`Sink`]; writes when the frame's connection ends (or at
/// the end of input).
pub struct ExplainSink<W: Write> {
    out: W,
    opts: ExplainOptions,
    first_ts: Option<Timestamp>,
    prev_ts: Option<Timestamp>,
    ctx: FxHashMap<ConnId, ConnCtx>,
    ctx_dropped: u64,
    chosen: Option<Chosen>,
    frames: u64,
}

impl<W: Write> ExplainSink<W> {
    /// A sink explaining `opts.frame`.
    pub fn new(out: W, opts: ExplainOptions) -> ExplainSink<W> {
        ExplainSink {
            out,
            opts,
            first_ts: None,
            prev_ts: None,
            ctx: FxHashMap::default(),
            ctx_dropped: 0,
            chosen: None,
            frames: 0,
        }
    }

    /// Whether the chosen frame was in the input.
    pub fn found(&self) -> bool {
        self.chosen.is_some()
    }

    /// Whether the chosen frame carried TLS bytes starting with an application-data record
    /// header (encrypted bytes).
    pub fn frame_has_tls(&self) -> bool {
        self.chosen.as_ref().is_some_and(|c| c.tls)
    }

    /// Whether the chosen frame carried QUIC packets.
    pub fn frame_has_quic(&self) -> bool {
        self.chosen.as_ref().is_some_and(|c| c.quic)
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn remember(&mut self, packet: &DecodedPacket<'_>, flow: &PacketFlow, frame: u64) {
        let (Some(conn), Some(t)) = (flow.conn, packet.tcp()) else {
            return;
        };
        if !self.ctx.contains_key(&conn) && self.ctx.len() >= MAX_CTX {
            self.ctx_dropped += 1;
            return;
        }
        let c = self.ctx.entry(conn).or_default();
        c.packets += 1;
        if t.flags.syn() && !t.flags.ack() && c.syn.is_none() {
            c.syn = Some((frame, t.seq));
        } else if t.flags.syn() && t.flags.ack() && c.synack.is_none() {
            c.synack = Some((frame, t.seq));
        }
    }

    fn write_chosen(&mut self) -> io::Result<()> {
        let Some(ch) = self.chosen.as_mut() else {
            return Ok(());
        };
        if ch.written {
            return Ok(());
        }
        ch.written = true;
        self.out.write_all(ch.body.as_bytes())?;
        let mut notes = std::mem::take(&mut ch.notes);
        if let Some(note) = http_note(ch) {
            notes.push(note);
        }
        writeln!(self.out, "What is happening")?;
        for n in &notes {
            write_wrapped(&mut self.out, n, "  • ", "    ", self.opts.width)?;
        }
        if self.ctx_dropped > 0 {
            writeln!(
                self.out,
                "  ({} connections before this frame were not remembered: context table full)",
                self.ctx_dropped
            )?;
        }
        self.out.flush()
    }
}

/// "This segment is HTTP request 1 …" from the transactions seen after the frame.
fn http_note(ch: &Chosen) -> Option<String> {
    let (dir, _) = (ch.dir?, ch.stream?);
    let frame_no = ch.number;
    let tx = match dir {
        Direction::ToServer => ch
            .http
            .iter()
            .filter(|h| h.request_frame.is_some_and(|f| f <= frame_no))
            .max_by_key(|h| h.request_frame),
        Direction::ToClient => ch
            .http
            .iter()
            .filter(|h| h.response_frame.is_some_and(|f| f <= frame_no))
            .max_by_key(|h| h.response_frame),
    }?;
    let req = format!(
        "{} {} {}",
        escape_str(tx.method.as_deref().unwrap_or("?")),
        escape_str(tx.uri.as_deref().unwrap_or("?")),
        escape_str(tx.version.as_deref().unwrap_or(""))
    );
    let status = match (tx.status, &tx.reason) {
        (Some(s), Some(r)) => format!("{s} {} ({})", escape_str(r), status_class(s)),
        (Some(s), None) => format!("{s} ({})", status_class(s)),
        _ => "no response seen".to_string(),
    };
    Some(match dir {
        Direction::ToServer => format!(
            "Application layer: these bytes belong to HTTP request {} on this connection, \
             `{}` (request head first seen in frame {}); the server answered {}{}.",
            tx.index,
            req.trim_end(),
            tx.request_frame.unwrap_or(0),
            status,
            tx.response_frame
                .map(|f| format!(" in frame {f}"))
                .unwrap_or_default()
        ),
        Direction::ToClient => format!(
            "Application layer: these bytes belong to the HTTP response {} to request {} \
             (`{}`, frame {}); the response head started in frame {}.",
            status,
            tx.index,
            req.trim_end(),
            tx.request_frame.unwrap_or(0),
            tx.response_frame.unwrap_or(0)
        ),
    })
}

/// "2xx success", …
pub(crate) fn status_class(code: u16) -> &'static str {
    match code {
        100..=199 => "1xx informational",
        200..=299 => "2xx success",
        300..=399 => "3xx redirection",
        400..=499 => "4xx client error",
        500..=599 => "5xx server error",
        _ => "non-standard status",
    }
}

impl<W: Write> Sink for ExplainSink<W> {
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.frames += 1;
        let first = *self.first_ts.get_or_insert(frame.ts);
        let prev = self.prev_ts.replace(frame.ts).unwrap_or(frame.ts);
        if frame.number == self.opts.frame && self.chosen.is_none() {
            let ctx = flow.conn.and_then(|c| self.ctx.get(&c)).copied();
            let mut body = String::with_capacity(4096);
            let mut when = Vec::with_capacity(24);
            push_time(self.opts.time_format, &frame.ts, &first, &prev, &mut when);
            let when = String::from_utf8_lossy(&when);
            let when = match self.opts.time_format {
                TimeFormat::Relative => format!("{when} s after the first frame"),
                TimeFormat::Delta => format!("{when} s after the previous frame"),
                TimeFormat::Absolute => format!("at {when} UTC"),
                TimeFormat::Epoch => format!("at {when} s since the Unix epoch"),
            };
            render_body(&mut body, frame, packet, flow, &when, &self.opts);
            let notes = render_notes(frame, packet, flow, ctx.unwrap_or_default());
            let stream = match (packet.tcp(), flow.rel_seq) {
                (Some(t), Some(s)) if t.payload_len > 0 => {
                    Some((s, s.wrapping_add(t.payload_len - 1)))
                }
                _ => None,
            };
            self.chosen = Some(Chosen {
                number: frame.number,
                conn: flow.conn,
                dir: flow.dir,
                stream,
                body,
                notes,
                http: Vec::new(),
                written: false,
                tls: packet.layers.iter().any(|l| l.name == LayerName::Tls)
                    && packet.payload.first() == Some(&23),
                quic: packet.layers.iter().any(|l| l.name == LayerName::Quic),
            });
        }
        if self.chosen.is_none() {
            self.remember(packet, flow, frame.number);
        }
        Ok(())
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        if let (Some(ch), AppEvent::Http(h)) = (self.chosen.as_mut(), event) {
            if !ch.written && ch.conn == Some(h.conn) && ch.http.len() < 64 {
                ch.http.push(h.clone());
            }
        }
        Ok(())
    }

    fn conn_end(&mut self, conn: &ConnSummary, _app: &AppConnStats) -> io::Result<()> {
        if self
            .chosen
            .as_ref()
            .is_some_and(|c| c.conn == Some(conn.id))
        {
            self.write_chosen()?;
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        if self.chosen.is_none() {
            writeln!(
                self.out,
                "frame {} is not in this capture (it has {} frames)",
                self.opts.frame, self.frames
            )?;
            return self.out.flush();
        }
        self.write_chosen()
    }
}

/// Human name of a layer.
pub(crate) fn layer_title(name: LayerName) -> &'static str {
    match name {
        LayerName::Eth => "Ethernet",
        LayerName::Vlan => "802.1Q VLAN",
        LayerName::Sll => "Linux cooked (SLL)",
        LayerName::Sll2 => "Linux cooked (SLL2)",
        LayerName::Null => "BSD loopback",
        LayerName::Arp => "ARP",
        LayerName::Ipv4 => "IPv4",
        LayerName::Ipv6 => "IPv6",
        LayerName::Icmp => "ICMP",
        LayerName::Icmpv6 => "ICMPv6",
        LayerName::Tcp => "TCP",
        LayerName::Udp => "UDP",
        LayerName::Tls => "TLS",
        LayerName::Http => "HTTP",
        LayerName::Http2 => "HTTP/2",
        LayerName::Http3 => "HTTP/3",
        LayerName::Dns => "DNS",
        LayerName::Quic => "QUIC",
        LayerName::Mpls => "MPLS label stack",
        LayerName::Pppoes => "PPPoE session",
        LayerName::Pppoed => "PPPoE discovery",
        LayerName::Ppp => "PPP",
        LayerName::Chdlc => "Cisco HDLC",
        LayerName::Wlan => "IEEE 802.11",
        LayerName::Radiotap => "radiotap",
        LayerName::Ppi => "PPI",
        LayerName::Prism => "Prism radio header",
        LayerName::Wlancap => "AVS radio header",
        LayerName::Llc => "802.2 LLC",
        LayerName::Nflog => "NFLOG",
        LayerName::Ipoib => "IP over InfiniBand",
        LayerName::Erspan => "ERSPAN",
        LayerName::Vxlan => "VXLAN",
        LayerName::Geneve => "Geneve",
        LayerName::Gre => "GRE",
        LayerName::Gtp => "GTP-U",
        LayerName::Teredo => "Teredo",
        LayerName::Ayiya => "AYIYA",
        LayerName::Esp => "ESP (encrypted)",
        LayerName::Sctp => "SCTP",
        LayerName::Loop => "Ethernet loopback test",
    }
}

/// A header that carries another stack (the layers after it repeat, inside the tunnel).
fn is_tunnel_header(name: LayerName) -> bool {
    matches!(
        name,
        LayerName::Vxlan
            | LayerName::Geneve
            | LayerName::Gre
            | LayerName::Erspan
            | LayerName::Gtp
            | LayerName::Teredo
            | LayerName::Ayiya
    )
}

/// A layer that starts a stack (where "the whole stack again" begins inside a tunnel).
fn opens_inner_stack(name: LayerName) -> bool {
    matches!(
        name,
        LayerName::Eth | LayerName::Ipv4 | LayerName::Ipv6 | LayerName::Ppp
    )
}

/// A header's fields as the wire layer describes them (name, raw value, meaning): the one
/// place that knows each header. TCP and the innermost UDP add their connection's context
/// to these descriptions (see `tcp_fields`, `udp_fields`).
fn wire_fields(out: &mut Buf, d: &[u8], layer: &Layer) {
    use crate::wire::{self, Describe};
    let off = layer.offset as usize;
    let b = d.get(off..).unwrap_or(&[]);
    let mut put = |f: wire::Field| {
        place(out, off, &f);
        field(out, f.name, &f.raw_text(), &f.meaning);
    };
    match layer.name {
        LayerName::Eth => {
            if let Ok(h) = wire::ethernet::Ethernet::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Ipv4 => {
            if let Ok(h) = wire::ipv4::Ipv4::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Ipv6 => {
            if let Ok(h) = wire::ipv6::Ipv6::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Udp => {
            if let Ok(h) = wire::udp::Udp::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Vlan => {
            if let Ok(h) = wire::vlan::VlanTag::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Sll | LayerName::Sll2 => {
            let version = if layer.name == LayerName::Sll {
                wire::sll::Version::V1
            } else {
                wire::sll::Version::V2
            };
            if let Ok(h) = wire::sll::Sll::new_checked(b, version) {
                h.describe(&mut put);
            }
        }
        LayerName::Mpls => {
            // Each entry's fields are placed in that entry (4 bytes a label).
            let stack = b.get(..layer.len as usize).unwrap_or(&[]);
            for (i, entry) in stack.chunks_exact(wire::mpls::ENTRY_LEN).enumerate() {
                if let Ok(h) = wire::mpls::MplsEntry::new_checked(entry) {
                    h.describe(&mut |f: wire::Field| {
                        place(out, off + i * wire::mpls::ENTRY_LEN, &f);
                        field(out, f.name, &f.raw_text(), &f.meaning);
                    });
                }
            }
        }
        LayerName::Icmp | LayerName::Icmpv6 => {
            if let Ok(h) = wire::icmp::Icmp::new_checked(b, layer.name == LayerName::Icmpv6) {
                h.describe(&mut put);
            }
        }
        LayerName::Arp => {
            if let Ok(h) = wire::arp::Arp::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Pppoes | LayerName::Pppoed => {
            if let Ok(h) = wire::pppoe::Pppoe::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Ppp => {
            if let Ok(h) = wire::ppp::Ppp::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Chdlc => {
            if let Ok(h) = wire::chdlc::Chdlc::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Gre => {
            if let Ok(h) = wire::gre::Gre::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Erspan => {
            let type_iii = b.first().is_some_and(|v| v >> 4 == 2);
            if let Ok(h) = wire::erspan::Erspan::new_checked(b, type_iii) {
                h.describe(&mut put);
            }
        }
        LayerName::Vxlan => {
            if let Ok(h) = wire::vxlan::Vxlan::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Geneve => {
            if let Ok(h) = wire::geneve::Geneve::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Gtp => {
            if let Ok(h) = wire::gtpu::GtpU::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Teredo => {
            if let Ok(h) = wire::teredo::Teredo::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Ayiya => {
            if let Ok(h) = wire::ayiya::Ayiya::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Wlan => {
            if let Ok(h) = wire::ieee80211::Ieee80211::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Llc => {
            if let Ok(h) = wire::llc::Llc::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Radiotap => {
            if let Ok(h) = wire::radiotap::Radiotap::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Ppi => {
            if let Ok(h) = wire::ppi::Ppi::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Prism => {
            if let Ok(h) = wire::prism::RadioHeader::new_prism(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Wlancap => {
            if let Ok(h) = wire::prism::RadioHeader::new_avs(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Nflog => {
            if let Ok(h) = wire::nflog::Nflog::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Ipoib => {
            if let Ok(h) = wire::ipoib::Ipoib::new_checked(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Esp => {
            if let Ok(h) = wire::esp::Esp::new_checked(b) {
                h.describe(&mut put);
            }
        }
        // Only for a first fragment's header ([`first_fragment_fields`]): the options may
        // lie in the next fragment.
        LayerName::Tcp => {
            if let Ok(h) = wire::tcp::Tcp::new_fixed(b) {
                h.describe(&mut put);
            }
        }
        LayerName::Sctp => {
            if let Ok(h) = wire::sctp::Sctp::new_checked(b) {
                h.describe(&mut put);
            }
        }
        _ => {}
    }
}

/// The DNS message header as its wire view describes it: the transport payload's first
/// bytes (after the 2-byte length over TCP), placed in the frame unless the message came
/// from a reassembled datagram.
fn dns_fields(out: &mut Buf, packet: &DecodedPacket<'_>, layer: &Layer) {
    use crate::wire::{dns, Describe};
    let prefix = if packet.tcp().is_some() {
        dns::TCP_LENGTH_PREFIX
    } else {
        0
    };
    let Some(Ok(h)) = packet
        .payload
        .get(prefix..)
        .map(dns::DnsHeader::new_checked)
    else {
        return;
    };
    let off = layer.offset as usize + prefix;
    h.describe(&mut |f| {
        if !packet.reassembled {
            place(out, off, &f);
        }
        field(out, f.name, &f.raw_text(), &f.meaning);
    });
}

/// The letter marking a layer's bytes in the hex dump without colour.
fn layer_letter(name: LayerName) -> char {
    match name {
        LayerName::Eth | LayerName::Sll | LayerName::Sll2 | LayerName::Null => 'E',
        LayerName::Vlan => 'V',
        LayerName::Arp => 'R',
        LayerName::Ipv4 | LayerName::Ipv6 => 'I',
        LayerName::Icmp | LayerName::Icmpv6 => 'C',
        LayerName::Tcp => 'T',
        LayerName::Udp => 'U',
        LayerName::Quic => 'Q',
        LayerName::Tls => 'S',
        LayerName::Http | LayerName::Http2 | LayerName::Http3 | LayerName::Dns => 'A',
        LayerName::Mpls
        | LayerName::Pppoes
        | LayerName::Pppoed
        | LayerName::Ppp
        | LayerName::Chdlc
        | LayerName::Wlan
        | LayerName::Radiotap
        | LayerName::Ppi
        | LayerName::Prism
        | LayerName::Wlancap
        | LayerName::Llc
        | LayerName::Nflog
        | LayerName::Ipoib
        | LayerName::Loop => 'L',
        LayerName::Erspan
        | LayerName::Vxlan
        | LayerName::Geneve
        | LayerName::Gre
        | LayerName::Gtp
        | LayerName::Teredo
        | LayerName::Ayiya => 'G',
        LayerName::Esp => 'X',
        LayerName::Sctp => 'T',
    }
}

/// What a well-known port is for (claim 2 of the teaching notes).
pub(crate) fn port_role(port: u16) -> Option<&'static str> {
    Some(match port {
        53 => "DNS",
        80 | 8080 | 8000 | 8088 => "HTTP",
        443 => "HTTPS",
        22 => "SSH",
        25 => "SMTP",
        123 => "NTP",
        _ => return None,
    })
}

/// 67 054 592 (thin groups, as the brief writes byte counts).
pub(crate) fn spaced(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Cuts `s` to `max` characters, ending with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Writes `text` wrapped at `width` (by words), first line after `first`, the rest after
/// `rest`.
pub(crate) fn write_wrapped<W: Write>(
    w: &mut W,
    text: &str,
    first: &str,
    rest: &str,
    width: usize,
) -> io::Result<()> {
    let mut line = String::from(first);
    let mut col = first.chars().count();
    let mut empty = true;
    let rest_w = rest.chars().count();
    for word in text.split(' ') {
        let n = word.chars().count();
        if !empty && col + 1 + n > width {
            writeln!(w, "{line}")?;
            line.clear();
            line.push_str(rest);
            col = rest_w;
            empty = true;
        }
        if !empty {
            line.push(' ');
            col += 1;
        }
        // A word longer than a whole line (a URI, padding) is cut across lines.
        let mut chars = word.chars();
        loop {
            let room = width.saturating_sub(col).max(1);
            let piece: String = chars.by_ref().take(room).collect();
            if piece.is_empty() {
                break;
            }
            col += piece.chars().count();
            line.push_str(&piece);
            if col >= width && chars.as_str().chars().next().is_some() {
                writeln!(w, "{line}")?;
                line.clear();
                line.push_str(rest);
                col = rest_w;
            }
        }
        empty = false;
    }
    writeln!(w, "{line}")
}

/// Rendered text with the width its field rows wrap at.
struct Buf {
    s: String,
    width: usize,
    /// When set, fields are collected here (with `layer`) instead of written as text.
    rows: Option<Vec<FieldRow>>,
    /// Index in `packet.layers` of the layer whose fields are being listed.
    layer: usize,
    /// Whether that layer's offsets are in the frame (not in a reassembled datagram).
    in_frame: bool,
    /// The frame bytes `[start, end)` of the next field [`field`] writes (taken by it).
    at: Option<(u32, u32)>,
}

/// One header field as `explain` lists it: the layer it belongs to (an index into
/// `packet.layers`), its name, raw value and meaning (wire text already escaped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRow {
    pub layer: usize,
    pub name: String,
    pub raw: String,
    pub meaning: String,
    /// The field's bytes `[start, end)` in the frame, where the wire layer says where it
    /// lies; `None` for the lines `explain` adds itself and for a reassembled datagram's.
    pub bytes: Option<(u32, u32)>,
}

/// The fields `explain` lists for one frame, as data rather than text, for views that lay
/// them out themselves (the HTML report).
pub fn frame_fields(
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
) -> Vec<FieldRow> {
    let mut buf = Buf {
        s: String::new(),
        width: 1000,
        rows: Some(Vec::new()),
        layer: 0,
        in_frame: true,
        at: None,
    };
    render_fields(&mut buf, frame, packet, flow, &ExplainOptions::default());
    buf.rows.unwrap_or_default()
}

impl Buf {
    fn push_str(&mut self, t: &str) {
        self.s.push_str(t);
    }
    fn push(&mut self, c: char) {
        self.s.push(c);
    }
}

impl std::fmt::Write for Buf {
    fn write_str(&mut self, t: &str) -> std::fmt::Result {
        self.s.push_str(t);
        Ok(())
    }
}

/// Column where a field's meaning starts.
const MEANING_COL: usize = 4 + 16 + 1 + 14 + 1;

/// One field row: name, raw value, meaning (wrapped under its column; a raw value too wide
/// for its column puts the meaning on the next line).
/// The TLS records that start in this segment: record header fields, and for a
/// ClientHello / ServerHello whose record is whole here, what it offers or picks.
fn tls_fields(out: &mut Buf, bytes: &[u8]) {
    use crate::app::{describe_handshake, tls_version_name};
    let mut rest = bytes;
    let mut shown = 0;
    while rest.len() >= 5 && shown < 8 {
        shown += 1;
        let ctype = rest[0];
        let version = u16::from_be_bytes([rest[1], rest[2]]);
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let kind = match ctype {
            20 => "ChangeCipherSpec",
            21 => "Alert",
            22 => "Handshake",
            23 => "Application data (encrypted)",
            24 => "Heartbeat",
            _ => "not a TLS record type",
        };
        field(out, "record type", &ctype.to_string(), kind);
        let meaning = if shown == 1 {
            format!(
                "{} (the record layer's, not the negotiated one: TLS 1.3 keeps an old value here for middleboxes)",
                tls_version_name(version)
            )
        } else {
            tls_version_name(version)
        };
        field(out, "record version", &format!("0x{version:04x}"), &meaning);
        field(
            out,
            "record length",
            &len.to_string(),
            "bytes of this record",
        );
        if ctype == 22 && rest.len() >= 5 + len {
            // The handshake messages inside this record (whole ones only).
            let mut msgs = &rest[5..5 + len];
            while msgs.len() >= 4 {
                let mlen = 4
                    + (usize::from(msgs[1]) << 16
                        | usize::from(msgs[2]) << 8
                        | usize::from(msgs[3]));
                let Some(msg) = msgs.get(..mlen) else { break };
                if let Some(f) = describe_handshake(msg) {
                    hello_fields(out, &f);
                }
                msgs = &msgs[mlen..];
            }
        }
        match rest.get(5 + len..) {
            Some(r) => rest = r,
            None => break,
        }
    }
}

/// An ASN.1 UTCTime `YYMMDDHHMMSSZ` (or GeneralizedTime `YYYYMMDDHHMMSSZ`) as
/// `YYYY-MM-DD HH:MM:SS UTC`; anything else escaped as it is.
fn asn1_time(t: Option<&str>) -> String {
    let Some(t) = t else {
        return "?".into();
    };
    let digits = t
        .strip_suffix('Z')
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
    match digits {
        Some(d) if d.len() == 12 || d.len() == 14 => {
            let (year, rest) = if d.len() == 12 {
                let yy: u32 = d[..2].parse().unwrap_or(0);
                (if yy < 50 { 2000 + yy } else { 1900 + yy }, &d[2..])
            } else {
                (d[..4].parse().unwrap_or(0), &d[4..])
            };
            format!(
                "{year}-{}-{} {}:{}:{} UTC",
                &rest[..2],
                &rest[2..4],
                &rest[4..6],
                &rest[6..8],
                &rest[8..10]
            )
        }
        _ => escape_str(t),
    }
}

/// What a ClientHello offers or a ServerHello picks.
fn hello_fields(out: &mut Buf, f: &crate::app::HandshakeFacts) {
    use crate::app::{tls_cipher_name, tls_version_name};
    let cipher = |c: u16| {
        tls_cipher_name(c)
            .map(str::to_string)
            .unwrap_or_else(|| format!("0x{c:04x}"))
    };
    let client = match f.kind {
        1 => {
            field(out, "handshake", "1", "ClientHello: the client proposes");
            let list: Vec<String> = f
                .offered_ciphers
                .iter()
                .take(6)
                .map(|&c| cipher(c))
                .collect();
            field(
                out,
                "cipher suites",
                &f.offered_ciphers.len().to_string(),
                &format!(
                    "offered: {}{}",
                    list.join(", "),
                    if f.offered_ciphers.len() > 6 {
                        ", …"
                    } else {
                        ""
                    }
                ),
            );
            true
        }
        2 => {
            field(out, "handshake", "2", "ServerHello: the server chooses");
            if let Some(c) = f.cipher {
                field(out, "cipher suite", &format!("0x{c:04x}"), &cipher(c));
            }
            false
        }
        11 => {
            field(
                out,
                "handshake",
                "11",
                &format!(
                    "Certificate: {} certificate(s), sent in the clear (TLS 1.2 and earlier)",
                    f.certificates.len()
                ),
            );
            for c in f.certificates.iter().take(3) {
                let subject = c.subject.as_deref().map(escape_str).unwrap_or("?".into());
                let issuer = c.issuer.as_deref().map(escape_str).unwrap_or("?".into());
                field(
                    out,
                    "certificate",
                    &format!("{} B", c.len),
                    &format!(
                        "subject {subject}, issuer {issuer}, valid {} to {}",
                        asn1_time(c.not_before.as_deref()),
                        asn1_time(c.not_after.as_deref())
                    ),
                );
            }
            return;
        }
        k => {
            field(
                out,
                "handshake",
                &k.to_string(),
                crate::app::tls_handshake_name(k),
            );
            return;
        }
    };
    if let Some(sni) = &f.sni {
        field(
            out,
            "server name",
            &escape_str(sni),
            "SNI: sent in the clear",
        );
    }
    if !f.alpn.is_empty() {
        let list: Vec<String> = f.alpn.iter().take(8).map(|a| escape_str(a)).collect();
        field(
            out,
            "ALPN",
            &list.join(", "),
            if client {
                "application protocols offered inside TLS"
            } else {
                "the application protocol inside TLS"
            },
        );
    }
    let versions: Vec<String> = if client {
        f.offered_versions
            .iter()
            .map(|&v| tls_version_name(v))
            .collect()
    } else {
        f.chosen_version.map(tls_version_name).into_iter().collect()
    };
    if !versions.is_empty() {
        field(
            out,
            "versions",
            &versions.join(", "),
            if client {
                "supported_versions offered"
            } else {
                "the version chosen"
            },
        );
    }
}

/// Places the next field [`field`] writes at `f`'s bytes in the header at `off` of the
/// frame (nowhere when the layer is not in the frame or the wire layer does not say).
fn place(out: &mut Buf, off: usize, f: &crate::wire::Field) {
    out.at = f.bytes.filter(|_| out.in_frame).and_then(|(s, l)| {
        let start = u32::try_from(off).ok()?.checked_add(u32::from(s))?;
        Some((start, start.checked_add(u32::from(l))?))
    });
}

fn field(out: &mut Buf, name: &str, raw: &str, meaning: &str) {
    let at = out.at.take();
    if let Some(rows) = out.rows.as_mut() {
        rows.push(FieldRow {
            layer: out.layer,
            name: name.to_string(),
            raw: raw.to_string(),
            meaning: meaning.to_string(),
            bytes: at,
        });
        return;
    }
    let pad = " ".repeat(MEANING_COL);
    let mut v = Vec::new();
    if raw.chars().count() > 14 && !meaning.is_empty() {
        let _ = writeln!(out, "    {name:<16} {raw}");
        let _ = write_wrapped(&mut v, meaning, &pad, &pad, out.width);
    } else if meaning.is_empty() {
        let _ = writeln!(out, "    {name:<16} {raw}");
    } else {
        let first = format!("    {name:<16} {raw:<14} ");
        let _ = write_wrapped(&mut v, meaning, &first, &pad, out.width);
    }
    out.push_str(&String::from_utf8_lossy(&v));
}

fn render_body(
    out: &mut String,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    when: &str,
    opts: &ExplainOptions,
) {
    let _ = write!(
        out,
        "Frame {} · {} bytes on the wire, {} captured\n{when}",
        frame.number,
        frame.orig_len,
        frame.data.len(),
    );
    if let (Some(c), Some(d)) = (flow.conn, flow.dir) {
        let _ = write!(
            out,
            " · conn {c}, {}",
            match d {
                Direction::ToServer => "client → server",
                Direction::ToClient => "server → client",
            }
        );
    }
    out.push_str("\n\n");
    let mut buf = Buf {
        s: std::mem::take(out),
        width: opts.width,
        rows: None,
        layer: 0,
        in_frame: true,
        at: None,
    };
    render_osi(&mut buf, packet, opts.width);
    buf.push('\n');
    render_fields(&mut buf, frame, packet, flow, opts);
    *out = buf.s;
    let fcs_len = usize::from(packet.fcs_len);
    render_hex(
        out,
        frame.data,
        &packet.layers,
        (packet.reassembled, fcs_len),
        opts,
    );
    out.push('\n');
}

/// (a) the seven OSI layers with the TCP/IP mapping.
fn render_osi(out: &mut Buf, packet: &DecodedPacket<'_>, width: usize) {
    // 2 + 15 + 1 + what + 1 + 12 + 1 + 8 columns.
    let what_w = width.saturating_sub(40).clamp(16, 38);
    let _ = writeln!(
        out,
        "  {:<15} {:<what_w$} {:<12}",
        "OSI layer", "in this frame", "TCP/IP layer"
    );
    let has_tcp = packet.tcp().is_some();
    for osi in [
        Osi::Application,
        Osi::Presentation,
        Osi::Session,
        Osi::Transport,
        Osi::Network,
        Osi::DataLink,
        Osi::Physical,
    ] {
        let mut what = String::new();
        for l in packet.layers.iter().filter(|l| l.osi() == osi) {
            if !what.is_empty() {
                what.push_str(" + ");
            }
            what.push_str(layer_title(l.name));
            let _ = write!(what, " [{},{})", l.offset, l.offset.saturating_add(l.len));
        }
        if what.is_empty() {
            what.push_str(match osi {
                Osi::Physical => "— the signal itself: never captured",
                Osi::Session if has_tcp => "— none: TCP's connection does the job",
                Osi::Presentation if has_tcp => "— none: no TLS, plain bytes",
                Osi::Application if !packet.payload.is_empty() => "— payload not recognised",
                _ => "—",
            });
        }
        let group = match osi {
            Osi::Application => "┐ host",
            Osi::Presentation => "│ layers",
            Osi::Session => "│",
            Osi::Transport => "┘",
            Osi::Network => "┐ media",
            Osi::DataLink => "│ layers",
            Osi::Physical => "┘",
        };
        let label = format!("{} {}", osi.number(), osi.name());
        let _ = writeln!(
            out,
            "  {:<15} {:<what_w$} {:<12} {}",
            label,
            truncate(&what, what_w),
            osi.tcpip_name(),
            group
        );
    }
}

/// (b) every header's fields.
fn render_fields(
    out: &mut Buf,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    opts: &ExplainOptions,
) {
    let d = frame.data;
    // The innermost UDP layer is the one `packet.udp()` describes; an outer one is a tunnel's.
    let inner_udp = packet
        .udp()
        .and_then(|_| packet.layers.iter().rposition(|l| l.name == LayerName::Udp));
    let mut tunnel_seen = false;
    let mut ip_seen = false;
    let mut repeat_marked = false;
    for (index, layer) in packet.layers.iter().enumerate() {
        out.layer = index;
        out.in_frame = !packet.reassembled || layer.osi() <= Osi::Network;
        out.at = None;
        let off = layer.offset as usize;
        let title = layer_title(layer.name);
        let is_ip = matches!(layer.name, LayerName::Ipv4 | LayerName::Ipv6);
        if !repeat_marked && ((tunnel_seen && opens_inner_stack(layer.name)) || (ip_seen && is_ip))
        {
            out.push_str("  ── the whole stack again, inside the tunnel ──\n");
            repeat_marked = true;
        }
        tunnel_seen |= is_tunnel_header(layer.name);
        ip_seen |= is_ip;
        let _ = writeln!(
            out,
            "  L{} {} [{},{}) {} bytes",
            layer.osi().number(),
            title,
            layer.offset,
            layer.offset.saturating_add(layer.len),
            layer.len
        );
        if packet.reassembled && layer.osi() >= Osi::Transport {
            out.push_str("    (from a reassembled IP datagram: offsets are in that datagram)\n");
        }
        match layer.name {
            LayerName::Eth | LayerName::Ipv4 | LayerName::Ipv6 => wire_fields(out, d, layer),
            LayerName::Udp if inner_udp != Some(index) => wire_fields(out, d, layer),
            LayerName::Tcp => {
                if let Some(t) = packet.tcp() {
                    let addrs = packet.net.as_ref().map(|n| (n.src, n.dst));
                    tcp_fields(out, d, off, t, flow, packet.reassembled, addrs);
                }
            }
            LayerName::Udp => udp_fields(out, d, off, packet, flow),
            // HTTP inside TLS: this frame's bytes are the encrypted records, not the
            // message (which is read from the decrypted records, shown below).
            LayerName::Http
                if index
                    .checked_sub(1)
                    .and_then(|i| packet.layers.get(i))
                    .is_some_and(|l| l.name == LayerName::Tls) =>
            {
                field(
                    out,
                    "in TLS records",
                    "",
                    "encrypted on the wire: the HTTP message is read from the decrypted records",
                );
            }
            LayerName::Http => {
                let bytes = d
                    .get(off..off.saturating_add(layer.len as usize))
                    .unwrap_or(packet.payload);
                http_lines(out, bytes, opts.width);
            }
            LayerName::Tls => {
                let bytes = d
                    .get(off..off.saturating_add(layer.len as usize))
                    .unwrap_or(packet.payload);
                tls_fields(out, bytes);
            }
            LayerName::Dns => dns_fields(out, packet, layer),
            _ => wire_fields(out, d, layer),
        }
    }
    if let Some(f) = &packet.first_fragment {
        first_fragment_fields(out, d, packet, f);
    }
    if packet.fcs_len > 0 {
        fcs_trailer(out, d, packet);
    }
    if let Some(issue) = &packet.issue {
        let mut s = String::new();
        escape_bytes(issue.to_string().as_bytes(), &mut s);
        let mut v = Vec::new();
        let text = format!("decoding stopped: {s}");
        let _ = write_wrapped(&mut v, &text, "  ⚠ ", "    ", out.width);
        out.push_str(&String::from_utf8_lossy(&v));
    }
    out.push('\n');
}

/// The frame check sequence that ended the frame (taken off before decoding, as the file
/// header, radiotap or PPI said): a trailer, not payload.
fn fcs_trailer(out: &mut Buf, d: &[u8], packet: &DecodedPacket<'_>) {
    let len = usize::from(packet.fcs_len);
    let start = d.len().saturating_sub(len);
    out.layer = packet.layers.len();
    out.in_frame = true;
    out.at = None;
    let _ = writeln!(
        out,
        "  trailer FCS [{start},{}) {len} bytes · frame check sequence",
        d.len()
    );
    let mut hex = String::from("0x");
    for b in d.get(start..).unwrap_or(&[]) {
        let _ = write!(hex, "{b:02x}");
    }
    field(
        out,
        "FCS",
        &hex,
        "the sender's CRC of the frame; not payload, not verified",
    );
}

/// The transport header of a first fragment whose datagram did not complete here, read from
/// the fragment alone (as tshark shows it with reassembly off): right after the innermost IP
/// layer (IPv6: after its fragment header, which that layer's length includes).
fn first_fragment_fields(
    out: &mut Buf,
    d: &[u8],
    packet: &DecodedPacket<'_>,
    f: &crate::decode::FirstFragment,
) {
    let Some(ip) = packet
        .layers
        .iter()
        .rev()
        .find(|l| matches!(l.name, LayerName::Ipv4 | LayerName::Ipv6))
    else {
        return;
    };
    let (name, len) = match f.protocol_name() {
        "tcp" => (LayerName::Tcp, crate::wire::tcp::MIN_LEN),
        "udp" => (LayerName::Udp, crate::wire::udp::HEADER_LEN),
        _ => (LayerName::Sctp, crate::wire::sctp::HEADER_LEN),
    };
    let offset = ip.offset.saturating_add(ip.len);
    let layer = Layer {
        name,
        offset,
        len: len as u32,
    };
    out.layer = packet.layers.len();
    out.in_frame = true;
    out.at = None;
    let _ = writeln!(
        out,
        "  L4 {} [{},{}) {} bytes · from this first fragment alone",
        layer_title(name),
        offset,
        offset.saturating_add(layer.len),
        layer.len
    );
    out.push_str(
        "    (the datagram's other fragments had not arrived: not reassembled yet, so no connection)\n",
    );
    wire_fields(out, d, &layer);
}

fn port_meaning(port: u16, flow: &PacketFlow, source: bool) -> String {
    let server_side = match (flow.dir, source) {
        (Some(Direction::ToClient), true) | (Some(Direction::ToServer), false) => Some(true),
        (Some(_), _) => Some(false),
        (None, _) => None,
    };
    match (server_side, port_role(port)) {
        (Some(true), Some(r)) => format!("the server's listening port ({r})"),
        (Some(true), None) => "the server's listening port".to_string(),
        (Some(false), _) if port >= 32768 => "the client's ephemeral port".to_string(),
        (Some(false), _) => "the client's port".to_string(),
        (None, Some(r)) => r.to_string(),
        (None, None) => String::new(),
    }
}

/// The TCP header as its wire view describes it, with the connection's context added:
/// the ports' roles, relative sequence numbers, the scaled window, the checksum checked.
/// A reassembled datagram's header (not in the frame) or one the capture cut is described
/// from what the decoder read, without checksum, urgent pointer and options.
fn tcp_fields(
    out: &mut Buf,
    d: &[u8],
    off: usize,
    t: &TcpInfo,
    flow: &PacketFlow,
    reassembled: bool,
    addrs: Option<(IpAddr, IpAddr)>,
) {
    use crate::wire::{tcp::Tcp, Describe};
    let in_frame = d
        .get(off..)
        .filter(|b| !reassembled && Tcp::new_checked(b).is_ok());
    let decoded = decoded_tcp_header(t);
    let (bytes, whole) = match in_frame {
        Some(b) => (b, true),
        None => (&decoded[..], false),
    };
    let Ok(h) = Tcp::new_checked(bytes) else {
        return;
    };
    h.describe(&mut |f| {
        if whole {
            place(out, off, &f);
        }
        let context: Option<String> = match f.name {
            "checksum" | "urgent pointer" if !whole => return,
            n if n.starts_with("option") && !whole => return,
            "checksum" => {
                let seg_len = (t.header_len as usize).saturating_add(t.payload_len as usize);
                if let Some((src, dst)) = addrs {
                    checksum_field(out, d, off, seg_len, 16, src, dst, 6, f.value as u16);
                }
                return;
            }
            "source port" => Some(port_meaning(t.src_port, flow, true)),
            "dest port" => Some(port_meaning(t.dst_port, flow, false)),
            "seq" => Some(match flow.rel_seq {
                Some(r) => format!("relative {r} (ISN {} + {r})", t.seq.wrapping_sub(r)),
                None => String::new(),
            }),
            "ack" if t.flags.ack() => Some(match flow.rel_ack {
                Some(r) => format!("relative {r}: next byte expected from the peer"),
                None => String::new(),
            }),
            "window" if !t.flags.syn() => Some(match flow.window_scaled {
                Some(s) if s != t.window as u64 && t.window > 0 => {
                    format!("× {} scale = {} bytes", s / t.window as u64, spaced(s))
                }
                Some(s) => format!("{} bytes the sender can receive", spaced(s)),
                None => "bytes (scale unknown: SYNs not seen)".to_string(),
            }),
            _ => None,
        };
        let meaning = context.as_deref().unwrap_or(&f.meaning);
        field(out, f.name, &f.raw_text(), meaning);
    });
    out.at = None;
    if t.payload_len > 0 {
        field(
            out,
            "payload",
            &format!("{} bytes", t.payload_len),
            "data for the application",
        );
    }
}

/// A TCP header made of what the decoder read (ports, numbers, data offset, flags,
/// window; options zero): what the wire view describes when the frame's own bytes are not
/// there to read.
fn decoded_tcp_header(t: &TcpInfo) -> [u8; 60] {
    let mut h = [0u8; 60];
    h[0..2].copy_from_slice(&t.src_port.to_be_bytes());
    h[2..4].copy_from_slice(&t.dst_port.to_be_bytes());
    h[4..8].copy_from_slice(&t.seq.to_be_bytes());
    h[8..12].copy_from_slice(&t.ack.to_be_bytes());
    let flags = (u16::from(t.header_len / 4) << 12) | (t.flags.0 & 0x01FF);
    h[12..14].copy_from_slice(&flags.to_be_bytes());
    h[14..16].copy_from_slice(&t.window.to_be_bytes());
    h
}

/// The innermost UDP header as its wire view describes it, with the ports' roles in the
/// connection and the checksum checked.
fn udp_fields(out: &mut Buf, d: &[u8], off: usize, packet: &DecodedPacket<'_>, flow: &PacketFlow) {
    use crate::wire::{udp::Udp, Describe};
    let Some(u) = packet.udp() else {
        return;
    };
    let decoded;
    let mut in_frame = true;
    let bytes = match d.get(off..).filter(|_| !packet.reassembled) {
        Some(b) if Udp::new_checked(b).is_ok() => b,
        _ => {
            let mut h = [0u8; 8];
            h[0..2].copy_from_slice(&u.src_port.to_be_bytes());
            h[2..4].copy_from_slice(&u.dst_port.to_be_bytes());
            h[4..6].copy_from_slice(&u.length.to_be_bytes());
            decoded = h;
            in_frame = false;
            &decoded[..]
        }
    };
    let Ok(h) = Udp::new_checked(bytes) else {
        return;
    };
    h.describe(&mut |f| {
        if in_frame {
            place(out, off, &f);
        }
        match f.name {
            "source port" => field(
                out,
                f.name,
                &f.raw_text(),
                &port_meaning(u.src_port, flow, true),
            ),
            "dest port" => field(
                out,
                f.name,
                &f.raw_text(),
                &port_meaning(u.dst_port, flow, false),
            ),
            "checksum" => match (packet.reassembled, &packet.net) {
                (false, Some(net)) if f.value != 0 => {
                    let len = u.length as usize;
                    checksum_field(out, d, off, len, 6, net.src, net.dst, 17, f.value as u16);
                }
                (false, Some(_)) => field(out, f.name, &f.raw_text(), &f.meaning),
                _ => {}
            },
            _ => field(out, f.name, &f.raw_text(), &f.meaning),
        }
    });
    out.at = None;
}

/// The TCP/UDP checksum over the pseudo-header and the segment (RFC 9293 §3.1, RFC 768),
/// with the checksum field taken as zero; `None` when the segment was not fully captured.
fn transport_checksum(seg: &[u8], at: usize, src: IpAddr, dst: IpAddr, proto: u8) -> Option<u16> {
    let mut sum: u64 = 0;
    let mut add = |b: &[u8]| {
        for pair in b.chunks(2) {
            let hi = pair[0] as u64;
            let lo = pair.get(1).copied().unwrap_or(0) as u64;
            sum += (hi << 8) | lo;
        }
    };
    match (src, dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            add(&a.octets());
            add(&b.octets());
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            add(&a.octets());
            add(&b.octets());
        }
        _ => return None,
    }
    let len = u32::try_from(seg.len()).ok()?;
    add(&len.to_be_bytes());
    add(&[0, proto]);
    add(seg.get(..at)?);
    add(seg.get(at + 2..)?);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    // UDP sends a computed 0 as 0xffff.
    Some(if proto == 17 && c == 0 { 0xffff } else { c })
}

/// The checksum row: correct, or why a wrong-looking one on loopback is not an error.
#[allow(clippy::too_many_arguments)]
fn checksum_field(
    out: &mut Buf,
    d: &[u8],
    off: usize,
    seg_len: usize,
    at: usize,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    got: u16,
) {
    let raw = format!("0x{got:04x}");
    let seg = d.get(off..off.saturating_add(seg_len));
    match seg.and_then(|seg| transport_checksum(seg, at, src, dst, proto)) {
        None => field(
            out,
            "checksum",
            &raw,
            "not verified: segment not fully captured",
        ),
        Some(c) if c == got => field(out, "checksum", &raw, "correct"),
        Some(c) if src.is_loopback() || dst.is_loopback() => field(
            out,
            "checksum",
            &raw,
            &format!(
                "differs from the computed 0x{c:04x}: on loopback the kernel skips the \
                 checksum (it would be offloaded to a NIC), so this is not an error"
            ),
        ),
        Some(c) => field(
            out,
            "checksum",
            &raw,
            &format!(
                "differs from the computed 0x{c:04x}: checksum offload on the capturing host, \
                 or a damaged segment"
            ),
        ),
    }
}

/// The HTTP head's lines, escaped.
fn http_lines(out: &mut Buf, bytes: &[u8], width: usize) {
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(bytes.len());
    let head = bytes.get(..head_end).unwrap_or(bytes);
    let lines: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .collect();
    for (i, line) in lines.iter().enumerate() {
        if i == MAX_HEAD_LINES {
            let _ = writeln!(out, "    … {} more header lines", lines.len() - i);
            break;
        }
        let mut s = String::new();
        escape_bytes(line, &mut s);
        let name = if i == 0 {
            if line.starts_with(b"HTTP/") {
                "status line"
            } else {
                "request line"
            }
        } else {
            "header"
        };
        if out.rows.is_some() {
            field(out, name, &s, "");
            continue;
        }
        let _ = writeln!(
            out,
            "    {name:<16} {}",
            truncate(&s, width.saturating_sub(21).max(20))
        );
    }
    let body = bytes.len().saturating_sub(head_end);
    if bytes
        .get(..head_end)
        .is_some_and(|h| h.ends_with(b"\r\n\r\n"))
    {
        field(out, "blank line", "\\r\\n", "ends the head");
        if body > 0 {
            field(out, "body", &format!("{body} bytes"), "");
        } else {
            field(out, "body", "0 bytes", "none in this segment");
        }
    } else {
        field(out, "", "", "(the head continues in a later segment)");
    }
}

/// (c) the hex dump, bytes marked by layer, and the band of layer ranges.
fn render_hex(
    out: &mut String,
    data: &[u8],
    layers: &[Layer],
    (reassembled, fcs_len): (bool, usize),
    opts: &ExplainOptions,
) {
    // The layer owning each byte: the last (innermost) layer whose range covers it.
    let owner = |i: usize| -> Option<&Layer> {
        if reassembled {
            return layers
                .iter()
                .rev()
                .find(|l| l.osi() <= Osi::Network && covers(l, i));
        }
        layers.iter().rev().find(|l| covers(l, i))
    };
    let _ = writeln!(out, "  Bytes ({} captured)", data.len());
    // 16 bytes a row need 75 columns; narrower output gets 8.
    let per_row = if opts.width >= 75 { 16 } else { 8 };
    for (row, chunk) in data.chunks(per_row).enumerate() {
        let base = row * per_row;
        let mut hex = String::with_capacity(80);
        let mut marks = String::with_capacity(64);
        let mut current: Option<Osi> = None;
        for (j, b) in chunk.iter().enumerate() {
            if j == 8 {
                hex.push(' ');
                marks.push(' ');
            }
            let o = owner(base + j);
            if opts.color {
                let osi = o.map(|l| l.osi());
                if osi != current {
                    if current.is_some() {
                        hex.push_str(RESET);
                    }
                    if let Some(osi) = osi {
                        hex.push_str(layer_ansi(osi));
                    }
                    current = osi;
                }
            }
            let _ = write!(hex, "{b:02x} ");
            let letter = o.map(|l| layer_letter(l.name)).unwrap_or('.');
            marks.push(letter);
            marks.push(letter);
            marks.push(' ');
        }
        if opts.color && current.is_some() {
            hex.push_str(RESET);
        }
        let pad = (per_row - chunk.len()) * 3 + usize::from(per_row == 16 && chunk.len() <= 8);
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(out, "  {base:04x}  {hex}{} {ascii}", " ".repeat(pad));
        if !opts.color {
            let _ = writeln!(out, "        {}", marks.trim_end());
        }
    }
    // The band.
    let mut parts = Vec::new();
    for l in layers {
        let mut p = format!(
            "L{} {} [{},{})",
            l.osi().number(),
            layer_title(l.name),
            l.offset,
            l.offset.saturating_add(l.len)
        );
        if l.name == LayerName::Tcp && l.len > 20 {
            let _ = write!(p, " incl. {} B options", l.len - 20);
        }
        if l.name == LayerName::Ipv4 && l.len > 20 {
            let _ = write!(p, " incl. {} B options", l.len - 20);
        }
        if opts.color {
            p = format!("{}{p}{RESET}", layer_ansi(l.osi()));
        }
        parts.push(p);
    }
    let covered = layers
        .iter()
        .filter(|l| !reassembled || l.osi() <= Osi::Network)
        .map(|l| l.offset.saturating_add(l.len) as usize)
        .max()
        .unwrap_or(0);
    let fcs_start = data.len().saturating_sub(fcs_len);
    if covered < fcs_start {
        parts.push(format!(
            "{} [{},{})",
            if layers.iter().any(|l| l.osi() == Osi::Transport) {
                "data"
            } else {
                "not decoded"
            },
            covered,
            fcs_start
        ));
    }
    if fcs_len > 0 {
        parts.push(format!("FCS [{fcs_start},{})", data.len()));
    }
    let mut line = String::from("  ");
    let mut col = 2;
    for (i, p) in parts.iter().enumerate() {
        let w = visible_width(p);
        if i > 0 {
            if col + 3 + w > opts.width {
                let _ = writeln!(out, "{line}");
                line = String::from("  ");
                col = 2;
            } else {
                line.push_str(" │ ");
                col += 3;
            }
        }
        line.push_str(p);
        col += w;
    }
    let _ = writeln!(out, "{line}");
    if !opts.color {
        let mut legend = String::new();
        for (c, what) in [
            ('E', "link"),
            ('V', "VLAN"),
            ('R', "ARP"),
            ('I', "IP"),
            ('C', "ICMP"),
            ('T', "TCP"),
            ('U', "UDP"),
            ('Q', "QUIC"),
            ('S', "TLS"),
            ('A', "application"),
        ] {
            if layers.iter().any(|l| layer_letter(l.name) == c) {
                if !legend.is_empty() {
                    legend.push_str(", ");
                }
                let _ = write!(legend, "{c} {what}");
            }
        }
        if covered < data.len() {
            legend.push_str(", . not decoded");
        }
        let _ = writeln!(out, "  (marks: {legend})");
    }
}

fn covers(l: &Layer, i: usize) -> bool {
    let start = l.offset as usize;
    i >= start && i < start.saturating_add(l.len as usize)
}

fn visible_width(s: &str) -> usize {
    let mut n = 0;
    let mut esc = false;
    for c in s.chars() {
        if esc {
            esc = c != 'm';
        } else if c == '\x1b' {
            esc = true;
        } else {
            n += 1;
        }
    }
    n
}

/// (d) plain-language notes from the connection context.
fn render_notes(
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    ctx: ConnCtx,
) -> Vec<String> {
    let mut notes = Vec::new();
    let side = |d: Direction| match d {
        Direction::ToServer => "client",
        Direction::ToClient => "server",
    };
    if let (Some(net), Some((sp, dp))) = (&packet.net, packet.ports()) {
        let proto = match &packet.transport {
            Some(Transport::Tcp(_)) => "tcp",
            _ => "udp",
        };
        let (cl, sv) = match flow.dir {
            Some(Direction::ToClient) => ((net.dst, dp), (net.src, sp)),
            _ => ((net.src, sp), (net.dst, dp)),
        };
        notes.push(format!(
            "Sockets: each end is an IP address and a port. The {} is {}, the server {}; \
             the connection is the five-tuple ({proto}, {}, {}, {}, {}).",
            "client",
            endpoint_string(cl.0, Some(cl.1)),
            endpoint_string(sv.0, Some(sv.1)),
            cl.0,
            cl.1,
            sv.0,
            sv.1
        ));
    }
    let Some(t) = packet.tcp() else {
        if let Some(u) = packet.udp() {
            notes.push(format!(
                "Transport layer: UDP is connectionless — no handshake, no sequence numbers, \
                 no acknowledgements; this datagram carries {} bytes on its own.",
                u.length.saturating_sub(8)
            ));
        }
        return notes;
    };
    let dir = flow.dir.unwrap_or(Direction::ToServer);
    let me = side(dir);
    let peer = side(dir.reverse());
    let my_isn = flow.rel_seq.map(|r| t.seq.wrapping_sub(r));
    let peer_isn = flow
        .rel_ack
        .filter(|_| t.flags.ack())
        .map(|r| t.ack.wrapping_sub(r));
    match flow.step {
        Some(Step::Handshake(1)) => notes.push(format!(
            "Handshake step 1 of 3: the client asks to open a connection with SYN. Its initial \
             sequence number j = {} is chosen at random (tshark shows it as relative 0); the \
             SYN carries no data but uses up one sequence number, so the first data byte will \
             be j + 1. The client is now SYN-SENT.",
            t.seq
        )),
        Some(Step::Handshake(2)) => {
            let j = t.ack.wrapping_sub(1);
            let syn_frame = ctx
                .syn
                .map(|(f, _)| format!(" in frame {f}"))
                .unwrap_or_default();
            notes.push(format!(
                "Handshake step 2 of 3: the server accepts with SYN+ACK. ack = j + 1 = {j} + 1 = \
                 {} acknowledges the client's SYN{syn_frame}; seq = k = {} is the server's own \
                 random ISN (relative 0). The server is now SYN-RECEIVED.",
                t.ack, t.seq
            ));
        }
        Some(Step::Handshake(_)) => {
            let k = t.ack.wrapping_sub(1);
            let sa = ctx
                .synack
                .map(|(f, _)| format!(" (frame {f})"))
                .unwrap_or_default();
            notes.push(format!(
                "Handshake step 3 of 3: the client acknowledges the server's SYN{sa}: ack = k + 1 \
                 = {k} + 1 = {}; seq = j + 1 = {}. It carries no data; both ends are now \
                 ESTABLISHED.",
                t.ack, t.seq
            ));
        }
        Some(Step::Teardown(n)) => {
            let what = if t.flags.fin() {
                format!(
                    "the {me} sends FIN: it has no more data. The FIN uses up sequence number {} \
                     (relative {}), so the {peer} will acknowledge {}.",
                    t.seq.wrapping_add(t.payload_len),
                    flow.rel_seq.unwrap_or(0).wrapping_add(t.payload_len),
                    t.seq.wrapping_add(t.payload_len).wrapping_add(1)
                )
            } else {
                format!(
                    "the {me} acknowledges the {peer}'s FIN: ack = {} (the FIN's sequence number + 1).",
                    t.ack
                )
            };
            notes.push(format!("Teardown step {n} of 4: {what}"));
            if t.flags.fin() && t.flags.ack() && n >= 2 {
                notes.push(
                    "This one segment is both steps 2 and 3 of the close: the ACK of the peer's \
                     FIN rides on this side's own FIN, so the four steps take three packets."
                        .to_string(),
                );
            }
        }
        Some(Step::Refused) => notes.push(format!(
            "Connection refused: nothing listens on port {}. The {me}'s TCP answers the SYN with \
             RST+ACK, ack = ISN + 1 = {} (it acknowledges the SYN so the client knows this RST \
             is about its SYN) and seq 0.",
            t.src_port, t.ack
        )),
        Some(Step::Abort) => notes.push(format!(
            "Abort: the {me} sends RST. The connection ends at once, without the FIN exchange; \
             unsent and unacknowledged data is dropped."
        )),
        None => {}
    }
    if let Some(note) = &flow.note {
        notes.push(format!("Flow tracker: {}", escape_str(note)));
    }
    if let Some((c, s)) = flow.state {
        notes.push(format!(
            "TCP states after this segment: client {c}, server {s}."
        ));
    }
    if t.payload_len > 0 {
        if let Some(r) = flow.rel_seq {
            notes.push(format!(
                "Stream position: this segment carries bytes {}–{} of the {me} → {peer} byte \
                 stream (relative seq {r} .. seq + len − 1 = {r} + {} − 1).",
                r,
                r.wrapping_add(t.payload_len - 1),
                t.payload_len
            ));
        }
    } else if t.flags.ack() && flow.step.is_none() && flow.analysis.is_empty() {
        notes.push(format!(
            "A pure acknowledgement: no data; it tells the {peer} that every byte before \
             relative {} arrived.",
            flow.rel_ack.unwrap_or(0)
        ));
    }
    if let (Some(isn), Some(pisn)) = (my_isn, peer_isn) {
        if flow.step.is_none() {
            let hs = match (ctx.syn, ctx.synack) {
                (Some((a, _)), Some((b, _))) => format!(" (handshake frames {a} and {b})"),
                _ => String::new(),
            };
            notes.push(format!(
                "Relative numbers: seq {} − the {me}'s ISN {isn} = {}; ack {} − the {peer}'s ISN \
                 {pisn} = {}{hs}.",
                t.seq,
                flow.rel_seq.unwrap_or(0),
                t.ack,
                flow.rel_ack.unwrap_or(0)
            ));
        }
    }
    if t.flags.has(TcpFlags::PSH) {
        notes.push(
            "PSH: the sender asks the receiver to hand the data to the application now \
             (it ended a write)."
                .to_string(),
        );
    }
    for (name, bit) in AnalysisFlags::NAMES {
        if !flow.analysis.has(bit) {
            continue;
        }
        let why = match bit {
            AnalysisFlags::RETRANSMISSION => {
                "tshark calls this a retransmission: it carries sequence numbers this side \
                 already sent (seq below the next expected), so an earlier copy was lost or \
                 thought lost"
            }
            AnalysisFlags::FAST_RETRANSMISSION => {
                "a fast retransmission: resent after duplicate ACKs, before the timer ran out"
            }
            AnalysisFlags::SPURIOUS_RETRANSMISSION => {
                "a spurious retransmission: the peer had already acknowledged these bytes"
            }
            AnalysisFlags::OUT_OF_ORDER => "out of order: it arrived after later bytes",
            AnalysisFlags::DUPLICATE_ACK => {
                "a duplicate ACK: same ack and window as before, the receiver still waits for \
                 a missing segment"
            }
            AnalysisFlags::ZERO_WINDOW => "zero window: the receiver's buffer is full",
            AnalysisFlags::KEEP_ALIVE => {
                "a TCP keep-alive probe: one byte below the next sequence number, sent on an \
                 idle connection to check the peer (and keep firewalls from forgetting it)"
            }
            AnalysisFlags::KEEP_ALIVE_ACK => "the answer to a keep-alive probe",
            AnalysisFlags::LOST_SEGMENT => {
                "previous segment not captured: the seq jumps past bytes never seen"
            }
            AnalysisFlags::ACK_LOST_SEGMENT => "acknowledges a segment that was not captured",
            AnalysisFlags::WINDOW_UPDATE => "a window update: only the window changed",
            AnalysisFlags::WINDOW_FULL => "this segment fills the receiver's advertised window",
            AnalysisFlags::REUSED_PORTS => "a new connection reusing a recent four-tuple",
            _ => "a zero-window probe (or its ACK)",
        };
        notes.push(format!("Analysis [{name}]: {why}."));
    }
    if frame.data.len() < frame.orig_len as usize {
        notes.push(format!(
            "Only {} of {} bytes were captured (snaplen): the rest never reached the file.",
            frame.data.len(),
            frame.orig_len
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::FileSource;
    use crate::pipeline::{run, PipelineConfig};

    fn explain(file: &str, frame: u64) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let mut src = FileSource::open(&path).expect("capture opens");
        let opts = ExplainOptions {
            frame,
            color: false,
            width: 80,
            ..ExplainOptions::default()
        };
        let mut sink = ExplainSink::new(Vec::new(), opts);
        run(&mut src, PipelineConfig::default(), &mut sink).expect("runs");
        assert!(sink.found());
        String::from_utf8(sink.into_inner()).expect("utf-8")
    }

    #[test]
    fn missing_frame_is_reported() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/refused.pcap");
        let mut src = FileSource::open(&path).expect("capture opens");
        let opts = ExplainOptions {
            frame: 9,
            ..ExplainOptions::default()
        };
        let mut sink = ExplainSink::new(Vec::new(), opts);
        run(&mut src, PipelineConfig::default(), &mut sink).expect("runs");
        assert!(!sink.found());
        let text = String::from_utf8(sink.into_inner()).expect("utf-8");
        assert_eq!(text, "frame 9 is not in this capture (it has 2 frames)\n");
    }

    /// Layer ranges past the captured bytes (a lying decoder or a cut frame) must not panic.
    #[test]
    fn layers_past_the_data_do_not_panic() {
        let data = [0x45u8, 0, 0, 40, 0, 0];
        let frame = RawFrame {
            number: 1,
            ts: Timestamp::default(),
            link: crate::capture::LinkType(101),
            interface: 0,
            file: 0,
            orig_len: 60,
            data: &data,
        };
        let mut layers = arrayvec::ArrayVec::new();
        layers.push(Layer {
            name: LayerName::Ipv4,
            offset: 0,
            len: 20,
        });
        layers.push(Layer {
            name: LayerName::Tcp,
            offset: 20,
            len: 40,
        });
        layers.push(Layer {
            name: LayerName::Http,
            offset: 60,
            len: 100,
        });
        let packet = DecodedPacket {
            layers,
            link: Default::default(),
            arp: None,
            net: None,
            transport: Some(Transport::Tcp(TcpInfo {
                src_port: 1,
                dst_port: 80,
                seq: 5,
                ack: 0,
                flags: TcpFlags(TcpFlags::SYN),
                window: 0,
                header_len: 40,
                options: Default::default(),
                payload_len: 100,
            })),
            payload: &[],
            payload_offset: 60,
            reassembled: false,
            fragment_pending: false,
            first_fragment: None,
            fcs_len: 0,
            issue: None,
            outer_flows: Default::default(),
            app_frames: crate::app::FrameNames::NONE,
        };
        let mut out = String::new();
        render_body(
            &mut out,
            &frame,
            &packet,
            &PacketFlow::default(),
            "0.000000 s after the first frame",
            &ExplainOptions::default(),
        );
        assert!(out.contains("L4 TCP [20,60) 40 bytes"));
        assert!(out.contains("0000  45 00 00 28 00 00"));
        let notes = render_notes(&frame, &packet, &PacketFlow::default(), ConnCtx::default());
        assert!(notes.iter().any(|n| n.contains("Only 6 of 60 bytes")));
    }

    /// A VXLAN frame: the tunnel header's fields come from the wire layer, the inner
    /// Ethernet shows its own addresses, and the inner stack is marked as a repeat.
    #[test]
    fn tunnelled_packet_shows_the_tunnel_and_the_inner_stack() {
        let mut data = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
        let ip = |proto: u8, len: u16, last: u8| {
            let mut v = vec![
                0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0,
            ];
            v.push(last);
            v[2..4].copy_from_slice(&len.to_be_bytes());
            v
        };
        let tcp = [
            0x04, 0xd2, 0, 80, 0, 0, 0, 7, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        data.extend(ip(17, 20 + 8 + 8 + 14 + 40, 2));
        data.extend_from_slice(&[0x9c, 0x40, 0x12, 0xb5, 0, 70, 0, 0]);
        data.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 42, 0]);
        data.extend_from_slice(&[0xaa, 0xbb, 0xcc, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0, 0, 2, 8, 0]);
        data.extend(ip(6, 40, 9));
        data.extend_from_slice(&tcp);
        let frame = RawFrame {
            number: 1,
            ts: Timestamp::default(),
            link: crate::capture::LinkType::ETHERNET,
            interface: 0,
            file: 0,
            orig_len: data.len() as u32,
            data: &data,
        };
        let mut decoder = crate::decode::Decoder::new();
        let packet = decoder.decode(&frame);
        let mut out = String::new();
        render_body(
            &mut out,
            &frame,
            &packet,
            &PacketFlow::default(),
            "0.000000 s after the first frame",
            &ExplainOptions::default(),
        );
        assert!(out.contains("L2 VXLAN [42,50) 8 bytes"), "{out}");
        assert!(out.contains("VNI              42"), "{out}");
        // The outer UDP's port names the tunnel it announces (its wire view says so).
        assert!(
            out.lines()
                .any(|l| l.contains("dest port") && l.contains("4789") && l.ends_with("VXLAN")),
            "{out}"
        );
        assert!(
            out.contains("the whole stack again, inside the tunnel"),
            "{out}"
        );
        assert!(out.contains("aa:bb:cc:00:00:01"), "{out}");
        assert!(out.contains("L4 TCP [84,104) 20 bytes"), "{out}");
    }

    #[test]
    fn long_words_are_cut_across_lines() {
        let mut v = Vec::new();
        write_wrapped(&mut v, "uri /abcdefghijklmnop end", "> ", "  ", 10).expect("writes");
        assert_eq!(
            String::from_utf8(v).expect("utf-8"),
            "> uri\n  /abcdefg\n  hijklmno\n  p end\n"
        );
    }

    #[test]
    fn field_meaning_wraps_under_its_column() {
        let mut b = Buf {
            s: String::new(),
            width: 60,
            rows: None,
            layer: 0,
            in_frame: true,
            at: None,
        };
        field(
            &mut b,
            "window",
            "64",
            "× 1024 scale = 65 536 bytes the sender can receive now",
        );
        assert_eq!(
            b.s,
            "    window           64             × 1024 scale = 65 536\n                                    bytes the sender can\n                                    receive now\n"
        );
    }

    #[test]
    fn explain_synack() {
        insta::assert_snapshot!(explain("captures/http11-keepalive.pcap", 2));
    }

    #[test]
    fn explain_get() {
        insta::assert_snapshot!(explain("captures/http11-keepalive.pcap", 4));
    }
}
