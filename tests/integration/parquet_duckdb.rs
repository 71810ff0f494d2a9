//! `--format parquet`: DuckDB (the Python `duckdb` package, installed by `.ci/run`) reads
//! every table written, and its counts and sums equal those of the JSON output.

use super::support::*;
use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

/// Whether `python3 -c "import duckdb"` works; else a visible skip (a failure under
/// `LAYERSCOPE_REQUIRE_SHARED=1`, where CI installed it).
fn duckdb_available(test: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("LAYERSCOPE_REQUIRE_SHARED").as_deref() == Ok("1") {
            panic!("{test}: python3 cannot import duckdb (pip install duckdb) and LAYERSCOPE_REQUIRE_SHARED=1");
        }
        eprintln!("SKIPPED {test}: python3 cannot import duckdb (pip install duckdb)");
    }
    ok
}

/// What DuckDB says of the tables in `dir` (0 for a table that was not written).
const QUERY: &str = r#"
import duckdb, json, os, sys
d = sys.argv[1]
def q(table, sql):
    p = os.path.join(d, table + ".parquet")
    if not os.path.exists(p):
        return None
    return duckdb.sql(sql.replace("{t}", "read_parquet('" + p + "')")).fetchall()[0]
out = {}
r = q("conn", "select count(*), sum(packets_to_server + packets_to_client), sum(bytes_to_server + bytes_to_client), sum(payload_to_server + payload_to_client), count(handshake_rtt_ms), count(distinct community_id), sum(http_requests), min(epoch_us(start)) from {t}")
out["conn"] = [int(x) if x is not None else 0 for x in r] if r else [0] * 8
r = q("http", "select count(*), coalesce(sum(response_body_bytes), 0), count(status), count(method), count(request_ms), count(server_ms), count(transfer_ms), coalesce(round(sum(server_ms + transfer_ms)), 0) from {t}")
out["http"] = [int(x) for x in r] if r else [0] * 8
r = q("dns", "select count(*), sum(answer_count), count(*) filter (where response) from {t}")
out["dns"] = [int(x) if x is not None else 0 for x in r] if r else [0] * 3
r = q("tls", "select count(*), count(sni), count(*) filter (where record = 'handshake'), count(curve), count(*) filter (where resumed), coalesce(sum(len(string_split(cert_sha256, ','))), 0), count(sni_matches_cert), count(*) filter (where sni_matches_cert) from {t}")
out["tls"] = [int(x) for x in r] if r else [0] * 8
r = q("packets", "select count(*), sum(len), sum(caplen), count(conn), count(distinct conn), count(tcp_flags), coalesce(sum(tcp_len), 0), coalesce(sum(tcp_seq), 0), count(src_addr), min(epoch_us(ts)), max(frame) from {t}")
out["packets"] = [int(x) if x is not None else 0 for x in r] if r else [0] * 11
print(json.dumps(out))
"#;

