//! The stateless part of HTTP/1.x: where a head starts, its first line and fields
//! (`httparse`, with tshark's leniencies), and one UDP datagram read as one message. No
//! state: the connection's state machine ([`super::conn`]) calls these on its buffers.

use super::framing::{Chunk, Framing};
use crate::app::HttpTransaction;
use crate::flow::{ConnId, SegmentCtx};
use std::mem::MaybeUninit;

/// Headers parsed per head.
pub(super) const MAX_HEADERS: usize = 128;
/// Longest method token accepted as the start of a request line.
const MAX_METHOD: usize = 20;

/// Where a head may start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    Request,
    Response,
    NeedMore,
    No,
}

/// Whether `buf` starts like a request line (`METHOD SP URI SP HTTP/1.x`) or a status
/// line (`HTTP/1.x NNN`), or could once more bytes arrive.
pub(crate) fn classify_start(buf: &[u8]) -> Start {
    match status_line(buf) {
        Start::No => request_line(buf),
        Start::NeedMore => match request_line(buf) {
            Start::Request => Start::Request,
            _ => Start::NeedMore,
        },
        s => s,
    }
}

/// Where, after the first byte of `buf`, a strict request line (`METHOD SP URI SP
/// HTTP/1.x`) or a status line starts, or may start (a line that runs to the end of
/// `buf`): at a line start or at the start of a word of capitals (a message glued to the
/// end of the body before it). Every complete such line holds `HTTP/1.`, so the bytes are
/// searched for that (memmem: junk costs little however long it is), then each hit's line
/// is looked at; without a hit only the last line can be a head that is still arriving.
pub(super) fn next_head_start(buf: &[u8]) -> Option<usize> {
    /// Bytes before an `HTTP/1.` looked at for the start of its request line.
    const MAX_LINE: usize = 8 << 10;
    let starts_head = |p: usize, lax_end: bool| {
        let before = buf[p - 1];
        let candidate = before == b'\n'
            || (buf[p].is_ascii_uppercase() && !is_method_byte(before) && before != b'/');
        candidate
            && match (status_line(&buf[p..]), strict_request_line(&buf[p..])) {
                (Start::Response, _) | (_, Start::Request) => true,
                (Start::NeedMore, _) | (_, Start::NeedMore) => lax_end,
                _ => false,
            }
    };
    let line_start = |at: usize| {
        let from = at.saturating_sub(MAX_LINE);
        buf[from..at]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(from, |i| from + i + 1)
            .max(1)
    };
    for hit in memchr::memmem::find_iter(buf, b"HTTP/1.") {
        if let Some(p) = (line_start(hit)..=hit).find(|&p| p < buf.len() && starts_head(p, false)) {
            return Some(p);
        }
    }
    // A head whose `HTTP/1.` has not arrived yet: only in the last line.
    (line_start(buf.len())..buf.len()).find(|&p| starts_head(p, true))
}

fn status_line(buf: &[u8]) -> Start {
    const P: &[u8] = b"HTTP/1.";
    for (i, &b) in buf.iter().take(12).enumerate() {
        let ok = match i {
            0..=6 => b == P[i],
            7 | 9..=11 => b.is_ascii_digit(),
            _ => b == b' ',
        };
        if !ok {
            return Start::No;
        }
    }
    if buf.len() >= 12 {
        Start::Response
    } else {
        Start::NeedMore
    }
}

/// Methods tshark's HTTP dissector knows (RFC 9110, WebDAV, SSDP, Cisco, MS-RPC over HTTP):
/// a request line that is not well formed is still a request when it starts with one.
const KNOWN_METHODS: [&[u8]; 47] = [
    b"GET",
    b"PUT",
    b"ACL",
    b"POST",
    b"COPY",
    b"HEAD",
    b"LOCK",
    b"MOVE",
    b"POLL",
    b"BCOPY",
    b"BMOVE",
    b"MERGE",
    b"MKCOL",
    b"TRACE",
    b"LABEL",
    b"PATCH",
    b"DELETE",
    b"SEARCH",
    b"UNLOCK",
    b"REPORT",
    b"UPDATE",
    b"NOTIFY",
    b"BDELETE",
    b"CONNECT",
    b"OPTIONS",
    b"CHECKIN",
    b"PROPFIND",
    b"CHECKOUT",
    b"CCM_POST",
    b"M-SEARCH",
    b"SUBSCRIBE",
    b"PROPPATCH",
    b"BPROPFIND",
    b"BPROPPATCH",
    b"UNCHECKOUT",
    b"MKACTIVITY",
    b"MKWORKSPACE",
    b"UNSUBSCRIBE",
    b"RPC_CONNECT",
    b"RPC_IN_DATA",
    b"RPC_OUT_DATA",
    b"VERSION-CONTROL",
    b"BASELINE-CONTROL",
    b"SSTP_DUPLEX_POST",
    b"ORDERPATCH",
    b"MKREDIRECTREF",
    b"UPDATEREDIRECTREF",
];

