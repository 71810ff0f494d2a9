//! The field-writing primitives of the JSON records: [`Put`] writes a record in place into a
//! buffer made long enough beforehand, one call per field (`o.field(key!("frame"), n)`, as
//! ripgrep's JSON printer writes one field per call). Keys are constant byte arrays made at
//! compile time (`key!`), values are written without `core::fmt` or allocation, strings
//! exactly as serde_json escapes them.

use super::super::text::{any_word, digits_into, put_ipv4_port, write_endpoint};
use crate::capture::Timestamp;
use std::io::Write;

/// `s` as a byte array of its length (for the constant keys of `key!`).
pub(super) const fn array_of<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut a = [0u8; N];
    let mut i = 0;
    while i < N && i < b.len() {
        a[i] = b[i];
        i += 1;
    }
    a
}

/// A field's key as constant text (`text`), and the same with the value `null` (`null`),
/// so that an absent value is one piece with its key.
pub(super) struct Key<const K: usize, const Z: usize> {
    pub(super) text: [u8; K],
    pub(super) null: [u8; Z],
}

/// The [`Key`] `$open "name": $value_open` (see `key!`, `first_key!`, `list_key!`).
macro_rules! make_key {
    ($open:literal, $name:literal, $value_open:literal) => {{
        const TEXT: &str = concat!($open, "\"", $name, "\":", $value_open);
        const NULL: &str = concat!($open, "\"", $name, "\":null");
        const KEY: $crate::render::jsonl::writer::Key<{ TEXT.len() }, { NULL.len() }> =
            $crate::render::jsonl::writer::Key {
                text: $crate::render::jsonl::writer::array_of(TEXT),
                null: $crate::render::jsonl::writer::array_of(NULL),
            };
        &KEY
    }};
}

/// `,"name":`: the key of a field after the first.
macro_rules! key {
    ($name:literal) => {
        make_key!(",", $name, "")
    };
}

/// `{"name":`: the key of an object's first field (the object's `{` with it).
macro_rules! first_key {
    ($name:literal) => {
        make_key!("{", $name, "")
    };
}

/// `,"name":[`: the key of a list field with the list's `[` (see [`Put::list_field`]).
macro_rules! list_key {
    ($name:literal) => {
        make_key!(",", $name, "[")
    };
}

/// `,"name":"`: the key of a text field with the opening quote (see [`Put::text_field`]).
macro_rules! text_key {
    ($name:literal) => {
        make_key!(",", $name, "\"")
    };
}

/// `{"type":"name"`: the start of a record of type `name`.
macro_rules! record_type {
    ($name:literal) => {{
        const TEXT: &str = concat!("{\"type\":\"", $name, "\"");
        const BYTES: [u8; TEXT.len()] = $crate::render::jsonl::writer::array_of(TEXT);
        &BYTES
    }};
}

/// A record written into `buf` from `pos`: `buf` is made long enough beforehand for the usual
/// record, so each piece is one bounds check and a copy (constant pieces of known length
/// compile to moves) instead of a capacity check, a possible growth and a `memcpy` call per
/// piece. A piece that does not fit sets `short` and is dropped; the caller then gives a
/// longer region and writes the record again (see [`put_in_place`]).
pub(super) struct Put<'a> {
    buf: &'a mut [u8],
    pos: usize,
    short: bool,
}

