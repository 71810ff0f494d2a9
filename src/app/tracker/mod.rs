//! The app stage: per-connection application state, fed by the flow stage's stream data
//! (as [`StreamSink`](crate::flow::StreamSink)'s calls are), returning what each call found.
//! Here the stage itself and its calls; beside it, which parser a connection gets
//! (`classify`), a connection's state (`conn_app`: it lives in the flow table's slot and
//! comes with each call), and each protocol's feeding (`http_feed`, `dns_feed`,
//! `tls_feed`, `quic_feed`).

mod classify;
mod conn_app;
mod dns_feed;
mod http_feed;
mod quic_feed;
mod tls_feed;

use super::dns::{self, Decoded};
use super::http::{HttpConn, HttpStats};
use super::quic;
use super::slab::Slab;
use super::tls::{starts_like_client_hello, TlsStats};
use super::*;
use super::{FrameLayers, FrameNames};
use crate::decode::LayerName;
use crate::flow::{ConnId, SegmentCtx, StreamId};
pub use conn_app::ConnApp;
use conn_app::Kind;
use dns_feed::emit_dns;
use http_feed::{free_http, http_out, http_service};
use tls_feed::{tls_conn, tls_conn_stats, tls_messages, tls_out};

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
    /// TLS directions given up and handshake bytes not parsed.
    pub tls: TlsStats,
    /// Datagrams on a QUIC flow that parse as neither a long nor a short header.
    pub quic_unparsed: u64,
    /// QUIC Initial packets opened or not, CRYPTO bytes cut.
    pub quic_hello: quic::hello::QuicHelloStats,
}

/// The app stage: recognises HTTP/1.x and DNS in what the flow stage delivers. Each call
/// comes with the connection's state ([`ConnApp`], kept in the flow table's slot) and
/// returns what it found in that call's data as values: the packet's application layers
/// ([`FrameLayers`]) and the events it completed, appended to the caller's `events`
/// buffer (reused by the caller: no allocation per packet).
pub struct AppTracker {
    config: AppConfig,
    /// Queries pending over all connections.
    dns_pending_total: usize,
    dns_found: Vec<(Decoded, SegmentCtx)>,
    /// HTTP states of the connections, by the index in `Kind::Http`. One that ends is
    /// reset and its entry reused by a next connection: no allocation per connection once
    /// the slab holds as many as were ever open at once (which the flow table bounds).
    http: Slab<HttpConn>,
    stats: AppStats,
}

