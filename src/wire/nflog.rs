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
    /// The TLV at `at`: its length and type, or `None` when its header is cut short or
    /// its length is below 4 or runs past the end. TLV lengths and types are in host byte
    /// order; the writer's is unknown, so like tshark a length that does not fit
    /// little-endian is tried big-endian.
    fn tlv_at(&self, at: usize) -> Option<(usize, u16)> {
        let h = self.buf.get(at..at + 4)?;
        let le = usize::from(u16::from_le_bytes([h[0], h[1]]));
        let be = usize::from(u16::from_be_bytes([h[0], h[1]]));
        let rest = self.buf.len() - at;
        if (4..=rest).contains(&le) {
            Some((le, u16::from_le_bytes([h[2], h[3]])))
        } else if (4..=rest).contains(&be) {
            Some((be, u16::from_be_bytes([h[2], h[3]])))
        } else {
            None
        }
    }
    pub fn payload(&self) -> NflogPayload {
        let mut at = HEADER_LEN;
        for _ in 0..MAX_TLVS {
            if self.buf.get(at..at + 4).is_none() {
                return NflogPayload::Missing;
            }
            let Some((len, kind)) = self.tlv_at(at) else {
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
        // The TLVs up to the logged packet's, each at its bytes (the payload TLV's header
        // only: the packet is the next layer).
        let mut at = HEADER_LEN;
        for _ in 0..MAX_TLVS {
            let Some((len, kind)) = self.tlv_at(at) else {
                break;
            };
            let kind = kind & 0x7FFF;
            let end = if kind == TLV_PAYLOAD {
                at + 4
            } else {
                at + len
            };
            f(Field::shown(
                "TLV",
                u64::from(kind),
                super::Raw::Labelled("type"),
                tlv_name(kind),
            )
            .at(at..end));
            if kind == TLV_PAYLOAD {
                break;
            }
            at += (len + 3) & !3;
        }
    }
}

/// What an NFLOG TLV type holds (`NFULA_*`, linux/netfilter/nfnetlink_log.h).
fn tlv_name(kind: u16) -> &'static str {
    match kind {
        1 => "packet header: hardware protocol, hook",
        2 => "mark",
        3 => "timestamp",
        4 => "input interface",
        5 => "output interface",
        6 => "physical input interface",
        7 => "physical output interface",
        8 => "hardware address",
        TLV_PAYLOAD => "payload: the logged packet follows",
        TLV_PREFIX => "log prefix",
        11 => "user id",
        12 => "sequence number",
        13 => "global sequence number",
        14 => "group id",
        15 => "hardware type",
        16 => "hardware header",
        17 => "hardware header length",
        18 => "conntrack",
        19 => "conntrack info",
        20 => "VLAN",
        21 => "layer 2 header",
        _ => "",
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
        // AF_INET, version 0, resource id 5 (big-endian); TLVs (little-endian length and
        // type): a prefix "ab" (length 6, padded to 8: 4..12), then the payload (12..).
        let mut b = vec![2, 0, 0, 5];
        b.extend_from_slice(&[6, 0, 10, 0, b'a', b'b', 0, 0]);
        b.extend_from_slice(&[6, 0, 9, 0, 0x45, 0]);
        let h = Nflog::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("family", Some((0, 1))),
                ("version", Some((1, 1))),
                ("resource id", Some((2, 2))),
                ("TLV", Some((4, 6))),
                ("TLV", Some((12, 4))),
            ]
        );
        let mut meanings = Vec::new();
        h.describe(&mut |f| meanings.push((f.raw_text(), f.meaning.to_string())));
        assert_eq!(
            meanings[3..],
            [
                ("type 10".to_string(), "log prefix".to_string()),
                (
                    "type 9".to_string(),
                    "payload: the logged packet follows".to_string()
                )
            ]
        );
    }
}