/// A value a field can hold: written by [`Put::field`].
pub(super) trait Value: Sized {
    fn put(self, o: &mut Put<'_>);

    /// The field `key: self` (an absent value's `null` in one piece with its key).
    #[inline(always)]
    fn put_field<const K: usize, const Z: usize>(self, o: &mut Put<'_>, key: &Key<K, Z>) {
        o.lit(&key.text);
        self.put(o);
    }
}

impl Value for u64 {
    #[inline(always)]
    fn put(self, o: &mut Put<'_>) {
        o.u64(self)
    }
}

impl Value for u32 {
    #[inline(always)]
    fn put(self, o: &mut Put<'_>) {
        o.u64(u64::from(self))
    }
}

impl Value for u16 {
    #[inline(always)]
    fn put(self, o: &mut Put<'_>) {
        o.u64(u64::from(self))
    }
}

impl Value for u8 {
    #[inline(always)]
    fn put(self, o: &mut Put<'_>) {
        o.u64(u64::from(self))
    }
}

impl Value for bool {
    #[inline(always)]
    fn put(self, o: &mut Put<'_>) {
        if self {
            o.lit(b"true")
        } else {
            o.lit(b"false")
        }
    }
}

/// `null` when absent.
impl<T: Value> Value for Option<T> {
    #[inline(always)]
    fn put(self, o: &mut Put<'_>) {
        match self {
            Some(v) => v.put(o),
            None => o.lit(b"null"),
        }
    }

    #[inline(always)]
    fn put_field<const K: usize, const Z: usize>(self, o: &mut Put<'_>, key: &Key<K, Z>) {
        match self {
            Some(v) => v.put_field(o, key),
            None => o.lit(&key.null),
        }
    }
}

/// Values that are one of [`Put`]'s writers applied to what they wrap.
macro_rules! value_by {
    ($(#[$doc:meta] $name:ident $(<$l:lifetime>)? ($inner:ty) => $method:ident;)*) => {$(
        #[$doc]
        #[derive(Clone, Copy)]
        pub(super) struct $name$(<$l>)?(pub $inner);

        impl$(<$l>)? Value for $name$(<$l>)? {
            #[inline(always)]
            fn put(self, o: &mut Put<'_>) {
                o.$method(self.0)
            }
        }
    )*};
}

value_by! {
    /// A name of our own (no characters that need escaping), in quotes.
    Name<'a>(&'a str) => name;
    /// Any text, as serde_json writes it.
    Str<'a>(&'a str) => json_str;
    /// A latency in milliseconds as `{:.3}` writes it (`null` when not finite).
    Ms(f64) => ms;
    /// Nanoseconds as milliseconds (see [`ns_as_ms`]).
    NsAsMs(i64) => ns_ms;
    /// A TCP state's name in quotes.
    TcpStateName(crate::flow::TcpState) => tcp_state;
}

/// A float of nanoseconds (an estimate) as milliseconds, `null` when not finite.
#[derive(Clone, Copy)]
pub(super) struct F64NsAsMs(pub f64);

impl Value for F64NsAsMs {
    #[inline]
    fn put(self, o: &mut Put<'_>) {
        if self.0.is_finite() && self.0.abs() < 9e18 {
            o.ns_ms(self.0.round() as i64)
        } else {
            o.lit(b"null")
        }
    }
}

/// The items of a list of values, in brackets.
pub(super) struct List<I>(pub I);

impl<I: IntoIterator<Item = T>, T: Value> Value for List<I> {
    #[inline]
    fn put(self, o: &mut Put<'_>) {
        o.list(self.0, |o, v| v.put(o))
    }
}

