//! Evaluation of a parsed filter over one frame, the way libpcap's BPF code does it.
//!
//! Every field is read from the frame's own bytes at the offsets libpcap's code generator
//! uses for the frame's link type: so the answer is tcpdump's even where layerscope's decoded
//! view goes further (a reassembled datagram, a tunnel's inner header, IPv6 extension
//! headers, a VLAN tag). A read past the captured bytes ends the whole filter with "no
//! match", as a BPF load out of bounds does.

use super::parser::{
    ArOp, Arith, Base, Dir, EncapStep, NetKind, Node, Prim, RelOp, P_SCTP, P_TCP, P_UDP,
};
use crate::capture::{LinkType, RawFrame};
use crate::decode::{DecodedPacket, LayerName};
use crate::wire::{
    arp, chdlc, ethernet, geneve, ipv4, ipv6, mpls, null, ppp, pppoe, sll, udp, udp_port, vlan,
    vxlan, EtherType, IpNumber,
};

/// Where a transport header's ports lie (the same for TCP, UDP and SCTP).
const SRC_PORT: usize = udp::field::SRC_PORT.start;
const DST_PORT: usize = udp::field::DST_PORT.start;

/// A load past the captured bytes (or a division by zero): the filter rejects the packet.
#[derive(Debug)]
pub(crate) struct Abort;

type R<T> = Result<T, Abort>;

/// How the network layer is found for a link type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// Ether type at 12 (+4 per `vlan`), network layer at 14 (+4 per `vlan`).
    Ethernet,
    /// A 16-bit link type at 2 and the network layer at 4: PPP's protocol numbers (PPP,
    /// PPP in HDLC framing) or ether types (Cisco HDLC).
    Hdlc { ppp: bool },
    /// A 16-bit protocol at `proto_off`, network layer at `net_off` (Linux SLL, SLL2).
    Cooked { proto_off: usize, net_off: usize },
    /// BSD loopback: 4-byte address family (`big_endian` for LINKTYPE_LOOP).
    Null { big_endian_only: bool },
    /// Raw IP: the version nibble says which.
    Raw,
    /// LINKTYPE_IPV4 / LINKTYPE_IPV6: always that one.
    Fixed(NetKind),
    /// Any other link type: the decoder's first network layer.
    Decoded,
}

/// The frame being tested.
pub(crate) struct Ctx<'f, 'p> {
    data: &'f [u8],
    wire_len: u32,
    link: Link,
    packet: &'p DecodedPacket<'p>,
    encaps: &'p [EncapStep],
}

/// What the link-type field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Space {
    EtherType,
    /// PPP protocol numbers (0x0021 IPv4, 0x0057 IPv6, 0x0281 MPLS).
    Ppp,
}

/// Where libpcap's generated code reads, after the encapsulation keywords before a
/// primitive (its `off_linktype`, `off_linkpl + off_nl`, `off_linkhdr`, MPLS depth).
#[derive(Clone, Copy, Debug)]
struct Layout {
    /// The link-type field and what it holds; None for links without one (null, raw IP …),
    /// where the network layer is found as before any keyword.
    link_type: Option<(Space, usize)>,
    /// The network layer.
    net: usize,
    /// The Ethernet header that `ether` primitives and `vlan` read; None when the layer
    /// in front of the network layer is not Ethernet.
    ether: Option<usize>,
    /// MPLS labels passed: the network layer is then told by its version nibble.
    mpls: u8,
}

impl Layout {
    /// An Ethernet frame starting at `at` (the outermost one, or one inside a tunnel).
    fn ethernet_at(at: usize) -> Layout {
        Layout {
            link_type: Some((Space::EtherType, at + ethernet::field::ETHER_TYPE.start)),
            net: at + ethernet::HEADER_LEN,
            ether: Some(at),
            mpls: 0,
        }
    }
}

