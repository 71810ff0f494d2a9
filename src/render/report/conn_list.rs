//! The connection list: one row per connection (`data-conn="ID"`) with its Zeek state and
//! history, duration, packets and bytes each way, handshake RTT, how it closed, what the
//! application layer said (HTTP, TLS, DNS, QUIC) and the tunnel it travelled in.

use super::escape::push_html;
use super::ConnEntry;
use crate::app::AppConnStats;
use crate::flow::{ConnId, ConnSummary, Proto};
use crate::render::table::{human_bytes, service_text};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// "tcp", "udp", …
pub fn proto_name(p: Proto) -> String {
    p.as_str().to_string()
}

/// What a connection travelled in: its encapsulations, outermost first (VLAN, MPLS,
/// VXLAN VNI with the outer addresses …), and the UDP tunnel connections that carried it:
/// "VXLAN vni 42 · 192.168.77.1 → 192.168.77.2 · inside conn 0"; empty for neither.
pub fn tunnel_text(c: &ConnSummary) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &c.encapsulation {
        parts.push(e.to_string());
    }
    if !c.tunnel_parents.is_empty() {
        let ids: Vec<String> = c.tunnel_parents.iter().map(|i| i.to_string()).collect();
        // Several parents are flows side by side (one per direction, say), not hops.
        let word = if ids.len() == 1 { "conn" } else { "conns" };
        parts.push(format!("inside {word} {}", ids.join(", ")));
    }
    parts.join(" · ")
}

/// The application summary of a connection: the service line (HTTP host and requests, TLS
/// server name and ALPN, DNS names) and the TLS version when known.
pub fn app_text(app: &AppConnStats) -> String {
    let mut s = service_text(app);
    if let Some(v) = app.tls_version {
        if !s.is_empty() {
            s.push_str("; ");
        }
        s.push_str(&crate::app::tls_version_name(v));
    }
    if app.http_requests > 0 || app.http_responses > 0 {
        let _ = write!(
            s,
            "{}HTTP {} requests, {} responses",
            if s.is_empty() { "" } else { "; " },
            app.http_requests,
            app.http_responses
        );
    }
    s
}

/// The list.
pub fn write(out: &mut String, conns: &BTreeMap<ConnId, ConnEntry>) {
    out.push_str(
        "<section id=\"conns\"><h2>Connections</h2>\
         <div class=\"table-wrap\"><table class=\"conns\"><thead><tr><th>conn</th><th>proto</th>\
         <th>client</th><th>server</th><th>zeek state</th><th>history</th><th>duration</th>\
         <th>→ pkts / bytes</th><th>← pkts / bytes</th><th>handshake RTT</th><th>closed</th>\
         <th>application</th><th>tunnel</th></tr></thead><tbody>",
    );
    for (id, e) in conns {
        let _ = write!(
            out,
            "<tr data-conn=\"{id}\" tabindex=\"-1\"><td><a href=\"#conn-{id}\">{id}</a></td>"
        );
        match &e.summary {
            Some((c, app)) => {
                let dur = c.end.nanos_since(&c.start) as f64 / 1e9;
                let rtt = c
                    .handshake
                    .rtt_ms()
                    .map(|ms| format!("{ms:.3} ms"))
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    "<td>{}</td><td>{}</td><td>{}</td><td title=\"Zeek conn_state\">{}</td><td>",
                    proto_name(c.proto),
                    c.client,
                    c.server,
                    c.conn_state
                );
                push_html(out, &c.history);
                let _ = write!(
                    out,
                    "</td><td>{dur:.3} s</td><td>{} / {}</td><td>{} / {}</td><td>{rtt}</td><td>",
                    c.packets.to_server,
                    human_bytes(c.bytes.to_server),
                    c.packets.to_client,
                    human_bytes(c.bytes.to_client),
                );
                push_html(out, &c.teardown.description);
                out.push_str("</td><td>");
                push_html(out, &app_text(app));
                out.push_str("</td><td>");
                push_html(out, &tunnel_text(c));
                out.push_str("</td>");
            }
            None => {
                let _ = write!(
                    out,
                    "<td colspan=\"12\">{} ⇄ {} (still open at the end of input)</td>",
                    super::escape::html(&e.ladder.client),
                    super::escape::html(&e.ladder.server)
                );
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div></section>");
}
