//! The decoder: link-type dispatch, etherparse's lax slicing from the ether type down, Linux
//! SLL / SLL2 / BSD null headers read by hand, bounded IP fragment reassembly, and the
//! mapping of etherparse's stop errors into [`DecodeIssue`]s.
//!
//! Offsets: every [`Layer`] of a frame is in frame byte offsets, except the transport layer of
//! a packet that completed an IP reassembly (`reassembled == true`), whose offset is relative
//! to the start of the reassembled IP payload (the transport header is at offset 0 there).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::defrag::{IpFragId, IpFragVersionSpecId};
use etherparse::err::packet::SliceError;
use etherparse::err::{self, LenError};
use etherparse::{
    ip_number, EtherType, Ethernet2Slice, Icmpv4Slice, Icmpv6Slice, IpFragOffset, IpNumber,
    Ipv6ExtensionsSlice, Ipv6FragmentHeaderSlice, LaxIpPayloadSlice, LaxLinkExtSlice, LaxNetSlice,
    LaxSlicedPacket, LenSource, TcpSlice, TransportSlice, UdpSlice,
};

use super::defrag::{FragOutcome, FragTable};
use super::first_fragment;
use super::link::{self, LinkHeader};
use super::tcp_options::{parse_tcp_options, parse_tcp_options_into};
use super::walk::{self, Step, WalkEnd, WalkFrom, WalkStats};
use super::{
    ArpInfo, DecodeIssue, DecodedPacket, FragmentInfo, IcmpInfo, IssueKind, Layer, LayerName,
    NetInfo, TcpFlags, TcpInfo, TcpOptions, Transport, UdpInfo,
};
use crate::capture::{LinkType, RawFrame};
use crate::wire;

/// The first IPv6 fragment header among `exts`, walked with checked reads.
///
/// etherparse's own extension iterator reads past the end of the slice (unchecked) when a
/// lax parse stopped with an extension header still announced as the next header (e.g. a
/// second hop-by-hop header): found by the `pipeline` fuzz target under AddressSanitizer.
fn ipv6_fragment_header<'a>(exts: &Ipv6ExtensionsSlice<'a>) -> Option<Ipv6FragmentHeaderSlice<'a>> {
    let mut next = exts.first_header()?;
    let mut rest = exts.slice();
    // At most one of each extension header kind may appear, and a few repeat in practice.
    for _ in 0..16 {
        let len = match next {
            ip_number::IPV6_FRAG => {
                return Ipv6FragmentHeaderSlice::from_slice(rest.get(..8)?).ok();
            }
            ip_number::IPV6_HOP_BY_HOP
            | ip_number::IPV6_ROUTE
            | ip_number::IPV6_DEST_OPTIONS
            | ip_number::MOBILITY
            | ip_number::HIP
            | ip_number::SHIM6 => (usize::from(*rest.get(1)?) + 1) * 8,
            ip_number::AUTH => (usize::from(*rest.get(1)?) + 2) * 4,
            _ => return None,
        };
        next = IpNumber(*rest.first()?);
        rest = rest.get(len..)?;
    }
    None
}

/// Limits of the decoder's IP fragment reassembly pool.
#[derive(Clone, Debug)]
pub struct DecoderLimits {
    /// Most datagrams being reassembled at once.
    pub max_fragment_datagrams: usize,
    /// Most bytes buffered over all datagrams being reassembled.
    pub max_fragment_bytes: usize,
    /// A datagram whose fragments have not all arrived after this much capture time is
    /// dropped (ns).
    pub fragment_timeout_ns: u64,
}

impl Default for DecoderLimits {
    fn default() -> Self {
        DecoderLimits {
            max_fragment_datagrams: 1024,
            max_fragment_bytes: 16 << 20,
            fragment_timeout_ns: 30_000_000_000,
        }
    }
}

/// What the decoder counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecoderStats {
    pub decode_issues: u64,
    pub fragments: u64,
    pub reassembled: u64,
    /// Datagrams dropped unfinished (timeout or pool cap).
    pub fragments_evicted: u64,
    /// Datagrams still waiting for fragments (at the end of input: never completed).
    pub fragments_pending: u64,
    /// Datagrams given up (evicted, or still pending) after their first fragment arrived:
    /// that fragment's packet showed its transport header read alone
    /// ([`super::FirstFragment`]) and nothing more of the datagram was decoded.
    pub first_fragments_given_up: u64,
    /// Frames whose nesting (headers, tunnels, MPLS labels) went past the walk's limits and
    /// were not decoded further.
    pub nesting_cut: u64,
    /// Frames whose trailing FCS was taken off before decoding (the file header, radiotap or
    /// PPI said they end with one).
    pub fcs_stripped: u64,
}

/// Decodes frames into [`DecodedPacket`]s, reassembling IP fragments on the way.
pub struct Decoder {
    limits: DecoderLimits,
    stats: DecoderStats,
    frags: FragTable,
    walk_stats: WalkStats,
    /// The IP payload of the last reassembled datagram (reused).
    reassembled: Vec<u8>,
    /// Decode plain IPv4/IPv6 → TCP/UDP by hand (see [`fast_ip`]); off only in tests that
    /// compare it with the etherparse path.
    fast_path: bool,
    /// `fast_path` with no fragment pending: [`Decoder::decode_into`] may try
    /// `fast_eth_ipv4_tcp` first (one test per frame). Kept up to date by `decode_other`,
    /// the only code that adds or sweeps fragments.
    straight: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

/// Facts about the frame that the issue mapping needs.
#[derive(Clone, Copy)]
struct Frame<'a> {
    data: &'a [u8],
    /// The snaplen cut the frame (caplen < length on the wire).
    cut: bool,
    /// Length on the wire.
    wire_len: usize,
}

impl<'a> Frame<'a> {
    /// Offset of a sub-slice of `data` (0 for a slice outside it, which does not happen).
    fn offset_of(&self, s: &[u8]) -> usize {
        offset_in(self.data, s)
    }
}

fn offset_in(origin: &[u8], s: &[u8]) -> usize {
    let off = (s.as_ptr() as usize).wrapping_sub(origin.as_ptr() as usize);
    if off <= origin.len() {
        off
    } else {
        0
    }
}

/// The frame without its trailing FCS (as tshark, the FCS is not payload), and its length
/// (0: none): when the file's header says frames of this Ethernet or 802.11 link end with one
/// (pcap's FCS bits, pcapng's `if_fcslen`: [`LinkType::fcs_len`]), or an 802.11 frame's
/// radiotap flags or PPI 802.11-common flags say so. A frame the snaplen cut has no FCS
/// captured.
fn without_fcs(fr: Frame<'_>, link: LinkType) -> (Frame<'_>, usize) {
    use crate::wire::{ieee80211::FCS_LEN, ppi::Ppi, radiotap::Radiotap};
    if fr.cut {
        return (fr, 0);
    }
    let (header_len, fcs_len) = match link.base() {
        LinkType::ETHERNET | LinkType::IEEE802_11 if link.fcs_len() > 0 => (0, link.fcs_len()),
        LinkType::IEEE802_11_RADIOTAP => match Radiotap::new_checked(fr.data) {
            Ok(r) if r.has_fcs() => (r.header_len(), FCS_LEN),
            _ => return (fr, 0),
        },
        LinkType::PPI => match Ppi::new_checked(fr.data) {
            Ok(p) if p.link_type() == LinkType::IEEE802_11.0 && p.has_fcs() => {
                (p.header_len(), FCS_LEN)
            }
            _ => return (fr, 0),
        },
        _ => return (fr, 0),
    };
    if fr.data.len() < header_len + fcs_len {
        return (fr, 0);
    }
    let stripped = Frame {
        data: &fr.data[..fr.data.len() - fcs_len],
        cut: false,
        wire_len: fr.wire_len.saturating_sub(fcs_len),
    };
    (stripped, fcs_len)
}

/// The frame's capture time in nanoseconds (saturating), the clock of fragment reassembly.
fn capture_ns(frame: &RawFrame<'_>) -> i64 {
    frame
        .ts
        .secs
        .saturating_mul(1_000_000_000)
        .saturating_add(i64::from(frame.ts.nanos))
}

