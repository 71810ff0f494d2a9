//! `layerscope report`: the HTML page read back as XML (it is well-formed by design), its
//! rows and connections counted against `read --format json` and tshark's oracle, wire
//! bytes escaped (a capture whose URI carries `<script>` and terminal escapes), the size cap
//! and its note, and an insta snapshot of one small section. The browser tests are in
//! `report_browser.rs`.

use super::hostile::{http_conversation_on, pcap, EVIL};
use super::support::{bin, project_dir, read_tsv};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh folder under cargo's per-target temporary directory.
pub(super) fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `layerscope report CAPTURE -o OUT ARGS…` and returns the page.
pub(super) fn report(capture: &Path, out: &Path, args: &[&str]) -> String {
    let run = Command::new(bin())
        .arg("report")
        .arg(capture)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.stdout.is_empty(), "report writes the file, not stdout");
    std::fs::read_to_string(out).unwrap()
}

/// (packet records, conn records) of `read --format json`.
pub(super) fn json_counts(capture: &Path, args: &[&str]) -> (usize, usize) {
    let run = Command::new(bin())
        .arg("read")
        .arg(capture)
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let (mut packets, mut conns) = (0, 0);
    for line in String::from_utf8(run.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        match v["type"].as_str() {
            Some("packet") => packets += 1,
            Some("conn") => conns += 1,
            _ => {}
        }
    }
    (packets, conns)
}

/// The page as an XML tree (the doctype line dropped).
pub(super) fn parse(html: &str) -> roxmltree::Document<'_> {
    let body = html
        .strip_prefix("<!DOCTYPE html>\n")
        .expect("doctype first");
    roxmltree::Document::parse(body).expect("the page is well-formed XML")
}

fn class_has(n: &roxmltree::Node<'_, '_>, class: &str) -> bool {
    n.attribute("class")
        .is_some_and(|c| c.split(' ').any(|w| w == class))
}

/// The packet tables' data (the rows the script renders a page at a time), in page order:
/// each table's `data-conn` (None for the packets of no connection) and its rows, each row
/// the array `packet_table::ROW_COLUMNS` names. Each table's `data-rows` says how many.
pub(super) fn packet_tables(
    doc: &roxmltree::Document<'_>,
) -> Vec<(Option<u64>, Vec<serde_json::Value>)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("table") && class_has(n, "packets"))
        .map(|t| {
            let holder = t
                .parent()
                .and_then(|w| w.parent())
                .expect("table's section");
            let script = holder
                .children()
                .find(|n| n.has_tag_name("script") && class_has(n, "rows"))
                .expect("the table's rows");
            let rows: Vec<serde_json::Value> =
                serde_json::from_str(script.text().unwrap_or("[]")).expect("rows JSON");
            assert_eq!(
                t.attribute("data-rows").and_then(|n| n.parse().ok()),
                Some(rows.len()),
                "data-rows"
            );
            (t.attribute("data-conn").map(|c| c.parse().unwrap()), rows)
        })
        .collect()
}

/// The frames of the packet tables' rows, in page order.
fn packet_rows(doc: &roxmltree::Document<'_>) -> Vec<u64> {
    packet_tables(doc)
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r[0].as_u64().unwrap()))
        .collect()
}

fn conn_rows(doc: &roxmltree::Document<'_>) -> usize {
    doc.descendants()
        .filter(|n| n.has_tag_name("tr") && n.attribute("data-conn").is_some())
        .filter(|n| {
            n.ancestors()
                .any(|a| a.has_tag_name("table") && class_has(&a, "conns"))
        })
        .count()
}

/// The embedded explain data.
fn explain_data(doc: &roxmltree::Document<'_>) -> serde_json::Value {
    let script = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("explain-data"))
        .expect("explain data");
    serde_json::from_str(script.text().unwrap()).unwrap()
}

