//! Community ID v1 (corelight/community-id-spec): a flow hash that Zeek, Suricata,
//! Wireshark and Elastic compute alike, so records of one connection join across tools.
//!
//! The hash itself comes from the `community-id` crate (MIT/Apache, SHA-1 + base64 as the
//! spec says, ICMP/ICMPv6 type pairing from the reference implementation). This module
//! only says which numbers of a layerscope connection go in: the IP protocol number, both
//! addresses, and the ports, which for ICMP and ICMPv6 are the originator's message type
//! and code (Zeek's `id.orig_p`/`id.resp_p` for ICMP carry the same two numbers).
//!
//! Computed when a record that shows it is written, never per packet.

use super::ConnSummary;
use std::net::IpAddr;

/// The seed when none is asked for (the spec's default).
pub const DEFAULT_SEED: u16 = 0;

/// IP protocol numbers the spec hashes with ports (or ICMP type/code).
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_SCTP: u8 = 132;

/// The Community ID ("1:" + base64 of the SHA-1) of a flow seen from `src` to `dst`.
/// `ports` are (source, destination) ports for TCP, UDP and SCTP, (type, code) for ICMP
/// and ICMPv6, None for other protocols. None when the spec has no hash for the input
/// (addresses of two families, TCP/UDP/SCTP without ports, ICMPv6 over IPv4).
pub fn community_id(
    seed: u16,
    proto: u8,
    src: IpAddr,
    dst: IpAddr,
    ports: Option<(u16, u16)>,
) -> Option<String> {
    let (sport, dport) = match ports {
        Some((s, d)) => (Some(s), Some(d)),
        None => (None, None),
    };
    community_id::calculate_community_id(seed, src, dst, sport, dport, proto, false).ok()
}

