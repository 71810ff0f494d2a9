//! Hand-built packet sequences through the tracker, with hand-worked numbers.

use super::*;
use crate::capture::LinkType;
use crate::decode::{LinkInfo, NetInfo, TcpFlags, TcpOptions, UdpInfo};

const SYN: u16 = TcpFlags::SYN;
const ACK: u16 = TcpFlags::ACK;
const FIN: u16 = TcpFlags::FIN;
const RST: u16 = TcpFlags::RST;
const PSH: u16 = TcpFlags::PSH;

/// Everything the tracker told the sink, in order.
#[derive(Default)]
struct RecSink {
    events: Vec<String>,
}

impl StreamSink for RecSink {
    fn on_data(&mut self, at: StreamId, _: &mut (), data: &[u8], ctx: SegmentCtx) {
        let (conn, dir, len) = (at.conn, at.dir.as_str(), data.len());
        self.events
            .push(format!("data {conn} {dir} {len} f{}", ctx.frame));
    }
    fn on_gap(&mut self, at: StreamId, _: &mut (), len: u64, ctx: SegmentCtx) {
        let (conn, dir) = (at.conn, at.dir.as_str());
        self.events
            .push(format!("gap {conn} {dir} {len} f{}", ctx.frame));
    }
    fn on_datagram(&mut self, at: StreamId, _: &mut (), data: &[u8], ctx: SegmentCtx) {
        let (conn, dir, len) = (at.conn, at.dir.as_str(), data.len());
        self.events
            .push(format!("dgram {conn} {dir} {len} f{}", ctx.frame));
    }
    fn on_fin(&mut self, at: StreamId, _: &mut (), ctx: SegmentCtx) {
        let (conn, dir) = (at.conn, at.dir.as_str());
        self.events.push(format!("fin {conn} {dir} f{}", ctx.frame));
    }
    fn on_close(&mut self, conn: ConnId, _: &mut ()) {
        self.events.push(format!("close {conn}"));
    }
}

/// Feeds hand-built packets, one millisecond apart, between a client 10.0.0.1:40000 and a
/// server 10.0.0.2:80 (or any endpoints given).
struct Harness {
    ft: FlowTracker,
    sink: RecSink,
    /// The summaries of the connections ended so far, in order.
    ended: Vec<ConnSummary>,
    /// What the tracker's last call ended (moved into `ended` after each call).
    scratch: Vec<Ended>,
    frame: u64,
    ns: i64,
}

const CLIENT: &str = "10.0.0.1:40000";
const SERVER: &str = "10.0.0.2:80";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

fn tcp_info(src: SocketAddr, dst: SocketAddr, flags: u16, seq: u32, ack: u32, len: u32) -> TcpInfo {
    TcpInfo {
        src_port: src.port(),
        dst_port: dst.port(),
        seq,
        ack,
        flags: TcpFlags(flags),
        window: 1000,
        header_len: 20,
        options: TcpOptions::default(),
        payload_len: len,
    }
}

fn packet<'a>(
    src: SocketAddr,
    dst: SocketAddr,
    transport: Transport,
    payload: &'a [u8],
) -> DecodedPacket<'a> {
    DecodedPacket {
        layers: ArrayVec::new(),
        link: LinkInfo::default(),
        arp: None,
        net: Some(NetInfo {
            src: src.ip(),
            dst: dst.ip(),
            protocol: match transport {
                Transport::Udp(_) => 17,
                _ => 6,
            },
            ttl: 64,
            ident: 0,
            fragment: None,
            total_len: 40 + payload.len() as u32,
        }),
        transport: Some(transport),
        payload,
        payload_offset: 54,
        reassembled: false,
        fragment_pending: false,
        first_fragment: None,
        fcs_len: 0,
        issue: None,
        outer_flows: ArrayVec::new(),
        app_frames: crate::app::FrameNames::NONE,
    }
}

impl Harness {
    fn new() -> Harness {
        Harness::with(FlowConfig::default())
    }
    fn with(config: FlowConfig) -> Harness {
        Harness {
            ft: FlowTracker::new(config),
            sink: RecSink::default(),
            ended: Vec::new(),
            scratch: Vec::new(),
            frame: 0,
            ns: 1_000_000_000_000,
        }
    }
    fn next_frame(&mut self) -> RawFrame<'static> {
        self.frame += 1;
        self.ns += 1_000_000;
        RawFrame {
            number: self.frame,
            ts: self.ts(),
            link: LinkType::ETHERNET,
            interface: 0,
            file: 0,
            orig_len: 100,
            data: &[],
        }
    }
    fn ts(&self) -> Timestamp {
        Timestamp {
            secs: self.ns / 1_000_000_000,
            nanos: (self.ns % 1_000_000_000) as u32,
            precision: 9,
        }
    }
    fn advance_secs(&mut self, secs: f64) {
        self.ns += (secs * 1e9) as i64;
    }
    fn send_info(&mut self, src: &str, dst: &str, tcp: TcpInfo, data: &[u8]) -> PacketFlow {
        let frame = self.next_frame();
        let p = packet(addr(src), addr(dst), Transport::Tcp(tcp), data);
        let flow = self
            .ft
            .process(&frame, &p, &mut self.sink, &mut self.scratch);
        self.collect();
        flow
    }
    fn send(
        &mut self,
        src: &str,
        dst: &str,
        flags: u16,
        seq: u32,
        ack: u32,
        data: &[u8],
    ) -> PacketFlow {
        let tcp = tcp_info(addr(src), addr(dst), flags, seq, ack, data.len() as u32);
        self.send_info(src, dst, tcp, data)
    }
    /// Client to server.
    fn c(&mut self, flags: u16, seq: u32, ack: u32, data: &[u8]) -> PacketFlow {
        self.send(CLIENT, SERVER, flags, seq, ack, data)
    }
    /// Server to client.
    fn s(&mut self, flags: u16, seq: u32, ack: u32, data: &[u8]) -> PacketFlow {
        self.send(SERVER, CLIENT, flags, seq, ack, data)
    }
    fn udp(&mut self, src: &str, dst: &str, data: &[u8]) -> PacketFlow {
        let frame = self.next_frame();
        let (a, b) = (addr(src), addr(dst));
        let u = UdpInfo {
            src_port: a.port(),
            dst_port: b.port(),
            length: 8 + data.len() as u16,
        };
        let p = packet(a, b, Transport::Udp(u), data);
        let flow = self
            .ft
            .process(&frame, &p, &mut self.sink, &mut self.scratch);
        self.collect();
        flow
    }
    /// Client ISN 1000, server ISN 5000: frames 1-3.
    fn handshake(&mut self) {
        self.c(SYN, 1000, 0, b"");
        self.s(SYN | ACK, 5000, 1001, b"");
        self.c(ACK, 1001, 5001, b"");
    }
    /// `client`'s SYN (ISN 1000) to the server, refused by RST+ACK: two frames.
    fn refused(&mut self, client: &str) {
        self.send(client, SERVER, SYN, 1000, 0, b"");
        self.send(SERVER, client, RST | ACK, 0, 1001, b"");
    }
    fn expire(&mut self) {
        let now = self.ts();
        self.ft.expire(now, &mut self.sink, &mut self.scratch);
        self.collect();
    }
    fn finish(&mut self) {
        self.ft.finish(&mut self.sink, &mut self.scratch);
        self.collect();
    }
    fn finish_some(&mut self, max: usize) -> bool {
        let more = self.ft.finish_some(&mut self.sink, &mut self.scratch, max);
        self.collect();
        more
    }
    /// Moves what the last call ended into `ended`.
    fn collect(&mut self) {
        self.ended.extend(self.scratch.drain(..).map(|e| e.summary));
    }
}

