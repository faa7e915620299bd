//! `pptp`: Start-Control-Connection-Request (156 bytes, big-endian): length 156, control message, magic
//! cookie 0x1a2b3c4d, type 1, protocol 1.0, async framing, analog bearer, 65535 channels, firmware 1, and a
//! zero 64-byte host name and vendor.
//!
//! Rule: contains `+<M` (bytes 2b 3c 4d: the tail of the echoed magic cookie) → `pptp`.

use super::text::{needle::PPTP_MAGIC, Haystack};
use super::FixedProbe;

const PROBE: [u8; 156] = {
    const HEAD: [u8; 28] = [
        0x00, 0x9c, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x00, 0x01,
    ];
    let mut p = [0u8; 156];
    let mut i = 0;
    while i < HEAD.len() {
        p[i] = HEAD[i];
        i += 1;
    }
    p
};

#[derive(Debug, Default)]
pub struct Pptp;

impl FixedProbe for Pptp {
    const NAME: &'static str = "pptp";
    const PROBE: &'static [u8] = &PROBE;

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    h.has(PPTP_MAGIC).then_some("pptp")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        let mut expected =
            hex("009c 0001 1a2b3c4d 0001 0000 0100 0000 00000001 00000001 ffff 0001");
        expected.resize(156, 0);
        assert_eq!(Pptp::PROBE, expected);
        assert_eq!(u16::from_be_bytes([Pptp::PROBE[0], Pptp::PROBE[1]]), 156);
        // Start-Control-Connection-Reply header.
        assert_eq!(
            Pptp::rule(&hex("009c00011a2b3c4d00020000010001000000000300000003")),
            Some("pptp")
        );
        assert_eq!(Pptp::rule(&hex("1a2b3c")), None);
    }
}
