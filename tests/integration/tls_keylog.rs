//! TLS opened with a key log: `captures/tls-keylog.pcap` with `captures/tls-keylog.keys`
//! against tshark's view with the same keys (`oracle/tls-keylog.pcap.keylog-http.tsv`):
//! every HTTP/1.1 and HTTP/2 request and response inside TLS 1.2 and 1.3 (AES-GCM,
//! ChaCha20-Poly1305, AES-CBC-SHA) with its frame, method, uri, status, version and HTTP/2
//! stream id; without the key, or with a wrong one, notes and no HTTP.

use super::support::*;
use layerscope::app::keylog::KeyLog;
use layerscope::app::{AppEvent, HttpTransaction, TlsKind};
use layerscope::capture::FileSource;
use layerscope::pipeline::{self, PipelineConfig};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

fn capture() -> PathBuf {
    project_dir().join("captures/tls-keylog.pcap")
}

fn keys_text() -> String {
    std::fs::read_to_string(project_dir().join("captures/tls-keylog.keys")).unwrap()
}

fn run_with(keylog: KeyLog) -> Collected {
    let mut config = PipelineConfig::default();
    config.app.keylog = Some(Arc::new(keylog));
    let mut source = FileSource::open(&capture()).unwrap();
    let mut c = Collected::default();
    pipeline::run(&mut source, config, &mut c).expect("sink never fails");
    c
}

/// tshark's rows of one HTTP version.
fn oracle(version: &str) -> Vec<HashMap<String, String>> {
    let dir = project_dir().join("captures");
    read_tsv(&oracle_file(&dir, &capture(), "keylog-http.tsv"))
        .into_iter()
        .filter(|r| r["version"] == version)
        .collect()
}

/// Each oracle row (request or response) is found on one of our records: same connection,
/// frame, method/uri (requests) or status (responses), version.
fn check_rows(rows: &[HashMap<String, String>], ours: &[&HttpTransaction]) -> Vec<String> {
    let mut missing = Vec::new();
    for r in rows {
        let frame: u64 = r["frame"].parse().unwrap();
        let conn: u64 = r["tcp_stream"].parse().unwrap();
        let stream: Option<u32> = r["stream_id"].parse().ok().filter(|&s| s != 0);
        let found = ours.iter().any(|t| {
            t.conn == conn
                && t.decrypted
                && (stream.is_none() || t.stream == stream)
                && if r["kind"] == "request" {
                    t.request_frame == Some(frame)
                        && t.method.as_deref() == Some(r["method"].as_str())
                        && t.uri.as_deref() == Some(r["uri"].as_str())
                        && t.version.as_deref() == Some(r["version"].as_str())
                } else {
                    t.response_frame == Some(frame)
                        && t.status.map(|s| s.to_string()).as_deref() == Some(r["status"].as_str())
                        && t.response_version.as_deref() == Some(r["version"].as_str())
                }
        });
        if !found {
            missing.push(format!("{r:?}"));
        }
    }
    missing
}

#[test]
fn http11_inside_tls12_and_tls13_as_tshark_reads_it() {
    let c = run_with(KeyLog::from_text(&keys_text()));
    let ours = c.http();
    let rows = oracle("HTTP/1.1");
    assert_eq!(rows.len(), 18);
    let missing = check_rows(&rows, &ours);
    assert!(
        missing.is_empty(),
        "not found: {missing:#?}\nours: {ours:#?}"
    );
    // The frames that completed a request or response record are `tls › http`.
    for r in &rows {
        let f = c.frame(r["frame"].parse().unwrap());
        let n = f.layers.len();
        assert_eq!(f.layers[n - 2..], ["tls", "http"], "frame {}", f.number);
    }
    // Connection counters: conn 0 carried three exchanges.
    let (_, app) = c.conns.iter().find(|(s, _)| s.id == 0).unwrap();
    assert_eq!((app.http_requests, app.http_responses), (3, 3));
    // The POST's body (curl -d 'name=layerscope&x=1') and nginx's 404 body ("no such page\n").
    let post = ours.iter().find(|t| t.conn == 0 && t.index == 3).unwrap();
    assert_eq!(post.request_body_bytes, Some(19));
    let missing = ours.iter().find(|t| t.conn == 0 && t.index == 2).unwrap();
    assert_eq!(missing.response_body_bytes, Some(13));
    let s = c.summary.as_ref().unwrap();
    assert_eq!(s.tls.decrypt_failures, 0);
}

#[test]
fn http2_inside_tls12_and_tls13_as_tshark_reads_it() {
    let c = run_with(KeyLog::from_text(&keys_text()));
    let ours = c.http();
    let rows = oracle("HTTP/2");
    assert_eq!(rows.len(), 12);
    let missing = check_rows(&rows, &ours);
    assert!(
        missing.is_empty(),
        "not found: {missing:#?}\nours: {ours:#?}"
    );
    // One record per stream: 3 on each of the two HTTP/2 connections, streams 1, 3, 5,
    // with the :authority as host and the bodies' sizes.
    let h2: Vec<_> = ours.iter().filter(|t| t.stream.is_some()).collect();
    assert_eq!(h2.len(), 6);
    for t in &h2 {
        assert_eq!(t.host.as_deref(), Some("layerscope.test:8445"));
        assert_eq!(t.response_version.as_deref(), Some("HTTP/2"));
        assert!(t.latency_ms.is_some_and(|l| l > 0.0));
    }
    let post = h2
        .iter()
        .find(|t| t.conn == 3 && t.stream == Some(5))
        .unwrap();
    assert_eq!(
        (post.request_body_bytes, post.response_body_bytes),
        (Some(19), Some(7))
    );
    for r in rows.iter().filter(|r| r["kind"] == "request") {
        let f = c.frame(r["frame"].parse().unwrap());
        assert_eq!(f.layers[f.layers.len() - 2..], ["tls", "http2"]);
    }
    let (_, app) = c.conns.iter().find(|(s, _)| s.id == 3).unwrap();
    assert_eq!((app.http_requests, app.http_responses), (3, 3));
    let s = c.summary.as_ref().unwrap();
    assert_eq!(s.tls.http2, Default::default());
}

