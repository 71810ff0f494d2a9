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
/// flow map to one key. 40 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FlowKey {
    lo_ip: [u64; 2],
    hi_ip: [u64; 2],
    lo_port: u16,
    hi_port: u16,
    proto: Proto,
    /// The addresses are IPv6 (an IPv4 and an IPv6 address never share a key).
    v6: bool,
}

impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Every field in five words: ports, protocol and family share one.
        state.write_u64(self.lo_ip[0]);
        state.write_u64(self.lo_ip[1]);
        state.write_u64(self.hi_ip[0]);
        state.write_u64(self.hi_ip[1]);
        state.write_u64(
            u64::from(self.lo_port)
                | u64::from(self.hi_port) << 16
                | (self.proto as u64) << 32
                | u64::from(self.v6) << 40,
        );
    }
}

/// An address as two words, and whether it is IPv6.
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
    pub fn of(
        proto: Proto,
        src: IpAddr,
        src_port: u16,
        dst: IpAddr,
        dst_port: u16,
    ) -> (FlowKey, Ordering) {
        let (a, a6) = words(src);
        let (b, b6) = words(dst);
        // A mixed pair cannot come from one IP header; order IPv4 first to stay total.
        let ord = a6.cmp(&b6).then(a.cmp(&b)).then(src_port.cmp(&dst_port));
        let v6 = a6 || b6;
        let key = if ord != Ordering::Greater {
            FlowKey {
                lo_ip: a,
                hi_ip: b,
                lo_port: src_port,
                hi_port: dst_port,
                proto,
                v6,
            }
        } else {
            FlowKey {
                lo_ip: b,
                hi_ip: a,
                lo_port: dst_port,
                hi_port: src_port,
                proto,
                v6,
            }
        };
        (key, ord)
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
        assert_eq!(k1.lo_ip, [0x0a00_0001, 0]);
        assert_eq!(k1.lo_port, 80);
        assert_ne!(k1, FlowKey::new(Proto::Udp, a, b));
        let (_, ord) = FlowKey::of(Proto::Tcp, a.ip(), 40000, b.ip(), 80);
        assert_eq!(ord, Ordering::Greater);
        let (_, ord) = FlowKey::of(Proto::Tcp, a.ip(), 40000, a.ip(), 40000);
        assert_eq!(ord, Ordering::Equal);
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
        assert_eq!(k.lo_ip, [0, 0x0a00_0002]);
    }
}
