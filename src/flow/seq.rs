//! TCP sequence-number arithmetic modulo 2^32 (RFC 793 §3.3, RFC 1982 serial-number style).
//!
//! Every comparison goes through the wrapping difference read as a signed 32-bit value, so a flow whose
//! numbers straddle 2^32 behaves exactly like one in the middle of the space. The original compared Go `int`s
//! and failed such flows (reference §4.3, §10.1 item 10).

/// `a + n` in sequence space.
#[inline]
pub fn add(a: u32, n: u32) -> u32 {
    a.wrapping_add(n)
}

/// `a - b` as a signed distance: positive when `a` is after `b`. Meaningful while |a - b| < 2^31.
#[inline]
pub fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// `a` comes strictly before `b`.
#[inline]
pub fn lt(a: u32, b: u32) -> bool {
    diff(a, b) < 0
}

/// `a` comes before `b` or equals it.
#[inline]
pub fn le(a: u32, b: u32) -> bool {
    diff(a, b) <= 0
}

/// `x` lies in the closed interval `[lo, hi]` walked forward from `lo` (so `[2^32 - 2, 3]` holds 6 values).
#[inline]
pub fn in_range(x: u32, lo: u32, hi: u32) -> bool {
    x.wrapping_sub(lo) <= hi.wrapping_sub(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps_at_the_top() {
        assert_eq!(add(u32::MAX, 1), 0);
        assert_eq!(add(u32::MAX - 1, 5), 3);
        assert!(lt(u32::MAX, 0));
        assert!(lt(u32::MAX - 10, 10));
        assert!(!lt(10, u32::MAX - 10));
        assert_eq!(diff(3, u32::MAX - 1), 5);
        assert!(in_range(0, u32::MAX - 1, 3));
        assert!(in_range(u32::MAX, u32::MAX - 1, 3));
        assert!(!in_range(4, u32::MAX - 1, 3));
        assert!(!in_range(u32::MAX - 2, u32::MAX - 1, 3));
    }

    /// Bases close to 2^32 where unwrapped arithmetic breaks.
    fn near_top() -> impl Strategy<Value = u32> {
        prop_oneof![u32::MAX - 4096..=u32::MAX, 0u32..4096, any::<u32>()]
    }

    proptest! {
        #[test]
        fn add_then_diff_round_trips(base in near_top(), n in 0u32..(1 << 31)) {
            let later = add(base, n);
            prop_assert_eq!(diff(later, base), n as i32);
            prop_assert!(le(base, later));
            prop_assert_eq!(lt(base, later), n > 0);
            prop_assert_eq!(lt(later, base), false);
        }

        #[test]
        fn range_membership_matches_offsets(lo in near_top(), span in 0u32..100_000, off in 0u32..200_000) {
            let hi = add(lo, span);
            prop_assert_eq!(in_range(add(lo, off), lo, hi), off <= span);
        }

        #[test]
        fn ordering_is_translation_invariant(a in any::<u32>(), d in 1u32..(1 << 31), shift in any::<u32>()) {
            let b = add(a, d);
            prop_assert!(lt(a, b));
            prop_assert!(lt(add(a, shift), add(b, shift)));
        }
    }
}
