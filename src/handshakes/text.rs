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
//!   runs all rules over each answer): a Teddy-style filter (byte shuffles on nibbles, 32 positions per step
//!   with AVX2, one position at a time without it) over the original bytes marks where a needle could start,
//!   and a word compare then the full test (case-insensitive with the rune quirk for lower-cased needles)
//!   decides. No lower-cased copy, no restart per match. Tests check both ways give the same answers, and the
//!   AVX2 and scalar filters give the same results.

use std::sync::LazyLock;

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
        let (mut found, http_at) = SCANNER.scan(data, 0, 0, HTTP_GROUP);
        let known = match http_at {
            None => SCANNER.known,
            Some(start) => {
                let after = &*SCANNER_AFTER_HTTP;
                found = after.scan(data, start + 1, found, 0).0;
                // The group's needles found so far are known; the others were not searched past `start`.
                after.known | (found & HTTP_GROUP)
            }
        };
        Scanned {
            data,
            known,
            found,
            ascii: data.is_ascii(),
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

/// Bytes at the start of each needle the filter looks at (a shorter needle accepts anything past its end).
const FINGERPRINT: usize = 4;

/// Needles are spread over this many buckets: a filter lane holds one bit per bucket.
const BUCKETS: usize = 8;

/// The one-pass search behind [`Scanned`], built once from the scanned needles.
///
/// A filter in the manner of Teddy (Hyperscan's packed matcher) marks start positions whose first
/// [`FINGERPRINT`] bytes could begin a needle of some bucket; only there are that bucket's needles compared.
/// Each filter table maps a nibble of the byte at one fingerprint position to the buckets that accept it, so a
/// position's buckets are the AND of eight table lookups: with AVX2 that is eight byte shuffles for 32 positions
/// at once. The filter is a superset (a bucket accepts the product of its needles' nibble sets), never a subset,
/// of the real starts, so the verified result is exact whatever the bucket layout.
///
/// Lower-cased needles accept both cases of each letter, and any lead byte of a multi-byte rune at their last
/// position (the rune quirk of [`contains_lower`]); they are verified as that function does.
struct Scanner {
    /// Filter tables: `lo[k][n]` / `hi[k][n]` are the buckets accepting low / high nibble `n` at position `k`.
    lo: [[u8; 16]; FINGERPRINT],
    hi: [[u8; 16]; FINGERPRINT],
    /// Every needle's first bytes as the verifier compares them, by id (ids are below 64).
    prefixes: [Prefix; 64],
    /// Bits of the needles of each bucket.
    bucket_bits: [u64; BUCKETS],
    /// Bits of the needles of each set of buckets (a filter lane's value).
    lane_needles: [u64; 256],
    /// Bits of every scanned needle.
    known: u64,
    /// Whether the CPU runs the AVX2 filter (else the scalar one).
    #[cfg(target_arch = "x86_64")]
    avx2: bool,
}

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| Scanner::new(needle::ALL.iter().copied().filter(|n| n.scanned)));

/// The scanned needles less [`HTTP_GROUP`]: an HTTP answer repeats `HTTP`, `html` and `<h1>`, and each
/// occurrence is a candidate that costs compares of its bucket's other needles, so once one of them is found
/// the rest of the answer is searched without them (the others are then searched if asked, which the `http`
/// rule, the only one asking, no longer does).
static SCANNER_AFTER_HTTP: LazyLock<Scanner> = LazyLock::new(|| {
    Scanner::new(
        needle::ALL
            .iter()
            .copied()
            .filter(|n| n.scanned && HTTP_GROUP & 1u64 << n.id == 0),
    )
});

/// Needles of the `http` rule that HTTP answers repeat (`HTTPS` is not one: the `tls` rule also wants it).
const HTTP_GROUP: u64 = 1u64 << needle::HTTP.id
    | 1u64 << needle::HTML_LOWER_CASE.id
    | 1u64 << needle::HTML_UPPER_CASE.id
    | 1u64 << needle::H1_TAG.id;

