//! `vnc`: server-first (empty probe). RFB servers open with `RFB 003.008\n`.
//!
//! Rule: contains `RFB` → `vnc`.

use super::text::{needle::RFB, Haystack};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Vnc;

impl FixedProbe for Vnc {
    const NAME: &'static str = "vnc";
    const PROBE: &'static [u8] = b"";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    h.has(RFB).then_some("vnc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_edges() {
        assert_eq!(Vnc::rule(b"RFB 003.008\n"), Some("vnc"));
        assert_eq!(Vnc::rule(b"rfb 003.008\n"), None);
    }
}
