//! source → decode → flow → app → sink, one packet at a time.

use crate::app::{AppConfig, AppConnStats, AppEvent, AppTracker};
use crate::capture::{CaptureError, FrameSource, RawFrame, Timestamp, Truncation};
use crate::decode::{DecodedPacket, Decoder, DecoderLimits};
use crate::flow::{ConnSummary, FlowConfig, FlowTracker, PacketFlow};
use std::io;

/// Receives the pipeline's results in order. Implemented by the renderers.
pub trait Sink {
    /// One packet, with what the decoder and the flow tracker said of it.
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()>;
    /// An application event (HTTP transaction, DNS message) that just completed.
    fn app_event(&mut self, event: &AppEvent) -> io::Result<()>;
    /// A connection left the flow table.
    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()>;
    /// A capture problem that did not stop reading (bad record skipped).
    fn warning(&mut self, _error: &CaptureError) -> io::Result<()> {
        Ok(())
    }
    /// End of input.
    fn finish(&mut self, summary: &RunSummary) -> io::Result<()>;
}

/// What a whole run counted.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub frames: u64,
    pub conns: u64,
    pub decode_issues: u64,
    pub evicted_flows: u64,
    pub reassembly_cut_bytes: u64,
    pub fragments_evicted: u64,
    pub truncated: Option<Truncation>,
    /// The error that stopped reading early, if any.
    pub error: Option<String>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
}

/// Settings of the analysis stages.
#[derive(Clone, Debug, Default)]
pub struct PipelineConfig {
    pub decoder: DecoderLimits,
    pub flow: FlowConfig,
    pub app: AppConfig,
}

/// The analysis stages with their state.
pub struct Pipeline {
    decoder: Decoder,
    flows: FlowTracker,
    app: AppTracker,
    ended: Vec<ConnSummary>,
    summary: RunSummary,
    last_expire: Option<Timestamp>,
    prev_ts: Option<Timestamp>,
}

/// A jump of the capture clock larger than this (either way) between two frames is taken
/// as a bogus timestamp, not as time passing.
const MAX_CLOCK_STEP_NS: i128 = 3_600_000_000_000;

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Pipeline {
        Pipeline {
            decoder: Decoder::with_limits(config.decoder),
            flows: FlowTracker::new(config.flow),
            app: AppTracker::new(config.app),
            ended: Vec::new(),
            summary: RunSummary::default(),
            last_expire: None,
            prev_ts: None,
        }
    }

    /// Runs one frame through every stage and hands the results to `sink`.
    pub fn process(&mut self, frame: &RawFrame<'_>, sink: &mut dyn Sink) -> io::Result<()> {
        self.summary.frames += 1;
        if self.summary.first_ts.is_none() {
            self.summary.first_ts = Some(frame.ts);
        }
        self.summary.last_ts = Some(frame.ts);
        // Idle expiry, at most once per second of capture time. A frame without a
        // timestamp (pcapng simple packet block) or whose clock jumps by more than an hour
        // from the previous frame (a bogus timestamp, as in some real files) does not drive
        // expiry: one bad clock value must not end every open connection.
        let plausible = frame.ts.precision > 0
            && self
                .prev_ts
                .is_none_or(|p| frame.ts.nanos_since(&p).abs() <= MAX_CLOCK_STEP_NS);
        self.prev_ts = Some(frame.ts);
        let due = plausible
            && match self.last_expire {
                None => true,
                Some(t) => frame.ts.nanos_since(&t) >= 1_000_000_000 || frame.ts < t,
            };
        if due {
            self.last_expire = Some(frame.ts);
            self.flows.expire(frame.ts, &mut self.app, &mut self.ended);
            self.flush_ended(sink)?;
        }
        let mut packet = self.decoder.decode(frame);
        if packet.issue.is_some() {
            self.summary.decode_issues += 1;
        }
        self.app.set_frame_ports(frame.number, packet.ports());
        let flow = self
            .flows
            .process(frame, &packet, &mut self.app, &mut self.ended);
        if let Some(name) = self.app.layer_of_frame(frame.number) {
            packet.push_app_layer(name, packet.payload_offset, packet.payload.len() as u32);
        }
        sink.packet(frame, &packet, &flow)?;
        for event in self.app.drain_events() {
            sink.app_event(&event)?;
        }
        if !self.ended.is_empty() {
            self.flush_ended(sink)?;
        }
        Ok(())
    }

    fn flush_ended(&mut self, sink: &mut dyn Sink) -> io::Result<()> {
        for event in self.app.drain_events() {
            sink.app_event(&event)?;
        }
        for conn in self.ended.drain(..) {
            let stats = self.app.take_conn_stats(conn.id);
            self.summary.conns += 1;
            sink.conn_end(&conn, &stats)?;
        }
        Ok(())
    }

    /// Ends every open connection and reports the run's summary.
    pub fn finish(
        &mut self,
        sink: &mut dyn Sink,
        truncated: Option<Truncation>,
        error: Option<String>,
    ) -> io::Result<RunSummary> {
        self.flows.finish(&mut self.app, &mut self.ended);
        self.flush_ended(sink)?;
        let flow_stats = self.flows.stats();
        let dec = self.decoder.stats();
        self.summary.evicted_flows = flow_stats.evicted_flows;
        self.summary.reassembly_cut_bytes = flow_stats.reassembly_cut_bytes;
        self.summary.fragments_evicted = dec.fragments_evicted;
        self.summary.truncated = truncated;
        self.summary.error = error;
        sink.finish(&self.summary)?;
        Ok(self.summary.clone())
    }
}

/// How a run over a source ended.
#[derive(Debug)]
pub enum RunEnd {
    /// All input read (possibly with a truncated last record).
    Complete(RunSummary),
    /// A fatal capture error stopped reading; what was read was still shown.
    Failed(RunSummary, CaptureError),
}

/// Reads `source` to the end through a new pipeline into `sink`.
pub fn run(
    source: &mut dyn FrameSource,
    config: PipelineConfig,
    sink: &mut dyn Sink,
) -> io::Result<RunEnd> {
    let mut pipeline = Pipeline::new(config);
    let mut failure = None;
    loop {
        match source.next_frame() {
            Ok(Some(frame)) => pipeline.process(&frame, sink)?,
            Ok(None) => break,
            Err(e) if !e.is_fatal() => sink.warning(&e)?,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let truncated = source.truncation().cloned();
    let message = failure.as_ref().map(|e| e.to_string());
    let summary = pipeline.finish(sink, truncated, message)?;
    Ok(match failure {
        Some(e) => RunEnd::Failed(summary, e),
        None => RunEnd::Complete(summary),
    })
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        (**self).packet(frame, packet, flow)
    }
    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        (**self).app_event(event)
    }
    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        (**self).conn_end(conn, app)
    }
    fn warning(&mut self, error: &CaptureError) -> io::Result<()> {
        (**self).warning(error)
    }
    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        (**self).finish(summary)
    }
}