fn duckdb_view(dir: &Path) -> Value {
    let out = std::process::Command::new("python3")
        .args(["-c", QUERY])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The same figures from the JSON output.
fn json_view(capture: &Path) -> Value {
    let out = Command::new(bin())
        .arg("read")
        .arg(capture)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of = |t: &'static str| records.iter().filter(move |r| r["type"] == t);
    let both = |r: &Value, k: &str| {
        r[k]["to_server"].as_i64().unwrap() + r[k]["to_client"].as_i64().unwrap()
    };
    let conns: Vec<&Value> = of("conn").collect();
    let mut ids: Vec<&str> = conns
        .iter()
        .filter_map(|c| c["community_id"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let min_start = conns
        .iter()
        .map(|c| (c["start"].as_f64().unwrap() * 1e6).round() as i64)
        .min()
        .unwrap_or(0);
    let conn = vec![
        conns.len() as i64,
        conns.iter().map(|c| both(c, "packets")).sum(),
        conns.iter().map(|c| both(c, "bytes")).sum(),
        conns.iter().map(|c| both(c, "payload")).sum(),
        conns
            .iter()
            .filter(|c| !c["handshake"]["rtt_ms"].is_null())
            .count() as i64,
        ids.len() as i64,
        conns
            .iter()
            .map(|c| c["http"]["requests"].as_i64().unwrap())
            .sum(),
        min_start,
    ];
    let https: Vec<&Value> = of("http").collect();
    let http = vec![
        https.len() as i64,
        https
            .iter()
            .filter_map(|h| h["response_body_bytes"].as_i64())
            .sum(),
        https.iter().filter(|h| !h["status"].is_null()).count() as i64,
        https.iter().filter(|h| !h["method"].is_null()).count() as i64,
        // The timing columns (layerscope's additions): as many as the JSON has, and the
        // same total (ms, rounded).
        https.iter().filter(|h| !h["request_ms"].is_null()).count() as i64,
        https.iter().filter(|h| !h["server_ms"].is_null()).count() as i64,
        https.iter().filter(|h| !h["transfer_ms"].is_null()).count() as i64,
        https
            .iter()
            .filter_map(|h| Some(h["server_ms"].as_f64()? + h["transfer_ms"].as_f64()?))
            .sum::<f64>()
            .round() as i64,
    ];
    let dnss: Vec<&Value> = of("dns").collect();
    let dns = vec![
        dnss.len() as i64,
        dnss.iter()
            .map(|d| d["answers"].as_array().unwrap().len() as i64)
            .sum(),
        dnss.iter().filter(|d| d["response"] == true).count() as i64,
    ];
    let tlss: Vec<&Value> = records
        .iter()
        .filter(|r| r["type"] == "tls" || r["type"] == "tls_record")
        .collect();
    let tls = vec![
        tlss.len() as i64,
        tlss.iter().filter(|t| !t["sni"].is_null()).count() as i64,
        tlss.iter().filter(|t| t["type"] == "tls").count() as i64,
        tlss.iter().filter(|t| !t["curve"].is_null()).count() as i64,
        tlss.iter().filter(|t| t["resumed"] == true).count() as i64,
        tlss.iter()
            .filter_map(|t| t["certificates"].as_array())
            .flatten()
            .filter(|c| c["sha256"].as_str().is_some_and(|h| h.len() == 64))
            .count() as i64,
        tlss.iter()
            .filter(|t| t["sni_matches_cert"].is_boolean())
            .count() as i64,
        tlss.iter()
            .filter(|t| t["sni_matches_cert"] == true)
            .count() as i64,
    ];
    let pkts: Vec<&Value> = of("packet").collect();
    let mut pkt_conns: Vec<i64> = pkts.iter().filter_map(|p| p["conn"].as_i64()).collect();
    let with_conn = pkt_conns.len() as i64;
    pkt_conns.sort_unstable();
    pkt_conns.dedup();
    let tcp = |p: &Value, k: &str| p["tcp"][k].as_i64().unwrap_or(0);
    let int = |p: &Value, k: &str| p[k].as_i64().unwrap();
    let packets = vec![
        pkts.len() as i64,
        pkts.iter().map(|p| int(p, "len")).sum(),
        pkts.iter().map(|p| int(p, "caplen")).sum(),
        with_conn,
        pkt_conns.len() as i64,
        pkts.iter().filter(|p| !p["tcp"].is_null()).count() as i64,
        pkts.iter().map(|p| tcp(p, "len")).sum(),
        pkts.iter().map(|p| tcp(p, "seq")).sum(),
        pkts.iter().filter(|p| !p["src"].is_null()).count() as i64,
        pkts.iter()
            .map(|p| (p["ts"].as_f64().unwrap() * 1e6).round() as i64)
            .min()
            .unwrap_or(0),
        pkts.iter().map(|p| int(p, "frame")).max().unwrap_or(0),
    ];
    serde_json::json!({"conn": conn, "http": http, "dns": dns, "tls": tls, "packets": packets})
}

fn check(capture: &Path) {
    let name = capture.file_name().unwrap().to_string_lossy().to_string();
    let dir = std::env::temp_dir().join(format!("layerscope-pq-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(bin())
        .arg("read")
        .arg(capture)
        .args(["--format", "parquet", "--parquet-packets", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(duckdb_view(&dir), json_view(capture), "{name}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn duckdb_reads_the_parquet_tables_with_the_json_outputs_counts_and_sums() {
    if !duckdb_available("duckdb_reads_the_parquet_tables_with_the_json_outputs_counts_and_sums") {
        return;
    }
    for capture in captures_in(&project_dir().join("captures")) {
        check(&capture);
    }
    if let Some(dir) = shared_captures("duckdb_reads_the_parquet_tables (shared)") {
        for name in [
            "zeek__methods.pcap",
            "pcapplusplus__many-protocols.pcap",
            "zeek__ipv6-fragmented-dns.pcap",
            "zeek__web.pcap",
        ] {
            check(&dir.join(name));
        }
    }
}
