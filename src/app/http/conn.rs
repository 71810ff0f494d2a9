//! One HTTP/1.x connection's state machine: each direction between messages, in a head,
//! in a body (framed by Content-Length, chunked coding or the close) or resynchronising
//! after a gap; requests and responses paired in order (pipelining), transactions handed
//! out through [`Out`].

use super::framing::{run_chunked, BodyTrack, Chunk, Framing};
use super::parse::{
    classify_start, first_line, http_version, next_head_start, parse_head, push_decimal, FirstLine,
    Parsed, ReqHead, RespHead, Start, MAX_HEADERS,
};
use super::HttpStats;
use crate::app::{AppConfig, AppEvent, HttpTransaction};
use crate::capture::Timestamp;
use crate::flow::{ConnId, SegmentCtx};
use std::collections::VecDeque;

/// Most requests waiting for their response on one connection (pipelining).
pub(crate) const MAX_PIPELINE: usize = 64;
/// Bytes scanned for a request or status line after a resync before giving up.
pub(crate) const RESYNC_SCAN_LIMIT: u64 = 1 << 20;
/// Largest head buffer a reset connection state keeps for the next connection.
const MAX_SPARE_BUF: usize = 4 << 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between messages: the next non-CRLF byte starts a head.
    Idle,
    Head,
    Body(Framing),
    /// Scanning for the start of a request or status line.
    Resync,
    /// Not HTTP, or a tunnel: nothing more is parsed in this direction.
    Stop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

#[derive(Debug)]
struct HttpDir {
    state: State,
    side: Option<Side>,
    /// Incomplete head bytes (at most `max_http_head`).
    buf: Vec<u8>,
    /// Where the head being read started.
    head_start: Option<SegmentCtx>,
    body: BodyTrack,
    /// A head was recognised in this direction.
    seen_http: bool,
    /// Looking for a head after a resync: a failed candidate goes back to scanning quietly.
    resyncing: bool,
    /// The next byte starts a line (resync candidates).
    at_line_start: bool,
    scanned: u64,
    /// When this direction's latest bytes were captured (a message's last byte, when it
    /// ends).
    last_ts: Timestamp,
    /// The sender closed this direction (`on_fin`): no more bytes are parsed in it.
    fin: bool,
}

impl HttpDir {
    fn new() -> HttpDir {
        HttpDir {
            state: State::Idle,
            side: None,
            buf: Vec::new(),
            head_start: None,
            body: BodyTrack::default(),
            seen_http: false,
            resyncing: false,
            at_line_start: true,
            scanned: 0,
            last_ts: Timestamp::default(),
            fin: false,
        }
    }

    /// Makes this direction what [`HttpDir::new`] makes, keeping the room of its head
    /// buffer.
    fn reset(&mut self) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        *self = HttpDir::new();
        self.buf = buf;
    }
}

/// Where the parser writes what it completes.
pub(crate) struct Out<'a> {
    pub conn: ConnId,
    pub config: &'a AppConfig,
    pub events: &'a mut Vec<AppEvent>,
    pub stats: &'a mut HttpStats,
}

/// Drops the text of `tx` (`AppConfig::http_details` off): what was still made on rare
/// paths goes too, so such events never carry half of their text.
pub(crate) fn strip_details(tx: &mut HttpTransaction) {
    tx.uri = None;
    tx.version = None;
    tx.host = None;
    tx.reason = None;
    tx.response_version = None;
    tx.notes = Vec::new();
}

impl Out<'_> {
    /// Queues a completed transaction.
    #[inline]
    fn http(&mut self, mut tx: HttpTransaction) {
        if !self.config.http_details {
            strip_details(&mut tx);
        }
        self.events.push(AppEvent::Http(tx));
    }

    /// Queues the completed transaction in `slot`, if any, leaving the slot empty.
    #[inline]
    fn http_from(&mut self, slot: &mut Option<HttpTransaction>) {
        if let Some(tx) = slot.as_mut() {
            if !self.config.http_details {
                strip_details(tx);
            }
        }
        if slot.is_some() {
            self.events.extend(slot.take().map(AppEvent::Http));
        }
    }
}

/// Requests waiting for their response, oldest first, and the transaction whose
/// response body is being read (`current`): two slots in place (most connections never
/// have more than one request waiting, and then need no allocation), the other waiting
/// requests in a queue. A response head makes the oldest waiting request current by
/// swapping the slots' roles: no copy of it.
#[derive(Debug, Default)]
struct Pending {
    slots: [Option<HttpTransaction>; 2],
    /// Which of `slots` holds the oldest waiting request (0 or 1); the other is
    /// `current`.
    at: usize,
    /// Empty while the oldest waiting slot is.
    rest: VecDeque<HttpTransaction>,
}

impl Pending {
    /// The slot of the oldest waiting request.
    fn first(&self) -> &Option<HttpTransaction> {
        &self.slots[self.at & 1]
    }

    fn first_mut(&mut self) -> &mut Option<HttpTransaction> {
        &mut self.slots[self.at & 1]
    }

    /// The slot of the transaction whose response body is being read.
    fn current(&mut self) -> &mut Option<HttpTransaction> {
        &mut self.slots[(self.at ^ 1) & 1]
    }

    fn len(&self) -> usize {
        usize::from(self.first().is_some()) + self.rest.len()
    }

    fn is_empty(&self) -> bool {
        self.first().is_none()
    }

    fn front(&self) -> Option<&HttpTransaction> {
        self.first().as_ref()
    }

    fn front_mut(&mut self) -> Option<&mut HttpTransaction> {
        self.first_mut().as_mut()
    }

    fn pop_front(&mut self) -> Option<HttpTransaction> {
        // (No copy of the empty slot.)
        self.first().as_ref()?;
        let first = self.first_mut().take();
        if !self.rest.is_empty() {
            *self.first_mut() = self.rest.pop_front();
        }
        first
    }

