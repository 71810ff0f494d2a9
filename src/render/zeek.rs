//! Zeek logs: `conn.log`, `http.log`, `dns.log` and `ssl.log` in Zeek's tab-separated
//! format (the `#separator` … `#types` header, `#close` footer) or Zeek's JSON logs (one
//! object per line), with Zeek's field names, order and types, so that tools built on Zeek
//! logs (zeek-cut, Zui/SuperDB, RITA, Elastic's Zeek integration, Spark/DuckDB readers of
//! Zeek TSV) read them as they read Zeek's.
//!
//! Values follow Zeek's documentation (`base/protocols/conn/main.zeek` and the HTTP, DNS
//! and SSL scripts); where layerscope does not know a field it is unset (`-`), as Zeek
//! leaves an optional field it did not fill. What differs from Zeek is listed in the
//! README ("Zeek logs").
//!
//! Memory: records are written as they come through one buffered file per log. Per open
//! connection the sink keeps its endpoints (for the HTTP/DNS/SSL records that come before
//! the connection ends), its SSL facts, and at most [`MAX_DNS_WAITING`] unanswered DNS
//! queries over all connections (beyond that a query is logged alone at once, as Zeek
//! logs a query whose reply never came).

use crate::app::{AppConnStats, AppEvent, DnsMessage, HttpTransaction, TlsKind, TlsMessage};
use crate::capture::{RawFrame, Timestamp};
use crate::decode::{DecodedPacket, LayerName};
use crate::flow::{community_id, ConnId, ConnSummary, Direction, PacketFlow};
use crate::pipeline::{RunSummary, Sink};
use rustc_hash::FxHashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

mod tunnel;
use tunnel::TunnelRef;

/// Unanswered DNS queries held for their response, over all connections.
pub const MAX_DNS_WAITING: usize = 10_000;

/// Zeek's ASCII writer (`LogAscii::use_json=F`) or its JSON writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZeekFormat {
    Tsv,
    Json,
}

/// One field's value.
#[derive(Clone, Debug)]
enum Val<'a> {
    Unset,
    Time(Timestamp),
    /// Nanoseconds.
    Interval(i128),
    Str(&'a str),
    Owned(String),
    Addr(IpAddr),
    Port(u16),
    Count(u64),
    Bool(bool),
    /// A set or vector of strings (`(empty)` in TSV when empty).
    Strs(Vec<String>),
    /// A vector of intervals, nanoseconds.
    Intervals(Vec<i128>),
}

/// The logs, their fields and Zeek types, in Zeek's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LogKind {
    Conn,
    Http,
    Dns,
    Ssl,
    Tunnel,
}

const ID_FIELDS: [(&str, &str); 4] = [
    ("id.orig_h", "addr"),
    ("id.orig_p", "port"),
    ("id.resp_h", "addr"),
    ("id.resp_p", "port"),
];

/// conn.log (Zeek's `Conn::Info`), then `community_id` (Zeek's
/// `policy/protocols/conn/community-id-logging`), then layerscope's additions.
const CONN_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ID_FIELDS[0],
    ID_FIELDS[1],
    ID_FIELDS[2],
    ID_FIELDS[3],
    ("proto", "enum"),
    ("service", "string"),
    ("duration", "interval"),
    ("orig_bytes", "count"),
    ("resp_bytes", "count"),
    ("conn_state", "string"),
    ("local_orig", "bool"),
    ("local_resp", "bool"),
    ("missed_bytes", "count"),
    ("history", "string"),
    ("orig_pkts", "count"),
    ("orig_ip_bytes", "count"),
    ("resp_pkts", "count"),
    ("resp_ip_bytes", "count"),
    ("tunnel_parents", "set[string]"),
    ("community_id", "string"),
    ("handshake_rtt", "interval"),
];

/// http.log (Zeek's `HTTP::Info`).
const HTTP_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ID_FIELDS[0],
    ID_FIELDS[1],
    ID_FIELDS[2],
    ID_FIELDS[3],
    ("trans_depth", "count"),
    ("method", "string"),
    ("host", "string"),
    ("uri", "string"),
    ("referrer", "string"),
    ("version", "string"),
    ("user_agent", "string"),
    ("origin", "string"),
    ("request_body_len", "count"),
    ("response_body_len", "count"),
    ("status_code", "count"),
    ("status_msg", "string"),
    ("info_code", "count"),
    ("info_msg", "string"),
    ("tags", "set[enum]"),
    ("username", "string"),
    ("password", "string"),
    ("proxied", "set[string]"),
    ("orig_fuids", "vector[string]"),
    ("orig_filenames", "vector[string]"),
    ("orig_mime_types", "vector[string]"),
    ("resp_fuids", "vector[string]"),
    ("resp_filenames", "vector[string]"),
    ("resp_mime_types", "vector[string]"),
    // layerscope's additions (JSON http `request_ms`, `server_ms`, `transfer_ms`, here as
    // Zeek intervals in seconds).
    ("request_time", "interval"),
    ("server_time", "interval"),
    ("transfer_time", "interval"),
];

/// dns.log (Zeek's `DNS::Info`).
const DNS_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ID_FIELDS[0],
    ID_FIELDS[1],
    ID_FIELDS[2],
    ID_FIELDS[3],
    ("proto", "enum"),
    ("trans_id", "count"),
    ("rtt", "interval"),
    ("query", "string"),
    ("qclass", "count"),
    ("qclass_name", "string"),
    ("qtype", "count"),
    ("qtype_name", "string"),
    ("rcode", "count"),
    ("rcode_name", "string"),
    ("AA", "bool"),
    ("TC", "bool"),
    ("RD", "bool"),
    ("RA", "bool"),
    ("Z", "count"),
    ("answers", "vector[string]"),
    ("TTLs", "vector[interval]"),
    ("rejected", "bool"),
];

/// ssl.log (Zeek's `SSL::Info`).
const SSL_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    ID_FIELDS[0],
    ID_FIELDS[1],
    ID_FIELDS[2],
    ID_FIELDS[3],
    ("version", "string"),
    ("cipher", "string"),
    ("curve", "string"),
    ("server_name", "string"),
    ("resumed", "bool"),
    ("last_alert", "string"),
    ("next_protocol", "string"),
    ("established", "bool"),
    ("ssl_history", "string"),
    ("cert_chain_fps", "vector[string]"),
    ("client_cert_chain_fps", "vector[string]"),
    ("sni_matches_cert", "bool"),
];

