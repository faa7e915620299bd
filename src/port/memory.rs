//! An in-memory pair of ports: two ends, each with N queue pairs, joined by bounded rings. What one end sends,
//! the other receives. For unit tests, the engine benchmark and
//! the simulator: no DPDK, usable across threads, deterministic for a given sequence of calls.
//!
//! It behaves like a wire between two NICs: a frame sent is counted as sent (`opackets`) and lands on one RX
//! queue of the far end, chosen by [`Delivery`]: the same queue index, the far end's emulated RSS, or a flow
//! hash that ignores ownership (as af_packet's kernel fanout does). When that RX queue is full the frame is
//! dropped and counted as the far end's `imissed`, as a NIC would. Buffers are recycled through a bounded pool
//! per direction; when it is empty `push_frame` fails and counts `tx_no_buffer`. Like a DPDK mempool with a
//! per-lcore cache, the pool moves buffers in bulk: a send queue takes up to a burst of buffers at once into a
//! small cache of its own, and a receive queue gives back a whole burst at once, so the shared pool is locked
//! once per burst rather than touched once per frame. The RX rings work in bursts too, as DPDK's `rte_ring`
//! bulk calls do: a flush puts its frames on a ring under one lock, a receive takes a burst under one. A buffer keeps its bytes between frames: like a DPDK
//! mbuf, sending a frame writes its bytes and its length, nothing else (a buffer is zeroed only as far as the
//! longest frame it ever held, once).
//!
//! Checksum offload: by default the far end reports [`L4Checksum::Unknown`] for every frame, as a device
//! without offload does. [`RxChecksumOffload`] makes it behave like a NIC that verifies TCP checksums, or
//! report a scripted verdict (for tests of what the engine does with the verdict).

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{
    L4Checksum, MacAddr, Port, PortStats, QueuePair, QueueStats, RssSteering, RxFrame, RxQueue, Steering,
    TxQueue,
};
use crate::wire::{parse_frame, Frame};

/// Which RX queue of the far end a frame lands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The queue with the sender's queue index.
    SameQueue,
    /// The far end's RSS: the queue [`RssSteering::queue_for`] gives for the frame's source and destination
    /// addresses (non-IP frames: queue 0). The far end reports [`Steering::Rss`].
    Rss(RssSteering),
    /// A fixed hash of addresses and ports, blind to ownership (like af_packet's kernel fanout).
    FlowHash,
}

/// The TCP checksum verdict the receiving end reports with each frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RxChecksumOffload {
    /// No offload: every frame is [`L4Checksum::Unknown`] (the default, as with `net_tap` or `af_packet`).
    #[default]
    None,
    /// Like a NIC with TCP checksum offload: TCP frames are Good or Bad by their checksum, others Unknown.
    Verify,
    /// Every frame carries this verdict, right or not (tests: shows who trusts the device).
    Claim(L4Checksum),
}

/// Shape of a memory pair.
#[derive(Debug, Clone)]
pub struct MemoryConfig {
    /// Queue pairs on each end (at least 1).
    pub queues: u16,
    /// Frames each RX queue holds before it drops.
    pub rx_capacity: usize,
    /// Frames `push_frame` queues before it flushes by itself.
    pub burst: usize,
    /// Largest frame.
    pub max_frame_len: usize,
    /// Buffers per direction (frames in flight: queued for send, in RX queues, being read).
    pub buffers: usize,
    pub delivery: Delivery,
    /// MAC addresses of end A and end B.
    pub macs: [MacAddr; 2],
    /// The checksum verdicts both ends report on received frames.
    pub rx_checksum: RxChecksumOffload,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        MemoryConfig {
            queues: 1,
            rx_capacity: 1024,
            burst: 32,
            max_frame_len: 2048,
            buffers: 4096,
            delivery: Delivery::SameQueue,
            macs: [[0x02, 0, 0, 0, 0, 0x0a], [0x02, 0, 0, 0, 0, 0x0b]],
            rx_checksum: RxChecksumOffload::None,
        }
    }
}

/// Counters of one end, as its device would report them.
#[derive(Default)]
struct EndCounters {
    ipackets: AtomicU64,
    ibytes: AtomicU64,
    imissed: AtomicU64,
    opackets: AtomicU64,
    obytes: AtomicU64,
}

