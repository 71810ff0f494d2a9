//! What a packet travelled in: the tunnels and encapsulations around its innermost IP
//! header, outermost first, each with what identifies it (VLAN ids, MPLS labels, PPPoE
//! session, GRE key, VXLAN/Geneve VNI, GTP-U TEID) and, for a tunnel over IP, the outer
//! addresses. Read from a decoded packet's layers through the wire views, once per
//! connection (never on the per-packet path): the views say where the connection travels
//! ("inside VXLAN vni 42 · 10.0.0.1 → 10.0.0.2").

use arrayvec::ArrayVec;
use std::fmt;
use std::net::IpAddr;

use super::{DecodedPacket, LayerName, MAX_MPLS_LABELS};
use crate::wire::{
    erspan::Erspan, geneve::Geneve, gre::Gre, gtpu::GtpU, ipv4::Ipv4, ipv6::Ipv6, mpls::MplsEntry,
    pppoe::Pppoe, vlan::VlanTag, vxlan::Vxlan,
};

/// Most encapsulations kept for one packet (more are counted in [`Encapsulation::cut`]).
pub const MAX_ENCAPSULATIONS: usize = 8;
/// Most VLAN ids kept for one run of tags (QinQ and deeper; more are counted).
pub const MAX_VLAN_IDS: usize = 4;

/// The encapsulations a packet travelled in, outermost first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Encapsulation {
    pub hops: ArrayVec<Encap, MAX_ENCAPSULATIONS>,
    /// Encapsulations, VLAN ids or MPLS labels past the caps that were not kept.
    pub cut: u32,
}

/// One encapsulation, with the outer IP addresses of a tunnel over IP (as the packet that
/// was read had them: source, destination).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encap {
    pub kind: EncapKind,
    pub outer: Option<(IpAddr, IpAddr)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncapKind {
    /// 802.1Q / 802.1ad tags, outermost first.
    Vlan(ArrayVec<u16, MAX_VLAN_IDS>),
    /// An MPLS label stack, top first.
    Mpls(ArrayVec<u32, MAX_MPLS_LABELS>),
    PppoeSession(u16),
    /// An IP header directly inside another (IPIP, SIT / 6in4, 4in6, 6in6).
    IpInIp {
        outer_v6: bool,
        inner_v6: bool,
    },
    /// GRE with its key (version 0) or PPTP's enhanced GRE (version 1: call id).
    Gre {
        version: u8,
        key: Option<u32>,
    },
    /// ERSPAN type II (version 1) or III (version 2) with its mirror session.
    Erspan {
        version: u8,
        session: u16,
    },
    Vxlan {
        vni: u32,
    },
    Geneve {
        vni: u32,
    },
    GtpU {
        teid: u32,
    },
    Teredo,
    Ayiya,
}

impl EncapKind {
    /// What this kind of encapsulation is for, in one line (`--teach`).
    pub fn purpose(&self) -> &'static str {
        match self {
            EncapKind::Vlan(_) => {
                "802.1Q VLAN tags split one Ethernet into separate virtual LANs (QinQ: a provider's tag around the customer's)"
            }
            EncapKind::Mpls(_) => {
                "MPLS labels let a provider's routers forward by a short label instead of the IP address (VPNs, traffic engineering)"
            }
            EncapKind::PppoeSession(_) => {
                "PPPoE carries a PPP session over Ethernet: how DSL and fibre ISPs authenticate a subscriber and hand out an address"
            }
            EncapKind::IpInIp { .. } => {
                "IP in IP wraps a whole IP packet in another to send it across a network between two tunnel endpoints (SIT: IPv6 over IPv4)"
            }
            EncapKind::Gre { version: 1, .. } => {
                "enhanced GRE carries the PPP frames of a PPTP VPN"
            }
            EncapKind::Gre { .. } => {
                "GRE wraps a packet (IP, Ethernet, MPLS …) in a small header to tunnel it between two routers; the key tells tunnels apart"
            }
            EncapKind::Erspan { .. } => {
                "ERSPAN sends a copy of a switch port's frames over GRE to a remote analyser (port mirroring across a network)"
            }
            EncapKind::Vxlan { .. } => {
                "VXLAN stretches a virtual Ethernet segment (its VNI) across a data centre's IP network, in UDP"
            }
            EncapKind::Geneve { .. } => {
                "Geneve, like VXLAN, carries virtual network frames over UDP, with options for the platform (cloud and SDN overlays)"
            }
            EncapKind::GtpU { .. } => {
                "GTP-U carries a mobile subscriber's IP packets between base station and core network; the TEID names the subscriber's tunnel"
            }
            EncapKind::Teredo => {
                "Teredo gives an IPv4-only host behind NAT IPv6 connectivity by sending IPv6 inside UDP"
            }
            EncapKind::Ayiya => {
                "AYIYA (anything in anything) tunnels IPv6 over UDP through NAT to a tunnel broker"
            }
        }
    }
}