/// Whether `buf` starts like a request line: the strict form `TOKEN SP URI SP HTTP/1.x`
/// for any method token, or (as tshark) a known method followed by a printable line.
fn request_line(buf: &[u8]) -> Start {
    match strict_request_line(buf) {
        Start::No => lax_request_line(buf),
        s => s,
    }
}

/// A known method followed by SP or the end of the line, and a line of printable bytes
/// ending in LF (`OPTIONS HTTP/1.1`, `GET / HTTP/1.`, `GET /HTTP/1.1`, `OPTIONS`).
fn lax_request_line(buf: &[u8]) -> Start {
    let method = buf
        .iter()
        .take(MAX_METHOD + 1)
        .take_while(|b| is_method_byte(**b))
        .count();
    if method == buf.len() {
        let prefix = &buf[..method];
        return if KNOWN_METHODS.iter().any(|m| m.starts_with(prefix)) {
            Start::NeedMore
        } else {
            Start::No
        };
    }
    if !KNOWN_METHODS.contains(&&buf[..method]) || !matches!(buf[method], b' ' | b'\r' | b'\n') {
        return Start::No;
    }
    let rest = &buf[method..];
    let (line, whole) = match rest.iter().position(|b| *b == b'\n') {
        Some(end) => (&rest[..end], true),
        None => (rest, false),
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if !line.iter().all(|b| (0x20..0x7f).contains(b) || *b == b'\t') {
        Start::No
    } else if whole {
        Start::Request
    } else {
        Start::NeedMore
    }
}

fn is_method_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b == b'-' || b == b'_'
}

fn strict_request_line(buf: &[u8]) -> Start {
    let method = buf
        .iter()
        .take(MAX_METHOD + 1)
        .take_while(|b| is_method_byte(**b))
        .count();
    if method == buf.len() {
        return if method <= MAX_METHOD {
            Start::NeedMore
        } else {
            Start::No
        };
    }
    if method == 0 || method > MAX_METHOD || buf[method] != b' ' {
        return Start::No;
    }
    let rest = &buf[method + 1..];
    let uri = rest
        .iter()
        .take_while(|b| **b > b' ' && **b != 0x7f)
        .count();
    if uri == rest.len() {
        return Start::NeedMore;
    }
    if uri == 0 || rest[uri] != b' ' {
        return Start::No;
    }
    const V: &[u8] = b"HTTP/1.";
    let ver = &rest[uri + 1..];
    for (i, &b) in ver.iter().take(8).enumerate() {
        let ok = if i < 7 { b == V[i] } else { b.is_ascii_digit() };
        if !ok {
            return Start::No;
        }
    }
    if ver.len() < 8 {
        return Start::NeedMore;
    }
    match ver.get(8..).unwrap_or(&[]) {
        [] | [b'\r'] => Start::NeedMore,
        [b'\n', ..] | [b'\r', b'\n', ..] => Start::Request,
        _ => Start::No,
    }
}

/// What a request head says.
pub(super) struct ReqHead {
    pub(super) method: String,
    /// None when details are off (`AppConfig::http_details`), as are `version`, `host`.
    pub(super) uri: Option<String>,
    /// The version as written ("HTTP/1.1"; "HTTP/1." in a lax line), None when absent.
    pub(super) version: Option<String>,
    /// The minor version when the version is well formed.
    pub(super) minor: Option<u8>,
    /// What is wrong with a request line read leniently.
    pub(super) lax: Option<String>,
    pub(super) host: Option<String>,
    pub(super) framing: Result<Option<Framing>, String>,
    pub(super) expect_continue: bool,
    pub(super) keep_alive: bool,
}

