//! One TLS connection opened with a key log: finds the connection's secrets by its
//! ClientHello random, derives each direction's record keys ([`super::tls_decrypt`]),
//! opens the records in order, follows TLS 1.3's key schedule (handshake keys until the
//! direction's Finished, then the traffic keys, then one step per KeyUpdate) and hands the
//! plaintext of application-data records to the HTTP stage exactly as a cleartext TCP
//! stream is handed over.
//!
//! The record framing stays [`super::tls::TlsConn`]'s: it collects each record that needs
//! opening (at most [`super::MAX_RECORD_BODY`] bytes a direction) and calls
//! [`TlsSession::record`] when the record is whole.

use super::dns::{Decoded, DnsTcpDir};
use super::follow_watch::FollowWatch;
use super::http::{classify_start, HttpConn, Out, Start};
use super::http2::{H2Out, Http2Conn};
use super::http2_frame::PREFACE;
use super::keylog::KeyLog;
use super::tls::TlsOut;
use super::tls_decrypt::{suite, RecordKeys};
use super::{AppEvent, FrameNames};
use crate::decode::LayerName;
use crate::flow::{Direction, SegmentCtx};
use std::sync::Arc;

/// Most notes one connection's session keeps (the rest are counted in the last one).
const MAX_NOTES: usize = 8;
/// Most key-log look-ups for one connection (a log that is still being written, `live`).
const MAX_LOOKUPS: u8 = 4;
/// Most plaintext a server sends before the client's first bytes that is kept until they
/// say which protocol the connection speaks (TLS 1.3 hides ALPN).
const MAX_EARLY_SERVER: usize = 16 << 10;

const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;

/// Whether the connection's keys are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyState {
    /// Not looked up yet (or not everything needed is known yet).
    Unknown,
    /// The key log has no (usable) secret for this client random.
    Missing,
    /// The cipher suite is not one decrypted here.
    Unsupported,
    Ready,
}

/// TLS 1.3 handshake messages inside decrypted records: their types (Finished switches to
/// the traffic keys, KeyUpdate to the next ones), so the scan keeps a header; and the
/// server's EncryptedExtensions, for the ALPN protocol it chose.
#[derive(Debug, Default)]
struct HandshakeScan {
    hdr: [u8; 4],
    hdr_len: usize,
    /// Body bytes of the current message still to pass.
    skip: usize,
}

impl HandshakeScan {
    /// Feeds one record's handshake bytes; returns (Finished seen, KeyUpdates seen). The
    /// ALPN protocol of an EncryptedExtensions whole in the record goes to `alpn`.
    fn feed(&mut self, mut data: &[u8], alpn: &mut Option<String>) -> (bool, u32) {
        let (mut finished, mut updates) = (false, 0u32);
        while !data.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(data.len());
                self.skip -= n;
                data = &data[n..];
                continue;
            }
            let n = (4 - self.hdr_len).min(data.len());
            self.hdr[self.hdr_len..self.hdr_len + n].copy_from_slice(&data[..n]);
            self.hdr_len += n;
            data = &data[n..];
            if self.hdr_len == 4 {
                let [t, a, b, c] = self.hdr;
                match t {
                    20 => finished = true,
                    24 => updates += 1,
                    _ => {}
                }
                self.skip = u32::from_be_bytes([0, a, b, c]) as usize;
                self.hdr_len = 0;
                if let (8, Some(body)) = (t, data.get(..self.skip)) {
                    *alpn = encrypted_extensions_alpn(body).or(alpn.take());
                }
            }
        }
        (finished, updates)
    }
}

/// The ALPN protocol in an EncryptedExtensions message's body (RFC 8446 §4.3.1).
fn encrypted_extensions_alpn(body: &[u8]) -> Option<String> {
    let (_, exts) = tls_parser::parse_tls_extensions(body.get(2..)?).ok()?;
    exts.iter().find_map(|e| match e {
        tls_parser::TlsExtension::ALPN(protos) => protos
            .first()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        _ => None,
    })
}

