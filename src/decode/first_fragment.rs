//! The transport header of a datagram's first fragment, read from that fragment alone.
//!
//! With reassembly on, tshark shows the first fragment (offset 0) of a datagram as IP and
//! "data" and dissects the transport at the fragment that completes the datagram; when the
//! datagram never completes, its ports are never shown. With reassembly off it dissects the
//! first fragment on its own. layerscope does both: the layers, connections and analysis
//! follow tshark's default (the datagram counts once, where it completes), and the first
//! fragment's own header is read here at arrival, into [`FirstFragment`], so that a datagram
//! that is given up (timeout, caps, a bad fragment, end of capture) still shows who sent it
//! to which port. Nothing is held: the packet is emitted in order, marked "not reassembled
//! yet", and the decoder counts the datagrams given up after their first fragment was read
//! (`first_fragments_given_up`).

use crate::wire::ip_number::IpNumber;
use crate::wire::{sctp::Sctp, tcp::Tcp, udp::Udp};

/// The transport header found in the first fragment of a datagram that did not complete with
/// this frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstFragment {
    /// IP protocol number (6 TCP, 17 UDP, 132 SCTP).
    pub protocol: u8,
    pub src_port: u16,
    pub dst_port: u16,
    /// TCP only: the fixed header's numbers and flags.
    pub tcp: Option<FirstFragmentTcp>,
    /// Bytes of the datagram's payload in this fragment (the transport header included).
    pub len: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FirstFragmentTcp {
    pub seq: u32,
    pub ack: u32,
    /// The nine flag bits.
    pub flags: u16,
}

impl FirstFragment {
    /// tshark's short protocol name.
    pub fn protocol_name(&self) -> &'static str {
        match IpNumber(self.protocol) {
            IpNumber::TCP => "tcp",
            IpNumber::UDP => "udp",
            _ => "sctp",
        }
    }
}

/// Reads the transport header at the start of a first fragment's payload: TCP's fixed 20
/// bytes (its options may lie in the next fragment), UDP's 8, SCTP's common 12. `None` for
/// other protocols or a fragment too short for the header.
pub(super) fn read(protocol: IpNumber, bytes: &[u8]) -> Option<FirstFragment> {
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    let (src_port, dst_port, tcp) = match protocol {
        IpNumber::TCP => {
            let t = Tcp::new_fixed(bytes).ok()?;
            let numbers = FirstFragmentTcp {
                seq: t.seq(),
                ack: t.ack(),
                flags: t.flags(),
            };
            (t.src_port(), t.dst_port(), Some(numbers))
        }
        IpNumber::UDP => {
            let u = Udp::new_checked(bytes).ok()?;
            (u.src_port(), u.dst_port(), None)
        }
        IpNumber::SCTP => {
            let s = Sctp::new_checked(bytes).ok()?;
            (s.src_port(), s.dst_port(), None)
        }
        _ => return None,
    };
    Some(FirstFragment {
        protocol: protocol.0,
        src_port,
        dst_port,
        tcp,
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn udp_ports_from_eight_bytes() {
        // UDP 53001 → 53, length 128, checksum 0x1234, then 4 bytes of a DNS header.
        let b = [
            0xcf, 0x09, 0x00, 0x35, 0x00, 0x80, 0x12, 0x34, 0x12, 0x34, 0x01, 0x00,
        ];
        let f = read(IpNumber::UDP, &b).unwrap();
        assert_eq!(
            (f.protocol_name(), f.src_port, f.dst_port, f.tcp, f.len),
            ("udp", 53001, 53, None, 12)
        );
        assert_eq!(read(IpNumber::UDP, &b[..7]), None);
    }

    #[test]
    fn tcp_fixed_header_without_its_options() {
        // 40000 → 80, seq 1000, ack 2000, data offset 8 (12 bytes of options, not here),
        // PSH+ACK.
        let mut b = vec![0x9c, 0x40, 0x00, 0x50, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0];
        b.extend_from_slice(&[0x80, 0x18, 0x01, 0xf6, 0, 0, 0, 0]);
        let f = read(IpNumber::TCP, &b).unwrap();
        assert_eq!((f.src_port, f.dst_port), (40000, 80));
        assert_eq!(
            f.tcp,
            Some(FirstFragmentTcp {
                seq: 1000,
                ack: 2000,
                flags: 0x18
            })
        );
        assert_eq!(read(IpNumber::TCP, &b[..19]), None);
    }

    #[test]
    fn sctp_common_header_and_other_protocols() {
        let b = [0x0b, 0x59, 0x0b, 0x59, 0, 0, 0, 1, 0, 0, 0, 0];
        let f = read(IpNumber::SCTP, &b).unwrap();
        assert_eq!(
            (f.protocol_name(), f.src_port, f.dst_port),
            ("sctp", 2905, 2905)
        );
        assert_eq!(read(IpNumber::ICMP, &b), None);
        assert_eq!(read(IpNumber::IPV6_DEST_OPTIONS, &b), None);
    }
}
