//! The page's summary: what the capture holds (frames, connections, time span, what the
//! run counted as cut or damaged), what the page left out and how to narrow it, and the
//! `--teach` "What this capture shows" text with its frame numbers made links.

use super::escape::push_html;
use super::{ReportCuts, ReportLimits};
use crate::pipeline::RunSummary;
use crate::render::teach::CaptureStory;
use std::fmt::Write as _;

/// The summary section.
pub fn write(
    out: &mut String,
    run: &RunSummary,
    story: &CaptureStory,
    cuts: &ReportCuts,
    limits: &ReportLimits,
    shown: (usize, usize),
) {
    let duration = match (run.first_ts, run.last_ts) {
        (Some(a), Some(b)) => b.nanos_since(&a) as f64 / 1e9,
        _ => 0.0,
    };
    let _ = write!(
        out,
        "<section id=\"summary\"><h2>Summary</h2><p class=\"figures\">\
         <span data-count=\"frames\">{}</span> frames · \
         <span data-count=\"conns\">{}</span> connection{} · {duration:.3} s",
        run.frames,
        run.conns,
        if run.conns == 1 { "" } else { "s" }
    );
    if run.filtered_out > 0 {
        let _ = write!(
            out,
            " · {} frames did not match the filter",
            run.filtered_out
        );
    }
    out.push_str("</p>");
    let mut problems = Vec::new();
    for (n, what) in [
        (
            run.decode_issues,
            "frames the decoder could not take apart whole",
        ),
        (run.bad_records_skipped, "damaged records skipped"),
        (run.evicted_flows, "connections evicted (flow table full)"),
        (
            run.reassembly_cut_bytes,
            "stream bytes cut by the reassembly caps",
        ),
        (run.nesting_cut, "frames nested past the decoder's bounds"),
        (run.http_heads_too_large, "HTTP heads too large to parse"),
    ] {
        if n > 0 {
            problems.push(format!("{n} {what}"));
        }
    }
    if let Some(t) = &run.truncated {
        problems.push(format!("the file is cut short: {t}"));
    }
    if let Some(e) = &run.error {
        problems.push(format!("reading stopped: {e}"));
    }
    if !problems.is_empty() {
        out.push_str("<ul class=\"problems\">");
        for p in &problems {
            out.push_str("<li>");
            push_html(out, p);
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    write_left_out(out, cuts, limits, shown);
    write_story(out, run, story);
    out.push_str("</section>");
}

/// What the page's caps left out, with the options that narrow the capture.
fn write_left_out(
    out: &mut String,
    cuts: &ReportCuts,
    limits: &ReportLimits,
    shown: (usize, usize),
) {
    if *cuts == ReportCuts::default() {
        return;
    }
    out.push_str("<div class=\"left-out\" id=\"left-out\"><strong>Not all of this capture is on this page.</strong><ul>");
    if cuts.conns > 0 {
        let _ = write!(
            out,
            "<li data-cut=\"conns\">{} connections ({} packets) are left out: the page holds the first {} connections.</li>",
            cuts.conns, cuts.conn_packets, limits.max_conns
        );
    }
    if cuts.rows > 0 {
        let _ = write!(
            out,
            "<li data-cut=\"rows\">{} packets have no table row: the page holds {} rows ({} a connection); {} are shown.</li>",
            cuts.rows, limits.max_rows, limits.max_rows_per_conn, shown.1
        );
    }
    if cuts.explained > 0 {
        let _ = write!(
            out,
            "<li data-cut=\"explained\">{} packets have a row but no explain pane: the page embeds the first {}; \
             <code>layerscope explain FILE --frame N</code> explains any of them.</li>",
            cuts.explained, limits.max_explained
        );
    }
    let _ = write!(
        out,
        "</ul><p>To see the rest, narrow the report: <code>layerscope report FILE --conn ID -o conn.html</code> \
         (one connection; repeatable) or <code>layerscope report FILE -f 'host 10.0.0.1 and port 443' -o part.html</code> \
         (a tcpdump filter). This page lists {} connections.</p></div>",
        shown.0
    );
}

/// "What this capture shows", from the `--teach` story, frame numbers linked to their rows.
fn write_story(out: &mut String, run: &RunSummary, story: &CaptureStory) {
    let mut text = Vec::new();
    if story.write(&mut text, run, 10_000).is_err() {
        return;
    }
    let text = String::from_utf8_lossy(&text);
    out.push_str("<div class=\"story\" id=\"story\">");
    let mut in_list = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            if in_list {
                out.push_str("</ul>");
                in_list = false;
            }
            out.push_str("<h3>");
            push_html(out, trimmed);
            out.push_str("</h3>");
            continue;
        }
        if !in_list {
            out.push_str("<ul>");
            in_list = true;
        }
        out.push_str("<li>");
        out.push_str(&link_frames(trimmed));
        out.push_str("</li>");
    }
    if in_list {
        out.push_str("</ul>");
    }
    out.push_str("</div>");
}

