//! Every wire header view and the tunnel walk. Byte 0 picks a link type from those the walk
//! starts (Ethernet, PPP, Cisco HDLC, 802.11 with radiotap / PPI / Prism / AVS, NFLOG, IPoIB,
//! raw IP, SLL …, Ethernet and 802.11 with an FCS the file header announces); the rest is one
//! frame, decoded twice with one decoder. Every view is also
//! built over the frame bytes directly and asked for its length, next header and fields, and
//! each decoded frame for what it travelled in (`decode::Encapsulation`).
#![no_main]

use layerscope::capture::{LinkType, RawFrame, Timestamp};
use layerscope::decode::Decoder;
use layerscope::wire::{self, Describe, Field};
use libfuzzer_sys::fuzz_target;

/// The last two: Ethernet and 802.11 with the pcap header's FCS bits (F bit, FCS length 2
/// and 1 words: a 4- and a 2-byte FCS stripped before decoding).
const LINKS: [u32; 19] = [
    1, 0, 9, 50, 101, 104, 105, 108, 113, 119, 127, 163, 192, 228, 229, 239, 242, 0x2400_0001,
    0x1400_0069,
];

fn fields(d: &dyn Describe) -> u64 {
    let mut n = 0u64;
    d.describe(&mut |f: Field| {
        n = n
            .wrapping_add(f.value)
            .wrapping_add(f.meaning.len() as u64)
            .wrapping_add(f.raw_text().len() as u64)
    });
    n
}

fn views(b: &[u8]) {
    let mut sink = 0u64;
    if let Ok(h) = wire::ethernet::Ethernet::new_checked(b) {
        sink ^= fields(&h);
        let _ = h.next();
    }
    if let Ok(h) = wire::vlan::VlanTag::new_checked(b) {
        sink ^= fields(&h);
    }
    if let Ok(h) = wire::mpls::MplsEntry::new_checked(b) {
        sink ^= fields(&h);
    }
    let _ = wire::mpls::payload_after_stack(b);
    if let Ok(h) = wire::pppoe::Pppoe::new_checked(b) {
        sink ^= fields(&h);
    }
    if let Ok(h) = wire::ppp::Ppp::new_checked(b) {
        sink ^= fields(&h);
        assert!(h.header_len() <= b.len());
    }
    if let Ok(h) = wire::chdlc::Chdlc::new_checked(b) {
        sink ^= fields(&h);
    }
    if let Ok(h) = wire::gre::Gre::new_checked(b) {
        sink ^= fields(&h);
        assert!(h.header_len() <= b.len());
        assert!(h.source_routes() <= wire::gre::MAX_SOURCE_ROUTES);
    }
    for iii in [false, true] {
        if let Ok(h) = wire::erspan::Erspan::new_checked(b, iii) {
            sink ^= fields(&h);
            assert!(h.header_len() <= b.len());
        }
    }
    if let Ok(h) = wire::vxlan::Vxlan::new_checked(b) {
        sink ^= fields(&h);
        let _ = (h.is_well_formed(), h.next());
    }
    if let Ok(h) = wire::geneve::Geneve::new_checked(b) {
        sink ^= fields(&h);
        assert!(h.header_len() <= b.len());
    }
    if let Ok(h) = wire::gtpu::GtpU::new_checked(b) {
        sink ^= fields(&h);
        assert!(h.header_len() <= b.len());
    }
    if let Ok(h) = wire::teredo::Teredo::new_checked(b) {
        sink ^= fields(&h);
        assert!(h.header_len() < b.len());
    }
    if let Ok(h) = wire::ayiya::Ayiya::new_checked(b) {
        sink ^= fields(&h);
        assert!(h.header_len() <= b.len());
    }
    if let Ok(h) = wire::ieee80211::Ieee80211::new_checked(b) {
        sink ^= fields(&h);
        assert!(h.header_len() <= b.len());
    }
    if let Ok(h) = wire::llc::Llc::new_checked(b) {
        sink ^= fields(&h);
    }
    if let Ok(h) = wire::radiotap::Radiotap::new_checked(b) {
        sink ^= fields(&h);
        let _ = h.has_fcs();
        assert!(h.header_len() <= b.len());
    }
    if let Ok(h) = wire::ppi::Ppi::new_checked(b) {
        sink ^= fields(&h);
        let _ = h.has_fcs();
        assert!(h.header_len() <= b.len());
    }
    for version in [wire::sll::Version::V1, wire::sll::Version::V2] {
        if let Ok(h) = wire::sll::Sll::new_checked(b, version) {
            sink ^= fields(&h);
            let _ = (h.source_mac(), h.interface(), h.next());
        }
    }
    if let Ok(h) = wire::dns::DnsHeader::new_checked(b) {
        sink ^= fields(&h);
    }
    if let Ok(h) = wire::arp::Arp::new_checked(b) {
        let _ = (h.operation(), h.sender_ip(), h.target_ip());
        sink ^= fields(&h);
    }
    for v6 in [false, true] {
        if let Ok(h) = wire::icmp::Icmp::new_checked(b, v6) {
            let _ = (h.is_echo(), h.is_error(), h.type_name());
            sink ^= fields(&h);
        }
    }
    if let Ok(h) = wire::prism::RadioHeader::new_prism(b) {
        sink ^= fields(&h);
        assert!(h.header_len() <= b.len());
    }
    if let Ok(h) = wire::nflog::Nflog::new_checked(b) {
        sink ^= fields(&h);
        if let wire::nflog::NflogPayload::Found { offset, len } = h.payload() {
            assert!(offset + len <= b.len());
        }
    }
    if let Ok(h) = wire::ipoib::Ipoib::new_checked(b) {
        sink ^= fields(&h);
    }
    if let Ok(h) = wire::esp::Esp::new_checked(b) {
        sink ^= fields(&h);
    }
    if let Ok(h) = wire::sctp::Sctp::new_checked(b) {
        sink ^= fields(&h);
    }
    if let Ok(h) = wire::ipv4::Ipv4::new_checked(b) {
        sink ^= fields(&h);
        let _ = h.payload();
    }
    if let Ok(h) = wire::ipv6::Ipv6::new_checked(b) {
        sink ^= fields(&h);
        let _ = h.payload();
    }
    if let Ok(h) = wire::udp::Udp::new_checked(b) {
        sink ^= fields(&h);
        let _ = (h.payload(), h.tunnel());
    }
    if let Ok(h) = wire::tcp::Tcp::new_checked(b) {
        sink ^= fields(&h);
        let _ = (h.options(), h.checksum());
    }
    std::hint::black_box(sink);
}

