//! The app stage fed as the flow stage feeds it: classification, HTTP, DNS, reuse of
//! the per-connection states.

use super::*;
use crate::app::AppCollector;
use crate::capture::Timestamp;
use crate::flow::Direction::{ToClient, ToServer};

fn ctx(frame: u64, ms: u32) -> SegmentCtx {
    SegmentCtx {
        frame,
        ts: Timestamp {
            secs: 1_000 + (ms / 1000) as i64,
            nanos: (ms % 1000) * 1_000_000,
            precision: 6,
        },
        handshake_rtt_ns: None,
        ports: None,
    }
}

/// `c` with the connection's ports.
fn ported(c: SegmentCtx, ports: (u16, u16)) -> SegmentCtx {
    SegmentCtx {
        ports: Some(ports),
        ..c
    }
}

fn http(t: &mut AppCollector) -> Vec<HttpTransaction> {
    t.drain_events()
        .filter_map(|e| match e {
            AppEvent::Http(h) => Some(h),
            _ => None,
        })
        .collect()
}

fn dns_events(t: &mut AppCollector) -> Vec<DnsMessage> {
    t.drain_events()
        .filter_map(|e| match e {
            AppEvent::Dns(d) => Some(d),
            _ => None,
        })
        .collect()
}

fn has_note(tx: &HttpTransaction, note: &str) -> bool {
    tx.notes.iter().any(|n| n == note)
}

const OK0: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

#[test]
fn a_connection_on_a_recycled_http_state_reads_as_on_a_new_one() {
    let run = |t: &mut AppCollector, conn: ConnId| {
        t.on_data(
            conn,
            ToServer,
            b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n",
            ctx(10, 0),
        );
        t.on_data(conn, ToClient, OK0, ctx(11, 5));
        t.on_close(conn);
        (http(t), t.take_conn_stats(conn))
    };
    let mut t = AppCollector::new(AppConfig::default());
    // A first connection left mid-way: a request waiting, a response head cut.
    t.on_data(0, ToServer, b"GET /a HTTP/1.1\r\n\r\nGET /b HTT", ctx(1, 0));
    t.on_data(
        0,
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab",
        ctx(2, 1),
    );
    t.on_close(0);
    assert_eq!(http(&mut t).len(), 2);
    assert_eq!(
        (t.app.http.made(), t.app.http.released_list()),
        (1, &[0][..])
    );
    let (events, stats) = run(&mut t, 1);
    assert_eq!(
        (t.app.http.made(), t.app.http.released_list()),
        (1, &[0][..]),
        "taken for conn 1, given back at its close"
    );
    let mut fresh = AppCollector::new(AppConfig::default());
    assert_eq!((events.clone(), stats.clone()), run(&mut fresh, 1));
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].index, events[0].status), (1, Some(200)));
    assert_eq!((stats.http_requests, stats.http_responses), (1, 1));
}

#[test]
fn an_ended_connections_counters_come_with_its_state() {
    let mut t = AppTracker::new(AppConfig::default());
    let mut events = Vec::new();
    let (mut one, mut two) = (ConnApp::default(), ConnApp::default());
    t.feed_segment(
        StreamId {
            conn: 1,
            dir: ToServer,
        },
        &mut one,
        b"GET / HTTP/1.1\r\n\r\n",
        ctx(1, 0),
        &mut events,
    );
    t.feed_segment(
        StreamId {
            conn: 1,
            dir: ToClient,
        },
        &mut one,
        OK0,
        ctx(2, 1),
        &mut events,
    );
    assert_eq!(events.len(), 1);
    // Counters are complete once the connection closed (HTTP's are copied at the close).
    t.on_close(1, &mut one, &mut events);
    t.on_close(2, &mut two, &mut events);
    let s = one.take_stats();
    assert_eq!((s.http_requests, s.http_responses), (1, 1));
    assert_eq!(one.take_stats(), AppConnStats::default(), "taken once");
    assert_eq!(two.take_stats(), AppConnStats::default(), "no payload");
    // A closed state holds no parser: closing it again completes nothing.
    t.on_close(1, &mut one, &mut events);
    assert_eq!(events.len(), 1);
}

