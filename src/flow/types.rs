//! Types that leave the flow stage.

use crate::capture::Timestamp;
use crate::flow::zeek::HISTORY_CAP;
use arrayvec::{ArrayString, ArrayVec};
use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;

/// Connection (flow) id: counts from 0 in order of each flow's first packet.
pub type ConnId = u64;

/// Which way a packet travels within its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToServer => "to_server",
            Direction::ToClient => "to_client",
        }
    }
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
    /// `→` to the server, `←` to the client.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ToServer => "→",
            Direction::ToClient => "←",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
    /// ICMP messages between two hosts, keyed as Zeek keys them: the endpoints' "ports" are
    /// the originator's message type and its counterpart type (echo 8 ↔ reply 0 …), or the
    /// code for a one-way message (see `flow/tracker/icmp.rs`).
    Icmp,
    /// ICMPv6, keyed as ICMP.
    Icmpv6,
    /// An SCTP association (its two ports; see `flow/tracker/sctp.rs`).
    Sctp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Icmpv6 => "icmpv6",
            Proto::Sctp => "sctp",
        }
    }
    /// The IP protocol number (IANA).
    pub fn ip_proto(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
            Proto::Icmpv6 => 58,
            Proto::Sctp => 132,
        }
    }
    /// Zeek's `transport_proto` name (conn.log `proto`): Zeek logs ICMPv6 as `icmp`. Zeek
    /// has no SCTP transport; layerscope writes `sctp` (README: Zeek logs).
    pub fn zeek_name(self) -> &'static str {
        match self {
            Proto::Icmpv6 => "icmp",
            p => p.as_str(),
        }
    }
}

/// An endpoint's TCP state (RFC 9293 names), as an observer at the capture point infers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl TcpState {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }
}

impl TcpState {
    /// The endpoint states (client, server) before a connection's first packet, a SYN:
    /// CLOSED and LISTEN, or CLOSED and CLOSED when the connection turns out refused (a
    /// RST answered the SYN: nothing listened).
    pub fn before_syn(refused: bool) -> (TcpState, TcpState) {
        let server = if refused {
            TcpState::Closed
        } else {
            TcpState::Listen
        };
        (TcpState::Closed, server)
    }

    /// The endpoint states a packet was reported with (what was known at that packet), as
    /// the connection's end shows them: when it was refused, the server side reported
    /// LISTEN before the RST was CLOSED (nothing listened).
    pub fn in_hindsight(states: (TcpState, TcpState), refused: bool) -> (TcpState, TcpState) {
        match states {
            (c, TcpState::Listen) if refused => (c, TcpState::Closed),
            s => s,
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role a packet plays in opening or closing its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Three-way handshake step 1, 2 or 3.
    Handshake(u8),
    /// Four-way teardown step 1..=4.
    Teardown(u8),
    /// A RST that aborts the connection.
    Abort,
    /// A RST answering a SYN: the connection was refused.
    Refused,
}

impl Step {
    /// "handshake 1/3", "teardown 2/4", "abort (RST)", "refused (RST)".
    pub fn label(self) -> &'static str {
        match self {
            Step::Handshake(1) => "handshake 1/3",
            Step::Handshake(2) => "handshake 2/3",
            Step::Handshake(_) => "handshake 3/3",
            Step::Teardown(1) => "teardown 1/4",
            Step::Teardown(2) => "teardown 2/4",
            Step::Teardown(3) => "teardown 3/4",
            Step::Teardown(_) => "teardown 4/4",
            Step::Abort => "abort (RST)",
            Step::Refused => "refused (RST)",
        }
    }
}

/// Wireshark's TCP analysis flags (`tcp.analysis.*`), as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AnalysisFlags(pub u16);

impl AnalysisFlags {
    pub const RETRANSMISSION: u16 = 1 << 0;
    pub const FAST_RETRANSMISSION: u16 = 1 << 1;
    pub const SPURIOUS_RETRANSMISSION: u16 = 1 << 2;
    pub const OUT_OF_ORDER: u16 = 1 << 3;
    pub const DUPLICATE_ACK: u16 = 1 << 4;
    pub const ZERO_WINDOW: u16 = 1 << 5;
    pub const ZERO_WINDOW_PROBE: u16 = 1 << 6;
    pub const ZERO_WINDOW_PROBE_ACK: u16 = 1 << 7;
    pub const KEEP_ALIVE: u16 = 1 << 8;
    pub const KEEP_ALIVE_ACK: u16 = 1 << 9;
    pub const LOST_SEGMENT: u16 = 1 << 10;
    pub const ACK_LOST_SEGMENT: u16 = 1 << 11;
    pub const WINDOW_UPDATE: u16 = 1 << 12;
    pub const WINDOW_FULL: u16 = 1 << 13;
    pub const REUSED_PORTS: u16 = 1 << 14;
    /// tshark's field names, in bit order.
    pub const NAMES: [(&'static str, u16); 15] = [
        ("retransmission", Self::RETRANSMISSION),
        ("fast_retransmission", Self::FAST_RETRANSMISSION),
        ("spurious_retransmission", Self::SPURIOUS_RETRANSMISSION),
        ("out_of_order", Self::OUT_OF_ORDER),
        ("duplicate_ack", Self::DUPLICATE_ACK),
        ("zero_window", Self::ZERO_WINDOW),
        ("zero_window_probe", Self::ZERO_WINDOW_PROBE),
        ("zero_window_probe_ack", Self::ZERO_WINDOW_PROBE_ACK),
        ("keep_alive", Self::KEEP_ALIVE),
        ("keep_alive_ack", Self::KEEP_ALIVE_ACK),
        ("lost_segment", Self::LOST_SEGMENT),
        ("ack_lost_segment", Self::ACK_LOST_SEGMENT),
        ("window_update", Self::WINDOW_UPDATE),
        ("window_full", Self::WINDOW_FULL),
        ("reused_ports", Self::REUSED_PORTS),
    ];
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
    pub fn set(&mut self, bit: u16) {
        self.0 |= bit;
    }
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(_, bit)| self.has(*bit))
            .map(|(n, _)| n)
    }
}