/// One direction's keys and plaintext.
#[derive(Debug, Default)]
struct SessionDir {
    /// Keys opening this direction's records now.
    keys: Option<RecordKeys>,
    /// TLS 1.2: keys that take over at this direction's ChangeCipherSpec.
    pending: Option<RecordKeys>,
    /// TLS 1.3: the first traffic secret, for after this direction's Finished.
    traffic: Option<Vec<u8>>,
    /// The key-log line whose secret made `keys` ("SERVER_TRAFFIC_SECRET_0", …), and the
    /// key updates since.
    secret: &'static str,
    updates: u32,
    scan: HandshakeScan,
    /// A record did not open: the sequence is lost, the rest stays encrypted.
    stopped: bool,
    opened: u64,
    plain: Vec<u8>,
}

/// What is inside the decrypted application data.
#[derive(Debug)]
enum Inner {
    Undecided,
    Http(Box<HttpConn>),
    Http2(Box<Http2Conn>),
    /// DNS over TLS (RFC 7858: ALPN "dot" or port 853): messages with a 2-byte length
    /// prefix, as over TCP.
    Dns(Box<[DnsTcpDir; 2]>),
    /// Not a protocol read here: counted only.
    Other,
}

/// How a record was opened, for `explain`: the key-log label of the secret and the
/// plaintext's content type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    pub secret: &'static str,
    pub key_updates: u32,
    pub content_type: u8,
}

/// Bytes of a record kept for `explain` (ciphertext and plaintext, the first bytes).
pub const WATCH_BYTES: usize = 256;

/// One record completed in the watched frame: what `explain --frame N` shows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordDetail {
    pub frame: u64,
    pub dir: Direction,
    /// The 5-byte record header as sent.
    pub header: [u8; 5],
    /// The record body as sent (first [`WATCH_BYTES`]) and its length.
    pub ciphertext: Vec<u8>,
    pub ciphertext_len: usize,
    /// How it opened: the key-log secret, and the plaintext (first [`WATCH_BYTES`]).
    pub opened: Option<Opened>,
    pub plaintext: Vec<u8>,
    pub plaintext_len: usize,
    /// Why it did not open.
    pub not_opened: Option<String>,
}

/// Records of one frame that the TLS stage keeps for `explain` (at most 16).
#[derive(Debug, Default)]
pub struct RecordWatch {
    pub frame: u64,
    pub records: std::sync::Mutex<Vec<RecordDetail>>,
    /// QUIC Handshake and 1-RTT packets of the frame (at most 16).
    pub quic: std::sync::Mutex<Vec<super::quic::session::QuicPacketDetail>>,
}

impl RecordWatch {
    pub fn new(frame: u64) -> RecordWatch {
        RecordWatch {
            frame,
            records: Default::default(),
            quic: Default::default(),
        }
    }

