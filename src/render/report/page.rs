//! The page's skeleton: head (inline CSS, a Content-Security-Policy that forbids every
//! fetch), the header with the filter box and theme switch, the sections in order, the
//! explain pane, the embedded explain data and the inline script.
//!
//! The page is also well-formed XML (void elements closed, attributes quoted, the script
//! in a commented CDATA section), so tests and scripts can read it with an XML parser.

use super::escape::{push_html, script_json};
use super::explain_data::StringTable;
use super::{conn_list, conn_section, ladder_svg, packet_table, summary};
use super::{ConnEntry, ExplainedFrame, PacketRow, ReportCuts, ReportLimits};
use crate::flow::ConnId;
use crate::pipeline::RunSummary;
use crate::render::graph::TraceSink;
use crate::render::teach::CaptureStory;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

const CSS: &str = include_str!("assets/report.css");
const JS: &str = include_str!("assets/report.js");

/// Nothing may be fetched: no network, no fonts, no images but inline ones.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; \
                   img-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'";

/// Appends `markup` (a ladder's or graph's SVG, already escaped) as text for the script
/// to turn into elements when its section comes near the screen: inside a
/// `<script type="text/x-layerscope-markup">` the browser's parser only looks for the
/// element's end, so a page with thousands of arrows opens without building them. Markup
/// that could end or change that element (`</script`, `<!--`) is written inline instead.
pub fn push_lazy(out: &mut String, markup: &str) {
    let lower = markup.to_ascii_lowercase();
    if lower.contains("</script") || lower.contains("<!--") {
        out.push_str(markup);
        return;
    }
    out.push_str("<script type=\"text/x-layerscope-markup\" class=\"lazy\">");
    out.push_str(markup);
    out.push_str("</script>");
}

/// Everything the page is made from.
pub struct Page<'a> {
    pub title: &'a str,
    pub limits: &'a ReportLimits,
    pub run: &'a RunSummary,
    pub conns: &'a BTreeMap<ConnId, ConnEntry>,
    pub other: &'a [PacketRow],
    pub explained: &'a [ExplainedFrame],
    pub cuts: &'a ReportCuts,
    pub story: &'a CaptureStory,
    pub traces: &'a TraceSink,
    pub times: super::Times,
}

impl Page<'_> {
    pub fn render(&self) -> String {
        let rows: usize =
            self.conns.values().map(|c| c.rows.len()).sum::<usize>() + self.other.len();
        let mut o = String::with_capacity(64 * 1024 + rows * 900 + self.explained.len() * 1500);
        o.push_str("<!DOCTYPE html>\n<html lang=\"en\" data-theme=\"light\"><head><meta charset=\"utf-8\"/>");
        let _ = write!(
            o,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\"/>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\
             <meta name=\"generator\" content=\"layerscope {}\"/>\
             <link rel=\"icon\" href=\"data:,\"/><title>layerscope report: ",
            env!("CARGO_PKG_VERSION")
        );
        push_html(&mut o, self.title);
        let _ = write!(o, "</title><style>\n{CSS}</style></head>\n<body>");
        o.push_str("<header class=\"top\"><h1>layerscope · ");
        push_html(&mut o, self.title);
        o.push_str(
            "</h1><input type=\"search\" id=\"filter\" placeholder=\"filter: address, port, flag (syn, rst), \
             GET, 404 … (all words must match)\" aria-label=\"filter packets\" autocomplete=\"off\"/>\
             <span id=\"match-count\"></span>\
             <button type=\"button\" id=\"theme\" title=\"light / dark (t)\">◐ theme</button>\
             <span class=\"keys\">keys: j/k or ↓/↑ next/previous packet · / filter · Esc close · t theme</span>\
             </header>\n<main>",
        );
        o.push_str(&ladder_svg::markers());
        o.push_str("<nav class=\"toc\"><a href=\"#summary\">Summary</a> · <a href=\"#conns\">Connections</a>");
        if !self.other.is_empty() {
            o.push_str(" · <a href=\"#other\">Other packets</a>");
        }
        o.push_str("</nav>");
        summary::write(
            &mut o,
            self.run,
            self.story,
            self.cuts,
            self.limits,
            (self.conns.len(), rows),
        );
        conn_list::write(&mut o, self.conns);
        let mut graphs = 0;
        for e in self.conns.values() {
            let trace = self.traces.traces.get(&e.id);
            let allowed = trace
                .is_some_and(|t| t.cut == 0 && t.packets.len() <= self.limits.max_graph_packets)
                && graphs < self.limits.max_graphs;
            if allowed {
                graphs += 1;
            }
            conn_section::write(
                &mut o,
                e,
                &self.times,
                conn_section::Graphs { trace, allowed },
            );
        }
        if !self.other.is_empty() {
            o.push_str(
                "<section class=\"other\" id=\"other\"><h2>Other packets</h2>\
                 <p class=\"hint\">Packets of no TCP or UDP connection (ARP, ICMP, …).</p>",
            );
            packet_table::write_table(&mut o, self.other, &self.times, None);
            o.push_str("</section>");
        }
        o.push_str("</main>\n");
        o.push_str(
            "<aside id=\"explain\" hidden=\"hidden\" aria-label=\"explain\"><h2><span class=\"pane-title\">\
             </span><button type=\"button\" class=\"close\">close (Esc)</button></h2>\
             <div class=\"pane-body\"></div></aside>\n",
        );
        let mut strings = StringTable::default();
        let app: std::collections::HashMap<u64, &str> = self
            .conns
            .values()
            .flat_map(|c| c.rows.iter())
            .filter(|r| !r.l7.is_empty())
            .map(|r| (r.frame, r.l7.as_str()))
            .collect();
        let frames: Vec<serde_json::Value> = self
            .explained
            .iter()
            .map(|f| f.to_json(&mut strings, app.get(&f.frame).copied()))
            .collect();
        let data = json!({
            "max_explained": self.limits.max_explained,
            "S": strings.strings,
            "frames": frames,
        });
        let _ = writeln!(
            o,
            "<script type=\"application/json\" id=\"explain-data\">{}</script>",
            script_json(&data)
        );
        let _ = write!(
            o,
            "<script>//<![CDATA[\n{JS}//]]>\n</script>\n</body></html>\n"
        );
        o
    }
}
