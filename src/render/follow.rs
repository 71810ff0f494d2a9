//! `follow`: one connection's reassembled conversation, both directions interleaved in
//! stream order, wire bytes escaped, gaps and FINs marked; optionally each direction's raw
//! bytes written to a file.

use crate::app::follow_watch::{FollowItem, FollowWatch};
use crate::capture::Timestamp;
use crate::flow::{ConnId, Direction, SegmentCtx, StreamId, StreamSink};
use crate::render::escape::escape_bytes;
use crate::render::follow_frames::{frame_body, frame_line, indented_bytes};
use crate::render::style::RESET;
use crate::render::time::{Clock, TimeFormat};
use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

/// What a follow run saw, shared with the caller.
#[derive(Debug, Default)]
pub struct FollowReport {
    pub seen: bool,
    pub bytes: [u64; 2],
    pub gaps: [u64; 2],
    /// HTTP/2 and HTTP/3 frames shown (those of `--stream` only, with it), and
    /// decrypted plaintext pieces.
    pub frames: u64,
    pub plain: u64,
    /// The first write error (a closed pipe ends the output quietly).
    pub error: Option<io::Error>,
}

/// How `follow` prints.
#[derive(Clone, Debug, Default)]
pub struct FollowOptions {
    /// Client red, server blue, like Wireshark.
    pub color: bool,
    /// Fold lines longer than this many columns (a `↩` ends each folded piece); None: never.
    pub width: Option<usize>,
    /// Show each direction change's time in this format (None: frame numbers only).
    pub time: Option<TimeFormat>,
    /// The capture's first packet's time, that relative times count from (without it,
    /// from the first data shown).
    pub first_ts: Option<Timestamp>,
    /// Also write each direction's raw bytes to DIR/conn-ID-…-to-….bin.
    pub raw_dir: Option<PathBuf>,
    /// The app stage's record of the connection's HTTP/2 and HTTP/3 frames and decrypted
    /// plaintext (set as `AppConfig::follow_watch` too): shown instead of the bytes.
    pub watch: Option<Arc<FollowWatch>>,
    /// Only the frames of this HTTP/2 or HTTP/3 stream (no stream bytes then).
    pub stream: Option<u64>,
}

/// A [`StreamSink`] tap that prints one connection's streams.
pub struct FollowTap<W: Write> {
    conn: ConnId,
    out: W,
    color: bool,
    width: Option<usize>,
    clock: Option<Clock>,
    /// Columns used on the current output line (for folding at `width`).
    column: usize,
    raw_dir: Option<PathBuf>,
    raw: [Option<File>; 2],
    last_dir: Option<Direction>,
    at_line_start: bool,
    report: Rc<RefCell<FollowReport>>,
    scratch: String,
    watch: Option<Arc<FollowWatch>>,
    stream: Option<u64>,
    /// Frames were read on the connection: from then on its bytes are not shown.
    framed: bool,
    /// Items the app stage recorded (shown or not).
    items_seen: u64,
}

impl<W: Write> FollowTap<W> {
    pub fn new(
        conn: ConnId,
        out: W,
        opts: FollowOptions,
    ) -> (FollowTap<W>, Rc<RefCell<FollowReport>>) {
        let report = Rc::new(RefCell::new(FollowReport::default()));
        (
            FollowTap {
                conn,
                out,
                color: opts.color,
                width: opts.width.map(|w| w.max(10)),
                clock: opts.time.map(|format| {
                    let mut clock = Clock::new(format);
                    if let Some(ts) = opts.first_ts {
                        clock.start_at(ts);
                    }
                    clock
                }),
                column: 0,
                raw_dir: opts.raw_dir,
                raw: [None, None],
                last_dir: None,
                at_line_start: true,
                report: report.clone(),
                scratch: String::new(),
                watch: opts.watch,
                stream: opts.stream,
                framed: false,
                items_seen: 0,
            },
            report,
        )
    }

    fn write(&mut self, f: impl FnOnce(&mut W, bool) -> io::Result<()>) {
        if self.report.borrow().error.is_some() {
            return;
        }
        if let Err(e) = f(&mut self.out, self.color) {
            self.report.borrow_mut().error = Some(e);
        }
    }

    fn marker(&mut self, dir: Direction, ctx: SegmentCtx) {
        if self.last_dir == Some(dir) {
            return;
        }
        self.last_dir = Some(dir);
        let newline = !self.at_line_start;
        self.at_line_start = true;
        let label = match dir {
            Direction::ToServer => "client → server",
            Direction::ToClient => "server → client",
        };
        let frame = ctx.frame;
        let at = match &mut self.clock {
            Some(clock) => {
                let text = clock.text(&ctx.ts);
                match clock.format {
                    TimeFormat::Relative | TimeFormat::Delta => format!(", {text} s"),
                    TimeFormat::Absolute | TimeFormat::Epoch => format!(", {text}"),
                }
            }
            None => String::new(),
        };
        self.column = 0;
        self.write(|w, color| {
            if newline {
                writeln!(w)?;
            }
            if color {
                writeln!(w, "\x1b[1m── {label} (frame {frame}{at}) ──{RESET}")
            } else {
                writeln!(w, "── {label} (frame {frame}{at}) ──")
            }
        });
    }

