//! ESP (RFC 4303): SPI and sequence number; the rest is encrypted.

use super::{be32, check_len, Describe, Field, Next, Truncated};

pub const HEADER_LEN: usize = 8;

#[derive(Clone, Copy, Debug)]
pub struct Esp<'a> {
    buf: &'a [u8],
}

impl<'a> Esp<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Esp { buf })
    }
    pub fn spi(&self) -> u32 {
        be32(self.buf, 0..4)
    }
    pub fn sequence(&self) -> u32 {
        be32(self.buf, 4..8)
    }
    pub fn next(&self) -> Next {
        Next::Opaque
    }
}

impl Describe for Esp<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("SPI", u64::from(self.spi()), "security association").at(0..4));
        f(Field::new(
            "sequence",
            u64::from(self.sequence()),
            "the rest is encrypted",
        )
        .at(4..8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spi_and_sequence() {
        let e = Esp::new_checked(&[0, 0, 1, 0, 0, 0, 0, 7, 0xde]).unwrap();
        assert_eq!((e.spi(), e.sequence()), (256, 7));
        assert!(Esp::new_checked(&[0; 7]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        let b = [0, 0, 0x10, 0x01, 0, 0, 0, 5, 0xaa, 0xbb];
        let h = Esp::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [("SPI", Some((0, 4))), ("sequence", Some((4, 4)))]
        );
    }
}
