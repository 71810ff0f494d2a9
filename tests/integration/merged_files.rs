//! Several files read as one capture (`read a.pcap b.pcap …`, `read DIR`): a capture split
//! into pieces (as `editcap -c N` splits it) or dealt out record by record over two files
//! gives the same JSON output, byte for byte, as the whole file: the same connections,
//! HTTP records, frame numbers and summary.

use super::support::*;
use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A classic pcap file's header and its records (header + data each).
fn pcap_records(bytes: &[u8]) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    let magic = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    let le = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
        _ => return None, // pcapng: not split here
    };
    let head = bytes.get(..24)?.to_vec();
    let mut records = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = bytes.get(at + 8..at + 12)?;
        let caplen = if le {
            u32::from_le_bytes(caplen.try_into().ok()?)
        } else {
            u32::from_be_bytes(caplen.try_into().ok()?)
        } as usize;
        let end = at + 16 + caplen;
        records.push(bytes.get(at..end)?.to_vec());
        at = end;
    }
    Some((head, records))
}

fn write_pcap(path: &Path, head: &[u8], records: &[&Vec<u8>]) {
    let mut out = head.to_vec();
    for r in records {
        out.extend_from_slice(r);
    }
    std::fs::write(path, out).unwrap();
}

/// The JSON output with each packet record's `file` taken out: (the rest, the `file` of
/// each packet record in order).
fn without_files(json: &str) -> (String, Vec<String>) {
    let mut rest = String::new();
    let mut files = Vec::new();
    for line in json.lines() {
        match line.find(",\"file\":\"") {
            Some(at) => {
                let value_at = at + ",\"file\":\"".len();
                let end = value_at + line[value_at..].find('"').unwrap();
                files.push(line[value_at..end].to_string());
                rest.push_str(&line[..at]);
                rest.push_str(&line[end + 1..]);
            }
            None => rest.push_str(line),
        }
        rest.push('\n');
    }
    (rest, files)
}

