//! pcap and pcapng files (and stdin), read in constant memory.
//!
//! The framing (record and block boundaries, lengths, byte offsets, truncation) is done here on
//! one reused buffer, so that every error can say where it happened and how many bytes the
//! record needed and had, and so that a damaged pcapng block can be skipped by its length.
//! pcap-parser's `PcapNGReader`/`LegacyPcapReader` cannot report offsets or the bytes a cut-short
//! record had, allocate an options `Vec` per Enhanced Packet Block, and do not know the obsolete
//! Packet Block; the formats themselves are small (pcap: a 16-byte record header; pcapng: a
//! type/length/…/length block) and are read field by field below.
//!
//! Frames are lent from the buffer: the record stays in place until the next call to
//! [`FrameSource::next_frame`] (a pcap record is consumed as it is lent, a pcapng block at the
//! start of the next call). A pcap record that lies whole in the buffer takes a short path
//! ([`Input::buffered_pcap_record`]); every other case, errors included, the general one. The
//! buffer starts at 64 KiB and grows
//! only when one block needs more, up to [`MAX_BLOCK_LEN`]; larger blocks are skipped by reading
//! through them.

use super::{CaptureError, FrameSource, LinkType, RawFrame, ReadAhead, Timestamp, Truncation};
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

/// Largest captured length accepted for one packet (bytes). Larger ones are corrupt records.
pub const MAX_CAPLEN: u32 = 256 * 1024;
/// Largest pcapng block held in memory (bytes); larger blocks are read through and skipped.
pub const MAX_BLOCK_LEN: usize = 2 * 1024 * 1024 + 64 * 1024;
/// Most interfaces kept per pcapng section; further Interface Description Blocks are reported.
pub const MAX_INTERFACES: usize = 4096;

const START_BUFFER: usize = 64 * 1024;

const SHB_TYPE: u32 = 0x0A0D_0D0A;
const IDB_TYPE: u32 = 0x0000_0001;
const PB_TYPE: u32 = 0x0000_0002;
const SPB_TYPE: u32 = 0x0000_0003;
const EPB_TYPE: u32 = 0x0000_0006;
const SHB_BYTES: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
const BOM_BIG: [u8; 4] = [0x1A, 0x2B, 0x3C, 0x4D];
const BOM_LITTLE: [u8; 4] = [0x4D, 0x3C, 0x2B, 0x1A];

const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;
/// pcapng IDB `if_fcslen`: bits of FCS at the end of each frame.
const OPT_IF_FCSLEN: u16 = 13;

/// The input bytes and the one buffer they are read into.
struct Input {
    reader: Box<dyn Read + Send>,
    /// Read on a thread of its own instead: `buf` is then the last chunk it handed over
    /// (taken whole, not copied), the start of a record cut by the previous chunk's end
    /// copied into the chunk's free head.
    ahead: Option<ReadAhead>,
    /// The bytes `start` and `end` index. Read-ahead mode: the last chunk (shared with the
    /// two-thread pipeline's batches, whose packets point into it in place). Otherwise the one buffer read into, never shared (no chunk is lent then), so
    /// that [`Arc::make_mut`] writes it in place.
    shared: Arc<Vec<u8>>,
    /// First unconsumed byte in `buf`.
    start: usize,
    /// End of the bytes read into `buf`.
    end: usize,
    /// Byte offset in the input of `buf[start]`.
    pos: u64,
    eof: bool,
}

impl Input {
    fn new(reader: Box<dyn Read + Send>) -> Input {
        Input {
            reader,
            ahead: None,
            shared: Arc::new(vec![0; START_BUFFER]),
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
        }
    }

    fn read_ahead(ahead: ReadAhead) -> Input {
        Input {
            reader: Box::new(io::empty()),
            ahead: Some(ahead),
            shared: Arc::default(),
            start: 0,
            end: 0,
            pos: 0,
            eof: false,
        }
    }

    /// Read-ahead mode: makes the next chunk the buffer, the unconsumed bytes before its
    /// data. `Ok(false)` at the end of input.
    fn take_chunk(&mut self) -> io::Result<bool> {
        let Some(ahead) = self.ahead.as_mut() else {
            return Ok(false);
        };
        let Some(mut chunk) = ahead.next_chunk()? else {
            self.eof = true;
            return Ok(false);
        };
        let head = ahead.head();
        let rest = self.shared.get(self.start..self.end).unwrap_or(&[]);
        let next = if let Some(room) = head
            .checked_sub(rest.len())
            .and_then(|at| chunk.get_mut(at..head))
        {
            room.copy_from_slice(rest);
            self.start = head - rest.len();
            chunk
        } else {
            // A record longer than the head: gathered in a buffer of its own.
            let mut gathered = Vec::with_capacity(rest.len() + chunk.len() - head);
            gathered.extend_from_slice(rest);
            gathered.extend_from_slice(chunk.get(head..).unwrap_or(&[]));
            ahead.recycle(chunk);
            self.start = 0;
            gathered
        };
        self.end = next.len();
        let old = std::mem::replace(&mut self.shared, Arc::new(next));
        ahead.recycle_shared(old);
        Ok(true)
    }

    fn avail(&self) -> usize {
        self.end - self.start
    }

    /// The buffer (or shared chunk) that `start` and `end` index.
    #[inline]
    fn bytes(&self) -> &[u8] {
        &self.shared
    }

    /// The buffer `start` and `end` index, and the shared chunk it is (read-ahead mode).
    #[inline(always)]
    fn lend(&self) -> (&[u8], Option<&Arc<Vec<u8>>>) {
        lend_parts(&self.ahead, &self.shared)
    }

    /// The pcap record at `start` when the whole of it is already in the buffer, its
    /// captured length within the limit and its fraction of a second below one second;
    /// `None` sends the record down the general path ([`FileSource::next_pcap`]), which
    /// reads, reports and times it the same way.
    #[inline(always)]
    fn buffered_pcap_record(&self, p: &PcapLayout) -> Option<BufferedRecord> {
        let rest = self.lend().0.get(self.start..self.end)?;
        let [ts_sec, ts_frac, caplen, orig_len] =
            record_words(rest.first_chunk::<16>()?, p.big_endian);
        let total = p.hdr_len + caplen as usize;
        // The same slicing as the caller's, which the compiler then knows succeeds.
        rest.get(p.hdr_len..total)?;
        if caplen > p.limit || ts_frac >= p.frac_per_sec {
            return None;
        }
        Some(BufferedRecord {
            ts: Timestamp {
                secs: i64::from(ts_sec),
                nanos: ts_frac * p.nanos_per_frac,
                precision: p.precision,
            },
            orig_len,
            total,
        })
    }

    fn data(&self) -> &[u8] {
        self.bytes().get(self.start..self.end).unwrap_or(&[])
    }

    /// Makes at least `n` bytes (at most [`MAX_BLOCK_LEN`]) available from `start`, growing the
    /// buffer if it must. `Ok(false)` when the input ends first.
    #[inline]
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.avail() >= n {
            return Ok(true);
        }
        self.fill_more(n)
    }

    /// [`Input::fill`] when fewer than `n` bytes are available.
    #[inline(never)]
    fn fill_more(&mut self, n: usize) -> io::Result<bool> {
        let want = n.min(MAX_BLOCK_LEN);
        if self.ahead.is_some() {
            while self.avail() < want && !self.eof {
                self.take_chunk()?;
            }
            return Ok(self.avail() >= n);
        }
        let buf = Arc::make_mut(&mut self.shared);
        if self.start + want > buf.len() {
            buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if want > buf.len() {
                let new_len = (buf.len() * 2).clamp(want, MAX_BLOCK_LEN);
                buf.resize(new_len, 0);
            }
        }
        while self.avail() < want && !self.eof {
            self.read_more()?;
        }
        Ok(self.avail() >= n)
    }

    /// One `read` into the free space after `end` (which the callers make non-empty).
    fn read_more(&mut self) -> io::Result<()> {
        if self.ahead.is_some() {
            return self.take_chunk().map(|_| ());
        }
        let space = match Arc::make_mut(&mut self.shared).get_mut(self.end..) {
            Some(s) if !s.is_empty() => s,
            _ => return Ok(()),
        };
        let room = space.len();
        loop {
            match self.reader.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(k) => {
                    self.end += k.min(room);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.avail());
        self.start += n;
        self.pos += n as u64;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Drops `n` bytes of input, buffered or not; returns how many there were.
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let mut left = n;
        loop {
            let take = left.min(self.avail() as u64) as usize;
            self.consume(take);
            left -= take as u64;
            if left == 0 || self.eof {
                return Ok(n - left);
            }
            // The buffer is empty here (consume reset it): read the next chunk into it.
            self.read_more()?;
        }
    }
}

/// [`Input::lend`] from the fields it reads, so that a caller can write the others (`start`,
/// `end`, `pos`) while the lent bytes are borrowed.
#[inline(always)]
fn lend_parts<'a>(
    ahead: &Option<ReadAhead>,
    shared: &'a Arc<Vec<u8>>,
) -> (&'a [u8], Option<&'a Arc<Vec<u8>>>) {
    (shared, ahead.as_ref().map(|_| shared))
}

