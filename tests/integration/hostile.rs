//! Hostile input: damaged files give one clear line and the documented exit code, wire bytes
//! never reach the terminal raw, the HTTP parser does not care where segments split, and the
//! adversarial captures of `examples/adversarial.rs` stay under the memory bound with what
//! was cut reported (see `tests/adversarial/README.md`).

use assert_cmd::Command;
use etherparse::PacketBuilder;
use layerscope::app::{AppCollector, AppConfig, AppEvent, HttpTransaction};
use layerscope::capture::Timestamp;
use layerscope::flow::{Direction, SegmentCtx};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Output;

#[allow(dead_code)]
#[path = "../../examples/adversarial.rs"]
mod adversarial;

fn layerscope() -> Command {
    Command::new(super::support::bin())
}

/// A fresh folder under cargo's per-target temporary directory.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hostile-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------
// Building captures by hand.

/// A classic little-endian microsecond pcap of `frames` with link type `link`.
pub(super) fn pcap(link: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = pcap_header(link);
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&pcap_record_header(
            i as u32,
            f.len() as u32,
            f.len() as u32,
        ));
        out.extend_from_slice(f);
    }
    out
}

fn pcap_header(link: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    out
}

fn pcap_record_header(i: u32, caplen: u32, len: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(1_700_000_000 + i).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&caplen.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out
}

const C_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const S_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const C_IP: [u8; 4] = [10, 0, 0, 1];
const S_IP: [u8; 4] = [10, 0, 0, 2];

/// One TCP segment between 10.0.0.1:`port` (client) and 10.0.0.2:80.
fn tcp_port(
    port: u16,
    to_server: bool,
    seq: u32,
    ack: Option<u32>,
    flags: &str,
    payload: &[u8],
) -> Vec<u8> {
    let (smac, dmac, sip, dip, sp, dp) = if to_server {
        (C_MAC, S_MAC, C_IP, S_IP, port, 80)
    } else {
        (S_MAC, C_MAC, S_IP, C_IP, 80, port)
    };
    let mut b = PacketBuilder::ethernet2(smac, dmac)
        .ipv4(sip, dip, 64)
        .tcp(sp, dp, seq, 65535);
    if flags.contains('S') {
        b = b.syn();
    }
    if flags.contains('F') {
        b = b.fin();
    }
    if flags.contains('P') {
        b = b.psh();
    }
    if let Some(a) = ack {
        b = b.ack(a);
    }
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

/// One UDP datagram 10.0.0.1:5353x → 10.0.0.2:53 (or back).
fn udp(to_server: bool, payload: &[u8]) -> Vec<u8> {
    let (smac, dmac, sip, dip, sp, dp) = if to_server {
        (C_MAC, S_MAC, C_IP, S_IP, 53000, 53)
    } else {
        (S_MAC, C_MAC, S_IP, C_IP, 53, 53000)
    };
    let mut v = Vec::new();
    PacketBuilder::ethernet2(smac, dmac)
        .ipv4(sip, dip, 64)
        .udp(sp, dp)
        .write(&mut v, payload)
        .unwrap();
    v
}

/// A whole HTTP exchange (handshake, request, response, FINs) with the given wire bytes.
fn http_conversation(request: &[u8], response: &[u8]) -> Vec<Vec<u8>> {
    http_conversation_on(40000, request, response)
}

pub(super) fn http_conversation_on(port: u16, request: &[u8], response: &[u8]) -> Vec<Vec<u8>> {
    let tcp = |to_server, seq, ack, flags: &str, payload: &[u8]| {
        tcp_port(port, to_server, seq, ack, flags, payload)
    };
    let (c, s) = (1000u32, 5000u32);
    let rq = request.len() as u32;
    let rs = response.len() as u32;
    vec![
        tcp(true, c, None, "S", &[]),
        tcp(false, s, Some(c + 1), "S", &[]),
        tcp(true, c + 1, Some(s + 1), "", &[]),
        tcp(true, c + 1, Some(s + 1), "P", request),
        tcp(false, s + 1, Some(c + 1 + rq), "P", response),
        tcp(true, c + 1 + rq, Some(s + 1 + rs), "F", &[]),
        tcp(false, s + 1 + rs, Some(c + 2 + rq), "F", &[]),
        tcp(true, c + 2 + rq, Some(s + 2 + rs), "", &[]),
    ]
}

/// A DNS message with one question whose name has the given raw labels.
fn dns_message(response: bool, labels: &[&[u8]]) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, if response { 0x81 } else { 0x01 }, 0x00];
    m.extend_from_slice(&[0, 1, 0, u8::from(response), 0, 0, 0, 0]);
    let name: Vec<u8> = labels
        .iter()
        .flat_map(|l| std::iter::once(l.len() as u8).chain(l.iter().copied()))
        .chain([0])
        .collect();
    m.extend_from_slice(&name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    if response {
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    }
    m
}

