//! QUIC flows as the app stage feeds them: one event per long-header packet, the Initial
//! packets' hellos, and with a key log the Handshake and 1-RTT packets opened (HTTP/3).

use super::conn_app::{ConnApp, Kind};
use super::tls_feed::tls_messages;
use super::{AppConfig, AppTracker};
use crate::app::follow_watch::FollowWatch;
use crate::app::{quic, AppEvent, ConnService, FrameNames, QuicPacket, QuicPacketKind};
use crate::flow::{Direction, SegmentCtx, StreamId};

/// A QUIC Handshake or 1-RTT packet of `q` (`pn_offset`: None for a short header, whose
/// Destination Connection ID length the connection's long headers gave), opened with the
/// key log when the hellos gave the client random and the cipher suite. True when it
/// carried HTTP/3 stream bytes.
#[allow(clippy::too_many_arguments)]
fn protected_packet(
    q: &mut quic::QuicConn,
    keylog: &crate::app::keylog::KeyLog,
    version: Option<u32>,
    space: quic::session::Space,
    dir: Direction,
    packet: &[u8],
    pn_offset: Option<usize>,
    ctx: SegmentCtx,
    out: &mut quic::session::SessionOut<'_>,
    config: &AppConfig,
) -> bool {
    let short_pn = q.short_dcid_len[dir.index()].map(|n| 1 + n);
    let missing = match (&q.hello, pn_offset.or(short_pn)) {
        (h, _) if h.client_random.is_none() || h.client_dir.is_none() => {
            Some("the connection's ClientHello (its client random, the key log's index) was not seen")
        }
        // (0-RTT comes before the ServerHello: the session finds its suite.)
        (h, _) if h.cipher.is_none() && space != quic::session::Space::ZeroRtt => {
            Some("the ServerHello (its cipher suite) was not seen")
        }
        (_, None) => Some(
            "the short header's connection id length is unknown (no long header from the peer seen)",
        ),
        _ if version.is_none() => Some("the QUIC version is unknown (no long header seen)"),
        _ => None,
    };
    if let (Some(why), Some(w)) = (
        missing,
        config
            .record_watch
            .as_ref()
            .filter(|w| w.frame == ctx.frame),
    ) {
        let side = q
            .hello
            .client_dir
            .map_or(0, |c| quic::session::side_of(dir, c));
        let mut d = quic::session::QuicPacketDetail::new(ctx.frame, side, space, packet, 0);
        d.not_opened = Some(why.to_string());
        w.keep_quic(d);
    }
    let (Some(random), Some(suite), Some(client_dir), Some(version)) = (
        q.hello.client_random.as_ref(),
        // 0: not known yet (0-RTT before the ServerHello).
        q.hello
            .cipher
            .or((space == quic::session::Space::ZeroRtt).then_some(0)),
        q.hello.client_dir,
        version,
    ) else {
        return false;
    };
    let Some(pn_offset) = pn_offset.or(short_pn) else {
        return false;
    };
    let hs = quic::session::Handshake {
        keylog,
        client_random: random,
        suite,
        version,
    };
    let side = quic::session::side_of(dir, client_dir);
    q.session
        .get_or_insert_with(|| Box::new(quic::session::QuicSession::configured(config, out.conn)))
        .on_packet(hs, space, side, packet, pn_offset, ctx, out)
}

