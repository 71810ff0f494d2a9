//! JSON Lines output, exactly as `shared/json-contract.md` specifies: `packet` records in
//! input order, `http`/`dns` records as they complete, `conn` records after the packets in
//! id order, and a final `summary`.

use crate::app::{
    tls_alert_level_name, tls_alert_name, tls_cipher_name, tls_group_name, tls_handshake_name,
    tls_version_name, AppConnStats, AppEvent, DnsMessage, HttpTransaction, QuicPacket,
    QuicPacketKind, TlsKind, TlsMessage,
};
use crate::capture::{RawFrame, Timestamp};
use crate::decode::DecodedPacket;
use crate::flow::{ConnSummary, PacketFlow};
use crate::pipeline::{RunSummary, Sink};
use std::io::{self, Write};

#[cfg(test)]
mod conn_reference;
#[cfg(test)]
use conn_reference::{end_reason_name, put_conn_record_reference};

use super::text::{
    any_word, digits_into, put_ipv4_port, put_u64, write_endpoint, Endpoints, DIGIT_PAIRS,
};

/// Writes JSON Lines to `out`.
pub struct JsonSink<W: Write> {
    out: W,
    /// Serialised `conn` records, held until the end (the contract puts them after the
    /// packets, in id order). About 800 bytes per connection (HTTP over IPv4); past
    /// `HELD_CONN_BYTES` they are spilled to an unlinked temporary file in sorted runs.
    conns: HeldConns,
    held_bytes: usize,
    spill: Option<Spill>,
    spill_failed: bool,
    /// When `conn` records are the only records written (`--view conns`), they go out as
    /// soon as every lower id has (ids are given in order from 0, each ends once): only the
    /// few ending before an older connection wait here. None once that did not hold or the
    /// waiting grew past `HELD_CONN_BYTES` (then the records are held as above).
    in_order: Option<InOrder>,
    /// `HELD_CONN_BYTES` (smaller in tests).
    held_limit: usize,
    /// Flush after every record (live capture).
    pub flush_each: bool,
    /// Which record types to write (a view narrows them).
    pub records: JsonRecords,
    /// Records written as they come (`packet`, `http`, `dns`, `tls`, and `conn` records
    /// written in id order), gathered here (`batch_len` bytes) and written `BATCH` bytes
    /// at a time: packet and conn records are written in place at the end (see
    /// [`packet_record_at`]), the buffer keeps its length (no filling per record), and the
    /// output's own buffer is passed by (no copy into it). Written before anything else.
    batch: Vec<u8>,
    batch_len: usize,
    /// An app record (`http`, `dns`, `tls`), made here before it is gathered.
    scratch: Vec<u8>,
    /// Text the next `conn` record can take from the previous ones.
    memo: ConnMemo,
    /// Text the next `packet` record can take from the previous ones.
    packet_memo: PacketMemo,
}

/// Gathered records are written once they reach this many bytes (the output's buffer
/// size: a write this long goes straight through it).
const BATCH: usize = 1 << 16;

/// Which JSON record types a run writes. The default view writes them all; `--view conns`
/// only `conn`, `--view http` only `http`, and so on (the `summary` always).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonRecords {
    pub packets: bool,
    pub conns: bool,
    pub http: bool,
    pub dns: bool,
    pub tls: bool,
}

impl JsonRecords {
    pub const ALL: JsonRecords = JsonRecords {
        packets: true,
        conns: true,
        http: true,
        dns: true,
        tls: true,
    };
    pub const NONE: JsonRecords = JsonRecords {
        packets: false,
        conns: false,
        http: false,
        dns: false,
        tls: false,
    };
}

/// `conn` records held in memory: their bytes back to back in one buffer (no allocation
/// per record), and (id, start, length) in arrival order, sorted by id when written.
#[derive(Default)]
struct HeldConns {
    text: Vec<u8>,
    index: Vec<(u64, usize, usize)>,
}

impl HeldConns {
    /// Appends the record of connection `id` that `write` puts in the buffer.
    fn push(
        &mut self,
        id: u64,
        write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<usize> {
        let start = self.text.len();
        if let Err(e) = write(&mut self.text) {
            self.text.truncate(start);
            return Err(e);
        }
        let len = self.text.len() - start;
        self.index.push((id, start, len));
        Ok(len)
    }

    /// Orders the records by id; of records with the same id the last one stays (as a map
    /// keyed by id would keep it).
    fn sort(&mut self) {
        // Stable: records of one id stay in arrival order, the last is kept.
        self.index.sort_by_key(|r| r.0);
        let mut kept: Vec<(u64, usize, usize)> = Vec::with_capacity(self.index.len());
        for r in self.index.drain(..) {
            match kept.last_mut() {
                Some(last) if last.0 == r.0 => *last = r,
                _ => kept.push(r),
            }
        }
        self.index = kept;
    }

    /// (id, record) in index order.
    fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.index
            .iter()
            .map(|&(id, start, len)| (id, self.text.get(start..start + len).unwrap_or(&[])))
    }

    fn clear(&mut self) {
        self.text.clear();
        self.index.clear();
    }
}

/// `conn` records written in id order as they end (see `JsonSink::in_order`).
#[derive(Default)]
struct InOrder {
    /// The next id to write.
    next: u64,
    /// Records of higher ids that ended first.
    waiting: std::collections::BTreeMap<u64, Vec<u8>>,
    waiting_bytes: usize,
}

/// Held `conn` records beyond this many bytes go to the spill file.
const HELD_CONN_BYTES: usize = 8 << 20;

/// Sorted runs of `conn` records in an unlinked temporary file: per record the id (u64),
/// the length (u32), the bytes.
struct Spill {
    file: std::fs::File,
    runs: Vec<(u64, u64)>,
    end: u64,
}

impl Spill {
    fn create() -> io::Result<Spill> {
        let path = std::env::temp_dir().join(format!(
            "layerscope-conns-{}-{:x}.tmp",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Unlinked at once: the space goes back to the system when the file is closed.
        let _ = std::fs::remove_file(&path);
        Ok(Spill {
            file,
            runs: Vec::new(),
            end: 0,
        })
    }

    /// Appends one run (`records` sorted by id).
    fn write_run(&mut self, records: &HeldConns) -> io::Result<()> {
        let mut w = io::BufWriter::with_capacity(1 << 16, &self.file);
        let start = self.end;
        for (id, r) in records.iter() {
            w.write_all(&id.to_le_bytes())?;
            w.write_all(&(r.len() as u32).to_le_bytes())?;
            w.write_all(r)?;
            self.end += 12 + r.len() as u64;
        }
        w.flush()?;
        self.runs.push((start, self.end));
        Ok(())
    }
}

/// Reads the record at `pos` of a run: (id, bytes, next position).
fn read_spilled(file: &std::fs::File, pos: u64) -> io::Result<(u64, Vec<u8>, u64)> {
    use std::os::unix::fs::FileExt;
    let mut head = [0u8; 12];
    file.read_exact_at(&mut head, pos)?;
    let id = u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8]));
    let len = u32::from_le_bytes(head[8..].try_into().unwrap_or([0; 4])) as usize;
    let mut bytes = vec![0u8; len];
    file.read_exact_at(&mut bytes, pos + 12)?;
    Ok((id, bytes, pos + 12 + len as u64))
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> JsonSink<W> {
        JsonSink {
            out,
            conns: HeldConns::default(),
            held_bytes: 0,
            spill: None,
            spill_failed: false,
            in_order: Some(InOrder::default()),
            held_limit: HELD_CONN_BYTES,
            flush_each: false,
            records: JsonRecords::ALL,
            batch: Vec::new(),
            batch_len: 0,
            scratch: Vec::with_capacity(1024),
            memo: ConnMemo::default(),
            packet_memo: PacketMemo::default(),
        }
    }

    /// Writes every held `conn` record in id order: the spilled runs and those in memory,
    /// merged.
    fn write_conns(&mut self) -> io::Result<()> {
        let mut memory = std::mem::take(&mut self.conns);
        memory.sort();
        let Some(spill) = self.spill.take() else {
            for (_, record) in memory.iter() {
                self.out.write_all(record)?;
                self.out.write_all(b"\n")?;
            }
            return Ok(());
        };
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        // Heap of (id, run index); run heads kept beside it.
        let mut heads: Vec<Option<(Vec<u8>, u64, u64)>> = Vec::with_capacity(spill.runs.len());
        let mut heap = BinaryHeap::new();
        for (i, &(start, end)) in spill.runs.iter().enumerate() {
            if start < end {
                let (id, bytes, next) = read_spilled(&spill.file, start)?;
                heap.push(Reverse((id, i)));
                heads.push(Some((bytes, next, end)));
            } else {
                heads.push(None);
            }
        }
        let mut mem = memory.iter().peekable();
        loop {
            let next_spilled = heap.peek().map(|Reverse((id, _))| *id);
            let next_mem = mem.peek().map(|(id, _)| *id);
            match (next_spilled, next_mem) {
                (None, None) => break,
                (Some(s), m) if m.is_none_or(|m| s <= m) => {
                    let Some(Reverse((_, i))) = heap.pop() else {
                        break;
                    };
                    if let Some((bytes, next, end)) = heads[i].take() {
                        self.out.write_all(&bytes)?;
                        self.out.write_all(b"\n")?;
                        if next < end {
                            let (id, bytes, after) = read_spilled(&spill.file, next)?;
                            heap.push(Reverse((id, i)));
                            heads[i] = Some((bytes, after, end));
                        }
                    }
                }
                _ => {
                    if let Some((_, record)) = mem.next() {
                        self.out.write_all(record)?;
                        self.out.write_all(b"\n")?;
                    }
                }
            }
        }
        Ok(())
    }
    /// Names of the input files when several are read as one capture: each `packet` record
    /// then says which it came from (`file`, by [`RawFrame::file`]).
    pub fn set_file_names(&mut self, names: &[String]) -> io::Result<()> {
        self.packet_memo.files = names
            .iter()
            .map(|n| {
                let mut t = b",\"file\":".to_vec();
                json_str(&mut t, n)?;
                Ok(t)
            })
            .collect::<io::Result<_>>()?;
        Ok(())
    }

    /// The seed of the `conn` records' Community IDs (the spec's default is 0).
    pub fn set_community_id_seed(&mut self, seed: u16) {
        self.memo.community_id_seed = seed;
    }

    /// The output (with any gathered records written to it).
    pub fn into_inner(mut self) -> W {
        let _ = self.write_batch();
        self.out
    }

    /// Writes the gathered records (before anything else is written).
    fn write_batch(&mut self) -> io::Result<()> {
        if self.batch_len > 0 {
            let len = std::mem::take(&mut self.batch_len);
            self.out
                .write_all(self.batch.get(..len).unwrap_or_default())?;
        }
        Ok(())
    }

    /// After a record was gathered: writes the gathered records once they reach [`BATCH`]
    /// bytes, or at once when `flush_each` (then also flushing the output if `flush`).
    fn record_added(&mut self, flush: bool) -> io::Result<()> {
        if self.batch_len >= BATCH || self.flush_each {
            self.write_batch()?;
        }
        if flush && self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Appends `bytes` to the gathered records.
    fn batch_bytes(&mut self, bytes: &[u8]) {
        let end = self.batch_len + bytes.len();
        if self.batch.len() < end {
            self.batch.resize(end, 0);
        }
        if let Some(slot) = self.batch.get_mut(self.batch_len..end) {
            slot.copy_from_slice(bytes);
            self.batch_len = end;
        }
    }
}

/// A TLS code point as JSON: its `name`, else `"0x…."`, `null` when not known.
fn json_code<W: Write>(
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

fn json_str<W: Write>(w: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *w, s).map_err(io::Error::from)
}

fn opt_str<W: Write>(w: &mut W, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => json_str(w, s),
        None => w.write_all(b"null"),
    }
}

#[cfg(test)]
fn opt_u64<W: Write>(w: &mut W, v: Option<u64>) -> io::Result<()> {
    match v {
        Some(v) => write!(w, "{v}"),
        None => w.write_all(b"null"),
    }
}

