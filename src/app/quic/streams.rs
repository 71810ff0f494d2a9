//! QUIC stream reassembly (RFC 9000 §2.2): STREAM frames, which may arrive out of order,
//! repeated or overlapping, delivered to the reader as each stream's bytes in order.
//! Bytes that arrive ahead of a hole are held (capped per stream direction at
//! [`MAX_HELD`]); what is dropped is counted in [`StreamStats::cut_bytes`].

use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Bytes held ahead of a hole per stream and sender; more are dropped and counted.
pub const MAX_HELD: usize = 256 << 10;
/// Stream directions followed at once per connection; more are counted.
pub const MAX_STREAMS: usize = 8192;

/// The caps of one connection's stream reassembly (`--max-quic-streams`,
/// `--max-quic-stream-buffer`; defaults [`MAX_STREAMS`], [`MAX_HELD`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamCaps {
    /// Stream directions followed at once.
    pub streams: usize,
    /// Bytes held ahead of a hole per stream and sender.
    pub held: usize,
}

impl Default for StreamCaps {
    fn default() -> Self {
        StreamCaps {
            streams: MAX_STREAMS,
            held: MAX_HELD,
        }
    }
}

/// What reassembly dropped over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes not delivered: held past [`MAX_HELD`], on streams past [`MAX_STREAMS`], or
    /// still behind a hole when the connection ended.
    pub cut_bytes: u64,
    pub streams_cut: u64,
}

#[derive(Debug, Default)]
struct RecvStream {
    /// Offset of the next byte to deliver.
    next: u64,
    /// Out-of-order pieces by offset.
    held: BTreeMap<u64, Vec<u8>>,
    held_bytes: usize,
    /// Final size, once a FIN was seen.
    fin_at: Option<u64>,
    /// The FIN was delivered: nothing more is read.
    done: bool,
}

/// The receive side of every stream of one connection, by (stream id, sender side).
#[derive(Debug, Default)]
pub struct Streams {
    recv: FxHashMap<(u64, u8), RecvStream>,
    caps: StreamCaps,
}

impl Streams {
    /// Reassembly bounded by `caps`.
    pub fn with_caps(caps: StreamCaps) -> Streams {
        Streams {
            recv: FxHashMap::default(),
            caps,
        }
    }

    /// One STREAM frame from `side`: `deliver(bytes, fin)` is called with each run of
    /// bytes that is now in order (`fin`: the stream ends with them).
    #[allow(clippy::too_many_arguments)]
    pub fn on_frame(
        &mut self,
        side: u8,
        id: u64,
        offset: u64,
        data: &[u8],
        fin: bool,
        stats: &mut StreamStats,
        mut deliver: impl FnMut(&[u8], bool),
    ) {
        if !self.recv.contains_key(&(id, side)) && self.recv.len() >= self.caps.streams {
            // Ended streams are kept (a repeated frame must not start them again) until
            // room is needed.
            self.recv.retain(|_, s| !s.done);
        }
        if !self.recv.contains_key(&(id, side)) && self.recv.len() >= self.caps.streams {
            stats.streams_cut += 1;
            stats.cut_bytes += data.len() as u64;
            return;
        }
        let s = self.recv.entry((id, side)).or_default();
        if s.done {
            return;
        }
        let end = offset.saturating_add(data.len() as u64);
        if fin {
            s.fin_at = Some(end);
        }
        if offset > s.next {
            if s.held_bytes + data.len() > self.caps.held {
                stats.cut_bytes += data.len() as u64;
                return;
            }
            s.held_bytes += data.len();
            if let Some(old) = s.held.insert(offset, data.to_vec()) {
                s.held_bytes -= old.len();
            }
            return;
        }
        if end > s.next || (fin && end == s.next) {
            let skip = usize::try_from(s.next - offset).unwrap_or(usize::MAX);
            let new = data.get(skip..).unwrap_or_default();
            s.next = end;
            let done = s.fin_at == Some(s.next);
            s.done = done;
            deliver(new, done);
        }
        // Pieces the hole was waiting for.
        while !s.done {
            let Some((&at, _)) = s.held.iter().next() else {
                break;
            };
            if at > s.next {
                break;
            }
            let Some(piece) = s.held.remove(&at) else {
                break;
            };
            s.held_bytes -= piece.len();
            let piece_end = at + piece.len() as u64;
            if piece_end <= s.next && !(s.fin_at == Some(piece_end) && piece_end == s.next) {
                continue;
            }
            let skip = usize::try_from(s.next - at).unwrap_or(usize::MAX);
            s.next = piece_end.max(s.next);
            let done = s.fin_at == Some(s.next);
            s.done = done;
            deliver(piece.get(skip..).unwrap_or_default(), done);
        }
        if s.done {
            s.held = BTreeMap::new();
            s.held_bytes = 0;
        }
    }

    /// The connection ended: bytes still held behind a hole are counted as cut.
    pub fn close(&mut self, stats: &mut StreamStats) {
        for s in self.recv.values() {
            stats.cut_bytes += s.held_bytes as u64;
        }
        self.recv.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_repeated_and_fin() {
        let mut st = Streams::default();
        let mut stats = StreamStats::default();
        let mut got: Vec<(Vec<u8>, bool)> = Vec::new();
        let mut feed = |st: &mut Streams, off: u64, d: &[u8], fin: bool| {
            st.on_frame(1, 0, off, d, fin, &mut stats, |b, f| {
                got.push((b.to_vec(), f))
            });
        };
        feed(&mut st, 6, b"world", true); // ahead of a hole
        feed(&mut st, 0, b"hel", false);
        feed(&mut st, 0, b"hel", false); // repeated
        feed(&mut st, 2, b"llo ", false); // overlaps, fills the hole
        feed(&mut st, 6, b"world", true); // after the end: ignored
        let all: Vec<u8> = got.iter().flat_map(|(b, _)| b.clone()).collect();
        assert_eq!(all, b"hello world");
        assert_eq!(got.last().map(|g| g.1), Some(true));
        assert_eq!(got.iter().filter(|g| g.1).count(), 1);
        assert_eq!(stats, StreamStats::default());
        // A FIN with no bytes.
        let mut ends = 0;
        st.on_frame(0, 4, 0, b"x", false, &mut stats, |_, _| {});
        st.on_frame(0, 4, 1, b"", true, &mut stats, |b, f| {
            assert!(b.is_empty() && f);
            ends += 1;
        });
        assert_eq!(ends, 1);
        // Held bytes over the cap are counted; the rest at close.
        let big = vec![0u8; MAX_HELD];
        st.on_frame(0, 8, 10, &big, false, &mut stats, |_, _| {});
        st.on_frame(
            0,
            8,
            10 + MAX_HELD as u64,
            b"abc",
            false,
            &mut stats,
            |_, _| {},
        );
        assert_eq!(stats.cut_bytes, 3);
        st.close(&mut stats);
        assert_eq!(stats.cut_bytes, 3 + MAX_HELD as u64);
    }
}
