//! `postgres`: sends an SSLRequest (`00 00 00 08 04 d2 16 2f`, code 80877103).
//!
//! Rule: the answer is exactly 1 byte, `N` (no TLS), `S` (TLS) or `E` → `postgres`.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Postgres;

impl FixedProbe for Postgres {
    const NAME: &'static str = "postgres";
    const PROBE: &'static [u8] = &[0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f];

    fn rule(data: &[u8]) -> Option<&'static str> {
        matches!(data, [b'N' | b'S' | b'E']).then_some("postgres")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_and_rule() {
        assert_eq!(
            u32::from_be_bytes([
                Postgres::PROBE[4],
                Postgres::PROBE[5],
                Postgres::PROBE[6],
                Postgres::PROBE[7]
            ]),
            80877103
        );
        assert_eq!(Postgres::rule(b"N"), Some("postgres"));
        assert_eq!(Postgres::rule(b"S"), Some("postgres"));
        assert_eq!(Postgres::rule(b"E"), Some("postgres"));
        assert_eq!(Postgres::rule(b"NN"), None, "exactly one byte");
        assert_eq!(Postgres::rule(b"n"), None);
        assert_eq!(Postgres::rule(b""), None);
        // A real error reply is longer than one byte.
        assert_eq!(Postgres::rule(b"EFATAL\0"), None);
    }
}
