//! A QUIC connection's Handshake and 1-RTT packets, opened with the TLS secrets a key log
//! holds for its client random (the handshake and first application traffic secrets, as
//! QUIC stacks write them: aioquic, quic-go, ngtcp2, Chromium, Firefox), key updates
//! followed (RFC 9001 §6); the STREAM frames of 1-RTT packets are reassembled per stream
//! ([`super::streams`]) and read as HTTP/3 ([`crate::app::http3`]).
//!
//! Short-header packets carry no length for their Destination Connection ID: it is the
//! length of the Source Connection ID the peer gave in its own long-header packets.

use super::frames::{walk, Frame};
use super::protection::{PacketKeys, Unmasked};
use super::streams::{StreamStats, Streams};
use crate::app::http3::{H3Out, Http3Conn, Http3Stats};
use crate::app::keylog::KeyLog;
use crate::app::{AppEvent, FrameNames, RecordWatch};
use crate::flow::{ConnId, Direction, SegmentCtx};
use std::sync::Arc;

/// Packets that no key opened before a connection stops trying (wrong key log, or not
/// QUIC after all).
const MAX_FAILURES: u32 = 64;
/// Packets between two looks in a key log that did not have the connection's secrets
/// (a log being written while `live` runs).
const LOOKUP_EVERY: u32 = 64;

/// What opening protected packets did, over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuicKeyStats {
    /// Handshake and 1-RTT packets opened with a key log, and those that did not open.
    pub opened: u64,
    pub not_opened: u64,
    /// Connections whose client random the key log does not have.
    pub no_key: u64,
    pub streams: StreamStats,
    pub http3: Http3Stats,
}

/// The packet number spaces protected with secrets from the key log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    Handshake,
    /// The client's early data (long header type 1), in the 1-RTT packet number space.
    ZeroRtt,
    OneRtt,
}

/// One side's 1-RTT keys: the current key phase, the previous one (late packets) and the
/// next one (derived when a packet flips the key phase bit).
#[derive(Debug)]
struct AppKeys {
    current: PacketKeys,
    phase: bool,
    previous: Option<PacketKeys>,
}

/// What the TLS handshake seen in the Initial packets gives.
#[derive(Clone, Copy, Debug)]
pub struct Handshake<'a> {
    pub keylog: &'a KeyLog,
    pub client_random: &'a [u8; 32],
    /// The cipher suite the ServerHello chose.
    pub suite: u16,
    /// The QUIC version (v2 uses its own labels).
    pub version: u32,
}

/// Where records and counters go.
pub struct SessionOut<'a> {
    pub conn: ConnId,
    pub events: &'a mut Vec<AppEvent>,
    pub stats: &'a mut QuicKeyStats,
    /// The HTTP/3 frames the packets opened completed.
    pub frames: FrameNames,
}

/// The key-log state of one QUIC connection.
#[derive(Debug, Default)]
pub struct QuicSession {
    /// Keys were looked up and found.
    ready: bool,
    /// Packets since the last lookup that failed.
    since_lookup: u32,
    /// Counted in `no_key` already.
    no_key_counted: bool,
    handshake: [Option<PacketKeys>; 2],
    /// The client's 0-RTT keys, once a 0-RTT packet opened with them.
    early: Option<PacketKeys>,
    app: [Option<AppKeys>; 2],
    /// Largest packet number opened, by space and side.
    largest: [[Option<u64>; 2]; 2],
    failures: u32,
    streams: Streams,
    pub h3: Http3Conn,
    plain: Vec<u8>,
    /// `explain --frame N`: the packets of frame N are described there.
    watch: Option<Arc<RecordWatch>>,
}

/// One Handshake or 1-RTT packet of the frame `explain` watches: its header, the key-log
/// secret that opened it and the frames inside, or why it did not open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuicPacketDetail {
    pub frame: u64,
    /// The sender: 0 the client, 1 the server.
    pub side: usize,
    pub space: Space,
    /// The packet's length and its first byte as sent (protected).
    pub packet_len: usize,
    pub first_byte: u8,
    /// Where the packet number starts (after the header fields).
    pub pn_offset: usize,
    /// Opened: the key-log line of the secret, the packet number, the key phase bit
    /// (1-RTT), the frames inside (described), the plaintext's length and first
    /// [`crate::app::WATCH_BYTES`].
    pub secret: Option<&'static str>,
    pub pn: Option<u64>,
    pub key_phase: Option<bool>,
    pub frames: Vec<String>,
    pub plaintext: Vec<u8>,
    pub plaintext_len: usize,
    /// Why it did not open.
    pub not_opened: Option<String>,
}

