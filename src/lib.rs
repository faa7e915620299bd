//! lzr: LZR ("Laser", USENIX Security '21) re-implemented as a DPDK appliance.
//!
//! Layers, pure core first and I/O at the edge (see docs/architecture.md):
//! - [`wire`]: zero-copy frame views and builders (Ethernet, ARP, IPv4, IPv6, TCP), checksums, templates.
//! - [`handshakes`]: one module per protocol (probe bytes + fingerprint rule), the registry, the matcher.
//! - [`flow`]: the per-connection state machine (sans-IO), the flow table and the timer wheel.
//! - [`engine`]: one worker's loop gluing a port queue, a flow shard and the handshakes.
//! - [`port`]: the NIC behind one small interface (DPDK ethdev, or an in-memory pair for tests).
//! - [`input`], [`output`], [`config`]: targets in, records out, one validated campaign.
//! - [`record`]: the finished-flow record every layer agrees on.

pub mod cli;
pub mod appliance;
pub mod commands;
pub mod config;
pub mod engine;
pub mod flow;
pub mod handshakes;
pub mod input;
pub mod neighbor;
pub mod output;
pub mod port;
pub mod record;
pub mod sim;
pub mod wire;
