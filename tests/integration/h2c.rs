//! Cleartext HTTP/2: `captures/h2c.pcap` (hypercorn and curl), one connection upgraded from
//! HTTP/1.1 (`Upgrade: h2c`, 101, RFC 7540 §3.2: the upgrade request is stream 1's) and one
//! by prior knowledge, against tshark's view (`oracle/h2c.pcap.h2c-http.tsv`: the HTTP/1.1
//! request and 101, then each HTTP/2 HEADERS frame with its decoded fields and stream id).

use super::support::*;
use layerscope::app::{AppEvent, HttpTransaction};
use std::collections::HashMap;

fn records() -> (Collected, Vec<HttpTransaction>) {
    let c = run_file(&project_dir().join("captures/h2c.pcap"));
    let h = c
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::Http(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    (c, h)
}

/// tshark's HEADERS rows: (tcp stream, h2 stream) → (frame, fields).
fn tshark_headers() -> Vec<(u64, u32, u64, HashMap<String, String>)> {
    let dir = project_dir().join("captures");
    let capture = dir.join("h2c.pcap");
    let rows = read_tsv(&oracle_file(&dir, &capture, "h2c-http.tsv"));
    assert!(!rows.is_empty());
    rows.iter()
        .filter(|r| !r["h2_header_names"].is_empty())
        .map(|r| {
            let fields = r["h2_header_names"]
                .split('|')
                .zip(r["h2_header_values"].split('|'))
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            (
                r["tcp_stream"].parse().unwrap(),
                r["h2_stream_ids"].parse().unwrap(),
                r["frame"].parse().unwrap(),
                fields,
            )
        })
        .collect()
}

#[test]
fn upgrade_and_prior_knowledge_match_tshark() {
    let (c, ours) = records();
    // The HTTP/1.1 upgrade request and its 101 (tshark frames 4 and 6).
    let h1: Vec<_> = ours
        .iter()
        .filter(|t| t.version.as_deref() == Some("HTTP/1.1"))
        .collect();
    assert_eq!(h1.len(), 1, "{ours:#?}");
    assert_eq!(
        (h1[0].request_frame, h1[0].response_frame, h1[0].status),
        (Some(4), Some(6), Some(101))
    );
    let h2: Vec<_> = ours
        .iter()
        .filter(|t| t.version.as_deref() == Some("HTTP/2"))
        .collect();
    let tshark = tshark_headers();
    // Every HTTP/2 request and response tshark saw is on one of our records.
    let mut checked = 0;
    for (tcp, stream, frame, fields) in &tshark {
        let t = h2
            .iter()
            .find(|t| t.conn == *tcp && t.stream == Some(*stream))
            .unwrap_or_else(|| panic!("no record for tcp {tcp} stream {stream}: {h2:#?}"));
        if let Some(status) = fields.get(":status") {
            assert_eq!(t.status.map(|s| s.to_string()).as_ref(), Some(status));
            assert_eq!(t.response_frame, Some(*frame));
        } else {
            assert_eq!(t.method.as_ref(), fields.get(":method"));
            assert_eq!(t.uri.as_ref(), fields.get(":path"));
            assert_eq!(t.request_frame, Some(*frame));
        }
        checked += 1;
    }
    assert_eq!(checked, 7);
    // Stream 1 of the upgraded connection: the HTTP/1.1 request's method and path (frame
    // 4), its response the HTTP/2 HEADERS tshark shows on stream 1.
    let s1 = h2
        .iter()
        .find(|t| t.conn == 0 && t.stream == Some(1))
        .unwrap();
    assert_eq!(
        (s1.method.as_deref(), s1.uri.as_deref(), s1.request_frame),
        (Some("GET"), Some("/upgrade"), Some(4))
    );
    assert_eq!(
        s1.response_body_bytes,
        Some("hello from /upgrade\n".len() as u64)
    );
    // Four HTTP/2 streams and the 101 exchange: five records.
    assert_eq!(ours.len(), 5);
    // Rows after the switch read http2.
    assert!(c.frame(11).layers.iter().any(|l| l == "http2"));
}
