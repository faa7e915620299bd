//! The per-connection state machine of lzr, sans-IO: the flow table, the timer wheel and the stateless SYN
//! cookies of one worker ("shard").
//!
//! # Shape
//!
//! [`FlowShard::handle`] is one function of (shard state, [`Event`], now) that writes actions into a
//! caller-provided [`ActionSink`]: frames to send ([`Transmit`]) and finished records ([`Record`], fingerprint
//! and handshake name left for the engine to fill). No frame, no DPDK type and no allocation per packet:
//! the engine turns frames into [`Segment`]s and [`Transmit`]s back into frames, writing probe bytes with
//! the handshakes registry from `(handshake, seed)`. Timers are in milliseconds on a wheel; `now` is passed
//! in nanoseconds since the Unix epoch (the engine's monotonic clock offset to wall time).
//!
//! # States of one flow (one remote address and port)
//!
//! ```text
//!  open() ── SYN (cookie ISN + port; no state) ──┐
//!                                                │ answer with a valid, fresh cookie:
//!                                                ├─ RST+ACK ───────────────▶ record Closed ─────────┐
//!                                                ├─ SYN-ACK, window 0 ─────▶ record ZeroWindow ──────┤
//!                                                │                                                  ▼
//!  zmap_synack() ─ window 0: record ZeroWindow   │ SYN-ACK                                      Lingering
//!       │ (no state)                             ▼                                    (tombstone; swallows late
//!       └──────────────────────────────▶ ┌──────────────┐ ◀─── SYN-ACK ── SynSent      packets; removed after the
//!                                        │   AckSent    │                  │ ▲         answer horizon)
//!   sent: ACK + probe, no PSH            │   (`ack`)    │                  │ │ timer t: re-SYN (rn times)
//!   timer rt: ACK|PSH + same probe at    └──────────────┘                  │ └──────────────┘
//!   the same seq (rn times), then t      │ │ │ │      │                    ├ t, retries spent ── NoSynAck ─▶ E
//!   retransmitted SYN-ACK: note it       │ │ │ │      │                    ├ RST+ACK ─────────── Closed ───▶ E
//!                                        │ │ │ │      │                    └ SYN-ACK, window 0 ─ ZeroWindow ▶ E
//!   timer, retries spent ────────────────┘ │ │ │      │ data at rcv_nxt
//!     ─▶ E (SynAckRetransmitted if the     │ │ │      ▼
//!        SYN-ACK came again, DataNotAcked  │ │ │  Collecting ── end of the receive burst ──▶ E (Data)
//!        if a probe went out, else         │ │ │      ▲          (in-order continuations of the same
//!        AckedNoData)                      │ │ │      │           burst are appended, up to the data cap)
//!   RST ─▶ E (RstAfterHandshake) ──────────┘ │ │      │ data at rcv_nxt
//!   FIN ─▶ E (Fin) ──────────────────────────┘ │  ┌──────────────┐
//!   ACK of all we sent ────────────────────────┴▶ │    Acked     │ timer t: ACK|PSH + probe again at
//!                                                 │   (`data`)   │ the original seq (rn times), then
//!                                                 └──────────────┘ ─▶ E (AckedNoData)
//!                                            RST ─▶ E (RstAfterHandshake), FIN ─▶ E (Fin)
//!
//!  E = end of the attempt (`end_attempt`): send RST unless the host reset or never connected; then
//!    terminal  if: it was the last handshake; or the outcome is Data / NoSynAck / Closed (unless force-all);
//!              or ZeroWindow; or stop-when-unacked and a probe went out that the host never acknowledged
//!              in any attempt (the paper's "no service" rule);
//!      ─▶ HyperACKtive decision pending? ─▶ Held (record kept until decided or the window closes)
//!      ─▶ otherwise write the record (force-all: not if an earlier attempt had data) ─▶ Lingering
//!    otherwise (force-all writes a Data record first): next handshake from our port + 1 with a new ISN
//!      ─▶ SynSent; leaving handshake 0 also sends the N HyperACKtive probe SYNs.
//! ```
//!
//! Outcome details: an RST without data is `RstAfterHandshake` whether or not it acknowledges our probe (the
//! record's `ACKed` tells); a retransmitted SYN-ACK after our probe is `DataNotAcked` when an earlier
//! data-less ACK of ours got through (a middlebox drops segments with payload), else `SynAckRetransmitted`
//! (our ACKs never arrive). The number of handshakes is per flow: a port-aware plan gives each port its own
//! list ([`ProbeLengths::handshake_count`]).
//!
//! HyperACKtive filtering: the N probes go to distinct random ephemeral ports of the host, with cookie ISNs
//! that name the parent's port, so no per-probe state exists. Each probe SYN-ACK (or RST) sets a bit in
//! the parent; the host is labelled an ACKing firewall once `ceil(threshold * N)` SYN-ACKs arrived, checked on
//! every probe answer. A parent that finishes while the decision is open is `Held`, so the result does not
//! depend on whether its own reply or the probes' replies come first; the window closes `t` after the
//! probes went out. A label ends the parent at once (RST if connected) with an `AckingFirewall` record.
//!
//! Verification of a segment for a live flow: our port and address must be the current attempt's; the
//! sequence number must be the host's next one (bare segments may be one below); an ACK must fall between
//! our ISN + 1 and our last byte sent (partial ACKs are accepted; "acknowledged" means all of it).
//! Everything else is a counted drop. All sequence arithmetic wraps at 2^32 ([`seq`]).
//!
//! Response data: the first data segment ends the flow, but the flow is finished only at the end of the
//! receive burst ([`Event::EndOfBurst`], or the next tick): in-order data segments of the same burst are
//! appended up to `data_cap`. So the record holds exactly what the host had sent back-to-back with its first
//! segment, and the flow never waits for more. Data lives in a slab outside the fixed-size state.
//!
//! Memory: [`FlowState`] is 112 bytes on x86-64 (asserted at compile time, see [`state::FLOW_STATE_BYTES`]).
//! The table ([`table`]) keeps flows in a dense entry array (`Option<FlowState>`, the same 112 bytes,
//! grown on demand up to the configured capacity) behind an index of 8-byte slot words, a power of two of
//! at least 1.5 x the capacity (12 to 24 bytes per flow of capacity: 16 at the default 2^20). Timers cost
//! 4 bytes per entry (its generation) plus 16 per armed timer, stale ones included until they fire (about
//! 2 per flow on the port-80 mix). So a million flows hold about 112 + 16 + 4 + 36 = 168 MB (the flow
//! bench prints the measured figure per part: 161-168 MB on the port-80 and 27017 mixes). Only hosts that answered have state; a finished flow
//! lingers as a tombstone for the answer horizon (about `answer_window_ms` + 2 s) so late answers to its
//! stateless SYN cannot open a second flow. Self-opened SYNs are not retransmitted (there is no state to
//! do it with); an unanswered one leaves no record, only the count of SYNs opened.
//!
//! # Cost per segment
//!
//! The flow layer's budget is a share of the engine's per-packet time (the flow bench prints both). With
//! the table in memory far larger than the caches, what costs is cache misses, so the common paths are
//! laid out to touch few lines: a lookup reads one index line and the flow, which its handler then works
//! on in place (the shard is the table plus a `Machine` holding everything else, so a handler borrows both
//! and no flow is copied in and out); timers name flows by entry number and check staleness in a
//! 4-byte-per-flow array, never in the flow or the index; timers of one delay live in a FIFO lane
//! (sequential reads and writes); the end of a receive burst visits only the flows that got data in it.
//! Where a batch is at hand ([`FlowShard::on_segments`], [`FlowShard::zmap_synacks`], the timers due in one
//! tick), the lookups of a group are started together with prefetches, so their misses overlap instead of
//! adding up. Keyed hashing is kept to one SipHash per self-opened SYN and one per answer checked
//! ([`cookie`]); the probe seed of an attempt is a cheap keyed mix, not a MAC.

