//! Reading a file on a thread of its own: the two-thread pipeline's front then parses
//! records while this thread waits in read(2) (the kernel's page-cache copy, a large part
//! of reading a file that is already cached, happens off the front thread).
//!
//! Chunks are handed over whole, not copied: each is read after `head` free bytes, where
//! the reader of the records puts the start of a record cut by the previous chunk's end
//! ([`crate::capture::FileSource::open_read_ahead`]).

use std::io::{self, Read};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Bytes read at once.
pub const CHUNK: usize = 512 * 1024;
/// Free bytes before each chunk's data.
pub const HEAD: usize = 64 * 1024;
/// Chunks read ahead of the consumer.
const AHEAD: usize = 4;

/// A thread that reads the underlying reader in chunks ahead of time. Memory: at most
/// `AHEAD + 3` buffers of `head + chunk` bytes.
pub struct ReadAhead {
    chunks: Option<mpsc::Receiver<io::Result<Vec<u8>>>>,
    spare: mpsc::Sender<Arc<Vec<u8>>>,
    head: usize,
    done: bool,
    thread: Option<JoinHandle<()>>,
}

impl ReadAhead {
    /// Starts the reading thread ([`CHUNK`] bytes a read, [`HEAD`] free bytes before).
    pub fn new<R: Read + Send + 'static>(inner: R) -> io::Result<ReadAhead> {
        ReadAhead::with_sizes(inner, CHUNK, HEAD)
    }

    /// [`ReadAhead::new`] with other sizes (tests use tiny ones).
    pub fn with_sizes<R: Read + Send + 'static>(
        mut inner: R,
        chunk: usize,
        head: usize,
    ) -> io::Result<ReadAhead> {
        let chunk = chunk.max(1);
        let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(AHEAD);
        let (spare_tx, spare_rx) = mpsc::channel::<Arc<Vec<u8>>>();
        let thread = std::thread::Builder::new()
            .name("layerscope-read".into())
            .spawn(move || loop {
                // A buffer given back that nobody else holds any more, else a new one.
                let mut buf = std::iter::from_fn(|| spare_rx.try_recv().ok())
                    .find_map(|b| Arc::try_unwrap(b).ok())
                    .unwrap_or_default();
                buf.resize(head + chunk, 0);
                // One read per chunk: a file fills it, a pipe hands over what it has at
                // once (no waiting for a full chunk when the writer is slow).
                let msg = loop {
                    match inner.read(&mut buf[head..]) {
                        Ok(n) => {
                            buf.truncate(head + n);
                            break Ok(buf);
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                let last = !matches!(&msg, Ok(b) if b.len() > head);
                if tx.send(msg).is_err() || last {
                    return;
                }
            })?;
        Ok(ReadAhead {
            chunks: Some(rx),
            spare: spare_tx,
            head,
            done: false,
            thread: Some(thread),
        })
    }

    /// Free bytes before the data of every chunk.
    pub fn head(&self) -> usize {
        self.head
    }

    /// The next chunk: its data starts at [`ReadAhead::head`]. `None` at the end of input.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        match self.chunks.as_ref().and_then(|rx| rx.recv().ok()) {
            Some(Ok(chunk)) if chunk.len() > self.head => Ok(Some(chunk)),
            Some(Err(e)) => {
                self.done = true;
                Err(e)
            }
            // End of input (an empty chunk) or the thread is gone.
            _ => {
                self.done = true;
                Ok(None)
            }
        }
    }

    /// Gives a buffer back to the reading thread to fill again.
    pub fn recycle(&self, buf: Vec<u8>) {
        let _ = self.spare.send(Arc::new(buf));
    }

    /// Gives back one holder's share of a chunk: the reading thread fills it again once
    /// the last share came back (the others are dropped).
    pub fn recycle_shared(&self, buf: Arc<Vec<u8>>) {
        let _ = self.spare.send(buf);
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // The thread stops at its next send once the receiver is gone.
        self.chunks = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most 1000 bytes per read, like a pipe.
    struct Dribble(io::Cursor<Vec<u8>>);
    impl Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(1000);
            self.0.read(&mut buf[..n])
        }
    }

    /// Every byte, in order, through `next_chunk`, then the end.
    fn read_all(r: &mut ReadAhead) -> Vec<u8> {
        let mut got = Vec::new();
        while let Some(chunk) = r.next_chunk().unwrap() {
            got.extend_from_slice(&chunk[r.head()..]);
            r.recycle(chunk);
        }
        assert!(r.next_chunk().unwrap().is_none());
        got
    }

    #[test]
    fn gives_every_byte_in_order_whatever_the_read_sizes() {
        let data: Vec<u8> = (0..3 * CHUNK as u32 + 12_345)
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        for step in [997usize, 4096, CHUNK, 3 * CHUNK] {
            let dribble = Dribble(io::Cursor::new(data.clone()));
            let mut r = ReadAhead::with_sizes(dribble, step, 8).unwrap();
            let got = read_all(&mut r);
            assert_eq!(got.len(), data.len(), "step {step}");
            assert!(got == data, "step {step}");
        }
    }

    #[test]
    fn chunks_carry_their_data_after_the_head() {
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        let mut r = ReadAhead::with_sizes(io::Cursor::new(data.clone()), 3000, 16).unwrap();
        let mut got = Vec::new();
        while let Some(chunk) = r.next_chunk().unwrap() {
            assert!(chunk.len() > 16 && chunk.len() <= 3016);
            got.extend_from_slice(&chunk[16..]);
            r.recycle(chunk);
        }
        assert!(got == data);
        assert!(r.next_chunk().unwrap().is_none());
    }

    #[test]
    fn an_empty_input_ends_at_once_and_dropping_early_stops_the_thread() {
        let mut r = ReadAhead::new(io::Cursor::new(Vec::new())).unwrap();
        assert!(read_all(&mut r).is_empty());
        let big = vec![1u8; 20 * CHUNK];
        let mut r = ReadAhead::new(io::Cursor::new(big)).unwrap();
        assert_eq!(r.next_chunk().unwrap().map(|c| c.len()), Some(HEAD + CHUNK));
        drop(r); // joins: the thread must not block on the full channel
    }

    #[test]
    fn a_read_error_reaches_the_consumer() {
        struct Fails;
        impl Read for Fails {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        let mut r = ReadAhead::new(Fails).unwrap();
        let e = r.next_chunk().unwrap_err();
        assert_eq!(e.to_string(), "disk on fire");
    }
}
