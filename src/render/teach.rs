//! `--teach`: one plain-language line for the packets and application events a learner
//! should notice ([`teach_line`], [`teach_app`]), and [`CaptureStory`], the closing "What
//! this capture shows" summary tied to the claims of the sockets/TCP primer.

use crate::app::{AppConnStats, AppEvent, DnsMessage, HttpTransaction};
use crate::capture::RawFrame;
use crate::decode::{DecodedPacket, LayerName, Transport};
use crate::flow::{
    AnalysisFlags, ConnId, ConnSummary, Direction, PacketFlow, Proto, Step, TeardownKind,
};
use crate::pipeline::{RunSummary, Sink};
use crate::render::escape::escape_str;
use crate::render::explain::{layer_title, port_role, status_class, write_wrapped};
use crate::render::text::endpoint_string;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

fn side(dir: Direction) -> &'static str {
    match dir {
        Direction::ToServer => "client",
        Direction::ToClient => "server",
    }
}

/// A teaching line for a packet that opens, closes, refuses or aborts a connection, starts
/// a UDP conversation, or that tshark's analysis flags; `None` for ordinary packets.
pub fn teach_line(
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
) -> Option<String> {
    let transport = transport_line(packet, flow);
    if !flow.new_conn {
        return transport;
    }
    let Some(encap) = crate::decode::Encapsulation::of(frame.data, packet) else {
        return transport;
    };
    let mut text = encapsulation_lines(&encap);
    if let Some(t) = transport {
        text.push('\n');
        text.push_str(&t);
    }
    Some(text)
}

/// One line per encapsulation a connection's first packet travelled in: what it is here
/// and what that kind of encapsulation is for.
pub fn encapsulation_lines(encap: &crate::decode::Encapsulation) -> String {
    let mut text = String::new();
    for (i, hop) in encap.hops.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let _ = write!(
            text,
            "Encapsulation: the connection travels inside {hop} — {}",
            hop.kind.purpose()
        );
    }
    text
}

/// The transport layer's teaching line (see [`teach_line`]).
fn transport_line(packet: &DecodedPacket<'_>, flow: &PacketFlow) -> Option<String> {
    if let Some(u) = packet.udp() {
        if !flow.new_conn {
            return None;
        }
        let role = port_role(u.dst_port)
            .map(|r| format!(" (port {} = {r})", u.dst_port))
            .unwrap_or_default();
        return Some(format!(
            "Transport layer: a UDP datagram to port {}{role} — no handshake and no connection: \
             each datagram stands alone, and any answer is just another datagram",
            u.dst_port
        ));
    }
    let t = packet.tcp()?;
    let dir = flow.dir.unwrap_or(Direction::ToServer);
    let me = side(dir);
    let peer = side(dir.reverse());
    let line = match flow.step {
        Some(Step::Handshake(1)) => format!(
            "Transport layer: the client opens a TCP connection (step 1 of the three-way \
             handshake: SYN, seq = j = {}); client SYN-SENT",
            t.seq
        ),
        Some(Step::Handshake(2)) => format!(
            "Transport layer: the server accepts (step 2: SYN+ACK, its own seq = k = {}, \
             ack = j + 1 = {}); server SYN-RECEIVED",
            t.seq, t.ack
        ),
        Some(Step::Handshake(_)) => format!(
            "Transport layer: the client confirms (step 3: ACK, ack = k + 1 = {}); both \
             ESTABLISHED, no data carried yet",
            t.ack
        ),
        Some(Step::Teardown(n)) => {
            if t.flags.fin() && t.flags.ack() && n >= 2 {
                format!(
                    "Transport layer: the {me} acknowledges the {peer}'s FIN and sends its own \
                     FIN in one segment (teardown steps 2+3 of 4, ack = {})",
                    t.ack
                )
            } else if t.flags.fin() {
                format!(
                    "Transport layer: the {me} closes its side (teardown {n}/4: FIN, it will \
                     send no more data)"
                )
            } else {
                format!(
                    "Transport layer: the {me} acknowledges the {peer}'s FIN (teardown {n}/4, \
                     ack = {}); the connection is closed",
                    t.ack
                )
            }
        }
        Some(Step::Refused) => format!(
            "Transport layer: connection refused — nothing listens on port {}; the server's \
             TCP answers the SYN with RST (ack = ISN + 1 = {})",
            t.src_port, t.ack
        ),
        Some(Step::Abort) => {
            format!("Transport layer: the {me} aborts the connection with RST (no FIN exchange)")
        }
        None => {
            let (name, bit) = AnalysisFlags::NAMES
                .into_iter()
                .find(|(_, b)| flow.analysis.has(*b))?;
            let why = match bit {
                AnalysisFlags::KEEP_ALIVE => {
                    "a TCP keep-alive probe keeps an idle connection (and firewalls) alive"
                }
                AnalysisFlags::RETRANSMISSION | AnalysisFlags::FAST_RETRANSMISSION => {
                    "TCP is reliable: bytes not acknowledged are sent again"
                }
                AnalysisFlags::DUPLICATE_ACK => {
                    "the receiver repeats its ACK: it is missing a segment"
                }
                AnalysisFlags::ZERO_WINDOW => "the receiver's buffer is full (flow control)",
                _ => "tshark's analysis flags this segment",
            };
            let mut s = format!("Transport layer: {} — {why}", name.replace('_', " "));
            if let Some(n) = &flow.note {
                let _ = write!(s, " ({})", escape_str(n));
            }
            s
        }
    };
    Some(line)
}

