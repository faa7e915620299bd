//! `modbus`: sends Read Device Identification (MBAP transaction 0x5a47, protocol 0, length 5, unit 0; function
//! 0x2b, MEI 0x0e, code 01, object 00; 11 bytes).
//!
//! Rule: length ≥ 4 and the answer starts with `5a 47 00 00` (our transaction and protocol id echoed) → `modbus`.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Modbus;

impl FixedProbe for Modbus {
    const NAME: &'static str = "modbus";
    const PROBE: &'static [u8] = &[
        0x5a, 0x47, 0x00, 0x00, 0x00, 0x05, 0x00, 0x2b, 0x0e, 0x01, 0x00,
    ];

    fn rule(data: &[u8]) -> Option<&'static str> {
        data.starts_with(&[0x5a, 0x47, 0x00, 0x00])
            .then_some("modbus")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        assert_eq!(Modbus::PROBE, hex("5a47 0000 0005 00 2b 0e 01 00"));
        assert_eq!(
            Modbus::rule(&hex("5a47 0000 0003 00 ab 01")),
            Some("modbus"),
            "exception: illegal function"
        );
        assert_eq!(
            Modbus::rule(&hex("5a470000")),
            Some("modbus"),
            "exactly 4 bytes"
        );
        assert_eq!(Modbus::rule(&hex("5a4700")), None);
        assert_eq!(Modbus::rule(&hex("5a470001")), None);
    }
}
