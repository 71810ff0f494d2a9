//! Why was a connection slow: its timeline at the capture point (when the request was sent,
//! when the response started and ended) and what limited the response's transfer: the
//! receiver (a zero window, or segments that filled its window), loss (retransmissions:
//! timeouts and fast retransmits, with the silence a timeout cost), the sending
//! application (the sender repeatedly went idle with nothing in flight), or the network
//! path (none of those: the pipe was full).
//!
//! The response is what the server sends; the request what the client sends before the
//! server's first data. Fed every TCP segment after the sequence analysis and the RTT lists.

use super::rtt::SegmentRtt;
use super::{AnalysisFlags, Direction};
use crate::decode::TcpInfo;

/// Idle restarts (a response segment sent with nothing else in flight, after the sender
/// was silent) at which the sending application is called the limit.
const SENDER_IDLE_RESTARTS: u32 = 3;
/// Silence before a segment with nothing else in flight that counts as an idle restart.
const IDLE_NS: i64 = 1_000_000;

/// What limited the response's transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitedBy {
    Receiver,
    Loss,
    Sender,
    Network,
}

impl LimitedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitedBy::Receiver => "receiver",
            LimitedBy::Loss => "loss",
            LimitedBy::Sender => "sender",
            LimitedBy::Network => "network",
        }
    }
}

/// The timeline, as the connection's summary gives it. Times in ns; None where the
/// connection did not show them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ConnTiming {
    /// The first exchange: client's first data byte to its last one before the server's
    /// first data.
    pub request_ns: Option<i64>,
    /// The first exchange: last request byte to the first response byte (the RTT is not taken off here:
    /// [`ConnTiming::server_ns`] does it with the handshake's).
    pub wait_ns: Option<i64>,
    /// Each response's first to last data segment, summed over the exchanges.
    pub transfer_ns: Option<i64>,
    pub limited_by: Option<LimitedBy>,
    /// Request/response exchanges (client data after server data starts a new one).
    pub exchanges: u32,
    /// Idle gaps: the end of a response to the next request, summed.
    pub idle_ns: i64,
    /// Response payload bytes (retransmissions included).
    pub response_bytes: u64,
    /// Response retransmissions: fast ones, and others (a timeout's, or a lost segment's
    /// resend after silence) with the silence before them summed.
    pub fast_retransmissions: u32,
    pub other_retransmissions: u32,
    pub retransmission_silence_ns: i64,
    pub zero_windows: u32,
    pub window_full: u32,
    pub idle_restarts: u32,
}

impl ConnTiming {
    /// Server time: the wait less one round trip (`rtt_ns`, the handshake's SYN → ACK),
    /// never below 0; the wait itself when the RTT is unknown.
    pub fn server_ns(&self, rtt_ns: Option<u64>) -> Option<i64> {
        let wait = self.wait_ns?;
        Some(match rtt_ns {
            Some(rtt) => (wait - rtt as i64).max(0),
            None => wait,
        })
    }
}

/// Per-connection state.
#[derive(Clone, Copy, Debug, Default)]
pub struct TimingState {
    /// The first exchange's request: first and last data byte times.
    request_first: i64,
    request_last: i64,
    /// The first exchange's wait (last request byte to first response byte); 0: none yet.
    first_wait: i64,
    /// The current exchange: the client is sending (true) or the server is (false).
    in_request: bool,
    /// Exchanges started (client data after server data, or the first client data).
    exchanges: u32,
    /// Last client data time of the current exchange.
    cur_request_last: i64,
    /// First and last response data time of the current exchange's response.
    run_first: i64,
    run_last: i64,
    /// Response runs finished before the current one: summed durations.
    transfer_done_ns: i64,
    /// Idle gaps: end of a response to the next request.
    idle_ns: i64,
    /// Last time the server sent anything (for the silence before a retransmission).
    server_last_sent: i64,
    response_bytes: u64,
    fast: u32,
    other: u32,
    silence_ns: i64,
    zero_windows: u32,
    window_full: u32,
    idle_restarts: u32,
}

impl TimingState {
    /// One segment at `now` (ns), with its analysis flags and RTT results.
    #[inline]
    pub fn on_segment(
        &mut self,
        dir: Direction,
        tcp: &TcpInfo,
        now: i64,
        flags: AnalysisFlags,
        rtt: &SegmentRtt,
    ) {
        let len = tcp.payload_len;
        match dir {
            Direction::ToServer => {
                if flags.has(AnalysisFlags::ZERO_WINDOW) && self.run_first != 0 {
                    self.zero_windows += 1;
                }
                if len > 0 {
                    self.request_data(now);
                }
            }
            Direction::ToClient => {
                if len > 0 && self.exchanges > 0 {
                    self.response_data(now, len, flags, rtt);
                }
                self.server_last_sent = now;
            }
        }
    }

