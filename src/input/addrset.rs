//! Sets of IPv4 and IPv6 addresses, and the allow/block policy every target passes through.
//!
//! A set is a sorted list of disjoint, non-adjacent inclusive ranges per family (addresses as `u128`), so CIDRs,
//! `a-b` ranges and single addresses share one representation: membership is a binary search, union,
//! intersection and difference are linear merges, and counting is exact. This is what ZMap's constraint tree
//! does with less code; a blocklist of tens of thousands of prefixes stays a few hundred KiB.
//!
//! [`AddressPolicy`] applies the campaign's lists: a target must be inside the allowlist (when one is given),
//! outside the blocklist, and outside the [default blocklist](DEFAULT_BLOCKLIST) of reserved and private ranges.
//! The default blocklist is lifted only where the allowlist covers it explicitly: allowing `198.18.0.0/15`
//! makes the benchmarking range scannable and nothing else.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IANA IPv4 and IPv6 special-purpose ranges (RFC 6890 registries) plus private and multicast space.
pub const DEFAULT_BLOCKLIST: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "::ffff:0:0/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "2002::/16",
    "3fff::/20",
    "5f00::/16",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

/// Why an address spec did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ranges(Vec<(u128, u128)>);

impl Ranges {
    pub fn from_unsorted(mut v: Vec<(u128, u128)>) -> Self {
        v.sort_unstable();
        let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
        for (lo, hi) in v {
            if let Some(last) = out.last_mut() {
                // Merge overlapping or adjacent ranges.
                if last.1 == u128::MAX || lo <= last.1 + 1 {
                    last.1 = last.1.max(hi);
                    continue;
                }
            }
            out.push((lo, hi));
        }
        Ranges(out)
    }

    pub fn as_slice(&self) -> &[(u128, u128)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, x: u128) -> bool {
        let i = self.0.partition_point(|&(_, hi)| hi < x);
        self.0.get(i).is_some_and(|&(lo, _)| lo <= x)
    }

    /// Number of addresses, saturating at `u128::MAX` (only the whole IPv6 space overflows).
    pub fn count(&self) -> u128 {
        self.0.iter().fold(0u128, |acc, &(lo, hi)| acc.saturating_add((hi - lo).saturating_add(1)))
    }

    pub fn union(&self, other: &Ranges) -> Ranges {
        Ranges::from_unsorted(self.0.iter().chain(other.0.iter()).copied().collect())
    }

    pub fn intersect(&self, other: &Ranges) -> Ranges {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while let (Some(&(a_lo, a_hi)), Some(&(b_lo, b_hi))) = (self.0.get(i), other.0.get(j)) {
            let (lo, hi) = (a_lo.max(b_lo), a_hi.min(b_hi));
            if lo <= hi {
                out.push((lo, hi));
            }
            if a_hi < b_hi {
                i += 1;
            } else {
                j += 1;
            }
        }
        Ranges(out)
    }

    pub fn difference(&self, other: &Ranges) -> Ranges {
        let mut out = Vec::new();
        let mut j = 0;
        for &(lo, hi) in &self.0 {
            let mut cur = lo;
            // Skip subtrahend ranges entirely below this range.
            while other.0.get(j).is_some_and(|&(_, b_hi)| b_hi < cur) {
                j += 1;
            }
            let mut k = j;
            let mut done = false;
            while let Some(&(b_lo, b_hi)) = other.0.get(k) {
                if b_lo > hi {
                    break;
                }
                if b_lo > cur {
                    out.push((cur, b_lo - 1));
                }
                if b_hi >= hi {
                    done = true;
                    break;
                }
                cur = b_hi + 1;
                k += 1;
            }
            if !done {
                out.push((cur, hi));
            }
        }
        Ranges(out)
    }
}

/// A set of IPv4 and IPv6 addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrSet {
    pub v4: Ranges,
    pub v6: Ranges,
}

