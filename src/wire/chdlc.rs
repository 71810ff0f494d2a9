//! Cisco HDLC (link type 104): address, control, and an ether type.

use super::{be16, byte, check_len, Describe, EtherType, Field, Next, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const ADDRESS: usize = 0;
    pub const PROTOCOL: Range<usize> = 2..4;
}

pub const HEADER_LEN: usize = 4;

#[derive(Clone, Copy, Debug)]
pub struct Chdlc<'a> {
    buf: &'a [u8],
}

impl<'a> Chdlc<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Chdlc { buf })
    }
    /// 0x0f unicast, 0x8f broadcast.
    pub fn address(&self) -> u8 {
        byte(self.buf, field::ADDRESS)
    }
    pub fn protocol(&self) -> EtherType {
        EtherType(be16(self.buf, field::PROTOCOL))
    }
    /// SLARP and other Cisco protocols end the stack here.
    pub fn next(&self) -> Next {
        match self.protocol() {
            EtherType::SLARP => Next::Opaque,
            t => Next::EtherType(t),
        }
    }
}

impl Describe for Chdlc<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let a = self.address();
        f(Field::new(
            "address",
            u64::from(a),
            if a == 0x8f { "broadcast" } else { "unicast" },
        )
        .at_byte(field::ADDRESS));
        let p = self.protocol();
        f(Field::new("protocol", u64::from(p.0), p.name()).at(field::PROTOCOL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_and_slarp() {
        let c = Chdlc::new_checked(&[0x0f, 0x00, 0x08, 0x00]).unwrap();
        assert_eq!(c.next(), Next::EtherType(EtherType::IPV4));
        let c = Chdlc::new_checked(&[0x8f, 0x00, 0x80, 0x35]).unwrap();
        assert_eq!(c.next(), Next::Opaque);
        assert!(Chdlc::new_checked(&[0x0f, 0]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        let b = [0x0f, 0x00, 0x08, 0x00];
        assert_eq!(
            super::super::placed(&Chdlc::new_checked(&b).unwrap()),
            [("address", Some((0, 1))), ("protocol", Some((2, 2)))]
        );
    }
}
