//! Zeek's conn.log `conn_state` and `history`, per connection.
//!
//! A port of what Zeek's TCP session adapter does per packet (zeek/zeek
//! `src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc`, `Process`), limited to what
//! decides the two conn.log columns:
//!
//! - each endpoint's state (`TCP_INACTIVE`, `SYN_SENT`, `SYN_ACK_SENT`, `PARTIAL`,
//!   `ESTABLISHED`, `CLOSED`, `RESET`) through Zeek's `UpdateStateMachine`, including the
//!   SYN/SYN-ACK reversal that flips the roles (`^`);
//! - the sequence bookkeeping (start, last and ack sequence numbers with wrap counts, as
//!   `TCP_Endpoint` keeps them), which decides whether a SYN/FIN/RST is "new" (`s h f r`
//!   repeat only with a new relative sequence number), a retransmission (`t`), and each
//!   endpoint's size (used by `REJ`);
//! - content gaps (`g`) the way Zeek's reassembler finds them: when the peer acknowledges
//!   bytes that were never seen, while both endpoints are established or cleanly closing.
//!   Zeek enables reassembly for every TCP connection in its default configuration; this
//!   module assumes so;
//! - zero windows (`w`), multi-flag (`q`) and FIN+RST (`i`) packets, and the final
//!   `conn_state` from `scripts/base/protocols/conn/main.zeek`.
//!
//! Checksums are not verified, so `c` never appears. Upper case = originator.
//!
//! Memory per connection is fixed: `size_of::<ZeekState>()` is 392 bytes on 64-bit targets
//! (asserted by a test). The history keeps at most [`HISTORY_CAP`] letters (what was cut is
//! counted by [`ZeekState::history_cut`]); out-of-order data is remembered as at most
//! [`MAX_HOLE_RANGES`] ranges per direction (merged ranges are counted by
//! [`ZeekState::holes_forgotten`]).

use super::{Direction, Proto};
use crate::decode::{TcpFlags, TcpInfo};
use arrayvec::ArrayString;

/// Most history letters kept per connection; later letters are counted, not stored.
pub const HISTORY_CAP: usize = 32;
/// Out-of-order ranges remembered per direction for content-gap detection.
pub const MAX_HOLE_RANGES: usize = 3;

/// Zeek's `TOO_LARGE_SEQ_DELTA`: SYN/RST sequence jumps beyond this are not trusted.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;
/// Zeek's `tcp_max_above_hole_without_any_acks` default: beyond this, reassembly gives up.
const MAX_ABOVE_HOLE_WITHOUT_ACKS: u64 = 16_384;

// Zeek's `TCP_Endpoint::HistoryMasks` (responder's are shifted left by 16).
const HIST_SYN_PKT: u32 = 0x1;
const HIST_FIN_PKT: u32 = 0x2;
const HIST_RST_PKT: u32 = 0x4;
const HIST_FIN_RST_PKT: u32 = 0x8;
const HIST_DATA_PKT: u32 = 0x10;
const HIST_ACK_PKT: u32 = 0x20;
const HIST_MULTI_FLAG_PKT: u32 = 0x40;

const ORIG: usize = 0;
const RESP: usize = 1;

/// One TCP endpoint's state as Zeek tracks it (`TCP_ENDPOINT_*`); the discriminant is the
/// number Zeek prints for `c$orig$state`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndpointState {
    /// No packet seen from this side.
    #[default]
    Inactive = 0,
    /// SYN seen, no SYN-ACK.
    SynSent = 1,
    /// SYN-ACK seen without an initial SYN.
    SynAckSent = 2,
    /// Data seen without a SYN.
    Partial = 3,
    Established = 4,
    /// FIN seen.
    Closed = 5,
    /// RST seen.
    Reset = 6,
}

impl EndpointState {
    /// Zeek's script-level name (`TCP_SYN_SENT` …).
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointState::Inactive => "TCP_INACTIVE",
            EndpointState::SynSent => "TCP_SYN_SENT",
            EndpointState::SynAckSent => "TCP_SYN_ACK_SENT",
            EndpointState::Partial => "TCP_PARTIAL",
            EndpointState::Established => "TCP_ESTABLISHED",
            EndpointState::Closed => "TCP_CLOSED",
            EndpointState::Reset => "TCP_RESET",
        }
    }
}

/// Zeek's `ScaledHistoryEntry` counter: a letter at 1, 10, 100, … occurrences.
#[derive(Clone, Copy, Debug)]
struct Scaled {
    count: u32,
    threshold: u32,
}

impl Default for Scaled {
    fn default() -> Self {
        Scaled {
            count: 0,
            threshold: 1,
        }
    }
}

impl Scaled {
    /// Counts one occurrence; true when it earns a history letter.
    fn hit(&mut self) -> bool {
        self.count = self.count.wrapping_add(1);
        if self.count != self.threshold {
            return false;
        }
        let next = self.threshold.wrapping_mul(10);
        if next <= self.threshold {
            self.count = 0;
        } else {
            self.threshold = next;
        }
        true
    }
}

/// Up to [`MAX_HOLE_RANGES`] ranges in order, inline and `Copy`: nothing to drop, so a
/// connection leaving the table never reads it (an `ArrayVec` is cleared on drop, which
/// cost a cold cache line per endpoint and connection).
#[derive(Clone, Copy, Default)]
struct Ranges {
    items: [(u64, u64); MAX_HOLE_RANGES],
    len: u8,
}

impl std::fmt::Debug for Ranges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Ranges {
    fn as_slice(&self) -> &[(u64, u64)] {
        self.items.get(..usize::from(self.len)).unwrap_or(&[])
    }
    fn len(&self) -> usize {
        usize::from(self.len)
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn is_full(&self) -> bool {
        self.len() >= MAX_HOLE_RANGES
    }
    fn first(&self) -> Option<&(u64, u64)> {
        self.as_slice().first()
    }
    fn last(&self) -> Option<&(u64, u64)> {
        self.as_slice().last()
    }
    fn get(&self, i: usize) -> Option<&(u64, u64)> {
        self.as_slice().get(i)
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut (u64, u64)> {
        let n = self.len();
        self.items.get_mut(..n).and_then(|live| live.get_mut(i))
    }
    fn iter(&self) -> std::slice::Iter<'_, (u64, u64)> {
        self.as_slice().iter()
    }
    fn clear(&mut self) {
        self.len = 0;
    }
    /// Inserts `range` at `pos` (at most the length); nothing when full.
    fn insert(&mut self, pos: usize, range: (u64, u64)) {
        let n = self.len();
        if n >= MAX_HOLE_RANGES || pos > n {
            return;
        }
        self.items.copy_within(pos..n, pos + 1);
        if let Some(slot) = self.items.get_mut(pos) {
            *slot = range;
            self.len += 1;
        }
    }
    /// Removes the range at `pos`, if there is one.
    fn remove(&mut self, pos: usize) {
        let n = self.len();
        if pos < n {
            self.items.copy_within(pos + 1..n, pos);
            self.len -= 1;
        }
    }
    /// Keeps the ranges `keep` says yes to, in order.
    fn retain(&mut self, mut keep: impl FnMut(&(u64, u64)) -> bool) {
        let mut kept = 0;
        for i in 0..self.len() {
            let Some(&range) = self.items.get(i) else {
                break;
            };
            if keep(&range) {
                if let Some(slot) = self.items.get_mut(kept) {
                    *slot = range;
                }
                kept += 1;
            }
        }
        self.len = kept as u8;
    }
}

/// What Zeek's TCP reassembler knows that matters for content gaps, in relative sequence
/// numbers (first data byte = 1).
#[derive(Clone, Debug)]
struct Reassembly {
    /// Everything below this was seen in order (`last_reassem_seq`).
    delivered: u64,
    /// Acknowledged point the reassembler was trimmed to (`trim_seq`).
    trimmed: u64,
    /// Sorted, disjoint ranges seen above `delivered` (holes between them).
    above: Ranges,
    /// Reassembly gave up (`skip_deliveries`).
    skip: bool,
    /// Ranges merged because `above` was full (a hole forgotten).
    forgotten: u32,
}

impl Default for Reassembly {
    fn default() -> Self {
        Reassembly {
            delivered: 1,
            trimmed: 1,
            above: Ranges::default(),
            skip: false,
            forgotten: 0,
        }
    }
}

impl Reassembly {
    /// Moves `delivered` over every range that now touches it.
    fn advance(&mut self) {
        while let Some(&(start, end)) = self.above.first() {
            if start > self.delivered {
                break;
            }
            self.delivered = self.delivered.max(end);
            self.above.remove(0);
        }
    }

