//! GRE (RFC 2784 / 2890, RFC 1701's source routes) and PPTP's enhanced GRE (version 1,
//! RFC 2637).

use super::{be16, check_len, Describe, EtherType, Field, Next, Truncated};

mod field {
    use std::ops::Range;
    pub const FLAGS_VERSION: Range<usize> = 0..2;
    pub const PROTOCOL: Range<usize> = 2..4;
}

pub const BASE_LEN: usize = 4;
/// Most source route entries walked (RFC 1701 §2.1.5); a list longer than this, or one
/// whose terminating null entry was not captured, is not a header this view accepts.
pub const MAX_SOURCE_ROUTES: usize = 64;
/// A source route entry's fixed part: address family (2), SRE offset (1), SRE length (1).
pub const SRE_HEADER_LEN: usize = 4;

pub mod flag {
    pub const CHECKSUM: u16 = 0x8000;
    pub const ROUTING: u16 = 0x4000;
    pub const KEY: u16 = 0x2000;
    pub const SEQUENCE: u16 = 0x1000;
    /// Version 1 only: an acknowledgment number is present.
    pub const ACK: u16 = 0x0080;
}

/// A GRE header with its optional fields, and in version 0 with the routing bit (RFC
/// 1701) its list of source route entries up to the null entry that ends it.
#[derive(Clone, Copy, Debug)]
pub struct Gre<'a> {
    buf: &'a [u8],
    len: usize,
    /// Source route entries before the null one.
    routes: u8,
}

impl<'a> Gre<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, BASE_LEN)?;
        let fv = be16(buf, field::FLAGS_VERSION);
        let mut len = BASE_LEN;
        if fv & (flag::CHECKSUM | flag::ROUTING) != 0 {
            len += 4;
        }
        if fv & flag::KEY != 0 {
            len += 4;
        }
        if fv & flag::SEQUENCE != 0 {
            len += 4;
        }
        if fv & 7 == 1 && fv & flag::ACK != 0 {
            len += 4;
        }
        check_len(buf, len)?;
        let mut routes = 0u8;
        if fv & 7 == 0 && fv & flag::ROUTING != 0 {
            // Each entry: family, offset, length, then `length` bytes of routing
            // information; the list ends with an entry of family 0 and length 0.
            loop {
                check_len(buf, len + SRE_HEADER_LEN)?;
                let family = be16(buf, len..len + 2);
                let sre_len = usize::from(super::byte(buf, len + 3));
                len += SRE_HEADER_LEN + sre_len;
                if family == 0 && sre_len == 0 {
                    break;
                }
                if usize::from(routes) == MAX_SOURCE_ROUTES {
                    return Err(Truncated {
                        needed: len + SRE_HEADER_LEN,
                        had: 0,
                    });
                }
                routes += 1;
            }
            check_len(buf, len)?;
        }
        Ok(Gre { buf, len, routes })
    }
    /// Source route entries (RFC 1701) before the null entry that ends the list.
    pub fn source_routes(&self) -> usize {
        usize::from(self.routes)
    }
    pub fn header_len(&self) -> usize {
        self.len
    }
    fn flags(&self) -> u16 {
        be16(self.buf, field::FLAGS_VERSION)
    }
    pub fn version(&self) -> u8 {
        (self.flags() & 7) as u8
    }
    pub fn has(&self, bit: u16) -> bool {
        self.flags() & bit != 0
    }
    pub fn protocol(&self) -> EtherType {
        EtherType(be16(self.buf, field::PROTOCOL))
    }
    /// The key (version 0), or payload length and call id (version 1).
    pub fn key(&self) -> Option<u32> {
        if !self.has(flag::KEY) {
            return None;
        }
        let at = if self.has(flag::CHECKSUM | flag::ROUTING) {
            8
        } else {
            4
        };
        Some(super::be32(self.buf, at..at + 4))
    }
    /// What the payload is. ERSPAN type I (0x88be without a sequence number) has no ERSPAN
    /// header: the mirrored Ethernet frame follows directly.
    pub fn next(&self) -> Next {
        match self.protocol() {
            EtherType::TRANSPARENT_ETHERNET_BRIDGING => Next::Ethernet,
            EtherType::ERSPAN_II if !self.has(flag::SEQUENCE) => Next::Ethernet,
            EtherType::PPP => Next::Ppp,
            t => Next::EtherType(t),
        }
    }
}