#[test]
fn an_http_state_goes_back_at_the_second_fin_when_nothing_waits() {
    let exchange = |t: &mut AppCollector, conn: ConnId, response: &[u8]| {
        t.on_data(
            conn,
            ToServer,
            b"GET /a HTTP/1.0\r\nHost: h\r\n\r\n",
            ctx(1, 0),
        );
        t.on_data(conn, ToClient, response, ctx(2, 1));
        t.on_fin(conn, ToClient, ctx(3, 2));
        t.on_fin(conn, ToServer, ctx(4, 3));
    };
    let mut t = AppCollector::new(AppConfig::default());
    // Answered, both sides closed: the entry is free before the connection's close.
    exchange(&mut t, 1, OK0);
    assert_eq!(
        (t.app.http.made(), t.app.http.released_list()),
        (1, &[0][..])
    );
    // Bytes after both FINs are not parsed, as on a state still held.
    let layers = t.feed_segment(1, ToServer, b"GET /b HTTP/1.0\r\n\r\n", ctx(5, 4));
    assert_eq!(layers.app_of(5), None);
    t.on_gap(1, ToClient, 10, ctx(6, 5));
    t.on_close(1);
    let events = http(&mut t);
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].status, events[0].host.as_deref()),
        (Some(200), Some("h"))
    );
    let stats = t.take_conn_stats(1);
    assert_eq!((stats.http_requests, stats.http_responses), (1, 1));
    assert_eq!(stats.service.name.text.as_str(), "h");
    // A request left unanswered: the state stays until the close, which reports it.
    exchange(&mut t, 2, b"");
    assert_eq!(
        (t.app.http.made(), t.app.http.released_list()),
        (1, &[][..])
    );
    assert!(http(&mut t).is_empty());
    t.on_close(2);
    let events = http(&mut t);
    assert!(has_note(
        &events[0],
        "no response seen before the connection ended"
    ));
    assert_eq!(t.app.http.released_list(), &[0][..]);
    // A ClientHello after both FINs still turns the connection into TLS.
    exchange(&mut t, 3, OK0);
    let layers = t.feed_segment(
        3,
        ToServer,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        ctx(7, 6),
    );
    assert_eq!(layers.app_of(7), Some(LayerName::Tls));
}

#[test]
fn a_new_connection_reads_as_new_and_takes_an_ended_ones_http_entry() {
    let mut t = AppTracker::new(AppConfig::default());
    let at = |conn, dir| StreamId { conn, dir };
    let mut events = Vec::new();
    let mut old = ConnApp::default();
    t.feed_segment(
        at(4, ToServer),
        &mut old,
        b"GET / HTTP/1.1\r\n\r\n",
        ctx(1, 0),
        &mut events,
    );
    t.feed_segment(at(4, ToClient), &mut old, OK0, ctx(2, 1), &mut events);
    assert!(matches!(old.kind, Kind::Http(0)));
    t.on_close(4, &mut old, &mut events);
    assert_eq!((t.http.made(), t.http.released_list()), (1, &[0][..]));
    // The same id again (a new connection, a new state): DNS on port 53 now.
    let mut dns = ConnApp::default();
    let layers = t.feed_segment(
        at(4, ToServer),
        &mut dns,
        b"GET / HTTP/1.1\r\n\r\n",
        ported(ctx(3, 2), (40_000, 53)),
        &mut events,
    );
    assert!(matches!(dns.kind, Kind::DnsTcp(_)));
    assert_eq!(layers.app_of(3), Some(LayerName::Dns));
    // Conn 8 is HTTP: it takes the ended connection's entry, reset.
    let mut next = ConnApp::default();
    let layers = t.feed_segment(
        at(8, ToServer),
        &mut next,
        b"GET / HTTP/1.1\r\n\r\n",
        ported(ctx(4, 3), (40_001, 80)),
        &mut events,
    );
    assert_eq!(layers.app_of(4), Some(LayerName::Http));
    assert_eq!((t.http.made(), t.http.released()), (1, 0), "entry reused");
    t.feed_segment(at(8, ToClient), &mut next, OK0, ctx(5, 4), &mut events);
    t.on_close(8, &mut next, &mut events);
    let s = next.take_stats();
    assert_eq!(
        (s.http_requests, s.http_responses, s.dns_messages),
        (1, 1, 0)
    );
    assert_eq!(events.len(), 2);
}

#[test]
fn head_split_across_segments() {
    let mut t = AppCollector::new(AppConfig::default());
    let layers = t.feed_segment(0, ToServer, b"GET /index.html HTTP/1.1\r\nHo", ctx(4, 0));
    assert_eq!(layers.app_of(4), None);
    let layers = t.feed_segment(0, ToServer, b"st: example.com\r\n\r\n", ctx(5, 1));
    assert_eq!(layers.app_of(5), Some(LayerName::Http));
    let layers = t.feed_segment(
        0,
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        ctx(6, 25),
    );
    assert_eq!(layers.app_of(6), Some(LayerName::Http));
    let tx = http(&mut t);
    assert_eq!(tx.len(), 1);
    let tx = &tx[0];
    assert_eq!(
        (tx.index, tx.request_frame, tx.response_frame),
        (1, Some(4), Some(6))
    );
    assert_eq!(tx.method.as_deref(), Some("GET"));
    assert_eq!(tx.uri.as_deref(), Some("/index.html"));
    assert_eq!(tx.version.as_deref(), Some("HTTP/1.1"));
    assert_eq!(tx.host.as_deref(), Some("example.com"));
    assert_eq!((tx.status, tx.reason.as_deref()), (Some(200), Some("OK")));
    assert_eq!(
        (tx.request_body_bytes, tx.response_body_bytes),
        (Some(0), Some(5))
    );
    assert_eq!(tx.latency_ms, Some(25.0));
    assert!(tx.notes.is_empty(), "{:?}", tx.notes);
    t.on_close(0);
    assert!(http(&mut t).is_empty());
    let s = t.take_conn_stats(0);
    assert_eq!(
        (s.http_requests, s.http_responses, s.dns_messages),
        (1, 1, 0)
    );
    assert_eq!(t.take_conn_stats(0), AppConnStats::default());
}