// ---------------------------------------------------------------------------------------
// Terminal safety.

/// Escape sequence, CR, NUL, BEL: each would move the cursor, cut a line, or beep.
pub(super) const EVIL: &[u8] = b"\x1b[2J\x1b]0;pwned\x07\r\x00\x07\x1b[31m";

fn evil_capture() -> Vec<u8> {
    let mut request = b"GET /a".to_vec();
    request.extend_from_slice(EVIL);
    request.extend_from_slice(b"b HTTP/1.1\r\nHost: h");
    request.extend_from_slice(EVIL);
    request.extend_from_slice(b".test\r\nUser-Agent: x\x1b[1m\r\n\r\n");
    let mut response =
        b"HTTP/1.1 200 O\x1b[5mK\x07\r\nContent-Length: 4\r\nX-E: \x1b[0m\r\n\r\n".to_vec();
    response.extend_from_slice(b"\x1b\x00\r\x07");
    let mut frames = http_conversation(&request, &response);
    // httparse refuses C0 controls in a head, but takes bytes from 0x80 up in field values
    // and the reason phrase: a UTF-8 C1 CSI (U+009B, an escape on 8-bit terminals), a
    // bidi override and invalid UTF-8.
    let sneaky = "\u{9b}2J\u{202e}";
    let mut request = format!("GET /c HTTP/1.1\r\nHost: h{sneaky}.test\r\n\r\n").into_bytes();
    request.splice(24..24, [0xff, 0x9b]);
    let response = format!("HTTP/1.1 404 N{sneaky}o\r\nContent-Length: 0\r\n\r\n");
    frames.extend(http_conversation_on(40001, &request, response.as_bytes()));
    let labels: [&[u8]; 3] = [b"a\x1b[31mred", b"c\rr\x00n\x07b", b"test"];
    frames.push(udp(true, &dns_message(false, &labels)));
    frames.push(udp(false, &dns_message(true, &labels)));
    pcap(1, &frames)
}

fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    if let Some(pos) = bytes.iter().position(|b| *b < 0x20 && *b != b'\n') {
        let from = pos.saturating_sub(60);
        panic!(
            "{what}: byte 0x{:02x} at {pos}: {:?}",
            bytes[pos],
            String::from_utf8_lossy(&bytes[from..(pos + 20).min(bytes.len())])
        );
    }
    assert!(!bytes.contains(&0x7f), "{what}: DEL byte");
    let text = String::from_utf8_lossy(bytes);
    let c1_or_bidi = |c: char| {
        ('\u{80}'..='\u{9f}').contains(&c)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    assert!(
        !text.contains(c1_or_bidi),
        "{what}: C1 control or bidi override: {text}"
    );
}