/// A frame buffer of the pool, holding a frame of `len` bytes. `bytes` only grows (up to the largest frame),
/// so a recycled buffer is written without being cleared.
struct Buffer {
    bytes: Vec<u8>,
    len: usize,
    /// The receiving device's checksum verdict, set on delivery.
    l4_checksum: L4Checksum,
}

impl Buffer {
    fn frame(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&self.bytes)
    }
}

/// One RX queue of the far end: a bounded ring of frames, filled and emptied in bursts.
struct RxRing {
    frames: Mutex<VecDeque<Buffer>>,
    capacity: usize,
}

impl RxRing {
    fn new(capacity: usize) -> RxRing {
        RxRing { frames: Mutex::new(VecDeque::with_capacity(capacity)), capacity }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Buffer>> {
        self.frames.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves up to `n` frames, oldest first, to `out`.
    fn take(&self, n: usize, out: &mut Vec<Buffer>) {
        let mut ring = self.lock();
        let n = n.min(ring.len());
        out.extend(ring.drain(..n));
    }
}

/// One direction of the wire: the far end's RX queues and the buffer pool the near end sends from.
struct Direction {
    rx_queues: Vec<RxRing>,
    /// Free buffers, moved in bulk (see the module documentation).
    free: Mutex<Vec<Buffer>>,
    allocated: AtomicUsize,
    buffers: usize,
    max_frame_len: usize,
    delivery: Delivery,
    rx_checksum: RxChecksumOffload,
    sender: Arc<EndCounters>,
    receiver: Arc<EndCounters>,
}

impl Direction {
    /// Moves up to `n` free buffers into `cache`, allocating one when none is free and the bound allows.
    /// Returns false when no buffer could be had.
    fn take_buffers(&self, cache: &mut Vec<Buffer>, n: usize) -> bool {
        {
            let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
            let from = free.len().saturating_sub(n.max(1));
            cache.extend(free.drain(from..));
        }
        if !cache.is_empty() {
            return true;
        }
        match self.allocate() {
            Some(buf) => {
                cache.push(buf);
                true
            }
            None => false,
        }
    }

    /// A new buffer, if the pool has not reached its bound.
    fn allocate(&self) -> Option<Buffer> {
        // Grow the pool lazily up to its bound.
        let grown = self
            .allocated
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.buffers).then_some(n + 1)
            })
            .is_ok();
        grown.then(|| Buffer {
            bytes: Vec::with_capacity(self.max_frame_len),
            len: 0,
            l4_checksum: L4Checksum::Unknown,
        })
    }

    /// Gives every buffer in `bufs` back to the pool (leaving `bufs` empty, its capacity kept).
    fn return_buffers(&self, bufs: &mut Vec<Buffer>) {
        if bufs.is_empty() {
            return;
        }
        self.free.lock().unwrap_or_else(PoisonError::into_inner).append(bufs);
    }

    /// Hands `frames` to the far end's RX queues, in order; the buffers of frames an RX queue had no room for
    /// go back to the pool. The device counters move once per call, and a run of frames for one RX queue is
    /// put on it under one lock.
    fn deliver(&self, from_queue: u16, frames: &mut Vec<Buffer>) {
        let (mut sent_bytes, mut in_frames, mut in_bytes) = (0u64, 0u64, 0u64);
        let sent = frames.len() as u64;
        let mut missed = Vec::new();
        let mut locked: Option<(usize, MutexGuard<'_, VecDeque<Buffer>>)> = None;
        for mut frame in frames.drain(..) {
            let len = frame.len as u64;
            sent_bytes += len;
            let target = self.target_of(from_queue, &frame);
            frame.l4_checksum = self.verdict_on(&frame);
            let Some(ring) = self.rx_queues.get(target) else {
                missed.push(frame);
                continue;
            };
            let queue = match &mut locked {
                Some((at, queue)) if *at == target => queue,
                _ => &mut locked.insert((target, ring.lock())).1,
            };
            if queue.len() < ring.capacity {
                queue.push_back(frame);
                in_frames += 1;
                in_bytes += len;
            } else {
                missed.push(frame);
            }
        }
        drop(locked);
        self.sender.opackets.fetch_add(sent, Ordering::Relaxed);
        self.sender.obytes.fetch_add(sent_bytes, Ordering::Relaxed);
        self.receiver.ipackets.fetch_add(in_frames, Ordering::Relaxed);
        self.receiver.ibytes.fetch_add(in_bytes, Ordering::Relaxed);
        if !missed.is_empty() {
            self.receiver.imissed.fetch_add(missed.len() as u64, Ordering::Relaxed);
            self.return_buffers(&mut missed);
        }
    }

    /// The RX queue a frame lands on.
    fn target_of(&self, from_queue: u16, frame: &Buffer) -> usize {
        let queues = self.rx_queues.len().max(1);
        (match &self.delivery {
            Delivery::SameQueue => usize::from(from_queue),
            Delivery::Rss(rss) => {
                flow_fields(frame.frame()).map_or(0, |f| usize::from(rss.queue_for(f.src, f.dst)))
            }
            Delivery::FlowHash => flow_fields(frame.frame()).map_or(0, |f| f.hash() as usize),
        }) % queues
    }

    /// The receiving device's checksum verdict on a frame.
    fn verdict_on(&self, frame: &Buffer) -> L4Checksum {
        match self.rx_checksum {
            RxChecksumOffload::None => L4Checksum::Unknown,
            RxChecksumOffload::Claim(verdict) => verdict,
            RxChecksumOffload::Verify => match parse_frame(frame.frame()) {
                Ok(Frame::Tcp(t)) if t.checksum_valid() => L4Checksum::Good,
                Ok(Frame::Tcp(_)) => L4Checksum::Bad,
                _ => L4Checksum::Unknown,
            },
        }
    }
}

