//! The state of one flow (one remote address and port) and the record slab that keeps response data out of it.

use std::net::IpAddr;

use crate::record::{Record, Stage};
use crate::wire::TcpFlags;

use super::table::{FlowKey, Keyed, Place};

/// Where a flow stands. See the diagram in the module docs of [`crate::flow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// A later handshake's SYN is out; waiting for its SYN-ACK (stage `sa`).
    SynSent,
    /// Our ACK (with the probe, unless push-data-only) is out; waiting for the host to acknowledge it (`ack`).
    AckSent,
    /// The host acknowledged what we sent; waiting for its data (`data`).
    Acked,
    /// Data arrived in this receive burst; in-order continuations are appended until the burst ends.
    Collecting,
    /// Finished; its record waits for the HyperACKtive decision.
    Held,
    /// Finished and recorded; a tombstone that swallows late packets until its timer removes it.
    Lingering,
}

impl Phase {
    /// The record stage of a live phase.
    pub fn stage(self) -> Option<Stage> {
        match self {
            Phase::SynSent => Some(Stage::SynAck),
            Phase::AckSent => Some(Stage::Ack),
            Phase::Acked | Phase::Collecting => Some(Stage::Data),
            Phase::Held | Phase::Lingering => None,
        }
    }
}

/// HyperACKtive filtering status of a parent flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Haf {
    /// No probes sent (HAF off, or the flow never left its first handshake).
    Off,
    /// Probes out; the window is open and neither outcome is settled.
    Pending,
    /// Not an ACKing firewall (too few SYN-ACKs, or the window closed).
    Cleared,
    /// Labelled an ACKing firewall.
    Labelled,
}

/// The last packet received that the record would show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastPacket {
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub flags: TcpFlags,
    pub ttl: u8,
    pub at_ns: u64,
}

/// Bits of [`FlowState::bits`].
pub mod bits {
    /// Some non-SYN segment with ACK was accepted (the record's `acked`).
    pub const HOST_ACKED: u8 = 1 << 0;
    /// In some attempt the host acknowledged every byte of a non-empty probe.
    pub const DATA_ACKED_EVER: u8 = 1 << 1;
    /// The host acknowledged our whole non-empty probe in the current attempt.
    pub const DATA_ACKED: u8 = 1 << 2;
    /// The host retransmitted its SYN-ACK in the current attempt.
    pub const SYNACK_RETX: u8 = 1 << 3;
    /// Some attempt returned data (force-all suppresses the final data-less record then).
    pub const DATA_SEEN: u8 = 1 << 4;
    /// The data being collected hit the cap (counted once).
    pub const TRUNCATED: u8 = 1 << 5;
    /// An attempt whose ACK carried no data completed the handshake without the host retransmitting its
    /// SYN-ACK: our ACKs reach the host, so a SYN-ACK retransmitted later answers a dropped *data* segment.
    pub const PURE_ACK_THROUGH: u8 = 1 << 6;
    /// Attempt-scoped bits, cleared when the next handshake starts.
    pub const PER_ATTEMPT: u8 = DATA_ACKED | SYNACK_RETX | TRUNCATED;
}

/// Marker for "no record in the slab".
pub const NO_RECORD: u32 = u32::MAX;

/// One flow. Response data lives in the [`RecordSlab`], never here, so the size stays fixed (checked below).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowState {
    pub remote: IpAddr,
    pub local: IpAddr,
    pub remote_port: u16,
    /// Our port of the current attempt.
    pub local_port: u16,
    pub phase: Phase,
    /// Index of the current handshake.
    pub handshake: u8,
    /// Retransmissions done in the current stage.
    pub counter: u8,
    pub bits: u8,
    /// Handshakes this target's plan has (the plan may depend on its port).
    pub handshakes: u8,
    pub haf: Haf,
    /// Probe indices answered with a SYN-ACK / with an RST.
    pub haf_yes: u16,
    pub haf_no: u16,
    /// Our ISN of the current attempt.
    pub isn: u32,
    /// The host's next sequence number (its ISN + 1, then past any data taken).
    pub rcv_nxt: u32,
    /// Highest acknowledgment the host sent in this attempt (starts at isn + 1); our RSTs use it as seq.
    pub snd_acked: u32,
    /// Length of this attempt's probe, and how much of it has gone out (0 until sent).
    pub probe_len: u32,
    pub sent_len: u32,
    pub last: LastPacket,
    /// Slab index of the record being collected or held, or [`NO_RECORD`].
    pub record: u32,
    /// Where the table keeps this flow (entry number: names its timer; hash bits: removal needs no rehash).
    /// Written by the table on insert.
    pub place: Place,
    /// When the HyperACKtive window closes (ms).
    pub haf_deadline_ms: u64,
}