impl QuicPacketDetail {
    /// A packet of frame `frame`, not opened (yet).
    pub fn new(
        frame: u64,
        side: usize,
        space: Space,
        packet: &[u8],
        pn_offset: usize,
    ) -> QuicPacketDetail {
        QuicPacketDetail {
            frame,
            side,
            space,
            packet_len: packet.len(),
            first_byte: packet.first().copied().unwrap_or(0),
            pn_offset,
            secret: None,
            pn: None,
            key_phase: None,
            frames: Vec::new(),
            plaintext: Vec::new(),
            plaintext_len: 0,
            not_opened: None,
        }
    }
}

/// The key-log line whose secret protects `space` packets of `side`.
pub fn secret_label(space: Space, side: usize) -> &'static str {
    match (space, side) {
        (Space::Handshake, 0) => "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        (Space::Handshake, _) => "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        (Space::ZeroRtt, _) => "CLIENT_EARLY_TRAFFIC_SECRET",
        (Space::OneRtt, 0) => "CLIENT_TRAFFIC_SECRET_0",
        (Space::OneRtt, _) => "SERVER_TRAFFIC_SECRET_0",
    }
}

/// A frame of a decrypted packet as `explain` lists it.
fn describe(f: &Frame<'_>) -> String {
    match f {
        Frame::Padding(n) => format!("PADDING ({n} bytes)"),
        Frame::Crypto { offset, data } => format!("CRYPTO offset {offset}, {} bytes", data.len()),
        Frame::Stream {
            id,
            offset,
            data,
            fin,
        } => format!(
            "STREAM {id} offset {offset}, {} bytes{}",
            data.len(),
            if *fin { ", FIN" } else { "" }
        ),
        Frame::ResetStream { id, code } | Frame::StopSending { id, code } => {
            format!("{} stream {id}, error 0x{code:x}", f.name())
        }
        Frame::ConnectionClose { code, application } => format!(
            "CONNECTION_CLOSE error 0x{code:x}{}",
            if *application { " (application)" } else { "" }
        ),
        Frame::Datagram(d) => format!("DATAGRAM {} bytes", d.len()),
        _ => f.name().to_string(),
    }
}

/// Most frames listed per packet.
const MAX_LISTED: usize = 32;

impl QuicSession {
    /// A session bounded by the app stage's caps, its HTTP/3 frames recorded when `follow`
    /// watches connection `conn`.
    pub fn configured(config: &crate::app::AppConfig, conn: ConnId) -> QuicSession {
        QuicSession {
            streams: Streams::with_caps(config.quic_streams),
            h3: Http3Conn::new()
                .watched(config.follow_watch.as_ref(), conn)
                .with_blocked_cap(config.qpack_blocked),
            watch: config.record_watch.clone(),
            ..QuicSession::default()
        }
    }

    /// Looks the connection's secrets up; true when keys are ready.
    fn keys(&mut self, hs: Handshake<'_>, stats: &mut QuicKeyStats) -> bool {
        if self.ready {
            return true;
        }
        if self.since_lookup > 0 {
            self.since_lookup = (self.since_lookup + 1) % LOOKUP_EVERY;
            return false;
        }
        self.since_lookup = 1;
        let Some(s) = hs.keylog.lookup(hs.client_random) else {
            if !self.no_key_counted {
                self.no_key_counted = true;
                stats.no_key += 1;
            }
            return false;
        };
        let v2 = hs.version == super::QUIC_V2;
        let make = |secret: &Option<Vec<u8>>| {
            secret
                .as_deref()
                .and_then(|x| PacketKeys::from_secret(hs.suite, x, v2))
        };
        self.handshake = [make(&s.client_handshake), make(&s.server_handshake)];
        let app = |k: Option<PacketKeys>| {
            k.map(|current| AppKeys {
                current,
                phase: false,
                previous: None,
            })
        };
        self.app = [app(make(&s.client_traffic)), app(make(&s.server_traffic))];
        self.ready =
            self.handshake.iter().any(Option::is_some) || self.app.iter().any(Option::is_some);
        if self.no_key_counted && self.ready {
            stats.no_key = stats.no_key.saturating_sub(1);
        }
        self.ready
    }