impl LogKind {
    const ALL: [LogKind; 5] = [
        LogKind::Conn,
        LogKind::Http,
        LogKind::Dns,
        LogKind::Ssl,
        LogKind::Tunnel,
    ];
    fn path(self) -> &'static str {
        match self {
            LogKind::Conn => "conn",
            LogKind::Http => "http",
            LogKind::Dns => "dns",
            LogKind::Ssl => "ssl",
            LogKind::Tunnel => "tunnel",
        }
    }
    fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            LogKind::Conn => CONN_FIELDS,
            LogKind::Http => HTTP_FIELDS,
            LogKind::Dns => DNS_FIELDS,
            LogKind::Ssl => SSL_FIELDS,
            LogKind::Tunnel => tunnel::TUNNEL_FIELDS,
        }
    }
}

/// dns.log's class and flags of a query `q` and its response `r` (`r` is `q` for a
/// message logged alone), as Zeek's `base/protocols/dns/main.zeek` sets them: `qclass`,
/// `RD`, `TC` and `Z` from the query (`dns_request`), `AA` and `RA` from a response with an
/// answer (`DNS::do_reply`), `rejected` for a response without a question and a non-zero
/// RCODE, or with a question and no record in any section (`dns_rejected`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct DnsFlags {
    qclass: Option<u16>,
    aa: bool,
    tc: bool,
    rd: bool,
    ra: bool,
    z: u8,
    rejected: bool,
}

impl DnsFlags {
    fn of(q: &DnsMessage, r: Option<&DnsMessage>) -> DnsFlags {
        let mut f = DnsFlags::default();
        if !q.response {
            f.qclass = q.qclass;
            f.rd = q.flags & 0x0100 != 0;
            f.tc = q.flags & 0x0200 != 0;
            f.z = ((q.flags & 0x0070) >> 4) as u8;
        }
        if let Some(r) = r.filter(|r| r.response) {
            if !r.answers.is_empty() {
                f.aa = r.flags & 0x0400 != 0;
                f.ra = r.flags & 0x0080 != 0;
            }
            let [qd, an, ns, ar] = r.counts;
            let rcode = r.flags & 0x000f;
            f.rejected = (rcode != 0 && qd == 0) || (qd > 0 && an == 0 && ns == 0 && ar == 0);
        }
        f
    }
}

/// Zeek's name of a DNS class (`DNS::classes`: its `&default` for the others).
fn qclass_name(class: u16) -> String {
    match class {
        1 => "C_INTERNET".into(),
        2 => "C_CSNET".into(),
        3 => "C_CHAOS".into(),
        4 => "C_HESIOD".into(),
        254 => "C_NONE".into(),
        255 => "C_ANY".into(),
        n => format!("qclass-{n}"),
    }
}

/// Zeek's `ssl_history` letter of a handshake message type (`ssl_handshake_message` in
/// `base/protocols/ssl/main.zeek`), lower case; hellos (1, 2) are handled by the caller.
fn history_letter(msg_type: u8) -> u8 {
    match msg_type {
        0 => b'h',
        1 => b'c',
        2 => b's',
        3 => b'v',
        4 => b't',
        5 => b'e',
        6 => b'j',
        8 => b'o',
        11 => b'x',
        12 => b'k',
        13 => b'r',
        14 => b'n',
        15 => b'y',
        16 => b'g',
        20 => b'f',
        21 => b'w',
        22 => b'u',
        23 => b'a',
        24 => b'p',
        254 => b'm',
        _ => b'z',
    }
}

/// The encapsulations of a packet with an IP tunnel in it (two IP headers or more, or GRE);
/// None for any other packet (checked from the decoded layer names, without reading).
#[inline]
fn ip_encapsulation(
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
) -> Option<crate::decode::Encapsulation> {
    let mut ip_layers = 0;
    let mut gre = false;
    for l in &packet.layers {
        match l.name {
            LayerName::Ipv4 | LayerName::Ipv6 => ip_layers += 1,
            LayerName::Gre => gre = true,
            _ => {}
        }
    }
    if ip_layers > 1 || gre {
        crate::decode::Encapsulation::of(frame.data, packet)
    } else {
        None
    }
}

/// A certificate chain's fingerprints: unset when there was none (Zeek's `&optional`).
fn fps_val(fps: Vec<String>) -> Val<'static> {
    if fps.is_empty() {
        Val::Unset
    } else {
        Val::Strs(fps)
    }
}

/// A connection's endpoints in Zeek's originator → responder order.
#[derive(Clone, Copy, Debug)]
struct Ends {
    orig: SocketAddr,
    resp: SocketAddr,
}

/// What ssl.log says of one connection, gathered from its TLS messages.
#[derive(Clone, Debug, Default)]
struct SslFacts {
    ts: Option<Timestamp>,
    version: Option<u16>,
    cipher: Option<u16>,
    curve: Option<u16>,
    resumed: bool,
    server_name: Option<String>,
    next_protocol: Option<String>,
    last_alert: Option<u8>,
    /// ChangeCipherSpec or encrypted handshake seen from (client, server).
    finished: [bool; 2],
    server_hello: bool,
    /// Zeek's `ssl_history` letters (client hello `C`, server hello `S`, …; upper case from
    /// the originator), at most [`MAX_SSL_HISTORY`].
    history: String,
    /// SHA-256 of the certificates of the server's and the client's Certificate messages
    /// (TLS ≤ 1.2), lowercase hex, in order, at most [`MAX_CHAIN_FPS`] each.
    cert_chain_fps: Vec<String>,
    client_cert_chain_fps: Vec<String>,
    /// From the app stage ([`TlsMessage::sni_matches_cert`]).
    sni_matches_cert: Option<bool>,
}

/// Zeek's `SSL::max_ssl_history_length`: letters beyond it are dropped, as Zeek drops them.
const MAX_SSL_HISTORY: usize = 100;

/// Certificate fingerprints kept per side of one connection; further ones are dropped.
const MAX_CHAIN_FPS: usize = 16;

