//! Live capture end to end on the loopback interface: a real HTTP server and client on
//! 127.0.0.1 in this test, `layerscope live lo` capturing them. Needs CAP_NET_RAW (root):
//! without it the tests say SKIPPED, unless LAYERSCOPE_REQUIRE_LIVE=1 (CI), which fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn can_capture(test: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let cap_eff = status
        .lines()
        .find(|l| l.starts_with("CapEff:"))
        .and_then(|l| u64::from_str_radix(l.split_whitespace().nth(1)?, 16).ok())
        .unwrap_or(0);
    if cap_eff & (1 << 13) != 0 {
        return true;
    }
    if std::env::var("LAYERSCOPE_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("{test}: needs CAP_NET_RAW (root) and LAYERSCOPE_REQUIRE_LIVE=1");
    }
    super::support::skipped(&format!("{test}: live capture needs root (CAP_NET_RAW)"));
    false
}

/// An HTTP/1.1 server answering every request on a connection with a fixed body.
fn serve(listener: TcpListener) {
    thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let mut served = 0;
            while served < 2 {
                match conn.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    buf.drain(..end + 4);
                    let _ = conn.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello live\n",
                    );
                    served += 1;
                }
            }
            // The client closes first; then we close.
            let _ = conn.read(&mut chunk);
        }
    });
}

