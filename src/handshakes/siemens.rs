//! `siemens` (S7comm over ISO-TSAP): sends TPKT + COTP Connection Request (calling TSAP 0x0100, called TSAP
//! 0x0200, TPDU size 1024; 22 bytes).
//!
//! Rule: length ≥ 6, byte[5] == 0xd0 (COTP Connection Confirm) and byte[4] + 1 == length − 4 (the COTP length
//! indicator covers the rest of the answer) → `siemens`.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Siemens;

impl FixedProbe for Siemens {
    const NAME: &'static str = "siemens";
    const PROBE: &'static [u8] = &[
        0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00, 0x00, 0x04, 0x00, 0xc1, 0x02, 0x01, 0x00,
        0xc2, 0x02, 0x02, 0x00, 0xc0, 0x01, 0x0a,
    ];

    fn rule(data: &[u8]) -> Option<&'static str> {
        if data.len() < 6 || data[5] != 0xd0 {
            return None;
        }
        // In usize: a length indicator of 0xff must not wrap.
        (usize::from(data[4]) + 1 == data.len() - 4).then_some("siemens")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        assert_eq!(
            Siemens::PROBE,
            hex("0300001611e00000000400c1020100c2020200c0010a")
        );
        assert_eq!(usize::from(Siemens::PROBE[3]), Siemens::PROBE.len());
        // S7-300 Connection Confirm: TPKT length 22, COTP LI 17.
        let cc = hex("0300001611d00004000100c0010ac1020100c2020200");
        assert_eq!(cc.len(), 22);
        assert_eq!(Siemens::rule(&cc), Some("siemens"));
        assert_eq!(
            Siemens::rule(&cc[..21]),
            None,
            "length indicator no longer matches"
        );
        let mut extra = cc.clone();
        extra.push(0);
        assert_eq!(Siemens::rule(&extra), None);
        assert_eq!(
            Siemens::rule(&hex("0300000601d0")),
            Some("siemens"),
            "6 bytes, LI 1: 1 + 1 == 6 - 4"
        );
        assert_eq!(
            Siemens::rule(&hex("0300000701d000")),
            None,
            "7 bytes, LI 1: 2 != 3"
        );
        assert_eq!(Siemens::rule(&hex("0300000501")), None, "shorter than 6");
        assert_eq!(
            Siemens::rule(&hex("0300000601e0")),
            None,
            "not a Connection Confirm"
        );
        let mut long = vec![0u8; 260];
        long[4] = 0xff;
        long[5] = 0xd0;
        assert_eq!(
            Siemens::rule(&long),
            Some("siemens"),
            "LI 255 + 1 == 256 without wrapping"
        );
        long[4] = 0xfe;
        assert_eq!(Siemens::rule(&long), None);
    }
}
