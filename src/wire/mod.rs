//! Zero-copy views over frame bytes and builders for the frames lzr sends.
//!
//! Shaped like smoltcp's `wire`: each protocol has a *view* (`XxxPacket<T: AsRef<[u8]>>`) whose `new_checked`
//! validates every length once so that its accessors cannot panic, setters when `T: AsMut<[u8]>`, and a plain
//! *repr* struct for what lzr emits. On top of those:
//! - [`parse_frame`] classifies a received frame in one pass (TCP segment / ARP / neighbour discovery / other),
//!   with one [`ParseError`] variant per drop reason;
//! - [`FrameTemplate`] prebuilds lzr's SYN, ACK(+PSH)+payload and RST frames and fills them per flow with
//!   incremental checksums;
//! - [`ArpRepr::build_frame`] and [`NdpFrame::build`] write the neighbour-resolution frames.
//!
//! Everything here is pure and allocation-free, and is fuzzed (`fuzz/fuzz_targets/frame_parser.rs`, and the
//! seeded mutation and truncation tests in `wire::tests`).

pub mod arp;
pub mod checksum;
mod error;
pub mod ethernet;
mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod ipv4;
pub mod ipv6;
pub mod ndp;
pub mod tcp;
mod tcp_flags;
pub mod template;

#[cfg(test)]
mod tests;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use error::{BuildError, ParseError};
pub use ethernet::{EthernetFrame, EthernetRepr, MacAddr, MacParseError};
pub use frame::{parse_frame, ArpFrame, Frame, TcpFrame};
pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv6::{Ipv6Packet, Ipv6Repr};
pub use ndp::{NaFlags, NdpFrame, NdpRepr};
pub use tcp::{TcpOptions, TcpSegment};
pub use tcp_flags::TcpFlags;
pub use template::{AckSegment, Endpoints, FrameTemplate, SynOptions, TemplateConfig};
