//! Flow tracking: the connection table, each TCP endpoint's RFC 9293 state, handshake and
//! teardown steps, Wireshark's TCP analysis, Zeek's conn_state/history, and per-direction
//! stream reassembly that feeds the application parsers through [`StreamSink`].

pub mod analysis;
mod key;
pub mod reassembly;
mod table;
mod tracker;
mod types;
pub mod zeek;

pub use tracker::FlowTracker;
pub use types::*;
