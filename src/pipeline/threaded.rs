//! The same pipeline on two threads: a front thread reads, decodes, filters and tracks
//! flows (TCP state, analysis, reassembly); the calling thread runs the application
//! parsers and the sink. The stages are `Pipeline::process`'s own (`FrontStages` on the
//! front; `hand_on_packet` and `send_ended` on the back): the front records, in order,
//! every call the one-thread pipeline would make on the app stage and the sink, in
//! batches; the back replays them. The output is the same, byte for byte (tests compare
//! both on every capture).
//!
//! Bounded: at most [`DEPTH`] full batches wait in the channel, each of at most
//! [`BATCH_PACKETS`] packets or about [`BATCH_BYTES`] bytes; emptied batches go back to the
//! front to be refilled, so steady state allocates nothing.

use super::{hand_on_packet, send_app_events, send_ended, FrontStages, Pipeline, RunEnd};
use crate::app::{AppEvent, AppTracker, FrameLayers};
use crate::capture::{CaptureError, FrameSource, LinkType, RawFrame, Timestamp, Truncation};
use crate::decode::DecodedPacket;
use crate::flow::{ConnId, ConnSummary, Direction, PacketFlow, SegmentCtx, StreamSink};
use std::io;
use std::sync::mpsc;
use std::sync::Arc;

/// Full batches waiting for the back thread.
const DEPTH: usize = 4;
/// A batch is handed over once it holds this many packets…
const BATCH_PACKETS: usize = 512;
/// …or this many bytes of frames and stream data.
const BATCH_BYTES: usize = 512 * 1024;

/// Room kept for ended connections' summaries in a recycled batch.
const KEEP_ENDED: usize = 256;
/// Room kept for events in a recycled batch (a batch of [`BATCH_PACKETS`] packets rarely
/// needs more than two events a packet; an expiry burst can).
const KEEP_EVENTS: usize = 4 * BATCH_PACKETS;

/// A location in a batch: below `1 << SLOT_SHIFT` an offset in its arena (`bytes`), else
/// `(slot << SLOT_SHIFT) | offset`, an offset in `chunks[slot - 1]`.
const SLOT_SHIFT: u32 = 48;
const OFFSET_MASK: usize = (1 << SLOT_SHIFT) - 1;

/// One call the one-thread pipeline makes on the app stage or the sink, in order.
#[derive(Clone, Copy, Debug)]
enum Ev {
    Data {
        conn: ConnId,
        dir: Direction,
        at: usize,
        len: usize,
        ctx: SegmentCtx,
    },
    Gap {
        conn: ConnId,
        dir: Direction,
        len: u64,
    },
    Datagram {
        conn: ConnId,
        dir: Direction,
        at: usize,
        len: usize,
        ctx: SegmentCtx,
    },
    Fin {
        conn: ConnId,
        dir: Direction,
    },
    Close {
        conn: ConnId,
    },
    /// `Pipeline::flush_ended` with the next `conns` summaries of the batch.
    Flush {
        conns: usize,
    },
    /// The next packet of the batch goes to the sink.
    Packet,
    /// Where a packet would go to a sink that does not want packets: the app events
    /// completed so far go to the sink.
    Events,
    /// The next warning of the batch goes to the sink.
    Warning,
}

/// A packet that passed the front, its bytes in the batch's arena.
struct Packed {
    number: u64,
    ts: Timestamp,
    link: LinkType,
    interface: u32,
    file: u32,
    orig_len: u32,
    data_at: usize,
    data_len: usize,
    /// The decoded packet with an empty `payload`; the payload is at `payload_at`.
    packet: DecodedPacket<'static>,
    payload_at: usize,
    payload_len: usize,
    flow: PacketFlow,
}

/// What the front hands over at once.
#[derive(Default)]
struct Batch {
    /// Frame bytes and stream data the events point into.
    bytes: Vec<u8>,
    events: Vec<Ev>,
    packets: Vec<Packed>,
    ended: Vec<ConnSummary>,
    warnings: Vec<CaptureError>,
    /// Bytes of the frames the batch stands for (wherever they lie).
    frame_bytes: usize,
    /// The source's shared buffers that events point into (in place, not copied); given
    /// back to the source once the batch was replayed.
    chunks: Vec<Arc<Vec<u8>>>,
}

impl Batch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.events.clear();
        self.packets.clear();
        self.ended.clear();
        self.warnings.clear();
        self.frame_bytes = 0;
        // An expiry can end thousands of connections into one batch; the recycled batch
        // keeps room for KEEP_ENDED of them only, so that room does not pile up batch by
        // batch as the capture goes on (each of the DEPTH + 2 batches would keep its largest).
        self.ended.shrink_to(KEEP_ENDED);
        self.events.shrink_to(KEEP_EVENTS);
    }
    fn full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS || self.bytes.len() + self.frame_bytes >= BATCH_BYTES
    }
}

