//! QPACK (RFC 9204), HTTP/3's header compression, for an observer: the static table, the
//! dynamic table a peer's encoder stream builds (Set Dynamic Table Capacity, Insert With
//! Name Reference, Insert With Literal Name, Duplicate), and field sections decoded against
//! both. A reference to a dynamic entry that was never seen (an encoder stream lost or cut,
//! or evicted) becomes a note on the field section, never an error of the whole.
//!
//! Written here because no maintained pure-Rust crate exposes a QPACK decoder: `h3` and
//! `quiche` keep theirs private, `ls-qpack` binds the C library (a C toolchain in the
//! default build). Integers and string literals are read by `hpack_primitives`, shared with HPACK.

use super::hpack_primitives::{prefixed, string, PrimitiveError};
use std::collections::VecDeque;

/// Largest dynamic table kept, whatever a peer announces (bytes, RFC 9204 §3.2.1 sizes);
/// entries past it are evicted and counted in [`QpackTable::evicted`].
pub const MAX_TABLE_CAPACITY: u64 = 64 << 10;
/// Largest decoded field section kept (names and values, bytes); fields past it are
/// counted in [`Section::cut`].
pub const MAX_SECTION_BYTES: usize = 64 << 10;
/// Longest partial encoder-stream instruction buffered.
const MAX_INSTRUCTION: usize = 64 << 10;

/// RFC 9204 Appendix A.
pub const STATIC_TABLE: [(&str, &str); 99] = [
    (":authority", ""),
    (":path", "/"),
    ("age", "0"),
    ("content-disposition", ""),
    ("content-length", "0"),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("referer", ""),
    ("set-cookie", ""),
    (":method", "CONNECT"),
    (":method", "DELETE"),
    (":method", "GET"),
    (":method", "HEAD"),
    (":method", "OPTIONS"),
    (":method", "POST"),
    (":method", "PUT"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "103"),
    (":status", "200"),
    (":status", "304"),
    (":status", "404"),
    (":status", "503"),
    ("accept", "*/*"),
    ("accept", "application/dns-message"),
    ("accept-encoding", "gzip, deflate, br"),
    ("accept-ranges", "bytes"),
    ("access-control-allow-headers", "cache-control"),
    ("access-control-allow-headers", "content-type"),
    ("access-control-allow-origin", "*"),
    ("cache-control", "max-age=0"),
    ("cache-control", "max-age=2592000"),
    ("cache-control", "max-age=604800"),
    ("cache-control", "no-cache"),
    ("cache-control", "no-store"),
    ("cache-control", "public, max-age=31536000"),
    ("content-encoding", "br"),
    ("content-encoding", "gzip"),
    ("content-type", "application/dns-message"),
    ("content-type", "application/javascript"),
    ("content-type", "application/json"),
    ("content-type", "application/x-www-form-urlencoded"),
    ("content-type", "image/gif"),
    ("content-type", "image/jpeg"),
    ("content-type", "image/png"),
    ("content-type", "text/css"),
    ("content-type", "text/html; charset=utf-8"),
    ("content-type", "text/plain"),
    ("content-type", "text/plain;charset=utf-8"),
    ("range", "bytes=0-"),
    ("strict-transport-security", "max-age=31536000"),
    (
        "strict-transport-security",
        "max-age=31536000; includesubdomains",
    ),
    (
        "strict-transport-security",
        "max-age=31536000; includesubdomains; preload",
    ),
    ("vary", "accept-encoding"),
    ("vary", "origin"),
    ("x-content-type-options", "nosniff"),
    ("x-xss-protection", "1; mode=block"),
    (":status", "100"),
    (":status", "204"),
    (":status", "206"),
    (":status", "302"),
    (":status", "400"),
    (":status", "403"),
    (":status", "421"),
    (":status", "425"),
    (":status", "500"),
    ("accept-language", ""),
    ("access-control-allow-credentials", "FALSE"),
    ("access-control-allow-credentials", "TRUE"),
    ("access-control-allow-headers", "*"),
    ("access-control-allow-methods", "get"),
    ("access-control-allow-methods", "get, post, options"),
    ("access-control-allow-methods", "options"),
    ("access-control-expose-headers", "content-length"),
    ("access-control-request-headers", "content-type"),
    ("access-control-request-method", "get"),
    ("access-control-request-method", "post"),
    ("alt-svc", "clear"),
    ("authorization", ""),
    (
        "content-security-policy",
        "script-src 'none'; object-src 'none'; base-uri 'none'",
    ),
    ("early-data", "1"),
    ("expect-ct", ""),
    ("forwarded", ""),
    ("if-range", ""),
    ("origin", ""),
    ("purpose", "prefetch"),
    ("server", ""),
    ("timing-allow-origin", "*"),
    ("upgrade-insecure-requests", "1"),
    ("user-agent", ""),
    ("x-forwarded-for", ""),
    ("x-frame-options", "deny"),
    ("x-frame-options", "sameorigin"),
];

