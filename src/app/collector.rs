//! The app stage fed directly, its events gathered in one buffer: for callers other than
//! the pipeline (unit tests, fuzz targets, benches), which take the events when they like.
//! (The pipeline keeps its own buffer and hands each packet's events on with the packet.)
//!
//! Fed by id (`on_data(conn, …)`), it stands in for the flow table: it keeps each
//! connection's [`ConnApp`] in a map of its own, and an ended connection's counters until
//! `take_conn_stats`. Fed by a flow table (`FlowTracker<ConnApp>`, as a
//! [`StreamSink<ConnApp>`]), it uses the state in the table's slot and keeps none.

use super::{AppConfig, AppConnStats, AppEvent, AppStats, AppTracker, ConnApp, FrameLayers};
use crate::flow::{ConnId, Direction, SegmentCtx, StreamId, StreamSink};
use rustc_hash::FxHashMap;

/// An [`AppTracker`] and the events its calls completed, in completion order.
pub struct AppCollector {
    pub app: AppTracker,
    pub events: Vec<AppEvent>,
    /// The states of the connections fed by id.
    states: FxHashMap<ConnId, ConnApp>,
    /// Counters of connections closed by id, until `take_conn_stats`.
    closed: FxHashMap<ConnId, AppConnStats>,
}

impl AppCollector {
    pub fn new(config: AppConfig) -> AppCollector {
        AppCollector {
            app: AppTracker::new(config),
            events: Vec::new(),
            states: FxHashMap::default(),
            closed: FxHashMap::default(),
        }
    }

    /// [`AppTracker::feed_segment`] on `conn`'s state, its events kept.
    pub fn feed_segment(
        &mut self,
        conn: ConnId,
        dir: Direction,
        data: &[u8],
        ctx: SegmentCtx,
    ) -> FrameLayers {
        let app = self.states.entry(conn).or_default();
        let at = StreamId { conn, dir };
        self.app.feed_segment(at, app, data, ctx, &mut self.events)
    }

    /// [`AppTracker::feed_datagram`] on `conn`'s state, its events kept.
    pub fn feed_datagram(
        &mut self,
        conn: ConnId,
        dir: Direction,
        data: &[u8],
        ctx: SegmentCtx,
    ) -> FrameLayers {
        let app = self.states.entry(conn).or_default();
        let at = StreamId { conn, dir };
        self.app.feed_datagram(at, app, data, ctx, &mut self.events)
    }

    /// [`StreamSink::on_data`] by id.
    pub fn on_data(&mut self, conn: ConnId, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        self.feed_segment(conn, dir, data, ctx);
    }

    /// [`StreamSink::on_datagram`] by id.
    pub fn on_datagram(&mut self, conn: ConnId, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        self.feed_datagram(conn, dir, data, ctx);
    }

    /// [`StreamSink::on_gap`] by id.
    pub fn on_gap(&mut self, conn: ConnId, dir: Direction, len: u64, _ctx: SegmentCtx) {
        let app = self.states.entry(conn).or_default();
        self.app
            .on_gap(StreamId { conn, dir }, app, len, &mut self.events);
    }

    /// [`StreamSink::on_fin`] by id.
    pub fn on_fin(&mut self, conn: ConnId, dir: Direction, _ctx: SegmentCtx) {
        let app = self.states.entry(conn).or_default();
        self.app
            .on_fin(StreamId { conn, dir }, app, &mut self.events);
    }

    /// [`StreamSink::on_close`] by id: the connection's counters wait for
    /// `take_conn_stats`.
    pub fn on_close(&mut self, conn: ConnId) {
        let mut app = self.states.remove(&conn).unwrap_or_default();
        self.app.on_close(conn, &mut app, &mut self.events);
        self.closed.insert(conn, app.take_stats());
    }

    /// The counters of `conn`, closed by id (default when it was not, or was taken).
    pub fn take_conn_stats(&mut self, conn: ConnId) -> AppConnStats {
        self.closed.remove(&conn).unwrap_or_default()
    }

    /// The events completed since the last call, in completion order.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, AppEvent> {
        self.events.drain(..)
    }

    /// [`AppTracker::stats`].
    pub fn stats(&self) -> AppStats {
        self.app.stats()
    }
}

/// The app stage as a flow table's stream sink (what `feed_segment` and `feed_datagram`
/// return for the packets' layers is dropped; an ended connection's counters go on in
/// its state, with its summary).
impl StreamSink<ConnApp> for AppCollector {
    fn on_data(&mut self, at: StreamId, app: &mut ConnApp, data: &[u8], ctx: SegmentCtx) {
        self.app.feed_segment(at, app, data, ctx, &mut self.events);
    }
    fn on_datagram(&mut self, at: StreamId, app: &mut ConnApp, data: &[u8], ctx: SegmentCtx) {
        self.app.feed_datagram(at, app, data, ctx, &mut self.events);
    }
    fn on_gap(&mut self, at: StreamId, app: &mut ConnApp, len: u64, _: SegmentCtx) {
        self.app.on_gap(at, app, len, &mut self.events);
    }
    fn on_fin(&mut self, at: StreamId, app: &mut ConnApp, _: SegmentCtx) {
        self.app.on_fin(at, app, &mut self.events);
    }
    fn on_close(&mut self, conn: ConnId, app: &mut ConnApp) {
        self.app.on_close(conn, app, &mut self.events);
    }
}
