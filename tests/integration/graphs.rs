//! `layerscope graph` (terminal and SVG) and `read --view rtt` on the project's captures:
//! snapshots of the drawings, the SVG parsed by a real XML parser, widths and colours.

use super::support::project_dir;
use assert_cmd::Command;

const KINDS: [&str; 5] = ["seq", "tcptrace", "rtt", "throughput", "window"];

fn run(args: &[&str]) -> String {
    let out = Command::cargo_bin("layerscope")
        .unwrap()
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn capture(name: &str) -> String {
    project_dir()
        .join("captures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn graph(name: &str, kind: &str, extra: &[&str]) -> String {
    let file = capture(name);
    let mut args = vec!["graph", file.as_str(), "--conn", "0", "--kind", kind];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn terminal_graphs_http11_keepalive() {
    for kind in KINDS {
        let text = graph(
            "http11-keepalive.pcap",
            kind,
            &["--color", "never", "--width", "80", "--teach"],
        );
        assert!(!text.contains('\x1b'));
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{kind}: too wide: {line}");
        }
        insta::assert_snapshot!(format!("graph_text_{kind}"), text);
    }
}

#[test]
fn terminal_graph_fits_the_width_and_colours_on_request() {
    let narrow = graph(
        "http10-close.pcap",
        "tcptrace",
        &["--color", "never", "--width", "50"],
    );
    assert!(narrow.lines().all(|l| l.chars().count() <= 50), "{narrow}");
    let wide = graph(
        "http10-close.pcap",
        "tcptrace",
        &["--color", "never", "--width", "140"],
    );
    assert!(wide.lines().any(|l| l.chars().count() > 100));
    let coloured = graph("http10-close.pcap", "tcptrace", &["--color", "always"]);
    // Data blue, ACK green.
    assert!(coloured.contains("\x1b[34m") && coloured.contains("\x1b[32m"));
}

#[test]
fn svg_graphs_parse_as_xml_with_axes_legend_and_every_segment() {
    // The server's data segments (payload or FIN), from the JSON output.
    let json = run(&[
        "read",
        &capture("http11-keepalive.pcap"),
        "--format",
        "json",
    ]);
    let server_segments = json
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "packet" && v["dir"] == "to_client")
        .filter(|v| {
            let tcp = &v["tcp"];
            tcp["len"].as_u64().unwrap_or(0) > 0
                || tcp["flags"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|x| x == "SYN" || x == "FIN"))
        })
        .count();
    assert!(server_segments >= 4);
    for kind in KINDS {
        let svg = graph("http11-keepalive.pcap", kind, &["--format", "svg"]);
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        assert!(
            texts
                .iter()
                .any(|t| t.contains("time since the connection")),
            "{kind}: x label"
        );
        assert!(
            texts.iter().any(|t| t.starts_with("conn 0 ")),
            "{kind}: title"
        );
        let legend = doc
            .descendants()
            .find(|n| n.attribute("class") == Some("legend"))
            .unwrap_or_else(|| panic!("{kind}: no legend"));
        assert!(legend.children().any(|n| n.has_tag_name("rect")));
        if kind == "seq" {
            let data = doc
                .descendants()
                .find(|n| n.attribute("data-role") == Some("data segment"))
                .expect("data series");
            let dots = data.children().filter(|n| n.has_tag_name("circle")).count();
            assert_eq!(dots, server_segments);
        }
    }
    insta::assert_snapshot!(
        "graph_svg_tcptrace",
        graph("http11-keepalive.pcap", "tcptrace", &["--format", "svg"])
    );
}

#[test]
fn graph_of_a_missing_connection_fails() {
    let out = Command::cargo_bin("layerscope")
        .unwrap()
        .args(["graph", &capture("http11-keepalive.pcap"), "--conn", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no TCP connection 9"));
}

#[test]
fn rtt_view_lists_every_sample() {
    let text = run(&[
        "read",
        &capture("http11-keepalive.pcap"),
        "--view",
        "rtt",
        "--conn",
        "0",
    ]);
    // tshark's ack_rtt rows of the capture (oracle/http11-keepalive.pcap.rtt.tsv) are the
    // samples, one row each.
    let oracle = std::fs::read_to_string(
        project_dir().join("captures/oracle/http11-keepalive.pcap.rtt.tsv"),
    )
    .unwrap();
    let samples: Vec<(String, f64)> = oracle
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            c.get(1)?
                .parse::<f64>()
                .ok()
                .map(|s| (c[0].to_string(), s * 1e3))
        })
        .collect();
    assert!(!samples.is_empty());
    for (frame, ms) in &samples {
        let row = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(frame.as_str()))
            .unwrap_or_else(|| panic!("no row for frame {frame}:\n{text}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols[4], format!("{ms:.3}"), "frame {frame}");
    }
    insta::assert_snapshot!("rtt_view_http11_keepalive", text);
}

/// Whole-capture graphs (no `--conn`): the SVG parses, the connections graph counts the
/// capture's two connections (`http10-close.pcap`: frames 1–12 and 13–24, one after the
/// other), the throughput graph's bars, times the interval, add up to the capture's frame
/// bytes (every frame belongs to one of the two connections, so the JSON `conn` records'
/// byte counts are the total).
#[test]
fn whole_capture_graphs() {
    let file = capture("http10-close.pcap");
    let svg = run(&["graph", &file, "--kind", "conns", "--format", "svg"]);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let started = doc
        .descendants()
        .find(|n| n.attribute("data-role") == Some("connections started"))
        .expect("started series");
    assert_eq!(started.children().filter(|n| n.is_element()).count(), 2);
    let text = run(&[
        "graph", &file, "--kind", "conns", "--color", "never", "--width", "80", "--teach",
    ]);
    assert!(text.contains("connections open"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80));
    insta::assert_snapshot!("graph_capture_conns", text);

    // The bit rate bars, times the interval, are the frame bytes of the capture.
    let svg = run(&["graph", &file, "--kind", "throughput", "--format", "svg"]);
    assert!(roxmltree::Document::parse(&svg).is_ok());
    let json = run(&["read", &file, "--format", "json"]);
    let wire: u64 = json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "conn")
        .map(|v| {
            v["bytes"]["to_server"].as_u64().unwrap() + v["bytes"]["to_client"].as_u64().unwrap()
        })
        .sum();
    use layerscope::capture::FrameSource as _;
    let mut t = layerscope::render::graph::capture::CaptureTimeline::new();
    let mut source = layerscope::capture::FileSource::open(std::path::Path::new(&file)).unwrap();
    while let Some(f) = source.next_frame().unwrap() {
        t.frame(f.ts, f.orig_len);
    }
    let g = t.graph(layerscope::render::graph::GraphKind::CaptureThroughput);
    let bits: f64 = g.series[0]
        .points
        .iter()
        .map(|p| p.y * t.interval_s())
        .sum();
    assert!(
        (bits / 8.0 - wire as f64).abs() < 0.5,
        "{bits} bits vs {wire} bytes"
    );

    // A per-connection kind without --conn says what to do.
    let out = Command::cargo_bin("layerscope")
        .unwrap()
        .args(["graph", &file, "--kind", "seq"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --conn ID"));
}
