//! One worker's flow shard: the state machine over the flow table, the timer wheel and the record slab.
//! See the module docs of [`crate::flow`] for the diagram; the comments here say why, not what.

use std::net::IpAddr;

use crate::record::{Outcome, Record, Stage};
use crate::wire::TcpFlags;

use super::config::{FlowConfig, FlowConfigError};
use super::cookie::{Cookies, HafAnswer};
use super::counters::FlowCounters;
use super::seq;
use super::state::{bits, FlowState, Haf, LastPacket, Phase, RecordSlab, NO_RECORD};
use super::table::{FlowKey, FlowTable, KeyHash, Place};
use super::timer::{LaneId, TimerEntry, TimerWheel};
use super::{ActionSink, Event, Payload, ProbeLengths, Segment, SynAckFields, Target, Transmit};

/// The engine's clock, as the flow layer sees it.
#[derive(Clone, Copy, Debug)]
struct Now {
    ns: u64,
    ms: u64,
}

impl Now {
    fn at(ns: u64) -> Now {
        Now { ns, ms: ns / 1_000_000 }
    }
}

/// What a handler decided about the flow it worked on.
enum Fate {
    Keep,
    Remove,
}

/// Bytes of memory one shard holds, by part (allocated capacity, so the high-water mark of a run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowMemory {
    /// The table's index (fixed: sized for the configured capacity).
    pub index: usize,
    /// The flow entries (grown on demand up to the capacity) and the per-burst list.
    pub entries: usize,
    /// The timer wheel and its per-entry generations.
    pub timers: usize,
    /// Records under construction or held, with their data.
    pub slab: usize,
}

/// Segments whose lookups are overlapped by [`FlowShard::on_segments`]: enough to hide a memory round
/// trip behind the others, few enough that the prefetched lines are still in L1 when used.
const PREFETCH_GROUP: usize = 16;

/// The per-worker flow engine. Pure: it reads events and writes actions into the caller's sink.
///
/// Split in two so a handler can work on a flow in place: the table, and everything else (`Machine`).
/// A handler gets `&mut Machine` and `&mut FlowState` (an entry of the table) at once, so it cannot insert
/// or remove table entries while it holds the flow, and no flow is copied in and out.
pub struct FlowShard {
    table: FlowTable<FlowState>,
    m: Machine,
}

/// The state machine's side of a shard: configuration, cookies, timers, records under construction and
/// counters. Its handlers take the flow they work on as an argument.
struct Machine {
    config: FlowConfig,
    cookies: Cookies,
    wheel: TimerWheel,
    slab: RecordSlab,
    /// Entry numbers of the flows in [`Phase::Collecting`], finished at the end of the receive burst (so
    /// ending a burst costs as much as the flows it touched, not the table).
    collecting: Vec<u32>,
    due: Vec<TimerEntry>,
    /// Makes every later handshake's ISN input unique.
    isn_nonce: u64,
    lingering: usize,
    haf_probes: u8,
    haf_needed: u8,
    lanes: Lanes,
    counters: FlowCounters,
}

/// The timer lanes of the delays a flow arms: retransmission (`rt`), timeout (`t`) and lingering.
struct Lanes {
    retransmit: LaneId,
    timeout: LaneId,
    linger: LaneId,
}

impl FlowShard {
    pub fn new(config: FlowConfig) -> Result<FlowShard, FlowConfigError> {
        config.validate()?;
        let cookies = Cookies::new(&config);
        let mut wheel = TimerWheel::new();
        let lanes = Lanes {
            retransmit: wheel.add_lane(config.retransmit_ms),
            timeout: wheel.add_lane(config.timeout_ms),
            linger: wheel.add_lane(cookies.answer_horizon_ms()),
        };
        Ok(FlowShard {
            table: FlowTable::new(config.table_capacity, [config.secret[1], config.secret[0]]),
            m: Machine {
                wheel,
                lanes,
                slab: RecordSlab::default(),
                collecting: Vec::new(),
                due: Vec::new(),
                isn_nonce: 1,
                lingering: 0,
                haf_probes: config.effective_haf_probes(),
                haf_needed: config.haf_needed(),
                counters: FlowCounters::default(),
                cookies,
                config,
            },
        })
    }

    pub fn config(&self) -> &FlowConfig {
        &self.m.config
    }

    pub fn counters(&self) -> &FlowCounters {
        &self.m.counters
    }

    /// Flows that can still send something or produce a record (tombstones excluded).
    pub fn active_flows(&self) -> usize {
        self.table.len() - self.m.lingering
    }

    /// No flow is in flight: with input at EOF and the cooldown over, the worker may stop.
    pub fn is_idle(&self) -> bool {
        self.active_flows() == 0
    }

    /// Table entries including tombstones.
    pub fn table_len(&self) -> usize {
        self.table.len()
    }

    /// Memory held now, by part.
    pub fn memory(&self) -> FlowMemory {
        FlowMemory {
            index: self.table.index_bytes(),
            entries: self.table.entry_bytes() + self.m.collecting.capacity() * std::mem::size_of::<u32>(),
            timers: self.m.wheel.bytes() + self.m.due.capacity() * std::mem::size_of::<TimerEntry>(),
            slab: self.m.slab.bytes(),
        }
    }

