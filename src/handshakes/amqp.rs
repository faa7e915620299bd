//! `amqp`: sends the AMQP 1.0 protocol header `AMQP\0\1\0\0` (8 bytes). Brokers answer with their own header
//! (RabbitMQ: `AMQP\0\0\x09\x01`, the version it speaks).
//!
//! Rule: contains `AMQP` → `amqp`.

use super::text::{needle::AMQP, Haystack};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Amqp;

impl FixedProbe for Amqp {
    const NAME: &'static str = "amqp";
    const PROBE: &'static [u8] = b"AMQP\x00\x01\x00\x00";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    h.has(AMQP).then_some("amqp")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        assert_eq!(Amqp::PROBE, hex("414d515000010000"));
        assert_eq!(Amqp::rule(b"AMQP\x00\x00\x09\x01"), Some("amqp"));
        assert_eq!(Amqp::rule(b"amqp"), None);
    }
}
