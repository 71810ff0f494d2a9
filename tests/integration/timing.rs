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

/// The JSON records of one of our captures.
fn json_records(name: &str) -> Vec<serde_json::Value> {
    let out = assert_cmd::Command::new(bin())
        .args(["read"])
        .arg(project_dir().join("captures").join(name))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn close(got: &serde_json::Value, want_ms: f64, what: &str) {
    let got = got.as_f64().unwrap_or_else(|| panic!("{what}: {got}"));
    assert!(
        (got - want_ms).abs() < 0.0015,
        "{what}: {got} ms, want {want_ms} ms"
    );
}

/// Per-transaction timing on `http11-keepalive.pcap`, worked by hand from tshark's frame
/// times (`tshark -r captures/http11-keepalive.pcap -T fields -e frame.number -e
/// frame.time_relative`): handshake SYN 1 at 0 → ACK 3 at 0.000030 (RTT 0.030 ms). Request 1
/// is frame 4 (0.000071), its response head 6 (0.002260) and body 8 (0.007495): server
/// 2.189 − 0.030 = 2.159 ms, transfer 5.235 ms. Request 2 is frame 10 (0.007745), response
/// 11 (0.008002) and 13 (0.055433): server 0.257 − 0.030 = 0.227, transfer 47.431. Request 3
/// frame 15 (0.059644), response 16 (0.060081) and 18 (0.103435): 0.407 and 43.354.
#[test]
fn http_records_carry_server_and_transfer_times() {
    let http: Vec<_> = json_records("http11-keepalive.pcap")
        .into_iter()
        .filter(|v| v["type"] == "http")
        .collect();
    assert_eq!(http.len(), 3);
    for (t, (server, transfer)) in
        http.iter()
            .zip([(2.159, 5.235), (0.227, 47.431), (0.407, 43.354)])
    {
        close(&t["server_ms"], server, "server_ms");
        close(&t["transfer_ms"], transfer, "transfer_ms");
        // One segment per request: it took no time to send.
        close(&t["request_ms"], 0.0, "request_ms");
    }
}

/// TLS setup time, ClientHello to the client's first application-data record, from
/// tshark's frame times: TLS 1.2 (`tls12.pcap`) ClientHello frame 4 at 0.001406, the first
/// client application data frame 10 at 0.003357 (after both Finished): 1.951 ms. TLS 1.3
/// (`tls13.pcap`) ClientHello 4 at 0.001872, the client's first encrypted record (its
/// Finished) frame 8 at 0.004459: 2.587 ms — one round trip less of handshake.
#[test]
fn tls_setup_time_in_conn_timing() {
    for (file, want) in [("tls12.pcap", 1.951), ("tls13.pcap", 2.587)] {
        let conn = json_records(file)
            .into_iter()
            .find(|v| v["type"] == "conn")
            .unwrap();
        close(&conn["timing"]["tls_ms"], want, file);
    }
    // Plain HTTP has no TLS setup.
    let conn = json_records("http11-keepalive.pcap")
        .into_iter()
        .find(|v| v["type"] == "conn")
        .unwrap();
    assert!(conn["timing"]["tls_ms"].is_null());
}

/// `--columns ack_rtt_ms,bytes_in_flight`: the connection table's extra columns hold, row
/// by row, what tshark's `tcp.analysis.ack_rtt` and `bytes_in_flight` say
/// (`captures/oracle/http11-keepalive.pcap.rtt.tsv`; an empty cell where tshark has none).
#[test]
fn table_columns_show_tsharks_ack_rtt_and_bytes_in_flight() {
    let out = assert_cmd::Command::new(bin())
        .args(["read"])
        .arg(project_dir().join("captures/http11-keepalive.pcap"))
        .args([
            "--columns",
            "ack_rtt_ms,bytes_in_flight",
            "--color",
            "never",
            "--width",
            "400",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let oracle = std::fs::read_to_string(
        project_dir().join("captures/oracle/http11-keepalive.pcap.rtt.tsv"),
    )
    .unwrap();
    let mut want = std::collections::BTreeMap::new();
    for line in oracle.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let rtt = f
            .get(1)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<f64>().unwrap() * 1e3);
        let inflight = f.get(2).filter(|s| !s.is_empty()).map(|s| s.to_string());
        want.insert(f[0].parse::<u64>().unwrap(), (rtt, inflight));
    }
    let header = text.lines().find(|l| l.contains("No.")).unwrap();
    let names: Vec<&str> = header.split(['│', '┆']).map(str::trim).collect();
    let col = |n: &str| names.iter().position(|c| *c == n).unwrap();
    let (frame_col, rtt_col, fly_col) = (col("No."), col("ack RTT ms"), col("in flight"));
    let mut rows = 0;
    for line in text.lines().filter(|l| l.starts_with('│')) {
        let cells: Vec<&str> = line.split(['│', '┆']).map(str::trim).collect();
        let Ok(frame) = cells[frame_col].parse::<u64>() else {
            continue;
        };
        rows += 1;
        let (rtt, inflight) = want.get(&frame).cloned().unwrap_or((None, None));
        match rtt {
            Some(ms) => {
                let got: f64 = cells[rtt_col].parse().unwrap();
                assert!((got - ms).abs() < 0.0006, "frame {frame}: {got} vs {ms}");
            }
            None => assert_eq!(cells[rtt_col], "", "frame {frame}"),
        }
        assert_eq!(
            cells[fly_col],
            inflight.unwrap_or_default(),
            "frame {frame}"
        );
    }
    assert_eq!(rows, 22);
}
