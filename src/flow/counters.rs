//! Counters of one flow shard. Every target ends in a record (counted under its outcome) or in one of the
//! counted drops below; the engine sums shards for the live status and the exit summary.

use crate::record::Outcome;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowCounters {
    /// Records emitted, by [`Outcome::index`].
    pub outcomes: [u64; Outcome::ALL.len()],
    /// Stateless SYNs sent by `open` (no state kept; their answers create state).
    pub syns_opened: u64,
    /// SYNs of later handshakes (stateful), first sends only.
    pub syns_sent: u64,
    /// SYN retransmissions of later handshakes.
    pub syn_retransmissions: u64,
    /// ACK + probe retransmissions (the PSH ones), in either wait stage.
    pub ack_retransmissions: u64,
    /// ZMap SYN-ACKs that opened a flow.
    pub zmap_flows: u64,
    /// Answers (SYN-ACK, zero-window SYN-ACK, RST+ACK) to our stateless SYNs whose cookie checked out; the
    /// stateless SYNs without one are `syns_opened - syns_answered` (hosts that stayed silent, or answers lost).
    pub syns_answered: u64,
    /// SYN-ACKs to our stateless SYNs whose cookie checked out and that opened a flow.
    pub cookie_flows: u64,
    /// `open` or `zmap_synack` for a target that already has a flow or tombstone (dropped).
    pub duplicate_targets: u64,
    /// Flows (or tombstones) refused because the table was full (the target is dropped).
    pub table_full: u64,
    /// SYN-ACKs and RST+ACKs with no flow whose cookie failed: stray, forged or too old (dropped).
    pub stray_synacks: u64,
    /// Other segments with no flow (dropped).
    pub stray_segments: u64,
    /// Segments for a live flow that failed verification: wrong port, sequence or acknowledgment (dropped).
    pub rejected_segments: u64,
    /// Segments for a finished flow (tombstone or a record held for the HyperACKtive decision) (dropped).
    pub late_segments: u64,
    /// Retransmitted SYN-ACKs seen on a flow we had already ACKed.
    pub synack_retransmissions: u64,
    /// Timers that fired for a flow that had moved on (stale generation) or was gone.
    pub stale_timers: u64,
    /// HyperACKtive probe SYNs sent.
    pub haf_probes_sent: u64,
    /// Probe SYN-ACKs counted for a parent.
    pub haf_synacks: u64,
    /// Probe RSTs counted for a parent.
    pub haf_rsts: u64,
    /// Probe answers that came after the parent's decision or repeated an earlier answer.
    pub haf_ignored: u64,
    /// Force-all: final data-less records not written because an earlier handshake returned data.
    pub force_all_suppressed: u64,
    /// Records whose data hit the cap.
    pub data_truncated: u64,
    /// Stateless answers (closed, zero window) recorded without a tombstone because the table was full.
    pub tombstones_refused: u64,
}

impl FlowCounters {
    pub fn records(&self, outcome: Outcome) -> u64 {
        self.outcomes[outcome.index()]
    }

    pub fn total_records(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Stateless SYNs that no answer came back for: silent hosts (filtered, or nobody there) and lost answers.
    pub fn syns_unanswered(&self) -> u64 {
        self.syns_opened.saturating_sub(self.syns_answered)
    }

    /// Adds another shard's counters into this one.
    pub fn merge(&mut self, other: &FlowCounters) {
        for (a, b) in self.outcomes.iter_mut().zip(other.outcomes) {
            *a += b;
        }
        let FlowCounters {
            outcomes: _,
            syns_opened,
            syns_sent,
            syn_retransmissions,
            ack_retransmissions,
            zmap_flows,
            syns_answered,
            cookie_flows,
            duplicate_targets,
            table_full,
            stray_synacks,
            stray_segments,
            rejected_segments,
            late_segments,
            synack_retransmissions,
            stale_timers,
            haf_probes_sent,
            haf_synacks,
            haf_rsts,
            haf_ignored,
            force_all_suppressed,
            data_truncated,
            tombstones_refused,
        } = other;
        self.syns_opened += syns_opened;
        self.syns_sent += syns_sent;
        self.syn_retransmissions += syn_retransmissions;
        self.ack_retransmissions += ack_retransmissions;
        self.zmap_flows += zmap_flows;
        self.syns_answered += syns_answered;
        self.cookie_flows += cookie_flows;
        self.duplicate_targets += duplicate_targets;
        self.table_full += table_full;
        self.stray_synacks += stray_synacks;
        self.stray_segments += stray_segments;
        self.rejected_segments += rejected_segments;
        self.late_segments += late_segments;
        self.synack_retransmissions += synack_retransmissions;
        self.stale_timers += stale_timers;
        self.haf_probes_sent += haf_probes_sent;
        self.haf_synacks += haf_synacks;
        self.haf_rsts += haf_rsts;
        self.haf_ignored += haf_ignored;
        self.force_all_suppressed += force_all_suppressed;
        self.data_truncated += data_truncated;
        self.tombstones_refused += tombstones_refused;
    }
}
