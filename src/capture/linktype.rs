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

    /// The pcap header's "F" bit: the frames end with an FCS whose length, in 16-bit words,
    /// is in bits 28-31 ("FCS len"; draft-ietf-opsawg-pcap, libpcap's `LT_FCS_LENGTH`).
    const FCS_PRESENT: u32 = 0x0400_0000;
    const FCS_WORDS_SHIFT: u32 = 28;

    /// The link type without the FCS bits.
    pub fn base(self) -> LinkType {
        LinkType(self.0 & 0xFFFF)
    }

    /// Bytes of FCS at the end of every frame, as the file's header says (0: none said).
    pub fn fcs_len(self) -> usize {
        if self.0 & Self::FCS_PRESENT == 0 {
            return 0;
        }
        (self.0 >> Self::FCS_WORDS_SHIFT) as usize * 2
    }

    /// The name used in JSON (`link`) and tables.
    pub fn name(self) -> &'static str {
        match self.base().0 {
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
    /// The link type from a pcap file header's `network` field: the low 16 bits, and the FCS
    /// length (bits 28-31) when the "F" bit (26) says the frames carry one; other high bits
    /// are dropped (an FCS length without the F bit means nothing, as in libpcap and tshark).
    pub fn from_pcap_network(network: u32) -> LinkType {
        if network & Self::FCS_PRESENT != 0 && network >> Self::FCS_WORDS_SHIFT != 0 {
            LinkType(network & 0xF400_FFFF)
        } else {
            LinkType(network & 0xFFFF)
        }
    }

    /// The link type from a pcapng Interface Description Block (a 16-bit field there) and its
    /// `if_fcslen` option (bits of FCS per frame; 0 when absent).
    pub fn from_pcapng_idb(link_type: u16, if_fcslen: u8) -> LinkType {
        let base = LinkType(u32::from(link_type));
        // The pcapng spec counts the FCS in bits; writers that put bytes there (2 or 4) are
        // read as such, as tshark reads both.
        let bytes = match if_fcslen {
            2 | 4 => if_fcslen,
            bits if bits % 16 == 0 => bits / 8,
            _ => 0,
        };
        base.with_fcs_len(usize::from(bytes))
    }

    /// This link type with frames ending in `bytes` of FCS (an even number up to 30; 0: none).
    pub fn with_fcs_len(self, bytes: usize) -> LinkType {
        let words = (bytes / 2).min(15) as u32;
        if words == 0 {
            return self.base();
        }
        LinkType(self.base().0 | Self::FCS_PRESENT | words << Self::FCS_WORDS_SHIFT)
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
        assert_eq!(LinkType::from_pcapng_idb(113, 0), LinkType::LINUX_SLL);
    }

    #[test]
    fn fcs_length_from_the_pcap_header_and_the_pcapng_option() {
        // F bit (0x04000000) with FCS len 2 words: 4 bytes; the link type stays Ethernet.
        let lt = LinkType::from_pcap_network(0x2400_0001);
        assert_eq!(
            (lt.base(), lt.fcs_len(), lt.name()),
            (LinkType::ETHERNET, 4, "ethernet")
        );
        // The pcap header field is written back as it was read.
        assert_eq!(lt.0, 0x2400_0001);
        // 802.11 with a 16-bit FCS (1 word).
        assert_eq!(LinkType::from_pcap_network(0x1400_0069).fcs_len(), 2);
        // FCS len without the F bit, and the F bit with length 0: no FCS.
        assert_eq!(LinkType::from_pcap_network(0x2000_0001).fcs_len(), 0);
        assert_eq!(LinkType::from_pcap_network(0x0400_0001), LinkType::ETHERNET);
        // pcapng if_fcslen: 32 bits = 4 bytes; 4 (bytes, as some writers put it) too.
        for v in [32, 4] {
            let lt = LinkType::from_pcapng_idb(1, v);
            assert_eq!((lt.base(), lt.fcs_len()), (LinkType::ETHERNET, 4), "{v}");
        }
        assert_eq!(LinkType::from_pcapng_idb(105, 16).fcs_len(), 2);
        assert_eq!(LinkType::from_pcapng_idb(1, 0), LinkType::ETHERNET);
        assert_eq!(LinkType::from_pcapng_idb(1, 7), LinkType::ETHERNET);
    }
}
