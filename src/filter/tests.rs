//! Byte-array tests of the evaluator (tcpdump's answers worked out by hand from
//! `tcpdump -d` listings of the same expressions).

use super::*;
use crate::capture::{LinkType, Timestamp};

fn empty_packet() -> DecodedPacket<'static> {
    DecodedPacket::empty()
}

fn frame(link: LinkType, data: &[u8]) -> RawFrame<'_> {
    RawFrame {
        number: 1,
        ts: Timestamp::default(),
        link,
        interface: 0,
        file: 0,
        orig_len: data.len() as u32,
        data,
    }
}

const MAC_A: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const MAC_B: [u8; 6] = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];

fn eth(ether_type: u16, vlans: &[u16]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&MAC_B); // dst
    v.extend_from_slice(&MAC_A); // src
    for id in vlans {
        v.extend_from_slice(&[0x81, 0x00]);
        v.extend_from_slice(&id.to_be_bytes());
    }
    v.extend_from_slice(&ether_type.to_be_bytes());
    v
}

/// IPv4 header (20 bytes) with `proto`, fragment offset (in 8-byte units) and addresses.
fn ipv4(proto: u8, frag_units: u16, src: [u8; 4], dst: [u8; 4], payload_len: u16) -> Vec<u8> {
    let mut v = vec![0x45, 0];
    v.extend_from_slice(&(20 + payload_len).to_be_bytes());
    v.extend_from_slice(&[0x12, 0x34]);
    v.extend_from_slice(&frag_units.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0, 0]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v
}

fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    v
}

fn eth_tcp(vlans: &[u16], flags: u8, frag_units: u16) -> Vec<u8> {
    let mut v = eth(0x0800, vlans);
    v.extend(ipv4(6, frag_units, [10, 0, 0, 1], [10, 0, 0, 2], 20));
    v.extend(tcp(1234, 80, flags));
    v
}

fn ipv6(next: u8, src: [u8; 16], dst: [u8; 16], payload_len: u16) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&payload_len.to_be_bytes());
    v.extend_from_slice(&[next, 64]);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v
}

fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = last;
    a
}

fn udp(sport: u16, dport: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&[0, 8, 0, 0]);
    v
}

fn eth_ipv6_udp() -> Vec<u8> {
    let mut v = eth(0x86dd, &[]);
    v.extend(ipv6(17, v6(1), v6(2), 8));
    v.extend(udp(5353, 53));
    v
}

fn eth_arp() -> Vec<u8> {
    let mut v = eth(0x0806, &[]);
    v.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    v.extend_from_slice(&MAC_A);
    v.extend_from_slice(&[192, 168, 1, 1]);
    v.extend_from_slice(&[0; 6]);
    v.extend_from_slice(&[192, 168, 1, 2]);
    v
}

fn sll_icmp_echo() -> Vec<u8> {
    let mut v = vec![0, 0, 0, 1, 0, 6];
    v.extend_from_slice(&MAC_A);
    v.extend_from_slice(&[0, 0, 0x08, 0x00]);
    v.extend(ipv4(1, 0, [172, 16, 0, 5], [8, 8, 8, 8], 8));
    v.extend_from_slice(&[8, 0, 0, 0, 0, 1, 0, 1]);
    v
}

fn check(link: LinkType, data: &[u8], expr: &str) -> bool {
    let f = match Filter::parse(expr) {
        Ok(f) => f,
        Err(e) => panic!("{e}\n{}", e.caret(expr)),
    };
    f.matches(&frame(link, data), &empty_packet())
}

#[track_caller]
fn expect(link: LinkType, data: &[u8], yes: &[&str], no: &[&str]) {
    for e in yes {
        assert!(check(link, data, e), "expected a match: {e}");
    }
    for e in no {
        assert!(!check(link, data, e), "expected no match: {e}");
    }
}

