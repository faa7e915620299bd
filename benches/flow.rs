//! Flow shard throughput on the paper's host mixes (Table 4): port 80 (HTTP) and port 27017 (MongoDB).
//! Synthetic segments only: no frames, no I/O. Prints segments per second on one core, ns per segment,
//! and bytes of state per 1M flows, next to the budget the flow layer has inside the engine's target.
//!
//! Per millisecond, `LZR_BENCH_RATE` (default 16) new SYN-ACKs arrive from ZMap; each host answers our ACK
//! one round trip (`LZR_BENCH_RTT_MS`, default 100) later, as a real host would (at higher rates its flow
//! is cold by then; timer firings, seconds later, always find cold flows). The hosts' answers arrive in receive bursts of 32 segments, each followed by the end of the burst;
//! the clock ticks every millisecond and the run goes on until every flow is finished. Each mix is driven
//! twice: one event per call (`on_segment`, `handle`) and a batch per call (`on_segments` for a receive
//! burst, `zmap_synacks` for a millisecond of ZMap SYN-ACKs).
//!
//! Times are CPU time of the bench thread (the machine may be shared) and include the bench's own work of
//! making segments (about 5% of the instructions).
//!
//! Run: `cargo bench --no-default-features --bench flow` (`LZR_BENCH_HOSTS`, default 2,000,000 per mix;
//! `LZR_BENCH_ONLY=single|batched` drives one way only and skips the stateless part, for profiling).
//! For instructions per segment: `valgrind --tool=callgrind --toggle-collect='flow::drive*' <bench binary>`
//! with a smaller `LZR_BENCH_HOSTS`, and divide the collected count by the segments printed.

use std::collections::VecDeque;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use lzr::flow::{state, ActionSink, Event, FlowConfig, FlowShard, Segment, SynAckFields, Target, Transmit};
use lzr::record::{Outcome, Record};
use lzr::wire::TcpFlags;

/// The engine's target per core for the whole worker (parse, flow, fingerprint, build frames).
const ENGINE_TARGET_PPS: f64 = 5e6;
/// The flow layer's share of the engine's per-packet time: the rest goes to parsing and building frames,
/// fingerprinting answers and the NIC bursts.
const FLOW_SHARE: f64 = 0.4;
const BURST: usize = 32;
const START_MS: u64 = 1_700_000_000_000;

/// Counts actions without keeping them (the engine would hand them to TX and the result ring).
#[derive(Default)]
struct Count {
    frames: u64,
    records: u64,
}

impl ActionSink for Count {
    fn transmit(&mut self, frame: Transmit) {
        black_box(&frame);
        self.frames += 1;
    }
    fn finished(&mut self, record: Record) {
        black_box(&record);
        self.records += 1;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Host {
    /// Answers our probe with data (the expected protocol or another one).
    Data,
    ZeroWindow,
    /// Resets the connection after the handshake.
    Rst,
    /// Acknowledges our probe, sends nothing.
    AcksNoData,
    /// Never acknowledges our probe (middleboxes and the like).
    NeverAcks,
}

/// One column of Table 4, as shares per 10,000 SYN-ACKs.
struct Mix {
    name: &'static str,
    port: u16,
    probe: usize,
    banner: usize,
    zero_window: u32,
    rst: u32,
    never_acks: u32,
    acks_no_data: u32,
    // Data: the rest.
}

/// Port 80/HTTP: SYN-ACK 62.6M, zero window 1.3M, RST 1.7M, ACKs data 55M, of which 54.66M expected and
/// 238K unexpected answers (54.9M with data, 0.1M silent); 62.6 - 1.3 - 1.7 - 55 = 4.6M never ACK.
const PORT_80: Mix = Mix { name: "80/HTTP", port: 80, probe: 96, banner: 512, zero_window: 208, rst: 272, never_acks: 735, acks_no_data: 16 };
/// Port 27017/MongoDB: SYN-ACK 2.4M, zero window 695K, RST 166K, ACKs data 505K, of which 73.3K expected
/// and 23K unexpected answers (96.3K with data, 408.7K silent); 2.4 - 0.695 - 0.166 - 0.505 = 1.034M never
/// ACK.
const PORT_27017: Mix =
    Mix { name: "27017/MongoDB", port: 27017, probe: 64, banner: 256, zero_window: 2896, rst: 692, never_acks: 4308, acks_no_data: 1703 };

impl Mix {
    /// Host `i`'s behaviour; a stride through the 10,000 shares spreads the kinds evenly over time.
    fn host(&self, i: u64) -> Host {
        let mut r = ((i * 7919) % 10_000) as u32;
        for (share, host) in [(self.zero_window, Host::ZeroWindow), (self.rst, Host::Rst), (self.never_acks, Host::NeverAcks), (self.acks_no_data, Host::AcksNoData)] {
            if r < share {
                return host;
            }
            r -= share;
        }
        Host::Data
    }
}

fn remote(i: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0xc612_0000u32.wrapping_add(i as u32 * 7919)))
}

