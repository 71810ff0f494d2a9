//! SCTP associations (RFC 9260) as connections: keyed by addresses and ports like UDP (one
//! association per 4-tuple; multi-homed paths are not joined: each address pair an
//! association uses is its own connection). The sender of an INIT is the client, the
//! sender of an INIT ACK the server; otherwise the first packet's sender is the client
//! (`roles_guessed`). Payload is what follows the 12-byte common header (the chunks). An
//! association ends by SHUTDOWN COMPLETE or ABORT ([`super::sctp_state`]), else when idle.
//! Zeek has no SCTP transport; conn.log writes these with proto `sctp` (README: Zeek logs).

use super::counted::{ip_payload_len, CountedPacket};
use super::sctp_state::chunk::{INIT as CHUNK_INIT, INIT_ACK as CHUNK_INIT_ACK};
use super::*;
use crate::wire::sctp::{Sctp, HEADER_LEN};

impl<A: Default> FlowTracker<A> {
    /// One SCTP packet (the IP protocol is 132). Packets whose common header was not
    /// captured, or that came out of IP reassembly, get no connection.
    #[inline(never)]
    pub(super) fn process_sctp(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        net: &NetInfo,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> PacketFlow {
        if packet.reassembled {
            return PacketFlow::default();
        }
        let Some(layer) = packet.layers.iter().rfind(|l| l.name == LayerName::Sctp) else {
            return PacketFlow::default();
        };
        let Some(Ok(sctp)) = frame
            .data
            .get(layer.offset as usize..)
            .map(Sctp::new_checked)
        else {
            return PacketFlow::default();
        };
        let (sp, dp) = (sctp.src_port(), sctp.dst_port());
        let first_chunk = sctp.chunk_types().next();
        let guessed = first_chunk != Some(CHUNK_INIT) && first_chunk != Some(CHUNK_INIT_ACK);
        let (key, ord) = FlowKey::of(Proto::Sctp, net.src, sp, net.dst, dp);
        if first_chunk == Some(CHUNK_INIT) {
            self.end_closed_association(&key, sink, ended);
        }
        let payload_len = ip_payload_len(packet, net, LayerName::Sctp);
        let p = CountedPacket {
            proto: Proto::Sctp,
            key,
            ord,
            src: SocketAddr::new(net.src, sp),
            dst: SocketAddr::new(net.dst, dp),
            src_is_server: first_chunk == Some(CHUNK_INIT_ACK),
            guessed,
            ip_len: net.total_len,
            payload_len: u64::from(payload_len.saturating_sub(HEADER_LEN as u32)),
        };
        let flow = self.process_counted(frame, packet, p, sink, ended);
        if let (Some(id), Some(dir)) = (flow.conn, flow.dir) {
            let assoc = self.sctp.entry(id).or_default();
            for kind in sctp.chunk_types() {
                assoc.chunk(kind, dir, frame.number);
            }
            // Shut down or aborted: the association lingers for late packets, then ends.
            if assoc.closed() {
                if let Some(idx) = self.table.find(&key) {
                    self.table.touch(idx, ListId::Closed, ts_ns(frame.ts));
                }
            }
        }
        flow
    }
}

impl<A: Default> FlowTracker<A> {
    /// An INIT on the addresses and ports of an association that was shut down or aborted
    /// starts a new one (as a SYN on a closed TCP connection): the old one ends now.
    #[inline(never)]
    fn end_closed_association(
        &mut self,
        key: &FlowKey,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) {
        let Some(idx) = self.table.find(key) else {
            return;
        };
        let closed = self
            .table
            .get(idx)
            .and_then(|c| self.sctp.get(&c.id))
            .is_some_and(|a| a.closed());
        if closed {
            self.end_conn(idx, EndReason::Closed, false, sink, ended);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::counted::test_support::run;
    use crate::flow::community_id::of_conn;
    use crate::flow::Proto;
    use etherparse::{IpNumber, PacketBuilder};

    /// An SCTP packet `src:sport` → `dst:dport` with one chunk of `kind` and `body`.
    fn sctp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, kind: u8, body: &[u8]) -> Vec<u8> {
        let mut s = Vec::new();
        s.extend_from_slice(&sport.to_be_bytes());
        s.extend_from_slice(&dport.to_be_bytes());
        s.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
        s.extend_from_slice(&[kind, 0]);
        s.extend_from_slice(&(4 + body.len() as u16).to_be_bytes());
        s.extend_from_slice(body);
        let mut out = Vec::new();
        PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4(src, dst, 64)
            .write(&mut out, IpNumber(132), &s)
            .unwrap();
        out
    }

    /// INIT, INIT ACK, DATA both ways: one association from the INIT's sender, the spec's
    /// SCTP vector (192.168.170.8:7 ↔ 192.168.170.56:7); payload counts the chunks.
    #[test]
    fn an_association_is_one_connection_from_the_init_sender() {
        let (a, b) = ([192, 168, 170, 8], [192, 168, 170, 56]);
        let frames = [
            sctp(a, 7, b, 7, 1, &[0; 16]),
            sctp(b, 7, a, 7, 2, &[0; 16]),
            sctp(a, 7, b, 7, 0, &[0; 20]),
            sctp(b, 7, a, 7, 3, &[0; 12]),
        ];
        let (flows, ended) = run(&frames);
        assert!(flows.iter().all(|f| f.conn == Some(0)));
        assert_eq!(ended.len(), 1);
        let c = &ended[0];
        assert_eq!(c.proto, Proto::Sctp);
        assert_eq!(c.client.to_string(), "192.168.170.8:7");
        assert!(!c.roles_guessed);
        assert_eq!((c.packets.to_server, c.packets.to_client), (2, 2));
        assert_eq!(c.zeek_sizes, (20 + 24, 20 + 16));
        // Set up (INIT answered) and not ended.
        assert_eq!(c.conn_state, "S1");
        assert_eq!(
            of_conn(c, 0).as_deref(),
            Some("1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=")
        );
    }

    /// A whole association (RFC 9260 §5.1 setup, §9.2 shutdown): INIT, INIT ACK, COOKIE
    /// ECHO, COOKIE ACK, DATA, SACK, SHUTDOWN, SHUTDOWN ACK, SHUTDOWN COMPLETE: one
    /// connection, SF, a graceful teardown from the client in frames 7-9, closed; a new
    /// INIT on the same ports (within the closed linger) ends it and starts a new
    /// association, which the server ABORTs after its INIT ACK: RSTR, reset.
    #[test]
    fn an_association_ends_by_shutdown_or_abort() {
        use crate::flow::{Direction, EndReason, TeardownKind};
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let c = |kind, body: &[u8]| sctp(a, 5000, b, 38412, kind, body);
        let s = |kind, body: &[u8]| sctp(b, 38412, a, 5000, kind, body);
        let mut frames = vec![
            c(1, &[0; 16]),
            s(2, &[0; 16]),
            c(10, &[0; 8]),
            s(11, &[]),
            c(0, &[0; 16]),
            s(3, &[0; 12]),
            c(7, &[0; 4]),
            s(8, &[]),
            c(14, &[]),
        ];
        let (flows, ended) = run(&frames);
        assert!(flows.iter().all(|f| f.conn == Some(0)));
        assert_eq!(ended.len(), 1);
        let e = &ended[0];
        assert_eq!(e.conn_state, "SF");
        assert_eq!(e.teardown.kind, TeardownKind::Fin);
        assert_eq!(e.teardown.initiator, Some(Direction::ToServer));
        assert_eq!(e.teardown.frames.as_slice(), &[7, 8, 9]);
        assert_eq!(e.end_reason, EndReason::Closed);
        // A new INIT on the ports of a closed association: a new association.
        frames.extend([c(1, &[0; 16]), s(2, &[0; 16]), s(6, &[])]);
        let (flows, ended) = run(&frames);
        let last = flows.last().unwrap().conn.unwrap();
        assert_ne!(last, 0);
        let again = ended.iter().find(|e| e.id == last).unwrap();
        assert_eq!(again.conn_state, "RSTR");
        assert_eq!(again.teardown.kind, TeardownKind::Rst);
        assert_eq!(again.teardown.frames.as_slice(), &[frames.len() as u64]);
        assert_eq!(again.end_reason, EndReason::Reset);
        let first = ended.iter().find(|e| e.id == 0).unwrap();
        assert_eq!(first.end_reason, EndReason::Closed);
        assert_eq!(first.last_frame, 9);
    }

    /// An INIT ACK seen first: its receiver is the client. DATA seen first: the sender is
    /// the client, guessed.
    #[test]
    fn roles_without_an_init() {
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let (_, ended) = run(&[
            sctp(b, 36412, a, 40000, 2, &[0; 16]),
            sctp(a, 5000, b, 6000, 0, &[0; 8]),
            sctp(a, 5000, b, 6000, 0, &[]),
        ]);
        assert_eq!(ended.len(), 2);
        assert_eq!(ended[0].client.to_string(), "10.0.0.1:40000");
        assert!(!ended[0].roles_guessed);
        assert_eq!(ended[1].client.to_string(), "10.0.0.1:5000");
        assert!(ended[1].roles_guessed);
        assert_eq!(ended[1].packets.to_server, 2);
        // A common header cut short gets no connection.
        let (flows, _) = run(&[sctp(a, 1, b, 2, 0, &[])[..14 + 20 + 8].to_vec()]);
        assert_eq!(flows[0].conn, None);
    }
}