#[test]
fn wire_control_bytes_never_reach_the_terminal() {
    let dir = scratch_dir("evil");
    let file = dir.join("evil.pcap");
    std::fs::write(&file, evil_capture()).unwrap();
    let mut runs: Vec<(String, Output)> = Vec::new();
    for view in ["connections", "packets", "conns", "http", "dns"] {
        let out = layerscope()
            .arg("read")
            .arg(&file)
            .args(["--color", "never", "--view", view, "--width", "200"])
            .output()
            .unwrap();
        runs.push((format!("--view {view}"), out));
    }
    let out = layerscope()
        .arg("follow")
        .arg(&file)
        .args(["--conn", "0", "--color", "never"])
        .output()
        .unwrap();
    runs.push(("follow --conn 0".to_string(), out));
    // The teaching views print wire text too.
    let mut extra: Vec<Vec<String>> = vec![vec![
        "read".into(),
        "--teach".into(),
        "--color".into(),
        "never".into(),
    ]];
    for frame in [4, 5, 9, 10, 12, 13] {
        extra.push(vec![
            "explain".into(),
            "--frame".into(),
            frame.to_string(),
            "--color".into(),
            "never".into(),
        ]);
    }
    for conn in [0, 2] {
        extra.push(vec![
            "ladder".into(),
            "--conn".into(),
            conn.to_string(),
            "--full".into(),
        ]);
    }
    for args in extra {
        let out = layerscope()
            .arg(&args[0])
            .arg(&file)
            .args(&args[1..])
            .output()
            .unwrap();
        runs.push((args.join(" "), out));
    }
    for (what, out) in &runs {
        assert_eq!(out.status.code(), Some(0), "{what}: {out:?}");
        assert_terminal_safe(what, &out.stdout);
        assert_terminal_safe(&format!("{what} (stderr)"), &out.stderr);
    }
    // The views did show the hostile fields (escaped), so the check above is not vacuous.
    let text = |i: usize| String::from_utf8_lossy(&runs[i].1.stdout).into_owned();
    assert!(
        text(3).contains("\\u{9b}2J\\u{202e}"),
        "http view:\n{}",
        text(3)
    );
    assert!(!text(3).contains('\u{9b}') && !text(3).contains('\u{202e}'));
    assert!(text(4).contains("red"), "dns view:\n{}", text(4));
    assert!(
        text(5).contains("\\x1b]0;pwned\\x07\\r\\x00"),
        "{}",
        text(5)
    );

    let out = layerscope()
        .arg("read")
        .arg(&file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut types = Vec::new();
    for line in out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)));
        types.push(v["type"].as_str().unwrap_or("").to_string());
        if v["type"] == "http" {
            let host = v["host"].as_str().unwrap_or("");
            assert!(
                host.contains("\u{9b}2J\u{202e}"),
                "JSON keeps the host's text: {v}"
            );
        }
    }
    assert!(types.iter().any(|t| t == "http"), "{types:?}");
    assert!(types.iter().any(|t| t == "dns"), "{types:?}");
    assert_eq!(types.last().map(String::as_str), Some("summary"));
}

// ---------------------------------------------------------------------------------------
// Damaged files: one table, one line each.

/// pcapng: SHB, IDB (Ethernet), then the given blocks.
fn pcapng(blocks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0x0A0D_0D0Au32.to_le_bytes());
    out.extend_from_slice(&28u32.to_le_bytes());
    out.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(-1i64).to_le_bytes());
    out.extend_from_slice(&28u32.to_le_bytes());
    out.extend_from_slice(&block(1, &[1, 0, 0, 0, 0, 0, 4, 0]));
    for b in blocks {
        out.extend_from_slice(b);
    }
    out
}

/// A pcapng block of `kind` with `body` padded to 4 bytes.
fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(8 + padded, 0);
    out.extend_from_slice(&total.to_le_bytes());
    out
}

/// An enhanced packet block on interface `iface`.
fn epb(iface: u32, frame: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&iface.to_le_bytes());
    body.extend_from_slice(&0u32.to_le_bytes());
    body.extend_from_slice(&1_000_000u32.to_le_bytes());
    body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    body.extend_from_slice(frame);
    block(6, &body)
}

/// Two good frames (a SYN and its SYN-ACK) that every damaged file starts with.
fn good_frames() -> Vec<Vec<u8>> {
    http_conversation(b"", b"")[..2].to_vec()
}

