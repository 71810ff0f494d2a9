//! VXLAN header (RFC 7348).

use super::{be32, byte, check_len, Describe, Field, Next, Truncated};

mod field {
    use std::ops::Range;
    pub const FLAGS: usize = 0;
    pub const VNI_RESERVED: Range<usize> = 4..8;
}

pub const HEADER_LEN: usize = 8;
/// The I flag: the VNI is valid.
pub const FLAG_VNI: u8 = 0x08;

#[derive(Clone, Copy, Debug)]
pub struct Vxlan<'a> {
    buf: &'a [u8],
}

impl<'a> Vxlan<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Vxlan { buf })
    }
    pub fn flags(&self) -> u8 {
        byte(self.buf, field::FLAGS)
    }
    pub fn vni(&self) -> u32 {
        be32(self.buf, field::VNI_RESERVED) >> 8
    }
    pub fn next(&self) -> Next {
        Next::Ethernet
    }
}

impl Describe for Vxlan<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("flags", u64::from(self.flags()), "0x08: the VNI is valid").at_byte(0));
        f(Field::new("VNI", u64::from(self.vni()), "virtual network identifier").at(4..7));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vni() {
        let v = Vxlan::new_checked(&[0x08, 0, 0, 0, 0, 0, 42, 0]).unwrap();
        assert_eq!((v.flags(), v.vni(), v.next()), (8, 42, Next::Ethernet));
        assert!(Vxlan::new_checked(&[0x08, 0, 0, 0, 0, 0, 42]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // flags 0x08, reserved, VNI 0x000102, reserved.
        let b = [0x08, 0, 0, 0, 0x00, 0x01, 0x02, 0];
        let h = Vxlan::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [("flags", Some((0, 1))), ("VNI", Some((4, 3)))]
        );
    }
}