/// Runs `layerscope live lo …` around two requests on one keep-alive connection and
/// returns its JSON records.
fn capture_exchange(extra: &[&str]) -> Vec<serde_json::Value> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let filter = format!("tcp port {port}");
    let mut child = Command::new(super::support::bin())
        .args([
            "live",
            "lo",
            "--filter",
            &filter,
            "--duration",
            "4",
            "--format",
            "json",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it listens.
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let start = Instant::now();
    while !line.contains("listening on lo") {
        line.clear();
        if err.read_line(&mut line).unwrap() == 0 || start.elapsed() > Duration::from_secs(10) {
            panic!("layerscope did not start listening: {line}");
        }
    }
    let err_rest = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    serve(listener);
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut got = Vec::new();
    for path in ["/one", "/two"] {
        write!(
            client,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
        )
        .unwrap();
        let mut buf = [0u8; 256];
        let mut response = Vec::new();
        while !response.ends_with(b"hello live\n") {
            let n = client.read(&mut buf).unwrap();
            assert!(n > 0, "server closed early");
            response.extend_from_slice(&buf[..n]);
        }
        got.push(response);
    }
    drop(client);
    let out = child.wait_with_output().unwrap();
    let stderr = err_rest.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("packets received"), "{stderr}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn check_exchange(records: &[serde_json::Value]) {
    let conns: Vec<_> = records.iter().filter(|r| r["type"] == "conn").collect();
    assert_eq!(conns.len(), 1, "{conns:?}");
    let c = conns[0];
    assert_eq!(c["handshake"]["complete"], true, "{c}");
    assert_eq!(c["conn_state"], "SF", "{c}");
    assert_eq!(c["teardown"]["kind"], "fin");
    assert_eq!(c["teardown"]["initiator"], "client");
    assert_eq!(c["http"]["requests"], 2);
    assert_eq!(c["http"]["responses"], 2);
    let packets: Vec<_> = records.iter().filter(|r| r["type"] == "packet").collect();
    let steps: Vec<&str> = packets.iter().filter_map(|p| p["step"].as_str()).collect();
    assert_eq!(
        &steps[..3],
        ["handshake 1/3", "handshake 2/3", "handshake 3/3"]
    );
    assert_eq!(steps.first(), Some(&"handshake 1/3"));
    assert_eq!(steps.last(), Some(&"teardown 4/4"), "{steps:?}");
    assert!(steps.contains(&"teardown 1/4"));
    // Every packet seen once: SYN, SYN-ACK with ack = client ISN + 1.
    let syn = &packets[0]["tcp"];
    let synack = &packets[1]["tcp"];
    assert_eq!(syn["flags"], serde_json::json!(["SYN"]));
    assert_eq!(synack["flags"], serde_json::json!(["SYN", "ACK"]));
    assert_eq!(
        synack["ack_abs"].as_u64().unwrap(),
        (syn["seq_abs"].as_u64().unwrap() + 1) % (1 << 32)
    );
    let http: Vec<_> = records.iter().filter(|r| r["type"] == "http").collect();
    let got: Vec<(String, u64)> = http
        .iter()
        .map(|h| {
            (
                h["uri"].as_str().unwrap().to_string(),
                h["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![("/one".to_string(), 200), ("/two".to_string(), 200)]
    );
}

#[test]
fn live_capture_on_loopback_follows_handshake_http_and_teardown() {
    if !can_capture("live_capture_on_loopback_follows_handshake_http_and_teardown") {
        return;
    }
    check_exchange(&capture_exchange(&[]));
}

/// `live … --report OUT`: the HTML report is written when the capture stops, with the same
/// connection and packets as the JSON records of the same run.
#[test]
fn live_capture_writes_the_html_report() {
    if !can_capture("live_capture_writes_the_html_report") {
        return;
    }
    let out = std::env::temp_dir().join(format!(
        "layerscope-live-report-{}.html",
        std::process::id()
    ));
    let path = out.to_string_lossy().into_owned();
    let records = capture_exchange(&["--report", &path, "--no-drop-privileges"]);
    check_exchange(&records);
    let html = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    let frames: std::collections::BTreeSet<u64> = records
        .iter()
        .filter(|r| r["type"] == "packet")
        .map(|r| r["frame"].as_u64().unwrap())
        .collect();
    // Every frame has its row in the tables' data (the page draws them from it).
    let doc = super::report::parse(&html);
    let rows: std::collections::BTreeSet<u64> = super::report::packet_tables(&doc)
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r[0].as_u64().unwrap()))
        .collect();
    assert_eq!(rows, frames, "the report's rows are the captured frames");
    assert!(html.contains("data-conn=\"0\""));
    assert!(html.contains("GET") && html.contains("/one") && html.contains("/two"));
}

#[cfg(feature = "libpcap")]
#[test]
fn live_capture_with_libpcap_backend() {
    if !can_capture("live_capture_with_libpcap_backend") {
        return;
    }
    check_exchange(&capture_exchange(&["--backend", "libpcap"]));
}

#[test]
fn live_unknown_interface_lists_the_real_ones() {
    let out = Command::new(super::support::bin())
        .args(["live", "nosuch0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no interface named \"nosuch0\"") && err.contains("lo"),
        "{err}"
    );
}

#[test]
fn live_bad_filter_points_at_the_token() {
    let out = Command::new(super::support::bin())
        .args(["live", "lo", "--filter", "tcp port 80 and ("])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad filter"), "{err}");
    assert!(err.contains("tcp port 80 and (\n"), "{err}");
    assert!(err.trim_end().ends_with('^'), "{err}");
}

#[test]
fn live_not_permitted_says_what_to_run() {
    // Run as `nobody` (needs root to switch, and setpriv from util-linux).
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    let is_root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !setpriv.exists() || !is_root {
        if std::env::var("LAYERSCOPE_REQUIRE_LIVE").as_deref() == Ok("1") {
            panic!("live_not_permitted_says_what_to_run needs root and setpriv");
        }
        super::support::skipped("live_not_permitted_says_what_to_run: needs root and setpriv");
        return;
    }
    let bin = super::support::bin();
    let out = Command::new(setpriv)
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&bin)
        .args(["live", "lo", "--count", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("Permission denied") && err.contains("setpriv") {
        super::support::skipped(&format!(
            "live_not_permitted_says_what_to_run: nobody cannot run {}",
            bin.display()
        ));
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("capturing on lo needs CAP_NET_RAW: run as root, or grant it once with sudo setcap cap_net_raw,cap_net_admin=eip"),
        "{err}"
    );
}

/// `read --backend libpcap`: libpcap reads the file and applies the filter as BPF; the
/// frames it keeps agree with the built-in reader plus the userspace filter.
#[cfg(feature = "libpcap")]
#[test]
fn libpcap_file_reader_applies_the_filter() {
    let file = super::support::project_dir().join("captures/http10-close.pcap");
    let run = |backend: &str| -> Vec<(u64, String)> {
        let out = Command::new(super::support::bin())
            .arg("read")
            .arg(&file)
            .args(["--backend", backend, "-f", "tcp[tcpflags] & tcp-syn != 0"])
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|r| r["type"] == "packet")
            .map(|r| {
                (
                    r["conn"].as_u64().unwrap(),
                    r["step"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // SYN and SYN-ACK of both connections (tcpdump -r … 'tcp[tcpflags] & tcp-syn != 0':
    // frames 1, 2, 13, 14).
    let want: Vec<(u64, String)> = vec![
        (0, "handshake 1/3".into()),
        (0, "handshake 2/3".into()),
        (1, "handshake 1/3".into()),
        (1, "handshake 2/3".into()),
    ];
    assert_eq!(run("libpcap"), want);
    assert_eq!(run("builtin"), want);
}