    /// Remembers `[start, end)` above `delivered`, merging overlapping ranges.
    fn remember(&mut self, start: u64, end: u64) {
        let (mut s, mut e) = (start, end);
        self.above.retain(|&(a, b)| {
            if b < s || a > e {
                true
            } else {
                s = s.min(a);
                e = e.max(b);
                false
            }
        });
        let pos = self
            .above
            .iter()
            .position(|&(a, _)| a > s)
            .unwrap_or(self.above.len());
        if !self.above.is_full() {
            self.above.insert(pos, (s, e));
            return;
        }
        // Full: widen the nearest neighbour over the new range (the hole between them is
        // forgotten, and counted).
        self.forgotten = self.forgotten.saturating_add(1);
        let left = pos.checked_sub(1);
        let right = if pos < self.above.len() {
            Some(pos)
        } else {
            None
        };
        let pick = match (left, right) {
            (Some(l), Some(r)) => {
                let gap_left = self
                    .above
                    .get(l)
                    .map_or(0, |range| s.saturating_sub(range.1));
                let gap_right = self
                    .above
                    .get(r)
                    .map_or(0, |range| range.0.saturating_sub(e));
                if gap_left <= gap_right {
                    l
                } else {
                    r
                }
            }
            (Some(l), None) => l,
            (None, Some(r)) => r,
            (None, None) => return,
        };
        if let Some(range) = self.above.get_mut(pick) {
            range.0 = range.0.min(s);
            range.1 = range.1.max(e);
        }
    }

    /// Zeek's `TCP_Reassembler::DataSent` + `NewBlock`: `len` bytes at relative `seq`;
    /// `acked` is how far the peer acknowledged this side.
    #[inline(always)]
    fn data_sent(&mut self, seq: u64, len: u64, acked: u64, no_data_acked: bool) {
        // The next bytes in order with nothing remembered above: `delivered` moves over
        // them and nothing else changes (what the general code does for them).
        if seq == self.delivered
            && seq >= acked
            && seq >= self.trimmed
            && self.above.is_empty()
            && !self.skip
            && super::tracker::fast_paths_on()
        {
            if let Some(upper) = seq.checked_add(len).filter(|&u| u > seq) {
                self.delivered = upper;
                return;
            }
        }
        self.data_sent_general(seq, len, acked, no_data_acked);
    }

    /// [`Reassembly::data_sent`] for any segment.
    #[inline(never)]
    fn data_sent_general(&mut self, seq: u64, len: u64, acked: u64, no_data_acked: bool) {
        if self.skip || len == 0 {
            return;
        }
        let mut seq = seq;
        let upper = seq.saturating_add(len);
        if seq < acked {
            if upper <= acked {
                return;
            }
            seq = acked;
        }
        if upper <= self.trimmed {
            return;
        }
        seq = seq.max(self.trimmed);
        if seq <= self.delivered {
            if upper > self.delivered {
                self.delivered = upper;
                self.advance();
            }
        } else {
            self.remember(seq, upper);
        }
        let undelivered = self
            .above
            .last()
            .map_or(0, |&(_, end)| end.saturating_sub(self.delivered));
        if no_data_acked && undelivered > MAX_ABOVE_HOLE_WITHOUT_ACKS {
            self.above.clear();
            self.skip = true;
        }
    }
}

/// One side of a TCP connection, as Zeek's `TCP_Endpoint` tracks it.
#[derive(Clone, Debug, Default)]
struct Endpoint {
    state: EndpointState,
    prev_state: EndpointState,
    /// Initial sequence number (Zeek keeps it signed 64-bit; always within u32 here).
    start_seq: i64,
    last_seq: u32,
    ack_seq: u32,
    seq_wraps: u32,
    ack_wraps: u32,
    /// Relative sequence number after the FIN.
    fin_seq: u64,
    fin_seen: bool,
    hist_last_syn: u64,
    hist_last_fin: u64,
    hist_last_rst: u64,
    rxmit: Scaled,
    zero_window: Scaled,
    gaps: Scaled,
    reassembly: Reassembly,
}

fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

impl Endpoint {
    fn set_state(&mut self, new: EndpointState) {
        if new != self.state {
            self.prev_state = self.state;
            self.state = new;
        }
    }

    fn start(&self) -> u32 {
        self.start_seq as u32
    }

    fn reinit(&mut self, first: u32, last: u32) {
        self.start_seq = i64::from(first);
        self.ack_seq = first;
        self.last_seq = last;
    }

    /// Zeek's `init_endpoint`.
    fn init(&mut self, flags: TcpFlags, first: u32, last: u32) {
        match self.state {
            EndpointState::Inactive => {
                if flags.syn() {
                    self.reinit(first, last);
                } else {
                    // Partial connection: number as though a SYN was seen, and make sure
                    // the first packet is not taken for a retransmission.
                    self.reinit(first.wrapping_sub(1), first);
                }
            }
            EndpointState::SynSent | EndpointState::SynAckSent => {
                if flags.syn() && first != self.start() {
                    self.reinit(first, last);
                }
            }
            EndpointState::Established | EndpointState::Partial => {
                if flags.syn() {
                    self.reinit(first, last);
                }
            }
            EndpointState::Reset => {
                if flags.syn() && self.prev_state == EndpointState::Inactive {
                    self.reinit(first, last);
                }
            }
            EndpointState::Closed => {}
        }
    }

    /// Zeek's `init_peer`: numbering of a side first seen through the other side's ACK.
    fn init_from_ack(&mut self, ack: u32) {
        let base = ack.wrapping_sub(1);
        self.reinit(base, base);
    }

    /// Zeek's `get_relative_seq`: (relative sequence number, underflow).
    #[inline(always)]
    fn relative(&self, cur: u32, last: u32, wraps: u32) -> (u64, bool) {
        let mut wraps = wraps;
        let delta = seq_delta(cur, last);
        if delta < 0 {
            if wraps > 0 && cur > last {
                wraps -= 1;
            }
        } else if delta > 0 && cur < last {
            wraps = wraps.wrapping_add(1);
        }
        if wraps == 0 {
            let d = seq_delta(cur, self.start());
            return (d as i64 as u64, d < 0);
        }
        let full = (u64::from(wraps) << 32) + u64::from(cur);
        (full.wrapping_sub(self.start_seq as u64), false)
    }

    fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps = self.seq_wraps.wrapping_add(1);
        }
        self.last_seq = seq;
    }

    /// Zeek's `update_ack_seq` (this side's data acknowledged up to `ack`).
    fn update_ack_seq(&mut self, ack: u32) {
        let delta = seq_delta(ack, self.ack_seq);
        if ack == 0 && delta > TOO_LARGE_SEQ_DELTA {
            return;
        }
        if delta > 0 {
            if ack < self.ack_seq {
                self.ack_wraps = self.ack_wraps.wrapping_add(1);
            }
            self.ack_seq = ack;
        }
    }

    fn ack64(&self) -> u64 {
        (u64::from(self.ack_wraps) << 32) + u64::from(self.ack_seq)
    }

    fn last64(&self) -> u64 {
        (u64::from(self.seq_wraps) << 32) + u64::from(self.last_seq)
    }

    /// How far the peer acknowledged this side, relative.
    fn acked_rel(&self) -> u64 {
        self.ack64().wrapping_sub(self.start_seq as u64)
    }

    /// Nothing beyond the SYN was acknowledged: the same as `acked_rel() <= 1` (both
    /// subtract the start from the same 64-bit ack).
    fn no_data_acked(&self) -> bool {
        let ack = self.ack64();
        let start = self.start_seq as u64;
        ack == start || ack == start.wrapping_add(1)
    }

    /// Established, or closed after being established (Zeek's `is_clean`).
    fn is_clean(&self) -> bool {
        self.state == EndpointState::Established
            || (self.state == EndpointState::Closed
                && self.prev_state == EndpointState::Established)
    }
}

