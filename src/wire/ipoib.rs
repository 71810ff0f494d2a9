//! IP over InfiniBand (link type 242) as libpcap, tcpdump and tshark read it: 40 bytes of
//! InfiniBand addressing (Linux's IPoIB pseudo-header), then RFC 4391 §6's encapsulation
//! header: an ether type and two reserved bytes (tcpdump's `IPOIB_HDRLEN` is 44, its ether
//! type at offset 40; tshark decodes the same layout).

use super::{be16, check_len, Describe, EtherType, Field, Next, Raw, Truncated};

mod field {
    use std::ops::Range;
    pub const ADDRESSES: Range<usize> = 0..40;
    pub const PROTOCOL: Range<usize> = 40..42;
}

pub const HEADER_LEN: usize = 44;

#[derive(Clone, Copy, Debug)]
pub struct Ipoib<'a> {
    buf: &'a [u8],
}

impl<'a> Ipoib<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Ipoib { buf })
    }
    pub fn ether_type(&self) -> EtherType {
        EtherType(be16(self.buf, field::PROTOCOL))
    }
    pub fn next(&self) -> Next {
        Next::EtherType(self.ether_type())
    }
}

impl Describe for Ipoib<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::shown(
            "addresses",
            field::ADDRESSES.len() as u64,
            Raw::Unit("bytes"),
            "InfiniBand queue pairs and GIDs of both ends (not read)",
        )
        .at(field::ADDRESSES));
        let t = self.ether_type();
        f(Field::new("protocol", u64::from(t.0), t.name()).at(field::PROTOCOL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ether_type: u16) -> Vec<u8> {
        let mut b = vec![0u8; 40];
        b.extend_from_slice(&ether_type.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        b
    }

    #[test]
    fn ether_type_after_the_addresses() {
        let b = header(0x86dd);
        let h = Ipoib::new_checked(&b).unwrap();
        assert_eq!(h.next(), Next::EtherType(EtherType::IPV6));
        assert!(Ipoib::new_checked(&b[..43]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        let b = tests_header();
        assert_eq!(
            super::super::placed(&Ipoib::new_checked(&b).unwrap()),
            [("addresses", Some((0, 40))), ("protocol", Some((40, 2)))]
        );
    }

    fn tests_header() -> Vec<u8> {
        let mut b = vec![0u8; 40];
        b.extend_from_slice(&[0x08, 0x00, 0, 0]);
        b
    }
}
