//! Per-connection application state: which protocol a connection carries, and the HTTP,
//! DNS, TLS and QUIC parsers fed by the flow stage through [`StreamSink`].

use super::closed_stats::ClosedStats;
use super::dns::{self, Decoded};
use super::follow_watch::FollowWatch;
use super::http::{self, classify_start, datagram_message, HttpConn, HttpStats, Out, Start};
use super::quic;
use super::slab::Slab;
use super::tls::{starts_like_client_hello, starts_like_tls, TlsConn, TlsOut, TlsStats};
use super::*;
use super::{FrameLayers, FrameNames};
use crate::capture::Timestamp;
use crate::decode::LayerName;
use crate::flow::{ConnId, Direction, SegmentCtx, StreamSink};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;

/// Ports that make a UDP datagram or TCP stream DNS without further proof (DNS, mDNS,
/// LLMNR).
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];
/// Reset HTTP states that keep the room of their buffers for the next connection.
const MAX_SPARE_HTTP: usize = 64;

/// Limits of the app stage.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Largest HTTP head (request line + headers) accepted before the parser gives up on
    /// the direction and waits for a resync.
    pub max_http_head: usize,
    /// Bytes of each body kept for display (bodies are currently counted, not kept).
    pub body_preview: usize,
    /// Most DNS queries awaiting a response (for latency matching).
    pub max_pending_dns: usize,
    /// Fill the text of HTTP transaction events: URI, Host, versions, reason and notes.
    /// Off when no output shows HTTP records (e.g. JSON narrowed to `conns`): the events
    /// then carry only the method, numbers, frames and times, and the per-connection
    /// counts, framing and pairing are exactly the same.
    pub http_details: bool,
    /// A TLS key log (`--keylog`, `SSLKEYLOGFILE`): TLS connections whose secrets it has
    /// are decrypted and their plaintext read as a cleartext stream is.
    pub keylog: Option<std::sync::Arc<super::keylog::KeyLog>>,
    /// `explain --frame N`: the TLS records completed in frame N are kept here (ciphertext,
    /// plaintext, the secret that opened them or why none did).
    pub record_watch: Option<std::sync::Arc<super::RecordWatch>>,
    /// `follow --conn ID`: the HTTP/2 and HTTP/3 frames and the decrypted TLS plaintext of
    /// that connection are recorded here.
    pub follow_watch: Option<std::sync::Arc<super::follow_watch::FollowWatch>>,
    /// HTTP/2's caps (frames, header blocks, streams per connection).
    pub h2_caps: super::http2::H2Caps,
    /// Bytes of one side's QUIC CRYPTO stream reassembled in Initial packets.
    pub quic_crypto: usize,
    /// QUIC stream reassembly with a key log (streams per connection, bytes held out of
    /// order per stream).
    pub quic_streams: quic::streams::StreamCaps,
    /// Bytes of HTTP/3 field sections held per connection while they wait for QPACK
    /// encoder-stream entries.
    pub qpack_blocked: usize,
    /// Largest TLS record body buffered to be opened with a key log (one record per
    /// direction); a longer one stops its direction's decryption.
    pub tls_record_buffer: usize,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            max_http_head: 64 << 10,
            body_preview: 4 << 10,
            max_pending_dns: 10_000,
            http_details: true,
            keylog: None,
            record_watch: None,
            follow_watch: None,
            h2_caps: Default::default(),
            quic_crypto: quic::hello::MAX_CRYPTO,
            quic_streams: Default::default(),
            qpack_blocked: super::http3::MAX_BLOCKED_BYTES,
            tls_record_buffer: super::MAX_RECORD_BODY,
        }
    }
}

/// What the app stage gave up on or dropped, over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppStats {
    pub http: HttpStats,
    /// DNS queries not remembered for latency because `max_pending_dns` was reached.
    pub dns_pending_dropped: u64,
    /// DNS-over-TCP directions abandoned after a gap (the length prefixes are lost).
    pub dns_tcp_gaps: u64,
    /// Ended connections whose counters were dropped before `take_conn_stats`.
    pub closed_stats_dropped: u64,
    /// TLS directions given up and handshake bytes not parsed.
    pub tls: TlsStats,
    /// Datagrams on a QUIC flow that parse as neither a long nor a short header.
    pub quic_unparsed: u64,
    /// QUIC Initial packets opened or not, CRYPTO bytes cut.
    pub quic_hello: quic::hello::QuicHelloStats,
}

#[derive(Debug)]
enum Kind {
    /// No payload seen yet.
    Undecided,
    /// Index of the connection's state in `AppTracker::http`.
    Http(u32),
    DnsTcp(Box<[dns::DnsTcpDir; 2]>),
    /// A TCP stream that started with a TLS handshake record.
    Tls(Box<TlsConn>),
    /// A cleartext TCP stream whose client began with the HTTP/2 connection preface (h2c
    /// by prior knowledge).
    Http2(Box<super::http2::Http2Conn>),
    /// UDP datagrams (DNS when they parse as DNS).
    Datagrams,
    /// A UDP flow whose first datagram was a QUIC long-header packet; its Initial-packet
    /// state from the first Initial of a version with known protection.
    Quic(Option<Box<quic::QuicConn>>),
}

#[derive(Debug)]
struct ConnApp {
    kind: Kind,
    /// One side uses a DNS port.
    dns_port: bool,
    /// A DNS message was recognised on this connection.
    dns_seen: bool,
    stats: AppConnStats,
    /// Queries waiting for their response: id → query time.
    dns_pending: FxHashMap<u16, Timestamp>,
    /// HTTP messages seen in UDP datagrams (SSDP).
    udp_http: u32,
}

impl ConnApp {
    fn new(kind: Kind) -> ConnApp {
        ConnApp {
            kind,
            dns_port: false,
            dns_seen: false,
            stats: AppConnStats::default(),
            dns_pending: FxHashMap::default(),
            udp_http: 0,
        }
    }

    /// Makes this entry what `ConnApp::new(Kind::Undecided)` makes, for a next
    /// connection (the fields written only when they changed).
    fn reset(&mut self) {
        // (An HTTP state's entry in `AppTracker::http` is given back by the caller.)
        self.kind = Kind::Undecided;
        self.dns_port = false;
        self.dns_seen = false;
        self.stats = AppConnStats::default();
        if self.dns_pending.capacity() > 0 {
            self.dns_pending = FxHashMap::default();
        }
        self.udp_http = 0;
    }
}

/// Where a connection's state is: its entry in `Conns::apps`, and for an HTTP connection
/// its entry in `AppTracker::http` (as in `Kind::Http`), so that a segment of an HTTP
/// connection goes from the map to its parser without reading the `ConnApp`. (The map's
/// entries are 16 bytes with or without it.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    app: u32,
    /// [`NO_HTTP`] when the connection is not HTTP.
    http: u32,
}

/// `Slot::http` of a connection that is not HTTP.
const NO_HTTP: u32 = u32::MAX;

/// The connections' states: the map holds only an index into `apps` (a lookup and a
/// resize touch small entries), `apps` the states, reused once their connection ended
/// (no allocation per connection in steady state).
struct Conns {
    index: FxHashMap<ConnId, Slot>,
    /// The connection looked up last and its slot: most segments follow one of the same
    /// connection (a burst of the server's), and skip the hash lookup. Kept equal to
    /// the map's entry (every change of `index` goes through `Conns`).
    last: Option<(ConnId, Slot)>,
    /// Entries of ended connections are reset when released.
    apps: Slab<ConnApp>,
}

impl Conns {
    fn new() -> Conns {
        Conns {
            index: FxHashMap::default(),
            last: None,
            apps: Slab::new(),
        }
    }

    fn get(&self, conn: ConnId) -> Option<&ConnApp> {
        let slot = self.index.get(&conn)?;
        self.apps.get(slot.app)
    }

    fn get_mut(&mut self, conn: ConnId) -> Option<&mut ConnApp> {
        let slot = self.index.get(&conn)?;
        self.apps.get_mut(slot.app)
    }

    /// The slot of `conn`, if it has one.
    #[inline]
    fn slot(&mut self, conn: ConnId) -> Option<Slot> {
        match self.last {
            Some((c, slot)) if c == conn => Some(slot),
            _ => {
                let slot = *self.index.get(&conn)?;
                self.last = Some((conn, slot));
                Some(slot)
            }
        }
    }

    /// Records in `index` (and `last`: `Conns`' fields, apart from its `apps` which the
    /// caller may hold) that `conn`'s HTTP state is entry `http` of `AppTracker::http`
    /// (or [`NO_HTTP`]).
    fn set_http(
        index: &mut FxHashMap<ConnId, Slot>,
        last: &mut Option<(ConnId, Slot)>,
        conn: ConnId,
        http: u32,
    ) {
        if let Some(slot) = index.get_mut(&conn) {
            slot.http = http;
        }
        if matches!(*last, Some((c, _)) if c == conn) {
            *last = None;
        }
    }

    /// Forgets `conn`; its slot.
    fn remove(&mut self, conn: ConnId) -> Option<Slot> {
        if matches!(self.last, Some((c, _)) if c == conn) {
            self.last = None;
        }
        self.index.remove(&conn)
    }

    fn contains(&self, conn: ConnId) -> bool {
        self.index.contains_key(&conn)
    }

    /// The state of `conn`, made (of kind `kind()`) when it has none; None only when
    /// the slab is out of indices (more than 2^32 connections at once).
    fn get_or_insert(&mut self, conn: ConnId, kind: impl FnOnce() -> Kind) -> Option<&mut ConnApp> {
        let i = self.app_or_insert(conn, kind)?;
        self.apps.get_mut(i)
    }

    /// The entry in `apps` of `conn`, made (of kind `kind()`) when it has none.
    fn app_or_insert(&mut self, conn: ConnId, kind: impl FnOnce() -> Kind) -> Option<u32> {
        match self.index.entry(conn) {
            Entry::Occupied(e) => Some(e.get().app),
            Entry::Vacant(v) => {
                // (A released entry was reset when its connection ended.)
                let (i, _) = self.apps.alloc(|| ConnApp::new(Kind::Undecided));
                self.apps.get_mut(i)?.kind = kind();
                v.insert(Slot {
                    app: i,
                    http: NO_HTTP,
                });
                Some(i)
            }
        }
    }
}