struct Case {
    name: &'static str,
    /// File contents (None: a special path, see `run_case`).
    bytes: Option<Vec<u8>>,
    code: i32,
    /// Good frames still reported in the JSON summary.
    frames: u64,
    /// Words the one stderr line must contain (besides the file name); empty: no stderr.
    message: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let good = good_frames();
    let good_pcap = pcap(1, &good);
    let with = |tail: &[u8]| {
        let mut v = good_pcap.clone();
        v.extend_from_slice(tail);
        v
    };
    let good_epbs: Vec<Vec<u8>> = good.iter().map(|f| epb(0, f)).collect();
    let ng = |extra: Vec<Vec<u8>>, after: Vec<Vec<u8>>| {
        let mut blocks = good_epbs.clone();
        blocks.extend(extra);
        blocks.extend(after);
        pcapng(&blocks)
    };
    let mut lying = epb(0, &good[0]);
    let n = lying.len();
    lying[4..8].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    lying[n - 4..].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    let mut too_short = epb(0, &good[0]);
    too_short[4..8].copy_from_slice(&8u32.to_le_bytes());
    let mut trailer = epb(0, &good[0]);
    let n = trailer.len();
    trailer[n - 4..].copy_from_slice(&12345u32.to_le_bytes());
    let mut caplen_huge = pcap_record_header(9, 300 * 1024, 300 * 1024);
    caplen_huge.extend_from_slice(&vec![0; 300 * 1024]);
    let mut caplen_past_end = pcap_record_header(9, 1000, 1000);
    caplen_past_end.extend_from_slice(&[0; 100]);
    vec![
        Case {
            name: "empty file",
            bytes: Some(Vec::new()),
            code: 2,
            frames: 0,
            message: &["not a pcap or pcapng file", "empty"],
        },
        Case {
            name: "one byte",
            bytes: Some(vec![0xd4]),
            code: 2,
            frames: 0,
            message: &["0xd4"],
        },
        Case {
            name: "global header only",
            bytes: Some(pcap_header(1)),
            code: 0,
            frames: 0,
            message: &[],
        },
        Case {
            name: "truncated global header",
            bytes: Some(pcap_header(1)[..20].to_vec()),
            code: 2,
            frames: 0,
            message: &[
                "ends inside its header",
                "byte offset 0",
                "needed 24 bytes, had 20",
            ],
        },
        Case {
            name: "truncated record header",
            bytes: Some(with(&pcap_record_header(9, 60, 60)[..10])),
            code: 0,
            frames: 2,
            message: &["warning", "after packet 2", "needed 16 bytes, had 10"],
        },
        Case {
            name: "caplen > 256 KiB",
            bytes: Some(with(&caplen_huge)),
            code: 2,
            frames: 2,
            message: &["packet 3", "307200", "262144"],
        },
        Case {
            name: "caplen > remaining bytes",
            bytes: Some(with(&caplen_past_end)),
            code: 0,
            frames: 2,
            message: &["warning", "after packet 2", "had 116"],
        },
        Case {
            name: "pcapng lying block length",
            bytes: Some(ng(vec![lying], vec![epb(0, &good[0])])),
            code: 0,
            frames: 2,
            message: &[
                "warning",
                "after packet 2",
                "needed 2147483632 bytes, had 176",
            ],
        },
        Case {
            name: "pcapng block length below 12",
            bytes: Some(ng(vec![too_short], vec![epb(0, &good[0])])),
            code: 2,
            frames: 2,
            message: &["packet 3 at byte offset 224", "has length 8", "corrupt"],
        },
        Case {
            name: "pcapng trailing block length differs",
            bytes: Some(ng(vec![trailer], vec![epb(0, &good[0])])),
            code: 2,
            frames: 2,
            message: &["packet 3 at byte offset 224", "but 12345 at the end"],
        },
        Case {
            name: "pcapng unknown block types",
            bytes: Some(ng(
                vec![block(0x0000_0BAD, b"junk"), block(0x8000_0001, &[])],
                vec![epb(0, &good[0])],
            )),
            code: 0,
            frames: 3,
            message: &[],
        },
        Case {
            name: "pcapng interface id that does not exist",
            bytes: Some(ng(vec![epb(7, &good[0])], vec![epb(0, &good[1])])),
            code: 0,
            frames: 3,
            message: &["warning", "packet 3", "interface 7"],
        },
        Case {
            name: "unknown link type",
            bytes: Some(pcap(147, &good)),
            code: 0,
            frames: 2,
            message: &[],
        },
        Case {
            name: "a directory",
            bytes: None,
            code: 1,
            frames: 0,
            message: &["is a directory"],
        },
    ]
}

