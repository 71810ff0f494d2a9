//! The benchmark floors (`bench/run.sh` compares everything to them):
//! - `pcap_walk FILE`: only walks the capture with `FileSource` (no decoding);
//! - `pcap_walk --decode FILE`: plus etherparse's lax slicing of every frame;
//! - `pcap_walk --flows FILE`: plus a count per TCP/UDP 4-tuple in an Fx hash map (the
//!   "hash-map floor": the least any flow tracker must do).
//!
//! Prints the frame count, captured bytes and (with --flows) the number of 4-tuples.
use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};
use layerscope::capture::{FileSource, FrameSource};
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
    for arg in std::env::args_os().skip(1) {
        match arg.to_str() {
            Some("--decode") => mode = Mode::Decode,
            Some("--flows") => mode = Mode::Flows,
            _ => path = Some(arg),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: pcap_walk [--decode|--flows] FILE");
        std::process::exit(2);
    };
    let mut source = match FileSource::open(std::path::Path::new(&path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pcap_walk: {e}");
            std::process::exit(1);
        }
    };
    let (mut frames, mut bytes, mut decoded) = (0u64, 0u64, 0u64);
    let mut flows: FxHashMap<([u8; 16], [u8; 16], u16, u16), u64> = FxHashMap::default();
    loop {
        match source.next_frame() {
            Ok(Some(frame)) => {
                frames += 1;
                bytes += frame.data.len() as u64;
                if mode == Mode::Walk {
                    continue;
                }
                let Ok(p) = LaxSlicedPacket::from_ethernet(frame.data) else {
                    continue;
                };
                decoded += 1;
                if mode != Mode::Flows {
                    continue;
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
                    _ => continue,
                }
                let (sp, dp) = match &p.transport {
                    Some(TransportSlice::Tcp(t)) => (t.source_port(), t.destination_port()),
                    Some(TransportSlice::Udp(u)) => (u.source_port(), u.destination_port()),
                    _ => continue,
                };
                // Canonical order: both directions count in one entry.
                let key = if (src, sp) <= (dst, dp) {
                    (src, dst, sp, dp)
                } else {
                    (dst, src, dp, sp)
                };
                *flows.entry(key).or_default() += 1;
            }
            Ok(None) => break,
            Err(e) if !e.is_fatal() => continue,
            Err(e) => {
                eprintln!("pcap_walk: {e}");
                break;
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
