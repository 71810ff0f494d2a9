//! TCP header (RFC 9293) and its options, for `explain`: the decoder reads TCP with
//! etherparse on the per-packet path; this view names the header's fields and describes
//! them (header-intrinsic meanings only: a connection's roles, relative numbers and window
//! scale are the caller's to add).

use super::{be16, be32, byte, check_len, Describe, Field, Raw, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: Range<usize> = 12..14;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

pub const MIN_LEN: usize = 20;

/// The flag bits (NS is bit 8 of the flags field).
pub mod flag {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NS: u16 = 0x100;
}

/// The flag bits in tshark's order, with their names and what each asks for: the one
/// table of TCP flags (`decode::TcpFlags::NAMES` is made from it).
pub const FLAGS: [(&str, u16, &str); 9] = [
    ("FIN", flag::FIN, "FIN: no more data from the sender"),
    ("SYN", flag::SYN, "SYN: synchronise sequence numbers (open)"),
    ("RST", flag::RST, "RST: abort / refuse"),
    (
        "PSH",
        flag::PSH,
        "PSH: hand the data to the application now",
    ),
    ("ACK", flag::ACK, "ACK: the ack number is valid"),
    ("URG", flag::URG, "URG: urgent pointer is valid"),
    ("ECE", flag::ECE, "ECE: ECN echo"),
    ("CWR", flag::CWR, "CWR: congestion window reduced"),
    ("NS", flag::NS, "NS: ECN nonce"),
];

use flag::{ACK, SYN, URG};

#[derive(Clone, Copy, Debug)]
pub struct Tcp<'a> {
    buf: &'a [u8],
}

impl<'a> Tcp<'a> {
    /// A data offset of at least 5 words, and the whole header (with options) captured.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, MIN_LEN)?;
        let h = Tcp { buf };
        if h.header_len() < MIN_LEN {
            return Err(Truncated {
                needed: MIN_LEN,
                had: 0,
            });
        }
        check_len(buf, h.header_len())?;
        Ok(h)
    }
    /// The 20-byte fixed header only: the options may be cut (a header the IP length or the
    /// capture ends inside). [`Tcp::options`] gives what there is of them.
    pub fn new_fixed(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, MIN_LEN)?;
        Ok(Tcp { buf })
    }
    pub fn src_port(&self) -> u16 {
        be16(self.buf, field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, field::DST_PORT)
    }
    pub fn seq(&self) -> u32 {
        be32(self.buf, field::SEQ)
    }
    pub fn ack(&self) -> u32 {
        be32(self.buf, field::ACK)
    }
    /// Header and options, in bytes.
    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buf, field::DATA_OFFSET) >> 4) * 4
    }
    /// The nine flag bits.
    pub fn flags(&self) -> u16 {
        be16(self.buf, field::FLAGS) & 0x01FF
    }
    pub fn window(&self) -> u16 {
        be16(self.buf, field::WINDOW)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }
    pub fn urgent(&self) -> u16 {
        be16(self.buf, field::URGENT)
    }
    /// The options (as far as they are there, for a view from [`Tcp::new_fixed`]).
    pub fn options(&self) -> &'a [u8] {
        let end = self.header_len().min(self.buf.len());
        self.buf.get(MIN_LEN..end).unwrap_or(&[])
    }
}

/// `SYN+ACK`, `FIN+ACK` … (`none` without a flag).
fn flag_names(flags: u16) -> String {
    let names: Vec<&str> = FLAGS
        .iter()
        .filter(|(_, bit, _)| flags & bit != 0)
        .map(|(n, _, _)| *n)
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join("+")
    }
}