#[test]
fn ethernet_ipv4_tcp_syn() {
    let f = eth_tcp(&[], 0x02, 0);
    expect(
        LinkType::ETHERNET,
        &f,
        &[
            "tcp",
            "ip",
            "port 80",
            "port http",
            "tcp dst port 80",
            "src port 1234",
            "portrange 70-90",
            "tcp portrange 1000-2000",
            "host 10.0.0.1",
            "src host 10.0.0.1 and dst host 10.0.0.2",
            "src and dst net 10.0.0.0/24",
            "net 10.0",
            "net 10",
            "ip host 10.0.0.2",
            "ether src 00:11:22:33:44:55",
            "ether dst 66:77:88:99:aa:bb",
            "ether host 0011.2233.4455",
            "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
            "tcp[tcpflags] = tcp-syn",
            "tcp[2:2] = 80",
            "ip[9] = 6 and ip[0] & 0xf = 5",
            "ether[12:2] = 0x0800",
            "greater 54",
            "less 54",
            "len = 54",
            "(tcp[13] & 2) != 0 and not udp",
            "ip proto \\tcp",
            "proto 6",
            "host 10.0.0.9 or 10.0.0.1",
        ],
        &[
            "udp",
            "ip6",
            "arp",
            "icmp",
            "vlan",
            "port 443",
            "udp port 80",
            "dst port 1234",
            "src host 10.0.0.2",
            "src and dst host 10.0.0.1",
            "net 10.1",
            "ip6 host ::1",
            "ether src 66:77:88:99:aa:bb",
            "tcp[tcpflags] & tcp-ack != 0",
            "greater 55",
            "less 53",
            "tcp[100] = 0 or tcp",
            "not tcp[100] = 0",
        ],
    );
}

#[test]
fn vlan_tag_hides_the_network_layer_unless_vlan_comes_first() {
    let f = eth_tcp(&[100], 0x12, 0);
    expect(
        LinkType::ETHERNET,
        &f,
        &[
            "vlan",
            "vlan 100",
            "vlan and tcp",
            "vlan 100 and tcp port 80 and host 10.0.0.1",
            "not tcp",
            "tcp or (vlan and tcp)",
            "vlan and tcp[13] = 0x12",
            "ether src 00:11:22:33:44:55",
        ],
        &[
            "tcp",
            "ip",
            "port 80",
            "host 10.0.0.1",
            "vlan 101",
            "vlan and vlan",
            "tcp and vlan",
        ],
    );
    // QinQ: two tags.
    let q = eth_tcp(&[10, 20], 0x02, 0);
    expect(
        LinkType::ETHERNET,
        &q,
        &["vlan 10 and vlan 20 and tcp", "vlan and vlan and port 80"],
        &["vlan 20", "vlan and tcp", "vlan 10 and vlan 10"],
    );
}

#[test]
fn later_ipv4_fragment_is_tcp_but_has_no_port() {
    let f = eth_tcp(&[], 0x02, 185); // offset 1480
    expect(
        LinkType::ETHERNET,
        &f,
        &["tcp", "host 10.0.0.2", "ip[6:2] & 0x1fff = 185"],
        &[
            "port 80",
            "tcp port 1234",
            "tcp[13] = 2",
            "portrange 0-65535",
        ],
    );
}

#[test]
fn ipv6_udp_and_its_limits() {
    let f = eth_ipv6_udp();
    expect(
        LinkType::ETHERNET,
        &f,
        &[
            "ip6",
            "udp",
            "port 53",
            "port domain",
            "udp dst port 53",
            "ip6 host 2001:db8::1",
            "src host 2001:db8::1 and dst 2001:db8::2",
            "net 2001:db8::/32",
            "ip6[6] = 17",
            "ip6 proto 17",
        ],
        &[
            "ip",
            "tcp",
            "icmp6",
            "host 2001:db8::3",
            "net 2001:db9::/32",
            "udp[2:2] = 53",
            "ip6 src host 2001:db8::2",
            "tcp port 53",
        ],
    );
}

#[test]
fn arp_addresses_count_as_hosts() {
    let f = eth_arp();
    expect(
        LinkType::ETHERNET,
        &f,
        &[
            "arp",
            "host 192.168.1.1",
            "arp dst host 192.168.1.2",
            "net 192.168.1.0/24",
            "arp[7] = 1",
        ],
        &[
            "ip",
            "ip host 192.168.1.1",
            "port 80",
            "src host 192.168.1.2",
            "rarp",
        ],
    );
}

#[test]
fn sll_icmp_echo_request() {
    let f = sll_icmp_echo();
    expect(
        LinkType::LINUX_SLL,
        &f,
        &[
            "icmp",
            "icmp[icmptype] = icmp-echo",
            "icmp[0] != icmp-echoreply",
            "dst host 8.8.8.8",
            "ip and not tcp",
        ],
        &[
            "tcp",
            "icmp6",
            "ether host 00:11:22:33:44:55",
            "vlan",
            "port 0",
        ],
    );
}

