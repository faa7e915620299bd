//! The handshake plan of a campaign as a worker uses it: for a target's port, which module handshake index `i`
//! means, how long its probe is (the flow layer needs it for sequence numbers), the probe bytes the emitter
//! writes, and the matcher whose preference list breaks fingerprint ties for that port.
//!
//! A plan is either one list for every port (`-handshakes`, the paper's presets) or a port-aware one (the
//! port's assigned protocol first). Lookups are O(1): a dense table maps each port to one of the few distinct
//! lists.

use std::borrow::Cow;
use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::HandshakePlan;
use crate::flow::ProbeLengths;
use crate::handshakes::{matcher::MatcherOptions, registry, Handshake, HandshakeList, Matcher, ProbeContext};

#[derive(Clone, Debug)]
struct PortPlan {
    list: HandshakeList,
    matcher: Matcher,
    /// For each handshake of `list`: the bytes its probe starts with whatever the target and seed.
    fixed_prefixes: Vec<Vec<u8>>,
}

impl PortPlan {
    fn new(list: HandshakeList, matcher: Matcher) -> PortPlan {
        let fixed_prefixes = list.iter().map(fixed_prefix).collect();
        PortPlan { list, matcher, fixed_prefixes }
    }
}

/// Targets and seeds a fixed prefix is taken over: both address families, address texts of every length and
/// first digit, IPv4-mapped IPv6, and seeds differing in every byte (TLS's random comes from the seed).
fn sample_contexts() -> impl Iterator<Item = ProbeContext> {
    let addrs: [IpAddr; 8] = [
        IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
        IpAddr::V4(Ipv4Addr::new(255, 255, 255, 255)),
        IpAddr::V4(Ipv4Addr::new(1, 22, 133, 4)),
        IpAddr::V4(Ipv4Addr::new(98, 7, 6, 54)),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::new(0xffff, 0xeeee, 0xdddd, 0xcccc, 0xbbbb, 0xaaaa, 0x9999, 0x8888)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv4Addr::new(5, 6, 7, 8).to_ipv6_mapped()),
    ];
    let seeds = [0u64, u64::MAX, 0x5555_5555_5555_5555, 0xaaaa_aaaa_aaaa_aaaa, 0x0123_4567_89ab_cdef];
    addrs.into_iter().enumerate().flat_map(move |(i, dst)| {
        seeds.into_iter().map(move |seed| ProbeContext { dst, dst_port: [0, 80, 65535][i % 3], seed })
    })
}

/// The longest prefix the probes of `handshake` share over [`sample_contexts`].
fn fixed_prefix(handshake: &'static dyn Handshake) -> Vec<u8> {
    let mut contexts = sample_contexts();
    let Some(first) = contexts.next() else { return Vec::new() };
    let mut prefix = crate::handshakes::probe_bytes(handshake, &first);
    let mut probe = Vec::new();
    for ctx in contexts {
        probe.clear();
        handshake.write_probe(&ctx, &mut probe);
        let common = prefix.iter().zip(&probe).take_while(|(a, b)| a == b).count();
        prefix.truncate(common);
    }
    prefix
}

/// Handshake lists and matchers by target port.
#[derive(Clone, Debug)]
pub struct Probes {
    plans: Vec<PortPlan>,
    /// Index into `plans` for every port; empty when there is one plan.
    by_port: Box<[u8]>,
}

impl Probes {
    /// One list for every port; `priority` (if any) replaces it as the fingerprint preference list.
    pub fn fixed(list: HandshakeList, priority: Option<&HandshakeList>, options: MatcherOptions) -> Probes {
        let matcher = Matcher::for_scan(&list, priority, options);
        Probes { plans: vec![PortPlan::new(list, matcher)], by_port: Box::new([]) }
    }

    /// A campaign's plan, port by port.
    pub fn from_plan(plan: &HandshakePlan, priority: Option<&HandshakeList>, options: MatcherOptions) -> Probes {
        let mut plans: Vec<PortPlan> = Vec::new();
        let mut lists: Vec<&[u8]> = Vec::new();
        let mut by_port = vec![0u8; 65536];
        for port in 0..=u16::MAX {
            let indices = plan.plan_for_port(port);
            let id = match lists.iter().position(|l| *l == indices) {
                Some(id) => id,
                None => {
                    let names = indices.iter().filter_map(|&i| registry::all().get(usize::from(i)).map(|h| h.name()));
                    // Plans are built from registry indices, so every name resolves; an empty list cannot occur
                    // in a validated campaign, and `wait` alone is the harmless fallback.
                    let list = HandshakeList::from_names(names).unwrap_or_else(|_| HandshakeList::parse("wait").unwrap_or_default());
                    let matcher = Matcher::for_scan(&list, priority, options);
                    plans.push(PortPlan::new(list, matcher));
                    lists.push(indices);
                    plans.len() - 1
                }
            };
            by_port[usize::from(port)] = id as u8;
        }
        let by_port = if plans.len() == 1 { Box::new([]) as Box<[u8]> } else { by_port.into_boxed_slice() };
        Probes { plans, by_port }
    }

