//! The TLS hellos of a QUIC connection, read from its Initial packets without any key
//! log: Initial keys derived from the client's Destination Connection IDs seen
//! ([`super::initial`]), CRYPTO frames reassembled per side (capped at
//! [`MAX_CRYPTO`]), and the ClientHello and ServerHello reported as TLS messages of the
//! QUIC connection.

use super::initial::{initial_frames, unprotect, InitialKeys};
use crate::app::tls::{self, describe_handshake};
use crate::app::{AppEvent, TlsKind};
use crate::flow::{ConnId, Direction, SegmentCtx};

/// Most CRYPTO bytes of one side's Initial packets kept for reassembly (a ClientHello with
/// post-quantum key shares is 2-3 KiB); bytes past it are counted in
/// [`QuicHelloStats::crypto_cut`].
pub const MAX_CRYPTO: usize = 64 << 10;
/// Client Destination Connection IDs remembered per connection (a Retry or a new attempt
/// on the same ports adds one).
const MAX_CANDIDATES: usize = 4;
/// Received ranges of one side's CRYPTO stream kept apart; more holes stop the side.
const MAX_RANGES: usize = 32;
/// Initial packets that no key opened before a connection stops trying.
const MAX_FAILURES: u32 = 32;

/// What the Initial decryption did over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuicHelloStats {
    /// Initial packets opened.
    pub opened: u64,
    /// Initial packets that no key derived from the connection's ids opened.
    pub not_opened: u64,
    /// CRYPTO bytes not reassembled: past [`MAX_CRYPTO`], too many holes, or a stream
    /// left incomplete.
    pub crypto_cut: u64,
}

/// One side's CRYPTO stream in the Initial packet number space.
#[derive(Debug, Default)]
struct CryptoStream {
    /// Bytes from offset 0 up to the highest received end.
    buf: Vec<u8>,
    /// Received ranges, sorted and merged.
    have: Vec<(usize, usize)>,
    /// Offset of the next handshake message.
    parsed: usize,
    /// Packet that carried the byte at `parsed`.
    start_ctx: Option<SegmentCtx>,
    /// The side's hello was reported (or the stream was given up): nothing more is kept.
    done: bool,
}

impl CryptoStream {
    /// Adds one CRYPTO frame; returns bytes cut.
    fn insert(&mut self, offset: u64, data: &[u8], ctx: SegmentCtx, cap: usize) -> u64 {
        if self.done {
            return 0;
        }
        let Ok(start) = usize::try_from(offset) else {
            return data.len() as u64;
        };
        let end = start.saturating_add(data.len());
        let kept_end = end.min(cap);
        let mut cut = (end - kept_end) as u64;
        if start >= kept_end {
            return data.len() as u64;
        }
        if start <= self.parsed && self.parsed < kept_end {
            self.start_ctx = Some(ctx);
        }
        if self.buf.len() < kept_end {
            self.buf.resize(kept_end, 0);
        }
        self.buf[start..kept_end].copy_from_slice(&data[..kept_end - start]);
        // Merge [start, kept_end) into the sorted ranges.
        let mut lo = start;
        let mut hi = kept_end;
        self.have.retain(|&(a, b)| {
            if b < lo || a > hi {
                true
            } else {
                lo = lo.min(a);
                hi = hi.max(b);
                false
            }
        });
        let at = self.have.partition_point(|&(a, _)| a < lo);
        self.have.insert(at, (lo, hi));
        if self.have.len() > MAX_RANGES {
            cut += self.buf.len() as u64;
            self.give_up();
        }
        cut
    }

    /// End of the bytes received without a hole from offset 0.
    fn contiguous(&self) -> usize {
        match self.have.first() {
            Some(&(0, end)) => end,
            _ => 0,
        }
    }

    /// The next whole handshake message (header included) and the packet that carried its
    /// first byte, if it has arrived.
    fn next_message(&mut self, cap: usize) -> Option<(std::ops::Range<usize>, Option<SegmentCtx>)> {
        let avail = self.contiguous();
        let p = self.parsed;
        let hdr = self.buf.get(p..p + 4).filter(|_| p + 4 <= avail)?;
        let len = u32::from_be_bytes([0, hdr[1], hdr[2], hdr[3]]) as usize;
        let end = p + 4 + len;
        if end > cap {
            return None;
        }
        (end <= avail).then_some((p..end, self.start_ctx))
    }