/// Writes Zeek logs into a folder.
pub struct ZeekSink {
    dir: PathBuf,
    format: ZeekFormat,
    community_id_seed: u16,
    /// Keys the uids of this run.
    uid_key: (u64, u64),
    files: [Option<BufWriter<File>>; 5],
    /// Endpoints of the connections seen and not ended (from their first packet).
    ends: FxHashMap<ConnId, Ends>,
    ssl: FxHashMap<ConnId, SslFacts>,
    /// Unanswered DNS queries by (connection, transaction id).
    /// (Zeek's `pending_queries`: a query repeated with the same id waits behind the
    /// first, and a response answers the oldest.) At most [`MAX_DNS_WAITING`] in all.
    dns_waiting: FxHashMap<(ConnId, u16), std::collections::VecDeque<DnsMessage>>,
    dns_waiting_count: usize,
    /// Records logged without their partner because of [`MAX_DNS_WAITING`].
    pub dns_unpaired: u64,
    /// Records written per log (conn, http, dns, ssl, tunnel).
    pub written: [u64; 5],
    /// UDP tunnels discovered and not closed (tunnel.log).
    tunnels: tunnel::Tunnels,
}

/// An optional string field.
fn opt(s: &Option<String>) -> Val<'_> {
    s.as_deref().map_or(Val::Unset, Val::Str)
}

/// An optional string field, unset unless `keep`.
fn opt_if(keep: bool, s: &Option<String>) -> Val<'_> {
    if keep {
        opt(s)
    } else {
        Val::Unset
    }
}

impl ZeekSink {
    /// Logs into `dir` (created when missing); uids keyed by `uid_key` (any numbers: a run
    /// with the same key gives the same uids).
    pub fn new(dir: PathBuf, format: ZeekFormat, uid_key: (u64, u64)) -> io::Result<ZeekSink> {
        std::fs::create_dir_all(&dir)?;
        Ok(ZeekSink {
            dir,
            format,
            community_id_seed: community_id::DEFAULT_SEED,
            uid_key,
            files: [None, None, None, None, None],
            ends: FxHashMap::default(),
            ssl: FxHashMap::default(),
            dns_waiting: FxHashMap::default(),
            dns_waiting_count: 0,
            dns_unpaired: 0,
            written: [0; 5],
            tunnels: tunnel::Tunnels::default(),
        })
    }

    pub fn set_community_id_seed(&mut self, seed: u16) {
        self.community_id_seed = seed;
    }

    /// Zeek's uid of connection `id`: `C` and a base62 number (96 bits, as Zeek's).
    pub fn uid(&self, id: ConnId) -> String {
        uid_of(self.uid_key, id)
    }

    fn file(&mut self, kind: LogKind) -> io::Result<&mut BufWriter<File>> {
        let i = kind as usize;
        if self.files[i].is_none() {
            let path = self.dir.join(format!("{}.log", kind.path()));
            let mut w = BufWriter::with_capacity(1 << 16, File::create(path)?);
            if self.format == ZeekFormat::Tsv {
                write_header(&mut w, kind)?;
            }
            self.files[i] = Some(w);
        }
        self.files[i]
            .as_mut()
            .ok_or_else(|| io::Error::other("log file not open"))
    }

