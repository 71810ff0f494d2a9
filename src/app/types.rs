//! Types that leave the app stage.

use crate::capture::Timestamp;
use crate::flow::{ConnId, Direction};

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
    /// When the request's last byte and the response's last byte were captured (the end
    /// of the head when there is no body).
    pub request_end_ts: Option<Timestamp>,
    pub response_end_ts: Option<Timestamp>,
    /// The connection's handshake RTT (SYN → ACK, ns) when the response started.
    pub handshake_rtt_ns: Option<u64>,
    /// Notes for a learner ("HTTP/1.0: one request per connection …", "persistent
    /// connection: request 3", "body cut by a gap of 1448 bytes").
    pub notes: Vec<String>,
    /// HTTP/2: the stream id.
    pub stream: Option<u32>,
    /// Read from TLS records opened with a key log.
    pub decrypted: bool,
}

impl HttpTransaction {
    /// Server time in ms: the request's last byte to the response's first, less one
    /// handshake RTT where it is known (the request's last byte still had half an RTT to
    /// travel to the server, the response's first byte half an RTT back), never below 0.
    /// None without both times, or when the response started before the request ended
    /// (an early error response, or `100-continue`).
    pub fn server_ms(&self) -> Option<f64> {
        self.server_ns().map(ms_of)
    }
    /// [`HttpTransaction::server_ms`] in nanoseconds.
    pub fn server_ns(&self) -> Option<i128> {
        let wait = self.response_ts?.nanos_since(&self.request_end_ts?);
        if wait < 0 {
            return None;
        }
        let rtt = i128::from(self.handshake_rtt_ns.unwrap_or(0));
        Some((wait - rtt).max(0))
    }

    /// Transfer time in ms: the response's first byte to its last.
    pub fn transfer_ms(&self) -> Option<f64> {
        self.transfer_ns().map(ms_of)
    }
    /// [`HttpTransaction::transfer_ms`] in nanoseconds.
    pub fn transfer_ns(&self) -> Option<i128> {
        let ns = self.response_end_ts?.nanos_since(&self.response_ts?);
        (ns >= 0).then_some(ns)
    }

    /// Time the client took to send the request, in ms: its first byte to its last.
    pub fn request_ms(&self) -> Option<f64> {
        self.request_ns().map(ms_of)
    }
    /// [`HttpTransaction::request_ms`] in nanoseconds.
    pub fn request_ns(&self) -> Option<i128> {
        let ns = self.request_end_ts?.nanos_since(&self.request_ts?);
        (ns >= 0).then_some(ns)
    }
}

/// Nanoseconds as milliseconds.
fn ms_of(ns: i128) -> f64 {
    ns as f64 / 1e6
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
    /// The first answer's owner name ("" without answers): what a response without a
    /// question section (mDNS announcements) is about.
    pub answer_owner: String,
    /// For a response: query → response time, when the query was seen.
    pub latency_ms: Option<f64>,
    /// Over TCP (length-prefixed).
    pub tcp: bool,
    /// The header's flags word (AA, TC, RD, RA, Z …: Zeek's dns.log flags).
    pub flags: u16,
    /// QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT of the header.
    pub counts: [u16; 4],
    /// First question's class, all 16 bits (None without a question).
    pub qclass: Option<u16>,
    /// TTL of each of `answers`, seconds.
    pub ttls: Vec<u32>,
    /// Read from TLS records opened with a key log (DNS over TLS).
    pub decrypted: bool,
}

/// What one [`TlsMessage`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsKind {
    /// A handshake message in the clear, by its type number (1 ClientHello, 2 ServerHello,
    /// 11 Certificate, …; see [`crate::app::tls_handshake_name`]).
    Handshake(u8),
    /// A handshake record sent after ChangeCipherSpec (e.g. the TLS 1.2 Finished): encrypted.
    EncryptedHandshake,
    /// An alert in the clear ([`TlsMessage::alert`]).
    Alert,
    /// An alert record sent after ChangeCipherSpec: encrypted.
    EncryptedAlert,
    ChangeCipherSpec,
    /// One direction's application-data records, summed when the connection ends
    /// ([`TlsMessage::records`], [`TlsMessage::length`] bytes; `frame` = the first one).
    ApplicationData,
}

/// One certificate of a Certificate message (TLS ≤ 1.2, where it is in the clear).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TlsCertificate {
    /// DER size in bytes.
    pub len: u32,
    /// Common names of subject and issuer ("CN=…"), and validity as written in the
    /// certificate ("YYMMDDhhmmssZ" UTCTime or "YYYYMMDDhhmmssZ" GeneralizedTime), when a
    /// small DER walk found them.
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    /// SHA-256 of the DER (the fingerprint Zeek logs in `cert_chain_fps`).
    pub sha256: [u8; 32],
}