fn u32_of(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn push_layer(out: &mut DecodedPacket<'_>, name: LayerName, offset: usize, len: usize) {
    let _ = out.layers.try_push(Layer {
        name,
        offset: u32_of(offset),
        len: u32_of(len),
    });
}

/// A datagram completed by this frame, to be decoded from the reassembly buffer.
struct Completed {
    ip_number: IpNumber,
    /// "ipv4" or "ipv6", for issues.
    ip_name: &'static str,
}

impl Decoder {
    /// A decoder with the default limits.
    pub fn new() -> Decoder {
        Decoder::with_limits(DecoderLimits::default())
    }
    /// A decoder with the given fragment reassembly limits.
    pub fn with_limits(limits: DecoderLimits) -> Decoder {
        Decoder {
            limits,
            stats: DecoderStats::default(),
            frags: FragTable::new(),
            walk_stats: WalkStats::default(),
            reassembled: Vec::new(),
            fast_path: true,
            straight: true,
        }
    }
    /// The fragment reassembly limits.
    pub fn limits(&self) -> &DecoderLimits {
        &self.limits
    }
    /// Counters so far.
    pub fn stats(&self) -> DecoderStats {
        DecoderStats {
            fragments_evicted: self.frags.evicted,
            fragments_pending: self.frags.len() as u64,
            first_fragments_given_up: self.frags.evicted_after_first
                + self.frags.pending_after_first() as u64,
            nesting_cut: self.walk_stats.nesting_cut,
            ..self.stats
        }
    }

    /// Decodes one frame. The result borrows the frame and the decoder's reassembly buffer.
    pub fn decode<'a>(&'a mut self, frame: &RawFrame<'a>) -> DecodedPacket<'a> {
        let mut out = DecodedPacket::empty();
        self.decode_into(frame, &mut out);
        out
    }

    /// [`Decoder::decode`] into `out`, which must be [`DecodedPacket::empty`]: the packet
    /// is ~400 bytes, and a caller that keeps it in place saves moving it out of `decode`.
    #[inline]
    pub fn decode_into<'a>(&'a mut self, frame: &RawFrame<'a>, out: &mut DecodedPacket<'a>) {
        // Ethernet → IPv4 → TCP, nearly every frame of a web capture, in one straight line
        // (not when the file says frames end with an FCS: `frame.link` has its bits then).
        // With fragments pending the table is swept first (in `decode_other`); the fast path
        // takes no fragment, so the sweep's time does not change what it decodes.
        if self.straight
            && frame.link == LinkType::ETHERNET
            && fast_eth_ipv4_tcp(frame.data, frame.orig_len, out)
        {
            return;
        }
        self.decode_other(frame, out);
    }

    /// Turns the hand-written fast paths on or off (tests compare both ways).
    #[cfg(test)]
    fn set_fast_path(&mut self, on: bool) {
        self.fast_path = on;
        self.refresh_straight();
    }

    /// `straight` from what it stands for: fast paths on, no fragment pending (called
    /// wherever either changes).
    #[inline]
    fn refresh_straight(&mut self) {
        self.straight = self.fast_path && self.frags.len() == 0;
    }

    /// [`Decoder::decode_into`] for what `fast_eth_ipv4_tcp` does not take, and for every frame
    /// while fragments are pending.
    #[inline(never)]
    fn decode_other<'a>(&'a mut self, frame: &RawFrame<'a>, out: &mut DecodedPacket<'a>) {
        // Sweeping an empty table does nothing: skip the call (and the clock) then.
        if self.frags.len() != 0 {
            self.frags.sweep(capture_ns(frame), &self.limits);
            self.refresh_straight();
            if self.fast_path
                && frame.link == LinkType::ETHERNET
                && fast_eth_ipv4_tcp(frame.data, frame.orig_len, out)
            {
                return;
            }
        }
        let data: &'a [u8] = frame.data;
        let fr = Frame {
            data,
            cut: u64::try_from(data.len()).unwrap_or(u64::MAX) < u64::from(frame.orig_len),
            wire_len: usize::try_from(frame.orig_len).unwrap_or(usize::MAX),
        };
        let link_type = frame.link.base();
        let (fr, fcs_len) = without_fcs(fr, frame.link);
        if fcs_len > 0 {
            self.stats.fcs_stripped += 1;
            out.fcs_len = fcs_len as u8;
        }
        let data = fr.data;
        // Ethernet → IPv4/IPv6 → TCP/UDP, the bulk of every capture, without the general
        // link-layer dispatch: the same facts as `link_layer` then `fast_ip`.
        if self.fast_path && link_type == LinkType::ETHERNET {
            if let Some(eth) = data.get(..14) {
                let ether_type = EtherType(be16_at(eth, 12));
                if (ether_type == EtherType::IPV4 || ether_type == EtherType::IPV6)
                    && fast_ip(fr, ether_type, 14, true, out)
                {
                    return;
                }
            }
        }
        self.decode_general(fr, frame, link_type, out);
    }

    /// Everything but the Ethernet fast path of [`Decoder::decode_into`].
    #[inline(never)]
    fn decode_general<'a>(
        &'a mut self,
        fr: Frame<'a>,
        frame: &RawFrame<'a>,
        link_type: LinkType,
        out: &mut DecodedPacket<'a>,
    ) {
        let data = fr.data;
        let now_ns = capture_ns(frame);
        // The link header, then header after header down to the innermost network layer.
        let end = match walk::link_start(data, fr.cut, link_type, out) {
            Some(WalkFrom::At(step, off)) => {
                walk::walk(data, fr.cut, step, off, false, out, &mut self.walk_stats)
            }
            Some(WalkFrom::Done) => WalkEnd::Done,
            None => match self.link_layer(fr, link_type, out) {
                Some((et, off)) => walk::walk(
                    data,
                    fr.cut,
                    Step::EtherType(wire::EtherType(et.0)),
                    off,
                    true,
                    out,
                    &mut self.walk_stats,
                ),
                None => WalkEnd::Done,
            },
        };
        let start = match end {
            WalkEnd::Net(et, off) => Some((et, off)),
            WalkEnd::Done => None,
        };
        if let (true, Some((ether_type, off))) = (self.fast_path, start) {
            if fast_ip(fr, ether_type, off, false, out) {
                return;
            }
        }
        let completed = match start {
            Some((ether_type, off)) => {
                let rest = data.get(off..).unwrap_or(&[]);
                let lax = LaxSlicedPacket::from_ether_type(ether_type, rest);
                self.sliced(fr, &lax, ether_type, off, now_ns, out)
            }
            None => None,
        };

        if let Some(c) = completed {
            self.stats.reassembled += 1;
            out.reassembled = true;
            let buf: &'a [u8] = &self.reassembled;
            let (transport, stop) = slice_transport(c.ip_number, buf);
            if let Some(t) = &transport {
                fill_transport(t, buf, buf.len(), out);
            }
            if let Some((e, layer)) = stop {
                let origin = Frame {
                    data: buf,
                    cut: false,
                    wire_len: buf.len(),
                };
                out.issue = Some(map_stop_err(origin, &e, layer, 0, 0, c.ip_name));
            }
            // A tunnel datagram that came in fragments (GTP-U over a fragmented outer IP):
            // its inner packet, read from the reassembled datagram, is the one to follow.
            if out.issue.is_none() && out.udp().is_some() {
                if let Some((et, off)) = walk::into_reassembled_udp(buf, out, &mut self.walk_stats)
                {
                    let inner = Frame {
                        data: buf,
                        cut: false,
                        wire_len: buf.len(),
                    };
                    fast_ip(inner, et, off, false, out);
                }
            }
        }
        walk::label_transport_payload(data, out);
        if let Some(issue) = out.issue.clone() {
            self.stats.decode_issues += 1;
            if !out.reassembled {
                partial_tcp(data, frame.orig_len, &issue, out);
                push_partial_layer(issue, out);
            }
        }
    }

    /// Decodes the link-layer header; returns the ether type and offset of what it carries.
    fn link_layer(
        &mut self,
        fr: Frame<'_>,
        link_type: LinkType,
        out: &mut DecodedPacket<'_>,
    ) -> Option<(EtherType, usize)> {
        let data = fr.data;
        let too_short = |layer: &'static str, needed: usize| DecodeIssue {
            layer,
            offset: 0,
            kind: IssueKind::TooShort {
                needed: u32_of(needed),
                had: u32_of(data.len()),
                snaplen_cut: fr.cut,
            },
        };
        match link_type {
            LinkType::ETHERNET => match Ethernet2Slice::from_slice_without_fcs(data) {
                Ok(eth) => {
                    push_layer(out, LayerName::Eth, 0, 14);
                    out.link.src_mac = Some(eth.source());
                    out.link.dst_mac = Some(eth.destination());
                    Some((eth.ether_type(), 14))
                }
                Err(_) => {
                    out.issue = Some(too_short("eth", 14));
                    None
                }
            },
            LinkType::LINUX_SLL | LinkType::LINUX_SLL2 => {
                let parsed = if link_type == LinkType::LINUX_SLL {
                    link::parse_sll(data)
                } else {
                    link::parse_sll2(data)
                };
                let (name, issue_name, len) = if link_type == LinkType::LINUX_SLL {
                    (LayerName::Sll, "sll", link::SLL_LEN)
                } else {
                    (LayerName::Sll2, "sll2", link::SLL2_LEN)
                };
                let Some(h) = parsed else {
                    out.issue = Some(too_short(issue_name, len));
                    return None;
                };
                push_layer(out, name, 0, len);
                self.after_cooked(h, len, out)
            }
            LinkType::NULL | LinkType::LOOP => {
                let Some(family) = link::parse_null(data, link_type == LinkType::LOOP) else {
                    out.issue = Some(too_short("null", link::NULL_LEN));
                    return None;
                };
                push_layer(out, LayerName::Null, 0, link::NULL_LEN);
                // An unknown family (some writers put other values there): go by the IP
                // version nibble, as tshark ends up doing.
                let et = link::null_family_ether_type(family).or_else(|| {
                    match data.get(link::NULL_LEN).map(|b| b >> 4) {
                        Some(4) => Some(EtherType::IPV4),
                        Some(6) => Some(EtherType::IPV6),
                        _ => None,
                    }
                })?;
                out.link.ether_type = Some(et.0);
                Some((et, link::NULL_LEN))
            }
            LinkType::RAW_12 | LinkType::RAW_14 | LinkType::RAW => {
                let Some(first) = data.first() else {
                    out.issue = Some(too_short("ip", 20));
                    return None;
                };
                let et = match first >> 4 {
                    6 => EtherType::IPV6,
                    4 => EtherType::IPV4,
                    v => {
                        out.issue = Some(DecodeIssue {
                            layer: "ip",
                            offset: 0,
                            kind: IssueKind::Malformed(format!(
                                "IP version {v} is neither 4 nor 6"
                            )),
                        });
                        return None;
                    }
                };
                out.link.ether_type = Some(et.0);
                Some((et, 0))
            }
            LinkType::IPV4 | LinkType::IPV6 => {
                let (et, version, name, min) = if link_type == LinkType::IPV4 {
                    (EtherType::IPV4, 4, "ipv4", 20)
                } else {
                    (EtherType::IPV6, 6, "ipv6", 40)
                };
                match data.first().map(|b| b >> 4) {
                    None => {
                        out.issue = Some(too_short(name, min));
                        return None;
                    }
                    Some(v) if v != version => {
                        out.issue = Some(DecodeIssue {
                            layer: name,
                            offset: 0,
                            kind: IssueKind::Malformed(format!(
                                "IP version {v} on a link type for IPv{version} only"
                            )),
                        });
                        return None;
                    }
                    Some(_) => {}
                }
                out.link.ether_type = Some(et.0);
                Some((et, 0))
            }
            LinkType(other) => {
                out.issue = Some(DecodeIssue {
                    layer: "link",
                    offset: 0,
                    kind: IssueKind::UnsupportedLink { link_type: other },
                });
                None
            }
        }
    }

    /// Linux cooked capture: the protocol field is an ether type when it is ≥ 0x0600.
    fn after_cooked(
        &self,
        h: LinkHeader,
        len: usize,
        out: &mut DecodedPacket<'_>,
    ) -> Option<(EtherType, usize)> {
        out.link.src_mac = h.src_mac;
        if h.protocol < 0x0600 {
            return None;
        }
        Some((EtherType(h.protocol), len))
    }

    /// Turns etherparse's lax slices into layers and facts; adds fragments to the table.
    /// `base` is the frame offset of the slice handed to etherparse.
    fn sliced<'a>(
        &mut self,
        fr: Frame<'a>,
        lax: &LaxSlicedPacket<'a>,
        first_ether_type: EtherType,
        base: usize,
        now_ns: i64,
        out: &mut DecodedPacket<'a>,
    ) -> Option<Completed> {
        let mut ether_type = first_ether_type;
        let mut net_start = base;
        for ext in &lax.link_exts {
            match ext {
                LaxLinkExtSlice::Vlan(v) => {
                    let off = fr.offset_of(v.slice());
                    push_layer(out, LayerName::Vlan, off, 4);
                    let _ = out.link.vlans.try_push(v.vlan_identifier().value());
                    ether_type = v.ether_type();
                    net_start = off + 4;
                }
                LaxLinkExtSlice::Macsec(_) => {}
            }
        }
        if ether_type.0 >= 0x0600 {
            out.link.ether_type = Some(ether_type.0);
        }
        let ip_hint = match fr.data.get(net_start).map(|b| b >> 4) {
            Some(6) => "ipv6",
            Some(4) => "ipv4",
            _ if ether_type == EtherType::IPV6 => "ipv6",
            _ => "ipv4",
        };

        // End of the IP datagram as its header says (for tcp.len), and the transport offset.
        let mut ip_end = fr.data.len();
        let mut transport_start = net_start;
        let mut completed = None;
        let mut bogus_len = false;
        match &lax.net {
            Some(LaxNetSlice::Arp(a)) => {
                let s = a.slice();
                push_layer(out, LayerName::Arp, fr.offset_of(s), s.len());
                out.arp = arp_info(s);
            }
            Some(LaxNetSlice::Ipv4(v)) => {
                let h = v.header();
                let ip_off = fr.offset_of(h.slice());
                let payload = v.payload();
                transport_start = fr.offset_of(payload.payload);
                push_layer(
                    out,
                    LayerName::Ipv4,
                    ip_off,
                    transport_start.saturating_sub(ip_off),
                );
                let total = usize::from(h.total_len());
                if total == 0 {
                    // Segmentation offload: the NIC fills the length in later. Like tshark,
                    // take the captured length.
                } else if total < h.slice().len() {
                    bogus_len = true;
                    out.issue = Some(DecodeIssue {
                        layer: "ipv4",
                        offset: u32_of(ip_off),
                        kind: IssueKind::Malformed(format!(
                            "total length {total} is below the header length {}",
                            h.slice().len()
                        )),
                    });
                } else {
                    ip_end = ip_off + total;
                }
                let fragment = h.is_fragmenting_payload().then(|| FragmentInfo {
                    offset: u32::from(h.fragments_offset().byte_offset()),
                    more: h.more_fragments(),
                });
                out.net = Some(NetInfo {
                    src: IpAddr::V4(h.source_addr()),
                    dst: IpAddr::V4(h.destination_addr()),
                    protocol: payload.ip_number.0,
                    ttl: h.ttl(),
                    ident: u32::from(h.identification()),
                    fragment,
                    total_len: u32::from(h.total_len()),
                });
                if payload.fragmented {
                    let id = IpFragId {
                        vlan_ids: lax.vlan_ids(),
                        ip: IpFragVersionSpecId::Ipv4 {
                            source: h.source(),
                            destination: h.destination(),
                            identification: h.identification(),
                        },
                        payload_ip_number: payload.ip_number,
                        channel_id: (),
                    };
                    completed = self.fragment(
                        FragmentIn {
                            id,
                            offset: h.fragments_offset(),
                            more: h.more_fragments(),
                            payload,
                            bytes: payload.payload,
                            ip_off,
                            ip_name: "ipv4",
                        },
                        now_ns,
                        out,
                    );
                }
            }
            Some(LaxNetSlice::Ipv6(v)) => {
                let h = v.header();
                let ip_off = fr.offset_of(h.slice());
                let payload = v.payload();
                transport_start = fr.offset_of(payload.payload);
                push_layer(
                    out,
                    LayerName::Ipv6,
                    ip_off,
                    transport_start.saturating_sub(ip_off),
                );
                if h.payload_length() != 0 {
                    ip_end = ip_off + 40 + usize::from(h.payload_length());
                }
                let frag = ipv6_fragment_header(v.extensions());
                let fragment = frag
                    .as_ref()
                    .filter(|f| f.is_fragmenting_payload())
                    .map(|f| FragmentInfo {
                        offset: u32::from(f.fragment_offset().byte_offset()),
                        more: f.more_fragments(),
                    });
                out.net = Some(NetInfo {
                    src: IpAddr::V6(Ipv6Addr::from(h.source())),
                    dst: IpAddr::V6(Ipv6Addr::from(h.destination())),
                    protocol: payload.ip_number.0,
                    ttl: h.hop_limit(),
                    ident: frag.as_ref().map_or(0, |f| f.identification()),
                    fragment,
                    total_len: 40 + u32::from(h.payload_length()),
                });
                if let (true, Some(f)) = (payload.fragmented, frag) {
                    // The fragmentable part starts right after the fragment header.
                    let start = fr.offset_of(f.slice()) + f.slice().len();
                    let end = transport_start + payload.payload.len();
                    let bytes = fr.data.get(start..end).unwrap_or(&[]);
                    let id = IpFragId {
                        vlan_ids: lax.vlan_ids(),
                        ip: IpFragVersionSpecId::Ipv6 {
                            source: h.source(),
                            destination: h.destination(),
                            identification: f.identification(),
                        },
                        payload_ip_number: f.next_header(),
                        channel_id: (),
                    };
                    completed = self.fragment(
                        FragmentIn {
                            id,
                            offset: f.fragment_offset(),
                            more: f.more_fragments(),
                            payload,
                            bytes,
                            ip_off,
                            ip_name: "ipv6",
                        },
                        now_ns,
                        out,
                    );
                }
            }
            None => {}
        }

        if let Some((e, layer)) = &lax.stop_err {
            if out.issue.is_none() {
                out.issue = Some(map_stop_err(
                    fr,
                    e,
                    *layer,
                    base,
                    if matches!(e, SliceError::Tcp(_)) {
                        transport_start
                    } else {
                        net_start
                    },
                    ip_hint,
                ));
            }
        }
        if !bogus_len {
            if let Some(t) = &lax.transport {
                // Like tshark's tcp.len: the IP length, but never past the end of the frame
                // on the wire (a header claiming more than was sent).
                let wire_end = ip_end.min(fr.wire_len.max(fr.data.len()));
                fill_transport(t, fr.data, wire_end, out);
            } else if let Some((SliceError::Len(l), err::Layer::TcpHeader)) = &lax.stop_err {
                if matches!(
                    l.len_source,
                    LenSource::Ipv4HeaderTotalLen | LenSource::Ipv6HeaderPayloadLen
                ) {
                    tcp_cut_by_ip_length(fr.data, transport_start, ip_end, out);
                }
            }
        }
        completed
    }

    /// Handles one IP fragment; returns the completed datagram when this fragment ends it.
    fn fragment(
        &mut self,
        f: FragmentIn<'_, '_>,
        now_ns: i64,
        out: &mut DecodedPacket<'_>,
    ) -> Option<Completed> {
        self.stats.fragments += 1;
        out.fragment_pending = true;
        let ip_number = f.id.payload_ip_number;
        if f.offset.value() == 0 {
            // Read now, kept only if the datagram does not complete with this frame.
            out.first_fragment = first_fragment::read(crate::wire::IpNumber(ip_number.0), f.bytes);
        }
        if f.payload.incomplete {
            // Cut by the snaplen: this fragment's bytes are not all here, it cannot help.
            return None;
        }
        let added = self.frags.add(
            f.id,
            f.offset,
            f.more,
            f.bytes,
            out.first_fragment.is_some(),
            now_ns,
            &self.limits,
            &mut self.reassembled,
        );
        self.refresh_straight();
        match added {
            Ok(FragOutcome::Complete) => {
                out.fragment_pending = false;
                out.first_fragment = None;
                Some(Completed {
                    ip_number,
                    ip_name: f.ip_name,
                })
            }
            Ok(FragOutcome::Pending) => None,
            Err(e) => {
                out.issue = Some(DecodeIssue {
                    layer: f.ip_name,
                    offset: u32_of(f.ip_off),
                    kind: IssueKind::Malformed(format!("fragment not reassembled: {e}")),
                });
                None
            }
        }
    }
}

