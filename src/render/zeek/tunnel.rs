//! tunnel.log (Zeek's `Tunnel::Info`, `base/frameworks/tunnels`).
//!
//! UDP tunnels (VXLAN, Geneve, GTP-U, Teredo, AYIYA): one `Tunnel::DISCOVER` record when
//! the tunnel's connection first carries a decoded inner packet, one `Tunnel::CLOSE` when
//! that connection ends (at the time of the last packet seen then, as Zeek logs it at
//! network time). The uid is the tunnel connection's own, as in Zeek (an
//! `EncapsulatingConn` takes its connection's uid), so it equals conn.log's `uid` of the UDP
//! connection and the `tunnel_parents` of the connections inside.
//!
//! IP tunnels (IP in IP: `Tunnel::IP`; GRE: `Tunnel::GRE`) are no connection: as Zeek's
//! `IPTunnelAnalyzer` they are keyed by their outer address pair (and kind), discovered
//! when a new connection starts inside one (Zeek's `new_connection` → `Tunnel::register`),
//! logged with ports 0 and a uid of their own, and named in the inner connections'
//! `tunnel_parents`.
//!
//! Every tunnel in which no new connection started for [`EXPIRATION_NS`] (Zeek's
//! `Tunnel::expiration_interval`, 1 hour: `Tunnel::active` is a table with `&read_expire`)
//! is logged `Tunnel::EXPIRE` and forgotten (checked every 10 s of capture time, Zeek's
//! `table_expire_interval`); a later connection in it discovers it again. GRE over UDP,
//! MPLS over UDP and ESP in UDP have no Zeek analyzer and are not logged.

use super::Ends;
use crate::capture::Timestamp;
use crate::decode::{EncapKind, Encapsulation, OuterFlow};
use crate::flow::ConnId;
use crate::wire::udp::UdpTunnel;
use arrayvec::ArrayVec;
use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::net::SocketAddr;

/// tunnel.log's fields (Zeek's `Tunnel::Info`).
pub(super) const TUNNEL_FIELDS: &[(&str, &str)] = &[
    ("ts", "time"),
    ("uid", "string"),
    super::ID_FIELDS[0],
    super::ID_FIELDS[1],
    super::ID_FIELDS[2],
    super::ID_FIELDS[3],
    ("tunnel_type", "enum"),
    ("action", "enum"),
];

/// Zeek's `Tunnel::Type` of a UDP tunnel and the name of Zeek's analyzer for it (the
/// tunnel connection's conn.log `service`), None where Zeek has none.
fn zeek_tunnel_type(flow: &OuterFlow) -> Option<(&'static str, &'static str)> {
    Some(match flow.tunnel {
        UdpTunnel::Vxlan => ("Tunnel::VXLAN", "vxlan"),
        UdpTunnel::Geneve => ("Tunnel::GENEVE", "geneve"),
        UdpTunnel::GtpU => ("Tunnel::GTPv1", "gtpv1"),
        UdpTunnel::Teredo => ("Tunnel::TEREDO", "teredo"),
        UdpTunnel::Ayiya => ("Tunnel::AYIYA", "ayiya"),
        UdpTunnel::GreOverUdp | UdpTunnel::MplsOverUdp | UdpTunnel::EspInUdp => return None,
    })
}

/// Zeek's `Tunnel::expiration_interval` (1 hour), in nanoseconds.
pub(super) const EXPIRATION_NS: i128 = 3_600_000_000_000;
/// How often idle tunnels are looked for (Zeek's `table_expire_interval`, 10 s).
const EXPIRE_CHECK_NS: i128 = 10_000_000_000;
/// Most IP tunnels tracked at once (more are not logged, and counted).
pub(super) const MAX_IP_TUNNELS: usize = 65_536;
/// Most tunnels named in one connection's `tunnel_parents`.
const MAX_PARENTS: usize = 8;

/// An open tunnel: its endpoints and type.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tunnel {
    pub ends: Ends,
    pub kind: &'static str,
    /// Zeek's analyzer name for it (`vxlan`, `teredo` …; empty for an IP tunnel).
    pub service: &'static str,
    /// When a connection last started inside it (for `Tunnel::EXPIRE`).
    last_new_conn: Timestamp,
    /// A UDP tunnel logged `Tunnel::EXPIRE` (its connection still open): no `CLOSE` for
    /// it unless a new connection inside discovers it again.
    pub expired: bool,
}

