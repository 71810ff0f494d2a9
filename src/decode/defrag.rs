//! Bounded IP fragment reassembly.
//!
//! Each datagram is rebuilt in an etherparse [`IpDefragBuf`]. The table around those buffers is
//! our own rather than etherparse's `IpDefragPool`: the pool has no cap on datagrams or bytes
//! (its docs say so), no timeout by capture time and no eviction count, and it takes a strict
//! `SlicedPacket` while the decoder slices laxly.

use etherparse::defrag::{IpDefragBuf, IpDefragError, IpFragId, IpFragRange};
use etherparse::{IpFragOffset, IpNumber};
use rustc_hash::FxHashMap;

use super::DecoderLimits;

/// Buffers kept for reuse once their datagram completed or was dropped.
const MAX_FREE_BUFFERS: usize = 16;

struct Pending {
    buf: IpDefragBuf,
    /// Capture time of the first fragment (ns since the epoch).
    first_ns: i64,
    /// The fragment at offset 0 arrived (its transport header was read alone).
    has_first: bool,
}

/// What adding one fragment did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum FragOutcome {
    /// The datagram still misses fragments.
    Pending,
    /// The datagram is complete; its payload now sits in the caller's reassembly buffer.
    Complete,
}

/// The datagrams being reassembled, bounded by [`DecoderLimits`].
pub(super) struct FragTable {
    active: FxHashMap<IpFragId, Pending>,
    free_data: Vec<Vec<u8>>,
    free_sections: Vec<Vec<IpFragRange>>,
    /// Bytes held by the active datagrams' data buffers.
    bytes: usize,
    last_sweep_ns: i64,
    /// Datagrams dropped unfinished (timeout, caps or inconsistent fragments).
    pub(super) evicted: u64,
    /// Of `evicted`, those whose first fragment had arrived.
    pub(super) evicted_after_first: u64,
}

impl FragTable {
    pub(super) fn new() -> FragTable {
        FragTable {
            active: FxHashMap::default(),
            free_data: Vec::new(),
            free_sections: Vec::new(),
            bytes: 0,
            last_sweep_ns: i64::MIN,
            evicted: 0,
            evicted_after_first: 0,
        }
    }

    /// Number of datagrams being reassembled.
    pub(super) fn len(&self) -> usize {
        self.active.len()
    }

    /// Datagrams waiting whose first fragment has arrived.
    pub(super) fn pending_after_first(&self) -> usize {
        self.active.values().filter(|p| p.has_first).count()
    }

    fn recycle(&mut self, buf: IpDefragBuf) {
        let (data, sections) = buf.take_bufs();
        if self.free_data.len() < MAX_FREE_BUFFERS {
            self.free_data.push(data);
        }
        if self.free_sections.len() < MAX_FREE_BUFFERS {
            self.free_sections.push(sections);
        }
    }

    fn remove(&mut self, id: &IpFragId) -> Option<IpDefragBuf> {
        let p = self.active.remove(id)?;
        self.bytes = self.bytes.saturating_sub(p.buf.data().len());
        Some(p.buf)
    }

    /// Drops an unfinished datagram and counts it.
    fn give_up(&mut self, id: &IpFragId) {
        let has_first = self.active.get(id).is_some_and(|p| p.has_first);
        if let Some(buf) = self.remove(id) {
            self.recycle(buf);
            self.evicted += 1;
            self.evicted_after_first += u64::from(has_first);
        }
    }

    /// Drops datagrams older than the timeout; runs at most once per second of capture time.
    pub(super) fn sweep(&mut self, now_ns: i64, limits: &DecoderLimits) {
        if self.active.is_empty() || now_ns.saturating_sub(self.last_sweep_ns) < 1_000_000_000 {
            return;
        }
        self.last_sweep_ns = now_ns;
        let timeout = i64::try_from(limits.fragment_timeout_ns).unwrap_or(i64::MAX);
        let mut dropped_bytes = 0usize;
        let mut dropped = 0u64;
        let mut dropped_after_first = 0u64;
        let free_data = &mut self.free_data;
        let free_sections = &mut self.free_sections;
        self.active.retain(|_, p| {
            if now_ns.saturating_sub(p.first_ns) <= timeout {
                return true;
            }
            dropped += 1;
            dropped_after_first += u64::from(p.has_first);
            dropped_bytes += p.buf.data().len();
            let buf = std::mem::replace(
                &mut p.buf,
                IpDefragBuf::new(IpNumber(0), Vec::new(), Vec::new()),
            );
            let (data, sections) = buf.take_bufs();
            if free_data.len() < MAX_FREE_BUFFERS {
                free_data.push(data);
            }
            if free_sections.len() < MAX_FREE_BUFFERS {
                free_sections.push(sections);
            }
            false
        });
        self.bytes = self.bytes.saturating_sub(dropped_bytes);
        self.evicted += dropped;
        self.evicted_after_first += dropped_after_first;
    }

    /// Evicts the datagram with the oldest first fragment, other than `keep`.
    fn evict_oldest(&mut self, keep: &IpFragId) -> bool {
        let oldest = self
            .active
            .iter()
            .filter(|(id, _)| *id != keep)
            .min_by_key(|(_, p)| p.first_ns)
            .map(|(id, _)| id.clone());
        match oldest {
            Some(id) => {
                self.give_up(&id);
                true
            }
            None => false,
        }
    }

    /// Adds one fragment's payload. On completion the reassembled IP payload is swapped into
    /// `reassembled` (whose old buffer is kept for reuse). `first_read`: this is the first
    /// fragment and its transport header was read alone (counted if the datagram is given up).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add(
        &mut self,
        id: IpFragId,
        offset: IpFragOffset,
        more: bool,
        payload: &[u8],
        first_read: bool,
        now_ns: i64,
        limits: &DecoderLimits,
        reassembled: &mut Vec<u8>,
    ) -> Result<FragOutcome, IpDefragError> {
        if !self.active.contains_key(&id) {
            while self.active.len() >= limits.max_fragment_datagrams.max(1) {
                if !self.evict_oldest(&id) {
                    break;
                }
            }
            let data = self.free_data.pop().unwrap_or_default();
            let sections = self.free_sections.pop().unwrap_or_default();
            let buf = IpDefragBuf::new(id.payload_ip_number, data, sections);
            self.active.insert(
                id.clone(),
                Pending {
                    buf,
                    first_ns: now_ns,
                    has_first: false,
                },
            );
        }
        let Some(p) = self.active.get_mut(&id) else {
            return Ok(FragOutcome::Pending);
        };
        p.has_first |= first_read;
        let before = p.buf.data().len();
        let added = p.buf.add(offset, more, payload);
        let after = p.buf.data().len();
        let complete = p.buf.is_complete();
        self.bytes = (self.bytes + after).saturating_sub(before);
        if let Err(e) = added {
            // Inconsistent fragments: the datagram cannot be rebuilt.
            self.give_up(&id);
            return Err(e);
        }
        if complete {
            if let Some(buf) = self.remove(&id) {
                let (data, sections) = buf.take_bufs();
                let old = std::mem::replace(reassembled, data);
                if self.free_data.len() < MAX_FREE_BUFFERS {
                    self.free_data.push(old);
                }
                if self.free_sections.len() < MAX_FREE_BUFFERS {
                    self.free_sections.push(sections);
                }
            }
            return Ok(FragOutcome::Complete);
        }
        while self.bytes > limits.max_fragment_bytes {
            if !self.evict_oldest(&id) {
                // This datagram alone is over the cap: drop it.
                self.give_up(&id);
                break;
            }
        }
        Ok(FragOutcome::Pending)
    }
}
