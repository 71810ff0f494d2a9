//! Test-only: the reference writers of the `http`, `dns`, `tls`, `quic` and `summary`
//! records, as they were written with `core::fmt` and serde_json, which the production
//! writers (one file per record type, written in place) must match byte for byte (the tests
//! compare them).

use super::reference::*;
use super::summary::inner_caps_cut;
use crate::app::{
    tls_alert_level_name, tls_alert_name, tls_cipher_name, tls_group_name, tls_handshake_name,
    tls_version_name, QuicPacketKind, TlsKind,
};

/// The `http` record as it was written with `core::fmt` and serde_json.
pub(super) fn write_http<W: Write>(w: &mut W, t: &HttpTransaction) -> io::Result<()> {
    write!(
        w,
        "{{\"type\":\"http\",\"conn\":{},\"index\":{},\"request_frame\":",
        t.conn, t.index
    )?;
    opt_u64(w, t.request_frame)?;
    w.write_all(b",\"response_frame\":")?;
    opt_u64(w, t.response_frame)?;
    w.write_all(b",\"method\":")?;
    opt_str(w, t.method.as_deref())?;
    w.write_all(b",\"uri\":")?;
    opt_str(w, t.uri.as_deref())?;
    w.write_all(b",\"version\":")?;
    opt_str(w, t.version.as_deref())?;
    w.write_all(b",\"host\":")?;
    opt_str(w, t.host.as_deref())?;
    w.write_all(b",\"status\":")?;
    opt_u64(w, t.status.map(u64::from))?;
    w.write_all(b",\"reason\":")?;
    opt_str(w, t.reason.as_deref())?;
    w.write_all(b",\"request_body_bytes\":")?;
    opt_u64(w, t.request_body_bytes)?;
    w.write_all(b",\"response_body_bytes\":")?;
    opt_u64(w, t.response_body_bytes)?;
    w.write_all(b",\"latency_ms\":")?;
    opt_f64(w, t.latency_ms)?;
    w.write_all(b",\"request_ms\":")?;
    opt_f64(w, t.request_ms())?;
    w.write_all(b",\"server_ms\":")?;
    opt_f64(w, t.server_ms())?;
    w.write_all(b",\"transfer_ms\":")?;
    opt_f64(w, t.transfer_ms())?;
    if let Some(id) = t.stream {
        write!(w, ",\"stream\":{id}")?;
    }
    if t.decrypted {
        w.write_all(b",\"decrypted\":true")?;
    }
    if !t.notes.is_empty() {
        w.write_all(b",\"notes\":")?;
        serde_json::to_writer(&mut *w, &t.notes).map_err(io::Error::from)?;
    }
    w.write_all(b"}\n")
}

pub(super) fn write_dns<W: Write>(w: &mut W, d: &DnsMessage) -> io::Result<()> {
    write!(
        w,
        "{{\"type\":\"dns\",\"conn\":{},\"frame\":{},\"id\":{},\"response\":{},\"qname\":",
        d.conn, d.frame, d.id, d.response
    )?;
    json_str(w, &d.qname)?;
    w.write_all(b",\"qtype\":")?;
    json_str(w, &d.qtype)?;
    w.write_all(b",\"rcode\":")?;
    json_str(w, &d.rcode)?;
    w.write_all(b",\"answers\":")?;
    serde_json::to_writer(&mut *w, &d.answers).map_err(io::Error::from)?;
    w.write_all(b",\"latency_ms\":")?;
    opt_f64(w, d.latency_ms)?;
    write!(w, ",\"tcp\":{}", d.tcp)?;
    // (Added field: DNS over TLS read with a key log.)
    if d.decrypted {
        w.write_all(b",\"decrypted\":true")?;
    }
    w.write_all(b"}\n")
}