/// The app stage: recognises HTTP/1.x and DNS in what the flow stage delivers.
pub struct AppTracker {
    config: AppConfig,
    events: Vec<AppEvent>,
    conns: Conns,
    /// Counters of ended connections waiting for `take_conn_stats`.
    closed: ClosedStats,
    /// Queries pending over all connections.
    dns_pending_total: usize,
    dns_found: Vec<(Decoded, SegmentCtx)>,
    /// HTTP states of the connections, by the index in `Kind::Http`. One that ends is
    /// reset and its entry reused by a next connection: no allocation per connection once
    /// the slab holds as many as were ever open at once (which the flow table bounds).
    http: Slab<HttpConn>,
    stats: AppStats,
}

/// A DNS message completed on `conn`: match it with its query and queue the event.
#[allow(clippy::too_many_arguments)]
fn emit_dns(
    events: &mut Vec<AppEvent>,
    stats: &mut AppStats,
    pending_total: &mut usize,
    max_pending: usize,
    state: &mut ConnApp,
    conn: ConnId,
    m: Decoded,
    ctx: SegmentCtx,
    tcp: bool,
) {
    let mut latency_ms = None;
    if !m.response {
        match state.dns_pending.entry(m.id) {
            Entry::Occupied(_) => {}
            Entry::Vacant(v) => {
                if *pending_total < max_pending {
                    v.insert(ctx.ts);
                    *pending_total += 1;
                } else {
                    stats.dns_pending_dropped += 1;
                }
            }
        }
    } else if let Some(q) = state.dns_pending.remove(&m.id) {
        *pending_total = pending_total.saturating_sub(1);
        latency_ms = Some(ctx.ts.nanos_since(&q) as f64 / 1e6);
    }
    state.dns_seen = true;
    state.stats.dns_messages += 1;
    let service = &mut state.stats.service;
    service.kinds |= ConnService::DNS;
    // Queries name the service; a response only where no query was seen (mDNS), by its
    // question, else by its first answer's owner.
    let name = if m.qname.is_empty() {
        &m.answer_owner
    } else {
        &m.qname
    };
    if !name.is_empty() && (!m.response || service.name.is_empty()) {
        service.dns_query(name);
    }
    events.push(AppEvent::Dns(DnsMessage {
        conn,
        frame: ctx.frame,
        ts: ctx.ts,
        id: m.id,
        response: m.response,
        qname: m.qname,
        qtype: m.qtype,
        rcode: dns::rcode_name(m.rcode),
        answers: m.answers,
        answer_owner: m.answer_owner,
        latency_ms,
        tcp,
        flags: m.flags,
        counts: [
            m.qdcount,
            m.record_counts[0],
            m.record_counts[1],
            m.record_counts[2],
        ],
        qclass: m.qclass,
        ttls: m.ttls,
        decrypted: false,
    }));
}

/// Gives entry `i` of `http` back (its connection ended, `HttpConn::close` done): only
/// its buffers are trimmed now, while its lines are in the cache; the rest is reset when
/// a next connection takes it ([`new_http`]).
fn free_http(http: &mut Slab<HttpConn>, i: u32) {
    let keep_room = http.released() < MAX_SPARE_HTTP;
    if let Some(h) = http.get_mut(i) {
        h.release_room(keep_room);
        http.release(i);
    }
}

/// An HTTP state for a new connection: a given-back entry, reset, else a new one.
fn new_http(http: &mut Slab<HttpConn>) -> u32 {
    let (i, reused) = http.alloc(HttpConn::new);
    if let Some(h) = http.get_mut(i).filter(|_| reused) {
        h.reset(true);
    }
    i
}

/// Whether the connection's ports (from its stream context) include a DNS port.
fn ports_say_dns(ctx: &SegmentCtx) -> bool {
    ctx.ports
        .is_some_and(|(c, s)| DNS_PORTS.contains(&c) || DNS_PORTS.contains(&s))
}

/// What the TLS events just queued say about their connection: its service, its TLS
/// summary.
fn tls_messages(stats: &mut AppConnStats, events: &[AppEvent]) {
    for e in events {
        if let AppEvent::Tls(t) = e {
            stats.service.tls_message(t);
            stats.tls.get_or_insert_with(Default::default).add(t);
        }
    }
}

/// An HTTP connection's requests and first Host, into its service.
fn http_service(service: &mut ConnService, h: &HttpConn) {
    if h.requests > 0 || h.responses > 0 {
        service.kinds |= ConnService::HTTP;
        if service.name.is_empty() {
            service.name = h.host;
        }
    }
}

/// Copies a TLS connection's summary into its counters.
fn tls_conn_stats(stats: &mut AppConnStats, t: &TlsConn) {
    if t.handshakes > 0 {
        stats.service.kinds |= ConnService::SSL;
    }
    stats.tls_version = t.version;
    stats.tls_cipher = t.cipher;
    stats.tls_handshakes = t.handshakes;
    stats.tls_alerts = t.alerts;
    stats.tls_app_bytes = t.app_bytes();
    stats.tls_setup_ns = t.setup_ns();
    if let Some((requests, responses)) = t.http_counts() {
        stats.http_requests = requests;
        stats.http_responses = responses;
    }
}

/// A QUIC Handshake or 1-RTT packet of `q` (`pn_offset`: None for a short header, whose
/// Destination Connection ID length the connection's long headers gave), opened with the
/// key log when the hellos gave the client random and the cipher suite. True when it
/// carried HTTP/3 stream bytes.
#[allow(clippy::too_many_arguments)]
fn protected_packet(
    q: &mut quic::QuicConn,
    keylog: &super::keylog::KeyLog,
    version: Option<u32>,
    space: quic::session::Space,
    dir: Direction,
    packet: &[u8],
    pn_offset: Option<usize>,
    ctx: SegmentCtx,
    out: &mut quic::session::SessionOut<'_>,
    config: &AppConfig,
) -> bool {
    let short_pn = q.short_dcid_len[dir.index()].map(|n| 1 + n);
    let missing = match (&q.hello, pn_offset.or(short_pn)) {
        (h, _) if h.client_random.is_none() || h.client_dir.is_none() => {
            Some("the connection's ClientHello (its client random, the key log's index) was not seen")
        }
        // (0-RTT comes before the ServerHello: the session finds its suite.)
        (h, _) if h.cipher.is_none() && space != quic::session::Space::ZeroRtt => {
            Some("the ServerHello (its cipher suite) was not seen")
        }
        (_, None) => Some(
            "the short header's connection id length is unknown (no long header from the peer seen)",
        ),
        _ if version.is_none() => Some("the QUIC version is unknown (no long header seen)"),
        _ => None,
    };
    if let (Some(why), Some(w)) = (
        missing,
        config
            .record_watch
            .as_ref()
            .filter(|w| w.frame == ctx.frame),
    ) {
        let side = q
            .hello
            .client_dir
            .map_or(0, |c| quic::session::side_of(dir, c));
        let mut d = quic::session::QuicPacketDetail::new(ctx.frame, side, space, packet, 0);
        d.not_opened = Some(why.to_string());
        w.keep_quic(d);
    }
    let (Some(random), Some(suite), Some(client_dir), Some(version)) = (
        q.hello.client_random.as_ref(),
        // 0: not known yet (0-RTT before the ServerHello).
        q.hello
            .cipher
            .or((space == quic::session::Space::ZeroRtt).then_some(0)),
        q.hello.client_dir,
        version,
    ) else {
        return false;
    };
    let Some(pn_offset) = pn_offset.or(short_pn) else {
        return false;
    };
    let hs = quic::session::Handshake {
        keylog,
        client_random: random,
        suite,
        version,
    };
    let side = quic::session::side_of(dir, client_dir);
    q.session
        .get_or_insert_with(|| Box::new(quic::session::QuicSession::configured(config, out.conn)))
        .on_packet(hs, space, side, packet, pn_offset, ctx, out)
}

/// A TLS connection's state; port 853 (DNS over TLS) among the connection's ports says
/// what its plaintext is.
fn tls_conn(config: &AppConfig, ctx: &SegmentCtx) -> TlsConn {
    let mut t = TlsConn::with_keylog(config.keylog.as_ref(), config.record_watch.as_ref());
    if ctx.ports.is_some_and(|(c, s)| c == 853 || s == 853) {
        t.set_dot_port();
    }
    t
}

/// What a connection's TLS state writes to when fed: its events, the stage's counters.
fn tls_out<'a>(
    conn: ConnId,
    events: &'a mut Vec<AppEvent>,
    stats: &'a mut AppStats,
    config: &'a AppConfig,
) -> TlsOut<'a> {
    TlsOut {
        conn,
        events,
        stats: &mut stats.tls,
        config,
        http: &mut stats.http,
        inner_layer: None,
        inner_frames: FrameNames::NONE,
    }
}

/// What a connection's HTTP state writes to when fed: its events, the HTTP counters.
fn http_out<'a>(
    conn: ConnId,
    config: &'a AppConfig,
    events: &'a mut Vec<AppEvent>,
    stats: &'a mut HttpStats,
) -> Out<'a> {
    Out {
        conn,
        config,
        events,
        stats,
    }
}

/// A TCP stream that starts with a whole, cleanly parsing DNS message with one question.
fn looks_like_dns_tcp(data: &[u8]) -> bool {
    let [a, b, rest @ ..] = data else {
        return false;
    };
    let len = u16::from_be_bytes([*a, *b]) as usize;
    match rest.get(..len).and_then(dns::decode) {
        Some(m) => m.complete && m.qdcount == 1,
        None => false,
    }
}

