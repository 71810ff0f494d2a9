//! The quoted-packet parser of ICMP errors alone (`flow::icmp_error::quoted_flow`, and the
//! message names): arbitrary bytes read as the data of an ICMP (IPv4 quoted) and an ICMPv6
//! (IPv6 quoted) error. What it returns must be the quoted header's own bytes: the
//! addresses at their RFC 791 / RFC 8200 offsets, the ports as the first four bytes after
//! the IP header, and for IPv4 never a later fragment. The `icmp_sctp_flows` target runs
//! the same parser inside the decoder and flow tracker, at a far lower rate.
#![no_main]

use layerscope::flow::icmp_error::{quoted_flow, IcmpError};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    if let Some(q) = quoted_flow(false, data) {
        let ihl = usize::from(data[0] & 0x0f) * 4;
        assert_eq!(data[0] >> 4, 4);
        assert_eq!(u16::from_be_bytes([data[6], data[7]]) & 0x1fff, 0);
        let src: [u8; 4] = data[12..16].try_into().unwrap();
        let dst: [u8; 4] = data[16..20].try_into().unwrap();
        assert_eq!(q.src, IpAddr::from(src));
        assert_eq!(q.dst, IpAddr::from(dst));
        assert_eq!(q.src_port, u16::from_be_bytes([data[ihl], data[ihl + 1]]));
        assert_eq!(
            q.dst_port,
            u16::from_be_bytes([data[ihl + 2], data[ihl + 3]])
        );
    }
    if let Some(q) = quoted_flow(true, data) {
        assert_eq!(data[0] >> 4, 6);
        let src: [u8; 16] = data[8..24].try_into().unwrap();
        let dst: [u8; 16] = data[24..40].try_into().unwrap();
        assert_eq!(q.src, IpAddr::from(src));
        assert_eq!(q.dst, IpAddr::from(dst));
    }
    let (&t, &c) = (data.first().unwrap_or(&0), data.get(1).unwrap_or(&0));
    for v6 in [false, true] {
        let e = IcmpError {
            v6,
            icmp_type: t,
            code: c,
            frame: 1,
        };
        assert!(!e.name().is_empty());
    }
});