    fn plan(&self, port: u16) -> &PortPlan {
        let id = self.by_port.get(usize::from(port)).copied().unwrap_or(0);
        &self.plans[usize::from(id).min(self.plans.len() - 1)]
    }

    fn handshake(&self, index: u8, port: u16) -> Option<&'static dyn Handshake> {
        self.plan(port).list.get(usize::from(index))
    }

    /// Number of handshakes tried on a target on `port`.
    pub fn count(&self, port: u16) -> u8 {
        self.plan(port).list.len().min(usize::from(u8::MAX)) as u8
    }

    /// The longest list of any port.
    pub fn max_count(&self) -> u8 {
        self.plans.iter().map(|p| p.list.len()).max().unwrap_or(0).min(usize::from(u8::MAX)) as u8
    }

    /// Name of handshake `index` for a target on `port` (`""` when out of range).
    pub fn name(&self, index: u8, port: u16) -> &'static str {
        self.handshake(index, port).map_or("", |h| h.name())
    }

    /// Appends the probe of handshake `index` for the target to `out`; nothing when out of range.
    pub fn write(&self, index: u8, remote: IpAddr, remote_port: u16, seed: u64, out: &mut Vec<u8>) {
        if let Some(h) = self.handshake(index, remote_port) {
            h.write_probe(&ProbeContext { dst: remote, dst_port: remote_port, seed }, out);
        }
    }

    /// The fingerprint of an answer from a host on `port`, given the probe that drew it (for echo detection).
    pub fn label(&self, data: &[u8], probe: Option<&[u8]>, port: u16) -> Cow<'static, str> {
        self.plan(port).matcher.label_with_probe(data, probe)
    }

    /// False when `answer` cannot be (the start of) any probe of handshake `index` for a host on `port`: it
    /// differs from the bytes all those probes start with. Then echo detection needs no probe.
    pub fn could_reflect(&self, index: u8, port: u16, answer: &[u8]) -> bool {
        let prefix = self.plan(port).fixed_prefixes.get(usize::from(index)).map_or(&[][..], Vec::as_slice);
        let n = prefix.len().min(answer.len());
        answer[..n] == prefix[..n]
    }
}

/// Probe bytes built to answer the flow layer's length query, kept for the transmit that follows it.
#[derive(Debug, Default)]
pub struct ProbeCache {
    key: Option<(u8, IpAddr, u16, u64)>,
    bytes: Vec<u8>,
}

impl ProbeCache {
    /// The cached probe of handshake `index` for the target and seed, if it is the one held.
    pub fn get(&self, index: u8, remote: IpAddr, remote_port: u16, seed: u64) -> Option<&[u8]> {
        (self.key == Some((index, remote, remote_port, seed))).then_some(self.bytes.as_slice())
    }
}

/// [`Probes`] as the flow layer sees them, through a worker's [`ProbeCache`].
pub struct CachingProbes<'a> {
    pub probes: &'a Probes,
    pub cache: &'a RefCell<ProbeCache>,
}

impl ProbeLengths for CachingProbes<'_> {
    fn probe_len(&self, handshake: u8, remote: IpAddr, remote_port: u16, seed: u64) -> usize {
        // The cache is only borrowed here and in the emitter's transmit, never across a call into the other.
        let Ok(mut cache) = self.cache.try_borrow_mut() else {
            return self.probes.probe_len(handshake, remote, remote_port, seed);
        };
        let cache = &mut *cache;
        cache.bytes.clear();
        self.probes.write(handshake, remote, remote_port, seed, &mut cache.bytes);
        cache.key = Some((handshake, remote, remote_port, seed));
        cache.bytes.len()
    }

    fn handshake_count(&self, remote_port: u16) -> Option<u8> {
        self.probes.handshake_count(remote_port)
    }
}

impl ProbeLengths for Probes {
    fn probe_len(&self, handshake: u8, remote: IpAddr, remote_port: u16, seed: u64) -> usize {
        self.handshake(handshake, remote_port)
            .map_or(0, |h| h.probe_len(&ProbeContext { dst: remote, dst_port: remote_port, seed }))
    }