    fn write(&mut self, kind: LogKind, vals: &[Val<'_>]) -> io::Result<()> {
        let format = self.format;
        let w = self.file(kind)?;
        match format {
            ZeekFormat::Tsv => write_tsv_row(w, vals)?,
            ZeekFormat::Json => write_json_row(w, kind.fields(), vals)?,
        }
        self.written[kind as usize] += 1;
        Ok(())
    }

    fn ends_of(&self, conn: ConnId) -> Option<Ends> {
        self.ends.get(&conn).copied()
    }

    fn id_vals(ends: Option<Ends>) -> [Val<'static>; 4] {
        match ends {
            Some(e) => [
                Val::Addr(e.orig.ip()),
                Val::Port(e.orig.port()),
                Val::Addr(e.resp.ip()),
                Val::Port(e.resp.port()),
            ],
            None => [Val::Unset, Val::Unset, Val::Unset, Val::Unset],
        }
    }

    fn http(&mut self, t: &HttpTransaction) -> io::Result<()> {
        let ends = self.ends_of(t.conn);
        let [a, b, c, d] = Self::id_vals(ends);
        // Zeek's HTTP analyzer takes a request line only with a method and a URI ("OPTIONS"
        // alone is a `bad_HTTP_request` weird): without one the record is the response's
        // alone, timed by it, at the depth of the requests before it.
        let request = t.method.is_some() && t.uri.as_deref().is_some_and(|u| !u.is_empty());
        let ts = if request {
            t.request_ts.or(t.response_ts)
        } else {
            t.response_ts.or(t.request_ts)
        };
        let depth = if request {
            t.index
        } else {
            t.index.saturating_sub(1)
        };
        let version = t
            .version
            .as_deref()
            .filter(|_| request)
            .or(t.response_version.as_deref())
            .map(|v| v.strip_prefix("HTTP/").unwrap_or(v));
        let vals = [
            ts.map_or(Val::Unset, Val::Time),
            Val::Owned(self.uid(t.conn)),
            a,
            b,
            c,
            d,
            Val::Count(u64::from(depth)),
            opt_if(request, &t.method),
            opt_if(request, &t.host),
            opt_if(request, &t.uri),
            Val::Unset,
            version.map_or(Val::Unset, Val::Str),
            Val::Unset,
            Val::Unset,
            // Zeek counts body bytes of both messages, 0 when there was none.
            Val::Count(t.request_body_bytes.unwrap_or(0)),
            Val::Count(t.response_body_bytes.unwrap_or(0)),
            t.status.map_or(Val::Unset, |s| Val::Count(u64::from(s))),
            opt(&t.reason),
            Val::Unset,
            Val::Unset,
            Val::Strs(Vec::new()),
            Val::Unset,
            Val::Unset,
            Val::Unset,
            Val::Unset,
            Val::Unset,
            Val::Unset,
            Val::Unset,
            Val::Unset,
            Val::Unset,
            t.request_ns().map_or(Val::Unset, Val::Interval),
            t.server_ns().map_or(Val::Unset, Val::Interval),
            t.transfer_ns().map_or(Val::Unset, Val::Interval),
        ];
        self.write(LogKind::Http, &vals)
    }

    fn dns(&mut self, m: &DnsMessage) -> io::Result<()> {
        if !m.response {
            if self.dns_waiting_count < MAX_DNS_WAITING {
                self.dns_waiting
                    .entry((m.conn, m.id))
                    .or_default()
                    .push_back(m.clone());
                self.dns_waiting_count += 1;
                return Ok(());
            }
            self.dns_unpaired += 1;
            return self.dns_record(m, None);
        }
        let key = (m.conn, m.id);
        let oldest = match self.dns_waiting.get_mut(&key) {
            Some(queue) => {
                let q = queue.pop_front();
                if queue.is_empty() {
                    self.dns_waiting.remove(&key);
                }
                q
            }
            None => None,
        };
        match oldest {
            Some(q) => {
                self.dns_waiting_count -= 1;
                self.dns_record(&q, Some(m))
            }
            None => self.dns_record(m, Some(m)),
        }
    }

    /// One dns.log record: the query (or, without one, the response's question) and the
    /// response's answers.
    fn dns_record(&mut self, q: &DnsMessage, r: Option<&DnsMessage>) -> io::Result<()> {
        let ends = self.ends_of(q.conn);
        let [a, b, c, d] = Self::id_vals(ends);
        let rtt = match r {
            Some(r) if !std::ptr::eq(q, r) => Val::Interval(r.ts.nanos_since(&q.ts)),
            _ => Val::Unset,
        };
        let (rcode, rcode_name) = match r {
            Some(r) => (
                rcode_number(&r.rcode).map_or(Val::Unset, Val::Count),
                Val::Str(r.rcode.as_str()),
            ),
            None => (Val::Unset, Val::Unset),
        };
        let answers = match r {
            Some(r) if !r.answers.is_empty() => Val::Strs(r.answers.clone()),
            _ => Val::Unset,
        };
        let flags = DnsFlags::of(q, r);
        let ttls = match r {
            Some(r) if !r.answers.is_empty() && !r.ttls.is_empty() => Val::Intervals(
                r.ttls
                    .iter()
                    .map(|&t| i128::from(t) * 1_000_000_000)
                    .collect(),
            ),
            _ => Val::Unset,
        };
        let qclass = flags.qclass;
        let qtype = qtype_number(&q.qtype);
        let vals = [
            Val::Time(q.ts),
            Val::Owned(self.uid(q.conn)),
            a,
            b,
            c,
            d,
            Val::Str(if q.tcp { "tcp" } else { "udp" }),
            Val::Count(u64::from(q.id)),
            rtt,
            if q.qname.is_empty() {
                Val::Unset
            } else {
                Val::Str(&q.qname)
            },
            qclass.map_or(Val::Unset, |c| Val::Count(u64::from(c))),
            qclass.map_or(Val::Unset, |c| Val::Owned(qclass_name(c))),
            qtype.map_or(Val::Unset, Val::Count),
            if q.qtype.is_empty() {
                Val::Unset
            } else {
                Val::Str(&q.qtype)
            },
            rcode,
            rcode_name,
            Val::Bool(flags.aa),
            Val::Bool(flags.tc),
            Val::Bool(flags.rd),
            Val::Bool(flags.ra),
            Val::Count(u64::from(flags.z)),
            answers,
            ttls,
            Val::Bool(flags.rejected),
        ];
        self.write(LogKind::Dns, &vals)
    }

    fn tls(&mut self, m: &TlsMessage) {
        let facts = self.ssl.entry(m.conn).or_default();
        if facts.ts.is_none() {
            facts.ts = Some(m.ts);
        }
        let from_orig = m.dir == Direction::ToServer;
        let mut letter = |c: u8| {
            if facts.history.len() < MAX_SSL_HISTORY {
                let c = if from_orig { c.to_ascii_uppercase() } else { c };
                facts.history.push(char::from(c));
            }
        };
        match m.kind {
            TlsKind::Handshake(1) => {
                letter(b'c');
                if m.sni.is_some() {
                    facts.server_name.clone_from(&m.sni);
                }
            }
            TlsKind::Handshake(2) => {
                // Zeek's `hrr_seen`: a ServerHello with the HelloRetryRequest random is `j`.
                letter(if m.hello_retry { b'j' } else { b's' });
                facts.server_hello = true;
                facts.version = m.version.or(facts.version);
                facts.cipher = m.cipher.or(facts.cipher);
                if let Some(p) = m.alpn.first() {
                    facts.next_protocol = Some(p.clone());
                }
            }
            TlsKind::Handshake(t) => letter(history_letter(t)),
            TlsKind::ChangeCipherSpec | TlsKind::EncryptedHandshake => {
                if m.kind == TlsKind::ChangeCipherSpec {
                    letter(b'i');
                }
                facts.finished[m.dir.index()] = true;
            }
            // Zeek's `ssl_alert` is raised for alerts in the clear only.
            TlsKind::Alert => {
                letter(b'l');
                if let Some((_, desc)) = m.alert {
                    facts.last_alert = Some(desc);
                }
            }
            TlsKind::EncryptedAlert => {}
            TlsKind::ApplicationData => {}
        }
        facts.curve = m.curve.or(facts.curve);
        facts.resumed |= m.resumed;
        if m.sni_matches_cert.is_some() {
            facts.sni_matches_cert = m.sni_matches_cert;
        }
        if !m.certificates.is_empty() {
            let fps = if from_orig {
                &mut facts.client_cert_chain_fps
            } else {
                &mut facts.cert_chain_fps
            };
            for c in &m.certificates {
                if fps.len() < MAX_CHAIN_FPS {
                    fps.push(c.sha256_hex());
                }
            }
        }
        if m.version.is_some() && facts.version.is_none() && facts.server_hello {
            facts.version = m.version;
        }
    }

    fn ssl_record(&mut self, conn: &ConnSummary, facts: SslFacts) -> io::Result<()> {
        let ends = zeek_ends(conn);
        let [a, b, c, d] = Self::id_vals(Some(ends));
        // TLS 1.3 sends no ChangeCipherSpec of substance: established once the server's
        // encrypted handshake (or, for ≤ 1.2, both ChangeCipherSpecs) was seen.
        let established = facts.server_hello
            && match facts.version {
                Some(0x0304) => facts.finished[1],
                _ => facts.finished[0] && facts.finished[1],
            };
        let vals = [
            facts.ts.map_or(Val::Time(conn.start), Val::Time),
            Val::Owned(self.uid(conn.id)),
            a,
            b,
            c,
            d,
            facts
                .version
                .and_then(zeek_tls_version)
                .map_or(Val::Unset, Val::Str),
            facts
                .cipher
                .and_then(crate::app::tls_cipher_name)
                .map_or(Val::Unset, Val::Str),
            facts.curve.map_or(Val::Unset, |g| {
                crate::app::tls_group_name(g)
                    .map_or_else(|| Val::Owned(format!("unknown-{g}")), Val::Str)
            }),
            facts.server_name.as_deref().map_or(Val::Unset, Val::Str),
            Val::Bool(facts.resumed),
            facts
                .last_alert
                .map_or(Val::Unset, |d| Val::Owned(alert_name(d))),
            facts.next_protocol.as_deref().map_or(Val::Unset, Val::Str),
            Val::Bool(established),
            if facts.history.is_empty() {
                Val::Unset
            } else {
                Val::Str(&facts.history)
            },
            fps_val(facts.cert_chain_fps),
            fps_val(facts.client_cert_chain_fps),
            facts.sni_matches_cert.map_or(Val::Unset, Val::Bool),
        ];
        self.write(LogKind::Ssl, &vals)
    }

    /// tunnel.log: the UDP tunnels a packet came through that were not seen before.
    #[inline(never)]
    fn tunnel_packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        let mut found: arrayvec::ArrayVec<
            (ConnId, tunnel::Tunnel),
            { crate::decode::MAX_OUTER_FLOWS },
        > = arrayvec::ArrayVec::new();
        let ends = &self.ends;
        self.tunnels.packet(
            &packet.outer_flows,
            (&flow.outer_conns, flow.conn),
            |c| ends.get(&c).copied(),
            |c, t| {
                let _ = found.try_push((c, t));
            },
        );
        for (conn, t) in found {
            self.tunnel_record(frame.ts, TunnelRef::Conn(conn), t, "Tunnel::DISCOVER")?;
        }
        Ok(())
    }

