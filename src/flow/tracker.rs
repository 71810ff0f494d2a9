//! The connection table: one entry per TCP connection or UDP flow, keyed by the canonical
//! 5-tuple (both directions one flow) in an `FxHashMap`, bounded by `FlowConfig.max_flows`.
//!
//! # Roles
//! TCP: the sender of the first SYN without ACK is the client. Without one, the sender of a
//! SYN-ACK is the server; otherwise the well-known port (< 1024) is the server's, else the
//! lower port, else the first sender is the client; `roles_guessed` is set in these cases
//! (and cleared if the client's SYN turns up later, as with a reordered handshake).
//! UDP: the first sender is the client, unless its own port is well-known and the other
//! port is not (a DNS answer seen first: port 53 is still the server).
//!
//! # Connection ids and port reuse
//! Ids count from 0 in order of each flow's first packet. A SYN without ACK starts a new
//! connection on the same 4-tuple (the old one ends with [`EndReason::Reused`], the SYN gets
//! `reused_ports`) when the old connection saw a FIN or RST, or when its sequence base in
//! the SYN's direction differs from the SYN's seq (tshark's `tcp.stream` split rule: the base
//! is the previous SYN's ISN, or first seq − 1 without a SYN). A retransmitted SYN with the
//! same ISN stays in its connection. UDP: tshark's `udp.stream` is one per 5-tuple for the
//! whole file; our UDP flows end after `udp_idle_ns` (60 s by default) without a packet, so
//! a 5-tuple silent for longer gets a new id.
//!
//! # Relative sequence numbers (tshark 4.0's semantics)
//! Per direction a base: the seq of that side's first SYN (a SYN resets a base set earlier
//! from a non-SYN packet); without a SYN, first seq − 1 (the first seen seq shows as 1); or,
//! when a packet with ACK arrives before anything from the other side, ack − 1. `rel_seq` =
//! seq − base; `rel_ack` = ack − the peer's base when ACK is set, else the raw ack field
//! (tshark shows the raw value then: 0 on a SYN, anything on a bare RST).
//!
//! # Endpoint states (RFC 9293 names, as the observer at the capture point infers them)
//! Before anything the client is CLOSED and the server LISTEN; a connection first seen
//! mid-stream starts with both ESTABLISHED. The client is SYN-SENT after its SYN; on the
//! SYN-ACK the server is SYN-RECEIVED and the client ESTABLISHED (its kernel moves there
//! when the SYN-ACK arrives, which is when the observer sees it); the server is ESTABLISHED
//! when an ACK from the client arrives. A side that sends a FIN goes ESTABLISHED →
//! FIN-WAIT-1, or CLOSE-WAIT → LAST-ACK; a side that receives a FIN goes ESTABLISHED →
//! CLOSE-WAIT, FIN-WAIT-1 → CLOSING, or FIN-WAIT-2 → TIME-WAIT (RFC 9293: the receiver
//! changes state when the FIN arrives, as the client does on the SYN-ACK). When a FIN is acknowledged its sender goes
//! FIN-WAIT-1 → FIN-WAIT-2, CLOSING → TIME-WAIT, LAST-ACK → CLOSED. A side that
//! acknowledges the peer's FIN from FIN-WAIT-2 or CLOSING goes to TIME-WAIT. A FIN from a
//! CLOSE-WAIT side that does not acknowledge the peer's FIN shows the peer's FIN crossed
//! it on the wire: simultaneous close, both CLOSING. Any RST: both CLOSED. Within one
//! packet the acknowledgement is applied before the FIN.
//!
//! # Ending
//! A connection with a RST, or with both sides' FINs acknowledged, lingers on a "closed" list for
//! `closed_linger_ns` of capture time after its last packet, then [`FlowTracker::expire`]
//! ends it ([`EndReason::Reset`] / [`EndReason::Closed`]). At most `max_lingering` linger at
//! once: beyond that the one closed longest ends at once (counted in
//! `FlowStats::lingers_cut`), so memory follows the open connections, not the rate at which
//! they close (a busy server closes thousands a second). Its late packets are then told by
//! its tombstone; within what would have been its linger any of them but a SYN without ACK
//! is late, as it would have joined the connection in the table. A late packet changes no
//! record (the `conn` record was final when the connection ended): on a capture with fewer
//! than `max_lingering` closes in 2 s nothing is cut, and the records are as they were. Open TCP connections idle beyond
//! `tcp_idle_ns` and UDP flows idle beyond `udp_idle_ns` end with [`EndReason::Idle`]. The
//! table keeps one list per timeout in order of last activity, so `expire` only looks at
//! entries that expire (plus one per list): O(expired). Above `max_flows` the entry idle
//! longest over all lists is evicted ([`EndReason::Evicted`], counted). [`FlowTracker::finish`]
//! ends everything left in id order, with [`EndReason::EndOfInput`] except for closed
//! connections still lingering, which keep `Closed` / `Reset`.
//!
//! # Tombstones
//! A TCP connection that ends closed (after its linger, or evicted while closed) leaves a
//! [`Tombstone`] (`flow::tombstone`): its id, sequence bases, final seqs, window shifts,
//! final states and close time, 40 bytes. A later packet on the 4-tuple that misses the
//! table is judged by it: a SYN (or a SYN-ACK with another ISN, or a segment whose seq or
//! ack lies outside what the old connection sent) starts a new connection, the SYN flagged
//! `reused_ports` as within the linger; anything else (a late ACK, RST or retransmission) is
//! a late packet of the old connection: it gets the old id, its relative numbers and states,
//! `retransmission` when it repeats what was sent, and changes nothing. Tombstones are
//! bounded by count (`FlowConfig::max_tombstones`, oldest pushed out first, counted in
//! `FlowStats::tombstones_evicted`), not by time, as tshark keeps a conversation for the
//! whole file.
//!
//! # Memory
//! No per-packet storage. On x86-64 a table entry costs `size_of::<Conn<()>>()` = 216 bytes
//! plus `size_of::<ZeekState>()` and the stream sink's `A` (the app stage's `ConnApp`: at most
//! 392 bytes, pinned by its own test), ~64 bytes of slab bookkeeping (the 40-byte key, last
//! activity time, list links) and ~48 bytes in the hash map: about 330 bytes plus `ZeekState`
//! and `A` for a UDP flow. A TCP connection adds one boxed `TcpConn` of 224 bytes plus
//! its `TcpAnalyzer` and two `StreamReassembler`s (whose buffers are bounded by
//! `max_reassembly_per_flow` and the shared `max_reassembly_total`). A tombstone costs 40
//! bytes plus its 40-byte key in a ring, and ~56 bytes in its map: about 140 bytes, at most
//! `max_tombstones` of them (32,768 by default: ~4.5 MB when full; a 4-tuple's next
//! connection's tombstone replaces its last, so they fill with 4-tuples, not connections).
//! Closed connections keep their entry for their linger, at most `max_lingering` (1,024 by
//! default: ~1.5 MB with their application state, whatever the connection rate; small
//! enough to stay in a core's L2 cache, so the one ended at a cut is not read back cold). The unit test
//! `entry_sizes_stay_small` pins these numbers.

use super::analysis::TcpAnalyzer;
use super::key::FlowKey;
use super::reassembly::{ReassemblyBudget, StreamChunk, StreamReassembler};
use super::table::{ListId, Table};
use super::tombstone::{Tombstone, Tombstones};
use super::zeek::ZeekState;
use super::*;
use crate::capture::{RawFrame, Timestamp};
use crate::decode::{DecodedPacket, LayerName, NetInfo, TcpFlags, TcpInfo, Transport};
use arrayvec::ArrayVec;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::SocketAddr;

mod counted;
mod icmp;
mod sctp;
mod sctp_state;
#[cfg(test)]
mod tests;
mod tunnel;

/// Highest window-scale shift RFC 7323 allows.
const MAX_WSCALE: u8 = 14;

/// One direction's sender, as far as the observer knows it.
#[derive(Clone, Debug)]
struct Side {
    /// Sequence base for relative numbers (valid when `base_set`).
    base: u32,
    base_set: bool,
    /// This side's SYN was seen; `isn` is its seq.
    saw_syn: bool,
    isn: u32,
    /// Window-scale option of this side's SYN.
    wscale: Option<u8>,
    /// Payload bytes of this side's first SYN (TCP Fast Open).
    syn_data: u32,
    /// Sequence number the FIN occupies.
    fin_seq: Option<u32>,
    fin_acked: bool,
    state: TcpState,
    reasm_started: bool,
    /// FIN seen but not yet handed to the sink (data before it still buffered).
    fin_pending: bool,
    fin_delivered: bool,
}

impl Side {
    fn new(state: TcpState) -> Side {
        Side {
            base: 0,
            base_set: false,
            saw_syn: false,
            isn: 0,
            wscale: None,
            syn_data: 0,
            fin_seq: None,
            fin_acked: false,
            state,
            reasm_started: false,
            fin_pending: false,
            fin_delivered: false,
        }
    }
}

/// What `derive_handshake` of the conformance tool counts, frame and time.
#[derive(Clone, Copy, Debug, Default)]
struct HsMark {
    frame: u64,
    ns: i64,
}

