//! `oracle`: a TNS CONNECT (109 bytes): version 312, compatible 300, SDU 8192, TDU 65535, connect data
//! `(DESCRIPTION=(CONNECT_DATA=(CID=(PROGRAM=lzrORA))))` (51 bytes at offset 58). A listener answers with a
//! REFUSE carrying `(DESCRIPTION=(TMP=)(VSNNUM=...)(ERR=...)(ERROR_STACK=(ERROR=(CODE=...)(EMFI=4))))`.
//!
//! Rule: contains `DESCRIPTION=(` and `(EMFI=4)` → `oracle`.

use super::text::{
    needle::{DESCRIPTION, EMFI_4},
    Haystack,
};
use super::FixedProbe;

const PROBE: [u8; 109] = {
    const HEAD: [u8; 34] = [
        0x00, 0x6d, 0x00, 0x00, // packet length 109, checksum
        0x01, 0x00, 0x00, 0x00, // type CONNECT, flags, header checksum
        0x01, 0x38, 0x01, 0x2c, // version 312, compatible 300
        0x0c, 0x41, 0x20, 0x00, // service options, SDU 8192
        0xff, 0xff, 0x7f, 0x08, // TDU 65535, protocol characteristics
        0x00, 0x00, 0x01, 0x00, // line turnaround, value of 1
        0x00, 0x33, 0x00, 0x3a, // connect data length 51, offset 58
        0x00, 0x00, 0x08, 0x00, // max receivable connect data
        0x41, 0x41, // connect flags
    ];
    const DATA: &[u8; 51] = b"(DESCRIPTION=(CONNECT_DATA=(CID=(PROGRAM=lzrORA))))";
    let mut p = [0u8; 109];
    let mut i = 0;
    while i < HEAD.len() {
        p[i] = HEAD[i];
        i += 1;
    }
    // 24 zero bytes follow the header; the connect data starts at 58.
    let mut j = 0;
    while j < DATA.len() {
        p[58 + j] = DATA[j];
        j += 1;
    }
    p
};

#[derive(Debug, Default)]
pub struct Oracle;

impl FixedProbe for Oracle {
    const NAME: &'static str = "oracle";
    const PROBE: &'static [u8] = &PROBE;

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    (h.has(DESCRIPTION) && h.has(EMFI_4)).then_some("oracle")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        let mut expected = hex(
            "006d0000 01 00 0000 0138 012c 0c41 2000 ffff 7f08 0000 0100 0033 003a 00000800 4141",
        );
        expected.extend_from_slice(&[0; 24]);
        expected.extend_from_slice(b"(DESCRIPTION=(CONNECT_DATA=(CID=(PROGRAM=lzrORA))))");
        assert_eq!(Oracle::PROBE, expected);
        assert_eq!(Oracle::PROBE.len(), 109);
        let refuse = b"\x00\x59\x00\x00\x04\x00\x00\x00\x22\x00\x00\x4d(DESCRIPTION=(TMP=)(VSNNUM=318767104)(ERR=12504)(ERROR_STACK=(ERROR=(CODE=12504)(EMFI=4))))";
        assert_eq!(Oracle::rule(refuse), Some("oracle"));
        assert_eq!(
            Oracle::rule(
                b"(DESCRIPTION=(ERR=1153)(VSNNUM=0)(ERROR_STACK=(ERROR=(CODE=1153)(EMFI=1))))"
            ),
            None
        );
    }
}
