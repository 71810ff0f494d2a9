//! Parquet tables: `conn.parquet`, `http.parquet`, `dns.parquet`, `tls.parquet` (each only
//! when it has a row), and `packets.parquet` when asked for, with typed columns — times as `TIMESTAMP(MICROS)` in UTC, addresses
//! as strings, counts as 64-bit integers, nulls where the JSON output has null — for
//! DuckDB, Spark, ClickHouse, Polars or pandas.
//!
//! Written with the Apache Arrow project's `parquet` crate through its typed column writers
//! (no Arrow arrays: the crate's `arrow` feature and its dependencies are not needed),
//! Snappy-compressed. Rows are gathered per table and written as a row group every
//! [`ROW_GROUP_ROWS`] rows, so memory stays bounded by one row group per table whatever
//! the capture's size.
//!
//! The columns are the JSON contract's fields (flattened: `packets.to_server` is
//! `packets_to_server`), so a query on the Parquet files and one on the JSON Lines agree.

use super::jsonl::{end_reason_name, tls_code_name, tls_record_and_handshake};
use crate::app::{
    tls_cipher_name, tls_version_name, AppConnStats, AppEvent, DnsMessage, HttpTransaction,
    TlsMessage,
};
use crate::capture::Timestamp;
use crate::flow::{community_id, ConnSummary};
use crate::pipeline::{RunSummary, Sink};
use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

mod packets;

/// Rows gathered per table before they are written as one row group.
pub const ROW_GROUP_ROWS: usize = 32_768;

/// One cell of a row.
#[derive(Clone, Debug)]
pub enum Cell<'a> {
    I64(Option<i64>),
    F64(Option<f64>),
    Str(Option<&'a str>),
    Bool(Option<bool>),
    /// Microseconds since the epoch (a `TIMESTAMP(MICROS, UTC)` column).
    Time(Option<i64>),
}

/// A column's gathered values: the present values and, for an optional column, one
/// definition level per row (1 present, 0 null).
enum Values {
    I64(Vec<i64>),
    F64(Vec<f64>),
    Str(Vec<ByteArray>),
    Bool(Vec<bool>),
}

struct Column {
    optional: bool,
    values: Values,
    defs: Vec<i16>,
}

/// One Parquet file written a row group at a time.
struct Table {
    path: PathBuf,
    schema: &'static str,
    columns: Vec<Column>,
    rows: usize,
    writer: Option<SerializedFileWriter<File>>,
    written: u64,
}

fn to_io(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e.to_string())
}

impl Table {
    /// A table with `schema` (Parquet's message syntax); its columns' kinds are read from it.
    fn new(path: PathBuf, schema: &'static str) -> io::Result<Table> {
        let parsed = parse_message_type(schema).map_err(to_io)?;
        let mut columns = Vec::new();
        for field in parsed.get_fields() {
            use parquet::basic::{Repetition, Type as Physical};
            let optional = field.get_basic_info().repetition() == Repetition::OPTIONAL;
            let values = match field.get_physical_type() {
                Physical::INT64 => Values::I64(Vec::new()),
                Physical::DOUBLE => Values::F64(Vec::new()),
                Physical::BYTE_ARRAY => Values::Str(Vec::new()),
                Physical::BOOLEAN => Values::Bool(Vec::new()),
                other => {
                    return Err(io::Error::other(format!("column type {other} not written")));
                }
            };
            columns.push(Column {
                optional,
                values,
                defs: Vec::new(),
            });
        }
        Ok(Table {
            path,
            schema,
            columns,
            rows: 0,
            writer: None,
            written: 0,
        })
    }

