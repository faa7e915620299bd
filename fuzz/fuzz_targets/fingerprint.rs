//! libFuzzer target over the matcher: any answer, any preference list, any probe must give a label without
//! panicking, and the label must be one the matcher can produce. The first byte picks the preference list and
//! whether a probe (one of the registered ones, or a slice of the input itself) is given for echo detection.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lzr::handshakes::{
    probe_bytes, registry, HandshakeList, Matcher, MatcherOptions, ProbeContext,
};

const LISTS: [&str; 4] = ["http", "wait,http,tls", "ftp,smtp,ssh", "tls,kubernetes"];

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else {
        return;
    };
    let list =
        HandshakeList::parse(LISTS[usize::from(selector) % LISTS.len()]).expect("valid list");
    let options = if selector & 0x80 != 0 {
        MatcherOptions::ORIGINAL
    } else {
        MatcherOptions::IMPROVED
    };
    let matcher = Matcher::with_options(&list, options);
    let ctx = ProbeContext {
        dst: "198.18.0.1".parse().expect("ip"),
        dst_port: 80,
        seed: u64::from(selector),
    };
    let all = registry::all();
    let probe = match selector & 0x60 {
        0x00 => None,
        0x20 => Some(probe_bytes(all[usize::from(selector) % all.len()], &ctx)),
        _ => Some(data[..data.len() / 2].to_vec()),
    };
    let label = matcher.label_with_probe(data, probe.as_deref());
    assert!(!label.is_empty());
    for h in all {
        if let Some(one) = h.fingerprint(data) {
            assert!(!one.is_empty() && !one.contains('-'));
        }
    }
});
