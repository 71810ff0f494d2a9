//! A connection's block (the default view): the rows held for it as its packets arrive
//! (its own, its tunnels', the ICMP errors quoting it), the teaching and application
//! notes attached to them, and the block drawn when the connection ends (header, rows
//! fitted to the width).

use super::*;

impl<W: Write> TableSink<W> {
    pub(super) fn conn_row(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) {
        if !flow.outer_conns.is_empty() && !flow.late {
            self.tunnel_rows(frame, packet, flow);
        }
        let (Some(conn), Some(dir)) = (flow.conn, flow.dir) else {
            return;
        };
        // The connection's block was already written (its rows would wait forever).
        if flow.late {
            return;
        }
        let limit = self.opts.rows_per_conn;
        let (flags, seq, ack, win) = match &packet.transport {
            Some(Transport::Tcp(t)) => {
                let (s, a) = if self.opts.absolute_seq {
                    (Some(t.seq), t.flags.ack().then_some(t.ack))
                } else {
                    (
                        flow.rel_seq,
                        if t.flags.ack() { flow.rel_ack } else { None },
                    )
                };
                let win = match flow.window_scaled {
                    Some(w) => WinCell::Scaled(w),
                    None if t.flags.syn() || t.flags.rst() => WinCell::Raw(t.window),
                    None => WinCell::Unknown(t.window),
                };
                (Some(t.flags), s, a, Some(win))
            }
            _ => (None, None, None, None),
        };
        let len = match &packet.transport {
            Some(Transport::Tcp(t)) => t.payload_len,
            _ => packet.payload.len() as u32,
        };
        let teach = if self.opts.teach {
            let mut t = crate::render::teach::teach_line(frame, packet, flow);
            if let Some(app) = self.take_pending_teach(frame.number) {
                t = Some(match t {
                    Some(t) => format!("{t}\n{app}"),
                    None => app,
                });
            }
            t
        } else {
            None
        };
        let mut l7 = self.take_pending_l7(frame.number).unwrap_or_default();
        if l7.is_empty() {
            if let Some(line) = crate::render::text::http_first_line(packet.payload) {
                crate::render::escape::escape_bytes(line, &mut l7);
            }
        }
        let transport = match &packet.transport {
            Some(Transport::Icmpv4(_)) => "icmp",
            Some(Transport::Icmpv6(_)) => "icmpv6",
            Some(Transport::Udp(_)) => "udp",
            _ if packet.layers.iter().any(|l| l.name == LayerName::Sctp) => "sctp",
            _ => "udp",
        };
        let quoted = flow.quoted_conn.zip(icmp_error_of(frame, packet));
        if let Some(((quoted_conn, _), e)) = quoted {
            l7 = format!("ICMP {} for conn {quoted_conn}", e.name());
        }
        let row = ConnRow {
            frame: frame.number,
            ts: frame.ts,
            dir,
            flags,
            transport,
            icmp_error: quoted.is_some(),
            seq,
            ack,
            len,
            win,
            marks: RowMarks::of(flow),
            note: flow.note.clone(),
            l7,
            teach,
            skipped_before: 0,
            rtt: flow.rtt,
        };
        let over_budget = self.rows_held >= MAX_HELD_ROWS;
        let rows = self.open.entry(conn).or_default();
        rows.start.get_or_insert(frame.ts);
        let before = rows.held();
        if over_budget && !row.important() {
            rows.push_without_growing(row);
        } else {
            rows.push(row, limit);
        }
        let after = rows.held();
        self.rows_held = (self.rows_held + after).saturating_sub(before);
        if let Some(((quoted_conn, quoted_dir), e)) = quoted {
            self.quoted_error_row(frame, packet, (quoted_conn, quoted_dir), conn, e);
        }
    }

