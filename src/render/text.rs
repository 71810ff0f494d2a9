//! Shared text pieces: endpoints, one-line packet summaries (tshark's Info column).

use crate::decode::{DecodedPacket, Transport};
use crate::flow::Step;
use crate::render::escape::escape_bytes;
use std::io::{self, Write};
use std::net::IpAddr;

/// Source and destination of a packet, where it has addresses.
pub(crate) struct Endpoints {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
}

impl Endpoints {
    pub fn of(packet: &DecodedPacket<'_>) -> Option<Endpoints> {
        if let Some(net) = &packet.net {
            let ports = packet.ports();
            return Some(Endpoints {
                src: net.src,
                dst: net.dst,
                src_port: ports.map(|p| p.0),
                dst_port: ports.map(|p| p.1),
            });
        }
        if let Some(arp) = &packet.arp {
            if let (Some(s), Some(d)) = (arp.sender_ip, arp.target_ip) {
                return Some(Endpoints {
                    src: s,
                    dst: d,
                    src_port: None,
                    dst_port: None,
                });
            }
        }
        None
    }
}

/// "addr:port", "[v6]:port" or "addr".
pub(crate) fn write_endpoint<W: Write>(w: &mut W, ip: IpAddr, port: Option<u16>) -> io::Result<()> {
    match (ip, port) {
        (IpAddr::V4(a), _) => {
            // The common case without `core::fmt`: at most "255.255.255.255:65535".
            let mut buf = [0u8; 21];
            let n = put_ipv4_port(&mut buf, a.octets(), port);
            w.write_all(buf.get(..n).unwrap_or(&[]))
        }
        (IpAddr::V6(a), Some(p)) => write!(w, "[{a}]:{p}"),
        (ip, None) => write!(w, "{ip}"),
    }
}

/// Each octet's decimal digits (left-aligned, zero-filled) and how many there are.
const OCTET_TEXT: [([u8; 3], u8); 256] = octet_text();

const fn octet_text() -> [([u8; 3], u8); 256] {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut o = 0;
    while o < 256 {
        let v = o as u8;
        t[o] = if v >= 100 {
            ([b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10], 3)
        } else if v >= 10 {
            ([b'0' + v / 10, b'0' + v % 10, 0], 2)
        } else {
            ([b'0' + v, 0, 0], 1)
        };
        o += 1;
    }
    t
}

/// Writes "a.b.c.d" (and ":port") at the start of `buf`; returns the length written.
/// Each octet's text comes from a table, copied three bytes at a time (the bytes past its
/// digits are overwritten by what follows, or lie past the returned length).
pub(crate) fn put_ipv4_port(buf: &mut [u8; 21], octets: [u8; 4], port: Option<u16>) -> usize {
    let mut n = 0;
    for (i, o) in octets.into_iter().enumerate() {
        if i > 0 {
            if let Some(slot) = buf.get_mut(n) {
                *slot = b'.';
            }
            n += 1;
        }
        let (digits, len) = OCTET_TEXT[usize::from(o)];
        if let Some(slot) = buf.get_mut(n..n + 3) {
            slot.copy_from_slice(&digits);
        }
        n += usize::from(len);
    }
    if let Some(p) = port {
        let mut digits = [b':'; 6];
        let mut k = digits.len();
        let mut v = p;
        loop {
            k -= 1;
            if let Some(d) = digits.get_mut(k) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || k <= 1 {
                break;
            }
        }
        // `digits[k - 1]` is the ':'.
        let text = digits.get(k - 1..).unwrap_or(&[]);
        if let Some(slot) = buf.get_mut(n..n + text.len()) {
            slot.copy_from_slice(text);
        }
        n += text.len();
    }
    n.min(buf.len())
}

/// [`write_endpoint`] appended to a byte buffer.
pub(crate) fn put_endpoint(out: &mut Vec<u8>, ip: IpAddr, port: Option<u16>) {
    match ip {
        IpAddr::V4(a) => {
            let mut buf = [0u8; 21];
            let n = put_ipv4_port(&mut buf, a.octets(), port);
            out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
        }
        IpAddr::V6(a) => {
            let _ = match port {
                Some(p) => write!(out, "[{a}]:{p}"),
                None => write!(out, "{a}"),
            };
        }
    }
}

pub(crate) fn endpoint_string(ip: IpAddr, port: Option<u16>) -> String {
    let mut v = Vec::with_capacity(48);
    put_endpoint(&mut v, ip, port);
    String::from_utf8(v).unwrap_or_default()
}

