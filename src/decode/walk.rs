//! The walk over "what comes next": from a link type or an ether type, header after header
//! through VLAN tags, MPLS labels, PPPoE, PPP, 802.11, GRE, ERSPAN, IP in IP and the UDP
//! tunnels (VXLAN, Geneve, GTP-U, Teredo, AYIYA, MPLS and GRE over UDP), pushing a layer per
//! header, until the innermost IP (or ARP, or anything else by ether type) that the rest of
//! the decoder reads with etherparse. A loop with a header budget, never recursion: input
//! cannot make it go deeper than [`MAX_HEADERS`] headers or [`MAX_TUNNELS`] tunnels.

use etherparse::EtherType as EpEtherType;

use super::{DecodeIssue, DecodedPacket, IssueKind, Layer, LayerName, OuterFlow};
use crate::capture::LinkType;
use crate::wire::{
    ayiya::Ayiya, chdlc::Chdlc, erspan::Erspan, ethernet::Ethernet, geneve::Geneve, gre::Gre,
    gtpu::GtpU, ieee80211::Ieee80211, ipoib::Ipoib, ipv4::Ipv4, ipv6::Ipv6, llc::Llc,
    mpls::MplsEntry, nflog, nflog::Nflog, ppi::Ppi, ppp::Ppp, pppoe::Pppoe, prism::RadioHeader,
    radiotap::Radiotap, teredo::Teredo, udp::Udp, udp::UdpTunnel, vlan::VlanTag, vxlan::Vxlan,
    EtherType, IpNumber, Next, Truncated,
};

/// Most headers the walk reads in one frame (VLAN tags and MPLS labels count one each).
pub const MAX_HEADERS: usize = 64;
/// Most tunnels (IP in IP, GRE, UDP tunnels) opened in one frame.
pub const MAX_TUNNELS: usize = 8;
/// Most MPLS labels read in one stack.
pub const MAX_MPLS_LABELS: usize = 16;

/// Where the walk is: the kind of header expected at an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    EtherType(EtherType),
    Ethernet,
    IpByVersion,
    Gre,
    Erspan { type_iii: bool },
    Ppp,
    Ieee80211,
    Llc,
    Mpls,
}

/// Where a link header leaves the walk.
pub(super) enum WalkFrom {
    At(Step, usize),
    /// The link header is all there is (or it was cut): nothing to walk.
    Done,
}

/// What the walk ended on.
pub(super) enum WalkEnd {
    /// Hand the rest to the IP / ARP decoder: the ether type and frame offset.
    Net(EpEtherType, usize),
    /// Nothing more to decode (an issue may say why).
    Done,
}

/// Counters the walk keeps across frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Frames whose headers went past [`MAX_HEADERS`] or [`MAX_TUNNELS`] (not decoded further).
    pub nesting_cut: u64,
}

fn push(out: &mut DecodedPacket<'_>, name: LayerName, offset: usize, len: usize) {
    let _ = out.layers.try_push(Layer {
        name,
        offset: u32::try_from(offset).unwrap_or(u32::MAX),
        len: u32::try_from(len).unwrap_or(u32::MAX),
    });
}

fn truncated(
    out: &mut DecodedPacket<'_>,
    layer: &'static str,
    off: usize,
    t: Truncated,
    cut: bool,
) {
    if out.issue.is_none() {
        out.issue = Some(DecodeIssue {
            layer,
            offset: u32::try_from(off).unwrap_or(u32::MAX),
            kind: IssueKind::TooShort {
                needed: u32::try_from(t.needed).unwrap_or(u32::MAX),
                had: u32::try_from(t.had).unwrap_or(u32::MAX),
                snaplen_cut: cut,
            },
        });
    }
}