use TcpState::*;

fn check(flow: &PacketFlow, step: Option<Step>, seq: u32, ack: u32, state: (TcpState, TcpState)) {
    assert_eq!(flow.step, step, "step of {flow:?}");
    assert_eq!(flow.rel_seq, Some(seq), "rel seq of {flow:?}");
    assert_eq!(flow.rel_ack, Some(ack), "rel ack of {flow:?}");
    assert_eq!(flow.state, Some(state), "state of {flow:?}");
}

fn note(flow: &PacketFlow) -> &str {
    flow.note.as_deref().unwrap_or("")
}

#[test]
fn handshake_data_and_four_way_close() {
    let mut h = Harness::new();
    let f = h.c(SYN, 1000, 0, b"");
    check(&f, Some(Step::Handshake(1)), 0, 0, (SynSent, Listen));
    assert_eq!(
        (f.conn, f.dir, f.new_conn),
        (Some(0), Some(Direction::ToServer), true)
    );
    let f = h.s(SYN | ACK, 5000, 1001, b"");
    check(
        &f,
        Some(Step::Handshake(2)),
        0,
        1,
        (Established, SynReceived),
    );
    assert_eq!(note(&f), "ack 1001 = client ISN 1000 + 1 ✓");
    assert_eq!((f.dir, f.new_conn), (Some(Direction::ToClient), false));
    let f = h.c(ACK, 1001, 5001, b"");
    check(
        &f,
        Some(Step::Handshake(3)),
        1,
        1,
        (Established, Established),
    );
    assert_eq!(note(&f), "ack 5001 = server ISN 5000 + 1 ✓");
    let f = h.c(PSH | ACK, 1001, 5001, b"GET");
    check(&f, None, 1, 1, (Established, Established));
    assert_eq!(f.note, None);
    let f = h.s(PSH | ACK, 5001, 1004, b"OK!!");
    check(&f, None, 1, 4, (Established, Established));
    let f = h.c(FIN | ACK, 1004, 5005, b"");
    check(&f, Some(Step::Teardown(1)), 4, 5, (FinWait1, CloseWait));
    let f = h.s(ACK, 5005, 1005, b"");
    check(&f, Some(Step::Teardown(2)), 5, 5, (FinWait2, CloseWait));
    let f = h.s(FIN | ACK, 5005, 1005, b"");
    check(&f, Some(Step::Teardown(3)), 5, 5, (TimeWait, LastAck));
    let f = h.c(ACK, 1005, 5006, b"");
    check(&f, Some(Step::Teardown(4)), 5, 6, (TimeWait, Closed));
    assert!(h.ended.is_empty());
    h.finish();
    assert_eq!(h.ended.len(), 1);
    let c = &h.ended[0];
    assert_eq!(c.id, 0);
    assert_eq!(c.client, addr(CLIENT));
    assert_eq!(c.server, addr(SERVER));
    assert!(!c.roles_guessed);
    assert_eq!((c.first_frame, c.last_frame), (1, 9));
    assert_eq!(
        c.packets,
        PerDir {
            to_server: 5,
            to_client: 4
        }
    );
    assert_eq!(
        c.bytes,
        PerDir {
            to_server: 500,
            to_client: 400
        }
    );
    assert_eq!(
        c.payload,
        PerDir {
            to_server: 3,
            to_client: 4
        }
    );
    assert_eq!(c.handshake.frames, [Some(1), Some(2), Some(3)]);
    assert!(c.handshake.complete);
    assert_eq!(c.handshake.syn_to_synack_ns, Some(1_000_000));
    assert_eq!(c.handshake.rtt_ms(), Some(2.0));
    assert_eq!(c.teardown.kind, TeardownKind::Fin);
    assert_eq!(c.teardown.initiator, Some(Direction::ToServer));
    assert_eq!(c.teardown.frames.as_slice(), [6, 7, 8, 9]);
    assert_eq!(c.teardown.description, "four-way close");
    assert_eq!(c.final_state, Some((TimeWait, Closed)));
    assert_eq!(c.end_reason, EndReason::Closed);
    assert_eq!(
        h.sink.events,
        vec![
            "data 0 to_server 3 f4",
            "data 0 to_client 4 f5",
            "fin 0 to_server f6",
            "fin 0 to_client f8",
            "close 0"
        ]
    );
}

