//! The `--view http` table: one row per HTTP transaction, a page at a time. A row's cells
//! are made when its transaction arrives (escaped, in one reused text buffer, no String per
//! cell); a page of printable ASCII cells is drawn directly, byte for byte as comfy-table
//! would draw it, others with comfy-table.

use super::human_bytes;
use crate::app::HttpTransaction;
use crate::render::escape::escape_str;
use crate::render::text::{any_word, put_u64};
use comfy_table::{Cell, Color, Table};
use std::io::{self, Write};

/// The HTTP table's current page.
pub(super) struct HttpView {
    /// The page's rows: the status (for its colour) and where its cells lie in `text`,
    /// made when the transaction arrives (no copy of the transaction is kept, no String
    /// per cell: the page's text is one reused buffer).
    rows: Vec<(Option<u16>, HttpRowSpans)>,
    text: Vec<u8>,
    /// Whether every cell of the page so far is printable ASCII (the plain drawing's
    /// condition), known as the cells are made: the page is not scanned again.
    printable: bool,
    /// The last body sizes shown and their text (bodies repeat sizes).
    sizes: [(u64, String); 2],
}

impl HttpView {
    pub(super) fn new() -> HttpView {
        HttpView {
            rows: Vec::new(),
            text: Vec::new(),
            printable: true,
            sizes: [(0, human_bytes(0)), (0, human_bytes(0))],
        }
    }

    /// Adds the row of `h`; the rows the page now has.
    pub(super) fn add(&mut self, h: &HttpTransaction) -> usize {
        let (spans, printable) = push_http_cells(h, &mut self.sizes, &mut self.text);
        self.printable &= printable;
        self.rows.push((h.status, spans));
        self.rows.len()
    }

    /// Writes the page and empties it: drawn directly when `plain` (no colour, no
    /// wrapping) and every cell is printable ASCII, else with the comfy-table `table()`
    /// makes.
    pub(super) fn write_page(
        &mut self,
        out: &mut impl Write,
        plain: bool,
        table: impl FnOnce() -> Table,
    ) -> io::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        const HEADER: [&str; 10] = [
            "conn",
            "#",
            "req frame",
            "method",
            "host + uri",
            "version",
            "status",
            "req body",
            "resp body",
            "latency",
        ];
        let text = &self.text;
        let rows = &self.rows;
        let cell = |r: usize, c: usize| -> &[u8] {
            let spans = &rows[r].1;
            text.get(spans[c] as usize..spans[c + 1] as usize)
                .unwrap_or_default()
        };
        // Drawn directly: comfy-table's generic layout cost more than the whole analysis
        // of the transactions. The cells were checked as they were made; their widths are
        // their lengths (ASCII).
        let drawn = if plain && self.printable {
            let mut widths = HEADER.map(str::len);
            for (_, spans) in rows {
                for (w, ends) in widths.iter_mut().zip(spans.windows(2)) {
                    *w = (*w).max(ends[1].saturating_sub(ends[0]) as usize);
                }
            }
            Some(draw_plain_table(&HEADER, &widths, rows.len(), cell))
        } else {
            None
        };
        let result = match drawn {
            Some(t) => out.write_all(&t),
            None => {
                let mut t = table();
                t.set_header(HEADER.to_vec());
                for (r, (status, _)) in rows.iter().enumerate() {
                    let color = match status {
                        Some(100..=199) => Color::Blue,
                        Some(200..=299) => Color::Green,
                        Some(300..=399) => Color::Cyan,
                        Some(400..=499) => Color::Yellow,
                        Some(500..=599) => Color::Red,
                        _ => Color::Reset,
                    };
                    t.add_row(
                        (0..10)
                            .map(|i| {
                                // Valid UTF-8 (made from strings): borrowed as is.
                                let text = String::from_utf8_lossy(cell(r, i));
                                if i == 6 {
                                    Cell::new(text).fg(color)
                                } else {
                                    Cell::new(text)
                                }
                            })
                            .collect::<Vec<_>>(),
                    );
                }
                writeln!(out, "{t}")
            }
        };
        self.rows.clear();
        self.text.clear();
        self.printable = true;
        result
    }
}