    fn push(&mut self, row: &[Cell<'_>]) -> io::Result<()> {
        if row.len() != self.columns.len() {
            return Err(io::Error::other("row does not match the table's columns"));
        }
        for (col, cell) in self.columns.iter_mut().zip(row) {
            let present = match (&mut col.values, cell) {
                (Values::I64(v), Cell::I64(x) | Cell::Time(x)) => x.map(|x| v.push(x)).is_some(),
                (Values::F64(v), Cell::F64(x)) => x.map(|x| v.push(x)).is_some(),
                (Values::Str(v), Cell::Str(x)) => x
                    .map(|x| v.push(ByteArray::from(x.as_bytes().to_vec())))
                    .is_some(),
                (Values::Bool(v), Cell::Bool(x)) => x.map(|x| v.push(x)).is_some(),
                _ => return Err(io::Error::other("cell of the wrong type")),
            };
            if col.optional {
                col.defs.push(i16::from(present));
            } else if !present {
                return Err(io::Error::other("null in a required column"));
            }
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS {
            self.write_row_group()?;
        }
        Ok(())
    }

    fn write_row_group(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        if self.writer.is_none() {
            let schema = Arc::new(parse_message_type(self.schema).map_err(to_io)?);
            let props = Arc::new(
                WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_created_by(format!("layerscope {}", env!("CARGO_PKG_VERSION")))
                    .build(),
            );
            let file = File::create(&self.path)?;
            self.writer = Some(SerializedFileWriter::new(file, schema, props).map_err(to_io)?);
        }
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let mut group = writer.next_row_group().map_err(to_io)?;
        for col in &mut self.columns {
            let Some(mut cw) = group.next_column().map_err(to_io)? else {
                break;
            };
            let defs = col.optional.then_some(col.defs.as_slice());
            match &mut col.values {
                Values::I64(v) => {
                    cw.typed::<Int64Type>()
                        .write_batch(v, defs, None)
                        .map_err(to_io)?;
                    v.clear();
                }
                Values::F64(v) => {
                    cw.typed::<DoubleType>()
                        .write_batch(v, defs, None)
                        .map_err(to_io)?;
                    v.clear();
                }
                Values::Str(v) => {
                    cw.typed::<ByteArrayType>()
                        .write_batch(v, defs, None)
                        .map_err(to_io)?;
                    v.clear();
                }
                Values::Bool(v) => {
                    cw.typed::<BoolType>()
                        .write_batch(v, defs, None)
                        .map_err(to_io)?;
                    v.clear();
                }
            }
            col.defs.clear();
            cw.close().map_err(to_io)?;
        }
        group.close().map_err(to_io)?;
        self.written += self.rows as u64;
        self.rows = 0;
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.write_row_group()?;
        if let Some(w) = self.writer.take() {
            w.close().map_err(to_io)?;
        }
        Ok(())
    }
}

const CONN_SCHEMA: &str = "message conn {
  required int64 id;
  required binary proto (STRING);
  required binary client_addr (STRING);
  required int64 client_port;
  required binary server_addr (STRING);
  required int64 server_port;
  required boolean roles_guessed;
  required int64 first_frame;
  required int64 last_frame;
  required int64 start (TIMESTAMP(MICROS,true));
  required double duration;
  required int64 packets_to_server;
  required int64 packets_to_client;
  required int64 bytes_to_server;
  required int64 bytes_to_client;
  required int64 payload_to_server;
  required int64 payload_to_client;
  required boolean handshake_complete;
  optional double handshake_rtt_ms;
  required binary teardown (STRING);
  required binary conn_state (STRING);
  required binary history (STRING);
  required binary end_reason (STRING);
  required int64 gap_bytes_to_server;
  required int64 gap_bytes_to_client;
  required int64 http_requests;
  required int64 http_responses;
  required int64 dns_messages;
  optional binary community_id (STRING);
}";

const HTTP_SCHEMA: &str = "message http {
  required int64 conn;
  optional int64 ts (TIMESTAMP(MICROS,true));
  optional int64 request_frame;
  optional int64 response_frame;
  optional binary method (STRING);
  optional binary uri (STRING);
  optional binary version (STRING);
  optional binary host (STRING);
  optional int64 status;
  optional binary reason (STRING);
  optional int64 request_body_bytes;
  optional int64 response_body_bytes;
  optional double latency_ms;
  optional double request_ms;
  optional double server_ms;
  optional double transfer_ms;
}";

const DNS_SCHEMA: &str = "message dns {
  required int64 conn;
  required int64 frame;
  required int64 ts (TIMESTAMP(MICROS,true));
  required int64 id;
  required boolean response;
  required binary qname (STRING);
  required binary qtype (STRING);
  required binary rcode (STRING);
  required int64 answer_count;
  optional binary answers (STRING);
  optional double latency_ms;
  required boolean tcp;
}";

const TLS_SCHEMA: &str = "message tls {
  required int64 conn;
  required int64 frame;
  required int64 ts (TIMESTAMP(MICROS,true));
  required binary dir (STRING);
  required binary record (STRING);
  optional binary handshake (STRING);
  optional binary sni (STRING);
  optional binary alpn (STRING);
  optional binary version (STRING);
  optional binary cipher (STRING);
  required int64 length;
  optional binary curve (STRING);
  required boolean resumed;
  optional binary cert_sha256 (STRING);
  optional boolean sni_matches_cert;
}";

