//! HTTP/3 (RFC 9114) over the streams of a decrypted QUIC connection: frames read on each
//! stream (DATA, HEADERS, SETTINGS, GOAWAY, …), unidirectional streams told apart by their
//! type (control, push, QPACK encoder and decoder), HEADERS decoded with [`super::qpack`],
//! and one `http` record per request stream with `"version": "HTTP/3"` and its stream id.
//!
//! The caller hands over each stream's bytes in order ([`super::quic::streams`] reassembles
//! them); `side` is the sender: 0 the client, 1 the server.

use super::follow_watch::{FollowItem, FollowWatch, FrameItem, FrameProto, MAX_DATA};
use super::http::latency_ms;
use super::qpack::{self, QpackTable};
use super::{AppEvent, FrameNames, FrameProtocol, HttpTransaction};
use crate::flow::{ConnId, SegmentCtx};
use arrayvec::ArrayVec;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// Streams followed at once per connection; more are counted in [`Http3Stats::streams_cut`].
pub const MAX_STREAMS: usize = 4096;
/// Largest HEADERS (or SETTINGS, GOAWAY, …) payload read; larger ones are skipped and
/// counted in [`Http3Stats::frames_cut`].
pub const MAX_FRAME: u64 = 64 << 10;

/// What HTTP/3 reading cut or could not read, over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Http3Stats {
    pub streams_cut: u64,
    pub frames_cut: u64,
    /// HEADERS whose field section did not decode.
    pub header_blocks_lost: u64,
    /// Entries of QPACK dynamic tables evicted under the cap, or encoder-stream bytes not
    /// read.
    pub qpack_cut: u64,
}

/// HTTP/3 frame type names (RFC 9114 §7.2, RFC 9218 PRIORITY_UPDATE).
pub fn frame_name(t: u64) -> &'static str {
    match t {
        0x00 => "DATA",
        0x01 => "HEADERS",
        0x03 => "CANCEL_PUSH",
        0x04 => "SETTINGS",
        0x05 => "PUSH_PROMISE",
        0x07 => "GOAWAY",
        0x0d => "MAX_PUSH_ID",
        0xf0700 | 0xf0701 => "PRIORITY_UPDATE",
        t if t >= 0x21 && (t - 0x21) % 0x1f == 0 => "reserved (grease)",
        _ => "unknown",
    }
}

/// Unidirectional stream type names (RFC 9114 §6.2, RFC 9204 §4.2).
pub fn stream_type_name(t: u64) -> &'static str {
    match t {
        0x00 => "control",
        0x01 => "push",
        0x02 => "QPACK encoder",
        0x03 => "QPACK decoder",
        0x54 => "WebTransport",
        t if t >= 0x21 && (t - 0x21) % 0x1f == 0 => "reserved (grease)",
        _ => "unknown",
    }
}

/// What a stream carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A client-initiated bidirectional stream: a request and its response.
    Request,
    /// Unidirectional, its type not read yet.
    Untyped,
    /// Unidirectional of this type.
    Uni(u64),
}

/// The frame reader of one direction of one stream.
#[derive(Debug, Default)]
struct FrameReader {
    /// Frame type and length bytes read so far (at most two 8-byte varints).
    hdr: ArrayVec<u8, 16>,
    /// The frame being read: its type, length, bytes still to come, and whether its
    /// payload is kept (DATA and oversized frames are counted, not kept).
    cur: Option<(u64, u64, u64, bool)>,
    payload: Vec<u8>,
    /// The packet that carried the current frame's first byte.
    start: Option<SegmentCtx>,
}

/// One frame read whole (DATA and oversized frames: their length only).
struct H3Frame {
    ty: u64,
    len: u64,
    payload: Vec<u8>,
    start: SegmentCtx,
}

/// Reads a varint at the start of `b`: (value, length), or None while incomplete.
fn varint_prefix(b: &[u8]) -> Option<(u64, usize)> {
    let mut pos = 0;
    super::quic::frames::varint(b, &mut pos).map(|v| (v, pos))
}

