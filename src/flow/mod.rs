//! Flow tracking: the connection table, each TCP endpoint's RFC 9293 state, handshake and
//! teardown steps, Wireshark's TCP analysis, Zeek's conn_state/history, and per-direction
//! stream reassembly that feeds the application parsers through [`StreamSink`].

pub mod analysis;
pub mod community_id;
pub mod icmp_error;
mod key;
pub mod reassembly;
pub mod rtt;
mod table;
pub mod timing;
mod tombstone;
mod tracker;
mod types;
pub mod zeek;

pub use tracker::FlowTracker;
pub use types::*;

/// A small deterministic generator for the tests that feed the fast and general paths the
/// same random segments: `next(n)` is in `0..n` (xorshift64 from `seed`).
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut rng = seed;
    move |n| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    }
}