fuzz_target!(|data: &[u8]| {
    let [pick, frame @ ..] = data else {
        return;
    };
    views(frame);
    let link = LinkType(LINKS[usize::from(*pick) % LINKS.len()]);
    let mut decoder = Decoder::new();
    for number in 1..=2u64 {
        let raw = RawFrame {
            number,
            ts: Timestamp {
                secs: number as i64,
                nanos: 0,
                precision: 6,
            },
            link,
            interface: 0,
            file: 0,
            orig_len: frame.len() as u32,
            data: frame,
        };
        let packet = decoder.decode(&raw);
        let mut end = 0u64;
        for layer in &packet.layers {
            let _ = layer.osi();
            end = end.max(u64::from(layer.offset));
        }
        if !packet.reassembled {
            assert!(end <= frame.len() as u64, "a layer starts past the frame");
        }
        assert!(packet.outer_flows.len() <= layerscope::decode::MAX_OUTER_FLOWS);
        assert!(usize::from(packet.fcs_len) <= frame.len());
        if let Some(f) = &packet.first_fragment {
            // A transport header read from a first fragment: never from past the frame.
            assert!(matches!(f.protocol, 6 | 17 | 132) && f.len as usize <= frame.len());
            assert!(packet.fragment_pending && packet.transport.is_none());
        }
        if let Some(issue) = &packet.issue {
            let _ = issue.to_string();
        }
        if let Some(e) = layerscope::decode::Encapsulation::of(frame, &packet) {
            assert!(!e.hops.is_empty());
            let _ = e.to_string();
            for hop in &e.hops {
                let _ = hop.kind.purpose();
            }
        }
    }
    let _ = decoder.stats();
});