impl Describe for Gre<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("checksum present", u64::from(self.has(flag::CHECKSUM)), "").at_byte(0));
        f(Field::new("key present", u64::from(self.has(flag::KEY)), "").at_byte(0));
        f(Field::new("sequence present", u64::from(self.has(flag::SEQUENCE)), "").at_byte(0));
        f(Field::new(
            "version",
            u64::from(self.version()),
            if self.version() == 1 {
                "enhanced GRE (PPTP)"
            } else {
                "GRE"
            },
        )
        .at_byte(1));
        let p = self.protocol();
        f(Field::new("protocol", u64::from(p.0), p.name()).at(field::PROTOCOL));
        // The optional words in order: checksum (+ offset), key, sequence, acknowledgment.
        let mut at = BASE_LEN;
        if self.has(flag::CHECKSUM | flag::ROUTING) {
            if self.has(flag::CHECKSUM) {
                f(Field::shown(
                    "checksum",
                    u64::from(be16(self.buf, at..at + 2)),
                    super::Raw::Hex(4),
                    "not verified",
                )
                .at(at..at + 2));
            }
            at += 4;
        }
        if let Some(k) = self.key() {
            let meaning = if self.version() == 1 {
                "payload length and call id (PPTP)"
            } else {
                ""
            };
            f(Field::new("key", u64::from(k), meaning).at(at..at + 4));
            at += 4;
        }
        if self.has(flag::SEQUENCE) {
            let n = super::be32(self.buf, at..at + 4);
            f(Field::new("sequence", u64::from(n), "").at(at..at + 4));
            at += 4;
        }
        if self.version() == 1 && self.has(flag::ACK) {
            let n = super::be32(self.buf, at..at + 4);
            f(Field::new("acknowledgment", u64::from(n), "").at(at..at + 4));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keyed_and_pptp() {
        let g = Gre::new_checked(&[0, 0, 0x08, 0x00]).unwrap();
        assert_eq!(
            (g.header_len(), g.next()),
            (4, Next::EtherType(EtherType::IPV4))
        );
        // checksum + key + sequence: 16 bytes
        let b = [0xB0, 0, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 1];
        let g = Gre::new_checked(&b).unwrap();
        assert_eq!(
            (g.header_len(), g.key(), g.next()),
            (16, Some(42), Next::Ethernet)
        );
        assert!(Gre::new_checked(&b[..15]).is_err());
        // PPTP: key + sequence + ack, version 1
        let b = [
            0x30, 0x81, 0x88, 0x0b, 0, 0x10, 0, 1, 0, 0, 0, 5, 0, 0, 0, 4,
        ];
        let g = Gre::new_checked(&b).unwrap();
        assert_eq!((g.version(), g.header_len(), g.next()), (1, 16, Next::Ppp));
        // ERSPAN type I: no sequence number, the frame follows directly
        let g = Gre::new_checked(&[0, 0, 0x88, 0xbe]).unwrap();
        assert_eq!(g.next(), Next::Ethernet);
        let g = Gre::new_checked(&[0x10, 0, 0x88, 0xbe, 0, 0, 0, 1]).unwrap();
        assert_eq!(g.next(), Next::EtherType(EtherType::ERSPAN_II));
    }

    #[test]
    fn rfc1701_source_routes_are_walked_to_the_null_entry() {
        // Routing present: checksum/offset word, then an IP source route entry (family
        // 0x0800, offset 0, 8 bytes: two addresses), the null entry, then IPv4.
        let mut b = vec![0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0];
        b.extend_from_slice(&[0x08, 0x00, 0, 8, 10, 0, 0, 1, 10, 0, 0, 2]);
        b.extend_from_slice(&[0, 0, 0, 0]);
        b.extend_from_slice(&[0x45, 0]);
        let g = Gre::new_checked(&b).unwrap();
        assert_eq!(g.header_len(), 8 + 12 + 4);
        assert_eq!(g.source_routes(), 1);
        assert_eq!(g.next(), Next::EtherType(EtherType::IPV4));
        // With a key before the routes (key 7 at 8..12).
        let mut k = vec![0x60, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0];
        k.push(0x45);
        let g = Gre::new_checked(&k).unwrap();
        assert_eq!(
            (g.header_len(), g.key(), g.source_routes()),
            (16, Some(7), 0)
        );
        // The null entry not captured, or an entry's information cut: not accepted.
        assert!(Gre::new_checked(&b[..8 + 12 + 2]).is_err());
        assert!(Gre::new_checked(&b[..8 + 6]).is_err());
        // An endless list stops at the cap.
        let mut long = vec![0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0];
        for _ in 0..=MAX_SOURCE_ROUTES {
            long.extend_from_slice(&[0x08, 0x00, 0, 0]);
        }
        long.extend_from_slice(&[0, 0, 0, 0]);
        assert!(Gre::new_checked(&long).is_err());
        // Version 1 has no routing field: the bit is not a list.
        let v1 = [0x40, 0x01, 0x88, 0x0b, 0, 0, 0, 0];
        assert_eq!(Gre::new_checked(&v1).unwrap().header_len(), 8);
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes_the_key_after_the_checksum() {
        // Checksum and key present: checksum 4..6 (+ reserved to 8), key 8..12.
        let b = [0xa0, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 42];
        let h = Gre::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("checksum present", Some((0, 1))),
                ("key present", Some((0, 1))),
                ("sequence present", Some((0, 1))),
                ("version", Some((1, 1))),
                ("protocol", Some((2, 2))),
                ("checksum", Some((4, 2))),
                ("key", Some((8, 4))),
            ]
        );
        // Key only: at 4..8.
        let b = [0x20, 0x00, 0x08, 0x00, 0, 0, 0, 42];
        let key = super::super::placed(&Gre::new_checked(&b).unwrap())
            .into_iter()
            .find(|f| f.0 == "key");
        assert_eq!(key, Some(("key", Some((4, 4)))));
        // Checksum, key and sequence (16 bytes), values read where they are placed.
        let b = [
            0xb0, 0, 0x65, 0x58, 0x12, 0x34, 0, 0, 0, 0, 0, 42, 0, 0, 0, 7,
        ];
        let mut v = Vec::new();
        Gre::new_checked(&b)
            .unwrap()
            .describe(&mut |f| v.push((f.name, f.raw_text(), f.bytes)));
        assert_eq!(
            v[5..],
            [
                ("checksum", "0x1234".to_string(), Some((4, 2))),
                ("key", "42".to_string(), Some((8, 4))),
                ("sequence", "7".to_string(), Some((12, 4))),
            ]
        );
        // PPTP (version 1): key (length, call id), sequence, acknowledgment.
        let b = [
            0x30, 0x81, 0x88, 0x0b, 0, 0x10, 0, 1, 0, 0, 0, 5, 0, 0, 0, 4,
        ];
        let placed = super::super::placed(&Gre::new_checked(&b).unwrap());
        assert_eq!(
            placed[5..],
            [
                ("key", Some((4, 4))),
                ("sequence", Some((8, 4))),
                ("acknowledgment", Some((12, 4))),
            ]
        );
    }
}
