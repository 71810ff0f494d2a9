//! QUIC Initial packets opened without keys: every QUIC ClientHello and ServerHello tshark
//! shows in `../shared/captures-encap/oracle/NAME.tls.tsv` (rows without a TCP stream) is
//! found as a `tls` record with the same type, server name, ALPN and version, reported no
//! later than tshark's frame (ours names the packet with the message's first byte, tshark
//! the one that completes it, and again for each retransmission).

use super::support::*;
use layerscope::app::{AppEvent, TlsKind};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// `../shared/captures-encap`, or None with a visible message (a failure under
/// `LAYERSCOPE_REQUIRE_SHARED=1`).
fn encap_captures(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LAYERSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_dir().join("../shared"))
        .join("captures-encap");
    if dir.join("oracle").is_dir() {
        return Some(dir);
    }
    if std::env::var("LAYERSCOPE_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!(
            "{test}: {} is missing and LAYERSCOPE_REQUIRE_SHARED=1",
            dir.display()
        );
    }
    eprintln!("SKIPPED {test}: {} not found", dir.display());
    None
}

type Hello = (u8, String, String, u16);

#[test]
fn quic_hellos_match_tshark() {
    let Some(dir) = encap_captures("quic_hellos_match_tshark") else {
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in captures_in(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let want: BTreeSet<Hello> = read_tsv(&oracle_file(&dir, &path, "tls.tsv"))
            .iter()
            .filter(|r| r["tcp_stream"].is_empty())
            .map(|r| {
                (
                    r["handshake_type"].parse().unwrap(),
                    r["sni"].clone(),
                    r["alpn"].split(',').next().unwrap_or("").to_string(),
                    u16::from_str_radix(r["version"].trim_start_matches("0x"), 16).unwrap(),
                )
            })
            .collect();
        if want.is_empty() {
            continue;
        }
        let ours = run_file(&path);
        let udp_decoded = ours
            .frames
            .iter()
            .any(|f| f.layers.iter().any(|l| l == "udp"));
        if !udp_decoded {
            eprintln!(
                "SKIPPED quic_hellos_match_tshark for {name}: its link type is not decoded yet"
            );
            continue;
        }
        checked += 1;
        let got: BTreeSet<Hello> = ours
            .events
            .iter()
            .filter_map(|e| match e {
                AppEvent::Tls(t) => match t.kind {
                    TlsKind::Handshake(k @ (1 | 2)) => Some((
                        k,
                        t.sni.clone().unwrap_or_default(),
                        if k == 1 {
                            t.alpn.first().cloned().unwrap_or_default()
                        } else {
                            String::new()
                        },
                        t.record_version,
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        for w in want.difference(&got) {
            failures.push(format!("{name}: tshark {w:?} not found; ours {got:?}"));
        }
        // The first hello of each type: ours no later than tshark's.
        for k in [1u8, 2] {
            let first = |frames: &mut dyn Iterator<Item = u64>| frames.min();
            let theirs = first(
                &mut read_tsv(&oracle_file(&dir, &path, "tls.tsv"))
                    .iter()
                    .filter(|r| r["tcp_stream"].is_empty() && r["handshake_type"] == k.to_string())
                    .map(|r| r["frame"].parse::<u64>().unwrap()),
            );
            let mine = first(&mut ours.events.iter().filter_map(|e| match e {
                AppEvent::Tls(t) if t.kind == TlsKind::Handshake(k) => Some(t.frame),
                _ => None,
            }));
            // tshark saw none (a one-packet capture has no ServerHello): nothing to find.
            if theirs.is_some() && (mine.is_none() || mine > theirs) {
                failures.push(format!(
                    "{name}: first hello {k} at {mine:?}, tshark {theirs:?}"
                ));
            }
        }
    }
    assert!(checked >= 6, "only {checked} QUIC captures checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The QUIC hellos name the connection in `--view conns` (tshark's tls.tsv for this capture:
/// ClientHello server name api.cirrus-ci.com, ALPN h3).
#[test]
fn quic_connections_are_named_by_their_hello() {
    let Some(dir) =
        super::support::shared_encap_captures("quic_connections_are_named_by_their_hello")
    else {
        return;
    };
    let out = assert_cmd::Command::new(super::support::bin())
        .arg("read")
        .arg(dir.join("zeek__chromium-115.0.5790.110-api-cirrus-com.pcap"))
        .args(["--view", "conns", "--width", "400", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("quic api.cirrus-ci.com (h3 offered)"),
        "{text}"
    );
}
