//! Recursive-descent parser for tcpdump (pcap-filter) expressions, into the tree that
//! [`super::eval`] walks.
//!
//! Grammar, as libpcap's `grammar.y` has it:
//! - `and` and `or` have the SAME precedence and associate to the left (`a or b and c` is
//!   `(a or b) and c`); `not` binds tighter.
//! - arithmetic, lowest first: `|` `^`, `&`, `<<` `>>`, `+` `-`, `*` `/` `%`, unary `-`.
//! - a bare address after `and`/`or`/`not` repeats the previous primitive's qualifiers
//!   (`host a or b`, `tcp port 80 or 443`).
//! - every `vlan` shifts the network-layer offsets of the primitives parsed after it by four
//!   bytes (see [`Node::Prim`]'s depth).

use super::lexer::{lex, Tok, Token};
use super::{FilterError, FilterErrorKind};
use crate::wire::IpNumber;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Deepest nesting accepted (parentheses, `not`, arithmetic, and/or alternations).
pub(crate) const MAX_DEPTH: usize = 256;

/// Direction qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Src,
    Dst,
    /// `src or dst` (the default).
    Either,
    /// `src and dst`.
    Both,
}

/// What a network-layer check looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NetKind {
    Ipv4,
    Ipv6,
    Arp,
    Rarp,
}

/// IP protocols a `port` primitive accepts (bit set).
pub(crate) const P_TCP: u8 = 1;
pub(crate) const P_UDP: u8 = 2;
pub(crate) const P_SCTP: u8 = 4;

/// A primitive test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Prim {
    /// `ip`, `ip6`, `arp`, `rarp`.
    Net(NetKind),
    /// `tcp`, `udp`, `icmp`, `icmp6`, `sctp`, `ip proto N`, `ip6 proto N`, `proto N`:
    /// the IP protocol field (IPv4, any fragment) / next header (IPv6, directly or after a
    /// fragment header).
    Proto { v4: bool, v6: bool, proto: u8 },
    /// IPv4 `host` / `net` (mask 0xffffffff for a host): IPv4 addresses and, when `arp`,
    /// ARP/RARP sender and target addresses.
    Host4 {
        dir: Dir,
        addr: u32,
        mask: u32,
        ip: bool,
        arp: bool,
        rarp: bool,
    },
    /// IPv6 `host` / `net`.
    Host6 {
        dir: Dir,
        addr: [u8; 16],
        mask: [u8; 16],
    },
    /// `ether host|src|dst MAC` (Ethernet frames only).
    Ether { dir: Dir, mac: [u8; 6] },
    /// `port` / `portrange` (`lo..=hi`) over the protocols in `protos`.
    Port {
        dir: Dir,
        lo: u16,
        hi: u16,
        protos: u8,
        v4: bool,
        v6: bool,
    },
    /// `vlan` / `vlan N`.
    Vlan(Option<u16>),
    /// `mpls` / `mpls LABEL`.
    Mpls(Option<u32>),
    /// `pppoes` / `pppoes SESSION`.
    Pppoes(Option<u16>),
    /// `pppoed`: a PPPoE discovery frame.
    Pppoed,
    /// `geneve` / `geneve VNI`.
    Geneve(Option<u32>),
    /// `vxlan` / `vxlan VNI`.
    Vxlan(Option<u32>),
    /// `greater N`: wire length >= N.
    Greater(u32),
    /// `less N`: wire length <= N.
    Less(u32),
}

/// An encapsulation keyword. As in libpcap, each one moves the link-type and network-layer
/// offsets of every primitive parsed after it, whatever the and/or/parentheses around them
/// (`vlan and tcp` reads TCP behind one tag; `tcp or (vlan and tcp)` either).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EncapStep {
    /// 4 bytes of 802.1Q/802.1ad tag.
    Vlan,
    /// 4 bytes of MPLS label; the network layer is then told by its version nibble.
    Mpls,
    /// The PPPoE session header: the link type becomes PPP's protocol field.
    Pppoes,
    /// UDP port 6081 and the Geneve header (its options' length read from the packet); an
    /// inner Ethernet frame when the Geneve protocol is 0x6558.
    Geneve,
    /// UDP port 4789 and the 8-byte VXLAN header; an inner Ethernet frame follows.
    Vxlan,
}

/// Most encapsulation keywords in one expression (each primitive records how many came
/// before it in a byte).
pub(crate) const MAX_ENCAP_STEPS: usize = 255;

/// Where a byte access `proto[i:size]` counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// `ether[]` / `link[]`: the start of the frame.
    Link,
    Ip,
    Ip6,
    Arp,
    /// `tcp[]`, `udp[]`, `icmp[]`, `sctp[]`: IPv4 only (as libpcap), first fragment only,
    /// after the IPv4 header; the value is the IP protocol number.
    OverIpv4(u8),
    /// `icmp6[]`: IPv6 whose next header is ICMPv6, after the 40-byte fixed header.
    Icmp6,
}

/// Arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

/// An arithmetic expression (32-bit unsigned, wrapping, like BPF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Num(u32),
    /// `len`: the wire length.
    Len,
    Load {
        base: Base,
        index: Box<Arith>,
        size: u8,
        /// How many encapsulation keywords were parsed before it (see [`EncapStep`]).
        vlan_depth: u8,
    },
    Bin(ArOp, Box<Arith>, Box<Arith>),
    Neg(Box<Arith>),
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RelOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A boolean expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// A primitive and the number of encapsulation keywords (`vlan`, `mpls`, `pppoes`,
    /// `geneve`, `vxlan`) parsed before it: the first that many [`EncapStep`]s of the expression move
    /// the offsets it reads at.
    Prim(Prim, u8),
    Rel(Box<Arith>, RelOp, Box<Arith>),
}

/// Protocol qualifier of a `host`/`net`/`port` primitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PQ {
    Any,
    Ether,
    Ip,
    Ip6,
    Arp,
    Rarp,
    Tcp,
    Udp,
    Sctp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Default,
    Host,
    Net,
    Port,
    PortRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Qual {
    proto: PQ,
    /// The proto word's token index (for errors).
    proto_tok: Option<usize>,
    dir: Dir,
    kind: Kind,
}

const DEFAULT_QUAL: Qual = Qual {
    proto: PQ::Any,
    proto_tok: None,
    dir: Dir::Either,
    kind: Kind::Default,
};

/// What a bare address may inherit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LastQual {
    /// Nothing parsed yet: default qualifiers (`host`).
    Start,
    /// The previous primitive was not `[qualifiers] id`: a bare id is an error.
    None,
    Some(Qual),
}