impl AppTracker {
    pub fn new(config: AppConfig) -> AppTracker {
        AppTracker {
            config,
            events: Vec::new(),
            conns: Conns::new(),
            closed: ClosedStats::new(),
            dns_pending_total: 0,
            dns_found: Vec::new(),
            http: Slab::new(),
            stats: AppStats::default(),
        }
    }
    pub fn config(&self) -> &AppConfig {
        &self.config
    }
    /// What was cut or given up on so far.
    pub fn stats(&self) -> AppStats {
        self.stats
    }
    /// Whether events wait for `drain_events` (lets a caller skip an empty drain).
    #[inline]
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }
    /// Events completed since the last call, in completion order.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, AppEvent> {
        self.events.drain(..)
    }
    /// Counters of a connection that ended (call after the flow stage's `on_close`).
    pub fn take_conn_stats(&mut self, conn: ConnId) -> AppConnStats {
        self.closed.take(conn)
    }

    /// Queues the counters of `conn`, which ended, for `take_conn_stats`.
    fn record_closed(&mut self, conn: ConnId, stats: AppConnStats) {
        self.stats.closed_stats_dropped += self.closed.record(conn, stats);
    }

    /// A datagram of a QUIC flow (or the long-header packet that makes it one): one event
    /// per long-header packet (coalesced ones included), short-header packets counted;
    /// whether it held any QUIC packet.
    fn feed_quic(
        &mut self,
        conn: ConnId,
        dir: Direction,
        data: &[u8],
        ctx: SegmentCtx,
    ) -> (bool, bool, FrameNames) {
        let Some(state) = self.conns.get_or_insert(conn, || Kind::Quic(None)) else {
            return (false, false, FrameNames::NONE);
        };
        let mut rest = data;
        let mut any = false;
        let mut http3 = false;
        let mut frames = FrameNames::NONE;
        let keylog = self.config.keylog.as_deref();
        while let Some(&first) = rest.first() {
            if first & 0x80 == 0 {
                if quic::is_short_header(rest) {
                    // A short header runs to the end of the datagram.
                    state.stats.quic_short_packets += 1;
                    any = true;
                    if let (Some(keylog), Kind::Quic(Some(q))) = (keylog, &mut state.kind) {
                        let mut out = quic::session::SessionOut {
                            conn,
                            events: &mut self.events,
                            stats: &mut self.stats.tls.quic,
                            frames: FrameNames::NONE,
                        };
                        http3 |= protected_packet(
                            q,
                            keylog,
                            state.stats.quic_version,
                            quic::session::Space::OneRtt,
                            dir,
                            rest,
                            None,
                            ctx,
                            &mut out,
                            &self.config,
                        );
                        frames.merge(out.frames);
                        state.stats.http_requests = q.session.as_ref().map_or(0, |s| s.h3.requests);
                        state.stats.http_responses =
                            q.session.as_ref().map_or(0, |s| s.h3.responses);
                    }
                } else if !any {
                    self.stats.quic_unparsed += 1;
                }
                break;
            }
            let Ok(h) = quic::parse_long_header(rest) else {
                if !any {
                    self.stats.quic_unparsed += 1;
                }
                break;
            };
            any = true;
            state.stats.service.kinds |= ConnService::QUIC;
            state.stats.quic_long_packets += 1;
            state.stats.quic_version.get_or_insert(h.version);
            self.events.push(AppEvent::Quic(QuicPacket {
                conn,
                dir,
                frame: ctx.frame,
                ts: ctx.ts,
                kind: h.kind,
                version: h.version,
                dcid: h.dcid.to_vec(),
                scid: h.scid.to_vec(),
                token_len: h.token_len,
                length: h.length,
                supported_versions: h.supported_versions,
            }));
            let pn_offset = h
                .packet_len
                .saturating_sub(usize::try_from(h.length.unwrap_or(0)).unwrap_or(usize::MAX));
            let packet = rest.get(..h.packet_len);
            if let (Kind::Quic(q), Some(packet), true) =
                (&mut state.kind, packet, h.length.is_some())
            {
                let q = q.get_or_insert_with(|| {
                    let mut q = Box::<quic::QuicConn>::default();
                    q.hello.set_crypto_cap(self.config.quic_crypto);
                    q
                });
                if h.version != 0 {
                    q.short_dcid_len[1 - dir.index()] = Some(h.scid.len());
                }
                if h.kind == QuicPacketKind::Initial {
                    let before = self.events.len();
                    let mut out = quic::hello::HelloOut {
                        conn,
                        events: &mut self.events,
                        stats: &mut self.stats.quic_hello,
                    };
                    let p = quic::hello::InitialPacket {
                        version: h.version,
                        dcid: h.dcid,
                        packet,
                        pn_offset,
                    };
                    let hello = &mut q.hello;
                    hello.on_initial(p, dir, ctx, &mut out);
                    // The hellos' server name and ALPN say what the connection is.
                    tls_messages(&mut state.stats, &self.events[before..]);
                    state.stats.tls_version = hello.version;
                    state.stats.tls_cipher = hello.cipher;
                    state.stats.tls_handshakes = hello.handshakes;
                } else if let (QuicPacketKind::Handshake | QuicPacketKind::ZeroRtt, Some(keylog)) =
                    (h.kind, keylog)
                {
                    let mut out = quic::session::SessionOut {
                        conn,
                        events: &mut self.events,
                        stats: &mut self.stats.tls.quic,
                        frames: FrameNames::NONE,
                    };
                    let space = match h.kind {
                        QuicPacketKind::ZeroRtt => quic::session::Space::ZeroRtt,
                        _ => quic::session::Space::Handshake,
                    };
                    http3 |= protected_packet(
                        q,
                        keylog,
                        Some(h.version),
                        space,
                        dir,
                        packet,
                        Some(pn_offset),
                        ctx,
                        &mut out,
                        &self.config,
                    );
                    frames.merge(out.frames);
                }
            }
            rest = rest.get(h.packet_len.max(1)..).unwrap_or_default();
        }
        if let (true, Some(w), Some(_)) = (
            any,
            FollowWatch::of(self.config.follow_watch.as_ref(), conn),
            keylog,
        ) {
            // `follow` shows a QUIC connection read with a key log as its HTTP/3 frames.
            w.set_decrypting();
        }
        (any, http3, frames)
    }

    /// `on_data` for a new connection, one that is not HTTP, or HTTP turning into TLS;
    /// `slot`: the connection's entry in `conns.apps`, if it has one.
    #[inline(never)]
    fn other_data(
        &mut self,
        conn: ConnId,
        slot: Option<u32>,
        dir: Direction,
        data: &[u8],
        ctx: SegmentCtx,
    ) -> FrameLayers {
        let app = match slot {
            Some(s) => Some(s),
            None => self.conns.app_or_insert(conn, || Kind::Undecided),
        };
        let Some(state) = app.and_then(|a| self.conns.apps.get_mut(a)) else {
            return FrameLayers::NONE;
        };
        if let Kind::Undecided | Kind::Datagrams | Kind::Quic(_) = state.kind {
            // The ports matter only while the kind is being decided (a decided TCP
            // connection never reads `dns_port` again).
            state.dns_port |= ports_say_dns(&ctx);
            // Each HTTP direction is detected on its own content (a direction that does
            // not start like HTTP stops itself), so only DNS and TLS need deciding here:
            // on the first bytes, DNS ports first, then a TLS hello record, then a clean
            // DNS message, else HTTP (which gives up on a direction that is not HTTP).
            state.kind = if state.dns_port {
                Kind::DnsTcp(Box::default())
            } else if starts_like_tls(data) {
                if let (Some(w), Some(_)) = (
                    FollowWatch::of(self.config.follow_watch.as_ref(), conn),
                    &self.config.keylog,
                ) {
                    w.set_decrypting();
                }
                Kind::Tls(Box::new(tls_conn(&self.config, &ctx)))
            } else if data.starts_with(b"PRI * HTTP/2.0") {
                Kind::Http2(Box::new(
                    super::http2::Http2Conn::new().configured(&self.config, conn),
                ))
            } else if looks_like_dns_tcp(data) && classify_start(data) == Start::No {
                // (The DNS check first: on HTTP bytes it fails at the length prefix.)
                Kind::DnsTcp(Box::default())
            } else {
                Kind::Http(new_http(&mut self.http))
            };
            if let Kind::Http(i) = state.kind {
                Conns::set_http(&mut self.conns.index, &mut self.conns.last, conn, i);
            }
        }
        let mut layer = None;
        let mut inner = None;
        let mut frames = FrameNames::NONE;
        let mut dns_decrypted = false;
        if let Kind::Http(i) = state.kind {
            let Some(h) = self.http.get_mut(i) else {
                return FrameLayers::NONE;
            };
            let mut out = http_out(conn, &self.config, &mut self.events, &mut self.stats.http);
            // A ClientHello at a chunk start of a connection that began as something else
            // (after an HTTP CONNECT, a database's TLS request, a STARTTLS): TLS from here.
            if data.first() == Some(&0x16) && starts_like_client_hello(data) {
                h.close(&mut out);
                state.stats.http_requests = h.requests;
                state.stats.http_responses = h.responses;
                http_service(&mut state.stats.service, h);
                free_http(&mut self.http, i);
                state.kind = Kind::Tls(Box::new(tls_conn(&self.config, &ctx)));
                Conns::set_http(&mut self.conns.index, &mut self.conns.last, conn, NO_HTTP);
            } else {
                if h.on_data(dir.index(), data, ctx, &mut out) {
                    // (The counters are copied into `state.stats` when the connection ends.)
                    layer = Some(LayerName::Http);
                }
                if h.h2c_upgrade.is_some() {
                    self.switch_to_h2c(conn);
                    return FrameLayers::found(ctx.frame, layer, None);
                }
            }
        }
        match &mut state.kind {
            Kind::Http(_) => {}
            Kind::DnsTcp(dirs) => {
                if dirs[dir.index()].feed(data, ctx, &mut self.dns_found) {
                    layer = Some(LayerName::Dns);
                }
            }
            Kind::Tls(t) => {
                let mut out = tls_out(conn, &mut self.events, &mut self.stats, &self.config);
                let before = out.events.len();
                if t.on_data(dir, data, ctx, &mut out) {
                    layer = Some(LayerName::Tls);
                }
                inner = out.inner_layer;
                frames = out.inner_frames;
                tls_messages(&mut state.stats, &self.events[before..]);
                tls_conn_stats(&mut state.stats, t);
                // DNS over TLS: matched as DNS over TCP is (below), marked decrypted.
                dns_decrypted = t.take_dns(&mut self.dns_found);
            }
            Kind::Http2(h) => {
                let mut o = super::http2::H2Out {
                    conn,
                    events: &mut self.events,
                    stats: &mut self.stats.tls.http2,
                    frames: FrameNames::NONE,
                };
                if h.on_data(dir, data, ctx, &mut o) {
                    layer = Some(LayerName::Http2);
                }
                frames = o.frames;
                state.stats.http_requests = h.requests;
                state.stats.http_responses = h.responses;
            }
            Kind::Undecided | Kind::Datagrams | Kind::Quic(_) => {}
        }
        // DNS messages completed over TCP or inside TLS.
        let mut found = std::mem::take(&mut self.dns_found);
        for (m, start) in found.drain(..) {
            emit_dns(
                &mut self.events,
                &mut self.stats,
                &mut self.dns_pending_total,
                self.config.max_pending_dns,
                state,
                conn,
                m,
                start,
                true,
            );
            if let (true, Some(AppEvent::Dns(d))) = (dns_decrypted, self.events.last_mut()) {
                d.decrypted = true;
            }
        }
        self.dns_found = found;
        FrameLayers::found(ctx.frame, layer, inner).with_frames(frames)
    }

    /// An HTTP/1.1 connection whose `Upgrade: h2c` request was answered by 101: HTTP/2
    /// from here, the upgrade request as stream 1's (RFC 7540 §3.2).
    #[inline(never)]
    fn switch_to_h2c(&mut self, conn: ConnId) {
        let Some(slot) = self.conns.slot(conn) else {
            return;
        };
        let Some(state) = self.conns.apps.get_mut(slot.app) else {
            return;
        };
        let Kind::Http(i) = state.kind else {
            return;
        };
        let Some(h) = self.http.get_mut(i) else {
            return;
        };
        let Some(request) = h.h2c_upgrade.take() else {
            return;
        };
        let mut out = http_out(conn, &self.config, &mut self.events, &mut self.stats.http);
        h.close(&mut out);
        http_service(&mut state.stats.service, h);
        free_http(&mut self.http, i);
        state.kind = Kind::Http2(Box::new(
            super::http2::Http2Conn::upgraded(&request).configured(&self.config, conn),
        ));
        Conns::set_http(&mut self.conns.index, &mut self.conns.last, conn, NO_HTTP);
    }

    /// In-order TCP bytes of one direction (see [`StreamSink::on_data`]); returns the
    /// application layer they showed, for the packet's layer list.
    pub fn feed_segment(
        &mut self,
        conn: ConnId,
        dir: Direction,
        data: &[u8],
        ctx: SegmentCtx,
    ) -> FrameLayers {
        let Some(&first) = data.first() else {
            return FrameLayers::NONE;
        };
        // The common case in few instructions: a segment of a connection carrying HTTP
        // that does not switch to TLS.
        let slot = self.conns.slot(conn);
        if let Some(Slot { http, .. }) = slot.filter(|s| s.http != NO_HTTP) {
            if let Some(h) = self.http.get_mut(http) {
                if first != 0x16 || !starts_like_client_hello(data) {
                    let mut out =
                        http_out(conn, &self.config, &mut self.events, &mut self.stats.http);
                    // (The counters are copied into `ConnApp::stats` when the connection
                    // ends.)
                    let carried = h.on_data(dir.index(), data, ctx, &mut out);
                    let upgraded = h.h2c_upgrade.is_some();
                    if upgraded {
                        self.switch_to_h2c(conn);
                    }
                    return FrameLayers::found(ctx.frame, carried.then_some(LayerName::Http), None);
                }
            }
        }
        self.other_data(conn, slot.map(|s| s.app), dir, data, ctx)
    }

    /// One UDP datagram's payload (see [`StreamSink::on_datagram`]); returns the application
    /// layer it showed, for the packet's layer list.
    pub fn feed_datagram(
        &mut self,
        conn: ConnId,
        dir: Direction,
        data: &[u8],
        ctx: SegmentCtx,
    ) -> FrameLayers {
        // DNS on ports 53, 5353 and 5355 is trusted without further proof; elsewhere a
        // message must parse cleanly.
        let port_dns = ports_say_dns(&ctx);
        let quic_known = self
            .conns
            .get(conn)
            .is_some_and(|s| matches!(s.kind, Kind::Quic(_)));
        if quic_known || (!port_dns && !self.conns.contains(conn) && quic::starts_like_quic(data)) {
            let (quic, http3, frames) = self.feed_quic(conn, dir, data, ctx);
            return FrameLayers::found(
                ctx.frame,
                quic.then_some(LayerName::Quic),
                http3.then_some(LayerName::Http3),
            )
            .with_frames(frames);
        }
        let dns_known = self
            .conns
            .get(conn)
            .is_some_and(|s| s.dns_port || s.dns_seen);
        if !port_dns
            && !dns_known
            && matches!(classify_start(data), Start::Request | Start::Response)
        {
            let Some(state) = self.conns.get_or_insert(conn, || Kind::Datagrams) else {
                return FrameLayers::NONE;
            };
            let index = state.udp_http.saturating_add(1);
            if let Some(tx) = datagram_message(conn, index, data, ctx) {
                state.udp_http = index;
                if tx.method.is_some() {
                    state.stats.http_requests += 1;
                } else {
                    state.stats.http_responses += 1;
                }
                let mut tx = tx;
                if !self.config.http_details {
                    http::strip_details(&mut tx);
                }
                self.events.push(AppEvent::Http(tx));
                return FrameLayers::found(ctx.frame, Some(LayerName::Http), None);
            }
        }
        let Some(m) = dns::decode(data) else {
            return FrameLayers::NONE;
        };
        let known = self
            .conns
            .get(conn)
            .is_some_and(|s| s.dns_port || s.dns_seen);
        if !(port_dns || known || (m.complete && m.qdcount == 1)) {
            return FrameLayers::NONE;
        }
        let Some(state) = self.conns.get_or_insert(conn, || Kind::Datagrams) else {
            return FrameLayers::NONE;
        };
        state.dns_port |= port_dns;
        emit_dns(
            &mut self.events,
            &mut self.stats,
            &mut self.dns_pending_total,
            self.config.max_pending_dns,
            state,
            conn,
            m,
            ctx,
            false,
        );
        FrameLayers::found(ctx.frame, Some(LayerName::Dns), None)
    }
}

