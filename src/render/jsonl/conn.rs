//! The `conn` record: one per flow, after the packets, in id order ([`conn_fields`] lists
//! its fields in output order).

use super::writer::{put_in_place, EndpointText, Ms, Name, NsAsMs, Put, StatePair, Str, Value};
use crate::app::AppConnStats;
use crate::flow::{ConnSummary, Direction};
use std::io;

/// The `conn` record's fields, in output order (without the trailing newline).
/// (Inlined into the one place that writes it, so that the writer's position stays in a
/// register.)
#[inline(always)]
pub(super) fn conn_fields(
    o: &mut Put<'_>,
    conn: &ConnSummary,
    app: &AppConnStats,
    memo: &mut ConnMemo,
) {
    o.lit(record_type!("conn"));
    o.field(key!("id"), conn.id);
    o.field(key!("proto"), Name(conn.proto.as_str()));
    o.text_field(text_key!("client"), Some(conn.client), |o, a| {
        o.endpoint_memo(a, &mut memo.client)
    });
    o.text_field(text_key!("server"), Some(conn.server), |o, a| {
        o.endpoint_memo(a, &mut memo.server)
    });
    o.field(key!("roles_guessed"), conn.roles_guessed);
    o.field(key!("first_frame"), conn.first_frame);
    o.field(key!("last_frame"), conn.last_frame);
    o.field_with(key!("start"), |o| {
        o.ts_memo(&conn.start, &mut memo.start_secs)
    });
    let duration_ns = conn.end.nanos_since(&conn.start).max(0);
    o.field(key!("duration"), Seconds(duration_ns));
    o.field(key!("packets"), &conn.packets);
    o.field(key!("bytes"), &conn.bytes);
    o.field(key!("payload"), &conn.payload);
    let hs = &conn.handshake;
    o.field_with(key!("handshake"), |o| {
        o.field(first_key!("complete"), hs.complete);
        o.list_field(list_key!("frames"), hs.frames, |o, f| o.value(f));
        o.field_with(key!("rtt_ms"), |o| {
            match (hs.syn_to_synack_ns, hs.synack_to_ack_ns) {
                (Some(a), Some(b)) => match a.checked_add(b) {
                    Some(ns) => o.fixed(ns, 6),
                    None => o.value(hs.rtt_ms().map(Ms)),
                },
                _ => o.lit(b"null"),
            }
        });
        o.end_object();
    });
    let td = &conn.teardown;
    o.field_with(key!("teardown"), |o| {
        o.field(first_key!("kind"), Name(td.kind.as_str()));
        o.field(
            key!("initiator"),
            td.initiator.map(|d| Name(initiator_name(d))),
        );
        o.list_field(list_key!("frames"), &td.frames, |o, &f| o.value(f));
        o.field(key!("description"), Str(&td.description));
        o.end_object();
    });
    o.field(key!("conn_state"), Name(conn.conn_state));
    o.field(key!("history"), Str(&conn.history));
    let parents = &conn.tunnel_parents;
    o.list_field(list_key!("tunnel_parents"), parents, |o, &c| o.value(c));
    o.field_with(key!("encapsulation"), |o| match &conn.encapsulation {
        Some(e) => o.value(Str(&e.to_string())),
        None => o.lit(b"null"),
    });
    if let Some(states) = conn.final_state {
        // As the last record's when the states are the same.
        o.field_with(key!("final_state"), |o| {
            o.memo_last(&mut memo.final_state, states, |o| o.tcp_states(states))
        });
    }
    o.field(key!("end_reason"), Name(end_reason_name(conn.end_reason)));
    o.field(key!("gap_bytes"), &conn.gap_bytes);
    o.field(key!("cut_bytes"), &conn.cut_bytes);
    o.field_with(key!("http"), |o| {
        o.field(first_key!("requests"), app.http_requests);
        o.field(key!("responses"), app.http_responses);
        o.end_object();
    });
    o.field(key!("dns"), app.dns_messages);
    let community_id = crate::flow::community_id::of_conn(conn, memo.community_id_seed);
    o.field(key!("community_id"), community_id.as_deref().map(Str));
    o.field(key!("service"), app.service.zeek_name().map(Name));
    match &conn.timing {
        // (Not a closure: `timing_fields` is inlined here.)
        Some(t) => {
            o.key(key!("timing"));
            timing_fields(o, t, conn, app);
        }
        None => o.null_field(key!("timing")),
    }
    if let Some(e) = &conn.icmp_errors {
        // Only for connections some ICMP errors quoted: how many, and the last.
        o.field_with(key!("icmp_errors"), |o| {
            o.field(first_key!("count"), e.count);
            o.field_with(key!("last"), |o| {
                let l = &e.last;
                o.field(
                    first_key!("proto"),
                    Name(if l.v6 { "icmpv6" } else { "icmp" }),
                );
                o.field(key!("type"), l.icmp_type);
                o.field(key!("code"), l.code);
                o.field(key!("name"), Name(l.name()));
                o.field(key!("frame"), l.frame);
                o.end_object();
            });
            o.end_object();
        });
    }
    o.end_object();
}