impl FrameReader {
    /// Feeds bytes; each completed frame goes to `done` (with `keep_data`, DATA frames
    /// with their first [`MAX_DATA`] bytes, for `follow`).
    fn feed(
        &mut self,
        mut data: &[u8],
        ctx: SegmentCtx,
        stats: &mut Http3Stats,
        done: &mut Vec<H3Frame>,
        keep_data: bool,
    ) {
        loop {
            if self.cur.is_none() {
                let Some((&b, rest)) = data.split_first() else {
                    return;
                };
                if self.hdr.is_empty() {
                    self.start = Some(ctx);
                }
                let _ = self.hdr.try_push(b);
                data = rest;
                let Some((ty, n)) = varint_prefix(&self.hdr) else {
                    continue;
                };
                let Some((len, _)) = varint_prefix(&self.hdr[n..]) else {
                    continue;
                };
                self.hdr.clear();
                let keep = ty != 0x00 && len <= MAX_FRAME;
                if ty != 0x00 && !keep {
                    stats.frames_cut += 1;
                }
                self.payload.clear();
                self.cur = Some((ty, len, len, keep));
            }
            let Some((ty, len, left, keep)) = self.cur else {
                return;
            };
            let take = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
            if keep {
                self.payload.extend_from_slice(&data[..take]);
            } else if ty == 0x00 && keep_data {
                let room = MAX_DATA.saturating_sub(self.payload.len());
                self.payload.extend_from_slice(&data[..take.min(room)]);
            }
            data = &data[take..];
            let left = left - take as u64;
            self.cur = Some((ty, len, left, keep));
            if left > 0 {
                return;
            }
            done.push(H3Frame {
                ty,
                len,
                payload: std::mem::take(&mut self.payload),
                start: self.start.take().unwrap_or(ctx),
            });
            self.cur = None;
        }
    }
}

#[derive(Debug)]
struct H3Stream {
    role: Role,
    /// Readers by sender side (client, server).
    readers: [FrameReader; 2],
    tx: Option<HttpTransaction>,
    responded: bool,
    /// Frame names seen on the stream, in order (first 16).
    names: Vec<&'static str>,
}

/// Where HTTP/3 records and counters go.
pub struct H3Out<'a> {
    pub conn: ConnId,
    pub events: &'a mut Vec<AppEvent>,
    pub stats: &'a mut Http3Stats,
    /// The frames completed, by the packet that completed them (for its row).
    pub frames: FrameNames,
}

/// The HTTP/3 state of one QUIC connection.
#[derive(Debug, Default)]
pub struct Http3Conn {
    streams: FxHashMap<u64, H3Stream>,
    /// Dynamic tables by the side whose encoder builds them (its own header blocks).
    tables: [QpackTable; 2],
    next_index: u32,
    pub requests: u64,
    pub responses: u64,
    /// GOAWAY: (sent by the client, id).
    goaway: Option<(bool, u64)>,
    frames: Vec<H3Frame>,
    /// `follow` watches this connection: every frame is recorded there.
    watch: Option<Arc<FollowWatch>>,
}

impl std::fmt::Debug for H3Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} bytes)", frame_name(self.ty), self.len)
    }
}

impl Http3Conn {
    pub fn new() -> Http3Conn {
        Http3Conn::default()
    }

    /// The same, its frames recorded in `watch` (`follow`) when it watches `conn`.
    pub fn watched(mut self, watch: Option<&Arc<FollowWatch>>, conn: ConnId) -> Http3Conn {
        self.watch = watch.filter(|w| w.conn == conn).cloned();
        self
    }

    /// In-order bytes of stream `id` from `side` (0 client, 1 server); `fin`: the sender
    /// ended the stream with them.
    pub fn on_stream_data(
        &mut self,
        side: usize,
        id: u64,
        data: &[u8],
        fin: bool,
        ctx: SegmentCtx,
        out: &mut H3Out<'_>,
    ) {
        let side = side.min(1);
        if !self.streams.contains_key(&id) {
            if self.streams.len() >= MAX_STREAMS {
                out.stats.streams_cut += 1;
                return;
            }
            let role = if id & 0x02 != 0 {
                Role::Untyped
            } else {
                Role::Request
            };
            self.streams.insert(
                id,
                H3Stream {
                    role,
                    readers: Default::default(),
                    tx: None,
                    responded: false,
                    names: Vec::new(),
                },
            );
        }
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        let mut data = data;
        if s.role == Role::Untyped {
            // The stream type: a varint before the stream's frames.
            let r = &mut s.readers[side];
            while let Some((&b, rest)) = data.split_first() {
                let _ = r.hdr.try_push(b);
                data = rest;
                if let Some((t, _)) = varint_prefix(&r.hdr) {
                    r.hdr.clear();
                    s.role = Role::Uni(t);
                    s.names.push(stream_type_name(t));
                    break;
                }
            }
        }
        match s.role {
            Role::Uni(0x02) => {
                // The sender's QPACK encoder stream builds the table for its own headers.
                let t = &mut self.tables[side];
                let before = t.evicted + t.stream_cut;
                t.feed_encoder(data);
                out.stats.qpack_cut += t.evicted + t.stream_cut - before;
                return;
            }
            Role::Uni(0x00) | Role::Uni(0x01) | Role::Request => {}
            // QPACK decoder stream (acknowledgements), extension and grease streams.
            Role::Uni(_) | Role::Untyped => return,
        }
        let mut frames = std::mem::take(&mut self.frames);
        let keep_data = self.watch.is_some();
        s.readers[side].feed(data, ctx, out.stats, &mut frames, keep_data);
        for f in frames.drain(..) {
            out.frames.push(ctx.frame, FrameProtocol::Http3, f.ty, id);
            self.frame(side, id, f, out);
        }
        self.frames = frames;
        if fin {
            self.stream_end(side, id, ctx, out);
        }
    }

