//! HTTP/2 connections (RFC 9113): the frames of both directions ([`super::http2_frame`]),
//! header blocks through HPACK ([`super::http2_hpack`]), and one [`HttpTransaction`] per
//! stream with the request's method, `:path` as `uri`, `:authority` as host, the response's
//! status, body sizes, latency, `"HTTP/2"` and the stream id, emitted when the stream ends
//! (response END_STREAM, RST_STREAM, or the connection's end).
//!
//! Bounded ([`H2Caps`], flags of the command line): frames other than DATA are buffered up
//! to [`MAX_FRAME`] bytes (DATA is counted, never kept; with `follow` watching, its first
//! bytes are kept to be shown), a header block up to [`MAX_BLOCK`], at most [`MAX_STREAMS`]
//! streams open at once; what is cut is counted in [`Http2Stats`] and noted.

use super::follow_watch::{FollowItem, FollowWatch, FrameItem, FrameProto, MAX_DATA};
use super::http::latency_ms;
use super::http2_frame::{
    self as frame, error_name, frame_header, parse_frame, Frame, FrameHeader, FRAME_HEADER_LEN,
    PREFACE,
};
use super::http2_hpack::{HeaderDecoder, HeaderList};
use super::{AppEvent, FrameNames, FrameProtocol, HttpTransaction};
use crate::flow::{ConnId, Direction, SegmentCtx};
use std::sync::Arc;

/// Largest non-DATA frame buffered (SETTINGS_MAX_FRAME_SIZE is 16384 by default).
pub const MAX_FRAME: usize = 64 << 10;
/// Largest header block (HEADERS/PUSH_PROMISE and CONTINUATIONs) assembled.
pub const MAX_BLOCK: usize = 64 << 10;
/// Most streams open at once on one connection.
pub const MAX_STREAMS: usize = 256;

/// The caps of one HTTP/2 connection (`--max-h2-frame`, `--max-h2-header-block`,
/// `--max-h2-streams`; defaults [`MAX_FRAME`], [`MAX_BLOCK`], [`MAX_STREAMS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct H2Caps {
    /// Largest non-DATA frame buffered.
    pub frame: usize,
    /// Largest header block assembled.
    pub header_block: usize,
    /// Most streams open at once.
    pub streams: usize,
    /// Largest HPACK dynamic table a peer may ask for (a larger size update loses the table).
    pub hpack_table: usize,
    /// Largest decoded header list kept per block (RFC 7541 §4.1 sizes); fields past it are
    /// counted.
    pub header_list: usize,
}

impl Default for H2Caps {
    fn default() -> Self {
        H2Caps {
            frame: MAX_FRAME,
            header_block: MAX_BLOCK,
            streams: MAX_STREAMS,
            hpack_table: super::http2_hpack::MAX_TABLE,
            header_list: super::http2_hpack::MAX_HEADER_LIST,
        }
    }
}

/// What HTTP/2 parsing cut or could not read, over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Http2Stats {
    /// Streams not followed because [`H2Caps::streams`] were open.
    pub streams_cut: u64,
    /// Frames over [`H2Caps::frame`] skipped, or header blocks over
    /// [`H2Caps::header_block`].
    pub frames_cut: u64,
    /// Header blocks not decoded (HPACK error, or the table lost before).
    pub header_blocks_lost: u64,
    /// Frames whose payload does not read (sizes, padding).
    pub bad_frames: u64,
    /// Header fields not kept: past the decoded header list cap.
    pub header_fields_cut: u64,
}