/// Frames and TCP+UDP streams in tshark's oracle of a shipped capture.
pub(super) fn tshark_counts(capture: &str) -> (usize, usize) {
    let rows = read_tsv(
        &project_dir()
            .join("captures/oracle")
            .join(format!("{capture}.frames.tsv")),
    );
    let mut streams = std::collections::HashSet::new();
    for r in &rows {
        for key in ["tcp_stream", "udp_stream"] {
            if let Some(s) = r.get(key).filter(|s| !s.is_empty()) {
                streams.insert((key, s.clone()));
            }
        }
    }
    (rows.len(), streams.len())
}

/// Frame `n`'s captured bytes, read from a classic pcap file directly.
pub(super) fn pcap_frame(path: &Path, n: usize) -> Vec<u8> {
    let data = std::fs::read(path).unwrap();
    let mut at = 24;
    let mut i = 1;
    loop {
        let caplen = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        if i == n {
            return data[at + 16..at + 16 + caplen].to_vec();
        }
        at += 16 + caplen;
        i += 1;
    }
}

#[test]
fn shipped_captures_every_packet_and_connection_on_the_page() {
    let dir = scratch("shipped");
    for name in [
        "http11-keepalive.pcap",
        "http10-close.pcap",
        "dns-udp.pcap",
        "refused.pcap",
        "ipv6-http.pcap",
        "tls13.pcap",
        "tunnel-vxlan.pcap",
    ] {
        let capture = project_dir().join("captures").join(name);
        let html = report(&capture, &dir.join(format!("{name}.html")), &[]);
        let doc = parse(&html);
        let (json_packets, json_conns) = json_counts(&capture, &[]);
        let (tshark_frames, tshark_streams) = tshark_counts(name);
        let rows = packet_rows(&doc);
        assert_eq!(rows.len(), json_packets, "{name}: rows vs JSON packets");
        assert_eq!(rows.len(), tshark_frames, "{name}: rows vs tshark frames");
        assert_eq!(conn_rows(&doc), json_conns, "{name}: conns vs JSON conns");
        assert_eq!(
            conn_rows(&doc),
            tshark_streams,
            "{name}: conns vs tshark streams"
        );
        // Every frame once, and every connection has its section.
        let mut sorted = rows.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            sorted,
            (1..=tshark_frames as u64).collect::<Vec<_>>(),
            "{name}"
        );
        let sections = doc
            .descendants()
            .filter(|n| n.has_tag_name("section") && class_has(n, "conn"))
            .filter(|n| n.attribute("data-conn").is_some())
            .count();
        assert_eq!(sections, json_conns, "{name}: sections");
        // Every packet is explained, with its bytes.
        let data = explain_data(&doc);
        assert_eq!(
            data["frames"].as_array().unwrap().len(),
            rows.len(),
            "{name}"
        );
        // Self-contained: nothing that could fetch.
        for bad in ["http://", "https://", "src=\"", "@import", "url(http"] {
            let hits: Vec<&str> = html
                .match_indices(bad)
                .map(|(i, _)| &html[i.saturating_sub(40)..(i + 60).min(html.len())])
                .filter(|ctx| !ctx.contains("xmlns=\"http://www.w3.org/2000/svg\""))
                .collect();
            assert!(hits.is_empty(), "{name}: {bad} in {hits:?}");
        }
    }
}

