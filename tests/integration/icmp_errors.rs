//! ICMP errors linked to the connection of the packet they quote, against tshark: tshark
//! dissects the quoted header and puts the ICMP frame in that packet's `udp.stream` /
//! `tcp.stream` (oracle `frames.tsv`). Our `packet` record of such a frame names that
//! stream's connection as `quoted_conn`, and the connection's `conn` record counts the
//! errors (`icmp_errors`) while keeping Zeek's `conn_state`.

use super::support::*;
use std::collections::{BTreeMap, HashMap};

#[test]
fn icmp_errors_name_the_quoted_connection_as_tshark_does() {
    let mut checked = 0;
    for dir in oracle_corpora("icmp_errors_name_the_quoted_connection_as_tshark_does") {
        for capture in captures_in(&dir) {
            let oracle = read_tsv(&oracle_file(&dir, &capture, "frames.tsv"));
            // Stream → (frames of the stream's own packets, frames of ICMP errors quoting it).
            let mut streams: BTreeMap<String, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
            for row in &oracle {
                let p = &row["protocols"];
                let stream = match (row["udp_stream"].as_str(), row["tcp_stream"].as_str()) {
                    ("", "") => continue,
                    (u, "") => format!("udp {u}"),
                    (_, t) => format!("tcp {t}"),
                };
                let frame: u64 = row["frame"].parse().unwrap();
                let quoting = [":icmp:ip:", ":icmpv6:ipv6:"].iter().any(|k| p.contains(k));
                let e = streams.entry(stream).or_default();
                if quoting {
                    e.1.push(frame);
                } else if !p.contains(":icmp") {
                    e.0.push(frame);
                }
            }
            if streams.values().all(|(_, errors)| errors.is_empty()) {
                continue;
            }
            let records = json_records(&capture);
            let packets: HashMap<u64, &serde_json::Value> = records
                .iter()
                .filter(|r| r["type"] == "packet")
                .map(|r| (r["frame"].as_u64().unwrap(), r))
                .collect();
            let conns: HashMap<u64, &serde_json::Value> = records
                .iter()
                .filter(|r| r["type"] == "conn")
                .map(|r| (r["id"].as_u64().unwrap(), r))
                .collect();
            for (stream, (own, errors)) in &streams {
                let (Some(first), false) = (own.first(), errors.is_empty()) else {
                    continue;
                };
                let conn = packets[first]["conn"].as_u64().unwrap();
                for e in errors {
                    assert_eq!(
                        packets[e]["quoted_conn"].as_u64(),
                        Some(conn),
                        "{} frame {e} ({stream})",
                        capture.display()
                    );
                    assert_ne!(packets[e]["conn"].as_u64(), Some(conn));
                    checked += 1;
                }
                let c = conns[&conn];
                assert_eq!(c["icmp_errors"]["count"], errors.len() as u64);
                assert_eq!(c["icmp_errors"]["last"]["frame"], *errors.last().unwrap());
                // Zeek's conn_state of a datagram flow nobody answered (the errors are not
                // the responder's packets).
                if stream.starts_with("udp") && own.iter().all(|f| packets[f]["dir"] == "to_server")
                {
                    assert_eq!(c["conn_state"], "S0", "{} {stream}", capture.display());
                }
            }
        }
    }
    if checked == 0 {
        skipped("icmp_errors: no capture with ICMP errors quoting a stream (../shared missing?)");
    } else {
        // mpls-traceroute.pcap: 6 TTL exceeded and 3 port unreachable.
        assert!(checked >= 9, "{checked}");
    }
}