struct Params {
    hosts: u64,
    rate: u64,
    rtt_ms: u64,
    /// `LZR_BENCH_ONLY=single|batched`: drive one way only (for profiling).
    only: Option<bool>,
}

struct Run {
    segments: u64,
    elapsed: Duration,
    out: Count,
    simulated_ms: u64,
    shard: FlowShard,
    peak_flows: usize,
}

fn config() -> FlowConfig {
    FlowConfig { handshakes: 1, table_capacity: 1 << 20, secret: [1, 2], ..FlowConfig::default() }
}

/// The hosts' answers to our ACKs of millisecond `sent_ms`, one segment each (data hosts: a bare ACK,
/// then the banner), in arrival order.
fn answers<'a>(mix: &Mix, first: u64, last: u64, banner: &'a [u8], local: IpAddr, segs: &mut Vec<Segment<'a>>) {
    for i in first..last {
        let seq = (i as u32).wrapping_add(1);
        let acked = 7 + mix.probe as u32;
        let seg = Segment { remote: remote(i), remote_port: mix.port, local, local_port: 40000, seq, ack: acked, window: 64240, flags: TcpFlags::ACK, ttl: 55, payload: &[] };
        match mix.host(i) {
            Host::Data => {
                segs.push(seg);
                segs.push(Segment { flags: TcpFlags::PSH_ACK, payload: banner, ..seg });
            }
            Host::Rst => segs.push(Segment { flags: TcpFlags::RST, ack: 0, ..seg }),
            Host::AcksNoData => segs.push(seg),
            Host::ZeroWindow | Host::NeverAcks => {}
        }
    }
}

