//! Test-only: the reference writer of the `packet` record, the record as it was written
//! through `Vec` pushes, which the production writer ([`super::packet::packet_fields`],
//! written in place) must match byte for byte (the tests compare them).

use super::reference::*;

/// `packet.tcp`'s `ack_rtt_ms`, `bytes_in_flight` and, on a packet that gave an RTT sample,
/// `rtt` (the estimators after it).
fn put_rtt_fields(w: &mut Vec<u8>, rtt: &crate::flow::rtt::SegmentRtt) {
    w.extend_from_slice(b",\"ack_rtt_ms\":");
    if rtt.ack_rtt_ns != 0 {
        put_ns_ms(w, rtt.ack_rtt_ns);
    } else {
        w.extend_from_slice(b"null");
    }
    w.extend_from_slice(b",\"bytes_in_flight\":");
    put_opt_u64(
        w,
        (rtt.bytes_in_flight != 0).then_some(u64::from(rtt.bytes_in_flight)),
    );
    if let Some(e) = &rtt.estimate {
        w.extend_from_slice(b",\"rtt\":{\"measured\":");
        match e.measured {
            Some(d) => put_name(w, d.as_str()),
            None => w.extend_from_slice(b"null"),
        }
        w.extend_from_slice(b",\"sample_ms\":");
        put_f64_ns_ms(w, Some(e.sample_ns));
        w.extend_from_slice(if e.karn_skipped {
            b",\"karn_skipped\":true,\"srtt_ms\":"
        } else {
            b",\"karn_skipped\":false,\"srtt_ms\":"
        });
        put_f64_ns_ms(w, e.srtt_ns);
        w.extend_from_slice(b",\"rttvar_ms\":");
        put_f64_ns_ms(w, e.rttvar_ns);
        w.extend_from_slice(b",\"rto_ms\":");
        put_f64_ns_ms(w, e.rto_ns);
        w.extend_from_slice(b",\"estimated_rtt_ms\":");
        put_f64_ns_ms(w, Some(e.estimated_ns));
        w.extend_from_slice(b",\"dev_rtt_ms\":");
        put_f64_ns_ms(w, Some(e.dev_ns));
        w.extend_from_slice(b",\"timeout_interval_ms\":");
        put_f64_ns_ms(w, Some(e.timeout_ns));
        w.push(b'}');
    }
}

/// `,"first_fragment":{…}` of a packet that is the first fragment of a datagram it did not
/// complete: the transport header read from it alone (written only on such frames).
fn first_fragment_json(f: &crate::decode::FirstFragment) -> arrayvec::ArrayVec<u8, 256> {
    let mut a = arrayvec::ArrayVec::new();
    // At most ~210 bytes (every flag, every number at its widest): the buffer holds them.
    let _ = write!(
        a,
        ",\"first_fragment\":{{\"proto\":\"{}\",\"src_port\":{},\"dst_port\":{},\"len\":{}",
        f.protocol_name(),
        f.src_port,
        f.dst_port,
        f.len
    );
    if let Some(t) = f.tcp {
        let _ = write!(a, ",\"seq\":{},\"ack\":{},\"flags\":[", t.seq, t.ack);
        let set = crate::decode::TcpFlags::NAMES
            .iter()
            .filter(|(_, bit)| t.flags & bit != 0);
        for (i, (name, _)) in set.enumerate() {
            let _ = write!(a, "{}\"{name}\"", if i > 0 { "," } else { "" });
        }
        let _ = a.write_all(b"]");
    }
    let _ = a.write_all(b",\"reassembled\":false}");
    a
}

