//! source → decode → flow → app → sink, one packet at a time.

use crate::app::{AppConfig, AppConnStats, AppEvent, AppTracker, ConnApp, FrameLayers};
use crate::capture::{CaptureError, FrameSource, RawFrame, Timestamp, Truncation};
use crate::decode::{DecodedPacket, Decoder, DecoderLimits};
use crate::filter::Filter;
use crate::flow::{
    ConnId, ConnSummary, Ended, FlowConfig, FlowTracker, PacketFlow, SegmentCtx, StreamId,
    StreamSink,
};
use std::io;

mod threaded;

/// Receives the pipeline's results in order. Implemented by the renderers.
pub trait Sink {
    /// One packet, with what the decoder and the flow tracker said of it. Every method has
    /// a do-nothing default; a sink that wraps another must forward them all.
    fn packet(
        &mut self,
        _frame: &RawFrame<'_>,
        _packet: &DecodedPacket<'_>,
        _flow: &PacketFlow,
    ) -> io::Result<()> {
        Ok(())
    }
    /// [`Sink::packet`] with the decoded packet and its flow facts for the taking (what
    /// the pipeline calls; it does not use them after the call): a sink that keeps
    /// packets, such as the two-thread pipeline's recorder, moves them out (leaving
    /// empty ones) rather than cloning them. Lent to `packet` unless overridden. (Not
    /// given by value: every sink that only reads them would then pay for the move.)
    fn take_packet(&mut self, taken: TakenPacket<'_, '_, '_>) -> io::Result<()> {
        self.packet(taken.frame, taken.packet, taken.flow)
    }
    /// Whether [`Sink::packet`] does anything (false: the pipeline may skip the call and
    /// what only it needs). Asked once, before the first packet.
    fn wants_packets(&self) -> bool {
        true
    }
    /// An application event (HTTP transaction, DNS message) that just completed.
    fn app_event(&mut self, _event: &AppEvent) -> io::Result<()> {
        Ok(())
    }
    /// Whether [`Sink::app_event`] does anything (false: the pipeline drops the events
    /// where they were made, e.g. on the two-thread pipeline's front). Asked whenever
    /// events are ready to go; a sink that wraps another must forward it.
    fn wants_app_events(&self) -> bool {
        true
    }
    /// [`Sink::app_event`] with the event given rather than lent (what the pipeline
    /// calls): a sink that keeps events, such as the two-thread pipeline's recorder,
    /// takes it without a copy. Forwards to `app_event` unless overridden.
    fn take_app_event(&mut self, event: AppEvent) -> io::Result<()> {
        self.app_event(&event)
    }
    /// A connection left the flow table.
    fn conn_end(&mut self, _conn: &ConnSummary, _app: &AppConnStats) -> io::Result<()> {
        Ok(())
    }
    /// Connections that left the flow table, in order, each with the app state its slot
    /// held (what the pipeline calls: [`Sink::conn_end`] for each, unless overridden). The
    /// list is handed over rather than its items moved one by one: a summary with its app
    /// state is over a kilobyte, and a sink that keeps them (the two-thread pipeline's
    /// recorder) takes the whole list at once. The caller empties `ended` after the call.
    fn take_conn_ends(&mut self, ended: &mut Vec<Ended<ConnApp>>) -> io::Result<()> {
        for Ended { summary, state } in ended.iter_mut() {
            self.conn_end(summary, &state.take_stats())?;
        }
        Ok(())
    }
    /// A capture problem that did not stop reading (bad record skipped).
    fn warning(&mut self, _error: &CaptureError) -> io::Result<()> {
        Ok(())
    }
    /// End of input.
    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        Ok(())
    }
}