impl AddrSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses specs (see [`parse_spec`]); the error names the offending spec.
    pub fn parse<'a>(specs: impl IntoIterator<Item = &'a str>) -> Result<AddrSet, SpecError> {
        let mut b = AddrSetBuilder::default();
        for s in specs {
            b.add_spec(s)?;
        }
        Ok(b.build())
    }

    /// The default blocklist as a set.
    pub fn default_blocklist() -> AddrSet {
        // The list is a constant that a unit test parses, so this cannot fail in practice; an error would
        // leave the set empty rather than crash.
        AddrSet::parse(DEFAULT_BLOCKLIST.iter().copied()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.contains(u128::from(u32::from(a))),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }

    pub fn count_v4(&self) -> u128 {
        self.v4.count()
    }

    pub fn count_v6(&self) -> u128 {
        self.v6.count()
    }

    pub fn union(&self, o: &AddrSet) -> AddrSet {
        AddrSet { v4: self.v4.union(&o.v4), v6: self.v6.union(&o.v6) }
    }

    pub fn intersect(&self, o: &AddrSet) -> AddrSet {
        AddrSet { v4: self.v4.intersect(&o.v4), v6: self.v6.intersect(&o.v6) }
    }

    pub fn difference(&self, o: &AddrSet) -> AddrSet {
        AddrSet { v4: self.v4.difference(&o.v4), v6: self.v6.difference(&o.v6) }
    }
}

/// Collects ranges and normalises once at the end (cheap for files of millions of lines).
#[derive(Default)]
pub struct AddrSetBuilder {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl AddrSetBuilder {
    pub fn add_spec(&mut self, spec: &str) -> Result<(), SpecError> {
        let (v6, lo, hi) = parse_spec(spec)?;
        if v6 {
            self.v6.push((lo, hi));
        } else {
            self.v4.push((lo, hi));
        }
        Ok(())
    }

    pub fn build(self) -> AddrSet {
        AddrSet { v4: Ranges::from_unsorted(self.v4), v6: Ranges::from_unsorted(self.v6) }
    }
}

fn parse_ip(text: &str, spec: &str) -> Result<IpAddr, SpecError> {
    text.trim().parse().map_err(|_| SpecError(format!("not an IP address in {spec:?}")))
}

fn ip_value(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

/// Parses an address (`198.18.0.1`), a CIDR (`198.18.0.0/15`, host bits ignored) or an inclusive range
/// (`198.18.0.1-198.18.0.20`). Returns (is IPv6, first, last).
pub fn parse_spec(spec: &str) -> Result<(bool, u128, u128), SpecError> {
    let s = spec.trim();
    if s.is_empty() {
        return Err(SpecError("empty address spec".into()));
    }
    if let Some((addr, len)) = s.split_once('/') {
        let (v6, value) = ip_value(parse_ip(addr, spec)?);
        let bits = if v6 { 128 } else { 32 };
        let len: u32 = len
            .trim()
            .parse()
            .ok()
            .filter(|&l| l <= bits)
            .ok_or_else(|| SpecError(format!("bad prefix length in {spec:?} (0-{bits})")))?;
        let host_bits = bits - len;
        let host_mask = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
        let lo = value & !host_mask;
        return Ok((v6, lo, lo | host_mask));
    }
    if let Some((a, b)) = s.split_once('-') {
        let (v6a, lo) = ip_value(parse_ip(a, spec)?);
        let (v6b, hi) = ip_value(parse_ip(b, spec)?);
        if v6a != v6b {
            return Err(SpecError(format!("range mixes IPv4 and IPv6 in {spec:?}")));
        }
        if lo > hi {
            return Err(SpecError(format!("range start after end in {spec:?}")));
        }
        return Ok((v6a, lo, hi));
    }
    let (v6, value) = ip_value(parse_ip(s, spec)?);
    Ok((v6, value, value))
}

/// Converts a set member back to an address.
pub fn to_ip(v6: bool, value: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(value))
    } else {
        IpAddr::V4(Ipv4Addr::from(value as u32))
    }
}

/// The campaign's view of which addresses may be contacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressPolicy {
    allow: Option<AddrSet>,
    /// User blocklist plus the default blocklist minus what the allowlist lifts.
    deny: AddrSet,
}

impl AddressPolicy {
    /// `allow`: empty means "no allowlist". The default blocklist always applies except inside `allow`.
    pub fn new(allow: AddrSet, block: AddrSet) -> Self {
        let lifted_defaults = AddrSet::default_blocklist().difference(&allow);
        let deny = block.union(&lifted_defaults);
        AddressPolicy { allow: if allow.is_empty() { None } else { Some(allow) }, deny }
    }

    /// True when the address may be contacted.
    pub fn permits(&self, ip: IpAddr) -> bool {
        if let Some(allow) = &self.allow {
            if !allow.contains(ip) {
                return false;
            }
        }
        !self.deny.contains(ip)
    }

    /// The part of `targets` the policy permits.
    pub fn filter(&self, targets: &AddrSet) -> AddrSet {
        let allowed = match &self.allow {
            Some(a) => targets.intersect(a),
            None => targets.clone(),
        };
        allowed.difference(&self.deny)
    }
}

