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

/// Geneve's protocol type for an inner Ethernet frame (transparent Ethernet bridging).
const GENEVE_TRANSPARENT_ETHERNET: u16 = 0x6558;
/// The UDP port Geneve is recognised on.
const GENEVE_PORT: u16 = 6081;
/// MPLS unicast: its ether type and its PPP protocol number.
const ETHERTYPE_MPLS: u16 = 0x8847;
const PPP_MPLS_UNICAST: u16 = 0x0281;
const ETHERTYPE_PPPOE_DISCOVERY: u16 = 0x8863;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;

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

impl<'f, 'p> Ctx<'f, 'p> {
    pub(crate) fn new(
        frame: &RawFrame<'f>,
        packet: &'p DecodedPacket<'p>,
        encaps: &'p [EncapStep],
    ) -> Self {
        let link = match frame.link {
            LinkType::ETHERNET => Link::Ethernet,
            LinkType::LINUX_SLL => Link::Cooked {
                proto_off: 14,
                net_off: 16,
            },
            LinkType::LINUX_SLL2 => Link::Cooked {
                proto_off: 0,
                net_off: 20,
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
            Link::Ethernet => Layout {
                link_type: Some((Space::EtherType, 12)),
                net: 14,
                ether: Some(0),
                mpls: 0,
            },
            Link::Cooked { proto_off, net_off } => Layout {
                link_type: Some((Space::EtherType, proto_off)),
                net: net_off,
                ether: None,
                mpls: 0,
            },
            Link::Hdlc { ppp } => Layout {
                link_type: Some((if ppp { Space::Ppp } else { Space::EtherType }, 2)),
                net: 4,
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
                        at.link_type = Some((space, lt + 4));
                        at.net += 4;
                    }
                }
                EncapStep::Mpls => {
                    at.net += 4;
                    at.mpls = at.mpls.saturating_add(1);
                }
                EncapStep::Pppoes => {
                    // The PPP protocol field follows the 6-byte PPPoE header.
                    at.link_type = Some((Space::Ppp, at.net + 6));
                    at.net += 8;
                    at.ether = None;
                }
                EncapStep::Geneve => {
                    // libpcap's gen_geneve_offsets: the outer IP header's length (IPv4 IHL,
                    // IPv6 40), UDP's 8 bytes, then the Geneve header with its options.
                    let ip_len = match self.net_at(&at)? {
                        (Some(NetKind::Ipv4), nl) => usize::from(self.u8(nl)? & 0x0f) * 4,
                        _ => 40,
                    };
                    let geneve = at.net + ip_len + 8;
                    let end = geneve + usize::from(self.u8(geneve)? & 0x3f) * 4 + 8;
                    if self.u16(geneve + 2)? == GENEVE_TRANSPARENT_ETHERNET {
                        at.link_type = Some((Space::EtherType, end + 12));
                        at.net = end + 14;
                        at.ether = Some(end);
                    } else {
                        at.link_type = Some((Space::EtherType, geneve + 2));
                        at.net = end;
                        at.ether = None;
                    }
                    at.mpls = 0;
                }
            }
        }
        Ok(at)
    }

    /// The network layer at `at`: its kind (None for anything else) and offset.
    fn net_at(&self, at: &Layout) -> R<(Option<NetKind>, usize)> {
        let Some((space, lt)) = at.link_type else {
            return self.net_unframed();
        };
        if at.mpls > 0 {
            // libpcap's gen_mpls_linktype: the last label has the bottom-of-stack bit and
            // the version nibble says which IP follows.
            if self.u8(at.net - 2)? & 0x01 == 0 {
                return Ok((None, at.net));
            }
            let kind = match self.u8(at.net)? >> 4 {
                4 => Some(NetKind::Ipv4),
                6 => Some(NetKind::Ipv6),
                _ => None,
            };
            return Ok((kind, at.net));
        }
        let t = self.u16(lt)?;
        let kind = match space {
            Space::EtherType => match t {
                0x0800 => Some(NetKind::Ipv4),
                0x86dd => Some(NetKind::Ipv6),
                0x0806 => Some(NetKind::Arp),
                0x8035 => Some(NetKind::Rarp),
                _ => None,
            },
            Space::Ppp => match t {
                0x0021 => Some(NetKind::Ipv4),
                0x0057 => Some(NetKind::Ipv6),
                _ => None,
            },
        };
        Ok((kind, at.net))
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
                let b = self.bytes(0, 4)?;
                let be = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                let le = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                // DLT_NULL is in the capturing host's byte order: take the small reading.
                let family = if big_endian_only || be <= 0xffff {
                    be
                } else {
                    le
                };
                let kind = match family {
                    2 => Some(NetKind::Ipv4),
                    24 | 28 | 30 => Some(NetKind::Ipv6),
                    _ => None,
                };
                Ok((kind, 4))
            }
            Link::Raw => {
                let kind = match self.u8(0)? >> 4 {
                    4 => Some(NetKind::Ipv4),
                    6 => Some(NetKind::Ipv6),
                    _ => None,
                };
                Ok((kind, 0))
            }
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
        if kind != Some(NetKind::Ipv4) || self.u8(nl + 9)? != proto {
            return Ok(None);
        }
        if self.u16(nl + 6)? & 0x1fff != 0 {
            return Ok(None);
        }
        let ihl = usize::from(self.u8(nl)? & 0x0f) * 4;
        Ok(Some(nl + ihl))
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
    match p {
        6 => P_TCP,
        17 => P_UDP,
        132 => P_SCTP,
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
            if !matches!(cx.u16(lt)?, 0x8100 | 0x88a8 | 0x9100) {
                return Ok(false);
            }
            match id {
                None => Ok(true),
                Some(id) => Ok(cx.u16(lt + 2)? & 0x0fff == id),
            }
        }
        Prim::Mpls(label) => {
            let at = cx.layout(depth)?;
            let Some((space, lt)) = at.link_type else {
                return Ok(false);
            };
            let framed = if at.mpls > 0 {
                // Another label below: the one before must not be the bottom of the stack.
                cx.u8(at.net - 2)? & 0x01 == 0
            } else {
                let want = match space {
                    Space::EtherType => ETHERTYPE_MPLS,
                    Space::Ppp => PPP_MPLS_UNICAST,
                };
                cx.u16(lt)? == want
            };
            if !framed {
                return Ok(false);
            }
            match label {
                None => Ok(true),
                Some(label) => Ok(cx.u32(at.net)? & 0xffff_f000 == label << 12),
            }
        }
        Prim::Pppoes(session) => {
            let at = cx.layout(depth)?;
            match at.link_type {
                Some((Space::EtherType, lt)) if at.mpls == 0 => {
                    if cx.u16(lt)? != ETHERTYPE_PPPOE_SESSION {
                        return Ok(false);
                    }
                    match session {
                        None => Ok(true),
                        Some(id) => Ok(cx.u32(at.net)? & 0xffff == u32::from(id)),
                    }
                }
                _ => Ok(false),
            }
        }
        Prim::Pppoed => {
            let at = cx.layout(depth)?;
            match at.link_type {
                Some((Space::EtherType, lt)) if at.mpls == 0 => {
                    Ok(cx.u16(lt)? == ETHERTYPE_PPPOE_DISCOVERY)
                }
                _ => Ok(false),
            }
        }
        Prim::Geneve(vni) => {
            // libpcap's gen_geneve4/6: UDP to port 6081 (IPv4: first fragment only), then
            // the VNI in the Geneve header's second word.
            let (kind, nl) = cx.net(depth)?;
            let udp = match kind {
                Some(NetKind::Ipv4) => {
                    if cx.u8(nl + 9)? != 17 || cx.u16(nl + 6)? & 0x1fff != 0 {
                        return Ok(false);
                    }
                    nl + usize::from(cx.u8(nl)? & 0x0f) * 4
                }
                Some(NetKind::Ipv6) => {
                    if cx.u8(nl + 6)? != 17 {
                        return Ok(false);
                    }
                    nl + 40
                }
                _ => return Ok(false),
            };
            if cx.u16(udp + 2)? != GENEVE_PORT {
                return Ok(false);
            }
            match vni {
                None => Ok(true),
                Some(vni) => Ok(cx.u32(udp + 12)? & 0xffff_ff00 == vni << 8),
            }
        }
        Prim::Net(kind) => Ok(cx.net(depth)?.0 == Some(kind)),
        Prim::Proto { v4, v6, proto } => {
            let (kind, nl) = cx.net(depth)?;
            match kind {
                Some(NetKind::Ipv4) if v4 => Ok(cx.u8(nl + 9)? == proto),
                Some(NetKind::Ipv6) if v6 => {
                    let nh = cx.u8(nl + 6)?;
                    // libpcap also looks behind one fragment header (next header 44).
                    Ok(nh == proto || (nh == 44 && cx.u8(nl + 40)? == proto))
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
                Some(NetKind::Ipv4) if ip => (nl + 12, nl + 16),
                Some(NetKind::Arp) if arp => (nl + 14, nl + 24),
                Some(NetKind::Rarp) if rarp => (nl + 14, nl + 24),
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
            dir_match(dir, || is(nl + 8), || is(nl + 24))
        }
        Prim::Ether { dir, ref mac } => {
            let Some(eth) = cx.layout(depth)?.ether else {
                return Ok(false);
            };
            let is = |off: usize| -> R<bool> { Ok(cx.bytes(off, 6)? == mac) };
            dir_match(dir, || is(eth + 6), || is(eth))
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
                    if proto_bit(cx.u8(nl + 6)?) & protos == 0 {
                        return Ok(false);
                    }
                    nl + 40
                }
                Some(NetKind::Ipv4) if v4 => {
                    if proto_bit(cx.u8(nl + 9)?) & protos == 0 {
                        return Ok(false);
                    }
                    // Only the first fragment carries the ports.
                    if cx.u16(nl + 6)? & 0x1fff != 0 {
                        return Ok(false);
                    }
                    nl + usize::from(cx.u8(nl)? & 0x0f) * 4
                }
                _ => return Ok(false),
            };
            let is = |off: usize| -> R<bool> {
                let p = cx.u16(off)?;
                Ok(lo <= p && p <= hi)
            };
            dir_match(dir, || is(th), || is(th + 2))
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
                    if kind == Some(NetKind::Ipv6) && cx.u8(nl + 6)? == 58 {
                        Some(nl + 40)
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
