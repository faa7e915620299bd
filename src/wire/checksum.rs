//! The Internet checksum (RFC 1071), the TCP/ICMPv6 pseudo-header sums for IPv4 and IPv6, and incremental updates
//! (RFC 1624).
//!
//! A *partial sum* is a `u32` holding a one's-complement sum already folded to 16 bits. Partial sums of
//! even-length pieces combine with [`combine`] in any order; [`finish`] turns the total into the value stored in a
//! checksum field. Folding never maps a non-zero sum to zero, so combining folded pieces gives exactly the same
//! checksum as summing all the bytes at once (the property the frame templates rely on).

use std::net::{Ipv4Addr, Ipv6Addr};

/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of ICMPv6.
pub const PROTO_ICMPV6: u8 = 58;

/// End-around-carry fold of a wide accumulator (a sum of 16- and 32-bit words) to a 16-bit partial sum.
/// Non-zero input gives non-zero output (and the same value as folding 16 bits at a time until it fits).
/// Branch-free: two end-around-carry additions, 64 to 32 bits, then 32 to 16.
#[inline]
pub fn fold(acc: u64) -> u32 {
    // s + carry cannot overflow: when the addition carried, s is at most MAX - 1.
    let (s, carry) = (acc as u32).overflowing_add((acc >> 32) as u32);
    let a = s + u32::from(carry);
    let (s, carry) = (a as u16).overflowing_add((a >> 16) as u16);
    u32::from(s + u16::from(carry))
}

/// One's-complement sum of `data` in *native* byte order, as a 64-bit accumulator (not folded).
///
/// Hand-written: the TCP checksums (received segments, sent probes) were ~9% of the engine bench's instructions.
/// The sum is taken over 64-bit words with end-around carry (add + add-with-carry per 8 bytes, half the steps
/// of 32-bit words). RFC 1071 §2(B): the sum is byte-order independent, so summing native words and swapping
/// the folded result gives the big-endian sum.
#[inline]
pub(crate) fn sum_native(data: &[u8]) -> u64 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc = add_carry(acc, w);
    }
    // 0..7 bytes left. A 16-bit word may be added at any 16-bit-aligned position (2^16 = 1 mod 0xffff).
    let rest = chunks.remainder();
    let mut tail: u64 = 0;
    let mut at = 0;
    if let [a, b, c, d, ..] = *rest {
        tail += u64::from(u32::from_ne_bytes([a, b, c, d]));
        at = 4;
    }
    let rest = rest.get(at..).unwrap_or(&[]);
    if let [a, b, ..] = *rest {
        tail += u64::from(u16::from_ne_bytes([a, b]));
    }
    if rest.len() % 2 == 1 {
        if let Some(&last) = rest.last() {
            // The odd last byte is the high byte of a big-endian word padded with zero.
            tail += u64::from(u16::from_ne_bytes([last, 0]));
        }
    }
    add_carry(acc, tail)
}

/// One's-complement addition of two 64-bit words (end-around carry).
#[inline]
pub(crate) fn add_carry(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    s + u64::from(carry)
}

/// Folds a native-order accumulator of [`sum_native`] to a big-endian partial sum.
#[inline]
pub(crate) fn fold_native(acc: u64) -> u32 {
    u32::from(u16::from_be(fold(acc) as u16))
}

/// One's-complement sum of `data` taken as big-endian 16-bit words (an odd last byte is padded with zero).
#[inline]
pub fn sum(data: &[u8]) -> u32 {
    fold_native(sum_native(data))
}

/// True when `data`, its checksum field included, sums to all ones: [`verifies`]`(`[`sum`]`(data))` with one
/// fold (all ones is the same in either byte order).
#[inline]
pub fn data_verifies(data: &[u8]) -> bool {
    fold(sum_native(data)) == 0xffff
}