#[test]
fn gap_in_body_then_recovery_at_next_request() {
    let mut t = AppCollector::new(AppConfig::default());
    // Request 1 has a 100-byte body; 40 arrive, then a gap of 100 swallows the last 60
    // body bytes and the 40-byte head of request 2; request 3 follows whole.
    t.on_data(
        1,
        ToServer,
        b"POST /up HTTP/1.1\r\nContent-Length: 100\r\n\r\n",
        ctx(1, 0),
    );
    t.on_data(1, ToServer, &[b'x'; 40], ctx(2, 1));
    t.on_gap(1, ToServer, 100, ctx(4, 3));
    t.on_data(
        1,
        ToServer,
        b"GET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
        ctx(4, 3),
    );
    t.on_data(1, ToClient, OK0, ctx(5, 10));
    t.on_data(1, ToClient, OK0, ctx(6, 11));
    t.on_data(
        1,
        ToClient,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        ctx(7, 12),
    );
    let tx = http(&mut t);
    assert_eq!(tx.len(), 3);
    assert_eq!(tx[0].request_body_bytes, Some(100));
    assert!(
        has_note(&tx[0], "request body cut by a gap of 60 bytes"),
        "{:?}",
        tx[0].notes
    );
    assert_eq!(
        (tx[1].index, tx[1].method.as_deref(), tx[1].status),
        (2, None, Some(200))
    );
    assert!(has_note(&tx[1], "request lost in a gap of 40 bytes"));
    assert_eq!(tx[2].index, 3);
    assert_eq!(tx[2].uri.as_deref(), Some("/3"));
    assert_eq!((tx[2].request_frame, tx[2].status), (Some(4), Some(404)));
    assert!(has_note(
        &tx[2],
        "HTTP/1.1 persistent connection: request 3 on this connection"
    ));
}

#[test]
fn gap_mid_head_resyncs_on_next_request_line() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(
        1,
        ToServer,
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
        ctx(1, 0),
    );
    t.on_data(
        1,
        ToClient,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        ctx(2, 5),
    );
    // Lost: "cde\r\n0\r\n\r\n" plus the start of the next response; then garbage.
    t.on_gap(1, ToClient, 20, ctx(3, 6));
    let tx = http(&mut t);
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].response_body_bytes, Some(5));
    assert!(has_note(
        &tx[0],
        "response body cut by a gap of 20 bytes inside chunked framing (after 2 decoded bytes): rest of the message lost"
    ), "{:?}", tx[0].notes);
    t.on_data(1, ToServer, b"GET /b HTTP/1.1\r\n\r\n", ctx(4, 7));
    t.on_data(
        1,
        ToClient,
        b"tail of something\r\nHTTP/1.1 204 No Content\r\n\r\n",
        ctx(5, 8),
    );
    let tx = http(&mut t);
    assert_eq!(tx.len(), 1);
    assert_eq!(
        (tx[0].index, tx[0].status, tx[0].response_frame),
        (2, Some(204), Some(5))
    );
    assert_eq!(t.stats().http.resyncs, 1);
}

#[test]
fn pipelined_requests_matched_in_order() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(
        2,
        ToServer,
        b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n",
        ctx(3, 0),
    );
    assert!(http(&mut t).is_empty());
    t.on_data(
        2,
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nBBHTTP/1.1 500 Oops\r\nContent-Length: 3\r\n\r\nCCC",
        ctx(5, 40),
    );
    let tx = http(&mut t);
    let got: Vec<_> = tx
        .iter()
        .map(|x| {
            (
                x.index,
                x.uri.clone().unwrap(),
                x.status.unwrap(),
                x.response_body_bytes.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "/1".to_string(), 200, 1),
            (2, "/2".to_string(), 404, 2),
            (3, "/3".to_string(), 500, 3)
        ]
    );
    assert!(has_note(
        &tx[1],
        "pipelined: sent before the response to request 1"
    ));
    assert!(has_note(
        &tx[2],
        "pipelined: sent before the response to request 1"
    ));
    assert!(has_note(
        &tx[2],
        "HTTP/1.1 persistent connection: request 3 on this connection"
    ));
    assert!(tx
        .iter()
        .all(|x| x.request_frame == Some(3) && x.response_frame == Some(5)));
}

#[test]
fn expect_100_continue_then_200() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(
        3,
        ToServer,
        b"PUT /f HTTP/1.1\r\nHost: s\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n",
        ctx(1, 0),
    );
    t.on_data(3, ToClient, b"HTTP/1.1 100 Continue\r\n\r\n", ctx(2, 2));
    let interim = http(&mut t);
    assert_eq!(interim.len(), 1);
    let i = &interim[0];
    assert_eq!(
        (i.conn, i.index, i.request_frame, i.response_frame),
        (3, 1, Some(1), Some(2))
    );
    assert_eq!((i.method.as_deref(), i.uri.as_deref()), (None, None));
    assert_eq!(
        (i.status, i.reason.as_deref(), i.latency_ms),
        (Some(100), Some("Continue"), Some(2.0))
    );
    assert!(has_note(
        i,
        "interim response 100: the final response to request 1 follows"
    ));
    t.on_data(3, ToServer, b"data", ctx(3, 3));
    t.on_data(
        3,
        ToClient,
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        ctx(4, 9),
    );
    let tx = http(&mut t);
    assert_eq!(tx.len(), 1);
    let tx = &tx[0];
    assert_eq!(
        (tx.status, tx.response_frame, tx.latency_ms),
        (Some(201), Some(4), Some(9.0))
    );
    assert_eq!(
        (tx.request_body_bytes, tx.response_body_bytes),
        (Some(4), Some(2))
    );
    assert!(has_note(
        tx,
        "interim response 100 Continue in frame 2: the final response follows"
    ));
    let s = {
        t.on_close(3);
        t.take_conn_stats(3)
    };
    assert_eq!((s.http_requests, s.http_responses), (1, 1));
}

