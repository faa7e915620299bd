//! `memcached_ascii`: sends `stats\r\n` (7 bytes).
//!
//! Rule: contains `STAT` and `pid` → `memcached_ascii` (the first stats line is `STAT pid N`).

use super::text::{
    needle::{PID, STAT},
    Haystack,
};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct MemcachedAscii;

impl FixedProbe for MemcachedAscii {
    const NAME: &'static str = "memcached_ascii";
    const PROBE: &'static [u8] = b"stats\r\n";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    (h.has(STAT) && h.has(PID)).then_some("memcached_ascii")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, probe};

    #[test]
    fn probe_and_rule() {
        assert_eq!(probe(&MemcachedAscii, &ctx_v4(1, 2, 3, 4)), b"stats\r\n");
        let stats =
            b"STAT pid 1\r\nSTAT uptime 12\r\nSTAT time 1700000000\r\nSTAT version 1.6.21\r\n";
        assert_eq!(MemcachedAscii::rule(stats), Some("memcached_ascii"));
        assert_eq!(MemcachedAscii::rule(b"STAT uptime 12\r\n"), None);
        assert_eq!(MemcachedAscii::rule(b"ERROR\r\n"), None);
    }
}
