//! The `--view conns` table: one row per connection (Zeek's conn.log in a table), a page at
//! a time, sorted by id.

use super::{human_bytes, service_text, tunnel_text, PageRows};
use crate::app::AppConnStats;
use crate::capture::Timestamp;
use crate::flow::ConnSummary;
use crate::render::escape::escape_str;
use crate::render::text::endpoint_string;
use comfy_table::{Attribute, Cell, Table};
use std::io::{self, Write};

/// The connections table's current page: the connections ended since the last page.
pub(super) type ConnsView = PageRows<(ConnSummary, AppConnStats)>;

impl ConnsView {
    /// Writes the page (sorted by connection id) with `t`, and empties it;
    /// `start_text` words a connection's start.
    pub(super) fn write_page(
        &mut self,
        out: &mut impl Write,
        mut t: Table,
        start_text: impl Fn(&Timestamp) -> String,
    ) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_by_key(|(c, _)| c.id);
        // The tunnel column is drawn when a connection of the page travels in something.
        let tunnels: Vec<String> = rows.iter().map(|(c, _)| tunnel_text(c)).collect();
        let any_tunnel = tunnels.iter().any(|t| !t.is_empty());
        let mut header = vec![
            "conn",
            "proto",
            "client",
            "server",
            "start",
            "service",
            "state",
            "history",
            "duration",
            "pkts →/←",
            "bytes →/←",
            "handshake RTT",
            "close",
            "HTTP req/resp",
        ];
        if any_tunnel {
            header.insert(6, "tunnel");
        }
        t.set_header(header);
        for ((c, app), tunnel) in rows.iter().zip(tunnels) {
            let service = service_text(app);
            let mut cells = vec![
                Cell::new(c.id),
                Cell::new(c.proto.as_str()),
                Cell::new(endpoint_string(c.client.ip(), Some(c.client.port()))),
                Cell::new(endpoint_string(c.server.ip(), Some(c.server.port()))),
                Cell::new(start_text(&c.start)),
                Cell::new(if service.is_empty() {
                    "-".into()
                } else {
                    service
                }),
                Cell::new(c.conn_state).add_attribute(Attribute::Bold),
                Cell::new(escape_str(&c.history)),
                Cell::new(format!(
                    "{:.3} s",
                    c.end.nanos_since(&c.start).max(0) as f64 / 1e9
                )),
                Cell::new(format!("{}/{}", c.packets.to_server, c.packets.to_client)),
                Cell::new(format!(
                    "{}/{}",
                    human_bytes(c.bytes.to_server),
                    human_bytes(c.bytes.to_client)
                )),
                Cell::new(
                    c.handshake
                        .rtt_ms()
                        .map(|r| format!("{r:.3} ms"))
                        .unwrap_or_else(|| "-".into()),
                ),
                Cell::new(&c.teardown.description),
                // Blank where the connection carried no HTTP.
                Cell::new(if app.http_requests + app.http_responses > 0 {
                    format!("{}/{}", app.http_requests, app.http_responses)
                } else {
                    String::new()
                }),
            ];
            if any_tunnel {
                cells.insert(
                    6,
                    Cell::new(if tunnel.is_empty() {
                        "-".into()
                    } else {
                        tunnel
                    }),
                );
            }
            t.add_row(cells);
        }
        writeln!(out, "{t}")
    }
}
