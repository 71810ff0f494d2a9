//! Helpers: run the library pipeline into a collecting sink, read oracle TSV files, find
//! the shared corpus.

use layerscope::app::{AppConnStats, AppEvent};
use layerscope::capture::{FileSource, RawFrame};
use layerscope::decode::DecodedPacket;
use layerscope::flow::{ConnSummary, PacketFlow};
use layerscope::pipeline::{self, PipelineConfig, RunEnd, RunSummary, Sink};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// What the pipeline said of one frame.
#[derive(Clone, Debug)]
pub struct FrameRecord {
    pub number: u64,
    pub ts: f64,
    pub len: u32,
    pub caplen: u32,
    pub layers: Vec<String>,
    pub flow: PacketFlow,
    pub tcp_flags: Option<u16>,
    pub tcp_len: Option<u32>,
    pub issue: Option<String>,
}

#[derive(Default)]
pub struct Collected {
    pub frames: Vec<FrameRecord>,
    pub events: Vec<AppEvent>,
    pub conns: Vec<(ConnSummary, AppConnStats)>,
    pub summary: Option<RunSummary>,
    pub failed: Option<String>,
}

impl Collected {
    pub fn conn(&self, id: u64) -> &ConnSummary {
        &self
            .conns
            .iter()
            .find(|(c, _)| c.id == id)
            .unwrap_or_else(|| panic!("no conn {id}"))
            .0
    }
    pub fn frame(&self, n: u64) -> &FrameRecord {
        &self.frames[(n - 1) as usize]
    }
    /// The `http` records, in the order they came.
    pub fn http(&self) -> Vec<&layerscope::app::HttpTransaction> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AppEvent::Http(t) => Some(t),
                _ => None,
            })
            .collect()
    }
}

impl Sink for Collected {
    fn packet(
        &mut self,
        f: &RawFrame<'_>,
        p: &DecodedPacket<'_>,
        flow: &PacketFlow,
    ) -> io::Result<()> {
        self.frames.push(FrameRecord {
            number: f.number,
            ts: f.ts.as_f64(),
            len: f.orig_len,
            caplen: f.data.len() as u32,
            layers: p
                .layers
                .iter()
                .map(|l| l.name.as_str().to_string())
                .collect(),
            flow: flow.clone(),
            tcp_flags: p.tcp().map(|t| t.flags.0),
            tcp_len: p.tcp().map(|t| t.payload_len),
            issue: p.issue.as_ref().map(|i| i.to_string()),
        });
        Ok(())
    }
    fn app_event(&mut self, e: &AppEvent) -> io::Result<()> {
        self.events.push(e.clone());
        Ok(())
    }
    fn conn_end(&mut self, c: &ConnSummary, a: &AppConnStats) -> io::Result<()> {
        self.conns.push((c.clone(), a.clone()));
        Ok(())
    }
    fn finish(&mut self, s: &RunSummary) -> io::Result<()> {
        self.summary = Some(s.clone());
        Ok(())
    }
}

/// Runs the whole pipeline over a capture file.
pub fn run_file(path: &Path) -> Collected {
    let mut source = FileSource::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut c = Collected::default();
    match pipeline::run(&mut source, PipelineConfig::default(), &mut c).expect("sink never fails") {
        RunEnd::Complete(_) => {}
        RunEnd::Failed(_, e) => c.failed = Some(e.to_string()),
    }
    c.conns.sort_by_key(|(c, _)| c.id);
    c
}