#[test]
fn explain_data_matches_the_wire_and_tshark() {
    let dir = scratch("explain");
    let capture = project_dir().join("captures/http11-keepalive.pcap");
    let html = report(&capture, &dir.join("k.html"), &[]);
    let doc = parse(&html);
    let data = explain_data(&doc);
    let f4 = data["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["f"] == 4)
        .expect("frame 4");
    // The bytes are the file's.
    let wire = pcap_frame(&capture, 4);
    let hex: String = wire.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(f4["b"].as_str().unwrap(), hex);
    // tshark: frame 4 is 145 bytes, TCP payload 79, so the 32-byte TCP header (with
    // options) spans [34, 66) after 14 bytes of Ethernet and 20 of IPv4 (IHL 5).
    let oracle = read_tsv(&project_dir().join("captures/oracle/http11-keepalive.pcap.frames.tsv"));
    let row = oracle.iter().find(|r| r["frame"] == "4").unwrap();
    let caplen: u64 = row["caplen"].parse().unwrap();
    let tcp_len: u64 = row["tcp_len"].parse().unwrap();
    // Titles, names and meanings are indices into the page's string table.
    let strings = data["S"].as_array().unwrap();
    let text = |v: &serde_json::Value| strings[v.as_u64().unwrap() as usize].clone();
    let layers = f4["L"].as_array().unwrap();
    let tcp = layers.iter().find(|l| text(&l[0]) == "TCP").unwrap();
    assert_eq!(
        (tcp[3].as_u64(), tcp[4].as_u64()),
        (Some(34), Some(caplen - tcp_len))
    );
    assert_eq!(tcp[1], 4, "OSI layer 4");
    assert_eq!(tcp[2], "transport");
    // The fields are explain's: the TCP ports and the request line.
    let fields = f4["F"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| text(&f[1]) == name).cloned();
    let tcp_index = layers.iter().position(|l| text(&l[0]) == "TCP").unwrap();
    assert_eq!(field("source port").unwrap()[0], tcp_index);
    assert_eq!(
        field("source port").unwrap()[2],
        row["tcp_srcport"].as_str()
    );
    assert_eq!(field("dest port").unwrap()[2], row["tcp_dstport"].as_str());
    assert_eq!(field("request line").unwrap()[2], "GET /a HTTP/1.1");
    // Each wire field carries its own bytes in the frame (TCP at 34: seq at +4..+8, the
    // ports at +0..+2 and +2..+4); the lines explain adds itself carry none.
    let bytes = |name: &str| {
        let f = field(name).unwrap();
        (f[4].as_u64(), f[5].as_u64())
    };
    assert_eq!(bytes("seq"), (Some(38), Some(42)));
    assert_eq!(bytes("source port"), (Some(34), Some(36)));
    assert_eq!(bytes("dest port"), (Some(36), Some(38)));
    assert_eq!(bytes("ethertype"), (Some(12), Some(14)));
    assert_eq!(bytes("ttl"), (Some(22), Some(23)));
    assert_eq!(bytes("request line"), (None, None));
}

/// A capture whose request URI, Host and status carry markup and terminal escapes.
pub(super) fn hostile_capture() -> Vec<u8> {
    let mut request =
        b"GET /<script>window.__pwned=1</script>\"'><img src=x onerror=window.__pwned=1>".to_vec();
    request.extend_from_slice(b" HTTP/1.1\r\nHost: <b id=x>h</b>\r\n\r\n");
    let response = b"HTTP/1.1 200 <script>window.__pwned=1</script>\r\nContent-Length: 0\r\n\r\n";
    let mut frames = http_conversation_on(40100, &request, response);
    let mut evil = b"GET /a".to_vec();
    evil.extend_from_slice(EVIL);
    evil.extend_from_slice(b"</script><script>window.__pwned=1</script> HTTP/1.1\r\n\r\n");
    frames.extend(http_conversation_on(
        40101,
        &evil,
        b"HTTP/1.1 404 N\xe2\x80\xa8o\r\n\r\n",
    ));
    pcap(1, &frames)
}

#[test]
fn wire_bytes_are_escaped_in_the_page() {
    let dir = scratch("hostile");
    let capture = dir.join("hostile.pcap");
    std::fs::write(&capture, hostile_capture()).unwrap();
    let html = report(&capture, &dir.join("hostile.html"), &[]);
    // No control byte of the wire (ESC, BEL, CR, NUL) and no U+2028 in the page.
    for (i, c) in html.char_indices() {
        assert!(
            !((c as u32) < 0x20 && c != '\n' && c != '\t') && c != '\u{2028}',
            "char {:?} at {i}: {}",
            c,
            &html[i.saturating_sub(60)..i]
        );
    }
    // Only the page's own script elements: one program, and data the browser never runs
    // (the explain data and each table's rows as JSON, the ladders and graphs as markup
    // text); no img, no injected b.
    let doc = parse(&html);
    let count = |tag: &str| doc.descendants().filter(|n| n.has_tag_name(tag)).count();
    let kinds: Vec<(Option<&str>, Option<&str>)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("script"))
        .map(|n| (n.attribute("type"), n.attribute("class")))
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| k.0.is_none()).count(),
        1,
        "{kinds:?}"
    );
    for k in &kinds {
        assert!(
            matches!(
                k,
                (None, None)
                    | (Some("application/json"), Some("rows") | None)
                    | (Some("text/x-layerscope-markup"), Some("lazy"))
            ),
            "{kinds:?}"
        );
    }
    assert_eq!(
        kinds.iter().filter(|k| k.1 == Some("rows")).count(),
        2,
        "two tables"
    );
    assert_eq!(count("img"), 0);
    assert!(!doc
        .descendants()
        .any(|n| n.has_tag_name("b") && n.attribute("id") == Some("x")));
    // The URI is text, shown as it was sent.
    let uris: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("td") && class_has(n, "uri"))
        .map(|n| n.text().unwrap_or("").to_string())
        .collect();
    assert!(
        uris.iter()
            .any(|u| u.starts_with("/<script>window.__pwned=1</script>")),
        "{uris:?}"
    );
    // The terminal escapes are shown escaped, as the terminal views show them.
    assert!(html.contains("\\x1b[2J"), "escaped ESC shown");
    // Inside the script element's JSON, markup characters are \u escapes.
    let json_start = html.find("id=\"explain-data\">").unwrap();
    let json_end = json_start + html[json_start..].find("</script>").unwrap();
    let json = &html[json_start + 18..json_end];
    assert!(
        !json.contains('<') && !json.contains('&'),
        "raw markup in the JSON"
    );
    assert!(json.contains("\\u003cscript\\u003e"));
    // And in the tables' rows: the request line, as sent, is text in the JSON.
    let rows: Vec<String> = packet_tables(&doc)
        .iter()
        .flat_map(|(_, rows)| rows.iter())
        .map(|r| r[15].as_str().unwrap().to_string())
        .collect();
    assert!(
        rows.iter()
            .any(|l7| l7.starts_with("GET /<script>window.__pwned=1</script>")),
        "{rows:?}"
    );
    for script in html.split("class=\"rows\">").skip(1) {
        let json = &script[..script.find("</script>").unwrap()];
        assert!(
            !json.contains('<') && !json.contains('&'),
            "raw markup in rows"
        );
    }
}