/// A teaching line for a completed HTTP transaction or DNS message.
pub fn teach_app(event: &AppEvent) -> Option<String> {
    use crate::app::{tls_cipher_name, tls_version_name, TlsKind};
    match event {
        AppEvent::Tls(t) => {
            match t.kind {
                TlsKind::Handshake(1) => Some(format!(
                "Presentation layer (TLS): the client starts a TLS handshake (ClientHello{}{}); \
                 what the application sends after the handshake is encrypted",
                t.sni
                    .as_deref()
                    .map(|n| format!(", server name {}", escape_str(n)))
                    .unwrap_or_default(),
                if t.alpn.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", offering {} inside",
                        t.alpn.iter().map(|a| escape_str(a)).collect::<Vec<_>>().join(" or ")
                    )
                }
            )),
                TlsKind::Handshake(2) => Some(format!(
                    "Presentation layer (TLS): the server answers (ServerHello: {}{}{})",
                    t.version
                        .map(tls_version_name)
                        .unwrap_or_else(|| "version ?".into()),
                    t.cipher
                        .map(|c| format!(", cipher {}", tls_cipher_name(c).unwrap_or("unknown")))
                        .unwrap_or_default(),
                    t.alpn
                        .first()
                        .map(|a| format!(", application protocol {}", escape_str(a)))
                        .unwrap_or_default()
                )),
                TlsKind::Alert => Some(
                    "Presentation layer (TLS): an alert in the clear, the handshake or session is \
                 being ended or refused"
                        .to_string(),
                ),
                _ => None,
            }
        }
        AppEvent::Quic(q) if matches!(q.kind, crate::app::QuicPacketKind::Initial) => Some(
            "Transport layer (QUIC over UDP): a QUIC Initial packet; QUIC carries TLS 1.3 and \
             HTTP/3 inside UDP datagrams"
                .to_string(),
        ),
        AppEvent::Quic(_) => None,
        AppEvent::Http(h) => {
            let method = escape_str(h.method.as_deref()?);
            let uri = escape_str(h.uri.as_deref().unwrap_or("?"));
            let version = escape_str(h.version.as_deref().unwrap_or("?"));
            let mut s = format!(
                "Application layer: HTTP request {} on conn {}{}: request line `{method} {uri} \
                 {version}` (method, URI, version)",
                h.index,
                h.conn,
                match (h.request_frame, h.response_frame) {
                    (Some(a), Some(b)) => format!(" (frames {a} → {b})"),
                    (Some(a), None) => format!(" (frame {a})"),
                    _ => String::new(),
                }
            );
            match (h.status, &h.reason) {
                (Some(code), reason) => {
                    let _ = write!(
                        s,
                        " → status line `{} {code} {}` ({})",
                        escape_str(h.response_version.as_deref().unwrap_or("")),
                        escape_str(reason.as_deref().unwrap_or("")),
                        status_class(code)
                    );
                }
                _ => s.push_str(" → no response seen"),
            }
            if h.version.as_deref() == Some("HTTP/1.0") {
                s.push_str("; HTTP/1.0: one request per connection");
            } else if h.index > 1 {
                let _ = write!(
                    s,
                    "; HTTP/1.1 reuses the connection (request {} on it)",
                    h.index
                );
            }
            Some(s)
        }
        AppEvent::Dns(d) => Some(dns_line(d)),
    }
}

