//! Ether types (IEEE registry), named once.

use std::fmt;

/// An ether type: the protocol an Ethernet, VLAN, SLL, GRE or Geneve header carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EtherType(pub u16);

impl EtherType {
    pub const IPV4: EtherType = EtherType(0x0800);
    pub const ARP: EtherType = EtherType(0x0806);
    /// Reverse ARP (Cisco HDLC reuses the value for SLARP).
    pub const RARP: EtherType = EtherType(0x8035);
    pub const IPV6: EtherType = EtherType(0x86DD);
    /// 802.1Q customer VLAN tag.
    pub const VLAN: EtherType = EtherType(0x8100);
    /// 802.1ad service VLAN tag (QinQ outer tag).
    pub const QINQ: EtherType = EtherType(0x88A8);
    /// Pre-standard QinQ tags some switches still send.
    pub const QINQ_9100: EtherType = EtherType(0x9100);
    pub const QINQ_9200: EtherType = EtherType(0x9200);
    pub const MPLS_UNICAST: EtherType = EtherType(0x8847);
    pub const MPLS_MULTICAST: EtherType = EtherType(0x8848);
    pub const PPPOE_DISCOVERY: EtherType = EtherType(0x8863);
    pub const PPPOE_SESSION: EtherType = EtherType(0x8864);
    /// Transparent Ethernet bridging (GRE, Geneve): an Ethernet frame follows.
    pub const TRANSPARENT_ETHERNET_BRIDGING: EtherType = EtherType(0x6558);
    /// ERSPAN type II (and type I, without a GRE sequence number).
    pub const ERSPAN_II: EtherType = EtherType(0x88BE);
    pub const ERSPAN_III: EtherType = EtherType(0x22EB);
    /// PPP in GRE (PPTP's enhanced GRE).
    pub const PPP: EtherType = EtherType(0x880B);
    /// WCCP redirection over GRE (a 4-byte redirect header, then IPv4).
    pub const WCCP: EtherType = EtherType(0x883E);
    /// Cisco's Serial Line ARP (Cisco HDLC).
    pub const SLARP: EtherType = EtherType(0x8035);
    pub const MACSEC: EtherType = EtherType(0x88E5);
    pub const LLDP: EtherType = EtherType(0x88CC);
    /// Cisco's loopback test frames (tshark: "loop").
    pub const LOOPBACK: EtherType = EtherType(0x9000);

    /// Any of the VLAN tag types (802.1Q, 802.1ad, 0x9100, 0x9200).
    pub fn is_vlan_tag(self) -> bool {
        matches!(
            self,
            Self::VLAN | Self::QINQ | Self::QINQ_9100 | Self::QINQ_9200
        )
    }
    pub fn is_mpls(self) -> bool {
        matches!(self, Self::MPLS_UNICAST | Self::MPLS_MULTICAST)
    }

    /// What the ether type stands for, for `explain`.
    pub fn name(self) -> &'static str {
        match self {
            Self::IPV4 => "IPv4",
            Self::ARP => "ARP",
            Self::IPV6 => "IPv6",
            Self::VLAN => "802.1Q VLAN tag",
            Self::QINQ => "802.1ad service VLAN tag",
            Self::QINQ_9100 | Self::QINQ_9200 => "QinQ VLAN tag (pre-standard)",
            Self::MPLS_UNICAST => "MPLS unicast",
            Self::MPLS_MULTICAST => "MPLS multicast",
            Self::PPPOE_DISCOVERY => "PPPoE discovery",
            Self::PPPOE_SESSION => "PPPoE session",
            Self::TRANSPARENT_ETHERNET_BRIDGING => "transparent Ethernet bridging",
            Self::ERSPAN_II => "ERSPAN type I/II",
            Self::ERSPAN_III => "ERSPAN type III",
            Self::PPP => "PPP",
            Self::WCCP => "WCCP redirect",
            Self::SLARP => "Cisco SLARP",
            Self::MACSEC => "MACsec",
            Self::LLDP => "LLDP",
            Self::LOOPBACK => "configuration test protocol (loopback)",
            _ => "unknown",
        }
    }
}

impl fmt::Display for EtherType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:04x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_and_label_types() {
        assert!(EtherType(0x8100).is_vlan_tag());
        assert!(EtherType(0x88a8).is_vlan_tag());
        assert!(EtherType(0x9200).is_vlan_tag());
        assert!(!EtherType(0x0800).is_vlan_tag());
        assert!(EtherType(0x8848).is_mpls());
        assert_eq!(EtherType::PPPOE_SESSION.name(), "PPPoE session");
        assert_eq!(EtherType(0x8864).to_string(), "0x8864");
    }
}
