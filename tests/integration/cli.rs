//! The binary as a user runs it: exit codes, error messages, JSON Lines, views.

use super::support::*;
use assert_cmd::Command;

fn layerscope() -> Command {
    Command::cargo_bin("layerscope").unwrap()
}

#[test]
fn missing_file_exits_1_naming_it() {
    let out = layerscope()
        .args(["read", "/nonexistent/x.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/x.pcap"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn directory_exits_1() {
    let out = layerscope().args(["read", "/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("directory"));
}

#[test]
fn not_a_capture_exits_2_with_first_bytes() {
    let dir = std::env::temp_dir().join(format!("layerscope-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("notes.txt");
    std::fs::write(&f, b"hello world, not a pcap").unwrap();
    let out = layerscope().arg("read").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a pcap or pcapng file (starts with 0x68656c6c6f20776f)"),
        "{err}"
    );
}

#[test]
fn usage_error_exits_1() {
    let out = layerscope().args(["read"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = layerscope()
        .args(["read", "x", "--view", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn help_mentions_exit_codes() {
    let out = layerscope().args(["read", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("Exit codes: 0 success, 1 usage or I/O error, 2"));
}

#[test]
fn json_lines_are_valid_and_end_with_summary() {
    for path in captures_in(&project_dir().join("captures")) {
        let out = layerscope()
            .arg("read")
            .arg(&path)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", path.display());
        let text = String::from_utf8(out.stdout).unwrap();
        let records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        let last = records.last().unwrap();
        assert_eq!(last["type"], "summary");
        let packets = records.iter().filter(|r| r["type"] == "packet").count();
        assert_eq!(last["frames"], packets as u64);
        // conn records come after every packet, in id order
        let first_conn = records.iter().position(|r| r["type"] == "conn");
        if let Some(i) = first_conn {
            assert!(records[i..].iter().all(|r| r["type"] != "packet"));
            let ids: Vec<u64> = records[i..]
                .iter()
                .filter(|r| r["type"] == "conn")
                .map(|r| r["id"].as_u64().unwrap())
                .collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        }
    }
}
