//! `--max-tls-record BYTES`, the TLS decryption buffer (one record per direction): a record
//! longer than it is not opened and ends its direction's decryption, counted in
//! `summary.tls_decryption.records_cut` and the table's closing line. The expected counts
//! come from tshark's record lengths of `captures/tls-keylog.pcap`
//! (`oracle/tls-keylog.pcap.records.tsv`, written by `captures/oracle-keylog-frames.sh`):
//! per direction, the records a key log opens (TLS 1.3: every encrypted record, opaque
//! type 23; TLS 1.2: those after the sender's ChangeCipherSpec) up to the first one
//! longer than the cap.

use super::support::*;
use std::collections::BTreeMap;

/// One direction's records in wire order (type, length, TLS 1.3 encrypted), by (tcp
/// stream, sender port).
type Directions = BTreeMap<(String, String), Vec<(usize, usize, bool)>>;

/// (records opened, records cut) with buffer `cap`, from tshark's records.
fn expected(cap: usize) -> (u64, u64) {
    let rows = read_tsv(&project_dir().join("captures/oracle/tls-keylog.pcap.records.tsv"));
    assert!(rows.len() > 60);
    let numbers = |cell: &str| -> Vec<usize> {
        cell.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let mut dirs = Directions::new();
    for r in &rows {
        let plain = numbers(&r["content_types"]);
        let opaque = numbers(&r["opaque_types"]);
        let lengths = numbers(&r["lengths"]);
        assert_eq!(
            plain.len() + opaque.len(),
            lengths.len(),
            "frame {}",
            r["frame"]
        );
        let types = plain
            .iter()
            .map(|&t| (t, false))
            .chain(opaque.iter().map(|&t| (t, true)));
        let dir = dirs
            .entry((r["tcp_stream"].clone(), r["src_port"].clone()))
            .or_default();
        for ((t, enc), len) in types.zip(lengths) {
            dir.push((t, len, enc));
        }
    }
    let tls13: Vec<&String> = dirs
        .iter()
        .filter(|(_, recs)| recs.iter().any(|r| r.2))
        .map(|((stream, _), _)| stream)
        .collect();
    let (mut opened, mut cut) = (0, 0);
    for ((stream, _), recs) in &dirs {
        let mut after_ccs = false;
        for &(t, len, _) in recs {
            let collected = if tls13.contains(&stream) {
                t == 23
            } else {
                let c = after_ccs && t != 20;
                after_ccs |= t == 20;
                c
            };
            if !collected {
                continue;
            }
            if len > cap {
                cut += 1;
                break;
            }
            opened += 1;
        }
    }
    (opened, cut)
}

fn keys() -> std::path::PathBuf {
    project_dir().join("captures/tls-keylog.keys")
}

fn summary(cap: Option<usize>) -> serde_json::Value {
    let cap = cap.map(|c| c.to_string());
    let mut args = vec!["--format", "json"];
    if let Some(c) = &cap {
        args.extend(["--max-tls-record", c.as_str()]);
    }
    let text = read_own_capture("tls-keylog.pcap", Some(&keys()), &args);
    let last = text.lines().last().unwrap();
    serde_json::from_str::<serde_json::Value>(last).unwrap()["tls_decryption"].clone()
}

#[test]
fn a_smaller_decryption_buffer_cuts_and_counts() {
    // The default, the protocol's maximum record, opens every record.
    let (all, none) = expected(layerscope::app::MAX_RECORD_BODY);
    assert_eq!((all, none), (76, 0));
    let d = summary(None);
    assert_eq!(
        (d["records_opened"].as_u64(), d["records_cut"].as_u64()),
        (Some(all), Some(0))
    );
    for cap in [100, 200, 500, 1000] {
        let (opened, cut) = expected(cap);
        let d = summary(Some(cap));
        assert_eq!(
            (d["records_opened"].as_u64(), d["records_cut"].as_u64()),
            (Some(opened), Some(cut)),
            "--max-tls-record {cap}"
        );
    }
    assert_eq!(expected(200).1, 5);
    // The table's closing line says it.
    let text = read_own_capture(
        "tls-keylog.pcap",
        Some(&keys()),
        &["--max-tls-record", "200", "--color", "never"],
    );
    assert!(
        text.contains("5 TLS records over the decryption buffer (--max-tls-record)"),
        "{text}"
    );
}