impl<'f, 'p> Ctx<'f, 'p> {
    pub(crate) fn new(
        frame: &RawFrame<'f>,
        packet: &'p DecodedPacket<'p>,
        encaps: &'p [EncapStep],
    ) -> Self {
        let link = match frame.link.base() {
            LinkType::ETHERNET => Link::Ethernet,
            LinkType::LINUX_SLL => Link::Cooked {
                proto_off: sll::field::PROTOCOL.start,
                net_off: sll::SLL_LEN,
            },
            LinkType::LINUX_SLL2 => Link::Cooked {
                proto_off: sll::field2::PROTOCOL.start,
                net_off: sll::SLL2_LEN,
            },
            LinkType::NULL => Link::Null {
                big_endian_only: false,
            },
            LinkType::LOOP => Link::Null {
                big_endian_only: true,
            },
            LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => Link::Raw,
            LinkType::IPV4 => Link::Fixed(NetKind::Ipv4),
            LinkType::IPV6 => Link::Fixed(NetKind::Ipv6),
            LinkType(9 | 50) => Link::Hdlc { ppp: true },
            LinkType(104) => Link::Hdlc { ppp: false },
            _ => Link::Decoded,
        };
        Ctx {
            data: frame.data,
            wire_len: frame.orig_len,
            link,
            packet,
            encaps,
        }
    }

    /// Where the primitives after the first `depth` encapsulation keywords read.
    fn layout(&self, depth: u8) -> R<Layout> {
        let mut at = match self.link {
            Link::Ethernet => Layout::ethernet_at(0),
            Link::Cooked { proto_off, net_off } => Layout {
                link_type: Some((Space::EtherType, proto_off)),
                net: net_off,
                ether: None,
                mpls: 0,
            },
            Link::Hdlc { ppp } => Layout {
                // PPP with address and control bytes, or Cisco HDLC: the same layout.
                link_type: Some((
                    if ppp { Space::Ppp } else { Space::EtherType },
                    chdlc::field::PROTOCOL.start,
                )),
                net: ppp::HDLC_FRAMED_LEN,
                ether: None,
                mpls: 0,
            },
            _ => Layout {
                link_type: None,
                net: 0,
                ether: None,
                mpls: 0,
            },
        };
        let steps = self.encaps.get(..usize::from(depth)).unwrap_or(self.encaps);
        for step in steps {
            let Some((space, lt)) = at.link_type else {
                // No link-type field: the keywords match nothing and move nothing.
                return Ok(at);
            };
            match step {
                EncapStep::Vlan => {
                    if at.ether.is_some() {
                        at.link_type = Some((space, lt + vlan::HEADER_LEN));
                        at.net += vlan::HEADER_LEN;
                    }
                }
                EncapStep::Mpls => {
                    at.net += mpls::ENTRY_LEN;
                    at.mpls = at.mpls.saturating_add(1);
                }
                EncapStep::Pppoes => {
                    // The PPP protocol field follows the 6-byte PPPoE header.
                    at.link_type = Some((Space::Ppp, at.net + pppoe::HEADER_LEN));
                    at.net += pppoe::HEADER_LEN + ppp::PROTOCOL_LEN;
                    at.ether = None;
                }
                EncapStep::Geneve => {
                    // libpcap's gen_geneve_offsets: the outer IP header's length (IPv4 IHL,
                    // IPv6 40), UDP's 8 bytes, then the Geneve header with its options.
                    let g = self.udp_payload_at(&at)?;
                    let end = g + geneve::header_len_of(self.u8(g + geneve::field::VER_OPTLEN)?);
                    let protocol = g + geneve::field::PROTOCOL.start;
                    if EtherType(self.u16(protocol)?) == EtherType::TRANSPARENT_ETHERNET_BRIDGING {
                        at = Layout::ethernet_at(end);
                    } else {
                        at.link_type = Some((Space::EtherType, protocol));
                        at.net = end;
                        at.ether = None;
                        at.mpls = 0;
                    }
                }
                EncapStep::Vxlan => {
                    // libpcap's gen_vxlan_offsets: the same outer IP and UDP lengths, the
                    // 8-byte VXLAN header, then always an Ethernet frame.
                    at = Layout::ethernet_at(self.udp_payload_at(&at)? + vxlan::HEADER_LEN);
                }
            }
        }
        Ok(at)
    }

