//! The built-in target generator: (addresses × ports) visited in a pseudo-random order, ZMap's way.
//!
//! The N targets are numbered 0..N (address-major: index = address index × ports + port index). The order comes
//! from the multiplicative group modulo a prime p > N: for a generator g of that group, g^0, g^1, … g^(p-2) runs
//! through every value 1..p-1 exactly once, so `x - 1` visits every index once, and values ≥ N are skipped
//! (at most a few, as primes are dense). Nothing is stored but the current element, and each step is one
//! modular multiplication.
//!
//! Randomness is a seed: it picks g (a random primitive root) and the starting exponent. Shard i of n walks the
//! exponents ≡ i (mod n) of the same cycle (start g^(r+i), step g^n), so n machines with the same seed and
//! campaign cover every target exactly once between them, with no coordination.
//!
//! Address index → address goes through the allowed address set (ranges with prefix sums; a binary search),
//! so blocklists cost nothing per target.

use std::fmt;
use std::str::FromStr;

use super::addrset::{to_ip, AddrSet};
use super::list::parse_port;
use super::Target;

/// Target spaces above this are refused (the prime must fit in 64 bits with headroom).
pub const MAX_TARGETS: u64 = 1 << 62;

/// Why a generator could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratorError(pub String);

impl fmt::Display for GeneratorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GeneratorError {}

/// Shard `index` of `count` (0-based, like ZMap's `--shard`/`--shards`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl FromStr for Shard {
    type Err = GeneratorError;
    /// `i/n`, for example `0/4`.
    fn from_str(s: &str) -> Result<Shard, GeneratorError> {
        let bad = || GeneratorError(format!("shard must be i/n with 0 <= i < n, got {s:?}"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Parses a port list: `80,443,8000-8100` (duplicates removed, first occurrence keeps its place).
pub fn parse_ports(text: &str) -> Result<Vec<u16>, GeneratorError> {
    let mut seen = vec![false; 65536];
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(GeneratorError(format!("empty entry in port list {text:?}")));
        }
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (parse_port(a.trim()), parse_port(b.trim())),
            None => (parse_port(part), parse_port(part)),
        };
        let (lo, hi) = (lo.map_err(|e| GeneratorError(e.detail))?, hi.map_err(|e| GeneratorError(e.detail))?);
        if lo > hi {
            return Err(GeneratorError(format!("port range start after end: {part:?}")));
        }
        for p in lo..=hi {
            if !std::mem::replace(&mut seen[usize::from(p)], true) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// The numbered target space: allowed addresses × ports.
#[derive(Clone, Debug)]
pub struct TargetSpace {
    /// (first address, is IPv6) per range, IPv4 ranges first.
    starts: Vec<(u128, bool)>,
    /// Number of addresses before each range.
    before: Vec<u64>,
    addresses: u64,
    ports: Vec<u16>,
}

impl TargetSpace {
    pub fn new(addrs: &AddrSet, ports: &[u16]) -> Result<TargetSpace, GeneratorError> {
        if ports.is_empty() {
            return Err(GeneratorError("no ports to scan".into()));
        }
        let mut starts = Vec::new();
        let mut before = Vec::new();
        let mut total: u64 = 0;
        let too_big = || GeneratorError("target space larger than 2^62 targets; narrow the targets or ports".to_owned());
        for (v6, ranges) in [(false, &addrs.v4), (true, &addrs.v6)] {
            for &(lo, hi) in ranges.as_slice() {
                let size = u64::try_from((hi - lo).checked_add(1).ok_or_else(too_big)?).map_err(|_| too_big())?;
                starts.push((lo, v6));
                before.push(total);
                total = total.checked_add(size).ok_or_else(too_big)?;
            }
        }
        if total == 0 {
            return Err(GeneratorError("no target addresses left after the allow and block lists".into()));
        }
        let n = u128::from(total) * ports.len() as u128;
        if n > u128::from(MAX_TARGETS) {
            return Err(too_big());
        }
        Ok(TargetSpace { starts, before, addresses: total, ports: ports.to_vec() })
    }

    /// Number of targets.
    pub fn len(&self) -> u64 {
        self.addresses * self.ports.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn addresses(&self) -> u64 {
        self.addresses
    }

    /// Target number `index` (None past the end).
    pub fn get(&self, index: u64) -> Option<Target> {
        let nports = self.ports.len() as u64;
        let addr_index = index / nports;
        if addr_index >= self.addresses {
            return None;
        }
        let port = *self.ports.get((index % nports) as usize)?;
        let range = self.before.partition_point(|&b| b <= addr_index).checked_sub(1)?;
        let (start, v6) = *self.starts.get(range)?;
        let offset = addr_index - *self.before.get(range)?;
        Some(Target { addr: to_ip(v6, start + u128::from(offset)), port })
    }
}

fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(m)) as u64
}

fn pow_mod(mut base: u64, mut exp: u64, m: u64) -> u64 {
    let mut acc = 1 % m;
    base %= m;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul_mod(acc, base, m);
        }
        base = mul_mod(base, base, m);
        exp >>= 1;
    }
    acc
}