    /// A tunnelled packet's row in the table of each UDP tunnel connection that carried it:
    /// a datagram whose payload is the inner packet, saying which connection that is.
    pub(super) fn tunnel_rows(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) {
        let limit = self.opts.rows_per_conn;
        for (conn, outer) in flow.outer_conns.iter().zip(&packet.outer_flows) {
            let l7 = match flow.conn {
                Some(inner) => format!("carries conn {inner}"),
                None => "carries a packet of no connection".to_string(),
            };
            let row = |dir| ConnRow {
                frame: frame.number,
                ts: frame.ts,
                dir,
                flags: None,
                transport: "udp",
                icmp_error: false,
                seq: None,
                ack: None,
                len: u32::from(outer.length.saturating_sub(8)),
                win: None,
                marks: RowMarks::default(),
                note: None,
                l7,
                teach: None,
                skipped_before: 0,
                rtt: Default::default(),
            };
            let over_budget = self.rows_held >= MAX_HELD_ROWS;
            let rows = self.open.entry(*conn).or_default();
            rows.start.get_or_insert(frame.ts);
            let client = *rows
                .tunnel_client
                .get_or_insert((outer.src, outer.src_port));
            let dir = if client == (outer.src, outer.src_port) {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            let before = rows.held();
            if over_budget {
                rows.push_without_growing(row(dir));
            } else {
                rows.push(row(dir), limit);
            }
            let after = rows.held();
            self.rows_held = (self.rows_held + after).saturating_sub(before);
        }
    }

    /// The row an ICMP error adds to the table of the connection whose packet it quotes
    /// (the error's own row is in its ICMP connection's table).
    pub(super) fn quoted_error_row(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        (conn, dir): (ConnId, Direction),
        icmp_conn: ConnId,
        e: crate::flow::icmp_error::IcmpError,
    ) {
        let row = ConnRow {
            frame: frame.number,
            ts: frame.ts,
            dir,
            flags: None,
            transport: if e.v6 { "icmpv6" } else { "icmp" },
            icmp_error: true,
            seq: None,
            ack: None,
            len: packet.payload.len() as u32,
            win: None,
            marks: RowMarks::default(),
            note: None,
            l7: format!(
                "ICMP {} for this connection (ICMP conn {icmp_conn})",
                e.name()
            ),
            teach: None,
            skipped_before: 0,
            rtt: Default::default(),
        };
        let limit = self.opts.rows_per_conn;
        let rows = self.open.entry(conn).or_default();
        let before = rows.held();
        rows.push(row, limit);
        let after = rows.held();
        self.rows_held = (self.rows_held + after).saturating_sub(before);
    }

    pub(super) fn print_block(&mut self, conn: &ConnSummary, app: &AppConnStats) -> io::Result<()> {
        let block = self.render_block(conn, app);
        self.out.write_all(block.as_bytes())
    }

    /// A connection block for a narrow terminal: one line per packet (marker, No., Δt,
    /// direction, flags, seq/ack/len/win), then, indented, the step and the endpoint states
    /// when they change, and the note, analysis and application summary, wrapped.
    pub(super) fn narrow_rows(
        &self,
        rows: &[ConnRow],
        start: Timestamp,
        total: u64,
        width: usize,
        text: &mut String,
    ) {
        let color = self.opts.color;
        let mut last_state = None;
        let mut steps = StepLabels::default();
        let mut teach_lines: Vec<(u64, String)> = Vec::new();
        let indent = "            ";
        let wrap_at = width.saturating_sub(indent.len()).max(20);
        for r in rows {
            if r.skipped_before > 0 {
                let _ = writeln!(text, "  {}", skipped_text(r.skipped_before));
            }
            let kind = r.marks.kind();
            let marker = match kind {
                RowKind::Plain => " ",
                _ => kind.letter(),
            };
            let ansi = match kind {
                RowKind::Handshake => "\x1b[32m",
                RowKind::Teardown => "\x1b[36m",
                RowKind::Reset => "\x1b[31m",
                RowKind::Flagged => "\x1b[33m",
                RowKind::Plain => "",
            };
            let mut line = format!(
                "{marker}{:>6} {:>9.6} {} {:<8}",
                r.frame,
                r.ts.nanos_since(&start) as f64 / 1e9,
                r.dir.arrow(),
                r.flags_text()
            );
            if let Some(seq) = r.seq {
                let _ = write!(line, " seq={seq}");
            }
            if let Some(ack) = r.ack {
                let _ = write!(line, " ack={ack}");
            }
            let _ = write!(line, " len={}", r.len);
            if let Some(win) = &r.win {
                let _ = write!(line, " win={win}");
            }
            // The packet line; on a terminal narrower than it, the rest on indented lines
            // (broken at the last space that fits; the line is ASCII but for the arrow).
            let mut pieces = vec![(String::new(), line.clone())];
            if line.chars().count() > width {
                let fits = line
                    .char_indices()
                    .nth(width)
                    .map_or(line.len(), |(i, _)| i);
                let cut = line[..fits].rfind(' ').filter(|&i| i > 0).unwrap_or(fits);
                pieces = vec![(String::new(), line[..cut].trim_end().to_string())];
                for rest in wrap(line[cut..].trim_start(), wrap_at) {
                    pieces.push((indent.to_string(), rest));
                }
            }
            for (lead, piece) in pieces {
                if color && !ansi.is_empty() {
                    let _ = writeln!(text, "{lead}{ansi}{piece}{RESET}");
                } else {
                    let _ = writeln!(text, "{lead}{piece}");
                }
            }
            let mut second = String::new();
            if let Some(label) = steps.label(r.marks.step) {
                second.push_str(label);
            }
            if r.marks.state.is_some() && r.marks.state != last_state {
                if let Some((c, sv)) = r.marks.state {
                    if !second.is_empty() {
                        second.push_str(" · ");
                    }
                    let _ = write!(second, "client {c}, server {sv}");
                }
                last_state = r.marks.state;
            }
            for chunk in wrap(&second, wrap_at) {
                let _ = writeln!(text, "{indent}{chunk}");
            }
            let mut third = analysis_text(r.marks.analysis, r.note.as_deref());
            if !r.l7.is_empty() {
                if !third.is_empty() {
                    third.push_str(" · ");
                }
                third.push_str(&r.l7);
            }
            for chunk in wrap(&third, wrap_at) {
                let _ = writeln!(text, "{indent}{chunk}");
            }
            if let Some(teach) = &r.teach {
                for l in teach.lines() {
                    teach_lines.push((r.frame, l.to_string()));
                }
            }
        }
        if total == 0 {
            let _ = writeln!(text, "  (no packets shown)");
        }
        if !teach_lines.is_empty() {
            let _ = writeln!(text, "  What happened:");
            for (frame, line) in teach_lines {
                let lead = format!("  {frame:>6}  ");
                for (i, chunk) in wrap(&line, width.saturating_sub(lead.len()).max(20))
                    .into_iter()
                    .enumerate()
                {
                    let pad = if i == 0 {
                        lead.clone()
                    } else {
                        " ".repeat(lead.len())
                    };
                    let _ = writeln!(text, "{pad}{chunk}");
                }
            }
        }
        text.push('\n');
    }

    /// One connection's header line and table, as text.
    /// The width output must fit: `--width`, else the terminal's; None when unlimited.
    pub(super) fn effective_width(&self) -> Option<usize> {
        self.opts.width.map(usize::from).or_else(|| {
            if self.opts.is_terminal {
                Table::new().width().map(usize::from)
            } else {
                None
            }
        })
    }

    pub(super) fn render_block(&mut self, conn: &ConnSummary, app: &AppConnStats) -> String {
        let mut rows = self.open.remove(&conn.id).unwrap_or_default();
        self.rows_held = self.rows_held.saturating_sub(rows.held());
        let start = rows.start.unwrap_or(conn.start);
        let total = rows.total;
        let rows = rows.rows();
        let header = self.block_header(conn, app);
        let mut text = String::new();
        let width = self.effective_width();
        match width {
            Some(w) => {
                for line in header.lines() {
                    let indent = line.len() - line.trim_start().len();
                    for (i, chunk) in wrap(line.trim_start(), w.saturating_sub(4).max(20))
                        .into_iter()
                        .enumerate()
                    {
                        let pad = if i == 0 { indent } else { indent + 2 };
                        let _ = writeln!(text, "{}{chunk}", " ".repeat(pad));
                    }
                }
            }
            None => {
                text.push_str(&header);
                text.push('\n');
            }
        }
        if width.is_some_and(|w| w < NARROW_BELOW) {
            self.narrow_rows(&rows, start, total, width.unwrap_or(80), &mut text);
            return text;
        }
        let mut t = self.new_table();
        let mut heading = vec![
            "", "No.", "Δt", "dir", "flags", "seq", "ack", "len", "win", "step", "client", "server",
        ];
        heading.extend(self.opts.columns.iter().map(|c| c.heading()));
        heading.push("analysis / L7");
        t.set_header(heading);
        let mut teach_lines: Vec<(u64, String)> = Vec::new();
        let mut steps = StepLabels::default();
        for r in &rows {
            if r.skipped_before > 0 {
                t.add_row(vec![
                    Cell::new(""),
                    Cell::new(skipped_text(r.skipped_before)),
                ]);
            }
            let kind = r.marks.kind();
            let marker = kind.letter();
            let color = match kind {
                RowKind::Handshake => Some(Color::Green),
                RowKind::Teardown => Some(Color::Cyan),
                RowKind::Reset => Some(Color::Red),
                RowKind::Flagged => Some(Color::Yellow),
                RowKind::Plain => None,
            };
            let mut last = analysis_text(r.marks.analysis, r.note.as_deref());
            if !r.l7.is_empty() {
                if !last.is_empty() {
                    last.push_str(" · ");
                }
                last.push_str(&r.l7);
            }
            let dt = format!("{:.6}", r.ts.nanos_since(&start) as f64 / 1e9);
            let (cs, ss) = match r.marks.state {
                Some((c, s)) => (c.as_str(), s.as_str()),
                None => ("", ""),
            };
            let mut cells = vec![
                marker.to_string(),
                r.frame.to_string(),
                dt,
                r.dir.arrow().to_string(),
                r.flags_text(),
                r.seq.map(|v| v.to_string()).unwrap_or_default(),
                r.ack.map(|v| v.to_string()).unwrap_or_default(),
                r.len.to_string(),
                r.win.map(|w| w.to_string()).unwrap_or_default(),
                steps.label(r.marks.step).unwrap_or_default().to_string(),
                cs.to_string(),
                ss.to_string(),
            ];
            cells.extend(self.opts.columns.iter().map(|c| c.cell(&r.rtt)));
            cells.push(last);
            let row: Vec<Cell> = cells
                .into_iter()
                .map(|c| {
                    let cell = Cell::new(c);
                    match color {
                        Some(col) => cell.fg(col),
                        None => cell,
                    }
                })
                .collect();
            t.add_row(row);
            if let Some(teach) = &r.teach {
                for line in teach.lines() {
                    teach_lines.push((r.frame, line.to_string()));
                }
            }
        }
        if total == 0 {
            t.add_row(vec!["", "(no packets shown)"]);
        }
        let _ = writeln!(text, "{t}");
        if !teach_lines.is_empty() {
            let width = self.opts.width.map(usize::from).unwrap_or(100).max(40);
            let _ = writeln!(text, "  What happened:");
            for (frame, line) in teach_lines {
                let lead = format!("  {frame:>6}  ");
                let mut first = true;
                for chunk in wrap(&line, width.saturating_sub(lead.chars().count()).max(20)) {
                    if first {
                        let _ = writeln!(text, "{lead}{chunk}");
                        first = false;
                    } else {
                        let _ = writeln!(text, "{}{chunk}", " ".repeat(lead.chars().count()));
                    }
                }
            }
        }
        text.push('\n');
        text
    }

    pub(super) fn block_header(&mut self, c: &ConnSummary, app: &AppConnStats) -> String {
        let h = self.block_header_text(c, app);
        self.block_tls = None;
        h
    }

    pub(super) fn block_header_text(&self, c: &ConnSummary, app: &AppConnStats) -> String {
        let mut h = String::new();
        let client = endpoint_string(c.client.ip(), Some(c.client.port()));
        let server = endpoint_string(c.server.ip(), Some(c.server.port()));
        let title = format!(
            "conn {} · {} · {} ⇄ {}{}",
            c.id,
            c.proto.as_str().to_uppercase(),
            client,
            server,
            if c.roles_guessed {
                " (roles guessed: no SYN seen)"
            } else {
                ""
            }
        );
        if self.opts.color {
            let _ = write!(h, "\x1b[1m{title}{RESET}");
        } else {
            h.push_str(&title);
        }
        let service = service_text(app);
        let _ = write!(h, "\n  started {}", self.start_text(&c.start));
        if !service.is_empty() {
            let _ = write!(h, " · service {service}");
        }
        let tunnel = tunnel_text(c);
        if !tunnel.is_empty() {
            let _ = write!(h, "\n  inside {tunnel}");
        }
        let dur = c.end.nanos_since(&c.start).max(0) as f64 / 1e9;
        let _ = write!(
            h,
            "\n  zeek {} {} · {:.3} s · → {} pkts {} · ← {} pkts {}",
            c.conn_state,
            escape_str(&c.history),
            dur,
            c.packets.to_server,
            human_bytes(c.bytes.to_server),
            c.packets.to_client,
            human_bytes(c.bytes.to_client),
        );
        if let Some(rtt) = c.handshake.rtt_ms() {
            let _ = write!(h, " · handshake RTT {rtt:.3} ms");
        }
        if !c.teardown.description.is_empty() {
            let _ = write!(h, " · {}", c.teardown.description);
        }
        if app.http_requests > 0 || app.http_responses > 0 {
            let _ = write!(
                h,
                " · HTTP {} requests, {} responses",
                app.http_requests, app.http_responses
            );
        }
        if app.dns_messages > 0 {
            let _ = write!(h, " · DNS {} messages", app.dns_messages);
        }
        if let Some(e) = &c.icmp_errors {
            let _ = write!(
                h,
                " · ICMP errors {}, last {} (frame {})",
                e.count,
                e.last.name(),
                e.last.frame
            );
        }
        if let Some(tls) = &self.block_tls {
            let _ = write!(
                h,
                "\n  {tls} (TLS sits between TCP and the application: OSI presentation layer)"
            );
        }
        let gaps = c.gap_bytes.to_server + c.gap_bytes.to_client;
        let cut = c.cut_bytes.to_server + c.cut_bytes.to_client;
        if gaps > 0 {
            let _ = write!(h, " · {} not captured", human_bytes(gaps));
        }
        if cut > 0 {
            let _ = write!(h, " · {} cut by the reassembly cap", human_bytes(cut));
        }
        if let Some(line) = crate::render::graph::timing_table::header_line(c, app.tls_setup_ns) {
            let _ = write!(h, "\n  {line}");
        }
        h
    }

    /// Puts an application teaching line under the row of `frame` (at once when the row
    /// is kept, else when it is made).
    pub(super) fn attach_teach(&mut self, conn: ConnId, frame: u64, text: String) {
        if let Some(r) = self.kept_row(conn, frame) {
            r.teach = Some(match r.teach.take() {
                Some(t) => format!("{t}\n{text}"),
                None => text,
            });
            return;
        }
        hold_pending(&mut self.pending_teach, frame, text);
    }

    /// Puts an application summary on the row of `frame`: at once when the row is kept,
    /// else when the row is made (events can arrive just before their packet).
    pub(super) fn attach_l7(&mut self, conn: ConnId, frame: u64, text: String) {
        if let Some(r) = self.kept_row(conn, frame) {
            r.l7 = text;
            return;
        }
        hold_pending(&mut self.pending_l7, frame, text);
    }

    /// The row of `frame` in `conn`'s block, while the block is kept (the connections
    /// view keeps a connection's rows until it ends).
    fn kept_row(&mut self, conn: ConnId, frame: u64) -> Option<&mut ConnRow> {
        if self.opts.view != View::Connections {
            return None;
        }
        self.open
            .get_mut(&conn)
            .and_then(|rows| rows.row_mut(frame))
    }

    /// The teaching line of an application event waiting for the row of `frame`.
    pub(super) fn take_pending_teach(&mut self, frame: u64) -> Option<String> {
        take_pending(&mut self.pending_teach, frame)
    }

    /// The application summary waiting for `frame`, if any; older ones are dropped.
    pub(super) fn take_pending_l7(&mut self, frame: u64) -> Option<String> {
        take_pending(&mut self.pending_l7, frame)
    }
}

/// Texts waiting for the row of their frame held at most this many (the oldest dropped).
const MAX_PENDING: usize = 64;

/// Holds `text` for the row of `frame` (see [`MAX_PENDING`]).
fn hold_pending(pending: &mut Vec<(u64, String)>, frame: u64, text: String) {
    if pending.len() >= MAX_PENDING {
        pending.remove(0);
    }
    pending.push((frame, text));
}

/// The text waiting for the row of `frame`, if any; those of older frames are dropped.
fn take_pending(pending: &mut Vec<(u64, String)>, frame: u64) -> Option<String> {
    let found = pending
        .iter()
        .position(|(f, _)| *f == frame)
        .map(|i| pending.swap_remove(i).1);
    pending.retain(|(f, _)| *f > frame);
    found
}

/// The line standing for rows elided between two kept ones: "… 1,234 packets …".
fn skipped_text(n: u64) -> String {
    let unit = if n == 1 { "packet" } else { "packets" };
    format!("… {} {unit} …", group(n))
}
