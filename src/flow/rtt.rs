//! Round-trip times and bytes in flight, per TCP connection.
//!
//! Two things live here:
//!
//! * Wireshark's list of unacknowledged segments (`tcp_unacked_t` in `epan/dissectors/
//!   packet-tcp.c`, end of `tcp_analyze_sequence_number`), which gives tshark's
//!   `tcp.analysis.ack_rtt` and `tcp.analysis.bytes_in_flight`: every segment carrying data,
//!   SYN or FIN is remembered (seq, end, time) until the peer acknowledges it, at most
//!   [`MAX_UNACKED_SEGMENTS`] per direction (Wireshark's cap; what was not remembered is
//!   counted). An ACK whose number equals a remembered segment's end gives the time since
//!   that segment (the oldest one with that end, as Wireshark's newest-first list
//!   overwrites); it drops every segment it covers and trims one it covers in part. After a
//!   segment with payload, bytes in flight are the span from the lowest remembered seq to
//!   the highest end (relative numbers, compared unsigned as Wireshark does), less the SYN or
//!   FIN's virtual byte, shown only between 1 and 2·10⁹ and only while the direction is
//!   "valid": a "previous segment not captured" makes it invalid until the peer sends an ACK.
//!   An `ack_rtt` of exactly zero is not shown, as in tshark.
//! * The RTT estimators a student is asked about: RFC 6298 (SRTT, RTTVAR, RTO with its
//!   1 s floor, Karn's rule: no sample from an ACK that covers a retransmitted segment) and
//!   the textbook's EstimatedRTT (Kurose & Ross, α = 0.125, β = 0.25 for DevRTT), which the
//!   Wireshark lab computes from every RTT Wireshark shows, so it takes every sample.
//!   Both are kept per sending direction: an ACK from the server measures the client's
//!   segments.
//!
//! The per-packet cost stays small in the common case: while a direction's remembered
//! segments are in sequence order and span less than 2³⁰ bytes (no retransmission among
//! them), an ACK only looks at the oldest ones and bytes in flight is first-to-last; a full
//! pass (what Wireshark does every time) is taken otherwise.

use super::{AnalysisFlags, Direction};
use crate::decode::TcpInfo;
use arrayvec::ArrayVec;
use std::collections::VecDeque;

/// Wireshark's `TCP_MAX_UNACKED_SEGMENTS`: past this many remembered segments a direction
/// remembers no more until ACKs free room.
pub const MAX_UNACKED_SEGMENTS: usize = 10_000;

/// RFC 6298 (2.4): an RTO below one second is rounded up to one second.
const RTO_MIN_NS: f64 = 1e9;
/// RFC 6298 (2.5): an upper bound may be placed on RTO provided it is at least 60 s.
const RTO_MAX_NS: f64 = 60e9;
/// SACK blocks Wireshark keeps for bytes in flight (`num_sack_ranges < MAX_TCP_SACK_RANGES`).
const SACK_BLOCKS_KEPT: usize = 3;
/// Span below which a direction's list counts as ordered (see [`DirSegments::ordered`]).
const ORDERED_SPAN: u32 = 1 << 30;
/// Segments a direction's list keeps in place, before it moves to the heap (48 bytes): a
/// handshake's SYN or a request of one or two segments needs no allocation.
const INLINE_SEGMENTS: usize = 2;
/// Room a list is given on the heap when a flight outgrows [`INLINE_SEGMENTS`] (192
/// bytes): a short response then needs no regrowth of the list; a longer flight grows it as
/// usual.
const FIRST_ROOM: usize = 8;
/// [`Unacked::frame_resent`]'s flag bit (frame numbers stay far below 2^63).
const RESENT_BIT: u64 = 1 << 63;

/// `a > b` in sequence space.
fn gt_seq(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}
/// `a <= b` in sequence space.
fn le_seq(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

/// One remembered segment (Wireshark's `tcp_unacked_t`), 24 bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Unacked {
    seq: u32,
    /// seq + payload (+1 for SYN or FIN).
    nextseq: u32,
    /// Capture time, ns since the epoch.
    ts: i64,
    /// Frame number, with [`RESENT_BIT`] set when the analysis called the segment a
    /// retransmission (of any kind) or out of order: an ACK that covers it gives no RFC 6298
    /// sample (Karn). One word for both keeps the segment at 24 bytes.
    frame_resent: u64,
}

impl Unacked {
    fn new(seq: u32, nextseq: u32, ts: i64, frame: u64, resent: bool) -> Unacked {
        let flag = if resent { RESENT_BIT } else { 0 };
        Unacked {
            seq,
            nextseq,
            ts,
            frame_resent: (frame & !RESENT_BIT) | flag,
        }
    }
    fn frame(&self) -> u64 {
        self.frame_resent & !RESENT_BIT
    }
    fn resent(&self) -> bool {
        self.frame_resent & RESENT_BIT != 0
    }
}

/// A direction's remembered segments, oldest first: in place while at most
/// [`INLINE_SEGMENTS`], on the heap once a flight outgrew that (the heap's room is then kept
/// while the connection is open, as a growing `VecDeque` keeps it, until
/// [`SegQueue::release_if_empty`]). A handshake's lists and a short request's never
/// allocate. Hand-written: `smallvec` has no cheap removal from the front, a fixed-capacity
/// deque (`arraydeque`) no heap beyond it.
#[derive(Clone, Debug)]
enum SegQueue {
    Inline(ArrayVec<Unacked, INLINE_SEGMENTS>),
    Heap(VecDeque<Unacked>),
}