/// pcap-filter keywords layerscope refuses, with why.
const UNSUPPORTED: &[&str] = &[
    "gateway",
    "wlan",
    "llc",
    "stp",
    "ipx",
    "netbeui",
    "decnet",
    "atalk",
    "aarp",
    "iso",
    "esis",
    "es-is",
    "isis",
    "is-is",
    "clnp",
    "lat",
    "mopdl",
    "moprc",
    "sca",
    "vrrp",
    "carp",
    "pim",
    "igmp",
    "igrp",
    "ah",
    "esp",
    "radio",
    "type",
    "subtype",
    "fc",
    "fddi",
    "tr",
    "ppp",
    "slip",
    "inbound",
    "outbound",
    "ifname",
    "on",
    "rnr",
    "rulenum",
    "reason",
    "rset",
    "ruleset",
    "srnr",
    "subrulenum",
    "action",
    "broadcast",
    "multicast",
    "protochain",
    "lane",
    "metac",
    "bcc",
    "oam",
    "oamf4",
    "oamf4ec",
    "oamf4sc",
    "sc",
    "ilmic",
    "connectmsg",
    "metaconnect",
    "vpi",
    "vci",
    "ra",
    "ta",
    "addr1",
    "addr2",
    "addr3",
    "addr4",
    "dir",
    "hdr",
    "l1",
    "l2",
    "iso8473",
    "ip6multicast",
    "ipv6",
];

/// Keywords that are never a bare address.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "host",
    "net",
    "mask",
    "port",
    "portrange",
    "src",
    "dst",
    "ether",
    "link",
    "ip",
    "ip6",
    "arp",
    "rarp",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "sctp",
    "vlan",
    "mpls",
    "pppoes",
    "pppoed",
    "geneve",
    "vxlan",
    "greater",
    "less",
    "len",
    "proto",
];

/// Named ports (the service names tcpdump resolves through /etc/services).
const PORT_NAMES: &[(&str, u16)] = &[
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("http", 80),
    ("www", 80),
    ("pop3", 110),
    ("ntp", 123),
    ("imap", 143),
    ("snmp", 161),
    ("bgp", 179),
    ("ldap", 389),
    ("https", 443),
    ("syslog", 514),
    ("submission", 587),
    ("imaps", 993),
    ("pop3s", 995),
    ("mysql", 3306),
    ("http-alt", 8080),
];

/// Named constants usable in arithmetic.
const CONSTANTS: &[(&str, u32)] = &[
    ("tcpflags", 13),
    ("tcp-fin", 0x01),
    ("tcp-syn", 0x02),
    ("tcp-rst", 0x04),
    ("tcp-push", 0x08),
    ("tcp-ack", 0x10),
    ("tcp-urg", 0x20),
    ("tcp-ece", 0x40),
    ("tcp-cwr", 0x80),
    ("icmptype", 0),
    ("icmpcode", 1),
    ("icmp-echoreply", 0),
    ("icmp-unreach", 3),
    ("icmp-sourcequench", 4),
    ("icmp-redirect", 5),
    ("icmp-echo", 8),
    ("icmp-routeradvert", 9),
    ("icmp-routersolicit", 10),
    ("icmp-timxceed", 11),
    ("icmp-paramprob", 12),
    ("icmp-tstamp", 13),
    ("icmp-tstampreply", 14),
    ("icmp-ireq", 15),
    ("icmp-ireqreply", 16),
    ("icmp-maskreq", 17),
    ("icmp-maskreply", 18),
    ("icmp6type", 0),
    ("icmp6code", 1),
    ("icmp6-destinationunreach", 1),
    ("icmp6-packettoobig", 2),
    ("icmp6-timeexceeded", 3),
    ("icmp6-parameterproblem", 4),
    ("icmp6-echo", 128),
    ("icmp6-echoreply", 129),
    ("icmp6-multicastlistenerquery", 130),
    ("icmp6-multicastlistenerreportv1", 131),
    ("icmp6-multicastlistenerdone", 132),
    ("icmp6-routersolicit", 133),
    ("icmp6-routeradvert", 134),
    ("icmp6-neighborsolicit", 135),
    ("icmp6-neighboradvert", 136),
    ("icmp6-redirect", 137),
];

/// IP protocol names accepted after `proto` (as `\tcp` or `tcp`): libpcap's keywords, and
/// the names libpcap looks up in `/etc/protocols` (Debian's netbase) for the protocols that
/// carry tunnels and their control (a fixed table, so a filter means the same on every
/// machine).
const IP_PROTO_NAMES: &[(&str, u8)] = &[
    ("icmp", IpNumber::ICMP.0),
    ("igmp", IpNumber::IGMP.0),
    ("tcp", IpNumber::TCP.0),
    ("udp", IpNumber::UDP.0),
    ("icmp6", IpNumber::ICMPV6.0),
    ("sctp", IpNumber::SCTP.0),
    ("ipencap", IpNumber::IPV4.0),
    ("ipv6", IpNumber::IPV6.0),
    ("gre", IpNumber::GRE.0),
    ("esp", IpNumber::ESP.0),
    ("ah", IpNumber::AUTH.0),
    ("ipv6-icmp", IpNumber::ICMPV6.0),
    ("ospf", 89),
    ("etherip", IpNumber::ETHERIP.0),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("mpls-in-ip", IpNumber::MPLS_IN_IP.0),
];

/// Parses a whole expression.
#[cfg(test)]
pub(crate) fn parse(src: &str) -> Result<Node, FilterError> {
    parse_with_encaps(src).map(|(node, _)| node)
}

/// Parses a whole expression: its tree, and the encapsulation keywords in the order they
/// were parsed (a primitive's depth counts how many of them come before it).
pub(crate) fn parse_with_encaps(src: &str) -> Result<(Node, Vec<EncapStep>), FilterError> {
    let mut p = Parser {
        src,
        toks: lex(src),
        pos: 0,
        vlan_depth: 0,
        encaps: Vec::new(),
        last: LastQual::Start,
        nest: 0,
    };
    if p.peek() == Tok::End {
        return Err(p.err(FilterErrorKind::Syntax, "the expression is empty"));
    }
    let (node, _) = p.expr()?;
    if p.peek() != Tok::End {
        let msg = if p.peek() == Tok::RParen {
            "unbalanced `)`".to_string()
        } else {
            format!("unexpected `{}` after a complete expression", p.text(p.pos))
        };
        return Err(p.err(FilterErrorKind::Syntax, &msg));
    }
    Ok((node, p.encaps))
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    /// `encaps.len()`: the depth of what is parsed next.
    vlan_depth: u8,
    encaps: Vec<EncapStep>,
    last: LastQual,
    /// Current recursion depth of the parser (parentheses, `not`, arithmetic).
    nest: usize,
}

