//! The flow table's storage: a slab of entries indexed by a fast hash map, with every entry
//! on one of a few intrusive lists kept in order of last activity (least recent first).
//!
//! Each packet moves its entry to the tail of its list (O(1)), so the head of a list is the
//! entry idle longest. Expiry walks a list from its head and stops at the first entry that
//! has not timed out: O(expired). Eviction takes the oldest head over all lists: O(lists).
//! The order is the order of packets, so with timestamps that go backwards it is approximate.

use super::key::FlowKey;
use rustc_hash::FxHashMap;
use std::cell::Cell;

/// No entry.
const NIL: u32 = u32::MAX;

/// Which list an entry is on (each with its own timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListId {
    /// Open TCP connections.
    Tcp = 0,
    /// UDP flows.
    Udp = 1,
    /// Closed connections lingering for late packets.
    Closed = 2,
}

pub(crate) const LISTS: [ListId; 3] = [ListId::Tcp, ListId::Udp, ListId::Closed];

struct Slot<T> {
    value: Option<T>,
    key: FlowKey,
    /// Capture time of the last packet, ns since the epoch.
    last_ns: i64,
    prev: u32,
    next: u32,
    list: ListId,
}

#[derive(Clone, Copy)]
struct Ends {
    head: u32,
    tail: u32,
    /// Entries on the list.
    len: usize,
}

/// Slab + map + activity lists.
pub(crate) struct Table<T> {
    map: FxHashMap<FlowKey, u32>,
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    lists: [Ends; 3],
    /// The entry found or inserted last: consecutive packets mostly belong to one flow, so
    /// `find` compares its key before hashing.
    last: Cell<u32>,
}