/// Where the walk starts for a link type that `link_layer` does not read, with the layers of
/// the link header pushed. `None`: not one of them.
pub(super) fn link_start(
    data: &[u8],
    cut: bool,
    link_type: LinkType,
    out: &mut DecodedPacket<'_>,
) -> Option<WalkFrom> {
    let (step, off) = match link_type {
        LinkType::PPP | LinkType::PPP_HDLC => (Step::Ppp, 0),
        LinkType::C_HDLC => match Chdlc::new_checked(data) {
            Ok(h) => {
                push(out, LayerName::Chdlc, 0, crate::wire::chdlc::HEADER_LEN);
                match h.next() {
                    Next::EtherType(t) => (Step::EtherType(t), crate::wire::chdlc::HEADER_LEN),
                    _ => return Some(WalkFrom::Done),
                }
            }
            Err(t) => {
                truncated(out, "chdlc", 0, t, cut);
                return Some(WalkFrom::Done);
            }
        },
        LinkType::IEEE802_11 => (Step::Ieee80211, 0),
        LinkType::IEEE802_11_RADIOTAP => match Radiotap::new_checked(data) {
            Ok(r) => {
                push(out, LayerName::Radiotap, 0, r.header_len());
                (Step::Ieee80211, r.header_len())
            }
            Err(t) => {
                truncated(out, "radiotap", 0, t, cut);
                return Some(WalkFrom::Done);
            }
        },
        LinkType::IEEE802_11_PRISM | LinkType::IEEE802_11_AVS => {
            let h = if link_type == LinkType::IEEE802_11_AVS {
                RadioHeader::new_avs(data)
            } else {
                RadioHeader::new_prism(data)
            };
            match h {
                Ok(h) => {
                    // A Prism link may carry an AVS header instead (told by its magic).
                    let name = if h.is_avs() {
                        LayerName::Wlancap
                    } else {
                        LayerName::Prism
                    };
                    push(out, name, 0, h.header_len());
                    (Step::Ieee80211, h.header_len())
                }
                Err(t) => {
                    truncated(out, "prism", 0, t, cut);
                    return Some(WalkFrom::Done);
                }
            }
        }
        LinkType::PPI => match Ppi::new_checked(data) {
            Ok(p) => {
                push(out, LayerName::Ppi, 0, p.header_len());
                match LinkType(p.link_type()) {
                    LinkType::IEEE802_11 => (Step::Ieee80211, p.header_len()),
                    LinkType::ETHERNET => (Step::Ethernet, p.header_len()),
                    _ => return Some(WalkFrom::Done),
                }
            }
            Err(t) => {
                truncated(out, "ppi", 0, t, cut);
                return Some(WalkFrom::Done);
            }
        },
        LinkType::NFLOG => match Nflog::new_checked(data) {
            Ok(n) => match n.payload() {
                nflog::NflogPayload::Found { offset, .. } => {
                    push(out, LayerName::Nflog, 0, offset);
                    match n.next() {
                        Next::EtherType(t) => (Step::EtherType(t), offset),
                        _ => (Step::IpByVersion, offset),
                    }
                }
                _ => {
                    push(out, LayerName::Nflog, 0, data.len());
                    return Some(WalkFrom::Done);
                }
            },
            Err(t) => {
                truncated(out, "nflog", 0, t, cut);
                return Some(WalkFrom::Done);
            }
        },
        LinkType::IPOIB => match Ipoib::new_checked(data) {
            Ok(h) => {
                push(out, LayerName::Ipoib, 0, crate::wire::ipoib::HEADER_LEN);
                (
                    Step::EtherType(h.ether_type()),
                    crate::wire::ipoib::HEADER_LEN,
                )
            }
            Err(t) => {
                truncated(out, "ipoib", 0, t, cut);
                return Some(WalkFrom::Done);
            }
        },
        _ => return None,
    };
    Some(WalkFrom::At(step, off))
}

/// What a UDP payload is when its port names a tunnel and the header is one, with the
/// tunnel's layer, header length and what follows. `None`: not a tunnel this walk opens
/// (a tunnel message with nothing inside, like a GTP echo, is named after the transport
/// by [`label_transport_payload`]).
fn udp_tunnel(payload: &[u8], tunnel: UdpTunnel) -> Option<(LayerName, usize, Step)> {
    match tunnel {
        UdpTunnel::Vxlan => {
            let v = Vxlan::new_checked(payload)
                .ok()
                .filter(|v| v.is_well_formed())?;
            let step = match v.next() {
                Next::Ethernet => Step::Ethernet,
                Next::IpByVersion => Step::IpByVersion,
                _ => return None,
            };
            Some((LayerName::Vxlan, crate::wire::vxlan::HEADER_LEN, step))
        }
        UdpTunnel::Geneve => {
            let g = Geneve::new_checked(payload).ok()?;
            if g.version() != 0 {
                return None;
            }
            let step = match g.next() {
                Next::Ethernet => Step::Ethernet,
                Next::EtherType(t) => Step::EtherType(t),
                _ => return None,
            };
            Some((LayerName::Geneve, g.header_len(), step))
        }
        UdpTunnel::GtpU => {
            let g = GtpU::new_checked(payload).ok()?;
            // version 1, protocol type GTP (not GTP')
            if g.version() != 1 || payload.first()? & 0x10 == 0 || g.next() != Next::IpByVersion {
                return None;
            }
            ip_follows(payload.get(g.header_len()..)?)?;
            Some((LayerName::Gtp, g.header_len(), Step::IpByVersion))
        }
        UdpTunnel::Teredo => {
            let t = Teredo::new_checked(payload).ok()?;
            let inner = Ipv6::new_checked(payload.get(t.header_len()..)?).ok()?;
            let _ = inner;
            Some((
                LayerName::Teredo,
                t.header_len(),
                Step::EtherType(EtherType::IPV6),
            ))
        }
        UdpTunnel::Ayiya => {
            let a = Ayiya::new_checked(payload).ok()?;
            match a.next() {
                Next::Ip(IpNumber::IPV6) => Some((
                    LayerName::Ayiya,
                    a.header_len(),
                    Step::EtherType(EtherType::IPV6),
                )),
                Next::Ip(IpNumber::IPV4) => Some((
                    LayerName::Ayiya,
                    a.header_len(),
                    Step::EtherType(EtherType::IPV4),
                )),
                _ => None,
            }
        }
        UdpTunnel::MplsOverUdp => {
            MplsEntry::new_checked(payload).ok()?;
            Some((LayerName::Udp, 0, Step::Mpls))
        }
        UdpTunnel::GreOverUdp => {
            let g = Gre::new_checked(payload).ok()?;
            (g.version() == 0).then_some((LayerName::Udp, 0, Step::Gre))
        }
        UdpTunnel::EspInUdp => None,
    }
}

/// `Some` when `b` starts with an IPv4 or IPv6 header.
fn ip_follows(b: &[u8]) -> Option<()> {
    match b.first()? >> 4 {
        4 => Ipv4::new_checked(b).ok().map(|_| ()),
        6 => Ipv6::new_checked(b).ok().map(|_| ()),
        _ => None,
    }
}

/// An IP header's payload, if it opens a tunnel: the steps (after the IP layer, which the
/// caller pushes) and whether a UDP header comes first.
enum IpPayload {
    /// IP carries what `Step` names at the payload's start.
    Tunnel(Step),
    /// UDP (8 bytes) then a tunnel header of `len` bytes named `name`, then `Step`.
    Udp(LayerName, usize, Step, UdpTunnel),
}

