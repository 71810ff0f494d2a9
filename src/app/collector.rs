//! The app stage fed directly, its events gathered in one buffer: for callers other than
//! the pipeline (unit tests, fuzz targets, benches), which take the events when they like.
//! (The pipeline keeps its own buffer and hands each packet's events on with the packet.)

use super::{AppConfig, AppConnStats, AppEvent, AppStats, AppTracker, FrameLayers};
use crate::flow::{ConnId, Direction, SegmentCtx, StreamSink};

/// An [`AppTracker`] and the events its calls completed, in completion order.
pub struct AppCollector {
    pub app: AppTracker,
    pub events: Vec<AppEvent>,
}

impl AppCollector {
    pub fn new(config: AppConfig) -> AppCollector {
        AppCollector {
            app: AppTracker::new(config),
            events: Vec::new(),
        }
    }

    /// [`AppTracker::feed_segment`], its events kept.
    pub fn feed_segment(
        &mut self,
        conn: ConnId,
        dir: Direction,
        data: &[u8],
        ctx: SegmentCtx,
    ) -> FrameLayers {
        self.app
            .feed_segment(conn, dir, data, ctx, &mut self.events)
    }

    /// [`AppTracker::feed_datagram`], its events kept.
    pub fn feed_datagram(
        &mut self,
        conn: ConnId,
        dir: Direction,
        data: &[u8],
        ctx: SegmentCtx,
    ) -> FrameLayers {
        self.app
            .feed_datagram(conn, dir, data, ctx, &mut self.events)
    }

    /// The events completed since the last call, in completion order.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, AppEvent> {
        self.events.drain(..)
    }

    /// [`AppTracker::take_conn_stats`].
    pub fn take_conn_stats(&mut self, conn: ConnId) -> AppConnStats {
        self.app.take_conn_stats(conn)
    }

    /// [`AppTracker::stats`].
    pub fn stats(&self) -> AppStats {
        self.app.stats()
    }
}

/// The app stage as a plain stream sink (what `feed_segment` and `feed_datagram` return
/// for the packets' layers is dropped).
impl StreamSink for AppCollector {
    fn on_data(&mut self, conn: ConnId, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        self.feed_segment(conn, dir, data, ctx);
    }
    fn on_datagram(&mut self, conn: ConnId, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        self.feed_datagram(conn, dir, data, ctx);
    }
    fn on_gap(&mut self, conn: ConnId, dir: Direction, len: u64, _ctx: SegmentCtx) {
        self.app.on_gap(conn, dir, len, &mut self.events);
    }
    fn on_fin(&mut self, conn: ConnId, dir: Direction, _ctx: SegmentCtx) {
        self.app.on_fin(conn, dir, &mut self.events);
    }
    fn on_close(&mut self, conn: ConnId) {
        self.app.on_close(conn, &mut self.events);
    }
}
