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
//!
//! The rules ask for needles through [`Haystack`], so one rule body serves two ways of answering:
//! - a plain `[u8]` searches on every question (what a rule called alone, or a test, does);
//! - [`Scanned`] looks every known [`needle`] up in ONE pass made beforehand (what the matcher does, since it
//!   runs all rules over each answer): a SIMD multi-pattern search (Teddy, from the `aho-corasick` crate) over
//!   the answer for the case-sensitive needles, and one over an ASCII-lower-cased copy for the lower-cased
//!   ones, plus the rune quirk above for answers that are not ASCII. Tests check both give the same answers.

use std::sync::LazyLock;

use aho_corasick::packed::{Config, MatchKind, Searcher};
use aho_corasick::{AhoCorasick, Input, Span};

/// How a needle is compared with an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fold {
    /// Byte for byte ([`contains`]).
    Exact,
    /// After the original's rune-wise lower-casing ([`contains_lower`]); the needle is lower-case ASCII.
    GoLower,
}

/// A string some rule looks for. Every needle a rule uses is listed in [`needle::ALL`]; `id` is its position
/// there (a test checks it). Needles a rule only asks for after another test passed (`PONG` in a 7-byte
/// answer, `pid` once `STAT` is there, ...) are not `scanned`: [`Scanned`] searches them when asked, so the
/// one pass looks for fewer patterns and meets fewer false candidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needle {
    pub bytes: &'static [u8],
    pub fold: Fold,
    pub scanned: bool,
    id: u8,
}

/// The needles of the fingerprint rules, named after their text (`LOWER_` ones are searched lower-cased).
pub mod needle {
    use super::{Fold, Needle};

    macro_rules! needles {
        ($($name:ident = $fold:ident $scanned:ident $bytes:literal,)*) => {
            needles!(@each 0u8; $($name = $fold $scanned $bytes,)*);
            /// Every needle, in id order.
            pub const ALL: &[Needle] = &[$($name),*];
        };
        (@each $id:expr; $name:ident = $fold:ident $scanned:ident $bytes:literal, $($rest:tt)*) => {
            pub const $name: Needle = Needle {
                bytes: $bytes,
                fold: Fold::$fold,
                scanned: needles!(@scanned $scanned),
                id: $id,
            };
            needles!(@each $id + 1u8; $($rest)*);
        };
        (@scanned scan) => { true };
        (@scanned asked) => { false };
        (@each $id:expr;) => {};
    }

    // `asked`: searched only when a rule asks (see [`Needle`]).
    needles! {
        HTTPS = Exact scan b"HTTPS",
        HTTP = Exact scan b"HTTP",
        HTML_LOWER_CASE = Exact scan b"html",
        HTML_UPPER_CASE = Exact scan b"HTML",
        H1_TAG = Exact scan b"<h1>",
        AMQP = Exact scan b"AMQP",
        STACKOVERFLOW = Exact scan b"stackoverflow",
        IPP = Exact scan b"ipp",
        OK_200 = Exact asked b"200 OK",
        ATTRIBUTES_CHARSET = Exact asked b"attributes-charset",
        PRINT = Exact asked b"print",
        KUBERNETES = Exact scan b"kubernetes",
        STAT = Exact scan b"STAT",
        PID = Exact asked b"pid",
        ERROR_LINE = Exact scan b"ERROR\r\n",
        MAX_BSON_OBJECT_SIZE = Exact scan b"maxBsonObjectSize",
        MONGODB = Exact scan b"MongoDB",
        DESCRIPTION = Exact scan b"DESCRIPTION=(",
        EMFI_4 = Exact asked b"(EMFI=4)",
        PPTP_MAGIC = Exact scan b"+<M",
        PONG = Exact asked b"PONG",
        REDIS = Exact scan b"Redis",
        ERR_UNKNOWN = Exact scan b"-ERR unknown",
        RTSP = Exact scan b"RTSP",
        SMB = Exact scan b"SMB",
        RFB = Exact scan b"RFB",
        STAR_OK = Exact scan b"* OK",
        PLUS_OK = Exact scan b"+OK",
        LOWER_FTP = GoLower scan b"ftp",
        LOWER_SMTP = GoLower scan b"smtp",
        LOWER_EHLO = GoLower scan b"ehlo",
        LOWER_IMAP = GoLower scan b"imap",
        LOWER_POP3 = GoLower scan b"pop3",
        LOWER_SSH = GoLower scan b"ssh",
        LOWER_TELNET = GoLower scan b"telnet",
        LOWER_NOT_IMPLEMENTED = GoLower asked b"not implemented",
        LOWER_BAD = GoLower asked b"bad",
    }
}