/// Why bytes are not a QPACK field section or encoder instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QpackError {
    #[error("qpack: cut short")]
    Truncated,
    #[error("qpack: integer too large")]
    Overflow,
    #[error("qpack: static table index {0} (the table has 99 entries)")]
    BadStatic(u64),
    #[error("qpack: bad Huffman string")]
    Huffman,
    #[error("qpack: required insert count does not decode")]
    BadInsertCount,
}

impl From<PrimitiveError> for QpackError {
    fn from(e: PrimitiveError) -> Self {
        match e {
            PrimitiveError::Truncated => QpackError::Truncated,
            PrimitiveError::Overflow => QpackError::Overflow,
            PrimitiveError::Huffman => QpackError::Huffman,
        }
    }
}

fn static_entry(index: u64) -> Result<(&'static str, &'static str), QpackError> {
    usize::try_from(index)
        .ok()
        .and_then(|i| STATIC_TABLE.get(i))
        .copied()
        .ok_or(QpackError::BadStatic(index))
}

/// The dynamic table one encoder builds (one per direction of a connection).
#[derive(Default)]
pub struct QpackTable {
    /// Newest last; the oldest has absolute index `inserted - entries.len()`.
    entries: VecDeque<(Vec<u8>, Vec<u8>)>,
    /// Insert count (RFC 9204 §3.2.4): entries inserted ever.
    pub inserted: u64,
    size: u64,
    capacity: u64,
    /// The decoder's SETTINGS_QPACK_MAX_TABLE_CAPACITY, for the Required Insert Count.
    pub max_capacity: u64,
    /// Entries evicted to keep within [`MAX_TABLE_CAPACITY`] or the capacity set, or
    /// inserted when larger than it.
    pub evicted: u64,
    /// Encoder-stream bytes not read (an instruction that does not parse, or too long).
    pub stream_cut: u64,
    buf: Vec<u8>,
    stopped: bool,
}

impl std::fmt::Debug for QpackTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QpackTable")
            .field("entries", &self.entries.len())
            .field("inserted", &self.inserted)
            .finish_non_exhaustive()
    }
}

impl QpackTable {
    /// The entry of absolute index `abs`, if still in the table.
    fn absolute(&self, abs: u64) -> Option<&(Vec<u8>, Vec<u8>)> {
        let oldest = self.inserted - self.entries.len() as u64;
        let i = abs.checked_sub(oldest)?;
        self.entries.get(usize::try_from(i).ok()?)
    }

    fn evict_to(&mut self, room: u64) {
        while self.size > room {
            let Some((n, v)) = self.entries.pop_front() else {
                break;
            };
            self.size -= (n.len() + v.len() + 32) as u64;
        }
    }

    fn insert(&mut self, name: Vec<u8>, value: Vec<u8>) {
        let size = (name.len() + value.len() + 32) as u64;
        self.inserted += 1;
        if size > self.capacity {
            // (An encoder error; the entry still takes an index.)
            self.evicted += self.entries.len() as u64 + 1;
            self.entries.clear();
            self.size = 0;
            return;
        }
        let before = self.entries.len();
        self.evict_to(self.capacity - size);
        self.evicted += (before - self.entries.len()) as u64;
        self.size += size;
        self.entries.push_back((name, value));
    }

    /// Encoder-stream bytes (RFC 9204 §4.3), in order; a partial instruction waits for the
    /// next call.
    pub fn feed_encoder(&mut self, data: &[u8]) {
        if self.stopped {
            self.stream_cut += data.len() as u64;
            return;
        }
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(data);
        let mut pos = 0;
        while pos < buf.len() {
            let start = pos;
            match self.instruction(&buf, &mut pos) {
                Ok(()) => {}
                Err(QpackError::Truncated) if buf.len() - start <= MAX_INSTRUCTION => {
                    pos = start;
                    break;
                }
                Err(_) => {
                    self.stream_cut += (buf.len() - start) as u64;
                    self.stopped = true;
                    pos = buf.len();
                    break;
                }
            }
        }
        buf.drain(..pos);
        self.buf = buf;
    }