/// The app stage as a plain stream sink (for callers that want its events and counters,
/// not the packets' layers: what `feed_segment` and `feed_datagram` return is dropped).
impl StreamSink for AppTracker {
    fn on_data(&mut self, conn: ConnId, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        self.feed_segment(conn, dir, data, ctx);
    }
    fn on_datagram(&mut self, conn: ConnId, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        self.feed_datagram(conn, dir, data, ctx);
    }
    fn on_gap(&mut self, conn: ConnId, dir: Direction, len: u64, _ctx: SegmentCtx) {
        let Some(state) = self.conns.get_mut(conn) else {
            return;
        };
        match &mut state.kind {
            Kind::Http(i) => {
                let Some(h) = self.http.get_mut(*i) else {
                    return;
                };
                let mut out = http_out(conn, &self.config, &mut self.events, &mut self.stats.http);
                h.on_gap(dir.index(), len, &mut out);
            }
            Kind::DnsTcp(dirs) => {
                let d = &mut dirs[dir.index()];
                if !d.stopped {
                    self.stats.dns_tcp_gaps += 1;
                }
                d.stopped = true;
                d.buf = Vec::new();
            }
            Kind::Tls(t) => {
                let mut out = tls_out(conn, &mut self.events, &mut self.stats, &self.config);
                let before = out.events.len();
                t.on_gap(dir, &mut out);
                tls_messages(&mut state.stats, &self.events[before..]);
            }
            Kind::Http2(h) => h.on_gap(dir),
            Kind::Undecided | Kind::Datagrams | Kind::Quic(_) => {}
        }
    }

    fn on_fin(&mut self, conn: ConnId, dir: Direction, _ctx: SegmentCtx) {
        // From the map's entry straight to the HTTP state (the `ConnApp` is not read).
        let Some(Slot { http, .. }) = self.conns.slot(conn) else {
            return;
        };
        if http == NO_HTTP {
            return;
        }
        let Some(h) = self.http.get_mut(http) else {
            return;
        };
        let mut out = http_out(conn, &self.config, &mut self.events, &mut self.stats.http);
        h.on_fin(dir.index(), &mut out);
    }