/// The low and high nibbles (bit sets) of the bytes `needle` accepts at each fingerprint position: its byte,
/// both cases of a lower-cased needle's letters, any lead byte of a multi-byte rune at a lower-cased needle's
/// last position (the rune quirk), and anything past its end.
fn nibble_sets(needle: Needle) -> [(u16, u16); FINGERPRINT] {
    let mut sets = [(0u16, 0u16); FINGERPRINT];
    for (k, set) in sets.iter_mut().enumerate() {
        let Some(&b) = needle.bytes.get(k) else {
            *set = (u16::MAX, u16::MAX);
            continue;
        };
        let mut accept = |c: u8| {
            set.0 |= 1 << (c & 0xf);
            set.1 |= 1 << (c >> 4);
        };
        accept(b);
        if needle.fold == Fold::GoLower {
            accept(b.to_ascii_uppercase());
            if k + 1 == needle.bytes.len() {
                (0xc2..=0xf4).for_each(&mut accept);
            }
        }
    }
    sets
}

impl Scanner {
    fn new(needles: impl Iterator<Item = Needle>) -> Scanner {
        let mut scanner = Scanner {
            lo: [[0; 16]; FINGERPRINT],
            hi: [[0; 16]; FINGERPRINT],
            prefixes: std::array::from_fn(|id| needle::ALL.get(id).map_or(Prefix::NEVER, |&n| Prefix::new(n))),
            bucket_bits: [0; BUCKETS],
            lane_needles: [0; 256],
            known: 0,
            #[cfg(target_arch = "x86_64")]
            avx2: std::is_x86_feature_detected!("avx2"),
        };
        // Each needle goes to the bucket whose expected false candidates grow least: a bucket fires on a
        // position with probability (uniform bytes) the product over positions of the shares of low and high
        // nibbles it accepts, and each firing costs one compare per needle in it. Shortest needles first: they
        // accept every byte past their end, and are best kept together.
        let mut needles: Vec<Needle> = needles.collect();
        needles.sort_by_key(|n| n.bytes.len());
        let mut sets = [[(0u16, 0u16); FINGERPRINT]; BUCKETS];
        let mut counts = [0usize; BUCKETS];
        for n in needles {
            let accepted = nibble_sets(n);
            let cost = |bucket: &[(u16, u16); FINGERPRINT], count: usize| {
                let share: f64 = bucket
                    .iter()
                    .map(|(lo, hi)| f64::from(lo.count_ones() * hi.count_ones()) / 256.0)
                    .product();
                share * count as f64
            };
            let growth = |j: usize| {
                let count = counts[j];
                let mut grown = sets[j];
                for (set, add) in grown.iter_mut().zip(&accepted) {
                    set.0 |= add.0;
                    set.1 |= add.1;
                }
                cost(&grown, count + 1) - cost(&sets[j], count)
            };
            let bucket = (0..BUCKETS)
                .min_by(|&a, &b| growth(a).total_cmp(&growth(b)))
                .unwrap_or(0);
            for (set, add) in sets[bucket].iter_mut().zip(&accepted) {
                set.0 |= add.0;
                set.1 |= add.1;
            }
            scanner.bucket_bits[bucket] |= 1u64 << n.id;
            scanner.known |= 1u64 << n.id;
            counts[bucket] += 1;
        }
        for (lane, needles) in scanner.lane_needles.iter_mut().enumerate() {
            *needles = (0..BUCKETS)
                .filter(|j| lane & 1 << j != 0)
                .fold(0, |bits, j| bits | scanner.bucket_bits[j]);
        }
        for (j, bucket) in sets.iter().enumerate() {
            for (k, &(lo, hi)) in bucket.iter().enumerate() {
                for nibble in 0..16 {
                    if lo & 1 << nibble != 0 {
                        scanner.lo[k][nibble] |= 1 << j;
                    }
                    if hi & 1 << nibble != 0 {
                        scanner.hi[k][nibble] |= 1 << j;
                    }
                }
            }
        }
        scanner
    }

