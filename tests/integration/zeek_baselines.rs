//! Zeek's conn.log `conn_state` and `history` through the whole pipeline, on Zeek's own
//! traces (copied unchanged into ../shared/captures from zeek/zeek testing/btest/Traces),
//! against Zeek's baselines where Zeek publishes one.

use super::support::*;

fn conns(name: &str) -> Option<Vec<(String, &'static str)>> {
    let dir = shared_captures("zeek_baselines")?;
    let c = run_file(&dir.join(name));
    Some(
        c.conns
            .iter()
            .map(|(k, _)| (k.history.to_string(), k.conn_state))
            .collect(),
    )
}

fn one(name: &str) -> Option<(String, &'static str)> {
    let mut v = conns(name)?;
    assert_eq!(v.len(), 1, "{name}: {v:?}");
    v.pop()
}

#[test]
fn get_trace_matches_zeek_docs() {
    // Zeek docs (connection_record_01 on http/get.trace): history ShADadFf, SF.
    if let Some(got) = one("zeek__get.pcap") {
        assert_eq!(got, ("ShADadFf".to_string(), "SF"));
    }
}

#[test]
fn missing_syn_matches_baseline() {
    // core.tcp.missing-syn/conn.log: SF, ^hADdFaf (no SYN seen: roles decided by port).
    if let Some(got) = one("zeek__missing-syn.pcap") {
        assert_eq!(got, ("^hADdFaf".to_string(), "SF"));
    }
}

#[test]
fn syn_then_rst_matches_baseline() {
    // conn_state-RST-behavior/out: "SR, RSTOS0".
    if let Some(got) = one("zeek__syn-then-rst.pcap") {
        assert_eq!(got, ("SR".to_string(), "RSTOS0"));
    }
}

#[test]
fn rst_inject_and_fin_retransmission_follow_zeek_code() {
    // No conn.log baseline: worked out from TCPSessionAdapter (core.tcp.rst-after-syn and
    // core.tcp.fin-retransmit give the endpoint states these histories end in).
    if let Some(got) = one("zeek__rst-inject-rae.pcap") {
        assert_eq!(got, ("SrhADa".to_string(), "REJ"));
    }
    if let Some(got) = one("zeek__fin_retransmission.pcap") {
        assert_eq!(got, ("SFhr".to_string(), "RSTR"));
    }
}

#[test]
fn handshake_reorder_and_fast_open() {
    // SYN-ACK captured before the SYN: the client is decided by the SYN, so Zeek's '^'.
    if let Some(got) = one("zeek__handshake-reorder.pcap") {
        assert_eq!(got.1, "SF");
        assert!(got.0.contains('^'), "{got:?}");
    }
    // A SYN carrying data: Zeek counts its payload as retransmitted ('T').
    if let Some(got) = conns("zeek__tcp-fast-open.pcap") {
        assert_eq!(
            got,
            vec![
                ("ShDadfF".to_string(), "SF"),
                ("SThAdfFa".to_string(), "SF")
            ]
        );
    }
}
