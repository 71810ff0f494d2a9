//! The timing breakdown (`conn.timing`) against a recording whose truth is known:
//! `captures/timing-tbf.pcap`, made by `captures/record-timing.sh` in a network namespace
//! whose loopback is shaped by `tc … tbf rate 4mbit`, where the server waits 300 ms after the
//! request, then sends a 300 000-byte body.

use super::support::{bin, project_dir, run_file};
use layerscope::flow::timing::LimitedBy;

const SERVER_WAIT_MS: f64 = 300.0;
const BODY_BYTES: u64 = 300_000;
const RATE_BIT_S: f64 = 4e6;

#[test]
fn timing_breakdown_of_the_shaped_recording() {
    let path = project_dir().join("captures/timing-tbf.pcap");
    let run = run_file(&path);
    let conn = run.conn(0);
    let t = conn.timing.expect("a TCP connection has a timing");
    let rtt = conn
        .handshake
        .syn_to_synack_ns
        .zip(conn.handshake.synack_to_ack_ns)
        .map(|(a, b)| a + b);
    // The server's wait, found within a few ms (python's sleep and the write take ~3 ms).
    let server_ms = t.server_ns(rtt).unwrap() as f64 / 1e6;
    assert!(
        (server_ms - SERVER_WAIT_MS).abs() < 5.0,
        "server_ms {server_ms}"
    );
    // The response: the body and its head, all in one transfer.
    assert!(t.response_bytes > BODY_BYTES && t.response_bytes < BODY_BYTES + 200);
    assert_eq!(t.exchanges, 1);
    // Transfer time: the frames the server sent (payload and headers on the wire) at the
    // shaped rate, within 5 %.
    let wire_bytes = conn.bytes.to_client as f64;
    let expected_ms = wire_bytes * 8.0 / RATE_BIT_S * 1e3;
    let transfer_ms = t.transfer_ns.unwrap() as f64 / 1e6;
    assert!(
        (transfer_ms / expected_ms - 1.0).abs() < 0.05,
        "transfer {transfer_ms} ms, {wire_bytes} bytes at 4 Mbit/s take {expected_ms} ms"
    );
    // The rate the transfer shows is the shaper's.
    let rate = t.response_bytes as f64 * 8.0 / (transfer_ms / 1e3);
    assert!(rate > 0.9 * RATE_BIT_S && rate < RATE_BIT_S, "{rate} bit/s");
    // No loss, no window limit, the sender kept the pipe full: the path limited it.
    assert_eq!(t.limited_by, Some(LimitedBy::Network));
    assert_eq!(t.fast_retransmissions + t.other_retransmissions, 0);
}

#[test]
fn timing_in_the_json_conn_record() {
    let out = assert_cmd::Command::new(bin())
        .args(["read"])
        .arg(project_dir().join("captures/timing-tbf.pcap"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let conn: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "conn")
        .unwrap();
    let t = &conn["timing"];
    for key in [
        "handshake_ms",
        "tls_ms",
        "server_ms",
        "transfer_ms",
        "limited_by",
    ] {
        assert!(t.get(key).is_some(), "timing.{key} missing: {t}");
    }
    assert_eq!(t["limited_by"], "network");
    let server_ms = t["server_ms"].as_f64().unwrap();
    assert!((server_ms - SERVER_WAIT_MS).abs() < 5.0, "{server_ms}");
}

#[test]
fn timing_view_of_the_shaped_recording() {
    let out = assert_cmd::Command::new(bin())
        .arg("read")
        .arg(project_dir().join("captures/timing-tbf.pcap"))
        .args(["--view", "timing", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("0 "))
        .unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    // conn, handshake, request, server, transfer, idle, bytes, exchanges, limited.
    let server: f64 = cols[3].parse().unwrap();
    assert!((server - SERVER_WAIT_MS).abs() < 5.0, "{row}");
    assert_eq!(cols[8], "network");
    insta::assert_snapshot!("timing_view_tbf", text);
}
