//! TLS seen from outside: the record layer and the handshake messages that travel in the
//! clear (ClientHello, ServerHello, Certificate up to TLS 1.2, alerts, ChangeCipherSpec),
//! then application data counted, never decrypted. Handshake messages are parsed with
//! rusticata's `tls-parser`; framing (records, messages split over records and segments) is
//! done here so that every byte's frame is known and memory stays bounded.

use super::http::HttpStats;
use super::keylog::KeyLog;
use super::tls_session::{Opened, TlsSession};
use super::{AppConfig, TlsCertificate, TlsKind, TlsMessage};
use crate::decode::LayerName;
use crate::flow::{ConnId, Direction, SegmentCtx};
use std::sync::Arc;
use tls_parser::{
    parse_tls_client_hello_extensions, parse_tls_message_handshake,
    parse_tls_server_hello_extensions, TlsCipherKx, TlsCipherSuiteID, TlsExtension,
    TlsMessage as PMessage, TlsMessageHandshake,
};

/// Largest record body: 2^14 plaintext + 2048 expansion (RFC 5246 §6.2.3).
pub const MAX_RECORD_BODY: usize = (1 << 14) + 2048;
/// Largest handshake message assembled for parsing; longer ones are skipped and counted.
pub const MAX_HANDSHAKE: usize = 64 << 10;

const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;
const CT_HEARTBEAT: u8 = 24;

/// The random of a HelloRetryRequest (RFC 8446 §4.1.3): SHA-256("HelloRetryRequest").
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What the TLS parsers cut or gave up on, over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsStats {
    /// Directions that started like TLS but turned out not to be (bad version, length,
    /// handshake type, or a first hello that does not parse): given up, nothing reported.
    pub not_tls: u64,
    /// Directions abandoned mid-stream: an invalid record header (lost framing).
    pub desyncs: u64,
    /// Directions abandoned after a gap in the stream (record framing is lost).
    pub gaps: u64,
    /// Handshake bytes not parsed: messages over [`MAX_HANDSHAKE`], or incomplete at close.
    pub cut_bytes: u64,
    /// With a key log: records opened, records that did not open (wrong key, damaged),
    /// and connections whose client random the key log did not have.
    pub decrypted_records: u64,
    pub decrypt_failures: u64,
    pub no_key: u64,
    /// With a key log: records longer than the decryption buffer
    /// ([`AppConfig::tls_record_buffer`]): not opened, and their direction left encrypted.
    pub records_cut: u64,
    /// HTTP/2 (inside decrypted TLS, or cleartext h2c): what was cut.
    pub http2: super::http2::Http2Stats,
    /// QUIC Handshake and 1-RTT packets opened with a key log, their streams and HTTP/3.
    pub quic: super::quic::session::QuicKeyStats,
}

/// True when `data`, the first bytes of a TCP direction, may start a TLS handshake record:
/// content type 22, version 0x0301..=0x0304, length 1..=2^14+2048, handshake type 1 or 2.
/// Only the bytes present are checked (the direction's parser re-checks all of them).
pub fn starts_like_tls(data: &[u8]) -> bool {
    let ok_type = data.first() == Some(&CT_HANDSHAKE);
    let ok_major = data.get(1).is_none_or(|&b| b == 3);
    let ok_minor = data.get(2).is_none_or(|&b| (1..=4).contains(&b));
    let ok_len = match data.get(3..5) {
        Some(&[a, b]) => (1..=MAX_RECORD_BODY).contains(&(u16::from_be_bytes([a, b]) as usize)),
        _ => true,
    };
    let ok_hs = data.get(5).is_none_or(|&b| b == 1 || b == 2);
    ok_type && ok_major && ok_minor && ok_len && ok_hs
}

/// True when `data` starts with a whole ClientHello record prefix: the 5-byte record header
/// of [`starts_like_tls`], handshake type 1, a message length of 38..=65536 and a legacy
/// version 0x0300..=0x0304 (11 bytes checked). Strict enough to switch a connection that
/// began as something else (HTTP CONNECT tunnel, STARTTLS-like upgrades) to TLS.
pub fn starts_like_client_hello(data: &[u8]) -> bool {
    let Some(&[ct, 3, minor, a, b, 1, h1, h2, h3, 3, cv]) = data.get(..11) else {
        return false;
    };
    let rec_len = u16::from_be_bytes([a, b]) as usize;
    let hs_len = u32::from_be_bytes([0, h1, h2, h3]) as usize;
    ct == CT_HANDSHAKE
        && (1..=4).contains(&minor)
        && (6..=MAX_RECORD_BODY).contains(&rec_len)
        && (38..=1 << 16).contains(&hs_len)
        && cv <= 4
}

/// "TLS 1.2", "SSL 3.0", "TLS 1.3 draft 23", "GREASE 0x7a7a", else "0x….".
pub fn tls_version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        0x7f00..=0x7fff => format!("TLS 1.3 draft {}", v & 0xff),
        _ if is_grease(v) => format!("GREASE 0x{v:04x}"),
        _ => format!("0x{v:04x}"),
    }
}

/// IANA name of a cipher suite ("TLS_AES_128_GCM_SHA256"), from tls-parser's table.
pub fn tls_cipher_name(id: u16) -> Option<&'static str> {
    TlsCipherSuiteID(id).get_ciphersuite().map(|c| c.name)
}

/// Handshake message type as JSON names it ("client_hello", …; RFC 8446 §4 names).
pub fn tls_handshake_name(t: u8) -> &'static str {
    match t {
        0 => "hello_request",
        1 => "client_hello",
        2 => "server_hello",
        4 => "new_session_ticket",
        5 => "end_of_early_data",
        6 => "hello_retry_request",
        8 => "encrypted_extensions",
        11 => "certificate",
        12 => "server_key_exchange",
        13 => "certificate_request",
        14 => "server_hello_done",
        15 => "certificate_verify",
        16 => "client_key_exchange",
        20 => "finished",
        22 => "certificate_status",
        24 => "key_update",
        67 => "next_protocol",
        254 => "message_hash",
        _ => "unknown",
    }
}

/// "warning", "fatal", else "unknown".
pub fn tls_alert_level_name(level: u8) -> &'static str {
    match level {
        1 => "warning",
        2 => "fatal",
        _ => "unknown",
    }
}

/// Alert description (RFC 8446 §6 names, plus the TLS 1.2 ones).
pub fn tls_alert_name(desc: u8) -> &'static str {
    match desc {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}

/// Named group (key exchange) by its IANA name as Zeek writes it (`SSL::ec_curves`):
/// "x25519", "secp256r1", "X25519MLKEM768", GREASE as "grease_0x0A0A"; `None` for others.
pub fn tls_group_name(group: u16) -> Option<&'static str> {
    const LOW: [&str; 41] = [
        "sect163k1",
        "sect163r1",
        "sect163r2",
        "sect193r1",
        "sect193r2",
        "sect233k1",
        "sect233r1",
        "sect239k1",
        "sect283k1",
        "sect283r1",
        "sect409k1",
        "sect409r1",
        "sect571k1",
        "sect571r1",
        "secp160k1",
        "secp160r1",
        "secp160r2",
        "secp192k1",
        "secp192r1",
        "secp224k1",
        "secp224r1",
        "secp256k1",
        "secp256r1",
        "secp384r1",
        "secp521r1",
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
        "x25519",
        "x448",
        "brainpoolP256r1tls13",
        "brainpoolP384r1tls13",
        "brainpoolP512r1tls13",
        "GC256A",
        "GC256B",
        "GC256C",
        "GC256D",
        "GC512A",
        "GC512B",
        "GC512C",
        "curveSM2",
    ];
    const GREASE: [&str; 16] = [
        "grease_0x0A0A",
        "grease_0x1A1A",
        "grease_0x2A2A",
        "grease_0x3A3A",
        "grease_0x4A4A",
        "grease_0x5A5A",
        "grease_0x6A6A",
        "grease_0x7A7A",
        "grease_0x8A8A",
        "grease_0x9A9A",
        "grease_0xAAAA",
        "grease_0xBABA",
        "grease_0xCACA",
        "grease_0xDADA",
        "grease_0xEAEA",
        "grease_0xFAFA",
    ];
    Some(match group {
        1..=41 => LOW[usize::from(group - 1)],
        256 => "ffdhe2048",
        257 => "ffdhe3072",
        258 => "ffdhe4096",
        259 => "ffdhe6144",
        260 => "ffdhe8192",
        512 => "MLKEM512",
        513 => "MLKEM768",
        514 => "MLKEM1024",
        4587 => "SecP256r1MLKEM768",
        4588 => "X25519MLKEM768",
        4589 => "SecP384r1MLKEM1024",
        4590 => "curveSM2MLKEM768",
        16696 => "CECPQ2",
        25497 => "X25519Kyber768Draft00",
        25498 => "SecP256r1Kyber768Draft00",
        0xff01 => "arbitrary_explicit_prime_curves",
        0xff02 => "arbitrary_explicit_char2_curves",
        _ if is_grease(group) => GREASE[usize::from(group >> 12)],
        _ => return None,
    })
}

