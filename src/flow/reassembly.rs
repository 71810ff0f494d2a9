//! Per-direction TCP stream reassembly, bounded, with gaps reported.
//!
//! A [`StreamReassembler`] follows one direction of a TCP byte stream and hands its bytes on
//! in stream order, whatever order the segments arrived in:
//!
//! - In-order segments are passed through borrowed (no copy, no allocation).
//! - Out-of-order segments are copied into a sorted list of non-overlapping pieces, each
//!   remembering the frame that carried it, within a per-direction cap, a global
//!   [`ReassemblyBudget`] and [`MAX_SEGMENTS`] pieces. What does not fit is dropped and counted
//!   ([`SegmentOutcome::cut_bytes`], [`ReassemblyBudget::cut_bytes`]); it becomes a
//!   [`StreamChunk::Gap`] when the stream moves past it ([`StreamReassembler::acked`],
//!   [`StreamReassembler::flush`]) unless a retransmission fills it first.
//! - Retransmitted bytes are dropped: the first copy wins. Bytes that are still buffered are
//!   compared with the retransmission ([`SegmentOutcome::overlap_conflict`]); bytes already
//!   delivered are NOT compared (keeping them would mean copying every in-order byte): they
//!   are only counted as duplicates.
//! - Sequence numbers are compared modulo 2^32 with signed differences; positions inside the
//!   stream are 64-bit, so streams longer than 4 GiB work. A segment or ack more than
//!   [`WINDOW`] bytes away from the next expected byte is garbage and ignored (counted in
//!   [`SegmentOutcome::out_of_window_bytes`]).

use super::SegmentCtx;

/// Segments or acks further than this from the next expected byte (ahead or behind) are
/// treated as garbage and ignored.
pub const WINDOW: u32 = 1 << 30;

/// Most out-of-order pieces one direction buffers at once. At the cap, a piece that directly
/// follows a buffered piece is appended to it (and delivered with that piece's frame);
/// any other piece is cut.
pub const MAX_SEGMENTS: usize = 1024;

/// The global budget of buffered out-of-order bytes, shared by all connections.
///
/// `used` always equals the sum of [`StreamReassembler::buffered`] over all reassemblers
/// that share it, provided each reassembler is flushed ([`StreamReassembler::flush`]) or
/// discarded ([`StreamReassembler::discard`]) before it is dropped.
#[derive(Clone, Debug, Default)]
pub struct ReassemblyBudget {
    /// Bytes buffered now, over all reassemblers.
    pub used: usize,
    /// Most bytes buffered at once, over all reassemblers.
    pub max_total: usize,
    /// Bytes dropped because a cap was reached (reported in the summary).
    pub cut_bytes: u64,
}

impl ReassemblyBudget {
    /// An empty budget of `max_total` bytes.
    pub fn new(max_total: usize) -> ReassemblyBudget {
        ReassemblyBudget {
            used: 0,
            max_total,
            cut_bytes: 0,
        }
    }

    fn room(&self) -> usize {
        self.max_total.saturating_sub(self.used)
    }

    fn release(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// What the reassembler hands on, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamChunk<'a> {
    /// In-order bytes, with the frame that carried them.
    Data(&'a [u8], SegmentCtx),
    /// `len` bytes were never seen (or were cut): the consumer must resynchronise.
    /// The context is the frame that made the reassembler give up on the hole (the ack for
    /// [`StreamReassembler::acked`], the closing frame for [`StreamReassembler::flush`]).
    Gap(u64, SegmentCtx),
}

/// What happened to one segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SegmentOutcome {
    /// Bytes already delivered or buffered (retransmitted), dropped: first copy wins.
    pub duplicate_bytes: u32,
    /// Some retransmitted bytes differ from the first copy (only bytes still buffered are
    /// compared; already delivered bytes are not kept).
    pub overlap_conflict: bool,
    /// Bytes dropped because a per-flow or global cap was reached.
    pub cut_bytes: u32,
    /// Bytes ignored because they lie more than [`WINDOW`] bytes from the next expected
    /// byte, or before the start of the stream.
    pub out_of_window_bytes: u32,
}

/// One buffered out-of-order piece: bytes `start..start + data.len()` of the stream.
#[derive(Clone, Debug)]
struct Piece {
    /// Stream offset (bytes since the first data byte) of `data[0]`.
    start: u64,
    /// Never empty.
    data: Vec<u8>,
    ctx: SegmentCtx,
}

impl Piece {
    fn end(&self) -> u64 {
        self.start + self.data.len() as u64
    }
}

/// The out-of-order buffer, allocated at the first out-of-order segment and freed when it
/// empties.
#[derive(Clone, Debug, Default)]
struct OutOfOrder {
    /// Sorted by `start`, non-overlapping, all at or after the delivered offset.
    pieces: Vec<Piece>,
    /// Sum of the pieces' lengths.
    bytes: usize,
}

/// One direction of a TCP stream.
///
/// Idle (nothing buffered) it holds no allocation and is 24 bytes on 64-bit targets: the
/// out-of-order buffer is boxed and exists only while something is buffered.
#[derive(Clone, Debug, Default)]
pub struct StreamReassembler {
    /// Bytes handed on so far (data and gaps): the stream offset of the next expected byte.
    delivered: u64,
    ooo: Option<Box<OutOfOrder>>,
    /// Sequence number of stream offset 0.
    first_seq: u32,
    started: bool,
}

/// An ack `ahead` bytes past the next expected byte (not 0) acknowledges nothing new:
/// older, or too far ahead to trust. (Out of line: most acks are exactly at the next
/// byte, and their test stays one compare.)
#[cold]
#[inline(never)]
fn not_ahead(ahead: u32) -> bool {
    ahead.wrapping_sub(1) >= WINDOW
}

fn sat32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn add32(field: &mut u32, n: u64) {
    *field = field.saturating_add(sat32(n));
}

impl StreamReassembler {
    /// A reassembler whose start is not known yet.
    pub fn new() -> StreamReassembler {
        StreamReassembler::default()
    }

