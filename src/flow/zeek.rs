//! Zeek's conn.log `conn_state` and `history`, per connection.
//! SKELETON: the zeek helper implements it.

use super::Direction;
use crate::decode::TcpInfo;

/// Zeek's view of one connection. `Direction::ToServer` is the originator's direction.
#[derive(Clone, Debug, Default)]
pub struct ZeekState {}

impl ZeekState {
    pub fn new() -> ZeekState {
        ZeekState::default()
    }
    /// One TCP packet.
    pub fn observe_tcp(&mut self, dir: Direction, tcp: &TcpInfo) {
        let _ = (dir, tcp);
    }
    /// One UDP datagram with `payload_len` bytes.
    pub fn observe_udp(&mut self, dir: Direction, payload_len: u32) {
        let _ = (dir, payload_len);
    }
    /// The originator was decided against the first packet's sender (history gets `^`).
    pub fn mark_flipped(&mut self) {}
    /// conn_state: S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH.
    pub fn conn_state(&self) -> &'static str {
        "OTH"
    }
    /// history string ("ShADadFf").
    pub fn history(&self) -> String {
        String::new()
    }
}