/// The history string with Zeek's "seen once" mask.
#[derive(Clone, Debug, Default)]
struct History {
    /// The first `len` letters (ASCII); the rest stays zero, so that the whole array is
    /// the string's bytes and is checked and copied in a few word steps.
    letters: [u8; HISTORY_CAP],
    len: u8,
    /// Letters that did not fit.
    cut: u32,
    /// Zeek's `hist_seen` (originator in the low 16 bits, responder in the high 16).
    seen: u32,
}

impl History {
    fn add(&mut self, code: u8) {
        match self.letters.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = code;
                self.len += 1;
            }
            None => self.cut = self.cut.saturating_add(1),
        }
    }

    fn letters(&self) -> &[u8] {
        self.letters
            .get(..usize::from(self.len))
            .unwrap_or(&self.letters)
    }

    /// Zeek's `CheckHistory`: adds the letter the first time; true if seen before.
    fn check(&mut self, mask: u32, code: u8, role: usize) -> bool {
        let (mask, code) = if role == ORIG {
            (mask, code)
        } else {
            (mask << 16, code.to_ascii_lowercase())
        };
        if self.seen & mask == 0 {
            self.seen |= mask;
            self.add(code);
            false
        } else {
            true
        }
    }

    fn add_role(&mut self, code: u8, role: usize) {
        self.add(if role == ORIG {
            code
        } else {
            code.to_ascii_lowercase()
        });
    }
}

/// Zeek's view of one connection. `Direction::ToServer` is the originator's direction
/// (unless Zeek itself flipped the roles on a SYN/SYN-ACK reversal, see
/// [`ZeekState::zeek_flipped_roles`]).
#[derive(Clone, Debug, Default)]
pub struct ZeekState {
    /// `[originator, responder]` in Zeek's roles.
    ep: [Endpoint; 2],
    history: History,
    proto: Option<Proto>,
    /// UDP: a datagram was seen from `[originator, responder]` (`UDP_ACTIVE`).
    udp_active: [bool; 2],
    /// Zeek swapped the roles against the caller's directions.
    zeek_flipped: bool,
    /// Zeek's `is_partial`.
    is_partial: bool,
    /// Zeek's `first_packet_seen` bits (1 = originator, 2 = responder).
    first_packet_seen: u8,
    /// [`ZeekState::steady_bits`], kept up to date by the general path and role flips (the
    /// only code that changes what it depends on), so that [`ZeekState::observe_plain`]
    /// tests it once.
    steady: u8,
    /// (originator, responder) endpoint states, a copy of `ep[..].state` kept up to date
    /// where `steady` is (the only code that changes them), so that the summary at the
    /// connection's end reads them next to the history instead of from two cold lines.
    states: [EndpointState; 2],
}

impl ZeekState {
    pub fn new() -> ZeekState {
        ZeekState::default()
    }

    /// The `first_packet_seen` bits of the roles whose plain packets
    /// [`ZeekState::observe_plain`] takes, in a TCP connection: a sender neither inactive
    /// nor reset whose peer is not inactive (for a plain packet from any other state,
    /// `init`, `update_last_seq` and `update_state_machine` change nothing, so the general
    /// path takes the same steps); none otherwise.
    fn steady_bits(&self) -> u8 {
        /// Per (originator state, responder state): bit 1 if the originator's plain
        /// packets qualify, bit 2 if the responder's do.
        const ROLES_OK: [[u8; 7]; 7] = {
            let (inactive, reset) = (
                EndpointState::Inactive as usize,
                EndpointState::Reset as usize,
            );
            let mut t = [[0u8; 7]; 7];
            let mut o = 0;
            while o < 7 {
                let mut r = 0;
                while r < 7 {
                    let orig_ok = o != inactive && o != reset && r != inactive;
                    let resp_ok = r != inactive && r != reset && o != inactive;
                    t[o][r] = orig_ok as u8 | (resp_ok as u8) << 1;
                    r += 1;
                }
                o += 1;
            }
            t
        };
        if self.proto != Some(Proto::Tcp) {
            return 0;
        }
        let (o, r) = (self.ep[ORIG].state as usize, self.ep[RESP].state as usize);
        self.first_packet_seen & ROLES_OK[o][r]
    }

    /// Refreshes what is derived from the endpoint states (`steady`, `states`).
    fn states_changed(&mut self) {
        self.steady = self.steady_bits();
        self.states = [self.ep[ORIG].state, self.ep[RESP].state];
    }

    fn role(&self, dir: Direction) -> usize {
        dir.index() ^ usize::from(self.zeek_flipped)
    }

    /// One TCP packet.
    #[inline]
    pub fn observe_tcp(&mut self, dir: Direction, tcp: &TcpInfo) {
        self.observe_tcp_captured(dir, tcp, tcp.payload_len);
    }

    /// One TCP packet of which only `captured_payload` payload bytes were captured (the
    /// snaplen cut the rest). Zeek's reassembler never sees a cut payload, so the peer's
    /// ACK over it reveals a content gap.
    #[inline]
    pub fn observe_tcp_captured(&mut self, dir: Direction, tcp: &TcpInfo, captured_payload: u32) {
        if !self.observe_plain(dir, tcp, captured_payload) {
            self.observe_general(dir, tcp, captured_payload);
        }
    }

    /// Every step, for any packet (what [`ZeekState::observe_plain`] shortens).
    #[inline(never)]
    fn observe_general(&mut self, dir: Direction, tcp: &TcpInfo, captured_payload: u32) {
        self.proto.get_or_insert(Proto::Tcp);
        let role = self.role(dir);
        let flags = tcp.flags;
        let len = tcp.payload_len;
        self.set_partial_status(flags, role == ORIG);

        // Zeek's get_segment_len: SYN and FIN take a sequence number; a RST's data does not
        // belong to the stream.
        let mut seg_len = len;
        if flags.syn() {
            seg_len = seg_len.wrapping_add(1);
        }
        if flags.fin() {
            seg_len = seg_len.wrapping_add(1);
        }
        if flags.rst() {
            seg_len = seg_len.wrapping_sub(len);
        }
        let one_past = tcp.seq.wrapping_add(seg_len);

        let (mut e, mut p) = (role, 1 - role);
        self.ep[e].init(flags, tcp.seq, one_past);
        let (rel_seq, seq_underflow) =
            self.ep[e].relative(tcp.seq, self.ep[e].last_seq, self.ep[e].seq_wraps);
        self.update_history(e, flags, rel_seq, len);

        // Zero windows, unless with/after a RST or after the peer's FIN (update_window).
        if tcp.window == 0
            && !flags.rst()
            && self.ep[p].state != EndpointState::Closed
            && self.ep[e].state != EndpointState::Reset
            && self.ep[e].zero_window.hit()
        {
            self.history.add_role(b'W', e);
        }

        if flags.fin() {
            self.ep[e].fin_seen = true;
            self.ep[e].fin_seq = rel_seq.wrapping_add(u64::from(seg_len));
        }

        let mut rel_ack = 0;
        if flags.ack() {
            if self.ep[p].state == EndpointState::Inactive {
                rel_ack = 1;
                self.ep[p].init_from_ack(tcp.ack);
            } else {
                let peer = &mut self.ep[p];
                let (r, underflow) = peer.relative(tcp.ack, peer.ack_seq, peer.ack_wraps);
                if !underflow {
                    rel_ack = r;
                    if !flags.rst() {
                        peer.update_ack_seq(tcp.ack);
                    }
                }
            }
        }

        let delta_last = self.update_last_seq(e, one_past, flags, len);
        if self.update_state_machine(e, tcp.seq, len, delta_last, flags) {
            // Zeek flipped the roles: the same endpoints now sit at the other index.
            std::mem::swap(&mut e, &mut p);
        }

        if flags.ack() {
            self.ack_received(p, rel_ack);
        }

        let rel_data_seq = if flags.syn() {
            rel_seq.wrapping_add(1)
        } else {
            rel_seq
        };
        if len > 0 && captured_payload >= len && !flags.rst() && !seq_underflow {
            let ep = &mut self.ep[e];
            let acked = ep.acked_rel();
            // `no_data_acked` from `acked` (the same test: see `Endpoint::acked_rel`).
            let no_data_acked = acked <= 1;
            ep.reassembly
                .data_sent(rel_data_seq, u64::from(len), acked, no_data_acked);
        }
        self.first_packet_seen |= if e == ORIG { 1 } else { 2 };
        self.states_changed();
    }