fn dns_line(d: &DnsMessage) -> String {
    let transport = if d.tcp { "TCP" } else { "UDP" };
    if d.response {
        let answers = if d.answers.is_empty() {
            "no answers".to_string()
        } else {
            d.answers
                .iter()
                .map(|a| escape_str(a))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut s = format!(
            "Application layer: DNS response id 0x{:04x} over {transport}: {} {} → {} ({answers})",
            d.id,
            escape_str(&d.qname),
            escape_str(&d.qtype),
            escape_str(&d.rcode)
        );
        if let Some(l) = d.latency_ms {
            let _ = write!(s, ", {l:.3} ms after its query");
        }
        s
    } else {
        format!(
            "Application layer: DNS query id 0x{:04x} over {transport}: {} {}?",
            d.id,
            escape_str(&d.qname),
            escape_str(&d.qtype)
        )
    }
}

/// "1 request", "3 requests".
fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Connections listed by name in the story; beyond it they are only counted.
const MAX_STORY_CONNS: usize = 4096;
/// Examples kept per claim.
const MAX_EXAMPLES: usize = 3;

/// What the story remembers of one connection.
#[derive(Clone, Debug, Default)]
struct StoryConn {
    proto: Option<Proto>,
    client: String,
    server: String,
    server_port: u16,
    client_port: u16,
    handshake: [Option<u64>; 3],
    /// (j, k) when steps 1 and 2 were seen.
    isns: (Option<u32>, Option<u32>),
    teardown: Vec<(u64, Direction)>,
    refused: Option<u64>,
    abort: Option<u64>,
    http: Vec<(u64, String)>,
    http_versions: Vec<String>,
    dns_frames: Vec<u64>,
    complete: bool,
    fin_close: bool,
    ended: bool,
    keep_alive: Option<u64>,
}

/// Accumulates a run and writes "What this capture shows".
#[derive(Debug, Default)]
pub struct CaptureStory {
    conns: BTreeMap<ConnId, StoryConn>,
    conns_not_listed: u64,
    /// First frame showing the full layer stack with an application layer, and its stack.
    osi_example: Option<(u64, String)>,
    /// (request frame, status frame, request line, status line, class)
    http_examples: Vec<(u64, Option<u64>, String, String)>,
    statuses: BTreeMap<&'static str, u64>,
    /// DNS pairs: (query frame, response frame, text)
    dns_pairs: Vec<(u64, u64, String)>,
    dns_queries: FxHashMap<(ConnId, u16), (u64, String)>,
    dns_messages: u64,
    dns_pair_count: u64,
    retransmissions: (u64, Option<u64>),
}

impl CaptureStory {
    /// An empty story.
    pub fn new() -> CaptureStory {
        CaptureStory::default()
    }

    fn conn_mut(&mut self, id: ConnId) -> Option<&mut StoryConn> {
        if !self.conns.contains_key(&id) {
            if self.conns.len() >= MAX_STORY_CONNS {
                return None;
            }
            self.conns.insert(id, StoryConn::default());
        }
        self.conns.get_mut(&id)
    }

    /// Takes note of one packet.
    pub fn packet(&mut self, frame: &RawFrame<'_>, packet: &DecodedPacket<'_>, flow: &PacketFlow) {
        if self.osi_example.is_none()
            && packet
                .layers
                .iter()
                .any(|l| matches!(l.name, LayerName::Http | LayerName::Dns))
        {
            let mut s = String::new();
            for (i, l) in packet.layers.iter().enumerate() {
                if i > 0 {
                    s.push_str(" › ");
                }
                let _ = write!(s, "L{} {}", l.osi().number(), layer_title(l.name));
            }
            self.osi_example = Some((frame.number, s));
        }
        if flow.analysis.has(AnalysisFlags::RETRANSMISSION) {
            self.retransmissions.0 += 1;
            self.retransmissions.1.get_or_insert(frame.number);
        }
        let Some(id) = flow.conn else { return };
        let new = !self.conns.contains_key(&id);
        let Some(c) = self.conn_mut(id) else {
            if flow.new_conn {
                self.conns_not_listed += 1;
            }
            return;
        };
        if new {
            c.proto = match &packet.transport {
                Some(Transport::Tcp(_)) => Some(Proto::Tcp),
                Some(Transport::Udp(_)) => Some(Proto::Udp),
                _ => None,
            };
            if let (Some(net), Some((sp, dp)), Some(dir)) = (&packet.net, packet.ports(), flow.dir)
            {
                let ((ci, cp), (si, spp)) = match dir {
                    Direction::ToServer => ((net.src, sp), (net.dst, dp)),
                    Direction::ToClient => ((net.dst, dp), (net.src, sp)),
                };
                c.client = endpoint_string(ci, Some(cp));
                c.server = endpoint_string(si, Some(spp));
                c.client_port = cp;
                c.server_port = spp;
            }
        }
        let t = packet.tcp();
        match flow.step {
            Some(Step::Handshake(n)) => {
                let i = (n.clamp(1, 3) - 1) as usize;
                c.handshake[i].get_or_insert(frame.number);
                if let Some(t) = t {
                    if n == 1 {
                        c.isns.0 = Some(t.seq);
                    } else if n == 2 {
                        c.isns.1 = Some(t.seq);
                    }
                }
            }
            Some(Step::Teardown(_)) if c.teardown.len() < 4 => {
                c.teardown
                    .push((frame.number, flow.dir.unwrap_or(Direction::ToServer)));
            }
            Some(Step::Refused) => c.refused = Some(frame.number),
            Some(Step::Abort) => c.abort = Some(frame.number),
            Some(Step::Teardown(_)) | None => {}
        }
        if flow.analysis.has(AnalysisFlags::KEEP_ALIVE) {
            c.keep_alive.get_or_insert(frame.number);
        }
    }

    /// Takes note of an application event.
    pub fn app_event(&mut self, event: &AppEvent) {
        match event {
            AppEvent::Http(h) => self.http(h),
            AppEvent::Dns(d) => {
                self.dns_messages += 1;
                if let Some(c) = self.conn_mut(d.conn) {
                    if c.dns_frames.len() < 16 {
                        c.dns_frames.push(d.frame);
                    }
                }
                if !d.response {
                    if self.dns_queries.len() < 1024 {
                        self.dns_queries.insert(
                            (d.conn, d.id),
                            (
                                d.frame,
                                format!("{} {}", escape_str(&d.qname), escape_str(&d.qtype)),
                            ),
                        );
                    }
                } else if let Some((qf, q)) = self.dns_queries.remove(&(d.conn, d.id)) {
                    self.dns_pair_count += 1;
                    if self.dns_pairs.len() < MAX_EXAMPLES {
                        let answer = d
                            .answers
                            .first()
                            .map(|a| escape_str(a))
                            .unwrap_or_else(|| escape_str(&d.rcode));
                        self.dns_pairs
                            .push((qf, d.frame, format!("{q} → {answer}")));
                    }
                }
            }
            AppEvent::Tls(_) | AppEvent::Quic(_) => {}
        }
    }

    fn http(&mut self, h: &HttpTransaction) {
        let req = format!(
            "{} {} {}",
            escape_str(h.method.as_deref().unwrap_or("?")),
            escape_str(h.uri.as_deref().unwrap_or("?")),
            escape_str(h.version.as_deref().unwrap_or(""))
        );
        let status = match h.status {
            Some(code) => {
                *self.statuses.entry(status_class(code)).or_default() += 1;
                format!(
                    "{} {code} {}",
                    escape_str(h.response_version.as_deref().unwrap_or("")),
                    escape_str(h.reason.as_deref().unwrap_or(""))
                )
            }
            None => "no response".to_string(),
        };
        if self.http_examples.len() < MAX_EXAMPLES {
            self.http_examples.push((
                h.request_frame.unwrap_or(0),
                h.response_frame,
                req.trim_end().to_string(),
                status.trim().to_string(),
            ));
        }
        if let Some(c) = self.conn_mut(h.conn) {
            if c.http.len() < 64 {
                c.http.push((h.request_frame.unwrap_or(0), req));
            }
            if let Some(v) = &h.version {
                if !c.http_versions.contains(v) && c.http_versions.len() < 4 {
                    c.http_versions.push(v.clone());
                }
            }
        }
    }

    /// Takes note of a connection's end.
    pub fn conn_end(&mut self, conn: &ConnSummary, _app: &AppConnStats) {
        let Some(c) = self.conn_mut(conn.id) else {
            return;
        };
        c.proto = Some(conn.proto);
        c.client = endpoint_string(conn.client.ip(), Some(conn.client.port()));
        c.server = endpoint_string(conn.server.ip(), Some(conn.server.port()));
        c.client_port = conn.client.port();
        c.server_port = conn.server.port();
        c.complete = conn.handshake.complete;
        for (i, f) in conn.handshake.frames.iter().enumerate() {
            if c.handshake[i].is_none() {
                c.handshake[i] = *f;
            }
        }
        c.fin_close = conn.teardown.kind == TeardownKind::Fin;
        c.ended = true;
    }

    /// Writes the summary, wrapped at `width` columns.
    pub fn write<W: Write>(&self, w: &mut W, run: &RunSummary, width: usize) -> io::Result<()> {
        let tcp: Vec<(&ConnId, &StoryConn)> = self
            .conns
            .iter()
            .filter(|(_, c)| c.proto == Some(Proto::Tcp))
            .collect();
        let udp: Vec<(&ConnId, &StoryConn)> = self
            .conns
            .iter()
            .filter(|(_, c)| c.proto == Some(Proto::Udp))
            .collect();
        let opened: Vec<_> = tcp.iter().filter(|(_, c)| c.complete).collect();
        let closed: Vec<_> = tcp.iter().filter(|(_, c)| c.fin_close).collect();
        let refused: Vec<_> = tcp.iter().filter(|(_, c)| c.refused.is_some()).collect();
        let reset: Vec<_> = tcp.iter().filter(|(_, c)| c.abort.is_some()).collect();
        let line = |w: &mut W, text: &str| write_wrapped(w, text, "  ", "    ", width);
        writeln!(w, "What this capture shows")?;
        line(
            w,
            &format!(
                "{} frames: {}, {}{}.",
                run.frames,
                plural(tcp.len(), "TCP connection", "TCP connections"),
                plural(udp.len(), "UDP conversation", "UDP conversations"),
                if self.conns_not_listed > 0 {
                    format!(
                        " ({} more not listed: story table full)",
                        self.conns_not_listed
                    )
                } else {
                    String::new()
                }
            ),
        )?;
        for (id, c) in self.conns.iter().take(12) {
            let proto = c.proto.map(|p| p.as_str()).unwrap_or("?");
            let mut s = format!("conn {id} {proto} {} → {}", c.client, c.server);
            if c.proto == Some(Proto::Tcp) {
                if c.complete {
                    s.push_str(", opened (handshake");
                    for f in c.handshake.iter().flatten() {
                        let _ = write!(s, " {f}");
                    }
                    s.push(')');
                }
                if c.refused.is_some() {
                    s.push_str(", refused");
                } else if c.abort.is_some() {
                    s.push_str(", reset");
                } else if c.fin_close {
                    let first = c.teardown.first().map(|(_, d)| side(*d)).unwrap_or("?");
                    let _ = write!(s, ", closed by FIN ({first} first,");
                    for (f, _) in &c.teardown {
                        let _ = write!(s, " {f}");
                    }
                    s.push(')');
                } else if c.ended {
                    s.push_str(", not closed in the capture");
                }
                if !c.http.is_empty() {
                    let _ = write!(
                        s,
                        ", {} HTTP request{}",
                        c.http.len(),
                        if c.http.len() == 1 { "" } else { "s" }
                    );
                }
            } else if !c.dns_frames.is_empty() {
                let _ = write!(s, ", DNS in frames");
                for f in &c.dns_frames {
                    let _ = write!(s, " {f}");
                }
            }
            line(w, &format!("{s}."))?;
        }
        if self.conns.len() > 12 {
            line(
                w,
                &format!("… and {} more connections.", self.conns.len() - 12),
            )?;
        }
        if !tcp.is_empty() {
            line(
                w,
                &format!(
                    "TCP: {} opened with a complete three-way handshake, {} closed cleanly with \
                     FIN, {} refused, {} reset.",
                    opened.len(),
                    closed.len(),
                    refused.len(),
                    reset.len()
                ),
            )?;
        }
        let http_conns: Vec<_> = tcp.iter().filter(|(_, c)| !c.http.is_empty()).collect();
        if !http_conns.is_empty() {
            let reqs: usize = http_conns.iter().map(|(_, c)| c.http.len()).sum();
            let max = http_conns
                .iter()
                .map(|(_, c)| c.http.len())
                .max()
                .unwrap_or(0);
            let all10 = http_conns
                .iter()
                .all(|(_, c)| c.http_versions.iter().all(|v| v == "HTTP/1.0"));
            let text = if max <= 1 {
                format!(
                    "HTTP: {} on {}, one request per connection{}.",
                    plural(reqs, "request", "requests"),
                    plural(http_conns.len(), "connection", "connections"),
                    if all10 {
                        " (HTTP/1.0 short connections: the server closes after each response)"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "HTTP: {reqs} requests on {}; up to {max} requests on one connection \
                     (HTTP/1.1 persistent connection reuse).",
                    plural(http_conns.len(), "connection", "connections")
                )
            };
            line(w, &text)?;
        }
        if !udp.is_empty() {
            line(
                w,
                &format!(
                    "UDP: {}, {}, {} matched by id; no handshake and no close.",
                    plural(udp.len(), "conversation", "conversations"),
                    plural(self.dns_messages as usize, "DNS message", "DNS messages"),
                    plural(
                        self.dns_pair_count as usize,
                        "query/response pair",
                        "query/response pairs"
                    )
                ),
            )?;
        }
        writeln!(w)?;
        writeln!(w, "Claims from the primer seen in this capture")?;
        let mut claims = 0;
        let mut claim = |w: &mut W, n: u8, text: String| -> io::Result<()> {
            claims += 1;
            write_wrapped(w, &text, &format!("  {n:>2}. "), "      ", width)
        };
        if let Some((id, c)) = self.conns.iter().next() {
            let proto = c.proto.map(|p| p.as_str()).unwrap_or("?");
            claim(
                w,
                1,
                format!(
                    "A socket names one endpoint by IP and port; conn {id} is the five-tuple \
                     ({proto}, client {}, server {}).",
                    c.client, c.server
                ),
            )?;
        }
        let servers: Vec<String> = {
            let mut v: Vec<String> = Vec::new();
            for c in self.conns.values() {
                let s = match port_role(c.server_port) {
                    Some(r) => format!("{} = {r}", c.server_port),
                    None => c.server_port.to_string(),
                };
                if !v.contains(&s) && v.len() < 4 {
                    v.push(s);
                }
            }
            v
        };
        if !servers.is_empty() {
            let mut clients: Vec<String> = Vec::new();
            for c in self.conns.values() {
                let p = c.client_port.to_string();
                if !clients.contains(&p) && clients.len() < 4 {
                    clients.push(p);
                }
            }
            claim(
                w,
                2,
                format!(
                    "Servers listen on fixed ports ({}); clients use ephemeral ports ({}).",
                    servers.join(", "),
                    clients.join(", ")
                ),
            )?;
        }
        if let Some((f, stack)) = &self.osi_example {
            claim(
                w,
                3,
                format!(
                    "Layers: frame {f} is {stack}; the application protocol rides on the \
                     transport, which rides on IP (`explain {f}` shows all seven OSI layers)."
                ),
            )?;
        }
        if let Some((id, c)) = opened.first() {
            let [a, b, cc] = c.handshake;
            let nums = match c.isns {
                (Some(j), Some(k)) => format!(
                    ": SYN seq j = {j}; SYN+ACK seq k = {k}, ack j + 1 = {}; ACK ack k + 1 = {}",
                    j.wrapping_add(1),
                    k.wrapping_add(1)
                ),
                _ => String::new(),
            };
            claim(
                w,
                4,
                format!(
                    "Three-way handshake on conn {id}, frames {}, {}, {}{nums}; none of the three \
                     carries data.",
                    a.unwrap_or(0),
                    b.unwrap_or(0),
                    cc.unwrap_or(0)
                ),
            )?;
        }
        if let Some((id, c)) = closed.first() {
            let frames: Vec<String> = c.teardown.iter().map(|(f, _)| f.to_string()).collect();
            let first = c.teardown.first().map(|(_, d)| side(*d)).unwrap_or("?");
            let extra = if c.teardown.len() == 3 {
                "; three segments, because the ACK of the first FIN rode on the second FIN"
            } else {
                ""
            };
            claim(
                w,
                5,
                format!(
                    "Either side may close: on conn {id} the {first} closed first, frames {}{extra}.",
                    frames.join(", ")
                ),
            )?;
        }
        if !http_conns.is_empty() {
            let max = http_conns
                .iter()
                .map(|(_, c)| c.http.len())
                .max()
                .unwrap_or(0);
            let text = if max <= 1 {
                let list: Vec<String> = http_conns
                    .iter()
                    .take(4)
                    .map(|(id, c)| format!("conn {id} frame {}", c.http[0].0))
                    .collect();
                format!(
                    "{} connections for {} requests ({}): a new connection per request, and the \
                     server closed each after responding.",
                    http_conns.len(),
                    http_conns.len(),
                    list.join(", ")
                )
            } else {
                let (id, c) = http_conns
                    .iter()
                    .max_by_key(|(_, c)| c.http.len())
                    .copied()
                    .unwrap_or(http_conns[0]);
                let frames: Vec<String> = c.http.iter().map(|(f, _)| f.to_string()).collect();
                format!(
                    "HTTP/1.1 reuse: conn {id} carried {} requests (frames {}).",
                    c.http.len(),
                    frames.join(", ")
                )
            };
            claim(w, 6, text)?;
        }
        if !self.http_examples.is_empty() {
            let ex: Vec<String> = self
                .http_examples
                .iter()
                .map(|(rf, sf, req, st)| match sf {
                    Some(sf) => format!("`{req}` (frame {rf}) → `{st}` (frame {sf})"),
                    None => format!("`{req}` (frame {rf}) → {st}"),
                })
                .collect();
            let classes: Vec<String> = self
                .statuses
                .iter()
                .map(|(c, n)| format!("{n} × {c}"))
                .collect();
            claim(
                w,
                7,
                format!(
                    "Request line and status line: {}; status classes {}.",
                    ex.join("; "),
                    classes.join(", ")
                ),
            )?;
        }
        if let Some((id, c)) = tcp.iter().find(|(_, c)| c.keep_alive.is_some()) {
            claim(
                w,
                8,
                format!(
                    "TCP keep-alive probe on conn {id}, frame {}.",
                    c.keep_alive.unwrap_or(0)
                ),
            )?;
        }
        if !udp.is_empty() || self.retransmissions.0 > 0 {
            let mut text = String::new();
            if !udp.is_empty() {
                let pairs: Vec<String> = self
                    .dns_pairs
                    .iter()
                    .take(MAX_EXAMPLES)
                    .map(|(q, r, t)| format!("frames {q} → {r} {t}"))
                    .collect();
                let _ = write!(
                    text,
                    "UDP is connectionless: the DNS queries and answers are single datagrams \
                     with no handshake or close ({})",
                    pairs.join("; ")
                );
                if !tcp.is_empty() {
                    text.push_str(", while TCP opened and closed its connections explicitly");
                }
            }
            if let (n, Some(f)) = self.retransmissions {
                if !text.is_empty() {
                    text.push_str("; ");
                }
                let _ = write!(
                    text,
                    "TCP is reliable: {n} retransmissions (first in frame {f})"
                );
            }
            text.push('.');
            claim(w, 9, text)?;
        }
        if let Some((id, c)) = http_conns.first() {
            claim(
                w,
                10,
                format!(
                    "HTTP ran over TCP (conn {id}, server port {}): it needs only a reliable \
                     byte stream.",
                    c.server_port
                ),
            )?;
        }
        if claims == 0 {
            line(w, "(none: no TCP or UDP traffic)")?;
        }
        Ok(())
    }
}

/// A sink that prints the teaching lines as they happen (when `lines`) and the story at
/// the end. The lead may use [`CaptureStory`] directly inside another renderer instead.
pub struct StorySink<W: Write> {
    out: W,
    story: CaptureStory,
    /// Print [`teach_line`] / [`teach_app`] lines as packets and events pass.
    pub lines: bool,
    /// Wrap width.
    pub width: usize,
}

impl<W: Write> StorySink<W> {
    /// A sink writing only the closing story (set `lines` for the running commentary).
    pub fn new(out: W, width: usize) -> StorySink<W> {
        StorySink {
            out,
            story: CaptureStory::new(),
            lines: false,
            width,
        }
    }
    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Sink for StorySink<W> {
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.story.packet(frame, packet, flow);
        if self.lines {
            if let Some(l) = teach_line(frame, packet, flow) {
                write_wrapped(
                    &mut self.out,
                    &l,
                    &format!("{:>6}  ", frame.number),
                    "        ",
                    self.width,
                )?;
            }
        }
        Ok(())
    }
    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        self.story.app_event(event);
        if self.lines {
            if let Some(l) = teach_app(event) {
                write_wrapped(&mut self.out, &l, "        ", "        ", self.width)?;
            }
        }
        Ok(())
    }
    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        self.story.conn_end(conn, app);
        Ok(())
    }
    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        if self.lines {
            writeln!(self.out)?;
        }
        self.story.write(&mut self.out, summary, self.width)?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::FileSource;
    use crate::pipeline::{run, PipelineConfig};

    fn story(file: &str, lines: bool) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let mut src = FileSource::open(&path).expect("capture opens");
        let mut sink = StorySink::new(Vec::new(), 80);
        sink.lines = lines;
        run(&mut src, PipelineConfig::default(), &mut sink).expect("runs");
        String::from_utf8(sink.into_inner()).expect("utf-8")
    }

    #[test]
    fn story_http10() {
        insta::assert_snapshot!(story("captures/http10-close.pcap", false));
    }

    #[test]
    fn story_dns() {
        insta::assert_snapshot!(story("captures/dns-udp.pcap", false));
    }

    #[test]
    fn teach_lines_keepalive() {
        insta::assert_snapshot!(story("captures/http11-keepalive.pcap", true));
    }
}