/// What a whole run counted.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    pub frames: u64,
    /// Frames that did not match `--filter`.
    pub filtered_out: u64,
    pub conns: u64,
    pub decode_issues: u64,
    pub evicted_flows: u64,
    /// Tombstones of closed connections pushed out by newer ones (a late packet of such a
    /// connection then starts a new one).
    pub tombstones_evicted: u64,
    /// Tunnel flows past the ones a connection's `tunnel_parents` keep.
    pub tunnel_parents_cut: u64,
    /// Closed connections ended before their linger was over because too many lingered
    /// (`FlowConfig::max_lingering`); their late packets were told by their tombstones.
    pub lingers_cut: u64,
    pub reassembly_cut_bytes: u64,
    pub fragments_evicted: u64,
    /// Of `fragments_evicted`, datagrams whose first fragment had arrived: that fragment's
    /// packet carried its transport header read alone (`first_fragment`), nothing more.
    pub first_fragments_given_up: u64,
    /// Frames whose trailing FCS was taken off before decoding (the file header, radiotap or
    /// PPI said they end with one).
    pub fcs_stripped: u64,
    /// Frames whose headers nested past the decoder's bounds (headers, tunnels, MPLS labels)
    /// and were not decoded further.
    pub nesting_cut: u64,
    /// HTTP heads larger than `AppConfig::max_http_head` (the direction was given up).
    pub http_heads_too_large: u64,
    /// TLS: records opened with a key log, records that did not open, connections without
    /// a key (and the other TLS counters).
    pub tls: crate::app::TlsStats,
    /// QUIC CRYPTO bytes of Initial packets not reassembled (`--max-quic-crypto`, too many
    /// holes, or left incomplete).
    pub quic_crypto_cut_bytes: u64,
    /// Damaged records the source skipped (each also went to `Sink::warning`).
    pub bad_records_skipped: u64,
    pub truncated: Option<Truncation>,
    /// Records read past the file's snapshot length, and pcapng blocks other than packets.
    pub source: crate::capture::SourceCounts,
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
    /// Threads for [`run_pipeline`]: 2 or more runs reading, decoding, flow tracking and the
    /// app stage on a second thread, the sink on the caller's (the output is the same); 0
    /// or 1 keeps everything on the caller's.
    pub threads: usize,
}

/// The analysis stages with their state, and an optional tap on the streams.
pub struct Pipeline {
    stages: Stages,
    /// Also receives the reassembled streams (e.g. `follow`).
    tap: Option<Box<dyn StreamSink>>,
}

/// A pipeline's stages with their state (all of it but the tap, which may be tied to the
/// caller's thread: with two threads, the front thread runs these).
struct Stages {
    decoder: Decoder,
    /// The flow table: each connection's slot also holds its app state (`ConnApp`).
    flows: FlowTracker<ConnApp>,
    app: AppTracker,
    /// The app events completed and not yet handed to the sink (reused: emptied with each
    /// packet, at each flush of ended connections).
    events: Vec<AppEvent>,
    ended: Vec<Ended<ConnApp>>,
    summary: RunSummary,
    last_expire: Option<Timestamp>,
    prev_ts: Option<Timestamp>,
    /// The sink wants packets ([`Sink::wants_packets`], asked at the first packet).
    packets: Option<bool>,
    /// Only packets matching this go on past the decoder (like a capture filter).
    filter: Option<Filter>,
    /// Stop reading after this many packets passed the filter (`live --count`).
    stop_after: Option<u64>,
    threads: usize,
}

/// Hands stream bytes, with the connection's app state from its slot, to the app stage,
/// and to an optional tap.
struct Tee<'a> {
    app: &'a mut AppTracker,
    tap: Option<&'a mut (dyn StreamSink + 'static)>,
    /// What the app stage recognised in the stream data handed it so far (a `Tee` lives
    /// for one frame: [`Stages::split`] makes a new one each time).
    layers: FrameLayers,
    /// The events the app stage's calls completed (the pipeline's buffer).
    events: &'a mut Vec<AppEvent>,
}

impl StreamSink<ConnApp> for Tee<'_> {
    fn on_data(&mut self, at: StreamId, app: &mut ConnApp, data: &[u8], ctx: SegmentCtx) {
        let found = self.app.feed_segment(at, app, data, ctx, self.events);
        self.layers.merge(found);
        if let Some(t) = self.tap.as_deref_mut() {
            t.on_data(at, &mut (), data, ctx);
        }
    }
    fn on_gap(&mut self, at: StreamId, app: &mut ConnApp, len: u64, ctx: SegmentCtx) {
        self.app.on_gap(at, app, len, self.events);
        if let Some(t) = self.tap.as_deref_mut() {
            t.on_gap(at, &mut (), len, ctx);
        }
    }
    fn on_datagram(&mut self, at: StreamId, app: &mut ConnApp, data: &[u8], ctx: SegmentCtx) {
        let found = self.app.feed_datagram(at, app, data, ctx, self.events);
        self.layers.merge(found);
        if let Some(t) = self.tap.as_deref_mut() {
            t.on_datagram(at, &mut (), data, ctx);
        }
    }
    fn on_fin(&mut self, at: StreamId, app: &mut ConnApp, ctx: SegmentCtx) {
        self.app.on_fin(at, app, self.events);
        if let Some(t) = self.tap.as_deref_mut() {
            t.on_fin(at, &mut (), ctx);
        }
    }
    fn on_close(&mut self, conn: ConnId, app: &mut ConnApp) {
        self.app.on_close(conn, app, self.events);
        if let Some(t) = self.tap.as_deref_mut() {
            t.on_close(conn, &mut ());
        }
    }
}