#[test]
fn three_packet_close() {
    let mut h = Harness::new();
    h.handshake();
    let f = h.c(FIN | ACK, 1001, 5001, b"");
    check(&f, Some(Step::Teardown(1)), 1, 1, (FinWait1, CloseWait));
    let f = h.s(FIN | ACK, 5001, 1002, b"");
    check(&f, Some(Step::Teardown(3)), 1, 2, (TimeWait, LastAck));
    assert_eq!(note(&f), "three-packet close: FIN piggy-backed on the ACK");
    let f = h.c(ACK, 1002, 5002, b"");
    check(&f, Some(Step::Teardown(4)), 2, 2, (TimeWait, Closed));
    h.finish();
    let c = &h.ended[0];
    assert_eq!(
        c.teardown.description,
        "three-packet close (FIN piggy-backed on the ACK)"
    );
    assert_eq!(c.teardown.frames.as_slice(), [4, 5, 6]);
}

#[test]
fn simultaneous_close() {
    let mut h = Harness::new();
    h.handshake();
    let f = h.c(FIN | ACK, 1001, 5001, b"");
    check(&f, Some(Step::Teardown(1)), 1, 1, (FinWait1, CloseWait));
    // The server's FIN does not acknowledge the client's: they crossed.
    let f = h.s(FIN | ACK, 5001, 1001, b"");
    check(&f, Some(Step::Teardown(3)), 1, 1, (Closing, Closing));
    assert!(note(&f).starts_with("simultaneous close"), "{}", note(&f));
    let f = h.c(ACK, 1002, 5002, b"");
    check(&f, Some(Step::Teardown(4)), 2, 2, (TimeWait, TimeWait));
    let f = h.s(ACK, 5002, 1002, b"");
    check(&f, Some(Step::Teardown(2)), 2, 2, (TimeWait, TimeWait));
    h.finish();
    assert_eq!(h.ended[0].teardown.description, "simultaneous close");
    assert_eq!(h.ended[0].teardown.kind, TeardownKind::Fin);
}

#[test]
fn half_close_then_server_keeps_sending() {
    let mut h = Harness::new();
    h.handshake();
    h.c(FIN | ACK, 1001, 5001, b"");
    let f = h.s(ACK, 5001, 1002, b"");
    check(&f, Some(Step::Teardown(2)), 1, 2, (FinWait2, CloseWait));
    let f = h.s(PSH | ACK, 5001, 1002, b"0123456789");
    check(&f, None, 1, 2, (FinWait2, CloseWait));
    assert_eq!(
        note(&f),
        "half-close: server still sends data after the client's FIN"
    );
    let f = h.c(ACK, 1002, 5011, b"");
    check(&f, None, 2, 11, (FinWait2, CloseWait));
    h.finish();
    let c = &h.ended[0];
    assert_eq!(c.teardown.kind, TeardownKind::HalfClose);
    assert_eq!(
        c.teardown.description,
        "half-close: only the client sent FIN"
    );
    assert_eq!(c.end_reason, EndReason::EndOfInput);
    assert_eq!(c.final_state, Some((FinWait2, CloseWait)));
}

#[test]
fn rst_abort_in_established() {
    let mut h = Harness::new();
    h.handshake();
    h.c(PSH | ACK, 1001, 5001, b"hello");
    let f = h.s(RST | ACK, 5001, 1006, b"");
    check(&f, Some(Step::Abort), 1, 6, (Closed, Closed));
    assert_eq!(note(&f), "RST from server in ESTABLISHED");
    h.finish();
    let c = &h.ended[0];
    assert_eq!(c.teardown.kind, TeardownKind::Rst);
    assert_eq!(c.teardown.initiator, Some(Direction::ToClient));
    assert_eq!(
        c.teardown.description,
        "abort by RST from server in ESTABLISHED"
    );
    assert_eq!(c.teardown.frames.as_slice(), [5]);
    assert_eq!(c.end_reason, EndReason::Reset);
}

#[test]
fn refused_by_rst_ack() {
    let mut h = Harness::new();
    h.c(SYN, 1000, 0, b"");
    // Linux's answer to a SYN on a closed port: seq 0, ack ISN + 1. Without a server SYN
    // tshark takes seq − 1 as the base (rel seq 1).
    let f = h.s(RST | ACK, 0, 1001, b"");
    check(&f, Some(Step::Refused), 1, 1, (Closed, Closed));
    assert!(note(&f).contains("refused"), "{}", note(&f));
    h.finish();
    let c = &h.ended[0];
    assert_eq!(c.teardown.description, "refused");
    assert_eq!(c.handshake.frames, [Some(1), None, None]);
    assert!(!c.handshake.complete);
}

#[test]
fn retransmitted_syn_stays_new_isn_splits() {
    let mut h = Harness::new();
    h.c(SYN, 1000, 0, b"");
    let f = h.c(SYN, 1000, 0, b"");
    check(&f, Some(Step::Handshake(1)), 0, 0, (SynSent, Listen));
    assert_eq!(f.conn, Some(0));
    // The analyser adds tshark's reason after the step's note.
    assert!(
        note(&f).starts_with("retransmitted SYN (same ISN 1000)"),
        "{}",
        note(&f)
    );
    assert!(!f.analysis.has(AnalysisFlags::REUSED_PORTS));
    // A new ISN on the same 4-tuple is a new connection (tshark's tcp.stream split).
    let f = h.c(SYN, 77_777, 0, b"");
    assert_eq!((f.conn, f.new_conn), (Some(1), true));
    assert!(f.analysis.has(AnalysisFlags::REUSED_PORTS));
    assert_eq!(h.ended.len(), 1);
    assert_eq!(h.ended[0].end_reason, EndReason::Reused);
    assert_eq!(h.ended[0].packets.to_server, 2);
    assert_eq!(h.ft.stats().conns, 2);
}

#[test]
fn missing_syn_guesses_roles_and_bases() {
    let mut h = Harness::new();
    // First seen: server data. Port 80 is well-known: the server.
    let f = h.s(PSH | ACK, 9000, 3000, b"0123456789");
    check(&f, None, 1, 1, (Established, Established));
    assert_eq!(f.dir, Some(Direction::ToClient));
    let f = h.c(ACK, 3000, 9010, b"");
    check(&f, None, 1, 11, (Established, Established));
    h.finish();
    let c = &h.ended[0];
    assert!(c.roles_guessed);
    assert_eq!(c.client, addr(CLIENT));
    assert_eq!(c.handshake.frames, [None, None, None]);
}

