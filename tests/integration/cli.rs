//! The binary as a user runs it: exit codes, error messages, JSON Lines, views.

use super::support::*;
use assert_cmd::Command;

fn layerscope() -> Command {
    Command::new(super::support::bin())
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

#[test]
fn follow_prints_both_directions_and_writes_raw_bytes() {
    let dir = std::env::temp_dir().join(format!("layerscope-follow-{}", std::process::id()));
    let out = layerscope()
        .arg("follow")
        .arg(project_dir().join("captures/http11-keepalive.pcap"))
        .args(["--conn", "0", "--color", "never", "--raw"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("── client → server (frame 4) ──\nGET /a HTTP/1.1\\r\\n\n"),
        "{text}"
    );
    assert!(text.contains("── server → client (frame 6) ──\nHTTP/1.1 200 OK\\r\\n\n"));
    assert!(text.contains("[FIN: the client has no more to send (frame 20)]"));
    assert!(text
        .ends_with("── end of conn 0: 243 bytes client → server, 3239 bytes server → client ──\n"));
    // Byte counts are the relative seq of each FIN minus 1 (tshark: client FIN seq 244,
    // server FIN seq 3240).
    let up = std::fs::read(dir.join("conn-0-client-to-server.bin")).unwrap();
    let down = std::fs::read(dir.join("conn-0-server-to-client.bin")).unwrap();
    assert_eq!((up.len(), down.len()), (243, 3239));
    assert!(up.starts_with(b"GET /a HTTP/1.1\r\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn read_from_stdin() {
    let bytes = std::fs::read(project_dir().join("captures/refused.pcap")).unwrap();
    let out = layerscope()
        .args(["read", "-", "--format", "json"])
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"step\":\"refused (RST)\""), "{text}");
    assert!(text.contains("\"conn_state\":\"REJ\""));
}

#[test]
fn file_cut_inside_a_packet_shows_what_came_before_and_warns() {
    let mut bytes = std::fs::read(project_dir().join("captures/http11-keepalive.pcap")).unwrap();
    bytes.truncate(bytes.len() - 30); // inside frame 22 (66 bytes + 16-byte record header)
    let out = layerscope()
        .args(["read", "-", "--format", "json"])
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("after packet 21"),
        "{err}"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["truncated"], true);
    assert_eq!(last["frames"], 21);
}

#[test]
fn closed_pipe_exits_0_quietly() {
    use std::io::Read;
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(super::support::bin())
        .arg("read")
        .arg(project_dir().join("captures/http11-keepalive.pcap"))
        .args(["--view", "packets", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completions_and_man_page_generate() {
    for shell in ["bash", "zsh", "fish"] {
        let out = layerscope().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("layerscope"));
    }
    let out = layerscope().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(".ie"));
}

#[test]
fn man_page_renders_with_man() {
    let out = layerscope().arg("man").output().unwrap();
    let page = out.stdout;
    let man = std::path::Path::new("/usr/bin/man");
    if !man.exists() {
        super::support::skipped(
            "man_page_renders_with_man: no /usr/bin/man here (the roff was checked above)",
        );
        return;
    }
    let dir = std::env::temp_dir().join(format!("layerscope-man-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("layerscope.1");
    std::fs::write(&file, &page).unwrap();
    let out = std::process::Command::new(man)
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("layerscope"), "{text}");
    assert!(text.contains("read"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn version_names_the_backends() {
    let out = layerscope().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("layerscope 0.1.0 ("), "{text}");
    let libpcap = if cfg!(feature = "libpcap") {
        "libpcap backend: yes"
    } else {
        "libpcap backend: no"
    };
    assert!(text.contains(libpcap), "{text}");
}

#[test]
fn doctor_reports_and_changes_nothing() {
    let out = layerscope().arg("doctor").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("live capture backends: AF_PACKET via pnet"),
        "{text}"
    );
    assert!(
        text.contains("interfaces:") && text.contains("lo"),
        "{text}"
    );
    assert!(text.contains("verdict:"), "{text}");
    assert!(text.contains("changes nothing"), "{text}");
    let can = text.contains("can open a capture socket: yes");
    assert_eq!(
        can,
        text.contains("verdict: this user can capture live"),
        "{text}"
    );
    if !can {
        assert!(
            text.contains("sudo setcap cap_net_raw,cap_net_admin=eip"),
            "{text}"
        );
    }
}

/// The subcommands that print for a person, each with the arguments that pick something
/// to show in captures/http11-keepalive.pcap.
const DISPLAY_COMMANDS: [(&str, &[&str]); 4] = [
    ("read", &[]),
    ("explain", &["--frame", "2"]),
    ("ladder", &["--conn", "0"]),
    ("follow", &["--conn", "0"]),
];

fn display_run(command: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let extra = DISPLAY_COMMANDS
        .iter()
        .find(|(c, _)| *c == command)
        .map(|(_, a)| *a)
        .unwrap_or_default();
    let mut cmd = layerscope();
    cmd.arg(command)
        .arg(project_dir().join("captures/http11-keepalive.pcap"))
        .args(extra)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{command} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn colour_follows_flags_and_environment() {
    for (command, _) in DISPLAY_COMMANDS {
        let coloured =
            |args: &[&str], env: &[(&str, &str)]| display_run(command, args, env).contains('\x1b');
        // Not a terminal: no colour by default.
        assert!(!coloured(&[], &[]), "{command}");
        assert!(coloured(&["--color", "always"], &[]), "{command}");
        assert!(coloured(&[], &[("CLICOLOR_FORCE", "1")]), "{command}");
        assert!(
            !coloured(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
            "{command}"
        );
        assert!(
            !coloured(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]),
            "{command}"
        );
    }
}

#[test]
fn every_display_command_fits_width() {
    for (command, _) in DISPLAY_COMMANDS {
        for width in [60usize, 100] {
            let text = display_run(command, &["--width", &width.to_string()], &[]);
            let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            assert!(
                widest <= width,
                "{command} --width {width}: {widest} columns"
            );
            assert!(
                widest > width / 2,
                "{command} --width {width}: {widest} columns"
            );
        }
    }
    // follow folds a 79-byte request at 40 columns, marking each fold.
    let text = display_run("follow", &["--width", "40"], &[]);
    assert!(
        text.contains("User-Agent: curl/7.88.1\\r\\n"),
        "short lines stay whole: {text}"
    );
    assert!(text.contains("↩\n"), "{text}");
}

#[test]
fn every_display_command_takes_the_time_format() {
    // tshark -r captures/http11-keepalive.pcap -t ud: frame 1 20:17:33.540498, frame 2
    // 20:17:33.540514, frame 4 20:17:33.540569 (UTC); -t r: frame 4 0.000071.
    let read = display_run(
        "read",
        &["--view", "packets", "--time-format", "absolute"],
        &[],
    );
    assert!(read.contains("20:17:33.540514"), "{read}");
    let explain = display_run("explain", &["--time-format", "absolute"], &[]);
    assert!(explain.contains("at 20:17:33.540514 UTC"), "{explain}");
    let explain = display_run("explain", &["--time-format", "epoch"], &[]);
    assert!(
        explain.contains("at 1795637853.540514 s since"),
        "{explain}"
    );
    let ladder = display_run("ladder", &["--time-format", "absolute"], &[]);
    assert!(
        ladder.contains("20:17:33.540498     1 │──SYN seq=0"),
        "{ladder}"
    );
    let ladder = display_run("ladder", &[], &[]);
    assert!(ladder.contains(" 0.000016     2 │◀─ SYN+ACK"), "{ladder}");
    let follow = display_run("follow", &["--time-format", "relative"], &[]);
    assert!(
        follow.starts_with("── client → server (frame 4, 0.000071 s) ──\n"),
        "{follow}"
    );
    let follow = display_run("follow", &[], &[]);
    assert!(
        follow.starts_with("── client → server (frame 4) ──\n"),
        "{follow}"
    );
}

#[test]
fn live_takes_the_display_flags() {
    // Parsing only (capturing needs root; tests/integration/live.rs captures): the flags are
    // the same group as read's, so clap accepts them before the interface is opened.
    let out = layerscope().args(["live", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--color", "--width", "--time-format"] {
        assert!(help.contains(flag), "live --help lacks {flag}: {help}");
    }
    let out = layerscope()
        .args([
            "live",
            "no-such-interface-xyz",
            "--color",
            "never",
            "--width",
            "100",
            "--time-format",
            "epoch",
            "-c",
            "1",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("unexpected argument"), "{err}");
    assert!(err.contains("no-such-interface-xyz"), "{err}");
}

#[test]
fn time_formats_like_tshark() {
    let times = |fmt: &str| -> Vec<String> {
        let out = layerscope()
            .arg("read")
            .arg(project_dir().join("captures/refused.pcap"))
            .args(["--view", "packets", "--time-format", fmt])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .skip(1)
            .take(2)
            .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
            .collect()
    };
    // tshark -r captures/refused.pcap -t r / -t dd / -t e: frame 2 is 12 µs after frame 1.
    assert_eq!(times("relative"), ["0.000000", "0.000012"]);
    assert_eq!(times("delta"), ["0.000000", "0.000012"]);
    let epoch = times("epoch");
    assert!(
        epoch[0].starts_with("17") && epoch[0].len() == 17,
        "{epoch:?}"
    );
    let abs = times("absolute");
    assert_eq!(abs[0].len(), 15, "{abs:?}");
    assert_eq!(&abs[0][2..3], ":");
}

#[test]
fn completion_scripts_parse_in_their_shells() {
    for (shell, check) in [("bash", "-n"), ("zsh", "-n"), ("fish", "--no-execute")] {
        let out = layerscope().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let Ok(path) = which(shell) else {
            super::support::skipped(&format!("parsing the {shell} completions: no {shell} here"));
            continue;
        };
        let file = std::env::temp_dir().join(format!(
            "layerscope-completion-{}.{shell}",
            std::process::id()
        ));
        std::fs::write(&file, &out.stdout).unwrap();
        let status = std::process::Command::new(path)
            .arg(check)
            .arg(&file)
            .status()
            .unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(
            status.success(),
            "{shell} {check} rejects the completion script"
        );
    }
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        })
        .ok_or(())
}

/// `--max-lingering` bounds the closed connections kept whole for late packets. With 0
/// each ends as it closes: `captures/tls-keylog.pcap` has 7 TCP connections, each ended
/// by FINs both ways (streams 0, 2, 4, 5, 6) or a RST (1, 3) as tshark's frames show, so
/// all 7 are cut; the packets, with no late packet among them, are as by default, and so
/// are the connections' records (only the time they are written could differ).
#[test]
fn max_lingering_cuts_each_closed_connection_when_0() {
    let capture = project_dir().join("captures/tls-keylog.pcap");
    let run = |extra: &[&str]| {
        let out = stdout_of(
            layerscope()
                .arg("read")
                .arg(&capture)
                .args(["--format", "json"])
                .args(extra),
        );
        let records: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let of = |kind: &str| -> Vec<serde_json::Value> {
            records
                .iter()
                .filter(|r| r["type"] == kind)
                .cloned()
                .collect()
        };
        (of("packet"), of("conn"), of("summary").remove(0))
    };
    let (packets, mut conns, summary) = run(&[]);
    let (cut_packets, mut cut_conns, cut_summary) = run(&["--max-lingering", "0"]);
    assert_eq!(summary.get("lingers_cut"), None, "{summary}");
    assert_eq!(cut_summary["lingers_cut"], 7, "{cut_summary}");
    assert_eq!(cut_packets, packets);
    conns.sort_by_key(|c| c["id"].as_u64());
    cut_conns.sort_by_key(|c| c["id"].as_u64());
    assert_eq!(cut_conns, conns);
    let reasons: Vec<&str> = conns
        .iter()
        .map(|c| c["end_reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["Closed", "Reset", "Closed", "Reset", "Closed", "Closed", "Closed"]
    );
}