/// Connections still open at the end of input are ended and handed to the sink this many
/// at a time (their summaries are not all held at once).
pub(crate) const FINISH_CHUNK: usize = 1024;

/// A jump of the capture clock larger than this (either way) between two frames is taken
/// as a bogus timestamp, not as time passing.
const MAX_CLOCK_STEP_NS: i64 = 3_600_000_000_000;

impl Pipeline {
    pub fn new(config: PipelineConfig) -> Pipeline {
        Pipeline {
            stages: Stages {
                decoder: Decoder::with_limits(config.decoder),
                flows: FlowTracker::with_conn_state(config.flow),
                app: AppTracker::new(config.app),
                events: Vec::new(),
                ended: Vec::new(),
                summary: RunSummary::default(),
                last_expire: None,
                prev_ts: None,
                packets: None,
                filter: None,
                stop_after: None,
                threads: config.threads,
            },
            tap: None,
        }
    }

    /// Stops [`run_pipeline`] once `count` packets passed the filter (tcpdump's `-c`).
    pub fn set_stop_after(&mut self, count: u64) {
        self.stages.stop_after = Some(count);
    }

    /// Packets that passed the filter so far.
    pub fn passed(&self) -> u64 {
        self.stages.summary.frames - self.stages.summary.filtered_out
    }

    /// Whether `stop_after` was reached.
    pub fn done(&self) -> bool {
        self.stages.stop_after.is_some_and(|n| self.passed() >= n)
    }

    /// Keeps only packets that match `filter` (tcpdump syntax); the others are counted in
    /// `RunSummary::filtered_out` and go no further than the decoder.
    pub fn set_filter(&mut self, filter: Filter) {
        self.stages.filter = Some(filter);
    }

    /// Also hands every reassembled stream chunk to `tap`.
    pub fn set_tap(&mut self, tap: Box<dyn StreamSink>) {
        self.tap = Some(tap);
    }

    /// Takes the tap back (to flush or inspect it after the run).
    pub fn take_tap(&mut self) -> Option<Box<dyn StreamSink>> {
        self.tap.take()
    }

    /// Runs one frame through every stage and hands the results to `sink` (see
    /// [`Stages::process`]).
    pub fn process(&mut self, frame: &RawFrame<'_>, sink: &mut dyn Sink) -> io::Result<()> {
        self.stages.process(frame, self.tap.as_deref_mut(), sink)
    }

    /// Ends every open connection and reports the run's summary.
    pub fn finish(
        &mut self,
        sink: &mut dyn Sink,
        truncated: Option<Truncation>,
        error: Option<String>,
    ) -> io::Result<RunSummary> {
        while self.stages.finish_some(self.tap.as_deref_mut(), sink)? {}
        self.stages.finish_stats(sink, truncated, error)
    }
}

