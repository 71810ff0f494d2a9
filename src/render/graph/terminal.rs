//! A [`Graph`] in the terminal: Unicode braille cells (2×4 dots each) inside axes with tick
//! labels and units, one colour per series role when colour is on, a legend, fitted to the
//! given width. Hand-written: the drawing crates for terminals (drawille, textplots) have
//! no per-role colours in one canvas with our axis labels and exact width fitting.

use super::model::{Graph, Mark, Role};
use super::scale::{format_value, ticks};
use std::fmt::Write as _;

/// Plot rows (each 4 braille dots high).
pub const PLOT_ROWS: usize = 16;
/// Columns of the y tick labels.
const Y_LABEL_COLS: usize = 9;

/// ANSI colour of a role (direction and event colours as the other views use them:
/// data blue, ACKs green, retransmissions red, duplicate ACKs yellow, zero window magenta).
pub fn ansi(role: Role) -> &'static str {
    match role {
        Role::Data | Role::Goodput | Role::InFlight | Role::Sample | Role::WireRate => "\x1b[34m",
        Role::Ack | Role::Srtt | Role::OpenConns => "\x1b[32m",
        Role::Window | Role::Average => "\x1b[36m",
        Role::Sack => "\x1b[92m",
        Role::Rto => "\x1b[90m",
        Role::Retransmission => "\x1b[31m",
        Role::DupAck | Role::WindowFull | Role::NewConns => "\x1b[33m",
        Role::ZeroWindow => "\x1b[35m",
    }
}

/// A letter per role for the legend without colour.
fn glyph(role: Role) -> char {
    match role {
        Role::Retransmission => 'R',
        Role::DupAck => 'D',
        Role::ZeroWindow => 'Z',
        Role::WindowFull => 'F',
        Role::Sack => 'S',
        _ => '•',
    }
}

struct Canvas {
    cols: usize,
    rows: usize,
    dots: Vec<u8>,
    role: Vec<Option<Role>>,
}

impl Canvas {
    fn new(cols: usize, rows: usize) -> Canvas {
        Canvas {
            cols,
            rows,
            dots: vec![0; cols * rows],
            role: vec![None; cols * rows],
        }
    }

    /// Sets dot (x, y), y counted from the top, in dots.
    fn set(&mut self, x: i64, y: i64, role: Role) {
        if x < 0 || y < 0 {
            return;
        }
        let (x, y) = (x as usize, y as usize);
        if x >= self.cols * 2 || y >= self.rows * 4 {
            return;
        }
        let (cx, cy) = (x / 2, y / 4);
        let bit = match (x % 2, y % 4) {
            (0, 0) => 0x01,
            (0, 1) => 0x02,
            (0, 2) => 0x04,
            (1, 0) => 0x08,
            (1, 1) => 0x10,
            (1, 2) => 0x20,
            (0, _) => 0x40,
            _ => 0x80,
        };
        let i = cy * self.cols + cx;
        self.dots[i] |= bit;
        // Events drawn later win the cell's colour.
        self.role[i] = Some(self.role[i].map_or(role, |r| r.max(role)));
    }

    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), role: Role) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        for _ in 0..=(dx - dy).min(100_000) {
            self.set(x, y, role);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }
}

/// The graph as text lines, `width` columns wide at most; `color` adds ANSI colours.
pub fn render(graph: &Graph, width: usize, color: bool) -> String {
    let width = width.max(40);
    let cols = width.saturating_sub(Y_LABEL_COLS + 2).max(10);
    let rows = PLOT_ROWS;
    let (x0, x1, y0, y1) = graph.bounds();
    let mut canvas = Canvas::new(cols, rows);
    let (wd, hd) = ((cols * 2 - 1) as f64, (rows * 4 - 1) as f64);
    let px = |x: f64| ((x - x0) / (x1 - x0) * wd).round() as i64;
    let py = |y: f64| (hd - (y - y0) / (y1 - y0) * hd).round() as i64;
    for s in &graph.series {
        let mut prev: Option<(i64, i64)> = None;
        for p in &s.points {
            let (x, y) = (px(p.x), py(p.y));
            match s.mark {
                Mark::Dot => canvas.set(x, y, s.role),
                Mark::Bar => canvas.line((x, y), (x, py(p.y2)), s.role),
                Mark::Line => {
                    if let Some(q) = prev {
                        canvas.line(q, (x, y), s.role);
                    } else {
                        canvas.set(x, y, s.role);
                    }
                }
                Mark::Step => {
                    if let Some((qx, qy)) = prev {
                        canvas.line((qx, qy), (x, qy), s.role);
                        canvas.line((x, qy), (x, y), s.role);
                    } else {
                        canvas.set(x, y, s.role);
                    }
                }
            }
            prev = Some((x, y));
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{}", fit(&graph.title, width));
    let _ = writeln!(out, "{}", fit(&format!("y: {}", graph.y_title()), width));
    let y_ticks = ticks(y0, y1, 4);
    for r in 0..rows {
        // A tick label on the row whose band holds the tick value.
        let label = y_ticks
            .iter()
            .find(|t| {
                let row = (py(**t) / 4) as usize;
                row == r
            })
            .map(|t| format_value(*t, graph.y_unit))
            .unwrap_or_default();
        let _ = write!(out, "{label:>w$} ┤", w = Y_LABEL_COLS);
        for c in 0..cols {
            let i = r * cols + c;
            let ch = char::from_u32(0x2800 + u32::from(canvas.dots[i])).unwrap_or(' ');
            match (color, canvas.role[i]) {
                (true, Some(role)) if canvas.dots[i] != 0 => {
                    let _ = write!(out, "{}{ch}\x1b[0m", ansi(role));
                }
                _ => out.push(ch),
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{:>w$} └{}", "", "─".repeat(cols), w = Y_LABEL_COLS);
    // x tick labels under their columns.
    let mut axis = vec![' '; cols];
    for t in ticks(x0, x1, (cols / 14).max(2)) {
        let text = format_value(t, "s");
        let at = (px(t) / 2) as usize;
        if at + text.len() <= axis.len() && axis[at..at + text.len()].iter().all(|c| *c == ' ') {
            for (k, ch) in text.chars().enumerate() {
                axis[at + k] = ch;
            }
            // Keep a gap before the next label.
            if at + text.len() < axis.len() {
                axis[at + text.len()] = '\u{0}';
            }
        }
    }
    let axis: String = axis
        .into_iter()
        .map(|c| if c == '\u{0}' { ' ' } else { c })
        .collect();
    let _ = writeln!(
        out,
        "{:>w$}  {}",
        "",
        fit(axis.trim_end(), cols + 8),
        w = Y_LABEL_COLS
    );
    let _ = writeln!(out, "{}", fit(&format!("x: {} (s)", graph.x_label), width));
    let mut legend = String::from("legend:");
    for s in &graph.series {
        if color {
            let _ = write!(legend, " {}⣿\x1b[0m {}", ansi(s.role), s.role.legend());
        } else {
            let _ = write!(legend, " {} {}", glyph(s.role), s.role.legend());
        }
        legend.push_str(&format!(" ({})", s.points.len()));
    }
    if color {
        // The colour escapes take no columns: wrap by the text without them.
        let _ = writeln!(out, "{legend}");
    } else {
        out.push_str(&wrap(&legend, width));
    }
    for n in &graph.notes {
        out.push_str(&wrap(n, width));
    }
    out
}

/// `text` wrapped at `width` columns, each line ending in a newline (a word longer than
/// the width is cut).
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word = fit(word, width);
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `s` cut to `width` characters.
fn fit(s: &str, width: usize) -> String {
    s.chars().take(width).collect()
}