    /// The SYN (or first seen segment) fixes where the stream starts: the first data byte
    /// has sequence number `first_seq`. Ignored once bytes were delivered or buffered.
    pub fn start_at(&mut self, first_seq: u32) {
        if self.started && (self.delivered != 0 || self.ooo.is_some()) {
            return;
        }
        self.first_seq = first_seq;
        self.delivered = 0;
        self.started = true;
    }

    /// Sequence number of the next expected byte (None before the start is known).
    pub fn next_seq(&self) -> Option<u32> {
        self.started.then(|| self.next_seq_raw())
    }

    /// Bytes handed on so far, data and gaps (64-bit: does not wrap).
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    fn next_seq_raw(&self) -> u32 {
        // Truncation is the point: sequence numbers are the offset modulo 2^32.
        self.first_seq.wrapping_add(self.delivered as u32)
    }

    /// Signed distance from the next expected byte to `seq`, if within [`WINDOW`].
    fn distance(&self, seq: u32) -> Option<i64> {
        let rel = i64::from(seq.wrapping_sub(self.next_seq_raw()) as i32);
        (rel.unsigned_abs() <= u64::from(WINDOW)).then_some(rel)
    }

    /// One segment's payload. In-order bytes (and any buffered bytes they make contiguous)
    /// go to `out` at once; later bytes are buffered within `per_flow_cap` and the budget.
    #[inline]
    pub fn segment(
        &mut self,
        seq: u32,
        data: &[u8],
        ctx: SegmentCtx,
        per_flow_cap: usize,
        budget: &mut ReassemblyBudget,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) -> SegmentOutcome {
        // The common case: the next expected bytes, nothing buffered: pass them through
        // (what the general path does for them, in fewer steps).
        if self.started
            && self.ooo.is_none()
            && seq == self.next_seq_raw()
            && !data.is_empty()
            && super::tracker::fast_paths_on()
        {
            out(StreamChunk::Data(data, ctx));
            self.delivered += data.len() as u64;
            return SegmentOutcome::default();
        }
        self.segment_general(seq, data, ctx, per_flow_cap, budget, out)
    }

    /// Bytes at `seq` are the next expected ones and nothing is buffered: what
    /// [`StreamReassembler::segment`] does for them is to hand them on as they are. A caller
    /// that hands them on itself then calls [`StreamReassembler::passed`] (one call less per
    /// in-order segment than through the chunk callback).
    #[inline]
    pub fn in_order(&self, seq: u32) -> bool {
        self.started
            && self.ooo.is_none()
            && seq == self.next_seq_raw()
            && super::tracker::fast_paths_on()
    }

    /// `len` bytes that [`StreamReassembler::in_order`] allowed were handed on by the caller.
    #[inline]
    pub fn passed(&mut self, len: usize) {
        self.delivered += len as u64;
    }

    /// [`StreamReassembler::segment`] for any segment.
    #[inline(never)]
    fn segment_general(
        &mut self,
        seq: u32,
        data: &[u8],
        ctx: SegmentCtx,
        per_flow_cap: usize,
        budget: &mut ReassemblyBudget,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) -> SegmentOutcome {
        let mut outcome = SegmentOutcome::default();
        if data.is_empty() {
            return outcome;
        }
        if !self.started {
            self.start_at(seq);
        }
        let len = data.len() as u64;
        let Some(rel) = self.distance(seq) else {
            outcome.out_of_window_bytes = sat32(len);
            return outcome;
        };
        // Stream offset of data[0]; negative means before the start of the stream.
        let abs = self.delivered as i64 + rel;
        let mut skip = 0u64;
        if abs < 0 {
            skip = abs.unsigned_abs().min(len);
            outcome.out_of_window_bytes = sat32(skip);
        }
        let mut start = abs.max(0) as u64;
        if start < self.delivered {
            let dup = (self.delivered - start).min(len - skip);
            add32(&mut outcome.duplicate_bytes, dup);
            skip += dup;
            start += dup;
        }
        let Some(rest) = usize::try_from(skip).ok().and_then(|s| data.get(s..)) else {
            return outcome;
        };
        if rest.is_empty() {
            return outcome;
        }
        if start == self.delivered {
            self.drain(rest, ctx, budget, &mut outcome, out);
        } else {
            self.buffer(start, rest, ctx, per_flow_cap, budget, &mut outcome);
        }
        outcome
    }

