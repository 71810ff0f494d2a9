//! Geneve header (RFC 8926) with its option list.

use super::{be16, be32, byte, check_len, Describe, EtherType, Field, Next, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const VER_OPTLEN: usize = 0;
    pub const FLAGS: usize = 1;
    pub const PROTOCOL: Range<usize> = 2..4;
    pub const VNI_RESERVED: Range<usize> = 4..8;
}

pub const BASE_LEN: usize = 8;
/// The version bits of the first byte.
pub const VERSION_MASK: u8 = 0xC0;
/// The VNI's mask in the 32-bit VNI/reserved word (its top 24 bits).
pub const VNI_MASK: u32 = 0xFFFF_FF00;

/// The header length (fixed part and options) a version/option-length byte announces.
#[inline]
pub fn header_len_of(ver_optlen: u8) -> usize {
    BASE_LEN + usize::from(ver_optlen & 0x3F) * 4
}

#[derive(Clone, Copy, Debug)]
pub struct Geneve<'a> {
    buf: &'a [u8],
}

impl<'a> Geneve<'a> {
    /// Checks the fixed header and the options the option length announces.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, BASE_LEN)?;
        let g = Geneve { buf };
        check_len(buf, g.header_len())?;
        Ok(g)
    }
    pub fn version(&self) -> u8 {
        (byte(self.buf, field::VER_OPTLEN) & VERSION_MASK) >> 6
    }
    /// Options length in bytes (the field counts 4-byte words; at most 252).
    pub fn options_len(&self) -> usize {
        usize::from(byte(self.buf, field::VER_OPTLEN) & 0x3F) * 4
    }
    pub fn header_len(&self) -> usize {
        header_len_of(byte(self.buf, field::VER_OPTLEN))
    }
    pub fn oam(&self) -> bool {
        byte(self.buf, field::FLAGS) & 0x80 != 0
    }
    pub fn protocol(&self) -> EtherType {
        EtherType(be16(self.buf, field::PROTOCOL))
    }
    pub fn vni(&self) -> u32 {
        be32(self.buf, field::VNI_RESERVED) >> 8
    }
    /// Options as (class, type, data length in bytes); walks at most the announced option
    /// bytes (≤ 252), so at most 63 options.
    pub fn options(&self) -> impl Iterator<Item = (u16, u8, usize)> + 'a {
        let opts = self.buf.get(BASE_LEN..self.header_len()).unwrap_or(&[]);
        let mut at = 0usize;
        std::iter::from_fn(move || {
            let h = opts.get(at..at + 4)?;
            let data_len = usize::from(h[3] & 0x1F) * 4;
            at += 4 + data_len;
            Some((u16::from_be_bytes([h[0], h[1]]), h[2], data_len))
        })
    }
    pub fn next(&self) -> Next {
        match self.protocol() {
            EtherType::TRANSPARENT_ETHERNET_BRIDGING => Next::Ethernet,
            t => Next::EtherType(t),
        }
    }
}

impl Describe for Geneve<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("version", u64::from(self.version()), "").at_byte(field::VER_OPTLEN));
        f(
            Field::new("options length", self.options_len() as u64, "bytes")
                .at_byte(field::VER_OPTLEN),
        );
        f(Field::new("OAM", u64::from(self.oam()), "a control message").at_byte(field::FLAGS));
        let p = self.protocol();
        f(Field::new("protocol", u64::from(p.0), p.name()).at(field::PROTOCOL));
        f(Field::new("VNI", u64::from(self.vni()), "virtual network identifier").at(4..7));
        // Each option: class (2 bytes), type (1), reserved bits and length (1), data.
        let mut at = BASE_LEN;
        for (class, kind, data_len) in self.options() {
            f(Field::new("option class", u64::from(class), "").at(at..at + 2));
            f(Field::new("option type", u64::from(kind), "").at_byte(at + 2));
            at += 4 + data_len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_options() {
        // one option of class 0x0103 type 0x80 with 4 data bytes: 8 bytes of options
        let b = [
            0x02, 0x00, 0x65, 0x58, 0x00, 0x00, 0x0a, 0x00, 0x01, 0x03, 0x80, 0x01, 1, 2, 3, 4,
        ];
        let g = Geneve::new_checked(&b).unwrap();
        assert_eq!(
            (g.header_len(), g.vni(), g.next()),
            (16, 10, Next::Ethernet)
        );
        assert_eq!(g.options().collect::<Vec<_>>(), vec![(0x0103, 0x80, 4)]);
        // a lying option length
        assert!(Geneve::new_checked(&[0x3f, 0, 0x08, 0, 0, 0, 1, 0, 0, 0]).is_err());
        let g = Geneve::new_checked(&[0, 0, 0x86, 0xdd, 0, 0, 1, 0]).unwrap();
        assert_eq!(g.next(), Next::EtherType(EtherType::IPV6));
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_and_each_option_are_placed_at_their_bytes() {
        // Version 0, options 3 words (12 bytes), protocol 0x6558, VNI 7; option 1: class
        // 0x0103 type 0x80 with 4 data bytes (8..16); option 2: class 0xffff type 1, no
        // data (16..20).
        let mut b = vec![0x03, 0x00, 0x65, 0x58, 0, 0, 7, 0];
        b.extend_from_slice(&[0x01, 0x03, 0x80, 0x01, 1, 2, 3, 4]);
        b.extend_from_slice(&[0xff, 0xff, 0x01, 0x00]);
        let h = Geneve::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("version", Some((0, 1))),
                ("options length", Some((0, 1))),
                ("OAM", Some((1, 1))),
                ("protocol", Some((2, 2))),
                ("VNI", Some((4, 3))),
                ("option class", Some((8, 2))),
                ("option type", Some((10, 1))),
                ("option class", Some((16, 2))),
                ("option type", Some((18, 1))),
            ]
        );
    }
}
