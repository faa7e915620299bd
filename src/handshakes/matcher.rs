//! The fingerprint of an answer (reference §7): run every registered rule in sorted order, join the labels with
//! `-`, and when more than one matched, pick one with the preference list and then the original's hierarchy.
//!
//! Algorithm, as the original:
//! 1. no data → `unknown`;
//! 2. the labels of every rule (whether or not that handshake was sent), in registry (name) order;
//! 3. none → `unknown`; one → that label;
//! 4. several: the first preference entry (the `-priorityFingerprint` list if given, else the `-handshakes`
//!    list) that is a **substring** of the joined string wins; then the hierarchy: `smtp`+`ftp` → `smtp-ftp`,
//!    `telnet`+`bgp` → `bgp`, `smtp` → `smtp`, `ipp` → `ipp`, `kubernetes` → `kubernetes`, `dns`+`http` →
//!    `http`, `ssh`+`http` → `http`, `ftp`+`http` → `http`, `ftp`+`ssh` → `ssh`, `tls`+`http` → `tls`; else the
//!    joined string.
//!
//! One addition (documented in docs/fingerprints.md, off with [`MatcherOptions::ORIGINAL`]): when the caller
//! gives the probe that was sent and the answer is that probe reflected back, the label is `echo` (an echo
//! service, or a middlebox reflecting our bytes), where the original would name the protocol of our own probe.
//!
//! Speed: no allocation unless several rules match and the hierarchy keeps the joined string. The answer is
//! scanned ONCE for every needle any rule looks for ([`Scanned`]); the rules then run on the scan's results.
//! Each rule body is written once, generic over [`Haystack`], in its protocol's file; the `rules!` list below
//! calls them in registry order, and tests check that it agrees with the registry and with each rule run on
//! its own. Substring tests on the joined string are done on the labels: no label or needle contains `-`, so a
//! needle occurs in the joined string exactly when it occurs in one of the labels.

use std::borrow::Cow;

use super::registry::{self, HandshakeList};
use super::text::{Haystack, Scanned};
use super::{
    amqp, bgp, dnp3, dns, fox, ftp, http, imap, ipmi, ipp, kubernetes, memcached_ascii,
    memcached_binary, modbus, mongodb, mqtt, mssql, mysql, newlines, newlines50, oracle, pop3,
    postgres, pptp, rdp, redis, rtsp, siemens, smb, smtp, ssh, telnet, tls, vnc, wait, x11,
    FixedProbe,
};

/// A rule that only tests bytes (prefixes, lengths): nothing to look up.
fn on_bytes<T: FixedProbe>(answer: &Scanned<'_>) -> Option<&'static str> {
    T::rule(answer.bytes())
}

/// Lists every registered rule once, in registry order, giving [`RULE_NAMES`] (a test checks it against the
/// registry) and [`run_rules`], which calls them directly so they are inlined into one pass over the scan.
macro_rules! rules {
    ($($name:ident: $rule:expr,)*) => {
        /// The handshake of each rule [`run_rules`] runs, in its order (checked against the registry).
        #[cfg(test)]
        static RULE_NAMES: [&str; registry::COUNT] = [$(stringify!($name)),*];

        /// Every rule on a scanned answer, in registry order; `matched` gets each label given.
        #[inline]
        fn run_rules(answer: &Scanned<'_>, mut matched: impl FnMut(&'static str)) {
            $(
                if let Some(label) = $rule(answer) {
                    matched(label);
                }
            )*
        }
    };
}

