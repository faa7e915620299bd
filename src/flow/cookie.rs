//! Stateless SYN cookies: ISNs and source ports that carry a keyed hash (SipHash-1-3, per-run secret), so a
//! SYN we open ourselves keeps no state and its answer can still be checked (ZMap's validation approach).
//!
//! Self-opened SYN (handshake 0), one hash `C = H(open | remote, remote port, local, tick)` where `tick` is an
//! 8-bit clock of 1024 ms:
//! - ISN = `tick << 24 | C & 0xff_ffff` (the MAC);
//! - source port = first + (C >> 24) mod range length (so a target's port changes with the tick).
//!
//! An answer (SYN-ACK, or RST+ACK) is accepted when its tick (the top byte of `ack - 1`) is at most
//! `ceil(answer_window / 1024 ms)` ticks old and `C` of that tick gives both its MAC and its destination
//! port: one hash per SYN and one per answer. The age limit is what lets a finished flow forget a host: once
//! its tombstone outlives [`Cookies::answer_horizon_ms`], a late SYN-ACK retransmission can no longer open a
//! second flow. Forging an answer means guessing 24 MAC bits and the 15-bit port at once (independent bits
//! of one keyed hash).
//!
//! HyperACKtive probe `i` for a parent flow (remote, parent port):
//! - probe remote port = first + H(haf-port | remote, parent port, local, draw) mod length, drawing until the
//!   N ports are distinct and differ from the parent's port;
//! - probe source port = first + H(haf-local | remote, probe port, local, parent port) mod length;
//! - ISN = `(parent port ^ H(haf-mask | remote, probe port, local, source port)) << 16 | MAC16`.
//!
//!   The answer gives the parent port back (unmask the ISN's top half), which finds the parent flow without
//!   any per-probe state; the source port, the MAC and "the answering port is probe `i` of that parent" are
//!   then checked. The parent's decision window bounds the age, so no clock is needed here.

use std::net::IpAddr;

use super::config::FlowConfig;

const TICK_SHIFT: u32 = 10;
const TICK_MS: u64 = 1 << TICK_SHIFT;

#[repr(u8)]
enum Tag {
    Open = 1,
    HafRemotePort,
    HafLocalPort,
    HafMask,
    HafMac,
    LaterIsn,
}

/// The keyed hashes of one run.
#[derive(Clone, Debug)]
pub struct Cookies {
    k0: u64,
    k1: u64,
    first: u16,
    len: u32,
    window_ticks: u8,
}

/// A checked answer to a HyperACKtive probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HafAnswer {
    pub parent_port: u16,
    pub probe: u8,
}

fn clock_tick(now_ms: u64) -> u8 {
    (now_ms >> TICK_SHIFT) as u8
}

/// An address as (family, upper 64 bits, lower 64 bits); IPv4 in the lower half.
fn addr_words(addr: IpAddr) -> (u64, u64, u64) {
    match addr {
        IpAddr::V4(a) => (4, 0, u64::from(u32::from(a))),
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            (6, (bits >> 64) as u64, bits as u64)
        }
    }
}

/// One SipRound.
#[inline(always)]
fn sip_round(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13) ^ v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16) ^ v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21) ^ v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17) ^ v[2];
    v[2] = v[2].rotate_left(32);
}