impl TlsCertificate {
    /// The SHA-256 fingerprint as lowercase hex (64 characters).
    pub fn sha256_hex(&self) -> String {
        use std::fmt::Write;
        self.sha256
            .iter()
            .fold(String::with_capacity(64), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }
}

/// One TLS event of a reassembled TCP direction: a handshake message, an alert, a
/// ChangeCipherSpec, or a direction's application-data total.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsMessage {
    pub conn: ConnId,
    pub dir: Direction,
    /// Frame that carried the message's first byte (for application data: the first
    /// record's first byte).
    pub frame: u64,
    pub ts: Timestamp,
    pub kind: TlsKind,
    /// Record-layer version of the record that carried the first byte (0x0301 …).
    pub record_version: u16,
    /// Handshake message body length, alert/CCS record length, or application-data bytes.
    pub length: u64,
    /// Negotiated version (from the ServerHello, incl. supported_versions), where known.
    pub version: Option<u16>,
    /// Negotiated cipher suite id, where known (see [`crate::app::tls_cipher_name`]).
    pub cipher: Option<u16>,
    /// Key-exchange group, where known: the TLS 1.3 ServerHello's key_share, or the named
    /// curve of an ECDHE ServerKeyExchange (see [`crate::app::tls_group_name`]).
    pub curve: Option<u16>,
    /// The session is resumed, as far as the handshake so far shows (Zeek's rule: the
    /// ServerHello echoes the client's session id below TLS 1.3, the server accepts the
    /// client's pre_shared_key, or the client sends ChangeCipherSpec after offering a
    /// session ticket and no ClientKeyExchange).
    pub resumed: bool,
    /// Zeek's ssl.log `sni_matches_cert`: the ClientHello's server name matches the server's
    /// first certificate (its subjectAltName dNSNames, or without that extension its last
    /// subject CN, wildcards as Zeek's `x509_check_cert_hostname`); `None` until both were
    /// seen, or when the certificate does not parse.
    pub sni_matches_cert: Option<bool>,
    /// A ServerHello that is a HelloRetryRequest (its random is RFC 8446 §4.1.3's constant).
    pub hello_retry: bool,
    /// ClientHello server_name (host_name).
    pub sni: Option<String>,
    /// ALPN: offered list (ClientHello) or the chosen protocol (ServerHello).
    pub alpn: Vec<String>,
    /// ClientHello: supported_versions (GREASE removed), else the legacy version.
    pub offered_versions: Vec<u16>,
    /// ClientHello: cipher suite ids in the client's order (GREASE included).
    pub offered_ciphers: Vec<u16>,
    /// Certificate message (TLS ≤ 1.2).
    pub certificates: Vec<TlsCertificate>,
    /// Alert (level, description).
    pub alert: Option<(u8, u8)>,
    /// Application data: records counted.
    pub records: u64,
    /// Application data: records opened with a key log (all records of the direction,
    /// handshake and alerts included).
    pub decrypted_records: u64,
    /// Why something was not parsed, and other remarks for a learner.
    pub notes: Vec<String>,
}

/// QUIC long-header packet types (RFC 9000 §17.2, RFC 9369 for v2's numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuicPacketKind {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
    /// Version 0: the server lists the versions it supports.
    VersionNegotiation,
}

/// One QUIC long-header packet (several may be coalesced in one UDP datagram).
#[derive(Clone, Debug, PartialEq)]
pub struct QuicPacket {
    pub conn: ConnId,
    pub dir: Direction,
    pub frame: u64,
    pub ts: Timestamp,
    pub kind: QuicPacketKind,
    /// 1, 0x6b3343cf (v2), 0xff0000xx (drafts), 0 (version negotiation).
    pub version: u32,
    pub dcid: Vec<u8>,
    pub scid: Vec<u8>,
    /// Initial: token length.
    pub token_len: Option<u64>,
    /// Initial, 0-RTT, Handshake: the Length field (packet number + protected payload).
    pub length: Option<u64>,
    /// Version negotiation: the versions offered.
    pub supported_versions: Vec<u32>,
}

/// What the app stage reports.
#[derive(Clone, Debug, PartialEq)]
pub enum AppEvent {
    Http(HttpTransaction),
    Dns(DnsMessage),
    Tls(TlsMessage),
    Quic(QuicPacket),
}

impl AppEvent {
    /// The connection the event belongs to.
    pub fn conn(&self) -> ConnId {
        match self {
            AppEvent::Http(t) => t.conn,
            AppEvent::Dns(d) => d.conn,
            AppEvent::Tls(t) => t.conn,
            AppEvent::Quic(q) => q.conn,
        }
    }
}