#[test]
fn syn_ack_first_then_syn_reordered() {
    let mut h = Harness::new();
    let f = h.s(SYN | ACK, 5000, 1001, b"");
    check(
        &f,
        Some(Step::Handshake(2)),
        0,
        1,
        (Established, SynReceived),
    );
    let f = h.c(SYN, 1000, 0, b"");
    assert_eq!((f.conn, f.rel_seq), (Some(0), Some(0)));
    let f = h.c(ACK, 1001, 5001, b"");
    check(
        &f,
        Some(Step::Handshake(3)),
        1,
        1,
        (Established, Established),
    );
    h.finish();
    let c = &h.ended[0];
    assert!(!c.roles_guessed, "the client's SYN turned up");
    // As the conformance tool derives it: the SYN-ACK came before the SYN.
    assert_eq!(c.handshake.frames, [Some(2), None, None]);
}

#[test]
fn port_reuse_after_close_gets_new_id() {
    let mut h = Harness::new();
    h.handshake();
    h.c(FIN | ACK, 1001, 5001, b"");
    h.s(FIN | ACK, 5001, 1002, b"");
    h.c(ACK, 1002, 5002, b"");
    // Same ISN, but the old connection is closed.
    let f = h.c(SYN, 1000, 0, b"");
    assert_eq!((f.conn, f.new_conn), (Some(1), true));
    assert!(f.analysis.has(AnalysisFlags::REUSED_PORTS));
    check(&f, Some(Step::Handshake(1)), 0, 0, (SynSent, Listen));
    assert_eq!(h.ended.len(), 1);
    assert_eq!(
        (h.ended[0].id, h.ended[0].end_reason),
        (0, EndReason::Reused)
    );
    assert_eq!(h.sink.events.last().map(String::as_str), Some("close 0"));
}

#[test]
fn udp_dns_roles() {
    let mut h = Harness::new();
    // Query first: the sender is the client.
    let f = h.udp("10.0.0.1:40001", "8.8.8.8:53", b"query");
    assert_eq!(
        (f.conn, f.dir, f.new_conn),
        (Some(0), Some(Direction::ToServer), true)
    );
    assert_eq!(f.state, None);
    let f = h.udp("8.8.8.8:53", "10.0.0.1:40001", b"answer");
    assert_eq!((f.conn, f.dir), (Some(0), Some(Direction::ToClient)));
    // Answer seen first: port 53 is still the server.
    let f = h.udp("8.8.4.4:53", "10.0.0.1:40002", b"answer");
    assert_eq!((f.conn, f.dir), (Some(1), Some(Direction::ToClient)));
    assert_eq!(
        h.sink.events,
        vec![
            "dgram 0 to_server 5 f1",
            "dgram 0 to_client 6 f2",
            "dgram 1 to_client 6 f3"
        ]
    );
    // Idle beyond the UDP timeout (600 s): both end.
    h.advance_secs(599.0);
    h.expire();
    assert!(h.ended.is_empty());
    h.advance_secs(2.0);
    h.expire();
    assert_eq!(h.ended.len(), 2);
    let c = &h.ended[1];
    assert_eq!(c.proto, Proto::Udp);
    assert_eq!(c.client, addr("10.0.0.1:40002"));
    assert_eq!(c.server, addr("8.8.4.4:53"));
    assert!(c.roles_guessed);
    assert_eq!(
        c.payload,
        PerDir {
            to_server: 0,
            to_client: 6
        }
    );
    assert_eq!(c.end_reason, EndReason::Idle);
    assert_eq!(c.final_state, None);
    assert!(!h.ended[0].roles_guessed);
}

#[test]
fn eviction_at_max_flows_takes_the_oldest_idle() {
    let mut h = Harness::with(FlowConfig {
        max_flows: 2,
        ..FlowConfig::default()
    });
    h.send("10.0.0.1:1001", SERVER, SYN, 1, 0, b"");
    h.send("10.0.0.1:1002", SERVER, SYN, 1, 0, b"");
    // Conn 0 active again: conn 1 is now idle longest.
    h.send("10.0.0.1:1001", SERVER, SYN, 1, 0, b"");
    let f = h.send("10.0.0.1:1003", SERVER, SYN, 1, 0, b"");
    assert_eq!(f.conn, Some(2));
    assert_eq!(h.ft.stats().evicted_flows, 1);
    assert_eq!(h.ft.active(), 2);
    assert_eq!(h.ended.len(), 1);
    assert_eq!(
        (h.ended[0].id, h.ended[0].end_reason),
        (1, EndReason::Evicted)
    );
    h.finish();
    let ids: Vec<ConnId> = h.ended.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![1, 0, 2]);
}

#[test]
fn closed_connections_linger_then_expire() {
    let mut h = Harness::new();
    h.handshake();
    h.s(RST, 5001, 0, b"");
    // An unrelated open connection must not be expired by the linger timeout.
    h.send("10.0.0.3:2000", SERVER, SYN, 1, 0, b"");
    h.advance_secs(1.0);
    h.expire();
    assert!(h.ended.is_empty());
    // A late packet within the linger stays in the connection.
    let f = h.c(ACK, 1001, 5001, b"");
    assert_eq!(f.conn, Some(0));
    h.advance_secs(2.5);
    h.expire();
    assert_eq!(h.ended.len(), 1);
    assert_eq!(
        (h.ended[0].id, h.ended[0].end_reason),
        (0, EndReason::Reset)
    );
    assert_eq!(h.ft.active(), 1);
}

