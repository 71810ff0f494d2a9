//! Per-connection application state. SKELETON: the app helper implements it.

use super::*;
use crate::decode::LayerName;
use crate::flow::{ConnId, Direction, SegmentCtx, StreamSink};

/// Limits of the app stage.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Largest HTTP head (request line + headers) accepted before the parser gives up on
    /// the direction and waits for a resync.
    pub max_http_head: usize,
    /// Bytes of each body kept for display.
    pub body_preview: usize,
    /// Most DNS queries awaiting a response (for latency matching).
    pub max_pending_dns: usize,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            max_http_head: 64 << 10,
            body_preview: 4 << 10,
            max_pending_dns: 10_000,
        }
    }
}

pub struct AppTracker {
    config: AppConfig,
    events: Vec<AppEvent>,
    packet_layer: Option<(LayerName, u64)>,
}

impl AppTracker {
    pub fn new(config: AppConfig) -> AppTracker {
        AppTracker {
            config,
            events: Vec::new(),
            packet_layer: None,
        }
    }
    pub fn config(&self) -> &AppConfig {
        &self.config
    }
    /// Events completed since the last call, in completion order.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, AppEvent> {
        self.events.drain(..)
    }
    /// The application protocol recognised in frame `frame`'s payload, if any (for the
    /// packet's layer list).
    pub fn layer_of_frame(&self, frame: u64) -> Option<LayerName> {
        match self.packet_layer {
            Some((name, f)) if f == frame => Some(name),
            _ => None,
        }
    }
    /// Counters of a connection that ended (call after the flow stage's `on_close`).
    pub fn take_conn_stats(&mut self, conn: ConnId) -> AppConnStats {
        let _ = conn;
        AppConnStats::default()
    }
}

impl StreamSink for AppTracker {
    fn on_data(&mut self, _: ConnId, _: Direction, _: &[u8], _: SegmentCtx) {}
    fn on_gap(&mut self, _: ConnId, _: Direction, _: u64, _: SegmentCtx) {}
    fn on_datagram(&mut self, _: ConnId, _: Direction, _: &[u8], _: SegmentCtx) {}
    fn on_fin(&mut self, _: ConnId, _: Direction, _: SegmentCtx) {}
    fn on_close(&mut self, _: ConnId) {}
}