/// The flow state is fixed-size and small: one cache line and a bit on x86-64 (112 bytes; the table's entry
/// array stores `Option<FlowState>` at the same size, the phase byte's niche marks free entries).
pub const FLOW_STATE_BYTES: usize = std::mem::size_of::<FlowState>();
const _: () = assert!(std::mem::size_of::<FlowState>() <= 128);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<FlowState>() == 112);
const _: () = assert!(std::mem::size_of::<Option<FlowState>>() == std::mem::size_of::<FlowState>());

impl Keyed for FlowState {
    fn key(&self) -> FlowKey {
        FlowKey { addr: self.remote, port: self.remote_port }
    }
    fn place(&self) -> Place {
        self.place
    }
    fn set_place(&mut self, place: Place) {
        self.place = place;
    }
}

impl FlowState {
    pub fn has(&self, bit: u8) -> bool {
        self.bits & bit != 0
    }

    /// Our next sequence number: past the ISN and whatever of the probe went out.
    pub fn snd_nxt(&self) -> u32 {
        self.isn.wrapping_add(1).wrapping_add(self.sent_len)
    }

    /// A record of this flow showing its last received packet.
    pub fn record(&self, outcome: crate::record::Outcome, stage: Option<Stage>) -> Record {
        Record {
            saddr: self.remote,
            daddr: self.local,
            sport: self.remote_port,
            dport: self.local_port,
            seqnum: self.last.seq,
            acknum: self.last.ack,
            window: self.last.window,
            ttl: self.last.ttl,
            counter: self.counter,
            flags: self.last.flags,
            acked: self.has(bits::HOST_ACKED),
            handshake_num: self.handshake,
            handshake: "",
            stage,
            data: Vec::new(),
            fingerprint: std::borrow::Cow::Borrowed(""),
            acking_firewall: false,
            outcome,
            timestamp_ns: self.last.at_ns,
        }
    }
}

/// Records under construction (data being collected) or held for the HyperACKtive decision, outside the
/// fixed-size flow state. Slots are reused; the slab never holds more than one record per flow.
#[derive(Default)]
pub struct RecordSlab {
    items: Vec<Option<Record>>,
    free: Vec<u32>,
}

impl RecordSlab {
    pub fn insert(&mut self, record: Record) -> u32 {
        match self.free.pop() {
            Some(i) => {
                if let Some(item) = self.items.get_mut(i as usize) {
                    *item = Some(record);
                }
                i
            }
            None => {
                self.items.push(Some(record));
                (self.items.len() - 1) as u32
            }
        }
    }

    pub fn get_mut(&mut self, index: u32) -> Option<&mut Record> {
        self.items.get_mut(index as usize).and_then(Option::as_mut)
    }

    pub fn take(&mut self, index: u32) -> Option<Record> {
        let taken = self.items.get_mut(index as usize)?.take();
        if taken.is_some() {
            self.free.push(index);
        }
        taken
    }

    /// Bytes held: the slots and the data of the records in them.
    pub fn bytes(&self) -> usize {
        let data: usize = self.items.iter().flatten().map(|r| r.data.capacity()).sum();
        self.items.capacity() * std::mem::size_of::<Option<Record>>() + self.free.capacity() * std::mem::size_of::<u32>() + data
    }

    /// Records currently stored.
    pub fn len(&self) -> usize {
        self.items.len() - self.free.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
