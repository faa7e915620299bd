//! The flow table of one shard: fixed capacity, open addressing with linear probing, keyed by (remote
//! address, remote port) and hashed with ahash seeded from the run's secret (so a remote cannot aim for
//! collisions). Deletion shifts the following run of entries back (no tombstone slots), so lookups stay short
//! however long the run lasts. The table never grows: inserting into a full table is refused and the caller
//! counts it.

use std::net::IpAddr;

/// What identifies a flow: the remote end. Our port is deliberately not part of it (it moves by one per
/// handshake), as in the original (reference §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub addr: IpAddr,
    pub port: u16,
}

/// A value that carries its own key.
pub trait Keyed {
    fn key(&self) -> FlowKey;
}

/// Fixed-capacity open-addressing map from [`FlowKey`] to `V`.
pub struct FlowTable<V> {
    slots: Vec<Option<V>>,
    mask: usize,
    len: usize,
    capacity: usize,
    hasher: ahash::RandomState,
}

/// The table already holds `capacity` entries.
#[derive(Debug, PartialEq, Eq)]
pub struct TableFull;

impl<V: Keyed> FlowTable<V> {
    /// A table for at most `capacity` entries. Slots are the next power of two above 1.5 x capacity, so the
    /// load factor stays at or below 2/3.
    pub fn new(capacity: usize, seed: [u64; 2]) -> Self {
        let slots = (capacity + capacity / 2 + 1).next_power_of_two();
        FlowTable {
            slots: (0..slots).map(|_| None).collect(),
            mask: slots - 1,
            len: 0,
            capacity,
            hasher: ahash::RandomState::with_seeds(seed[0], seed[1], seed[0].rotate_left(17) ^ 0x006c_7a72, seed[1].rotate_left(29)),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn home(&self, key: &FlowKey) -> usize {
        self.hasher.hash_one(key) as usize & self.mask
    }

    /// Slot index of `key`, if present.
    pub fn find(&self, key: &FlowKey) -> Option<usize> {
        let mut i = self.home(key);
        loop {
            match &self.slots[i] {
                None => return None,
                Some(v) if v.key() == *key => return Some(i),
                Some(_) => i = (i + 1) & self.mask,
            }
        }
    }

    pub fn get(&self, slot: usize) -> Option<&V> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut V> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    /// Inserts a value whose key is not present yet (the caller looked it up first); returns its slot.
    pub fn insert(&mut self, value: V) -> Result<usize, TableFull> {
        if self.len >= self.capacity {
            return Err(TableFull);
        }
        let mut i = self.home(&value.key());
        while self.slots[i].is_some() {
            i = (i + 1) & self.mask;
        }
        self.slots[i] = Some(value);
        self.len += 1;
        Ok(i)
    }

    /// Removes and returns the value in `slot`. Slot numbers of other entries may change.
    pub fn remove(&mut self, slot: usize) -> Option<V> {
        let removed = self.slots.get_mut(slot)?.take()?;
        self.len -= 1;
        // Backward-shift: pull each later entry of the run into the hole when the hole lies on its probe path.
        let mut hole = slot;
        let mut i = (slot + 1) & self.mask;
        while let Some(v) = &self.slots[i] {
            let home = self.home(&v.key());
            let distance_to_i = i.wrapping_sub(home) & self.mask;
            let distance_to_hole = hole.wrapping_sub(home) & self.mask;
            if distance_to_hole <= distance_to_i {
                self.slots[hole] = self.slots[i].take();
                hole = i;
            }
            i = (i + 1) & self.mask;
        }
        Some(removed)
    }

    /// Slots of every entry, for a full sweep (shutdown).
    pub fn occupied(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|_| i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::net::Ipv4Addr;

    #[derive(Debug, Clone, PartialEq)]
    struct V(FlowKey, u32);
    impl Keyed for V {
        fn key(&self) -> FlowKey {
            self.0
        }
    }

    fn key(a: u32, p: u16) -> FlowKey {
        FlowKey { addr: IpAddr::V4(Ipv4Addr::from(a)), port: p }
    }

    #[test]
    fn full_table_refuses() {
        let mut t = FlowTable::new(3, [1, 2]);
        for i in 0..3 {
            t.insert(V(key(i, 80), i)).unwrap();
        }
        assert_eq!(t.insert(V(key(9, 80), 9)), Err(TableFull));
        let s = t.find(&key(1, 80)).unwrap();
        assert_eq!(t.remove(s), Some(V(key(1, 80), 1)));
        t.insert(V(key(9, 80), 9)).unwrap();
        assert_eq!(t.len(), 3);
    }

    proptest! {
        /// Random inserts and removes agree with a HashMap model (covers backward-shift deletion).
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((any::<bool>(), 0u32..40, 0u16..3), 1..400)) {
            let mut t = FlowTable::new(100, [7, 8]);
            let mut model = HashMap::new();
            for (n, (insert, a, p)) in ops.into_iter().enumerate() {
                let k = key(a, p);
                match (insert, t.find(&k)) {
                    (true, None) => {
                        if model.len() == 100 {
                            prop_assert_eq!(t.insert(V(k, n as u32)), Err(TableFull));
                        } else {
                            t.insert(V(k, n as u32)).unwrap();
                            model.insert(k, n as u32);
                        }
                    }
                    (false, Some(s)) => {
                        prop_assert_eq!(t.remove(s).map(|v| v.1), model.remove(&k));
                    }
                    _ => {}
                }
                prop_assert_eq!(t.len(), model.len());
            }
            for (k, v) in &model {
                let s = t.find(k).expect("present");
                prop_assert_eq!(t.get(s).map(|x| x.1), Some(*v));
            }
            prop_assert_eq!(t.occupied().count(), model.len());
        }
    }
}