    /// Makes the oldest waiting request the current transaction (whose slot must be
    /// empty); false when none waits (or the current slot is taken).
    fn promote_front(&mut self) -> bool {
        if self.first().is_none() || self.current().is_some() {
            return false;
        }
        self.at ^= 1;
        if !self.rest.is_empty() {
            *self.first_mut() = self.rest.pop_front();
        }
        true
    }

    /// Queues `tx`; the queued transaction (None only if the queue lost it, which it
    /// does not).
    fn push_back(&mut self, tx: HttpTransaction) -> Option<&mut HttpTransaction> {
        self.push_back_with(|| tx)
    }

    /// [`Pending::push_back`] of what `make` makes, made in its slot when that is free.
    #[inline]
    fn push_back_with(
        &mut self,
        make: impl FnOnce() -> HttpTransaction,
    ) -> Option<&mut HttpTransaction> {
        if self.first().is_none() {
            return Some(self.first_mut().get_or_insert_with(make));
        }
        let tx = make();
        if self.rest.capacity() == 0 {
            // Pipelined: room for one more (not the four a first push would make), grown
            // only when more wait.
            self.rest.reserve_exact(1);
        }
        self.rest.push_back(tx);
        self.rest.back_mut()
    }

    /// The waiting request with index `index`.
    fn find_mut(&mut self, index: u32) -> Option<&mut HttpTransaction> {
        let first = &mut self.slots[self.at & 1];
        first
            .iter_mut()
            .chain(self.rest.iter_mut())
            .find(|t| t.index == index)
    }
}

/// HTTP state of one connection.
#[derive(Debug)]
pub(crate) struct HttpConn {
    dirs: [HttpDir; 2],
    /// Requests waiting for their response, oldest first (at most `MAX_PIPELINE`), and
    /// the transaction whose response body is being read.
    pending: Pending,
    next_index: u32,
    pub requests: u64,
    pub responses: u64,
    /// The first request's Host (empty when none, or details are off).
    pub host: crate::app::ServiceName,
    /// A 101 response switched the connection to HTTP/2 (`Upgrade: h2c`, RFC 7540 §3.2):
    /// the upgrade request, which continues as HTTP/2 stream 1 (taken by the caller).
    pub h2c_upgrade: Option<Box<HttpTransaction>>,
}

pub(crate) fn latency_ms(from: Option<Timestamp>, to: Option<Timestamp>) -> Option<f64> {
    match (from, to) {
        // The same f64 either way (both conversions round the exact integer); the i64 one
        // is cheaper than the i128 one.
        (Some(a), Some(b)) => Some(match b.nanos_since_i64(&a) {
            Some(n) => n as f64 / 1e6,
            None => b.nanos_since(&a) as f64 / 1e6,
        }),
        _ => None,
    }
}

fn side_name(side: Option<Side>) -> &'static str {
    match side {
        Some(Side::Response) => "response",
        _ => "request",
    }
}

impl HttpConn {
    pub(crate) fn new() -> HttpConn {
        HttpConn {
            dirs: [HttpDir::new(), HttpDir::new()],
            pending: Pending::default(),
            next_index: 1,
            requests: 0,
            responses: 0,
            host: crate::app::ServiceName::default(),
            h2c_upgrade: None,
        }
    }

    /// Makes this state what [`HttpConn::new`] makes, for another connection; with
    /// `keep_room`, keeping the room of small buffers (a head buffer up to `MAX_SPARE_BUF`
    /// bytes, a queue of one).
    pub(crate) fn reset(&mut self, keep_room: bool) {
        self.release_room(keep_room);
        // Field by field: the transaction slots are written only when they hold one.
        for dir in &mut self.dirs {
            dir.reset();
        }
        for slot in &mut self.pending.slots {
            if slot.is_some() {
                *slot = None;
            }
        }
        self.pending.at = 0;
        self.pending.rest.clear();
        self.next_index = 1;
        self.requests = 0;
        self.responses = 0;
        self.host = crate::app::ServiceName::default();
        self.h2c_upgrade = None;
    }

    /// The transaction whose response body was being read (no copy of an empty slot).
    fn take_current(&mut self) -> Option<HttpTransaction> {
        self.pending.current().as_ref()?;
        self.pending.current().take()
    }

    /// Frees the buffers a reset state does not keep: all of them without `keep_room`,
    /// else a head buffer over `MAX_SPARE_BUF` bytes and a queue over one.
    pub(crate) fn release_room(&mut self, keep_room: bool) {
        for dir in &mut self.dirs {
            if !keep_room || dir.buf.capacity() > MAX_SPARE_BUF {
                dir.buf = Vec::new();
            }
        }
        if self.pending.rest.capacity() > usize::from(keep_room) {
            self.pending.rest = VecDeque::new();
        }
    }

    /// Feeds in-order bytes of direction `d`; true when some of them were HTTP.
    #[inline]
    pub(crate) fn on_data(
        &mut self,
        d: usize,
        data: &[u8],
        ctx: SegmentCtx,
        out: &mut Out<'_>,
    ) -> bool {
        // The common case in few instructions, in the caller: a segment inside a body
        // whose end is further on (what `parse_data` does for it, without its dispatch).
        if let Some(dir) = self.dirs.get_mut(d) {
            dir.last_ts = ctx.ts;
            let n = data.len() as u64;
            match dir.state {
                State::Body(Framing::Length(rem)) if n > 0 && n < rem => {
                    dir.body.bytes += n;
                    dir.state = State::Body(Framing::Length(rem - n));
                    return true;
                }
                State::Body(Framing::Close) if n > 0 => {
                    dir.body.bytes += n;
                    return true;
                }
                _ => {}
            }
        }
        self.parse_data(d, data, ctx, out)
    }

