//! `ladder`: one connection as a sequence diagram — a client and a server column, one arrow
//! per packet with its flags, relative numbers and step, endpoint states where they change,
//! HTTP messages named on their arrows, and long plain data runs folded. Text (80 columns)
//! or standalone SVG.

use crate::app::{AppConnStats, AppEvent};
use crate::capture::{RawFrame, Timestamp};
use crate::decode::{DecodedPacket, Transport};
use crate::flow::{AnalysisFlags, ConnId, ConnSummary, Direction, PacketFlow, Step, TcpState};
use crate::pipeline::{RunSummary, Sink};
use crate::render::escape::escape_str;
use crate::render::explain::truncate;
use crate::render::style::RESET;
use crate::render::table::human_bytes;
use crate::render::text::{endpoint_string, http_first_line, StepLabels};
use crate::render::time::{Clock, TimeFormat};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Settings of the `ladder` view.
#[derive(Clone, Debug)]
pub struct LadderOptions {
    /// The connection to draw.
    pub conn: ConnId,
    /// Draw every packet (no folding of plain data runs).
    pub full: bool,
    /// Total width of the text diagram (at least 60).
    pub width: usize,
    /// Most packets kept; later ones are counted, not drawn.
    pub max_rows: usize,
    /// Colour the text diagram (arrows by step, as the SVG does; ANSI escapes).
    pub color: bool,
    /// How the time column is shown; `Relative` counts from the connection's first packet.
    pub time_format: TimeFormat,
}

impl Default for LadderOptions {
    fn default() -> Self {
        LadderOptions {
            conn: 0,
            full: false,
            width: 80,
            max_rows: 20_000,
            color: false,
            time_format: TimeFormat::Relative,
        }
    }
}

/// Plain runs at least this long are folded into one line.
const FOLD_MIN: usize = 4;

/// One packet of the connection.
#[derive(Clone, Debug)]
pub struct LadderRow {
    pub frame: u64,
    pub ts: Timestamp,
    pub dir: Direction,
    /// `SYN`, `PSH+ACK`, or `UDP`.
    pub flags: String,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub len: u32,
    pub step: Option<Step>,
    pub state: Option<(TcpState, TcpState)>,
    pub analysis: AnalysisFlags,
    /// Application label (request line, status line, DNS question), escaped.
    pub l7: String,
}

impl LadderRow {
    pub(crate) fn plain(&self) -> bool {
        self.step.is_none() && self.analysis.is_empty() && self.l7.is_empty()
    }
    /// `PSH+ACK seq=1 ack=1 len=79 · GET /a`
    pub(crate) fn label(&self) -> String {
        let mut s = self.numbers();
        if !self.l7.is_empty() {
            s.push_str(" · ");
            s.push_str(&self.l7);
        }
        s
    }
    /// `PSH+ACK seq=1 ack=1 len=79`
    fn numbers(&self) -> String {
        let mut s = self.flags.clone();
        if let Some(q) = self.seq {
            let _ = write!(s, " seq={q}");
        }
        if let Some(a) = self.ack {
            let _ = write!(s, " ack={a}");
        }
        if self.len > 0 {
            let _ = write!(s, " len={}", self.len);
        }
        s
    }
    /// Step or analysis, for the right margin (the step as every human view words it).
    fn side_note(&self, steps: &mut StepLabels) -> String {
        if let Some(label) = steps.label(self.step) {
            return label.to_string();
        }
        self.analysis.names().next().unwrap_or("").replace('_', " ")
    }
}

/// What the diagram is drawn from.
#[derive(Clone, Debug, Default)]
pub struct Ladder {
    pub client: String,
    pub server: String,
    pub proto: String,
    /// What the connection travels in ("VXLAN vni 42 · 10.0.0.1 → 10.0.0.2"); empty when
    /// nothing.
    pub tunnel: String,
    pub rows: Vec<LadderRow>,
    /// Packets not kept (beyond `max_rows`).
    pub cut: u64,
    pub start: Option<Timestamp>,
    /// A kept packet was the RST refusing the SYN (the flow stage's `Step::Refused`): the
    /// rows' states read as [`TcpState::in_hindsight`] says.
    pub refused: bool,
}

