//! The same pipeline on two threads: a front thread reads and runs every stage —
//! `Pipeline::process` itself: decode, flow (whose slots hold the app state), app — into a
//! sink that records the calls it gets, in batches; the calling thread replays them on the
//! real sink (the renderer). The per-packet sequence is written once, in
//! `Pipeline::process`; the output is the same, byte for byte (tests compare both on every
//! capture).
//!
//! Bounded: at most [`DEPTH`] full batches wait in the channel, each handed over once it
//! holds [`BATCH_PACKETS`] packets, about [`BATCH_BYTES`] bytes, [`BATCH_ENDED`] ended
//! connections or [`BATCH_CALLS`] calls of any kind (checked after each frame); emptied
//! batches go back to the front to be refilled, so steady state allocates nothing.

use super::{Pipeline, RunEnd, Sink, Stages, TakenPacket};
use crate::app::{AppEvent, ConnApp};
use crate::capture::{CaptureError, FrameSource, LinkType, RawFrame, Timestamp, Truncation};
use crate::decode::DecodedPacket;
use crate::flow::{Ended, PacketFlow};
use std::io;
use std::sync::mpsc;
use std::sync::Arc;

/// Full batches waiting for the back thread.
const DEPTH: usize = 4;
/// A batch is handed over once it holds this many packets…
const BATCH_PACKETS: usize = 512;
/// …or this many bytes of frames (wherever they lie) and copied bytes…
const BATCH_BYTES: usize = 512 * 1024;
/// …or this many ended connections (an expiry can end many at once: they are handed over
/// this many at a time once that packet's calls are recorded)…
const BATCH_ENDED: usize = 256;
/// …or this many calls of any kind (app events and warnings come without packets when the
/// sink wants none: a long keep-alive connection completes thousands of transactions
/// before anything else would fill the batch).
const BATCH_CALLS: usize = 4 * BATCH_PACKETS;

/// Room kept for ended connections' summaries in a recycled batch (a batch that held more,
/// after an expiry or at the end of input, gives the rest back).
const KEEP_ENDED: usize = BATCH_ENDED;
/// Room kept for events in a recycled batch (a batch holds at most [`BATCH_CALLS`] calls
/// but for one packet's: an expiry burst can end with more).
const KEEP_EVENTS: usize = BATCH_CALLS;

/// A location in a batch: below `1 << SLOT_SHIFT` an offset in its arena (`bytes`), else
/// `(slot << SLOT_SHIFT) | offset`, an offset in `chunks[slot - 1]`.
const SLOT_SHIFT: u32 = 48;
const OFFSET_MASK: usize = (1 << SLOT_SHIFT) - 1;

/// One call the pipeline made on the sink, in order; each takes the next item of its
/// kind from the batch.
#[derive(Clone, Copy, Debug)]
enum Call {
    Packet,
    AppEvent,
    ConnEnd,
    Warning,
}

/// A packet handed to the sink, its bytes in the batch's arena or the source's buffers.
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
    /// Bytes the packets point into that lay in no shared buffer.
    bytes: Vec<u8>,
    calls: Vec<Call>,
    packets: Vec<Packed>,
    events: Vec<AppEvent>,
    /// Connections that ended, with their app state (taken from the pipeline a list at a
    /// time: see [`Sink::take_conn_ends`]).
    ended: Vec<Ended<ConnApp>>,
    warnings: Vec<CaptureError>,
    /// Bytes of the frames the batch stands for (wherever they lie).
    frame_bytes: usize,
    /// The source's shared buffers that packets point into (in place, not copied); given
    /// back to the source once the batch was replayed.
    chunks: Vec<Arc<Vec<u8>>>,
}

impl Batch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.calls.clear();
        self.packets.clear();
        self.events.clear();
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
        self.packets.len() >= BATCH_PACKETS
            || self.bytes.len() + self.frame_bytes >= BATCH_BYTES
            || self.ended.len() >= BATCH_ENDED
            || self.calls.len() >= BATCH_CALLS
    }
}

/// The front thread's side: the batch being filled and the channels.
struct Recorder {
    batch: Batch,
    tx: mpsc::SyncSender<Batch>,
    free: mpsc::Receiver<Batch>,
    /// The real sink wants packets ([`Sink::wants_packets`]) and app events
    /// ([`Sink::wants_app_events`]).
    packets: bool,
    events: bool,
    /// Shared buffers of replayed batches, to give back to the source.
    returned: Vec<Arc<Vec<u8>>>,
}