/// A four-way close (client ISN 1000 sends 10 bytes, server ISN 5000 sends 20), lingered
/// out: frames 1-8, connection 0 ended and its tombstone left.
fn closed_and_lingered_out(h: &mut Harness) {
    h.handshake();
    h.c(ACK | PSH, 1001, 5001, &[b'q'; 10]);
    h.s(ACK | PSH, 5001, 1011, &[b'r'; 20]);
    h.c(FIN | ACK, 1011, 5021, b"");
    h.s(FIN | ACK, 5021, 1012, b"");
    h.c(ACK, 1012, 5022, b"");
    h.advance_secs(2.5);
    h.expire();
    assert_eq!(h.ended.len(), 1);
    assert_eq!(h.ended[0].end_reason, EndReason::Closed);
    assert_eq!((h.ft.active(), h.ft.tombstones()), (0, 1));
}

#[test]
fn late_packets_after_the_linger_keep_their_connection() {
    let mut h = Harness::new();
    closed_and_lingered_out(&mut h);
    let events = h.sink.events.len();
    // As in Zeek's Teredo capture: a RST at the final seqs, 18.5 s after the close.
    h.advance_secs(16.0);
    let f = h.s(RST | ACK, 5022, 1012, b"");
    assert_eq!(
        (f.conn, f.new_conn, f.dir),
        (Some(0), false, Some(Direction::ToClient))
    );
    check(&f, None, 22, 12, (Closed, Closed));
    assert!(note(&f).starts_with("late packet of connection 0, 18501 ms after its last packet"));
    // The server's last data again: a retransmission; its last ACK again: nothing.
    let f = h.s(ACK | PSH, 5001, 1012, &[b'r'; 20]);
    assert_eq!(f.conn, Some(0));
    assert!(f.analysis.has(AnalysisFlags::RETRANSMISSION));
    check(&f, None, 1, 12, (TimeWait, Closed));
    let f = h.c(ACK, 1012, 5022, b"");
    assert_eq!((f.conn, f.analysis), (Some(0), AnalysisFlags::default()));
    // A RST whatever its numbers.
    assert_eq!(h.c(RST, 77, 0, b"").conn, Some(0));
    // Nothing reached the stream sink or the table; no summary was written again.
    h.finish();
    assert_eq!(h.ended.len(), 1);
    assert_eq!(h.ft.stats().conns, 1);
    assert_eq!(h.sink.events.len(), events);
}

#[test]
fn a_new_connection_on_a_closed_4_tuple_is_told_from_late_packets() {
    // A SYN (any ISN): a new connection, its ports flagged reused as within the linger.
    let mut h = Harness::new();
    closed_and_lingered_out(&mut h);
    h.advance_secs(30.0);
    let f = h.c(SYN, 1000, 0, b"");
    assert_eq!((f.conn, f.new_conn), (Some(1), true));
    assert!(f.analysis.has(AnalysisFlags::REUSED_PORTS));
    check(&f, Some(Step::Handshake(1)), 0, 0, (SynSent, Listen));
    assert_eq!(h.ft.tombstones(), 0);
    // The tombstone is gone: the old connection's late RST now belongs to the new one.
    assert_eq!(h.s(RST | ACK, 5022, 1012, b"").conn, Some(1));

    // Data far outside what the old connection sent (a new connection whose SYN was not
    // captured): a new connection, mid-stream; a SYN-ACK with a new ISN likewise.
    let mut h = Harness::new();
    closed_and_lingered_out(&mut h);
    let f = h.c(ACK | PSH, 900_000, 70_000, b"x");
    assert_eq!((f.conn, f.new_conn), (Some(1), true));
    assert!(!f.analysis.has(AnalysisFlags::REUSED_PORTS));
    let mut h = Harness::new();
    closed_and_lingered_out(&mut h);
    let f = h.s(SYN | ACK, 9000, 1001, b"");
    assert_eq!((f.conn, f.new_conn), (Some(1), true));
    // The SYN-ACK of the old connection again is late.
    let mut h = Harness::new();
    closed_and_lingered_out(&mut h);
    assert_eq!(h.s(SYN | ACK, 5000, 1001, b"").conn, Some(0));
}

#[test]
fn tombstones_are_bounded_by_count() {
    let mut h = Harness::with(FlowConfig {
        max_tombstones: 2,
        ..FlowConfig::default()
    });
    for port in [1, 2, 3] {
        h.refused(&format!("10.0.0.1:{port}"));
    }
    h.advance_secs(2.5);
    h.expire();
    assert_eq!(h.ended.len(), 3);
    assert_eq!(h.ft.tombstones(), 2);
    assert_eq!(h.ft.stats().tombstones_evicted, 1);
    // The oldest (port 1) was pushed out: its late RST starts a connection, as before
    // tombstones; port 3's is late.
    assert_eq!(
        h.send(SERVER, "10.0.0.1:3", RST | ACK, 0, 1001, b"").conn,
        Some(2)
    );
    let f = h.send(SERVER, "10.0.0.1:1", RST | ACK, 0, 1001, b"");
    assert_eq!((f.conn, f.new_conn), (Some(3), true));
    // Open connections ended at the end of input leave none.
    h.send("10.0.0.9:9", SERVER, SYN, 1, 0, b"");
    h.finish();
    assert_eq!(h.ft.tombstones(), 2);
}

#[test]
fn too_many_lingering_end_the_one_closed_longest() {
    let mut h = Harness::with(FlowConfig {
        max_lingering: 1,
        ..FlowConfig::default()
    });
    // Port 1 refused: it lingers alone.
    h.refused("10.0.0.1:1");
    assert!(h.ended.is_empty());
    // Port 2 refused: two would linger, so port 1 (closed longest) ends now.
    h.refused("10.0.0.1:2");
    assert_eq!(
        h.ended
            .iter()
            .map(|c| (c.id, c.end_reason))
            .collect::<Vec<_>>(),
        [(0, EndReason::Reset)]
    );
    assert_eq!(h.sink.events, ["close 0"]);
    assert_eq!((h.ft.active(), h.ft.tombstones()), (1, 1));
    assert_eq!(h.ft.stats().lingers_cut, 1);
    // Within what would have been its linger, port 1's late packets keep id 0 whatever
    // their numbers (as in the table): server data still in flight, a SYN-ACK.
    h.advance_secs(1.0);
    let f = h.send(SERVER, "10.0.0.1:1", ACK | PSH, 900_000, 1001, b"late");
    assert_eq!((f.conn, f.late, f.new_conn), (Some(0), true, false));
    let f = h.send(SERVER, "10.0.0.1:1", SYN | ACK, 9_000, 1001, b"");
    assert_eq!((f.conn, f.late), (Some(0), true));
    // Past it, such data starts a connection (mid-stream), as after any linger.
    h.advance_secs(1.5);
    let f = h.send(SERVER, "10.0.0.1:1", ACK | PSH, 900_000, 1001, b"late");
    assert_eq!((f.conn, f.new_conn), (Some(2), true));
    // Nothing else was cut; port 2 lingered out on time.
    h.expire();
    assert_eq!(h.ft.stats().lingers_cut, 1);
    assert_eq!(
        h.ended.iter().map(|c| c.id).collect::<Vec<_>>(),
        [0, 1],
        "port 2 ended by the linger timeout"
    );
}

