//! Connections that are counted and timed but carry no stream: ICMP and ICMPv6 message
//! flows ([`super::icmp`]) and SCTP associations ([`super::sctp`]). They live in the same
//! table as TCP and UDP (same ids, limits, eviction) on the UDP list (UDP's idle timeout:
//! Zeek's `icmp_inactivity_timeout` equals its `udp_inactivity_timeout`), and their Zeek
//! state stays empty: conn_state `OTH`, no history, as Zeek logs an ICMP connection.

use super::*;

/// One packet of a counted flow: `key`/`ord` from [`FlowKey::of`] (and
/// [`FlowKey::one_way`]); a new connection's client is the packet's source (Zeek: the
/// first packet's sender originates an ICMP connection) unless `src_is_server`.
pub(super) struct CountedPacket {
    pub proto: Proto,
    pub key: FlowKey,
    pub ord: Ordering,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub src_is_server: bool,
    /// The roles were guessed (JSON `roles_guessed`).
    pub guessed: bool,
    /// The IP total length (Zeek's `num_bytes_ip`).
    pub ip_len: u32,
    /// What Zeek counts as this packet's payload (conn.log `orig_bytes`/`resp_bytes`).
    pub payload_len: u64,
}

impl<A: Default> FlowTracker<A> {
    /// Tracks one packet of a counted flow (see the module docs).
    pub(super) fn process_counted(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        p: CountedPacket,
        sink: &mut dyn StreamSink<A>,
        ended: &mut Vec<Ended<A>>,
    ) -> PacketFlow {
        let now_ns = ts_ns(frame.ts);
        let mut new_conn = false;
        let idx = match self.table.find(&p.key) {
            Some(idx) => idx,
            None => {
                let (client, server) = if p.src_is_server {
                    (p.dst, p.src)
                } else {
                    (p.src, p.dst)
                };
                let new = NewConn {
                    proto: p.proto,
                    client,
                    server,
                    client_is_lo: (p.ord != Ordering::Greater) != p.src_is_server,
                    guessed: p.guessed,
                    flipped: false,
                    frame: frame.number,
                    ts: frame.ts,
                    tcp: None,
                    first_packet: Some((frame.data, packet)),
                };
                new_conn = true;
                self.create(p.key, new, now_ns, sink, ended)
            }
        };
        let Some(conn) = self.table.get_mut(idx) else {
            return PacketFlow::default();
        };
        let dir = conn.dir_of(p.ord);
        account(conn, dir, frame, p.payload_len, p.ip_len);
        let id = conn.id;
        self.table.touch(idx, ListId::Udp, now_ns);
        PacketFlow {
            conn: Some(id),
            dir: Some(dir),
            new_conn,
            ..PacketFlow::default()
        }
    }
}

/// The length of the IP payload that carries the innermost `transport` layer of `packet`
/// (the IP total length less every IP and extension header before it: Zeek's
/// `IP_Hdr::PayloadLen`), 0 without both layers.
pub(super) fn ip_payload_len(
    packet: &DecodedPacket<'_>,
    net: &NetInfo,
    transport: LayerName,
) -> u32 {
    let layers = &packet.layers;
    let Some(t) = layers.iter().rposition(|l| l.name == transport) else {
        return 0;
    };
    let Some(ip) = layers[..t]
        .iter()
        .rposition(|l| matches!(l.name, LayerName::Ipv4 | LayerName::Ipv6))
    else {
        return 0;
    };
    let headers = layers[t].offset.saturating_sub(layers[ip].offset);
    net.total_len.saturating_sub(headers)
}

/// Real packets through the decoder and a tracker, for the ICMP and SCTP tests.
#[cfg(test)]
pub(super) mod test_support {
    use super::*;
    use crate::capture::{LinkType, Timestamp};
    use crate::decode::Decoder;

    /// Ethernet frames `frames`, one millisecond apart: each packet's flow, and every
    /// connection's summary at the end (in the order they ended).
    pub fn run(frames: &[Vec<u8>]) -> (Vec<PacketFlow>, Vec<ConnSummary>) {
        let mut decoder = Decoder::new();
        let mut ft = FlowTracker::new(FlowConfig::default());
        let mut sink = NullSink;
        let (mut flows, mut ended) = (Vec::new(), Vec::new());
        for (i, data) in frames.iter().enumerate() {
            let frame = RawFrame {
                number: i as u64 + 1,
                ts: Timestamp {
                    secs: 1_000,
                    nanos: i as u32 * 1_000_000,
                    precision: 6,
                },
                link: LinkType(1),
                interface: 0,
                file: 0,
                orig_len: data.len() as u32,
                data,
            };
            let p = decoder.decode(&frame);
            flows.push(ft.process(&frame, &p, &mut sink, &mut ended));
        }
        ft.finish(&mut sink, &mut ended);
        (flows, ended.into_iter().map(|e| e.summary).collect())
    }
}
