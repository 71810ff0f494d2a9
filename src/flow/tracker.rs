//! The connection table. SKELETON: the flow helper implements it.

use super::*;
use crate::capture::{RawFrame, Timestamp};
use crate::decode::DecodedPacket;

pub struct FlowTracker {
    config: FlowConfig,
    stats: FlowStats,
}

impl FlowTracker {
    pub fn new(config: FlowConfig) -> FlowTracker {
        FlowTracker {
            config,
            stats: FlowStats::default(),
        }
    }
    pub fn config(&self) -> &FlowConfig {
        &self.config
    }
    pub fn stats(&self) -> FlowStats {
        self.stats
    }
    /// Tracks one packet. Stream bytes go to `sink`; connections that leave the table
    /// (closed and lingered, idle, evicted, reused) are pushed to `ended`.
    pub fn process(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        sink: &mut dyn StreamSink,
        ended: &mut Vec<ConnSummary>,
    ) -> PacketFlow {
        let _ = (frame, packet, sink, ended);
        PacketFlow::default()
    }
    /// Ends connections idle at `now` (call between packets, e.g. once per second of
    /// capture time, and periodically in live capture).
    pub fn expire(
        &mut self,
        now: Timestamp,
        sink: &mut dyn StreamSink,
        ended: &mut Vec<ConnSummary>,
    ) {
        let _ = (now, sink, ended);
    }
    /// End of input: every connection still in the table ends, in id order.
    pub fn finish(&mut self, sink: &mut dyn StreamSink, ended: &mut Vec<ConnSummary>) {
        let _ = (sink, ended);
    }
}
