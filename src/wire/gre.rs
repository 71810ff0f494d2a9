//! GRE (RFC 2784 / 2890, RFC 1701's source routes) and PPTP's enhanced GRE (version 1,
//! RFC 2637).

use super::{be16, check_len, Describe, EtherType, Field, Next, Raw, Truncated};

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
/// Most routing-information items (addresses, AS numbers) `explain` lists for one source
/// route entry; the rest are counted in one line.
pub const MAX_SRE_ITEMS_SHOWN: usize = 16;
/// Source route entry address families (RFC 1701 §2.1.5: the ether type of what the routing
/// information holds, 0xC200 for autonomous system numbers).
pub const SRE_FAMILY_IP: u16 = 0x0800;
pub const SRE_FAMILY_ASN: u16 = 0xC200;

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
        let routing = self.version() == 0 && self.has(flag::ROUTING);
        if routing {
            f(Field::new(
                "routing present",
                1,
                "RFC 1701 source routes follow the header",
            )
            .at_byte(0));
        }
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
            if routing {
                f(Field::new(
                    "offset",
                    u64::from(be16(self.buf, at + 2..at + 4)),
                    "bytes from the routing field to the active source route entry",
                )
                .at(at + 2..at + 4));
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
        if routing {
            self.describe_source_routes(at, f);
        }
    }
}

impl Gre<'_> {
    /// The source route entries from `at` (the routing field) to the null entry, as
    /// [`Gre::new_checked`] walked them (so every read is in the buffer); at most
    /// [`MAX_SRE_ITEMS_SHOWN`] items of each entry are listed.
    fn describe_source_routes(&self, mut at: usize, f: &mut dyn FnMut(Field)) {
        for _ in 0..=self.source_routes() {
            let family = be16(self.buf, at..at + 2);
            let sre_offset = super::byte(self.buf, at + 2);
            let sre_len = usize::from(super::byte(self.buf, at + 3));
            if family == 0 && sre_len == 0 {
                f(Field::shown(
                    "SRE",
                    0,
                    Raw::None,
                    "null entry: the end of the source route list",
                )
                .at(at..at + SRE_HEADER_LEN));
                return;
            }
            let kind = match family {
                SRE_FAMILY_IP => "IP source route: IPv4 addresses",
                SRE_FAMILY_ASN => "ASN source route: autonomous system numbers",
                _ => "",
            };
            f(Field::shown("SRE family", u64::from(family), Raw::Hex(4), kind).at(at..at + 2));
            f(Field::new(
                "SRE offset",
                u64::from(sre_offset),
                "bytes into this entry's list to the active item",
            )
            .at_byte(at + 2));
            f(Field::shown("SRE length", sre_len as u64, Raw::Unit("bytes"), "").at_byte(at + 3));
            let info = at + SRE_HEADER_LEN;
            let item = match family {
                SRE_FAMILY_IP => 4,
                SRE_FAMILY_ASN => 2,
                _ => sre_len.max(1),
            };
            let items = sre_len / item;
            for i in 0..items.min(MAX_SRE_ITEMS_SHOWN) {
                let r = info + i * item..info + (i + 1) * item;
                let active = if i * item == usize::from(sre_offset) {
                    "active: the next hop"
                } else {
                    ""
                };
                let field = match family {
                    SRE_FAMILY_IP => {
                        let b = self.buf.get(r.clone()).unwrap_or(&[0; 4]);
                        let ip = std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]);
                        Field::shown("route address", 0, Raw::Ip(ip.into()), active)
                    }
                    SRE_FAMILY_ASN => Field::shown(
                        "route AS",
                        u64::from(be16(self.buf, r.clone())),
                        Raw::Decimal,
                        active,
                    ),
                    _ => Field::shown(
                        "routing information",
                        sre_len as u64,
                        Raw::Unit("bytes"),
                        "of an address family not read",
                    ),
                };
                f(field.at(r));
            }
            if items > MAX_SRE_ITEMS_SHOWN {
                f(Field::shown(
                    "",
                    (items - MAX_SRE_ITEMS_SHOWN) as u64,
                    Raw::Unit("more"),
                    "items of this entry not listed",
                ));
            }
            at = info + sre_len;
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

    #[test]
    fn source_routes_are_described_entry_by_entry() {
        // Checksum 0xbeef and routing, offset 12 (the second entry); an IP source route
        // (offset 4: the second address is active), an ASN route of two AS numbers, the
        // null entry.
        let mut b = vec![0xc0, 0x00, 0x08, 0x00, 0xbe, 0xef, 0, 12];
        b.extend_from_slice(&[0x08, 0x00, 4, 8, 192, 0, 2, 1, 192, 0, 2, 2]);
        b.extend_from_slice(&[0xc2, 0x00, 0, 4, 0xfd, 0xe8, 0xfd, 0xe9]);
        b.extend_from_slice(&[0, 0, 0, 0]);
        let g = Gre::new_checked(&b).unwrap();
        assert_eq!((g.header_len(), g.source_routes()), (32, 2));
        let mut v = Vec::new();
        g.describe(&mut |f| v.push((f.name, f.raw_text(), f.meaning.to_string(), f.bytes)));
        type Row<'r> = (&'r str, &'r str, Option<(u16, u16)>);
        let rows: Vec<Row<'_>> = v.iter().map(|(n, r, _, b)| (*n, r.as_str(), *b)).collect();
        assert_eq!(
            rows[3..],
            [
                ("routing present", "1", Some((0, 1))),
                ("version", "0", Some((1, 1))),
                ("protocol", "0x0800", Some((2, 2))),
                ("checksum", "0xbeef", Some((4, 2))),
                ("offset", "12", Some((6, 2))),
                ("SRE family", "0x0800", Some((8, 2))),
                ("SRE offset", "4", Some((10, 1))),
                ("SRE length", "8 bytes", Some((11, 1))),
                ("route address", "192.0.2.1", Some((12, 4))),
                ("route address", "192.0.2.2", Some((16, 4))),
                ("SRE family", "0xc200", Some((20, 2))),
                ("SRE offset", "0", Some((22, 1))),
                ("SRE length", "4 bytes", Some((23, 1))),
                ("route AS", "65000", Some((24, 2))),
                ("route AS", "65001", Some((26, 2))),
                ("SRE", "", Some((28, 4))),
            ]
        );
        // The active address is the one the entry's offset points at.
        let active: Vec<&str> = v
            .iter()
            .filter(|(_, _, m, _)| m.starts_with("active"))
            .map(|(_, r, _, _)| r.as_str())
            .collect();
        assert_eq!(active, ["192.0.2.2", "65000"]);
        // 20 addresses in one entry: 16 listed, 4 counted.
        let mut many = vec![0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0x08, 0x00, 0, 80];
        for i in 0..20u8 {
            many.extend_from_slice(&[10, 0, 0, i]);
        }
        many.extend_from_slice(&[0, 0, 0, 0]);
        let mut names = Vec::new();
        Gre::new_checked(&many)
            .unwrap()
            .describe(&mut |f| names.push((f.name, f.raw_text())));
        let listed = names.iter().filter(|(n, _)| *n == "route address").count();
        assert_eq!(listed, MAX_SRE_ITEMS_SHOWN);
        assert!(names.contains(&("", "4 more".to_string())));
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
