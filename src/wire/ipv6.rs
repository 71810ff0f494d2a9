//! IPv6 header (RFC 8200) and its extension header chain, as far as the tunnel walk needs
//! it: etherparse reads the innermost IP header in `decode`.

use super::{be16, byte, check_len, Describe, Field, IpNumber, Next, Raw, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const VER_CLASS_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SOURCE: Range<usize> = 8..24;
    pub const DESTINATION: Range<usize> = 24..40;
}

pub const HEADER_LEN: usize = 40;
/// Most extension headers walked.
pub const MAX_EXTENSIONS: usize = 8;

#[derive(Clone, Copy, Debug)]
pub struct Ipv6<'a> {
    buf: &'a [u8],
    /// Bytes of header and extension headers before the upper-layer payload.
    len: usize,
    upper: IpNumber,
    fragment: bool,
}

impl<'a> Ipv6<'a> {
    /// Version 6 and the fixed header; walks the extension headers as far as captured.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        if byte(buf, 0) >> 4 != 6 {
            return Err(Truncated {
                needed: HEADER_LEN,
                had: 0,
            });
        }
        let mut next = IpNumber(byte(buf, 6));
        let mut len = HEADER_LEN;
        let mut fragment = false;
        for _ in 0..MAX_EXTENSIONS {
            let ext_len = if next.is_ipv6_generic_extension() {
                (usize::from(*buf.get(len + 1).ok_or(Truncated {
                    needed: len + 2,
                    had: buf.len(),
                })?) + 1)
                    * 8
            } else if next == IpNumber::AUTH {
                (usize::from(*buf.get(len + 1).ok_or(Truncated {
                    needed: len + 2,
                    had: buf.len(),
                })?) + 2)
                    * 4
            } else if next == IpNumber::IPV6_FRAGMENT {
                fragment = true;
                8
            } else {
                break;
            };
            check_len(buf, len + ext_len)?;
            next = IpNumber(byte(buf, len));
            len += ext_len;
        }
        Ok(Ipv6 {
            buf,
            len,
            upper: next,
            fragment,
        })
    }
    pub fn payload_len(&self) -> u16 {
        be16(self.buf, field::PAYLOAD_LEN)
    }
    pub fn hop_limit(&self) -> u8 {
        byte(self.buf, field::HOP_LIMIT)
    }
    pub fn source(&self) -> std::net::Ipv6Addr {
        address(self.buf, field::SOURCE)
    }
    pub fn destination(&self) -> std::net::Ipv6Addr {
        address(self.buf, field::DESTINATION)
    }
    /// Header and extension headers.
    pub fn header_len(&self) -> usize {
        self.len
    }
    pub fn upper_protocol(&self) -> IpNumber {
        self.upper
    }
    pub fn has_fragment_header(&self) -> bool {
        self.fragment
    }
    /// The upper-layer payload as the header bounds it (payload length 0: all).
    pub fn payload(&self) -> &'a [u8] {
        let end = match usize::from(self.payload_len()) {
            0 => self.buf.len(),
            p => (HEADER_LEN + p).min(self.buf.len()),
        };
        self.buf.get(self.len..end).unwrap_or(&[])
    }
    pub fn next(&self) -> Next {
        Next::Ip(self.upper)
    }
}

/// The 16 bytes at `at` (checked by `new_checked`; unspecified otherwise).
fn address(buf: &[u8], at: std::ops::Range<usize>) -> std::net::Ipv6Addr {
    let octets: [u8; 16] = buf
        .get(at)
        .and_then(|b| b.try_into().ok())
        .unwrap_or([0; 16]);
    std::net::Ipv6Addr::from(octets)
}

impl Describe for Ipv6<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let w = super::be32(self.buf, field::VER_CLASS_FLOW);
        f(Field::shown(
            "ver, class, flow",
            u64::from(w),
            Raw::Hex(8),
            format!(
                "version {}, traffic class {}, flow label 0x{:05x}",
                w >> 28,
                (w >> 20) & 0xff,
                w & 0xfffff
            ),
        )
        .at(field::VER_CLASS_FLOW));
        f(Field::shown(
            "payload length",
            u64::from(self.payload_len()),
            Raw::Decimal,
            "bytes after the 40-byte header",
        )
        .at(field::PAYLOAD_LEN));
        let next = IpNumber(byte(self.buf, field::NEXT_HEADER));
        f(Field::shown(
            "next header",
            u64::from(next.0),
            Raw::Decimal,
            format!("{} follows", next.name()),
        )
        .at_byte(field::NEXT_HEADER));
        f(Field::shown(
            "hop limit",
            u64::from(self.hop_limit()),
            Raw::Decimal,
            "hops left; each router decrements it",
        )
        .at_byte(field::HOP_LIMIT));
        for (name, a, at) in [
            ("source", self.source(), field::SOURCE),
            ("destination", self.destination(), field::DESTINATION),
        ] {
            let ip = std::net::IpAddr::V6(a);
            f(Field::shown(name, 0, Raw::Ip(ip), super::address_meaning(ip)).at(at));
        }
        if self.len > HEADER_LEN {
            f(Field::shown(
                "extension headers",
                (self.len - HEADER_LEN) as u64,
                Raw::Unit("bytes"),
                format!("then {} follows", self.upper.name()),
            )
            .at(HEADER_LEN..self.len));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![0x60, 0, 0, 0, 0, payload.len() as u8, next, 64];
        b.resize(40, 0);
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn destination_options_then_gre() {
        let b = v6(60, &[47, 0, 1, 4, 0, 0, 0, 0, 0, 0, 0x88, 0xbe]);
        let h = Ipv6::new_checked(&b).unwrap();
        assert_eq!((h.header_len(), h.upper_protocol()), (48, IpNumber::GRE));
        assert_eq!(h.payload(), &[0, 0, 0x88, 0xbe]);
        assert!(!h.has_fragment_header());
        let b = v6(44, &[17, 0, 0, 1, 0, 0, 0, 9]);
        assert!(Ipv6::new_checked(&b).unwrap().has_fragment_header());
        let b = v6(60, &[47, 3, 0, 0]);
        assert!(Ipv6::new_checked(&b).is_err());
    }
}