#[test]
fn large_captures_are_capped_with_a_note() {
    let dir = scratch("capped");
    // 40 connections; the page may hold 10 of them and 25 rows.
    let mut frames = Vec::new();
    for i in 0..40u16 {
        frames.extend(http_conversation_on(
            41000 + i,
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ));
    }
    let capture = dir.join("many.pcap");
    std::fs::write(&capture, pcap(1, &frames)).unwrap();
    let html = report(
        &capture,
        &dir.join("many.html"),
        &["--max-conns", "10", "--max-rows", "25"],
    );
    let doc = parse(&html);
    assert_eq!(conn_rows(&doc), 10);
    assert_eq!(packet_rows(&doc).len(), 25);
    let note = |what: &str| {
        doc.descendants()
            .find(|n| n.attribute("data-cut") == Some(what))
            .map(|n| n.descendants().filter_map(|t| t.text()).collect::<String>())
            .unwrap_or_default()
    };
    // 30 connections of 8 packets left out; of the 10 kept (80 packets), 55 have no row.
    assert!(
        note("conns").starts_with("30 connections (240 packets) are left out"),
        "{}",
        note("conns")
    );
    assert!(
        note("rows").starts_with("55 packets have no table row"),
        "{}",
        note("rows")
    );
    assert!(html.contains("--conn ID"), "says how to narrow");
    // --conn narrows the page to the one connection, whole.
    let one = report(&capture, &dir.join("one.html"), &["--conn", "35"]);
    let doc = parse(&one);
    assert_eq!(conn_rows(&doc), 1);
    assert_eq!(packet_rows(&doc), (281..=288).collect::<Vec<u64>>());
    assert!(!one.contains("data-cut="));
}

