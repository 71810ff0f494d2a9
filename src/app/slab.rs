//! The app stage's storage for per-connection states: entries by index in chunks that
//! never move, given back and handed out again (no allocation per connection in steady
//! state).

/// log2 of the entries in one chunk of a [`Slab`].
const SLAB_CHUNK_BITS: u32 = 6;

/// Entries by index, made in chunks of `1 << SLAB_CHUNK_BITS` that never move: growing
/// copies nothing, and an entry keeps its address for its whole life. An entry given
/// back (`release`) is handed out again, the last released first (warm in the cache), so
/// the slab holds as many as were ever in use at once (which the flow table bounds).
pub(super) struct Slab<T> {
    chunks: Vec<Box<[T]>>,
    /// Entries made.
    len: usize,
    /// Entries given back, to hand out again.
    free: Vec<u32>,
}

impl<T> Slab<T> {
    pub(super) fn new() -> Slab<T> {
        Slab {
            chunks: Vec::new(),
            len: 0,
            free: Vec::new(),
        }
    }

    #[cfg(test)]
    fn get(&self, i: u32) -> Option<&T> {
        let chunk = self.chunks.get((i >> SLAB_CHUNK_BITS) as usize)?;
        chunk.get((i & ((1 << SLAB_CHUNK_BITS) - 1)) as usize)
    }

    pub(super) fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        let chunk = self.chunks.get_mut((i >> SLAB_CHUNK_BITS) as usize)?;
        chunk.get_mut((i & ((1 << SLAB_CHUNK_BITS) - 1)) as usize)
    }

    /// The index of an entry not in use, and whether it was released (what it holds is
    /// then the caller's to reset), else a new one (`make` fills a new chunk).
    pub(super) fn alloc(&mut self, make: impl FnMut() -> T) -> (u32, bool) {
        if let Some(i) = self.free.pop() {
            return (i, true);
        }
        if self.len == self.chunks.len() << SLAB_CHUNK_BITS {
            self.chunks.push(
                std::iter::repeat_with(make)
                    .take(1 << SLAB_CHUNK_BITS)
                    .collect(),
            );
        }
        let i = u32::try_from(self.len).unwrap_or(u32::MAX);
        self.len += 1;
        (i, false)
    }

    /// Gives entry `i` back.
    pub(super) fn release(&mut self, i: u32) {
        self.free.push(i);
    }

    /// Entries given back and not handed out again yet.
    pub(super) fn released(&self) -> usize {
        self.free.len()
    }

    /// Entries made.
    #[cfg(test)]
    pub(super) fn made(&self) -> usize {
        self.len
    }

    /// The entries given back, the next handed out last.
    #[cfg(test)]
    pub(super) fn released_list(&self) -> &[u32] {
        &self.free
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_entries_stay_put_across_chunks_and_are_reused_last_released_first() {
        let mut s: Slab<u32> = Slab::new();
        let chunk = 1u32 << SLAB_CHUNK_BITS;
        for want in 0..=chunk {
            assert_eq!(s.alloc(|| 7), (want, false));
        }
        assert_eq!((s.len, s.chunks.len()), (chunk as usize + 1, 2));
        // Entries not handed out yet exist (made with the chunk), none past the chunks.
        assert_eq!(s.get(chunk + 1), Some(&7));
        assert_eq!(s.get(2 * chunk), None);
        *s.get_mut(chunk).unwrap() = 9;
        let at = s.get(chunk).map(|v| v as *const u32);
        s.release(3);
        s.release(chunk);
        assert_eq!(s.alloc(|| 0), (chunk, true));
        assert_eq!(
            s.get(chunk),
            Some(&9),
            "what a released entry holds is kept"
        );
        assert_eq!(s.get(chunk).map(|v| v as *const u32), at);
        assert_eq!(s.alloc(|| 0), (3, true));
        assert_eq!(s.alloc(|| 0), (chunk + 1, false));
    }
}