/// Where the current frame's bytes lie: as the source gave them, and where they were
/// placed for the back thread.
#[derive(Clone, Copy, Default)]
struct FrameAt<'b> {
    /// The source's shared buffer the frame lies in.
    chunk: Option<&'b Arc<Vec<u8>>>,
    addr: usize,
    /// 0: no frame (or its bytes were not placed).
    len: usize,
    at: usize,
}

impl Batch {
    /// A recorder of the flow stage's stream calls into this batch, and the batch's list of
    /// ended connections to hand the flow stage beside it.
    fn recorder<'b>(&'b mut self, frame: FrameAt<'b>) -> (Recorder<'b>, &'b mut Vec<ConnSummary>) {
        let rec = Recorder {
            bytes: &mut self.bytes,
            events: &mut self.events,
            chunks: &mut self.chunks,
            frame,
        };
        (rec, &mut self.ended)
    }
}

/// Records the flow stage's stream calls into a batch. Bytes that lie in the source's
/// shared buffer or inside the current frame (already placed) are not copied.
struct Recorder<'b> {
    bytes: &'b mut Vec<u8>,
    events: &'b mut Vec<Ev>,
    chunks: &'b mut Vec<Arc<Vec<u8>>>,
    frame: FrameAt<'b>,
}

impl Recorder<'_> {
    /// Where `data` is for the back thread: in the source's shared buffer, in the frame
    /// already placed, or copied to the arena now.
    fn place(&mut self, data: &[u8]) -> usize {
        let addr = data.as_ptr() as usize;
        if let Some(chunk) = self.frame.chunk {
            let base = chunk.as_ptr() as usize;
            if addr >= base && addr + data.len() <= base + chunk.len() {
                if !self.chunks.last().is_some_and(|c| Arc::ptr_eq(c, chunk)) {
                    self.chunks.push(Arc::clone(chunk));
                }
                return (self.chunks.len() << SLOT_SHIFT) | (addr - base);
            }
        }
        let f = self.frame;
        if f.len > 0 && addr >= f.addr && addr + data.len() <= f.addr + f.len {
            f.at + (addr - f.addr)
        } else {
            let at = self.bytes.len();
            self.bytes.extend_from_slice(data);
            at
        }
    }
}

impl StreamSink for Recorder<'_> {
    fn on_data(&mut self, conn: ConnId, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        let (at, len) = (self.place(data), data.len());
        self.events.push(Ev::Data {
            conn,
            dir,
            at,
            len,
            ctx,
        });
    }
    fn on_gap(&mut self, conn: ConnId, dir: Direction, len: u64, _ctx: SegmentCtx) {
        self.events.push(Ev::Gap { conn, dir, len });
    }
    fn on_datagram(&mut self, conn: ConnId, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        let (at, len) = (self.place(data), data.len());
        self.events.push(Ev::Datagram {
            conn,
            dir,
            at,
            len,
            ctx,
        });
    }
    fn on_fin(&mut self, conn: ConnId, dir: Direction, _ctx: SegmentCtx) {
        self.events.push(Ev::Fin { conn, dir });
    }
    fn on_close(&mut self, conn: ConnId) {
        self.events.push(Ev::Close { conn });
    }
}

/// The decoded packet without its borrowed payload (every other field is owned).
fn detach(p: DecodedPacket<'_>) -> DecodedPacket<'static> {
    DecodedPacket {
        layers: p.layers,
        link: p.link,
        arp: p.arp,
        net: p.net,
        transport: p.transport,
        payload: &[],
        payload_offset: p.payload_offset,
        reassembled: p.reassembled,
        fragment_pending: p.fragment_pending,
        first_fragment: p.first_fragment,
        fcs_len: p.fcs_len,
        issue: p.issue,
        outer_flows: p.outer_flows,
        app_frames: p.app_frames,
    }
}

/// The front's view of the pipeline (everything but the app stage).
struct Front<'p> {
    stages: FrontStages<'p>,
    tx: mpsc::SyncSender<Batch>,
    free: mpsc::Receiver<Batch>,
    batch: Batch,
    /// The sink wants packets ([`crate::pipeline::Sink::wants_packets`]).
    packets: bool,
    /// Shared buffers of replayed batches, to give back to the source.
    returned: Vec<Arc<Vec<u8>>>,
}

/// The back thread hung up (the sink failed): stop reading.
struct HungUp;