impl fmt::Display for EncapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncapKind::Vlan(ids) => {
                f.write_str("VLAN ")?;
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" › ")?;
                    }
                    write!(f, "{id}")?;
                }
                Ok(())
            }
            EncapKind::Mpls(labels) => {
                f.write_str(if labels.len() == 1 {
                    "MPLS label "
                } else {
                    "MPLS labels "
                })?;
                for (i, l) in labels.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" → ")?;
                    }
                    write!(f, "{l}")?;
                }
                Ok(())
            }
            EncapKind::PppoeSession(id) => write!(f, "PPPoE session {id:#06x}"),
            EncapKind::IpInIp { outer_v6, inner_v6 } => {
                let v = |six: bool| if six { "IPv6" } else { "IPv4" };
                write!(f, "{} in {}", v(*inner_v6), v(*outer_v6))
            }
            EncapKind::Gre {
                version: 1,
                key: Some(k),
            } => write!(f, "PPTP GRE call {}", k & 0xFFFF),
            EncapKind::Gre { version: 1, .. } => f.write_str("PPTP GRE"),
            EncapKind::Gre { key: Some(k), .. } => write!(f, "GRE key {k}"),
            EncapKind::Gre { .. } => f.write_str("GRE"),
            EncapKind::Erspan { version, session } => write!(
                f,
                "ERSPAN {} session {session}",
                if *version == 2 { "III" } else { "II" }
            ),
            EncapKind::Vxlan { vni } => write!(f, "VXLAN vni {vni}"),
            EncapKind::Geneve { vni } => write!(f, "Geneve vni {vni}"),
            EncapKind::GtpU { teid } => write!(f, "GTP-U TEID {teid:#010x}"),
            EncapKind::Teredo => f.write_str("Teredo"),
            EncapKind::Ayiya => f.write_str("AYIYA"),
        }
    }
}

impl fmt::Display for Encap {
    /// `VXLAN vni 42 · 10.0.0.1 → 10.0.0.2`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some((src, dst)) = self.outer {
            write!(f, " · {src} → {dst}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Encapsulation {
    /// The hops joined by ` › `, outermost first, and what the caps cut.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, hop) in self.hops.iter().enumerate() {
            if i > 0 {
                f.write_str(" › ")?;
            }
            write!(f, "{hop}")?;
        }
        if self.cut > 0 {
            write!(f, " (+{} not kept)", self.cut)?;
        }
        Ok(())
    }
}

