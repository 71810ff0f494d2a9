//! VXLAN header (RFC 7348).

use super::{be32, byte, check_len, Describe, Field, Next, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const FLAGS: usize = 0;
    pub const VNI_RESERVED: Range<usize> = 4..8;
}

pub const HEADER_LEN: usize = 8;
/// The I flag: the VNI is valid.
pub const FLAG_VNI: u8 = 0x08;
/// The VNI's mask in the 32-bit VNI/reserved word (its top 24 bits).
pub const VNI_MASK: u32 = 0xFFFF_FF00;

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
        f(Field::new(
            "flags",
            u64::from(self.flags()),
            "0x08: the VNI is valid",
        ));
        f(Field::new(
            "VNI",
            u64::from(self.vni()),
            "virtual network identifier",
        ));
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
