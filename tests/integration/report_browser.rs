//! The HTML report in a real browser: Debian's headless Chromium driven through WebDriver
//! (Python's selenium with /usr/bin/chromedriver; `tests/browser/report_check.py` reports
//! what the page shows as JSON, this test compares it with layerscope's JSON output, the
//! pcap's own bytes and tshark's oracle). Screenshots are kept in
//! `target/report-screenshots/`.
//!
//! Skipped with a visible `SKIPPED …` line when chromium, chromedriver or selenium are
//! missing, unless `LAYERSCOPE_REQUIRE_BROWSER=1` (CI), which makes that a failure.

use super::report::{hostile_capture, json_counts, pcap_frame, report, scratch, tshark_counts};
use super::support::{project_dir, skipped};
use std::path::Path;
use std::process::Command;

/// Runs the driver script; None (after saying so) when the browser stack is missing.
fn browse(html: &Path, shots: &str, args: &[&str]) -> Option<serde_json::Value> {
    let script = project_dir().join("tests/browser/report_check.py");
    let shots = project_dir().join("target/report-screenshots").join(shots);
    let out = Command::new("python3")
        .arg(&script)
        .arg(html)
        .arg(&shots)
        .args(args)
        .output();
    let require = std::env::var_os("LAYERSCOPE_REQUIRE_BROWSER").is_some_and(|v| v == "1");
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            assert!(!require, "python3 could not run: {e}");
            skipped(&format!("report browser test: python3 is missing ({e})"));
            return None;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.code() == Some(2) && stdout.starts_with("MISSING") {
        assert!(
            !require,
            "LAYERSCOPE_REQUIRE_BROWSER=1 but {}",
            stdout.trim()
        );
        skipped(&format!("report browser test: {}", stdout.trim()));
        return None;
    }
    assert!(
        out.status.success(),
        "driver failed: {}\n{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_str(stdout.trim()).expect("driver prints JSON"))
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// What the page loaded and sent: only the page itself (chrome:// pages of the browser's
/// own start-up come before it and are not the page's).
fn assert_no_network(page: &serde_json::Value, html: &Path) {
    assert_eq!(
        strings(&page["resources"]),
        Vec::<String>::new(),
        "resources loaded"
    );
    let requests = strings(&page["requests"]);
    let url = format!("file://{}", html.display());
    let at = requests
        .iter()
        .position(|r| *r == url)
        .unwrap_or_else(|| panic!("the page's own request in {requests:?}"));
    let after: Vec<&String> = requests[at + 1..].iter().collect();
    assert!(after.is_empty(), "requests after the page: {after:?}");
    let network: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("http") || r.starts_with("ws"))
        .collect();
    assert!(network.is_empty(), "network requests: {network:?}");
}

/// The tables' data holds `frames` packets, and paging through every table drew each row
/// once, in frame order, every one with its data-frame and (in a connection) data-conn; at
/// load no table had drawn more than one page (100 rows).
fn assert_pages_show_every_row(page: &serde_json::Value, frames: usize) {
    assert_eq!(page["packet_rows"], frames);
    assert_eq!(page["frames"], page["data_frames"]);
    assert_eq!(
        page["frames"],
        serde_json::json!((1..=frames as u64).collect::<Vec<_>>())
    );
    assert_eq!(page["rows_without_conn"], 0);
    assert!(page["rendered_rows_at_load"].as_u64().unwrap() <= 100);
}

#[test]
fn report_in_chromium_counts_explain_filter_theme() {
    let dir = scratch("browser");
    let capture = project_dir().join("captures/http11-keepalive.pcap");
    let html = dir.join("keepalive.html");
    report(&capture, &html, &[]);
    let Some(page) = browse(
        &html,
        "keepalive",
        &["--frame", "4", "--filter", "GET", "--print"],
    ) else {
        return;
    };
    assert_eq!(page["ready"], true);
    // Counts in the DOM against the JSON output and tshark.
    let (packets, conns) = json_counts(&capture, &[]);
    let (frames, streams) = tshark_counts("http11-keepalive.pcap");
    assert_eq!(packets, frames);
    assert_pages_show_every_row(&page, frames);
    assert_eq!(page["lazy_left"], 0, "every ladder drawn once scrolled to");
    assert_eq!(page["conn_rows"], conns);
    assert_eq!(page["conn_rows"], streams);
    assert_eq!(page["conn_sections"], conns);
    assert_eq!(page["summary_frames"], frames);
    assert_eq!(page["ladder_arrows"], frames, "every packet is an arrow");
    assert_eq!(page["graphs_closed"], 0, "drawn when their box opens");
    assert_eq!(page["graphs"], 2, "time-sequence and RTT");
    assert_eq!(page["lazy_left_after_open"], 0);
    assert!(page["story_links"].as_u64().unwrap() >= 10);
    // The explain pane of frame 4: the layers, the fields, the bytes of the file.
    assert_eq!(page["pane_visible"], true);
    assert_eq!(page["pane_title"], "Frame 4");
    assert_eq!(
        strings(&page["pane_layers"]),
        [
            "L2 Ethernet [0,14) 14 bytes",
            "L3 IPv4 [14,34) 20 bytes",
            "L4 TCP [34,66) 32 bytes",
            "L7 HTTP [66,145) 79 bytes"
        ]
    );
    let fields = page["pane_fields"].as_array().unwrap();
    let has = |layer: u64, name: &str, raw: &str| {
        fields
            .iter()
            .any(|f| f[0] == layer && f[1] == name && f[2] == raw)
    };
    // tshark: 127.0.0.1:40003 → 127.0.0.1:8080, relative seq 1.
    assert!(has(1, "source", "127.0.0.1"), "{fields:?}");
    assert!(has(2, "source port", "40003"), "{fields:?}");
    assert!(has(2, "dest port", "8080"), "{fields:?}");
    assert!(has(3, "request line", "GET /a HTTP/1.1"), "{fields:?}");
    let osi = page["pane_osi"].as_array().unwrap();
    assert_eq!(osi[3][0], "4 transport");
    assert_eq!(osi[3][1], "TCP [34,66)");
    assert_eq!(osi[3][2], "transport");
    assert_eq!(osi[4][2], "internet");
    let wire = pcap_frame(&capture, 4);
    assert_eq!(page["hex_bytes"], wire.len());
    let hex: String = wire.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(page["hex_text"], hex.as_str());
    // Hovering TCP "seq" lights exactly its bytes [38, 42) (TCP at 34, seq at +4..+8);
    // hovering byte 20 (IPv4 at 14, +6) lights the IPv4 field covering it, "flags, offset".
    assert_eq!(page["hover_field_rows"], serde_json::json!(["seq"]));
    assert_eq!(page["hover_field_layer"], 2);
    let lit: Vec<u64> = page["hover_field_bytes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(lit, (38..42).collect::<Vec<u64>>());
    assert_eq!(page["hover_byte_layer"], 1);
    assert_eq!(
        page["hover_byte_fields"],
        serde_json::json!([[1, "flags, offset"]])
    );
    assert_eq!(page["hover_byte_bytes"], serde_json::json!([20]));
    // Keyboard: j goes to the next packet, Escape closes the pane.
    assert_eq!(page["after_j"], "Frame 5");
    assert_eq!(page["pane_after_escape"], false);
    assert_eq!(page["slash_focus"], "filter");
    assert_ne!(page["escape_focus"], "filter");
    assert_eq!(page["t_theme"], "dark");
    // Printing: controls and pane hidden, light, every row drawn (22), then paged again;
    // the PDF is kept with the screenshots.
    assert_eq!(
        page["print_hidden"],
        serde_json::json!(["none", "none", "none", "none", "none"])
    );
    assert_eq!(page["print_rows"], 22);
    assert_eq!(page["print_theme"], "light");
    assert_eq!(page["rows_after_print"], 22);
    assert!(page["pdf_bytes"].as_u64().unwrap() > 10_000);
    // The filter: "GET" leaves the three request rows (tshark's http.tsv: 4, 10, 15).
    assert_eq!(page["filter_rows"], serde_json::json!([4, 10, 15]));
    assert_eq!(page["filter_count_text"], "3 of 22 packets match");
    // Theme switch: dark, and the page's background follows.
    assert_eq!(page["theme"], "dark");
    assert_eq!(page["bg_before"], "rgb(255, 255, 255)");
    assert_eq!(page["bg_after"], "rgb(15, 20, 25)");
    assert_eq!(strings(&page["console"]), Vec::<String>::new(), "console");
    assert_no_network(&page, &html);
    for shot in [
        "report-light.png",
        "report-explain.png",
        "report-filter.png",
        "report-dark.png",
    ] {
        let p = project_dir()
            .join("target/report-screenshots/keepalive")
            .join(shot);
        assert!(
            std::fs::metadata(&p).is_ok_and(|m| m.len() > 10_000),
            "{shot}"
        );
    }
}

#[test]
fn hostile_capture_renders_as_text_in_chromium() {
    let dir = scratch("browser-hostile");
    let capture = dir.join("hostile.pcap");
    std::fs::write(&capture, hostile_capture()).unwrap();
    let html = dir.join("hostile.html");
    report(&capture, &html, &[]);
    let Some(page) = browse(&html, "hostile", &["--frame", "4", "--hostile"]) else {
        return;
    };
    assert_eq!(page["pwned"], false, "a script from the wire ran");
    assert_eq!(page["scripts"], 1, "only the page's own program");
    assert_eq!(
        page["script_types"],
        serde_json::json!(["", "application/json"]),
        "data, and the program; the ladders' markup text has become elements"
    );
    assert_eq!(page["lazy_left"], 0);
    assert_eq!(page["injected_elements"], 0);
    let cells = strings(&page["cells_text"]);
    assert!(
        cells
            .iter()
            .any(|c| c.starts_with("/<script>window.__pwned=1</script>")),
        "{cells:?}"
    );
    assert!(cells.iter().any(|c| c.contains("\\x1b[2J")), "{cells:?}");
    assert_eq!(strings(&page["console"]), Vec::<String>::new(), "console");
    assert_no_network(&page, &html);
}

#[test]
fn long_table_pages_through_every_row_in_chromium() {
    let dir = scratch("browser-pages");
    let capture = project_dir().join("captures/timing-tbf.pcap");
    let html = dir.join("tbf.html");
    report(&capture, &html, &[]);
    // Frame 100 ends the first page of 100 rows: j must draw the second page.
    let Some(page) = browse(&html, "timing-tbf", &["--frame", "100", "--print"]) else {
        return;
    };
    let (frames, _) = tshark_counts("timing-tbf.pcap");
    assert!(frames > 300, "{frames} frames: more than three pages");
    assert_pages_show_every_row(&page, frames);
    // Keyboard across the page boundary: 100 → j → 101 (drawn, selected) → k → 100.
    assert_eq!(page["pane_title"], "Frame 100");
    assert_eq!(page["after_j"], "Frame 101");
    assert_eq!(page["after_j_row_drawn"], 101);
    assert_eq!(page["after_k"], "Frame 100");
    // Printing draws every row of every table at once, and pages them again after.
    assert_eq!(page["print_rows"], frames);
    assert!(page["rows_after_print"].as_u64().unwrap() <= 100);
    assert_eq!(strings(&page["console"]), Vec::<String>::new(), "console");
    assert_no_network(&page, &html);
}

#[test]
fn tunnel_and_decrypted_pages_in_chromium() {
    // VXLAN: hovering the VNI lights exactly its bytes (VXLAN at 42, VNI at +4..+7).
    let dir = scratch("browser-tunnel");
    let capture = project_dir().join("captures/tunnel-vxlan.pcap");
    let html = dir.join("vxlan.html");
    report(&capture, &html, &[]);
    let Some(page) = browse(&html, "vxlan", &["--frame", "1", "--hover", "VXLAN:VNI"]) else {
        return;
    };
    assert_eq!(page["conn_rows"], 3);
    assert_eq!(page["conn_sections"], 3);
    assert_pages_show_every_row(&page, tshark_counts("tunnel-vxlan.pcap").0);
    assert_eq!(
        strings(&page["pane_layers"]).len(),
        7,
        "{}",
        page["pane_layers"]
    );
    assert_eq!(page["hover_named_rows"], serde_json::json!(["VNI"]));
    assert_eq!(page["hover_named_bytes"], serde_json::json!([46, 47, 48]));
    assert_eq!(strings(&page["console"]), Vec::<String>::new(), "console");
    assert_no_network(&page, &html);
    // TLS with the key log: the request's pane says what the decrypted record carried.
    let capture = project_dir().join("captures/tls-keylog.pcap");
    let keys = project_dir().join("captures/tls-keylog.keys");
    let html = dir.join("keylog.html");
    report(&capture, &html, &["--keylog", keys.to_str().unwrap()]);
    let Some(page) = browse(&html, "keylog", &["--frame", "10", "--filter", "POST"]) else {
        return;
    };
    // tshark with the same keys (keylog-http.tsv): frame 10 is GET /index.html, and the
    // filter "POST" leaves exactly the POST request rows it reads.
    assert_eq!(
        page["pane_app"]
            .as_str()
            .map(|a| a.starts_with("Application: GET /index.html")),
        Some(true),
        "{}",
        page["pane_app"]
    );
    let oracle = super::support::read_tsv(
        &project_dir().join("captures/oracle/tls-keylog.pcap.keylog-http.tsv"),
    );
    let posts: Vec<u64> = oracle
        .iter()
        .filter(|r| r["method"] == "POST")
        .map(|r| r["frame"].parse().unwrap())
        .collect();
    assert_eq!(page["filter_rows"], serde_json::json!(posts));
    assert_eq!(strings(&page["console"]), Vec::<String>::new(), "console");
    assert_no_network(&page, &html);
}