    /// tunnel.log: a connection started; the tunnels it started in (UDP tunnels: `outer_conns`;
    /// IP in IP and GRE: read from the packet, only when it has such layers) are in use.
    #[inline(never)]
    fn tunnels_new_conn(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
        conn: ConnId,
    ) -> io::Result<()> {
        let encap = ip_encapsulation(frame, packet);
        let mut found: Vec<(TunnelRef, tunnel::Tunnel)> = Vec::new();
        self.tunnels
            .new_conn(conn, frame.ts, &flow.outer_conns, encap.as_ref(), |r, t| {
                found.push((r, t))
            });
        for (r, t) in found {
            self.tunnel_record(frame.ts, r, t, "Tunnel::DISCOVER")?;
        }
        Ok(())
    }

    /// A later packet of connection `conn`: the IP tunnels (IP in IP, GRE) it came through
    /// join the connection's `tunnel_parents` (and tunnel.log when new), as Zeek's
    /// `tunnel_changed` adds them when a connection's encapsulation changes.
    #[inline]
    fn tunnels_ip_packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        conn: ConnId,
    ) -> io::Result<()> {
        let Some(encap) = ip_encapsulation(frame, packet) else {
            return Ok(());
        };
        let mut found: Vec<(TunnelRef, tunnel::Tunnel)> = Vec::new();
        self.tunnels
            .ip_tunnels(conn, frame.ts, &encap, false, |r, t| found.push((r, t)));
        for (r, t) in found {
            self.tunnel_record(frame.ts, r, t, "Tunnel::DISCOVER")?;
        }
        Ok(())
    }

    /// tunnel.log: `Tunnel::EXPIRE` for the tunnels idle for an hour at `now`.
    fn expire_tunnels(&mut self, now: Timestamp) -> io::Result<()> {
        let mut gone: Vec<(TunnelRef, tunnel::Tunnel)> = Vec::new();
        self.tunnels.expire(now, |r, t| gone.push((r, t)));
        for (r, t) in gone {
            self.tunnel_record(now, r, t, "Tunnel::EXPIRE")?;
        }
        Ok(())
    }

    /// The uid of a tunnel: its connection's, or for an IP tunnel one of its own (keyed
    /// apart from the connection uids).
    fn tunnel_uid(&self, r: TunnelRef) -> String {
        match r {
            TunnelRef::Conn(c) => self.uid(c),
            TunnelRef::Ip(serial) => uid_of((!self.uid_key.0, self.uid_key.1), serial),
        }
    }

    fn tunnel_record(
        &mut self,
        ts: Timestamp,
        r: TunnelRef,
        t: tunnel::Tunnel,
        action: &'static str,
    ) -> io::Result<()> {
        let [a, b, c, d] = Self::id_vals(Some(t.ends));
        let vals = [
            Val::Time(ts),
            Val::Owned(self.tunnel_uid(r)),
            a,
            b,
            c,
            d,
            Val::Str(t.kind),
            Val::Str(action),
        ];
        self.write(LogKind::Tunnel, &vals)
    }

    /// conn.log's record; `tunnel_service` names the tunnel a UDP connection carried
    /// (Zeek's analyzer name, e.g. `vxlan`), which is its service when nothing else is.
    fn conn_record(
        &mut self,
        conn: &ConnSummary,
        app: &AppConnStats,
        tunnel_service: Option<&'static str>,
    ) -> io::Result<()> {
        let ends = zeek_ends(conn);
        let [a, b, c, d] = Self::id_vals(Some(ends));
        let (orig, resp) = if conn.zeek_flipped {
            (Direction::ToClient, Direction::ToServer)
        } else {
            (Direction::ToServer, Direction::ToClient)
        };
        let service = zeek_service(app).or(tunnel_service);
        let parents = self.tunnels.parents_of(conn.id);
        let duration = conn.zeek_end.nanos_since(&conn.start).max(0);
        let missed = conn.gap_bytes.to_server + conn.gap_bytes.to_client;
        let cid = community_id::of_conn(conn, self.community_id_seed);
        // Zeek's `Conn::set_conn` fills duration and the byte counts only when the
        // duration is above zero.
        let timed = duration > 0;
        let count_if = |n: u64| if timed { Val::Count(n) } else { Val::Unset };
        let vals = [
            Val::Time(conn.start),
            Val::Owned(self.uid(conn.id)),
            a,
            b,
            c,
            d,
            Val::Str(conn.proto.zeek_name()),
            service.map_or(Val::Unset, Val::Str),
            if timed {
                Val::Interval(duration)
            } else {
                Val::Unset
            },
            count_if(conn.zeek_sizes.0),
            count_if(conn.zeek_sizes.1),
            Val::Str(conn.conn_state),
            // No local networks are configured: no address is local (Zeek's `F`).
            Val::Bool(false),
            Val::Bool(false),
            Val::Count(missed),
            if conn.history.is_empty() {
                Val::Unset
            } else {
                Val::Str(&conn.history)
            },
            Val::Count(conn.packets.get(orig)),
            Val::Count(conn.ip_bytes.get(orig)),
            Val::Count(conn.packets.get(resp)),
            Val::Count(conn.ip_bytes.get(resp)),
            // Zeek's tunnel_parents: the uids of the innermost tunnels that carried it.
            if parents.is_empty() {
                Val::Unset
            } else {
                Val::Strs(parents.iter().map(|&r| self.tunnel_uid(r)).collect())
            },
            cid.map_or(Val::Unset, Val::Owned),
            match (
                conn.handshake.syn_to_synack_ns,
                conn.handshake.synack_to_ack_ns,
            ) {
                (Some(x), Some(y)) => Val::Interval(i128::from(x) + i128::from(y)),
                _ => Val::Unset,
            },
        ];
        self.write(LogKind::Conn, &vals)
    }
}

