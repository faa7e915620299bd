//! `imap`: server-first (empty probe).
//!
//! Rule (*ascii*): starts with `+OK` or `-ERR` → no match (POP3 banners that advertise IMAP elsewhere); starts
//! with `* OK`, `* BYE` or `* PREAUTH` → `imap`; else *lower* contains `imap`, or the answer contains `* OK`
//! → `imap`.

use super::text::{
    needle::{LOWER_IMAP, STAR_OK},
    starts_with_any, Haystack,
};
use super::FixedProbe;

pub(crate) const IMAP_PREFIXES: [&[u8]; 3] = [b"* OK", b"* BYE", b"* PREAUTH"];
pub(crate) const POP3_PREFIXES: [&[u8]; 2] = [b"+OK", b"-ERR"];

#[derive(Debug, Default)]
pub struct Imap;

impl FixedProbe for Imap {
    const NAME: &'static str = "imap";
    const PROBE: &'static [u8] = b"";

    fn rule(data: &[u8]) -> Option<&'static str> {
        check(data)
    }
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    let data = h.bytes();
    if !h.is_ascii_text() || starts_with_any(data, &POP3_PREFIXES) {
        return None;
    }
    let imap = starts_with_any(data, &IMAP_PREFIXES) || h.has(LOWER_IMAP) || h.has(STAR_OK);
    imap.then_some("imap")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_edges() {
        let dovecot = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n";
        assert_eq!(Imap::rule(dovecot), Some("imap"));
        assert_eq!(Imap::rule(b"* BYE Too many connections\r\n"), Some("imap"));
        assert_eq!(Imap::rule(b"* PREAUTH ready\r\n"), Some("imap"));
        assert_eq!(
            Imap::rule(b"+OK POP3 ready; IMAP on 143\r\n"),
            None,
            "POP3 prefix wins over the keyword"
        );
        assert_eq!(Imap::rule(b"-ERR imap\r\n"), None);
        assert_eq!(Imap::rule(b"hello * OK"), Some("imap"), "`* OK` anywhere");
        assert_eq!(
            Imap::rule(b"Microsoft Exchange IMAP4 service"),
            Some("imap")
        );
        assert_eq!(Imap::rule(b"*OK"), None);
        assert_eq!(Imap::rule(b"* OK \xff"), None, "ascii guard");
        assert_eq!(Imap::rule(b""), None);
    }
}
