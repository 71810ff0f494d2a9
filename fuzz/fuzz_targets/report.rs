//! The HTML report over arbitrary frames (cut from the input as the `pipeline` target
//! cuts them), with small caps so every cut path runs. Checks what the page promises: no
//! control character from the wire reaches it, and no `<script` but the page's own (one
//! program, its data, and markup it holds as text).
#![no_main]

use layerscope::capture::{LinkType, RawFrame, Timestamp};
use layerscope::pipeline::{Pipeline, PipelineConfig};
use layerscope::render::report::{ReportLimits, ReportOptions, ReportSink};
use layerscope::render::time::TimeFormat;
use libfuzzer_sys::fuzz_target;

const LINKS: [u32; 8] = [1, 1, 1, 101, 113, 276, 0, 228];

fuzz_target!(|data: &[u8]| {
    let mut config = PipelineConfig::default();
    config.flow.max_flows = 8;
    config.flow.max_reassembly_per_flow = 4096;
    config.flow.max_reassembly_total = 16384;
    config.app.max_http_head = 1024;
    config.flow.notes = true;
    let mut pipeline = Pipeline::new(config);
    let mut sink = ReportSink::new(
        Vec::new(),
        ReportOptions {
            title: "fuzz".into(),
            limits: ReportLimits {
                max_conns: 4,
                max_rows: 48,
                max_rows_per_conn: 16,
                max_explained: 24,
                max_bytes_per_packet: 256,
                max_ladder_rows: 12,
                max_ladder_rows_total: 30,
                max_graphs: 2,
                max_graph_packets: 20,
                max_app_per_conn: 4,
            },
            // Every way of writing times: the first byte picks one.
            time_format: match data.first().map_or(0, |b| b % 4) {
                0 => TimeFormat::Relative,
                1 => TimeFormat::Absolute,
                2 => TimeFormat::Delta,
                _ => TimeFormat::Epoch,
            },
        },
    );
    let mut rest = data;
    let mut number = 0u64;
    let mut secs = 1_000_000i64;
    while let [link, l0, l1, step, tail @ ..] = rest {
        let len = (u16::from_le_bytes([*l0, *l1]) as usize).min(tail.len());
        let (frame, next) = tail.split_at(len);
        rest = next;
        number += 1;
        secs += match step {
            250 => 7200,
            251 => -7200,
            s => (*s % 3) as i64,
        };
        let raw = RawFrame {
            number,
            ts: Timestamp {
                secs,
                nanos: (*step as u32) * 1000,
                precision: 6,
            },
            link: LinkType(LINKS[(*link & 7) as usize]),
            interface: 0,
            file: 0,
            orig_len: frame.len() as u32,
            data: frame,
        };
        if pipeline.process(&raw, &mut sink).is_err() {
            return;
        }
    }
    if pipeline.finish(&mut sink, None, None).is_err() {
        return;
    }
    let page = sink.into_inner();
    let page = std::str::from_utf8(&page).expect("the page is UTF-8");
    if let Some(c) = page
        .chars()
        .find(|&c| ((c as u32) < 0x20 && c != '\n' && c != '\t') || c == '\u{2028}')
    {
        panic!("control character {c:?} in the page");
    }
    // Only the page's own script elements: one program, the explain data, one array of
    // rows a packet table, and markup held as text (a ladder's or graph's SVG, HTTP/DNS
    // tables), whose own text never ends the element.
    const OWN: [&str; 5] = [
        "<script>//<![CDATA[",
        "<script type=\"application/json\" id=\"explain-data\">",
        "<script type=\"application/json\" class=\"rows\">",
        "<script type=\"text/x-layerscope-markup\" class=\"lazy\"><svg xmlns=\"http://www.w3.org/2000/svg\"",
        "<script type=\"text/x-layerscope-markup\" class=\"lazy\"><h3>",
    ];
    for (at, _) in page.match_indices("<script") {
        assert!(
            OWN.iter().any(|own| page[at..].starts_with(own)),
            "a <script from the wire: {}",
            &page[at..(at + 80).min(page.len())]
        );
        let body = &page[at + 7..];
        let end = body.find("</script").expect("the element ends");
        assert!(!body[..end].contains("<!--"), "markup text opens a comment");
    }
    assert_eq!(page.matches(OWN[0]).count(), 1, "one program");
    assert_eq!(page.matches(OWN[1]).count(), 1, "one explain data");
    assert_eq!(
        page.matches(OWN[2]).count(),
        page.matches("<table class=\"packets\"").count(),
        "one array of rows a table"
    );
});
