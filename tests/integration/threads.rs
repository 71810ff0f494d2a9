//! `read --threads 2` (front thread: read, decode, flows; back: app parsers and sink) must
//! give exactly what one thread gives: every sink call, in order, with the same values.

use super::support::{captures_in, oracle_corpora};
use layerscope::app::{AppConnStats, AppEvent};
use layerscope::capture::{CaptureError, FileSource, RawFrame};
use layerscope::decode::DecodedPacket;
use layerscope::flow::{ConnSummary, PacketFlow};
use layerscope::pipeline::{self, Pipeline, PipelineConfig, RunEnd, RunSummary, Sink};
use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Every call a sink receives, written out with `Debug`.
#[derive(Default)]
struct Transcript {
    text: String,
    calls: u64,
    /// Fail (as a closed pipe would) at this call.
    fail_at: Option<u64>,
}

impl Transcript {
    fn call(&mut self) -> io::Result<()> {
        self.calls += 1;
        if Some(self.calls) == self.fail_at {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
        }
        Ok(())
    }
}

impl Sink for Transcript {
    fn packet(
        &mut self,
        f: &RawFrame<'_>,
        p: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.call()?;
        let _ = writeln!(self.text, "packet {f:?}\n  {p:?}\n  {flow:?}");
        Ok(())
    }
    fn app_event(&mut self, e: &AppEvent) -> io::Result<()> {
        self.call()?;
        let _ = writeln!(self.text, "app {e:?}");
        Ok(())
    }
    fn conn_end(&mut self, c: &ConnSummary, a: &AppConnStats) -> io::Result<()> {
        self.call()?;
        let _ = writeln!(self.text, "conn {c:?}\n  {a:?}");
        Ok(())
    }
    fn warning(&mut self, e: &CaptureError) -> io::Result<()> {
        self.call()?;
        let _ = writeln!(self.text, "warning {e}");
        Ok(())
    }
    fn finish(&mut self, s: &RunSummary) -> io::Result<()> {
        self.call()?;
        let _ = writeln!(self.text, "finish {s:?}");
        Ok(())
    }
}

fn transcript(path: &Path, threads: usize, fail_at: Option<u64>) -> (Transcript, String) {
    let mut source = FileSource::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let config = PipelineConfig {
        threads,
        ..PipelineConfig::default()
    };
    let mut sink = Transcript {
        fail_at,
        ..Transcript::default()
    };
    let end = match pipeline::run_pipeline(&mut source, &mut Pipeline::new(config), &mut sink) {
        Ok(RunEnd::Complete(s)) => format!("complete {s:?}"),
        Ok(RunEnd::Failed(s, e)) => format!("failed {s:?}: {e}"),
        Err(e) => format!("sink error {e}"),
    };
    (sink, end)
}

#[test]
fn two_threads_make_the_same_sink_calls_as_one() {
    let mut checked = 0;
    for dir in oracle_corpora("two_threads_make_the_same_sink_calls_as_one") {
        for path in captures_in(&dir) {
            let (one, end_one) = transcript(&path, 1, None);
            let (two, end_two) = transcript(&path, 2, None);
            assert!(one.calls > 0, "{}: no sink calls", path.display());
            if one.text != two.text {
                let line = one
                    .text
                    .lines()
                    .zip(two.text.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!(
                    "{}: transcripts differ from line {line}:\n1: {:?}\n2: {:?}",
                    path.display(),
                    one.text.lines().nth(line),
                    two.text.lines().nth(line)
                );
            }
            assert_eq!(end_one, end_two, "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} captures");
}

/// A sink that fails (closed pipe) stops the run on both paths with the same error and
/// the same calls before it; the reading thread does not hang.
#[test]
fn a_failing_sink_stops_both_paths_alike() {
    let path = super::support::project_dir().join("captures/http11-keepalive.pcap");
    for fail_at in [1, 5, 20] {
        let (one, end_one) = transcript(&path, 1, Some(fail_at));
        let (two, end_two) = transcript(&path, 2, Some(fail_at));
        assert_eq!(end_one, "sink error closed");
        assert_eq!(end_two, end_one);
        assert_eq!(one.text, two.text, "fail_at {fail_at}");
        assert_eq!(one.calls, fail_at);
    }
}