rules! {
    amqp: amqp::check,
    bgp: on_bytes::<bgp::Bgp>,
    dnp3: on_bytes::<dnp3::Dnp3>,
    dns: dns::check,
    fox: on_bytes::<fox::Fox>,
    ftp: ftp::check,
    http: http::check,
    imap: imap::check,
    ipmi: on_bytes::<ipmi::Ipmi>,
    ipp: ipp::check,
    kubernetes: kubernetes::check,
    memcached_ascii: memcached_ascii::check,
    memcached_binary: memcached_binary::check,
    modbus: on_bytes::<modbus::Modbus>,
    mongodb: mongodb::check,
    mqtt: on_bytes::<mqtt::Mqtt>,
    mssql: on_bytes::<mssql::Mssql>,
    mysql: on_bytes::<mysql::Mysql>,
    newlines: on_bytes::<newlines::Newlines>,
    newlines50: on_bytes::<newlines50::Newlines50>,
    oracle: oracle::check,
    pop3: pop3::check,
    postgres: on_bytes::<postgres::Postgres>,
    pptp: pptp::check,
    rdp: on_bytes::<rdp::Rdp>,
    redis: redis::check,
    rtsp: rtsp::check,
    siemens: on_bytes::<siemens::Siemens>,
    smb: smb::check,
    smtp: smtp::check,
    ssh: ssh::check,
    telnet: telnet::check,
    tls: tls::check,
    vnc: vnc::check,
    wait: on_bytes::<wait::Wait>,
    x11: on_bytes::<x11::X11>,
}

/// The label of an answer nothing recognised, and of every record without data.
pub const UNKNOWN_LABEL: &str = "unknown";

/// The label of an answer that is our own probe reflected back (not in the original).
pub const ECHO_LABEL: &str = "echo";

/// A probe shorter than this is not used for echo detection: two newlines coming back prove nothing.
const ECHO_MIN_PROBE: usize = 4;

/// A reflected answer cut short (the first segment of a long probe) must be at least this long to count.
const ECHO_MIN_PARTIAL: usize = 8;

/// Behaviour switches where lzr knowingly differs from the original.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatcherOptions {
    /// Label answers that reflect our probe `echo` (needs the probe; see [`Matcher::label_with_probe`]).
    pub detect_echo: bool,
}

impl MatcherOptions {
    /// lzr's defaults.
    pub const IMPROVED: MatcherOptions = MatcherOptions { detect_echo: true };
    /// Exactly the original's labels.
    pub const ORIGINAL: MatcherOptions = MatcherOptions { detect_echo: false };
}

impl Default for MatcherOptions {
    fn default() -> Self {
        MatcherOptions::IMPROVED
    }
}

/// The labels every rule gave to one answer, in registry order (fixed capacity: one per registered module).
#[derive(Clone, Copy)]
pub struct Matches {
    labels: [&'static str; registry::COUNT],
    len: usize,
}

impl Matches {
    /// Run every registered rule over `data` (one scan for all needles, then the rules).
    pub fn of(data: &[u8]) -> Matches {
        let mut matches = Matches::none();
        if data.is_empty() {
            return matches;
        }
        let scanned = Scanned::new(data);
        run_rules(&scanned, |label| matches.push(label));
        matches
    }

    /// The same as [`Matches::of`], each registered handshake's `fingerprint` searching on its own (the
    /// reference the fast path is tested and benchmarked against).
    pub fn of_each_rule(data: &[u8]) -> Matches {
        let mut matches = Matches::none();
        if data.is_empty() {
            return matches;
        }
        for handshake in registry::all() {
            if let Some(label) = handshake.fingerprint(data) {
                matches.push(label);
            }
        }
        matches
    }

    fn none() -> Matches {
        Matches {
            labels: [""; registry::COUNT],
            len: 0,
        }
    }

    /// Called at most once per registered rule, so the slot exists.
    fn push(&mut self, label: &'static str) {
        if let Some(slot) = self.labels.get_mut(self.len) {
            *slot = label;
            self.len += 1;
        }
    }

    pub fn labels(&self) -> &[&'static str] {
        &self.labels[..self.len]
    }

    /// `strings.Contains(joined, needle)` for a needle without `-`.
    fn joined_contains(&self, needle: &str) -> bool {
        self.labels().iter().any(|label| label.contains(needle))
    }

    /// The labels joined with `-` (the original's multi-match string).
    pub fn joined(&self) -> Cow<'static, str> {
        match self.labels() {
            [] => Cow::Borrowed(""),
            [one] => Cow::Borrowed(one),
            many => Cow::Owned(many.join("-")),
        }
    }
}