/// One drawn line: a packet, or a folded run.
enum Item<'a> {
    Packet(&'a LadderRow),
    Fold(&'a [LadderRow]),
}

fn items(ladder: &Ladder, full: bool) -> Vec<Item<'_>> {
    let rows = &ladder.rows;
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        if !full && rows[i].plain() {
            let start = i;
            let mut j = i;
            while j < rows.len()
                && rows[j].plain()
                && ladder.states(&rows[j]) == ladder.states(&rows[start])
            {
                j += 1;
            }
            if j - start >= FOLD_MIN {
                out.push(Item::Fold(&rows[start..j]));
                i = j;
                continue;
            }
        }
        out.push(Item::Packet(&rows[i]));
        i += 1;
    }
    out
}

/// `… 42 segments: 30 → 60.1 KB, 12 ←`
fn fold_label(run: &[LadderRow]) -> String {
    let (mut n_to, mut n_from, mut b_to, mut b_from) = (0u64, 0u64, 0u64, 0u64);
    for r in run {
        match r.dir {
            Direction::ToServer => {
                n_to += 1;
                b_to += r.len as u64;
            }
            Direction::ToClient => {
                n_from += 1;
                b_from += r.len as u64;
            }
        }
    }
    let mut s = format!("… {} segments:", run.len());
    if n_to > 0 {
        let _ = write!(s, " {n_to} →");
        if b_to > 0 {
            let _ = write!(s, " {}", human_bytes(b_to));
        }
    }
    if n_from > 0 {
        if n_to > 0 {
            s.push(',');
        }
        let _ = write!(s, " {n_from} ←");
        if b_from > 0 {
            let _ = write!(s, " {}", human_bytes(b_from));
        }
    }
    s
}

/// Seconds since the connection's first packet, at most 9 characters.
fn secs(ts: &Timestamp, start: &Timestamp) -> String {
    let t = ts.nanos_since(start).max(0) as f64 / 1e9;
    if t < 100.0 {
        format!("{t:.6}")
    } else if t < 100_000.0 {
        format!("{t:.3}")
    } else if t < 1e9 {
        format!("{t:.0}")
    } else {
        ">1e9 s".to_string()
    }
}

/// The colour of an arrow: by its step, as in the SVG (`svg` names, ANSI escapes).
fn step_color(r: &LadderRow) -> (&'static str, &'static str) {
    match r.step {
        Some(Step::Handshake(_)) => ("green", "\x1b[32m"),
        Some(Step::Teardown(_)) => ("teal", "\x1b[36m"),
        Some(Step::Abort | Step::Refused) => ("red", "\x1b[31m"),
        None if !r.analysis.is_empty() => ("darkorange", "\x1b[33m"),
        None => ("black", ""),
    }
}

/// The time column: the connection-relative seconds of [`secs`], or `format`'s text.
struct TimeColumn {
    start: Timestamp,
    clock: Option<Clock>,
    width: usize,
}

impl TimeColumn {
    fn new(start: Timestamp, format: TimeFormat) -> TimeColumn {
        match format {
            TimeFormat::Relative => TimeColumn {
                start,
                clock: None,
                width: 9,
            },
            _ => {
                let mut clock = Clock::new(format);
                clock.start_at(start);
                TimeColumn {
                    start,
                    clock: Some(clock),
                    width: format.typical_width(),
                }
            }
        }
    }

    fn text(&mut self, ts: &Timestamp) -> String {
        match &mut self.clock {
            None => secs(ts, &self.start),
            Some(clock) => clock.text(ts),
        }
    }
}