    /// The single entry point: one event at `now_ns` (nanoseconds since the Unix epoch, never going back).
    pub fn handle<P, S>(&mut self, event: Event<'_>, now_ns: u64, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        let now = Now::at(now_ns);
        match event {
            Event::Open(target) => self.open_at(&target, now, out),
            Event::ZmapSynAck(fields) => self.zmap_synack_at(&fields, now, probes, out),
            Event::Segment(seg) => self.segment_at(&seg, now, probes, out),
            Event::EndOfBurst => self.end_burst_at(now, out),
            Event::Tick => self.tick_at(now, out),
            Event::ExpireAll => self.expire_all_at(now, out),
        }
    }

    /// Sends a stateless SYN to a target (handshake 0). Keeps no state.
    pub fn open<S: ActionSink + ?Sized>(&mut self, target: &Target, now_ns: u64, out: &mut S) {
        self.open_at(target, Now::at(now_ns), out)
    }

    /// Continues a handshake ZMap opened (its SYN-ACK, reference §1.1).
    pub fn zmap_synack<P, S>(&mut self, fields: &SynAckFields, now_ns: u64, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        self.zmap_synack_at(fields, Now::at(now_ns), probes, out)
    }

    /// A batch of ZMap SYN-ACKs, in order: the same as [`FlowShard::zmap_synack`] for each, with the table
    /// lookups of a group started together (see [`FlowShard::on_segments`]).
    pub fn zmap_synacks<P, S>(&mut self, batch: &[SynAckFields], now_ns: u64, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        let now = Now::at(now_ns);
        let mut hashes = [KeyHash::default(); PREFETCH_GROUP];
        for group in batch.chunks(PREFETCH_GROUP) {
            for (f, hash) in group.iter().zip(hashes.iter_mut()) {
                *hash = self.table.hash(&FlowKey { addr: f.remote, port: f.remote_port });
                self.table.prefetch(*hash);
            }
            for (f, hash) in group.iter().zip(hashes) {
                self.zmap_synack_hashed(f, hash, now, probes, out);
            }
        }
    }

    /// A received TCP segment addressed to us.
    pub fn on_segment<P, S>(&mut self, seg: &Segment<'_>, now_ns: u64, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        self.segment_at(seg, Now::at(now_ns), probes, out)
    }

    /// A receive burst of segments, in order: the same as calling [`FlowShard::on_segment`] for each, but
    /// the flow lookups of a group of segments are started together (hash all, prefetch their index lines,
    /// then their flows), so the memory latency of one flow hides behind the others'. The burst is not
    /// ended: call [`FlowShard::end_burst`] after the last segment of the receive burst.
    pub fn on_segments<P, S>(&mut self, segs: &[Segment<'_>], now_ns: u64, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        let now = Now::at(now_ns);
        let mut hashes = [KeyHash::default(); PREFETCH_GROUP];
        for group in segs.chunks(PREFETCH_GROUP) {
            for (seg, hash) in group.iter().zip(hashes.iter_mut()) {
                *hash = self.table.hash(&FlowKey { addr: seg.remote, port: seg.remote_port });
                self.table.prefetch(*hash);
            }
            for hash in &hashes[..group.len()] {
                self.table.prefetch_found(*hash);
            }
            for (seg, hash) in group.iter().zip(hashes) {
                self.segment_hashed(seg, FlowKey { addr: seg.remote, port: seg.remote_port }, hash, now, probes, out);
            }
        }
    }

    /// The receive burst is over: flows that got data in it are finished with all in-order data gathered.
    pub fn end_burst<S: ActionSink + ?Sized>(&mut self, now_ns: u64, out: &mut S) {
        self.end_burst_at(Now::at(now_ns), out)
    }

    /// Advances the clock: finishes any open burst, then fires every due timer.
    pub fn on_tick<S: ActionSink + ?Sized>(&mut self, now_ns: u64, out: &mut S) {
        self.tick_at(Now::at(now_ns), out)
    }

    /// Shutdown: ends every flow now, each in its current stage, with its record; tombstones are dropped.
    /// Afterwards the table is empty.
    pub fn expire_all<S: ActionSink + ?Sized>(&mut self, now_ns: u64, out: &mut S) {
        self.expire_all_at(Now::at(now_ns), out)
    }

    // ---- entry points -------------------------------------------------------------------------------

    fn open_at<S: ActionSink + ?Sized>(&mut self, target: &Target, now: Now, out: &mut S) {
        if self.table.find(&FlowKey { addr: target.remote, port: target.remote_port }).is_some() {
            self.m.counters.duplicate_targets += 1;
            return;
        }
        let (local_port, isn) = self.m.cookies.open(target.remote, target.remote_port, target.local, now.ms);
        self.m.counters.syns_opened += 1;
        out.transmit(Transmit {
            remote: target.remote,
            remote_port: target.remote_port,
            local: target.local,
            local_port,
            seq: isn,
            ack: 0,
            flags: TcpFlags::SYN,
            window: self.m.config.window,
            payload: Payload::None,
        });
    }

    fn zmap_synack_at<P, S>(&mut self, f: &SynAckFields, now: Now, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        let hash = self.table.hash(&FlowKey { addr: f.remote, port: f.remote_port });
        self.zmap_synack_hashed(f, hash, now, probes, out)
    }

    fn zmap_synack_hashed<P, S>(&mut self, f: &SynAckFields, hash: KeyHash, now: Now, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        let last = LastPacket { seq: f.seq, ack: f.ack, window: f.window, flags: TcpFlags::SYN_ACK, ttl: f.ttl, at_ns: now.ns };
        let key = FlowKey { addr: f.remote, port: f.remote_port };
        if self.table.find_hashed(&key, hash).is_some() {
            self.m.counters.duplicate_targets += 1;
            return;
        }
        let st = self.m.fresh_state(f.remote, f.remote_port, f.local, f.local_port, f.ack.wrapping_sub(1), last, probes);
        if f.window == 0 {
            // As the original: recorded, never answered, no state (ZMap already de-duplicates its output).
            self.m.emit(st.record(Outcome::ZeroWindow, None), out);
            return;
        }
        match self.table.insert_hashed(st, hash) {
            Ok(slot) => {
                self.m.counters.zmap_flows += 1;
                self.with_flow(slot, |m, st| {
                    m.start_attempt(st, f.seq, now, probes, out);
                    Fate::Keep
                });
            }
            Err(_) => self.m.counters.table_full += 1,
        }
    }

    fn segment_at<P, S>(&mut self, seg: &Segment<'_>, now: Now, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        let key = FlowKey { addr: seg.remote, port: seg.remote_port };
        let hash = self.table.hash(&key);
        self.segment_hashed(seg, key, hash, now, probes, out)
    }

    fn segment_hashed<P, S>(&mut self, seg: &Segment<'_>, key: FlowKey, hash: KeyHash, now: Now, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        let Some(slot) = self.table.find_hashed(&key, hash) else {
            if !self.stateless_answer(seg, hash, now, probes, out) && !self.haf_answer(seg, now, out) {
                if is_answer_to_syn(seg.flags) {
                    self.m.counters.stray_synacks += 1;
                } else {
                    self.m.counters.stray_segments += 1;
                }
            }
            return;
        };
        let Some(st) = self.table.get(slot) else { return };
        let live = !matches!(st.phase, Phase::Held | Phase::Lingering);
        if live && st.local_port == seg.local_port && st.local == seg.local {
            self.with_flow(slot, |m, st| m.flow_segment(st, seg, now, probes, out));
            return;
        }
        // A flow exists for this remote port but the segment is not for its current connection: it may
        // still answer a HyperACKtive probe whose random port hit a scanned port.
        if self.haf_answer(seg, now, out) {
            return;
        }
        if live {
            self.m.counters.rejected_segments += 1;
        } else {
            self.m.counters.late_segments += 1;
        }
    }