type PResult<T> = Result<T, FilterError>;

fn parse_num(s: &str) -> Option<u32> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let groups: Vec<&str> = if s.contains(':') {
        s.split(':').collect()
    } else if s.contains('-') {
        s.split('-').collect()
    } else if s.contains('.') {
        // aabb.ccdd.eeff
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.len() != 4) {
            return None;
        }
        let joined: String = parts.concat();
        return (0..6)
            .map(|i| u8::from_str_radix(joined.get(2 * i..2 * i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
            .and_then(|v| v.try_into().ok());
    } else {
        return None;
    };
    if groups.len() != 6 {
        return None;
    }
    for (slot, g) in mac.iter_mut().zip(groups) {
        if g.is_empty() || g.len() > 2 {
            return None;
        }
        *slot = u8::from_str_radix(g, 16).ok()?;
    }
    Some(mac)
}

/// A dotted IPv4 network with 1–4 octets: (address left-aligned, octet count).
fn parse_partial_v4(s: &str) -> Option<(u32, u32)> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut addr: u32 = 0;
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: u32 = p.parse().ok()?;
        if v > 255 {
            return None;
        }
        addr |= v << (24 - 8 * i);
    }
    Some((addr, parts.len() as u32))
}

fn v4_mask(len: u32) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len.min(32))
    }
}

fn v6_mask(len: u32) -> [u8; 16] {
    let mut m = [0u8; 16];
    for (i, b) in m.iter_mut().enumerate() {
        let bits = len.saturating_sub(8 * i as u32).min(8);
        *b = if bits == 0 { 0 } else { 0xffu8 << (8 - bits) };
    }
    m
}

