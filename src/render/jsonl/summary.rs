//! The `summary` record: the last line ([`summary_fields`] lists its fields in output
//! order).

use super::writer::{Name, Put, Str};
use crate::pipeline::RunSummary;

/// The `summary` record's fields, in output order.
pub(super) fn summary_fields(o: &mut Put<'_>, s: &RunSummary) {
    o.lit(record_type!("summary"));
    o.field(key!("frames"), s.frames);
    o.field(key!("filtered_out"), s.filtered_out);
    o.field(key!("conns"), s.conns);
    o.field(key!("decode_issues"), s.decode_issues);
    o.field(key!("evicted_flows"), s.evicted_flows);
    o.field(key!("reassembly_cut_bytes"), s.reassembly_cut_bytes);
    o.field(key!("fragments_evicted"), s.fragments_evicted);
    o.field(key!("nesting_cut"), s.nesting_cut);
    o.field(key!("http_heads_too_large"), s.http_heads_too_large);
    o.field(key!("bad_records_skipped"), s.bad_records_skipped);
    o.field(key!("records_over_snaplen"), s.source.over_snaplen);
    o.field(key!("pcapng_other_blocks"), s.source.other_blocks);
    o.field(key!("truncated"), s.truncated.is_some());
    o.field(key!("error"), s.error.as_deref().map(Str));
    let tls = &s.tls;
    let q = &tls.quic;
    let quic_packets = q.opened + q.not_opened + q.no_key;
    if tls.decrypted_records + tls.decrypt_failures + tls.records_cut + tls.no_key + quic_packets
        > 0
    {
        o.field_with(key!("tls_decryption"), |o| {
            o.field(first_key!("records_opened"), tls.decrypted_records);
            o.field(key!("records_not_opened"), tls.decrypt_failures);
            o.field(key!("conns_without_key"), tls.no_key + q.no_key);
            o.field(key!("records_cut"), tls.records_cut);
            // QUIC Handshake and 1-RTT packets, their streams and HTTP/3 (added fields).
            if quic_packets > 0 {
                o.field(key!("quic_packets_opened"), q.opened);
                o.field(key!("quic_packets_not_opened"), q.not_opened);
                o.field(key!("quic_stream_bytes_cut"), q.streams.cut_bytes);
                o.field(
                    key!("http3_streams_cut"),
                    q.http3.streams_cut + q.streams.streams_cut,
                );
                o.field(key!("http3_frames_cut"), q.http3.frames_cut);
                o.field(key!("qpack_cut"), q.http3.qpack_cut);
                o.field(key!("qpack_blocked_cut"), q.http3.qpack_blocked_cut);
            }
            o.end_object();
        });
    }
    if let Some(t) = &s.truncated {
        o.field_with(key!("truncation"), |o| {
            o.field(first_key!("last_frame"), t.last_frame);
            o.field(key!("offset"), t.offset);
            o.field(key!("needed"), t.needed);
            o.field(key!("had"), t.had);
            o.end_object();
        });
    }
    // Only when some were (as `truncation`): most runs never fill the tombstones.
    let some = |n: u64| (n > 0).then_some(n);
    o.field_if(key!("tombstones_evicted"), some(s.tombstones_evicted));
    o.field_if(key!("tunnel_parents_cut"), some(s.tunnel_parents_cut));
    o.field_if(key!("lingers_cut"), some(s.lingers_cut));
    o.field_if(key!("fcs_stripped"), some(s.fcs_stripped));
    o.field_if(
        key!("first_fragments_given_up"),
        some(s.first_fragments_given_up),
    );
    // What the caps inside TLS, HTTP/2 and QUIC cut (added fields, only when some were).
    for (name, n) in inner_caps_cut(s) {
        if n > 0 {
            o.lit(b",");
            o.value(Name(name));
            o.lit(b":");
            o.value(n);
        }
    }
    o.end_record();
}

/// The counters of the caps inside TLS, HTTP/2 and QUIC, by their JSON summary names.
pub fn inner_caps_cut(s: &RunSummary) -> [(&'static str, u64); 6] {
    let h2 = &s.tls.http2;
    [
        ("tls_handshake_cut_bytes", s.tls.cut_bytes),
        ("http2_streams_cut", h2.streams_cut),
        ("http2_frames_cut", h2.frames_cut),
        ("http2_header_blocks_lost", h2.header_blocks_lost),
        ("http2_header_fields_cut", h2.header_fields_cut),
        ("quic_crypto_cut_bytes", s.quic_crypto_cut_bytes),
    ]
}