    /// [`HttpConn::on_data`] past its short path: heads, a body's end, resyncs.
    #[inline(never)]
    fn parse_data(
        &mut self,
        d: usize,
        mut data: &[u8],
        ctx: SegmentCtx,
        out: &mut Out<'_>,
    ) -> bool {
        let mut carried = false;
        while !data.is_empty() {
            let n = match self.dirs[d].state {
                State::Stop => break,
                State::Idle => {
                    let skip = data
                        .iter()
                        .take_while(|b| **b == b'\r' || **b == b'\n')
                        .count();
                    if skip < data.len() {
                        let dir = &mut self.dirs[d];
                        dir.state = State::Head;
                        dir.head_start = Some(ctx);
                        dir.buf.clear();
                    }
                    skip
                }
                State::Head => {
                    let n = self.read_head(d, data, out);
                    carried |= self.dirs[d].seen_http && n > 0;
                    n
                }
                State::Body(framing) => {
                    carried = true;
                    self.read_body(d, framing, data, out)
                }
                State::Resync => self.scan(d, data, ctx, out),
            };
            data = data.get(n..).unwrap_or(&[]);
        }
        carried
    }

    // Out of line: the loop in `on_data` stays small (fewer spills per segment).
    #[inline(never)]
    fn read_head(&mut self, d: usize, data: &[u8], out: &mut Out<'_>) -> usize {
        let max = out.config.max_http_head.max(16);
        let details = out.config.http_details;
        let dir = &mut self.dirs[d];
        let old = dir.buf.len();
        let parsed = if old == 0 {
            parse_head(&data[..data.len().min(max)], details)
        } else {
            let take = max.saturating_sub(old).min(data.len());
            dir.buf.extend_from_slice(&data[..take]);
            parse_head(&dir.buf, details)
        };
        let have = old + data.len();
        match parsed {
            Parsed::NeedMore | Parsed::TooManyHeaders => {
                let too_many = matches!(parsed, Parsed::TooManyHeaders);
                if have >= max || too_many {
                    if !dir.seen_http {
                        let seen = if old == 0 { data } else { &dir.buf[..] };
                        dir.side = match classify_start(seen) {
                            Start::Request => Some(Side::Request),
                            Start::Response => Some(Side::Response),
                            _ => None,
                        };
                        if dir.side.is_none() {
                            // Not even a whole request line within the limit: not HTTP.
                            dir.state = State::Stop;
                            dir.buf = Vec::new();
                            return data.len();
                        }
                        dir.seen_http = true;
                    }
                    out.stats.heads_too_large += 1;
                    let msg = if too_many {
                        format!(
                            "{} head with more than {MAX_HEADERS} header fields: parser gave up until the next head",
                            side_name(dir.side)
                        )
                    } else {
                        format!(
                            "{} head larger than {max} bytes: parser gave up until the next head",
                            side_name(dir.side)
                        )
                    };
                    self.cut_head(d, msg, out);
                    self.start_resync(d, false, out);
                    if too_many {
                        // The head's end is unknown: scan from the line after the first.
                        return match (old, data.iter().position(|b| *b == b'\n')) {
                            (0, Some(lf)) => lf + 1,
                            _ => 0,
                        };
                    }
                    // Bytes past the limit are scanned for the next head.
                    return max.saturating_sub(old).min(data.len());
                } else if old == 0 {
                    dir.buf.extend_from_slice(data);
                }
                data.len()
            }
            Parsed::NotHttp | Parsed::Error(_) if dir.resyncing => {
                dir.buf.clear();
                dir.head_start = None;
                dir.state = State::Resync;
                dir.at_line_start = false;
                0
            }
            Parsed::NotHttp | Parsed::Error(_) if !dir.seen_http => {
                // Bytes before this direction's first head (a capture that starts inside a
                // message, a stray byte): never the end of the messages after them. Look
                // for a request or status line further on, as after a gap, up to
                // `RESYNC_SCAN_LIMIT` bytes; without one the direction is not HTTP.
                let seen: &[u8] = if old == 0 {
                    &data[..data.len().min(max)]
                } else {
                    &dir.buf
                };
                let found = next_head_start(seen);
                let skipped = found.unwrap_or(seen.len());
                let seen_len = seen.len();
                dir.scanned += skipped as u64;
                out.stats.junk_before_head += skipped as u64;
                if dir.scanned > RESYNC_SCAN_LIMIT {
                    dir.state = State::Stop;
                    dir.buf = Vec::new();
                    return data.len();
                }
                match found {
                    // The head starts in bytes buffered before: keep them from there and
                    // read `data` again after them (the head still starts in the segment
                    // that carried the first of them, as `head_start` says).
                    Some(p) if p < old => {
                        dir.buf.truncate(old);
                        dir.buf.drain(..p);
                        0
                    }
                    Some(p) => {
                        dir.buf.clear();
                        dir.head_start = None;
                        dir.state = State::Idle;
                        p - old
                    }
                    None => {
                        dir.buf.clear();
                        dir.head_start = None;
                        dir.state = State::Idle;
                        seen_len.saturating_sub(old)
                    }
                }
            }
            Parsed::NotHttp | Parsed::Error(_) => {
                out.stats.framing_errors += 1;
                let why = match parsed {
                    Parsed::Error(e) => e,
                    _ => "bytes where a head should start do not look like HTTP".to_string(),
                };
                self.cut_head(d, format!("framing error: {why}"), out);
                self.start_resync(d, false, out);
                0
            }
            Parsed::Request(head, n) => {
                let start = dir.head_start.take();
                dir.buf.clear();
                self.on_request_head(d, head, start, out);
                n.saturating_sub(old).min(data.len())
            }
            Parsed::Response(head, n) => {
                let start = dir.head_start.take();
                dir.buf.clear();
                self.on_response_head(d, head, start, out);
                n.saturating_sub(old).min(data.len())
            }
        }
    }

