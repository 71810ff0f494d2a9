//! `explain --frame N` on QUIC packets opened with a key log: every Handshake and 1-RTT
//! packet of every frame of `captures/quic-h3.pcap`, its packet number, key phase and the
//! frames inside, against tshark's reading with the same key log
//! (`captures/oracle/quic-h3.pcap.keylog-quic-packets.tsv`, written by
//! `captures/oracle-keylog-frames.sh`); without the key log, and with a log that lacks a
//! secret, what is missing.

use super::support::*;

fn explain(frame: u64, keys: Option<&std::path::Path>) -> String {
    let mut cmd = assert_cmd::Command::new(bin());
    cmd.arg("explain")
        .arg(project_dir().join("captures/quic-h3.pcap"))
        .args(["--frame", &frame.to_string(), "--color", "never"]);
    if let Some(k) = keys {
        cmd.arg("--keylog").arg(k);
    }
    let text = stdout_of(&mut cmd);
    match text.find("Inside QUIC") {
        Some(i) => text[i..].to_string(),
        None => String::new(),
    }
}

/// RFC 9000 §19 frame type code of a frame as `explain` names it.
fn type_matches(code: u64, name: &str) -> bool {
    let word = name.split(' ').next().unwrap();
    match code {
        0x00 => word == "PADDING",
        0x02 | 0x03 => word == "ACK",
        0x06 => word == "CRYPTO",
        0x08..=0x0f => word == "STREAM",
        0x18 => word == "NEW_CONNECTION_ID",
        0x1c | 0x1d => word == "CONNECTION_CLOSE",
        0x1e => word == "HANDSHAKE_DONE",
        _ => false,
    }
}

#[test]
fn every_opened_packet_matches_tshark() {
    let keys = project_dir().join("captures/quic-h3.keys");
    let rows =
        read_tsv(&project_dir().join("captures/oracle/quic-h3.pcap.keylog-quic-packets.tsv"));
    assert_eq!(rows.len(), 36);
    let list = |s: &str| -> Vec<u64> {
        s.split(',')
            .filter(|v| !v.is_empty())
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let mut checked = 0;
    for r in &rows {
        let frame: u64 = r["frame"].parse().unwrap();
        let long = list(&r["long_packet_types"]);
        let pns = list(&r["packet_numbers"]);
        // tshark's Handshake (type 2) and short-header packets: those explain opens.
        let mut want: Vec<u64> = long
            .iter()
            .zip(&pns)
            .filter(|(t, _)| **t == 2)
            .map(|(_, pn)| *pn)
            .collect();
        let short = pns.len() - long.len();
        want.extend(&pns[long.len()..]);
        let text = explain(frame, Some(&keys));
        let got: Vec<u64> = text
            .match_indices("(packet number ")
            .map(|(i, m)| {
                let rest = &text[i + m.len()..];
                rest[..rest.find([',', ')']).unwrap()].parse().unwrap()
            })
            .collect();
        assert_eq!(got, want, "frame {frame}:\n{text}");
        assert!(!text.contains("not opened"), "frame {frame}:\n{text}");
        // Key phase 0 throughout (tshark), on every short-header packet.
        assert_eq!(text.matches("key phase 0").count(), short, "frame {frame}");
        // Frames in order, where the frame holds no Initial (whose frames tshark lists in
        // the same column).
        if long.is_empty() {
            let types = list(&r["frame_types"]);
            let names: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("frames: "))
                .flat_map(|l| l.split("; "))
                .collect();
            assert_eq!(names.len(), types.len(), "frame {frame}:\n{text}");
            for (code, name) in types.iter().zip(&names) {
                assert!(type_matches(*code, name), "frame {frame}: {code} vs {name}");
            }
        }
        checked += want.len();
    }
    assert!(checked >= 36, "{checked} packets checked");
    // Frame 7: the response to GET /index.html, its 51-byte STREAM frame on stream 0
    // (tshark: quic.stream.length 51) whose plaintext ends with the body.
    let text = explain(7, Some(&keys));
    assert!(
        text.contains(
            "opened with SERVER_TRAFFIC_SECRET_0 from the key log (packet number 5, key phase 0)"
        ),
        "{text}"
    );
    assert!(
        text.contains("frames: STREAM 0 offset 0, 51 bytes, FIN"),
        "{text}"
    );
    assert!(text.contains("hello from /inde"), "{text}");
    // Frame 2: the server's Handshake packet, opened with its handshake secret.
    let text = explain(2, Some(&keys));
    assert!(text.contains("Handshake (long header)"), "{text}");
    assert!(
        text.contains(
            "opened with SERVER_HANDSHAKE_TRAFFIC_SECRET from the key log (packet number 1)"
        ),
        "{text}"
    );
}

#[test]
fn without_a_secret_it_says_which_is_missing() {
    let text = explain(7, None);
    assert!(text.contains("--keylog FILE"), "{text}");
    // A log without the server's traffic secret.
    let keys = std::fs::read_to_string(project_dir().join("captures/quic-h3.keys")).unwrap();
    let lacking: String = keys
        .lines()
        .filter(|l| !l.starts_with("SERVER_TRAFFIC_SECRET_0"))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = std::env::temp_dir().join(format!("layerscope-quic-keys-{}", std::process::id()));
    std::fs::write(&path, lacking).unwrap();
    let text = explain(7, Some(&path));
    let _ = std::fs::remove_file(&path);
    assert!(
        text.contains("not opened: the key log has no SERVER_TRAFFIC_SECRET_0"),
        "{text}"
    );
    // A log of another capture: no secret for this client random (f88493a3…, the
    // random the key log of the recording is indexed by).
    let text = explain(7, Some(&project_dir().join("captures/tls-keylog.keys")));
    assert!(
        text.contains(
            "not opened: no SERVER_TRAFFIC_SECRET_0 in the key log for client random f88493a3…"
        ),
        "{text}"
    );
}
