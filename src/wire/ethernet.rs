//! Ethernet II header.

use super::{be16, check_len, Describe, EtherType, Field, Next, Raw, Truncated};
use std::ops::Range;

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const DESTINATION: Range<usize> = 0..6;
    pub const SOURCE: Range<usize> = 6..12;
    pub const ETHER_TYPE: Range<usize> = 12..14;
}

pub const HEADER_LEN: usize = 14;

/// A borrowed Ethernet II header.
#[derive(Clone, Copy, Debug)]
pub struct Ethernet<'a> {
    buf: &'a [u8],
}

fn mac(buf: &[u8], r: Range<usize>) -> [u8; 6] {
    let mut m = [0u8; 6];
    if let Some(b) = buf.get(r) {
        m.copy_from_slice(b);
    }
    m
}

impl<'a> Ethernet<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Ethernet { buf })
    }
    pub fn destination(&self) -> [u8; 6] {
        mac(self.buf, field::DESTINATION)
    }
    pub fn source(&self) -> [u8; 6] {
        mac(self.buf, field::SOURCE)
    }
    pub fn ether_type(&self) -> EtherType {
        EtherType(be16(self.buf, field::ETHER_TYPE))
    }
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }
    pub fn next(&self) -> Next {
        Next::EtherType(self.ether_type())
    }
}

/// What a MAC address is, by its value.
pub fn mac_meaning(m: &[u8; 6]) -> &'static str {
    if m.iter().all(|&b| b == 0) {
        "all zero: loopback has no hardware address"
    } else if m.iter().all(|&b| b == 0xff) {
        "broadcast"
    } else if m[0] & 1 != 0 {
        "multicast"
    } else {
        "unicast"
    }
}

impl Describe for Ethernet<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let m = |a: [u8; 6]| a.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
        for (name, a, at) in [
            ("destination", self.destination(), field::DESTINATION),
            ("source", self.source(), field::SOURCE),
        ] {
            f(Field::shown(name, m(a), Raw::Mac(a), mac_meaning(&a)).at(at));
        }
        let t = self.ether_type();
        f(Field::shown(
            "ethertype",
            u64::from(t.0),
            Raw::Hex(4),
            format!("{} follows", t.name()),
        )
        .at(field::ETHER_TYPE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_addresses_and_type() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x88, 0x64, 0xff];
        let e = Ethernet::new_checked(&b).unwrap();
        assert_eq!(e.destination(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(e.source(), [7, 8, 9, 10, 11, 12]);
        assert_eq!(e.next(), Next::EtherType(EtherType::PPPOE_SESSION));
        assert_eq!(
            Ethernet::new_checked(&b[..13]).unwrap_err(),
            Truncated {
                needed: 14,
                had: 13
            }
        );
        let mut fields = Vec::new();
        e.describe(&mut |x| fields.push(x));
        assert_eq!(fields[2].raw_text(), "0x8864");
        assert_eq!(fields[2].meaning, "PPPoE session follows");
        assert_eq!(fields[0].raw_text(), "01:02:03:04:05:06");
        assert_eq!(fields[0].meaning, "multicast");
        // 07: the group bit (the first byte's lowest) is set
        assert_eq!(fields[1].meaning, "multicast");
    }
}
