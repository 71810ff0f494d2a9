//! The test-only reference writer of the `conn` record: the record as it was written
//! through `Vec` pushes, which the production writer ([`super::conn::conn_fields`],
//! written in place) must match byte for byte (the tests compare them).

use super::conn::end_reason_name;
use super::reference::*;

/// The `conn` record as it was written through `Vec` pushes (the reference for
/// `conn_fields`).
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
        Ok(ns) => write!(w, "{:.6}", ns as f64 / 1e9)?,
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
    w.extend_from_slice(b",\"frames\":");
    put_list(w, hs.frames.iter(), |w, f| put_opt_u64(w, *f));
    w.extend_from_slice(b",\"rtt_ms\":");
    match (hs.syn_to_synack_ns, hs.synack_to_ack_ns) {
        (Some(a), Some(b)) => match a.checked_add(b) {
            Some(ns) => write!(w, "{:.3}", ns as f64 / 1e6)?,
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
    w.extend_from_slice(b",\"frames\":");
    put_list(w, td.frames.iter(), |w, f| put_u64(w, *f));
    w.extend_from_slice(b",\"description\":");
    put_json_str(w, &td.description)?;
    w.extend_from_slice(b"},\"conn_state\":");
    put_name(w, conn.conn_state);
    w.extend_from_slice(b",\"history\":");
    put_json_str(w, &conn.history)?;
    w.extend_from_slice(b",\"tunnel_parents\":");
    put_list(w, conn.tunnel_parents.iter(), |w, c| put_u64(w, *c));
    w.extend_from_slice(b",\"encapsulation\":");
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

/// `,"icmp_errors":{…}` of a connection some ICMP errors quoted: how many, and the last's
/// type, code, name and frame (written only for such connections).
fn icmp_errors_json(e: &crate::flow::icmp_error::IcmpErrors) -> Vec<u8> {
    let l = &e.last;
    format!(
        ",\"icmp_errors\":{{\"count\":{},\"last\":{{\"proto\":\"{}\",\"type\":{},\"code\":{},\"name\":\"{}\",\"frame\":{}}}}}",
        e.count,
        if l.v6 { "icmpv6" } else { "icmp" },
        l.icmp_type,
        l.code,
        l.name(),
        l.frame
    )
    .into_bytes()
}

/// `,"timing":{…}` of a TCP connection's record (`,"timing":null` otherwise): the handshake
/// RTT, the TLS setup, the request, the server's time (the wait less the handshake RTT),
/// the transfer and what limited it, with the counts behind that.
fn timing_json(conn: &ConnSummary, app: &AppConnStats) -> Vec<u8> {
    let Some(t) = &conn.timing else {
        return b",\"timing\":null".to_vec();
    };
    let ms = |w: &mut Vec<u8>, ns: Option<i64>| match ns {
        Some(ns) => put_ns_ms(w, ns),
        None => w.extend_from_slice(b"null"),
    };
    let rtt = conn.handshake.rtt_ns();
    let mut w = Vec::with_capacity(320);
    w.extend_from_slice(b",\"timing\":{\"handshake_ms\":");
    ms(&mut w, rtt.map(|v| v.min(i64::MAX as u64) as i64));
    w.extend_from_slice(b",\"tls_ms\":");
    ms(&mut w, app.tls_setup_ns);
    w.extend_from_slice(b",\"request_ms\":");
    ms(&mut w, t.request_ns);
    w.extend_from_slice(b",\"wait_ms\":");
    ms(&mut w, t.wait_ns);
    w.extend_from_slice(b",\"server_ms\":");
    ms(&mut w, t.server_ns(rtt));
    w.extend_from_slice(b",\"transfer_ms\":");
    ms(&mut w, t.transfer_ns);
    w.extend_from_slice(b",\"limited_by\":");
    match t.limited_by {
        Some(l) => put_name(&mut w, l.as_str()),
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"exchanges\":");
    put_u64(&mut w, u64::from(t.exchanges));
    w.extend_from_slice(b",\"idle_ms\":");
    put_ns_ms(&mut w, t.idle_ns);
    w.extend_from_slice(b",\"response_bytes\":");
    put_u64(&mut w, t.response_bytes);
    w.extend_from_slice(b",\"retransmissions\":{\"fast\":");
    put_u64(&mut w, u64::from(t.fast_retransmissions));
    w.extend_from_slice(b",\"other\":");
    put_u64(&mut w, u64::from(t.other_retransmissions));
    w.extend_from_slice(b",\"silence_ms\":");
    put_ns_ms(&mut w, t.retransmission_silence_ns);
    w.extend_from_slice(b"},\"zero_windows\":");
    put_u64(&mut w, u64::from(t.zero_windows));
    w.extend_from_slice(b",\"window_full\":");
    put_u64(&mut w, u64::from(t.window_full));
    w.extend_from_slice(b",\"idle_restarts\":");
    put_u64(&mut w, u64::from(t.idle_restarts));
    w.push(b'}');
    w
}
