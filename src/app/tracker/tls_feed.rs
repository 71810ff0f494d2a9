//! A TLS connection's parser as the app stage feeds it: made with the key log and the
//! port that says DNS over TLS, written to through `TlsOut`, its events and summary copied
//! into the connection's counters.

use super::{AppConfig, AppStats};
use crate::app::tls::{TlsConn, TlsOut};
use crate::app::{AppConnStats, AppEvent, ConnService, FrameNames};
use crate::flow::{ConnId, SegmentCtx};

/// A TLS connection's state; port 853 (DNS over TLS) among the connection's ports says
/// what its plaintext is.
pub(super) fn tls_conn(config: &AppConfig, ctx: &SegmentCtx) -> TlsConn {
    let mut t = TlsConn::with_keylog(config.keylog.as_ref(), config.record_watch.as_ref());
    if ctx.ports.is_some_and(|(c, s)| c == 853 || s == 853) {
        t.set_dot_port();
    }
    t
}

/// What a connection's TLS state writes to when fed: its events, the stage's counters.
pub(super) fn tls_out<'a>(
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

/// What the TLS events just queued say about their connection: its service, its TLS
/// summary.
pub(super) fn tls_messages(stats: &mut AppConnStats, events: &[AppEvent]) {
    for e in events {
        if let AppEvent::Tls(t) = e {
            stats.service.tls_message(t);
            stats.tls.get_or_insert_with(Default::default).add(t);
        }
    }
}

/// Copies a TLS connection's summary into its counters.
pub(super) fn tls_conn_stats(stats: &mut AppConnStats, t: &TlsConn) {
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