/// What the flow stage says about one packet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PacketFlow {
    pub conn: Option<ConnId>,
    pub dir: Option<Direction>,
    /// TCP sequence and acknowledgement numbers relative to each side's initial sequence
    /// number (tshark's semantics: SYN = 0, first data byte = 1; without a SYN the first
    /// seen seq is the base). Without the ACK flag, `rel_ack` is the raw ack field, as tshark shows it.
    pub rel_seq: Option<u32>,
    pub rel_ack: Option<u32>,
    /// Window in bytes after scaling, once both SYNs were seen (the scale is then known:
    /// the option's shift when both SYNs carried it, else 1). None: the scale is unknown
    /// (a SYN was not captured) or this is a SYN (never scaled).
    pub window_scaled: Option<u64>,
    pub step: Option<Step>,
    /// (client, server) state after this packet.
    pub state: Option<(TcpState, TcpState)>,
    pub analysis: AnalysisFlags,
    /// Duplicate ACK number (#n) when `duplicate_ack` is set.
    pub dup_ack_num: u32,
    /// Why the step or analysis flags were set, with this packet's own numbers
    /// ("ack 3795283201 = client ISN 3795283200 + 1 ✓", "retransmission: seq 201 < next
    /// expected 501"). Only set on annotated packets.
    pub note: Option<String>,
    /// This packet opened a new connection id.
    pub new_conn: bool,
    /// A late packet of `conn`, which had ended closed before it (told by the connection's
    /// tombstone): it changed nothing, and the connection's record was already written.
    pub late: bool,
    /// The connections of the UDP tunnels that carried this packet, outermost first
    /// (JSON `outer_conns`).
    pub outer_conns: ArrayVec<ConnId, { crate::decode::MAX_OUTER_FLOWS }>,
    /// An ICMP error's quoted packet belongs to this connection, in this direction (the
    /// error's own: towards the quoted packet's sender). JSON `quoted_conn`.
    pub quoted_conn: Option<(ConnId, Direction)>,
    /// tshark's `tcp.analysis.ack_rtt` and `bytes_in_flight`, and the RTT estimators after
    /// a sample (TCP connections only).
    pub rtt: crate::flow::rtt::SegmentRtt,
}

/// Most tunnel flows kept in one connection's `tunnel_parents`.
pub const MAX_TUNNEL_PARENTS: usize = 8;