    fn frame(&mut self, side: usize, id: u64, f: H3Frame, out: &mut H3Out<'_>) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if s.names.len() < 16 {
            s.names.push(frame_name(f.ty));
        }
        if let Some(w) = &self.watch {
            watch_frame(w, side, id, &f);
        }
        match (s.role, f.ty) {
            (Role::Uni(0x00), 0x04) => {
                // SETTINGS: QPACK_MAX_TABLE_CAPACITY (0x01) bounds the peer's encoder.
                let mut pos = 0;
                let p = &f.payload;
                while let (Some(k), Some(v)) = (
                    super::quic::frames::varint(p, &mut pos),
                    super::quic::frames::varint(p, &mut pos),
                ) {
                    if k == 0x01 {
                        self.tables[1 - side].max_capacity = v.min(qpack::MAX_TABLE_CAPACITY);
                    }
                }
            }
            (Role::Uni(0x00), 0x07) => {
                let mut pos = 0;
                if let Some(v) = super::quic::frames::varint(&f.payload, &mut pos) {
                    self.goaway = Some((side == 0, v));
                }
            }
            (Role::Request, 0x01) => self.headers(side, id, &f, out),
            (Role::Request, 0x00) => {
                if let Some(t) = self.streams.get_mut(&id).and_then(|s| s.tx.as_mut()) {
                    let body = if side == 0 {
                        &mut t.request_body_bytes
                    } else {
                        &mut t.response_body_bytes
                    };
                    *body = Some(body.unwrap_or(0) + f.len);
                }
            }
            _ => {}
        }
    }

    fn headers(&mut self, side: usize, id: u64, f: &H3Frame, out: &mut H3Out<'_>) {
        let table = &mut self.tables[side];
        let decoded = qpack::decode_section(&f.payload, table);
        if let Some(w) = &self.watch {
            w.set_headers(match &decoded {
                Ok(sec) => Ok(sec.fields.clone()),
                Err(e) => Err(e.to_string()),
            });
        }
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        let ctx = f.start;
        let tx = s.tx.get_or_insert_with(|| {
            self.next_index += 1;
            HttpTransaction {
                conn: out.conn,
                index: self.next_index,
                version: Some("HTTP/3".to_string()),
                stream: u32::try_from(id).ok(),
                decrypted: true,
                ..HttpTransaction::default()
            }
        });
        let section = match decoded {
            Ok(sec) => sec,
            Err(e) => {
                out.stats.header_blocks_lost += 1;
                tx.notes.push(format!("HEADERS of {} bytes: {e}", f.len));
                qpack::Section::default()
            }
        };
        tx.notes.extend(section.notes.iter().cloned());
        if section.cut > 0 {
            tx.notes.push(format!(
                "{} header fields over the {}-byte cap not kept",
                section.cut,
                qpack::MAX_SECTION_BYTES
            ));
        }
        if side == 0 {
            if tx.request_frame.is_some() {
                return; // trailers
            }
            self.requests += 1;
            tx.request_frame = Some(ctx.frame);
            tx.request_ts = Some(ctx.ts);
            tx.method = section.get(":method").map(str::to_string);
            tx.uri = section.get(":path").map(str::to_string);
            tx.host = section
                .get(":authority")
                .or_else(|| section.get("host"))
                .map(str::to_string);
            return;
        }
        let status = section.get(":status").and_then(|v| v.parse::<u16>().ok());
        match status {
            None if s.responded => {}
            Some(st) if (100..200).contains(&st) => {
                tx.notes.push(format!("interim response {st}"));
            }
            _ => {
                tx.status = status;
                tx.response_frame = Some(ctx.frame);
                tx.response_ts = Some(ctx.ts);
                tx.response_version = Some("HTTP/3".to_string());
                tx.latency_ms = latency_ms(tx.request_ts, tx.response_ts);
                s.responded = true;
                self.responses += 1;
            }
        }
    }

    /// `side` ended stream `id` (a STREAM frame with FIN, delivered in order).
    fn stream_end(&mut self, side: usize, id: u64, ctx: SegmentCtx, out: &mut H3Out<'_>) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if s.role != Role::Request {
            return;
        }
        if let Some(t) = s.tx.as_mut() {
            if side == 0 {
                t.request_end_ts = Some(ctx.ts);
                t.request_body_bytes.get_or_insert(0);
            } else {
                t.response_end_ts = Some(ctx.ts);
                t.response_body_bytes.get_or_insert(0);
            }
        }
        if side == 1 {
            if let Some(s) = self.streams.remove(&id) {
                Self::emit(s, out);
            }
        }
    }

    /// Stream `id` was reset by `side` (RESET_STREAM): its record is reported as it is.
    pub fn on_reset(&mut self, side: usize, id: u64, code: u64, out: &mut H3Out<'_>) {
        if let Some(mut s) = self.streams.remove(&id) {
            if let Some(t) = s.tx.as_mut() {
                t.notes.push(format!(
                    "stream reset by the {} (error code 0x{code:x})",
                    if side == 0 { "client" } else { "server" }
                ));
            }
            Self::emit(s, out);
        }
    }

    fn emit(s: H3Stream, out: &mut H3Out<'_>) {
        if let Some(mut t) = s.tx {
            t.notes
                .push(format!("HTTP/3 frames: {}", s.names.join(", ")));
            out.events.push(AppEvent::Http(t));
        }
    }

    /// The connection ended: request streams still open are reported as they are.
    pub fn close(&mut self, out: &mut H3Out<'_>) {
        let mut open: Vec<(u64, H3Stream)> = self.streams.drain().collect();
        open.sort_by_key(|(id, _)| *id);
        for (id, mut s) in open {
            if s.role != Role::Request {
                continue;
            }
            if let Some(t) = s.tx.as_mut() {
                t.notes.push(match self.goaway {
                    Some((false, last)) if id >= last => {
                        "not processed: the server's GOAWAY named a lower stream".to_string()
                    }
                    _ if s.responded => "connection ended before the response did".to_string(),
                    _ => "no response: the connection ended first".to_string(),
                });
            }
            Self::emit(s, out);
        }
    }
}

