//! The app stage's per-connection states: which parser a connection has (`Kind`), its
//! counters and DNS queries waiting (`ConnApp`), and where they are: a map from the
//! connection's id to an index into a slab of states reused once their connection ended.

use crate::app::slab::Slab;
use crate::app::{dns, http2, quic, tls::TlsConn, AppConnStats};
use crate::capture::Timestamp;
use crate::flow::ConnId;
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;

/// Which parser a connection has (decided in `classify`).
#[derive(Debug)]
pub(super) enum Kind {
    /// No payload seen yet.
    Undecided,
    /// Index of the connection's state in `AppTracker::http`.
    Http(u32),
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

/// A connection's application state.
#[derive(Debug)]
pub(super) struct ConnApp {
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

    /// Makes this entry what `ConnApp::new(Kind::Undecided)` makes, for a next
    /// connection (the fields written only when they changed).
    pub(super) fn reset(&mut self) {
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
pub(super) struct Slot {
    pub(super) app: u32,
    /// [`NO_HTTP`] when the connection is not HTTP.
    pub(super) http: u32,
}

/// `Slot::http` of a connection that is not HTTP.
pub(super) const NO_HTTP: u32 = u32::MAX;

/// The connections' states: the map holds only an index into `apps` (a lookup and a
/// resize touch small entries), `apps` the states, reused once their connection ended
/// (no allocation per connection in steady state).
pub(super) struct Conns {
    pub(super) index: FxHashMap<ConnId, Slot>,
    /// The connection looked up last and its slot: most segments follow one of the same
    /// connection (a burst of the server's), and skip the hash lookup. Kept equal to
    /// the map's entry (every change of `index` goes through `Conns`).
    pub(super) last: Option<(ConnId, Slot)>,
    /// Entries of ended connections are reset when released.
    pub(super) apps: Slab<ConnApp>,
}

impl Conns {
    pub(super) fn new() -> Conns {
        Conns {
            index: FxHashMap::default(),
            last: None,
            apps: Slab::new(),
        }
    }

    pub(super) fn get(&self, conn: ConnId) -> Option<&ConnApp> {
        let slot = self.index.get(&conn)?;
        self.apps.get(slot.app)
    }

    pub(super) fn get_mut(&mut self, conn: ConnId) -> Option<&mut ConnApp> {
        let slot = self.index.get(&conn)?;
        self.apps.get_mut(slot.app)
    }

    /// The slot of `conn`, if it has one.
    #[inline]
    pub(super) fn slot(&mut self, conn: ConnId) -> Option<Slot> {
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
    pub(super) fn set_http(
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
    pub(super) fn remove(&mut self, conn: ConnId) -> Option<Slot> {
        if matches!(self.last, Some((c, _)) if c == conn) {
            self.last = None;
        }
        self.index.remove(&conn)
    }

    pub(super) fn contains(&self, conn: ConnId) -> bool {
        self.index.contains_key(&conn)
    }

    /// The state of `conn`, made (of kind `kind()`) when it has none; None only when
    /// the slab is out of indices (more than 2^32 connections at once).
    pub(super) fn get_or_insert(
        &mut self,
        conn: ConnId,
        kind: impl FnOnce() -> Kind,
    ) -> Option<&mut ConnApp> {
        let i = self.app_or_insert(conn, kind)?;
        self.apps.get_mut(i)
    }

    /// The entry in `apps` of `conn`, made (of kind `kind()`) when it has none.
    pub(super) fn app_or_insert(
        &mut self,
        conn: ConnId,
        kind: impl FnOnce() -> Kind,
    ) -> Option<u32> {
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
