//! Counters of one worker beyond the flow layer's: frames in and out, drops by reason, hand-offs.
//! Plain integers on the worker's own core; published to the management thread through [`WorkerStats`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use crate::flow::FlowCounters;
use crate::wire::ParseError;

/// Frames dropped by the parser, one slot per [`ParseError`] reason (by name, so the list stays open).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParseDrops(pub Vec<(&'static str, u64)>);

impl ParseDrops {
    pub fn count(&mut self, e: ParseError) {
        let name = e.as_str();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => self.0.push((name, 1)),
        }
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, c)| c).sum()
    }

    pub fn merge(&mut self, other: &ParseDrops) {
        for &(name, c) in &other.0 {
            match self.0.iter_mut().find(|(n, _)| *n == name) {
                Some((_, mine)) => *mine += c,
                None => self.0.push((name, c)),
            }
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineCounters {
    /// Frames received on this worker's queue.
    pub rx_frames: u64,
    /// TCP segments given to the flow shard (own and handed over).
    pub rx_segments: u64,
    /// Frames the parser rejected, by reason.
    pub parse_drops: ParseDrops,
    /// TCP segments whose checksum was wrong (dropped).
    pub bad_tcp_checksum: u64,
    /// Frames that were neither TCP nor ARP/ND for us (other traffic on the wire; ignored).
    pub other_frames: u64,
    /// ARP / neighbour-discovery frames answered.
    pub neighbor_replies: u64,
    /// Frames received here but owned by another worker, passed on.
    pub handed_off: u64,
    /// Hand-offs dropped because the owner's inbox was full.
    pub handoff_full: u64,
    /// Frames received from other workers.
    pub handed_in: u64,
    /// Segments queued for sending.
    pub tx_segments: u64,
    /// Frames the port refused (no buffer or too long).
    pub tx_refused: u64,
    /// Frames whose template build failed (a bug if ever non-zero).
    pub tx_build_errors: u64,
    /// Targets (opens and ZMap SYN-ACKs) taken from the command ring.
    pub commands: u64,
    /// ZMap pipe mode: frames from ZMap's tap sent out of the NIC.
    pub zmap_out: u64,
    /// ZMap pipe mode: SYN-ACKs and RSTs passed back to ZMap.
    pub zmap_in: u64,
    /// ZMap pipe mode: answers not passed back (ring or tap full).
    pub zmap_lost: u64,
}

impl EngineCounters {
    pub fn merge(&mut self, o: &EngineCounters) {
        self.rx_frames += o.rx_frames;
        self.rx_segments += o.rx_segments;
        self.parse_drops.merge(&o.parse_drops);
        self.bad_tcp_checksum += o.bad_tcp_checksum;
        self.other_frames += o.other_frames;
        self.neighbor_replies += o.neighbor_replies;
        self.handed_off += o.handed_off;
        self.handoff_full += o.handoff_full;
        self.handed_in += o.handed_in;
        self.tx_segments += o.tx_segments;
        self.tx_refused += o.tx_refused;
        self.tx_build_errors += o.tx_build_errors;
        self.commands += o.commands;
        self.zmap_out += o.zmap_out;
        self.zmap_in += o.zmap_in;
        self.zmap_lost += o.zmap_lost;
    }
}

/// A worker's live figures for the status line, written by the worker now and then, read by anyone.
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub rx_frames: AtomicU64,
    pub tx_segments: AtomicU64,
    pub syns: AtomicU64,
    pub synacks: AtomicU64,
    pub records: AtomicU64,
    pub acked: AtomicU64,
    pub data: AtomicU64,
    pub drops: AtomicU64,
    pub active_flows: AtomicU64,
    /// No flow in progress and no command waiting (set by the worker each loop it finds itself idle).
    pub idle: AtomicBool,
}

impl WorkerStats {
    pub fn publish(&self, e: &EngineCounters, f: &FlowCounters, active: usize) {
        use crate::record::Outcome;
        self.rx_frames.store(e.rx_frames, Relaxed);
        self.tx_segments.store(e.tx_segments, Relaxed);
        self.syns.store(f.syns_opened + f.syns_sent, Relaxed);
        self.synacks.store(f.zmap_flows + f.cookie_flows, Relaxed);
        self.records.store(f.total_records(), Relaxed);
        self.acked.store(f.records(Outcome::AckedNoData) + f.records(Outcome::Data), Relaxed);
        self.data.store(f.records(Outcome::Data), Relaxed);
        let drops = e.parse_drops.total() + e.bad_tcp_checksum + e.handoff_full + e.tx_refused + f.table_full;
        self.drops.store(drops, Relaxed);
        self.active_flows.store(active as u64, Relaxed);
    }
}
