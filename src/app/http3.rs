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
/// Bytes of field sections held per connection while they wait for encoder-stream entries
/// (RFC 9204 §2.1.2); sections past it are decoded at once, counted in
/// [`Http3Stats::qpack_blocked_cut`].
pub const MAX_BLOCKED_BYTES: usize = 64 << 10;
/// Most field sections held per side, whatever the decoder's SETTINGS_QPACK_BLOCKED_STREAMS
/// says (each encoder-stream chunk looks through them); more are counted in
/// [`Http3Stats::qpack_blocked_cut`].
pub const MAX_BLOCKED_SECTIONS: usize = 64;

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
    /// Field sections that arrived before the encoder-stream entries they refer to and
    /// could not wait for them (past the decoder's SETTINGS_QPACK_BLOCKED_STREAMS or the
    /// held-bytes cap): decoded at once, their missing fields noted.
    pub qpack_blocked_cut: u64,
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
    /// The server ended the stream while one of its field sections waited for encoder
    /// entries: the record is emitted when it is decoded.
    end_pending: bool,
}

/// A field section waiting for the encoder-stream entries it refers to.
struct Blocked {
    stream: u64,
    /// Its Required Insert Count.
    required: u64,
    frame: H3Frame,
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
    /// Field sections waiting for entries (RFC 9204 §2.1.2), by the side whose encoder
    /// wrote them, in arrival order.
    blocked: [Vec<Blocked>; 2],
    /// Streams of a side's sections that may wait: the other side's (the decoder's)
    /// SETTINGS_QPACK_BLOCKED_STREAMS (0 until seen, RFC 9204 §5).
    blocked_streams: [u64; 2],
    /// Payload bytes held in `blocked`, and their cap.
    blocked_bytes: usize,
    blocked_cap: usize,
}

impl std::fmt::Debug for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stream {} waits for {}", self.stream, self.required)
    }
}

impl std::fmt::Debug for H3Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} bytes)", frame_name(self.ty), self.len)
    }
}

impl Http3Conn {
    pub fn new() -> Http3Conn {
        Http3Conn {
            blocked_cap: MAX_BLOCKED_BYTES,
            ..Http3Conn::default()
        }
    }

