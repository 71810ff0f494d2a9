//! Decoding: link-type dispatch into etherparse's lax slicing, Linux SLL2 by hand, IP
//! fragment reassembly, and the OSI / TCP-IP label of every layer.
//!
//! A packet that cannot be fully decoded is data: [`DecodedPacket`] keeps every layer that
//! parsed and a [`DecodeIssue`] naming the layer, the byte offset and what was wrong.

mod decoder;
mod defrag;
mod encapsulation;
mod first_fragment;
mod layer;
mod link;
mod tcp_options;
mod walk;

pub use decoder::{Decoder, DecoderLimits, DecoderStats};
pub use encapsulation::{Encap, EncapKind, Encapsulation, MAX_ENCAPSULATIONS, MAX_VLAN_IDS};
pub use first_fragment::{FirstFragment, FirstFragmentTcp};
pub use layer::{LayerName, Osi};
pub use walk::{WalkStats, MAX_HEADERS, MAX_MPLS_LABELS, MAX_TUNNELS};

use crate::wire::tcp::flag as tcp_flag;
use arrayvec::ArrayVec;
use std::fmt;
use std::net::IpAddr;

/// One layer of a frame: which protocol, and where its header (or, for application layers,
/// its bytes) sits in the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layer {
    pub name: LayerName,
    /// Byte offset from the start of the frame (for layers of a reassembled IP datagram:
    /// from the start of the reassembled datagram's buffer, see [`DecodedPacket::reassembled`]).
    pub offset: u32,
    pub len: u32,
}

impl Layer {
    pub fn osi(&self) -> Osi {
        self.name.osi()
    }
}

/// Maximum number of layers kept for one packet.
pub const MAX_LAYERS: usize = 16;

/// Most outer tunnel flows kept for one packet (see [`DecodedPacket::outer_flows`]).
pub const MAX_OUTER_FLOWS: usize = 3;

/// The outer UDP flow of a UDP tunnel (VXLAN, Geneve, GTP-U, Teredo, AYIYA, MPLS or GRE
/// over UDP) that carried a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OuterFlow {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    /// The UDP length field (header and payload).
    pub length: u16,
    /// The outer IP datagram's length (IPv4 total length, IPv6 40 + payload length): Zeek's
    /// ip_bytes of the tunnel's connection.
    pub ip_len: u32,
    /// The tunnel: the one its port names, or Teredo found by content on another port
    /// ([`crate::wire::teredo::detect_by_content`]).
    pub tunnel: crate::wire::udp::UdpTunnel,
}

/// Link-layer facts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkInfo {
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    /// 802.1Q / QinQ VLAN ids, outermost first.
    pub vlans: ArrayVec<u16, 3>,
    /// The ether type (or SLL protocol) that carried the network layer.
    pub ether_type: Option<u16>,
}

/// IPv4 or IPv6 header facts (the innermost IP header when tunnelled).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP protocol number of the payload (after IPv6 extension headers).
    pub protocol: u8,
    pub ttl: u8,
    /// IPv4 identification (0 for IPv6 without a fragment header).
    pub ident: u32,
    /// Set when this header is a fragment (more fragments, or offset > 0).
    pub fragment: Option<FragmentInfo>,
    /// Total length of the IP datagram as its header says (may exceed what was captured).
    pub total_len: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentInfo {
    /// Offset of this fragment's data in bytes.
    pub offset: u32,
    pub more: bool,
}

/// ARP facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArpInfo {
    /// 1 = request, 2 = reply.
    pub operation: u16,
    pub sender_ip: Option<IpAddr>,
    pub target_ip: Option<IpAddr>,
    pub sender_mac: Option<[u8; 6]>,
}

/// TCP flag bits as in the header (NS is bit 8).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = tcp_flag::FIN;
    pub const SYN: u16 = tcp_flag::SYN;
    pub const RST: u16 = tcp_flag::RST;
    pub const PSH: u16 = tcp_flag::PSH;
    pub const ACK: u16 = tcp_flag::ACK;
    pub const URG: u16 = tcp_flag::URG;
    pub const ECE: u16 = tcp_flag::ECE;
    pub const CWR: u16 = tcp_flag::CWR;
    pub const NS: u16 = tcp_flag::NS;
    /// Names in tshark's order of bits, as used in JSON (`["SYN","ACK"]`): the names and
    /// bits of the wire layer's one table, [`crate::wire::tcp::FLAGS`].
    pub const NAMES: [(&'static str, u16); 9] = {
        let table = crate::wire::tcp::FLAGS;
        let mut names = [("", 0u16); 9];
        let mut i = 0;
        while i < names.len() {
            names[i] = (table[i].0, table[i].1);
            i += 1;
        }
        names
    };
    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(_, bit)| self.has(*bit))
            .map(|(n, _)| n)
    }
}

impl fmt::Display for TcpFlags {
    /// `SYN+ACK`, `FIN+ACK`, `PSH+ACK`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for name in self.names() {
            if !first {
                f.write_str("+")?;
            }
            f.write_str(name)?;
            first = false;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// TCP options that matter to an observer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// SACK blocks (left edge, right edge), absolute.
    pub sack: ArrayVec<(u32, u32), 4>,
    /// Timestamps (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// TCP Fast Open option (kind 34) present; `true` also for an empty cookie request.
    pub fast_open: bool,
}

/// `repr(C)`: the ports first, at the place in [`Transport`] where [`UdpInfo`] has its own, so
/// that [`DecodedPacket::ports`] reads them without telling TCP from UDP.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct TcpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// Raw header window (unscaled).
    pub window: u16,
    pub header_len: u8,
    pub options: TcpOptions,
    /// Payload length as the IP header says (tshark's `tcp.len`), which may exceed the
    /// captured payload when the snaplen cut the frame.
    pub payload_len: u32,
}