    fn end_burst_at<S: ActionSink + ?Sized>(&mut self, now: Now, out: &mut S) {
        let mut entries = std::mem::take(&mut self.m.collecting);
        for entry in entries.drain(..) {
            self.with_flow(entry as usize, |m, st| {
                if st.phase == Phase::Collecting {
                    m.end_attempt(st, Outcome::Data, false, false, now, out)
                } else {
                    Fate::Keep
                }
            });
        }
        self.m.collecting = entries;
    }

    fn tick_at<S: ActionSink + ?Sized>(&mut self, now: Now, out: &mut S) {
        self.end_burst_at(now, out);
        let mut due = std::mem::take(&mut self.m.due);
        self.m.counters.stale_timers += self.m.wheel.advance(now.ms, &mut due);
        // Due flows are cold (their timers were set long ago): start loading a group of them, then the index
        // lines of the tombstones among them (their removal edits the index), then work through the group.
        // (Prefetching every due flow's index line at once, from hash bits kept in the timer, measured slower:
        // most due flows are not removed, and the extra loads compete with the ones that count.)
        for group in due.chunks(PREFETCH_GROUP) {
            for timer in group {
                self.table.prefetch_entry(timer.entry as usize);
            }
            for timer in group {
                if let Some(st) = self.table.get(timer.entry as usize).filter(|st| st.phase == Phase::Lingering) {
                    self.table.prefetch(KeyHash::from_bits(st.place.hash));
                }
            }
            for timer in group {
                if self.m.wheel.is_current(timer) {
                    self.with_flow(timer.entry as usize, |m, st| m.timer_fired(st, now, out));
                } else {
                    self.m.counters.stale_timers += 1;
                }
            }
        }
        due.clear();
        self.m.due = due;
    }

    fn expire_all_at<S: ActionSink + ?Sized>(&mut self, now: Now, out: &mut S) {
        self.end_burst_at(now, out);
        let entries: Vec<usize> = self.table.occupied().collect();
        for entry in entries {
            self.with_flow(entry, |m, st| {
                if st.haf == Haf::Pending {
                    st.haf = Haf::Cleared;
                }
                let _ = match st.phase {
                    Phase::SynSent => m.end_attempt(st, Outcome::NoSynAck, false, true, now, out),
                    Phase::AckSent => {
                        let outcome = timeout_outcome(st);
                        m.end_attempt(st, outcome, false, true, now, out)
                    }
                    Phase::Acked => m.end_attempt(st, Outcome::AckedNoData, false, true, now, out),
                    // end_burst above finished every collecting flow; kept for completeness.
                    Phase::Collecting => m.end_attempt(st, Outcome::Data, false, true, now, out),
                    Phase::Held => m.release_held(st, now, out),
                    Phase::Lingering => Fate::Remove,
                };
                Fate::Remove
            });
        }
    }