/// Per-direction counters of a connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerDir {
    pub to_server: u64,
    pub to_client: u64,
}

impl PerDir {
    pub fn add(&mut self, dir: Direction, n: u64) {
        match dir {
            Direction::ToServer => self.to_server += n,
            Direction::ToClient => self.to_client += n,
        }
    }
    pub fn get(&self, dir: Direction) -> u64 {
        match dir {
            Direction::ToServer => self.to_server,
            Direction::ToClient => self.to_client,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct HandshakeSummary {
    /// Frames of SYN, SYN-ACK, ACK (None where missing).
    pub frames: [Option<u64>; 3],
    pub complete: bool,
    /// SYN → SYN-ACK and SYN-ACK → ACK at the capture point, in nanoseconds.
    pub syn_to_synack_ns: Option<u64>,
    pub synack_to_ack_ns: Option<u64>,
}

impl HandshakeSummary {
    /// SYN → ACK in nanoseconds.
    pub fn rtt_ns(&self) -> Option<u64> {
        self.syn_to_synack_ns
            .zip(self.synack_to_ack_ns)
            .map(|(a, b)| a.saturating_add(b))
    }

    /// SYN → ACK in milliseconds (the JSON `rtt_ms`).
    pub fn rtt_ms(&self) -> Option<f64> {
        self.rtt_ns().map(|ns| ns as f64 / 1e6)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeardownKind {
    Fin,
    Rst,
    HalfClose,
    None,
}

impl TeardownKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TeardownKind::Fin => "fin",
            TeardownKind::Rst => "rst",
            TeardownKind::HalfClose => "half-close",
            TeardownKind::None => "none",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TeardownSummary {
    pub kind: TeardownKind,
    /// Who sent the first FIN (or the RST).
    pub initiator: Option<Direction>,
    /// Frames of the teardown steps (FINs, their ACKs, RSTs), in order; at most 8 kept
    /// (inline: a summary costs no allocation).
    pub frames: ArrayVec<u64, 8>,
    /// Plain description: "four-way close", "three-packet close (FIN piggy-backed on the
    /// ACK)", "simultaneous close", "abort by RST from server in ESTABLISHED", "refused".
    /// Borrowed from a fixed text except for an abort, which names the state.
    pub description: Cow<'static, str>,
}

/// Why a connection left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    Closed,
    Reset,
    Idle,
    EndOfInput,
    /// Evicted to stay under the flow-table cap.
    Evicted,
    /// A new connection reused the 4-tuple.
    Reused,
}

/// Everything known about a connection when it leaves the table.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnSummary {
    pub id: ConnId,
    pub proto: Proto,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// The roles were guessed (no SYN seen).
    pub roles_guessed: bool,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Where Zeek's conn.log duration ends: the last packet before both sides had sent a
    /// FIN (Zeek does not move a connection's time once both have).
    pub zeek_end: Timestamp,
    pub packets: PerDir,
    pub bytes: PerDir,
    /// IP total lengths (Zeek's `orig_ip_bytes`/`resp_ip_bytes`).
    pub ip_bytes: PerDir,
    pub payload: PerDir,
    /// Zeek's conn.log (`orig_bytes`, `resp_bytes`), in Zeek's originator/responder order:
    /// for TCP from the sequence numbers (`TCP_Endpoint::Size`), for UDP the payload.
    pub zeek_sizes: (u64, u64),
    /// Zeek's originator is this connection's server (Zeek flipped the roles where
    /// layerscope did not).
    pub zeek_flipped: bool,
    pub handshake: HandshakeSummary,
    pub teardown: TeardownSummary,
    /// Zeek conn.log conn_state ("SF", "S0", "REJ", …) and history ("ShADadFf").
    pub conn_state: &'static str,
    /// At most [`crate::flow::zeek::HISTORY_CAP`] letters, kept inline.
    pub history: ArrayString<HISTORY_CAP>,
    /// Final (client, server) TCP states (None for UDP).
    pub final_state: Option<(TcpState, TcpState)>,
    pub end_reason: EndReason,
    /// Bytes the reassembler could not deliver (gaps) and bytes it cut to stay under its
    /// caps, per direction.
    pub gap_bytes: PerDir,
    pub cut_bytes: PerDir,
    /// The connections this one travels inside: the UDP tunnel flows that carried any of
    /// its packets, in the order first seen (the first packet's outermost first); at most
    /// [`MAX_TUNNEL_PARENTS`] (more counted in `tunnel_parents_cut`).
    pub tunnel_parents: ArrayVec<ConnId, MAX_TUNNEL_PARENTS>,
    /// What the connection's first packet travelled in (VLAN tags, MPLS labels, PPPoE,
    /// GRE, VXLAN …, outermost first); `None` when nothing.
    pub encapsulation: Option<Box<crate::decode::Encapsulation>>,
    /// The ICMP errors that quoted a packet of this connection (JSON `icmp_errors`).
    pub icmp_errors: Option<crate::flow::icmp_error::IcmpErrors>,
    /// The request/response timeline and what limited the transfer (TCP only).
    pub timing: Option<crate::flow::timing::ConnTiming>,
}

#[cfg(test)]
impl ConnSummary {
    /// A connection from `client` to `server` with nothing else seen (for renderer tests).
    pub(crate) fn example(proto: Proto, client: SocketAddr, server: SocketAddr) -> ConnSummary {
        ConnSummary {
            id: 0,
            proto,
            client,
            server,
            roles_guessed: false,
            first_frame: 1,
            last_frame: 1,
            start: Timestamp::default(),
            end: Timestamp::default(),
            zeek_end: Timestamp::default(),
            packets: PerDir::default(),
            bytes: PerDir::default(),
            ip_bytes: PerDir::default(),
            payload: PerDir::default(),
            zeek_sizes: (0, 0),
            zeek_flipped: false,
            tunnel_parents: ArrayVec::new(),
            encapsulation: None,
            icmp_errors: None,
            timing: None,
            handshake: HandshakeSummary::default(),
            teardown: TeardownSummary {
                kind: TeardownKind::None,
                initiator: None,
                frames: ArrayVec::new(),
                description: Cow::Borrowed(""),
            },
            conn_state: "OTH",
            history: ArrayString::new(),
            final_state: None,
            end_reason: EndReason::EndOfInput,
            gap_bytes: PerDir::default(),
            cut_bytes: PerDir::default(),
        }
    }
}

/// Where a chunk of stream bytes came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentCtx {
    /// Frame that carried these bytes.
    pub frame: u64,
    pub ts: Timestamp,
    /// The connection's handshake round trip (SYN → ACK, ns) once its handshake was seen:
    /// the app stage takes one RTT off a server's wait with it.
    pub handshake_rtt_ns: Option<u64>,
    /// The connection's (client, server) ports (TCP and UDP; None for other protocols):
    /// the app stage trusts DNS on DNS ports.
    pub ports: Option<(u16, u16)>,
}

impl SegmentCtx {
    /// Bytes of `frame` at `ts`, with no handshake RTT or ports known (yet).
    pub const fn at(frame: u64, ts: Timestamp) -> SegmentCtx {
        SegmentCtx {
            frame,
            ts,
            handshake_rtt_ns: None,
            ports: None,
        }
    }
}

/// One direction of one connection: whose bytes a stream call carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamId {
    pub conn: ConnId,
    pub dir: Direction,
}

/// Receiver of in-order application bytes (implemented by `app`). `A` is what the
/// receiver keeps per connection: the flow table's slot holds it beside the flow's own
/// state and hands it (`app`) with every call (`()` for receivers that keep nothing there).
pub trait StreamSink<A = ()> {
    /// In-order TCP bytes of one direction. Called once per contiguous chunk; bytes that
    /// were buffered out of order are delivered with the frame that carried them.
    fn on_data(&mut self, at: StreamId, app: &mut A, data: &[u8], ctx: SegmentCtx);
    /// `len` bytes of one direction were never captured (or were cut): the parser must
    /// resynchronise.
    fn on_gap(&mut self, at: StreamId, app: &mut A, len: u64, ctx: SegmentCtx);
    /// One UDP datagram's payload.
    fn on_datagram(&mut self, at: StreamId, app: &mut A, data: &[u8], ctx: SegmentCtx);
    /// A direction ended with a FIN (close-delimited bodies end here).
    fn on_fin(&mut self, at: StreamId, app: &mut A, ctx: SegmentCtx);
    /// The connection leaves the table: flush what `app` holds (it then goes with the
    /// connection's summary, [`Ended`]).
    fn on_close(&mut self, conn: ConnId, app: &mut A);
}

/// A connection that left the flow table: its summary, and what the stream sink kept in
/// its slot (`A` of [`StreamSink`]), handed on together.
#[derive(Debug)]
pub struct Ended<A = ()> {
    pub summary: ConnSummary,
    pub state: A,
}

/// A sink that ignores everything (for flow-only use and tests).
pub struct NullSink;

impl<A> StreamSink<A> for NullSink {
    fn on_data(&mut self, _: StreamId, _: &mut A, _: &[u8], _: SegmentCtx) {}
    fn on_gap(&mut self, _: StreamId, _: &mut A, _: u64, _: SegmentCtx) {}
    fn on_datagram(&mut self, _: StreamId, _: &mut A, _: &[u8], _: SegmentCtx) {}
    fn on_fin(&mut self, _: StreamId, _: &mut A, _: SegmentCtx) {}
    fn on_close(&mut self, _: ConnId, _: &mut A) {}
}

/// Counters of what the flow stage evicted or cut (never silent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    pub conns: u64,
    pub evicted_flows: u64,
    pub reassembly_cut_bytes: u64,
    pub gap_bytes: u64,
    /// Tombstones of closed connections pushed out by newer ones (`max_tombstones`): a late
    /// packet of such a connection would start a new one.
    pub tombstones_evicted: u64,
    /// Tunnel flows a connection travelled in past the [`MAX_TUNNEL_PARENTS`] its
    /// `tunnel_parents` keep.
    pub tunnel_parents_cut: u64,
    /// Closed connections ended before their linger was over because more than
    /// `max_lingering` lingered (their late packets were told by their tombstones).
    pub lingers_cut: u64,
}

