//! ICMP and ICMPv6 messages as connections, keyed the way Zeek keys them
//! (`packet_analysis/protocol/icmp/ICMP.cc`, `InitConnKey`): the source's "port" is the
//! message type, the destination's is the counterpart type of a request or reply (echo
//! 8 ↔ echo reply 0, ICMPv6 128 ↔ 129, neighbor solicitation 135 ↔ advertisement 136 …),
//! so a ping and its replies between two hosts are one connection; any other message is
//! one-way and its destination "port" is its code: the same message in the other direction
//! is another connection. The first packet's sender originates the connection.
//!
//! Zeek counts each message's ICMP data after the 8-byte header as payload (conn.log
//! `orig_bytes`/`resp_bytes`). An ICMP error belongs to its own one-way ICMP connection,
//! as in Zeek; the TCP, UDP or SCTP connection it quotes keeps its Zeek fields, but is
//! linked to it ([`crate::flow::icmp_error`]): the error's [`PacketFlow::quoted_conn`] and
//! the quoted connection's [`ConnSummary::icmp_errors`].
//!
//! The same numbers are the Community ID's ICMP ports (the spec pairs types as Zeek does).

use super::counted::{ip_payload_len, CountedPacket};
use super::*;
use crate::decode::IcmpInfo;
use crate::flow::icmp_error::{is_error, quoted_flow, IcmpError, IcmpErrors};

/// (destination "port", one-way) of an ICMP message: the counterpart type, or the code.
pub(crate) fn icmp4_counterpart(icmp_type: u8, code: u8) -> (u8, bool) {
    match icmp_type {
        8 => (0, false),
        0 => (8, false),
        13 => (14, false),
        14 => (13, false),
        15 => (16, false),
        16 => (15, false),
        10 => (9, false),
        9 => (10, false),
        17 => (18, false),
        18 => (17, false),
        _ => (code, true),
    }
}

/// The same for ICMPv6 (Zeek's `ICMP6_counterpart`).
pub(crate) fn icmp6_counterpart(icmp_type: u8, code: u8) -> (u8, bool) {
    match icmp_type {
        128 => (129, false),
        129 => (128, false),
        133 => (134, false),
        134 => (133, false),
        135 => (136, false),
        136 => (135, false),
        130 => (131, false),
        131 => (130, false),
        139 => (140, false),
        140 => (139, false),
        144 => (145, false),
        145 => (144, false),
        _ => (code, true),
    }
}

impl<A: Default> FlowTracker<A> {
    /// One ICMP (`proto` [`Proto::Icmp`]) or ICMPv6 message.
    #[inline(never)]
    pub(super) fn process_icmp(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        net: &NetInfo,
        (proto, icmp): (Proto, &IcmpInfo),
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> PacketFlow {
        let (layer, (other, one_way)) = match proto {
            Proto::Icmpv6 => (
                LayerName::Icmpv6,
                icmp6_counterpart(icmp.icmp_type, icmp.code),
            ),
            _ => (
                LayerName::Icmp,
                icmp4_counterpart(icmp.icmp_type, icmp.code),
            ),
        };
        let (sp, dp) = (u16::from(icmp.icmp_type), u16::from(other));
        let (mut key, ord) = FlowKey::of(proto, net.src, sp, net.dst, dp);
        if one_way {
            key = key.one_way(ord);
        }
        let payload_len = ip_payload_len(packet, net, layer).saturating_sub(8);
        let p = CountedPacket {
            proto,
            key,
            ord,
            src: SocketAddr::new(net.src, sp),
            dst: SocketAddr::new(net.dst, dp),
            src_is_server: false,
            guessed: false,
            ip_len: net.total_len,
            payload_len: u64::from(payload_len),
        };
        let mut flow = self.process_counted(frame, packet, p, sink, ended);
        let v6 = proto == Proto::Icmpv6;
        if one_way && is_error(v6, icmp.icmp_type) {
            flow.quoted_conn = self.note_icmp_error(frame, packet, layer, (v6, icmp));
        }
        flow
    }

    /// An ICMP error: the connection of the packet it quotes, if that is in the table,
    /// counts it; returns that connection and the error's direction in it.
    #[inline(never)]
    fn note_icmp_error(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        layer: LayerName,
        (v6, icmp): (bool, &IcmpInfo),
    ) -> Option<(ConnId, Direction)> {
        let at = packet.layers.iter().rfind(|l| l.name == layer)?.offset as usize;
        let q = quoted_flow(v6, frame.data.get(at + 8..)?)?;
        let (key, ord) = FlowKey::of(q.proto, q.src, q.src_port, q.dst, q.dst_port);
        let conn = self.table.find(&key).and_then(|i| self.table.get(i))?;
        // The error goes back to the quoted packet's sender.
        let dir = conn.dir_of(ord).reverse();
        let id = conn.id;
        let e = IcmpError {
            v6,
            icmp_type: icmp.icmp_type,
            code: icmp.code,
            frame: frame.number,
        };
        self.icmp_errors
            .entry(id)
            .and_modify(|c| c.add(e))
            .or_insert(IcmpErrors::new(e));
        Some((id, dir))
    }
}

#[cfg(test)]
mod tests {
    use super::super::counted::test_support::run;
    use crate::flow::community_id::of_conn;
    use crate::flow::{ConnSummary, Direction, Proto};
    use etherparse::PacketBuilder;