fn port_value(s: &str) -> Option<u32> {
    parse_num(s).or_else(|| {
        PORT_NAMES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, p)| u32::from(*p))
    })
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Tok {
        self.tok_at(self.pos)
    }
    fn tok_at(&self, i: usize) -> Tok {
        self.toks.get(i).map_or(Tok::End, |t| t.tok)
    }
    fn text(&self, i: usize) -> &'s str {
        let src = self.src;
        self.toks
            .get(i)
            .and_then(|t| src.get(t.start..t.end))
            .unwrap_or("")
    }
    /// The current token's text when it is a word.
    fn word(&self) -> Option<&'s str> {
        self.word_at(self.pos)
    }
    fn word_at(&self, i: usize) -> Option<&'s str> {
        (self.tok_at(i) == Tok::Word).then(|| self.text(i))
    }
    fn is_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }
    fn err_at(&self, i: usize, kind: FilterErrorKind, msg: &str) -> FilterError {
        let (offset, token) = match self.toks.get(i) {
            Some(t) => (t.start, self.text(i).to_string()),
            None => (self.src.len(), String::new()),
        };
        FilterError {
            kind,
            offset,
            token,
            message: msg.to_string(),
        }
    }
    fn err(&self, kind: FilterErrorKind, msg: &str) -> FilterError {
        self.err_at(self.pos, kind, msg)
    }
    fn enter(&mut self) -> PResult<()> {
        self.nest += 1;
        if self.nest > MAX_DEPTH {
            return Err(self.err(
                FilterErrorKind::TooDeep,
                &format!("the expression nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.nest = self.nest.saturating_sub(1);
    }
    fn check_depth(&self, depth: usize) -> PResult<()> {
        if depth > MAX_DEPTH {
            return Err(self.err(
                FilterErrorKind::TooDeep,
                &format!("the expression nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn is_and(&self) -> bool {
        self.peek() == Tok::AndAnd || self.is_word("and")
    }
    fn is_or(&self) -> bool {
        self.peek() == Tok::OrOr || self.is_word("or")
    }

    /// expr := term ((and|or) term)*, left-associative, one precedence.
    fn expr(&mut self) -> PResult<(Node, usize)> {
        let (mut node, mut depth) = self.term()?;
        loop {
            let is_and = if self.is_and() {
                true
            } else if self.is_or() {
                false
            } else {
                break;
            };
            self.pos += 1;
            let (rhs, rd) = self.term()?;
            node = match (node, is_and) {
                (Node::And(mut v), true) => {
                    v.push(rhs);
                    depth = depth.max(rd + 1);
                    Node::And(v)
                }
                (Node::Or(mut v), false) => {
                    v.push(rhs);
                    depth = depth.max(rd + 1);
                    Node::Or(v)
                }
                (lhs, true) => {
                    depth = depth.max(rd) + 1;
                    Node::And(vec![lhs, rhs])
                }
                (lhs, false) => {
                    depth = depth.max(rd) + 1;
                    Node::Or(vec![lhs, rhs])
                }
            };
            self.check_depth(depth)?;
        }
        Ok((node, depth))
    }

    fn term(&mut self) -> PResult<(Node, usize)> {
        if self.peek() == Tok::Bang || self.is_word("not") {
            self.pos += 1;
            self.enter()?;
            let (t, d) = self.term()?;
            self.leave();
            self.check_depth(d + 1)?;
            return Ok((Node::Not(Box::new(t)), d + 1));
        }
        if self.peek() == Tok::LParen {
            // Either an arithmetic relation `(tcp[13] & 2) != 0` or a parenthesized
            // expression: try the relation first, then fall back.
            let save = (self.pos, self.vlan_depth, self.last, self.nest);
            let rel_err = match self.relation() {
                Ok(r) => return Ok(r),
                Err(e) => e,
            };
            (self.pos, self.vlan_depth, self.last, self.nest) = save;
            self.encaps.truncate(usize::from(self.vlan_depth));
            self.pos += 1;
            self.enter()?;
            let inner = self.expr().and_then(|r| {
                if self.peek() == Tok::RParen {
                    self.pos += 1;
                    Ok(r)
                } else {
                    Err(self.err(FilterErrorKind::Syntax, "expected `)`"))
                }
            });
            self.leave();
            return match inner {
                Ok(r) => Ok(r),
                // Report whichever reading got further.
                Err(e) if rel_err.offset > e.offset => Err(rel_err),
                Err(e) => Err(e),
            };
        }
        self.primitive().map(|n| (n, 1))
    }

    fn starts_arith(&self) -> bool {
        match self.peek() {
            Tok::Minus | Tok::LParen => true,
            Tok::Word => {
                let w = self.text(self.pos);
                parse_num(w).is_some()
                    || w == "len"
                    || CONSTANTS.iter().any(|(n, _)| *n == w)
                    || self.tok_at(self.pos + 1) == Tok::LBracket
            }
            _ => false,
        }
    }

    fn relation(&mut self) -> PResult<(Node, usize)> {
        let (lhs, ld) = self.arith(0)?;
        let op = match self.peek() {
            Tok::Eq => RelOp::Eq,
            Tok::Ne => RelOp::Ne,
            Tok::Lt => RelOp::Lt,
            Tok::Le => RelOp::Le,
            Tok::Gt => RelOp::Gt,
            Tok::Ge => RelOp::Ge,
            _ => {
                return Err(self.err(
                    FilterErrorKind::Syntax,
                    "expected a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`)",
                ))
            }
        };
        self.pos += 1;
        let (rhs, rd) = self.arith(0)?;
        self.last = LastQual::None;
        Ok((Node::Rel(Box::new(lhs), op, Box::new(rhs)), ld.max(rd) + 1))
    }

    /// Precedence climbing over the binary arithmetic operators.
    fn arith(&mut self, min_level: u8) -> PResult<(Arith, usize)> {
        let (mut lhs, mut depth) = self.unary()?;
        loop {
            let (op, level) = match self.peek() {
                Tok::Pipe => (ArOp::Or, 0),
                Tok::Caret => (ArOp::Xor, 0),
                Tok::Amp => (ArOp::And, 1),
                Tok::Shl => (ArOp::Shl, 2),
                Tok::Shr => (ArOp::Shr, 2),
                Tok::Plus => (ArOp::Add, 3),
                Tok::Minus => (ArOp::Sub, 3),
                Tok::Star => (ArOp::Mul, 4),
                Tok::Slash => (ArOp::Div, 4),
                Tok::Percent => (ArOp::Mod, 4),
                _ => break,
            };
            if level < min_level {
                break;
            }
            let op_tok = self.pos;
            self.pos += 1;
            self.enter()?;
            let rhs = self.arith(level + 1);
            self.leave();
            let (rhs, rd) = rhs?;
            match (op, &rhs) {
                (ArOp::Div | ArOp::Mod, Arith::Num(0)) => {
                    return Err(self.err_at(op_tok, FilterErrorKind::BadValue, "division by zero"))
                }
                (ArOp::Shl | ArOp::Shr, Arith::Num(n)) if *n > 31 => {
                    return Err(self.err_at(
                        op_tok,
                        FilterErrorKind::BadValue,
                        "shift by more than 31 bits",
                    ))
                }
                _ => {}
            }
            depth = depth.max(rd) + 1;
            self.check_depth(depth)?;
            lhs = Arith::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok((lhs, depth))
    }

    fn unary(&mut self) -> PResult<(Arith, usize)> {
        match self.peek() {
            Tok::Minus => {
                self.pos += 1;
                self.enter()?;
                let r = self.unary();
                self.leave();
                let (a, d) = r?;
                self.check_depth(d + 1)?;
                Ok((Arith::Neg(Box::new(a)), d + 1))
            }
            Tok::LParen => {
                self.pos += 1;
                self.enter()?;
                let r = self.arith(0);
                self.leave();
                let r = r?;
                if self.peek() != Tok::RParen {
                    return Err(self.err(FilterErrorKind::Syntax, "expected `)`"));
                }
                self.pos += 1;
                Ok(r)
            }
            Tok::Word => self.arith_word(),
            _ => Err(self.err(FilterErrorKind::Syntax, "expected a number or `proto[…]`")),
        }
    }

    fn arith_word(&mut self) -> PResult<(Arith, usize)> {
        let at = self.pos;
        let w = self.text(at);
        if self.tok_at(at + 1) == Tok::LBracket {
            let base = match w {
                "ether" | "link" => Base::Link,
                "ip" => Base::Ip,
                "ip6" => Base::Ip6,
                "arp" => Base::Arp,
                "tcp" => Base::OverIpv4(IpNumber::TCP.0),
                "udp" => Base::OverIpv4(IpNumber::UDP.0),
                "icmp" => Base::OverIpv4(IpNumber::ICMP.0),
                "sctp" => Base::OverIpv4(IpNumber::SCTP.0),
                "icmp6" => Base::Icmp6,
                _ if UNSUPPORTED.contains(&w) || w == "rarp" => {
                    return Err(self.err(
                        FilterErrorKind::NotSupported,
                        &format!("byte access `{w}[…]` is not supported"),
                    ))
                }
                _ => {
                    return Err(self.err(
                        FilterErrorKind::Syntax,
                        &format!("`{w}` is not a protocol for `[…]` byte access"),
                    ))
                }
            };
            self.pos += 2;
            self.enter()?;
            let idx = self.arith(0);
            self.leave();
            let (index, d) = idx?;
            let mut size = 1u8;
            if self.peek() == Tok::Colon {
                self.pos += 1;
                size = match self.word().and_then(parse_num) {
                    Some(n @ (1 | 2 | 4)) => n as u8,
                    _ => {
                        return Err(self.err(
                            FilterErrorKind::BadValue,
                            "the size of a byte access must be 1, 2 or 4",
                        ))
                    }
                };
                self.pos += 1;
            }
            if self.peek() != Tok::RBracket {
                return Err(self.err(FilterErrorKind::Syntax, "expected `]`"));
            }
            self.pos += 1;
            return Ok((
                Arith::Load {
                    base,
                    index: Box::new(index),
                    size,
                    vlan_depth: self.vlan_depth,
                },
                d + 1,
            ));
        }
        self.pos += 1;
        if w == "len" {
            return Ok((Arith::Len, 1));
        }
        if let Some(n) = parse_num(w) {
            return Ok((Arith::Num(n), 1));
        }
        if let Some((_, v)) = CONSTANTS.iter().find(|(n, _)| *n == w) {
            return Ok((Arith::Num(*v), 1));
        }
        Err(self.err_at(
            at,
            FilterErrorKind::Syntax,
            &format!("`{w}` is not a number or a known constant"),
        ))
    }

    fn primitive(&mut self) -> PResult<Node> {
        let at = self.pos;
        // A number followed by `and`/`or`/`)`/the end is a bare id repeating qualifiers
        // (`port 80 or 443`); anything else that starts like arithmetic is a relation.
        let next = self.tok_at(at + 1);
        let bare_number = self.word().and_then(parse_num).is_some()
            && (matches!(next, Tok::End | Tok::RParen | Tok::AndAnd | Tok::OrOr)
                || matches!(self.word_at(at + 1), Some("and" | "or")));
        if self.starts_arith() && !bare_number {
            return self.relation().map(|(n, _)| n);
        }
        let Some(w) = self.word() else {
            let msg = match self.peek() {
                Tok::End => "the expression ends where a primitive was expected".to_string(),
                Tok::Bad => format!("unexpected character `{}`", self.text(at)),
                _ => format!("expected a primitive, found `{}`", self.text(at)),
            };
            return Err(self.err(FilterErrorKind::Syntax, &msg));
        };
        let depth = self.vlan_depth;
        match w {
            "vlan" | "mpls" | "pppoes" | "geneve" | "vxlan" => {
                self.pos += 1;
                // The optional number: VLAN id, MPLS label, PPPoE session, Geneve or VXLAN
                // VNI.
                let (step, max) = match w {
                    "vlan" => (EncapStep::Vlan, 4095),
                    "mpls" => (EncapStep::Mpls, 0xf_ffff),
                    "pppoes" => (EncapStep::Pppoes, 0xffff),
                    "geneve" => (EncapStep::Geneve, 0xff_ffff),
                    _ => (EncapStep::Vxlan, 0xff_ffff),
                };
                let mut id = None;
                if let Some(n) = self.word().and_then(parse_num) {
                    if n > max {
                        return Err(self.err(
                            FilterErrorKind::BadValue,
                            &format!("{w} {n} is above {max}"),
                        ));
                    }
                    id = Some(n);
                    self.pos += 1;
                }
                if step == EncapStep::Pppoes && self.encaps.contains(&EncapStep::Mpls) {
                    return Err(self.err_at(
                        at,
                        FilterErrorKind::NotSupported,
                        "PPPoE inside MPLS is not supported (neither does libpcap)",
                    ));
                }
                if self.encaps.len() >= MAX_ENCAP_STEPS {
                    return Err(self.err_at(
                        at,
                        FilterErrorKind::TooDeep,
                        &format!("more than {MAX_ENCAP_STEPS} encapsulation keywords"),
                    ));
                }
                self.encaps.push(step);
                self.vlan_depth += 1;
                self.last = LastQual::None;
                let prim = match step {
                    EncapStep::Vlan => Prim::Vlan(id.map(|n| n as u16)),
                    EncapStep::Mpls => Prim::Mpls(id),
                    EncapStep::Pppoes => Prim::Pppoes(id.map(|n| n as u16)),
                    EncapStep::Geneve => Prim::Geneve(id),
                    EncapStep::Vxlan => Prim::Vxlan(id),
                };
                Ok(Node::Prim(prim, depth))
            }
            "pppoed" => {
                self.pos += 1;
                self.last = LastQual::None;
                Ok(Node::Prim(Prim::Pppoed, depth))
            }
            "greater" | "less" => {
                self.pos += 1;
                let Some(n) = self.word().and_then(parse_num) else {
                    return Err(self.err(
                        FilterErrorKind::Syntax,
                        &format!("`{w}` needs a length in bytes"),
                    ));
                };
                self.pos += 1;
                self.last = LastQual::None;
                Ok(Node::Prim(
                    if w == "greater" {
                        Prim::Greater(n)
                    } else {
                        Prim::Less(n)
                    },
                    depth,
                ))
            }
            "ip" | "ip6" | "arp" | "rarp" | "tcp" | "udp" | "icmp" | "icmp6" | "sctp" | "ether"
            | "link" => {
                if matches!(w, "arp" | "rarp") && self.encaps.contains(&EncapStep::Mpls) {
                    // libpcap: "unsupported protocol over mpls".
                    return Err(self.err(
                        FilterErrorKind::NotSupported,
                        "MPLS carries IPv4 or IPv6 here, never ARP (libpcap refuses it too)",
                    ));
                }
                let next = self.word_at(at + 1);
                let qualifies = matches!(
                    next,
                    Some("src" | "dst" | "host" | "net" | "port" | "portrange" | "proto")
                );
                if qualifies || w == "ether" || w == "link" {
                    return self.qualified();
                }
                self.pos += 1;
                self.last = LastQual::None;
                let prim = match w {
                    "ip" => Prim::Net(NetKind::Ipv4),
                    "ip6" => Prim::Net(NetKind::Ipv6),
                    "arp" => Prim::Net(NetKind::Arp),
                    "rarp" => Prim::Net(NetKind::Rarp),
                    "tcp" => Prim::Proto {
                        v4: true,
                        v6: true,
                        proto: IpNumber::TCP.0,
                    },
                    "udp" => Prim::Proto {
                        v4: true,
                        v6: true,
                        proto: IpNumber::UDP.0,
                    },
                    "sctp" => Prim::Proto {
                        v4: true,
                        v6: true,
                        proto: IpNumber::SCTP.0,
                    },
                    "icmp" => Prim::Proto {
                        v4: true,
                        v6: false,
                        proto: IpNumber::ICMP.0,
                    },
                    _ => Prim::Proto {
                        v4: false,
                        v6: true,
                        proto: IpNumber::ICMPV6.0,
                    },
                };
                Ok(Node::Prim(prim, depth))
            }
            "src" | "dst" | "host" | "net" | "port" | "portrange" | "proto" => self.qualified(),
            "gateway" => Err(self.err(
                FilterErrorKind::NotSupported,
                "`gateway` is not supported (it needs host name lookups)",
            )),
            _ if UNSUPPORTED.contains(&w) => Err(self.err(
                FilterErrorKind::NotSupported,
                &format!("`{w}` is not supported by layerscope's filter"),
            )),
            _ if KEYWORDS.contains(&w) => Err(self.err(
                FilterErrorKind::Syntax,
                &format!("`{w}` cannot start a primitive here"),
            )),
            _ => {
                let q = match self.last {
                    LastQual::Start => DEFAULT_QUAL,
                    LastQual::Some(q) => q,
                    LastQual::None => {
                        return Err(self.err(
                            FilterErrorKind::Syntax,
                            &format!(
                                "`{w}` has no qualifier to repeat: write `host {w}`, `port {w}`…"
                            ),
                        ))
                    }
                };
                self.pos += 1;
                self.build(q, at)
            }
        }
    }

    /// `[proto] [dir] [type] id`, or `[ip|ip6] proto N`.
    fn qualified(&mut self) -> PResult<Node> {
        let mut q = DEFAULT_QUAL;
        let first = self.pos;
        if let Some(w) = self.word() {
            let proto = match w {
                "ether" | "link" => Some(PQ::Ether),
                "ip" => Some(PQ::Ip),
                "ip6" => Some(PQ::Ip6),
                "arp" => Some(PQ::Arp),
                "rarp" => Some(PQ::Rarp),
                "tcp" => Some(PQ::Tcp),
                "udp" => Some(PQ::Udp),
                "sctp" => Some(PQ::Sctp),
                "icmp" | "icmp6" => {
                    return Err(self.err_at(
                        first + 1,
                        FilterErrorKind::Syntax,
                        &format!("`{w}` takes no host/port qualifiers"),
                    ))
                }
                _ => None,
            };
            if let Some(p) = proto {
                q.proto = p;
                q.proto_tok = Some(first);
                self.pos += 1;
            }
        }
        if self.is_word("proto") {
            return self.ip_proto(q);
        }
        if q.proto == PQ::Ether {
            match self.word() {
                Some("src" | "dst" | "host") => {}
                Some(w @ ("proto" | "broadcast" | "multicast")) => {
                    return Err(self.err(
                        FilterErrorKind::NotSupported,
                        &format!("`ether {w}` is not supported by layerscope's filter"),
                    ))
                }
                _ => {
                    return Err(self.err(
                        FilterErrorKind::Syntax,
                        "`ether` needs `host`, `src` or `dst` and a MAC address",
                    ))
                }
            }
        }
        // Direction.
        match self.word() {
            Some(d @ ("src" | "dst")) => {
                let other = if d == "src" { "dst" } else { "src" };
                let join = self.tok_at(self.pos + 1);
                let join_and = join == Tok::AndAnd || self.word_at(self.pos + 1) == Some("and");
                let join_or = join == Tok::OrOr || self.word_at(self.pos + 1) == Some("or");
                if (join_and || join_or) && self.word_at(self.pos + 2) == Some(other) {
                    q.dir = if join_and { Dir::Both } else { Dir::Either };
                    self.pos += 3;
                } else {
                    q.dir = if d == "src" { Dir::Src } else { Dir::Dst };
                    self.pos += 1;
                }
            }
            Some(
                w @ ("inbound" | "outbound" | "ra" | "ta" | "addr1" | "addr2" | "addr3" | "addr4"),
            ) => {
                return Err(self.err(
                    FilterErrorKind::NotSupported,
                    &format!("direction `{w}` is not supported by layerscope's filter"),
                ))
            }
            _ => {}
        }
        // Type.
        match self.word() {
            Some("host") => q.kind = Kind::Host,
            Some("net") => q.kind = Kind::Net,
            Some("port") => q.kind = Kind::Port,
            Some("portrange") => q.kind = Kind::PortRange,
            Some("gateway") => {
                return Err(self.err(
                    FilterErrorKind::NotSupported,
                    "`gateway` is not supported (it needs host name lookups)",
                ))
            }
            Some("proto") => {
                return Err(self.err(FilterErrorKind::Syntax, "`proto` cannot take a direction"))
            }
            _ => {}
        }
        if q.kind != Kind::Default {
            self.pos += 1;
        }
        let at = self.pos;
        match self.peek() {
            Tok::Word if !KEYWORDS.contains(&self.text(at)) => {}
            _ => {
                return Err(self.err(
                    FilterErrorKind::Syntax,
                    "expected an address, a network or a port",
                ))
            }
        }
        self.pos += 1;
        let node = self.build(q, at)?;
        self.last = LastQual::Some(q);
        Ok(node)
    }

    /// `proto N`, `ip proto N`, `ip6 proto N` (N a number or `\tcp`-style name).
    fn ip_proto(&mut self, q: Qual) -> PResult<Node> {
        let (v4, v6) = match q.proto {
            PQ::Any => (true, true),
            PQ::Ip => (true, false),
            PQ::Ip6 => (false, true),
            _ => {
                return Err(self.err(
                    FilterErrorKind::NotSupported,
                    "`proto` is supported after `ip`, `ip6` or alone",
                ))
            }
        };
        self.pos += 1;
        let Some(w) = self.word() else {
            return Err(self.err(FilterErrorKind::Syntax, "`proto` needs a protocol number"));
        };
        let name = w.strip_prefix('\\').unwrap_or(w);
        let n = parse_num(name)
            .or_else(|| {
                IP_PROTO_NAMES
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| u32::from(*v))
            })
            .filter(|n| *n <= 255);
        let Some(n) = n else {
            return Err(self.err(
                FilterErrorKind::BadValue,
                "not an IP protocol number (0-255) or name",
            ));
        };
        self.pos += 1;
        self.last = LastQual::None;
        Ok(Node::Prim(
            Prim::Proto {
                v4,
                v6,
                proto: n as u8,
            },
            self.vlan_depth,
        ))
    }

    fn proto_mismatch(&self, q: Qual, what: &str) -> FilterError {
        let i = q.proto_tok.unwrap_or(self.pos);
        self.err_at(
            i,
            FilterErrorKind::Syntax,
            &format!("`{}` cannot qualify {what}", self.text(i)),
        )
    }

    /// Builds the primitive for qualifiers `q` and the id at token `at`.
    fn build(&mut self, q: Qual, at: usize) -> PResult<Node> {
        let id = self.text(at);
        let depth = self.vlan_depth;
        let bad = |me: &Self, msg: String| me.err_at(at, FilterErrorKind::BadValue, &msg);
        match q.kind {
            Kind::Port | Kind::PortRange => {
                let (protos, v4, v6) = match q.proto {
                    PQ::Any => (P_TCP | P_UDP | P_SCTP, true, true),
                    PQ::Ip => (P_TCP | P_UDP | P_SCTP, true, false),
                    PQ::Ip6 => (P_TCP | P_UDP | P_SCTP, false, true),
                    PQ::Tcp => (P_TCP, true, true),
                    PQ::Udp => (P_UDP, true, true),
                    PQ::Sctp => (P_SCTP, true, true),
                    _ => return Err(self.proto_mismatch(q, "a port")),
                };
                let port = |s: &str| -> PResult<u16> {
                    match port_value(s) {
                        Some(p) if p <= 65535 => Ok(p as u16),
                        Some(p) => Err(bad(self, format!("port {p} is above 65535"))),
                        None => Err(bad(
                            self,
                            format!("`{s}` is not a port number or a known service name"),
                        )),
                    }
                };
                let (lo, hi) = if q.kind == Kind::Port {
                    let p = port(id)?;
                    (p, p)
                } else {
                    let Some((a, b)) = id.split_once('-') else {
                        return Err(bad(self, format!("`{id}` is not a port range `A-B`")));
                    };
                    let (a, b) = (port(a)?, port(b)?);
                    (a.min(b), a.max(b))
                };
                Ok(Node::Prim(
                    Prim::Port {
                        dir: q.dir,
                        lo,
                        hi,
                        protos,
                        v4,
                        v6,
                    },
                    depth,
                ))
            }
            Kind::Net => self.build_net(q, at, depth),
            Kind::Host | Kind::Default => {
                if let Some(mac) = parse_mac(id).filter(|_| !id.contains("::")) {
                    if !matches!(q.proto, PQ::Any | PQ::Ether) {
                        return Err(self.proto_mismatch(q, "a MAC address"));
                    }
                    return Ok(Node::Prim(Prim::Ether { dir: q.dir, mac }, depth));
                }
                if q.proto == PQ::Ether {
                    return Err(bad(self, format!("`{id}` is not a MAC address")));
                }
                if let Ok(a) = id.parse::<Ipv4Addr>() {
                    return self.host4(q, u32::from(a), u32::MAX, depth);
                }
                if id.contains(':') {
                    if let Ok(a) = id.parse::<Ipv6Addr>() {
                        if !matches!(q.proto, PQ::Any | PQ::Ip6) {
                            return Err(self.proto_mismatch(q, "an IPv6 host"));
                        }
                        return Ok(Node::Prim(
                            Prim::Host6 {
                                dir: q.dir,
                                addr: a.octets(),
                                mask: [0xff; 16],
                            },
                            depth,
                        ));
                    }
                    return Err(bad(self, format!("`{id}` is not an IPv6 or MAC address")));
                }
                if parse_num(id).is_some() {
                    return Err(bad(
                        self,
                        format!("`{id}` needs a qualifier: `port {id}`, `host …`"),
                    ));
                }
                Err(self.err_at(
                    at,
                    FilterErrorKind::NotSupported,
                    &format!(
                        "`{id}` is not an address; layerscope does not resolve host names (no DNS lookups)"
                    ),
                ))
            }
        }
    }

    fn host4(&self, q: Qual, addr: u32, mask: u32, depth: u8) -> PResult<Node> {
        let (ip, arp, rarp) = match q.proto {
            PQ::Any => (true, true, true),
            PQ::Ip => (true, false, false),
            PQ::Arp => (false, true, false),
            PQ::Rarp => (false, false, true),
            _ => return Err(self.proto_mismatch(q, "an IPv4 host or net")),
        };
        Ok(Node::Prim(
            Prim::Host4 {
                dir: q.dir,
                addr,
                mask,
                ip,
                arp,
                rarp,
            },
            depth,
        ))
    }

    /// `net A.B/len`, `net A.B.C.D mask M`, `net 10.0`, `net fe80::/10`.
    fn build_net(&mut self, q: Qual, at: usize, depth: u8) -> PResult<Node> {
        let id = self.text(at);
        let bad = |me: &Self, i: usize, msg: String| me.err_at(i, FilterErrorKind::BadValue, &msg);
        if id.contains(':') {
            let Ok(a) = id.parse::<Ipv6Addr>() else {
                return Err(bad(self, at, format!("`{id}` is not an IPv6 network")));
            };
            if !matches!(q.proto, PQ::Any | PQ::Ip6) {
                return Err(self.proto_mismatch(q, "an IPv6 net"));
            }
            let mut len = 128;
            if self.peek() == Tok::Slash {
                self.pos += 1;
                match self.word().and_then(parse_num) {
                    Some(n) if n <= 128 => len = n,
                    _ => return Err(bad(self, self.pos, "expected a prefix length 0-128".into())),
                }
                self.pos += 1;
            }
            let mask = v6_mask(len);
            let addr = a.octets();
            if addr.iter().zip(mask).any(|(a, m)| a & !m != 0) {
                return Err(bad(
                    self,
                    at,
                    format!("non-network bits set in `{id}/{len}`"),
                ));
            }
            return Ok(Node::Prim(
                Prim::Host6 {
                    dir: q.dir,
                    addr,
                    mask,
                },
                depth,
            ));
        }
        let Some((addr, octets)) = parse_partial_v4(id) else {
            return Err(bad(
                self,
                at,
                format!("`{id}` is not an IPv4 network (host names are not resolved)"),
            ));
        };
        let mask = if self.peek() == Tok::Slash {
            self.pos += 1;
            let m = match self.word().and_then(parse_num) {
                Some(n) if n <= 32 => v4_mask(n),
                _ => return Err(bad(self, self.pos, "expected a prefix length 0-32".into())),
            };
            self.pos += 1;
            m
        } else if self.is_word("mask") {
            self.pos += 1;
            let m = match self.word().and_then(|w| w.parse::<Ipv4Addr>().ok()) {
                Some(m) => u32::from(m),
                None => return Err(bad(self, self.pos, "expected a dotted mask".into())),
            };
            self.pos += 1;
            m
        } else {
            v4_mask(8 * octets)
        };
        if addr & !mask != 0 {
            return Err(bad(self, at, format!("non-network bits set in `{id}`")));
        }
        self.host4(q, addr, mask, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Node {
        match parse(s) {
            Ok(n) => n,
            Err(e) => panic!("{s}: {e}\n{}", e.caret(s)),
        }
    }
    fn host4(dir: Dir, a: [u8; 4]) -> Node {
        Node::Prim(
            Prim::Host4 {
                dir,
                addr: u32::from_be_bytes(a),
                mask: u32::MAX,
                ip: true,
                arp: true,
                rarp: true,
            },
            0,
        )
    }
    const TCP: Prim = Prim::Proto {
        v4: true,
        v6: true,
        proto: 6,
    };

    #[test]
    fn and_or_share_one_left_associative_precedence() {
        let udp = Node::Prim(
            Prim::Proto {
                v4: true,
                v6: true,
                proto: 17,
            },
            0,
        );
        let arp = Node::Prim(Prim::Net(NetKind::Arp), 0);
        assert_eq!(
            p("tcp or udp and arp"),
            Node::And(vec![
                Node::Or(vec![Node::Prim(TCP, 0), udp.clone()]),
                arp.clone()
            ])
        );
        assert_eq!(
            p("not tcp && !udp || arp"),
            Node::Or(vec![
                Node::And(vec![
                    Node::Not(Box::new(Node::Prim(TCP, 0))),
                    Node::Not(Box::new(udp))
                ]),
                arp
            ])
        );
    }

    #[test]
    fn bare_ids_repeat_the_previous_qualifiers() {
        assert_eq!(
            p("src host 10.0.0.1 or 10.0.0.2"),
            Node::Or(vec![
                host4(Dir::Src, [10, 0, 0, 1]),
                host4(Dir::Src, [10, 0, 0, 2])
            ])
        );
        let port = |p| {
            Node::Prim(
                Prim::Port {
                    dir: Dir::Either,
                    lo: p,
                    hi: p,
                    protos: P_TCP,
                    v4: true,
                    v6: true,
                },
                0,
            )
        };
        assert_eq!(
            p("tcp port http or 443 or not 22"),
            Node::Or(vec![port(80), port(443), Node::Not(Box::new(port(22)))])
        );
        // Bare address at the start: host.
        assert_eq!(p("10.0.0.1"), host4(Dir::Either, [10, 0, 0, 1]));
        assert!(parse("tcp or 80").is_err());
    }

    #[test]
    fn directions_and_nets() {
        assert_eq!(
            p("src and dst net 10.0"),
            Node::Prim(
                Prim::Host4 {
                    dir: Dir::Both,
                    addr: 0x0a00_0000,
                    mask: 0xffff_0000,
                    ip: true,
                    arp: true,
                    rarp: true
                },
                0
            )
        );
        let n = p("ip dst net 192.168.0.0 mask 255.255.254.0");
        assert_eq!(
            n,
            Node::Prim(
                Prim::Host4 {
                    dir: Dir::Dst,
                    addr: 0xc0a8_0000,
                    mask: 0xffff_fe00,
                    ip: true,
                    arp: false,
                    rarp: false
                },
                0
            )
        );
        assert_eq!(p("net 172.16.0.0/12"), p("net 172.16.0.0 mask 255.240.0.0"));
        let Node::Prim(Prim::Host6 { mask, addr, .. }, 0) = p("ip6 src net fe80::/10") else {
            panic!()
        };
        assert_eq!(
            (addr[0], addr[1], mask[0], mask[1], mask[2]),
            (0xfe, 0x80, 0xff, 0xc0, 0)
        );
        assert_eq!(
            parse("net 10.0.0.1/8").unwrap_err().message,
            "non-network bits set in `10.0.0.1`"
        );
    }

    #[test]
    fn byte_access_and_arithmetic_precedence() {
        let n = p("tcp[tcpflags] & (tcp-syn|tcp-fin) != 0");
        let Node::Rel(lhs, RelOp::Ne, rhs) = n else {
            panic!()
        };
        assert_eq!(*rhs, Arith::Num(0));
        assert_eq!(
            *lhs,
            Arith::Bin(
                ArOp::And,
                Box::new(Arith::Load {
                    base: Base::OverIpv4(6),
                    index: Box::new(Arith::Num(13)),
                    size: 1,
                    vlan_depth: 0
                }),
                Box::new(Arith::Bin(
                    ArOp::Or,
                    Box::new(Arith::Num(2)),
                    Box::new(Arith::Num(1))
                ))
            )
        );
        // 1 + 2 * 3 << 1 = (1 + 6) << 1
        let Node::Rel(lhs, RelOp::Eq, _) = p("1 + 2 * 3 << 1 = 14") else {
            panic!()
        };
        assert_eq!(
            *lhs,
            Arith::Bin(
                ArOp::Shl,
                Box::new(Arith::Bin(
                    ArOp::Add,
                    Box::new(Arith::Num(1)),
                    Box::new(Arith::Bin(
                        ArOp::Mul,
                        Box::new(Arith::Num(2)),
                        Box::new(Arith::Num(3))
                    ))
                )),
                Box::new(Arith::Num(1))
            )
        );
        // Parenthesized relation and parenthesized boolean both parse.
        p("(ip[0] & 0xf) > 5 and (tcp or udp)");
        p("((tcp[13] & 2) != 0 or udp)");
        p("ip[2:2] - 20 >= 0x10 and len <= 1500 and -1 = 0xffffffff");
    }

    #[test]
    fn vlan_shifts_the_primitives_after_it() {
        assert_eq!(
            p("vlan 100 and vlan and tcp"),
            Node::And(vec![
                Node::Prim(Prim::Vlan(Some(100)), 0),
                Node::Prim(Prim::Vlan(None), 1),
                Node::Prim(TCP, 2)
            ])
        );
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = parse("host 1.2.3.4 and port 99999").unwrap_err();
        assert_eq!((e.offset, e.token.as_str()), (22, "99999"));
        assert_eq!(e.kind, FilterErrorKind::BadValue);
        let e = parse("ether proto \\ip").unwrap_err();
        assert_eq!((e.offset, e.kind), (6, FilterErrorKind::NotSupported));
        let e = parse("host example.com").unwrap_err();
        assert_eq!((e.offset, e.kind), (5, FilterErrorKind::NotSupported));
        for s in [
            "wlan host 1:2:3:4:5:6",
            "llc and tcp",
            "mpls and arp",
            "gateway x",
            "tcp and inbound",
        ] {
            assert_eq!(
                parse(s).unwrap_err().kind,
                FilterErrorKind::NotSupported,
                "{s}"
            );
        }
        let e = parse("(tcp or udp").unwrap_err();
        assert_eq!((e.offset, e.token.as_str()), (11, ""));
        let e = parse("tcp udp").unwrap_err();
        assert_eq!((e.offset, e.token.as_str()), (4, "udp"));
        assert_eq!(parse("tcp[13:3] = 0").unwrap_err().token, "3");
        assert_eq!(parse("ip[0] / 0 = 1").unwrap_err().token, "/");
        assert_eq!(
            parse("ip[0] << 32 = 1").unwrap_err().message,
            "shift by more than 31 bits"
        );
        assert_eq!(parse("tcp port 80 or").unwrap_err().offset, 14);
        assert!(parse("").is_err());
        assert!(parse("icmp port 1").is_err());
        assert!(parse("tcp host 1.2.3.4").is_err());
        assert!(parse("ip host ::1").is_err());
        assert!(parse("ip6 host 1.2.3.4").is_err());
    }

    #[test]
    fn nesting_is_capped_and_long_flat_chains_are_fine() {
        let deep = format!("{}tcp{}", "(".repeat(300), ")".repeat(300));
        assert_eq!(parse(&deep).unwrap_err().kind, FilterErrorKind::TooDeep);
        let ok = format!("{}tcp{}", "(".repeat(100), ")".repeat(100));
        p(&ok);
        let nots = format!("{}tcp", "not ".repeat(10_000));
        assert_eq!(parse(&nots).unwrap_err().kind, FilterErrorKind::TooDeep);
        let flat = vec!["port 1"; 5000].join(" or ");
        p(&flat);
        let arith = format!("{} = 0", vec!["1"; 5000].join("+"));
        assert_eq!(parse(&arith).unwrap_err().kind, FilterErrorKind::TooDeep);
        let brackets = format!("{}0{} = 0", "ip[".repeat(1000), "]".repeat(1000));
        assert_eq!(parse(&brackets).unwrap_err().kind, FilterErrorKind::TooDeep);
    }
}
