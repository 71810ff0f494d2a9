//! QUIC 0-RTT with a key log: `captures/quic-0rtt.pcap` (aioquic, `record-quic-0rtt.sh`),
//! whose second connection resumes and sends `GET /early` in a 0-RTT packet (frame 12,
//! coalesced after the Initial with the ClientHello, before any ServerHello), against
//! tshark's view with the same key log (`oracle/quic-0rtt.pcap.keylog-quic.tsv`: packet
//! types and numbers per frame) and the client's own record of its requests
//! (`oracle/quic-0rtt.pcap.client.tsv`).

use super::support::*;

fn run(keys: &std::path::Path) -> Vec<serde_json::Value> {
    read_own_capture("quic-0rtt.pcap", Some(keys), &["--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn requests(records: &[serde_json::Value]) -> Vec<(u64, u64, String, String, u64)> {
    records
        .iter()
        .filter(|r| r["type"] == "http")
        .map(|r| {
            (
                r["conn"].as_u64().unwrap(),
                r["request_frame"].as_u64().unwrap_or(0),
                r["method"].as_str().unwrap_or("").to_string(),
                r["uri"].as_str().unwrap_or("").to_string(),
                r["status"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn zero_rtt_packets_open_with_the_early_secret() {
    let dir = project_dir().join("captures");
    let tshark = read_tsv(&dir.join("oracle/quic-0rtt.pcap.keylog-quic.tsv"));
    let count = |cell: &str, what: Option<&str>| {
        cell.split(',')
            .filter(|s| !s.is_empty() && what.is_none_or(|w| *s == w))
            .count() as u64
    };
    // Packets tshark opened with the key log: every packet number it read but the
    // Initials' (opened without keys).
    let numbers: u64 = tshark
        .iter()
        .map(|r| count(&r["packet_numbers"], None))
        .sum();
    let initials: u64 = tshark
        .iter()
        .map(|r| count(&r["long_packet_types"], Some("0")))
        .sum();
    let zero_rtt: Vec<&str> = tshark
        .iter()
        .filter(|r| count(&r["long_packet_types"], Some("1")) > 0)
        .map(|r| r["frame"].as_str())
        .collect();
    assert_eq!(zero_rtt, ["12"]);
    let row12 = tshark.iter().find(|r| r["frame"] == "12").unwrap();
    assert_eq!(
        row12["stream_ids"], "0",
        "the 0-RTT packet carries request stream 0"
    );

    let records = run(&dir.join("quic-0rtt.keys"));
    let summary = records.last().unwrap();
    let d = &summary["tls_decryption"];
    assert_eq!(d["quic_packets_opened"].as_u64(), Some(numbers - initials));
    assert_eq!(d["quic_packets_not_opened"].as_u64(), Some(0));
    // The requests as the client made them, the second one read from the 0-RTT packet.
    let client = read_tsv(&dir.join("oracle/quic-0rtt.pcap.client.tsv"));
    assert_eq!(client.len(), 2);
    assert_eq!(client[1]["early_data_accepted"], "True");
    let got = requests(&records);
    let want: Vec<(u64, u64, String, String, u64)> = client
        .iter()
        .zip([7, 12])
        .map(|(c, frame)| {
            (
                c["conn"].parse::<u64>().unwrap() - 1,
                frame,
                c["method"].clone(),
                c["uri"].clone(),
                c["status"].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // Frame 12's row: its Initial, then the 0-RTT packet's HTTP/3 HEADERS on stream 0.
    let p12 = records
        .iter()
        .find(|r| r["type"] == "packet" && r["frame"] == 12)
        .unwrap();
    let layers: Vec<&str> = p12["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(layers.last(), Some(&"http3"));
    assert_eq!(p12["app_frames"][0]["type"], "HEADERS");
    assert_eq!(p12["app_frames"][0]["stream"], 0);

    // Without the early secret the 0-RTT packet stays closed: one packet not opened and
    // no /early request read (its response alone, on stream 0, is reported).
    let keys = std::fs::read_to_string(dir.join("quic-0rtt.keys")).unwrap();
    let without: String = keys
        .lines()
        .filter(|l| !l.starts_with("CLIENT_EARLY_TRAFFIC_SECRET"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without.lines().count() + 1, keys.lines().count());
    let path = std::env::temp_dir().join(format!("layerscope-0rtt-{}.keys", std::process::id()));
    std::fs::write(&path, without).unwrap();
    let records = run(&path);
    let _ = std::fs::remove_file(&path);
    let d = &records.last().unwrap()["tls_decryption"];
    assert_eq!(
        d["quic_packets_opened"].as_u64(),
        Some(numbers - initials - 1)
    );
    assert_eq!(d["quic_packets_not_opened"].as_u64(), Some(1));
    assert!(!requests(&records).iter().any(|r| r.3 == "/early"));
}
