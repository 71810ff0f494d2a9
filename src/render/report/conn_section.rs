//! One connection's section (`data-conn="ID"`): its summary line and timeline, the ladder
//! (SVG, arrows slanted by time), the time-sequence and RTT graphs (the graph module's own
//! SVG), its HTTP transactions with their timing, its DNS messages, and its packet table.

use super::conn_list::{app_text, proto_name, tunnel_text};
use super::escape::{html, push_html};
use super::ladder_svg::{self, Delays};
use super::page::push_lazy;
use super::{packet_table, ConnEntry, Times};
use crate::capture::Timestamp;
use crate::flow::timing::ConnTiming;
use crate::render::graph::{self, ConnTrace, GraphFormat, GraphKind, GraphOptions};
use std::fmt::Write as _;

/// Where a connection's graphs come from, and whether it may have them (the graph cap).
pub struct Graphs<'a> {
    pub trace: Option<&'a ConnTrace>,
    pub allowed: bool,
}

/// The section.
pub fn write(out: &mut String, e: &ConnEntry, times: &Times, graphs: Graphs<'_>) {
    let id = e.id;
    let _ = write!(
        out,
        "<section class=\"conn\" id=\"conn-{id}\" data-conn=\"{id}\"><h2>conn {id} · "
    );
    match &e.summary {
        Some((c, _)) => {
            let _ = write!(
                out,
                "{} · {} ⇄ {}</h2>",
                proto_name(c.proto).to_uppercase(),
                c.client,
                c.server
            );
        }
        None => {
            push_html(out, &e.ladder.proto);
            out.push_str(" · ");
            push_html(out, &e.ladder.client);
            out.push_str(" ⇄ ");
            push_html(out, &e.ladder.server);
            out.push_str("</h2>");
        }
    }
    if let Some((c, app)) = &e.summary {
        let _ = write!(
            out,
            "<p class=\"conn-line\">started {} · zeek <b>{}</b> ",
            times.moment(&c.start),
            c.conn_state
        );
        push_html(out, &c.history);
        let _ = write!(
            out,
            " · {:.3} s · → {} pkts · ← {} pkts",
            c.end.nanos_since(&c.start) as f64 / 1e9,
            c.packets.to_server,
            c.packets.to_client
        );
        if let Some(ms) = c.handshake.rtt_ms() {
            let _ = write!(out, " · handshake RTT {ms:.3} ms");
        }
        if !c.teardown.description.is_empty() {
            out.push_str(" · ");
            push_html(out, &c.teardown.description);
        }
        let a = app_text(app);
        if !a.is_empty() {
            out.push_str(" · ");
            push_html(out, &a);
        }
        let t = tunnel_text(c);
        if !t.is_empty() {
            out.push_str(" · ");
            push_html(out, &t);
        }
        out.push_str("</p>");
        if let Some(t) = &c.timing {
            let rtt_ns = match (c.handshake.syn_to_synack_ns, c.handshake.synack_to_ack_ns) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
            write_timing(out, t, rtt_ns);
        }
    }
    if e.carried > 0 {
        let _ = write!(
            out,
            "<p class=\"tunnel-note\" data-carried=\"{}\">A UDP tunnel: its {} packets carry ",
            e.carried, e.carried
        );
        for (i, inner) in e.inner.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "<a href=\"#conn-{inner}\">conn {inner}</a>");
        }
        if e.inner.len() >= super::MAX_INNER_LISTED {
            out.push_str(" and more");
        }
        out.push_str(
            "; their packet rows, ladders and explain panes (with these outer headers) are \
             in those connections' sections.</p>",
        );
    }
    if e.rows.is_empty() && e.ladder.rows.is_empty() && e.carried > 0 {
        out.push_str("</section>\n");
        return;
    }
    // The ladder.
    let delays = e
        .summary
        .as_ref()
        .map(|(c, _)| {
            Delays::from_handshake(c.handshake.syn_to_synack_ns, c.handshake.synack_to_ack_ns)
        })
        .unwrap_or_default();
    out.push_str("<details class=\"ladder-box\" open=\"open\"><summary>Ladder</summary>");
    if delays != Delays::default() {
        let _ = write!(
            out,
            "<p class=\"hint\">Arrows slant by the one-way delays the handshake shows: {:.3} ms \
             from the capture point to the client, {:.3} ms to the server. Click an arrow to \
             explain its packet.</p>",
            delays.client * 1e3,
            delays.server * 1e3
        );
    }
    out.push_str("<div class=\"svg-wrap\">");
    push_lazy(out, &ladder_svg::render(&e.ladder, id, delays, times));
    out.push_str("</div></details>");
    // The graphs.
    if let Some(trace) = graphs.trace.filter(|t| t.packets.len() >= 2) {
        if graphs.allowed {
            out.push_str("<details class=\"graphs\"><summary>Time-sequence and RTT graphs</summary><div class=\"svg-wrap\">");
            for kind in [GraphKind::Seq, GraphKind::Rtt] {
                let svg = graph::render(
                    trace,
                    &GraphOptions {
                        kind,
                        format: GraphFormat::Svg,
                        width: 80,
                        color: false,
                        teach: true,
                        dir: None,
                    },
                );
                push_lazy(out, strip_prolog(&svg));
            }
            out.push_str("</div></details>");
        } else {
            let _ = write!(
                out,
                "<p class=\"hint\">No graphs here (the page draws them for its first connections, \
                 and for connections of at most 5,000 packets): \
                 <code>layerscope graph FILE --conn {id} --format svg</code>.</p>"
            );
        }
    }
    // The HTTP and DNS tables (up to 200 rows each) are drawn with the section, too.
    let mut app = String::new();
    write_http(&mut app, e, times);
    write_dns(&mut app, e, times);
    if !app.is_empty() {
        push_lazy(out, &app);
    }
    out.push_str("<h3>Packets</h3>");
    packet_table::write_table(out, &e.rows, times, Some(id));
    if e.rows_cut > 0 {
        let _ = write!(
            out,
            "<p class=\"left-out\" data-cut=\"conn-rows\">{} more packets of this connection have no row \
             (the page's row cap): <code>layerscope report FILE --conn {id} -o conn{id}.html</code> shows them.</p>",
            e.rows_cut
        );
    }
    out.push_str("</section>\n");
}

