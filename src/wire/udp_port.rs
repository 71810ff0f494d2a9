//! UDP ports of the tunnels layerscope opens (IANA registrations, and Linux's VXLAN default).

pub const VXLAN: u16 = 4789;
/// Linux's VXLAN port before IANA's (still its kernel default).
pub const VXLAN_LINUX: u16 = 8472;
pub const GENEVE: u16 = 6081;
pub const GTP_U: u16 = 2152;
pub const TEREDO: u16 = 3544;
pub const AYIYA: u16 = 5072;
pub const MPLS_OVER_UDP: u16 = 6635;
pub const GRE_OVER_UDP: u16 = 4754;
/// IPsec NAT traversal (ESP in UDP, RFC 3948).
pub const IPSEC_NAT_T: u16 = 4500;
