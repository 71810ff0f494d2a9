//! The flat packet list (`--view packets`) and the packet rows of a connection's block:
//! the Time column, the layer stack, one packet's row (fitted to the width) with its
//! Info text.

use super::*;

impl<W: Write> TableSink<W> {
    /// The Time column (`--time-format`) appended to `out`, without `core::fmt` in the
    /// common cases.
    pub(super) fn push_time(&mut self, ts: &Timestamp, out: &mut Vec<u8>) {
        let first = *self.first_ts.get_or_insert(*ts);
        let prev = self.prev_ts.unwrap_or(*ts);
        push_time(self.opts.time_format, ts, &first, &prev, out);
        self.prev_ts = Some(*ts);
    }

    /// When a connection started (see [`start_text`]).
    pub(super) fn start_text(&self, ts: &Timestamp) -> String {
        start_text(self.opts.time_format, self.first_ts, ts)
    }

    /// "L2 eth › L3 ipv4 › L4 tcp › L7 http"; returns its visible width.
    pub(super) fn stack(&self, packet: &DecodedPacket<'_>, out: &mut Vec<u8>) -> usize {
        let mut visible = 0;
        for (i, layer) in packet.layers.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(" › ".as_bytes());
                visible += 3;
            }
            let osi = layer.osi();
            if self.opts.color {
                out.extend_from_slice(layer_ansi(osi).as_bytes());
            }
            let start = out.len();
            out.push(b'L');
            put_u64(out, u64::from(osi.number()));
            out.push(b' ');
            out.extend_from_slice(layer.name.as_str().as_bytes());
            // Layer names are ASCII: a column per byte.
            visible += out.len() - start;
            if self.opts.color {
                out.extend_from_slice(RESET.as_bytes());
            }
        }
        if packet.layers.is_empty() {
            out.extend_from_slice(b"(not decoded)");
            visible += "(not decoded)".len();
        }
        visible
    }

    /// The width streamed packet rows must fit (`--width`, else the terminal's; None:
    /// unlimited), asked once.
    pub(super) fn row_width(&mut self) -> Option<usize> {
        if self.row_width.is_none() {
            self.row_width = Some(self.effective_width());
        }
        self.row_width.flatten()
    }

    pub(super) fn packet_row(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        let width = self.row_width();
        // Below the full row's fixed columns and a useful Info column: the compact row.
        let compact = width.is_some_and(|w| w < FULL_ROW_PREFIX + MIN_INFO);
        if !self.header_done {
            self.header_done = true;
            let mut header = if compact {
                format!(
                    "{:>5} {:>9} {:<21} {:<21} Info",
                    "No.", "Time", "Source", "Destination"
                )
            } else {
                format!(
                    "{:>6} {:>11} {:<22} {:<22} {:>5} {:>4} {:<13} {:<34} Info",
                    "No.", "Time", "Source", "Destination", "Len", "Conn", "Step", "Layers"
                )
            };
            if let Some(w) = width {
                header = crate::render::fit::truncate_str(&header, w);
            }
            writeln!(self.out, "{header}")?;
        }
        // The row is built in one reused buffer without `core::fmt` and written at once.
        let mut line = std::mem::take(&mut self.row);
        line.clear();
        let (number_cols, time_cols) = if compact { (5, 9) } else { (6, 11) };
        put_u64_padded(&mut line, frame.number, number_cols, b' ');
        line.push(b' ');
        let mut time = std::mem::take(&mut self.time_scratch);
        time.clear();
        self.push_time(&frame.ts, &mut time);
        put_right(&mut line, &time, time_cols);
        self.time_scratch = time;
        line.push(b' ');
        let endpoint_cols = if compact { 21 } else { 22 };
        let start = line.len();
        match Endpoints::of(packet) {
            Some(e) => {
                put_endpoint(&mut line, e.src, e.src_port);
                fit_column(&mut line, start, endpoint_cols, compact);
                line.push(b' ');
                let start = line.len();
                put_endpoint(&mut line, e.dst, e.dst_port);
                fit_column(&mut line, start, endpoint_cols, compact);
            }
            None => {
                line.extend_from_slice(frame.link.name().as_bytes());
                fit_column(&mut line, start, endpoint_cols, compact);
                line.push(b' ');
                pad_to(&mut line, endpoint_cols);
            }
        }
        line.push(b' ');
        let info_start;
        if compact {
            info_start = line.len();
            if let Some(step) = flow.step {
                line.extend_from_slice(step.label().as_bytes());
                line.extend_from_slice(" · ".as_bytes());
            }
        } else {
            put_u64_padded(&mut line, u64::from(frame.orig_len), 5, b' ');
            line.push(b' ');
            match flow.conn {
                Some(c) => put_u64_padded(&mut line, c, 4, b' '),
                None => pad_to(&mut line, 4),
            }
            line.push(b' ');
            let start = line.len();
            line.extend_from_slice(flow.step.map(|s| s.label()).unwrap_or("").as_bytes());
            pad_right(&mut line, start, 13);
            line.push(b' ');
            // Pad the stack column by its visible width (colour codes take none).
            let visible = self.stack(packet, &mut line);
            pad_to(&mut line, 34usize.saturating_sub(visible));
            line.push(b' ');
            info_start = line.len();
        }
        // Compact rows put the application summary first (what the packet is for), as
        // tshark's Info does.
        let l7 = self.take_pending_l7(frame.number);
        if let (true, Some(l7)) = (compact, &l7) {
            line.extend_from_slice(l7.as_bytes());
            line.extend_from_slice(" · ".as_bytes());
        }
        let info_at = line.len();
        let rel = if self.opts.absolute_seq {
            None
        } else {
            match (flow.rel_seq, flow.rel_ack) {
                (Some(s), Some(a)) => Some((s, a)),
                _ => None,
            }
        };
        info(packet, rel, &mut line);
        if compact {
            // The ports are in the endpoint columns already.
            drop_ports_prefix(&mut line, info_at);
        }
        if let (false, Some(l7)) = (compact, l7) {
            line.extend_from_slice(" · ".as_bytes());
            line.extend_from_slice(l7.as_bytes());
        }
        if !flow.analysis.is_empty() {
            line.extend_from_slice(b" [");
            for (i, n) in flow.analysis.names().enumerate() {
                if i > 0 {
                    line.extend_from_slice(b", ");
                }
                line.extend_from_slice(n.as_bytes());
            }
            line.push(b']');
        }
        if let Some((c, s)) = flow.state {
            line.extend_from_slice(" · ".as_bytes());
            line.extend_from_slice(c.as_str().as_bytes());
            line.push(b'/');
            line.extend_from_slice(s.as_str().as_bytes());
        }
        if let Some(w) = width {
            // Never wider than the terminal: the Info column is cut with `…` (all of the
            // row when even its fixed columns do not fit).
            let fixed = crate::render::fit::display_width(&line[..info_start]);
            let cut = if fixed < w {
                crate::render::fit::truncate_tail(&mut line, info_start, w - fixed)
            } else {
                crate::render::fit::truncate_tail(&mut line, 0, w)
            };
            if cut && self.opts.color {
                line.extend_from_slice(RESET.as_bytes());
            }
        }
        let marked = match flow.step {
            Some(Step::Handshake(_)) => Some("\x1b[1;32m"),
            Some(Step::Teardown(_)) => Some("\x1b[1;36m"),
            Some(Step::Abort | Step::Refused) => Some("\x1b[1;31m"),
            None => None,
        };
        match (marked, self.opts.color) {
            (Some(ansi), true) => {
                self.out.write_all(ansi.as_bytes())?;
                line.extend_from_slice(RESET.as_bytes());
                line.push(b'\n');
                self.out.write_all(&line)?;
            }
            _ => {
                line.push(b'\n');
                self.out.write_all(&line)?;
            }
        }
        self.row = line;
        if self.opts.teach {
            let mut lines: Vec<String> = Vec::new();
            lines.extend(crate::render::teach::teach_line(frame, packet, flow));
            lines.extend(self.take_pending_teach(frame.number));
            let wrap_at = width.map_or(usize::MAX, |w| w.saturating_sub(9).max(20));
            for l in lines.iter().flat_map(|l| wrap(l, wrap_at)) {
                if self.opts.color {
                    writeln!(self.out, "       \x1b[2m↳ {l}{RESET}")?;
                } else {
                    writeln!(self.out, "       ↳ {l}")?;
                }
            }
        }
        Ok(())
    }
}