    /// Where a UDP tunnel header starts when the network layer at `at` is the outer IP
    /// header: as libpcap, without checking (the tunnel primitive itself checks), an IPv4
    /// header's own length, else IPv6's 40 bytes, then UDP's 8.
    fn udp_payload_at(&self, at: &Layout) -> R<usize> {
        let ip_len = match self.net_at(at)? {
            (Some(NetKind::Ipv4), nl) => ipv4::header_len_of(self.u8(nl + ipv4::field::VER_IHL)?),
            _ => ipv6::HEADER_LEN,
        };
        Ok(at.net + ip_len + udp::HEADER_LEN)
    }

    /// The network layer at `at`: its kind (None for anything else) and offset.
    fn net_at(&self, at: &Layout) -> R<(Option<NetKind>, usize)> {
        let Some((space, lt)) = at.link_type else {
            return self.net_unframed();
        };
        if at.mpls > 0 {
            // libpcap's gen_mpls_linktype: the last label has the bottom-of-stack bit and
            // the version nibble says which IP follows.
            if !self.below_label_not_bottom(at.net)? {
                return Ok((self.ip_by_version(at.net)?, at.net));
            }
            return Ok((None, at.net));
        }
        let t = self.u16(lt)?;
        let kind = match space {
            Space::EtherType => match EtherType(t) {
                EtherType::IPV4 => Some(NetKind::Ipv4),
                EtherType::IPV6 => Some(NetKind::Ipv6),
                EtherType::ARP => Some(NetKind::Arp),
                EtherType::RARP => Some(NetKind::Rarp),
                _ => None,
            },
            Space::Ppp => match t {
                ppp::protocol::IPV4 => Some(NetKind::Ipv4),
                ppp::protocol::IPV6 => Some(NetKind::Ipv6),
                _ => None,
            },
        };
        Ok((kind, at.net))
    }

    /// Whether the MPLS label entry ending at `net` is not the bottom of the stack (another
    /// label follows).
    fn below_label_not_bottom(&self, net: usize) -> R<bool> {
        let entry = net.checked_sub(mpls::ENTRY_LEN).ok_or(Abort)?;
        Ok(self.u8(entry + mpls::field::TC_S)? & mpls::BOTTOM_OF_STACK == 0)
    }

    /// IPv4 or IPv6 by the version nibble of the byte at `at` (raw IP, below MPLS).
    fn ip_by_version(&self, at: usize) -> R<Option<NetKind>> {
        Ok(match self.u8(at + ipv4::field::VER_IHL)? >> 4 {
            4 => Some(NetKind::Ipv4),
            6 => Some(NetKind::Ipv6),
            _ => None,
        })
    }

