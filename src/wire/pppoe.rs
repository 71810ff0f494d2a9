//! PPPoE header (RFC 2516), discovery and session stages.

use super::{be16, byte, check_len, Describe, Field, Next, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const SESSION_ID: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
}

pub const HEADER_LEN: usize = 6;

#[derive(Clone, Copy, Debug)]
pub struct Pppoe<'a> {
    buf: &'a [u8],
}

impl<'a> Pppoe<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Pppoe { buf })
    }
    pub fn version(&self) -> u8 {
        byte(self.buf, field::VER_TYPE) >> 4
    }
    pub fn kind(&self) -> u8 {
        byte(self.buf, field::VER_TYPE) & 0xF
    }
    /// 0 in the session stage; PADI 0x09, PADO 0x07, PADR 0x19, PADS 0x65, PADT 0xa7.
    pub fn code(&self) -> u8 {
        byte(self.buf, field::CODE)
    }
    pub fn session_id(&self) -> u16 {
        be16(self.buf, field::SESSION_ID)
    }
    /// Payload length as the header says (may lie: the caller bounds by what it has).
    pub fn payload_len(&self) -> u16 {
        be16(self.buf, field::LENGTH)
    }
    /// A session-stage packet carries a PPP frame; discovery carries tags.
    pub fn next(&self, session: bool) -> Next {
        if session {
            Next::Ppp
        } else {
            Next::Opaque
        }
    }
}

fn code_name(code: u8) -> &'static str {
    match code {
        0x00 => "session data",
        0x09 => "PADI (discovery initiation)",
        0x07 => "PADO (discovery offer)",
        0x19 => "PADR (discovery request)",
        0x65 => "PADS (session confirmation)",
        0xa7 => "PADT (discovery terminate)",
        _ => "unknown",
    }
}

impl Describe for Pppoe<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new("version", u64::from(self.version()), "").at_byte(0));
        f(Field::new("type", u64::from(self.kind()), "").at_byte(0));
        f(Field::new("code", u64::from(self.code()), code_name(self.code())).at_byte(1));
        f(Field::new("session id", u64::from(self.session_id()), "").at(2..4));
        f(Field::new("length", u64::from(self.payload_len()), "payload bytes").at(4..6));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_header() {
        let p = Pppoe::new_checked(&[0x11, 0x00, 0x00, 0x11, 0x00, 0x2a, 0x00, 0x21]).unwrap();
        assert_eq!((p.version(), p.kind(), p.code()), (1, 1, 0));
        assert_eq!(p.session_id(), 0x11);
        assert_eq!(p.payload_len(), 42);
        assert_eq!(p.next(true), Next::Ppp);
        assert!(Pppoe::new_checked(&[0x11, 0, 0, 1, 0]).is_err());
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn fields_are_placed_at_their_bytes() {
        // Version 1 type 1, session data (code 0), session 0x1234, length 2, payload.
        let b = [0x11, 0x00, 0x12, 0x34, 0x00, 0x02, 0x00, 0x21];
        let h = Pppoe::new_checked(&b).unwrap();
        assert_eq!(
            super::super::placed(&h),
            [
                ("version", Some((0, 1))),
                ("type", Some((0, 1))),
                ("code", Some((1, 1))),
                ("session id", Some((2, 2))),
                ("length", Some((4, 2))),
            ]
        );
    }
}
