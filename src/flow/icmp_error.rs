//! ICMP and ICMPv6 error messages (destination unreachable, time exceeded, packet too
//! big, parameter problem, source quench, redirect) and the packet they quote.
//!
//! An error carries the IP header and at least the first 8 bytes of the packet that caused
//! it (RFC 792, RFC 4443 §2.4): enough for the quoted packet's addresses and ports. As in
//! Zeek (`icmp_unreachable`, `icmp_time_exceeded` … carry an `icmp_context` with the
//! quoted `conn_id`), the error stays its own one-way ICMP connection and the quoted
//! connection's conn.log fields are not changed by it; layerscope links the two: the error's
//! packet record names the quoted connection (JSON `quoted_conn`, as tshark puts the ICMP
//! frame in the quoted packet's `udp.stream`/`tcp.stream`) and the quoted connection
//! counts its errors (JSON `icmp_errors`).

use super::Proto;
use crate::wire::{ipv4::Ipv4, ipv6::Ipv6, IpNumber};
use std::net::IpAddr;

/// One ICMP error message: which, and the frame that carried it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpError {
    /// ICMPv6 rather than ICMP.
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    pub frame: u64,
}

/// The ICMP errors that quoted a packet of one connection: how many, and the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IcmpErrors {
    pub count: u64,
    pub last: IcmpError,
}

impl IcmpErrors {
    /// The first error.
    pub fn new(first: IcmpError) -> IcmpErrors {
        IcmpErrors {
            count: 1,
            last: first,
        }
    }
    /// One more error.
    pub fn add(&mut self, e: IcmpError) {
        self.count = self.count.saturating_add(1);
        self.last = e;
    }
}

/// Whether an ICMP (`v6` false) or ICMPv6 message of this type is an error that quotes
/// the packet that caused it.
pub fn is_error(v6: bool, icmp_type: u8) -> bool {
    if v6 {
        matches!(icmp_type, 1..=4)
    } else {
        matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
    }
}

impl IcmpError {
    /// The message's name as RFC 792 / RFC 1812 / RFC 4443 call it ("port unreachable",
    /// "TTL exceeded in transit", "packet too big" …).
    pub fn name(&self) -> &'static str {
        if self.v6 {
            return match (self.icmp_type, self.code) {
                (1, 0) => "no route to destination",
                (1, 1) => "communication administratively prohibited",
                (1, 2) => "beyond scope of source address",
                (1, 3) => "address unreachable",
                (1, 4) => "port unreachable",
                (1, 5) => "source address failed ingress/egress policy",
                (1, 6) => "reject route to destination",
                (1, _) => "destination unreachable",
                (2, _) => "packet too big",
                (3, 0) => "hop limit exceeded in transit",
                (3, 1) => "fragment reassembly time exceeded",
                (3, _) => "time exceeded",
                (4, 0) => "erroneous header field",
                (4, 1) => "unrecognized next header",
                (4, 2) => "unrecognized IPv6 option",
                _ => "parameter problem",
            };
        }
        match (self.icmp_type, self.code) {
            (3, 0) => "net unreachable",
            (3, 1) => "host unreachable",
            (3, 2) => "protocol unreachable",
            (3, 3) => "port unreachable",
            (3, 4) => "fragmentation needed",
            (3, 5) => "source route failed",
            (3, 9) | (3, 10) | (3, 13) => "communication administratively prohibited",
            (3, _) => "destination unreachable",
            (4, _) => "source quench",
            (5, _) => "redirect",
            (11, 0) => "TTL exceeded in transit",
            (11, _) => "fragment reassembly time exceeded",
            _ => "parameter problem",
        }
    }
}

/// The transport flow of the packet an error quotes: protocol, source and destination
/// (the quoted packet's own direction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotedFlow {
    pub proto: Proto,
    pub src: IpAddr,
    pub src_port: u16,
    pub dst: IpAddr,
    pub dst_port: u16,
}