fn ip_payload_tunnel(protocol: IpNumber, payload: &[u8]) -> Option<IpPayload> {
    match protocol {
        // IP in IP: the inner header is the next layer even when the capture cut it (it then
        // shows as far as it goes, with an issue), as long as its version is right.
        IpNumber::IPV4 => (payload.first()? >> 4 == 4)
            .then_some(IpPayload::Tunnel(Step::EtherType(EtherType::IPV4))),
        IpNumber::IPV6 => (payload.first()? >> 4 == 6)
            .then_some(IpPayload::Tunnel(Step::EtherType(EtherType::IPV6))),
        IpNumber::GRE => {
            Gre::new_checked(payload).ok()?;
            Some(IpPayload::Tunnel(Step::Gre))
        }
        IpNumber::MPLS_IN_IP => {
            MplsEntry::new_checked(payload).ok()?;
            Some(IpPayload::Tunnel(Step::Mpls))
        }
        IpNumber::UDP => {
            let u = Udp::new_checked(payload).ok()?;
            let kind = u.tunnel_or_teredo()?;
            let (name, len, step) = udp_tunnel(u.payload(), kind)?;
            Some(IpPayload::Udp(name, len, step, kind))
        }
        _ => None,
    }
}

/// The outer UDP flow of a UDP tunnel, for `outer_conns`.
fn outer_flow(ip: &[u8], udp: &[u8], tunnel: UdpTunnel) -> Option<OuterFlow> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip_len = match ip.first()? >> 4 {
        4 => u32::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?])),
        _ => 40 + u32::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?])),
    };
    let (src, dst) = match ip.first()? >> 4 {
        4 => {
            let a: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let b: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(b)))
        }
        _ => {
            let a: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let b: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (IpAddr::V6(Ipv6Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b)))
        }
    };
    let u = Udp::new_checked(udp).ok()?;
    Some(OuterFlow {
        src,
        dst,
        src_port: u.src_port(),
        dst_port: u.dst_port(),
        length: u.length(),
        ip_len,
        tunnel,
    })
}

/// Walks from `step` at frame offset `off` until the innermost network layer.
pub(super) fn walk(
    data: &[u8],
    cut: bool,
    step: Step,
    off: usize,
    first_eth: bool,
    out: &mut DecodedPacket<'_>,
    stats: &mut WalkStats,
) -> WalkEnd {
    let end = walk_headers(data, cut, step, off, first_eth, out, stats);
    if matches!(end, WalkEnd::Done) && out.net.is_none() {
        // Stopped inside or after a tunnel (a cut header, a payload not decoded): the last
        // IP header walked is the packet's network layer, as tshark's first ip.src is.
        out.net = last_ip_header(data, out);
    }
    end
}

/// The facts of the innermost IPv4/IPv6 layer pushed so far, read again from its header.
fn last_ip_header(data: &[u8], out: &DecodedPacket<'_>) -> Option<super::NetInfo> {
    let ip = out
        .layers
        .iter()
        .rev()
        .find(|l| matches!(l.name, LayerName::Ipv4 | LayerName::Ipv6))?;
    let rest = data.get(ip.offset as usize..)?;
    let net = if ip.name == LayerName::Ipv4 {
        let h = Ipv4::new_checked(rest).ok()?;
        super::NetInfo {
            src: h.source().into(),
            dst: h.destination().into(),
            protocol: h.protocol().0,
            ttl: h.ttl(),
            ident: u32::from(h.ident()),
            fragment: None,
            total_len: u32::from(h.total_len()),
        }
    } else {
        let h = Ipv6::new_checked(rest).ok()?;
        super::NetInfo {
            src: h.source().into(),
            dst: h.destination().into(),
            protocol: h.upper_protocol().0,
            ttl: h.hop_limit(),
            ident: 0,
            fragment: None,
            total_len: 40 + u32::from(h.payload_len()),
        }
    };
    Some(net)
}