impl Encapsulation {
    /// The encapsulations of `packet` (decoded from `data`); `None` when it travelled in
    /// none. A reassembled datagram's layers lie in the decoder's reassembly buffer, not in
    /// `data`: only what the walk found before it is read then (nothing, today).
    pub fn of(data: &[u8], packet: &DecodedPacket<'_>) -> Option<Encapsulation> {
        if packet.reassembled {
            return None;
        }
        let mut e = Encapsulation::default();
        // The addresses of the last IP header, until a tunnel header takes them as its outer.
        let mut outer: Option<(IpAddr, IpAddr)> = None;
        let mut prev: Option<LayerName> = None;
        for layer in &packet.layers {
            let b = data.get(layer.offset as usize..).unwrap_or(&[]);
            let kind = match layer.name {
                LayerName::Vlan => {
                    let Ok(tag) = VlanTag::new_checked(b) else {
                        continue;
                    };
                    if let (
                        Some(LayerName::Vlan),
                        Some(Encap {
                            kind: EncapKind::Vlan(ids),
                            ..
                        }),
                    ) = (prev, e.hops.last_mut())
                    {
                        if ids.try_push(tag.vlan_id()).is_err() {
                            e.cut += 1;
                        }
                        continue;
                    }
                    let mut ids = ArrayVec::new();
                    ids.push(tag.vlan_id());
                    Some((EncapKind::Vlan(ids), false))
                }
                LayerName::Mpls => {
                    let stack = b.get(..layer.len as usize).unwrap_or(b);
                    let mut labels = ArrayVec::new();
                    for entry in stack.chunks_exact(crate::wire::mpls::ENTRY_LEN) {
                        if let Ok(m) = MplsEntry::new_checked(entry) {
                            if labels.try_push(m.label()).is_err() {
                                e.cut += 1;
                            }
                        }
                    }
                    Some((EncapKind::Mpls(labels), true))
                }
                LayerName::Pppoes => Pppoe::new_checked(b)
                    .ok()
                    .map(|p| (EncapKind::PppoeSession(p.session_id()), false)),
                LayerName::Ipv4 | LayerName::Ipv6 => {
                    let here = ip_addresses(layer.name, b);
                    if matches!(prev, Some(LayerName::Ipv4 | LayerName::Ipv6)) {
                        let kind = EncapKind::IpInIp {
                            outer_v6: prev == Some(LayerName::Ipv6),
                            inner_v6: layer.name == LayerName::Ipv6,
                        };
                        e.push(kind, outer.take());
                    }
                    outer = here;
                    prev = Some(layer.name);
                    continue;
                }
                LayerName::Gre => Gre::new_checked(b).ok().map(|g| {
                    let key = g.key();
                    (
                        EncapKind::Gre {
                            version: g.version(),
                            key,
                        },
                        true,
                    )
                }),
                LayerName::Erspan => {
                    // The type is told by the version nibble (1: II, 2: III).
                    let type_iii = b.first().is_some_and(|v| v >> 4 == 2);
                    Erspan::new_checked(b, type_iii).ok().map(|h| {
                        let kind = EncapKind::Erspan {
                            version: h.version(),
                            session: h.session_id(),
                        };
                        (kind, true)
                    })
                }
                LayerName::Vxlan => Vxlan::new_checked(b)
                    .ok()
                    .map(|v| (EncapKind::Vxlan { vni: v.vni() }, true)),
                LayerName::Geneve => Geneve::new_checked(b)
                    .ok()
                    .map(|g| (EncapKind::Geneve { vni: g.vni() }, true)),
                LayerName::Gtp => GtpU::new_checked(b)
                    .ok()
                    .map(|g| (EncapKind::GtpU { teid: g.teid() }, true)),
                LayerName::Teredo => Some((EncapKind::Teredo, true)),
                LayerName::Ayiya => Some((EncapKind::Ayiya, true)),
                _ => None,
            };
            prev = Some(layer.name);
            if let Some((kind, over_ip)) = kind {
                let addrs = if over_ip { outer.take() } else { None };
                e.push(kind, addrs);
            }
        }
        // A GTP-U, Teredo … header after the innermost IP and UDP is the packet's own
        // payload (an echo, a bubble), not something it travels in.
        let innermost_ip = packet
            .layers
            .iter()
            .rposition(|l| matches!(l.name, LayerName::Ipv4 | LayerName::Ipv6));
        if let Some(at) = innermost_ip {
            let inner_tunnels = packet.layers[at..]
                .iter()
                .filter(|l| is_tunnel_header(l.name))
                .count();
            for _ in 0..inner_tunnels {
                if e.hops.last().is_some_and(|h| h.kind.is_tunnel_header()) {
                    e.hops.pop();
                }
            }
        }
        // (Not `then_some`: that would move the large value even to return `None`, the
        // plain packet's answer.)
        if e.hops.is_empty() {
            return None;
        }
        Some(e)
    }

    fn push(&mut self, kind: EncapKind, outer: Option<(IpAddr, IpAddr)>) {
        if self.hops.try_push(Encap { kind, outer }).is_err() {
            self.cut += 1;
        }
    }
}

impl EncapKind {
    fn is_tunnel_header(&self) -> bool {
        matches!(
            self,
            EncapKind::Vxlan { .. }
                | EncapKind::Geneve { .. }
                | EncapKind::GtpU { .. }
                | EncapKind::Teredo
                | EncapKind::Ayiya
        )
    }
}

fn is_tunnel_header(name: LayerName) -> bool {
    matches!(
        name,
        LayerName::Vxlan
            | LayerName::Geneve
            | LayerName::Gtp
            | LayerName::Teredo
            | LayerName::Ayiya
    )
}