/// The back thread hung up (the sink failed): stop reading.
fn hung_up() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the sink's thread stopped")
}

impl Recorder {
    /// Hands the batch over if it is full (or `force`), taking an emptied one back.
    #[inline]
    fn hand_over(&mut self, force: bool) -> io::Result<()> {
        if !(force || self.batch.full()) {
            return Ok(());
        }
        self.send_batch()
    }

    #[inline(never)]
    fn send_batch(&mut self) -> io::Result<()> {
        let mut next = self.free.try_recv().unwrap_or_default();
        self.returned.append(&mut next.chunks);
        let full = std::mem::replace(&mut self.batch, next);
        self.tx.send(full).map_err(|_| hung_up())
    }

    fn warning(&mut self, e: CaptureError) -> io::Result<()> {
        self.batch.warnings.push(e);
        self.batch.calls.push(Call::Warning);
        self.hand_over(false)
    }
}

/// The sink `Pipeline::process` runs into on the front thread, for one frame: records
/// each call in the batch. `chunk`: the source's shared buffer the frame lies in, if any.
struct FrameRecorder<'r, 'c> {
    rec: &'r mut Recorder,
    chunk: Option<&'c Arc<Vec<u8>>>,
}

impl FrameRecorder<'_, '_> {
    /// Where `data` is for the back thread: in the source's shared buffer (kept by the
    /// batch, not copied), else copied to the arena now.
    fn place(&mut self, data: &[u8]) -> usize {
        let batch = &mut self.rec.batch;
        if let Some(chunk) = self.chunk {
            if let Some(off) = offset_in(chunk, data) {
                if !batch.chunks.last().is_some_and(|c| Arc::ptr_eq(c, chunk)) {
                    batch.chunks.push(Arc::clone(chunk));
                }
                return (batch.chunks.len() << SLOT_SHIFT) | off;
            }
        }
        let at = batch.bytes.len();
        batch.bytes.extend_from_slice(data);
        at
    }
}

/// The decoded packet without its borrowed payload (every other field is owned, and moved).
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

impl Sink for FrameRecorder<'_, '_> {
    fn wants_packets(&self) -> bool {
        self.rec.packets
    }
    fn wants_app_events(&self) -> bool {
        self.rec.events
    }
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.take_packet(TakenPacket {
            frame,
            packet: &mut packet.clone(),
            flow: &mut flow.clone(),
        })
    }
    fn take_packet(&mut self, taken: TakenPacket<'_, '_, '_>) -> io::Result<()> {
        let TakenPacket {
            frame,
            packet,
            flow,
        } = taken;
        // (Called only when the real sink wants packets: `wants_packets` above.)
        let data_at = self.place(frame.data);
        // The payload mostly lies in the frame: placed where the frame was.
        let payload_at = match offset_in(frame.data, packet.payload) {
            Some(off) => data_at + off,
            None => self.place(packet.payload),
        };
        let batch = &mut self.rec.batch;
        batch.packets.push(Packed {
            number: frame.number,
            ts: frame.ts,
            link: frame.link,
            interface: frame.interface,
            file: frame.file,
            orig_len: frame.orig_len,
            data_at,
            data_len: frame.data.len(),
            payload_len: packet.payload.len(),
            packet: detach(std::mem::replace(packet, DecodedPacket::empty())),
            payload_at,
            flow: std::mem::take(flow),
        });
        batch.calls.push(Call::Packet);
        batch.frame_bytes += frame.data.len();
        Ok(())
    }
    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        self.take_app_event(event.clone())
    }
    fn take_app_event(&mut self, event: AppEvent) -> io::Result<()> {
        self.rec.batch.events.push(event);
        self.rec.batch.calls.push(Call::AppEvent);
        Ok(())
    }
    // (No `conn_end`: the pipeline hands ended connections on only as lists, here.)
    fn take_conn_ends(&mut self, ended: &mut Vec<Ended<ConnApp>>) -> io::Result<()> {
        let held = self.rec.batch.ended.len();
        if held > 0 && held + ended.len() > BATCH_ENDED {
            // A burst (an expiry, the end of input) the batch has no room left for: the
            // batch goes first (the order of calls is kept), and the list then changes
            // hands whole instead of being copied onto the batch's.
            self.rec.send_batch()?;
        }
        let batch = &mut self.rec.batch;
        batch
            .calls
            .extend(std::iter::repeat_n(Call::ConnEnd, ended.len()));
        // The list itself changes hands when the batch holds none yet; else its items are
        // moved in one copy. Either way the pipeline gets back an empty list with room.
        if batch.ended.is_empty() {
            std::mem::swap(&mut batch.ended, ended);
        } else {
            batch.ended.append(ended);
        }
        Ok(())
    }
}