/// Which tunnel a record is about: a UDP tunnel's connection, or the serial number of an
/// IP tunnel (its uid is made from it, apart from connection uids).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TunnelRef {
    Conn(ConnId),
    Ip(u64),
}

/// An IP tunnel's key: its outer addresses (lower first) and whether it is GRE.
type IpKey = (IpAddr, IpAddr, bool);

/// The tunnels discovered and not yet closed or expired (one entry per open tunnel
/// connection, bounded by the flow table's `max_flows`; IP tunnels at most
/// [`MAX_IP_TUNNELS`]), and the time of the last packet.
#[derive(Default)]
pub(super) struct Tunnels {
    open: FxHashMap<ConnId, Tunnel>,
    /// UDP tunnel connections seen and not yet discovered (no connection inside yet): their
    /// ends as their first packet had them.
    first_ends: FxHashMap<ConnId, (Ends, &'static str)>,
    ip: FxHashMap<IpKey, (u64, Tunnel)>,
    next_serial: u64,
    /// conn.log's `tunnel_parents` of each open connection that has some: as Zeek's
    /// `Conn::set_conn` adds them, the innermost tunnel of each packet, at most
    /// [`MAX_PARENTS`] (more counted).
    parents: FxHashMap<ConnId, ArrayVec<TunnelRef, MAX_PARENTS>>,
    /// Tunnels not named in a connection's `tunnel_parents` past [`MAX_PARENTS`].
    pub parents_cut: u64,
    /// IP tunnels not tracked because [`MAX_IP_TUNNELS`] were.
    pub ip_untracked: u64,
    /// Capture time (ns since the epoch) of the next look for idle tunnels.
    next_expire_check: Option<i128>,
    pub last_ts: Option<Timestamp>,
}

impl Tunnels {
    /// A packet that came through the UDP tunnels `flows`, whose connections are `conns`
    /// (same order); `known` gives the endpoints of a connection seen before as plain UDP.
    /// Calls `discover` for each tunnel seen for the first time.
    pub fn packet(
        &mut self,
        flows: &[OuterFlow],
        (conns, inner): (&[ConnId], Option<ConnId>),
        known: impl Fn(ConnId) -> Option<Ends>,
        mut discover: impl FnMut(ConnId, Tunnel),
    ) {
        if flows.len() != conns.len() {
            return;
        }
        for (flow, &conn) in flows.iter().zip(conns) {
            if self.open.contains_key(&conn) || self.first_ends.contains_key(&conn) {
                continue;
            }
            let Some((_, service)) = zeek_tunnel_type(flow) else {
                continue;
            };
            // Not seen before: this packet opened the connection, and its sender is the
            // client as for any UDP flow (unless it sent from a well-known port).
            let ends = known(conn).unwrap_or_else(|| {
                let src = SocketAddr::new(flow.src, flow.src_port);
                let dst = SocketAddr::new(flow.dst, flow.dst_port);
                if flow.src_port < 1024 && flow.dst_port >= 1024 {
                    Ends {
                        orig: dst,
                        resp: src,
                    }
                } else {
                    Ends {
                        orig: src,
                        resp: dst,
                    }
                }
            });
            self.first_ends.insert(conn, (ends, service));
        }
        // As Zeek registers tunnels for connections (`new_connection`, `tunnel_changed`):
        // a tunnelled packet that is no connection (ARP in VXLAN …) discovers nothing.
        let Some(inner) = inner else {
            return;
        };
        if let Some(&innermost) = conns.last() {
            self.add_parent(inner, TunnelRef::Conn(innermost));
        }
        for (flow, &conn) in flows.iter().zip(conns) {
            let Some((ends, _)) = self.first_ends.remove(&conn) else {
                continue;
            };
            let Some((kind, service)) = zeek_tunnel_type(flow) else {
                continue;
            };
            let t = Tunnel {
                ends,
                kind,
                service,
                last_new_conn: self.last_ts.unwrap_or_default(),
                expired: false,
            };
            self.open.insert(conn, t);
            discover(conn, t);
        }
    }

    /// Some tunnel is open (only then can one expire).
    #[inline]
    pub fn active(&self) -> bool {
        !self.open.is_empty() || !self.ip.is_empty()
    }

