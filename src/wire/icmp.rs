//! ICMP (RFC 792) and ICMPv6 (RFC 4443) headers: type, code, checksum and the 4-byte rest
//! of the header, whose meaning the type gives (echo identifier and sequence, the MTU of a
//! "packet too big", a parameter problem's pointer). The decoder reads the type and code
//! with etherparse; this view is what `explain` and the report list.

use super::{be16, be32, check_len, Describe, Field, Raw, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
    pub const IDENTIFIER: Range<usize> = 4..6;
    pub const SEQUENCE: Range<usize> = 6..8;
}

pub const HEADER_LEN: usize = 8;

/// An ICMP or ICMPv6 message header.
#[derive(Clone, Copy, Debug)]
pub struct Icmp<'a> {
    buf: &'a [u8],
    v6: bool,
}

impl<'a> Icmp<'a> {
    /// `v6`: an ICMPv6 message (its type numbers differ from ICMP's).
    pub fn new_checked(buf: &'a [u8], v6: bool) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Icmp { buf, v6 })
    }
    pub fn message_type(&self) -> u8 {
        self.buf.get(field::TYPE).copied().unwrap_or(0)
    }
    pub fn code(&self) -> u8 {
        self.buf.get(field::CODE).copied().unwrap_or(0)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }
    /// An echo request or reply (ping), whose rest of header is identifier and sequence.
    pub fn is_echo(&self) -> bool {
        if self.v6 {
            matches!(self.message_type(), 128 | 129)
        } else {
            matches!(self.message_type(), 0 | 8 | 13 | 14 | 15 | 16)
        }
    }
    /// An error message, which quotes the packet that caused it after the header.
    pub fn is_error(&self) -> bool {
        crate::flow::icmp_error::is_error(self.v6, self.message_type())
    }
    /// The message type's name (RFC 792, RFC 4443, RFC 4861 for neighbour discovery).
    pub fn type_name(&self) -> &'static str {
        if self.v6 {
            match self.message_type() {
                1 => "destination unreachable",
                2 => "packet too big",
                3 => "time exceeded",
                4 => "parameter problem",
                128 => "echo request",
                129 => "echo reply",
                130 => "multicast listener query",
                131 => "multicast listener report",
                132 => "multicast listener done",
                133 => "router solicitation",
                134 => "router advertisement",
                135 => "neighbor solicitation",
                136 => "neighbor advertisement",
                137 => "redirect",
                143 => "multicast listener report v2",
                _ => "",
            }
        } else {
            match self.message_type() {
                0 => "echo reply",
                3 => "destination unreachable",
                4 => "source quench",
                5 => "redirect",
                8 => "echo request",
                9 => "router advertisement",
                10 => "router solicitation",
                11 => "time exceeded",
                12 => "parameter problem",
                13 => "timestamp request",
                14 => "timestamp reply",
                15 => "information request",
                16 => "information reply",
                _ => "",
            }
        }
    }
}

impl Describe for Icmp<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let t = self.message_type();
        f(Field::shown("type", u64::from(t), Raw::Decimal, self.type_name()).at_byte(field::TYPE));
        let error = crate::flow::icmp_error::IcmpError {
            v6: self.v6,
            icmp_type: t,
            code: self.code(),
            frame: 0,
        };
        let code_meaning = if self.is_error() { error.name() } else { "" };
        f(
            Field::shown("code", u64::from(self.code()), Raw::Decimal, code_meaning)
                .at_byte(field::CODE),
        );
        f(Field::shown(
            "checksum",
            u64::from(self.checksum()),
            Raw::Hex(4),
            "not verified",
        )
        .at(field::CHECKSUM));
        if self.is_echo() {
            f(Field::shown(
                "identifier",
                u64::from(be16(self.buf, field::IDENTIFIER)),
                Raw::Decimal,
                "pairs replies with their requests (often the sender's process)",
            )
            .at(field::IDENTIFIER));
            f(Field::shown(
                "sequence",
                u64::from(be16(self.buf, field::SEQUENCE)),
                Raw::Decimal,
                "counts the requests: a gap is a lost ping",
            )
            .at(field::SEQUENCE));
            return;
        }
        let rest = u64::from(be32(self.buf, field::REST));
        let (name, meaning) = match (self.v6, t) {
            (true, 2) => ("MTU", "the largest packet the next link takes"),
            (true, 4) | (false, 12) => ("pointer", "where in the quoted packet the problem lies"),
            (false, 3) if self.code() == 4 => (
                "next-hop MTU",
                "in the low 16 bits: the largest packet the next link takes",
            ),
            (false, 5) => ("gateway", "the router to use instead"),
            _ if self.is_error() => ("unused", "then the packet that caused the error"),
            _ => ("rest of header", ""),
        };
        f(Field::shown(name, rest, Raw::Decimal, meaning).at(field::REST));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::placed;

    /// `ping 10.0.0.2`'s first request (zeek__vxlan.pcap frame 3, as tshark reads it:
    /// type 8, code 0, checksum 0x4c8a, identifier 3389 (0x0d3d), sequence 1).
    #[test]
    fn echo_request_fields_at_their_bytes() {
        let h = [8, 0, 0x4c, 0x8a, 0x0d, 0x3d, 0x00, 0x01];
        let icmp = Icmp::new_checked(&h, false).unwrap();
        assert!(icmp.is_echo() && !icmp.is_error());
        let mut fields = Vec::new();
        icmp.describe(&mut |f| fields.push((f.name, f.raw_text(), f.bytes)));
        assert_eq!(
            fields,
            vec![
                ("type", "8".to_string(), Some((0, 1))),
                ("code", "0".to_string(), Some((1, 1))),
                ("checksum", "0x4c8a".to_string(), Some((2, 2))),
                ("identifier", "3389".to_string(), Some((4, 2))),
                ("sequence", "1".to_string(), Some((6, 2))),
            ]
        );
        assert!(Icmp::new_checked(&h[..7], false).is_err());
    }

    #[test]
    fn errors_name_their_code_and_rest_of_header() {
        // Port unreachable (3/3): "unused", then the quoted packet.
        let h = [3, 3, 0, 0, 0, 0, 0, 0];
        let mut v = Vec::new();
        Icmp::new_checked(&h, false)
            .unwrap()
            .describe(&mut |f| v.push((f.name, f.meaning.into_owned())));
        assert_eq!(v[1], ("code", "port unreachable".to_string()));
        assert_eq!(v[3].0, "unused");
        // ICMPv6 packet too big: the MTU, 1280.
        let h = [2, 0, 0, 0, 0, 0, 0x05, 0x00];
        let mut v = Vec::new();
        Icmp::new_checked(&h, true)
            .unwrap()
            .describe(&mut |f| v.push((f.name, f.value)));
        assert_eq!(v[3], ("MTU", 1280));
        // Neighbor solicitation: named, its reserved word as the rest of the header.
        let h = [135, 0, 0, 0, 0, 0, 0, 0];
        let icmp = Icmp::new_checked(&h, true).unwrap();
        assert_eq!(icmp.type_name(), "neighbor solicitation");
        assert_eq!(
            placed(&icmp),
            vec![
                ("type", Some((0, 1))),
                ("code", Some((1, 1))),
                ("checksum", Some((2, 2))),
                ("rest of header", Some((4, 4))),
            ]
        );
    }
}
