//! QUIC seen from outside (RFC 8999 invariants, RFC 9000 §17, RFC 9369 for v2): long-header
//! packets (Initial, 0-RTT, Handshake, Retry, Version Negotiation) with their version and
//! connection ids; short-header (1-RTT) packets are only counted. Initial packets are
//! opened with the keys their connection ids give every observer ([`initial`]) and their
//! TLS hellos reported ([`hello`]).

use super::QuicPacketKind;

pub mod frames;
pub mod hello;
pub mod initial;
pub mod protection;
pub mod session;
pub mod streams;

/// The app stage's state of one QUIC flow.
#[derive(Debug, Default)]
pub struct QuicConn {
    /// Initial packets and the TLS hellos in them.
    pub hello: hello::QuicHello,
    /// With a key log: Handshake and 1-RTT packets, streams, HTTP/3.
    pub session: Option<Box<session::QuicSession>>,
    /// Destination Connection ID length of short-header packets, by the direction they
    /// travel (`Direction::index`): the Source Connection ID length of the long headers
    /// that went the other way.
    pub short_dcid_len: [Option<usize>; 2],
}

/// QUIC version 2 (RFC 9369).
pub const QUIC_V2: u32 = 0x6b33_43cf;
/// Longest connection id of QUIC v1/v2 (RFC 9000 §17.2).
const MAX_CID: usize = 20;

/// Why bytes are not a QUIC long-header packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuicError {
    #[error("quic: not a long header (first byte 0x{0:02x})")]
    NotLongHeader(u8),
    #[error("quic: unknown version 0x{0:08x}")]
    UnknownVersion(u32),
    #[error("quic: fixed bit clear in a version-{0:#x} packet")]
    FixedBitClear(u32),
    #[error("quic: {field} at offset {offset} needs {need} bytes, {have} left")]
    Truncated {
        field: &'static str,
        offset: usize,
        need: usize,
        have: usize,
    },
    #[error("quic: connection id of {0} bytes (at most 20)")]
    CidTooLong(usize),
}

/// One parsed long header, borrowing the datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongHeader<'a> {
    pub kind: QuicPacketKind,
    pub version: u32,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    pub token_len: Option<u64>,
    pub length: Option<u64>,
    /// Version negotiation: the offered versions.
    pub supported_versions: Vec<u32>,
    /// Bytes of the datagram this packet occupies (the rest may be coalesced packets).
    pub packet_len: usize,
}

/// Versions recognised: v1, v2, the IETF drafts (0xff0000xx) and Facebook's mvfst
/// versions built on them (0xfaceb001, 0xfaceb002, 0xfaceb00e). 0 is version negotiation.
pub fn known_version(v: u32) -> bool {
    v == 1 || v == QUIC_V2 || initial::draft_of(v).is_some()
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], QuicError> {
        let have = self.data.len().saturating_sub(self.pos);
        let out =
            self.data
                .get(self.pos..self.pos.saturating_add(n))
                .ok_or(QuicError::Truncated {
                    field,
                    offset: self.pos,
                    need: n,
                    have,
                })?;
        self.pos += n;
        Ok(out)
    }
    fn u8(&mut self, field: &'static str) -> Result<u8, QuicError> {
        Ok(self.take(1, field)?[0])
    }
    /// RFC 9000 §16 variable-length integer.
    fn varint(&mut self, field: &'static str) -> Result<u64, QuicError> {
        let first = self
            .data
            .get(self.pos)
            .copied()
            .ok_or(QuicError::Truncated {
                field,
                offset: self.pos,
                need: 1,
                have: 0,
            })?;
        let n = 1usize << (first >> 6);
        let bytes = self.take(n, field)?;
        Ok(bytes.iter().enumerate().fold(0u64, |acc, (i, &b)| {
            (acc << 8) | u64::from(if i == 0 { b & 0x3f } else { b })
        }))
    }
}

