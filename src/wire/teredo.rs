//! Teredo (RFC 4380): optional authentication and origin indication, then IPv6.

use super::{byte, check_len, Describe, Field, Next, Truncated};

/// Origin indication: 0x0000, port (2, obfuscated), address (4, obfuscated).
pub const ORIGIN_LEN: usize = 8;
/// Authentication: 0x0001, id length, auth length, id, auth, nonce (8), confirmation (1).
pub const AUTH_FIXED_LEN: usize = 13;

#[derive(Clone, Copy, Debug)]
pub struct Teredo<'a> {
    buf: &'a [u8],
    len: usize,
}

impl<'a> Teredo<'a> {
    /// Walks the indicators; fails when what follows them is not an IPv6 header.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        let mut len = 0;
        if buf.get(..2) == Some(&[0, 1]) {
            check_len(buf, 4)?;
            len = AUTH_FIXED_LEN + usize::from(byte(buf, 2)) + usize::from(byte(buf, 3));
            check_len(buf, len)?;
        }
        if buf.get(len..len + 2) == Some(&[0, 0]) {
            len += ORIGIN_LEN;
            check_len(buf, len)?;
        }
        check_len(buf, len + 1)?;
        Ok(Teredo { buf, len })
    }
    pub fn header_len(&self) -> usize {
        self.len
    }
    /// An IPv6 packet (a bubble is an IPv6 header with no payload).
    pub fn carries_ipv6(&self) -> bool {
        byte(self.buf, self.len) >> 4 == 6
    }
    pub fn next(&self) -> Next {
        if self.carries_ipv6() {
            Next::IpByVersion
        } else {
            Next::Opaque
        }
    }
}

/// A UDP payload on a port that is not Teredo's is Teredo when Zeek's Teredo analyzer would
/// take it there (it finds Teredo by content on any port): its `DetectProtocol` and then the
/// checks of its `AnalyzePacket`, all on this one payload (constant work):
///
/// - detection: at least 40 bytes, starting with an IPv6 version nibble or with the
///   0x0000 / 0x0001 indicator tags, and either an IPv6 header whose source or destination
///   is a Teredo address (2001:0000::/32; Zeek's pattern, matched at the start), or an
///   origin indication (after an authentication indicator, if any) followed by at least 40
///   bytes starting like IPv6;
/// - parsing: the indicators as [`Teredo::new_checked`] walks them, then an IPv6 header
///   whose payload length accounts for exactly the bytes after it (a bubble, next header
///   59 and length 0, may have more), as Zeek's IP parser requires (else an analyzer
///   violation), and whose extension headers are all there.
///
/// An ordinary UDP payload passes only if it happens to hold a consistent IPv6 header at
/// such a place, so other UDP protocols are not read as Teredo.
pub fn detect_by_content(payload: &[u8]) -> bool {
    zeek_detects(payload) && inner_ipv6_fits(payload)
}

/// Zeek's `TeredoAnalyzer::DetectProtocol`.
fn zeek_detects(data: &[u8]) -> bool {
    let [d0, d1, ..] = *data else {
        return false;
    };
    if data.len() < IPV6_HEADER || (d0 >> 4 != 6 && (d0 != 0 || (d1 != 0 && d1 != 1))) {
        return false;
    }
    if starts_with_teredo_ipv6(data) {
        return true;
    }
    let mut rest = data;
    let mut tag = u16::from(d1);
    if tag == 1 {
        let skip = AUTH_FIXED_LEN + usize::from(byte(data, 2)) + usize::from(byte(data, 3));
        rest = match data.get(skip..) {
            Some(r) if r.len() >= IPV6_HEADER => r,
            _ => return false,
        };
        tag = u16::from_be_bytes([rest[0], rest[1]]);
    }
    tag == 0
        && rest
            .get(ORIGIN_LEN..)
            .is_some_and(|ip| ip.len() >= IPV6_HEADER && ip[0] >> 4 == 6)
}

const IPV6_HEADER: usize = 40;
const TEREDO_PREFIX: [u8; 4] = [0x20, 0x01, 0x00, 0x00];

/// Zeek's pattern `^([\x60-\x6f].{7}\x20\x01\x00\x00.{28})|([\x60-\x6f].{23}\x20\x01\x00\x00.{12})`
/// (anchored at the start, `Specific_RE_Matcher::Match`: a prefix of the data matches;
/// multi-line, so `.` is any byte): 40 bytes or more of an IPv6 header whose source (byte 8)
/// or destination (byte 24) address starts with the Teredo prefix.
fn starts_with_teredo_ipv6(data: &[u8]) -> bool {
    data.len() >= IPV6_HEADER
        && (0x60..=0x6f).contains(&data[0])
        && (data[8..12] == TEREDO_PREFIX || data[24..28] == TEREDO_PREFIX)
}

/// Zeek's `TeredoEncapsulation::Parse` and IP parsing of what it finds.
fn inner_ipv6_fits(data: &[u8]) -> bool {
    let Ok(t) = Teredo::new_checked(data) else {
        return false;
    };
    let Some(ip) = data.get(t.header_len()..) else {
        return false;
    };
    // (Its extension headers must be there too, as the walk that opens it needs them.)
    if ip.len() < IPV6_HEADER || super::ipv6::Ipv6::new_checked(ip).is_err() {
        return false;
    }
    let payload_len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    let bubble = payload_len == 0 && ip[6] == 59;
    IPV6_HEADER + payload_len == ip.len() || bubble
}

