//! DNS message decoding (RFC 1035) over `simple-dns`, with a header-only fallback for
//! truncated or malformed messages.

use crate::flow::SegmentCtx;
use simple_dns::rdata::RData;
use std::net::{Ipv4Addr, Ipv6Addr};

/// DNS header length (RFC 1035 §4.1.1).
pub(crate) const HEADER_LEN: usize = 12;
/// Most answer strings kept per message (the rest is summarised in one string).
const MAX_ANSWERS: usize = 64;

/// What one DNS message said, as far as it parsed.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Decoded {
    pub id: u16,
    pub response: bool,
    /// The 4-bit RCODE of the header.
    pub rcode: u8,
    /// The header's flags word (QR, opcode, AA, TC, RD, RA, Z, RCODE).
    pub flags: u16,
    pub qdcount: u16,
    /// ANCOUNT, NSCOUNT, ARCOUNT of the header.
    pub record_counts: [u16; 3],
    /// First question class, all 16 bits (mDNS's unicast-response bit included; None when
    /// no question parsed).
    pub qclass: Option<u16>,
    /// TTL of each answer in `answers` (same order and cap).
    pub ttls: Vec<u32>,
    /// First question name without the trailing dot ("" when none parsed).
    pub qname: String,
    /// First question type ("A", "AAAA", or the number; "" when none parsed).
    pub qtype: String,
    pub answers: Vec<String>,
    /// The first answer's owner name (what a response without a question section, as
    /// mDNS sends, is about; "" when there is no answer).
    pub answer_owner: String,
    /// The whole message parsed (header, every section).
    pub complete: bool,
}

/// Decodes one DNS message. `None` below the 12-byte header; otherwise what parsed (the
/// header at least, `complete` when every section parsed).
pub(crate) fn decode(data: &[u8]) -> Option<Decoded> {
    let h = data.get(..HEADER_LEN)?;
    let be = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let flags = be(2);
    let (qd, an, ns, ar) = (be(4), be(6), be(8), be(10));
    let mut d = Decoded {
        id: be(0),
        response: flags & 0x8000 != 0,
        rcode: (flags & 0x000f) as u8,
        flags,
        qdcount: qd,
        record_counts: [an, ns, ar],
        ..Decoded::default()
    };
    // Each question needs at least 5 bytes and each record 11: reject impossible counts
    // before the parser reserves room for them.
    let min_len = HEADER_LEN + qd as usize * 5 + (an as usize + ns as usize + ar as usize) * 11;
    if min_len <= data.len() {
        if let Ok(packet) = simple_dns::Packet::parse(data) {
            if let Some(q) = packet.questions.first() {
                d.qname = q.qname.to_string();
                d.qtype = type_name(u16::from(q.qtype));
                d.qclass = Some(u16::from(q.qclass) | u16::from(q.unicast_response) << 15);
            }
            if let Some(rr) = packet.answers.first() {
                d.answer_owner = rr.name.to_string();
            }
            let total = packet.answers.len();
            for rr in packet.answers.into_iter().take(MAX_ANSWERS) {
                d.ttls.push(rr.ttl);
                d.answers.push(rdata_string(rr.rdata));
            }
            if total > MAX_ANSWERS {
                d.answers
                    .push(format!("… {} more answers", total - MAX_ANSWERS));
            }
            d.complete = true;
            return Some(d);
        }
    }
    // Fallback: the first question read by hand (uncompressed labels at offset 12).
    if qd >= 1 {
        if let Some((name, end)) = plain_name(data, HEADER_LEN) {
            d.qname = name;
            if let Some(t) = data.get(end..end + 2) {
                d.qtype = type_name(u16::from_be_bytes([t[0], t[1]]));
            }
            if let Some(c) = data.get(end + 2..end + 4) {
                d.qclass = Some(u16::from_be_bytes([c[0], c[1]]));
            }
        }
    }
    Some(d)
}