#[test]
fn head_204_and_304_have_no_body() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(
        4,
        ToServer,
        b"HEAD / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\nGET /z HTTP/1.1\r\n\r\n",
        ctx(1, 0),
    );
    t.on_data(
        4,
        ToClient,
        b"HTTP/1.1 301 Moved Permanently\r\nContent-Length: 1234\r\n\r\n\
HTTP/1.1 204 No Content\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        ctx(2, 1),
    );
    let tx = http(&mut t);
    let got: Vec<_> = tx
        .iter()
        .map(|x| {
            (
                x.method.clone().unwrap(),
                x.status.unwrap(),
                x.response_body_bytes.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("HEAD".to_string(), 301, 0),
            ("GET".to_string(), 204, 0),
            ("GET".to_string(), 304, 0),
            ("GET".to_string(), 200, 2)
        ]
    );
    assert!(has_note(
        &tx[0],
        "HEAD response: Content-Length 1234 describes the resource, no body follows"
    ));
}

const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
4;name=value\r\nWiki\r\n5\r\npedia\r\nE ; x\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n";

#[test]
fn chunked_with_extensions_and_trailers() {
    for step in [CHUNKED.len(), 7, 1] {
        let mut t = AppCollector::new(AppConfig::default());
        t.on_data(5, ToServer, b"GET /c HTTP/1.1\r\n\r\n", ctx(1, 0));
        for (i, part) in CHUNKED.chunks(step).enumerate() {
            t.on_data(5, ToClient, part, ctx(2 + i as u64, 1));
        }
        t.on_data(5, ToServer, b"GET /d HTTP/1.1\r\n\r\n", ctx(1000, 2));
        t.on_data(5, ToClient, OK0, ctx(1001, 3));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 2, "step {step}");
        assert_eq!(tx[0].response_body_bytes, Some(23));
        assert!(
            has_note(
                &tx[0],
                "chunked: 3 chunks, extensions ignored, 2 trailer fields"
            ),
            "{:?}",
            tx[0].notes
        );
        assert_eq!(
            (tx[1].uri.as_deref(), tx[1].status),
            (Some("/d"), Some(200))
        );
    }
}

#[test]
fn close_delimited_body_ends_at_fin_and_http10_note() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(6, ToServer, b"GET /old HTTP/1.0\r\n\r\n", ctx(1, 0));
    t.on_data(
        6,
        ToClient,
        b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\n0123456789",
        ctx(2, 4),
    );
    t.on_data(6, ToClient, b"abcdefg", ctx(3, 5));
    assert!(http(&mut t).is_empty());
    t.on_fin(6, ToClient, ctx(4, 6));
    let tx = http(&mut t);
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0].response_body_bytes, Some(17));
    assert_eq!(tx[0].response_version.as_deref(), Some("HTTP/1.0"));
    assert!(has_note(
        &tx[0],
        "HTTP/1.0: one request per connection, server closes after the response"
    ));
    assert!(has_note(
        &tx[0],
        "no Content-Length or chunked coding: the body ends when the server closes"
    ));
}

#[test]
fn without_http_details_events_keep_their_numbers_and_drop_their_text() {
    let run = |details: bool| {
        let mut t = AppCollector::new(AppConfig {
            http_details: details,
            ..AppConfig::default()
        });
        t.on_data(
            4,
            ToServer,
            b"GET /a HTTP/1.0\r\nHost: h\r\n\r\n",
            ctx(1, 0),
        );
        t.on_data(4, ToClient, b"HTTP/1.0 200 OK\r\n\r\nbody", ctx(2, 3));
        t.on_data(
            4,
            ToServer,
            b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            ctx(3, 4),
        );
        t.on_close(4);
        (http(&mut t), t.take_conn_stats(4))
    };
    let (with, mut with_stats) = run(true);
    let (without, without_stats) = run(false);
    // The Host names the service only with details (the JSON conn record, which runs
    // without them, writes only the service's kind).
    assert_eq!(with_stats.service.name.text.as_str(), "h");
    assert!(without_stats.service.name.is_empty());
    with_stats.service.name = crate::app::ServiceName::default();
    assert_eq!(with_stats, without_stats);
    assert_eq!(with_stats.http_requests, 2);
    assert_eq!(with.len(), 2);
    assert!(!with[0].notes.is_empty());
    assert_eq!(with[0].host.as_deref(), Some("h"));
    for (a, b) in with.iter().zip(&without) {
        let mut a = a.clone();
        http::strip_details(&mut a);
        assert_eq!(&a, b);
        assert!(b.method.is_some() && b.uri.is_none() && b.notes.is_empty());
    }
    assert_eq!(without[0].response_body_bytes, Some(4));
    assert_eq!(without[1].request_body_bytes, Some(0));
}

