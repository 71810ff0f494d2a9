//! The captures the project recorded itself (`captures/`, see captures/README.md), with
//! numbers worked by hand from tshark's view of the same frames.

use super::support::*;
use layerscope::app::AppEvent;
use layerscope::flow::{Direction, Step, TcpState, TeardownKind};
use std::path::PathBuf;

fn capture(name: &str) -> PathBuf {
    project_dir().join("captures").join(name)
}

#[test]
fn every_own_capture_reads_cleanly() {
    for path in captures_in(&project_dir().join("captures")) {
        let c = run_file(&path);
        assert!(c.failed.is_none(), "{}: {:?}", path.display(), c.failed);
        assert!(!c.frames.is_empty(), "{}: no frames", path.display());
        for f in &c.frames {
            assert!(
                f.issue.is_none(),
                "{} frame {}: {:?}",
                path.display(),
                f.number,
                f.issue
            );
        }
    }
}

fn steps(c: &Collected) -> Vec<(u64, Option<Step>)> {
    c.frames.iter().map(|f| (f.number, f.flow.step)).collect()
}

fn state(c: &Collected, frame: u64) -> (TcpState, TcpState) {
    c.frame(frame).flow.state.expect("TCP frame has states")
}

/// HTTP/1.1 keep-alive: one connection, 3 requests, handshake 1-3, FIN close 20-22.
/// Absolute numbers (tshark -o tcp.relative_sequence_numbers:FALSE): client ISN
/// j = 3405438875, server ISN k = 1123562497; SYN-ACK ack = j+1 = 3405438876; ACK ack =
/// k+1 = 1123562498.
#[test]
fn http11_keepalive_handshake_teardown_and_transactions() {
    let c = run_file(&capture("http11-keepalive.pcap"));
    assert_eq!(c.frames.len(), 22);
    assert_eq!(c.conns.len(), 1);
    let conn = c.conn(0);
    assert_eq!(conn.client.to_string(), "127.0.0.1:40003");
    assert_eq!(conn.server.to_string(), "127.0.0.1:8080");
    assert!(!conn.roles_guessed);
    assert_eq!(conn.handshake.frames, [Some(1), Some(2), Some(3)]);
    assert!(conn.handshake.complete);
    assert_eq!(conn.packets.to_server + conn.packets.to_client, 22);
    assert_eq!(conn.teardown.kind, TeardownKind::Fin);
    assert_eq!(conn.teardown.initiator, Some(Direction::ToServer));
    assert_eq!(conn.conn_state, "SF");
    assert_eq!(conn.history.as_str(), "ShADadFf");

    let s = steps(&c);
    assert_eq!(s[0], (1, Some(Step::Handshake(1))));
    assert_eq!(s[1], (2, Some(Step::Handshake(2))));
    assert_eq!(s[2], (3, Some(Step::Handshake(3))));
    assert!(s[3..19].iter().all(|(_, st)| st.is_none()), "{s:?}");
    assert_eq!(s[19], (20, Some(Step::Teardown(1))));
    // The server's FIN+ACK acknowledges the client's FIN and closes its side at once.
    assert_eq!(s[20], (21, Some(Step::Teardown(3))));
    assert_eq!(s[21], (22, Some(Step::Teardown(4))));

    // Relative numbers as tshark shows them.
    let rel = |n: u64| (c.frame(n).flow.rel_seq, c.frame(n).flow.rel_ack);
    assert_eq!(rel(1), (Some(0), Some(0)));
    assert_eq!(rel(2), (Some(0), Some(1)));
    assert_eq!(rel(3), (Some(1), Some(1)));
    assert_eq!(rel(20), (Some(244), Some(3240)));
    assert_eq!(rel(21), (Some(3240), Some(245)));
    assert_eq!(rel(22), (Some(245), Some(3241)));

    use TcpState::*;
    assert_eq!(state(&c, 1), (SynSent, Listen));
    assert_eq!(state(&c, 2), (Established, SynReceived));
    assert_eq!(state(&c, 3), (Established, Established));
    assert_eq!(state(&c, 20), (FinWait1, CloseWait));
    assert_eq!(state(&c, 21), (TimeWait, LastAck));
    assert_eq!(state(&c, 22), (TimeWait, Closed));

    let http: Vec<_> = c
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::Http(h) => Some(h),
            _ => None,
        })
        .collect();
    assert_eq!(http.len(), 3);
    let got: Vec<_> = http
        .iter()
        .map(|h| {
            (
                h.index,
                h.method.as_deref(),
                h.uri.as_deref(),
                h.request_frame,
                h.status,
                h.response_frame,
                h.response_body_bytes,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                1,
                Some("GET"),
                Some("/a"),
                Some(4),
                Some(200),
                Some(6),
                Some(22)
            ),
            (
                2,
                Some("GET"),
                Some("/b"),
                Some(10),
                Some(200),
                Some(11),
                Some(2915)
            ),
            (
                3,
                Some("GET"),
                Some("/missing"),
                Some(15),
                Some(404),
                Some(16),
                Some(14)
            ),
        ]
    );
    // Request first byte (frame 4, 0.000071 s) → response first byte (frame 6, 0.002260 s).
    let latency = http[0].latency_ms.unwrap();
    assert!((latency - 2.189).abs() < 0.001, "{latency}");
    assert_eq!(c.conns[0].1.http_requests, 3);
    assert_eq!(c.conns[0].1.http_responses, 3);
}