/// TCP-only state of a connection (boxed: UDP flows do not pay for it).
struct TcpConn {
    /// Indexed by [`Direction::index`]: `[0]` is the client (sends `ToServer`).
    sides: [Side; 2],
    analyzer: TcpAnalyzer,
    reasm: [StreamReassembler; 2],
    hs_syn: Option<HsMark>,
    hs_client: Option<Direction>,
    hs_synack: Option<HsMark>,
    hs_ack: Option<HsMark>,
    /// A SYN-ACK was seen from either side (for "refused").
    synack_seen: bool,
    /// Handshake step 3 was already given.
    step3_done: bool,
    first_fin: Option<Direction>,
    td_step2: bool,
    td_step3: bool,
    td_step4: bool,
    three_packet: bool,
    simultaneous: bool,
    half_close_noted: bool,
    /// First RST: its sender, the sender's state before it, and whether it refused a SYN.
    rst: Option<(Direction, TcpState, bool)>,
    td_frames: ArrayVec<u64, 8>,
    /// Per sender ([`Direction::index`]): [`TcpConn::plain_bits`], kept up to date by the
    /// general path (the only code that changes what they depend on), so that a
    /// [`plain_segment`] is told, and its window scaled, with one byte.
    plain: [u8; 2],
}

/// [`TcpConn::plain`]: the sender's ACKs are plain ([`TcpConn::steady_for`]).
const PLAIN_STEADY: u8 = 0x80;
/// [`TcpConn::plain`]: the window scale is known; the shift is in the low five bits.
const PLAIN_SCALED: u8 = 0x40;

impl TcpConn {
    fn new(mid_stream: bool) -> TcpConn {
        let (c, s) = if mid_stream {
            (TcpState::Established, TcpState::Established)
        } else {
            TcpState::before_syn(false)
        };
        TcpConn {
            sides: [Side::new(c), Side::new(s)],
            analyzer: TcpAnalyzer::new(),
            reasm: [StreamReassembler::new(), StreamReassembler::new()],
            hs_syn: None,
            hs_client: None,
            hs_synack: None,
            hs_ack: None,
            synack_seen: false,
            step3_done: false,
            first_fin: None,
            td_step2: false,
            td_step3: false,
            td_step4: false,
            three_packet: false,
            simultaneous: false,
            half_close_noted: false,
            rst: None,
            td_frames: ArrayVec::new(),
            plain: [0; 2],
        }
    }
    /// [`PLAIN_STEADY`] if [`TcpConn::steady_for`] `s`; [`PLAIN_SCALED`] and the shift if
    /// [`TcpConn::shift_for`] `s` is known.
    fn plain_bits(&self, s: usize) -> u8 {
        let steady = if self.steady_for(s) { PLAIN_STEADY } else { 0 };
        let scale = self.shift_for(s).map_or(0, |shift| PLAIN_SCALED | shift);
        steady | scale
    }
    /// The window-scale shift of side `s`'s segments, once both SYNs were seen: the
    /// sender's shift when both carried the option, else none at all (RFC 7323 2.2).
    fn shift_for(&self, s: usize) -> Option<u8> {
        let (snd, rcv) = (&self.sides[s], &self.sides[1 - s]);
        (snd.saw_syn && rcv.saw_syn).then(|| match (snd.wscale, rcv.wscale) {
            (Some(ws), Some(_)) => ws.min(MAX_WSCALE),
            _ => 0,
        })
    }
    /// An ACK from side `s` can change nothing but the numbers: both bases set, both
    /// endpoints ESTABLISHED, no FIN from the peer, the handshake's third step and mark
    /// already given (or no SYN-ACK seen).
    fn steady_for(&self, s: usize) -> bool {
        let (snd, rcv) = (&self.sides[s], &self.sides[1 - s]);
        snd.base_set
            && rcv.base_set
            && snd.state == TcpState::Established
            && rcv.state == TcpState::Established
            && rcv.fin_seq.is_none()
            && (self.step3_done || !self.synack_seen)
            && (self.hs_ack.is_some() || self.hs_synack.is_none())
    }
    fn closed(&self) -> bool {
        self.rst.is_some() || (self.sides[0].fin_acked && self.sides[1].fin_acked)
    }
    fn states(&self) -> (TcpState, TcpState) {
        (self.sides[0].state, self.sides[1].state)
    }
    fn push_td_frame(&mut self, frame: u64) {
        if self.td_frames.last() != Some(&frame) {
            let _ = self.td_frames.try_push(frame);
        }
    }
}

/// One connection or flow in the table.
struct Conn<A> {
    id: ConnId,
    proto: Proto,
    client: SocketAddr,
    server: SocketAddr,
    /// The client is the key's lower endpoint (see [`FlowKey::of`]).
    client_is_lo: bool,
    roles_guessed: bool,
    /// (client, server) ports, read once from `client` and `server` (in room the layout
    /// leaves free: the stream context of every packet carries them).
    ports: (u16, u16),
    first_frame: u64,
    last_frame: u64,
    start: Timestamp,
    end: Timestamp,
    /// The last packet's time while not both sides had sent FIN (Zeek's last time).
    zeek_end: Timestamp,
    packets: PerDir,
    bytes: PerDir,
    /// IP total lengths (Zeek's `orig_ip_bytes`/`resp_ip_bytes`).
    ip_bytes: PerDir,
    payload: PerDir,
    gap_bytes: PerDir,
    cut_bytes: PerDir,
    zeek: ZeekState,
    tcp: Option<Box<TcpConn>>,
    /// What the stream sink (the app stage) keeps for this connection: handed to it with
    /// every call, and on with the summary when the connection ends ([`Ended`]).
    app: A,
}

impl<A> Conn<A> {
    /// The direction of a packet whose source orders `ord` against its destination
    /// (from [`FlowKey::of`]): the same as comparing the source with `client`.
    fn dir_of(&self, ord: Ordering) -> Direction {
        let src_is_client = match ord {
            Ordering::Less => self.client_is_lo,
            Ordering::Greater => !self.client_is_lo,
            Ordering::Equal => true,
        };
        if src_is_client {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }
    /// (client port, server port) of a TCP connection or UDP flow (what its stream data
    /// is handed on with: the app stage trusts DNS on DNS ports).
    #[inline]
    fn ports(&self) -> Option<(u16, u16)> {
        matches!(self.proto, Proto::Tcp | Proto::Udp).then_some(self.ports)
    }
    fn list(&self) -> ListId {
        match &self.tcp {
            Some(t) if t.closed() => ListId::Closed,
            Some(_) => ListId::Tcp,
            None => ListId::Udp,
        }
    }
}

/// What a new connection starts from: its first packet's facts and roles.
struct NewConn<'p> {
    proto: Proto,
    client: SocketAddr,
    server: SocketAddr,
    /// See [`Conn::client_is_lo`].
    client_is_lo: bool,
    guessed: bool,
    /// The first packet came from the server: Zeek's history starts with `^`.
    flipped: bool,
    frame: u64,
    ts: Timestamp,
    tcp: Option<Box<TcpConn>>,
    /// The first packet's frame bytes and decoding, to keep what it travelled in (see
    /// [`FlowTracker::note_encapsulation`]); None for a UDP tunnel's own flow.
    first_packet: Option<(&'p [u8], &'p DecodedPacket<'p>)>,
}

/// Everything a packet handler borrows besides the connection.
struct Shared<'s, A> {
    config: &'s FlowConfig,
    stats: &'s mut FlowStats,
    budget: &'s mut ReassemblyBudget,
    sink: &'s mut dyn StreamSink<A>,
    /// The packet's IP total length (Zeek's `num_bytes_ip`).
    ip_len: u32,
}

/// The connection table (see the module docs).
pub struct FlowTracker<A = ()> {
    config: FlowConfig,
    stats: FlowStats,
    table: Table<Conn<A>>,
    budget: ReassemblyBudget,
    next_id: ConnId,
    /// Scratch list of (id, slot, reason) for `expire`, reused between calls.
    due: Vec<(ConnId, u32, EndReason)>,
    /// [`FlowTracker::finish_some`]: the connections still to end, highest id first.
    finishing: Option<Vec<(ConnId, u32, EndReason)>>,
    /// The tunnel flows each connection opened inside a tunnel travels in (kept beside the
    /// table: few connections have any; an entry lives as long as its connection, so this
    /// is bounded by `max_flows`).
    tunnel_parents: rustc_hash::FxHashMap<ConnId, tunnel::Parents>,
    /// What is left of the connections that ended closed (see [`super::tombstone`]).
    tombstones: Tombstones,
    /// What each connection opened inside an encapsulation travels in (kept beside the
    /// table like `tunnel_parents`, bounded the same way).
    encapsulations: rustc_hash::FxHashMap<ConnId, Box<crate::decode::Encapsulation>>,
    /// The ICMP errors that quoted each connection's packets (beside the table like
    /// `tunnel_parents`, bounded the same way; see [`icmp`]).
    icmp_errors: rustc_hash::FxHashMap<ConnId, crate::flow::icmp_error::IcmpErrors>,
    /// The setup and end of each SCTP association (beside the table, bounded the same way).
    sctp: rustc_hash::FxHashMap<ConnId, sctp_state::SctpAssoc>,
}

impl FlowTracker {
    /// An empty table with these limits, for a stream sink that keeps nothing in the
    /// connections' slots.
    pub fn new(config: FlowConfig) -> FlowTracker {
        FlowTracker::with_conn_state(config)
    }
}

impl<A: Default> FlowTracker<A> {
    /// An empty table with these limits, each connection's slot holding an `A` for the
    /// stream sink (made with the connection, handed on when it ends).
    pub fn with_conn_state(config: FlowConfig) -> FlowTracker<A> {
        let budget = ReassemblyBudget::new(config.max_reassembly_total);
        let tombstones = Tombstones::new(config.max_tombstones);
        FlowTracker {
            config,
            stats: FlowStats::default(),
            table: Table::new(),
            budget,
            next_id: 0,
            due: Vec::new(),
            finishing: None,
            tunnel_parents: Default::default(),
            tombstones,
            encapsulations: Default::default(),
            icmp_errors: Default::default(),
            sctp: Default::default(),
        }
    }
    /// The limits in force.
    pub fn config(&self) -> &FlowConfig {
        &self.config
    }
    /// What was counted so far.
    pub fn stats(&self) -> FlowStats {
        FlowStats {
            tombstones_evicted: self.tombstones.evicted(),
            ..self.stats
        }
    }
    /// Tombstones of closed connections held now.
    pub fn tombstones(&self) -> usize {
        self.tombstones.len()
    }
    /// Connections in the table now.
    pub fn active(&self) -> usize {
        self.table.len()
    }