impl Default for SegQueue {
    fn default() -> Self {
        SegQueue::Inline(ArrayVec::new())
    }
}

impl SegQueue {
    #[inline]
    fn len(&self) -> usize {
        match self {
            SegQueue::Inline(v) => v.len(),
            SegQueue::Heap(d) => d.len(),
        }
    }
    #[inline]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The oldest and the newest segment (None when empty), in one look at the variant.
    #[inline(always)]
    fn ends(&self) -> Option<(&Unacked, &Unacked)> {
        match self {
            SegQueue::Inline(v) => Some((v.first()?, v.last()?)),
            SegQueue::Heap(d) => Some((d.front()?, d.back()?)),
        }
    }
    /// The ordered list's walk for ACK number `ack` (see [`DirSegments::ack`]): the
    /// segments it covers are a prefix, dropped; the first one kept may be trimmed. (The
    /// heap's walk is written here, the in-place one out of line: a long transfer's list
    /// lives on the heap and should not pay for the short lists' code.)
    #[inline]
    fn ack_prefix(&mut self, ack: u32, out: &mut AckOutcome) {
        match self {
            SegQueue::Heap(d) => {
                while let Some(s) = d.front_mut() {
                    if !covered_by(s, ack, out) {
                        break;
                    }
                    d.pop_front();
                }
            }
            SegQueue::Inline(v) => ack_in_place(v, ack, out),
        }
    }
    #[inline]
    fn push_back(&mut self, seg: Unacked) {
        match self {
            SegQueue::Heap(d) => d.push_back(seg),
            SegQueue::Inline(_) => self.push_or_spill(seg),
        }
    }
    /// [`SegQueue::push_back`] while in place: moves to the heap when full.
    #[inline(never)]
    fn push_or_spill(&mut self, seg: Unacked) {
        if let SegQueue::Inline(v) = self {
            if let Err(full) = v.try_push(seg) {
                self.spill(full.element());
            }
        }
    }
    /// Moves the full in-place list to the heap, with `seg` after it.
    #[cold]
    #[inline(never)]
    fn spill(&mut self, seg: Unacked) {
        let mut heap = VecDeque::with_capacity(FIRST_ROOM);
        if let SegQueue::Inline(v) = self {
            heap.extend(v.drain(..));
        }
        heap.push_back(seg);
        *self = SegQueue::Heap(heap);
    }
    fn retain_mut(&mut self, keep: impl FnMut(&mut Unacked) -> bool) {
        match self {
            SegQueue::Inline(v) => v.retain(keep),
            SegQueue::Heap(d) => d.retain_mut(keep),
        }
    }
    fn iter(&self) -> impl Iterator<Item = &Unacked> {
        let (a, b): (&[Unacked], &[Unacked]) = match self {
            SegQueue::Inline(v) => (v, &[]),
            SegQueue::Heap(d) => d.as_slices(),
        };
        a.iter().chain(b)
    }
    /// Gives an empty list's heap room back (back to the in-place list).
    fn release_if_empty(&mut self) {
        if matches!(self, SegQueue::Heap(d) if d.is_empty()) {
            *self = SegQueue::default();
        }
    }
    /// Heap room held, in segments (0 in place).
    #[cfg(test)]
    fn heap_room(&self) -> usize {
        match self {
            SegQueue::Inline(_) => 0,
            SegQueue::Heap(d) => d.capacity(),
        }
    }
}

/// Wireshark's step of the ACK loop for one segment `s`: true when `ack` covers it (it is
/// forgotten; the time of the oldest segment that ends at `ack` and whether a resent one
/// is among them noted in `out`), false when it stays (trimmed to `ack` when `ack` falls
/// inside it). In an ordered list the covered segments are a prefix.
#[inline(always)]
fn covered_by(s: &mut Unacked, ack: u32, out: &mut AckOutcome) -> bool {
    if ack == s.nextseq {
        out.matched.get_or_insert((s.ts, s.frame()));
    } else if gt_seq(ack, s.seq) && le_seq(ack, s.nextseq) {
        s.seq = ack;
        return false;
    } else if gt_seq(s.nextseq, ack) {
        return false;
    }
    out.covers_resent |= s.resent();
    true
}

/// [`DirSegments::ordered`] after `seg` joins a list that was `ordered` and held `ends`
/// (its oldest and newest segment; None: it was empty).
#[inline(always)]
fn still_ordered(ordered: bool, ends: Option<(&Unacked, &Unacked)>, seg: &Unacked) -> bool {
    let short = seg.nextseq.wrapping_sub(seg.seq) < ORDERED_SPAN;
    match ends {
        Some((first, last)) => {
            ordered
                && le_seq(last.nextseq, seg.seq)
                && seg.nextseq.wrapping_sub(first.seq) < ORDERED_SPAN
                && short
        }
        None => short,
    }
}

/// [`SegQueue::ack_prefix`] for the in-place list: counts the segments `ack` covers (a
/// prefix), trims the first one kept, and drops the prefix at once.
#[inline(never)]
fn ack_in_place(v: &mut ArrayVec<Unacked, INLINE_SEGMENTS>, ack: u32, out: &mut AckOutcome) {
    let mut covered = 0;
    for s in v.iter_mut() {
        if !covered_by(s, ack, out) {
            break;
        }
        covered += 1;
    }
    if covered > 0 {
        let kept = v.len() - covered;
        v.copy_within(covered.., 0);
        v.truncate(kept);
    }
}