/// Deterministic Miller-Rabin for all u64.
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    for p in BASES {
        if n % p == 0 {
            return n == p;
        }
    }
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'bases: for a in BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// A non-trivial factor of the odd composite `n` (Pollard's rho, Brent's variant).
fn pollard_rho(n: u64, seed: u64) -> u64 {
    let mut c = seed % (n - 1) + 1;
    loop {
        let f = |x: u64| ((u128::from(mul_mod(x, x, n)) + u128::from(c)) % u128::from(n)) as u64;
        let (mut x, mut y, mut d) = (2u64, 2u64, 1u64);
        while d == 1 {
            x = f(x);
            y = f(f(y));
            d = gcd(x.abs_diff(y), n);
        }
        if d != n {
            return d;
        }
        c = c % (n - 1) + 1;
    }
}

/// Distinct prime factors of `n`.
pub fn prime_factors(mut n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for p in 2..1000u64 {
        if n % p == 0 {
            out.push(p);
            while n % p == 0 {
                n /= p;
            }
        }
    }
    let mut stack = vec![n];
    while let Some(m) = stack.pop() {
        if m == 1 {
            continue;
        }
        if is_prime(m) {
            if !out.contains(&m) {
                out.push(m);
            }
            continue;
        }
        let d = pollard_rho(m, m ^ 0x9E37_79B9_7F4A_7C15);
        stack.push(d);
        stack.push(m / d);
    }
    out.sort_unstable();
    out
}

/// splitmix64: a stable stream of numbers from the seed (stable across platforms and crate versions, so shards
/// built from the same seed on different machines agree).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A walk over 0..n in the cyclic-group order, restricted to one shard.
#[derive(Clone, Debug)]
pub struct Permutation {
    n: u64,
    prime: u64,
    step: u64,
    current: u64,
    /// Cycle positions left to visit in this shard.
    remaining: u64,
}

impl Permutation {
    pub fn new(n: u64, shard: Shard, seed: u64) -> Result<Permutation, GeneratorError> {
        if n == 0 || n > MAX_TARGETS {
            return Err(GeneratorError(format!("cannot permute {n} targets")));
        }
        if shard.count == 0 || shard.index >= shard.count {
            return Err(GeneratorError(format!("bad shard {shard}")));
        }
        let mut prime = n.max(2) + 1;
        while !is_prime(prime) {
            prime += 1;
        }
        let order = prime - 1;
        let factors = prime_factors(order);
        let mut rng = SplitMix(seed);
        let generator = loop {
            let g = if prime <= 3 { prime - 1 } else { 2 + rng.next() % (prime - 3) };
            if factors.iter().all(|&q| pow_mod(g, order / q, prime) != 1) {
                break g;
            }
        };
        let start_exp = rng.next() % order;
        let first = pow_mod(generator, start_exp + u64::from(shard.index), prime);
        let remaining = (order - u64::from(shard.index).min(order)).div_ceil(u64::from(shard.count));
        Ok(Permutation { n, prime, step: pow_mod(generator, u64::from(shard.count), prime), current: first, remaining })
    }

    pub fn prime(&self) -> u64 {
        self.prime
    }
}

impl Iterator for Permutation {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        while self.remaining > 0 {
            let value = self.current - 1;
            self.current = mul_mod(self.current, self.step, self.prime);
            self.remaining -= 1;
            if value < self.n {
                return Some(value);
            }
        }
        None
    }
}

/// Targets of one shard in permuted order.
#[derive(Clone, Debug)]
pub struct Generator {
    space: TargetSpace,
    order: Permutation,
}

impl Generator {
    pub fn new(space: TargetSpace, shard: Shard, seed: u64) -> Result<Generator, GeneratorError> {
        let order = Permutation::new(space.len(), shard, seed)?;
        Ok(Generator { space, order })
    }

    pub fn space(&self) -> &TargetSpace {
        &self.space
    }
}

