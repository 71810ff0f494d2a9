//! IP protocol numbers (IANA), named once.

/// The protocol an IPv4 header's protocol field or an IPv6 next header names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNumber(pub u8);

impl IpNumber {
    pub const HOP_BY_HOP: IpNumber = IpNumber(0);
    pub const ICMP: IpNumber = IpNumber(1);
    pub const IGMP: IpNumber = IpNumber(2);
    /// IPv4 in IP (RFC 2003).
    pub const IPV4: IpNumber = IpNumber(4);
    pub const TCP: IpNumber = IpNumber(6);
    pub const UDP: IpNumber = IpNumber(17);
    /// IPv6 in IP (RFC 2473, 6in4 / SIT).
    pub const IPV6: IpNumber = IpNumber(41);
    pub const IPV6_ROUTE: IpNumber = IpNumber(43);
    pub const IPV6_FRAGMENT: IpNumber = IpNumber(44);
    pub const GRE: IpNumber = IpNumber(47);
    pub const ESP: IpNumber = IpNumber(50);
    pub const AUTH: IpNumber = IpNumber(51);
    pub const ICMPV6: IpNumber = IpNumber(58);
    pub const NO_NEXT_HEADER: IpNumber = IpNumber(59);
    pub const IPV6_DEST_OPTIONS: IpNumber = IpNumber(60);
    pub const ETHERIP: IpNumber = IpNumber(97);
    pub const SCTP: IpNumber = IpNumber(132);
    pub const MOBILITY: IpNumber = IpNumber(135);
    pub const MPLS_IN_IP: IpNumber = IpNumber(137);
    pub const HIP: IpNumber = IpNumber(139);
    pub const SHIM6: IpNumber = IpNumber(140);

    /// IPv6 extension headers that have the generic (next header, length in 8-byte units)
    /// form.
    pub fn is_ipv6_generic_extension(self) -> bool {
        matches!(
            self,
            Self::HOP_BY_HOP
                | Self::IPV6_ROUTE
                | Self::IPV6_DEST_OPTIONS
                | Self::MOBILITY
                | Self::HIP
                | Self::SHIM6
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::HOP_BY_HOP => "IPv6 hop-by-hop options",
            Self::ICMP => "ICMP",
            Self::IPV4 => "IPv4 (IP in IP)",
            Self::TCP => "TCP",
            Self::UDP => "UDP",
            Self::IPV6 => "IPv6 (IPv6 in IP)",
            Self::IPV6_ROUTE => "IPv6 routing header",
            Self::IPV6_FRAGMENT => "IPv6 fragment header",
            Self::GRE => "GRE",
            Self::ESP => "ESP",
            Self::AUTH => "authentication header",
            Self::ICMPV6 => "ICMPv6",
            Self::NO_NEXT_HEADER => "no next header",
            Self::IPV6_DEST_OPTIONS => "IPv6 destination options",
            Self::SCTP => "SCTP",
            Self::MPLS_IN_IP => "MPLS in IP",
            _ => "unknown",
        }
    }
}