/// [`human_bytes`] of `n`, remembered in `memo` (the last size and its text).
fn human_bytes_memo(n: u64, memo: &mut (u64, String)) -> &str {
    if memo.0 != n {
        *memo = (n, human_bytes(n));
    }
    &memo.1
}

/// Where the 10 cells of one HTTP row lie in the page text: cell `i` is
/// `spans[i]..spans[i + 1]`.
type HttpRowSpans = [u32; 11];

/// Whether every byte of `s` is printable ASCII other than the backslash (what
/// [`escape_str`] leaves as it is), eight bytes at a time.
fn plain_ascii(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    !any_word(s, |x| {
        // A byte below 0x20, from 0x7f up, or a backslash (each test exact as a yes/no).
        let low = x.wrapping_sub(ONES * 0x20) & !x;
        let high = (x & !HIGH).wrapping_add(ONES) | x;
        let y = x ^ (ONES * u64::from(b'\\'));
        let backslash = y.wrapping_sub(ONES) & !y;
        (low | high | backslash) & HIGH != 0
    })
}

/// Appends `s` made terminal-safe (what [`escape_str`] returns); returns whether what was
/// appended is printable ASCII (escaping keeps printable characters beyond ASCII).
fn push_escaped(out: &mut Vec<u8>, s: &str) -> bool {
    if plain_ascii(s.as_bytes()) {
        out.extend_from_slice(s.as_bytes());
        true
    } else {
        let text = escape_str(s);
        out.extend_from_slice(text.as_bytes());
        text.bytes().all(|b| (0x20..0x7f).contains(&b))
    }
}

/// Appends the cells of one HTTP table row to `out`; returns where they lie and whether
/// they are all printable ASCII. `sizes`: the last request and response body sizes and
/// their text.
fn push_http_cells(
    h: &HttpTransaction,
    sizes: &mut [(u64, String); 2],
    out: &mut Vec<u8>,
) -> (HttpRowSpans, bool) {
    let mut spans = [0u32; 11];
    let mut printable = true;
    spans[0] = out.len() as u32;
    let [req_size, resp_size] = sizes;
    put_u64(out, h.conn);
    spans[1] = out.len() as u32;
    put_u64(out, u64::from(h.index));
    spans[2] = out.len() as u32;
    match h.request_frame {
        Some(f) => put_u64(out, f),
        None => out.push(b'-'),
    }
    spans[3] = out.len() as u32;
    printable &= push_escaped(out, h.method.as_deref().unwrap_or("-"));
    spans[4] = out.len() as u32;
    printable &= push_escaped(out, h.host.as_deref().unwrap_or(""));
    printable &= push_escaped(out, h.uri.as_deref().unwrap_or(""));
    spans[5] = out.len() as u32;
    printable &= push_escaped(out, h.version.as_deref().unwrap_or(""));
    spans[6] = out.len() as u32;
    match (h.status, &h.reason) {
        (Some(s), Some(r)) => {
            put_u64(out, u64::from(s));
            out.push(b' ');
            printable &= push_escaped(out, r);
        }
        (Some(s), None) => put_u64(out, u64::from(s)),
        _ => out.push(b'-'),
    }
    spans[7] = out.len() as u32;
    match h.request_body_bytes {
        Some(n) => out.extend_from_slice(human_bytes_memo(n, req_size).as_bytes()),
        None => out.push(b'-'),
    }
    spans[8] = out.len() as u32;
    match h.response_body_bytes {
        Some(n) => out.extend_from_slice(human_bytes_memo(n, resp_size).as_bytes()),
        None => out.push(b'-'),
    }
    spans[9] = out.len() as u32;
    match h.latency_ms {
        Some(l) => match crate::render::jsonl::exact_ms_nanos(l) {
            Some(ns) => {
                // Microseconds, rounded as `{:.3}` rounds (no tie: see above).
                let us = ns / 1000 + u64::from(ns % 1000 > 500);
                put_u64(out, us / 1000);
                let frac = us % 1000;
                out.extend_from_slice(&[
                    b'.',
                    b'0' + (frac / 100) as u8,
                    b'0' + (frac / 10 % 10) as u8,
                    b'0' + (frac % 10) as u8,
                    b' ',
                    b'm',
                    b's',
                ]);
            }
            None => {
                // "inf ms", "NaN ms", digits: ASCII.
                let _ = write!(out, "{l:.3} ms");
            }
        },
        None => out.push(b'-'),
    }
    spans[10] = out.len() as u32;
    (spans, printable)
}