/// How the input is laid out, and what the records need from the header.
#[derive(Clone, Copy, Debug)]
struct PcapLayout {
    big_endian: bool,
    nanos: bool,
    /// Kuznetzov's modified pcap (magic 0xa1b2cd34): 24-byte record headers.
    modified: bool,
    link: LinkType,
    /// Record header length: 16, or 24 for the modified format.
    hdr_len: usize,
    /// Largest caplen accepted: a sane snapshot length (1..=[`MAX_CAPLEN`]), else
    /// [`MAX_CAPLEN`].
    limit: u32,
    /// Fraction units per second (10^6 or 10^9), and nanoseconds per unit (1000 or 1).
    frac_per_sec: u32,
    nanos_per_frac: u32,
    /// Timestamp precision: 9 or 6 digits.
    precision: u8,
}

impl PcapLayout {
    fn new(big_endian: bool, nanos: bool, modified: bool, snaplen: u32, link: LinkType) -> Self {
        PcapLayout {
            big_endian,
            nanos,
            modified,
            link,
            hdr_len: if modified { 24 } else { 16 },
            limit: if snaplen > 0 && snaplen <= MAX_CAPLEN {
                snaplen
            } else {
                MAX_CAPLEN
            },
            frac_per_sec: if nanos { 1_000_000_000 } else { 1_000_000 },
            nanos_per_frac: if nanos { 1 } else { 1_000 },
            precision: if nanos { 9 } else { 6 },
        }
    }
}

/// One pcapng interface: what its packets need.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Timestamp units per second (`if_tsresol`).
    units_per_sec: u64,
    precision: u8,
    /// `if_tsoffset`, seconds.
    offset_secs: i64,
}

impl Interface {
    fn timestamp(&self, high: u32, low: u32) -> Timestamp {
        let ticks = (u64::from(high) << 32) | u64::from(low);
        let units = self.units_per_sec.max(1);
        let whole = i64::try_from(ticks / units).unwrap_or(i64::MAX);
        let frac = ticks % units;
        let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(units)) as u32;
        Timestamp {
            secs: whole.saturating_add(self.offset_secs),
            nanos,
            precision: self.precision,
        }
    }
}

/// A pcap record header's four words (seconds, fraction, captured and original length),
/// read at once and byte-swapped together for a big-endian file.
#[inline(always)]
fn record_words(h: &[u8; 16], big_endian: bool) -> [u32; 4] {
    let le = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let w = [le(0), le(4), le(8), le(12)];
    if big_endian {
        w.map(u32::swap_bytes)
    } else {
        w
    }
}

/// A pcap record's timestamp: seconds, and micro- or nanoseconds (a fraction of a second or
/// more carries into the seconds, as some writers produce).
#[inline(always)]
fn pcap_timestamp(ts_sec: u32, ts_frac: u32, nanos: bool) -> Timestamp {
    let secs = i64::from(ts_sec);
    if nanos {
        if ts_frac < 1_000_000_000 {
            Timestamp {
                secs,
                nanos: ts_frac,
                precision: 9,
            }
        } else {
            Timestamp {
                secs: secs + i64::from(ts_frac / 1_000_000_000),
                nanos: ts_frac % 1_000_000_000,
                precision: 9,
            }
        }
    } else if ts_frac < 1_000_000 {
        Timestamp {
            secs,
            nanos: ts_frac * 1_000,
            precision: 6,
        }
    } else {
        Timestamp {
            secs: secs + i64::from(ts_frac / 1_000_000),
            nanos: (ts_frac % 1_000_000) * 1_000,
            precision: 6,
        }
    }
}

/// Units per second and decimal digits for an `if_tsresol` byte; `None` when out of range.
fn ts_resolution(tsresol: u8) -> Option<(u64, u8)> {
    let units = if tsresol & 0x80 == 0 {
        10u64.checked_pow(u32::from(tsresol))?
    } else {
        1u64.checked_shl(u32::from(tsresol & 0x7F))?
    };
    // Digits: the largest d <= 9 with 10^d <= units (Wireshark's precision rule).
    let mut digits = 0u8;
    let mut pow = 10u64;
    while digits < 9 && pow <= units {
        digits += 1;
        pow = pow.saturating_mul(10);
    }
    Some((units, digits))
}

#[derive(Debug)]
enum Layout {
    Pcap(PcapLayout),
    PcapNg {
        /// Byte order of the current section.
        big_endian: bool,
        /// Byte order of the first section (for [`FileSource::format_name`]).
        first_big_endian: Option<bool>,
        interfaces: Vec<Interface>,
    },
}

/// What [`FrameSource::next_frame_with_chunk`] returns.
type Lent<'a> = Result<Option<(RawFrame<'a>, Option<&'a Arc<Vec<u8>>>)>, CaptureError>;

/// A pcap record found whole in the buffer ([`Input::buffered_pcap_record`]).
struct BufferedRecord {
    ts: Timestamp,
    orig_len: u32,
    /// Header and captured bytes (the captured bytes start after the header).
    total: usize,
}

/// Where the frame to lend lies in the buffer, and what it says.
struct FrameMeta {
    number: u64,
    ts: Timestamp,
    link: LinkType,
    interface: u32,
    orig_len: u32,
    data_start: usize,
    caplen: usize,
}

/// Reads a pcap or pcapng stream, one frame at a time, in constant memory.
///
/// pcap: micro- and nanosecond magic, either byte order, and the modified (Kuznetzov) variant.
/// pcapng: several sections and interfaces, Enhanced, Simple and obsolete Packet Blocks,
/// `if_tsresol` and `if_tsoffset`; other blocks are skipped. A Simple Packet Block has no
/// timestamp: its frame has `ts` 0 with `precision` 0.
pub struct FileSource {
    input: Input,
    layout: Layout,
    /// Packet records numbered so far (bad ones too): the last frame number given.
    frames: u64,
    /// Bytes of the lent pcapng block, consumed at the start of the next call.
    pending: usize,
    done: bool,
    truncation: Option<Truncation>,
    counts: super::SourceCounts,
}

impl FileSource {
    /// Opens a file (`-` is stdin), read with read(2) as records are asked for.
    pub fn open(path: &Path) -> Result<FileSource, CaptureError> {
        if path == Path::new("-") {
            return FileSource::from_reader(Box::new(std::io::stdin()));
        }
        FileSource::from_reader(Box::new(std::fs::File::open(path)?))
    }

    /// Opens a file (`-` is stdin) read with read(2) on a thread of its own
    /// ([`super::ReadAhead`]): the kernel's copy out of the page cache then runs beside the
    /// thread that parses the records.
    pub fn open_read_ahead(path: &Path) -> Result<FileSource, CaptureError> {
        if path == Path::new("-") {
            return FileSource::from_read_ahead(ReadAhead::new(std::io::stdin())?);
        }
        let file = std::fs::File::open(path)?;
        FileSource::from_read_ahead(ReadAhead::new(file)?)
    }

    /// Reads what `ahead`'s thread reads, taking its chunks whole.
    pub fn from_read_ahead(ahead: ReadAhead) -> Result<FileSource, CaptureError> {
        FileSource::from_input(Input::read_ahead(ahead))
    }

    /// Reads from any byte stream. Reads the file header (pcap) or checks the first section
    /// header (pcapng); anything else is [`CaptureError::NotACapture`].
    pub fn from_reader(reader: Box<dyn Read + Send>) -> Result<FileSource, CaptureError> {
        FileSource::from_input(Input::new(reader))
    }

    fn from_input(mut input: Input) -> Result<FileSource, CaptureError> {
        input.fill(24)?;
        let head = input.data();
        let magic: [u8; 4] = match head.get(..4).and_then(|s| s.try_into().ok()) {
            Some(m) => m,
            None => {
                return Err(CaptureError::NotACapture {
                    first_bytes: head.to_vec(),
                })
            }
        };
        // (big_endian, nanos, modified) by the magic's bytes as stored.
        let pcap = match magic {
            [0xD4, 0xC3, 0xB2, 0xA1] => Some((false, false, false)),
            [0xA1, 0xB2, 0xC3, 0xD4] => Some((true, false, false)),
            [0x4D, 0x3C, 0xB2, 0xA1] => Some((false, true, false)),
            [0xA1, 0xB2, 0x3C, 0x4D] => Some((true, true, false)),
            [0x34, 0xCD, 0xB2, 0xA1] => Some((false, false, true)),
            [0xA1, 0xB2, 0xCD, 0x34] => Some((true, false, true)),
            _ => None,
        };
        let mut source = FileSource {
            input,
            layout: Layout::PcapNg {
                big_endian: false,
                first_big_endian: None,
                interfaces: Vec::new(),
            },
            frames: 0,
            pending: 0,
            done: false,
            truncation: None,
            counts: super::SourceCounts::default(),
        };
        if let Some((big_endian, nanos, modified)) = pcap {
            let head = source.input.data();
            if head.len() < 24 {
                source.layout = Layout::Pcap(PcapLayout::new(
                    big_endian,
                    nanos,
                    modified,
                    0,
                    LinkType::ETHERNET,
                ));
                source.cut_short(24);
                return Ok(source);
            }
            source.layout = Layout::Pcap(PcapLayout::new(
                big_endian,
                nanos,
                modified,
                read_u32(head, 16, big_endian),
                LinkType::from_pcap_network(read_u32(head, 20, big_endian)),
            ));
            source.input.consume(24);
            return Ok(source);
        }
        if magic == SHB_BYTES {
            let bom = source.input.data().get(8..12);
            match bom {
                None => {
                    source.cut_short(12);
                    return Ok(source);
                }
                Some(b) if b == BOM_BIG || b == BOM_LITTLE => {
                    let be = b == BOM_BIG;
                    source.layout = Layout::PcapNg {
                        big_endian: be,
                        first_big_endian: Some(be),
                        interfaces: Vec::new(),
                    };
                    return Ok(source);
                }
                Some(_) => {}
            }
        }
        let head = source.input.data();
        Err(CaptureError::NotACapture {
            first_bytes: head.get(..8).unwrap_or(head).to_vec(),
        })
    }

