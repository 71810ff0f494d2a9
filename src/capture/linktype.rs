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
            105 => "ieee802_11",
            127 => "ieee802_11_radiotap",
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
