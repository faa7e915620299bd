//! `ssh`: sends the identification string `SSH-2.0-Go\r\n` (12 bytes).
//!
//! Rule (*ascii*): *lower* contains `ssh` and *lower* contains neither `not implemented` nor `bad` → `ssh`.

use super::text::{
    needle::{LOWER_BAD, LOWER_NOT_IMPLEMENTED, LOWER_SSH},
    Haystack,
};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Ssh;

impl FixedProbe for Ssh {
    const NAME: &'static str = "ssh";
    const PROBE: &'static [u8] = b"SSH-2.0-Go\r\n";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    let ssh =
        h.is_ascii_text() && h.has(LOWER_SSH) && !h.has(LOWER_NOT_IMPLEMENTED) && !h.has(LOWER_BAD);
    ssh.then_some("ssh")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, probe};

    #[test]
    fn probe_bytes() {
        assert_eq!(probe(&Ssh, &ctx_v4(1, 2, 3, 4)), b"SSH-2.0-Go\r\n");
    }

    #[test]
    fn rule_edges() {
        assert_eq!(
            Ssh::rule(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n"),
            Some("ssh")
        );
        assert_eq!(Ssh::rule(b"SSH-2.0-dropbear_2022.83\r\n"), Some("ssh"));
        assert_eq!(Ssh::rule(b"ssh"), Some("ssh"));
        assert_eq!(Ssh::rule(b"HTTP/1.1 501 Not Implemented\r\n\r\nssh"), None);
        assert_eq!(
            Ssh::rule(b"HTTP/1.1 400 BAD REQUEST\r\n\r\nssh"),
            None,
            "`bad` is lower-cased too"
        );
        assert_eq!(Ssh::rule(b"SSH-2.0-\xc3\xa9"), None, "ascii guard");
    }
}