    /// The client's 0-RTT keys from the key log's CLIENT_EARLY_TRAFFIC_SECRET; true when
    /// they are ready. A 0-RTT packet usually comes before the ServerHello names the cipher
    /// suite (`hs.suite` 0 then): the resumed session's suite is the one of the TLS 1.3
    /// QUIC suites whose keys open `packet` (the AEAD tag tells).
    fn early_keys(&mut self, hs: Handshake<'_>, packet: &[u8], pn_offset: usize) -> bool {
        if self.early.is_some() {
            return true;
        }
        let Some(secret) = hs
            .keylog
            .lookup(hs.client_random)
            .and_then(|s| s.client_early)
        else {
            return false;
        };
        let v2 = hs.version == super::QUIC_V2;
        let known = [hs.suite];
        let suites: &[u16] = if hs.suite == 0 {
            &[0x1301, 0x1302, 0x1303]
        } else {
            &known
        };
        let largest = self.largest[1][0];
        let mut plain = std::mem::take(&mut self.plain);
        self.early = suites.iter().find_map(|&suite| {
            let k = PacketKeys::from_secret(suite, &secret, v2)?;
            let u = k.unmask(packet, pn_offset, largest).ok()?;
            k.open(&u, packet, &mut plain).ok()?;
            Some(k)
        });
        self.plain = plain;
        self.early.is_some()
    }

    /// One Handshake or 1-RTT packet (`packet`: exactly its bytes, `pn_offset`: where its
    /// packet number starts) sent by `side` (0 client, 1 server). True when it opened and
    /// carried HTTP/3 stream bytes.
    #[allow(clippy::too_many_arguments)]
    pub fn on_packet(
        &mut self,
        hs: Handshake<'_>,
        space: Space,
        side: usize,
        packet: &[u8],
        pn_offset: usize,
        ctx: SegmentCtx,
        out: &mut SessionOut<'_>,
    ) -> bool {
        let side = side.min(1);
        let watched = self.watch.clone().filter(|w| w.frame == ctx.frame);
        let mut detail = watched
            .as_ref()
            .map(|_| QuicPacketDetail::new(ctx.frame, side, space, packet, pn_offset));
        let ready = match space {
            // (A log with the connection but no early secret: a packet not opened.)
            Space::ZeroRtt => {
                self.early_keys(hs, packet, pn_offset)
                    || hs.keylog.lookup(hs.client_random).is_some()
            }
            Space::Handshake | Space::OneRtt => self.keys(hs, out.stats),
        };
        if self.failures >= MAX_FAILURES || !ready {
            if let (Some(w), Some(mut d)) = (watched, detail) {
                d.not_opened = Some(if self.failures >= MAX_FAILURES {
                    format!("{MAX_FAILURES} packets of this connection did not open: given up")
                } else {
                    let hex: String = hs.client_random[..4]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    format!(
                        "no {} in the key log for client random {hex}…",
                        secret_label(space, side)
                    )
                });
                w.keep_quic(d);
            }
            return false;
        }
        let si = match space {
            Space::Handshake => 0,
            Space::ZeroRtt | Space::OneRtt => 1,
        };
        let largest = self.largest[si][side];
        let mut plain = std::mem::take(&mut self.plain);
        let opened = match space {
            Space::Handshake => self.handshake[side]
                .as_ref()
                .and_then(|k| Some((k.unmask(packet, pn_offset, largest).ok()?, k)))
                .and_then(|(u, k)| k.open(&u, packet, &mut plain).ok().map(|_| (u.pn, None))),
            Space::ZeroRtt => self
                .early
                .as_ref()
                .filter(|_| side == 0)
                .and_then(|k| Some((k.unmask(packet, pn_offset, largest).ok()?, k)))
                .and_then(|(u, k)| k.open(&u, packet, &mut plain).ok().map(|_| (u.pn, None))),
            Space::OneRtt => self.app[side]
                .as_mut()
                .and_then(|a| open_one_rtt(a, packet, pn_offset, largest, &mut plain)),
        };
        let Some((pn, key_phase)) = opened else {
            out.stats.not_opened += 1;
            self.failures += 1;
            self.plain = plain;
            if let (Some(w), Some(mut d)) = (watched, detail) {
                let has_key = match space {
                    Space::Handshake => self.handshake[side].is_some(),
                    Space::ZeroRtt => self.early.is_some(),
                    Space::OneRtt => self.app[side].is_some(),
                };
                d.not_opened = Some(if has_key {
                    format!(
                        "did not open with {}: a wrong secret, a damaged packet, or a key phase not followed",
                        secret_label(space, side)
                    )
                } else {
                    format!("the key log has no {}", secret_label(space, side))
                });
                w.keep_quic(d);
            }
            return false;
        };
        if let (Some(w), Some(mut d)) = (&watched, detail.take()) {
            d.secret = Some(secret_label(space, side));
            d.pn = Some(pn);
            d.key_phase = key_phase;
            d.plaintext_len = plain.len();
            d.plaintext = plain[..plain.len().min(crate::app::WATCH_BYTES)].to_vec();
            let listed = &mut d.frames;
            let mut more = 0usize;
            walk(&plain, |f| {
                if listed.len() < MAX_LISTED {
                    listed.push(describe(&f));
                } else {
                    more += 1;
                }
                true
            });
            if more > 0 {
                listed.push(format!("… {more} more frames"));
            }
            w.keep_quic(d);
        }
        out.stats.opened += 1;
        let l = &mut self.largest[si][side];
        *l = Some(l.map_or(pn, |x| x.max(pn)));
        let mut carried = false;
        if matches!(space, Space::ZeroRtt | Space::OneRtt) {
            let streams = &mut self.streams;
            let h3 = &mut self.h3;
            let mut h3_out = H3Out {
                conn: out.conn,
                events: &mut *out.events,
                stats: &mut out.stats.http3,
                frames: FrameNames::NONE,
            };
            let stream_stats = &mut out.stats.streams;
            walk(&plain, |f| {
                match f {
                    Frame::Stream {
                        id,
                        offset,
                        data,
                        fin,
                    } => {
                        carried = true;
                        streams.on_frame(
                            side as u8,
                            id,
                            offset,
                            data,
                            fin,
                            stream_stats,
                            |b, end| h3.on_stream_data(side, id, b, end, ctx, &mut h3_out),
                        );
                    }
                    Frame::ResetStream { id, code } => h3.on_reset(side, id, code, &mut h3_out),
                    _ => {}
                }
                true
            });
            out.frames.merge(h3_out.frames);
        }
        self.plain = plain;
        carried
    }

