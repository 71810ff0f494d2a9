//! Layer names and their place in the OSI and TCP/IP models.

use std::fmt;

/// OSI reference model layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Osi {
    Physical = 1,
    DataLink = 2,
    Network = 3,
    Transport = 4,
    Session = 5,
    Presentation = 6,
    Application = 7,
}

impl Osi {
    pub fn number(self) -> u8 {
        self as u8
    }
    /// "data link", "network", …
    pub fn name(self) -> &'static str {
        match self {
            Osi::Physical => "physical",
            Osi::DataLink => "data link",
            Osi::Network => "network",
            Osi::Transport => "transport",
            Osi::Session => "session",
            Osi::Presentation => "presentation",
            Osi::Application => "application",
        }
    }
    /// The TCP/IP (RFC 1122) model layer this OSI layer maps to.
    pub fn tcpip_name(self) -> &'static str {
        match self {
            Osi::Physical | Osi::DataLink => "link",
            Osi::Network => "internet",
            Osi::Transport => "transport",
            Osi::Session | Osi::Presentation | Osi::Application => "application",
        }
    }
}

/// A protocol layer layerscope names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerName {
    Eth,
    Vlan,
    Sll,
    Sll2,
    Null,
    Arp,
    Ipv4,
    Ipv6,
    Icmp,
    Icmpv6,
    Tcp,
    Udp,
    Tls,
    Http,
    /// HTTP/2 frames (inside decrypted TLS).
    Http2,
    /// HTTP/3 frames (inside QUIC packets opened with a key log).
    Http3,
    Dns,
    Quic,
    Mpls,
    Pppoes,
    Pppoed,
    Ppp,
    Chdlc,
    Wlan,
    Radiotap,
    Ppi,
    Prism,
    /// AVS radio header (link type 163; tshark's `wlancap`).
    Wlancap,
    Llc,
    Nflog,
    Ipoib,
    Erspan,
    Vxlan,
    Geneve,
    Gre,
    Gtp,
    Teredo,
    Ayiya,
    Esp,
    Sctp,
    Loop,
}

impl LayerName {
    /// The JSON contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerName::Eth => "eth",
            LayerName::Vlan => "vlan",
            LayerName::Sll => "sll",
            LayerName::Sll2 => "sll2",
            LayerName::Null => "null",
            LayerName::Arp => "arp",
            LayerName::Ipv4 => "ipv4",
            LayerName::Ipv6 => "ipv6",
            LayerName::Icmp => "icmp",
            LayerName::Icmpv6 => "icmpv6",
            LayerName::Tcp => "tcp",
            LayerName::Udp => "udp",
            LayerName::Tls => "tls",
            LayerName::Http => "http",
            LayerName::Http2 => "http2",
            LayerName::Http3 => "http3",
            LayerName::Dns => "dns",
            LayerName::Quic => "quic",
            LayerName::Mpls => "mpls",
            LayerName::Pppoes => "pppoes",
            LayerName::Pppoed => "pppoed",
            LayerName::Ppp => "ppp",
            LayerName::Chdlc => "chdlc",
            LayerName::Wlan => "wlan",
            LayerName::Radiotap => "radiotap",
            LayerName::Ppi => "ppi",
            LayerName::Prism => "prism",
            LayerName::Wlancap => "wlancap",
            LayerName::Llc => "llc",
            LayerName::Nflog => "nflog",
            LayerName::Ipoib => "ipoib",
            LayerName::Erspan => "erspan",
            LayerName::Vxlan => "vxlan",
            LayerName::Geneve => "geneve",
            LayerName::Gre => "gre",
            LayerName::Gtp => "gtp",
            LayerName::Teredo => "teredo",
            LayerName::Ayiya => "ayiya",
            LayerName::Esp => "esp",
            LayerName::Sctp => "sctp",
            LayerName::Loop => "loop",
        }
    }
    /// Where the layer sits in OSI. ARP is placed at layer 3 (it serves the network layer
    /// and is carried by an ether type, like IP); ICMP at layer 3 (it is part of IP); TLS at
    /// the presentation layer (6), between TCP and the application protocol it carries.
    /// Tunnel headers sit at the layer they stand in for: VXLAN, Geneve and ERSPAN carry
    /// link frames (2), GRE, GTP-U, Teredo and AYIYA carry IP (3); MPLS, PPPoE and PPP are
    /// link-layer (2); ESP is network-layer security (3); SCTP is a transport (4).
    pub fn osi(self) -> Osi {
        match self {
            LayerName::Eth
            | LayerName::Vlan
            | LayerName::Sll
            | LayerName::Sll2
            | LayerName::Null => Osi::DataLink,
            LayerName::Arp
            | LayerName::Ipv4
            | LayerName::Ipv6
            | LayerName::Icmp
            | LayerName::Icmpv6 => Osi::Network,
            LayerName::Tcp | LayerName::Udp | LayerName::Quic => Osi::Transport,
            LayerName::Tls => Osi::Presentation,
            LayerName::Mpls => Osi::DataLink,
            LayerName::Pppoes => Osi::DataLink,
            LayerName::Pppoed => Osi::DataLink,
            LayerName::Ppp => Osi::DataLink,
            LayerName::Chdlc => Osi::DataLink,
            LayerName::Wlan => Osi::DataLink,
            LayerName::Radiotap => Osi::DataLink,
            LayerName::Ppi => Osi::DataLink,
            LayerName::Prism => Osi::DataLink,
            LayerName::Wlancap => Osi::DataLink,
            LayerName::Llc => Osi::DataLink,
            LayerName::Nflog => Osi::DataLink,
            LayerName::Ipoib => Osi::DataLink,
            LayerName::Erspan => Osi::DataLink,
            LayerName::Vxlan => Osi::DataLink,
            LayerName::Geneve => Osi::DataLink,
            LayerName::Gre => Osi::Network,
            LayerName::Gtp => Osi::Network,
            LayerName::Teredo => Osi::Network,
            LayerName::Ayiya => Osi::Network,
            LayerName::Esp => Osi::Network,
            LayerName::Sctp => Osi::Transport,
            LayerName::Loop => Osi::DataLink,

            LayerName::Http | LayerName::Http2 | LayerName::Http3 | LayerName::Dns => {
                Osi::Application
            }
        }
    }
}

impl fmt::Display for LayerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
