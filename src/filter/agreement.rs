//! Agreement with tcpdump over the shared corpus: `tests/filter-data/expected.tsv` holds, for
//! each (capture, expression), the frame numbers `tcpdump -r` keeps (made once by
//! `tests/filter-data/make-expected.sh`). This runs the real capture reader, decoder and
//! filter over each capture and wants exactly those frames.

use super::Filter;
use crate::capture::{FileSource, FrameSource};
use crate::decode::Decoder;
use std::path::Path;

fn frames_kept(path: &Path, filter: &Filter) -> Vec<u64> {
    let mut source = FileSource::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = Decoder::new();
    let mut kept = Vec::new();
    loop {
        match source.next_frame() {
            Ok(Some(frame)) => {
                let packet = decoder.decode(&frame);
                if filter.matches(&frame, &packet) {
                    kept.push(frame.number);
                }
            }
            Ok(None) => break,
            Err(e) if !e.is_fatal() => continue,
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    kept
}

#[test]
fn filter_keeps_the_frames_tcpdump_keeps() {
    let Some(dir) = crate::shared_captures_dir() else {
        return;
    };
    let tsv = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/filter-data/expected.tsv"),
    )
    .expect("tests/filter-data/expected.tsv");
    let mut cases = 0;
    let mut failures = Vec::new();
    for line in tsv.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let mut cols = line.split('\t');
        let (Some(capture), Some(expr)) = (cols.next(), cols.next()) else {
            panic!("bad line in expected.tsv: {line:?}");
        };
        let want: Vec<u64> = cols
            .next()
            .unwrap_or("")
            .split_whitespace()
            .map(|n| n.parse().expect("frame number"))
            .collect();
        let filter = Filter::parse(expr).unwrap_or_else(|e| panic!("{e}\n{}", e.caret(expr)));
        let got = frames_kept(&dir.join(capture), &filter);
        cases += 1;
        if got != want {
            let extra: Vec<_> = got.iter().filter(|n| !want.contains(n)).collect();
            let missing: Vec<_> = want.iter().filter(|n| !got.contains(n)).collect();
            failures.push(format!(
                "{capture}: `{expr}`: tcpdump keeps {} frames, layerscope {}; extra {extra:?}, missing {missing:?}",
                want.len(),
                got.len()
            ));
        }
    }
    assert!(cases >= 80, "only {cases} cases in expected.tsv");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