/// Where a direction's reader is.
#[derive(Debug, Default)]
struct H2Dir {
    /// Client: bytes of the connection preface still to match.
    preface_left: usize,
    /// Not HTTP/2 (no preface) or given up: bytes are ignored.
    stopped: bool,
    hdr: [u8; FRAME_HEADER_LEN],
    hdr_len: usize,
    /// The frame being read, its payload bytes still to come, and the segment that
    /// carried its first byte.
    cur: Option<FrameHeader>,
    remaining: usize,
    frame_ctx: Option<SegmentCtx>,
    /// Payload of a non-DATA frame (at most MAX_FRAME), or None while skipping one.
    payload: Vec<u8>,
    skipping: bool,
    /// DATA: its pad length byte (PADDED), once read.
    pad: Option<u8>,
    /// Header block being assembled: stream, the frame that started it, END_STREAM of its
    /// HEADERS, the promised stream of a PUSH_PROMISE.
    block: Vec<u8>,
    block_stream: u32,
    block_ctx: Option<SegmentCtx>,
    block_end_stream: bool,
    block_promised: Option<u32>,
    block_cut: bool,
    hpack: HeaderDecoder,
}

impl H2Dir {
    /// A HEADERS or PUSH_PROMISE frame starts a new header block.
    fn start_block(
        &mut self,
        stream: u32,
        start: SegmentCtx,
        end_stream: bool,
        promised: Option<u32>,
    ) {
        self.block.clear();
        self.block_cut = false;
        self.block_stream = stream;
        self.block_ctx = Some(start);
        self.block_end_stream = end_stream;
        self.block_promised = promised;
    }
}

/// One stream being followed.
#[derive(Debug)]
struct H2Stream {
    id: u32,
    tx: HttpTransaction,
    /// A final (non-1xx) response head was seen.
    responded: bool,
}

/// Where an HTTP/2 connection's results go.
pub struct H2Out<'a> {
    pub conn: ConnId,
    pub events: &'a mut Vec<AppEvent>,
    pub stats: &'a mut Http2Stats,
    /// The frames completed, by the packet that completed them (for its row).
    pub frames: FrameNames,
}

/// One HTTP/2 connection (see the module's documentation).
#[derive(Debug, Default)]
pub struct Http2Conn {
    dirs: [H2Dir; 2],
    streams: Vec<H2Stream>,
    next_index: u32,
    pub requests: u64,
    pub responses: u64,
    /// GOAWAY seen: (sent by the client, error code, last stream).
    goaway: Option<(bool, u32, u32)>,
    /// `follow` watches this connection: every frame is recorded there.
    watch: Option<Arc<FollowWatch>>,
    caps: H2Caps,
}

fn side(dir: Direction) -> &'static str {
    match dir {
        Direction::ToServer => "client",
        Direction::ToClient => "server",
    }
}

impl Http2Conn {
    /// A connection whose client starts with the connection preface.
    pub fn new() -> Http2Conn {
        let mut c = Http2Conn::default();
        c.dirs[Direction::ToServer.index()].preface_left = PREFACE.len();
        c
    }

    /// The same, its frames recorded in `watch` (`follow`) when it watches `conn`.
    pub fn watched(mut self, watch: Option<&Arc<FollowWatch>>, conn: ConnId) -> Http2Conn {
        self.watch = watch.filter(|w| w.conn == conn).cloned();
        self
    }

    /// The same, bounded by `caps`.
    pub fn with_caps(mut self, caps: H2Caps) -> Http2Conn {
        self.caps = caps;
        for d in &mut self.dirs {
            d.hpack = HeaderDecoder::with_caps(caps.hpack_table, caps.header_list);
        }
        self
    }

    /// The same, with the app stage's caps and `follow` watch for connection `conn`.
    pub fn configured(self, config: &super::AppConfig, conn: ConnId) -> Http2Conn {
        self.watched(config.follow_watch.as_ref(), conn)
            .with_caps(config.h2_caps)
    }

