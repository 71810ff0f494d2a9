//! Teredo found by content on a UDP port that is not 3544 (`wire::teredo::detect_by_content`,
//! Zeek's `DetectProtocol` and length check): input `[sport_hi][sport_lo][payload…]`. The
//! payload is checked alone, then sent in an Ethernet/IPv4/UDP frame from that port to port
//! 40000 through `decode::Decoder` (the UDP fast path, then the tunnel walk): the frame has a
//! Teredo layer exactly when the payload was found to be Teredo, and then an IPv6 layer
//! right after it whose packet ends where the UDP datagram ends.
#![no_main]

use layerscope::capture::{LinkType, RawFrame, Timestamp};
use layerscope::decode::{Decoder, LayerName};
use layerscope::wire::teredo::detect_by_content;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [hi, lo, payload @ ..] = data else {
        return;
    };
    let mut sport = u16::from_be_bytes([*hi, *lo]);
    if layerscope::wire::udp::tunnel_of_port(sport).is_some() {
        sport = 40001;
    }
    let payload = &payload[..payload.len().min(1400)];
    let teredo = detect_by_content(payload);
    let udp_len = 8 + payload.len();
    let mut frame = vec![0u8; 12];
    frame.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + udp_len) as u16;
    frame.extend_from_slice(&[0x45, 0, 0, 0, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    frame[16..18].copy_from_slice(&total.to_be_bytes());
    frame.extend_from_slice(&sport.to_be_bytes());
    frame.extend_from_slice(&40000u16.to_be_bytes());
    frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(payload);
    let raw = RawFrame {
        number: 1,
        ts: Timestamp::from_secs(1),
        link: LinkType(1),
        interface: 0,
        file: 0,
        orig_len: frame.len() as u32,
        data: &frame,
    };
    let mut decoder = Decoder::new();
    let packet = decoder.decode(&raw);
    let at = packet.layers.iter().position(|l| l.name == LayerName::Teredo);
    assert_eq!(at.is_some(), teredo, "{:?}", packet.layers);
    if let Some(i) = at {
        let t = &packet.layers[i];
        let ip = packet.layers.get(i + 1).expect("a layer after Teredo");
        assert_eq!(ip.name, LayerName::Ipv6);
        assert_eq!(ip.offset as usize, t.offset as usize + t.len as usize);
        let plen = u16::from_be_bytes([frame[ip.offset as usize + 4], frame[ip.offset as usize + 5]]);
        let bubble = plen == 0 && frame[ip.offset as usize + 6] == 59;
        assert!(bubble || ip.offset as usize + 40 + usize::from(plen) == frame.len());
    }
});
