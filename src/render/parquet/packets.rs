//! `packets.parquet` (with `--parquet-packets`): one row per packet, the JSON `packet`
//! record's main fields typed — `ts` a timestamp, addresses as strings, ports, lengths,
//! TCP flags, sequence numbers and window as integers, the connection as `conn` (which
//! joins `conn.parquet`'s `id`), null where the JSON has null. Written a row group
//! ([`super::ROW_GROUP_ROWS`] rows) at a time like the other tables, so memory stays
//! bounded by one row group however many packets.

use super::{count, micros, Cell, Table};
use crate::capture::RawFrame;
use crate::decode::{DecodedPacket, TcpFlags, Transport};
use crate::flow::PacketFlow;
use std::fmt::Write as _;
use std::io;
use std::path::Path;

pub(super) const PACKETS_SCHEMA: &str = "message packets {
  required int64 frame;
  required int64 ts (TIMESTAMP(MICROS,true));
  required int64 file;
  required int64 len;
  required int64 caplen;
  optional int64 conn;
  optional binary dir (STRING);
  optional binary src_addr (STRING);
  optional binary dst_addr (STRING);
  optional int64 ip_proto;
  optional int64 ip_len;
  optional int64 ttl;
  optional binary transport (STRING);
  optional int64 src_port;
  optional int64 dst_port;
  optional binary tcp_flags (STRING);
  optional int64 tcp_seq;
  optional int64 tcp_ack;
  optional int64 tcp_seq_abs;
  optional int64 tcp_ack_abs;
  optional int64 tcp_len;
  optional int64 tcp_win;
  optional int64 icmp_type;
  optional int64 icmp_code;
  required int64 payload_len;
}";

/// The packets table and its reused text buffers.
pub(super) struct PacketsTable {
    table: Table,
    src: String,
    dst: String,
    flags: String,
}

impl PacketsTable {
    pub fn new(dir: &Path) -> io::Result<PacketsTable> {
        Ok(PacketsTable {
            table: Table::new(dir.join("packets.parquet"), PACKETS_SCHEMA)?,
            src: String::new(),
            dst: String::new(),
            flags: String::new(),
        })
    }

    /// Rows written or waiting.
    pub fn rows(&self) -> u64 {
        self.table.written + self.table.rows as u64
    }

    pub fn row(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        let net = packet.net.as_ref();
        // The JSON record's addresses: the IP header's, or an ARP message's sender and target.
        let ends = crate::render::text::Endpoints::of(packet);
        self.src.clear();
        self.dst.clear();
        if let Some(e) = &ends {
            let _ = write!(self.src, "{}", e.src);
            let _ = write!(self.dst, "{}", e.dst);
        }
        let tcp = packet.tcp();
        self.flags.clear();
        if let Some(t) = tcp {
            let set = TcpFlags::NAMES.iter().filter(|(_, bit)| t.flags.has(*bit));
            for (i, (name, _)) in set.enumerate() {
                if i > 0 {
                    self.flags.push(',');
                }
                self.flags.push_str(name);
            }
        }
        let (transport, icmp) = match &packet.transport {
            Some(Transport::Tcp(_)) => (Some("tcp"), None),
            Some(Transport::Udp(_)) => (Some("udp"), None),
            Some(Transport::Icmpv4(i)) => (Some("icmp"), Some(i)),
            Some(Transport::Icmpv6(i)) => (Some("icmpv6"), Some(i)),
            None => (None, None),
        };
        let ports = packet.ports();
        let ack_abs = tcp.map(|t| if t.flags.ack() { t.ack } else { 0 });
        let int = |v: Option<u64>| Cell::I64(v.map(|v| i64::try_from(v).unwrap_or(i64::MAX)));
        let has_addrs = ends.is_some();
        self.table.push(&[
            count(frame.number),
            Cell::Time(Some(micros(&frame.ts))),
            count(u64::from(frame.file)),
            count(u64::from(frame.orig_len)),
            count(frame.data.len() as u64),
            int(flow.conn),
            Cell::Str(flow.dir.map(|d| d.as_str())),
            Cell::Str(has_addrs.then_some(self.src.as_str())),
            Cell::Str(has_addrs.then_some(self.dst.as_str())),
            int(net.map(|n| u64::from(n.protocol))),
            int(net.map(|n| u64::from(n.total_len))),
            int(net.map(|n| u64::from(n.ttl))),
            Cell::Str(transport),
            int(ports.map(|p| u64::from(p.0))),
            int(ports.map(|p| u64::from(p.1))),
            Cell::Str(tcp.map(|_| self.flags.as_str())),
            int(tcp.map(|t| u64::from(flow.rel_seq.unwrap_or(t.seq)))),
            int(ack_abs.map(|a| u64::from(flow.rel_ack.unwrap_or(a)))),
            int(tcp.map(|t| u64::from(t.seq))),
            int(ack_abs.map(u64::from)),
            int(tcp.map(|t| u64::from(t.payload_len))),
            int(tcp.map(|t| u64::from(t.window))),
            int(icmp.map(|i| u64::from(i.icmp_type))),
            int(icmp.map(|i| u64::from(i.code))),
            count(packet.payload.len() as u64),
        ])
    }

    pub fn finish(&mut self) -> io::Result<()> {
        self.table.finish()
    }
}