#[test]
fn http_detected_by_content_not_port() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(
        7,
        ToServer,
        b"OPTIONS * HTTP/1.1\r\nHost: odd\r\n\r\n",
        ported(ctx(1, 0), (40000, 8081)),
    );
    t.on_data(7, ToClient, OK0, ctx(2, 1));
    let tx = http(&mut t);
    assert_eq!((tx.len(), tx[0].uri.as_deref()), (1, Some("*")));
    // TLS on port 80 is not HTTP: the GET is inside the 0x200-byte record body.
    let layers = t.feed_segment(
        8,
        ToServer,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        ported(ctx(3, 2), (40001, 80)),
    );
    assert_eq!(layers.app_of(3), Some(LayerName::Tls));
    let layers = t.feed_segment(8, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(4, 3));
    assert_eq!(layers.app_of(4), Some(LayerName::Tls));
    assert!(t.drain_events().next().is_none());
}

#[test]
fn chunk_size_overflow_is_an_error_not_a_panic() {
    for size in [
        "8000000000000000",
        "10000000000000000",
        "ffffffffffffffffffff",
    ] {
        let mut t = AppCollector::new(AppConfig::default());
        t.on_data(9, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(1, 0));
        let mut resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        resp.extend_from_slice(size.as_bytes());
        resp.extend_from_slice(b"\r\nxyz");
        t.on_data(9, ToClient, &resp, ctx(2, 1));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1);
        assert_eq!(tx[0].response_body_bytes, Some(0));
        let digit = if size.starts_with('1') { 17 } else { 16 };
        let want = format!(
            "chunked framing error: chunk size overflows 2^63-1 at hex digit {digit} (chunk 1, after 0 body bytes)"
        );
        assert!(has_note(&tx[0], &want), "{:?}", tx[0].notes);
        assert_eq!(t.stats().http.framing_errors, 1);
    }
    // The largest allowed size is accepted (and then cut by the close).
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(9, ToServer, b"GET / HTTP/1.1\r\n\r\n", ctx(1, 0));
    t.on_data(
        9,
        ToClient,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nxyz",
        ctx(2, 1),
    );
    t.on_close(9);
    let tx = http(&mut t);
    assert_eq!(tx[0].response_body_bytes, Some(3));
}

#[test]
fn oversized_head_gives_up_until_next_head() {
    let mut t = AppCollector::new(AppConfig {
        max_http_head: 64,
        ..AppConfig::default()
    });
    let mut req = b"GET /big HTTP/1.1\r\nX-Long: ".to_vec();
    req.extend_from_slice(&[b'a'; 100]);
    req.extend_from_slice(b"\r\n\r\nGET /small HTTP/1.1\r\n\r\n");
    t.on_data(10, ToServer, &req[..30], ctx(1, 0));
    t.on_data(10, ToServer, &req[30..], ctx(2, 0));
    t.on_data(10, ToClient, OK0, ctx(3, 1));
    t.on_data(10, ToClient, OK0, ctx(3, 1));
    let tx = http(&mut t);
    assert_eq!(t.stats().http.heads_too_large, 1);
    assert_eq!(tx.len(), 2);
    assert_eq!(
        (tx[0].request_frame, tx[0].method.as_deref()),
        (Some(1), None)
    );
    assert!(has_note(
        &tx[0],
        "request head larger than 64 bytes: parser gave up until the next head"
    ));
    assert_eq!(tx[1].uri.as_deref(), Some("/small"));
}

/// Found by the adversarial "endless head" capture: a head with more header fields
/// than httparse is given (128) stopped the direction silently as "not HTTP". It is a
/// head cap: counted, noted, and the parser waits for the next head.
#[test]
fn head_with_too_many_fields_is_a_counted_cut() {
    let mut t = AppCollector::new(AppConfig::default());
    let mut req = b"GET /many HTTP/1.1\r\n".to_vec();
    for i in 0..200 {
        req.extend_from_slice(format!("X-F{i}: v\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\nGET /next HTTP/1.1\r\n\r\n");
    t.on_data(11, ToServer, &req, ctx(1, 0));
    t.on_data(11, ToClient, OK0, ctx(2, 1));
    t.on_data(11, ToClient, OK0, ctx(3, 1));
    let tx = http(&mut t);
    assert_eq!(t.stats().http.heads_too_large, 1);
    assert_eq!(tx.len(), 2, "{tx:?}");
    assert!(has_note(
        &tx[0],
        "request head with more than 128 header fields: parser gave up until the next head"
    ));
    assert_eq!(tx[1].uri.as_deref(), Some("/next"));
}

#[test]
fn close_reports_unanswered_and_partial() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(
        11,
        ToServer,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        ctx(1, 0),
    );
    t.on_data(
        11,
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        ctx(2, 1),
    );
    t.on_close(11);
    let tx = http(&mut t);
    assert_eq!(tx.len(), 2);
    assert_eq!(tx[0].response_body_bytes, Some(3));
    assert!(has_note(
        &tx[0],
        "response body incomplete: 7 bytes missing when the sender closed"
    ));
    assert_eq!((tx[1].uri.as_deref(), tx[1].status), (Some("/2"), None));
    assert!(has_note(
        &tx[1],
        "no response seen before the connection ended"
    ));
    let s = t.take_conn_stats(11);
    assert_eq!((s.http_requests, s.http_responses), (2, 1));
}

/// id 0x5934, www.tcpdump.org A.
const QUERY: &[u8] = b"\x59\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
\x03www\x07tcpdump\x03org\x00\x00\x01\x00\x01";

fn nxdomain(id: u16) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(
        b"\x81\x83\x00\x01\x00\x00\x00\x00\x00\x00\x07nothere\x07example\x00\x00\x1c\x00\x01",
    );
    m
}