pub mod config;
pub mod cookie;
pub mod counters;
pub mod seq;
pub mod shard;
pub mod state;
pub mod table;
pub mod timer;

#[cfg(test)]
mod tests;

use std::net::IpAddr;

use crate::record::Record;
use crate::wire::TcpFlags;

pub use config::{FlowConfig, FlowConfigError};
pub use counters::FlowCounters;
pub use shard::{FlowMemory, FlowShard};
pub use state::FlowState;
pub use table::FlowKey;

/// A received TCP segment, in the received orientation: `remote` sent it to our `local`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub remote: IpAddr,
    pub remote_port: u16,
    pub local: IpAddr,
    pub local_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub flags: TcpFlags,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    pub payload: &'a [u8],
}

/// A target for a SYN the appliance opens itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub remote: IpAddr,
    pub remote_port: u16,
    /// Our source address for this target.
    pub local: IpAddr,
}

/// The SYN-ACK ZMap received (reference §1.1): `remote` = ZMap's `saddr`, `local` = `daddr`,
/// `remote_port` = `sport`, `local_port` = `dport`, `seq` = `seqnum`, `ack` = `acknum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynAckFields {
    pub remote: IpAddr,
    pub remote_port: u16,
    pub local: IpAddr,
    pub local_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    /// 0 when ZMap did not give it.
    pub ttl: u8,
}