fn be16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The most common frame of all, read in one straight line: Ethernet II, IPv4 with a 20-byte
/// header (IHL 5) that is not a fragment and whose total length covers the IP and TCP
/// headers, then a TCP header (data offset ≥ 5) captured whole. One length check (54 bytes:
/// Ethernet, IPv4 and a TCP header without options) covers every fixed field; the rest is
/// one comparison of where the TCP header ends with where the captured datagram ends.
///
/// Fills `out` exactly as `fast_ip` (and so [`Decoder::sliced`] from etherparse's slices)
/// does for the same frame, and returns `true`; returns `false` without touching `out` for
/// anything else (the test `fast_eth_ipv4_tcp_matches_the_general_path` checks both).
#[inline(always)]
fn fast_eth_ipv4_tcp<'a>(data: &'a [u8], orig_len: u32, out: &mut DecodedPacket<'a>) -> bool {
    /// Frame offsets of the IPv4 and the TCP header.
    const IP: usize = 14;
    const TCP: usize = IP + 20;
    let Some(h) = data.first_chunk::<{ TCP + 20 }>() else {
        return false;
    };
    // Ether type 0x0800, version 4 with IHL 5, protocol TCP, neither more fragments nor a
    // fragment offset (the don't-fragment bit may be set).
    if h[12..15] != [0x08, 0x00, 0x45] || h[IP + 9] != 6 || (h[IP + 6] & 0x3F) | h[IP + 7] != 0 {
        return false;
    }
    let total = usize::from(u16::from_be_bytes([h[IP + 2], h[IP + 3]]));
    let offset_byte = h[TCP + 12];
    let hl = usize::from(offset_byte >> 4) * 4;
    // The IP payload as etherparse's lax slicer cuts it: up to the header's total length,
    // or to the end of the capture. It must hold the whole TCP header (which also rules out
    // a total length below the IP header's 20 bytes).
    let ip_end = IP + total;
    let captured_end = ip_end.min(data.len());
    let payload_start = TCP + hl;
    if hl < 20 || captured_end < payload_start {
        return false;
    }
    let be16 = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
    let be32 = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    let layers = [
        Layer {
            name: LayerName::Eth,
            offset: 0,
            len: IP as u32,
        },
        Layer {
            name: LayerName::Ipv4,
            offset: IP as u32,
            len: 20,
        },
        Layer {
            name: LayerName::Tcp,
            offset: TCP as u32,
            len: hl as u32,
        },
    ];
    // `out` holds no layer yet (see `decode_into`): cleared first, the three are written
    // at fixed places with no capacity check.
    out.layers.clear();
    if out.layers.try_extend_from_slice(&layers).is_err() {
        for l in layers {
            let _ = out.layers.try_push(l);
        }
    }
    out.link.dst_mac = <[u8; 6]>::try_from(&h[..6]).ok();
    out.link.src_mac = <[u8; 6]>::try_from(&h[6..12]).ok();
    out.link.ether_type = Some(EtherType::IPV4.0);
    out.net = Some(NetInfo {
        src: IpAddr::V4(Ipv4Addr::new(
            h[IP + 12],
            h[IP + 13],
            h[IP + 14],
            h[IP + 15],
        )),
        dst: IpAddr::V4(Ipv4Addr::new(
            h[IP + 16],
            h[IP + 17],
            h[IP + 18],
            h[IP + 19],
        )),
        protocol: 6,
        ttl: h[IP + 8],
        ident: u32::from(be16(IP + 4)),
        fragment: None,
        total_len: total as u32,
    });
    // Like tshark's tcp.len: the IP length, but never past the end of the frame on the wire
    // (a header claiming more than was sent).
    let wire_end = ip_end.min((orig_len as usize).max(data.len()));
    let tcp = out.transport.insert(Transport::Tcp(TcpInfo {
        src_port: be16(TCP),
        dst_port: be16(TCP + 2),
        seq: be32(TCP + 4),
        ack: be32(TCP + 8),
        flags: TcpFlags((u16::from(offset_byte & 1) << 8) | u16::from(h[TCP + 13])),
        window: be16(TCP + 14),
        header_len: hl as u8,
        options: TcpOptions::default(),
        payload_len: u32_of(wire_end.saturating_sub(payload_start)),
    }));
    out.payload = &data[payload_start..captured_end];
    out.payload_offset = payload_start as u32;
    // Options written in place, last.
    if let Transport::Tcp(tcp) = tcp {
        tcp_options_into(&data[TCP + 20..payload_start], &mut tcp.options);
    }
    true
}

/// TCP options written into `options` (which holds none yet), for the fast paths: none,
/// or NOP, NOP, Timestamps (nearly every segment after the handshake) without a call;
/// anything else through [`parse_tcp_options_into`].
#[inline(always)]
fn tcp_options_into(opts: &[u8], options: &mut TcpOptions) {
    if let Some(o) = opts.first_chunk::<12>() {
        if opts.len() == 12 && o[..4] == [1, 1, 8, 10] {
            options.timestamps = Some((be32_at(o, 4), be32_at(o, 8)));
            return;
        }
    }
    if !opts.is_empty() {
        parse_tcp_options_into(opts, options);
    }
}

/// The common case read by hand: an IPv4 header (IHL ≥ 5, total length covering the
/// header, not a fragment) or an IPv6 header (non-zero payload length, next header TCP or
/// UDP, so no extension headers), as the ether type says, carrying a complete TCP header
/// (data offset ≥ 5) or a UDP header. Fills `out` exactly as [`Decoder::sliced`] does from
/// etherparse's lax slices (the test `fast_path_matches_etherparse_on_every_capture` checks
/// it field by field) and returns `true`; returns `false` without touching `out` for anything
/// else, which then goes the etherparse way.
///
/// With `eth`, the frame starts with a 14-byte Ethernet header that `out` does not have yet:
/// on success its layer and addresses are written first, as `link_layer` would.
#[inline(always)]
fn fast_ip<'a>(
    fr: Frame<'a>,
    ether_type: EtherType,
    off: usize,
    eth: bool,
    out: &mut DecodedPacket<'a>,
) -> bool {
    let Some(rest) = fr.data.get(off..) else {
        return false;
    };
    let Some(&first) = rest.first() else {
        return false;
    };
    // (header length, end of the datagram in `rest` by its header, protocol)
    let (ip_len, ip_end, protocol) = match (ether_type, first >> 4) {
        (EtherType::IPV4, 4) => {
            let ihl = usize::from(first & 0xF) * 4;
            if ihl < 20 || rest.len() < ihl {
                return false;
            }
            let h = &rest[..ihl];
            let total = usize::from(be16_at(h, 2));
            let frag = be16_at(h, 6);
            // More fragments, or a fragment offset: the etherparse path reassembles.
            if total < ihl || frag & 0x3FFF != 0 {
                return false;
            }
            (ihl, total, h[9])
        }
        (EtherType::IPV6, 6) => {
            let Some(h) = rest.get(..40) else {
                return false;
            };
            let payload_len = usize::from(be16_at(h, 4));
            let protocol = h[6];
            if payload_len == 0 || !(protocol == 6 || protocol == 17) {
                return false;
            }
            (40, 40 + payload_len, protocol)
        }
        _ => return false,
    };
    // The IP payload as etherparse's lax slicer cuts it: up to the header's length, or to
    // the end of the capture.
    let ip_payload = &rest[ip_len..ip_end.min(rest.len())];
    let t_off = off + ip_len;
    match protocol {
        6 => {
            let Some(&offset_byte) = ip_payload.get(12) else {
                return false;
            };
            let hl = usize::from(offset_byte >> 4) * 4;
            if hl < 20 || ip_payload.len() < hl {
                return false;
            }
            let h = &ip_payload[..hl];
            // Like tshark's tcp.len: the IP length, but never past the end of the frame on
            // the wire (a header claiming more than was sent).
            let wire_end = (off + ip_end).min(fr.wire_len.max(fr.data.len()));
            push_fast_layers(
                fr,
                eth,
                net_layer(ether_type),
                off,
                ip_len,
                LayerName::Tcp,
                t_off,
                hl,
                out,
            );
            let tcp = out.transport.insert(Transport::Tcp(TcpInfo {
                src_port: be16_at(h, 0),
                dst_port: be16_at(h, 2),
                seq: be32_at(h, 4),
                ack: be32_at(h, 8),
                flags: TcpFlags((u16::from(h[12] & 1) << 8) | u16::from(h[13])),
                window: be16_at(h, 14),
                header_len: hl as u8,
                options: TcpOptions::default(),
                payload_len: u32_of(wire_end.saturating_sub(t_off + hl)),
            }));
            // Options written in place.
            if let Transport::Tcp(tcp) = tcp {
                tcp_options_into(&h[20..], &mut tcp.options);
            }
            out.payload = &ip_payload[hl..];
            out.payload_offset = u32_of(t_off + hl);
        }
        17 => {
            let Some(h) = ip_payload.get(..8) else {
                return false;
            };
            // A tunnel's port: the walk opens it (or names it) on the general path.
            if wire::udp::tunnel_of_port(be16_at(h, 0)).is_some()
                || wire::udp::tunnel_of_port(be16_at(h, 2)).is_some()
            {
                return false;
            }
            let length = be16_at(h, 4);
            let len = usize::from(length);
            // etherparse's lax UDP: the length field when it fits, else the captured bytes.
            let udp = if len < 8 || len > ip_payload.len() {
                ip_payload
            } else {
                &ip_payload[..len]
            };
            // Teredo on another port (found by content, as Zeek finds it): the walk opens it.
            if wire::teredo::detect_by_content(&udp[8..]) {
                return false;
            }
            push_fast_layers(
                fr,
                eth,
                net_layer(ether_type),
                off,
                ip_len,
                LayerName::Udp,
                t_off,
                8,
                out,
            );
            out.transport = Some(Transport::Udp(UdpInfo {
                src_port: be16_at(h, 0),
                dst_port: be16_at(h, 2),
                length,
            }));
            out.payload = &udp[8..];
            out.payload_offset = u32_of(t_off + 8);
        }
        _ => return false,
    }
    out.link.ether_type = Some(ether_type.0);
    // Written in place from the header (checked above: `rest` holds `ip_len` bytes).
    let h = &rest[..ip_len];
    out.net = Some(if ether_type == EtherType::IPV6 {
        let mut src = [0u8; 16];
        src.copy_from_slice(&h[8..24]);
        let mut dst = [0u8; 16];
        dst.copy_from_slice(&h[24..40]);
        NetInfo {
            src: IpAddr::V6(Ipv6Addr::from(src)),
            dst: IpAddr::V6(Ipv6Addr::from(dst)),
            protocol,
            ttl: h[7],
            ident: 0,
            fragment: None,
            total_len: ip_end as u32,
        }
    } else {
        NetInfo {
            src: IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15])),
            dst: IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19])),
            protocol,
            ttl: h[8],
            ident: u32::from(be16_at(h, 4)),
            fragment: None,
            total_len: ip_end as u32,
        }
    });
    true
}