    /// A head cut by `why` (a gap, the close) before its end, as in a capture with a
    /// small snap length: when its first line is there (a request line up to at least the
    /// URI, or a whole status line), record what it says, as tshark does. False when the
    /// bytes read do not say enough.
    fn salvage_head(&mut self, d: usize, why: &str, out: &mut Out<'_>) -> bool {
        let dir = &mut self.dirs[d];
        let Some(start) = dir.head_start else {
            return false;
        };
        let Some(first) = first_line(&dir.buf) else {
            return false;
        };
        let read = dir.buf.len();
        dir.head_start = None;
        dir.buf.clear();
        dir.seen_http = true;
        dir.resyncing = false;
        match first {
            FirstLine::Request {
                method,
                uri,
                version,
            } => {
                dir.side = Some(Side::Request);
                self.requests += 1;
                let mut tx = self.orphan(out.conn);
                tx.request_frame = Some(start.frame);
                tx.request_ts = Some(start.ts);
                tx.method = Some(method);
                tx.uri = Some(uri);
                tx.version = version;
                tx.notes.push(format!(
                    "request head cut by {why} after {read} bytes: kept what its first line says"
                ));
                self.push_pending(tx, out);
            }
            FirstLine::Response {
                minor,
                status,
                reason,
            } => {
                dir.side = Some(Side::Response);
                self.responses += 1;
                if let Some(prev) = self.take_current() {
                    out.http(prev);
                }
                let mut tx = match self.pending.pop_front() {
                    Some(tx) => tx,
                    None => {
                        let mut tx = self.orphan(out.conn);
                        tx.notes.push(
                            "response without a request seen (request lost or before the capture)"
                                .to_string(),
                        );
                        tx
                    }
                };
                tx.status = Some(status);
                tx.reason = Some(reason);
                tx.response_version = Some(http_version(minor));
                tx.response_frame = Some(start.frame);
                tx.response_ts = Some(start.ts);
                tx.latency_ms = latency_ms(tx.request_ts, tx.response_ts);
                tx.notes.push(format!(
                    "response head cut by {why} after {read} bytes: kept what its first line says"
                ));
                out.http(tx);
            }
        }
        true
    }

    /// A head that was being read is lost: say so on the transaction it belonged to.
    fn cut_head(&mut self, d: usize, note: String, out: &mut Out<'_>) {
        let dir = &mut self.dirs[d];
        let Some(start) = dir.head_start.take() else {
            return;
        };
        dir.buf.clear();
        if !dir.seen_http {
            return;
        }
        match dir.side {
            Some(Side::Response) => {
                let mut tx = match self.pending.pop_front() {
                    Some(tx) => tx,
                    None => self.orphan(out.conn),
                };
                tx.response_frame = Some(start.frame);
                tx.response_ts = Some(start.ts);
                tx.latency_ms = latency_ms(tx.request_ts, tx.response_ts);
                tx.notes.push(note);
                out.http(tx);
            }
            _ => {
                let mut tx = self.orphan(out.conn);
                tx.request_frame = Some(start.frame);
                tx.request_ts = Some(start.ts);
                tx.notes.push(note);
                self.push_pending(tx, out);
            }
        }
    }

    /// A gap swallowed the start of the next message of direction `d`: keep requests and
    /// responses paired by standing in for it.
    fn lost_message(&mut self, d: usize, len: u64, out: &mut Out<'_>) {
        if !self.dirs[d].seen_http {
            return;
        }
        match self.dirs[d].side {
            Some(Side::Response) => {
                if let Some(mut tx) = self.pending.pop_front() {
                    tx.notes
                        .push(format!("response lost in a gap of {len} bytes"));
                    out.http(tx);
                }
            }
            _ => {
                let mut tx = self.orphan(out.conn);
                tx.notes
                    .push(format!("request lost in a gap of {len} bytes"));
                self.push_pending(tx, out);
            }
        }
    }

    fn start_resync(&mut self, d: usize, at_line_start: bool, out: &mut Out<'_>) {
        out.stats.resyncs += 1;
        let dir = &mut self.dirs[d];
        dir.state = State::Resync;
        dir.buf.clear();
        dir.head_start = None;
        dir.resyncing = true;
        dir.at_line_start = at_line_start;
        dir.scanned = 0;
    }

    fn orphan(&mut self, conn: ConnId) -> HttpTransaction {
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        HttpTransaction {
            conn,
            index,
            ..HttpTransaction::default()
        }
    }

    fn push_pending(&mut self, tx: HttpTransaction, out: &mut Out<'_>) {
        self.make_room(out);
        self.pending.push_back(tx);
    }

    /// Room in the pipeline queue for one more request: when it is full, the oldest
    /// waiting request is emitted unanswered.
    fn make_room(&mut self, out: &mut Out<'_>) {
        if self.pending.len() >= MAX_PIPELINE {
            if let Some(mut old) = self.pending.pop_front() {
                out.stats.pipeline_overflow += 1;
                old.notes.push(format!(
                    "no response matched: more than {MAX_PIPELINE} requests waiting"
                ));
                out.http(old);
            }
        }
    }