/// SipHash-1-3 of a message of `N` whole 64-bit words (the same value as SipHash-1-3 over their
/// little-endian bytes). Hand-written: a general hasher's byte buffering and an iterator over the words cost
/// ~160 instructions per cookie in the engine bench; with the length fixed at compile time this unrolls to
/// the rounds alone.
#[inline(always)]
fn siphash13_words<const N: usize>(k0: u64, k1: u64, words: [u64; N]) -> u64 {
    let mut v = [k0 ^ 0x736f_6d65_7073_6575, k1 ^ 0x646f_7261_6e64_6f6d, k0 ^ 0x6c79_6765_6e65_7261, k1 ^ 0x7465_6462_7974_6573];
    for m in words {
        v[3] ^= m;
        sip_round(&mut v);
        v[0] ^= m;
    }
    // The final block: no tail bytes, only the message length (mod 256) in the top byte.
    let last = ((N as u64 * 8) & 0xff) << 56;
    v[3] ^= last;
    sip_round(&mut v);
    v[0] ^= last;
    v[2] ^= 0xff;
    sip_round(&mut v);
    sip_round(&mut v);
    sip_round(&mut v);
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

impl Cookies {
    pub fn new(config: &FlowConfig) -> Cookies {
        Cookies {
            k0: config.secret[0],
            k1: config.secret[1],
            first: config.ephemeral_first,
            len: config.ephemeral_len(),
            window_ticks: config.answer_window_ms.div_ceil(TICK_MS).min(u64::from(u8::MAX / 2)) as u8,
        }
    }

    /// Longest time after a SYN at which its answer can still pass [`Cookies::check_open`]. Tombstones linger
    /// this long so no late answer can open a second flow for a finished target.
    pub fn answer_horizon_ms(&self) -> u64 {
        (u64::from(self.window_ticks) + 2) * TICK_MS
    }

    /// One SipHash-1-3 over the fields packed into 64-bit words. The first word names the tag and both
    /// address families, which fixes the layout of the rest, so distinct inputs give distinct messages.
    /// IPv4 to IPv4 (the common case) packs into three words.
    fn hash(&self, tag: Tag, remote: IpAddr, remote_port: u16, local: IpAddr, extra: u64) -> u64 {
        let (rf, rh, rl) = addr_words(remote);
        let (lf, lh, ll) = addr_words(local);
        let head = tag as u64 | rf << 8 | lf << 12 | u64::from(remote_port) << 16;
        if rf == 4 && lf == 4 {
            siphash13_words(self.k0, self.k1, [head | rl << 32, ll, extra])
        } else {
            siphash13_words(self.k0, self.k1, [head, rh, rl, lh, ll, extra])
        }
    }

    fn port_from(&self, hash: u64) -> u16 {
        // len <= 65535 and first + (hash mod len) <= last, so this cannot overflow.
        self.first + (hash % u64::from(self.len)) as u16
    }

    /// The cookie of a self-opened SYN sent at clock tick `tick`: its low 24 bits are the ISN's MAC, the
    /// bits above them pick the source port.
    fn open_cookie(&self, remote: IpAddr, remote_port: u16, local: IpAddr, tick: u8) -> u64 {
        self.hash(Tag::Open, remote, remote_port, local, u64::from(tick))
    }

    /// Source port and ISN of our self-opened SYN to (remote, remote_port) sent at `now_ms`: one keyed hash
    /// gives both.
    pub fn open(&self, remote: IpAddr, remote_port: u16, local: IpAddr, now_ms: u64) -> (u16, u32) {
        let tick = clock_tick(now_ms);
        let cookie = self.open_cookie(remote, remote_port, local, tick);
        (self.port_from(cookie >> 24), u32::from(tick) << 24 | (cookie & 0xff_ffff) as u32)
    }

    /// Checks an answer (SYN-ACK or RST+ACK) to a self-opened SYN; gives our ISN back when it is genuine
    /// and fresh.
    pub fn check_open(
        &self,
        remote: IpAddr,
        remote_port: u16,
        local: IpAddr,
        local_port: u16,
        ack: u32,
        now_ms: u64,
    ) -> Option<u32> {
        let isn = ack.wrapping_sub(1);
        let tick = (isn >> 24) as u8;
        if clock_tick(now_ms).wrapping_sub(tick) > self.window_ticks {
            return None;
        }
        let cookie = self.open_cookie(remote, remote_port, local, tick);
        (local_port == self.port_from(cookie >> 24) && u64::from(isn & 0xff_ffff) == cookie & 0xff_ffff).then_some(isn)
    }

    /// Remote ports of the first `count` HyperACKtive probes for the parent (remote, parent_port): distinct,
    /// and never the parent's own port (a redraw replaces any repeat).
    pub fn haf_remote_ports(&self, remote: IpAddr, parent_port: u16, local: IpAddr, count: u8) -> [u16; 16] {
        let mut ports = [0u16; 16];
        let count = usize::from(count).min(ports.len());
        let mut draw = 0u64;
        let mut filled = 0;
        while filled < count {
            let port = self.port_from(self.hash(Tag::HafRemotePort, remote, parent_port, local, draw));
            draw += 1;
            // With a range of fewer than 17 ports the draws could never all differ; accept repeats then.
            let exhausted = draw > 64 * 16;
            if exhausted || (port != parent_port && !ports[..filled].contains(&port)) {
                ports[filled] = port;
                filled += 1;
            }
        }
        ports
    }

    /// Our source port for a probe to `probe_port`.
    pub fn haf_local_port(&self, remote: IpAddr, probe_port: u16, local: IpAddr, parent_port: u16) -> u16 {
        self.port_from(self.hash(Tag::HafLocalPort, remote, probe_port, local, u64::from(parent_port)))
    }

    fn haf_mask(&self, remote: IpAddr, probe_port: u16, local: IpAddr, local_port: u16) -> u16 {
        self.hash(Tag::HafMask, remote, probe_port, local, u64::from(local_port)) as u16
    }

    fn haf_mac(&self, remote: IpAddr, probe_port: u16, local: IpAddr, local_port: u16, parent_port: u16) -> u16 {
        let extra = u64::from(local_port) << 16 | u64::from(parent_port);
        self.hash(Tag::HafMac, remote, probe_port, local, extra) as u16
    }

    /// ISN of a probe SYN from `local_port` to `probe_port` on behalf of `parent_port`.
    pub fn haf_isn(&self, remote: IpAddr, probe_port: u16, local: IpAddr, local_port: u16, parent_port: u16) -> u32 {
        let hi = parent_port ^ self.haf_mask(remote, probe_port, local, local_port);
        u32::from(hi) << 16 | u32::from(self.haf_mac(remote, probe_port, local, local_port, parent_port))
    }

    /// Checks an answer (SYN-ACK or RST+ACK) from `remote:probe_port` to `local:local_port` against the
    /// probes of a parent that sends `probes` of them.
    pub fn check_haf(
        &self,
        remote: IpAddr,
        probe_port: u16,
        local: IpAddr,
        local_port: u16,
        ack: u32,
        probes: u8,
    ) -> Option<HafAnswer> {
        if probes == 0 {
            return None;
        }
        let isn = ack.wrapping_sub(1);
        let parent_port = (isn >> 16) as u16 ^ self.haf_mask(remote, probe_port, local, local_port);
        if local_port != self.haf_local_port(remote, probe_port, local, parent_port)
            || isn as u16 != self.haf_mac(remote, probe_port, local, local_port, parent_port)
        {
            return None;
        }
        let ports = self.haf_remote_ports(remote, parent_port, local, probes);
        let probe = ports.iter().take(usize::from(probes)).position(|&p| p == probe_port)?;
        Some(HafAnswer { parent_port, probe: probe as u8 })
    }

    /// ISN of the SYN for a later handshake of a flow that already has state (checked against that state, so
    /// it only needs to be unpredictable).
    pub fn later_isn(&self, remote: IpAddr, remote_port: u16, local: IpAddr, local_port: u16, nonce: u64) -> u32 {
        self.hash(Tag::LaterIsn, remote, remote_port, local, nonce ^ u64::from(local_port) << 48) as u32
    }

    /// Seed for the probe of one handshake attempt: the same attempt always rebuilds the same bytes, and any
    /// two attempts differ. The seed is no MAC (nothing is checked against it, and the ISN in it is already
    /// keyed), so a keyed chain of bijective mixes is enough: it cannot map two attempts of IPv4 flows to one
    /// seed. Hand-written: a SipHash here cost ~150 instructions per probe sent in the engine bench.
    pub fn probe_seed(&self, remote: IpAddr, remote_port: u16, local: IpAddr, local_port: u16, handshake: u8, isn: u32) -> u64 {
        let attempt = u64::from(isn) << 32 | u64::from(local_port) << 16 | u64::from(remote_port);
        let ends = fold_addr(local) ^ u64::from(handshake) << 56 ^ self.k1;
        mix64(mix64(mix64(fold_addr(remote) ^ self.k0) ^ attempt) ^ ends)
    }
}

/// An address in 64 bits: IPv4 as is (so distinct IPv4 addresses stay distinct), IPv6 folded.
fn fold_addr(addr: IpAddr) -> u64 {
    match addr {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            (bits >> 64) as u64 ^ (bits as u64).rotate_left(32) ^ 6 << 32
        }
    }
}

