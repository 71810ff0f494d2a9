//! Wireshark's TCP sequence analysis (`tcp.analysis.*`), per connection.
//!
//! A port of `tcp_analyze_sequence_number` in Wireshark's `epan/dissectors/packet-tcp.c` as
//! tshark 4.0 runs it with `tcp.analyze_sequence_numbers` on (its default): the same checks in
//! the same order, the same `goto finished_fwd` / `finished_checking_retransmission_type`
//! short cuts, the same sentinel values (a `nextseq`, `lastack` or `maxseqtobeacked` of 0 means
//! "not known yet", exactly as in Wireshark, so a real sequence number 0 behaves as there too)
//! and the same sequence-space comparisons modulo 2^32.
//!
//! Flags follow tshark's display-filter semantics: `tcp.analysis.retransmission` also matches
//! fast and spurious retransmissions (Wireshark adds the retransmission expert item to both),
//! so [`AnalysisFlags::RETRANSMISSION`] is set with [`AnalysisFlags::FAST_RETRANSMISSION`] and
//! with [`AnalysisFlags::SPURIOUS_RETRANSMISSION`].
//!
//! What Wireshark does around the call, in `dissect_tcp`, is also reproduced, after the
//! analysis of each packet: a SYN without ACK records the time of the most recent SYN, the first
//! ACK without SYN after it fixes the initial RTT (the out-of-order threshold; 3 ms while it is
//! unknown), a SYN marks its direction's "first ACK not yet sent" (the window of the SYN is
//! never scaled, issue 14690), and the window-scale option sets the direction's shift (capped
//! at 14, RFC 7323) that `verify_tcp_window_scaling` drops on both sides unless both SYNs
//! carried it.
//!
//! Wireshark's list of unacknowledged segments (`tcp.analysis.ack_rtt`, `bytes_in_flight`)
//! is [`TcpRtt`]'s, run after each packet's analysis. Not reproduced: the 10 000-segment
//! cap's effect on a FIN's sequence space; reused ports (the flow table's business); MPTCP.
//!
//! Size: `size_of::<TcpAnalyzer>()` is 392 bytes (two 56-byte direction states, two
//! timestamps, [`TcpRtt`]'s two segment lists with room for two segments each in place, its
//! two estimators, the boxed timeline),
//! checked by a test.

use super::rtt::{SegmentRtt, TcpRtt};
use super::{AnalysisFlags, Direction};
use crate::capture::Timestamp;
use crate::decode::{TcpFlags, TcpInfo};

/// What the analysis says of one packet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalysisResult {
    pub flags: AnalysisFlags,
    /// `#n` of a duplicate ACK (0 otherwise).
    pub dup_ack_num: u32,
    /// Why, with the packet's own numbers ("retransmission: seq 201 < next expected 501").
    pub note: Option<String>,
    /// `tcp.analysis.ack_rtt`, `tcp.analysis.bytes_in_flight` and the RTT estimators.
    pub rtt: SegmentRtt,
}

/// Fast retransmission: within this long of the last (duplicate) ACK from the peer.
const FAST_RETRANSMISSION_NS: u64 = 20_000_000;
/// Out-of-order threshold while the initial RTT is unknown.
const DEFAULT_OOO_THRESHOLD_NS: u64 = 3_000_000;
/// Largest window-scale shift RFC 7323 allows; Wireshark uses 14 for anything larger.
const MAX_WINDOW_SCALE: u8 = 14;
/// `win_scale` values as in Wireshark: unknown (no SYN seen yet) and "no scaling".
const SCALE_UNKNOWN: i8 = -1;
const SCALE_NONE: i8 = -2;
/// Wireshark 4.0 stores -1 in its unsigned `dupacknum` after an "ACKed unseen segment": the
/// count then reads as 4294967295, which is >= 2, so a retransmission of the acked seq within
/// 20 ms of that ack is a "fast retransmission" (seen in zeek's reassembly.pcap).
const DUPACK_AFTER_UNSEEN: u32 = u32::MAX;

/// One direction's state (Wireshark's `tcp_flow_t` and `tcp_analyze_seq_flow_info_t`, the
/// fields the flags need).
#[derive(Clone, Copy, Debug)]
struct DirState {
    /// Initial sequence number (the SYN's seq, else first seq - 1, else first ack - 1 seen
    /// from the peer): the base of the relative numbers in notes.
    base_seq: u32,
    /// Highest `seq + len` (+1 for SYN/FIN) seen; 0 = none yet.
    nextseq: u32,
    /// End of the contiguous data seen, for "ACKed unseen segment"; 0 = none yet.
    maxseqtobeacked: u32,
    /// Ack field of the last segment sent this way (even without the ACK flag, as Wireshark).
    lastack: u32,
    /// Raw (unscaled) window of the last segment; `u32::MAX` before the first.
    window: u32,
    /// Capture time (ns since the epoch) when `nextseq` last advanced; 0 = never.
    nextseq_time: i64,
    /// Capture time of the last segment sent this way; 0 = never.
    lastack_time: i64,
    /// Frame of the last segment whose ack changed (the one duplicate ACKs repeat).
    lastnondupack: u64,
    /// Duplicate ACKs in a row; [`DUPACK_AFTER_UNSEEN`] after an "ACKed unseen segment" was
    /// reported against this direction (so the same loss is reported once).
    dupacknum: u32,
    /// Flags of the last segment sent this way.
    lastsegmentflags: u16,
    /// Window-scale shift; [`SCALE_UNKNOWN`] or [`SCALE_NONE`] otherwise.
    win_scale: i8,
    base_seq_set: bool,
    /// A SYN was sent this way and no ACK without SYN yet.
    is_first_ack: bool,
}

