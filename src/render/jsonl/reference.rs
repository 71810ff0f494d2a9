//! Test-only: the pieces the reference writers (`*_reference.rs`) write records with,
//! through `Vec` pushes, `core::fmt` and serde_json, as the records were written before
//! [`super::writer`]; the tests compare the production writer with them byte for byte.

pub(super) use super::super::text::{put_u64, write_endpoint, Endpoints};
pub(super) use crate::app::{AppConnStats, DnsMessage, HttpTransaction, QuicPacket, TlsMessage};
pub(super) use crate::capture::{RawFrame, Timestamp};
pub(super) use crate::decode::DecodedPacket;
pub(super) use crate::flow::{ConnSummary, PacketFlow};
pub(super) use std::io::{self, Write};

pub(super) fn json_str<W: Write>(w: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *w, s).map_err(io::Error::from)
}

/// A JSON string as serde_json writes it.
pub(super) fn put_json_str(buf: &mut Vec<u8>, s: &str) -> io::Result<()> {
    json_str(buf, s)
}

pub(super) fn opt_str<W: Write>(w: &mut W, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => json_str(w, s),
        None => w.write_all(b"null"),
    }
}

pub(super) fn opt_u64<W: Write>(w: &mut W, v: Option<u64>) -> io::Result<()> {
    match v {
        Some(v) => write!(w, "{v}"),
        None => w.write_all(b"null"),
    }
}

pub(super) fn opt_f64<W: Write>(w: &mut W, v: Option<f64>) -> io::Result<()> {
    match v {
        Some(v) if v.is_finite() => write!(w, "{v:.3}"),
        _ => w.write_all(b"null"),
    }
}

/// A TLS code point as JSON: its `name`, else `"0x…."`, `null` when not known.
pub(super) fn json_code<W: Write>(
    w: &mut W,
    code: Option<u16>,
    name: fn(u16) -> Option<&'static str>,
) -> io::Result<()> {
    match code {
        Some(c) => match name(c) {
            Some(n) => json_str(w, n),
            None => write!(w, "\"0x{c:04x}\""),
        },
        None => w.write_all(b"null"),
    }
}

pub(super) fn put_opt_u64(buf: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => put_u64(buf, v),
        None => buf.extend_from_slice(b"null"),
    }
}

/// A name of our own (no characters that need escaping) in quotes.
pub(super) fn put_name(buf: &mut Vec<u8>, name: &str) {
    buf.push(b'"');
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'"');
}

pub(super) fn put_bool(buf: &mut Vec<u8>, v: bool) {
    buf.extend_from_slice(if v { b"true" } else { b"false" });
}

pub(super) fn put_per_dir(buf: &mut Vec<u8>, p: &crate::flow::PerDir) {
    buf.extend_from_slice(b"{\"to_server\":");
    put_u64(buf, p.to_server);
    buf.extend_from_slice(b",\"to_client\":");
    put_u64(buf, p.to_client);
    buf.push(b'}');
}

/// Appends `v` in decimal, left-padded with zeros to `width` digits.
pub(super) fn put_padded(buf: &mut Vec<u8>, v: u32, width: usize) {
    write!(buf, "{v:0width$}").unwrap();
}

/// `secs.frac` at the timestamp's precision (6 or 9 digits).
pub(super) fn put_ts(buf: &mut Vec<u8>, ts: &Timestamp) {
    if ts.secs < 0 {
        buf.push(b'-');
    }
    put_u64(buf, ts.secs.unsigned_abs());
    buf.push(b'.');
    if ts.precision >= 9 {
        put_padded(buf, ts.nanos, 9);
    } else {
        put_padded(buf, ts.nanos / 1000, 6);
    }
}

/// Nanoseconds as milliseconds: 3 decimals when they are whole microseconds, else 6.
pub(super) fn put_ns_ms(buf: &mut Vec<u8>, ns: i64) {
    let abs = ns.unsigned_abs();
    let frac = (abs % 1_000_000) as u32;
    if ns < 0 {
        buf.push(b'-');
    }
    put_u64(buf, abs / 1_000_000);
    buf.push(b'.');
    if frac % 1000 == 0 {
        put_padded(buf, frac / 1000, 3);
    } else {
        put_padded(buf, frac, 6);
    }
}

/// A float of nanoseconds (an RTT estimate) as milliseconds, `null` when absent or not
/// finite.
pub(super) fn put_f64_ns_ms(buf: &mut Vec<u8>, ns: Option<f64>) {
    match ns.filter(|v| v.is_finite() && v.abs() < 9e18) {
        Some(v) => put_ns_ms(buf, v.round() as i64),
        None => buf.extend_from_slice(b"null"),
    }
}

/// `[a,b,…]` of `items`, each written by `each`.
pub(super) fn put_list<T>(
    w: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    mut each: impl FnMut(&mut Vec<u8>, T),
) {
    w.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        each(w, item);
    }
    w.push(b']');
}