#[test]
fn raw_ipv6_and_null_loopback() {
    let mut raw = ipv6(6, v6(1), v6(2), 20);
    raw.extend(tcp(443, 50000, 0x18));
    expect(
        LinkType::RAW,
        &raw,
        &["ip6", "tcp", "tcp port https", "ip6[53] = 0x18"],
        &["ip", "udp", "tcp[13] = 0x18"],
    );
    // BSD loopback, little-endian family 2 (AF_INET).
    let mut null = vec![2, 0, 0, 0];
    null.extend(ipv4(17, 0, [127, 0, 0, 1], [127, 0, 0, 1], 8));
    null.extend(udp(1000, 2000));
    expect(
        LinkType::NULL,
        &null,
        &["udp port 2000", "host 127.0.0.1", "udp[0:2] = 1000"],
        &["ip6", "tcp"],
    );
    // Little-endian AF_INET6 (30, macOS).
    let mut null6 = vec![30, 0, 0, 0];
    null6.extend(ipv6(58, v6(1), v6(2), 8));
    null6.extend_from_slice(&[128, 0, 0, 0, 0, 1, 0, 1]);
    expect(
        LinkType::NULL,
        &null6,
        &["icmp6", "icmp6[icmp6type] = icmp6-echo"],
        &["ip", "icmp"],
    );
}

#[test]
fn out_of_bounds_reads_reject_the_packet() {
    // A frame cut after the ether type: every IP test reads past the end.
    let short = eth(0x0800, &[]);
    expect(
        LinkType::ETHERNET,
        &short,
        &["ip", "greater 10 or tcp", "ether src 00:11:22:33:44:55"],
        &["tcp", "not tcp", "tcp or greater 10", "not port 80"],
    );
    expect(
        LinkType::ETHERNET,
        &[],
        &["less 0"],
        &["not ip", "ether[0] = 0"],
    );
    // Division by zero at run time (the divisor is read from the frame).
    let f = eth_tcp(&[], 0x02, 0);
    assert!(!check(LinkType::ETHERNET, &f, "not 1 / ip[1] = 7"));
}

#[test]
fn arithmetic_is_32_bit_wrapping() {
    let f = eth_tcp(&[], 0x02, 0);
    expect(
        LinkType::ETHERNET,
        &f,
        &[
            "0 - 1 = 0xffffffff",
            "-1 = 4294967295",
            "7 % 4 = 3",
            "6 ^ 3 = 5",
            "1 << 31 = 0x80000000",
            "0x80000000 >> 31 = 1",
            "2 + 3 * 4 = 14",
            "010 = 8",
            "1 << ip[9] * 6 = 0 and ip[9] >> ip[9] * 6 = 0",
        ],
        &["1 << 31 < 1", "3 - 1 != 2"],
    );
}

#[test]
fn unknown_link_type_uses_the_decoded_network_layer() {
    use crate::decode::{Layer, LayerName};
    let mut data = vec![0xAA; 4]; // some 4-byte link header
    data.extend(ipv4(6, 0, [1, 2, 3, 4], [5, 6, 7, 8], 20));
    data.extend(tcp(22, 5555, 0x10));
    let mut p = empty_packet();
    p.layers.push(Layer {
        name: LayerName::Ipv4,
        offset: 4,
        len: 20,
    });
    let f = Filter::parse("tcp src port ssh and host 5.6.7.8").unwrap();
    // LINKTYPE_USER0: nothing but the decoder knows where its network layer is.
    assert!(f.matches(&frame(LinkType(147), &data), &p));
    assert!(!f.matches(&frame(LinkType(147), &data), &empty_packet()));
}