    fn add_parent(&mut self, conn: ConnId, r: TunnelRef) {
        let kept = self.parents.entry(conn).or_default();
        if !kept.contains(&r) && kept.try_push(r).is_err() {
            self.parents_cut += 1;
        }
    }

    /// Connection `conn` ended: its tunnel, if it was one discovered and not expired (to
    /// log `Tunnel::CLOSE`), and Zeek's analyzer name for it if it was a tunnel at all
    /// (conn.log `service`).
    pub fn close(&mut self, conn: ConnId) -> (Option<Tunnel>, Option<&'static str>) {
        if !self.first_ends.is_empty() {
            if let Some((_, service)) = self.first_ends.remove(&conn) {
                return (None, Some(service));
            }
        }
        if self.open.is_empty() {
            return (None, None);
        }
        match self.open.remove(&conn) {
            Some(t) => ((!t.expired).then_some(t), Some(t.service)),
            None => (None, None),
        }
    }

    /// A connection `conn` started at `ts` inside the UDP tunnels `outer_conns` and the
    /// encapsulations `encap` (read from its first packet): the UDP tunnels' expiry restarts,
    /// and each IP tunnel (IP in IP, GRE) not open is discovered (`discover`) and named in
    /// the connection's parents.
    pub fn new_conn(
        &mut self,
        conn: ConnId,
        ts: Timestamp,
        outer_conns: &[ConnId],
        encap: Option<&Encapsulation>,
        mut discover: impl FnMut(TunnelRef, Tunnel),
    ) {
        for &c in outer_conns {
            if let Some(t) = self.open.get_mut(&c) {
                t.last_new_conn = ts;
                if t.expired {
                    t.expired = false;
                    discover(TunnelRef::Conn(c), *t);
                }
            }
        }
        if let Some(encap) = encap {
            self.ip_tunnels(conn, ts, encap, true, discover);
        }
    }

    /// A packet of connection `conn` at `ts` inside the encapsulations `encap`: as Zeek's
    /// `tunnel_changed` (`register_all`, then `Conn::set_conn` adds the innermost tunnel to
    /// `tunnel_parents`), each IP tunnel (IP in IP, GRE) not open is discovered
    /// (`discover`) and the innermost one, if an IP tunnel, is named in the connection's
    /// parents. `new_conn`: the connection started with this packet, which keeps its IP
    /// tunnels from expiring (Zeek's `new_connection` reads `Tunnel::active`).
    pub fn ip_tunnels(
        &mut self,
        conn: ConnId,
        ts: Timestamp,
        encap: &Encapsulation,
        new_conn: bool,
        mut discover: impl FnMut(TunnelRef, Tunnel),
    ) {
        // The innermost tunnel: an IP tunnel's serial, or None for a UDP tunnel (added
        // per packet by `packet`).
        let mut innermost: Option<Option<u64>> = None;
        for hop in &encap.hops {
            let (kind, gre) = match hop.kind {
                EncapKind::IpInIp { .. } => ("Tunnel::IP", false),
                EncapKind::Gre { .. } => ("Tunnel::GRE", true),
                EncapKind::Vxlan { .. }
                | EncapKind::Geneve { .. }
                | EncapKind::GtpU { .. }
                | EncapKind::Teredo
                | EncapKind::Ayiya => {
                    innermost = Some(None);
                    continue;
                }
                _ => continue,
            };
            let Some((src, dst)) = hop.outer else {
                continue;
            };
            let key = (src.min(dst), src.max(dst), gre);
            let full = self.ip.len() >= MAX_IP_TUNNELS;
            let serial = match self.ip.get_mut(&key) {
                Some((serial, t)) => {
                    if new_conn {
                        t.last_new_conn = ts;
                    }
                    *serial
                }
                None if full => {
                    self.ip_untracked += 1;
                    continue;
                }
                None => {
                    let serial = self.next_serial;
                    self.next_serial += 1;
                    let t = Tunnel {
                        ends: Ends {
                            orig: SocketAddr::new(src, 0),
                            resp: SocketAddr::new(dst, 0),
                        },
                        kind,
                        service: "",
                        last_new_conn: ts,
                        expired: false,
                    };
                    self.ip.insert(key, (serial, t));
                    discover(TunnelRef::Ip(serial), t);
                    serial
                }
            };
            innermost = Some(Some(serial));
        }
        if let Some(Some(serial)) = innermost {
            self.add_parent(conn, TunnelRef::Ip(serial));
        }
    }