/// The addresses and ports a NIC would hash, read from an Ethernet frame (IPv4 or IPv6 without extension
/// headers; ports only for TCP and UDP).
struct FlowFields {
    src: IpAddr,
    dst: IpAddr,
    ports: [u8; 4],
}

impl FlowFields {
    /// FNV-1a over addresses and ports: fixed, so deliveries are reproducible.
    fn hash(&self) -> u32 {
        let mut h: u32 = 0x811c_9dc5;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
            }
        };
        match (self.src, self.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                eat(&s.octets());
                eat(&d.octets());
            }
            (s, d) => {
                eat(&ip_bytes(s));
                eat(&ip_bytes(d));
            }
        }
        eat(&self.ports);
        h
    }
}

fn ip_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn flow_fields(frame: &[u8]) -> Option<FlowFields> {
    const TCP: u8 = 6;
    const UDP: u8 = 17;
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let ip = frame.get(14..)?;
    let (src, dst, proto, l4) = match ethertype {
        0x0800 => {
            let header_len = usize::from(ip.first()? & 0x0f) * 4;
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (
                IpAddr::V4(Ipv4Addr::from(src)),
                IpAddr::V4(Ipv4Addr::from(dst)),
                *ip.get(9)?,
                ip.get(header_len..),
            )
        }
        0x86dd => {
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            (
                IpAddr::V6(Ipv6Addr::from(src)),
                IpAddr::V6(Ipv6Addr::from(dst)),
                *ip.get(6)?,
                ip.get(40..),
            )
        }
        _ => return None,
    };
    let ports = match (proto, l4.and_then(|l4| l4.get(..4))) {
        (TCP | UDP, Some(p)) => [p[0], p[1], p[2], p[3]],
        _ => [0; 4],
    };
    Some(FlowFields { src, dst, ports })
}

/// Builds a connected pair of ports: (end A, end B).
pub fn pair(config: &MemoryConfig) -> (MemoryPort, MemoryPort) {
    let queues = config.queues.max(1);
    let counters = [
        Arc::new(EndCounters::default()),
        Arc::new(EndCounters::default()),
    ];
    let direction = |from: usize, to: usize| {
        Arc::new(Direction {
            rx_queues: (0..queues)
                .map(|_| RxRing::new(config.rx_capacity.max(1)))
                .collect(),
            free: Mutex::new(Vec::new()),
            allocated: AtomicUsize::new(0),
            buffers: config.buffers.max(1),
            max_frame_len: config.max_frame_len,
            delivery: config.delivery.clone(),
            rx_checksum: config.rx_checksum,
            sender: counters[from].clone(),
            receiver: counters[to].clone(),
        })
    };
    let a_to_b = direction(0, 1);
    let b_to_a = direction(1, 0);
    let steering = match &config.delivery {
        Delivery::Rss(rss) => Steering::Rss(rss.clone()),
        Delivery::SameQueue | Delivery::FlowHash => Steering::None,
    };
    let end = |side: usize, incoming: &Arc<Direction>, outgoing: &Arc<Direction>| MemoryPort {
        queues: (0..queues)
            .map(|index| MemoryQueue {
                index,
                rx: MemoryRx {
                    incoming: incoming.clone(),
                    index,
                    burst: config.burst.max(1),
                    frames: 0,
                    batch: Vec::with_capacity(config.burst.clamp(1, 1024)),
                },
                tx: MemoryTx {
                    outgoing: outgoing.clone(),
                    index,
                    burst: config.burst.max(1),
                    pending: Vec::with_capacity(config.burst.max(1)),
                    cache: Vec::with_capacity(config.burst.max(1)),
                    frames: 0,
                    no_buffer: 0,
                    bad_length: 0,
                },
            })
            .collect(),
        queue_count: queues,
        mac: config.macs[side],
        counters: counters[side].clone(),
        steering: steering.clone(),
    };
    (end(0, &b_to_a, &a_to_b), end(1, &a_to_b, &b_to_a))
}

