//! The flow key: the canonical 5-tuple, the same for both directions of a flow.

use super::Proto;
use std::net::{IpAddr, SocketAddr};

/// Protocol and both endpoints, the lower endpoint first, so that both directions of a
/// flow map to one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FlowKey {
    pub proto: Proto,
    pub lo: (IpAddr, u16),
    pub hi: (IpAddr, u16),
}

impl FlowKey {
    /// The key of a packet from `src` to `dst`.
    pub fn new(proto: Proto, src: SocketAddr, dst: SocketAddr) -> FlowKey {
        let a = (src.ip(), src.port());
        let b = (dst.ip(), dst.port());
        if a <= b {
            FlowKey {
                proto,
                lo: a,
                hi: b,
            }
        } else {
            FlowKey {
                proto,
                lo: b,
                hi: a,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_one_key() {
        let a: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let k1 = FlowKey::new(Proto::Tcp, a, b);
        let k2 = FlowKey::new(Proto::Tcp, b, a);
        assert_eq!(k1, k2);
        assert_eq!(k1.lo, (b.ip(), 80));
        assert_ne!(k1, FlowKey::new(Proto::Udp, a, b));
    }
}