    /// conn.log's `tunnel_parents` of connection `conn` (forgotten: it ended).
    pub fn parents_of(&mut self, conn: ConnId) -> ArrayVec<TunnelRef, MAX_PARENTS> {
        if self.parents.is_empty() {
            return ArrayVec::new();
        }
        self.parents.remove(&conn).unwrap_or_default()
    }

    /// At `now` (every 10 s of capture time): each tunnel in which no connection started
    /// for [`EXPIRATION_NS`] is forgotten and handed to `expired`, in discovery order.
    pub fn expire(&mut self, now: Timestamp, mut expired: impl FnMut(TunnelRef, Tunnel)) {
        if !self.active() {
            return;
        }
        let now_ns = now.nanos_since(&Timestamp::default());
        if self.next_expire_check.is_some_and(|t| now_ns < t) {
            return;
        }
        self.next_expire_check = Some(now_ns + EXPIRE_CHECK_NS);
        let idle = |t: &Tunnel| now.nanos_since(&t.last_new_conn) >= EXPIRATION_NS;
        let mut gone: Vec<(TunnelRef, Tunnel)> = Vec::new();
        for (&c, t) in self.open.iter_mut() {
            if !t.expired && idle(t) {
                t.expired = true;
                gone.push((TunnelRef::Conn(c), *t));
            }
        }
        self.ip.retain(|_, (serial, t)| {
            let keep = !idle(t);
            if !keep {
                gone.push((TunnelRef::Ip(*serial), *t));
            }
            keep
        });
        gone.sort_by_key(|(r, t)| {
            let order = match r {
                TunnelRef::Conn(c) => (0, *c),
                TunnelRef::Ip(s) => (1, *s),
            };
            (t.last_new_conn.nanos_since(&Timestamp::default()), order)
        });
        for (r, t) in gone {
            expired(r, t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Encap;

    fn at(secs: i64) -> Timestamp {
        Timestamp {
            secs,
            nanos: 0,
            precision: 6,
        }
    }

    fn ip_tunnel(src: &str, dst: &str) -> Encapsulation {
        let mut e = Encapsulation::default();
        e.hops.push(Encap {
            kind: EncapKind::IpInIp {
                outer_v6: false,
                inner_v6: true,
            },
            outer: Some((src.parse().unwrap(), dst.parse().unwrap())),
        });
        e
    }

    fn record(log: &mut Vec<(TunnelRef, String)>) -> impl FnMut(TunnelRef, Tunnel) + '_ {
        |r, t| log.push((r, format!("{} {}", t.kind, t.ends.orig)))
    }

    /// An IP tunnel: discovered by the first connection inside (from its outer source),
    /// the same tunnel both ways, named in each connection's parents; expired when no
    /// connection started in it for an hour (looked for every 10 s), then discovered
    /// again with a new serial.
    #[test]
    fn ip_tunnels_are_discovered_by_connections_and_expire_after_an_hour() {
        let mut t = Tunnels::default();
        let mut log = Vec::new();
        let e = ip_tunnel("1.2.3.4", "5.6.7.8");
        t.new_conn(1, at(0), &[], Some(&e), record(&mut log));
        t.new_conn(
            2,
            at(100),
            &[],
            Some(&ip_tunnel("5.6.7.8", "1.2.3.4")),
            record(&mut log),
        );
        assert_eq!(
            log,
            [(TunnelRef::Ip(0), "Tunnel::IP 1.2.3.4:0".to_string())]
        );
        assert_eq!(t.parents_of(2).as_slice(), &[TunnelRef::Ip(0)]);
        assert!(t.parents_of(2).is_empty());
        log.clear();
        t.expire(at(3000), record(&mut log));
        // 3699 s: idle 3599 s since the connection at 100 s; the next look is at 3010 s.
        t.expire(at(3699), record(&mut log));
        assert!(log.is_empty());
        // Within 10 s of the last look: not looked at.
        t.expire(at(3705), record(&mut log));
        assert!(log.is_empty());
        t.expire(at(3710), record(&mut log));
        assert_eq!(
            log,
            [(TunnelRef::Ip(0), "Tunnel::IP 1.2.3.4:0".to_string())]
        );
        log.clear();
        t.new_conn(3, at(3800), &[], Some(&e), record(&mut log));
        assert_eq!(
            log,
            [(TunnelRef::Ip(1), "Tunnel::IP 1.2.3.4:0".to_string())]
        );
    }

    /// A connection whose later packets come through another IP tunnel: as Zeek's
    /// `tunnel_changed`, the new tunnel is discovered and both are its parents; a packet of
    /// it keeps no tunnel from expiring (only a new connection does).
    #[test]
    fn later_packets_through_another_ip_tunnel_add_parents() {
        let mut t = Tunnels::default();
        let mut log = Vec::new();
        let first = ip_tunnel("1.2.3.4", "5.6.7.8");
        let second = ip_tunnel("1.2.3.4", "9.9.9.9");
        t.new_conn(1, at(0), &[], Some(&first), record(&mut log));
        t.ip_tunnels(1, at(5), &first, false, record(&mut log));
        t.ip_tunnels(1, at(10), &second, false, record(&mut log));
        t.ip_tunnels(1, at(3000), &second, false, record(&mut log));
        assert_eq!(
            log,
            [
                (TunnelRef::Ip(0), "Tunnel::IP 1.2.3.4:0".to_string()),
                (TunnelRef::Ip(1), "Tunnel::IP 1.2.3.4:0".to_string())
            ]
        );
        assert_eq!(
            t.parents_of(1).as_slice(),
            &[TunnelRef::Ip(0), TunnelRef::Ip(1)]
        );
        // The second tunnel was discovered at 10 s: idle for an hour at 3610 s although
        // the connection's packets went on through it.
        log.clear();
        t.expire(at(3610), record(&mut log));
        assert_eq!(log.len(), 2);
    }

    /// A UDP tunnel (VXLAN): seen first with no connection inside (nothing logged, but its
    /// first sender kept), discovered with the first connection inside; expired after an
    /// hour without a new connection while its own connection goes on (no CLOSE then, but
    /// its service stays), discovered again by a new connection inside.
    #[test]
    fn udp_tunnels_discover_close_and_expire() {
        let flow = OuterFlow {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            src_port: 40000,
            dst_port: 4789,
            length: 100,
            ip_len: 120,
            tunnel: UdpTunnel::Vxlan,
        };
        let mut back = flow;
        (back.src, back.dst, back.src_port, back.dst_port) =
            (flow.dst, flow.src, flow.dst_port, flow.src_port);
        let mut t = Tunnels::default();
        let mut found = Vec::new();
        let mut push = |c, tun: Tunnel| found.push((c, tun.ends.orig.to_string(), tun.kind));
        t.last_ts = Some(at(0));
        t.packet(&[flow], (&[7], None), |_| None, &mut push);
        t.last_ts = Some(at(1));
        t.packet(&[back], (&[7], Some(8)), |_| None, &mut push);
        assert_eq!(found, [(7, "10.0.0.1:40000".to_string(), "Tunnel::VXLAN")]);
        assert_eq!(t.parents_of(8).as_slice(), &[TunnelRef::Conn(7)]);
        let mut log = Vec::new();
        t.new_conn(8, at(1), &[7], None, record(&mut log));
        t.expire(at(3601), record(&mut log));
        assert_eq!(
            log,
            [(
                TunnelRef::Conn(7),
                "Tunnel::VXLAN 10.0.0.1:40000".to_string()
            )]
        );
        log.clear();
        t.new_conn(9, at(4000), &[7], None, record(&mut log));
        assert_eq!(
            log,
            [(
                TunnelRef::Conn(7),
                "Tunnel::VXLAN 10.0.0.1:40000".to_string()
            )]
        );
        let (closed, service) = t.close(7);
        assert_eq!(closed.map(|c| c.kind), Some("Tunnel::VXLAN"));
        assert_eq!(service, Some("vxlan"));
        // A tunnel flow that never carried a connection: no CLOSE, its service kept.
        t.packet(&[flow], (&[11], None), |_| None, |_, _| {});
        let (closed, service) = t.close(11);
        assert!(closed.is_none());
        assert_eq!(service, Some("vxlan"));
    }
}