    fn raw_file(&mut self, dir: Direction) -> Option<&mut File> {
        let dir_path = self.raw_dir.clone()?;
        let i = dir.index();
        if self.raw[i].is_none() {
            let name = match dir {
                Direction::ToServer => format!("conn-{}-client-to-server.bin", self.conn),
                Direction::ToClient => format!("conn-{}-server-to-client.bin", self.conn),
            };
            match File::create(dir_path.join(name)) {
                Ok(f) => self.raw[i] = Some(f),
                Err(e) => {
                    self.report.borrow_mut().error.get_or_insert(e);
                    self.raw_dir = None;
                    return None;
                }
            }
        }
        self.raw[i].as_mut()
    }

    fn data(&mut self, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        {
            let mut r = self.report.borrow_mut();
            r.seen = true;
            r.bytes[dir.index()] += data.len() as u64;
        }
        if let Some(f) = self.raw_file(dir) {
            if let Err(e) = f.write_all(data) {
                self.report.borrow_mut().error.get_or_insert(e);
            }
        }
        if let Some(w) = self.watch.clone() {
            // The app stage read these bytes first: what it made of them.
            let items = w.take();
            self.items_seen += items.len() as u64;
            self.framed |= items.iter().any(|i| matches!(i, FollowItem::Frame(_)));
            for item in items {
                self.item(item, ctx);
            }
            if self.framed || w.decrypting() || self.stream.is_some() {
                return;
            }
        }
        self.text(dir, data, ctx);
    }

    /// A frame or a piece of plaintext the app stage read.
    fn item(&mut self, item: FollowItem, ctx: SegmentCtx) {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        let (dir, frame) = match &item {
            FollowItem::Frame(f) => {
                if self.stream.is_some_and(|s| s != f.stream) {
                    self.scratch = text;
                    return;
                }
                self.report.borrow_mut().frames += 1;
                text.push_str(&frame_line(f));
                text.push('\n');
                frame_body(f, &mut text);
                (f.dir, f.frame)
            }
            FollowItem::Plain {
                dir,
                frame,
                bytes,
                cut,
            } => {
                if self.stream.is_some() {
                    self.scratch = text;
                    return;
                }
                self.report.borrow_mut().plain += 1;
                text.push_str(&format!("decrypted, frame {frame}:\n"));
                indented_bytes(bytes, &mut text);
                if *cut > 0 {
                    text.push_str(&format!("    [… {cut} bytes not shown …]\n"));
                }
                (*dir, *frame)
            }
        };
        self.marker(dir, SegmentCtx { frame, ..ctx });
        if !self.at_line_start {
            text.insert(0, '\n');
        }
        self.write_text(dir, text);
    }

    /// Stream bytes, escaped, line breaks kept.
    fn text(&mut self, dir: Direction, data: &[u8], ctx: SegmentCtx) {
        self.marker(dir, ctx);
        // Escape line by line, keeping real line breaks readable.
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        for line in data.split_inclusive(|&b| b == b'\n') {
            let (body, nl) = match line.split_last() {
                Some((b'\n', rest)) => (rest, true),
                _ => (line, false),
            };
            escape_bytes(body, &mut text);
            if nl {
                text.push_str("\\n\n");
            }
        }
        self.write_text(dir, text);
    }

    /// Writes escaped `text` in the direction's colour, folded at the width.
    fn write_text(&mut self, dir: Direction, mut text: String) {
        if let Some(width) = self.width {
            text = fold(&text, width, &mut self.column);
        }
        self.at_line_start = text.ends_with('\n');
        let ansi = match dir {
            Direction::ToServer => "\x1b[31m",
            Direction::ToClient => "\x1b[34m",
        };
        self.write(|w, color| {
            if color {
                write!(w, "{ansi}{text}{RESET}")
            } else {
                w.write_all(text.as_bytes())
            }
        });
        self.scratch = text;
    }

    /// Frames or decrypted plaintext are shown instead of the connection's bytes.
    fn shows_items(&self) -> bool {
        self.framed || self.stream.is_some() || self.watch.as_ref().is_some_and(|w| w.decrypting())
    }

    fn note(&mut self, dir: Direction, ctx: SegmentCtx, what: &str) {
        self.marker(dir, ctx);
        let newline = !self.at_line_start;
        self.at_line_start = true;
        self.column = 0;
        self.write(|w, _| {
            if newline {
                writeln!(w)?;
            }
            writeln!(w, "[{what}]")
        });
    }
}

