//! tcpdump-syntax packet filters (`-f/--filter EXPR`), parsed once and evaluated in
//! userspace on every frame.
//!
//! ```
//! use layerscope::filter::Filter;
//! let f = Filter::parse("tcp port 80 or 443 and not host 10.0.0.1").unwrap();
//! assert_eq!(f.expression(), "tcp port 80 or 443 and not host 10.0.0.1");
//! let err = Filter::parse("host example.com").unwrap_err();
//! assert_eq!(err.offset, 5);
//! assert_eq!(err.caret("host example.com"), "host example.com\n     ^^^^^^^^^^^");
//! ```
//!
//! # Grammar (pcap-filter(7), the parts layerscope evaluates)
//! - `host A`, `net N/len`, `net N mask M`, `net 10.0` (IPv4 or IPv6), `port P`,
//!   `portrange A-B`, with `src`, `dst`, `src or dst`, `src and dst`; protocol qualifiers
//!   `ip`, `ip6`, `arp`, `rarp`, `tcp`, `udp`, `sctp`, `ether` (`ether host|src|dst MAC`).
//!   Port names: ftp-data, ftp, ssh, telnet, smtp, domain, bootps, bootpc, tftp, http, www,
//!   pop3, ntp, imap, snmp, bgp, ldap, https, syslog, submission, imaps, pop3s, mysql,
//!   http-alt.
//! - `ip`, `ip6`, `arp`, `rarp`, `tcp`, `udp`, `sctp`, `icmp`, `icmp6`, `[ip|ip6] proto N`
//!   (N a number or `\tcp`, `\udp`, `\icmp`, …), `vlan [ID]`, `mpls [LABEL]`,
//!   `pppoes [SESSION]`, `pppoed`, `geneve [VNI]`, `vxlan [VNI]`, `greater N`, `less N`.
//! - `proto[expr]`, `proto[expr:1|2|4]` for `ether`/`link`, `ip`, `ip6`, `arp`, `tcp`, `udp`,
//!   `sctp`, `icmp`, `icmp6`; `len`; numbers (decimal, `0x` hex, `0` octal); the constants
//!   `tcpflags`, `tcp-fin` … `tcp-cwr`, `icmptype`, `icmpcode`, `icmp-echo`, `icmp-echoreply`
//!   and the other `icmp-*` / `icmp6*` names; `+ - * / % & | ^ << >>`, unary `-`;
//!   `= == != < <= > >=`.
//! - `and`/`&&`, `or`/`||`, `not`/`!`, parentheses. As in libpcap, `and` and `or` have the
//!   same precedence and group to the left: `a or b and c` is `(a or b) and c`.
//! - A bare address after `and`/`or`/`not` repeats the previous qualifiers:
//!   `host a or b` is `host a or host b`, `tcp port 80 or 443` is `… or tcp port 443`.
//!
//! # Semantics: tcpdump's, byte for byte
//! The filter reads the frame's own bytes, one load at a time as BPF does, at the field
//! offsets the wire views name (`wire::ipv4::field::PROTOCOL`, `wire::EtherType::VLAN` …),
//! placed where libpcap's BPF code places them for the
//! frame's link type (Ethernet, Linux SLL/SLL2, BSD null/loop, raw IP, LINKTYPE_IPV4/IPV6,
//! PPP, PPP in HDLC framing, Cisco HDLC; other link types use the decoder's first network
//! layer). So:
//! - `port 80` is TCP, UDP or SCTP over IPv4 or IPv6; over IPv4 only the first fragment
//!   matches (later fragments carry no ports); over IPv6 the next header must be the
//!   transport itself (no extension-header walk), as libpcap.
//! - `tcp`/`udp` match every IPv4 fragment (the protocol field), and IPv6 with the protocol
//!   as next header or behind one fragment header. `icmp` is IPv4, `icmp6` IPv6.
//! - `host` matches IPv4 and IPv6 source/destination and ARP/RARP sender/target addresses;
//!   `ip host` only IPv4, `arp host` only ARP.
//! - `tcp[…]`, `udp[…]`, `icmp[…]` read IPv4 packets only (first fragment, after the IPv4
//!   header) — libpcap 1.10 cannot index IPv6 transport headers either. Use `ip6[…]` /
//!   `icmp6[…]` for IPv6.
//! - **VLAN**: without `vlan`, nothing looks past an 802.1Q tag: `tcp` does NOT match a
//!   VLAN-tagged TCP frame (the ether type at byte 12 is 0x8100). Each `vlan` keyword moves
//!   the network layer of every primitive parsed AFTER it by 4 bytes, whatever the
//!   and/or structure: write `vlan and tcp` (one tag), `vlan and vlan and tcp` (QinQ),
//!   `tcp or (vlan and tcp)` (either). `vlan` matches ether types 0x8100, 0x88a8, 0x9100.
//! - **Other encapsulations** work the same way, in the order written (at most 255 in one
//!   expression): `mpls [LABEL]` matches ether type 0x8847 (PPP protocol 0x0281), or below
//!   another label one whose predecessor is not the bottom of the stack, and moves the
//!   network layer 4 bytes; after it `ip`/`ip6` are told by the bottom-of-stack bit and the
//!   version nibble (`arp` after `mpls` is refused, as libpcap does). `pppoes [SESSION]`
//!   matches ether type 0x8864 and makes the PPP protocol field behind the 6-byte PPPoE
//!   header the link type (`pppoes and ip6`); `pppoed` is discovery (0x8863). `geneve [VNI]`
//!   is UDP to port 6081 (IPv4 first fragments, or IPv6 with UDP as next header) carrying
//!   Geneve version 0, and moves every later primitive behind the Geneve header and its
//!   options — into the inner Ethernet frame when the Geneve protocol is 0x6558
//!   (`geneve and host 10.0.0.1` is the inner host, `ether` the inner MACs), else onto the
//!   inner network layer. `vxlan [VNI]` is libpcap 1.11's: UDP to port 4789 only (not
//!   Linux's 8472) whose first byte is exactly 0x08 (the I flag alone), and every later
//!   primitive reads the inner Ethernet frame behind the 8-byte header. Agreement with
//!   tcpdump is tested on the tunnel captures of `../shared/captures-encap` (`vxlan` asked
//!   of libpcap 1.10, which lacks it, in byte-offset terms).
//! - `greater N` / `less N` / `len` use the length on the wire.
//! - A read past the captured bytes rejects the packet outright (a BPF load out of bounds
//!   ends the program with 0), so `not tcp[100] = 1` does not match a short TCP frame.
//! - `ether host` and `vlan` match Ethernet frames only (tcpdump refuses them on other
//!   link types; a mixed pcapng can hold both).
//!
//! Refused with [`FilterErrorKind::NotSupported`]: host names (no DNS lookups), `gateway`,
//! `ether proto`, `ether broadcast|multicast`, `broadcast`, `multicast`, `wlan`, `llc`,
//! `stp`, `ipx`, `decnet`, `atalk`, `iso`, `igmp`, `pim`, `vrrp`, `carp`, `ah`, `esp`, `protochain`, `inbound`/`outbound`,
//! `ifname`, pflog and ATM keywords, `type`/`subtype`, 802.11 `ra`/`ta`/`addr1-4`.