fn opt_f64<W: Write>(w: &mut W, v: Option<f64>) -> io::Result<()> {
    match v {
        Some(v) if v.is_finite() => write!(w, "{v:.3}"),
        _ => w.write_all(b"null"),
    }
}

/// Appends `v` in decimal, left-padded with zeros to `width` digits (at most 20).
fn put_padded(buf: &mut Vec<u8>, v: u32, width: usize) {
    let mut tmp = [b'0'; 20];
    let i = digits_into(&mut tmp, u64::from(v));
    let from = i.min(tmp.len().saturating_sub(width));
    buf.extend_from_slice(tmp.get(from..).unwrap_or(&[]));
}

/// Appends `ns / 10^exp` (`exp` 6 or 9) with `exp - 3` decimals, byte for byte what
/// `format!("{:.N}", ns as f64 / 10^exp as f64)` writes, without the float formatter: exact
/// integer rounding is used where it cannot differ (a remainder other than exactly half a
/// unit of the last place, a value far below 2^53), else the float path.
fn put_fixed(buf: &mut Vec<u8>, ns: u64, exp: u32) -> io::Result<()> {
    // 10^exp divides into the printed part and the three dropped digits.
    let unit = 10u64.pow(exp);
    let rem = ns % 1000;
    if ns >= 1 << 50 || rem == 500 {
        let v = ns as f64 / unit as f64;
        return match exp {
            6 => write!(buf, "{v:.3}"),
            _ => write!(buf, "{v:.6}"),
        };
    }
    let kept = ns / 1000 + u64::from(rem > 500);
    let scale = unit / 1000;
    put_u64(buf, kept / scale);
    buf.push(b'.');
    let frac = (kept % scale) as u32;
    put_padded(buf, frac, exp as usize - 3);
    Ok(())
}

/// `secs.frac` at the timestamp's precision (6 or 9 digits).
#[cfg(test)]
fn put_ts(buf: &mut Vec<u8>, ts: &Timestamp) {
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

/// `{:.3}` of a latency in milliseconds, `null` when absent or not finite.
fn put_ms(buf: &mut Vec<u8>, v: Option<f64>) -> io::Result<()> {
    match v.map(|ms| (ms, exact_ms_nanos(ms))) {
        Some((_, Some(ns))) => put_fixed(buf, ns, 6),
        _ => opt_f64(buf, v),
    }
}

/// Nanoseconds as milliseconds: 3 decimals when they are whole microseconds, else 6
/// (exact: no float formatting).
fn ns_as_ms(ns: i64) -> (bool, u64, u32, usize) {
    let abs = ns.unsigned_abs();
    let frac = (abs % 1_000_000) as u32;
    if frac % 1000 == 0 {
        (ns < 0, abs / 1_000_000, frac / 1000, 3)
    } else {
        (ns < 0, abs / 1_000_000, frac, 6)
    }
}

/// [`ns_as_ms`] written out.
fn put_ns_ms(buf: &mut Vec<u8>, ns: i64) {
    let (neg, whole, frac, width) = ns_as_ms(ns);
    if neg {
        buf.push(b'-');
    }
    put_u64(buf, whole);
    buf.push(b'.');
    put_padded(buf, frac, width);
}

/// A float of nanoseconds (an RTT estimate) as milliseconds, `null` when absent or not
/// finite.
#[cfg(test)]
fn put_f64_ns_ms(buf: &mut Vec<u8>, ns: Option<f64>) {
    match ns.filter(|v| v.is_finite() && v.abs() < 9e18) {
        Some(v) => put_ns_ms(buf, v.round() as i64),
        None => buf.extend_from_slice(b"null"),
    }
}

/// `packet.tcp`'s `ack_rtt_ms`, `bytes_in_flight` and, on a packet that gave an RTT sample,
/// `rtt` (the estimators after it).
#[cfg(test)]
fn put_rtt_fields(w: &mut Vec<u8>, rtt: &crate::flow::rtt::SegmentRtt) {
    w.extend_from_slice(b",\"ack_rtt_ms\":");
    if rtt.ack_rtt_ns != 0 {
        put_ns_ms(w, rtt.ack_rtt_ns);
    } else {
        w.extend_from_slice(b"null");
    }
    w.extend_from_slice(b",\"bytes_in_flight\":");
    put_opt_u64(
        w,
        (rtt.bytes_in_flight != 0).then_some(u64::from(rtt.bytes_in_flight)),
    );
    if let Some(e) = &rtt.estimate {
        w.extend_from_slice(b",\"rtt\":{\"measured\":");
        match e.measured {
            Some(d) => put_name(w, d.as_str()),
            None => w.extend_from_slice(b"null"),
        }
        w.extend_from_slice(b",\"sample_ms\":");
        put_f64_ns_ms(w, Some(e.sample_ns));
        w.extend_from_slice(if e.karn_skipped {
            b",\"karn_skipped\":true,\"srtt_ms\":"
        } else {
            b",\"karn_skipped\":false,\"srtt_ms\":"
        });
        put_f64_ns_ms(w, e.srtt_ns);
        w.extend_from_slice(b",\"rttvar_ms\":");
        put_f64_ns_ms(w, e.rttvar_ns);
        w.extend_from_slice(b",\"rto_ms\":");
        put_f64_ns_ms(w, e.rto_ns);
        w.extend_from_slice(b",\"estimated_rtt_ms\":");
        put_f64_ns_ms(w, Some(e.estimated_ns));
        w.extend_from_slice(b",\"dev_rtt_ms\":");
        put_f64_ns_ms(w, Some(e.dev_ns));
        w.extend_from_slice(b",\"timeout_interval_ms\":");
        put_f64_ns_ms(w, Some(e.timeout_ns));
        w.push(b'}');
    }
}

fn put_opt_u64(buf: &mut Vec<u8>, v: Option<u64>) {
    match v {
        Some(v) => put_u64(buf, v),
        None => buf.extend_from_slice(b"null"),
    }
}

/// `,"first_fragment":{…}` of a packet that is the first fragment of a datagram it did not
/// complete: the transport header read from it alone (written only on such frames).
fn first_fragment_json(f: &crate::decode::FirstFragment) -> arrayvec::ArrayVec<u8, 256> {
    let mut a = arrayvec::ArrayVec::new();
    // At most ~210 bytes (every flag, every number at its widest): the buffer holds them.
    let _ = write!(
        a,
        ",\"first_fragment\":{{\"proto\":\"{}\",\"src_port\":{},\"dst_port\":{},\"len\":{}",
        f.protocol_name(),
        f.src_port,
        f.dst_port,
        f.len
    );
    if let Some(t) = f.tcp {
        let _ = write!(a, ",\"seq\":{},\"ack\":{},\"flags\":[", t.seq, t.ack);
        let set = crate::decode::TcpFlags::NAMES
            .iter()
            .filter(|(_, bit)| t.flags & bit != 0);
        for (i, (name, _)) in set.enumerate() {
            let _ = write!(a, "{}\"{name}\"", if i > 0 { "," } else { "" });
        }
        let _ = a.write_all(b"]");
    }
    let _ = a.write_all(b",\"reassembled\":false}");
    a
}

/// A name of our own (no characters that need escaping) in quotes.
fn put_name(buf: &mut Vec<u8>, name: &str) {
    buf.push(b'"');
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'"');
}

/// The `packet` record as it was written through `Vec` pushes (the reference for
/// [`packet_fields`]).
#[cfg(test)]
fn write_packet(
    w: &mut Vec<u8>,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
) -> io::Result<()> {
    w.extend_from_slice(b"{\"type\":\"packet\",\"frame\":");
    put_u64(w, frame.number);
    w.extend_from_slice(b",\"ts\":");
    put_ts(w, &frame.ts);
    w.extend_from_slice(b",\"len\":");
    put_u64(w, u64::from(frame.orig_len));
    w.extend_from_slice(b",\"caplen\":");
    put_u64(w, frame.data.len() as u64);
    w.extend_from_slice(b",\"interface\":");
    put_u64(w, u64::from(frame.interface));
    w.extend_from_slice(b",\"link\":");
    put_name(w, frame.link.name());
    w.extend_from_slice(b",\"layers\":[");
    for (i, layer) in packet.layers.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        w.extend_from_slice(b"{\"osi\":");
        put_u64(w, u64::from(layer.osi().number()));
        w.extend_from_slice(b",\"name\":");
        put_name(w, layer.name.as_str());
        w.extend_from_slice(b",\"offset\":");
        put_u64(w, u64::from(layer.offset));
        w.extend_from_slice(b",\"len\":");
        put_u64(w, u64::from(layer.len));
        w.push(b'}');
    }
    w.extend_from_slice(b"],\"src\":");
    let ends = Endpoints::of(packet);
    match &ends {
        Some(e) => {
            w.push(b'"');
            write_endpoint(w, e.src, e.src_port)?;
            w.extend_from_slice(b"\",\"dst\":\"");
            write_endpoint(w, e.dst, e.dst_port)?;
            w.push(b'"');
        }
        None => w.extend_from_slice(b"null,\"dst\":null"),
    }
    w.extend_from_slice(b",\"conn\":");
    put_opt_u64(w, flow.conn);
    w.extend_from_slice(b",\"outer_conns\":[");
    for (i, c) in flow.outer_conns.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        put_u64(w, *c);
    }
    w.push(b']');
    if let Some((c, _)) = flow.quoted_conn {
        w.extend_from_slice(b",\"quoted_conn\":");
        put_u64(w, c);
    }
    if let Some(f) = &packet.first_fragment {
        w.extend_from_slice(&first_fragment_json(f));
    }
    w.extend_from_slice(&super::app_frames::app_frames_json(&packet.app_frames));
    w.extend_from_slice(b",\"dir\":");
    match flow.dir {
        Some(d) => put_name(w, d.as_str()),
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"tcp\":");
    match packet.tcp() {
        Some(tcp) => {
            w.extend_from_slice(b"{\"flags\":[");
            // The table by reference (`names()` copies it per call), same order.
            let set = crate::decode::TcpFlags::NAMES
                .iter()
                .filter(|(_, bit)| tcp.flags.has(*bit));
            for (i, (name, _)) in set.enumerate() {
                if i > 0 {
                    w.push(b',');
                }
                put_name(w, name);
            }
            let ack_abs = if tcp.flags.ack() { tcp.ack } else { 0 };
            w.extend_from_slice(b"],\"seq\":");
            put_u64(w, u64::from(flow.rel_seq.unwrap_or(tcp.seq)));
            w.extend_from_slice(b",\"ack\":");
            put_u64(w, u64::from(flow.rel_ack.unwrap_or(ack_abs)));
            w.extend_from_slice(b",\"len\":");
            put_u64(w, u64::from(tcp.payload_len));
            w.extend_from_slice(b",\"win\":");
            put_u64(w, u64::from(tcp.window));
            w.extend_from_slice(b",\"seq_abs\":");
            put_u64(w, u64::from(tcp.seq));
            w.extend_from_slice(b",\"ack_abs\":");
            put_u64(w, u64::from(ack_abs));
            if let Some(win) = flow.window_scaled {
                w.extend_from_slice(b",\"win_scaled\":");
                put_u64(w, win);
            }
            put_rtt_fields(w, &flow.rtt);
            w.push(b'}');
        }
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"step\":");
    match flow.step {
        Some(s) => json_str(w, s.label())?,
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"state\":");
    match flow.state {
        Some((c, s)) => {
            w.extend_from_slice(b"{\"client\":");
            put_name(w, c.as_str());
            w.extend_from_slice(b",\"server\":");
            put_name(w, s.as_str());
            w.push(b'}');
        }
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"analysis\":[");
    if !flow.analysis.is_empty() {
        // As `names()`, without copying the table per packet.
        let set = crate::flow::AnalysisFlags::NAMES
            .iter()
            .filter(|(_, bit)| flow.analysis.has(*bit));
        for (i, (name, _)) in set.enumerate() {
            if i > 0 {
                w.push(b',');
            }
            put_name(w, name);
        }
    }
    w.push(b']');
    if flow.analysis.has(crate::flow::AnalysisFlags::DUPLICATE_ACK) {
        w.extend_from_slice(b",\"dup_ack\":");
        put_u64(w, u64::from(flow.dup_ack_num));
    }
    if let Some(note) = &flow.note {
        w.extend_from_slice(b",\"note\":");
        json_str(w, note)?;
    }
    w.extend_from_slice(b",\"issue\":");
    match &packet.issue {
        Some(issue) => {
            write!(
                w,
                "{{\"layer\":\"{}\",\"offset\":{},\"message\":",
                issue.layer, issue.offset
            )?;
            // The message is built from numbers and our own words; still JSON-escape it.
            json_str(w, &issue.to_string())?;
            w.push(b'}');
        }
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b"}\n");
    Ok(())
}

