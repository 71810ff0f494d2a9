//! PPP (RFC 1661): the protocol field, with or without HDLC-like framing (address 0xff,
//! control 0x03, RFC 1662) and with a compressed one-byte protocol (RFC 1661 §6.5).

use super::{byte, Describe, EtherType, Field, Next, Truncated};

pub mod protocol {
    pub const IPV4: u16 = 0x0021;
    pub const IPV6: u16 = 0x0057;
    pub const MPLS_UNICAST: u16 = 0x0281;
    pub const MPLS_MULTICAST: u16 = 0x0283;
    pub const LCP: u16 = 0xC021;
    pub const PAP: u16 = 0xC023;
    pub const CHAP: u16 = 0xC223;
    pub const IPCP: u16 = 0x8021;
    pub const IPV6CP: u16 = 0x8057;
}

/// Bytes of a full protocol field.
pub const PROTOCOL_LEN: usize = 2;
/// Address, control and a full protocol field (HDLC-like framing, RFC 1662).
pub const HDLC_FRAMED_LEN: usize = 4;

const ADDRESS_ALL_STATIONS: u8 = 0xFF;
const CONTROL_UI: u8 = 0x03;

/// A PPP header: optional address/control bytes and the protocol field.
#[derive(Clone, Copy, Debug)]
pub struct Ppp<'a> {
    buf: &'a [u8],
    /// Bytes of address and control (0 or 2).
    framing: usize,
    /// Bytes of the protocol field (1 or 2).
    protocol_len: usize,
}

impl<'a> Ppp<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        let framing =
            if buf.first() == Some(&ADDRESS_ALL_STATIONS) && buf.get(1) == Some(&CONTROL_UI) {
                2
            } else {
                0
            };
        let first = *buf.get(framing).ok_or(Truncated {
            needed: framing + 2,
            had: buf.len(),
        })?;
        // An odd first byte is a compressed (one-byte) protocol field.
        let protocol_len = if first & 1 == 1 { 1 } else { 2 };
        super::check_len(buf, framing + protocol_len)?;
        Ok(Ppp {
            buf,
            framing,
            protocol_len,
        })
    }
    pub fn header_len(&self) -> usize {
        self.framing + self.protocol_len
    }
    pub fn protocol(&self) -> u16 {
        if self.protocol_len == 1 {
            u16::from(byte(self.buf, self.framing))
        } else {
            u16::from_be_bytes([
                byte(self.buf, self.framing),
                byte(self.buf, self.framing + 1),
            ])
        }
    }
    pub fn next(&self) -> Next {
        match self.protocol() {
            protocol::IPV4 => Next::EtherType(EtherType::IPV4),
            protocol::IPV6 => Next::EtherType(EtherType::IPV6),
            protocol::MPLS_UNICAST => Next::EtherType(EtherType::MPLS_UNICAST),
            protocol::MPLS_MULTICAST => Next::EtherType(EtherType::MPLS_MULTICAST),
            _ => Next::Opaque,
        }
    }
}

fn protocol_name(p: u16) -> &'static str {
    match p {
        protocol::IPV4 => "IPv4",
        protocol::IPV6 => "IPv6",
        protocol::MPLS_UNICAST | protocol::MPLS_MULTICAST => "MPLS",
        protocol::LCP => "LCP (link control)",
        protocol::PAP => "PAP (authentication)",
        protocol::CHAP => "CHAP (authentication)",
        protocol::IPCP => "IPCP (IPv4 address negotiation)",
        protocol::IPV6CP => "IPv6CP (IPv6 negotiation)",
        _ => "unknown",
    }
}

impl Describe for Ppp<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        if self.framing == 2 {
            f(Field::new("address", 0xff, "all stations (HDLC-like framing)").at_byte(0));
            f(Field::new("control", 0x03, "unnumbered information").at_byte(1));
        }
        let p = self.protocol();
        f(Field::new("protocol", u64::from(p), protocol_name(p))
            .at(self.framing..self.framing + self.protocol_len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_plain_and_compressed() {
        let p = Ppp::new_checked(&[0xff, 0x03, 0x00, 0x21, 0x45]).unwrap();
        assert_eq!((p.header_len(), p.protocol()), (4, 0x21));
        assert_eq!(p.next(), Next::EtherType(EtherType::IPV4));
        let p = Ppp::new_checked(&[0x00, 0x57]).unwrap();
        assert_eq!(
            (p.header_len(), p.next()),
            (2, Next::EtherType(EtherType::IPV6))
        );
        let p = Ppp::new_checked(&[0x21, 0x45]).unwrap();
        assert_eq!((p.header_len(), p.protocol()), (1, 0x21));
        let p = Ppp::new_checked(&[0xc0, 0x21]).unwrap();
        assert_eq!(p.next(), Next::Opaque);
        assert!(Ppp::new_checked(&[0xff, 0x03, 0x00]).is_err());
        assert!(Ppp::new_checked(&[]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes_with_or_without_framing() {
        let framed = [0xff, 0x03, 0x00, 0x21];
        assert_eq!(
            super::super::placed(&Ppp::new_checked(&framed).unwrap()),
            [
                ("address", Some((0, 1))),
                ("control", Some((1, 1))),
                ("protocol", Some((2, 2))),
            ]
        );
        // A compressed (one-byte, odd) protocol field.
        let compressed = [0x21, 0x45];
        assert_eq!(
            super::super::placed(&Ppp::new_checked(&compressed).unwrap()),
            [("protocol", Some((0, 1)))]
        );
    }
}