impl Default for AddressPolicy {
    fn default() -> Self {
        AddressPolicy::new(AddrSet::new(), AddrSet::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_addresses_cidrs_and_ranges() {
        assert_eq!(parse_spec("198.18.0.1").unwrap(), (false, 0xC612_0001, 0xC612_0001));
        assert_eq!(parse_spec("198.18.0.77/15").unwrap(), (false, 0xC612_0000, 0xC613_FFFF));
        assert_eq!(parse_spec("0.0.0.0/0").unwrap(), (false, 0, 0xFFFF_FFFF));
        assert_eq!(parse_spec("::/0").unwrap(), (true, 0, u128::MAX));
        assert_eq!(parse_spec("198.18.0.1 - 198.18.0.20").unwrap(), (false, 0xC612_0001, 0xC612_0014));
        assert_eq!(parse_spec("2001:db8::-2001:db8::ff").unwrap().2 & 0xff, 0xff);
        for bad in ["", "1.2.3.4/33", "1.2.3.4/x", "::/129", "1.2.3.5-1.2.3.4", "1.2.3.4-::1", "nope", "1.2.3/24"] {
            assert!(parse_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_blocklist_parses_and_covers_reserved_space() {
        assert_eq!(AddrSet::parse(DEFAULT_BLOCKLIST.iter().copied()).map(|_| ()), Ok(()));
        let d = AddrSet::default_blocklist();
        for blocked in ["10.1.2.3", "127.0.0.1", "198.18.0.1", "198.19.255.255", "224.0.0.1", "255.255.255.255", "::1", "fe80::1", "2001:db8::5", "fd00::1"] {
            assert!(d.contains(ip(blocked)), "{blocked}");
        }
        for open in ["1.1.1.1", "8.8.8.8", "198.20.0.1", "2606:4700::1111"] {
            assert!(!d.contains(ip(open)), "{open}");
        }
    }

    #[test]
    fn explicit_allow_lifts_the_default_block_for_that_range_only() {
        let p = AddressPolicy::default();
        assert!(!p.permits(ip("198.18.0.1")));
        assert!(p.permits(ip("1.1.1.1")));
        let p = AddressPolicy::new(AddrSet::parse(["198.18.0.0/15"]).unwrap(), AddrSet::new());
        assert!(p.permits(ip("198.18.0.1")));
        assert!(p.permits(ip("198.19.3.4")));
        assert!(!p.permits(ip("10.0.0.1")), "other reserved ranges stay blocked");
        assert!(!p.permits(ip("1.1.1.1")), "the allowlist restricts");
        // The user blocklist wins over the allowlist.
        let p = AddressPolicy::new(AddrSet::parse(["198.18.0.0/15"]).unwrap(), AddrSet::parse(["198.18.0.128/25"]).unwrap());
        assert!(p.permits(ip("198.18.0.127")));
        assert!(!p.permits(ip("198.18.0.128")));
        let targets = AddrSet::parse(["198.18.0.0/24", "10.0.0.0/24"]).unwrap();
        assert_eq!(p.filter(&targets).count_v4(), 128);
    }

    fn naive(ranges: &[(u8, u8)]) -> [bool; 256] {
        let mut m = [false; 256];
        for &(a, b) in ranges {
            for x in a.min(b)..=a.max(b) {
                m[x as usize] = true;
            }
        }
        m
    }

    fn build(ranges: &[(u8, u8)]) -> Ranges {
        Ranges::from_unsorted(ranges.iter().map(|&(a, b)| (u128::from(a.min(b)), u128::from(a.max(b)))).collect())
    }

    proptest! {
        #[test]
        fn set_operations_match_a_bitmap(a in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..8),
                                         b in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..8)) {
            let (ma, mb) = (naive(&a), naive(&b));
            let (ra, rb) = (build(&a), build(&b));
            let (u, i, d) = (ra.union(&rb), ra.intersect(&rb), ra.difference(&rb));
            for x in 0..256usize {
                let v = x as u128;
                prop_assert_eq!(ra.contains(v), ma[x]);
                prop_assert_eq!(u.contains(v), ma[x] || mb[x]);
                prop_assert_eq!(i.contains(v), ma[x] && mb[x]);
                prop_assert_eq!(d.contains(v), ma[x] && !mb[x]);
            }
            prop_assert_eq!(ra.count(), ma.iter().filter(|&&x| x).count() as u128);
            // Normal form: sorted, disjoint, non-adjacent.
            for w in d.as_slice().windows(2) {
                prop_assert!(w[0].1 + 1 < w[1].0);
            }
        }
    }
}
