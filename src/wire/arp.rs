//! ARP and RARP (RFC 826, RFC 903) for IPv4 over Ethernet: where the addresses lie. The
//! decoder reads ARP with etherparse; this names the offsets the filter reads
//! (`arp host`, `rarp host`), as libpcap does for every ARP packet.

use super::{be16, be32, check_len, Truncated};
use std::net::Ipv4Addr;

/// Where each field lies in the header (byte offsets and ranges), for 6-byte hardware and
/// 4-byte protocol addresses.
pub mod field {
    use std::ops::Range;
    pub const HARDWARE_TYPE: Range<usize> = 0..2;
    pub const PROTOCOL_TYPE: Range<usize> = 2..4;
    pub const OPERATION: Range<usize> = 6..8;
    pub const SENDER_HARDWARE: Range<usize> = 8..14;
    pub const SENDER_PROTOCOL: Range<usize> = 14..18;
    pub const TARGET_HARDWARE: Range<usize> = 18..24;
    pub const TARGET_PROTOCOL: Range<usize> = 24..28;
}

/// An ARP packet for IPv4 over Ethernet.
pub const ETHERNET_IPV4_LEN: usize = 28;

#[derive(Clone, Copy, Debug)]
pub struct Arp<'a> {
    buf: &'a [u8],
}

impl<'a> Arp<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, ETHERNET_IPV4_LEN)?;
        Ok(Arp { buf })
    }
    pub fn operation(&self) -> u16 {
        be16(self.buf, field::OPERATION)
    }
    pub fn sender_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(be32(self.buf, field::SENDER_PROTOCOL))
    }
    pub fn target_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(be32(self.buf, field::TARGET_PROTOCOL))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_addresses() {
        // who-has 10.0.0.2 tell 10.0.0.1
        let a = [
            0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
        ];
        let arp = Arp::new_checked(&a).unwrap();
        assert_eq!(arp.operation(), 1);
        assert_eq!(arp.sender_ip(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(arp.target_ip(), Ipv4Addr::new(10, 0, 0, 2));
        assert!(Arp::new_checked(&a[..27]).is_err());
    }
}