impl Describe for Tcp<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        let flags = self.flags();
        f(
            Field::shown("source port", u64::from(self.src_port()), Raw::Decimal, "")
                .at(field::SRC_PORT),
        );
        f(
            Field::shown("dest port", u64::from(self.dst_port()), Raw::Decimal, "")
                .at(field::DST_PORT),
        );
        f(Field::shown("seq", u64::from(self.seq()), Raw::Decimal, "").at(field::SEQ));
        f(Field::shown(
            "ack",
            u64::from(self.ack()),
            Raw::Decimal,
            if flags & ACK != 0 {
                ""
            } else {
                "ignored: ACK flag not set"
            },
        )
        .at(field::ACK));
        let hl = self.header_len();
        f(Field::shown(
            "header length",
            (hl / 4) as u64,
            Raw::Words,
            format!("{hl} bytes = 20 fixed + {} of options", hl - MIN_LEN),
        )
        .at_byte(field::DATA_OFFSET));
        f(
            Field::shown("flags", u64::from(flags), Raw::Hex(3), flag_names(flags))
                .at(field::FLAGS),
        );
        for (_, bit, meaning) in FLAGS {
            if flags & bit != 0 {
                f(Field::shown("", 0, Raw::None, meaning).at(field::FLAGS));
            }
        }
        f(Field::shown(
            "window",
            u64::from(self.window()),
            Raw::Decimal,
            if flags & SYN != 0 {
                "bytes the sender can receive; never scaled in a SYN (RFC 7323)"
            } else {
                ""
            },
        )
        .at(field::WINDOW));
        f(
            Field::shown("checksum", u64::from(self.checksum()), Raw::Hex(4), "")
                .at(field::CHECKSUM),
        );
        f(Field::shown(
            "urgent pointer",
            u64::from(self.urgent()),
            Raw::Decimal,
            if flags & URG != 0 {
                "urgent data ends here"
            } else {
                "unused (URG not set)"
            },
        )
        .at(field::URGENT));
        describe_options(self.options(), &mut |o| f(o));
    }
}

