//! The timers of one shard: fixed-delay lanes in front of a hashed wheel with 1 ms slots, one pending timer
//! per flow that counts.
//!
//! Almost every timer is "the same delay from now" (retransmit, timeout, linger), so each such delay gets a
//! lane: a FIFO whose deadlines are in order by construction (the clock never goes back). Arming appends to
//! its tail and firing pops from its head, both sequential, so a timer costs no cache miss to write or read
//! however far out it is, and no sorting. Any other deadline (the HyperACKtive window's end) goes on the
//! wheel. A caller looks the lanes of its delays up once ([`TimerWheel::add_lane`]) and arms on them by
//! [`LaneId`], so arming is a generation bump and an append.
//!
//! Flows are named by their table entry number (stable while the flow lives). The wheel keeps one 32-bit
//! generation per entry number: arming bumps it and stores the new value in the wheel entry, and
//! [`TimerWheel::disarm`] (a flow that needs no timer, or that left the table) bumps it without arming. An
//! entry whose generation no longer matches is stale and dies when it fires, without touching the flow or
//! the flow table: the check reads one small array (4 bytes per flow) instead of a 112-byte flow. Entries
//! further out than one turn of the wheel stay in their slot until a later turn reaches their deadline.
//! Timers due in the same millisecond fire in lane order, then wheel order (arm order within each).
//!
//! A generation wraps only after 2^32 re-arms of the same entry number, all while one stale entry of it
//! is still waiting in the wheel; a flow re-arms a handful of times per handshake, so that cannot happen.

use std::collections::VecDeque;

use super::table::prefetch_read;

/// One armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerEntry {
    pub entry: u32,
    pub generation: u32,
    pub deadline_ms: u64,
}

/// Names one lane of a wheel ([`TimerWheel::lane`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneId(usize);

/// Bumps the generation of `entry` and returns the new one (growing the array on first use of a number).
#[inline(always)]
fn bump_in(generations: &mut Vec<u32>, entry: u32) -> u32 {
    match generations.get_mut(entry as usize) {
        Some(g) => {
            *g = g.wrapping_add(1);
            *g
        }
        None => grow_to(generations, entry),
    }
}

#[cold]
fn grow_to(generations: &mut Vec<u32>, entry: u32) -> u32 {
    // Only called when `entry` is past the end: fill up to it, then its first generation.
    generations.resize(entry as usize, 0);
    generations.push(1);
    1
}

/// Timers armed with one fixed delay: deadlines never decrease from head to tail.
struct Lane {
    delay_ms: u64,
    queue: VecDeque<TimerEntry>,
}

pub struct TimerWheel {
    lanes: Vec<Lane>,
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

    /// A wheel with a lane for each of `lane_delays_ms` (milliseconds).
    pub fn with_lanes(lane_delays_ms: &[u64]) -> Self {
        let mut wheel = Self::new();
        for &delay_ms in lane_delays_ms {
            wheel.add_lane(delay_ms);
        }
        wheel
    }

    /// The lane of timers `delay_ms` from when they are armed, added if the wheel has none yet.
    pub fn add_lane(&mut self, delay_ms: u64) -> LaneId {
        self.lane(delay_ms).unwrap_or_else(|| {
            self.lanes.push(Lane { delay_ms, queue: VecDeque::new() });
            LaneId(self.lanes.len() - 1)
        })
    }

