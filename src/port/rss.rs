//! Receive-side scaling as the NIC computes it: the Toeplitz hash of the packet's addresses under the port's key,
//! then the redirection table (RETA) picks the queue. Knowing both, the engine can tell which queue (so which
//! worker) a remote host's packets arrive on, and give that worker the host's flows.
//!
//! Devices hash either the source address alone (`RTE_ETH_RSS_L3_SRC_ONLY`) or source then destination; lzr
//! sends from a small set of fixed addresses, so either way the owner is a function of the remote address.

use std::net::IpAddr;

/// The default Toeplitz key of the Microsoft RSS specification, used by most NIC drivers and by lzr when it
/// programs a port (repeated when a device wants a longer key).
pub const DEFAULT_KEY: [u8; 40] = [
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
];

/// Returns a key of `len` bytes: [`DEFAULT_KEY`] repeated.
pub fn default_key(len: usize) -> Vec<u8> {
    DEFAULT_KEY.iter().copied().cycle().take(len).collect()
}

/// The Toeplitz hash of `input` under `key`. Key bits past the end of `key` count as zero.
pub fn toeplitz(key: &[u8], input: &[u8]) -> u32 {
    let key_bit = |i: usize| -> u32 {
        key.get(i / 8)
            .map_or(0, |b| u32::from((b >> (7 - i % 8)) & 1))
    };
    // The 32-bit window of the key that lines up with the current input bit.
    let mut window: u32 = (0..32).fold(0, |w, i| (w << 1) | key_bit(i));
    let mut hash = 0u32;
    for (byte_index, byte) in input.iter().enumerate() {
        for bit in 0..8 {
            if byte & (0x80 >> bit) != 0 {
                hash ^= window;
            }
            window = (window << 1) | key_bit(32 + byte_index * 8 + bit);
        }
    }
    hash
}

/// A port's RSS set-up, read back from the device after it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RssSteering {
    /// The Toeplitz key in use.
    pub key: Vec<u8>,
    /// Redirection table: entry `hash % len` is the queue.
    pub reta: Vec<u16>,
    /// True when the device hashes the source address only; false when it hashes source then destination.
    pub src_only: bool,
}

impl RssSteering {
    /// The hash the device computes for a packet from `src` to `dst` (both of the same family).
    pub fn hash(&self, src: IpAddr, dst: IpAddr) -> u32 {
        let mut input = [0u8; 32];
        let len = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                input[..4].copy_from_slice(&s.octets());
                input[4..8].copy_from_slice(&d.octets());
                if self.src_only {
                    4
                } else {
                    8
                }
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                input[..16].copy_from_slice(&s.octets());
                input[16..].copy_from_slice(&d.octets());
                if self.src_only {
                    16
                } else {
                    32
                }
            }
            // Mixed families never occur in one packet; hash the source alone.
            (IpAddr::V4(s), IpAddr::V6(_)) => {
                input[..4].copy_from_slice(&s.octets());
                4
            }
            (IpAddr::V6(s), IpAddr::V4(_)) => {
                input[..16].copy_from_slice(&s.octets());
                16
            }
        };
        toeplitz(&self.key, &input[..len])
    }

    /// The queue the device delivers a packet from `src` to `dst` on.
    pub fn queue_for(&self, src: IpAddr, dst: IpAddr) -> u16 {
        if self.reta.is_empty() {
            return 0;
        }
        let index = self.hash(src, dst) as usize % self.reta.len();
        self.reta.get(index).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // Vectors of the Microsoft RSS verification suite (IPv4 and IPv6, addresses only).
    #[test]
    fn toeplitz_matches_the_specification_vectors() {
        let cases = [
            ("66.9.149.187", "161.142.100.80", 0x323e_8fc2u32),
            ("199.92.111.2", "65.69.140.83", 0xd718_262a),
            ("24.19.198.95", "12.22.207.184", 0xd2d0_a5de),
            ("38.27.205.30", "209.142.163.6", 0x8298_9176),
            ("153.39.163.191", "202.188.127.2", 0x5d18_09c5),
            ("3ffe:2501:200:1fff::7", "3ffe:2501:200:3::1", 0x2cc1_8cd5),
        ];
        let rss = RssSteering {
            key: DEFAULT_KEY.to_vec(),
            reta: vec![0],
            src_only: false,
        };
        for (src, dst, want) in cases {
            assert_eq!(rss.hash(v4(src), v4(dst)), want, "{src} -> {dst}");
        }
    }

    #[test]
    fn src_only_ignores_the_destination() {
        let rss = RssSteering {
            key: default_key(52),
            reta: (0..128).map(|i| i % 4).collect(),
            src_only: true,
        };
        let src = v4("198.18.3.7");
        assert_eq!(
            rss.queue_for(src, v4("198.18.0.1")),
            rss.queue_for(src, v4("198.18.0.2"))
        );
        assert_eq!(
            rss.hash(src, v4("1.2.3.4")),
            toeplitz(&rss.key, &[198, 18, 3, 7])
        );
    }

    #[test]
    fn queues_follow_the_redirection_table() {
        let rss = RssSteering {
            key: DEFAULT_KEY.to_vec(),
            reta: vec![3, 1],
            src_only: false,
        };
        let (src, dst) = (v4("66.9.149.187"), v4("161.142.100.80"));
        // 0x323e8fc2 is even: entry 0.
        assert_eq!(rss.queue_for(src, dst), 3);
        let empty = RssSteering {
            reta: vec![],
            ..rss
        };
        assert_eq!(empty.queue_for(src, dst), 0);
    }

    #[test]
    fn default_key_repeats() {
        let k = default_key(52);
        assert_eq!(&k[..40], &DEFAULT_KEY[..]);
        assert_eq!(&k[40..], &DEFAULT_KEY[..12]);
    }
}