/// `{"type":"tls",…}`: the contract's fields (`handshake` is null for records that are not
/// handshake messages: alerts, ChangeCipherSpec, a direction's application-data total),
/// plus `dir`, `record` (content type), `length` and the kind-specific details.
pub(super) fn write_tls<W: Write>(w: &mut W, t: &TlsMessage) -> io::Result<()> {
    // `tls` records are handshake messages, as the contract says; alerts, ChangeCipherSpec
    // and application-data totals are `tls_record` records with the same fields.
    let (kind, record, handshake) = match t.kind {
        TlsKind::Handshake(h) => ("tls", "handshake", Some(tls_handshake_name(h))),
        TlsKind::EncryptedHandshake => ("tls", "handshake", Some("encrypted")),
        TlsKind::Alert | TlsKind::EncryptedAlert => ("tls_record", "alert", None),
        TlsKind::ChangeCipherSpec => ("tls_record", "change_cipher_spec", None),
        TlsKind::ApplicationData => ("tls_record", "application_data", None),
    };
    write!(
        w,
        "{{\"type\":\"{kind}\",\"conn\":{},\"frame\":{},\"dir\":\"{}\",\"record\":\"{record}\",\"handshake\":",
        t.conn,
        t.frame,
        t.dir.as_str()
    )?;
    match handshake {
        Some(h) => write!(w, "\"{h}\"")?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"sni\":")?;
    match &t.sni {
        Some(s) => json_str(w, s)?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"alpn\":")?;
    serde_json::to_writer(&mut *w, &t.alpn).map_err(io::Error::from)?;
    w.write_all(b",\"version\":")?;
    match t.version {
        Some(v) => json_str(w, &tls_version_name(v))?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"cipher\":")?;
    json_code(w, t.cipher, tls_cipher_name)?;
    w.write_all(b",\"curve\":")?;
    json_code(w, t.curve, tls_group_name)?;
    write!(w, ",\"resumed\":{}", t.resumed)?;
    // (Added fields: ssl.log's `sni_matches_cert`, once the server's certificate was read
    // and the client named a server; a ServerHello that is a HelloRetryRequest.)
    if let Some(b) = t.sni_matches_cert {
        write!(w, ",\"sni_matches_cert\":{b}")?;
    }
    if t.hello_retry {
        w.write_all(b",\"hello_retry\":true")?;
    }
    write!(
        w,
        ",\"record_version\":\"{}\",\"length\":{}",
        tls_version_name(t.record_version),
        t.length
    )?;
    if t.kind == TlsKind::EncryptedHandshake || t.kind == TlsKind::EncryptedAlert {
        w.write_all(b",\"encrypted\":true")?;
    }
    if !t.offered_versions.is_empty() {
        let names: Vec<String> = t
            .offered_versions
            .iter()
            .map(|&v| tls_version_name(v))
            .collect();
        w.write_all(b",\"offered_versions\":")?;
        serde_json::to_writer(&mut *w, &names).map_err(io::Error::from)?;
    }
    if !t.offered_ciphers.is_empty() {
        let names: Vec<String> = t
            .offered_ciphers
            .iter()
            .map(|&c| tls_cipher_name(c).map_or_else(|| format!("0x{c:04x}"), str::to_string))
            .collect();
        w.write_all(b",\"offered_ciphers\":")?;
        serde_json::to_writer(&mut *w, &names).map_err(io::Error::from)?;
    }
    if !t.certificates.is_empty() {
        w.write_all(b",\"certificates\":[")?;
        for (i, c) in t.certificates.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            write!(w, "{{\"len\":{},\"sha256\":\"{}\"", c.len, c.sha256_hex())?;
            for (key, value) in [
                ("subject", &c.subject),
                ("issuer", &c.issuer),
                ("not_before", &c.not_before),
                ("not_after", &c.not_after),
            ] {
                write!(w, ",\"{key}\":")?;
                match value {
                    Some(v) => json_str(w, v)?,
                    None => w.write_all(b"null")?,
                }
            }
            w.write_all(b"}")?;
        }
        w.write_all(b"]")?;
    }
    if let Some((level, desc)) = t.alert {
        write!(
            w,
            ",\"alert\":{{\"level\":\"{}\",\"description\":\"{}\"}}",
            tls_alert_level_name(level),
            tls_alert_name(desc)
        )?;
    }
    if t.kind == TlsKind::ApplicationData {
        write!(w, ",\"records\":{}", t.records)?;
        if t.decrypted_records > 0 {
            write!(w, ",\"decrypted_records\":{}", t.decrypted_records)?;
        }
    }
    if !t.notes.is_empty() {
        w.write_all(b",\"notes\":")?;
        serde_json::to_writer(&mut *w, &t.notes).map_err(io::Error::from)?;
    }
    w.write_all(b"}\n")
}