    /// The input's format as the corpus manifest names it: `pcap-le-usec`, `pcap-be-nsec`,
    /// `pcap-modified-le`, `pcapng-le`, `pcapng-be` (byte order of the first section).
    pub fn format_name(&self) -> &'static str {
        match &self.layout {
            Layout::Pcap(p) => match (p.modified, p.big_endian, p.nanos) {
                (true, false, _) => "pcap-modified-le",
                (true, true, _) => "pcap-modified-be",
                (false, false, false) => "pcap-le-usec",
                (false, false, true) => "pcap-le-nsec",
                (false, true, false) => "pcap-be-usec",
                (false, true, true) => "pcap-be-nsec",
            },
            Layout::PcapNg {
                first_big_endian, ..
            } => {
                if *first_big_endian == Some(true) {
                    "pcapng-be"
                } else {
                    "pcapng-le"
                }
            }
        }
    }

    /// Bytes of input consumed so far (the offset of the next record once the lent frame is
    /// released).
    pub fn offset(&self) -> u64 {
        self.input.pos + self.pending as u64
    }

    /// The input ended inside a record of `needed` bytes starting at the current position.
    fn cut_short(&mut self, needed: u64) {
        self.truncation = Some(Truncation {
            last_frame: self.frames,
            offset: self.input.pos,
            needed,
            had: self.input.avail() as u64,
        });
        self.done = true;
    }

    /// End of input where a record of `needed` bytes should start: clean if nothing is left.
    fn end_of_input(&mut self, needed: u64) -> Result<Option<FrameMeta>, CaptureError> {
        if self.input.avail() > 0 {
            self.cut_short(needed);
        }
        Ok(None)
    }

    fn next_pcap(&mut self, p: PcapLayout) -> Result<Option<FrameMeta>, CaptureError> {
        let hdr_len = p.hdr_len;
        let offset = self.input.pos;
        if !self.input.fill(hdr_len)? {
            return self.end_of_input(hdr_len as u64);
        }
        // The four words every record header starts with, read from one fixed-size copy.
        let Some(h) = self.input.data().first_chunk::<16>() else {
            return self.end_of_input(hdr_len as u64);
        };
        let [ts_sec, ts_frac, caplen, orig_len] = record_words(h, p.big_endian);
        let number = self.frames + 1;
        if caplen > MAX_CAPLEN {
            return Err(bad(
                number,
                offset,
                format!(
                    "pcap record: captured length {caplen} is larger than the \
                     {MAX_CAPLEN}-byte limit; the file is corrupt or out of sync"
                ),
                true,
            ));
        }
        if caplen > p.limit {
            // Larger than the file's snapshot length but sane: read it (tshark does), and
            // count it (the run's summary says how many).
            self.counts.over_snaplen += 1;
        }
        let total = hdr_len + caplen as usize;
        if !self.input.fill(total)? {
            return self.end_of_input(total as u64);
        }
        self.frames = number;
        let data_start = self.input.start + hdr_len;
        // Consumed now, as the fast path does: the bytes stay in place until the next call.
        self.input.consume(total);
        let ts = pcap_timestamp(ts_sec, ts_frac, p.nanos);
        Ok(Some(FrameMeta {
            number,
            ts,
            link: p.link,
            interface: 0,
            orig_len,
            data_start,
            caplen: caplen as usize,
        }))
    }

    /// Reads through a block too large to hold, checking its trailing length.
    /// `Ok(false)`: the input ended inside it (truncation recorded).
    fn skip_block(&mut self, block_len: u32, be: bool, frame: u64) -> Result<bool, CaptureError> {
        let offset = self.input.pos;
        let body = u64::from(block_len) - 4;
        let skipped = self.input.skip(body)?;
        let had = |input: &Input, extra: usize| skipped + extra.min(input.avail()) as u64;
        if skipped < body || !self.input.fill(4)? {
            self.truncation = Some(Truncation {
                last_frame: self.frames,
                offset,
                needed: u64::from(block_len),
                had: had(&self.input, 4),
            });
            self.done = true;
            return Ok(false);
        }
        let trailer = read_u32(self.input.data(), 0, be);
        self.input.consume(4);
        if trailer != block_len {
            return Err(bad(
                frame,
                offset,
                format!(
                    "pcapng block length is {block_len} at the start but {trailer} at the end; \
                     the block length is corrupt"
                ),
                true,
            ));
        }
        Ok(true)
    }

    fn next_pcapng(&mut self) -> Result<Option<FrameMeta>, CaptureError> {
        loop {
            let offset = self.input.pos;
            let next_number = self.frames + 1;
            if !self.input.fill(8)? {
                return self.end_of_input(8);
            }
            let is_shb = self.input.data().get(..4) == Some(&SHB_BYTES[..]);
            if is_shb {
                if !self.input.fill(12)? {
                    return self.end_of_input(12);
                }
                let bom = self.input.data().get(8..12).unwrap_or(&[]);
                let be = if bom == BOM_BIG {
                    true
                } else if bom == BOM_LITTLE {
                    false
                } else {
                    let reason = format!(
                        "pcapng section header: byte-order magic 0x{} is neither 1a2b3c4d nor \
                         4d3c2b1a",
                        hex(bom)
                    );
                    return Err(bad(next_number, offset, reason, true));
                };
                if let Layout::PcapNg {
                    big_endian,
                    first_big_endian,
                    interfaces,
                } = &mut self.layout
                {
                    *big_endian = be;
                    first_big_endian.get_or_insert(be);
                    interfaces.clear();
                }
            }
            let be = match &self.layout {
                Layout::PcapNg { big_endian, .. } => *big_endian,
                Layout::Pcap(_) => return Ok(None),
            };
            let d = self.input.data();
            let block_type = read_u32(d, 0, be);
            let block_len = read_u32(d, 4, be);
            let is_packet = matches!(block_type, EPB_TYPE | PB_TYPE | SPB_TYPE);
            if block_len < 12 || block_len % 4 != 0 {
                let reason = format!(
                    "pcapng block of type 0x{block_type:08x} has length {block_len} (a block \
                     length is at least 12 and a multiple of 4); the file is corrupt"
                );
                return Err(bad(next_number, offset, reason, true));
            }
            if block_len as usize > MAX_BLOCK_LEN {
                let reason = format!(
                    "pcapng block of type 0x{block_type:08x} has length {block_len}, more than \
                     the {MAX_BLOCK_LEN}-byte limit"
                );
                if matches!(block_type, SHB_TYPE | IDB_TYPE) {
                    return Err(bad(next_number, offset, reason, true));
                }
                if !self.skip_block(block_len, be, next_number)? {
                    return Ok(None);
                }
                if is_packet {
                    self.frames = next_number;
                    return Err(bad(next_number, offset, reason + "; skipped", false));
                }
                self.counts.other_blocks += 1;
                continue;
            }
            let blen = block_len as usize;
            if !self.input.fill(blen)? {
                return self.end_of_input(u64::from(block_len));
            }
            let d = self.input.data();
            let trailer = read_u32(d, blen - 4, be);
            if trailer != block_len {
                let reason = format!(
                    "pcapng block of type 0x{block_type:08x} has length {block_len} at the start \
                     but {trailer} at the end; the block length is corrupt"
                );
                return Err(bad(next_number, offset, reason, true));
            }
            let min_len = match block_type {
                SHB_TYPE => 28,
                IDB_TYPE => 20,
                EPB_TYPE | PB_TYPE => 32,
                SPB_TYPE => 16,
                _ => 12,
            };
            if block_len < min_len {
                let reason = format!(
                    "pcapng block of type 0x{block_type:08x} has length {block_len}, shorter than \
                     its {min_len}-byte header"
                );
                if matches!(block_type, SHB_TYPE | IDB_TYPE) {
                    return Err(bad(next_number, offset, reason, true));
                }
                self.input.consume(blen);
                if is_packet {
                    self.frames = next_number;
                    return Err(bad(next_number, offset, reason + "; skipped", false));
                }
                continue;
            }
            match block_type {
                SHB_TYPE => {
                    self.input.consume(blen);
                }
                IDB_TYPE => {
                    let result = self.read_idb(blen, be, next_number, offset);
                    self.input.consume(blen);
                    result?;
                }
                EPB_TYPE | PB_TYPE | SPB_TYPE => {
                    self.frames = next_number;
                    return self
                        .read_packet_block(block_type, blen, be, offset)
                        .map(Some);
                }
                _ => {
                    self.counts.other_blocks += 1;
                    self.input.consume(blen);
                }
            }
        }
    }

    /// Registers the interface described by the IDB at the start of the buffer.
    fn read_idb(
        &mut self,
        blen: usize,
        be: bool,
        next_number: u64,
        offset: u64,
    ) -> Result<(), CaptureError> {
        let d = self.input.data().get(..blen).unwrap_or(&[]);
        let link_type = read_u16(d, 8, be);
        let mut if_fcslen = 0u8;
        let snaplen = read_u32(d, 12, be);
        let mut tsresol: u8 = 6;
        let mut offset_secs: i64 = 0;
        let mut at = 16;
        let opts_end = blen.saturating_sub(4);
        while at + 4 <= opts_end {
            let code = read_u16(d, at, be);
            let len = usize::from(read_u16(d, at + 2, be));
            let value = d.get(at + 4..(at + 4 + len).min(opts_end)).unwrap_or(&[]);
            if code == OPT_END {
                break;
            }
            match code {
                OPT_IF_TSRESOL => {
                    if let Some(&b) = value.first() {
                        tsresol = b;
                    }
                }
                OPT_IF_TSOFFSET if value.len() >= 8 => {
                    offset_secs = read_u64(value, 0, be) as i64;
                }
                OPT_IF_FCSLEN => {
                    if let Some(&b) = value.first() {
                        if_fcslen = b;
                    }
                }
                _ => {}
            }
            at += 4 + ((len + 3) & !3);
        }
        let link = LinkType::from_pcapng_idb(link_type, if_fcslen);
        let (resolution, bad_tsresol) = match ts_resolution(tsresol) {
            Some(r) => (r, false),
            None => ((1_000_000, 6), true),
        };
        let Layout::PcapNg { interfaces, .. } = &mut self.layout else {
            return Ok(());
        };
        if interfaces.len() >= MAX_INTERFACES {
            let reason = format!(
                "pcapng interface description block: more than {MAX_INTERFACES} interfaces in \
                 one section; this one is ignored"
            );
            return Err(bad(next_number, offset, reason, false));
        }
        interfaces.push(Interface {
            link,
            snaplen,
            units_per_sec: resolution.0,
            precision: resolution.1,
            offset_secs,
        });
        if bad_tsresol {
            let reason = format!(
                "pcapng interface description block: if_tsresol 0x{tsresol:02x} is out of \
                 range; its timestamps are read as microseconds"
            );
            return Err(bad(next_number, offset, reason, false));
        }
        Ok(())
    }

    /// The EPB, PB or SPB of `blen` bytes at the start of the buffer, already numbered
    /// `self.frames`. Damaged packet blocks are consumed and reported (non-fatal).
    fn read_packet_block(
        &mut self,
        block_type: u32,
        blen: usize,
        be: bool,
        offset: u64,
    ) -> Result<FrameMeta, CaptureError> {
        let number = self.frames;
        let d = self.input.data().get(..blen).unwrap_or(&[]);
        let interfaces: &[Interface] = match &self.layout {
            Layout::PcapNg { interfaces, .. } => interfaces,
            Layout::Pcap(_) => &[],
        };
        let (if_id, ts_parts, caplen, orig_len, data_off, room) = if block_type == SPB_TYPE {
            let orig_len = read_u32(d, 8, be);
            let room = blen - 16;
            let mut caplen = (orig_len as usize).min(room);
            if let Some(iface) = interfaces.first() {
                if iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
            }
            (0u32, None, caplen, orig_len, 12usize, room)
        } else {
            let if_id = if block_type == PB_TYPE {
                u32::from(read_u16(d, 8, be))
            } else {
                read_u32(d, 8, be)
            };
            let ts = (read_u32(d, 12, be), read_u32(d, 16, be));
            let caplen = read_u32(d, 20, be) as usize;
            (if_id, Some(ts), caplen, read_u32(d, 24, be), 28, blen - 32)
        };
        let name = match block_type {
            EPB_TYPE => "enhanced packet block",
            PB_TYPE => "packet block",
            _ => "simple packet block",
        };
        let problem = if caplen > MAX_CAPLEN as usize {
            Some(format!(
                "pcapng {name}: captured length {caplen} is larger than the {MAX_CAPLEN}-byte \
                 limit; skipped"
            ))
        } else if caplen > room {
            Some(format!(
                "pcapng {name}: captured length {caplen} does not fit in the {blen}-byte block; \
                 skipped"
            ))
        } else if interfaces.len() <= if_id as usize {
            Some(format!(
                "pcapng {name}: interface {if_id} is not described in this section ({} \
                 interfaces); skipped",
                interfaces.len()
            ))
        } else {
            None
        };
        let iface = match (problem, interfaces.get(if_id as usize)) {
            (None, Some(iface)) => *iface,
            (problem, _) => {
                let reason = problem.unwrap_or_default();
                self.input.consume(blen);
                return Err(bad(number, offset, reason, false));
            }
        };
        let ts = match ts_parts {
            Some((high, low)) => iface.timestamp(high, low),
            None => Timestamp::default(),
        };
        self.pending = blen;
        Ok(FrameMeta {
            number,
            ts,
            link: iface.link,
            interface: if_id,
            orig_len,
            data_start: self.input.start + data_off,
            caplen,
        })
    }
}