/// Parses the long header at the start of `data`.
pub fn parse_long_header(data: &[u8]) -> Result<LongHeader<'_>, QuicError> {
    let mut c = Cursor { data, pos: 0 };
    let first = c.u8("first byte")?;
    if first & 0x80 == 0 {
        return Err(QuicError::NotLongHeader(first));
    }
    let v = c.take(4, "version")?;
    let version = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    if version != 0 && !known_version(version) {
        return Err(QuicError::UnknownVersion(version));
    }
    let dcid_len = c.u8("dcid length")? as usize;
    if version != 0 && dcid_len > MAX_CID {
        return Err(QuicError::CidTooLong(dcid_len));
    }
    let dcid = c.take(dcid_len, "dcid")?;
    let scid_len = c.u8("scid length")? as usize;
    if version != 0 && scid_len > MAX_CID {
        return Err(QuicError::CidTooLong(scid_len));
    }
    let scid = c.take(scid_len, "scid")?;
    let mut h = LongHeader {
        kind: QuicPacketKind::VersionNegotiation,
        version,
        dcid,
        scid,
        token_len: None,
        length: None,
        supported_versions: Vec::new(),
        packet_len: data.len(),
    };
    if version == 0 {
        h.supported_versions = c
            .data
            .get(c.pos..)
            .unwrap_or_default()
            .chunks_exact(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        return Ok(h);
    }
    if first & 0x40 == 0 {
        return Err(QuicError::FixedBitClear(version));
    }
    let bits = (first >> 4) & 3;
    h.kind = match (version == QUIC_V2, bits) {
        (false, 0) | (true, 1) => QuicPacketKind::Initial,
        (false, 1) | (true, 2) => QuicPacketKind::ZeroRtt,
        (false, 2) | (true, 3) => QuicPacketKind::Handshake,
        _ => QuicPacketKind::Retry,
    };
    if h.kind == QuicPacketKind::Retry {
        return Ok(h);
    }
    if h.kind == QuicPacketKind::Initial {
        let token_len = c.varint("token length")?;
        h.token_len = Some(token_len);
        c.take(usize::try_from(token_len).unwrap_or(usize::MAX), "token")?;
    }
    let length = c.varint("length")?;
    h.length = Some(length);
    let end = c
        .pos
        .saturating_add(usize::try_from(length).unwrap_or(usize::MAX));
    if end > data.len() {
        return Err(QuicError::Truncated {
            field: "packet payload",
            offset: c.pos,
            need: usize::try_from(length).unwrap_or(usize::MAX),
            have: data.len() - c.pos,
        });
    }
    h.packet_len = end;
    Ok(h)
}

/// True when `data` starts like the first packet of a QUIC flow: a long header of a known
/// version (not version negotiation) that parses whole.
pub fn starts_like_quic(data: &[u8]) -> bool {
    matches!(parse_long_header(data), Ok(h) if h.version != 0)
}

