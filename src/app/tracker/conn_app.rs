//! The app stage's state of one connection: which parser it has (`Kind`), its counters and
//! DNS queries waiting (`ConnApp`). It lives in the flow table's slot of its connection
//! (`FlowTracker<ConnApp>`), which hands it to the app stage with the connection's stream
//! data and on with the connection's summary when it ends.

use crate::app::{dns, http2, quic, tls::TlsConn, AppConnStats};
use crate::capture::Timestamp;
use rustc_hash::FxHashMap;

/// Which parser a connection has (decided in `classify`).
#[derive(Debug)]
pub(super) enum Kind {
    /// No payload seen yet.
    Undecided,
    /// Index of the connection's state in `AppTracker::http`.
    Http(u32),
    /// An HTTP/1.x connection whose directions both ended with nothing left to emit: its
    /// counters are in `ConnApp::stats` and its state went back to the slab at the second
    /// FIN, while the connection may still linger in the flow table (late ACKs, a
    /// retransmission) for seconds; see `AppTracker::on_fin`.
    HttpEnded,
    DnsTcp(Box<[dns::DnsTcpDir; 2]>),
    /// A TCP stream that started with a TLS handshake record.
    Tls(Box<TlsConn>),
    /// A cleartext TCP stream whose client began with the HTTP/2 connection preface (h2c
    /// by prior knowledge).
    Http2(Box<http2::Http2Conn>),
    /// UDP datagrams (DNS when they parse as DNS).
    Datagrams,
    /// A UDP flow whose first datagram was a QUIC long-header packet; its Initial-packet
    /// state from the first Initial of a version with known protection.
    Quic(Option<Box<quic::QuicConn>>),
}

/// A connection's application state (see the module docs).
#[derive(Debug)]
pub struct ConnApp {
    pub(super) kind: Kind,
    /// One side uses a DNS port.
    pub(super) dns_port: bool,
    /// A DNS message was recognised on this connection.
    pub(super) dns_seen: bool,
    pub(super) stats: AppConnStats,
    /// Queries waiting for their response: id → query time.
    pub(super) dns_pending: FxHashMap<u16, Timestamp>,
    /// HTTP messages seen in UDP datagrams (SSDP).
    pub(super) udp_http: u32,
}

impl Default for ConnApp {
    /// A connection whose payload was not seen yet.
    fn default() -> ConnApp {
        ConnApp::new(Kind::Undecided)
    }
}

impl ConnApp {
    pub(super) fn new(kind: Kind) -> ConnApp {
        ConnApp {
            kind,
            dns_port: false,
            dns_seen: false,
            stats: AppConnStats::default(),
            dns_pending: FxHashMap::default(),
            udp_http: 0,
        }
    }

    /// Takes the connection's counters (complete once the app stage's `on_close` ran).
    pub fn take_stats(&mut self) -> AppConnStats {
        std::mem::take(&mut self.stats)
    }

    /// No datagram of this (UDP) flow was recognised yet.
    pub(super) fn undecided(&self) -> bool {
        matches!(self.kind, Kind::Undecided)
    }

    /// This state, given kind `kind()` if it has none yet.
    pub(super) fn kind_or(&mut self, kind: impl FnOnce() -> Kind) -> &mut ConnApp {
        if self.undecided() {
            self.kind = kind();
        }
        self
    }
}
