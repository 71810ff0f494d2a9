//! The DNS message header (RFC 1035 §4.1.1): id, flags and the four section counts. The
//! questions and records are read by `app::dns` (hickory-proto); this is the fixed header
//! `explain` describes.

use super::{be16, check_len, Describe, Field, Raw, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const ID: Range<usize> = 0..2;
    pub const FLAGS: Range<usize> = 2..4;
    pub const QUESTIONS: Range<usize> = 4..6;
    pub const ANSWERS: Range<usize> = 6..8;
    pub const AUTHORITY: Range<usize> = 8..10;
    pub const ADDITIONAL: Range<usize> = 10..12;
}

pub const HEADER_LEN: usize = 12;
/// Over TCP each message follows a 2-byte length (RFC 1035 §4.2.2).
pub const TCP_LENGTH_PREFIX: usize = 2;
/// The QR bit of the flags: a response.
pub const FLAG_RESPONSE: u16 = 0x8000;

#[derive(Clone, Copy, Debug)]
pub struct DnsHeader<'a> {
    buf: &'a [u8],
}

impl<'a> DnsHeader<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(DnsHeader { buf })
    }
    pub fn id(&self) -> u16 {
        be16(self.buf, field::ID)
    }
    pub fn flags(&self) -> u16 {
        be16(self.buf, field::FLAGS)
    }
    pub fn is_response(&self) -> bool {
        self.flags() & FLAG_RESPONSE != 0
    }
    /// The response code (the flags' low 4 bits).
    pub fn rcode(&self) -> u8 {
        (self.flags() & 0xF) as u8
    }
}

/// The name of a header response code (RFC 1035, RFC 6895: 0 to 10; the 4-bit field holds
/// no other named code), `None` for an unassigned one.
pub fn rcode_name(rcode: u8) -> Option<&'static str> {
    const NAMES: [&str; 11] = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
        "NXRRSET", "NOTAUTH", "NOTZONE",
    ];
    NAMES.get(usize::from(rcode)).copied()
}

impl Describe for DnsHeader<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::shown(
            "id",
            u64::from(self.id()),
            Raw::Hex(4),
            "pairs a response with its query",
        )
        .at(field::ID));
        let meaning = if self.is_response() {
            match rcode_name(self.rcode()) {
                Some(name) => format!("response, {name}"),
                None => format!("response, rcode {}", self.rcode()),
            }
        } else {
            "query".to_string()
        };
        f(Field::shown("flags", u64::from(self.flags()), Raw::Hex(4), meaning).at(field::FLAGS));
        for (name, range) in [
            ("questions", field::QUESTIONS),
            ("answers", field::ANSWERS),
            ("authority", field::AUTHORITY),
            ("additional", field::ADDITIONAL),
        ] {
            let n = be16(self.buf, range.clone());
            f(Field::shown(name, u64::from(n), Raw::Decimal, "").at(range));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, raw text, meaning, placement) of each field.
    type Row = (String, String, String, Option<(u16, u16)>);

    fn fields(h: &DnsHeader<'_>) -> Vec<Row> {
        let mut v = Vec::new();
        h.describe(&mut |f| {
            v.push((
                f.name.to_string(),
                f.raw_text(),
                f.meaning.to_string(),
                f.bytes,
            ))
        });
        v
    }

    #[test]
    fn nxdomain_response_header() {
        // id 0x1a2b, QR=1 RD=1 RA=1 rcode 3, 1 question, 0 answers, 1 authority, 0 additional
        let b = [0x1a, 0x2b, 0x81, 0x83, 0, 1, 0, 0, 0, 1, 0, 0];
        let h = DnsHeader::new_checked(&b).unwrap();
        assert!(h.is_response());
        assert_eq!(h.rcode(), 3);
        let f = fields(&h);
        assert_eq!(f[0].1, "0x1a2b");
        assert_eq!(f[1].1, "0x8183");
        assert_eq!(f[1].2, "response, NXDOMAIN");
        assert_eq!((f[4].0.as_str(), f[4].1.as_str()), ("authority", "1"));
        assert_eq!(f[5].3, Some((10, 2)));
        assert!(DnsHeader::new_checked(&b[..11]).is_err());
        assert_eq!(rcode_name(10), Some("NOTZONE"));
        assert_eq!(rcode_name(11), None);
    }

    #[test]
    fn query_header() {
        let b = [0, 7, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
        let f = fields(&DnsHeader::new_checked(&b).unwrap());
        assert_eq!(f[1].2, "query");
        assert_eq!(f[2].1, "1");
        assert_eq!(f[5].1, "1");
    }
}