/// `text` as HTML with the numbers after "frame"/"frames" (and lists of them: "frames 1,
/// 2, 3", "(handshake 1 2 3)") made links to those packets' rows.
pub fn link_frames(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    // Tokens split at spaces; a number is a frame when the word before it starts a frame
    // list and the list has not been broken by another word.
    let mut listing = false;
    for (i, token) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core_start = token.find(|c: char| c.is_ascii_digit());
        let digits_end = core_start.map(|s| {
            s + token[s..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(token.len() - s)
        });
        let word = token.trim_matches(|c: char| !c.is_alphanumeric());
        match (core_start, digits_end) {
            (Some(s), Some(e))
                if listing
                    && token[s..e].parse::<u64>().is_ok_and(|n| n > 0)
                    && token[..s].chars().all(|c| c == '(')
                    && token[e..].chars().all(|c| ",.);:".contains(c)) =>
            {
                let n = &token[s..e];
                push_html(&mut out, &token[..s]);
                let _ = write!(
                    out,
                    "<a href=\"#f{n}\" class=\"frame-link\" data-goto=\"{n}\">{n}</a>"
                );
                push_html(&mut out, &token[e..]);
                if token[e..].contains(['.', ')', ';', ':']) {
                    listing = false;
                }
            }
            _ => {
                push_html(&mut out, token);
                // A list starts right after the word itself ("frames", "(handshake"), not
                // after "frames:" or "handshake,"; "first," starts one ("client first, 20").
                let bare = token.trim_start_matches('(');
                listing = (bare == word
                    && matches!(
                        word,
                        "frame" | "frames" | "handshake" | "explain" | "Frame" | "Frames"
                    ))
                    || (listing && word == "and")
                    || token == "first,";
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_numbers_become_links() {
        assert_eq!(
            link_frames("frames 1, 2, 3: SYN seq j = 5"),
            "frames <a href=\"#f1\" class=\"frame-link\" data-goto=\"1\">1</a>, \
             <a href=\"#f2\" class=\"frame-link\" data-goto=\"2\">2</a>, \
             <a href=\"#f3\" class=\"frame-link\" data-goto=\"3\">3</a>: SYN seq j = 5"
        );
        assert_eq!(
            link_frames("opened (handshake 1 2 3), 3 HTTP requests"),
            "opened (handshake <a href=\"#f1\" class=\"frame-link\" data-goto=\"1\">1</a> \
             <a href=\"#f2\" class=\"frame-link\" data-goto=\"2\">2</a> \
             <a href=\"#f3\" class=\"frame-link\" data-goto=\"3\">3</a>), 3 HTTP requests"
        );
        // Numbers that are not frames stay text, and wire text is escaped.
        assert_eq!(
            link_frames("22 frames: 1 TCP connection; handshake, 1 closed"),
            "22 frames: 1 TCP connection; handshake, 1 closed"
        );
        // Frame 0 (a request whose frame is unknown) is no frame: text.
        assert_eq!(
            link_frames("(conn 0 frame 4, conn 1 frame 0)"),
            "(conn 0 frame <a href=\"#f4\" class=\"frame-link\" data-goto=\"4\">4</a>, conn 1 frame 0)"
        );
        assert_eq!(
            link_frames("port 8080 `GET /<x>`"),
            "port 8080 `GET /&lt;x&gt;`"
        );
    }
}
