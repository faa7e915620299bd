//! The engine: what one worker does with every frame and every timer, gluing a port queue pair, the
//! neighbour logic, a flow shard and the handshakes.
//!
//! ```text
//!  command ring ──▶ Open / ZmapSynAck ──────────────────────────┐
//!  rx burst ──▶ wire::parse_frame ─┬─ ARP / ND ─▶ neighbor ─▶ reply ─────────────────────────┐
//!                                  ├─ TCP, another worker's host ─▶ that worker's inbox       │
//!  inbox ─────────────────────────▶├─ TCP, ours ─▶ checksum ─▶ flow shard ─▶ Transmit ─▶ Emitter ─▶ tx burst
//!                                  └─ other: counted                  │                (templates + probe bytes)
//!  clock ─▶ Tick (every ms) ─────────────────────────────────────────┤
//!                                                                     └▶ Finished ─▶ matcher (label) ─▶ result ring
//! ```
//! The flow layer decides; the engine only translates frames to segments and actions to frames. Records get
//! their handshake name and fingerprint here, on the worker's core, so the management thread only writes.
//!
//! Batches: a receive burst is taken whole ([`crate::port::RxQueue::recv_batch`]) and its segments reach the
//! flow shard in one call (`on_segments`), as do runs of ZMap SYN-ACK commands (`zmap_synacks`), so the
//! shard overlaps their table lookups; a neighbour frame or an Open first hands over what came before it, so
//! events keep their order. The probe bytes the shard's length query builds are kept for the transmit that
//! follows ([`probes::ProbeCache`]), and echo detection rebuilds a probe only for answers that could be it.

pub mod counters;
pub mod emit;
pub mod exception;
pub mod probes;
pub mod steer;
pub mod worker;

#[cfg(test)]
pub(crate) mod tests;

pub use counters::{EngineCounters, WorkerStats};
pub use exception::ExceptionPort;
pub use probes::Probes;
pub use steer::Owner;
pub use worker::{run_worker, Clock, Command, Control, SteppedWorker, WorkerLinks, WorkerReport, WorkerSetup};