#[test]
fn random_closes_reuses_and_late_packets_keep_every_id_once() {
    // Random segments on three 4-tuples with time jumps past the linger and two tombstones
    // at most: every id ends exactly once, and a late packet's connection had already ended.
    let mut next = crate::flow::test_rng(0x5eed_2026);
    let (mut late, mut evicted) = (0, 0);
    for _ in 0..40 {
        let mut h = Harness::with(FlowConfig {
            max_tombstones: 2,
            max_lingering: 1,
            ..FlowConfig::default()
        });
        for _ in 0..300 {
            let client = format!("10.0.0.1:{}", 40000 + next(3));
            let flags =
                [SYN, SYN | ACK, ACK, FIN | ACK, RST, RST | ACK, ACK | PSH][next(7) as usize];
            let (seq, ack) = (1000 + next(40) as u32, 5000 + next(40) as u32);
            let f = if next(2) == 0 {
                h.send(
                    &client,
                    SERVER,
                    flags,
                    seq,
                    ack,
                    &[b'x'; 3][..next(4) as usize],
                )
            } else {
                h.send(
                    SERVER,
                    &client,
                    flags,
                    ack,
                    seq,
                    &[b'y'; 3][..next(4) as usize],
                )
            };
            if f.late {
                late += 1;
                let id = f.conn.expect("a late packet has its connection's id");
                assert!(h.ended.iter().any(|c| c.id == id), "{f:?}");
                assert!(!f.new_conn);
            }
            if next(8) == 0 {
                h.advance_secs(if next(2) == 0 { 2.5 } else { 0.4 });
                h.expire();
            }
        }
        h.finish();
        let mut ids: Vec<ConnId> = h.ended.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        let n = ids.len() as ConnId;
        assert_eq!(ids, (0..n).collect::<Vec<_>>());
        assert_eq!(h.ft.stats().conns, n);
        assert!(h.ft.tombstones() <= 2);
        evicted += h.ft.stats().tombstones_evicted;
    }
    // The sequences reach what they test.
    assert!(
        late > 100 && evicted > 10,
        "{late} late packets, {evicted} evicted"
    );
}

#[test]
fn rst_without_ack_shows_raw_ack() {
    // zeek rst-inject-rae frame 9: a bare RST whose ack field is not zero.
    let mut h = Harness::new();
    h.handshake();
    let f = h.s(RST, 5001, 1_616_457_234, b"");
    assert_eq!(f.rel_ack, Some(1_616_457_234));
    assert_eq!(f.rel_seq, Some(1));
}

#[test]
fn window_scaled_after_both_syns() {
    let mut h = Harness::new();
    let mut syn = tcp_info(addr(CLIENT), addr(SERVER), SYN, 1000, 0, 0);
    syn.options.window_scale = Some(7);
    let f = h.send_info(CLIENT, SERVER, syn, b"");
    assert_eq!(f.window_scaled, None);
    let mut synack = tcp_info(addr(SERVER), addr(CLIENT), SYN | ACK, 5000, 1001, 0);
    synack.options.window_scale = Some(8);
    let f = h.send_info(SERVER, CLIENT, synack, b"");
    assert_eq!(f.window_scaled, None);
    let f = h.c(ACK, 1001, 5001, b"");
    assert_eq!(f.window_scaled, Some(1000 << 7));
    let f = h.s(ACK, 5001, 1001, b"");
    assert_eq!(f.window_scaled, Some(1000 << 8));
}

#[test]
fn fast_open_syn_data() {
    let mut h = Harness::new();
    let f = h.c(SYN, 1000, 0, &[0u8; 86]);
    assert_eq!(
        note(&f),
        "SYN: client ISN 1000; 86 bytes of data in the SYN (TCP Fast Open)"
    );
    let f = h.s(SYN | ACK, 5000, 1087, b"");
    check(
        &f,
        Some(Step::Handshake(2)),
        0,
        87,
        (Established, SynReceived),
    );
    assert!(note(&f).ends_with("✓ (TCP Fast Open)"), "{}", note(&f));
    let f = h.c(ACK, 1087, 5001, b"");
    check(
        &f,
        Some(Step::Handshake(3)),
        87,
        1,
        (Established, Established),
    );
    assert_eq!(h.ft.stats().conns, 1);
}

#[test]
fn non_flow_packets_get_no_conn() {
    let mut h = Harness::new();
    let frame = h.next_frame();
    let mut p = packet(
        addr(CLIENT),
        addr(SERVER),
        Transport::Tcp(tcp_info(addr(CLIENT), addr(SERVER), SYN, 1, 0, 0)),
        b"",
    );
    p.fragment_pending = true;
    assert_eq!(
        h.ft.process(&frame, &p, &mut h.sink, &mut h.scratch),
        PacketFlow::default()
    );
    p.fragment_pending = false;
    // An IP payload that is neither TCP, UDP, ICMP nor SCTP (GRE with nothing inside).
    p.transport = None;
    if let Some(net) = p.net.as_mut() {
        net.protocol = 47;
    }
    assert_eq!(
        h.ft.process(&frame, &p, &mut h.sink, &mut h.scratch),
        PacketFlow::default()
    );
    p.net = None;
    assert_eq!(
        h.ft.process(&frame, &p, &mut h.sink, &mut h.scratch),
        PacketFlow::default()
    );
    assert_eq!(h.ft.stats().conns, 0);
}

