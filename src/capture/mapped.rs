//! A capture file mapped read-only into memory: records are read in place (no copy from
//! the page cache into a buffer), and the two-thread pipeline hands frames to its second
//! thread as offsets into the same mapping instead of copying them.
//!
//! The one module with `unsafe` (the library otherwise denies it). Like ripgrep, which maps
//! files the same way: the mapping is undefined behaviour in Rust's model only if another
//! process truncates or rewrites the file while we read it (a truncation raises SIGBUS).
//! Only regular files are mapped; `read --no-mmap` reads with read(2) instead.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// Pages already read are handed back to the kernel in steps of this many bytes, so the
/// resident set stays small on multi-gigabyte files (the pages stay in the page cache).
pub const RELEASE_STEP: usize = 2 * 1024 * 1024;
/// Bytes kept mapped behind the reading position when releasing (frames in flight to the
/// second thread live there; touching a released page again only re-reads it).
pub const RELEASE_LAG: usize = 4 * 1024 * 1024;
/// When another thread [manages](SharedBytes::manage) the pages, the reader still releases
/// them itself once it is this far past the last release (the other thread was not
/// scheduled for a while).
pub const RELEASE_BACKSTOP: usize = 16 * 1024 * 1024;

/// A read-only mapping of a whole file, shared between threads.
#[derive(Clone)]
pub struct SharedBytes(Arc<Mapping>);

struct Mapping {
    map: memmap2::Mmap,
    /// Bytes at the start already handed back to the kernel by [`SharedBytes::release_before`].
    released: AtomicUsize,
    /// Another thread releases pages behind the reader (see [`SharedBytes::manage`]).
    managed: AtomicBool,
}

impl std::ops::Deref for Mapping {
    type Target = memmap2::Mmap;
    fn deref(&self) -> &memmap2::Mmap {
        &self.map
    }
}

impl std::fmt::Debug for SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedBytes({} bytes)", self.0.len())
    }
}

impl SharedBytes {
    /// Maps `file` (a regular file) read-only.
    pub fn map(file: &File) -> io::Result<SharedBytes> {
        // SAFETY: the mapping is read-only and private to this process's reading; its bytes
        // change only if another process modifies the file while it is mapped, the caveat
        // in the module docs.
        let map = unsafe { memmap2::MmapOptions::new().map(file)? };
        // Readahead hint only; failure changes nothing.
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(SharedBytes(Arc::new(Mapping {
            map,
            released: AtomicUsize::new(0),
            managed: AtomicBool::new(false),
        })))
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0.map
    }

    /// From now on another thread releases pages (it calls
    /// [`SharedBytes::release_before`]); the reader's [`SharedBytes::reader_release_before`]
    /// only acts as a backstop.
    pub fn manage(&self) {
        self.0.managed.store(true, Ordering::Relaxed);
    }

    /// The reader's release: `release_before(end)`, unless another thread manages the
    /// pages and has released up to within [`RELEASE_BACKSTOP`] of `end`.
    pub fn reader_release_before(&self, end: usize) {
        if self.0.managed.load(Ordering::Relaxed)
            && end < self.0.released.load(Ordering::Relaxed) + RELEASE_BACKSTOP
        {
            return;
        }
        self.release_before(end);
    }

    /// How many bytes at the start were released (pages not to map again).
    pub fn released(&self) -> usize {
        self.0.released.load(Ordering::Relaxed)
    }

    /// Maps the pages of `offset..offset + len` by reading one byte of each page, so the
    /// thread that reads them next takes no page faults. Returns a value derived from the
    /// bytes read so the reads cannot be optimised away.
    pub fn populate(&self, offset: usize, len: usize) -> u8 {
        let bytes = self.as_slice();
        let end = offset.saturating_add(len).min(bytes.len());
        let mut acc = 0u8;
        let mut at = offset;
        while at < end {
            acc ^= bytes[at];
            at += 4096;
        }
        std::hint::black_box(acc)
    }

    /// Drops the page mappings of `offset..offset + len` (they stay in the page cache).
    pub fn release(&self, offset: usize, len: usize) {
        if let Some(len) = self.clamp(offset, len) {
            // SAFETY: MADV_DONTNEED on a read-only shared file mapping only unmaps the
            // pages: a later access maps the same file bytes again from the page cache, so
            // no slice into the mapping ever observes different contents.
            let _ = unsafe {
                self.0
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len)
            };
        }
    }

    fn clamp(&self, offset: usize, len: usize) -> Option<usize> {
        let len = len.min(self.0.len().checked_sub(offset)?);
        (len > 0).then_some(len)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Drops the page mappings of `0..end` from this process (they stay in the page
    /// cache); only the part not released by an earlier call is advised.
    pub fn release_before(&self, end: usize) {
        let from = self.0.released.fetch_max(end, Ordering::Relaxed);
        if end > from {
            self.release(from, end - from);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn maps_the_file_bytes_and_survives_release() {
        let path = std::env::temp_dir().join(format!("layerscope-map-{}", std::process::id()));
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&data)
            .unwrap();
        let map = SharedBytes::map(&File::open(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(map.len(), 200_000);
        assert_eq!(map.as_slice(), &data[..]);
        map.release_before(150_000);
        map.populate(100_000, 1_000_000);
        map.release(4096, 8192);
        // Released pages read back the same bytes.
        assert_eq!(map.as_slice()[..150_000], data[..150_000]);
        assert_eq!(map.as_slice()[199_999], (199_999 % 251) as u8);
    }
}