impl FrameSource for FileSource {
    fn recycle_shared(&mut self, chunk: Arc<Vec<u8>>) {
        if let Some(ahead) = &self.input.ahead {
            ahead.recycle_shared(chunk);
        }
    }

    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError> {
        self.next_frame_with_chunk().map(|f| f.map(|(f, _)| f))
    }

    fn next_frame_with_chunk(
        &mut self,
    ) -> Result<Option<(RawFrame<'_>, Option<&Arc<Vec<u8>>>)>, CaptureError> {
        // pcap records are consumed as they are lent (`pending` is for pcapng blocks).
        if let (Layout::Pcap(p), false) = (&self.layout, self.done) {
            if let Some(rec) = self.input.buffered_pcap_record(p) {
                let Input {
                    ahead,
                    shared,
                    start,
                    end,
                    pos,
                    ..
                } = &mut self.input;
                // The bytes are taken before anything is written, as `buffered_pcap_record`
                // took them: the compiler reuses its loads and its bounds check.
                let (bytes, chunk) = lend_parts(ahead, shared);
                let rest = bytes.get(*start..*end).unwrap_or(&[]);
                let data = rest.get(p.hdr_len..rec.total).unwrap_or(&[]);
                // Consumed now: the bytes stay in place until the next call.
                *start += rec.total;
                *pos += rec.total as u64;
                if *start == *end {
                    *start = 0;
                    *end = 0;
                }
                self.frames += 1;
                let frame = RawFrame {
                    number: self.frames,
                    ts: rec.ts,
                    link: p.link,
                    interface: 0,
                    file: 0,
                    orig_len: rec.orig_len,
                    data,
                };
                return Ok(Some((frame, chunk)));
            }
        }
        self.next_frame_general()
    }

    fn truncation(&self) -> Option<&Truncation> {
        self.truncation.as_ref()
    }
    fn counts(&self) -> super::SourceCounts {
        self.counts
    }
}

impl FileSource {
    /// [`FrameSource::next_frame_with_chunk`] for every case (pcapng, a record not wholly
    /// in the buffer, any error), once the lent record was consumed.
    #[inline(never)]
    fn next_frame_general(&mut self) -> Lent<'_> {
        if self.pending > 0 {
            self.input.consume(self.pending);
            self.pending = 0;
        }
        if self.done {
            return Ok(None);
        }
        let result = match self.layout {
            Layout::Pcap(p) => self.next_pcap(p),
            Layout::PcapNg { .. } => self.next_pcapng(),
        };
        match result {
            Ok(Some(meta)) => {
                let end = meta.data_start + meta.caplen;
                let data = self.input.bytes().get(meta.data_start..end).unwrap_or(&[]);
                let chunk = self.input.ahead.as_ref().map(|_| &self.input.shared);
                let frame = RawFrame {
                    number: meta.number,
                    ts: meta.ts,
                    link: meta.link,
                    interface: meta.interface,
                    file: 0,
                    orig_len: meta.orig_len,
                    data,
                };
                Ok(Some((frame, chunk)))
            }
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                if e.is_fatal() {
                    self.done = true;
                }
                Err(e)
            }
        }
    }
}

fn bad(frame: u64, offset: u64, reason: String, fatal: bool) -> CaptureError {
    CaptureError::BadRecord {
        frame,
        offset,
        reason,
        fatal,
    }
}

fn read_u16(b: &[u8], at: usize, be: bool) -> u16 {
    match b.get(at..at + 2).and_then(|s| <[u8; 2]>::try_from(s).ok()) {
        Some(a) if be => u16::from_be_bytes(a),
        Some(a) => u16::from_le_bytes(a),
        None => 0,
    }
}

fn read_u32(b: &[u8], at: usize, be: bool) -> u32 {
    match b.get(at..at + 4).and_then(|s| <[u8; 4]>::try_from(s).ok()) {
        Some(a) if be => u32::from_be_bytes(a),
        Some(a) => u32::from_le_bytes(a),
        None => 0,
    }
}