    fn on_close(&mut self, conn: ConnId) {
        // In place: the entry is reset below for a next connection.
        let Some(Slot { app: slot, .. }) = self.conns.remove(conn) else {
            // (Queued all the same: `take_conn_stats` asks in the order of the ends.)
            self.record_closed(conn, AppConnStats::default());
            return;
        };
        let Some(state) = self.conns.apps.get_mut(slot) else {
            self.record_closed(conn, AppConnStats::default());
            return;
        };
        match &mut state.kind {
            Kind::Http(i) => {
                let i = *i;
                if let Some(h) = self.http.get_mut(i) {
                    let mut out =
                        http_out(conn, &self.config, &mut self.events, &mut self.stats.http);
                    h.close(&mut out);
                    state.stats.http_requests = h.requests;
                    state.stats.http_responses = h.responses;
                    http_service(&mut state.stats.service, h);
                }
                free_http(&mut self.http, i);
            }
            Kind::Tls(t) => {
                let mut out = tls_out(conn, &mut self.events, &mut self.stats, &self.config);
                let before = out.events.len();
                t.close(&mut out);
                tls_messages(&mut state.stats, &self.events[before..]);
                tls_conn_stats(&mut state.stats, t);
            }
            Kind::Quic(Some(q)) => {
                q.hello.close(&mut self.stats.quic_hello);
                if let Some(s) = q.session.as_mut() {
                    let mut out = quic::session::SessionOut {
                        conn,
                        events: &mut self.events,
                        stats: &mut self.stats.tls.quic,
                        frames: FrameNames::NONE,
                    };
                    s.close(&mut out);
                    state.stats.http_requests = s.h3.requests;
                    state.stats.http_responses = s.h3.responses;
                }
            }
            Kind::Http2(h) => {
                let mut o = super::http2::H2Out {
                    conn,
                    events: &mut self.events,
                    stats: &mut self.stats.tls.http2,
                    frames: FrameNames::NONE,
                };
                h.close(&mut o);
                state.stats.http_requests = h.requests;
                state.stats.http_responses = h.responses;
            }
            _ => {}
        }
        self.dns_pending_total = self
            .dns_pending_total
            .saturating_sub(state.dns_pending.len());
        let stats = std::mem::take(&mut state.stats);
        state.reset();
        self.conns.apps.release(slot);
        self.record_closed(conn, stats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{ToClient, ToServer};

    fn ctx(frame: u64, ms: u32) -> SegmentCtx {
        SegmentCtx {
            frame,
            ts: Timestamp {
                secs: 1_000 + (ms / 1000) as i64,
                nanos: (ms % 1000) * 1_000_000,
                precision: 6,
            },
            handshake_rtt_ns: None,
            ports: None,
        }
    }

    /// `c` with the connection's ports.
    fn ported(c: SegmentCtx, ports: (u16, u16)) -> SegmentCtx {
        SegmentCtx {
            ports: Some(ports),
            ..c
        }
    }

    fn http(t: &mut AppTracker) -> Vec<HttpTransaction> {
        t.drain_events()
            .filter_map(|e| match e {
                AppEvent::Http(h) => Some(h),
                _ => None,
            })
            .collect()
    }

    fn dns_events(t: &mut AppTracker) -> Vec<DnsMessage> {
        t.drain_events()
            .filter_map(|e| match e {
                AppEvent::Dns(d) => Some(d),
                _ => None,
            })
            .collect()
    }

    fn has_note(tx: &HttpTransaction, note: &str) -> bool {
        tx.notes.iter().any(|n| n == note)
    }

    const OK0: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn a_connection_on_a_recycled_http_state_reads_as_on_a_new_one() {
        let run = |t: &mut AppTracker, conn: ConnId| {
            t.on_data(
                conn,
                ToServer,
                b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
                ctx(10, 0),
            );
            t.on_data(conn, ToClient, OK0, ctx(11, 5));
            t.on_close(conn);
            (http(t), t.take_conn_stats(conn))
        };
        let mut t = AppTracker::new(AppConfig::default());
        // A first connection left mid-way: a request waiting, a response head cut.
        t.on_data(0, ToServer, b"GET /a HTTP/1.1\r\n\r\nGET /b HTT", ctx(1, 0));
        t.on_data(
            0,
            ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab",
            ctx(2, 1),
        );
        t.on_close(0);
        assert_eq!(http(&mut t).len(), 2);
        assert_eq!((t.http.made(), t.http.released_list()), (1, &[0][..]));
        let (events, stats) = run(&mut t, 1);
        assert_eq!(
            (t.http.made(), t.http.released_list()),
            (1, &[0][..]),
            "taken for conn 1, given back at its close"
        );
        let mut fresh = AppTracker::new(AppConfig::default());
        assert_eq!((events.clone(), stats.clone()), run(&mut fresh, 1));
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].index, events[0].status), (1, Some(200)));
        assert_eq!((stats.http_requests, stats.http_responses), (1, 1));
    }

    #[test]
    fn ended_connections_counters_in_order_and_out_of_order() {
        let mut t = AppTracker::new(AppConfig::default());
        let exchange = |t: &mut AppTracker, conn: ConnId| {
            t.on_data(conn, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(1, 0));
            t.on_data(conn, ToClient, OK0, ctx(2, 1));
        };
        let counted = |s: AppConnStats| (s.http_requests, s.http_responses);
        for conn in [1, 2, 4] {
            exchange(&mut t, conn);
        }
        // 3 ended without any payload: queued all the same, so the order holds.
        for conn in 1..=4 {
            t.on_close(conn);
        }
        assert_eq!(t.closed.lens(), (4, 3, 0));
        assert_eq!(counted(t.take_conn_stats(1)), (1, 1));
        assert_eq!(
            t.take_conn_stats(3),
            AppConnStats::default(),
            "not the front: spilled"
        );
        assert_eq!(t.closed.lens(), (0, 0, 2), "2 and 4 (3 had no counters)");
        assert_eq!(counted(t.take_conn_stats(4)), (1, 1));
        assert_eq!(counted(t.take_conn_stats(2)), (1, 1));
        assert_eq!(t.take_conn_stats(2), AppConnStats::default(), "taken once");
        // In order again, through the queue.
        exchange(&mut t, 5);
        t.on_close(5);
        t.on_close(6);
        assert_eq!(counted(t.take_conn_stats(5)), (1, 1));
        assert_eq!(t.take_conn_stats(6), AppConnStats::default());
        assert_eq!(t.closed.lens(), (0, 0, 0));
        assert_eq!(t.stats().closed_stats_dropped, 0);
    }

    #[test]
    fn the_last_lookup_never_outlives_its_connection() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(4, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(1, 0));
        t.on_data(4, ToClient, OK0, ctx(2, 1));
        assert!(matches!(t.conns.last, Some((4, s)) if s.http != NO_HTTP));
        t.on_close(4);
        assert_eq!(t.conns.last, None);
        // The same id again (a new connection): DNS on port 53 now, not the old HTTP.
        let layers = t.feed_segment(
            4,
            ToServer,
            b"GET / HTTP/1.1\r\n\r\n",
            ported(ctx(3, 2), (40_000, 53)),
        );
        assert!(matches!(
            t.conns.get(4).map(|s| &s.kind),
            Some(Kind::DnsTcp(_))
        ));
        assert_eq!(layers.app_of(3), Some(LayerName::Dns));
        assert_eq!(t.conns.slot(4).map(|s| s.http), Some(NO_HTTP));
        assert_eq!(http(&mut t).len(), 1);
    }

    #[test]
    fn an_ended_connections_entry_is_reused_as_new() {
        let mut t = AppTracker::new(AppConfig::default());
        // Conn 7 on port 53: DNS over TCP, whatever it carries.
        t.on_data(
            7,
            ToServer,
            b"GET / HTTP/1.1\r\n\r\n",
            ported(ctx(1, 0), (40_000, 53)),
        );
        assert!(matches!(
            t.conns.get(7).map(|s| &s.kind),
            Some(Kind::DnsTcp(_))
        ));
        t.on_close(7);
        assert_eq!(
            (t.conns.apps.made(), t.conns.apps.released_list()),
            (1, &[0][..])
        );
        assert!(!t.conns.contains(7));
        // Conn 8 takes the entry: its own ports decide, nothing of conn 7's is left.
        let layers = t.feed_segment(
            8,
            ToServer,
            b"GET / HTTP/1.1\r\n\r\n",
            ported(ctx(2, 1), (40_001, 80)),
        );
        assert_eq!(layers.app_of(2), Some(LayerName::Http));
        assert_eq!(t.conns.apps.made(), 1, "entry reused");
        assert_eq!(t.conns.apps.released(), 0);
        t.on_data(8, ToClient, OK0, ctx(3, 2));
        t.on_close(8);
        assert_eq!(http(&mut t).len(), 1);
        let s = t.take_conn_stats(8);
        assert_eq!(
            (s.http_requests, s.http_responses, s.dns_messages),
            (1, 1, 0)
        );
        assert_eq!(t.take_conn_stats(7), AppConnStats::default());
    }

    #[test]
    fn head_split_across_segments() {
        let mut t = AppTracker::new(AppConfig::default());
        let layers = t.feed_segment(0, ToServer, b"GET /index.html HTTP/1.1\r\nHo", ctx(4, 0));
        assert_eq!(layers.app_of(4), None);
        let layers = t.feed_segment(0, ToServer, b"st: example.com\r\n\r\n", ctx(5, 1));
        assert_eq!(layers.app_of(5), Some(LayerName::Http));
        let layers = t.feed_segment(
            0,
            ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            ctx(6, 25),
        );
        assert_eq!(layers.app_of(6), Some(LayerName::Http));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        let tx = &tx[0];
        assert_eq!(
            (tx.index, tx.request_frame, tx.response_frame),
            (1, Some(4), Some(6))
        );
        assert_eq!(tx.method.as_deref(), Some("GET"));
        assert_eq!(tx.uri.as_deref(), Some("/index.html"));
        assert_eq!(tx.version.as_deref(), Some("HTTP/1.1"));
        assert_eq!(tx.host.as_deref(), Some("example.com"));
        assert_eq!((tx.status, tx.reason.as_deref()), (Some(200), Some("OK")));
        assert_eq!(
            (tx.request_body_bytes, tx.response_body_bytes),
            (Some(0), Some(5))
        );
        assert_eq!(tx.latency_ms, Some(25.0));
        assert!(tx.notes.is_empty(), "{:?}", tx.notes);
        t.on_close(0);
        assert!(http(&mut t).is_empty());
        let s = t.take_conn_stats(0);
        assert_eq!(
            (s.http_requests, s.http_responses, s.dns_messages),
            (1, 1, 0)
        );
        assert_eq!(t.take_conn_stats(0), AppConnStats::default());
    }

    #[test]
    fn gap_in_body_then_recovery_at_next_request() {
        let mut t = AppTracker::new(AppConfig::default());
        // Request 1 has a 100-byte body; 40 arrive, then a gap of 100 swallows the last 60
        // body bytes and the 40-byte head of request 2; request 3 follows whole.
        t.on_data(
            1,
            ToServer,
            b"POST /up HTTP/1.1\r\nContent-Length: 100\r\n\r\n",
            ctx(1, 0),
        );
        t.on_data(1, ToServer, &[b'x'; 40], ctx(2, 1));
        t.on_gap(1, ToServer, 100, ctx(4, 3));
        t.on_data(
            1,
            ToServer,
            b"GET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
            ctx(4, 3),
        );
        t.on_data(1, ToClient, OK0, ctx(5, 10));
        t.on_data(1, ToClient, OK0, ctx(6, 11));
        t.on_data(
            1,
            ToClient,
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            ctx(7, 12),
        );
        let tx = http(&mut t);
        assert_eq!(tx.len(), 3);
        assert_eq!(tx[0].request_body_bytes, Some(100));
        assert!(
            has_note(&tx[0], "request body cut by a gap of 60 bytes"),
            "{:?}",
            tx[0].notes
        );
        assert_eq!(
            (tx[1].index, tx[1].method.as_deref(), tx[1].status),
            (2, None, Some(200))
        );
        assert!(has_note(&tx[1], "request lost in a gap of 40 bytes"));
        assert_eq!(tx[2].index, 3);
        assert_eq!(tx[2].uri.as_deref(), Some("/3"));
        assert_eq!((tx[2].request_frame, tx[2].status), (Some(4), Some(404)));
        assert!(has_note(
            &tx[2],
            "HTTP/1.1 persistent connection: request 3 on this connection"
        ));
    }

    #[test]
    fn gap_mid_head_resyncs_on_next_request_line() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(
            1,
            ToServer,
            b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
            ctx(1, 0),
        );
        t.on_data(
            1,
            ToClient,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            ctx(2, 5),
        );
        // Lost: "cde\r\n0\r\n\r\n" plus the start of the next response; then garbage.
        t.on_gap(1, ToClient, 20, ctx(3, 6));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        assert_eq!(tx[0].response_body_bytes, Some(5));
        assert!(has_note(
            &tx[0],
            "response body cut by a gap of 20 bytes inside chunked framing (after 2 decoded bytes): rest of the message lost"
        ), "{:?}", tx[0].notes);
        t.on_data(1, ToServer, b"GET /b HTTP/1.1\r\n\r\n", ctx(4, 7));
        t.on_data(
            1,
            ToClient,
            b"tail of something\r\nHTTP/1.1 204 No Content\r\n\r\n",
            ctx(5, 8),
        );
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        assert_eq!(
            (tx[0].index, tx[0].status, tx[0].response_frame),
            (2, Some(204), Some(5))
        );
        assert_eq!(t.stats().http.resyncs, 1);
    }

    #[test]
    fn pipelined_requests_matched_in_order() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(
            2,
            ToServer,
            b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
            ctx(3, 0),
        );
        assert!(http(&mut t).is_empty());
        t.on_data(
            2,
            ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nBBHTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nCCC",
            ctx(5, 40),
        );
        let tx = http(&mut t);
        let got: Vec<_> = tx
            .iter()
            .map(|x| {
                (
                    x.index,
                    x.uri.clone().unwrap(),
                    x.status.unwrap(),
                    x.response_body_bytes.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "/1".to_string(), 200, 1),
                (2, "/2".to_string(), 404, 2),
                (3, "/3".to_string(), 500, 3)
            ]
        );
        assert!(has_note(
            &tx[1],
            "pipelined: sent before the response to request 1"
        ));
        assert!(has_note(
            &tx[2],
            "pipelined: sent before the response to request 1"
        ));
        assert!(has_note(
            &tx[2],
            "HTTP/1.1 persistent connection: request 3 on this connection"
        ));
        assert!(tx
            .iter()
            .all(|x| x.request_frame == Some(3) && x.response_frame == Some(5)));
    }

    #[test]
    fn expect_100_continue_then_200() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(
            3,
            ToServer,
            b"PUT /f HTTP/1.1\r\nHost: s\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
            ctx(1, 0),
        );
        t.on_data(3, ToClient, b"HTTP/1.1 100 Continue\r\n\r\n", ctx(2, 2));
        let interim = http(&mut t);
        assert_eq!(interim.len(), 1);
        let i = &interim[0];
        assert_eq!(
            (i.conn, i.index, i.request_frame, i.response_frame),
            (3, 1, Some(1), Some(2))
        );
        assert_eq!((i.method.as_deref(), i.uri.as_deref()), (None, None));
        assert_eq!(
            (i.status, i.reason.as_deref(), i.latency_ms),
            (Some(100), Some("Continue"), Some(2.0))
        );
        assert!(has_note(
            i,
            "interim response 100: the final response to request 1 follows"
        ));
        t.on_data(3, ToServer, b"data", ctx(3, 3));
        t.on_data(
            3,
            ToClient,
            b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            ctx(4, 9),
        );
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        let tx = &tx[0];
        assert_eq!(
            (tx.status, tx.response_frame, tx.latency_ms),
            (Some(201), Some(4), Some(9.0))
        );
        assert_eq!(
            (tx.request_body_bytes, tx.response_body_bytes),
            (Some(4), Some(2))
        );
        assert!(has_note(
            tx,
            "interim response 100 Continue in frame 2: the final response follows"
        ));
        let s = {
            t.on_close(3);
            t.take_conn_stats(3)
        };
        assert_eq!((s.http_requests, s.http_responses), (1, 1));
    }

    #[test]
    fn head_204_and_304_have_no_body() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(
            4,
            ToServer,
            b"HEAD / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\nGET /z HTTP/1.1\r\n\r\n",
            ctx(1, 0),
        );
        t.on_data(
            4,
            ToClient,
            b"HTTP/1.1 301 Moved Permanently\r\nContent-Length: 1234\r\n\r\n\
HTTP/1.1 204 No Content\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            ctx(2, 1),
        );
        let tx = http(&mut t);
        let got: Vec<_> = tx
            .iter()
            .map(|x| {
                (
                    x.method.clone().unwrap(),
                    x.status.unwrap(),
                    x.response_body_bytes.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("HEAD".to_string(), 301, 0),
                ("GET".to_string(), 204, 0),
                ("GET".to_string(), 304, 0),
                ("GET".to_string(), 200, 2)
            ]
        );
        assert!(has_note(
            &tx[0],
            "HEAD response: Content-Length 1234 describes the resource, no body follows"
        ));
    }

    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
