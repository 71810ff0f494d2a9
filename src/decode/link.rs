//! Link-layer headers read by hand: Linux cooked capture v1 (SLL) and v2 (SLL2), which
//! etherparse's lax slicer does not start from, and the BSD null / loopback header.

use etherparse::EtherType;

/// Length of a Linux SLL header.
pub(super) const SLL_LEN: usize = 16;
/// Length of a Linux SLL2 header.
pub(super) const SLL2_LEN: usize = 20;
/// Length of a BSD null / loopback header.
pub(super) const NULL_LEN: usize = crate::wire::null::HEADER_LEN;

/// What a cooked (SLL / SLL2) header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LinkHeader {
    /// Protocol type: an ether type when ≥ 0x0600.
    pub protocol: u16,
    /// Sender's link-layer address when it is 6 bytes long.
    pub src_mac: Option<[u8; 6]>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn mac(addr_len: u16, addr: &[u8]) -> Option<[u8; 6]> {
    if addr_len == 6 {
        addr.get(..6)?.try_into().ok()
    } else {
        None
    }
}

/// LINKTYPE_LINUX_SLL: packet type (2), ARPHRD type (2), address length (2), address (8),
/// protocol type (2). `None` when fewer than 16 bytes were captured.
pub(super) fn parse_sll(data: &[u8]) -> Option<LinkHeader> {
    let h = data.get(..SLL_LEN)?;
    Some(LinkHeader {
        protocol: be16(h, 14)?,
        src_mac: mac(be16(h, 4)?, &h[6..14]),
    })
}

/// LINKTYPE_LINUX_SLL2: protocol type (2), reserved (2), interface index (4), ARPHRD type
/// (2), packet type (1), address length (1), address (8). `None` when fewer than 20 bytes.
pub(super) fn parse_sll2(data: &[u8]) -> Option<LinkHeader> {
    let h = data.get(..SLL2_LEN)?;
    Some(LinkHeader {
        protocol: be16(h, 0)?,
        src_mac: mac(u16::from(h[11]), &h[12..20]),
    })
}

/// The address family of a null (link type 0, host byte order) or loop (108, network byte
/// order) header. The writer's host order is unknown, so like tshark a value whose upper 16
/// bits are set is taken as byte-swapped. `None` when fewer than 4 bytes.
pub(super) fn parse_null(data: &[u8], network_order: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(..NULL_LEN)?.try_into().ok()?;
    let v = if network_order {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    };
    Some(if v & 0xFFFF_0000 != 0 {
        v.swap_bytes()
    } else {
        v
    })
}

/// The protocol a null header's address family announces.
pub(super) fn null_family_ether_type(family: u32) -> Option<EtherType> {
    crate::wire::null::family_ether_type(family).map(|t| EtherType(t.0))
}