/// Limits and timeouts of the flow stage.
#[derive(Clone, Debug)]
pub struct FlowConfig {
    /// Most connections tracked at once; the oldest idle is evicted beyond it.
    pub max_flows: usize,
    /// Bytes of out-of-order data buffered per direction of one connection.
    pub max_reassembly_per_flow: usize,
    /// Bytes of out-of-order data buffered over all connections.
    pub max_reassembly_total: usize,
    /// UDP flows end after this much capture time without a packet (ns).
    pub udp_idle_ns: u64,
    /// TCP flows end after this much capture time without a packet (ns).
    pub tcp_idle_ns: u64,
    /// A closed (FIN both ways, or RST) connection stays this long for late packets (ns).
    pub closed_linger_ns: u64,
    /// Closed connections lingering at once; beyond it the one closed longest ends before
    /// its linger is over (counted in `FlowStats::lingers_cut`) and leaves its tombstone.
    pub max_lingering: usize,
    /// Tombstones kept of connections that ended closed, to tell their late packets (see
    /// `flow::tombstone`); the oldest is pushed out beyond it.
    pub max_tombstones: usize,
    /// Write [`PacketFlow::note`]s (the "why" of a step or an analysis flag). Off when no
    /// output shows them: steps, states and flags are the same either way, only the text
    /// is not formatted.
    pub notes: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 100_000,
            max_reassembly_per_flow: 1 << 20,
            max_reassembly_total: 64 << 20,
            udp_idle_ns: 600_000_000_000,
            tcp_idle_ns: 3_600_000_000_000,
            closed_linger_ns: 2_000_000_000,
            max_lingering: 1_024,
            max_tombstones: 32_768,
            notes: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TcpState::*;
    use super::*;

    #[test]
    fn a_refusal_shows_the_server_never_listened() {
        assert_eq!(TcpState::before_syn(false), (Closed, Listen));
        assert_eq!(TcpState::before_syn(true), (Closed, Closed));
        // The SYN's row: LISTEN only while the refusal is not known.
        assert_eq!(
            TcpState::in_hindsight((SynSent, Listen), false),
            (SynSent, Listen)
        );
        assert_eq!(
            TcpState::in_hindsight((SynSent, Listen), true),
            (SynSent, Closed)
        );
        // Other states are what they were reported as.
        for s in [
            (Closed, Closed),
            (Established, Established),
            (SynSent, SynReceived),
        ] {
            assert_eq!(TcpState::in_hindsight(s, true), s);
        }
    }
}
