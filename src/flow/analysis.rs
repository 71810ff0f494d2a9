//! Wireshark's TCP sequence analysis (`tcp.analysis.*`), per connection.
//! SKELETON: the analysis helper implements it.

use super::{AnalysisFlags, Direction};
use crate::capture::Timestamp;
use crate::decode::TcpInfo;

/// What the analysis says of one packet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalysisResult {
    pub flags: AnalysisFlags,
    /// `#n` of a duplicate ACK (0 otherwise).
    pub dup_ack_num: u32,
    /// Why, with the packet's own numbers ("retransmission: seq 201 < next expected 501").
    pub note: Option<String>,
}

/// Per-connection analysis state (both directions). `reused_ports` is the flow table's
/// business, not this one's.
#[derive(Clone, Debug, Default)]
pub struct TcpAnalyzer {}

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
        let _ = (dir, tcp, ts, frame);
        AnalysisResult::default()
    }
}