/// HTTP/1.0: two connections, one request each, the server closes first.
#[test]
fn http10_one_request_per_connection_server_closes() {
    let c = run_file(&capture("http10-close.pcap"));
    assert_eq!(c.frames.len(), 24);
    assert_eq!(c.conns.len(), 2);
    for (id, base) in [(0u64, 0u64), (1, 12)] {
        let conn = c.conn(id);
        assert_eq!(conn.first_frame, base + 1);
        assert_eq!(conn.last_frame, base + 12);
        assert_eq!(
            conn.handshake.frames,
            [Some(base + 1), Some(base + 2), Some(base + 3)]
        );
        assert_eq!(conn.teardown.kind, TeardownKind::Fin);
        assert_eq!(conn.teardown.initiator, Some(Direction::ToClient));
        assert_eq!(conn.server.port(), 8088);
        assert_eq!(c.frame(base + 10).flow.step, Some(Step::Teardown(1)));
        assert_eq!(c.frame(base + 11).flow.step, Some(Step::Teardown(3)));
        assert_eq!(c.frame(base + 12).flow.step, Some(Step::Teardown(4)));
        use TcpState::*;
        assert_eq!(state(&c, base + 10), (CloseWait, FinWait1));
        assert_eq!(state(&c, base + 11), (LastAck, TimeWait));
        assert_eq!(state(&c, base + 12), (Closed, TimeWait));
        assert_eq!(c.conns[id as usize].1.http_requests, 1);
    }
    let uris: Vec<_> = c
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::Http(h) => Some((h.conn, h.version.clone(), h.uri.clone(), h.status)),
            _ => None,
        })
        .collect();
    assert_eq!(
        uris,
        vec![
            (
                0,
                Some("HTTP/1.0".into()),
                Some("/index.txt".into()),
                Some(200)
            ),
            (
                1,
                Some("HTTP/1.0".into()),
                Some("/second.txt".into()),
                Some(200)
            ),
        ]
    );
}

/// A connect to a closed port: SYN answered by RST+ACK.
#[test]
fn refused_connection() {
    let c = run_file(&capture("refused.pcap"));
    assert_eq!(c.frames.len(), 2);
    assert_eq!(c.frame(1).flow.step, Some(Step::Handshake(1)));
    assert_eq!(c.frame(2).flow.step, Some(Step::Refused));
    let conn = c.conn(0);
    assert_eq!(conn.conn_state, "REJ");
    assert_eq!(conn.teardown.kind, TeardownKind::Rst);
    assert_eq!(conn.teardown.initiator, Some(Direction::ToClient));
    assert_eq!(conn.handshake.frames, [Some(1), None, None]);
    assert!(!conn.handshake.complete);
    assert_eq!(state(&c, 2), (TcpState::Closed, TcpState::Closed));
}

