//! GTP-U version 1 (3GPP TS 29.281) with its extension header chain.

use super::{be16, be32, byte, check_len, Describe, Field, Next, Truncated};

mod field {
    use std::ops::Range;
    pub const FLAGS: usize = 0;
    pub const MESSAGE_TYPE: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const TEID: Range<usize> = 4..8;
    pub const NEXT_EXTENSION: usize = 11;
}

pub const BASE_LEN: usize = 8;
/// Sequence number, N-PDU number and next extension type, present when E, S or PN is set.
pub const OPTIONAL_LEN: usize = 4;
/// A G-PDU carries a user's IP packet.
pub const MESSAGE_G_PDU: u8 = 0xFF;
/// Most extension headers walked before giving up.
pub const MAX_EXTENSIONS: usize = 16;

#[derive(Clone, Copy, Debug)]
pub struct GtpU<'a> {
    buf: &'a [u8],
    len: usize,
    /// The extension chain was longer than [`MAX_EXTENSIONS`].
    pub extensions_cut: bool,
}

impl<'a> GtpU<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, BASE_LEN)?;
        let flags = byte(buf, field::FLAGS);
        let mut len = BASE_LEN;
        let mut extensions_cut = false;
        if flags & 0x07 != 0 {
            len += OPTIONAL_LEN;
            check_len(buf, len)?;
            let mut next = if flags & 0x04 != 0 {
                byte(buf, field::NEXT_EXTENSION)
            } else {
                0
            };
            let mut walked = 0;
            while next != 0 {
                if walked == MAX_EXTENSIONS {
                    extensions_cut = true;
                    break;
                }
                walked += 1;
                // length in 4-byte units, including the length and next-type bytes
                let units = usize::from(*buf.get(len).ok_or(Truncated {
                    needed: len + 1,
                    had: buf.len(),
                })?);
                if units == 0 {
                    extensions_cut = true;
                    break;
                }
                let ext_len = units * 4;
                check_len(buf, len + ext_len)?;
                next = byte(buf, len + ext_len - 1);
                len += ext_len;
            }
        }
        Ok(GtpU {
            buf,
            len,
            extensions_cut,
        })
    }
    pub fn header_len(&self) -> usize {
        self.len
    }
    pub fn version(&self) -> u8 {
        byte(self.buf, field::FLAGS) >> 5
    }
    pub fn message_type(&self) -> u8 {
        byte(self.buf, field::MESSAGE_TYPE)
    }
    pub fn length(&self) -> u16 {
        be16(self.buf, field::LENGTH)
    }
    pub fn teid(&self) -> u32 {
        be32(self.buf, field::TEID)
    }
    /// A G-PDU carries IP; echo and error messages end here.
    pub fn next(&self) -> Next {
        if self.message_type() == MESSAGE_G_PDU && !self.extensions_cut {
            Next::IpByVersion
        } else {
            Next::Opaque
        }
    }
}

impl Describe for GtpU<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("version", u64::from(self.version()), "").at_byte(0));
        let t = self.message_type();
        f(Field::new(
            "message type",
            u64::from(t),
            match t {
                MESSAGE_G_PDU => "G-PDU: a user's packet",
                1 => "echo request",
                2 => "echo reply",
                26 => "error indication",
                254 => "end marker",
                _ => "",
            },
        )
        .at_byte(1));
        f(Field::new(
            "length",
            u64::from(self.length()),
            "bytes after the first 8",
        )
        .at(2..4));
        f(Field::new("TEID", u64::from(self.teid()), "tunnel endpoint identifier").at(4..8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_extended() {
        let g = GtpU::new_checked(&[0x30, 0xff, 0, 40, 0, 0, 0, 7, 0x45]).unwrap();
        assert_eq!(
            (g.header_len(), g.teid(), g.next()),
            (8, 7, Next::IpByVersion)
        );
        // E flag, one PDU session container extension (type 0x85) of 4 bytes
        let b = [
            0x34, 0xff, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10, 0x05, 0x00, 0x45,
        ];
        let g = GtpU::new_checked(&b).unwrap();
        assert_eq!((g.header_len(), g.next()), (16, Next::IpByVersion));
        // an extension whose next-type never ends, lying about its length
        let b = [0x34, 0xff, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0x85, 9, 0, 0, 0x85];
        assert!(GtpU::new_checked(&b).is_err());
        let g = GtpU::new_checked(&[0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap();
        assert_eq!(g.next(), Next::Opaque);
    }

    #[test]
    fn endless_extension_chain_is_cut() {
        let mut b = vec![0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85];
        for _ in 0..40 {
            b.extend_from_slice(&[1, 0, 0, 0x85]);
        }
        let g = GtpU::new_checked(&b).unwrap();
        assert!(g.extensions_cut);
        assert_eq!(g.next(), Next::Opaque);
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // Version 1, PT 1, no optional fields; G-PDU, length 0, TEID 1.
        let b = [0x30, 0xff, 0x00, 0x00, 0, 0, 0, 1];
        let h = GtpU::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("version", Some((0, 1))),
                ("message type", Some((1, 1))),
                ("length", Some((2, 2))),
                ("TEID", Some((4, 4))),
            ]
        );
    }
}
