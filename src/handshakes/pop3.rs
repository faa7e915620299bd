//! `pop3`: server-first (empty probe).
//!
//! Rule (*ascii*): starts with `* OK`, `* BYE` or `* PREAUTH` → no match (IMAP banners that advertise POP3);
//! starts with `+OK` or `-ERR` → `pop3`; else *lower* contains `pop3`, or the answer contains `+OK` → `pop3`.

use super::imap::{IMAP_PREFIXES, POP3_PREFIXES};
use super::text::{
    needle::{LOWER_POP3, PLUS_OK},
    starts_with_any, Haystack,
};
use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Pop3;

impl FixedProbe for Pop3 {
    const NAME: &'static str = "pop3";
    const PROBE: &'static [u8] = b"";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    let data = h.bytes();
    if !h.is_ascii_text() || starts_with_any(data, &IMAP_PREFIXES) {
        return None;
    }
    let pop3 = starts_with_any(data, &POP3_PREFIXES) || h.has(LOWER_POP3) || h.has(PLUS_OK);
    pop3.then_some("pop3")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_edges() {
        assert_eq!(Pop3::rule(b"+OK Dovecot ready.\r\n"), Some("pop3"));
        assert_eq!(Pop3::rule(b"-ERR [SYS/TEMP] busy\r\n"), Some("pop3"));
        assert_eq!(
            Pop3::rule(b"* OK IMAP4 and POP3 ready\r\n"),
            None,
            "IMAP prefix wins over the keyword"
        );
        assert_eq!(Pop3::rule(b"* BYE\r\n"), None);
        assert_eq!(Pop3::rule(b"* PREAUTH pop3"), None);
        assert_eq!(Pop3::rule(b"Welcome +OK"), Some("pop3"));
        assert_eq!(Pop3::rule(b"Qpopper POP3 server"), Some("pop3"));
        assert_eq!(Pop3::rule(b"+ok"), None, "`+OK` is case-sensitive");
        assert_eq!(Pop3::rule(b"+OK \x80"), None, "ascii guard");
        assert_eq!(Pop3::rule(b""), None);
    }
}
