//! The `--view tls` table: one row per TLS (or QUIC) connection, from the TLS summary the app
//! stage gathered (`AppConnStats::tls`), a page at a time, sorted by id; and how the table
//! views word that summary.

use super::PageRows;
use crate::app::TlsSummary;
use crate::flow::ConnSummary;
use crate::render::escape::escape_str;
use crate::render::text::endpoint_string;
use comfy_table::{Cell, Table};
use std::fmt::Write as _;
use std::io::{self, Write};

/// The TLS table's current page: the TLS connections ended since the last page.
pub(super) type TlsView = PageRows<(ConnSummary, TlsSummary)>;

impl TlsView {
    /// Writes the page (sorted by connection id) with `t`, and empties it.
    pub(super) fn write_page(&mut self, out: &mut impl Write, mut t: Table) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        t.set_header(vec![
            "conn",
            "client",
            "server",
            "server name",
            "version",
            "cipher",
            "ALPN",
            "handshake",
            "certificate",
            "alerts",
        ]);
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_by_key(|(c, _)| c.id);
        for (c, tls) in rows {
            t.add_row(vec![
                Cell::new(c.id),
                Cell::new(endpoint_string(c.client.ip(), Some(c.client.port()))),
                Cell::new(endpoint_string(c.server.ip(), Some(c.server.port()))),
                Cell::new(tls.sni.as_deref().map(escape_str).unwrap_or("-".into())),
                Cell::new(tls.version_name()),
                Cell::new(tls.cipher_name()),
                Cell::new(tls.alpn_text()),
                Cell::new(
                    tls.handshake_ms()
                        .map(|m| format!("{m:.3} ms"))
                        .unwrap_or("-".into()),
                ),
                Cell::new(
                    tls.certificate
                        .as_deref()
                        .map(escape_str)
                        .unwrap_or("- (encrypted or not sent)".into()),
                ),
                Cell::new(if tls.alerts.is_empty() {
                    "-".to_string()
                } else {
                    tls.alerts_text()
                }),
            ]);
        }
        writeln!(out, "{t}")
    }
}

/// How the table views word a connection's TLS summary (gathered by the app stage).
pub(super) trait TlsSummaryText {
    fn version_name(&self) -> String;
    fn cipher_name(&self) -> String;
    fn alpn_text(&self) -> String;
    fn alerts_text(&self) -> String;
    fn line(&self) -> String;
}

impl TlsSummaryText for TlsSummary {
    fn version_name(&self) -> String {
        self.version
            .map(crate::app::tls_version_name)
            .unwrap_or_else(|| "?".into())
    }

    fn cipher_name(&self) -> String {
        self.cipher
            .map(|c| {
                crate::app::tls_cipher_name(c)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("0x{c:04x}"))
            })
            .unwrap_or_else(|| "-".into())
    }

    fn alpn_text(&self) -> String {
        match &self.alpn {
            Some(a) => escape_str(a),
            None if !self.offered_alpn.is_empty() => format!(
                "offered {}",
                self.offered_alpn
                    .iter()
                    .map(|a| escape_str(a))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "-".into(),
        }
    }

    /// "warning close_notify, encrypted alert".
    fn alerts_text(&self) -> String {
        let mut s = String::new();
        for (i, alert) in self.alerts.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            match alert {
                Some((level, desc)) => {
                    let _ = write!(
                        s,
                        "{} {}",
                        crate::app::tls_alert_level_name(*level),
                        crate::app::tls_alert_name(*desc)
                    );
                }
                None => s.push_str("encrypted alert"),
            }
        }
        s
    }

    /// One line for a connection header: "TLS 1.3 · SNI x · cipher · ALPN h2 · 1.2 ms".
    fn line(&self) -> String {
        let mut s = format!("TLS {}", self.version_name().trim_start_matches("TLS "));
        if let Some(sni) = &self.sni {
            let _ = write!(s, " · SNI {}", escape_str(sni));
        }
        let _ = write!(s, " · {} · ALPN {}", self.cipher_name(), self.alpn_text());
        if let Some(ms) = self.handshake_ms() {
            let _ = write!(s, " · handshake {ms:.1} ms");
        }
        if !self.alerts.is_empty() {
            let _ = write!(s, " · alert {}", self.alerts_text());
        }
        s
    }
}
