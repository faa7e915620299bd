//! `dns`: DNS over TCP (length prefix 35), id 0x3962, RD, one A/IN question for `stackoverflow.com` (37 bytes).
//!
//! Rule: contains `stackoverflow` (the question a DNS server echoes in its answer) → `dns`.

use super::text::{needle::STACKOVERFLOW, Haystack};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Dns;

impl FixedProbe for Dns {
    const NAME: &'static str = "dns";
    const PROBE: &'static [u8] = b"\x00\x23\x39\x62\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
\x0dstackoverflow\x03com\x00\x00\x01\x00\x01";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    h.has(STACKOVERFLOW).then_some("dns")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        let mut expected = hex("0023 3962 0100 0001 0000 0000 0000 0d");
        expected.extend_from_slice(b"stackoverflow\x03com\0");
        expected.extend_from_slice(&hex("0001 0001"));
        assert_eq!(Dns::PROBE, expected);
        assert_eq!(Dns::PROBE.len(), 37);
        assert_eq!(
            usize::from(u16::from_be_bytes([Dns::PROBE[0], Dns::PROBE[1]])),
            Dns::PROBE.len() - 2
        );
        // REFUSED answer echoing the question.
        let mut refused = hex("0023 3962 8185 0001 0000 0000 0000 0d");
        refused.extend_from_slice(b"stackoverflow\x03com\0\0\x01\0\x01");
        assert_eq!(Dns::rule(&refused), Some("dns"));
        assert_eq!(Dns::rule(b"StackOverflow"), None);
    }
}
