//! MPLS label stack entry (RFC 3032), and what lies under the bottom of the stack.

use super::{be32, byte, check_len, Describe, Field, Next, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const ENTRY: Range<usize> = 0..4;
    /// The byte holding the traffic class and the bottom-of-stack bit.
    pub const TC_S: usize = 2;
    pub const TTL: usize = 3;
}

/// The bottom-of-stack bit in the entry's byte [`field::TC_S`].
pub const BOTTOM_OF_STACK: u8 = 0x01;
/// The label's mask in the 32-bit entry (its top 20 bits).
pub const LABEL_MASK: u32 = 0xFFFF_F000;
pub const LABEL_SHIFT: u32 = 12;

pub const ENTRY_LEN: usize = 4;
/// A pseudowire control word (RFC 4385) under the stack: first nibble 0.
pub const CONTROL_WORD_LEN: usize = 4;

/// One 4-byte label stack entry.
#[derive(Clone, Copy, Debug)]
pub struct MplsEntry<'a> {
    buf: &'a [u8],
}

impl<'a> MplsEntry<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, ENTRY_LEN)?;
        Ok(MplsEntry { buf })
    }
    pub fn label(&self) -> u32 {
        be32(self.buf, field::ENTRY) >> LABEL_SHIFT
    }
    pub fn traffic_class(&self) -> u8 {
        ((be32(self.buf, field::ENTRY) >> 9) & 7) as u8
    }
    pub fn bottom_of_stack(&self) -> bool {
        byte(self.buf, field::TC_S) & BOTTOM_OF_STACK != 0
    }
    pub fn ttl(&self) -> u8 {
        byte(self.buf, field::TTL)
    }
}

/// What the bytes under the bottom of a label stack are, by their first nibble: 4 and 6 are
/// IP, 0 is a pseudowire control word followed by an Ethernet frame (RFC 4385).
pub fn payload_after_stack(payload: &[u8]) -> (Next, usize) {
    match payload.first().map(|b| b >> 4) {
        Some(4) | Some(6) => (Next::IpByVersion, 0),
        Some(0) => (Next::Ethernet, CONTROL_WORD_LEN),
        _ => (Next::Opaque, 0),
    }
}

impl Describe for MplsEntry<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("label", u64::from(self.label()), "forwarding label").at(0..3));
        f(Field::new("traffic class", u64::from(self.traffic_class()), "").at_byte(2));
        f(Field::new(
            "bottom of stack",
            u64::from(self.bottom_of_stack()),
            if self.bottom_of_stack() {
                "the last label: the payload follows"
            } else {
                "another label follows"
            },
        )
        .at_byte(2));
        f(Field::new("TTL", u64::from(self.ttl()), "").at_byte(3));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_fields() {
        // label 18, TC 0, bottom of stack, TTL 64
        let e = MplsEntry::new_checked(&[0x00, 0x01, 0x21, 0x40]).unwrap();
        assert_eq!(e.label(), 18);
        assert!(e.bottom_of_stack());
        assert_eq!(e.ttl(), 64);
        let e = MplsEntry::new_checked(&[0x00, 0x01, 0x00, 0xff]).unwrap();
        assert_eq!(e.label(), 16);
        assert!(!e.bottom_of_stack());
        assert!(MplsEntry::new_checked(&[0; 3]).is_err());
        assert_eq!(payload_after_stack(&[0x45]), (Next::IpByVersion, 0));
        assert_eq!(payload_after_stack(&[0x00, 0, 0, 0]), (Next::Ethernet, 4));
        assert_eq!(payload_after_stack(&[]), (Next::Opaque, 0));
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // Label 16, TC 0, bottom of stack, TTL 64.
        let b = [0x00, 0x01, 0x01, 0x40];
        let h = MplsEntry::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("label", Some((0, 3))),
                ("traffic class", Some((2, 1))),
                ("bottom of stack", Some((2, 1))),
                ("TTL", Some((3, 1))),
            ]
        );
    }
}