    /// Delivers `data` (which starts at the delivered offset; may be empty) interleaved with
    /// the buffered pieces it reaches, then every buffered piece that becomes contiguous.
    /// Buffered bytes win over the overlapping bytes of `data`.
    fn drain(
        &mut self,
        data: &[u8],
        ctx: SegmentCtx,
        budget: &mut ReassemblyBudget,
        outcome: &mut SegmentOutcome,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) {
        let Some(buf) = self.ooo.as_deref_mut() else {
            // The hot path: nothing buffered, pass the segment through.
            if !data.is_empty() {
                out(StreamChunk::Data(data, ctx));
                self.delivered += data.len() as u64;
            }
            return;
        };
        let start = self.delivered;
        let end = start + data.len() as u64;
        let mut pos = start;
        let mut taken = 0usize;
        let mut released = 0usize;
        loop {
            match buf.pieces.get(taken) {
                Some(piece) if piece.start == pos => {
                    let overlap_end = end.min(piece.end());
                    if overlap_end > pos {
                        let n = (overlap_end - pos) as usize;
                        let ours = data.get((pos - start) as usize..).and_then(|d| d.get(..n));
                        if ours != piece.data.get(..n) {
                            outcome.overlap_conflict = true;
                        }
                        add32(&mut outcome.duplicate_bytes, n as u64);
                    }
                    out(StreamChunk::Data(&piece.data, piece.ctx));
                    pos = piece.end();
                    released += piece.data.len();
                    taken += 1;
                }
                next if pos < end => {
                    let stop = next.map_or(end, |p| p.start.min(end));
                    let part = data.get((pos - start) as usize..(stop - start) as usize);
                    let Some(part) = part else { break };
                    out(StreamChunk::Data(part, ctx));
                    pos = stop;
                }
                _ => break,
            }
        }
        self.delivered = pos;
        if taken > 0 {
            buf.pieces.drain(..taken);
            buf.bytes = buf.bytes.saturating_sub(released);
            budget.release(released);
        }
        if buf.pieces.is_empty() {
            self.ooo = None;
        }
    }

    /// Buffers the bytes of `data` (stream offsets `start..`, after the delivered offset)
    /// that are not buffered yet, within the caps.
    fn buffer(
        &mut self,
        start: u64,
        data: &[u8],
        ctx: SegmentCtx,
        per_flow_cap: usize,
        budget: &mut ReassemblyBudget,
        outcome: &mut SegmentOutcome,
    ) {
        let buf = self.ooo.get_or_insert_with(Box::default);
        let end = start + data.len() as u64;
        let mut idx = buf.pieces.partition_point(|p| p.end() <= start);
        let mut cur = start;
        while cur < end {
            let off = (cur - start) as usize;
            match buf.pieces.get(idx) {
                Some(piece) if piece.start <= cur => {
                    // Already buffered: first copy wins, compare.
                    let overlap_end = end.min(piece.end());
                    let n = (overlap_end - cur) as usize;
                    let ours = data.get(off..).and_then(|d| d.get(..n));
                    let theirs = piece
                        .data
                        .get((cur - piece.start) as usize..)
                        .and_then(|d| d.get(..n));
                    if ours != theirs {
                        outcome.overlap_conflict = true;
                    }
                    add32(&mut outcome.duplicate_bytes, n as u64);
                    cur = overlap_end;
                    idx += 1;
                }
                next => {
                    let hole_end = next.map_or(end, |p| p.start.min(end));
                    let want = (hole_end - cur) as usize;
                    let room = per_flow_cap.saturating_sub(buf.bytes).min(budget.room());
                    let mut take = want.min(room);
                    let piece = data.get(off..).and_then(|d| d.get(..take)).unwrap_or(&[]);
                    if piece.is_empty() {
                        take = 0;
                    } else if buf.pieces.len() < MAX_SEGMENTS {
                        buf.pieces.insert(
                            idx,
                            Piece {
                                start: cur,
                                data: piece.to_vec(),
                                ctx,
                            },
                        );
                        idx += 1;
                    } else {
                        match idx.checked_sub(1).and_then(|i| buf.pieces.get_mut(i)) {
                            Some(prev) if prev.end() == cur => prev.data.extend_from_slice(piece),
                            _ => take = 0,
                        }
                    }
                    buf.bytes += take;
                    budget.used += take;
                    let cut = (want - take) as u64;
                    add32(&mut outcome.cut_bytes, cut);
                    budget.cut_bytes += cut;
                    cur = hole_end;
                }
            }
        }
        if buf.pieces.is_empty() {
            self.ooo = None;
        }
    }

    /// The peer acknowledged up to `ack`: bytes before it that never arrived are a gap;
    /// report it and deliver what was buffered after it. Acks at or before the next
    /// expected byte, more than [`WINDOW`] ahead, or before the start is known are ignored.
    #[inline]
    pub fn acked(
        &mut self,
        ack: u32,
        ctx: SegmentCtx,
        budget: &mut ReassemblyBudget,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) {
        // Nothing to do before the start or for an ack of exactly what was delivered.
        if !self.started || (ack == self.next_seq_raw() && super::tracker::fast_paths_on()) {
            return;
        }
        self.acked_general(ack, ctx, budget, out);
    }

    /// An ack of `ack` changes nothing: before the start, or not 1 to [`WINDOW`] bytes past
    /// the next expected byte (an ack of what was delivered, an older ack, or one too far
    /// ahead to trust: [`StreamReassembler::acked`] returns without a step for these).
    #[inline]
    pub fn ack_changes_nothing(&self, ack: u32) -> bool {
        let ahead = ack.wrapping_sub(self.next_seq_raw());
        !self.started || ((ahead == 0 || not_ahead(ahead)) && super::tracker::fast_paths_on())
    }