    /// `found` (needles known to be in `hay` already) and the needles starting in `hay[from..]`; when a needle
    /// of `stop` is found, the search ends after that position, which is returned.
    fn scan(&self, hay: &[u8], from: usize, found: u64, stop: u64) -> (u64, Option<usize>) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: AVX2 was detected on this CPU when the scanner was built.
            return unsafe { avx2::scan(self, hay, from, found, stop) };
        }
        self.scan_scalar(hay, from, found, stop)
    }

    /// [`Scanner::scan`] filtering one position at a time: where there is no AVX2, and the reference the AVX2
    /// filter is tested against.
    fn scan_scalar(&self, hay: &[u8], from: usize, mut found: u64, stop: u64) -> (u64, Option<usize>) {
        let mut live = self.live(found);
        for start in from..hay.len() {
            let buckets = (0..FINGERPRINT).fold(live, |bits, k| {
                let b = hay.get(start + k).copied().unwrap_or(0);
                bits & self.lo[k][usize::from(b & 0xf)] & self.hi[k][usize::from(b >> 4)]
            });
            if buckets != 0 && self.verify(hay, start, buckets, &mut found) {
                if found & stop != 0 {
                    return (found, Some(start));
                }
                live = self.live(found);
            }
        }
        (found, None)
    }

    /// Buckets with a needle not found yet (the others need no more candidates).
    #[inline]
    fn live(&self, found: u64) -> u8 {
        self.bucket_bits
            .iter()
            .enumerate()
            .fold(0, |live, (j, &bits)| if bits & !found != 0 { live | 1 << j } else { live })
    }

    /// Compares the needles of `buckets` not found yet with `hay` at `start`; true if one is found.
    #[inline(always)]
    fn verify(&self, hay: &[u8], start: usize, buckets: u8, found: &mut u64) -> bool {
        let mut todo = self.lane_needles[usize::from(buckets)] & !*found;
        if todo == 0 {
            return false;
        }
        let word = hay
            .get(start..start + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map(u32::from_le_bytes);
        let before = *found;
        while todo != 0 {
            let id = todo.trailing_zeros() as usize;
            todo &= todo - 1;
            let prefix = &self.prefixes[id & 63];
            let hit = match word {
                Some(word) => prefix.admits(word) && (prefix.whole || needle_matches_at(hay, start, id)),
                None => needle_matches_at(hay, start, id),
            };
            if hit {
                *found |= 1u64 << id;
            }
        }
        *found != before
    }
}

/// A needle's first bytes as the verifier compares them: most candidates are rejected by one word compare.
#[derive(Clone, Copy, Debug)]
struct Prefix {
    /// The needle's first bytes (up to 4) as a little-endian word, `keep` selecting them.
    prefix: u32,
    keep: u32,
    /// `0x20` in the bytes of `prefix` that are letters of a lower-cased needle: OR-ing it into the answer's
    /// word lower-cases exactly the two cases of that letter onto it.
    fold: u32,
    /// The word compare decides alone (a case-sensitive needle of at most 4 bytes).
    whole: bool,
}

impl Prefix {
    /// For ids no needle has (never asked for: their bucket bits are never set).
    const NEVER: Prefix = Prefix {
        prefix: 1,
        keep: 0,
        fold: 0,
        whole: true,
    };

    fn new(needle: Needle) -> Prefix {
        // A lower-cased needle's last byte may match through the rune quirk: it is left to the full test.
        let compared = match needle.fold {
            Fold::Exact => needle.bytes.len().min(4),
            Fold::GoLower => needle.bytes.len().saturating_sub(1).min(4),
        };
        let (mut prefix, mut keep, mut fold) = (0u32, 0u32, 0u32);
        for (i, &b) in needle.bytes.iter().take(compared).enumerate() {
            prefix |= u32::from(b) << (8 * i);
            keep |= 0xff << (8 * i);
            if needle.fold == Fold::GoLower && b.is_ascii_lowercase() {
                fold |= 0x20 << (8 * i);
            }
        }
        Prefix {
            prefix,
            keep,
            fold,
            whole: needle.fold == Fold::Exact && needle.bytes.len() <= 4,
        }
    }

    /// Whether the answer's 4 bytes at a position agree with the needle's first bytes.
    #[inline]
    fn admits(&self, word: u32) -> bool {
        (word | self.fold) & self.keep == self.prefix
    }
}

/// [`matches_at`] for the needle of id `id`.
#[inline]
fn needle_matches_at(hay: &[u8], start: usize, id: usize) -> bool {
    needle::ALL.get(id).is_some_and(|&n| matches_at(hay, start, n))
}

