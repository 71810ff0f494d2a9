//! Test-only: compares decoded layer stacks with tshark's (`oracle/NAME.frames.tsv`) on the
//! shared captures. Run with `cargo test --lib decode::oracle_check -- --ignored --nocapture`.

use super::{Decoder, LayerName};
use crate::capture::{LinkType, RawFrame, Timestamp};
use pcap_parser::pcapng::Block;
use pcap_parser::{Capture, PcapBlock, PcapCapture, PcapNGCapture};

const DIR: &str = "/work/shared/captures";
const COUNTED: [&str; 11] = [
    "eth", "vlan", "sll", "null", "arp", "ipv4", "ipv6", "icmp", "icmpv6", "tcp", "udp",
];

/// tshark's protocol column reduced to the layers the decoder names.
fn tshark_stack(protocols: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in protocols.split(':') {
        let p = if p == "ip" { "ipv4" } else { p };
        if COUNTED.contains(&p) {
            out.push(p.to_string());
            if p == "icmp" || p == "icmpv6" {
                break;
            }
        }
    }
    out
}

/// (link type, orig_len, data) of every packet, in order.
fn packets(bytes: &[u8]) -> Vec<(u32, u32, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(cap) = PcapCapture::from_file(bytes) {
        let lt = cap.header.network.0 as u32;
        for b in cap.iter() {
            if let PcapBlock::Legacy(p) = b {
                let n = (p.caplen as usize).min(p.data.len());
                out.push((lt, p.origlen, p.data[..n].to_vec()));
            }
        }
    } else if let Ok(cap) = PcapNGCapture::from_file(bytes) {
        let mut lts: Vec<u32> = Vec::new();
        for b in cap.iter() {
            match b {
                PcapBlock::NG(Block::SectionHeader(_)) => lts.clear(),
                PcapBlock::NG(Block::InterfaceDescription(i)) => lts.push(i.linktype.0 as u32),
                PcapBlock::NG(Block::EnhancedPacket(p)) => {
                    let n = (p.caplen as usize).min(p.data.len());
                    let lt = lts.get(p.if_id as usize).copied().unwrap_or(1);
                    out.push((lt, p.origlen, p.data[..n].to_vec()));
                }
                PcapBlock::NG(Block::SimplePacket(p)) => {
                    let lt = lts.first().copied().unwrap_or(1);
                    out.push((lt, p.origlen, p.data.to_vec()));
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
#[ignore]
fn layer_stacks_agree_with_tshark() {
    let Ok(dir) = std::fs::read_dir(DIR) else {
        return;
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains(".pcap"))
        .collect();
    names.sort();
    let (mut all, mut all_ok) = (0usize, 0usize);
    for name in names {
        let bytes = std::fs::read(format!("{DIR}/{name}")).unwrap();
        let oracle =
            std::fs::read_to_string(format!("{DIR}/oracle/{name}.frames.tsv")).unwrap_or_default();
        let rows: Vec<(f64, Vec<String>)> = oracle
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                (c[1].parse().unwrap_or(0.0), tshark_stack(c[4]))
            })
            .collect();
        let pkts = packets(&bytes);
        let mut dec = Decoder::new();
        let mut ok = 0;
        let mut shown = 0;
        for (i, (lt, orig, data)) in pkts.iter().enumerate() {
            let Some((t, want)) = rows.get(i) else { break };
            let frame = RawFrame {
                number: i as u64 + 1,
                ts: Timestamp {
                    secs: t.trunc() as i64,
                    nanos: (t.fract() * 1e9) as u32,
                    precision: 9,
                },
                link: LinkType(*lt),
                interface: 0,
                orig_len: *orig,
                data,
            };
            let p = dec.decode(&frame);
            let got: Vec<String> = p
                .layers
                .iter()
                .map(|l| match l.name {
                    LayerName::Sll2 => "sll".to_string(),
                    n => n.as_str().to_string(),
                })
                .collect();
            if &got == want {
                ok += 1;
            } else if shown < 3 {
                shown += 1;
                let issue = p.issue.as_ref().map(|i| i.to_string());
                println!("  {name} #{}: got {got:?} tshark {want:?} {issue:?}", i + 1);
            }
        }
        println!(
            "{name}: {ok}/{} (decoder read {} frames) {:?}",
            rows.len(),
            pkts.len(),
            dec.stats()
        );
        all += rows.len();
        all_ok += ok;
    }
    println!("TOTAL {all_ok}/{all}");
}

#[test]
#[ignore]
fn decode_rate() {
    let Ok(bytes) = std::fs::read(format!("{DIR}/pcapplusplus__many-protocols.pcap")) else {
        return;
    };
    let pkts = packets(&bytes);
    let mut dec = Decoder::new();
    let rounds = 300;
    let start = std::time::Instant::now();
    let mut layers = 0usize;
    for _ in 0..rounds {
        for (lt, orig, data) in &pkts {
            let frame = RawFrame {
                number: 1,
                ts: Timestamp::default(),
                link: LinkType(*lt),
                interface: 0,
                orig_len: *orig,
                data,
            };
            layers += dec.decode(&frame).layers.len();
        }
    }
    let n = pkts.len() * rounds;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} packets in {secs:.3} s: {:.2} M packets/s ({layers} layers)",
        n as f64 / secs / 1e6
    );
}
