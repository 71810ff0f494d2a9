//! `--conn ID`: pass on only the chosen connections.

use crate::app::{AppConnStats, AppEvent};
use crate::capture::{CaptureError, RawFrame};
use crate::decode::DecodedPacket;
use crate::flow::{ConnId, ConnSummary, PacketFlow};
use crate::pipeline::{RunSummary, Sink};
use std::io;

/// Wraps a sink and forwards only packets, events and connections of `conns`.
pub struct ConnFilter<S> {
    pub inner: S,
    conns: Vec<ConnId>,
}

impl<S: Sink> ConnFilter<S> {
    pub fn new(inner: S, conns: Vec<ConnId>) -> ConnFilter<S> {
        ConnFilter { inner, conns }
    }
    fn wants(&self, conn: Option<ConnId>) -> bool {
        conn.is_some_and(|c| self.conns.contains(&c))
    }
}

impl<S: Sink> Sink for ConnFilter<S> {
    fn wants_packets(&self) -> bool {
        self.inner.wants_packets()
    }
    fn packet(
        &mut self,
        f: &RawFrame<'_>,
        p: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        if self.wants(flow.conn) {
            self.inner.packet(f, p, flow)?;
        }
        Ok(())
    }
    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        let conn = event.conn();
        if self.wants(Some(conn)) {
            self.inner.app_event(event)?;
        }
        Ok(())
    }
    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        if self.wants(Some(conn.id)) {
            self.inner.conn_end(conn, app)?;
        }
        Ok(())
    }
    fn warning(&mut self, error: &CaptureError) -> io::Result<()> {
        self.inner.warning(error)
    }
    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        self.inner.finish(summary)
    }
}