/// The binary's JSON summary line, if it printed one.
fn summary(stdout: &[u8]) -> Option<serde_json::Value> {
    let last = stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty())?;
    let v: serde_json::Value = serde_json::from_slice(last).ok()?;
    (v["type"] == "summary").then_some(v)
}

fn check_message(name: &str, path: &Path, stderr: &[u8], words: &[&str]) {
    let err = String::from_utf8_lossy(stderr);
    assert!(!err.contains("panicked"), "{name}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    if words.is_empty() {
        assert!(lines.is_empty(), "{name}: unexpected stderr {err:?}");
        return;
    }
    assert_eq!(lines.len(), 1, "{name}: one line expected: {err:?}");
    assert!(lines[0].starts_with("layerscope: "), "{name}: {err:?}");
    assert!(
        lines[0].contains(&path.display().to_string()),
        "{name}: the message names the file: {err:?}"
    );
    for w in words {
        assert!(lines[0].contains(w), "{name}: {w:?} missing in {err:?}");
    }
}

#[test]
fn damaged_files_give_one_line_and_the_documented_exit_code() {
    let dir = scratch_dir("damaged");
    let mut failures = Vec::new();
    for (i, case) in cases().into_iter().enumerate() {
        let path = match &case.bytes {
            Some(bytes) => {
                let p = dir.join(format!("case-{i}.pcap"));
                std::fs::write(&p, bytes).unwrap();
                p
            }
            // A folder is read as the capture files in it (merged); one with none is the
            // usage error.
            None => {
                let empty = dir.join("a-folder-without-captures");
                std::fs::create_dir_all(&empty).unwrap();
                empty
            }
        };
        let out = layerscope()
            .arg("read")
            .arg(&path)
            .args(["--format", "json"])
            .output()
            .unwrap();
        let result = std::panic::catch_unwind(|| {
            assert_eq!(out.status.code(), Some(case.code), "{}: {out:?}", case.name);
            check_message(case.name, &path, &out.stderr, case.message);
            if case.code != 1 {
                let frames = summary(&out.stdout).map(|s| s["frames"].as_u64());
                // A file that is not a capture at all prints no summary.
                let frames = frames.flatten().unwrap_or(0);
                assert_eq!(frames, case.frames, "{}: frames shown", case.name);
            }
        });
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "?".to_string());
            failures.push(msg);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn unreadable_file_exits_1() {
    let dir = scratch_dir("unreadable");
    let file = dir.join("secret.pcap");
    std::fs::write(&file, pcap(1, &good_frames())).unwrap();
    let bin = super::support::bin();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = if is_root {
        // Root reads anything: drop to nobody (who can still reach the binary and folder).
        let setpriv = Path::new("/usr/bin/setpriv");
        if !setpriv.exists() {
            super::support::skipped("unreadable_file_exits_1: running as root without setpriv");
            return;
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let out = std::process::Command::new(setpriv)
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(&bin)
            .arg("read")
            .arg(&file)
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stderr).contains("setpriv:") {
            super::support::skipped(&format!(
                "unreadable_file_exits_1: setpriv failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            return;
        }
        out
    } else {
        std::process::Command::new(&bin)
            .arg("read")
            .arg(&file)
            .output()
            .unwrap()
    };
    if !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("Permission denied") {
        // The binary itself could not be executed by nobody (a private target dir).
        if !String::from_utf8_lossy(&out.stderr).contains("layerscope:") {
            super::support::skipped(&format!(
                "unreadable_file_exits_1: nobody cannot run {bin:?}"
            ));
            return;
        }
    }
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    check_message("unreadable", &file, &out.stderr, &["permission denied"]);
}

// ---------------------------------------------------------------------------------------
// HTTP: the same transactions whatever the segment boundaries.

/// One generated exchange: request and response wire bytes.
#[derive(Clone, Debug)]
struct Exchange {
    request: Vec<u8>,
    response: Vec<u8>,
    uri: String,
    status: u16,
    response_body: u64,
}

fn exchange() -> impl Strategy<Value = Exchange> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]),
        "[a-z0-9/._-]{1,40}",
        0usize..300,
        prop::sample::select(vec![200u16, 201, 204, 304, 404, 500]),
        0usize..3000,
        any::<bool>(),
        1usize..700,
    )
        .prop_map(
            |(method, path, req_body, status, resp_body, chunked, chunk)| {
                let uri = format!("/{path}");
                let mut request = format!("{method} {uri} HTTP/1.1\r\nHost: example.test\r\n");
                if method == "POST" || method == "PUT" {
                    request.push_str(&format!("Content-Length: {req_body}\r\n\r\n"));
                    request.push_str(&"q".repeat(req_body));
                } else {
                    request.push_str("\r\n");
                }
                let no_body = status == 204 || status == 304;
                let resp_body = if no_body { 0 } else { resp_body };
                let mut response =
                    format!("HTTP/1.1 {status} Whatever\r\nServer: t\r\n").into_bytes();
                if no_body {
                    response.extend_from_slice(b"\r\n");
                } else if chunked {
                    response.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                    let body = vec![b'r'; resp_body];
                    for part in body.chunks(chunk) {
                        response
                            .extend_from_slice(format!("{:x};ext=1\r\n", part.len()).as_bytes());
                        response.extend_from_slice(part);
                        response.extend_from_slice(b"\r\n");
                    }
                    response.extend_from_slice(b"0\r\nTrailer: x\r\n\r\n");
                } else {
                    response.extend_from_slice(
                        format!("Content-Length: {resp_body}\r\n\r\n").as_bytes(),
                    );
                    response.extend(std::iter::repeat_n(b'r', resp_body));
                }
                Exchange {
                    request: request.into_bytes(),
                    response,
                    uri,
                    status,
                    response_body: resp_body as u64,
                }
            },
        )
}

