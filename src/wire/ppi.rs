//! PPI, the Per-Packet Information header (link type 192): its length and the link type of
//! the frame it carries.

use super::{byte, check_len, le16, le32, Describe, Field, Truncated};

pub const MIN_LEN: usize = 8;
/// A field's header: type and data length (little-endian).
pub const FIELD_HEADER_LEN: usize = 4;
/// The 802.11-common field (TSF timer, flags, rate, channel …).
pub const FIELD_80211_COMMON: u16 = 2;
/// Where its flags lie in its data, and the flag saying the frame ends with its FCS.
pub const COMMON_FLAGS_AT: usize = 8;
pub const COMMON_FLAG_FCS: u16 = 0x0001;
/// Most fields walked.
pub const MAX_FIELDS: usize = 32;

#[derive(Clone, Copy, Debug)]
pub struct Ppi<'a> {
    buf: &'a [u8],
}

impl<'a> Ppi<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, MIN_LEN)?;
        let p = Ppi { buf };
        check_len(buf, p.header_len())?;
        Ok(p)
    }
    pub fn version(&self) -> u8 {
        byte(self.buf, 0)
    }
    pub fn header_len(&self) -> usize {
        usize::from(le16(self.buf, 2..4)).max(MIN_LEN)
    }
    /// The link type (DLT) of the frame that follows (105: 802.11).
    pub fn link_type(&self) -> u32 {
        le32(self.buf, 4..8)
    }
    /// Whether an 802.11-common field says the frame ends with its FCS. Walks at most
    /// [`MAX_FIELDS`] fields within the header.
    pub fn has_fcs(&self) -> bool {
        let end = self.header_len().min(self.buf.len());
        let mut at = MIN_LEN;
        for _ in 0..MAX_FIELDS {
            if at + FIELD_HEADER_LEN > end {
                return false;
            }
            let kind = le16(self.buf, at..at + 2);
            let len = usize::from(le16(self.buf, at + 2..at + 4));
            let data = at + FIELD_HEADER_LEN;
            if kind == FIELD_80211_COMMON && COMMON_FLAGS_AT + 2 <= len && data + len <= end {
                let flags_at = data + COMMON_FLAGS_AT;
                return le16(self.buf, flags_at..flags_at + 2) & COMMON_FLAG_FCS != 0;
            }
            at = data + len;
        }
        false
    }
}

impl Describe for Ppi<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("version", u64::from(self.version()), "").at_byte(0));
        f(Field::new("length", self.header_len() as u64, "bytes").at(2..4));
        f(Field::new(
            "link type",
            u64::from(self.link_type()),
            "of the frame that follows",
        )
        .at(4..8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_dlt() {
        let b = [0, 0, 8, 0, 105, 0, 0, 0];
        let p = Ppi::new_checked(&b).unwrap();
        assert_eq!((p.header_len(), p.link_type()), (8, 105));
        assert!(Ppi::new_checked(&[0, 0, 20, 0, 105, 0, 0, 0, 0]).is_err());
        assert!(!p.has_fcs());
    }

    #[test]
    fn fcs_flag_of_the_80211_common_field() {
        // header (8), an unknown field (type 9, 2 bytes), 802.11-common (type 2, 20 bytes:
        // TSF timer 8, flags 0x0001 = FCS present, …)
        let mut b = vec![0, 0, 0, 0, 105, 0, 0, 0];
        b.extend_from_slice(&[9, 0, 2, 0, 0xaa, 0xbb]);
        b.extend_from_slice(&[2, 0, 20, 0]);
        let mut common = [0u8; 20];
        common[8] = 0x01;
        b.extend_from_slice(&common);
        let len = b.len() as u16;
        b[2..4].copy_from_slice(&len.to_le_bytes());
        assert!(Ppi::new_checked(&b).unwrap().has_fcs());
        b[6 + 8 + 4 + 8] = 0;
        assert!(!Ppi::new_checked(&b).unwrap().has_fcs());
        // A field longer than the header: not read.
        let mut lying = vec![0, 0, 16, 0, 105, 0, 0, 0, 2, 0, 0xff, 0x00, 0, 0, 0, 0];
        lying.extend_from_slice(&[1; 20]);
        assert!(!Ppi::new_checked(&lying).unwrap().has_fcs());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // Version 0, flags, length 8 (little-endian), link type 105 (802.11).
        let b = [0, 0, 8, 0, 105, 0, 0, 0];
        assert_eq!(
            super::super::placed(&Ppi::new_checked(&b).unwrap()),
            [
                ("version", Some((0, 1))),
                ("length", Some((2, 2))),
                ("link type", Some((4, 4))),
            ]
        );
    }
}
