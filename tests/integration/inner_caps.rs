//! The caps inside TLS, HTTP/2 and QUIC are flags (`--max-h2-frame`, `--max-quic-crypto`,
//! …, defined once in `cli::LimitArgs` for read, live and the other commands), and what
//! they cut reaches the JSON summary and the table's closing line. The HTTP/2 count is
//! worked out from tshark's frames of the same recording
//! (`captures/oracle/tls-keylog.pcap.keylog-http2-frames.tsv`).

use super::support::*;

fn run(args: &[&str]) -> String {
    let dir = project_dir().join("captures");
    stdout_of(
        assert_cmd::Command::new(bin())
            .current_dir(&dir)
            .arg("read")
            .args(args),
    )
}

fn summary(text: &str) -> serde_json::Value {
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["type"] == "summary")
        .unwrap()
}

#[test]
fn h2_frame_cap_cuts_what_tshark_says_is_larger() {
    const CAP: u64 = 40;
    // tshark: the frames other than DATA longer than the cap, over both HTTP/2 connections.
    let rows =
        read_tsv(&project_dir().join("captures/oracle/tls-keylog.pcap.keylog-http2-frames.tsv"));
    let over = rows
        .iter()
        .flat_map(|r| {
            r["types"]
                .split(',')
                .zip(r["lengths"].split(','))
                .map(|(t, l)| (t.to_string(), l.parse::<u64>().unwrap()))
                .collect::<Vec<_>>()
        })
        .filter(|(t, l)| t != "0" && *l > CAP)
        .count() as u64;
    assert_eq!(over, 8, "four HEADERS frames a connection");
    let keys = ["--keylog", "tls-keylog.keys"];
    let cap = CAP.to_string();
    let text = run(&[
        "tls-keylog.pcap",
        keys[0],
        keys[1],
        "--format",
        "json",
        "--max-h2-frame",
        &cap,
    ]);
    let s = summary(&text);
    assert_eq!(s["http2_frames_cut"], over, "{s}");
    // Every response HEADERS (49, 49 and 52 bytes) and the POST's (42) were skipped: the
    // GETs' records (34 and 13 bytes) remain, without status; the POST has none.
    let h2: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "http" && v["version"] == "HTTP/2")
        .collect();
    let uris: Vec<&str> = h2.iter().map(|t| t["uri"].as_str().unwrap()).collect();
    assert_eq!(uris, ["/index.html", "/missing", "/index.html", "/missing"]);
    assert!(h2.iter().all(|t| t["status"].is_null()), "{h2:?}");
    // Without the cap nothing is cut.
    let s = summary(&run(&[
        "tls-keylog.pcap",
        keys[0],
        keys[1],
        "--format",
        "json",
    ]));
    assert!(s.get("http2_frames_cut").is_none(), "{s}");
    // The table's closing line names it.
    let text = run(&[
        "tls-keylog.pcap",
        keys[0],
        keys[1],
        "--view",
        "conns",
        "--max-h2-frame",
        &cap,
    ]);
    assert!(
        text.contains(&format!(
            "{over} HTTP/2 frames over --max-h2-frame or --max-h2-header-block"
        )),
        "{text}"
    );
}

#[test]
fn hpack_header_list_cap_counts_every_field_it_cuts() {
    // tshark: the header fields of every HEADERS frame (35 on each connection).
    let rows = read_tsv(
        &project_dir().join("captures/oracle/tls-keylog.pcap.keylog-http2-header-counts.tsv"),
    );
    let fields: u64 = rows
        .iter()
        .map(|r| r["header_count"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(fields, 70);
    let keys = ["--keylog", "tls-keylog.keys"];
    let with_cap = |cap: &str| {
        summary(&run(&[
            "tls-keylog.pcap",
            keys[0],
            keys[1],
            "--format",
            "json",
            "--max-h2-header-list",
            cap,
        ]))
    };
    // A cap no field fits under: every field counted, none kept.
    let s = with_cap("0");
    assert_eq!(s["http2_header_fields_cut"], fields, "{s}");
    // Room for `:method: GET` (7 + 3 + 32 = 42 bytes) and no more in each request block: the
    // request fields but the first are cut; responses' first field `:status` (7 + 3 + 32)
    // fits too. 12 blocks, one field kept in each.
    let s = with_cap("42");
    assert_eq!(s["http2_header_fields_cut"], fields - 12, "{s}");
    // The default keeps everything, and the table floor is clap's to refuse.
    assert!(with_cap("65536").get("http2_header_fields_cut").is_none());
    let out = assert_cmd::Command::new(bin())
        .args(["read", "x.pcap", "--max-hpack-table", "100"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("4096"));
}

#[test]
fn quic_crypto_cap_cuts_the_hellos_and_says_so() {
    let json = run(&["quic-h3.pcap", "--format", "json"]);
    assert!(
        json.contains("\"type\":\"tls\""),
        "the hellos without a cap"
    );
    assert!(summary(&json).get("quic_crypto_cut_bytes").is_none());
    let json = run(&[
        "quic-h3.pcap",
        "--format",
        "json",
        "--max-quic-crypto",
        "100",
    ]);
    // A ClientHello is longer than 100 bytes: neither hello is read, the bytes are counted.
    assert!(!json.contains("\"type\":\"tls\""), "{json}");
    let s = summary(&json);
    assert!(s["quic_crypto_cut_bytes"].as_u64().unwrap() > 100, "{s}");
}

#[test]
fn quic_stream_cap_cuts_streams_and_their_requests() {
    let keys = ["--keylog", "quic-h3.keys"];
    let json = run(&["quic-h3.pcap", keys[0], keys[1], "--format", "json"]);
    let requests = |j: &str| j.matches("\"type\":\"http\"").count();
    assert_eq!(requests(&json), 6, "six requests (captures/README.md)");
    // Two stream directions: the first two (the server's and the client's control streams)
    // are followed, every later one is cut.
    let json = run(&[
        "quic-h3.pcap",
        keys[0],
        keys[1],
        "--format",
        "json",
        "--max-quic-streams",
        "2",
    ]);
    let s = summary(&json);
    let d = &s["tls_decryption"];
    assert!(d["http3_streams_cut"].as_u64().unwrap() > 0, "{s}");
    assert!(d["quic_stream_bytes_cut"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(requests(&json), 0, "{json}");
}
