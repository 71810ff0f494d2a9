//! BSD null / loopback link header (LINKTYPE_NULL in the writer's byte order,
//! LINKTYPE_LOOP in network order): a 4-byte address family.

use super::EtherType;

pub const HEADER_LEN: usize = 4;

/// Address families that carry IP.
pub mod family {
    /// AF_INET, 2 everywhere.
    pub const INET: u32 = 2;
    /// AF_INET6 on NetBSD and OpenBSD.
    pub const INET6_BSD: u32 = 24;
    /// AF_INET6 on FreeBSD.
    pub const INET6_FREEBSD: u32 = 28;
    /// AF_INET6 on macOS.
    pub const INET6_DARWIN: u32 = 30;
}

/// The protocol an address family announces.
pub fn family_ether_type(f: u32) -> Option<EtherType> {
    match f {
        family::INET => Some(EtherType::IPV4),
        family::INET6_BSD | family::INET6_FREEBSD | family::INET6_DARWIN => Some(EtherType::IPV6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(family_ether_type(2), Some(EtherType::IPV4));
        for f in [24, 28, 30] {
            assert_eq!(family_ether_type(f), Some(EtherType::IPV6));
        }
        assert_eq!(family_ether_type(23), None);
    }
}