/// An SVG document's `<svg>` element (any XML prolog dropped).
fn strip_prolog(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

fn ms(ns: i64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

/// The connection's timeline: request, server time, transfer, idle, what limited it.
fn write_timing(out: &mut String, t: &ConnTiming, rtt_ns: Option<u64>) {
    if t.exchanges == 0 {
        return;
    }
    out.push_str("<p class=\"timing\">timing: ");
    let mut parts = vec![format!("{} exchanges", t.exchanges)];
    if let Some(r) = t.request_ns {
        parts.push(format!("request {}", ms(r)));
    }
    if let Some(s) = t.server_ns(rtt_ns) {
        parts.push(format!("server {}", ms(s)));
    }
    if let Some(x) = t.transfer_ns {
        parts.push(format!("transfer {}", ms(x)));
    }
    if t.idle_ns > 0 {
        parts.push(format!("idle {}", ms(t.idle_ns)));
    }
    if let Some(l) = t.limited_by {
        parts.push(format!("limited by {}", l.as_str()));
    }
    let retrans = t.fast_retransmissions + t.other_retransmissions;
    if retrans > 0 {
        parts.push(format!("{retrans} retransmissions"));
    }
    push_html(out, &parts.join(" · "));
    out.push_str("</p>");
}

fn frame_cell(f: Option<u64>) -> String {
    match f {
        Some(n) => format!("<a href=\"#f{n}\" class=\"frame-link\" data-goto=\"{n}\">{n}</a>"),
        None => String::new(),
    }
}

fn write_http(out: &mut String, e: &ConnEntry, times: &Times) {
    if e.http.is_empty() {
        return;
    }
    out.push_str(
        "<h3>HTTP transactions</h3><div class=\"table-wrap\"><table class=\"http\"><thead><tr><th>#</th>\
         <th>request frame</th><th>time</th><th>method</th><th>host</th><th>URI</th><th>status</th>\
         <th>response frame</th><th>latency</th><th>body bytes</th><th>notes</th></tr></thead><tbody>",
    );
    let mut prev: Option<Timestamp> = None;
    for h in &e.http {
        let _ = write!(
            out,
            "<tr data-conn=\"{}\" data-http=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>",
            e.id,
            h.index,
            h.index,
            frame_cell(h.request_frame),
            h.request_ts
                .map(|t| times.cell(&t, prev.as_ref()))
                .unwrap_or_default()
        );
        prev = h.request_ts.or(prev);
        let esc =
            |s: &Option<String>| crate::render::escape::escape_str(s.as_deref().unwrap_or(""));
        push_html(out, &esc(&h.method));
        out.push_str("</td><td>");
        push_html(out, &esc(&h.host));
        out.push_str("</td><td class=\"uri\">");
        push_html(out, &esc(&h.uri));
        out.push_str("</td><td>");
        if let Some(s) = h.status {
            let _ = write!(out, "{s} ");
        }
        push_html(out, &esc(&h.reason));
        let _ = write!(
            out,
            "</td><td>{}</td><td>{}</td><td>{}</td><td>",
            frame_cell(h.response_frame),
            h.latency_ms
                .map(|m| format!("{m:.3} ms"))
                .unwrap_or_default(),
            h.response_body_bytes
                .map(|b| b.to_string())
                .unwrap_or_default()
        );
        let notes: Vec<String> = h
            .notes
            .iter()
            .map(|n| crate::render::escape::escape_str(n))
            .collect();
        push_html(out, &notes.join("; "));
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table></div>");
    if e.app_cut > 0 {
        let _ = write!(
            out,
            "<p class=\"left-out\">{} more HTTP/DNS records of this connection are not listed.</p>",
            e.app_cut
        );
    }
}

fn write_dns(out: &mut String, e: &ConnEntry, times: &Times) {
    if e.dns.is_empty() {
        return;
    }
    out.push_str(
        "<h3>DNS messages</h3><div class=\"table-wrap\"><table class=\"dns\"><thead><tr><th>frame</th>\
         <th>time</th><th>id</th><th>kind</th><th>name</th><th>type</th><th>rcode</th><th>answers</th>\
         </tr></thead><tbody>",
    );
    let mut prev: Option<Timestamp> = None;
    for d in &e.dns {
        let _ = write!(
            out,
            "<tr data-conn=\"{}\"><td>{}</td><td>{}</td><td>0x{:04x}</td><td>{}</td><td>",
            e.id,
            frame_cell(Some(d.frame)),
            times.cell(&d.ts, prev.as_ref()),
            d.id,
            if d.response { "response" } else { "query" }
        );
        prev = Some(d.ts);
        push_html(out, &crate::render::escape::escape_str(&d.qname));
        let _ = write!(
            out,
            "</td><td>{}</td><td>{}</td><td>",
            html(&d.qtype),
            html(&d.rcode)
        );
        let answers: Vec<String> = d
            .answers
            .iter()
            .map(|a| crate::render::escape::escape_str(a))
            .collect();
        push_html(out, &answers.join(", "));
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table></div>");
}
