//! The `--view dns` table: one row per DNS message, a page at a time, in completion order.

use super::dns_name;
use crate::app::DnsMessage;
use crate::render::escape::escape_str;
use comfy_table::{Cell, Color, Table};
use std::io::{self, Write};

/// The DNS table's current page.
#[derive(Default)]
pub(super) struct DnsView {
    rows: Vec<DnsMessage>,
}

impl DnsView {
    /// Adds the row of `d`; the rows the page now has.
    pub(super) fn add(&mut self, d: &DnsMessage) -> usize {
        self.rows.push(d.clone());
        self.rows.len()
    }

    /// Writes the page with `table`, and empties it.
    pub(super) fn write_page(&mut self, out: &mut impl Write, table: Table) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut t = table;
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