/// The binary under test: `$LAYERSCOPE_BIN` when set (CI points it at the release build,
/// the binary as shipped), else the one cargo built for this test run.
pub fn bin() -> PathBuf {
    std::env::var_os("LAYERSCOPE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("layerscope"))
}

/// The standard output of `read captures/CAPTURE ARGS…` (with `--keylog KEYS` when given).
pub fn read_own_capture(capture: &str, keys: Option<&Path>, args: &[&str]) -> String {
    let mut cmd = assert_cmd::Command::new(bin());
    cmd.arg("read")
        .arg(project_dir().join("captures").join(capture))
        .args(args);
    if let Some(k) = keys {
        cmd.arg("--keylog").arg(k);
    }
    stdout_of(&mut cmd)
}

/// The standard output of `cmd` (a run of the binary under test), which must succeed
/// (its standard error is the failure message). The key-log variable of the environment
/// is left out, so only `--keylog` gives one.
pub fn stdout_of(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.env_remove("SSLKEYLOGFILE").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The JSON Lines output of `read CAPTURE --format json`, one value per record.
pub fn json_records(capture: &Path) -> Vec<serde_json::Value> {
    let out = assert_cmd::Command::new(bin())
        .arg("read")
        .arg(capture)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", capture.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/captures`, or None (with a visible message) when it is missing. With
/// `LAYERSCOPE_REQUIRE_SHARED=1` a missing folder fails the test instead.
pub fn shared_captures(test: &str) -> Option<PathBuf> {
    shared_folder(test, "captures")
}

/// `../shared/captures-encap`: tunnels, encapsulations, other link types (skipped like
/// [`shared_captures`] when missing).
pub fn shared_encap_captures(test: &str) -> Option<PathBuf> {
    shared_folder(test, "captures-encap")
}

fn shared_folder(test: &str, name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LAYERSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_dir().join("../shared"))
        .join(name);
    if dir.join("oracle").is_dir() {
        return Some(dir);
    }
    if std::env::var("LAYERSCOPE_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "{test}: {} is missing and LAYERSCOPE_REQUIRE_SHARED=1",
            dir.display()
        );
    }
    skipped(&format!(
        "{test}: {} not found (set LAYERSCOPE_SHARED or place ../shared beside the checkout)",
        dir.display()
    ));
    None
}

/// Folders of captures that have an `oracle/` beside them: the project's own `captures/`
/// always, and `../shared/captures` and `../shared/captures-encap` when present.
pub fn oracle_corpora(test: &str) -> Vec<PathBuf> {
    let mut v = vec![project_dir().join("captures")];
    v.extend(shared_captures(test));
    v.extend(shared_encap_captures(test));
    v
}

/// Every capture file in a folder, sorted.
pub fn captures_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .collect();
    v.sort();
    v
}

/// A tab-separated oracle file as rows of column → value.
pub fn read_tsv(path: &Path) -> Vec<HashMap<String, String>> {
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => return Vec::new(),
    };
    let mut lines = text.split('\n');
    let head: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(str::to_string)
        .collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut cells: Vec<&str> = l.split('\t').collect();
            cells.resize(head.len().max(cells.len()), "");
            head.iter()
                .cloned()
                .zip(cells.into_iter().map(str::to_string))
                .collect()
        })
        .collect()
}

pub fn oracle_file(captures: &Path, capture: &Path, kind: &str) -> PathBuf {
    let name = capture.file_name().unwrap().to_string_lossy();
    captures.join("oracle").join(format!("{name}.{kind}"))
}

/// tshark's `frame.protocols` reduced to the L2–L4 names layerscope uses (as
/// conformance.py does): stop after icmp/icmpv6 (what follows is the quoted packet).
pub fn tshark_layers(protocols: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in protocols.split(':') {
        let name = match token {
            "eth" => "eth",
            "vlan" => "vlan",
            "sll" => "sll",
            "null" | "loop" => "null",
            "arp" => "arp",
            "ip" => "ipv4",
            "ipv6" => "ipv6",
            "icmp" => "icmp",
            "icmpv6" => "icmpv6",
            "tcp" => "tcp",
            "udp" => "udp",
            _ => continue,
        };
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        if name == "icmp" || name == "icmpv6" {
            break;
        }
    }
    out.sort();
    out
}

/// Our L2–L4 layer names, as conformance.py reduces them.
pub fn our_layers(layers: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in layers {
        let name = match l.as_str() {
            "sll2" => "sll",
            "loop" => "null",
            n @ ("eth" | "vlan" | "sll" | "null" | "arp" | "ipv4" | "ipv6" | "icmp" | "icmpv6"
            | "tcp" | "udp") => n,
            _ => continue,
        };
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        if name == "icmp" || name == "icmpv6" {
            break;
        }
    }
    out.sort();
    out
}

/// Says that (part of) a test was skipped, on the real stderr, past the test harness's
/// capture, so `cargo test` shows it even when the test passes.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}