impl Ladder {
    /// Writes the diagram as text, `opts.width` columns wide (at least 60), coloured and
    /// timed as `opts` says.
    pub fn write_text<W: Write>(
        &self,
        w: &mut W,
        full: bool,
        opts: &LadderOptions,
    ) -> io::Result<()> {
        let mut time = TimeColumn::new(self.start.unwrap_or_default(), opts.time_format);
        let tw = time.width;
        let width = opts.width.max(60 + tw - 9);
        // time(tw) frame(5) space | arrow | space note(13)
        let prefix = tw + 7;
        const NOTE: usize = 15;
        let span = width - prefix - NOTE - 2;
        let title = format!(
            "{} ladder: client {} ⇄ server {}",
            self.proto, self.client, self.server
        );
        if title.chars().count() <= width {
            writeln!(w, "{title}")?;
        } else {
            writeln!(w, "{} ladder", self.proto)?;
            writeln!(w, "  client {}", truncate(&self.client, width - 9))?;
            writeln!(w, "  server {}", truncate(&self.server, width - 9))?;
        }
        if !self.tunnel.is_empty() {
            writeln!(w, "  inside {}", truncate(&self.tunnel, width - 9))?;
        }
        writeln!(w)?;
        let client = truncate(&self.client, span / 2);
        let server = truncate(&self.server, span / 2);
        let gap = (span + 2).saturating_sub(client.chars().count() + server.chars().count());
        writeln!(
            w,
            "{:>tw$} {:>5} {client}{}{server}",
            "time",
            "frame",
            " ".repeat(gap)
        )?;
        let bar = format!("{}│{}│", " ".repeat(prefix), " ".repeat(span));
        let mut last_state: Option<(TcpState, TcpState)> = None;
        let mut steps = StepLabels::default();
        if let Some(before) = self.states_before() {
            last_state = Some(before);
            self.state_line(w, before, None, (prefix, span))?;
        }
        writeln!(w, "{bar}")?;
        for item in items(self, full) {
            match item {
                Item::Packet(r) => {
                    // An application label that does not fit goes on its own line below.
                    let full_label = r.label();
                    let (label, below) =
                        if full_label.chars().count() > span - 5 && !r.l7.is_empty() {
                            (truncate(&r.numbers(), span - 5), Some(&r.l7))
                        } else {
                            (truncate(&full_label, span - 5), None)
                        };
                    let fill = span - 4 - label.chars().count();
                    let mut arrow = match r.dir {
                        Direction::ToServer => format!("──{label} {}▶", "─".repeat(fill)),
                        Direction::ToClient => format!("◀─ {label} {}", "─".repeat(fill)),
                    };
                    let ansi = step_color(r).1;
                    if opts.color && !ansi.is_empty() {
                        arrow = format!("{ansi}{arrow}{RESET}");
                    }
                    let note = r.side_note(&mut steps);
                    let line = format!(
                        "{:>tw$} {:>5} │{arrow}│ {}",
                        time.text(&r.ts),
                        r.frame,
                        truncate(&note, NOTE - 1)
                    );
                    writeln!(w, "{}", line.trim_end())?;
                    if let Some(l7) = below {
                        let text = truncate(l7, span - 4);
                        let pad = span.saturating_sub(text.chars().count() + 2);
                        writeln!(w, "{}│  {text}{}│", " ".repeat(prefix), " ".repeat(pad))?;
                    }
                    if let Some(st) = self.states(r) {
                        if Some(st) != last_state {
                            self.state_line(w, st, last_state, (prefix, span))?;
                            last_state = Some(st);
                        }
                    }
                }
                Item::Fold(run) => {
                    let label = truncate(&fold_label(run), span - 2);
                    let pad = span.saturating_sub(label.chars().count() + 1);
                    let first = run.first().map(|r| r.frame).unwrap_or(0);
                    let last = run.last().map(|r| r.frame).unwrap_or(0);
                    writeln!(
                        w,
                        "{:>tw$} {:>5} ┆ {label}{}┆ frames {first}–{last}",
                        run.first().map(|r| time.text(&r.ts)).unwrap_or_default(),
                        "",
                        " ".repeat(pad)
                    )?;
                    if let Some(st) = run.last().and_then(|r| self.states(r)) {
                        if Some(st) != last_state {
                            self.state_line(w, st, last_state, (prefix, span))?;
                            last_state = Some(st);
                        }
                    }
                }
            }
        }
        writeln!(w, "{bar}")?;
        if self.cut > 0 {
            writeln!(
                w,
                "({} more packets not drawn: over the row limit)",
                self.cut
            )?;
        }
        if self.rows.is_empty() {
            writeln!(w, "(no packets of this connection)")?;
        }
        Ok(())
    }

    /// The states under the columns, only the side(s) that changed.
    fn state_line<W: Write>(
        &self,
        w: &mut W,
        st: (TcpState, TcpState),
        before: Option<(TcpState, TcpState)>,
        (prefix, span): (usize, usize),
    ) -> io::Result<()> {
        let c = if before.map(|b| b.0) != Some(st.0) {
            st.0.as_str()
        } else {
            ""
        };
        let s = if before.map(|b| b.1) != Some(st.1) {
            st.1.as_str()
        } else {
            ""
        };
        let gap = (span + 2).saturating_sub(c.len() + s.len());
        let line = format!("{}{c}{}{s}", " ".repeat(prefix), " ".repeat(gap));
        writeln!(w, "{}", line.trim_end())
    }
}