/// What a fingerprint rule may ask of an answer.
pub trait Haystack {
    /// The answer's bytes (for prefix and length tests).
    fn bytes(&self) -> &[u8];
    /// Whether the needle occurs, as [`contains`] or [`contains_lower`] says according to its [`Fold`].
    fn has(&self, needle: Needle) -> bool;
    /// The original's ASCII guard ([`is_ascii_text`]).
    fn is_ascii_text(&self) -> bool {
        is_ascii_text(self.bytes())
    }
}

impl Haystack for [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn has(&self, needle: Needle) -> bool {
        match needle.fold {
            Fold::Exact => contains(self, needle.bytes),
            Fold::GoLower => contains_lower(self, needle.bytes),
        }
    }
}

/// An answer with every [`needle`] looked up once: rules then cost a bit test per needle.
#[derive(Clone, Copy, Debug)]
pub struct Scanned<'a> {
    data: &'a [u8],
    /// Needles the scan looked for (bit `id`); any other is searched when asked.
    known: u64,
    found: u64,
    ascii: bool,
}

impl<'a> Scanned<'a> {
    /// Scan `data` for every needle.
    pub fn new(data: &'a [u8]) -> Scanned<'a> {
        let scanner = &*SCANNER;
        let ascii = data.is_ascii();
        let (mut found, http_at) = scanner.exact.scan_from(data, 0, HTTP_GROUP, |_, _| 0);
        let exact_known = match http_at {
            None => scanner.exact.known,
            Some(start) => {
                let (rest, _) = scanner
                    .exact_after_http
                    .scan_from(data, start + 1, 0, |_, _| 0);
                found |= rest;
                // The group's needles found so far are known; the others were not searched past `start`.
                scanner.exact_after_http.known | (found & HTTP_GROUP)
            }
        };
        let lower = if ascii {
            &scanner.lower
        } else {
            &scanner.lower_quirk
        };
        found |= LOWERED.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => scanner.scan_lowered(lower, data, &mut buf),
            // Only if a scan ran inside a scan on this thread: a buffer of its own.
            Err(_) => scanner.scan_lowered(lower, data, &mut Vec::new()),
        });
        let known = exact_known | lower.known;
        Scanned {
            data,
            known,
            found,
            ascii,
        }
    }

    /// Ids of the needles found (bit `id` set), for tests.
    pub fn found_bits(&self) -> u64 {
        self.found
    }
}

impl Haystack for Scanned<'_> {
    fn bytes(&self) -> &[u8] {
        self.data
    }

    #[inline]
    fn has(&self, needle: Needle) -> bool {
        let bit = 1u64 << needle.id;
        if self.known & bit != 0 {
            self.found & bit != 0
        } else {
            self.data.has(needle)
        }
    }

    #[inline]
    fn is_ascii_text(&self) -> bool {
        !self.data.is_empty() && self.ascii
    }
}

