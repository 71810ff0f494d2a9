//! The capture reader over a whole file's bytes: every record read until the end or a
//! fatal error, non-fatal errors skipped as the binary does.
#![no_main]

use layerscope::capture::{FileSource, FrameSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reader = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(mut source) = FileSource::from_reader(reader) else {
        return;
    };
    let _ = source.format_name();
    // A record is at least 16 bytes (pcap) or 12 (pcapng): more calls than that means a loop.
    let mut budget = data.len() + 16;
    loop {
        match source.next_frame() {
            Ok(Some(frame)) => {
                assert!(
                    frame.data.len() <= 256 * 1024,
                    "caplen past the reader's cap"
                );
            }
            Ok(None) => break,
            Err(e) if !e.is_fatal() => {}
            Err(_) => break,
        }
        budget = budget.checked_sub(1).expect("reader does not advance");
    }
    let _ = source.truncation();
});