/// One end of a memory pair.
pub struct MemoryPort {
    queues: Vec<MemoryQueue>,
    queue_count: u16,
    mac: MacAddr,
    counters: Arc<EndCounters>,
    steering: Steering,
}

impl Port for MemoryPort {
    type Queue = MemoryQueue;

    fn take_queues(&mut self) -> Vec<MemoryQueue> {
        std::mem::take(&mut self.queues)
    }

    fn queue_count(&self) -> u16 {
        self.queue_count
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn stats(&self) -> PortStats {
        let c = &self.counters;
        PortStats {
            ipackets: c.ipackets.load(Ordering::Relaxed),
            opackets: c.opackets.load(Ordering::Relaxed),
            ibytes: c.ibytes.load(Ordering::Relaxed),
            obytes: c.obytes.load(Ordering::Relaxed),
            imissed: c.imissed.load(Ordering::Relaxed),
            ..PortStats::default()
        }
    }

    fn steering(&self) -> &Steering {
        &self.steering
    }
}

/// One queue pair of a memory port.
pub struct MemoryQueue {
    index: u16,
    rx: MemoryRx,
    tx: MemoryTx,
}

/// Receive half of a [`MemoryQueue`].
pub struct MemoryRx {
    incoming: Arc<Direction>,
    index: u16,
    burst: usize,
    frames: u64,
    /// The frames of the burst being received, given back to the pool together (kept to reuse the vector).
    batch: Vec<Buffer>,
}

/// Send half of a [`MemoryQueue`].
pub struct MemoryTx {
    outgoing: Arc<Direction>,
    index: u16,
    burst: usize,
    pending: Vec<Buffer>,
    /// Free buffers taken from the pool in bulk, at most a burst of them (a mempool's per-lcore cache).
    cache: Vec<Buffer>,
    frames: u64,
    no_buffer: u64,
    bad_length: u64,
}

impl RxQueue for MemoryRx {
    fn recv_burst<F: FnMut(&[u8])>(&mut self, mut on_frame: F) -> usize {
        let Some(queue) = self.incoming.rx_queues.get(usize::from(self.index)) else {
            return 0;
        };
        // Buffers a panicking callback left lent go back first: never lend one twice.
        self.incoming.return_buffers(&mut self.batch);
        queue.take(self.burst, &mut self.batch);
        let delivered = self.batch.len();
        for frame in &self.batch {
            on_frame(frame.frame());
        }
        self.incoming.return_buffers(&mut self.batch);
        self.frames += delivered as u64;
        delivered
    }

    fn recv_batch<F: FnOnce(&[RxFrame<'_>])>(&mut self, on_batch: F) -> usize {
        let Some(queue) = self.incoming.rx_queues.get(usize::from(self.index)) else {
            return 0;
        };
        // Buffers a panicking callback left lent go back first: never lend one twice.
        self.incoming.return_buffers(&mut self.batch);
        queue.take(self.burst, &mut self.batch);
        let delivered = self.batch.len();
        if delivered > 0 {
            let frames: Vec<RxFrame<'_>> = self
                .batch
                .iter()
                .map(|b| RxFrame { bytes: b.frame(), l4_checksum: b.l4_checksum })
                .collect();
            on_batch(&frames);
        }
        self.incoming.return_buffers(&mut self.batch);
        self.frames += delivered as u64;
        delivered
    }
}

impl TxQueue for MemoryTx {
    fn push_frame<F: FnOnce(&mut [u8])>(&mut self, len: usize, fill: F) -> bool {
        if len == 0 || len > self.outgoing.max_frame_len {
            self.bad_length += 1;
            return false;
        }
        if self.pending.len() >= self.burst {
            self.flush();
        }
        if self.cache.is_empty() && !self.outgoing.take_buffers(&mut self.cache, self.burst) {
            self.no_buffer += 1;
            return false;
        }
        let Some(mut buf) = self.cache.pop() else {
            self.no_buffer += 1;
            return false;
        };
        // The frame is the buffer's first `len` bytes, whatever an earlier frame left there, as the trait says;
        // only bytes no frame ever used are zeroed first (len <= max_frame_len: no reallocation).
        if buf.bytes.len() < len {
            buf.bytes.resize(len, 0);
        }
        buf.len = len;
        fill(&mut buf.bytes[..len]);
        self.pending.push(buf);
        true
    }