/// Labels answers. Build one per campaign; `label*` are `&self` and thread-safe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matcher {
    preference: Vec<&'static str>,
    options: MatcherOptions,
}

impl Matcher {
    /// A matcher preferring `preference` (the handshakes scanned, in order), with lzr's defaults.
    pub fn new(preference: &HandshakeList) -> Matcher {
        Matcher::with_options(preference, MatcherOptions::default())
    }

    pub fn with_options(preference: &HandshakeList, options: MatcherOptions) -> Matcher {
        Matcher {
            preference: preference.names().collect(),
            options,
        }
    }

    /// The original's rule for the preference list: `-priorityFingerprint` when given, else `-handshakes`.
    pub fn for_scan(
        handshakes: &HandshakeList,
        priority: Option<&HandshakeList>,
        options: MatcherOptions,
    ) -> Matcher {
        Matcher::with_options(priority.unwrap_or(handshakes), options)
    }

    pub fn preference(&self) -> &[&'static str] {
        &self.preference
    }

    pub fn options(&self) -> MatcherOptions {
        self.options
    }

    /// The label of `data` when the probe that elicited it is not known (no echo detection).
    pub fn label(&self, data: &[u8]) -> Cow<'static, str> {
        self.label_with_probe(data, None)
    }

    /// The label of `data`, given the exact probe bytes that were sent when known.
    pub fn label_with_probe(&self, data: &[u8], probe: Option<&[u8]>) -> Cow<'static, str> {
        if data.is_empty() {
            return Cow::Borrowed(UNKNOWN_LABEL);
        }
        if self.options.detect_echo && probe.is_some_and(|sent| is_reflection(data, sent)) {
            return Cow::Borrowed(ECHO_LABEL);
        }
        self.resolve(&Matches::of(data))
    }

    /// Pick one label from the rules' matches (steps 3 and 4 of the module docs).
    pub fn resolve(&self, matches: &Matches) -> Cow<'static, str> {
        match matches.labels() {
            [] => return Cow::Borrowed(UNKNOWN_LABEL),
            [one] => return Cow::Borrowed(one),
            _ => {}
        }
        if let Some(preferred) = self
            .preference
            .iter()
            .find(|name| matches.joined_contains(name))
        {
            return Cow::Borrowed(preferred);
        }
        let has = |needle: &str| matches.joined_contains(needle);
        let chosen = if has("smtp") && has("ftp") {
            "smtp-ftp"
        } else if has("telnet") && has("bgp") {
            "bgp"
        } else if has("smtp") {
            "smtp"
        } else if has("ipp") {
            "ipp"
        } else if has("kubernetes") {
            "kubernetes"
        } else if (has("dns") || has("ssh") || has("ftp")) && has("http") {
            // The original's three rules `dns`+`http`, `ssh`+`http`, `ftp`+`http` → `http`, merged.
            "http"
        } else if has("ftp") && has("ssh") {
            "ssh"
        } else if has("tls") && has("http") {
            "tls"
        } else {
            return matches.joined();
        };
        Cow::Borrowed(chosen)
    }
}

