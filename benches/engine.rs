//! One worker's engine on the paper's port-80 and port-27017 host mixes (Table 4, config/populations), with the
//! simulator's responder on the far end of an in-memory port pair. Prints received packets per second per core,
//! ns per packet, the accuracy of the records against the population's ground truth, and peak memory per 1M
//! flows.
//!
//! Method: one thread drives both ends. The worker runs one loop turn at a time ([`SteppedWorker::step`], the
//! same turn `run_worker` spins) and only those turns are timed, with the thread's CPU clock
//! (`CLOCK_THREAD_CPUTIME_ID`, minus the clock's own cost): the responder's work and the host mix generation do
//! not count, nor does waiting. Targets reach the worker through its command ring (stateless SYNs, as in list
//! mode); every simulated address SYN-ACKs (the mix among SYN-ACKers, as ZMap would hand them over) and then
//! behaves as Table 4 says: zero window, reset, never ACK, or ACK and answer (or not) by Figure 10.
//! Timers are shortened (rt 200 ms, t 500 ms) so the hosts that never answer end within a second.
//!
//! Run: `cargo bench --no-default-features --bench engine` (LZR_BENCH_HOSTS=n hosts per mix, default 400000).
//!
//! On a shared machine the timings move with the load; instruction counts do not. Instructions per received
//! packet, per mix, of the worker's turns alone (the bench binary is in `target/release/deps/engine-*`):
//! `LZR_BENCH_HOSTS=20000 LZR_BENCH_NO_MEMORY=1 valgrind --tool=callgrind
//! --toggle-collect='lzr::engine::worker::Worker::turn*' --dump-after='engine::run_mix' <bench binary>`, then
//! divide each dump's total by that mix's `rx pkts`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use lzr::engine::{
    Clock, Command, Control, Owner, Probes, SteppedWorker, WorkerLinks, WorkerReport, WorkerSetup,
    WorkerStats,
};
use lzr::flow::{state, Event, FlowConfig, FlowShard, SynAckFields, Target};
use lzr::handshakes::{HandshakeList, Matcher};
use lzr::neighbor::NeighborConfig;
use lzr::port::memory::{pair, MemoryConfig};
use lzr::port::{Port, QueuePair, RxQueue, Steering, TxQueue};
use lzr::record::{Outcome, Record};
use lzr::sim::{Population, Profile, Responder, Space, TxSink};
use lzr::wire::MacAddr;

const TARGET_MPPS: f64 = 5.0;
/// Targets handed to the worker per turn, and the RX backlog above which none are.
const FEED_PER_TURN: u64 = 64;
const MAX_BACKLOG: u64 = 4096;
const SCANNER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid pointer it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The cost of one pair of thread-clock reads, subtracted from each timed turn.
fn clock_overhead_ns() -> f64 {
    let n = 20_000u64;
    let start = thread_cpu_ns();
    let mut sink = 0u64;
    for _ in 0..n {
        sink = sink.wrapping_add(thread_cpu_ns());
    }
    std::hint::black_box(sink);
    (thread_cpu_ns() - start) as f64 / n as f64
}