/// A short-header (1-RTT) packet: first byte 0b01xxxxxx.
pub fn is_short_header(data: &[u8]) -> bool {
    matches!(data.first(), Some(b) if b & 0xc0 == 0x40)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9001 Appendix A.2 client Initial header: DCID 8394c8f03e515708, no SCID, no
    /// token, Length 0x449e (1182), packet number 2 (4 bytes).
    fn rfc9001_initial() -> Vec<u8> {
        let mut d = vec![
            0xc3, 0x00, 0x00, 0x00, 0x01, 0x08, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08,
            0x00, 0x00, 0x44, 0x9e, 0x00, 0x00, 0x00, 0x02,
        ];
        d.resize(18 + 1182, 0);
        d
    }

    #[test]
    fn initial_from_rfc9001() {
        let d = rfc9001_initial();
        let h = parse_long_header(&d).unwrap();
        assert_eq!(h.kind, QuicPacketKind::Initial);
        assert_eq!(h.version, 1);
        assert_eq!(h.dcid, &[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08]);
        assert!(h.scid.is_empty());
        assert_eq!((h.token_len, h.length), (Some(0), Some(1182)));
        assert_eq!(h.packet_len, 1200);
        assert!(starts_like_quic(&d));
        // One byte short: the Length runs past the datagram.
        assert_eq!(
            parse_long_header(&d[..1199]),
            Err(QuicError::Truncated {
                field: "packet payload",
                offset: 18,
                need: 1182,
                have: 1181
            })
        );
    }

    #[test]
    fn v2_types_retry_and_version_negotiation() {
        // v2: type bits 0b11 = Handshake (v1's Retry), 0b00 = Retry.
        let mut hs = vec![
            0xf0, 0x6b, 0x33, 0x43, 0xcf, 0x01, 0xaa, 0x02, 0xbb, 0xcc, 0x02,
        ];
        hs.extend_from_slice(&[0, 0]);
        let h = parse_long_header(&hs).unwrap();
        assert_eq!((h.kind, h.version), (QuicPacketKind::Handshake, QUIC_V2));
        assert_eq!(
            (h.dcid, h.scid, h.length),
            (&[0xaa][..], &[0xbb, 0xcc][..], Some(2))
        );
        let retry = [0xc0, 0x6b, 0x33, 0x43, 0xcf, 0x00, 0x00, 1, 2, 3];
        assert_eq!(
            parse_long_header(&retry).unwrap().kind,
            QuicPacketKind::Retry
        );
        let vn = [
            0x80, 0, 0, 0, 0, 0x01, 0x11, 0x01, 0x22, 0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf,
        ];
        let h = parse_long_header(&vn).unwrap();
        assert_eq!(h.kind, QuicPacketKind::VersionNegotiation);
        assert_eq!(h.supported_versions, vec![1, QUIC_V2]);
        assert!(!starts_like_quic(&vn));
        // Draft 29 is known; 0x0a0a0a0a (a reserved "greasing" version) is not.
        assert!(known_version(0xff00_001d));
        assert_eq!(
            parse_long_header(&[0xc0, 0x0a, 0x0a, 0x0a, 0x0a, 0, 0]),
            Err(QuicError::UnknownVersion(0x0a0a_0a0a))
        );
        assert_eq!(
            parse_long_header(&[0xc0, 0, 0, 0, 1, 21]),
            Err(QuicError::CidTooLong(21))
        );
        assert!(is_short_header(&[0x41, 1, 2]));
        assert!(!is_short_header(&[0xc1]));
    }

    #[test]
    fn tracker_reports_long_headers_and_counts_short_ones() {
        use crate::app::{AppCollector, AppEvent};
        use crate::decode::LayerName;
        use crate::flow::{Direction, SegmentCtx};
        let ctx = |frame| SegmentCtx {
            frame,
            ts: Default::default(),
            handshake_rtt_ns: None,
            ports: Some((50000, 443)),
        };
        let mut t = AppCollector::new(Default::default());
        let layers = t.feed_datagram(3, Direction::ToServer, &rfc9001_initial(), ctx(1));
        assert_eq!(layers.app_of(1), Some(LayerName::Quic));
        let layers = t.feed_datagram(3, Direction::ToClient, &[0x41, 0x83, 0x94, 0, 0], ctx(2));
        assert_eq!(layers.app_of(2), Some(LayerName::Quic));
        let ev: Vec<_> = t.drain_events().collect();
        assert_eq!(ev.len(), 1);
        let AppEvent::Quic(q) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (q.kind, q.frame, q.version, q.length),
            (QuicPacketKind::Initial, 1, 1, Some(1182))
        );
        t.on_close(3);
        let s = t.take_conn_stats(3);
        assert_eq!(
            (s.quic_long_packets, s.quic_short_packets, s.quic_version),
            (1, 1, Some(1))
        );
    }

    #[test]
    fn truncated_headers_never_panic() {
        let d = rfc9001_initial();
        for cut in 0..30 {
            let _ = parse_long_header(&d[..cut]);
        }
        let mut x: u32 = 0x1234_5678;
        for _ in 0..2000 {
            let mut m = d[..40].to_vec();
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let i = (x as usize) % m.len();
            m[i] = (x >> 8) as u8;
            let _ = parse_long_header(&m);
        }
    }
}