/// What a response head says.
pub(super) struct RespHead {
    pub(super) minor: u8,
    pub(super) status: u16,
    /// None when details are off (`AppConfig::http_details`), as is `upgrade`.
    pub(super) reason: Option<String>,
    pub(super) chunked: bool,
    pub(super) other_te: bool,
    pub(super) content_length: Result<Option<u64>, String>,
    pub(super) upgrade: Option<String>,
    /// `Upgrade: h2c` (whatever the details setting).
    pub(super) upgrade_h2c: bool,
    /// Why the head was parsed leniently.
    pub(super) lax: Option<String>,
}

pub(super) enum Parsed {
    NotHttp,
    NeedMore,
    /// More than [`MAX_HEADERS`] header fields: a head cap, like `max_http_head`.
    TooManyHeaders,
    Error(String),
    Request(ReqHead, usize),
    Response(RespHead, usize),
}

/// The header fields framing and the records need, found in one pass over the head.
struct HeadFields<'b> {
    /// The last transfer coding is chunked.
    chunked: bool,
    /// Some transfer coding is present.
    te: bool,
    /// Content-Length values (RFC 9110 §8.6): digits only; a repeated value must agree.
    content_length: Result<Option<u64>, String>,
    /// The first Host and Upgrade fields.
    host: Option<&'b [u8]>,
    upgrade: Option<&'b [u8]>,
    /// `Expect: 100-continue`, `Connection: keep-alive` (as a token of any such field).
    expect_continue: bool,
    keep_alive: bool,
}