#[test]
fn error_display_and_caret() {
    let expr = "tcp port 80 and hst 1.2.3.4";
    let e = Filter::parse(expr).unwrap_err();
    assert_eq!(e.offset, 16);
    assert_eq!(e.token, "hst");
    assert_eq!(
        e.caret(expr),
        "tcp port 80 and hst 1.2.3.4\n                ^^^"
    );
    assert!(e.to_string().contains("(at byte 16: `hst`)"), "{e}");
    let e = Filter::parse("tcp and").unwrap_err();
    assert_eq!(e.caret("tcp and"), "tcp and\n       ^");
    assert!(e.to_string().contains("at the end, byte 7"), "{e}");
    let e = Filter::parse("wlan host 1:2:3:4:5:6").unwrap_err();
    assert_eq!(e.kind, FilterErrorKind::NotSupported);
    assert!(e.to_string().contains("not supported"), "{e}");
    // Non-ASCII before the token: caret counts characters.
    let expr = "(é) or x";
    let e = Filter::parse(expr).unwrap_err();
    assert_eq!(e.token, "é");
    assert_eq!(e.caret(expr), "(é) or x\n ^");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    #[test]
    fn parse_never_panics(s in "\\PC{0,80}") {
        let _ = Filter::parse(&s);
    }
    #[test]
    fn parse_never_panics_on_filter_alphabet(
        s in "((tcp|udp|host|port|net|src|dst|and|or|not|vlan|ip|ip6|ether|len|1|0x10|10\\.0|::1|tcp-syn|\\[|\\]|:|\\(|\\)|!|&|\\||<<|=|!=|-|/|) ){0,30}"
    ) {
        if let Ok(f) = Filter::parse(&s) {
            let data = eth_tcp(&[7], 0x02, 0);
            let _ = f.matches(&frame(LinkType::ETHERNET, &data), &empty_packet());
            let _ = f.matches(&frame(LinkType::ETHERNET, &data[..20]), &empty_packet());
        }
    }
}

/// An MPLS label stack entry: label, traffic class 0, the bottom-of-stack bit, TTL 64.
fn mpls_label(label: u32, bottom: bool) -> [u8; 4] {
    (label << 12 | u32::from(bottom) << 8 | 64).to_be_bytes()
}

fn matches(expr: &str, link: LinkType, data: &[u8]) -> bool {
    let f = Filter::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    f.matches(&frame(link, data), &empty_packet())
}

#[test]
fn mpls_labels_shift_what_follows_and_the_version_nibble_names_it() {
    // Ethernet 0x8847, labels 16 and 18 (bottom), IPv4 TCP 10.0.0.1:1234 → 10.0.0.2:80.
    let mut data = eth(0x8847, &[]);
    data.extend(mpls_label(16, false));
    data.extend(mpls_label(18, true));
    data.extend(ipv4(6, 0, [10, 0, 0, 1], [10, 0, 0, 2], 20));
    data.extend(tcp(1234, 80, 0x02));
    let e = LinkType::ETHERNET;
    assert!(matches("mpls", e, &data));
    assert!(matches("mpls 16", e, &data));
    assert!(!matches("mpls 18", e, &data));
    assert!(matches("mpls 16 and mpls 18", e, &data));
    // One label is not enough: after it, the bottom-of-stack bit is clear, so no IP.
    assert!(!matches("mpls and ip", e, &data));
    assert!(matches("mpls and mpls and tcp port 80", e, &data));
    assert!(matches("mpls and mpls and host 10.0.0.2", e, &data));
    assert!(!matches("mpls and mpls and mpls", e, &data));
    // Without the keyword nothing looks past the ether type.
    assert!(!matches("tcp", e, &data));
    // MPLS inside a VLAN tag.
    let mut tagged = eth(0x8847, &[7]);
    tagged.extend_from_slice(&data[14..]);
    assert!(!matches("mpls", e, &tagged));
    assert!(matches(
        "vlan 7 and mpls 16 and mpls 18 and tcp",
        e,
        &tagged
    ));
    // On a PPP link MPLS is protocol 0x0281.
    let mut ppp = vec![0xff, 0x03, 0x02, 0x81];
    ppp.extend_from_slice(&data[14..]);
    assert!(matches("mpls 16 and mpls and ip", LinkType(9), &ppp));
    assert!(!matches("ip", LinkType(9), &ppp));
}

