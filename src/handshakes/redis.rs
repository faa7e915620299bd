//! `redis`: sends the RESP array `PING` (`*1\r\n$4\r\nPING\r\n`, 14 bytes).
//!
//! Rule: (exactly 7 bytes and contains `PONG`, i.e. `+PONG\r\n`) or contains `Redis` or contains
//! `-ERR unknown` → `redis`.

use super::text::{
    needle::{ERR_UNKNOWN, PONG, REDIS},
    Haystack,
};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Redis;

impl FixedProbe for Redis {
    const NAME: &'static str = "redis";
    const PROBE: &'static [u8] = b"*1\r\n$4\r\nPING\r\n";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    let redis = (h.bytes().len() == 7 && h.has(PONG)) || h.has(REDIS) || h.has(ERR_UNKNOWN);
    redis.then_some("redis")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, probe};

    #[test]
    fn probe_and_rule() {
        assert_eq!(probe(&Redis, &ctx_v4(1, 2, 3, 4)), b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(Redis::rule(b"+PONG\r\n"), Some("redis"), "7 bytes");
        assert_eq!(Redis::rule(b"+PONG\n"), None, "6 bytes");
        assert_eq!(Redis::rule(b"+PONG\r\n\r"), None, "8 bytes");
        assert_eq!(
            Redis::rule(b"-ERR unknown command 'GET', with args beginning with: '/' \r\n"),
            Some("redis")
        );
        assert_eq!(Redis::rule(b"-NOAUTH Authentication required.\r\n"), None);
        assert_eq!(
            Redis::rule(
                b"-DENIED Redis is running in protected mode because protected mode is enabled\r\n"
            ),
            Some("redis")
        );
    }
}
