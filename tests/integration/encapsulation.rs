//! What tunnelled connections travel in, on the shared tunnel captures: the VLAN ids, MPLS
//! labels, VNI, TEID, PPTP call id and outer addresses as tshark reads them
//! (`tshark -T fields -e vxlan.vni -e gtp.teid -e vlan.id -e mpls.label -e gre.call_id`
//! and the outer `ip.src`/`ip.dst`/`ipv6.src`/`ipv6.dst` of the same frames).

use super::support::{oracle_file, read_tsv, run_file, shared_encap_captures};

/// (capture, conn id, what it travels in)
const EXPECTED: [(&str, u64, &str); 6] = [
    (
        "zeek__vxlan-encapsulated-http.pcap",
        1,
        "VXLAN vni 1 · 10.1.200.131 → 10.1.1.172",
    ),
    (
        "zeek__gtp7_ipv6.pcap",
        1,
        "GTP-U TEID 0x91364467 · 118.92.124.41 → 118.92.124.72",
    ),
    ("zeek__vlan-qinqinq.pcap", 0, "VLAN 30 › 20 › 10"),
    ("zeek__mixed-vlan-mpls.pcap", 0, "MPLS label 29"),
    (
        "zeek__gre-pptp.pcap",
        0,
        "VLAN 100 › IPv4 in IPv6 · 2402:f000:1:8e01::5555 → 2607:fcd0:100:2300::b108:2a6b \
         › PPTP GRE call 6016 · 16.0.0.200 → 192.52.166.154",
    ),
    ("zeek__6in4.pcap", 0, "IPv6 in IPv4 · 1.2.3.4 → 5.6.7.8"),
];

#[test]
fn tunnelled_connections_say_what_they_travel_in() {
    let Some(dir) = shared_encap_captures("tunnelled_connections_say_what_they_travel_in") else {
        return;
    };
    for (capture, id, expected) in EXPECTED {
        let run = run_file(&dir.join(capture));
        let conn = run.conn(id);
        let got = conn
            .encapsulation
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(got, expected, "{capture} conn {id}");
    }
}

#[test]
fn the_tunnels_own_flow_and_plain_connections_travel_in_nothing() {
    let Some(dir) = shared_encap_captures("the_tunnels_own_flow_travels_in_nothing") else {
        return;
    };
    // conn 0 is the outer VXLAN UDP flow itself.
    let run = run_file(&dir.join("zeek__vxlan-encapsulated-http.pcap"));
    assert!(run.conn(0).encapsulation.is_none());
    // conn 1 of the mixed capture is plain Ethernet / IPv4 / TCP.
    let run = run_file(&dir.join("zeek__mixed-vlan-mpls.pcap"));
    assert!(run.conn(1).encapsulation.is_none());
}

/// The own tunnel recordings (`captures/record-tunnels.sh`): each inner TCP connection says
/// what it travels in, as tshark reads the same frames (`gre.key` 0x0000002a, `vxlan.vni`
/// 42, `geneve.vni` 0x000007, outer `ip.src`/`ip.dst` 192.168.77.1 → 192.168.77.2).
#[test]
fn own_tunnel_recordings_say_what_they_travel_in() {
    let dir = super::support::project_dir().join("captures");
    for (capture, id, expected) in [
        (
            "tunnel-vxlan.pcap",
            1,
            "VXLAN vni 42 · 192.168.77.1 → 192.168.77.2",
        ),
        (
            "tunnel-gre.pcap",
            0,
            "GRE key 42 · 192.168.77.1 → 192.168.77.2",
        ),
        (
            "tunnel-ipip.pcap",
            0,
            "IPv4 in IPv4 · 192.168.77.1 → 192.168.77.2",
        ),
        (
            "tunnel-sit.pcap",
            0,
            "IPv6 in IPv4 · 192.168.77.1 → 192.168.77.2",
        ),
        (
            "tunnel-geneve.pcap",
            1,
            "Geneve vni 7 · 192.168.77.1 → 192.168.77.2",
        ),
    ] {
        let run = run_file(&dir.join(capture));
        let conn = run.conn(id);
        assert_eq!(conn.proto.as_str(), "tcp", "{capture} conn {id}");
        let got = conn.encapsulation.as_ref().map(|e| e.to_string());
        assert_eq!(got.as_deref(), Some(expected), "{capture} conn {id}");
    }
}

