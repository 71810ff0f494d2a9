//! The one-line text of each application event, as a connection's block and the packet
//! list show it beside the packet that completed it (tshark's Info column): HTTP request
//! and response lines, DNS queries and answers, TLS messages, QUIC packets. Wire text is
//! escaped.

use super::*;

/// tshark-like: "Standard query 0x7540 A www.example.test", "Standard query response
/// 0x7540 A www.example.test → 192.0.2.10", "… No such name (NXDOMAIN)".
/// "TLS ClientHello SNI example.com · ALPN h2,http/1.1 · offers TLS 1.3, TLS 1.2",
/// "TLS ServerHello TLS 1.3 TLS_AES_128_GCM_SHA256", "TLS alert fatal handshake_failure",
/// "TLS application data, 5124 bytes in 2 records (encrypted)".
pub(super) fn tls_summary(t: &TlsMessage) -> String {
    let version = t.version.map(tls_version_name).unwrap_or_default();
    let cipher = t
        .cipher
        .map(|c| tls_cipher_name(c).map_or_else(|| format!("0x{c:04x}"), str::to_string))
        .unwrap_or_default();
    match t.kind {
        TlsKind::Handshake(1) => {
            let mut s = "TLS ClientHello".to_string();
            if let Some(sni) = &t.sni {
                let _ = write!(s, " SNI {}", escape_str(sni));
            }
            if !t.alpn.is_empty() {
                let alpn: Vec<String> = t.alpn.iter().map(|a| escape_str(a)).collect();
                let _ = write!(s, " · ALPN {}", alpn.join(","));
            }
            let offered: Vec<String> = t
                .offered_versions
                .iter()
                .map(|&v| tls_version_name(v))
                .collect();
            let _ = write!(
                s,
                " · offers {} · {} cipher suites",
                offered.join(", "),
                t.offered_ciphers.len()
            );
            s
        }
        TlsKind::Handshake(2) => {
            let mut s = format!("TLS ServerHello {version} {cipher}");
            if let Some(a) = t.alpn.first() {
                let _ = write!(s, " · ALPN {}", escape_str(a));
            }
            s
        }
        TlsKind::Handshake(11) => {
            let mut s = format!("TLS Certificate ×{}", t.certificates.len());
            if let Some(c) = t.certificates.first() {
                let _ = write!(
                    s,
                    " · {} issued by {} · {} bytes",
                    escape_str(c.subject.as_deref().unwrap_or("?")),
                    escape_str(c.issuer.as_deref().unwrap_or("?")),
                    c.len
                );
            }
            s
        }
        TlsKind::Handshake(h) => format!("TLS {}", tls_handshake_name(h)),
        TlsKind::EncryptedHandshake => "TLS encrypted handshake message".to_string(),
        TlsKind::Alert => match t.alert {
            Some((l, d)) => format!(
                "TLS alert {} {}",
                tls_alert_level_name(l),
                tls_alert_name(d)
            ),
            None => "TLS alert".to_string(),
        },
        TlsKind::EncryptedAlert => "TLS alert (encrypted)".to_string(),
        TlsKind::ChangeCipherSpec => "TLS ChangeCipherSpec".to_string(),
        TlsKind::ApplicationData if t.decrypted_records > 0 => format!(
            "TLS application data, {} bytes in {} records ({} records of the direction opened with the key log)",
            t.length, t.records, t.decrypted_records
        ),
        TlsKind::ApplicationData => format!(
            "TLS application data, {} bytes in {} records (encrypted)",
            t.length, t.records
        ),
    }
}

/// "QUIC Initial v1 dcid 8394c8f0… scid –".
pub(super) fn quic_summary(q: &QuicPacket) -> String {
    let hex = |b: &[u8]| {
        if b.is_empty() {
            "–".to_string()
        } else {
            b.iter().map(|x| format!("{x:02x}")).collect()
        }
    };
    let version = match q.version {
        1 => "v1".to_string(),
        crate::app::quic::QUIC_V2 => "v2".to_string(),
        v => format!("0x{v:08x}"),
    };
    format!(
        "QUIC {:?} {version} dcid {} scid {}",
        q.kind,
        hex(&q.dcid),
        hex(&q.scid)
    )
}

/// The name a DNS message is about: its question's, else (a response without a question
/// section, as mDNS sends) its first answer's owner.
pub(super) fn dns_name(d: &DnsMessage) -> &str {
    if d.qname.is_empty() {
        &d.answer_owner
    } else {
        &d.qname
    }
}

pub(super) fn dns_summary(d: &DnsMessage) -> String {
    let mut s = format!(
        "DNS {} 0x{:04x}",
        if d.response { "response" } else { "query" },
        d.id
    );
    for part in [d.qtype.as_str(), &escape_str(dns_name(d))] {
        if !part.is_empty() {
            s.push(' ');
            s.push_str(part);
        }
    }
    if d.response {
        if d.rcode != "NOERROR" {
            let _ = write!(s, " {}", d.rcode);
        }
        if !d.answers.is_empty() {
            let answers: Vec<String> = d.answers.iter().map(|a| escape_str(a)).collect();
            let _ = write!(s, " → {}", answers.join(", "));
        }
        if let Some(l) = d.latency_ms {
            let _ = write!(s, " · {l:.1} ms");
        }
    }
    s
}

pub(super) fn http_summary(h: &HttpTransaction, response: bool) -> String {
    if response {
        let mut s = format!(
            "{} {}",
            h.status.map(|s| s.to_string()).unwrap_or_default(),
            escape_str(h.reason.as_deref().unwrap_or(""))
        );
        if let Some(b) = h.response_body_bytes {
            let _ = write!(s, " · {}", human_bytes(b));
        }
        if let Some(l) = h.latency_ms {
            let _ = write!(s, " · {l:.1} ms");
        }
        s
    } else {
        format!(
            "{} {} {}",
            escape_str(h.method.as_deref().unwrap_or("")),
            escape_str(h.uri.as_deref().unwrap_or("")),
            escape_str(h.version.as_deref().unwrap_or(""))
        )
    }
}