    /// The records kept so far.
    pub fn take(&self) -> Vec<RecordDetail> {
        self.records
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    /// The QUIC packets kept so far.
    pub fn take_quic(&self) -> Vec<super::quic::session::QuicPacketDetail> {
        self.quic
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }

    pub(crate) fn keep_quic(&self, d: super::quic::session::QuicPacketDetail) {
        if let Ok(mut r) = self.quic.lock() {
            if r.len() < 16 {
                r.push(d);
            }
        }
    }

    fn keep(&self, d: RecordDetail) {
        if let Ok(mut r) = self.records.lock() {
            if r.len() < 16 {
                r.push(d);
            }
        }
    }
}

/// A TLS connection's decryption state (see the module's documentation).
#[derive(Debug)]
pub(crate) struct TlsSession {
    keylog: Arc<KeyLog>,
    watch: Option<Arc<RecordWatch>>,
    client_random: Option<[u8; 32]>,
    server_random: Option<[u8; 32]>,
    version: Option<u16>,
    cipher: Option<u16>,
    /// ALPN chosen by the server.
    alpn: Option<String>,
    /// RFC 7366 negotiated (CBC suites).
    encrypt_then_mac: bool,
    keys: KeyState,
    lookups: u8,
    dirs: [SessionDir; 2],
    inner: Inner,
    /// Server plaintext before the client's first (TLS 1.3 HTTP/2: SETTINGS), and the
    /// record that completed its first byte.
    early_server: Vec<u8>,
    early_ctx: Option<SegmentCtx>,
    /// For the connection's records: why nothing (or not everything) was opened.
    notes: Vec<String>,
    notes_cut: u64,
    /// The last reason the keys could not be had.
    why_not: Option<String>,
    /// The connection uses port 853 (DNS over TLS).
    pub(crate) dot_port: bool,
    /// DNS messages read from the plaintext, waiting for the caller (which matches
    /// queries and responses on the connection).
    pub(crate) dns_found: Vec<(Decoded, SegmentCtx)>,
}

/// The start of a client random as notes show it: "3a9f1c2d…".
fn random_prefix(r: &[u8; 32]) -> String {
    let mut s: String = r[..8].iter().map(|b| format!("{b:02x}")).collect();
    s.push('…');
    s
}

impl TlsSession {
    pub(crate) fn new(keylog: Arc<KeyLog>, watch: Option<Arc<RecordWatch>>) -> TlsSession {
        TlsSession {
            keylog,
            watch,
            client_random: None,
            server_random: None,
            version: None,
            cipher: None,
            alpn: None,
            encrypt_then_mac: false,
            keys: KeyState::Unknown,
            lookups: 0,
            dirs: Default::default(),
            inner: Inner::Undecided,
            early_server: Vec::new(),
            early_ctx: None,
            notes: Vec::new(),
            notes_cut: 0,
            dot_port: false,
            dns_found: Vec::new(),
            why_not: None,
        }
    }

    /// Why the connection's records cannot be opened: a note, kept for `explain` too.
    fn fail(&mut self, n: String) {
        self.why_not = Some(n.clone());
        self.note(n);
    }

    fn note(&mut self, n: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(n);
        } else {
            self.notes_cut += 1;
        }
    }

    /// The notes gathered so far (taken: each is reported once).
    pub(crate) fn take_notes(&mut self) -> Vec<String> {
        if self.notes_cut > 0 {
            let cut = std::mem::take(&mut self.notes_cut);
            self.notes
                .push(format!("{cut} more notes on decryption not kept"));
        }
        std::mem::take(&mut self.notes)
    }

    /// Records opened in `dir` so far.
    pub(crate) fn opened(&self, dir: Direction) -> u64 {
        self.dirs[dir.index()].opened
    }

    /// HTTP requests and responses read inside the decrypted stream.
    pub(crate) fn http_counts(&self) -> Option<(u64, u64)> {
        match &self.inner {
            Inner::Http(h) => Some((h.requests, h.responses)),
            Inner::Http2(h) => Some((h.requests, h.responses)),
            _ => None,
        }
    }

    /// A ClientHello (4-byte header included): its random names the connection in the log.
    pub(crate) fn client_hello(&mut self, msg: &[u8]) {
        if let Some(r) = msg.get(6..38).and_then(|r| <[u8; 32]>::try_from(r).ok()) {
            // (A second ClientHello after a HelloRetryRequest keeps the same random.)
            self.client_random = Some(r);
        }
    }

    /// A ServerHello: its random (TLS 1.2 key expansion), the version and cipher chosen.
    /// Returns a note for the ServerHello's record when the keys cannot be had.
    pub(crate) fn server_hello(
        &mut self,
        msg: &[u8],
        version: Option<u16>,
        cipher: Option<u16>,
        alpn: Option<&str>,
        hello_retry: bool,
        encrypt_then_mac: bool,
    ) -> Option<String> {
        if hello_retry {
            return None;
        }
        self.server_random = msg.get(6..38).and_then(|r| <[u8; 32]>::try_from(r).ok());
        self.version = version;
        self.cipher = cipher;
        self.alpn = alpn.map(str::to_string);
        self.encrypt_then_mac = encrypt_then_mac;
        if self.derive() {
            return None;
        }
        // (The note goes on the ServerHello; the session's own notes need not repeat it.)
        self.notes.pop()
    }

