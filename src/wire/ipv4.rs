//! IPv4 header (RFC 791), as far as the tunnel walk needs it: etherparse reads the
//! innermost IP header in `decode`.

use super::{be16, byte, check_len, Describe, Field, IpNumber, Next, Raw, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const TOTAL_LEN: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLAGS_FRAG: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SOURCE: Range<usize> = 12..16;
    pub const DESTINATION: Range<usize> = 16..20;
}

pub const MIN_LEN: usize = 20;
/// The fragment offset bits of the flags/offset field: non-zero on every fragment but the
/// first.
pub const FRAGMENT_OFFSET_MASK: u16 = 0x1FFF;

/// The header length a version/IHL byte announces.
#[inline]
pub fn header_len_of(ver_ihl: u8) -> usize {
    usize::from(ver_ihl & 0xF) * 4
}

#[derive(Clone, Copy, Debug)]
pub struct Ipv4<'a> {
    buf: &'a [u8],
}

impl<'a> Ipv4<'a> {
    /// Version 4 and a header length (IHL ≥ 5) that was captured whole.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, MIN_LEN)?;
        let h = Ipv4 { buf };
        if h.version() != 4 || h.header_len() < MIN_LEN {
            return Err(Truncated {
                needed: MIN_LEN,
                had: 0,
            });
        }
        check_len(buf, h.header_len())?;
        Ok(h)
    }
    pub fn version(&self) -> u8 {
        byte(self.buf, field::VER_IHL) >> 4
    }
    pub fn header_len(&self) -> usize {
        header_len_of(byte(self.buf, field::VER_IHL))
    }
    pub fn total_len(&self) -> u16 {
        be16(self.buf, field::TOTAL_LEN)
    }
    pub fn ident(&self) -> u16 {
        be16(self.buf, field::IDENT)
    }
    /// More fragments or a fragment offset: the payload is not whole here.
    pub fn is_fragment(&self) -> bool {
        be16(self.buf, field::FLAGS_FRAG) & 0x3FFF != 0
    }
    /// Where this fragment's payload lies in the datagram, in 8-byte units (0: the first).
    pub fn fragment_offset(&self) -> u16 {
        be16(self.buf, field::FLAGS_FRAG) & FRAGMENT_OFFSET_MASK
    }
    pub fn ttl(&self) -> u8 {
        byte(self.buf, field::TTL)
    }
    pub fn protocol(&self) -> IpNumber {
        IpNumber(byte(self.buf, field::PROTOCOL))
    }
    pub fn source(&self) -> std::net::Ipv4Addr {
        std::net::Ipv4Addr::from(super::be32(self.buf, field::SOURCE))
    }
    pub fn destination(&self) -> std::net::Ipv4Addr {
        std::net::Ipv4Addr::from(super::be32(self.buf, field::DESTINATION))
    }
    /// The payload as the header bounds it (total length 0, offload, takes all).
    pub fn payload(&self) -> &'a [u8] {
        let end = match usize::from(self.total_len()) {
            0 => self.buf.len(),
            t => t.min(self.buf.len()),
        };
        self.buf.get(self.header_len()..end).unwrap_or(&[])
    }
    pub fn next(&self) -> Next {
        Next::Ip(self.protocol())
    }
}

impl Describe for Ipv4<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let vihl = byte(self.buf, field::VER_IHL);
        let ihl = self.header_len();
        f(Field::shown(
            "version, IHL",
            u64::from(vihl),
            Raw::Hex(2),
            format!(
                "version {}, header {} × 4 = {ihl} bytes",
                vihl >> 4,
                vihl & 0x0f
            ),
        )
        .at_byte(field::VER_IHL));
        let tos = byte(self.buf, field::TOS);
        f(Field::shown(
            "DSCP, ECN",
            u64::from(tos),
            Raw::Hex(2),
            format!("DSCP {}, ECN {}", tos >> 2, tos & 3),
        )
        .at_byte(field::TOS));
        let total = self.total_len();
        f(Field::shown(
            "total length",
            u64::from(total),
            Raw::Decimal,
            format!(
                "{ihl}-byte header + {} bytes of payload",
                usize::from(total).saturating_sub(ihl)
            ),
        )
        .at(field::TOTAL_LEN));
        let id = self.ident();
        f(
            Field::shown("identification", u64::from(id), Raw::Hex(4), id.to_string())
                .at(field::IDENT),
        );
        let ff = be16(self.buf, field::FLAGS_FRAG);
        let mut flags = Vec::new();
        if ff & 0x4000 != 0 {
            flags.push("DF: don't fragment");
        }
        if ff & 0x2000 != 0 {
            flags.push("MF: more fragments");
        }
        f(Field::shown(
            "flags, offset",
            u64::from(ff),
            Raw::Hex(4),
            format!(
                "{}, fragment offset {}",
                if flags.is_empty() {
                    "no flags".to_string()
                } else {
                    flags.join(", ")
                },
                u32::from(ff & 0x1fff) * 8
            ),
        )
        .at(field::FLAGS_FRAG));
        f(Field::shown(
            "ttl",
            u64::from(self.ttl()),
            Raw::Decimal,
            "hops left; each router decrements it",
        )
        .at_byte(field::TTL));
        let p = self.protocol();
        f(Field::shown(
            "protocol",
            u64::from(p.0),
            Raw::Decimal,
            format!("{} follows", p.name()),
        )
        .at_byte(field::PROTOCOL));
        f(Field::shown(
            "header checksum",
            u64::from(be16(self.buf, field::CHECKSUM)),
            Raw::Hex(4),
            "not verified",
        )
        .at(field::CHECKSUM));
        for (name, a, at) in [
            ("source", self.source(), field::SOURCE),
            ("destination", self.destination(), field::DESTINATION),
        ] {
            let ip = std::net::IpAddr::V4(a);
            f(Field::shown(
                name,
                u64::from(u32::from(a)),
                Raw::Ip(ip),
                super::address_meaning(ip),
            )
            .at(at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        let mut b = vec![0x45, 0, 0, 24, 0, 1, 0x40, 0, 64, 47, 0, 0];
        b.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0x08, 0, 0xff]);
        let h = Ipv4::new_checked(&b).unwrap();
        assert_eq!(
            (h.header_len(), h.protocol(), h.is_fragment()),
            (20, IpNumber::GRE, false)
        );
        assert_eq!(h.payload(), &[0, 0, 8, 0]);
        b[6] = 0x20;
        assert!(Ipv4::new_checked(&b).unwrap().is_fragment());
        b[0] = 0x46;
        assert!(Ipv4::new_checked(&b[..23]).is_err());
        b[0] = 0x65;
        assert!(Ipv4::new_checked(&b).is_err());
    }
}