    /// Tracks one packet. Stream bytes go to `sink`; connections that leave the table
    /// (closed and lingered, idle, evicted, reused) are pushed to `ended`.
    pub fn process(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> PacketFlow {
        if packet.fragment_pending {
            return PacketFlow::default();
        }
        if !packet.outer_flows.is_empty() {
            return self.process_tunnelled(frame, packet, sink, ended);
        }
        let Some(net) = &packet.net else {
            return PacketFlow::default();
        };
        // (Returned as it comes: the packet's `PacketFlow` is not moved on its way out.)
        self.process_inner(frame, packet, net, sink, ended)
    }

    /// Keeps what a new connection's first packet (`data`, decoded as `packet`) travelled
    /// in (read once per connection, when it is created).
    #[inline(never)]
    fn note_encapsulation(&mut self, data: &[u8], packet: &DecodedPacket<'_>, id: ConnId) {
        if let Some(e) = crate::decode::Encapsulation::of(data, packet) {
            self.encapsulations.insert(id, Box::new(e));
        }
    }

    /// A packet that came inside UDP tunnels: each tunnel's UDP flow is a connection (with
    /// no payload of its own: its bytes are the inner packet's), then the inner packet.
    /// A connection the inner packet opens gets the tunnel flows as its parents.
    #[inline(never)]
    fn process_tunnelled(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> PacketFlow {
        let mut outer_conns = ArrayVec::new();
        for o in &packet.outer_flows {
            let (key, ord) = FlowKey::of(Proto::Udp, o.src, o.src_port, o.dst, o.dst_port);
            let src = SocketAddr::new(o.src, o.src_port);
            let dst = SocketAddr::new(o.dst, o.dst_port);
            let payload_len = u64::from(o.length.saturating_sub(8));
            let addrs = (src, dst, key, ord, o.ip_len);
            let f = self.process_udp(frame, addrs, (&[], None), payload_len, sink, ended);
            if let Some(c) = f.conn {
                let _ = outer_conns.try_push(c);
            }
        }
        let Some(net) = &packet.net else {
            return PacketFlow {
                outer_conns,
                ..PacketFlow::default()
            };
        };
        let mut flow = self.process_inner(frame, packet, net, sink, ended);
        if let Some(id) = flow.conn {
            self.stats.tunnel_parents_cut +=
                tunnel::add_parents(&mut self.tunnel_parents, id, &outer_conns);
        }
        flow.outer_conns = outer_conns;
        flow
    }

    #[inline(always)]
    fn process_inner(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        net: &NetInfo,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> PacketFlow {
        match &packet.transport {
            Some(Transport::Tcp(tcp)) => {
                let (key, ord) =
                    FlowKey::of(Proto::Tcp, net.src, tcp.src_port, net.dst, tcp.dst_port);
                self.process_tcp(frame, net, key, ord, tcp, packet, sink, ended)
            }
            Some(Transport::Udp(udp)) => {
                let (key, ord) =
                    FlowKey::of(Proto::Udp, net.src, udp.src_port, net.dst, udp.dst_port);
                let src = SocketAddr::new(net.src, udp.src_port);
                let dst = SocketAddr::new(net.dst, udp.dst_port);
                let payload_len = match udp.length.checked_sub(8) {
                    Some(n) => u64::from(n),
                    None => packet.payload.len() as u64,
                };
                let addrs = (src, dst, key, ord, net.total_len);
                let data = (packet.payload, Some(packet));
                self.process_udp(frame, addrs, data, payload_len, sink, ended)
            }
            // ICMP, ICMPv6 and SCTP flows: flow/tracker/icmp.rs, flow/tracker/sctp.rs.
            Some(Transport::Icmpv4(icmp)) => {
                self.process_icmp(frame, packet, net, (Proto::Icmp, icmp), sink, ended)
            }
            Some(Transport::Icmpv6(icmp)) => {
                self.process_icmp(frame, packet, net, (Proto::Icmpv6, icmp), sink, ended)
            }
            None if net.protocol == crate::flow::community_id::IPPROTO_SCTP => {
                self.process_sctp(frame, packet, net, sink, ended)
            }
            None => PacketFlow::default(),
        }
    }

    /// Ends connections idle at `now` (call between packets, e.g. once per second of
    /// capture time, and periodically in live capture).
    pub fn expire(
        &mut self,
        now: Timestamp,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) {
        let now_ns = ts_ns(now);
        let mut due = std::mem::take(&mut self.due);
        due.clear();
        for (list, timeout) in [
            (ListId::Closed, self.config.closed_linger_ns),
            (ListId::Tcp, self.config.tcp_idle_ns),
            (ListId::Udp, self.config.udp_idle_ns),
        ] {
            let timeout = i64::try_from(timeout).unwrap_or(i64::MAX);
            let mut cur = self.table.head(list);
            while let Some((idx, last)) = cur {
                if now_ns.saturating_sub(last) < timeout {
                    break;
                }
                if let Some(conn) = self.table.get(idx) {
                    let reason = match (list, &conn.tcp) {
                        (ListId::Closed, Some(t)) if t.rst.is_some() => EndReason::Reset,
                        (ListId::Closed, _) => EndReason::Closed,
                        _ => EndReason::Idle,
                    };
                    due.push((conn.id, idx, reason));
                }
                cur = self.table.next(idx);
            }
        }
        due.sort_unstable_by_key(|d| d.0);
        for &(_, idx, reason) in &due {
            self.end_conn(idx, reason, true, sink, ended);
        }
        self.due = due;
    }

    /// End of input: every connection still in the table ends, in id order.
    pub fn finish(&mut self, sink: &mut dyn StreamSink<A>, ended: &mut Vec<Ended<A>>) {
        while self.finish_some(sink, ended, usize::MAX) {}
    }

    /// [`FlowTracker::finish`] a part at a time (the caller hands each part on before the
    /// next, so the summaries of a million open connections are never all held at once):
    /// ends at most `max` of the connections still in the table, lowest ids first. Returns
    /// whether some remain. Why each ends is decided on the first call, for all of them.
    pub fn finish_some(
        &mut self,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
        max: usize,
    ) -> bool {
        let mut todo = match self.finishing.take() {
            Some(todo) => todo,
            None => {
                let mut all: Vec<(ConnId, u32, EndReason)> = Vec::with_capacity(self.table.len());
                self.table.for_each(|idx, conn| {
                    let reason = match &conn.tcp {
                        Some(t) if t.rst.is_some() => EndReason::Reset,
                        Some(t) if t.closed() => EndReason::Closed,
                        _ => EndReason::EndOfInput,
                    };
                    all.push((conn.id, idx, reason));
                });
                // Highest id first: the next to end is popped from the back.
                all.sort_unstable_by_key(|d| std::cmp::Reverse(d.0));
                all
            }
        };
        let take = todo.len().min(max);
        ended.reserve(take);
        for _ in 0..take {
            if let Some((_, idx, reason)) = todo.pop() {
                self.end_conn(idx, reason, false, sink, ended);
            }
        }
        if todo.is_empty() {
            false
        } else {
            self.finishing = Some(todo);
            true
        }
    }

    /// Adds a connection, evicting the entry idle longest when the table is full. The
    /// connection is built in its slot from `new`. (Once per connection: kept out of the
    /// per-packet code.)
    #[inline(never)]
    fn create(
        &mut self,
        key: FlowKey,
        new: NewConn<'_>,
        now_ns: i64,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> u32 {
        while self.table.len() >= self.config.max_flows.max(1) {
            let Some(victim) = self.table.oldest() else {
                break;
            };
            self.stats.evicted_flows += 1;
            self.end_conn(victim, EndReason::Evicted, true, sink, ended);
        }
        self.stats.conns += 1;
        let id = self.next_id;
        self.next_id += 1;
        let list = match new.tcp {
            Some(_) => ListId::Tcp,
            None => ListId::Udp,
        };
        let flipped = new.flipped;
        let idx = self.table.insert_with(key, list, now_ns, || Conn {
            id,
            proto: new.proto,
            client: new.client,
            server: new.server,
            client_is_lo: new.client_is_lo,
            roles_guessed: new.guessed,
            ports: (new.client.port(), new.server.port()),
            first_frame: new.frame,
            last_frame: new.frame,
            start: new.ts,
            end: new.ts,
            zeek_end: new.ts,
            packets: PerDir::default(),
            bytes: PerDir::default(),
            ip_bytes: PerDir::default(),
            payload: PerDir::default(),
            gap_bytes: PerDir::default(),
            cut_bytes: PerDir::default(),
            zeek: ZeekState::new(),
            tcp: new.tcp,
            app: A::default(),
        });
        if flipped {
            if let Some(conn) = self.table.get_mut(idx) {
                conn.zeek.mark_flipped();
            }
        }
        if let Some((data, packet)) = new.first_packet {
            self.note_encapsulation(data, packet, id);
        }
        idx
    }

    /// Removes a connection: flushes its streams, tells the sink, pushes its summary. A TCP
    /// connection that was closed leaves a [`Tombstone`] when `leave_tombstone` (not at the
    /// end of input, nor when a new connection takes its 4-tuple).
    fn end_conn(
        &mut self,
        idx: u32,
        reason: EndReason,
        leave_tombstone: bool,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) {
        let key = self.table.key(idx).copied();
        // The connection is summarized where it lies, then dropped in place.
        let Some(conn) = self.table.get_mut(idx) else {
            return;
        };
        if let (true, Some(key), Some(tomb)) = (leave_tombstone, key, tombstone_of(conn)) {
            self.tombstones.insert(key, tomb);
        }
        let ctx = SegmentCtx {
            frame: conn.last_frame,
            ts: conn.end,
            handshake_rtt_ns: None,
            ports: conn.ports(),
        };
        let mut sh = Shared {
            config: &self.config,
            stats: &mut self.stats,
            budget: &mut self.budget,
            sink,
            ip_len: 0,
        };
        for dir in [Direction::ToServer, Direction::ToClient] {
            flush_dir(conn, dir, ctx, &mut sh);
        }
        sh.sink.on_close(conn.id, &mut conn.app);
        // Made where it is handed on from (the summary and app state are over a kilobyte:
        // not built aside and then moved in).
        ended.push(Ended {
            summary: summarize(conn, reason),
            state: std::mem::take(&mut conn.app),
        });
        if let Some(Ended { summary, .. }) = ended.last_mut() {
            if !self.tunnel_parents.is_empty() {
                if let Some(parents) = self.tunnel_parents.remove(&conn.id) {
                    summary.tunnel_parents = parents;
                }
            }
            if !self.encapsulations.is_empty() {
                summary.encapsulation = self.encapsulations.remove(&conn.id);
            }
            if !self.icmp_errors.is_empty() {
                summary.icmp_errors = self.icmp_errors.remove(&conn.id);
            }
            if !self.sctp.is_empty() {
                if let Some(assoc) = self.sctp.remove(&conn.id) {
                    assoc.apply(summary);
                }
            }
        }
        self.table.discard(idx);
    }

    /// More than `max_lingering` closed connections linger: the one closed longest ends
    /// now, leaving its tombstone (counted in `FlowStats::lingers_cut`). Memory then
    /// follows the open connections, not the rate at which they close.
    #[inline(never)]
    fn cut_linger(&mut self, sink: &mut dyn StreamSink<A>, ended: &mut Vec<Ended<A>>) {
        let Some((idx, _)) = self.table.head(ListId::Closed) else {
            return;
        };
        let reason = match self.table.get(idx).and_then(|c| c.tcp.as_deref()) {
            Some(t) if t.rst.is_some() => EndReason::Reset,
            _ => EndReason::Closed,
        };
        self.stats.lingers_cut += 1;
        self.end_conn(idx, reason, true, sink, ended);
    }

    #[allow(clippy::too_many_arguments)]
    fn process_udp(
        &mut self,
        frame: &RawFrame<'_>,
        (src, dst, key, ord, ip_len): (SocketAddr, SocketAddr, FlowKey, Ordering, u32),
        (data, packet): (&[u8], Option<&DecodedPacket<'_>>),
        payload_len: u64,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> PacketFlow {
        let now_ns = ts_ns(frame.ts);
        let mut new_conn = false;
        let idx = match self.table.find(&key) {
            Some(idx) => idx,
            None => {
                let src_is_server = src.port() < 1024 && dst.port() >= 1024;
                let (client, server) = if src_is_server {
                    (dst, src)
                } else {
                    (src, dst)
                };
                let client_is_lo = (ord == Ordering::Less) != src_is_server;
                let new = NewConn {
                    proto: Proto::Udp,
                    client,
                    server,
                    client_is_lo,
                    guessed: src_is_server,
                    flipped: src_is_server,
                    frame: frame.number,
                    ts: frame.ts,
                    tcp: None,
                    first_packet: packet.map(|p| (frame.data, p)),
                };
                new_conn = true;
                self.create(key, new, now_ns, sink, ended)
            }
        };
        let Some(conn) = self.table.get_mut(idx) else {
            return PacketFlow::default();
        };
        let dir = conn.dir_of(ord);
        account(conn, dir, frame, payload_len, ip_len);
        conn.zeek
            .observe_udp(dir, u32::try_from(payload_len).unwrap_or(u32::MAX));
        let ctx = SegmentCtx {
            frame: frame.number,
            ts: frame.ts,
            handshake_rtt_ns: None,
            ports: conn.ports(),
        };
        let at = StreamId { conn: conn.id, dir };
        sink.on_datagram(at, &mut conn.app, data, ctx);
        let id = conn.id;
        self.table.touch(idx, ListId::Udp, now_ns);
        PacketFlow {
            conn: Some(id),
            dir: Some(dir),
            new_conn,
            ..PacketFlow::default()
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn process_tcp(
        &mut self,
        frame: &RawFrame<'_>,
        net: &NetInfo,
        key: FlowKey,
        ord: Ordering,
        tcp: &TcpInfo,
        packet: &DecodedPacket<'_>,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> PacketFlow {
        let data = packet.payload;
        let now_ns = ts_ns(frame.ts);
        let found = self.table.find(&key);
        // The common packet of a known connection: one test of the flags here, then
        // [`on_tcp_plain`] tells it with one byte of the connection.
        if let Some(idx) = found {
            const SYN_FIN_RST_ACK: u16 =
                TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST | TcpFlags::ACK;
            if tcp.flags.0 & SYN_FIN_RST_ACK == TcpFlags::ACK {
                let mut sh = Shared {
                    config: &self.config,
                    stats: &mut self.stats,
                    budget: &mut self.budget,
                    sink,
                    ip_len: net.total_len,
                };
                if let Some(conn) = self.table.get_mut(idx) {
                    if let Some(flow) = on_tcp_plain(conn, ord, tcp, data, frame, &mut sh) {
                        // A plain segment neither closes nor resets: the connection stays open.
                        self.table.touch(idx, ListId::Tcp, now_ns);
                        return flow;
                    }
                }
            }
        }
        let syn_only = tcp.flags.syn() && !tcp.flags.ack();
        let mut reused = false;
        // tshark also flags a SYN-ACK whose seq differs from the base already set for its
        // direction (e.g. after a RST from that side) as reused ports, without a new stream.
        let mut synack_reused = false;
        let existing = match found {
            Some(idx) if tcp.flags.syn() && tcp.flags.ack() => {
                synack_reused = self.table.get(idx).is_some_and(|c| {
                    let dir = c.dir_of(ord);
                    c.tcp.as_ref().is_some_and(|t| {
                        let side = &t.sides[dir.index()];
                        side.base_set && side.base != tcp.seq
                    })
                });
                Some(idx)
            }
            Some(idx) if syn_only => {
                let is_reuse = self.table.get(idx).is_some_and(|c| {
                    let dir = c.dir_of(ord);
                    c.tcp.as_ref().is_some_and(|t| {
                        let side = &t.sides[dir.index()];
                        t.rst.is_some()
                            || t.sides[0].fin_seq.is_some()
                            || t.sides[1].fin_seq.is_some()
                            || (side.base_set && side.base != tcp.seq)
                    })
                });
                if is_reuse {
                    self.end_conn(idx, EndReason::Reused, false, sink, ended);
                    reused = true;
                    None
                } else {
                    Some(idx)
                }
            }
            other => other,
        };
        if found.is_none() && !self.tombstones.is_empty() {
            if let Some(tomb) = self.tombstones.get(&key) {
                if let Some(flow) = late_packet(tomb, ord, tcp, &self.config, now_ns) {
                    return flow;
                }
                // A new connection on the 4-tuple of one that closed.
                self.tombstones.remove(&key);
                reused = syn_only;
            }
        }
        let mut new_conn = false;
        let idx = match existing {
            Some(idx) => idx,
            None => {
                let (sender_is_client, guessed) = tcp_roles(tcp);
                let src = SocketAddr::new(net.src, tcp.src_port);
                let dst = SocketAddr::new(net.dst, tcp.dst_port);
                let (client, server) = if sender_is_client {
                    (src, dst)
                } else {
                    (dst, src)
                };
                let client_is_lo = (ord == Ordering::Less) == sender_is_client;
                let mid_stream = !tcp.flags.syn() && !tcp.flags.rst();
                let new = NewConn {
                    proto: Proto::Tcp,
                    client,
                    server,
                    client_is_lo,
                    guessed,
                    flipped: !sender_is_client,
                    frame: frame.number,
                    ts: frame.ts,
                    tcp: Some(Box::new(TcpConn::new(mid_stream))),
                    first_packet: Some((frame.data, packet)),
                };
                new_conn = true;
                self.create(key, new, now_ns, sink, ended)
            }
        };
        let mut sh = Shared {
            config: &self.config,
            stats: &mut self.stats,
            budget: &mut self.budget,
            sink,
            ip_len: net.total_len,
        };
        let Some(conn) = self.table.get_mut(idx) else {
            return PacketFlow::default();
        };
        // Built here and filled in place: the packet's `PacketFlow` is never moved.
        let mut flow = PacketFlow {
            new_conn,
            ..PacketFlow::default()
        };
        on_tcp(conn, ord, tcp, data, frame, &mut sh, &mut flow);
        if synack_reused {
            flow.analysis.set(AnalysisFlags::REUSED_PORTS);
            if self.config.notes {
                append_note(
                    &mut flow.note,
                    "reused ports: SYN-ACK with a new initial sequence number on this 4-tuple",
                );
            }
        }
        if reused {
            flow.analysis.set(AnalysisFlags::REUSED_PORTS);
            if self.config.notes {
                append_note(
                    &mut flow.note,
                    "reused ports: SYN on the 4-tuple of an earlier connection",
                );
            }
        }
        let list = conn.list();
        if list == ListId::Closed {
            // Closed: what it keeps for its linger should not hold room it no longer uses.
            if let Some(t) = conn.tcp.as_deref_mut() {
                t.analyzer.release_empty_lists();
            }
        }
        self.table.touch(idx, list, now_ns);
        if list == ListId::Closed && self.table.list_len(ListId::Closed) > self.config.max_lingering
        {
            self.cut_linger(sink, ended);
        }
        flow
    }
}

/// The tombstone a closed TCP connection leaves (None: not TCP, or not closed).
fn tombstone_of<A>(conn: &Conn<A>) -> Option<Tombstone> {
    let t = conn.tcp.as_deref().filter(|t| t.closed())?;
    let base = [0, 1].map(|s| t.sides[s].base_set.then_some(t.sides[s].base));
    let next_seq = [Direction::ToServer, Direction::ToClient].map(|dir| {
        let s = dir.index();
        t.analyzer
            .next_seq(dir)
            .unwrap_or(t.sides[s].base.wrapping_add(u32::from(t.sides[s].saw_syn)))
    });
    Some(Tombstone::new(
        conn.id,
        ts_ns(conn.end),
        base,
        next_seq,
        [t.shift_for(0), t.shift_for(1)],
        t.states(),
        conn.client_is_lo,
    ))
}

/// `seq` lies in `[base, last]` in sequence space (anywhere when the base is unknown).
fn seq_within(seq: u32, base: Option<u32>, last: u32) -> bool {
    base.is_none_or(|b| seq.wrapping_sub(b) <= last.wrapping_sub(b))
}

/// A packet on the 4-tuple of a connection that ended closed, judged by its tombstone: a
/// late packet of that connection (its flow facts, with the connection's id), or None for
/// the first packet of a new connection: a SYN, a SYN-ACK with another ISN, or a segment
/// whose seq or ack lies outside what the old connection's sides sent, once
/// `closed_linger_ns` have passed since its last packet (within it, any segment but a SYN
/// without ACK is late, as data still in flight when a RST crossed it: a connection in the
/// table is split by nothing else either). A RST can start nothing, so it is always late.
fn late_packet(
    tomb: &Tombstone,
    ord: Ordering,
    tcp: &TcpInfo,
    config: &FlowConfig,
    now_ns: i64,
) -> Option<PacketFlow> {
    let notes = config.notes;
    let lingering = now_ns.saturating_sub(tomb.closed_ns)
        < i64::try_from(config.closed_linger_ns).unwrap_or(i64::MAX);
    let dir = tomb.dir_of(ord);
    let (s, r) = (dir.index(), dir.reverse().index());
    let f = tcp.flags;
    let (base_s, base_r) = (tomb.base_of(s), tomb.base_of(r));
    if f.syn() {
        if !f.ack() || (!lingering && base_s != Some(tcp.seq)) {
            return None;
        }
    } else if !f.rst()
        && !lingering
        && (!seq_within(tcp.seq, base_s, tomb.next_seq[s])
            || (f.ack() && !seq_within(tcp.ack, base_r, tomb.next_seq[r])))
    {
        return None;
    }
    let mut flow = PacketFlow {
        conn: Some(tomb.id),
        dir: Some(dir),
        late: true,
        rel_seq: Some(
            tcp.seq
                .wrapping_sub(base_s.unwrap_or(tcp.seq.wrapping_sub(1))),
        ),
        rel_ack: Some(if f.ack() {
            tcp.ack
                .wrapping_sub(base_r.unwrap_or(tcp.ack.wrapping_sub(1)))
        } else {
            tcp.ack
        }),
        state: Some(if f.rst() {
            (TcpState::Closed, TcpState::Closed)
        } else {
            tomb.states
        }),
        ..PacketFlow::default()
    };
    if !f.syn() {
        flow.window_scaled = tomb.shift[s].map(|shift| u64::from(tcp.window) << shift);
    }
    // Bytes (or a FIN, or a SYN) that all lie before what the side had sent: sent again.
    let seg_len = tcp.payload_len + u32::from(f.syn()) + u32::from(f.fin());
    if seg_len > 0 && seq_within(tcp.seq.wrapping_add(seg_len), base_s, tomb.next_seq[s]) {
        flow.analysis.set(AnalysisFlags::RETRANSMISSION);
    }
    if notes {
        let ms = now_ns.saturating_sub(tomb.closed_ns) / 1_000_000;
        flow.note = Some(format!(
            "late packet of connection {}, {ms} ms after its last packet (the connection was closed and its record written)",
            tomb.id
        ));
    }
    Some(flow)
}

/// (sender is the client, roles guessed) for a connection's first packet.
fn tcp_roles(tcp: &TcpInfo) -> (bool, bool) {
    if tcp.flags.syn() {
        return (!tcp.flags.ack(), tcp.flags.ack());
    }
    let (s, d) = (tcp.src_port, tcp.dst_port);
    let dst_is_server = match (s < 1024, d < 1024) {
        (false, true) => true,
        (true, false) => false,
        _ => d <= s,
    };
    (dst_is_server, true)
}

fn ts_ns(ts: Timestamp) -> i64 {
    ts.secs
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(ts.nanos))
}

/// The handshake round trip, SYN → ACK (ns), once both were seen.
fn handshake_rtt_ns(syn: Option<HsMark>, ack: Option<HsMark>) -> Option<u64> {
    ns_between(syn?, ack?)
}

fn ns_between(a: HsMark, b: HsMark) -> Option<u64> {
    u64::try_from(b.ns.checked_sub(a.ns)?).ok()
}

/// `a` is at or after `b` in sequence space.
fn seq_ge(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

fn role(dir: Direction) -> &'static str {
    match dir {
        Direction::ToServer => "client",
        Direction::ToClient => "server",
    }
}

fn append_note(note: &mut Option<String>, text: &str) {
    match note {
        Some(n) => {
            n.push_str("; ");
            n.push_str(text);
        }
        None => *note = Some(text.to_string()),
    }
}

#[inline(always)]
fn account<A>(
    conn: &mut Conn<A>,
    dir: Direction,
    frame: &RawFrame<'_>,
    payload_len: u64,
    ip_len: u32,
) {
    conn.packets.add(dir, 1);
    conn.bytes.add(dir, u64::from(frame.orig_len));
    conn.ip_bytes.add(dir, u64::from(ip_len));
    conn.payload.add(dir, payload_len);
    conn.last_frame = frame.number;
    conn.end = frame.ts;
    if !conn.zeek.both_closed() {
        conn.zeek_end = frame.ts;
    }
}

/// Stream bytes `data` starting at `seq` in direction `dir` (the direction's stream starts
/// there if it has not started yet): straight to the sink when they are the next in order
/// with nothing buffered, else through the reassembler (what it cuts is counted on the
/// connection and in the stats).
/// Returns the bytes the reassembler cut (for the connection's counter).
#[inline(always)]
fn stream_data<A>(
    t: &mut TcpConn,
    (at, app): (StreamId, &mut A),
    (seq, data): (u32, &[u8]),
    ctx: SegmentCtx,
    sh: &mut Shared<'_, A>,
    gaps: &mut u64,
) -> u32 {
    let s = at.dir.index();
    if !t.sides[s].reasm_started {
        t.sides[s].reasm_started = true;
        t.reasm[s].start_at(seq);
    }
    if t.reasm[s].in_order(seq) {
        sh.sink.on_data(at, app, data, ctx);
        t.reasm[s].passed(data.len());
        return 0;
    }
    let mut out = deliver(at, app, &mut *sh.sink, gaps);
    let outcome = t.reasm[s].segment(
        seq,
        data,
        ctx,
        sh.config.max_reassembly_per_flow,
        sh.budget,
        &mut out,
    );
    drop(out);
    sh.stats.reassembly_cut_bytes += u64::from(outcome.cut_bytes);
    outcome.cut_bytes
}

/// Whether a segment's `len` bytes are a keep-alive probe's, which are not stream data: the
/// probe repeats the last byte the peer already acknowledged (RFC 9293 §3.8.4; Wireshark's
/// `keep_alive`: 0 or 1 byte at the next expected seq − 1). Before a direction's stream has
/// started (a capture that begins mid-connection), one byte the peer has already
/// acknowledged is such a probe too: starting the stream at it would put a stray byte
/// before the next message.
#[inline(always)]
fn keep_alive_byte(stream_started: bool, len: usize, flags: AnalysisFlags) -> bool {
    len <= 1
        && (flags.has(AnalysisFlags::KEEP_ALIVE)
            || (!stream_started && flags.has(AnalysisFlags::SPURIOUS_RETRANSMISSION)))
}

/// Hands the reassembler's chunks of one direction to the sink, counting gaps.
fn deliver<'a, A>(
    at: StreamId,
    app: &'a mut A,
    sink: &'a mut dyn StreamSink<A>,
    gaps: &'a mut u64,
) -> impl FnMut(StreamChunk<'_>) + 'a {
    move |chunk| match chunk {
        StreamChunk::Data(bytes, ctx) => sink.on_data(at, app, bytes, ctx),
        StreamChunk::Gap(len, ctx) => {
            *gaps += len;
            sink.on_gap(at, app, len, ctx);
        }
    }
}

fn add_gaps<A>(conn: &mut Conn<A>, dir: Direction, gaps: u64, sh: &mut Shared<'_, A>) {
    if gaps > 0 {
        conn.gap_bytes.add(dir, gaps);
        sh.stats.gap_bytes += gaps;
    }
}

/// Delivers everything buffered in one direction (FIN, RST, close).
fn flush_dir<A>(conn: &mut Conn<A>, dir: Direction, ctx: SegmentCtx, sh: &mut Shared<'_, A>) {
    let id = conn.id;
    let Some(t) = conn.tcp.as_mut() else {
        return;
    };
    // Nothing buffered (mostly, when a connection ends): flushing would deliver nothing.
    if !t.sides[dir.index()].reasm_started || !t.reasm[dir.index()].has_buffer() {
        return;
    }
    let mut gaps = 0;
    let at = StreamId { conn: id, dir };
    let mut out = deliver(at, &mut conn.app, &mut *sh.sink, &mut gaps);
    t.reasm[dir.index()].flush(ctx, sh.budget, &mut out);
    drop(out);
    add_gaps(conn, dir, gaps, sh);
}

/// One TCP packet of `conn`: fills `flow` (which holds only `new_conn` on entry).
fn on_tcp<A>(
    conn: &mut Conn<A>,
    ord: Ordering,
    tcp: &TcpInfo,
    data: &[u8],
    frame: &RawFrame<'_>,
    sh: &mut Shared<'_, A>,
    flow: &mut PacketFlow,
) {
    let dir = conn.dir_of(ord);
    account(conn, dir, frame, u64::from(tcp.payload_len), sh.ip_len);
    conn.zeek.observe_tcp(dir, tcp);
    if conn.tcp.is_some() {
        tcp_step(conn, dir, tcp, data, frame, sh, flow);
    }
}

/// [`on_tcp`] and [`tcp_step`] for a [`plain_segment`] of a TCP connection, in fewer
/// steps: no base, handshake mark, step or endpoint state can change, the peer sent no FIN
/// ([`TcpConn::steady_for`]), so the ACK covers stream bytes only, and there is no SYN, FIN or
/// RST to hand on. Builds the packet's whole [`PacketFlow`]. None: not such a packet (or
/// not a TCP connection), nothing was changed.
#[inline(always)]
fn on_tcp_plain<A>(
    conn: &mut Conn<A>,
    ord: Ordering,
    tcp: &TcpInfo,
    data: &[u8],
    frame: &RawFrame<'_>,
    sh: &mut Shared<'_, A>,
) -> Option<PacketFlow> {
    let dir = conn.dir_of(ord);
    if !plain_segment(conn.tcp.as_deref()?, dir, tcp) {
        return None;
    }
    #[cfg(test)]
    PLAIN_TAKEN.with(|n| n.set(n.get() + 1));
    account(conn, dir, frame, u64::from(tcp.payload_len), sh.ip_len);
    conn.zeek.observe_tcp(dir, tcp);
    let id = conn.id;
    let ports = conn.ports();
    let t = conn.tcp.as_deref_mut()?;
    let (s, r) = (dir.index(), dir.reverse().index());
    let plain = t.plain[s];
    let rel_seq = tcp.seq.wrapping_sub(t.sides[s].base);
    let rel_ack = tcp.ack.wrapping_sub(t.sides[r].base);
    let window_scaled =
        (plain & PLAIN_SCALED != 0).then(|| u64::from(tcp.window) << (plain & 0x1f));
    let mut analysis = analysis::AnalysisResult::default();
    t.analyzer.analyze_into(
        &mut analysis,
        dir,
        tcp,
        frame.ts,
        frame.number,
        sh.config.notes,
    );

    let ctx = SegmentCtx {
        frame: frame.number,
        ts: frame.ts,
        handshake_rtt_ns: handshake_rtt_ns(t.hs_syn, t.hs_ack),
        ports,
    };
    let mut gaps = [0u64; 2];
    if !data.is_empty() && !keep_alive_byte(t.sides[s].reasm_started, data.len(), analysis.flags) {
        // No SYN: the data starts at seq.
        let at = StreamId { conn: id, dir };
        let cut = stream_data(
            t,
            (at, &mut conn.app),
            (tcp.seq, data),
            ctx,
            sh,
            &mut gaps[s],
        );
        conn.cut_bytes.add(dir, u64::from(cut));
    }
    // The peer sent no FIN (steady): the ack is the stream's.
    if t.sides[r].reasm_started && !t.reasm[r].ack_changes_nothing(tcp.ack) {
        let back = StreamId {
            conn: id,
            dir: dir.reverse(),
        };
        let mut out = deliver(back, &mut conn.app, &mut *sh.sink, &mut gaps[r]);
        t.reasm[r].acked(tcp.ack, ctx, sh.budget, &mut out);
    }
    if t.sides[0].fin_pending || t.sides[1].fin_pending {
        pending_fins(t, (id, &mut conn.app), dir, false, ctx, sh, &mut gaps);
    }
    let state = Some(t.states());
    if gaps[0] | gaps[1] != 0 {
        add_both_gaps(conn, gaps, sh);
    }
    Some(PacketFlow {
        conn: Some(id),
        dir: Some(dir),
        rel_seq: Some(rel_seq),
        rel_ack: Some(rel_ack),
        window_scaled,
        step: None,
        state,
        analysis: analysis.flags,
        dup_ack_num: analysis.dup_ack_num,
        note: analysis.note,
        new_conn: false,
        late: false,
        outer_conns: ArrayVec::new(),
        quoted_conn: None,
        rtt: analysis.rtt,
    })
}

/// Hands on each side's FIN that waits (`fin_pending`) once nothing is buffered before it,
/// its sender's FIN was acknowledged, or on a RST (gaps reported).
#[inline(never)]
fn pending_fins<A>(
    t: &mut TcpConn,
    (id, app): (ConnId, &mut A),
    dir: Direction,
    rst: bool,
    ctx: SegmentCtx,
    sh: &mut Shared<'_, A>,
    gaps: &mut [u64; 2],
) {
    for d in [dir, dir.reverse()] {
        let i = d.index();
        let side = &t.sides[i];
        if side.fin_pending
            && (!side.reasm_started || t.reasm[i].buffered() == 0 || side.fin_acked || rst)
        {
            t.sides[i].fin_pending = false;
            t.sides[i].fin_delivered = true;
            if t.sides[i].reasm_started {
                let at = StreamId { conn: id, dir: d };
                let mut out = deliver(at, &mut *app, &mut *sh.sink, &mut gaps[i]);
                t.reasm[i].flush(ctx, sh.budget, &mut out);
            }
            sh.sink.on_fin(StreamId { conn: id, dir: d }, app, ctx);
        }
    }
}

/// Counts the gap bytes each direction's delivery reported (`[ToServer, ToClient]`).
#[cold]
fn add_both_gaps<A>(conn: &mut Conn<A>, gaps: [u64; 2], sh: &mut Shared<'_, A>) {
    for (d, n) in [
        (Direction::ToServer, gaps[0]),
        (Direction::ToClient, gaps[1]),
    ] {
        if n > 0 {
            conn.gap_bytes.add(d, n);
            sh.stats.gap_bytes += n;
        }
    }
}

/// The TCP logic of one packet of `conn` (a TCP connection), written into `flow`.
#[allow(clippy::too_many_arguments)]
fn tcp_step<A>(
    conn: &mut Conn<A>,
    dir: Direction,
    tcp: &TcpInfo,
    data: &[u8],
    frame: &RawFrame<'_>,
    sh: &mut Shared<'_, A>,
    flow: &mut PacketFlow,
) {
    let id = conn.id;
    let ports = conn.ports();
    let Some(t) = conn.tcp.as_deref_mut() else {
        return;
    };
    let (s, r) = (dir.index(), dir.reverse().index());
    let f = tcp.flags;
    let (syn, ack, fin, rst) = (f.syn(), f.ack(), f.fin(), f.rst());
    flow.conn = Some(id);
    flow.dir = Some(dir);

    let notes = sh.config.notes;
    // (A plain segment took on_tcp_plain; any other packet may change the bases, handshake
    // marks, steps or states.)
    let mut note = tcp_step_general(t, &mut conn.roles_guessed, dir, tcp, frame, notes, flow);
    flow.state = Some(t.states());

    // Wireshark's analysis.
    let mut analysis = analysis::AnalysisResult::default();
    t.analyzer
        .analyze_into(&mut analysis, dir, tcp, frame.ts, frame.number, notes);
    flow.analysis = analysis.flags;
    flow.dup_ack_num = analysis.dup_ack_num;
    flow.rtt = analysis.rtt;
    if let Some(n) = analysis.note {
        append_note(&mut note, &n);
    }
    flow.note = note;

    // Reassembly.
    let ctx = SegmentCtx {
        frame: frame.number,
        ts: frame.ts,
        handshake_rtt_ns: handshake_rtt_ns(t.hs_syn, t.hs_ack),
        ports,
    };
    let data_seq = tcp.seq.wrapping_add(u32::from(syn));
    if syn && !t.sides[s].reasm_started {
        t.sides[s].reasm_started = true;
        t.reasm[s].start_at(data_seq);
    }
    let mut gaps = [0u64; 2];
    if !data.is_empty() && !keep_alive_byte(t.sides[s].reasm_started, data.len(), analysis.flags) {
        let at = StreamId { conn: id, dir };
        let cut = stream_data(
            t,
            (at, &mut conn.app),
            (data_seq, data),
            ctx,
            sh,
            &mut gaps[s],
        );
        conn.cut_bytes.add(dir, u64::from(cut));
    }
    if ack && !rst && t.sides[r].reasm_started {
        // The peer's FIN takes one sequence number but carries no byte: an ACK of the FIN
        // acknowledges the stream only up to the FIN, never a missing byte after it.
        let stream_ack = match t.sides[r].fin_seq {
            Some(fs) if seq_ge(tcp.ack, fs) => fs,
            _ => tcp.ack,
        };
        if !t.reasm[r].ack_changes_nothing(stream_ack) {
            let back = StreamId {
                conn: id,
                dir: dir.reverse(),
            };
            let mut out = deliver(back, &mut conn.app, &mut *sh.sink, &mut gaps[r]);
            t.reasm[r].acked(stream_ack, ctx, sh.budget, &mut out);
        }
    }
    // The FIN reaches the sink in stream order: at once when nothing is buffered before
    // it, else when the buffer drains or the peer acknowledges the FIN (gaps reported).
    if fin && !t.sides[s].fin_delivered {
        t.sides[s].fin_pending = true;
    }
    // (One test for the common case: no FIN waiting on either side.)
    if t.sides[0].fin_pending || t.sides[1].fin_pending {
        pending_fins(t, (id, &mut conn.app), dir, rst, ctx, sh, &mut gaps);
    }
    if rst {
        for d in [dir, dir.reverse()] {
            if t.sides[d.index()].reasm_started {
                let at = StreamId { conn: id, dir: d };
                let mut out = deliver(at, &mut conn.app, &mut *sh.sink, &mut gaps[d.index()]);
                t.reasm[d.index()].flush(ctx, sh.budget, &mut out);
            }
        }
    }
    if gaps[0] | gaps[1] != 0 {
        add_both_gaps(conn, gaps, sh);
    }
}

/// [`tcp_step`] for a packet that is not a [`plain_segment`]: bases, relative numbers,
/// handshake marks, steps and endpoint states; returns the note. Kept out of line, so that
/// the common packet's code does not share its registers with this.
#[inline(never)]
fn tcp_step_general(
    t: &mut TcpConn,
    roles_guessed: &mut bool,
    dir: Direction,
    tcp: &TcpInfo,
    frame: &RawFrame<'_>,
    notes: bool,
    flow: &mut PacketFlow,
) -> Option<String> {
    let (s, r) = (dir.index(), dir.reverse().index());
    let f = tcp.flags;
    let (syn, ack, fin, rst) = (f.syn(), f.ack(), f.fin(), f.rst());
    let mut note: Option<String> = None;
    // Retransmitted SYN from the same side (seen before this packet changes anything).
    let syn_again = syn && t.sides[s].saw_syn;
    let prev_isn = t.sides[s].isn;

    // Relative numbers.
    if syn && !t.sides[s].saw_syn {
        let side = &mut t.sides[s];
        side.base = tcp.seq;
        side.base_set = true;
        side.saw_syn = true;
        side.isn = tcp.seq;
        side.wscale = tcp.options.window_scale;
        side.syn_data = tcp.payload_len;
        if !ack && dir == Direction::ToServer {
            *roles_guessed = false;
        }
    } else if !t.sides[s].base_set {
        t.sides[s].base = tcp.seq.wrapping_sub(1);
        t.sides[s].base_set = true;
    }
    if ack && !t.sides[r].base_set {
        t.sides[r].base = tcp.ack.wrapping_sub(1);
        t.sides[r].base_set = true;
    }
    flow.rel_seq = Some(tcp.seq.wrapping_sub(t.sides[s].base));
    let rel_ack = if ack {
        tcp.ack.wrapping_sub(t.sides[r].base)
    } else {
        tcp.ack
    };
    flow.rel_ack = Some(rel_ack);
    // The scale is known once both SYNs were seen: the sender's shift when both carried
    // the option, else none at all (RFC 7323 2.2). A SYN's own window is never scaled.
    if !syn && t.sides[s].saw_syn && t.sides[r].saw_syn {
        let shift = match (t.sides[s].wscale, t.sides[r].wscale) {
            (Some(ws), Some(_)) => ws.min(MAX_WSCALE),
            _ => 0,
        };
        flow.window_scaled = Some(u64::from(tcp.window) << shift);
    }

    // The handshake frames exactly as the conformance tool derives them from tshark.
    let mark = HsMark {
        frame: frame.number,
        ns: ts_ns(frame.ts),
    };
    if syn && !ack && t.hs_syn.is_none() {
        t.hs_syn = Some(mark);
        t.hs_client = Some(dir);
    } else if syn && ack && t.hs_synack.is_none() && t.hs_syn.is_some() && t.hs_client != Some(dir)
    {
        t.hs_synack = Some(mark);
    } else if t.hs_synack.is_some()
        && t.hs_ack.is_none()
        && t.hs_client == Some(dir)
        && ack
        && !syn
        && rel_ack == 1
    {
        t.hs_ack = Some(mark);
    }

    // Steps and endpoint states. Notes are only written when the output shows them
    // (`FlowConfig::notes`); the steps and states are the same either way.
    if rst {
        let sender_state = t.sides[s].state;
        let refused = t.sides[r].saw_syn && !t.sides[s].saw_syn && !t.synack_seen;
        flow.step = Some(if refused { Step::Refused } else { Step::Abort });
        if notes {
            note = Some(if refused {
                format!(
                    "RST from {} answers the SYN: connection refused (no SYN-ACK)",
                    role(dir)
                )
            } else {
                format!("RST from {} in {}", role(dir), sender_state)
            });
        }
        if t.rst.is_none() {
            t.rst = Some((dir, sender_state, refused));
        }
        t.sides[0].state = TcpState::Closed;
        t.sides[1].state = TcpState::Closed;
        t.push_td_frame(frame.number);
    } else if syn && !ack {
        flow.step = Some(Step::Handshake(1));
        let mut n = if !notes {
            String::new()
        } else if syn_again {
            if tcp.seq == prev_isn {
                format!("retransmitted SYN (same ISN {})", tcp.seq)
            } else {
                format!("SYN again with a new ISN {} (was {prev_isn})", tcp.seq)
            }
        } else {
            format!("SYN: {} ISN {}", role(dir), tcp.seq)
        };
        if t.sides[r].saw_syn && !t.synack_seen {
            if notes {
                n.push_str("; simultaneous open: both sides sent a SYN");
            }
            t.sides[s].state = TcpState::SynReceived;
            t.sides[r].state = TcpState::SynReceived;
        } else if matches!(
            t.sides[s].state,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent
        ) {
            t.sides[s].state = TcpState::SynSent;
        }
        if notes {
            syn_data_note(&mut n, tcp);
            note = Some(n);
        }
    } else if syn && ack {
        flow.step = Some(Step::Handshake(2));
        let again = t.synack_seen && syn_again;
        t.synack_seen = true;
        let peer = &t.sides[r];
        let mut n = if !notes {
            String::new()
        } else if peer.saw_syn {
            let want = peer.isn.wrapping_add(1);
            if tcp.ack == want {
                format!(
                    "ack {} = {} ISN {} + 1 ✓",
                    tcp.ack,
                    role(dir.reverse()),
                    peer.isn
                )
            } else if peer.syn_data > 0 && tcp.ack == want.wrapping_add(peer.syn_data) {
                format!(
                    "ack {} = {} ISN {} + 1 + {} bytes of SYN data ✓ (TCP Fast Open)",
                    tcp.ack,
                    role(dir.reverse()),
                    peer.isn,
                    peer.syn_data
                )
            } else {
                format!(
                    "ack {} ✗ expected {} ISN {} + 1 = {want}",
                    tcp.ack,
                    role(dir.reverse()),
                    peer.isn
                )
            }
        } else {
            format!(
                "ack {} ({}'s SYN not captured: its ISN taken as ack − 1)",
                tcp.ack,
                role(dir.reverse())
            )
        };
        if again && notes {
            if tcp.seq == prev_isn {
                n.insert_str(0, "retransmitted SYN-ACK; ");
            } else {
                n.insert_str(0, "SYN-ACK again with a new ISN; ");
            }
        }
        if notes {
            syn_data_note(&mut n, tcp);
            note = Some(n);
        }
        if !matches!(t.sides[s].state, TcpState::Established) {
            t.sides[s].state = TcpState::SynReceived;
        }
        if matches!(
            t.sides[r].state,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived
        ) {
            t.sides[r].state = TcpState::Established;
        }
    } else {
        let mut td_acked_first = false;
        if ack {
            // Handshake step 3: the client's first ACK of the server's SYN.
            if dir == Direction::ToServer && !t.step3_done && t.synack_seen && t.sides[r].saw_syn {
                let want = t.sides[r].isn.wrapping_add(1);
                if tcp.ack == want {
                    t.step3_done = true;
                    flow.step = Some(Step::Handshake(3));
                    if notes {
                        let mut n =
                            format!("ack {} = server ISN {} + 1 ✓", tcp.ack, t.sides[r].isn);
                        if tcp.payload_len > 0 {
                            n.push_str(&format!("; carries {} bytes of data", tcp.payload_len));
                        }
                        note = Some(n);
                    }
                }
            }
            if matches!(t.sides[s].state, TcpState::SynSent | TcpState::SynReceived) {
                t.sides[s].state = TcpState::Established;
            }
            if t.sides[r].state == TcpState::SynReceived {
                t.sides[r].state = TcpState::Established;
            }
            // The peer's FIN acknowledged.
            if let Some(fs) = t.sides[r].fin_seq {
                if !t.sides[r].fin_acked && seq_ge(tcp.ack, fs.wrapping_add(1)) {
                    t.sides[r].fin_acked = true;
                    t.sides[r].state = match t.sides[r].state {
                        TcpState::FinWait1 => TcpState::FinWait2,
                        TcpState::Closing => TcpState::TimeWait,
                        TcpState::LastAck => TcpState::Closed,
                        other => other,
                    };
                    if matches!(t.sides[s].state, TcpState::FinWait2 | TcpState::Closing) {
                        t.sides[s].state = TcpState::TimeWait;
                    }
                    if t.first_fin == Some(dir.reverse()) && !t.td_step2 {
                        t.td_step2 = true;
                        td_acked_first = true;
                        if !fin {
                            flow.step = Some(Step::Teardown(2));
                            if notes {
                                note = Some(format!(
                                    "ack {} = {}'s FIN seq {fs} + 1",
                                    tcp.ack,
                                    role(dir.reverse())
                                ));
                            }
                            t.push_td_frame(frame.number);
                        }
                    } else if t.first_fin == Some(dir) && !t.td_step4 {
                        t.td_step4 = true;
                        flow.step = Some(Step::Teardown(4));
                        if notes {
                            note = Some(format!(
                                "last ACK: ack {} = {}'s FIN seq {fs} + 1",
                                tcp.ack,
                                role(dir.reverse())
                            ));
                        }
                        t.push_td_frame(frame.number);
                    }
                }
            }
        }
        if fin && t.sides[s].fin_seq.is_none() {
            t.sides[s].fin_seq = Some(tcp.seq.wrapping_add(tcp.payload_len));
            let peer_fin_acked = t.sides[r].fin_acked;
            match t.sides[s].state {
                TcpState::CloseWait if !peer_fin_acked => {
                    t.simultaneous = true;
                    t.sides[s].state = TcpState::Closing;
                }
                TcpState::CloseWait => t.sides[s].state = TcpState::LastAck,
                TcpState::Closing | TcpState::LastAck | TcpState::TimeWait => {}
                _ => t.sides[s].state = TcpState::FinWait1,
            }
            // The receiver changes state when the FIN arrives (RFC 9293 3.10.7.4): from
            // FIN-WAIT-2 (its own FIN already acknowledged, perhaps by this very segment)
            // it enters TIME-WAIT at once.
            t.sides[r].state = match t.sides[r].state {
                TcpState::FinWait1 => TcpState::Closing,
                TcpState::FinWait2 => TcpState::TimeWait,
                TcpState::Established | TcpState::SynReceived | TcpState::SynSent => {
                    TcpState::CloseWait
                }
                other => other,
            };
            match t.first_fin {
                None => {
                    t.first_fin = Some(dir);
                    flow.step = Some(Step::Teardown(1));
                    if notes {
                        note = Some(format!("first FIN, from the {}", role(dir)));
                    }
                }
                Some(_) if !t.td_step3 => {
                    t.td_step3 = true;
                    flow.step = Some(Step::Teardown(3));
                    if td_acked_first {
                        t.three_packet = true;
                    }
                    if notes {
                        note = Some(if td_acked_first {
                            "three-packet close: FIN piggy-backed on the ACK".to_string()
                        } else if t.simultaneous {
                            "simultaneous close: this FIN crossed the peer's FIN on the wire"
                                .to_string()
                        } else {
                            format!("{}'s FIN", role(dir))
                        });
                    }
                }
                Some(_) => {}
            }
            t.push_td_frame(frame.number);
        }
        if tcp.payload_len > 0
            && !t.half_close_noted
            && t.sides[r].fin_seq.is_some()
            && t.sides[s].fin_seq.is_none()
        {
            t.half_close_noted = true;
            if notes {
                append_note(
                    &mut note,
                    &format!(
                        "half-close: {} still sends data after the {}'s FIN",
                        role(dir),
                        role(dir.reverse())
                    ),
                );
            }
        }
    }
    t.plain = [t.plain_bits(0), t.plain_bits(1)];
    note
}

#[cfg(test)]
thread_local! {
    /// Tests: take the general paths only, to check that the fast paths change nothing.
    pub(super) static GENERAL_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Tests: packets that took [`on_tcp_plain`].
    pub(super) static PLAIN_TAKEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Whether the flow stage's fast paths may be taken (always, outside tests).
#[inline(always)]
pub(super) fn fast_paths_on() -> bool {
    #[cfg(test)]
    {
        !GENERAL_ONLY.with(std::cell::Cell::get)
    }
    #[cfg(not(test))]
    {
        true
    }
}

/// A packet that changes nothing but the numbers: ACK without SYN, FIN or RST, sent the
/// way [`TcpConn::steady_for`] holds for. For it, the general code sets `rel_seq`, `rel_ack`
/// and `window_scaled` and nothing else; [`tcp_step`] does only that.
#[inline]
fn plain_segment(t: &TcpConn, dir: Direction, tcp: &TcpInfo) -> bool {
    const SYN_FIN_RST_ACK: u16 = TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST | TcpFlags::ACK;
    #[cfg(test)]
    assert_eq!(
        t.plain,
        [t.plain_bits(0), t.plain_bits(1)],
        "stale TcpConn::plain"
    );
    tcp.flags.0 & SYN_FIN_RST_ACK == TcpFlags::ACK
        && t.plain[dir.index()] & PLAIN_STEADY != 0
        && fast_paths_on()
}

fn syn_data_note(n: &mut String, tcp: &TcpInfo) {
    if tcp.payload_len > 0 {
        n.push_str(&format!(
            "; {} bytes of data in the SYN (TCP Fast Open)",
            tcp.payload_len
        ));
    } else if tcp.options.fast_open {
        n.push_str("; TCP Fast Open option");
    }
}

/// The summary of a connection leaving the table.
/// A FIN close's description: the kind of close ("simultaneous close", "three-packet close
/// (FIN piggy-backed on the ACK)", "four-way close"), then " after a half-close", then " (last
/// ACK not captured)"; every combination is a fixed text (no allocation per connection).
fn fin_close_description(
    simultaneous: bool,
    three_packet: bool,
    after_half_close: bool,
    last_ack_missing: bool,
) -> &'static str {
    macro_rules! variants {
        ($base:literal) => {
            match (after_half_close, last_ack_missing) {
                (false, false) => $base,
                (true, false) => concat!($base, " after a half-close"),
                (false, true) => concat!($base, " (last ACK not captured)"),
                (true, true) => concat!($base, " after a half-close (last ACK not captured)"),
            }
        };
    }
    if simultaneous {
        variants!("simultaneous close")
    } else if three_packet {
        variants!("three-packet close (FIN piggy-backed on the ACK)")
    } else {
        variants!("four-way close")
    }
}

fn summarize<A>(conn: &Conn<A>, reason: EndReason) -> ConnSummary {
    let mut handshake = HandshakeSummary::default();
    let mut teardown = TeardownSummary {
        kind: TeardownKind::None,
        initiator: None,
        frames: ArrayVec::new(),
        description: Cow::Borrowed(""),
    };
    let mut final_state = None;
    if let Some(t) = &conn.tcp {
        handshake.frames = [
            t.hs_syn.map(|m| m.frame),
            t.hs_synack.map(|m| m.frame),
            t.hs_ack.map(|m| m.frame),
        ];
        handshake.complete = handshake.frames.iter().all(Option::is_some);
        if let (Some(a), Some(b)) = (t.hs_syn, t.hs_synack) {
            handshake.syn_to_synack_ns = ns_between(a, b);
        }
        if let (Some(a), Some(b)) = (t.hs_synack, t.hs_ack) {
            handshake.synack_to_ack_ns = ns_between(a, b);
        }
        final_state = Some(t.states());
        teardown.frames = t.td_frames.clone();
        let fins = [t.sides[0].fin_seq.is_some(), t.sides[1].fin_seq.is_some()];
        if let Some((dir, state, refused)) = t.rst {
            teardown.kind = TeardownKind::Rst;
            teardown.initiator = Some(dir);
            teardown.description = if refused {
                Cow::Borrowed("refused")
            } else {
                Cow::Owned(format!("abort by RST from {} in {}", role(dir), state))
            };
        } else if fins[0] && fins[1] {
            teardown.kind = TeardownKind::Fin;
            teardown.initiator = t.first_fin;
            teardown.description = Cow::Borrowed(fin_close_description(
                t.simultaneous,
                t.three_packet,
                t.half_close_noted,
                !t.td_step4 && !t.simultaneous,
            ));
        } else if let Some(dir) = t.first_fin {
            teardown.kind = TeardownKind::HalfClose;
            teardown.initiator = Some(dir);
            teardown.description = Cow::Borrowed(match dir {
                Direction::ToServer => "half-close: only the client sent FIN",
                Direction::ToClient => "half-close: only the server sent FIN",
            });
        } else {
            teardown.description = Cow::Borrowed("no FIN or RST seen");
        }
    }
    ConnSummary {
        id: conn.id,
        proto: conn.proto,
        client: conn.client,
        server: conn.server,
        roles_guessed: conn.roles_guessed,
        first_frame: conn.first_frame,
        last_frame: conn.last_frame,
        start: conn.start,
        end: conn.end,
        zeek_end: conn.zeek_end,
        packets: conn.packets,
        bytes: conn.bytes,
        ip_bytes: conn.ip_bytes,
        payload: conn.payload,
        zeek_sizes: match conn.proto {
            Proto::Tcp => conn.zeek.sizes(),
            _ => (conn.payload.to_server, conn.payload.to_client),
        },
        zeek_flipped: conn.zeek.zeek_flipped_roles(),
        handshake,
        teardown,
        conn_state: conn.zeek.conn_state(),
        history: conn.zeek.history(),
        final_state,
        end_reason: reason,
        gap_bytes: conn.gap_bytes,
        cut_bytes: conn.cut_bytes,
        tunnel_parents: ArrayVec::new(),
        encapsulation: None,
        icmp_errors: None,
        timing: conn.tcp.as_ref().map(|t| t.analyzer.timing()),
    }
}
