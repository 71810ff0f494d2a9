//! `--view timing`: why each TCP connection was slow, one row per connection: handshake
//! RTT, request, server time (the wait less one RTT), transfer, idle gaps, and what
//! limited the transfer with the counts behind it.

use crate::flow::timing::{ConnTiming, LimitedBy};
use crate::flow::ConnSummary;
use std::fmt::Write as _;

fn ms(ns: Option<i64>) -> String {
    ns.map_or_else(|| "-".into(), |v| format!("{:.3}", v as f64 / 1e6))
}

/// The header line of the table.
pub fn header() -> String {
    format!(
        "{:>5} {:>11} {:>10} {:>10} {:>11} {:>11} {:>10} {:>5} {:<9} why\n",
        "conn", "handshake", "request", "server", "transfer", "idle", "resp B", "exch", "limited"
    )
}

/// What limited the transfer, with the counts behind it.
fn why(t: &ConnTiming) -> String {
    match t.limited_by {
        Some(LimitedBy::Receiver) => format!(
            "receiver: {} zero windows, {} window-full segments",
            t.zero_windows, t.window_full
        ),
        Some(LimitedBy::Loss) => format!(
            "loss: {} fast retransmissions, {} others after {:.3} ms of silence",
            t.fast_retransmissions,
            t.other_retransmissions,
            t.retransmission_silence_ns as f64 / 1e6
        ),
        Some(LimitedBy::Sender) => format!(
            "sender: it went idle with nothing in flight {} times",
            t.idle_restarts
        ),
        Some(LimitedBy::Network) => {
            "network path: no loss, no window limit, the pipe kept full".into()
        }
        None => "no response data".into(),
    }
}

/// The line under a connection's header in the connection table: where its time went
/// (None for a connection that is not TCP or carried no response data).
pub fn header_line(conn: &ConnSummary, tls_setup_ns: Option<i64>) -> Option<String> {
    let t = conn.timing?;
    t.limited_by?;
    let rtt = conn.handshake.rtt_ns();
    let mut s = String::from("timing:");
    let mut part = |name: &str, ns: Option<i64>| {
        if let Some(ns) = ns {
            let sep = if s.len() > 7 { " ·" } else { "" };
            let _ = write!(s, "{sep} {name} {:.3} ms", ns as f64 / 1e6);
        }
    };
    part("handshake", rtt.map(|v| v.min(i64::MAX as u64) as i64));
    part("TLS setup", tls_setup_ns);
    part("request", t.request_ns);
    part("server", t.server_ns(rtt));
    part("transfer", t.transfer_ns);
    if t.idle_ns > 0 {
        part("idle", Some(t.idle_ns));
    }
    let _ = write!(s, " · limited by {}", why(&t));
    Some(s)
}

/// One connection's row (None for a connection that is not TCP).
pub fn row(conn: &ConnSummary) -> Option<String> {
    let t = conn.timing?;
    let rtt = conn.handshake.rtt_ns();
    let why = why(&t);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>5} {:>11} {:>10} {:>10} {:>11} {:>11} {:>10} {:>5} {:<9} {}",
        conn.id,
        ms(rtt.map(|v| v.min(i64::MAX as u64) as i64)),
        ms(t.request_ns),
        ms(t.server_ns(rtt)),
        ms(t.transfer_ns),
        ms(Some(t.idle_ns)),
        t.response_bytes,
        t.exchanges,
        t.limited_by.map_or("-", |l| l.as_str()),
        why
    );
    Some(s)
}

/// `read --view timing`: the table, rows as connections end.
pub struct TimingViewSink<W: std::io::Write> {
    out: W,
    conns: Vec<u64>,
    rows: std::collections::BTreeMap<u64, String>,
}

impl<W: std::io::Write> TimingViewSink<W> {
    pub fn new(out: W, conns: Vec<u64>) -> TimingViewSink<W> {
        TimingViewSink {
            out,
            conns,
            rows: Default::default(),
        }
    }
}

impl<W: std::io::Write> crate::pipeline::Sink for TimingViewSink<W> {
    fn wants_packets(&self) -> bool {
        false
    }
    fn conn_end(
        &mut self,
        conn: &ConnSummary,
        _app: &crate::app::AppConnStats,
    ) -> std::io::Result<()> {
        if self.conns.is_empty() || self.conns.contains(&conn.id) {
            if let Some(r) = row(conn) {
                self.rows.insert(conn.id, r);
            }
        }
        Ok(())
    }
    fn finish(&mut self, _summary: &crate::pipeline::RunSummary) -> std::io::Result<()> {
        self.out.write_all(
            b"Times in ms at the capture point. server = last request byte to first response \
byte, less the handshake RTT; transfer = first to last response byte (summed over the \
exchanges); idle = end of a response to the next request.\n",
        )?;
        self.out.write_all(header().as_bytes())?;
        for r in self.rows.values() {
            self.out.write_all(r.as_bytes())?;
        }
        self.out.flush()
    }
}
