//! The test-only reference writer of the `conn` record: the record as it was written
//! through `Vec` pushes, which the production writer ([`super::put_conn_record`], written
//! in place) must match byte for byte (the tests compare them).

use super::*;

fn put_per_dir(buf: &mut Vec<u8>, p: &crate::flow::PerDir) {
    buf.extend_from_slice(b"{\"to_server\":");
    put_u64(buf, p.to_server);
    buf.extend_from_slice(b",\"to_client\":");
    put_u64(buf, p.to_client);
    buf.push(b'}');
}

fn put_bool(buf: &mut Vec<u8>, v: bool) {
    buf.extend_from_slice(if v { b"true" } else { b"false" });
}

/// `EndReason` as its `Debug` name (what the JSON contract shows).
pub(super) fn end_reason_name(r: crate::flow::EndReason) -> &'static str {
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

/// The `conn` record as it was written through `Vec` pushes (the reference for
/// [`put_conn_record`]).
pub(super) fn put_conn_record_reference(
    w: &mut Vec<u8>,
    conn: &ConnSummary,
    app: &AppConnStats,
) -> io::Result<()> {
    w.extend_from_slice(b"{\"type\":\"conn\",\"id\":");
    put_u64(w, conn.id);
    w.extend_from_slice(b",\"proto\":");
    put_name(w, conn.proto.as_str());
    w.extend_from_slice(b",\"client\":\"");
    write_endpoint(w, conn.client.ip(), Some(conn.client.port()))?;
    w.extend_from_slice(b"\",\"server\":\"");
    write_endpoint(w, conn.server.ip(), Some(conn.server.port()))?;
    w.extend_from_slice(b"\",\"roles_guessed\":");
    put_bool(w, conn.roles_guessed);
    w.extend_from_slice(b",\"first_frame\":");
    put_u64(w, conn.first_frame);
    w.extend_from_slice(b",\"last_frame\":");
    put_u64(w, conn.last_frame);
    w.extend_from_slice(b",\"start\":");
    put_ts(w, &conn.start);
    w.extend_from_slice(b",\"duration\":");
    let duration_ns = conn.end.nanos_since(&conn.start).max(0);
    match u64::try_from(duration_ns) {
        Ok(ns) => put_fixed(w, ns, 9)?,
        Err(_) => write!(w, "{:.6}", duration_ns as f64 / 1e9)?,
    }
    w.extend_from_slice(b",\"packets\":");
    put_per_dir(w, &conn.packets);
    w.extend_from_slice(b",\"bytes\":");
    put_per_dir(w, &conn.bytes);
    w.extend_from_slice(b",\"payload\":");
    put_per_dir(w, &conn.payload);
    let hs = &conn.handshake;
    w.extend_from_slice(b",\"handshake\":{\"complete\":");
    put_bool(w, hs.complete);
    w.extend_from_slice(b",\"frames\":[");
    for (i, f) in hs.frames.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        put_opt_u64(w, *f);
    }
    w.extend_from_slice(b"],\"rtt_ms\":");
    match (hs.syn_to_synack_ns, hs.synack_to_ack_ns) {
        (Some(a), Some(b)) => match a.checked_add(b) {
            Some(ns) => put_fixed(w, ns, 6)?,
            None => opt_f64(w, hs.rtt_ms())?,
        },
        _ => w.extend_from_slice(b"null"),
    }
    let td = &conn.teardown;
    w.extend_from_slice(b"},\"teardown\":{\"kind\":");
    put_name(w, td.kind.as_str());
    w.extend_from_slice(b",\"initiator\":");
    match td.initiator {
        Some(crate::flow::Direction::ToServer) => put_name(w, "client"),
        Some(crate::flow::Direction::ToClient) => put_name(w, "server"),
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"frames\":[");
    for (i, f) in td.frames.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        put_u64(w, *f);
    }
    w.extend_from_slice(b"],\"description\":");
    put_json_str(w, &td.description)?;
    w.extend_from_slice(b"},\"conn_state\":");
    put_name(w, conn.conn_state);
    w.extend_from_slice(b",\"history\":");
    put_json_str(w, &conn.history)?;
    w.extend_from_slice(b",\"tunnel_parents\":[");
    for (i, c) in conn.tunnel_parents.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        put_u64(w, *c);
    }
    w.extend_from_slice(b"],\"encapsulation\":");
    match &conn.encapsulation {
        Some(e) => put_json_str(w, &e.to_string())?,
        None => w.extend_from_slice(b"null"),
    }
    if let Some((c, s)) = conn.final_state {
        w.extend_from_slice(b",\"final_state\":{\"client\":");
        put_name(w, c.as_str());
        w.extend_from_slice(b",\"server\":");
        put_name(w, s.as_str());
        w.push(b'}');
    }
    w.extend_from_slice(b",\"end_reason\":");
    put_name(w, end_reason_name(conn.end_reason));
    w.extend_from_slice(b",\"gap_bytes\":");
    put_per_dir(w, &conn.gap_bytes);
    w.extend_from_slice(b",\"cut_bytes\":");
    put_per_dir(w, &conn.cut_bytes);
    w.extend_from_slice(b",\"http\":{\"requests\":");
    put_u64(w, app.http_requests);
    w.extend_from_slice(b",\"responses\":");
    put_u64(w, app.http_responses);
    w.extend_from_slice(b"},\"dns\":");
    put_u64(w, app.dns_messages);
    w.extend_from_slice(b",\"community_id\":");
    match crate::flow::community_id::of_conn(conn, 0) {
        Some(id) => put_json_str(w, &id)?,
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"service\":");
    match app.service.zeek_name() {
        Some(name) => put_name(w, name),
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(&timing_json(conn, app));
    if let Some(e) = &conn.icmp_errors {
        w.extend_from_slice(&icmp_errors_json(e));
    }
    w.push(b'}');
    Ok(())
}
