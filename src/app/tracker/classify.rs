//! Which parser a connection gets: on a TCP stream's first bytes, DNS by its ports, then
//! by content (a TLS hello record, the HTTP/2 preface, a clean DNS message, else HTTP, which
//! gives up on a direction that is not HTTP); on a UDP flow, QUIC by its first datagram,
//! HTTP (SSDP) by a message's start line, DNS by its ports or a clean message.

use super::conn_app::Kind;
use super::http_feed::new_http;
use super::tls_feed::tls_conn;
use super::AppConfig;
use crate::app::dns::{self, Decoded};
use crate::app::follow_watch::FollowWatch;
use crate::app::http::{classify_start, HttpConn, Start};
use crate::app::slab::Slab;
use crate::app::tls::starts_like_tls;
use crate::app::{http2, quic};
use crate::flow::{ConnId, SegmentCtx};

/// Ports that make a UDP datagram or TCP stream DNS without further proof (DNS, mDNS,
/// LLMNR).
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

/// Whether the connection's ports (from its stream context) include a DNS port.
pub(super) fn ports_say_dns(ctx: &SegmentCtx) -> bool {
    ctx.ports
        .is_some_and(|(c, s)| DNS_PORTS.contains(&c) || DNS_PORTS.contains(&s))
}

/// A TCP stream that starts with a whole, cleanly parsing DNS message with one question.
fn looks_like_dns_tcp(data: &[u8]) -> bool {
    let [a, b, rest @ ..] = data else {
        return false;
    };
    let len = u16::from_be_bytes([*a, *b]) as usize;
    match rest.get(..len).and_then(dns::decode) {
        Some(m) => m.complete && m.qdcount == 1,
        None => false,
    }
}

/// The parser of a TCP stream whose first bytes are `data` (`dns_port`: one of its ports is
/// a DNS port); an HTTP state is taken from `http`. Each HTTP direction is detected on its
/// own content (a direction that does not start like HTTP stops itself), so only DNS and
/// TLS need deciding here: DNS ports first, then a TLS hello record, then a clean DNS
/// message, else HTTP.
pub(super) fn stream_kind(
    config: &AppConfig,
    http: &mut Slab<HttpConn>,
    conn: ConnId,
    dns_port: bool,
    data: &[u8],
    ctx: &SegmentCtx,
) -> Kind {
    if dns_port {
        Kind::DnsTcp(Box::default())
    } else if starts_like_tls(data) {
        if let (Some(w), Some(_)) = (
            FollowWatch::of(config.follow_watch.as_ref(), conn),
            &config.keylog,
        ) {
            w.set_decrypting();
        }
        Kind::Tls(Box::new(tls_conn(config, ctx)))
    } else if data.starts_with(b"PRI * HTTP/2.0") {
        Kind::Http2(Box::new(http2::Http2Conn::new().configured(config, conn)))
    } else if looks_like_dns_tcp(data) && classify_start(data) == Start::No {
        // (The DNS check first: on HTTP bytes it fails at the length prefix.)
        Kind::DnsTcp(Box::default())
    } else {
        Kind::Http(new_http(http))
    }
}

/// Whether the first datagram of a flow without app state starts a QUIC flow (never on a
/// DNS port).
pub(super) fn starts_quic_flow(port_dns: bool, data: &[u8]) -> bool {
    !port_dns && quic::starts_like_quic(data)
}

/// Whether a datagram may be an HTTP message (SSDP): it starts like a request or a
/// response, on a flow that neither has a DNS port nor carried DNS.
pub(super) fn may_be_udp_http(port_dns: bool, dns_known: bool, data: &[u8]) -> bool {
    !port_dns && !dns_known && matches!(classify_start(data), Start::Request | Start::Response)
}

/// Whether a datagram that decoded as DNS is taken as DNS: DNS on ports 53, 5353 and 5355
/// (or on a flow that carried DNS) is trusted without further proof; elsewhere the message
/// must parse cleanly with one question.
pub(super) fn takes_as_dns(port_dns: bool, dns_known: bool, m: &Decoded) -> bool {
    port_dns || dns_known || (m.complete && m.qdcount == 1)
}