/// [`walk`]'s loop: header after header until the innermost network layer.
fn walk_headers(
    data: &[u8],
    cut: bool,
    mut step: Step,
    mut off: usize,
    first_eth: bool,
    out: &mut DecodedPacket<'_>,
    stats: &mut WalkStats,
) -> WalkEnd {
    let mut tunnels = 0usize;
    let mut seen_eth = first_eth;
    for _ in 0..MAX_HEADERS {
        let rest = data.get(off..).unwrap_or(&[]);
        match step {
            Step::Ethernet => match Ethernet::new_checked(rest) {
                Ok(e) => {
                    push(out, LayerName::Eth, off, e.header_len());
                    if !seen_eth {
                        out.link.dst_mac = Some(e.destination());
                        out.link.src_mac = Some(e.source());
                        seen_eth = true;
                    }
                    off += e.header_len();
                    step = Step::EtherType(e.ether_type());
                }
                Err(t) => {
                    truncated(out, "eth", off, t, cut);
                    return WalkEnd::Done;
                }
            },
            Step::EtherType(t) if t.is_vlan_tag() => match VlanTag::new_checked(rest) {
                Ok(v) => {
                    push(out, LayerName::Vlan, off, crate::wire::vlan::HEADER_LEN);
                    let _ = out.link.vlans.try_push(v.vlan_id());
                    off += crate::wire::vlan::HEADER_LEN;
                    step = Step::EtherType(v.ether_type());
                }
                Err(t) => {
                    truncated(out, "vlan", off, t, cut);
                    return WalkEnd::Done;
                }
            },
            Step::EtherType(t) if t.is_mpls() => step = Step::Mpls,
            Step::Mpls => {
                let start = off;
                let mut bottom = false;
                for _ in 0..MAX_MPLS_LABELS {
                    match MplsEntry::new_checked(data.get(off..).unwrap_or(&[])) {
                        Ok(e) => {
                            off += crate::wire::mpls::ENTRY_LEN;
                            if e.bottom_of_stack() {
                                bottom = true;
                                break;
                            }
                        }
                        Err(t) => {
                            if off > start {
                                push(out, LayerName::Mpls, start, off - start);
                            }
                            truncated(out, "mpls", off, t, cut);
                            return WalkEnd::Done;
                        }
                    }
                }
                push(out, LayerName::Mpls, start, off - start);
                if !bottom {
                    stats.nesting_cut += 1;
                    out.issue = Some(DecodeIssue {
                        layer: "mpls",
                        offset: u32::try_from(start).unwrap_or(u32::MAX),
                        kind: IssueKind::Malformed(format!(
                            "no bottom of stack within {MAX_MPLS_LABELS} labels: not decoded further"
                        )),
                    });
                    return WalkEnd::Done;
                }
                let (next, skip) =
                    crate::wire::mpls::payload_after_stack(data.get(off..).unwrap_or(&[]));
                off += skip;
                step = match next {
                    Next::IpByVersion => Step::IpByVersion,
                    Next::Ethernet => Step::Ethernet,
                    _ => return WalkEnd::Done,
                };
            }
            Step::EtherType(EtherType::PPPOE_SESSION)
            | Step::EtherType(EtherType::PPPOE_DISCOVERY) => {
                let session = step == Step::EtherType(EtherType::PPPOE_SESSION);
                match Pppoe::new_checked(rest) {
                    Ok(p) => {
                        let name = if session {
                            LayerName::Pppoes
                        } else {
                            LayerName::Pppoed
                        };
                        push(out, name, off, crate::wire::pppoe::HEADER_LEN);
                        if !session {
                            return WalkEnd::Done;
                        }
                        let _ = p.payload_len();
                        off += crate::wire::pppoe::HEADER_LEN;
                        step = Step::Ppp;
                    }
                    Err(t) => {
                        truncated(out, if session { "pppoes" } else { "pppoed" }, off, t, cut);
                        return WalkEnd::Done;
                    }
                }
            }
            Step::Ppp => match Ppp::new_checked(rest) {
                Ok(p) => {
                    push(out, LayerName::Ppp, off, p.header_len());
                    off += p.header_len();
                    match p.next() {
                        Next::EtherType(t) => step = Step::EtherType(t),
                        _ => return WalkEnd::Done,
                    }
                }
                Err(t) => {
                    truncated(out, "ppp", off, t, cut);
                    return WalkEnd::Done;
                }
            },
            Step::IpByVersion => match rest.first().map(|b| b >> 4) {
                Some(4) => step = Step::EtherType(EtherType::IPV4),
                Some(6) => step = Step::EtherType(EtherType::IPV6),
                _ => return WalkEnd::Done,
            },
            Step::EtherType(t @ (EtherType::IPV4 | EtherType::IPV6)) => {
                // The IP header is the innermost unless its payload opens a tunnel.
                let (hl, name, payload, tunnel) = if t == EtherType::IPV4 {
                    match Ipv4::new_checked(rest) {
                        Ok(h) if !h.is_fragment() => (
                            h.header_len(),
                            LayerName::Ipv4,
                            h.payload(),
                            ip_payload_tunnel(h.protocol(), h.payload()),
                        ),
                        _ => return WalkEnd::Net(EpEtherType(t.0), off),
                    }
                } else {
                    match Ipv6::new_checked(rest) {
                        Ok(h) if !h.has_fragment_header() => (
                            h.header_len(),
                            LayerName::Ipv6,
                            h.payload(),
                            ip_payload_tunnel(h.upper_protocol(), h.payload()),
                        ),
                        _ => return WalkEnd::Net(EpEtherType(t.0), off),
                    }
                };
                let Some(tunnel) = tunnel else {
                    return WalkEnd::Net(EpEtherType(t.0), off);
                };
                if tunnels == MAX_TUNNELS {
                    return nesting_cut(out, stats, off, EpEtherType(t.0));
                }
                tunnels += 1;
                push(out, name, off, hl);
                let ip_off = off;
                off += hl;
                match tunnel {
                    IpPayload::Tunnel(s) => step = s,
                    IpPayload::Udp(tname, tlen, s, kind) => {
                        if let Some(flow) = outer_flow(rest, payload, kind) {
                            let _ = out.outer_flows.try_push(flow);
                        }
                        let _ = ip_off;
                        push(out, LayerName::Udp, off, crate::wire::udp::HEADER_LEN);
                        off += crate::wire::udp::HEADER_LEN;
                        if tname != LayerName::Udp {
                            push(out, tname, off, tlen);
                            off += tlen;
                        }
                        step = s;
                    }
                }
            }
            Step::Gre => match Gre::new_checked(rest) {
                Ok(g) => {
                    push(out, LayerName::Gre, off, g.header_len());
                    off += g.header_len();
                    step = match g.next() {
                        Next::Ethernet => Step::Ethernet,
                        Next::Ppp => Step::Ppp,
                        Next::EtherType(EtherType::ERSPAN_II) => Step::Erspan { type_iii: false },
                        Next::EtherType(EtherType::ERSPAN_III) => Step::Erspan { type_iii: true },
                        Next::EtherType(EtherType::WCCP) => {
                            // A 4-byte redirect header, then the redirected IP packet.
                            off += 4;
                            Step::IpByVersion
                        }
                        Next::EtherType(t) => Step::EtherType(t),
                        _ => return WalkEnd::Done,
                    };
                }
                Err(t) => {
                    truncated(out, "gre", off, t, cut);
                    return WalkEnd::Done;
                }
            },
            Step::Erspan { type_iii } => match Erspan::new_checked(rest, type_iii) {
                Ok(e) => {
                    push(out, LayerName::Erspan, off, e.header_len());
                    off += e.header_len();
                    step = Step::Ethernet;
                }
                Err(t) => {
                    truncated(out, "erspan", off, t, cut);
                    return WalkEnd::Done;
                }
            },
            Step::Ieee80211 => match Ieee80211::new_checked(rest) {
                Ok(w) => {
                    push(out, LayerName::Wlan, off, w.header_len());
                    off += w.header_len();
                    match w.next() {
                        Next::Llc => step = Step::Llc,
                        _ => return WalkEnd::Done,
                    }
                }
                Err(t) => {
                    truncated(out, "wlan", off, t, cut);
                    return WalkEnd::Done;
                }
            },
            Step::Llc => match Llc::new_checked(rest) {
                Ok(l) => {
                    push(out, LayerName::Llc, off, l.header_len());
                    off += l.header_len();
                    match l.next() {
                        Next::EtherType(t) => step = Step::EtherType(t),
                        _ => return WalkEnd::Done,
                    }
                }
                Err(t) => {
                    truncated(out, "llc", off, t, cut);
                    return WalkEnd::Done;
                }
            },
            Step::EtherType(EtherType::LOOPBACK) => {
                // Ethernet configuration testing protocol: no header this walk reads further.
                push(out, LayerName::Loop, off, rest.len());
                return WalkEnd::Done;
            }
            Step::EtherType(t) => {
                if t.0 >= 0x0600 {
                    out.link.ether_type = Some(t.0);
                }
                return WalkEnd::Net(EpEtherType(t.0), off);
            }
        }
    }
    stats.nesting_cut += 1;
    out.issue = Some(DecodeIssue {
        layer: "link",
        offset: u32::try_from(off).unwrap_or(u32::MAX),
        kind: IssueKind::Malformed(format!(
            "more than {MAX_HEADERS} nested headers: not decoded further"
        )),
    });
    WalkEnd::Done
}

