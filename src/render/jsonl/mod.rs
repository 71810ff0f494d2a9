//! JSON Lines output, exactly as `shared/json-contract.md` specifies: `packet` records in
//! input order, `http`/`dns` records as they complete, `conn` records after the packets in
//! id order, and a final `summary`. One file per record type, each with one function that
//! lists the record's fields in output order, one call per field ([`writer`] has the
//! field-writing primitives); this file gathers the records and orders them.

use crate::app::{AppConnStats, AppEvent};
use crate::capture::RawFrame;
use crate::decode::DecodedPacket;
use crate::flow::{ConnSummary, PacketFlow};
use crate::pipeline::{RunSummary, Sink};
use std::io::{self, Write};

#[macro_use]
mod writer;
mod conn;
mod dns;
mod held;
mod http;
mod packet;
mod quic;
mod summary;
mod tls;

#[cfg(test)]
mod app_reference;
#[cfg(test)]
mod conn_reference;
#[cfg(test)]
mod packet_reference;
#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

pub use conn::conn_record;
pub(crate) use conn::end_reason_name;
use conn::{conn_record_at, put_conn_record, ConnMemo};
use held::{HeldConns, InOrder, Spill, HELD_CONN_BYTES};
use packet::{packet_record_at, PacketMemo};
pub use summary::inner_caps_cut;
pub(crate) use tls::{tls_code_name, tls_record_and_handshake};
pub(crate) use writer::exact_ms_nanos;
use writer::{json_str, put_appended, put_in_place};

/// Writes JSON Lines to `out`.
pub struct JsonSink<W: Write> {
    out: W,
    /// Serialised `conn` records, held until the end (the contract puts them after the
    /// packets, in id order). About 800 bytes per connection (HTTP over IPv4); past
    /// `HELD_CONN_BYTES` they are spilled to an unlinked temporary file in sorted runs.
    conns: HeldConns,
    held_bytes: usize,
    spill: Option<Spill>,
    spill_failed: bool,
    /// When `conn` records are the only records written (`--view conns`), they go out as
    /// soon as every lower id has (ids are given in order from 0, each ends once): only the
    /// few ending before an older connection wait here. None once that did not hold or the
    /// waiting grew past `HELD_CONN_BYTES` (then the records are held as above).
    in_order: Option<InOrder>,
    /// `HELD_CONN_BYTES` (smaller in tests).
    held_limit: usize,
    /// Flush after every record (live capture).
    pub flush_each: bool,
    /// Which record types to write (a view narrows them).
    pub records: JsonRecords,
    /// Records written as they come (`packet`, `http`, `dns`, `tls`, and `conn` records
    /// written in id order), gathered here (`batch_len` bytes) and written `BATCH` bytes
    /// at a time: packet and conn records are written in place at the end (see
    /// [`packet_record_at`]), the buffer keeps its length (no filling per record), and the
    /// output's own buffer is passed by (no copy into it). Written before anything else.
    batch: Vec<u8>,
    batch_len: usize,
    /// Text the next `conn` record can take from the previous ones.
    memo: ConnMemo,
    /// Text the next `packet` record can take from the previous ones.
    packet_memo: PacketMemo,
}

/// Gathered records are written once they reach this many bytes (the output's buffer
/// size: a write this long goes straight through it).
const BATCH: usize = 1 << 16;

/// Which JSON record types a run writes. The default view writes them all; `--view conns`
/// only `conn`, `--view http` only `http`, and so on (the `summary` always).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonRecords {
    pub packets: bool,
    pub conns: bool,
    pub http: bool,
    pub dns: bool,
    pub tls: bool,
}

impl JsonRecords {
    pub const ALL: JsonRecords = JsonRecords {
        packets: true,
        conns: true,
        http: true,
        dns: true,
        tls: true,
    };
    pub const NONE: JsonRecords = JsonRecords {
        packets: false,
        conns: false,
        http: false,
        dns: false,
        tls: false,
    };
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> JsonSink<W> {
        JsonSink {
            out,
            conns: HeldConns::default(),
            held_bytes: 0,
            spill: None,
            spill_failed: false,
            in_order: Some(InOrder::default()),
            held_limit: HELD_CONN_BYTES,
            flush_each: false,
            records: JsonRecords::ALL,
            batch: Vec::new(),
            batch_len: 0,
            memo: ConnMemo::default(),
            packet_memo: PacketMemo::default(),
        }
    }

    /// Writes every held `conn` record in id order: the spilled runs and those in memory,
    /// merged.
    fn write_conns(&mut self) -> io::Result<()> {
        let memory = std::mem::take(&mut self.conns);
        held::write_in_id_order(&mut self.out, memory, self.spill.take())
    }
    /// Names of the input files when several are read as one capture: each `packet` record
    /// then says which it came from (`file`, by [`RawFrame::file`]).
    pub fn set_file_names(&mut self, names: &[String]) -> io::Result<()> {
        self.packet_memo.files = names
            .iter()
            .map(|n| {
                let mut t = b",\"file\":".to_vec();
                json_str(&mut t, n);
                t
            })
            .collect();
        Ok(())
    }

    /// The seed of the `conn` records' Community IDs (the spec's default is 0).
    pub fn set_community_id_seed(&mut self, seed: u16) {
        self.memo.community_id_seed = seed;
    }

    /// The output (with any gathered records written to it).
    pub fn into_inner(mut self) -> W {
        let _ = self.write_batch();
        self.out
    }