    /// [`StreamReassembler::acked`] past the quick checks.
    #[inline(never)]
    fn acked_general(
        &mut self,
        ack: u32,
        ctx: SegmentCtx,
        budget: &mut ReassemblyBudget,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) {
        let rel = match self.distance(ack) {
            Some(rel) if rel > 0 => rel.unsigned_abs(),
            _ => return,
        };
        let target = self.delivered + rel;
        let mut scratch = SegmentOutcome::default();
        while self.delivered < target {
            let next = self
                .ooo
                .as_deref()
                .and_then(|b| b.pieces.first())
                .map(|p| p.start);
            match next {
                Some(s) if s == self.delivered => self.drain(&[], ctx, budget, &mut scratch, out),
                _ => {
                    let stop = next.map_or(target, |s| s.min(target));
                    out(StreamChunk::Gap(stop - self.delivered, ctx));
                    self.delivered = stop;
                }
            }
        }
        self.drain(&[], ctx, budget, &mut scratch, out);
    }

    /// End of the stream (FIN, RST, close, end of input): deliver everything buffered,
    /// with gaps, and release the buffer.
    pub fn flush(
        &mut self,
        ctx: SegmentCtx,
        budget: &mut ReassemblyBudget,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) {
        let Some(buf) = self.ooo.take() else {
            return;
        };
        for piece in &buf.pieces {
            if piece.start > self.delivered {
                out(StreamChunk::Gap(piece.start - self.delivered, ctx));
            }
            out(StreamChunk::Data(&piece.data, piece.ctx));
            self.delivered = piece.end();
        }
        budget.release(buf.bytes);
    }

    /// Drops everything buffered without delivering it (e.g. the flow was evicted), and
    /// releases it from the budget.
    pub fn discard(&mut self, budget: &mut ReassemblyBudget) {
        if let Some(buf) = self.ooo.take() {
            budget.release(buf.bytes);
        }
    }

    /// Bytes buffered now.
    pub fn buffered(&self) -> usize {
        self.ooo.as_deref().map_or(0, |b| b.bytes)
    }

    /// Something is buffered out of order ([`StreamReassembler::flush`] has work to do).
    pub fn has_buffer(&self) -> bool {
        self.ooo.is_some()
    }

