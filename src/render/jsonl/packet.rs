//! The `packet` record: one per frame, in input order ([`packet_fields`] lists its fields
//! in output order).

use super::super::text::Endpoints;
use super::writer::{put_in_place, table, EndpointText, F64NsAsMs, Name, NsAsMs, Put, Str};
use crate::capture::RawFrame;
use crate::decode::DecodedPacket;
use crate::flow::PacketFlow;

/// The `packet` record's fields, in output order.
/// (Inlined into the one place that writes it, so that the writer's position stays in a
/// register.)
#[inline(always)]
pub(super) fn packet_fields(
    o: &mut Put<'_>,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    memo: &mut PacketMemo,
) {
    o.lit(record_type!("packet"));
    o.field(key!("frame"), frame.number);
    o.field_with(key!("ts"), |o| o.ts_memo(&frame.ts, &mut memo.secs));
    o.field(key!("len"), frame.orig_len);
    o.field(key!("caplen"), frame.data.len() as u64);
    // `,"file":"…"`, made once per input file (only when several are read as one).
    if let Some(file) = memo.files.get(frame.file as usize) {
        o.bytes(file);
    }
    // `interface` and `link` as for the last packet when its interface and link name (a
    // static string: same address, same text) are the same.
    let link = frame.link.name();
    let link_key = (frame.interface, link.as_ptr() as usize, link.len());
    o.memo_last(&mut memo.link, link_key, |o| {
        o.field(key!("interface"), frame.interface);
        o.field(key!("link"), Name(link));
    });
    // (A loop rather than `list_field`'s closure: `layer_fields` is inlined here.)
    o.key(list_key!("layers"));
    for (i, layer) in packet.layers.iter().enumerate() {
        o.comma_if(i > 0);
        layer_fields(o, layer, &mut memo.layers);
    }
    o.lit(b"]");
    let ends = Endpoints::of(packet);
    o.text_field(text_key!("src"), ends.as_ref(), |o, e| {
        o.endpoint_of(e.src, e.src_port, memo)
    });
    o.text_field(text_key!("dst"), ends.as_ref(), |o, e| {
        o.endpoint_of(e.dst, e.dst_port, memo)
    });
    o.field(key!("conn"), flow.conn);
    o.list_field(list_key!("outer_conns"), &flow.outer_conns, |o, &c| {
        o.value(c)
    });
    o.field_if(key!("quoted_conn"), flow.quoted_conn.map(|(c, _)| c));
    if let Some(f) = &packet.first_fragment {
        o.field_with(key!("first_fragment"), |o| first_fragment_fields(o, f));
    }
    // The HTTP/2 and HTTP/3 frames the packet carried (added fields, only where there are).
    let frames = &packet.app_frames;
    if !frames.is_empty() {
        o.list_field(list_key!("app_frames"), frames.frames(), |o, f| {
            o.field(first_key!("type"), Name(frames.name(f)));
            o.field(key!("type_id"), f.kind);
            o.field(key!("stream"), f.stream);
            o.end_object();
        });
        o.field(key!("app_frames_more"), frames.more());
    }
    o.field(key!("dir"), flow.dir);
    match packet.tcp() {
        // (Not a closure: `tcp_fields` is inlined here.)
        Some(tcp) => {
            o.key(key!("tcp"));
            tcp_fields(o, tcp, flow, memo);
        }
        None => o.null_field(key!("tcp")),
    }
    o.field(key!("step"), flow.step.map(|s| Str(s.label())));
    o.field_or_null(key!("state"), flow.state, |o, (c, s)| {
        // Made once per pair of states. (A state past the 16 the key has room for is
        // written without the table.)
        let key = if (c as usize) < 16 && (s as usize) < 16 {
            c as usize * 16 + s as usize
        } else {
            usize::MAX
        };
        o.memo(table(&mut memo.states, 256), key, |o| o.tcp_states((c, s)));
    });
    let analysis = &crate::flow::AnalysisFlags::NAMES;
    o.flags_field(list_key!("analysis"), analysis, flow.analysis.0);
    o.field_if(
        key!("dup_ack"),
        flow.analysis
            .has(crate::flow::AnalysisFlags::DUPLICATE_ACK)
            .then_some(flow.dup_ack_num),
    );
    o.field_if(key!("note"), flow.note.as_deref().map(Str));
    o.field_or_null(key!("issue"), packet.issue.as_ref(), |o, issue| {
        o.field(first_key!("layer"), Name(issue.layer));
        o.field(key!("offset"), issue.offset);
        // The message is built from numbers and our own words; still JSON-escaped.
        o.field(key!("message"), Str(&issue.to_string()));
        o.end_object();
    });
    o.end_record();
}

