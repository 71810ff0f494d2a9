//! Capture sources: files (pcap, pcapng; layerscope's own reader in `file.rs`, no library
//! needed) and live interfaces (AF_PACKET through pnet; libpcap with the `libpcap` feature).
//!
//! A source lends one [`RawFrame`] at a time, borrowed from its own reused buffer: the frame
//! is valid until the next call to [`FrameSource::next_frame`].

mod file;
#[cfg(target_os = "linux")]
mod interfaces;
#[cfg(feature = "libpcap")]
mod libpcap;
mod linktype;
mod live;
mod merge;
#[cfg(target_os = "linux")]
mod privileges;
mod readahead;
mod writer;

pub use file::FileSource;
#[cfg(target_os = "linux")]
pub use interfaces::{
    capture_permitted, has_cap_net_raw, interface_names, list_interfaces, parse_cap_eff,
    InterfaceAddress, InterfaceInfo,
};
#[cfg(feature = "libpcap")]
pub use libpcap::PcapSource;
pub use linktype::LinkType;
#[cfg(target_os = "linux")]
pub use live::LiveSource;
pub use live::{live_error, LiveError, LiveOptions, LiveStats, StopReason, DEFAULT_SNAPLEN};
pub use merge::{capture_files_in, MergedSource};
#[cfg(target_os = "linux")]
pub use privileges::{drop_privileges, DEFAULT_UNPRIVILEGED_USER};
pub use readahead::ReadAhead;
pub use writer::{PcapWriter, TeeSource};

use std::fmt;

/// A capture timestamp: seconds and nanoseconds since the Unix epoch, plus the precision the
/// source recorded it with (6 = microseconds, 9 = nanoseconds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
    /// Decimal digits of the source's resolution (6 for µs, 9 for ns, …).
    pub precision: u8,
}

impl Timestamp {
    /// Whole seconds since the epoch, at microsecond precision (a classic pcap's).
    pub const fn from_secs(secs: i64) -> Timestamp {
        Timestamp {
            secs,
            nanos: 0,
            precision: 6,
        }
    }

    pub fn as_f64(&self) -> f64 {
        self.secs as f64 + self.nanos as f64 / 1e9
    }
    /// Signed difference `self - earlier` in nanoseconds.
    pub fn nanos_since(&self, earlier: &Timestamp) -> i128 {
        (self.secs as i128 - earlier.secs as i128) * 1_000_000_000 + self.nanos as i128
            - earlier.nanos as i128
    }
    /// [`Timestamp::nanos_since`] in an i64 (±292 years; cheaper on the per-packet path),
    /// `None` when it does not fit.
    #[inline]
    pub fn nanos_since_i64(&self, earlier: &Timestamp) -> Option<i64> {
        self.secs
            .checked_sub(earlier.secs)?
            .checked_mul(1_000_000_000)?
            .checked_add(i64::from(self.nanos) - i64::from(earlier.nanos))
    }
}

/// One captured frame, borrowed from the source's buffer.
#[derive(Clone, Copy, Debug)]
pub struct RawFrame<'a> {
    /// 1-based record index over the whole input (tshark's `frame.number`).
    pub number: u64,
    pub ts: Timestamp,
    pub link: LinkType,
    /// pcapng interface id (0 for pcap and live).
    pub interface: u32,
    /// Which input file the frame came from: its index in the names given when several
    /// files are read as one capture ([`MergedSource`]), else 0.
    pub file: u32,
    /// Length on the wire.
    pub orig_len: u32,
    /// Captured bytes (`data.len()` is the caplen).
    pub data: &'a [u8],
}

/// What stopped or damaged reading, with where it happened.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The input does not start like a pcap or pcapng file.
    #[error("not a pcap or pcapng file (starts with {})", hex_prefix(.first_bytes))]
    NotACapture { first_bytes: Vec<u8> },
    /// An I/O error (missing file, permission, read failure).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A record that cannot be read; `fatal` says whether reading can go on past it.
    #[error("packet {frame} at byte offset {offset}: {reason}")]
    BadRecord {
        frame: u64,
        offset: u64,
        reason: String,
        fatal: bool,
    },
}

impl CaptureError {
    /// Whether the source can go on after this error.
    pub fn is_fatal(&self) -> bool {
        match self {
            CaptureError::BadRecord { fatal, .. } => *fatal,
            _ => true,
        }
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing: the input is empty".to_string();
    }
    let mut s = String::from("0x");
    for b in bytes.iter().take(8) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The input ended inside a record: where, and after which complete frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Number of the last complete frame (0 when none).
    pub last_frame: u64,
    /// Byte offset in the input where the incomplete record starts.
    pub offset: u64,
    /// Bytes the record needed, and bytes that were there.
    pub needed: u64,
    pub had: u64,
}

impl fmt::Display for Truncation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the input ends inside a record after packet {} (byte offset {}: needed {} bytes, had {})",
            self.last_frame, self.offset, self.needed, self.had
        )
    }
}

/// A source of frames: a capture file, stdin, or a live interface.
/// What a source read besides packets, or read leniently, counted for the run's summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceCounts {
    /// pcap records whose captured length is larger than the file header's snapshot length:
    /// read all the same (as tshark does), and counted.
    pub over_snaplen: u64,
    /// pcapng blocks that are neither packets nor section or interface headers (name
    /// resolution, interface statistics, decryption secrets, custom blocks …): read past,
    /// and counted.
    pub other_blocks: u64,
}

impl SourceCounts {
    pub fn add(&mut self, other: SourceCounts) {
        self.over_snaplen += other.over_snaplen;
        self.other_blocks += other.other_blocks;
    }
}

pub trait FrameSource: Send {
    /// The next frame, `Ok(None)` at the end of input. After a non-fatal error the caller
    /// may call again to continue with the following record.
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError>;
    /// Set when the input ended inside a record (cut-short file).
    fn truncation(&self) -> Option<&Truncation> {
        None
    }
    /// What was read besides packets, or leniently (see [`SourceCounts`]).
    fn counts(&self) -> SourceCounts {
        SourceCounts::default()
    }
    /// [`FrameSource::next_frame`], with the shared buffer the frame's bytes lie in when
    /// the source reads into buffers it can share (the two-thread pipeline then passes
    /// frame and stream bytes inside it on by reference instead of copying them).
    #[allow(clippy::type_complexity)]
    fn next_frame_with_chunk(
        &mut self,
    ) -> Result<Option<(RawFrame<'_>, Option<&std::sync::Arc<Vec<u8>>>)>, CaptureError> {
        self.next_frame().map(|f| f.map(|f| (f, None)))
    }
    /// Gives back a share of a buffer from [`FrameSource::shared_chunk`] once used.
    fn recycle_shared(&mut self, _chunk: std::sync::Arc<Vec<u8>>) {}
}