/// The `packet` record as it was written through `Vec` pushes (the reference for
/// `packet_fields`).
pub(super) fn write_packet(
    w: &mut Vec<u8>,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
) -> io::Result<()> {
    w.extend_from_slice(b"{\"type\":\"packet\",\"frame\":");
    put_u64(w, frame.number);
    w.extend_from_slice(b",\"ts\":");
    put_ts(w, &frame.ts);
    w.extend_from_slice(b",\"len\":");
    put_u64(w, u64::from(frame.orig_len));
    w.extend_from_slice(b",\"caplen\":");
    put_u64(w, frame.data.len() as u64);
    w.extend_from_slice(b",\"interface\":");
    put_u64(w, u64::from(frame.interface));
    w.extend_from_slice(b",\"link\":");
    put_name(w, frame.link.name());
    w.extend_from_slice(b",\"layers\":[");
    for (i, layer) in packet.layers.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        w.extend_from_slice(b"{\"osi\":");
        put_u64(w, u64::from(layer.osi().number()));
        w.extend_from_slice(b",\"name\":");
        put_name(w, layer.name.as_str());
        w.extend_from_slice(b",\"offset\":");
        put_u64(w, u64::from(layer.offset));
        w.extend_from_slice(b",\"len\":");
        put_u64(w, u64::from(layer.len));
        w.push(b'}');
    }
    w.extend_from_slice(b"],\"src\":");
    let ends = Endpoints::of(packet);
    match &ends {
        Some(e) => {
            w.push(b'"');
            write_endpoint(w, e.src, e.src_port)?;
            w.extend_from_slice(b"\",\"dst\":\"");
            write_endpoint(w, e.dst, e.dst_port)?;
            w.push(b'"');
        }
        None => w.extend_from_slice(b"null,\"dst\":null"),
    }
    w.extend_from_slice(b",\"conn\":");
    put_opt_u64(w, flow.conn);
    w.extend_from_slice(b",\"outer_conns\":");
    put_list(w, flow.outer_conns.iter(), |w, c| {
        put_u64(w, *c);
    });
    if let Some((c, _)) = flow.quoted_conn {
        w.extend_from_slice(b",\"quoted_conn\":");
        put_u64(w, c);
    }
    if let Some(f) = &packet.first_fragment {
        w.extend_from_slice(&first_fragment_json(f));
    }
    w.extend_from_slice(&crate::render::app_frames::app_frames_json(
        &packet.app_frames,
    ));
    w.extend_from_slice(b",\"dir\":");
    match flow.dir {
        Some(d) => put_name(w, d.as_str()),
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"tcp\":");
    match packet.tcp() {
        Some(tcp) => {
            w.extend_from_slice(b"{\"flags\":");
            put_list(w, tcp.flags.names(), put_name);
            let ack_abs = if tcp.flags.ack() { tcp.ack } else { 0 };
            w.extend_from_slice(b",\"seq\":");
            put_u64(w, u64::from(flow.rel_seq.unwrap_or(tcp.seq)));
            w.extend_from_slice(b",\"ack\":");
            put_u64(w, u64::from(flow.rel_ack.unwrap_or(ack_abs)));
            w.extend_from_slice(b",\"len\":");
            put_u64(w, u64::from(tcp.payload_len));
            w.extend_from_slice(b",\"win\":");
            put_u64(w, u64::from(tcp.window));
            w.extend_from_slice(b",\"seq_abs\":");
            put_u64(w, u64::from(tcp.seq));
            w.extend_from_slice(b",\"ack_abs\":");
            put_u64(w, u64::from(ack_abs));
            if let Some(win) = flow.window_scaled {
                w.extend_from_slice(b",\"win_scaled\":");
                put_u64(w, win);
            }
            put_rtt_fields(w, &flow.rtt);
            w.push(b'}');
        }
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"step\":");
    match flow.step {
        Some(s) => json_str(w, s.label())?,
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"state\":");
    match flow.state {
        Some((c, s)) => {
            w.extend_from_slice(b"{\"client\":");
            put_name(w, c.as_str());
            w.extend_from_slice(b",\"server\":");
            put_name(w, s.as_str());
            w.push(b'}');
        }
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b",\"analysis\":");
    put_list(w, flow.analysis.names(), put_name);
    if flow.analysis.has(crate::flow::AnalysisFlags::DUPLICATE_ACK) {
        w.extend_from_slice(b",\"dup_ack\":");
        put_u64(w, u64::from(flow.dup_ack_num));
    }
    if let Some(note) = &flow.note {
        w.extend_from_slice(b",\"note\":");
        json_str(w, note)?;
    }
    w.extend_from_slice(b",\"issue\":");
    match &packet.issue {
        Some(issue) => {
            write!(
                w,
                "{{\"layer\":\"{}\",\"offset\":{},\"message\":",
                issue.layer, issue.offset
            )?;
            // The message is built from numbers and our own words; still JSON-escape it.
            json_str(w, &issue.to_string())?;
            w.push(b'}');
        }
        None => w.extend_from_slice(b"null"),
    }
    w.extend_from_slice(b"}\n");
    Ok(())
}
