//! VXLAN header (RFC 7348), with the two extensions that reuse its reserved bytes: Group
//! Based Policy (G flag) and VXLAN-GPE (P flag, a next-protocol byte).

use super::{be32, byte, check_len, Describe, Field, Next, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const FLAGS: usize = 0;
    /// Reserved in RFC 7348; GBP's policy flags and id, GPE's next protocol (byte 3).
    pub const RESERVED_1: Range<usize> = 1..4;
    pub const NEXT_PROTOCOL: usize = 3;
    pub const VNI_RESERVED: Range<usize> = 4..8;
    /// The reserved byte after the VNI.
    pub const RESERVED_2: usize = 7;
}

pub const HEADER_LEN: usize = 8;
/// The I flag: the VNI is valid.
pub const FLAG_VNI: u8 = 0x08;
/// The VNI's mask in the 32-bit VNI/reserved word (its top 24 bits).
pub const VNI_MASK: u32 = 0xFFFF_FF00;
/// Group Based Policy: bytes 1..4 carry policy flags and a group id.
pub const FLAG_GBP: u8 = 0x80;
/// VXLAN-GPE: byte 3 names the next protocol.
pub const FLAG_GPE_NEXT_PROTOCOL: u8 = 0x04;

/// VXLAN-GPE next protocols.
pub mod gpe_next {
    pub const IPV4: u8 = 1;
    pub const IPV6: u8 = 2;
    pub const ETHERNET: u8 = 3;
}

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
    /// Whether the header is one a careful receiver takes (the Linux kernel drops the rest,
    /// and it keeps UDP that only uses port 4789 from being taken for VXLAN): the I flag, the
    /// byte after the VNI zero, and the reserved bytes 1..4 zero with no flag but I — unless
    /// GBP (G flag) uses them, or GPE (P flag) names the next protocol in byte 3 (bytes 1..3
    /// zero).
    pub fn is_well_formed(&self) -> bool {
        let flags = self.flags();
        if flags & FLAG_VNI == 0 || byte(self.buf, field::RESERVED_2) != 0 {
            return false;
        }
        if flags & FLAG_GBP != 0 {
            return true;
        }
        let r = field::RESERVED_1;
        let reserved = [
            byte(self.buf, r.start),
            byte(self.buf, r.start + 1),
            byte(self.buf, r.start + 2),
        ];
        if flags & FLAG_GPE_NEXT_PROTOCOL != 0 {
            return reserved[..2] == [0, 0];
        }
        flags == FLAG_VNI && reserved == [0, 0, 0]
    }
    /// An Ethernet frame, or what a GPE next protocol names (IP by its version nibble;
    /// anything else is not opened).
    pub fn next(&self) -> Next {
        if self.flags() & FLAG_GPE_NEXT_PROTOCOL == 0 || self.flags() & FLAG_GBP != 0 {
            return Next::Ethernet;
        }
        match byte(self.buf, field::NEXT_PROTOCOL) {
            gpe_next::ETHERNET => Next::Ethernet,
            gpe_next::IPV4 | gpe_next::IPV6 => Next::IpByVersion,
            _ => Next::Opaque,
        }
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
    fn careful_receivers_take_only_well_formed_headers() {
        let ok = |b: [u8; 8]| Vxlan::new_checked(&b).unwrap().is_well_formed();
        assert!(ok([0x08, 0, 0, 0, 0, 0, 42, 0]));
        // No I flag, a reserved flag, reserved bytes or the last byte set: not VXLAN.
        assert!(!ok([0x00, 0, 0, 0, 0, 0, 42, 0]));
        assert!(!ok([0x09, 0, 0, 0, 0, 0, 42, 0]));
        assert!(!ok([0x08, 0, 1, 0, 0, 0, 42, 0]));
        assert!(!ok([0x08, 0, 0, 0, 0, 0, 42, 1]));
        // A DNS query (id 0x0800, flags 0x0100: recursion desired, one question) from port
        // 4789 has the I bit by chance, and its flags in the reserved bytes.
        assert!(!ok([0x08, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00]));
        // GBP: policy flags and group id in bytes 1..4.
        assert!(ok([0x88, 0x40, 0x12, 0x34, 0, 0, 42, 0]));
        // GPE (zeek's vxlan-triple-v2.pcap: flags 0x0c, next protocol 3 = Ethernet).
        let gpe = Vxlan::new_checked(&[0x0c, 0, 0, 3, 0, 0, 1, 0]).unwrap();
        assert!(gpe.is_well_formed());
        assert_eq!(gpe.next(), Next::Ethernet);
        let gpe_ip = Vxlan::new_checked(&[0x0c, 0, 0, 1, 0, 0, 1, 0]).unwrap();
        assert_eq!(gpe_ip.next(), Next::IpByVersion);
        assert!(!ok([0x0c, 1, 0, 3, 0, 0, 1, 0]));
    }

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