fn nesting_cut(
    out: &mut DecodedPacket<'_>,
    stats: &mut WalkStats,
    off: usize,
    _t: EpEtherType,
) -> WalkEnd {
    stats.nesting_cut += 1;
    out.issue = Some(DecodeIssue {
        layer: "tunnel",
        offset: u32::try_from(off).unwrap_or(u32::MAX),
        kind: IssueKind::Malformed(format!(
            "more than {MAX_TUNNELS} nested tunnels: not decoded further"
        )),
    });
    WalkEnd::Done
}

/// A reassembled UDP datagram (`buf`, the UDP header at 0) whose port and header say it is
/// a tunnel: its outer flow is recorded, the tunnel's layers pushed (offsets in `buf`, as
/// every layer of a reassembled datagram) and the walk goes on inside it. Returns where the
/// innermost network layer starts in `buf`.
pub(super) fn into_reassembled_udp(
    buf: &[u8],
    out: &mut DecodedPacket<'_>,
    stats: &mut WalkStats,
) -> Option<(EpEtherType, usize)> {
    let udp = Udp::new_checked(buf).ok()?;
    let kind = udp.tunnel_or_teredo()?;
    let (name, len, step) = udp_tunnel(udp.payload(), kind)?;
    let net = out.net.as_ref()?;
    let flow = OuterFlow {
        src: net.src,
        dst: net.dst,
        src_port: udp.src_port(),
        dst_port: udp.dst_port(),
        length: udp.length(),
        ip_len: net.total_len,
        tunnel: kind,
    };
    let _ = out.outer_flows.try_push(flow);
    let mut off = crate::wire::udp::HEADER_LEN;
    if name != LayerName::Udp {
        push(out, name, off, len);
        off += len;
    }
    match walk(buf, false, step, off, true, out, stats) {
        WalkEnd::Net(et, off) => Some((et, off)),
        WalkEnd::Done => None,
    }
}