/// One direction's remembered segments, oldest first.
#[derive(Clone, Debug)]
struct DirSegments {
    segs: SegQueue,
    /// Each segment starts at or after the previous one's end and the whole list spans
    /// less than [`ORDERED_SPAN`]: an ACK then can only cover a prefix of the list and
    /// trim its first remaining segment.
    ordered: bool,
    /// Wireshark's `valid_bif`.
    valid_bif: bool,
    /// Segments not remembered because [`MAX_UNACKED_SEGMENTS`] were.
    not_remembered: u32,
    /// Bytes the SACK option of the last segment sent this way covers (Wireshark's
    /// `sack_left_edge` / `sack_right_edge` of at most [`SACK_BLOCKS_KEPT`] blocks; 0 when
    /// it had none): subtracted from the peer's bytes in flight.
    sack_bytes: u32,
}

impl Default for DirSegments {
    fn default() -> Self {
        DirSegments {
            segs: SegQueue::default(),
            ordered: true,
            valid_bif: true,
            not_remembered: 0,
            sack_bytes: 0,
        }
    }
}

/// What an ACK did to the peer's list.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct AckOutcome {
    /// Capture time and frame of the oldest segment whose end is the ACK number.
    matched: Option<(i64, u64)>,
    /// Some segment it dropped or matched was resent.
    covers_resent: bool,
}

impl DirSegments {
    fn push(&mut self, seg: Unacked) {
        // (The heap's list, a long transfer's, written here; the short in-place one out of
        // line.)
        let SegQueue::Heap(d) = &mut self.segs else {
            return self.push_in_place(seg);
        };
        if d.len() >= MAX_UNACKED_SEGMENTS {
            self.not_remembered = self.not_remembered.saturating_add(1);
            return;
        }
        let ends = d.front().zip(d.back());
        self.ordered = still_ordered(self.ordered, ends, &seg);
        d.push_back(seg);
    }

    /// [`DirSegments::push`] while the list is in place (far below the cap).
    #[inline(never)]
    fn push_in_place(&mut self, seg: Unacked) {
        self.ordered = still_ordered(self.ordered, self.segs.ends(), &seg);
        self.segs.push_back(seg);
    }

    /// Wireshark's loop over the peer's list for ACK number `ack` (run for every segment,
    /// whatever its flags, as there).
    fn ack(&mut self, ack: u32) -> AckOutcome {
        let mut out = AckOutcome::default();
        let Some((first, last)) = self.segs.ends() else {
            return out;
        };
        // Every comparison of `ack` with the list's numbers agrees with their order when
        // the list is ordered and `ack` lies within 2^30 of it.
        let near = |first: &Unacked, last: &Unacked| {
            ack.wrapping_sub(first.seq.wrapping_sub(ORDERED_SPAN))
                <= last
                    .nextseq
                    .wrapping_sub(first.seq)
                    .wrapping_add(2 * ORDERED_SPAN)
        };
        if self.ordered && near(first, last) {
            self.segs.ack_prefix(ack, &mut out);
        } else {
            self.segs.retain_mut(|s| !covered_by(s, ack, &mut out));
            self.reorder_check();
        }
        if self.segs.is_empty() {
            self.ordered = true;
        }
        out
    }

    /// Recomputes [`DirSegments::ordered`] after a full pass.
    fn reorder_check(&mut self) {
        let Some((first, _)) = self.segs.ends() else {
            self.ordered = true;
            return;
        };
        let base = first.seq;
        let mut end = base;
        self.ordered = self.segs.iter().all(|s| {
            let ok = le_seq(end, s.seq) && s.nextseq.wrapping_sub(base) < ORDERED_SPAN;
            end = s.nextseq;
            ok
        });
    }

    /// Highest end less lowest seq, relative to `base` and compared unsigned (Wireshark's
    /// `last_seq - first_seq`). None when nothing is remembered.
    #[inline]
    fn span(&self, base: u32) -> Option<u32> {
        let (first, last) = self.segs.ends()?;
        let (lo, hi) = (
            first.seq.wrapping_sub(base),
            last.nextseq.wrapping_sub(base),
        );
        if self.ordered && lo <= hi {
            return Some(hi - lo);
        }
        let lo = self.segs.iter().map(|s| s.seq.wrapping_sub(base)).min()?;
        let hi = self
            .segs
            .iter()
            .map(|s| s.nextseq.wrapping_sub(base))
            .max()?;
        Some(hi.wrapping_sub(lo))
    }
}

/// RFC 6298's estimator and the textbook's, for one sending direction. Times in ns.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RttEstimator {
    /// RFC 6298 samples taken (ACKs of segments never resent).
    pub samples: u32,
    /// Samples Karn's rule left out.
    pub karn_skipped: u32,
    pub srtt_ns: f64,
    pub rttvar_ns: f64,
    /// Textbook samples taken (every ack_rtt).
    pub textbook_samples: u32,
    pub estimated_ns: f64,
    pub dev_ns: f64,
}

/// The estimators after one sample, as the packet that gave it shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RttEstimate {
    /// Direction of the segments measured (the opposite of the ACK's).
    pub measured: Option<Direction>,
    pub sample_ns: f64,
    /// Karn's rule: this ACK covers a resent segment, RFC 6298 took no sample.
    pub karn_skipped: bool,
    /// RFC 6298 after this ACK (None before its first sample).
    pub srtt_ns: Option<f64>,
    pub rttvar_ns: Option<f64>,
    pub rto_ns: Option<f64>,
    /// Textbook EstimatedRTT, DevRTT and TimeoutInterval after this sample.
    pub estimated_ns: f64,
    pub dev_ns: f64,
    pub timeout_ns: f64,
}