impl Default for DirState {
    fn default() -> Self {
        DirState {
            base_seq: 0,
            nextseq: 0,
            maxseqtobeacked: 0,
            lastack: 0,
            window: u32::MAX,
            nextseq_time: 0,
            lastack_time: 0,
            lastnondupack: 0,
            dupacknum: 0,
            lastsegmentflags: 0,
            win_scale: SCALE_UNKNOWN,
            base_seq_set: false,
            is_first_ack: false,
        }
    }
}

/// Per-connection analysis state (both directions). `reused_ports` is the flow table's
/// business, not this one's.
#[derive(Clone, Debug, Default)]
pub struct TcpAnalyzer {
    /// Indexed by [`Direction::index`].
    dirs: [DirState; 2],
    /// Time of the most recent SYN without ACK (ns since the epoch); 0 = none.
    ts_mru_syn: i64,
    /// Initial RTT: most recent SYN to the first ACK without SYN (ns); 0 = unknown.
    ts_first_rtt: i64,
    /// Wireshark's unacknowledged-segment lists and the RTT estimators.
    rtt: TcpRtt,
    /// The request/response timeline (why was it slow), made at the first data segment
    /// (a connection that carries none pays 8 bytes for it).
    timing: Option<Box<super::timing::TimingState>>,
}

