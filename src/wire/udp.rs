//! UDP header (RFC 768), as far as the tunnel walk needs it, and which port opens which
//! tunnel.

use super::{be16, check_len, udp_port, Describe, Field, Raw, Truncated};

/// Where each field lies in the header (byte offsets and ranges).
pub mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

pub const HEADER_LEN: usize = 8;

#[derive(Clone, Copy, Debug)]
pub struct Udp<'a> {
    buf: &'a [u8],
}

/// A tunnel a UDP port announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpTunnel {
    Vxlan,
    Geneve,
    GtpU,
    Teredo,
    Ayiya,
    MplsOverUdp,
    GreOverUdp,
    EspInUdp,
}

impl UdpTunnel {
    /// The tunnel's name, as its port announces it.
    pub fn name(self) -> &'static str {
        match self {
            UdpTunnel::Vxlan => "VXLAN",
            UdpTunnel::Geneve => "Geneve",
            UdpTunnel::GtpU => "GTP-U",
            UdpTunnel::Teredo => "Teredo",
            UdpTunnel::Ayiya => "AYIYA",
            UdpTunnel::MplsOverUdp => "MPLS over UDP",
            UdpTunnel::GreOverUdp => "GRE over UDP",
            UdpTunnel::EspInUdp => "ESP in UDP (IPsec NAT traversal)",
        }
    }
}

impl<'a> Udp<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Truncated> {
        check_len(buf, HEADER_LEN)?;
        Ok(Udp { buf })
    }
    pub fn src_port(&self) -> u16 {
        be16(self.buf, field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, field::DST_PORT)
    }
    pub fn length(&self) -> u16 {
        be16(self.buf, field::LENGTH)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }
    /// The payload as the length field bounds it (as etherparse's lax UDP: the captured
    /// bytes when the field is below 8 or past them).
    pub fn payload(&self) -> &'a [u8] {
        let len = usize::from(self.length());
        let end = if len < HEADER_LEN || len > self.buf.len() {
            self.buf.len()
        } else {
            len
        };
        self.buf.get(HEADER_LEN..end).unwrap_or(&[])
    }
    /// The tunnel the destination port names, else the source port's (replies).
    pub fn tunnel(&self) -> Option<UdpTunnel> {
        tunnel_of_port(self.dst_port()).or_else(|| tunnel_of_port(self.src_port()))
    }
    /// [`Udp::tunnel`], else Teredo when the payload is Teredo by content (as Zeek finds
    /// it on any port: [`super::teredo::detect_by_content`]).
    pub fn tunnel_or_teredo(&self) -> Option<UdpTunnel> {
        self.tunnel().or_else(|| {
            super::teredo::detect_by_content(self.payload()).then_some(UdpTunnel::Teredo)
        })
    }
}

pub fn tunnel_of_port(port: u16) -> Option<UdpTunnel> {
    Some(match port {
        udp_port::VXLAN | udp_port::VXLAN_LINUX => UdpTunnel::Vxlan,
        udp_port::GENEVE => UdpTunnel::Geneve,
        udp_port::GTP_U => UdpTunnel::GtpU,
        udp_port::TEREDO => UdpTunnel::Teredo,
        udp_port::AYIYA => UdpTunnel::Ayiya,
        udp_port::MPLS_OVER_UDP => UdpTunnel::MplsOverUdp,
        udp_port::GRE_OVER_UDP => UdpTunnel::GreOverUdp,
        udp_port::IPSEC_NAT_T => UdpTunnel::EspInUdp,
        _ => return None,
    })
}

impl Describe for Udp<'_> {
    /// The ports' meaning is the tunnel a port announces (a connection's roles are the
    /// caller's to say).
    fn describe(&self, f: &mut dyn FnMut(Field)) {
        for (name, port, at) in [
            ("source port", self.src_port(), field::SRC_PORT),
            ("dest port", self.dst_port(), field::DST_PORT),
        ] {
            let role = tunnel_of_port(port).map(UdpTunnel::name).unwrap_or("");
            f(Field::shown(name, u64::from(port), Raw::Decimal, role).at(at));
        }
        let len = self.length();
        f(Field::shown(
            "length",
            u64::from(len),
            Raw::Decimal,
            format!(
                "8-byte header + {} bytes of data",
                len.saturating_sub(HEADER_LEN as u16)
            ),
        )
        .at(field::LENGTH));
        let c = self.checksum();
        f(Field::shown(
            "checksum",
            u64::from(c),
            Raw::Hex(4),
            if c == 0 {
                "none: optional in UDP over IPv4"
            } else {
                ""
            },
        )
        .at(field::CHECKSUM));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_tunnels() {
        let u = Udp::new_checked(&[0x9b, 0xf4, 0x12, 0xb5, 0, 10, 0, 0, 8, 0, 9]).unwrap();
        assert_eq!((u.src_port(), u.dst_port()), (39924, 4789));
        assert_eq!(u.tunnel(), Some(UdpTunnel::Vxlan));
        assert_eq!(u.payload(), &[8, 0]);
        let u = Udp::new_checked(&[0x08, 0x68, 0xc0, 0, 0, 8, 0, 0]).unwrap();
        assert_eq!(u.tunnel(), Some(UdpTunnel::GtpU));
        assert_eq!(tunnel_of_port(53), None);
        assert!(Udp::new_checked(&[0; 7]).is_err());
    }
}