/// Writes the Parquet tables into a folder.
pub struct ParquetSink {
    conn: Table,
    http: Table,
    dns: Table,
    tls: Table,
    /// `packets.parquet`, when asked for ([`ParquetSink::with_packets`]).
    packets: Option<packets::PacketsTable>,
    dir: PathBuf,
    community_id_seed: u16,
}

fn micros(ts: &Timestamp) -> i64 {
    ts.secs
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(ts.nanos / 1000))
}

fn count(n: u64) -> Cell<'static> {
    Cell::I64(Some(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn str_cell(x: &Option<String>) -> Cell<'_> {
    Cell::Str(x.as_deref())
}

fn opt_count(n: Option<u64>) -> Cell<'static> {
    Cell::I64(n.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
}

impl ParquetSink {
    /// Tables in `dir` (created when missing).
    pub fn new(dir: PathBuf) -> io::Result<ParquetSink> {
        std::fs::create_dir_all(&dir)?;
        Ok(ParquetSink {
            conn: Table::new(dir.join("conn.parquet"), CONN_SCHEMA)?,
            http: Table::new(dir.join("http.parquet"), HTTP_SCHEMA)?,
            dns: Table::new(dir.join("dns.parquet"), DNS_SCHEMA)?,
            tls: Table::new(dir.join("tls.parquet"), TLS_SCHEMA)?,
            packets: None,
            dir,
            community_id_seed: community_id::DEFAULT_SEED,
        })
    }

    pub fn set_community_id_seed(&mut self, seed: u16) {
        self.community_id_seed = seed;
    }

    /// Also writes `packets.parquet`: one row per packet (see `render/parquet/packets.rs`).
    pub fn with_packets(&mut self) -> io::Result<()> {
        self.packets = Some(packets::PacketsTable::new(&self.dir)?);
        Ok(())
    }

    /// Rows of `packets.parquet` written so far (None when it is not written).
    pub fn packet_rows_written(&self) -> Option<u64> {
        self.packets.as_ref().map(packets::PacketsTable::rows)
    }

    /// Rows written so far per table (conn, http, dns, tls).
    pub fn rows_written(&self) -> [u64; 4] {
        [
            self.conn.written + self.conn.rows as u64,
            self.http.written + self.http.rows as u64,
            self.dns.written + self.dns.rows as u64,
            self.tls.written + self.tls.rows as u64,
        ]
    }

    fn http_row(&mut self, t: &HttpTransaction) -> io::Result<()> {
        self.http.push(&[
            count(t.conn),
            Cell::Time(t.request_ts.or(t.response_ts).as_ref().map(micros)),
            opt_count(t.request_frame),
            opt_count(t.response_frame),
            str_cell(&t.method),
            str_cell(&t.uri),
            str_cell(&t.version),
            str_cell(&t.host),
            opt_count(t.status.map(u64::from)),
            str_cell(&t.reason),
            opt_count(t.request_body_bytes),
            opt_count(t.response_body_bytes),
            Cell::F64(t.latency_ms),
            Cell::F64(t.request_ms()),
            Cell::F64(t.server_ms()),
            Cell::F64(t.transfer_ms()),
        ])
    }

    fn dns_row(&mut self, m: &DnsMessage) -> io::Result<()> {
        let answers = m.answers.join(",");
        self.dns.push(&[
            count(m.conn),
            count(m.frame),
            Cell::Time(Some(micros(&m.ts))),
            count(u64::from(m.id)),
            Cell::Bool(Some(m.response)),
            Cell::Str(Some(&m.qname)),
            Cell::Str(Some(&m.qtype)),
            Cell::Str(Some(&m.rcode)),
            count(m.answers.len() as u64),
            Cell::Str((!m.answers.is_empty()).then_some(answers.as_str())),
            Cell::F64(m.latency_ms),
            Cell::Bool(Some(m.tcp)),
        ])
    }

    fn tls_row(&mut self, t: &TlsMessage) -> io::Result<()> {
        let (record, handshake) = tls_record_and_handshake(t.kind);
        let alpn = t.alpn.join(",");
        let version = t.version.map(tls_version_name);
        let cipher = t.cipher.map(|c| tls_code_name(c, tls_cipher_name));
        let curve = t
            .curve
            .map(|g| tls_code_name(g, crate::app::tls_group_name));
        let fps: Vec<String> = t
            .certificates
            .iter()
            .map(crate::app::TlsCertificate::sha256_hex)
            .collect();
        let fps = fps.join(",");
        self.tls.push(&[
            count(t.conn),
            count(t.frame),
            Cell::Time(Some(micros(&t.ts))),
            Cell::Str(Some(t.dir.as_str())),
            Cell::Str(Some(record)),
            Cell::Str(handshake),
            Cell::Str(t.sni.as_deref()),
            Cell::Str((!t.alpn.is_empty()).then_some(alpn.as_str())),
            Cell::Str(version.as_deref()),
            Cell::Str(cipher.as_deref()),
            count(t.length),
            Cell::Str(curve.as_deref()),
            Cell::Bool(Some(t.resumed)),
            Cell::Str((!fps.is_empty()).then_some(fps.as_str())),
            Cell::Bool(t.sni_matches_cert),
        ])
    }
}

impl Sink for ParquetSink {
    fn wants_packets(&self) -> bool {
        self.packets.is_some()
    }

    fn packet(
        &mut self,
        frame: &crate::capture::RawFrame<'_>,
        packet: &crate::decode::DecodedPacket<'_>,
        flow: &crate::flow::PacketFlow,
    ) -> io::Result<()> {
        match self.packets.as_mut() {
            Some(t) => t.row(frame, packet, flow),
            None => Ok(()),
        }
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        match event {
            AppEvent::Http(t) => self.http_row(t),
            AppEvent::Dns(m) => self.dns_row(m),
            AppEvent::Tls(t) => self.tls_row(t),
            AppEvent::Quic(_) => Ok(()),
        }
    }

    fn conn_end(&mut self, c: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        let client_addr = c.client.ip().to_string();
        let server_addr = c.server.ip().to_string();
        let cid = community_id::of_conn(c, self.community_id_seed);
        let duration = c.end.nanos_since(&c.start).max(0) as f64 / 1e9;
        self.conn.push(&[
            count(c.id),
            Cell::Str(Some(c.proto.as_str())),
            Cell::Str(Some(&client_addr)),
            count(u64::from(c.client.port())),
            Cell::Str(Some(&server_addr)),
            count(u64::from(c.server.port())),
            Cell::Bool(Some(c.roles_guessed)),
            count(c.first_frame),
            count(c.last_frame),
            Cell::Time(Some(micros(&c.start))),
            Cell::F64(Some(duration)),
            count(c.packets.to_server),
            count(c.packets.to_client),
            count(c.bytes.to_server),
            count(c.bytes.to_client),
            count(c.payload.to_server),
            count(c.payload.to_client),
            Cell::Bool(Some(c.handshake.complete)),
            Cell::F64(c.handshake.rtt_ms()),
            Cell::Str(Some(c.teardown.kind.as_str())),
            Cell::Str(Some(c.conn_state)),
            Cell::Str(Some(&c.history)),
            Cell::Str(Some(end_reason_name(c.end_reason))),
            count(c.gap_bytes.to_server),
            count(c.gap_bytes.to_client),
            count(app.http_requests),
            count(app.http_responses),
            count(app.dns_messages),
            Cell::Str(cid.as_deref()),
        ])
    }

    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        self.conn.finish()?;
        self.http.finish()?;
        self.dns.finish()?;
        if let Some(t) = self.packets.as_mut() {
            t.finish()?;
        }
        self.tls.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;

    #[test]
    fn rows_read_back_typed_across_row_groups() {
        let dir = std::env::temp_dir().join(format!("layerscope-pq-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.parquet");
        let schema = "message t { required int64 a; optional binary s (STRING); optional double d; required int64 ts (TIMESTAMP(MICROS,true)); }";
        let mut t = Table::new(path.clone(), schema).unwrap();
        let n = ROW_GROUP_ROWS + 10;
        for i in 0..n {
            let s = format!("r{i}");
            t.push(&[
                Cell::I64(Some(i as i64)),
                Cell::Str((i % 3 != 0).then_some(s.as_str())),
                Cell::F64((i % 2 == 0).then_some(i as f64 / 2.0)),
                Cell::Time(Some(1_000_000 * i as i64)),
            ])
            .unwrap();
        }
        assert!(t
            .push(&[
                Cell::I64(None),
                Cell::Str(None),
                Cell::F64(None),
                Cell::Time(Some(0))
            ])
            .is_err());
        t.finish().unwrap();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 2);
        assert_eq!(reader.metadata().file_metadata().num_rows(), n as i64);
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows[4].get_long(0).unwrap(), 4);
        assert_eq!(rows[4].get_string(1).unwrap(), "r4");
        assert!(rows[3].get_string(1).is_err(), "null");
        assert_eq!(rows[4].get_double(2).unwrap(), 2.0);
        assert_eq!(rows[n - 1].get_long(0).unwrap(), (n - 1) as i64);
        assert_eq!(rows[7].get_timestamp_micros(3).unwrap(), 7_000_000);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