/// The connection's endpoints as Zeek orders them.
fn zeek_ends(conn: &ConnSummary) -> Ends {
    if conn.zeek_flipped {
        Ends {
            orig: conn.server,
            resp: conn.client,
        }
    } else {
        Ends {
            orig: conn.client,
            resp: conn.server,
        }
    }
}

/// Zeek's `service` for what the app stage recognised on a connection (Zeek's analyzer
/// names, sorted and comma-joined as Zeek logs the set).
pub fn zeek_service(app: &AppConnStats) -> Option<&'static str> {
    let http = app.http_requests + app.http_responses > 0;
    let dns = app.dns_messages > 0;
    let quic = app.quic_long_packets > 0;
    let ssl = app.tls_handshakes > 0 || app.tls_version.is_some();
    Some(match (dns, http, quic, ssl) {
        (_, _, true, _) => "quic,ssl",
        (true, true, _, _) => "dns,http",
        (true, _, _, _) => "dns",
        (_, true, _, true) => "http,ssl",
        (_, true, _, _) => "http",
        (_, _, _, true) => "ssl",
        _ => return None,
    })
}

/// Zeek's `SSL::version_strings`.
fn zeek_tls_version(v: u16) -> Option<&'static str> {
    Some(match v {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        0xfeff => "DTLSv10",
        0xfefd => "DTLSv12",
        0xfefc => "DTLSv13",
        _ => return None,
    })
}

/// Zeek's `SSL::alert_descriptions`: the RFC names (the app stage's table), `unknown-N`
/// for a number without one.
fn alert_name(d: u8) -> String {
    match crate::app::tls_alert_name(d) {
        "unknown" => format!("unknown-{d}"),
        name => name.to_string(),
    }
}

/// The DNS type number of a type name layerscope writes ("A", "AAAA", or a number).
fn qtype_number(name: &str) -> Option<u64> {
    Some(match name {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "SOA" => 6,
        "PTR" => 12,
        "HINFO" => 13,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        "SRV" => 33,
        "NAPTR" => 35,
        "OPT" => 41,
        "DS" => 43,
        "RRSIG" => 46,
        "NSEC" => 47,
        "DNSKEY" => 48,
        "SVCB" => 64,
        "HTTPS" => 65,
        "AXFR" => 252,
        "ANY" | "*" => 255,
        "CAA" => 257,
        other => {
            let digits = other.strip_prefix("TYPE").unwrap_or(other);
            return digits.parse().ok();
        }
    })
}

/// The DNS rcode number of an rcode name.
fn rcode_number(name: &str) -> Option<u64> {
    Some(match name {
        "NOERROR" => 0,
        "FORMERR" => 1,
        "SERVFAIL" => 2,
        "NXDOMAIN" => 3,
        "NOTIMP" => 4,
        "REFUSED" => 5,
        "YXDOMAIN" => 6,
        "YXRRSET" => 7,
        "NXRRSET" => 8,
        "NOTAUTH" => 9,
        "NOTZONE" => 10,
        other => return other.parse().ok(),
    })
}

