//! Per-direction TCP stream reassembly, bounded, with gaps reported.
//! SKELETON: the reassembly helper implements it.

use super::SegmentCtx;

/// The global budget of buffered out-of-order bytes, shared by all connections.
#[derive(Clone, Debug, Default)]
pub struct ReassemblyBudget {
    pub used: usize,
    pub max_total: usize,
    /// Bytes dropped because a cap was reached (reported in the summary).
    pub cut_bytes: u64,
}

impl ReassemblyBudget {
    pub fn new(max_total: usize) -> ReassemblyBudget {
        ReassemblyBudget {
            used: 0,
            max_total,
            cut_bytes: 0,
        }
    }
}

/// What the reassembler hands on, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamChunk<'a> {
    /// In-order bytes, with the frame that carried them.
    Data(&'a [u8], SegmentCtx),
    /// `len` bytes were never seen (or were cut): the consumer must resynchronise.
    Gap(u64, SegmentCtx),
}

/// What happened to one segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SegmentOutcome {
    /// Bytes already delivered or buffered (retransmitted), dropped: first copy wins.
    pub duplicate_bytes: u32,
    /// Some retransmitted bytes differ from the first copy.
    pub overlap_conflict: bool,
    /// Bytes dropped because a per-flow or global cap was reached.
    pub cut_bytes: u32,
}

/// One direction of a TCP stream.
#[derive(Clone, Debug, Default)]
pub struct StreamReassembler {}

impl StreamReassembler {
    pub fn new() -> StreamReassembler {
        StreamReassembler::default()
    }
    /// The SYN (or first seen segment) fixes where the stream starts: the first data byte
    /// has sequence number `first_seq`.
    pub fn start_at(&mut self, first_seq: u32) {
        let _ = first_seq;
    }
    /// One segment's payload. In-order bytes (and any buffered bytes they make contiguous)
    /// go to `out` at once; later bytes are buffered within `per_flow_cap` and the budget.
    pub fn segment(
        &mut self,
        seq: u32,
        data: &[u8],
        ctx: SegmentCtx,
        per_flow_cap: usize,
        budget: &mut ReassemblyBudget,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) -> SegmentOutcome {
        let _ = (seq, data, ctx, per_flow_cap, budget, out);
        SegmentOutcome::default()
    }
    /// The peer acknowledged up to `ack`: bytes before it that never arrived are a gap;
    /// report it and deliver what was buffered after it.
    pub fn acked(
        &mut self,
        ack: u32,
        ctx: SegmentCtx,
        budget: &mut ReassemblyBudget,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) {
        let _ = (ack, ctx, budget, out);
    }
    /// End of the stream (FIN, RST, close, end of input): deliver everything buffered,
    /// with gaps, and release the buffer.
    pub fn flush(
        &mut self,
        ctx: SegmentCtx,
        budget: &mut ReassemblyBudget,
        out: &mut dyn FnMut(StreamChunk<'_>),
    ) {
        let _ = (ctx, budget, out);
    }
    /// Bytes buffered now.
    pub fn buffered(&self) -> usize {
        0
    }
}