/// A JSON string, exactly as serde_json writes it: text without control characters,
/// quotes or backslashes is copied as is, anything else goes through serde_json.
fn put_json_str(buf: &mut Vec<u8>, s: &str) -> io::Result<()> {
    if !needs_escape(s.as_bytes()) {
        put_name(buf, s);
        Ok(())
    } else {
        json_str(buf, s)
    }
}

/// Whether `s` holds a control character, a quote or a backslash (eight bytes at a time).
fn needs_escape(s: &[u8]) -> bool {
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

/// One `conn` record (without the trailing newline).
pub fn conn_record(conn: &ConnSummary, app: &AppConnStats) -> io::Result<Vec<u8>> {
    let mut w = Vec::with_capacity(1024);
    put_conn_record(&mut w, conn, app, &mut ConnMemo::default())?;
    Ok(w)
}

/// What a `conn` record's text can take from the previous ones: connections often share
/// a server, a client address and a teardown description.
#[derive(Default)]
struct ConnMemo {
    /// The seed of the records' Community IDs (`--community-id-seed`, 0 by default).
    community_id_seed: u16,
    client: Option<EndpointText>,
    server: Option<EndpointText>,
    /// The last start's whole seconds and their text.
    start_secs: Option<(i64, [u8; 20], u8)>,
    /// The last final states and their `,"final_state":{…}` text.
    final_state: Option<(StatePair, ([u8; 80], u8))>,
}

/// A connection's final (client, server) TCP states.
type StatePair = (crate::flow::TcpState, crate::flow::TcpState);

/// An IPv4 endpoint and its text ("a.b.c.d:port"; the address alone is `ip_len` bytes).
#[derive(Clone, Copy)]
struct EndpointText {
    addr: std::net::SocketAddrV4,
    text: [u8; 21],
    len: u8,
    ip_len: u8,
}

impl EndpointText {
    /// `ip`'s text, no port yet.
    fn new(ip: std::net::Ipv4Addr) -> EndpointText {
        let mut text = [0u8; 21];
        let ip_len = put_ipv4_port(&mut text, ip.octets(), None) as u8;
        EndpointText {
            addr: std::net::SocketAddrV4::new(ip, 0),
            text,
            len: ip_len,
            ip_len,
        }
    }
}

/// A record written into `buf` from `pos`: `buf` is made long enough beforehand for the usual
/// record, so each piece is one bounds check and a copy (constant pieces of known length
/// compile to moves) instead of a capacity check, a possible growth and a `memcpy` call per
/// piece. A piece that does not fit sets `short` and is dropped; the caller then gives a
/// longer region and writes the record again.
struct Put<'a> {
    buf: &'a mut [u8],
    pos: usize,
    short: bool,
}