/// An uncompressed domain name at `at`: (name without trailing dot, offset after it).
fn plain_name(data: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    loop {
        let len = *data.get(at)? as usize;
        at += 1;
        if len == 0 {
            return Some((name, at));
        }
        if len > 63 || name.len() + len > 255 {
            return None;
        }
        let label = data.get(at..at + len)?;
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(&String::from_utf8_lossy(label));
        at += len;
    }
}

/// RFC 1035 / RFC 6895 RCODE names ("NOERROR", "NXDOMAIN", …; the wire layer's table), or
/// the number.
pub(crate) fn rcode_name(rcode: u8) -> String {
    crate::wire::dns::rcode_name(rcode).map_or_else(|| rcode.to_string(), str::to_string)
}

/// Record type mnemonics for the common types, or the number.
pub(crate) fn type_name(t: u16) -> String {
    let name = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        52 => "TLSA",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        257 => "CAA",
        n => return n.to_string(),
    };
    name.to_string()
}

fn rdata_string(rdata: RData<'_>) -> String {
    match rdata {
        RData::A(a) => Ipv4Addr::from(a.address).to_string(),
        RData::AAAA(a) => Ipv6Addr::from(a.address).to_string(),
        RData::CNAME(n) => n.0.to_string(),
        RData::NS(n) => n.0.to_string(),
        RData::PTR(n) => n.0.to_string(),
        // Records whose data has several fields say which is which.
        RData::MX(mx) => format!("MX {} pref {}", mx.exchange, mx.preference),
        RData::SRV(s) => format!(
            "SRV {}:{} prio {} weight {}",
            s.target, s.port, s.priority, s.weight
        ),
        RData::SOA(s) => format!("SOA {} {} serial {}", s.mname, s.rname, s.serial),
        RData::TXT(txt) => String::try_from(txt)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        other => format!("{} record", type_name(other.type_code().into())),
    }
}

/// One direction of a DNS-over-TCP stream (RFC 1035 §4.2.2: 2-byte length prefix).
#[derive(Debug, Default)]
pub(crate) struct DnsTcpDir {
    /// Incomplete message with its prefix (at most 2 + 65535 bytes).
    pub(crate) buf: Vec<u8>,
    start: Option<SegmentCtx>,
    pub(crate) stopped: bool,
}