/// The layers `fast_ip` found (after the Ethernet layer and addresses with `eth`), with one
/// capacity check where there is room for all.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn push_fast_layers(
    fr: Frame<'_>,
    eth: bool,
    net: LayerName,
    net_off: usize,
    net_len: usize,
    transport: LayerName,
    t_off: usize,
    t_len: usize,
    out: &mut DecodedPacket<'_>,
) {
    let net = Layer {
        name: net,
        offset: u32_of(net_off),
        len: u32_of(net_len),
    };
    let transport = Layer {
        name: transport,
        offset: u32_of(t_off),
        len: u32_of(t_len),
    };
    if eth {
        if let Some(h) = fr.data.get(..12) {
            let mut dst = [0u8; 6];
            dst.copy_from_slice(&h[..6]);
            let mut src = [0u8; 6];
            src.copy_from_slice(&h[6..12]);
            out.link.dst_mac = Some(dst);
            out.link.src_mac = Some(src);
        }
        let eth = Layer {
            name: LayerName::Eth,
            offset: 0,
            len: 14,
        };
        if out
            .layers
            .try_extend_from_slice(&[eth, net, transport])
            .is_err()
        {
            let _ = out.layers.try_push(eth);
            let _ = out.layers.try_push(net);
            let _ = out.layers.try_push(transport);
        }
    } else if out.layers.try_extend_from_slice(&[net, transport]).is_err() {
        let _ = out.layers.try_push(net);
        let _ = out.layers.try_push(transport);
    }
}

fn net_layer(ether_type: EtherType) -> LayerName {
    if ether_type == EtherType::IPV6 {
        LayerName::Ipv6
    } else {
        LayerName::Ipv4
    }
}

/// One fragment as the decoder hands it to the reassembly table.
struct FragmentIn<'p, 'a> {
    id: IpFragId,
    offset: IpFragOffset,
    more: bool,
    payload: &'p LaxIpPayloadSlice<'a>,
    /// The fragment's share of the datagram's payload.
    bytes: &'a [u8],
    ip_off: usize,
    ip_name: &'static str,
}

/// A TCP header cut inside its options still has its fixed 20 bytes: ports, numbers,
/// flags and window are facts (tshark shows them), the options are read as far as they go,
/// and `payload_len` comes from the IP length. The issue stays.
fn partial_tcp(data: &[u8], orig_len: u32, issue: &DecodeIssue, out: &mut DecodedPacket<'_>) {
    if issue.layer != "tcp" || out.transport.is_some() {
        return;
    }
    let IssueKind::TooShort { .. } = issue.kind else {
        return;
    };
    let off = issue.offset as usize;
    let Some(h) = data.get(off..).filter(|h| h.len() >= 20) else {
        return;
    };
    let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let header_len = usize::from(h[12] >> 4) * 4;
    if header_len < 20 {
        return;
    }
    let opts = &h[20..header_len.min(h.len())];
    let ip_end = match &out.net {
        Some(net) => {
            let ip_off = out
                .layers
                .iter()
                .rev()
                .find(|l| matches!(l.name, LayerName::Ipv4 | LayerName::Ipv6))
                .map(|l| l.offset as usize)
                .unwrap_or(0);
            (ip_off + net.total_len as usize).min(orig_len as usize)
        }
        None => orig_len as usize,
    };
    out.transport = Some(Transport::Tcp(TcpInfo {
        src_port: be16(0),
        dst_port: be16(2),
        seq: be32(4),
        ack: be32(8),
        flags: TcpFlags((u16::from(h[12] & 1) << 8) | u16::from(h[13])),
        window: be16(14),
        header_len: u8::try_from(header_len).unwrap_or(u8::MAX),
        options: parse_tcp_options(opts),
        payload_len: u32_of(ip_end.saturating_sub(off + header_len)),
    }));
}

/// A header cut short by the capture still shows as a layer over the bytes that were
/// captured (`len` below the header length), as tshark lists it; the issue says what is
/// missing. Nothing is added when not one byte of it was captured.
fn push_partial_layer(issue: DecodeIssue, out: &mut DecodedPacket<'_>) {
    let IssueKind::TooShort { had, .. } = issue.kind else {
        return;
    };
    let name = match issue.layer {
        "eth" => LayerName::Eth,
        "vlan" => LayerName::Vlan,
        "sll" => LayerName::Sll,
        "sll2" => LayerName::Sll2,
        "null" => LayerName::Null,
        "arp" => LayerName::Arp,
        "ipv4" => LayerName::Ipv4,
        "ipv6" => LayerName::Ipv6,
        "icmp" => LayerName::Icmp,
        "icmpv6" => LayerName::Icmpv6,
        "tcp" => LayerName::Tcp,
        "udp" => LayerName::Udp,
        _ => return,
    };
    if had == 0
        || out
            .layers
            .iter()
            .any(|l| l.name == name && l.offset == issue.offset)
    {
        return;
    }
    let _ = out.layers.try_push(Layer {
        name,
        offset: issue.offset,
        len: had,
    });
}

/// ARP facts from an ARP packet slice (length already checked by etherparse).
fn arp_info(s: &[u8]) -> Option<ArpInfo> {
    let hw = usize::from(*s.get(4)?);
    let proto = usize::from(*s.get(5)?);
    let operation = u16::from_be_bytes([*s.get(6)?, *s.get(7)?]);
    let sender_hw = s.get(8..8 + hw)?;
    let sender_ip = s.get(8 + hw..8 + hw + proto)?;
    let target_ip = s.get(8 + 2 * hw + proto..8 + 2 * hw + 2 * proto)?;
    let ip = |b: &[u8]| -> Option<IpAddr> {
        if let Ok(a) = <[u8; 4]>::try_from(b) {
            Some(IpAddr::V4(Ipv4Addr::from(a)))
        } else if let Ok(a) = <[u8; 16]>::try_from(b) {
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        } else {
            None
        }
    };
    Some(ArpInfo {
        operation,
        sender_ip: ip(sender_ip),
        target_ip: ip(target_ip),
        sender_mac: <[u8; 6]>::try_from(sender_hw).ok(),
    })
}

/// Slices the transport header of a reassembled IP payload, like etherparse's lax slicer does
/// for an unfragmented one.
fn slice_transport(
    ip_number: IpNumber,
    payload: &[u8],
) -> (Option<TransportSlice<'_>>, Option<(SliceError, err::Layer)>) {
    match ip_number {
        ip_number::TCP => match TcpSlice::from_slice(payload) {
            Ok(t) => (Some(TransportSlice::Tcp(t)), None),
            Err(err::tcp::HeaderSliceError::Len(l)) => {
                (None, Some((SliceError::Len(l), err::Layer::TcpHeader)))
            }
            Err(err::tcp::HeaderSliceError::Content(c)) => {
                (None, Some((SliceError::Tcp(c), err::Layer::TcpHeader)))
            }
        },
        ip_number::UDP => match UdpSlice::from_slice_lax(payload) {
            Ok(u) => (Some(TransportSlice::Udp(u)), None),
            Err(l) => (None, Some((SliceError::Len(l), err::Layer::UdpHeader))),
        },
        ip_number::ICMP => match Icmpv4Slice::from_slice(payload) {
            Ok(i) => (Some(TransportSlice::Icmpv4(i)), None),
            Err(l) => (None, Some((SliceError::Len(l), err::Layer::Icmpv4))),
        },
        ip_number::IPV6_ICMP => match Icmpv6Slice::from_slice(payload) {
            Ok(i) => (Some(TransportSlice::Icmpv6(i)), None),
            Err(l) => (None, Some((SliceError::Len(l), err::Layer::Icmpv6))),
        },
        _ => (None, None),
    }
}

/// A TCP header whose options the IP total length (or IPv6 payload length) ends inside:
/// as tshark does, what is there is read (the fixed header and the options up to the IP
/// length); no payload. The issue already says where the header was cut.
fn tcp_cut_by_ip_length(data: &[u8], start: usize, ip_end: usize, out: &mut DecodedPacket<'_>) {
    let Some(bytes) = data.get(start..ip_end.min(data.len())) else {
        return;
    };
    let Ok(h) = crate::wire::tcp::Tcp::new_fixed(bytes) else {
        return;
    };
    push_layer(out, LayerName::Tcp, start, bytes.len());
    out.transport = Some(Transport::Tcp(TcpInfo {
        src_port: h.src_port(),
        dst_port: h.dst_port(),
        seq: h.seq(),
        ack: h.ack(),
        flags: TcpFlags(h.flags()),
        window: h.window(),
        header_len: u8::try_from(h.header_len()).unwrap_or(u8::MAX),
        options: parse_tcp_options(h.options()),
        payload_len: 0,
    }));
    out.payload = &[];
    out.payload_offset = u32_of(ip_end.min(data.len()));
}

/// Fills the transport layer, facts and payload. Offsets are relative to `origin` (the frame,
/// or the reassembly buffer); `ip_end` is where the IP datagram ends by its header.
fn fill_transport<'a>(
    t: &TransportSlice<'a>,
    origin: &'a [u8],
    ip_end: usize,
    out: &mut DecodedPacket<'a>,
) {
    match t {
        TransportSlice::Tcp(tcp) => {
            let hdr = tcp.header_slice();
            let off = offset_in(origin, hdr);
            push_layer(out, LayerName::Tcp, off, hdr.len());
            let flags = (u16::from(hdr.get(12).copied().unwrap_or(0) & 1) << 8)
                | u16::from(hdr.get(13).copied().unwrap_or(0));
            out.transport = Some(Transport::Tcp(TcpInfo {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                seq: tcp.sequence_number(),
                ack: tcp.acknowledgment_number(),
                flags: TcpFlags(flags),
                window: tcp.window_size(),
                header_len: u8::try_from(hdr.len()).unwrap_or(u8::MAX),
                options: parse_tcp_options(tcp.options()),
                payload_len: u32_of(ip_end.saturating_sub(off + hdr.len())),
            }));
            out.payload = tcp.payload();
            out.payload_offset = u32_of(off + hdr.len());
        }
        TransportSlice::Udp(udp) => {
            let hdr = udp.header_slice();
            let off = offset_in(origin, hdr);
            push_layer(out, LayerName::Udp, off, hdr.len());
            out.transport = Some(Transport::Udp(UdpInfo {
                src_port: udp.source_port(),
                dst_port: udp.destination_port(),
                length: udp.length(),
            }));
            out.payload = udp.payload();
            out.payload_offset = u32_of(off + hdr.len());
        }
        TransportSlice::Icmpv4(icmp) => {
            let s = icmp.slice();
            out.transport = Some(Transport::Icmpv4(icmp_info(s, 0, 8)));
            icmp_layer(out, LayerName::Icmp, origin, s);
        }
        TransportSlice::Icmpv6(icmp) => {
            let s = icmp.slice();
            out.transport = Some(Transport::Icmpv6(icmp_info(s, 129, 128)));
            icmp_layer(out, LayerName::Icmpv6, origin, s);
        }
        TransportSlice::Igmp(_) => {}
    }
}

