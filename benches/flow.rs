//! Flow shard throughput on the paper's port-80 host mix (Table 4: SYN-ACK 62.6M, zero window 1.3M, RST
//! 1.7M, ACKs data 55M, of which ~54.9M send data). Synthetic segments only: no frames, no I/O. Prints
//! segments per second on one core, ns per segment, and bytes per flow.
//!
//! Run: `cargo bench --no-default-features --bench flow`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use lzr::flow::{state, ActionSink, Event, FlowConfig, FlowShard, Segment, SynAckFields, Target, Transmit};
use lzr::record::Record;
use lzr::wire::TcpFlags;

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

#[derive(Clone, Copy)]
enum Host {
    Data,
    ZeroWindow,
    Rst,
    AcksNoData,
    NeverAcks,
}

/// Table 4, port 80, per 10,000 SYN-ACKs.
fn host(i: u64) -> Host {
    match i % 10_000 {
        0..208 => Host::ZeroWindow,    // 1.3M / 62.6M
        208..480 => Host::Rst,         // 1.7M / 62.6M
        480..1215 => Host::NeverAcks,  // 62.6 - 1.3 - 1.7 - 55 = 4.6M
        1215..1231 => Host::AcksNoData, // 55M ACK data, ~54.9M answer
        _ => Host::Data,
    }
}

const PROBE: usize = 96;
const HOSTS_PER_MS: u64 = 16;
const BURST: u64 = 32;

fn remote(i: u64) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0xc612_0000u32.wrapping_add(i as u32 * 7919)))
}

fn main() {
    let hosts: u64 = std::env::var("LZR_BENCH_HOSTS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000_000);
    let local = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1));
    let config = FlowConfig { handshakes: 1, table_capacity: 1 << 19, secret: [1, 2], ..FlowConfig::default() };
    let capacity = config.table_capacity;
    let mut shard = FlowShard::new(config).expect("valid config");
    let probes = |_: u8, _: IpAddr, _: u16, _: u64| PROBE;
    let banner = vec![b'x'; 512];
    let mut out = Count::default();
    let mut segments = 0u64;
    let mut ms = 1_700_000_000_000u64;

    let start = Instant::now();
    let mut next = 0u64;
    while next < hosts || !shard.is_idle() {
        let ns = ms * 1_000_000;
        // ZMap hands us this millisecond's SYN-ACKs; the hosts answer our ACKs in bursts.
        let first = next;
        let last = (next + HOSTS_PER_MS).min(hosts);
        for i in first..last {
            let zero = matches!(host(i), Host::ZeroWindow);
            let f = SynAckFields { remote: remote(i), remote_port: 80, local, local_port: 40000, seq: i as u32, ack: 7, window: if zero { 0 } else { 64240 }, ttl: 55 };
            shard.handle(Event::ZmapSynAck(f), ns, &probes, &mut out);
            segments += 1;
        }
        for (n, i) in (first..last).enumerate() {
            let seq = (i as u32).wrapping_add(1);
            let acked = 7 + PROBE as u32;
            let mut seg = Segment { remote: remote(i), remote_port: 80, local, local_port: 40000, seq, ack: acked, window: 64240, flags: TcpFlags::ACK, ttl: 55, payload: &[] };
            match host(i) {
                Host::Data => {
                    shard.handle(Event::Segment(seg), ns, &probes, &mut out);
                    seg.flags = TcpFlags::PSH_ACK;
                    seg.payload = &banner;
                    shard.handle(Event::Segment(seg), ns, &probes, &mut out);
                    segments += 2;
                }
                Host::Rst => {
                    seg.flags = TcpFlags::RST;
                    seg.ack = 0;
                    shard.handle(Event::Segment(seg), ns, &probes, &mut out);
                    segments += 1;
                }
                Host::AcksNoData => {
                    shard.handle(Event::Segment(seg), ns, &probes, &mut out);
                    segments += 1;
                }
                Host::ZeroWindow | Host::NeverAcks => {}
            }
            if (n as u64 + 1) % BURST == 0 {
                shard.handle(Event::EndOfBurst, ns, &probes, &mut out);
            }
        }
        next = last;
        shard.handle(Event::Tick, ns, &probes, &mut out);
        ms += 1;
    }
    let elapsed = start.elapsed();

    let per_second = segments as f64 / elapsed.as_secs_f64();
    let slots = (capacity + capacity / 2 + 1).next_power_of_two();
    println!("flow shard, port-80 mix (Table 4), {hosts} hosts, 1 handshake, {PROBE}-byte probe, 512-byte banners");
    println!("  segments in      {segments} (ZMap SYN-ACKs + host segments), simulated {} s", (ms - 1_700_000_000_000) / 1000);
    println!("  frames out       {}", out.frames);
    println!("  records          {}", out.records);
    println!("  wall time        {:.3} s", elapsed.as_secs_f64());
    println!("  segments/s/core  {:.2} M", per_second / 1e6);
    println!("  ns/segment       {:.1}", elapsed.as_nanos() as f64 / segments as f64);
    println!("  bytes per flow   {} (FlowState), {:.0} with the table's slack ({} slots for {} flows)",
        state::FLOW_STATE_BYTES, (slots * state::FLOW_STATE_BYTES) as f64 / capacity as f64, slots, capacity);
    println!("  counters         {:?}", shard.counters());

    // Stateless opens: SYN generation plus the cookie check on each answer (half answer, half stray).
    let mut shard = FlowShard::new(FlowConfig { handshakes: 1, table_capacity: 1 << 19, secret: [3, 4], ..FlowConfig::default() }).expect("valid");
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
    let ns = 1_700_000_000_000u64 * 1_000_000;
    let start = Instant::now();
    for i in 0..n {
        shard.open(&Target { remote: remote(i), remote_port: 80, local }, ns, &mut Keep(&mut syns));
    }
    let open_time = start.elapsed();
    let start = Instant::now();
    for (i, syn) in syns.iter().enumerate() {
        let ack = if i % 2 == 0 { syn.seq.wrapping_add(1) } else { syn.seq };
        let seg = Segment { remote: syn.remote, remote_port: 80, local, local_port: syn.local_port, seq: 1, ack, window: 0, flags: TcpFlags::SYN_ACK, ttl: 55, payload: &[] };
        shard.on_segment(&seg, ns, &probes, &mut Count::default());
    }
    let check_time = start.elapsed();
    println!("stateless opens: {:.1} ns/SYN, {:.1} ns/answer checked (zero-window answers: record + tombstone; strays: dropped)",
        open_time.as_nanos() as f64 / n as f64, check_time.as_nanos() as f64 / n as f64);
    println!("  stray SYN-ACKs {}, zero-window records {}", shard.counters().stray_synacks, shard.counters().records(lzr::record::Outcome::ZeroWindow));
}