/// The `conn` records of `capture`'s JSON output, by id.
fn json_conns(capture: &std::path::Path) -> std::collections::HashMap<u64, serde_json::Value> {
    super::support::json_records(capture)
        .into_iter()
        .filter(|r| r["type"] == "conn")
        .map(|r| (r["id"].as_u64().unwrap(), r))
        .collect()
}

#[test]
fn json_conn_records_say_what_they_travel_in() {
    let Some(dir) = shared_encap_captures("json_conn_records_say_what_they_travel_in") else {
        return;
    };
    for (capture, id, expected) in EXPECTED {
        let conns = json_conns(&dir.join(capture));
        assert_eq!(conns[&id]["encapsulation"], expected, "{capture} conn {id}");
    }
    // The VXLAN flow itself, and a plain connection beside tunnelled ones: null.
    let conns = json_conns(&dir.join("zeek__vxlan-encapsulated-http.pcap"));
    assert!(conns[&0]["encapsulation"].is_null());
    let conns = json_conns(&dir.join("zeek__mixed-vlan-mpls.pcap"));
    assert!(conns[&1]["encapsulation"].is_null());
}

/// A ping inside VXLAN whose requests go in one VXLAN flow and replies in another
/// (zeek__vxlan.pcap): its `tunnel_parents` are both tunnel flows, as many as tshark's UDP
/// streams that carry its ICMP frames, in the order first seen.
#[test]
fn tunnel_parents_are_every_tunnel_flow_the_connection_was_seen_in() {
    let Some(dir) = shared_encap_captures("tunnel_parents_are_every_tunnel_flow") else {
        return;
    };
    let capture = dir.join("zeek__vxlan.pcap");
    let oracle = read_tsv(&oracle_file(&dir, &capture, "frames.tsv"));
    let mut streams: Vec<String> = Vec::new();
    for row in oracle
        .iter()
        .filter(|r| r["protocols"].ends_with(":icmp:data"))
    {
        if !streams.contains(&row["udp_stream"]) {
            streams.push(row["udp_stream"].clone());
        }
    }
    assert_eq!(streams.len(), 2);
    let run = run_file(&capture);
    let (icmp, _) = run
        .conns
        .iter()
        .find(|(c, _)| c.proto == layerscope::flow::Proto::Icmp)
        .unwrap();
    let mut seen: Vec<u64> = Vec::new();
    for f in run.frames.iter().filter(|f| f.flow.conn == Some(icmp.id)) {
        for &c in &f.flow.outer_conns {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
    }
    assert_eq!(icmp.tunnel_parents.as_slice(), seen.as_slice());
    assert_eq!(icmp.tunnel_parents.len(), streams.len());
    assert_eq!(run.summary.as_ref().unwrap().tunnel_parents_cut, 0);
}

/// The ladder of a tunnel's own UDP flow (conn 0 of `tunnel-vxlan.pcap`, the VXLAN flow
/// 192.168.77.1:52029 → 4789) names the connection it carries (conn 1, the TCP connection
/// inside) instead of saying the connection does not exist.
#[test]
fn the_ladder_of_a_tunnel_flow_points_at_the_connection_inside() {
    let capture = super::support::project_dir()
        .join("captures")
        .join("tunnel-vxlan.pcap");
    let out = assert_cmd::Command::new(super::support::bin())
        .arg("ladder")
        .arg(&capture)
        .args(["--conn", "0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("connection 0 is a tunnel's UDP flow") && text.contains("--conn 1"),
        "{text}"
    );
}