/// ICMP layer: the 8-byte header; `payload` is the rest (echo data or the quoted packet, which
/// is not decoded as layers of this frame).
fn icmp_layer<'a>(out: &mut DecodedPacket<'a>, name: LayerName, origin: &'a [u8], s: &'a [u8]) {
    let off = offset_in(origin, s);
    let hdr = s.len().min(8);
    push_layer(out, name, off, hdr);
    out.payload = s.get(hdr..).unwrap_or(&[]);
    out.payload_offset = u32_of(off + hdr);
}

fn icmp_info(s: &[u8], echo_reply: u8, echo_request: u8) -> IcmpInfo {
    let icmp_type = s.first().copied().unwrap_or(0);
    let code = s.get(1).copied().unwrap_or(0);
    let echo = if icmp_type == echo_reply || icmp_type == echo_request {
        s.get(4..8).map(|b| {
            (
                u16::from_be_bytes([b[0], b[1]]),
                u16::from_be_bytes([b[2], b[3]]),
            )
        })
    } else {
        None
    };
    IcmpInfo {
        icmp_type,
        code,
        echo,
    }
}

/// Our name for an etherparse layer.
fn layer_name(layer: err::Layer, ip_hint: &'static str) -> &'static str {
    use err::Layer as L;
    match layer {
        L::LinuxSllHeader => "sll",
        L::Ethernet2Header | L::EtherPayload => "eth",
        L::VlanHeader => "vlan",
        L::MacsecHeader | L::MacsecPacket => "macsec",
        L::IpHeader | L::IpAuthHeader => ip_hint,
        L::Ipv4Header | L::Ipv4Packet => "ipv4",
        L::Ipv6Header | L::Ipv6Packet => "ipv6",
        L::Ipv6ExtHeader
        | L::Ipv6HopByHopHeader
        | L::Ipv6DestOptionsHeader
        | L::Ipv6RouteHeader
        | L::Ipv6FragHeader => "ipv6_ext",
        L::UdpHeader | L::UdpPayload => "udp",
        L::TcpHeader => "tcp",
        L::Icmpv4 | L::Icmpv4Timestamp | L::Icmpv4TimestampReply => "icmp",
        L::Icmpv6 => "icmpv6",
        L::Igmp => "igmp",
        L::Arp => "arp",
    }
}

fn len_source_name(s: LenSource) -> &'static str {
    match s {
        LenSource::Slice => "captured length",
        LenSource::Ipv4HeaderTotalLen => "IPv4 total length",
        LenSource::Ipv6HeaderPayloadLen => "IPv6 payload length",
        LenSource::UdpHeaderLen => "UDP length",
        LenSource::TcpHeaderLen => "TCP data offset",
        LenSource::ArpAddrLengths => "ARP address lengths",
        _ => "a length field",
    }
}

/// Maps etherparse's stop error into a [`DecodeIssue`]. `base` is the frame offset of the
/// slice handed to etherparse; `content_offset` the offset of the layer a content error is in.
fn map_stop_err(
    fr: Frame<'_>,
    e: &SliceError,
    layer: err::Layer,
    base: usize,
    content_offset: usize,
    ip_hint: &'static str,
) -> DecodeIssue {
    match e {
        SliceError::Len(l) => map_len_err(fr, l, base, ip_hint),
        SliceError::Ip(err::ip::HeaderError::UnsupportedIpVersion { version_number }) => {
            DecodeIssue {
                layer: "ip",
                offset: u32_of(content_offset),
                kind: IssueKind::Malformed(format!(
                    "IP version {version_number} is neither 4 nor 6"
                )),
            }
        }
        SliceError::Ip(err::ip::HeaderError::Ipv4HeaderLengthSmallerThanHeader { ihl }) => {
            DecodeIssue {
                layer: "ipv4",
                offset: u32_of(content_offset),
                kind: IssueKind::Malformed(format!("IHL {ihl} is below the minimum 5")),
            }
        }
        SliceError::Tcp(err::tcp::HeaderError::DataOffsetTooSmall { data_offset }) => DecodeIssue {
            layer: "tcp",
            offset: u32_of(content_offset),
            kind: IssueKind::Malformed(format!("data offset {data_offset} is below the minimum 5")),
        },
        other => DecodeIssue {
            layer: layer_name(layer, ip_hint),
            offset: u32_of(content_offset),
            kind: IssueKind::Malformed(other.to_string()),
        },
    }
}

