//! Turns the flow layer's actions into frames: [`Transmit`]s become SYN / ACK(+PSH)+probe / RST frames written
//! straight into the port's buffers from the prebuilt templates, finished records are collected for labelling.

use std::cell::RefCell;
use std::net::IpAddr;

use crate::flow::{ActionSink, Payload, Transmit};
use crate::port::TxQueue;
use crate::record::Record;
use crate::wire::{AckSegment, Endpoints, FrameTemplate, MacAddr, TemplateConfig};

use super::counters::EngineCounters;
use super::probes::{ProbeCache, Probes};

/// Frame templates of one worker, one per source address in use (built on first use: ZMap's pipe may hand us
/// flows from any of its source addresses).
#[derive(Debug)]
pub struct Templates {
    mac: MacAddr,
    gateway: MacAddr,
    original_syn: bool,
    list: Vec<FrameTemplate>,
}

impl Templates {
    /// `original_syn`: SYNs without options, as the original sends them (default: with an MSS option).
    pub fn new(mac: MacAddr, gateway: MacAddr, original_syn: bool) -> Templates {
        Templates { mac, gateway, original_syn, list: Vec::with_capacity(2) }
    }

    #[inline]
    pub fn get(&mut self, src: IpAddr) -> &FrameTemplate {
        // Almost every worker sends from one address: that template is first (checked before any search).
        if self.list.first().is_some_and(|t| t.src_ip() == src) {
            return &self.list[0];
        }
        let pos = match self.list.iter().position(|t| t.src_ip() == src) {
            Some(pos) => pos,
            None => {
                let config =
                    if self.original_syn { TemplateConfig::original() } else { TemplateConfig::recommended(src) };
                self.list.push(FrameTemplate::new(self.mac, self.gateway, src, config));
                self.list.len() - 1
            }
        };
        &self.list[pos]
    }
}

/// The [`ActionSink`] a worker hands to its flow shard for one batch of events.
pub struct Emitter<'a, T: TxQueue> {
    pub tx: &'a mut T,
    pub templates: &'a mut Templates,
    pub probes: &'a Probes,
    /// Reused buffer for probe bytes (no allocation per frame once warm).
    pub scratch: &'a mut Vec<u8>,
    /// The probe built for the flow layer's length query just before it sends that probe.
    pub probe_cache: &'a RefCell<ProbeCache>,
    pub finished: &'a mut Vec<Record>,
    pub counters: &'a mut EngineCounters,
}

impl<T: TxQueue> ActionSink for Emitter<'_, T> {
    fn transmit(&mut self, t: Transmit) {
        let to = Endpoints { dst_ip: t.remote, src_port: t.local_port, dst_port: t.remote_port };
        let template = self.templates.get(t.local);
        let mut built = Ok(0);
        let queued = if t.flags.syn() {
            self.tx.push_frame(template.syn_len(), |buf| built = template.syn(buf, to, t.seq))
        } else if t.flags.rst() {
            self.tx.push_frame(template.rst_len(), |buf| built = template.rst(buf, to, t.seq))
        } else {
            let cache = self.probe_cache.try_borrow().ok();
            let cached = match (t.payload, &cache) {
                (Payload::Probe { handshake, seed }, Some(cache)) => cache.get(handshake, t.remote, t.remote_port, seed),
                _ => None,
            };
            let payload = match (cached, t.payload) {
                (Some(bytes), _) => bytes,
                (None, Payload::Probe { handshake, seed }) => {
                    self.scratch.clear();
                    self.probes.write(handshake, t.remote, t.remote_port, seed, self.scratch);
                    self.scratch.as_slice()
                }
                (None, _) => &[],
            };
            let seg = AckSegment { seq: t.seq, ack: t.ack, window: t.window, psh: t.flags.psh(), payload };
            self.tx.push_frame(template.ack_len(seg.payload.len()), |buf| built = template.ack(buf, to, &seg))
        };
        match (queued, built) {
            (true, Ok(_)) => self.counters.tx_segments += 1,
            // The length came from the same template, so a build error means a bug, not bad input: count it.
            (true, Err(_)) => self.counters.tx_build_errors += 1,
            (false, _) => self.counters.tx_refused += 1,
        }
    }

    fn finished(&mut self, record: Record) {
        self.finished.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_address_gets_its_own_template_once() {
        let mut templates = Templates::new(MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]), false);
        let a: IpAddr = "198.18.0.2".parse().unwrap();
        let b: IpAddr = "198.18.0.3".parse().unwrap();
        let v6: IpAddr = "2001:db8::2".parse().unwrap();
        for src in [a, b, a, v6, b, a, v6] {
            assert_eq!(templates.get(src).src_ip(), src);
        }
        assert_eq!(templates.list.len(), 3, "built on first use only");
        assert_eq!(templates.get(v6).config(), TemplateConfig::recommended(v6));
    }
}