impl<'a> Put<'a> {
    pub(super) fn new(buf: &'a mut [u8]) -> Put<'a> {
        Put {
            buf,
            pos: 0,
            short: false,
        }
    }

    /// A writer over `buf` from `at` with `room` bytes: `buf` lengthened (zero-filled) only
    /// when shorter, so a buffer kept at its length is not filled again per record.
    #[inline(always)]
    pub(super) fn region(buf: &'a mut Vec<u8>, at: usize, room: usize) -> Put<'a> {
        if buf.len() < at + room {
            buf.resize(at + room, 0);
        }
        Put::new(buf.get_mut(at..).unwrap_or_default())
    }

    /// The length written, None when a piece did not fit (then the record is written again
    /// with more room).
    #[inline(always)]
    pub(super) fn written(&self) -> Option<usize> {
        (!self.short).then_some(self.pos)
    }

    /// One field: its key (`key!("name")`, or `first_key!` for an object's first) and value.
    #[inline(always)]
    pub(super) fn field<const K: usize, const Z: usize>(&mut self, key: &Key<K, Z>, v: impl Value) {
        v.put_field(self, key);
    }

    /// A field's key alone (its value written next).
    #[inline(always)]
    pub(super) fn key<const K: usize, const Z: usize>(&mut self, key: &Key<K, Z>) {
        self.lit(&key.text);
    }

    /// A field whose value is `null`.
    #[inline(always)]
    pub(super) fn null_field<const K: usize, const Z: usize>(&mut self, key: &Key<K, Z>) {
        self.lit(&key.null);
    }

    /// The comma before a list's item when it is not the first.
    #[inline(always)]
    pub(super) fn comma_if(&mut self, not_first: bool) {
        if not_first {
            self.lit(b",");
        }
    }

    /// A value alone (a list item, or a field's value chosen in a `field_with`).
    #[inline(always)]
    pub(super) fn value(&mut self, v: impl Value) {
        v.put(self);
    }

    /// One field whose value `write` writes (a nested object, text taken from a memo).
    #[inline(always)]
    pub(super) fn field_with<const K: usize, const Z: usize>(
        &mut self,
        key: &Key<K, Z>,
        write: impl FnOnce(&mut Put<'_>),
    ) {
        self.lit(&key.text);
        write(self);
    }

    /// One field whose value `write` writes from `v`, `null` when `v` is absent.
    #[inline(always)]
    pub(super) fn field_or_null<T, const K: usize, const Z: usize>(
        &mut self,
        key: &Key<K, Z>,
        v: Option<T>,
        write: impl FnOnce(&mut Put<'_>, T),
    ) {
        match v {
            Some(v) => {
                self.lit(&key.text);
                write(self, v);
            }
            None => self.lit(&key.null),
        }
    }

    /// A field written only when `v` is there (an added field the contract leaves out
    /// where it does not apply).
    #[inline(always)]
    pub(super) fn field_if<const K: usize, const Z: usize>(
        &mut self,
        key: &Key<K, Z>,
        v: Option<impl Value>,
    ) {
        if let Some(v) = v {
            self.field(key, v);
        }
    }

    /// A list field (`list_key!("name")`): each of `items` written by `each`.
    #[inline(always)]
    pub(super) fn list_field<T, const K: usize, const Z: usize>(
        &mut self,
        key: &Key<K, Z>,
        items: impl IntoIterator<Item = T>,
        mut each: impl FnMut(&mut Put<'_>, T),
    ) {
        self.lit(&key.text);
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.lit(b",");
            }
            each(self, item);
        }
        self.lit(b"]");
    }

    /// A text field (`text_key!("name")`) whose text `write` writes from `v` (nothing that
    /// needs escaping), `null` when `v` is absent.
    #[inline(always)]
    pub(super) fn text_field<T, const K: usize, const Z: usize>(
        &mut self,
        key: &Key<K, Z>,
        v: Option<T>,
        write: impl FnOnce(&mut Put<'_>, T),
    ) {
        match v {
            Some(v) => {
                self.lit(&key.text);
                write(self, v);
                self.lit(b"\"");
            }
            None => self.lit(&key.null),
        }
    }

    /// The end of a nested object or of a record without its newline.
    #[inline(always)]
    pub(super) fn end_object(&mut self) {
        self.lit(b"}");
    }

    /// The end of a record: `}` and the newline.
    #[inline(always)]
    pub(super) fn end_record(&mut self) {
        self.lit(b"}\n");
    }

    /// `[`, each of `items` written by `each` (comma-separated), `]`.
    #[inline]
    pub(super) fn list<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut each: impl FnMut(&mut Put<'_>, T),
    ) {
        self.lit(b"[");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.lit(b",");
            }
            each(self, item);
        }
        self.lit(b"]");
    }

    /// A list field (`list_key!("name")`) of the names of `names` whose bit is in `bits` (a
    /// flag set's names in their fixed order).
    #[inline]
    pub(super) fn flags_field<const N: usize, const K: usize, const Z: usize>(
        &mut self,
        key: &Key<K, Z>,
        names: &[(&str, u16); N],
        bits: u16,
    ) {
        if bits == 0 {
            self.lit(&key.text);
            return self.lit(b"]");
        }
        let set = names.iter().filter(|(_, bit)| bits & bit != 0);
        self.list_field(key, set, |o, (name, _)| o.name(name));
    }

    /// A constant piece.
    #[inline(always)]
    pub(super) fn lit<const N: usize>(&mut self, s: &[u8; N]) {
        match self.buf.get_mut(self.pos..self.pos + N) {
            Some(d) => {
                d.copy_from_slice(s);
                self.pos += N;
            }
            None => self.short = true,
        }
    }

    /// A piece of any length.
    #[inline]
    pub(super) fn bytes(&mut self, s: &[u8]) {
        match self.buf.get_mut(self.pos..self.pos + s.len()) {
            Some(d) => {
                d.copy_from_slice(s);
                self.pos += s.len();
            }
            None => self.short = true,
        }
    }

    /// `v` in decimal (as [`put_u64`]).
    #[inline]
    pub(super) fn u64(&mut self, v: u64) {
        if v < 10 {
            self.lit(&[b'0' + v as u8]);
        } else if v < 100 {
            let i = v as usize * 2;
            let pair: [u8; 2] = super::super::text::DIGIT_PAIRS
                .get(i..i + 2)
                .and_then(|p| p.try_into().ok())
                .unwrap_or(*b"00");
            self.lit(&pair);
        } else {
            self.digits(v, 1);
        }
    }

    /// `v` in decimal left-padded with zeros to `width` (at most 20) digits. The widths of
    /// fractions (3, 6 and 9 digits) are written digit by digit into one constant-length
    /// piece when `v` fits them (the usual case: a fraction below its unit).
    #[inline]
    pub(super) fn padded(&mut self, v: u32, width: usize) {
        match width {
            3 if v < 1_000 => self.fixed_width::<3>(v),
            6 if v < 1_000_000 => self.fixed_width::<6>(v),
            9 if v < 1_000_000_000 => self.fixed_width::<9>(v),
            _ => self.digits(u64::from(v), width),
        }
    }

    /// The last `W` decimal digits of `v`, zeros in front: two digits at a time from
    /// [`DIGIT_PAIRS`](super::super::text::DIGIT_PAIRS) (divisions by the constant 100).
    #[inline(always)]
    fn fixed_width<const W: usize>(&mut self, mut v: u32) {
        let mut text = [b'0'; W];
        let mut end = W;
        while end >= 2 {
            let pair = (v % 100) as usize * 2;
            v /= 100;
            if let (Some(d), Some(p)) = (
                text.get_mut(end - 2..end),
                super::super::text::DIGIT_PAIRS.get(pair..pair + 2),
            ) {
                d.copy_from_slice(p);
            }
            end -= 2;
        }
        if let Some(d) = text.first_mut().filter(|_| end == 1) {
            *d = b'0' + (v % 10) as u8;
        }
        self.lit(&text);
    }

    /// `v`'s digits, zero-padded to `width`: made right-aligned in the first 20 bytes of a
    /// zero-filled 40, then 20 bytes from their start are copied (a fixed-length copy,
    /// no digit count first); what lies past the number is overwritten by what follows.
    #[inline]
    fn digits(&mut self, v: u64, width: usize) {
        let mut tmp = [b'0'; 40];
        let (head, _) = tmp.split_at_mut(20);
        let i = match <&mut [u8; 20]>::try_from(head) {
            Ok(head) => digits_into(head, v),
            Err(_) => 20,
        };
        let from = i.min(20usize.saturating_sub(width));
        let src = tmp.get(from..from + 20);
        match (self.buf.get_mut(self.pos..self.pos + 20), src) {
            (Some(d), Some(src)) => {
                d.copy_from_slice(src);
                self.pos += 20 - from;
            }
            _ => self.short = true,
        }
    }

    /// A name of our own (no characters that need escaping) in quotes.
    #[inline]
    pub(super) fn name(&mut self, name: &str) {
        self.lit(b"\"");
        self.bytes(name.as_bytes());
        self.lit(b"\"");
    }

    /// A JSON string as serde_json writes it: text without control characters, quotes or
    /// backslashes is copied as is, anything else goes through serde_json.
    pub(super) fn json_str(&mut self, s: &str) {
        if !needs_escape(s.as_bytes()) {
            self.name(s);
        } else {
            let mut tmp = Vec::with_capacity(s.len() + 8);
            json_str(&mut tmp, s);
            self.bytes(&tmp);
        }
    }

    /// What `Display` writes (for the few numbers written as the formatter writes them:
    /// hexadecimal, floats); text up to 64 bytes without allocating.
    pub(super) fn display(&mut self, v: std::fmt::Arguments<'_>) {
        let mut a = arrayvec::ArrayVec::<u8, 64>::new();
        if a.write_fmt(v).is_ok() {
            self.bytes(&a);
        } else {
            let mut tmp = Vec::with_capacity(128);
            // (Writing to a `Vec` does not fail.)
            let _ = tmp.write_fmt(v);
            self.bytes(&tmp);
        }
    }

    /// "addr:port" (see [`write_endpoint`]).
    pub(super) fn endpoint(&mut self, ip: std::net::IpAddr, port: Option<u16>) {
        match ip {
            std::net::IpAddr::V4(ip) => {
                let window = self
                    .buf
                    .get_mut(self.pos..self.pos + 21)
                    .and_then(|w| <&mut [u8; 21]>::try_from(w).ok());
                match window {
                    Some(w) => self.pos += put_ipv4_port(w, ip.octets(), port),
                    None => self.short = true,
                }
            }
            ip => {
                // An IPv6 address and port take at most 47 bytes.
                let mut tmp = arrayvec::ArrayVec::<u8, 64>::new();
                if write_endpoint(&mut tmp, ip, port).is_ok() {
                    self.bytes(&tmp);
                } else {
                    let mut tmp = Vec::with_capacity(128);
                    // (Writing to a `Vec` does not fail.)
                    let _ = write_endpoint(&mut tmp, ip, port);
                    self.bytes(&tmp);
                }
            }
        }
    }

    /// [`Put::endpoint`] of `a`, with the text of the previous one at this place (`memo`)
    /// reused when the address is the same.
    pub(super) fn endpoint_memo(
        &mut self,
        a: std::net::SocketAddr,
        memo: &mut Option<EndpointText>,
    ) {
        match a {
            std::net::SocketAddr::V4(v4) => {
                let m = match memo {
                    Some(m) if m.addr.ip() == v4.ip() => m,
                    _ => memo.insert(EndpointText::new(*v4.ip())),
                };
                self.v4_endpoint(m, Some(v4.port()));
            }
            a => self.endpoint(a.ip(), Some(a.port())),
        }
    }

    /// `m`'s address, then ":port" if any: the whole text copied when it was made for this
    /// port, else the address's text and the port (then remembered in `m` with this port).
    #[inline(always)]
    pub(super) fn v4_endpoint(&mut self, m: &mut EndpointText, port: Option<u16>) {
        match port {
            Some(port) if m.len > m.ip_len && m.addr.port() == port => {
                self.window(&m.text, usize::from(m.len))
            }
            Some(port) => {
                let start = self.pos;
                self.window(&m.text, usize::from(m.ip_len));
                self.lit(b":");
                self.u64(u64::from(port));
                if let Some((text, len)) = self.written_since::<21>(start) {
                    m.text = text;
                    m.len = len;
                    m.addr.set_port(port);
                }
            }
            None => self.window(&m.text, usize::from(m.ip_len)),
        }
    }

    /// The first `len` bytes of `text`, copied as a whole (`N` bytes; the rest is
    /// overwritten by what follows).
    #[inline]
    pub(super) fn window<const N: usize>(&mut self, text: &[u8; N], len: usize) {
        match self.buf.get_mut(self.pos..self.pos + N) {
            Some(d) => {
                d.copy_from_slice(text);
                self.pos += len.min(N);
            }
            None => self.short = true,
        }
    }

    /// What was written from `start` on, as an `N`-byte block and its length, when it is at
    /// most `N` bytes and the block lies in the buffer (to remember it for the next record).
    #[inline]
    pub(super) fn written_since<const N: usize>(&self, start: usize) -> Option<([u8; N], u8)> {
        let len = self.pos.checked_sub(start)?;
        let text = self.buf.get(start..start + N)?.try_into().ok()?;
        (len <= N && len <= usize::from(u8::MAX)).then_some((text, len as u8))
    }

    /// `secs.frac` at the timestamp's precision (6 or 9 digits), the whole seconds' text
    /// taken from `memo` when they are the last ones.
    pub(super) fn ts_memo(&mut self, ts: &Timestamp, memo: &mut Option<(i64, [u8; 20], u8)>) {
        match *memo {
            Some((secs, text, len)) if secs == ts.secs => self.window(&text, usize::from(len)),
            _ => {
                let start = self.pos;
                if ts.secs < 0 {
                    self.lit(b"-");
                }
                self.u64(ts.secs.unsigned_abs());
                if let Some((text, len)) = self.written_since::<20>(start) {
                    *memo = Some((ts.secs, text, len));
                }
            }
        }
        self.lit(b".");
        if ts.precision >= 9 {
            self.padded(ts.nanos, 9);
        } else {
            self.padded(ts.nanos / 1000, 6);
        }
    }

    /// `ns / 10^exp` (`exp` 6 or 9) with `exp - 3` decimals, byte for byte what
    /// `format!("{:.N}", ns as f64 / 10^exp as f64)` writes, without the float formatter:
    /// exact integer rounding is used where it cannot differ (a remainder other than exactly
    /// half a unit of the last place, a value far below 2^53), else the float path. Inlined,
    /// so that the divisions are by constants.
    #[inline(always)]
    pub(super) fn fixed(&mut self, ns: u64, exp: u32) {
        let unit = 10u64.pow(exp);
        let rem = ns % 1000;
        if ns >= 1 << 50 || rem == 500 {
            // Where integer rounding could differ from the float formatter's: the float.
            let v = ns as f64 / unit as f64;
            match exp {
                6 => self.display(format_args!("{v:.3}")),
                _ => self.display(format_args!("{v:.6}")),
            }
            return;
        }
        let kept = ns / 1000 + u64::from(rem > 500);
        let scale = unit / 1000;
        self.u64(kept / scale);
        self.lit(b".");
        self.padded((kept % scale) as u32, exp as usize - 3);
    }

    /// `{:.3}` of a latency in milliseconds (integer digits where [`exact_ms_nanos`] says
    /// they are the same), `null` when not finite.
    pub(super) fn ms(&mut self, ms: f64) {
        match exact_ms_nanos(ms) {
            Some(ns) => self.fixed(ns, 6),
            None if ms.is_finite() => self.display(format_args!("{ms:.3}")),
            None => self.lit(b"null"),
        }
    }

    /// [`ns_as_ms`] written out.
    #[inline]
    pub(super) fn ns_ms(&mut self, ns: i64) {
        let (neg, whole, frac, width) = ns_as_ms(ns);
        if neg {
            self.lit(b"-");
        }
        self.u64(whole);
        self.lit(b".");
        self.padded(frac, width);
    }

    /// A TCP state's name in quotes, one constant piece per state.
    pub(super) fn tcp_state(&mut self, s: crate::flow::TcpState) {
        use crate::flow::TcpState as S;
        match s {
            S::Closed => self.lit(b"\"CLOSED\""),
            S::Listen => self.lit(b"\"LISTEN\""),
            S::SynSent => self.lit(b"\"SYN-SENT\""),
            S::SynReceived => self.lit(b"\"SYN-RECEIVED\""),
            S::Established => self.lit(b"\"ESTABLISHED\""),
            S::FinWait1 => self.lit(b"\"FIN-WAIT-1\""),
            S::FinWait2 => self.lit(b"\"FIN-WAIT-2\""),
            S::CloseWait => self.lit(b"\"CLOSE-WAIT\""),
            S::Closing => self.lit(b"\"CLOSING\""),
            S::LastAck => self.lit(b"\"LAST-ACK\""),
            S::TimeWait => self.lit(b"\"TIME-WAIT\""),
        }
    }

    /// `{"client":…,"server":…}` of a pair of TCP states.
    pub(super) fn tcp_states(&mut self, (client, server): StatePair) {
        self.field(first_key!("client"), TcpStateName(client));
        self.field(key!("server"), TcpStateName(server));
        self.end_object();
    }

    /// `{"to_server":n,"to_client":n}`.
    #[inline(always)]
    pub(super) fn per_dir(&mut self, p: &crate::flow::PerDir) {
        self.field(first_key!("to_server"), p.to_server);
        self.field(key!("to_client"), p.to_client);
        self.end_object();
    }

    /// Text `write` makes, copied from the slot `key` of `table` (made there when first
    /// met). A key past the table, or a text too long for its slot, is written by `write`
    /// itself.
    #[inline]
    pub(super) fn memo<const N: usize>(
        &mut self,
        table: &mut [Option<([u8; N], u8)>],
        key: usize,
        write: impl Fn(&mut Put<'_>),
    ) {
        if let Some(slot) = table.get_mut(key) {
            if slot.is_none() {
                *slot = made_text(&write);
            }
            if let Some((text, len)) = slot {
                self.window(text, usize::from(*len));
                return;
            }
        }
        write(self);
    }

    /// Text `write` makes, copied from `last` when it was made for the same `key` (else
    /// made and kept there).
    #[inline]
    pub(super) fn memo_last<K: PartialEq, const N: usize>(
        &mut self,
        last: &mut Option<(K, ([u8; N], u8))>,
        key: K,
        write: impl Fn(&mut Put<'_>),
    ) {
        if last.as_ref().is_none_or(|(k, _)| *k != key) {
            *last = made_text(&write).map(|text| (key, text));
        }
        match last {
            Some((_, (text, len))) => self.window(text, usize::from(*len)),
            None => write(self),
        }
    }
}

/// `{"to_server":n,"to_client":n}`.
impl Value for &crate::flow::PerDir {
    #[inline(always)]
    fn put(self, o: &mut Put<'_>) {
        o.per_dir(self)
    }
}

/// A connection's (client, server) TCP states.
pub(super) type StatePair = (crate::flow::TcpState, crate::flow::TcpState);

/// A direction as the JSON names it (`"to_server"`, `"to_client"`).
impl Value for crate::flow::Direction {
    #[inline]
    fn put(self, o: &mut Put<'_>) {
        match self {
            crate::flow::Direction::ToServer => o.lit(b"\"to_server\""),
            crate::flow::Direction::ToClient => o.lit(b"\"to_client\""),
        }
    }
}

/// An IPv4 endpoint and its text ("a.b.c.d:port"; the address alone is `ip_len` bytes).
#[derive(Clone, Copy)]
pub(super) struct EndpointText {
    addr: std::net::SocketAddrV4,
    text: [u8; 21],
    len: u8,
    ip_len: u8,
}

impl EndpointText {
    /// `ip`'s text, no port yet.
    pub(super) fn new(ip: std::net::Ipv4Addr) -> EndpointText {
        let mut text = [0u8; 21];
        let ip_len = put_ipv4_port(&mut text, ip.octets(), None) as u8;
        EndpointText {
            addr: std::net::SocketAddrV4::new(ip, 0),
            text,
            len: ip_len,
            ip_len,
        }
    }

    pub(super) fn ip(&self) -> std::net::Ipv4Addr {
        *self.addr.ip()
    }
}

/// Runs `write` on a [`Put`] over `buf` from `at` with `room` bytes (see [`Put::region`]);
/// when the record did not fit, again with twice the room. Returns the record's length;
/// what lies past it in `buf` is left as it is.
#[inline]
pub(super) fn put_in_place(
    buf: &mut Vec<u8>,
    at: usize,
    mut room: usize,
    mut write: impl FnMut(&mut Put<'_>),
) -> usize {
    loop {
        let mut o = Put::region(buf, at, room);
        write(&mut o);
        if let Some(n) = o.written() {
            return n;
        }
        room *= 2;
    }
}

/// A record `write` writes, appended to `w`.
pub(super) fn put_appended(w: &mut Vec<u8>, room: usize, write: impl FnMut(&mut Put<'_>)) {
    let start = w.len();
    let n = put_in_place(w, start, room, write);
    w.truncate(start + n);
}

/// A piece of text made once with the `Put` pieces: `write` into a scratch region, kept
/// when it is at most `N` bytes. (Not inlined: made once per key, its scratch region is
/// not to be set up on every record.)
#[cold]
#[inline(never)]
fn made_text<const N: usize>(write: impl FnOnce(&mut Put<'_>)) -> Option<([u8; N], u8)> {
    let mut scratch = [0u8; 256];
    let mut p = Put::new(&mut scratch);
    write(&mut p);
    let (pos, short) = (p.pos, p.short);
    let text = scratch.get(..N).and_then(|t| <[u8; N]>::try_from(t).ok())?;
    (!short && pos <= N && pos <= usize::from(u8::MAX)).then_some((text, pos as u8))
}

/// `v` as a table of `len` empty slots (made on first use: most runs never need it).
pub(super) fn table<T: Clone>(v: &mut Vec<Option<T>>, len: usize) -> &mut [Option<T>] {
    if v.is_empty() {
        v.resize(len, None);
    }
    v
}

/// A JSON string as serde_json writes it (serde_json is the reference; the writer copies
/// text that needs no escaping itself).
pub(super) fn json_str<W: Write>(w: &mut W, s: &str) {
    // (Only the output could fail: these writers write to a `Vec` or an `ArrayVec` of
    // room enough.)
    let _ = serde_json::to_writer(&mut *w, s);
}

/// Whether `s` holds a control character, a quote or a backslash (eight bytes at a time).
pub(super) fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // True when some byte of `x` is below `n` (n <= 0x80): exact as a yes/no answer.
    let has_less = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH != 0;
    any_word(s, |x| {
        has_less(x, 0x20)
            || has_less(x ^ (ONES * u64::from(b'"')), 1)
            || has_less(x ^ (ONES * u64::from(b'\\')), 1)
    })
}

/// Appends `ns / 10^exp` (`exp` 6 or 9) with `exp - 3` decimals: [`Put::fixed`].
#[cfg(test)]
pub(super) fn put_fixed(buf: &mut Vec<u8>, ns: u64, exp: u32) {
    put_appended(buf, 64, |o| o.fixed(ns, exp));
}

/// The whole nanoseconds `ms` (a latency in milliseconds, made as `ns as f64 / 1e6`)
/// stands for, when printing those nanoseconds with integer digits gives exactly what `{:.3}`
/// of `ms` gives: the value is not negative, far below 2^50 ns, converts back to the very
/// same float, and is not a tie at the fourth decimal. None otherwise (use the float).
pub(crate) fn exact_ms_nanos(ms: f64) -> Option<u64> {
    let ns = (ms * 1e6).round();
    if !(0.0..(1u64 << 50) as f64).contains(&ns) {
        return None;
    }
    let n = ns as u64;
    ((n as f64 / 1e6).to_bits() == ms.to_bits() && n % 1000 != 500).then_some(n)
}

/// Nanoseconds as milliseconds: 3 decimals when they are whole microseconds, else 6
/// (exact: no float formatting).
pub(super) fn ns_as_ms(ns: i64) -> (bool, u64, u32, usize) {
    let abs = ns.unsigned_abs();
    let frac = (abs % 1_000_000) as u32;
    if frac % 1000 == 0 {
        (ns < 0, abs / 1_000_000, frac / 1000, 3)
    } else {
        (ns < 0, abs / 1_000_000, frac, 6)
    }
}
