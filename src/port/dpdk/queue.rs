//! One RX/TX queue pair of an ethdev port: zero-copy burst receive, and burst send of frames written straight
//! into mbufs.

use std::sync::Arc;

use dpdk_sys as sys;

use super::ethdev::{PortShared, MAX_BURST};
use crate::port::{L4Checksum, QueuePair, QueueStats, RxFrame, RxQueue, TxQueue};

/// How many times `flush` offers the rest of a batch to a device whose ring took only part of it.
const TX_ATTEMPTS: usize = 3;

/// A queue pair of a [`super::DpdkPort`], owned by one thread at a time.
pub struct DpdkQueue {
    index: u16,
    rx: DpdkRx,
    tx: DpdkTx,
}

/// Receive half of a [`DpdkQueue`].
pub struct DpdkRx {
    port: Arc<PortShared>,
    queue: u16,
    burst: u16,
    mbufs: [*mut sys::rte_mbuf; MAX_BURST],
    frames: u64,
    dropped: u64,
}

/// Send half of a [`DpdkQueue`].
pub struct DpdkTx {
    port: Arc<PortShared>,
    queue: u16,
    burst: usize,
    max_frame: usize,
    pending: [*mut sys::rte_mbuf; MAX_BURST],
    queued: usize,
    frames: u64,
    dropped: u64,
    no_buffer: u64,
    bad_length: u64,
}

// SAFETY: the mbuf pointers in these arrays are owned by this queue alone (received or allocated by it and not
// yet freed or handed to the device), and one DPDK queue may be used from any single thread at a time.
unsafe impl Send for DpdkRx {}
unsafe impl Send for DpdkTx {}

impl DpdkQueue {
    pub(super) fn new(
        port: Arc<PortShared>,
        queue: u16,
        burst: usize,
        max_frame: usize,
    ) -> DpdkQueue {
        let burst = burst.clamp(1, MAX_BURST);
        DpdkQueue {
            index: queue,
            rx: DpdkRx {
                port: port.clone(),
                queue,
                burst: burst as u16,
                mbufs: [std::ptr::null_mut(); MAX_BURST],
                frames: 0,
                dropped: 0,
            },
            tx: DpdkTx {
                port,
                queue,
                burst,
                max_frame,
                pending: [std::ptr::null_mut(); MAX_BURST],
                queued: 0,
                frames: 0,
                dropped: 0,
                no_buffer: 0,
                bad_length: 0,
            },
        }
    }
}

/// Frees received mbufs when the batch is done, also if the caller's closure panics.
struct FreeBatch<'a>(&'a mut [*mut sys::rte_mbuf]);

impl Drop for FreeBatch<'_> {
    fn drop(&mut self) {
        // SAFETY: these mbufs came from rte_eth_rx_burst and are freed exactly once, here.
        unsafe { sys::rte_pktmbuf_free_bulk(self.0.as_mut_ptr(), self.0.len() as u32) };
    }
}

impl RxQueue for DpdkRx {
    fn recv_burst<F: FnMut(&[u8])>(&mut self, mut on_frame: F) -> usize {
        let port_id = self.port.port_id;
        // SAFETY: a started port and one of its queues, used by this thread only; room for `burst` pointers.
        let n = unsafe {
            sys::rte_eth_rx_burst(port_id, self.queue, self.mbufs.as_mut_ptr(), self.burst)
        };
        let n = usize::from(n).min(MAX_BURST);
        let batch = FreeBatch(&mut self.mbufs[..n]);
        let mut delivered = 0;
        for &m in batch.0.iter() {
            // SAFETY: rx_burst returned n valid mbufs, which stay valid until `batch` frees them.
            let mbuf = unsafe { &*m };
            if mbuf.nb_segs != 1 {
                // lzr's buffers hold a whole standard frame; a chained (jumbo) frame is not for it.
                self.dropped += 1;
                continue;
            }
            // SAFETY: the first segment's data starts at buf_addr + data_off and holds data_len bytes; the slice
            // is only lent to the closure, so it cannot outlive the mbuf.
            let frame = unsafe {
                std::slice::from_raw_parts(
                    sys::lzr_pktmbuf_mtod(m).cast::<u8>(),
                    usize::from(mbuf.data_len),
                )
            };
            on_frame(frame);
            delivered += 1;
        }
        drop(batch);
        self.frames += delivered as u64;
        delivered
    }