    /// Looks the secrets up and makes the keys; true when they are ready.
    fn derive(&mut self) -> bool {
        match self.keys {
            KeyState::Ready => return true,
            KeyState::Unsupported => return false,
            KeyState::Unknown | KeyState::Missing => {}
        }
        let (Some(cr), Some(cipher), Some(version)) =
            (self.client_random, self.cipher, self.version)
        else {
            return false;
        };
        if version < 0x0303 {
            self.keys = KeyState::Unsupported;
            self.fail(format!(
                "{} records are not decrypted here (only TLS 1.2 and 1.3)",
                super::tls_version_name(version)
            ));
            return false;
        }
        let Some(s) = suite(cipher) else {
            self.keys = KeyState::Unsupported;
            let name = super::tls_cipher_name(cipher)
                .map_or_else(|| format!("0x{cipher:04x}"), str::to_string);
            self.fail(format!(
                "cipher suite {name} is not one decrypted here: records stay encrypted"
            ));
            return false;
        };
        if self.lookups >= MAX_LOOKUPS {
            return false;
        }
        self.lookups += 1;
        let first = self.keys == KeyState::Unknown;
        self.keys = KeyState::Missing;
        let secrets = self.keylog.lookup(&cr).unwrap_or_default();
        let ready = if version == 0x0304 {
            match (&secrets.client_handshake, &secrets.server_handshake) {
                (Some(c), Some(sv)) => {
                    let (ck, sk) = (RecordKeys::tls13(s, c), RecordKeys::tls13(s, sv));
                    let ok = ck.is_some() && sk.is_some();
                    let [cd, sd] = &mut self.dirs;
                    cd.keys = ck;
                    cd.secret = "CLIENT_HANDSHAKE_TRAFFIC_SECRET";
                    cd.traffic = secrets.client_traffic.clone();
                    sd.keys = sk;
                    sd.secret = "SERVER_HANDSHAKE_TRAFFIC_SECRET";
                    sd.traffic = secrets.server_traffic.clone();
                    ok
                }
                _ => false,
            }
        } else {
            match (&secrets.master, &self.server_random) {
                (Some(m), Some(sr)) => match RecordKeys::tls12(s, m, &cr, sr) {
                    Some((mut c, mut sv)) => {
                        c.encrypt_then_mac = self.encrypt_then_mac;
                        sv.encrypt_then_mac = self.encrypt_then_mac;
                        let [cd, sd] = &mut self.dirs;
                        cd.pending = Some(c);
                        cd.secret = "CLIENT_RANDOM";
                        sd.pending = Some(sv);
                        sd.secret = "CLIENT_RANDOM";
                        true
                    }
                    None => false,
                },
                _ => false,
            }
        };
        if ready {
            self.keys = KeyState::Ready;
            self.why_not = None;
            // A "no key" note from an earlier look-up no longer holds.
            self.notes
                .retain(|n| !n.starts_with("no key for client random"));
            return true;
        }
        if first {
            let what = if version == 0x0304 {
                "TLS 1.3 handshake traffic secrets"
            } else {
                "CLIENT_RANDOM master secret"
            };
            self.fail(format!(
                "no key for client random {} (the key log has no {what} for it): records stay encrypted",
                random_prefix(&cr)
            ));
        }
        false
    }

    /// True when records of `dir` with content type `ct`, after a ChangeCipherSpec or not,
    /// are to be collected and opened.
    pub(crate) fn wants(&self, dir: Direction, ct: u8, after_ccs: bool) -> bool {
        if self.keys == KeyState::Unsupported || self.dirs[dir.index()].stopped {
            return false;
        }
        match self.version {
            Some(0x0304) => ct == CT_APPLICATION_DATA,
            Some(_) => after_ccs && ct != 20,
            None => false,
        }
    }