impl AppTracker {
    /// A datagram of a QUIC flow (or the long-header packet that makes it one): one event
    /// per long-header packet (coalesced ones included), short-header packets counted;
    /// whether it held any QUIC packet.
    pub(super) fn feed_quic(
        &mut self,
        at: StreamId,
        state: &mut ConnApp,
        data: &[u8],
        ctx: SegmentCtx,
        events: &mut Vec<AppEvent>,
    ) -> (bool, bool, FrameNames) {
        let StreamId { conn, dir } = at;
        let state = state.kind_or(|| Kind::Quic(None));
        let mut rest = data;
        let mut any = false;
        let mut http3 = false;
        let mut frames = FrameNames::NONE;
        let keylog = self.config.keylog.as_deref();
        while let Some(&first) = rest.first() {
            if first & 0x80 == 0 {
                if quic::is_short_header(rest) {
                    // A short header runs to the end of the datagram.
                    state.stats.quic_short_packets += 1;
                    any = true;
                    if let (Some(keylog), Kind::Quic(Some(q))) = (keylog, &mut state.kind) {
                        let mut out = quic::session::SessionOut {
                            conn,
                            events: &mut *events,
                            stats: &mut self.stats.tls.quic,
                            frames: FrameNames::NONE,
                        };
                        http3 |= protected_packet(
                            q,
                            keylog,
                            state.stats.quic_version,
                            quic::session::Space::OneRtt,
                            dir,
                            rest,
                            None,
                            ctx,
                            &mut out,
                            &self.config,
                        );
                        frames.merge(out.frames);
                        state.stats.http_requests = q.session.as_ref().map_or(0, |s| s.h3.requests);
                        state.stats.http_responses =
                            q.session.as_ref().map_or(0, |s| s.h3.responses);
                    }
                } else if !any {
                    self.stats.quic_unparsed += 1;
                }
                break;
            }
            let Ok(h) = quic::parse_long_header(rest) else {
                if !any {
                    self.stats.quic_unparsed += 1;
                }
                break;
            };
            any = true;
            state.stats.service.kinds |= ConnService::QUIC;
            state.stats.quic_long_packets += 1;
            state.stats.quic_version.get_or_insert(h.version);
            events.push(AppEvent::Quic(QuicPacket {
                conn,
                dir,
                frame: ctx.frame,
                ts: ctx.ts,
                kind: h.kind,
                version: h.version,
                dcid: h.dcid.to_vec(),
                scid: h.scid.to_vec(),
                token_len: h.token_len,
                length: h.length,
                supported_versions: h.supported_versions,
            }));
            let pn_offset = h
                .packet_len
                .saturating_sub(usize::try_from(h.length.unwrap_or(0)).unwrap_or(usize::MAX));
            let packet = rest.get(..h.packet_len);
            if let (Kind::Quic(q), Some(packet), true) =
                (&mut state.kind, packet, h.length.is_some())
            {
                let q = q.get_or_insert_with(|| {
                    let mut q = Box::<quic::QuicConn>::default();
                    q.hello.set_crypto_cap(self.config.quic_crypto);
                    q
                });
                if h.version != 0 {
                    q.short_dcid_len[1 - dir.index()] = Some(h.scid.len());
                }
                if h.kind == QuicPacketKind::Initial {
                    let before = events.len();
                    let mut out = quic::hello::HelloOut {
                        conn,
                        events: &mut *events,
                        stats: &mut self.stats.quic_hello,
                    };
                    let p = quic::hello::InitialPacket {
                        version: h.version,
                        dcid: h.dcid,
                        packet,
                        pn_offset,
                    };
                    let hello = &mut q.hello;
                    hello.on_initial(p, dir, ctx, &mut out);
                    // The hellos' server name and ALPN say what the connection is.
                    tls_messages(&mut state.stats, &events[before..]);
                    state.stats.tls_version = hello.version;
                    state.stats.tls_cipher = hello.cipher;
                    state.stats.tls_handshakes = hello.handshakes;
                } else if let (QuicPacketKind::Handshake | QuicPacketKind::ZeroRtt, Some(keylog)) =
                    (h.kind, keylog)
                {
                    let mut out = quic::session::SessionOut {
                        conn,
                        events: &mut *events,
                        stats: &mut self.stats.tls.quic,
                        frames: FrameNames::NONE,
                    };
                    let space = match h.kind {
                        QuicPacketKind::ZeroRtt => quic::session::Space::ZeroRtt,
                        _ => quic::session::Space::Handshake,
                    };
                    http3 |= protected_packet(
                        q,
                        keylog,
                        Some(h.version),
                        space,
                        dir,
                        packet,
                        Some(pn_offset),
                        ctx,
                        &mut out,
                        &self.config,
                    );
                    frames.merge(out.frames);
                }
            }
            rest = rest.get(h.packet_len.max(1)..).unwrap_or_default();
        }
        if let (true, Some(w), Some(_)) = (
            any,
            FollowWatch::of(self.config.follow_watch.as_ref(), conn),
            keylog,
        ) {
            // `follow` shows a QUIC connection read with a key log as its HTTP/3 frames.
            w.set_decrypting();
        }
        (any, http3, frames)
    }
}