/// Writes `ladder` as a standalone SVG document (hand-written, text escaped).
pub fn ladder_svg<W: Write>(w: &mut W, ladder: &Ladder, full: bool) -> io::Result<()> {
    const ROW: usize = 28;
    const X_CLIENT: usize = 170;
    const X_SERVER: usize = 650;
    const WIDTH: usize = 820;
    let items = items(ladder, full);
    let mut extra_states = 0;
    let mut last: Option<(TcpState, TcpState)> = None;
    for it in &items {
        let st = match it {
            Item::Packet(r) => ladder.states(r),
            Item::Fold(run) => run.last().and_then(|r| ladder.states(r)),
        };
        if st.is_some() && st != last {
            extra_states += 1;
            last = st;
        }
    }
    let top = 70;
    let height = top + (items.len() + extra_states + 2) * ROW;
    let start = ladder.start.unwrap_or_default();
    writeln!(
        w,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="monospace" font-size="12">"#
    )?;
    writeln!(
        w,
        r#"<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>"#
    )?;
    writeln!(w, r#"<rect width="100%" height="100%" fill="white"/>"#)?;
    writeln!(
        w,
        r#"<text x="{}" y="20" text-anchor="middle" font-weight="bold">{} ladder</text>"#,
        WIDTH / 2,
        xml(&ladder.proto)
    )?;
    writeln!(
        w,
        r#"<text x="{X_CLIENT}" y="44" text-anchor="middle">client {}</text>"#,
        xml(&ladder.client)
    )?;
    writeln!(
        w,
        r#"<text x="{X_SERVER}" y="44" text-anchor="middle">server {}</text>"#,
        xml(&ladder.server)
    )?;
    writeln!(w, r#"<text x="8" y="44">time</text>"#)?;
    for x in [X_CLIENT, X_SERVER] {
        writeln!(
            w,
            r#"<line x1="{x}" y1="54" x2="{x}" y2="{}" stroke="black"/>"#,
            height - 10
        )?;
    }
    let mut y = top;
    let mut last: Option<(TcpState, TcpState)> = None;
    let mut steps = StepLabels::default();
    for it in &items {
        y += ROW;
        let state = match it {
            Item::Packet(r) => {
                let (x1, x2) = match r.dir {
                    Direction::ToServer => (X_CLIENT, X_SERVER),
                    Direction::ToClient => (X_SERVER, X_CLIENT),
                };
                let color = step_color(r).0;
                writeln!(
                    w,
                    r#"<text x="8" y="{y}">{} #{}</text>"#,
                    secs(&r.ts, &start),
                    r.frame
                )?;
                writeln!(
                    w,
                    r#"<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{color}" marker-end="url(#head)"/>"#
                )?;
                writeln!(
                    w,
                    r#"<text x="{}" y="{}" text-anchor="middle" fill="{color}">{}</text>"#,
                    (X_CLIENT + X_SERVER) / 2,
                    y - 4,
                    xml(&truncate(&r.label(), 70))
                )?;
                let note = r.side_note(&mut steps);
                if !note.is_empty() {
                    writeln!(
                        w,
                        r#"<text x="{}" y="{y}" fill="{color}">{}</text>"#,
                        X_SERVER + 8,
                        xml(&note)
                    )?;
                }
                ladder.states(r)
            }
            Item::Fold(run) => {
                writeln!(
                    w,
                    r#"<text x="8" y="{y}">{}</text>"#,
                    run.first().map(|r| secs(&r.ts, &start)).unwrap_or_default()
                )?;
                writeln!(
                    w,
                    r#"<line x1="{X_CLIENT}" y1="{y}" x2="{X_SERVER}" y2="{y}" stroke="gray" stroke-dasharray="4 4"/>"#
                )?;
                writeln!(
                    w,
                    r#"<text x="{}" y="{}" text-anchor="middle" fill="gray">{}</text>"#,
                    (X_CLIENT + X_SERVER) / 2,
                    y - 4,
                    xml(&fold_label(run))
                )?;
                run.last().and_then(|r| ladder.states(r))
            }
        };
        if let Some(st) = state {
            if Some(st) != last {
                y += ROW;
                if last.map(|l| l.0) != Some(st.0) {
                    writeln!(
                        w,
                        r#"<text x="{}" y="{y}" text-anchor="end" fill="blue">{}</text>"#,
                        X_CLIENT - 6,
                        st.0
                    )?;
                }
                if last.map(|l| l.1) != Some(st.1) {
                    writeln!(
                        w,
                        r#"<text x="{}" y="{y}" fill="blue">{}</text>"#,
                        X_SERVER + 6,
                        st.1
                    )?;
                }
                last = Some(st);
            }
        }
    }
    if ladder.cut > 0 {
        writeln!(
            w,
            r#"<text x="8" y="{}">{} more packets not drawn</text>"#,
            y + ROW,
            ladder.cut
        )?;
    }
    writeln!(w, "</svg>")
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// Output format of the ladder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LadderFormat {
    #[default]
    Text,
    Svg,
}

/// Collects one connection and draws it when it ends (or at the end of input).
pub struct LadderSink<W: Write> {
    out: W,
    opts: LadderOptions,
    format: LadderFormat,
    ladder: Ladder,
    seen: bool,
    written: bool,
    /// When the connection is a tunnel's UDP flow: the first connection it carried (its
    /// own packets are those of the connections inside; their ladders are drawn instead).
    carried: Option<ConnId>,
}

impl<W: Write> LadderSink<W> {
    /// A text ladder of `opts.conn`.
    pub fn new(out: W, opts: LadderOptions) -> LadderSink<W> {
        LadderSink::with_format(out, opts, LadderFormat::Text)
    }

    /// A ladder in `format`.
    pub fn with_format(out: W, opts: LadderOptions, format: LadderFormat) -> LadderSink<W> {
        LadderSink {
            out,
            opts,
            format,
            ladder: Ladder::default(),
            seen: false,
            carried: None,
            written: false,
        }
    }

    /// Whether the connection was in the input.
    pub fn found(&self) -> bool {
        self.seen || self.carried.is_some()
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn draw(&mut self) -> io::Result<()> {
        if self.written {
            return Ok(());
        }
        self.written = true;
        match self.format {
            LadderFormat::Text => {
                self.ladder
                    .write_text(&mut self.out, self.opts.full, &self.opts)?
            }
            LadderFormat::Svg => ladder_svg(&mut self.out, &self.ladder, self.opts.full)?,
        }
        self.out.flush()
    }
}

impl Ladder {
    /// The endpoint states of row `r`, as the connection's end shows them.
    pub fn states(&self, r: &LadderRow) -> Option<(TcpState, TcpState)> {
        r.state.map(|s| TcpState::in_hindsight(s, self.refused))
    }

    /// The endpoint states before the first row, when it is the SYN.
    pub fn states_before(&self) -> Option<(TcpState, TcpState)> {
        let first = self.rows.first()?;
        (first.state.is_some() && first.step == Some(Step::Handshake(1)))
            .then(|| TcpState::before_syn(self.refused))
    }

    /// One packet of the connection (the caller picks the connection): a row, unless
    /// `max_rows` are kept already (then counted in `cut`).
    pub fn add_packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
        max_rows: usize,
    ) {
        let Some(dir) = flow.dir else { return };
        if self.start.is_none() {
            self.start = Some(frame.ts);
            if let (Some(net), Some((sp, dp))) = (&packet.net, packet.ports()) {
                let (c, s) = match dir {
                    Direction::ToServer => ((net.src, sp), (net.dst, dp)),
                    Direction::ToClient => ((net.dst, dp), (net.src, sp)),
                };
                self.client = endpoint_string(c.0, Some(c.1));
                self.server = endpoint_string(s.0, Some(s.1));
            }
            self.proto = match &packet.transport {
                Some(Transport::Udp(_)) => "UDP".into(),
                _ => "TCP".into(),
            };
        }
        if self.rows.len() >= max_rows {
            self.cut += 1;
            return;
        }
        let (flags, seq, ack, len) = match &packet.transport {
            Some(Transport::Tcp(t)) => (
                t.flags.to_string(),
                flow.rel_seq,
                if t.flags.ack() { flow.rel_ack } else { None },
                t.payload_len,
            ),
            Some(Transport::Udp(u)) => (
                "UDP".to_string(),
                None,
                None,
                u.length.saturating_sub(8) as u32,
            ),
            _ => ("?".to_string(), None, None, packet.payload.len() as u32),
        };
        self.refused |= flow.step == Some(Step::Refused);
        let mut l7 = String::new();
        if let Some(line) = http_first_line(packet.payload) {
            crate::render::escape::escape_bytes(line, &mut l7);
        }
        self.rows.push(LadderRow {
            frame: frame.number,
            ts: frame.ts,
            dir,
            flags,
            seq,
            ack,
            len,
            step: flow.step,
            state: flow.state,
            analysis: flow.analysis,
            l7,
        });
    }

    /// Labels the rows an application event of this connection names (request and status
    /// lines, DNS questions and answers).
    pub fn add_app(&mut self, event: &AppEvent) {
        match event {
            AppEvent::Http(h) => {
                if let Some(f) = h.request_frame {
                    let l = format!(
                        "{} {}",
                        escape_str(h.method.as_deref().unwrap_or("?")),
                        escape_str(h.uri.as_deref().unwrap_or("?"))
                    );
                    self.label_frame(f, l);
                }
                if let (Some(f), Some(s)) = (h.response_frame, h.status) {
                    let l = format!("{s} {}", escape_str(h.reason.as_deref().unwrap_or("")));
                    self.label_frame(f, l.trim_end().to_string());
                }
            }
            AppEvent::Dns(d) => {
                let l = if d.response {
                    format!(
                        "DNS {} {}",
                        d.rcode,
                        d.answers.first().map(|a| escape_str(a)).unwrap_or_default()
                    )
                } else {
                    format!("DNS {} {}", d.qtype, escape_str(&d.qname))
                };
                self.label_frame(d.frame, l.trim_end().to_string());
            }
            _ => {}
        }
    }

    fn label_frame(&mut self, frame: u64, label: String) {
        if let Some(r) = self.rows.iter_mut().rev().find(|r| r.frame == frame) {
            r.l7 = label;
        }
    }
}

/// The connection an HTTP or DNS event belongs to.
fn event_conn(event: &AppEvent) -> Option<ConnId> {
    match event {
        AppEvent::Http(h) => Some(h.conn),
        AppEvent::Dns(d) => Some(d.conn),
        _ => None,
    }
}

impl<W: Write> Sink for LadderSink<W> {
    fn packet(
        &mut self,
        frame: &RawFrame<'_>,
        packet: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        if self.carried.is_none() && flow.outer_conns.contains(&self.opts.conn) {
            self.carried = flow.conn;
        }
        if flow.conn != Some(self.opts.conn) || self.written {
            return Ok(());
        }
        if flow.dir.is_some() {
            self.seen = true;
        }
        self.ladder
            .add_packet(frame, packet, flow, self.opts.max_rows);
        Ok(())
    }

    fn app_event(&mut self, event: &AppEvent) -> io::Result<()> {
        if !self.written && event_conn(event) == Some(self.opts.conn) {
            self.ladder.add_app(event);
        }
        Ok(())
    }

    fn conn_end(&mut self, conn: &ConnSummary, _app: &AppConnStats) -> io::Result<()> {
        if conn.id == self.opts.conn && self.seen {
            self.ladder.client = endpoint_string(conn.client.ip(), Some(conn.client.port()));
            self.ladder.server = endpoint_string(conn.server.ip(), Some(conn.server.port()));
            if let Some(e) = &conn.encapsulation {
                self.ladder.tunnel = e.to_string();
            }
            self.draw()?;
        }
        Ok(())
    }

    fn finish(&mut self, _summary: &RunSummary) -> io::Result<()> {
        if let (false, Some(inner)) = (self.seen, self.carried) {
            writeln!(
                self.out,
                "connection {} is a tunnel's UDP flow: its packets are those of the connections \
                 inside it, such as conn {inner} (draw that one with --conn {inner})",
                self.opts.conn
            )?;
            return self.out.flush();
        }
        if !self.seen {
            writeln!(
                self.out,
                "connection {} is not in this capture",
                self.opts.conn
            )?;
            return self.out.flush();
        }
        self.draw()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::FileSource;
    use crate::pipeline::{run, PipelineConfig};

    fn ladder(file: &str, conn: ConnId, format: LadderFormat) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let mut src = FileSource::open(&path).expect("capture opens");
        let opts = LadderOptions {
            conn,
            ..LadderOptions::default()
        };
        let mut sink = LadderSink::with_format(Vec::new(), opts, format);
        run(&mut src, PipelineConfig::default(), &mut sink).expect("runs");
        assert!(sink.found());
        String::from_utf8(sink.into_inner()).expect("utf-8")
    }

    #[test]
    fn ladder_keepalive() {
        let text = ladder("captures/http11-keepalive.pcap", 0, LadderFormat::Text);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "too wide: {line}");
        }
        insta::assert_snapshot!(text);
    }

    #[test]
    fn ladder_refused() {
        insta::assert_snapshot!(ladder("captures/refused.pcap", 0, LadderFormat::Text));
    }

    /// The step labels a drawing shows, line by line.
    fn step_labels(drawing: &str) -> Vec<&'static str> {
        const LABELS: [&str; 10] = [
            "handshake 1/3",
            "handshake 2/3",
            "handshake 3/3",
            "teardown 1/4",
            "teardown 2/4",
            "teardown 2+3/4",
            "teardown 3/4",
            "teardown 4/4",
            "abort (RST)",
            "refused (RST)",
        ];
        drawing
            .lines()
            .filter_map(|l| LABELS.iter().find(|label| l.contains(*label)).copied())
            .collect()
    }

    /// Text and SVG of the same connection word every step alike (one place words them,
    /// `StepLabels`); the server-first close of http10-close is 1/4, 2+3/4 (the client's
    /// FIN+ACK acks the server's FIN: frame 11, ack 229 = FIN seq 228 + 1), 4/4.
    #[test]
    fn ladder_text_and_svg_word_steps_alike() {
        let mut both = String::new();
        for capture in [
            "captures/http10-close.pcap",
            "captures/http11-keepalive.pcap",
            "captures/refused.pcap",
        ] {
            let text = ladder(capture, 0, LadderFormat::Text);
            let svg = ladder(capture, 0, LadderFormat::Svg);
            assert_eq!(step_labels(&text), step_labels(&svg), "{capture}");
            if capture.contains("http10") {
                assert_eq!(
                    step_labels(&text),
                    [
                        "handshake 1/3",
                        "handshake 2/3",
                        "handshake 3/3",
                        "teardown 1/4",
                        "teardown 2+3/4",
                        "teardown 4/4"
                    ]
                );
                both = format!("{text}\n{svg}");
            }
        }
        insta::assert_snapshot!(both);
    }

    #[test]
    fn ladder_svg_is_escaped_and_closed() {
        let svg = ladder("captures/http11-keepalive.pcap", 0, LadderFormat::Svg);
        assert!(svg.starts_with("<svg "));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("marker-end").count(), 22);
        assert!(svg.contains("GET /missing"));
    }
}

