//! `rtsp`: sends `OPTIONS / RTSP/1.0\r\n\r\n` (22 bytes).
//!
//! Rule: contains `RTSP` → `rtsp`.

use super::text::{needle::RTSP, Haystack};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Rtsp;

impl FixedProbe for Rtsp {
    const NAME: &'static str = "rtsp";
    const PROBE: &'static [u8] = b"OPTIONS / RTSP/1.0\r\n\r\n";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    h.has(RTSP).then_some("rtsp")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, probe};

    #[test]
    fn probe_and_rule() {
        assert_eq!(probe(&Rtsp, &ctx_v4(1, 2, 3, 4)).len(), 22);
        assert_eq!(
            Rtsp::rule(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n"),
            Some("rtsp")
        );
        assert_eq!(Rtsp::rule(b"rtsp/1.0"), None);
    }
}
