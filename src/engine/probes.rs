//! The handshake plan of a campaign as the worker uses it: which module handshake index `i` means, the probe
//! lengths the flow layer needs for sequence numbers, and the probe bytes the emitter writes.

use std::net::IpAddr;

use crate::flow::ProbeLengths;
use crate::handshakes::{HandshakeList, ProbeContext};

/// An ordered handshake list (index `i` of a flow is entry `i`).
#[derive(Clone, Debug)]
pub struct Probes {
    list: HandshakeList,
}

impl Probes {
    pub fn new(list: HandshakeList) -> Probes {
        Probes { list }
    }

    pub fn list(&self) -> &HandshakeList {
        &self.list
    }

    /// Name of handshake `index` (`""` when out of range, which the flow layer never produces).
    pub fn name(&self, index: u8) -> &'static str {
        self.list.get(usize::from(index)).map_or("", |h| h.name())
    }

    /// Appends the probe of handshake `index` for the target to `out`; nothing when out of range.
    pub fn write(&self, index: u8, remote: IpAddr, remote_port: u16, seed: u64, out: &mut Vec<u8>) {
        if let Some(h) = self.list.get(usize::from(index)) {
            h.write_probe(&ProbeContext { dst: remote, dst_port: remote_port, seed }, out);
        }
    }
}

impl ProbeLengths for Probes {
    fn probe_len(&self, handshake: u8, remote: IpAddr, remote_port: u16, seed: u64) -> usize {
        self.list
            .get(usize::from(handshake))
            .map_or(0, |h| h.probe_len(&ProbeContext { dst: remote, dst_port: remote_port, seed }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_agree_with_written_bytes() {
        let probes = Probes::new(HandshakeList::parse("wait,http,tls,dns").unwrap());
        let dst: IpAddr = "198.18.1.1".parse().unwrap();
        for i in 0..4u8 {
            let mut out = Vec::new();
            probes.write(i, dst, 80, 7, &mut out);
            assert_eq!(out.len(), probes.probe_len(i, dst, 80, 7), "handshake {}", probes.name(i));
        }
        assert_eq!(probes.name(1), "http");
        assert_eq!(probes.probe_len(9, dst, 80, 7), 0);
    }
}