#[test]
fn dns_udp_query_and_nxdomain_with_latency() {
    let mut t = AppCollector::new(AppConfig::default());
    let mut q = 0xbeefu16.to_be_bytes().to_vec();
    q.extend_from_slice(
        b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07nothere\x07example\x00\x00\x1c\x00\x01",
    );
    let layers = t.feed_datagram(20, ToServer, &q, ported(ctx(1, 100), (51000, 53)));
    assert_eq!(layers.app_of(1), Some(LayerName::Dns));
    t.on_datagram(
        20,
        ToClient,
        &nxdomain(0xbeef),
        ported(ctx(2, 112), (53, 51000)),
    );
    let d = dns_events(&mut t);
    assert_eq!(d.len(), 2);
    assert_eq!(
        (d[0].id, d[0].response, d[0].latency_ms, d[0].tcp),
        (0xbeef, false, None, false)
    );
    assert_eq!(
        (d[0].qname.as_str(), d[0].qtype.as_str()),
        ("nothere.example", "AAAA")
    );
    assert_eq!(
        (d[1].frame, d[1].response, d[1].rcode.as_str()),
        (2, true, "NXDOMAIN")
    );
    assert_eq!(d[1].latency_ms, Some(12.0));
    assert!(d[1].answers.is_empty());
    t.on_close(20);
    assert_eq!(t.take_conn_stats(20).dns_messages, 2);
}

#[test]
fn dns_over_tcp_split_across_segments() {
    let mut t = AppCollector::new(AppConfig::default());
    let mut stream = (QUERY.len() as u16).to_be_bytes().to_vec();
    stream.extend_from_slice(QUERY);
    t.on_data(21, ToServer, &stream[..1], ported(ctx(4, 0), (40000, 53)));
    t.on_data(21, ToServer, &stream[1..20], ported(ctx(5, 1), (40000, 53)));
    assert!(dns_events(&mut t).is_empty());
    let layers = t.feed_segment(21, ToServer, &stream[20..], ctx(6, 2));
    let d = dns_events(&mut t);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].frame, d[0].id, d[0].tcp), (4, 0x5934, true));
    assert_eq!(d[0].qname, "www.tcpdump.org");
    assert_eq!(layers.app_of(6), Some(LayerName::Dns));
    // Without port information, a whole clean message in the first segment is DNS.
    let mut t = AppCollector::new(AppConfig::default());
    let mut two = stream.clone();
    two.extend_from_slice(&stream);
    t.on_data(22, ToServer, &two, ctx(7, 0));
    assert_eq!(dns_events(&mut t).len(), 2);
}

#[test]
fn truncated_dns() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_datagram(23, ToServer, &QUERY[..20], ported(ctx(1, 0), (5353, 5353)));
    let layers = t.feed_datagram(23, ToServer, &QUERY[..11], ported(ctx(2, 0), (5353, 5353)));
    let d = dns_events(&mut t);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].id, d[0].response, d[0].qname.as_str()),
        (0x5934, false, "")
    );
    assert_eq!(layers.app_of(2), None);
    // Off the DNS ports, a truncated message is not taken for DNS.
    t.on_datagram(24, ToServer, &QUERY[..20], ported(ctx(3, 0), (4000, 4001)));
    t.on_datagram(24, ToServer, b"hello world, not dns", ctx(4, 0));
    assert!(dns_events(&mut t).is_empty());
    // … but a clean one is, and then the flow's other messages are too.
    t.on_datagram(24, ToServer, QUERY, ctx(5, 0));
    t.on_datagram(24, ToServer, &QUERY[..20], ctx(6, 0));
    assert_eq!(dns_events(&mut t).len(), 2);
}

#[test]
fn response_to_a_request_that_is_not_http_is_kept() {
    let mut t = AppCollector::new(AppConfig::default());
    // "GET/" is no known method (tshark does not take it for HTTP either).
    let request = t.feed_segment(30, ToServer, b"GET/ HTTP/1.1\r\n\r\n", ctx(14, 0));
    let response = t.feed_segment(
        30,
        ToClient,
        b"HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad",
        ctx(16, 1),
    );
    let tx = http(&mut t);
    assert_eq!(tx.len(), 1);
    assert_eq!(
        (tx[0].request_frame, tx[0].response_frame, tx[0].status),
        (None, Some(16), Some(400))
    );
    assert!(has_note(
        &tx[0],
        "response without a request seen (request lost or before the capture)"
    ));
    assert_eq!(request.app_of(14), None);
    assert_eq!(response.app_of(16), Some(LayerName::Http));
}