/// `text` with a line break after every `width - 1` columns of a line (the last column
/// holds a `↩`), `column` being the columns already used on the current line (updated).
/// Escaped text is one column per character.
fn fold(text: &str, width: usize, column: &mut usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width.max(1) * 4);
    for c in text.chars() {
        if c == '\n' {
            out.push(c);
            *column = 0;
            continue;
        }
        if *column + 1 >= width {
            out.push_str("↩\n");
            *column = 0;
        }
        out.push(c);
        *column += 1;
    }
    out
}

impl<W: Write> StreamSink for FollowTap<W> {
    fn on_data(&mut self, at: StreamId, _: &mut (), data: &[u8], ctx: SegmentCtx) {
        let StreamId { conn, dir } = at;
        if conn == self.conn {
            self.data(dir, data, ctx);
        }
    }
    fn on_gap(&mut self, at: StreamId, _: &mut (), len: u64, ctx: SegmentCtx) {
        let StreamId { conn, dir } = at;
        if conn == self.conn {
            self.report.borrow_mut().gaps[dir.index()] += len;
            self.note(dir, ctx, &format!("… {len} bytes not captured …"));
        }
    }
    fn on_datagram(&mut self, at: StreamId, _: &mut (), data: &[u8], ctx: SegmentCtx) {
        let StreamId { conn, dir } = at;
        if conn == self.conn {
            self.data(dir, data, ctx);
            if !self.shows_items() {
                let note = if data.is_empty() {
                    // The decoder hands a tunnel's datagram on as the packet it carries.
                    format!(
                        "frame {}: no payload of its own (an empty datagram, or a tunnel's: \
                         the packet it carries is followed as its own connection, \
                         `--view conns` lists it)",
                        ctx.frame
                    )
                } else {
                    format!("end of datagram, frame {}", ctx.frame)
                };
                self.note(dir, ctx, &note);
            }
        }
    }
    fn on_fin(&mut self, at: StreamId, _: &mut (), ctx: SegmentCtx) {
        let StreamId { conn, dir } = at;
        if conn == self.conn {
            let who = match dir {
                Direction::ToServer => "the client",
                Direction::ToClient => "the server",
            };
            self.note(
                dir,
                ctx,
                &format!("FIN: {who} has no more to send (frame {})", ctx.frame),
            );
        }
    }
    fn on_close(&mut self, conn: ConnId, _: &mut ()) {
        if conn == self.conn {
            let (b, g, shown) = {
                let r = self.report.borrow();
                (r.bytes, r.gaps, r.frames + r.plain)
            };
            let mut newline = !self.at_line_start;
            if let Some(w) = self.watch.clone() {
                let dropped = w.dropped.load(std::sync::atomic::Ordering::Relaxed);
                let mut why = String::new();
                if dropped > 0 {
                    why = format!("[{dropped} frames not shown: over the cap of items held]\n");
                }
                if self.items_seen == 0 && w.decrypting() {
                    why.push_str("[nothing decrypted: is this connection's secret in the key log? `layerscope explain` on its records says]\n");
                } else if shown == 0 && self.stream.is_some() {
                    why.push_str("[no frame of this stream]\n");
                }
                if !why.is_empty() {
                    if newline {
                        why.insert(0, '\n');
                    }
                    self.write(|w, _| w.write_all(why.as_bytes()));
                    newline = false;
                }
            }
            self.at_line_start = true;
            let counts = format!(
                "{} bytes client → server, {} bytes server → client{}",
                b[0],
                b[1],
                if g[0] + g[1] > 0 {
                    format!(", {} bytes not captured", g[0] + g[1])
                } else {
                    String::new()
                }
            );
            let mut line = format!("── end of conn {conn}: {counts} ──");
            if let Some(width) = self.width.filter(|&w| line.chars().count() > w) {
                // Too wide: the counts on a line of their own (folded if still too wide).
                line = format!("── end of conn {conn} ──\n{}", fold(&counts, width, &mut 0));
            }
            self.write(|w, _| {
                if newline {
                    writeln!(w)?;
                }
                writeln!(w, "{line}")?;
                w.flush()
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_breaks_long_lines_and_carries_the_column() {
        let mut column = 0;
        assert_eq!(fold("abcdefgh\nxy", 4, &mut column), "abc↩\ndef↩\ngh\nxy");
        assert_eq!(column, 2);
        // The line goes on in the next chunk: one more fits, then it folds.
        assert_eq!(fold("zwv", 4, &mut column), "z↩\nwv");
        assert_eq!(column, 2);
        // Every folded line is `width` columns at most, the ↩ included.
        let mut column = 0;
        let folded = fold(&"x".repeat(100), 10, &mut column);
        assert!(folded.lines().all(|l| l.chars().count() <= 10));
        assert_eq!(folded.matches('x').count(), 100);
    }
}
