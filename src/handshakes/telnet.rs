//! `telnet`: server-first (empty probe). Telnet servers usually open with option negotiation
//! (IAC = 0xff followed by WILL/WONT/DO/DONT = 0xfb..0xfe).
//!
//! Rule: length ≥ 2 and (*lower* contains `telnet`, or byte[1] ∈ {0xff, 0xfe, 0xfd, 0xfc, 0xfb}) → `telnet`.
//! The original tests the **second** byte only (the verb after IAC), not that the first is IAC.

use super::text::{needle::LOWER_TELNET, Haystack};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Telnet;

impl FixedProbe for Telnet {
    const NAME: &'static str = "telnet";
    const PROBE: &'static [u8] = b"";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    let [_, second, ..] = *h.bytes() else {
        return None;
    };
    (matches!(second, 0xfb..=0xff) || h.has(LOWER_TELNET)).then_some("telnet")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_edges() {
        assert_eq!(
            Telnet::rule(&[0xff, 0xfd, 0x18]),
            Some("telnet"),
            "IAC DO TERMINAL-TYPE"
        );
        assert_eq!(
            Telnet::rule(&[0xff, 0xfb]),
            Some("telnet"),
            "exactly 2 bytes"
        );
        assert_eq!(
            Telnet::rule(&[0x00, 0xfc]),
            Some("telnet"),
            "only the second byte counts"
        );
        assert_eq!(
            Telnet::rule(&[0xff, 0xfa, 0x18]),
            None,
            "SB is not in the set"
        );
        assert_eq!(Telnet::rule(&[0xff]), None, "1 byte is too short");
        assert_eq!(
            Telnet::rule(b"Welcome to the TELNET server"),
            Some("telnet")
        );
        assert_eq!(Telnet::rule(b"x"), None);
        assert_eq!(
            Telnet::rule(b"\x80\xfdbinary"),
            Some("telnet"),
            "no ascii guard"
        );
    }
}