/// True when a TCP segment over IPv4 (checksum field included) verifies with its pseudo-header. The
/// pseudo-header is summed in native order with the segment, so the whole check folds once.
#[inline]
pub fn tcp_verifies_v4(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> bool {
    let Ok(len) = u16::try_from(segment.len()) else { return false };
    let pseudo = u64::from(u32::from_ne_bytes(src.octets()))
        + u64::from(u32::from_ne_bytes(dst.octets()))
        + u64::from(u16::from_ne_bytes([0, PROTO_TCP]))
        + u64::from(u16::from_ne_bytes(len.to_be_bytes()));
    fold(add_carry(sum_native(segment), pseudo)) == 0xffff
}

/// Partial sum of one 16-bit value.
#[inline]
pub const fn sum_u16(v: u16) -> u32 {
    v as u32
}

/// Partial sum of one 32-bit value (two 16-bit words).
#[inline]
pub fn sum_u32(v: u32) -> u32 {
    fold(u64::from(v >> 16) + u64::from(v & 0xffff))
}

/// Combines two partial sums.
#[inline]
pub fn combine(a: u32, b: u32) -> u32 {
    fold(u64::from(a) + u64::from(b))
}

/// The checksum field value for a total partial sum.
#[inline]
pub fn finish(total: u32) -> u16 {
    !(fold(u64::from(total)) as u16)
}

/// RFC 1071 checksum of `data` (what goes into an IPv4 header checksum field when `data` is the header with a zero
/// checksum field).
#[inline]
pub fn internet_checksum(data: &[u8]) -> u16 {
    finish(sum(data))
}

/// True when `data`, checksum field included, sums to all ones (the receiver's check).
#[inline]
pub fn verifies(total: u32) -> bool {
    fold(u64::from(total)) == 0xffff
}

/// Partial sum of the IPv4 pseudo-header (RFC 793 §3.1): addresses, zero, protocol, upper-layer length.
#[inline]
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u32 {
    let acc = u64::from(u32::from(src))
        + u64::from(u32::from(dst))
        + u64::from(protocol)
        + u64::from(length);
    fold(acc)
}

/// Partial sum of the IPv6 pseudo-header (RFC 8200 §8.1): addresses, 32-bit upper-layer length, next header.
#[inline]
pub fn pseudo_header_v6(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8, length: u32) -> u32 {
    let s = u128::from(*src);
    let d = u128::from(*dst);
    let words = [s >> 64, s & u128::from(u64::MAX), d >> 64, d & u128::from(u64::MAX)];
    let mut acc: u64 = 0;
    for w in words {
        // Each 64-bit half contributes its two 32-bit words; u64 cannot overflow with 8 u32 adds.
        acc += (w >> 32) as u64 + (w as u64 & 0xffff_ffff);
    }
    acc += u64::from(length >> 16) + u64::from(length & 0xffff) + u64::from(next_header);
    fold(acc)
}

/// TCP checksum of `segment` (header with a zero checksum field, then payload) over IPv4.
pub fn tcp_checksum_v4(src: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    // Callers guarantee a segment fits one IPv4 packet; a longer slice would be a bug, not external input.
    let len = u16::try_from(segment.len()).unwrap_or(u16::MAX);
    finish(combine(pseudo_header_v4(src, dst, PROTO_TCP, len), sum(segment)))
}

/// TCP checksum of `segment` over IPv6.
pub fn tcp_checksum_v6(src: &Ipv6Addr, dst: &Ipv6Addr, segment: &[u8]) -> u16 {
    let len = u32::try_from(segment.len()).unwrap_or(u32::MAX);
    finish(combine(pseudo_header_v6(src, dst, PROTO_TCP, len), sum(segment)))
}

/// ICMPv6 checksum of `message` (with a zero checksum field).
pub fn icmpv6_checksum(src: &Ipv6Addr, dst: &Ipv6Addr, message: &[u8]) -> u16 {
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    finish(combine(pseudo_header_v6(src, dst, PROTO_ICMPV6, len), sum(message)))
}

/// RFC 1624 eqn. 3: the checksum after one 16-bit word covered by it changes from `old` to `new`:
/// `HC' = ~(~HC + ~m + m')`.
#[inline]
pub fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    !(fold(u64::from(!checksum) + u64::from(!old) + u64::from(new)) as u16)
}

