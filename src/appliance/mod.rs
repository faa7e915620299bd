//! The appliance: one campaign run end to end. The management thread (this one) reads targets and writes
//! records; one worker per queue pair does the packet work (see [`crate::engine`]).
//!
//! Back ends: DPDK ([`dpdk`]: EAL, an ethdev port, gateway resolution, workers pinned on lcores) and any
//! port whose queues are already open ([`run_with_queues`]: the in-memory pair in tests and benchmarks).

#[cfg(feature = "dpdk")]
pub mod dpdk;
pub mod fleet;
pub mod inputs;
pub mod management;
pub mod signals;

use std::time::{Duration, Instant};

use crate::config::{Campaign, Mode};
use crate::engine::{EngineCounters, WorkerReport};
use crate::flow::FlowCounters;
use crate::handshakes::options::ProbeOptions;
use crate::output::{RecordEncoder, RecordWriter, Sink, Zone};
use crate::port::{PortStats, QueuePair};

pub use fleet::{Fleet, PortFacts};
pub use inputs::Inputs;
pub use management::{Management, ManagementCounts};

/// Everything a run counted, for the exit summary and for tests.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub management: ManagementCounts,
    pub engine: EngineCounters,
    pub flow: FlowCounters,
    pub port: PortStats,
    /// The workers' queue pairs, summed: frames the device's TX ring refused, oversized frames dropped on RX.
    pub queue: crate::port::QueueStats,
    pub runtime: Duration,
    /// The original's summary (§8.4) plus our outcome counts, as printed.
    pub summary: String,
}

/// How worker jobs are started and waited for.
pub trait Launch {
    fn launch<F: FnOnce() -> i32 + Send + 'static>(&mut self, jobs: Vec<F>) -> Result<(), String>;
    fn wait(&mut self);
}

/// Workers on plain threads.
#[derive(Default)]
pub struct Threads(Vec<std::thread::JoinHandle<i32>>);

impl Launch for Threads {
    fn launch<F: FnOnce() -> i32 + Send + 'static>(&mut self, jobs: Vec<F>) -> Result<(), String> {
        self.0 = fleet::spawn_threads(jobs, || ());
        Ok(())
    }
    fn wait(&mut self) {
        for h in self.0.drain(..) {
            let _ = h.join();
        }
    }
}

/// `lzr` (scan): runs the campaign on DPDK; returns the exit code.
pub fn run(campaign: Campaign) -> i32 {
    signals::install();
    match start(&campaign) {
        Ok(report) => {
            eprint!("{}", report.summary);
            i32::from(report.management.write_errors > 0)
        }
        Err(e) => {
            eprintln!("lzr: {e}");
            2
        }
    }
}

fn start(campaign: &Campaign) -> Result<RunReport, String> {
    let options = ProbeOptions::reference().with_user_agent(&campaign.user_agent).map_err(|e| format!("user_agent: {e}"))?;
    // A second install in one process (tests) keeps the first; the scan binary installs once.
    let _ = options.install();
    #[cfg(feature = "dpdk")]
    {
        dpdk::run(campaign)
    }
    #[cfg(not(feature = "dpdk"))]
    {
        Err("this lzr was built without the `dpdk` feature: rebuild with default features".into())
    }
}

/// The campaign's input: stdin lines, or the generator.
pub fn campaign_inputs(campaign: &Campaign) -> Result<Inputs, String> {
    match campaign.mode {
        Mode::Generator => {
            let seed = rand::random::<u64>();
            let generator = campaign
                .build_generator(seed)
                .ok_or("generator mode needs targets (--targets or generator.targets)")?
                .map_err(|e| format!("generator: {e}"))?;
            Ok(Inputs::generated(generator, campaign.rate, campaign.burst))
        }
        mode => {
            let format = mode.input_format().ok_or("no input format")?;
            Ok(Inputs::lines(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()), format))
        }
    }
}