    /// A connection an HTTP/1.1 request upgraded (`Upgrade: h2c` answered by 101, RFC 7540
    /// §3.2): the client's preface follows, and `request` is stream 1's request (its
    /// response comes as HTTP/2 on stream 1).
    pub fn upgraded(request: &HttpTransaction) -> Http2Conn {
        let mut c = Http2Conn::new();
        c.next_index = 1;
        c.requests = 1;
        let mut tx = HttpTransaction {
            conn: request.conn,
            index: 1,
            request_frame: request.request_frame,
            request_ts: request.request_ts,
            request_end_ts: request.request_end_ts,
            request_body_bytes: request.request_body_bytes,
            method: request.method.clone(),
            uri: request.uri.clone(),
            host: request.host.clone(),
            version: Some("HTTP/2".to_string()),
            stream: Some(1),
            ..HttpTransaction::default()
        };
        tx.notes.push(format!(
            "h2c upgrade: the HTTP/1.1 request in frame {} is this stream's request",
            request.request_frame.unwrap_or(0)
        ));
        c.streams.push(H2Stream {
            id: 1,
            tx,
            responded: false,
        });
        c
    }

    /// In-order bytes of `dir`. True when they were HTTP/2 bytes.
    pub fn on_data(
        &mut self,
        dir: Direction,
        mut data: &[u8],
        ctx: SegmentCtx,
        out: &mut H2Out<'_>,
    ) -> bool {
        let mut any = false;
        while !data.is_empty() {
            let d = &mut self.dirs[dir.index()];
            if d.stopped {
                return any;
            }
            if d.preface_left > 0 {
                let at = PREFACE.len() - d.preface_left;
                let n = d.preface_left.min(data.len());
                if data[..n] != PREFACE[at..at + n] {
                    d.stopped = true;
                    return any;
                }
                d.preface_left -= n;
                data = &data[n..];
                any = true;
                continue;
            }
            any = true;
            let Some(h) = d.cur else {
                if d.hdr_len == 0 {
                    d.frame_ctx = Some(ctx);
                }
                let n = (FRAME_HEADER_LEN - d.hdr_len).min(data.len());
                d.hdr[d.hdr_len..d.hdr_len + n].copy_from_slice(&data[..n]);
                d.hdr_len += n;
                data = &data[n..];
                if d.hdr_len < FRAME_HEADER_LEN {
                    continue;
                }
                d.hdr_len = 0;
                let Some(h) = frame_header(&d.hdr) else {
                    continue;
                };
                d.cur = Some(h);
                d.remaining = h.len as usize;
                d.payload.clear();
                d.pad = None;
                d.skipping = h.kind != frame::DATA && d.remaining > self.caps.frame;
                if d.skipping {
                    out.stats.frames_cut += 1;
                    if matches!(
                        h.kind,
                        frame::HEADERS | frame::CONTINUATION | frame::PUSH_PROMISE
                    ) {
                        d.hpack.lose();
                    }
                }
                if d.remaining == 0 {
                    self.frame_end(dir, ctx, out);
                }
                continue;
            };
            let n = d.remaining.min(data.len());
            let (chunk, rest) = data.split_at(n);
            data = rest;
            if h.kind == frame::DATA {
                if d.remaining == h.len as usize && h.flags & 0x8 != 0 {
                    d.pad = chunk.first().copied();
                }
                if self.watch.is_some() {
                    // Followed: the first bytes are kept to be shown (pad length byte
                    // included).
                    let room = (MAX_DATA + 1).saturating_sub(d.payload.len());
                    d.payload.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
            } else if !d.skipping {
                d.payload.extend_from_slice(chunk);
            }
            d.remaining -= n;
            if d.remaining == 0 {
                self.frame_end(dir, ctx, out);
            }
        }
        any
    }

    /// The current frame of `dir` is whole.
    fn frame_end(&mut self, dir: Direction, ctx: SegmentCtx, out: &mut H2Out<'_>) {
        let d = &mut self.dirs[dir.index()];
        let Some(h) = d.cur.take() else {
            return;
        };
        let start = d.frame_ctx.unwrap_or(ctx);
        out.frames.push(
            ctx.frame,
            FrameProtocol::Http2,
            u64::from(h.kind),
            u64::from(h.stream),
        );
        if let Some(w) = &self.watch {
            watch_frame(w, dir, &h, &d.payload, d.pad, ctx.frame);
        }
        if h.kind == frame::DATA {
            let padding = d.pad.map_or(0, |p| u64::from(p) + 1);
            let len = u64::from(h.len).saturating_sub(padding);
            self.data(dir, h.stream, len, h.flags & 0x1 != 0, start, out);
            return;
        }
        if d.skipping {
            return;
        }
        let payload = std::mem::take(&mut d.payload);
        match parse_frame(&h, &payload) {
            Ok(f) => self.frame(dir, &h, f, start, out),
            Err(_) => out.stats.bad_frames += 1,
        }
        self.dirs[dir.index()].payload = payload;
    }

    fn frame(
        &mut self,
        dir: Direction,
        h: &FrameHeader,
        f: Frame<'_>,
        start: SegmentCtx,
        out: &mut H2Out<'_>,
    ) {
        let d = &mut self.dirs[dir.index()];
        match f {
            Frame::Headers {
                block,
                end_stream,
                end_headers,
            } => {
                d.start_block(h.stream, start, end_stream, None);
                self.block_fragment(dir, block, end_headers, out);
            }
            Frame::PushPromise {
                promised,
                block,
                end_headers,
            } => {
                d.start_block(h.stream, start, false, Some(promised));
                self.block_fragment(dir, block, end_headers, out);
            }
            Frame::Continuation { block, end_headers } => {
                if d.block_ctx.is_some() && d.block_stream == h.stream {
                    self.block_fragment(dir, block, end_headers, out);
                } else {
                    out.stats.bad_frames += 1;
                }
            }
            Frame::RstStream { code } => {
                if let Some(i) = self.streams.iter().position(|s| s.id == h.stream) {
                    let mut s = self.streams.swap_remove(i);
                    s.tx.notes.push(format!(
                        "stream reset by the {} ({})",
                        side(dir),
                        error_name(code)
                    ));
                    self.emit(s, out);
                }
            }
            Frame::GoAway { last_stream, code } => {
                self.goaway = Some((dir == Direction::ToServer, code, last_stream));
            }
            Frame::Data { .. }
            | Frame::Priority
            | Frame::Settings { .. }
            | Frame::Ping { .. }
            | Frame::WindowUpdate { .. }
            | Frame::Unknown(_) => {}
        }
    }

    /// A fragment of the header block of `dir`; decodes the block when it ends.
    fn block_fragment(&mut self, dir: Direction, frag: &[u8], end: bool, out: &mut H2Out<'_>) {
        let d = &mut self.dirs[dir.index()];
        if d.block.len() + frag.len() > self.caps.header_block {
            if !d.block_cut {
                out.stats.frames_cut += 1;
            }
            d.block_cut = true;
            d.block = Vec::new();
        } else if !d.block_cut {
            d.block.extend_from_slice(frag);
        }
        if !end {
            return;
        }
        let ctx = d.block_ctx.take();
        if d.block_cut {
            d.hpack.lose();
            out.stats.header_blocks_lost += 1;
            if let Some(w) = &self.watch {
                w.set_headers(Err(format!(
                    "header block over the {}-byte cap: not decoded",
                    self.caps.header_block
                )));
            }
            return;
        }
        let decoded = d.hpack.decode(&d.block);
        if let Ok(list) = &decoded {
            out.stats.header_fields_cut += list.cut as u64;
        }
        if let Some(w) = &self.watch {
            w.set_headers(match &decoded {
                Ok(list) => Ok(list.fields.clone()),
                Err(e) => Err(e.to_string()),
            });
        }
        let (stream, end_stream, promised) = (d.block_stream, d.block_end_stream, d.block_promised);
        let Some(ctx) = ctx else {
            return;
        };
        match decoded {
            Ok(list) => match promised {
                Some(p) => self.request_head(p, &list, ctx, false, true, out),
                None if dir == Direction::ToServer => {
                    self.request_head(stream, &list, ctx, end_stream, false, out)
                }
                None => self.response_head(stream, &list, ctx, end_stream, out),
            },
            Err(e) => {
                out.stats.header_blocks_lost += 1;
                // The stream is still followed, its head unknown.
                if let Some(s) = self.stream(stream, out) {
                    s.tx.notes.push(format!("{} header block: {e}", side(dir)));
                }
            }
        }
    }

    /// The stream `id`, started when new (None when too many are open).
    fn stream(&mut self, id: u32, out: &mut H2Out<'_>) -> Option<&mut H2Stream> {
        if let Some(i) = self.streams.iter().position(|s| s.id == id) {
            return self.streams.get_mut(i);
        }
        if self.streams.len() >= self.caps.streams {
            out.stats.streams_cut += 1;
            return None;
        }
        self.next_index = self.next_index.saturating_add(1);
        self.streams.push(H2Stream {
            id,
            tx: HttpTransaction {
                conn: out.conn,
                index: self.next_index,
                version: Some("HTTP/2".to_string()),
                stream: Some(id),
                ..HttpTransaction::default()
            },
            responded: false,
        });
        self.streams.last_mut()
    }

    fn request_head(
        &mut self,
        id: u32,
        list: &HeaderList,
        ctx: SegmentCtx,
        end_stream: bool,
        pushed: bool,
        out: &mut H2Out<'_>,
    ) {
        self.requests += 1;
        let list_cap = self.caps.header_list;
        let Some(s) = self.stream(id, out) else {
            return;
        };
        let t = &mut s.tx;
        t.request_frame = Some(ctx.frame);
        t.request_ts = Some(ctx.ts);
        t.method = list.get(":method").map(str::to_string);
        t.uri = list.get(":path").map(str::to_string);
        t.host = list
            .get(":authority")
            .or_else(|| list.get("host"))
            .map(str::to_string);
        if end_stream {
            t.request_body_bytes.get_or_insert(0);
            t.request_end_ts = Some(ctx.ts);
        }
        if pushed {
            t.notes
                .push("server push: the server promised this request itself".to_string());
        }
        if list.cut > 0 {
            t.notes.push(format!(
                "{} request header fields over the {}-byte header list cap not kept",
                list.cut, list_cap
            ));
        }
    }

    fn response_head(
        &mut self,
        id: u32,
        list: &HeaderList,
        ctx: SegmentCtx,
        end_stream: bool,
        out: &mut H2Out<'_>,
    ) {
        let status = list.get(":status").and_then(|s| s.parse::<u16>().ok());
        let Some(s) = self.stream(id, out) else {
            return;
        };
        match status {
            // Trailers (no :status) after the head, or an interim 1xx head.
            None if s.responded => {}
            Some(st) if (100..200).contains(&st) => {
                s.tx.notes.push(format!("interim response {st}"));
            }
            _ => {
                let t = &mut s.tx;
                t.status = status;
                t.response_frame = Some(ctx.frame);
                t.response_ts = Some(ctx.ts);
                t.response_version = Some("HTTP/2".to_string());
                t.latency_ms = latency_ms(t.request_ts, t.response_ts);
                t.handshake_rtt_ns = ctx.handshake_rtt_ns;
                s.responded = true;
                self.responses += 1;
            }
        }
        if end_stream {
            if let Some(s) = self.streams.iter_mut().find(|s| s.id == id) {
                s.tx.response_end_ts = Some(ctx.ts);
            }
            self.stream_done(id, out);
        }
    }

    fn data(
        &mut self,
        dir: Direction,
        id: u32,
        len: u64,
        end_stream: bool,
        start: SegmentCtx,
        out: &mut H2Out<'_>,
    ) {
        let Some(s) = self.streams.iter_mut().find(|s| s.id == id) else {
            return;
        };
        let body = match dir {
            Direction::ToServer => &mut s.tx.request_body_bytes,
            Direction::ToClient => &mut s.tx.response_body_bytes,
        };
        *body = Some(body.unwrap_or(0) + len);
        if end_stream {
            match dir {
                Direction::ToServer => s.tx.request_end_ts = Some(start.ts),
                Direction::ToClient => {
                    s.tx.response_end_ts = Some(start.ts);
                    self.stream_done(id, out)
                }
            }
        }
    }

    /// The response of stream `id` ended: its record is complete.
    fn stream_done(&mut self, id: u32, out: &mut H2Out<'_>) {
        if let Some(i) = self.streams.iter().position(|s| s.id == id) {
            let mut s = self.streams.swap_remove(i);
            s.tx.response_body_bytes.get_or_insert(0);
            self.emit(s, out);
        }
    }

    fn emit(&mut self, s: H2Stream, out: &mut H2Out<'_>) {
        out.events.push(AppEvent::Http(s.tx));
    }

    /// Bytes of `dir` were lost: its frame boundaries and HPACK table with them; the
    /// direction is given up (its streams are reported at the end).
    pub fn on_gap(&mut self, dir: Direction) {
        let d = &mut self.dirs[dir.index()];
        d.stopped = true;
        d.hpack.lose();
        d.payload = Vec::new();
        d.block = Vec::new();
        for s in &mut self.streams {
            s.tx.notes.push(format!(
                "{} bytes lost: the stream's end is unknown",
                side(dir)
            ));
        }
    }

    /// The connection ended: streams still open are reported as they are.
    pub fn close(&mut self, out: &mut H2Out<'_>) {
        let mut open = std::mem::take(&mut self.streams);
        open.sort_by_key(|s| s.id);
        for mut s in open {
            let note = match self.goaway {
                Some((by_client, code, last)) if s.id > last => format!(
                    "not processed: GOAWAY from the {} ({}) named stream {last} the last",
                    if by_client { "client" } else { "server" },
                    error_name(code)
                ),
                _ if s.responded => "connection ended before the response did".to_string(),
                _ => "no response: the connection ended first".to_string(),
            };
            s.tx.notes.push(note);
            self.emit(s, out);
        }
    }
}

/// Records a whole frame of the followed connection: header, fields, DATA bytes.
/// `payload` holds a kept frame's payload, or a DATA frame's first bytes.
fn watch_frame(
    w: &FollowWatch,
    dir: Direction,
    h: &FrameHeader,
    payload: &[u8],
    pad: Option<u8>,
    frame_no: u64,
) {
    let mut item = FrameItem {
        proto: FrameProto::Http2,
        frame: frame_no,
        dir,
        kind: u64::from(h.kind),
        name: frame::frame_name(h.kind),
        flags: h.flags,
        stream: u64::from(h.stream),
        len: u64::from(h.len),
        fields: super::http2_fields::frame_fields(h, payload),
        headers: None,
        data: Vec::new(),
        data_cut: 0,
    };
    if h.kind == frame::DATA {
        // Padding: the length byte first, that many bytes last.
        let (front, back) = pad.map_or((0, 0), |p| (1, usize::from(p)));
        let body_len = (h.len as usize).saturating_sub(front + back);
        let kept = payload
            .get(front..)
            .unwrap_or_default()
            .iter()
            .take(body_len.min(MAX_DATA));
        item.data = kept.copied().collect();
        item.data_cut = (body_len - item.data.len()) as u64;
    }
    w.push(FollowItem::Frame(item));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;

    fn ctx(frame: u64) -> SegmentCtx {
        SegmentCtx {
            frame,
            ts: Timestamp {
                secs: 0,
                nanos: frame as u32 * 1_000_000,
                precision: 6,
            },
            handshake_rtt_ns: None,
            ports: None,
        }
    }

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        f.extend_from_slice(&[kind, flags]);
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// Two interleaved streams (RFC 7541 C.3 request blocks; static-table responses 200
    /// and 404), the second request's HEADERS split by a CONTINUATION and by segments,
    /// a padded DATA frame, a RST_STREAM and one stream open at the end.
    #[test]
    fn interleaved_streams_become_one_record_each() {
        let mut c = Http2Conn::new();
        let mut events = Vec::new();
        let mut stats = Http2Stats::default();
        let mut out = H2Out {
            conn: 7,
            events: &mut events,
            stats: &mut stats,
            frames: FrameNames::NONE,
        };
        let up = Direction::ToServer;
        let down = Direction::ToClient;
        let mut client = PREFACE.to_vec();
        client.extend(frame(frame::SETTINGS, 0, 0, &[]));
        // Stream 1: C.3.1 (GET http://www.example.com/), END_STREAM|END_HEADERS.
        let req1: &[u8] = &[
            0x82, 0x86, 0x84, 0x41, 0x0f, b'w', b'w', b'w', b'.', b'e', b'x', b'a', b'm', b'p',
            b'l', b'e', b'.', b'c', b'o', b'm',
        ];
        client.extend(frame(frame::HEADERS, 0x5, 1, req1));
        // Stream 3: C.3.2 in two fragments.
        let req2: &[u8] = &[0x82, 0x86, 0x84, 0xbe, 0x58, 0x08];
        client.extend(frame(frame::HEADERS, 0x1, 3, req2));
        client.extend(frame(frame::CONTINUATION, 0x4, 3, b"no-cache"));
        // Stream 5: POST-like (method GET, index 2) with a body, reset by the client.
        client.extend(frame(frame::HEADERS, 0x4, 5, &[0x82, 0x86, 0x84, 0xbe]));
        client.extend(frame(frame::DATA, 0x0, 5, b"abc"));
        // Split at an awkward place: inside the first frame header after the preface.
        let (a, b) = client.split_at(30);
        assert!(c.on_data(up, a, ctx(1), &mut out));
        assert!(c.on_data(up, b, ctx(2), &mut out));
        // Server: 404 for stream 3 first (index 13), then 200 for 1 (index 8) with a padded
        // body of 5 bytes (pad length 2).
        let mut server = frame(frame::SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100]);
        server.extend(frame(frame::HEADERS, 0x4, 3, &[0x8d]));
        server.extend(frame(frame::DATA, 0x1, 3, b"nope"));
        server.extend(frame(frame::HEADERS, 0x4, 1, &[0x88]));
        server.extend(frame(
            frame::DATA,
            0x9,
            1,
            &[2, b'h', b'e', b'l', b'l', b'o', 0, 0],
        ));
        assert!(c.on_data(down, &server, ctx(3), &mut out));
        c.on_data(
            up,
            &frame(frame::RST_STREAM, 0, 5, &[0, 0, 0, 8]),
            ctx(4),
            &mut out,
        );
        c.on_data(
            up,
            &frame(frame::HEADERS, 0x5, 7, &[0x82, 0x86, 0x84, 0xbe]),
            ctx(5),
            &mut out,
        );
        c.close(&mut out);
        let tx: Vec<&HttpTransaction> = events
            .iter()
            .map(|e| match e {
                AppEvent::Http(t) => t,
                _ => unreachable!(),
            })
            .collect();
        let brief: Vec<_> = tx
            .iter()
            .map(|t| {
                (
                    t.stream.unwrap(),
                    t.index,
                    t.method.as_deref(),
                    t.uri.as_deref(),
                    t.status,
                    t.request_frame,
                    t.response_frame,
                    t.request_body_bytes,
                    t.response_body_bytes,
                )
            })
            .collect();
        assert_eq!(
            brief,
            [
                (
                    3,
                    2,
                    Some("GET"),
                    Some("/"),
                    Some(404),
                    Some(2),
                    Some(3),
                    Some(0),
                    Some(4)
                ),
                (
                    1,
                    1,
                    Some("GET"),
                    Some("/"),
                    Some(200),
                    Some(2),
                    Some(3),
                    Some(0),
                    Some(5)
                ),
                (
                    5,
                    3,
                    Some("GET"),
                    Some("/"),
                    None,
                    Some(2),
                    None,
                    Some(3),
                    None
                ),
                (
                    7,
                    4,
                    Some("GET"),
                    Some("/"),
                    None,
                    Some(5),
                    None,
                    Some(0),
                    None
                ),
            ]
        );
        assert_eq!(tx[0].host.as_deref(), Some("www.example.com"));
        assert_eq!(tx[0].version.as_deref(), Some("HTTP/2"));
        assert_eq!(tx[1].latency_ms, Some(1.0));
        assert_eq!(tx[2].notes, ["stream reset by the client (CANCEL)"]);
        assert_eq!(tx[3].notes, ["no response: the connection ended first"]);
        assert_eq!(stats, Http2Stats::default());
    }

