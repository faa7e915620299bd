//! `memcached_binary`: sends a binary-protocol STAT request: magic 0x80, opcode 0x10, then 22 zero bytes
//! (24 bytes).
//!
//! Rule: byte[0] == 0x81 (response magic) or contains `ERROR\r\n` (what an ASCII-only memcached says) →
//! `memcached_binary`.

use super::text::{needle::ERROR_LINE, Haystack};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct MemcachedBinary;

const PROBE: [u8; 24] = {
    let mut p = [0u8; 24];
    p[0] = 0x80;
    p[1] = 0x10;
    p
};

impl FixedProbe for MemcachedBinary {
    const NAME: &'static str = "memcached_binary";
    const PROBE: &'static [u8] = &PROBE;

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    (h.bytes().first() == Some(&0x81) || h.has(ERROR_LINE)).then_some("memcached_binary")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, hex, probe};

    #[test]
    fn probe_and_rule() {
        assert_eq!(
            probe(&MemcachedBinary, &ctx_v4(1, 2, 3, 4)),
            hex("8010 00000000000000000000 00000000000000000000 0000")
        );
        // A STAT response: magic 0x81, opcode 0x10, key length 3 ("pid").
        assert_eq!(
            MemcachedBinary::rule(&hex(
                "81100003000000000000000700000000000000000000000070696431323334"
            )),
            Some("memcached_binary")
        );
        assert_eq!(
            MemcachedBinary::rule(b"ERROR\r\n"),
            Some("memcached_binary")
        );
        assert_eq!(MemcachedBinary::rule(b"ERROR\n"), None);
        assert_eq!(MemcachedBinary::rule(&[0x80]), None);
        assert_eq!(MemcachedBinary::rule(&[]), None);
    }
}