#[test]
fn entry_sizes_stay_small() {
    use std::mem::size_of;
    let conn = size_of::<Conn<()>>() - size_of::<ZeekState>();
    assert!(size_of::<FlowKey>() <= 44);
    let tcp = size_of::<TcpConn>() - size_of::<TcpAnalyzer>() - 2 * size_of::<StreamReassembler>();
    // 216 + Zeek's IP byte counts (16) and last time (16) for conn.log.
    assert!(conn <= 248, "Conn without ZeekState is {conn} bytes");
    assert!(
        tcp <= 224,
        "TcpConn without analyzer and reassemblers is {tcp} bytes"
    );
    // A closed connection after its records were written: tens of bytes, not the ~1.5 KB
    // of its whole state.
    let tomb = size_of::<super::super::tombstone::Tombstone>();
    assert!(tomb <= 40, "Tombstone is {tomb} bytes");
    assert!(size_of::<(FlowKey, super::super::tombstone::Tombstone)>() <= 80);
}

/// Runs every frame of one capture through a decoder and a tracker with `config`; returns
/// each packet's flow facts, the sink's events and the connections that ended.
fn run_capture(path: &std::path::Path, config: FlowConfig) -> (Vec<PacketFlow>, RecSink, String) {
    use crate::capture::{FileSource, FrameSource};
    use crate::decode::Decoder;
    let mut flows = Vec::new();
    let mut sink = RecSink::default();
    let mut ended = Vec::new();
    let Ok(mut src) = FileSource::open(path) else {
        return (flows, sink, String::new());
    };
    let mut decoder = Decoder::new();
    let mut ft = FlowTracker::new(config);
    loop {
        match src.next_frame() {
            Ok(Some(f)) => {
                let p = decoder.decode(&f);
                ft.expire(f.ts, &mut sink, &mut ended);
                flows.push(ft.process(&f, &p, &mut sink, &mut ended));
            }
            Ok(None) => break,
            Err(e) if e.is_fatal() => break,
            Err(_) => {}
        }
    }
    ft.finish(&mut sink, &mut ended);
    (flows, sink, format!("{ended:?} {:?}", ft.stats()))
}

/// The captures in `captures/` (always there), and the shared corpus (`../shared/captures`)
/// when it is there: (own, shared). Tests assert thresholds each group reaches on its own,
/// so a fresh clone without `../shared` still checks real values.
fn own_and_shared_captures() -> (Vec<std::path::PathBuf>, Vec<std::path::PathBuf>) {
    fn pcaps(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.to_string_lossy();
                name.ends_with(".pcap") || name.ends_with(".pcapng")
            })
            .collect();
        files.sort();
        files
    }
    let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let shared = crate::shared_captures_dir()
        .map(|dir| pcaps(&dir))
        .unwrap_or_default();
    (pcaps(&own), shared)
}

/// The fast paths (tracker, Zeek state, analysis, reassembly) change nothing: every own
/// and shared capture gives the same packet facts, stream events and summaries with the
/// general paths only.
#[test]
fn fast_paths_change_nothing() {
    fn packets_compared(files: &[std::path::PathBuf]) -> usize {
        let mut packets = 0;
        for path in files {
            let name = path.to_string_lossy().to_string();
            let fast = run_capture(path, FlowConfig::default());
            GENERAL_ONLY.with(|g| g.set(true));
            let general = run_capture(path, FlowConfig::default());
            GENERAL_ONLY.with(|g| g.set(false));
            assert_eq!(fast.0.len(), general.0.len(), "{name}");
            for (i, (a, b)) in fast.0.iter().zip(&general.0).enumerate() {
                assert_eq!(a, b, "{name} packet {}", i + 1);
            }
            assert_eq!(fast.1.events, general.1.events, "{name}");
            assert_eq!(fast.2, general.2, "{name}");
            packets += fast.0.len();
        }
        packets
    }
    let (own, shared) = own_and_shared_captures();
    // captures/ alone: 111 packets when this was written (its README lists them).
    let packets = packets_compared(&own);
    assert!(packets >= 100, "only {packets} packets in captures/");
    if !shared.is_empty() {
        let packets = packets_compared(&shared);
        assert!(
            packets > 1000,
            "only {packets} packets in the shared captures"
        );
    }
}