/// One multi-pattern search: reports every pattern at every start position.
struct PatternSet {
    patterns: Vec<Vec<u8>>,
    /// Needle bits a match of pattern `i` proves: the needle itself and every needle within it (a leftmost-
    /// longest search reports one pattern per start position, the longest).
    implies: Vec<u64>,
    /// Bits of the needles this set decides.
    known: u64,
    teddy: Option<Searcher>,
    /// Used where Teddy is not available (no SIMD on the target) or the haystack is too short for it.
    automaton: AhoCorasick,
}

impl PatternSet {
    fn new(patterns: Vec<Vec<u8>>, ids: &[Option<u8>]) -> PatternSet {
        let implies = patterns
            .iter()
            .map(|p| {
                patterns
                    .iter()
                    .zip(ids)
                    .filter(|(q, _)| contains(p, q))
                    .fold(0u64, |bits, (_, id)| bits | id.map_or(0, |id| 1u64 << id))
            })
            .collect();
        let teddy = Config::new()
            .match_kind(MatchKind::LeftmostLongest)
            .builder()
            .extend(&patterns)
            .build();
        let automaton = AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&patterns)
            .expect("a few short patterns always build");
        let known = ids
            .iter()
            .flatten()
            .fold(0u64, |bits, id| bits | 1u64 << id);
        PatternSet {
            patterns,
            implies,
            known,
            teddy,
            automaton,
        }
    }

    /// Bits of the needles in `hay`; `extra(pattern, start)` adds bits for a match (the rune quirk).
    fn scan(&self, hay: &[u8], extra: impl FnMut(usize, usize) -> u64) -> u64 {
        self.scan_from(hay, 0, 0, extra).0
    }

    /// Bits of the needles in `hay[at..]`, stopping after the first match that proves a needle of `stop`; with
    /// the start of that match if it stopped.
    fn scan_from(
        &self,
        hay: &[u8],
        mut at: usize,
        stop: u64,
        mut extra: impl FnMut(usize, usize) -> u64,
    ) -> (u64, Option<usize>) {
        let mut found = 0u64;
        // Restart one byte after each match start: every start position is visited, so overlapping needles
        // (`HTTPONG`) are all seen.
        while at <= hay.len() {
            // Teddy itself falls back to Rabin-Karp on haystacks too short for its vectors.
            let hit = match &self.teddy {
                Some(teddy) => teddy
                    .find_in(hay, Span::from(at..hay.len()))
                    .map(|m| (m.pattern().as_usize(), m.start())),
                None => self
                    .automaton
                    .find(Input::new(hay).span(at..hay.len()))
                    .map(|m| (m.pattern().as_usize(), m.start())),
            };
            let Some((pattern, start)) = hit else { break };
            let proved = self.implies[pattern] | extra(pattern, start);
            found |= proved;
            if proved & stop != 0 {
                return (found, Some(start));
            }
            at = start + 1;
        }
        (found, None)
    }
}

/// The searches [`Scanned`] runs, built once.
struct Scanner {
    exact: PatternSet,
    /// The case-sensitive needles less [`HTTP_GROUP`]: an HTTP answer repeats `HTTP` and `html` many times,
    /// and every match costs a restart of the search, so once one of them is found the rest of the answer is
    /// searched without them (the others are then searched if asked, which the `http` rule no longer does).
    exact_after_http: PatternSet,
    /// Lower-cased needles, for ASCII answers.
    lower: PatternSet,
    /// Lower-cased needles of rules without the ASCII guard and their heads (all but the last byte), for
    /// answers that are not ASCII.
    lower_quirk: PatternSet,
    /// For each pattern of `lower_quirk` that is a head: its needle's id and last byte.
    quirk_heads: Vec<Option<(u8, u8)>>,
}

static SCANNER: LazyLock<Scanner> = LazyLock::new(Scanner::new);