/// Whether `needle` occurs in `hay` at `start` (as [`contains`] or [`contains_lower`] would count it there).
#[inline]
fn matches_at(hay: &[u8], start: usize, needle: Needle) -> bool {
    match needle.fold {
        Fold::Exact => hay.get(start..start + needle.bytes.len()) == Some(needle.bytes),
        Fold::GoLower => lower_matches_at(hay, start, needle.bytes),
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    //! The filter on 32 positions at a time (hand-written: the aho-corasick Teddy searcher it replaces, with a
    //! restart per match and a second pass over a lower-cased copy, cost 14% of the engine bench).

    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_broadcastsi128_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256,
        _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8,
        _mm256_srli_epi16, _mm256_storeu_si256, _mm_loadu_si128,
    };

    use super::{Scanner, FINGERPRINT};

    /// Positions per block.
    const LANES: usize = 32;
    /// Bytes a block reads: its positions and the rest of the last one's fingerprint.
    const READ: usize = LANES + FINGERPRINT - 1;

    /// The filter tables, each in both 128-bit lanes (byte shuffles work within a lane).
    struct Tables {
        lo: [__m256i; FINGERPRINT],
        hi: [__m256i; FINGERPRINT],
    }

    /// [`Scanner::scan`] with the AVX2 filter.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn scan(
        scanner: &Scanner,
        hay: &[u8],
        from: usize,
        mut found: u64,
        stop: u64,
    ) -> (u64, Option<usize>) {
        // SAFETY (all loads here): each table row is 16 bytes, read whole.
        let table = |row: &[u8; 16]| _mm256_broadcastsi128_si256(_mm_loadu_si128(row.as_ptr().cast()));
        let tables = Tables {
            lo: scanner.lo.each_ref().map(table),
            hi: scanner.hi.each_ref().map(table),
        };
        let mut live = scanner.live(found);
        let mut at = from;
        while at + READ <= hay.len() && live != 0 {
            // SAFETY: `hay[at..at + READ]` is in bounds.
            let window = &hay[at..at + READ];
            if let Some((candidates, lanes)) = filter(&tables, window, live) {
                if let Some(start) = verify_lanes(scanner, hay, at, candidates, &lanes, &mut found, &mut live, stop) {
                    return (found, Some(start));
                }
            }
            at += LANES;
        }
        // The last positions, from a zero-padded copy.
        while at < hay.len() && live != 0 {
            let mut padded = [0u8; READ];
            let tail = &hay[at..hay.len().min(at + READ)];
            padded[..tail.len()].copy_from_slice(tail);
            if let Some((candidates, lanes)) = filter(&tables, &padded, live) {
                // Positions in the padding are no starts.
                let in_hay = (1u64 << tail.len().min(LANES)) - 1;
                let candidates = candidates & in_hay as u32;
                if let Some(start) = verify_lanes(scanner, hay, at, candidates, &lanes, &mut found, &mut live, stop) {
                    return (found, Some(start));
                }
            }
            at += LANES;
        }
        (found, None)
    }

    /// Verifies the candidate positions (bit per lane) of the block at `at`, given each lane's buckets; the
    /// position where a needle of `stop` was found, if one was.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn verify_lanes(
        scanner: &Scanner,
        hay: &[u8],
        at: usize,
        mut candidates: u32,
        lanes: &[u8; LANES],
        found: &mut u64,
        live: &mut u8,
        stop: u64,
    ) -> Option<usize> {
        while candidates != 0 && *live != 0 {
            let offset = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            let buckets = lanes.get(offset).copied().unwrap_or(0) & *live;
            if buckets != 0 && scanner.verify(hay, at + offset, buckets, found) {
                if *found & stop != 0 {
                    return Some(at + offset);
                }
                *live = scanner.live(*found);
            }
        }
        None
    }

    /// The candidate positions (bit per lane) and buckets of the [`LANES`] positions starting `window` (which
    /// holds [`READ`] bytes), or None when no position is a candidate (the common case: no store).
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn filter(tables: &Tables, window: &[u8], live: u8) -> Option<(u32, [u8; LANES])> {
        debug_assert!(window.len() >= READ);
        let nibble = _mm256_set1_epi8(0x0f);
        let mut buckets = _mm256_set1_epi8(live as i8);
        for k in 0..FINGERPRINT {
            // SAFETY: `window[k..k + LANES]` is in bounds since `window` holds `READ` bytes.
            let bytes = _mm256_loadu_si256(window[k..k + LANES].as_ptr().cast());
            let lo = _mm256_and_si256(bytes, nibble);
            let hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble);
            buckets = _mm256_and_si256(buckets, _mm256_shuffle_epi8(tables.lo[k], lo));
            buckets = _mm256_and_si256(buckets, _mm256_shuffle_epi8(tables.hi[k], hi));
        }
        let candidates = !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(buckets, _mm256_setzero_si256())) as u32);
        if candidates == 0 {
            return None;
        }
        let mut lanes = [0u8; LANES];
        // SAFETY: `lanes` is 32 bytes.
        _mm256_storeu_si256(lanes.as_mut_ptr().cast(), buckets);
        Some((candidates, lanes))
    }
}

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
    let Some(&first) = needle.first() else {
        return true;
    };
    if hay.len() < needle.len() {
        // Go's lowered string has the same length as the input, so a shorter input cannot contain the needle.
        return false;
    }
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
        if lower_matches_at(hay, start, needle) {
            return true;
        }
        from = start + 1;
    }
    false
}