/// [`on_tcp_plain`] against the general path, packet by packet: in-order data both ways,
/// a retransmission and a duplicate ack (analysis flags on a plain segment), out-of-order
/// data buffered and then filled, an ack beyond a hole (a gap delivered by the ack), a
/// zero window, the teardown; then the stream events and the summaries.
#[test]
fn plain_segments_match_the_general_path() {
    fn run() -> (Vec<PacketFlow>, Vec<String>, Vec<ConnSummary>) {
        let mut h = Harness::new();
        let mut flows = Vec::new();
        h.handshake();
        flows.push(h.c(ACK | PSH, 1001, 5001, b"GET / HTTP/1.1\r\n\r\n")); // 18 bytes
        flows.push(h.s(ACK, 5001, 1019, b""));
        flows.push(h.s(ACK, 5001, 1019, b"0123456789"));
        flows.push(h.s(ACK | PSH, 5011, 1019, b"abcdefghij"));
        flows.push(h.c(ACK, 1019, 5021, b""));
        // Retransmission of the last 10 bytes, then a duplicate ack.
        flows.push(h.s(ACK, 5011, 1019, b"abcdefghij"));
        flows.push(h.c(ACK, 1019, 5021, b""));
        // 5021..5031 lost; 5031..5041 buffered; then the hole is filled.
        flows.push(h.s(ACK, 5031, 1019, b"KLMNOPQRST"));
        flows.push(h.c(ACK, 1019, 5021, b""));
        flows.push(h.s(ACK, 5021, 1019, b"ABCDEFGHIJ"));
        flows.push(h.c(ACK, 1019, 5041, b""));
        // 5041..5051 never seen; 5051..5061 buffered; the client acks past both.
        flows.push(h.s(ACK, 5051, 1019, b"uvwxyz0123"));
        flows.push(h.c(ACK, 1019, 5061, b""));
        // A zero window from the client, then a window update.
        let mut z = tcp_info(addr(CLIENT), addr(SERVER), ACK, 1019, 5061, 0);
        z.window = 0;
        flows.push(h.send_info(CLIENT, SERVER, z, b""));
        flows.push(h.c(ACK, 1019, 5061, b""));
        flows.push(h.c(ACK | PSH, 1019, 5061, b"more"));
        flows.push(h.s(ACK, 5061, 1023, b""));
        // Teardown.
        flows.push(h.c(FIN | ACK, 1023, 5061, b""));
        flows.push(h.s(FIN | ACK, 5061, 1024, b""));
        flows.push(h.c(ACK, 1024, 5062, b""));
        h.finish();
        (flows, h.sink.events, h.ended)
    }
    PLAIN_TAKEN.with(|n| n.set(0));
    let fast = run();
    let taken = PLAIN_TAKEN.with(std::cell::Cell::get);
    GENERAL_ONLY.with(|g| g.set(true));
    let general = run();
    GENERAL_ONLY.with(|g| g.set(false));
    // Every packet between the handshake and the FINs (the zero window too: Zeek's state
    // and the analysis take their general paths for it inside).
    assert_eq!(taken, 17);
    assert_eq!(fast.0.len(), general.0.len());
    for (i, (a, b)) in fast.0.iter().zip(&general.0).enumerate() {
        assert_eq!(a, b, "packet {}", i + 4);
    }
    assert_eq!(fast.1, general.1);
    assert_eq!(fast.2, general.2);
    // The numbers themselves, worked by hand: the retransmission, the duplicate ack, the
    // ack past the hole, the gap it delivered.
    assert!(fast.0[5].analysis.has(AnalysisFlags::RETRANSMISSION));
    assert_eq!(fast.0[6].dup_ack_num, 1);
    assert_eq!(
        (fast.0[12].rel_seq, fast.0[12].rel_ack),
        (Some(19), Some(61))
    );
    // The filled hole hands on the fill, then the segment buffered at frame 11; the ack at
    // frame 16 hands on the 10-byte gap, then the segment buffered at frame 15.
    let want = [
        "data 0 to_server 18 f4",
        "data 0 to_client 10 f6",
        "data 0 to_client 10 f7",
        "data 0 to_client 10 f13",
        "data 0 to_client 10 f11",
        "gap 0 to_client 10 f16",
        "data 0 to_client 10 f15",
        "data 0 to_server 4 f19",
        "fin 0 to_server f21",
        "fin 0 to_client f22",
        "close 0",
    ];
    assert_eq!(fast.1, want);
    assert_eq!(fast.2[0].gap_bytes.to_client, 10);
}

#[test]
fn notes_off_changes_nothing_but_the_notes() {
    fn notes_compared(files: &[std::path::PathBuf]) -> usize {
        let quiet = FlowConfig {
            notes: false,
            ..FlowConfig::default()
        };
        let mut noted = 0;
        for path in files {
            let name = path.to_string_lossy().to_string();
            let (with, with_sink, with_ended) = run_capture(path, FlowConfig::default());
            let (without, without_sink, without_ended) = run_capture(path, quiet.clone());
            assert_eq!(with.len(), without.len(), "{name}");
            for (i, (a, b)) in with.iter().zip(&without).enumerate() {
                assert_eq!(b.note, None, "{name} packet {}", i + 1);
                noted += usize::from(a.note.is_some());
                let a = PacketFlow {
                    note: None,
                    ..a.clone()
                };
                assert_eq!(&a, b, "{name} packet {}", i + 1);
            }
            assert_eq!(with_sink.events, without_sink.events, "{name}");
            assert_eq!(with_ended, without_ended, "{name}");
        }
        noted
    }
    let (own, shared) = own_and_shared_captures();
    // captures/ alone: 44 notes when this was written.
    let noted = notes_compared(&own);
    assert!(
        noted >= 40,
        "only {noted} notes in captures/: they exercise too little"
    );
    if !shared.is_empty() {
        let noted = notes_compared(&shared);
        assert!(
            noted > 50,
            "only {noted} notes in the shared captures: they exercise too little"
        );
    }
}

#[test]
fn fin_close_descriptions_are_the_composed_texts() {
    // The fixed texts equal what composing base + suffixes gives, for every combination.
    for bits in 0..16u8 {
        let (sim, three, half, missing) =
            (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
        let mut want = if sim {
            "simultaneous close".to_string()
        } else if three {
            "three-packet close (FIN piggy-backed on the ACK)".to_string()
        } else {
            "four-way close".to_string()
        };
        if half {
            want.push_str(" after a half-close");
        }
        if missing {
            want.push_str(" (last ACK not captured)");
        }
        assert_eq!(
            super::fin_close_description(sim, three, half, missing),
            want,
            "{bits:04b}"
        );
    }
}

#[test]
fn end_of_input_ends_connections_in_id_order_whatever_their_slots() {
    let mut h = Harness::new();
    h.send("10.0.0.1:40001", SERVER, SYN, 1000, 0, b""); // id 0, slot 0
    h.send("10.0.0.1:40002", SERVER, SYN, 2000, 0, b""); // id 1, slot 1
    h.send("10.0.0.1:40001", SERVER, RST, 1001, 0, b"");
    h.advance_secs(3.0);
    h.expire(); // id 0 lingered 2 s after its RST: it leaves, its slot is free
    assert_eq!(h.ended.iter().map(|c| c.id).collect::<Vec<_>>(), [0]);
    h.send("10.0.0.1:40003", SERVER, SYN, 3000, 0, b""); // id 2, in slot 0
    h.send("10.0.0.1:40004", SERVER, SYN, 4000, 0, b""); // id 3, slot 2
                                                         // A part at a time, as the pipeline asks: lowest id first across the calls.
    assert!(h.finish_some(2));
    assert!(!h.finish_some(2));
    assert_eq!(
        h.ended.iter().map(|c| c.id).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
}