#[test]
fn snapshot_of_the_refused_connection_list() {
    let dir = scratch("snapshot");
    let capture = project_dir().join("captures/refused.pcap");
    let html = report(&capture, &dir.join("refused.html"), &[]);
    let start = html.find("<section id=\"conns\">").unwrap();
    let end = start + html[start..].find("</section>").unwrap() + "</section>".len();
    insta::assert_snapshot!(html[start..end].replace("><", ">\n<"));
}

/// The time cells of the packet tables, by frame.
fn time_cells(doc: &roxmltree::Document<'_>) -> std::collections::BTreeMap<u64, String> {
    packet_tables(doc)
        .iter()
        .flat_map(|(_, rows)| rows.iter())
        .map(|r| (r[0].as_u64().unwrap(), r[3].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn times_follow_time_format() {
    let dir = scratch("time-format");
    let capture = project_dir().join("captures/refused.pcap");
    // Frame 1's time from its pcap record header (seconds, microseconds).
    let data = std::fs::read(&capture).unwrap();
    let secs = u64::from(u32::from_le_bytes(data[24..28].try_into().unwrap()));
    let micros = u32::from_le_bytes(data[28..32].try_into().unwrap());
    let cells = |format: &str| {
        let html = report(
            &capture,
            &dir.join(format!("{format}.html")),
            &["--time-format", format],
        );
        time_cells(&parse(&html))
    };
    let relative = cells("relative");
    assert_eq!(relative[&1], "0.000000");
    let epoch = cells("epoch");
    assert_eq!(epoch[&1], format!("{secs}.{micros:06}"));
    let day = secs % 86_400;
    let absolute = cells("absolute");
    assert_eq!(
        absolute[&1],
        format!(
            "{:02}:{:02}:{:02}.{micros:06}",
            day / 3600,
            day / 60 % 60,
            day % 60
        )
    );
    let html = report(
        &capture,
        &dir.join("absolute2.html"),
        &["--time-format", "absolute"],
    );
    assert!(
        html.contains("started at "),
        "the connection line says when it started"
    );
    // Delta: the first row 0, the second the gap between the two frames, which relative
    // gives too (the first row being at 0).
    let delta = cells("delta");
    assert_eq!(delta[&1], "0.000000");
    assert_eq!(delta[&2], relative[&2]);
    // The ladder writes each arrow's time as the table does (frame 1's arrow).
    for format in ["relative", "absolute", "epoch"] {
        let html = std::fs::read_to_string(dir.join(format!("{format}.html"))).unwrap();
        let doc = parse(&html);
        let arrow_time = doc
            .descendants()
            .find(|n| n.has_tag_name("g") && n.attribute("data-frame") == Some("1"))
            .and_then(|g| g.children().find(|c| class_has(c, "time")))
            .and_then(|t| t.text())
            .unwrap_or_default()
            .to_string();
        let table = time_cells(&doc)[&1].clone();
        assert_eq!(arrow_time, format!("{table}     1"), "{format}");
    }
}

/// The cells' text of each `tr` of the tables with class `class`, in page order.
fn table_cells(doc: &roxmltree::Document<'_>, class: &str) -> Vec<Vec<String>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("table") && class_has(n, class))
        .flat_map(|t| t.descendants().filter(|n| n.has_tag_name("tr")))
        .filter(|tr| tr.children().any(|c| c.has_tag_name("td")))
        .map(|tr| {
            tr.children()
                .filter(|c| c.has_tag_name("td"))
                .map(|td| {
                    td.descendants()
                        .filter(|t| t.is_text())
                        .filter_map(|t| t.text())
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// One frame's explain data: its layers (title, start, end) and fields (layer, name, raw,
/// start, end), and its application line.
#[allow(clippy::type_complexity)]
fn explained(
    doc: &roxmltree::Document<'_>,
    frame: u64,
) -> (
    Vec<(String, Option<u64>, Option<u64>)>,
    Vec<(u64, String, String, Option<u64>, Option<u64>)>,
    Option<String>,
) {
    let data = explain_data(doc);
    let strings = data["S"].as_array().unwrap().clone();
    let text = |v: &serde_json::Value| {
        strings[v.as_u64().unwrap() as usize]
            .as_str()
            .unwrap()
            .to_string()
    };
    let f = data["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["f"] == frame)
        .expect("the frame's explain data")
        .clone();
    let layers = f["L"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (text(&l[0]), l[3].as_u64(), l[4].as_u64()))
        .collect();
    let fields = f["F"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x[0].as_u64().unwrap(),
                text(&x[1]),
                x[2].as_str().unwrap().to_string(),
                x[4].as_u64(),
                x[5].as_u64(),
            )
        })
        .collect();
    (layers, fields, f["a"].as_str().map(str::to_string))
}

#[test]
fn vxlan_page_lists_the_tunnels_and_explains_the_inner_stack() {
    let dir = scratch("vxlan");
    let capture = project_dir().join("captures/tunnel-vxlan.pcap");
    let html = report(&capture, &dir.join("vxlan.html"), &[]);
    let doc = parse(&html);
    // tshark: TCP stream 0 inside UDP streams 0 (client → server VTEP) and 1 (back).
    let oracle = read_tsv(&project_dir().join("captures/oracle/tunnel-vxlan.pcap.frames.tsv"));
    let in_udp = |s: &str| oracle.iter().filter(|r| r["udp_stream"] == s).count();
    let conns = table_cells(&doc, "conns");
    assert_eq!(
        conns.len(),
        3,
        "the inner TCP connection and both tunnel flows"
    );
    let tcp = conns
        .iter()
        .find(|r| r[1] == "tcp")
        .expect("the inner TCP row");
    assert_eq!(tcp[2], "10.42.0.1:41042");
    // Its tunnel column: the VXLAN header's VNI (frame 1's bytes 46..49), the outer
    // addresses tshark reads, and the tunnel connections: both VXLAN flows carried it
    // (each direction's UDP source port is the sender's hash of the inner flow).
    let wire = pcap_frame(&capture, 1);
    let vni = u32::from_be_bytes([0, wire[46], wire[47], wire[48]]);
    assert_eq!(
        tcp.last().unwrap(),
        &format!(
            "VXLAN vni {vni} · {} → {} · inside conns 0, 2",
            oracle[0]["ip_src"], oracle[0]["ip_dst"]
        ),
        "its tunnel column"
    );
    let udp: Vec<(&str, &str)> = conns
        .iter()
        .filter(|r| r[1] == "udp")
        .map(|r| (r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        udp,
        [
            ("192.168.77.1:52029", "192.168.77.2:4789"),
            ("192.168.77.2:32966", "192.168.77.1:4789")
        ]
    );
    // The tunnels' sections say what they carried; their packets are the inner rows.
    let carried: Vec<usize> = doc
        .descendants()
        .filter_map(|n| n.attribute("data-carried"))
        .map(|c| c.parse().unwrap())
        .collect();
    assert_eq!(carried, [in_udp("0"), in_udp("1")]);
    assert_eq!(carried, [7, 5]);
    assert_eq!(
        packet_tables(&doc)
            .iter()
            .map(|(c, rows)| (*c, rows.len()))
            .collect::<Vec<_>>(),
        [(Some(1), oracle.len())]
    );
    // Frame 1's explain stack: outer Ethernet/IPv4/UDP, VXLAN, inner Ethernet/IPv4/TCP,
    // each at its bytes (14 + 20 + 8 + 8 + 14 + 20, the inner TCP SYN to the frame's end).
    let (layers, fields, _) = explained(&doc, 1);
    let caplen: u64 = oracle[0]["caplen"].parse().unwrap();
    assert_eq!(
        layers,
        [
            ("Ethernet".into(), Some(0), Some(14)),
            ("IPv4".into(), Some(14), Some(34)),
            ("UDP".into(), Some(34), Some(42)),
            ("VXLAN".into(), Some(42), Some(50)),
            ("Ethernet".into(), Some(50), Some(64)),
            ("IPv4".into(), Some(64), Some(84)),
            ("TCP".into(), Some(84), Some(caplen)),
        ]
    );
    let field = |layer: u64, name: &str| {
        fields
            .iter()
            .find(|f| f.0 == layer && f.1 == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {fields:?}"))
    };
    assert_eq!(
        field(3, "VNI"),
        (3, "VNI".into(), vni.to_string(), Some(46), Some(49))
    );
    assert_eq!(field(3, "flags").3, Some(42));
    assert_eq!(field(2, "dest port").2, oracle[0]["udp_dstport"]);
    assert_eq!(field(6, "dest port").2, oracle[0]["tcp_dstport"]);
    assert_eq!(field(6, "dest port").3, Some(86));
    assert_eq!(field(5, "source").2, "10.42.0.1");
    assert_eq!(field(1, "source").2, oracle[0]["ip_src"]);
}

#[test]
fn keylog_page_shows_http_inside_tls() {
    let dir = scratch("keylog");
    let capture = project_dir().join("captures/tls-keylog.pcap");
    let keys = project_dir().join("captures/tls-keylog.keys");
    let html = report(
        &capture,
        &dir.join("keylog.html"),
        &["--keylog", keys.to_str().unwrap()],
    );
    let doc = parse(&html);
    // Every request and response tshark reads with the same keys, in the HTTP tables:
    // (request frame, method, URI) and (response frame, status).
    let oracle = read_tsv(&project_dir().join("captures/oracle/tls-keylog.pcap.keylog-http.tsv"));
    let mut want_requests: Vec<(String, String, String)> = oracle
        .iter()
        .filter(|r| r["kind"] == "request")
        .map(|r| (r["frame"].clone(), r["method"].clone(), r["uri"].clone()))
        .collect();
    let mut want_responses: Vec<(String, String)> = oracle
        .iter()
        .filter(|r| r["kind"] == "response")
        .map(|r| (r["frame"].clone(), r["status"].clone()))
        .collect();
    let http = table_cells(&doc, "http");
    let mut requests: Vec<(String, String, String)> = http
        .iter()
        .map(|r| (r[1].clone(), r[3].clone(), r[5].clone()))
        .collect();
    let mut responses: Vec<(String, String)> = http
        .iter()
        .map(|r| (r[7].clone(), r[6].split(' ').next().unwrap().to_string()))
        .collect();
    for v in [&mut want_requests, &mut requests] {
        v.sort();
    }
    want_responses.sort();
    responses.sort();
    assert!(want_requests.len() >= 12, "{want_requests:?}");
    assert_eq!(requests, want_requests);
    assert_eq!(responses, want_responses);
    // The packet table labels the request's row, and its explain pane says what the
    // decrypted record carried, the HTTP layer marked as inside TLS (not the ciphertext
    // read as a request line).
    let first = &want_requests
        .iter()
        .find(|r| r.2 == "/index.html")
        .unwrap()
        .0;
    let frame: u64 = first.parse().unwrap();
    let row = packet_tables(&doc)
        .iter()
        .flat_map(|(_, rows)| rows.clone())
        .find(|r| r[0] == frame)
        .unwrap();
    assert!(
        row[15].as_str().unwrap().starts_with("GET /index.html"),
        "{row:?}"
    );
    let (layers, fields, app) = explained(&doc, frame);
    let titles: Vec<&str> = layers.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(titles[2..], ["TCP", "TLS", "HTTP"]);
    assert!(
        app.as_deref().unwrap().starts_with("GET /index.html"),
        "{app:?}"
    );
    let http_fields: Vec<&str> = fields
        .iter()
        .filter(|f| f.0 == 4)
        .map(|f| f.1.as_str())
        .collect();
    assert_eq!(http_fields, ["in TLS records"]);
    assert!(fields
        .iter()
        .any(|f| f.0 == 3 && f.1 == "record type" && f.2 == "23"));
    // Without the keys: the same records, no HTTP.
    let plain = report(&capture, &dir.join("nokeys.html"), &[]);
    let doc = parse(&plain);
    assert!(table_cells(&doc, "http").is_empty());
    let (layers, _, _) = explained(&doc, frame);
    assert_eq!(layers.last().unwrap().0, "TLS");
}
