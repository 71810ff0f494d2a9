//! Ended connections' app counters waiting for the pipeline to ask for them
//! ([`AppTracker::take_conn_stats`](super::AppTracker::take_conn_stats)), bounded.

use super::AppConnStats;
use crate::flow::ConnId;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// Ended connections whose counters wait (with counters: those without read as default).
pub(super) const MAX_CLOSED_STATS: usize = 1 << 16;

/// Counters of ended connections, in the order they ended, every one (with counters or
/// without: the flag says which): the pipeline asks in that same order, so the one asked
/// for is the front (no hashing). Asked out of order, the queue moves into `map` (without
/// the ones without counters, which read as default anyway).
pub(super) struct ClosedStats {
    queue: VecDeque<(ConnId, AppConnStats, bool)>,
    /// Entries of `queue` with counters.
    kept: usize,
    map: FxHashMap<ConnId, AppConnStats>,
}

impl ClosedStats {
    pub(super) fn new() -> ClosedStats {
        ClosedStats {
            queue: VecDeque::new(),
            kept: 0,
            map: FxHashMap::default(),
        }
    }

    /// The counters of `conn` (default when it had none, or they were dropped).
    pub(super) fn take(&mut self, conn: ConnId) -> AppConnStats {
        if let Some(&(c, _, _)) = self.queue.front() {
            if c == conn {
                if let Some((_, stats, kept)) = self.queue.pop_front() {
                    self.kept -= usize::from(kept);
                    return stats;
                }
            }
            self.spill();
        }
        self.map.remove(&conn).unwrap_or_default()
    }

    /// Moves the counters from the queue into the map.
    fn spill(&mut self) {
        for (c, stats, kept) in self.queue.drain(..) {
            if kept {
                self.map.insert(c, stats);
            }
        }
        self.kept = 0;
    }

    /// Queues the counters of `conn`, which ended; how many waiting counters were dropped
    /// to stay under [`MAX_CLOSED_STATS`].
    pub(super) fn record(&mut self, conn: ConnId, stats: AppConnStats) -> u64 {
        let kept = stats != AppConnStats::default();
        let mut dropped = 0;
        if kept && self.kept + self.map.len() >= MAX_CLOSED_STATS {
            dropped = (self.kept + self.map.len()) as u64;
            self.queue.clear();
            self.kept = 0;
            self.map.clear();
        }
        if self.queue.len() >= 2 * MAX_CLOSED_STATS {
            // Never asked for: keep only those with counters (bounded like them).
            self.spill();
        }
        self.queue.push_back((conn, stats, kept));
        self.kept += usize::from(kept);
        dropped
    }

    /// (Entries queued, of them with counters, entries in the map.)
    #[cfg(test)]
    pub(super) fn lens(&self) -> (usize, usize, usize) {
        (self.queue.len(), self.kept, self.map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_connections_counters_are_capped_and_the_cut_counted() {
        let mut t = ClosedStats::new();
        let mut dropped = 0;
        let some = AppConnStats {
            dns_messages: 1,
            ..AppConnStats::default()
        };
        for conn in 0..MAX_CLOSED_STATS as u64 {
            dropped += t.record(2 * conn, some.clone());
            dropped += t.record(2 * conn + 1, AppConnStats::default());
        }
        assert_eq!(dropped, 0);
        // Defaults never count: the next with counters finds the cap reached.
        dropped += t.record(u64::MAX, some.clone());
        assert_eq!(dropped, MAX_CLOSED_STATS as u64);
        assert_eq!(t.lens(), (1, 1, 0));
        assert_eq!(t.take(u64::MAX), some);
        // Never asked for, those without counters go; the queue stays bounded.
        for conn in 0..2 * MAX_CLOSED_STATS as u64 + 1 {
            dropped += t.record(conn, AppConnStats::default());
        }
        let (queued, _, map) = t.lens();
        assert!(queued <= 2 * MAX_CLOSED_STATS && map == 0);
        assert_eq!(
            dropped, MAX_CLOSED_STATS as u64,
            "none dropped without counters"
        );
    }
}
