//! PPI, the Per-Packet Information header (link type 192): its length and the link type of
//! the frame it carries.

use super::{byte, check_len, le16, le32, Describe, Field, Truncated};

pub const MIN_LEN: usize = 8;

#[derive(Clone, Copy, Debug)]
pub struct Ppi<'a> {
    buf: &'a [u8],
}

impl<'a> Ppi<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, MIN_LEN)?;
        let p = Ppi { buf };
        check_len(buf, p.header_len())?;
        Ok(p)
    }
    pub fn version(&self) -> u8 {
        byte(self.buf, 0)
    }
    pub fn header_len(&self) -> usize {
        usize::from(le16(self.buf, 2..4)).max(MIN_LEN)
    }
    /// The link type (DLT) of the frame that follows (105: 802.11).
    pub fn link_type(&self) -> u32 {
        le32(self.buf, 4..8)
    }
}

impl Describe for Ppi<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("version", u64::from(self.version()), "").at_byte(0));
        f(Field::new("length", self.header_len() as u64, "bytes").at(2..4));
        f(Field::new(
            "link type",
            u64::from(self.link_type()),
            "of the frame that follows",
        )
        .at(4..8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_dlt() {
        let b = [0, 0, 8, 0, 105, 0, 0, 0];
        let p = Ppi::new_checked(&b).unwrap();
        assert_eq!((p.header_len(), p.link_type()), (8, 105));
        assert!(Ppi::new_checked(&[0, 0, 20, 0, 105, 0, 0, 0, 0]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // Version 0, flags, length 8 (little-endian), link type 105 (802.11).
        let b = [0, 0, 8, 0, 105, 0, 0, 0];
        assert_eq!(
            super::super::placed(&Ppi::new_checked(&b).unwrap()),
            [
                ("version", Some((0, 1))),
                ("length", Some((2, 2))),
                ("link type", Some((4, 4))),
            ]
        );
    }
}
