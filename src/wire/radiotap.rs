//! Radiotap header (link type 127): its own length, then an 802.11 frame.

use super::{byte, check_len, le16, le32, Describe, Field, Next, Truncated};

pub const MIN_LEN: usize = 8;
/// The "flags" field (present bit 1) has 0x10 when the frame ends with its FCS.
pub const FLAG_FCS: u8 = 0x10;
/// Present bits of the first word: TSFT, flags, and "another present word follows".
pub const PRESENT_TSFT: u32 = 0x1;
pub const PRESENT_FLAGS: u32 = 0x2;
pub const PRESENT_EXTENDED: u32 = 0x8000_0000;
/// Most present words walked to find the flags field.
pub const MAX_PRESENT_WORDS: usize = 8;

#[derive(Clone, Copy, Debug)]
pub struct Radiotap<'a> {
    buf: &'a [u8],
}

impl<'a> Radiotap<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, MIN_LEN)?;
        let r = Radiotap { buf };
        check_len(buf, r.header_len().max(MIN_LEN))?;
        Ok(r)
    }
    pub fn version(&self) -> u8 {
        byte(self.buf, 0)
    }
    pub fn header_len(&self) -> usize {
        usize::from(le16(self.buf, 2..4)).max(MIN_LEN)
    }
    pub fn present(&self) -> u32 {
        le32(self.buf, 4..8)
    }
    /// Whether the frame ends with its 4-byte FCS: the flags field (present bit 1) has
    /// [`FLAG_FCS`]. The flags field follows the present words (the first word's bit 31
    /// announces another, at most [`MAX_PRESENT_WORDS`] are walked) and a TSFT (bit 0, 8
    /// bytes aligned to 8 from the header's start).
    pub fn has_fcs(&self) -> bool {
        let present = self.present();
        if present & PRESENT_FLAGS == 0 {
            return false;
        }
        let mut at = MIN_LEN;
        let mut word = present;
        let mut words = 1;
        while word & PRESENT_EXTENDED != 0 {
            if words == MAX_PRESENT_WORDS {
                return false;
            }
            word = le32(self.buf, at..at + 4);
            at += 4;
            words += 1;
        }
        if present & PRESENT_TSFT != 0 {
            at = at.next_multiple_of(8) + 8;
        }
        at < self.header_len() && byte(self.buf, at) & FLAG_FCS != 0
    }
    pub fn next(&self) -> Next {
        Next::Ieee80211
    }
}

impl Describe for Radiotap<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("version", u64::from(self.version()), "").at_byte(0));
        f(Field::new(
            "length",
            self.header_len() as u64,
            "bytes of radio metadata",
        )
        .at(2..4));
        f(Field::new(
            "present",
            u64::from(self.present()),
            "bitmap of the fields that follow",
        )
        .at(4..8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_fcs_flag() {
        let b = [0, 0, 12, 0, 0x02, 0, 0, 0, 0x10, 0, 0, 0];
        let r = Radiotap::new_checked(&b).unwrap();
        assert_eq!(
            (r.header_len(), r.has_fcs(), r.next()),
            (12, true, Next::Ieee80211)
        );
        assert!(Radiotap::new_checked(&b[..11]).is_err());
        let b = [0, 0, 8, 0, 0, 0, 0, 0];
        assert!(!Radiotap::new_checked(&b).unwrap().has_fcs());
    }

    #[test]
    fn fcs_flag_behind_extended_present_words_and_a_tsft() {
        // Three present words (bit 31 in the first two), TSFT and flags in the first: the
        // TSFT at 16 (already aligned), 8 bytes, then the flags byte at 24.
        let mut b = vec![0, 0, 28, 0];
        b.extend_from_slice(&0x8000_0003u32.to_le_bytes());
        b.extend_from_slice(&0x8000_0000u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&[0; 8]); // TSFT
        b.extend_from_slice(&[FLAG_FCS, 0, 0, 0]);
        assert!(Radiotap::new_checked(&b).unwrap().has_fcs());
        b[24] = 0;
        assert!(!Radiotap::new_checked(&b).unwrap().has_fcs());
        // Two present words end at 12: the TSFT is aligned to 16, the flags byte at 24.
        let mut b = vec![0, 0, 28, 0];
        b.extend_from_slice(&0x8000_0003u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&[0; 4]); // alignment
        b.extend_from_slice(&[0; 8]); // TSFT
        b.extend_from_slice(&[FLAG_FCS, 0, 0, 0]);
        assert!(Radiotap::new_checked(&b).unwrap().has_fcs());
        // Present words that never end: not walked past the cap.
        let mut endless = vec![0, 0, 48, 0];
        for _ in 0..10 {
            endless.extend_from_slice(&0x8000_0002u32.to_le_bytes());
        }
        endless.extend_from_slice(&[FLAG_FCS; 4]);
        assert!(!Radiotap::new_checked(&endless).unwrap().has_fcs());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // Version 0, pad, length 8 (little-endian), present 0.
        let b = [0, 0, 8, 0, 0, 0, 0, 0];
        let h = Radiotap::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("version", Some((0, 1))),
                ("length", Some((2, 2))),
                ("present", Some((4, 4))),
            ]
        );
    }
}