    #[inline(never)]
    fn on_request_head(
        &mut self,
        d: usize,
        h: ReqHead,
        start: Option<SegmentCtx>,
        out: &mut Out<'_>,
    ) {
        self.requests += 1;
        let details = out.config.http_details;
        let pipelined = self.pending.front().filter(|_| details).map(|t| t.index);
        // The transaction is made in its place in the queue (no copy of it).
        self.make_room(out);
        let index = self.next_index;
        self.next_index = self.next_index.saturating_add(1);
        let conn = out.conn;
        let Some(tx) = self.pending.push_back_with(|| HttpTransaction {
            conn,
            index,
            request_frame: start.map(|s| s.frame),
            request_ts: start.map(|s| s.ts),
            ..HttpTransaction::default()
        }) else {
            return;
        };
        tx.notes.extend(h.lax.filter(|_| details));
        if details && h.minor == Some(0) {
            tx.notes.push(if h.keep_alive {
                "HTTP/1.0 with Connection: keep-alive: the connection may carry more requests"
                    .to_string()
            } else {
                "HTTP/1.0: one request per connection, server closes after the response".to_string()
            });
        }
        if details && index > 1 {
            // Every request after the first carries it: built without `core::fmt`.
            let version = h.version.as_deref().unwrap_or("HTTP");
            let mut note = String::with_capacity(version.len() + 64);
            note.push_str(version);
            note.push_str(" persistent connection: request ");
            push_decimal(&mut note, u64::from(index));
            note.push_str(" on this connection");
            tx.notes.push(note);
        }
        if let Some(first) = pipelined {
            tx.notes.push(format!(
                "pipelined: sent before the response to request {first}"
            ));
        }
        if details && h.expect_continue {
            tx.notes.push(
                "Expect: 100-continue: the client asks the server to accept the body first"
                    .to_string(),
            );
        }
        let connect = h.method.eq_ignore_ascii_case("CONNECT");
        tx.method = Some(h.method);
        tx.uri = h.uri;
        tx.version = h.version;
        if let (true, Some(host)) = (self.host.is_empty(), &h.host) {
            self.host = crate::app::ServiceName::new(host);
        }
        tx.host = h.host;
        let dir = &mut self.dirs[d];
        dir.seen_http = true;
        dir.resyncing = false;
        dir.side = Some(Side::Request);
        dir.body = BodyTrack {
            index,
            ..BodyTrack::default()
        };
        let mut resync = false;
        match h.framing {
            Ok(None) => {
                tx.request_body_bytes = Some(0);
                tx.request_end_ts = Some(dir.last_ts);
                dir.state = State::Idle;
            }
            Ok(Some(f)) => dir.state = State::Body(f),
            Err(e) => {
                out.stats.framing_errors += 1;
                tx.notes.push(format!("framing error: {e}"));
                resync = true;
            }
        }
        if connect {
            tx.notes.push(
                "CONNECT: bytes after this head belong to the tunnel, not parsed".to_string(),
            );
            dir.state = State::Stop;
        }
        if resync && !connect {
            self.start_resync(d, false, out);
        }
    }

    #[inline(never)]
    fn on_response_head(
        &mut self,
        d: usize,
        h: RespHead,
        start: Option<SegmentCtx>,
        out: &mut Out<'_>,
    ) {
        {
            let dir = &mut self.dirs[d];
            dir.seen_http = true;
            dir.resyncing = false;
            dir.side = Some(Side::Response);
            dir.state = State::Idle;
        }
        if (100..200).contains(&h.status) && h.status != 101 {
            // Its own record (as tshark counts it), sharing the index of the request it
            // answers; the final exchange notes it too.
            let mut interim = HttpTransaction {
                conn: out.conn,
                index: self.pending.front().map_or(self.next_index, |t| t.index),
                response_frame: start.map(|s| s.frame),
                response_ts: start.map(|s| s.ts),
                status: Some(h.status),
                reason: h.reason.clone(),
                response_version: Some(http_version(h.minor)),
                response_body_bytes: Some(0),
                ..HttpTransaction::default()
            };
            if let Some(tx) = self.pending.front_mut() {
                interim.request_frame = tx.request_frame;
                interim.latency_ms = latency_ms(tx.request_ts, interim.response_ts);
                tx.notes.push(format!(
                    "interim response {} {} in frame {}: the final response follows",
                    h.status,
                    h.reason.as_deref().unwrap_or(""),
                    start.map_or(0, |s| s.frame)
                ));
            }
            interim.notes.push(format!(
                "interim response {}: the final response to request {} follows",
                h.status, interim.index
            ));
            out.http(interim);
            return;
        }
        self.responses += 1;
        if self.pending.current().is_some() {
            out.http_from(self.pending.current());
        }
        // The transaction is completed in the current slot (no copy of it), and emitted
        // from there unless a body follows.
        if !self.pending.promote_front() {
            let orphan = self.orphan(out.conn);
            self.pending.current().insert(orphan).notes.push(
                "response without a request seen (request lost or before the capture)".to_string(),
            );
        }
        let Some(tx) = self.pending.current().as_mut() else {
            return;
        };
        let details = out.config.http_details;
        tx.status = Some(h.status);
        tx.reason = h.reason;
        tx.notes.extend(h.lax.filter(|_| details));
        tx.response_version = details.then(|| http_version(h.minor));
        tx.response_frame = start.map(|s| s.frame);
        tx.response_ts = start.map(|s| s.ts);
        tx.latency_ms = latency_ms(tx.request_ts, tx.response_ts);
        tx.handshake_rtt_ns = start.and_then(|s| s.handshake_rtt_ns);
        let method = tx.method.as_deref().unwrap_or("");
        let head = method.eq_ignore_ascii_case("HEAD");
        let connect = method.eq_ignore_ascii_case("CONNECT");
        if h.status == 101 && h.upgrade_h2c {
            tx.notes.push(
                "101 Switching Protocols (Upgrade: h2c): the connection continues as HTTP/2, \
                 this request as its stream 1 (RFC 7540 §3.2)"
                    .to_string(),
            );
            tx.response_body_bytes = Some(0);
            self.h2c_upgrade = Some(Box::new(tx.clone()));
            out.http_from(self.pending.current());
            for dir in &mut self.dirs {
                dir.state = State::Stop;
                dir.buf = Vec::new();
            }
            return;
        }
        if h.status == 101 || (connect && (200..300).contains(&h.status)) {
            tx.notes.push(if h.status == 101 {
                format!(
                    "101 Switching Protocols (Upgrade: {}): bytes after this head are not HTTP",
                    h.upgrade.as_deref().unwrap_or("?")
                )
            } else {
                "CONNECT accepted: the connection is now a tunnel, not parsed".to_string()
            });
            tx.response_body_bytes = Some(0);
            out.http_from(self.pending.current());
            for dir in &mut self.dirs {
                dir.state = State::Stop;
                dir.buf = Vec::new();
            }
            return;
        }
        let index = tx.index;
        let framing = if head || h.status == 204 || h.status == 304 {
            if head {
                if let Ok(Some(n)) = h.content_length {
                    tx.notes.push(format!(
                        "HEAD response: Content-Length {n} describes the resource, no body follows"
                    ));
                }
            }
            None
        } else if h.chunked {
            Some(Framing::Chunked(Chunk::start()))
        } else if h.other_te {
            tx.notes
                .push("body not chunked: it ends when the server closes".to_string());
            Some(Framing::Close)
        } else {
            match h.content_length {
                Ok(Some(0)) => None,
                Ok(Some(n)) => Some(Framing::Length(n)),
                Ok(None) => {
                    if details {
                        tx.notes.push(
                            "no Content-Length or chunked coding: the body ends when the server closes"
                                .to_string(),
                        );
                    }
                    Some(Framing::Close)
                }
                Err(e) => {
                    out.stats.framing_errors += 1;
                    tx.notes.push(format!("framing error: {e}"));
                    out.http_from(self.pending.current());
                    self.start_resync(d, false, out);
                    return;
                }
            }
        };
        match framing {
            None => {
                tx.response_body_bytes = Some(0);
                tx.response_end_ts = Some(self.dirs[d].last_ts);
                out.http_from(self.pending.current());
            }
            Some(f) => {
                let dir = &mut self.dirs[d];
                dir.state = State::Body(f);
                dir.body = BodyTrack {
                    index,
                    ..BodyTrack::default()
                };
            }
        }
    }