    /// A record of `len` bytes of `dir`, whose header came in frame `frame`, is longer than
    /// the decryption buffer (`cap`): not opened, and (its sequence number lost with it)
    /// neither is the rest of the direction.
    pub(crate) fn record_over_buffer(
        &mut self,
        dir: Direction,
        len: usize,
        cap: usize,
        frame: u64,
    ) {
        self.dirs[dir.index()].stopped = true;
        let side = match dir {
            Direction::ToServer => "client",
            Direction::ToClient => "server",
        };
        self.note(format!(
            "{side} record of {len} bytes (header in frame {frame}) is longer than the {cap}-byte decryption buffer (--max-tls-record): the rest of this direction stays encrypted"
        ));
    }

    /// `dir` sent ChangeCipherSpec: TLS 1.2's keys take over from its next record.
    pub(crate) fn change_cipher_spec(&mut self, dir: Direction) {
        if self.version == Some(0x0304) || !self.derive() {
            return;
        }
        let d = &mut self.dirs[dir.index()];
        if let Some(k) = d.pending.take() {
            d.keys = Some(k);
        }
    }

    /// One whole record of `dir` (`header`, `body`), completed by the segment `ctx`.
    /// Opens it and hands its plaintext on; returns how it was opened, None when not.
    pub(crate) fn record(
        &mut self,
        dir: Direction,
        header: &[u8; 5],
        body: &[u8],
        ctx: SegmentCtx,
        out: &mut TlsOut<'_>,
    ) -> Option<Opened> {
        let notes_before = self.notes.len();
        let opened = self.open_record(dir, header, body, ctx, out);
        if let Some(w) = self.watch.as_ref().filter(|w| w.frame == ctx.frame) {
            let plain = &self.dirs[dir.index()].plain;
            let not_opened = match opened {
                Some(_) => None,
                None => Some(
                    self.notes
                        .get(notes_before)
                        .or(self
                            .why_not
                            .as_ref()
                            .filter(|_| self.keys != KeyState::Ready))
                        .cloned()
                        .unwrap_or_else(|| match self.keys {
                            KeyState::Ready => {
                                "this direction stopped opening records after one did not open"
                                    .to_string()
                            }
                            _ => "the key log has no secret for this connection".to_string(),
                        }),
                ),
            };
            w.keep(RecordDetail {
                frame: ctx.frame,
                dir,
                header: *header,
                ciphertext: body[..body.len().min(WATCH_BYTES)].to_vec(),
                ciphertext_len: body.len(),
                opened,
                plaintext: if opened.is_some() {
                    plain[..plain.len().min(WATCH_BYTES)].to_vec()
                } else {
                    Vec::new()
                },
                plaintext_len: if opened.is_some() { plain.len() } else { 0 },
                not_opened,
            });
        }
        opened
    }