    /// The common packet, in fewer steps: ACK set, no SYN, FIN or RST, a non-zero window,
    /// the endpoints in states [`ZeekState::steady_bits`] allows (both established, or
    /// closing: the ACKs of a teardown) and the sender's first packet already seen. For such a
    /// packet the general path leaves the partial status, the endpoint states, the
    /// numbering base and the roles alone, and only adds the `A`/`D` letter the first time
    /// (and `T`/`G` for a retransmission or gap); this does the same steps in the same
    /// order. False: not such a packet, nothing was changed.
    #[inline(always)]
    fn observe_plain(&mut self, dir: Direction, tcp: &TcpInfo, captured_payload: u32) -> bool {
        const SYN_FIN_RST_ACK: u16 = TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST | TcpFlags::ACK;
        #[cfg(test)]
        assert_eq!(self.steady, self.steady_bits(), "stale ZeekState::steady");
        let e = self.role(dir);
        let first_bit = if e == ORIG { 1 } else { 2 };
        if tcp.flags.0 & SYN_FIN_RST_ACK != TcpFlags::ACK
            || tcp.window == 0
            || self.steady & first_bit == 0
            || !super::tracker::fast_paths_on()
        {
            return false;
        }
        let p = 1 - e;
        let len = tcp.payload_len;
        // update_history: the letter only the first time (one bit test after that).
        let (mask, code) = if len > 0 {
            (HIST_DATA_PKT, b'D')
        } else {
            (HIST_ACK_PKT, b'A')
        };
        if self.history.seen & (mask << (16 * e)) == 0 {
            self.history.check(mask, code, e);
        }
        let one_past = tcp.seq.wrapping_add(len);
        // The relative seq only matters for a payload (before last_seq moves).
        let ep = &self.ep[e];
        let rel = (len > 0).then(|| ep.relative(tcp.seq, ep.last_seq, ep.seq_wraps));

        let peer = &mut self.ep[p];
        let (r, underflow) = peer.relative(tcp.ack, peer.ack_seq, peer.ack_wraps);
        let rel_ack = if underflow {
            0
        } else {
            peer.update_ack_seq(tcp.ack);
            r
        };

        // update_last_seq without SYN, FIN or RST from an established endpoint.
        let ep = &mut self.ep[e];
        if seq_delta(one_past, ep.last_seq) > 0 {
            ep.update_last_seq(one_past);
        } else if len > 0 && ep.rxmit.hit() {
            self.history.add_role(b'T', e);
        }

        self.ack_received(p, rel_ack);
        if let Some((rel_seq, false)) = rel.filter(|_| captured_payload >= len) {
            let ep = &mut self.ep[e];
            let acked = ep.acked_rel();
            // `no_data_acked` from `acked` (the same test: see `Endpoint::acked_rel`).
            let no_data_acked = acked <= 1;
            ep.reassembly
                .data_sent(rel_seq, u64::from(len), acked, no_data_acked);
        }
        true
    }

    /// One UDP datagram with `payload_len` bytes.
    pub fn observe_udp(&mut self, dir: Direction, payload_len: u32) {
        let _ = payload_len; // Zeek records 'd' for every datagram, empty ones included.
        self.proto.get_or_insert(Proto::Udp);
        let role = self.role(dir);
        self.udp_active[role] = true;
        self.history.check(HIST_DATA_PKT, b'D', role);
    }

    /// The originator was decided against the first packet's sender (history gets `^`).
    /// Directions given afterwards are taken in the new roles; what was seen before keeps
    /// its letters, as in Zeek's `Connection::FlipRoles`.
    pub fn mark_flipped(&mut self) {
        self.flip_roles();
    }

    /// Zeek itself swapped the roles (a SYN answered a SYN-ACK with the same sequence
    /// number): its originator is the sender of the caller's `Direction::ToClient` packets.
    pub fn zeek_flipped_roles(&self) -> bool {
        self.zeek_flipped
    }

    /// Both endpoints sent a FIN (Zeek's `did_close` on both sides): from then on a packet
    /// no longer moves the connection's last time (`TCPSessionAdapter::Process`), so the
    /// conn.log duration ends at the packet before it.
    #[inline(always)]
    pub fn both_closed(&self) -> bool {
        self.ep[ORIG].fin_seen & self.ep[RESP].fin_seen
    }

    /// (originator, responder) endpoint states.
    pub fn endpoint_states(&self) -> (EndpointState, EndpointState) {
        (self.ep[ORIG].state, self.ep[RESP].state)
    }

    /// (originator, responder) payload sizes as Zeek computes them from sequence numbers
    /// (`c$orig$size`, the conn.log `orig_bytes`).
    pub fn sizes(&self) -> (u64, u64) {
        (self.size(ORIG), self.size(RESP))
    }

    /// History letters that did not fit in [`HISTORY_CAP`].
    pub fn history_cut(&self) -> u32 {
        self.history.cut
    }

    /// Out-of-order ranges merged because [`MAX_HOLE_RANGES`] was reached (holes that can
    /// no longer be reported as gaps).
    pub fn holes_forgotten(&self) -> u32 {
        self.ep[ORIG]
            .reassembly
            .forgotten
            .saturating_add(self.ep[RESP].reassembly.forgotten)
    }