    #[inline(never)]
    fn read_body(&mut self, d: usize, framing: Framing, data: &[u8], out: &mut Out<'_>) -> usize {
        let dir = &mut self.dirs[d];
        match framing {
            Framing::Length(rem) => {
                let take = rem.min(data.len() as u64);
                dir.body.bytes += take;
                if take == rem {
                    self.finish_body(d, None, out);
                } else {
                    dir.state = State::Body(Framing::Length(rem - take));
                }
                take as usize
            }
            Framing::Close => {
                dir.body.bytes += data.len() as u64;
                data.len()
            }
            Framing::Chunked(mut st) => {
                let (n, result) = run_chunked(&mut st, data, &mut dir.body);
                dir.state = State::Body(Framing::Chunked(st));
                match result {
                    Ok(true) => self.finish_body(d, None, out),
                    Ok(false) => {}
                    Err(e) => {
                        out.stats.framing_errors += 1;
                        self.finish_body(d, Some(format!("chunked framing error: {e}")), out);
                        self.start_resync(d, false, out);
                    }
                }
                n
            }
        }
    }

    /// The body of direction `d` ended (or broke, with `error`): record it on its
    /// transaction and emit the transaction if this was the response.
    fn finish_body(&mut self, d: usize, error: Option<String>, out: &mut Out<'_>) {
        let dir = &mut self.dirs[d];
        dir.state = State::Idle;
        let body = dir.body;
        let side = dir.side;
        let last_ts = dir.last_ts;
        let details = out.config.http_details;
        let mut notes = Vec::new();
        if details && (body.chunks > 0 || body.trailers > 0) {
            let mut n = format!("chunked: {} chunks", body.chunks);
            if body.extensions {
                n.push_str(", extensions ignored");
            }
            if body.trailers > 0 {
                n.push_str(&format!(", {} trailer fields", body.trailers));
            }
            notes.push(n);
        }
        if details && body.gap > 0 {
            notes.push(format!(
                "{} body cut by a gap of {} bytes",
                side_name(side),
                body.gap
            ));
        }
        notes.extend(error.filter(|_| details));
        match side {
            Some(Side::Response) => {
                if let Some(tx) = self.pending.current().as_mut() {
                    tx.response_body_bytes = Some(body.bytes);
                    tx.response_end_ts = Some(last_ts);
                    if !notes.is_empty() {
                        tx.notes.append(&mut notes);
                    }
                    out.http_from(self.pending.current());
                }
            }
            _ => {
                if let Some(tx) = self.pending.find_mut(body.index) {
                    tx.request_body_bytes = Some(body.bytes);
                    tx.request_end_ts = Some(last_ts);
                    if !notes.is_empty() {
                        tx.notes.append(&mut notes);
                    }
                }
            }
        }
    }

    fn scan(&mut self, d: usize, data: &[u8], ctx: SegmentCtx, out: &mut Out<'_>) -> usize {
        let dir = &mut self.dirs[d];
        let mut candidate = if dir.at_line_start { Some(0) } else { None };
        let mut pos = 0;
        loop {
            if let Some(p) = candidate {
                match classify_start(&data[p..]) {
                    Start::Request | Start::Response => {
                        dir.state = State::Idle;
                        return p;
                    }
                    Start::NeedMore => {
                        dir.state = State::Head;
                        dir.head_start = Some(ctx);
                        dir.buf.clear();
                        dir.buf.extend_from_slice(&data[p..]);
                        return data.len();
                    }
                    Start::No => {}
                }
            }
            match data[pos..].iter().position(|b| *b == b'\n') {
                Some(i) if pos + i + 1 < data.len() => {
                    pos += i + 1;
                    candidate = Some(pos);
                }
                _ => break,
            }
        }
        dir.at_line_start = data.last() == Some(&b'\n');
        dir.scanned += data.len() as u64;
        if dir.scanned > RESYNC_SCAN_LIMIT {
            out.stats.resync_gave_up += 1;
            dir.state = State::Stop;
        }
        data.len()
    }