#[test]
fn pppoes_turns_the_link_type_into_ppp_protocol_numbers() {
    // PPPoE session 0x0011: ver/type 0x11, code 0, session, length, PPP protocol 0x0021.
    let mut data = eth(0x8864, &[]);
    data.extend_from_slice(&[0x11, 0x00, 0x00, 0x11, 0x00, 42, 0x00, 0x21]);
    data.extend(ipv4(17, 0, [192, 0, 2, 1], [192, 0, 2, 2], 8));
    data.extend(udp(5353, 53));
    let e = LinkType::ETHERNET;
    assert!(matches("pppoes", e, &data));
    assert!(matches("pppoes 0x11", e, &data));
    assert!(!matches("pppoes 0x12", e, &data));
    assert!(matches("pppoes and udp port 53", e, &data));
    assert!(matches("pppoes 17 and ip and host 192.0.2.2", e, &data));
    assert!(!matches("pppoes and ip6", e, &data));
    assert!(!matches("udp", e, &data));
    assert!(!matches("pppoed", e, &data));
    // `ether` reads no Ethernet header behind PPPoE.
    assert!(!matches(
        "pppoes and ether host 00:11:22:33:44:55",
        e,
        &data
    ));
    let mut discovery = eth(0x8863, &[]);
    discovery.extend_from_slice(&[0x11, 0x09, 0x00, 0x00, 0x00, 0x00]);
    assert!(matches("pppoed", e, &discovery));
    assert!(!matches("pppoes", e, &discovery));
}

#[test]
fn geneve_reads_its_options_length_and_the_inner_frame() {
    // IPv4/UDP to 6081, Geneve with 8 bytes of options (opt len 2), VNI 0x123456,
    // protocol 0x6558 (Ethernet), inner Ethernet/IPv4/TCP 10.0.0.1:1234 → 10.0.0.2:80.
    let mut inner = eth(0x0800, &[]);
    inner.extend(ipv4(6, 0, [10, 0, 0, 1], [10, 0, 0, 2], 20));
    inner.extend(tcp(1234, 80, 0x18));
    let geneve = |proto: u16, payload: &[u8]| {
        let mut g = vec![0x02, 0x00];
        g.extend_from_slice(&proto.to_be_bytes());
        g.extend_from_slice(&[0x12, 0x34, 0x56, 0x00]);
        g.extend_from_slice(&[0x01, 0x02, 0x03, 0x01, 0xaa, 0xbb, 0xcc, 0xdd]);
        g.extend_from_slice(payload);
        let mut v = eth(0x0800, &[]);
        v.extend(ipv4(
            17,
            0,
            [192, 0, 2, 1],
            [192, 0, 2, 2],
            8 + g.len() as u16,
        ));
        v.extend_from_slice(&[0xc0, 0x00, 0x17, 0xc1, 0, 0, 0, 0]); // 49152 → 6081
        v.extend(g);
        v
    };
    let data = geneve(0x6558, &inner);
    let e = LinkType::ETHERNET;
    assert!(matches("geneve", e, &data));
    assert!(matches("geneve 0x123456", e, &data));
    assert!(!matches("geneve 0x123457", e, &data));
    assert!(matches("geneve and tcp dst port 80", e, &data));
    assert!(matches("geneve and host 10.0.0.1", e, &data));
    assert!(!matches("geneve and host 192.0.2.1", e, &data));
    assert!(matches("geneve and ether src 00:11:22:33:44:55", e, &data));
    assert!(matches("udp port 6081", e, &data));
    // The inner IPv4 directly (protocol 0x0800): no Ethernet in between.
    let data = geneve(0x0800, &inner[14..]);
    assert!(matches("geneve and tcp and src host 10.0.0.1", e, &data));
    assert!(!matches("geneve and ether src 00:11:22:33:44:55", e, &data));
    // libpcap checks the version bits (`ldb [x + 22]; and #0xc0; jeq #0x0` in
    // `tcpdump -d geneve`): a version 1 header is not Geneve to it.
    let mut v1 = geneve(0x6558, &inner);
    v1[42] |= 0x40;
    assert!(!matches("geneve", e, &v1));
    assert!(matches("udp dst port 6081", e, &v1));
}

/// Ethernet/IPv4/UDP to `port`, a VXLAN header with `flags` and VNI 42, then `inner`.
fn vxlan_over_ipv4(port: u16, flags: u8, frag_units: u16, inner: &[u8]) -> Vec<u8> {
    let mut v = eth(0x0800, &[]);
    let udp_len = 8 + 8 + inner.len() as u16;
    v.extend(ipv4(
        17,
        frag_units,
        [192, 0, 2, 1],
        [192, 0, 2, 2],
        udp_len,
    ));
    v.extend_from_slice(&[0xc0, 0x00]);
    v.extend_from_slice(&port.to_be_bytes());
    v.extend_from_slice(&udp_len.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[flags, 0, 0, 0, 0, 0, 42, 0]);
    v.extend_from_slice(inner);
    v
}