/// GREASE values (RFC 8701): 0x?a?a with both bytes equal.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// Where a direction's parser is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Reading a record header (`hdr_len` of 5 bytes so far).
    Header,
    /// Inside a record body, `remaining` bytes to go.
    Body,
    /// Given up (not TLS, lost framing or a gap): bytes are ignored.
    Stopped,
}

/// One direction of a TLS connection.
#[derive(Debug)]
struct TlsDir {
    phase: Phase,
    hdr: [u8; 5],
    hdr_len: usize,
    /// Segment that carried the current record's first byte.
    rec_ctx: Option<SegmentCtx>,
    content_type: u8,
    record_version: u16,
    rec_len: usize,
    remaining: usize,
    /// No record seen yet: the first must be a ClientHello/ServerHello handshake record.
    first: bool,
    /// The first hello parsed: this direction is TLS.
    confirmed: bool,
    /// After ChangeCipherSpec: handshake and alert records are encrypted.
    encrypted: bool,
    /// Handshake message being assembled (header included), at most 4 + MAX_HANDSHAKE.
    hs: Vec<u8>,
    hs_ctx: Option<SegmentCtx>,
    hs_record_version: u16,
    /// Bytes of an oversized handshake message still to skip.
    hs_skip: usize,
    /// Alert bytes of the current record (level, description).
    alert: [u8; 2],
    app_bytes: u64,
    app_records: u64,
    app_first: Option<(SegmentCtx, u16)>,
    /// With a key log: the current record is collected in `body` to be opened.
    collect: bool,
    body: Vec<u8>,
}

impl Default for TlsDir {
    fn default() -> Self {
        TlsDir {
            phase: Phase::Header,
            hdr: [0; 5],
            hdr_len: 0,
            rec_ctx: None,
            content_type: 0,
            record_version: 0,
            rec_len: 0,
            remaining: 0,
            first: true,
            confirmed: false,
            encrypted: false,
            hs: Vec::new(),
            hs_ctx: None,
            hs_record_version: 0,
            hs_skip: 0,
            alert: [0; 2],
            app_bytes: 0,
            app_records: 0,
            app_first: None,
            collect: false,
            body: Vec::new(),
        }
    }
}

/// Per-connection TLS state: both directions and what was negotiated.
#[derive(Debug, Default)]
pub struct TlsConn {
    dirs: [TlsDir; 2],
    /// Negotiated version and cipher (ServerHello).
    pub version: Option<u16>,
    pub cipher: Option<u16>,
    /// Key-exchange group and resumption (ssl.log's `curve`, `resumed`).
    state: HandshakeState,
    /// Handshake messages in the clear and alerts reported so far.
    pub handshakes: u64,
    pub alerts: u64,
    /// When the client's ClientHello record started, and the TLS setup time: from then to
    /// the client's first application-data record (TLS 1.2: after both Finished; TLS 1.3:
    /// its encrypted Finished, sent when it can send its request), in ns.
    client_hello_ts: Option<crate::capture::Timestamp>,
    setup_ns: Option<i64>,
    /// With a key log: the connection's decryption.
    session: Option<Box<TlsSession>>,
    /// The last record opened: its completing frame and how (for `explain`).
    pub last_opened: Option<(u64, Opened)>,
}

/// Where finished events go.
pub struct TlsOut<'a> {
    pub conn: ConnId,
    pub events: &'a mut Vec<super::AppEvent>,
    pub stats: &'a mut TlsStats,
    /// The HTTP stage's limits and counters, for decrypted application data.
    pub config: &'a AppConfig,
    pub http: &'a mut HttpStats,
    /// Set when decrypted bytes of this call were read by a protocol inside TLS.
    pub inner_layer: Option<LayerName>,
    /// The HTTP/2 frames the decrypted bytes of this call completed.
    pub inner_frames: super::FrameNames,
}

/// What a connection's handshake settled beyond version and cipher: the key-exchange group
/// and whether the session is resumed, followed across its messages as Zeek's
/// `base/protocols/ssl/main.zeek` does (TLS over TCP and QUIC's Initials alike).
#[derive(Clone, Debug, Default)]
pub(crate) struct HandshakeState {
    pub curve: Option<u16>,
    pub resumed: bool,
    /// The ClientHello's session id, when not empty nor 32 zero bytes.
    client_session_id: Option<arrayvec::ArrayVec<u8, 32>>,
    /// The client offered a session ticket with no session id.
    ticket_without_session_id: bool,
    /// The client offered a pre_shared_key, sent a ClientKeyExchange.
    client_psk: bool,
    client_key_exchange: bool,
    /// The ClientHello's server name (the last one seen).
    sni: Option<String>,
    /// The server's first certificate was seen (Zeek's `cert_chain[0]`: later ones do not
    /// replace it).
    server_leaf_seen: bool,
    /// Zeek's `sni_matches_cert`: the SNI against that certificate's names, when both were
    /// there (the SNI as it was when the certificate came) and the certificate parsed.
    sni_matches_cert: Option<bool>,
}

impl HandshakeState {
    /// A handshake message `facts` from `dir`, the connection's cipher and version chosen
    /// so far (the ServerHello's own included).
    fn message(
        &mut self,
        dir: Direction,
        facts: &HandshakeFacts,
        cipher: Option<u16>,
        version: Option<u16>,
    ) {
        match (facts.kind, dir) {
            (1, Direction::ToServer) => {
                self.client_psk |= facts.psk;
                if facts.sni.is_some() {
                    self.sni.clone_from(&facts.sni);
                }
                let id = facts.session_id.as_deref().unwrap_or(&[]);
                let all_zero = id.len() == 32 && id.iter().all(|&b| b == 0);
                if !id.is_empty() && !all_zero {
                    self.client_session_id = arrayvec::ArrayVec::try_from(id).ok();
                    self.ticket_without_session_id = false;
                } else if facts.session_ticket {
                    self.ticket_without_session_id = true;
                }
            }
            (2, Direction::ToClient) => {
                if let Some(g) = facts.key_share_group {
                    self.curve = Some(g);
                }
                if facts.psk && self.client_psk {
                    self.resumed = true;
                }
                let v = version.unwrap_or(0);
                let echoed = self
                    .client_session_id
                    .as_deref()
                    .is_some_and(|c| facts.session_id.as_deref() == Some(c));
                if echoed && v >> 8 != 0x7f && v != 0x0304 {
                    self.resumed = true;
                }
            }
            (12, Direction::ToClient) => {
                let ecdhe = cipher
                    .and_then(|c| TlsCipherSuiteID(c).get_ciphersuite())
                    .is_some_and(|c| matches!(c.kx, TlsCipherKx::Ecdhe | TlsCipherKx::Aecdh));
                if ecdhe && facts.named_curve.is_some() {
                    self.curve = facts.named_curve;
                }
            }
            (16, Direction::ToServer) => self.client_key_exchange = true,
            (11, Direction::ToClient)
                if !self.server_leaf_seen && !facts.certificates.is_empty() =>
            {
                self.server_leaf_seen = true;
                if let (Some(sni), Some(names)) = (&self.sni, &facts.leaf_names) {
                    self.sni_matches_cert = Some(names.matches(sni.as_bytes()));
                }
            }
            _ => {}
        }
    }

    /// A ChangeCipherSpec from `dir`.
    fn change_cipher_spec(&mut self, dir: Direction) {
        if dir == Direction::ToServer && self.ticket_without_session_id && !self.client_key_exchange
        {
            self.resumed = true;
        }
    }

    /// The connection's facts so far into a message of it.
    pub(crate) fn stamp(&self, m: &mut TlsMessage) {
        m.curve = self.curve;
        m.resumed = self.resumed;
        m.sni_matches_cert = self.sni_matches_cert;
    }
}

pub(crate) fn new_message(
    conn: ConnId,
    dir: Direction,
    ctx: SegmentCtx,
    kind: TlsKind,
    rv: u16,
) -> TlsMessage {
    TlsMessage {
        conn,
        dir,
        frame: ctx.frame,
        ts: ctx.ts,
        kind,
        record_version: rv,
        length: 0,
        version: None,
        cipher: None,
        curve: None,
        resumed: false,
        sni_matches_cert: None,
        hello_retry: false,
        sni: None,
        alpn: Vec::new(),
        offered_versions: Vec::new(),
        offered_ciphers: Vec::new(),
        certificates: Vec::new(),
        alert: None,
        records: 0,
        decrypted_records: 0,
        notes: Vec::new(),
    }
}