/// [`plain_table_of`] over rows of Strings, as text.
#[cfg(test)]
fn plain_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> Option<String> {
    plain_table_of(header, rows.len(), |r, c| rows[r][c].as_bytes())
        .and_then(|t| String::from_utf8(t).ok())
}

/// The text comfy-table draws for `header` and `rows` rows (cell `cell(row, column)`)
/// with the `UTF8_FULL_CONDENSED` preset, no styling and no content arrangement (followed by
/// a newline), when every cell is printable ASCII (one column per byte); `None` otherwise
/// (the caller uses comfy-table).
#[cfg(test)]
fn plain_table_of<'c, const N: usize>(
    header: &[&str; N],
    rows: usize,
    cell: impl Fn(usize, usize) -> &'c [u8],
) -> Option<Vec<u8>> {
    let printable = |s: &[u8]| s.iter().all(|b| (0x20..0x7f).contains(b));
    let mut widths = [0usize; N];
    for (w, h) in widths.iter_mut().zip(header) {
        if !printable(h.as_bytes()) {
            return None;
        }
        *w = h.len();
    }
    for r in 0..rows {
        for (i, w) in widths.iter_mut().enumerate() {
            let c = cell(r, i);
            if !printable(c) {
                return None;
            }
            *w = (*w).max(c.len());
        }
    }
    Some(draw_plain_table(header, &widths, rows, cell))
}

/// The drawing of `plain_table_of` (tests) once the column widths are known (each at
/// least its header's and its cells' length; every cell printable ASCII). Each row is a
/// copy of a blank row (borders, separators and padding) with its cells copied in.
fn draw_plain_table<'c, const N: usize>(
    header: &[&str; N],
    widths: &[usize; N],
    rows: usize,
    cell: impl Fn(usize, usize) -> &'c [u8],
) -> Vec<u8> {
    let mut blank = Vec::with_capacity(widths.iter().map(|w| w + 5).sum::<usize>() + 8);
    let mut at = [0usize; N];
    blank.extend_from_slice("│".as_bytes());
    for (i, (w, at)) in widths.iter().zip(at.iter_mut()).enumerate() {
        blank.extend_from_slice(if i > 0 { " ┆ ".as_bytes() } else { b" " });
        *at = blank.len();
        blank.resize(blank.len() + w, b' ');
    }
    blank.extend_from_slice(" │\n".as_bytes());
    let mut out = Vec::with_capacity(blank.len() * (rows + 4));
    let border = |out: &mut Vec<u8>, left: char, fill: char, mid: char, right: char| {
        let mut tmp = [0u8; 4];
        out.extend_from_slice(left.encode_utf8(&mut tmp).as_bytes());
        for (i, w) in widths.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(mid.encode_utf8(&mut tmp).as_bytes());
            }
            let fill = fill.encode_utf8(&mut tmp).as_bytes();
            for _ in 0..w + 2 {
                out.extend_from_slice(fill);
            }
        }
        out.extend_from_slice(right.encode_utf8(&mut tmp).as_bytes());
        out.push(b'\n');
    };
    border(&mut out, '┌', '─', '┬', '┐');
    put_blank_row(&mut out, &blank, &at, |c| header[c].as_bytes());
    border(&mut out, '╞', '═', '╪', '╡');
    for r in 0..rows {
        put_blank_row(&mut out, &blank, &at, |c| cell(r, c));
    }
    border(&mut out, '└', '─', '┴', '┘');
    out
}

