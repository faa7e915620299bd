//! A sans-IO token bucket for the sending loop: it is told the time, it says how many packets may go.
//!
//! Credit is kept in exact integer units (one packet = 10^9 units, each nanosecond adds `rate` units), so there is
//! no drift over long runs and no floating point. The bucket holds at most `burst` packets and starts full. A
//! rate of 0 means unlimited.

const UNITS_PER_PACKET: u128 = 1_000_000_000;

#[derive(Clone, Debug)]
pub struct Pacer {
    rate: u64,
    cap: u128,
    credit: u128,
    last_ns: Option<u64>,
}

impl Pacer {
    /// `rate` packets per second (0 = unlimited), at most `burst` (≥ 1) packets at once.
    pub fn new(rate: u64, burst: u32) -> Pacer {
        let cap = u128::from(burst.max(1)) * UNITS_PER_PACKET;
        Pacer { rate, cap, credit: cap, last_ns: None }
    }

    pub fn rate(&self) -> u64 {
        self.rate
    }

    fn refill(&mut self, now_ns: u64) {
        if let Some(last) = self.last_ns {
            // A clock that goes backwards adds nothing.
            let elapsed = now_ns.saturating_sub(last);
            self.credit = (self.credit + u128::from(elapsed) * u128::from(self.rate)).min(self.cap);
        }
        if self.last_ns.map_or(true, |last| now_ns > last) {
            self.last_ns = Some(now_ns);
        }
    }

    /// How many of `want` packets may be sent at `now_ns` (monotonic nanoseconds); those are spent.
    pub fn grant(&mut self, now_ns: u64, want: u32) -> u32 {
        if self.rate == 0 {
            return want;
        }
        self.refill(now_ns);
        let available = self.credit / UNITS_PER_PACKET;
        let granted = available.min(u128::from(want)) as u32;
        self.credit -= u128::from(granted) * UNITS_PER_PACKET;
        granted
    }

    /// Nanoseconds from `now_ns` until one packet may be sent (0 if one may go now).
    pub fn wait_ns(&mut self, now_ns: u64) -> u64 {
        if self.rate == 0 {
            return 0;
        }
        self.refill(now_ns);
        if self.credit >= UNITS_PER_PACKET {
            return 0;
        }
        let missing = UNITS_PER_PACKET - self.credit;
        let rate = u128::from(self.rate);
        u64::try_from(missing.div_ceil(rate)).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn starts_with_a_full_burst_then_paces() {
        let mut p = Pacer::new(1000, 10);
        assert_eq!(p.grant(0, 100), 10);
        assert_eq!(p.grant(0, 100), 0);
        assert_eq!(p.wait_ns(0), 1_000_000);
        assert_eq!(p.grant(999_999, 1), 0);
        assert_eq!(p.grant(1_000_000, 5), 1);
        // Never more than the burst, however long we were idle.
        assert_eq!(p.grant(100 * S, 1000), 10);
    }

    #[test]
    fn long_run_rate_is_exact() {
        // Burst 2: with burst 1 a coarse poll can find more than one packet of credit and the cap clips it,
        // which is a token bucket's nature, not drift.
        let mut p = Pacer::new(7, 2);
        let mut sent = p.grant(0, u32::MAX);
        // Poll every millisecond for 100 simulated seconds.
        for ms in 1..=100_000u64 {
            sent += p.grant(ms * 1_000_000, u32::MAX);
        }
        assert_eq!(sent, 2 + 700);
        let mut p = Pacer::new(3_000_000, 64);
        let mut sent = p.grant(0, u32::MAX);
        for us in 1..=1_000_000u64 {
            sent += p.grant(us * 1000, 32);
        }
        assert_eq!(sent, 64 + 3_000_000);
    }

    #[test]
    fn zero_rate_is_unlimited_and_clock_going_back_is_harmless() {
        let mut p = Pacer::new(0, 1);
        assert_eq!(p.grant(0, 1_000_000), 1_000_000);
        assert_eq!(p.wait_ns(0), 0);
        let mut p = Pacer::new(10, 1);
        assert_eq!(p.grant(10 * S, 5), 1);
        assert_eq!(p.grant(5 * S, 5), 0);
        assert_eq!(p.grant(10 * S + S / 10, 5), 1);
    }
}
