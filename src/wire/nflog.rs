//! NFLOG (link type 239): Linux netfilter log messages, a 4-byte header then TLVs; the
//! packet is the payload TLV (type 9).

use super::{be16, byte, check_len, Describe, EtherType, Field, Next, Truncated};

pub const HEADER_LEN: usize = 4;
pub const TLV_PAYLOAD: u16 = 9;
pub const TLV_PREFIX: u16 = 10;
/// Most TLVs walked before giving up.
pub const MAX_TLVS: usize = 64;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

#[derive(Clone, Copy, Debug)]
pub struct Nflog<'a> {
    buf: &'a [u8],
}

/// Where the logged packet lies, or why none was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NflogPayload {
    /// Offset and length of the packet in the NFLOG record.
    Found { offset: usize, len: usize },
    /// No payload TLV.
    Missing,
    /// A TLV length below 4 or past the end: the walk stops there.
    BadTlv { offset: usize },
    /// More than [`MAX_TLVS`] TLVs.
    TooManyTlvs,
}

impl<'a> Nflog<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Nflog { buf })
    }
    pub fn family(&self) -> u8 {
        byte(self.buf, 0)
    }
    pub fn version(&self) -> u8 {
        byte(self.buf, 1)
    }
    pub fn resource_id(&self) -> u16 {
        be16(self.buf, 2..4)
    }
    /// TLV lengths and types are in host byte order; the writer's is unknown, so like
    /// tshark a length that does not fit little-endian is tried big-endian.
    pub fn payload(&self) -> NflogPayload {
        let mut at = HEADER_LEN;
        for _ in 0..MAX_TLVS {
            let Some(h) = self.buf.get(at..at + 4) else {
                return NflogPayload::Missing;
            };
            let le = usize::from(u16::from_le_bytes([h[0], h[1]]));
            let be = usize::from(u16::from_be_bytes([h[0], h[1]]));
            let rest = self.buf.len() - at;
            let (len, kind) = if (4..=rest).contains(&le) {
                (le, u16::from_le_bytes([h[2], h[3]]))
            } else if (4..=rest).contains(&be) {
                (be, u16::from_be_bytes([h[2], h[3]]))
            } else {
                return NflogPayload::BadTlv { offset: at };
            };
            if kind & 0x7FFF == TLV_PAYLOAD {
                return NflogPayload::Found {
                    offset: at + 4,
                    len: len - 4,
                };
            }
            at += (len + 3) & !3;
        }
        NflogPayload::TooManyTlvs
    }
    pub fn next(&self) -> Next {
        match self.family() {
            AF_INET => Next::EtherType(EtherType::IPV4),
            AF_INET6 => Next::EtherType(EtherType::IPV6),
            _ => Next::IpByVersion,
        }
    }
}

impl Describe for Nflog<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new(
            "family",
            u64::from(self.family()),
            match self.family() {
                AF_INET => "IPv4",
                AF_INET6 => "IPv6",
                _ => "",
            },
        )
        .at_byte(0));
        f(Field::new("version", u64::from(self.version()), "").at_byte(1));
        f(Field::new(
            "resource id",
            u64::from(self.resource_id()),
            "the NFLOG group",
        )
        .at(2..4));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_payload_tlv() {
        // header, a prefix TLV of 6 bytes (padded to 8), then the payload TLV with 2 bytes
        let b = [2, 0, 0, 1, 6, 0, 10, 0, b'a', 0, 0, 0, 6, 0, 9, 0, 0x45, 0];
        let n = Nflog::new_checked(&b).unwrap();
        assert_eq!(n.payload(), NflogPayload::Found { offset: 16, len: 2 });
        assert_eq!(n.next(), Next::EtherType(EtherType::IPV4));
        let b = [2, 0, 0, 1, 0, 0, 9, 0];
        assert_eq!(
            Nflog::new_checked(&b).unwrap().payload(),
            NflogPayload::BadTlv { offset: 4 }
        );
        assert_eq!(
            Nflog::new_checked(&[2, 0, 0, 1]).unwrap().payload(),
            NflogPayload::Missing
        );
    }

    #[test]
    fn tlv_walk_is_bounded() {
        let mut b = vec![2, 0, 0, 1];
        for _ in 0..100 {
            b.extend_from_slice(&[4, 0, 1, 0]);
        }
        assert_eq!(
            Nflog::new_checked(&b).unwrap().payload(),
            NflogPayload::TooManyTlvs
        );
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // AF_INET, version 0, resource id 5 (big-endian).
        let b = [2, 0, 0, 5];
        let h = Nflog::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("family", Some((0, 1))),
                ("version", Some((1, 1))),
                ("resource id", Some((2, 2))),
            ]
        );
    }
}