    /// Out-of-order pieces buffered now.
    pub fn buffered_pieces(&self) -> usize {
        self.ooo.as_deref().map_or(0, |b| b.pieces.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use proptest::prelude::*;

    /// An owned copy of a chunk: (Some(bytes), frame) for data, (None, len, frame) for gaps.
    #[derive(Clone, Debug, PartialEq, Eq)]
    enum Got {
        Data(Vec<u8>, u64),
        Gap(u64, u64),
    }

    fn ctx(frame: u64) -> SegmentCtx {
        SegmentCtx {
            frame,
            ts: Timestamp::default(),
            handshake_rtt_ns: None,
            ports: None,
        }
    }

    fn d(bytes: &[u8], frame: u64) -> Got {
        Got::Data(bytes.to_vec(), frame)
    }

    /// A reassembler, its budget, its per-flow cap and everything it handed on.
    struct Rig {
        r: StreamReassembler,
        budget: ReassemblyBudget,
        cap: usize,
        got: Vec<Got>,
    }

    impl Rig {
        fn new(first_seq: u32, cap: usize, total: usize) -> Rig {
            let mut r = StreamReassembler::new();
            r.start_at(first_seq);
            Rig {
                r,
                budget: ReassemblyBudget::new(total),
                cap,
                got: Vec::new(),
            }
        }
        fn seg(&mut self, seq: u32, data: &[u8], frame: u64) -> SegmentOutcome {
            let got = &mut self.got;
            let outcome = self.r.segment(
                seq,
                data,
                ctx(frame),
                self.cap,
                &mut self.budget,
                &mut |c| got.push(own(c)),
            );
            assert_eq!(self.budget.used, self.r.buffered());
            outcome
        }
        fn ack(&mut self, ack: u32, frame: u64) {
            let got = &mut self.got;
            self.r
                .acked(ack, ctx(frame), &mut self.budget, &mut |c| got.push(own(c)));
            assert_eq!(self.budget.used, self.r.buffered());
        }
        fn flush(&mut self, frame: u64) {
            let got = &mut self.got;
            self.r
                .flush(ctx(frame), &mut self.budget, &mut |c| got.push(own(c)));
            assert_eq!(self.r.buffered(), 0);
            assert_eq!(self.budget.used, 0);
        }
        fn take(&mut self) -> Vec<Got> {
            std::mem::take(&mut self.got)
        }
    }

    /// The caller's shortcuts ([`StreamReassembler::in_order`] then
    /// [`StreamReassembler::passed`], and [`StreamReassembler::ack_changes_nothing`]) hand on
    /// and keep exactly what `segment` and `acked` do on their general paths.
    #[test]
    fn caller_shortcuts_match_the_general_path() {
        // (seq, Some(bytes)) is a segment, (ack, None) an ack; the stream starts at 1000.
        let steps: &[(u32, Option<&[u8]>)] = &[
            (1000, Some(b"abcd")),                 // in order
            (1004, None),                          // acks everything delivered: nothing to do
            (1008, Some(b"ijkl")),                 // ahead of a hole: buffered
            (1004, Some(b"efgh")),                 // fills the hole: both go out
            (1010, Some(b"kl")),                   // old bytes
            (1012, Some(b"mnop")),                 // in order
            (1006, None),                          // an older ack: nothing
            (1016 + (1 << 30) + 1, None),          // beyond the window: not trusted, nothing
            (1016u32.wrapping_sub(1 << 31), None), // half the sequence space away: nothing
            (1020, None),                          // acks 4 bytes never seen: a gap
            (1020, Some(b"uvw")),                  // in order after the gap
            (1023, None),
        ];
        let run = |shortcuts: bool| {
            let mut rig = Rig::new(1000, 1 << 16, 1 << 20);
            for (i, &(seq, bytes)) in steps.iter().enumerate() {
                let frame = i as u64 + 1;
                match bytes {
                    Some(data) if shortcuts && rig.r.in_order(seq) => {
                        rig.got.push(d(data, frame));
                        rig.r.passed(data.len());
                    }
                    Some(data) => {
                        rig.seg(seq, data, frame);
                    }
                    None if shortcuts && rig.r.ack_changes_nothing(seq) => {}
                    None => rig.ack(seq, frame),
                }
            }
            (rig.take(), rig.r.delivered(), rig.r.next_seq())
        };
        use crate::flow::tracker::GENERAL_ONLY;
        GENERAL_ONLY.with(|g| g.set(true));
        let general = run(false);
        GENERAL_ONLY.with(|g| g.set(false));
        assert_eq!(run(true), general);
        assert_eq!(
            general.0,
            vec![
                d(b"abcd", 1),
                d(b"efgh", 4),
                d(b"ijkl", 3),
                d(b"mnop", 6),
                Got::Gap(4, 10),
                d(b"uvw", 11),
            ]
        );
        // The edges: 1 and WINDOW bytes ahead are acted on; 0, WINDOW + 1 and behind not.
        let rig = Rig::new(1000, 1 << 16, 1 << 20);
        let next = 1000u32;
        for (ack, nothing) in [
            (next, true),
            (next + 1, false),
            (next + WINDOW, false),
            (next + WINDOW + 1, true),
            (next - 1, true),
            (next.wrapping_sub(WINDOW), true),
        ] {
            assert_eq!(rig.r.ack_changes_nothing(ack), nothing, "ack {ack}");
        }
        assert!(StreamReassembler::new().ack_changes_nothing(5));
        assert_eq!((general.1, general.2), (23, Some(1023)));
    }

    fn own(c: StreamChunk<'_>) -> Got {
        match c {
            StreamChunk::Data(b, c) => {
                assert!(!b.is_empty(), "empty data chunk");
                Got::Data(b.to_vec(), c.frame)
            }
            StreamChunk::Gap(n, c) => {
                assert!(n > 0, "empty gap");
                Got::Gap(n, c.frame)
            }
        }
    }

    fn outcome(dup: u32, conflict: bool, cut: u32) -> SegmentOutcome {
        SegmentOutcome {
            duplicate_bytes: dup,
            overlap_conflict: conflict,
            cut_bytes: cut,
            out_of_window_bytes: 0,
        }
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn idle_reassembler_is_small() {
        assert_eq!(std::mem::size_of::<StreamReassembler>(), 24);
    }

    #[test]
    fn in_order_passes_through() {
        let mut t = Rig::new(1000, 100, 100);
        assert_eq!(t.seg(1000, b"abc", 1), outcome(0, false, 0));
        assert_eq!(t.seg(1003, b"de", 2), outcome(0, false, 0));
        assert_eq!(t.take(), vec![d(b"abc", 1), d(b"de", 2)]);
        assert_eq!(t.r.next_seq(), Some(1005));
        assert_eq!(t.r.delivered(), 5);
        assert_eq!(t.r.buffered_pieces(), 0);
        t.flush(3);
        assert_eq!(t.take(), vec![]);
    }

    #[test]
    fn first_segment_fixes_start_without_syn() {
        let mut r = StreamReassembler::new();
        let mut b = ReassemblyBudget::new(100);
        let mut got = Vec::new();
        r.segment(77, b"xy", ctx(1), 100, &mut b, &mut |c| got.push(own(c)));
        assert_eq!(got, vec![d(b"xy", 1)]);
        assert_eq!(r.next_seq(), Some(79));
        // Empty segments (pure acks) do nothing.
        let mut r = StreamReassembler::new();
        r.segment(5, b"", ctx(1), 100, &mut b, &mut |c| got.push(own(c)));
        assert_eq!(r.next_seq(), None);
    }

    #[test]
    fn reversed_order_delivered_in_order_with_each_frame() {
        let mut t = Rig::new(0, 100, 100);
        assert_eq!(t.seg(6, b"ghi", 3), outcome(0, false, 0));
        assert_eq!(t.seg(3, b"def", 2), outcome(0, false, 0));
        assert_eq!(t.take(), vec![]);
        assert_eq!(t.r.buffered(), 6);
        assert_eq!(t.budget.used, 6);
        assert_eq!(t.r.buffered_pieces(), 2);
        assert_eq!(t.seg(0, b"abc", 1), outcome(0, false, 0));
        assert_eq!(t.take(), vec![d(b"abc", 1), d(b"def", 2), d(b"ghi", 3)]);
        assert_eq!(t.budget.used, 0);
        assert_eq!(t.r.next_seq(), Some(9));
    }

    #[test]
    fn duplicate_retransmission_first_copy_wins() {
        let mut t = Rig::new(0, 100, 100);
        t.seg(0, b"abc", 1);
        // Retransmission of delivered bytes: not compared, only counted.
        assert_eq!(t.seg(0, b"abc", 2), outcome(3, false, 0));
        assert_eq!(t.seg(1, b"XY", 3), outcome(2, false, 0));
        // Retransmission of buffered bytes.
        t.seg(5, b"fg", 4);
        assert_eq!(t.seg(5, b"fg", 5), outcome(2, false, 0));
        assert_eq!(t.seg(3, b"de", 6), outcome(0, false, 0));
        assert_eq!(t.take(), vec![d(b"abc", 1), d(b"de", 6), d(b"fg", 4)]);
    }

    #[test]
    fn overlap_with_different_bytes_sets_conflict() {
        let mut t = Rig::new(0, 100, 100);
        t.seg(4, b"efgh", 1);
        assert_eq!(t.seg(4, b"eXgh", 2), outcome(4, true, 0));
        // An in-order segment running over the buffered piece: buffered bytes win.
        assert_eq!(t.seg(0, b"abcdEF", 3), outcome(2, true, 0));
        assert_eq!(t.take(), vec![d(b"abcd", 3), d(b"efgh", 1)]);
        // Same bytes over a buffered piece: duplicate, no conflict.
        t.seg(10, b"kl", 4);
        assert_eq!(t.seg(8, b"ijkl", 5), outcome(2, false, 0));
        assert_eq!(t.take(), vec![d(b"ij", 5), d(b"kl", 4)]);
    }

    #[test]
    fn partial_overlaps_on_both_sides() {
        let mut t = Rig::new(100, 100, 100);
        t.seg(104, b"efgh", 1); // 4..8
        t.seg(112, b"mnop", 2); // 12..16
                                // 2..18 overlaps both pieces: new bytes 2..4, 8..12 and 16..18.
        assert_eq!(t.seg(102, b"cdEFGHijklMNOPqr", 3), outcome(8, true, 0));
        assert_eq!(t.r.buffered(), 16);
        assert_eq!(t.r.buffered_pieces(), 5);
        assert_eq!(t.budget.used, 16);
        // Overlap on the left only of what was delivered: 0..3 with 2 new bytes.
        assert_eq!(t.seg(100, b"ab", 4), outcome(0, false, 0));
        assert_eq!(
            t.take(),
            vec![
                d(b"ab", 4),
                d(b"cd", 3),
                d(b"efgh", 1),
                d(b"ijkl", 3),
                d(b"mnop", 2),
                d(b"qr", 3),
            ]
        );
        // Overlap on the left with delivered bytes, new bytes on the right.
        assert_eq!(t.seg(116, b"QRst", 5), outcome(2, false, 0));
        assert_eq!(t.take(), vec![d(b"st", 5)]);
        assert_eq!(t.budget.used, 0);
    }

    #[test]
    fn missing_segment_then_ack_beyond_gives_gap_then_buffered() {
        let mut t = Rig::new(1000, 100, 100);
        t.seg(1000, b"abc", 1);
        // 1003..1008 lost; 1008..1011 and 1014..1016 buffered.
        t.seg(1008, b"ijk", 3);
        t.seg(1014, b"op", 4);
        assert_eq!(t.take(), vec![d(b"abc", 1)]);
        // Acks at or before the next expected byte change nothing.
        t.ack(1003, 5);
        t.ack(999, 5);
        assert_eq!(t.take(), vec![]);
        // The peer acknowledged up to 1010: gap 1003..1008, then the contiguous piece.
        t.ack(1010, 6);
        assert_eq!(t.take(), vec![Got::Gap(5, 6), d(b"ijk", 3)]);
        assert_eq!(t.r.next_seq(), Some(1011));
        // Ack beyond everything: gap 1011..1014, piece, gap 1016..1020.
        t.ack(1020, 7);
        assert_eq!(t.take(), vec![Got::Gap(3, 7), d(b"op", 4), Got::Gap(4, 7)]);
        assert_eq!(t.r.next_seq(), Some(1020));
        assert_eq!(t.budget.used, 0);
        // The lost bytes arriving late are duplicates now.
        assert_eq!(t.seg(1003, b"defgh", 8), outcome(5, false, 0));
        assert_eq!(t.take(), vec![]);
    }

    #[test]
    fn garbage_ack_and_segment_ignored() {
        let mut t = Rig::new(0, 100, 100);
        t.seg(0, b"ab", 1);
        t.ack(WINDOW + 10, 2);
        assert_eq!(t.take(), vec![d(b"ab", 1)]);
        assert_eq!(t.r.delivered(), 2);
        let o = t.seg(2 + WINDOW + 1, b"zz", 3);
        assert_eq!(o.out_of_window_bytes, 2);
        assert_eq!(t.r.buffered(), 0);
        // Far behind, too.
        let o = t.seg(2u32.wrapping_sub(WINDOW + 1), b"zz", 4);
        assert_eq!(o.out_of_window_bytes, 2);
        // Bytes before the start of the stream are out of window, the rest delivered.
        let mut t = Rig::new(100, 100, 100);
        let o = t.seg(98, b"xyab", 5);
        assert_eq!(o.out_of_window_bytes, 2);
        assert_eq!(o.duplicate_bytes, 0);
        assert_eq!(t.take(), vec![d(b"ab", 5)]);
    }

    #[test]
    fn flush_with_holes() {
        let mut t = Rig::new(0, 100, 100);
        t.seg(0, b"ab", 1);
        t.seg(4, b"ef", 2);
        t.seg(9, b"jk", 3);
        t.seg(11, b"l", 4);
        t.flush(9);
        assert_eq!(
            t.take(),
            vec![
                d(b"ab", 1),
                Got::Gap(2, 9),
                d(b"ef", 2),
                Got::Gap(3, 9),
                d(b"jk", 3),
                d(b"l", 4),
            ]
        );
        assert_eq!(t.r.next_seq(), Some(12));
        // Flushing again is a no-op.
        t.flush(10);
        assert_eq!(t.take(), vec![]);
    }

    #[test]
    fn per_flow_cap_cuts_and_gap_later() {
        let mut t = Rig::new(0, 5, 100);
        t.seg(10, b"klm", 1); // buffered 3
        assert_eq!(t.seg(20, b"uvwx", 2), outcome(0, false, 2)); // 2 fit, 2 cut
        assert_eq!(t.budget.cut_bytes, 2);
        assert_eq!(t.r.buffered(), 5);
        assert_eq!(t.seg(30, b"z", 3), outcome(0, false, 1));
        assert_eq!(t.budget.cut_bytes, 3);
        // In-order bytes are never cut.
        assert_eq!(t.seg(0, b"0123456789", 4), outcome(0, false, 0));
        assert_eq!(t.take(), vec![d(b"0123456789", 4), d(b"klm", 1)]);
        assert_eq!(t.r.buffered(), 2);
        t.ack(24, 5);
        assert_eq!(t.take(), vec![Got::Gap(7, 5), d(b"uv", 2), Got::Gap(2, 5)]);
        // The cut bytes were retransmitted: delivered normally now.
        t.seg(24, b"yz", 6);
        assert_eq!(t.take(), vec![d(b"yz", 6)]);
    }

    #[test]
    fn global_budget_shared_by_two_reassemblers() {
        let mut budget = ReassemblyBudget::new(10);
        let mut a = StreamReassembler::new();
        let mut b = StreamReassembler::new();
        a.start_at(0);
        b.start_at(5000);
        let mut got = Vec::new();
        let mut sink = |c: StreamChunk<'_>| got.push(own(c));
        let o = a.segment(10, b"aaaaaa", ctx(1), 100, &mut budget, &mut sink);
        assert_eq!(o, outcome(0, false, 0));
        let o = b.segment(5010, b"bbbbbb", ctx(2), 100, &mut budget, &mut sink);
        assert_eq!(o, outcome(0, false, 2));
        assert_eq!((a.buffered(), b.buffered(), budget.used), (6, 4, 10));
        assert_eq!(budget.cut_bytes, 2);
        let o = a.segment(20, b"c", ctx(3), 100, &mut budget, &mut sink);
        assert_eq!(o, outcome(0, false, 1));
        a.flush(ctx(4), &mut budget, &mut sink);
        assert_eq!(budget.used, 4);
        let o = b.segment(5020, b"dd", ctx(5), 100, &mut budget, &mut sink);
        assert_eq!(o, outcome(0, false, 0));
        assert_eq!(budget.used, 6);
        b.discard(&mut budget);
        assert_eq!((b.buffered(), budget.used, budget.cut_bytes), (0, 0, 3));
        assert_eq!(got, vec![Got::Gap(10, 4), d(b"aaaaaa", 1)]);
    }

    #[test]
    fn piece_count_is_bounded() {
        let mut t = Rig::new(0, 1 << 20, 1 << 20);
        for i in 0..MAX_SEGMENTS as u32 {
            t.seg(2 + 2 * i, b"x", 1);
        }
        assert_eq!(t.r.buffered_pieces(), MAX_SEGMENTS);
        let last_end = 2 + 2 * MAX_SEGMENTS as u32 - 1;
        // Not adjacent to a piece: cut.
        assert_eq!(t.seg(last_end + 5, b"y", 2), outcome(0, false, 1));
        // Directly after the last piece: appended to it.
        assert_eq!(t.seg(last_end, b"z", 3), outcome(0, false, 0));
        assert_eq!(t.r.buffered_pieces(), MAX_SEGMENTS);
        assert_eq!(t.r.buffered(), MAX_SEGMENTS + 1);
        t.seg(0, b"ab", 4);
        let got = t.take();
        assert_eq!(got.len(), 2);
        assert_eq!(got.last(), Some(&d(b"x", 1)));
        assert_eq!(t.r.buffered_pieces(), MAX_SEGMENTS - 1);
    }

    #[test]
    fn sequence_wraps_around_2_pow_32() {
        let first = u32::MAX - 2; // offsets 0,1,2 are MAX-2..=MAX, offset 3 is seq 0
        let mut t = Rig::new(first, 100, 100);
        t.seg(1, b"ef", 3); // offsets 4..6
        t.seg(u32::MAX - 1, b"bcd", 2); // offsets 1..4, crosses the wrap
        assert_eq!(t.take(), vec![]);
        t.seg(first, b"a", 1);
        assert_eq!(t.take(), vec![d(b"a", 1), d(b"bcd", 2), d(b"ef", 3)]);
        assert_eq!(t.r.next_seq(), Some(3));
        // A retransmission from before the wrap is a duplicate, not far-ahead garbage.
        assert_eq!(t.seg(u32::MAX, b"cd", 4), outcome(2, false, 0));
        t.seg(5, b"h", 5);
        t.ack(7, 6);
        assert_eq!(t.take(), vec![Got::Gap(2, 6), d(b"h", 5), Got::Gap(1, 6)]);
    }

    #[test]
    fn stream_longer_than_4_gib() {
        let chunk = vec![7u8; 1 << 20];
        let mut t = Rig::new(12345, 1 << 20, 1 << 20);
        let mut seq = 12345u32;
        let mut count = 0u64;
        let mut sink = |c: StreamChunk<'_>| {
            if let StreamChunk::Data(b, _) = c {
                count += b.len() as u64;
            }
        };
        for _ in 0..4200 {
            t.r.segment(seq, &chunk, ctx(1), 0, &mut t.budget, &mut sink);
            seq = seq.wrapping_add(chunk.len() as u32);
        }
        assert_eq!(count, 4200 << 20);
        assert_eq!(t.r.delivered(), 4200 << 20);
        // Out of order across the 4 GiB boundary still works.
        t.seg(seq.wrapping_add(3), b"de", 2);
        t.seg(seq, b"abc", 1);
        assert_eq!(t.take(), vec![d(b"abc", 1), d(b"de", 2)]);
        assert_eq!(t.r.delivered(), (4200 << 20) + 5);
    }

    /// Splits `0..len` at the sorted `cuts` into (start, end) segments.
    fn segments(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (len + 1)).collect();
        points.push(0);
        points.push(len);
        points.sort_unstable();
        points.dedup();
        points.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Feeds the segments in order (shuffled by the caller), acks the end, flushes, and
    /// returns the reconstructed stream (None where a gap was reported) and the rig.
    fn run(
        bytes: &[u8],
        first: u32,
        segs: &[(usize, usize)],
        cap: usize,
        total: usize,
    ) -> (Vec<Option<u8>>, Rig, u64) {
        let mut t = Rig::new(first, cap, total);
        let mut cut = 0u64;
        for (i, &(s, e)) in segs.iter().enumerate() {
            let o = t.seg(first.wrapping_add(s as u32), &bytes[s..e], i as u64);
            assert!(!o.overlap_conflict);
            cut += u64::from(o.cut_bytes);
        }
        t.ack(first.wrapping_add(bytes.len() as u32), 1_000_000);
        t.flush(1_000_001);
        let mut stream = Vec::new();
        for g in &t.got {
            match g {
                Got::Data(b, _) => stream.extend(b.iter().map(|&x| Some(x))),
                Got::Gap(n, _) => stream.extend((0..*n).map(|_| None)),
            }
        }
        (stream, t, cut)
    }

    proptest! {
        #[test]
        fn any_order_with_duplicates_gives_the_original(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            cuts in proptest::collection::vec(any::<usize>(), 0..40),
            dups in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..20),
            order in proptest::collection::vec(any::<u64>(), 0..80),
            first in any::<u32>(),
        ) {
            let mut segs = segments(bytes.len(), &cuts);
            for (a, b) in dups {
                let (a, b) = (a % (bytes.len() + 1), b % (bytes.len() + 1));
                if a != b {
                    segs.push((a.min(b), a.max(b)));
                }
            }
            // Shuffle by sorting on random keys.
            let mut keyed: Vec<(u64, (usize, usize))> = segs
                .into_iter()
                .enumerate()
                .map(|(i, s)| (order.get(i).copied().unwrap_or(i as u64), s))
                .collect();
            keyed.sort_by_key(|k| k.0);
            let segs: Vec<(usize, usize)> = keyed.into_iter().map(|k| k.1).collect();
            let (stream, t, cut) = run(&bytes, first, &segs, 1 << 20, 1 << 20);
            prop_assert_eq!(cut, 0);
            prop_assert!(t.got.iter().all(|g| matches!(g, Got::Data(..))));
            let expected: Vec<Option<u8>> = bytes.iter().map(|&b| Some(b)).collect();
            prop_assert_eq!(stream, expected);
            prop_assert_eq!(t.budget.used, 0);
        }

        #[test]
        fn missing_segments_and_caps_add_up_to_the_length(
            bytes in proptest::collection::vec(any::<u8>(), 1..600),
            cuts in proptest::collection::vec(any::<usize>(), 0..40),
            drop in proptest::collection::vec(any::<bool>(), 0..40),
            order in proptest::collection::vec(any::<u64>(), 0..40),
            first in any::<u32>(),
            cap in 0usize..300,
            total in 0usize..300,
        ) {
            let segs = segments(bytes.len(), &cuts);
            let mut keyed: Vec<(u64, (usize, usize))> = segs
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !drop.get(*i).copied().unwrap_or(false))
                .map(|(i, s)| (order.get(i).copied().unwrap_or(i as u64), s))
                .collect();
            keyed.sort_by_key(|k| k.0);
            let segs: Vec<(usize, usize)> = keyed.into_iter().map(|k| k.1).collect();
            let (stream, t, cut) = run(&bytes, first, &segs, cap, total);
            prop_assert_eq!(stream.len(), bytes.len());
            // Every delivered byte is the right one.
            for (got, want) in stream.iter().zip(&bytes) {
                if let Some(got) = got {
                    prop_assert_eq!(got, want);
                }
            }
            prop_assert_eq!(t.budget.cut_bytes, cut);
            prop_assert_eq!(t.budget.used, 0);
        }
    }
}
