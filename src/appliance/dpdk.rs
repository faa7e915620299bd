//! The DPDK back end: EAL start, the ethdev port with one queue pair per worker, the gateway's MAC (given, or
//! resolved by ARP/NDP on the port before the workers start), and workers pinned on EAL lcores.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::config::Campaign;
use crate::neighbor::{Neighbor, NeighborConfig, Resolution};
use crate::port::dpdk::{Device, DpdkPort, Eal, LcoreJob, PortConfig};
use crate::port::{Port, QueuePair};
use crate::wire::{parse_frame, MacAddr};

use super::{campaign_inputs, campaign_writer, fleet, run_with_queues, Launch, PortFacts, RunReport};

/// How long gateway resolution may take before the run gives up with a clear error.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(6);
/// How long the port may take to bring its link up before scanning starts (a NIC negotiating, a memif peer
/// connecting); past it lzr warns and goes on.
const LINK_WAIT: Duration = Duration::from_secs(10);

/// EAL arguments: the campaign's, plus an lcore map for the management lcore and one lcore per worker when the
/// campaign gives none (lcores are spread over the CPUs the process may use).
fn eal_args(campaign: &Campaign) -> Vec<String> {
    let mut args = campaign.network.eal_args.clone();
    if args.is_empty() {
        args = vec!["--in-memory".into(), "--no-telemetry".into()];
    }
    let has_lcores = args.iter().any(|a| a == "-l" || a.starts_with("--lcores") || a == "-c" || a.starts_with("-l"));
    if !has_lcores {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let map: Vec<String> = (0..=usize::from(campaign.workers)).map(|l| format!("{l}@{}", l % cpus)).collect();
        args.push(format!("--lcores={}", map.join(",")));
    }
    args
}

/// Workers on EAL lcores (pinned), or on registered threads when there are fewer worker lcores than workers.
struct Lcores<'e> {
    eal: &'e Eal,
    jobs: Vec<LcoreJob>,
    threads: super::Threads,
}

impl Launch for Lcores<'_> {
    fn launch<F: FnOnce() -> i32 + Send + 'static>(&mut self, jobs: Vec<F>) -> Result<(), String> {
        if jobs.len() <= self.eal.worker_lcores().len() {
            self.jobs = self.eal.launch_workers(jobs).map_err(|e| format!("launching workers: {e}"))?;
        } else {
            log::warn!("{} workers for {} worker lcores: running them on threads", jobs.len(), self.eal.worker_lcores().len());
            self.threads.0 = fleet::spawn_threads(jobs, || {
                if let Err(e) = Eal::register_thread() {
                    log::warn!("worker thread not registered with DPDK: {e}");
                }
            });
        }
        Ok(())
    }
    fn wait(&mut self) {
        for job in self.jobs.drain(..) {
            job.wait();
        }
        self.threads.wait();
    }
}

pub fn run(campaign: &Campaign) -> Result<RunReport, String> {
    if campaign.network.source_ipv4.is_none() && campaign.network.source_ipv6.is_none() {
        // No kernel owns the NIC: lzr itself answers ARP/NDP for the scan address, ZMap's included.
        return Err("no source address: give -sourceIP (in ZMap mode, ZMap's --source-ip) so lzr can answer ARP/NDP for it".into());
    }
    let eal = Eal::init(&eal_args(campaign)).map_err(|e| format!("DPDK EAL: {e}"))?;
    let device: Device = match &campaign.network.device {
        Some(d) => d.parse().map_err(|e| format!("device {d}: {e}"))?,
        None => Device::First,
    };
    let config = PortConfig { device, queues: campaign.workers, ..PortConfig::default() };
    let mut port = DpdkPort::open(&eal, &config).map_err(|e| format!("port: {e}"))?;
    if !port.wait_link_up(LINK_WAIT) {
        log::warn!("port {}: link still down after {} s; scanning anyway (frames sent now may be lost)", port.info().name, LINK_WAIT.as_secs());
    }
    let mac = MacAddr(port.mac());
    let mut queues = port.take_queues();
    let gateway = match campaign.network.gateway_mac {
        Some(m) => MacAddr(m),
        None => {
            let ip = campaign.network.gateway_ip.ok_or("no gateway: give --gateway-mac, or --gateway-ip to resolve it by ARP/NDP")?;
            resolve_gateway(campaign, mac, ip, &mut queues)?
        }
    };
    let mut tap = match &campaign.network.zmap_tap {
        Some(name) => Some(open_zmap_tap(&eal, name)?),
        None => None,
    };
    let tap_queue: Option<Box<dyn crate::engine::ExceptionPort>> =
        tap.as_mut().and_then(|t| t.take_queues().pop()).map(|q| Box::new(q) as Box<dyn crate::engine::ExceptionPort>);
    let facts = PortFacts { mac, gateway, steering: port.steering().clone(), queues: port.queue_count() };
    log::info!("port {} ({}): mac {mac}, gateway {gateway}, {} queues, hardware steering: {}", port.info().name, port.info().driver, facts.queues, matches!(facts.steering, crate::port::Steering::Rss(_)));
    let inputs = campaign_inputs(campaign)?;
    let mut writer = campaign_writer(campaign)?;
    let mut lcores = Lcores { eal: &eal, jobs: Vec::new(), threads: super::Threads::default() };
    let stats = || port.stats();
    let report = run_with_queues(campaign, &facts, queues, tap_queue, &mut lcores, inputs, &mut writer, &stats);
    drop(tap);
    report
}

