//! Linux cooked capture headers: LINKTYPE_LINUX_SLL (v1, 16 bytes) and LINKTYPE_LINUX_SLL2
//! (20 bytes), as libpcap writes them for `any` and for devices without a link header.

use super::{be16, be32, byte, check_len, Describe, EtherType, Field, Next, Raw, Truncated};

/// SLL v1: packet type, ARPHRD type, address length, address (8), protocol.
pub mod field {
    use std::ops::Range;
    pub const PACKET_TYPE: Range<usize> = 0..2;
    pub const ARPHRD_TYPE: Range<usize> = 2..4;
    pub const ADDRESS_LEN: Range<usize> = 4..6;
    pub const ADDRESS: Range<usize> = 6..14;
    pub const PROTOCOL: Range<usize> = 14..16;
}

/// SLL2: protocol, reserved, interface index, ARPHRD type, packet type, address length,
/// address (8).
pub mod field2 {
    use std::ops::Range;
    pub const PROTOCOL: Range<usize> = 0..2;
    pub const RESERVED: Range<usize> = 2..4;
    pub const INTERFACE: Range<usize> = 4..8;
    pub const ARPHRD_TYPE: Range<usize> = 8..10;
    pub const PACKET_TYPE: usize = 10;
    pub const ADDRESS_LEN: usize = 11;
    pub const ADDRESS: Range<usize> = 12..20;
}

pub const SLL_LEN: usize = 16;
pub const SLL2_LEN: usize = 20;

/// ARPHRD_LOOPBACK: the capturing device was the loopback.
const ARPHRD_LOOPBACK: u16 = 772;

/// Which of the two headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// A Linux cooked capture header.
#[derive(Clone, Copy, Debug)]
pub struct Sll<'a> {
    buf: &'a [u8],
    version: Version,
}

impl<'a> Sll<'a> {
    pub fn new_checked(buf: &'a [u8], version: Version) -> Result<Self, Truncated> {
        check_len(buf, Self::len_of(version))?;
        Ok(Sll { buf, version })
    }
    pub fn len_of(version: Version) -> usize {
        match version {
            Version::V1 => SLL_LEN,
            Version::V2 => SLL2_LEN,
        }
    }
    pub fn header_len(&self) -> usize {
        Self::len_of(self.version)
    }
    /// The protocol type: an ether type when ≥ 0x0600.
    pub fn protocol(&self) -> EtherType {
        EtherType(match self.version {
            Version::V1 => be16(self.buf, field::PROTOCOL),
            Version::V2 => be16(self.buf, field2::PROTOCOL),
        })
    }
    pub fn packet_type(&self) -> u16 {
        match self.version {
            Version::V1 => be16(self.buf, field::PACKET_TYPE),
            Version::V2 => u16::from(byte(self.buf, field2::PACKET_TYPE)),
        }
    }
    pub fn arphrd_type(&self) -> u16 {
        match self.version {
            Version::V1 => be16(self.buf, field::ARPHRD_TYPE),
            Version::V2 => be16(self.buf, field2::ARPHRD_TYPE),
        }
    }
    /// The capturing interface's index (SLL2 only).
    pub fn interface(&self) -> Option<u32> {
        (self.version == Version::V2).then(|| be32(self.buf, field2::INTERFACE))
    }
    /// The sender's link-layer address when it is 6 bytes long (a MAC).
    pub fn source_mac(&self) -> Option<[u8; 6]> {
        let (len, at) = match self.version {
            Version::V1 => (be16(self.buf, field::ADDRESS_LEN), field::ADDRESS),
            Version::V2 => (
                u16::from(byte(self.buf, field2::ADDRESS_LEN)),
                field2::ADDRESS,
            ),
        };
        if len != 6 {
            return None;
        }
        self.buf.get(at.start..at.start + 6)?.try_into().ok()
    }
    pub fn next(&self) -> Next {
        Next::EtherType(self.protocol())
    }
}

/// What a packet type says about the packet's direction.
pub fn packet_type_meaning(p: u16) -> &'static str {
    match p {
        0 => "to us",
        1 => "broadcast",
        2 => "multicast",
        3 => "to someone else",
        4 => "sent by us",
        _ => "",
    }
}