/// The record writer of a campaign: output file (or stdout) and the ZGrab feed on stdout.
pub fn campaign_writer(campaign: &Campaign) -> Result<RecordWriter, String> {
    let records = Sink::open(&campaign.output).map_err(|e| format!("output {}: {e}", campaign.output))?;
    let feed = campaign.feed_zgrab.then(Sink::stdout);
    let encoder = RecordEncoder::new(campaign.output_format, campaign.ipv6_format, Zone::Local);
    Ok(RecordWriter::new(encoder, records, feed, campaign.only_data_record))
}

/// Runs a campaign on open queues: launches the workers, manages the run, gathers the counters. `zmap_tap`:
/// the exception tap's queue pair, in ZMap pipe mode on a DPDK-bound NIC.
#[allow(clippy::too_many_arguments)]
pub fn run_with_queues<Q: QueuePair + 'static, L: Launch>(
    campaign: &Campaign,
    facts: &PortFacts,
    queues: Vec<Q>,
    zmap_tap: Option<Box<dyn crate::engine::ExceptionPort>>,
    launcher: &mut L,
    inputs: Inputs,
    writer: &mut RecordWriter,
    port_stats: &dyn Fn() -> PortStats,
) -> Result<RunReport, String> {
    let start = Instant::now();
    let mut fleet = Fleet::new(campaign, facts, zmap_tap.is_some())?;
    launcher.launch(fleet.jobs(queues, zmap_tap))?;
    let mut management = Management::new(campaign, &fleet, writer, port_stats);
    management.run(inputs);
    let counts = management.counts.clone();
    launcher.wait();
    let mut report = RunReport { management: counts, port: port_stats(), runtime: start.elapsed(), ..RunReport::default() };
    for WorkerReport { engine, flow, queue } in fleet.reports() {
        report.engine.merge(&engine);
        report.flow.merge(&flow);
        report.queue.tx_dropped += queue.tx_dropped;
        report.queue.rx_dropped += queue.rx_dropped;
    }
    report.summary = summary_text(&report, writer);
    Ok(report)
}

/// The exit summary: the original's (runtime, counters, labels) then where every target went.
fn summary_text(r: &RunReport, writer: &RecordWriter) -> String {
    let mut s = writer.summary().render(r.runtime);
    let m = &r.management;
    let f = &r.flow;
    let e = &r.engine;
    let mut line = |text: String| {
        s.push_str(&text);
        s.push('\n');
    };
    line(format!(
        "targets: {} read, {} blocked by the address policy, {} without a source address, {} bad input lines{}",
        m.targets,
        m.blocked,
        m.no_source,
        m.input_errors.total(),
        if m.interrupted { " (interrupted)" } else { "" }
    ));
    line(format!(
        "flows: {} SYNs opened (stateless), {} answered ({} opened a flow), {} without an answer (not recorded), {} ZMap handshakes continued, {} duplicates dropped, {} refused (flow table full), {} records written",
        f.syns_opened, f.syns_answered, f.cookie_flows, f.syns_unanswered(), f.zmap_flows, f.duplicate_targets, f.table_full, m.records
    ));
    line(format!(
        "packets: {} received, {} sent; dropped: {} unparsable, {} bad TCP checksum, {} stray SYN-ACKs, {} stray segments, {} rejected, {} hand-offs lost, {} not sent; port: {} missed, {} no mbuf, {} refused by the TX ring, {} too long to receive",
        e.rx_frames,
        e.tx_segments,
        e.parse_drops.total(),
        e.bad_tcp_checksum,
        f.stray_synacks,
        f.stray_segments,
        f.rejected_segments,
        e.handoff_full,
        e.tx_refused,
        r.port.imissed,
        r.port.rx_nombuf,
        r.queue.tx_dropped,
        r.queue.rx_dropped
    ));
    if e.zmap_out + e.zmap_in + e.zmap_lost > 0 {
        line(format!("zmap tap: {} probes out, {} answers back, {} answers lost", e.zmap_out, e.zmap_in, e.zmap_lost));
    }
    if m.write_errors > 0 {
        line(format!("output: {} write errors", m.write_errors));
    }
    s
}

#[cfg(test)]
mod tests;