impl RttEstimator {
    /// RFC 6298 section 2: the first measurement R sets SRTT = R, RTTVAR = R/2; later ones
    /// RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R| (with the old SRTT), then SRTT = 7/8 SRTT + 1/8 R.
    pub fn rfc6298_sample(&mut self, r: f64) {
        if self.samples == 0 {
            self.srtt_ns = r;
            self.rttvar_ns = r / 2.0;
        } else {
            self.rttvar_ns = 0.75 * self.rttvar_ns + 0.25 * (self.srtt_ns - r).abs();
            self.srtt_ns = 0.875 * self.srtt_ns + 0.125 * r;
        }
        self.samples += 1;
    }

    /// RTO = SRTT + max(G, 4·RTTVAR) (G, the clock granularity, taken as 0: a capture's
    /// clock is finer than any RTT it shows), at least 1 s, at most 60 s. None before the
    /// first sample (RFC 6298 then says 1 s).
    pub fn rto_ns(&self) -> Option<f64> {
        (self.samples > 0)
            .then(|| (self.srtt_ns + 4.0 * self.rttvar_ns).clamp(RTO_MIN_NS, RTO_MAX_NS))
    }

    /// The textbook: EstimatedRTT = SampleRTT for the first sample, then
    /// EstimatedRTT = 0.875·EstimatedRTT + 0.125·SampleRTT and
    /// DevRTT = 0.75·DevRTT + 0.25·|SampleRTT − EstimatedRTT| (DevRTT starts at
    /// SampleRTT/2, as RFC 6298's RTTVAR; the new EstimatedRTT, in the book's order).
    pub fn textbook_sample(&mut self, r: f64) {
        if self.textbook_samples == 0 {
            self.estimated_ns = r;
            self.dev_ns = r / 2.0;
        } else {
            self.estimated_ns = 0.875 * self.estimated_ns + 0.125 * r;
            self.dev_ns = 0.75 * self.dev_ns + 0.25 * (r - self.estimated_ns).abs();
        }
        self.textbook_samples += 1;
    }
}

/// What this module says of one packet.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SegmentRtt {
    /// tshark's `tcp.analysis.ack_rtt` in ns (may be negative when the capture's clock went
    /// back); 0: none.
    pub ack_rtt_ns: i64,
    /// tshark's `tcp.analysis.acks_frame`: the frame of the segment this ACK times; 0: none.
    pub acked_frame: u64,
    /// tshark's `tcp.analysis.bytes_in_flight`; 0: none.
    pub bytes_in_flight: u32,
    /// The estimators, on a packet that gave a sample.
    pub estimate: Option<RttEstimate>,
}

/// What the SACK blocks of a segment cover (the first [`SACK_BLOCKS_KEPT`]).
#[cold]
fn sack_bytes(tcp: &TcpInfo) -> u32 {
    tcp.options
        .sack
        .iter()
        .take(SACK_BLOCKS_KEPT)
        .fold(0u32, |sum, (left, right)| {
            sum.wrapping_add(right.wrapping_sub(*left))
        })
}

/// Per-connection state (both directions).
#[derive(Clone, Debug, Default)]
pub struct TcpRtt {
    /// Indexed by [`Direction::index`] of the segments' sender.
    dirs: [DirSegments; 2],
    /// Per sending direction. In place, not boxed: nearly every connection has one from its
    /// handshake (the SYN-ACK times the SYN), and a box cost an allocation and a free per
    /// connection for 96 bytes.
    estimators: [RttEstimator; 2],
}

impl TcpRtt {
    pub fn new() -> TcpRtt {
        TcpRtt::default()
    }

    /// Gives back the room of unacked-segment lists that are empty (a closed connection
    /// lingering for late packets needs none; a late segment makes room again).
    pub fn release_empty_lists(&mut self) {
        for d in &mut self.dirs {
            d.segs.release_if_empty();
        }
    }

