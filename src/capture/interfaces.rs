//! The network interfaces a live capture can open, and whether this process may capture.
//!
//! Listing needs no privileges (it reads `getifaddrs` through pnet_datalink). Whether a
//! capture can be opened is answered by the kernel itself: [`capture_permitted`] tries to open
//! an unbound `AF_PACKET` socket (which receives nothing until bound) and closes it again.

use std::fmt;
use std::net::IpAddr;

/// One address of an interface, with its prefix length (`127.0.0.1/8`, `::1/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterfaceAddress {
    pub addr: IpAddr,
    /// Prefix length of the network the address is in.
    pub prefix: u8,
}

impl fmt::Display for InterfaceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// What `layerscope interfaces` shows for one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// Kernel name (`lo`, `eth0`).
    pub name: String,
    /// Operating-system interface index.
    pub index: u32,
    /// `IFF_UP`: administratively up (the loopback shows operstate UNKNOWN but is up).
    pub up: bool,
    /// `IFF_LOOPBACK`.
    pub loopback: bool,
    /// IPv4 and IPv6 addresses, in the order the kernel lists them.
    pub addresses: Vec<InterfaceAddress>,
    /// Whether this process may open a capture on it: it holds CAP_NET_RAW (an `AF_PACKET`
    /// socket opens) and the interface is up.
    pub can_capture: bool,
}

/// All interfaces of this network namespace, in kernel index order.
pub fn list_interfaces() -> Vec<InterfaceInfo> {
    let permitted = capture_permitted();
    let mut list: Vec<InterfaceInfo> = pnet_datalink::interfaces()
        .into_iter()
        .map(|ni| {
            let up = ni.is_up();
            InterfaceInfo {
                up,
                loopback: ni.is_loopback(),
                addresses: ni
                    .ips
                    .iter()
                    .map(|net| InterfaceAddress {
                        addr: net.ip(),
                        prefix: net.prefix(),
                    })
                    .collect(),
                can_capture: permitted && up,
                index: ni.index,
                name: ni.name,
            }
        })
        .collect();
    list.sort_by_key(|i| i.index);
    list
}

/// The names of all interfaces, in kernel index order (for "unknown interface" messages).
pub fn interface_names() -> Vec<String> {
    let mut list: Vec<(u32, String)> = pnet_datalink::interfaces()
        .into_iter()
        .map(|ni| (ni.index, ni.name))
        .collect();
    list.sort();
    list.into_iter().map(|(_, name)| name).collect()
}

/// Whether the kernel lets this process open a packet socket (CAP_NET_RAW in its user
/// namespace). The socket is opened unbound with protocol 0, so it never receives a packet,
/// and is closed at once.
pub fn capture_permitted() -> bool {
    socket2::Socket::new(socket2::Domain::PACKET, socket2::Type::RAW, None).is_ok()
}

/// CAP_NET_RAW's bit number in the Linux capability sets.
pub const CAP_NET_RAW: u32 = 13;

/// Whether this process's effective capability set (`CapEff` in `/proc/self/status`) holds
/// CAP_NET_RAW. `false` when the file cannot be read.
pub fn has_cap_net_raw() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| parse_cap_eff(&text))
        .is_some_and(|caps| caps & (1 << CAP_NET_RAW) != 0)
}

/// The effective capability mask from the text of `/proc/PID/status` (the `CapEff:` line,
/// 16 hex digits), `None` when the line is missing or not hexadecimal.
pub fn parse_cap_eff(status: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix("CapEff:")?.trim();
        u64::from_str_radix(value, 16).ok()
    })
}

/// The ARPHRD_* hardware type of an interface, from `/sys/class/net/NAME/type`.
pub(crate) fn arphrd_type(name: &str) -> Option<u16> {
    if name.contains('/') || name == "." || name == ".." {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/type"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
}

/// Whether an interface is administratively up (`IFF_UP`); `false` when it does not exist
/// (any more). Asks the kernel (getifaddrs), not sysfs, which may show another network
/// namespace.
pub(crate) fn is_up(name: &str) -> bool {
    pnet_datalink::interfaces()
        .iter()
        .any(|ni| ni.name == name && ni.is_up())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_contains_the_loopback_with_its_address() {
        let list = list_interfaces();
        let lo = list
            .iter()
            .find(|i| i.name == "lo")
            .expect("every Linux network namespace has lo");
        assert!(lo.loopback);
        assert!(lo.up);
        assert_eq!(lo.index, 1, "lo is always ifindex 1");
        assert!(
            lo.addresses.iter().any(|a| a.to_string() == "127.0.0.1/8"),
            "lo addresses: {:?}",
            lo.addresses
        );
        assert_eq!(lo.can_capture, capture_permitted());
        assert_eq!(interface_names().first().map(String::as_str), Some("lo"));
    }

    #[test]
    fn cap_eff_parsing() {
        // Root in a container: all bits but CAP_SYS_MODULE-era ones.
        let root = "Name:\tcat\nUmask:\t0022\nCapInh:\t0000000000000000\n\
                    CapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n";
        assert_eq!(parse_cap_eff(root), Some(0x1ff_feff_ffff));
        assert_ne!(parse_cap_eff(root).unwrap() & (1 << CAP_NET_RAW), 0);
        // A binary given cap_net_raw,cap_net_admin=eip: bits 12 and 13 = 0x3000.
        let setcap =
            "CapInh:\t0000000000000000\nCapPrm:\t0000000000003000\nCapEff:\t0000000000003000\n";
        assert_eq!(parse_cap_eff(setcap), Some(0x3000));
        // CAP_NET_ADMIN (12) alone does not allow a packet socket.
        let admin_only = "CapEff:\t0000000000001000\n";
        assert_eq!(parse_cap_eff(admin_only).unwrap() & (1 << CAP_NET_RAW), 0);
        // An ordinary user.
        assert_eq!(parse_cap_eff("CapEff:\t0000000000000000\n"), Some(0));
        assert_eq!(parse_cap_eff("CapPrm:\t0000000000003000\n"), None);
        assert_eq!(parse_cap_eff("CapEff:\tzz\n"), None);
    }

    #[test]
    fn loopback_hardware_type() {
        assert_eq!(arphrd_type("lo"), Some(772)); // ARPHRD_LOOPBACK
        assert_eq!(arphrd_type("../lo"), None);
        assert_eq!(arphrd_type("no-such-interface-xyz"), None);
        assert!(is_up("lo"));
        assert!(!is_up("no-such-interface-xyz"));
    }
}