/// `conn.timing`'s fields (TCP connections): the handshake RTT, the TLS setup, the
/// request, the server's time (the wait less the handshake RTT), the transfer and what
/// limited it, with the counts behind that.
#[inline(always)]
fn timing_fields(
    o: &mut Put<'_>,
    t: &crate::flow::timing::ConnTiming,
    conn: &ConnSummary,
    app: &AppConnStats,
) {
    let rtt = conn.handshake.rtt_ns();
    let ms = |ns: Option<i64>| ns.map(NsAsMs);
    o.field(
        first_key!("handshake_ms"),
        ms(rtt.map(|v| v.min(i64::MAX as u64) as i64)),
    );
    o.field(key!("tls_ms"), ms(app.tls_setup_ns));
    o.field(key!("request_ms"), ms(t.request_ns));
    o.field(key!("wait_ms"), ms(t.wait_ns));
    o.field(key!("server_ms"), ms(t.server_ns(rtt)));
    o.field(key!("transfer_ms"), ms(t.transfer_ns));
    o.field(key!("limited_by"), t.limited_by.map(|l| Name(l.as_str())));
    o.field(key!("exchanges"), t.exchanges);
    o.field(key!("idle_ms"), NsAsMs(t.idle_ns));
    o.field(key!("response_bytes"), t.response_bytes);
    o.field_with(key!("retransmissions"), |o| {
        o.field(first_key!("fast"), t.fast_retransmissions);
        o.field(key!("other"), t.other_retransmissions);
        o.field(key!("silence_ms"), NsAsMs(t.retransmission_silence_ns));
        o.end_object();
    });
    o.field(key!("zero_windows"), t.zero_windows);
    o.field(key!("window_full"), t.window_full);
    o.field(key!("idle_restarts"), t.idle_restarts);
    o.end_object();
}

/// `teardown.initiator`: which side the direction's sender is.
fn initiator_name(d: Direction) -> &'static str {
    match d {
        Direction::ToServer => "client",
        Direction::ToClient => "server",
    }
}

/// `EndReason` as its `Debug` name (what the JSON contract shows; Parquet's `end_reason` too).
pub(crate) fn end_reason_name(r: crate::flow::EndReason) -> &'static str {
    use crate::flow::EndReason as E;
    match r {
        E::Closed => "Closed",
        E::Reset => "Reset",
        E::Idle => "Idle",
        E::EndOfInput => "EndOfInput",
        E::Evicted => "Evicted",
        E::Reused => "Reused",
    }
}

/// Nanoseconds as seconds with 6 decimals (as `{:.6}` writes them).
struct Seconds(i128);

impl Value for Seconds {
    #[inline(always)]
    fn put(self, o: &mut Put<'_>) {
        match u64::try_from(self.0) {
            Ok(ns) => o.fixed(ns, 9),
            Err(_) => long_duration(o, self.0),
        }
    }
}

/// `{:.6}` of a duration in seconds too long for a u64 of nanoseconds (apart, so that the
/// float conversion is not made for every record).
#[cold]
#[inline(never)]
fn long_duration(o: &mut Put<'_>, ns: i128) {
    o.display(format_args!("{:.6}", ns as f64 / 1e9));
}

/// One `conn` record (without the trailing newline).
pub fn conn_record(conn: &ConnSummary, app: &AppConnStats) -> io::Result<Vec<u8>> {
    let mut w = Vec::with_capacity(1024);
    put_conn_record(&mut w, conn, app, &mut ConnMemo::default());
    Ok(w)
}

/// What a `conn` record's text can take from the previous ones: connections often share
/// a server, a client address and final states.
#[derive(Default)]
pub(super) struct ConnMemo {
    /// The seed of the records' Community IDs (`--community-id-seed`, 0 by default).
    pub(super) community_id_seed: u16,
    client: Option<EndpointText>,
    server: Option<EndpointText>,
    /// The last start's whole seconds and their text.
    start_secs: Option<(i64, [u8; 20], u8)>,
    /// The last final states and their `{…}` text.
    final_state: Option<(StatePair, ([u8; 64], u8))>,
}

/// Room for a `conn` record beyond its two free-text fields (the usual record is ~800
/// bytes; a longer one is written again in a larger region).
const CONN_ROOM: usize = 1200;

/// Room for `conn`'s record.
fn room(conn: &ConnSummary) -> usize {
    CONN_ROOM + conn.history.len() + conn.teardown.description.len()
}

/// Appends one `conn` record (without the trailing newline) to `w`.
pub(super) fn put_conn_record(
    w: &mut Vec<u8>,
    conn: &ConnSummary,
    app: &AppConnStats,
    memo: &mut ConnMemo,
) {
    let start = w.len();
    let n = conn_record_at(w, start, conn, app, false, memo);
    w.truncate(start + n);
}

/// Writes one `conn` record (and a newline if `newline`) into `buf` from `at`, in place
/// (see [`put_in_place`]); returns its length.
pub(super) fn conn_record_at(
    buf: &mut Vec<u8>,
    at: usize,
    conn: &ConnSummary,
    app: &AppConnStats,
    newline: bool,
    memo: &mut ConnMemo,
) -> usize {
    // The usual record at the first try, `conn_fields` inlined where the `Put` is made
    // (its position then stays in a register); a longer one again with more room.
    let room = room(conn);
    let mut o = Put::region(buf, at, room);
    conn_fields(&mut o, conn, app, memo);
    if newline {
        o.lit(b"\n");
    }
    match o.written() {
        Some(n) => n,
        None => conn_record_again(buf, at, 2 * room, conn, app, newline, memo),
    }
}

/// [`conn_record_at`] for a record longer than its first room.
#[cold]
#[inline(never)]
fn conn_record_again(
    buf: &mut Vec<u8>,
    at: usize,
    room: usize,
    conn: &ConnSummary,
    app: &AppConnStats,
    newline: bool,
    memo: &mut ConnMemo,
) -> usize {
    put_in_place(buf, at, room, |o| {
        conn_fields(o, conn, app, memo);
        if newline {
            o.lit(b"\n");
        }
    })
}