/// Records a whole frame of the followed connection (`side` 0 the client) and, for a
/// control stream's SETTINGS or GOAWAY, its fields.
fn watch_frame(w: &FollowWatch, side: usize, stream: u64, f: &H3Frame) {
    let mut fields = Vec::new();
    let mut pos = 0;
    match f.ty {
        0x04 => {
            while let (Some(k), Some(v)) = (
                super::quic::frames::varint(&f.payload, &mut pos),
                super::quic::frames::varint(&f.payload, &mut pos),
            ) {
                if fields.len() == 32 {
                    break;
                }
                fields.push((setting_name(k), format!("{v} (0x{k:x})")));
            }
        }
        0x03 | 0x07 | 0x0d => {
            if let Some(v) = super::quic::frames::varint(&f.payload, &mut pos) {
                fields.push(("id", v.to_string()));
            }
        }
        _ => {}
    }
    let (data, data_cut) = if f.ty == 0x00 {
        (
            f.payload.clone(),
            f.len.saturating_sub(f.payload.len() as u64),
        )
    } else {
        (Vec::new(), 0)
    };
    w.push(FollowItem::Frame(FrameItem {
        proto: FrameProto::Http3,
        frame: f.start.frame,
        dir: if side == 0 {
            crate::flow::Direction::ToServer
        } else {
            crate::flow::Direction::ToClient
        },
        kind: f.ty,
        name: frame_name(f.ty),
        flags: 0,
        stream,
        len: f.len,
        fields,
        headers: None,
        data,
        data_cut,
    }));
}

/// HTTP/3 SETTINGS names (RFC 9114 §7.2.4.1, RFC 9204 §5, RFC 9220, RFC 9297).
fn setting_name(id: u64) -> &'static str {
    match id {
        0x01 => "QPACK_MAX_TABLE_CAPACITY",
        0x06 => "MAX_FIELD_SECTION_SIZE",
        0x07 => "QPACK_BLOCKED_STREAMS",
        0x08 => "ENABLE_CONNECT_PROTOCOL",
        0x33 => "H3_DATAGRAM",
        t if t >= 0x21 && (t - 0x21) % 0x1f == 0 => "reserved (grease)",
        _ => "unknown",
    }
}
