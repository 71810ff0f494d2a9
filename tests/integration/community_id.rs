//! Community ID v1 on `conn` records against tshark's own Community ID
//! (`tshark --enable-protocol communityid`, seeds 0 and 1: `captures/oracle/NAME.communityid.tsv`).
//! The spec's published test vectors are checked in `src/flow/community_id.rs`.

use super::support::*;
use assert_cmd::Command;
use std::collections::HashMap;

/// (first_frame, community_id) of every `conn` record of `capture` with `seed`, but for the
/// tunnels' own UDP flows (tshark hashes a frame's innermost flow only, so a tunnel flow has
/// no Community ID of its own in the oracle).
fn conn_ids(capture: &std::path::Path, seed: u16) -> Vec<(u64, String)> {
    let out = Command::new(bin())
        .arg("read")
        .arg(capture)
        .args(["--format", "json", "--community-id-seed"])
        .arg(seed.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", capture.display());
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .collect();
    let tunnels: Vec<u64> = records
        .iter()
        .filter(|r| r["type"] == "packet")
        .flat_map(|r| r["outer_conns"].as_array().cloned().unwrap_or_default())
        .filter_map(|id| id.as_u64())
        .collect();
    records
        .into_iter()
        .filter(|r| r["type"] == "conn" && !tunnels.contains(&r["id"].as_u64().unwrap()))
        .map(|r| {
            (
                r["first_frame"].as_u64().unwrap(),
                r["community_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn conn_community_ids_equal_tsharks_with_seeds_0_and_1() {
    let dir = project_dir().join("captures");
    let mut checked = 0;
    for capture in captures_in(&dir) {
        let oracle: HashMap<u64, (String, String)> =
            read_tsv(&oracle_file(&dir, &capture, "communityid.tsv"))
                .into_iter()
                .map(|r| {
                    (
                        r["frame.number"].parse().unwrap(),
                        (r["communityid"].clone(), r["communityid_seed1"].clone()),
                    )
                })
                .collect();
        assert!(!oracle.is_empty(), "{}: no oracle", capture.display());
        for (seed, pick) in [(0u16, 0usize), (1, 1)] {
            for (frame, id) in conn_ids(&capture, seed) {
                let want = &oracle[&frame];
                let want = if pick == 0 { &want.0 } else { &want.1 };
                assert_eq!(&id, want, "{} frame {frame} seed {seed}", capture.display());
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} connections checked");
}

/// ICMP, ICMPv6 and SCTP connections of every shared capture (plain and tunnelled) against
/// tshark's Community ID of their first frame, seeds 0 and 1
/// (`tests/oracle/icmp-sctp.communityid.tsv`: TShark 4.0.17
/// `--enable-protocol communityid [-o communityid.seed:1] -Y '(icmp.type#1 in
/// {0,8,13,14,15,16,17,18,9,10}) || (icmpv6.type#1 >= 128) || sctp'` over
/// `../shared/captures` and `../shared/captures-encap`: ICMP requests and replies,
/// ICMPv6 informational messages, SCTP; errors are left out, as tshark hashes the packet an
/// error quotes).
#[test]
fn icmp_and_sctp_community_ids_equal_tsharks() {
    let (Some(plain), Some(encap)) = (
        shared_captures("icmp_and_sctp_community_ids_equal_tsharks"),
        shared_encap_captures("icmp_and_sctp_community_ids_equal_tsharks"),
    ) else {
        return;
    };
    let mut oracle: HashMap<String, HashMap<u64, (String, String)>> = HashMap::new();
    for r in read_tsv(&project_dir().join("tests/oracle/icmp-sctp.communityid.tsv")) {
        oracle.entry(r["capture"].clone()).or_default().insert(
            r["frame"].parse().unwrap(),
            (r["communityid"].clone(), r["communityid_seed1"].clone()),
        );
    }
    let mut checked = HashMap::new();
    for (name, frames) in &oracle {
        let capture = [&plain, &encap]
            .iter()
            .map(|d| d.join(name))
            .find(|p| p.exists())
            .unwrap();
        for seed in [0u16, 1] {
            let out = Command::new(bin())
                .arg("read")
                .arg(&capture)
                .args(["--format", "json", "--view", "conns", "--community-id-seed"])
                .arg(seed.to_string())
                .output()
                .unwrap();
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let r: serde_json::Value = serde_json::from_str(line).unwrap();
                let proto = r["proto"].as_str().unwrap_or("");
                if r["type"] != "conn" || !["icmp", "icmpv6", "sctp"].contains(&proto) {
                    continue;
                }
                let Some(want) = frames.get(&r["first_frame"].as_u64().unwrap()) else {
                    continue;
                };
                let want = if seed == 0 { &want.0 } else { &want.1 };
                assert_eq!(
                    r["community_id"].as_str(),
                    Some(want.as_str()),
                    "{name} conn {} ({proto}) seed {seed}",
                    r["id"]
                );
                *checked.entry(proto.to_string()).or_insert(0) += 1;
            }
        }
    }
    // Every kind checked, with both seeds.
    assert!(
        checked.get("icmp").copied().unwrap_or(0) >= 10,
        "{checked:?}"
    );
    assert!(
        checked.get("icmpv6").copied().unwrap_or(0) >= 10,
        "{checked:?}"
    );
    assert!(
        checked.get("sctp").copied().unwrap_or(0) >= 2,
        "{checked:?}"
    );
}