    /// Runs `f` on the flow in entry `slot`, in place, then removes the flow if `f` says so.
    fn with_flow(&mut self, slot: usize, f: impl FnOnce(&mut Machine, &mut FlowState) -> Fate) {
        let Some(st) = self.table.get_mut(slot) else { return };
        if let Fate::Remove = f(&mut self.m, st) {
            let (phase, record, entry) = (st.phase, st.record, st.place.entry);
            if phase == Phase::Lingering {
                self.m.lingering -= 1;
            }
            if record != NO_RECORD {
                self.m.slab.take(record);
            }
            // The entry number will name another flow: its pending timer must not fire for that one.
            self.m.wheel.disarm(entry);
            self.table.remove(slot);
        }
    }

    // ---- answers to stateless SYNs and HyperACKtive probes ------------------------------------------

    /// An answer to one of our HyperACKtive probes? Counts it for its parent and decides at once.
    fn haf_answer<S: ActionSink + ?Sized>(&mut self, seg: &Segment<'_>, now: Now, out: &mut S) -> bool {
        if self.m.haf_probes == 0 || !is_answer_to_syn(seg.flags) {
            return false;
        }
        let Some(answer) = self.m.cookies.check_haf(seg.remote, seg.remote_port, seg.local, seg.local_port, seg.ack, self.m.haf_probes) else {
            return false;
        };
        if !seg.flags.rst() {
            // Close the probe's half-open connection on the host.
            out.transmit(Transmit {
                remote: seg.remote,
                remote_port: seg.remote_port,
                local: seg.local,
                local_port: seg.local_port,
                seq: seg.ack,
                ack: 0,
                flags: TcpFlags::RST,
                window: 0,
                payload: Payload::None,
            });
        }
        let parent = FlowKey { addr: seg.remote, port: answer.parent_port };
        let Some(slot) = self.table.find(&parent) else {
            self.m.counters.haf_ignored += 1;
            return true;
        };
        self.with_flow(slot, |m, st| m.haf_probe_answer(st, seg, answer, now, out));
        true
    }

    /// A SYN-ACK or RST+ACK for a remote port without state: an answer to one of our stateless SYNs if its
    /// cookie checks out. State is created only now.
    fn stateless_answer<P, S>(&mut self, seg: &Segment<'_>, hash: KeyHash, now: Now, probes: &P, out: &mut S) -> bool
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        if !is_answer_to_syn(seg.flags) {
            return false;
        }
        let Some(isn) = self.m.cookies.check_open(seg.remote, seg.remote_port, seg.local, seg.local_port, seg.ack, now.ms) else {
            return false;
        };
        self.m.counters.syns_answered += 1;
        let mut st = self.m.fresh_state(seg.remote, seg.remote_port, seg.local, seg.local_port, isn, last_of(seg, now), probes);
        if seg.flags.rst() || seg.window == 0 {
            // Closed port, or a zero-window SYN-ACK: recorded once, never answered. The tombstone makes
            // repeats of this answer late packets instead of second records.
            let record = if seg.flags.rst() {
                st.record(Outcome::Closed, Some(Stage::SynAck))
            } else {
                st.record(Outcome::ZeroWindow, None)
            };
            self.m.emit(record, out);
            st.phase = Phase::Lingering;
            match self.table.insert_hashed(st, hash) {
                Ok(entry) => {
                    self.m.lingering += 1;
                    self.m.wheel.arm_on(self.m.lanes.linger, entry as u32, now.ms);
                }
                Err(_) => self.m.counters.tombstones_refused += 1,
            }
            return true;
        }
        match self.table.insert_hashed(st, hash) {
            Ok(slot) => {
                self.m.counters.cookie_flows += 1;
                self.with_flow(slot, |m, st| {
                    m.start_attempt(st, seg.seq, now, probes, out);
                    Fate::Keep
                });
            }
            Err(_) => self.m.counters.table_full += 1,
        }
        true
    }
}