/// CPU time of this thread: on a shared machine, time spent descheduled would swamp wall-clock figures.
fn cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Drives one mix; `batched` hands each receive burst (and each millisecond's ZMap SYN-ACKs) over in one
/// call.
fn drive(mix: &Mix, p: &Params, batched: bool) -> Run {
    let local = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1));
    let mut shard = FlowShard::new(config()).expect("valid config");
    let probe = mix.probe;
    let probes = move |_: u8, _: IpAddr, _: u16, _: u64| probe;
    let banner = vec![b'x'; mix.banner];
    let mut out = Count::default();
    let mut segments = 0u64;
    let mut peak_flows = 0;
    let mut pending: VecDeque<(u64, u64, u64)> = VecDeque::new();
    let mut segs: Vec<Segment<'_>> = Vec::with_capacity(4 * p.rate as usize);
    let mut synacks = Vec::with_capacity(p.rate as usize);
    let mut ms = START_MS;
    let mut next = 0u64;

    let start = cpu_time();
    while next < p.hosts || !pending.is_empty() || !shard.is_idle() {
        let ns = ms * 1_000_000;
        // ZMap hands over this millisecond's SYN-ACKs.
        let last = (next + p.rate).min(p.hosts);
        synacks.clear();
        for i in next..last {
            let zero = mix.host(i) == Host::ZeroWindow;
            synacks.push(SynAckFields { remote: remote(i), remote_port: mix.port, local, local_port: 40000, seq: i as u32, ack: 7, window: if zero { 0 } else { 64240 }, ttl: 55 });
        }
        segments += synacks.len() as u64;
        if batched {
            shard.zmap_synacks(&synacks, ns, &probes, &mut out);
        } else {
            for f in &synacks {
                shard.handle(Event::ZmapSynAck(*f), ns, &probes, &mut out);
            }
        }
        if last > next {
            pending.push_back((ms + p.rtt_ms, next, last));
        }
        next = last;
        // The answers to the ACKs we sent one round trip ago.
        while let Some(&(due, first, last)) = pending.front() {
            if due > ms {
                break;
            }
            pending.pop_front();
            segs.clear();
            answers(mix, first, last, &banner, local, &mut segs);
            segments += segs.len() as u64;
            for burst in segs.chunks(BURST) {
                if batched {
                    shard.on_segments(burst, ns, &probes, &mut out);
                } else {
                    for seg in burst {
                        shard.on_segment(seg, ns, &probes, &mut out);
                    }
                }
                shard.end_burst(ns, &mut out);
            }
        }
        shard.on_tick(ns, &mut out);
        peak_flows = peak_flows.max(shard.table_len());
        ms += 1;
    }
    let elapsed = cpu_time() - start;
    Run { segments, elapsed, out, simulated_ms: ms - START_MS, shard, peak_flows }
}

#[inline(never)]
fn drive_per_segment(mix: &Mix, p: &Params) -> Run {
    drive(mix, p, false)
}

#[inline(never)]
fn drive_batched(mix: &Mix, p: &Params) -> Run {
    drive(mix, p, true)
}

fn report(p: &Params, mode: &str, run: &Run) {
    let secs = run.elapsed.as_secs_f64();
    let ns = run.elapsed.as_nanos() as f64 / run.segments as f64;
    let budget_ns = 1e9 / ENGINE_TARGET_PPS * FLOW_SHARE;
    println!("  {mode:<12} {:>6.2} M segments/s/core  {ns:>6.1} ns/segment  ({:.0}% of the flow budget; in + out {:.2} M packets/s; {secs:.3} s CPU)",
        run.segments as f64 / secs / 1e6, 100.0 * ns / budget_ns, (run.segments + run.out.frames) as f64 / secs / 1e6);
    assert_eq!(run.out.records, p.hosts, "every host ends in one record");
    assert_eq!(run.shard.counters().total_records(), p.hosts);
}

/// Bytes of state per 1M flows: a flow entry each, the index as configured (per flow of capacity), and
/// the timers and the record slab as held at the run's peak (per flow at that peak).
fn memory(run: &Run) {
    let m = run.shard.memory();
    let capacity = run.shard.config().table_capacity as f64;
    let peak = run.peak_flows as f64;
    let per_flow = [
        ("entries", state::FLOW_STATE_BYTES as f64),
        ("index", m.index as f64 / capacity),
        ("timers", m.timers as f64 / peak),
        ("slab", m.slab as f64 / peak),
    ];
    let total: f64 = per_flow.iter().map(|(_, b)| b).sum();
    let parts: Vec<String> = per_flow.iter().map(|(name, b)| format!("{name} {b:.0}")).collect();
    println!("  state per 1M flows: {:.0} MB ({} bytes/flow; timers and slab at the peak of {} flows, index for a \
              capacity of {})", total, parts.join(" + "), run.peak_flows, capacity);
}

