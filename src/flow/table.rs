//! The flow table of one shard: fixed capacity, keyed by (remote address, remote port), hashed with ahash
//! seeded from the run's secret (so a remote cannot aim for collisions).
//!
//! Two arrays, so that the common path touches few cache lines:
//! - an **index** of 8-byte slot words, open addressing with linear probing: each occupied word holds the
//!   upper 32 bits of the key's hash (which also give its home slot) and the entry's number. A probe reads
//!   consecutive words (eight per cache line) and compares hash bits; it reads an entry only when they
//!   match, so a miss (a stray segment, a new flow) usually reads one index line and no entry at all.
//!   Deletion shifts the following run of words back (no tombstone slots, so probes stay short however long
//!   the run lasts); the homes come from the words themselves, so a shift needs no rehash and moves 8 bytes,
//!   not a whole flow.
//! - the **entries**, a dense array whose numbers never change while the entry lives (freed numbers are
//!   reused, most recent first, so the live set stays compact and warm). Timers and per-burst lists name a
//!   flow by its entry number and need no lookup. Each value carries its [`Place`] (number and hash bits),
//!   so removing it needs no rehash either.
//!
//! The index has the next power of two above 1.5 x capacity slots (load factor at most 2/3); entries grow
//! on demand up to the capacity. The table never grows beyond that: inserting into a full table is refused
//! and the caller counts it.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// What identifies a flow: the remote end. Our port is deliberately not part of it (it moves by one per
/// handshake), as in the original (reference §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowKey {
    pub addr: IpAddr,
    pub port: u16,
}

impl Hash for FlowKey {
    /// Two fixed-size writes (address bits, then port and family) instead of a derived walk over the enum:
    /// this hash runs on every segment.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let (bits, family) = match self.addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 4u32),
            IpAddr::V6(a) => (u128::from(a), 6u32),
        };
        state.write_u128(bits);
        state.write_u32(family << 16 | u32::from(self.port));
    }
}

/// Where the table keeps a value: its entry number and the upper 32 bits of its key's hash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Place {
    pub entry: u32,
    pub hash: u32,
}

/// A value that carries its own key and remembers its [`Place`] (written by the table on insert).
pub trait Keyed {
    fn key(&self) -> FlowKey;
    fn place(&self) -> Place;
    fn set_place(&mut self, place: Place);
}

/// A key's hash, computed once per lookup and reusable (see [`FlowTable::prefetch`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyHash(u32);

impl KeyHash {
    /// The hash of a key whose [`Place`] kept these bits.
    pub fn from_bits(bits: u32) -> KeyHash {
        KeyHash(bits)
    }
}

/// Fixed-capacity map from [`FlowKey`] to `V` with stable entry numbers.
pub struct FlowTable<V> {
    /// 0 = empty; else `hash << 32 | (entry + 1)`.
    index: Vec<u64>,
    mask: usize,
    entries: Vec<Option<V>>,
    free: Vec<u32>,
    len: usize,
    capacity: usize,
    hasher: ahash::RandomState,
}

/// The table already holds `capacity` entries.
#[derive(Debug, PartialEq, Eq)]
pub struct TableFull;

fn word(hash: u32, entry: u32) -> u64 {
    u64::from(hash) << 32 | u64::from(entry + 1)
}

