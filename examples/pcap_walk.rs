//! The benchmark floors (`bench/run.sh` compares everything to them):
//! - `pcap_walk FILE`: only walks the capture with `FileSource` (no decoding);
//! - `pcap_walk --decode FILE`: plus etherparse's lax slicing of every frame;
//! - `pcap_walk --flows FILE`: plus a count per TCP/UDP 4-tuple in an Fx hash map (the
//!   "hash-map floor": the least any flow tracker must do).
//! - `--pcap-parser` with any of them: read the records with pcap-parser's `LegacyPcapReader`
//!   (64 KiB buffer, pcap only) instead of our `FileSource`: the floor exactly as issue #7
//!   defines it ("a pcap-parser walk … plus etherparse … plus a 4-tuple hash map"). Ours is
//!   the stricter one (our reader is faster).
//!
//! Prints the frame count, captured bytes and (with --flows) the number of 4-tuples.
use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use layerscope::capture::{FileSource, FrameSource};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError};
use rustc_hash::FxHashMap;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Walk,
    Decode,
    Flows,
}

fn main() {
    let mut mode = Mode::Walk;
    let mut path = None;
    let mut with_pcap_parser = false;
    for arg in std::env::args_os().skip(1) {
        match arg.to_str() {
            Some("--decode") => mode = Mode::Decode,
            Some("--flows") => mode = Mode::Flows,
            Some("--pcap-parser") => with_pcap_parser = true,
            _ => path = Some(arg),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: pcap_walk [--decode|--flows] [--pcap-parser] FILE");
        std::process::exit(2);
    };
    let (mut frames, mut bytes, mut decoded) = (0u64, 0u64, 0u64);
    let mut flows: FxHashMap<([u8; 16], [u8; 16], u16, u16), u64> = FxHashMap::default();
    let mut on_frame = |data: &[u8]| {
        frames += 1;
        bytes += data.len() as u64;
        if mode == Mode::Walk {
            return;
        }
        let Ok(p) = LaxSlicedPacket::from_ethernet(data) else {
            return;
        };
        decoded += 1;
        if mode != Mode::Flows {
            return;
        }
        let (mut src, mut dst) = ([0u8; 16], [0u8; 16]);
        match &p.net {
            Some(LaxNetSlice::Ipv4(ip)) => {
                src[..4].copy_from_slice(&ip.header().source());
                dst[..4].copy_from_slice(&ip.header().destination());
            }
            Some(LaxNetSlice::Ipv6(ip)) => {
                src = ip.header().source();
                dst = ip.header().destination();
            }
            _ => return,
        }
        let (sp, dp) = match &p.transport {
            Some(TransportSlice::Tcp(t)) => (t.source_port(), t.destination_port()),
            Some(TransportSlice::Udp(u)) => (u.source_port(), u.destination_port()),
            _ => return,
        };
        // Canonical order: both directions count in one entry.
        let key = if (src, sp) <= (dst, dp) {
            (src, dst, sp, dp)
        } else {
            (dst, src, dp, sp)
        };
        *flows.entry(key).or_default() += 1;
    };
    if with_pcap_parser {
        let file = or_exit(std::fs::File::open(&path), 1);
        let mut reader = or_exit(
            LegacyPcapReader::new(65536, file).map_err(|e| format!("{e:?}")),
            2,
        );
        loop {
            match reader.next() {
                Ok((offset, block)) => {
                    if let PcapBlockOwned::Legacy(b) = block {
                        on_frame(b.data);
                    }
                    reader.consume(offset);
                }
                Err(PcapError::Eof) => break,
                Err(PcapError::Incomplete(_)) => {
                    if let Err(e) = reader.refill() {
                        eprintln!("pcap_walk: {e:?}");
                        break;
                    }
                }
                Err(e) => {
                    eprintln!("pcap_walk: {e:?}");
                    break;
                }
            }
        }
    } else {
        let mut source = or_exit(FileSource::open(std::path::Path::new(&path)), 1);
        loop {
            match source.next_frame() {
                Ok(Some(frame)) => on_frame(frame.data),
                Ok(None) => break,
                Err(e) if !e.is_fatal() => continue,
                Err(e) => {
                    eprintln!("pcap_walk: {e}");
                    break;
                }
            }
        }
    }
    match mode {
        Mode::Walk => println!("{frames} frames, {bytes} bytes"),
        Mode::Decode => println!("{frames} frames, {bytes} bytes, {decoded} decoded"),
        Mode::Flows => println!(
            "{frames} frames, {bytes} bytes, {decoded} decoded, {} 4-tuples",
            flows.len()
        ),
    }
}

/// The value, or the error on stderr and exit with `code`.
fn or_exit<T, E: std::fmt::Display>(r: Result<T, E>, code: i32) -> T {
    r.unwrap_or_else(|e| {
        eprintln!("pcap_walk: {e}");
        std::process::exit(code)
    })
}