    /// Writes the gathered records (before anything else is written).
    fn write_batch(&mut self) -> io::Result<()> {
        if self.batch_len > 0 {
            let len = std::mem::take(&mut self.batch_len);
            self.out
                .write_all(self.batch.get(..len).unwrap_or_default())?;
        }
        Ok(())
    }

    /// After a record was gathered: writes the gathered records once they reach [`BATCH`]
    /// bytes, or at once when `flush_each` (then also flushing the output if `flush`).
    fn record_added(&mut self, flush: bool) -> io::Result<()> {
        if self.batch_len >= BATCH || self.flush_each {
            self.write_batch()?;
        }
        if flush && self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    /// Appends `bytes` to the gathered records.
    fn batch_bytes(&mut self, bytes: &[u8]) {
        let end = self.batch_len + bytes.len();
        if self.batch.len() < end {
            self.batch.resize(end, 0);
        }
        if let Some(slot) = self.batch.get_mut(self.batch_len..end) {
            slot.copy_from_slice(bytes);
            self.batch_len = end;
        }
    }
}

impl<W: Write> Sink for JsonSink<W> {
    fn wants_packets(&self) -> bool {
        self.records.packets
    }
    fn wants_app_events(&self) -> bool {
        let r = self.records;
        r.http || r.dns || r.tls
    }
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        if !self.records.packets {
            return Ok(());
        }
        // In place at the end of the gathered records (see `batch`).
        let n = packet_record_at(
            &mut self.batch,
            self.batch_len,
            frame,
            packet,
            flow,
            &mut self.packet_memo,
        );
        self.batch_len += n;
        self.record_added(true)
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        let r = self.records;
        let writes = match event {
            AppEvent::Http(_) => r.http,
            AppEvent::Dns(_) => r.dns,
            AppEvent::Tls(_) | AppEvent::Quic(_) => r.tls,
        };
        if !writes {
            return Ok(());
        }
        // In place at the end of the gathered records (see `batch`).
        let (batch, at) = (&mut self.batch, self.batch_len);
        self.batch_len += match event {
            AppEvent::Http(t) => {
                put_in_place(batch, at, http::room(t), |o| http::http_fields(o, t))
            }
            AppEvent::Dns(d) => put_in_place(batch, at, dns::room(d), |o| dns::dns_fields(o, d)),
            AppEvent::Tls(t) => put_in_place(batch, at, tls::room(t), |o| tls::tls_fields(o, t)),
            AppEvent::Quic(q) => {
                put_in_place(batch, at, quic::room(q), |o| quic::quic_fields(o, q))
            }
        };
        self.record_added(false)
    }

    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        if !self.records.conns {
            return Ok(());
        }
        let only_conns = self.records
            == JsonRecords {
                conns: true,
                ..JsonRecords::NONE
            };
        if !only_conns {
            self.in_order = None;
        }
        if let Some(order) = &mut self.in_order {
            if conn.id == order.next {
                order.next += 1;
                let n = conn_record_at(
                    &mut self.batch,
                    self.batch_len,
                    conn,
                    app,
                    true,
                    &mut self.memo,
                );
                self.batch_len += n;
                while let Some(order) = &mut self.in_order {
                    let Some(record) = order.waiting.remove(&order.next) else {
                        break;
                    };
                    order.waiting_bytes -= record.len();
                    order.next += 1;
                    self.batch_bytes(&record);
                }
                return self.record_added(true);
            }
            if conn.id > order.next && order.waiting_bytes <= self.held_limit {
                let mut record = Vec::with_capacity(1024);
                put_conn_record(&mut record, conn, app, &mut self.memo);
                record.push(b'\n');
                order.waiting_bytes += record.len();
                order.waiting.insert(conn.id, record);
                return Ok(());
            }
            // Too much waiting (or an id seen again): hold everything from here on; every
            // id already written is lower than those.
            let order = self.in_order.take().unwrap_or_default();
            for (id, mut record) in order.waiting {
                record.pop();
                self.held_bytes += record.len() + 64;
                self.conns.push(id, |w| {
                    w.extend_from_slice(&record);
                    Ok(())
                })?;
            }
        }
        // Written straight into the held records' buffer (~800 bytes each).
        let len = self.conns.push(conn.id, |w| {
            put_conn_record(w, conn, app, &mut self.memo);
            Ok(())
        })?;
        self.held_bytes += len + 64;
        if self.held_bytes > self.held_limit && !self.spill_failed {
            if self.spill.is_none() {
                // No writable temp dir: keep the records in memory instead (correct
                // output, more memory) rather than fail the run.
                match Spill::create() {
                    Ok(spill) => self.spill = Some(spill),
                    Err(_) => {
                        self.spill_failed = true;
                        return Ok(());
                    }
                }
            }
            if let Some(spill) = &mut self.spill {
                self.conns.sort();
                spill.write_run(&self.conns)?;
            }
            self.conns.clear();
            self.held_bytes = 0;
        }
        Ok(())
    }

    fn finish(&mut self, s: &RunSummary) -> io::Result<()> {
        self.write_batch()?;
        if let Some(order) = self.in_order.take() {
            for record in order.waiting.values() {
                self.out.write_all(record)?;
            }
        }
        self.write_conns()?;
        let mut record = Vec::with_capacity(1024);
        put_appended(&mut record, 1024, |o| summary::summary_fields(o, s));
        self.out.write_all(&record)?;
        self.out.flush()
    }
}