/// The exception tap for ZMap: a second DPDK port on net_tap whose kernel side (`name`) ZMap sends on.
fn open_zmap_tap(eal: &Eal, name: &str) -> Result<DpdkPort, String> {
    let config = PortConfig {
        device: Device::Vdev(format!("net_tap_zmap0,iface={name}")),
        queues: 1,
        rss: false,
        ..PortConfig::default()
    };
    let port = DpdkPort::open(eal, &config).map_err(|e| format!("ZMap tap {name}: {e}"))?;
    // ZMap reads its interface's IPv4 address (and gives up without one). Not the scan address: the kernel
    // would then answer the SYN-ACKs passed back to ZMap with RSTs. RFC 7600's dummy address is meant for this.
    crate::port::netdev::set_ipv4_address(name, std::net::Ipv4Addr::new(192, 0, 0, 8))
        .map_err(|e| format!("ZMap tap {name}: cannot give it an address: {e}"))?;
    log::info!("ZMap exception tap {name} ready: run zmap -i {name}");
    eprintln!("lzr: ZMap exception tap {name} is up: pipe `zmap -i {name} ...` into lzr");
    Ok(port)
}

/// Resolves the gateway's MAC on the port before the workers take the queues: requests go out on queue 0,
/// replies may land on any queue.
fn resolve_gateway<Q: QueuePair>(campaign: &Campaign, mac: MacAddr, gateway: IpAddr, queues: &mut [Q]) -> Result<MacAddr, String> {
    let start = Instant::now();
    let now_ms = || start.elapsed().as_millis() as u64;
    let mut cfg = NeighborConfig::new(mac, campaign.network.source_ipv4.into_iter().collect(), campaign.network.source_ipv6.into_iter().collect());
    cfg.gateway_ip = Some(gateway);
    cfg.retry_interval_ms = 500;
    cfg.max_attempts = 10;
    let mut neighbor = Neighbor::new(cfg, now_ms());
    while start.elapsed() < RESOLVE_TIMEOUT {
        match neighbor.gateway_state() {
            Resolution::Resolved(m) => return Ok(m),
            Resolution::Failed => break,
            _ => {}
        }
        let Some(first) = queues.first_mut() else { return Err("port has no queues".into()) };
        while let Some(frame) = neighbor.poll_transmit(now_ms()) {
            first.push_frame(frame.len(), |b| {
                let _ = frame.build(b);
            });
        }
        first.flush();
        for q in queues.iter_mut() {
            let mut replies = Vec::new();
            q.recv_burst(|bytes| {
                if let Ok(f) = parse_frame(bytes) {
                    if let Some(reply) = neighbor.handle_frame(&f) {
                        replies.push(reply);
                    }
                }
            });
            for reply in replies {
                q.push_frame(reply.len(), |b| {
                    let _ = reply.build(b);
                });
            }
            q.flush();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Err(format!("gateway {gateway} did not answer ARP/NDP within {} s", RESOLVE_TIMEOUT.as_secs()))
}