/// [`update_u16`] for a 32-bit field (e.g. a sequence number or an IPv4 address) that is 16-bit aligned.
#[inline]
pub fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let acc = u64::from(!checksum)
        + u64::from(!(old >> 16) & 0xffff)
        + u64::from(!old & 0xffff)
        + u64::from(new >> 16)
        + u64::from(new & 0xffff);
    !(fold(acc) as u16)
}

/// [`update_u16`] for a 16-bit-aligned run of bytes of even length (e.g. an IPv6 address) changing from `old` to
/// `new`. Returns `None` when the lengths differ or are odd.
pub fn update_bytes(checksum: u16, old: &[u8], new: &[u8]) -> Option<u16> {
    if old.len() != new.len() || old.len() % 2 != 0 {
        return None;
    }
    // ~m summed word by word equals ~(sum m) in one's complement, so subtract the old run's sum once.
    let acc = u64::from(!checksum) + u64::from(!(sum(old) as u16)) + u64::from(sum(new));
    Some(!(fold(acc) as u16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference: the textbook 16-bit-at-a-time loop, written independently of `sum`.
    fn naive(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        let mut i = 0;
        while i < data.len() {
            let hi = u32::from(data[i]) << 8;
            let lo = data.get(i + 1).map_or(0, |b| u32::from(*b));
            acc += hi | lo;
            acc = (acc & 0xffff) + (acc >> 16);
            i += 2;
        }
        !(acc as u16)
    }

    #[test]
    fn ipv4_header_known_answer() {
        // A classic worked example: 192.168.0.1 -> 192.168.0.199, UDP, total length 0x73, DF, TTL 64.
        let hdr = hex::decode("450000730000400040110000c0a80001c0a800c7").unwrap();
        assert_eq!(internet_checksum(&hdr), 0xb861);
        let mut with = hdr.clone();
        with[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert!(verifies(sum(&with)));
    }

    #[test]
    fn rfc1071_example_sum() {
        // RFC 1071 §3 numerical example: the words 0001 f203 f4f5 f6f7 sum (folded) to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_lengths_pad_with_zero() {
        assert_eq!(sum(&[0xab]), 0xab00);
        assert_eq!(sum(&[0x12, 0x34, 0xab]), 0x1234 + 0xab00);
        assert_eq!(internet_checksum(&[]), 0xffff);
    }

    #[test]
    fn pseudo_header_v6_matches_byte_sum() {
        let s: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let d: Ipv6Addr = "fe80::aa:bbff:fecc:ddee".parse().unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&s.octets());
        bytes.extend_from_slice(&d.octets());
        bytes.extend_from_slice(&70_000u32.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, PROTO_TCP]);
        assert_eq!(pseudo_header_v6(&s, &d, PROTO_TCP, 70_000), sum(&bytes));
    }

    #[test]
    fn pseudo_header_v4_matches_byte_sum() {
        let s = Ipv4Addr::new(198, 18, 0, 1);
        let d = Ipv4Addr::new(255, 255, 255, 254);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&s.octets());
        bytes.extend_from_slice(&d.octets());
        bytes.extend_from_slice(&[0, PROTO_TCP]);
        bytes.extend_from_slice(&1500u16.to_be_bytes());
        assert_eq!(pseudo_header_v4(s, d, PROTO_TCP, 1500), sum(&bytes));
    }

    /// Reference fold: the textbook loop.
    fn fold_loop(mut acc: u64) -> u32 {
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u32
    }

    #[test]
    fn fold_edges_match_the_loop() {
        for acc in [0, 1, 0xffff, 0x1_0000, 0x1_fffe, 0x2_fffd, 0xffff_ffff, 0x1_0000_0000, u64::MAX, u64::MAX - 1] {
            assert_eq!(fold(acc), fold_loop(acc), "{acc:#x}");
        }
    }

    #[test]
    fn carries_out_of_every_word_are_kept() {
        // All-ones words overflow the 64-bit accumulator on every add; the sum of n 0xffff words is 0xffff.
        for len in [8, 16, 1500, 65_535] {
            let data = vec![0xffu8; len];
            assert_eq!(sum(&data), naive_sum(&data), "len {len}");
        }
    }

    /// The folded big-endian word sum, written independently of `sum` (as `naive`, without the complement).
    fn naive_sum(data: &[u8]) -> u32 {
        u32::from(!naive(data))
    }

    proptest! {
        #[test]
        fn one_fold_checks_match_the_partial_sum_checks(
            mut data in proptest::collection::vec(any::<u8>(), 0..300),
            src in any::<u32>(),
            dst in any::<u32>(),
            fix in any::<bool>(),
        ) {
            let (s, d) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
            if fix && data.len() >= 18 {
                // Make it a valid segment: write its checksum at the TCP checksum offset.
                data[16..18].fill(0);
                let c = tcp_checksum_v4(s, d, &data);
                data[16..18].copy_from_slice(&c.to_be_bytes());
            }
            let len = u16::try_from(data.len()).unwrap();
            let slow = verifies(combine(pseudo_header_v4(s, d, PROTO_TCP, len), sum(&data)));
            prop_assert_eq!(tcp_verifies_v4(s, d, &data), slow);
            prop_assert!(!fix || data.len() < 18 || slow);
            prop_assert_eq!(data_verifies(&data), verifies(sum(&data)));
        }

        #[test]
        fn fold_matches_the_loop(acc in any::<u64>()) {
            prop_assert_eq!(fold(acc), fold_loop(acc));
        }

        #[test]
        fn sum_matches_naive_at_every_alignment(data in proptest::collection::vec(any::<u8>(), 0..200), skip in 0usize..8) {
            let skip = skip.min(data.len());
            prop_assert_eq!(sum(&data[skip..]), naive_sum(&data[skip..]));
        }

        #[test]
        fn sum_matches_naive(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            prop_assert_eq!(internet_checksum(&data), naive(&data));
        }

        #[test]
        fn combine_of_even_split_matches_whole(data in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..300) {
            let cut = (cut * 2).min(data.len() & !1);
            let (a, b) = data.split_at(cut);
            prop_assert_eq!(finish(combine(sum(a), sum(b))), internet_checksum(&data));
        }

        #[test]
        fn incremental_u16_matches_recompute(mut data in proptest::collection::vec(any::<u8>(), 2..200), at in 0usize..100, new in any::<u16>()) {
            let at = (at * 2) % (data.len() & !1);
            let before = internet_checksum(&data);
            let old = u16::from_be_bytes([data[at], data[at + 1]]);
            data[at..at + 2].copy_from_slice(&new.to_be_bytes());
            // Full recomputation can only give 0xffff for all-zero data; RFC 1624 has the same single exception.
            prop_assume!(data.iter().any(|b| *b != 0));
            prop_assert_eq!(update_u16(before, old, new), internet_checksum(&data));
        }

        #[test]
        fn incremental_u32_and_bytes_match_recompute(mut data in proptest::collection::vec(any::<u8>(), 16..200), at in 0usize..100, new in any::<u32>(), new16 in any::<[u8; 16]>()) {
            let at = (at * 2) % (((data.len() - 16) & !1) + 2);
            let before = internet_checksum(&data);
            let old = u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
            data[at..at + 4].copy_from_slice(&new.to_be_bytes());
            prop_assume!(data.iter().any(|b| *b != 0));
            let mid = update_u32(before, old, new);
            prop_assert_eq!(mid, internet_checksum(&data));
            let old16: [u8; 16] = data[at..at + 16].try_into().unwrap();
            data[at..at + 16].copy_from_slice(&new16);
            prop_assume!(data.iter().any(|b| *b != 0));
            prop_assert_eq!(update_bytes(mid, &old16, &new16), Some(internet_checksum(&data)));
        }
    }
}
