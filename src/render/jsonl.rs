//! JSON Lines output, exactly as `shared/json-contract.md` specifies: `packet` records in
//! input order, `http`/`dns` records as they complete, `conn` records after the packets in
//! id order, and a final `summary`.

use crate::app::{AppConnStats, AppEvent, DnsMessage, HttpTransaction};
use crate::capture::{RawFrame, Timestamp};
use crate::decode::DecodedPacket;
use crate::flow::{ConnSummary, PacketFlow};
use crate::pipeline::{RunSummary, Sink};
use std::collections::BTreeMap;
use std::io::{self, Write};

use super::text::{write_endpoint, Endpoints};

/// Bytes of `conn` records held in memory before they are moved to a spill file.
const SPILL_AT: usize = 32 << 20;

/// `conn` records moved out of memory: an unnamed temporary file and, per record, its id,
/// offset and length (24 bytes in memory instead of the record's ~900).
struct Spill {
    file: std::fs::File,
    len: u64,
    index: Vec<(u64, u64, u32)>,
}

impl Spill {
    fn create() -> io::Result<Spill> {
        let dir = std::env::temp_dir();
        let mut last = None;
        for attempt in 0..16u32 {
            let path = dir.join(format!(
                "layerscope-conns-{}-{attempt}.tmp",
                std::process::id()
            ));
            match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    // Unnamed from now on: the space is freed when the file is closed.
                    let _ = std::fs::remove_file(&path);
                    return Ok(Spill {
                        file,
                        len: 0,
                        index: Vec::new(),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no temporary file")))
    }

    fn push(&mut self, id: u64, record: &[u8]) -> io::Result<()> {
        use std::io::{Seek, SeekFrom};
        self.file.seek(SeekFrom::Start(self.len))?;
        self.file.write_all(record)?;
        self.index.push((id, self.len, record.len() as u32));
        self.len += record.len() as u64;
        Ok(())
    }

    fn read(&mut self, offset: u64, len: u32, buf: &mut Vec<u8>) -> io::Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        self.file.seek(SeekFrom::Start(offset))?;
        buf.resize(len as usize, 0);
        self.file.read_exact(buf)
    }
}

/// Writes JSON Lines to `out`.
pub struct JsonSink<W: Write> {
    out: W,
    /// Serialised `conn` records, held until the end (the contract puts them after the
    /// packets, in id order). About 900 bytes per connection; beyond [`SPILL_AT`] bytes
    /// they move to a temporary file so that memory stays bounded (a SYN flood of millions
    /// of connections).
    conns: BTreeMap<u64, Vec<u8>>,
    held: usize,
    spill: Option<Spill>,
    /// The spill file could not be created: records stay in memory.
    spill_failed: bool,
    /// Held bytes that trigger a spill ([`SPILL_AT`]; tests lower it).
    spill_at: usize,
    /// Flush after every record (live capture).
    pub flush_each: bool,
}

impl<W: Write> JsonSink<W> {
    pub fn new(out: W) -> JsonSink<W> {
        JsonSink {
            out,
            conns: BTreeMap::new(),
            held: 0,
            spill: None,
            spill_failed: false,
            spill_at: SPILL_AT,
            flush_each: false,
        }
    }
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn json_str<W: Write>(w: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *w, s).map_err(io::Error::from)
}

fn opt_str<W: Write>(w: &mut W, s: Option<&str>) -> io::Result<()> {
    match s {
        Some(s) => json_str(w, s),
        None => w.write_all(b"null"),
    }
}

fn opt_u64<W: Write>(w: &mut W, v: Option<u64>) -> io::Result<()> {
    match v {
        Some(v) => write!(w, "{v}"),
        None => w.write_all(b"null"),
    }
}

fn opt_f64<W: Write>(w: &mut W, v: Option<f64>) -> io::Result<()> {
    match v {
        Some(v) if v.is_finite() => write!(w, "{v:.3}"),
        _ => w.write_all(b"null"),
    }
}

/// `secs.frac` at the timestamp's precision (6 or 9 digits).
pub(crate) fn write_ts<W: Write>(w: &mut W, ts: &Timestamp) -> io::Result<()> {
    if ts.precision >= 9 {
        write!(w, "{}.{:09}", ts.secs, ts.nanos)
    } else {
        write!(w, "{}.{:06}", ts.secs, ts.nanos / 1000)
    }
}

fn write_packet<W: Write>(
    w: &mut W,
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
) -> io::Result<()> {
    write!(
        w,
        "{{\"type\":\"packet\",\"frame\":{},\"ts\":",
        frame.number
    )?;
    write_ts(w, &frame.ts)?;
    write!(
        w,
        ",\"len\":{},\"caplen\":{},\"interface\":{},\"link\":\"{}\",\"layers\":[",
        frame.orig_len,
        frame.data.len(),
        frame.interface,
        frame.link.name()
    )?;
    for (i, layer) in packet.layers.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(
            w,
            "{{\"osi\":{},\"name\":\"{}\",\"offset\":{},\"len\":{}}}",
            layer.osi().number(),
            layer.name.as_str(),
            layer.offset,
            layer.len
        )?;
    }
    w.write_all(b"],\"src\":")?;
    let ends = Endpoints::of(packet);
    match &ends {
        Some(e) => {
            w.write_all(b"\"")?;
            write_endpoint(w, e.src, e.src_port)?;
            w.write_all(b"\",\"dst\":\"")?;
            write_endpoint(w, e.dst, e.dst_port)?;
            w.write_all(b"\"")?;
        }
        None => w.write_all(b"null,\"dst\":null")?,
    }
    w.write_all(b",\"conn\":")?;
    opt_u64(w, flow.conn)?;
    w.write_all(b",\"dir\":")?;
    opt_str(w, flow.dir.map(|d| d.as_str()))?;
    w.write_all(b",\"tcp\":")?;
    match packet.tcp() {
        Some(tcp) => {
            w.write_all(b"{\"flags\":[")?;
            for (i, name) in tcp.flags.names().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                write!(w, "\"{name}\"")?;
            }
            let ack_abs = if tcp.flags.ack() { tcp.ack } else { 0 };
            write!(
                w,
                "],\"seq\":{},\"ack\":{},\"len\":{},\"win\":{},\"seq_abs\":{},\"ack_abs\":{}",
                flow.rel_seq.unwrap_or(tcp.seq),
                flow.rel_ack.unwrap_or(ack_abs),
                tcp.payload_len,
                tcp.window,
                tcp.seq,
                ack_abs
            )?;
            if let Some(win) = flow.window_scaled {
                write!(w, ",\"win_scaled\":{win}")?;
            }
            w.write_all(b"}")?;
        }
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"step\":")?;
    opt_str(w, flow.step.map(|s| s.label()))?;
    w.write_all(b",\"state\":")?;
    match flow.state {
        Some((c, s)) => write!(
            w,
            "{{\"client\":\"{}\",\"server\":\"{}\"}}",
            c.as_str(),
            s.as_str()
        )?,
        None => w.write_all(b"null")?,
    }
    w.write_all(b",\"analysis\":[")?;
    for (i, name) in flow.analysis.names().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "\"{name}\"")?;
    }
    w.write_all(b"]")?;
    if flow.analysis.has(crate::flow::AnalysisFlags::DUPLICATE_ACK) {
        write!(w, ",\"dup_ack\":{}", flow.dup_ack_num)?;
    }
    if let Some(note) = &flow.note {
        w.write_all(b",\"note\":")?;
        json_str(w, note)?;
    }
    w.write_all(b",\"issue\":")?;
    match &packet.issue {
        Some(issue) => {
            write!(
                w,
                "{{\"layer\":\"{}\",\"offset\":{},\"message\":",
                issue.layer, issue.offset
            )?;
            // The message is built from numbers and our own words; still JSON-escape it.
            json_str(w, &issue.to_string())?;
            w.write_all(b"}")?;
        }
        None => w.write_all(b"null")?,
    }
    w.write_all(b"}\n")
}