    fn flush(&mut self) -> usize {
        let sent = self.pending.len();
        self.outgoing.deliver(self.index, &mut self.pending);
        self.frames += sent as u64;
        sent
    }

    fn pending(&self) -> usize {
        self.pending.len()
    }

    fn max_frame_len(&self) -> usize {
        self.outgoing.max_frame_len
    }
}

impl QueuePair for MemoryQueue {
    type Rx = MemoryRx;
    type Tx = MemoryTx;

    fn index(&self) -> u16 {
        self.index
    }

    fn split(&mut self) -> (&mut MemoryRx, &mut MemoryTx) {
        (&mut self.rx, &mut self.tx)
    }

    fn stats(&self) -> QueueStats {
        QueueStats {
            rx_frames: self.rx.frames,
            tx_frames: self.tx.frames,
            tx_no_buffer: self.tx.no_buffer,
            tx_bad_length: self.tx.bad_length,
            ..QueueStats::default()
        }
    }
}

impl Drop for MemoryTx {
    /// Frames still queued are returned to the pool, not sent: like a DPDK queue torn down before flush. The
    /// cached free buffers go back too.
    fn drop(&mut self) {
        self.outgoing.return_buffers(&mut self.pending);
        self.outgoing.return_buffers(&mut self.cache);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal Ethernet + IPv4 + TCP frame (checksums irrelevant here) carrying `tag` in the TCP sequence field.
    fn tcp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, tag: u32) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        f[14] = 0x45;
        f[23] = 6;
        f[26..30].copy_from_slice(&src);
        f[30..34].copy_from_slice(&dst);
        f[34..36].copy_from_slice(&sport.to_be_bytes());
        f[36..38].copy_from_slice(&80u16.to_be_bytes());
        f[38..42].copy_from_slice(&tag.to_be_bytes());
        f
    }

    fn tag_of(frame: &[u8]) -> u32 {
        u32::from_be_bytes(frame[38..42].try_into().unwrap())
    }

    fn send(q: &mut MemoryQueue, frame: &[u8]) -> bool {
        q.push_frame(frame.len(), |buf| buf.copy_from_slice(frame))
    }

    fn drain(q: &mut MemoryQueue) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        while q.recv_burst(|f| got.push(f.to_vec())) > 0 {}
        got
    }

    #[test]
    fn frames_cross_to_the_same_queue_of_the_far_end() {
        let (mut a, mut b) = pair(&MemoryConfig {
            queues: 2,
            ..MemoryConfig::default()
        });
        let (mut qa, mut qb) = (a.take_queues(), b.take_queues());
        assert!(a.take_queues().is_empty(), "queues are handed out once");
        let frame = tcp_frame([198, 18, 0, 2], [198, 18, 0, 1], 40000, 7);
        assert!(send(&mut qa[1], &frame));
        assert_eq!(qa[1].split().1.pending(), 1);
        assert_eq!(
            drain(&mut qb[1]),
            Vec::<Vec<u8>>::new(),
            "nothing arrives before flush"
        );
        assert_eq!(qa[1].flush(), 1);
        assert!(drain(&mut qb[0]).is_empty());
        assert_eq!(drain(&mut qb[1]), vec![frame.clone()]);
        assert_eq!(a.stats().opackets, 1);
        assert_eq!(a.stats().obytes, frame.len() as u64);
        assert_eq!(b.stats().ipackets, 1);
        assert_eq!(qa[1].stats().tx_frames, 1);
        assert_eq!(qb[1].stats().rx_frames, 1);
        assert_eq!(a.mac(), MemoryConfig::default().macs[0]);
        assert_eq!(b.queue_count(), 2);
    }