impl Stages {
    /// The stages split: the front stages, the app stage (with `tap`) as a stream sink,
    /// the connections ended and not yet handed on.
    fn split<'s>(
        &'s mut self,
        tap: Option<&'s mut (dyn StreamSink + 'static)>,
    ) -> (FrontStages<'s>, Tee<'s>, &'s mut Vec<Ended<ConnApp>>) {
        (
            FrontStages {
                decoder: &mut self.decoder,
                flows: &mut self.flows,
                filter: self.filter.as_ref(),
                summary: &mut self.summary,
                prev_ts: &mut self.prev_ts,
                last_expire: &mut self.last_expire,
                packets: &mut self.packets,
            },
            Tee {
                app: &mut self.app,
                tap,
                layers: FrameLayers::NONE,
                events: &mut self.events,
            },
            &mut self.ended,
        )
    }

    /// Runs one frame through every stage and hands the results to `sink`: the one place
    /// the per-packet sequence is written (with two threads, `threaded.rs` runs it on the
    /// front thread into a sink that records the calls, and replays them on the back).
    fn process(
        &mut self,
        frame: &RawFrame<'_>,
        tap: Option<&mut (dyn StreamSink + 'static)>,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        let (mut front, mut tee, ended) = self.split(tap);
        if front.expire(frame, &mut tee, ended) {
            send_ended(tee.events, ended, &mut front.summary.conns, sink)?;
        }
        let mut packet = DecodedPacket::empty();
        if !FrontStages::decode(
            front.decoder,
            front.filter,
            front.summary,
            frame,
            &mut packet,
        ) {
            return Ok(());
        }
        let mut flow = front.flows.process(frame, &packet, &mut tee, ended);
        let packets = *front.packets.get_or_insert_with(|| sink.wants_packets());
        send_app_events(tee.events, sink)?;
        if packets {
            hand_on_packet(sink, frame, &mut packet, &mut flow, tee.layers)?;
        }
        if !ended.is_empty() {
            send_ended(tee.events, ended, &mut front.summary.conns, sink)?;
        }
        Ok(())
    }

    /// Ends up to [`FINISH_CHUNK`] of the connections still open (end of input) and hands
    /// them to `sink`; whether some remain.
    fn finish_some(
        &mut self,
        tap: Option<&mut (dyn StreamSink + 'static)>,
        sink: &mut dyn Sink,
    ) -> io::Result<bool> {
        let (front, mut tee, ended) = self.split(tap);
        let more = front.flows.finish_some(&mut tee, ended, FINISH_CHUNK);
        send_ended(tee.events, ended, &mut front.summary.conns, sink)?;
        Ok(more)
    }

    /// The end of [`Pipeline::finish`] once every connection was flushed: the counters of
    /// every stage, then `sink.finish`.
    fn finish_stats(
        &mut self,
        sink: &mut dyn Sink,
        truncated: Option<Truncation>,
        error: Option<String>,
    ) -> io::Result<RunSummary> {
        let flow_stats = self.flows.stats();
        let dec = self.decoder.stats();
        self.summary.evicted_flows = flow_stats.evicted_flows;
        self.summary.tombstones_evicted = flow_stats.tombstones_evicted;
        self.summary.tunnel_parents_cut = flow_stats.tunnel_parents_cut;
        self.summary.lingers_cut = flow_stats.lingers_cut;
        self.summary.reassembly_cut_bytes = flow_stats.reassembly_cut_bytes;
        // Datagrams still incomplete at the end were never reassembled either.
        self.summary.fragments_evicted = dec.fragments_evicted + dec.fragments_pending;
        self.summary.nesting_cut = dec.nesting_cut;
        self.summary.first_fragments_given_up = dec.first_fragments_given_up;
        self.summary.fcs_stripped = dec.fcs_stripped;
        self.summary.http_heads_too_large = self.app.stats().http.heads_too_large;
        self.summary.tls = self.app.stats().tls;
        self.summary.quic_crypto_cut_bytes = self.app.stats().quic_hello.crypto_cut;
        self.summary.truncated = truncated;
        self.summary.error = error;
        self.summary.last_ts = self.prev_ts;
        sink.finish(&self.summary)?;
        Ok(self.summary.clone())
    }
}

/// The stages before the app stage, borrowed from a [`Pipeline`].
struct FrontStages<'p> {
    decoder: &'p mut Decoder,
    flows: &'p mut FlowTracker<ConnApp>,
    filter: Option<&'p Filter>,
    summary: &'p mut RunSummary,
    prev_ts: &'p mut Option<Timestamp>,
    last_expire: &'p mut Option<Timestamp>,
    packets: &'p mut Option<bool>,
}

impl FrontStages<'_> {
    /// Ends the connections idle at `frame`'s time, at most once a second of capture time
    /// (their streams' ends go to `stream`, their summaries to `ended`); whether it ran.
    #[inline(always)]
    fn expire(
        &mut self,
        frame: &RawFrame<'_>,
        stream: &mut dyn StreamSink<ConnApp>,
        ended: &mut Vec<Ended<ConnApp>>,
    ) -> bool {
        if !expiry_due(self.summary, self.prev_ts, *self.last_expire, frame) {
            return false;
        }
        *self.last_expire = Some(frame.ts);
        self.flows.expire(frame.ts, stream, ended);
        true
    }

    /// Decodes `frame` into `packet`; false when the filter drops it (counted). (The
    /// packet may borrow the decoder: only the decoder is borrowed for it, the other
    /// stages stay free.)
    #[inline(always)]
    fn decode<'f>(
        decoder: &'f mut Decoder,
        filter: Option<&Filter>,
        summary: &mut RunSummary,
        frame: &RawFrame<'f>,
        packet: &mut DecodedPacket<'f>,
    ) -> bool {
        decoder.decode_into(frame, packet);
        if let Some(filter) = filter {
            if !filter.matches(frame, packet) {
                summary.filtered_out += 1;
                return false;
            }
        }
        if packet.issue.is_some() {
            summary.decode_issues += 1;
        }
        true
    }
}

