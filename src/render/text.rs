//! Shared text pieces: endpoints, one-line packet summaries (tshark's Info column).

use crate::decode::{DecodedPacket, Transport};
use crate::render::escape::escape_bytes;
use std::fmt::Write as _;
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
        (IpAddr::V6(a), Some(p)) => write!(w, "[{a}]:{p}"),
        (ip, Some(p)) => write!(w, "{ip}:{p}"),
        (ip, None) => write!(w, "{ip}"),
    }
}

pub(crate) fn endpoint_string(ip: IpAddr, port: Option<u16>) -> String {
    let mut v = Vec::with_capacity(48);
    let _ = write_endpoint(&mut v, ip, port);
    String::from_utf8(v).unwrap_or_default()
}

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
pub(crate) fn info(packet: &DecodedPacket<'_>, rel: Option<(u32, u32)>, out: &mut String) {
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
            let _ = write!(
                out,
                "{} → {} [{}] Seq={}",
                t.src_port, t.dst_port, t.flags, seq
            );
            if t.flags.ack() {
                let _ = write!(out, " Ack={ack}");
            }
            let _ = write!(out, " Win={} Len={}", t.window, t.payload_len);
            let o = &t.options;
            if let Some(mss) = o.mss {
                let _ = write!(out, " MSS={mss}");
            }
            if o.sack_permitted {
                out.push_str(" SACK_PERM");
            }
            if let Some(ws) = o.window_scale {
                let _ = write!(out, " WS={}", 1u32 << ws.min(14));
            }
            if o.fast_open {
                out.push_str(" TFO");
            }
            if let Some(line) = http_first_line(packet.payload) {
                out.push_str(" · ");
                escape_bytes(line, out);
            }
        }
        Some(Transport::Udp(u)) => {
            let _ = write!(
                out,
                "{} → {} Len={}",
                u.src_port,
                u.dst_port,
                u.length.saturating_sub(8)
            );
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
                } else {
                    let _ = write!(out, "IP protocol {}", net.protocol);
                }
            }
        }
    }
    if let Some(issue) = &packet.issue {
        if !out.is_empty() {
            out.push_str(" · ");
        }
        out.push_str("⚠ ");
        // Issue text is ours, but escape anyway: it may quote values from the wire.
        escape_bytes(issue.to_string().as_bytes(), out);
    }
}