fn per_dir(p: &crate::flow::PerDir) -> String {
    format!(
        "{{\"to_server\":{},\"to_client\":{}}}",
        p.to_server, p.to_client
    )
}

/// One `conn` record (without the trailing newline).
pub fn conn_record(conn: &ConnSummary, app: &AppConnStats) -> io::Result<Vec<u8>> {
    let mut w = Vec::with_capacity(512);
    write!(
        w,
        "{{\"type\":\"conn\",\"id\":{},\"proto\":\"{}\",\"client\":\"",
        conn.id,
        conn.proto.as_str()
    )?;
    write_endpoint(&mut w, conn.client.ip(), Some(conn.client.port()))?;
    w.write_all(b"\",\"server\":\"")?;
    write_endpoint(&mut w, conn.server.ip(), Some(conn.server.port()))?;
    write!(
        w,
        "\",\"roles_guessed\":{},\"first_frame\":{},\"last_frame\":{},\"start\":",
        conn.roles_guessed, conn.first_frame, conn.last_frame
    )?;
    write_ts(&mut w, &conn.start)?;
    let duration = conn.end.nanos_since(&conn.start).max(0) as f64 / 1e9;
    write!(
        w,
        ",\"duration\":{:.6},\"packets\":{},\"bytes\":{},\"payload\":{}",
        duration,
        per_dir(&conn.packets),
        per_dir(&conn.bytes),
        per_dir(&conn.payload)
    )?;
    let hs = &conn.handshake;
    w.write_all(b",\"handshake\":{\"complete\":")?;
    write!(w, "{},\"frames\":[", hs.complete)?;
    for (i, f) in hs.frames.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        opt_u64(&mut w, *f)?;
    }
    w.write_all(b"],\"rtt_ms\":")?;
    opt_f64(&mut w, hs.rtt_ms())?;
    let td = &conn.teardown;
    write!(
        w,
        "}},\"teardown\":{{\"kind\":\"{}\",\"initiator\":",
        td.kind.as_str()
    )?;
    opt_str(
        &mut w,
        td.initiator.map(|d| match d {
            crate::flow::Direction::ToServer => "client",
            crate::flow::Direction::ToClient => "server",
        }),
    )?;
    w.write_all(b",\"frames\":[")?;
    for (i, f) in td.frames.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "{f}")?;
    }
    w.write_all(b"],\"description\":")?;
    json_str(&mut w, &td.description)?;
    write!(w, "}},\"conn_state\":\"{}\",\"history\":", conn.conn_state)?;
    json_str(&mut w, &conn.history)?;
    if let Some((c, s)) = conn.final_state {
        write!(
            w,
            ",\"final_state\":{{\"client\":\"{}\",\"server\":\"{}\"}}",
            c.as_str(),
            s.as_str()
        )?;
    }
    write!(
        w,
        ",\"end_reason\":\"{:?}\",\"gap_bytes\":{},\"cut_bytes\":{},\"http\":{{\"requests\":{},\"responses\":{}}},\"dns\":{}}}",
        conn.end_reason,
        per_dir(&conn.gap_bytes),
        per_dir(&conn.cut_bytes),
        app.http_requests,
        app.http_responses,
        app.dns_messages
    )?;
    Ok(w)
}

