//! port: the NIC behind one small interface.
//!
//! The engine sees a port as N independent queue pairs, each owned by one worker thread, plus a few
//! port-wide facts (MAC, statistics, whether the hardware steers flows). Two implementations:
//! - [`dpdk`] (feature `dpdk`): an ethdev port on any PMD (a physical NIC, `net_af_packet`, `net_tap`,
//!   `net_memif`, ...), with EAL start-up, the packet mempool and lcore launching. This module and `dpdk-sys` are
//!   the only places in lzr with `unsafe`.
//! - [`memory`]: two in-process ends joined by lock-free queues, for unit tests, the engine benchmark and the
//!   simulator. Deterministic, no DPDK needed.
//!
//! The queue interface is split into a receive half ([`RxQueue`]) and a send half ([`TxQueue`]) so a worker can
//! answer frames while it walks a received batch:
//! ```ignore
//! let (rx, tx) = queue.split();
//! rx.recv_burst(|frame| {
//!     tx.push_frame(60, |buf| build_reply(frame, buf));
//! });
//! tx.flush();
//! ```
//! Received bytes are borrowed from the port's buffers (zero copy) and the buffers go back to the pool when the
//! burst call returns; frames to send are written straight into port buffers by the caller's closure.
//!
//! Steering: each flow has one owner worker. Where the device hashes the IPv4/IPv6 source address into its
//! queues (RSS), [`Steering::Rss`] carries the key and redirection table so the engine can compute the queue a
//! remote host's packets arrive on; otherwise ([`Steering::None`]) packets land on arbitrary queues (af_packet's
//! kernel fanout, tap's kernel hash) and the engine must pass misdelivered packets to their owner itself.

#[cfg(feature = "dpdk")]
pub mod dpdk;
pub mod memory;
pub mod netdev;
pub mod rss;

pub use rss::RssSteering;

/// A 48-bit Ethernet address, in wire order.
pub type MacAddr = [u8; 6];

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: &MacAddr) -> String {
    crate::wire::MacAddr(*mac).to_string()
}

/// What the device says about a received frame's TCP checksum (DPDK's `RTE_MBUF_F_RX_L4_CKSUM_*` flags, where
/// the port enabled the device's TCP checksum offload).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum L4Checksum {
    /// The device did not check it (no offload, not TCP, or it could not tell): software checks it.
    #[default]
    Unknown,
    /// The device verified it.
    Good,
    /// The device found it wrong.
    Bad,
}

/// One received frame, as [`RxQueue::recv_batch`] lends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxFrame<'a> {
    /// The frame's bytes, borrowed from the port's buffer.
    pub bytes: &'a [u8],
    /// The device's verdict on the TCP checksum.
    pub l4_checksum: L4Checksum,
}

/// The receive half of a queue pair.
pub trait RxQueue {
    /// Receives at most one burst of frames and calls `on_frame` with each frame's bytes, in arrival order.
    /// The bytes are borrowed from the port's buffers; they return to the pool when this call returns.
    /// Returns the number of frames delivered (0 when nothing was waiting; never blocks).
    fn recv_burst<F: FnMut(&[u8])>(&mut self, on_frame: F) -> usize;

    /// Receives at most one burst, like [`recv_burst`](Self::recv_burst), and lends all its frames at once, in
    /// arrival order, so the caller can work on the burst as a whole (parse every frame, then hand the flow
    /// layer one batch). Each frame comes with the device's checksum verdict, so a caller can skip checks the
    /// hardware already did. `on_batch` is called once when at least one frame came, not at all otherwise.
    /// Returns the number of frames delivered.
    fn recv_batch<F: FnOnce(&[RxFrame<'_>])>(&mut self, on_batch: F) -> usize;
}

/// The send half of a queue pair.
pub trait TxQueue {
    /// Takes a port buffer of exactly `len` bytes, lets `fill` write the whole frame into it and queues it.
    /// Sends the queued frames first when the batch is full. Returns false (and counts why) when `len` is 0 or
    /// larger than a buffer, or no buffer is free; `fill` is not called then. `fill` must write every byte: the buffer
    /// holds whatever an earlier frame left there.
    fn push_frame<F: FnOnce(&mut [u8])>(&mut self, len: usize, fill: F) -> bool;

    /// Hands the queued frames to the device. Frames it does not take are freed and counted as
    /// [`QueueStats::tx_dropped`]. Returns the number of frames sent.
    fn flush(&mut self) -> usize;

    /// Frames queued by [`push_frame`](Self::push_frame) and not yet flushed.
    fn pending(&self) -> usize;

    /// The largest frame [`push_frame`](Self::push_frame) accepts.
    fn max_frame_len(&self) -> usize;
}

/// One RX queue and one TX queue with the same index, owned by one worker thread.
pub trait QueuePair: Send {
    type Rx: RxQueue;
    type Tx: TxQueue;

    /// The queue index on the port (0..queue count).
    fn index(&self) -> u16;

    /// Both halves at once, so frames can be sent while a received batch is being walked.
    fn split(&mut self) -> (&mut Self::Rx, &mut Self::Tx);

    /// Counters of this queue pair since it was opened.
    fn stats(&self) -> QueueStats;

    /// See [`RxQueue::recv_burst`].
    fn recv_burst<F: FnMut(&[u8])>(&mut self, on_frame: F) -> usize {
        self.split().0.recv_burst(on_frame)
    }

    /// See [`TxQueue::push_frame`].
    fn push_frame<F: FnOnce(&mut [u8])>(&mut self, len: usize, fill: F) -> bool {
        self.split().1.push_frame(len, fill)
    }

    /// See [`TxQueue::flush`].
    fn flush(&mut self) -> usize {
        self.split().1.flush()
    }
}

/// Per-queue counters kept by the queue pair itself (the device's own counters are in [`PortStats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Frames delivered by `recv_burst`.
    pub rx_frames: u64,
    /// Received frames not delivered because they did not fit one buffer (multi-segment).
    pub rx_dropped: u64,
    /// Frames the device accepted in `flush`.
    pub tx_frames: u64,
    /// Frames the device did not take in `flush` (ring full); freed.
    pub tx_dropped: u64,
    /// `push_frame` calls refused: no free buffer.
    pub tx_no_buffer: u64,
    /// `push_frame` calls refused: length 0 or longer than a buffer.
    pub tx_bad_length: u64,
}

/// Port-wide counters, as the device reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PortStats {
    pub ipackets: u64,
    pub opackets: u64,
    pub ibytes: u64,
    pub obytes: u64,
    /// Frames the device dropped because the RX ring was full.
    pub imissed: u64,
    pub ierrors: u64,
    pub oerrors: u64,
    /// Frames dropped because no mbuf was free.
    pub rx_nombuf: u64,
}

/// How received frames are spread over the queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Steering {
    /// The device spreads by a hash the engine cannot predict (or not at all): software steering is needed.
    None,
    /// The device hashes the source address (Toeplitz, see [`RssSteering::queue_for`]).
    Rss(RssSteering),
}

/// A port as the engine's management side sees it; the queue pairs go to the workers.
pub trait Port {
    type Queue: QueuePair;

    /// The queue pairs, once: the first call returns all of them, later calls an empty list.
    fn take_queues(&mut self) -> Vec<Self::Queue>;
    /// Number of queue pairs the port was opened with.
    fn queue_count(&self) -> u16;
    /// The port's Ethernet address (source of every frame lzr sends).
    fn mac(&self) -> MacAddr;
    /// The device's counters.
    fn stats(&self) -> PortStats;
    /// How the device spreads received frames over queues.
    fn steering(&self) -> &Steering;
}