#[cfg(test)]
mod all_captures {
    use crate::capture::FileSource;
    use crate::pipeline::{run, PipelineConfig, Sink};
    use crate::render::explain::{ExplainOptions, ExplainSink};
    use crate::render::ladder::{LadderFormat, LadderOptions, LadderSink};
    use crate::render::teach::StorySink;

    const FILES: [(&str, u64, u64); 6] = [
        ("http11-keepalive.pcap", 22, 1),
        ("http10-close.pcap", 24, 2),
        ("refused.pcap", 2, 1),
        ("dns-udp.pcap", 4, 2),
        ("ipv6-http.pcap", 12, 1),
        ("linux-sll2.pcap", 12, 1),
    ];

    fn text(file: &str, sink: &mut dyn Sink) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(file);
        let mut src = FileSource::open(&path).expect("capture opens");
        run(&mut src, PipelineConfig::default(), sink).expect("runs");
    }

    fn fits(out: &[u8], what: &str) {
        let s = std::str::from_utf8(out).expect("utf-8");
        assert!(!s.is_empty(), "{what}: empty");
        for line in s.lines() {
            assert!(line.chars().count() <= 80, "{what}: too wide: {line}");
        }
    }

    /// Every frame explained, every connection drawn, every story told, in 80 columns.
    #[test]
    fn every_frame_and_conn_fits_80_columns() {
        for (file, frames, conns) in FILES {
            for frame in 1..=frames {
                let opts = ExplainOptions {
                    frame,
                    ..ExplainOptions::default()
                };
                let mut sink = ExplainSink::new(Vec::new(), opts);
                text(file, &mut sink);
                assert!(sink.found(), "{file} frame {frame}");
                fits(&sink.into_inner(), &format!("explain {file} {frame}"));
            }
            for conn in 0..conns {
                let opts = LadderOptions {
                    conn,
                    ..LadderOptions::default()
                };
                let mut sink = LadderSink::with_format(Vec::new(), opts, LadderFormat::Text);
                text(file, &mut sink);
                assert!(sink.found(), "{file} conn {conn}");
                fits(&sink.into_inner(), &format!("ladder {file} {conn}"));
            }
            let mut sink = StorySink::new(Vec::new(), 80);
            sink.lines = true;
            text(file, &mut sink);
            fits(&sink.into_inner(), &format!("story {file}"));
        }
    }
}