/// True when `answer` is `probe` reflected back: it starts with the whole probe, or it is a long enough leading
/// part of it (the first segment of a long reflected probe). An SSH identification line is never an echo: a Go
/// SSH server greets with exactly our `SSH-2.0-Go\r\n`, and both peers of SSH send one.
pub fn is_reflection(answer: &[u8], probe: &[u8]) -> bool {
    if probe.len() < ECHO_MIN_PROBE || answer.is_empty() || answer.starts_with(b"SSH-") {
        return false;
    }
    answer.starts_with(probe) || (answer.len() >= ECHO_MIN_PARTIAL && probe.starts_with(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(list: &str) -> Matcher {
        Matcher::new(&HandshakeList::parse(list).expect("valid list"))
    }

    /// The original's algorithm on a joined string, as an oracle for the label-wise substring shortcut.
    fn oracle(joined: &str, multi: bool, preference: &[&str]) -> String {
        if joined.is_empty() {
            return UNKNOWN_LABEL.into();
        }
        if !multi {
            return joined.into();
        }
        if let Some(p) = preference.iter().find(|p| joined.contains(**p)) {
            return (*p).into();
        }
        let has = |n: &str| joined.contains(n);
        let chosen = if has("smtp") && has("ftp") {
            "smtp-ftp"
        } else if has("telnet") && has("bgp") {
            "bgp"
        } else if has("smtp") {
            "smtp"
        } else if has("ipp") {
            "ipp"
        } else if has("kubernetes") {
            "kubernetes"
        } else if (has("dns") || has("ssh") || has("ftp")) && has("http") {
            "http"
        } else if has("ftp") && has("ssh") {
            "ssh"
        } else if has("tls") && has("http") {
            "tls"
        } else {
            joined
        };
        chosen.into()
    }

    #[test]
    fn resolve_agrees_with_the_joined_string_oracle() {
        let labels = [
            "amqp",
            "bgp",
            "dns",
            "ftp",
            "http",
            "imap",
            "ipp",
            "kubernetes",
            "memcached_binary",
            "pop3",
            "redis",
            "smtp",
            "ssh",
            "telnet",
            "tls",
            "ssl",
            "vnc",
        ];
        let preferences: [&[&str]; 4] = [
            &["http"],
            &["wait", "http", "tls"],
            &["ipp", "ftp"],
            &["x11"],
        ];
        let mut state = 12345u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut m = Matches {
                labels: [""; registry::COUNT],
                len: 0,
            };
            for (i, label) in labels.iter().enumerate() {
                if (state >> (i + 20)) & 3 == 0 {
                    m.labels[m.len] = label;
                    m.len += 1;
                }
            }
            let preference = preferences[(state >> 5) as usize % preferences.len()];
            let matcher = Matcher {
                preference: preference.to_vec(),
                options: MatcherOptions::ORIGINAL,
            };
            let joined = m.labels().join("-");
            assert_eq!(
                matcher.resolve(&m),
                oracle(&joined, m.len > 1, preference),
                "joined {joined}"
            );
        }
    }

    #[test]
    fn rule_table_follows_the_registry() {
        let names: Vec<&str> = RULE_NAMES.to_vec();
        let registered: Vec<&str> = registry::names().collect();
        assert_eq!(names, registered);
    }

    /// Every answer of the real-server corpus (`tests/corpus/**/*.bin`).
    fn corpus() -> Vec<Vec<u8>> {
        fn walk(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
            for entry in std::fs::read_dir(dir).expect("corpus dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "bin") {
                    out.push(std::fs::read(&path).expect("corpus file"));
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"),
            &mut out,
        );
        out
    }

    fn assert_same_matches(data: &[u8]) {
        assert_eq!(
            Matches::of(data).labels(),
            Matches::of_each_rule(data).labels(),
            "answer {:?}",
            String::from_utf8_lossy(data)
        );
    }

    #[test]
    fn one_scan_agrees_with_each_rule_on_the_corpus() {
        let corpus = corpus();
        assert!(
            corpus.len() > 100,
            "corpus found ({} answers)",
            corpus.len()
        );
        for answer in &corpus {
            assert_same_matches(answer);
            // Every cut and a few splices, so needles cross the ends and the ASCII guard flips.
            for cut in [1, 2, 3, 4, 5, 7, 9, 16, 64] {
                if let Some(head) = answer.get(..cut) {
                    assert_same_matches(head);
                }
                if let Some(tail) = answer.get(answer.len().saturating_sub(cut)..) {
                    assert_same_matches(tail);
                }
            }
        }
        for pair in corpus.windows(2) {
            assert_same_matches(&pair.concat());
        }
    }

    #[test]
    fn one_scan_agrees_with_each_rule_on_random_answers() {
        use crate::handshakes::text::needle;
        // Fragments: every needle in both cases and cut short, rule prefixes, quirk runes, binary bytes.
        let mut fragments: Vec<Vec<u8>> = Vec::new();
        for n in needle::ALL {
            fragments.push(n.bytes.to_vec());
            fragments.push(n.bytes.to_ascii_uppercase());
            fragments.push(n.bytes[..n.bytes.len() - 1].to_vec());
        }
        for f in [
            &b"220 "[..],
            b"* OK",
            b"* BYE",
            b"+OK",
            b"-ERR",
            b"\x16\x03\x01",
            b"\x15\x03\x00",
            b"\xff\xfd",
            b"\x81",
            b"\xc5\xb4",
            b"\xc5\xa6",
            b"\xc5\xb0",
            b"\xc4\xb4",
            b"\xe1\x85\xb4",
            b"\xff",
            b"\x00",
            b"\r\n",
            b" ",
            b"N",
            b"\x05\x64",
            b"\x5a\x47\x00\x00",
            b"\x20\x00\x00\x01",
        ] {
            fragments.push(f.to_vec());
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..30_000 {
            let pieces = (next() % 8) as usize + 1;
            let mut answer = Vec::new();
            for _ in 0..pieces {
                let f = &fragments[(next() % fragments.len() as u64) as usize];
                answer.extend_from_slice(f);
            }
            // Now and then a long answer, so the lower-cased scan works in several chunks.
            if round % 500 == 0 {
                let filler = answer.clone();
                while answer.len() < 5000 {
                    answer.extend_from_slice(&filler);
                    answer.push(b'x');
                }
            }
            assert_same_matches(&answer);
        }
    }

    #[test]
    fn no_data_and_no_match_are_unknown() {
        let m = matcher("http");
        assert_eq!(m.label(b""), UNKNOWN_LABEL);
        assert_eq!(m.label(b"\x00\x01\x02"), UNKNOWN_LABEL);
        assert_eq!(
            m.label_with_probe(b"", Some(b"GET / HTTP/1.1\r\n")),
            UNKNOWN_LABEL
        );
    }

    #[test]
    fn single_match_is_borrowed() {
        let label = matcher("http").label(b"HTTP/1.1 200 OK\r\n\r\n");
        assert!(matches!(label, Cow::Borrowed("http")));
    }

    #[test]
    fn bare_220_banner_is_smtp_ftp() {
        assert_eq!(Matches::of(b"220 \r\n").labels(), ["ftp", "smtp"]);
        assert_eq!(matcher("wait").label(b"220 \r\n"), "smtp-ftp");
        // Preference list first: scanning ftp names it ftp, and the substring quirk lets `smtp` win too.
        assert_eq!(matcher("ftp").label(b"220 \r\n"), "ftp");
        assert_eq!(matcher("smtp").label(b"220 \r\n"), "smtp");
    }

    #[test]
    fn telnet_and_bgp_is_bgp() {
        let notification = [[0xffu8; 16].as_slice(), &[0x00, 0x15, 0x03, 0x01, 0x01]].concat();
        assert_eq!(Matches::of(&notification).labels(), ["bgp", "telnet"]);
        assert_eq!(matcher("wait").label(&notification), "bgp");
    }

    #[test]
    fn dns_and_http_is_http() {
        let page = b"HTTP/1.1 200 OK\r\n\r\n<a href=\"https://stackoverflow.com\">";
        assert_eq!(Matches::of(page).labels(), ["dns", "http"]);
        assert_eq!(matcher("wait").label(page), "http");
        assert_eq!(matcher("dns").label(page), "dns");
    }

    #[test]
    fn tls_and_http_is_tls() {
        // An alert record whose bytes happen to spell HTTP further on.
        let odd = b"\x15\x03\x03\x00\x02HTTP";
        assert_eq!(Matches::of(odd).labels(), ["http", "tls"]);
        assert_eq!(matcher("wait").label(odd), "tls");
        assert_eq!(
            matcher("wait,http,tls").label(odd),
            "http",
            "the preference list comes first"
        );
    }

    #[test]
    fn preference_list_quirks() {
        // `tls` is never a substring of a joined string that says `ssl`.
        let ssl = b"\x16\x03\x00HTTP";
        assert_eq!(Matches::of(ssl).labels(), ["http", "ssl"]);
        assert_eq!(matcher("tls").label(ssl), "http-ssl");
        // Preference entries that never label (wait) are skipped; a later entry can still win.
        let banner = b"220 host SMTP and FTP\r\n";
        assert_eq!(Matches::of(banner).labels(), ["ftp", "smtp"]);
        assert_eq!(matcher("wait,ftp").label(banner), "ftp");
        // The preference applies only to multi-matches: a single match is kept even if not scanned.
        assert_eq!(matcher("http").label(b"SSH-2.0-OpenSSH_9.6\r\n"), "ssh");
        // -priorityFingerprint replaces -handshakes.
        let both = HandshakeList::parse("http").expect("valid");
        let priority = HandshakeList::parse("ipp").expect("valid");
        let ipp_page =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\n\r\nattributes-charset";
        assert_eq!(
            Matcher::for_scan(&both, None, MatcherOptions::default()).label(ipp_page),
            "http"
        );
        assert_eq!(
            Matcher::for_scan(&both, Some(&priority), MatcherOptions::default()).label(ipp_page),
            "ipp"
        );
        assert_eq!(matcher("wait").label(ipp_page), "ipp", "hierarchy: ipp");
    }

    #[test]
    fn unresolved_multi_match_is_the_joined_string() {
        let odd = b"\x00\xfdRFB";
        assert_eq!(Matches::of(odd).labels(), ["telnet", "vnc"]);
        let label = matcher("wait").label(odd);
        assert!(matches!(label, Cow::Owned(_)));
        assert_eq!(label, "telnet-vnc");
    }

    #[test]
    fn echo_detection() {
        let m = matcher("http");
        let probe = b"GET / HTTP/1.1\r\nHost: 198.18.0.1\r\nAccept: */*\r\n\r\n";
        assert_eq!(m.label_with_probe(probe, Some(probe)), ECHO_LABEL);
        assert_eq!(
            m.label_with_probe(&probe[..20], Some(probe)),
            ECHO_LABEL,
            "first segment only"
        );
        assert_eq!(
            m.label_with_probe(&probe[..7], Some(probe)),
            "unknown",
            "too short to call it an echo"
        );
        let more = [probe.as_slice(), b"extra"].concat();
        assert_eq!(m.label_with_probe(&more, Some(probe)), ECHO_LABEL);
        assert_eq!(
            m.label_with_probe(b"HTTP/1.1 400 Bad Request\r\n", Some(probe)),
            "http"
        );
        assert_eq!(
            m.label(probe),
            "http",
            "without the probe: the original's label"
        );
        let original = Matcher::with_options(
            &HandshakeList::parse("http").expect("valid"),
            MatcherOptions::ORIGINAL,
        );
        assert_eq!(original.label_with_probe(probe, Some(probe)), "http");
        // A Go SSH server greets with exactly our identification string.
        assert_eq!(
            m.label_with_probe(b"SSH-2.0-Go\r\n", Some(b"SSH-2.0-Go\r\n")),
            "ssh"
        );
        // Real answers that echo fields of our probe are not reflections.
        let ctx = crate::handshakes::ProbeContext {
            dst: "198.18.0.1".parse().expect("ip"),
            dst_port: 623,
            seed: 0,
        };
        for (name, answer) in [
            ("ipmi", &b"\x06\x00\xff\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x81\x1c\x63\x20\x00\x38\x00\x01\x14\x02\x00\x00\x00\x00\x00\x0e"[..]),
            ("modbus", &b"\x5a\x47\x00\x00\x00\x03\x00\xab\x01"[..]),
            ("dns", &b"\x00\x23\x39\x62\x81\x85\x00\x01\x00\x00\x00\x00\x00\x00\x0dstackoverflow\x03com\x00\x00\x01\x00\x01"[..]),
        ] {
            let (_, h) = registry::by_name(name).expect("registered");
            let sent = crate::handshakes::probe_bytes(h, &ctx);
            assert_eq!(matcher(name).label_with_probe(answer, Some(&sent)), name);
        }
        // Two newlines back are not evidence.
        assert_eq!(m.label_with_probe(b"\n\n", Some(b"\n\n")), "unknown");
        assert!(!is_reflection(b"abc", b""));
    }
}
