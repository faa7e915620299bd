//! The management thread: takes targets from the input as they arrive, routes each to the worker that owns its
//! host, writes the records the workers finish, prints the live status, and decides when the run is over.
//!
//! The run ends when the input is exhausted, the cooldown since then has passed, no target is waiting in a ring
//! and every worker is idle (no flow in flight) — or at once, with every in-flight flow expired and recorded,
//! when SIGINT/SIGTERM arrives. Records are never dropped: a full result ring makes the worker wait, not lose.

use std::io::IsTerminal;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::config::{Campaign, StatusMode};
use crate::engine::Command;
use crate::flow::{SynAckFields, Target};
use crate::input::{InputErrorCounts, InputItem};
use crate::output::{status_line, RecordWriter, StatusSnapshot};
use crate::port::PortStats;

use super::fleet::Fleet;
use super::inputs::{Inputs, Next};
use super::signals;

/// Input lines reported one by one on stderr before only counting.
const ERRORS_SHOWN: u64 = 20;
/// Targets taken from the input per loop turn at most.
const TARGET_BATCH: u32 = 4096;

/// What the management thread counted (the workers count the rest).
#[derive(Clone, Debug, Default)]
pub struct ManagementCounts {
    /// Targets taken from the input.
    pub targets: u64,
    /// Targets refused by the allow/block lists (reserved and private ranges unless lifted).
    pub blocked: u64,
    /// Targets of an address family we have no source address for.
    pub no_source: u64,
    /// Unusable input lines, by kind.
    pub input_errors: InputErrorCounts,
    /// Stopped by a signal.
    pub interrupted: bool,
    /// Records written.
    pub records: u64,
    /// Write errors on the output (the run goes on; the count is reported).
    pub write_errors: u64,
}

pub struct Management<'a> {
    campaign: &'a Campaign,
    fleet: &'a Fleet,
    writer: &'a mut RecordWriter,
    port_stats: &'a dyn Fn() -> PortStats,
    pub counts: ManagementCounts,
    held: Option<Command>,
}

impl<'a> Management<'a> {
    pub fn new(campaign: &'a Campaign, fleet: &'a Fleet, writer: &'a mut RecordWriter, port_stats: &'a dyn Fn() -> PortStats) -> Self {
        Management { campaign, fleet, writer, port_stats, counts: ManagementCounts::default(), held: None }
    }

