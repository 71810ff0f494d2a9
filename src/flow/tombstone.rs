//! What is left of a TCP connection that ended closed (FIN both ways, or RST): a tombstone
//! of a few dozen bytes that tells the connection's late packets (a last ACK, a RST or a
//! retransmission arriving after its records were emitted) and a new connection on the same
//! 4-tuple apart.
//!
//! Tombstones are bounded by count, not by time: a late packet may come any time after the
//! close (tshark keeps every conversation for the whole file), so they live until
//! `FlowConfig::max_tombstones` newer ones push them out, oldest first. Each one pushed out
//! is counted in `FlowStats::tombstones_evicted`.
//!
//! Storage: a ring of `(key, tombstone)` in order of the 4-tuples' first ends (a 4-tuple's
//! next connection's tombstone replaces its last in place) plus a map from key to ring
//! position. Only packets that miss the flow table look here, so an open
//! connection's packets never pay for it.

use super::key::FlowKey;
use super::{ConnId, Direction, TcpState};
use rustc_hash::FxHashMap;
use std::cmp::Ordering;

/// A closed connection after its records were emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tombstone {
    pub id: ConnId,
    /// Capture time of the connection's last packet, ns since the epoch.
    pub closed_ns: i64,
    /// Per side ([`Direction::index`] of the sender: `[0]` is the client), the base of the
    /// relative sequence numbers (the ISN when the side's SYN was seen).
    pub base: [u32; 2],
    /// Per side, the sequence number after the last byte (and FIN) it sent: the final seq.
    pub next_seq: [u32; 2],
    /// Per side, the window-scale shift once both SYNs were seen.
    pub shift: [Option<u8>; 2],
    /// (client, server) endpoint states when the connection ended.
    pub states: (TcpState, TcpState),
    /// Bit 0: side 0's base is set; bit 1: side 1's; bit 2: the client is the key's lower
    /// endpoint; bit 3: vacant (see [`Tombstones::remove`]).
    bits: u8,
}

const BASE0: u8 = 1;
const BASE1: u8 = 2;
const CLIENT_IS_LO: u8 = 4;
const VACANT: u8 = 8;

impl Tombstone {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: ConnId,
        closed_ns: i64,
        base: [Option<u32>; 2],
        next_seq: [u32; 2],
        shift: [Option<u8>; 2],
        states: (TcpState, TcpState),
        client_is_lo: bool,
    ) -> Tombstone {
        let mut bits = 0;
        for (i, bit) in [BASE0, BASE1].into_iter().enumerate() {
            if base[i].is_some() {
                bits |= bit;
            }
        }
        if client_is_lo {
            bits |= CLIENT_IS_LO;
        }
        Tombstone {
            id,
            closed_ns,
            base: base.map(Option::unwrap_or_default),
            next_seq,
            shift,
            states,
            bits,
        }
    }
    /// Side `s`'s sequence base, if it was set.
    pub fn base_of(&self, s: usize) -> Option<u32> {
        let bit = if s == 0 { BASE0 } else { BASE1 };
        (self.bits & bit != 0).then_some(self.base[s])
    }
    /// The direction of a packet whose source orders `ord` against its destination (as
    /// `Conn::dir_of`).
    pub fn dir_of(&self, ord: Ordering) -> Direction {
        let client_is_lo = self.bits & CLIENT_IS_LO != 0;
        let src_is_client = match ord {
            Ordering::Less => client_is_lo,
            Ordering::Greater => !client_is_lo,
            Ordering::Equal => true,
        };
        if src_is_client {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }
}

/// The tombstones, at most `cap`, the oldest pushed out first (see the module docs).
pub(crate) struct Tombstones {
    cap: usize,
    ring: Vec<(FlowKey, Tombstone)>,
    /// Ring position of the next tombstone once the ring is full (the oldest).
    next: usize,
    map: FxHashMap<FlowKey, u32>,
    /// Entries of `map` whose tombstone is not vacant.
    live: usize,
    /// Tombstones pushed out by newer ones.
    evicted: u64,
}

impl Tombstones {
    pub fn new(cap: usize) -> Tombstones {
        Tombstones {
            cap,
            ring: Vec::new(),
            next: 0,
            map: FxHashMap::default(),
            live: 0,
            evicted: 0,
        }
    }

    /// Tombstones pushed out by newer ones so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Tombstones held now.
    pub fn len(&self) -> usize {
        self.live
    }

    /// No tombstone is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The tombstone of `key`, if one is held.
    pub fn get(&self, key: &FlowKey) -> Option<&Tombstone> {
        let i = *self.map.get(key)?;
        self.ring
            .get(i as usize)
            .map(|(_, t)| t)
            .filter(|t| t.bits & VACANT == 0)
    }

