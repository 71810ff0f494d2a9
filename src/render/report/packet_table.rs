//! The annotated packet table: one `<tr data-frame="N">` per packet, handshake, teardown,
//! RST and flagged rows marked (`H`, `T`, `R`, `!`) and coloured, the step, both
//! endpoints' states, analysis and application labels, and the `--teach` line as the row's
//! note. The rows are the table's data, rendered a page at a time by the script.

use super::escape::{script_json, text};
use super::{PacketRow, Times};
use crate::app::AppEvent;
use crate::capture::RawFrame;
use crate::decode::{DecodedPacket, Transport};
use crate::flow::{Direction, PacketFlow};
use crate::render::escape::{escape_bytes, escape_str};
use crate::render::row_marks::{RowKind, RowMarks};
use crate::render::teach::teach_line;
use crate::render::text::{endpoint_string, http_first_line, info, StepLabels};
use serde_json::{json, Value};
use std::fmt::Write as _;

/// Rows shown per page of a table (the script's `PAGE`).
pub const PAGE_ROWS: usize = 100;

/// A packet's row (see [`PacketRow`]).
pub fn row_of(
    frame: &RawFrame<'_>,
    packet: &DecodedPacket<'_>,
    flow: &PacketFlow,
    explained: bool,
) -> PacketRow {
    let ports = packet.ports();
    let (src, dst) = match &packet.net {
        Some(n) => (
            endpoint_string(n.src, ports.map(|p| p.0)),
            endpoint_string(n.dst, ports.map(|p| p.1)),
        ),
        None => match (packet.link.src_mac, packet.link.dst_mac) {
            (Some(s), Some(d)) => (mac(&s), mac(&d)),
            _ => (String::new(), String::new()),
        },
    };
    let stack = packet
        .layers
        .iter()
        .map(|l| l.name.to_string())
        .collect::<Vec<_>>()
        .join(" › ");
    let (flags, seq, ack, len, win) = match &packet.transport {
        Some(Transport::Tcp(t)) => (
            t.flags.to_string(),
            flow.rel_seq.or(Some(t.seq)),
            if t.flags.ack() {
                flow.rel_ack.or(Some(t.ack))
            } else {
                None
            },
            t.payload_len,
            Some(flow.window_scaled.unwrap_or(u64::from(t.window))),
        ),
        Some(Transport::Udp(u)) => (
            "UDP".to_string(),
            None,
            None,
            u32::from(u.length.saturating_sub(8)),
            None,
        ),
        _ => (
            packet
                .layers
                .last()
                .map(|l| l.name.to_string())
                .unwrap_or_default(),
            None,
            None,
            packet.payload.len() as u32,
            None,
        ),
    };
    let mut info_bytes = Vec::new();
    info(packet, flow.rel_seq.zip(flow.rel_ack), &mut info_bytes);
    let mut info_text = String::new();
    escape_bytes(&info_bytes, &mut info_text);
    let mut l7 = String::new();
    if let Some(line) = http_first_line(packet.payload) {
        escape_bytes(line, &mut l7);
    }
    PacketRow {
        frame: frame.number,
        ts: frame.ts,
        conn: flow.conn,
        dir: flow.dir,
        src,
        dst,
        stack,
        flags,
        seq,
        ack,
        len,
        win,
        marks: RowMarks::of(flow),
        note: flow.note.as_deref().map(escape_str),
        info: info_text,
        l7,
        teach: teach_line(frame, packet, flow),
        explained,
    }
}

