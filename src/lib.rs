//! # layerscope
//!
//! A packet inspector and protocol-layer annotator. Data flows one way through the stages,
//! each in its own module:
//!
//! ```text
//! capture ──RawFrame──▶ decode ──DecodedPacket──▶ flow ──PacketFlow + stream bytes──▶ app
//!  (own pcap/pcapng        (etherparse, OSI         (connections, TCP states,        (HTTP, DNS,
//!   reader, live)           labels, defrag)          reassembly, analysis, Zeek)      TLS, QUIC)
//!                                                        │                              │
//!                                                        ▼                              ▼
//!              render (tables, JSON Lines, ladder, explain, follow, teach) ◀── AppEvent
//! ```
//!
//! The library never prints and never exits; the `layerscope` binary parses flags, picks a
//! renderer and maps errors to exit codes.
//!
//! ```no_run
//! use layerscope::capture::{FileSource, FrameSource};
//! use layerscope::decode::Decoder;
//! let mut source = FileSource::open(std::path::Path::new("captures/http11-keepalive.pcap")).unwrap();
//! let mut decoder = Decoder::new();
//! while let Some(frame) = source.next_frame().unwrap() {
//!     let packet = decoder.decode(&frame);
//!     let names: Vec<&str> = packet.layers.iter().map(|l| l.name.as_str()).collect();
//!     let _ = names; // e.g. ["eth", "ipv4", "tcp", "http"]
//! }
//! ```
#![forbid(unsafe_code)]

/// Test support: says that (part of) a test was skipped, on the real stderr, past the test
/// harness's capture, so `cargo test` shows it even when the test passes.
#[cfg(test)]
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIPPED {}", format_args!($($arg)*));
    }};
}

pub mod app;
pub mod capture;
pub mod decode;
pub mod filter;
pub mod flow;
pub mod pipeline;
pub mod render;
pub mod wire;

/// Test support: `../shared/captures` when it is there. Without it a test skips with a
/// visible message, unless `LAYERSCOPE_REQUIRE_SHARED=1` (CI), which fails it.
#[cfg(test)]
pub(crate) fn shared_captures_dir() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("LAYERSCOPE_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "LAYERSCOPE_REQUIRE_SHARED=1 but {} is missing",
            dir.display()
        );
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    skipped!(
        "(the shared-corpus part of {test}): {} is missing; LAYERSCOPE_REQUIRE_SHARED=1 fails instead",
        dir.display()
    );
    None
}