    /// A wheel without lanes.
    pub fn new() -> Self {
        TimerWheel {
            lanes: Vec::new(),
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

    /// Bytes held: the lanes', the slot vectors' storage and the generation array.
    pub fn bytes(&self) -> usize {
        self.lanes.iter().map(|l| l.queue.capacity() * std::mem::size_of::<TimerEntry>()).sum::<usize>()
            + self.slots.iter().map(|s| s.capacity() * std::mem::size_of::<TimerEntry>()).sum::<usize>()
            + self.slots.capacity() * std::mem::size_of::<Vec<TimerEntry>>()
            + self.generations.capacity() * std::mem::size_of::<u32>()
    }

    fn bump(&mut self, entry: u32) -> u32 {
        bump_in(&mut self.generations, entry)
    }

    /// Arms `entry`'s timer (any earlier one of it becomes stale); a deadline in the past fires on the next
    /// advance.
    #[inline(never)]
    pub fn arm(&mut self, entry: u32, deadline_ms: u64) {
        let generation = self.bump(entry);
        let deadline_ms = deadline_ms.max(self.cursor_ms);
        self.slots[(deadline_ms & self.mask) as usize].push(TimerEntry { entry, generation, deadline_ms });
        self.len += 1;
    }

    /// The lane of timers `delay_ms` from when they are armed, if the wheel has one.
    pub fn lane(&self, delay_ms: u64) -> Option<LaneId> {
        self.lanes.iter().position(|l| l.delay_ms == delay_ms).map(LaneId)
    }

    /// Arms `entry`'s timer `delay_ms` after `now_ms`: on the lane of that delay if there is one, else on
    /// the wheel.
    pub fn arm_after(&mut self, entry: u32, now_ms: u64, delay_ms: u64) {
        match self.lane(delay_ms) {
            Some(lane) => self.arm_on(lane, entry, now_ms),
            None => self.arm(entry, now_ms.saturating_add(delay_ms)),
        }
    }

    /// Arms `entry`'s timer on `lane` (a lane of this wheel), its lane's delay after `now_ms`. The common
    /// path: a caller that arms the same few delays all the time looks their lanes up once.
    pub fn arm_on(&mut self, lane: LaneId, entry: u32, now_ms: u64) {
        let TimerWheel { lanes, generations, cursor_ms, .. } = self;
        let Some(lane) = lanes.get_mut(lane.0) else { return self.arm(entry, now_ms) };
        let deadline_ms = now_ms.saturating_add(lane.delay_ms).max(*cursor_ms);
        // A clock that went back would break the lane's order; such a timer goes on the wheel instead.
        if lane.queue.back().is_some_and(|last| last.deadline_ms > deadline_ms) {
            return self.arm(entry, deadline_ms);
        }
        let generation = bump_in(generations, entry);
        lane.queue.push_back(TimerEntry { entry, generation, deadline_ms });
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
        for lane in &mut self.lanes {
            while let Some(e) = lane.queue.front().filter(|e| e.deadline_ms <= now_ms) {
                fired.push(*e);
                lane.queue.pop_front();
            }
        }
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
        // Advancing by one millisecond, everything due is due exactly now (earlier deadlines fired at earlier
        // advances): no order to restore. A jump over several milliseconds needs a (stable) sort.
        if span > 1 {
            fired.sort_by_key(|e| e.deadline_ms);
        }
        // The generation checks read a random place each; start them all before the first is needed.
        for e in &fired {
            if let Some(g) = self.generations.get(e.entry as usize) {
                prefetch_read(g);
            }
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
    fn lanes_fire_in_deadline_order_with_the_wheel() {
        let mut w = TimerWheel::with_lanes(&[1000, 5000, 1000]);
        let mut due = Vec::new();
        w.advance(10_000, &mut due);
        w.arm_after(1, 10_000, 5000); // 15_000, lane
        w.arm_after(2, 10_001, 1000); // 11_001, lane
        w.arm(3, 12_000); // wheel
        w.arm_after(4, 10_002, 1000); // 11_002, lane
        w.arm_after(5, 10_002, 777); // 10_779, no lane: wheel
        assert_eq!(w.len(), 5);
        w.advance(11_001, &mut due);
        assert_eq!(due.iter().map(|e| e.entry).collect::<Vec<_>>(), vec![5, 2]);
        due.clear();
        w.arm_after(2, 11_001, 5000); // 16_001: entry 2 again, behind entry 1 on its lane
        w.advance(20_000, &mut due);
        assert_eq!(due.iter().map(|e| (e.entry, e.deadline_ms)).collect::<Vec<_>>(), vec![(4, 11_002), (3, 12_000), (1, 15_000), (2, 16_001)]);
        assert!(w.is_empty());
    }

    #[test]
    fn arming_on_a_lane_is_arming_after_its_delay() {
        let mut by_lane = TimerWheel::new();
        let mut by_delay = TimerWheel::with_lanes(&[300, 700]);
        let (short, long) = (by_lane.add_lane(300), by_lane.add_lane(700));
        assert_eq!(by_lane.add_lane(300), short, "one lane per delay");
        assert_eq!(by_lane.lane(700), Some(long));
        assert_eq!(by_lane.lane(500), None);
        for (i, now) in [0u64, 10, 10, 250, 900].into_iter().enumerate() {
            // Entries past the generation array's end grow it; re-arming 1000 and 1001 makes their first
            // timers stale.
            let entry = (i % 3) as u32 + 1000;
            let (lane, delay) = if i % 2 == 0 { (short, 300) } else { (long, 700) };
            by_lane.arm_on(lane, entry, now);
            by_delay.arm_after(entry, now, delay);
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for now in [400, 1000, 5000] {
            assert_eq!(by_lane.advance(now, &mut a), by_delay.advance(now, &mut b));
            assert_eq!(a, b);
        }
        assert_eq!(a.iter().map(|e| (e.entry, e.deadline_ms)).collect::<Vec<_>>(), vec![(1002, 310), (1000, 950), (1001, 1200)]);
    }

    #[test]
    fn a_clock_going_back_still_fires_every_timer_in_order() {
        let mut w = TimerWheel::with_lanes(&[100]);
        let mut due = Vec::new();
        w.arm_after(1, 5000, 100);
        w.arm_after(2, 4000, 100); // earlier than the lane's tail: goes on the wheel
        w.advance(6000, &mut due);
        assert_eq!(due.iter().map(|e| e.entry).collect::<Vec<_>>(), vec![2, 1]);
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