fn mac(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// Labels the rows an HTTP or DNS event names (request and status lines, DNS question or
/// answer), as the ladder does.
pub fn label_rows(rows: &mut [PacketRow], event: &AppEvent) {
    let mut label = |frame: u64, text: String| {
        if let Some(r) = rows.iter_mut().rev().find(|r| r.frame == frame) {
            r.l7 = text;
        }
    };
    match event {
        AppEvent::Http(h) => {
            if let Some(f) = h.request_frame {
                label(
                    f,
                    format!(
                        "{} {}",
                        escape_str(h.method.as_deref().unwrap_or("?")),
                        escape_str(h.uri.as_deref().unwrap_or("?"))
                    ),
                );
            }
            if let (Some(f), Some(s)) = (h.response_frame, h.status) {
                let mut t = format!("{s} {}", escape_str(h.reason.as_deref().unwrap_or("")));
                if let Some(ms) = h.latency_ms {
                    let _ = write!(t, " · {ms:.1} ms");
                }
                label(f, t.trim_end().to_string());
            }
        }
        AppEvent::Dns(d) => {
            let t = if d.response {
                format!(
                    "DNS {} {} {}",
                    escape_str(&d.qname),
                    d.rcode,
                    d.answers.first().map(|a| escape_str(a)).unwrap_or_default()
                )
            } else {
                format!("DNS {} {}", d.qtype, escape_str(&d.qname))
            };
            label(d.frame, t.trim_end().to_string());
        }
        _ => {}
    }
}

/// The row's mark: `H` handshake, `T` teardown, `R` RST, `!` flagged by the analysis.
pub fn mark(r: &PacketRow) -> (&'static str, &'static str) {
    let kind = r.marks.kind();
    let class = match kind {
        RowKind::Handshake => "hs",
        RowKind::Teardown => "td",
        RowKind::Reset => "rst",
        RowKind::Flagged => "flag",
        RowKind::Plain => "",
    };
    (kind.letter(), class)
}

/// Words the filter box matches besides the visible cells: flag names one by one, the
/// analysis flags, the step, the HTTP method and status.
fn search_words(r: &PacketRow, step: &str) -> String {
    let mut s = r.flags.replace('+', " ").to_lowercase();
    for a in r.marks.analysis.names() {
        s.push(' ');
        s.push_str(a);
    }
    if !step.is_empty() {
        s.push(' ');
        s.push_str(step);
    }
    s
}

/// The columns of a row in the table's data, in order (the script reads them by position).
pub const ROW_COLUMNS: [&str; 19] = [
    "frame",
    "mark",
    "class",
    "time",
    "dir",
    "src",
    "dst",
    "flags",
    "seq",
    "ack",
    "len",
    "win",
    "step",
    "client",
    "server",
    "l7",
    "teach",
    "words",
    "noexplain",
];

/// One row as the table's data holds it (see [`ROW_COLUMNS`]); text as it is, the script
/// only ever sets it as text.
fn row_json(r: &PacketRow, step: &str, time: String) -> Value {
    let (m, class) = mark(r);
    let dir = match r.dir {
        Some(Direction::ToServer) => "→",
        Some(Direction::ToClient) => "←",
        None => "",
    };
    let opt = |v: Option<u32>| v.map_or(Value::from(""), Value::from);
    let (cs, ss) = r
        .marks
        .state
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .unwrap_or_default();
    let mut parts: Vec<&str> = Vec::new();
    if !r.l7.is_empty() {
        parts.push(&r.l7);
    }
    if let Some(n) = &r.note {
        parts.push(n);
    }
    if parts.is_empty() && r.conn.is_none() {
        parts.push(&r.info);
    }
    json!([
        r.frame,
        m,
        class,
        time,
        dir,
        text(&r.src),
        text(&r.dst),
        text(&r.flags),
        opt(r.seq),
        opt(r.ack),
        r.len,
        r.win.map_or(Value::from(""), Value::from),
        step,
        cs,
        ss,
        text(&parts.join(" · ")),
        r.teach.as_deref().map(text).unwrap_or_default(),
        search_words(r, step),
        u8::from(!r.explained),
    ])
}

/// A table of `rows` (one connection's, or the packets of no connection). The rows are not
/// markup: they are the table's data (a JSON array after the table), and the script
/// renders one page of them at a time ([`PAGE_ROWS`]), when the table comes near the screen
/// — so a page of 10,000 rows opens as fast as one of ten.
pub fn write_table(out: &mut String, rows: &[PacketRow], times: &Times, conn: Option<u64>) {
    let _ = write!(
        out,
        "<div class=\"table-wrap\"><table class=\"packets\" data-rows=\"{}\"",
        rows.len()
    );
    if let Some(c) = conn {
        let _ = write!(out, " data-conn=\"{c}\"");
    }
    out.push_str(
        "><thead><tr>\
         <th title=\"H handshake, T teardown, R RST, ! flagged\"></th><th>No.</th><th>time</th>\
         <th>dir</th><th>source</th><th>destination</th><th>flags</th><th>seq</th><th>ack</th>\
         <th>len</th><th>win</th><th>step</th><th>client</th><th>server</th>\
         <th>analysis / L7</th></tr></thead><tbody></tbody></table></div>",
    );
    let _ = write!(
        out,
        "<div class=\"pager\" hidden=\"hidden\"><button type=\"button\" class=\"prev\">◀ previous</button> \
         <span class=\"pageno\"></span> <button type=\"button\" class=\"next\">next ▶</button> \
         <span class=\"rowcount\"></span></div><noscript><p class=\"hint\">The {} packet rows \
         of this table are drawn by the page's script.</p></noscript>",
        rows.len()
    );
    let mut steps = StepLabels::default();
    let data: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let step = steps.label(r.marks.step).unwrap_or("");
            let prev = i.checked_sub(1).and_then(|p| rows.get(p)).map(|p| &p.ts);
            row_json(r, step, times.cell(&r.ts, prev))
        })
        .collect();
    let _ = write!(
        out,
        "<script type=\"application/json\" class=\"rows\">{}</script>",
        script_json(&Value::Array(data))
    );
}
