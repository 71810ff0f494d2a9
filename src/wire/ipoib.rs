//! IP over InfiniBand (RFC 4391 §6, link type 242): an ether type and two reserved bytes.

use super::{be16, check_len, Describe, EtherType, Field, Next, Truncated};

pub const HEADER_LEN: usize = 4;

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
        EtherType(be16(self.buf, 0..2))
    }
    pub fn next(&self) -> Next {
        Next::EtherType(self.ether_type())
    }
}

impl Describe for Ipoib<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let t = self.ether_type();
        f(Field::new("protocol", u64::from(t.0), t.name()).at(0..2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ether_type() {
        let h = Ipoib::new_checked(&[0x86, 0xdd, 0, 0]).unwrap();
        assert_eq!(h.next(), Next::EtherType(EtherType::IPV6));
        assert!(Ipoib::new_checked(&[0x86, 0xdd, 0]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        let b = [0x86, 0xdd, 0, 0];
        assert_eq!(
            super::super::placed(&Ipoib::new_checked(&b).unwrap()),
            [("protocol", Some((0, 2)))]
        );
    }
}