/// `{"type":"quic",…}`: one per long-header packet (not yet in the contract).
pub(super) fn write_quic<W: Write>(w: &mut W, q: &QuicPacket) -> io::Result<()> {
    let packet = match q.kind {
        QuicPacketKind::Initial => "initial",
        QuicPacketKind::ZeroRtt => "0rtt",
        QuicPacketKind::Handshake => "handshake",
        QuicPacketKind::Retry => "retry",
        QuicPacketKind::VersionNegotiation => "version_negotiation",
    };
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    write!(
        w,
        "{{\"type\":\"quic\",\"conn\":{},\"frame\":{},\"dir\":\"{}\",\"packet\":\"{packet}\",\"version\":\"0x{:08x}\",\"dcid\":\"{}\",\"scid\":\"{}\"",
        q.conn,
        q.frame,
        q.dir.as_str(),
        q.version,
        hex(&q.dcid),
        hex(&q.scid)
    )?;
    if let Some(n) = q.token_len {
        write!(w, ",\"token_len\":{n}")?;
    }
    if let Some(n) = q.length {
        write!(w, ",\"length\":{n}")?;
    }
    if q.kind == QuicPacketKind::VersionNegotiation {
        let v: Vec<String> = q
            .supported_versions
            .iter()
            .map(|v| format!("0x{v:08x}"))
            .collect();
        w.write_all(b",\"supported_versions\":")?;
        serde_json::to_writer(&mut *w, &v).map_err(io::Error::from)?;
    }
    w.write_all(b"}\n")
}

/// The `summary` record as it was written with `core::fmt`.
pub(super) fn write_summary<W: Write>(
    w: &mut W,
    s: &crate::pipeline::RunSummary,
) -> io::Result<()> {
    write!(
        w,
        "{{\"type\":\"summary\",\"frames\":{},\"filtered_out\":{},\"conns\":{},\"decode_issues\":{},\"evicted_flows\":{},\"reassembly_cut_bytes\":{},\"fragments_evicted\":{},\"nesting_cut\":{},\"http_heads_too_large\":{},\"bad_records_skipped\":{},\"records_over_snaplen\":{},\"pcapng_other_blocks\":{},\"truncated\":{},\"error\":",
        s.frames,
        s.filtered_out,
        s.conns,
        s.decode_issues,
        s.evicted_flows,
        s.reassembly_cut_bytes,
        s.fragments_evicted,
        s.nesting_cut,
        s.http_heads_too_large,
        s.bad_records_skipped,
        s.source.over_snaplen,
        s.source.other_blocks,
        s.truncated.is_some()
    )?;
    opt_str(w, s.error.as_deref())?;
    let tls = &s.tls;
    let q = &tls.quic;
    if tls.decrypted_records
        + tls.decrypt_failures
        + tls.records_cut
        + tls.no_key
        + q.opened
        + q.not_opened
        + q.no_key
        > 0
    {
        write!(
            w,
            ",\"tls_decryption\":{{\"records_opened\":{},\"records_not_opened\":{},\"conns_without_key\":{},\"records_cut\":{}",
            tls.decrypted_records,
            tls.decrypt_failures,
            tls.no_key + q.no_key,
            tls.records_cut
        )?;
        // QUIC Handshake and 1-RTT packets, their streams and HTTP/3 (added fields).
        if q.opened + q.not_opened + q.no_key > 0 {
            write!(
                w,
                ",\"quic_packets_opened\":{},\"quic_packets_not_opened\":{},\"quic_stream_bytes_cut\":{},\"http3_streams_cut\":{},\"http3_frames_cut\":{},\"qpack_cut\":{}",
                q.opened,
                q.not_opened,
                q.streams.cut_bytes,
                q.http3.streams_cut + q.streams.streams_cut,
                q.http3.frames_cut,
                q.http3.qpack_cut
            )?;
            write!(w, ",\"qpack_blocked_cut\":{}", q.http3.qpack_blocked_cut)?;
        }
        w.write_all(b"}")?;
    }
    if let Some(t) = &s.truncated {
        write!(
            w,
            ",\"truncation\":{{\"last_frame\":{},\"offset\":{},\"needed\":{},\"had\":{}}}",
            t.last_frame, t.offset, t.needed, t.had
        )?;
    }
    // Only when some were (as `truncation`): most runs never fill the tombstones.
    if s.tombstones_evicted > 0 {
        write!(w, ",\"tombstones_evicted\":{}", s.tombstones_evicted)?;
    }
    if s.tunnel_parents_cut > 0 {
        write!(w, ",\"tunnel_parents_cut\":{}", s.tunnel_parents_cut)?;
    }
    if s.lingers_cut > 0 {
        write!(w, ",\"lingers_cut\":{}", s.lingers_cut)?;
    }
    if s.fcs_stripped > 0 {
        write!(w, ",\"fcs_stripped\":{}", s.fcs_stripped)?;
    }
    if s.first_fragments_given_up > 0 {
        write!(
            w,
            ",\"first_fragments_given_up\":{}",
            s.first_fragments_given_up
        )?;
    }
    // What the caps inside TLS, HTTP/2 and QUIC cut (added fields, only when some
    // were).
    for (name, n) in inner_caps_cut(s) {
        if n > 0 {
            write!(w, ",\"{name}\":{n}")?;
        }
    }
    w.write_all(b"}\n")?;
    Ok(())
}