/// The 64-bit finalizer of MurmurHash3: a bijection that spreads every input bit over the output.
fn mix64(mut z: u64) -> u64 {
    z ^= z >> 33;
    z = z.wrapping_mul(0xff51_afd7_ed55_8ccd);
    z ^= z >> 33;
    z = z.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    z ^ z >> 33
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn cookies(secret: [u64; 2]) -> Cookies {
        Cookies::new(&FlowConfig { secret, ..FlowConfig::default() })
    }

    fn addr() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        ]
    }

    #[test]
    fn ports_stay_in_the_range() {
        let c = Cookies::new(&FlowConfig { ephemeral_first: 40000, ephemeral_last: 40003, ..FlowConfig::default() });
        for p in 0..2000u16 {
            let (port, _) = c.open(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)), p, IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1)), u64::from(p) << 10);
            assert!((40000..=40003).contains(&port));
        }
    }

    #[test]
    fn answers_expire_after_the_window() {
        let c = cookies([1, 2]);
        let (r, l) = (IpAddr::V4(Ipv4Addr::new(198, 18, 0, 9)), IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1)));
        let sent = 5_000_000u64;
        let (lp, isn) = c.open(r, 80, l, sent);
        assert_eq!(c.check_open(r, 80, l, lp, isn.wrapping_add(1), sent + 10_000), Some(isn));
        assert_eq!(c.check_open(r, 80, l, lp, isn.wrapping_add(1), sent + c.answer_horizon_ms()), None);
        // The tick wraps every 262 s; within the window across the wrap still works.
        let near_wrap = 255 * 1024 + 1000;
        let (lp, isn) = c.open(r, 80, l, near_wrap);
        assert_eq!(c.check_open(r, 80, l, lp, isn.wrapping_add(1), near_wrap + 3000), Some(isn));
    }

    /// The reference: the `siphasher` crate over the words' little-endian bytes.
    fn reference_siphash13(k0: u64, k1: u64, words: &[u64]) -> u64 {
        use siphasher::sip::SipHasher13;
        use std::hash::Hasher;
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut h = SipHasher13::new_with_keys(k0, k1);
        h.write(&bytes);
        h.finish()
    }

    #[test]
    fn word_siphash_is_siphash13_on_known_keys() {
        assert_eq!(siphash13_words(0, 0, []), reference_siphash13(0, 0, &[]));
        assert_eq!(siphash13_words(1, 2, [3]), reference_siphash13(1, 2, &[3]));
        let (k0, k1) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        assert_eq!(siphash13_words(k0, k1, [7, u64::MAX, 1 << 63]), reference_siphash13(k0, k1, &[7, u64::MAX, 1 << 63]));
        let six: [u64; 6] = std::array::from_fn(|i| (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        assert_eq!(siphash13_words(5, 6, six), reference_siphash13(5, 6, &six));
        // 32 words: the length byte wraps (256 bytes = 0 mod 256).
        let many: [u64; 32] = std::array::from_fn(|i| i as u64);
        assert_eq!(siphash13_words(k0, k1, many), reference_siphash13(k0, k1, &many));
    }

    proptest! {
        /// The probe seed is a function of the attempt, and a change of any one field of an IPv4 attempt
        /// changes it (certainly, not just probably: every step of the mix is a bijection).
        #[test]
        fn probe_seeds_tell_attempts_apart(secret in any::<[u64; 2]>(), r in any::<u32>(), l in any::<u32>(), rp in any::<u16>(),
                                           lp in any::<u16>(), hs in any::<u8>(), isn in any::<u32>(), field in 0usize..6, bit in 0u32..32) {
            let c = cookies(secret);
            let (r4, l4) = (IpAddr::V4(Ipv4Addr::from(r)), IpAddr::V4(Ipv4Addr::from(l)));
            let seed = c.probe_seed(r4, rp, l4, lp, hs, isn);
            prop_assert_eq!(seed, c.probe_seed(r4, rp, l4, lp, hs, isn));
            let other = match field {
                0 => c.probe_seed(IpAddr::V4(Ipv4Addr::from(r ^ 1 << bit)), rp, l4, lp, hs, isn),
                1 => c.probe_seed(r4, rp ^ 1 << (bit % 16), l4, lp, hs, isn),
                2 => c.probe_seed(r4, rp, IpAddr::V4(Ipv4Addr::from(l ^ 1 << bit)), lp, hs, isn),
                3 => c.probe_seed(r4, rp, l4, lp ^ 1 << (bit % 16), hs, isn),
                4 => c.probe_seed(r4, rp, l4, lp, hs ^ 1 << (bit % 8), isn),
                _ => c.probe_seed(r4, rp, l4, lp, hs, isn ^ 1 << bit),
            };
            prop_assert_ne!(seed, other);
        }

        /// The two message lengths the cookies use (3 words: IPv4 to IPv4; 6 words: any IPv6), on random keys
        /// and words.
        #[test]
        fn word_siphash_is_siphash13(k0 in any::<u64>(), k1 in any::<u64>(), three in any::<[u64; 3]>(), six in any::<[u64; 6]>()) {
            prop_assert_eq!(siphash13_words(k0, k1, three), reference_siphash13(k0, k1, &three));
            prop_assert_eq!(siphash13_words(k0, k1, six), reference_siphash13(k0, k1, &six));
        }

        #[test]
        fn genuine_open_answers_pass(secret in any::<[u64; 2]>(), r in addr(), l in addr(), rp in any::<u16>(),
                                      now in 0u64..1 << 40, delay in 0u64..10_000) {
            let c = cookies(secret);
            let (lp, isn) = c.open(r, rp, l, now);
            prop_assert_eq!(c.check_open(r, rp, l, lp, isn.wrapping_add(1), now + delay), Some(isn));
        }

        #[test]
        fn altered_open_answers_fail(secret in any::<[u64; 2]>(), r in addr(), l in addr(), rp in any::<u16>(),
                                     now in 0u64..1 << 40, flip in 0u32..24, other_port in any::<u16>()) {
            let c = cookies(secret);
            let (lp, isn) = c.open(r, rp, l, now);
            // A wrong MAC bit, a wrong destination port, or the wrong remote port are all refused.
            prop_assert_eq!(c.check_open(r, rp, l, lp, (isn ^ (1 << flip)).wrapping_add(1), now), None);
            if other_port != lp {
                prop_assert_eq!(c.check_open(r, rp, l, other_port, isn.wrapping_add(1), now), None);
            }
            let other_secret = [secret[0] ^ 1, secret[1]];
            prop_assert_eq!(cookies(other_secret).check_open(r, rp, l, lp, isn.wrapping_add(1), now), None);
        }

        #[test]
        fn haf_answers_find_their_parent(secret in any::<[u64; 2]>(), r in addr(), l in addr(),
                                         parent in any::<u16>(), n in 1u8..=16) {
            let c = cookies(secret);
            let ports = c.haf_remote_ports(r, parent, l, n);
            for i in 0..n {
                let pp = ports[usize::from(i)];
                prop_assert!(pp != parent && !ports[..usize::from(i)].contains(&pp));
                let lp = c.haf_local_port(r, pp, l, parent);
                let isn = c.haf_isn(r, pp, l, lp, parent);
                let got = c.check_haf(r, pp, l, lp, isn.wrapping_add(1), n).expect("genuine probe answer");
                prop_assert_eq!(got, HafAnswer { parent_port: parent, probe: i });
                prop_assert_eq!(c.check_haf(r, pp, l, lp, isn.wrapping_add(2), n), None);
                prop_assert_eq!(c.check_haf(r, pp, l, lp.wrapping_add(1), isn.wrapping_add(1), n), None);
            }
        }
    }
}