    fn open_record(
        &mut self,
        dir: Direction,
        header: &[u8; 5],
        body: &[u8],
        ctx: SegmentCtx,
        out: &mut TlsOut<'_>,
    ) -> Option<Opened> {
        if !self.derive() {
            return None;
        }
        let tls13 = self.version == Some(0x0304);
        let d = &mut self.dirs[dir.index()];
        if d.stopped {
            return None;
        }
        let keys = d.keys.as_mut()?;
        let suite = keys.suite();
        let mut plain = std::mem::take(&mut d.plain);
        let ty = match keys.open(header, body, &mut plain) {
            Ok(ty) => ty,
            Err(e) => {
                d.stopped = true;
                d.plain = plain;
                out.stats.decrypt_failures += 1;
                let side = match dir {
                    Direction::ToServer => "client",
                    Direction::ToClient => "server",
                };
                self.note(format!(
                    "{side} record of {} bytes completed in frame {} did not open: {e}; the rest of this direction stays encrypted",
                    body.len(),
                    ctx.frame
                ));
                return None;
            }
        };
        out.stats.decrypted_records += 1;
        d.opened += 1;
        let opened = Opened {
            secret: d.secret,
            key_updates: d.updates,
            content_type: ty,
        };
        match ty {
            CT_HANDSHAKE if tls13 => {
                let (finished, updates) = d.scan.feed(&plain, &mut self.alpn);
                if finished {
                    match d.traffic.take() {
                        Some(t) => {
                            d.keys = RecordKeys::tls13(suite, &t);
                            d.secret = match dir {
                                Direction::ToServer => "CLIENT_TRAFFIC_SECRET_0",
                                Direction::ToClient => "SERVER_TRAFFIC_SECRET_0",
                            };
                        }
                        None => {
                            d.keys = None;
                            d.stopped = true;
                        }
                    }
                }
                for _ in 0..updates {
                    d.keys = d.keys.as_ref().and_then(RecordKeys::updated);
                    d.updates += 1;
                }
                if d.keys.is_none() && !d.stopped {
                    d.stopped = true;
                }
                if d.stopped {
                    self.note(
                        "the key log has no traffic secret for after the handshake: application data stays encrypted"
                            .to_string(),
                    );
                }
            }
            CT_APPLICATION_DATA => self.app_data(dir, &plain, ctx, out),
            CT_ALERT => {}
            _ => {}
        }
        self.dirs[dir.index()].plain = plain;
        Some(opened)
    }

    /// Plaintext application data of `dir`: to the HTTP stage when it reads as HTTP.
    fn app_data(&mut self, dir: Direction, plain: &[u8], ctx: SegmentCtx, out: &mut TlsOut<'_>) {
        if plain.is_empty() {
            return;
        }
        if let Inner::Undecided = self.inner {
            let preface = dir == Direction::ToServer && plain.starts_with(b"PRI * HTTP/2.0");
            let http1 = classify_start(plain) != Start::No;
            if self.alpn.is_none()
                && dir == Direction::ToClient
                && !http1
                && self.early_server.len() + plain.len() <= MAX_EARLY_SERVER
            {
                // TLS 1.3 chooses ALPN in the encrypted extensions: a server that speaks
                // first (HTTP/2's SETTINGS) waits for the client's first bytes to decide.
                if self.early_server.is_empty() {
                    self.early_ctx = Some(ctx);
                }
                self.early_server.extend_from_slice(plain);
                return;
            }
            let dot = self.alpn.as_deref() == Some("dot") || self.dot_port;
            self.inner = if self.alpn.as_deref() == Some("h2") || preface {
                Inner::Http2(Box::new(Http2Conn::new().configured(out.config, out.conn)))
            } else if dot && !http1 {
                Inner::Dns(Box::default())
            } else if http1 {
                Inner::Http(Box::new(HttpConn::new()))
            } else {
                Inner::Other
            };
            let early = std::mem::take(&mut self.early_server);
            if let (Inner::Http2(_), Some(early_ctx)) = (&self.inner, self.early_ctx.take()) {
                if dir == Direction::ToServer && !early.is_empty() {
                    // The client's preface first, then what the server sent before it.
                    let (first, rest) = plain.split_at(plain.len().min(PREFACE.len()));
                    self.app_data(dir, first, ctx, out);
                    self.app_data(Direction::ToClient, &early, early_ctx, out);
                    self.app_data(dir, rest, ctx, out);
                    return;
                }
            }
        }
        if let (Some(w), false) = (
            FollowWatch::of(out.config.follow_watch.as_ref(), out.conn),
            matches!(self.inner, Inner::Http2(_)),
        ) {
            // `follow` shows what HTTP/2 read as frames, anything else as it came.
            w.plain(dir, ctx.frame, plain);
        }
        if let Some(layer) = self.inner_step(Step::Data(dir, plain, ctx), out) {
            out.inner_layer = Some(layer);
        }
    }