/// Appends `v` in decimal without `core::fmt` (the per-packet rows and records).
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
        return;
    }
    let mut tmp = [0u8; 20];
    let i = digits_into(&mut tmp, v);
    out.extend_from_slice(tmp.get(i..).unwrap_or(&[]));
}

/// "00" "01" … "99": two digits per division.
pub(crate) const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `v` in decimal at the end of `tmp`; returns where the digits start.
pub(crate) fn digits_into(tmp: &mut [u8; 20], mut v: u64) -> usize {
    let mut i = tmp.len();
    while v >= 100 && i >= 2 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if v >= 10 && i >= 2 {
        let pair = v as usize * 2;
        i -= 2;
        tmp[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else if i >= 1 {
        i -= 1;
        tmp[i] = b'0' + v as u8;
    }
    i
}

/// Whether `bad` holds for some 8-byte word of `s` (read as a `u64`), the words covering
/// every byte: the last one overlaps the one before it, and a shorter `s` is read as one
/// word with bytes repeated. For "some byte is …" tests, which a repeated byte does not
/// change: no byte-by-byte loop over the tail.
#[inline]
pub(crate) fn any_word(s: &[u8], bad: impl Fn(u64) -> bool) -> bool {
    let n = s.len();
    if n >= 8 {
        let mut chunks = s.chunks_exact(8);
        for c in &mut chunks {
            if bad(u64::from_ne_bytes(c.try_into().unwrap_or([b'a'; 8]))) {
                return true;
            }
        }
        let last = s.get(n - 8..).and_then(|w| <[u8; 8]>::try_from(w).ok());
        !chunks.remainder().is_empty() && bad(u64::from_ne_bytes(last.unwrap_or([b'a'; 8])))
    } else if n >= 4 {
        let half = |from: usize| {
            let w = s
                .get(from..from + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok());
            u32::from_ne_bytes(w.unwrap_or([b'a'; 4]))
        };
        bad(u64::from(half(0)) | u64::from(half(n - 4)) << 32)
    } else if n > 0 {
        let at = |i: usize| s.get(i).copied().unwrap_or(b'a');
        let (a, m, z) = (at(0), at(n / 2), at(n - 1));
        bad(u64::from_ne_bytes([a, m, z, a, a, a, a, a]))
    } else {
        false
    }
}

/// Appends `v` in decimal, right-aligned in `width` columns filled with `fill`
/// (`{:>width}` with b' ', `{:0width}` with b'0').
pub(crate) fn put_u64_padded(out: &mut Vec<u8>, v: u64, width: usize, fill: u8) {
    let mut tmp = [0u8; 20];
    let i = digits_into(&mut tmp, v);
    let digits = tmp.get(i..).unwrap_or(&[]);
    for _ in digits.len()..width {
        out.push(fill);
    }
    out.extend_from_slice(digits);
}

/// Appends `text` right-aligned in `width` columns (`{:>width}`; ASCII: a column per byte).
pub(crate) fn put_right(out: &mut Vec<u8>, text: &[u8], width: usize) {
    pad_to(out, width.saturating_sub(text.len()));
    out.extend_from_slice(text);
}

/// Pads what was appended to `out` since `start` with spaces on the right to `width`
/// columns (`{:<width}`; ASCII text: a column per byte).
pub(crate) fn pad_right(out: &mut Vec<u8>, start: usize, width: usize) {
    let have = out.len().saturating_sub(start);
    pad_to(out, width.saturating_sub(have));
}

/// Appends `n` spaces.
pub(crate) fn pad_to(out: &mut Vec<u8>, n: usize) {
    let mut left = n;
    while left > 0 {
        let k = left.min(SPACES.len());
        out.extend_from_slice(SPACES.get(..k).unwrap_or(&[]));
        left -= k;
    }
}

const SPACES: &[u8] = b"                                                                ";

const METHODS: [&[u8]; 9] = [
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"PATCH ",
    b"CONNECT ",
    b"TRACE ",
];

/// The first line of an HTTP head at the start of `payload`, if it looks like one.
pub(crate) fn http_first_line(payload: &[u8]) -> Option<&[u8]> {
    let looks = payload.starts_with(b"HTTP/1.") || METHODS.iter().any(|m| payload.starts_with(m));
    if !looks {
        return None;
    }
    let end = payload
        .iter()
        .take(512)
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(payload.len().min(512));
    Some(&payload[..end])
}

/// tshark-like one-line summary of the packet's top layer.
pub(crate) fn info(packet: &DecodedPacket<'_>, rel: Option<(u32, u32)>, out: &mut Vec<u8>) {
    if let Some(arp) = &packet.arp {
        match (arp.operation, arp.sender_ip, arp.target_ip) {
            (1, Some(s), Some(t)) => {
                let _ = write!(out, "Who has {t}? Tell {s}");
            }
            (2, Some(s), _) => {
                let _ = write!(out, "{s} is at ");
                if let Some(m) = arp.sender_mac {
                    let _ = write!(
                        out,
                        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                        m[0], m[1], m[2], m[3], m[4], m[5]
                    );
                }
            }
            (op, _, _) => {
                let _ = write!(out, "ARP operation {op}");
            }
        }
        return;
    }
    match &packet.transport {
        Some(Transport::Tcp(t)) => {
            let (seq, ack) = rel.unwrap_or((t.seq, t.ack));
            // Pieces pushed one by one: this runs for every TCP packet of the table.
            put_u64(out, u64::from(t.src_port));
            out.extend_from_slice(" → ".as_bytes());
            put_u64(out, u64::from(t.dst_port));
            out.extend_from_slice(b" [");
            let mut first = true;
            for name in t.flags.names() {
                if !first {
                    out.push(b'+');
                }
                out.extend_from_slice(name.as_bytes());
                first = false;
            }
            if first {
                out.extend_from_slice(b"none");
            }
            out.extend_from_slice(b"] Seq=");
            put_u64(out, u64::from(seq));
            if t.flags.ack() {
                out.extend_from_slice(b" Ack=");
                put_u64(out, u64::from(ack));
            }
            out.extend_from_slice(b" Win=");
            put_u64(out, u64::from(t.window));
            out.extend_from_slice(b" Len=");
            put_u64(out, u64::from(t.payload_len));
            let o = &t.options;
            if let Some(mss) = o.mss {
                out.extend_from_slice(b" MSS=");
                put_u64(out, u64::from(mss));
            }
            if o.sack_permitted {
                out.extend_from_slice(b" SACK_PERM");
            }
            if let Some(ws) = o.window_scale {
                out.extend_from_slice(b" WS=");
                put_u64(out, 1u64 << ws.min(14));
            }
            if o.fast_open {
                out.extend_from_slice(b" TFO");
            }
            if let Some(line) = http_first_line(packet.payload) {
                out.extend_from_slice(" · ".as_bytes());
                // Once per HTTP head.
                let mut text = String::new();
                escape_bytes(line, &mut text);
                out.extend_from_slice(text.as_bytes());
            }
        }
        Some(Transport::Udp(u)) => {
            put_u64(out, u64::from(u.src_port));
            out.extend_from_slice(" → ".as_bytes());
            put_u64(out, u64::from(u.dst_port));
            out.extend_from_slice(b" Len=");
            put_u64(out, u64::from(u.length.saturating_sub(8)));
        }
        Some(Transport::Icmpv4(i)) => {
            let name = match (i.icmp_type, i.code) {
                (0, _) => "Echo (ping) reply",
                (8, _) => "Echo (ping) request",
                (3, 3) => "Destination unreachable (Port unreachable)",
                (3, _) => "Destination unreachable",
                (11, _) => "Time-to-live exceeded",
                (5, _) => "Redirect",
                _ => "ICMP",
            };
            let _ = write!(out, "{name} type={} code={}", i.icmp_type, i.code);
            if let Some((id, seq)) = i.echo {
                let _ = write!(out, " id=0x{id:04x} seq={seq}");
            }
        }
        Some(Transport::Icmpv6(i)) => {
            let name = match i.icmp_type {
                1 => "Destination Unreachable",
                2 => "Packet Too Big",
                3 => "Time Exceeded",
                128 => "Echo (ping) request",
                129 => "Echo (ping) reply",
                133 => "Router Solicitation",
                134 => "Router Advertisement",
                135 => "Neighbor Solicitation",
                136 => "Neighbor Advertisement",
                _ => "ICMPv6",
            };
            let _ = write!(out, "{name} type={} code={}", i.icmp_type, i.code);
            if let Some((id, seq)) = i.echo {
                let _ = write!(out, " id=0x{id:04x} seq={seq}");
            }
        }
        None => {
            if let Some(net) = &packet.net {
                if let Some(frag) = net.fragment {
                    let _ = write!(
                        out,
                        "Fragmented IP protocol (proto={}, off={}, ID={:x}{})",
                        net.protocol,
                        frag.offset,
                        net.ident,
                        if frag.more { ", more" } else { "" }
                    );
                    if let Some(f) = &packet.first_fragment {
                        let _ = write!(
                            out,
                            " · first fragment: {} {} → {}",
                            f.protocol_name().to_ascii_uppercase(),
                            f.src_port,
                            f.dst_port
                        );
                        if let Some(t) = f.tcp {
                            let _ = write!(out, " seq={} ack={}", t.seq, t.ack);
                        }
                        out.extend_from_slice(" (not reassembled yet)".as_bytes());
                    }
                } else {
                    let _ = write!(out, "IP protocol {}", net.protocol);
                }
            }
        }
    }
    if !packet.app_frames.is_empty() {
        out.extend_from_slice(" · ".as_bytes());
        crate::render::app_frames::put_frames_text(&packet.app_frames, out);
    }
    if let Some(issue) = &packet.issue {
        if !out.is_empty() {
            out.extend_from_slice(" · ".as_bytes());
        }
        out.extend_from_slice("⚠ ".as_bytes());
        // Issue text is ours, but escape anyway: it may quote values from the wire.
        let mut text = String::new();
        escape_bytes(issue.to_string().as_bytes(), &mut text);
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn ipv4_endpoints_as_display_writes_them() {
        for o in 0..=255u8 {
            for (i, port) in [
                None,
                Some(0),
                Some(7),
                Some(80),
                Some(443),
                Some(8080),
                Some(65535),
            ]
            .into_iter()
            .enumerate()
            {
                let mut octets = [10, 255, 0, 99];
                octets[i % 4] = o;
                let a = Ipv4Addr::from(octets);
                let want = match port {
                    Some(p) => format!("{a}:{p}"),
                    None => a.to_string(),
                };
                let mut buf = [0u8; 21];
                let n = put_ipv4_port(&mut buf, octets, port);
                assert_eq!(&buf[..n], want.as_bytes());
            }
        }
    }

    #[test]
    fn endpoints_as_display_writes_them() {
        let v4 = IpAddr::V4(Ipv4Addr::new(10, 0, 255, 7));
        assert_eq!(endpoint_string(v4, Some(8080)), "10.0.255.7:8080");
        assert_eq!(endpoint_string(v4, Some(0)), "10.0.255.7:0");
        assert_eq!(
            endpoint_string(IpAddr::V4(Ipv4Addr::new(255, 255, 255, 255)), Some(65535)),
            "255.255.255.255:65535"
        );
        assert_eq!(endpoint_string(v4, None), "10.0.255.7");
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(endpoint_string(v6, Some(443)), "[::1]:443");
        let mut w = Vec::new();
        write_endpoint(&mut w, v4, Some(53)).unwrap();
        assert_eq!(w, b"10.0.255.7:53");
    }

    #[test]
    fn numbers_and_padding() {
        let mut s = Vec::new();
        put_u64(&mut s, 0);
        s.push(b' ');
        put_u64(&mut s, u64::MAX);
        assert_eq!(s, b"0 18446744073709551615");
        let mut s = b"a".to_vec();
        put_right(&mut s, b"b", 4);
        assert_eq!(s, b"a   b");
        pad_right(&mut s, 0, 7);
        assert_eq!(s, b"a   b  ");
        pad_right(&mut s, 0, 3);
        assert_eq!(s, b"a   b  ");
        let mut s = Vec::new();
        put_u64_padded(&mut s, 42, 6, b' ');
        put_u64_padded(&mut s, 7, 3, b'0');
        put_u64_padded(&mut s, 123_456, 3, b'0');
        assert_eq!(s, b"    42007123456");
        let mut s = Vec::new();
        pad_right(&mut s, 0, 100);
        assert_eq!(s, vec![b' '; 100]);
    }
}

/// A connection's step labels as the human views word them, one packet after another (the
/// ladder's text and SVG and the connection tables take them from here): the flow's own
/// label, except that a FIN+ACK that also acknowledges the peer's FIN — which the flow
/// numbers step 3 right after step 1 — is "teardown 2+3/4" (steps 2 and 3 in one packet).
#[derive(Default)]
pub(crate) struct StepLabels {
    last_teardown: Option<u8>,
}

impl StepLabels {
    pub(crate) fn label(&mut self, step: Option<Step>) -> Option<&'static str> {
        let step = step?;
        if let Step::Teardown(n) = step {
            let merged = n == 3 && self.last_teardown == Some(1);
            self.last_teardown = Some(n);
            if merged {
                return Some("teardown 2+3/4");
            }
        }
        Some(step.label())
    }
}
