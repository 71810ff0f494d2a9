//! ERSPAN type II and type III headers (draft-foschiano-erspan). Type I has no header.

use super::{be16, byte, check_len, Describe, Field, Next, Truncated};

mod field {
    use std::ops::Range;
    pub const VER_VLAN: Range<usize> = 0..2;
    pub const SESSION: Range<usize> = 2..4;
    /// Type III: the last byte's low bit says a platform-specific subheader follows.
    pub const III_FLAGS: usize = 11;
}

pub const TYPE_II_LEN: usize = 8;
pub const TYPE_III_LEN: usize = 12;
pub const PLATFORM_SUBHEADER_LEN: usize = 8;

#[derive(Clone, Copy, Debug)]
pub struct Erspan<'a> {
    buf: &'a [u8],
    len: usize,
}

impl<'a> Erspan<'a> {
    /// `type_iii` from the GRE protocol (0x22eb) that carried it.
    pub fn new_checked(buf: &'a [u8], type_iii: bool) -> Result<Self, Truncated> {
        let len = if type_iii {
            check_len(buf, TYPE_III_LEN)?;
            if byte(buf, field::III_FLAGS) & 1 != 0 {
                TYPE_III_LEN + PLATFORM_SUBHEADER_LEN
            } else {
                TYPE_III_LEN
            }
        } else {
            TYPE_II_LEN
        };
        check_len(buf, len)?;
        Ok(Erspan { buf, len })
    }
    pub fn header_len(&self) -> usize {
        self.len
    }
    /// 1 for type II, 2 for type III.
    pub fn version(&self) -> u8 {
        byte(self.buf, 0) >> 4
    }
    pub fn vlan(&self) -> u16 {
        be16(self.buf, field::VER_VLAN) & 0x0FFF
    }
    pub fn session_id(&self) -> u16 {
        be16(self.buf, field::SESSION) & 0x03FF
    }
    /// The mirrored frame.
    pub fn next(&self) -> Next {
        Next::Ethernet
    }
}

impl Describe for Erspan<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new(
            "version",
            u64::from(self.version()),
            if self.version() == 2 {
                "type III"
            } else {
                "type II"
            },
        )
        .at_byte(0));
        f(Field::new("VLAN", u64::from(self.vlan()), "of the mirrored frame").at(field::VER_VLAN));
        f(
            Field::new("session id", u64::from(self.session_id()), "mirror session")
                .at(field::SESSION),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_ii_and_iii() {
        let e = Erspan::new_checked(&[0x10, 0x05, 0x00, 0x64, 0, 0, 0, 0], false).unwrap();
        assert_eq!(
            (e.version(), e.vlan(), e.session_id(), e.header_len()),
            (1, 5, 100, 8)
        );
        let mut b = [0u8; 20];
        b[0] = 0x20;
        b[11] = 1;
        let e = Erspan::new_checked(&b, true).unwrap();
        assert_eq!((e.version(), e.header_len()), (2, 20));
        assert!(Erspan::new_checked(&b[..19], true).is_err());
        assert!(Erspan::new_checked(&b[..7], false).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // Type II: version 1, VLAN 5, session 7, index.
        let b = [0x10, 0x05, 0x00, 0x07, 0, 0, 0, 0];
        assert_eq!(
            super::super::placed(&Erspan::new_checked(&b, false).unwrap()),
            [
                ("version", Some((0, 1))),
                ("VLAN", Some((0, 2))),
                ("session id", Some((2, 2))),
            ]
        );
    }
}
