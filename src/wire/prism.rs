//! Prism monitor header (link type 119) and AVS (163): radio metadata before an 802.11 frame.

use super::{be32, check_len, le32, Describe, Field, Next, Truncated};

/// Prism's fixed header: message code, length, device name, then ten items.
pub const PRISM_LEN: usize = 144;
pub const AVS_MIN_LEN: usize = 8;
/// AVS's magic in the first four bytes (version 1 or 2).
pub const AVS_MAGIC: u32 = 0x8021_1000;

#[derive(Clone, Copy, Debug)]
pub struct RadioHeader<'a> {
    buf: &'a [u8],
    len: usize,
    avs: bool,
}

impl<'a> RadioHeader<'a> {
    /// A Prism header, which may start with an AVS header instead (as tshark accepts).
    pub fn new_prism(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, AVS_MIN_LEN)?;
        if be32(buf, 0..4) & 0xFFFF_F000 == AVS_MAGIC {
            return Self::new_avs(buf);
        }
        check_len(buf, PRISM_LEN)?;
        // The message length (host byte order) is 144 in every writer seen.
        let len = match le32(buf, 4..8) {
            l @ 8..=1024 => l as usize,
            _ => PRISM_LEN,
        };
        check_len(buf, len)?;
        Ok(RadioHeader {
            buf,
            len,
            avs: false,
        })
    }
    pub fn new_avs(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, AVS_MIN_LEN)?;
        let len = (be32(buf, 4..8) as usize).max(AVS_MIN_LEN);
        check_len(buf, len)?;
        Ok(RadioHeader {
            buf,
            len,
            avs: true,
        })
    }
    pub fn header_len(&self) -> usize {
        self.len
    }
    pub fn is_avs(&self) -> bool {
        self.avs
    }
    pub fn next(&self) -> Next {
        Next::Ieee80211
    }
}

impl Describe for RadioHeader<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new(
            "length",
            self.len as u64,
            if self.avs {
                "AVS radio header"
            } else {
                "Prism radio header"
            },
        )
        .at(4..8));
        let _ = self.buf;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avs_and_prism() {
        let b = [0x80, 0x21, 0x10, 0x01, 0, 0, 0, 64];
        assert!(RadioHeader::new_prism(&b).is_err());
        let mut b = b.to_vec();
        b.resize(64, 0);
        let h = RadioHeader::new_prism(&b).unwrap();
        assert_eq!((h.is_avs(), h.header_len()), (true, 64));
        let mut p = vec![0x41, 0, 0, 0, 144, 0, 0, 0];
        p.resize(144, 0);
        let h = RadioHeader::new_prism(&p).unwrap();
        assert_eq!(
            (h.is_avs(), h.header_len(), h.next()),
            (false, 144, Next::Ieee80211)
        );
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn the_length_is_placed_at_its_bytes() {
        // AVS: magic 0x80211001, length 64 (big-endian) at 4..8.
        let mut b = vec![0x80, 0x21, 0x10, 0x01, 0, 0, 0, 64];
        b.resize(64, 0);
        assert_eq!(
            super::super::placed(&RadioHeader::new_avs(&b).unwrap()),
            [("length", Some((4, 4)))]
        );
    }
}