fn read_u64(b: &[u8], at: usize, be: bool) -> u64 {
    match b.get(at..at + 8).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
        Some(a) if be => u64::from_be_bytes(a),
        Some(a) => u64::from_le_bytes(a),
        None => 0,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// One frame as the tests look at it.
    #[derive(Debug, PartialEq)]
    struct Seen {
        number: u64,
        secs: i64,
        nanos: u32,
        precision: u8,
        link: u32,
        interface: u32,
        orig_len: u32,
        data: Vec<u8>,
    }

    /// Frames, errors (in order) and the truncation, reading to the end.
    fn read_all_from(
        reader: Box<dyn Read + Send>,
    ) -> (Vec<Seen>, Vec<CaptureError>, Option<Truncation>) {
        read_source(FileSource::from_reader(reader).expect("opens"))
    }

    /// Frames, errors (in order) and the truncation of an open source, read to the end.
    fn read_source(src: FileSource) -> (Vec<Seen>, Vec<CaptureError>, Option<Truncation>) {
        read_source_by(src, false)
    }

    /// [`read_source`]; `general`: every record through [`FileSource::next_frame_general`]
    /// (never the short path for pcap records found whole in the buffer).
    fn read_source_by(
        mut src: FileSource,
        general: bool,
    ) -> (Vec<Seen>, Vec<CaptureError>, Option<Truncation>) {
        let mut frames = Vec::new();
        let mut errors = Vec::new();
        for _ in 0..10_000 {
            let next = if general {
                src.next_frame_general().map(|f| f.map(|(f, _)| f))
            } else {
                src.next_frame()
            };
            match next {
                Ok(Some(f)) => frames.push(Seen {
                    number: f.number,
                    secs: f.ts.secs,
                    nanos: f.ts.nanos,
                    precision: f.ts.precision,
                    link: f.link.0,
                    interface: f.interface,
                    orig_len: f.orig_len,
                    data: f.data.to_vec(),
                }),
                Ok(None) => break,
                Err(e) => {
                    let fatal = e.is_fatal();
                    errors.push(e);
                    if fatal {
                        break;
                    }
                }
            }
        }
        (frames, errors, src.truncation().cloned())
    }

    /// Reads `bytes` directly and also through [`super::super::ReadAhead`] (a reading
    /// thread); both must see the same frames, errors and truncation.
    fn read_all(bytes: &[u8]) -> (Vec<Seen>, Vec<CaptureError>, Option<Truncation>) {
        let direct = read_all_from(Box::new(Cursor::new(bytes.to_vec())));
        // Chunk sizes that cut records everywhere, heads too small for some records.
        for (chunk, head) in [
            (super::super::readahead::CHUNK, 64 * 1024),
            (7, 40),
            (100, 3),
        ] {
            let ahead = ReadAhead::with_sizes(Cursor::new(bytes.to_vec()), chunk, head).unwrap();
            let threaded = match FileSource::from_read_ahead(ahead) {
                Ok(src) => read_source(src),
                Err(e) => panic!("read-ahead failed to open what direct opened: {e}"),
            };
            let what = format!("read-ahead {chunk}/{head} vs direct");
            assert_eq!(threaded.0, direct.0, "frames: {what}");
            let text = |e: &[CaptureError]| e.iter().map(|e| e.to_string()).collect::<Vec<_>>();
            assert_eq!(text(&threaded.1), text(&direct.1), "errors: {what}");
            assert_eq!(threaded.2, direct.2, "truncation: {what}");
        }
        direct
    }

    /// A reader that hands out one byte per `read`, to exercise refills.
    struct Trickle(Cursor<Vec<u8>>);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1);
            self.0.read(&mut buf[..n])
        }
    }

    fn u16b(v: u16, be: bool) -> [u8; 2] {
        if be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u32b(v: u32, be: bool) -> [u8; 4] {
        if be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// pcap file header; `magic` is written in the file's byte order.
    fn pcap_header(magic: u32, be: bool, snaplen: u32, network: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(u32b(magic, be));
        v.extend(u16b(2, be));
        v.extend(u16b(4, be));
        v.extend([0; 8]);
        v.extend(u32b(snaplen, be));
        v.extend(u32b(network, be));
        v
    }

    fn pcap_record(
        be: bool,
        modified: bool,
        sec: u32,
        frac: u32,
        orig: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(u32b(sec, be));
        v.extend(u32b(frac, be));
        v.extend(u32b(data.len() as u32, be));
        v.extend(u32b(orig, be));
        if modified {
            v.extend([0; 8]); // ifindex, protocol, pkt_type, pad
        }
        v.extend(data);
        v
    }

    fn ng_block(be: bool, block_type: u32, body: &[u8]) -> Vec<u8> {
        let padded = (body.len() + 3) & !3;
        let len = (12 + padded) as u32;
        let mut v = Vec::new();
        v.extend(u32b(block_type, be));
        v.extend(u32b(len, be));
        v.extend(body);
        v.resize(8 + padded, 0);
        v.extend(u32b(len, be));
        v
    }

    fn shb(be: bool) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(u32b(0x1A2B_3C4D, be));
        body.extend(u16b(1, be));
        body.extend(u16b(0, be));
        body.extend([0xFF; 8]); // section length unknown
        ng_block(be, SHB_TYPE, &body)
    }

    fn idb(be: bool, link: u16, snaplen: u32, options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(u16b(link, be));
        body.extend(u16b(0, be));
        body.extend(u32b(snaplen, be));
        for (code, value) in options {
            body.extend(u16b(*code, be));
            body.extend(u16b(value.len() as u16, be));
            body.extend(*value);
            body.resize((body.len() + 3) & !3, 0);
        }
        if !options.is_empty() {
            body.extend([0; 4]);
        }
        ng_block(be, IDB_TYPE, &body)
    }

    fn epb(be: bool, if_id: u32, ticks: u64, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(u32b(if_id, be));
        body.extend(u32b((ticks >> 32) as u32, be));
        body.extend(u32b(ticks as u32, be));
        body.extend(u32b(data.len() as u32, be));
        body.extend(u32b(orig, be));
        body.extend(data);
        ng_block(be, EPB_TYPE, &body)
    }

    fn spb(be: bool, orig: u32, data: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend(u32b(orig, be));
        body.extend(data);
        ng_block(be, SPB_TYPE, &body)
    }

    fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    fn bad_record(e: &CaptureError) -> (u64, u64, &str, bool) {
        match e {
            CaptureError::BadRecord {
                frame,
                offset,
                reason,
                fatal,
            } => (*frame, *offset, reason.as_str(), *fatal),
            other => panic!("expected BadRecord, got {other:?}"),
        }
    }

    #[test]
    fn pcap_le_usec() {
        let bytes = concat(&[
            pcap_header(0xA1B2_C3D4, false, 65535, 1),
            pcap_record(false, false, 1_700_000_000, 123_456, 60, &[1, 2, 3, 4]),
            pcap_record(false, false, 1_700_000_001, 999_999, 3, &[9, 8, 7]),
        ]);
        let (frames, errors, trunc) = read_all(&bytes);
        assert!(errors.is_empty() && trunc.is_none());
        assert_eq!(
            frames[0],
            Seen {
                number: 1,
                secs: 1_700_000_000,
                nanos: 123_456_000,
                precision: 6,
                link: 1,
                interface: 0,
                orig_len: 60,
                data: vec![1, 2, 3, 4],
            }
        );
        assert_eq!((frames[1].number, frames[1].nanos), (2, 999_999_000));
        assert_eq!(frames.len(), 2);
        let src = FileSource::from_reader(Box::new(Cursor::new(bytes))).unwrap();
        assert_eq!(src.format_name(), "pcap-le-usec");
    }

    #[test]
    fn pcap_be_usec_and_both_nsec() {
        let be = concat(&[
            pcap_header(0xA1B2_C3D4, true, 65535, 253),
            pcap_record(true, false, 1_000, 500_000, 2, &[0xAA, 0xBB]),
        ]);
        let (frames, errors, _) = read_all(&be);
        assert!(errors.is_empty());
        assert_eq!((frames[0].secs, frames[0].nanos), (1_000, 500_000_000));
        assert_eq!((frames[0].link, frames[0].orig_len), (253, 2));
        assert_eq!(frames[0].data, vec![0xAA, 0xBB]);

        for big in [false, true] {
            let ns = concat(&[
                pcap_header(0xA1B2_3C4D, big, 65535, 101),
                pcap_record(big, false, 7, 123_456_789, 1, &[0x45]),
            ]);
            let (frames, errors, _) = read_all(&ns);
            assert!(errors.is_empty());
            assert_eq!(
                (
                    frames[0].secs,
                    frames[0].nanos,
                    frames[0].precision,
                    frames[0].link
                ),
                (7, 123_456_789, 9, 101)
            );
            let src = FileSource::from_reader(Box::new(Cursor::new(ns))).unwrap();
            assert_eq!(
                src.format_name(),
                if big { "pcap-be-nsec" } else { "pcap-le-nsec" }
            );
        }
    }

    #[test]
    fn pcap_modified_kuznetzov() {
        for big in [false, true] {
            let bytes = concat(&[
                pcap_header(0xA1B2_CD34, big, 262144, 1),
                pcap_record(big, true, 1_712_763_541, 734_807, 98, &[1, 2, 3]),
                pcap_record(big, true, 1_712_763_542, 1, 3, &[4, 5, 6]),
            ]);
            let (frames, errors, trunc) = read_all(&bytes);
            assert!(errors.is_empty() && trunc.is_none());
            assert_eq!(frames.len(), 2);
            assert_eq!(frames[0].data, vec![1, 2, 3]);
            assert_eq!(frames[1].data, vec![4, 5, 6]);
            assert_eq!((frames[0].nanos, frames[0].orig_len), (734_807_000, 98));
        }
    }

    #[test]
    fn pcap_usec_overflow_carries_into_seconds() {
        let bytes = concat(&[
            pcap_header(0xA1B2_C3D4, false, 65535, 1),
            pcap_record(false, false, 10, 2_500_000, 1, &[0]),
        ]);
        let (frames, _, _) = read_all(&bytes);
        assert_eq!((frames[0].secs, frames[0].nanos), (12, 500_000_000));
    }

    #[test]
    fn pcap_timestamp_fast_and_carrying_cases() {
        let t = |sec, frac, nanos| {
            let ts = pcap_timestamp(sec, frac, nanos);
            (ts.secs, ts.nanos, ts.precision)
        };
        assert_eq!(t(10, 999_999, false), (10, 999_999_000, 6));
        assert_eq!(t(10, 1_000_000, false), (11, 0, 6));
        assert_eq!(
            t(u32::MAX, u32::MAX, false),
            (4_294_971_589, 967_295_000, 6)
        );
        assert_eq!(t(10, 999_999_999, true), (10, 999_999_999, 9));
        assert_eq!(t(10, 3_000_000_001, true), (13, 1, 9));
    }

    #[test]
    fn pcap_trickled_one_byte_at_a_time() {
        let bytes = concat(&[
            pcap_header(0xA1B2_C3D4, false, 65535, 1),
            pcap_record(false, false, 1, 2, 5, &[1, 2, 3, 4, 5]),
            pcap_record(false, false, 3, 4, 2, &[6, 7]),
        ]);
        let (frames, errors, trunc) = read_all_from(Box::new(Trickle(Cursor::new(bytes))));
        assert!(errors.is_empty() && trunc.is_none());
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].data, vec![6, 7]);
    }

    #[test]
    fn pcap_big_record_grows_the_buffer() {
        let big: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
        let bytes = concat(&[
            pcap_header(0xA1B2_C3D4, false, 262144, 1),
            pcap_record(false, false, 1, 0, 200_000, &[1]),
            pcap_record(false, false, 1, 0, 200_000, &big),
            pcap_record(false, false, 1, 0, 200_000, &big),
        ]);
        let (frames, errors, trunc) = read_all(&bytes);
        assert!(errors.is_empty() && trunc.is_none());
        assert_eq!(frames.len(), 3);
        assert!(frames[1].data == big && frames[2].data == big);
    }

    #[test]
    fn pcap_cut_inside_a_record() {
        // Header (24) + record 1 (16 + 4 = 20, offset 24) + record 2 at offset 44 cut after
        // 16 + 3 of its 16 + 10 bytes.
        let mut bytes = concat(&[
            pcap_header(0xA1B2_C3D4, false, 65535, 1),
            pcap_record(false, false, 1, 0, 4, &[1, 2, 3, 4]),
            pcap_record(false, false, 2, 0, 10, &[0; 10]),
        ]);
        bytes.truncate(24 + 20 + 19);
        let (frames, errors, trunc) = read_all(&bytes);
        assert!(errors.is_empty());
        assert_eq!(frames.len(), 1);
        assert_eq!(
            trunc,
            Some(Truncation {
                last_frame: 1,
                offset: 44,
                needed: 26,
                had: 19
            })
        );
        // Cut inside the 16-byte record header.
        bytes.truncate(24 + 20 + 7);
        let (frames, _, trunc) = read_all(&bytes);
        assert_eq!(frames.len(), 1);
        let t = trunc.unwrap();
        assert_eq!((t.last_frame, t.offset, t.needed, t.had), (1, 44, 16, 7));
    }

    #[test]
    fn pcap_absurd_caplen_is_fatal() {
        let mut bytes = concat(&[
            pcap_header(0xA1B2_C3D4, false, 65535, 1),
            pcap_record(false, false, 1, 0, 1, &[1]),
        ]);
        // Record 2 at offset 41 claims 300000 captured bytes.
        bytes.extend(pcap_record(false, false, 2, 0, 1, &[2]));
        bytes[41 + 8..41 + 12].copy_from_slice(&300_000u32.to_le_bytes());
        let (frames, errors, _) = read_all(&bytes);
        assert_eq!(frames.len(), 1);
        let (frame, offset, reason, fatal) = bad_record(&errors[0]);
        assert_eq!((frame, offset, fatal), (2, 41, true));
        assert!(reason.contains("300000"), "{reason}");
    }

    /// A record longer than the file's snapshot length (but sane) is read, as tshark reads
    /// it, and counted; so are pcapng blocks other than packets (here a Name Resolution
    /// Block, an Interface Statistics Block and a custom block).
    #[test]
    fn records_over_the_snaplen_and_other_pcapng_blocks_are_read_and_counted() {
        let bytes = concat(&[
            pcap_header(0xA1B2_C3D4, false, 96, 1),
            pcap_record(false, false, 1, 0, 100, &[7; 100]),
            pcap_record(false, false, 2, 0, 50, &[8; 50]),
        ]);
        let (frames, errors, _) = read_all(&bytes);
        assert!(errors.is_empty());
        assert_eq!(frames.len(), 2);
        let mut src = FileSource::from_reader(Box::new(Cursor::new(bytes))).expect("opens");
        while src.next_frame().expect("reads").is_some() {}
        assert_eq!(src.counts().over_snaplen, 1);
        assert_eq!(src.counts().other_blocks, 0);

        let be = false;
        let bytes = concat(&[
            shb(be),
            idb(be, 1, 0, &[]),
            ng_block(be, 0x0000_0004, &[0, 0, 0, 0]),
            epb(be, 0, 1, 4, &[1, 2, 3, 4]),
            ng_block(be, 0x0000_0005, &[0; 12]),
            ng_block(be, 0x0000_0BAD, &[0x12, 0x34, 0x56, 0x78]),
            epb(be, 0, 2, 4, &[5, 6, 7, 8]),
        ]);
        let (frames, errors, _) = read_all(&bytes);
        assert!(errors.is_empty());
        assert_eq!(frames.len(), 2);
        let mut src = FileSource::from_reader(Box::new(Cursor::new(bytes))).expect("opens");
        while src.next_frame().expect("reads").is_some() {}
        assert_eq!(src.counts().other_blocks, 3);
        assert_eq!(src.counts().over_snaplen, 0);
    }

    /// Hands out at most `.1` bytes per `read`.
    struct Steps(Cursor<Vec<u8>>, usize);
    impl Read for Steps {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    /// The short path (a pcap record whole in the buffer) and the general one must agree on
    /// every record, wherever the reads and read-ahead chunks end: each file is read by the
    /// general path alone, then with reads of every size from 1 byte to the whole file, and
    /// through read-ahead chunks of every size (a head both smaller and larger than the
    /// records), so that every record boundary falls at every position of a buffer.
    #[test]
    fn pcap_short_and_general_paths_agree_at_every_boundary() {
        // (seconds, fraction, captured bytes): fractions at and past one second carry.
        let records: [(u32, u32, usize); 7] = [
            (1_700_000_000, 123_456, 4),
            (1_700_000_001, 999_999, 0),
            (1_700_000_002, 1_000_000, 17),
            (1_700_000_003, 2_500_000, 1),
            (1_700_000_004, 999_999_999, 40),
            (1_700_000_005, 1_000_000_000, 3),
            (7, 0, 9),
        ];
        // (magic, big-endian, modified, snaplen, cut short by, a last record longer than the
        // snapshot length: read all the same)
        let files: [(u32, bool, bool, u32, usize, bool); 7] = [
            (0xA1B2_C3D4, false, false, 65535, 0, false),
            (0xA1B2_3C4D, true, false, 0, 0, false),
            (0xA1B2_CD34, false, true, 65535, 3, false),
            (0xA1B2_CD34, true, true, 65535, 0, false),
            (0xA1B2_3C4D, false, false, 40, 0, true),
            (0xA1B2_C3D4, true, false, 65535, 20, false),
            (0xA1B2_C3D4, false, false, 65535, 8, false),
        ];
        for (magic, be, modified, snaplen, cut, over_snaplen) in files {
            let nanos = magic == 0xA1B2_3C4D;
            let mut bytes = pcap_header(magic, be, snaplen, 1);
            let mut want = Vec::new();
            for (i, &(sec, frac, len)) in records.iter().enumerate() {
                let data: Vec<u8> = (0..len).map(|b| (b * 7 + i) as u8).collect();
                bytes.extend(pcap_record(be, modified, sec, frac, len as u32 + 5, &data));
                let (per_sec, mult) = if nanos {
                    (1_000_000_000, 1)
                } else {
                    (1_000_000, 1_000)
                };
                want.push(Seen {
                    number: i as u64 + 1,
                    secs: i64::from(sec + frac / per_sec),
                    nanos: frac % per_sec * mult,
                    precision: if nanos { 9 } else { 6 },
                    link: 1,
                    interface: 0,
                    orig_len: len as u32 + 5,
                    data,
                });
            }
            if over_snaplen {
                bytes.extend(pcap_record(be, modified, 1, 0, 41, &[0; 41]));
                want.push(Seen {
                    number: records.len() as u64 + 1,
                    secs: 1,
                    nanos: 0,
                    precision: if nanos { 9 } else { 6 },
                    link: 1,
                    interface: 0,
                    orig_len: 41,
                    data: vec![0; 41],
                });
            }
            bytes.truncate(bytes.len() - cut);
            if cut > 0 {
                want.pop();
            }
            let what = format!("magic {magic:08x} be {be} modified {modified}");
            let open = |r: Box<dyn Read + Send>| FileSource::from_reader(r).expect("opens");
            let general = read_source_by(open(Box::new(Cursor::new(bytes.clone()))), true);
            assert_eq!(general.0, want, "general path: {what}");
            assert_eq!(general.2.is_some(), cut > 0, "{what}");
            if let Some(t) = &general.2 {
                let hdr = if modified { 24 } else { 16 };
                let last = records.len() - 1;
                assert_eq!(t.last_frame, last as u64, "{what}");
                // A cut header needs the header, a cut body the whole record.
                let whole = hdr + records[last].2;
                let needed = if whole - cut < hdr { hdr } else { whole };
                assert_eq!(t.needed, needed as u64, "{what}");
                assert_eq!(t.had, (whole - cut) as u64, "{what}");
            }
            let text = |e: &[CaptureError]| e.iter().map(|e| e.to_string()).collect::<Vec<_>>();
            assert!(general.1.is_empty(), "{what}");
            let same = |got: (Vec<Seen>, Vec<CaptureError>, Option<Truncation>), how: &str| {
                assert_eq!(got.0, general.0, "frames: {how}, {what}");
                assert_eq!(text(&got.1), text(&general.1), "errors: {how}, {what}");
                assert_eq!(got.2, general.2, "truncation: {how}, {what}");
            };
            for step in 1..=bytes.len() {
                let src = open(Box::new(Steps(Cursor::new(bytes.clone()), step)));
                same(read_source(src), &format!("reads of {step}"));
            }
            for head in [4, 64] {
                for chunk in 1..=bytes.len() {
                    let ahead =
                        ReadAhead::with_sizes(Cursor::new(bytes.clone()), chunk, head).unwrap();
                    let src = FileSource::from_read_ahead(ahead).expect("opens");
                    same(read_source(src), &format!("read-ahead {chunk}/{head}"));
                }
            }
        }
    }

    #[test]
    fn not_a_capture() {
        let check = |bytes: &[u8], want: &[u8]| match FileSource::from_reader(Box::new(
            Cursor::new(bytes.to_vec()),
        )) {
            Err(CaptureError::NotACapture { first_bytes }) => assert_eq!(first_bytes, want),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted {bytes:?}"),
        };
        check(&[], &[]);
        check(&[0xD4], &[0xD4]);
        let text = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        check(text, &text[..8]);
        // A "pcapng" section header with a wrong byte-order magic.
        check(
            &[0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0],
            &[0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0],
        );
        let err = FileSource::from_reader(Box::new(Cursor::new(text.to_vec())))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "not a pcap or pcapng file (starts with 0x474554202f204854)"
        );
    }

    #[test]
    fn header_only_and_short_header() {
        let (frames, errors, trunc) = read_all(&pcap_header(0xA1B2_C3D4, false, 65535, 1));
        assert!(frames.is_empty() && errors.is_empty() && trunc.is_none());
        let (frames, _, trunc) = read_all(&shb(false));
        assert!(frames.is_empty() && trunc.is_none());
        let short = &pcap_header(0xA1B2_C3D4, false, 65535, 1)[..10];
        let (frames, _, trunc) = read_all(short);
        assert!(frames.is_empty());
        assert_eq!(
            trunc,
            Some(Truncation {
                last_frame: 0,
                offset: 0,
                needed: 24,
                had: 10
            })
        );
    }

    #[test]
    fn pcapng_two_interfaces_two_link_types_nanoseconds() {
        let bytes = concat(&[
            shb(false),
            idb(false, 1, 0, &[(OPT_IF_TSRESOL, &[9])]),
            idb(false, 113, 0, &[]),
            epb(false, 0, 1_767_663_089_500_330_493, 96, &[1, 2, 3, 4, 5]),
            epb(false, 1, 1_767_663_437_111_897, 70, &[6, 7]),
        ]);
        let (frames, errors, trunc) = read_all(&bytes);
        assert!(errors.is_empty() && trunc.is_none(), "{errors:?}");
        assert_eq!(
            frames,
            vec![
                Seen {
                    number: 1,
                    secs: 1_767_663_089,
                    nanos: 500_330_493,
                    precision: 9,
                    link: 1,
                    interface: 0,
                    orig_len: 96,
                    data: vec![1, 2, 3, 4, 5],
                },
                Seen {
                    number: 2,
                    secs: 1_767_663_437,
                    nanos: 111_897_000,
                    precision: 6,
                    link: 113,
                    interface: 1,
                    orig_len: 70,
                    data: vec![6, 7],
                },
            ]
        );
    }

    #[test]
    fn pcapng_big_endian_power_of_two_resolution_and_offset() {
        // 2^-10 s ticks: 1536 ticks = 1.5 s; if_tsoffset 1000 s.
        let bytes = concat(&[
            shb(true),
            idb(
                true,
                1,
                0,
                &[
                    (OPT_IF_TSRESOL, &[0x8A]),
                    (OPT_IF_TSOFFSET, &1000u64.to_be_bytes()),
                ],
            ),
            epb(true, 0, 1536, 1, &[0x42]),
            epb(true, 0, 1537, 1, &[0x42]),
        ]);
        let (frames, errors, _) = read_all(&bytes);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            (frames[0].secs, frames[0].nanos, frames[0].precision),
            (1001, 500_000_000, 3)
        );
        // tshark 4.0 on the same bytes: 1001.500976562 (nanoseconds rounded down).
        assert_eq!((frames[1].secs, frames[1].nanos), (1001, 500_976_562));
        let src = FileSource::from_reader(Box::new(Cursor::new(bytes))).unwrap();
        assert_eq!(src.format_name(), "pcapng-be");
    }

    #[test]
    fn pcapng_sections_reset_interfaces_and_byte_order() {
        let bytes = concat(&[
            shb(false),
            idb(false, 1, 0, &[]),
            epb(false, 0, 1_000_000, 1, &[1]),
            shb(true),
            idb(true, 101, 0, &[(OPT_IF_TSRESOL, &[9])]),
            epb(true, 0, 2_000_000_000, 1, &[2]),
            // Interface 1 existed nowhere in this section.
            epb(true, 1, 0, 1, &[3]),
            epb(true, 0, 3_000_000_000, 1, &[4]),
        ]);
        let (frames, errors, _) = read_all(&bytes);
        let got: Vec<(u64, i64, u32)> = frames.iter().map(|f| (f.number, f.secs, f.link)).collect();
        assert_eq!(got, vec![(1, 1, 1), (2, 2, 101), (4, 3, 101)]);
        assert_eq!(errors.len(), 1);
        let (frame, _, reason, fatal) = bad_record(&errors[0]);
        assert_eq!((frame, fatal), (3, false));
        assert!(reason.contains("interface 1"), "{reason}");
    }

    #[test]
    fn pcapng_simple_packet_block() {
        // Snaplen 4 on interface 0: orig 10, 10 bytes stored, 4 captured.
        let bytes = concat(&[
            shb(false),
            idb(false, 1, 4, &[]),
            spb(false, 10, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
            spb(false, 3, &[7, 8, 9]),
        ]);
        let (frames, errors, _) = read_all(&bytes);
        assert!(errors.is_empty());
        assert_eq!(
            (frames[0].orig_len, frames[0].data.clone()),
            (10, vec![1, 2, 3, 4])
        );
        assert_eq!(
            (frames[1].orig_len, frames[1].data.clone()),
            (3, vec![7, 8, 9])
        );
        assert_eq!((frames[1].secs, frames[1].precision), (0, 0));
    }

    #[test]
    fn pcapng_obsolete_packet_block() {
        let mut body = Vec::new();
        body.extend(1u16.to_le_bytes()); // interface
        body.extend(0u16.to_le_bytes()); // drops
        body.extend(0u32.to_le_bytes());
        body.extend(5_000_001u32.to_le_bytes());
        body.extend(2u32.to_le_bytes());
        body.extend(64u32.to_le_bytes());
        body.extend([0xDE, 0xAD]);
        let bytes = concat(&[
            shb(false),
            idb(false, 1, 0, &[]),
            idb(false, 0, 0, &[]),
            ng_block(false, PB_TYPE, &body),
        ]);
        let (frames, errors, _) = read_all(&bytes);
        assert!(errors.is_empty());
        assert_eq!(
            (
                frames[0].interface,
                frames[0].link,
                frames[0].secs,
                frames[0].nanos
            ),
            (1, 0, 5, 1_000)
        );
        assert_eq!(
            (frames[0].orig_len, frames[0].data.clone()),
            (64, vec![0xDE, 0xAD])
        );
    }

    #[test]
    fn pcapng_unknown_blocks_are_skipped() {
        let bytes = concat(&[
            shb(false),
            ng_block(false, 0x0000_0BAD, &[1, 2, 3, 4, 5]),
            idb(false, 1, 0, &[]),
            ng_block(false, 0x0000_0005, &[0; 20]), // statistics
            epb(false, 0, 0, 1, &[1]),
            ng_block(false, 0x1234_5678, &[]),
            epb(false, 0, 0, 1, &[2]),
        ]);
        let (frames, errors, trunc) = read_all(&bytes);
        assert!(errors.is_empty() && trunc.is_none());
        let numbers: Vec<u64> = frames.iter().map(|f| f.number).collect();
        assert_eq!(numbers, vec![1, 2]);
        assert_eq!(frames[1].data, vec![2]);
    }

    #[test]
    fn pcapng_absurd_caplen_skips_the_block() {
        let head = concat(&[shb(false), idb(false, 1, 0, &[])]);
        let big = vec![0u8; 300_000];
        let bytes = concat(&[
            head.clone(),
            epb(false, 0, 0, 1, &[1]),
            epb(false, 0, 0, 300_000, &big),
            epb(false, 0, 0, 1, &[3]),
        ]);
        let (frames, errors, _) = read_all(&bytes);
        let numbers: Vec<u64> = frames.iter().map(|f| f.number).collect();
        assert_eq!(numbers, vec![1, 3]);
        let (frame, offset, reason, fatal) = bad_record(&errors[0]);
        assert_eq!((frame, offset, fatal), (2, head.len() as u64 + 36, false));
        assert!(reason.contains("300000"), "{reason}");

        // A caplen that does not fit in its block (block is 36 bytes, caplen says 1000).
        let mut lying = epb(false, 0, 0, 1, &[9]);
        lying[20..24].copy_from_slice(&1000u32.to_le_bytes());
        let bytes = concat(&[head, lying, epb(false, 0, 0, 1, &[4])]);
        let (frames, errors, _) = read_all(&bytes);
        assert_eq!(frames.len(), 1);
        assert_eq!((frames[0].number, frames[0].data.clone()), (2, vec![4]));
        assert!(bad_record(&errors[0]).2.contains("does not fit"));
    }

    #[test]
    fn pcapng_lying_block_length_is_fatal_and_clear() {
        let head = concat(&[shb(false), idb(false, 1, 0, &[])]);
        let mut e = epb(false, 0, 0, 4, &[1, 2, 3, 4]); // 36 bytes
        e[4..8].copy_from_slice(&40u32.to_le_bytes());
        let bytes = concat(&[head.clone(), e, epb(false, 0, 0, 1, &[5])]);
        let (frames, errors, _) = read_all(&bytes);
        assert!(frames.is_empty());
        let (frame, offset, reason, fatal) = bad_record(&errors[0]);
        assert_eq!((frame, offset, fatal), (1, head.len() as u64, true));
        assert!(reason.contains("length 40 at the start but"), "{reason}");

        // Not a multiple of 4.
        let mut e = epb(false, 0, 0, 4, &[1, 2, 3, 4]);
        e[4..8].copy_from_slice(&37u32.to_le_bytes());
        let (_, errors, _) = read_all(&concat(&[head.clone(), e]));
        assert!(bad_record(&errors[0]).3);

        // Huge (past the in-memory limit, past the end of the file): reported as cut short.
        let mut e = epb(false, 0, 0, 4, &[1, 2, 3, 4]);
        e[4..8].copy_from_slice(&0x4000_0000u32.to_le_bytes());
        let (frames, errors, trunc) = read_all(&concat(&[head.clone(), e]));
        assert!(frames.is_empty() && errors.is_empty());
        let t = trunc.unwrap();
        assert_eq!(
            (t.offset, t.needed, t.had),
            (head.len() as u64, 0x4000_0000, 36)
        );
    }

    #[test]
    fn pcapng_cut_inside_a_block() {
        let head = concat(&[shb(false), idb(false, 1, 0, &[])]);
        let first = epb(false, 0, 0, 1, &[1]);
        let mut bytes = concat(&[head.clone(), first.clone(), epb(false, 0, 0, 8, &[0; 8])]);
        bytes.truncate(bytes.len() - 5);
        let (frames, _, trunc) = read_all(&bytes);
        assert_eq!(frames.len(), 1);
        assert_eq!(
            trunc,
            Some(Truncation {
                last_frame: 1,
                offset: (head.len() + first.len()) as u64,
                needed: 40,
                had: 35
            })
        );
    }

    #[test]
    fn pcapng_trickled_one_byte_at_a_time() {
        let bytes = concat(&[
            shb(false),
            idb(false, 1, 0, &[(OPT_IF_TSRESOL, &[9])]),
            epb(false, 0, 5, 3, &[1, 2, 3]),
            spb(false, 2, &[4, 5]),
        ]);
        let (frames, errors, trunc) = read_all_from(Box::new(Trickle(Cursor::new(bytes))));
        assert!(errors.is_empty() && trunc.is_none());
        assert_eq!(frames.len(), 2);
        assert_eq!((frames[0].nanos, frames[1].data.clone()), (5, vec![4, 5]));
    }

    #[test]
    fn never_panics_on_mangled_inputs() {
        let good = concat(&[
            shb(false),
            idb(false, 1, 0, &[(OPT_IF_TSRESOL, &[9])]),
            epb(false, 0, 5, 3, &[1, 2, 3]),
            spb(false, 2, &[4, 5]),
            ng_block(false, PB_TYPE, &[1; 24]),
        ]);
        let pcap = concat(&[
            pcap_header(0xA1B2_CD34, false, 65535, 1),
            pcap_record(false, true, 1, 1, 3, &[1, 2, 3]),
        ]);
        for base in [good, pcap] {
            for i in 0..base.len() {
                for v in [0x00, 0xFF, 0x80, 0x7F, 0x03] {
                    let mut m = base.clone();
                    m[i] = v;
                    if let Ok(mut src) = FileSource::from_reader(Box::new(Cursor::new(m))) {
                        for _ in 0..64 {
                            match src.next_frame() {
                                Ok(Some(_)) => {}
                                Ok(None) => break,
                                Err(e) if e.is_fatal() => break,
                                Err(_) => {}
                            }
                        }
                    }
                }
                // Every prefix: a cut-short file, never a panic or a frame past the cut.
                if let Ok(mut src) =
                    FileSource::from_reader(Box::new(Cursor::new(base[..i].to_vec())))
                {
                    while let Ok(Some(f)) = src.next_frame() {
                        assert!(f.data.len() < i);
                    }
                }
            }
        }
    }

    /// Every capture of the shared corpus against tshark's frames.tsv: count, time (to the µs),
    /// orig_len and caplen, and truncation where tshark said the file was cut short.
    #[test]
    fn shared_corpus_matches_tshark_frames() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
        if !dir.join("MANIFEST.tsv").exists() {
            assert!(
                std::env::var("LAYERSCOPE_REQUIRE_SHARED").as_deref() != Ok("1"),
                "LAYERSCOPE_REQUIRE_SHARED=1 but {} is missing",
                dir.display()
            );
            println!("skipped: {} is missing", dir.display());
            return;
        }
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
        let mut rows = manifest.lines();
        let cols: Vec<&str> = rows.next().unwrap().split('\t').collect();
        let col = |name: &str| cols.iter().position(|c| *c == name).unwrap();
        let (file_col, errors_col) = (col("file"), col("tshark_read_errors"));
        let mut problems = Vec::new();
        let mut checked = 0;
        for row in rows {
            let fields: Vec<&str> = row.split('\t').collect();
            let name = fields[file_col];
            let cut_short = fields
                .get(errors_col)
                .is_some_and(|e| e.contains("cut short"));
            let oracle =
                std::fs::read_to_string(dir.join(format!("oracle/{name}.frames.tsv"))).unwrap();
            let want: Vec<Vec<&str>> = oracle
                .lines()
                .skip(1)
                .map(|l| l.split('\t').take(4).collect())
                .collect();
            let mut src = match FileSource::open(&dir.join(name)) {
                Ok(s) => s,
                Err(e) => {
                    problems.push(format!("{name}: open: {e}"));
                    continue;
                }
            };
            let mut n = 0usize;
            loop {
                let frame = match src.next_frame() {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => {
                        problems.push(format!("{name}: {e}"));
                        if e.is_fatal() {
                            break;
                        }
                        continue;
                    }
                };
                n += 1;
                let Some(w) = want.get(n - 1) else {
                    continue;
                };
                let number: u64 = w[0].parse().unwrap();
                let ts_ok = if w[1].is_empty() {
                    frame.ts.secs == 0 && frame.ts.nanos == 0 && frame.ts.precision == 0
                } else {
                    // Whole seconds and fraction apart: an f64 of 1.7e9 keeps only ~0.2 µs.
                    let (sec, frac) = w[1].split_once('.').unwrap_or((w[1], "0"));
                    let want_ns = sec.parse::<i128>().unwrap() * 1_000_000_000
                        + format!("{frac:0<9}")[..9].parse::<i128>().unwrap();
                    let got_ns =
                        i128::from(frame.ts.secs) * 1_000_000_000 + i128::from(frame.ts.nanos);
                    (got_ns - want_ns).abs() < 2_000
                };
                let lens = (frame.orig_len.to_string(), frame.data.len().to_string());
                if frame.number != number || !ts_ok || lens.0 != w[2] || lens.1 != w[3] {
                    problems.push(format!(
                        "{name} frame {}: got number {} ts {}.{:09} len {} caplen {}; \
                         tshark {:?}",
                        n, frame.number, frame.ts.secs, frame.ts.nanos, lens.0, lens.1, w
                    ));
                }
            }
            if n != want.len() {
                problems.push(format!("{name}: {n} frames, tshark {}", want.len()));
            }
            if cut_short != src.truncation().is_some() {
                problems.push(format!(
                    "{name}: truncation {:?}, tshark cut short: {cut_short}",
                    src.truncation()
                ));
            }
            checked += 1;
        }
        println!("checked {checked} captures against tshark");
        assert!(checked >= 60, "only {checked} captures in the manifest");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
