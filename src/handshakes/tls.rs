//! `tls`: a TLS 1.2 ClientHello of 122 bytes (reference §6.3), shared with `kubernetes`.
//!
//! The original fills the 32-byte `random` from Go's `math/rand`. Here it comes from [`ProbeContext::seed`]
//! through SipHash-1-3 under a fixed key: every connection (the flow engine picks a fresh keyed-PRF seed per
//! connection) gets a fresh random, a retransmission rebuilds identical bytes, and the seed itself is not exposed
//! on the wire in case the flow engine derives other values from it.
//!
//! Rule: length ≥ 3; contains `HTTPS` → `tls`; else a TLS record type (handshake 0x16, change_cipher_spec 0x14,
//! alert 0x15, application_data 0x17) followed by version 03 01..03 04 → `tls`, or by 03 00 → `ssl`.

use std::hash::Hasher as _;

use siphasher::sip::SipHasher13;

use super::text::{needle::HTTPS, Haystack};
use super::{Handshake, ProbeContext};

/// Length of the ClientHello record.
pub const CLIENT_HELLO_LEN: usize = 122;

/// Offset of the 32 random bytes in the record.
pub const RANDOM_OFFSET: usize = 11;

/// Record header (handshake, TLS 1.0 record version, length 0x75), handshake header (ClientHello, 0x71),
/// client_version TLS 1.2.
const BEFORE_RANDOM: [u8; RANDOM_OFFSET] = [
    0x16, 0x03, 0x01, 0x00, 0x75, 0x01, 0x00, 0x00, 0x71, 0x03, 0x03,
];

/// Session id (empty), 13 cipher suites, null compression, and the five extensions of the reference.
const AFTER_RANDOM: [u8; 79] = [
    0x00, // session id length
    0x00, 0x1a, // cipher suites length
    0xc0, 0x2f, 0xc0, 0x2b, 0xc0, 0x11, 0xc0, 0x07, 0xc0, 0x13, 0xc0, 0x09, 0xc0, 0x14, 0xc0, 0x0a,
    0x00, 0x05, 0x00, 0x2f, 0x00, 0x35, 0xc0, 0x12, 0x00, 0x0a, //
    0x01, 0x00, // compression methods: null
    0x00, 0x2e, // extensions length
    0x00, 0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, // status_request
    0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x17, 0x00, 0x18, 0x00,
    0x19, // supported_groups
    0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, // ec_point_formats
    0x00, 0x0d, 0x00, 0x0a, 0x00, 0x08, 0x04, 0x01, 0x04, 0x03, 0x02, 0x01, 0x02,
    0x03, // signature_algorithms
    0xff, 0x01, 0x00, 0x01, 0x00, // renegotiation_info
];

/// Fixed SipHash key for the random expansion (any constant works; the secrecy is in the seed).
const RANDOM_KEY: (u64, u64) = (0x6c7a_725f_746c_735f, 0x636c_6965_6e74_6865);

/// The ClientHello random for a seed.
pub fn client_random(seed: u64) -> [u8; 32] {
    let mut random = [0u8; 32];
    for (i, chunk) in random.chunks_exact_mut(8).enumerate() {
        let mut hasher = SipHasher13::new_with_keys(RANDOM_KEY.0, RANDOM_KEY.1);
        hasher.write(&seed.to_le_bytes());
        hasher.write(&[i as u8]);
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    random
}

/// Append the ClientHello for `seed` (used by `tls` and `kubernetes`).
pub fn write_client_hello(seed: u64, out: &mut Vec<u8>) {
    out.reserve(CLIENT_HELLO_LEN);
    out.extend_from_slice(&BEFORE_RANDOM);
    out.extend_from_slice(&client_random(seed));
    out.extend_from_slice(&AFTER_RANDOM);
}

pub fn rule(data: &[u8]) -> Option<&'static str> {
    check(data)
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    let [record_type, major, minor, ..] = *h.bytes() else {
        return None;
    };
    if h.has(HTTPS) {
        return Some("tls");
    }
    if !matches!(record_type, 0x14..=0x17) {
        return None;
    }
    match (major, minor) {
        (0x03, 0x01..=0x04) => Some("tls"),
        (0x03, 0x00) => Some("ssl"),
        _ => None,
    }
}