impl Machine {
    // ---- the machine ------------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn fresh_state<P: ProbeLengths + ?Sized>(
        &self,
        remote: IpAddr,
        remote_port: u16,
        local: IpAddr,
        local_port: u16,
        isn: u32,
        last: LastPacket,
        probes: &P,
    ) -> FlowState {
        let handshakes = probes.handshake_count(remote_port).unwrap_or(self.config.handshakes).max(1);
        FlowState {
            remote,
            local,
            remote_port,
            local_port,
            phase: Phase::AckSent,
            handshake: 0,
            counter: 0,
            bits: 0,
            handshakes,
            haf: Haf::Off,
            haf_yes: 0,
            haf_no: 0,
            isn,
            rcv_nxt: last.seq.wrapping_add(1),
            snd_acked: isn.wrapping_add(1),
            probe_len: 0,
            sent_len: 0,
            last,
            record: NO_RECORD,
            place: Place::default(),
            haf_deadline_ms: 0,
        }
    }

    /// Arms the flow's one timer on `lane`, that lane's delay from now (its previous one, if any, becomes
    /// stale).
    fn arm_on(&mut self, st: &FlowState, now: Now, lane: LaneId) {
        self.wheel.arm_on(lane, st.place.entry, now.ms);
    }

    /// Kills the flow's armed timer without arming another.
    fn disarm(&mut self, st: &FlowState) {
        self.wheel.disarm(st.place.entry);
    }

    fn emit<S: ActionSink + ?Sized>(&mut self, record: Record, out: &mut S) {
        self.counters.outcomes[record.outcome.index()] += 1;
        out.finished(record);
    }

    fn send<S: ActionSink + ?Sized>(&self, st: &FlowState, seq: u32, ack: u32, flags: TcpFlags, payload: Payload, out: &mut S) {
        let window = if flags.rst() { 0 } else { self.config.window };
        out.transmit(Transmit {
            remote: st.remote,
            remote_port: st.remote_port,
            local: st.local,
            local_port: st.local_port,
            seq,
            ack,
            flags,
            window,
            payload,
        });
    }

    fn send_syn<S: ActionSink + ?Sized>(&self, st: &FlowState, out: &mut S) {
        self.send(st, st.isn, 0, TcpFlags::SYN, Payload::None, out);
    }

    /// Our teardown is always a bare RST at the sequence number the host expects from us.
    fn send_rst<S: ActionSink + ?Sized>(&self, st: &FlowState, out: &mut S) {
        self.send(st, st.snd_acked, 0, TcpFlags::RST, Payload::None, out);
    }

    fn probe_payload(&self, st: &FlowState) -> Payload {
        if st.probe_len == 0 {
            return Payload::None;
        }
        let seed = self.cookies.probe_seed(st.remote, st.remote_port, st.local, st.local_port, st.handshake, st.isn);
        Payload::Probe { handshake: st.handshake, seed }
    }

    /// The host's SYN-ACK (server ISN `their_isn`) arrived for the current attempt: send our ACK, with the
    /// probe piggybacked but without PSH (the paper's §5.3: PSH on the first ACK made 0.6% of hosts close).
    fn start_attempt<P, S>(&mut self, st: &mut FlowState, their_isn: u32, now: Now, probes: &P, out: &mut S)
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        st.rcv_nxt = their_isn.wrapping_add(1);
        st.snd_acked = st.isn.wrapping_add(1);
        st.phase = Phase::AckSent;
        st.counter = 0;
        st.bits &= !bits::PER_ATTEMPT;
        let seed = self.cookies.probe_seed(st.remote, st.remote_port, st.local, st.local_port, st.handshake, st.isn);
        let len = probes.probe_len(st.handshake, st.remote, st.remote_port, seed);
        st.probe_len = u32::try_from(len).unwrap_or(u32::MAX);
        let payload = if self.config.push_data_only || st.probe_len == 0 {
            Payload::None
        } else {
            Payload::Probe { handshake: st.handshake, seed }
        };
        st.sent_len = if matches!(payload, Payload::None) { 0 } else { st.probe_len };
        self.send(st, st.isn.wrapping_add(1), st.rcv_nxt, TcpFlags::ACK, payload, out);
        self.arm_on(st, now, self.lanes.retransmit);
    }

    /// Resends the original probe bytes at the original sequence number, now with PSH (under
    /// push-data-only this is the probe's first and only trip).
    fn retransmit_probe<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, now: Now, out: &mut S) {
        st.counter += 1;
        st.sent_len = st.probe_len;
        let payload = self.probe_payload(st);
        self.send(st, st.isn.wrapping_add(1), st.rcv_nxt, TcpFlags::PSH_ACK, payload, out);
        self.counters.ack_retransmissions += 1;
        self.arm_on(st, now, self.lanes.timeout);
    }

    fn flow_segment<P, S>(&mut self, st: &mut FlowState, seg: &Segment<'_>, now: Now, probes: &P, out: &mut S) -> Fate
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        match st.phase {
            Phase::SynSent => self.syn_sent_segment(st, seg, now, probes, out),
            Phase::AckSent | Phase::Acked => self.established_segment(st, seg, now, out),
            Phase::Collecting => {
                self.collect_more(st, seg);
                Fate::Keep
            }
            Phase::Held | Phase::Lingering => {
                self.counters.late_segments += 1;
                Fate::Keep
            }
        }
    }

    fn syn_sent_segment<P, S>(&mut self, st: &mut FlowState, seg: &Segment<'_>, now: Now, probes: &P, out: &mut S) -> Fate
    where
        P: ProbeLengths + ?Sized,
        S: ActionSink + ?Sized,
    {
        let answers_our_syn = seg.flags.ack() && seg.ack == st.isn.wrapping_add(1);
        if !answers_our_syn {
            self.counters.rejected_segments += 1;
            return Fate::Keep;
        }
        st.last = last_of(seg, now);
        if seg.flags.rst() {
            // An RST+ACK to our SYN: closed, at once (the original waited for the SYN timeout).
            return self.end_attempt(st, Outcome::Closed, true, false, now, out);
        }
        if !seg.flags.syn() {
            self.counters.rejected_segments += 1;
            return Fate::Keep;
        }
        if seg.window == 0 {
            return self.end_attempt(st, Outcome::ZeroWindow, true, false, now, out);
        }
        self.start_attempt(st, seg.seq, now, probes, out);
        Fate::Keep
    }

    fn established_segment<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, seg: &Segment<'_>, now: Now, out: &mut S) -> Fate {
        let snd_nxt = st.snd_nxt();
        if seg.flags.syn() {
            let retransmitted = seg.flags.ack()
                && !seg.flags.rst()
                && seg.seq == st.rcv_nxt.wrapping_sub(1)
                && seg.ack == st.isn.wrapping_add(1);
            if retransmitted {
                // Our ACK never reached the host. Not answered: our own retransmission is on its way.
                st.bits |= bits::SYNACK_RETX;
                self.counters.synack_retransmissions += 1;
            } else {
                self.counters.rejected_segments += 1;
            }
            return Fate::Keep;
        }
        let len = seg.payload.len();
        // Data must start exactly where we expect; bare segments may also sit one below (keep-alives, and
        // the original's tolerance for RSTs).
        let seq_ok = seg.seq == st.rcv_nxt || (len == 0 && seg.seq == st.rcv_nxt.wrapping_sub(1));
        // An acknowledgment must lie between our SYN and our last byte sent: partial ACKs are fine.
        let ack_ok = if seg.flags.ack() { seq::in_range(seg.ack, st.isn.wrapping_add(1), snd_nxt) } else { seg.flags.rst() };
        if !(seq_ok && ack_ok) {
            self.counters.rejected_segments += 1;
            return Fate::Keep;
        }
        if seg.flags.ack() {
            st.bits |= bits::HOST_ACKED;
            if seq::lt(st.snd_acked, seg.ack) {
                st.snd_acked = seg.ack;
            }
            if st.sent_len > 0 && seg.ack == snd_nxt {
                st.bits |= bits::DATA_ACKED | bits::DATA_ACKED_EVER;
            }
        }
        st.last = last_of(seg, now);
        if len > 0 {
            self.begin_collecting(st, seg, now);
            return Fate::Keep;
        }
        if seg.flags.rst() {
            // The host tore the connection down without a word: the paper's "RST right after the handshake",
            // whether or not the RST acknowledges our probe (the record's `ACKed` keeps that).
            let outcome = Outcome::RstAfterHandshake;
            return self.end_attempt(st, outcome, true, false, now, out);
        }
        if seg.flags.fin() {
            return self.end_attempt(st, Outcome::Fin, false, false, now, out);
        }
        if st.phase == Phase::AckSent && seg.flags.ack() && seg.ack == snd_nxt {
            st.phase = Phase::Acked;
            st.counter = 0;
            self.arm_on(st, now, self.lanes.timeout);
        }
        Fate::Keep
    }

    /// The first data segment: the flow ends with the end of this receive burst, keeping every in-order
    /// continuation that arrives in the same burst (up to the data cap).
    fn begin_collecting(&mut self, st: &mut FlowState, seg: &Segment<'_>, now: Now) {
        let mut record = st.record(Outcome::Data, st.phase.stage());
        let keep = seg.payload.len().min(self.config.data_cap);
        record.data = seg.payload[..keep].to_vec();
        if keep < seg.payload.len() {
            st.bits |= bits::TRUNCATED;
            self.counters.data_truncated += 1;
        }
        record.timestamp_ns = now.ns;
        st.rcv_nxt = seg.seq.wrapping_add(seg.payload.len() as u32);
        st.bits |= bits::DATA_SEEN;
        st.record = self.slab.insert(record);
        st.phase = Phase::Collecting;
        self.disarm(st);
        self.collecting.push(st.place.entry);
    }

    fn collect_more(&mut self, st: &mut FlowState, seg: &Segment<'_>) {
        let len = seg.payload.len();
        // Bytes of this segment we already hold (a retransmission may overlap what we have).
        let overlap = seq::diff(st.rcv_nxt, seg.seq);
        let in_order = len > 0
            && !seg.flags.syn()
            && seg.flags.ack()
            && seq::in_range(seg.ack, st.isn.wrapping_add(1), st.snd_nxt())
            && overlap >= 0
            && (overlap as usize) < len;
        if !in_order {
            self.counters.late_segments += 1;
            return;
        }
        let fresh = &seg.payload[overlap as usize..];
        st.rcv_nxt = st.rcv_nxt.wrapping_add(fresh.len() as u32);
        let cap = self.config.data_cap;
        let Some(record) = self.slab.get_mut(st.record) else { return };
        let room = cap.saturating_sub(record.data.len());
        let keep = fresh.len().min(room);
        record.data.extend_from_slice(&fresh[..keep]);
        if keep < fresh.len() && !st.has(bits::TRUNCATED) {
            st.bits |= bits::TRUNCATED;
            self.counters.data_truncated += 1;
        }
    }

    fn timer_fired<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, now: Now, out: &mut S) -> Fate {
        let retries_left = st.counter < self.config.retransmissions;
        match st.phase {
            Phase::SynSent if retries_left => {
                st.counter += 1;
                self.send_syn(st, out);
                self.counters.syn_retransmissions += 1;
                self.arm_on(st, now, self.lanes.timeout);
                Fate::Keep
            }
            Phase::SynSent => self.end_attempt(st, Outcome::NoSynAck, false, false, now, out),
            Phase::AckSent | Phase::Acked if retries_left => {
                self.retransmit_probe(st, now, out);
                Fate::Keep
            }
            Phase::AckSent => {
                let outcome = timeout_outcome(st);
                self.end_attempt(st, outcome, false, false, now, out)
            }
            Phase::Acked => self.end_attempt(st, Outcome::AckedNoData, false, false, now, out),
            Phase::Collecting => self.end_attempt(st, Outcome::Data, false, false, now, out),
            Phase::Held => {
                self.haf_settle(st, now);
                if st.haf == Haf::Pending {
                    st.haf = Haf::Cleared;
                }
                self.release_held(st, now, out)
            }
            Phase::Lingering => Fate::Remove,
        }
    }

    /// The current attempt ended with `outcome`. `peer_closed`: the host's own RST (or an answer to our
    /// SYN) ended it, so no RST of ours is due. `last_attempt`: no further handshake, whatever the rules say.
    fn end_attempt<S: ActionSink + ?Sized>(
        &mut self,
        st: &mut FlowState,
        outcome: Outcome,
        peer_closed: bool,
        last_attempt: bool,
        now: Now,
        out: &mut S,
    ) -> Fate {
        let connected = matches!(st.phase, Phase::AckSent | Phase::Acked | Phase::Collecting);
        if connected && st.sent_len == 0 && !st.has(bits::SYNACK_RETX) {
            st.bits |= bits::PURE_ACK_THROUGH;
        }
        if connected && !peer_closed {
            self.send_rst(st, out);
        }
        let cfg = &self.config;
        let unacked_host = cfg.stop_when_unacked && st.sent_len > 0 && !st.has(bits::DATA_ACKED_EVER) && outcome != Outcome::Data;
        let terminal = last_attempt
            || usize::from(st.handshake) + 1 >= usize::from(st.handshakes)
            || outcome == Outcome::ZeroWindow
            || (!cfg.force_all && matches!(outcome, Outcome::Data | Outcome::NoSynAck | Outcome::Closed))
            || unacked_host;
        let force_all_quiet = cfg.force_all && st.has(bits::DATA_SEEN) && outcome != Outcome::Data;
        let record = if terminal && force_all_quiet {
            self.counters.force_all_suppressed += 1;
            None
        } else if terminal || outcome == Outcome::Data {
            Some(self.take_record(st, outcome, now))
        } else {
            None
        };
        if terminal {
            return match record {
                Some(record) => self.finish_with(st, record, now, out),
                None => self.linger(st, now),
            };
        }
        if let Some(record) = record {
            // Force-all: every data answer is its own record; the flow goes on.
            self.emit(record, out);
        }
        self.next_handshake(st, now, out);
        Fate::Keep
    }

    /// The record of the ending attempt: the collected one for data, otherwise built from the flow.
    fn take_record(&mut self, st: &mut FlowState, outcome: Outcome, now: Now) -> Record {
        if st.record != NO_RECORD {
            let taken = self.slab.take(st.record);
            st.record = NO_RECORD;
            if let Some(record) = taken {
                return record;
            }
        }
        match outcome {
            Outcome::NoSynAck => {
                // Nothing was received: the record shows our SYN, as the original's synthesized record.
                let mut record = st.record(outcome, Some(Stage::SynAck));
                record.seqnum = st.isn;
                record.acknum = 0;
                record.window = self.config.window;
                record.ttl = 0;
                record.flags = TcpFlags::SYN;
                record.timestamp_ns = now.ns;
                record
            }
            Outcome::ZeroWindow => st.record(outcome, None),
            _ => st.record(outcome, st.phase.stage()),
        }
    }

    /// The flow is over with `record`: hold it while a HyperACKtive decision is pending, else write it.
    fn finish_with<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, record: Record, now: Now, out: &mut S) -> Fate {
        self.haf_settle(st, now);
        if st.haf == Haf::Pending {
            st.record = self.slab.insert(record);
            st.phase = Phase::Held;
            self.wheel.arm(st.place.entry, st.haf_deadline_ms);
            return Fate::Keep;
        }
        self.emit(record, out);
        self.linger(st, now)
    }

    fn release_held<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, now: Now, out: &mut S) -> Fate {
        if let Some(mut record) = self.slab.take(st.record) {
            if st.haf == Haf::Labelled {
                record.outcome = Outcome::AckingFirewall;
                record.acking_firewall = true;
            }
            self.emit(record, out);
        }
        st.record = NO_RECORD;
        self.linger(st, now)
    }

    /// Becomes a tombstone: late packets of this remote port are swallowed, and a late SYN-ACK cannot open
    /// a second flow, until every cookie of ours it could carry has expired.
    fn linger(&mut self, st: &mut FlowState, now: Now) -> Fate {
        if st.record != NO_RECORD {
            self.slab.take(st.record);
            st.record = NO_RECORD;
        }
        st.phase = Phase::Lingering;
        self.lingering += 1;
        self.arm_on(st, now, self.lanes.linger);
        Fate::Keep
    }

    /// Next handshake: a fresh connection from our next port with a new ISN (the original's "source port
    /// + 1"); after the first handshake, the HyperACKtive probes go out with it.
    fn next_handshake<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, now: Now, out: &mut S) {
        st.handshake += 1;
        st.local_port = self.next_port(st.local_port);
        st.isn = self.cookies.later_isn(st.remote, st.remote_port, st.local, st.local_port, self.isn_nonce);
        self.isn_nonce += 1;
        st.phase = Phase::SynSent;
        st.counter = 0;
        st.bits &= !bits::PER_ATTEMPT;
        st.sent_len = 0;
        st.probe_len = 0;
        st.snd_acked = st.isn.wrapping_add(1);
        self.send_syn(st, out);
        self.counters.syns_sent += 1;
        self.arm_on(st, now, self.lanes.timeout);
        if st.handshake == 1 && self.haf_probes > 0 && st.haf == Haf::Off {
            self.send_haf_probes(st, now, out);
        }
    }

    /// Our port +1, wrapping inside our ephemeral range (or, for a ZMap port outside it, the original's
    /// `(port mod 65535) + 1`).
    fn next_port(&self, port: u16) -> u16 {
        let (first, last) = (self.config.ephemeral_first, self.config.ephemeral_last);
        if (first..=last).contains(&port) {
            if port == last {
                first
            } else {
                port + 1
            }
        } else {
            (port % 65535) + 1
        }
    }

    // ---- HyperACKtive filtering -------------------------------------------------------------------

    fn send_haf_probes<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, now: Now, out: &mut S) {
        let ports = self.cookies.haf_remote_ports(st.remote, st.remote_port, st.local, self.haf_probes);
        for &probe_port in ports.iter().take(usize::from(self.haf_probes)) {
            let local_port = self.cookies.haf_local_port(st.remote, probe_port, st.local, st.remote_port);
            let isn = self.cookies.haf_isn(st.remote, probe_port, st.local, local_port, st.remote_port);
            out.transmit(Transmit {
                remote: st.remote,
                remote_port: probe_port,
                local: st.local,
                local_port,
                seq: isn,
                ack: 0,
                flags: TcpFlags::SYN,
                window: self.config.window,
                payload: Payload::None,
            });
        }
        self.counters.haf_probes_sent += u64::from(self.haf_probes);
        st.haf = Haf::Pending;
        st.haf_yes = 0;
        st.haf_no = 0;
        st.haf_deadline_ms = now.ms + self.config.timeout_ms;
    }

    /// Moves a pending decision to Labelled or Cleared once it is settled.
    fn haf_settle(&self, st: &mut FlowState, now: Now) {
        if st.haf != Haf::Pending {
            return;
        }
        let yes = st.haf_yes.count_ones() as u8;
        let no = st.haf_no.count_ones() as u8;
        if yes >= self.haf_needed {
            st.haf = Haf::Labelled;
        } else if no > self.haf_probes.saturating_sub(self.haf_needed) || now.ms >= st.haf_deadline_ms {
            st.haf = Haf::Cleared;
        }
    }

    /// The parent is an ACKing firewall: end it now, whatever it was doing.
    fn label_firewall<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, now: Now, out: &mut S) -> Fate {
        if matches!(st.phase, Phase::AckSent | Phase::Acked | Phase::Collecting) {
            self.send_rst(st, out);
        }
        let stage = st.phase.stage();
        let mut record = match self.slab.take(st.record) {
            Some(record) => record,
            None => st.record(Outcome::AckingFirewall, stage),
        };
        st.record = NO_RECORD;
        record.outcome = Outcome::AckingFirewall;
        record.acking_firewall = true;
        self.emit(record, out);
        self.linger(st, now)
    }

    /// Counts a checked HyperACKtive probe answer for its parent `st`, and decides at once if it can.
    fn haf_probe_answer<S: ActionSink + ?Sized>(&mut self, st: &mut FlowState, seg: &Segment<'_>, answer: HafAnswer, now: Now, out: &mut S) -> Fate {
        let bit = 1u16 << answer.probe;
        self.haf_settle(st, now);
        if st.haf != Haf::Pending || (st.haf_yes | st.haf_no) & bit != 0 || st.local != seg.local {
            self.counters.haf_ignored += 1;
            return Fate::Keep;
        }
        if seg.flags.rst() {
            st.haf_no |= bit;
            self.counters.haf_rsts += 1;
        } else {
            st.haf_yes |= bit;
            self.counters.haf_synacks += 1;
        }
        self.haf_settle(st, now);
        match (st.haf, st.phase) {
            (Haf::Labelled, Phase::Held) | (Haf::Cleared, Phase::Held) => self.release_held(st, now, out),
            (Haf::Labelled, _) => self.label_firewall(st, now, out),
            _ => Fate::Keep,
        }
    }

}

/// The outcome of an `ack`-stage timeout: nothing came back for what we sent.
fn timeout_outcome(st: &FlowState) -> Outcome {
    if st.has(bits::SYNACK_RETX) && st.sent_len > 0 && st.has(bits::PURE_ACK_THROUGH) {
        // An earlier data-less ACK got through: what the host never received is our data (a middlebox that
        // drops segments with payload), not our ACK.
        Outcome::DataNotAcked
    } else if st.has(bits::SYNACK_RETX) {
        Outcome::SynAckRetransmitted
    } else if st.sent_len > 0 {
        Outcome::DataNotAcked
    } else {
        // An empty probe (a "wait" handshake) needs no acknowledgment: the host simply sent nothing.
        Outcome::AckedNoData
    }
}

/// A SYN-ACK, or an RST+ACK: the two answers a SYN can get.
fn is_answer_to_syn(flags: TcpFlags) -> bool {
    flags.ack() && (flags.syn() != flags.rst())
}

fn last_of(seg: &Segment<'_>, now: Now) -> LastPacket {
    LastPacket { seq: seg.seq, ack: seg.ack, window: seg.window, flags: seg.flags, ttl: seg.ttl, at_ns: now.ns }
}