    /// Runs until every worker has finished; returns when their reports are ready.
    pub fn run(&mut self, mut inputs: Inputs) {
        let start = Instant::now();
        let clock = crate::engine::Clock::new();
        let cooldown = Duration::from_millis(self.campaign.timers.cooldown_ms);
        let show_status = match self.campaign.status {
            StatusMode::On => true,
            StatusMode::Off => false,
            StatusMode::Auto => std::io::stderr().is_terminal(),
        };
        let mut input_end: Option<Instant> = None;
        let mut stopping = false;
        let mut last_status = (Instant::now(), StatusSnapshot::default());

        loop {
            let now = Instant::now();
            if !self.counts.interrupted && signals::stop_requested() {
                self.counts.interrupted = true;
                eprintln!("lzr: stopping: no new targets, expiring flows in flight");
                self.fleet.control.drain.store(true, Relaxed);
                input_end.get_or_insert(now);
            }

            let mut busy = false;
            if input_end.is_none() {
                let grant = inputs.grant(clock.now_ns(), TARGET_BATCH);
                let (took, ended) = self.feed(&mut inputs, grant);
                busy |= took > 0;
                if ended {
                    input_end = Some(now);
                }
            } else if let Some(cmd) = self.held.take() {
                // Interrupted runs drop nothing: a target already read still goes out.
                if let Err(cmd) = self.fleet.route(cmd) {
                    self.held = Some(cmd);
                }
            }
            busy |= self.collect() > 0;

            if show_status && now.duration_since(last_status.0) >= Duration::from_secs(1) {
                let snap = self.snapshot();
                eprintln!("{}", status_line(&last_status.1, &snap, now.duration_since(last_status.0), start.elapsed()));
                last_status = (now, snap);
            }

            if let Some(end) = input_end {
                let cooled = self.counts.interrupted || now.duration_since(end) >= cooldown;
                if !stopping && cooled && self.held.is_none() && !self.fleet.commands_pending() && self.fleet.all_idle() {
                    stopping = true;
                    self.fleet.control.stop.store(true, Relaxed);
                }
                if stopping && self.fleet.all_finished() {
                    self.collect();
                    break;
                }
            }
            if !busy {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        if let Err(e) = self.writer.flush() {
            eprintln!("lzr: output: {e}");
            self.counts.write_errors += 1;
        }
    }

    /// Takes up to `grant` targets from the input and routes them. Returns (taken, input ended).
    fn feed(&mut self, inputs: &mut Inputs, grant: u32) -> (u32, bool) {
        let mut took = 0;
        while took < grant {
            if let Some(cmd) = self.held.take() {
                if let Err(cmd) = self.fleet.route(cmd) {
                    self.held = Some(cmd); // the owner's ring is full: try again next turn
                    break;
                }
                took += 1;
                continue;
            }
            match inputs.poll() {
                Next::Item(item) => {
                    self.counts.targets += 1;
                    self.held = self.command(item);
                }
                Next::Error(e) => {
                    self.counts.input_errors.add(e.kind);
                    let n = self.counts.input_errors.total();
                    if n <= ERRORS_SHOWN {
                        eprintln!("lzr: input {e}");
                    } else if n == ERRORS_SHOWN + 1 {
                        eprintln!("lzr: more input errors: counting them in the summary only");
                    }
                }
                Next::Wait => break,
                Next::End => return (took, self.held.is_none()),
            }
        }
        (took, false)
    }

    /// The command for one input item, or None when the target is refused (and counted).
    fn command(&mut self, item: InputItem) -> Option<Command> {
        let remote = match &item {
            InputItem::Target(t) => t.addr,
            InputItem::SynAck(z) => z.saddr,
        };
        if !self.campaign.policy.permits(remote) {
            self.counts.blocked += 1;
            return None;
        }
        match item {
            InputItem::Target(t) => {
                let Some(local) = self.campaign.source_for(t.addr) else {
                    self.counts.no_source += 1;
                    return None;
                };
                Some(Command::Open(Target { remote: t.addr, remote_port: t.port, local }))
            }
            InputItem::SynAck(z) => Some(Command::ZmapSynAck(SynAckFields {
                remote: z.saddr,
                remote_port: z.sport,
                local: z.daddr,
                local_port: z.dport,
                seq: z.seqnum,
                ack: z.acknum,
                window: z.window,
                ttl: z.ttl.unwrap_or(0),
            })),
        }
    }

    /// Writes every finished record waiting in the result rings; returns how many.
    fn collect(&mut self) -> usize {
        let mut n = 0;
        for links in &self.fleet.links {
            while let Some(record) = links.results.pop() {
                n += 1;
                self.counts.records += 1;
                if let Err(e) = self.writer.write(&record) {
                    self.counts.write_errors += 1;
                    if self.counts.write_errors == 1 {
                        eprintln!("lzr: output: {e}");
                    }
                }
            }
        }
        n
    }

    fn snapshot(&self) -> StatusSnapshot {
        let mut s = StatusSnapshot::default();
        for l in &self.fleet.links {
            let st = &l.stats;
            s.sent += st.syns.load(Relaxed);
            s.synacks += st.synacks.load(Relaxed);
            s.acked += st.acked.load(Relaxed);
            s.data += st.data.load(Relaxed);
            s.drops += st.drops.load(Relaxed);
        }
        let port = (self.port_stats)();
        s.pkts_in = port.ipackets;
        s.pkts_out = port.opackets;
        s.drops += port.imissed + port.rx_nombuf;
        s.input_errors = self.counts.input_errors.total();
        s.labels = self.writer.summary().labels_by_count().into_iter().map(|(l, c)| (l.to_string(), c)).collect();
        s
    }
}

