//! ARP and RARP (RFC 826, RFC 903) for IPv4 over Ethernet: where the addresses lie. The
//! decoder reads ARP with etherparse; this names the offsets the filter reads
//! (`arp host`, `rarp host`), as libpcap does for every ARP packet.

use super::{be16, be32, check_len, Describe, Field, Raw, Truncated};
use std::net::Ipv4Addr;

/// Where each field lies in the header (byte offsets and ranges), for 6-byte hardware and
/// 4-byte protocol addresses.
pub mod field {
    use std::ops::Range;
    pub const HARDWARE_TYPE: Range<usize> = 0..2;
    pub const PROTOCOL_TYPE: Range<usize> = 2..4;
    pub const HARDWARE_LEN: usize = 4;
    pub const PROTOCOL_LEN: usize = 5;
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
    fn mac(&self, at: std::ops::Range<usize>) -> [u8; 6] {
        let mut m = [0; 6];
        if let Some(b) = self.buf.get(at) {
            m.copy_from_slice(b);
        }
        m
    }
}

impl Describe for Arp<'_> {
    /// Ethernet/IPv4 ARP's fields (the only kind the decoder names ARP).
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let hw = be16(self.buf, field::HARDWARE_TYPE);
        let hw_name = if hw == 1 { "Ethernet" } else { "" };
        f(
            Field::shown("hardware type", u64::from(hw), Raw::Decimal, hw_name)
                .at(field::HARDWARE_TYPE),
        );
        let proto = be16(self.buf, field::PROTOCOL_TYPE);
        let proto_name = if proto == 0x0800 { "IPv4" } else { "" };
        f(
            Field::shown("protocol type", u64::from(proto), Raw::Hex(4), proto_name)
                .at(field::PROTOCOL_TYPE),
        );
        for (name, at, meaning) in [
            (
                "hardware size",
                field::HARDWARE_LEN,
                "bytes in a MAC address",
            ),
            (
                "protocol size",
                field::PROTOCOL_LEN,
                "bytes in an IPv4 address",
            ),
        ] {
            let v = self.buf.get(at).copied().unwrap_or(0);
            f(Field::shown(name, u64::from(v), Raw::Decimal, meaning).at_byte(at));
        }
        let op = self.operation();
        let op_name = match op {
            1 => "request: who has the target address?",
            2 => "reply: the sender has it",
            3 => "RARP request",
            4 => "RARP reply",
            _ => "",
        };
        f(Field::shown("opcode", u64::from(op), Raw::Decimal, op_name).at(field::OPERATION));
        let sender_ip = self.sender_ip().into();
        let target_ip = self.target_ip().into();
        for (name, mac, ip, ip_at) in [
            (
                "sender",
                field::SENDER_HARDWARE,
                sender_ip,
                field::SENDER_PROTOCOL,
            ),
            (
                "target",
                field::TARGET_HARDWARE,
                target_ip,
                field::TARGET_PROTOCOL,
            ),
        ] {
            let m = self.mac(mac.clone());
            let unknown = name == "target" && m == [0; 6];
            let meaning = if unknown {
                "all zeros in a request: unknown yet"
            } else {
                ""
            };
            let mac_name = if name == "sender" {
                "sender MAC"
            } else {
                "target MAC"
            };
            let ip_name = if name == "sender" {
                "sender IP"
            } else {
                "target IP"
            };
            f(Field::shown(mac_name, 0, Raw::Mac(m), meaning).at(mac));
            f(Field::shown(ip_name, 0, Raw::Ip(ip), "").at(ip_at));
        }
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
        // Every field at its RFC 826 bytes, in wire order.
        assert_eq!(
            crate::wire::placed(&arp),
            vec![
                ("hardware type", Some((0, 2))),
                ("protocol type", Some((2, 2))),
                ("hardware size", Some((4, 1))),
                ("protocol size", Some((5, 1))),
                ("opcode", Some((6, 2))),
                ("sender MAC", Some((8, 6))),
                ("sender IP", Some((14, 4))),
                ("target MAC", Some((18, 6))),
                ("target IP", Some((24, 4))),
            ]
        );
        let mut texts = Vec::new();
        arp.describe(&mut |f| texts.push(f.raw_text()));
        assert_eq!(texts[5], "02:00:00:00:00:01");
        assert_eq!(texts[6], "10.0.0.1");
        assert_eq!(texts[8], "10.0.0.2");
    }
}