mod eval;
mod lexer;
mod parser;

#[cfg(test)]
mod agreement;

use crate::capture::RawFrame;
use crate::decode::DecodedPacket;
use std::fmt;

/// Longest expression accepted, in bytes.
pub const MAX_EXPRESSION_LEN: usize = 64 * 1024;

/// A parsed filter expression.
#[derive(Clone, Debug)]
pub struct Filter {
    root: parser::Node,
    /// The encapsulation keywords (`vlan`, `mpls`, `pppoes`, `geneve`) in parse order.
    encaps: Vec<parser::EncapStep>,
    source: String,
}

impl Filter {
    /// Parses a tcpdump-syntax expression. Never panics; nesting deeper than 256 levels is
    /// refused.
    pub fn parse(expr: &str) -> Result<Filter, FilterError> {
        if expr.len() > MAX_EXPRESSION_LEN {
            return Err(FilterError {
                kind: FilterErrorKind::TooDeep,
                offset: MAX_EXPRESSION_LEN,
                token: String::new(),
                message: format!(
                    "the expression is {} bytes long, more than the {MAX_EXPRESSION_LEN} accepted",
                    expr.len()
                ),
            });
        }
        let (root, encaps) = parser::parse_with_encaps(expr)?;
        Ok(Filter {
            root,
            encaps,
            source: expr.to_string(),
        })
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.source
    }

    /// Whether tcpdump would keep this frame. Reads `frame`'s bytes (see the module docs);
    /// `packet` is consulted only for link types whose network-layer offset the filter does
    /// not know itself. Does not allocate.
    pub fn matches(&self, frame: &RawFrame<'_>, packet: &DecodedPacket<'_>) -> bool {
        let cx = eval::Ctx::new(frame, packet, &self.encaps);
        eval::eval(&self.root, &cx).unwrap_or(false)
    }
}

/// What kind of problem a filter expression has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterErrorKind {
    /// Not a well-formed expression.
    Syntax,
    /// A value out of range or malformed (port 70000, `10.0.0.1/8`, size 3).
    BadValue,
    /// Valid pcap-filter syntax that layerscope does not evaluate (or a host name).
    NotSupported,
    /// Nested deeper than 256 levels, or longer than [`MAX_EXPRESSION_LEN`].
    TooDeep,
}

/// A filter expression that cannot be used: what is wrong and at which token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FilterError {
    pub kind: FilterErrorKind,
    /// Byte offset of the offending token in the expression.
    pub offset: usize,
    /// The offending token (empty at the end of the expression).
    pub token: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter: {}", self.message)?;
        if self.token.is_empty() {
            write!(f, " (at the end, byte {})", self.offset)
        } else {
            write!(f, " (at byte {}: `{}`)", self.offset, self.token)
        }
    }
}

impl FilterError {
    /// The expression and, under it, carets below the offending token:
    ///
    /// ```text
    /// tcp port 99999
    ///          ^^^^^
    /// ```
    pub fn caret(&self, expr: &str) -> String {
        let before = expr.get(..self.offset).unwrap_or(expr);
        let col = before.chars().count();
        let width = self.token.chars().count().max(1);
        format!("{expr}\n{}{}", " ".repeat(col), "^".repeat(width))
    }
}

#[cfg(test)]
mod tests;