impl Front<'_> {
    /// Hands the batch over if it is full (or `force`), taking an emptied one back.
    #[inline]
    fn hand_over(&mut self, force: bool) -> Result<(), HungUp> {
        if !(force || self.batch.full()) {
            return Ok(());
        }
        self.send_batch()
    }

    #[inline(never)]
    fn send_batch(&mut self) -> Result<(), HungUp> {
        let mut next = self.free.try_recv().unwrap_or_default();
        self.returned.append(&mut next.chunks);
        let full = std::mem::replace(&mut self.batch, next);
        self.tx.send(full).map_err(|_| HungUp)
    }

    /// `Pipeline::process`'s front stages, with the app and sink calls recorded instead of
    /// made. `chunk`: the source's shared buffer the frame lies in, if any.
    fn process(
        &mut self,
        frame: &RawFrame<'_>,
        chunk: Option<&Arc<Vec<u8>>>,
    ) -> Result<(), HungUp> {
        let start = self.batch.ended.len();
        let (mut rec, ended) = self.batch.recorder(FrameAt::default());
        if self.stages.expire(frame, &mut rec, ended) {
            let conns = self.batch.ended.len() - start;
            self.batch.events.push(Ev::Flush { conns });
        }
        let mut packet = DecodedPacket::empty();
        let decoded = FrontStages::decode(
            &mut *self.stages.decoder,
            self.stages.filter,
            &mut *self.stages.summary,
            frame,
            &mut packet,
        );
        if !decoded {
            return self.hand_over(false);
        }
        let packets = self.packets;
        let mut at = FrameAt {
            chunk,
            ..FrameAt::default()
        };
        // Without packets only stream data is needed: the recorder places what it must.
        if packets {
            at.at = self.batch.recorder(at).0.place(frame.data);
            at.addr = frame.data.as_ptr() as usize;
            at.len = frame.data.len();
        }
        self.batch.frame_bytes += frame.data.len();
        let events_before = self.batch.events.len();
        let start = self.batch.ended.len();
        let (mut rec, ended) = self.batch.recorder(at);
        let flow = self.stages.flows.process(frame, &packet, &mut rec, ended);
        let batch = &mut self.batch;
        // The flow stage handed the app stage nothing for this frame (a bare ACK, say): no
        // app event can have completed.
        let quiet = batch.events.len() == events_before;
        if packets {
            let payload_at = batch.recorder(at).0.place(packet.payload);
            let payload_len = packet.payload.len();
            batch.packets.push(Packed {
                number: frame.number,
                ts: frame.ts,
                link: frame.link,
                interface: frame.interface,
                file: frame.file,
                orig_len: frame.orig_len,
                data_at: at.at,
                data_len: frame.data.len(),
                packet: detach(packet),
                payload_at,
                payload_len,
                flow,
            });
            batch.events.push(Ev::Packet);
        } else if !quiet {
            batch.events.push(Ev::Events);
        }
        let conns = batch.ended.len() - start;
        if conns > 0 {
            batch.events.push(Ev::Flush { conns });
        }
        self.hand_over(false)
    }

    fn warning(&mut self, e: CaptureError) -> Result<(), HungUp> {
        self.stages.summary.bad_records_skipped += 1;
        self.batch.warnings.push(e);
        self.batch.events.push(Ev::Warning);
        self.hand_over(false)
    }

    /// `Pipeline::finish`'s flow part: ends every open connection, a part at a time.
    fn finish(&mut self) -> Result<(), HungUp> {
        loop {
            let start = self.batch.ended.len();
            let (mut rec, ended) = self.batch.recorder(FrameAt::default());
            let more = self
                .stages
                .flows
                .finish_some(&mut rec, ended, super::FINISH_CHUNK);
            let conns = self.batch.ended.len() - start;
            self.batch.events.push(Ev::Flush { conns });
            self.hand_over(true)?;
            if !more {
                return Ok(());
            }
        }
    }
}