fn write_http<W: Write>(w: &mut W, t: &HttpTransaction) -> io::Result<()> {
    write!(
        w,
        "{{\"type\":\"http\",\"conn\":{},\"index\":{},\"request_frame\":",
        t.conn, t.index
    )?;
    opt_u64(w, t.request_frame)?;
    w.write_all(b",\"response_frame\":")?;
    opt_u64(w, t.response_frame)?;
    w.write_all(b",\"method\":")?;
    opt_str(w, t.method.as_deref())?;
    w.write_all(b",\"uri\":")?;
    opt_str(w, t.uri.as_deref())?;
    w.write_all(b",\"version\":")?;
    opt_str(w, t.version.as_deref())?;
    w.write_all(b",\"host\":")?;
    opt_str(w, t.host.as_deref())?;
    w.write_all(b",\"status\":")?;
    opt_u64(w, t.status.map(u64::from))?;
    w.write_all(b",\"reason\":")?;
    opt_str(w, t.reason.as_deref())?;
    w.write_all(b",\"request_body_bytes\":")?;
    opt_u64(w, t.request_body_bytes)?;
    w.write_all(b",\"response_body_bytes\":")?;
    opt_u64(w, t.response_body_bytes)?;
    w.write_all(b",\"latency_ms\":")?;
    opt_f64(w, t.latency_ms)?;
    if !t.notes.is_empty() {
        w.write_all(b",\"notes\":")?;
        serde_json::to_writer(&mut *w, &t.notes).map_err(io::Error::from)?;
    }
    w.write_all(b"}\n")
}

fn write_dns<W: Write>(w: &mut W, d: &DnsMessage) -> io::Result<()> {
    write!(
        w,
        "{{\"type\":\"dns\",\"conn\":{},\"frame\":{},\"id\":{},\"response\":{},\"qname\":",
        d.conn, d.frame, d.id, d.response
    )?;
    json_str(w, &d.qname)?;
    w.write_all(b",\"qtype\":")?;
    json_str(w, &d.qtype)?;
    w.write_all(b",\"rcode\":")?;
    json_str(w, &d.rcode)?;
    w.write_all(b",\"answers\":")?;
    serde_json::to_writer(&mut *w, &d.answers).map_err(io::Error::from)?;
    w.write_all(b",\"latency_ms\":")?;
    opt_f64(w, d.latency_ms)?;
    writeln!(w, ",\"tcp\":{}}}", d.tcp)
}

