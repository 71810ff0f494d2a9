//! The wire layer: one borrowed view per protocol header, in the manner of smoltcp's
//! `src/wire/`. Each view checks its length once (`new_checked`), names its field ranges in
//! one place, and then has accessors that cannot panic. Each says what comes next
//! ([`Next`]) and describes its own fields ([`Field`]: name, raw value, meaning) for
//! `explain`. Protocol numbers are named constants ([`EtherType`], [`IpNumber`],
//! [`udp_port`]), never bare numbers.
//!
//! Written by hand: etherparse (kept for Ethernet, VLAN, ARP, IPv4/IPv6 and TCP/UDP/ICMP in
//! `decode`) has no PPPoE, PPP, MPLS payload, GRE, ERSPAN, VXLAN, Geneve, GTP-U, Teredo,
//! AYIYA, 802.11, radiotap, PPI, Prism/AVS, NFLOG, Cisco HDLC, IPoIB, ESP or SCTP header;
//! no maintained crate reads them as borrowed views with checked lengths (smoltcp has
//! none of these either, and pnet_packet's generated views panic on short input).

pub mod arp;
pub mod ayiya;
pub mod chdlc;
pub mod dns;
pub mod erspan;
pub mod esp;
pub mod ether_type;
pub mod ethernet;
pub mod geneve;
pub mod gre;
pub mod gtpu;
pub mod icmp;
pub mod ieee80211;
pub mod ip_number;
pub mod ipoib;
pub mod ipv4;
pub mod ipv6;
pub mod llc;
pub mod mpls;
pub mod nflog;
pub mod null;
pub mod ppi;
pub mod ppp;
pub mod pppoe;
pub mod prism;
pub mod radiotap;
pub mod sctp;
pub mod sll;
pub mod tcp;
pub mod teredo;
pub mod udp;
pub mod udp_port;
pub mod vlan;
pub mod vxlan;

pub use ether_type::EtherType;
pub use ip_number::IpNumber;

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;

/// A header needs more bytes than the buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated {
    /// Bytes the header needs (as far as could be told from what was there).
    pub needed: usize,
    /// Bytes there were.
    pub had: usize,
}

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "needs {} bytes, {} captured", self.needed, self.had)
    }
}

/// What follows a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// What an ether type names (also PPP and Cisco HDLC protocols mapped onto ether types).
    EtherType(EtherType),
    /// An Ethernet II frame (VXLAN, Geneve and GRE bridging, ERSPAN, MPLS pseudowires).
    Ethernet,
    /// IPv4 or IPv6, told by the first nibble (GTP-U, MPLS bottom of stack).
    IpByVersion,
    /// What an IP protocol number names (IP in IP, GRE over UDP, AYIYA).
    Ip(IpNumber),
    /// An IEEE 802.11 frame (after radiotap, PPI, Prism, AVS).
    Ieee80211,
    /// An 802.2 LLC header (802.11 data frames).
    Llc,
    /// A PPP frame (protocol field; PPTP's enhanced GRE).
    Ppp,
    /// Nothing this layer decodes: data, a control message, or encrypted bytes.
    Opaque,
}

/// One field of a header, for `explain`: its name, raw value, how the raw value reads, and
/// what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub value: u64,
    /// One line, or empty when the value says it all. Describing is for `explain` (never
    /// on the per-packet path): a meaning may be made for the field's value.
    pub meaning: Cow<'static, str>,
    pub raw: Raw,
    /// Where the field lies in its header: `(offset, len)` from the header's first byte
    /// (fields packed into the same byte(s) share them); `None` when not said.
    pub bytes: Option<(u16, u16)>,
}

