//! The benchmark floor: only walks a capture file with `FileSource` (no decoding), and
//! prints the frame count and captured bytes. `bench/run.sh` compares everything to this.
use layerscope::capture::{FileSource, FrameSource};

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: pcap_walk FILE");
        std::process::exit(2);
    };
    let mut source = match FileSource::open(std::path::Path::new(&path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pcap_walk: {e}");
            std::process::exit(1);
        }
    };
    let (mut frames, mut bytes) = (0u64, 0u64);
    loop {
        match source.next_frame() {
            Ok(Some(frame)) => {
                frames += 1;
                bytes += frame.data.len() as u64;
            }
            Ok(None) => break,
            Err(e) if !e.is_fatal() => continue,
            Err(e) => {
                eprintln!("pcap_walk: {e}");
                break;
            }
        }
    }
    println!("{frames} frames, {bytes} bytes");
}