    fn bytes(&self, off: usize, n: usize) -> R<&'f [u8]> {
        let end = off.checked_add(n).ok_or(Abort)?;
        self.data.get(off..end).ok_or(Abort)
    }
    fn u8(&self, off: usize) -> R<u8> {
        self.data.get(off).copied().ok_or(Abort)
    }
    fn u16(&self, off: usize) -> R<u16> {
        let b = self.bytes(off, 2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&self, off: usize) -> R<u32> {
        let b = self.bytes(off, 4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The network layer after the first `depth` encapsulation keywords: its kind (None
    /// for anything else) and offset.
    fn net(&self, depth: u8) -> R<(Option<NetKind>, usize)> {
        let at = self.layout(depth)?;
        self.net_at(&at)
    }

    /// The network layer of a link without a link-type field.
    fn net_unframed(&self) -> R<(Option<NetKind>, usize)> {
        match self.link {
            Link::Ethernet | Link::Cooked { .. } | Link::Hdlc { .. } => Ok((None, 0)),
            Link::Null { big_endian_only } => {
                let b = self.bytes(0, null::HEADER_LEN)?;
                let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                // DLT_NULL is in the capturing host's byte order: take the small reading.
                let family = if big_endian_only || be <= 0xffff {
                    be
                } else {
                    le
                };
                let kind = match null::family_ether_type(family) {
                    Some(EtherType::IPV4) => Some(NetKind::Ipv4),
                    Some(EtherType::IPV6) => Some(NetKind::Ipv6),
                    _ => None,
                };
                Ok((kind, null::HEADER_LEN))
            }
            Link::Raw => Ok((self.ip_by_version(0)?, 0)),
            Link::Fixed(kind) => Ok((Some(kind), 0)),
            Link::Decoded => {
                for l in &self.packet.layers {
                    let kind = match l.name {
                        LayerName::Ipv4 => NetKind::Ipv4,
                        LayerName::Ipv6 => NetKind::Ipv6,
                        LayerName::Arp => NetKind::Arp,
                        _ => continue,
                    };
                    return Ok((Some(kind), l.offset as usize));
                }
                Ok((None, 0))
            }
        }
    }

    /// Offset of the transport header of an IPv4 first fragment carrying `proto`.
    fn over_ipv4(&self, vlan_depth: u8, proto: u8) -> R<Option<usize>> {
        let (kind, nl) = self.net(vlan_depth)?;
        if kind != Some(NetKind::Ipv4) || self.u8(nl + ipv4::field::PROTOCOL)? != proto {
            return Ok(None);
        }
        self.ipv4_first_fragment_payload(nl)
    }

    /// The transport header of the IPv4 datagram at `nl` when it is the first fragment
    /// (later fragments carry no transport header).
    fn ipv4_first_fragment_payload(&self, nl: usize) -> R<Option<usize>> {
        if self.u16(nl + ipv4::field::FLAGS_FRAG.start)? & ipv4::FRAGMENT_OFFSET_MASK != 0 {
            return Ok(None);
        }
        Ok(Some(
            nl + ipv4::header_len_of(self.u8(nl + ipv4::field::VER_IHL)?),
        ))
    }

    /// The UDP header of the IPv4 first fragment or IPv6 packet at `nl` (no extension-header
    /// walk), as libpcap's `gen_port`/`gen_port6` find it.
    fn udp_over(&self, kind: Option<NetKind>, nl: usize) -> R<Option<usize>> {
        match kind {
            Some(NetKind::Ipv4) => {
                if self.u8(nl + ipv4::field::PROTOCOL)? != IpNumber::UDP.0 {
                    return Ok(None);
                }
                self.ipv4_first_fragment_payload(nl)
            }
            Some(NetKind::Ipv6) => {
                if self.u8(nl + ipv6::field::NEXT_HEADER)? != IpNumber::UDP.0 {
                    return Ok(None);
                }
                Ok(Some(nl + ipv6::HEADER_LEN))
            }
            _ => Ok(None),
        }
    }
}

fn dir_match(dir: Dir, src: impl FnOnce() -> R<bool>, dst: impl FnOnce() -> R<bool>) -> R<bool> {
    Ok(match dir {
        Dir::Src => src()?,
        Dir::Dst => dst()?,
        Dir::Either => src()? || dst()?,
        Dir::Both => src()? && dst()?,
    })
}

fn proto_bit(p: u8) -> u8 {
    match IpNumber(p) {
        IpNumber::TCP => P_TCP,
        IpNumber::UDP => P_UDP,
        IpNumber::SCTP => P_SCTP,
        _ => 0,
    }
}

pub(crate) fn eval(node: &Node, cx: &Ctx<'_, '_>) -> R<bool> {
    match node {
        Node::And(v) => {
            for n in v {
                if !eval(n, cx)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Node::Or(v) => {
            for n in v {
                if eval(n, cx)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Node::Not(n) => Ok(!eval(n, cx)?),
        Node::Prim(p, depth) => prim(p, *depth, cx),
        Node::Rel(a, op, b) => {
            let (Some(x), Some(y)) = (arith(a, cx)?, arith(b, cx)?) else {
                return Ok(false);
            };
            Ok(match op {
                RelOp::Eq => x == y,
                RelOp::Ne => x != y,
                RelOp::Lt => x < y,
                RelOp::Le => x <= y,
                RelOp::Gt => x > y,
                RelOp::Ge => x >= y,
            })
        }
    }
}

fn prim(p: &Prim, depth: u8, cx: &Ctx<'_, '_>) -> R<bool> {
    match *p {
        Prim::Greater(n) => Ok(cx.wire_len >= n),
        Prim::Less(n) => Ok(cx.wire_len <= n),
        Prim::Vlan(id) => {
            let at = cx.layout(depth)?;
            let (Some((Space::EtherType, lt)), Some(_)) = (at.link_type, at.ether) else {
                return Ok(false);
            };
            // libpcap's three tag types (not 0x9200).
            let tpid = EtherType(cx.u16(lt)?);
            if !matches!(
                tpid,
                EtherType::VLAN | EtherType::QINQ | EtherType::QINQ_9100
            ) {
                return Ok(false);
            }
            let tag = lt + ethernet::field::ETHER_TYPE.len();
            match id {
                None => Ok(true),
                Some(id) => Ok(cx.u16(tag + vlan::field::TCI.start)? & vlan::VLAN_ID_MASK == id),
            }
        }
        Prim::Mpls(label) => {
            let at = cx.layout(depth)?;
            let Some((space, lt)) = at.link_type else {
                return Ok(false);
            };
            let framed = if at.mpls > 0 {
                // Another label below: the one before must not be the bottom of the stack.
                cx.below_label_not_bottom(at.net)?
            } else {
                let want = match space {
                    Space::EtherType => EtherType::MPLS_UNICAST.0,
                    Space::Ppp => ppp::protocol::MPLS_UNICAST,
                };
                cx.u16(lt)? == want
            };
            if !framed {
                return Ok(false);
            }
            match label {
                None => Ok(true),
                Some(label) => Ok(
                    cx.u32(at.net + mpls::field::ENTRY.start)? & mpls::LABEL_MASK
                        == label << mpls::LABEL_SHIFT,
                ),
            }
        }
        Prim::Pppoes(session) => {
            let at = cx.layout(depth)?;
            match at.link_type {
                Some((Space::EtherType, lt)) if at.mpls == 0 => {
                    if EtherType(cx.u16(lt)?) != EtherType::PPPOE_SESSION {
                        return Ok(false);
                    }
                    match session {
                        None => Ok(true),
                        Some(id) => Ok(cx.u16(at.net + pppoe::field::SESSION_ID.start)? == id),
                    }
                }
                _ => Ok(false),
            }
        }
        Prim::Pppoed => {
            let at = cx.layout(depth)?;
            match at.link_type {
                Some((Space::EtherType, lt)) if at.mpls == 0 => {
                    Ok(EtherType(cx.u16(lt)?) == EtherType::PPPOE_DISCOVERY)
                }
                _ => Ok(false),
            }
        }
        Prim::Geneve(vni) => {
            // libpcap's gen_geneve4/6: UDP to port 6081 (IPv4: first fragment only),
            // Geneve version 0, then the VNI in the Geneve header's second word.
            let (kind, nl) = cx.net(depth)?;
            let Some(udp) = cx.udp_over(kind, nl)? else {
                return Ok(false);
            };
            if cx.u16(udp + DST_PORT)? != udp_port::GENEVE {
                return Ok(false);
            }
            let g = udp + udp::HEADER_LEN;
            if cx.u8(g + geneve::field::VER_OPTLEN)? & geneve::VERSION_MASK != 0 {
                return Ok(false);
            }
            match vni {
                None => Ok(true),
                Some(vni) => Ok(
                    cx.u32(g + geneve::field::VNI_RESERVED.start)? & geneve::VNI_MASK == vni << 8,
                ),
            }
        }
        Prim::Vxlan(vni) => {
            // libpcap 1.11's gen_vxlan4/6 (libpcap 1.10, tcpdump's oracle here, has no
            // `vxlan`): UDP to port 4789 (IPv4: first fragment only), the flags byte exactly
            // 0x08 (only the I flag), then the VNI in the header's second word.
            let (kind, nl) = cx.net(depth)?;
            let Some(udp) = cx.udp_over(kind, nl)? else {
                return Ok(false);
            };
            if cx.u16(udp + DST_PORT)? != udp_port::VXLAN {
                return Ok(false);
            }
            let v = udp + udp::HEADER_LEN;
            if cx.u8(v + vxlan::field::FLAGS)? != vxlan::FLAG_VNI {
                return Ok(false);
            }
            match vni {
                None => Ok(true),
                Some(vni) => {
                    Ok(cx.u32(v + vxlan::field::VNI_RESERVED.start)? & vxlan::VNI_MASK == vni << 8)
                }
            }
        }
        Prim::Net(kind) => Ok(cx.net(depth)?.0 == Some(kind)),
        Prim::Proto { v4, v6, proto } => {
            let (kind, nl) = cx.net(depth)?;
            match kind {
                Some(NetKind::Ipv4) if v4 => Ok(cx.u8(nl + ipv4::field::PROTOCOL)? == proto),
                Some(NetKind::Ipv6) if v6 => {
                    let nh = cx.u8(nl + ipv6::field::NEXT_HEADER)?;
                    // libpcap also looks behind one fragment header (its first byte is the
                    // next header).
                    Ok(nh == proto
                        || (nh == IpNumber::IPV6_FRAGMENT.0
                            && cx.u8(nl + ipv6::HEADER_LEN)? == proto))
                }
                _ => Ok(false),
            }
        }
        Prim::Host4 {
            dir,
            addr,
            mask,
            ip,
            arp,
            rarp,
        } => {
            let (kind, nl) = cx.net(depth)?;
            let (s, d) = match kind {
                Some(NetKind::Ipv4) if ip => (
                    nl + ipv4::field::SOURCE.start,
                    nl + ipv4::field::DESTINATION.start,
                ),
                Some(NetKind::Arp) if arp => (
                    nl + arp::field::SENDER_PROTOCOL.start,
                    nl + arp::field::TARGET_PROTOCOL.start,
                ),
                Some(NetKind::Rarp) if rarp => (
                    nl + arp::field::SENDER_PROTOCOL.start,
                    nl + arp::field::TARGET_PROTOCOL.start,
                ),
                _ => return Ok(false),
            };
            let is = |off: usize| -> R<bool> { Ok(cx.u32(off)? & mask == addr) };
            dir_match(dir, || is(s), || is(d))
        }
        Prim::Host6 {
            dir,
            ref addr,
            ref mask,
        } => {
            let (kind, nl) = cx.net(depth)?;
            if kind != Some(NetKind::Ipv6) {
                return Ok(false);
            }
            let is = |off: usize| -> R<bool> {
                let b = cx.bytes(off, 16)?;
                Ok(b.iter().zip(mask).zip(addr).all(|((b, m), a)| b & m == *a))
            };
            dir_match(
                dir,
                || is(nl + ipv6::field::SOURCE.start),
                || is(nl + ipv6::field::DESTINATION.start),
            )
        }
        Prim::Ether { dir, ref mac } => {
            let Some(eth) = cx.layout(depth)?.ether else {
                return Ok(false);
            };
            let is = |off: usize| -> R<bool> { Ok(cx.bytes(off, 6)? == mac) };
            dir_match(
                dir,
                || is(eth + ethernet::field::SOURCE.start),
                || is(eth + ethernet::field::DESTINATION.start),
            )
        }
        Prim::Port {
            dir,
            lo,
            hi,
            protos,
            v4,
            v6,
        } => {
            let (kind, nl) = cx.net(depth)?;
            let th = match kind {
                Some(NetKind::Ipv6) if v6 => {
                    // As libpcap: the next header itself, no extension-header walk.
                    if proto_bit(cx.u8(nl + ipv6::field::NEXT_HEADER)?) & protos == 0 {
                        return Ok(false);
                    }
                    nl + ipv6::HEADER_LEN
                }
                Some(NetKind::Ipv4) if v4 => {
                    if proto_bit(cx.u8(nl + ipv4::field::PROTOCOL)?) & protos == 0 {
                        return Ok(false);
                    }
                    // Only the first fragment carries the ports.
                    match cx.ipv4_first_fragment_payload(nl)? {
                        Some(th) => th,
                        None => return Ok(false),
                    }
                }
                _ => return Ok(false),
            };
            let is = |off: usize| -> R<bool> {
                let p = cx.u16(off)?;
                Ok(lo <= p && p <= hi)
            };
            dir_match(dir, || is(th + SRC_PORT), || is(th + DST_PORT))
        }
    }
}

/// Where `ether[]`/`link[]` count from after the first `depth` encapsulation keywords.
fn link_header(cx: &Ctx<'_, '_>, depth: u8) -> R<usize> {
    let at = cx.layout(depth)?;
    Ok(match (at.ether, at.link_type) {
        (Some(eth), _) => eth,
        // Behind pppoes the link header is PPP's protocol field.
        (None, Some((Space::Ppp, lt))) if depth > 0 => lt,
        _ => 0,
    })
}

/// The value of an arithmetic expression; `None` when a byte access's protocol is not there.
fn arith(a: &Arith, cx: &Ctx<'_, '_>) -> R<Option<u32>> {
    Ok(Some(match a {
        Arith::Num(n) => *n,
        Arith::Len => cx.wire_len,
        Arith::Neg(x) => match arith(x, cx)? {
            Some(v) => v.wrapping_neg(),
            None => return Ok(None),
        },
        Arith::Bin(op, x, y) => {
            let (Some(x), Some(y)) = (arith(x, cx)?, arith(y, cx)?) else {
                return Ok(None);
            };
            match op {
                ArOp::Add => x.wrapping_add(y),
                ArOp::Sub => x.wrapping_sub(y),
                ArOp::Mul => x.wrapping_mul(y),
                ArOp::Div => x.checked_div(y).ok_or(Abort)?,
                ArOp::Mod => x.checked_rem(y).ok_or(Abort)?,
                ArOp::And => x & y,
                ArOp::Or => x | y,
                ArOp::Xor => x ^ y,
                ArOp::Shl => x.checked_shl(y).unwrap_or(0),
                ArOp::Shr => x.checked_shr(y).unwrap_or(0),
            }
        }
        Arith::Load {
            base,
            index,
            size,
            vlan_depth,
        } => {
            let start = match *base {
                // `ether[]`/`link[]` count from the link header in front of the network
                // layer (libpcap's off_linkhdr: the inner frame behind geneve or pppoes).
                Base::Link => Some(link_header(cx, *vlan_depth)?),
                Base::Ip | Base::Ip6 | Base::Arp => {
                    let want = match base {
                        Base::Ip => NetKind::Ipv4,
                        Base::Ip6 => NetKind::Ipv6,
                        _ => NetKind::Arp,
                    };
                    let (kind, nl) = cx.net(*vlan_depth)?;
                    (kind == Some(want)).then_some(nl)
                }
                Base::OverIpv4(p) => cx.over_ipv4(*vlan_depth, p)?,
                Base::Icmp6 => {
                    let (kind, nl) = cx.net(*vlan_depth)?;
                    if kind == Some(NetKind::Ipv6)
                        && cx.u8(nl + ipv6::field::NEXT_HEADER)? == IpNumber::ICMPV6.0
                    {
                        Some(nl + ipv6::HEADER_LEN)
                    } else {
                        None
                    }
                }
            };
            let Some(start) = start else {
                return Ok(None);
            };
            let Some(i) = arith(index, cx)? else {
                return Ok(None);
            };
            let off = start.checked_add(i as usize).ok_or(Abort)?;
            match size {
                1 => u32::from(cx.u8(off)?),
                2 => u32::from(cx.u16(off)?),
                _ => cx.u32(off)?,
            }
        }
    }))
}