/// The Community ID of a connection, from its client to its server.
pub fn of_conn(conn: &ConnSummary, seed: u16) -> Option<String> {
    community_id(
        seed,
        conn.proto.ip_proto(),
        conn.client.ip(),
        conn.server.ip(),
        Some((conn.client.port(), conn.server.port())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// corelight/community-id-spec `baseline/baseline_deflt.json` (seed 0) and
    /// `baseline_seed1.json` (seed 1), every entry: (proto, saddr, daddr, sport, dport,
    /// seed 0 id, seed 1 id).
    #[allow(clippy::type_complexity)]
    const BASELINE: &[(u8, &str, &str, Option<(u16, u16)>, &str, &str)] = &[
        (
            58,
            "fe80::200:86ff:fe05:80da",
            "fe80::260:97ff:fe07:69ea",
            Some((135, 136)),
            "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=",
        ),
        (
            58,
            "fe80::260:97ff:fe07:69ea",
            "fe80::200:86ff:fe05:80da",
            Some((136, 135)),
            "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=",
        ),
        (
            58,
            "fe80::260:97ff:fe07:69ea",
            "fe80::200:86ff:fe05:80da",
            Some((135, 136)),
            "1:zavyT/cezQr1fmImYCwYnMXbgck=",
            "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=",
        ),
        (
            58,
            "fe80::200:86ff:fe05:80da",
            "fe80::260:97ff:fe07:69ea",
            Some((136, 135)),
            "1:zavyT/cezQr1fmImYCwYnMXbgck=",
            "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=",
        ),
        (
            58,
            "3ffe:501:1800:2345::2",
            "3ffe:507:0:1:200:86ff:fe05:80da",
            Some((3, 0)),
            "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=",
            "1:lVEtCZpYu84Xqaa++3lXFyuu2n4=",
        ),
        (
            58,
            "3ffe:501:410:0:2c0:dfff:fe47:33e",
            "3ffe:507:0:1:200:86ff:fe05:80da",
            Some((1, 4)),
            "1:hLZd0XGWojozrvxqE0dWB1iM6R0=",
            "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8=",
        ),
        (
            58,
            "3ffe:507:0:1:200:86ff:fe05:80da",
            "3ffe:501:0:1001::2",
            Some((128, 129)),
            "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=",
        ),
        (
            58,
            "3ffe:501:0:1001::2",
            "3ffe:507:0:1:200:86ff:fe05:80da",
            Some((129, 128)),
            "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=",
        ),
        (
            58,
            "fe80::200:86ff:fe05:80da",
            "ff02::2",
            Some((133, 134)),
            "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
            "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8=",
        ),
        (
            58,
            "fe80::260:97ff:fe07:69ea",
            "ff02::1",
            Some((134, 133)),
            "1:pkvHqCL88/tg1k4cPigmZXUtL00=",
            "1:K/ee5UCqAMAQXDorP5nSa2CGLjc=",
        ),
        (
            1,
            "192.168.0.89",
            "192.168.0.1",
            Some((8, 0)),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            "1:03g6IloqVBdcZlPyX8r0hgoE7kA=",
        ),
        (
            1,
            "192.168.0.1",
            "192.168.0.89",
            Some((0, 8)),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            "1:03g6IloqVBdcZlPyX8r0hgoE7kA=",
        ),
        (
            1,
            "10.0.0.1",
            "10.0.0.2",
            Some((11, 0)),
            "1:YHxtAirCG//0OzkcVAukqKQN9xM=",
            "1:XjUibYHaafLQ3pxQeiMI8g25q20=",
        ),
        (
            6,
            "2001:470:e5bf:dead:4957:2174:e82c:4887",
            "2607:f8b0:400c:c03::1a",
            Some((63943, 25)),
            "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            "1:eJYTW6AOzFLlSUoESovMjnu7rMw=",
        ),
        (
            6,
            "2607:f8b0:400c:c03::1a",
            "2001:470:e5bf:dead:4957:2174:e82c:4887",
            Some((25, 63943)),
            "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            "1:eJYTW6AOzFLlSUoESovMjnu7rMw=",
        ),
        (
            132,
            "192.168.170.8",
            "192.168.170.56",
            Some((7, 7)),
            "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=",
        ),
        (
            132,
            "192.168.170.56",
            "192.168.170.8",
            Some((7, 7)),
            "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=",
        ),
        (
            6,
            "128.232.110.120",
            "66.35.250.204",
            Some((34855, 80)),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            "1:3V71V58M3Ksw/yuFALMcW0LAHvc=",
        ),
        (
            6,
            "66.35.250.204",
            "128.232.110.120",
            Some((80, 34855)),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            "1:3V71V58M3Ksw/yuFALMcW0LAHvc=",
        ),
        (
            17,
            "192.168.1.52",
            "8.8.8.8",
            Some((54585, 53)),
            "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=",
        ),
        (
            17,
            "8.8.8.8",
            "192.168.1.52",
            Some((53, 54585)),
            "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=",
        ),
        (
            46,
            "10.1.12.1",
            "10.1.12.2",
            None,
            "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
            "1:rYir8gphR31noO9iDRQmF/BteEI=",
        ),
        (
            46,
            "10.1.12.2",
            "10.1.12.1",
            None,
            "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
            "1:rYir8gphR31noO9iDRQmF/BteEI=",
        ),
    ];

    #[test]
    fn spec_baselines_seed_0_and_1() {
        for &(proto, s, d, ports, seed0, seed1) in BASELINE {
            let (src, dst) = (s.parse().unwrap(), d.parse().unwrap());
            let got0 = community_id(DEFAULT_SEED, proto, src, dst, ports);
            assert_eq!(got0.as_deref(), Some(seed0), "{proto} {s} {d} {ports:?}");
            let got1 = community_id(1, proto, src, dst, ports);
            assert_eq!(
                got1.as_deref(),
                Some(seed1),
                "seed 1: {proto} {s} {d} {ports:?}"
            );
        }
    }

    #[test]
    fn no_hash_where_the_spec_has_none() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(community_id(0, IPPROTO_TCP, v4, v6, Some((1, 2))), None);
        assert_eq!(community_id(0, IPPROTO_TCP, v4, v4, None), None);
        assert_eq!(
            community_id(0, IPPROTO_ICMPV6, v4, v4, Some((128, 0))),
            None
        );
    }

    #[test]
    fn a_tcp_connection_from_its_client() {
        // The spec's TCP vector, as a connection summary (client → server).
        let conn = ConnSummary::example(
            crate::flow::Proto::Tcp,
            "128.232.110.120:34855".parse().unwrap(),
            "66.35.250.204:80".parse().unwrap(),
        );
        assert_eq!(
            of_conn(&conn, 0).as_deref(),
            Some("1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
        );
    }
}
