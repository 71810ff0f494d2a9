//! Types that leave the app stage.

use crate::capture::Timestamp;
use crate::flow::ConnId;

/// One HTTP request/response exchange.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HttpTransaction {
    pub conn: ConnId,
    /// 1-based index of this request on its connection.
    pub index: u32,
    /// Frames that carried the first byte of the request head / response head.
    pub request_frame: Option<u64>,
    pub response_frame: Option<u64>,
    pub request_ts: Option<Timestamp>,
    pub response_ts: Option<Timestamp>,
    pub method: Option<String>,
    pub uri: Option<String>,
    /// "HTTP/1.1"
    pub version: Option<String>,
    pub host: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub response_version: Option<String>,
    /// Decoded body lengths (after chunked framing).
    pub request_body_bytes: Option<u64>,
    pub response_body_bytes: Option<u64>,
    /// Request first byte → response first byte.
    pub latency_ms: Option<f64>,
    /// Notes for a learner ("HTTP/1.0: one request per connection …", "persistent
    /// connection: request 3", "body cut by a gap of 1448 bytes").
    pub notes: Vec<String>,
}

/// One DNS message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DnsMessage {
    pub conn: ConnId,
    pub frame: u64,
    pub ts: Timestamp,
    pub id: u16,
    pub response: bool,
    pub qname: String,
    /// "A", "AAAA", "TXT", … or the number.
    pub qtype: String,
    /// "NOERROR", "NXDOMAIN", …
    pub rcode: String,
    pub answers: Vec<String>,
    /// For a response: query → response time, when the query was seen.
    pub latency_ms: Option<f64>,
    /// Over TCP (length-prefixed).
    pub tcp: bool,
}

/// What the app stage reports.
#[derive(Clone, Debug, PartialEq)]
pub enum AppEvent {
    Http(HttpTransaction),
    Dns(DnsMessage),
}

/// Per-connection application counters, reported when the connection ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppConnStats {
    pub http_requests: u64,
    pub http_responses: u64,
    pub dns_messages: u64,
}