/// Feeds the client stream then the server stream, each cut at `cuts` (positions taken
/// modulo the stream length), into a fresh tracker; returns the transactions with the
/// fields that depend on segmenting (frames, times, latency, message end times) cleared.
fn transactions(client: &[u8], server: &[u8], cuts: &[usize]) -> Vec<HttpTransaction> {
    let mut app = AppCollector::new(AppConfig::default());
    let mut frame = 0u64;
    let mut events = Vec::new();
    for (dir, stream) in [(Direction::ToServer, client), (Direction::ToClient, server)] {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        points.dedup();
        for w in points.windows(2) {
            frame += 1;
            let ctx = SegmentCtx {
                ports: Some((40000, 80)),
                ..SegmentCtx::at(frame, Timestamp::from_secs(frame as i64))
            };
            app.on_data(7, dir, &stream[w[0]..w[1]], ctx);
            events.extend(app.drain_events());
        }
    }
    app.on_close(7);
    events.extend(app.drain_events());
    events
        .into_iter()
        .filter_map(|e| match e {
            AppEvent::Http(mut t) => {
                t.request_frame = None;
                t.response_frame = None;
                t.request_ts = None;
                t.response_ts = None;
                t.request_end_ts = None;
                t.response_end_ts = None;
                t.latency_ms = None;
                Some(t)
            }
            _ => None,
        })
        .collect()
}