#[cfg(test)]
mod fold_tests {
    use super::*;

    fn row(frame: u64, dir: Direction, len: u32) -> LadderRow {
        LadderRow {
            frame,
            ts: Timestamp {
                secs: 1,
                nanos: frame as u32 * 1000,
                precision: 6,
            },
            dir,
            flags: "ACK".into(),
            seq: Some(1),
            ack: Some(1),
            len,
            step: None,
            state: Some((TcpState::Established, TcpState::Established)),
            analysis: AnalysisFlags::default(),
            l7: String::new(),
        }
    }

    #[test]
    fn plain_runs_fold_unless_full() {
        let mut rows = Vec::new();
        for f in 1..=6 {
            let dir = if f % 3 == 0 {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            rows.push(row(
                f,
                dir,
                if dir == Direction::ToClient { 1448 } else { 0 },
            ));
        }
        let ladder = Ladder {
            client: "10.0.0.1:5000".into(),
            server: "10.0.0.2:80".into(),
            proto: "TCP".into(),
            tunnel: String::new(),
            rows,
            cut: 0,
            refused: false,
            start: Some(Timestamp {
                secs: 1,
                nanos: 0,
                precision: 6,
            }),
        };
        let mut out = Vec::new();
        ladder
            .write_text(&mut out, false, &LadderOptions::default())
            .expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        // 4 segments of 1448 bytes to the client, 2 ACKs to the server.
        assert!(text.contains("┆ … 6 segments: 2 →, 4 ← 5.8 KB"), "{text}");
        assert!(text.contains("frames 1–6"));
        let mut out = Vec::new();
        ladder
            .write_text(&mut out, true, &LadderOptions::default())
            .expect("writes");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(text.matches(" │◀─ ACK").count(), 4);
    }
}