/// A tracked packet for a sink that wants packets, once the app stage had its stream data
/// and the app events it completed were handed on (first, so that a renderer can show an
/// application summary on the row of the packet that completed it): the application layers
/// the app stage recognised (`layers`, what its feeding calls returned) added to the
/// packet, which is then the sink's for the taking ([`Sink::take_packet`]).
#[inline(always)]
fn hand_on_packet(
    sink: &mut dyn Sink,
    frame: &RawFrame<'_>,
    packet: &mut DecodedPacket<'_>,
    flow: &mut PacketFlow,
    layers: FrameLayers,
) -> io::Result<()> {
    add_app_layers(layers, frame.number, packet);
    sink.take_packet(TakenPacket {
        frame,
        packet,
        flow,
    })
}

/// A packet handed to [`Sink::take_packet`]: its frame lent, its decoded layers and flow
/// facts for the taking (the pipeline does not use them after the call).
pub struct TakenPacket<'t, 'f, 'd> {
    pub frame: &'t RawFrame<'f>,
    pub packet: &'t mut DecodedPacket<'d>,
    pub flow: &'t mut PacketFlow,
}

/// Adds to `packet` the application layers the app stage recognised in frame `frame`'s
/// payload (and, for decrypted TLS, the protocol inside).
#[inline]
fn add_app_layers(layers: FrameLayers, frame: u64, packet: &mut DecodedPacket<'_>) {
    if let Some(name) = layers.app_of(frame) {
        packet.push_app_layer(name, packet.payload_offset, packet.payload.len() as u32);
    }
    if let Some(name) = layers.inner_of(frame) {
        packet.push_app_layer(name, packet.payload_offset, packet.payload.len() as u32);
    }
    packet.app_frames = layers.frames_of(frame);
}

/// Hands the app stage's completed events to the sink, emptying the buffer (nothing to do
/// when none wait: the common case, once a packet, told inline without a call).
#[inline(always)]
fn send_app_events(events: &mut Vec<AppEvent>, sink: &mut dyn Sink) -> io::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    hand_on_app_events(events, sink)
}

/// [`send_app_events`] when some wait.
#[inline(never)]
fn hand_on_app_events(events: &mut Vec<AppEvent>, sink: &mut dyn Sink) -> io::Result<()> {
    if !sink.wants_app_events() {
        events.clear();
        return Ok(());
    }
    for event in events.drain(..) {
        sink.take_app_event(event)?;
    }
    Ok(())
}

/// The app stage's completed events, then each ended connection with the app counters
/// its slot held (counted in `conns`), emptying `ended`.
fn send_ended(
    events: &mut Vec<AppEvent>,
    ended: &mut Vec<Ended<ConnApp>>,
    conns: &mut u64,
    sink: &mut dyn Sink,
) -> io::Result<()> {
    send_app_events(events, sink)?;
    *conns += ended.len() as u64;
    let sent = sink.take_conn_ends(ended);
    ended.clear();
    sent
}

