//! Radiotap header (link type 127): its own length, then an 802.11 frame.

use super::{byte, check_len, le16, le32, Describe, Field, Next, Truncated};

pub const MIN_LEN: usize = 8;
/// The "flags" field (present bit 1) has 0x10 when the frame ends with its FCS.
pub const FLAG_FCS: u8 = 0x10;

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
    /// The frame's trailing FCS, when the first present word has the flags field (bit 1)
    /// after at most a TSFT (bit 0, 8 bytes aligned to 8) and no extended bitmaps.
    pub fn has_fcs(&self) -> bool {
        let present = self.present();
        if present & 0x8000_0000 != 0 || present & 0x2 == 0 {
            return false;
        }
        let at = if present & 0x1 != 0 { 16 } else { 8 };
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