impl<V: Keyed> FlowTable<V> {
    /// A table for at most `capacity` entries (at most 2^30).
    pub fn new(capacity: usize, seed: [u64; 2]) -> Self {
        let slots = (capacity + capacity / 2 + 1).next_power_of_two();
        FlowTable {
            // Zeroed allocations are mapped lazily by the OS: untouched index pages cost nothing.
            index: vec![0; slots],
            mask: slots - 1,
            entries: Vec::new(),
            free: Vec::new(),
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

    /// Slots in the index.
    pub fn index_slots(&self) -> usize {
        self.index.len()
    }

    /// Entry numbers ever handed out (live and free): the high-water mark of the dense array.
    pub fn entries_allocated(&self) -> usize {
        self.entries.len()
    }

    /// Bytes of the index: fixed, 8 per slot.
    pub fn index_bytes(&self) -> usize {
        self.index.len() * std::mem::size_of::<u64>()
    }

    /// Bytes of the entries grown so far, with their free list.
    pub fn entry_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Option<V>>() + self.free.capacity() * std::mem::size_of::<u32>()
    }

    pub fn hash(&self, key: &FlowKey) -> KeyHash {
        KeyHash((self.hasher.hash_one(key) >> 32) as u32)
    }

    fn home(&self, hash: u32) -> usize {
        hash as usize & self.mask
    }

    /// Asks the CPU to start loading `key`'s first index line (for a batch: hash all, prefetch all, then
    /// look up, so the misses overlap).
    pub fn prefetch(&self, hash: KeyHash) {
        if let Some(w) = self.index.get(self.home(hash.0)) {
            prefetch_read(w);
        }
    }

    /// Prefetches the entry the key's home slot names, if any (the second stage of a batch: it reads the
    /// index line the first stage asked for).
    pub fn prefetch_found(&self, hash: KeyHash) {
        let w = self.index.get(self.home(hash.0)).copied().unwrap_or(0);
        if w != 0 && (w >> 32) as u32 == hash.0 {
            self.prefetch_entry((w as u32 - 1) as usize);
        }
    }

    /// Asks the CPU to start loading entry `entry` (both cache lines a flow may span).
    pub fn prefetch_entry(&self, entry: usize) {
        if let Some(e) = self.entries.get(entry) {
            prefetch_read(e);
            prefetch_read((e as *const Option<V>).cast::<u8>().wrapping_add(std::mem::size_of::<Option<V>>() - 1));
        }
    }

    /// Entry number of `key`, if present.
    pub fn find(&self, key: &FlowKey) -> Option<usize> {
        self.find_hashed(key, self.hash(key))
    }

    /// [`FlowTable::find`] with the hash already computed.
    pub fn find_hashed(&self, key: &FlowKey, hash: KeyHash) -> Option<usize> {
        let mut i = self.home(hash.0);
        loop {
            let w = *self.index.get(i)?;
            if w == 0 {
                return None;
            }
            if (w >> 32) as u32 == hash.0 {
                let entry = (w as u32 - 1) as usize;
                if self.entries.get(entry).and_then(Option::as_ref).is_some_and(|v| v.key() == *key) {
                    return Some(entry);
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    pub fn get(&self, entry: usize) -> Option<&V> {
        self.entries.get(entry).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, entry: usize) -> Option<&mut V> {
        self.entries.get_mut(entry).and_then(Option::as_mut)
    }

    /// Inserts a value whose key is not present yet (the caller looked it up first); returns its entry
    /// number, which stays the same until the value is removed.
    pub fn insert(&mut self, value: V) -> Result<usize, TableFull> {
        let hash = self.hash(&value.key());
        self.insert_hashed(value, hash)
    }

    /// [`FlowTable::insert`] with the hash already computed.
    pub fn insert_hashed(&mut self, mut value: V, hash: KeyHash) -> Result<usize, TableFull> {
        if self.len >= self.capacity {
            return Err(TableFull);
        }
        let entry = match self.free.pop() {
            Some(e) => e,
            None => self.entries.len() as u32,
        };
        value.set_place(Place { entry, hash: hash.0 });
        match self.entries.get_mut(entry as usize) {
            Some(cell) => *cell = Some(value),
            None => self.entries.push(Some(value)),
        }
        let mut i = self.home(hash.0);
        while self.index[i] != 0 {
            i = (i + 1) & self.mask;
        }
        self.index[i] = word(hash.0, entry);
        self.len += 1;
        Ok(entry as usize)
    }

    /// Removes and returns the value of `entry`. Other entries keep their numbers.
    pub fn remove(&mut self, entry: usize) -> Option<V> {
        let removed = self.entries.get_mut(entry)?.take()?;
        let place = removed.place();
        self.free.push(place.entry);
        self.len -= 1;
        let target = word(place.hash, place.entry);
        let mut hole = self.home(place.hash);
        while self.index[hole] != target {
            hole = (hole + 1) & self.mask;
        }
        // Backward-shift: pull each later word of the run into the hole when the hole lies on its probe path.
        let mut i = (hole + 1) & self.mask;
        loop {
            let w = self.index[i];
            if w == 0 {
                break;
            }
            let home = self.home((w >> 32) as u32);
            if hole.wrapping_sub(home) & self.mask <= i.wrapping_sub(home) & self.mask {
                self.index[hole] = w;
                hole = i;
            }
            i = (i + 1) & self.mask;
        }
        self.index[hole] = 0;
        Some(removed)
    }

    /// Entry numbers of every value, for a full sweep (shutdown).
    pub fn occupied(&self) -> impl Iterator<Item = usize> + '_ {
        self.entries.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|_| i))
    }
}

/// A hint to the CPU, no access: it never faults and has no effect on results.
#[inline(always)]
pub(super) fn prefetch_read<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is a hint; it never dereferences in the language's sense and cannot fault.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[derive(Debug, Clone, PartialEq)]
    struct V(FlowKey, u32, Place);
    impl Keyed for V {
        fn key(&self) -> FlowKey {
            self.0
        }
        fn place(&self) -> Place {
            self.2
        }
        fn set_place(&mut self, place: Place) {
            self.2 = place;
        }
    }

    fn v(k: FlowKey, n: u32) -> V {
        V(k, n, Place::default())
    }

    fn key(a: u32, p: u16) -> FlowKey {
        FlowKey { addr: IpAddr::V4(Ipv4Addr::from(a)), port: p }
    }

    #[test]
    fn full_table_refuses() {
        let mut t = FlowTable::new(3, [1, 2]);
        for i in 0..3 {
            t.insert(v(key(i, 80), i)).unwrap();
        }
        assert_eq!(t.insert(v(key(9, 80), 9)), Err(TableFull));
        let s = t.find(&key(1, 80)).unwrap();
        assert_eq!(t.remove(s).map(|x| x.1), Some(1));
        t.insert(v(key(9, 80), 9)).unwrap();
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn entry_numbers_are_stable_and_reused() {
        let mut t = FlowTable::new(100, [5, 6]);
        let ids: Vec<usize> = (0..50).map(|i| t.insert(v(key(i, 443), i)).unwrap()).collect();
        for i in (0..50).step_by(2) {
            t.remove(ids[i as usize]).unwrap();
        }
        for i in (1..50).step_by(2) {
            assert_eq!(t.find(&key(i, 443)), Some(ids[i as usize]), "survivors keep their numbers");
            assert_eq!(t.get(ids[i as usize]).map(|x| x.2.entry as usize), Some(ids[i as usize]));
        }
        let reused = t.insert(v(key(1000, 443), 1000)).unwrap();
        assert_eq!(reused, ids[48], "most recently freed first");
        assert_eq!(t.entries_allocated(), 50);
    }

    #[test]
    fn v4_and_v6_keys_are_distinct() {
        let mut t = FlowTable::new(8, [3, 4]);
        let v4 = key(0x0102_0304, 80);
        let mapped = FlowKey { addr: IpAddr::V6(Ipv4Addr::from(0x0102_0304u32).to_ipv6_mapped()), port: 80 };
        let v6 = FlowKey { addr: IpAddr::V6(Ipv6Addr::from(0x0102_0304u128)), port: 80 };
        for (n, k) in [v4, mapped, v6].into_iter().enumerate() {
            t.insert(v(k, n as u32)).unwrap();
        }
        for (n, k) in [v4, mapped, v6].into_iter().enumerate() {
            assert_eq!(t.find(&k).and_then(|e| t.get(e)).map(|x| x.1), Some(n as u32));
        }
    }

    proptest! {
        /// Random inserts and removes agree with a HashMap model (covers backward-shift deletion, wrap-around
        /// of runs at the end of the index, and entry reuse). A tiny key space forces long runs.
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec((any::<bool>(), 0u32..40, 0u16..3), 1..400)) {
            let mut t = FlowTable::new(100, [7, 8]);
            let mut model = HashMap::new();
            for (n, (insert, a, p)) in ops.into_iter().enumerate() {
                let k = key(a, p);
                match (insert, t.find(&k)) {
                    (true, None) => {
                        if model.len() == 100 {
                            prop_assert_eq!(t.insert(v(k, n as u32)), Err(TableFull));
                        } else {
                            t.insert(v(k, n as u32)).unwrap();
                            model.insert(k, n as u32);
                        }
                    }
                    (false, Some(s)) => {
                        prop_assert_eq!(t.remove(s).map(|x| x.1), model.remove(&k));
                    }
                    _ => {}
                }
                prop_assert_eq!(t.len(), model.len());
            }
            for (k, n) in &model {
                let s = t.find(k).expect("present");
                prop_assert_eq!(t.get(s).map(|x| x.1), Some(*n));
                prop_assert_eq!(t.get(s).map(|x| x.2.entry as usize), Some(s));
            }
            prop_assert_eq!(t.occupied().count(), model.len());
            prop_assert_eq!(t.index.iter().filter(|&&w| w != 0).count(), model.len());
        }

        /// A nearly full small index (runs wrap past the last slot) still agrees with the model.
        #[test]
        fn dense_index_with_wrapping_runs(ops in proptest::collection::vec((any::<bool>(), 0u32..12), 1..300)) {
            let mut t = FlowTable::new(10, [9, 10]);
            let mut model = HashMap::new();
            for (n, (insert, a)) in ops.into_iter().enumerate() {
                let k = key(a, 1);
                match (insert, t.find(&k)) {
                    (true, None) if model.len() < 10 => {
                        t.insert(v(k, n as u32)).unwrap();
                        model.insert(k, n as u32);
                    }
                    (false, Some(s)) => {
                        prop_assert_eq!(t.remove(s).map(|x| x.1), model.remove(&k));
                    }
                    _ => {}
                }
            }
            for (k, n) in &model {
                prop_assert_eq!(t.find(k).and_then(|s| t.get(s)).map(|x| x.1), Some(*n));
            }
        }
    }
}