/// A name a connection's service gives (TLS server name, HTTP host, DNS query name), kept
/// inline: at most 64 bytes, cut at a character boundary (`cut` says so). Bytes from the
/// wire: escape before showing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceName {
    pub text: arrayvec::ArrayString<64>,
    pub cut: bool,
}

impl ServiceName {
    pub fn new(s: &str) -> ServiceName {
        let mut text = arrayvec::ArrayString::new();
        let mut end = s.len().min(text.capacity());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        text.push_str(&s[..end]);
        ServiceName {
            text,
            cut: end < s.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && !self.cut
    }
}

/// What a connection carries, as the app stage recognised it: Zeek's service names
/// (`kinds`) and what names the service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnService {
    /// [`ConnService::HTTP`], [`ConnService::SSL`], [`ConnService::DNS`],
    /// [`ConnService::QUIC`] as seen.
    pub kinds: u8,
    /// TLS/QUIC: the ClientHello's server name.
    pub server_name: ServiceName,
    /// TLS/QUIC: the protocol the ServerHello chose, else the first the client offered.
    pub alpn: ServiceName,
    /// ALPN from the ServerHello (not only offered).
    pub alpn_chosen: bool,
    /// HTTP: the first request's Host; DNS: the first query name.
    pub name: ServiceName,
    /// DNS: queries for a name other than `name`.
    pub other_names: u32,
}

impl ConnService {
    pub const HTTP: u8 = 1;
    pub const SSL: u8 = 2;
    pub const DNS: u8 = 4;
    pub const QUIC: u8 = 8;

    /// Zeek's conn.log `service`: the analyzers that recognised the connection, comma
    /// separated (`http`, `ssl`, `dns`, `quic`, `quic,ssl` …); None when none did.
    pub fn zeek_name(&self) -> Option<&'static str> {
        const NAMES: [&str; 16] = [
            "",
            "http",
            "ssl",
            "ssl,http",
            "dns",
            "http,dns",
            "ssl,dns",
            "ssl,http,dns",
            "quic",
            "quic,http",
            "quic,ssl",
            "quic,ssl,http",
            "quic,dns",
            "quic,http,dns",
            "quic,ssl,dns",
            "quic,ssl,http,dns",
        ];
        let name = NAMES[usize::from(self.kinds & 0x0f)];
        (!name.is_empty()).then_some(name)
    }

    /// A DNS query for `qname`: the first names the service, later others are counted.
    pub fn dns_query(&mut self, qname: &str) {
        self.kinds |= Self::DNS;
        if self.name.is_empty() {
            self.name = ServiceName::new(qname);
        } else if ServiceName::new(qname) != self.name {
            self.other_names = self.other_names.saturating_add(1);
        }
    }

    /// What a TLS message says about the service (ClientHello: server name, offered
    /// ALPN; ServerHello: the chosen ALPN).
    pub fn tls_message(&mut self, t: &TlsMessage) {
        match t.kind {
            TlsKind::Handshake(1) => {
                if let (true, Some(sni)) = (self.server_name.is_empty(), &t.sni) {
                    self.server_name = ServiceName::new(sni);
                }
                if let (true, Some(a)) = (self.alpn.is_empty(), t.alpn.first()) {
                    self.alpn = ServiceName::new(a);
                }
            }
            TlsKind::Handshake(2) => {
                if let Some(a) = t.alpn.first() {
                    self.alpn = ServiceName::new(a);
                    self.alpn_chosen = true;
                }
            }
            _ => {}
        }
    }
}

/// Per-connection application counters, reported when the connection ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppConnStats {
    /// What the connection carries (Zeek's service) and what names it.
    pub service: ConnService,
    pub http_requests: u64,
    pub http_responses: u64,
    pub dns_messages: u64,
    /// TLS: negotiated version and cipher suite (from the ServerHello).
    pub tls_version: Option<u16>,
    pub tls_cipher: Option<u16>,
    /// TLS handshake messages in the clear, alerts (clear or encrypted).
    pub tls_handshakes: u64,
    pub tls_alerts: u64,
    /// TLS application-data bytes (record bodies) per direction: [to_server, to_client].
    pub tls_app_bytes: [u64; 2],
    /// TLS setup: the ClientHello to the client's first application-data record, in ns.
    pub tls_setup_ns: Option<i64>,
    /// QUIC packets: long header (Initial, Handshake, …) and short header (1-RTT).
    pub quic_long_packets: u64,
    pub quic_short_packets: u64,
    /// QUIC version from the first long-header packet.
    pub quic_version: Option<u32>,
    /// What the connection's TLS messages said (TLS or QUIC connections that had any).
    pub tls: Option<Box<super::TlsSummary>>,
}
