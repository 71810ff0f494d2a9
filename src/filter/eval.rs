//! Evaluation of a parsed filter over one frame, the way libpcap's BPF code does it.
//!
//! Every field is read from the frame's own bytes at the offsets libpcap's code generator
//! uses for the frame's link type: so the answer is tcpdump's even where layerscope's decoded
//! view goes further (a reassembled datagram, a tunnel's inner header, IPv6 extension
//! headers, a VLAN tag). A read past the captured bytes ends the whole filter with "no
//! match", as a BPF load out of bounds does.

use super::parser::{ArOp, Arith, Base, Dir, NetKind, Node, Prim, RelOp, P_SCTP, P_TCP, P_UDP};
use crate::capture::{LinkType, RawFrame};
use crate::decode::{DecodedPacket, LayerName};

/// A load past the captured bytes (or a division by zero): the filter rejects the packet.
#[derive(Debug)]
pub(crate) struct Abort;

type R<T> = Result<T, Abort>;

/// How the network layer is found for a link type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// Ether type at 12 (+4 per `vlan`), network layer at 14 (+4 per `vlan`).
    Ethernet,
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
}

impl<'f, 'p> Ctx<'f, 'p> {
    pub(crate) fn new(frame: &RawFrame<'f>, packet: &'p DecodedPacket<'p>) -> Self {
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
            _ => Link::Decoded,
        };
        Ctx {
            data: frame.data,
            wire_len: frame.orig_len,
            link,
            packet,
        }
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

    /// The network layer at `vlan_depth`: its kind (None for anything else) and offset.
    fn net(&self, vlan_depth: u8) -> R<(Option<NetKind>, usize)> {
        let from_type = |t: u16| match t {
            0x0800 => Some(NetKind::Ipv4),
            0x86dd => Some(NetKind::Ipv6),
            0x0806 => Some(NetKind::Arp),
            0x8035 => Some(NetKind::Rarp),
            _ => None,
        };
        match self.link {
            Link::Ethernet => {
                let shift = 4 * usize::from(vlan_depth);
                Ok((from_type(self.u16(12 + shift)?), 14 + shift))
            }
            Link::Cooked { proto_off, net_off } => Ok((from_type(self.u16(proto_off)?), net_off)),
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
            if cx.link != Link::Ethernet {
                return Ok(false);
            }
            let off = 12 + 4 * usize::from(depth);
            if !matches!(cx.u16(off)?, 0x8100 | 0x88a8 | 0x9100) {
                return Ok(false);
            }
            match id {
                None => Ok(true),
                Some(id) => Ok(cx.u16(off + 2)? & 0x0fff == id),
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
            if cx.link != Link::Ethernet {
                return Ok(false);
            }
            let is = |off: usize| -> R<bool> { Ok(cx.bytes(off, 6)? == mac) };
            dir_match(dir, || is(6), || is(0))
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
                Base::Link => Some(0),
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