    /// The connection ended: the HTTP stage reports what is still open.
    pub(crate) fn close(&mut self, out: &mut TlsOut<'_>) {
        self.inner_step(Step::Close, out);
    }

    /// One step of the plaintext's own protocol (HTTP/1.x, HTTP/2, DNS): the layer it
    /// showed; the HTTP records it made say they were read from decrypted TLS.
    fn inner_step(&mut self, step: Step<'_>, out: &mut TlsOut<'_>) -> Option<LayerName> {
        let before = out.events.len();
        let layer = match &mut self.inner {
            Inner::Http(h) => {
                let mut o = Out {
                    conn: out.conn,
                    config: out.config,
                    events: out.events,
                    stats: out.http,
                };
                match step {
                    Step::Data(dir, plain, ctx) => h
                        .on_data(dir.index(), plain, ctx, &mut o)
                        .then_some(LayerName::Http),
                    Step::Close => {
                        h.close(&mut o);
                        None
                    }
                }
            }
            Inner::Http2(h) => {
                let mut o = H2Out {
                    conn: out.conn,
                    events: out.events,
                    stats: &mut out.stats.http2,
                    frames: FrameNames::NONE,
                };
                let layer = match step {
                    Step::Data(dir, plain, ctx) => h
                        .on_data(dir, plain, ctx, &mut o)
                        .then_some(LayerName::Http2),
                    Step::Close => {
                        h.close(&mut o);
                        None
                    }
                };
                out.inner_frames.merge(o.frames);
                layer
            }
            Inner::Dns(dirs) => match step {
                Step::Data(dir, plain, ctx) => dirs[dir.index()]
                    .feed(plain, ctx, &mut self.dns_found)
                    .then_some(LayerName::Dns),
                Step::Close => None,
            },
            Inner::Undecided | Inner::Other => None,
        };
        mark_decrypted(&mut out.events[before..]);
        layer
    }
}

/// What the plaintext's protocol is given: bytes of one direction, or the end.
#[derive(Clone, Copy)]
enum Step<'a> {
    Data(Direction, &'a [u8], SegmentCtx),
    Close,
}

/// HTTP records read from decrypted TLS say so.
fn mark_decrypted(events: &mut [AppEvent]) {
    for e in events {
        if let AppEvent::Http(t) = e {
            t.decrypted = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_scan_finds_finished_and_key_updates_across_records() {
        let mut s = HandshakeScan::default();
        // EncryptedExtensions (2 bytes) and the first 2 header bytes of Finished.
        let mut alpn = None;
        assert_eq!(s.feed(&[8, 0, 0, 2, 0, 0, 20, 0], &mut alpn), (false, 0));
        assert_eq!(alpn, None);
        // The rest of Finished's header, its 32-byte body, then a KeyUpdate.
        let mut rest = vec![0, 32];
        rest.extend_from_slice(&[0xaa; 32]);
        assert_eq!(s.feed(&rest, &mut alpn), (true, 0));
        assert_eq!(s.feed(&[24, 0, 0, 1, 0], &mut alpn), (false, 1));
    }

    #[test]
    fn encrypted_extensions_say_the_alpn_protocol() {
        // EncryptedExtensions (RFC 8446 §4.3.1): 9 bytes of extensions, one ALPN (0x0010)
        // of 5 bytes: a 3-byte list of the one 2-byte protocol "h2".
        let msg = [8, 0, 0, 11, 0, 9, 0, 0x10, 0, 5, 0, 3, 2, b'h', b'2'];
        let mut s = HandshakeScan::default();
        let mut alpn = None;
        s.feed(&msg[..13], &mut alpn);
        // Cut in the middle: not read (the ClientHello's ALPN offer decides then).
        assert_eq!(alpn, None);
        let mut s = HandshakeScan::default();
        s.feed(&msg, &mut alpn);
        assert_eq!(alpn.as_deref(), Some("h2"));
    }
}
