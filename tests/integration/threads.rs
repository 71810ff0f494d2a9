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

/// Every call a sink receives, written out with `Debug` (or only hashed).
#[derive(Default)]
struct Transcript {
    text: String,
    /// Fold each call into `hash` and forget its text (for big inputs).
    hash_only: bool,
    hash: u64,
    calls: u64,
    /// Fail (as a closed pipe would) at this call.
    fail_at: Option<u64>,
    /// Say no to packets (`Sink::wants_packets`) and ignore them.
    no_packets: bool,
}

impl Transcript {
    fn call(&mut self) -> io::Result<()> {
        if self.hash_only {
            use std::hash::{Hash, Hasher};
            let mut h = std::hash::DefaultHasher::new();
            (self.hash, &self.text).hash(&mut h);
            self.hash = h.finish();
            self.text.clear();
        }
        self.calls += 1;
        if Some(self.calls) == self.fail_at {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
        }
        Ok(())
    }
}

impl Sink for Transcript {
    fn wants_packets(&self) -> bool {
        !self.no_packets
    }
    fn packet(
        &mut self,
        f: &RawFrame<'_>,
        p: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        if self.no_packets {
            return Ok(());
        }
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

/// The sink calls of a run with `threads` over the file read directly or on a reading
/// thread (`read_ahead`).
fn transcript(
    path: &Path,
    threads: usize,
    read_ahead: bool,
    fail_at: Option<u64>,
    no_packets: bool,
) -> (Transcript, String) {
    let source = if read_ahead {
        FileSource::open_read_ahead(path)
    } else {
        FileSource::open(path)
    };
    let mut source = source.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let config = PipelineConfig {
        threads,
        ..PipelineConfig::default()
    };
    let mut sink = Transcript {
        fail_at,
        no_packets,
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
            for no_packets in [false, true] {
                let (one, end_one) = transcript(&path, 1, false, None, no_packets);
                assert!(one.calls > 0, "{}: no sink calls", path.display());
                for (threads, read_ahead) in [(1, true), (2, false), (2, true)] {
                    let (two, end_two) = transcript(&path, threads, read_ahead, None, no_packets);
                    compare(&path, threads, read_ahead, &one, &two);
                    assert_eq!(end_one, end_two, "{}", path.display());
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} captures");
}

fn compare(path: &Path, threads: usize, read_ahead: bool, one: &Transcript, two: &Transcript) {
    if one.text != two.text {
        let line = one
            .text
            .lines()
            .zip(two.text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
                    "{}: threads {threads} read_ahead {read_ahead}: transcripts differ from line {line}:\n1: {:?}\n2: {:?}",
                    path.display(),
                    one.text.lines().nth(line),
                    two.text.lines().nth(line)
                );
    }
}

/// A sink that fails (closed pipe) stops the run on both paths with the same error and
/// the same calls before it; the reading thread does not hang.
#[test]
fn a_failing_sink_stops_both_paths_alike() {
    let path = super::support::project_dir().join("captures/http11-keepalive.pcap");
    for fail_at in [1, 5, 20] {
        let (one, end_one) = transcript(&path, 1, false, Some(fail_at), false);
        let (two, end_two) = transcript(&path, 2, true, Some(fail_at), false);
        assert_eq!(end_one, "sink error closed");
        assert_eq!(end_two, end_one);
        assert_eq!(one.text, two.text, "fail_at {fail_at}");
        assert_eq!(one.calls, fail_at);
    }
}

/// A 10.6 MB file (one recorded keep-alive connection repeated 2,000 times, 100 s apart):
/// many batches and read-ahead chunks, records cut across chunks; every path still makes
/// the same calls.
#[test]
fn a_big_file_gives_the_same_calls_on_every_path() {
    let one = std::fs::read(super::support::project_dir().join("captures/http11-keepalive.pcap"))
        .unwrap();
    let (header, records) = one.split_at(24);
    let mut big = header.to_vec();
    for copy in 0..2_000u32 {
        let mut at = 0;
        while at + 16 <= records.len() {
            let caplen = u32::from_le_bytes(records[at + 8..at + 12].try_into().unwrap()) as usize;
            let secs = u32::from_le_bytes(records[at..at + 4].try_into().unwrap()) + copy * 100;
            big.extend_from_slice(&secs.to_le_bytes());
            big.extend_from_slice(&records[at + 4..at + 16 + caplen]);
            at += 16 + caplen;
        }
    }
    assert!(big.len() > 10_000_000, "{}", big.len());
    let path = std::env::temp_dir().join(format!("layerscope-big-{}.pcap", std::process::id()));
    std::fs::write(&path, &big).unwrap();
    let run = |threads, read_ahead, no_packets| {
        let mut source = if read_ahead {
            FileSource::open_read_ahead(&path)
        } else {
            FileSource::open(&path)
        }
        .unwrap();
        let mut sink = Transcript {
            hash_only: true,
            no_packets,
            ..Transcript::default()
        };
        let config = PipelineConfig {
            threads,
            ..PipelineConfig::default()
        };
        let end = pipeline::run_pipeline(&mut source, &mut Pipeline::new(config), &mut sink);
        let summary = match end {
            Ok(RunEnd::Complete(s)) => s,
            other => panic!("{other:?}"),
        };
        (sink.hash, sink.calls, summary.frames, summary.conns)
    };
    for no_packets in [false, true] {
        let base = run(1, false, no_packets);
        assert_eq!(base.2, 2_000 * 22, "frames");
        assert_eq!(base.3, 2_000, "connections");
        for (threads, read_ahead) in [(1, true), (2, false), (2, true)] {
            let got = run(threads, read_ahead, no_packets);
            assert_eq!(
                got, base,
                "threads {threads} read_ahead {read_ahead} no_packets {no_packets}"
            );
        }
    }
    let _ = std::fs::remove_file(&path);
}