    #[test]
    fn a_worker_answers_while_walking_a_batch() {
        let (mut a, mut b) = pair(&MemoryConfig::default());
        let (mut qa, mut qb) = (a.take_queues().remove(0), b.take_queues().remove(0));
        for tag in 0..5 {
            send(&mut qa, &tcp_frame([1, 1, 1, 1], [2, 2, 2, 2], 1, tag));
        }
        qa.flush();
        let (rx, tx) = qb.split();
        let n = rx.recv_burst(|frame| {
            let reply = tcp_frame([2, 2, 2, 2], [1, 1, 1, 1], 80, tag_of(frame) + 100);
            assert!(tx.push_frame(reply.len(), |buf| buf.copy_from_slice(&reply)));
        });
        assert_eq!(n, 5);
        tx.flush();
        let tags: Vec<u32> = drain(&mut qa).iter().map(|f| tag_of(f)).collect();
        assert_eq!(tags, vec![100, 101, 102, 103, 104]);
    }

    #[test]
    fn a_full_rx_queue_drops_and_counts_imissed() {
        let (mut a, mut b) = pair(&MemoryConfig {
            rx_capacity: 4,
            ..MemoryConfig::default()
        });
        let (mut qa, mut qb) = (a.take_queues().remove(0), b.take_queues().remove(0));
        for tag in 0..10 {
            assert!(send(
                &mut qa,
                &tcp_frame([1, 1, 1, 1], [2, 2, 2, 2], 1, tag)
            ));
        }
        assert_eq!(qa.flush(), 10);
        let tags: Vec<u32> = drain(&mut qb).iter().map(|f| tag_of(f)).collect();
        assert_eq!(tags, vec![0, 1, 2, 3]);
        assert_eq!(b.stats().imissed, 6);
        assert_eq!(b.stats().ipackets, 4);
        assert_eq!(a.stats().opackets, 10);
    }

    #[test]
    fn an_empty_pool_refuses_frames_until_buffers_return() {
        let (mut a, mut b) = pair(&MemoryConfig {
            buffers: 3,
            ..MemoryConfig::default()
        });
        let (mut qa, mut qb) = (a.take_queues().remove(0), b.take_queues().remove(0));
        let frame = tcp_frame([1, 1, 1, 1], [2, 2, 2, 2], 1, 0);
        for _ in 0..3 {
            assert!(send(&mut qa, &frame));
        }
        let mut called = false;
        assert!(!qa.push_frame(60, |_| called = true));
        assert!(!called, "fill is not called when no buffer is free");
        assert_eq!(qa.stats().tx_no_buffer, 1);
        qa.flush();
        assert!(
            !send(&mut qa, &frame),
            "buffers sit in the far end's RX queue"
        );
        assert_eq!(drain(&mut qb).len(), 3);
        assert!(
            send(&mut qa, &frame),
            "received buffers went back to the pool"
        );
    }

    #[test]
    fn oversized_frames_are_refused() {
        let (mut a, _b) = pair(&MemoryConfig {
            max_frame_len: 100,
            ..MemoryConfig::default()
        });
        let mut q = a.take_queues().remove(0);
        assert_eq!(q.split().1.max_frame_len(), 100);
        assert!(!q.push_frame(101, |_| {}));
        assert!(!q.push_frame(0, |_| {}));
        assert!(q.push_frame(100, |buf| buf.fill(1)));
        assert_eq!(q.stats().tx_bad_length, 2);
    }

    #[test]
    fn recv_batch_lends_one_burst_in_order_and_returns_the_buffers() {
        let (mut a, mut b) = pair(&MemoryConfig {
            burst: 4,
            buffers: 8,
            ..MemoryConfig::default()
        });
        let (mut qa, mut qb) = (a.take_queues().remove(0), b.take_queues().remove(0));
        // Three rounds of 6 frames through 8 buffers: only works if every lent buffer comes back.
        for round in 0..3u32 {
            for tag in 0..6 {
                assert!(send(&mut qa, &tcp_frame([1, 1, 1, 1], [2, 2, 2, 2], 1, round * 10 + tag)));
            }
            qa.split().1.flush();
            let mut tags = Vec::new();
            let rx = qb.split().0;
            assert_eq!(rx.recv_batch(|frames| tags.extend(frames.iter().map(|f| tag_of(f.bytes)))), 4);
            assert_eq!(rx.recv_batch(|frames| tags.extend(frames.iter().map(|f| tag_of(f.bytes)))), 2);
            let mut called = false;
            assert_eq!(rx.recv_batch(|_| called = true), 0);
            assert!(!called, "no call for an empty burst");
            assert_eq!(tags, (0..6).map(|t| round * 10 + t).collect::<Vec<_>>());
        }
        assert_eq!(qb.stats().rx_frames, 18);
    }