/// Reads the source to its end (or until the back hangs up); returns what
/// `run_pipeline` needs to report how reading ended.
fn run_front(
    source: &mut dyn FrameSource,
    mut front: Front<'_>,
) -> (
    Option<Truncation>,
    crate::capture::SourceCounts,
    Option<CaptureError>,
) {
    let mut failure = None;
    loop {
        let step = match source.next_frame_with_chunk() {
            Ok(Some((frame, chunk))) => front.process(&frame, chunk),
            Ok(None) => break,
            Err(e) if !e.is_fatal() => front.warning(e),
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        if step.is_err() {
            return (source.truncation().cloned(), source.counts(), failure);
        }
        if !front.returned.is_empty() {
            for chunk in front.returned.drain(..) {
                source.recycle_shared(chunk);
            }
        }
    }
    let _ = front.finish();
    (source.truncation().cloned(), source.counts(), failure)
}

/// The bytes at a location of a batch (see [`SLOT_SHIFT`]).
#[inline]
fn locate<'a>(arena: &'a [u8], chunks: &'a [Arc<Vec<u8>>], loc: usize, len: usize) -> &'a [u8] {
    let off = loc & OFFSET_MASK;
    let src: &[u8] = match loc >> SLOT_SHIFT {
        0 => arena,
        slot => chunks.get(slot - 1).map_or(&[], |c| c.as_slice()),
    };
    src.get(off..off + len).unwrap_or(&[])
}

/// Replays one batch on the app stage and the sink; returns the emptied batch (its shared
/// buffers kept, for the front to give back).
fn replay(
    mut batch: Batch,
    app: &mut AppTracker,
    events: &mut Vec<AppEvent>,
    sink: &mut dyn crate::pipeline::Sink,
    conns_seen: &mut u64,
) -> io::Result<Batch> {
    let mut packets = std::mem::take(&mut batch.packets);
    let mut next_packet = packets.drain(..);
    let mut next_conn = 0;
    let mut next_warning = 0;
    let bytes = &batch.bytes;
    let chunks = &batch.chunks;
    // What the app stage recognised in the stream data of the packet being replayed.
    let mut layers = FrameLayers::NONE;
    for ev in &batch.events {
        match *ev {
            Ev::Data {
                conn,
                dir,
                at,
                len,
                ctx,
            } => {
                let data = locate(bytes, chunks, at, len);
                layers.merge(app.feed_segment(conn, dir, data, ctx, events));
            }
            Ev::Gap { conn, dir, len } => app.on_gap(conn, dir, len, events),
            Ev::Datagram {
                conn,
                dir,
                at,
                len,
                ctx,
            } => {
                let data = locate(bytes, chunks, at, len);
                layers.merge(app.feed_datagram(conn, dir, data, ctx, events));
            }
            Ev::Fin { conn, dir } => app.on_fin(conn, dir, events),
            Ev::Close { conn } => app.on_close(conn, events),
            Ev::Flush { conns } => {
                let ended = batch.ended.get(next_conn..next_conn + conns).unwrap_or(&[]);
                send_ended(app, events, ended, conns_seen, sink)?;
                next_conn += conns;
            }
            Ev::Packet => {
                let found = std::mem::replace(&mut layers, FrameLayers::NONE);
                let Some(p) = next_packet.next() else {
                    continue;
                };
                let frame = RawFrame {
                    number: p.number,
                    ts: p.ts,
                    link: p.link,
                    interface: p.interface,
                    file: p.file,
                    orig_len: p.orig_len,
                    data: locate(bytes, chunks, p.data_at, p.data_len),
                };
                let mut packet: DecodedPacket<'_> = p.packet;
                packet.payload = locate(bytes, chunks, p.payload_at, p.payload_len);
                hand_on_packet(events, sink, &frame, &mut packet, &p.flow, found)?;
            }
            Ev::Events => {
                layers = FrameLayers::NONE;
                send_app_events(events, sink)?;
            }
            Ev::Warning => {
                if let Some(e) = batch.warnings.get(next_warning) {
                    sink.warning(e)?;
                }
                next_warning += 1;
            }
        }
    }
    drop(next_packet);
    batch.packets = packets;
    batch.clear();
    Ok(batch)
}

/// `run_pipeline` on two threads (see the module docs). Only for pipelines without a tap
/// or a packet count to stop at.
pub(super) fn run(
    source: &mut dyn FrameSource,
    pipeline: &mut Pipeline,
    sink: &mut dyn crate::pipeline::Sink,
) -> io::Result<RunEnd> {
    let (stages, tee, _) = pipeline.split();
    let (app, events) = (tee.app, tee.events);
    let mut conns_seen = 0;
    let (tx, rx) = mpsc::sync_channel::<Batch>(DEPTH);
    let (free_tx, free_rx) = mpsc::channel::<Batch>();
    let (back, (truncated, counts, failure)) = std::thread::scope(|scope| {
        let front = Front {
            stages,
            packets: sink.wants_packets(),
            returned: Vec::new(),
            tx,
            free: free_rx,
            batch: Batch::default(),
        };
        let handle = scope.spawn(move || run_front(source, front));
        let back = (|| -> io::Result<()> {
            for batch in rx.iter() {
                let empty = replay(batch, app, events, sink, &mut conns_seen)?;
                let _ = free_tx.send(empty);
            }
            Ok(())
        })();
        // On a sink error the receiver is dropped here, so the front stops at its next send.
        drop(rx);
        let front = match handle.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (back, front)
    });
    pipeline.summary.conns += conns_seen;
    back?;
    let message = failure.as_ref().map(|e| e.to_string());
    pipeline.summary.source = counts;
    let summary = pipeline.finish_stats(sink, truncated, message)?;
    Ok(match failure {
        Some(e) => RunEnd::Failed(summary, e),
        None => RunEnd::Complete(summary),
    })
}
