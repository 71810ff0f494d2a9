//! Link-layer headers etherparse's lax slicer does not start from: Linux cooked capture v1
//! (SLL) and v2 (SLL2), through the wire layer's view, and the BSD null / loopback header.

use crate::wire::sll::{Sll, Version};
use etherparse::EtherType;

/// Length of a Linux SLL header.
pub(super) const SLL_LEN: usize = crate::wire::sll::SLL_LEN;
/// Length of a Linux SLL2 header.
pub(super) const SLL2_LEN: usize = crate::wire::sll::SLL2_LEN;
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

/// LINKTYPE_LINUX_SLL, read through the wire view. `None` when fewer than 16 bytes were
/// captured.
pub(super) fn parse_sll(data: &[u8]) -> Option<LinkHeader> {
    cooked(data, Version::V1)
}

/// LINKTYPE_LINUX_SLL2, read through the wire view. `None` when fewer than 20 bytes.
pub(super) fn parse_sll2(data: &[u8]) -> Option<LinkHeader> {
    cooked(data, Version::V2)
}

fn cooked(data: &[u8], version: Version) -> Option<LinkHeader> {
    let h = Sll::new_checked(data, version).ok()?;
    Some(LinkHeader {
        protocol: h.protocol().0,
        src_mac: h.source_mac(),
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
