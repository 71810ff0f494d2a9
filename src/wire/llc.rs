//! IEEE 802.2 LLC, with SNAP (RFC 1042) carrying an ether type.

use super::{be16, byte, check_len, Describe, EtherType, Field, Next, Truncated};

pub const SNAP_SAP: u8 = 0xAA;
pub const LLC_LEN: usize = 3;
pub const SNAP_LEN: usize = 8;

#[derive(Clone, Copy, Debug)]
pub struct Llc<'a> {
    buf: &'a [u8],
}

impl<'a> Llc<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, LLC_LEN)?;
        let l = Llc { buf };
        check_len(buf, l.header_len())?;
        Ok(l)
    }
    pub fn is_snap(&self) -> bool {
        byte(self.buf, 0) == SNAP_SAP && byte(self.buf, 1) == SNAP_SAP
    }
    pub fn header_len(&self) -> usize {
        if self.is_snap() {
            SNAP_LEN
        } else {
            LLC_LEN
        }
    }
    pub fn next(&self) -> Next {
        if self.is_snap() {
            Next::EtherType(EtherType(be16(self.buf, 6..8)))
        } else {
            Next::Opaque
        }
    }
}

impl Describe for Llc<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("DSAP", u64::from(byte(self.buf, 0)), "").at_byte(0));
        f(Field::new("SSAP", u64::from(byte(self.buf, 1)), "").at_byte(1));
        if let Next::EtherType(t) = self.next() {
            f(Field::new("ethertype", u64::from(t.0), t.name()).at(6..8));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_and_plain() {
        let l = Llc::new_checked(&[0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0x06]).unwrap();
        assert_eq!(
            (l.header_len(), l.next()),
            (8, Next::EtherType(EtherType::ARP))
        );
        assert!(Llc::new_checked(&[0xaa, 0xaa, 3, 0, 0, 0, 0x08]).is_err());
        let l = Llc::new_checked(&[0x42, 0x42, 3]).unwrap();
        assert_eq!((l.header_len(), l.next()), (3, Next::Opaque));
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // SNAP: AA AA 03, OUI 0, ethertype IPv4 at 6..8.
        let b = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        assert_eq!(
            super::super::placed(&Llc::new_checked(&b).unwrap()),
            [
                ("DSAP", Some((0, 1))),
                ("SSAP", Some((1, 1))),
                ("ethertype", Some((6, 2))),
            ]
        );
    }
}