    /// Forgets the tombstone of `key` (a new connection took the 4-tuple). Its place in
    /// the ring stays the 4-tuple's, vacant, for that connection's own tombstone: a busy
    /// server's reused 4-tuples then take one place each, not one per connection.
    pub fn remove(&mut self, key: &FlowKey) {
        let Some(&pos) = self.map.get(key) else {
            return;
        };
        if let Some((_, t)) = self.ring.get_mut(pos as usize) {
            if t.bits & VACANT == 0 {
                t.bits |= VACANT;
                self.live -= 1;
            }
        }
    }

    /// Adds the tombstone of a connection that just ended on `key` (replacing an older one
    /// of the same key in its place), pushing out the oldest 4-tuple's when `cap` are held.
    pub fn insert(&mut self, key: FlowKey, tomb: Tombstone) {
        if self.cap == 0 {
            self.evicted += 1;
            return;
        }
        // An older tombstone of the same key is replaced where it lies: the ring grows
        // with the 4-tuples, not with the connections (a busy server reuses its clients'
        // 4-tuples), so a 4-tuple is pushed out by its first tombstone's age.
        if let Some(&pos) = self.map.get(&key) {
            if let Some(entry) = self.ring.get_mut(pos as usize) {
                if entry.1.bits & VACANT != 0 {
                    self.live += 1;
                }
                entry.1 = tomb;
                return;
            }
        }
        self.live += 1;
        if self.ring.len() < self.cap {
            self.map.insert(key, self.ring.len() as u32);
            self.ring.push((key, tomb));
            return;
        }
        let pos = self.next;
        self.next = (self.next + 1) % self.cap;
        let (old_key, old) = self.ring[pos];
        // (Every ring entry is its key's map entry: a key has one place.) A vacant one
        // pushes no tombstone out.
        self.map.remove(&old_key);
        if old.bits & VACANT == 0 {
            self.live -= 1;
            self.evicted += 1;
        }
        self.ring[pos] = (key, tomb);
        self.map.insert(key, pos as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Proto;

    fn key(port: u16) -> FlowKey {
        let a = format!("10.0.0.1:{port}").parse().unwrap();
        let b = "10.0.0.2:80".parse().unwrap();
        FlowKey::new(Proto::Tcp, a, b)
    }

    fn tomb(id: ConnId) -> Tombstone {
        Tombstone::new(
            id,
            5,
            [Some(100), None],
            [200, 300],
            [Some(7), None],
            (TcpState::TimeWait, TcpState::Closed),
            false,
        )
    }

    #[test]
    fn a_tombstone_keeps_what_it_was_given() {
        let t = tomb(3);
        assert_eq!(t.base_of(0), Some(100));
        assert_eq!(t.base_of(1), None);
        // The client is the higher endpoint: a packet from the lower one is the server's.
        assert_eq!(t.dir_of(Ordering::Less), Direction::ToClient);
        assert_eq!(t.dir_of(Ordering::Greater), Direction::ToServer);
    }

    #[test]
    fn the_oldest_is_pushed_out_and_counted() {
        let mut ts = Tombstones::new(2);
        ts.insert(key(1), tomb(1));
        ts.insert(key(2), tomb(2));
        assert_eq!(ts.get(&key(1)).map(|t| t.id), Some(1));
        ts.insert(key(3), tomb(3));
        assert_eq!(ts.get(&key(1)), None);
        assert_eq!(ts.get(&key(2)).map(|t| t.id), Some(2));
        assert_eq!(ts.get(&key(3)).map(|t| t.id), Some(3));
        assert_eq!((ts.len(), ts.evicted()), (2, 1));
        // A removed tombstone leaves its place vacant: not found, not counted when its
        // place is overwritten.
        ts.remove(&key(2));
        assert_eq!((ts.get(&key(2)), ts.len()), (None, 1));
        ts.insert(key(4), tomb(4));
        assert_eq!((ts.len(), ts.evicted()), (2, 1));
        assert_eq!(ts.get(&key(2)), None);
        // A key ended again, with or without a removal between (a new connection on its
        // 4-tuple): the newer tombstone takes the older's place (the ring does not grow),
        // and goes when that place's turn comes.
        ts.insert(key(3), tomb(5));
        assert_eq!(ts.get(&key(3)).map(|t| t.id), Some(5));
        ts.remove(&key(3));
        assert_eq!(ts.len(), 1);
        ts.insert(key(3), tomb(7));
        assert_eq!(ts.get(&key(3)).map(|t| t.id), Some(7));
        assert_eq!((ts.len(), ts.evicted(), ts.ring.len()), (2, 1, 2));
        ts.insert(key(6), tomb(6));
        assert_eq!(ts.get(&key(3)), None);
        assert_eq!(ts.get(&key(4)).map(|t| t.id), Some(4));
        assert_eq!((ts.len(), ts.evicted()), (2, 2));
    }

    #[test]
    fn no_room_counts_every_one() {
        let mut ts = Tombstones::new(0);
        ts.insert(key(1), tomb(1));
        assert_eq!((ts.len(), ts.evicted()), (0, 1));
        assert_eq!(ts.get(&key(1)), None);
    }
}
