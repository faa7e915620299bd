//! The workers of one run: their configuration (from the campaign and the port's facts), the rings that join
//! them to the management thread, and the jobs that run them on lcores or threads.

use std::sync::{Arc, Mutex};

use crossbeam_queue::ArrayQueue;

use crate::config::Campaign;
use crate::engine::{
    run_worker, Clock, Command, Control, ExceptionPort, Owner, Probes, WorkerLinks, WorkerReport, WorkerSetup, WorkerStats,
};
use crate::flow::FlowConfig;
use crate::handshakes::matcher::MatcherOptions;
use crate::handshakes::HandshakeList;
use crate::neighbor::NeighborConfig;
use crate::port::{QueuePair, Steering};
use crate::wire::MacAddr;

/// Targets queued per worker between the management thread and the worker.
const COMMAND_RING: usize = 16_384;
/// Finished records queued per worker towards the management thread.
const RESULT_RING: usize = 65_536;
/// Frames queued per worker for software steering.
const INBOX_RING: usize = 8_192;
/// Answers queued for ZMap's exception tap.
const EXCEPTION_RING: usize = 65_536;

/// A worker job, ready for an lcore or a thread.
pub type Job = Box<dyn FnOnce() -> i32 + Send + 'static>;

/// What the workers need to know about the port.
#[derive(Clone, Debug)]
pub struct PortFacts {
    pub mac: MacAddr,
    pub gateway: MacAddr,
    pub steering: Steering,
    pub queues: u16,
}

/// The rings and shared state of all workers, held by the management thread.
pub struct Fleet {
    pub links: Vec<WorkerLinks>,
    pub control: Arc<Control>,
    pub owner: Owner,
    reports: Vec<Arc<Mutex<Option<WorkerReport>>>>,
    setups: Vec<WorkerSetup>,
}

/// The flow layer's configuration for a campaign (one secret for all workers: any worker may see any answer
/// before steering, and the cookie must check out wherever it is verified).
pub fn flow_config(c: &Campaign, handshakes: u8) -> FlowConfig {
    FlowConfig {
        handshakes,
        retransmit_ms: c.timers.retransmit_delay_ms,
        timeout_ms: c.timers.timeout_ms,
        retransmissions: c.timers.retransmits,
        force_all: c.force_all,
        push_data_only: c.push_data_only,
        stop_when_unacked: c.stop_when_unacked,
        haf_probes: c.haf.probes,
        haf_threshold: c.haf.threshold,
        data_cap: usize::from(c.data_cap),
        table_capacity: c.flow_capacity as usize,
        ..FlowConfig::default()
    }
}

/// The campaign's handshake plan, with the fingerprint preference list.
pub fn probes(c: &Campaign) -> Result<Probes, String> {
    let priority = if c.priority_fingerprint.is_empty() {
        None
    } else {
        Some(HandshakeList::from_names(c.priority_fingerprint.iter()).map_err(|e| format!("priority_fingerprint: {e}"))?)
    };
    Ok(Probes::from_plan(&c.plan, priority.as_ref(), MatcherOptions::default()))
}

impl Fleet {
    /// `zmap_tap`: ZMap pipe mode through an exception tap (worker 0 will own it).
    pub fn new(c: &Campaign, facts: &PortFacts, zmap_tap: bool) -> Result<Fleet, String> {
        let probes = probes(c)?;
        let flow = flow_config(c, probes.max_count());
        flow.validate().map_err(|e| format!("campaign: {e}"))?;
        let workers = usize::from(facts.queues.max(1));
        let owner = Owner::new(&facts.steering, facts.queues, [flow.secret[0] ^ 0x5eed, flow.secret[1]]);
        let control = Arc::new(Control::default());
        let inboxes = Arc::new((0..workers).map(|_| ArrayQueue::new(INBOX_RING)).collect::<Vec<_>>());
        let to_exception = zmap_tap.then(|| Arc::new(ArrayQueue::new(EXCEPTION_RING)));
        let clock = Clock::new();
        let mut neighbor = NeighborConfig::new(
            facts.mac,
            c.network.source_ipv4.into_iter().collect(),
            c.network.source_ipv6.into_iter().collect(),
        );
        neighbor.gateway_mac = Some(facts.gateway);
        let links: Vec<WorkerLinks> = (0..workers)
            .map(|_| WorkerLinks {
                commands: Arc::new(ArrayQueue::new(COMMAND_RING)),
                results: Arc::new(ArrayQueue::new(RESULT_RING)),
                inboxes: inboxes.clone(),
                stats: Arc::new(WorkerStats::default()),
                control: control.clone(),
                to_exception: to_exception.clone(),
            })
            .collect();
        let setups = (0..workers)
            .map(|index| WorkerSetup {
                index,
                flow: flow.clone(),
                probes: probes.clone(),
                neighbor: neighbor.clone(),
                mac: facts.mac,
                gateway: facts.gateway,
                original_syn: false,
                owner: owner.clone(),
                clock,
            })
            .collect();
        let reports = (0..workers).map(|_| Arc::new(Mutex::new(None))).collect();
        Ok(Fleet { links, control, owner, reports, setups })
    }

    /// One job per queue pair: runs the worker and leaves its report for [`Fleet::reports`]. Worker 0 also
    /// owns ZMap's exception tap when there is one.
    pub fn jobs<Q: QueuePair + 'static>(&mut self, queues: Vec<Q>, mut exception: Option<Box<dyn ExceptionPort>>) -> Vec<Job> {
        let setups = std::mem::take(&mut self.setups);
        setups
            .into_iter()
            .zip(queues)
            .zip(self.links.iter().cloned().zip(self.reports.iter().cloned()))
            .map(|((setup, queue), (links, slot))| {
                let tap = exception.take();
                Box::new(move || {
                    let report = run_worker(setup, queue, tap, links);
                    if let Ok(mut s) = slot.lock() {
                        *s = Some(report);
                    }
                    0
                }) as Job
            })
            .collect()
    }

    /// True once every worker has left its loop.
    pub fn all_finished(&self) -> bool {
        self.reports.iter().all(|r| r.lock().map(|s| s.is_some()).unwrap_or(true))
    }

    /// The workers' final counters (after [`Fleet::all_finished`]).
    pub fn reports(&self) -> Vec<WorkerReport> {
        self.reports.iter().filter_map(|r| r.lock().ok().and_then(|s| s.clone())).collect()
    }

    /// Routes a target to its owner's command ring; gives it back when that ring is full.
    pub fn route(&self, cmd: Command) -> Result<(), Command> {
        let (remote, local) = match &cmd {
            Command::Open(t) => (t.remote, t.local),
            Command::ZmapSynAck(f) => (f.remote, f.local),
        };
        let owner = self.owner.of(remote, local);
        self.links[owner].commands.push(cmd)
    }

    pub fn commands_pending(&self) -> bool {
        self.links.iter().any(|l| !l.commands.is_empty())
    }

    pub fn all_idle(&self) -> bool {
        self.links.iter().all(|l| l.stats.idle.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Runs jobs on plain threads (the in-memory port, and DPDK when there are fewer lcores than workers).
pub fn spawn_threads<F: FnOnce() -> i32 + Send + 'static>(jobs: Vec<F>, register: fn()) -> Vec<std::thread::JoinHandle<i32>> {
    jobs.into_iter()
        .enumerate()
        .filter_map(|(i, job)| {
            std::thread::Builder::new()
                .name(format!("lzr-worker-{i}"))
                .spawn(move || {
                    register();
                    job()
                })
                .map_err(|e| log::error!("cannot start worker {i}: {e}"))
                .ok()
        })
        .collect()
}