fn has_token_in(value: &[u8], token: &[u8]) -> bool {
    if value.len() < token.len() {
        // No part of a shorter value can be the token (`Connection: close`).
        return false;
    }
    if value.len() == token.len() {
        // The common case, the value is the token alone (or another of its length),
        // compared words at a time: OR-ing 0x20 folds only upper case letters onto the
        // token's letters, and control bytes onto its digits and '-' (none allowed here).
        return name_is(value, token) && value.iter().all(|b| *b >= 0x20);
    }
    value
        .split(|b| *b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// Adds one Content-Length field's values to `out`.
fn add_content_length(out: &mut Option<u64>, value: &[u8]) -> Result<(), String> {
    if let Some(v) = plain_decimal(value) {
        // The common case: one value, digits only.
        if out.is_some_and(|o| o != v) {
            return Err("conflicting Content-Length values".to_string());
        }
        *out = Some(v);
        return Ok(());
    }
    for part in value.split(|b| *b == b',') {
        let s = part.trim_ascii();
        let v = if !s.is_empty() && s.len() <= 19 && s.iter().all(u8::is_ascii_digit) {
            Some(s.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0')))
        } else {
            None
        };
        let Some(v) = v else {
            return Err(format!(
                "invalid Content-Length \"{}\"",
                String::from_utf8_lossy(value)
            ));
        };
        if out.is_some_and(|o| o != v) {
            return Err("conflicting Content-Length values".to_string());
        }
        *out = Some(v);
    }
    Ok(())
}

/// `value` as a decimal number when it is 1 to 19 digits and nothing else.
fn plain_decimal(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for &b in value {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    Some(v)
}

/// Whether the field name `name` is `lower` (lower case letters and '-', same length),
/// ignoring case, 4 or 8 bytes at a time. OR-ing 0x20 is an exact case fold here: a name
/// is a token, and the only other byte that folds onto a letter or '-' (CR onto '-') is
/// not a token character.
fn name_is(name: &[u8], lower: &[u8]) -> bool {
    let n = lower.len();
    if name.len() != n {
        return false;
    }
    let word8 = |s: &[u8], at: usize| {
        s.get(at..at + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_ne_bytes)
    };
    let word4 = |s: &[u8], at: usize| {
        s.get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_ne_bytes)
    };
    if n >= 8 {
        let mut at = 0;
        loop {
            let at8 = at.min(n - 8);
            if word8(name, at8) | 0x2020_2020_2020_2020 != word8(lower, at8) {
                return false;
            }
            if at8 == n - 8 {
                return true;
            }
            at += 8;
        }
    } else if n >= 4 {
        [0, n - 4]
            .into_iter()
            .all(|at| word4(name, at) | 0x2020_2020 == word4(lower, at))
    } else {
        name.eq_ignore_ascii_case(lower)
    }
}

fn head_fields<'b>(headers: &[httparse::Header<'b>]) -> HeadFields<'b> {
    let mut f = HeadFields {
        chunked: false,
        te: false,
        content_length: Ok(None),
        host: None,
        upgrade: None,
        expect_continue: false,
        keep_alive: false,
    };
    let mut last_te: Option<&[u8]> = None;
    for h in headers {
        let name = h.name.as_bytes();
        match name.len() {
            4 if name_is(name, b"host") => {
                f.host = f.host.or(Some(h.value));
            }
            6 if name_is(name, b"expect") => {
                f.expect_continue |= has_token_in(h.value, b"100-continue");
            }
            7 if name_is(name, b"upgrade") => {
                f.upgrade = f.upgrade.or(Some(h.value));
            }
            10 if name_is(name, b"connection") => {
                f.keep_alive |= has_token_in(h.value, b"keep-alive");
            }
            14 if name_is(name, b"content-length") => {
                if let Ok(cl) = &mut f.content_length {
                    if let Err(e) = add_content_length(cl, h.value) {
                        f.content_length = Err(e);
                    }
                }
            }
            17 if name_is(name, b"transfer-encoding") => {
                for part in h.value.split(|b| *b == b',') {
                    let p = part.trim_ascii();
                    if !p.is_empty() {
                        last_te = Some(p);
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(p) = last_te {
        f.chunked = p.eq_ignore_ascii_case(b"chunked");
        f.te = true;
    }
    f
}

/// Appends `v` in decimal.
pub(super) fn push_decimal(out: &mut String, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while i > 0 {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in digits.get(i..).unwrap_or_default() {
        out.push(char::from(d));
    }
}

/// "HTTP/1.x" for minor version `minor`.
pub(super) fn http_version(minor: u8) -> String {
    match minor {
        0 => "HTTP/1.0".to_string(),
        1 => "HTTP/1.1".to_string(),
        m => format!("HTTP/1.{m}"),
    }
}

/// What the first line of a head cut short says.
#[derive(Debug, PartialEq)]
pub(super) enum FirstLine {
    Request {
        method: String,
        uri: String,
        /// Only a well-formed version ("HTTP/1.x").
        version: Option<String>,
    },
    Response {
        minor: u8,
        status: u16,
        reason: String,
    },
}

/// The first line of `buf` (which may end before its LF): a whole status line, or a
/// request line with a non-empty URI whose method is known or which went on past the URI.
pub(super) fn first_line(buf: &[u8]) -> Option<FirstLine> {
    let line = match buf.iter().position(|b| *b == b'\n') {
        Some(end) => &buf[..end],
        None => buf,
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if status_line(line) == Start::Response {
        let (minor, code, rest) = (line[7], &line[9..12], &line[12..]);
        let status = code.iter().fold(0u16, |v, b| v * 10 + u16::from(b - b'0'));
        let reason = rest.strip_prefix(b" ").unwrap_or(rest);
        return Some(FirstLine::Response {
            minor: minor - b'0',
            status,
            reason: String::from_utf8_lossy(reason).into_owned(),
        });
    }
    if request_line(line) == Start::No {
        return None;
    }
    let (method, uri, version) = split_request_line(line);
    let past_uri = line.len() > method.len() + 1 + uri.len();
    if method.is_empty() || uri.is_empty() || !(past_uri || KNOWN_METHODS.contains(&method)) {
        return None;
    }
    Some(FirstLine::Request {
        method: String::from_utf8_lossy(method).into_owned(),
        uri: String::from_utf8_lossy(uri).into_owned(),
        version: minor_of(version).map(http_version),
    })
}

/// What a request head says, from its parts.
fn request_head(
    method: &str,
    uri: &str,
    version: Option<String>,
    minor: Option<u8>,
    lax: Option<String>,
    hs: &[httparse::Header<'_>],
    details: bool,
) -> ReqHead {
    let f = head_fields(hs);
    let framing = if f.chunked {
        Ok(Some(Framing::Chunked(Chunk::start())))
    } else if f.te {
        Err("request Transfer-Encoding without final chunked".to_string())
    } else {
        f.content_length.map(|cl| match cl {
            Some(0) | None => None,
            Some(n) => Some(Framing::Length(n)),
        })
    };
    ReqHead {
        method: method.to_string(),
        uri: details.then(|| uri.to_string()),
        version: version.filter(|_| details),
        minor,
        lax,
        host: f
            .host
            .filter(|_| details)
            .map(|v| String::from_utf8_lossy(v).into_owned()),
        framing,
        expect_continue: f.expect_continue,
        keep_alive: f.keep_alive,
    }
}

/// The parts of a request line split as tshark does: the method, the next space-delimited
/// token as the URI (possibly empty), the rest as the version (possibly empty).
fn split_request_line(line: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let m = line.iter().take_while(|b| is_method_byte(**b)).count();
    let (method, rest) = line.split_at(m);
    let rest = rest.trim_ascii_start();
    let u = rest.iter().position(|b| *b == b' ').unwrap_or(rest.len());
    let (uri, version) = rest.split_at(u);
    (method, uri, version.trim_ascii())
}

/// "HTTP/1.x" → x.
fn minor_of(version: &[u8]) -> Option<u8> {
    match version {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => Some(d - b'0'),
        _ => None,
    }
}

/// A request whose line is not in the strict form but starts with a known method (see
/// [`lax_request_line`]); its header fields are parsed strictly.
fn parse_lax_request<'b>(
    buf: &'b [u8],
    headers: &mut [httparse::Header<'b>],
    details: bool,
) -> Parsed {
    let Some(lf) = buf.iter().position(|b| *b == b'\n') else {
        return Parsed::NeedMore;
    };
    let (method, uri, version) = split_request_line(&buf[..lf]);
    let minor = minor_of(version);
    let problem = if uri.is_empty() {
        "no request target and no HTTP version".to_string()
    } else if version.is_empty() {
        "no HTTP version".to_string()
    } else if minor.is_none() {
        format!(
            "invalid HTTP version \"{}\"",
            String::from_utf8_lossy(version)
        )
    } else {
        "extra spaces".to_string()
    };
    let rest = buf.get(lf + 1..).unwrap_or(&[]);
    match httparse::parse_headers(rest, headers) {
        Ok(httparse::Status::Partial) => Parsed::NeedMore,
        Err(e) => Parsed::Error(format!("request head: {e}")),
        Ok(httparse::Status::Complete((n, hs))) => Parsed::Request(
            request_head(
                &String::from_utf8_lossy(method),
                &String::from_utf8_lossy(uri),
                (!version.is_empty()).then(|| String::from_utf8_lossy(version).into_owned()),
                minor,
                Some(format!(
                    "malformed request line ({problem}): read leniently, as tshark does"
                )),
                hs,
                details,
            ),
            lf + 1 + n,
        ),
    }
}

/// `details`: see `AppConfig::http_details`.
pub(super) fn parse_head(buf: &[u8], details: bool) -> Parsed {
    // Left uninitialised: httparse writes the fields it returns (no 4 KiB fill per head).
    let mut headers = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    // What `classify_start` says, and whether the request line is only lax, with the
    // request line checked once.
    let (start, lax) = match status_line(buf) {
        Start::Response => (Start::Response, false),
        status => {
            let strict = strict_request_line(buf);
            let line = match strict {
                Start::No => lax_request_line(buf),
                s => s,
            };
            let lax = strict == Start::No && line == Start::Request;
            match (status, line) {
                (Start::No, s) => (s, lax),
                (_, Start::Request) => (Start::Request, lax),
                _ => (Start::NeedMore, false),
            }
        }
    };
    match start {
        Start::No => Parsed::NotHttp,
        Start::NeedMore => Parsed::NeedMore,
        Start::Request if lax => {
            let mut init = [httparse::EMPTY_HEADER; MAX_HEADERS];
            parse_lax_request(buf, &mut init, details)
        }
        Start::Request => {
            let strict = httparse::ParserConfig::default();
            let mut req = httparse::Request::new(&mut []);
            let e = match strict.parse_request_with_uninit_headers(&mut req, buf, &mut headers) {
                Ok(httparse::Status::Partial) => return Parsed::NeedMore,
                Ok(httparse::Status::Complete(n)) => return request_parsed(&req, None, n, details),
                Err(httparse::Error::TooManyHeaders) => return Parsed::TooManyHeaders,
                Err(e) => e,
            };
            let mut req = httparse::Request::new(&mut []);
            match lenient().parse_request_with_uninit_headers(&mut req, buf, &mut headers) {
                Ok(httparse::Status::Partial) => Parsed::NeedMore,
                Ok(httparse::Status::Complete(n)) => {
                    request_parsed(&req, Some(lenient_note("request", e)), n, details)
                }
                Err(_) => Parsed::Error(format!("request head: {e}")),
            }
        }
        Start::Response => {
            let strict = httparse::ParserConfig::default();
            let mut resp = httparse::Response::new(&mut []);
            let e = match strict.parse_response_with_uninit_headers(&mut resp, buf, &mut headers) {
                Ok(httparse::Status::Partial) => return Parsed::NeedMore,
                Ok(httparse::Status::Complete(n)) => {
                    return response_parsed(&resp, None, n, details)
                }
                Err(httparse::Error::TooManyHeaders) => return Parsed::TooManyHeaders,
                Err(e) => e,
            };
            let mut resp = httparse::Response::new(&mut []);
            match lenient().parse_response_with_uninit_headers(&mut resp, buf, &mut headers) {
                Ok(httparse::Status::Partial) => Parsed::NeedMore,
                Ok(httparse::Status::Complete(n)) => {
                    response_parsed(&resp, Some(lenient_note("response", e)), n, details)
                }
                Err(_) => Parsed::Error(format!("response head: {e}")),
            }
        }
    }
}

/// What tshark tolerates in a head and `httparse` rejects by default: a space before a
/// field's colon, obsolete line folding, repeated spaces in the first line, and (skipped)
/// field lines that are not fields at all.
fn lenient() -> httparse::ParserConfig {
    let mut c = httparse::ParserConfig::default();
    c.allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .ignore_invalid_headers_in_responses(true)
        .ignore_invalid_headers_in_requests(true);
    c
}

fn lenient_note(side: &str, e: httparse::Error) -> String {
    format!("{side} head not strictly valid ({e}): parsed leniently, as tshark does")
}

fn request_parsed(
    req: &httparse::Request<'_, '_>,
    lax: Option<String>,
    n: usize,
    details: bool,
) -> Parsed {
    let minor = req.version.unwrap_or(1);
    Parsed::Request(
        request_head(
            req.method.unwrap_or(""),
            req.path.unwrap_or(""),
            details.then(|| http_version(minor)),
            Some(minor),
            lax,
            req.headers,
            details,
        ),
        n,
    )
}

fn response_parsed(
    resp: &httparse::Response<'_, '_>,
    lax: Option<String>,
    n: usize,
    details: bool,
) -> Parsed {
    let f = head_fields(resp.headers);
    Parsed::Response(
        RespHead {
            minor: resp.version.unwrap_or(1),
            status: resp.code.unwrap_or(0),
            reason: details.then(|| resp.reason.unwrap_or("").to_string()),
            chunked: f.chunked,
            other_te: f.te,
            content_length: f.content_length,
            upgrade_h2c: f.upgrade.is_some_and(|v| {
                v.split(|&b| b == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"h2c"))
            }),
            upgrade: f
                .upgrade
                .filter(|_| details)
                .map(|v| String::from_utf8_lossy(v).into_owned()),
            lax,
        },
        n,
    )
}

/// One UDP datagram that starts with a request or status line (SSDP, HTTPU): the whole
/// datagram is one message, recorded on its own (requests and responses are not paired).
/// None when the datagram is not HTTP.
pub(crate) fn datagram_message(
    conn: ConnId,
    index: u32,
    data: &[u8],
    ctx: SegmentCtx,
) -> Option<HttpTransaction> {
    let mut tx = HttpTransaction {
        conn,
        index,
        ..HttpTransaction::default()
    };
    let mut cut = false;
    match parse_head(data, true) {
        Parsed::NotHttp => return None,
        Parsed::Request(h, _) => {
            tx.notes.extend(h.lax);
            tx.method = Some(h.method);
            tx.uri = h.uri;
            tx.version = h.version;
            tx.host = h.host;
        }
        Parsed::Response(h, _) => {
            tx.notes.extend(h.lax);
            tx.status = Some(h.status);
            tx.reason = h.reason;
            tx.response_version = Some(http_version(h.minor));
        }
        Parsed::NeedMore | Parsed::TooManyHeaders | Parsed::Error(_) => match first_line(data)? {
            FirstLine::Request {
                method,
                uri,
                version,
            } => {
                cut = true;
                tx.method = Some(method);
                tx.uri = Some(uri);
                tx.version = version;
            }
            FirstLine::Response {
                minor,
                status,
                reason,
            } => {
                cut = true;
                tx.status = Some(status);
                tx.reason = Some(reason);
                tx.response_version = Some(http_version(minor));
            }
        },
    }
    if tx.method.is_some() {
        tx.request_frame = Some(ctx.frame);
        tx.request_ts = Some(ctx.ts);
    } else {
        tx.response_frame = Some(ctx.frame);
        tx.response_ts = Some(ctx.ts);
    }
    tx.notes.push(
        "HTTP over UDP (e.g. SSDP): one datagram is one message, requests and responses not paired"
            .to_string(),
    );
    if cut {
        tx.notes.push(format!(
            "head not complete in the datagram ({} bytes): kept what its first line says",
            data.len()
        ));
    }
    Some(tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_values_read_the_same_on_the_short_paths() {
        assert_eq!(plain_decimal(b"0"), Some(0));
        assert_eq!(plain_decimal(b"14000"), Some(14_000));
        assert_eq!(
            plain_decimal(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        for no in [
            &b""[..],
            b"12a",
            b" 1",
            b"1,2",
            b"-1",
            b"/",
            b":",
            b"10000000000000000000",
        ] {
            assert_eq!(plain_decimal(no), None, "{no:?}");
        }
        let mut cl = None;
        assert_eq!(add_content_length(&mut cl, b"42"), Ok(()));
        assert_eq!(add_content_length(&mut cl, b"42, 42"), Ok(()));
        assert_eq!(cl, Some(42));
        assert_eq!(
            add_content_length(&mut cl, b"43"),
            Err("conflicting Content-Length values".to_string())
        );
        assert_eq!(
            add_content_length(&mut None, b"4 2"),
            Err("invalid Content-Length \"4 2\"".to_string())
        );
        assert!(has_token_in(b"Keep-Alive", b"keep-alive"));
        assert!(has_token_in(b"close, keep-alive", b"keep-alive"));
        assert!(!has_token_in(b"keep-aliv,", b"keep-alive"));
        assert!(!has_token_in(b" keep-aliv", b"keep-alive"));
        assert!(!has_token_in(b"close", b"keep-alive"));
        assert!(has_token_in(b"KEEP-alive", b"keep-alive"));
        assert!(
            !has_token_in(b"keep\ralive", b"keep-alive"),
            "CR folds onto '-'"
        );
        assert!(!has_token_in(b"keep@alive", b"keep-alive"));
        assert!(has_token_in(b"100-Continue", b"100-continue"));
        assert!(
            !has_token_in(b"\x11\x100-continue", b"100-continue"),
            "0x11 folds onto '1'"
        );
    }

    #[test]
    fn heads_found_after_junk() {
        // A status line at a line start; a request line glued to a body; none in binary or
        // lower-case text; a request line still arriving at the end; never offset 0.
        assert_eq!(next_head_start(b"ody\r\nHTTP/1.1 200 OK\r\n"), Some(5));
        assert_eq!(
            next_head_start(b"{\"a\":1}GET /j HTTP/1.1\r\nHost: h\r\n"),
            Some(7)
        );
        assert_eq!(
            next_head_start(b"\x00\x01GETTING / HTTP/1.1 STARTED\r\n"),
            None
        );
        assert_eq!(next_head_start(b"xget / http/1.1\r\n"), None);
        assert_eq!(next_head_start(b"junk\nPOST /upload HTT"), Some(5));
        assert_eq!(next_head_start(b"GET / HTTP/1.1\r\n"), None);
        // The URI's capitals and a path's are not starts: the request starts at GET.
        assert_eq!(next_head_start(b"x GET /A/B HTTP/1.0\r\n"), Some(2));
        assert_eq!(next_head_start(b""), None);
    }

    #[test]
    fn field_names_match_ignoring_case_and_nothing_else() {
        for want in [
            &b"host"[..],
            b"expect",
            b"upgrade",
            b"connection",
            b"content-length",
            b"transfer-encoding",
        ] {
            assert!(name_is(want, want));
            assert!(name_is(&want.to_ascii_uppercase(), want));
            for i in 0..want.len() {
                for b in 0u8..=255 {
                    // Token characters only (what httparse hands over as a name).
                    if !(b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
                        continue;
                    }
                    let mut v = want.to_vec();
                    v[i] = b;
                    assert_eq!(name_is(&v, want), v.eq_ignore_ascii_case(want), "{v:?}");
                }
            }
            assert!(!name_is(&want[1..], want));
        }
    }
}