/// A parsed handshake message's facts into its record `m`, and the version and cipher a
/// ServerHello chose into the connection's (TLS over TCP and QUIC's Initials alike).
pub(crate) fn take_facts(
    m: &mut TlsMessage,
    facts: HandshakeFacts,
    version: &mut Option<u16>,
    cipher: &mut Option<u16>,
    state: &mut HandshakeState,
) {
    if let Some(v) = facts.chosen_version {
        *version = Some(v);
    }
    if let Some(c) = facts.cipher {
        *cipher = Some(c);
    }
    state.message(m.dir, &facts, *cipher, *version);
    m.offered_ciphers = facts.offered_ciphers;
    m.offered_versions = facts.offered_versions;
    m.sni = facts.sni;
    m.alpn = facts.alpn;
    m.certificates = facts.certificates;
    m.hello_retry = facts.hello_retry;
    if facts.hello_retry {
        m.notes
            .push("HelloRetryRequest: the server asks the client for another key share".into());
    }
}

impl TlsConn {
    /// A connection whose records are opened with secrets from `keylog` when it has them.
    pub fn with_keylog(
        keylog: Option<&Arc<KeyLog>>,
        watch: Option<&Arc<super::tls_session::RecordWatch>>,
    ) -> TlsConn {
        TlsConn {
            session: keylog.map(|k| Box::new(TlsSession::new(Arc::clone(k), watch.cloned()))),
            ..TlsConn::default()
        }
    }

    /// The connection uses port 853: its decrypted plaintext is DNS over TLS (RFC 7858),
    /// as it is with ALPN "dot".
    pub fn set_dot_port(&mut self) {
        if let Some(s) = self.session.as_mut() {
            s.dot_port = true;
        }
    }

    /// Moves the DNS messages read inside decrypted records since the last call into
    /// `found`; true when there were any.
    pub(crate) fn take_dns(&mut self, found: &mut Vec<(super::dns::Decoded, SegmentCtx)>) -> bool {
        match self.session.as_mut() {
            Some(s) if !s.dns_found.is_empty() => {
                found.append(&mut s.dns_found);
                true
            }
            _ => false,
        }
    }

    /// HTTP requests and responses read inside the decrypted records.
    pub fn http_counts(&self) -> Option<(u64, u64)> {
        self.session.as_ref().and_then(|s| s.http_counts())
    }

    /// The TLS setup time in ns: the client's ClientHello to its first application-data
    /// record (None until both were seen).
    pub fn setup_ns(&self) -> Option<i64> {
        self.setup_ns
    }

    /// Application-data bytes per direction so far.
    pub fn app_bytes(&self) -> [u64; 2] {
        [self.dirs[0].app_bytes, self.dirs[1].app_bytes]
    }

    /// Feeds in-order bytes of one direction. True when they were TLS bytes (the frame
    /// gets the `tls` layer).
    pub fn on_data(
        &mut self,
        dir: Direction,
        mut data: &[u8],
        ctx: SegmentCtx,
        out: &mut TlsOut<'_>,
    ) -> bool {
        let mut tls = false;
        while !data.is_empty() {
            let d = &mut self.dirs[dir.index()];
            match d.phase {
                Phase::Stopped => return tls,
                Phase::Header => {
                    if d.hdr_len == 0 {
                        d.rec_ctx = Some(ctx);
                    }
                    let take = (5 - d.hdr_len).min(data.len());
                    d.hdr[d.hdr_len..d.hdr_len + take].copy_from_slice(&data[..take]);
                    d.hdr_len += take;
                    data = &data[take..];
                    if d.first && !starts_like_tls(&d.hdr[..d.hdr_len]) {
                        d.phase = Phase::Stopped;
                        out.stats.not_tls += 1;
                        return false;
                    }
                    tls |= d.first || d.confirmed;
                    if d.hdr_len < 5 {
                        continue;
                    }
                    let [ct, major, minor, a, b] = d.hdr;
                    let len = u16::from_be_bytes([a, b]) as usize;
                    let valid = (CT_CHANGE_CIPHER_SPEC..=CT_HEARTBEAT).contains(&ct)
                        && major == 3
                        && minor <= 4
                        && len <= MAX_RECORD_BODY
                        && (len > 0 || ct == CT_APPLICATION_DATA);
                    d.hdr_len = 0;
                    if !valid {
                        d.phase = Phase::Stopped;
                        out.stats.desyncs += 1;
                        return tls;
                    }
                    d.content_type = ct;
                    d.record_version = u16::from_be_bytes([major, minor]);
                    d.rec_len = len;
                    d.remaining = len;
                    d.phase = Phase::Body;
                    d.collect = self
                        .session
                        .as_ref()
                        .is_some_and(|s| s.wants(dir, ct, d.encrypted));
                    let cap = out.config.tls_record_buffer;
                    if let (true, Some(s)) = (d.collect && len > cap, self.session.as_deref_mut()) {
                        d.collect = false;
                        out.stats.records_cut += 1;
                        s.record_over_buffer(dir, len, cap, ctx.frame);
                    }
                    d.body.clear();
                    if len == 0 {
                        self.record_end(dir, ctx, out);
                    }
                }
                Phase::Body => {
                    let take = d.remaining.min(data.len());
                    let (chunk, rest) = data.split_at(take);
                    data = rest;
                    if d.first {
                        // The first record's first body byte: a ClientHello or ServerHello.
                        if !matches!(chunk.first(), Some(1 | 2)) {
                            d.phase = Phase::Stopped;
                            out.stats.not_tls += 1;
                            return false;
                        }
                        d.first = false;
                        if dir == Direction::ToServer && chunk.first() == Some(&1) {
                            self.client_hello_ts = d.rec_ctx.map(|c| c.ts);
                        }
                    }
                    tls = true;
                    let offset = d.rec_len - d.remaining;
                    d.remaining -= take;
                    if d.collect {
                        d.body.extend_from_slice(chunk);
                    }
                    if d.content_type == CT_HANDSHAKE && !d.encrypted {
                        if !self.handshake_bytes(dir, chunk, ctx, out) {
                            return false;
                        }
                    } else {
                        match d.content_type {
                            CT_ALERT => {
                                for (i, &b) in chunk.iter().enumerate() {
                                    if let Some(slot) = d.alert.get_mut(offset + i) {
                                        *slot = b;
                                    }
                                }
                            }
                            CT_APPLICATION_DATA => {
                                d.app_bytes += take as u64;
                            }
                            _ => {}
                        }
                    }
                    let d = &mut self.dirs[dir.index()];
                    if d.remaining == 0 && d.phase == Phase::Body {
                        self.record_end(dir, ctx, out);
                    }
                }
            }
        }
        tls
    }

    /// A record body ended (in the segment `end`): open it when there are keys; report
    /// alerts, CCS, encrypted handshake records; count data.
    fn record_end(&mut self, dir: Direction, end: SegmentCtx, out: &mut TlsOut<'_>) {
        let d = &mut self.dirs[dir.index()];
        d.phase = Phase::Header;
        if let Some(session) = self.session.as_deref_mut() {
            if d.collect {
                d.collect = false;
                let [a, b] = d.record_version.to_be_bytes();
                let [c, e] = (d.rec_len as u16).to_be_bytes();
                let header = [d.content_type, a, b, c, e];
                if let Some(o) = session.record(dir, &header, &d.body, end, out) {
                    self.last_opened = Some((end.frame, o));
                }
            } else if d.content_type == CT_CHANGE_CIPHER_SPEC {
                session.change_cipher_spec(dir);
            }
        }
        let d = &mut self.dirs[dir.index()];
        let Some(ctx) = d.rec_ctx else {
            return;
        };
        let rv = d.record_version;
        let len = d.rec_len as u64;
        let kind = match d.content_type {
            CT_APPLICATION_DATA => {
                d.app_records += 1;
                if d.app_first.is_none() {
                    d.app_first = Some((ctx, rv));
                }
                if dir == Direction::ToServer && self.setup_ns.is_none() {
                    self.setup_ns = self
                        .client_hello_ts
                        .and_then(|h| ctx.ts.nanos_since_i64(&h));
                }
                return;
            }
            CT_CHANGE_CIPHER_SPEC => {
                d.encrypted = true;
                self.state.change_cipher_spec(dir);
                // A handshake message cut by the switch cannot complete any more.
                out.stats.cut_bytes += d.hs.len() as u64;
                d.hs.clear();
                TlsKind::ChangeCipherSpec
            }
            CT_ALERT if !d.encrypted && len == 2 => TlsKind::Alert,
            CT_ALERT => TlsKind::EncryptedAlert,
            CT_HANDSHAKE if d.encrypted => TlsKind::EncryptedHandshake,
            _ => return,
        };
        let mut m = new_message(out.conn, dir, ctx, kind, rv);
        m.length = len;
        m.version = self.version;
        m.cipher = self.cipher;
        self.state.stamp(&mut m);
        match kind {
            TlsKind::Alert => {
                m.alert = Some((d.alert[0], d.alert[1]));
                self.alerts += 1;
            }
            TlsKind::EncryptedAlert => self.alerts += 1,
            _ => {}
        }
        d.alert = [0; 2];
        out.events.push(super::AppEvent::Tls(m));
    }