fn map_len_err(fr: Frame<'_>, l: &LenError, base: usize, ip_hint: &'static str) -> DecodeIssue {
    let offset = base + l.layer_start_offset;
    let mut needed = l.required_len;
    let name = layer_name(l.layer, ip_hint);
    if l.layer == err::Layer::IpHeader && needed == 1 {
        // etherparse asks for the version byte of an empty slice; say what the header needs.
        needed = if name == "ipv6" { 40 } else { 20 };
    }
    // Short because the captured bytes ran out (as opposed to a length field inside the
    // packet that leaves too little room).
    let at_capture_end = offset + l.len >= fr.data.len();
    let captured_short = match l.len_source {
        LenSource::Slice => true,
        LenSource::ArpAddrLengths => at_capture_end,
        _ => false,
    };
    let kind = if needed > l.len && captured_short {
        IssueKind::TooShort {
            needed: u32_of(needed),
            had: u32_of(l.len),
            snaplen_cut: fr.cut,
        }
    } else {
        IssueKind::Malformed(format!(
            "the {} leaves {} bytes, the header needs {}",
            len_source_name(l.len_source),
            l.len,
            needed
        ))
    };
    DecodeIssue {
        layer: name,
        offset: u32_of(offset),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use etherparse::{PacketBuilder, VlanId};

    const MAC_A: [u8; 6] = [0, 1, 2, 3, 4, 5];
    const MAC_B: [u8; 6] = [0xa, 0xb, 0xc, 0xd, 0xe, 0xf];

    fn frame(link: u32, data: &[u8]) -> RawFrame<'_> {
        frame_at(link, data, 0, data.len())
    }

    fn frame_at(link: u32, data: &[u8], secs: i64, orig_len: usize) -> RawFrame<'_> {
        RawFrame {
            number: 1,
            ts: Timestamp {
                secs,
                nanos: 0,
                precision: 6,
            },
            link: LinkType(link),
            interface: 0,
            file: 0,
            orig_len: orig_len as u32,
            data,
        }
    }

    /// (name, offset, len)
    type LayerRow = (&'static str, u32, u32);
    /// (layer, offset, needed, had)
    type IssueRow = (&'static str, u32, u32, u32);

    fn stack(p: &DecodedPacket<'_>) -> Vec<LayerRow> {
        p.layers
            .iter()
            .map(|l| (l.name.as_str(), l.offset, l.len))
            .collect()
    }

    fn eth(ether_type: u16) -> Vec<u8> {
        let mut v = MAC_B.to_vec();
        v.extend_from_slice(&MAC_A);
        v.extend_from_slice(&ether_type.to_be_bytes());
        v
    }

    /// IPv4 header (checksum left 0: the decoder does not verify it).
    fn ipv4(total_len: u16, ident: u16, frag: u16, proto: u8) -> Vec<u8> {
        let mut v = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        v[2..4].copy_from_slice(&total_len.to_be_bytes());
        v[4..6].copy_from_slice(&ident.to_be_bytes());
        v[6..8].copy_from_slice(&frag.to_be_bytes());
        v
    }

    /// Fuzz regression (pipeline target, AddressSanitizer heap-buffer-overflow): an IPv6
    /// hop-by-hop header announcing a second hop-by-hop header at the end of the frame made
    /// etherparse's extension iterator read past the slice. The walk now stops there.
    #[test]
    fn ipv6_extension_chain_cut_after_a_header_is_not_read_past() {
        for (next, tail) in [(0u8, 0usize), (0, 1), (43, 0), (60, 1), (51, 0), (44, 7)] {
            let mut data = ipv6(8 + tail as u16, 0);
            data.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
            data.extend(std::iter::repeat_n(0xff, tail));
            let mut d = Decoder::new();
            let p = d.decode(&frame(101, &data));
            assert_eq!(p.layers[0].name.as_str(), "ipv6");
            assert!(p.net.as_ref().unwrap().fragment.is_none(), "{next}/{tail}");
        }
        // A real fragment header after a hop-by-hop header is still found.
        let mut data = ipv6(16 + 8, 0);
        data.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]);
        data.extend_from_slice(&[17, 0, 0, 0x01, 0, 0, 0x12, 0x34]);
        data.extend_from_slice(&[0; 8]);
        let mut d = Decoder::new();
        let p = d.decode(&frame(101, &data));
        let f = p
            .net
            .as_ref()
            .unwrap()
            .fragment
            .expect("fragment header found");
        assert_eq!((f.offset, f.more), (0, true));
    }

    fn ipv6(payload_len: u16, next: u8) -> Vec<u8> {
        let mut v = vec![0x60, 0, 0, 0, 0, 0, next, 64];
        v[4..6].copy_from_slice(&payload_len.to_be_bytes());
        v.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        v.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        v
    }

    /// TCP header, data offset 5, flags as given.
    fn tcp(seq: u32, flags: u8) -> Vec<u8> {
        let mut v = vec![0x04, 0xd2, 0, 80];
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        v
    }

    fn udp(len: u16) -> Vec<u8> {
        let mut v = vec![0x30, 0x39, 0, 53];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v
    }

    fn eth_ipv4_tcp() -> Vec<u8> {
        let mut p = eth(0x0800);
        p.extend(ipv4(40, 1, 0x4000, 6));
        p.extend(tcp(1000, 0x02));
        p
    }

    /// The IP total length ends inside the TCP options (tshark still reads the header):
    /// the fixed header and the options up to the IP length are read, with the issue.
    #[test]
    fn tcp_header_cut_by_the_ip_total_length_yields_what_it_has() {
        let mut p = eth(0x0800);
        // total length 20 + 28: the TCP header says 32 bytes (data offset 8)
        p.extend(ipv4(48, 7, 0x4000, 6));
        let mut t = tcp(0x0102_0304, 0x12);
        t[12] = 0x80;
        // MSS 1460, WS 7, NOP; then (past the IP length) SACK_PERM and padding
        t.extend_from_slice(&[2, 4, 0x05, 0xb4, 3, 3, 7, 1, 4, 2, 0, 0]);
        p.extend(t);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            stack(&pkt),
            [("eth", 0, 14), ("ipv4", 14, 20), ("tcp", 34, 28)]
        );
        let tcp = pkt.tcp().expect("the cut header still yields TCP");
        assert_eq!((tcp.src_port, tcp.dst_port), (1234, 80));
        assert_eq!(tcp.seq, 0x0102_0304);
        assert_eq!(tcp.flags, TcpFlags(0x12));
        assert_eq!((tcp.header_len, tcp.payload_len), (32, 0));
        assert_eq!(tcp.options.mss, Some(1460));
        assert_eq!(tcp.options.window_scale, Some(7));
        assert!(!tcp.options.sack_permitted, "past the IP length");
        assert!(pkt.payload.is_empty());
        let issue = pkt.issue.as_ref().expect("the cut is reported").to_string();
        assert!(issue.starts_with("tcp"), "{issue}");
    }

    #[test]
    fn ethernet_ipv4_tcp_syn_with_options() {
        let mut p = eth(0x0800);
        p.extend(ipv4(60, 7, 0x4000, 6));
        let mut t = tcp(0x0102_0304, 0x02);
        t[12] = 0xa0; // data offset 10 = 40 bytes
        t.extend_from_slice(&[
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7,
        ]);
        p.extend(t);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            stack(&pkt),
            [("eth", 0, 14), ("ipv4", 14, 20), ("tcp", 34, 40)]
        );
        assert_eq!(pkt.link.src_mac, Some(MAC_A));
        assert_eq!(pkt.link.dst_mac, Some(MAC_B));
        assert_eq!(pkt.link.ether_type, Some(0x0800));
        let net = pkt.net.as_ref().unwrap();
        assert_eq!(net.src, "10.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(
            (net.protocol, net.ttl, net.ident, net.total_len),
            (6, 64, 7, 60)
        );
        assert_eq!(net.fragment, None);
        let t = pkt.tcp().unwrap();
        assert_eq!((t.src_port, t.dst_port, t.seq), (1234, 80, 0x0102_0304));
        assert_eq!(t.flags.to_string(), "SYN");
        assert_eq!((t.header_len, t.window, t.payload_len), (40, 0xffff, 0));
        assert_eq!(t.options.mss, Some(1460));
        assert_eq!(t.options.window_scale, Some(7));
        assert_eq!(t.options.timestamps, Some((9, 0)));
        assert!(t.options.sack_permitted);
        assert!(pkt.payload.is_empty());
        assert_eq!(pkt.payload_offset, 74);
        assert!(pkt.issue.is_none());
    }

    #[test]
    fn every_truncation_of_ethernet_ipv4_tcp() {
        let p = eth_ipv4_tcp();
        assert_eq!(p.len(), 54);
        let mut d = Decoder::new();
        for n in 0..=54usize {
            let pkt = d.decode(&frame_at(1, &p[..n], 0, 54));
            let got = stack(&pkt);
            let issue = pkt.issue.clone();
            let (want, want_issue): (Vec<LayerRow>, Option<IssueRow>) = match n {
                0 => (vec![], Some(("eth", 0, 14, 0))),
                1..=13 => (vec![("eth", 0, n as u32)], Some(("eth", 0, 14, n as u32))),
                14 => (vec![("eth", 0, 14)], Some(("ipv4", 14, 20, 0))),
                15..=33 => (
                    vec![("eth", 0, 14), ("ipv4", 14, n as u32 - 14)],
                    Some(("ipv4", 14, 20, n as u32 - 14)),
                ),
                34 => (
                    vec![("eth", 0, 14), ("ipv4", 14, 20)],
                    Some(("tcp", 34, 20, 0)),
                ),
                35..=53 => (
                    vec![("eth", 0, 14), ("ipv4", 14, 20), ("tcp", 34, n as u32 - 34)],
                    Some(("tcp", 34, 20, n as u32 - 34)),
                ),
                _ => (
                    vec![("eth", 0, 14), ("ipv4", 14, 20), ("tcp", 34, 20)],
                    None,
                ),
            };
            assert_eq!(got, want, "cut at {n}");
            match (issue, want_issue) {
                (None, None) => {}
                (Some(i), Some((layer, offset, needed, had))) => {
                    assert_eq!(i.layer, layer, "cut at {n}");
                    assert_eq!(i.offset, offset, "cut at {n}");
                    assert_eq!(
                        i.kind,
                        IssueKind::TooShort {
                            needed,
                            had,
                            snaplen_cut: true
                        },
                        "cut at {n}"
                    );
                }
                (i, w) => panic!("cut at {n}: issue {i:?}, expected {w:?}"),
            }
            assert_eq!(pkt.transport.is_some(), n == 54, "cut at {n}");
        }
        assert_eq!(d.stats().decode_issues, 54);
        let pkt = d.decode(&frame_at(1, &p[..46], 0, 54));
        assert_eq!(
            pkt.issue.unwrap().to_string(),
            "tcp header needs 20 bytes, 12 captured (cut by the snaplen)"
        );
    }

    #[test]
    fn tcp_len_comes_from_the_ip_header_when_the_snaplen_cut_the_payload() {
        let mut p = eth(0x0800);
        p.extend(ipv4(140, 1, 0, 6));
        p.extend(tcp(5, 0x18));
        p.extend_from_slice(b"GET / ");
        let mut d = Decoder::new();
        let pkt = d.decode(&frame_at(1, &p, 0, 154));
        assert_eq!(pkt.tcp().unwrap().payload_len, 100);
        assert_eq!(pkt.payload, b"GET / ");
        assert_eq!(pkt.payload_offset, 54);
        assert!(pkt.issue.is_none());
    }

    #[test]
    fn vlan_and_qinq() {
        let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .single_vlan(VlanId::try_new(100).unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5353, 53);
        let mut p = Vec::new();
        b.write(&mut p, b"abcd").unwrap();
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            stack(&pkt),
            [
                ("eth", 0, 14),
                ("vlan", 14, 4),
                ("ipv4", 18, 20),
                ("udp", 38, 8)
            ]
        );
        assert_eq!(pkt.link.vlans.as_slice(), &[100]);
        assert_eq!(pkt.payload, b"abcd");

        let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .double_vlan(VlanId::try_new(10).unwrap(), VlanId::try_new(20).unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(5353, 53);
        let mut p = Vec::new();
        b.write(&mut p, b"abcd").unwrap();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            stack(&pkt),
            [
                ("eth", 0, 14),
                ("vlan", 14, 4),
                ("vlan", 18, 4),
                ("ipv4", 22, 20),
                ("udp", 42, 8)
            ]
        );
        assert_eq!(pkt.link.vlans.as_slice(), &[10, 20]);
        assert_eq!(pkt.link.ether_type, Some(0x0800));
        assert_eq!(pkt.udp().unwrap().length, 12);
    }

    #[test]
    fn linux_sll_and_sll2() {
        // SLL: outgoing (4), ARPHRD_ETHER, address length 6, address, 2 pad, IPv4.
        let mut p = vec![0, 4, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 8, 0];
        p.extend(ipv4(28, 1, 0, 17));
        p.extend(udp(8));
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(113, &p));
        assert_eq!(
            stack(&pkt),
            [("sll", 0, 16), ("ipv4", 16, 20), ("udp", 36, 8)]
        );
        assert_eq!(pkt.link.src_mac, Some(MAC_A));

        // SLL2: protocol IPv6, reserved, ifindex 2, ARPHRD_ETHER, packet type 0, addr len 6.
        let mut p = vec![
            0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0,
        ];
        p.extend(ipv6(20, 6));
        p.extend(tcp(1, 0x10));
        let pkt = d.decode(&frame(276, &p));
        assert_eq!(
            stack(&pkt),
            [("sll2", 0, 20), ("ipv6", 20, 40), ("tcp", 60, 20)]
        );
        assert_eq!(pkt.link.ether_type, Some(0x86dd));
        assert_eq!(pkt.link.src_mac, Some(MAC_A));
        assert!(pkt.tcp().unwrap().flags.ack());

        let pkt = d.decode(&frame_at(276, &p[..12], 0, 80));
        assert_eq!(stack(&pkt), [("sll2", 0, 12)]);
        assert_eq!(
            pkt.issue.unwrap().to_string(),
            "sll2 header needs 20 bytes, 12 captured (cut by the snaplen)"
        );
    }

    #[test]
    fn null_loopback_both_byte_orders() {
        let mut d = Decoder::new();
        // Link type 0, little-endian writer, AF_INET.
        let mut p = vec![2, 0, 0, 0];
        p.extend(ipv4(28, 1, 0, 17));
        p.extend(udp(8));
        let pkt = d.decode(&frame(0, &p));
        assert_eq!(
            stack(&pkt),
            [("null", 0, 4), ("ipv4", 4, 20), ("udp", 24, 8)]
        );
        // Link type 0, big-endian writer, AF_INET6 (macOS 30).
        let mut p = vec![0, 0, 0, 30];
        p.extend(ipv6(8, 17));
        p.extend(udp(8));
        let pkt = d.decode(&frame(0, &p));
        assert_eq!(
            stack(&pkt),
            [("null", 0, 4), ("ipv6", 4, 40), ("udp", 44, 8)]
        );
        // Link type 108: network byte order, AF_INET6 (OpenBSD 24).
        p[..4].copy_from_slice(&[0, 0, 0, 24]);
        let pkt = d.decode(&frame(108, &p));
        assert_eq!(pkt.layers.len(), 3);
        assert_eq!(pkt.link.ether_type, Some(0x86dd));
    }

    #[test]
    fn raw_ip_link_types() {
        let mut v4 = ipv4(28, 1, 0, 17);
        v4.extend(udp(8));
        let mut v6 = ipv6(8, 17);
        v6.extend(udp(8));
        let mut d = Decoder::new();
        for lt in [12, 14, 101, 228] {
            let pkt = d.decode(&frame(lt, &v4));
            assert_eq!(stack(&pkt), [("ipv4", 0, 20), ("udp", 20, 8)], "{lt}");
        }
        for lt in [12, 14, 101, 229] {
            let pkt = d.decode(&frame(lt, &v6));
            assert_eq!(stack(&pkt), [("ipv6", 0, 40), ("udp", 40, 8)], "{lt}");
        }
        // IPv4 bytes under the IPv6-only link type (tcpdump's LINKTYPE_IPV6_invalid).
        let pkt = d.decode(&frame(229, &v4));
        assert!(pkt.layers.is_empty());
        let issue = pkt.issue.unwrap();
        assert_eq!(issue.layer, "ipv6");
        assert!(matches!(issue.kind, IssueKind::Malformed(_)));
        // Version 5 on a raw link.
        let mut bad = v4.clone();
        bad[0] = 0x55;
        let pkt = d.decode(&frame(101, &bad));
        assert_eq!(
            pkt.issue.unwrap().kind,
            IssueKind::Malformed("IP version 5 is neither 4 nor 6".into())
        );
    }

    #[test]
    fn unsupported_link_type_is_kept_with_an_issue() {
        let mut d = Decoder::new();
        // LINKTYPE_USER0 (147): private to whoever wrote the file.
        let pkt = d.decode(&frame(147, &[0x80, 0, 0, 0, 1, 2, 3]));
        assert!(pkt.layers.is_empty());
        assert_eq!(
            pkt.issue.unwrap().kind,
            IssueKind::UnsupportedLink { link_type: 147 }
        );
        assert_eq!(d.stats().decode_issues, 1);
    }

    #[test]
    fn arp_request() {
        let mut p = eth(0x0806);
        p.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        p.extend_from_slice(&MAC_A);
        p.extend_from_slice(&[192, 168, 1, 1]);
        p.extend_from_slice(&[0; 6]);
        p.extend_from_slice(&[192, 168, 1, 2]);
        p.extend_from_slice(&[0; 18]); // Ethernet padding
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(stack(&pkt), [("eth", 0, 14), ("arp", 14, 28)]);
        let arp = pkt.arp.unwrap();
        assert_eq!(arp.operation, 1);
        assert_eq!(arp.sender_ip, Some("192.168.1.1".parse().unwrap()));
        assert_eq!(arp.target_ip, Some("192.168.1.2".parse().unwrap()));
        assert_eq!(arp.sender_mac, Some(MAC_A));
        assert!(pkt.net.is_none());
    }

    #[test]
    fn icmp_echo_and_error() {
        let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .icmpv4_echo_request(0x1234, 7);
        let mut p = Vec::new();
        b.write(&mut p, b"ping").unwrap();
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            stack(&pkt),
            [("eth", 0, 14), ("ipv4", 14, 20), ("icmp", 34, 8)]
        );
        assert_eq!(
            pkt.transport,
            Some(Transport::Icmpv4(IcmpInfo {
                icmp_type: 8,
                code: 0,
                echo: Some((0x1234, 7))
            }))
        );
        assert_eq!(pkt.payload, b"ping");

        // Port unreachable quoting an IPv4+UDP packet: the stack ends at icmp.
        let mut p = eth(0x0800);
        p.extend(ipv4(20 + 8 + 28, 2, 0, 1));
        p.extend_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
        p.extend(ipv4(28, 9, 0, 17));
        p.extend(udp(8));
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            stack(&pkt),
            [("eth", 0, 14), ("ipv4", 14, 20), ("icmp", 34, 8)]
        );
        assert!(pkt.udp().is_none());
    }

    #[test]
    fn icmpv6_echo_reply() {
        let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv6([1; 16], [2; 16], 64)
            .icmpv6_echo_reply(9, 300);
        let mut p = Vec::new();
        b.write(&mut p, &[]).unwrap();
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            stack(&pkt),
            [("eth", 0, 14), ("ipv6", 14, 40), ("icmpv6", 54, 8)]
        );
        assert_eq!(
            pkt.transport,
            Some(Transport::Icmpv6(IcmpInfo {
                icmp_type: 129,
                code: 0,
                echo: Some((9, 300))
            }))
        );
    }

    /// Fragment header: next header, offset in bytes, more, identification.
    fn frag6(next: u8, offset: u16, more: bool, id: u32) -> Vec<u8> {
        let mut v = vec![next, 0];
        v.extend_from_slice(&(offset | u16::from(more)).to_be_bytes());
        v.extend_from_slice(&id.to_be_bytes());
        v
    }

    #[test]
    fn ipv6_hop_by_hop_and_fragments_reassembled() {
        let mut d = Decoder::new();
        // Fragment 1: HBH (8) + fragment header + UDP header + 8 data bytes.
        let mut p1 = eth(0x86dd);
        p1.extend(ipv6(8 + 8 + 16, 0));
        p1.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]); // HBH: next = fragment, PadN
        p1.extend(frag6(17, 0, true, 0xabcd));
        p1.extend(udp(8 + 12));
        p1.extend_from_slice(b"01234567");
        let pkt = d.decode(&frame(1, &p1));
        assert_eq!(stack(&pkt), [("eth", 0, 14), ("ipv6", 14, 56)]);
        assert!(pkt.fragment_pending);
        assert!(pkt.transport.is_none());
        let net = pkt.net.clone().unwrap();
        assert_eq!(
            net.fragment,
            Some(FragmentInfo {
                offset: 0,
                more: true
            })
        );
        assert_eq!((net.ident, net.protocol), (0xabcd, 17));

        // Fragment 2: offset 16, last, 4 bytes.
        let mut p2 = eth(0x86dd);
        p2.extend(ipv6(8 + 4, 44));
        p2.extend(frag6(17, 16, false, 0xabcd));
        p2.extend_from_slice(b"89ab");
        let pkt = d.decode(&frame(1, &p2));
        assert!(pkt.reassembled);
        assert!(!pkt.fragment_pending);
        assert_eq!(
            stack(&pkt),
            [("eth", 0, 14), ("ipv6", 14, 48), ("udp", 0, 8)]
        );
        assert_eq!(pkt.udp().unwrap().length, 20);
        assert_eq!(pkt.payload, b"0123456789ab");
        let s = d.stats();
        assert_eq!((s.fragments, s.reassembled, s.fragments_evicted), (2, 1, 0));
    }

    #[test]
    fn ipv4_fragments_reassembled_into_tcp() {
        let mut d = Decoder::new();
        let mut p1 = eth(0x0800);
        p1.extend(ipv4(20 + 24, 77, 0x2000, 6)); // MF, offset 0
        p1.extend(tcp(42, 0x18));
        p1.extend_from_slice(b"abcd");
        let mut p2 = eth(0x0800);
        p2.extend(ipv4(20 + 6, 77, 3, 6)); // offset 3 × 8 = 24
        p2.extend_from_slice(b"efghij");
        let pkt = d.decode(&frame(1, &p1));
        assert!(pkt.fragment_pending);
        assert_eq!(stack(&pkt), [("eth", 0, 14), ("ipv4", 14, 20)]);
        let pkt = d.decode(&frame(1, &p2));
        assert_eq!(
            pkt.net.as_ref().unwrap().fragment,
            Some(FragmentInfo {
                offset: 24,
                more: false
            })
        );
        assert!(pkt.reassembled);
        assert_eq!(
            stack(&pkt),
            [("eth", 0, 14), ("ipv4", 14, 20), ("tcp", 0, 20)]
        );
        let t = pkt.tcp().unwrap();
        assert_eq!((t.seq, t.payload_len), (42, 10));
        assert_eq!(pkt.payload, b"abcdefghij");
    }

    #[test]
    fn atomic_ipv6_fragment_is_decoded_directly() {
        let mut p = eth(0x86dd);
        p.extend(ipv6(8 + 8, 44));
        p.extend(frag6(17, 0, false, 5));
        p.extend(udp(8));
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert!(!pkt.fragment_pending && !pkt.reassembled);
        assert_eq!(
            stack(&pkt),
            [("eth", 0, 14), ("ipv6", 14, 48), ("udp", 62, 8)]
        );
        assert_eq!(pkt.net.unwrap().fragment, None);
        assert_eq!(d.stats().fragments, 0);
    }

    fn first_fragment(id: u16) -> Vec<u8> {
        let mut p = eth(0x0800);
        p.extend(ipv4(28, id, 0x2000, 17));
        p.extend(udp(100));
        p
    }

    #[test]
    fn fragment_table_is_bounded_by_count_and_time() {
        let mut d = Decoder::with_limits(DecoderLimits {
            max_fragment_datagrams: 2,
            ..DecoderLimits::default()
        });
        for id in 1..=3 {
            let p = first_fragment(id);
            let pkt = d.decode(&frame(1, &p));
            assert!(pkt.fragment_pending);
        }
        assert_eq!(d.frags.len(), 2);
        assert_eq!(d.stats().fragments_evicted, 1);
        assert_eq!(d.stats().fragments_pending, 2);

        // Timeout: 31 s of capture time later, any packet sweeps the table.
        let p = eth_ipv4_tcp();
        d.decode(&frame_at(1, &p, 31, 54));
        assert_eq!(d.frags.len(), 0);
        assert_eq!(d.stats().fragments_evicted, 3);
        assert_eq!(d.stats().fragments_pending, 0);
        assert_eq!(d.stats().fragments, 3);
    }

    #[test]
    fn first_fragment_transport_read_alone_until_the_datagram_completes() {
        use crate::decode::{FirstFragment, FirstFragmentTcp};
        let mut d = Decoder::new();
        // IPv4 first fragment: TCP 1234 → 80, seq 42, PSH+ACK, then 4 data bytes.
        let mut p1 = eth(0x0800);
        p1.extend(ipv4(20 + 24, 77, 0x2000, 6));
        p1.extend(tcp(42, 0x18));
        p1.extend_from_slice(b"abcd");
        let pkt = d.decode(&frame(1, &p1));
        assert!(pkt.transport.is_none() && pkt.fragment_pending);
        assert_eq!(
            pkt.first_fragment,
            Some(FirstFragment {
                protocol: 6,
                src_port: 1234,
                dst_port: 80,
                tcp: Some(FirstFragmentTcp {
                    seq: 42,
                    ack: 0,
                    flags: 0x18
                }),
                len: 24,
            })
        );
        // The last fragment completes it: the transport is the datagram's, no first fragment.
        let mut p2 = eth(0x0800);
        p2.extend(ipv4(20 + 6, 77, 3, 6));
        p2.extend_from_slice(b"efghij");
        let pkt = d.decode(&frame(1, &p2));
        assert!(pkt.reassembled && pkt.first_fragment.is_none());
        assert_eq!(d.stats().first_fragments_given_up, 0);

        // A later fragment (offset 8) has no transport header of its own.
        let mut p3 = eth(0x0800);
        p3.extend(ipv4(20 + 8, 78, 0x2001, 17));
        p3.extend_from_slice(b"01234567");
        assert_eq!(d.decode(&frame(1, &p3)).first_fragment, None);
        // A last fragment that arrives first, then the first: the first completes it.
        let mut last = eth(0x0800);
        last.extend(ipv4(20 + 4, 79, 1, 17));
        last.extend_from_slice(b"wxyz");
        assert_eq!(d.decode(&frame(1, &last)).first_fragment, None);
        let mut first = eth(0x0800);
        first.extend(ipv4(20 + 8, 79, 0x2000, 17));
        first.extend(udp(12));
        let pkt = d.decode(&frame(1, &first));
        assert!(pkt.reassembled && pkt.first_fragment.is_none());
        assert_eq!(pkt.ports(), Some((12345, 53)));
    }

    #[test]
    fn first_fragments_given_up_are_counted() {
        let mut d = Decoder::with_limits(DecoderLimits {
            max_fragment_datagrams: 2,
            ..DecoderLimits::default()
        });
        // Three first fragments (UDP 12345 → 53): the cap evicts one, two stay pending.
        for id in 1..=3 {
            let p = first_fragment(id);
            let f = d.decode(&frame(1, &p)).first_fragment.unwrap();
            assert_eq!(
                (f.protocol, f.src_port, f.dst_port, f.len),
                (17, 12345, 53, 8)
            );
        }
        // A middle fragment of a fourth datagram: given up with no first fragment seen.
        let mut mid = eth(0x0800);
        mid.extend(ipv4(20 + 8, 9, 0x2001, 17));
        mid.extend_from_slice(b"01234567");
        d.decode(&frame(1, &mid));
        let s = d.stats();
        assert_eq!((s.fragments_evicted, s.fragments_pending), (2, 2));
        // Evicted: datagrams 1 and 2 (both after their first fragment); pending: 3 (first
        // fragment seen) and 9 (not).
        assert_eq!(s.first_fragments_given_up, 3);
        // The timeout gives up the rest.
        d.decode(&frame_at(1, &eth_ipv4_tcp(), 31, 54));
        let s = d.stats();
        assert_eq!((s.fragments_evicted, s.first_fragments_given_up), (4, 3));
    }

    #[test]
    fn fragment_table_is_bounded_by_bytes() {
        let mut d = Decoder::with_limits(DecoderLimits {
            max_fragment_bytes: 20,
            ..DecoderLimits::default()
        });
        d.decode(&frame(1, &first_fragment(1)));
        d.decode(&frame(1, &first_fragment(2)));
        // 8 + 8 bytes fit, the third datagram evicts the oldest.
        d.decode(&frame(1, &first_fragment(3)));
        assert_eq!(d.frags.len(), 2);
        assert_eq!(d.stats().fragments_evicted, 1);
    }

    #[test]
    fn bad_header_values_are_malformed() {
        let mut d = Decoder::new();
        let mut p = eth_ipv4_tcp();
        p[14] = 0x43; // IHL 3
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(stack(&pkt), [("eth", 0, 14)]);
        let i = pkt.issue.unwrap();
        assert_eq!((i.layer, i.offset), ("ipv4", 14));
        assert_eq!(i.to_string(), "ipv4: IHL 3 is below the minimum 5");

        let mut p = eth_ipv4_tcp();
        p[34 + 12] = 0x40; // data offset 4
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(stack(&pkt), [("eth", 0, 14), ("ipv4", 14, 20)]);
        let i = pkt.issue.unwrap();
        assert_eq!((i.layer, i.offset), ("tcp", 34));
        assert_eq!(
            i.kind,
            IssueKind::Malformed("data offset 4 is below the minimum 5".into())
        );

        // IPv4 total length 10 (below its own header): the header stays, no transport.
        let mut p = eth_ipv4_tcp();
        p[16..18].copy_from_slice(&10u16.to_be_bytes());
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(stack(&pkt), [("eth", 0, 14), ("ipv4", 14, 20)]);
        assert_eq!(pkt.issue.unwrap().layer, "ipv4");
    }

    #[test]
    fn ipv4_total_length_zero_is_taken_as_offload() {
        let mut p = eth_ipv4_tcp();
        p[16..18].copy_from_slice(&[0, 0]);
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(pkt.layers.len(), 3);
        assert!(pkt.issue.is_none());
    }

    #[test]
    fn mpls_label_stack_is_one_layer() {
        let mut p = eth(0x8847);
        p.extend_from_slice(&[0, 0, 0x80, 64, 0, 0, 0x81, 64]); // two labels, S on the second
        p.extend(ipv4(28, 1, 0, 17));
        p.extend(udp(8));
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(1, &p));
        assert_eq!(
            stack(&pkt),
            [
                ("eth", 0, 14),
                ("mpls", 14, 8),
                ("ipv4", 22, 20),
                ("udp", 42, 8)
            ]
        );
    }

    #[test]
    fn fcs_said_by_the_file_header_is_not_payload() {
        // Ethernet, IPv4 with total length 0 (offload: the length comes from the frame),
        // TCP with 6 data bytes, then a 4-byte FCS.
        let mut p = eth(0x0800);
        p.extend(ipv4(0, 1, 0x4000, 6));
        p.extend(tcp(1000, 0x18));
        p.extend_from_slice(b"hello\n");
        p.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let mut d = Decoder::new();
        // pcap network 0x24000001: F bit, FCS len 2 × 16 bits.
        let with = d.decode(&frame(0x2400_0001, &p));
        assert_eq!(with.tcp().unwrap().payload_len, 6);
        assert_eq!(with.payload, b"hello\n");
        assert_eq!(with.fcs_len, 4);
        // Without the header's word the 4 bytes are data, as tshark reads them then.
        let without = d.decode(&frame(1, &p));
        assert_eq!(
            (without.tcp().unwrap().payload_len, without.fcs_len),
            (10, 0)
        );
        // A frame the snaplen cut has no FCS captured.
        let mut cut = frame(0x2400_0001, &p);
        cut.orig_len += 1;
        assert_eq!(d.decode(&cut).fcs_len, 0);
        assert_eq!(d.stats().fcs_stripped, 1);
    }

    #[test]
    fn pcap_fcs_bits_in_the_link_type_are_ignored() {
        let p = eth_ipv4_tcp();
        let mut d = Decoder::new();
        let pkt = d.decode(&frame(0x3000_0001, &p));
        assert_eq!(pkt.layers.len(), 3);
    }

    #[test]
    fn random_and_mutated_frames_do_not_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let seeds = [eth_ipv4_tcp(), first_fragment(9)];
        let mut d = Decoder::with_limits(DecoderLimits {
            max_fragment_datagrams: 4,
            max_fragment_bytes: 256,
            ..DecoderLimits::default()
        });
        for i in 0..20_000u32 {
            let mut buf = if i % 2 == 0 {
                (0..next() % 120).map(|_| next() as u8).collect::<Vec<u8>>()
            } else {
                seeds[(i as usize / 2) % 2].clone()
            };
            for _ in 0..next() % 4 {
                if !buf.is_empty() {
                    let at = (next() as usize) % buf.len();
                    buf[at] = next() as u8;
                }
            }
            let link = [0, 1, 12, 101, 108, 113, 228, 229, 276, 147][i as usize % 10];
            let pkt = d.decode(&frame_at(link, &buf, i64::from(i / 100), 200));
            for l in &pkt.layers {
                assert!(l.len > 0 || pkt.reassembled, "{:?}", pkt.layers);
            }
        }
    }

    /// Decodes `frame` with the fast path on and off; panics with both when they differ.
    fn assert_same_both_ways(fast: &mut Decoder, slow: &mut Decoder, f: &RawFrame<'_>, what: &str) {
        let a = fast.decode(f);
        let b = slow.decode(f);
        let (da, db) = (format!("{a:?}"), format!("{b:?}"));
        assert_eq!(da, db, "{what}: fast path differs from etherparse");
        if !a.reassembled {
            assert_eq!(a.payload.as_ptr(), b.payload.as_ptr(), "{what}: payload");
        }
    }

    fn compare_capture_dir(dir: &std::path::Path) -> (usize, u64) {
        use crate::capture::{FileSource, FrameSource};
        let mut files = 0;
        let mut frames = 0;
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.to_string_lossy();
                n.ends_with(".pcap") || n.ends_with(".pcapng")
            })
            .collect();
        paths.sort();
        for path in paths {
            let Ok(mut src) = FileSource::open(&path) else {
                continue;
            };
            files += 1;
            let mut fast = Decoder::new();
            let mut slow = Decoder::new();
            slow.set_fast_path(false);
            loop {
                match src.next_frame() {
                    Ok(Some(f)) => {
                        frames += 1;
                        let what = format!("{} frame {}", path.display(), f.number);
                        assert_same_both_ways(&mut fast, &mut slow, &f, &what);
                    }
                    Ok(None) => break,
                    Err(e) if e.is_fatal() => break,
                    Err(_) => {}
                }
            }
            assert_eq!(fast.stats(), slow.stats(), "{}", path.display());
        }
        (files, frames)
    }

    #[test]
    fn fast_path_matches_etherparse_on_every_capture() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (files, frames) = compare_capture_dir(&root.join("captures"));
        assert!(files >= 5 && frames > 100, "{files} files, {frames} frames");
        if let Some(shared) = crate::shared_captures_dir() {
            let (files, frames) = compare_capture_dir(&shared);
            assert!(
                files >= 50 && frames > 1000,
                "{files} files, {frames} frames"
            );
        }
    }

    #[test]
    fn fast_path_matches_etherparse_on_mutated_frames() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut udp6 = eth(0x86dd);
        udp6.extend(ipv6(12, 17));
        udp6.extend(udp(12));
        udp6.extend([1, 2, 3, 4]);
        let mut udp4 = eth(0x0800);
        udp4.extend(ipv4(32, 7, 0, 17));
        udp4.extend(udp(12));
        udp4.extend([1, 2, 3, 4]);
        let seeds = [eth_ipv4_tcp(), udp6, udp4, first_fragment(3)];
        let mut fast = Decoder::new();
        let mut slow = Decoder::new();
        slow.set_fast_path(false);
        for i in 0..40_000u32 {
            let mut buf = seeds[i as usize % seeds.len()].clone();
            for _ in 0..next() % 3 {
                let at = (next() as usize) % buf.len();
                // Mostly the header bytes that steer the decoder.
                buf[at] = [0, 1, 4, 5, 6, 0x11, 0x45, 0x60, 0xff][next() as usize % 9];
            }
            let cut = (next() as usize) % (buf.len() + 8);
            let data = &buf[..cut.min(buf.len())];
            let orig = if i % 3 == 0 { buf.len() } else { data.len() };
            let link = [1, 1, 1, 101, 0][i as usize % 5];
            let f = frame_at(link, data, i64::from(i / 100), orig);
            assert_same_both_ways(&mut fast, &mut slow, &f, &format!("{data:02x?}"));
        }
    }

    /// Ethernet → IPv4 (IHL 5, `frag` field, `total` length) → TCP header with `options`,
    /// then `payload`.
    fn eth_ipv4_tcp_frame(
        frag: u16,
        total: Option<u16>,
        options: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        let tcp_len = 20 + options.len();
        let total = total.unwrap_or((20 + tcp_len + payload.len()) as u16);
        let mut p = eth(0x0800);
        p.extend(ipv4(total, 0x1234, frag, 6));
        p[14 + 8] = 57; // ttl
        let mut t = tcp(0x0102_0304, 0x18);
        t[8..12].copy_from_slice(&0x0a0b_0c0du32.to_be_bytes());
        t[12] = ((tcp_len / 4) as u8) << 4 | 1; // NS set: the flag's ninth bit is read
        t.extend_from_slice(options);
        p.extend(t);
        p.extend_from_slice(payload);
        p
    }

    /// `fast_eth_ipv4_tcp` on `data` against the etherparse path (and the whole decoder with its
    /// fast paths): equal when it takes the frame, `out` untouched when it does not.
    /// Returns whether it took the frame.
    fn check_fast_eth_ipv4_tcp(data: &[u8], orig_len: usize, what: &str) -> bool {
        let f = frame_at(1, data, 0, orig_len);
        let mut out = DecodedPacket::empty();
        let took = fast_eth_ipv4_tcp(data, orig_len as u32, &mut out);
        let mut slow = Decoder::new();
        slow.set_fast_path(false);
        if took {
            let general = slow.decode(&f);
            assert_eq!(format!("{out:?}"), format!("{general:?}"), "{what}");
            assert_eq!(out.payload.as_ptr(), general.payload.as_ptr(), "{what}");
        } else {
            let empty = DecodedPacket::empty();
            assert_eq!(
                format!("{out:?}"),
                format!("{empty:?}"),
                "{what}: out touched"
            );
        }
        let mut fast = Decoder::new();
        assert_same_both_ways(&mut fast, &mut slow, &f, what);
        took
    }

    #[test]
    fn fast_eth_ipv4_tcp_matches_the_general_path() {
        let linux_syn = [
            2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let nop_nop_ts = [1, 1, 8, 10, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe];
        let sack = [1, 1, 5, 10, 0, 0, 0, 10, 0, 0, 0, 20];
        let body = b"GET / HTTP/1.0\r\n\r\n";
        // (what, frame, taken by the fast path when whole)
        let cases: Vec<(&str, Vec<u8>, bool)> = vec![
            (
                "syn",
                eth_ipv4_tcp_frame(0x4000, None, &linux_syn, &[]),
                true,
            ),
            (
                "ts",
                eth_ipv4_tcp_frame(0x4000, None, &nop_nop_ts, body),
                true,
            ),
            ("sack", eth_ipv4_tcp_frame(0, None, &sack, body), true),
            ("bare", eth_ipv4_tcp_frame(0, None, &[], body), true),
            (
                "odd",
                eth_ipv4_tcp_frame(0, None, &[1, 1, 1, 0], body),
                true,
            ),
            ("long ip", eth_ipv4_tcp_frame(0, Some(200), &[], body), true),
            ("short ip", eth_ipv4_tcp_frame(0, Some(44), &[], body), true),
            (
                "ip ends in tcp",
                eth_ipv4_tcp_frame(0, Some(50), &nop_nop_ts, &[]),
                false,
            ),
            (
                "ip below header",
                eth_ipv4_tcp_frame(0, Some(12), &[], body),
                false,
            ),
            ("offload", eth_ipv4_tcp_frame(0, Some(0), &[], body), false),
            (
                "more fragments",
                eth_ipv4_tcp_frame(0x2000, None, &[], body),
                false,
            ),
            (
                "fragment offset",
                eth_ipv4_tcp_frame(0x0001, None, &[], body),
                false,
            ),
            (
                "evil bit",
                eth_ipv4_tcp_frame(0x8000, None, &[], body),
                true,
            ),
        ];
        let mut vlan = eth(0x8100);
        vlan.extend_from_slice(&[0x00, 0x2a, 0x08, 0x00]);
        vlan.extend_from_slice(&eth_ipv4_tcp_frame(0, None, &nop_nop_ts, body)[14..]);
        let mut ihl6 = eth_ipv4_tcp_frame(0, None, &[], body);
        ihl6[14] = 0x46;
        ihl6.splice(34..34, [1, 1, 1, 0]);
        ihl6[17] += 4;
        let mut data_offset_4 = eth_ipv4_tcp_frame(0, None, &[], body);
        data_offset_4[46] = 0x41;
        let mut data_offset_15 = eth_ipv4_tcp_frame(0, None, &[], body);
        data_offset_15[46] = 0xf0;
        let mut udp4 = eth(0x0800);
        udp4.extend(ipv4(28 + 4, 7, 0, 17));
        udp4.extend(udp(12));
        udp4.extend([1, 2, 3, 4]);
        let mut v6 = eth(0x86dd);
        v6.extend(ipv6(20, 6));
        v6.extend(tcp(5, 0x10));
        let mut v4_as_v6 = eth_ipv4_tcp_frame(0, None, &[], body);
        v4_as_v6[12..14].copy_from_slice(&[0x86, 0xdd]);
        let mut cases = cases;
        cases.extend([
            ("vlan", vlan, false),
            ("ihl 6", ihl6, false),
            ("data offset 4", data_offset_4, false),
            ("data offset 15", data_offset_15, false),
            ("udp", udp4, false),
            ("ipv6", v6, false),
            ("ipv4 under the ipv6 ether type", v4_as_v6, false),
        ]);
        for (what, p, whole) in &cases {
            assert_eq!(check_fast_eth_ipv4_tcp(p, p.len(), what), *whole, "{what}");
            // Cut at every length: by the snaplen (the wire had it all) or on the wire.
            for cut in 0..p.len() {
                for orig in [cut, p.len(), p.len() + 100] {
                    let what = format!("{what} cut at {cut} of {orig}");
                    check_fast_eth_ipv4_tcp(&p[..cut], orig, &what);
                }
            }
            // Every byte of the headers set to values that steer the decoder.
            for at in 0..p.len().min(80) {
                for v in [
                    0,
                    1,
                    4,
                    5,
                    6,
                    8,
                    0x11,
                    0x20,
                    0x45,
                    0x50,
                    0x60,
                    0xff,
                    p[at] ^ 1,
                ] {
                    let mut m = p.clone();
                    m[at] = v;
                    check_fast_eth_ipv4_tcp(&m, m.len(), &format!("{what} [{at}] = {v:#x}"));
                }
            }
        }
        // The values themselves, worked by hand for the SYN.
        let syn = &cases[0].1;
        let mut out = DecodedPacket::empty();
        assert!(fast_eth_ipv4_tcp(syn, syn.len() as u32, &mut out));
        assert_eq!(
            stack(&out),
            [("eth", 0, 14), ("ipv4", 14, 20), ("tcp", 34, 40)]
        );
        let net = out.net.as_ref().unwrap();
        assert_eq!((net.ttl, net.ident, net.total_len), (57, 0x1234, 60));
        let t = out.tcp().unwrap();
        assert_eq!((t.seq, t.ack, t.flags.0), (0x0102_0304, 0x0a0b_0c0d, 0x118));
        assert_eq!(
            (t.options.mss, t.options.window_scale),
            (Some(1460), Some(7))
        );
        assert_eq!(t.options.timestamps, Some((9, 0)));
        assert_eq!((t.payload_len, out.payload_offset), (0, 74));
    }

    #[test]
    fn fast_path_with_fragments_pending_sweeps_first() {
        let ack = eth_ipv4_tcp_frame(0x4000, None, &[], b"x");
        let mut fast = Decoder::with_limits(DecoderLimits {
            fragment_timeout_ns: 1_000_000_000,
            ..DecoderLimits::default()
        });
        let mut slow = Decoder::with_limits(fast.limits().clone());
        slow.set_fast_path(false);
        let frag = first_fragment(5);
        // (time, frame, fragments pending after it)
        let steps = [
            (0, &frag, 1),
            (0, &ack, 1),
            (5, &ack, 0),
            (5, &frag, 1),
            (5, &ack, 1),
            (7, &ack, 0),
        ];
        for (secs, data, pending) in steps {
            let f = frame_at(1, data, secs, data.len());
            assert_same_both_ways(&mut fast, &mut slow, &f, &format!("{secs} s"));
            assert_eq!(fast.stats(), slow.stats(), "{secs} s");
            assert_eq!(fast.stats().fragments_pending, pending, "{secs} s");
            // The one-test gate of `decode_into` follows the table.
            assert_eq!(fast.straight, pending == 0, "{secs} s");
            assert!(!slow.straight, "{secs} s");
        }
        // The acks at 5 s and 7 s swept each fragment out after its 1 s.
        assert_eq!(fast.stats().fragments_evicted, 2);
        assert_eq!(fast.stats().fragments_pending, 0);
    }
}
