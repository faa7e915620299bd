//! `rdp`: TPKT + X.224 Connection Request (src-ref 0xfeca) with an empty `Cookie: mstshash=` and an
//! RDP_NEG_REQ asking for TLS (38 bytes).
//!
//! Rule: length ≥ 11 and the first 10 bytes are `03 00 00 13 0e d0 fe ca 12 34` (an X.224 Connection Confirm
//! of 19 bytes echoing our 0xfeca with src-ref 0x1234, as Windows answers) → `rdp`.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Rdp;

impl FixedProbe for Rdp {
    const NAME: &'static str = "rdp";
    const PROBE: &'static [u8] =
        b"\x03\x00\x00\x26\x21\xe0\x00\x00\xfe\xca\x00Cookie: mstshash=\r\n\x01\x00\x08\x00\x01\x00\x00\x00";

    fn rule(data: &[u8]) -> Option<&'static str> {
        const CONFIRM: [u8; 10] = [0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0xfe, 0xca, 0x12, 0x34];
        (data.len() >= 11 && data.starts_with(&CONFIRM)).then_some("rdp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        let mut expected = hex("030000 26 21e0 0000 feca 00");
        expected.extend_from_slice(b"Cookie: mstshash=");
        expected.extend_from_slice(&hex("0d0a 0100 0800 01000000"));
        assert_eq!(Rdp::PROBE, expected);
        assert_eq!(Rdp::PROBE.len(), 38);
        // Windows: CC + RDP_NEG_RSP selecting TLS.
        let windows = hex("030000130ed0feca1234000201080001000000");
        assert_eq!(Rdp::rule(&windows), Some("rdp"));
        assert_eq!(Rdp::rule(&windows[..10]), None, "10 bytes are too short");
        assert_eq!(Rdp::rule(&windows[..11]), Some("rdp"));
        assert_eq!(
            Rdp::rule(&hex("030000130ed0feca0000000201080001000000")),
            None,
            "other src-ref"
        );
    }
}
