//! IEEE 802.11 MAC header: frame control, addresses, QoS and HT control.

use super::{byte, check_len, le16, Describe, Field, Next, Truncated};

mod field {
    pub const FC0: usize = 0;
    pub const FC1: usize = 1;
}

pub mod kind {
    pub const MANAGEMENT: u8 = 0;
    pub const CONTROL: u8 = 1;
    pub const DATA: u8 = 2;
}

/// The frame check sequence some captures keep at the end (radiotap flags, FCS link types).
pub const FCS_LEN: usize = 4;

const TO_DS: u8 = 0x01;
const FROM_DS: u8 = 0x02;
const PROTECTED: u8 = 0x40;
const ORDER: u8 = 0x80;

#[derive(Clone, Copy, Debug)]
pub struct Ieee80211<'a> {
    buf: &'a [u8],
    len: usize,
}

impl<'a> Ieee80211<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, 2)?;
        let fc0 = byte(buf, field::FC0);
        let fc1 = byte(buf, field::FC1);
        let frame_kind = (fc0 >> 2) & 3;
        let subtype = fc0 >> 4;
        let len = match frame_kind {
            kind::CONTROL => match subtype {
                // CTS and ACK carry one address
                0xC | 0xD => 10,
                _ => 16,
            },
            kind::DATA => {
                let mut l = 24;
                if fc1 & (TO_DS | FROM_DS) == TO_DS | FROM_DS {
                    l += 6;
                }
                if subtype & 0x8 != 0 {
                    l += 2;
                    if fc1 & ORDER != 0 {
                        l += 4;
                    }
                }
                l
            }
            _ => 24,
        };
        check_len(buf, len)?;
        Ok(Ieee80211 { buf, len })
    }
    pub fn header_len(&self) -> usize {
        self.len
    }
    pub fn frame_control(&self) -> u16 {
        le16(self.buf, 0..2)
    }
    pub fn kind(&self) -> u8 {
        (byte(self.buf, field::FC0) >> 2) & 3
    }
    pub fn subtype(&self) -> u8 {
        byte(self.buf, field::FC0) >> 4
    }
    pub fn protected(&self) -> bool {
        byte(self.buf, field::FC1) & PROTECTED != 0
    }
    /// Data frames with a body ("null" subtypes 4 and 12 have none) go on to LLC; protected
    /// bodies are encrypted; management and control frames end here.
    pub fn next(&self) -> Next {
        if self.kind() == kind::DATA && self.subtype() & 0x4 == 0 && !self.protected() {
            Next::Llc
        } else {
            Next::Opaque
        }
    }
}

fn kind_name(kind: u8) -> &'static str {
    match kind {
        kind::MANAGEMENT => "management",
        kind::CONTROL => "control",
        kind::DATA => "data",
        _ => "extension",
    }
}

impl Describe for Ieee80211<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("type", u64::from(self.kind()), kind_name(self.kind())).at_byte(field::FC0));
        f(Field::new("subtype", u64::from(self.subtype()), "").at_byte(field::FC0));
        f(Field::new(
            "protected",
            u64::from(self.protected()),
            if self.protected() {
                "the body is encrypted"
            } else {
                ""
            },
        )
        .at_byte(field::FC1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_qos_and_management() {
        let mut b = [0u8; 26];
        b[0] = 0x88; // QoS data
        b[1] = 0x01; // to DS
        let w = Ieee80211::new_checked(&b).unwrap();
        assert_eq!(
            (w.kind(), w.header_len(), w.next()),
            (kind::DATA, 26, Next::Llc)
        );
        b[1] = 0x41;
        assert_eq!(Ieee80211::new_checked(&b).unwrap().next(), Next::Opaque);
        let beacon = [0x80u8; 24];
        let w = Ieee80211::new_checked(&beacon).unwrap();
        assert_eq!((w.kind(), w.next()), (kind::MANAGEMENT, Next::Opaque));
        assert!(Ieee80211::new_checked(&b[..25]).is_err());
        let ack = [0xd4, 0, 0, 0, 1, 2, 3, 4, 5, 6];
        assert_eq!(Ieee80211::new_checked(&ack).unwrap().header_len(), 10);
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // An ACK (control, subtype 13): frame control, duration, one address.
        let b = [0xd4, 0x00, 0, 0, 1, 2, 3, 4, 5, 6];
        let h = Ieee80211::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("type", Some((0, 1))),
                ("subtype", Some((0, 1))),
                ("protected", Some((1, 1))),
            ]
        );
    }
}