    fn handshake_count(&self, remote_port: u16) -> Option<u8> {
        Some(self.count(remote_port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PortTable;

    #[test]
    fn lengths_agree_with_written_bytes() {
        let probes = Probes::fixed(HandshakeList::parse("wait,http,tls,dns").unwrap(), None, MatcherOptions::default());
        let dst: IpAddr = "198.18.1.1".parse().unwrap();
        for i in 0..4u8 {
            let mut out = Vec::new();
            probes.write(i, dst, 80, 7, &mut out);
            assert_eq!(out.len(), probes.probe_len(i, dst, 80, 7), "handshake {}", probes.name(i, 80));
        }
        assert_eq!(probes.name(1, 80), "http");
        assert_eq!(probes.count(5432), 4);
        assert_eq!(probes.probe_len(9, dst, 80, 7), 0);
    }

    #[test]
    fn fixed_prefixes_start_every_probe() {
        let mut state = 0x853c_49e6_748f_ea9bu64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for &h in registry::all() {
            let prefix = fixed_prefix(h);
            for _ in 0..3000 {
                let r = next();
                let dst = if r & 1 == 0 {
                    IpAddr::V4(Ipv4Addr::from((r >> 8) as u32))
                } else {
                    IpAddr::V6(Ipv6Addr::from(u128::from(r) << 64 | u128::from(next())))
                };
                let ctx = ProbeContext { dst, dst_port: (r >> 40) as u16, seed: next() };
                let probe = crate::handshakes::probe_bytes(h, &ctx);
                assert!(probe.starts_with(&prefix), "{}: {:02x?} does not start {:02x?}", h.name(), probe, prefix);
            }
        }
        let (_, http) = registry::by_name("http").unwrap();
        assert_eq!(fixed_prefix(http), b"GET / HTTP/1.1\r\nHost: ");
        let (_, tls) = registry::by_name("tls").unwrap();
        assert_eq!(fixed_prefix(tls).len(), crate::handshakes::tls::RANDOM_OFFSET);
        let (_, dns) = registry::by_name("dns").unwrap();
        assert_eq!(fixed_prefix(dns).len(), dns.probe_len(&sample_contexts().next().unwrap()), "a fixed probe is all prefix");
    }

    #[test]
    fn could_reflect_only_when_the_answer_agrees_with_the_fixed_prefix() {
        let probes = Probes::fixed(HandshakeList::parse("wait,http").unwrap(), None, MatcherOptions::default());
        assert!(!probes.could_reflect(1, 80, b"HTTP/1.1 200 OK\r\n"));
        assert!(probes.could_reflect(1, 80, b"GET / HTTP/1.1\r\nHost: 198.18.0.1\r\n"));
        assert!(probes.could_reflect(1, 80, b"GET"), "a short answer agreeing so far");
        assert!(probes.could_reflect(0, 80, b"anything"), "wait sends nothing: nothing to rule out");
        assert!(probes.could_reflect(7, 80, b"anything"), "out of range: no prefix");
        // Where it says no, labelling without the probe gives the label labelling with it does.
        let dst: IpAddr = "198.18.3.4".parse().unwrap();
        let mut probe = Vec::new();
        probes.write(1, dst, 80, 0, &mut probe);
        for answer in [&b"HTTP/1.1 404 Not Found\r\n\r\n"[..], b"SSH-2.0-x\r\n", b"GET / HTTP/1.0\r\n", &probe[..20], &probe] {
            if !probes.could_reflect(1, 80, answer) {
                assert_eq!(probes.label(answer, None, 80), probes.label(answer, Some(&probe), 80));
            }
        }
        assert_eq!(probes.label(&probe, Some(&probe), 80), crate::handshakes::ECHO_LABEL);
        assert!(probes.could_reflect(1, 80, &probe));
    }

    #[test]
    fn caching_probes_keep_the_bytes_of_the_length_query() {
        let probes = Probes::fixed(HandshakeList::parse("wait,http,tls").unwrap(), None, MatcherOptions::default());
        let cache = RefCell::new(ProbeCache::default());
        let caching = CachingProbes { probes: &probes, cache: &cache };
        let dst: IpAddr = "198.18.9.9".parse().unwrap();
        for (i, seed) in [(1u8, 5u64), (2, 6), (0, 7)] {
            let len = caching.probe_len(i, dst, 443, seed);
            assert_eq!(len, probes.probe_len(i, dst, 443, seed));
            let mut written = Vec::new();
            probes.write(i, dst, 443, seed, &mut written);
            assert_eq!(cache.borrow().get(i, dst, 443, seed), Some(written.as_slice()));
            assert_eq!(cache.borrow().get(i, dst, 443, seed + 1), None, "another seed");
            assert_eq!(cache.borrow().get(i, dst, 80, seed), None, "another port");
        }
        assert_eq!(caching.handshake_count(80), Some(3));
    }

    #[test]
    fn port_aware_plan_puts_the_assigned_protocol_first() {
        let plan = HandshakePlan::port_aware(&PortTable::builtin());
        let probes = Probes::from_plan(&plan, None, MatcherOptions::default());
        assert_eq!(probes.name(0, 5432), "postgres");
        assert_eq!(probes.name(0, 27017), "mongodb");
        assert_eq!(probes.name(0, 62220), "wait");
        assert_eq!(probes.count(5432), 6);
        // A postgres answer on 5432 is named by its own rule; a bare 220 banner on 21 prefers ftp.
        assert_eq!(probes.label(b"N", None, 5432), "postgres");
        assert_eq!(probes.label(b"220 service ready\r\n", None, 21), "ftp");
        assert!(probes.max_count() >= 6);
    }
}