/// `repr(C, align(4))`: aligned as [`TcpInfo`], so that its ports lie where TCP's do in
/// [`Transport`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C, align(4))]
pub struct UdpInfo {
    pub src_port: u16,
    pub dst_port: u16,
    /// Length field of the UDP header (header + payload).
    pub length: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IcmpInfo {
    pub icmp_type: u8,
    pub code: u8,
    /// Echo identifier and sequence, where the type has them.
    pub echo: Option<(u16, u16)>,
}

/// The transport (or ICMP) layer.
///
/// `repr(u8)`: an explicit one-byte tag, so matching a variant (`DecodedPacket::tcp`,
/// `ports`, several times per packet in the flow tracker) is one byte comparison rather than
/// decoding a tag hidden in a niche of `TcpInfo` (its timestamps option).
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Transport {
    Tcp(TcpInfo),
    Udp(UdpInfo),
    Icmpv4(IcmpInfo),
    Icmpv6(IcmpInfo),
}

/// Why decoding stopped early: which layer, at which byte offset, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeIssue {
    /// The layer that could not be decoded (`"tcp"`, `"ipv4"`, `"link"` …).
    pub layer: &'static str,
    /// Byte offset of that layer in the frame.
    pub offset: u32,
    pub kind: IssueKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssueKind {
    /// The header needs `needed` bytes and only `had` were captured.
    TooShort {
        needed: u32,
        had: u32,
        snaplen_cut: bool,
    },
    /// A field's value is impossible (e.g. "IHL 3 is below the minimum 5").
    Malformed(String),
    /// The link type is not one layerscope decodes.
    UnsupportedLink { link_type: u32 },
}

impl fmt::Display for DecodeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            IssueKind::TooShort {
                needed,
                had,
                snaplen_cut,
            } => {
                write!(
                    f,
                    "{} header needs {} bytes, {} captured",
                    self.layer, needed, had
                )?;
                if *snaplen_cut {
                    f.write_str(" (cut by the snaplen)")?;
                }
                Ok(())
            }
            IssueKind::Malformed(why) => write!(f, "{}: {}", self.layer, why),
            IssueKind::UnsupportedLink { link_type } => {
                write!(f, "link type {link_type} not decoded")
            }
        }
    }
}

/// A decoded frame: its layers, outermost first, with the facts of each.
#[derive(Clone, Debug)]
pub struct DecodedPacket<'a> {
    pub layers: ArrayVec<Layer, MAX_LAYERS>,
    pub link: LinkInfo,
    pub arp: Option<ArpInfo>,
    pub net: Option<NetInfo>,
    pub transport: Option<Transport>,
    /// Transport payload as captured (TCP/UDP data; empty when there is none). For a
    /// reassembled IP datagram this borrows the decoder's reassembly buffer.
    pub payload: &'a [u8],
    /// Byte offset of `payload` in the frame (meaningless when `reassembled`).
    pub payload_offset: u32,
    /// This frame completed an IP fragment reassembly; transport and payload are those of
    /// the whole datagram.
    pub reassembled: bool,
    /// This frame is an IP fragment that did not (yet) complete a datagram.
    pub fragment_pending: bool,
    /// This frame is the first fragment (offset 0) of a datagram it did not complete: its
    /// transport header read from the fragment alone (not a layer, not a connection's
    /// packet; see [`FirstFragment`]).
    pub first_fragment: Option<FirstFragment>,
    /// Bytes of FCS that ended the frame and were taken off before decoding (0: none).
    pub fcs_len: u8,
    pub issue: Option<DecodeIssue>,
    /// UDP flows of the tunnels that carried this packet, outermost first (empty when it
    /// came in none).
    pub outer_flows: ArrayVec<OuterFlow, MAX_OUTER_FLOWS>,
    /// The HTTP/2 or HTTP/3 frames the app stage read in this packet (set with its
    /// application layers; none until then).
    pub app_frames: crate::app::FrameNames,
}

impl<'a> DecodedPacket<'a> {
    /// A packet with no layers yet (what the decoder starts from).
    pub fn empty() -> DecodedPacket<'a> {
        DecodedPacket {
            layers: ArrayVec::new(),
            link: LinkInfo::default(),
            arp: None,
            net: None,
            transport: None,
            payload: &[],
            payload_offset: 0,
            reassembled: false,
            fragment_pending: false,
            first_fragment: None,
            fcs_len: 0,
            issue: None,
            outer_flows: ArrayVec::new_const(),
            app_frames: crate::app::FrameNames::NONE,
        }
    }

    pub fn tcp(&self) -> Option<&TcpInfo> {
        match &self.transport {
            Some(Transport::Tcp(t)) => Some(t),
            _ => None,
        }
    }
    pub fn udp(&self) -> Option<&UdpInfo> {
        match &self.transport {
            Some(Transport::Udp(u)) => Some(u),
            _ => None,
        }
    }
    /// Source and destination ports of TCP or UDP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.transport {
            Some(
                Transport::Tcp(TcpInfo {
                    src_port, dst_port, ..
                })
                | Transport::Udp(UdpInfo {
                    src_port, dst_port, ..
                }),
            ) => Some((*src_port, *dst_port)),
            _ => None,
        }
    }
    /// Appends an application-layer label (http, dns, tls) over `len` bytes at `offset`.
    pub fn push_app_layer(&mut self, name: LayerName, offset: u32, len: u32) {
        let _ = self.layers.try_push(Layer { name, offset, len });
    }
}
