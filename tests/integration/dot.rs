//! DNS over TLS (RFC 7858) opened with a key log: `captures/dot.pcap` (Python's ssl on
//! 127.0.0.1:853, ALPN "dot", TLS 1.3) with `captures/dot.keys`, against tshark's DNS view
//! with the same keys (`oracle/dot.pcap.keylog-dns.tsv`) and the client's own record of its
//! answers (`oracle/dot.pcap.client.tsv`).

use super::support::*;
use layerscope::app::keylog::KeyLog;
use layerscope::app::{AppEvent, DnsMessage};
use layerscope::capture::FileSource;
use layerscope::pipeline::{self, PipelineConfig};
use std::sync::Arc;

fn run(keys: Option<&str>) -> Collected {
    let mut config = PipelineConfig::default();
    config.app.keylog = keys.map(|k| Arc::new(KeyLog::from_text(k)));
    let mut source = FileSource::open(&project_dir().join("captures/dot.pcap")).unwrap();
    let mut c = Collected::default();
    pipeline::run(&mut source, config, &mut c).expect("sink never fails");
    c
}

fn dns(c: &Collected) -> Vec<&DnsMessage> {
    c.events
        .iter()
        .filter_map(|e| match e {
            AppEvent::Dns(d) => Some(d),
            _ => None,
        })
        .collect()
}

#[test]
fn dns_inside_tls_matches_tshark() {
    let keys = std::fs::read_to_string(project_dir().join("captures/dot.keys")).unwrap();
    let c = run(Some(&keys));
    let ours = dns(&c);
    let dir = project_dir().join("captures");
    let capture = dir.join("dot.pcap");
    let oracle = read_tsv(&oracle_file(&dir, &capture, "keylog-dns.tsv"));
    assert_eq!(oracle.len(), 6);
    assert_eq!(ours.len(), oracle.len(), "{ours:#?}");
    for r in &oracle {
        let frame: u64 = r["frame"].parse().unwrap();
        let id = u16::from_str_radix(r["id"].trim_start_matches("0x"), 16).unwrap();
        let response = r["response"] == "1";
        let d = ours
            .iter()
            .find(|d| d.id == id && d.response == response)
            .unwrap_or_else(|| panic!("no message {id:#x} response {response}"));
        assert_eq!(d.frame, frame, "{id:#x}");
        assert_eq!(d.qname, r["qname"]);
        let qtype = match r["qtype"].as_str() {
            "1" => "A",
            "28" => "AAAA",
            t => panic!("qtype {t}"),
        };
        assert_eq!(d.qtype, qtype);
        if response {
            let rcode = if r["rcode"] == "3" {
                "NXDOMAIN"
            } else {
                "NOERROR"
            };
            assert_eq!(d.rcode, rcode);
            assert_eq!(d.answers.len().to_string(), r["answers"]);
            assert!(d.latency_ms.is_some());
        }
        assert!(d.decrypted && d.tcp);
        assert!(
            c.frame(frame).layers.iter().any(|l| l == "dns"),
            "frame {frame}"
        );
    }
    // The client's own record agrees (ids, rcodes, answer counts).
    for r in read_tsv(&oracle_file(&dir, &capture, "client.tsv")) {
        let id: u16 = r["id"].parse().unwrap();
        let d = ours.iter().find(|d| d.id == id && d.response).unwrap();
        assert_eq!(d.answers.len().to_string(), r["answers"]);
        assert_eq!(d.rcode == "NXDOMAIN", r["rcode"] == "3");
    }
    // Without the key: no DNS, nothing pretends.
    assert!(dns(&run(None)).is_empty());
}