/// How a field's raw value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raw {
    /// Hex when the name says it is a type or protocol code, else decimal (the tunnel and
    /// link headers' fields).
    Auto,
    Decimal,
    /// `0x` and this many hex digits.
    Hex(u8),
    /// A 32-bit-word count written as `N × 4`.
    Words,
    /// The value and a unit: `2 blocks`.
    Unit(&'static str),
    /// A label and the value: `kind 30`.
    Labelled(&'static str),
    Mac([u8; 6]),
    Ip(IpAddr),
    /// No raw value: a line that explains the field above it.
    None,
}

impl Field {
    pub const fn new(name: &'static str, value: u64, meaning: &'static str) -> Field {
        Field {
            name,
            value,
            meaning: Cow::Borrowed(meaning),
            raw: Raw::Auto,
            bytes: None,
        }
    }
    /// A field written as `raw` says, with a meaning made for its value.
    pub fn shown(
        name: &'static str,
        value: u64,
        raw: Raw,
        meaning: impl Into<Cow<'static, str>>,
    ) -> Field {
        Field {
            name,
            value,
            meaning: meaning.into(),
            raw,
            bytes: None,
        }
    }
    /// The field, placed at `range` of its header.
    pub fn at(mut self, range: Range<usize>) -> Field {
        let len = range.end.saturating_sub(range.start);
        self.bytes = Some((
            u16::try_from(range.start).unwrap_or(u16::MAX),
            u16::try_from(len).unwrap_or(u16::MAX),
        ));
        self
    }
    /// The field, placed at byte `at` of its header.
    pub fn at_byte(self, at: usize) -> Field {
        self.at(at..at + 1)
    }
    /// The raw value as `explain` writes it.
    pub fn raw_text(&self) -> String {
        match self.raw {
            Raw::Auto if self.name.contains("type") || self.name.contains("protocol") => {
                format!("0x{:04x}", self.value)
            }
            Raw::Auto | Raw::Decimal => self.value.to_string(),
            Raw::Hex(digits) => format!("0x{:0w$x}", self.value, w = usize::from(digits)),
            Raw::Words => format!("{} × 4", self.value),
            Raw::Unit(unit) => format!("{} {unit}", self.value),
            Raw::Labelled(label) => format!("{label} {}", self.value),
            Raw::Mac(m) => format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            Raw::Ip(ip) => ip.to_string(),
            Raw::None => String::new(),
        }
    }
}

/// What an address is, where its value says (loopback, multicast, unspecified); empty for
/// an ordinary unicast address.
pub fn address_meaning(ip: IpAddr) -> &'static str {
    if ip.is_loopback() {
        "loopback: this machine talking to itself"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_unspecified() {
        "unspecified"
    } else {
        ""
    }
}

/// Each field's name and where [`Describe::describe`] places it, `(offset, len)`.
#[cfg(test)]
pub(crate) fn placed(h: &dyn Describe) -> Vec<(&'static str, Option<(u16, u16)>)> {
    let mut v = Vec::new();
    h.describe(&mut |f| v.push((f.name, f.bytes)));
    v
}

/// A header that can list its fields.
pub trait Describe {
    /// Calls `f` once per field, in wire order.
    fn describe(&self, f: &mut dyn FnMut(Field));
}

/// `buf` when it holds at least `len` bytes.
#[inline]
pub(crate) fn check_len(buf: &[u8], len: usize) -> Result<(), Truncated> {
    if buf.len() < len {
        Err(Truncated {
            needed: len,
            had: buf.len(),
        })
    } else {
        Ok(())
    }
}

/// Big-endian u16 at a field range of a buffer whose length was checked (0 otherwise:
/// accessors never panic even if a view were built unchecked).
#[inline]
pub(crate) fn be16(buf: &[u8], field: Range<usize>) -> u16 {
    match buf.get(field.start..field.start + 2) {
        Some(b) => u16::from_be_bytes([b[0], b[1]]),
        None => 0,
    }
}

/// Little-endian u16 (radiotap, PPI, NFLOG's TLVs).
#[inline]
pub(crate) fn le16(buf: &[u8], field: Range<usize>) -> u16 {
    match buf.get(field.start..field.start + 2) {
        Some(b) => u16::from_le_bytes([b[0], b[1]]),
        None => 0,
    }
}

/// Big-endian u32.
#[inline]
pub(crate) fn be32(buf: &[u8], field: Range<usize>) -> u32 {
    match buf.get(field.start..field.start + 4) {
        Some(b) => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Little-endian u32.
#[inline]
pub(crate) fn le32(buf: &[u8], field: Range<usize>) -> u32 {
    match buf.get(field.start..field.start + 4) {
        Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => 0,
    }
}

/// Byte at `at` (0 past the end).
#[inline]
pub(crate) fn byte(buf: &[u8], at: usize) -> u8 {
    buf.get(at).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each field's `(name, bytes)` of a header, offsets made absolute with `off`.
    fn ranges(h: &dyn Describe, off: usize) -> Vec<(&'static str, Option<Range<usize>>)> {
        let mut v = Vec::new();
        h.describe(&mut |f| {
            let r = f
                .bytes
                .map(|(s, l)| off + usize::from(s)..off + usize::from(s) + usize::from(l));
            v.push((f.name, r));
        });
        v
    }

    fn at(fields: &[(&'static str, Option<Range<usize>>)], name: &str) -> Range<usize> {
        fields
            .iter()
            .find(|f| f.0 == name)
            .and_then(|f| f.1.clone())
            .unwrap_or_else(|| panic!("{name} has no range"))
    }

    #[test]
    fn fields_know_their_bytes_in_an_ethernet_ipv4_tcp_frame() {
        // Ethernet, IPv4 (20 bytes), TCP with 4 bytes of options (MSS 1460)
        let mut d = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
        d.extend_from_slice(&[0x45, 0, 0, 44, 0x12, 0x34, 0x40, 0, 64, 6, 0xab, 0xcd]);
        d.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        d.extend_from_slice(&[0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x60, 0x02]);
        d.extend_from_slice(&[0xfa, 0xf0, 0x12, 0x34, 0, 0, 2, 4, 0x05, 0xb4]);
        let eth = ranges(&ethernet::Ethernet::new_checked(&d).unwrap(), 0);
        assert_eq!(at(&eth, "destination"), 0..6);
        assert_eq!(at(&eth, "source"), 6..12);
        assert_eq!(at(&eth, "ethertype"), 12..14);
        let ip = ranges(&ipv4::Ipv4::new_checked(&d[14..]).unwrap(), 14);
        assert_eq!(at(&ip, "version, IHL"), 14..15);
        assert_eq!(at(&ip, "total length"), 16..18);
        assert_eq!(at(&ip, "flags, offset"), 20..22);
        assert_eq!(at(&ip, "ttl"), 22..23);
        assert_eq!(at(&ip, "protocol"), 23..24);
        assert_eq!(at(&ip, "header checksum"), 24..26);
        assert_eq!(at(&ip, "source"), 26..30);
        assert_eq!(at(&ip, "destination"), 30..34);
        assert!(ip.iter().all(|f| f.1.is_some()));
        let tcp = ranges(&tcp::Tcp::new_checked(&d[34..]).unwrap(), 34);
        assert_eq!(at(&tcp, "source port"), 34..36);
        assert_eq!(at(&tcp, "dest port"), 36..38);
        assert_eq!(at(&tcp, "seq"), 38..42);
        assert_eq!(at(&tcp, "ack"), 42..46);
        assert_eq!(at(&tcp, "header length"), 46..47);
        assert_eq!(at(&tcp, "flags"), 46..48);
        assert_eq!(at(&tcp, "window"), 48..50);
        assert_eq!(at(&tcp, "checksum"), 50..52);
        assert_eq!(at(&tcp, "urgent pointer"), 52..54);
        assert_eq!(at(&tcp, "option MSS"), 54..58);
        assert!(tcp.iter().all(|f| f.1.is_some()));
        // the bytes at each range read back as the value the view gives
        assert_eq!(&d[at(&tcp, "seq")], &1000u32.to_be_bytes());
        assert_eq!(&d[at(&ip, "destination")], &[10, 0, 0, 2]);
    }

    #[test]
    fn udp_ipv6_and_vlan_fields_know_their_bytes() {
        let u = [0x30, 0x39, 0, 53, 0, 8, 0, 0];
        let udp = ranges(&udp::Udp::new_checked(&u).unwrap(), 0);
        let want = [("source port", 0..2), ("dest port", 2..4), ("length", 4..6)];
        for (name, r) in want {
            assert_eq!(at(&udp, name), r);
        }
        assert_eq!(at(&udp, "checksum"), 6..8);
        let mut v6 = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        v6.extend_from_slice(&[0; 32]);
        let ip = ranges(&ipv6::Ipv6::new_checked(&v6).unwrap(), 0);
        assert_eq!(at(&ip, "payload length"), 4..6);
        assert_eq!(at(&ip, "next header"), 6..7);
        assert_eq!(at(&ip, "hop limit"), 7..8);
        assert_eq!(at(&ip, "source"), 8..24);
        assert_eq!(at(&ip, "destination"), 24..40);
        let tag = ranges(
            &vlan::VlanTag::new_checked(&[0x20, 0x64, 0x08, 0]).unwrap(),
            0,
        );
        assert_eq!(at(&tag, "VLAN id"), 0..2);
        assert_eq!(at(&tag, "ethertype"), 2..4);
    }
}