impl Put<'_> {
    /// [`put_ns_ms`].
    fn ns_ms(&mut self, ns: i64) {
        let (neg, whole, frac, width) = ns_as_ms(ns);
        if neg {
            self.lit(b"-");
        }
        self.u64(whole);
        self.lit(b".");
        self.padded(frac, width);
    }

    /// [`put_f64_ns_ms`].
    fn f64_ns_ms(&mut self, ns: Option<f64>) {
        match ns.filter(|v| v.is_finite() && v.abs() < 9e18) {
            Some(v) => self.ns_ms(v.round() as i64),
            None => self.lit(b"null"),
        }
    }

    /// [`put_rtt_fields`].
    fn rtt_fields(&mut self, rtt: &crate::flow::rtt::SegmentRtt) {
        if rtt.ack_rtt_ns != 0 {
            self.lit(b",\"ack_rtt_ms\":");
            self.ns_ms(rtt.ack_rtt_ns);
        } else {
            self.lit(b",\"ack_rtt_ms\":null");
        }
        if rtt.bytes_in_flight != 0 {
            self.lit(b",\"bytes_in_flight\":");
            self.u64(u64::from(rtt.bytes_in_flight));
        } else {
            self.lit(b",\"bytes_in_flight\":null");
        }
        if let Some(e) = &rtt.estimate {
            match e.measured {
                Some(crate::flow::Direction::ToServer) => {
                    self.lit(b",\"rtt\":{\"measured\":\"to_server\"")
                }
                Some(crate::flow::Direction::ToClient) => {
                    self.lit(b",\"rtt\":{\"measured\":\"to_client\"")
                }
                None => self.lit(b",\"rtt\":{\"measured\":null"),
            }
            self.lit(b",\"sample_ms\":");
            self.f64_ns_ms(Some(e.sample_ns));
            if e.karn_skipped {
                self.lit(b",\"karn_skipped\":true,\"srtt_ms\":");
            } else {
                self.lit(b",\"karn_skipped\":false,\"srtt_ms\":");
            }
            self.f64_ns_ms(e.srtt_ns);
            self.lit(b",\"rttvar_ms\":");
            self.f64_ns_ms(e.rttvar_ns);
            self.lit(b",\"rto_ms\":");
            self.f64_ns_ms(e.rto_ns);
            self.lit(b",\"estimated_rtt_ms\":");
            self.f64_ns_ms(Some(e.estimated_ns));
            self.lit(b",\"dev_rtt_ms\":");
            self.f64_ns_ms(Some(e.dev_ns));
            self.lit(b",\"timeout_interval_ms\":");
            self.f64_ns_ms(Some(e.timeout_ns));
            self.lit(b"}");
        }
    }

    /// A constant piece.
    #[inline(always)]
    fn lit<const N: usize>(&mut self, s: &[u8; N]) {
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
    fn bytes(&mut self, s: &[u8]) {
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
    fn u64(&mut self, v: u64) {
        if v < 10 {
            self.lit(&[b'0' + v as u8]);
        } else if v < 100 {
            let i = v as usize * 2;
            let pair: [u8; 2] = DIGIT_PAIRS
                .get(i..i + 2)
                .and_then(|p| p.try_into().ok())
                .unwrap_or(*b"00");
            self.lit(&pair);
        } else {
            self.digits(v, 1);
        }
    }

    /// `v` in decimal left-padded with zeros to `width` (at most 20) digits (as
    /// [`put_padded`]).
    #[inline]
    fn padded(&mut self, v: u32, width: usize) {
        self.digits(u64::from(v), width);
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
    fn name(&mut self, name: &str) {
        self.lit(b"\"");
        self.bytes(name.as_bytes());
        self.lit(b"\"");
    }

    /// The names of `names` whose bit is in `bits`, quoted and comma-separated (a JSON
    /// list's items; a flag set's names in their fixed order).
    #[inline]
    fn names_of<const N: usize>(&mut self, names: &[(&str, u16); N], bits: u16) {
        let set = names.iter().filter(|(_, bit)| bits & bit != 0);
        for (i, (name, _)) in set.enumerate() {
            if i > 0 {
                self.lit(b",");
            }
            self.name(name);
        }
    }

    /// A JSON string as serde_json writes it (see [`put_json_str`]).
    fn json_str(&mut self, s: &str) -> io::Result<()> {
        if !needs_escape(s.as_bytes()) {
            self.name(s);
        } else {
            let mut tmp = Vec::with_capacity(s.len() + 8);
            json_str(&mut tmp, s)?;
            self.bytes(&tmp);
        }
        Ok(())
    }

    fn bool(&mut self, v: bool) {
        if v {
            self.lit(b"true");
        } else {
            self.lit(b"false");
        }
    }

    /// "addr:port" (see [`write_endpoint`]).
    fn endpoint(&mut self, a: std::net::SocketAddr) -> io::Result<()> {
        match a.ip() {
            std::net::IpAddr::V4(ip) => {
                let window = self
                    .buf
                    .get_mut(self.pos..self.pos + 21)
                    .and_then(|w| <&mut [u8; 21]>::try_from(w).ok());
                match window {
                    Some(w) => self.pos += put_ipv4_port(w, ip.octets(), Some(a.port())),
                    None => self.short = true,
                }
            }
            ip => {
                let mut tmp = Vec::with_capacity(64);
                write_endpoint(&mut tmp, ip, Some(a.port()))?;
                self.bytes(&tmp);
            }
        }
        Ok(())
    }

    /// [`Put::endpoint`], with the text of the previous one at this place (`memo`) reused
    /// when the address is the same.
    fn endpoint_memo(
        &mut self,
        a: std::net::SocketAddr,
        memo: &mut Option<EndpointText>,
    ) -> io::Result<()> {
        let std::net::SocketAddr::V4(v4) = a else {
            return self.endpoint(a);
        };
        let m = match memo {
            Some(m) if m.addr.ip() == v4.ip() => m,
            _ => memo.insert(EndpointText::new(*v4.ip())),
        };
        self.v4_endpoint(m, Some(v4.port()));
        Ok(())
    }

    /// `m`'s address, then ":port" if any: the whole text copied when it was made for this
    /// port, else the address's text and the port (then remembered in `m` with this port).
    #[inline(always)]
    fn v4_endpoint(&mut self, m: &mut EndpointText, port: Option<u16>) {
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
    fn window<const N: usize>(&mut self, text: &[u8; N], len: usize) {
        match self.buf.get_mut(self.pos..self.pos + N) {
            Some(d) => {
                d.copy_from_slice(text);
                self.pos += len.min(N);
            }
            None => self.short = true,
        }
    }

    /// `ns / 10^exp` with `exp - 3` decimals (as [`put_fixed`]); inlined, so that the
    /// divisions are by constants.
    #[inline(always)]
    fn fixed(&mut self, ns: u64, exp: u32) -> io::Result<()> {
        let unit = 10u64.pow(exp);
        let rem = ns % 1000;
        if ns >= 1 << 50 || rem == 500 {
            let mut tmp = Vec::with_capacity(32);
            put_fixed(&mut tmp, ns, exp)?;
            self.bytes(&tmp);
            return Ok(());
        }
        let kept = ns / 1000 + u64::from(rem > 500);
        let scale = unit / 1000;
        self.u64(kept / scale);
        self.lit(b".");
        self.padded((kept % scale) as u32, exp as usize - 3);
        Ok(())
    }

    /// A TCP state's name in quotes, one constant piece per state.
    fn tcp_state(&mut self, s: crate::flow::TcpState) {
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

    /// `{"to_server":n,"to_client":n}` after `key` (which ends in `":{"to_server":`).
    #[inline]
    fn per_dir<const N: usize>(&mut self, key: &[u8; N], p: &crate::flow::PerDir) {
        self.lit(key);
        self.u64(p.to_server);
        self.lit(b",\"to_client\":");
        self.u64(p.to_client);
    }
}

/// Room for a `conn` record beyond its two free-text fields (the usual record is ~800
/// bytes; a longer one is written again in a larger region).
const CONN_ROOM: usize = 1200;

/// Appends one `conn` record (without the trailing newline) to `w`.
fn put_conn_record(
    w: &mut Vec<u8>,
    conn: &ConnSummary,
    app: &AppConnStats,
    memo: &mut ConnMemo,
) -> io::Result<()> {
    let start = w.len();
    match conn_record_at(w, start, conn, app, false, memo) {
        Ok(n) => {
            w.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            w.truncate(start);
            Err(e)
        }
    }
}

/// Writes one `conn` record (and a newline if `newline`) into `buf` from `at`, each piece
/// in place (see [`Put`]): `buf` is lengthened (zero-filled) only when shorter than a
/// record may need, so a buffer kept at its length is not filled again per record. Returns
/// the record's length; what lies past it in `buf` is left as it is.
fn conn_record_at(
    buf: &mut Vec<u8>,
    at: usize,
    conn: &ConnSummary,
    app: &AppConnStats,
    newline: bool,
    memo: &mut ConnMemo,
) -> io::Result<usize> {
    let room = CONN_ROOM + conn.history.len() + conn.teardown.description.len();
    put_in_place(buf, at, room, |p| {
        conn_fields(p, conn, app, memo)?;
        if newline {
            p.lit(b"\n");
        }
        Ok(())
    })
}

/// Runs `write` on a [`Put`] over `buf` from `at` with `room` bytes (`buf` lengthened,
/// zero-filled, only when shorter); when the record did not fit, again with twice the room.
/// Returns the record's length.
#[inline]
fn put_in_place(
    buf: &mut Vec<u8>,
    at: usize,
    mut room: usize,
    mut write: impl FnMut(&mut Put<'_>) -> io::Result<()>,
) -> io::Result<usize> {
    loop {
        if buf.len() < at + room {
            buf.resize(at + room, 0);
        }
        let mut p = Put {
            buf: buf.get_mut(at..).unwrap_or_default(),
            pos: 0,
            short: false,
        };
        write(&mut p)?;
        if !p.short {
            return Ok(p.pos);
        }
        room *= 2;
    }
}

/// The last addresses written in `packet` records and their text (two: a conversation's
/// ends alternate), and the last timestamp's whole seconds.
#[derive(Default)]
struct PacketMemo {
    ends: [Option<EndpointText>; 2],
    /// Which of `ends` to replace next.
    next: usize,
    secs: Option<(i64, [u8; 20], u8)>,
    /// `{"osi":N,"name":"…","offset":` per layer name, made when first met.
    layers: [Option<([u8; 48], u8)>; 32],
    /// `{"flags":[…],"seq":` per set of TCP flags (the bits of `TcpFlags::NAMES`), made
    /// when first met (at most 512).
    flags: Vec<Option<([u8; 96], u8)>>,
    /// `,"state":{…},"analysis":[` per pair of TCP states, made when first met.
    states: Vec<Option<([u8; 80], u8)>>,
    /// `,"interface":N,"link":"…","layers":[` of the last packet, with its interface and
    /// link name's address and length.
    link: Option<(LinkKey, ([u8; 64], u8))>,
    /// `,"file":"…"` per input file, when several are read as one capture (else empty:
    /// records have no `file`).
    files: Vec<Vec<u8>>,
}

/// A packet's interface and its link name's address and length.
type LinkKey = (u32, usize, usize);

/// A piece of text made once with the `Put` pieces: `write` into a scratch region, kept
/// when it is at most `N` bytes.
fn made_text<const N: usize>(write: impl FnOnce(&mut Put<'_>)) -> Option<([u8; N], u8)> {
    let mut scratch = [0u8; 256];
    let mut p = Put {
        buf: &mut scratch,
        pos: 0,
        short: false,
    };
    write(&mut p);
    let (pos, short) = (p.pos, p.short);
    let text = scratch.get(..N).and_then(|t| <[u8; N]>::try_from(t).ok())?;
    (!short && pos <= N && pos <= usize::from(u8::MAX)).then_some((text, pos as u8))
}

/// Writes the text `write` makes for `key`, copied from `table` (made there when first met).
/// A key past the table, or a text too long for its slot, is written by `write` itself.
#[inline]
fn put_memo<const N: usize>(
    p: &mut Put<'_>,
    table: &mut [Option<([u8; N], u8)>],
    key: usize,
    write: impl Fn(&mut Put<'_>),
) {
    if let Some(slot) = table.get_mut(key) {
        if slot.is_none() {
            *slot = made_text(&write);
        }
        if let Some((text, len)) = slot {
            p.window(text, usize::from(*len));
            return;
        }
    }
    write(p);
}

/// `v` as a table of `len` empty slots (made on first use: most runs never need it).
fn table<T: Clone>(v: &mut Vec<Option<T>>, len: usize) -> &mut [Option<T>] {
    if v.is_empty() {
        v.resize(len, None);
    }
    v
}

/// The bits of `TcpFlags::NAMES` (what the JSON flags list shows).
const TCP_FLAG_BITS: u16 = {
    let mut bits = 0;
    let mut i = 0;
    while i < crate::decode::TcpFlags::NAMES.len() {
        bits |= crate::decode::TcpFlags::NAMES[i].1;
        i += 1;
    }
    bits
};

/// Room for a `packet` record beyond its layers and note (the usual record is ~600 bytes;
/// a longer one is written again in a larger region).
const PACKET_ROOM: usize = 1536;

/// Writes one `packet` record (with its newline) into `buf` from `at`, in place (see
/// [`conn_record_at`]); returns its length.
fn packet_record_at(
    buf: &mut Vec<u8>,
    at: usize,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    memo: &mut PacketMemo,
) -> io::Result<usize> {
    let file = memo.files.get(frame.file as usize).map_or(0, Vec::len);
    let room =
        PACKET_ROOM + 64 * packet.layers.len() + flow.note.as_ref().map_or(0, String::len) + file;
    put_in_place(buf, at, room, |p| {
        packet_fields(p, frame, packet, flow, memo)
    })
}

impl Put<'_> {
    /// An address (and port) as [`write_endpoint`] writes it, IPv4 text taken from `memo`
    /// when it holds the address.
    fn endpoint_of(
        &mut self,
        ip: std::net::IpAddr,
        port: Option<u16>,
        memo: &mut PacketMemo,
    ) -> io::Result<()> {
        let std::net::IpAddr::V4(v4) = ip else {
            let mut tmp = Vec::with_capacity(64);
            write_endpoint(&mut tmp, ip, port)?;
            self.bytes(&tmp);
            return Ok(());
        };
        let slot = match &memo.ends {
            [Some(m), _] if *m.addr.ip() == v4 => 0,
            [_, Some(m)] if *m.addr.ip() == v4 => 1,
            _ => {
                let slot = memo.next;
                memo.next = 1 - slot;
                if let Some(e) = memo.ends.get_mut(slot) {
                    *e = Some(EndpointText::new(v4));
                }
                slot
            }
        };
        if let Some(Some(m)) = memo.ends.get_mut(slot) {
            self.v4_endpoint(m, port);
        }
        Ok(())
    }

    /// What was written from `start` on, as an `N`-byte block and its length, when it is at
    /// most `N` bytes and the block lies in the buffer (to remember it for the next record).
    #[inline]
    fn written_since<const N: usize>(&self, start: usize) -> Option<([u8; N], u8)> {
        let len = self.pos.checked_sub(start)?;
        let text = self.buf.get(start..start + N)?.try_into().ok()?;
        (len <= N && len <= usize::from(u8::MAX)).then_some((text, len as u8))
    }

    /// `secs.frac` (as `put_ts` writes it), the whole seconds' text taken from `memo` when they
    /// are the last ones.
    fn ts_memo(&mut self, ts: &Timestamp, memo: &mut Option<(i64, [u8; 20], u8)>) {
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
}

/// The `packet` record's text, byte for byte what `write_packet` (kept for the tests)
/// writes.
fn packet_fields(
    p: &mut Put<'_>,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    memo: &mut PacketMemo,
) -> io::Result<()> {
    p.lit(b"{\"type\":\"packet\",\"frame\":");
    p.u64(frame.number);
    p.lit(b",\"ts\":");
    p.ts_memo(&frame.ts, &mut memo.secs);
    p.lit(b",\"len\":");
    p.u64(u64::from(frame.orig_len));
    p.lit(b",\"caplen\":");
    p.u64(frame.data.len() as u64);
    if !memo.files.is_empty() {
        if let Some(text) = usize::try_from(frame.file)
            .ok()
            .and_then(|i| memo.files.get(i))
        {
            p.bytes(text);
        }
    }
    // `,"interface":N,"link":"…","layers":[` as for the last packet when its interface and
    // link name (a static string: same address, same text) are the same.
    let link = frame.link.name();
    let key = (frame.interface, link.as_ptr() as usize, link.len());
    let link_text = |t: &mut Put<'_>| {
        t.lit(b",\"interface\":");
        t.u64(u64::from(frame.interface));
        t.lit(b",\"link\":");
        t.name(link);
        t.lit(b",\"layers\":[");
    };
    if memo.link.as_ref().is_none_or(|(k, _)| *k != key) {
        memo.link = made_text(link_text).map(|text| (key, text));
    }
    match &memo.link {
        Some((_, (text, len))) => p.window(text, usize::from(*len)),
        None => link_text(p),
    }
    for (i, layer) in packet.layers.iter().enumerate() {
        if i > 0 {
            p.lit(b",");
        }
        // `{"osi":N,"name":"…","offset":` depends on the name only.
        put_memo(p, &mut memo.layers, layer.name as usize, |t| {
            t.lit(b"{\"osi\":");
            t.u64(u64::from(layer.osi().number()));
            t.lit(b",\"name\":");
            t.name(layer.name.as_str());
            t.lit(b",\"offset\":");
        });
        p.u64(u64::from(layer.offset));
        p.lit(b",\"len\":");
        p.u64(u64::from(layer.len));
        p.lit(b"}");
    }
    match Endpoints::of(packet) {
        Some(e) => {
            p.lit(b"],\"src\":\"");
            p.endpoint_of(e.src, e.src_port, memo)?;
            p.lit(b"\",\"dst\":\"");
            p.endpoint_of(e.dst, e.dst_port, memo)?;
            p.lit(b"\",\"conn\":");
        }
        None => p.lit(b"],\"src\":null,\"dst\":null,\"conn\":"),
    }
    match flow.conn {
        Some(c) => p.u64(c),
        None => p.lit(b"null"),
    }
    p.lit(b",\"outer_conns\":[");
    for (i, c) in flow.outer_conns.iter().enumerate() {
        if i > 0 {
            p.lit(b",");
        }
        p.u64(*c);
    }
    p.lit(b"]");
    if let Some((c, _)) = flow.quoted_conn {
        p.lit(b",\"quoted_conn\":");
        p.u64(c);
    }
    if let Some(f) = &packet.first_fragment {
        p.bytes(&first_fragment_json(f));
    }
    p.bytes(&super::app_frames::app_frames_json(&packet.app_frames));
    match flow.dir {
        Some(crate::flow::Direction::ToServer) => p.lit(b",\"dir\":\"to_server\",\"tcp\":"),
        Some(crate::flow::Direction::ToClient) => p.lit(b",\"dir\":\"to_client\",\"tcp\":"),
        None => p.lit(b",\"dir\":null,\"tcp\":"),
    }
    match packet.tcp() {
        Some(tcp) => {
            // `{"flags":[…],"seq":` depends on the flags only.
            let flags_text = |t: &mut Put<'_>| {
                t.lit(b"{\"flags\":[");
                t.names_of(&crate::decode::TcpFlags::NAMES, tcp.flags.0);
                t.lit(b"],\"seq\":");
            };
            let key = usize::from(tcp.flags.0 & TCP_FLAG_BITS);
            put_memo(p, table(&mut memo.flags, 512), key, flags_text);
            let ack_abs = if tcp.flags.ack() { tcp.ack } else { 0 };
            p.u64(u64::from(flow.rel_seq.unwrap_or(tcp.seq)));
            p.lit(b",\"ack\":");
            p.u64(u64::from(flow.rel_ack.unwrap_or(ack_abs)));
            p.lit(b",\"len\":");
            p.u64(u64::from(tcp.payload_len));
            p.lit(b",\"win\":");
            p.u64(u64::from(tcp.window));
            p.lit(b",\"seq_abs\":");
            p.u64(u64::from(tcp.seq));
            p.lit(b",\"ack_abs\":");
            p.u64(u64::from(ack_abs));
            if let Some(win) = flow.window_scaled {
                p.lit(b",\"win_scaled\":");
                p.u64(win);
            }
            p.rtt_fields(&flow.rtt);
            p.lit(b"},\"step\":");
        }
        None => p.lit(b"null,\"step\":"),
    }
    match flow.step {
        Some(s) => p.json_str(s.label())?,
        None => p.lit(b"null"),
    }
    match flow.state {
        Some((c, s)) => {
            // `,"state":{…},"analysis":[` per pair of states, made when first met.
            let state_text = |t: &mut Put<'_>| {
                t.lit(b",\"state\":{\"client\":");
                t.tcp_state(c);
                t.lit(b",\"server\":");
                t.tcp_state(s);
                t.lit(b"},\"analysis\":[");
            };
            // (A state past the 16 the key has room for is written without the table.)
            let key = if (c as usize) < 16 && (s as usize) < 16 {
                c as usize * 16 + s as usize
            } else {
                usize::MAX
            };
            put_memo(p, table(&mut memo.states, 256), key, state_text);
        }
        None => p.lit(b",\"state\":null,\"analysis\":["),
    }
    if !flow.analysis.is_empty() {
        p.names_of(&crate::flow::AnalysisFlags::NAMES, flow.analysis.0);
    }
    p.lit(b"]");
    if flow.analysis.has(crate::flow::AnalysisFlags::DUPLICATE_ACK) {
        p.lit(b",\"dup_ack\":");
        p.u64(u64::from(flow.dup_ack_num));
    }
    if let Some(note) = &flow.note {
        p.lit(b",\"note\":");
        p.json_str(note)?;
    }
    match &packet.issue {
        Some(issue) => {
            let mut tmp = Vec::with_capacity(128);
            write!(
                tmp,
                ",\"issue\":{{\"layer\":\"{}\",\"offset\":{},\"message\":",
                issue.layer, issue.offset
            )?;
            json_str(&mut tmp, &issue.to_string())?;
            tmp.extend_from_slice(b"}}\n");
            p.bytes(&tmp);
        }
        None => p.lit(b",\"issue\":null}\n"),
    }
    Ok(())
}

/// `{:.6}` of a duration in seconds too long for a u64 of nanoseconds (apart, so that the
/// float conversion is not made for every record).
#[cold]
#[inline(never)]
fn long_duration(ns: i128) -> io::Result<Vec<u8>> {
    let mut tmp = Vec::with_capacity(64);
    write!(tmp, "{:.6}", ns as f64 / 1e9)?;
    Ok(tmp)
}

/// The `conn` record's text (see [`put_conn_record`]).
fn conn_fields(
    p: &mut Put<'_>,
    conn: &ConnSummary,
    app: &AppConnStats,
    memo: &mut ConnMemo,
) -> io::Result<()> {
    p.lit(b"{\"type\":\"conn\",\"id\":");
    p.u64(conn.id);
    p.lit(b",\"proto\":\"");
    p.bytes(conn.proto.as_str().as_bytes());
    p.lit(b"\",\"client\":\"");
    p.endpoint_memo(conn.client, &mut memo.client)?;
    p.lit(b"\",\"server\":\"");
    p.endpoint_memo(conn.server, &mut memo.server)?;
    p.lit(b"\",\"roles_guessed\":");
    p.bool(conn.roles_guessed);
    p.lit(b",\"first_frame\":");
    p.u64(conn.first_frame);
    p.lit(b",\"last_frame\":");
    p.u64(conn.last_frame);
    p.lit(b",\"start\":");
    p.ts_memo(&conn.start, &mut memo.start_secs);
    p.lit(b",\"duration\":");
    let duration_ns = conn.end.nanos_since(&conn.start).max(0);
    match u64::try_from(duration_ns) {
        Ok(ns) => p.fixed(ns, 9)?,
        Err(_) => p.bytes(&long_duration(duration_ns)?),
    }
    p.per_dir(b",\"packets\":{\"to_server\":", &conn.packets);
    p.per_dir(b"},\"bytes\":{\"to_server\":", &conn.bytes);
    p.per_dir(b"},\"payload\":{\"to_server\":", &conn.payload);
    let hs = &conn.handshake;
    p.lit(b"},\"handshake\":{\"complete\":");
    p.bool(hs.complete);
    p.lit(b",\"frames\":[");
    for (i, f) in hs.frames.iter().enumerate() {
        if i > 0 {
            p.lit(b",");
        }
        match f {
            Some(f) => p.u64(*f),
            None => p.lit(b"null"),
        }
    }
    p.lit(b"],\"rtt_ms\":");
    match (hs.syn_to_synack_ns, hs.synack_to_ack_ns) {
        (Some(a), Some(b)) => match a.checked_add(b) {
            Some(ns) => p.fixed(ns, 6)?,
            None => {
                let mut tmp = Vec::with_capacity(64);
                opt_f64(&mut tmp, hs.rtt_ms())?;
                p.bytes(&tmp);
            }
        },
        _ => p.lit(b"null"),
    }
    let td = &conn.teardown;
    {
        use crate::flow::TeardownKind as K;
        match td.kind {
            K::Fin => p.lit(b"},\"teardown\":{\"kind\":\"fin\""),
            K::Rst => p.lit(b"},\"teardown\":{\"kind\":\"rst\""),
            K::HalfClose => p.lit(b"},\"teardown\":{\"kind\":\"half-close\""),
            K::None => p.lit(b"},\"teardown\":{\"kind\":\"none\""),
        }
    }
    match td.initiator {
        Some(crate::flow::Direction::ToServer) => p.lit(b",\"initiator\":\"client\",\"frames\":["),
        Some(crate::flow::Direction::ToClient) => p.lit(b",\"initiator\":\"server\",\"frames\":["),
        None => p.lit(b",\"initiator\":null,\"frames\":["),
    }
    for (i, f) in td.frames.iter().enumerate() {
        if i > 0 {
            p.lit(b",");
        }
        p.u64(*f);
    }
    p.lit(b"],\"description\":");
    p.json_str(&td.description)?;
    p.lit(b"},\"conn_state\":");
    p.name(conn.conn_state);
    p.lit(b",\"history\":");
    p.json_str(&conn.history)?;
    p.lit(b",\"tunnel_parents\":[");
    for (i, c) in conn.tunnel_parents.iter().enumerate() {
        if i > 0 {
            p.lit(b",");
        }
        p.u64(*c);
    }
    p.lit(b"],\"encapsulation\":");
    match &conn.encapsulation {
        Some(e) => p.json_str(&e.to_string())?,
        None => p.lit(b"null"),
    }
    if let Some((c, s)) = conn.final_state {
        // As the last record's when the states are the same.
        let text = |t: &mut Put<'_>| {
            t.lit(b",\"final_state\":{\"client\":");
            t.tcp_state(c);
            t.lit(b",\"server\":");
            t.tcp_state(s);
            t.lit(b"}");
        };
        if memo.final_state.as_ref().is_none_or(|(k, _)| *k != (c, s)) {
            memo.final_state = made_text(text).map(|t| ((c, s), t));
        }
        match &memo.final_state {
            Some((_, (t, len))) => p.window(t, usize::from(*len)),
            None => text(p),
        }
    }
    {
        use crate::flow::EndReason as E;
        match conn.end_reason {
            E::Closed => p.lit(b",\"end_reason\":\"Closed\""),
            E::Reset => p.lit(b",\"end_reason\":\"Reset\""),
            E::Idle => p.lit(b",\"end_reason\":\"Idle\""),
            E::EndOfInput => p.lit(b",\"end_reason\":\"EndOfInput\""),
            E::Evicted => p.lit(b",\"end_reason\":\"Evicted\""),
            E::Reused => p.lit(b",\"end_reason\":\"Reused\""),
        }
    }
    let zero = crate::flow::PerDir::default();
    if conn.gap_bytes == zero && conn.cut_bytes == zero {
        // The usual case, as one piece.
        p.lit(b",\"gap_bytes\":{\"to_server\":0,\"to_client\":0},\"cut_bytes\":{\"to_server\":0,\"to_client\":0");
    } else {
        p.per_dir(b",\"gap_bytes\":{\"to_server\":", &conn.gap_bytes);
        p.per_dir(b"},\"cut_bytes\":{\"to_server\":", &conn.cut_bytes);
    }
    p.lit(b"},\"http\":{\"requests\":");
    p.u64(app.http_requests);
    p.lit(b",\"responses\":");
    p.u64(app.http_responses);
    p.lit(b"},\"dns\":");
    p.u64(app.dns_messages);
    match crate::flow::community_id::of_conn(conn, memo.community_id_seed) {
        Some(id) => {
            p.lit(b",\"community_id\":");
            p.json_str(&id)?;
        }
        None => p.lit(b",\"community_id\":null"),
    }
    match app.service.zeek_name() {
        Some(name) => {
            p.lit(b",\"service\":");
            p.name(name);
        }
        None => p.lit(b",\"service\":null"),
    }
    p.bytes(&timing_json(conn, app));
    if let Some(e) = &conn.icmp_errors {
        p.bytes(&icmp_errors_json(e));
    }
    p.lit(b"}");
    Ok(())
}

/// `,"icmp_errors":{…}` of a connection some ICMP errors quoted: how many, and the last's
/// type, code, name and frame (written only for such connections).
fn icmp_errors_json(e: &crate::flow::icmp_error::IcmpErrors) -> Vec<u8> {
    let l = &e.last;
    format!(
        ",\"icmp_errors\":{{\"count\":{},\"last\":{{\"proto\":\"{}\",\"type\":{},\"code\":{},\"name\":\"{}\",\"frame\":{}}}}}",
        e.count,
        if l.v6 { "icmpv6" } else { "icmp" },
        l.icmp_type,
        l.code,
        l.name(),
        l.frame
    )
    .into_bytes()
}

/// `,"timing":{…}` of a TCP connection's record (`,"timing":null` otherwise): the handshake
/// RTT, the TLS setup, the request, the server's time (the wait less the handshake RTT),
/// the transfer and what limited it, with the counts behind that.
fn timing_json(conn: &ConnSummary, app: &AppConnStats) -> Vec<u8> {
    let Some(t) = &conn.timing else {
        return b",\"timing\":null".to_vec();
    };
    let ms = |w: &mut Vec<u8>, ns: Option<i64>| match ns {
        Some(ns) => put_ns_ms(w, ns),
        None => w.extend_from_slice(b"null"),
    };
    let rtt = conn.handshake.rtt_ns();
    let mut w = Vec::with_capacity(320);
    w.extend_from_slice(b",\"timing\":{\"handshake_ms\":");
    ms(&mut w, rtt.map(|v| v.min(i64::MAX as u64) as i64));
    w.extend_from_slice(b",\"tls_ms\":");
    ms(&mut w, app.tls_setup_ns);
    w.extend_from_slice(b",\"request_ms\":");
    ms(&mut w, t.request_ns);
    w.extend_from_slice(b",\"wait_ms\":");
    ms(&mut w, t.wait_ns);
    w.extend_from_slice(b",\"server_ms\":");
    ms(&mut w, t.server_ns(rtt));
    w.extend_from_slice(b",\"transfer_ms\":");
    ms(&mut w, t.transfer_ns);
    w.extend_from_slice(b",\"limited_by\":");
    match t.limited_by {
        Some(l) => put_name(&mut w, l.as_str()),
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"exchanges\":");
    put_u64(&mut w, u64::from(t.exchanges));
    w.extend_from_slice(b",\"idle_ms\":");
    put_ns_ms(&mut w, t.idle_ns);
    w.extend_from_slice(b",\"response_bytes\":");
    put_u64(&mut w, t.response_bytes);
    w.extend_from_slice(b",\"retransmissions\":{\"fast\":");
    put_u64(&mut w, u64::from(t.fast_retransmissions));
    w.extend_from_slice(b",\"other\":");
    put_u64(&mut w, u64::from(t.other_retransmissions));
    w.extend_from_slice(b",\"silence_ms\":");
    put_ns_ms(&mut w, t.retransmission_silence_ns);
    w.extend_from_slice(b"},\"zero_windows\":");
    put_u64(&mut w, u64::from(t.zero_windows));
    w.extend_from_slice(b",\"window_full\":");
    put_u64(&mut w, u64::from(t.window_full));
    w.extend_from_slice(b",\"idle_restarts\":");
    put_u64(&mut w, u64::from(t.idle_restarts));
    w.push(b'}');
    w
}

/// Appends one `http` record (with its newline) to `w`, without `core::fmt` except for
/// the latency (a float).
fn put_http(w: &mut Vec<u8>, t: &HttpTransaction) -> io::Result<()> {
    fn put_opt_str(w: &mut Vec<u8>, s: Option<&str>) -> io::Result<()> {
        match s {
            Some(s) => put_json_str(w, s),
            None => {
                w.extend_from_slice(b"null");
                Ok(())
            }
        }
    }
    w.extend_from_slice(b"{\"type\":\"http\",\"conn\":");
    put_u64(w, t.conn);
    w.extend_from_slice(b",\"index\":");
    put_u64(w, u64::from(t.index));
    w.extend_from_slice(b",\"request_frame\":");
    put_opt_u64(w, t.request_frame);
    w.extend_from_slice(b",\"response_frame\":");
    put_opt_u64(w, t.response_frame);
    w.extend_from_slice(b",\"method\":");
    put_opt_str(w, t.method.as_deref())?;
    w.extend_from_slice(b",\"uri\":");
    put_opt_str(w, t.uri.as_deref())?;
    w.extend_from_slice(b",\"version\":");
    put_opt_str(w, t.version.as_deref())?;
    w.extend_from_slice(b",\"host\":");
    put_opt_str(w, t.host.as_deref())?;
    w.extend_from_slice(b",\"status\":");
    put_opt_u64(w, t.status.map(u64::from));
    w.extend_from_slice(b",\"reason\":");
    put_opt_str(w, t.reason.as_deref())?;
    w.extend_from_slice(b",\"request_body_bytes\":");
    put_opt_u64(w, t.request_body_bytes);
    w.extend_from_slice(b",\"response_body_bytes\":");
    put_opt_u64(w, t.response_body_bytes);
    w.extend_from_slice(b",\"latency_ms\":");
    put_ms(w, t.latency_ms)?;
    w.extend_from_slice(b",\"request_ms\":");
    put_ms(w, t.request_ms())?;
    w.extend_from_slice(b",\"server_ms\":");
    put_ms(w, t.server_ms())?;
    w.extend_from_slice(b",\"transfer_ms\":");
    put_ms(w, t.transfer_ms())?;
    if let Some(id) = t.stream {
        w.extend_from_slice(b",\"stream\":");
        put_u64(w, u64::from(id));
    }
    if t.decrypted {
        w.extend_from_slice(b",\"decrypted\":true");
    }
    if !t.notes.is_empty() {
        w.extend_from_slice(b",\"notes\":[");
        for (i, n) in t.notes.iter().enumerate() {
            if i > 0 {
                w.push(b',');
            }
            put_json_str(w, n)?;
        }
        w.push(b']');
    }
    w.extend_from_slice(b"}\n");
    Ok(())
}

fn write_dns<W: Write>(w: &mut W, d: &DnsMessage) -> io::Result<()> {
    write!(
        w,
        "{{\"type\":\"dns\",\"conn\":{},\"frame\":{},\"id\":{},\"response\":{},\"qname\":",
        d.conn, d.frame, d.id, d.response
    )?;
    json_str(w, &d.qname)?;
    w.write_all(b",\"qtype\":")?;
    json_str(w, &d.qtype)?;
    w.write_all(b",\"rcode\":")?;
    json_str(w, &d.rcode)?;
    w.write_all(b",\"answers\":")?;
    serde_json::to_writer(&mut *w, &d.answers).map_err(io::Error::from)?;
    w.write_all(b",\"latency_ms\":")?;
    opt_f64(w, d.latency_ms)?;
    write!(w, ",\"tcp\":{}", d.tcp)?;
    // (Added field: DNS over TLS read with a key log.)
    if d.decrypted {
        w.write_all(b",\"decrypted\":true")?;
    }
    w.write_all(b"}\n")
}

/// `{"type":"tls",…}`: the contract's fields (`handshake` is null for records that are not
/// handshake messages: alerts, ChangeCipherSpec, a direction's application-data total),
/// plus `dir`, `record` (content type), `length` and the kind-specific details.
fn write_tls<W: Write>(w: &mut W, t: &TlsMessage) -> io::Result<()> {
    // `tls` records are handshake messages, as the contract says; alerts, ChangeCipherSpec
    // and application-data totals are `tls_record` records with the same fields.
    let (kind, record, handshake) = match t.kind {
        TlsKind::Handshake(h) => ("tls", "handshake", Some(tls_handshake_name(h))),
        TlsKind::EncryptedHandshake => ("tls", "handshake", Some("encrypted")),
        TlsKind::Alert | TlsKind::EncryptedAlert => ("tls_record", "alert", None),
        TlsKind::ChangeCipherSpec => ("tls_record", "change_cipher_spec", None),
        TlsKind::ApplicationData => ("tls_record", "application_data", None),
    };
    write!(
        w,
        "{{\"type\":\"{kind}\",\"conn\":{},\"frame\":{},\"dir\":\"{}\",\"record\":\"{record}\",\"handshake\":",
        t.conn,
        t.frame,
        t.dir.as_str()
    )?;
    match handshake {
        Some(h) => write!(w, "\"{h}\"")?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"sni\":")?;
    match &t.sni {
        Some(s) => json_str(w, s)?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"alpn\":")?;
    serde_json::to_writer(&mut *w, &t.alpn).map_err(io::Error::from)?;
    w.write_all(b",\"version\":")?;
    match t.version {
        Some(v) => json_str(w, &tls_version_name(v))?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"cipher\":")?;
    json_code(w, t.cipher, tls_cipher_name)?;
    w.write_all(b",\"curve\":")?;
    json_code(w, t.curve, tls_group_name)?;
    write!(w, ",\"resumed\":{}", t.resumed)?;
    // (Added fields: ssl.log's `sni_matches_cert`, once the server's certificate was read
    // and the client named a server; a ServerHello that is a HelloRetryRequest.)
    if let Some(b) = t.sni_matches_cert {
        write!(w, ",\"sni_matches_cert\":{b}")?;
    }
    if t.hello_retry {
        w.write_all(b",\"hello_retry\":true")?;
    }
    write!(
        w,
        ",\"record_version\":\"{}\",\"length\":{}",
        tls_version_name(t.record_version),
        t.length
    )?;
    if t.kind == TlsKind::EncryptedHandshake || t.kind == TlsKind::EncryptedAlert {
        w.write_all(b",\"encrypted\":true")?;
    }
    if !t.offered_versions.is_empty() {
        let names: Vec<String> = t
            .offered_versions
            .iter()
            .map(|&v| tls_version_name(v))
            .collect();
        w.write_all(b",\"offered_versions\":")?;
        serde_json::to_writer(&mut *w, &names).map_err(io::Error::from)?;
    }
    if !t.offered_ciphers.is_empty() {
        let names: Vec<String> = t
            .offered_ciphers
            .iter()
            .map(|&c| tls_cipher_name(c).map_or_else(|| format!("0x{c:04x}"), str::to_string))
            .collect();
        w.write_all(b",\"offered_ciphers\":")?;
        serde_json::to_writer(&mut *w, &names).map_err(io::Error::from)?;
    }
    if !t.certificates.is_empty() {
        w.write_all(b",\"certificates\":[")?;
        for (i, c) in t.certificates.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write!(w, "{{\"len\":{},\"sha256\":\"{}\"", c.len, c.sha256_hex())?;
            for (key, value) in [
                ("subject", &c.subject),
                ("issuer", &c.issuer),
                ("not_before", &c.not_before),
                ("not_after", &c.not_after),
            ] {
                write!(w, ",\"{key}\":")?;
                match value {
                    Some(v) => json_str(w, v)?,
                    None => w.write_all(b"null")?,
                }
            }
            w.write_all(b"}")?;
        }
        w.write_all(b"]")?;
    }
    if let Some((level, desc)) = t.alert {
        write!(
            w,
            ",\"alert\":{{\"level\":\"{}\",\"description\":\"{}\"}}",
            tls_alert_level_name(level),
            tls_alert_name(desc)
        )?;
    }
    if t.kind == TlsKind::ApplicationData {
        write!(w, ",\"records\":{}", t.records)?;
        if t.decrypted_records > 0 {
            write!(w, ",\"decrypted_records\":{}", t.decrypted_records)?;
        }
    }
    if !t.notes.is_empty() {
        w.write_all(b",\"notes\":")?;
        serde_json::to_writer(&mut *w, &t.notes).map_err(io::Error::from)?;
    }
    w.write_all(b"}\n")
}

/// `{"type":"quic",…}`: one per long-header packet (not yet in the contract).
fn write_quic<W: Write>(w: &mut W, q: &QuicPacket) -> io::Result<()> {
    let packet = match q.kind {
        QuicPacketKind::Initial => "initial",
        QuicPacketKind::ZeroRtt => "0rtt",
        QuicPacketKind::Handshake => "handshake",
        QuicPacketKind::Retry => "retry",
        QuicPacketKind::VersionNegotiation => "version_negotiation",
    };
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    write!(
        w,
        "{{\"type\":\"quic\",\"conn\":{},\"frame\":{},\"dir\":\"{}\",\"packet\":\"{packet}\",\"version\":\"0x{:08x}\",\"dcid\":\"{}\",\"scid\":\"{}\"",
        q.conn,
        q.frame,
        q.dir.as_str(),
        q.version,
        hex(&q.dcid),
        hex(&q.scid)
    )?;
    if let Some(n) = q.token_len {
        write!(w, ",\"token_len\":{n}")?;
    }
    if let Some(n) = q.length {
        write!(w, ",\"length\":{n}")?;
    }
    if q.kind == QuicPacketKind::VersionNegotiation {
        let v: Vec<String> = q
            .supported_versions
            .iter()
            .map(|v| format!("0x{v:08x}"))
            .collect();
        w.write_all(b",\"supported_versions\":")?;
        serde_json::to_writer(&mut *w, &v).map_err(io::Error::from)?;
    }
    w.write_all(b"}\n")
}

impl<W: Write> Sink for JsonSink<W> {
    fn wants_packets(&self) -> bool {
        self.records.packets
    }
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        if !self.records.packets {
            return Ok(());
        }
        // In place at the end of the gathered records (see `batch`).
        let n = packet_record_at(
            &mut self.batch,
            self.batch_len,
            frame,
            packet,
            flow,
            &mut self.packet_memo,
        )?;
        self.batch_len += n;
        self.record_added(true)
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        let r = self.records;
        let writes = match event {
            AppEvent::Http(_) => r.http,
            AppEvent::Dns(_) => r.dns,
            AppEvent::Tls(_) | AppEvent::Quic(_) => r.tls,
        };
        if !writes {
            return Ok(());
        }
        // Made here, then appended to the gathered records (see `batch`; the batch keeps
        // its length).
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        let written = match event {
            AppEvent::Http(t) => put_http(&mut out, t),
            AppEvent::Dns(d) => write_dns(&mut out, d),
            AppEvent::Tls(t) => write_tls(&mut out, t),
            AppEvent::Quic(q) => write_quic(&mut out, q),
        };
        if written.is_ok() {
            self.batch_bytes(&out);
        }
        self.scratch = out;
        written?;
        self.record_added(false)
    }

    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        if !self.records.conns {
            return Ok(());
        }
        let only_conns = self.records
            == JsonRecords {
                conns: true,
                ..JsonRecords::NONE
            };
        if !only_conns {
            self.in_order = None;
        }
        if let Some(order) = &mut self.in_order {
            if conn.id == order.next {
                order.next += 1;
                let n = conn_record_at(
                    &mut self.batch,
                    self.batch_len,
                    conn,
                    app,
                    true,
                    &mut self.memo,
                )?;
                self.batch_len += n;
                while let Some(order) = &mut self.in_order {
                    let Some(record) = order.waiting.remove(&order.next) else {
                        break;
                    };
                    order.waiting_bytes -= record.len();
                    order.next += 1;
                    self.batch_bytes(&record);
                }
                return self.record_added(true);
            }
            if conn.id > order.next && order.waiting_bytes <= self.held_limit {
                let mut record = Vec::with_capacity(1024);
                put_conn_record(&mut record, conn, app, &mut self.memo)?;
                record.push(b'\n');
                order.waiting_bytes += record.len();
                order.waiting.insert(conn.id, record);
                return Ok(());
            }
            // Too much waiting (or an id seen again): hold everything from here on; every
            // id already written is lower than those.
            let order = self.in_order.take().unwrap_or_default();
            for (id, mut record) in order.waiting {
                record.pop();
                self.held_bytes += record.len() + 64;
                self.conns.push(id, |w| {
                    w.extend_from_slice(&record);
                    Ok(())
                })?;
            }
        }
        // Written straight into the held records' buffer (~800 bytes each).
        let len = self
            .conns
            .push(conn.id, |w| put_conn_record(w, conn, app, &mut self.memo))?;
        self.held_bytes += len + 64;
        if self.held_bytes > self.held_limit && !self.spill_failed {
            if self.spill.is_none() {
                // No writable temp dir: keep the records in memory instead (correct
                // output, more memory) rather than fail the run.
                match Spill::create() {
                    Ok(spill) => self.spill = Some(spill),
                    Err(_) => {
                        self.spill_failed = true;
                        return Ok(());
                    }
                }
            }
            if let Some(spill) = &mut self.spill {
                self.conns.sort();
                spill.write_run(&self.conns)?;
            }
            self.conns.clear();
            self.held_bytes = 0;
        }
        Ok(())
    }

    fn finish(&mut self, s: &RunSummary) -> io::Result<()> {
        self.write_batch()?;
        if let Some(order) = self.in_order.take() {
            for record in order.waiting.values() {
                self.out.write_all(record)?;
            }
        }
        self.write_conns()?;
        write!(
            self.out,
            "{{\"type\":\"summary\",\"frames\":{},\"filtered_out\":{},\"conns\":{},\"decode_issues\":{},\"evicted_flows\":{},\"reassembly_cut_bytes\":{},\"fragments_evicted\":{},\"nesting_cut\":{},\"http_heads_too_large\":{},\"bad_records_skipped\":{},\"records_over_snaplen\":{},\"pcapng_other_blocks\":{},\"truncated\":{},\"error\":",
            s.frames,
            s.filtered_out,
            s.conns,
            s.decode_issues,
            s.evicted_flows,
            s.reassembly_cut_bytes,
            s.fragments_evicted,
            s.nesting_cut,
            s.http_heads_too_large,
            s.bad_records_skipped,
            s.source.over_snaplen,
            s.source.other_blocks,
            s.truncated.is_some()
        )?;
        opt_str(&mut self.out, s.error.as_deref())?;
        let tls = &s.tls;
        let q = &tls.quic;
        if tls.decrypted_records
            + tls.decrypt_failures
            + tls.records_cut
            + tls.no_key
            + q.opened
            + q.not_opened
            + q.no_key
            > 0
        {
            write!(
                self.out,
                ",\"tls_decryption\":{{\"records_opened\":{},\"records_not_opened\":{},\"conns_without_key\":{},\"records_cut\":{}",
                tls.decrypted_records,
                tls.decrypt_failures,
                tls.no_key + q.no_key,
                tls.records_cut
            )?;
            // QUIC Handshake and 1-RTT packets, their streams and HTTP/3 (added fields).
            if q.opened + q.not_opened + q.no_key > 0 {
                write!(
                    self.out,
                    ",\"quic_packets_opened\":{},\"quic_packets_not_opened\":{},\"quic_stream_bytes_cut\":{},\"http3_streams_cut\":{},\"http3_frames_cut\":{},\"qpack_cut\":{}",
                    q.opened,
                    q.not_opened,
                    q.streams.cut_bytes,
                    q.http3.streams_cut + q.streams.streams_cut,
                    q.http3.frames_cut,
                    q.http3.qpack_cut
                )?;
                write!(
                    self.out,
                    ",\"qpack_blocked_cut\":{}",
                    q.http3.qpack_blocked_cut
                )?;
            }
            self.out.write_all(b"}")?;
        }
        if let Some(t) = &s.truncated {
            write!(
                self.out,
                ",\"truncation\":{{\"last_frame\":{},\"offset\":{},\"needed\":{},\"had\":{}}}",
                t.last_frame, t.offset, t.needed, t.had
            )?;
        }
        // Only when some were (as `truncation`): most runs never fill the tombstones.
        if s.tombstones_evicted > 0 {
            write!(self.out, ",\"tombstones_evicted\":{}", s.tombstones_evicted)?;
        }
        if s.tunnel_parents_cut > 0 {
            write!(self.out, ",\"tunnel_parents_cut\":{}", s.tunnel_parents_cut)?;
        }
        if s.lingers_cut > 0 {
            write!(self.out, ",\"lingers_cut\":{}", s.lingers_cut)?;
        }
        if s.fcs_stripped > 0 {
            write!(self.out, ",\"fcs_stripped\":{}", s.fcs_stripped)?;
        }
        if s.first_fragments_given_up > 0 {
            write!(
                self.out,
                ",\"first_fragments_given_up\":{}",
                s.first_fragments_given_up
            )?;
        }
        // What the caps inside TLS, HTTP/2 and QUIC cut (added fields, only when some
        // were).
        for (name, n) in inner_caps_cut(s) {
            if n > 0 {
                write!(self.out, ",\"{name}\":{n}")?;
            }
        }
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

/// The counters of the caps inside TLS, HTTP/2 and QUIC, by their JSON summary names
/// (the table's footer names them in words: `render::table`).
pub fn inner_caps_cut(s: &RunSummary) -> [(&'static str, u64); 6] {
    let h2 = &s.tls.http2;
    [
        ("tls_handshake_cut_bytes", s.tls.cut_bytes),
        ("http2_streams_cut", h2.streams_cut),
        ("http2_frames_cut", h2.frames_cut),
        ("http2_header_blocks_lost", h2.header_blocks_lost),
        ("http2_header_fields_cut", h2.header_fields_cut),
        ("quic_crypto_cut_bytes", s.quic_crypto_cut_bytes),
    ]
}

#[cfg(test)]
mod spill_tests {
    use super::*;

    #[test]
    fn spilled_runs_merge_back_in_id_order() {
        let mut sink = JsonSink::new(Vec::new());
        // Three runs and a remainder in memory, ids interleaved across runs.
        let mut spill = Spill::create().unwrap();
        let run = |ids: &[u64]| -> HeldConns {
            let mut held = HeldConns::default();
            for &i in ids {
                held.push(i, |w| {
                    w.extend_from_slice(format!("{{\"id\":{i}}}").as_bytes());
                    Ok(())
                })
                .unwrap();
            }
            held.sort();
            held
        };
        spill.write_run(&run(&[1, 4, 7])).unwrap();
        spill.write_run(&run(&[2, 3, 9])).unwrap();
        spill.write_run(&run(&[])).unwrap();
        sink.spill = Some(spill);
        // Held out of order, with a repeated id whose last record wins.
        sink.conns = run(&[]);
        for (n, i) in [6u64, 8, 0, 6, 5].into_iter().enumerate() {
            let text = if n == 0 { "x" } else { "" };
            sink.conns
                .push(i, |w| {
                    w.extend_from_slice(format!("{{\"id\":{i}}}{text}").as_bytes());
                    Ok(())
                })
                .unwrap();
        }
        sink.write_conns().unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let ids: Vec<u64> = text
            .lines()
            .map(|l| {
                l.trim_start_matches("{\"id\":")
                    .trim_end_matches('}')
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(ids, (0..10).collect::<Vec<_>>());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::EndReason;

    /// A real connection summary (the first of a recorded capture).
    fn some_conn() -> (ConnSummary, AppConnStats) {
        struct First(Option<(ConnSummary, AppConnStats)>);
        impl crate::pipeline::Sink for First {
            fn conn_end(&mut self, c: &ConnSummary, a: &AppConnStats) -> io::Result<()> {
                self.0.get_or_insert((c.clone(), a.clone()));
                Ok(())
            }
        }
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/http11-keepalive.pcap");
        let mut src = crate::capture::FileSource::open(&path).unwrap();
        let mut first = First(None);
        crate::pipeline::run(&mut src, Default::default(), &mut first).unwrap();
        first.0.unwrap()
    }

    /// `--view conns`: records written as they end come out in id order whatever order
    /// the connections end in, with or without falling back to holding them (a tiny
    /// limit), and with the held records spilled.
    #[test]
    fn conn_records_in_id_order_whatever_order_they_end() {
        let (conn, app) = some_conn();
        // Connection 0 ends last; the others in a scrambled order.
        let mut order: Vec<u64> = (1..300).collect();
        let mut x: u64 = 7;
        for i in (1..order.len()).rev() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (x >> 33) as usize % (i + 1));
        }
        order.push(0);
        let expected: String = (0..300)
            .map(|id| {
                let mut c = conn.clone();
                c.id = id;
                let mut b = Vec::new();
                put_conn_record(&mut b, &c, &app, &mut ConnMemo::default()).unwrap();
                String::from_utf8(b).unwrap() + "\n"
            })
            .collect();
        for limit in [HELD_CONN_BYTES, 5_000, 0] {
            let mut sink = JsonSink::new(Vec::new());
            sink.records = JsonRecords {
                conns: true,
                ..JsonRecords::NONE
            };
            sink.held_limit = limit;
            for &id in &order {
                let mut c = conn.clone();
                c.id = id;
                crate::pipeline::Sink::conn_end(&mut sink, &c, &app).unwrap();
            }
            crate::pipeline::Sink::finish(&mut sink, &RunSummary::default()).unwrap();
            let out = String::from_utf8(sink.into_inner()).unwrap();
            let records: String = out
                .lines()
                .filter(|l| l.contains("\"type\":\"conn\""))
                .map(|l| l.to_string() + "\n")
                .collect();
            assert_eq!(records, expected, "limit {limit}");
            assert!(out.lines().last().unwrap().contains("\"type\":\"summary\""));
        }
    }

    /// The record written in place is byte for byte the one written through `Vec`
    /// pushes, over every enum value, IPv6, strings that need escaping, a description
    /// longer than the usual room (written again), extreme numbers and times.
    #[test]
    fn conn_record_in_place_as_the_reference_writes_it() {
        use crate::flow::{Direction, Proto, TcpState, TeardownKind};
        use std::borrow::Cow;
        let (base, app) = some_conn();
        let states = [
            TcpState::Closed,
            TcpState::Listen,
            TcpState::SynSent,
            TcpState::SynReceived,
            TcpState::Established,
            TcpState::FinWait1,
            TcpState::FinWait2,
            TcpState::CloseWait,
            TcpState::Closing,
            TcpState::LastAck,
            TcpState::TimeWait,
        ];
        let kinds = [
            TeardownKind::Fin,
            TeardownKind::Rst,
            TeardownKind::HalfClose,
            TeardownKind::None,
        ];
        let reasons = [
            EndReason::Closed,
            EndReason::Reset,
            EndReason::Idle,
            EndReason::EndOfInput,
            EndReason::Evicted,
            EndReason::Reused,
        ];
        let long = "x\"y\u{1}\\".repeat(700);
        let mut cases = Vec::new();
        for i in 0..40usize {
            let mut c = base.clone();
            let mut a = app.clone();
            c.proto = if i % 2 == 0 { Proto::Tcp } else { Proto::Udp };
            c.final_state = (i % 5 != 0).then(|| (states[i % 11], states[(i * 7 + 3) % 11]));
            c.teardown.kind = kinds[i % 4];
            c.teardown.initiator =
                [None, Some(Direction::ToServer), Some(Direction::ToClient)][i % 3];
            c.end_reason = reasons[i % 6];
            c.roles_guessed = i % 3 == 1;
            if i % 3 == 2 {
                c.client.set_port(i as u16 * 1000);
                c.server.set_port(i as u16 % 2 + 79);
            }
            if i % 11 == 10 {
                c.server.set_ip("10.1.255.7".parse().unwrap());
            }
            match i % 8 {
                1 => {
                    c.client = "[2001:db8::1]:443".parse().unwrap();
                    c.server = "[::ffff:10.0.0.1]:65535".parse().unwrap();
                }
                2 => c.teardown.description = Cow::Owned(long.clone()),
                3 => {
                    c.teardown.description = Cow::Owned("tab\there \u{e9}".into());
                    c.history = arrayvec::ArrayString::from("a\"b").unwrap();
                }
                4 => {
                    c.id = u64::MAX;
                    c.first_frame = u64::MAX - 1;
                    c.packets.to_server = u64::MAX;
                    c.bytes.to_client = 10_000_000_000;
                    c.gap_bytes.to_server = 7;
                    c.cut_bytes.to_client = 1 << 40;
                    a.http_requests = 99;
                    a.dns_messages = 1_000_000;
                    c.handshake.frames = [None, Some(12), None];
                    c.handshake.syn_to_synack_ns = Some(1 << 52);
                    c.handshake.synack_to_ack_ns = Some(2);
                }
                5 => {
                    c.start.secs = -5;
                    c.start.nanos = 999_999_999;
                    c.start.precision = 9;
                    c.end.secs = i64::MAX;
                    c.handshake.syn_to_synack_ns = None;
                }
                6 => {
                    c.end = c.start;
                    c.end.secs -= 10;
                    c.start.nanos = 7;
                    c.teardown.frames.clear();
                    c.handshake.syn_to_synack_ns = Some(500);
                    c.handshake.synack_to_ack_ns = Some(1_000);
                }
                7 => {
                    c.start.precision = 9;
                    c.end.nanos = c.start.nanos.wrapping_add(1_500) % 1_000_000_000;
                    c.gap_bytes.to_client = 1;
                }
                _ => {}
            }
            cases.push((c, a));
        }
        // One memo over all the records (the previous records' text reused, or not).
        let mut memo = ConnMemo::default();
        for (c, a) in &cases {
            let mut want = b"prefix".to_vec();
            put_conn_record_reference(&mut want, c, a).unwrap();
            let mut got = b"prefix".to_vec();
            put_conn_record(&mut got, c, a, &mut memo).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            );
            // In place after other bytes, in a buffer longer than the record.
            let mut buf = vec![b'#'; 5000];
            let n = conn_record_at(&mut buf, 3, c, a, true, &mut memo).unwrap();
            assert_eq!(&buf[3..3 + n], [&want[6..], b"\n"].concat().as_slice());
            assert_eq!(&buf[..3], b"###");
        }
    }

    /// Every packet of the project's captures (and of the shared ones, when present):
    /// the record written in place is byte for byte the one `write_packet` writes, with
    /// the remembered addresses and seconds carried from packet to packet.
    #[test]
    fn packet_records_in_place_as_the_reference_writes_them() {
        struct Both {
            memo: PacketMemo,
            buf: Vec<u8>,
            packets: usize,
        }
        impl crate::pipeline::Sink for Both {
            fn wants_packets(&self) -> bool {
                true
            }
            fn packet(
                &mut self,
                frame: &RawFrame<'_>,
                packet: &DecodedPacket<'_>,
                flow: &PacketFlow,
            ) -> io::Result<()> {
                let mut want = Vec::new();
                write_packet(&mut want, frame, packet, flow)?;
                // After a record's worth of other bytes, over stale bytes past the end.
                let at = self.packets % 700;
                let n = packet_record_at(&mut self.buf, at, frame, packet, flow, &mut self.memo)?;
                assert_eq!(
                    String::from_utf8_lossy(&self.buf[at..at + n]),
                    String::from_utf8_lossy(&want),
                    "frame {}",
                    frame.number
                );
                self.packets += 1;
                Ok(())
            }
        }
        let own = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
        let mut dirs = vec![own];
        dirs.extend(crate::shared_captures_dir());
        let mut both = Both {
            memo: PacketMemo::default(),
            buf: Vec::new(),
            packets: 0,
        };
        for dir in dirs {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if !name.contains(".pcap") {
                    continue;
                }
                let Ok(mut src) = crate::capture::FileSource::open(&path) else {
                    continue;
                };
                let _ = crate::pipeline::run(&mut src, Default::default(), &mut both);
            }
        }
        assert!(both.packets > 100, "{} packets", both.packets);
    }

    #[test]
    fn decimal_numbers_as_display_writes_them() {
        let mut values: Vec<u64> = (0..=1000).collect();
        for p in 1..=19 {
            let t = 10u64.pow(p);
            values.extend([t - 1, t, t + 1, t + 7 * (t / 10)]);
        }
        values.extend([u64::MAX, u64::MAX - 1, 4_294_967_295, 1_700_000_000]);
        let mut buf = b"x".to_vec();
        for v in values {
            buf.truncate(1);
            put_u64(&mut buf, v);
            assert_eq!(buf, format!("x{v}").as_bytes(), "{v}");
        }
    }

    #[test]
    fn fixed_point_numbers_as_the_float_formatter_writes_them() {
        let mut cases: Vec<u64> = vec![
            0,
            1,
            499,
            500,
            501,
            999,
            1000,
            1499,
            1500,
            1501,
            999_499,
            999_500,
            999_501,
            999_999_499,
            999_999_500,
            999_999_501,
            1_000_000_000,
            2_500_000_500,
            12_345_678_901,
            (1 << 50) - 1,
            1 << 50,
            (1 << 53) + 1,
            u64::MAX,
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(x % 10_000_000_000_000);
            cases.push(x % 100_000_000);
            cases.push((x % 1_000_000) * 1000 + 500);
        }
        for ns in cases {
            let mut b = Vec::new();
            put_fixed(&mut b, ns, 9).unwrap();
            assert_eq!(
                String::from_utf8(b).unwrap(),
                format!("{:.6}", ns as f64 / 1e9),
                "{ns}"
            );
            let mut b = Vec::new();
            put_fixed(&mut b, ns, 6).unwrap();
            assert_eq!(
                String::from_utf8(b).unwrap(),
                format!("{:.3}", ns as f64 / 1e6),
                "{ns}"
            );
        }
        for v in [
            0,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            65535,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_u64(&mut b, v);
            assert_eq!(b, v.to_string().as_bytes());
        }
        let mut b = Vec::new();
        put_padded(&mut b, 42, 6);
        put_padded(&mut b, 1_234_567, 6);
        assert_eq!(b, b"0000421234567");
    }

    #[test]
    fn escape_scan_finds_every_byte_that_needs_escaping() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    let slow = v.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
                    assert_eq!(needs_escape(&v), slow, "{len} {at} {b}");
                }
            }
        }
        assert!(!needs_escape(
            "four-way close (FIN from both sides) \u{e9}".as_bytes()
        ));
    }

    /// The `http` record as it was written with `core::fmt` and serde_json.
    fn write_http<W: Write>(w: &mut W, t: &HttpTransaction) -> io::Result<()> {
        write!(
            w,
            "{{\"type\":\"http\",\"conn\":{},\"index\":{},\"request_frame\":",
            t.conn, t.index
        )?;
        opt_u64(w, t.request_frame)?;
        w.write_all(b",\"response_frame\":")?;
        opt_u64(w, t.response_frame)?;
        w.write_all(b",\"method\":")?;
        opt_str(w, t.method.as_deref())?;
        w.write_all(b",\"uri\":")?;
        opt_str(w, t.uri.as_deref())?;
        w.write_all(b",\"version\":")?;
        opt_str(w, t.version.as_deref())?;
        w.write_all(b",\"host\":")?;
        opt_str(w, t.host.as_deref())?;
        w.write_all(b",\"status\":")?;
        opt_u64(w, t.status.map(u64::from))?;
        w.write_all(b",\"reason\":")?;
        opt_str(w, t.reason.as_deref())?;
        w.write_all(b",\"request_body_bytes\":")?;
        opt_u64(w, t.request_body_bytes)?;
        w.write_all(b",\"response_body_bytes\":")?;
        opt_u64(w, t.response_body_bytes)?;
        w.write_all(b",\"latency_ms\":")?;
        opt_f64(w, t.latency_ms)?;
        w.write_all(b",\"request_ms\":")?;
        opt_f64(w, t.request_ms())?;
        w.write_all(b",\"server_ms\":")?;
        opt_f64(w, t.server_ms())?;
        w.write_all(b",\"transfer_ms\":")?;
        opt_f64(w, t.transfer_ms())?;
        if !t.notes.is_empty() {
            w.write_all(b",\"notes\":")?;
            serde_json::to_writer(&mut *w, &t.notes).map_err(io::Error::from)?;
        }
        w.write_all(b"}\n")
    }

    #[test]
    fn http_records_as_fmt_and_serde_wrote_them() {
        let mut t = HttpTransaction {
            conn: 12,
            index: 3,
            request_frame: Some(40),
            method: Some("GET".into()),
            uri: Some("/a\"b\\c\u{1}\u{e9}".into()),
            version: Some("HTTP/1.1".into()),
            host: Some("example.test".into()),
            status: Some(200),
            reason: Some("OK".into()),
            request_body_bytes: Some(0),
            response_body_bytes: Some(123_456),
            latency_ms: Some(1.2345),
            notes: vec!["one".into(), "two \"quoted\"\n".into()],
            ..HttpTransaction::default()
        };
        for round in 0..3 {
            let mut old = Vec::new();
            write_http(&mut old, &t).unwrap();
            let mut new = Vec::new();
            put_http(&mut new, &t).unwrap();
            assert_eq!(
                String::from_utf8(new).unwrap(),
                String::from_utf8(old).unwrap()
            );
            match round {
                0 => t.latency_ms = Some(f64::NAN),
                _ => t = HttpTransaction::default(),
            }
        }
    }

    #[test]
    fn latencies_with_integer_digits_as_the_float_formatter_writes_them() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut cases: Vec<f64> = vec![0.0, -0.0, -1.5, 0.0005, 0.0015, 1e300, f64::NAN, 0.1];
        for _ in 0..30_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for ns in [
                x % 10_000_000_000,
                x % 1_000_000,
                (x % 100_000) * 1000 + 500,
            ] {
                cases.push(ns as f64 / 1e6);
            }
            cases.push(f64::from_bits(x >> 2));
        }
        for ms in cases {
            let mut a = Vec::new();
            put_ms(&mut a, Some(ms)).unwrap();
            let mut b = Vec::new();
            opt_f64(&mut b, Some(ms)).unwrap();
            assert_eq!(
                String::from_utf8(a).unwrap(),
                String::from_utf8(b).unwrap(),
                "{ms:e}"
            );
        }
    }

    #[test]
    fn end_reason_names_are_the_debug_names() {
        for r in [
            EndReason::Closed,
            EndReason::Reset,
            EndReason::Idle,
            EndReason::EndOfInput,
            EndReason::Evicted,
            EndReason::Reused,
        ] {
            assert_eq!(end_reason_name(r), format!("{r:?}"));
        }
    }

    #[test]
    fn json_strings_as_serde_writes_them() {
        for s in [
            "",
            "four-way close",
            "ShADadFf",
            "abort by RST from server in ESTABLISHED",
            "a \"quoted\" word",
            "back\\slash",
            "tab\there",
            "\u{1}\u{1f}\u{7f}",
            "é → ✓",
        ] {
            let mut ours = Vec::new();
            put_json_str(&mut ours, s).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }
}