/// The options in wire order, NOPs included, each placed at its own bytes (kind, length
/// and value) in the header; a bad length ends the list, its field placed at the bytes
/// from its kind to the options' end.
fn describe_options(o: &[u8], f: &mut dyn FnMut(Field)) {
    let mut i = 0;
    while let Some(&kind) = o.get(i) {
        let end = match o.get(i + 1) {
            Some(&len) if kind > 1 && len >= 2 && i + usize::from(len) <= o.len() => {
                i + usize::from(len)
            }
            _ if kind <= 1 => i + 1,
            _ => o.len(),
        };
        let f = &mut |field: Field| f(field.at(MIN_LEN + i..MIN_LEN + end));
        let k = u64::from(kind);
        if kind == 0 {
            f(Field::shown(
                "option EOL",
                0,
                Raw::Decimal,
                "end of option list",
            ));
            break;
        }
        if kind == 1 {
            f(Field::shown(
                "option NOP",
                1,
                Raw::Decimal,
                "padding to a 4-byte boundary",
            ));
            i += 1;
            continue;
        }
        let Some(&len) = o.get(i + 1) else {
            f(Field::shown("option ?", k, Raw::Decimal, "cut short"));
            break;
        };
        let len = usize::from(len);
        let Some(v) = o.get(i + 2..i + len.max(2)) else {
            f(Field::shown(
                "option ?",
                k,
                Raw::Decimal,
                "length runs past the header",
            ));
            break;
        };
        if len < 2 {
            f(Field::shown("option ?", k, Raw::Decimal, "bad length"));
            break;
        }
        match (kind, v.len()) {
            (2, 2) => f(Field::shown(
                "option MSS",
                u64::from(u16::from_be_bytes([v[0], v[1]])),
                Raw::Decimal,
                "largest segment the sender will accept",
            )),
            (3, 1) => f(Field::shown(
                "option WS",
                u64::from(v[0]),
                Raw::Decimal,
                format!("window scale: later windows × {}", 1u64 << v[0].min(14)),
            )),
            (4, 0) => f(Field::shown(
                "option SACK_PERM",
                0,
                Raw::None,
                "selective ACKs allowed",
            )),
            (5, n) => f(Field::shown(
                "option SACK",
                (n / 8) as u64,
                Raw::Unit("blocks"),
                "ranges received beyond the ack",
            )),
            (8, 8) => {
                let tsval = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                let tsecr = u32::from_be_bytes([v[4], v[5], v[6], v[7]]);
                f(Field::shown(
                    "option TS",
                    u64::from(tsval),
                    Raw::Decimal,
                    format!("TSval (sender's clock); TSecr {tsecr} echoes the peer's"),
                ));
            }
            (34, _) => f(Field::shown(
                "option TFO",
                0,
                Raw::None,
                "TCP Fast Open cookie",
            )),
            _ => f(Field::shown(
                "option",
                k,
                Raw::Labelled("kind"),
                format!("{len} bytes"),
            )),
        }
        i += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(b: &[u8]) -> Vec<(String, String, String)> {
        let mut v = Vec::new();
        Tcp::new_checked(b)
            .unwrap()
            .describe(&mut |f| v.push((f.name.to_string(), f.raw_text(), f.meaning.into())));
        v
    }

    #[test]
    fn a_syn_with_options() {
        // 40000 → 80, seq 1000, SYN, window 64240, options MSS 1460, NOP, WS 7 (8 bytes:
        // header length 28), then a SACK_PERM past the header (payload, not an option)
        let mut b = vec![0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x70, 0x02];
        b.extend_from_slice(&[0xfa, 0xf0, 0x12, 0x34, 0, 0]);
        b.extend_from_slice(&[2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2]);
        let h = Tcp::new_checked(&b).unwrap();
        assert_eq!(
            (h.src_port(), h.dst_port(), h.seq(), h.header_len()),
            (40000, 80, 1000, 28)
        );
        let fields = described(&b);
        let row = |name: &str| fields.iter().find(|f| f.0 == name).unwrap().clone();
        assert_eq!(row("ack").2, "ignored: ACK flag not set");
        assert_eq!(row("header length").1, "7 × 4");
        assert_eq!(row("header length").2, "28 bytes = 20 fixed + 8 of options");
        assert_eq!(
            (row("flags").1, row("flags").2),
            ("0x002".into(), "SYN".into())
        );
        assert_eq!(row("checksum").1, "0x1234");
        assert_eq!(row("option MSS").1, "1460");
        assert_eq!(row("option WS").2, "window scale: later windows × 128");
        assert_eq!(row("option NOP").2, "padding to a 4-byte boundary");
        assert!(fields.iter().all(|f| f.0 != "option SACK_PERM"));
    }

    #[test]
    fn each_option_is_placed_at_its_own_bytes() {
        // Options MSS 1460 (20..24), NOP (24), WS 7 (25..28), SACK_PERM (28..30), NOP, NOP
        // (30, 31), TS 1/2 (32..42), NOP, NOP (42, 43): header 44 bytes (data offset 11).
        let mut b = vec![0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0xb0, 0x02];
        b.extend_from_slice(&[0xfa, 0xf0, 0x12, 0x34, 0, 0]);
        b.extend_from_slice(&[2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1]);
        b.extend_from_slice(&[8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1]);
        let mut placed = Vec::new();
        Tcp::new_checked(&b).unwrap().describe(&mut |f| {
            if f.name.starts_with("option") {
                placed.push((f.name, f.bytes));
            }
        });
        assert_eq!(
            placed,
            [
                ("option MSS", Some((20, 4))),
                ("option NOP", Some((24, 1))),
                ("option WS", Some((25, 3))),
                ("option SACK_PERM", Some((28, 2))),
                ("option NOP", Some((30, 1))),
                ("option NOP", Some((31, 1))),
                ("option TS", Some((32, 10))),
                ("option NOP", Some((42, 1))),
                ("option NOP", Some((43, 1))),
            ]
        );
        // A length running past the header: the field covers its kind to the options' end.
        let mut b = [0u8; 24];
        b[12] = 0x60;
        b[20] = 1;
        b[21] = 30;
        b[22] = 9;
        let mut last = None;
        Tcp::new_checked(&b)
            .unwrap()
            .describe(&mut |f| last = Some((f.name, f.bytes)));
        assert_eq!(last, Some(("option ?", Some((21, 3)))));
    }

    #[test]
    fn short_or_lying_headers_are_refused_and_bad_options_end_the_list() {
        assert!(Tcp::new_checked(&[0; 19]).is_err());
        let mut b = [0u8; 24];
        b[12] = 0x40; // data offset 4 words: below the minimum
        assert!(Tcp::new_checked(&b).is_err());
        b[12] = 0x70; // 28 bytes, only 24 captured
        assert!(Tcp::new_checked(&b).is_err());
        b[12] = 0x60; // 24 bytes: one option of kind 30 whose length runs past the header
        b[20] = 30;
        b[21] = 9;
        let fields = described(&b);
        let last = fields.last().unwrap();
        assert_eq!(
            (last.0.as_str(), last.2.as_str()),
            ("option ?", "length runs past the header")
        );
    }
}
