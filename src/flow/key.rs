//! The flow key: the canonical 5-tuple, the same for both directions of a flow.
//!
//! Addresses are kept as raw words (an IPv4 address in the low 32 bits of the first word),
//! so that building, ordering, comparing and hashing a key per packet costs a few integer
//! operations and no `SocketAddr`.

use super::Proto;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Protocol and both endpoints, the lower endpoint first, so that both directions of a
/// flow map to one key. Five words (40 bytes): the lower endpoint's address, the higher
/// endpoint's address, then both ports, the protocol and the family in one word, so that
/// comparing and hashing a key is five word operations.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FlowKey {
    /// `[lo_ip, hi_ip]`, each as two words.
    ip: [[u64; 2]; 2],
    /// Lower endpoint's port (bits 0..16), higher endpoint's port (16..32), protocol
    /// (32..40), IPv6 (bit 40: an IPv4 and an IPv6 address never share a key).
    meta: u64,
}

impl PartialEq for FlowKey {
    #[inline(always)]
    fn eq(&self, other: &FlowKey) -> bool {
        // Without branches: one difference anywhere makes the union non-zero.
        let (a, b) = (&self.ip, &other.ip);
        ((a[0][0] ^ b[0][0])
            | (a[0][1] ^ b[0][1])
            | (a[1][0] ^ b[1][0])
            | (a[1][1] ^ b[1][1])
            | (self.meta ^ other.meta))
            == 0
    }
}

impl Eq for FlowKey {}

impl Hash for FlowKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.ip[0][0]);
        state.write_u64(self.ip[0][1]);
        state.write_u64(self.ip[1][0]);
        state.write_u64(self.ip[1][1]);
        state.write_u64(self.meta);
    }
}

/// An address as two words, and whether it is IPv6.
#[inline(always)]
fn words(ip: IpAddr) -> ([u64; 2], bool) {
    match ip {
        IpAddr::V4(a) => ([u64::from(a.to_bits()), 0], false),
        IpAddr::V6(a) => {
            let b = a.to_bits();
            ([(b >> 64) as u64, b as u64], true)
        }
    }
}