impl<T> Table<T> {
    pub fn new() -> Table<T> {
        Table {
            map: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            lists: [Ends {
                head: NIL,
                tail: NIL,
                len: 0,
            }; 3],
            last: Cell::new(NIL),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Entries on `list`.
    pub fn list_len(&self, list: ListId) -> usize {
        self.lists[list as usize].len
    }

    /// The entry of `key`. The last entry found or inserted is compared first, inline;
    /// the map is asked only when that misses.
    #[inline(always)]
    pub fn find(&self, key: &FlowKey) -> Option<u32> {
        let last = self.last.get();
        // A live slot holding this key is the map's entry for it (keys are unique).
        if let Some(s) = self.slots.get(last as usize) {
            if s.key == *key && s.value.is_some() {
                return Some(last);
            }
        }
        self.find_in_map(key)
    }

    #[inline(never)]
    fn find_in_map(&self, key: &FlowKey) -> Option<u32> {
        let idx = self.map.get(key).copied();
        if let Some(i) = idx {
            self.last.set(i);
        }
        idx
    }

    /// The key of a live entry.
    pub fn key(&self, idx: u32) -> Option<&FlowKey> {
        self.slots
            .get(idx as usize)
            .filter(|s| s.value.is_some())
            .map(|s| &s.key)
    }

    pub fn get(&self, idx: u32) -> Option<&T> {
        self.slots.get(idx as usize).and_then(|s| s.value.as_ref())
    }

    pub fn get_mut(&mut self, idx: u32) -> Option<&mut T> {
        self.slots
            .get_mut(idx as usize)
            .and_then(|s| s.value.as_mut())
    }

    /// Adds an entry at the tail of `list`. The key must not be in the table.
    #[cfg(test)]
    pub fn insert(&mut self, key: FlowKey, value: T, list: ListId, now_ns: i64) -> u32 {
        self.insert_with(key, list, now_ns, || value)
    }

    /// Adds the entry `make` builds at the tail of `list`. The key must not be in the
    /// table. The value is built where it is stored: the slot is taken (or pushed empty)
    /// first, so a large value is not moved on its way in.
    #[inline(always)]
    pub fn insert_with(
        &mut self,
        key: FlowKey,
        list: ListId,
        now_ns: i64,
        make: impl FnOnce() -> T,
    ) -> u32 {
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    value: None,
                    key,
                    last_ns: now_ns,
                    prev: NIL,
                    next: NIL,
                    list,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[idx as usize];
        s.value = Some(make());
        s.key = key;
        s.last_ns = now_ns;
        self.map.insert(key, idx);
        self.push_tail(idx, list);
        self.last.set(idx);
        idx
    }

    /// Records activity: the entry moves to the tail of `list`.
    #[inline]
    pub fn touch(&mut self, idx: u32, list: ListId, now_ns: i64) {
        let tail = self.lists[list as usize].tail;
        let Some(s) = self.slots.get_mut(idx as usize) else {
            return;
        };
        if s.value.is_none() {
            return;
        }
        if tail == idx && s.list == list {
            // Already the most recent entry of its list.
            s.last_ns = now_ns;
            return;
        }
        self.unlink(idx);
        self.slots[idx as usize].last_ns = now_ns;
        self.push_tail(idx, list);
    }

    /// Removes an entry, dropping its value in place (never moved out); false if there
    /// was none.
    pub fn discard(&mut self, idx: u32) -> bool {
        let Some(slot) = self.slots.get_mut(idx as usize) else {
            return false;
        };
        if slot.value.is_none() {
            return false;
        }
        slot.value = None;
        let key = slot.key;
        self.unlink(idx);
        self.map.remove(&key);
        self.free.push(idx);
        true
    }

    /// The entry idle longest on `list`, with its last activity time.
    pub fn head(&self, list: ListId) -> Option<(u32, i64)> {
        let h = self.lists[list as usize].head;
        self.slots.get(h as usize).map(|s| (h, s.last_ns))
    }

    /// Entry after `idx` on its list.
    pub fn next(&self, idx: u32) -> Option<(u32, i64)> {
        let n = self.slots.get(idx as usize)?.next;
        self.slots.get(n as usize).map(|s| (n, s.last_ns))
    }

    /// The entry idle longest over all lists.
    pub fn oldest(&self) -> Option<u32> {
        LISTS
            .iter()
            .filter_map(|&l| self.head(l))
            .min_by_key(|&(_, t)| t)
            .map(|(i, _)| i)
    }

    /// Calls `f` with the index and value of every entry, in slot order.
    pub fn for_each(&self, mut f: impl FnMut(u32, &T)) {
        for (i, s) in self.slots.iter().enumerate() {
            if let Some(v) = &s.value {
                f(i as u32, v);
            }
        }
    }

    fn push_tail(&mut self, idx: u32, list: ListId) {
        let ends = &mut self.lists[list as usize];
        let old_tail = ends.tail;
        ends.tail = idx;
        ends.len += 1;
        if old_tail == NIL {
            ends.head = idx;
        }
        if let Some(t) = self.slots.get_mut(old_tail as usize) {
            t.next = idx;
        }
        let s = &mut self.slots[idx as usize];
        s.prev = old_tail;
        s.next = NIL;
        s.list = list;
    }

    fn unlink(&mut self, idx: u32) {
        let (prev, next, list) = {
            let s = &self.slots[idx as usize];
            (s.prev, s.next, s.list)
        };
        self.lists[list as usize].len -= 1;
        match self.slots.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.lists[list as usize].head = next,
        }
        match self.slots.get_mut(next as usize) {
            Some(n) => n.prev = prev,
            None => self.lists[list as usize].tail = prev,
        }
        let s = &mut self.slots[idx as usize];
        s.prev = NIL;
        s.next = NIL;
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

    #[test]
    fn lists_keep_activity_order() {
        let mut t: Table<u32> = Table::new();
        let a = t.insert(key(1), 1, ListId::Tcp, 10);
        let b = t.insert(key(2), 2, ListId::Tcp, 20);
        let c = t.insert(key(3), 3, ListId::Udp, 15);
        assert_eq!(t.head(ListId::Tcp), Some((a, 10)));
        assert_eq!(t.oldest(), Some(a));
        t.touch(a, ListId::Tcp, 30);
        assert_eq!(t.head(ListId::Tcp), Some((b, 20)));
        assert_eq!(t.next(b), Some((a, 30)));
        assert_eq!(t.oldest(), Some(c));
        t.touch(b, ListId::Closed, 40);
        assert_eq!(t.head(ListId::Tcp), Some((a, 30)));
        assert_eq!(t.head(ListId::Closed), Some((b, 40)));
        assert_eq!(
            LISTS.map(|l| t.list_len(l)),
            [1, 1, 1],
            "a, c and b, one on each list"
        );
        assert_eq!(t.get(a), Some(&1));
        assert!(t.discard(a));
        assert_eq!(t.head(ListId::Tcp), None);
        assert_eq!(t.list_len(ListId::Tcp), 0);
        assert_eq!(t.find(&key(1)), None);
        assert_eq!(t.len(), 2);
        // The freed slot is reused.
        let d = t.insert(key(4), 4, ListId::Tcp, 50);
        assert_eq!(d, a);
        assert_eq!(t.get(d), Some(&4));
        assert!(t.discard(a));
        assert!(!t.discard(a));
        assert_eq!(t.get(a), None);
    }

    #[test]
    fn touching_the_tail_only_moves_its_time() {
        let mut t: Table<u32> = Table::new();
        let a = t.insert(key(1), 1, ListId::Tcp, 10);
        let b = t.insert(key(2), 2, ListId::Tcp, 20);
        t.touch(b, ListId::Tcp, 30);
        assert_eq!(t.head(ListId::Tcp), Some((a, 10)));
        assert_eq!(t.next(a), Some((b, 30)));
        assert_eq!(t.next(b), None);
        // The tail of another list moves.
        t.touch(b, ListId::Closed, 40);
        assert_eq!(t.next(a), None);
        assert_eq!(t.head(ListId::Closed), Some((b, 40)));
        t.touch(a, ListId::Tcp, 50);
        assert_eq!(t.head(ListId::Tcp), Some((a, 50)));
        assert_eq!(t.oldest(), Some(b));
    }

    #[test]
    fn last_found_entry_never_outlives_its_key() {
        let mut t: Table<u32> = Table::new();
        let a = t.insert(key(1), 1, ListId::Tcp, 10);
        let b = t.insert(key(2), 2, ListId::Tcp, 20);
        assert_eq!(t.find(&key(1)), Some(a));
        assert_eq!(t.find(&key(1)), Some(a));
        assert_eq!(t.find(&key(2)), Some(b));
        assert_eq!(t.find(&key(3)), None);
        // The cached slot is removed, then reused by another key.
        assert_eq!(t.find(&key(1)), Some(a));
        assert!(t.discard(a));
        assert_eq!(t.find(&key(1)), None);
        let c = t.insert(key(3), 3, ListId::Udp, 30);
        assert_eq!(c, a);
        assert_eq!(t.find(&key(1)), None);
        assert_eq!(t.find(&key(3)), Some(c));
        assert_eq!(t.find(&key(2)), Some(b));
    }
}