    /// Handshake-record bytes in the clear: assembles messages (split over records and
    /// segments) and parses each. False when the direction was given up.
    fn handshake_bytes(
        &mut self,
        dir: Direction,
        mut chunk: &[u8],
        ctx: SegmentCtx,
        out: &mut TlsOut<'_>,
    ) -> bool {
        while !chunk.is_empty() {
            let d = &mut self.dirs[dir.index()];
            if d.hs_skip > 0 {
                let n = d.hs_skip.min(chunk.len());
                d.hs_skip -= n;
                chunk = &chunk[n..];
                continue;
            }
            if d.hs.is_empty() {
                d.hs_ctx = Some(ctx);
                d.hs_record_version = d.record_version;
            }
            if d.hs.len() < 4 {
                let n = (4 - d.hs.len()).min(chunk.len());
                d.hs.extend_from_slice(&chunk[..n]);
                chunk = &chunk[n..];
                if d.hs.len() < 4 {
                    continue;
                }
            }
            let body_len = match d.hs.as_slice() {
                [_, a, b, c, ..] => u32::from_be_bytes([0, *a, *b, *c]) as usize,
                _ => 0,
            };
            if body_len > MAX_HANDSHAKE {
                let t = d.hs.first().copied().unwrap_or(0);
                let start = d.hs_ctx.unwrap_or(ctx);
                let rv = d.hs_record_version;
                d.hs.clear();
                d.hs_skip = body_len;
                out.stats.cut_bytes += body_len as u64;
                if !d.confirmed {
                    d.phase = Phase::Stopped;
                    out.stats.not_tls += 1;
                    return false;
                }
                let mut m = new_message(out.conn, dir, start, TlsKind::Handshake(t), rv);
                m.length = body_len as u64;
                m.version = self.version;
                m.cipher = self.cipher;
                self.state.stamp(&mut m);
                m.notes.push(format!(
                    "{} of {body_len} bytes is larger than the {MAX_HANDSHAKE}-byte cap: not parsed",
                    tls_handshake_name(t)
                ));
                self.handshakes += 1;
                out.events.push(super::AppEvent::Tls(m));
                continue;
            }
            let want = 4 + body_len - d.hs.len();
            let n = want.min(chunk.len());
            d.hs.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
            if n == want {
                let msg = std::mem::take(&mut d.hs);
                let start = d.hs_ctx.unwrap_or(ctx);
                let rv = d.hs_record_version;
                let ok = self.message(dir, &msg, start, rv, out);
                let d = &mut self.dirs[dir.index()];
                d.hs = msg;
                d.hs.clear();
                if !ok {
                    d.phase = Phase::Stopped;
                    out.stats.not_tls += 1;
                    return false;
                }
            }
        }
        true
    }

    /// One whole handshake message (4-byte header included). False when it is the
    /// direction's first message and does not parse as a hello (not TLS after all).
    fn message(
        &mut self,
        dir: Direction,
        msg: &[u8],
        ctx: SegmentCtx,
        rv: u16,
        out: &mut TlsOut<'_>,
    ) -> bool {
        let t = msg.first().copied().unwrap_or(0);
        let mut m = new_message(out.conn, dir, ctx, TlsKind::Handshake(t), rv);
        m.length = msg.len().saturating_sub(4) as u64;
        let confirmed = self.dirs[dir.index()].confirmed;
        match describe_handshake(msg) {
            Some(facts) => {
                if let Some(session) = self.session.as_deref_mut() {
                    match t {
                        1 => session.client_hello(msg),
                        2 => {
                            let note = session.server_hello(
                                msg,
                                facts.chosen_version,
                                facts.cipher,
                                facts.alpn.first().map(String::as_str),
                                facts.hello_retry,
                                facts.encrypt_then_mac,
                            );
                            if let Some(n) = note {
                                out.stats.no_key += u64::from(n.starts_with("no key"));
                                m.notes.push(n);
                            }
                        }
                        _ => {}
                    }
                }
                take_facts(
                    &mut m,
                    facts,
                    &mut self.version,
                    &mut self.cipher,
                    &mut self.state,
                )
            }
            None => {
                if !confirmed {
                    return false;
                }
                m.notes.push(format!(
                    "{} ({} bytes) did not parse",
                    tls_handshake_name(t),
                    m.length
                ));
            }
        }
        if !confirmed {
            if !matches!(t, 1 | 2) {
                return false;
            }
            self.dirs[dir.index()].confirmed = true;
        }
        m.version = self.version;
        m.cipher = self.cipher;
        self.state.stamp(&mut m);
        self.handshakes += 1;
        out.events.push(super::AppEvent::Tls(m));
        true
    }

    /// Bytes of `dir` were lost: record framing cannot be recovered, give the direction up.
    pub fn on_gap(&mut self, dir: Direction, out: &mut TlsOut<'_>) {
        let d = &mut self.dirs[dir.index()];
        if d.phase != Phase::Stopped {
            out.stats.gaps += 1;
            out.stats.cut_bytes += d.hs.len() as u64;
            d.hs = Vec::new();
            d.phase = Phase::Stopped;
        }
    }

    /// The connection ended: report each direction's application-data total and count
    /// handshake bytes left incomplete.
    pub fn close(&mut self, out: &mut TlsOut<'_>) {
        let mut notes = Vec::new();
        if let Some(session) = self.session.as_deref_mut() {
            session.close(out);
            notes = session.take_notes();
        }
        for dir in [Direction::ToServer, Direction::ToClient] {
            let d = &mut self.dirs[dir.index()];
            out.stats.cut_bytes += d.hs.len() as u64;
            d.hs = Vec::new();
            if let Some((ctx, rv)) = d.app_first.take() {
                let mut m = new_message(out.conn, dir, ctx, TlsKind::ApplicationData, rv);
                m.length = d.app_bytes;
                m.records = d.app_records;
                m.version = self.version;
                m.cipher = self.cipher;
                self.state.stamp(&mut m);
                if let Some(session) = &self.session {
                    m.decrypted_records = session.opened(dir);
                }
                m.notes = std::mem::take(&mut notes);
                out.events.push(super::AppEvent::Tls(m));
            }
        }
    }
}

/// What one handshake message (4-byte header included) says, without connection state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HandshakeFacts {
    /// Handshake type (1 ClientHello, 2 ServerHello, 11 Certificate, …).
    pub kind: u8,
    /// ClientHello: cipher suites and versions offered (GREASE removed; the legacy
    /// version when there is no supported_versions extension).
    pub offered_ciphers: Vec<u16>,
    pub offered_versions: Vec<u16>,
    /// ClientHello: server name; both hellos: ALPN (offered, or chosen).
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// ServerHello: the version chosen (supported_versions for TLS 1.3) and the cipher.
    pub chosen_version: Option<u16>,
    pub cipher: Option<u16>,
    /// ServerHello that is really a HelloRetryRequest.
    pub hello_retry: bool,
    /// ServerHello: encrypt_then_mac (RFC 7366) accepted: CBC records are MACed after
    /// encryption.
    pub encrypt_then_mac: bool,
    /// Certificate: the chain, described.
    pub certificates: Vec<TlsCertificate>,
    /// Certificate: the first certificate's host names (`None` when it does not parse).
    pub leaf_names: Option<super::tls_cert_names::CertHostNames>,
    /// Both hellos: the legacy session id.
    pub session_id: Option<Vec<u8>>,
    /// ClientHello: a non-empty session_ticket extension.
    pub session_ticket: bool,
    /// Both hellos: a pre_shared_key extension.
    pub psk: bool,
    /// ServerHello (and HelloRetryRequest): the key_share's group.
    pub key_share_group: Option<u16>,
    /// ServerKeyExchange: the named curve, when its parameters start like ECDHE's
    /// (curve_type 3, named_curve); it is ECDHE only when the cipher says so.
    pub named_curve: Option<u16>,
}

/// ALPN protocol names as text (lossy UTF-8; the renderers escape them).
fn alpn_names(protos: &[&[u8]]) -> Vec<String> {
    protos
        .iter()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect()
}