4;name=value\r\nWiki\r\n5\r\npedia\r\nE ; x\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n";

    #[test]
    fn chunked_with_extensions_and_trailers() {
        for step in [CHUNKED.len(), 7, 1] {
            let mut t = AppTracker::new(AppConfig::default());
            t.on_data(5, ToServer, b"GET /c HTTP/1.1\r\n\r\n", ctx(1, 0));
            for (i, part) in CHUNKED.chunks(step).enumerate() {
                t.on_data(5, ToClient, part, ctx(2 + i as u64, 1));
            }
            t.on_data(5, ToServer, b"GET /d HTTP/1.1\r\n\r\n", ctx(1000, 2));
            t.on_data(5, ToClient, OK0, ctx(1001, 3));
            let tx = http(&mut t);
            assert_eq!(tx.len(), 2, "step {step}");
            assert_eq!(tx[0].response_body_bytes, Some(23));
            assert!(
                has_note(
                    &tx[0],
                    "chunked: 3 chunks, extensions ignored, 2 trailer fields"
                ),
                "{:?}",
                tx[0].notes
            );
            assert_eq!(
                (tx[1].uri.as_deref(), tx[1].status),
                (Some("/d"), Some(200))
            );
        }
    }

    #[test]
    fn close_delimited_body_ends_at_fin_and_http10_note() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(6, ToServer, b"GET /old HTTP/1.0\r\n\r\n", ctx(1, 0));
        t.on_data(
            6,
            ToClient,
            b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\n0123456789",
            ctx(2, 4),
        );
        t.on_data(6, ToClient, b"abcdefg", ctx(3, 5));
        assert!(http(&mut t).is_empty());
        t.on_fin(6, ToClient, ctx(4, 6));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        assert_eq!(tx[0].response_body_bytes, Some(17));
        assert_eq!(tx[0].response_version.as_deref(), Some("HTTP/1.0"));
        assert!(has_note(
            &tx[0],
            "HTTP/1.0: one request per connection, server closes after the response"
        ));
        assert!(has_note(
            &tx[0],
            "no Content-Length or chunked coding: the body ends when the server closes"
        ));
    }

    #[test]
    fn without_http_details_events_keep_their_numbers_and_drop_their_text() {
        let run = |details: bool| {
            let mut t = AppTracker::new(AppConfig {
                http_details: details,
                ..AppConfig::default()
            });
            t.on_data(
                4,
                ToServer,
                b"GET /a HTTP/1.0\r\nHost: h\r\n\r\n",
                ctx(1, 0),
            );
            t.on_data(4, ToClient, b"HTTP/1.0 200 OK\r\n\r\nbody", ctx(2, 3));
            t.on_data(
                4,
                ToServer,
                b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                ctx(3, 4),
            );
            t.on_close(4);
            (http(&mut t), t.take_conn_stats(4))
        };
        let (with, mut with_stats) = run(true);
        let (without, without_stats) = run(false);
        // The Host names the service only with details (the JSON conn record, which runs
        // without them, writes only the service's kind).
        assert_eq!(with_stats.service.name.text.as_str(), "h");
        assert!(without_stats.service.name.is_empty());
        with_stats.service.name = crate::app::ServiceName::default();
        assert_eq!(with_stats, without_stats);
        assert_eq!(with_stats.http_requests, 2);
        assert_eq!(with.len(), 2);
        assert!(!with[0].notes.is_empty());
        assert_eq!(with[0].host.as_deref(), Some("h"));
        for (a, b) in with.iter().zip(&without) {
            let mut a = a.clone();
            http::strip_details(&mut a);
            assert_eq!(&a, b);
            assert!(b.method.is_some() && b.uri.is_none() && b.notes.is_empty());
        }
        assert_eq!(without[0].response_body_bytes, Some(4));
        assert_eq!(without[1].request_body_bytes, Some(0));
    }

    #[test]
    fn http_detected_by_content_not_port() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(
            7,
            ToServer,
            b"OPTIONS * HTTP/1.1\r\nHost: odd\r\n\r\n",
            ported(ctx(1, 0), (40000, 8081)),
        );
        t.on_data(7, ToClient, OK0, ctx(2, 1));
        let tx = http(&mut t);
        assert_eq!((tx.len(), tx[0].uri.as_deref()), (1, Some("*")));
        // TLS on port 80 is not HTTP: the GET is inside the 0x200-byte record body.
        let layers = t.feed_segment(
            8,
            ToServer,
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            ported(ctx(3, 2), (40001, 80)),
        );
        assert_eq!(layers.app_of(3), Some(LayerName::Tls));
        let layers = t.feed_segment(8, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(4, 3));
        assert_eq!(layers.app_of(4), Some(LayerName::Tls));
        assert!(t.drain_events().next().is_none());
    }

    #[test]
    fn chunk_size_overflow_is_an_error_not_a_panic() {
        for size in [
            "8000000000000000",
            "10000000000000000",
            "ffffffffffffffffffff",
        ] {
            let mut t = AppTracker::new(AppConfig::default());
            t.on_data(9, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(1, 0));
            let mut resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            resp.extend_from_slice(size.as_bytes());
            resp.extend_from_slice(b"\r\nxyz");
            t.on_data(9, ToClient, &resp, ctx(2, 1));
            let tx = http(&mut t);
            assert_eq!(tx.len(), 1);
            assert_eq!(tx[0].response_body_bytes, Some(0));
            let digit = if size.starts_with('1') { 17 } else { 16 };
            let want = format!(
                "chunked framing error: chunk size overflows 2^63-1 at hex digit {digit} (chunk 1, after 0 body bytes)"
            );
            assert!(has_note(&tx[0], &want), "{:?}", tx[0].notes);
            assert_eq!(t.stats().http.framing_errors, 1);
        }
        // The largest allowed size is accepted (and then cut by the close).
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(9, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(1, 0));
        t.on_data(
            9,
            ToClient,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nxyz",
            ctx(2, 1),
        );
        t.on_close(9);
        let tx = http(&mut t);
        assert_eq!(tx[0].response_body_bytes, Some(3));
    }

    #[test]
    fn oversized_head_gives_up_until_next_head() {
        let mut t = AppTracker::new(AppConfig {
            max_http_head: 64,
            ..AppConfig::default()
        });
        let mut req = b"GET /big HTTP/1.1\r\nX-Long: ".to_vec();
        req.extend_from_slice(&[b'a'; 100]);
        req.extend_from_slice(b"\r\n\r\nGET /small HTTP/1.1\r\n\r\n");
        t.on_data(10, ToServer, &req[..30], ctx(1, 0));
        t.on_data(10, ToServer, &req[30..], ctx(2, 0));
        t.on_data(10, ToClient, OK0, ctx(3, 1));
        t.on_data(10, ToClient, OK0, ctx(3, 1));
        let tx = http(&mut t);
        assert_eq!(t.stats().http.heads_too_large, 1);
        assert_eq!(tx.len(), 2);
        assert_eq!(
            (tx[0].request_frame, tx[0].method.as_deref()),
            (Some(1), None)
        );
        assert!(has_note(
            &tx[0],
            "request head larger than 64 bytes: parser gave up until the next head"
        ));
        assert_eq!(tx[1].uri.as_deref(), Some("/small"));
    }

    /// Found by the adversarial "endless head" capture: a head with more header fields
    /// than httparse is given (128) stopped the direction silently as "not HTTP". It is a
    /// head cap: counted, noted, and the parser waits for the next head.
    #[test]
    fn head_with_too_many_fields_is_a_counted_cut() {
        let mut t = AppTracker::new(AppConfig::default());
        let mut req = b"GET /many HTTP/1.1\r\n".to_vec();
        for i in 0..200 {
            req.extend_from_slice(format!("X-F{i}: v\r\n").as_bytes());
        }
        req.extend_from_slice(b"\r\nGET /next HTTP/1.1\r\n\r\n");
        t.on_data(11, ToServer, &req, ctx(1, 0));
        t.on_data(11, ToClient, OK0, ctx(2, 1));
        t.on_data(11, ToClient, OK0, ctx(3, 1));
        let tx = http(&mut t);
        assert_eq!(t.stats().http.heads_too_large, 1);
        assert_eq!(tx.len(), 2, "{tx:?}");
        assert!(has_note(
            &tx[0],
            "request head with more than 128 header fields: parser gave up until the next head"
        ));
        assert_eq!(tx[1].uri.as_deref(), Some("/next"));
    }

    #[test]
    fn close_reports_unanswered_and_partial() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(
            11,
            ToServer,
            b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
            ctx(1, 0),
        );
        t.on_data(
            11,
            ToClient,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            ctx(2, 1),
        );
        t.on_close(11);
        let tx = http(&mut t);
        assert_eq!(tx.len(), 2);
        assert_eq!(tx[0].response_body_bytes, Some(3));
        assert!(has_note(
            &tx[0],
            "response body incomplete: 7 bytes missing when the sender closed"
        ));
        assert_eq!((tx[1].uri.as_deref(), tx[1].status), (Some("/2"), None));
        assert!(has_note(
            &tx[1],
            "no response seen before the connection ended"
        ));
        let s = t.take_conn_stats(11);
        assert_eq!((s.http_requests, s.http_responses), (2, 1));
    }

    /// id 0x5934, www.tcpdump.org A.
    const QUERY: &[u8] = b"\x59\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