/// Appends a copy of `blank` (a row of [`draw_plain_table`]) with cell `c` copied in at
/// `at[c]` (it fits: the widths were made from the cells).
fn put_blank_row<'x, const N: usize>(
    out: &mut Vec<u8>,
    blank: &[u8],
    at: &[usize; N],
    cells: impl Fn(usize) -> &'x [u8],
) {
    let row = out.len();
    out.extend_from_slice(blank);
    let row = out.get_mut(row..).unwrap_or_default();
    for (c, &at) in at.iter().enumerate() {
        let text = cells(c);
        if let Some(slot) = row.get_mut(at..at + text.len()) {
            slot.copy_from_slice(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use comfy_table::{presets, ContentArrangement};

    #[test]
    fn http_latency_cells_as_the_float_formatter_writes_them() {
        let mut sizes = [(0, human_bytes(0)), (0, human_bytes(0))];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let ns = match i % 3 {
                0 => x % 10_000_000_000,
                1 => (x % 100_000) * 1000 + 500,
                _ => x % 2_000_000,
            };
            let l = ns as f64 / 1e6;
            let h = HttpTransaction {
                latency_ms: Some(l),
                ..HttpTransaction::default()
            };
            let mut text = Vec::new();
            let (spans, printable) = push_http_cells(&h, &mut sizes, &mut text);
            assert!(printable);
            assert_eq!(
                &text[spans[9] as usize..spans[10] as usize],
                format!("{l:.3} ms").as_bytes()
            );
        }
    }

    fn comfy(header: &[&str; 3], rows: &[[String; 3]]) -> String {
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED);
        t.force_no_tty();
        t.set_content_arrangement(ContentArrangement::Disabled);
        t.set_header(header.to_vec());
        for r in rows {
            t.add_row(r.iter().map(Cell::new).collect::<Vec<_>>());
        }
        format!("{t}\n")
    }

    #[test]
    fn plain_table_draws_what_comfy_table_draws() {
        let header = ["conn", "#", "host + uri"];
        let texts = [
            "",
            " ",
            "-",
            "0",
            "a b",
            " lead",
            "trail ",
            "127.0.0.1:8080/x?y=1",
            "~!@#$%^&*()",
            "  two  ",
            "x",
        ];
        let mut seed = 7u32;
        for n in 0..12 {
            let rows: Vec<[String; 3]> = (0..n)
                .map(|_| {
                    std::array::from_fn(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        texts[(seed >> 16) as usize % texts.len()].to_string()
                    })
                })
                .collect();
            assert_eq!(
                plain_table(&header, &rows).as_deref(),
                Some(comfy(&header, &rows).as_str()),
                "rows {rows:?}"
            );
        }
        let odd = [["é".to_string(), "1".into(), "tab\there".into()]];
        assert_eq!(plain_table(&header, &odd), None);
    }

    #[test]
    fn plain_ascii_agrees_with_the_byte_test() {
        let simple = |s: &[u8]| s.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b'\\');
        for b in 0..=255u8 {
            for len in 1..=17 {
                for at in 0..len {
                    let mut s = vec![b'a'; len];
                    s[at] = b;
                    assert_eq!(plain_ascii(&s), simple(&s), "byte {b:#x} at {at} of {len}");
                }
            }
        }
        assert!(plain_ascii(b""));
        assert!(plain_ascii(b"10.77.0.1/k.bin ~ HTTP/1.1 200 OK"));
        assert!(!plain_ascii("GET /é".as_bytes()));
    }
}
