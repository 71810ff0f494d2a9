//! 802.1Q / 802.1ad VLAN tag (the 4 bytes after the tag's ether type).

use super::{be16, check_len, Describe, EtherType, Field, Next, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const TCI: Range<usize> = 0..2;
    pub const ETHER_TYPE: Range<usize> = 2..4;
}

pub const HEADER_LEN: usize = 4;
/// The VLAN id's bits of the tag control information.
pub const VLAN_ID_MASK: u16 = 0x0FFF;

#[derive(Clone, Copy, Debug)]
pub struct VlanTag<'a> {
    buf: &'a [u8],
}

impl<'a> VlanTag<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(VlanTag { buf })
    }
    pub fn priority(&self) -> u8 {
        (be16(self.buf, field::TCI) >> 13) as u8
    }
    pub fn vlan_id(&self) -> u16 {
        be16(self.buf, field::TCI) & VLAN_ID_MASK
    }
    pub fn ether_type(&self) -> EtherType {
        EtherType(be16(self.buf, field::ETHER_TYPE))
    }
    pub fn next(&self) -> Next {
        Next::EtherType(self.ether_type())
    }
}

impl Describe for VlanTag<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new(
            "priority",
            u64::from(self.priority()),
            "802.1p class of service",
        )
        .at(field::TCI));
        f(Field::new("VLAN id", u64::from(self.vlan_id()), "").at(field::TCI));
        let t = self.ether_type();
        f(Field::new("ethertype", u64::from(t.0), t.name()).at(field::ETHER_TYPE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tci_and_type() {
        let t = VlanTag::new_checked(&[0xA0, 0x64, 0x81, 0x00]).unwrap();
        assert_eq!(t.priority(), 5);
        assert_eq!(t.vlan_id(), 100);
        assert_eq!(t.next(), Next::EtherType(EtherType::VLAN));
        assert!(VlanTag::new_checked(&[0, 1, 8]).is_err());
    }
}