/// Flow table capacity of the worker (LZR_BENCH_TABLE, default 2^20 = a production-sized shard).
fn table_capacity() -> usize {
    std::env::var("LZR_BENCH_TABLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 20)
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

struct MixResult {
    name: String,
    hosts: u64,
    rx_frames: u64,
    cpu_ns: f64,
    /// Wall time of the timed turns (includes the two clock reads and any preemption).
    turn_wall_ns: u64,
    wall: Duration,
    records: u64,
    correct: u64,
    true_protocol: u64,
    data_records: u64,
    outcomes: BTreeMap<&'static str, u64>,
    report: WorkerReport,
}

fn run_mix(profile_file: &str, plan: &str, hosts: u64, overhead: f64) -> MixResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/populations")
        .join(profile_file);
    let profile = Profile::load(&path).expect("profile loads").among_synack();
    let port = profile.port;
    let space: Space = "100.64.0.0/10".parse().expect("valid space");
    let population =
        Arc::new(Population::new(space, vec![profile], 0x5eed).expect("valid population"));

    let config = MemoryConfig {
        rx_capacity: 16384,
        buffers: 32768,
        burst: 64,
        ..MemoryConfig::default()
    };
    let (mut scanner_port, mut sim_port) = pair(&config);
    let mut queue = scanner_port.take_queues().pop().expect("one queue");
    let mut sim_queue = sim_port.take_queues().pop().expect("one queue");
    let (scanner_mac, sim_mac) = (MacAddr(scanner_port.mac()), MacAddr(sim_port.mac()));
    let mut responder = Responder::new(population.clone(), sim_mac);

    let list = HandshakeList::parse(plan).expect("valid plan");
    let matcher = Matcher::new(&list);
    let flow = FlowConfig {
        handshakes: list.len() as u8,
        retransmit_ms: 200,
        timeout_ms: 500,
        answer_window_ms: 2000,
        table_capacity: table_capacity(),
        ..FlowConfig::default()
    };
    let setup = WorkerSetup {
        index: 0,
        flow,
        probes: Probes::fixed(list.clone(), None, Default::default()),
        neighbor: NeighborConfig::new(scanner_mac, vec![SCANNER], vec![]),
        mac: scanner_mac,
        gateway: sim_mac,
        original_syn: false,
        owner: Owner::new(&Steering::None, 1, [1, 2]),
        clock: Clock::new(),
    };
    let links = WorkerLinks {
        commands: Arc::new(ArrayQueue::new(4096)),
        results: Arc::new(ArrayQueue::new(1 << 16)),
        inboxes: Arc::new(vec![ArrayQueue::new(16)]),
        stats: Arc::new(WorkerStats::default()),
        control: Arc::new(Control::default()),
        to_exception: None,
    };
    let mut worker = SteppedWorker::new(setup, links.clone()).expect("valid worker setup");

    let mut fed = 0u64;
    let mut cpu_ns = 0f64;
    let mut records: Vec<Record> = Vec::with_capacity(hosts as usize);
    let clock = Clock::new();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(120);
    let mut wall_ns = 0u64;
    loop {
        // Keep the worker's RX backlog below what its queue holds (a NIC would drop the rest): the responder
        // answers a whole turn's SYNs at once, the worker reads one burst per turn.
        let backlog = scanner_port
            .stats()
            .ipackets
            .saturating_sub(queue.stats().rx_frames);
        let room = if backlog < MAX_BACKLOG {
            FEED_PER_TURN
        } else {
            0
        };
        let until = (fed + room).min(hosts);
        while fed < until {
            let target = Target {
                remote: IpAddr::V4(space.nth(fed)),
                remote_port: port,
                local: IpAddr::V4(SCANNER),
            };
            if links.commands.push(Command::Open(target)).is_err() {
                break;
            }
            fed += 1;
        }
        let w0 = Instant::now();
        let t0 = thread_cpu_ns();
        let busy = worker.step(&mut queue);
        let t1 = thread_cpu_ns();
        wall_ns += w0.elapsed().as_nanos() as u64;
        cpu_ns += ((t1 - t0) as f64 - overhead).max(0.0);

        let now = clock.now_ns();
        let (rx, tx) = sim_queue.split();
        let mut answered = 0;
        while rx.recv_burst(|frame| responder.handle(frame, now, &mut TxSink(&mut *tx))) > 0 {
            answered += 1;
        }
        responder.poll(now, &mut TxSink(&mut *tx));
        tx.flush();
        while let Some(r) = links.results.pop() {
            records.push(r);
        }
        if fed == hosts && worker.is_idle() && links.results.is_empty() {
            break;
        }
        if busy == 0 && answered == 0 {
            if Instant::now() > deadline {
                eprintln!("{profile_file}: gave up after 120 s");
                break;
            }
            // Only timers are left: let them come due without spinning.
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let wall = start.elapsed();
    let report = worker.report();
    if std::env::var_os("LZR_BENCH_DEBUG").is_some() {
        eprintln!(
            "scanner port {:?}\nsim port {:?}\nresponder {:?}\nflow {:?}\nengine {:?}",
            scanner_port.stats(),
            sim_port.stats(),
            responder.counters(),
            report.flow,
            report.engine
        );
    }

    let mut outcomes = BTreeMap::new();
    let (mut correct, mut true_protocol, mut data_records) = (0, 0, 0);
    for r in &records {
        *outcomes.entry(r.outcome.as_str()).or_insert(0u64) += 1;
        let host = population.truth(r.saddr, r.sport);
        let want = host.expect(&list, &matcher, false);
        if want.outcome == Some(r.outcome) && want.label == r.fingerprint {
            correct += 1;
        }
        if r.outcome == Outcome::Data {
            data_records += 1;
            if host.protocol() == Some(&*r.fingerprint) {
                true_protocol += 1;
            }
        }
    }
    MixResult {
        name: format!("port {port} ({plan})"),
        hosts,
        rx_frames: report.engine.rx_frames,
        cpu_ns,
        turn_wall_ns: wall_ns,
        wall,
        records: records.len() as u64,
        correct,
        true_protocol,
        data_records,
        outcomes,
        report,
    }
}

/// RSS growth of a flow shard sized for 1M flows, filled with 1M live flows (ACK + probe sent, waiting).
fn memory_per_million() -> (f64, f64, f64) {
    let n: u64 = 1_000_000;
    let before = rss_bytes();
    let config = FlowConfig {
        handshakes: 1,
        table_capacity: n as usize,
        secret: [9, 9],
        ..FlowConfig::default()
    };
    let mut shard = FlowShard::new(config).expect("valid config");
    let built = rss_bytes();
    let probes = |_: u8, _: IpAddr, _: u16, _: u64| 200usize;
    let mut sink: Vec<lzr::flow::Action> = Vec::with_capacity(64);
    let now = 1_700_000_000_000_000_000u64;
    for i in 0..n {
        let remote = IpAddr::V4(Ipv4Addr::from(0x6440_0000u32 + i as u32));
        let f = SynAckFields {
            remote,
            remote_port: 80,
            local: IpAddr::V4(SCANNER),
            local_port: 40000,
            seq: i as u32,
            ack: 7,
            window: 64240,
            ttl: 55,
        };
        shard.handle(Event::ZmapSynAck(f), now, &probes, &mut sink);
        sink.clear();
    }
    assert_eq!(shard.active_flows(), n as usize, "every flow is held");
    let filled = rss_bytes();
    std::hint::black_box(&shard);
    let mb = |b: u64| b as f64 / (1u64 << 20) as f64;
    (
        mb(built.saturating_sub(before)),
        mb(filled.saturating_sub(before)),
        filled.saturating_sub(before) as f64 / n as f64,
    )
}

fn main() {
    let hosts: u64 = std::env::var("LZR_BENCH_HOSTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400_000);
    // LZR_BENCH_NO_MEMORY skips the memory figure (e.g. to profile the throughput part alone).
    let memory = std::env::var_os("LZR_BENCH_NO_MEMORY")
        .is_none()
        .then(memory_per_million);
    let overhead = clock_overhead_ns();
    let mixes = [
        run_mix("port80.toml", "http", hosts, overhead),
        run_mix("port27017.toml", "mongodb", hosts, overhead),
    ];

    println!(
        "engine: one worker, in-memory port, simulated Table 4 population (hosts that SYN-ACK), {hosts} hosts per mix, \
         flow table of {} flows",
        table_capacity()
    );
    println!("  thread CPU clock read: {overhead:.0} ns per pair (subtracted per turn)");
    println!();
    println!(
        "  {:<22} {:>10} {:>10} {:>8} {:>13} {:>8} {:>9} {:>10}",
        "mix", "rx pkts", "Mpps/core", "ns/pkt", "ns/pkt (wall)", "run s", "records", "accuracy"
    );
    for m in &mixes {
        let mpps = m.rx_frames as f64 / m.cpu_ns * 1e3;
        println!(
            "  {:<22} {:>10} {:>10.2} {:>8.1} {:>13.1} {:>8.2} {:>9} {:>9.2}%",
            m.name,
            m.rx_frames,
            mpps,
            m.cpu_ns / m.rx_frames as f64,
            m.turn_wall_ns as f64 / m.rx_frames as f64,
            m.wall.as_secs_f64(),
            m.records,
            100.0 * m.correct as f64 / m.hosts as f64
        );
    }
    println!();
    for m in &mixes {
        println!("  {}: outcomes {:?}", m.name, m.outcomes);
        println!(
            "  {}: data records labelled with the protocol the host really speaks: {:.2}% ({} of {}); worker tx {} segments, drops {}",
            m.name,
            100.0 * m.true_protocol as f64 / m.data_records.max(1) as f64,
            m.true_protocol,
            m.data_records,
            m.report.engine.tx_segments,
            m.report.engine.parse_drops.total() + m.report.engine.bad_tcp_checksum + m.report.engine.tx_refused,
        );
    }
    println!();
    let port80 = &mixes[0];
    let mpps = port80.rx_frames as f64 / port80.cpu_ns * 1e3;
    println!(
        "  port-80 mix: {mpps:.2} Mpps per core; target >= {TARGET_MPPS:.1} Mpps: {}",
        if mpps >= TARGET_MPPS {
            "met"
        } else {
            "NOT met"
        }
    );
    if let Some((built_mb, filled_mb, per_flow)) = memory {
        println!(
            "  memory per 1M flows: {built_mb:.1} MiB for the empty shard (table of 1M capacity), {filled_mb:.1} MiB \
             filled with 1M flows = {per_flow:.0} bytes per flow (FlowState is {} bytes)",
            state::FLOW_STATE_BYTES
        );
    }
}