/// A `packet.layers` item's fields, in output order.
#[inline(always)]
fn layer_fields(o: &mut Put<'_>, layer: &crate::decode::Layer, memo: &mut LayerMemo) {
    // `{"osi":N,"name":"…"` depends on the name only.
    o.memo(memo, layer.name as usize, |o| {
        o.field(first_key!("osi"), layer.osi().number());
        o.field(key!("name"), Name(layer.name.as_str()));
    });
    o.field(key!("offset"), layer.offset);
    o.field(key!("len"), layer.len);
    o.end_object();
}

/// `packet.tcp`'s fields, in output order.
#[inline(always)]
fn tcp_fields(
    o: &mut Put<'_>,
    tcp: &crate::decode::TcpInfo,
    flow: &PacketFlow,
    memo: &mut PacketMemo,
) {
    // `{"flags":[…]` depends on the flags only: made once per set of flags.
    let flags = usize::from(tcp.flags.0 & TCP_FLAG_BITS);
    o.memo(table(&mut memo.flags, 512), flags, |o| {
        o.flags_field(
            make_key!("{", "flags", "["),
            &crate::decode::TcpFlags::NAMES,
            tcp.flags.0,
        );
    });
    let ack_abs = if tcp.flags.ack() { tcp.ack } else { 0 };
    o.field(key!("seq"), flow.rel_seq.unwrap_or(tcp.seq));
    o.field(key!("ack"), flow.rel_ack.unwrap_or(ack_abs));
    o.field(key!("len"), tcp.payload_len);
    o.field(key!("win"), tcp.window);
    o.field(key!("seq_abs"), tcp.seq);
    o.field(key!("ack_abs"), ack_abs);
    o.field_if(key!("win_scaled"), flow.window_scaled);
    let rtt = &flow.rtt;
    o.field(
        key!("ack_rtt_ms"),
        (rtt.ack_rtt_ns != 0).then_some(NsAsMs(rtt.ack_rtt_ns)),
    );
    o.field(
        key!("bytes_in_flight"),
        (rtt.bytes_in_flight != 0).then_some(rtt.bytes_in_flight),
    );
    if let Some(e) = &rtt.estimate {
        // On a packet that gave an RTT sample: the estimators after it.
        o.field_with(key!("rtt"), |o| {
            o.field(first_key!("measured"), e.measured);
            o.field(key!("sample_ms"), F64NsAsMs(e.sample_ns));
            o.field(key!("karn_skipped"), e.karn_skipped);
            o.field(key!("srtt_ms"), e.srtt_ns.map(F64NsAsMs));
            o.field(key!("rttvar_ms"), e.rttvar_ns.map(F64NsAsMs));
            o.field(key!("rto_ms"), e.rto_ns.map(F64NsAsMs));
            o.field(key!("estimated_rtt_ms"), F64NsAsMs(e.estimated_ns));
            o.field(key!("dev_rtt_ms"), F64NsAsMs(e.dev_ns));
            o.field(key!("timeout_interval_ms"), F64NsAsMs(e.timeout_ns));
            o.end_object();
        });
    }
    o.end_object();
}

/// `packet.first_fragment`'s fields (on a packet that is the first fragment of a datagram
/// it did not complete: the transport header read from it alone).
fn first_fragment_fields(o: &mut Put<'_>, f: &crate::decode::FirstFragment) {
    o.field(first_key!("proto"), Name(f.protocol_name()));
    o.field(key!("src_port"), f.src_port);
    o.field(key!("dst_port"), f.dst_port);
    o.field(key!("len"), f.len);
    if let Some(t) = f.tcp {
        o.field(key!("seq"), t.seq);
        o.field(key!("ack"), t.ack);
        o.flags_field(list_key!("flags"), &crate::decode::TcpFlags::NAMES, t.flags);
    }
    o.field(key!("reassembled"), false);
    o.end_object();
}

