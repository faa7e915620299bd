//! Byte-search helpers shared by the fingerprint rules, faithful to the Go original's string functions.
//!
//! - [`contains`]: Go's `strings.Contains` on raw bytes (case-sensitive, byte-wise).
//! - [`contains_lower`]: `strings.Contains(ToLower(data), needle)` where `ToLower` is the original's own helper.
//!   That helper walks the string rune by rune and writes `byte(rune)` (A-Z lowered) at the rune's first byte
//!   index, leaving the rune's other bytes zero. For ASCII input that is plain ASCII lower-casing. For non-ASCII
//!   input it differs in exactly one way that a search can see: a multi-byte rune whose code point's low byte
//!   equals the needle's last letter completes a match (`"telne" + U+0174` reads as `"telnet\0"`). We reproduce
//!   that without allocating: a case-insensitive ASCII search plus that one extra case.
//! - [`is_ascii_text`]: the original's guard "non-empty and no byte ≥ 0x80".

/// Case-sensitive byte substring test.
#[inline]
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    // Answers are short (about 1 KB) and needles are a few bytes: scanning for the first byte with memchr and
    // comparing the rest beats building a general searcher on every call.
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while from + needle.len() <= hay.len() {
        let Some(offset) = memchr::memchr(first, &hay[from..hay.len() - rest.len()]) else {
            return false;
        };
        let start = from + offset;
        if hay[start + 1..].starts_with(rest) {
            return true;
        }
        from = start + 1;
    }
    false
}

/// True when `data` is non-empty and every byte is ASCII (the original's `data == "" || !isASCII(data)` guard).
#[inline]
pub fn is_ascii_text(data: &[u8]) -> bool {
    !data.is_empty() && data.is_ascii()
}

/// True when `data` starts with any of `prefixes`.
#[inline]
pub fn starts_with_any(data: &[u8], prefixes: &[&[u8]]) -> bool {
    prefixes.iter().any(|p| data.starts_with(p))
}

/// `strings.Contains(ToLower(hay), needle)` with the original's rune-wise `ToLower`. `needle` must be
/// non-empty lower-case ASCII.
pub fn contains_lower(hay: &[u8], needle: &[u8]) -> bool {
    debug_assert!(
        !needle.is_empty()
            && needle
                .iter()
                .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    );
    let Some((&last, head)) = needle.split_last() else {
        return true;
    };
    if hay.len() < needle.len() {
        // Go's lowered string has the same length as the input, so a shorter input cannot contain the needle.
        return false;
    }
    let first = needle[0];
    let mut from = 0;
    while from + needle.len() <= hay.len() {
        let found = if first.is_ascii_lowercase() {
            memchr::memchr2(first, first.to_ascii_uppercase(), &hay[from..])
        } else {
            memchr::memchr(first, &hay[from..])
        };
        let Some(offset) = found else {
            return false;
        };
        let start = from + offset;
        if start + needle.len() > hay.len() {
            return false;
        }
        let window = &hay[start..start + needle.len()];
        if window.eq_ignore_ascii_case(needle) {
            return true;
        }
        // The rune-wise quirk: every byte but the last matched, and the last is the lead byte of a valid
        // multi-byte rune whose code point truncates to the needle's last byte.
        if window[..head.len()].eq_ignore_ascii_case(head)
            && rune_low_byte_at(hay, start + head.len()) == Some(last)
        {
            return true;
        }
        from = start + 1;
    }
    false
}

/// The low byte of the valid multi-byte UTF-8 rune starting at `at`, if one starts there.
fn rune_low_byte_at(hay: &[u8], at: usize) -> Option<u8> {
    let lead = *hay.get(at)?;
    let width = match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let bytes = hay.get(at..at + width)?;
    let ch = std::str::from_utf8(bytes).ok()?.chars().next()?;
    Some((u32::from(ch) & 0xff) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original's helper, transcribed to bytes, as an oracle for the allocation-free version.
    fn go_to_lower(s: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; s.len()];
        let mut i = 0;
        while i < s.len() {
            let (rune, width) = decode_go(&s[i..]);
            let lowered = if rune.is_ascii_uppercase() {
                (rune as u32 + 32) as u8
            } else {
                rune as u32 as u8
            };
            out[i] = lowered;
            i += width;
        }
        out
    }

    fn decode_go(s: &[u8]) -> (char, usize) {
        for width in 1..=4.min(s.len()) {
            if let Ok(text) = std::str::from_utf8(&s[..width]) {
                if let Some(c) = text.chars().next() {
                    return (c, width);
                }
            }
        }
        ('\u{fffd}', 1)
    }

    #[test]
    fn contains_lower_is_ascii_case_insensitive() {
        assert!(contains_lower(b"220 Welcome FTP", b"ftp"));
        assert!(contains_lower(b"ESMTP", b"smtp"));
        assert!(!contains_lower(b"FT P", b"ftp"));
        assert!(!contains_lower(b"ft", b"ftp"));
        assert!(contains_lower(b"xxTeLnEt", b"telnet"));
    }

    #[test]
    fn contains_lower_reproduces_the_rune_quirk() {
        // U+0174 is C5 B4; its low byte 0x74 is 't'.
        let quirky = b"telne\xc5\xb4";
        assert!(contains_lower(quirky, b"telnet"));
        assert!(contains(&go_to_lower(quirky), b"telnet"));
        // An invalid byte decodes to U+FFFD (low byte 0xfd): no match.
        assert!(!contains_lower(b"telne\xb4", b"telnet"));
    }

    #[test]
    fn contains_lower_agrees_with_the_go_helper_on_random_input() {
        let needles: [&[u8]; 6] = [b"ftp", b"smtp", b"ehlo", b"telnet", b"ssh", b"pop3"];
        let alphabet: &[u8] = b"ftpsmhelonTFPSMHELON3 \xc5\xb4\xb0\xe1\x85\xb4\xff";
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 60) as usize + 1;
            let mut hay = Vec::with_capacity(len);
            let mut s = state;
            for _ in 0..len {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                hay.push(alphabet[(s >> 33) as usize % alphabet.len()]);
            }
            for needle in needles {
                assert_eq!(
                    contains_lower(&hay, needle),
                    contains(&go_to_lower(&hay), needle),
                    "hay {hay:02x?} needle {:?}",
                    std::str::from_utf8(needle)
                );
            }
        }
    }

    #[test]
    fn ascii_guard() {
        assert!(!is_ascii_text(b""));
        assert!(is_ascii_text(b"220 ok"));
        assert!(!is_ascii_text(b"220 \x80"));
    }
}