/// Request lines from zeek's methods.pcap that tshark 4.0 still reads as requests
/// (method, uri, version as its http.request.* fields show them), and two it does not.
#[test]
fn lax_request_lines_read_as_tshark_does() {
    type Want<'a> = Option<(&'a str, &'a str, Option<&'a str>)>;
    let cases: [(&[u8], Want, &str); 7] = [
        (
            b"OPTIONS HTTP/1.1\nHost: www.google.com\n\n",
            Some(("OPTIONS", "HTTP/1.1", None)),
            "malformed request line (no HTTP version): read leniently, as tshark does",
        ),
        (
            b"OPTIONS\nHost: www.google.com\n\n",
            Some(("OPTIONS", "", None)),
            "malformed request line (no request target and no HTTP version): read leniently, as tshark does",
        ),
        (
            b"GET / HTTP/1.\nHost: www.google.com\n\n",
            Some(("GET", "/", Some("HTTP/1."))),
            "malformed request line (invalid HTTP version \"HTTP/1.\"): read leniently, as tshark does",
        ),
        (
            b"CCM_POST /HTTP/1.1\nHost: www.google.com\n\n",
            Some(("CCM_POST", "/HTTP/1.1", None)),
            "malformed request line (no HTTP version): read leniently, as tshark does",
        ),
        (
            b"GET  /x HTTP/1.1\r\nHost: h\r\n\r\n",
            Some(("GET", "/x", Some("HTTP/1.1"))),
            "malformed request line (extra spaces): read leniently, as tshark does",
        ),
        (b"OPTIONSHTTP/1.1\nHost: www.google.com\n\n", None, ""),
        (b"GET /\x01\x02 HTTP/1.1\r\n\r\n", None, ""),
    ];
    for (i, (req, want, note)) in cases.into_iter().enumerate() {
        let mut t = AppCollector::new(AppConfig::default());
        let conn = 40 + i as u64;
        // Fed in two pieces: the line's end decides, not the first segment.
        t.on_data(conn, ToServer, &req[..5], ctx(1, 0));
        t.on_data(conn, ToServer, &req[5..], ctx(2, 0));
        t.on_data(conn, ToClient, OK0, ctx(3, 1));
        let tx = http(&mut t);
        assert_eq!(tx.len(), 1, "case {i}");
        let got = tx[0]
            .method
            .as_deref()
            .map(|m| (m, tx[0].uri.as_deref().unwrap(), tx[0].version.as_deref()));
        assert_eq!(got, want, "case {i}");
        assert_eq!(tx[0].status, Some(200));
        if want.is_some() {
            assert_eq!(tx[0].request_frame, Some(1));
            assert!(has_note(&tx[0], note), "case {i}: {:?}", tx[0].notes);
        }
    }
}

/// zeek's tcp.pcap (snap length 96): frame 4 carries 30 of the request's 496 bytes,
/// frame 6 30 of the response's 1448; the acks then make the rest gaps. tshark still
/// shows GET /images/sf.net_box.gif and 200.
#[test]
fn heads_cut_by_the_snap_length_keep_their_first_line() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(0, ToServer, b"GET /images/sf.net_box.gif HTT", ctx(4, 145));
    t.on_gap(0, ToServer, 466, ctx(5, 289));
    assert!(http(&mut t).is_empty());
    t.on_data(
        0,
        ToClient,
        b"HTTP/1.1 200 OK\r\nDate: Tue, 16",
        ctx(6, 292),
    );
    t.on_gap(0, ToClient, 1418, ctx(7, 292));
    let tx = http(&mut t);
    assert_eq!(tx.len(), 1);
    let tx = &tx[0];
    assert_eq!(
        (tx.request_frame, tx.response_frame, tx.latency_ms),
        (Some(4), Some(6), Some(147.0))
    );
    assert_eq!(
        (
            tx.method.as_deref(),
            tx.uri.as_deref(),
            tx.version.as_deref()
        ),
        (Some("GET"), Some("/images/sf.net_box.gif"), None)
    );
    assert_eq!((tx.status, tx.reason.as_deref()), (Some(200), Some("OK")));
    assert_eq!(tx.response_body_bytes, None);
    assert_eq!(
        tx.notes,
        vec![
            "request head cut by a gap of 466 bytes after 30 bytes: kept what its first line says",
            "response head cut by a gap of 1418 bytes after 30 bytes: kept what its first line says"
        ]
    );
    t.on_close(0);
    let s = t.take_conn_stats(0);
    assert_eq!((s.http_requests, s.http_responses), (1, 1));
    // A status line cut at the close (no gap) is kept too; a bare method is not enough.
    t.on_data(1, ToClient, b"HTTP/1.0 404 Not Fo", ctx(8, 0));
    t.on_data(2, ToServer, b"GET ", ctx(9, 0));
    t.on_close(1);
    t.on_close(2);
    let tx = http(&mut t);
    assert_eq!(tx.len(), 1);
    assert_eq!(
        (tx[0].conn, tx[0].status, tx[0].reason.as_deref()),
        (1, Some(404), Some("Not Fo"))
    );
    assert!(has_note(
        &tx[0],
        "response head cut by the close after 19 bytes: kept what its first line says"
    ));
}

