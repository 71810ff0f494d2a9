//! HTTP/1.x over a reassembled TCP connection: heads parsed with `httparse`, bodies framed
//! by hand (RFC 9112 §6), requests and responses paired in order (pipelining).
//!
//! Bodies are counted, never buffered; the only buffer is one direction's incomplete head,
//! capped at `AppConfig::max_http_head`. Laid out as Suricata's app layer is: the stateless
//! parser ([`parse`]: where a head starts, its line and fields, a datagram's message), the
//! per-connection state machine ([`conn`]) and the body framing, chunked coding included
//! ([`framing`]).

mod conn;
mod framing;
mod parse;

pub(crate) use conn::{latency_ms, strip_details, HttpConn, Out};
pub(crate) use parse::{classify_start, datagram_message, Start};

/// Counters of what the HTTP parser gave up on (never silent).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HttpStats {
    /// Bytes skipped before a direction's first head (a capture that starts inside a
    /// message): scanned for the next request or status line.
    pub junk_before_head: u64,
    /// Heads larger than `max_http_head` or with more than 128 header fields.
    pub heads_too_large: u64,
    /// Resynchronisations after a gap or a framing error.
    pub resyncs: u64,
    /// Heads or bodies that broke the framing rules.
    pub framing_errors: u64,
    /// Resync scans that gave up after `RESYNC_SCAN_LIMIT` bytes.
    pub resync_gave_up: u64,
    /// Requests emitted unanswered because the pipeline queue was full.
    pub pipeline_overflow: u64,
}