/// DNS over UDP to a local responder on port 53: an A answer and an NXDOMAIN.
#[test]
fn dns_udp_queries_and_answers() {
    let c = run_file(&capture("dns-udp.pcap"));
    assert_eq!(c.frames.len(), 4);
    assert_eq!(c.conns.len(), 2);
    assert!(c.conns.iter().all(|(k, _)| k.server.port() == 53));
    let dns: Vec<_> = c
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::Dns(d) => Some((
                d.frame,
                d.id,
                d.response,
                d.qname.clone(),
                d.qtype.clone(),
                d.rcode.clone(),
                d.answers.clone(),
            )),
            _ => None,
        })
        .collect();
    let s = |x: &str| x.to_string();
    assert_eq!(
        dns,
        vec![
            (
                1,
                0x7540,
                false,
                s("www.example.test"),
                s("A"),
                s("NOERROR"),
                vec![]
            ),
            (
                2,
                0x7540,
                true,
                s("www.example.test"),
                s("A"),
                s("NOERROR"),
                vec![s("192.0.2.10")]
            ),
            (
                3,
                0xbea2,
                false,
                s("nosuch.example.test"),
                s("A"),
                s("NOERROR"),
                vec![]
            ),
            (
                4,
                0xbea2,
                true,
                s("nosuch.example.test"),
                s("A"),
                s("NXDOMAIN"),
                vec![]
            ),
        ]
    );
    for f in &c.frames {
        assert_eq!(
            f.layers,
            ["eth", "ipv4", "udp", "dns"],
            "frame {}",
            f.number
        );
    }
}

/// IPv6 on ::1 and Linux cooked capture v2: the same handshake, other layers below.
#[test]
fn ipv6_and_sll2_layer_stacks() {
    let c = run_file(&capture("ipv6-http.pcap"));
    assert_eq!(c.frames.len(), 12);
    assert_eq!(c.frame(1).layers, ["eth", "ipv6", "tcp"]);
    assert_eq!(c.frame(4).layers, ["eth", "ipv6", "tcp", "http"]);
    assert_eq!(c.conn(0).client.to_string(), "[::1]:40063");
    assert!(c.conn(0).handshake.complete);

    let c = run_file(&capture("linux-sll2.pcap"));
    assert_eq!(c.frames.len(), 12);
    assert_eq!(c.frame(1).layers, ["sll2", "ipv4", "tcp"]);
    assert!(c.conn(0).handshake.complete);
}

/// The TLS summary the app stage hands on with a connection's counters
/// (`AppConnStats::tls`), against tshark's tls.tsv of the same capture.
#[test]
fn tls12_connection_summed_up_by_the_app_stage_as_tshark_reads_it() {
    let path = capture("tls12.pcap");
    let c = run_file(&path);
    let want = read_tsv(&oracle_file(
        &project_dir().join("captures"),
        &path,
        "tls.tsv",
    ));
    let row = |kind: &str| {
        want.iter()
            .find(|r| r["tcp_stream"] == "0" && r["handshake_type"] == kind)
            .unwrap_or_else(|| panic!("no handshake type {kind} in the oracle"))
    };
    let (hello, server) = (row("1"), row("2"));
    let [(_, app)] = c.conns.as_slice() else {
        panic!("one connection, got {}", c.conns.len());
    };
    let s = app.tls.as_deref().expect("a TLS summary");
    assert_eq!(
        s.client_hello.map(|(f, _)| f.to_string()),
        Some(hello["frame"].clone())
    );
    assert_eq!(s.sni.as_deref(), Some(hello["sni"].as_str()));
    assert_eq!(s.offered_alpn.first(), Some(&hello["alpn"]));
    assert_eq!(s.alpn.as_deref(), Some(server["alpn"].as_str()));
    assert_eq!(
        s.version.map(|v| format!("0x{v:04x}")),
        Some(server["version"].clone())
    );
    // Application data came after the hello.
    assert!(s.handshake_ms().is_some_and(|ms| ms > 0.0), "{s:?}");

    // The first alerts are kept (an encrypted one as None), later ones only counted.
    let first = c
        .events
        .iter()
        .find_map(|e| match e {
            AppEvent::Tls(t) => Some(t.clone()),
            _ => None,
        })
        .expect("a TLS event");
    let mut alerts = layerscope::app::TlsSummary::default();
    for i in 0..6u8 {
        let mut a = first.clone();
        (a.kind, a.alert) = if i % 2 == 0 {
            (layerscope::app::TlsKind::Alert, Some((1, i)))
        } else {
            (layerscope::app::TlsKind::EncryptedAlert, None)
        };
        alerts.add(&a);
    }
    assert_eq!(
        alerts.alerts.as_slice(),
        [Some((1, 0)), None, Some((1, 2)), None]
    );
    assert_eq!(alerts.alerts.len(), layerscope::app::MAX_SUMMARY_ALERTS);
}