/// The last addresses written in `packet` records and their text (two: a conversation's
/// ends alternate), the last timestamp's whole seconds, and text made once per layer name,
/// set of TCP flags, pair of TCP states, link and input file.
#[derive(Default)]
pub(super) struct PacketMemo {
    ends: [Option<EndpointText>; 2],
    /// Which of `ends` to replace next.
    next: usize,
    secs: Option<(i64, [u8; 20], u8)>,
    /// `{"osi":N,"name":"…"` per layer name, made when first met.
    layers: LayerMemo,
    /// `{"flags":[…]` per set of TCP flags (the bits of `TcpFlags::NAMES`), made when
    /// first met (at most 512).
    flags: Vec<Option<([u8; 96], u8)>>,
    /// `{"client":…,"server":…}` per pair of TCP states, made when first met.
    states: Vec<Option<([u8; 64], u8)>>,
    /// `,"interface":N,"link":"…"` of the last packet, with its interface and link name's
    /// address and length.
    link: Option<(LinkKey, ([u8; 48], u8))>,
    /// `,"file":"…"` per input file, when several are read as one capture (else empty:
    /// records have no `file`).
    pub(super) files: Vec<Vec<u8>>,
}

/// `{"osi":N,"name":"…"` per layer name.
type LayerMemo = [Option<([u8; 48], u8)>; 32];

/// A packet's interface and its link name's address and length.
type LinkKey = (u32, usize, usize);

/// The bits of `TcpFlags::NAMES` (what the JSON flags list shows).
const TCP_FLAG_BITS: u16 = {
    let mut bits = 0;
    let mut i = 0;
    while i < crate::decode::TcpFlags::NAMES.len() {
        bits |= crate::decode::TcpFlags::NAMES[i].1;
        i += 1;
    }
    bits
};

/// Room for a `packet` record beyond its layers and note (the usual record is ~600 bytes;
/// a longer one is written again in a larger region).
const PACKET_ROOM: usize = 1536;

/// Writes one `packet` record (with its newline) into `buf` from `at`, in place (see
/// [`put_in_place`]); returns its length.
pub(super) fn packet_record_at(
    buf: &mut Vec<u8>,
    at: usize,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    memo: &mut PacketMemo,
) -> usize {
    let file = memo.files.get(frame.file as usize).map_or(0, Vec::len);
    let room =
        PACKET_ROOM + 64 * packet.layers.len() + flow.note.as_ref().map_or(0, String::len) + file;
    // The usual record at the first try, `packet_fields` inlined where the `Put` is made
    // (its position then stays in a register); a longer one again with more room.
    let mut o = Put::region(buf, at, room);
    packet_fields(&mut o, frame, packet, flow, memo);
    match o.written() {
        Some(n) => n,
        None => packet_record_again(buf, at, 2 * room, frame, packet, flow, memo),
    }
}

/// [`packet_record_at`] for a record longer than its first room.
#[cold]
#[inline(never)]
fn packet_record_again(
    buf: &mut Vec<u8>,
    at: usize,
    room: usize,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    memo: &mut PacketMemo,
) -> usize {
    put_in_place(buf, at, room, |o| {
        packet_fields(o, frame, packet, flow, memo)
    })
}

impl Put<'_> {
    /// An address (and port) as [`write_endpoint`](super::super::text::write_endpoint)
    /// writes it, IPv4 text taken from `memo` when it holds the address.
    fn endpoint_of(&mut self, ip: std::net::IpAddr, port: Option<u16>, memo: &mut PacketMemo) {
        match ip {
            std::net::IpAddr::V4(v4) => {
                let slot = match &memo.ends {
                    [Some(m), _] if m.ip() == v4 => 0,
                    [_, Some(m)] if m.ip() == v4 => 1,
                    _ => {
                        let slot = memo.next;
                        memo.next = 1 - slot;
                        if let Some(e) = memo.ends.get_mut(slot) {
                            *e = Some(EndpointText::new(v4));
                        }
                        slot
                    }
                };
                if let Some(Some(m)) = memo.ends.get_mut(slot) {
                    self.v4_endpoint(m, port);
                }
            }
            ip => self.endpoint(ip, port),
        }
    }
}
