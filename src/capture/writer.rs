//! Writes frames as a classic pcap file (microsecond or nanosecond timestamps), for
//! `live -w FILE`.

use super::{CaptureError, FrameSource, LinkType, RawFrame, Truncation};
use std::io::{self, Write};

/// A pcap writer: global header on creation, one record per frame.
pub struct PcapWriter<W: Write> {
    out: W,
    nanos: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header (nanosecond magic when `nanos`).
    pub fn new(mut out: W, link: LinkType, snaplen: u32, nanos: bool) -> io::Result<Self> {
        let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        out.write_all(&magic.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&snaplen.to_le_bytes())?;
        out.write_all(&link.0.to_le_bytes())?;
        Ok(PcapWriter { out, nanos })
    }

    /// Appends one record.
    pub fn write(&mut self, frame: &RawFrame<'_>) -> io::Result<()> {
        let secs = u32::try_from(frame.ts.secs.max(0)).unwrap_or(u32::MAX);
        let frac = if self.nanos {
            frame.ts.nanos
        } else {
            frame.ts.nanos / 1000
        };
        let caplen = u32::try_from(frame.data.len()).unwrap_or(u32::MAX);
        self.out.write_all(&secs.to_le_bytes())?;
        self.out.write_all(&frac.to_le_bytes())?;
        self.out.write_all(&caplen.to_le_bytes())?;
        self.out
            .write_all(&frame.orig_len.max(caplen).to_le_bytes())?;
        self.out.write_all(frame.data)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A source that also writes every frame it lends to a pcap file.
pub struct TeeSource<'s, W: Write + Send> {
    pub inner: &'s mut dyn FrameSource,
    pub writer: PcapWriter<W>,
}

impl<W: Write + Send> FrameSource for TeeSource<'_, W> {
    fn next_frame(&mut self) -> Result<Option<RawFrame<'_>>, CaptureError> {
        let frame = self.inner.next_frame()?;
        match frame {
            Some(f) => {
                self.writer.write(&f)?;
                Ok(Some(f))
            }
            None => {
                self.writer.flush()?;
                Ok(None)
            }
        }
    }
    fn truncation(&self) -> Option<&Truncation> {
        self.inner.truncation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{FileSource, Timestamp};

    #[test]
    fn written_pcap_reads_back() {
        let mut buf = Vec::new();
        let mut w = PcapWriter::new(&mut buf, LinkType::ETHERNET, 65535, false).unwrap();
        let data = [0xaau8; 60];
        let frame = RawFrame {
            number: 1,
            ts: Timestamp {
                secs: 1_700_000_000,
                nanos: 123_456_000,
                precision: 6,
            },
            link: LinkType::ETHERNET,
            interface: 0,
            file: 0,
            orig_len: 64,
            data: &data,
        };
        w.write(&frame).unwrap();
        w.flush().unwrap();
        assert_eq!(buf.len(), 24 + 16 + 60);
        let mut src = FileSource::from_reader(Box::new(std::io::Cursor::new(buf))).unwrap();
        let back = src.next_frame().unwrap().unwrap();
        assert_eq!(back.ts.secs, 1_700_000_000);
        assert_eq!(back.ts.nanos, 123_456_000);
        assert_eq!(back.orig_len, 64);
        assert_eq!(back.data, &data[..]);
        assert_eq!(back.link, LinkType::ETHERNET);
    }
}
