//! `smb`: NetBIOS session length 0x27 then an SMB1 NEGOTIATE for `NT LM 0.12` (43 bytes). The SMB header is
//! 7 bytes short of the standard 32, so the probe is malformed; it is kept exactly as the original sends it.
//!
//! Rule: contains `SMB` → `smb` (SMB1 `\xffSMB` and SMB2 `\xfeSMB` answers both qualify).

use super::text::{needle::SMB, Haystack};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Smb;

impl FixedProbe for Smb {
    const NAME: &'static str = "smb";
    const PROBE: &'static [u8] = b"\x00\x00\x00\x27\xffSMB\x72\
\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
\x0e\x00\x02NT LM 0.12\x00";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    h.has(SMB).then_some("smb")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        let mut expected = hex("00000027 ff534d42 72");
        expected.extend_from_slice(&[0; 20]);
        expected.extend_from_slice(&hex("0e00 02"));
        expected.extend_from_slice(b"NT LM 0.12\0");
        assert_eq!(Smb::PROBE, expected);
        assert_eq!(Smb::PROBE.len(), 43);
        assert_eq!(usize::from(Smb::PROBE[3]), Smb::PROBE.len() - 4);
        assert_eq!(Smb::rule(&hex("000000f0 fe534d42 4000")), Some("smb"));
        assert_eq!(Smb::rule(b"smb"), None);
    }
}