/// Names what a transport's payload is when it is a tunnel or security header with nothing
/// decodable inside (a GTP-U echo, an AYIYA heartbeat, ESP in UDP), and ESP / SCTP carried
/// directly by IP. Called after the innermost IP and transport were decoded.
pub(super) fn label_transport_payload(data: &[u8], out: &mut DecodedPacket<'_>) {
    if out.reassembled {
        return;
    }
    let off = out.payload_offset as usize;
    if let Some(u) = out.udp() {
        let Some(tunnel) = crate::wire::udp::tunnel_of_port(u.dst_port)
            .or_else(|| crate::wire::udp::tunnel_of_port(u.src_port))
        else {
            return;
        };
        let p = out.payload;
        let named = match tunnel {
            UdpTunnel::GtpU => GtpU::new_checked(p)
                .ok()
                .filter(|g| g.version() == 1)
                .map(|g| (LayerName::Gtp, g.header_len())),
            UdpTunnel::Ayiya => Ayiya::new_checked(p)
                .ok()
                .map(|a| (LayerName::Ayiya, a.header_len())),
            UdpTunnel::Vxlan => Vxlan::new_checked(p)
                .ok()
                .filter(|v| v.is_well_formed())
                .map(|_| (LayerName::Vxlan, crate::wire::vxlan::HEADER_LEN)),
            UdpTunnel::Geneve => Geneve::new_checked(p)
                .ok()
                .map(|g| (LayerName::Geneve, g.header_len())),
            // A 4-byte zero marker is IKE; a one-byte 0xff is a NAT keepalive.
            UdpTunnel::EspInUdp => crate::wire::esp::Esp::new_checked(p)
                .ok()
                .filter(|e| e.spi() != 0)
                .map(|_| (LayerName::Esp, crate::wire::esp::HEADER_LEN)),
            _ => None,
        };
        if let Some((name, len)) = named {
            push(out, name, off, len);
        }
        return;
    }
    if out.transport.is_some() {
        return;
    }
    let Some(net) = &out.net else {
        return;
    };
    if net.fragment.is_some_and(|f| f.offset != 0) {
        return;
    }
    // Only after an IP header that is the last layer (a tunnel walked past it already
    // pushed what follows).
    let Some(ip) = out
        .layers
        .last()
        .filter(|l| matches!(l.name, LayerName::Ipv4 | LayerName::Ipv6))
        .copied()
    else {
        return;
    };
    let at = ip.offset as usize + ip.len as usize;
    let rest = data.get(at..).unwrap_or(&[]);
    match IpNumber(net.protocol) {
        IpNumber::ESP if rest.len() >= crate::wire::esp::HEADER_LEN => {
            push(out, LayerName::Esp, at, crate::wire::esp::HEADER_LEN)
        }
        IpNumber::SCTP if rest.len() >= crate::wire::sctp::HEADER_LEN => {
            push(out, LayerName::Sctp, at, crate::wire::sctp::HEADER_LEN)
        }
        IpNumber::GRE => {
            if let Ok(g) = Gre::new_checked(rest) {
                push(out, LayerName::Gre, at, g.header_len());
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::Decoder;
    use super::*;
    use crate::capture::{RawFrame, Timestamp};

    fn frame(link: u32, data: &[u8]) -> RawFrame<'_> {
        RawFrame {
            number: 1,
            ts: Timestamp {
                secs: 0,
                nanos: 0,
                precision: 6,
            },
            link: LinkType(link),
            interface: 0,
            file: 0,
            orig_len: data.len() as u32,
            data,
        }
    }

    fn names(p: &DecodedPacket<'_>) -> Vec<&'static str> {
        p.layers.iter().map(|l| l.name.as_str()).collect()
    }

    fn eth(ether_type: u16) -> Vec<u8> {
        let mut v = vec![0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0, 1, 2, 3, 4, 5];
        v.extend_from_slice(&ether_type.to_be_bytes());
        v
    }

    /// IPv4 header, 10.0.0.1 → 10.0.0.2, the total length covering `payload_len`.
    fn ipv4(proto: u8, payload_len: usize, last: u8) -> Vec<u8> {
        let total = (20 + payload_len) as u16;
        let mut v = vec![
            0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0,
        ];
        v.push(last);
        v[2..4].copy_from_slice(&total.to_be_bytes());
        v
    }

    fn udp(src: u16, dst: u16, payload_len: usize) -> Vec<u8> {
        let mut v = src.to_be_bytes().to_vec();
        v.extend_from_slice(&dst.to_be_bytes());
        v.extend_from_slice(&((8 + payload_len) as u16).to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v
    }

    /// TCP SYN, 1234 → 80, data offset 5.
    fn tcp_syn() -> Vec<u8> {
        vec![
            0x04, 0xd2, 0, 80, 0, 0, 0, 7, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ]
    }

    fn inner_eth_ipv4_tcp() -> Vec<u8> {
        let mut v = eth(0x0800);
        v.extend(ipv4(6, 20, 9));
        v.extend(tcp_syn());
        v
    }

    #[test]
    fn vxlan_to_the_inner_tcp_with_the_outer_flow() {
        let inner = inner_eth_ipv4_tcp();
        let mut p = eth(0x0800);
        p.extend(ipv4(17, 8 + 8 + inner.len(), 2));
        p.extend(udp(40000, 4789, 8 + inner.len()));
        p.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 42, 0]);
        p.extend(&inner);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            names(&pkt),
            ["eth", "ipv4", "udp", "vxlan", "eth", "ipv4", "tcp"]
        );
        assert_eq!(pkt.layers[3].offset, 42);
        assert_eq!(pkt.layers[4].offset, 50);
        let net = pkt.net.as_ref().unwrap();
        assert_eq!(net.dst.to_string(), "10.0.0.9");
        assert_eq!(pkt.tcp().unwrap().seq, 7);
        assert_eq!(pkt.outer_flows.len(), 1);
        assert_eq!(pkt.outer_flows[0].dst_port, 4789);
        assert_eq!(pkt.outer_flows[0].dst.to_string(), "10.0.0.2");
        // the outermost Ethernet's addresses are the link's
        assert_eq!(pkt.link.src_mac, Some([0, 1, 2, 3, 4, 5]));
        assert!(pkt.issue.is_none());
    }

    #[test]
    fn dns_from_port_4789_is_not_vxlan() {
        // A DNS query whose id (0x0800) sets VXLAN's I bit, from port 4789. tshark 4.0 takes
        // the lower port first (53: DNS) but to port 50000 shows `vxlan:eth:llc:data`
        // (packet-vxlan checks no flag); the careful reading keeps it UDP both ways.
        let mut dns = vec![0x08, 0x00, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        dns.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01");
        let mut d = Decoder::new();
        for dst in [53, 50000] {
            let mut p = eth(0x0800);
            p.extend(ipv4(17, 8 + dns.len(), 2));
            p.extend(udp(4789, dst, dns.len()));
            p.extend(&dns);
            let pkt = d.decode(&frame(1, &p));
            assert_eq!(names(&pkt), ["eth", "ipv4", "udp"], "to port {dst}");
            assert_eq!(pkt.payload, &dns[..]);
            assert!(pkt.outer_flows.is_empty());
        }
    }

    #[test]
    fn pppoe_session_ppp_ipv4_tcp() {
        let mut p = eth(0x8864);
        p.extend_from_slice(&[0x11, 0, 0x00, 0x11, 0, 42, 0x00, 0x21]);
        p.extend(ipv4(6, 20, 9));
        p.extend(tcp_syn());
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(names(&pkt), ["eth", "pppoes", "ppp", "ipv4", "tcp"]);
        assert_eq!(pkt.layers[2].offset, 20);
        assert_eq!(pkt.tcp().unwrap().dst_port, 80);
    }

    #[test]
    fn gre_erspan_ii_and_ip_in_ip() {
        let inner = inner_eth_ipv4_tcp();
        let mut p = eth(0x0800);
        p.extend(ipv4(47, 8 + 8 + inner.len(), 2));
        p.extend_from_slice(&[0x10, 0, 0x88, 0xbe, 0, 0, 0, 1]); // GRE with sequence
        p.extend_from_slice(&[0x10, 0x05, 0x00, 0x64, 0, 0, 0, 0]); // ERSPAN II
        p.extend(&inner);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            names(&pkt),
            ["eth", "ipv4", "gre", "erspan", "eth", "ipv4", "tcp"]
        );
        // 6in4
        let mut p = eth(0x0800);
        let mut v6 = vec![0x60, 0, 0, 0, 0, 20, 6, 64];
        v6.resize(40, 1);
        p.extend(ipv4(41, 60, 2));
        p.extend(v6);
        p.extend(tcp_syn());
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(names(&pkt), ["eth", "ipv4", "ipv6", "tcp"]);
        assert!(pkt.outer_flows.is_empty());
    }

    #[test]
    fn gre_with_rfc1701_source_routes_reaches_the_inner_tcp() {
        // tshark walks the same header to `eth:ethertype:ip:gre:ip:tcp`: routing present,
        // checksum/offset word, one IPv4 source route entry (8 bytes), the null entry.
        let mut gre = vec![0x40, 0x00, 0x08, 0x00, 0, 0, 0, 0];
        gre.extend_from_slice(&[0x08, 0x00, 0, 8, 10, 0, 0, 1, 10, 0, 0, 2, 0, 0, 0, 0]);
        let mut inner = ipv4(6, 20, 9);
        inner.extend(tcp_syn());
        let mut p = eth(0x0800);
        p.extend(ipv4(47, gre.len() + inner.len(), 2));
        p.extend(&gre);
        p.extend(&inner);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(names(&pkt), ["eth", "ipv4", "gre", "ipv4", "tcp"]);
        assert_eq!((pkt.layers[2].offset, pkt.layers[2].len), (34, 24));
        assert_eq!(pkt.tcp().unwrap().seq, 7);
        assert!(pkt.issue.is_none());
    }

    #[test]
    fn gtp_u_with_extension_and_echo() {
        let mut gtp = vec![0x34, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0x10, 5, 0];
        let mut inner = ipv4(6, 20, 9);
        inner.extend(tcp_syn());
        gtp.extend(&inner);
        let mut p = eth(0x0800);
        p.extend(ipv4(17, 8 + gtp.len(), 2));
        p.extend(udp(2152, 2152, gtp.len()));
        p.extend(&gtp);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(names(&pkt), ["eth", "ipv4", "udp", "gtp", "ipv4", "tcp"]);
        assert_eq!(pkt.layers[3].len, 16);
        // an echo request: the UDP flow is the innermost, GTP is named after it
        let echo = [0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0];
        let mut p = eth(0x0800);
        p.extend(ipv4(17, 8 + echo.len(), 2));
        p.extend(udp(2152, 2152, echo.len()));
        p.extend(echo);
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(names(&pkt), ["eth", "ipv4", "udp", "gtp"]);
        assert_eq!(pkt.udp().unwrap().dst_port, 2152);
    }

    #[test]
    fn radiotap_wlan_llc_arp_and_beacon() {
        let mut p = vec![0, 0, 8, 0, 0, 0, 0, 0];
        let mut wlan = vec![0x08, 0x02];
        wlan.resize(24, 0xee);
        p.extend(wlan);
        p.extend_from_slice(&[0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0x06]);
        p.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        p.extend_from_slice(&[0; 20]);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(127, &p));
        assert_eq!(names(&pkt), ["radiotap", "wlan", "llc", "arp"]);
        let mut beacon = vec![0, 0, 8, 0, 0, 0, 0, 0, 0x80, 0];
        beacon.resize(40, 0);
        let pkt = d.decode(&frame(127, &beacon));
        assert_eq!(names(&pkt), ["radiotap", "wlan"]);
    }

    #[test]
    fn radiotap_fcs_is_not_payload() {
        // radiotap with the flags field (present bit 1) saying "FCS at end", 802.11 data,
        // LLC/SNAP, IPv4 and UDP whose lengths are 0 (offloaded: the frame bounds them),
        // 4 payload bytes, then the 4-byte FCS.
        let build = |flags: u8| {
            let mut p = vec![0, 0, 12, 0, 0x02, 0, 0, 0, flags, 0, 0, 0];
            let mut wlan = vec![0x08, 0x02];
            wlan.resize(24, 0xee);
            p.extend(wlan);
            p.extend_from_slice(&[0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0x00]);
            let mut ip = ipv4(17, 0, 9);
            ip[2..4].copy_from_slice(&[0, 0]);
            p.extend(ip);
            p.extend_from_slice(&[0x13, 0x88, 0x13, 0x89, 0, 0, 0, 0]);
            p.extend_from_slice(b"data");
            p.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
            p
        };
        let mut d = Decoder::new();
        let with_fcs = build(0x10);
        let pkt = d.decode(&frame(127, &with_fcs));
        assert_eq!(names(&pkt), ["radiotap", "wlan", "llc", "ipv4", "udp"]);
        assert_eq!(pkt.payload, b"data");
        // Without the flag the last four bytes are the frame's own.
        let no_fcs = build(0);
        let pkt = d.decode(&frame(127, &no_fcs));
        assert_eq!(pkt.payload, b"data\xde\xad\xbe\xef");
        // PPI (link type 192) carrying 802.11 with an 802.11-common field whose flags say
        // "FCS present": the same frame behind a 32-byte PPI header instead of radiotap.
        let mut ppi = vec![0, 0, 32, 0, 105, 0, 0, 0, 2, 0, 20, 0];
        let mut common = [0u8; 20];
        common[8] = 0x01;
        ppi.extend_from_slice(&common);
        ppi.extend_from_slice(&with_fcs[12..]);
        let pkt = d.decode(&frame(192, &ppi));
        assert_eq!(names(&pkt), ["ppi", "wlan", "llc", "ipv4", "udp"]);
        assert_eq!(pkt.payload, b"data");
    }

    #[test]
    fn nflog_ppp_and_cisco_hdlc() {
        let mut ip = ipv4(17, 8, 9);
        ip.extend(udp(1000, 53, 0));
        let mut p = vec![2, 0, 0, 1];
        p.extend_from_slice(&((4 + ip.len()) as u16).to_le_bytes());
        p.extend_from_slice(&[9, 0]);
        p.extend(&ip);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(239, &p));
        assert_eq!(names(&pkt), ["nflog", "ipv4", "udp"]);
        let mut p = vec![0xff, 0x03, 0x00, 0x21];
        p.extend(&ip);
        let pkt = d.decode(&frame(9, &p));
        assert_eq!(names(&pkt), ["ppp", "ipv4", "udp"]);
        let mut p = vec![0x0f, 0x00, 0x08, 0x00];
        p.extend(&ip);
        let pkt = d.decode(&frame(104, &p));
        assert_eq!(names(&pkt), ["chdlc", "ipv4", "udp"]);
        let pkt = d.decode(&frame(104, &[0x8f, 0, 0x80, 0x35, 0, 0, 0, 1]));
        assert_eq!(names(&pkt), ["chdlc"]);
    }

    #[test]
    fn gre_400_deep_is_cut_at_the_tunnel_limit() {
        // Built from the inside out, each IPv4 total length covering what it carries.
        let mut inner = ipv4(6, 20, 9);
        inner.extend(tcp_syn());
        for _ in 0..400 {
            let mut outer = ipv4(47, 4 + inner.len(), 2);
            outer.extend_from_slice(&[0, 0, 0x08, 0x00]);
            outer.extend(&inner);
            inner = outer;
        }
        let mut p = eth(0x0800);
        p.extend(inner);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(pkt.layers.len(), crate::decode::MAX_LAYERS);
        assert_eq!(pkt.issue.as_ref().unwrap().layer, "tunnel");
        assert!(pkt.transport.is_none());
        assert_eq!(d.stats().nesting_cut, 1);
    }

    #[test]
    fn three_thousand_vlan_tags_and_a_bottomless_mpls_stack_are_cut() {
        let mut p = eth(0x8100);
        for _ in 0..3000 {
            p.extend_from_slice(&[0, 1, 0x81, 0x00]);
        }
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(pkt.layers.len(), crate::decode::MAX_LAYERS);
        assert_eq!(pkt.link.vlans.len(), 3);
        assert_eq!(pkt.issue.as_ref().unwrap().layer, "link");
        let mut p = eth(0x8847);
        p.extend(std::iter::repeat_n([0u8, 1, 0, 64], 100).flatten());
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(names(&pkt), ["eth", "mpls"]);
        assert_eq!(pkt.layers[1].len as usize, 4 * MAX_MPLS_LABELS);
        assert_eq!(d.stats().nesting_cut, 2);
    }

    #[test]
    fn lying_lengths_stop_at_the_tunnel_header() {
        // Geneve announcing 252 bytes of options in a 16-byte payload: not a tunnel, the
        // UDP flow is what there is.
        let gen = [0x3f, 0, 0x65, 0x58, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut p = eth(0x0800);
        p.extend(ipv4(17, 8 + gen.len(), 2));
        p.extend(udp(5000, 6081, gen.len()));
        p.extend(gen);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(names(&pkt), ["eth", "ipv4", "udp"]);
        assert_eq!(pkt.udp().unwrap().dst_port, 6081);
        // PPPoE claiming 60000 payload bytes over a short PPP frame
        let mut p = eth(0x8864);
        p.extend_from_slice(&[0x11, 0, 0, 1, 0xea, 0x60, 0x00, 0x57]);
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(names(&pkt), ["eth", "pppoes", "ppp"]);
        assert!(pkt.net.is_none());
    }
}
