//! A [`Graph`] as a standalone SVG document: white background, axes with round ticks and
//! unit labels, one colour per series role, a legend, the title; dark text on white so it
//! prints. Every text is XML-escaped.

use super::model::{Graph, Mark, Role};
use super::scale::{format_value, ticks};
use std::fmt::Write as _;

const W: f64 = 900.0;
const H: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 90.0;

/// Colour of a role (as the terminal's: data blue, ACKs green, retransmissions red …).
pub fn color(role: Role) -> &'static str {
    match role {
        Role::Data | Role::Goodput | Role::InFlight | Role::Sample | Role::WireRate => "#1f5fbf",
        Role::Ack | Role::Srtt | Role::OpenConns => "#1a8a2a",
        Role::Window | Role::Average => "#0e8c8c",
        Role::Sack => "#7bd17b",
        Role::Rto => "#777777",
        Role::Retransmission => "#d62728",
        Role::DupAck | Role::WindowFull | Role::NewConns => "#c89000",
        Role::ZeroWindow => "#b0309f",
    }
}

/// `s` with `&`, `<`, `>`, `"` and `'` escaped, control characters dropped.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render(graph: &Graph) -> String {
    let (x0, x1, y0, y1) = graph.bounds();
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let py = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        o,
        r#"<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>"#
    );
    let _ = writeln!(
        o,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        W / 2.0,
        xml(&graph.title)
    );
    // Grid and ticks.
    let _ = writeln!(o, r#"<g class="axes" stroke="black" fill="none">"#);
    let _ = writeln!(
        o,
        r#"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}"/>"#,
        TOP + ph,
        LEFT + pw,
        TOP + ph,
        TOP + ph
    );
    let _ = writeln!(o, "</g>");
    let _ = writeln!(o, r#"<g class="ticks" font-size="11">"#);
    for t in ticks(x0, x1, 8) {
        let x = px(t);
        let _ = writeln!(
            o,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#dddddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            TOP,
            TOP + ph + 5.0,
            TOP + ph + 18.0,
            xml(&format_value(t, "s"))
        );
    }
    for t in ticks(y0, y1, 6) {
        let y = py(t);
        let _ = writeln!(
            o,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT - 5.0,
            LEFT + pw,
            LEFT - 8.0,
            y + 4.0,
            xml(&format_value(t, graph.y_unit))
        );
    }
    let _ = writeln!(o, "</g>");
    let _ = writeln!(
        o,
        r#"<text class="x-label" x="{:.1}" y="{:.1}" text-anchor="middle">{} (s)</text>"#,
        LEFT + pw / 2.0,
        TOP + ph + 38.0,
        xml(graph.x_label)
    );
    let _ = writeln!(
        o,
        r#"<text class="y-label" x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">{}</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        xml(&graph.y_title())
    );
    for s in &graph.series {
        let c = color(s.role);
        let _ = writeln!(
            o,
            r#"<g class="series" data-role="{}" stroke="{c}" fill="{c}">"#,
            xml(s.role.legend())
        );
        match s.mark {
            Mark::Dot => {
                for p in &s.points {
                    let _ = writeln!(
                        o,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2"><title>frame {}</title></circle>"#,
                        px(p.x),
                        py(p.y),
                        p.frame
                    );
                }
            }
            Mark::Bar => {
                for p in &s.points {
                    let _ = writeln!(
                        o,
                        r#"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke-width="2"><title>frame {3}</title></line>"#,
                        px(p.x),
                        py(p.y),
                        py(p.y2),
                        p.frame
                    );
                }
            }
            Mark::Line | Mark::Step => {
                let mut pts = String::new();
                let mut prev_y: Option<f64> = None;
                for p in &s.points {
                    if let (Mark::Step, Some(y)) = (s.mark, prev_y) {
                        let _ = write!(pts, "{:.1},{:.1} ", px(p.x), py(y));
                    }
                    let _ = write!(pts, "{:.1},{:.1} ", px(p.x), py(p.y));
                    prev_y = Some(p.y);
                }
                let _ = writeln!(
                    o,
                    r#"<polyline fill="none" stroke-width="1.5" points="{}"/>"#,
                    pts.trim_end()
                );
            }
        }
        let _ = writeln!(o, "</g>");
    }
    // Legend under the x label.
    let _ = writeln!(o, r#"<g class="legend">"#);
    let mut x = LEFT;
    let y = H - 22.0;
    for s in &graph.series {
        let label = format!("{} ({})", s.role.legend(), s.points.len());
        let _ = writeln!(
            o,
            r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            y - 10.0,
            color(s.role),
            x + 16.0,
            y,
            xml(&label)
        );
        x += 16.0 + 7.0 * label.chars().count() as f64 + 18.0;
    }
    let _ = writeln!(o, "</g>");
    for (i, n) in graph.notes.iter().enumerate() {
        let _ = writeln!(
            o,
            r#"<text class="note" x="{LEFT}" y="{:.1}" font-size="11">{}</text>"#,
            H - 4.0 - 14.0 * (graph.notes.len() - 1 - i) as f64 - 30.0,
            xml(n)
        );
    }
    o.push_str("</svg>\n");
    o
}