/// Whether lower-cased `needle` occurs at `start` of `hay` after the original's rune-wise lower-casing: the
/// window equals it ignoring ASCII case, or every byte but the last does and the last is the lead byte of a
/// valid multi-byte rune whose code point truncates to the needle's last byte.
#[inline]
fn lower_matches_at(hay: &[u8], start: usize, needle: &[u8]) -> bool {
    let Some((&last, head)) = needle.split_last() else {
        return true;
    };
    let Some(window) = hay.get(start..start + head.len()) else {
        return false;
    };
    if !window.eq_ignore_ascii_case(head) {
        return false;
    }
    match hay.get(start + head.len()) {
        Some(&b) if b.to_ascii_lowercase() == last => true,
        _ => rune_low_byte_at(hay, start + head.len()) == Some(last),
    }
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
        // The scalar filter (no AVX2) finds the same, stopping at the same place, and so does a scanner of every
        // needle in other buckets.
        for scanner in [&*SCANNER, &*SCANNER_AFTER_HTTP, &*EVERY_NEEDLE] {
            for (from, stop) in [(0, 0), (0, HTTP_GROUP), (hay.len() / 3, 0), (1, u64::MAX)] {
                assert_eq!(
                    scanner.scan(hay, from, 0, stop),
                    scanner.scan_scalar(hay, from, 0, stop),
                    "hay {hay:02x?} from {from} stop {stop:x}"
                );
            }
        }
        let every = &*EVERY_NEEDLE;
        let (found, _) = every.scan(hay, 0, 0, 0);
        for &n in needle::ALL {
            assert_eq!(found & 1 << n.id != 0, hay.has(n), "hay {hay:02x?} needle {:?}", std::str::from_utf8(n.bytes));
        }
    }

    /// A scanner of every needle, the asked ones too: another bucket layout, the same results.
    static EVERY_NEEDLE: LazyLock<Scanner> = LazyLock::new(|| Scanner::new(needle::ALL.iter().copied()));

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
        // The quirk at a 3-byte needle's last byte (U+0170 is C5 B0; 0x70 is 'p'), at the end of a block too.
        for shift in 0..40 {
            let mut hay = vec![b'.'; shift];
            hay.extend_from_slice(b"fT\xc5\xb0");
            hay.extend_from_slice(&vec![b'.'; shift % 3]);
            assert!(Scanned::new(&hay).has(needle::LOWER_FTP), "shift {shift}");
            assert_scan_agrees(&hay);
        }
    }

    #[test]
    fn ascii_guard() {
        assert!(!is_ascii_text(b""));
        assert!(is_ascii_text(b"220 ok"));
        assert!(!is_ascii_text(b"220 \x80"));
    }
}
