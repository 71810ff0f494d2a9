//! pcap and pcapng files (and stdin), read with pcap-parser in constant memory.

use super::{CaptureError, FrameSource, RawFrame, Truncation};
use std::io::Read;
use std::path::Path;

/// Reads a pcap or pcapng stream. SKELETON: the capture helper implements it.
pub struct FileSource {
    _reader: Box<dyn Read>,
    truncation: Option<Truncation>,
}

impl FileSource {
    /// Opens a file (`-` is stdin).
    pub fn open(path: &Path) -> Result<FileSource, CaptureError> {
        let reader: Box<dyn Read> = if path == Path::new("-") {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(path)?)
        };
        FileSource::from_reader(reader)
    }

    /// Reads from any byte stream.
    pub fn from_reader(reader: Box<dyn Read>) -> Result<FileSource, CaptureError> {
        Ok(FileSource {
            _reader: reader,
            truncation: None,
        })
    }
}

impl FrameSource for FileSource {
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError> {
        Ok(None)
    }
    fn truncation(&self) -> Option<&Truncation> {
        self.truncation.as_ref()
    }
}