/// An SSDP search (pcapplusplus many-protocols.pcap, frame 30) and a reply.
#[test]
fn http_over_udp_one_datagram_one_message() {
    let mut t = AppCollector::new(AppConfig::default());
    let layers = t.feed_datagram(
        60,
        ToServer,
        b"M-SEARCH * HTTP/1.1\r\nHOST: [FF02::C]:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 3\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n",
        ported(ctx(30, 0), (50000, 1900)),
    );
    assert_eq!(layers.app_of(30), Some(LayerName::Http));
    t.on_datagram(
        61,
        ToClient,
        b"HTTP/1.1 200 OK\r\nST: upnp:rootdevice",
        ctx(31, 5),
    );
    // Not HTTP, not DNS: nothing.
    t.on_datagram(60, ToServer, b"M-SEARCH", ctx(32, 6));
    let tx = http(&mut t);
    assert_eq!(tx.len(), 2);
    assert_eq!(
        (
            tx[0].conn,
            tx[0].index,
            tx[0].request_frame,
            tx[0].response_frame
        ),
        (60, 1, Some(30), None)
    );
    assert_eq!(
        (
            tx[0].method.as_deref(),
            tx[0].uri.as_deref(),
            tx[0].version.as_deref(),
            tx[0].host.as_deref()
        ),
        (
            Some("M-SEARCH"),
            Some("*"),
            Some("HTTP/1.1"),
            Some("[FF02::C]:1900")
        )
    );
    assert_eq!(
        tx[0].notes,
        vec!["HTTP over UDP (e.g. SSDP): one datagram is one message, requests and responses not paired"]
    );
    assert_eq!(
        (
            tx[1].conn,
            tx[1].response_frame,
            tx[1].status,
            tx[1].method.as_deref()
        ),
        (61, Some(31), Some(200), None)
    );
    assert!(has_note(
        &tx[1],
        "head not complete in the datagram (36 bytes): kept what its first line says"
    ));
    t.on_close(60);
    let s = t.take_conn_stats(60);
    assert_eq!(
        (s.http_requests, s.http_responses, s.dns_messages),
        (1, 0, 0)
    );
}

/// many-protocols.pcap stream 34: "Access-Control-Allow-Credentials : true" (a space
/// before the colon) made the strict parser stop the direction; tshark reads it.
#[test]
fn space_before_colon_in_a_response_head_is_read_leniently() {
    let mut t = AppCollector::new(AppConfig::default());
    t.on_data(
        70,
        ToServer,
        b"GET /dmp.js?c=17 HTTP/1.1\r\n\r\n",
        ctx(735, 0),
    );
    t.on_data(
        70,
        ToClient,
        b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Credentials : true\r\nContent-Length: 3\r\n\r\nabc",
        ctx(772, 30),
    );
    t.on_data(70, ToServer, b"GET /2 HTTP/1.1\r\n\r\n", ctx(781, 40));
    t.on_data(70, ToClient, OK0, ctx(801, 50));
    let tx = http(&mut t);
    assert_eq!(tx.len(), 2);
    assert_eq!(
        (
            tx[0].status,
            tx[0].response_frame,
            tx[0].response_body_bytes
        ),
        (Some(200), Some(772), Some(3))
    );
    assert!(
        has_note(
            &tx[0],
            "response head not strictly valid (invalid header name): parsed leniently, as tshark does"
        ),
        "{:?}",
        tx[0].notes
    );
    assert_eq!(
        (tx[1].uri.as_deref(), tx[1].status),
        (Some("/2"), Some(200))
    );
}

#[test]
fn arbitrary_bytes_and_gaps_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let seeds: [&[u8]; 3] = [
        CHUNKED,
        b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
        QUERY,
    ];
    let mut t = AppCollector::new(AppConfig {
        max_http_head: 256,
        ..AppConfig::default()
    });
    for round in 0..3000u64 {
        let conn = round % 7;
        let seed = seeds[(next() % 3) as usize];
        let mut buf = seed.to_vec();
        for _ in 0..(next() % 4) {
            let i = (next() as usize) % buf.len();
            buf[i] = next() as u8;
        }
        let cut = (next() as usize) % (buf.len() + 1);
        let dir = if next() % 2 == 0 { ToServer } else { ToClient };
        match next() % 10 {
            0 => t.on_gap(conn, dir, next() % 5000, ctx(round, 0)),
            1 => t.on_fin(conn, dir, ctx(round, 0)),
            2 => t.on_close(conn),
            3 => t.on_datagram(conn + 100, dir, &buf[..cut], ctx(round, 0)),
            _ => t.on_data(conn, dir, &buf[..cut], ctx(round, 0)),
        }
        let _ = t.drain_events().count();
    }
    for c in 0..7 {
        t.on_close(c);
    }
}

#[test]
fn a_connections_app_state_is_small_and_fixed() {
    use std::mem::size_of;
    // It lives in the flow table's slot of every connection: 16 bytes of parser kind (a
    // box or an index), the counters (224 of them the service names, inline), the DNS
    // queries waiting (a map, empty unless DNS). Parsers are boxed, made when needed.
    assert_eq!(size_of::<Kind>(), 16);
    assert!(
        size_of::<ConnApp>() <= 392,
        "ConnApp is {} bytes",
        size_of::<ConnApp>()
    );
}