#[derive(Debug, Default)]
pub struct Tls;

impl Handshake for Tls {
    fn name(&self) -> &'static str {
        "tls"
    }

    fn write_probe(&self, ctx: &ProbeContext, out: &mut Vec<u8>) {
        write_client_hello(ctx.seed, out);
    }

    fn probe_len(&self, _ctx: &ProbeContext) -> usize {
        CLIENT_HELLO_LEN
    }

    fn fingerprint(&self, data: &[u8]) -> Option<&'static str> {
        rule(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, hex, probe};

    const REFERENCE_ZEROED: &str = concat!(
        "1603010075010000710303",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "00001ac02fc02bc011c007c013c009c014c00a0005002f0035c012000a0100002e000500050100000000000a00080006001700180019000b00020100000d000a00080401040302010203ff01000100"
    );

    #[test]
    fn client_hello_matches_the_reference_with_random_zeroed() {
        let mut ctx = ctx_v4(192, 0, 2, 1);
        ctx.seed = 0xdead_beef;
        let mut bytes = probe(&Tls, &ctx);
        assert_eq!(bytes.len(), CLIENT_HELLO_LEN);
        assert_eq!(
            &bytes[RANDOM_OFFSET..RANDOM_OFFSET + 32],
            &client_random(ctx.seed)
        );
        bytes[RANDOM_OFFSET..RANDOM_OFFSET + 32].fill(0);
        assert_eq!(bytes, hex(REFERENCE_ZEROED));
        // The lengths inside the record agree with the bytes.
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[3], bytes[4]])),
            CLIENT_HELLO_LEN - 5
        );
        assert_eq!(usize::from(bytes[8]), CLIENT_HELLO_LEN - 9);
    }

    #[test]
    fn random_is_deterministic_per_seed_and_differs_across_seeds() {
        assert_eq!(client_random(1), client_random(1));
        assert_ne!(client_random(1), client_random(2));
        assert_ne!(client_random(0), [0u8; 32]);
        let r = client_random(3);
        assert_ne!(r[..8], r[8..16], "each 8-byte lane differs");
    }

    #[test]
    fn rule_edges() {
        assert_eq!(
            rule(&hex("160303005a020000")),
            Some("tls"),
            "ServerHello record"
        );
        assert_eq!(
            rule(&hex("150301000202 28")),
            Some("tls"),
            "alert, handshake_failure"
        );
        assert_eq!(rule(&hex("15030400")), Some("tls"));
        assert_eq!(
            rule(&hex("160300")),
            Some("ssl"),
            "SSL 3.0 record, exactly 3 bytes"
        );
        assert_eq!(rule(&hex("1603")), None, "shorter than 3");
        // `03 00` names ssl only after a record type, as `03 01`..`03 04` name tls (the original nests the
        // version test inside the record-type test; reference §6.2 reads the same way).
        assert_eq!(
            rule(&hex("4e0300")),
            None,
            "SSL 3.0 version without a record type"
        );
        assert_eq!(
            rule(&hex("170300")),
            Some("ssl"),
            "application data, SSL 3.0"
        );
        assert_eq!(rule(&hex("130303")), None, "not a record type");
        assert_eq!(rule(&hex("180303")), None);
        assert_eq!(rule(&hex("160305")), None, "unknown version");
        assert_eq!(rule(&hex("160200")), None);
        assert_eq!(
            rule(b"HTTP/1.1 400 Bad Request\r\n\r\nThe plain HTTP request was sent to HTTPS port"),
            Some("tls")
        );
        assert_eq!(rule(b"HTTPS"), Some("tls"));
    }
}