/// Counts the frame in the summary and says whether idle connections are due to expire
/// (at most once per second of capture time). A frame without a timestamp (pcapng
/// simple packet block) or whose clock jumps by more than an hour from the previous
/// frame (a bogus timestamp, as in some real files) does not drive expiry: one bad
/// clock value must not end every open connection.
#[inline(always)]
fn expiry_due(
    summary: &mut RunSummary,
    prev_ts: &mut Option<Timestamp>,
    last_expire: Option<Timestamp>,
    frame: &RawFrame<'_>,
) -> bool {
    summary.frames += 1;
    if summary.first_ts.is_none() {
        summary.first_ts = Some(frame.ts);
    }
    // `summary.last_ts` is `prev_ts` at the end (set in `finish_stats`), not stored per frame.
    let ts = frame.ts;
    // Most frames come less than two seconds after the frame before (plausible) and less
    // than a second after the last expiry (not due): decided on the seconds alone.
    if let (Some(p), Some(t)) = (*prev_ts, last_expire) {
        let near_prev = matches!(ts.secs.checked_sub(p.secs), Some(0 | 1));
        let within_second = match ts.secs.checked_sub(t.secs) {
            Some(0) => ts.nanos > t.nanos,
            Some(1) => ts.nanos < t.nanos,
            _ => false,
        };
        if ts.precision > 0 && near_prev && within_second {
            *prev_ts = Some(ts);
            return false;
        }
    }
    // Differences in i64 nanoseconds (±292 years); beyond that they are far more than an
    // hour either way, which is all these tests need to know.
    let plausible = ts.precision > 0
        && prev_ts.is_none_or(|p| {
            ts.nanos_since_i64(&p)
                .is_some_and(|d| d.unsigned_abs() <= MAX_CLOCK_STEP_NS.unsigned_abs())
        });
    *prev_ts = Some(ts);
    plausible
        && match last_expire {
            None => true,
            Some(t) => {
                ts.nanos_since_i64(&t)
                    .map_or(ts.secs > t.secs, |d| d >= 1_000_000_000)
                    || ts < t
            }
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
    run_pipeline(source, &mut Pipeline::new(config), sink)
}

/// Reads `source` to the end through `pipeline` into `sink`.
pub fn run_pipeline(
    source: &mut dyn FrameSource,
    pipeline: &mut Pipeline,
    sink: &mut dyn Sink,
) -> io::Result<RunEnd> {
    let stages = &pipeline.stages;
    if stages.threads > 1 && pipeline.tap.is_none() && stages.stop_after.is_none() {
        return threaded::run(source, pipeline, sink);
    }
    let mut failure = None;
    while !pipeline.done() {
        match source.next_frame() {
            Ok(Some(frame)) => pipeline.process(&frame, sink)?,
            Ok(None) => break,
            Err(e) if !e.is_fatal() => {
                pipeline.stages.summary.bad_records_skipped += 1;
                sink.warning(&e)?
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let truncated = source.truncation().cloned();
    let message = failure.as_ref().map(|e| e.to_string());
    pipeline.stages.summary.source = source.counts();
    let summary = pipeline.finish(sink, truncated, message)?;
    Ok(match failure {
        Some(e) => RunEnd::Failed(summary, e),
        None => RunEnd::Complete(summary),
    })
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn wants_packets(&self) -> bool {
        (**self).wants_packets()
    }
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        (**self).packet(frame, packet, flow)
    }
    fn take_packet(&mut self, taken: TakenPacket<'_, '_, '_>) -> io::Result<()> {
        (**self).take_packet(taken)
    }
    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        (**self).app_event(event)
    }
    fn wants_app_events(&self) -> bool {
        (**self).wants_app_events()
    }
    fn take_app_event(&mut self, event: AppEvent) -> io::Result<()> {
        (**self).take_app_event(event)
    }
    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        (**self).conn_end(conn, app)
    }
    fn take_conn_ends(&mut self, ended: &mut Vec<Ended<ConnApp>>) -> io::Result<()> {
        (**self).take_conn_ends(ended)
    }
    fn warning(&mut self, error: &CaptureError) -> io::Result<()> {
        (**self).warning(error)
    }
    fn finish(&mut self, summary: &RunSummary) -> io::Result<()> {
        (**self).finish(summary)
    }
}

/// A sink that discards everything (when only a stream tap is wanted).
pub struct DiscardSink;

impl Sink for DiscardSink {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

    fn at(secs: i64, nanos: u32) -> Timestamp {
        Timestamp {
            secs,
            nanos,
            precision: 9,
        }
    }

    /// `expiry_due` for a frame at `ts` after frames at `prev` and an expiry at `last`.
    fn due(prev: Option<Timestamp>, last: Option<Timestamp>, ts: Timestamp) -> bool {
        let frame = RawFrame {
            number: 1,
            ts,
            link: LinkType(1),
            interface: 0,
            file: 0,
            orig_len: 0,
            data: &[],
        };
        let mut prev = prev;
        expiry_due(&mut RunSummary::default(), &mut prev, last, &frame)
    }

    /// Counts what reaches it; wants app events or not.
    struct Counts {
        events_wanted: bool,
        events: usize,
        conns: usize,
        http_requests: u64,
    }

    impl Sink for Counts {
        fn wants_app_events(&self) -> bool {
            self.events_wanted
        }
        fn app_event(&mut self, _: &AppEvent) -> io::Result<()> {
            self.events += 1;
            Ok(())
        }
        fn conn_end(&mut self, _: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
            self.conns += 1;
            self.http_requests += app.http_requests;
            Ok(())
        }
    }

    /// A sink that wants no app events gets none, on one thread or two, and the same
    /// connections with the same counters as one that wants them (captures/
    /// http11-keepalive.pcap: one connection, three requests, as in captures/oracle/
    /// http11-keepalive.pcap.http.tsv, tshark's view).
    #[test]
    fn app_events_a_sink_does_not_want_are_dropped_and_nothing_else() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/captures/http11-keepalive.pcap"
        );
        let mut got = Vec::new();
        for threads in [1, 2] {
            for events_wanted in [true, false] {
                let mut source = crate::capture::FileSource::open(path.as_ref()).unwrap();
                let config = PipelineConfig {
                    threads,
                    ..PipelineConfig::default()
                };
                let mut sink = Counts {
                    events_wanted,
                    events: 0,
                    conns: 0,
                    http_requests: 0,
                };
                run(&mut source, config, &mut sink).unwrap();
                got.push((
                    threads,
                    events_wanted,
                    sink.events,
                    sink.conns,
                    sink.http_requests,
                ));
            }
        }
        assert_eq!(
            got,
            [
                (1, true, 3, 1, 3),
                (1, false, 0, 1, 3),
                (2, true, 3, 1, 3),
                (2, false, 0, 1, 3),
            ]
        );
    }

    #[test]
    fn expiry_is_due_once_a_second_and_never_after_a_clock_jump() {
        let t = at(1_000, 500_000_000);
        assert!(due(None, None, t));
        assert!(
            !due(Some(t), Some(t), at(1_001, 499_999_999)),
            "0.999999999 s"
        );
        assert!(due(Some(t), Some(t), at(1_001, 500_000_000)), "exactly 1 s");
        assert!(due(Some(t), Some(t), at(1_000, 499_999_999)), "backwards");
        // Within the second of the last expiry (the fast path) and around it: (frame before,
        // frame, due?, why).
        let later = at(1_000, 900_000_000);
        for (prev, ts, want, why) in [
            (later, at(1_000, 900_000_001), false, "same second"),
            (later, at(1_000, 500_000_000), false, "same instant"),
            (later, at(1_000, 400_000_000), true, "back before it"),
            (later, at(1_001, 400_000_000), false, "next second, < 1 s"),
            (later, at(1_001, 500_000_000), true, "next second, 1 s"),
            (
                at(999, 0),
                at(1_001, 0),
                false,
                "2 s after the frame before",
            ),
        ] {
            assert_eq!(due(Some(prev), Some(t), ts), want, "{why}");
        }
        assert!(!due(
            Some(at(i64::MAX, 0)),
            Some(at(i64::MIN, 1)),
            at(i64::MIN, 2)
        ));
        let no_ts = Timestamp {
            precision: 0,
            ..at(1_000, 900_000_001)
        };
        assert!(!due(Some(later), Some(t), no_ts), "no timestamp");
        // A jump of more than an hour from the previous frame is a bogus clock.
        assert!(due(Some(t), Some(t), at(4_600, 500_000_000)), "exactly 1 h");
        assert!(!due(Some(t), Some(t), at(4_600, 500_000_001)), "1 h + 1 ns");
        assert!(
            !due(Some(t), Some(t), at(-2_600, 0)),
            "more than an hour back"
        );
        assert!(
            due(Some(t), Some(t), at(-2_000, 0)),
            "less than an hour back"
        );
        // Differences past i64 nanoseconds (±292 years) are jumps too.
        assert!(!due(Some(at(i64::MIN, 0)), Some(t), at(i64::MAX, 0)));
        assert!(!due(Some(at(i64::MAX, 0)), Some(t), at(i64::MIN, 0)));
        // Without a timestamp (pcapng simple packet block) nothing expires.
        let none = Timestamp::default();
        assert!(!due(Some(t), Some(t), none));
        assert_eq!(at(2, 0).nanos_since_i64(&at(1, 999_999_999)), Some(1));
        assert_eq!(at(i64::MAX, 0).nanos_since_i64(&at(-1, 0)), None);
    }
}
