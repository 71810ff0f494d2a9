//! One TCP connection's packets as the graphs and the RTT table need them, collected by a
//! [`Sink`] from what the flow stage said of each packet (never from a side channel).

use crate::app::AppConnStats;
use crate::capture::RawFrame;
use crate::decode::DecodedPacket;
use crate::flow::rtt::SegmentRtt;
use crate::flow::{AnalysisFlags, ConnId, ConnSummary, Direction, PacketFlow};
use crate::pipeline::Sink;
use crate::render::text::endpoint_string;
use arrayvec::ArrayVec;
use std::collections::BTreeMap;
use std::io;

/// Most packets kept per connection; later ones are counted in [`ConnTrace::cut`].
pub const MAX_TRACE_PACKETS: usize = 500_000;
/// Most connections traced at once; later ones are counted in [`TraceSink::conns_cut`].
pub const MAX_TRACED_CONNS: usize = 1_000;

/// One TCP packet of the connection.
#[derive(Clone, Debug, PartialEq)]
pub struct TracePacket {
    pub frame: u64,
    /// Seconds since the connection's first packet.
    pub t: f64,
    pub dir: Direction,
    /// Relative sequence and acknowledgement numbers (tshark's), payload length.
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub ack_flag: bool,
    /// Advertised receive window in bytes: scaled once the scale is known, else raw.
    pub window: u64,
    pub analysis: AnalysisFlags,
    pub rtt: SegmentRtt,
    /// SACK blocks, relative to the peer's initial sequence number (as `ack`).
    pub sack: ArrayVec<(u32, u32), 4>,
}

/// The packets of one connection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnTrace {
    pub conn: ConnId,
    /// "addr:port" of each side, once the connection ended (None before).
    pub client: Option<String>,
    pub server: Option<String>,
    /// Capture time of the first packet (seconds since the epoch).
    pub start: f64,
    pub packets: Vec<TracePacket>,
    /// Packets past [`MAX_TRACE_PACKETS`], not kept.
    pub cut: u64,
}

impl ConnTrace {
    /// Payload bytes sent in `dir`.
    pub fn payload(&self, dir: Direction) -> u64 {
        self.packets
            .iter()
            .filter(|p| p.dir == dir)
            .map(|p| u64::from(p.len))
            .sum()
    }

    /// The direction that carried more payload (the server's on a tie): the one the
    /// sequence graphs follow by default.
    pub fn busier_direction(&self) -> Direction {
        if self.payload(Direction::ToServer) > self.payload(Direction::ToClient) {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }
}

/// Collects [`ConnTrace`]s of the chosen connections (all TCP ones when `conns` is empty).
#[derive(Debug, Default)]
pub struct TraceSink {
    conns: Vec<ConnId>,
    pub traces: BTreeMap<ConnId, ConnTrace>,
    /// TCP connections not traced because [`MAX_TRACED_CONNS`] were.
    pub conns_cut: u64,
}

impl TraceSink {
    pub fn new(conns: Vec<ConnId>) -> TraceSink {
        TraceSink {
            conns,
            ..TraceSink::default()
        }
    }

    /// One packet into its trace (a TCP packet of a chosen connection).
    pub fn add(&mut self, frame: &RawFrame<'_>, packet: &DecodedPacket<'_>, flow: &PacketFlow) {
        let (Some(conn), Some(dir), Some(tcp)) = (flow.conn, flow.dir, packet.tcp()) else {
            return;
        };
        if !self.conns.is_empty() && !self.conns.contains(&conn) {
            return;
        }
        let ts = frame.ts.as_f64();
        if !self.traces.contains_key(&conn) && self.traces.len() >= MAX_TRACED_CONNS {
            self.conns_cut += 1;
            return;
        }
        let trace = self.traces.entry(conn).or_insert_with(|| ConnTrace {
            conn,
            start: ts,
            ..ConnTrace::default()
        });
        if trace.packets.len() >= MAX_TRACE_PACKETS {
            trace.cut += 1;
            return;
        }
        let seq = flow.rel_seq.unwrap_or(tcp.seq);
        let ack = flow.rel_ack.unwrap_or(tcp.ack);
        // The peer's base: what the relative ack is measured from.
        let peer_base = tcp.ack.wrapping_sub(ack);
        let sack = tcp
            .options
            .sack
            .iter()
            .map(|(l, r)| (l.wrapping_sub(peer_base), r.wrapping_sub(peer_base)))
            .collect();
        trace.packets.push(TracePacket {
            frame: frame.number,
            t: ts - trace.start,
            dir,
            seq,
            ack,
            len: tcp.payload_len,
            syn: tcp.flags.syn(),
            fin: tcp.flags.fin(),
            rst: tcp.flags.rst(),
            ack_flag: tcp.flags.ack(),
            window: flow.window_scaled.unwrap_or(u64::from(tcp.window)),
            analysis: flow.analysis,
            rtt: flow.rtt,
            sack,
        });
    }

    /// The connection's end points, once known.
    pub fn ended(&mut self, conn: &ConnSummary) {
        if let Some(t) = self.traces.get_mut(&conn.id) {
            t.client = Some(endpoint_string(conn.client.ip(), Some(conn.client.port())));
            t.server = Some(endpoint_string(conn.server.ip(), Some(conn.server.port())));
        }
    }
}

impl Sink for TraceSink {
    fn packet(
        &mut self,
        f: &RawFrame<'_>,
        p: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.add(f, p, flow);
        Ok(())
    }
    fn conn_end(&mut self, c: &ConnSummary, _app: &AppConnStats) -> io::Result<()> {
        self.ended(c);
        Ok(())
    }
}