/// `C` + base62 of 96 bits derived from `key` and the connection id (SipHash-like mixing
/// through two rounds of splitmix64: distinct ids give distinct numbers).
fn uid_of(key: (u64, u64), id: ConnId) -> String {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    // `mix` is a bijection of u64: distinct ids give distinct `hi`, so distinct uids.
    let hi = mix(id ^ key.0);
    let lo = mix(hi ^ key.1) & 0xffff_ffff;
    let mut n = (u128::from(hi) << 32) | u128::from(lo);
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(18);
    while n > 0 {
        out.push(DIGITS[(n % 62) as usize]);
        n /= 62;
    }
    out.push(b'C');
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `YYYY-MM-DD-HH-MM-SS` (UTC) of seconds since the epoch, as Zeek's `#open`/`#close`.
fn zeek_log_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}-{:02}-{:02}-{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// The TSV header Zeek's ASCII writer starts a log with.
fn write_header(w: &mut impl Write, kind: LogKind) -> io::Result<()> {
    w.write_all(b"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n")?;
    writeln!(w, "#path\t{}", kind.path())?;
    writeln!(w, "#open\t{}", zeek_log_time(now_secs()))?;
    w.write_all(b"#fields")?;
    for (name, _) in kind.fields() {
        write!(w, "\t{name}")?;
    }
    w.write_all(b"\n#types")?;
    for (_, ty) in kind.fields() {
        write!(w, "\t{ty}")?;
    }
    w.write_all(b"\n")
}

/// Zeek's `%.6f` of a time or interval in nanoseconds (rounded to the microsecond).
fn write_seconds(w: &mut impl Write, ns: i128) -> io::Result<()> {
    let us = if ns >= 0 {
        (ns + 500) / 1000
    } else {
        (ns - 500) / 1000
    };
    let sign = if us < 0 { "-" } else { "" };
    let us = us.unsigned_abs();
    write!(w, "{sign}{}.{:06}", us / 1_000_000, us % 1_000_000)
}

fn ts_ns(ts: &Timestamp) -> i128 {
    i128::from(ts.secs) * 1_000_000_000 + i128::from(ts.nanos)
}

/// A string field as Zeek's ASCII writer escapes it: bytes that are not printable ASCII,
/// the separator, the backslash and (in sets) the set separator as `\xHH`; a value that
/// reads as the unset or empty marker is escaped likewise.
fn write_tsv_str(w: &mut impl Write, s: &str, in_set: bool) -> io::Result<()> {
    if s == "-" || s == "(empty)" || s.is_empty() && !in_set {
        if s.is_empty() {
            return w.write_all(b"(empty)");
        }
        write!(w, "\\x{:02x}", s.as_bytes()[0])?;
        return w.write_all(s.as_bytes().get(1..).unwrap_or_default());
    }
    for &b in s.as_bytes() {
        let plain = (0x20..0x7f).contains(&b) && b != b'\\' && !(in_set && b == b',');
        if plain {
            w.write_all(&[b])?;
        } else {
            write!(w, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

fn write_tsv_row(w: &mut impl Write, vals: &[Val<'_>]) -> io::Result<()> {
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            w.write_all(b"\t")?;
        }
        match v {
            Val::Unset => w.write_all(b"-")?,
            Val::Time(ts) => write_seconds(w, ts_ns(ts))?,
            Val::Interval(ns) => write_seconds(w, *ns)?,
            Val::Str(s) => write_tsv_str(w, s, false)?,
            Val::Owned(s) => write_tsv_str(w, s, false)?,
            Val::Addr(a) => write!(w, "{a}")?,
            Val::Port(p) => write!(w, "{p}")?,
            Val::Count(n) => write!(w, "{n}")?,
            Val::Bool(b) => w.write_all(if *b { b"T" } else { b"F" })?,
            Val::Strs(items) if items.is_empty() => w.write_all(b"(empty)")?,
            Val::Strs(items) => {
                for (j, s) in items.iter().enumerate() {
                    if j > 0 {
                        w.write_all(b",")?;
                    }
                    write_tsv_str(w, s, true)?;
                }
            }
            Val::Intervals(items) if items.is_empty() => w.write_all(b"(empty)")?,
            Val::Intervals(items) => {
                for (j, ns) in items.iter().enumerate() {
                    if j > 0 {
                        w.write_all(b",")?;
                    }
                    write_seconds(w, *ns)?;
                }
            }
        }
    }
    w.write_all(b"\n")
}

/// Zeek's JSON writer: unset fields left out, times and intervals as seconds.
fn write_json_row(w: &mut impl Write, fields: &[(&str, &str)], vals: &[Val<'_>]) -> io::Result<()> {
    let mut first = true;
    w.write_all(b"{")?;
    for ((name, _), v) in fields.iter().zip(vals) {
        if matches!(v, Val::Unset) {
            continue;
        }
        if !first {
            w.write_all(b",")?;
        }
        first = false;
        serde_json::to_writer(&mut *w, name)?;
        w.write_all(b":")?;
        let text =
            |w: &mut dyn Write, s: &str| serde_json::to_writer(w, s).map_err(io::Error::from);
        match v {
            Val::Unset => {}
            Val::Time(ts) => write_seconds(w, ts_ns(ts))?,
            Val::Interval(ns) => write_seconds(w, *ns)?,
            Val::Str(s) => text(w, s)?,
            Val::Owned(s) => text(w, s)?,
            Val::Addr(a) => write!(w, "\"{a}\"")?,
            Val::Port(p) => write!(w, "{p}")?,
            Val::Count(n) => write!(w, "{n}")?,
            Val::Bool(b) => w.write_all(if *b { b"true" } else { b"false" })?,
            Val::Strs(items) => serde_json::to_writer(&mut *w, items)?,
            Val::Intervals(items) => {
                w.write_all(b"[")?;
                for (j, ns) in items.iter().enumerate() {
                    if j > 0 {
                        w.write_all(b",")?;
                    }
                    write_seconds(w, *ns)?;
                }
                w.write_all(b"]")?;
            }
        }
    }
    w.write_all(b"}\n")
}

impl Sink for ZeekSink {
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.tunnels.last_ts = Some(frame.ts);
        if self.tunnels.active() {
            self.expire_tunnels(frame.ts)?;
        }
        if !flow.outer_conns.is_empty() {
            self.tunnel_packet(frame, packet, flow)?;
        }
        if !flow.new_conn {
            if let Some(conn) = flow.conn {
                self.tunnels_ip_packet(frame, packet, conn)?;
            }
            return Ok(());
        }
        if let Some(conn) = flow.conn {
            self.tunnels_new_conn(frame, packet, flow, conn)?;
        }
        let (Some(conn), Some(dir), Some(net), Some((sp, dp))) =
            (flow.conn, flow.dir, &packet.net, packet.ports())
        else {
            return Ok(());
        };
        let src = SocketAddr::new(net.src, sp);
        let dst = SocketAddr::new(net.dst, dp);
        let ends = match dir {
            Direction::ToServer => Ends {
                orig: src,
                resp: dst,
            },
            Direction::ToClient => Ends {
                orig: dst,
                resp: src,
            },
        };
        self.ends.insert(conn, ends);
        Ok(())
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        match event {
            AppEvent::Http(t) => self.http(t),
            AppEvent::Dns(m) => self.dns(m),
            AppEvent::Tls(m) => {
                self.tls(m);
                Ok(())
            }
            AppEvent::Quic(_) => Ok(()),
        }
    }

    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        // Queries of this connection still unanswered are logged alone.
        if !self.dns_waiting.is_empty() {
            let mut left: Vec<DnsMessage> = Vec::new();
            self.dns_waiting.retain(|(c, _), queue| {
                if *c == conn.id {
                    left.extend(queue.drain(..));
                    false
                } else {
                    true
                }
            });
            self.dns_waiting_count -= left.len();
            left.sort_by_key(|m| m.frame);
            for q in &left {
                self.dns_record(q, None)?;
            }
        }
        if let Some(facts) = self.ssl.remove(&conn.id) {
            self.ssl_record(conn, facts)?;
        }
        self.ends.remove(&conn.id);
        let (closed, tunnel_service) = self.tunnels.close(conn.id);
        if let Some(t) = closed {
            let ts = self.tunnels.last_ts.unwrap_or(conn.end);
            self.tunnel_record(ts, TunnelRef::Conn(conn.id), t, "Tunnel::CLOSE")?;
        }
        self.conn_record(conn, app, tunnel_service)
    }

    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        let mut left: Vec<DnsMessage> = self.dns_waiting.drain().flat_map(|(_, q)| q).collect();
        self.dns_waiting_count = 0;
        left.sort_by_key(|m| m.frame);
        for q in &left {
            self.dns_record(q, None)?;
        }
        let format = self.format;
        let close = zeek_log_time(now_secs());
        for w in self.files.iter_mut().flatten() {
            if format == ZeekFormat::Tsv {
                writeln!(w, "#close\t{close}")?;
            }
            w.flush()?;
        }
        Ok(())
    }
}

/// Which logs a run wrote (for messages and tests).
pub fn log_names() -> impl Iterator<Item = &'static str> {
    LogKind::ALL.into_iter().map(LogKind::path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dns.log's flags as Zeek's `main.zeek` sets them (RFC 1035 §4.1.1 header bits).
    #[test]
    fn dns_flags_from_the_query_and_an_answered_response() {
        let query = DnsMessage {
            flags: 0x0110, // RD, and Z bit 4 (AD in RFC 4035)
            counts: [1, 0, 0, 0],
            qclass: Some(1),
            ..DnsMessage::default()
        };
        let mut answer = DnsMessage {
            response: true,
            flags: 0x8580, // QR, AA, RD, RA
            counts: [1, 1, 0, 0],
            answers: vec!["192.0.2.1".into()],
            ..DnsMessage::default()
        };
        let f = DnsFlags::of(&query, Some(&answer));
        let want = DnsFlags {
            qclass: Some(1),
            aa: true,
            tc: false,
            rd: true,
            ra: true,
            z: 1,
            rejected: false,
        };
        assert_eq!(f, want);
        // A response without answers: AA and RA stay false (set per answer record); with no
        // record in any section it was rejected.
        answer.answers.clear();
        answer.counts = [1, 0, 0, 0];
        let f = DnsFlags::of(&query, Some(&answer));
        assert!(!f.aa && !f.ra && f.rejected && f.rd);
        // NXDOMAIN with the zone's SOA in the authority section: not rejected.
        answer.flags = 0x8583;
        answer.counts = [1, 0, 1, 0];
        assert!(!DnsFlags::of(&query, Some(&answer)).rejected);
        // REFUSED without a question: rejected; a response alone has no query fields.
        answer.flags = 0x8105;
        answer.counts = [0, 0, 0, 0];
        let f = DnsFlags::of(&answer, Some(&answer));
        assert!(f.rejected && f.qclass.is_none() && !f.rd);
        assert_eq!(qclass_name(1), "C_INTERNET");
        assert_eq!(qclass_name(32769), "qclass-32769");
    }

    /// ssl_history and sni_matches_cert of one connection's TLS messages, as ssl.log has
    /// them: Zeek's letters (upper case from the client), `j` for a ServerHello that is a
    /// HelloRetryRequest (Zeek's `hrr_seen`), the app stage's `sni_matches_cert`.
    #[test]
    fn ssl_history_letters_and_sni_match() {
        let dir = std::env::temp_dir().join(format!("layerscope-zeek-hist-{}", std::process::id()));
        let mut sink = ZeekSink::new(dir.clone(), ZeekFormat::Tsv, (1, 2)).unwrap();
        let msg = |dir: Direction, t: u8, hello_retry: bool, matches: Option<bool>| {
            let ctx = crate::flow::SegmentCtx {
                frame: 1,
                ts: Timestamp::default(),
                handshake_rtt_ns: None,
                ports: None,
            };
            let mut m = crate::app::new_tls_message(7, dir, ctx, TlsKind::Handshake(t), 0x0303);
            m.hello_retry = hello_retry;
            m.sni_matches_cert = matches;
            m
        };
        use Direction::{ToClient, ToServer};
        for m in [
            msg(ToServer, 1, false, None),
            msg(ToClient, 2, true, None),
            msg(ToServer, 1, false, None),
            msg(ToClient, 2, false, None),
            msg(ToClient, 11, false, Some(false)),
            msg(ToClient, 20, false, Some(false)),
        ] {
            sink.tls(&m);
        }
        let facts = &sink.ssl[&7];
        assert_eq!(facts.history, "CjCsxf");
        assert_eq!(facts.sni_matches_cert, Some(false));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn uids_are_c_and_base62_distinct_and_keyed() {
        let a: Vec<String> = (0..1000).map(|i| uid_of((1, 2), i)).collect();
        for u in &a {
            assert!(u.starts_with('C') && (12..=19).contains(&u.len()), "{u}");
            assert!(u[1..].bytes().all(|b| b.is_ascii_alphanumeric()), "{u}");
        }
        let set: std::collections::HashSet<_> = a.iter().collect();
        assert_eq!(set.len(), a.len());
        assert_ne!(uid_of((1, 2), 0), uid_of((3, 2), 0));
        assert_eq!(uid_of((1, 2), 7), uid_of((1, 2), 7));
    }

    #[test]
    fn log_times_as_zeek_writes_them() {
        // 1362692526 = 2013-03-07 21:42:06 UTC (date -u -d @1362692526).
        assert_eq!(zeek_log_time(1_362_692_526), "2013-03-07-21-42-06");
        assert_eq!(zeek_log_time(0), "1970-01-01-00-00-00");
        assert_eq!(zeek_log_time(951_782_400), "2000-02-29-00-00-00");
    }

    #[test]
    fn seconds_rounded_to_microseconds() {
        let s = |ns: i128| {
            let mut v = Vec::new();
            write_seconds(&mut v, ns).unwrap();
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(211_484_000), "0.211484");
        assert_eq!(s(1_362_692_526_869_344_000), "1362692526.869344");
        assert_eq!(s(1_499), "0.000001");
        assert_eq!(s(1_500), "0.000002");
        assert_eq!(s(0), "0.000000");
    }

    #[test]
    fn strings_escaped_as_zeeks_ascii_writer() {
        let s = |x: &str, set: bool| {
            let mut v = Vec::new();
            write_tsv_str(&mut v, x, set).unwrap();
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s("GET", false), "GET");
        assert_eq!(s("a\tb", false), "a\\x09b");
        assert_eq!(s("\u{1b}[31m", false), "\\x1b[31m");
        assert_eq!(s("-", false), "\\x2d");
        assert_eq!(s("(empty)", false), "\\x28empty)");
        assert_eq!(s("", false), "(empty)");
        assert_eq!(s("a,b", true), "a\\x2cb");
        assert_eq!(s("a,b", false), "a,b");
        assert_eq!(s("é", false), "\\xc3\\xa9");
    }

    #[test]
    fn services_as_zeek_names_them() {
        let mut a = AppConnStats::default();
        assert_eq!(zeek_service(&a), None);
        a.http_requests = 1;
        assert_eq!(zeek_service(&a), Some("http"));
        let b = AppConnStats {
            dns_messages: 2,
            ..AppConnStats::default()
        };
        assert_eq!(zeek_service(&b), Some("dns"));
        let c = AppConnStats {
            tls_handshakes: 3,
            ..AppConnStats::default()
        };
        assert_eq!(zeek_service(&c), Some("ssl"));
    }
}
