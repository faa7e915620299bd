//! One worker: the loop pinned to one lcore that owns one RX and one TX queue, one flow shard and its timers.
//! Nothing on this path is shared with other workers except lock-free rings (commands in, records out, and
//! frames handed over when the device cannot steer by source address).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_queue::ArrayQueue;

use crate::flow::{Event, FlowConfig, FlowCounters, FlowShard, Segment, SynAckFields, Target};
use crate::neighbor::{Neighbor, NeighborConfig};
use crate::port::{L4Checksum, QueuePair, RxQueue, TxQueue};
use crate::record::Record;
use crate::wire::{parse_frame, Frame, MacAddr};

use super::counters::{EngineCounters, WorkerStats};
use super::emit::{Emitter, Templates};
use super::exception::{is_answer_to_a_syn, ExceptionPort};
use super::probes::{CachingProbes, ProbeCache, Probes};
use super::steer::Owner;

/// A target for a worker, routed by the management thread to the target's owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Open a handshake ourselves (stateless SYN).
    Open(Target),
    /// Continue the handshake ZMap opened.
    ZmapSynAck(SynAckFields),
}

/// Signals from the management thread to every worker.
#[derive(Debug, Default)]
pub struct Control {
    /// Input is over and nothing is in flight: leave the loop once idle.
    pub stop: AtomicBool,
    /// Expire every flow now (records still written), e.g. on SIGINT or at the end of the cooldown.
    pub drain: AtomicBool,
}

/// Wall-clock nanoseconds from a monotonic source: records carry real timestamps, timers never go backwards.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
    base_ns: u64,
}

impl Clock {
    pub fn new() -> Clock {
        let base_ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        Clock { start: Instant::now(), base_ns }
    }

