//! `mysql`: server-first (empty probe). MySQL/MariaDB greet with a handshake packet: 3-byte length, sequence
//! id 0, protocol version 10.
//!
//! Rule: length ≥ 49, byte[3] == 0x00 and byte[4] == 0x0a → `mysql`.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Mysql;

impl FixedProbe for Mysql {
    const NAME: &'static str = "mysql";
    const PROBE: &'static [u8] = b"";

    fn rule(data: &[u8]) -> Option<&'static str> {
        (data.len() >= 49 && data[3] == 0x00 && data[4] == 0x0a).then_some("mysql")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A MySQL 8.0 greeting (protocol 10, server version, thread id, salt, capabilities, auth plugin).
    pub fn mysql8_greeting() -> Vec<u8> {
        let mut body = vec![0x0a];
        body.extend_from_slice(b"8.0.36\0");
        body.extend_from_slice(&[0x0b, 0, 0, 0]); // connection id
        body.extend_from_slice(b"\x13\x2a\x5f\x3c\x48\x21\x60\x01\0"); // salt part 1 + filler
        body.extend_from_slice(&[0xff, 0xff, 0xff, 0x02, 0x00, 0xff, 0xdf, 0x15]);
        body.extend_from_slice(&[0; 10]);
        body.extend_from_slice(b"\x4c\x18\x2f\x74\x06\x53\x33\x41\x63\x1d\x3c\x51\0");
        body.extend_from_slice(b"caching_sha2_password\0");
        let len = body.len() as u32;
        let mut packet = len.to_le_bytes()[..3].to_vec();
        packet.push(0); // sequence id
        packet.extend_from_slice(&body);
        packet
    }

    #[test]
    fn rule_edges() {
        let greeting = mysql8_greeting();
        assert!(greeting.len() >= 49);
        assert_eq!(Mysql::rule(&greeting), Some("mysql"));
        let mut exact = vec![0u8; 49];
        exact[4] = 0x0a;
        assert_eq!(Mysql::rule(&exact), Some("mysql"), "exactly 49 bytes");
        assert_eq!(Mysql::rule(&exact[..48]), None, "48 bytes are too short");
        let mut seq1 = exact.clone();
        seq1[3] = 1;
        assert_eq!(Mysql::rule(&seq1), None, "sequence id must be 0");
        let mut v9 = exact.clone();
        v9[4] = 0x09;
        assert_eq!(Mysql::rule(&v9), None, "protocol 10 only");
        // "Host is not allowed to connect" error packet: byte[4] is 0xff.
        let mut refused = vec![0x45, 0, 0, 0, 0xff, 0x6a, 0x04];
        refused
            .extend_from_slice(b"Host '198.18.0.1' is not allowed to connect to this MySQL server");
        assert_eq!(Mysql::rule(&refused), None);
    }
}
