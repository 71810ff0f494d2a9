//! The capture reader over a whole file's bytes: every record read until the end or a
//! fatal error, non-fatal errors skipped as the binary does. The same bytes are also read
//! through the read-ahead thread with tiny chunks (records cut everywhere, some longer than
//! the chunk head), which must give the same frames, errors and truncation.
#![no_main]

use layerscope::capture::{FileSource, FrameSource, ReadAhead};
use libfuzzer_sys::fuzz_target;

/// (number, caplen, first byte) of every frame and the text of every error, to the end.
fn read_all(mut source: FileSource, budget: usize) -> (Vec<(u64, usize, u8)>, Vec<String>) {
    let _ = source.format_name();
    // A record is at least 16 bytes (pcap) or 12 (pcapng): more calls than that means a loop.
    let mut budget = budget;
    let (mut frames, mut errors) = (Vec::new(), Vec::new());
    loop {
        match source.next_frame() {
            Ok(Some(frame)) => {
                assert!(
                    frame.data.len() <= 256 * 1024,
                    "caplen past the reader's cap"
                );
                frames.push((
                    frame.number,
                    frame.data.len(),
                    frame.data.first().copied().unwrap_or(0),
                ));
            }
            Ok(None) => break,
            Err(e) if !e.is_fatal() => errors.push(e.to_string()),
            Err(e) => {
                errors.push(e.to_string());
                break;
            }
        }
        budget = budget.checked_sub(1).expect("reader does not advance");
    }
    errors.push(format!("{:?}", source.truncation()));
    (frames, errors)
}

fuzz_target!(|data: &[u8]| {
    let reader = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(source) = FileSource::from_reader(reader) else {
        return;
    };
    let direct = read_all(source, data.len() + 16);
    let ahead = ReadAhead::with_sizes(std::io::Cursor::new(data.to_vec()), 7, 24).unwrap();
    let source = FileSource::from_read_ahead(ahead).expect("read-ahead opens what direct opened");
    assert_eq!(
        read_all(source, data.len() + 16),
        direct,
        "read-ahead differs"
    );
});