    /// The same, holding at most `bytes` of field sections that wait for encoder entries.
    pub fn with_blocked_cap(mut self, bytes: usize) -> Http3Conn {
        self.blocked_cap = bytes;
        self
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
                    end_pending: false,
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
                self.unblock(side, out);
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
                    if k == 0x07 {
                        self.blocked_streams[1 - side] = v;
                    }
                }
            }
            (Role::Uni(0x00), 0x07) => {
                let mut pos = 0;
                if let Some(v) = super::quic::frames::varint(&f.payload, &mut pos) {
                    self.goaway = Some((side == 0, v));
                }
            }
            (Role::Request, 0x01) => self.headers(side, id, f, out),
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

    /// A HEADERS frame: decoded now, or held while it waits for encoder-stream entries
    /// (or an earlier held section of its stream).
    fn headers(&mut self, side: usize, id: u64, f: H3Frame, out: &mut H3Out<'_>) {
        let table = &self.tables[side];
        let required = qpack::required_insert_count(&f.payload, table).unwrap_or(0);
        let behind = self.blocked[side].iter().any(|b| b.stream == id);
        let f = if behind || required > table.inserted {
            match self.hold(side, id, required, f, out) {
                Some(f) => f,
                None => return,
            }
        } else {
            f
        };
        self.decode_headers(side, id, &f, out);
    }

    /// Holds a section that waits (RFC 9204 §2.1.2) when the decoder's blocked-streams
    /// setting and the byte cap allow; else gives it back (to be decoded at once) and
    /// counts it.
    fn hold(
        &mut self,
        side: usize,
        id: u64,
        required: u64,
        f: H3Frame,
        out: &mut H3Out<'_>,
    ) -> Option<H3Frame> {
        let queue = &self.blocked[side];
        let mut streams: ArrayVec<u64, MAX_BLOCKED_SECTIONS> = ArrayVec::new();
        for b in queue {
            if !streams.contains(&b.stream) {
                let _ = streams.try_push(b.stream);
            }
        }
        let room = queue.len() < MAX_BLOCKED_SECTIONS
            && (streams.contains(&id) || (streams.len() as u64) < self.blocked_streams[side]);
        if !room || self.blocked_bytes + f.payload.len() > self.blocked_cap {
            out.stats.qpack_blocked_cut += 1;
            return Some(f);
        }
        if let Some(w) = &self.watch {
            w.set_headers(Err(format!(
                "waits for QPACK encoder entries (insert count {required}, {} seen)",
                self.tables[side].inserted
            )));
        }
        // The record exists from now on, so the stream's DATA is counted on it.
        if let Some(s) = self.streams.get_mut(&id) {
            transaction(&mut s.tx, &mut self.next_index, out.conn, id);
        }
        self.blocked_bytes += f.payload.len();
        self.blocked[side].push(Blocked {
            stream: id,
            required,
            frame: f,
        });
        None
    }

    /// Decodes the held sections of `side` whose entries have arrived, in arrival order
    /// (a stream's sections in its own order).
    fn unblock(&mut self, side: usize, out: &mut H3Out<'_>) {
        let inserted = self.tables[side].inserted;
        loop {
            let queue = &self.blocked[side];
            let ready = (0..queue.len()).find(|&i| {
                queue[i].required <= inserted
                    && !queue[..i].iter().any(|b| b.stream == queue[i].stream)
            });
            match ready {
                Some(i) => self.release(side, i, out),
                None => return,
            }
        }
    }

    /// Decodes held section `i` of `side` (its missing entries noted, if any), and emits
    /// its stream's record when the server ended the stream meanwhile.
    fn release(&mut self, side: usize, i: usize, out: &mut H3Out<'_>) {
        let b = self.blocked[side].remove(i);
        self.blocked_bytes -= b.frame.payload.len();
        self.decode_headers(side, b.stream, &b.frame, out);
        let waiting = self.blocked.iter().flatten().any(|x| x.stream == b.stream);
        if !waiting && self.streams.get(&b.stream).is_some_and(|s| s.end_pending) {
            if let Some(s) = self.streams.remove(&b.stream) {
                Self::emit(s, out);
            }
        }
    }

    /// Decodes every held section of stream `id` (all streams: None) as far as the table
    /// allows: the stream was reset or the connection ends.
    fn release_all(&mut self, id: Option<u64>, out: &mut H3Out<'_>) {
        for side in 0..2 {
            while let Some(i) = self.blocked[side]
                .iter()
                .position(|b| id.is_none_or(|id| b.stream == id))
            {
                self.release(side, i, out);
            }
        }
    }

    fn decode_headers(&mut self, side: usize, id: u64, f: &H3Frame, out: &mut H3Out<'_>) {
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
        let tx = transaction(&mut s.tx, &mut self.next_index, out.conn, id);
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
            // (A response decoded first: its request waited for encoder entries.)
            tx.latency_ms = latency_ms(tx.request_ts, tx.response_ts);
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
        if side == 1 && self.blocked.iter().flatten().any(|b| b.stream == id) {
            s.end_pending = true;
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
        if side == 1 && !s.end_pending {
            if let Some(s) = self.streams.remove(&id) {
                Self::emit(s, out);
            }
        }
    }

    /// Stream `id` was reset by `side` (RESET_STREAM): its record is reported as it is.
    pub fn on_reset(&mut self, side: usize, id: u64, code: u64, out: &mut H3Out<'_>) {
        if let Some(s) = self.streams.get_mut(&id) {
            s.end_pending = false;
        }
        self.release_all(Some(id), out);
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
        for s in self.streams.values_mut() {
            s.end_pending = false;
        }
        self.release_all(None, out);
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

/// Stream `s`'s record (made on its first HEADERS, or when one is held).
fn transaction<'a>(
    tx: &'a mut Option<HttpTransaction>,
    next_index: &mut u32,
    conn: ConnId,
    id: u64,
) -> &'a mut HttpTransaction {
    tx.get_or_insert_with(|| {
        *next_index += 1;
        HttpTransaction {
            conn,
            index: *next_index,
            version: Some("HTTP/3".to_string()),
            stream: u32::try_from(id).ok(),
            decrypted: true,
            ..HttpTransaction::default()
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::quic::initial::tests::hex;
    use crate::capture::Timestamp;

    /// A HEADERS frame of `section`.
    fn headers(section: &str) -> Vec<u8> {
        let s = hex(section);
        let mut f = vec![0x01, s.len() as u8];
        f.extend(s);
        f
    }

    /// RFC 9204 Appendix B: the client's encoder-stream instructions (B.2, then B.3 and
    /// B.4) and its two field sections (stream 4: B.2's, stream 8: B.4's).
    const ENCODER_B2: &str =
        "3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468";
    const ENCODER_B3_B4: &str = "4a637573746f6d2d6b65790c637573746f6d2d76616c7565 02";
    const SECTION_4: &str = "0381 10 11";
    const SECTION_8: &str = "0500 80 c1 81";

    /// One piece of the exchange: (side, stream, bytes, fin, capture frame).
    type Piece = (usize, u64, Vec<u8>, bool, u64);

    /// The server's SETTINGS (QPACK_MAX_TABLE_CAPACITY 220, the RFC's, and
    /// QPACK_BLOCKED_STREAMS 2), the client's encoder stream and requests, the responses.
    fn pieces() -> [Piece; 7] {
        let mut encoder = vec![0x02];
        encoder.extend(hex(ENCODER_B2));
        [
            (1, 3, hex("00 04 05 01 40dc 07 02"), false, 1),
            (0, 6, encoder, false, 2),
            (0, 4, headers(SECTION_4), true, 3),
            (1, 4, headers("0000 d9"), true, 4),
            (0, 6, hex(ENCODER_B3_B4), false, 5),
            (0, 8, headers(SECTION_8), true, 6),
            (1, 8, headers("0000 d9"), true, 7),
        ]
    }

    /// Feeds `pieces[i]` for each `i` of `order` (closing the connection after them when
    /// `close`); returns the http records made and the counters.
    fn feed(
        conn: &mut Http3Conn,
        pieces: &[Piece],
        order: &[usize],
        close: bool,
    ) -> (Vec<HttpTransaction>, Http3Stats) {
        let mut events = Vec::new();
        let mut stats = Http3Stats::default();
        let mut out = H3Out {
            conn: 9,
            events: &mut events,
            stats: &mut stats,
            frames: FrameNames::NONE,
        };
        for &i in order {
            let (side, id, bytes, fin, frame) = &pieces[i];
            let ctx = SegmentCtx::at(*frame, Timestamp::from_secs(*frame as i64));
            conn.on_stream_data(*side, *id, bytes, *fin, ctx, &mut out);
        }
        if close {
            conn.close(&mut out);
        }
        let records = events
            .into_iter()
            .filter_map(|e| match e {
                AppEvent::Http(t) => Some(t),
                _ => None,
            })
            .collect();
        (records, stats)
    }

    /// Field sections that arrive before the encoder-stream entries they refer to wait
    /// for them (RFC 9204 §2.1.2) and give the records they give in order.
    #[test]
    fn blocked_sections_are_decoded_when_their_entries_arrive() {
        let all = pieces();
        let (in_order, stats) = feed(&mut Http3Conn::new(), &all, &[0, 1, 2, 3, 4, 5, 6], true);
        assert_eq!(stats, Http3Stats::default());
        let got: Vec<_> = in_order
            .iter()
            .map(|t| (t.stream, t.uri.as_deref(), t.host.as_deref(), t.status))
            .collect();
        assert_eq!(
            got,
            [
                (
                    Some(4),
                    Some("/sample/path"),
                    Some("www.example.com"),
                    Some(200)
                ),
                (Some(8), Some("/"), Some("www.example.com"), Some(200)),
            ]
        );
        // Both requests and both responses before any encoder instruction: each request
        // waits (stream 4 for insert count 2, stream 8 for 4), its response too.
        let mut conn = Http3Conn::new();
        let (none, _) = feed(&mut conn, &all, &[0, 2, 3, 5, 6], false);
        assert!(none.is_empty());
        assert_eq!(conn.blocked[0].len(), 2);
        let (mut records, stats) = feed(&mut conn, &all, &[1], false);
        assert_eq!(records.len(), 1, "stream 4 released by B.2's entries");
        assert_eq!((conn.blocked_bytes, stats.qpack_blocked_cut), (5, 0));
        let (later, stats) = feed(&mut conn, &all, &[4], true);
        records.extend(later);
        assert_eq!(records, in_order);
        assert_eq!((conn.blocked_bytes, stats.qpack_blocked_cut), (0, 0));
    }

    /// A section that cannot wait (the decoder allows no blocked stream, or the bytes are
    /// over the cap) is decoded at once, its missing fields noted and counted; one still
    /// waiting when the connection ends is decoded then, likewise noted.
    #[test]
    fn sections_that_cannot_wait_are_counted_and_noted() {
        let mut no_blocking = pieces();
        no_blocking[0].2 = hex("00 04 03 01 40dc");
        for (mut conn, all) in [
            (Http3Conn::new(), no_blocking),
            (Http3Conn::new().with_blocked_cap(3), pieces()),
        ] {
            let (records, stats) = feed(&mut conn, &all, &[0, 2, 3, 1], false);
            assert_eq!(stats.qpack_blocked_cut, 1);
            let t = &records[0];
            assert_eq!((t.uri.as_deref(), t.status), (None, Some(200)));
            assert!(
                t.notes.iter().any(|n| n.contains("insert count 0 of 2")),
                "{:?}",
                t.notes
            );
        }
        // A decoder that allows 1000 blocked streams: 64 sections wait, the 65th is counted.
        let mut many = vec![(1, 3, hex("00 04 06 01 40dc 07 43e8"), false, 1)];
        many.extend((0..65).map(|i| (0, 4 * i, headers(SECTION_4), false, 2 + i)));
        let order: Vec<usize> = (0..many.len()).collect();
        let mut conn = Http3Conn::new();
        let (_, stats) = feed(&mut conn, &many, &order, false);
        assert_eq!((conn.blocked[0].len(), stats.qpack_blocked_cut), (64, 1));
        // Held until the end: decoded at close with what the table has (nothing).
        let (records, stats) = feed(&mut Http3Conn::new(), &pieces(), &[0, 2, 3], true);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].status, Some(200));
        assert!(records[0].notes.iter().any(|n| n.contains("not seen")));
        assert_eq!(stats.qpack_blocked_cut, 0);
    }
}