thread_local! {
    /// The lower-cased copy of the answer being scanned (grows to the longest answer once per thread).
    static LOWERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Scanner {
    /// Bits of the lower-cased needles of `lower` in `data`, lower-casing it into `buf`.
    fn scan_lowered(&self, lower: &PatternSet, data: &[u8], buf: &mut Vec<u8>) -> u64 {
        buf.clear();
        buf.extend_from_slice(data);
        buf.make_ascii_lowercase();
        lower.scan(buf, |pattern, at| {
            // A quirk head (a lower-cased needle less its last byte) counts when a multi-byte rune whose low
            // byte is that last byte follows it in the answer.
            match self.quirk_heads.get(pattern).copied().flatten() {
                Some((id, last))
                    if rune_low_byte_at(data, at + lower.patterns[pattern].len()) == Some(last) =>
                {
                    1u64 << id
                }
                _ => 0,
            }
        })
    }

    fn new() -> Scanner {
        let scanned = |fold: Fold| {
            needle::ALL
                .iter()
                .filter(move |n| n.scanned && n.fold == fold)
        };
        let exact: Vec<_> = scanned(Fold::Exact)
            .map(|n| (n.bytes.to_vec(), Some(n.id)))
            .collect();
        let lower: Vec<_> = scanned(Fold::GoLower)
            .map(|n| (n.bytes.to_vec(), Some(n.id)))
            .collect();
        // In an answer that is not ASCII only the rules without the ASCII guard (smtp, telnet) ask for
        // lower-cased needles: scan those with their heads, and leave the others to be searched if asked.
        let unguarded: Vec<_> = scanned(Fold::GoLower)
            .filter(|n| !ASCII_GUARDED.contains(&n.bytes))
            .collect();
        let mut quirk: Vec<_> = unguarded
            .iter()
            .map(|n| (n.bytes.to_vec(), Some(n.id)))
            .collect();
        // Pattern i of `lower_quirk` for i >= quirk.len() (before the heads are added) is a head.
        let mut quirk_heads = vec![None; quirk.len()];
        for n in &unguarded {
            if let Some((&last, head)) = n.bytes.split_last() {
                quirk.push((head.to_vec(), None));
                quirk_heads.push(Some((n.id, last)));
            }
        }
        let build = |set: Vec<(Vec<u8>, Option<u8>)>| {
            let (patterns, ids): (Vec<_>, Vec<_>) = set.into_iter().unzip();
            PatternSet::new(patterns, &ids)
        };
        let after_http: Vec<_> = exact
            .iter()
            .filter(|(_, id)| id.map_or(true, |id| HTTP_GROUP & 1u64 << id == 0))
            .cloned()
            .collect();
        Scanner {
            exact_after_http: build(after_http),
            exact: build(exact),
            lower: build(lower),
            lower_quirk: build(quirk),
            quirk_heads,
        }
    }
}

/// Needles of the `http` rule that HTTP answers repeat (`HTTPS` is not one: the `tls` rule also wants it).
const HTTP_GROUP: u64 = 1u64 << needle::HTTP.id
    | 1u64 << needle::HTML_LOWER_CASE.id
    | 1u64 << needle::HTML_UPPER_CASE.id
    | 1u64 << needle::H1_TAG.id;

/// Lower-cased needles only rules with the ASCII guard ask for (ftp's own keyword is also smtp's exclusion).
const ASCII_GUARDED: [&[u8]; 3] = [b"imap", b"pop3", b"ssh"];

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
    fn needle_ids_are_positions() {
        for (i, n) in needle::ALL.iter().enumerate() {
            assert_eq!(usize::from(n.id), i, "{:?}", n.bytes);
            assert!(!n.bytes.is_empty());
            if n.fold == Fold::GoLower {
                assert!(n
                    .bytes
                    .iter()
                    .all(|b| b.is_ascii() && !b.is_ascii_uppercase()));
            }
        }
        assert!(needle::ALL.len() <= 64, "found bits fit a u64");
    }

    fn assert_scan_agrees(hay: &[u8]) {
        let scanned = Scanned::new(hay);
        for &n in needle::ALL {
            assert_eq!(
                scanned.has(n),
                hay.has(n),
                "hay {hay:02x?} needle {:?}",
                std::str::from_utf8(n.bytes)
            );
        }
        assert_eq!(Haystack::is_ascii_text(&scanned), is_ascii_text(hay));
    }

    #[test]
    fn scan_agrees_with_search_on_random_input() {
        // Bytes of the needles, both cases, and lead/continuation bytes whose runes end in needle letters.
        let mut alphabet: Vec<u8> = needle::ALL
            .iter()
            .flat_map(|n| n.bytes.iter().copied())
            .collect();
        alphabet.extend(b"TFPSMHELONDIAB \xc5\xb4\xb0\xa4\xe1\x85\xc4\xff\x80");
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = if round % 400 == 0 {
                4500
            } else {
                (state >> 58) as usize + 1
            };
            let mut hay = Vec::with_capacity(len);
            let mut s = state;
            for _ in 0..len {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                hay.push(alphabet[(s >> 33) as usize % alphabet.len()]);
            }
            assert_scan_agrees(&hay);
        }
    }

    #[test]
    fn scan_agrees_with_search_on_random_needle_mixes() {
        // Answers made of whole needles in both cases, their heads, runes ending in needle letters and noise.
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        for n in needle::ALL {
            pieces.push(n.bytes.to_vec());
            pieces.push(n.bytes.to_ascii_uppercase());
            pieces.push(n.bytes[..n.bytes.len() - 1].to_vec());
        }
        for p in [
            &b"\xc5\xb4"[..],
            b"\xc5\xb0",
            b"\xc4\xb4",
            b"\xff",
            b" ",
            b"\r\n",
            b"x",
        ] {
            pieces.push(p.to_vec());
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for round in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut s = state;
            let mut hay = Vec::new();
            for _ in 0..(state >> 61) + 1 + (round % 3) * 3 {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                hay.extend_from_slice(&pieces[(s >> 33) as usize % pieces.len()]);
            }
            assert_scan_agrees(&hay);
        }
    }

    #[test]
    fn scan_finds_needles_anywhere_and_overlapping() {
        for n in needle::ALL {
            // Deep in a long answer, at every offset around 1 KiB (the default data cap).
            for shift in 0..n.bytes.len() + 1 {
                let mut hay = vec![b'.'; 1024 - shift];
                hay.extend_from_slice(n.bytes);
                hay.extend_from_slice(&[b'.'; 40]);
                assert_scan_agrees(&hay);
            }
        }
        // Overlapping needles: both are found.
        let scanned = Scanned::new(b"HTTPONG");
        assert!(scanned.has(needle::HTTP) && scanned.has(needle::PONG));
        let scanned = Scanned::new(b"HTTPS");
        assert!(scanned.has(needle::HTTP) && scanned.has(needle::HTTPS));
        // After the first needle of the http group the others are searched on demand: still found.
        for hay in [
            &b"html HTTP <h1> HTML HTTPS"[..],
            b"<h1>html",
            b"HTTP/1.1 <HTML> RTSP",
        ] {
            assert_scan_agrees(hay);
        }
        // The rune quirk, also deep in a long answer that is not ASCII.
        let mut hay = vec![0x80u8; 1024 - 5];
        hay.extend_from_slice(b"telne\xc5\xb4");
        assert!(Scanned::new(&hay).has(needle::LOWER_TELNET));
        assert_scan_agrees(&hay);
        assert!(
            Scanned::new(b"\x80sm\xd4\xb4").has(needle::LOWER_SMTP)
                == b"\x80sm\xd4\xb4"[..].has(needle::LOWER_SMTP)
        );
    }

    #[test]
    fn ascii_guard() {
        assert!(!is_ascii_text(b""));
        assert!(is_ascii_text(b"220 ok"));
        assert!(!is_ascii_text(b"220 \x80"));
    }
}