/// Parses one handshake message with tls-parser; `None` when it does not parse.
pub fn describe_handshake(msg: &[u8]) -> Option<HandshakeFacts> {
    let mut f = HandshakeFacts {
        kind: msg.first().copied().unwrap_or(0),
        ..HandshakeFacts::default()
    };
    match parse_tls_message_handshake(msg).ok()?.1 {
        PMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) => {
            f.offered_ciphers = ch.ciphers.iter().map(|c| c.0).collect();
            f.session_id = Some(ch.session_id.unwrap_or_default().to_vec());
            let exts = ch
                .ext
                .and_then(|e| parse_tls_client_hello_extensions(e).ok())
                .map(|(_, v)| v)
                .unwrap_or_default();
            for e in &exts {
                match e {
                    TlsExtension::SNI(names) => {
                        if let Some((_, name)) = names.iter().find(|(t, _)| t.0 == 0) {
                            f.sni = Some(String::from_utf8_lossy(name).into_owned());
                        }
                    }
                    TlsExtension::ALPN(protos) => f.alpn = alpn_names(protos),
                    TlsExtension::SupportedVersions(vs) => {
                        f.offered_versions =
                            vs.iter().map(|v| v.0).filter(|&v| !is_grease(v)).collect();
                    }
                    TlsExtension::SessionTicket(t) => f.session_ticket = !t.is_empty(),
                    TlsExtension::PreSharedKey(_) => f.psk = true,
                    _ => {}
                }
            }
            if f.offered_versions.is_empty() {
                f.offered_versions.push(ch.version.0);
            }
        }
        PMessage::Handshake(TlsMessageHandshake::ServerHello(sh)) => {
            let mut version = sh.version.0;
            let exts = sh
                .ext
                .and_then(|e| parse_tls_server_hello_extensions(e).ok())
                .map(|(_, v)| v)
                .unwrap_or_default();
            for e in &exts {
                match e {
                    TlsExtension::SupportedVersions(vs) => {
                        if let Some(v) = vs.first() {
                            version = v.0;
                        }
                    }
                    TlsExtension::ALPN(protos) => f.alpn = alpn_names(protos),
                    TlsExtension::PreSharedKey(_) => f.psk = true,
                    TlsExtension::KeyShare(ks) => {
                        f.key_share_group = ks.get(..2).map(|g| u16::from_be_bytes([g[0], g[1]]));
                    }
                    // (tls-parser 0.12 reads a ServerHello's type 22 as unknown; its
                    // EncryptThenMac there is type 21, padding.)
                    TlsExtension::Unknown(t, _) if t.0 == 22 => f.encrypt_then_mac = true,
                    _ => {}
                }
            }
            f.hello_retry = sh.random == HRR_RANDOM;
            f.session_id = Some(sh.session_id.unwrap_or_default().to_vec());
            f.chosen_version = Some(version);
            f.cipher = Some(sh.cipher.0);
        }
        PMessage::Handshake(TlsMessageHandshake::ServerHelloV13Draft18(sh)) => {
            f.chosen_version = Some(sh.version.0);
            f.cipher = Some(sh.cipher.0);
        }
        PMessage::Handshake(TlsMessageHandshake::ServerKeyExchange(ske)) => {
            if let Some(&[3, a, b]) = ske.parameters.get(..3) {
                f.named_curve = Some(u16::from_be_bytes([a, b]));
            }
        }
        PMessage::Handshake(TlsMessageHandshake::Certificate(c)) => {
            f.certificates = c
                .cert_chain
                .iter()
                .map(|raw| describe_certificate(raw.data))
                .collect();
            f.leaf_names = c
                .cert_chain
                .first()
                .and_then(|raw| super::tls_cert_names::CertHostNames::from_der(raw.data));
        }
        _ => {}
    }
    Some(f)
}

/// Size, subject/issuer common name and validity of a DER certificate, by a small walk of
/// the TBSCertificate (RFC 5280 §4.1); what does not parse is left `None`.
fn describe_certificate(der: &[u8]) -> TlsCertificate {
    use sha2::Digest;
    let mut c = TlsCertificate {
        len: der.len() as u32,
        sha256: sha2::Sha256::digest(der).into(),
        ..TlsCertificate::default()
    };
    let Some((0x30, cert, _)) = der_next(der) else {
        return c;
    };
    let Some((0x30, tbs, _)) = der_next(cert) else {
        return c;
    };
    let mut rest = tbs;
    // [0] version (optional), serialNumber, signature AlgorithmIdentifier.
    let mut fields = Vec::with_capacity(6);
    while let Some((tag, value, next)) = der_next(rest) {
        fields.push((tag, value));
        rest = next;
        if fields.len() == 6 {
            break;
        }
    }
    let skip = usize::from(matches!(fields.first(), Some((0xa0, _))));
    let field = |i: usize| fields.get(skip + i).copied();
    if let Some((0x30, issuer)) = field(2) {
        c.issuer = common_name(issuer);
    }
    if let Some((0x30, validity)) = field(3) {
        if let Some((_, nb, rest)) = der_next(validity) {
            c.not_before = Some(String::from_utf8_lossy(nb).into_owned());
            if let Some((_, na, _)) = der_next(rest) {
                c.not_after = Some(String::from_utf8_lossy(na).into_owned());
            }
        }
    }
    if let Some((0x30, subject)) = field(4) {
        c.subject = common_name(subject);
    }
    c
}

/// "CN=…" of an X.501 Name (SEQUENCE OF SET OF AttributeTypeAndValue).
fn common_name(mut name: &[u8]) -> Option<String> {
    const CN: &[u8] = &[0x55, 0x04, 0x03];
    while let Some((_, set, next)) = der_next(name) {
        name = next;
        let mut attrs = set;
        while let Some((_, atv, next)) = der_next(attrs) {
            attrs = next;
            if let Some((0x06, oid, rest)) = der_next(atv) {
                if oid == CN {
                    if let Some((_, value, _)) = der_next(rest) {
                        return Some(format!("CN={}", String::from_utf8_lossy(value)));
                    }
                }
            }
        }
    }
    None
}