    /// conn_state: S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH.
    pub fn conn_state(&self) -> &'static str {
        match self.proto {
            Some(Proto::Tcp) => self.tcp_conn_state(),
            Some(Proto::Udp) => match self.udp_active {
                [true, true] => "SF",
                [true, false] => "S0",
                [false, true] => "SHR",
                [false, false] => "OTH",
            },
            // ICMP (as Zeek) and SCTP connections never set `proto` here.
            _ => "OTH",
        }
    }

    /// history string ("ShADadFf"), inline: at most [`HISTORY_CAP`] letters, no allocation.
    pub fn history(&self) -> ArrayString<HISTORY_CAP> {
        // The letters are ASCII and at most HISTORY_CAP of them: the bytes are the string.
        match ArrayString::from_byte_string(&self.history.letters) {
            Ok(mut s) => {
                s.truncate(usize::from(self.history.len));
                s
            }
            Err(_) => ArrayString::new(),
        }
    }

    fn tcp_conn_state(&self) -> &'static str {
        use EndpointState::*;
        #[cfg(test)]
        assert_eq!(self.states, [self.ep[ORIG].state, self.ep[RESP].state]);
        let [os, rs] = self.states;
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        if rs == Reset {
            if os == SynSent
                || os == SynAckSent
                || (os == Reset && self.size(ORIG) == 0 && self.size(RESP) == 0)
            {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Reset {
            if r_inactive {
                if history_is_syn_then_rst(self.history.letters()) {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == Closed && os == Closed {
            "SF"
        } else if os == Closed {
            if r_inactive {
                "SH"
            } else {
                "S2"
            }
        } else if rs == Closed {
            if o_inactive {
                "SHR"
            } else {
                "S3"
            }
        } else if os == SynSent && rs == Inactive {
            "S0"
        } else if os == Established && rs == Established {
            "S1"
        } else {
            "OTH"
        }
    }

    /// Zeek's `TCP_Endpoint::Size`.
    fn size(&self, role: usize) -> u64 {
        let ep = &self.ep[role];
        let peer = &self.ep[1 - role];
        if ep.prev_state == EndpointState::SynSent
            && ep.state == EndpointState::Reset
            && peer.state == EndpointState::Inactive
            && !ep.no_data_acked()
        {
            return 0;
        }
        let top = ep.last64().max(ep.ack64());
        // Neither the SYN nor the FIN octet is payload.
        let size = top.wrapping_sub(ep.start_seq as u64).saturating_sub(1);
        if ep.fin_seen {
            size.saturating_sub(1)
        } else {
            size
        }
    }

    fn flip_roles(&mut self) {
        self.ep.swap(ORIG, RESP);
        self.udp_active.swap(ORIG, RESP);
        let seen = self.first_packet_seen;
        self.first_packet_seen = ((seen & 1) << 1) | ((seen & 2) >> 1);
        self.is_partial = false;
        self.history.add(b'^');
        self.states_changed();
    }

    /// Zeek's `SetPartialStatus`.
    fn set_partial_status(&mut self, flags: TcpFlags, is_orig: bool) {
        if is_orig {
            if self.first_packet_seen & 1 == 0 {
                self.is_partial = !flags.syn() || flags.ack();
            }
        } else if self.first_packet_seen & 2 == 0 && !self.is_partial {
            self.is_partial = !flags.syn();
        }
    }

    /// Zeek's `update_history`.
    fn update_history(&mut self, e: usize, flags: TcpFlags, rel_seq: u64, len: u32) {
        let bits = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
        let h = &mut self.history;
        let ep = &mut self.ep[e];
        if bits > 1 {
            if flags.fin() && flags.rst() {
                h.check(HIST_FIN_RST_PKT, b'I', e);
            } else {
                h.check(HIST_MULTI_FLAG_PKT, b'Q', e);
            }
        } else if bits == 1 {
            if flags.syn() {
                let code = if flags.ack() { b'H' } else { b'S' };
                if h.check(HIST_SYN_PKT, code, e) && rel_seq != ep.hist_last_syn {
                    h.add_role(code, e);
                }
                ep.hist_last_syn = rel_seq;
            }
            if flags.fin() {
                // A FIN's sequence number is at the end of its data.
                let fin_at = rel_seq.wrapping_add(u64::from(len));
                if h.check(HIST_FIN_PKT, b'F', e) && fin_at != ep.hist_last_fin {
                    h.add_role(b'F', e);
                }
                ep.hist_last_fin = fin_at;
            }
            if flags.rst() {
                if h.check(HIST_RST_PKT, b'R', e) && rel_seq != ep.hist_last_rst {
                    h.add_role(b'R', e);
                }
                ep.hist_last_rst = rel_seq;
            }
        } else if len > 0 {
            h.check(HIST_DATA_PKT, b'D', e);
        } else if flags.ack() {
            h.check(HIST_ACK_PKT, b'A', e);
        }
    }

    /// Zeek's `update_last_seq`; a payload at or below the last sequence number is a
    /// retransmission (`t`).
    fn update_last_seq(&mut self, e: usize, last: u32, flags: TcpFlags, len: u32) -> i32 {
        let ep = &mut self.ep[e];
        let delta = seq_delta(last, ep.last_seq);
        if (flags.syn() || flags.rst())
            && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta)
        {
            // Not trusted.
        } else if flags.fin() && ep.last_seq == ep.start().wrapping_add(1) {
            ep.update_last_seq(last);
        } else if ep.state == EndpointState::Reset {
            // Nothing after a RST is trusted.
        } else if delta > 0 {
            ep.update_last_seq(last);
        } else if len > 0 && ep.rxmit.hit() {
            self.history.add_role(b'T', e);
        }
        delta
    }

    /// Zeek's `UpdateStateMachine`; true if the roles were flipped.
    fn update_state_machine(
        &mut self,
        e: usize,
        base_seq: u32,
        len: u32,
        delta_last: i32,
        flags: TcpFlags,
    ) -> bool {
        let _ = delta_last; // Only feeds a Zeek weird (FIN_advanced_last_seq).
        let p = 1 - e;
        match self.ep[e].state {
            EndpointState::Inactive => return self.update_inactive(e, base_seq, len, flags),
            EndpointState::SynSent | EndpointState::SynAckSent => {
                if flags.fin() {
                    self.ep[e].set_state(EndpointState::Closed);
                }
                if flags.rst() {
                    self.ep[e].set_state(EndpointState::Reset);
                }
            }
            EndpointState::Established | EndpointState::Partial => {
                if flags.syn()
                    && self.ep[e].state == EndpointState::Partial
                    && self.ep[p].state == EndpointState::Inactive
                    && !flags.ack()
                {
                    self.ep[e].set_state(EndpointState::SynSent);
                }
                if flags.fin() && !flags.rst() {
                    self.ep[e].set_state(EndpointState::Closed);
                    if self.ep[p].state == EndpointState::Reset
                        && self.ep[p].prev_state == EndpointState::Closed
                    {
                        // FIN then RST from the peer was a normal termination after all.
                        self.ep[p].set_state(EndpointState::Closed);
                    }
                }
                if flags.rst() {
                    self.ep[e].set_state(EndpointState::Reset);
                }
            }
            EndpointState::Closed => {
                if flags.rst() && self.ep[p].state != EndpointState::Closed {
                    self.ep[e].set_state(EndpointState::Reset);
                }
            }
            EndpointState::Reset => {}
        }
        false
    }

    /// Zeek's `UpdateInactiveState`; true if the roles were flipped.
    fn update_inactive(&mut self, role: usize, base_seq: u32, len: u32, flags: TcpFlags) -> bool {
        use EndpointState::*;
        let is_orig = role == ORIG;
        let (mut e, mut p) = (role, 1 - role);
        let mut flipped = false;
        if flags.syn() {
            if is_orig {
                self.ep[e].set_state(if flags.ack() { SynAckSent } else { SynSent });
            } else {
                if !flags.ack() && self.ep[p].state == SynAckSent && base_seq == self.ep[e].start()
                {
                    // SYN/SYN-ACK reversal: flip the roles and establish.
                    self.is_partial = false;
                    self.flip_roles();
                    self.zeek_flipped = !self.zeek_flipped;
                    flipped = true;
                    std::mem::swap(&mut e, &mut p);
                    self.ep[p].set_state(Established);
                    self.first_packet_seen |= 1;
                }
                if self.ep[p].state == SynSent {
                    self.ep[p].set_state(Established);
                }
                self.ep[e].set_state(Established);
            }
        }
        if flags.fin() {
            self.ep[e].set_state(Closed);
        }
        if flags.rst() {
            self.ep[e].set_state(Reset);
        }
        if self.ep[e].state == Inactive {
            if !is_orig && len == 0 && self.ep[ORIG].state == SynSent {
                // An ACK of the SYN before the SYN-ACK: not a partial connection.
            } else if flags.ack() && self.ep[p].state == Established {
                // SYN-ACK seen, SYN missed: establish.
                self.ep[e].set_state(Established);
                self.is_partial = false;
                self.first_packet_seen |= if is_orig { 1 } else { 2 };
            } else {
                self.ep[e].set_state(Partial);
            }
        }
        flipped
    }

    /// Zeek's `TCP_Reassembler::AckReceived` for the side at `role`, acknowledged up to
    /// relative `seq` by its peer.
    #[inline(always)]
    fn ack_received(&mut self, role: usize, seq: u64) {
        let ep = &self.ep[role];
        let mut seq = seq;
        if ep.fin_seen && seq >= ep.fin_seq {
            seq = ep.fin_seq.wrapping_sub(1);
        }
        if seq <= ep.reassembly.trimmed {
            return;
        }
        if ep.reassembly.delivered < seq {
            self.undelivered(role, seq);
        }
        let r = &mut self.ep[role].reassembly;
        if !r.above.is_empty() {
            r.above.retain(|&(_, end)| end > seq);
        }
        r.trimmed = seq;
    }

    /// Zeek's `TCP_Reassembler::Undelivered`: bytes below `up_to` were never seen.
    fn undelivered(&mut self, role: usize, up_to: u64) {
        if up_to <= 2 && self.is_partial {
            // The faked initial sequence number of a partial connection.
            return;
        }
        let clean = self.ep[role].is_clean() && self.ep[1 - role].is_clean();
        let ep = &mut self.ep[role];
        let mut gaps = 0u32;
        if !ep.reassembly.skip {
            while let Some(&(start, end)) = ep.reassembly.above.first() {
                if start >= up_to {
                    break;
                }
                if start > ep.reassembly.delivered {
                    gaps += 1;
                }
                ep.reassembly.delivered = ep.reassembly.delivered.max(end);
                ep.reassembly.above.remove(0);
                ep.reassembly.advance();
            }
            if up_to > ep.reassembly.delivered {
                gaps += 1;
            }
        }
        if up_to > ep.reassembly.delivered {
            ep.reassembly.delivered = up_to;
            ep.reassembly.advance();
        }
        if clean {
            for _ in 0..gaps {
                if self.ep[role].gaps.hit() {
                    self.history.add_role(b'G', role);
                }
            }
        }
    }
}

/// Zeek's `/\^?S[^HAFGIQ]*R.*/ == history`: a SYN, then a RST from the originator before
/// any handshake, ACK, FIN, gap, inconsistency or multi-flag letter of the originator.
fn history_is_syn_then_rst(history: &[u8]) -> bool {
    let rest = history.strip_prefix(b"^").unwrap_or(history);
    let Some(rest) = rest.strip_prefix(b"S") else {
        return false;
    };
    for &c in rest {
        match c {
            b'R' => return true,
            b'H' | b'A' | b'F' | b'G' | b'I' | b'Q' => return false,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpOptions;
    use Direction::{ToClient as S, ToServer as C};

    /// `acked_rel() <= 1` is `no_data_acked()`, wraps and all.
    #[test]
    fn no_data_acked_is_acked_rel_at_most_one() {
        let mut next = crate::flow::test_rng(0xbb67_ae85_84ca_a73bu64);
        let near = [0u32, 1, 2, u32::MAX, u32::MAX - 1, 0x8000_0000];
        for i in 0..4000 {
            let pick = |n: u64| near[n as usize % near.len()];
            let start =
                pick(next(6)).wrapping_add(if i % 2 == 0 { 0 } else { next(1 << 32) as u32 });
            let ep = Endpoint {
                start_seq: i64::from(start),
                ack_seq: start.wrapping_add(pick(next(6))),
                ack_wraps: next(3) as u32,
                ..Endpoint::default()
            };
            assert_eq!(ep.no_data_acked(), ep.acked_rel() <= 1, "{ep:?}");
        }
        let ep = Endpoint {
            start_seq: 10,
            ack_seq: 11,
            ..Endpoint::default()
        };
        assert!(ep.no_data_acked());
        let ep = Endpoint { ack_seq: 12, ..ep };
        assert!(!ep.no_data_acked());
    }

    /// `Ranges` does what a `Vec` with the same length limit does, over random inserts,
    /// removals, retains and clears (and prints the same).
    #[test]
    fn ranges_behave_as_a_bounded_vec() {
        let mut next = crate::flow::test_rng(0x6a09_e667_f3bc_c908u64);
        let (mut r, mut v) = (Ranges::default(), Vec::<(u64, u64)>::new());
        for _ in 0..5000 {
            let x = next(8);
            match next(4) {
                0 => {
                    let pos = next(v.len() as u64 + 1) as usize;
                    r.insert(pos, (x, x + 1));
                    if v.len() < MAX_HOLE_RANGES {
                        v.insert(pos, (x, x + 1));
                    }
                }
                1 => {
                    let pos = next(4) as usize;
                    r.remove(pos);
                    if pos < v.len() {
                        v.remove(pos);
                    }
                }
                2 => {
                    r.retain(|&(a, _)| a != x);
                    v.retain(|&(a, _)| a != x);
                }
                _ if x == 0 => {
                    r.clear();
                    v.clear();
                }
                _ => {
                    if let Some(range) = r.get_mut(0) {
                        range.1 += 1;
                    }
                    if let Some(range) = v.first_mut() {
                        range.1 += 1;
                    }
                }
            }
            assert_eq!(r.iter().copied().collect::<Vec<_>>(), v);
            assert_eq!((r.len(), r.is_empty()), (v.len(), v.is_empty()));
            assert_eq!((r.first(), r.last()), (v.first(), v.last()));
            assert_eq!(r.is_full(), v.len() == MAX_HOLE_RANGES);
            assert_eq!(format!("{r:?}"), format!("{v:?}"));
        }
    }

    const SYN: u16 = TcpFlags::SYN;
    const ACK: u16 = TcpFlags::ACK;
    const FIN: u16 = TcpFlags::FIN;
    const RST: u16 = TcpFlags::RST;
    const PSH: u16 = TcpFlags::PSH;

    fn seg(flags: u16, seq: u32, ack: u32, len: u32) -> TcpInfo {
        seg_win(flags, seq, ack, len, 8192)
    }

    fn seg_win(flags: u16, seq: u32, ack: u32, len: u32, window: u16) -> TcpInfo {
        TcpInfo {
            src_port: 40000,
            dst_port: 80,
            seq,
            ack,
            flags: TcpFlags(flags),
            window,
            header_len: 20,
            options: TcpOptions::default(),
            payload_len: len,
        }
    }

    fn run(steps: &[(Direction, TcpInfo)]) -> ZeekState {
        let mut z = ZeekState::new();
        feed(&mut z, steps);
        z
    }

    fn feed(z: &mut ZeekState, steps: &[(Direction, TcpInfo)]) {
        for (dir, tcp) in steps {
            z.observe_tcp(*dir, tcp);
        }
    }

    /// The fast path changes nothing: over many generated packets (plain ACKs and data in
    /// and out of order, zero windows, cut payloads, FINs, RSTs, SYNs), a state with it
    /// and one that always takes the general path end in the same state after each.
    #[test]
    fn plain_fast_path_matches_the_general_path() {
        let mut next = crate::flow::test_rng(0x9e37_79b9_7f4a_7c15u64);
        let mut plain = 0;
        for conn in 0..40 {
            let mut fast = ZeekState::new();
            let mut general = ZeekState::new();
            let mut seq = [1000u32, 5000u32];
            let opening: &[(Direction, TcpInfo)] = &handshake();
            // The whole handshake, none of it (a partial connection), or a part: packets
            // then start with the endpoints in SYN_SENT, SYN_ACK_SENT or INACTIVE.
            let part = [0..3, 3..3, 0..1, 0..2, 1..3, 1..2][conn % 6].clone();
            for (dir, tcp) in &opening[part] {
                fast.observe_tcp(*dir, tcp);
                general_only(|| general.observe_general(*dir, tcp, tcp.payload_len));
            }
            seq = [seq[0] + 1, seq[1] + 1];
            for i in 0..500 {
                let dir = if next(2) == 0 { C } else { S };
                let (d, p) = (dir.index(), 1 - dir.index());
                let rare = i > 100 && next(25) == 0;
                let flags = if rare {
                    [FIN | ACK, RST, RST | ACK, SYN, ACK | PSH | FIN][next(5) as usize]
                } else {
                    [ACK, ACK | PSH][next(2) as usize]
                };
                let len = [0, 0, 1, 100, 1448][next(5) as usize];
                let s_off = [0i64, 0, 0, -100, 3000, -5000][next(6) as usize];
                let a_off = [0i64, 0, 0, 3000, -100][next(5) as usize];
                let window = [8192, 8192, 8192, 0][next(4) as usize];
                let tcp = seg_win(
                    flags,
                    seq[d].wrapping_add(s_off as u32),
                    seq[p].wrapping_add(a_off as u32),
                    len,
                    window,
                );
                let captured = if next(10) == 0 { len / 2 } else { len };
                if fast.clone().observe_plain(dir, &tcp, captured) {
                    plain += 1;
                }
                fast.observe_tcp_captured(dir, &tcp, captured);
                general_only(|| general.observe_general(dir, &tcp, captured));
                let state = format!("{fast:?}");
                assert_eq!(state, format!("{general:?}"), "conn {conn} packet {i}");
                if s_off == 0 && next(4) > 0 {
                    seq[d] = seq[d].wrapping_add(len);
                }
            }
        }
        assert!(plain > 2000, "only {plain} plain packets");
    }

    /// Runs `f` with every fast path off (the reference behaviour).
    fn general_only<R>(f: impl FnOnce() -> R) -> R {
        use crate::flow::tracker::GENERAL_ONLY;
        GENERAL_ONLY.with(|g| g.set(true));
        let r = f();
        GENERAL_ONLY.with(|g| g.set(false));
        r
    }

    /// `data_sent`'s in-order fast path changes nothing: segments around `delivered`,
    /// `trimmed` and the peer's ack, with and without remembered ranges, leave the same
    /// state as the general code.
    #[test]
    fn data_sent_fast_path_matches_the_general_path() {
        let mut next = crate::flow::test_rng(0x2545_f491_4f6c_dd1du64);
        let mut fast_taken = 0;
        for _ in 0..200 {
            let mut fast = Reassembly::default();
            let mut general = Reassembly::default();
            for _ in 0..100 {
                let d = fast.delivered;
                let seq = match next(4) {
                    0 | 1 => d,
                    2 => d.saturating_sub(next(50)),
                    _ => d + next(20_000),
                };
                let len = [0, 1, 100, 1448, 20_000][next(5) as usize];
                let acked = match next(3) {
                    0 => seq,
                    1 => seq.saturating_sub(next(10)),
                    _ => seq + next(200),
                };
                if next(20) == 0 {
                    fast.trimmed = d + next(3);
                    general.trimmed = fast.trimmed;
                }
                let no_data_acked = next(2) == 0;
                let before = fast.clone();
                fast.data_sent(seq, len, acked, no_data_acked);
                general_only(|| general.data_sent(seq, len, acked, no_data_acked));
                let (f, g) = (format!("{fast:?}"), format!("{general:?}"));
                assert_eq!(f, g, "data_sent({seq}, {len}, {acked}) on {before:?}");
                if before.above.is_empty() && seq == before.delivered && len > 0 && seq >= acked {
                    fast_taken += 1;
                }
            }
        }
        assert!(fast_taken > 1000, "only {fast_taken} in-order segments");
    }

    // Client ISN 1000, server ISN 5000.
    fn handshake() -> Vec<(Direction, TcpInfo)> {
        vec![
            (C, seg(SYN, 1000, 0, 0)),
            (S, seg(SYN | ACK, 5000, 1001, 0)),
            (C, seg(ACK, 1001, 5001, 0)),
        ]
    }

    fn check(z: &ZeekState, history: &str, state: &str) {
        assert_eq!((z.history().as_str(), z.conn_state()), (history, state));
    }

    #[test]
    fn normal_connection_is_sf_shadadff() {
        let mut steps = handshake();
        steps.extend([
            (C, seg(PSH | ACK, 1001, 5001, 100)),
            (S, seg(ACK, 5001, 1101, 0)),
            (S, seg(PSH | ACK, 5001, 1101, 200)),
            (C, seg(FIN | ACK, 1101, 5201, 0)),
            (S, seg(FIN | ACK, 5201, 1102, 0)),
            (C, seg(ACK, 1102, 5202, 0)),
        ]);
        let z = run(&steps);
        check(&z, "ShADadFf", "SF");
        assert_eq!(
            z.endpoint_states(),
            (EndpointState::Closed, EndpointState::Closed)
        );
        assert_eq!(z.sizes(), (100, 200));
    }

    #[test]
    fn s0_attempt_and_repeated_syn() {
        // Same ISN again: not a new SYN.
        let z = run(&[(C, seg(SYN, 1000, 0, 0)), (C, seg(SYN, 1000, 0, 0))]);
        check(&z, "S", "S0");
        // A different ISN while SYN_SENT: Zeek re-bases on it (SYN_seq_jump), so its
        // relative sequence number is 0 again and no second S is recorded.
        let z = run(&[(C, seg(SYN, 1000, 0, 0)), (C, seg(SYN, 9000, 0, 0))]);
        check(&z, "S", "S0");
        // After the endpoint closed, a SYN with a new sequence number is recorded again.
        let z = run(&[
            (C, seg(SYN, 1000, 0, 0)),
            (C, seg(FIN, 1001, 0, 0)),
            (C, seg(SYN, 1000, 0, 0)),
            (C, seg(SYN, 7000, 0, 0)),
        ]);
        check(&z, "SFS", "SH");
    }

    #[test]
    fn s1_established_not_closed() {
        let mut steps = handshake();
        steps.push((C, seg(PSH | ACK, 1001, 5001, 10)));
        check(&run(&steps), "ShAD", "S1");
    }

    #[test]
    fn rej_rst_answers_syn() {
        let z = run(&[(C, seg(SYN, 1000, 0, 0)), (S, seg(RST | ACK, 0, 1001, 0))]);
        check(&z, "Sr", "REJ");
    }

    #[test]
    fn s2_and_s3_one_sided_close() {
        let mut steps = handshake();
        steps.extend([
            (C, seg(FIN | ACK, 1001, 5001, 0)),
            (S, seg(ACK, 5001, 1002, 0)),
        ]);
        check(&run(&steps), "ShAFa", "S2");
        let mut steps = handshake();
        steps.push((S, seg(FIN | ACK, 5001, 1001, 0)));
        check(&run(&steps), "ShAf", "S3");
    }

    #[test]
    fn rsto_and_rstr_abort_after_establishment() {
        let mut steps = handshake();
        steps.push((C, seg(RST | ACK, 1001, 5001, 0)));
        check(&run(&steps), "ShAR", "RSTO");
        let mut steps = handshake();
        steps.push((S, seg(RST, 5001, 0, 0)));
        check(&run(&steps), "ShAr", "RSTR");
    }

    #[test]
    fn zeek_conn_state_rst_behavior_baseline() {
        // zeek testing/btest/Baseline/scripts.base.protocols.conn.conn_state-RST-behavior:
        // "R, OTH", "SR, RSTOS0", "SaR, RSTOS0", "SaFR, OTH".
        check(&run(&[(C, seg(RST, 1000, 0, 0))]), "R", "OTH");
        check(
            &run(&[(C, seg(SYN, 1000, 0, 0)), (C, seg(RST, 1001, 0, 0))]),
            "SR",
            "RSTOS0",
        );
        check(
            &run(&[
                (C, seg(SYN, 1000, 0, 0)),
                (S, seg(ACK, 5000, 1001, 0)),
                (C, seg(RST, 1001, 0, 0)),
            ]),
            "SaR",
            "RSTOS0",
        );
        check(
            &run(&[
                (C, seg(SYN, 1000, 0, 0)),
                (S, seg(ACK, 5000, 1001, 0)),
                (C, seg(FIN, 1001, 0, 0)),
                (C, seg(RST, 1002, 0, 0)),
            ]),
            "SaFR",
            "OTH",
        );
    }

    #[test]
    fn rstrh_sh_shr_oth() {
        check(
            &run(&[
                (S, seg(SYN | ACK, 5000, 1001, 0)),
                (S, seg(RST, 5001, 0, 0)),
            ]),
            "hr",
            "RSTRH",
        );
        check(
            &run(&[(C, seg(SYN, 1000, 0, 0)), (C, seg(FIN, 1001, 0, 0))]),
            "SF",
            "SH",
        );
        check(
            &run(&[
                (S, seg(SYN | ACK, 5000, 1001, 0)),
                (S, seg(FIN | ACK, 5001, 1001, 0)),
            ]),
            "hf",
            "SHR",
        );
        let z = run(&[
            (C, seg(PSH | ACK, 1001, 5001, 50)),
            (S, seg(PSH | ACK, 5001, 1051, 80)),
        ]);
        check(&z, "Dd", "OTH");
        assert_eq!(
            z.endpoint_states(),
            (EndpointState::Partial, EndpointState::Partial)
        );
    }

    #[test]
    fn rst_repeats_only_with_new_sequence_number() {
        let mut steps = handshake();
        steps.extend([
            (S, seg(RST, 5001, 0, 0)),
            (S, seg(RST, 5001, 0, 0)),
            (S, seg(RST, 5101, 0, 0)),
        ]);
        check(&run(&steps), "ShArr", "RSTR");
    }

    #[test]
    fn retransmitted_payload_is_t_and_logarithmic() {
        let mut steps = handshake();
        steps.push((C, seg(PSH | ACK, 1001, 5001, 100)));
        steps.push((C, seg(PSH | ACK, 1001, 5001, 100)));
        check(&run(&steps), "ShADT", "S1");
        // Server: 1 → t, 10 → tt (same segment re-sent).
        let mut steps = handshake();
        steps.push((S, seg(PSH | ACK, 5001, 1001, 100)));
        for _ in 0..10 {
            steps.push((S, seg(PSH | ACK, 5001, 1001, 100)));
        }
        check(&run(&steps), "ShAdtt", "S1");
    }

    #[test]
    fn zero_window_log_scale() {
        let mut z = run(&handshake());
        let zw = seg_win(ACK, 5001, 1001, 0, 0);
        z.observe_tcp(S, &zw);
        check(&z, "ShAaw", "S1");
        for _ in 1..9 {
            z.observe_tcp(S, &zw);
        }
        assert_eq!(z.history().as_str(), "ShAaw", "9 zero windows");
        z.observe_tcp(S, &zw);
        assert_eq!(z.history().as_str(), "ShAaww", "10 zero windows");
        for _ in 10..99 {
            z.observe_tcp(S, &zw);
        }
        assert_eq!(z.history().as_str(), "ShAaww", "99 zero windows");
        z.observe_tcp(S, &zw);
        assert_eq!(z.history().as_str(), "ShAawww", "100 zero windows");
        // Not after the peer's FIN.
        z.observe_tcp(C, &seg(FIN | ACK, 1001, 5001, 0));
        for _ in 0..1000 {
            z.observe_tcp(S, &zw);
        }
        assert_eq!(z.history().as_str(), "ShAawwwF");
    }

    #[test]
    fn content_gap_when_ack_passes_missing_bytes() {
        let mut steps = handshake();
        steps.extend([
            (S, seg(PSH | ACK, 5001, 1001, 100)),
            // 5101..5201 never seen.
            (S, seg(PSH | ACK, 5201, 1001, 100)),
            (C, seg(ACK, 1001, 5301, 0)),
        ]);
        check(&run(&steps), "ShAdg", "S1");
        // Out of order, filled before the ACK: no gap. (Zeek's update_last_seq takes the
        // late segment below last_seq for a retransmission: 't'.)
        let mut steps = handshake();
        steps.extend([
            (S, seg(PSH | ACK, 5101, 1001, 100)),
            (S, seg(PSH | ACK, 5001, 1001, 100)),
            (C, seg(ACK, 1001, 5201, 0)),
        ]);
        check(&run(&steps), "ShAdt", "S1");
        // A payload the snaplen cut is never reassembled: its ACK reveals a gap.
        let mut z = run(&handshake());
        z.observe_tcp_captured(C, &seg(PSH | ACK, 1001, 5001, 1400), 54);
        z.observe_tcp(S, &seg(ACK, 5001, 2401, 0));
        check(&z, "ShADaG", "S1");
    }

    #[test]
    fn multi_flag_and_inconsistent_once_per_direction() {
        let z = run(&[
            (C, seg(SYN | FIN, 1000, 0, 0)),
            (C, seg(SYN | FIN, 2000, 0, 0)),
            (S, seg(FIN | RST, 5000, 0, 0)),
            (S, seg(FIN | RST, 6000, 0, 0)),
        ]);
        assert_eq!(z.history().as_str(), "Qi");
    }

    #[test]
    fn flipped_by_caller_missing_syn() {
        // Zeek's core.tcp.missing-syn baseline: "^hADdFaf", SF. The first packet is the
        // server's SYN-ACK; the roles are decided against it.
        let mut z = ZeekState::new();
        z.mark_flipped();
        feed(
            &mut z,
            &[
                (S, seg(SYN | ACK, 5000, 1001, 0)),
                (C, seg(ACK, 1001, 5001, 0)),
                (C, seg(PSH | ACK, 1001, 5001, 98)),
                (S, seg(ACK, 5001, 1099, 1448)),
                (C, seg(FIN | ACK, 1099, 6449, 0)),
                (S, seg(ACK, 6449, 1100, 0)),
                (S, seg(FIN | ACK, 6449, 1100, 0)),
                (C, seg(ACK, 1100, 6450, 0)),
            ],
        );
        check(&z, "^hADdFaf", "SF");
        assert!(!z.zeek_flipped_roles());
    }

    #[test]
    fn zeek_flips_on_syn_synack_reversal() {
        // The "originator" sends the SYN-ACK, then the "responder" the SYN it answers.
        let z = run(&[
            (C, seg(SYN | ACK, 5000, 1001, 0)),
            (S, seg(SYN, 1000, 0, 0)),
            (S, seg(ACK, 1001, 5001, 0)),
            (S, seg(PSH | ACK, 1001, 5001, 136)),
            (C, seg(ACK, 5001, 1137, 0)),
            (C, seg(PSH | ACK, 5001, 1137, 500)),
            (S, seg(FIN | ACK, 1137, 5501, 0)),
            (C, seg(FIN | ACK, 5501, 1138, 0)),
            (S, seg(ACK, 1138, 5502, 0)),
        ]);
        check(&z, "Hs^ADadFf", "SF");
        assert!(z.zeek_flipped_roles());
        assert_eq!(z.sizes(), (136, 500));
    }

    #[test]
    fn udp_states() {
        let mut z = ZeekState::new();
        z.observe_udp(C, 30);
        z.observe_udp(C, 30);
        check(&z, "D", "S0");
        z.observe_udp(S, 0);
        check(&z, "Dd", "SF");
        let mut z = ZeekState::new();
        z.observe_udp(S, 10);
        check(&z, "d", "SHR");
        check(&ZeekState::new(), "", "OTH");
    }

    #[test]
    fn history_is_bounded_and_counted() {
        let mut z = run(&handshake());
        for i in 0..100u32 {
            z.observe_tcp(S, &seg(RST, 5001 + i * 10, 0, 0));
        }
        assert_eq!(z.history().len(), HISTORY_CAP);
        assert_eq!(z.history_cut(), 100 + 3 - HISTORY_CAP as u32);
        // The handshake's letters, then one `r` per RST with a new sequence number.
        assert_eq!(&z.history()[..4], "ShAr");
        assert!(z.history()[3..].bytes().all(|b| b == b'r'));
    }

    #[test]
    fn hole_ranges_are_bounded_and_counted() {
        let mut z = run(&handshake());
        for i in 0..6u32 {
            z.observe_tcp(S, &seg(ACK, 5001 + 1000 + i * 200, 1001, 100));
        }
        assert_eq!(z.holes_forgotten(), 3);
    }

    #[test]
    fn state_size_is_small() {
        assert!(
            std::mem::size_of::<ZeekState>() <= 392,
            "{}",
            std::mem::size_of::<ZeekState>()
        );
    }

    #[test]
    fn wrap_around_and_garbage_never_panic() {
        let mut z = ZeekState::new();
        let mut x: u32 = 0x9e37_79b9;
        for i in 0..5000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let dir = if x & 1 == 0 { C } else { S };
            let tcp = seg_win(
                (x >> 3) as u16 & 0x1ff,
                x.wrapping_mul(i),
                x.rotate_left(7),
                x % 3000,
                (x >> 20) as u16 & 1,
            );
            z.observe_tcp(dir, &tcp);
        }
        let _ = (z.conn_state(), z.history(), z.sizes());
    }
}
