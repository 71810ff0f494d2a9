//! HTTP/1.x connections as the app stage feeds them: their states in a slab reused across
//! connections, written to through `Out`, their counters into the connection's service;
//! the switch to HTTP/2 after an `Upgrade: h2c`; HTTP messages in UDP datagrams (SSDP).

use super::conn_app::{ConnApp, Kind};
use super::{AppConfig, AppTracker};
use crate::app::http::{self, datagram_message, HttpConn, HttpStats, Out};
use crate::app::slab::Slab;
use crate::app::{http2, AppEvent, ConnService};
use crate::flow::{ConnId, SegmentCtx};

/// Reset HTTP states that keep the room of their buffers for the next connection.
const MAX_SPARE_HTTP: usize = 64;

/// Gives entry `i` of `http` back (its connection ended and `HttpConn::close` ran, or both
/// its directions ended with nothing left to emit, see `AppTracker::on_fin`): only
/// its buffers are trimmed now, while its lines are in the cache; the rest is reset when
/// a next connection takes it ([`new_http`]).
pub(super) fn free_http(http: &mut Slab<HttpConn>, i: u32) {
    let keep_room = http.released() < MAX_SPARE_HTTP;
    if let Some(h) = http.get_mut(i) {
        h.release_room(keep_room);
        http.release(i);
    }
}

/// An HTTP state for a new connection: a given-back entry, reset, else a new one.
pub(super) fn new_http(http: &mut Slab<HttpConn>) -> u32 {
    let (i, reused) = http.alloc(HttpConn::new);
    if let Some(h) = http.get_mut(i).filter(|_| reused) {
        h.reset(true);
    }
    i
}

/// An HTTP connection's requests and first Host, into its service.
pub(super) fn http_service(service: &mut ConnService, h: &HttpConn) {
    if h.requests > 0 || h.responses > 0 {
        service.kinds |= ConnService::HTTP;
        if service.name.is_empty() {
            service.name = h.host;
        }
    }
}

/// What a connection's HTTP state writes to when fed: its events, the HTTP counters.
pub(super) fn http_out<'a>(
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

/// One datagram of `state`'s flow read as an HTTP message (SSDP): its event, counted in the
/// connection's requests or responses; false when it is not one.
pub(super) fn udp_http(
    config: &AppConfig,
    state: &mut ConnApp,
    conn: ConnId,
    data: &[u8],
    ctx: SegmentCtx,
    events: &mut Vec<AppEvent>,
) -> bool {
    let index = state.udp_http.saturating_add(1);
    let Some(mut tx) = datagram_message(conn, index, data, ctx) else {
        return false;
    };
    state.udp_http = index;
    if tx.method.is_some() {
        state.stats.http_requests += 1;
    } else {
        state.stats.http_responses += 1;
    }
    if !config.http_details {
        http::strip_details(&mut tx);
    }
    events.push(AppEvent::Http(tx));
    true
}

impl AppTracker {
    /// An HTTP/1.1 connection whose `Upgrade: h2c` request was answered by 101: HTTP/2
    /// from here, the upgrade request as stream 1's (RFC 7540 §3.2).
    #[inline(never)]
    pub(super) fn switch_to_h2c(
        &mut self,
        conn: ConnId,
        state: &mut ConnApp,
        events: &mut Vec<AppEvent>,
    ) {
        let Kind::Http(i) = state.kind else {
            return;
        };
        let Some(h) = self.http.get_mut(i) else {
            return;
        };
        let Some(request) = h.h2c_upgrade.take() else {
            return;
        };
        let mut out = http_out(conn, &self.config, &mut *events, &mut self.stats.http);
        h.close(&mut out);
        http_service(&mut state.stats.service, h);
        free_http(&mut self.http, i);
        state.kind = Kind::Http2(Box::new(
            http2::Http2Conn::upgraded(&request).configured(&self.config, conn),
        ));
    }
}
