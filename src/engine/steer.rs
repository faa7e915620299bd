//! Which worker owns a remote host. Every flow to one host (its handshakes in turn, its HyperACKtive probes)
//! lives on one worker, so ownership is a function of the remote address alone and is computable from any
//! packet of the flow and from any target before its SYN goes out.
//!
//! Where the device hashes the source address into its queues (RSS), the owner is the queue the device delivers
//! the host's packets on, and no packet ever changes worker. Otherwise (af_packet, tap, memif) packets land on
//! arbitrary queues: the owner is a keyed hash of the address and the receiving worker hands misdelivered
//! frames to it over that worker's inbox ring ([`crate::engine::WorkerLinks::inboxes`]).

use std::net::IpAddr;

use crate::port::{RssSteering, Steering};

/// Owner computation shared by the management thread and every worker (cheap to clone).
#[derive(Clone, Debug)]
pub enum Owner {
    /// Hardware steering: the owner is the queue the device picks for (remote, our address).
    Rss { rss: RssSteering, workers: u16 },
    /// Software steering: a keyed hash of the remote address.
    Hash { hasher: ahash::RandomState, workers: u16 },
}

impl Owner {
    /// `workers` is the number of queue pairs (one worker each).
    pub fn new(steering: &Steering, workers: u16, seed: [u64; 2]) -> Owner {
        let workers = workers.max(1);
        match steering {
            Steering::Rss(rss) if rss.reta.iter().all(|&q| q < workers) => Owner::Rss { rss: rss.clone(), workers },
            _ => Owner::Hash { hasher: ahash::RandomState::with_seeds(seed[0], seed[1], 0x6c7a72, 0x6f776e), workers },
        }
    }

    /// True when hardware delivers every packet to its owner.
    pub fn is_hardware(&self) -> bool {
        matches!(self, Owner::Rss { .. })
    }

    /// The worker that owns flows to `remote`; `local` is our address (RSS may hash it too).
    pub fn of(&self, remote: IpAddr, local: IpAddr) -> usize {
        match self {
            Owner::Rss { rss, workers } => usize::from(rss.queue_for(remote, local) % workers),
            Owner::Hash { hasher, workers } => {
                if *workers == 1 {
                    return 0;
                }
                let h = match remote {
                    IpAddr::V4(a) => hasher.hash_one(u32::from(a)),
                    IpAddr::V6(a) => hasher.hash_one(u128::from(a)),
                };
                (h % u64::from(*workers)) as usize
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_owner_is_stable_and_spreads() {
        let owner = Owner::new(&Steering::None, 4, [1, 2]);
        let local: IpAddr = "198.18.0.2".parse().unwrap();
        let mut seen = [0u32; 4];
        for i in 0..4000u32 {
            let remote = IpAddr::V4((0xc612_0000 + i).into());
            let o = owner.of(remote, local);
            assert_eq!(o, owner.of(remote, "198.18.0.3".parse().unwrap()), "owner ignores our address");
            seen[o] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
    }

    #[test]
    fn rss_owner_is_the_delivering_queue() {
        let rss = RssSteering { key: crate::port::rss::default_key(40), reta: vec![0, 1, 0, 1], src_only: true };
        let owner = Owner::new(&Steering::Rss(rss.clone()), 2, [0, 0]);
        assert!(owner.is_hardware());
        let local: IpAddr = "198.18.0.2".parse().unwrap();
        for i in 0..100u32 {
            let remote = IpAddr::V4((0xc612_0100 + i).into());
            assert_eq!(owner.of(remote, local), usize::from(rss.queue_for(remote, local)));
        }
    }
}