/// What a frame carries after its TCP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    None,
    /// The probe of handshake `handshake`, built with `seed` (the same seed for every retransmission of an
    /// attempt, so the bytes are identical); its length is what [`ProbeLengths::probe_len`] said.
    Probe { handshake: u8, seed: u64 },
}

/// A frame to send, in our orientation: from `local:local_port` to `remote:remote_port`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub remote: IpAddr,
    pub remote_port: u16,
    pub local: IpAddr,
    pub local_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub payload: Payload,
}

/// One output of the flow layer.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Transmit(Transmit),
    /// A finished flow. `fingerprint` is empty and `handshake` is `""`: the engine fills both from
    /// `handshake_num` and `data`.
    Finished(Record),
}

/// Where the flow layer writes its actions (the engine's TX batch and result ring, or a `Vec` in tests).
pub trait ActionSink {
    fn transmit(&mut self, frame: Transmit);
    fn finished(&mut self, record: Record);
}

impl ActionSink for Vec<Action> {
    fn transmit(&mut self, frame: Transmit) {
        self.push(Action::Transmit(frame));
    }
    fn finished(&mut self, record: Record) {
        self.push(Action::Finished(record));
    }
}

/// Probe lengths, so sequence numbers can be computed without the bytes. Must be deterministic for
/// the same arguments.
pub trait ProbeLengths {
    fn probe_len(&self, handshake: u8, remote: IpAddr, remote_port: u16, seed: u64) -> usize;

    /// Handshakes to try on a target on `remote_port`, when the plan depends on the port (a port-aware plan);
    /// `None`: [`FlowConfig::handshakes`] for every port.
    fn handshake_count(&self, remote_port: u16) -> Option<u8> {
        let _ = remote_port;
        None
    }
}

impl<F: Fn(u8, IpAddr, u16, u64) -> usize> ProbeLengths for F {
    fn probe_len(&self, handshake: u8, remote: IpAddr, remote_port: u16, seed: u64) -> usize {
        self(handshake, remote, remote_port, seed)
    }
}

/// The inputs of [`FlowShard::handle`].
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// Send a stateless SYN to this target (handshake 0).
    Open(Target),
    /// Continue a handshake ZMap opened.
    ZmapSynAck(SynAckFields),
    /// A received segment.
    Segment(Segment<'a>),
    /// The current receive burst is over (finishes flows that got data in it).
    EndOfBurst,
    /// Time passed: fire due timers (also ends the burst).
    Tick,
    /// Shutdown: end every flow now with its record.
    ExpireAll,
}
