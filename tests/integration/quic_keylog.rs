//! QUIC opened with a key log: `captures/quic-h3.pcap` (aioquic's HTTP/3 client and server,
//! one QUIC v1 connection, six requests) with `captures/quic-h3.keys`. The oracles:
//! `oracle/quic-h3.pcap.client.tsv`, each request's stream id, method, path and status as
//! the client sent and received them, and `oracle/quic-h3.pcap.keylog-http3.tsv`, the
//! HTTP/3 frames tshark 4.0 reads with the same keys (which frame carried which stream's
//! HEADERS; tshark 4.0 decodes no QPACK field). Without the key: no HTTP, nothing
//! pretends.

use super::support::*;
use layerscope::app::keylog::KeyLog;
use layerscope::capture::FileSource;
use layerscope::pipeline::{self, PipelineConfig};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

fn capture() -> PathBuf {
    project_dir().join("captures/quic-h3.pcap")
}

fn run_with(keylog: Option<KeyLog>) -> Collected {
    let mut config = PipelineConfig::default();
    config.app.keylog = keylog.map(Arc::new);
    let mut source = FileSource::open(&capture()).unwrap();
    let mut c = Collected::default();
    pipeline::run(&mut source, config, &mut c).expect("sink never fails");
    c
}

fn keys() -> KeyLog {
    KeyLog::from_text(
        &std::fs::read_to_string(project_dir().join("captures/quic-h3.keys")).unwrap(),
    )
}

fn oracle(name: &str) -> Vec<HashMap<String, String>> {
    let dir = project_dir().join("captures");
    let rows = read_tsv(&oracle_file(&dir, &capture(), name));
    assert!(!rows.is_empty(), "no oracle {name}");
    rows
}

/// tshark's first frame from `client` (or the server) that names HEADERS with stream
/// `id` among its streams, where no other request stream shares the frame.
fn tshark_headers_frame(
    http3: &[HashMap<String, String>],
    client_frames: &[u64],
    id: u64,
    client: bool,
) -> Option<u64> {
    http3.iter().find_map(|r| {
        let frame: u64 = r["frame"].parse().ok()?;
        if client_frames.contains(&frame) != client {
            return None;
        }
        let streams: Vec<u64> = r["stream_ids"]
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect();
        let requests: Vec<u64> = streams.iter().copied().filter(|s| s % 4 == 0).collect();
        let headers = r["frame_types"].split(',').any(|t| t == "1");
        (headers && requests == [id]).then_some(frame)
    })
}

#[test]
fn http3_requests_match_the_client_and_tshark() {
    let c = run_with(Some(keys()));
    let ours = c.http();
    let truth = oracle("client.tsv");
    assert_eq!(truth.len(), 6);
    assert_eq!(ours.len(), truth.len(), "{ours:#?}");
    // Frames the client sent: UDP source port other than the server's 4433.
    let client_frames: Vec<u64> = oracle("frames.tsv")
        .iter()
        .filter(|r| r["udp_srcport"] != "4433")
        .map(|r| r["frame"].parse().unwrap())
        .collect();
    let http3 = oracle("keylog-http3.tsv");
    for row in &truth {
        let id: u64 = row["stream_id"].parse().unwrap();
        let t = ours
            .iter()
            .find(|t| t.stream == Some(id as u32))
            .unwrap_or_else(|| panic!("no record for stream {id}"));
        assert_eq!(
            t.method.as_deref(),
            Some(row["method"].as_str()),
            "stream {id}"
        );
        assert_eq!(t.uri.as_deref(), Some(row["uri"].as_str()), "stream {id}");
        assert_eq!(t.status.map(|s| s.to_string()), Some(row["status"].clone()));
        assert_eq!(t.version.as_deref(), Some("HTTP/3"));
        assert_eq!(t.host.as_deref(), Some("layerscope.test"));
        assert!(t.decrypted);
        let want_req = tshark_headers_frame(&http3, &client_frames, id, true);
        let want_resp = tshark_headers_frame(&http3, &client_frames, id, false);
        assert_eq!(t.request_frame, want_req, "stream {id} request");
        assert_eq!(t.response_frame, want_resp, "stream {id} response");
        // Rows of those frames read `quic › http3`.
        for f in [t.request_frame.unwrap(), t.response_frame.unwrap()] {
            let layers = &c.frame(f).layers;
            assert_eq!(
                layers[layers.len() - 2..],
                ["quic".to_string(), "http3".to_string()],
                "frame {f}"
            );
        }
    }
    // Bodies: the server's 6000-byte /big, and the 19-byte form the client POSTed.
    let big = ours
        .iter()
        .find(|t| t.uri.as_deref() == Some("/big"))
        .unwrap();
    assert_eq!(big.response_body_bytes, Some(6000));
    let post = ours
        .iter()
        .find(|t| t.method.as_deref() == Some("POST"))
        .unwrap();
    assert_eq!(
        post.request_body_bytes,
        Some("name=layerscope&x=1".len() as u64)
    );
    let tls = c.summary.as_ref().unwrap().tls;
    assert_eq!((tls.quic.not_opened, tls.quic.no_key), (0, 0));
    assert_eq!(tls.quic.streams.cut_bytes, 0);
    assert!(tls.quic.opened >= 30, "{:?}", tls.quic);
    let (_, stats) = &c.conns[0];
    assert_eq!((stats.http_requests, stats.http_responses), (6, 6));
}

#[test]
fn without_the_key_nothing_pretends() {
    for keylog in [None, Some(KeyLog::from_text(""))] {
        let with_log = keylog.is_some();
        let c = run_with(keylog);
        assert!(c.http().is_empty());
        assert!(c
            .frames
            .iter()
            .all(|f| !f.layers.iter().any(|l| l == "http3")));
        let tls = c.summary.as_ref().unwrap().tls;
        assert_eq!(tls.quic.opened, 0);
        assert_eq!(tls.quic.no_key, u64::from(with_log));
    }
    // A key log whose secrets are wrong: packets do not open, counted, no panic.
    let wrong = std::fs::read_to_string(project_dir().join("captures/quic-h3.keys"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut f: Vec<String> = l.split(' ').map(str::to_string).collect();
            f[2] = f[2].chars().rev().collect();
            f.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let c = run_with(Some(KeyLog::from_text(&wrong)));
    assert!(c.http().is_empty());
    let tls = c.summary.as_ref().unwrap().tls;
    assert_eq!(tls.quic.opened, 0);
    assert!(tls.quic.not_opened > 0);
}