/// One DER TLV: (tag, value, rest). Definite lengths up to 4 bytes only.
fn der_next(i: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, i) = i.split_first()?;
    let (&first, mut i) = i.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = (i.get(..n)?, i.get(n..)?);
        i = rest;
        bytes.iter().fold(0usize, |acc, &b| (acc << 8) | b as usize)
    };
    Some((tag, i.get(..len)?, i.get(len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AppCollector, AppConnStats, AppEvent};
    use crate::capture::Timestamp;
    use crate::decode::LayerName;
    use Direction::{ToClient, ToServer};

    fn ctx(frame: u64) -> SegmentCtx {
        SegmentCtx {
            frame,
            ts: Timestamp {
                secs: 1_000,
                nanos: 0,
                precision: 6,
            },
            handshake_rtt_ns: None,
            ports: None,
        }
    }

    fn with_len16(mut v: Vec<u8>) -> Vec<u8> {
        let n = (v.len() as u16).to_be_bytes();
        v.splice(0..0, n);
        v
    }

    fn ext(t: u16, body: Vec<u8>) -> Vec<u8> {
        let mut e = t.to_be_bytes().to_vec();
        e.extend(with_len16(body));
        e
    }

    /// A record holding one handshake message.
    fn record(rv: u16, hs_type: u8, body: &[u8]) -> Vec<u8> {
        let mut hs = vec![hs_type];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(body);
        let mut r = vec![22];
        r.extend_from_slice(&rv.to_be_bytes());
        r.extend(with_len16(hs));
        r
    }

    /// ClientHello: ciphers 0x1301, 0xc02f, GREASE 0x0a0a; SNI example.com; ALPN h2,
    /// http/1.1; supported_versions GREASE, 1.3, 1.2.
    fn client_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(0);
        b.extend(with_len16(vec![0x13, 0x01, 0xc0, 0x2f, 0x0a, 0x0a]));
        b.extend_from_slice(&[1, 0]);
        let mut sni = vec![0];
        sni.extend(with_len16(b"example.com".to_vec()));
        let mut exts = ext(0, with_len16(sni));
        exts.extend(ext(16, with_len16(b"\x02h2\x08http/1.1".to_vec())));
        exts.extend(ext(43, vec![6, 0x7a, 0x7a, 3, 4, 3, 3]));
        b.extend(with_len16(exts));
        record(0x0301, 1, &b)
    }

    /// TLS 1.3 ServerHello choosing TLS_AES_128_GCM_SHA256.
    fn server_hello_13() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[9; 32]);
        b.push(0);
        b.extend_from_slice(&[0x13, 0x01, 0]);
        b.extend(with_len16(ext(43, vec![3, 4])));
        record(0x0303, 2, &b)
    }

    /// A hello's handshake message (no record header): legacy version 0x0303, `sid` as
    /// session id, cipher 0xc02f (a ClientHello offers it alone), extensions `exts`.
    fn hello(t: u8, sid: &[u8], exts: Vec<u8>) -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.push(sid.len() as u8);
        b.extend_from_slice(sid);
        if t == 1 {
            b.extend(with_len16(vec![0xc0, 0x2f]));
            b.extend_from_slice(&[1, 0]);
        } else {
            b.extend_from_slice(&[0xc0, 0x2f, 0]);
        }
        b.extend(with_len16(exts));
        record(0x0303, t, &b)[5..].to_vec()
    }

    /// Feeds handshake messages `(direction, message)` to a fresh [`HandshakeState`], a
    /// ChangeCipherSpec where the message is empty; returns (curve, resumed).
    fn negotiate(msgs: &[(Direction, Vec<u8>)]) -> (Option<u16>, bool) {
        let state = handshake_state(msgs);
        (state.curve, state.resumed)
    }

    /// The [`HandshakeState`] after `msgs`, as [`negotiate`] feeds them.
    fn handshake_state(msgs: &[(Direction, Vec<u8>)]) -> HandshakeState {
        let (mut version, mut cipher) = (None, None);
        let mut state = HandshakeState::default();
        let ctx = ctx(1);
        for (dir, msg) in msgs {
            if msg.is_empty() {
                state.change_cipher_spec(*dir);
                continue;
            }
            let mut m = new_message(0, *dir, ctx, TlsKind::Handshake(msg[0]), 0x0303);
            let facts = describe_handshake(msg).expect("parses");
            take_facts(&mut m, facts, &mut version, &mut cipher, &mut state);
        }
        state
    }

    /// A Certificate message (TLS ≤ 1.2, no record header) carrying `ders`.
    fn certificate_message(ders: &[&[u8]]) -> Vec<u8> {
        let u24 = |n: usize| (n as u32).to_be_bytes()[1..].to_vec();
        let mut list = Vec::new();
        for d in ders {
            list.extend(u24(d.len()));
            list.extend_from_slice(d);
        }
        let mut body = u24(list.len());
        body.extend(list);
        record(0x0303, 11, &body)[5..].to_vec()
    }

    /// A ClientHello (no record header) naming `sni`.
    fn hello_naming(sni: &str) -> Vec<u8> {
        let mut name = vec![0];
        name.extend(with_len16(sni.as_bytes().to_vec()));
        hello(1, &[], ext(0, with_len16(name)))
    }

    #[test]
    fn sni_matches_the_servers_first_certificate_as_zeek() {
        use crate::app::tls_cert_names::test_der::certificate;
        let san = certificate(&[b"cn.example.org"], Some(&[b"*.example.com"]));
        let cn_only = certificate(&[b"www.example.net"], None);
        let matches = |msgs: &[(Direction, Vec<u8>)]| handshake_state(msgs).sni_matches_cert;
        let server_cert = |ders: &[&[u8]]| (ToClient, certificate_message(ders));
        // The SAN's wildcard covers www.example.com; the CN is not looked at beside a SAN.
        let www = (ToServer, hello_naming("www.example.com"));
        assert_eq!(matches(&[www.clone(), server_cert(&[&san])]), Some(true));
        let cn = (ToServer, hello_naming("cn.example.org"));
        assert_eq!(matches(&[cn.clone(), server_cert(&[&san])]), Some(false));
        // Without a SAN the CN is: equal bytes match, upper case does not.
        let net = (ToServer, hello_naming("www.example.net"));
        assert_eq!(matches(&[net, server_cert(&[&cn_only])]), Some(true));
        let upper = (ToServer, hello_naming("WWW.example.net"));
        assert_eq!(matches(&[upper, server_cert(&[&cn_only])]), Some(false));
        // Only the leaf: a chain whose second certificate would match does not.
        assert_eq!(
            matches(&[cn.clone(), server_cert(&[&cn_only, &san])]),
            Some(false)
        );
        // The server's first certificate stays the one checked.
        assert_eq!(
            matches(&[www.clone(), server_cert(&[&cn_only]), server_cert(&[&san])]),
            Some(false)
        );
        // Unset: no SNI, the client's certificate only, a first certificate that does not
        // parse (Zeek's `cert_chain[0]?$x509` is false: later certificates do not count).
        let no_sni = (ToServer, hello(1, &[], vec![]));
        assert_eq!(matches(&[no_sni, server_cert(&[&san])]), None);
        let client_cert = (ToServer, certificate_message(&[&san]));
        assert_eq!(matches(&[www.clone(), client_cert]), None);
        let garbage = vec![0x30, 3, 1, 2, 3];
        assert_eq!(
            matches(&[www.clone(), server_cert(&[&garbage]), server_cert(&[&san])]),
            None
        );
    }

    /// A TLS 1.3 HelloRetryRequest (RFC 8446 §4.1.4): a ServerHello whose random is the
    /// §4.1.3 constant, asking for an x25519 key share.
    fn hello_retry_request() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&HRR_RANDOM);
        b.push(0);
        b.extend_from_slice(&[0x13, 0x01, 0]);
        let mut exts = ext(43, vec![3, 4]);
        exts.extend(ext(51, vec![0x00, 0x1d]));
        b.extend(with_len16(exts));
        record(0x0303, 2, &b)
    }

    #[test]
    fn hello_retry_request_is_marked() {
        let mut t = AppCollector::new(Default::default());
        t.feed_segment(1, ToServer, &client_hello(), ctx(1));
        t.on_data(1, ToClient, &hello_retry_request(), ctx(2));
        t.on_data(1, ToServer, &client_hello(), ctx(3));
        t.on_data(1, ToClient, &server_hello_13(), ctx(4));
        let m = tls_events(&mut t);
        let kinds: Vec<_> = m.iter().map(|m| (m.kind, m.hello_retry)).collect();
        assert_eq!(
            kinds,
            [
                (TlsKind::Handshake(1), false),
                (TlsKind::Handshake(2), true),
                (TlsKind::Handshake(1), false),
                (TlsKind::Handshake(2), false),
            ]
        );
        // The HelloRetryRequest's key_share names the group the client must send.
        assert_eq!(m[1].curve, Some(0x001d));
    }

    #[test]
    fn resumption_and_curve_as_zeek_computes_them() {
        let sid = [5u8; 32];
        // TLS 1.2, the server echoes the client's session id: resumed (RFC 5246 §7.3).
        let echoed = [
            (ToServer, hello(1, &sid, vec![])),
            (ToClient, hello(2, &sid, vec![])),
        ];
        assert_eq!(negotiate(&echoed), (None, true));
        // A new session id from the server: a full handshake.
        let fresh = [
            (ToServer, hello(1, &sid, vec![])),
            (ToClient, hello(2, &[6; 32], vec![])),
        ];
        assert_eq!(negotiate(&fresh), (None, false));
        // 32 zero bytes do not count as a session id (Zeek's `/^\x00{32}$/`).
        let zeros = [
            (ToServer, hello(1, &[0; 32], vec![])),
            (ToClient, hello(2, &[0; 32], vec![])),
        ];
        assert_eq!(negotiate(&zeros), (None, false));
        // A session ticket with no session id (RFC 5077 §3.4): resumed when the client's
        // ChangeCipherSpec comes with no ClientKeyExchange before it.
        let ticket = ext(35, vec![1, 2, 3]);
        let by_ticket = [
            (ToServer, hello(1, &[], ticket.clone())),
            (ToClient, hello(2, &[9; 32], vec![])),
            (ToClient, vec![]),
            (ToServer, vec![]),
        ];
        assert_eq!(negotiate(&by_ticket), (None, true));
        let cke = {
            let mut m = vec![16, 0, 0, 33, 32];
            m.extend_from_slice(&[1; 32]);
            m
        };
        let full = [
            (ToServer, hello(1, &[], ticket)),
            (ToClient, hello(2, &[9; 32], vec![])),
            (ToServer, cke),
            (ToServer, vec![]),
        ];
        assert_eq!(negotiate(&full), (None, false));
        // ECDHE ServerKeyExchange: curve_type 3 (named_curve), secp256r1 (23).
        let ske = vec![12, 0, 0, 5, 3, 0, 23, 1, 4];
        let ecdhe = [
            (ToServer, hello(1, &[], vec![])),
            (ToClient, hello(2, &[], vec![])),
            (ToClient, ske),
        ];
        assert_eq!(negotiate(&ecdhe), (Some(23), false));
        // TLS 1.3: the ServerHello's key_share x25519 (29); pre_shared_key accepted from
        // the client's offer: resumed; the echoed session id alone does not count.
        let mut sh_exts = ext(43, vec![3, 4]);
        sh_exts.extend(ext(51, vec![0, 29, 0, 1, 0xaa]));
        let mut psk = sh_exts.clone();
        psk.extend(ext(41, vec![0, 0]));
        let tls13 = [
            (ToServer, hello(1, &sid, ext(41, vec![0; 8]))),
            (ToClient, hello(2, &sid, sh_exts)),
        ];
        assert_eq!(negotiate(&tls13), (Some(29), false));
        let tls13_psk = [
            (ToServer, hello(1, &sid, ext(41, vec![0; 8]))),
            (ToClient, hello(2, &sid, psk)),
        ];
        assert_eq!(negotiate(&tls13_psk), (Some(29), true));
        assert_eq!(tls_group_name(29), Some("x25519"));
        assert_eq!(tls_group_name(0x11ec), Some("X25519MLKEM768"));
        assert_eq!(tls_group_name(0x2a2a), Some("grease_0x2A2A"));
        assert_eq!(tls_group_name(999), None);
    }

    fn tls_events(t: &mut AppCollector) -> Vec<TlsMessage> {
        t.drain_events()
            .filter_map(|e| match e {
                AppEvent::Tls(m) => Some(m),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn client_hello_split_over_two_segments() {
        let ch = client_hello();
        assert!(starts_like_client_hello(&ch));
        let mut t = AppCollector::new(Default::default());
        let layers = t.feed_segment(1, ToServer, &ch[..3], ctx(4));
        assert_eq!(layers.app_of(4), Some(LayerName::Tls));
        t.on_data(1, ToServer, &ch[3..60], ctx(5));
        assert!(tls_events(&mut t).is_empty());
        let layers = t.feed_segment(1, ToServer, &ch[60..], ctx(6));
        assert_eq!(layers.app_of(6), Some(LayerName::Tls));
        let m = tls_events(&mut t);
        assert_eq!(m.len(), 1);
        let m = &m[0];
        // The message's first byte (type 1) is byte 5 of the stream: frame 5.
        assert_eq!(
            (m.kind, m.frame, m.dir),
            (TlsKind::Handshake(1), 5, ToServer)
        );
        assert_eq!((m.record_version, m.length), (0x0301, ch.len() as u64 - 9));
        assert_eq!(m.sni.as_deref(), Some("example.com"));
        assert_eq!(m.alpn, vec!["h2", "http/1.1"]);
        assert_eq!(m.offered_versions, vec![0x0304, 0x0303]);
        assert_eq!(m.offered_ciphers, vec![0x1301, 0xc02f, 0x0a0a]);
        assert_eq!((m.version, m.cipher), (None, None));
        // The server answers TLS 1.3, then a fatal alert in the clear.
        t.on_data(1, ToClient, &server_hello_13(), ctx(7));
        t.on_data(1, ToClient, &[21, 3, 3, 0, 2, 2, 40], ctx(8));
        let m = tls_events(&mut t);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].kind, m[0].version, m[0].cipher),
            (TlsKind::Handshake(2), Some(0x0304), Some(0x1301))
        );
        assert_eq!(tls_cipher_name(0x1301), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(
            (m[1].kind, m[1].frame, m[1].alert),
            (TlsKind::Alert, 8, Some((2, 40)))
        );
        assert_eq!(
            (tls_alert_level_name(2), tls_alert_name(40)),
            ("fatal", "handshake_failure")
        );
        t.on_close(1);
        let s: AppConnStats = t.take_conn_stats(1);
        assert_eq!(
            (s.tls_version, s.tls_cipher, s.tls_handshakes, s.tls_alerts),
            (Some(0x0304), Some(0x1301), 2, 1)
        );
    }

    #[test]
    fn tls_after_an_http_connect_tunnel() {
        let mut t = AppCollector::new(Default::default());
        t.on_data(
            2,
            ToServer,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            ctx(4),
        );
        let layers = t.feed_segment(
            2,
            ToClient,
            b"HTTP/1.1 200 Connection established\r\n\r\n",
            ctx(5),
        );
        assert_eq!(layers.app_of(5), Some(LayerName::Http));
        let http = t
            .drain_events()
            .filter(|e| matches!(e, AppEvent::Http(_)))
            .count();
        assert_eq!(http, 1);
        // The ClientHello turns the connection into TLS: it and the ServerHello after it
        // go to the TLS parser, not to the HTTP state (given back at the switch).
        let layers = t.feed_segment(2, ToServer, &client_hello(), ctx(6));
        assert_eq!(layers.app_of(6), Some(LayerName::Tls));
        let layers = t.feed_segment(2, ToClient, &server_hello_13(), ctx(7));
        assert_eq!(layers.app_of(7), Some(LayerName::Tls));
        let kinds: Vec<_> = tls_events(&mut t)
            .iter()
            .map(|m| (m.kind, m.frame))
            .collect();
        assert_eq!(
            kinds,
            [(TlsKind::Handshake(1), 6), (TlsKind::Handshake(2), 7)]
        );
        t.on_close(2);
        let s = t.take_conn_stats(2);
        assert_eq!(
            (
                s.http_requests,
                s.http_responses,
                s.tls_handshakes,
                s.tls_version
            ),
            (1, 1, 2, Some(0x0304))
        );
        // A next HTTP connection takes the given-back state and reads as new.
        t.on_data(3, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(8));
        t.on_data(3, ToClient, b"HTTP/1.1 204 No Content\r\n\r\n", ctx(9));
        let tx: Vec<_> = t
            .drain_events()
            .filter_map(|e| match e {
                AppEvent::Http(h) => Some((h.conn, h.index, h.status)),
                _ => None,
            })
            .collect();
        assert_eq!(tx, [(3, 1, Some(204))]);
    }

    #[test]
    fn byte_by_byte_and_application_data_totals() {
        let mut t = AppCollector::new(Default::default());
        let ch = client_hello();
        for (i, b) in ch.iter().enumerate() {
            t.on_data(2, ToServer, std::slice::from_ref(b), ctx(10 + i as u64));
        }
        let m = tls_events(&mut t);
        assert_eq!((m.len(), m[0].frame), (1, 15));
        // CCS, then two application-data records (3 + 5 bytes) split across segments.
        let stream = [
            20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 3, 1, 2, 3, 23, 3, 3, 0, 5, 1, 2, 3, 4, 5,
        ];
        t.on_data(2, ToServer, &stream[..9], ctx(500));
        t.on_data(2, ToServer, &stream[9..], ctx(501));
        t.on_close(2);
        let m = tls_events(&mut t);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].kind, m[0].frame), (TlsKind::ChangeCipherSpec, 500));
        assert_eq!(
            (m[1].kind, m[1].frame, m[1].length, m[1].records),
            (TlsKind::ApplicationData, 500, 8, 2)
        );
    }

    #[test]
    fn not_tls_although_it_starts_with_0x16() {
        let mut t = AppCollector::new(Default::default());
        // Version 0x0305, then a sane header but handshake type 7, then a hello that does
        // not parse (cipher list length runs past the message).
        let bad: [&[u8]; 3] = [
            b"\x16\x03\x05\x00\x10hello",
            b"\x16\x03\x01\x00\x10\x07\x00\x00\x0c0123456789ab",
            b"\x16\x03\x01\x00\x0a\x01\x00\x00\x06\x03\x03\xff\xff\xff\xff",
        ];
        for (i, b) in bad.iter().enumerate() {
            t.on_data(10 + i as u64, ToServer, b, ctx(1));
            let more = t.feed_segment(10 + i as u64, ToServer, b"more bytes", ctx(2));
            assert_eq!(more.app_of(2), None);
            t.on_close(10 + i as u64);
        }
        assert!(tls_events(&mut t).is_empty());
        // The first two fail the first-bytes check (the connection is not taken for TLS);
        // the third is taken for TLS, then its hello does not parse.
        assert_eq!(t.stats().tls.not_tls, 1);
        assert!(!starts_like_tls(b"\x16\x03\x05"));
        assert!(!starts_like_tls(b"\x16\x03\x01\x48\x01\x01"));
    }

    #[test]
    fn mutated_hellos_never_panic() {
        let seeds = [client_hello(), server_hello_13()];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut t = AppCollector::new(Default::default());
        for round in 0..3000u64 {
            let mut buf = seeds[(next() % 2) as usize].clone();
            for _ in 0..(next() % 6) {
                let i = (next() as usize) % buf.len();
                buf[i] = next() as u8;
            }
            let cut = (next() as usize) % (buf.len() + 1);
            let dir = if next() % 2 == 0 { ToServer } else { ToClient };
            let conn = round % 5;
            match next() % 8 {
                0 => t.on_gap(conn, dir, 10, ctx(round)),
                1 => t.on_close(conn),
                _ => {
                    t.on_data(conn, dir, &buf[..cut], ctx(round));
                    t.on_data(conn, dir, &buf[cut..], ctx(round));
                }
            }
            let _ = t.drain_events().count();
        }
    }

    #[test]
    fn certificate_names_from_der() {
        // SEQ { SEQ(tbs) { [0]{INT 2}, INT 1, SEQ{}, issuer, validity, subject } }
        let name = |cn: &[u8]| {
            let mut atv = vec![0x06, 3, 0x55, 0x04, 0x03, 0x0c, cn.len() as u8];
            atv.extend_from_slice(cn);
            let mut seq = vec![0x30, atv.len() as u8];
            seq.extend(atv);
            let mut set = vec![0x31, seq.len() as u8];
            set.extend(seq);
            let mut n = vec![0x30, set.len() as u8];
            n.extend(set);
            n
        };
        let mut tbs = vec![0xa0, 3, 2, 1, 2, 2, 1, 1, 0x30, 0];
        tbs.extend(name(b"Test CA"));
        tbs.extend_from_slice(b"\x30\x1e\x17\x0d261125203218Z\x17\x0d261126203218Z");
        tbs.extend(name(b"layerscope.test"));
        let mut t = vec![0x30, 0x81, tbs.len() as u8];
        t.extend(tbs);
        let mut der = vec![0x30, 0x81, t.len() as u8];
        der.extend(t);
        let c = describe_certificate(&der);
        assert_eq!(c.len, der.len() as u32);
        assert_eq!(c.subject.as_deref(), Some("CN=layerscope.test"));
        assert_eq!(c.issuer.as_deref(), Some("CN=Test CA"));
        assert_eq!(c.not_before.as_deref(), Some("261125203218Z"));
        assert_eq!(c.not_after.as_deref(), Some("261126203218Z"));
        assert_eq!(describe_certificate(&der[..20]).subject, None);
    }

    /// Collects what the whole pipeline reports.
    #[derive(Default)]
    struct Collect {
        events: Vec<AppEvent>,
        layers: Vec<(u64, Vec<&'static str>)>,
    }

    impl crate::pipeline::Sink for Collect {
        fn packet(
            &mut self,
            f: &crate::capture::RawFrame<'_>,
            p: &crate::decode::DecodedPacket<'_>,
            _: &crate::flow::PacketFlow,
        ) -> std::io::Result<()> {
            self.layers
                .push((f.number, p.layers.iter().map(|l| l.name.as_str()).collect()));
            Ok(())
        }
        fn app_event(&mut self, e: &AppEvent) -> std::io::Result<()> {
            self.events.push(e.clone());
            Ok(())
        }
    }

    fn run_capture(name: &str) -> Collect {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("captures")
            .join(name);
        let mut src = crate::capture::FileSource::open(&path).unwrap();
        let mut c = Collect::default();
        crate::pipeline::run(&mut src, Default::default(), &mut c).unwrap();
        c
    }

    /// (frame, dir, kind, sni, alpn, version, cipher) per TLS event, in order.
    type Row = (
        u64,
        Direction,
        TlsKind,
        Option<String>,
        Vec<String>,
        Option<u16>,
        Option<u16>,
    );

    fn rows(c: &Collect) -> Vec<Row> {
        c.events
            .iter()
            .filter_map(|e| match e {
                AppEvent::Tls(m) => Some((
                    m.frame,
                    m.dir,
                    m.kind,
                    m.sni.clone(),
                    m.alpn.clone(),
                    m.version,
                    m.cipher,
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn tls12_capture_matches_tshark() {
        // tshark: 4 Client Hello (SNI layerscope.test, ALPN h2,http/1.1, 28 suites);
        // 6 Server Hello (0x0303, 0xc030, ALPN http/1.1), Certificate, Server Key Exchange,
        // Server Hello Done; 8 Client Key Exchange, CCS, Encrypted Handshake Message; 9 CCS,
        // Encrypted Handshake Message; 10 / 11 Application Data (108 / 5119 bytes of record
        // body); 12, 14 Encrypted Alert.
        let c = run_capture("tls12.pcap");
        let r = rows(&c);
        let s = |x: &str| Some(x.to_string());
        let v = |x: &[&str]| x.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let (v12, c30) = (Some(0x0303), Some(0xc030));
        assert_eq!(
            r[0],
            (
                4,
                ToServer,
                TlsKind::Handshake(1),
                s("layerscope.test"),
                v(&["h2", "http/1.1"]),
                None,
                None
            )
        );
        assert_eq!(
            r[1],
            (
                6,
                ToClient,
                TlsKind::Handshake(2),
                None,
                v(&["http/1.1"]),
                v12,
                c30
            )
        );
        let kinds: Vec<(u64, TlsKind)> = r.iter().map(|x| (x.0, x.2)).collect();
        assert_eq!(
            kinds,
            vec![
                (4, TlsKind::Handshake(1)),
                (6, TlsKind::Handshake(2)),
                (6, TlsKind::Handshake(11)),
                (6, TlsKind::Handshake(12)),
                (6, TlsKind::Handshake(14)),
                (8, TlsKind::Handshake(16)),
                (8, TlsKind::ChangeCipherSpec),
                (8, TlsKind::EncryptedHandshake),
                (9, TlsKind::ChangeCipherSpec),
                (9, TlsKind::EncryptedHandshake),
                (12, TlsKind::EncryptedAlert),
                (14, TlsKind::EncryptedAlert),
                (10, TlsKind::ApplicationData),
                (11, TlsKind::ApplicationData),
            ]
        );
        let tls: Vec<&TlsMessage> = c
            .events
            .iter()
            .filter_map(|e| match e {
                AppEvent::Tls(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(tls[0].offered_ciphers.len(), 28);
        assert_eq!(tls[2].certificates.len(), 1);
        assert_eq!(
            tls[2].certificates[0].subject.as_deref(),
            Some("CN=layerscope.test")
        );
        assert_eq!((tls[12].length, tls[13].length), (108, 5119));
        // tshark: tls.handshake.server_named_curve 0x001d in frame 6's ServerKeyExchange;
        // the client's session id is empty (no resumption); the certificate's DER
        // (tls.handshake.certificate) | sha256sum.
        assert_eq!(
            (tls[1].curve, tls[3].curve, tls[13].curve),
            (None, Some(29), Some(29))
        );
        assert!(tls.iter().all(|m| !m.resumed));
        let fp: String = tls[2].certificates[0]
            .sha256
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            fp,
            "bf079a173a1faa95ddd2d6a3ba2eec8135bee4086c268496184cc3c96c9f9e24"
        );
        assert_eq!(
            tls_cipher_name(0xc030),
            Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        );
        assert_eq!(c.layers[3], (4, vec!["eth", "ipv4", "tcp", "tls"]));
        assert_eq!(c.layers[4].1.last(), Some(&"tcp"));
    }

    #[test]
    fn tls13_capture_matches_tshark() {
        // tshark: 4 Client Hello (supported_versions 0x0304 only, suites 0x1302, 0x1303,
        // 0x1301, 0x00ff); 6 Server Hello (supported_version 0x0304, 0x1302), CCS, then 4
        // Application Data records; 8 CCS + 1; 9, 10, 11, 12, 13, 15 one each.
        let c = run_capture("tls13.pcap");
        let r = rows(&c);
        let kinds: Vec<(u64, Direction, TlsKind)> = r.iter().map(|x| (x.0, x.1, x.2)).collect();
        assert_eq!(
            kinds,
            vec![
                (4, ToServer, TlsKind::Handshake(1)),
                (6, ToClient, TlsKind::Handshake(2)),
                (6, ToClient, TlsKind::ChangeCipherSpec),
                (8, ToServer, TlsKind::ChangeCipherSpec),
                (8, ToServer, TlsKind::ApplicationData),
                (6, ToClient, TlsKind::ApplicationData),
            ]
        );
        assert_eq!((r[1].5, r[1].6), (Some(0x0304), Some(0x1302)));
        let tls: Vec<&TlsMessage> = c
            .events
            .iter()
            .filter_map(|e| match e {
                AppEvent::Tls(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(tls[0].offered_versions, vec![0x0304]);
        assert_eq!(tls[0].offered_ciphers, vec![0x1302, 0x1303, 0x1301, 0x00ff]);
        assert_eq!(tls[0].sni.as_deref(), Some("layerscope.test"));
        assert_eq!((tls[4].records, tls[5].records), (3, 8));
        assert_eq!(tls_version_name(0x0304), "TLS 1.3");
        // tshark: tls.handshake.extensions_key_share_group 29 in the ServerHello; no
        // pre_shared_key (extension.type 41) in either hello: not resumed, although the
        // server echoes the session id (TLS 1.3 middlebox compatibility, RFC 8446 §4.1.3).
        assert_eq!((tls[0].curve, tls[1].curve), (None, Some(29)));
        assert!(tls.iter().all(|m| !m.resumed));
    }
}