proptest! {
    // No failure file: integration tests have no src/ next to them for proptest to use.
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn http_transactions_do_not_depend_on_segment_boundaries(
        exchanges in prop::collection::vec(exchange(), 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let client: Vec<u8> = exchanges.iter().flat_map(|e| e.request.clone()).collect();
        let server: Vec<u8> = exchanges.iter().flat_map(|e| e.response.clone()).collect();
        let whole = transactions(&client, &server, &[]);
        let split = transactions(&client, &server, &cuts);
        // Byte at a time: the worst split there is.
        let every: Vec<usize> = (0..client.len().max(server.len())).collect();
        let bytewise = transactions(&client, &server, &every);
        prop_assert_eq!(whole.len(), exchanges.len());
        for (t, e) in whole.iter().zip(&exchanges) {
            prop_assert_eq!(t.uri.as_deref(), Some(e.uri.as_str()));
            prop_assert_eq!(t.status, Some(e.status));
            prop_assert_eq!(t.response_body_bytes.unwrap_or(0), e.response_body);
        }
        prop_assert_eq!(&split, &whole);
        prop_assert_eq!(&bytewise, &whole);
    }
}

// ---------------------------------------------------------------------------------------
// Adversarial captures under the default caps.

/// Peak resident set of a child run under `/usr/bin/time -v`, in KiB.
pub(super) fn max_rss_kib(time_output: &str) -> Option<u64> {
    time_output
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn adversarial_captures_stay_under_caps() {
    let full = std::env::var("LAYERSCOPE_FULL_ADVERSARIAL").as_deref() == Ok("1");
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        super::support::skipped(
            "adversarial_captures_stay_under_caps: /usr/bin/time not installed",
        );
        return;
    }
    let bin = super::support::bin();
    let dir = scratch_dir(if full {
        "adversarial-full"
    } else {
        "adversarial-small"
    });
    let (sizes, bound_kib, scaled): (_, u64, &[&str]) = if full {
        (adversarial::Sizes::FULL, 512 << 10, &[])
    } else {
        // The small captures are 40× smaller: the caps are scaled with them so that the
        // same evictions and cuts happen.
        (
            adversarial::Sizes::SMALL,
            160 << 10,
            &["--max-flows", "2500", "--max-reassembly-total", "1048576"],
        )
    };
    let paths = adversarial::write_all(&dir, sizes).unwrap();
    let mut report = Vec::new();
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let json = dir.join(format!("{name}.jsonl"));
        let out = std::process::Command::new(time)
            .arg("-v")
            .arg(&bin)
            .arg("read")
            .arg(path)
            .args(["--format", "json"])
            .args(scaled)
            .stdout(std::fs::File::create(&json).unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        let rss = max_rss_kib(&err).unwrap_or_else(|| panic!("{name}: no RSS in {err}"));
        let tail = {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = std::fs::File::open(&json).unwrap();
            let len = f.metadata().unwrap().len();
            f.seek(SeekFrom::Start(len.saturating_sub(4096))).unwrap();
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            buf
        };
        let overflow_notes = if name == "chunked-2e63.pcap" {
            let all = std::fs::read_to_string(&json).unwrap();
            all.matches("chunked framing error: chunk size overflows 2^63-1")
                .count()
        } else {
            0
        };
        let _ = std::fs::remove_file(&json);
        let s = summary(&tail).unwrap_or_else(|| panic!("{name}: no summary line"));
        let field = |k: &str| s[k].as_u64().unwrap_or(0);
        report.push(format!("{name}: peak RSS {} MiB, summary {s}", rss >> 10));
        assert!(
            rss <= bound_kib,
            "{name}: peak RSS {rss} KiB > {bound_kib} KiB"
        );
        match name.as_str() {
            "syn-flood.pcap" => assert!(field("evicted_flows") > 0, "{name}: {s}"),
            "ooo-gaps.pcap" => assert!(field("reassembly_cut_bytes") > 0, "{name}: {s}"),
            // Every datagram stays incomplete: each one is reported as left unreassembled.
            "frag-flood.pcap" => assert_eq!(
                field("fragments_evicted"),
                u64::from(sizes.fragments),
                "{name}: {s}"
            ),
            "endless-head.pcap" => assert!(field("http_heads_too_large") > 0, "{name}: {s}"),
            "chunked-2e63.pcap" => {
                assert_eq!(field("conns"), 3, "{name}: {s}");
                assert_eq!(overflow_notes, 3, "{name}: one framing note per response");
            }
            _ => unreachable!(),
        }
    }
    eprintln!("{}", report.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