    pub fn now_ns(&self) -> u64 {
        self.base_ns + self.start.elapsed().as_nanos() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// Rings joining one worker to the management thread and to the other workers.
#[derive(Clone, Debug)]
pub struct WorkerLinks {
    pub commands: Arc<ArrayQueue<Command>>,
    pub results: Arc<ArrayQueue<Record>>,
    /// Every worker's inbox of handed-over frames, indexed by worker.
    pub inboxes: Arc<Vec<ArrayQueue<Vec<u8>>>>,
    pub stats: Arc<WorkerStats>,
    pub control: Arc<Control>,
    /// ZMap pipe mode through an exception tap: SYN-ACKs and RSTs bound for ZMap, drained by the worker that
    /// owns the tap (see [`super::exception`]).
    pub to_exception: Option<Arc<ArrayQueue<Vec<u8>>>>,
}

/// Everything a worker is configured with.
#[derive(Clone, Debug)]
pub struct WorkerSetup {
    pub index: usize,
    pub flow: FlowConfig,
    /// Handshake lists, probe bytes and fingerprint matchers by target port.
    pub probes: Probes,
    /// Answers ARP / neighbour solicitations for our addresses (the gateway is already resolved).
    pub neighbor: NeighborConfig,
    pub mac: MacAddr,
    pub gateway: MacAddr,
    /// Send SYNs exactly as the original (no MSS option).
    pub original_syn: bool,
    pub owner: Owner,
    pub clock: Clock,
}

/// What a worker hands back when it leaves its loop.
#[derive(Clone, Debug, Default)]
pub struct WorkerReport {
    pub engine: EngineCounters,
    pub flow: FlowCounters,
    /// The worker's queue pair's own counters (frames the device refused, multi-segment frames dropped).
    pub queue: crate::port::QueueStats,
}

/// What becomes of one received frame.
enum Routed<'a> {
    Segment(Segment<'a>),
    Neighbor(Frame<'a>),
    /// Handed over, dropped or counted.
    Done,
}

/// Commands taken per loop turn: bounds the time between two receive bursts.
const COMMAND_BATCH: usize = 256;
/// Handed-over frames taken per loop turn.
const INBOX_BATCH: usize = 256;
/// Loop turns between two publications of the live figures.
const PUBLISH_EVERY: u32 = 1024;

/// The allocation of `segments`, emptied, as a vector of segments of another lifetime: the receive burst's
/// buffer outlives the frames its segments borrow. An in-place collect of an empty vector keeps its capacity.
#[allow(clippy::unnecessary_filter_map)] // `filter` cannot change the element's lifetime
fn reuse_empty<'a, 'b>(mut segments: Vec<Segment<'a>>) -> Vec<Segment<'b>> {
    segments.clear();
    segments.into_iter().filter_map(|_| None).collect()
}

/// Runs one worker until the management thread says stop and nothing is left in flight. `exception`: the
/// tap ZMap sends on, for the one worker that owns it.
pub fn run_worker<Q: QueuePair>(
    setup: WorkerSetup,
    mut queue: Q,
    exception: Option<Box<dyn ExceptionPort>>,
    links: WorkerLinks,
) -> WorkerReport {
    let Some(mut worker) = Worker::new(setup, links, exception) else { return WorkerReport::default() };
    worker.run(&mut queue);
    WorkerReport { queue: queue.stats(), ..worker.report() }
}

/// A worker its caller drives one loop turn at a time, on the caller's thread: for the engine benchmark, which
/// must time the worker's turns alone (a spinning [`run_worker`] thread also burns CPU while it waits for its
/// peer, which on a shared machine says nothing about the engine), and for deterministic tests.
pub struct SteppedWorker {
    worker: Worker,
}

impl SteppedWorker {
    /// None when the flow configuration is invalid (logged, as in [`run_worker`]).
    pub fn new(setup: WorkerSetup, links: WorkerLinks) -> Option<SteppedWorker> {
        Worker::new(setup, links, None).map(|worker| SteppedWorker { worker })
    }

    /// One turn of the loop [`run_worker`] spins (commands, one receive burst, handed-over frames, end of burst,
    /// timers, flush, records to the result ring). Returns the commands and frames it took (0: nothing came in).
    pub fn step<Q: QueuePair>(&mut self, queue: &mut Q) -> usize {
        self.worker.turn(queue).2
    }

    /// No command waiting, no flow in flight, no record held back.
    pub fn is_idle(&self) -> bool {
        self.worker.idle()
    }

    /// The counters so far.
    pub fn report(&self) -> WorkerReport {
        self.worker.report()
    }
}

struct Worker {
    index: usize,
    shard: FlowShard,
    neighbor: Neighbor,
    templates: Templates,
    probes: Probes,
    owner: Owner,
    clock: Clock,
    links: WorkerLinks,
    counters: EngineCounters,
    scratch: Vec<u8>,
    probe_cache: RefCell<ProbeCache>,
    /// ZMap SYN-ACKs taken from the command ring this turn, fed to the flow shard as one batch.
    synacks: Vec<SynAckFields>,
    /// The segments of one receive burst: kept empty between bursts, so its allocation serves every burst.
    burst: Vec<Segment<'static>>,
    finished: Vec<Record>,
    pending: VecDeque<Record>,
    last_tick_ms: u64,
    drained: bool,
    exception: Option<Box<dyn ExceptionPort>>,
    gateway: MacAddr,
    mac: MacAddr,
}

impl Worker {
    fn new(setup: WorkerSetup, links: WorkerLinks, exception: Option<Box<dyn ExceptionPort>>) -> Option<Worker> {
        // The runner validates the flow configuration before launching; a failure here leaves an empty report.
        let shard = FlowShard::new(setup.flow).map_err(|e| log::error!("worker {}: {e}", setup.index)).ok()?;
        let now_ms = setup.clock.now_ns() / 1_000_000;
        Some(Worker {
            index: setup.index,
            shard,
            neighbor: Neighbor::new(setup.neighbor, now_ms),
            templates: Templates::new(setup.mac, setup.gateway, setup.original_syn),
            probes: setup.probes,
            owner: setup.owner,
            clock: setup.clock,
            links,
            counters: EngineCounters::default(),
            scratch: Vec::with_capacity(2048),
            probe_cache: RefCell::new(ProbeCache::default()),
            synacks: Vec::with_capacity(COMMAND_BATCH),
            burst: Vec::new(),
            finished: Vec::new(),
            pending: VecDeque::new(),
            last_tick_ms: now_ms,
            drained: false,
            exception,
            gateway: setup.gateway,
            mac: setup.mac,
        })
    }

    fn report(&self) -> WorkerReport {
        WorkerReport { engine: self.counters.clone(), flow: self.shard.counters().clone(), queue: Default::default() }
    }

    fn run<Q: QueuePair>(&mut self, queue: &mut Q) {
        let mut turns: u32 = 0;
        loop {
            let (now, took, busy) = self.turn(queue);
            let tx = queue.split().1;
            let idle = took == 0 && self.idle();
            turns = turns.wrapping_add(1);
            if turns % PUBLISH_EVERY == 0 || idle {
                self.publish(idle);
            }
            if idle && self.links.control.stop.load(Relaxed) {
                // A drain leaves tombstones only; expire them so the last counters are final.
                self.event(Event::ExpireAll, now, tx);
                tx.flush();
                self.deliver_records();
                if self.pending.is_empty() {
                    self.publish(true);
                    return;
                }
            }
            if busy == 0 {
                std::hint::spin_loop();
            }
        }
    }

    /// One loop turn: commands, one receive burst, handed-over frames, end of burst, the clock tick, a drain
    /// request, flush, records. Gives the turn's time, the commands it took, and commands plus frames.
    fn turn<Q: QueuePair>(&mut self, queue: &mut Q) -> (u64, usize, usize) {
        let now = self.clock.now_ns();
        let (rx, tx) = queue.split();
        // Receive before sending new SYNs: answers waiting in the ring go first, and a device whose receive
        // path only hands buffers to its peer when polled (memif) has been polled before any SYN can be answered.
        let received = self.receive(now, rx, tx);
        let took = self.take_commands(now, tx);
        let handed = self.take_inbox(now, tx) + self.exchange_with_zmap(tx);
        if received + handed > 0 {
            self.event(Event::EndOfBurst, now, tx);
        }
        let now_ms = now / 1_000_000;
        if now_ms != self.last_tick_ms {
            self.last_tick_ms = now_ms;
            self.event(Event::Tick, now, tx);
        }
        if !self.drained && self.links.control.drain.load(Relaxed) {
            self.drained = true;
            self.event(Event::ExpireAll, now, tx);
        }
        tx.flush();
        self.deliver_records();
        (now, took, took + received + handed)
    }

    /// Nothing to do: no command waiting, no flow in flight, no record or handed-over frame pending.
    fn idle(&self) -> bool {
        self.links.commands.is_empty() && self.shard.is_idle() && self.pending.is_empty() && self.inbox().is_empty()
    }

    /// Feeds one event to the flow shard, turning its actions into frames on `tx`.
    fn event<T: TxQueue>(&mut self, event: Event<'_>, now: u64, tx: &mut T) {
        self.drive(tx, |shard, probes, sink| shard.handle(event, now, probes, sink));
    }

    /// Runs `f` on the flow shard with the probe lengths it asks for and the sink that turns its actions into
    /// frames on `tx` (and its finished flows into records).
    fn drive<T: TxQueue>(&mut self, tx: &mut T, f: impl FnOnce(&mut FlowShard, &CachingProbes<'_>, &mut Emitter<'_, T>)) {
        let mut sink = Emitter {
            tx,
            templates: &mut self.templates,
            probes: &self.probes,
            scratch: &mut self.scratch,
            probe_cache: &self.probe_cache,
            finished: &mut self.finished,
            counters: &mut self.counters,
        };
        let probes = CachingProbes { probes: &self.probes, cache: &self.probe_cache };
        f(&mut self.shard, &probes, &mut sink);
    }

    fn inbox(&self) -> &ArrayQueue<Vec<u8>> {
        &self.links.inboxes[self.index]
    }

    /// Commands of this turn, in order; runs of ZMap SYN-ACKs go to the flow shard as batches (their lookups
    /// overlap), an Open first hands over the SYN-ACKs before it.
    fn take_commands<T: TxQueue>(&mut self, now: u64, tx: &mut T) -> usize {
        let mut took = 0;
        while took < COMMAND_BATCH {
            let Some(cmd) = self.links.commands.pop() else { break };
            took += 1;
            match cmd {
                Command::ZmapSynAck(f) => self.synacks.push(f),
                Command::Open(t) => {
                    self.zmap_synacks(now, tx);
                    self.event(Event::Open(t), now, tx);
                }
            }
        }
        self.zmap_synacks(now, tx);
        self.counters.commands += took as u64;
        took
    }

    /// Feeds the SYN-ACKs gathered from the command ring to the flow shard as one batch.
    fn zmap_synacks<T: TxQueue>(&mut self, now: u64, tx: &mut T) {
        if self.synacks.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut self.synacks);
        self.drive(tx, |shard, probes, sink| shard.zmap_synacks(&batch, now, probes, sink));
        batch.clear();
        self.synacks = batch; // keeps its capacity for the next turn
    }

    /// One receive burst: TCP segments for this worker go to the flow shard as one batch (its lookups overlap);
    /// a neighbour frame first hands over the segments before it, so events keep the arrival order.
    fn receive<R: RxQueue, T: TxQueue>(&mut self, now: u64, rx: &mut R, tx: &mut T) -> usize {
        let mut burst = std::mem::take(&mut self.burst);
        let received = rx.recv_batch(|frames| {
            self.counters.rx_frames += frames.len() as u64;
            let mut segments = reuse_empty(std::mem::take(&mut burst));
            segments.reserve(frames.len());
            for frame in frames {
                match self.route_frame(frame.bytes, false, frame.l4_checksum) {
                    Routed::Segment(seg) => segments.push(seg),
                    Routed::Neighbor(frame) => {
                        self.segments(&segments, now, tx);
                        segments.clear();
                        self.answer_neighbor(&frame, tx);
                    }
                    Routed::Done => {}
                }
            }
            self.segments(&segments, now, tx);
            burst = reuse_empty(segments);
        });
        self.burst = burst;
        received
    }

    /// Feeds a batch of received segments to the flow shard.
    fn segments<T: TxQueue>(&mut self, segments: &[Segment<'_>], now: u64, tx: &mut T) {
        if segments.is_empty() {
            return;
        }
        self.drive(tx, |shard, probes, sink| shard.on_segments(segments, now, probes, sink));
    }

    fn take_inbox<T: TxQueue>(&mut self, now: u64, tx: &mut T) -> usize {
        let mut n = 0;
        while n < INBOX_BATCH {
            let Some(frame) = self.inbox().pop() else { break };
            n += 1;
            self.counters.handed_in += 1;
            self.handle_frame(&frame, now, tx, true);
        }
        n
    }

    /// Exception tap (worker 0 in ZMap pipe mode): ZMap's frames out of the NIC, answers to SYNs back to ZMap.
    fn exchange_with_zmap<T: TxQueue>(&mut self, tx: &mut T) -> usize {
        let Some(tap) = self.exception.as_mut() else { return 0 };
        let (mac, gateway, counters) = (self.mac, self.gateway, &mut self.counters);
        let mut n = tap.recv_from_zmap(&mut |frame| {
            // Re-address ZMap's frame: from our NIC to the gateway (ZMap's own MACs mean nothing on the wire).
            // Only ZMap's probes (TCP) leave: the kernel also sends its own chatter (router solicitations, ...).
            if !matches!(parse_frame(frame), Ok(Frame::Tcp(_))) {
                return;
            }
            if tx.push_frame(frame.len(), |b| {
                b.copy_from_slice(frame);
                b[0..6].copy_from_slice(&gateway.0);
                b[6..12].copy_from_slice(&mac.0);
            }) {
                counters.zmap_out += 1;
            } else {
                counters.tx_refused += 1;
            }
        });
        if let Some(ring) = &self.links.to_exception {
            while let Some(frame) = ring.pop() {
                n += 1;
                if tap.send_to_zmap(&frame) {
                    self.counters.zmap_in += 1;
                } else {
                    self.counters.zmap_lost += 1;
                }
            }
        }
        tap.flush_to_zmap();
        n
    }

    /// One frame taken from the inbox of handed-over frames (or a lone frame): as [`Self::receive`] does.
    fn handle_frame<T: TxQueue>(&mut self, bytes: &[u8], now: u64, tx: &mut T, handed_in: bool) {
        // Handed-over frames lost the device's verdict on the way: checked in software.
        match self.route_frame(bytes, handed_in, L4Checksum::Unknown) {
            Routed::Segment(seg) => self.event(Event::Segment(seg), now, tx),
            Routed::Neighbor(frame) => self.answer_neighbor(&frame, tx),
            Routed::Done => {}
        }
    }

    /// Where a received frame goes: a TCP segment for this worker's flow shard (copied to the ZMap tap when it
    /// answers a SYN, handed over when another worker owns its host, dropped with a bad checksum), neighbour
    /// traffic to answer, or nowhere (counted). `l4_checksum`: the device's verdict on the TCP checksum; the
    /// software check runs only when the device gave none.
    fn route_frame<'a>(&mut self, bytes: &'a [u8], handed_in: bool, l4_checksum: L4Checksum) -> Routed<'a> {
        let frame = match parse_frame(bytes) {
            Ok(f) => f,
            Err(e) => {
                self.counters.parse_drops.count(e);
                return Routed::Done;
            }
        };
        match frame {
            Frame::Tcp(t) => {
                if !handed_in && is_answer_to_a_syn(t.flags) {
                    if let Some(ring) = &self.links.to_exception {
                        if ring.push(bytes.to_vec()).is_err() {
                            self.counters.zmap_lost += 1;
                        }
                    }
                }
                if !handed_in {
                    let owner = self.owner.of(t.src_ip, t.dst_ip);
                    if owner != self.index {
                        self.hand_off(owner, bytes);
                        return Routed::Done;
                    }
                }
                let checksum_ok = match l4_checksum {
                    L4Checksum::Good => true,
                    L4Checksum::Bad => false,
                    L4Checksum::Unknown => t.checksum_valid(),
                };
                if !checksum_ok {
                    self.counters.bad_tcp_checksum += 1;
                    return Routed::Done;
                }
                self.counters.rx_segments += 1;
                Routed::Segment(Segment {
                    remote: t.src_ip,
                    remote_port: t.src_port,
                    local: t.dst_ip,
                    local_port: t.dst_port,
                    seq: t.seq,
                    ack: t.ack,
                    window: t.window,
                    flags: t.flags,
                    ttl: t.ttl,
                    payload: t.payload,
                })
            }
            Frame::Arp(_) | Frame::Ndp(_) => Routed::Neighbor(frame),
            Frame::Other { .. } => {
                self.counters.other_frames += 1;
                Routed::Done
            }
        }
    }

    /// Answers ARP / neighbour solicitations for our addresses.
    fn answer_neighbor<T: TxQueue>(&mut self, frame: &Frame<'_>, tx: &mut T) {
        if let Some(reply) = self.neighbor.handle_frame(frame) {
            let mut ok = false;
            if tx.push_frame(reply.len(), |buf| ok = reply.build(buf).is_ok()) && ok {
                self.counters.neighbor_replies += 1;
            } else {
                self.counters.tx_refused += 1;
            }
        }
    }

    /// Software steering: the device delivered a frame of another worker's host here. The copy costs one
    /// allocation per misdelivered frame, which only vdevs without RSS (af_packet, tap, memif) ever pay.
    fn hand_off(&mut self, owner: usize, bytes: &[u8]) {
        match self.links.inboxes.get(owner) {
            Some(inbox) if inbox.push(bytes.to_vec()).is_ok() => self.counters.handed_off += 1,
            _ => self.counters.handoff_full += 1,
        }
    }

    /// Labels finished flows and passes them to the management thread. A full result ring keeps them here
    /// until it has room: records are never dropped.
    fn deliver_records(&mut self) {
        // Records held back from an earlier turn go first, so the ring sees them in order.
        while let Some(r) = self.pending.pop_front() {
            if let Err(r) = self.links.results.push(r) {
                self.pending.push_front(r);
                break;
            }
        }
        for mut r in self.finished.drain(..) {
            r.handshake = self.probes.name(r.handshake_num, r.sport);
            r.fingerprint = if r.data.is_empty() {
                crate::handshakes::matcher::UNKNOWN_LABEL.into()
            } else if self.probes.could_reflect(r.handshake_num, r.sport, &r.data) {
                // The probe as sent, for echo detection. The seed only varies TLS's random bytes, so a reflected
                // ClientHello is not recognised as an echo (it is labelled tls, as by the original).
                self.scratch.clear();
                self.probes.write(r.handshake_num, r.saddr, r.sport, 0, &mut self.scratch);
                self.probes.label(&r.data, Some(&self.scratch), r.sport)
            } else {
                // Not a reflection whatever the probe's target-dependent bytes: the same label as with it.
                self.probes.label(&r.data, None, r.sport)
            };
            // Straight to the ring unless records are already waiting (or it is full).
            if !self.pending.is_empty() {
                self.pending.push_back(r);
            } else if let Err(r) = self.links.results.push(r) {
                self.pending.push_back(r);
            }
        }
    }

    fn publish(&self, idle: bool) {
        let stats = &self.links.stats;
        stats.publish(&self.counters, self.shard.counters(), self.shard.active_flows());
        stats.idle.store(idle, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_buffer_keeps_its_allocation() {
        let payload = vec![1u8, 2, 3];
        let seg = Segment {
            remote: "198.18.0.1".parse().unwrap(),
            remote_port: 80,
            local: "198.18.0.2".parse().unwrap(),
            local_port: 40000,
            seq: 1,
            ack: 2,
            window: 3,
            flags: crate::wire::TcpFlags::ACK,
            ttl: 64,
            payload: &payload,
        };
        let mut segments = Vec::with_capacity(32);
        segments.extend([seg; 5]);
        let ptr = segments.as_ptr() as usize;
        let kept: Vec<Segment<'static>> = reuse_empty(segments);
        assert!(kept.is_empty());
        assert_eq!((kept.capacity(), kept.as_ptr() as usize), (32, ptr), "same allocation, no element");
    }
}