fn json_of(args: &[&Path]) -> String {
    let out = Command::new(bin())
        .arg("read")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Splits `capture` and checks the pieces; None when it is not a pcap to split, else
/// whether the dealt-out check ran too (it needs strictly increasing timestamps).
fn check_capture(capture: &Path) -> Option<bool> {
    let (head, records) = pcap_records(&std::fs::read(capture).unwrap())?;
    if records.len() < 4 {
        return None;
    }
    let name = capture.file_name().unwrap().to_string_lossy().to_string();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("layerscope-merge-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("pieces")).unwrap();
    std::fs::create_dir_all(dir.join("dealt")).unwrap();
    let whole = json_of(&[capture]);
    // Pieces of a quarter of the records each, named in order (editcap -c's naming).
    let per = records.len().div_ceil(4);
    for (i, chunk) in records.chunks(per).enumerate() {
        let refs: Vec<&Vec<u8>> = chunk.iter().collect();
        write_pcap(&dir.join(format!("pieces/part_{i:05}.pcap")), &head, &refs);
    }
    let (rest, files) = without_files(&json_of(&[&dir.join("pieces")]));
    assert_eq!(rest, whole, "{name}: pieces");
    // Each packet names its piece: frames 1..=per in part_00000, and so on.
    assert_eq!(files.len(), records.len(), "{name}");
    for (i, f) in files.iter().enumerate() {
        assert!(
            f.ends_with(&format!("part_{:05}.pcap", i / per)),
            "{name}: frame {}: {f}",
            i + 1
        );
    }
    // Dealt out: even records to one file, odd to the other (merged back by time).
    let even: Vec<&Vec<u8>> = records.iter().step_by(2).collect();
    let odd: Vec<&Vec<u8>> = records.iter().skip(1).step_by(2).collect();
    let (a, b) = (dir.join("dealt/a.pcap"), dir.join("dealt/b.pcap"));
    write_pcap(&a, &head, &even);
    write_pcap(&b, &head, &odd);
    let ts = |r: &Vec<u8>| r[..8].to_vec();
    let monotonic = records.windows(2).all(|w| {
        let (x, y) = (ts(&w[0]), ts(&w[1]));
        let le = |v: &[u8]| {
            (
                u32::from_le_bytes(v[..4].try_into().unwrap()),
                u32::from_le_bytes(v[4..8].try_into().unwrap()),
            )
        };
        le(&x) < le(&y)
    });
    if monotonic {
        let (rest, files) = without_files(&json_of(&[&a, &b]));
        assert_eq!(rest, whole, "{name}: dealt");
        for (i, f) in files.iter().enumerate() {
            let want = if i % 2 == 0 { "a.pcap" } else { "b.pcap" };
            assert!(f.ends_with(want), "{name}: frame {}: {f}", i + 1);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Some(monotonic)
}

#[test]
fn split_captures_read_together_equal_the_whole() {
    let (mut checked, mut dealt) = (0, 0);
    for capture in captures_in(&project_dir().join("captures")) {
        if let Some(d) = check_capture(&capture) {
            checked += 1;
            dealt += usize::from(d);
        }
    }
    assert!(checked >= 5 && dealt >= 3, "{checked} split, {dealt} dealt");
    if let Some(dir) = shared_captures("split_captures_read_together_equal_the_whole") {
        for name in [
            "zeek__methods.pcap",
            "pcapplusplus__http-packets2.pcap",
            "pcapplusplus__many-protocols.pcap",
            "zeek__get.pcap",
        ] {
            assert!(check_capture(&dir.join(name)).is_some(), "{name}");
        }
    }
}

#[test]
fn a_folder_without_captures_exits_1() {
    let dir = std::env::temp_dir().join(format!("layerscope-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(bin()).arg("read").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("directory with no capture files"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// conn.log's rows without the uid column (uids are keyed per run).
fn conn_rows(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut cells: Vec<&str> = l.split('\t').collect();
            cells.remove(1);
            // tunnel_parents holds uids too (a tunnelled connection's).
            for cell in &mut cells {
                if is_uid_set(cell) {
                    *cell = "(uids)";
                }
            }
            cells.join("\t")
        })
        .collect()
}

/// A cell of Zeek uids ("C" and up to 21 letters or digits), comma-separated.
fn is_uid_set(cell: &str) -> bool {
    cell.split(',').all(|uid| {
        (10..=22).contains(&uid.len())
            && uid.starts_with('C')
            && uid.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

#[test]
fn per_file_jobs_write_each_files_logs_as_a_run_of_its_own() {
    let captures = captures_in(&project_dir().join("captures"));
    let dir = std::env::temp_dir().join(format!("layerscope-perfile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(bin())
        .arg("read")
        .args(&captures)
        .args(["--per-file", "--jobs", "3", "--format", "zeek", "--out"])
        .arg(dir.join("all"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for capture in &captures {
        let name = capture.file_name().unwrap().to_string_lossy().to_string();
        let alone = dir.join(format!("alone-{name}"));
        let one = Command::new(bin())
            .arg("read")
            .arg(capture)
            .args(["--format", "zeek", "--out"])
            .arg(&alone)
            .output()
            .unwrap();
        assert!(one.status.success());
        let together = conn_rows(&dir.join("all").join(&name).join("conn.log"));
        assert!(!together.is_empty(), "{name}");
        assert_eq!(together, conn_rows(&alone.join("conn.log")), "{name}");
    }
    // A file that cannot be read fails alone, with its exit code; the others are written.
    let out = Command::new(bin())
        .arg("read")
        .arg(&captures[0])
        .arg(dir.join("missing.pcap"))
        .args(["--per-file", "--jobs", "2", "--format", "parquet", "--out"])
        .arg(dir.join("some"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pcap"));
    let first = captures[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(dir.join("some").join(first).join("conn.parquet").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The issue's own recipe: `editcap -c N` (Wireshark's, writing pcapng pieces named
/// `part_00000_<time>.pcap` …) on a capture, the folder read back: the same JSON output
/// as the whole (connections, HTTP and DNS records, frame numbers, summary) but for each
/// packet's `file`. Skipped visibly without editcap.
#[test]
fn editcap_pieces_read_as_a_folder_equal_the_whole() {
    if std::process::Command::new("editcap")
        .arg("-V")
        .output()
        .is_err()
    {
        skipped("editcap_pieces_read_as_a_folder_equal_the_whole: editcap not installed");
        return;
    }
    let mut captures: Vec<PathBuf> = ["http11-keepalive.pcap", "dns-udp.pcap", "tls12.pcap"]
        .iter()
        .map(|n| project_dir().join("captures").join(n))
        .collect();
    if let Some(dir) = shared_captures("editcap_pieces_read_as_a_folder_equal_the_whole") {
        captures.push(dir.join("zeek__methods.pcap"));
        captures.push(dir.join("pcapplusplus__many-protocols.pcap"));
    }
    for capture in captures {
        let name = capture.file_name().unwrap().to_string_lossy().to_string();
        let whole = json_of(&[&capture]);
        let frames = whole
            .lines()
            .filter(|l| l.contains("\"type\":\"packet\""))
            .count();
        let dir =
            std::env::temp_dir().join(format!("layerscope-editcap-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let per = frames.div_ceil(3).max(1);
        let status = std::process::Command::new("editcap")
            .args(["-c", &per.to_string()])
            .arg(&capture)
            .arg(dir.join("part.pcap"))
            .status()
            .unwrap();
        assert!(status.success(), "{name}");
        let pieces = std::fs::read_dir(&dir).unwrap().count();
        assert!(pieces >= 2, "{name}: {pieces} pieces");
        let (rest, files) = without_files(&json_of(&[&dir]));
        assert_eq!(rest, whole, "{name}: editcap -c {per}");
        assert_eq!(files.len(), frames, "{name}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