fn mix_run(mix: &Mix, p: &Params) {
    println!("\n{} mix (Table 4): {} hosts, {} SYN-ACKs/ms, RTT {} ms, {}-byte probe, {}-byte answers, bursts of {BURST}",
        mix.name, p.hosts, p.rate, p.rtt_ms, mix.probe, mix.banner);
    let single = (p.only != Some(true)).then(|| drive_per_segment(mix, p));
    let batched = (p.only != Some(false)).then(|| drive_batched(mix, p));
    let Some(any) = single.as_ref().or(batched.as_ref()) else { return };
    let c = any.shard.counters();
    println!("  segments in {} (ZMap SYN-ACKs + host segments), frames out {}, records {}, simulated {} s",
        any.segments, any.out.frames, any.out.records, any.simulated_ms / 1000);
    println!("  records: data {}, zero window {}, rst {}, acked no data {}, data not acked {}; stale timers {}",
        c.records(Outcome::Data), c.records(Outcome::ZeroWindow), c.records(Outcome::RstAfterHandshake),
        c.records(Outcome::AckedNoData), c.records(Outcome::DataNotAcked), c.stale_timers);
    if let Some(run) = &single {
        report(p, "on_segment", run);
    }
    if let Some(run) = &batched {
        report(p, "on_segments", run);
    }
    memory(any);
}

fn main() {
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let p = Params { hosts: env("LZR_BENCH_HOSTS", 2_000_000), rate: env("LZR_BENCH_RATE", 16), rtt_ms: env("LZR_BENCH_RTT_MS", 100),
        only: match std::env::var("LZR_BENCH_ONLY").as_deref() {
            Ok("single") => Some(false),
            Ok("batched") => Some(true),
            _ => None,
        } };
    let budget_ns = 1e9 / ENGINE_TARGET_PPS * FLOW_SHARE;
    println!("flow shard, one core. Engine target {:.0} Mpps/core ({:.0} ns/packet, all layers); the flow layer's share \
              is {:.0}%: {budget_ns:.0} ns/segment = {:.1} M segments/s", ENGINE_TARGET_PPS / 1e6, 1e9 / ENGINE_TARGET_PPS,
        FLOW_SHARE * 100.0, 1e3 / budget_ns);
    mix_run(&PORT_80, &p);
    mix_run(&PORT_27017, &p);
    if p.only.is_none() {
        stateless_opens();
    }
}

fn stateless_opens() {

    // Stateless opens: SYN generation plus the cookie check on each answer (half answer, half stray).
    let mut shard = FlowShard::new(config()).expect("valid");
    let local = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1));
    let mut syns = Vec::new();
    struct Keep<'a>(&'a mut Vec<Transmit>);
    impl ActionSink for Keep<'_> {
        fn transmit(&mut self, frame: Transmit) {
            self.0.push(frame);
        }
        fn finished(&mut self, record: Record) {
            black_box(record);
        }
    }
    let n = 1_000_000u64;
    let ns = START_MS * 1_000_000;
    let start = cpu_time();
    for i in 0..n {
        shard.open(&Target { remote: remote(i), remote_port: 80, local }, ns, &mut Keep(&mut syns));
    }
    let open_time = cpu_time() - start;
    let probes = |_: u8, _: IpAddr, _: u16, _: u64| 96;
    let start = cpu_time();
    for (i, syn) in syns.iter().enumerate() {
        let ack = if i % 2 == 0 { syn.seq.wrapping_add(1) } else { syn.seq };
        let seg = Segment { remote: syn.remote, remote_port: 80, local, local_port: syn.local_port, seq: 1, ack, window: 0, flags: TcpFlags::SYN_ACK, ttl: 55, payload: &[] };
        shard.on_segment(&seg, ns, &probes, &mut Count::default());
    }
    let check_time = cpu_time() - start;
    println!("\nstateless opens: {:.1} ns/SYN, {:.1} ns/answer checked (zero-window answers: record + tombstone; strays: dropped)",
        open_time.as_nanos() as f64 / n as f64, check_time.as_nanos() as f64 / n as f64);
    println!("  stray SYN-ACKs {}, zero-window records {}", shard.counters().stray_synacks, shard.counters().records(Outcome::ZeroWindow));
}
