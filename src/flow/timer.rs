//! A hashed timer wheel with 1 ms slots. Each entry names its flow by key and carries the flow's timer
//! generation at the time it was armed: a flow re-arms by bumping its generation, so older entries are
//! recognised as stale when they fire and die without effect (no cancellation, no search). Entries further
//! out than one turn of the wheel stay in their slot until a later turn reaches their deadline.

use super::table::FlowKey;

/// One armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerEntry {
    pub key: FlowKey,
    pub generation: u64,
    pub deadline_ms: u64,
}

pub struct TimerWheel {
    slots: Vec<Vec<TimerEntry>>,
    mask: u64,
    /// The next millisecond not yet processed.
    cursor_ms: u64,
    len: usize,
}

impl TimerWheel {
    /// Slots per turn: 16384 ms covers every default timer (up to 10 s) in a single turn.
    pub const SLOTS: usize = 1 << 14;

    pub fn new() -> Self {
        TimerWheel { slots: (0..Self::SLOTS).map(|_| Vec::new()).collect(), mask: Self::SLOTS as u64 - 1, cursor_ms: 0, len: 0 }
    }

    /// Entries held, stale ones included.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Arms a timer; a deadline in the past fires on the next advance.
    pub fn arm(&mut self, key: FlowKey, generation: u64, deadline_ms: u64) {
        let deadline_ms = deadline_ms.max(self.cursor_ms);
        self.slots[(deadline_ms & self.mask) as usize].push(TimerEntry { key, generation, deadline_ms });
        self.len += 1;
    }

    /// Moves every entry due at or before `now_ms` into `due`, earliest first.
    pub fn advance(&mut self, now_ms: u64, due: &mut Vec<TimerEntry>) {
        if now_ms < self.cursor_ms {
            return;
        }
        let start = due.len();
        let span = (now_ms - self.cursor_ms + 1).min(self.mask + 1);
        for ms in self.cursor_ms..self.cursor_ms + span {
            self.slots[(ms & self.mask) as usize].retain(|e| {
                let fire = e.deadline_ms <= now_ms;
                if fire {
                    due.push(*e);
                }
                !fire
            });
        }
        self.len -= due.len() - start;
        self.cursor_ms = now_ms + 1;
        due[start..].sort_by_key(|e| e.deadline_ms);
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
    use std::net::{IpAddr, Ipv4Addr};

    fn key(p: u16) -> FlowKey {
        FlowKey { addr: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)), port: p }
    }

    #[test]
    fn fires_in_order_and_only_when_due() {
        let mut w = TimerWheel::new();
        let mut due = Vec::new();
        w.advance(1000, &mut due);
        w.arm(key(1), 1, 1500);
        w.arm(key(2), 1, 1200);
        w.arm(key(3), 1, 1000 + TimerWheel::SLOTS as u64 + 1200); // one turn later, same slot as key(2)
        w.advance(1199, &mut due);
        assert!(due.is_empty());
        w.advance(1600, &mut due);
        assert_eq!(due.iter().map(|e| e.key.port).collect::<Vec<_>>(), vec![2, 1]);
        due.clear();
        assert_eq!(w.len(), 1);
        w.advance(100_000, &mut due); // a jump longer than a turn still finds it
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].key.port, 3);
        assert!(w.is_empty());
    }

    #[test]
    fn past_deadlines_fire_next() {
        let mut w = TimerWheel::new();
        let mut due = Vec::new();
        w.advance(5000, &mut due);
        w.arm(key(1), 7, 10);
        w.advance(5001, &mut due);
        assert_eq!(due, vec![TimerEntry { key: key(1), generation: 7, deadline_ms: 5001 }]);
    }
}