impl DnsTcpDir {
    /// Splits `data` into messages; each decoded one goes to `found` with the segment
    /// that carried its first byte. True when `data` carried DNS bytes.
    pub(crate) fn feed(
        &mut self,
        mut data: &[u8],
        ctx: SegmentCtx,
        found: &mut Vec<(Decoded, SegmentCtx)>,
    ) -> bool {
        if self.stopped {
            return false;
        }
        while !data.is_empty() {
            if self.buf.is_empty() {
                if let [a, b, rest @ ..] = data {
                    let len = u16::from_be_bytes([*a, *b]) as usize;
                    if let Some(msg) = rest.get(..len) {
                        found.extend(decode(msg).map(|m| (m, ctx)));
                        data = &rest[len..];
                        continue;
                    }
                }
                self.start = Some(ctx);
                self.buf.extend_from_slice(data);
                break;
            }
            let want = match self.buf.as_slice() {
                [a, b, ..] => 2 + u16::from_be_bytes([*a, *b]) as usize,
                _ => 2,
            };
            let take = want.saturating_sub(self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if let [a, b, msg @ ..] = self.buf.as_slice() {
                if msg.len() == u16::from_be_bytes([*a, *b]) as usize {
                    let start = self.start.unwrap_or(ctx);
                    found.extend(decode(msg).map(|m| (m, start)));
                    self.buf.clear();
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Query id 0x5934 for www.tcpdump.org A (tcpdump's dns_udp.pcap frame 1 payload).
    pub(crate) const QUERY: &[u8] = b"\x59\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
\x03www\x07tcpdump\x03org\x00\x00\x01\x00\x01";

    #[test]
    fn query_parses() {
        let d = decode(QUERY).unwrap();
        assert_eq!(d.id, 0x5934);
        assert!(!d.response);
        assert!(d.complete);
        assert_eq!(d.qname, "www.tcpdump.org");
        assert_eq!(d.qtype, "A");
        assert_eq!(d.qdcount, 1);
        assert!(d.answers.is_empty());
        // Flags 0x0100: RD; class 1 (IN).
        assert_eq!((d.flags, d.qclass), (0x0100, Some(1)));
        // The hand-read question of a message the parser refuses keeps its class too.
        let mut bad = QUERY.to_vec();
        bad[7] = 9; // ANCOUNT 9 with no answers
        let d = decode(&bad).unwrap();
        assert!(!d.complete);
        assert_eq!((d.qtype.as_str(), d.qclass), ("A", Some(1)));
    }

    #[test]
    fn response_with_cname_and_a() {
        let mut m = b"\x12\x34\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\
\x03www\x07example\x03com\x00\x00\x01\x00\x01"
            .to_vec();
        // CNAME www.example.com -> example.com (pointer to offset 16)
        m.extend_from_slice(b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x10");
        // A example.com 93.184.216.34
        m.extend_from_slice(b"\xc0\x10\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22");
        let d = decode(&m).unwrap();
        assert!(d.response && d.complete);
        assert_eq!(rcode_name(d.rcode), "NOERROR");
        assert_eq!(d.answers, vec!["example.com", "93.184.216.34"]);
        // Header flags 0x8180 (QR, RD, RA), counts 1/2/0/0, class IN, TTLs 0x3c = 60 s.
        assert_eq!(d.flags, 0x8180);
        assert_eq!(d.record_counts, [2, 0, 0]);
        assert_eq!(d.qclass, Some(1));
        assert_eq!(d.ttls, vec![60, 60]);
    }

    #[test]
    fn truncated_keeps_header_and_question() {
        let cut = &QUERY[..QUERY.len() - 3];
        let d = decode(cut).unwrap();
        assert!(!d.complete);
        assert_eq!(d.id, 0x5934);
        assert_eq!(d.qname, "www.tcpdump.org");
        assert_eq!(d.qtype, "");
        assert!(decode(&QUERY[..11]).is_none());
        let h = decode(&QUERY[..12]).unwrap();
        assert_eq!((h.id, h.complete, h.qname.as_str()), (0x5934, false, ""));
    }

    /// An mDNS response (RFC 6762 §6: no question section) from `avahi` announcing
    /// gemini's SSH service: id 0, flags 0x8400 (QR, AA), 0 questions, 1 answer: SRV
    /// gemini._ssh._tcp.local, class 0x8001 (cache-flush, IN), TTL 120, priority 0,
    /// weight 0, port 22, target gemini.local. Built by hand from RFC 1035 §4.1 / RFC 2782.
    #[test]
    fn mdns_response_without_question_names_its_answer() {
        let mut m = b"\x00\x00\x84\x00\x00\x00\x00\x01\x00\x00\x00\x00".to_vec();
        // Owner gemini._ssh._tcp.local (offset 12), type 33, class 0x8001, TTL 120.
        m.extend_from_slice(b"\x06gemini\x04_ssh\x04_tcp\x05local\x00");
        m.extend_from_slice(b"\x00\x21\x80\x01\x00\x00\x00\x78");
        // RDLENGTH 8: priority 0, weight 0, port 22, target gemini.local (gemini + a
        // pointer to "local" at offset 12 + 7 + 5 + 5 = 29).
        m.extend_from_slice(b"\x00\x0f\x00\x00\x00\x00\x00\x16\x06gemini\xc0\x1d");
        let d = decode(&m).unwrap();
        assert!(d.response && d.complete, "{d:?}");
        assert_eq!((d.qdcount, d.qname.as_str(), d.qtype.as_str()), (0, "", ""));
        assert_eq!(d.answer_owner, "gemini._ssh._tcp.local");
        assert_eq!(d.answers, vec!["SRV gemini.local:22 prio 0 weight 0"]);
    }

    #[test]
    fn impossible_counts_are_not_parsed() {
        let d = decode(b"\x00\x01\x81\x83\xff\xff\xff\xff\xff\xff\xff\xff\x00").unwrap();
        assert!(!d.complete);
        assert_eq!(rcode_name(d.rcode), "NXDOMAIN");
    }
}
