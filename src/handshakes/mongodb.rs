//! `mongodb`: an OP_QUERY `{isMaster: 1}` on `admin.$cmd` (58 bytes, little-endian; reference §6.3).
//!
//! Rule: contains `maxBsonObjectSize` or `MongoDB` → `mongodb`.

use super::text::{
    needle::{MAX_BSON_OBJECT_SIZE, MONGODB},
    Haystack,
};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Mongodb;

const PROBE: &[u8; 58] = b"\x3a\x00\x00\x00\
\x00\x00\x00\x00\
\x00\x00\x00\x00\
\xd4\x07\x00\x00\
\x00\x00\x00\x00\
admin.$cmd\x00\
\x00\x00\x00\x00\
\x01\x00\x00\x00\
\x13\x00\x00\x00\x10isMaster\x00\x01\x00\x00\x00\x00";

impl FixedProbe for Mongodb {
    const NAME: &'static str = "mongodb";
    const PROBE: &'static [u8] = PROBE;

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    (h.has(MAX_BSON_OBJECT_SIZE) || h.has(MONGODB)).then_some("mongodb")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, hex, probe};

    #[test]
    fn probe_bytes_match_the_reference() {
        let mut expected = hex("3a000000 00000000 00000000 d4070000 00000000");
        expected.extend_from_slice(b"admin.$cmd\0");
        expected.extend_from_slice(&hex("00000000 01000000 13000000 10"));
        expected.extend_from_slice(b"isMaster\0");
        expected.extend_from_slice(&hex("01000000 00"));
        let bytes = probe(&Mongodb, &ctx_v4(1, 2, 3, 4));
        assert_eq!(bytes, expected);
        assert_eq!(bytes.len(), 58);
        assert_eq!(
            u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            58
        );
    }

    #[test]
    fn rule_edges() {
        assert_eq!(
            Mongodb::rule(b"\x10ismaster\x00\x01\x10maxBsonObjectSize\x00\x00\x00\x00\x01"),
            Some("mongodb")
        );
        assert_eq!(Mongodb::rule(b"It looks like you are trying to access MongoDB over HTTP on the native driver port."), Some("mongodb"));
        assert_eq!(Mongodb::rule(b"maxbsonobjectsize"), None);
    }
}
