//! `ftp`: server-first (empty probe).
//!
//! Rule (*ascii*: non-empty, no byte ≥ 0x80): *lower* contains `ftp` → `ftp`. Else, if the answer is at least
//! 4 bytes and starts with `220`, `421`, `530`, `550` or `230`, and *lower* contains neither `smtp` nor `ehlo`
//! → `ftp` (SMTP uses the same reply codes; a bare `220 host` banner matches both, see the matcher's `smtp-ftp`).

use super::text::{
    needle::{LOWER_EHLO, LOWER_FTP, LOWER_SMTP},
    starts_with_any, Haystack,
};
use super::FixedProbe;

/// Reply codes a greeting (or a refusal) of FTP starts with; SMTP shares them.
pub(crate) const GREETING_CODES: [&[u8]; 5] = [b"220", b"421", b"530", b"550", b"230"];

#[derive(Debug, Default)]
pub struct Ftp;

impl FixedProbe for Ftp {
    const NAME: &'static str = "ftp";
    const PROBE: &'static [u8] = b"";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    if !h.is_ascii_text() {
        return None;
    }
    if h.has(LOWER_FTP) {
        return Some("ftp");
    }
    let data = h.bytes();
    let ftp = data.len() >= 4
        && starts_with_any(data, &GREETING_CODES)
        && !h.has(LOWER_SMTP)
        && !h.has(LOWER_EHLO);
    ftp.then_some("ftp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_edges() {
        assert_eq!(Ftp::rule(b"220 (vsFTPd 3.0.3)\r\n"), Some("ftp"));
        assert_eq!(
            Ftp::rule(b"220 ProFTPD Server (Debian) [::ffff:198.18.0.2]\r\n"),
            Some("ftp")
        );
        assert_eq!(
            Ftp::rule(b"220 "),
            Some("ftp"),
            "bare banner, exactly 4 bytes"
        );
        assert_eq!(
            Ftp::rule(b"220"),
            None,
            "3 bytes are too short for the code test"
        );
        assert_eq!(
            Ftp::rule(b"ftp"),
            Some("ftp"),
            "the keyword needs no length"
        );
        assert_eq!(Ftp::rule(b"421 Too many connections\r\n"), Some("ftp"));
        assert_eq!(Ftp::rule(b"530 Login incorrect\r\n"), Some("ftp"));
        assert_eq!(Ftp::rule(b"550 x\r\n"), Some("ftp"));
        assert_eq!(Ftp::rule(b"230 x\r\n"), Some("ftp"));
        assert_eq!(Ftp::rule(b"250 x\r\n"), None);
        assert_eq!(
            Ftp::rule(b"220 mail.example.com ESMTP Postfix\r\n"),
            None,
            "smtp excluded"
        );
        assert_eq!(
            Ftp::rule(b"220 mail.example.com EHLO\r\n"),
            None,
            "ehlo excluded"
        );
        assert_eq!(
            Ftp::rule(b"220 FTP \xe2\x9c\x93\r\n"),
            None,
            "ascii guard beats the keyword"
        );
        assert_eq!(Ftp::rule(b""), None);
        assert_eq!(Ftp::rule(b"SFTP"), Some("ftp"), "lower-cased");
    }
}