    /// One segment (frame `frame`), after the sequence analysis gave `flags`; `base` is the
    /// sender's base sequence number (Wireshark's `fwd->base_seq`), `now` the capture time
    /// in ns. What it says of the segment is written into `out` (every field set): the
    /// analysis's result is filled in place, not copied in from a returned value on every
    /// packet.
    #[inline(always)]
    pub fn on_segment(
        &mut self,
        out: &mut SegmentRtt,
        dir: Direction,
        tcp: &TcpInfo,
        (now, frame): (i64, u64),
        flags: AnalysisFlags,
        base: u32,
    ) {
        let (s, r) = (dir.index(), dir.reverse().index());
        let syn_fin = tcp.flags.syn() || tcp.flags.fin();
        // Done at the top of tcp_analyze_sequence_number: an ACK revalidates the peer's
        // bytes in flight, a segment past a hole invalidates the sender's.
        if tcp.flags.ack() {
            self.dirs[r].valid_bif = true;
        }
        if flags.has(AnalysisFlags::LOST_SEGMENT) {
            self.dirs[s].valid_bif = false;
        }
        self.dirs[s].sack_bytes = if tcp.options.sack.is_empty() {
            0
        } else {
            sack_bytes(tcp)
        };
        let seglen = tcp.payload_len;
        if seglen > 0 || syn_fin {
            let resent = flags.0
                & (AnalysisFlags::RETRANSMISSION
                    | AnalysisFlags::FAST_RETRANSMISSION
                    | AnalysisFlags::SPURIOUS_RETRANSMISSION
                    | AnalysisFlags::OUT_OF_ORDER)
                != 0;
            let nextseq = tcp
                .seq
                .wrapping_add(seglen)
                .wrapping_add(u32::from(syn_fin));
            self.dirs[s].push(Unacked::new(tcp.seq, nextseq, now, frame, resent));
        }
        // (Nothing remembered the other way, as after most of a short exchange's ACKs: no
        // call.)
        let acked = if self.dirs[r].segs.is_empty() {
            AckOutcome::default()
        } else {
            self.dirs[r].ack(tcp.ack)
        };
        (out.ack_rtt_ns, out.acked_frame, out.estimate) = match acked.matched {
            Some((ts, acked_frame)) => {
                let ack_rtt_ns = now.wrapping_sub(ts);
                let estimate = (ack_rtt_ns != 0)
                    .then(|| self.sample(dir.reverse(), ack_rtt_ns, acked.covers_resent));
                (ack_rtt_ns, acked_frame, estimate)
            }
            None => (0, 0, None),
        };
        out.bytes_in_flight = 0;
        if seglen != 0 && self.dirs[s].valid_bif {
            if let Some(span) = self.dirs[s].span(base) {
                let in_flight = span.wrapping_sub(self.dirs[r].sack_bytes);
                if in_flight > 0 && in_flight < 2_000_000_000 {
                    out.bytes_in_flight = in_flight - u32::from(syn_fin);
                }
            }
        }
    }

    /// Out of line (inlined, it made the per-packet function slower), but not `#[cold]`:
    /// about half of all packets take a sample (every ACK that times a segment).
    #[inline(never)]
    fn sample(&mut self, measured: Direction, rtt_ns: i64, resent: bool) -> RttEstimate {
        let e = &mut self.estimators[measured.index()];
        let r = rtt_ns as f64;
        e.textbook_sample(r);
        if resent {
            e.karn_skipped += 1;
        } else {
            e.rfc6298_sample(r);
        }
        let has = e.samples > 0;
        RttEstimate {
            measured: Some(measured),
            sample_ns: r,
            karn_skipped: resent,
            srtt_ns: has.then_some(e.srtt_ns),
            rttvar_ns: has.then_some(e.rttvar_ns),
            rto_ns: e.rto_ns(),
            estimated_ns: e.estimated_ns,
            dev_ns: e.dev_ns,
            timeout_ns: e.estimated_ns + 4.0 * e.dev_ns,
        }
    }

    /// The estimator of segments sent in `dir` (None before the connection's first sample).
    pub fn estimator(&self, dir: Direction) -> Option<&RttEstimator> {
        // (Every sample counts in the textbook's estimator.)
        let sampled = self.estimators.iter().any(|e| e.textbook_samples > 0);
        sampled.then(|| &self.estimators[dir.index()])
    }

