//! A hashed timer wheel with 1 ms slots, one pending timer per flow that counts.
//!
//! Flows are named by their table entry number (stable while the flow lives). The wheel keeps one 32-bit
//! generation per entry number: arming bumps it and stores the new value in the wheel entry, and
//! [`TimerWheel::disarm`] (a flow that needs no timer, or that left the table) bumps it without arming. An
//! entry whose generation no longer matches is stale and dies when it fires, without touching the flow or
//! the flow table: the check reads one small array (4 bytes per flow) instead of a 112-byte flow. Entries
//! further out than one turn of the wheel stay in their slot until a later turn reaches their deadline.
//!
//! A generation wraps only after 2^32 re-arms of the same entry number, all while one stale entry of it
//! is still waiting in the wheel; a flow re-arms a handful of times per handshake, so that cannot happen.

/// One armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerEntry {
    pub entry: u32,
    pub generation: u32,
    pub deadline_ms: u64,
}

pub struct TimerWheel {
    slots: Vec<Vec<TimerEntry>>,
    /// Current generation of each entry number.
    generations: Vec<u32>,
    /// Entries taken out by the last advance (kept for its allocation).
    scratch: Vec<TimerEntry>,
    mask: u64,
    /// The next millisecond not yet processed.
    cursor_ms: u64,
    len: usize,
}

impl TimerWheel {
    /// Slots per turn: 16384 ms covers every default timer (up to 10 s) in a single turn.
    pub const SLOTS: usize = 1 << 14;

    pub fn new() -> Self {
        TimerWheel {
            slots: (0..Self::SLOTS).map(|_| Vec::new()).collect(),
            generations: Vec::new(),
            scratch: Vec::new(),
            mask: Self::SLOTS as u64 - 1,
            cursor_ms: 0,
            len: 0,
        }
    }

    /// Entries held, stale ones included.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held: the slot vectors' storage and the generation array.
    pub fn bytes(&self) -> usize {
        self.slots.iter().map(|s| s.capacity() * std::mem::size_of::<TimerEntry>()).sum::<usize>()
            + self.slots.capacity() * std::mem::size_of::<Vec<TimerEntry>>()
            + self.generations.capacity() * std::mem::size_of::<u32>()
    }

    fn bump(&mut self, entry: u32) -> u32 {
        let i = entry as usize;
        if i >= self.generations.len() {
            self.generations.resize(i + 1, 0);
        }
        let g = &mut self.generations[i];
        *g = g.wrapping_add(1);
        *g
    }

    /// Arms `entry`'s timer (any earlier one of it becomes stale); a deadline in the past fires on the next
    /// advance.
    pub fn arm(&mut self, entry: u32, deadline_ms: u64) {
        let generation = self.bump(entry);
        let deadline_ms = deadline_ms.max(self.cursor_ms);
        self.slots[(deadline_ms & self.mask) as usize].push(TimerEntry { entry, generation, deadline_ms });
        self.len += 1;
    }

    /// Makes `entry`'s pending timer stale without arming another.
    pub fn disarm(&mut self, entry: u32) {
        self.bump(entry);
    }

    /// Whether `e` is still its flow's timer (the caller re-checks while working through a batch of due
    /// entries, in case handling one of them moved another flow on).
    pub fn is_current(&self, e: &TimerEntry) -> bool {
        self.generations.get(e.entry as usize) == Some(&e.generation)
    }

    /// Moves every current entry due at or before `now_ms` into `due` (earliest deadline first) and drops
    /// the stale ones; returns how many were stale.
    pub fn advance(&mut self, now_ms: u64, due: &mut Vec<TimerEntry>) -> u64 {
        if now_ms < self.cursor_ms {
            return 0;
        }
        let span = (now_ms - self.cursor_ms + 1).min(self.mask + 1);
        let mut fired = std::mem::take(&mut self.scratch);
        for ms in self.cursor_ms..self.cursor_ms + span {
            let slot = &mut self.slots[(ms & self.mask) as usize];
            slot.retain(|e| {
                let fire = e.deadline_ms <= now_ms;
                if fire {
                    fired.push(*e);
                }
                !fire
            });
        }
        self.len -= fired.len();
        self.cursor_ms = now_ms + 1;
        // Only a jump over several milliseconds can mix deadlines; a slot alone is already in order.
        if span > 1 {
            fired.sort_by_key(|e| e.deadline_ms);
        }
        let mut stale = 0;
        for e in fired.drain(..) {
            if self.is_current(&e) {
                due.push(e);
            } else {
                stale += 1;
            }
        }
        self.scratch = fired;
        stale
    }
}

impl Default for TimerWheel {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_order_and_only_when_due() {
        let mut w = TimerWheel::new();
        let mut due = Vec::new();
        w.advance(1000, &mut due);
        w.arm(1, 1500);
        w.arm(2, 1200);
        w.arm(3, 1000 + TimerWheel::SLOTS as u64 + 1200); // one turn later, same slot as entry 2
        w.advance(1199, &mut due);
        assert!(due.is_empty());
        assert_eq!(w.advance(1600, &mut due), 0);
        assert_eq!(due.iter().map(|e| e.entry).collect::<Vec<_>>(), vec![2, 1]);
        due.clear();
        assert_eq!(w.len(), 1);
        w.advance(100_000, &mut due); // a jump longer than a turn still finds it
        assert_eq!(due.iter().map(|e| e.entry).collect::<Vec<_>>(), vec![3]);
        assert!(w.is_empty());
    }

    #[test]
    fn past_deadlines_fire_next() {
        let mut w = TimerWheel::new();
        let mut due = Vec::new();
        w.advance(5000, &mut due);
        w.arm(1, 10);
        w.advance(5001, &mut due);
        assert_eq!(due, vec![TimerEntry { entry: 1, generation: 1, deadline_ms: 5001 }]);
    }

    #[test]
    fn rearming_or_disarming_makes_the_older_entry_stale() {
        let mut w = TimerWheel::new();
        let mut due = Vec::new();
        w.arm(7, 100);
        w.arm(7, 300); // replaces the first
        w.arm(8, 100);
        w.disarm(8);
        w.arm(9, 200);
        assert_eq!(w.advance(250, &mut due), 2, "entry 7's first timer and entry 8's");
        assert_eq!(due.iter().map(|e| e.entry).collect::<Vec<_>>(), vec![9]);
        due.clear();
        assert_eq!(w.advance(300, &mut due), 0);
        assert_eq!(due.iter().map(|e| e.entry).collect::<Vec<_>>(), vec![7]);
        assert!(w.is_current(&due[0]));
        w.disarm(7);
        assert!(!w.is_current(&due[0]));
        assert!(w.is_empty());
    }
}