    const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
    const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

    /// An ICMP message `src` → `dst`: type, code, bytes 4..8, data.
    fn icmp4(src: [u8; 4], dst: [u8; 4], t: u8, code: u8, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(src, dst, 64)
            .icmpv4_raw(t, code, [0, 1, 0, 7])
            .write(&mut out, data)
            .unwrap();
        out
    }

    fn icmp6(src: &str, dst: &str, t: u8, code: u8, data: &[u8]) -> Vec<u8> {
        let a: std::net::Ipv6Addr = src.parse().unwrap();
        let b: std::net::Ipv6Addr = dst.parse().unwrap();
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv6(a.octets(), b.octets(), 255)
            .icmpv6_raw(t, code, [0; 4])
            .write(&mut out, data)
            .unwrap();
        out
    }

    fn ends(c: &ConnSummary) -> (String, String) {
        (c.client.to_string(), c.server.to_string())
    }

    /// A ping and its replies: one connection, the ports are the request's type and the
    /// reply's (Zeek's id.orig_p 8, id.resp_p 0), the Community ID is the spec's vector
    /// for 192.168.0.89 → 192.168.0.1 (8, 0), Zeek's OTH without history, and the bytes
    /// are the ICMP data after the 8-byte header.
    #[test]
    fn echo_requests_and_replies_are_one_connection() {
        let (a, b) = ([192, 168, 0, 89], [192, 168, 0, 1]);
        let frames = [
            icmp4(a, b, 8, 0, &[0; 56]),
            icmp4(b, a, 0, 0, &[0; 56]),
            icmp4(a, b, 8, 0, &[0; 20]),
            icmp4(b, a, 0, 0, &[0; 20]),
        ];
        let (flows, ended) = run(&frames);
        assert_eq!(ended.len(), 1);
        let c = &ended[0];
        assert_eq!(c.proto, Proto::Icmp);
        assert_eq!(ends(c), ("192.168.0.89:8".into(), "192.168.0.1:0".into()));
        assert_eq!((c.packets.to_server, c.packets.to_client), (2, 2));
        assert_eq!(c.zeek_sizes, (76, 76));
        // 20 IP + 8 ICMP + data.
        assert_eq!(c.ip_bytes.to_server, 84 + 48);
        assert_eq!((c.conn_state, c.history.as_str()), ("OTH", ""));
        assert_eq!(
            of_conn(c, 0).as_deref(),
            Some("1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
        );
        assert_eq!(
            of_conn(c, 1).as_deref(),
            Some("1:03g6IloqVBdcZlPyX8r0hgoE7kA=")
        );
        let dirs: Vec<_> = flows.iter().map(|f| (f.conn, f.dir)).collect();
        let (s, r) = (Some(Direction::ToServer), Some(Direction::ToClient));
        assert_eq!(
            dirs,
            [(Some(0), s), (Some(0), r), (Some(0), s), (Some(0), r)]
        );
        assert!(flows[0].new_conn && !flows[1].new_conn);
    }

    /// A reply seen first originates the connection (Zeek keeps the first sender).
    #[test]
    fn a_reply_seen_first_originates() {
        let (a, b) = ([192, 168, 0, 89], [192, 168, 0, 1]);
        let (_, ended) = run(&[icmp4(b, a, 0, 0, b"x"), icmp4(a, b, 8, 0, b"x")]);
        assert_eq!(ended.len(), 1);
        assert_eq!(
            ends(&ended[0]),
            ("192.168.0.1:0".into(), "192.168.0.89:8".into())
        );
        assert_eq!(
            of_conn(&ended[0], 0).as_deref(),
            Some("1:X0snYXpgwiv9TZtqg64sgzUn6Dk=")
        );
    }

    /// One-way messages: the code is the responder's port, and the same message back is
    /// another connection. Time exceeded 10.0.0.1 → 10.0.0.2 is the spec's (11, 0) vector.
    /// A port unreachable quoting a UDP datagram is its own connection; the UDP flow keeps
    /// its Zeek state (S0, history D: Zeek's conn.log for a datagram answered by a port
    /// unreachable) and counts the error, which names it as its quoted connection.
    #[test]
    fn one_way_messages_keep_their_direction() {
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let mut quoted = Vec::new();
        PacketBuilder::ipv4(b, a, 64)
            .udp(5000, 53)
            .write(&mut quoted, b"q")
            .unwrap();
        let mut udp = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(b, a, 64)
            .udp(5000, 53)
            .write(&mut udp, b"q")
            .unwrap();
        let frames = [
            icmp4(a, b, 11, 0, &[0; 28]),
            icmp4(b, a, 11, 0, &[0; 28]),
            icmp4(a, b, 11, 0, &[0; 28]),
            udp,
            icmp4(a, b, 3, 3, &quoted),
        ];
        let (flows, ended) = run(&frames);
        let conns: Vec<_> = flows.iter().map(|f| f.conn).collect();
        assert_eq!(conns, [Some(0), Some(1), Some(0), Some(2), Some(3)]);
        let by_id = |id| ended.iter().find(|c| c.id == id).unwrap();
        assert_eq!(ends(by_id(0)), ("10.0.0.1:11".into(), "10.0.0.2:0".into()));
        assert_eq!(by_id(0).packets.to_server, 2);
        assert_eq!(by_id(0).packets.to_client, 0);
        assert_eq!(
            of_conn(by_id(0), 0).as_deref(),
            Some("1:YHxtAirCG//0OzkcVAukqKQN9xM=")
        );
        assert_eq!(ends(by_id(1)), ("10.0.0.2:11".into(), "10.0.0.1:0".into()));
        assert_eq!(ends(by_id(3)), ("10.0.0.1:3".into(), "10.0.0.2:3".into()));
        assert_eq!(by_id(3).zeek_sizes, (quoted.len() as u64, 0));
        let udp = by_id(2);
        assert_eq!(udp.proto, Proto::Udp);
        assert_eq!(udp.packets.to_server + udp.packets.to_client, 1);
        assert_eq!((udp.conn_state, udp.history.as_str()), ("S0", "D"));
        assert_eq!(flows[4].quoted_conn, Some((2, Direction::ToClient)));
        assert!(flows[..4].iter().all(|f| f.quoted_conn.is_none()));
        let errors = udp.icmp_errors.unwrap();
        assert_eq!(errors.count, 1);
        assert_eq!((errors.last.icmp_type, errors.last.code), (3, 3));
        assert_eq!(
            (errors.last.frame, errors.last.name()),
            (5, "port unreachable")
        );
        assert!(by_id(0).icmp_errors.is_none() && by_id(3).icmp_errors.is_none());
    }

    /// ICMPv6 packet too big quoting a TCP segment of an open connection, twice: the
    /// connection counts both and keeps the last.
    #[test]
    fn icmpv6_error_quoting_tcp_is_counted_on_the_connection() {
        let (a, b): (std::net::Ipv6Addr, std::net::Ipv6Addr) = (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        let tcp = |syn: bool| {
            let mut out = Vec::new();
            let mut t = PacketBuilder::ethernet2(MAC_A, MAC_B)
                .ipv6(a.octets(), b.octets(), 64)
                .tcp(40000, 443, 1, 1000);
            if syn {
                t = t.syn();
            }
            t.write(&mut out, b"").unwrap();
            out
        };
        let mut quoted = Vec::new();
        PacketBuilder::ipv6(a.octets(), b.octets(), 64)
            .tcp(40000, 443, 2, 1000)
            .write(&mut quoted, &[0; 16])
            .unwrap();
        let router = "2001:db8::ff";
        let frames = [
            tcp(true),
            icmp6(router, "2001:db8::1", 2, 0, &quoted),
            icmp6(router, "2001:db8::1", 1, 4, &quoted),
        ];
        let (flows, ended) = run(&frames);
        assert_eq!(flows[1].quoted_conn, Some((0, Direction::ToClient)));
        assert_eq!(flows[2].quoted_conn, Some((0, Direction::ToClient)));
        let c = ended.iter().find(|c| c.id == 0).unwrap();
        assert_eq!(c.proto, Proto::Tcp);
        let errors = c.icmp_errors.unwrap();
        assert_eq!(errors.count, 2);
        assert!(errors.last.v6);
        assert_eq!(
            (errors.last.frame, errors.last.name()),
            (3, "port unreachable")
        );
        // The ICMPv6 connections themselves: two one-way messages (types 2 and 1).
        assert_eq!(flows[1].conn, Some(1));
        assert_eq!(flows[2].conn, Some(2));
    }

    /// ICMPv6: neighbor solicitation and advertisement pair (135 ↔ 136) as one connection
    /// (spec vector), time exceeded (3, code 0) is one-way (spec vector); Zeek logs both
    /// with proto `icmp`.
    #[test]
    fn icmpv6_pairs_and_one_way_messages() {
        let (a, b) = ("fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea");
        let (c, d) = ("3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da");
        let frames = [
            icmp6(a, b, 135, 0, &[0; 24]),
            icmp6(b, a, 136, 0, &[0; 24]),
            icmp6(c, d, 3, 0, &[0; 48]),
        ];
        let (flows, ended) = run(&frames);
        assert_eq!(
            flows.iter().map(|f| f.conn).collect::<Vec<_>>(),
            [Some(0), Some(0), Some(1)]
        );
        let nd = ended.iter().find(|c| c.id == 0).unwrap();
        assert_eq!(nd.proto, Proto::Icmpv6);
        assert_eq!(nd.proto.zeek_name(), "icmp");
        assert_eq!(nd.client.port(), 135);
        assert_eq!(nd.server.port(), 136);
        assert_eq!(nd.zeek_sizes, (24, 24));
        assert_eq!(
            of_conn(nd, 0).as_deref(),
            Some("1:dGHyGvjMfljg6Bppwm3bg0LO8TY=")
        );
        let te = ended.iter().find(|c| c.id == 1).unwrap();
        assert_eq!((te.client.port(), te.server.port()), (3, 0));
        assert_eq!(
            of_conn(te, 0).as_deref(),
            Some("1:2ObVBgIn28oZvibYZhZMBgh7WdQ=")
        );
    }
}
