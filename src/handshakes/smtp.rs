//! `smtp`: sends `EHLO\r\n` (6 bytes, no domain).
//!
//! Rule (no ascii guard): *lower* contains `smtp` or `ehlo` → `smtp`. Else, if the answer is at least 4 bytes,
//! starts with `220`, `421`, `530`, `550` or `230`, and *lower* lacks `ftp` → `smtp`.

use super::ftp::GREETING_CODES;
use super::text::{
    needle::{LOWER_EHLO, LOWER_FTP, LOWER_SMTP},
    starts_with_any, Haystack,
};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Smtp;

impl FixedProbe for Smtp {
    const NAME: &'static str = "smtp";
    const PROBE: &'static [u8] = b"EHLO\r\n";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    if h.has(LOWER_SMTP) || h.has(LOWER_EHLO) {
        return Some("smtp");
    }
    let data = h.bytes();
    let smtp = data.len() >= 4 && starts_with_any(data, &GREETING_CODES) && !h.has(LOWER_FTP);
    smtp.then_some("smtp")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, probe};

    #[test]
    fn probe_bytes() {
        assert_eq!(probe(&Smtp, &ctx_v4(1, 2, 3, 4)), b"EHLO\r\n");
    }

    #[test]
    fn rule_edges() {
        assert_eq!(
            Smtp::rule(b"220 mx.example.com ESMTP Postfix (Debian/GNU)\r\n"),
            Some("smtp")
        );
        assert_eq!(
            Smtp::rule(b"220 mx.example.com ESMTP Exim 4.97 \xc2\xa9\r\n"),
            Some("smtp"),
            "no ascii guard"
        );
        assert_eq!(Smtp::rule(b"501 Syntax: EHLO hostname\r\n"), Some("smtp"));
        assert_eq!(Smtp::rule(b"220 "), Some("smtp"), "bare banner, 4 bytes");
        assert_eq!(Smtp::rule(b"220"), None);
        assert_eq!(Smtp::rule(b"220 (vsFTPd 3.0.3)\r\n"), None, "ftp excluded");
        assert_eq!(Smtp::rule(b"554 no\r\n"), None);
    }
}