impl Iterator for Generator {
    type Item = Target;
    fn next(&mut self) -> Option<Target> {
        // Every index the permutation yields is < len, so `get` always answers.
        self.order.by_ref().find_map(|i| self.space.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn primality_and_factoring() {
        let primes: Vec<u64> = (0..60).filter(|&n| is_prime(n)).collect();
        assert_eq!(primes, vec![2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59]);
        assert!(is_prime((1 << 32) + 15));
        assert!(!is_prime(3_215_031_751)); // strong pseudoprime to bases 2, 3, 5, 7
        assert!(is_prime(18_446_744_073_709_551_557)); // largest u64 prime
        assert_eq!(prime_factors(((1u64 << 32) + 15) - 1), vec![2, 3, 5, 131, 364289]);
        let big = 1_000_000_007u64 * 998_244_353;
        assert_eq!(prime_factors(big * 4), vec![2, 998_244_353, 1_000_000_007]);
        assert_eq!(prime_factors(1_000_000_007u64 * 1_000_000_007), vec![1_000_000_007]);
        assert_eq!(prime_factors(1), Vec::<u64>::new());
    }

    #[test]
    fn ports_parse() {
        assert_eq!(parse_ports("80, 443,8000-8002,80").unwrap(), vec![80, 443, 8000, 8001, 8002]);
        for bad in ["", "0", "80,", "90-80", "x", "70000"] {
            assert!(parse_ports(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_ports("1-65535").unwrap().len(), 65535);
        assert_eq!("2/5".parse::<Shard>().unwrap(), Shard { index: 2, count: 5 });
        for bad in ["5/5", "1/0", "1", "a/b"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn target_space_maps_indices_across_ranges_and_families() {
        let addrs = AddrSet::parse(["198.18.0.1-198.18.0.2", "198.18.1.0/31", "2001:db8::1"]).unwrap();
        let space = TargetSpace::new(&addrs, &[80, 443]).unwrap();
        assert_eq!(space.len(), 10);
        let all: Vec<String> = (0..10).map(|i| space.get(i).unwrap().to_string()).collect();
        assert_eq!(
            all,
            [
                "198.18.0.1:80", "198.18.0.1:443", "198.18.0.2:80", "198.18.0.2:443", "198.18.1.0:80",
                "198.18.1.0:443", "198.18.1.1:80", "198.18.1.1:443", "[2001:db8::1]:80", "[2001:db8::1]:443"
            ]
        );
        assert_eq!(space.get(10), None);
        assert!(TargetSpace::new(&AddrSet::new(), &[80]).is_err());
        assert!(TargetSpace::new(&addrs, &[]).is_err());
        assert!(TargetSpace::new(&AddrSet::parse(["::/0"]).unwrap(), &[80]).is_err());
    }

    #[test]
    fn whole_ipv4_space_times_ports_is_accepted_lazily() {
        let space = TargetSpace::new(&AddrSet::parse(["0.0.0.0/0"]).unwrap(), &[80, 443]).unwrap();
        assert_eq!(space.len(), 1 << 33);
        let mut g = Generator::new(space, Shard::default(), 1).unwrap();
        assert!(g.next().is_some());
    }

    fn covered(n: u64, shards: u32, seed: u64) -> Vec<Vec<u64>> {
        (0..shards).map(|i| Permutation::new(n, Shard { index: i, count: shards }, seed).unwrap().collect()).collect()
    }

    #[test]
    fn same_seed_same_order_different_seed_different_order() {
        let a: Vec<u64> = Permutation::new(1000, Shard::default(), 7).unwrap().collect();
        let b: Vec<u64> = Permutation::new(1000, Shard::default(), 7).unwrap().collect();
        let c: Vec<u64> = Permutation::new(1000, Shard::default(), 8).unwrap().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, (0..1000).collect::<Vec<_>>());
    }

    proptest! {
        #[test]
        fn shards_are_disjoint_and_complete(n in 1u64..3000, shards in 1u32..9, seed in any::<u64>()) {
            let parts = covered(n, shards, seed);
            let mut seen = HashSet::new();
            for part in &parts {
                for &i in part {
                    prop_assert!(i < n);
                    prop_assert!(seen.insert(i), "index {} visited twice", i);
                }
            }
            prop_assert_eq!(seen.len() as u64, n);
            // Shards are balanced to within the few values past n that the cycle skips.
            let skipped = Permutation::new(n, Shard::default(), seed).unwrap().prime() - 1 - n;
            let sizes: Vec<u64> = parts.iter().map(|p| p.len() as u64).collect();
            let (lo, hi) = (sizes.iter().min().copied().unwrap_or(0), sizes.iter().max().copied().unwrap_or(0));
            prop_assert!(hi - lo <= 1 + skipped);
        }
    }

    #[test]
    fn generator_yields_every_target_once() {
        let addrs = AddrSet::parse(["198.18.0.0/28", "2001:db8::/126"]).unwrap();
        let ports = parse_ports("22,80-81").unwrap();
        let space = TargetSpace::new(&addrs, &ports).unwrap();
        let n = space.len();
        let got: HashSet<Target> = Generator::new(space, Shard::default(), 42).unwrap().collect();
        assert_eq!(got.len() as u64, n);
        assert_eq!(n, 20 * 3);
    }
}