#[test]
fn without_the_key_records_stay_encrypted_and_a_note_says_why() {
    // Only the first connection's key is missing.
    let text = keys_text();
    let first_random = "CLIENT_RANDOM ";
    let line = text.lines().find(|l| l.starts_with(first_random)).unwrap();
    let random = line.split(' ').nth(1).unwrap().to_string();
    let rest: String = text
        .lines()
        .filter(|l| !l.contains(&random))
        .map(|l| format!("{l}\n"))
        .collect();
    let c = run_with(KeyLog::from_text(&rest));
    let hello = c
        .events
        .iter()
        .find_map(|e| match e {
            AppEvent::Tls(t) if t.conn == 0 && t.kind == TlsKind::Handshake(2) => Some(t),
            _ => None,
        })
        .unwrap();
    let note = format!("no key for client random {}…", &random[..16]);
    assert!(
        hello.notes.iter().any(|n| n.starts_with(&note)),
        "{:?}",
        hello.notes
    );
    assert!(c.http().iter().all(|t| t.conn != 0));
    assert_eq!(c.summary.as_ref().unwrap().tls.no_key, 1);
    assert!(c.http().iter().any(|t| t.conn == 2));
}

#[test]
fn a_wrong_key_is_a_note_never_a_panic() {
    // Every secret's last byte flipped: keys derive, no record opens.
    let text: String = keys_text()
        .lines()
        .map(|l| {
            let mut l = l.to_string();
            if let Some(last) = l.pop() {
                l.push(if last == '0' { '1' } else { '0' });
            }
            format!("{l}\n")
        })
        .collect();
    let c = run_with(KeyLog::from_text(&text));
    assert!(c.http().is_empty());
    let s = c.summary.as_ref().unwrap();
    assert_eq!(s.tls.decrypted_records, 0);
    assert!(s.tls.decrypt_failures >= 7, "{:?}", s.tls);
    let noted = c.events.iter().any(|e| match e {
        AppEvent::Tls(t) => t
            .notes
            .iter()
            .any(|n| n.contains("did not open: authentication tag does not match")),
        _ => false,
    });
    assert!(noted);
}

#[test]
fn the_cli_reads_keylog_and_sslkeylogfile() {
    let keys = project_dir().join("captures/tls-keylog.keys");
    let count = |out: &[u8]| {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| l.contains("\"type\":\"http\"") && l.contains("\"decrypted\":true"))
            .count()
    };
    let flag = assert_cmd::Command::new(bin())
        .args(["read", "--format", "json", "--keylog"])
        .arg(&keys)
        .arg(capture())
        .env_remove("SSLKEYLOGFILE")
        .output()
        .unwrap();
    assert!(flag.status.success());
    let env = assert_cmd::Command::new(bin())
        .args(["read", "--format", "json"])
        .arg(capture())
        .env("SSLKEYLOGFILE", &keys)
        .output()
        .unwrap();
    assert!(env.status.success());
    let none = assert_cmd::Command::new(bin())
        .args(["read", "--format", "json"])
        .arg(capture())
        .env_remove("SSLKEYLOGFILE")
        .output()
        .unwrap();
    assert_eq!(count(&flag.stdout), 15, "{}", count(&flag.stdout));
    assert_eq!(count(&flag.stdout), count(&env.stdout));
    assert_eq!(count(&none.stdout), 0);
}

#[test]
fn explain_shows_ciphertext_plaintext_and_the_secret() {
    let keys = project_dir().join("captures/tls-keylog.keys");
    let explain = |frame: &str, keylog: Option<&std::path::Path>| {
        let mut cmd = assert_cmd::Command::new(bin());
        cmd.args(["explain", "--color", "never", "--frame", frame])
            .arg(capture())
            .env_remove("SSLKEYLOGFILE");
        if let Some(k) = keylog {
            cmd.arg("--keylog").arg(k);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    // TLS 1.2 GCM: the request of frame 10, opened with the master secret.
    let s = explain("10", Some(&keys));
    assert!(
        s.contains(
            "record 1 (client → server): outer type 23 (application_data), 118 bytes of ciphertext"
        ),
        "{s}"
    );
    assert!(s.contains("opened with the CLIENT_RANDOM master secret (TLS 1.2 key block) from the key log: 94 bytes of plaintext"), "{s}");
    assert!(
        s.contains("34 8c 59 9c 01 7a d5 c4 a1 36 e3 14 6a bd cd 65   GET /index.html "),
        "{s}"
    );
    // TLS 1.3 ChaCha20: the traffic secret.
    let s = explain("132", Some(&keys));
    assert!(
        s.contains("opened with CLIENT_TRAFFIC_SECRET_0 (TLS 1.3)"),
        "{s}"
    );
    // No key log at all, and a key log without this connection's line.
    assert!(explain("10", None).contains("--keylog FILE"));
    let text = keys_text();
    let random = text.lines().next().unwrap().split(' ').nth(1).unwrap();
    let partial =
        std::env::temp_dir().join(format!("layerscope-partial-{}.keys", std::process::id()));
    std::fs::write(
        &partial,
        text.lines()
            .filter(|l| !l.contains(random))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let s = explain("10", Some(&partial));
    std::fs::remove_file(&partial).unwrap();
    assert!(
        s.contains(&format!(
            "not opened: no key for client random {}…",
            &random[..16]
        )),
        "{s}"
    );
}
