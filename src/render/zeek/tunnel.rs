//! tunnel.log (Zeek's `Tunnel::Info`, `base/frameworks/tunnels`): one `Tunnel::DISCOVER`
//! record when a UDP tunnel's connection first carries a decoded inner packet, one
//! `Tunnel::CLOSE` when that connection ends (at the time of the last packet seen then, as
//! Zeek logs it at network time). The uid is the tunnel connection's own, as in Zeek (an
//! `EncapsulatingConn` takes its connection's uid), so it equals conn.log's `uid` of the
//! UDP connection and the `tunnel_parents` of the connections inside.
//!
//! Only UDP tunnels are connections in layerscope, so IP-in-IP (`Tunnel::IP`) and plain GRE
//! (`Tunnel::GRE`) tunnels are not logged; GRE over UDP, MPLS over UDP and ESP in UDP have no
//! Zeek analyzer and are not logged either.

use super::Ends;
use crate::capture::Timestamp;
use crate::decode::OuterFlow;
use crate::flow::ConnId;
use crate::wire::udp::{tunnel_of_port, UdpTunnel};
use rustc_hash::FxHashMap;
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
    let kind = tunnel_of_port(flow.dst_port).or_else(|| tunnel_of_port(flow.src_port))?;
    Some(match kind {
        UdpTunnel::Vxlan => ("Tunnel::VXLAN", "vxlan"),
        UdpTunnel::Geneve => ("Tunnel::GENEVE", "geneve"),
        UdpTunnel::GtpU => ("Tunnel::GTPv1", "gtpv1"),
        UdpTunnel::Teredo => ("Tunnel::TEREDO", "teredo"),
        UdpTunnel::Ayiya => ("Tunnel::AYIYA", "ayiya"),
        UdpTunnel::GreOverUdp | UdpTunnel::MplsOverUdp | UdpTunnel::EspInUdp => return None,
    })
}

/// An open tunnel: its endpoints and type.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tunnel {
    pub ends: Ends,
    pub kind: &'static str,
    /// Zeek's analyzer name for it (`vxlan`, `teredo` …).
    pub service: &'static str,
}

/// The tunnels discovered and not yet closed (one entry per open tunnel connection, so
/// bounded by the flow table's `max_flows`), and the time of the last packet.
#[derive(Default)]
pub(super) struct Tunnels {
    open: FxHashMap<ConnId, Tunnel>,
    pub last_ts: Option<Timestamp>,
}

impl Tunnels {
    /// A packet that came through the UDP tunnels `flows`, whose connections are `conns`
    /// (same order); `known` gives the endpoints of a connection seen before as plain UDP.
    /// Calls `discover` for each tunnel seen for the first time.
    pub fn packet(
        &mut self,
        flows: &[OuterFlow],
        conns: &[ConnId],
        known: impl Fn(ConnId) -> Option<Ends>,
        mut discover: impl FnMut(ConnId, Tunnel),
    ) {
        if flows.len() != conns.len() {
            return;
        }
        for (flow, &conn) in flows.iter().zip(conns) {
            if self.open.contains_key(&conn) {
                continue;
            }
            let Some((kind, service)) = zeek_tunnel_type(flow) else {
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
            let t = Tunnel {
                ends,
                kind,
                service,
            };
            self.open.insert(conn, t);
            discover(conn, t);
        }
    }

    /// The tunnel of connection `conn`, if it was one, now closed.
    pub fn close(&mut self, conn: ConnId) -> Option<Tunnel> {
        if self.open.is_empty() {
            return None;
        }
        self.open.remove(&conn)
    }
}