impl Describe for Teredo<'_> {
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        f(Field::new(
            "indicators",
            self.len as u64,
            "bytes of authentication / origin indication before the IPv6 packet",
        )
        .at(0..self.len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_origin_and_auth() {
        let t = Teredo::new_checked(&[0x60, 0, 0, 0]).unwrap();
        assert_eq!((t.header_len(), t.next()), (0, Next::IpByVersion));
        let t = Teredo::new_checked(&[0, 0, 1, 2, 3, 4, 5, 6, 0x60]).unwrap();
        assert_eq!(t.header_len(), 8);
        let mut b = vec![0, 1, 0, 0];
        b.extend_from_slice(&[0; 9]);
        b.push(0x60);
        let t = Teredo::new_checked(&b).unwrap();
        assert_eq!(t.header_len(), 13);
        assert!(Teredo::new_checked(&[0, 1, 200, 200, 0]).is_err());
        assert_eq!(Teredo::new_checked(&[0x45]).unwrap().next(), Next::Opaque);
    }

    /// An IPv6 header: version 6, `payload_len`, next header `next`, hop limit 64,
    /// source `src`, destination `dst`.
    fn ipv6(payload_len: u16, next: u8, src: [u8; 16], dst: [u8; 16]) -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0];
        h.extend_from_slice(&payload_len.to_be_bytes());
        h.extend_from_slice(&[next, 64]);
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h
    }

    const TEREDO_ADDR: [u8; 16] = [
        0x20, 0x01, 0, 0, 0x41, 0x36, 0xe3, 0x78, 0x80, 0, 0x63, 0xbf, 0x3f, 0xff, 0xfd, 0xd2,
    ];
    const OTHER_ADDR: [u8; 16] = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

    #[test]
    fn teredo_found_by_content_as_zeek_finds_it() {
        // A bubble (no next header, no payload) from a Teredo address: Zeek's pattern.
        let bubble = ipv6(0, 59, TEREDO_ADDR, OTHER_ADDR);
        assert!(detect_by_content(&bubble));
        // The same to a Teredo address (the prefix at byte 24).
        assert!(detect_by_content(&ipv6(0, 59, OTHER_ADDR, TEREDO_ADDR)));
        // A TCP segment (20 bytes) from a Teredo address, LF bytes in it.
        let mut tcp = ipv6(20, 6, TEREDO_ADDR, OTHER_ADDR);
        tcp.extend_from_slice(&[b'\n'; 20]);
        assert!(detect_by_content(&tcp));
        // Neither address Teredo's: not the pattern, and byte 1 (0) sends Zeek to the
        // origin-indication check, whose IPv6 nibble (byte 8, 0xfe) fails.
        assert!(!detect_by_content(&ipv6(0, 59, OTHER_ADDR, OTHER_ADDR)));
        // An origin indication, then a whole IPv6 packet (8-byte payload).
        let mut origin = vec![0, 0, 0xf2, 0x27, 0xbe, 0xa3, 0x1c, 0x87];
        origin.extend(ipv6(8, 17, OTHER_ADDR, OTHER_ADDR));
        origin.extend_from_slice(&[0; 8]);
        assert!(detect_by_content(&origin));
        // Authentication (id 1 byte, auth 0), then the origin indication and IPv6.
        let mut auth = vec![0, 1, 1, 0, 7];
        auth.extend_from_slice(&[0; 9]);
        auth.extend_from_slice(&origin);
        assert!(detect_by_content(&auth));
        // Authentication then IPv6 without an origin indication: Zeek's detection does not
        // look for it there.
        let mut auth_ip = vec![0, 1, 1, 0, 7];
        auth_ip.extend_from_slice(&[0; 9]);
        auth_ip.extend(ipv6(0, 59, TEREDO_ADDR, OTHER_ADDR));
        assert!(!detect_by_content(&auth_ip));
        // The IPv6 payload length must account for the bytes: one more or one less and the
        // packet is not Teredo (Zeek's payload-length violation).
        let mut longer = origin.clone();
        longer.push(0);
        assert!(!detect_by_content(&longer));
        assert!(!detect_by_content(&origin[..origin.len() - 1]));
        // Under 40 bytes.
        assert!(!detect_by_content(&bubble[..39]));
        // A hop-by-hop header announced (next header 0) but not there (payload length 0):
        // found by Zeek's detection, not an IPv6 packet the walk can open (the fuzzer's
        // find).
        let mut no_ext = origin[..8].to_vec();
        no_ext.extend(ipv6(0, 0, OTHER_ADDR, OTHER_ADDR));
        assert!(zeek_detects(&no_ext));
        assert!(!detect_by_content(&no_ext));
    }

    /// Ordinary UDP payloads are not Teredo: DNS (id 0, flags 0: the 0x0000 tag), a QUIC
    /// short header (first byte 0x6X), RTP, zeros.
    #[test]
    fn ordinary_udp_is_not_teredo() {
        let mut dns = vec![0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        dns.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        dns.resize(60, 0);
        assert!(!detect_by_content(&dns));
        let mut quic = vec![0x61, 0x00];
        quic.extend((0..1200).map(|i| (i * 7 % 251) as u8));
        assert!(!detect_by_content(&quic));
        let mut rtp = vec![0x80, 0x60, 0, 1];
        rtp.resize(172, 0xd5);
        assert!(!detect_by_content(&rtp));
        assert!(!detect_by_content(&[0; 48]));
    }
}

#[cfg(test)]
mod field_bytes {
    use super::*;

    #[test]
    fn the_indicators_are_placed_at_their_bytes() {
        // An origin indication (8 bytes: 0x0000, port, address), then an IPv6 header.
        let mut b = vec![0, 0, 0x12, 0x34, 1, 2, 3, 4];
        b.push(0x60);
        assert_eq!(
            super::super::placed(&Teredo::new_checked(&b).unwrap()),
            [("indicators", Some((0, 8)))]
        );
    }
}