    /// A valid Ethernet + IPv4 + TCP frame from the wire's template (real checksums), with `payload`.
    fn checksummed_frame(payload: &[u8]) -> Vec<u8> {
        use crate::wire::{Endpoints, FrameTemplate, MacAddr as Mac, TcpFlags, TemplateConfig};
        let src = IpAddr::from([198, 18, 0, 2]);
        let template = FrameTemplate::new(Mac([2, 0, 0, 0, 0, 1]), Mac([2, 0, 0, 0, 0, 2]), src, TemplateConfig::original());
        let to = Endpoints { dst_ip: IpAddr::from([198, 18, 0, 1]), src_port: 80, dst_port: 40000 };
        let mut f = vec![0u8; template.ack_len(payload.len())];
        template.segment(&mut f, to, 1, 2, TcpFlags::PSH_ACK, 512, payload).unwrap();
        f
    }

    fn verdicts(offload: RxChecksumOffload, frames: &[Vec<u8>]) -> Vec<L4Checksum> {
        let (mut a, mut b) = pair(&MemoryConfig { rx_checksum: offload, ..MemoryConfig::default() });
        let (mut qa, mut qb) = (a.take_queues().remove(0), b.take_queues().remove(0));
        for f in frames {
            assert!(send(&mut qa, f));
        }
        qa.flush();
        let mut got = Vec::new();
        qb.split().0.recv_batch(|batch| {
            for (rx, sent) in batch.iter().zip(frames) {
                assert_eq!(rx.bytes, &sent[..]);
                got.push(rx.l4_checksum);
            }
        });
        got
    }

    #[test]
    fn checksum_verdicts_follow_the_offload_setting() {
        let good = checksummed_frame(b"hello");
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x01;
        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        let frames = [good, bad, arp];
        use L4Checksum::*;
        assert_eq!(verdicts(RxChecksumOffload::None, &frames), [Unknown, Unknown, Unknown]);
        assert_eq!(verdicts(RxChecksumOffload::Verify, &frames), [Good, Bad, Unknown]);
        assert_eq!(verdicts(RxChecksumOffload::Claim(Good), &frames), [Good, Good, Good]);
    }

    #[test]
    fn reused_buffers_carry_only_the_new_frame() {
        let (mut a, mut b) = pair(&MemoryConfig { buffers: 1, ..MemoryConfig::default() });
        let (mut qa, mut qb) = (a.take_queues().remove(0), b.take_queues().remove(0));
        // A long frame, then a short one in the same buffer: the short one is exactly its own bytes.
        assert!(send(&mut qa, &[0xaa; 300]));
        qa.flush();
        assert_eq!(drain(&mut qb), vec![vec![0xaa; 300]]);
        assert!(send(&mut qa, &[0x55; 60]));
        qa.flush();
        assert_eq!(drain(&mut qb), vec![vec![0x55; 60]]);
    }

    #[test]
    fn a_full_batch_flushes_itself() {
        let (mut a, mut b) = pair(&MemoryConfig {
            burst: 2,
            ..MemoryConfig::default()
        });
        let (mut qa, mut qb) = (a.take_queues().remove(0), b.take_queues().remove(0));
        for tag in 0..3 {
            send(&mut qa, &tcp_frame([1, 1, 1, 1], [2, 2, 2, 2], 1, tag));
        }
        assert_eq!(qa.split().1.pending(), 1);
        // recv_burst delivers at most `burst` frames per call.
        let mut got = 0;
        assert_eq!(qb.recv_burst(|_| got += 1), 2);
        assert_eq!(got, 2);
    }