/// Where `inner` starts inside `outer`, if it lies there.
fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    (i >= o && i + inner.len() <= o + outer.len()).then(|| i - o)
}

/// Reads the source to its end (or until the back hangs up) through the pipeline into the
/// recorder; returns what `run_pipeline` needs to report how reading ended.
fn run_front(
    source: &mut dyn FrameSource,
    stages: &mut Stages,
    mut rec: Recorder,
) -> (
    Option<Truncation>,
    crate::capture::SourceCounts,
    Option<CaptureError>,
) {
    let mut failure = None;
    let mut stopped = false;
    loop {
        let step = match source.next_frame_with_chunk() {
            Ok(Some((frame, chunk))) => {
                let mut sink = FrameRecorder {
                    rec: &mut rec,
                    chunk,
                };
                stages
                    .process(&frame, None, &mut sink)
                    .and_then(|()| rec.hand_over(false))
            }
            Ok(None) => break,
            Err(e) if !e.is_fatal() => {
                stages.summary.bad_records_skipped += 1;
                rec.warning(e)
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        if step.is_err() {
            stopped = true;
            break;
        }
        if !rec.returned.is_empty() {
            for chunk in rec.returned.drain(..) {
                source.recycle_shared(chunk);
            }
        }
    }
    if !stopped {
        // (An error here is the back hanging up: it reports its own.)
        let _ = finish_front(stages, &mut rec);
    }
    (source.truncation().cloned(), source.counts(), failure)
}

/// `Pipeline::finish`'s flow part on the front: every open connection ends, a part at a
/// time, each part handed over.
fn finish_front(stages: &mut Stages, rec: &mut Recorder) -> io::Result<()> {
    loop {
        let mut sink = FrameRecorder { rec, chunk: None };
        let more = stages.finish_some(None, &mut sink)?;
        rec.hand_over(true)?;
        if !more {
            return Ok(());
        }
    }
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

/// Replays one batch's calls on the sink; returns the emptied batch (its shared buffers
/// kept, for the front to give back).
fn replay(mut batch: Batch, sink: &mut dyn Sink) -> io::Result<Batch> {
    let mut packets = std::mem::take(&mut batch.packets);
    let mut events = std::mem::take(&mut batch.events);
    let mut ended = std::mem::take(&mut batch.ended);
    let (mut next_packet, mut next_event, mut next_end) =
        (packets.drain(..), events.drain(..), ended.iter_mut());
    let mut warnings = batch.warnings.iter();
    let (bytes, chunks) = (&batch.bytes, &batch.chunks);
    for call in &batch.calls {
        match call {
            Call::Packet => {
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
                sink.packet(&frame, &packet, &p.flow)?;
            }
            Call::AppEvent => {
                if let Some(e) = next_event.next() {
                    sink.take_app_event(e)?;
                }
            }
            Call::ConnEnd => {
                if let Some(Ended { summary, state }) = next_end.next() {
                    sink.conn_end(summary, &state.take_stats())?;
                }
            }
            Call::Warning => {
                if let Some(e) = warnings.next() {
                    sink.warning(e)?;
                }
            }
        }
    }
    drop((next_packet, next_event, next_end));
    (batch.packets, batch.events, batch.ended) = (packets, events, ended);
    batch.clear();
    Ok(batch)
}

/// `run_pipeline` on two threads (see the module docs). Only for pipelines without a tap
/// or a packet count to stop at.
pub(super) fn run(
    source: &mut dyn FrameSource,
    pipeline: &mut Pipeline,
    sink: &mut dyn Sink,
) -> io::Result<RunEnd> {
    let (tx, rx) = mpsc::sync_channel::<Batch>(DEPTH);
    let (free_tx, free_rx) = mpsc::channel::<Batch>();
    let rec = Recorder {
        batch: Batch::default(),
        tx,
        free: free_rx,
        packets: sink.wants_packets(),
        events: sink.wants_app_events(),
        returned: Vec::new(),
    };
    let (back, (truncated, counts, failure)) = std::thread::scope(|scope| {
        let front = &mut pipeline.stages;
        let handle = scope.spawn(move || run_front(source, front, rec));
        let back = (|| -> io::Result<()> {
            for batch in rx.iter() {
                let empty = replay(batch, sink)?;
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
    back?;
    let message = failure.as_ref().map(|e| e.to_string());
    pipeline.stages.summary.source = counts;
    let summary = pipeline.stages.finish_stats(sink, truncated, message)?;
    Ok(match failure {
        Some(e) => RunEnd::Failed(summary, e),
        None => RunEnd::Complete(summary),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::HttpTransaction;

    /// A recorder for a sink that wants app events but no packets, and what it hands over
    /// (room for 8 batches; no emptied batch ever comes back).
    fn recorder_for_events() -> (Recorder, mpsc::Receiver<Batch>) {
        let (tx, rx) = mpsc::sync_channel::<Batch>(8);
        let (_, free) = mpsc::channel::<Batch>();
        let rec = Recorder {
            batch: Batch::default(),
            tx,
            free,
            packets: false,
            events: true,
            returned: Vec::new(),
        };
        (rec, rx)
    }

    /// A sink that wants no packets still gets its batches handed over while events
    /// arrive (a keep-alive connection's transactions, no connection ending): the batch
    /// being filled never holds more than [`BATCH_CALLS`] calls.
    #[test]
    fn batches_of_events_alone_are_handed_over() {
        let (mut rec, rx) = recorder_for_events();
        for _ in 0..3 * BATCH_CALLS + 7 {
            let mut sink = FrameRecorder {
                rec: &mut rec,
                chunk: None,
            };
            let event = AppEvent::Http(HttpTransaction::default());
            sink.take_app_event(event).unwrap();
            rec.hand_over(false).unwrap();
            assert!(rec.batch.calls.len() < BATCH_CALLS);
        }
        let sent: Vec<Batch> = rx.try_iter().collect();
        assert_eq!(sent.len(), 3);
        assert!(sent.iter().all(|b| b.events.len() == BATCH_CALLS));
        assert_eq!(rec.batch.events.len(), 7);
    }

    /// A list of ended connections the batch has no room left for (an expiry, the end of
    /// input) goes whole into the next batch, after the one that held the earlier ones;
    /// a small list joins the batch being filled.
    #[test]
    fn a_burst_of_ended_connections_starts_a_batch() {
        use crate::flow::{ConnSummary, Proto};
        let ended_conn = |id| {
            let mut summary = ConnSummary::example(
                Proto::Tcp,
                "10.0.0.1:1000".parse().unwrap(),
                "10.0.0.2:80".parse().unwrap(),
            );
            summary.id = id;
            Ended {
                summary,
                state: ConnApp::default(),
            }
        };
        let (mut rec, rx) = recorder_for_events();
        let mut sink = FrameRecorder {
            rec: &mut rec,
            chunk: None,
        };
        let mut list = vec![ended_conn(0)];
        sink.take_conn_ends(&mut list).unwrap();
        let mut list = vec![ended_conn(1), ended_conn(2)];
        sink.take_conn_ends(&mut list).unwrap();
        assert!(list.is_empty());
        assert_eq!(sink.rec.batch.ended.len(), 3);
        let mut list: Vec<_> = (3..3 + BATCH_ENDED as u64).map(ended_conn).collect();
        sink.take_conn_ends(&mut list).unwrap();
        assert!(list.is_empty());
        let sent: Vec<Batch> = rx.try_iter().collect();
        assert_eq!(sent.len(), 1);
        let ids = |b: &Batch| b.ended.iter().map(|e| e.summary.id).collect::<Vec<_>>();
        assert_eq!((ids(&sent[0]), sent[0].calls.len()), (vec![0, 1, 2], 3));
        let burst: Vec<u64> = (3..3 + BATCH_ENDED as u64).collect();
        assert_eq!(ids(&rec.batch), burst);
        assert_eq!(rec.batch.calls.len(), BATCH_ENDED);
    }
}