    /// Cleartext h2c by prior knowledge through the app stage: the preface makes the TCP
    /// connection HTTP/2, the frames carrying bytes are `http2`, one record per stream.
    #[test]
    fn h2c_by_prior_knowledge_through_the_app_stage() {
        use crate::app::{AppCollector, AppConfig};
        use crate::decode::LayerName;
        let mut t = AppCollector::new(AppConfig::default());
        let mut up = PREFACE.to_vec();
        up.extend(frame(frame::HEADERS, 0x5, 1, &[0x82, 0x86, 0x84]));
        let layers = t.feed_segment(4, Direction::ToServer, &up, ctx(1));
        assert_eq!(layers.app_of(1), Some(LayerName::Http2));
        let mut down = frame(frame::HEADERS, 0x4, 1, &[0x88]);
        down.extend(frame(frame::DATA, 0x1, 1, b"hi"));
        t.on_data(4, Direction::ToClient, &down, ctx(2));
        let events: Vec<_> = t.drain_events().collect();
        let [AppEvent::Http(tx)] = &events[..] else {
            panic!("{events:?}")
        };
        assert_eq!(
            (
                tx.stream,
                tx.method.as_deref(),
                tx.uri.as_deref(),
                tx.status
            ),
            (Some(1), Some("GET"), Some("/"), Some(200))
        );
        assert_eq!(tx.response_body_bytes, Some(2));
        assert!(!tx.decrypted);
        t.on_close(4);
        assert_eq!(t.take_conn_stats(4).http_requests, 1);
    }

