//! ZMap's exception port. In pipe mode ZMap cannot reach a DPDK-bound NIC, so the appliance offers it a tap
//! interface (DPDK's net_tap; its kernel side is where `zmap -i` sends). Worker 0 owns the tap's queue pair:
//! - frames ZMap sends into the tap (its SYNs) go out of the NIC, re-addressed from our MAC to the gateway's;
//! - every SYN-ACK and RST any worker receives goes back into the tap, so ZMap sees the answers to its probes.
//!   ZMap validates them itself (its own keyed ISNs): answers to lzr's own SYNs simply fail its check.

use crate::port::QueuePair;

/// The tap's queue pair as worker 0 uses it (object-safe, so the worker stays generic over one port type).
pub trait ExceptionPort: Send {
    /// Calls `on_frame` for each frame ZMap sent; returns how many.
    fn recv_from_zmap(&mut self, on_frame: &mut dyn FnMut(&[u8])) -> usize;
    /// Queues a frame for ZMap; false when the tap has no buffer for it.
    fn send_to_zmap(&mut self, frame: &[u8]) -> bool;
    fn flush_to_zmap(&mut self);
}

impl<Q: QueuePair> ExceptionPort for Q {
    fn recv_from_zmap(&mut self, on_frame: &mut dyn FnMut(&[u8])) -> usize {
        self.recv_burst(|f| on_frame(f))
    }
    fn send_to_zmap(&mut self, frame: &[u8]) -> bool {
        self.push_frame(frame.len(), |b| b.copy_from_slice(frame))
    }
    fn flush_to_zmap(&mut self) {
        QueuePair::flush(self);
    }
}

/// Frames of ZMap's kind that travel between the NIC and the tap: a TCP segment with SYN+ACK or RST.
pub fn is_answer_to_a_syn(flags: crate::wire::TcpFlags) -> bool {
    flags.rst() || (flags.syn() && flags.ack())
}
