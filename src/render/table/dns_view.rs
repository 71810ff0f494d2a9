//! The `--view dns` table: one row per DNS message, a page at a time, in completion order.

use super::app_info::dns_name;
use super::PageRows;
use crate::app::DnsMessage;
use crate::render::escape::escape_str;
use comfy_table::{Cell, Color, Table};
use std::io::{self, Write};

/// The DNS table's current page: the messages completed since the last page.
pub(super) type DnsView = PageRows<DnsMessage>;

impl DnsView {
    /// Writes the page with `t`, and empties it.
    pub(super) fn write_page(&mut self, out: &mut impl Write, mut t: Table) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        t.set_header(vec![
            "conn", "frame", "id", "kind", "name", "type", "rcode", "answers", "latency",
        ]);
        for d in std::mem::take(&mut self.rows) {
            let rcode = Cell::new(&d.rcode);
            let rcode = if d.response && d.rcode != "NOERROR" {
                rcode.fg(Color::Yellow)
            } else {
                rcode
            };
            t.add_row(vec![
                Cell::new(d.conn),
                Cell::new(d.frame),
                Cell::new(format!("0x{:04x}", d.id)),
                Cell::new(if d.response { "response" } else { "query" }),
                Cell::new(escape_str(dns_name(&d))),
                Cell::new(&d.qtype),
                rcode,
                Cell::new(
                    d.answers
                        .iter()
                        .map(|a| escape_str(a))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                Cell::new(
                    d.latency_ms
                        .map(|l| format!("{l:.3} ms"))
                        .unwrap_or("-".into()),
                ),
            ]);
        }
        writeln!(out, "{t}")
    }
}