#[test]
fn vxlan_checks_port_flags_and_vni_then_reads_the_inner_frame() {
    // Worked from libpcap 1.11's gen_vxlan4: `udp dst port 4789`, `udp[8] = 0x08`, the VNI
    // at `udp[12:4] & 0xffffff00`, then everything after reads the inner Ethernet frame at
    // udp + 16. Inner: Ethernet (source 02:00:00:00:00:07, one VLAN tag 7), IPv4 TCP
    // 10.0.0.1:1234 → 10.0.0.2:80.
    let mut inner = eth(0x0800, &[7]);
    inner[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 7]);
    inner.extend(ipv4(6, 0, [10, 0, 0, 1], [10, 0, 0, 2], 20));
    inner.extend(tcp(1234, 80, 0x02));
    let e = LinkType::ETHERNET;
    let data = vxlan_over_ipv4(4789, 0x08, 0, &inner);
    assert!(matches("vxlan", e, &data));
    assert!(matches("vxlan 42", e, &data));
    assert!(!matches("vxlan 43", e, &data));
    assert!(matches("vxlan and ether src 02:00:00:00:00:07", e, &data));
    assert!(!matches("vxlan and ether src 00:11:22:33:44:55", e, &data));
    assert!(matches("ether src 00:11:22:33:44:55", e, &data));
    // The inner frame is tagged: `tcp` right after `vxlan` does not look past the tag.
    assert!(!matches("vxlan and tcp", e, &data));
    assert!(matches("vxlan and vlan 7 and tcp dst port 80", e, &data));
    assert!(matches("vxlan 42 and vlan and host 10.0.0.1", e, &data));
    assert!(!matches("vxlan and vlan and host 192.0.2.1", e, &data));
    assert!(matches("udp and host 192.0.2.1", e, &data));
    // Untagged inner frame.
    let mut plain = eth(0x0800, &[]);
    plain.extend(ipv4(6, 0, [10, 0, 0, 1], [10, 0, 0, 2], 20));
    plain.extend(tcp(1234, 80, 0x02));
    let data = vxlan_over_ipv4(4789, 0x08, 0, &plain);
    assert!(matches("vxlan and tcp[tcpflags] & tcp-syn != 0", e, &data));
    assert!(matches("vxlan and src host 10.0.0.1", e, &data));
    // Flags other than exactly the I flag, Linux's port 8472, a later fragment: not VXLAN.
    assert!(!matches(
        "vxlan",
        e,
        &vxlan_over_ipv4(4789, 0x0c, 0, &plain)
    ));
    assert!(!matches(
        "vxlan",
        e,
        &vxlan_over_ipv4(4789, 0x00, 0, &plain)
    ));
    assert!(!matches(
        "vxlan",
        e,
        &vxlan_over_ipv4(8472, 0x08, 0, &plain)
    ));
    assert!(matches(
        "udp port 8472",
        e,
        &vxlan_over_ipv4(8472, 0x08, 0, &plain)
    ));
    assert!(!matches(
        "vxlan",
        e,
        &vxlan_over_ipv4(4789, 0x08, 1, &plain)
    ));
    // Cut before the VXLAN header: the flags load is out of bounds and rejects the packet,
    // `not vxlan` included. Cut after its first word: the flags match, the VNI load fails.
    let cut = &data[..14 + 20 + 8];
    assert!(!matches("vxlan", e, cut));
    assert!(!matches("not vxlan", e, cut));
    let cut = &data[..14 + 20 + 8 + 4];
    assert!(matches("vxlan", e, cut));
    assert!(!matches("vxlan 42", e, cut));
    assert!(!matches("not vxlan 42", e, cut));
    // IPv6 outer (UDP as next header, the UDP header at 40).
    let mut v6data = eth(0x86dd, &[]);
    let udp_len = 8 + 8 + plain.len() as u16;
    v6data.extend(ipv6(17, v6(1), v6(2), udp_len));
    v6data.extend_from_slice(&[0xc0, 0x00, 0x12, 0xb5]);
    v6data.extend_from_slice(&udp_len.to_be_bytes());
    v6data.extend_from_slice(&[0, 0, 0x08, 0, 0, 0, 0, 0, 42, 0]);
    v6data.extend_from_slice(&plain);
    assert!(matches("vxlan 42 and tcp dst port 80", e, &v6data));
}