    #[test]
    fn no_preface_is_not_http2_and_caps_are_counted() {
        let mut c = Http2Conn::new();
        let mut events = Vec::new();
        let mut stats = Http2Stats::default();
        let mut out = H2Out {
            conn: 0,
            events: &mut events,
            stats: &mut stats,
            frames: FrameNames::NONE,
        };
        assert!(!c.on_data(Direction::ToServer, b"GET / HTTP/1.1\r\n", ctx(1), &mut out));
        // A server HEADERS frame over the frame cap: skipped, the table lost.
        let mut c = Http2Conn::new();
        let mut big = ((MAX_FRAME + 1) as u32).to_be_bytes()[1..].to_vec();
        big.extend_from_slice(&[frame::HEADERS, 4, 0, 0, 0, 1]);
        big.resize(9 + MAX_FRAME + 1, 0);
        big.extend(frame(frame::HEADERS, 4, 3, &[0x88]));
        c.on_data(Direction::ToClient, &big, ctx(2), &mut out);
        assert_eq!(out.stats.frames_cut, 1);
        assert_eq!(out.stats.header_blocks_lost, 1);
        // More streams than the cap.
        let mut c = Http2Conn::new();
        let mut up = PREFACE.to_vec();
        for i in 0..MAX_STREAMS as u32 + 3 {
            up.extend(frame(frame::HEADERS, 4, 2 * i + 1, &[0x82]));
        }
        c.on_data(Direction::ToServer, &up, ctx(3), &mut out);
        assert_eq!(out.stats.streams_cut, 3);
    }
}