    /// The connection ended: open requests are reported, held stream bytes counted.
    pub fn close(&mut self, out: &mut SessionOut<'_>) {
        self.streams.close(&mut out.stats.streams);
        let mut h3_out = H3Out {
            conn: out.conn,
            events: &mut *out.events,
            stats: &mut out.stats.http3,
            frames: FrameNames::NONE,
        };
        self.h3.close(&mut h3_out);
    }
}

/// Opens a 1-RTT packet with the current key phase, the next one (when the key phase bit
/// flipped: a key update, which then becomes current) or the previous one (a late packet).
fn open_one_rtt(
    a: &mut AppKeys,
    packet: &[u8],
    pn_offset: usize,
    largest: Option<u64>,
    plain: &mut Vec<u8>,
) -> Option<(u64, Option<bool>)> {
    // Header protection keys never change with the key phase.
    let u: Unmasked = a.current.unmask(packet, pn_offset, largest).ok()?;
    let bit = u.first & 0x04 != 0;
    if bit == a.phase {
        a.current.open(&u, packet, plain).ok()?;
        return Some((u.pn, Some(bit)));
    }
    if let Some(prev) = &a.previous {
        if prev.open(&u, packet, plain).is_ok() {
            return Some((u.pn, Some(bit)));
        }
    }
    let next = a.current.next_phase()?;
    next.open(&u, packet, plain).ok()?;
    a.previous = Some(std::mem::replace(&mut a.current, next));
    a.phase = bit;
    Some((u.pn, Some(bit)))
}

/// The sender side (0 client, 1 server) of a packet travelling `dir`, given the direction
/// the client's first Initial travelled.
pub fn side_of(dir: Direction, client_dir: Direction) -> usize {
    usize::from(dir != client_dir)
}