    fn instruction(&mut self, b: &[u8], pos: &mut usize) -> Result<(), QpackError> {
        let first = b[*pos];
        if first & 0x80 != 0 {
            // Insert With Name Reference: T bit 0x40, 6-bit index.
            let is_static = first & 0x40 != 0;
            let index = prefixed(b, pos, 6)?;
            let value = string(b, pos, 7)?;
            let name = if is_static {
                static_entry(index)?.0.as_bytes().to_vec()
            } else {
                let abs = self.inserted.checked_sub(1 + index);
                abs.and_then(|a| self.absolute(a))
                    .map(|e| e.0.clone())
                    .unwrap_or_default()
            };
            self.insert(name, value);
        } else if first & 0x40 != 0 {
            // Insert With Literal Name: H bit 0x20, 5-bit name length.
            let name = string(b, pos, 5)?;
            let value = string(b, pos, 7)?;
            self.insert(name, value);
        } else if first & 0x20 != 0 {
            let cap = prefixed(b, pos, 5)?;
            self.capacity = cap.min(MAX_TABLE_CAPACITY);
            let before = self.entries.len();
            self.evict_to(self.capacity);
            self.evicted += (before - self.entries.len()) as u64;
        } else {
            let index = prefixed(b, pos, 5)?;
            let e = self
                .inserted
                .checked_sub(1 + index)
                .and_then(|a| self.absolute(a))
                .cloned()
                .unwrap_or_default();
            self.insert(e.0, e.1);
        }
        Ok(())
    }
}

/// A decoded field section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    pub fields: Vec<(String, String)>,
    /// Field lines that refer to dynamic entries not in the table (said once each).
    pub notes: Vec<String>,
    /// Fields past [`MAX_SECTION_BYTES`], not kept.
    pub cut: u32,
}