    fn recv_batch<F: FnOnce(&[RxFrame<'_>])>(&mut self, on_batch: F) -> usize {
        let port_id = self.port.port_id;
        // SAFETY: a started port and one of its queues, used by this thread only; room for `burst` pointers.
        let n = unsafe {
            sys::rte_eth_rx_burst(port_id, self.queue, self.mbufs.as_mut_ptr(), self.burst)
        };
        let n = usize::from(n).min(MAX_BURST);
        let batch = FreeBatch(&mut self.mbufs[..n]);
        let mut frames = [RxFrame { bytes: &[], l4_checksum: L4Checksum::Unknown }; MAX_BURST];
        let mut delivered = 0;
        for &m in batch.0.iter() {
            // SAFETY: rx_burst returned n valid mbufs, which stay valid until `batch` frees them.
            let mbuf = unsafe { &*m };
            if mbuf.nb_segs != 1 {
                // lzr's buffers hold a whole standard frame; a chained (jumbo) frame is not for it.
                self.dropped += 1;
                continue;
            }
            // SAFETY: as in `recv_burst`; the slices are only lent to `on_batch`, before `batch` frees the mbufs.
            let bytes = unsafe {
                std::slice::from_raw_parts(
                    sys::lzr_pktmbuf_mtod(m).cast::<u8>(),
                    usize::from(mbuf.data_len),
                )
            };
            frames[delivered] = RxFrame { bytes, l4_checksum: l4_checksum(mbuf.ol_flags) };
            delivered += 1;
        }
        if delivered > 0 {
            on_batch(&frames[..delivered]);
        }
        drop(batch);
        self.frames += delivered as u64;
        delivered
    }
}

/// The device's TCP checksum verdict in an mbuf's offload flags (all zero, Unknown, unless the port enabled
/// `RTE_ETH_RX_OFFLOAD_TCP_CKSUM`). NONE (both bits: the checksum field is not valid yet, as after LRO) is
/// left to software like UNKNOWN.
pub(super) fn l4_checksum(ol_flags: u64) -> L4Checksum {
    let flags = ol_flags & u64::from(sys::RTE_MBUF_F_RX_L4_CKSUM_MASK);
    if flags == u64::from(sys::RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
        L4Checksum::Good
    } else if flags == u64::from(sys::RTE_MBUF_F_RX_L4_CKSUM_BAD) {
        L4Checksum::Bad
    } else {
        L4Checksum::Unknown
    }
}

/// Returns an allocated mbuf to its pool unless the frame was queued (also if the fill closure panics).
struct PendingMbuf(*mut sys::rte_mbuf);

impl Drop for PendingMbuf {
    fn drop(&mut self) {
        // SAFETY: an mbuf this queue allocated and did not queue.
        unsafe { sys::rte_pktmbuf_free(self.0) };
    }
}

impl TxQueue for DpdkTx {
    fn push_frame<F: FnOnce(&mut [u8])>(&mut self, len: usize, fill: F) -> bool {
        if len == 0 || len > self.max_frame || len > usize::from(u16::MAX) {
            self.bad_length += 1;
            return false;
        }
        if self.queued >= self.burst {
            self.flush();
        }
        // SAFETY: a live pool (the port outlives this queue).
        let m = unsafe { sys::rte_pktmbuf_alloc(self.port.pool) };
        if m.is_null() {
            self.no_buffer += 1;
            return false;
        }
        let guard = PendingMbuf(m);
        // SAFETY: a fresh mbuf with at least max_frame bytes of tailroom; append reserves `len` of them.
        let data = unsafe { sys::rte_pktmbuf_append(m, len as u16) };
        if data.is_null() {
            self.bad_length += 1;
            return false;
        }
        // SAFETY: `data` points at `len` writable bytes inside the mbuf, owned by this queue until queued.
        let buf = unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), len) };
        fill(buf);
        std::mem::forget(guard);
        if let Some(slot) = self.pending.get_mut(self.queued) {
            *slot = m;
            self.queued += 1;
            true
        } else {
            // Unreachable by the flush above; free rather than leak.
            drop(PendingMbuf(m));
            self.dropped += 1;
            false
        }
    }

    fn flush(&mut self) -> usize {
        let total = self.queued;
        let mut sent = 0;
        for _ in 0..TX_ATTEMPTS {
            if sent == total {
                break;
            }
            let rest = &mut self.pending[sent..total];
            // SAFETY: a started port and one of its queues, this thread only; the device takes ownership of the
            // first `n` mbufs it reports.
            let n = unsafe {
                sys::rte_eth_tx_burst(
                    self.port.port_id,
                    self.queue,
                    rest.as_mut_ptr(),
                    rest.len() as u16,
                )
            };
            sent += usize::from(n);
        }
        if sent < total {
            let unsent = &mut self.pending[sent..total];
            // SAFETY: mbufs the device did not take are still ours: free each once.
            unsafe { sys::rte_pktmbuf_free_bulk(unsent.as_mut_ptr(), unsent.len() as u32) };
            self.dropped += (total - sent) as u64;
        }
        self.queued = 0;
        self.frames += sent as u64;
        sent
    }

    fn pending(&self) -> usize {
        self.queued
    }

    fn max_frame_len(&self) -> usize {
        self.max_frame
    }
}

impl Drop for DpdkTx {
    /// Frames queued but never flushed are freed, not sent.
    fn drop(&mut self) {
        let queued = &mut self.pending[..self.queued];
        // SAFETY: queued mbufs are owned by this queue; freed once.
        unsafe { sys::rte_pktmbuf_free_bulk(queued.as_mut_ptr(), queued.len() as u32) };
        self.queued = 0;
    }
}

impl QueuePair for DpdkQueue {
    type Rx = DpdkRx;
    type Tx = DpdkTx;

    fn index(&self) -> u16 {
        self.index
    }

    fn split(&mut self) -> (&mut DpdkRx, &mut DpdkTx) {
        (&mut self.rx, &mut self.tx)
    }

    fn stats(&self) -> QueueStats {
        QueueStats {
            rx_frames: self.rx.frames,
            rx_dropped: self.rx.dropped,
            tx_frames: self.tx.frames,
            tx_dropped: self.tx.dropped,
            tx_no_buffer: self.tx.no_buffer,
            tx_bad_length: self.tx.bad_length,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offload_flags_map_to_verdicts() {
        let good = u64::from(sys::RTE_MBUF_F_RX_L4_CKSUM_GOOD);
        let bad = u64::from(sys::RTE_MBUF_F_RX_L4_CKSUM_BAD);
        // Other flags (IP checksum, RSS hash, ...) around them do not matter.
        let other = 1 << 1 | 1 << 7;
        assert_eq!(l4_checksum(0), L4Checksum::Unknown);
        assert_eq!(l4_checksum(good | other), L4Checksum::Good);
        assert_eq!(l4_checksum(bad | other), L4Checksum::Bad);
        assert_eq!(l4_checksum(good | bad), L4Checksum::Unknown);
        assert_eq!(l4_checksum(other), L4Checksum::Unknown);
    }
}