    /// Segments not remembered in `dir` because of [`MAX_UNACKED_SEGMENTS`].
    pub fn not_remembered(&self, dir: Direction) -> u32 {
        self.dirs[dir.index()].not_remembered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{TcpFlags, TcpOptions};
    use Direction::{ToClient as S, ToServer as C};

    /// [`TcpRtt::on_segment`]'s result for one segment, as an expression.
    macro_rules! step {
        ($rtt:expr, $($arg:expr),* $(,)?) => {{
            let mut out = SegmentRtt::default();
            $rtt.on_segment(&mut out, $($arg),*);
            out
        }};
    }

    const SYN: u16 = TcpFlags::SYN;
    const ACK: u16 = TcpFlags::ACK;
    const SA: u16 = TcpFlags::SYN | TcpFlags::ACK;
    const PA: u16 = TcpFlags::PSH | TcpFlags::ACK;
    const FA: u16 = TcpFlags::FIN | TcpFlags::ACK;

    fn seg(flags: u16, seq: u32, ack: u32, len: u32, sack: &[(u32, u32)]) -> TcpInfo {
        let mut options = TcpOptions::default();
        for b in sack {
            let _ = options.sack.try_push(*b);
        }
        TcpInfo {
            src_port: 1,
            dst_port: 2,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 1000,
            header_len: 20,
            options,
            payload_len: len,
        }
    }

    /// (µs, direction, flags, seq, ack, len, analysis flags) through one [`TcpRtt`], bases
    /// as the analyzer gives them (SYN seq, or first seq - 1): per packet (ack_rtt in µs,
    /// bytes in flight).
    fn run(segs: &[(i64, Direction, u16, u32, u32, u32, u16)]) -> Vec<(i64, u32)> {
        let mut rtt = TcpRtt::new();
        let mut base: [Option<u32>; 2] = [None, None];
        segs.iter()
            .enumerate()
            .map(|(i, &(us, dir, flags, seq, ack, len, fl))| {
                let b =
                    *base[dir.index()].get_or_insert(if flags & SYN != 0 { seq } else { seq - 1 });
                let out = step!(
                    rtt,
                    dir,
                    &seg(flags, seq, ack, len, &[]),
                    (us * 1000, i as u64 + 1),
                    AnalysisFlags(fl),
                    b,
                );
                (out.ack_rtt_ns / 1000, out.bytes_in_flight)
            })
            .collect()
    }

    /// zeek's get.pcap (ISNs 1000 and 5000 in place of the real ones, times in µs from the
    /// first frame): what tshark 4.0.17 prints for it, oracle/zeek__get.pcap.rtt.tsv.
    #[test]
    fn ack_rtt_and_bytes_in_flight_as_tshark_on_zeek_get() {
        let segs = [
            (0, C, SYN, 1000, 0, 0, 0),
            (69_740, S, SA, 5000, 1001, 0, 0),
            (70_034, C, ACK, 1001, 5001, 0, 0),
            (70_183, C, PA, 1001, 5001, 136, 0),
            (139_165, S, ACK, 5001, 1137, 0, 0),
            (140_168, S, ACK, 5001, 1137, 1448, 0),
            (140_377, S, ACK, 6449, 1137, 1448, 0),
            (140_421, S, ACK, 7897, 1137, 1448, 0),
            (140_431, S, PA, 9345, 1137, 663, 0),
            (140_511, C, ACK, 1137, 7897, 0, 0),
            (140_543, C, ACK, 1137, 10008, 0, 0),
            (142_502, C, FA, 1137, 10008, 0, 0),
            (211_484, S, FA, 10008, 1138, 0, 0),
            (211_628, C, ACK, 1138, 10009, 0, 0),
        ];
        assert_eq!(
            run(&segs),
            [
                (0, 0),
                (69_740, 0),
                (294, 0),
                (0, 136),
                (68_982, 0),
                (0, 1448),
                (0, 2896),
                (0, 4344),
                (0, 5007),
                (134, 0),
                (112, 0),
                (0, 0),
                (68_982, 0),
                (144, 0),
            ]
        );
    }

    #[test]
    fn partial_acks_trim_and_the_oldest_repeat_gives_the_time() {
        let segs = [
            (0, C, PA, 1001, 5001, 100, 0),
            (10, C, PA, 1101, 5001, 100, 0),
            // Acks the first 50 bytes: no match, the first segment is trimmed to 1051..1101.
            (1_000, S, ACK, 5001, 1051, 0, 0),
            // Resent: 1101..1201 is remembered twice (the list is no longer in order).
            (2_000, C, PA, 1101, 5001, 100, AnalysisFlags::RETRANSMISSION),
            // Still in flight: 1051..1201 = 150.
            (2_100, C, PA, 1201, 5001, 10, 0),
            // Acks 1201: the oldest segment ending there was sent at 10 µs.
            (3_010, S, ACK, 5001, 1201, 0, 0),
        ];
        assert_eq!(
            run(&segs),
            [(0, 100), (0, 200), (0, 0), (0, 150), (0, 160), (3_000, 0)]
        );
    }

    /// A flight longer than the list's first room (20 segments of 100 bytes, one every
    /// 10 µs): the list grows and keeps every segment in order. Bytes in flight climb by 100
    /// each; the ACK of the 12th segment's end (2201) at 1,000 µs times it from 110 µs, and
    /// the last segment after it has 800 bytes in flight (2201..3001).
    #[test]
    fn a_flight_longer_than_the_first_room_is_remembered_whole() {
        let mut segs: Vec<_> = (0..20u32)
            .map(|i| (i64::from(i) * 10, C, PA, 1001 + i * 100, 5001, 100, 0))
            .collect();
        segs.push((1_000, S, ACK, 5001, 2201, 0, 0));
        segs.push((1_010, C, PA, 3001, 5001, 0, 0));
        segs.push((1_020, S, ACK, 5001, 3001, 0, 0));
        let mut want: Vec<_> = (1..=20u32).map(|i| (0, i * 100)).collect();
        want.extend([(890, 0), (0, 0), (830, 0)]);
        assert_eq!(run(&segs), want);
        const { assert!(FIRST_ROOM < 20) };
    }

    /// Room: a handshake and a request of up to [`INLINE_SEGMENTS`] segments take no heap
    /// room; a longer flight moves the list to [`FIRST_ROOM`] on the heap, which it keeps
    /// when acked, until [`TcpRtt::release_empty_lists`] gives it back. The segments keep
    /// their order across the move (the ACK of the second times the second, frame 6; the
    /// ACK of the last times the last).
    #[test]
    fn short_lists_stay_in_place_a_longer_flight_moves_to_the_heap() {
        let mut rtt = TcpRtt::new();
        let none = AnalysisFlags::default();
        let room = |rtt: &TcpRtt| rtt.dirs.each_ref().map(|d| d.segs.heap_room());
        step!(rtt, C, &seg(SYN, 1000, 0, 0, &[]), (0, 1), none, 1000);
        step!(rtt, S, &seg(SA, 5000, 1001, 0, &[]), (10, 2), none, 5000);
        step!(rtt, C, &seg(ACK, 1001, 5001, 0, &[]), (20, 3), none, 1000);
        step!(rtt, C, &seg(PA, 1001, 5001, 100, &[]), (30, 4), none, 1000);
        assert_eq!(room(&rtt), [0, 0]);
        for i in 0..=INLINE_SEGMENTS as u32 {
            let s = seg(ACK, 5001 + i * 100, 1101, 100, &[]);
            step!(
                rtt,
                S,
                &s,
                (40 + i64::from(i), 5 + u64::from(i)),
                none,
                5000
            );
        }
        assert_eq!(room(&rtt), [0, FIRST_ROOM]);
        let acked = step!(rtt, C, &seg(ACK, 1101, 5201, 0, &[]), (90, 20), none, 1000);
        assert_eq!((acked.ack_rtt_ns, acked.acked_frame), (90 - 41, 6));
        let end = 5001 + 100 * (INLINE_SEGMENTS as u32 + 1);
        let acked = step!(rtt, C, &seg(ACK, 1101, end, 0, &[]), (95, 21), none, 1000);
        assert_eq!(acked.acked_frame, 5 + INLINE_SEGMENTS as u64);
        assert_eq!(room(&rtt), [0, FIRST_ROOM]);
        rtt.release_empty_lists();
        assert_eq!(room(&rtt), [0, 0]);
    }

    #[test]
    fn a_hole_hides_bytes_in_flight_until_the_peer_acks() {
        let lost = AnalysisFlags::LOST_SEGMENT;
        let segs = [
            (0, C, PA, 1001, 5001, 100, 0),
            (10, C, PA, 1201, 5001, 100, lost),
            (20, C, PA, 1301, 5001, 100, 0),
            (30, S, ACK, 5001, 1101, 0, 0),
            (40, C, PA, 1401, 5001, 100, 0),
        ];
        // After the ACK of 1101: 1201..1501 remembered.
        assert_eq!(run(&segs), [(0, 100), (0, 0), (0, 0), (30, 0), (0, 300)]);
    }

    #[test]
    fn sack_blocks_of_the_peers_last_segment_count_as_delivered() {
        let mut rtt = TcpRtt::new();
        let t = |ms: i64| ms * 1_000_000;
        let none = AnalysisFlags::default();
        let mut on = |dir, s: &TcpInfo, at: i64, fl, base| step!(rtt, dir, s, (t(at), 0), fl, base);
        for (i, seq) in [1001u32, 1101, 1201].iter().enumerate() {
            on(C, &seg(PA, *seq, 5001, 100, &[]), i as i64, none, 1000);
        }
        // The server acks 1101 and SACKs 1201..1301 (100) and 1401..1421 (20, not sent yet).
        let ack = seg(ACK, 5001, 1101, 0, &[(1201, 1301), (1401, 1421)]);
        assert_eq!(on(S, &ack, 10, none, 5000).ack_rtt_ns, t(10));
        // 1101..1401 remembered = 300, less 120 SACKed.
        let next = seg(PA, 1301, 5001, 100, &[]);
        assert_eq!(on(C, &next, 11, none, 1000).bytes_in_flight, 180);
        // A server segment without SACK clears them.
        on(S, &seg(ACK, 5001, 1101, 0, &[]), 12, none, 5000);
        let next = seg(PA, 1401, 5001, 100, &[]);
        assert_eq!(on(C, &next, 13, none, 1000).bytes_in_flight, 400);
    }

    /// Hand-worked RFC 6298 and textbook numbers (ms): samples 1000, 2000, then a resent
    /// segment's 500 (Karn: RFC 6298 leaves it out, the textbook takes it).
    ///
    /// RFC 6298: R1 = 1000: SRTT 1000, RTTVAR 500, RTO 1000 + 4·500 = 3000.
    /// R2 = 2000: RTTVAR = 0.75·500 + 0.25·|1000 − 2000| = 625, SRTT = 0.875·1000 +
    /// 0.125·2000 = 1125, RTO = 1125 + 2500 = 3625.
    /// Textbook: Est 1000, Dev 500; Est = 1125, Dev = 0.75·500 + 0.25·|2000 − 1125| =
    /// 593.75; then 500: Est = 0.875·1125 + 0.125·500 = 1046.875, Dev = 0.75·593.75 +
    /// 0.25·|500 − 1046.875| = 582.03125, TimeoutInterval = 1046.875 + 2328.125 = 3375.
    #[test]
    fn rfc6298_and_textbook_estimates_by_hand() {
        let ms = |v: i64| v * 1_000_000;
        let mut rtt = TcpRtt::new();
        let none = AnalysisFlags::default();
        let mut on =
            |dir, s: &TcpInfo, at: i64, fl, base| step!(rtt, dir, s, (ms(at), 0), fl, base);
        on(C, &seg(PA, 1001, 5001, 100, &[]), 0, none, 1000);
        let e1 = on(S, &seg(ACK, 5001, 1101, 0, &[]), 1000, none, 5000);
        let e1 = e1.estimate.unwrap();
        assert_eq!(e1.measured, Some(C));
        assert_eq!(
            (e1.srtt_ns, e1.rttvar_ns, e1.rto_ns),
            (Some(1e9), Some(0.5e9), Some(3e9))
        );
        on(C, &seg(PA, 1101, 5001, 100, &[]), 2000, none, 1000);
        let e2 = on(S, &seg(ACK, 5001, 1201, 0, &[]), 4000, none, 5000);
        let e2 = e2.estimate.unwrap();
        assert_eq!(
            (e2.srtt_ns, e2.rttvar_ns, e2.rto_ns),
            (Some(1125e6), Some(625e6), Some(3625e6))
        );
        assert_eq!((e2.estimated_ns, e2.dev_ns), (1125e6, 593.75e6));
        let resent = AnalysisFlags(AnalysisFlags::RETRANSMISSION);
        on(C, &seg(PA, 1201, 5001, 100, &[]), 5000, none, 1000);
        on(C, &seg(PA, 1201, 5001, 100, &[]), 6000, resent, 1000);
        // Both copies end at 1301: tshark times the ACK from the oldest (6500 − 5000 =
        // 1500 ms), though it may answer the resend (500 ms): Karn's rule's ambiguity.
        let e3 = on(S, &seg(ACK, 5001, 1301, 0, &[]), 6500, none, 5000);
        assert_eq!(e3.ack_rtt_ns, ms(1500));
        let e3 = e3.estimate.unwrap();
        assert!(e3.karn_skipped);
        assert_eq!(e3.srtt_ns, Some(1125e6));
        assert_eq!(e3.rto_ns, Some(3625e6));
        // The textbook takes tshark's 1500: Est = 0.875·1125 + 0.125·1500 = 1171.875,
        // Dev = 0.75·593.75 + 0.25·|1500 − 1171.875| = 527.34375.
        assert_eq!((e3.estimated_ns, e3.dev_ns), (1171.875e6, 527.34375e6));
        assert_eq!(e3.timeout_ns, 1171.875e6 + 4.0 * 527.34375e6);
        let est = rtt.estimator(C).unwrap();
        assert_eq!(
            (est.samples, est.karn_skipped, est.textbook_samples),
            (2, 1, 3)
        );
        // The floor: one 100 ms sample gives 100 + 200 = 300 ms, rounded up to 1 s.
        let mut small = RttEstimator::default();
        small.rfc6298_sample(100e6);
        assert_eq!(small.rto_ns(), Some(1e9));
    }

    /// Wireshark's loops written plainly (newest-first list, full passes every time): the
    /// reference the ordered shortcuts must agree with.
    #[derive(Default)]
    struct Plain {
        segs: [Vec<(u32, u32, i64)>; 2],
        valid: [bool; 2],
        sack: [u32; 2],
    }

    impl Plain {
        fn on(
            &mut self,
            dir: Direction,
            t: &TcpInfo,
            now: i64,
            fl: AnalysisFlags,
            base: u32,
        ) -> (i64, u32) {
            let (s, r) = (dir.index(), dir.reverse().index());
            if t.flags.ack() {
                self.valid[r] = true;
            }
            if fl.has(AnalysisFlags::LOST_SEGMENT) {
                self.valid[s] = false;
            }
            self.sack[s] = sack_bytes(t);
            let sf = t.flags.syn() || t.flags.fin();
            if (t.payload_len > 0 || sf) && self.segs[s].len() < MAX_UNACKED_SEGMENTS {
                let next = t
                    .seq
                    .wrapping_add(t.payload_len)
                    .wrapping_add(u32::from(sf));
                self.segs[s].insert(0, (t.seq, next, now));
            }
            let mut rtt = 0;
            let list = std::mem::take(&mut self.segs[r]);
            let mut kept = Vec::new();
            for (mut seq, next, ts) in list {
                if t.ack == next {
                    rtt = now - ts;
                    continue;
                }
                if gt_seq(t.ack, seq) && le_seq(t.ack, next) {
                    seq = t.ack;
                }
                if gt_seq(next, t.ack) {
                    kept.push((seq, next, ts));
                }
            }
            self.segs[r] = kept;
            let mut bif = 0;
            if t.payload_len != 0 && self.valid[s] && !self.segs[s].is_empty() {
                let lo = self.segs[s]
                    .iter()
                    .map(|x| x.0.wrapping_sub(base))
                    .min()
                    .unwrap();
                let hi = self.segs[s]
                    .iter()
                    .map(|x| x.1.wrapping_sub(base))
                    .max()
                    .unwrap();
                let f = hi.wrapping_sub(lo).wrapping_sub(self.sack[r]);
                if f > 0 && f < 2_000_000_000 {
                    bif = f - u32::from(sf);
                }
            }
            (rtt, bif)
        }
    }

    #[test]
    fn ordered_shortcuts_agree_with_full_passes() {
        let mut next = crate::flow::test_rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..40 {
            let mut fast = TcpRtt::new();
            let mut plain = Plain {
                valid: [true; 2],
                ..Plain::default()
            };
            // Near the wrap in some rounds.
            let isn = [1000u32.wrapping_sub(round * 100_000_000), 5000u32];
            let mut sent = [isn[0] + 1, isn[1] + 1];
            let mut now = 0i64;
            for _ in 0..3000 {
                now += [0, 1, 1000, 50_000][next(4) as usize];
                let dir = if next(3) == 0 { S } else { C };
                let (d, p) = (dir.index(), dir.reverse().index());
                let len = [0, 0, 1, 100, 1448][next(5) as usize];
                let back = [0u32, 0, 0, 1448, 100, 3000][next(6) as usize];
                let seq = sent[d].wrapping_sub(back);
                let ack = sent[p].wrapping_sub([0u32, 0, 100, 1448, 1 << 31][next(5) as usize]);
                let flags = [ACK, PA, PA, FA, SYN][next(5) as usize];
                let sack: &[(u32, u32)] = if next(8) == 0 { &[(7, 107)] } else { &[] };
                let fl = AnalysisFlags(
                    [
                        0,
                        0,
                        0,
                        AnalysisFlags::LOST_SEGMENT,
                        AnalysisFlags::RETRANSMISSION,
                    ][next(5) as usize],
                );
                let t = seg(flags, seq, ack, len, sack);
                let a = step!(fast, dir, &t, (now, 0), fl, isn[d]);
                let b = plain.on(dir, &t, now, fl, isn[d]);
                if next(20) == 0 {
                    // (Changes nothing the lists say, only where they live.)
                    fast.release_empty_lists();
                }
                assert_eq!((a.ack_rtt_ns, a.bytes_in_flight), b, "round {round}");
                if back == 0 {
                    sent[d] = sent[d].wrapping_add(len);
                }
            }
        }
    }
}
