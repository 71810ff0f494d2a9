//! Link-layer header types (tcpdump.org/linktypes), with the names the JSON contract uses.

/// A LINKTYPE_* value as stored in pcap and pcapng files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    pub const RAW_12: LinkType = LinkType(12);
    pub const RAW_14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const LINUX_SLL2: LinkType = LinkType(276);
    pub const PPP: LinkType = LinkType(9);
    /// PPP in HDLC-like framing (RFC 1662).
    pub const PPP_HDLC: LinkType = LinkType(50);
    pub const C_HDLC: LinkType = LinkType(104);
    pub const IEEE802_11: LinkType = LinkType(105);
    pub const IEEE802_11_PRISM: LinkType = LinkType(119);
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    pub const IEEE802_11_AVS: LinkType = LinkType(163);
    pub const PPI: LinkType = LinkType(192);
    pub const NFLOG: LinkType = LinkType(239);
    pub const IPOIB: LinkType = LinkType(242);

    /// The name used in JSON (`link`) and tables.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "null",
            1 => "ethernet",
            12 | 14 | 101 => "raw",
            108 => "loop",
            113 => "linux_sll",
            228 => "ipv4",
            229 => "ipv6",
            276 => "linux_sll2",
            6 => "ieee802_5",
            9 => "ppp",
            50 => "ppp_hdlc",
            104 => "c_hdlc",
            105 => "ieee802_11",
            119 => "ieee802_11_prism",
            127 => "ieee802_11_radiotap",
            163 => "ieee802_11_avs",
            192 => "ppi",
            239 => "nflog",
            242 => "ipoib",
            _ => "unknown",
        }
    }
}

impl LinkType {
    /// The link type from a pcap file header's `network` field: the low 16 bits (the high bits
    /// carry the FCS length and flag, which do not change the link type).
    pub fn from_pcap_network(network: u32) -> LinkType {
        LinkType(network & 0xFFFF)
    }

    /// The link type from a pcapng Interface Description Block (a 16-bit field there).
    pub fn from_pcapng_idb(link_type: u16) -> LinkType {
        LinkType(u32::from(link_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_network_field_drops_fcs_bits() {
        // tcpdump's tcp_header_heapoverflow.pcap has network 0x30000001: FCS length 3, Ethernet.
        assert_eq!(LinkType::from_pcap_network(0x3000_0001), LinkType::ETHERNET);
        assert_eq!(LinkType::from_pcap_network(253).0, 253);
        assert_eq!(LinkType::from_pcapng_idb(113), LinkType::LINUX_SLL);
    }
}