    fn give_up(&mut self) {
        self.done = true;
        self.buf = Vec::new();
        self.have = Vec::new();
    }
}

/// One remembered client Destination Connection ID with its keys.
struct Candidate {
    version: u32,
    dcid: Vec<u8>,
    keys: Box<InitialKeys>,
}

/// Bytes of one side's CRYPTO stream reassembled (`--max-quic-crypto`, default
/// [`MAX_CRYPTO`]).
#[derive(Clone, Copy, Debug)]
struct CryptoCap(usize);

impl Default for CryptoCap {
    fn default() -> Self {
        CryptoCap(MAX_CRYPTO)
    }
}

/// The Initial-packet state of one QUIC connection.
#[derive(Default)]
pub struct QuicHello {
    candidates: Vec<Candidate>,
    /// Destination Connection IDs whose keys opened nothing (not derived again).
    tried: Vec<Vec<u8>>,
    /// Largest packet number opened per side (client, server).
    largest_pn: [Option<u64>; 2],
    /// CRYPTO streams per side (client, server), and the bytes each may reassemble.
    crypto: [CryptoStream; 2],
    crypto_cap: CryptoCap,
    plain: Vec<u8>,
    failures: u32,
    /// From the ServerHello.
    pub version: Option<u16>,
    pub cipher: Option<u16>,
    /// Key-exchange group and resumption, as over TCP.
    tls_state: tls::HandshakeState,
    /// Hellos reported.
    pub handshakes: u64,
    /// From the ClientHello: its random (the key log's index) and the direction it went.
    pub client_random: Option<[u8; 32]>,
    pub client_dir: Option<Direction>,
}

impl std::fmt::Debug for QuicHello {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuicHello")
            .field("candidates", &self.candidates.len())
            .field("handshakes", &self.handshakes)
            .finish_non_exhaustive()
    }
}

/// One Initial packet as its long header gave it.
#[derive(Clone, Copy, Debug)]
pub struct InitialPacket<'a> {
    pub version: u32,
    /// Destination Connection ID.
    pub dcid: &'a [u8],
    /// Exactly the packet's bytes (not the rest of the datagram).
    pub packet: &'a [u8],
    /// Where the packet number starts.
    pub pn_offset: usize,
}

/// Where reported messages and counters go.
pub struct HelloOut<'a> {
    pub conn: ConnId,
    pub events: &'a mut Vec<AppEvent>,
    pub stats: &'a mut QuicHelloStats,
}

/// "8394c8f0…" (at most 8 bytes shown).
fn short_hex(b: &[u8]) -> String {
    let mut s: String = b.iter().take(8).map(|x| format!("{x:02x}")).collect();
    if b.len() > 8 {
        s.push('…');
    }
    s
}

impl QuicHello {
    /// Reassembles at most `bytes` of each side's CRYPTO stream.
    pub fn set_crypto_cap(&mut self, bytes: usize) {
        self.crypto_cap = CryptoCap(bytes);
    }

    /// Both hellos were reported (or both sides given up): Initial packets need no work
    /// unless a client starts over with a new connection ID.
    pub fn finished(&self) -> bool {
        self.crypto[0].done && self.crypto[1].done
    }

