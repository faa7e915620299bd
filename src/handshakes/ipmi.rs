//! `ipmi`: RMCP (version 6, seq 0xff, class IPMI) + IPMI 1.5 session header (no auth) + Get Channel
//! Authentication Capabilities (channel 0x8e, privilege 4), 23 bytes, sent over TCP.
//!
//! Rule: the whole answer equals the 17 bytes `00 00 00 02 09 00 00 00 01 00 00 00 00 00 00 00 00`, or it is at
//! least 4 bytes and starts with the RMCP header `06 00 ff 07` → `ipmi`.

use super::FixedProbe;

const KNOWN_ANSWER: [u8; 17] = [
    0x00, 0x00, 0x00, 0x02, 0x09, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00,
];

#[derive(Debug, Default)]
pub struct Ipmi;

impl FixedProbe for Ipmi {
    const NAME: &'static str = "ipmi";
    const PROBE: &'static [u8] = &[
        0x06, 0x00, 0xff, 0x07, // RMCP
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, // auth none, sequence 0, session 0
        0x09, // message length
        0x20, 0x18, 0xc8, 0x81, 0x00, 0x38, 0x8e, 0x04,
        0xb5, // BMC, App request, Get Channel Auth Caps
    ];

    fn rule(data: &[u8]) -> Option<&'static str> {
        (data == KNOWN_ANSWER || data.starts_with(&[0x06, 0x00, 0xff, 0x07])).then_some("ipmi")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        assert_eq!(
            Ipmi::PROBE,
            hex("0600ff07 00 00000000 00000000 09 20 18 c8 81 00 38 8e 04 b5")
        );
        assert_eq!(Ipmi::PROBE.len(), 23);
        let known = hex("0000000209000000010000000000000000");
        assert_eq!(Ipmi::rule(&known), Some("ipmi"), "the 17 bytes exactly");
        assert_eq!(Ipmi::rule(&known[..16]), None, "16 bytes");
        let mut longer = known.clone();
        longer.push(0);
        assert_eq!(Ipmi::rule(&longer), None, "18 bytes");
        assert_eq!(Ipmi::rule(&hex("0600ff07")), Some("ipmi"));
        assert_eq!(Ipmi::rule(&hex("0600ff")), None);
    }
}
