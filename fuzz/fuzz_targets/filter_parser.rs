//! The tcpdump-syntax filter: the input up to the first NUL byte is the expression; any
//! string either parses or gives an error whose caret line can be drawn. A parsed filter is
//! then evaluated against the rest of the input as an Ethernet, raw-IP, SLL, PPP and Cisco HDLC
//! frame (encapsulation keywords included: vlan, mpls, pppoes, geneve; its
//! byte-offset accesses must stay in bounds).
#![no_main]

use layerscope::capture::{LinkType, RawFrame, Timestamp};
use layerscope::decode::Decoder;
use layerscope::filter::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let Ok(expr) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let frame = data.get(split + 1..).unwrap_or(&[]);
    match Filter::parse(expr) {
        Ok(filter) => {
            let _ = filter.expression();
            let mut decoder = Decoder::new();
            // Ethernet, raw IP, Linux SLL, PPP, Cisco HDLC.
            for link in [
                LinkType::ETHERNET,
                LinkType::RAW,
                LinkType::LINUX_SLL,
                LinkType(9),
                LinkType(104),
            ] {
                let raw = RawFrame {
                    number: 1,
                    ts: Timestamp::default(),
                    link,
                    interface: 0,
                    file: 0,
                    orig_len: frame.len() as u32,
                    data: frame,
                };
                let packet = decoder.decode(&raw);
                let _ = filter.matches(&raw, &packet);
            }
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.caret(expr);
        }
    }
});
