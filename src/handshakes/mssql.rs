//! `mssql`: a TDS PRELOGIN (47 bytes). The ENCRYPTION option's offset reads 0x0002, apparently a typo for
//! 0x0020 where its value sits; it is kept exactly as the original sends it.
//!
//! Rule: length ≥ 6, byte[0] == 0x04 (tabular result) and byte[1] == 0x01 (end of message) → `mssql`.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Mssql;

impl FixedProbe for Mssql {
    const NAME: &'static str = "mssql";
    const PROBE: &'static [u8] = &[
        0x12, 0x01, 0x00, 0x2f, 0x00, 0x00, 0x02,
        0x00, // TDS header: PRELOGIN, EOM, length 47, packet 2
        0x00, 0x00, 0x1a, 0x00, 0x06, // VERSION at 0x1a, 6 bytes
        0x01, 0x00, 0x02, 0x00, 0x01, // ENCRYPTION at 0x02 (sic), 1 byte
        0x02, 0x00, 0x21, 0x00, 0x01, // INSTOPT at 0x21, 1 byte
        0x03, 0x00, 0x22, 0x00, 0x04, // THREADID at 0x22, 4 bytes
        0x04, 0x00, 0x26, 0x00, 0x01, // MARS at 0x26, 1 byte
        0xff, // terminator
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // version
        0x01, // encryption: on
        0x00, // instance
        0x00, 0x00, 0x00, 0x00, // thread id
        0x00, // MARS
    ];

    fn rule(data: &[u8]) -> Option<&'static str> {
        (data.len() >= 6 && data[0] == 0x04 && data[1] == 0x01).then_some("mssql")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        let expected = hex(
            "1201002f00000200 00001a0006 0100020001 0200210001 0300220004 0400260001 ff 000000000000 01 00 00000000 00",
        );
        assert_eq!(Mssql::PROBE, expected);
        assert_eq!(Mssql::PROBE.len(), 47);
        assert_eq!(
            Mssql::rule(&hex("0401002500000100 000015000601")),
            Some("mssql")
        );
        assert_eq!(
            Mssql::rule(&hex("040100250000")),
            Some("mssql"),
            "exactly 6 bytes"
        );
        assert_eq!(Mssql::rule(&hex("0401002500")), None, "5 bytes");
        assert_eq!(Mssql::rule(&hex("040000250000")), None);
    }
}