/// The quoted packet of an error whose ICMP data (after the 8-byte ICMP header) is
/// `data`: an IPv4 (ICMP) or IPv6 (ICMPv6) header, then a TCP, UDP or SCTP header of which
/// the ports (its first 4 bytes) were quoted. None for anything else, a fragment other
/// than the first, or too few bytes.
pub fn quoted_flow(v6: bool, data: &[u8]) -> Option<QuotedFlow> {
    let (src, dst, protocol, transport) = if v6 {
        let ip = Ipv6::new_checked(data).ok()?;
        let rest = data.get(ip.header_len()..)?;
        (
            IpAddr::V6(ip.source()),
            IpAddr::V6(ip.destination()),
            ip.upper_protocol(),
            rest,
        )
    } else {
        let ip = Ipv4::new_checked(data).ok()?;
        // A later fragment quotes no transport header.
        if ip.fragment_offset() != 0 {
            return None;
        }
        let rest = data.get(ip.header_len()..)?;
        (
            IpAddr::V4(ip.source()),
            IpAddr::V4(ip.destination()),
            ip.protocol(),
            rest,
        )
    };
    let proto = match protocol {
        IpNumber::TCP => Proto::Tcp,
        IpNumber::UDP => Proto::Udp,
        p if p.0 == super::community_id::IPPROTO_SCTP => Proto::Sctp,
        _ => return None,
    };
    let ports = transport.get(..4)?;
    Some(QuotedFlow {
        proto,
        src,
        src_port: u16::from_be_bytes([ports[0], ports[1]]),
        dst,
        dst_port: u16::from_be_bytes([ports[2], ports[3]]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 792's port unreachable quotes the IPv4 header and 8 bytes: the bytes of frame 14
    /// of tcpdump's mpls-traceroute.pcap (tshark: udp 12.4.4.4:42315 → 12.1.1.1:33441).
    #[test]
    fn quoted_udp_over_ipv4() {
        let quoted = [
            0x45, 0x00, 0x00, 0x28, 0xa5, 0x52, 0x00, 0x00, 0x01, 0x11, 0xf7, 0x69, 12, 4, 4, 4,
            12, 1, 1, 1, 0xa5, 0x4b, 0x82, 0xa1, 0x00, 0x14, 0x00, 0x00,
        ];
        let q = quoted_flow(false, &quoted).unwrap();
        assert_eq!(q.proto, Proto::Udp);
        assert_eq!(q.src, "12.4.4.4".parse::<IpAddr>().unwrap());
        assert_eq!((q.src_port, q.dst_port), (42315, 33441));
        assert_eq!(q.dst, "12.1.1.1".parse::<IpAddr>().unwrap());
        // Only the IP header: no ports, no flow; not IPv4: none.
        assert_eq!(quoted_flow(false, &quoted[..22]), None);
        assert_eq!(quoted_flow(true, &quoted), None);
        // A later fragment (offset 1 × 8 bytes) quotes no ports.
        let mut later = quoted;
        later[7] = 1;
        assert_eq!(quoted_flow(false, &later), None);
        // ICMP inside ICMP is not a transport flow.
        let mut icmp = quoted;
        icmp[9] = 1;
        assert_eq!(quoted_flow(false, &icmp), None);
    }

    /// An ICMPv6 error quoting TCP behind a hop-by-hop options header (8 bytes).
    #[test]
    fn quoted_tcp_over_ipv6_behind_an_extension_header() {
        let mut q = vec![0x60, 0, 0, 0, 0, 28, 0, 64];
        q.extend_from_slice(
            &"2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        );
        q.extend_from_slice(
            &"2001:db8::2"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        );
        q.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        q.extend_from_slice(&[0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1]);
        let f = quoted_flow(true, &q).unwrap();
        assert_eq!(f.proto, Proto::Tcp);
        assert_eq!((f.src_port, f.dst_port), (50000, 443));
        assert_eq!(f.dst, "2001:db8::2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn names_and_kinds() {
        let e = |v6, t, c| IcmpError {
            v6,
            icmp_type: t,
            code: c,
            frame: 1,
        };
        assert_eq!(e(false, 3, 3).name(), "port unreachable");
        assert_eq!(e(false, 11, 0).name(), "TTL exceeded in transit");
        assert_eq!(e(true, 1, 4).name(), "port unreachable");
        assert_eq!(e(true, 2, 0).name(), "packet too big");
        assert!(is_error(false, 3) && is_error(true, 2));
        assert!(!is_error(false, 8) && !is_error(true, 128) && !is_error(false, 0));
    }
}