/// `a > b` in sequence space.
fn gt_seq(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}
/// `a < b` in sequence space.
fn lt_seq(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}
/// `a <= b` in sequence space.
fn le_seq(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

/// Capture time in nanoseconds since the epoch (wrapping, never panics).
fn ts_nanos(ts: &Timestamp) -> i64 {
    ts.secs
        .wrapping_mul(1_000_000_000)
        .wrapping_add(i64::from(ts.nanos))
}

/// The numbers a note quotes, taken before the state moves on.
struct NoteCtx {
    seq: u32,
    ack: u32,
    seglen: u32,
    window: u32,
    fwd_base: u32,
    rev_base: u32,
    nextseq: u32,
    prev_window: u32,
    rev_lastack: u32,
    rev_window: u32,
    rev_shift: u8,
    rev_maxseqtobeacked: u32,
    rev_dupacknum: u32,
    dupack_frame: u64,
    since_nextseq_ns: u64,
    ooo_threshold_ns: u64,
}

impl TcpAnalyzer {
    pub fn new() -> TcpAnalyzer {
        TcpAnalyzer::default()
    }

    /// Analyses one TCP segment of this connection, in capture order.
    pub fn analyze(
        &mut self,
        dir: Direction,
        tcp: &TcpInfo,
        ts: Timestamp,
        frame: u64,
    ) -> AnalysisResult {
        self.analyze_with(dir, tcp, ts, frame, true)
    }

    /// [`TcpAnalyzer::analyze`], writing the note only when `notes` is set (the flags are
    /// the same either way).
    pub fn analyze_with(
        &mut self,
        dir: Direction,
        tcp: &TcpInfo,
        ts: Timestamp,
        frame: u64,
        notes: bool,
    ) -> AnalysisResult {
        let mut result = AnalysisResult::default();
        self.analyze_into(&mut result, dir, tcp, ts, frame, notes);
        result
    }

    /// [`TcpAnalyzer::analyze_with`] written into `out` (every field set), which the flow
    /// tracker keeps in its own frame: the result is not copied back on every packet.
    #[inline(never)]
    pub fn analyze_into(
        &mut self,
        out: &mut AnalysisResult,
        dir: Direction,
        tcp: &TcpInfo,
        ts: Timestamp,
        frame: u64,
        notes: bool,
    ) {
        let now = ts_nanos(&ts);
        if self.analyze_plain(dir, tcp, now, frame) {
            (out.flags, out.dup_ack_num, out.note) = (AnalysisFlags::default(), 0, None);
        } else {
            self.analyze_general(out, dir, tcp, now, frame, notes);
        }
        let base = self.dirs[dir.index()].base_seq;
        let flags = out.flags;
        self.rtt
            .on_segment(&mut out.rtt, dir, tcp, (now, frame), flags, base);
        self.on_timing(dir, tcp, now, out);
    }

    /// [`super::timing::TimingState::on_segment`], once a segment carried data.
    #[inline]
    fn on_timing(&mut self, dir: Direction, tcp: &TcpInfo, now: i64, r: &AnalysisResult) {
        if self.timing.is_none() && tcp.payload_len == 0 {
            return;
        }
        self.timing
            .get_or_insert_with(Box::default)
            .on_segment(dir, tcp, now, r.flags, &r.rtt);
    }

    /// The request/response timeline so far.
    pub fn timing(&self) -> super::timing::ConnTiming {
        self.timing.as_ref().map(|t| t.timing()).unwrap_or_default()
    }

    /// The sequence number after the highest byte (SYN and FIN count one) the sender
    /// `dir` sent, if it sent anything (Wireshark's `nextseq`).
    pub fn next_seq(&self, dir: Direction) -> Option<u32> {
        let n = self.dirs[dir.index()].nextseq;
        (n != 0).then_some(n)
    }

    /// See [`TcpRtt::release_empty_lists`].
    pub fn release_empty_lists(&mut self) {
        self.rtt.release_empty_lists();
    }

    /// The unacknowledged-segment lists and RTT estimators.
    pub fn rtt(&self) -> &TcpRtt {
        &self.rtt
    }

    /// Every check, for any segment (what [`TcpAnalyzer::analyze_plain`] shortens): the
    /// flags, duplicate-ACK number and note written into `out`.
    #[inline(never)]
    fn analyze_general(
        &mut self,
        out: &mut AnalysisResult,
        dir: Direction,
        tcp: &TcpInfo,
        now: i64,
        frame: u64,
        notes: bool,
    ) {
        let first_rtt = self.ts_first_rtt;
        let (fwd, rev) = match dir {
            Direction::ToServer => {
                let [a, b] = &mut self.dirs;
                (a, b)
            }
            Direction::ToClient => {
                let [a, b] = &mut self.dirs;
                (b, a)
            }
        };
        let seq = tcp.seq;
        let ack = tcp.ack;
        let seglen = tcp.payload_len;
        let window = u32::from(tcp.window);
        let syn = tcp.flags.syn();
        let fin = tcp.flags.fin();
        let rst = tcp.flags.rst();
        let ack_flag = tcp.flags.ack();
        let syn_fin_rst = syn || fin || rst;
        let mut fl = AnalysisFlags::default();
        let mut dup_ack_num = 0u32;

        // Base sequence numbers (relative numbering, as tshark shows it).
        if !fwd.base_seq_set {
            fwd.base_seq = if syn { seq } else { seq.wrapping_sub(1) };
            fwd.base_seq_set = true;
        }
        if !rev.base_seq_set && ack_flag {
            rev.base_seq = ack.wrapping_sub(1);
            rev.base_seq_set = true;
        }

        let rev_shift = if rev.is_first_ack || rev.win_scale < 0 {
            0
        } else {
            rev.win_scale as u8
        };
        let ooo_threshold_ns = if first_rtt == 0 {
            DEFAULT_OOO_THRESHOLD_NS
        } else {
            first_rtt as u64
        };
        let since_nextseq_ns = now.wrapping_sub(fwd.nextseq_time) as u64;
        // The numbers a note quotes, only when notes are written.
        let ctx = if !notes {
            None
        } else {
            Some(NoteCtx {
                seq,
                ack,
                seglen,
                window,
                fwd_base: fwd.base_seq,
                rev_base: rev.base_seq,
                nextseq: fwd.nextseq,
                prev_window: fwd.window,
                rev_lastack: rev.lastack,
                rev_window: rev.window,
                rev_shift,
                rev_maxseqtobeacked: rev.maxseqtobeacked,
                rev_dupacknum: rev.dupacknum,
                dupack_frame: fwd.lastnondupack,
                since_nextseq_ns,
                ooo_threshold_ns,
            })
        };

        'finished_fwd: {
            // Zero window probe: exactly 1 byte at the next expected seq while the peer's
            // window is 0.
            if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
                fl.set(AnalysisFlags::ZERO_WINDOW_PROBE);
                break 'finished_fwd;
            }
            if window == 0 && !syn_fin_rst {
                fl.set(AnalysisFlags::ZERO_WINDOW);
            }
            // Previous segment not captured.
            if fwd.nextseq != 0 && gt_seq(seq, fwd.nextseq) && !rst {
                fl.set(AnalysisFlags::LOST_SEGMENT);
            }
            // Keep-alive: 0 or 1 byte starting one byte before the next expected seq.
            if seglen <= 1 && seq == fwd.nextseq.wrapping_sub(1) && !syn_fin_rst {
                fl.set(AnalysisFlags::KEEP_ALIVE);
            }
            let same_seq_ack =
                seglen == 0 && seq == fwd.nextseq && ack == fwd.lastack && !syn_fin_rst;
            if same_seq_ack && window != 0 && window != fwd.window {
                fl.set(AnalysisFlags::WINDOW_UPDATE);
            }
            // Window full: the segment ends exactly at the edge of the peer's window.
            if seglen > 0
                && rev.win_scale != SCALE_UNKNOWN
                && seq.wrapping_add(seglen)
                    == rev
                        .lastack
                        .wrapping_add(rev.window.wrapping_shl(u32::from(rev_shift)))
                && !syn_fin_rst
            {
                fl.set(AnalysisFlags::WINDOW_FULL);
            }
            if same_seq_ack
                && window != 0
                && window == fwd.window
                && rev.lastsegmentflags & AnalysisFlags::KEEP_ALIVE != 0
            {
                fl.set(AnalysisFlags::KEEP_ALIVE_ACK);
                break 'finished_fwd;
            }
            if same_seq_ack
                && window == 0
                && window == fwd.window
                && rev.lastsegmentflags & AnalysisFlags::ZERO_WINDOW_PROBE != 0
            {
                fl.set(AnalysisFlags::ZERO_WINDOW_PROBE_ACK);
                break 'finished_fwd;
            }
            if same_seq_ack && window != 0 && window == fwd.window {
                fwd.dupacknum = if fwd.dupacknum == DUPACK_AFTER_UNSEEN {
                    1
                } else {
                    fwd.dupacknum.wrapping_add(1)
                };
                fl.set(AnalysisFlags::DUPLICATE_ACK);
                dup_ack_num = fwd.dupacknum;
            }
        }

        // finished_fwd: a new ack number resets the duplicate-ACK count.
        if ack != fwd.lastack {
            fwd.lastnondupack = frame;
            fwd.dupacknum = 0;
        }

        // ACKed unseen segment: acks beyond the contiguous data seen the other way. When the
        // peer sent more since, the mark jumps to its nextseq; otherwise the loss is reported
        // once (the dupacknum = -1 trick). Wireshark's current source reads
        // `maxseqtobeacked > nextseq` here, but tshark 4.0.17 behaves as `<` (plain unsigned
        // comparison): zeek's reassembly.pcap frames 10, 12 and 15 only match that way.
        if rev.maxseqtobeacked != 0 && gt_seq(ack, rev.maxseqtobeacked) && ack_flag {
            if rev.maxseqtobeacked < rev.nextseq {
                rev.maxseqtobeacked = rev.nextseq;
                fl.set(AnalysisFlags::ACK_LOST_SEGMENT);
            } else {
                if rev.dupacknum == 0 {
                    fl.set(AnalysisFlags::ACK_LOST_SEGMENT);
                }
                rev.dupacknum = DUPACK_AFTER_UNSEEN;
            }
        }

        // Retransmission / fast retransmission / spurious / out-of-order.
        'finished_checking: {
            if !(seglen > 0 || syn || fin) {
                break 'finished_checking;
            }
            let mut seq_not_advanced = fwd.nextseq != 0 && lt_seq(seq, fwd.nextseq);
            if fl.has(AnalysisFlags::KEEP_ALIVE) {
                break 'finished_checking;
            }
            // New data starting one byte early (after a possible zero window probe).
            if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
                seq_not_advanced = false;
            }
            // Spurious: every byte was already acked by the peer.
            if seglen > 0 && rev.lastack != 0 && le_seq(seq.wrapping_add(seglen), rev.lastack) {
                fl.set(AnalysisFlags::SPURIOUS_RETRANSMISSION);
                fl.set(AnalysisFlags::RETRANSMISSION);
                break 'finished_checking;
            }
            // Fast: >= 2 duplicate ACKs of this seq from the peer, the last within 20 ms.
            let since_peer_ack = now.wrapping_sub(rev.lastack_time) as u64;
            if seq_not_advanced
                && rev.dupacknum >= 2
                && rev.lastack == seq
                && since_peer_ack < FAST_RETRANSMISSION_NS
            {
                fl.set(AnalysisFlags::FAST_RETRANSMISSION);
                fl.set(AnalysisFlags::RETRANSMISSION);
                break 'finished_checking;
            }
            // Out of order: soon (< initial RTT, or 3 ms) after the highest segment, and not an
            // exact repeat of it.
            let syn_fin = u32::from(syn || fin);
            if seq_not_advanced
                && since_nextseq_ns < ooo_threshold_ns
                && fwd.nextseq != seq.wrapping_add(seglen).wrapping_add(syn_fin)
            {
                fl.set(AnalysisFlags::OUT_OF_ORDER);
                break 'finished_checking;
            }
            if seq_not_advanced {
                fl.set(AnalysisFlags::RETRANSMISSION);
            }
        }

        // finished_checking_retransmission_type: move the direction's state on.
        let mut nextseq = seq.wrapping_add(seglen);
        if syn || fin {
            nextseq = nextseq.wrapping_add(1);
        }
        let probe = fl.has(AnalysisFlags::ZERO_WINDOW_PROBE);
        if (gt_seq(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !probe {
            fwd.nextseq = nextseq;
            fwd.nextseq_time = now;
        }
        if (seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
        fwd.window = window;
        fwd.lastack = ack;
        fwd.lastack_time = now;
        fwd.lastsegmentflags = fl.0;

        // What dissect_tcp does after the analysis.
        if syn {
            if !ack_flag {
                self.ts_mru_syn = now;
            }
            fwd.is_first_ack = true;
        } else if ack_flag {
            if self.ts_mru_syn != 0 && self.ts_first_rtt == 0 {
                self.ts_first_rtt = now.wrapping_sub(self.ts_mru_syn);
            }
            fwd.is_first_ack = false;
        }
        if let Some(shift) = tcp.options.window_scale {
            fwd.win_scale = shift.min(MAX_WINDOW_SCALE) as i8;
        }
        if syn {
            // verify_tcp_window_scaling: scaling only when both SYNs carried the option.
            if fwd.win_scale == SCALE_UNKNOWN {
                fwd.win_scale = SCALE_NONE;
                rev.win_scale = SCALE_NONE;
            } else if ack_flag && rev.win_scale == SCALE_NONE {
                fwd.win_scale = SCALE_NONE;
            }
        }

        let note = match &ctx {
            Some(ctx) if !fl.is_empty() => Some(note(fl, dup_ack_num, ctx)),
            _ => None,
        };
        out.flags = fl;
        out.dup_ack_num = dup_ack_num;
        out.note = note;
    }
}

impl TcpAnalyzer {
    /// The common segment, in fewer steps: ACK without SYN, FIN or RST, a non-zero window,
    /// exactly at the next expected seq, both bases known, the peer's window non-zero, and
    /// none of window full, spurious retransmission or ACKed unseen segment applying (nor,
    /// without payload, the ack repeating the last one). No flag can be set then; this
    /// moves the state on exactly as [`TcpAnalyzer::analyze_into`] does. False: not such a
    /// segment, nothing was changed.
    #[inline(always)]
    fn analyze_plain(&mut self, dir: Direction, tcp: &TcpInfo, now: i64, frame: u64) -> bool {
        const SYN_FIN_RST_ACK: u16 = TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST | TcpFlags::ACK;
        if tcp.flags.0 & SYN_FIN_RST_ACK != TcpFlags::ACK
            || tcp.window == 0
            || !super::tracker::fast_paths_on()
        {
            return false;
        }
        let [a, b] = &mut self.dirs;
        let (fwd, rev) = match dir {
            Direction::ToServer => (a, b),
            Direction::ToClient => (b, a),
        };
        let (seq, ack, seglen) = (tcp.seq, tcp.ack, tcp.payload_len);
        let end = seq.wrapping_add(seglen);
        let rev_shift = if rev.is_first_ack || rev.win_scale < 0 {
            0
        } else {
            rev.win_scale as u8
        };
        let window_full = seglen > 0
            && rev.win_scale != SCALE_UNKNOWN
            && end
                == rev
                    .lastack
                    .wrapping_add(rev.window.wrapping_shl(u32::from(rev_shift)));
        if !fwd.base_seq_set
            || !rev.base_seq_set
            || fwd.nextseq == 0
            || seq != fwd.nextseq
            || rev.window == 0
            || (seglen == 0 && ack == fwd.lastack)
            || (rev.maxseqtobeacked != 0 && gt_seq(ack, rev.maxseqtobeacked))
            || (seglen > 0 && rev.lastack != 0 && le_seq(end, rev.lastack))
            || window_full
        {
            return false;
        }
        if ack != fwd.lastack {
            fwd.lastnondupack = frame;
            fwd.dupacknum = 0;
        }
        if gt_seq(end, fwd.nextseq) {
            fwd.nextseq = end;
            fwd.nextseq_time = now;
        }
        if seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0 {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
        fwd.window = u32::from(tcp.window);
        fwd.lastack = ack;
        fwd.lastack_time = now;
        fwd.lastsegmentflags = 0;
        if self.ts_mru_syn != 0 && self.ts_first_rtt == 0 {
            self.ts_first_rtt = now.wrapping_sub(self.ts_mru_syn);
        }
        fwd.is_first_ack = false;
        if let Some(shift) = tcp.options.window_scale {
            fwd.win_scale = shift.min(MAX_WINDOW_SCALE) as i8;
        }
        true
    }
}

/// "why" of each flag, with the packet's numbers relative to each side's base sequence
/// number; only called for flagged packets.
fn note(fl: AnalysisFlags, dup_ack_num: u32, c: &NoteCtx) -> String {
    use std::fmt::Write;
    let rs = |x: u32| x.wrapping_sub(c.fwd_base);
    let ra = |x: u32| x.wrapping_sub(c.rev_base);
    let ms = |ns: u64| ns as f64 / 1e6;
    let mut out = String::new();
    let mut add = |args: std::fmt::Arguments| {
        if !out.is_empty() {
            out.push_str("; ");
        }
        let _ = out.write_fmt(args);
    };
    let end = c.seq.wrapping_add(c.seglen);
    if fl.has(AnalysisFlags::SPURIOUS_RETRANSMISSION) {
        add(format_args!(
            "spurious retransmission: bytes {}..{} were already acked (ack {})",
            rs(c.seq),
            rs(end),
            rs(c.rev_lastack)
        ));
    } else if fl.has(AnalysisFlags::FAST_RETRANSMISSION) {
        if c.rev_dupacknum == DUPACK_AFTER_UNSEEN {
            add(format_args!(
                "fast retransmission: seq {} within 20 ms of the peer's ack of it, after an \
                 ACKed unseen segment (tshark counts that as duplicate acks)",
                rs(c.seq)
            ));
        } else {
            add(format_args!(
                "fast retransmission: seq {} after {} duplicate acks of it within 20 ms",
                rs(c.seq),
                c.rev_dupacknum
            ));
        }
    } else if fl.has(AnalysisFlags::RETRANSMISSION) {
        add(format_args!(
            "retransmission: seq {} < next expected {}",
            rs(c.seq),
            rs(c.nextseq)
        ));
    }
    if fl.has(AnalysisFlags::OUT_OF_ORDER) {
        add(format_args!(
            "out of order: seq {} < next expected {}, {:.3} ms after it (threshold {:.3} ms)",
            rs(c.seq),
            rs(c.nextseq),
            ms(c.since_nextseq_ns),
            ms(c.ooo_threshold_ns)
        ));
    }
    if fl.has(AnalysisFlags::LOST_SEGMENT) {
        add(format_args!(
            "previous segment not captured: seq {} > next expected {}",
            rs(c.seq),
            rs(c.nextseq)
        ));
    }
    if fl.has(AnalysisFlags::ACK_LOST_SEGMENT) {
        add(format_args!(
            "ACKed unseen segment: ack {} > {} seen from the peer",
            ra(c.ack),
            ra(c.rev_maxseqtobeacked)
        ));
    }
    if fl.has(AnalysisFlags::DUPLICATE_ACK) {
        add(format_args!(
            "duplicate ack #{} of ack {} (frame {})",
            dup_ack_num,
            ra(c.ack),
            c.dupack_frame
        ));
    }
    if fl.has(AnalysisFlags::ZERO_WINDOW_PROBE) {
        add(format_args!(
            "zero window probe: 1 byte at seq {} while the peer's window is 0",
            rs(c.seq)
        ));
    }
    if fl.has(AnalysisFlags::ZERO_WINDOW_PROBE_ACK) {
        add(format_args!(
            "zero window probe ack: ack {} repeated with window 0",
            ra(c.ack)
        ));
    }
    if fl.has(AnalysisFlags::ZERO_WINDOW) {
        add(format_args!("zero window: receiver window is 0"));
    }
    if fl.has(AnalysisFlags::KEEP_ALIVE) {
        add(format_args!(
            "keep-alive: {} byte(s) at seq {} = next expected {} - 1",
            c.seglen,
            rs(c.seq),
            rs(c.nextseq)
        ));
    }
    if fl.has(AnalysisFlags::KEEP_ALIVE_ACK) {
        add(format_args!(
            "keep-alive ack: repeats ack {} after the peer's keep-alive",
            ra(c.ack)
        ));
    }
    if fl.has(AnalysisFlags::WINDOW_UPDATE) {
        add(format_args!(
            "window update: window {} -> {} (unscaled), seq and ack unchanged",
            c.prev_window, c.window
        ));
    }
    if fl.has(AnalysisFlags::WINDOW_FULL) {
        add(format_args!(
            "window full: segment ends at {} = peer's ack {} + window {}",
            rs(end),
            rs(c.rev_lastack),
            u64::from(c.rev_window) << c.rev_shift
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{TcpFlags, TcpOptions};
    use Direction::{ToClient as S, ToServer as C};

    const SYN: u16 = TcpFlags::SYN;
    const ACK: u16 = TcpFlags::ACK;
    const SA: u16 = TcpFlags::SYN | TcpFlags::ACK;
    const PA: u16 = TcpFlags::PSH | TcpFlags::ACK;
    const FA: u16 = TcpFlags::FIN | TcpFlags::ACK;

    /// One segment: (time in ms, direction, flags, seq, ack, raw window, payload length,
    /// window-scale option).
    type Seg = (f64, Direction, u16, u32, u32, u16, u32, Option<u8>);

    fn tcp(s: &Seg) -> TcpInfo {
        let (_, dir, flags, seq, ack, window, len, ws) = *s;
        let (src_port, dst_port) = if dir == C { (40000, 80) } else { (80, 40000) };
        TcpInfo {
            src_port,
            dst_port,
            seq,
            ack,
            flags: TcpFlags(flags),
            window,
            header_len: if ws.is_some() { 24 } else { 20 },
            options: TcpOptions {
                window_scale: ws,
                ..TcpOptions::default()
            },
            payload_len: len,
        }
    }

    fn ts(ms: f64) -> Timestamp {
        let ns = (ms * 1e6).round() as i64 + 1_700_000_000_000_000_000;
        Timestamp {
            secs: ns / 1_000_000_000,
            nanos: (ns % 1_000_000_000) as u32,
            precision: 6,
        }
    }

    /// Runs the segments through one analyzer: per frame (1-based), the flag names joined
    /// by "," with `#n` after duplicate_ack.
    fn run(segs: &[Seg]) -> Vec<(u64, String)> {
        let mut a = TcpAnalyzer::new();
        let mut out = Vec::new();
        for (i, s) in segs.iter().enumerate() {
            let frame = i as u64 + 1;
            let r = a.analyze(s.1, &tcp(s), ts(s.0), frame);
            assert_eq!(r.flags.is_empty(), r.note.is_none(), "frame {frame}: {r:?}");
            if r.flags.is_empty() {
                continue;
            }
            let mut names: Vec<String> = r.flags.names().map(str::to_string).collect();
            if r.flags.has(AnalysisFlags::DUPLICATE_ACK) {
                for n in names.iter_mut().filter(|n| *n == "duplicate_ack") {
                    n.push_str(&format!("#{}", r.dup_ack_num));
                }
            } else {
                assert_eq!(r.dup_ack_num, 0);
            }
            out.push((frame, names.join(",")));
        }
        out
    }

    /// [`TcpAnalyzer::analyze`] without its plain fast path.
    fn general_path(
        a: &mut TcpAnalyzer,
        dir: Direction,
        seg: &TcpInfo,
        t: Timestamp,
        frame: u64,
    ) -> AnalysisResult {
        let now = ts_nanos(&t);
        let mut r = AnalysisResult::default();
        a.analyze_general(&mut r, dir, seg, now, frame, true);
        let base = a.dirs[dir.index()].base_seq;
        let flags = r.flags;
        a.rtt
            .on_segment(&mut r.rtt, dir, seg, (now, frame), flags, base);
        a.on_timing(dir, seg, now, &r);
        r
    }

    /// The fast path changes nothing: over many generated segments near the expected
    /// sequence numbers (in order, repeated, early, late, zero windows, keep-alives, FINs),
    /// an analyzer with it and one that always takes the general path give the same
    /// results and end in the same state after every segment.
    #[test]
    fn plain_fast_path_matches_the_general_path() {
        let mut fast = TcpAnalyzer::new();
        let mut general = TcpAnalyzer::new();
        let mut next = crate::flow::test_rng(0x2545_f491_4f6c_dd1du64);
        let mut seq = [1000u32, 5000u32];
        let mut t_ms = 0.0;
        let mut plain = 0;
        let segs: [Seg; 3] = [
            (0.0, C, SYN, 1000, 0, 65535, 0, Some(7)),
            (1.0, S, SA, 5000, 1001, 65535, 0, Some(7)),
            (2.0, C, ACK, 1001, 5001, 512, 0, None),
        ];
        for (i, s) in segs.iter().enumerate() {
            let a = fast.analyze(s.1, &tcp(s), ts(s.0), i as u64 + 1);
            let b = general_path(&mut general, s.1, &tcp(s), ts(s.0), i as u64 + 1);
            assert_eq!(a, b);
        }
        seq = [seq[0] + 1, seq[1] + 1];
        for frame in 4..20_000u64 {
            t_ms += [0.01, 0.5, 2.0, 30.0][next(4) as usize];
            let dir = if next(2) == 0 { C } else { S };
            let (d, p) = (dir.index(), 1 - dir.index());
            let mut len = [0, 0, 1, 100, 1448, 0][next(6) as usize];
            let s_off = [0i64, 0, 0, -1, 1448, -1448][next(6) as usize];
            let a_off = [0i64, 0, 1448, -100][next(4) as usize];
            let flags = [ACK, ACK, PA, PA, FA][next(5) as usize];
            let window = [512, 512, 0, 1, 600, 8][next(6) as usize];
            let seg_seq = seq[d].wrapping_add(s_off as u32);
            if len == 0 && next(2) == 0 {
                // Exactly up to the edge of the peer's window (window full), when near.
                let r = &general.dirs[p];
                let shift = if r.win_scale > 0 {
                    r.win_scale as u32
                } else {
                    0
                };
                let edge = r.lastack.wrapping_add(r.window.wrapping_shl(shift));
                len = edge.wrapping_sub(seg_seq).min(70_000);
            }
            let seg_ack = seq[p].wrapping_add(a_off as u32);
            let s: Seg = (t_ms, dir, flags, seg_seq, seg_ack, window, len, None);
            let before = (fast.dirs[d].nextseq, seg_seq);
            let a = fast.analyze(dir, &tcp(&s), ts(t_ms), frame);
            let b = general_path(&mut general, dir, &tcp(&s), ts(t_ms), frame);
            assert_eq!(a, b, "frame {frame}: {s:?}");
            assert_eq!(format!("{fast:?}"), format!("{general:?}"), "frame {frame}");
            if a.flags.is_empty() && before.0 == before.1 {
                plain += 1;
            }
            if next(3) > 0 {
                seq[d] = seq[d].wrapping_add(len);
            }
        }
        assert!(plain > 1000, "only {plain} plain segments");
    }

    fn expect(list: &[(u64, &str)]) -> Vec<(u64, String)> {
        list.iter().map(|(f, s)| (*f, s.to_string())).collect()
    }

    /// Client ISN 1000, server ISN 5000, SYN at 0 ms, ACK at 20 ms: initial RTT 20 ms.
    fn handshake() -> Vec<Seg> {
        vec![
            (0.0, C, SYN, 1000, 0, 1000, 0, None),
            (10.0, S, SA, 5000, 1001, 1000, 0, None),
            (20.0, C, ACK, 1001, 5001, 1000, 0, None),
        ]
    }

    // Every expectation below is what tshark 4.0.17 reports for the same segments written
    // to a pcap (checked by hand with `tshark -Y tcp.analysis.X`).

    #[test]
    fn retransmissions_dup_acks_loss_and_reordering() {
        let mut s = handshake();
        s.extend([
            (30.0, C, PA, 1001, 5001, 1000, 100, None),
            (31.0, C, PA, 1101, 5001, 1000, 100, None),
            (32.0, C, PA, 1201, 5001, 1000, 100, None),
            (40.0, S, ACK, 5001, 1101, 1000, 0, None),
            (41.0, S, ACK, 5001, 1101, 1000, 0, None),
            (42.0, S, ACK, 5001, 1101, 1000, 0, None),
            (45.0, C, PA, 1101, 5001, 1000, 100, None),
            (100.0, C, PA, 1401, 5001, 1000, 100, None),
            (105.0, C, PA, 1301, 5001, 1000, 100, None),
            (200.0, C, PA, 1301, 5001, 1000, 100, None),
            (210.0, S, ACK, 5001, 1501, 1000, 0, None),
            (220.0, C, PA, 1001, 5001, 1000, 100, None),
            (230.0, S, ACK, 5001, 1701, 1000, 0, None),
        ]);
        assert_eq!(
            run(&s),
            expect(&[
                (8, "duplicate_ack#1"),
                (9, "duplicate_ack#2"),
                (10, "retransmission,fast_retransmission"),
                (11, "lost_segment"),
                (12, "out_of_order"),
                (13, "retransmission"),
                (15, "retransmission,spurious_retransmission"),
                (16, "ack_lost_segment"),
            ])
        );
    }

    #[test]
    fn keep_alive_window_update_zero_window_and_probe() {
        let mut s = handshake();
        s.extend([
            (30.0, C, PA, 1001, 5001, 1000, 10, None),
            (31.0, S, ACK, 5001, 1011, 1000, 0, None),
            (1000.0, C, ACK, 1010, 5001, 1000, 0, None),
            (1001.0, S, ACK, 5001, 1011, 1000, 0, None),
            (2000.0, C, ACK, 1010, 5001, 1000, 1, None),
            (2001.0, S, ACK, 5001, 1011, 2000, 0, None),
            (2002.0, S, ACK, 5001, 1011, 0, 0, None),
            (3000.0, C, PA, 1011, 5001, 1000, 1, None),
            (3001.0, S, ACK, 5001, 1011, 0, 0, None),
            (3500.0, S, ACK, 5001, 1012, 500, 0, None),
            (3600.0, C, PA, 1012, 5001, 1000, 100, None),
        ]);
        assert_eq!(
            run(&s),
            expect(&[
                (6, "keep_alive"),
                (7, "keep_alive_ack"),
                (8, "keep_alive"),
                (9, "window_update"),
                (10, "zero_window"),
                (11, "zero_window_probe"),
                (12, "zero_window,zero_window_probe_ack"),
                // tshark's quirks: a zero window probe moves neither nextseq nor the
                // highest contiguous seq, so acking the probe byte is an "ACKed unseen
                // segment" and the next data a "previous segment not captured".
                (13, "ack_lost_segment"),
                (14, "lost_segment"),
            ])
        );
    }

    #[test]
    fn window_full_uses_the_scale_only_after_the_first_ack() {
        let s = [
            (0.0, C, SYN, 1000, 0, 1000, 0, Some(2)),
            (10.0, S, SA, 5000, 1001, 100, 0, Some(2)),
            (20.0, C, ACK, 1001, 5001, 1000, 0, None),
            // 1001 + 400 = the server's ack 1001 + 100 << 2, but the SYN-ACK's window is
            // never scaled: not full.
            (30.0, C, PA, 1001, 5001, 1000, 400, None),
            (40.0, S, ACK, 5001, 1401, 100, 0, None),
            (50.0, C, PA, 1401, 5001, 1000, 400, None),
        ];
        assert_eq!(run(&s), expect(&[(6, "window_full")]));
        // Scale offered by the client only: no scaling, 1401 + 400 != 1401 + 100.
        let mut one_sided = s;
        one_sided[1].7 = None;
        assert_eq!(run(&one_sided), expect(&[]));
        // No SYN seen: the scale is unknown, window full is never checked.
        assert_eq!(run(&s[2..]), expect(&[]));
    }

    #[test]
    fn ack_of_unseen_segment_is_reported_once() {
        let mut s = handshake();
        s.extend([
            (30.0, C, PA, 1001, 5001, 1000, 100, None),
            (40.0, S, ACK, 5001, 1201, 1000, 0, None),
            (50.0, S, ACK, 5001, 1201, 1000, 0, None),
            (60.0, S, ACK, 5001, 1201, 1000, 0, None),
        ]);
        assert_eq!(
            run(&s),
            expect(&[
                (5, "ack_lost_segment"),
                (6, "duplicate_ack#1"),
                (7, "duplicate_ack#2")
            ])
        );
    }

    #[test]
    fn unseen_ack_marks_move_on_and_count_as_duplicate_acks() {
        // As zeek's reassembly.pcap frames 6-15: the server repeats its FIN while acking
        // client bytes the capture never saw.
        let mut s = handshake();
        s.extend([
            (30.0, C, PA, 1001, 5001, 1000, 100, None),
            (31.0, S, FA, 5001, 1101, 1000, 0, None),
            (40.0, S, FA, 5001, 1201, 1000, 0, None),
            (50.0, C, PA, 1201, 5001, 1000, 100, None),
            (55.0, S, FA, 5001, 1301, 1000, 0, None),
            (60.0, C, PA, 1301, 5001, 1000, 100, None),
            (70.0, S, ACK, 5002, 1401, 1000, 0, None),
        ]);
        assert_eq!(
            run(&s),
            expect(&[
                (6, "retransmission,fast_retransmission,ack_lost_segment"),
                (7, "lost_segment"),
                (8, "retransmission,fast_retransmission,ack_lost_segment"),
            ])
        );
    }

    #[test]
    fn spurious_takes_precedence_over_out_of_order() {
        let mut s = handshake();
        s.extend([
            (30.0, C, PA, 1001, 5001, 1000, 100, None),
            (40.0, S, ACK, 5001, 1101, 1000, 0, None),
            (41.0, C, PA, 1101, 5001, 1000, 100, None),
            (42.0, C, PA, 1001, 5001, 1000, 100, None),
        ]);
        assert_eq!(
            run(&s),
            expect(&[(7, "retransmission,spurious_retransmission")])
        );
    }

    #[test]
    fn repeated_fin_segment_is_a_retransmission_not_out_of_order() {
        let mut s = handshake();
        s.extend([
            (30.0, C, FA, 1001, 5001, 1000, 100, None),
            (31.0, C, FA, 1001, 5001, 1000, 100, None),
        ]);
        assert_eq!(run(&s), expect(&[(5, "retransmission")]));
    }

    #[test]
    fn out_of_order_threshold_is_the_syn_to_ack_time() {
        // SYN at 0, SYN-ACK at 50, ACK at 100 ms: initial RTT 100 ms. 59 ms after the
        // highest segment is out of order (it would be a retransmission with 50 or 3 ms).
        let s = [
            (0.0, C, SYN, 1000, 0, 1000, 0, None),
            (50.0, S, SA, 5000, 1001, 1000, 0, None),
            (100.0, C, ACK, 1001, 5001, 1000, 0, None),
            (200.0, C, PA, 1001, 5001, 1000, 100, None),
            (201.0, C, PA, 1101, 5001, 1000, 100, None),
            (260.0, C, PA, 1001, 5001, 1000, 100, None),
        ];
        assert_eq!(run(&s), expect(&[(6, "out_of_order")]));
        // Without a handshake the threshold is 3 ms after the highest segment (frame 2).
        let late = [
            (0.0, C, PA, 1001, 5001, 1000, 100, None),
            (1.0, C, PA, 1101, 5001, 1000, 100, None),
            (3.5, C, PA, 1001, 5001, 1000, 100, None),
            (4.5, C, PA, 1001, 5001, 1000, 100, None),
        ];
        assert_eq!(
            run(&late),
            expect(&[(3, "out_of_order"), (4, "retransmission")])
        );
    }

    #[test]
    fn notes_quote_relative_numbers() {
        let mut s = handshake();
        s.extend([
            (30.0, C, PA, 1001, 5001, 1000, 100, None),
            (31.0, C, PA, 1101, 5001, 1000, 400, None),
            (200.0, C, PA, 1201, 5001, 1000, 100, None),
            (300.0, C, PA, 2001, 5001, 1000, 100, None),
            (301.0, S, ACK, 5001, 1101, 1000, 0, None),
            (302.0, S, ACK, 5001, 1101, 1000, 0, None),
            (303.0, S, ACK, 5001, 1101, 0, 0, None),
        ]);
        let mut a = TcpAnalyzer::new();
        let notes: Vec<Option<String>> = s
            .iter()
            .enumerate()
            .map(|(i, seg)| a.analyze(seg.1, &tcp(seg), ts(seg.0), i as u64 + 1).note)
            .collect();
        assert_eq!(notes[..5], [None, None, None, None, None]);
        assert_eq!(
            notes[5].as_deref(),
            Some("retransmission: seq 201 < next expected 501")
        );
        assert_eq!(
            notes[6].as_deref(),
            Some("previous segment not captured: seq 1001 > next expected 501")
        );
        assert_eq!(notes[7], None);
        assert_eq!(
            notes[8].as_deref(),
            Some("duplicate ack #1 of ack 101 (frame 8)")
        );
        assert_eq!(
            notes[9].as_deref(),
            Some("zero window: receiver window is 0")
        );
    }

    #[test]
    fn no_panic_on_wrapping_numbers_and_times() {
        let mut a = TcpAnalyzer::new();
        let odd = [
            (0.0, C, 0xfff, u32::MAX, u32::MAX, 0, u32::MAX, Some(255)),
            (-5.0, S, 0xfff, 0, 0, 0, 1, Some(200)),
            (1e9, C, ACK, u32::MAX, 0, 0, 0, None),
            (-1e9, S, PA, 7, u32::MAX, u16::MAX, 1, None),
        ];
        for (i, s) in odd.iter().enumerate() {
            let _ = a.analyze(s.1, &tcp(s), ts(s.0), i as u64);
        }
        let mut extreme = tcp(&odd[0]);
        extreme.flags = TcpFlags(ACK);
        let far = Timestamp {
            secs: i64::MAX,
            nanos: 999_999_999,
            precision: 9,
        };
        let _ = a.analyze(C, &extreme, far, u64::MAX);
    }

    #[test]
    fn state_stays_small() {
        // 128 for the sequence analysis, 160 for the unacknowledged segments (each
        // direction's first two in place), 96 for the two RTT estimators, 8 for the boxed
        // timeline.
        assert_eq!(std::mem::size_of::<TcpAnalyzer>(), 392);
    }
}