    /// One Initial packet: `packet` is exactly its bytes, `pn_offset` where its packet
    /// number starts, `dcid` its Destination Connection ID; `dir` as the flow saw it.
    pub fn on_initial(
        &mut self,
        p: InitialPacket<'_>,
        dir: Direction,
        ctx: SegmentCtx,
        out: &mut HelloOut<'_>,
    ) {
        let InitialPacket {
            version,
            dcid,
            packet,
            pn_offset,
        } = p;
        if self.failures >= MAX_FAILURES {
            return;
        }
        let new_dcid = !self.candidates.iter().any(|c| c.dcid == dcid);
        if self.finished() && (!new_dcid || self.tried.iter().any(|d| d == dcid)) {
            return;
        }
        // Known keys first (newest first), while a hello is still awaited.
        let mut opened = None;
        'found: for ci in (0..self.candidates.len()).rev() {
            if self.finished() {
                break;
            }
            let c = &self.candidates[ci];
            if c.version != version {
                continue;
            }
            for side in Self::sides(dir) {
                let keys = if side == 0 {
                    &c.keys.client
                } else {
                    &c.keys.server
                };
                if let Ok(pn) = unprotect(
                    keys,
                    packet,
                    pn_offset,
                    self.largest_pn[side],
                    &mut self.plain,
                ) {
                    opened = Some((side, pn, ci));
                    break 'found;
                }
            }
        }
        // Then keys from this packet's own DCID: how a client's first Initial (or its
        // first after a Retry, or a new attempt on the same ports) is protected.
        if opened.is_none() && new_dcid && !self.tried.iter().any(|d| d == dcid) {
            if let Some(keys) = InitialKeys::derive(version, dcid) {
                for side in Self::sides(dir) {
                    let k = if side == 0 {
                        &keys.client
                    } else {
                        &keys.server
                    };
                    if let Ok(pn) = unprotect(k, packet, pn_offset, None, &mut self.plain) {
                        if side == 0 && self.crypto[0].done {
                            // A client starting over with a new connection ID: a new
                            // handshake on the same ports.
                            self.crypto = Default::default();
                            self.largest_pn = [None; 2];
                        }
                        if self.candidates.len() == MAX_CANDIDATES {
                            self.candidates.remove(0);
                        }
                        self.candidates.push(Candidate {
                            version,
                            dcid: dcid.to_vec(),
                            keys: Box::new(keys),
                        });
                        opened = Some((side, pn, self.candidates.len() - 1));
                        break;
                    }
                }
            }
            if opened.is_none() {
                if self.tried.len() == MAX_CANDIDATES {
                    self.tried.remove(0);
                }
                self.tried.push(dcid.to_vec());
            }
        }
        let Some((side, pn, ci)) = opened else {
            out.stats.not_opened += 1;
            self.failures += 1;
            return;
        };
        out.stats.opened += 1;
        let l = &mut self.largest_pn[side];
        *l = Some(l.map_or(pn, |x| x.max(pn)));
        let plain = std::mem::take(&mut self.plain);
        let frames = initial_frames(&plain);
        for f in &frames.crypto {
            out.stats.crypto_cut +=
                self.crypto[side].insert(f.offset, f.data, ctx, self.crypto_cap.0);
        }
        let key_dcid = short_hex(&self.candidates[ci].dcid);
        while let Some((range, start)) = self.crypto[side].next_message(self.crypto_cap.0) {
            let s = &mut self.crypto[side];
            s.parsed = range.end;
            s.start_ctx = None;
            let msg = s.buf[range].to_vec();
            self.message(&msg, dir, start.unwrap_or(ctx), &key_dcid, out);
            let want = if side == 0 { 1 } else { 2 };
            if msg.first() == Some(&want) {
                self.crypto[side].give_up();
            }
        }
        self.plain = plain;
    }

    /// The sides to try first for a packet going `dir`: the flow's initiator is usually
    /// the client.
    fn sides(dir: Direction) -> [usize; 2] {
        match dir {
            Direction::ToServer => [0, 1],
            Direction::ToClient => [1, 0],
        }
    }

    fn message(
        &mut self,
        msg: &[u8],
        dir: Direction,
        ctx: SegmentCtx,
        key_dcid: &str,
        out: &mut HelloOut<'_>,
    ) {
        let t = msg.first().copied().unwrap_or(0);
        let legacy = match msg.get(4..6) {
            Some(&[a, b]) if matches!(t, 1 | 2) => u16::from_be_bytes([a, b]),
            _ => 0,
        };
        if t == 1 {
            self.client_random = msg.get(6..38).and_then(|r| r.try_into().ok());
            self.client_dir = Some(dir);
        }
        let mut m = tls::new_message(out.conn, dir, ctx, TlsKind::Handshake(t), legacy);
        m.length = msg.len().saturating_sub(4) as u64;
        match describe_handshake(msg) {
            Some(f) => tls::take_facts(
                &mut m,
                f,
                &mut self.version,
                &mut self.cipher,
                &mut self.tls_state,
            ),
            None => m.notes.push(format!(
                "{} ({} bytes) did not parse",
                crate::app::tls_handshake_name(t),
                m.length
            )),
        }
        m.notes.push(format!(
            "carried in QUIC Initial CRYPTO frames, opened with the keys every observer can \
             derive from the client's Destination Connection ID {key_dcid} (RFC 9001 §5.2)"
        ));
        m.version = self.version;
        m.cipher = self.cipher;
        self.tls_state.stamp(&mut m);
        self.handshakes += 1;
        out.events.push(AppEvent::Tls(m));
    }

    /// The connection ended: CRYPTO bytes still waiting are counted as cut.
    pub fn close(&mut self, stats: &mut QuicHelloStats) {
        for s in &mut self.crypto {
            if !s.done {
                stats.crypto_cut += s.have.iter().map(|&(a, b)| (b - a) as u64).sum::<u64>();
                s.give_up();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::initial::tests::{hex, rfc9001_client_initial, RFC9001_SERVER_INITIAL};
    use super::*;

    fn ctx(frame: u64) -> SegmentCtx {
        SegmentCtx {
            frame,
            ts: Default::default(),
            handshake_rtt_ns: None,
            ports: None,
        }
    }

    /// An Initial of version 1 whose packet number starts at byte 18 (both RFC examples).
    fn pkt<'a>(dcid: &'a [u8], packet: &'a [u8]) -> InitialPacket<'a> {
        InitialPacket {
            version: 1,
            dcid,
            packet,
            pn_offset: 18,
        }
    }

    #[test]
    fn rfc9001_hellos_become_tls_messages() {
        let mut h = QuicHello::default();
        let mut events = Vec::new();
        let mut stats = QuicHelloStats::default();
        let mut out = HelloOut {
            conn: 7,
            events: &mut events,
            stats: &mut stats,
        };
        let dcid = hex("8394c8f03e515708");
        // The server's Initial before any client one: its DCID (the client's SCID, empty
        // here) derives nothing that opens it.
        let server = hex(RFC9001_SERVER_INITIAL);
        h.on_initial(pkt(&[], &server), Direction::ToClient, ctx(1), &mut out);
        assert_eq!(out.stats.not_opened, 1);
        let client = rfc9001_client_initial();
        h.on_initial(pkt(&dcid, &client), Direction::ToServer, ctx(2), &mut out);
        h.on_initial(pkt(&[], &server), Direction::ToClient, ctx(3), &mut out);
        assert_eq!((out.stats.opened, out.stats.not_opened), (2, 1));
        assert!(h.finished());
        let tls: Vec<_> = events
            .iter()
            .map(|e| match e {
                AppEvent::Tls(t) => t.clone(),
                e => panic!("{e:?}"),
            })
            .collect();
        assert_eq!(tls.len(), 2);
        let ch = &tls[0];
        assert_eq!(
            (ch.kind, ch.frame, ch.dir),
            (TlsKind::Handshake(1), 2, Direction::ToServer)
        );
        assert_eq!(ch.sni.as_deref(), Some("example.com"));
        assert_eq!(ch.alpn, vec!["alpn".to_string()]);
        assert_eq!(ch.offered_versions, vec![0x0304]);
        assert_eq!(ch.offered_ciphers, vec![0x1301, 0x1302]);
        assert_eq!((ch.record_version, ch.length), (0x0303, 237));
        let sh = &tls[1];
        assert_eq!((sh.kind, sh.frame), (TlsKind::Handshake(2), 3));
        assert_eq!((sh.version, sh.cipher), (Some(0x0304), Some(0x1301)));
        assert_eq!(
            (h.version, h.cipher, h.handshakes),
            (Some(0x0304), Some(0x1301), 2)
        );
    }

    #[test]
    fn crypto_frames_out_of_order_and_capped() {
        let mut s = CryptoStream::default();
        let msg = {
            let mut m = vec![1, 0, 0, 6];
            m.extend_from_slice(b"abcdef");
            m
        };
        assert_eq!(s.insert(5, &msg[5..], ctx(2), MAX_CRYPTO), 0);
        assert!(s.next_message(MAX_CRYPTO).is_none());
        assert_eq!(s.insert(0, &msg[..5], ctx(1), MAX_CRYPTO), 0);
        let (r, c) = s.next_message(MAX_CRYPTO).unwrap();
        assert_eq!((r, c.map(|c| c.frame)), (0..10, Some(1)));
        assert_eq!(s.have, vec![(0, 10)]);
        // Past the cap: cut and counted.
        let mut s = CryptoStream::default();
        assert_eq!(
            s.insert(MAX_CRYPTO as u64 - 2, &[0; 10], ctx(1), MAX_CRYPTO),
            8
        );
        assert_eq!(s.insert(u64::MAX, &[0; 3], ctx(1), MAX_CRYPTO), 3);
        // Too many holes: given up.
        let mut s = CryptoStream::default();
        let mut cut = 0;
        for i in 0..40u64 {
            cut += s.insert(i * 10 + 1, &[1; 2], ctx(1), MAX_CRYPTO);
        }
        assert!(s.done && cut > 0);
    }
}