impl AppTracker {
    pub fn new(config: AppConfig) -> AppTracker {
        AppTracker {
            config,
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
    /// `on_data` for a new connection, one that is not HTTP, or HTTP turning into TLS.
    #[inline(never)]
    fn other_data(
        &mut self,
        at: StreamId,
        state: &mut ConnApp,
        data: &[u8],
        ctx: SegmentCtx,
        events: &mut Vec<AppEvent>,
    ) -> FrameLayers {
        let StreamId { conn, dir } = at;
        if let Kind::Undecided | Kind::Datagrams | Kind::Quic(_) = state.kind {
            // The ports matter only while the kind is being decided (a decided TCP
            // connection never reads `dns_port` again).
            state.dns_port |= classify::ports_say_dns(&ctx);
            state.kind = classify::stream_kind(
                &self.config,
                &mut self.http,
                conn,
                state.dns_port,
                data,
                &ctx,
            );
        }
        let mut layer = None;
        let mut inner = None;
        let mut frames = FrameNames::NONE;
        let mut dns_decrypted = false;
        if matches!(state.kind, Kind::HttpEnded)
            && data.first() == Some(&0x16)
            && starts_like_client_hello(data)
        {
            // As below for an HTTP connection, whose state was closed already.
            state.kind = Kind::Tls(Box::new(tls_conn(&self.config, &ctx)));
        }
        if let Kind::Http(i) = state.kind {
            let Some(h) = self.http.get_mut(i) else {
                return FrameLayers::NONE;
            };
            let mut out = http_out(conn, &self.config, &mut *events, &mut self.stats.http);
            // A ClientHello at a chunk start of a connection that began as something else
            // (after an HTTP CONNECT, a database's TLS request, a STARTTLS): TLS from here.
            if data.first() == Some(&0x16) && starts_like_client_hello(data) {
                h.close(&mut out);
                state.stats.http_requests = h.requests;
                state.stats.http_responses = h.responses;
                http_service(&mut state.stats.service, h);
                free_http(&mut self.http, i);
                state.kind = Kind::Tls(Box::new(tls_conn(&self.config, &ctx)));
            } else {
                if h.on_data(dir.index(), data, ctx, &mut out) {
                    // (The counters are copied into `state.stats` when the connection ends.)
                    layer = Some(LayerName::Http);
                }
                if h.h2c_upgrade.is_some() {
                    self.switch_to_h2c(conn, state, events);
                    return FrameLayers::found(ctx.frame, layer, None);
                }
            }
        }
        match &mut state.kind {
            Kind::Http(_) | Kind::HttpEnded => {}
            Kind::DnsTcp(dirs) => {
                if dirs[dir.index()].feed(data, ctx, &mut self.dns_found) {
                    layer = Some(LayerName::Dns);
                }
            }
            Kind::Tls(t) => {
                let mut out = tls_out(conn, &mut *events, &mut self.stats, &self.config);
                let before = out.events.len();
                if t.on_data(dir, data, ctx, &mut out) {
                    layer = Some(LayerName::Tls);
                }
                inner = out.inner_layer;
                frames = out.inner_frames;
                tls_messages(&mut state.stats, &events[before..]);
                tls_conn_stats(&mut state.stats, t);
                // DNS over TLS: matched as DNS over TCP is (below), marked decrypted.
                dns_decrypted = t.take_dns(&mut self.dns_found);
            }
            Kind::Http2(h) => {
                let mut o = super::http2::H2Out {
                    conn,
                    events: &mut *events,
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
                &mut *events,
                &mut self.stats,
                &mut self.dns_pending_total,
                self.config.max_pending_dns,
                state,
                conn,
                m,
                start,
                true,
            );
            if let (true, Some(AppEvent::Dns(d))) = (dns_decrypted, events.last_mut()) {
                d.decrypted = true;
            }
        }
        self.dns_found = found;
        FrameLayers::found(ctx.frame, layer, inner).with_frames(frames)
    }

    /// In-order TCP bytes of one direction (see [`StreamSink::on_data`](crate::flow::StreamSink::on_data)); returns the
    /// application layer they showed, for the packet's layer list.
    pub fn feed_segment(
        &mut self,
        at: StreamId,
        state: &mut ConnApp,
        data: &[u8],
        ctx: SegmentCtx,
        events: &mut Vec<AppEvent>,
    ) -> FrameLayers {
        let StreamId { conn, dir } = at;
        let Some(&first) = data.first() else {
            return FrameLayers::NONE;
        };
        // The common case in few instructions: a segment of a connection carrying HTTP
        // that does not switch to TLS.
        if let Kind::Http(http) = state.kind {
            if let Some(h) = self.http.get_mut(http) {
                if first != 0x16 || !starts_like_client_hello(data) {
                    let mut out = http_out(conn, &self.config, &mut *events, &mut self.stats.http);
                    // (The counters are copied into `ConnApp::stats` when the connection
                    // ends.)
                    let carried = h.on_data(dir.index(), data, ctx, &mut out);
                    let upgraded = h.h2c_upgrade.is_some();
                    if upgraded {
                        self.switch_to_h2c(conn, state, events);
                    }
                    return FrameLayers::found(ctx.frame, carried.then_some(LayerName::Http), None);
                }
            }
        }
        self.other_data(at, state, data, ctx, events)
    }

    /// One UDP datagram's payload (see [`StreamSink::on_datagram`](crate::flow::StreamSink::on_datagram)); returns the application
    /// layer it showed, for the packet's layer list.
    pub fn feed_datagram(
        &mut self,
        at: StreamId,
        state: &mut ConnApp,
        data: &[u8],
        ctx: SegmentCtx,
        events: &mut Vec<AppEvent>,
    ) -> FrameLayers {
        let conn = at.conn;
        // DNS on ports 53, 5353 and 5355 is trusted without further proof; elsewhere a
        // message must parse cleanly.
        let port_dns = classify::ports_say_dns(&ctx);
        let quic_known = matches!(state.kind, Kind::Quic(_));
        if quic_known || (state.undecided() && classify::starts_quic_flow(port_dns, data)) {
            let (quic, http3, frames) = self.feed_quic(at, state, data, ctx, events);
            return FrameLayers::found(
                ctx.frame,
                quic.then_some(LayerName::Quic),
                http3.then_some(LayerName::Http3),
            )
            .with_frames(frames);
        }
        let dns_known = state.dns_port || state.dns_seen;
        if classify::may_be_udp_http(port_dns, dns_known, data) {
            let state = state.kind_or(|| Kind::Datagrams);
            if http_feed::udp_http(&self.config, state, conn, data, ctx, events) {
                return FrameLayers::found(ctx.frame, Some(LayerName::Http), None);
            }
        }
        let Some(m) = dns::decode(data) else {
            return FrameLayers::NONE;
        };
        let known = state.dns_port || state.dns_seen;
        if !classify::takes_as_dns(port_dns, known, &m) {
            return FrameLayers::NONE;
        }
        let state = state.kind_or(|| Kind::Datagrams);
        state.dns_port |= port_dns;
        emit_dns(
            &mut *events,
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

    /// `len` bytes of one direction were never captured (see [`StreamSink::on_gap`](crate::flow::StreamSink::on_gap)); the
    /// events this completes (a TLS record cut, say) go to `events`.
    pub fn on_gap(
        &mut self,
        at: StreamId,
        state: &mut ConnApp,
        len: u64,
        events: &mut Vec<AppEvent>,
    ) {
        let StreamId { conn, dir } = at;
        match &mut state.kind {
            Kind::Http(i) => {
                let Some(h) = self.http.get_mut(*i) else {
                    return;
                };
                let mut out = http_out(conn, &self.config, &mut *events, &mut self.stats.http);
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
                let mut out = tls_out(conn, &mut *events, &mut self.stats, &self.config);
                let before = out.events.len();
                t.on_gap(dir, &mut out);
                tls_messages(&mut state.stats, &events[before..]);
            }
            Kind::Http2(h) => h.on_gap(dir),
            Kind::HttpEnded | Kind::Undecided | Kind::Datagrams | Kind::Quic(_) => {}
        }
    }

    /// A direction ended with a FIN (see [`StreamSink::on_fin`](crate::flow::StreamSink::on_fin)): a close-delimited body's
    /// transaction completes into `events`.
    pub fn on_fin(&mut self, at: StreamId, state: &mut ConnApp, events: &mut Vec<AppEvent>) {
        let StreamId { conn, dir } = at;
        let Kind::Http(http) = state.kind else {
            return;
        };
        let Some(h) = self.http.get_mut(http) else {
            return;
        };
        let mut out = http_out(conn, &self.config, &mut *events, &mut self.stats.http);
        h.on_fin(dir.index(), &mut out);
        if h.ended_quietly() {
            // What `on_close` would do, now, while the state is in the cache: closing it
            // emits nothing (see `HttpConn::ended_quietly`), and its entry goes to the next
            // connection instead of waiting out the linger.
            state.stats.http_requests = h.requests;
            state.stats.http_responses = h.responses;
            http_service(&mut state.stats.service, h);
            free_http(&mut self.http, http);
            state.kind = Kind::HttpEnded;
        }
    }

    /// The connection leaves the flow table (see [`StreamSink::on_close`](crate::flow::StreamSink::on_close)): what its parsers
    /// still held completes into `events`; its counters are then complete in `state`
    /// ([`ConnApp::take_stats`]), which goes on with the connection's summary.
    pub fn on_close(&mut self, conn: ConnId, state: &mut ConnApp, events: &mut Vec<AppEvent>) {
        match &mut state.kind {
            Kind::Http(i) => {
                let i = *i;
                if let Some(h) = self.http.get_mut(i) {
                    let mut out = http_out(conn, &self.config, &mut *events, &mut self.stats.http);
                    h.close(&mut out);
                    state.stats.http_requests = h.requests;
                    state.stats.http_responses = h.responses;
                    http_service(&mut state.stats.service, h);
                }
                free_http(&mut self.http, i);
                // (Its entry in `http` is another connection's from now on.)
                state.kind = Kind::Undecided;
            }
            Kind::HttpEnded => state.kind = Kind::Undecided,
            Kind::Tls(t) => {
                let mut out = tls_out(conn, &mut *events, &mut self.stats, &self.config);
                let before = out.events.len();
                t.close(&mut out);
                tls_messages(&mut state.stats, &events[before..]);
                tls_conn_stats(&mut state.stats, t);
            }
            Kind::Quic(Some(q)) => {
                q.hello.close(&mut self.stats.quic_hello);
                if let Some(s) = q.session.as_mut() {
                    let mut out = quic::session::SessionOut {
                        conn,
                        events: &mut *events,
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
                    events: &mut *events,
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
        state.dns_pending = Default::default();
    }
}

#[cfg(test)]
mod tests;