fn ip_addresses(name: LayerName, b: &[u8]) -> Option<(IpAddr, IpAddr)> {
    if name == LayerName::Ipv4 {
        let h = Ipv4::new_checked(b).ok()?;
        Some((h.source().into(), h.destination().into()))
    } else {
        let h = Ipv6::new_checked(b).ok()?;
        Some((h.source().into(), h.destination().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{LinkType, RawFrame, Timestamp};
    use crate::decode::Decoder;

    fn encapsulation(frame: &[u8]) -> Option<Encapsulation> {
        let mut d = Decoder::new();
        let raw = RawFrame {
            number: 1,
            ts: Timestamp::default(),
            link: LinkType::ETHERNET,
            interface: 0,
            file: 0,
            orig_len: frame.len() as u32,
            data: frame,
        };
        let p = d.decode(&raw);
        Encapsulation::of(frame, &p)
    }

    /// IPv4 header (no options) from `src` to `dst` carrying `proto`, total length `total`.
    fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, total: u16) -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0];
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h.extend_from_slice(&src);
        h.extend_from_slice(&dst);
        h
    }

    fn tcp_syn() -> Vec<u8> {
        let mut t = vec![0u8; 20];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&80u16.to_be_bytes());
        t[12] = 0x50;
        t[13] = 0x02;
        t
    }

    fn eth(ether_type: u16) -> Vec<u8> {
        let mut e = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        e.extend_from_slice(&ether_type.to_be_bytes());
        e
    }

    #[test]
    fn plain_tcp_travels_in_nothing() {
        let mut f = eth(0x0800);
        f.extend(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 6, 40));
        f.extend(tcp_syn());
        assert_eq!(encapsulation(&f), None);
    }

    #[test]
    fn vxlan_names_its_vni_and_outer_addresses() {
        let inner = {
            let mut i = eth(0x0800);
            i.extend(ipv4([192, 168, 0, 1], [192, 168, 0, 2], 6, 40));
            i.extend(tcp_syn());
            i
        };
        let mut f = eth(0x0800);
        let udp_len = 8 + 8 + inner.len() as u16;
        f.extend(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, 20 + udp_len));
        f.extend_from_slice(&50000u16.to_be_bytes());
        f.extend_from_slice(&4789u16.to_be_bytes());
        f.extend_from_slice(&udp_len.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        // VXLAN: I flag, VNI 42 (0x00002a)
        f.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 0x2a, 0]);
        f.extend(inner);
        let e = encapsulation(&f).expect("tunnelled");
        assert_eq!(e.to_string(), "VXLAN vni 42 · 10.0.0.1 → 10.0.0.2");
    }

    #[test]
    fn qinq_pppoe_and_mpls_read_their_ids() {
        // 802.1ad 100 › 802.1Q 200 › PPPoE session 0x0011 › PPP IPv4
        let mut f = eth(0x88a8);
        f.extend_from_slice(&[0x00, 100, 0x81, 0x00]);
        f.extend_from_slice(&[0x00, 200, 0x88, 0x64]);
        f.extend_from_slice(&[0x11, 0x00, 0x00, 0x11, 0x00, 42]);
        f.extend_from_slice(&[0x00, 0x21]);
        f.extend(ipv4([100, 64, 0, 1], [1, 1, 1, 1], 6, 40));
        f.extend(tcp_syn());
        let e = encapsulation(&f).expect("encapsulated");
        assert_eq!(e.to_string(), "VLAN 100 › 200 › PPPoE session 0x0011");

        // MPLS 16 (not bottom), 18 (bottom, TTL 64), then IPv4
        let mut f = eth(0x8847);
        f.extend_from_slice(&[0x00, 0x01, 0x00, 0x40]);
        f.extend_from_slice(&[0x00, 0x01, 0x21, 0x40]);
        f.extend(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 6, 40));
        f.extend(tcp_syn());
        assert_eq!(
            encapsulation(&f).expect("labelled").to_string(),
            "MPLS labels 16 → 18"
        );
    }

    #[test]
    fn gre_key_and_ip_in_ip_name_their_outer_addresses() {
        // GRE with key 7 carrying IPv4
        let mut f = eth(0x0800);
        f.extend(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 47, 20 + 8 + 40));
        f.extend_from_slice(&[0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7]);
        f.extend(ipv4([192, 168, 1, 1], [192, 168, 2, 2], 6, 40));
        f.extend(tcp_syn());
        assert_eq!(
            encapsulation(&f).expect("GRE").to_string(),
            "GRE key 7 · 10.0.0.1 → 10.0.0.2"
        );

        // IPv4 in IPv4 (protocol 4)
        let mut f = eth(0x0800);
        f.extend(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 4, 20 + 40));
        f.extend(ipv4([192, 168, 1, 1], [192, 168, 2, 2], 6, 40));
        f.extend(tcp_syn());
        assert_eq!(
            encapsulation(&f).expect("IPIP").to_string(),
            "IPv4 in IPv4 · 10.0.0.1 → 10.0.0.2"
        );
    }

    #[test]
    fn a_gtp_echo_is_payload_not_a_tunnel() {
        // UDP to 2152 whose GTP-U message carries nothing: the packet's own payload.
        let mut f = eth(0x0800);
        f.extend(ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, 20 + 8 + 8));
        f.extend_from_slice(&2152u16.to_be_bytes());
        f.extend_from_slice(&2152u16.to_be_bytes());
        f.extend_from_slice(&16u16.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&[0x30, 0x01, 0x00, 0x00, 0, 0, 0, 9]);
        assert_eq!(encapsulation(&f), None);
    }
}