    #[test]
    fn rss_delivery_follows_the_source_address() {
        let rss = RssSteering {
            key: super::super::rss::DEFAULT_KEY.to_vec(),
            reta: (0..128).map(|i| i % 4).collect(),
            src_only: true,
        };
        let (mut a, mut b) = pair(&MemoryConfig {
            queues: 4,
            delivery: Delivery::Rss(rss.clone()),
            ..Default::default()
        });
        assert_eq!(b.steering(), &Steering::Rss(rss.clone()));
        let (mut qa, mut qb) = (a.take_queues(), b.take_queues());
        let mut used = [false; 4];
        for host in 0..64u8 {
            let src = [198, 18, 1, host];
            let want = rss.queue_for(IpAddr::from(src), IpAddr::from([198, 18, 0, 2]));
            used[usize::from(want)] = true;
            // Sent from queue 0 whatever the owner: RSS decides where it lands.
            send(
                &mut qa[0],
                &tcp_frame(src, [198, 18, 0, 2], 80, u32::from(host)),
            );
            qa[0].flush();
            let mut landed = None;
            for (i, q) in qb.iter_mut().enumerate() {
                if q.recv_burst(|f| assert_eq!(tag_of(f), u32::from(host))) == 1 {
                    landed = Some(i as u16);
                }
            }
            assert_eq!(landed, Some(want), "host {host}");
        }
        assert!(used.iter().all(|u| *u), "64 hosts reach all 4 queues");
    }

    #[test]
    fn flow_hash_delivery_is_fixed_per_flow_and_ignores_the_sending_queue() {
        let (mut a, mut b) = pair(&MemoryConfig {
            queues: 2,
            delivery: Delivery::FlowHash,
            ..Default::default()
        });
        assert_eq!(b.steering(), &Steering::None);
        let (mut qa, mut qb) = (a.take_queues(), b.take_queues());
        let mut seen = [0u32; 2];
        for sport in 0..32u16 {
            let frame = tcp_frame([198, 18, 1, 1], [198, 18, 0, 2], 1000 + sport, 0);
            let mut first = None;
            for sender in qa.iter_mut() {
                send(sender, &frame);
                sender.flush();
                for (i, q) in qb.iter_mut().enumerate() {
                    if q.recv_burst(|_| {}) == 1 {
                        assert!(first.is_none() || first == Some(i), "same flow, same queue");
                        first = Some(i);
                        seen[i] += 1;
                    }
                }
            }
        }
        assert!(
            seen[0] > 0 && seen[1] > 0,
            "flows spread over both queues: {seen:?}"
        );
        // Non-IP frames (ARP) land on queue 0.
        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        send(&mut qa[1], &arp);
        qa[1].flush();
        assert_eq!(qb[0].recv_burst(|_| {}), 1);
    }

    #[test]
    fn ends_work_from_different_threads() {
        let (mut a, mut b) = pair(&MemoryConfig {
            queues: 2,
            ..MemoryConfig::default()
        });
        let (qa, qb) = (a.take_queues(), b.take_queues());
        const FRAMES: u32 = 5000;
        // End B echoes every frame back with tag + 1, one thread per queue.
        let echoes: Vec<_> = qb
            .into_iter()
            .map(|mut q| {
                std::thread::spawn(move || {
                    let mut echoed = 0u32;
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                    while echoed < FRAMES && std::time::Instant::now() < deadline {
                        let (rx, tx) = q.split();
                        rx.recv_burst(|f| {
                            let reply = tcp_frame([2, 2, 2, 2], [1, 1, 1, 1], 80, tag_of(f) + 1);
                            while !tx.push_frame(reply.len(), |buf| buf.copy_from_slice(&reply)) {
                                tx.flush();
                            }
                            echoed += 1;
                        });
                        tx.flush();
                    }
                    echoed
                })
            })
            .collect();
        let senders: Vec<_> = qa
            .into_iter()
            .map(|mut q| {
                std::thread::spawn(move || {
                    let mut sum = 0u64;
                    let (mut sent, mut got) = (0u32, 0u32);
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                    while got < FRAMES && std::time::Instant::now() < deadline {
                        // Keep fewer frames in flight than an RX queue holds, so none is dropped.
                        while sent < FRAMES && sent - got < 256 {
                            let frame = tcp_frame([1, 1, 1, 1], [2, 2, 2, 2], 1, sent);
                            if !send(&mut q, &frame) {
                                break;
                            }
                            sent += 1;
                        }
                        q.flush();
                        q.recv_burst(|f| {
                            sum += u64::from(tag_of(f));
                            got += 1;
                        });
                    }
                    (got, sum)
                })
            })
            .collect();
        let want_sum: u64 = (1..=u64::from(FRAMES)).sum();
        for s in senders {
            assert_eq!(s.join().unwrap(), (FRAMES, want_sum));
        }
        for e in echoes {
            assert_eq!(e.join().unwrap(), FRAMES);
        }
        assert_eq!(a.stats().imissed + b.stats().imissed, 0);
        assert_eq!(a.stats().ipackets, 2 * u64::from(FRAMES));
    }
}