    #[inline]
    fn request_data(&mut self, now: i64) {
        if !self.in_request {
            // A new exchange; the previous response run (if any) is done.
            if self.run_first != 0 {
                self.transfer_done_ns += self.run_last - self.run_first;
                self.idle_ns += now - self.run_last;
                self.run_first = 0;
            }
            self.exchanges += 1;
            self.in_request = true;
            if self.exchanges == 1 {
                self.request_first = now;
            }
        }
        if self.exchanges == 1 {
            self.request_last = now;
        }
        self.cur_request_last = now;
    }

    #[inline]
    fn response_data(&mut self, now: i64, len: u32, flags: AnalysisFlags, rtt: &SegmentRtt) {
        let resent = flags.0
            & (AnalysisFlags::RETRANSMISSION
                | AnalysisFlags::FAST_RETRANSMISSION
                | AnalysisFlags::SPURIOUS_RETRANSMISSION)
            != 0;
        if self.in_request {
            // The response starts.
            self.in_request = false;
            if self.exchanges == 1 {
                self.first_wait = now - self.cur_request_last;
            }
            self.run_first = now;
        } else if resent {
            if flags.has(AnalysisFlags::FAST_RETRANSMISSION) {
                self.fast += 1;
            } else {
                self.other += 1;
                self.silence_ns += now - self.server_last_sent;
            }
        } else if rtt.bytes_in_flight == len && now - self.server_last_sent > IDLE_NS {
            self.idle_restarts += 1;
        }
        if flags.has(AnalysisFlags::WINDOW_FULL) {
            self.window_full += 1;
        }
        if self.run_first == 0 {
            self.run_first = now;
        }
        self.run_last = now;
        self.response_bytes += u64::from(len);
    }

    pub fn timing(&self) -> ConnTiming {
        let has_response = self.run_first != 0 || self.transfer_done_ns != 0;
        let limited_by = has_response.then(|| {
            if self.zero_windows > 0 || self.window_full > 0 {
                LimitedBy::Receiver
            } else if self.fast + self.other > 0 {
                LimitedBy::Loss
            } else if self.idle_restarts >= SENDER_IDLE_RESTARTS {
                LimitedBy::Sender
            } else {
                LimitedBy::Network
            }
        });
        let current = if self.run_first != 0 {
            self.run_last - self.run_first
        } else {
            0
        };
        ConnTiming {
            request_ns: (self.exchanges > 0).then(|| self.request_last - self.request_first),
            wait_ns: (self.exchanges > 1 || (self.exchanges == 1 && has_response))
                .then_some(self.first_wait),
            transfer_ns: has_response.then_some(self.transfer_done_ns + current),
            limited_by,
            exchanges: self.exchanges,
            idle_ns: self.idle_ns,
            response_bytes: self.response_bytes,
            fast_retransmissions: self.fast,
            other_retransmissions: self.other,
            retransmission_silence_ns: self.silence_ns,
            zero_windows: self.zero_windows,
            window_full: self.window_full,
            idle_restarts: self.idle_restarts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{TcpFlags, TcpOptions};
    use Direction::{ToClient as S, ToServer as C};

    fn seg(len: u32) -> TcpInfo {
        TcpInfo {
            src_port: 1,
            dst_port: 2,
            seq: 1,
            ack: 1,
            flags: TcpFlags(TcpFlags::ACK),
            window: 100,
            header_len: 20,
            options: TcpOptions::default(),
            payload_len: len,
        }
    }

    /// Two exchanges, times in ms: request 0–5, response 50–60; request 100, response
    /// 130–140. Request 5 ms, wait 45 ms (server 45 − RTT 10 = 35 ms), transfer 10 + 10
    /// = 20 ms, idle 100 − 60 = 40 ms; a resend at 140, 10 ms after the server last sent:
    /// loss.
    #[test]
    fn exchanges_waits_transfers_and_idle_by_hand() {
        let ms = |v: i64| v * 1_000_000;
        let none = AnalysisFlags::default();
        let mut t = TimingState::default();
        let rtt = SegmentRtt::default();
        for (at, dir, len, fl) in [
            (0, C, 100, none),
            (5, C, 100, none),
            (50, S, 1000, none),
            (55, C, 0, none),
            (60, S, 500, none),
            (100, C, 80, none),
            (130, S, 1000, none),
            (135, C, 0, none),
            (140, S, 1000, AnalysisFlags(AnalysisFlags::RETRANSMISSION)),
        ] {
            t.on_segment(dir, &seg(len), ms(at), fl, &rtt);
        }
        let got = t.timing();
        assert_eq!(got.request_ns, Some(ms(5)));
        assert_eq!(got.wait_ns, Some(ms(45)));
        assert_eq!(got.server_ns(Some(ms(10) as u64)), Some(ms(35)));
        assert_eq!(got.server_ns(None), Some(ms(45)));
        assert_eq!(got.transfer_ns, Some(ms(20)));
        assert_eq!(got.idle_ns, ms(40));
        assert_eq!(got.exchanges, 2);
        assert_eq!(got.response_bytes, 3500);
        assert_eq!(
            (got.other_retransmissions, got.retransmission_silence_ns),
            (1, ms(10))
        );
        assert_eq!(got.limited_by, Some(LimitedBy::Loss));
    }
}