    /// `len` bytes of direction `d` are missing.
    pub(crate) fn on_gap(&mut self, d: usize, len: u64, out: &mut Out<'_>) {
        let dir = &mut self.dirs[d];
        let mut left = len;
        match dir.state {
            State::Stop => return,
            State::Body(Framing::Close) => {
                dir.body.bytes += len;
                dir.body.gap += len;
                return;
            }
            State::Body(Framing::Length(rem)) => {
                let take = rem.min(len);
                dir.body.bytes += take;
                dir.body.gap += take;
                if take < rem {
                    dir.state = State::Body(Framing::Length(rem - take));
                    return;
                }
                left -= take;
                self.finish_body(d, None, out);
                if left == 0 {
                    return;
                }
                self.lost_message(d, left, out);
            }
            State::Body(Framing::Chunked(Chunk::Data(rem))) if len <= rem => {
                dir.body.bytes += len;
                dir.body.gap += len;
                dir.state = State::Body(Framing::Chunked(if len == rem {
                    Chunk::DataEnd { cr: false }
                } else {
                    Chunk::Data(rem - len)
                }));
                return;
            }
            State::Body(Framing::Chunked(_)) => {
                let body = dir.body;
                let missing = match dir.state {
                    State::Body(Framing::Chunked(Chunk::Data(rem))) => rem,
                    _ => 0,
                };
                dir.body.bytes += missing;
                self.finish_body(
                    d,
                    Some(format!(
                        "{} body cut by a gap of {len} bytes inside chunked framing (after {} decoded bytes): rest of the message lost",
                        side_name(self.dirs[d].side),
                        body.bytes
                    )),
                    out,
                );
                self.start_resync(d, true, out);
                return;
            }
            State::Head => {
                let side = side_name(dir.side);
                if !self.salvage_head(d, &format!("a gap of {len} bytes"), out) {
                    self.cut_head(d, format!("{side} head cut by a gap of {len} bytes"), out);
                }
            }
            State::Idle => self.lost_message(d, len, out),
            State::Resync => {}
        }
        self.start_resync(d, true, out);
    }

    /// Direction `d` ended with a FIN.
    pub(crate) fn on_fin(&mut self, d: usize, out: &mut Out<'_>) {
        let dir = &mut self.dirs[d];
        match dir.state {
            State::Body(Framing::Close) => self.finish_body(d, None, out),
            State::Body(Framing::Length(rem)) => {
                let msg = format!(
                    "{} body incomplete: {rem} bytes missing when the sender closed",
                    side_name(dir.side)
                );
                self.finish_body(d, Some(msg), out);
            }
            State::Body(Framing::Chunked(_)) => {
                let msg = format!(
                    "{} body incomplete: chunked body not terminated when the sender closed",
                    side_name(dir.side)
                );
                self.finish_body(d, Some(msg), out);
            }
            State::Head => {
                let msg = format!(
                    "{} head incomplete ({} bytes) when the sender closed",
                    side_name(dir.side),
                    dir.buf.len()
                );
                if !self.salvage_head(d, "the close", out) && self.dirs[d].seen_http {
                    self.cut_head(d, msg, out);
                }
            }
            _ => {}
        }
        let dir = &mut self.dirs[d];
        dir.state = State::Stop;
        dir.fin = true;
        dir.buf = Vec::new();
        // A closed connection may linger in the flow table a while: give back the queue's
        // room once nothing waits in it.
        if self.pending.is_empty() {
            self.pending.rest = VecDeque::new();
        }
    }

    /// Both directions ended with a FIN and no transaction waits to be emitted: nothing
    /// can change this state any more (a stopped direction parses nothing, not even after
    /// a gap) and [`HttpConn::close`] would emit nothing, so the connection's counters are
    /// final and its state can be given back before the connection leaves the flow table.
    pub(crate) fn ended_quietly(&self) -> bool {
        self.dirs
            .iter()
            .all(|dir| dir.fin && dir.state == State::Stop)
            && self.pending.slots.iter().all(Option::is_none)
            && self.pending.rest.is_empty()
            && self.h2c_upgrade.is_none()
    }

