//! The handshake plan of a campaign as a worker uses it: for a target's port, which module handshake index `i`
//! means, how long its probe is (the flow layer needs it for sequence numbers), the probe bytes the emitter
//! writes, and the matcher whose preference list breaks fingerprint ties for that port.
//!
//! A plan is either one list for every port (`-handshakes`, the paper's presets) or a port-aware one (the
//! port's assigned protocol first). Lookups are O(1): a dense table maps each port to one of the few distinct
//! lists.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::config::HandshakePlan;
use crate::flow::ProbeLengths;
use crate::handshakes::{matcher::MatcherOptions, registry, Handshake, HandshakeList, Matcher, ProbeContext};

#[derive(Clone, Debug)]
struct PortPlan {
    list: HandshakeList,
    matcher: Matcher,
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
        Probes { plans: vec![PortPlan { list, matcher }], by_port: Box::new([]) }
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
                    plans.push(PortPlan { list, matcher });
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
    use crate::config::{PortTable, HANDSHAKE_NAMES};

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
    fn config_indices_are_registry_indices() {
        let names: Vec<&str> = registry::all().iter().map(|h| h.name()).collect();
        assert_eq!(names, HANDSHAKE_NAMES);
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