impl<W: Write> Sink for JsonSink<W> {
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        write_packet(&mut self.out, frame, packet, flow)?;
        if self.flush_each {
            self.out.flush()?;
        }
        Ok(())
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        match event {
            AppEvent::Http(t) => write_http(&mut self.out, t),
            AppEvent::Dns(d) => write_dns(&mut self.out, d),
        }
    }

    fn conn_end(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        let record = conn_record(conn, app)?;
        self.held += record.len();
        self.conns.insert(conn.id, record);
        if self.held > self.spill_at && !self.spill_failed {
            if self.spill.is_none() {
                match Spill::create() {
                    Ok(s) => self.spill = Some(s),
                    Err(_) => self.spill_failed = true,
                }
            }
            if let Some(spill) = &mut self.spill {
                for (id, record) in std::mem::take(&mut self.conns) {
                    spill.push(id, &record)?;
                }
                self.held = 0;
            }
        }
        Ok(())
    }

    fn finish(&mut self, s: &RunSummary) -> io::Result<()> {
        let held = std::mem::take(&mut self.conns);
        self.held = 0;
        let mut spilled = Vec::new();
        let mut spill = self.spill.take();
        if let Some(sp) = &mut spill {
            spilled = std::mem::take(&mut sp.index);
            spilled.sort_unstable_by_key(|e| e.0);
        }
        // Merge the spilled records and those still held, in id order.
        let mut held = held.into_iter().peekable();
        let mut buf = Vec::new();
        for (id, offset, len) in spilled {
            while let Some((_, record)) = held.next_if(|(h, _)| *h < id) {
                self.out.write_all(&record)?;
                self.out.write_all(b"\n")?;
            }
            if let Some(sp) = &mut spill {
                sp.read(offset, len, &mut buf)?;
                self.out.write_all(&buf)?;
                self.out.write_all(b"\n")?;
            }
        }
        for (_, record) in held {
            self.out.write_all(&record)?;
            self.out.write_all(b"\n")?;
        }
        write!(
            self.out,
            "{{\"type\":\"summary\",\"frames\":{},\"filtered_out\":{},\"conns\":{},\"decode_issues\":{},\"evicted_flows\":{},\"reassembly_cut_bytes\":{},\"fragments_evicted\":{},\"http_heads_too_large\":{},\"bad_records_skipped\":{},\"truncated\":{},\"error\":",
            s.frames,
            s.filtered_out,
            s.conns,
            s.decode_issues,
            s.evicted_flows,
            s.reassembly_cut_bytes,
            s.fragments_evicted,
            s.http_heads_too_large,
            s.bad_records_skipped,
            s.truncated.is_some()
        )?;
        opt_str(&mut self.out, s.error.as_deref())?;
        if let Some(t) = &s.truncated {
            write!(
                self.out,
                ",\"truncation\":{{\"last_frame\":{},\"offset\":{},\"needed\":{},\"had\":{}}}",
                t.last_frame, t.offset, t.needed, t.had
            )?;
        }
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{LinkType, Timestamp};
    use crate::pipeline::{Pipeline, PipelineConfig};

    /// 30 UDP flows (ports 1000..1030), then a SYN and RST on each of 10 TCP ports so
    /// that some connections end before others that started earlier.
    fn run(spill_at: usize) -> Vec<u8> {
        let mut frames = Vec::new();
        for port in 1000..1030u16 {
            let mut v = Vec::new();
            etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
                .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                .udp(port, 9)
                .write(&mut v, b"x")
                .unwrap();
            frames.push(v);
        }
        for port in 2000..2010u16 {
            for rst in [false, true] {
                let mut v = Vec::new();
                let b =
                    etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
                        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
                        .tcp(port, 80, 1, 1000);
                let b = if rst { b.rst() } else { b.syn() };
                b.write(&mut v, &[]).unwrap();
                frames.push(v);
            }
        }
        let mut sink = JsonSink::new(Vec::new());
        sink.spill_at = spill_at;
        let mut p = Pipeline::new(PipelineConfig::default());
        for (i, data) in frames.iter().enumerate() {
            let frame = RawFrame {
                number: i as u64 + 1,
                ts: Timestamp {
                    secs: 1 + i as i64 * 3,
                    nanos: 0,
                    precision: 6,
                },
                link: LinkType::ETHERNET,
                interface: 0,
                orig_len: data.len() as u32,
                data,
            };
            p.process(&frame, &mut sink).unwrap();
        }
        p.finish(&mut sink, None, None).unwrap();
        sink.into_inner()
    }

    /// `conn` records spilled to the temporary file (all, or some with others still
    /// held) come out exactly as when all are held: same bytes, id order.
    #[test]
    fn spilled_conn_records_keep_id_order() {
        let held = run(usize::MAX);
        let text = String::from_utf8(held.clone()).unwrap();
        let ids: Vec<u64> = text
            .lines()
            .filter(|l| l.starts_with("{\"type\":\"conn\""))
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["id"].as_u64().unwrap()
            })
            .collect();
        assert_eq!(ids, (0..40).collect::<Vec<u64>>());
        for spill_at in [0, 3000, 20_000] {
            assert!(run(spill_at) == held, "spill_at {spill_at}");
        }
    }
}