    /// The connection ended: emit everything still open.
    pub(crate) fn close(&mut self, out: &mut Out<'_>) {
        for d in 0..2 {
            if let State::Body(Framing::Close) = self.dirs[d].state {
                self.finish_body(d, Some("body ended by the connection close".into()), out);
            } else {
                self.on_fin(d, out);
            }
        }
        out.http_from(self.pending.current());
        while let Some(mut tx) = self.pending.pop_front() {
            tx.notes
                .push("no response seen before the connection ended".to_string());
            out.http(tx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reset_state_is_a_new_one() {
        let config = AppConfig::default();
        let (mut events, mut stats) = (Vec::new(), HttpStats::default());
        let mut out = Out {
            conn: 3,
            config: &config,
            events: &mut events,
            stats: &mut stats,
        };
        let ctx = SegmentCtx {
            frame: 7,
            ts: Timestamp::default(),
            handshake_rtt_ns: None,
            ports: None,
        };
        let mut h = HttpConn::new();
        // Two pipelined requests (the first with a body under way), a response head cut
        // in the middle: every part of the state is away from its start.
        let req = b"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nabGET /b HTTP/1.1\r\n\r\n";
        assert!(h.on_data(0, &req[..44], ctx, &mut out));
        assert!(h.on_data(0, &req[44..], ctx, &mut out));
        h.on_data(1, b"HTTP/1.1 200 OK\r\nContent-Le", ctx, &mut out);
        let dirty = format!("{h:?}");
        assert_ne!(dirty, format!("{:?}", HttpConn::new()));
        assert_eq!((h.pending.len(), h.pending.rest.len()), (2, 1));
        h.reset(true);
        assert_eq!(format!("{h:?}"), format!("{:?}", HttpConn::new()));
        assert!(h.dirs[1].buf.capacity() > 0, "small head buffer kept");
        assert_eq!(
            h.pending.rest.capacity(),
            1,
            "room for one pipelined request kept"
        );
        // Without keeping room: the same state, no buffer left.
        let mut bare = HttpConn::new();
        bare.on_data(0, &req[..44], ctx, &mut out);
        bare.on_data(0, &req[44..], ctx, &mut out);
        bare.on_data(1, b"HTTP/1.1 200 OK\r\nContent-Le", ctx, &mut out);
        assert_eq!(format!("{bare:?}"), dirty);
        bare.reset(false);
        assert_eq!(format!("{bare:?}"), format!("{:?}", HttpConn::new()));
        assert_eq!(bare.dirs[1].buf.capacity(), 0);
        assert_eq!(bare.pending.rest.capacity(), 0);
        // And it parses the next connection as a new state does.
        let mut fresh = HttpConn::new();
        let (mut e1, mut e2) = (Vec::new(), Vec::new());
        let (mut s1, mut s2) = (HttpStats::default(), HttpStats::default());
        for (conn, events, stats) in [(&mut h, &mut e1, &mut s1), (&mut fresh, &mut e2, &mut s2)] {
            let mut out = Out {
                conn: 4,
                config: &config,
                events,
                stats,
            };
            conn.on_data(0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", ctx, &mut out);
            conn.on_data(1, b"HTTP/1.1 204 No Content\r\n\r\n", ctx, &mut out);
            conn.close(&mut out);
        }
        assert_eq!(e1.len(), 1);
        assert_eq!(e1, e2);
        assert_eq!(s1, s2);
        assert_eq!((h.requests, h.responses), (1, 1));
    }

    #[test]
    fn body_segments_counted_up_to_the_next_head() {
        let config = AppConfig::default();
        let (mut events, mut stats) = (Vec::new(), HttpStats::default());
        let mut out = Out {
            conn: 5,
            config: &config,
            events: &mut events,
            stats: &mut stats,
        };
        let ctx = |frame| SegmentCtx {
            frame,
            ts: Timestamp::default(),
            handshake_rtt_ns: None,
            ports: None,
        };
        let mut h = HttpConn::new();
        h.on_data(
            0,
            b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
            ctx(1),
            &mut out,
        );
        assert!(h.on_data(
            1,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
            ctx(2),
            &mut out
        ));
        // Inside the body (3 of 10 read): counted, nothing emitted.
        assert!(h.on_data(1, b"defg", ctx(3), &mut out));
        assert_eq!(h.dirs[1].state, State::Body(Framing::Length(3)));
        assert_eq!(h.dirs[1].body.bytes, 7);
        assert!(out.events.is_empty());
        // The body's last 3 bytes and the next response (close-delimited) in one segment.
        assert!(h.on_data(1, b"hijHTTP/1.0 200 OK\r\n\r\nxy", ctx(4), &mut out));
        assert!(h.on_data(1, b"z", ctx(5), &mut out));
        assert_eq!(h.dirs[1].state, State::Body(Framing::Close));
        h.close(&mut out);
        let got: Vec<_> = events
            .iter()
            .map(|e| match e {
                AppEvent::Http(t) => (t.index, t.response_frame, t.response_body_bytes),
                _ => (0, None, None),
            })
            .collect();
        assert_eq!(got, [(1, Some(2), Some(10)), (2, Some(4), Some(3))]);
    }

    #[test]
    fn latencies_in_ms_either_way_and_without_overflow() {
        let (a, b) = (
            Timestamp {
                secs: 10,
                nanos: 900_000_000,
                precision: 6,
            },
            Timestamp {
                secs: 12,
                nanos: 150_000_000,
                precision: 6,
            },
        );
        assert_eq!(latency_ms(Some(a), Some(b)), Some(1250.0));
        assert_eq!(latency_ms(Some(b), Some(a)), Some(-1250.0));
        let far = Timestamp {
            secs: i64::MAX,
            ..a
        };
        let exact = (i128::from(i64::MAX) - 10) * 1_000_000_000 - 900_000_000;
        assert_eq!(latency_ms(Some(a), Some(far)), Some(exact as f64 / 1e6));
        assert_eq!(latency_ms(None, Some(b)), None);
    }

    #[test]
    fn pending_keeps_the_oldest_in_place_and_the_rest_in_order() {
        let tx = |index| HttpTransaction {
            index,
            ..HttpTransaction::default()
        };
        let mut p = Pending::default();
        assert!(p.is_empty() && p.pop_front().is_none());
        for i in 1..=3 {
            p.push_back(tx(i));
        }
        assert_eq!(p.len(), 3);
        assert_eq!(
            (p.first().as_ref().map(|t| t.index), p.rest.len()),
            (Some(1), 2)
        );
        assert_eq!(p.front().map(|t| t.index), Some(1));
        if let Some(t) = p.find_mut(3) {
            t.status = Some(204);
        }
        assert!(p.find_mut(4).is_none());
        assert_eq!(p.pop_front().map(|t| t.index), Some(1));
        assert_eq!(p.front_mut().map(|t| t.index), Some(2));
        assert_eq!(p.pop_front().map(|t| (t.index, t.status)), Some((2, None)));
        assert_eq!(
            p.pop_front().map(|t| (t.index, t.status)),
            Some((3, Some(204)))
        );
        assert!(p.is_empty() && p.rest.is_empty() && p.pop_front().is_none());
        assert_eq!(p.len(), 0);
        // Made current: the oldest swaps slots (no copy), the next becomes the oldest.
        for i in 4..=6 {
            p.push_back(tx(i));
        }
        let at = p.at;
        assert!(p.promote_front());
        assert_eq!(p.at, at ^ 1);
        assert_eq!(p.current().as_ref().map(|t| t.index), Some(4));
        assert_eq!((p.front().map(|t| t.index), p.len()), (Some(5), 2));
        assert!(!p.promote_front(), "the current slot is taken");
        assert_eq!(p.current().take().map(|t| t.index), Some(4));
        // A request queued while 5 is current goes behind 6.
        assert!(p.promote_front());
        p.push_back(tx(7));
        assert_eq!(p.find_mut(7).map(|t| t.index), Some(7));
        assert!(p.find_mut(5).is_none(), "the current one is not waiting");
        assert_eq!((p.front().map(|t| t.index), p.len()), (Some(6), 2));
        assert_eq!(p.current().take().map(|t| t.index), Some(5));
        assert_eq!(p.pop_front().map(|t| t.index), Some(6));
        assert_eq!(p.pop_front().map(|t| t.index), Some(7));
        assert!(!p.promote_front() && p.current().is_none() && p.is_empty());
    }
}
