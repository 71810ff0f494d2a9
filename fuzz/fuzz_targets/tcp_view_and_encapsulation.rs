//! Two readers over arbitrary bytes, without the decoder in front (so each run is cheap):
//! - the TCP header view (`wire::tcp`: explain's field table, and the decoder's reading of a
//!   header the IP length cuts), built whole (`new_checked`) and fixed-part only
//!   (`new_fixed`), every accessor, every field described and written;
//! - `decode::Encapsulation::of` over a hostile layer list: the first byte says how many
//!   layers (up to 16), each 3 bytes (name index, offset, length) into the rest, so layers
//!   point anywhere, overlap, run past the frame or repeat (VLAN runs past 4 ids, MPLS
//!   stacks of any length, tunnels in tunnels past 8).
#![no_main]

use layerscope::decode::{DecodedPacket, Encapsulation, Layer, LayerName};
use layerscope::wire::{tcp::Tcp, Describe, Field};
use libfuzzer_sys::fuzz_target;

const NAMES: [LayerName; 16] = [
    LayerName::Eth,
    LayerName::Vlan,
    LayerName::Mpls,
    LayerName::Pppoes,
    LayerName::Ppp,
    LayerName::Ipv4,
    LayerName::Ipv6,
    LayerName::Udp,
    LayerName::Tcp,
    LayerName::Gre,
    LayerName::Erspan,
    LayerName::Vxlan,
    LayerName::Geneve,
    LayerName::Gtp,
    LayerName::Teredo,
    LayerName::Ayiya,
];

fn fields(h: &Tcp<'_>) -> u64 {
    let mut n = 0u64;
    h.describe(&mut |f: Field| {
        n = n
            .wrapping_add(f.value)
            .wrapping_add(f.meaning.len() as u64)
            .wrapping_add(f.raw_text().len() as u64)
    });
    n
}

fuzz_target!(|data: &[u8]| {
    let mut sink = 0u64;
    if let Ok(h) = Tcp::new_checked(data) {
        assert!(h.header_len() >= 20 && h.header_len() <= data.len());
        assert_eq!(h.options().len(), h.header_len() - 20);
        sink ^= fields(&h);
    }
    if let Ok(h) = Tcp::new_fixed(data) {
        assert!(h.options().len() <= data.len() - 20);
        sink ^= u64::from(h.src_port()) ^ u64::from(h.seq()) ^ u64::from(h.flags());
        sink ^= u64::from(h.window()) ^ u64::from(h.checksum()) ^ u64::from(h.urgent());
        sink ^= h.options().len() as u64 ^ u64::from(h.ack()) ^ u64::from(h.dst_port());
    }

    let [count, rest @ ..] = data else {
        return;
    };
    let count = usize::from(count % 17);
    let (table, frame) = rest.split_at((count * 3).min(rest.len()));
    let mut packet = DecodedPacket::empty();
    for entry in table.chunks_exact(3) {
        let _ = packet.layers.try_push(Layer {
            name: NAMES[usize::from(entry[0]) % NAMES.len()],
            offset: u32::from(entry[1]) * 2,
            len: u32::from(entry[2]),
        });
    }
    if let Some(e) = Encapsulation::of(frame, &packet) {
        assert!(!e.hops.is_empty());
        sink ^= e.to_string().len() as u64;
        for hop in &e.hops {
            sink ^= hop.kind.purpose().len() as u64;
        }
    }
    std::hint::black_box(sink);
});