impl FlowKey {
    /// The key of a packet from `src:src_port` to `dst:dst_port`, and how the source
    /// endpoint orders against the destination: `Less` = the source is the key's lower
    /// endpoint, `Equal` = both endpoints are the same.
    #[inline(always)]
    pub fn of(
        proto: Proto,
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
    ) -> (FlowKey, Ordering) {
        if let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) {
            // The common case in fewer steps: address and port in one word per endpoint,
            // ordered as the general code orders them (address first, then port).
            let x = u64::from(s.to_bits()) << 16 | u64::from(src_port);
            let y = u64::from(d.to_bits()) << 16 | u64::from(dst_port);
            let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
            let key = FlowKey {
                ip: [[lo >> 16, 0], [hi >> 16, 0]],
                meta: (lo & 0xffff) | (hi & 0xffff) << 16 | (proto as u64) << 32,
            };
            return (key, x.cmp(&y));
        }
        let (a, a6) = words(src);
        let (b, b6) = words(dst);
        // A mixed pair cannot come from one IP header; order IPv4 first to stay total.
        let ord = (a6, a[0], a[1], src_port).cmp(&(b6, b[0], b[1], dst_port));
        let tail = (proto as u64) << 32 | u64::from(a6 || b6) << 40;
        let (sp, dp) = (u64::from(src_port), u64::from(dst_port));
        let key = if ord != Ordering::Greater {
            FlowKey {
                ip: [a, b],
                meta: sp | dp << 16 | tail,
            }
        } else {
            FlowKey {
                ip: [b, a],
                meta: dp | sp << 16 | tail,
            }
        };
        (key, ord)
    }

    /// The key of a one-way message (an ICMP error, Zeek's `is_one_way`): the same
    /// endpoints in the other direction are another flow. `ord` is what [`FlowKey::of`]
    /// returned with the key; bit 41 marks a source that is the lower endpoint (or both
    /// are equal), bit 42 one that is the higher.
    #[inline]
    pub fn one_way(mut self, ord: Ordering) -> FlowKey {
        self.meta |= if ord == Ordering::Greater {
            1 << 42
        } else {
            1 << 41
        };
        self
    }

    /// The lower endpoint's address words and port.
    #[cfg(test)]
    fn lo(&self) -> ([u64; 2], u16) {
        (self.ip[0], self.meta as u16)
    }

    /// The key of a packet from `src` to `dst`.
    #[cfg(test)]
    pub fn new(proto: Proto, src: std::net::SocketAddr, dst: std::net::SocketAddr) -> FlowKey {
        FlowKey::of(proto, src.ip(), src.port(), dst.ip(), dst.port()).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    #[test]
    fn both_directions_share_one_key() {
        let a: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let k1 = FlowKey::new(Proto::Tcp, a, b);
        let k2 = FlowKey::new(Proto::Tcp, b, a);
        assert_eq!(k1, k2);
        assert_eq!(k1.lo(), ([0x0a00_0001, 0], 80));
        assert_ne!(k1, FlowKey::new(Proto::Udp, a, b));
        let (_, ord) = FlowKey::of(Proto::Tcp, a.ip(), 40000, b.ip(), 80);
        assert_eq!(ord, Ordering::Greater);
        let (_, ord) = FlowKey::of(Proto::Tcp, a.ip(), 40000, a.ip(), 40000);
        assert_eq!(ord, Ordering::Equal);
    }

    /// The IPv4 shortcut gives the key and order the general code gives (an IPv4 address
    /// in an IPv6 header is ordered and keyed by the same words, only flagged IPv6).
    #[test]
    fn ipv4_shortcut_matches_the_general_words() {
        let ends: [(&str, u16); 5] = [
            ("10.0.0.1", 80),
            ("10.0.0.1", 40000),
            ("10.0.0.2", 80),
            ("192.168.1.1", 1),
            ("0.0.0.0", 0),
        ];
        for &(sa, sp) in &ends {
            for &(da, dp) in &ends {
                let (s4, d4): (IpAddr, IpAddr) = (sa.parse().unwrap(), da.parse().unwrap());
                let s6: IpAddr = format!("::{sa}").parse().unwrap();
                let d6: IpAddr = format!("::{da}").parse().unwrap();
                let (k4, o4) = FlowKey::of(Proto::Tcp, s4, sp, d4, dp);
                let (k6, o6) = FlowKey::of(Proto::Tcp, s6, sp, d6, dp);
                assert_eq!(o4, o6, "{sa}:{sp} -> {da}:{dp}");
                // Same address words and ports; only the IPv6 bit (40) differs.
                let swap = |[a, b]: [u64; 2]| [b, a];
                assert_eq!(k4.ip.map(swap), k6.ip, "{sa}:{sp} -> {da}:{dp}");
                assert_eq!(k4.meta | 1 << 40, k6.meta, "{sa}:{sp} -> {da}:{dp}");
            }
        }
        let (k, ord) = FlowKey::of(
            Proto::Udp,
            "10.0.0.2".parse().unwrap(),
            53,
            "10.0.0.1".parse().unwrap(),
            5353,
        );
        assert_eq!(ord, Ordering::Greater);
        assert_eq!(k.ip, [[0x0a00_0001, 0], [0x0a00_0002, 0]]);
        assert_eq!(k.meta, 5353 | 53 << 16 | (Proto::Udp as u64) << 32);
    }

    #[test]
    fn one_way_keys_keep_their_direction() {
        let a: SocketAddr = "10.0.0.1:3".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:3".parse().unwrap();
        let (ab, o1) = FlowKey::of(Proto::Icmp, a.ip(), 3, b.ip(), 3);
        let (ba, o2) = FlowKey::of(Proto::Icmp, b.ip(), 3, a.ip(), 3);
        assert_eq!(ab, ba);
        assert_ne!(ab.one_way(o1), ba.one_way(o2));
        assert_eq!(
            ab.one_way(o1),
            FlowKey::of(Proto::Icmp, a.ip(), 3, b.ip(), 3).0.one_way(o1)
        );
        assert_ne!(ab.one_way(o1), ab);
    }

    #[test]
    fn ipv4_and_mapped_ipv6_differ() {
        let a: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:80".parse().unwrap();
        let a6: SocketAddr = "[::10.0.0.1]:80".parse().unwrap();
        let b6: SocketAddr = "[::10.0.0.2]:80".parse().unwrap();
        assert_ne!(
            FlowKey::new(Proto::Tcp, a, b),
            FlowKey::new(Proto::Tcp, a6, b6)
        );
        let c6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        let k = FlowKey::new(Proto::Tcp, c6, b6);
        assert_eq!(k, FlowKey::new(Proto::Tcp, b6, c6));
        assert_eq!(k.lo(), ([0, 0x0a00_0002], 80));
    }
}