impl Section {
    /// The value of field `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a field section needs before it can be decoded: entries up to this Required
/// Insert Count (RFC 9204 §4.5.1.1), decoded against the decoder's maximum capacity.
pub fn required_insert_count(block: &[u8], table: &QpackTable) -> Result<u64, QpackError> {
    let mut pos = 0;
    let encoded = prefixed(block, &mut pos, 8)?;
    if encoded == 0 {
        return Ok(0);
    }
    let max_entries = table.max_capacity.max(table.capacity) / 32;
    let full = 2 * max_entries;
    if full == 0 || encoded > full {
        return Err(QpackError::BadInsertCount);
    }
    let max_value = table.inserted + max_entries;
    let max_wrapped = (max_value / full) * full;
    let mut ric = max_wrapped + encoded - 1;
    if ric > max_value {
        if ric <= full {
            return Err(QpackError::BadInsertCount);
        }
        ric -= full;
    }
    if ric == 0 {
        return Err(QpackError::BadInsertCount);
    }
    Ok(ric)
}

/// Decodes one field section (the payload of an HTTP/3 HEADERS frame) against `table`.
/// References to dynamic entries the table does not hold become notes; the caller checks
/// [`required_insert_count`] first when it can wait for the encoder stream.
pub fn decode_section(block: &[u8], table: &mut QpackTable) -> Result<Section, QpackError> {
    let ric = required_insert_count(block, table)?;
    let mut pos = 0;
    prefixed(block, &mut pos, 8)?;
    let sign = block.get(pos).ok_or(QpackError::Truncated)? & 0x80 != 0;
    let delta = prefixed(block, &mut pos, 7)?;
    let base = if sign {
        ric.checked_sub(delta + 1)
            .ok_or(QpackError::BadInsertCount)?
    } else {
        ric.checked_add(delta).ok_or(QpackError::Overflow)?
    };
    let mut out = Section::default();
    let mut bytes = 0usize;
    let mut missing = Vec::new();
    while pos < block.len() {
        let first = block[pos];
        let field: (Vec<u8>, Vec<u8>);
        let dynamic = |abs: Option<u64>, missing: &mut Vec<u64>| -> (Vec<u8>, Vec<u8>) {
            match abs.and_then(|a| table.absolute(a)) {
                Some(e) => e.clone(),
                None => {
                    missing.push(abs.unwrap_or(u64::MAX));
                    (Vec::new(), Vec::new())
                }
            }
        };
        if first & 0x80 != 0 {
            // Indexed Field Line: T bit 0x40, 6-bit index.
            let index = prefixed(block, &mut pos, 6)?;
            field = if first & 0x40 != 0 {
                let (n, v) = static_entry(index)?;
                (n.into(), v.into())
            } else {
                dynamic(base.checked_sub(index + 1), &mut missing)
            };
        } else if first & 0x40 != 0 {
            // Literal With Name Reference: N 0x20, T 0x10, 4-bit index.
            let index = prefixed(block, &mut pos, 4)?;
            let name = if first & 0x10 != 0 {
                static_entry(index)?.0.as_bytes().to_vec()
            } else {
                dynamic(base.checked_sub(index + 1), &mut missing).0
            };
            field = (name, string(block, &mut pos, 7)?);
        } else if first & 0x20 != 0 {
            // Literal With Literal Name: N 0x10, H 0x08, 3-bit name length.
            let name = string(block, &mut pos, 3)?;
            field = (name, string(block, &mut pos, 7)?);
        } else if first & 0x10 != 0 {
            // Indexed Field Line With Post-Base Index: 4-bit index.
            let index = prefixed(block, &mut pos, 4)?;
            field = dynamic(base.checked_add(index), &mut missing);
        } else {
            // Literal With Post-Base Name Reference: N 0x08, 3-bit index.
            let index = prefixed(block, &mut pos, 3)?;
            let name = dynamic(base.checked_add(index), &mut missing).0;
            field = (name, string(block, &mut pos, 7)?);
        }
        if field.0.is_empty() {
            continue;
        }
        bytes += field.0.len() + field.1.len();
        if bytes > MAX_SECTION_BYTES {
            out.cut += 1;
            continue;
        }
        out.fields.push((
            String::from_utf8_lossy(&field.0).into_owned(),
            String::from_utf8_lossy(&field.1).into_owned(),
        ));
    }
    if !missing.is_empty() {
        out.notes.push(format!(
            "{} field line(s) refer to QPACK dynamic table entries not seen (insert count {} \
             of {} required): their fields are not shown",
            missing.len(),
            table.inserted,
            ric
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::quic::initial::tests::hex;

    /// Every static entry, encoded by ls-qpack (pylsqpack 1.0.0's `Encoder().encode(0,
    /// table)`): 99 indexed field lines 0xc0 … 0xff 0x23, in order, which also checks this
    /// table against ls-qpack's.
    #[test]
    fn static_table_as_ls_qpack_encodes_it() {
        let mut block = hex("0000");
        block.extend(0xc0..=0xfe_u8);
        for i in 0..=0x23u8 {
            block.extend([0xff, i]);
        }
        let mut t = QpackTable::default();
        let s = decode_section(&block, &mut t).unwrap();
        assert_eq!(s.fields.len(), 99);
        for (i, (n, v)) in s.fields.iter().enumerate() {
            assert_eq!((n.as_str(), v.as_str()), STATIC_TABLE[i], "entry {i}");
        }
        assert!(s.notes.is_empty());
    }

    /// RFC 9204 Appendix B.2-B.5: the encoder stream's instructions and the field sections
    /// that refer to them, with a 220-byte table.
    #[test]
    fn rfc9204_appendix_b() {
        let mut t = QpackTable {
            max_capacity: 220,
            ..Default::default()
        };
        // B.2: Set Dynamic Table Capacity 220, two Inserts With (static) Name Reference.
        t.feed_encoder(&hex(
            "3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468",
        ));
        let b2 = hex("0381 10 11");
        assert_eq!(required_insert_count(&b2, &t), Ok(2));
        let fields = |s: Section| -> Vec<(String, String)> {
            assert!(s.notes.is_empty(), "{:?}", s.notes);
            s.fields
        };
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            fields(decode_section(&b2, &mut t).unwrap()),
            pairs(&[(":authority", "www.example.com"), (":path", "/sample/path")])
        );
        // B.3: Insert With Literal Name custom-key: custom-value.
        t.feed_encoder(&hex("4a637573746f6d2d6b65790c637573746f6d2d76616c7565"));
        // B.4: Duplicate (relative index 2: :authority), then stream 8's section.
        t.feed_encoder(&hex("02"));
        let b4 = hex("0500 80 c1 81");
        assert_eq!(required_insert_count(&b4, &t), Ok(4));
        assert_eq!(
            fields(decode_section(&b4, &mut t).unwrap()),
            pairs(&[
                (":authority", "www.example.com"),
                (":path", "/"),
                ("custom-key", "custom-value"),
            ])
        );
        // B.5: Insert With (dynamic) Name Reference custom-key: custom-value2, which
        // evicts absolute index 0 (table size 217 - 57 + 55 = 215).
        t.feed_encoder(&hex("810d637573746f6d2d76616c756532"));
        assert_eq!(
            (t.inserted, t.entries.len(), t.evicted, t.size),
            (5, 4, 1, 215)
        );
        assert_eq!(
            t.absolute(4).map(|(n, v)| (n.as_slice(), v.as_slice())),
            Some((&b"custom-key"[..], &b"custom-value2"[..]))
        );
    }

    /// Three requests encoded by ls-qpack (pylsqpack 1.0.0) with a 4096-byte table:
    /// streams 0 (static and literal only), 4 (after encoder-stream inserts: post-base
    /// references, Huffman strings) and 8 (relative references).
    #[test]
    fn dynamic_table_from_ls_qpack() {
        let mut t = QpackTable {
            max_capacity: 4096,
            ..Default::default()
        };
        t.feed_encoder(&hex("3fe11f")); // Set Dynamic Table Capacity 4096
        let s0 = decode_section(
            &hex(
                "0000d1d7508ba07e8b62087acaba4a84ff518860d5485f2bce9a685f508d198fdad3116a07\
                 e8b62087acbf2df2b26c190b841c640899",
            ),
            &mut t,
        )
        .unwrap();
        let want0 = [
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "layerscope.test"),
            (":path", "/index.html"),
            ("user-agent", "aioquic-layerscope"),
            ("x-trace", "abc123"),
        ];
        let got: Vec<(&str, &str)> = s0
            .fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, want0);
        // Stream 4's inserts arrive in two pieces (a partial instruction waits).
        let enc =
            hex("c08ba07e8b62087acaba4a84ffff208d198fdad3116a07e8b62087acbf65f2b26c190b841c640899");
        t.feed_encoder(&enc[..5]);
        t.feed_encoder(&enc[5..]);
        assert_eq!(t.inserted, 3);
        let block4 = hex("0482d4d710518462b3a13f11122f01f2b545f0b543a4bf0176");
        assert_eq!(required_insert_count(&block4, &t), Ok(3));
        let s4 = decode_section(&block4, &mut t).unwrap();
        assert_eq!(s4.get(":method"), Some("POST"));
        assert_eq!(s4.get(":authority"), Some("layerscope.test"));
        assert_eq!(s4.get(":path"), Some("/post"));
        assert_eq!(s4.get("user-agent"), Some("aioquic-layerscope"));
        assert_eq!(s4.get("x-trace"), Some("abc123"));
        assert_eq!(s4.get("x-new-name"), Some("v"));
        assert_eq!(s4.fields.len(), 7);
        t.feed_encoder(&hex("c18860d5485f2bce9a68"));
        let s8 = decode_section(&hex("0580d1d782108180"), &mut t).unwrap();
        let got: Vec<(&str, &str)> = s8
            .fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, want0);
        // Without the encoder stream: the dynamic references are a note.
        let mut empty = QpackTable {
            max_capacity: 4096,
            ..Default::default()
        };
        let s = decode_section(&hex("0580d1d782108180"), &mut empty).unwrap();
        assert_eq!(s.get(":method"), Some("GET"));
        assert_eq!(s.fields.len(), 2);
        assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    }

    #[test]
    fn hostile_sections_never_panic() {
        let mut t = QpackTable {
            max_capacity: 100,
            ..Default::default()
        };
        t.feed_encoder(&hex("3fe11f"));
        let seeds = [
            hex("0482d4d710518462b3a13f11122f01f2b545f0b543a4bf0176"),
            hex("c08ba07e8b62087acaba4a84ffff208d198fdad3116a07e8b62087acbf"),
            hex("ffffffffffffffffffffff7f"),
        ];
        let mut x: u32 = 0x2545_f491;
        for s in &seeds {
            for _ in 0..3000 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let mut m = s.clone();
                let i = x as usize % m.len();
                m[i] = (x >> 8) as u8;
                let cut = (x >> 20) as usize % (m.len() + 1);
                let _ = decode_section(&m[..cut], &mut t);
                t.feed_encoder(&m[..cut]);
            }
        }
        assert_eq!(
            prefixed(
                &[0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                &mut 0,
                5
            ),
            Err(PrimitiveError::Overflow)
        );
    }
}