impl Describe for Sll<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let t = self.protocol();
        let follows = format!("{} follows", t.name());
        let arphrd = self.arphrd_type();
        let arphrd_meaning = if arphrd == ARPHRD_LOOPBACK {
            "ARPHRD_LOOPBACK"
        } else {
            ""
        };
        let p = self.packet_type();
        match self.version {
            Version::V1 => {
                f(Field::shown(
                    "packet type",
                    u64::from(p),
                    Raw::Decimal,
                    packet_type_meaning(p),
                )
                .at(field::PACKET_TYPE));
                f(Field::shown(
                    "ARPHRD type",
                    u64::from(arphrd),
                    Raw::Decimal,
                    arphrd_meaning,
                )
                .at(field::ARPHRD_TYPE));
                if let Some(m) = self.source_mac() {
                    f(Field::shown("source", 0, Raw::Mac(m), "").at(field::ADDRESS));
                }
                f(
                    Field::shown("protocol", u64::from(t.0), Raw::Hex(4), follows)
                        .at(field::PROTOCOL),
                );
            }
            Version::V2 => {
                f(
                    Field::shown("protocol", u64::from(t.0), Raw::Hex(4), follows)
                        .at(field2::PROTOCOL),
                );
                let i = be32(self.buf, field2::INTERFACE);
                f(Field::shown(
                    "interface",
                    u64::from(i),
                    Raw::Decimal,
                    "capturing interface index",
                )
                .at(field2::INTERFACE));
                f(Field::shown(
                    "ARPHRD type",
                    u64::from(arphrd),
                    Raw::Decimal,
                    arphrd_meaning,
                )
                .at(field2::ARPHRD_TYPE));
                f(Field::shown(
                    "packet type",
                    u64::from(p),
                    Raw::Decimal,
                    packet_type_meaning(p),
                )
                .at_byte(field2::PACKET_TYPE));
                if let Some(m) = self.source_mac() {
                    f(Field::shown("source", 0, Raw::Mac(m), "").at(field2::ADDRESS));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(h: &Sll<'_>) -> Vec<(String, String, String)> {
        let mut v = Vec::new();
        h.describe(&mut |f| v.push((f.name.to_string(), f.raw_text(), f.meaning.to_string())));
        v
    }

    #[test]
    fn sll_v1_outgoing_ipv4_from_a_mac() {
        // sent by us (4), ARPHRD_ETHER (1), 6-byte address, IPv4
        let h = [0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        let s = Sll::new_checked(&h, Version::V1).unwrap();
        assert_eq!(s.protocol(), EtherType::IPV4);
        assert_eq!(s.packet_type(), 4);
        assert_eq!(s.source_mac(), Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(s.interface(), None);
        let f = fields(&s);
        assert_eq!(
            f[0],
            ("packet type".into(), "4".into(), "sent by us".into())
        );
        assert_eq!(f[2].1, "02:00:00:00:00:01");
        assert_eq!(
            f[3],
            ("protocol".into(), "0x0800".into(), "IPv4 follows".into())
        );
        assert!(Sll::new_checked(&h[..15], Version::V1).is_err());
    }

    #[test]
    fn sll2_loopback_ipv6() {
        // IPv6, reserved, ifindex 1, ARPHRD_LOOPBACK (772), to us (0), address length 6
        let h = [
            0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0x03, 0x04, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let s = Sll::new_checked(&h, Version::V2).unwrap();
        assert_eq!(s.next(), Next::EtherType(EtherType::IPV6));
        assert_eq!(s.interface(), Some(1));
        assert_eq!(s.arphrd_type(), 772);
        let f = fields(&s);
        assert_eq!(
            f[0],
            ("protocol".into(), "0x86dd".into(), "IPv6 follows".into())
        );
        assert_eq!(f[2].2, "ARPHRD_LOOPBACK");
        assert_eq!(f[3], ("packet type".into(), "0".into(), "to us".into()));
        assert!(Sll::new_checked(&h[..19], Version::V2).is_err());
    }
}