\x03www\x07tcpdump\x03org\x00\x00\x01\x00\x01";

    fn nxdomain(id: u16) -> Vec<u8> {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(
            b"\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00\x07nothere\x07example\x00\x00\x1c\x00\x01",
        );
        m
    }

    #[test]
    fn dns_udp_query_and_nxdomain_with_latency() {
        let mut t = AppTracker::new(AppConfig::default());
        let mut q = 0xbeefu16.to_be_bytes().to_vec();
        q.extend_from_slice(
            b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07nothere\x07example\x00\x00\x1c\x00\x01",
        );
        let layers = t.feed_datagram(20, ToServer, &q, ported(ctx(1, 100), (51000, 53)));
        assert_eq!(layers.app_of(1), Some(LayerName::Dns));
        t.on_datagram(
            20,
            ToClient,
            &nxdomain(0xbeef),
            ported(ctx(2, 112), (53, 51000)),
        );
        let d = dns_events(&mut t);
        assert_eq!(d.len(), 2);
        assert_eq!(
            (d[0].id, d[0].response, d[0].latency_ms, d[0].tcp),
            (0xbeef, false, None, false)
        );
        assert_eq!(
            (d[0].qname.as_str(), d[0].qtype.as_str()),
            ("nothere.example", "AAAA")
        );
        assert_eq!(
            (d[1].frame, d[1].response, d[1].rcode.as_str()),
            (2, true, "NXDOMAIN")
        );
        assert_eq!(d[1].latency_ms, Some(12.0));
        assert!(d[1].answers.is_empty());
        t.on_close(20);
        assert_eq!(t.take_conn_stats(20).dns_messages, 2);
    }

    #[test]
    fn dns_over_tcp_split_across_segments() {
        let mut t = AppTracker::new(AppConfig::default());
        let mut stream = (QUERY.len() as u16).to_be_bytes().to_vec();
        stream.extend_from_slice(QUERY);
        t.on_data(21, ToServer, &stream[..1], ported(ctx(4, 0), (40000, 53)));
        t.on_data(21, ToServer, &stream[1..20], ported(ctx(5, 1), (40000, 53)));
        assert!(dns_events(&mut t).is_empty());
        let layers = t.feed_segment(21, ToServer, &stream[20..], ctx(6, 2));
        let d = dns_events(&mut t);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].frame, d[0].id, d[0].tcp), (4, 0x5934, true));
        assert_eq!(d[0].qname, "www.tcpdump.org");
        assert_eq!(layers.app_of(6), Some(LayerName::Dns));
        // Without port information, a whole clean message in the first segment is DNS.
        let mut t = AppTracker::new(AppConfig::default());
        let mut two = stream.clone();
        two.extend_from_slice(&stream);
        t.on_data(22, ToServer, &two, ctx(7, 0));
        assert_eq!(dns_events(&mut t).len(), 2);
    }

    #[test]
    fn truncated_dns() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_datagram(23, ToServer, &QUERY[..20], ported(ctx(1, 0), (5353, 5353)));
        let layers = t.feed_datagram(23, ToServer, &QUERY[..11], ported(ctx(2, 0), (5353, 5353)));
        let d = dns_events(&mut t);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].id, d[0].response, d[0].qname.as_str()),
            (0x5934, false, "")
        );
        assert_eq!(layers.app_of(2), None);
        // Off the DNS ports, a truncated message is not taken for DNS.
        t.on_datagram(24, ToServer, &QUERY[..20], ported(ctx(3, 0), (4000, 4001)));
        t.on_datagram(24, ToServer, b"hello world, not dns", ctx(4, 0));
        assert!(dns_events(&mut t).is_empty());
        // … but a clean one is, and then the flow's other messages are too.
        t.on_datagram(24, ToServer, QUERY, ctx(5, 0));
        t.on_datagram(24, ToServer, &QUERY[..20], ctx(6, 0));
        assert_eq!(dns_events(&mut t).len(), 2);
    }

    #[test]
    fn response_to_a_request_that_is_not_http_is_kept() {
        let mut t = AppTracker::new(AppConfig::default());
        // "GET/" is no known method (tshark does not take it for HTTP either).
        let request = t.feed_segment(30, ToServer, b"GET/ HTTP/1.1\r\n\r\n", ctx(14, 0));
        let response = t.feed_segment(
            30,
            ToClient,
            b"HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad",
            ctx(16, 1),
        );
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        assert_eq!(
            (tx[0].request_frame, tx[0].response_frame, tx[0].status),
            (None, Some(16), Some(400))
        );
        assert!(has_note(
            &tx[0],
            "response without a request seen (request lost or before the capture)"
        ));
        assert_eq!(request.app_of(14), None);
        assert_eq!(response.app_of(16), Some(LayerName::Http));
    }

    /// Request lines from zeek's methods.pcap that tshark 4.0 still reads as requests
    /// (method, uri, version as its http.request.* fields show them), and two it does not.
    #[test]
    fn lax_request_lines_read_as_tshark_does() {
        type Want<'a> = Option<(&'a str, &'a str, Option<&'a str>)>;
        let cases: [(&[u8], Want, &str); 7] = [
            (
                b"OPTIONS HTTP/1.1\nHost: www.google.com\n\n",
                Some(("OPTIONS", "HTTP/1.1", None)),
                "malformed request line (no HTTP version): read leniently, as tshark does",
            ),
            (
                b"OPTIONS\nHost: www.google.com\n\n",
                Some(("OPTIONS", "", None)),
                "malformed request line (no request target and no HTTP version): read leniently, as tshark does",
            ),
            (
                b"GET / HTTP/1.\nHost: www.google.com\n\n",
                Some(("GET", "/", Some("HTTP/1."))),
                "malformed request line (invalid HTTP version \"HTTP/1.\"): read leniently, as tshark does",
            ),
            (
                b"CCM_POST /HTTP/1.1\nHost: www.google.com\n\n",
                Some(("CCM_POST", "/HTTP/1.1", None)),
                "malformed request line (no HTTP version): read leniently, as tshark does",
            ),
            (
                b"GET  /x HTTP/1.1\r\nHost: h\r\n\r\n",
                Some(("GET", "/x", Some("HTTP/1.1"))),
                "malformed request line (extra spaces): read leniently, as tshark does",
            ),
            (b"OPTIONSHTTP/1.1\nHost: www.google.com\n\n", None, ""),
            (b"GET /\x01\x02 HTTP/1.1\r\n\r\n", None, ""),
        ];
        for (i, (req, want, note)) in cases.into_iter().enumerate() {
            let mut t = AppTracker::new(AppConfig::default());
            let conn = 40 + i as u64;
            // Fed in two pieces: the line's end decides, not the first segment.
            t.on_data(conn, ToServer, &req[..5], ctx(1, 0));
            t.on_data(conn, ToServer, &req[5..], ctx(2, 0));
            t.on_data(conn, ToClient, OK0, ctx(3, 1));
            let tx = http(&mut t);
            assert_eq!(tx.len(), 1, "case {i}");
            let got = tx[0]
                .method
                .as_deref()
                .map(|m| (m, tx[0].uri.as_deref().unwrap(), tx[0].version.as_deref()));
            assert_eq!(got, want, "case {i}");
            assert_eq!(tx[0].status, Some(200));
            if want.is_some() {
                assert_eq!(tx[0].request_frame, Some(1));
                assert!(has_note(&tx[0], note), "case {i}: {:?}", tx[0].notes);
            }
        }
    }

    /// zeek's tcp.pcap (snap length 96): frame 4 carries 30 of the request's 496 bytes,
    /// frame 6 30 of the response's 1448; the acks then make the rest gaps. tshark still
    /// shows GET /images/sf.net_box.gif and 200.
    #[test]
    fn heads_cut_by_the_snap_length_keep_their_first_line() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(0, ToServer, b"GET /images/sf.net_box.gif HTT", ctx(4, 145));
        t.on_gap(0, ToServer, 466, ctx(5, 289));
        assert!(http(&mut t).is_empty());
        t.on_data(
            0,
            ToClient,
            b"HTTP/1.1 200 OK\r\nDate: Tue, 16",
            ctx(6, 292),
        );
        t.on_gap(0, ToClient, 1418, ctx(7, 292));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        let tx = &tx[0];
        assert_eq!(
            (tx.request_frame, tx.response_frame, tx.latency_ms),
            (Some(4), Some(6), Some(147.0))
        );
        assert_eq!(
            (
                tx.method.as_deref(),
                tx.uri.as_deref(),
                tx.version.as_deref()
            ),
            (Some("GET"), Some("/images/sf.net_box.gif"), None)
        );
        assert_eq!((tx.status, tx.reason.as_deref()), (Some(200), Some("OK")));
        assert_eq!(tx.response_body_bytes, None);
        assert_eq!(
            tx.notes,
            vec![
                "request head cut by a gap of 466 bytes after 30 bytes: kept what its first line says",
                "response head cut by a gap of 1418 bytes after 30 bytes: kept what its first line says"
            ]
        );
        t.on_close(0);
        let s = t.take_conn_stats(0);
        assert_eq!((s.http_requests, s.http_responses), (1, 1));
        // A status line cut at the close (no gap) is kept too; a bare method is not enough.
        t.on_data(1, ToClient, b"HTTP/1.0 404 Not Fo", ctx(8, 0));
        t.on_data(2, ToServer, b"GET ", ctx(9, 0));
        t.on_close(1);
        t.on_close(2);
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        assert_eq!(
            (tx[0].conn, tx[0].status, tx[0].reason.as_deref()),
            (1, Some(404), Some("Not Fo"))
        );
        assert!(has_note(
            &tx[0],
            "response head cut by the close after 19 bytes: kept what its first line says"
        ));
    }

    /// An SSDP search (pcapplusplus many-protocols.pcap, frame 30) and a reply.
    #[test]
    fn http_over_udp_one_datagram_one_message() {
        let mut t = AppTracker::new(AppConfig::default());
        let layers = t.feed_datagram(
            60,
            ToServer,
            b"M-SEARCH * HTTP/1.1\r\nHOST: [FF02::C]:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 3\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n",
            ported(ctx(30, 0), (50000, 1900)),
        );
        assert_eq!(layers.app_of(30), Some(LayerName::Http));
        t.on_datagram(
            61,
            ToClient,
            b"HTTP/1.1 200 OK\r\nST: upnp:rootdevice",
            ctx(31, 5),
        );
        // Not HTTP, not DNS: nothing.
        t.on_datagram(60, ToServer, b"M-SEARCH", ctx(32, 6));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 2);
        assert_eq!(
            (
                tx[0].conn,
                tx[0].index,
                tx[0].request_frame,
                tx[0].response_frame
            ),
            (60, 1, Some(30), None)
        );
        assert_eq!(
            (
                tx[0].method.as_deref(),
                tx[0].uri.as_deref(),
                tx[0].version.as_deref(),
                tx[0].host.as_deref()
            ),
            (
                Some("M-SEARCH"),
                Some("*"),
                Some("HTTP/1.1"),
                Some("[FF02::C]:1900")
            )
        );
        assert_eq!(
            tx[0].notes,
            vec!["HTTP over UDP (e.g. SSDP): one datagram is one message, requests and responses not paired"]
        );
        assert_eq!(
            (
                tx[1].conn,
                tx[1].response_frame,
                tx[1].status,
                tx[1].method.as_deref()
            ),
            (61, Some(31), Some(200), None)
        );
        assert!(has_note(
            &tx[1],
            "head not complete in the datagram (36 bytes): kept what its first line says"
        ));
        t.on_close(60);
        let s = t.take_conn_stats(60);
        assert_eq!(
            (s.http_requests, s.http_responses, s.dns_messages),
            (1, 0, 0)
        );
    }

    /// many-protocols.pcap stream 34: "Access-Control-Allow-Credentials : true" (a space
    /// before the colon) made the strict parser stop the direction; tshark reads it.
    #[test]
    fn space_before_colon_in_a_response_head_is_read_leniently() {
        let mut t = AppTracker::new(AppConfig::default());
        t.on_data(
            70,
            ToServer,
            b"GET /dmp.js?c=17 HTTP/1.1\r\n\r\n",
            ctx(735, 0),
        );
        t.on_data(
            70,
            ToClient,
            b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Credentials : true\r\nContent-Length: 3\r\n\r\nabc",
            ctx(772, 30),
        );
        t.on_data(70, ToServer, b"GET /2 HTTP/1.1\r\n\r\n", ctx(781, 40));
        t.on_data(70, ToClient, OK0, ctx(801, 50));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 2);
        assert_eq!(
            (
                tx[0].status,
                tx[0].response_frame,
                tx[0].response_body_bytes
            ),
            (Some(200), Some(772), Some(3))
        );
        assert!(
            has_note(
                &tx[0],
                "response head not strictly valid (invalid header name): parsed leniently, as tshark does"
            ),
            "{:?}",
            tx[0].notes
        );
        assert_eq!(
            (tx[1].uri.as_deref(), tx[1].status),
            (Some("/2"), Some(200))
        );
    }

    #[test]
    fn arbitrary_bytes_and_gaps_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let seeds: [&[u8]; 3] = [
            CHUNKED,
            b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
            QUERY,
        ];
        let mut t = AppTracker::new(AppConfig {
            max_http_head: 256,
            ..AppConfig::default()
        });
        for round in 0..3000u64 {
            let conn = round % 7;
            let seed = seeds[(next() % 3) as usize];
            let mut buf = seed.to_vec();
            for _ in 0..(next() % 4) {
                let i = (next() as usize) % buf.len();
                buf[i] = next() as u8;
            }
            let cut = (next() as usize) % (buf.len() + 1);
            let dir = if next() % 2 == 0 { ToServer } else { ToClient };
            match next() % 10 {
                0 => t.on_gap(conn, dir, next() % 5000, ctx(round, 0)),
                1 => t.on_fin(conn, dir, ctx(round, 0)),
                2 => t.on_close(conn),
                3 => t.on_datagram(conn + 100, dir, &buf[..cut], ctx(round, 0)),
                _ => t.on_data(conn, dir, &buf[..cut], ctx(round, 0)),
            }
            let _ = t.drain_events().count();
        }
        for c in 0..7 {
            t.on_close(c);
        }
    }
}
