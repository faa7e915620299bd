//! `lzr-sim`: a simulated Internet population as a DPDK process. Every address of `--space` is a host whose
//! behaviour on each port follows the population profiles (config/populations, docs/simulator.md); N worker
//! lcores each poll one queue of the port and answer with [`lzr::sim::Responder`].
//!
//! Towards lzr on the same machine: `--device net_memif0,role=server,socket=/run/lzr-sim.sock` (lzr then uses
//! `net_memif0,role=client,socket=/run/lzr-sim.sock`). Towards kernel tools (ZGrab2, nmap, curl):
//! `--device net_tap0,iface=simtap0`, then route the space to simtap0. Runs until SIGINT/SIGTERM or
//! `--duration`, then prints one JSON line with the port's and the responders' counters.
//!
//! `--truth` (no DPDK needed): prints what a loss-free scan of the population should record, the cost of the
//! full-handshake baseline on the same hosts, and with `--check FILE` how lzr's records compare, host by host
//! (bench/truth.rs; used by scripts/bench); `--check-peer FILE` scores another tool's findings the same way.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[path = "../../bench/truth.rs"]
mod truth;

#[derive(Parser, Debug)]
#[command(
    name = "lzr-sim",
    about = "Simulated hosts (LZR paper, Table 4 mixes) answering on a DPDK port"
)]
struct Args {
    /// EAL arguments as one string, split on whitespace (e.g. "--no-pci --no-huge -m 256 -l 0-1"). Arguments after
    /// `--` are added to these.
    #[arg(long, allow_hyphen_values = true)]
    eal: Option<String>,
    /// The port: vdev devargs (net_memif0,role=server,socket=PATH or net_tap0,iface=NAME), a port id, or `first`.
    #[arg(long, required_unless_present = "truth")]
    device: Option<String>,
    /// Population profile files (one per port); repeatable.
    #[arg(long = "profile")]
    profiles: Vec<PathBuf>,
    /// A directory of profiles (every *.toml in it), e.g. config/populations.
    #[arg(long)]
    profile_dir: Option<PathBuf>,
    /// The addresses the simulator owns (answers ARP and TCP for), an IPv4 prefix.
    #[arg(long, default_value = "198.18.128.0/17")]
    space: String,
    /// Keys every per-host draw: the same seed gives the same population.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker lcores, one queue pair each (EAL needs as many worker lcores in -l).
    #[arg(long, default_value_t = 1)]
    workers: u16,
    /// Stop after this many seconds (default: run until SIGINT/SIGTERM).
    #[arg(long)]
    duration: Option<f64>,
    /// Every address SYN-ACKs; the profiles' mix among SYN-ACKers (the view of the paper's Table 4, where ZMap
    /// has already found the SYN-ACKers).
    #[arg(long)]
    among_synack: bool,
    /// Print the ground truth (one JSON line per profile) instead of serving; no DPDK.
    #[arg(long)]
    truth: bool,
    /// With --truth: the handshake list scanned (default: each profile's protocol).
    #[arg(long, requires = "truth")]
    handshakes: Option<String>,
    /// With --truth: HyperACKtive filtering was on.
    #[arg(long, requires = "truth")]
    haf: bool,
    /// With --truth: lzr's records (JSON lines) to compare with the truth, host by host (one profile only).
    #[arg(long, requires = "truth")]
    check: Option<PathBuf>,
    /// With --truth: another tool's findings on the same hosts (JSON lines `{"saddr", "sport", "label"}`, as
    /// bench/peers.py writes them) to score against the truth (one profile only).
    #[arg(long, requires = "truth")]
    check_peer: Option<PathBuf>,
    /// EAL arguments (after `--`).
    #[arg(last = true, allow_hyphen_values = true)]
    eal_args: Vec<String>,
}

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    let result = if args.truth {
        population(&args).and_then(|p| {
            truth::run(
                &p,
                args.handshakes.as_deref(),
                args.haf,
                truth::Checks {
                    records: args.check.as_deref(),
                    peer: args.check_peer.as_deref(),
                },
            )
        })
    } else {
        run(args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lzr-sim: {e}");
            ExitCode::from(2)
        }
    }
}

/// The population the arguments describe.
fn population(args: &Args) -> Result<lzr::sim::Population, String> {
    use lzr::sim::{load_dir, Population, Profile, Space};
    let space: Space = args.space.parse()?;
    let mut profiles = Vec::new();
    if let Some(dir) = &args.profile_dir {
        profiles.extend(load_dir(dir).map_err(|e| e.to_string())?);
    }
    for path in &args.profiles {
        profiles.push(Profile::load(path).map_err(|e| e.to_string())?);
    }
    if profiles.is_empty() {
        return Err("no population profile: give --profile FILE or --profile-dir DIR".into());
    }
    if args.among_synack {
        profiles = profiles.iter().map(Profile::among_synack).collect();
    }
    Population::new(space, profiles, args.seed).map_err(|e| e.to_string())
}

#[cfg(not(feature = "dpdk"))]
fn run(args: Args) -> Result<(), String> {
    // Still validate what can be validated, so a bad profile is reported either way.
    population(&args)?;
    Err(
        "lzr-sim needs the `dpdk` feature (build with default features and libdpdk-dev installed)"
            .into(),
    )
}

#[cfg(feature = "dpdk")]
fn run(args: Args) -> Result<(), String> {
    dpdk_run::run(args)
}

#[cfg(feature = "dpdk")]
mod dpdk_run {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use lzr::port::dpdk::{Device, DpdkPort, Eal, PortConfig};
    use lzr::port::{format_mac, Port, QueuePair, RxQueue, TxQueue};
    use lzr::sim::{FrameSink, Responder, ResponderCounters, TxSink};
    use lzr::wire::MacAddr;

    use super::{population, Args};

    /// Set by SIGINT/SIGTERM.
    static STOP: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(_: libc::c_int) {
        STOP.store(true, Ordering::Relaxed);
    }

    fn install_signal_handlers() {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(libc::SIGINT, handler);
            libc::signal(libc::SIGTERM, handler);
        }
    }

    /// What crossed the port, from the queues' own counters (the memif port's are reset when the peer leaves)
    /// plus bytes counted here.
    #[derive(Clone, Copy, Debug, Default)]
    struct Wire {
        frames_in: u64,
        bytes_in: u64,
        rx_dropped: u64,
        /// Frames the device accepted.
        frames_out: u64,
        /// Bytes of the frames queued for sending.
        bytes_out: u64,
        /// Frames queued but not taken by the device (ring full).
        tx_dropped: u64,
        /// Frames not queued: no free mbuf, or longer than one mbuf.
        tx_no_buffer: u64,
        tx_bad_length: u64,
    }

    impl Wire {
        fn merge(&mut self, o: &Wire) {
            self.frames_in += o.frames_in;
            self.bytes_in += o.bytes_in;
            self.rx_dropped += o.rx_dropped;
            self.frames_out += o.frames_out;
            self.bytes_out += o.bytes_out;
            self.tx_dropped += o.tx_dropped;
            self.tx_no_buffer += o.tx_no_buffer;
            self.tx_bad_length += o.tx_bad_length;
        }
    }

    /// A sink that counts the bytes of the frames its inner sink accepted.
    struct Counting<S> {
        inner: S,
        bytes: u64,
    }

    impl<S: FrameSink> Counting<S> {
        fn new(inner: S) -> Self {
            Counting { inner, bytes: 0 }
        }
    }

    impl<S: FrameSink> FrameSink for Counting<S> {
        fn send(&mut self, frame: &[u8]) -> bool {
            let ok = self.inner.send(frame);
            if ok {
                self.bytes += frame.len() as u64;
            }
            ok
        }
    }

    /// When SYNs arrived: first and last burst (ns since the run's start).
    #[derive(Clone, Copy, Debug, Default)]
    struct SynWindow {
        first: Option<u64>,
        last: u64,
    }

    impl SynWindow {
        fn saw(&mut self, ns: u64) {
            self.first.get_or_insert(ns);
            self.last = self.last.max(ns);
        }
        fn merge(&mut self, o: &SynWindow) {
            if let Some(f) = o.first {
                self.first = Some(self.first.map_or(f, |s| s.min(f)));
                self.last = self.last.max(o.last);
            }
        }
        fn seconds(&self) -> f64 {
            self.first.map_or(0.0, |f| (self.last - f) as f64 / 1e9)
        }
    }

    /// Idle polls before a worker pauses briefly, so an idle simulator does not hog a shared CPU.
    const SPIN_BEFORE_PAUSE: u32 = 1024;
    const PAUSE: Duration = Duration::from_micros(50);

    pub fn run(args: Args) -> Result<(), String> {
        let population = Arc::new(population(&args)?);
        let device: Device = args
            .device
            .as_deref()
            .ok_or("--device is required")?
            .parse()
            .map_err(|e| format!("{e}"))?;
        let mut eal_args: Vec<String> = args
            .eal
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        eal_args.extend(args.eal_args.iter().cloned());
        install_signal_handlers();

        let eal = Eal::init(&eal_args).map_err(|e| e.to_string())?;
        if eal.worker_lcores().len() < usize::from(args.workers) {
            return Err(format!(
                "{} workers need {} worker lcores; EAL has {:?} (give more with -l)",
                args.workers,
                args.workers,
                eal.worker_lcores()
            ));
        }
        let config = PortConfig {
            device,
            queues: args.workers.max(1),
            rss: false,
            promiscuous: true,
            ..PortConfig::default()
        };
        let mut port = DpdkPort::open(&eal, &config).map_err(|e| e.to_string())?;
        let mac = MacAddr(port.mac());
        let info = port.info().clone();
        eprintln!(
            "lzr-sim: {} ({}) mac {} queues {}, space {}, ports {:?}, seed {}",
            info.name,
            info.driver,
            format_mac(&port.mac()),
            info.queues,
            population.space(),
            population.profiles().map(|p| p.port).collect::<Vec<_>>(),
            args.seed
        );

        let totals = Arc::new(Mutex::new(ResponderCounters::default()));
        // First and last instant a SYN arrived (ns since `epoch`), over all workers: the achieved SYN rate as
        // seen at the receiving end.
        let epoch = Instant::now();
        let syn_window = Arc::new(Mutex::new(SynWindow::default()));
        let wires = Arc::new(Mutex::new(Wire::default()));
        let quit = Arc::new(AtomicBool::new(false));
        let jobs: Vec<_> = port
            .take_queues()
            .into_iter()
            .map(|mut queue| {
                let population = population.clone();
                let totals = totals.clone();
                let syn_window = syn_window.clone();
                let wires = wires.clone();
                let quit = quit.clone();
                move || {
                    let mut responder = Responder::new(population, mac);
                    let clock = lzr::engine::Clock::new();
                    let mut idle = 0u32;
                    let mut window = SynWindow::default();
                    let mut wire = Wire::default();
                    while !quit.load(Ordering::Relaxed) {
                        let now = clock.now_ns();
                        let (rx, tx) = queue.split();
                        let syns = responder.counters().syns;
                        let mut sink = Counting::new(TxSink(&mut *tx));
                        let got = rx.recv_burst(|frame| {
                            wire.bytes_in += frame.len() as u64;
                            responder.handle(frame, now, &mut sink)
                        });
                        if responder.counters().syns > syns {
                            window.saw(epoch.elapsed().as_nanos() as u64);
                        }
                        let released = responder.poll(now, &mut sink);
                        wire.bytes_out += sink.bytes;
                        tx.flush();
                        if got + released == 0 {
                            idle += 1;
                            if idle >= SPIN_BEFORE_PAUSE {
                                std::thread::sleep(PAUSE);
                            }
                        } else {
                            idle = 0;
                        }
                    }
                    if let Ok(mut t) = totals.lock() {
                        t.merge(responder.counters());
                    }
                    if let Ok(mut w) = syn_window.lock() {
                        w.merge(&window);
                    }
                    let q = queue.stats();
                    wire.frames_in = q.rx_frames;
                    wire.rx_dropped = q.rx_dropped;
                    wire.frames_out = q.tx_frames;
                    wire.tx_dropped = q.tx_dropped;
                    wire.tx_no_buffer = q.tx_no_buffer;
                    wire.tx_bad_length = q.tx_bad_length;
                    if let Ok(mut w) = wires.lock() {
                        w.merge(&wire);
                    }
                    0
                }
            })
            .collect();
        let launched = eal.launch_workers(jobs).map_err(|e| e.to_string())?;

        let started = Instant::now();
        let limit = args.duration.map(Duration::from_secs_f64);
        while !STOP.load(Ordering::Relaxed) && limit.map_or(true, |l| started.elapsed() < l) {
            std::thread::sleep(Duration::from_millis(20));
        }
        quit.store(true, Ordering::Relaxed);
        let codes: Vec<i32> = launched.into_iter().map(|job| job.wait()).collect();
        let stats = port.close();
        let counters = totals.lock().map(|t| t.clone()).unwrap_or_default();
        let window = syn_window.lock().map(|w| *w).unwrap_or_default();
        let syn_seconds = window.seconds();
        let wire = wires.lock().map(|w| *w).unwrap_or_default();
        let line = serde_json::json!({
            "device": info.name,
            "driver": info.driver,
            "mac": format_mac(&mac.0),
            "space": population.space().to_string(),
            "seconds": started.elapsed().as_secs_f64(),
            "workers_ok": codes.iter().all(|c| *c == 0),
            "port_stats": stats,
            "responder": counters,
            "wire": {
                "frames_in": wire.frames_in, "bytes_in": wire.bytes_in, "rx_dropped": wire.rx_dropped,
                "frames_out": wire.frames_out, "bytes_out": wire.bytes_out, "tx_dropped": wire.tx_dropped,
                "tx_no_buffer": wire.tx_no_buffer, "tx_bad_length": wire.tx_bad_length,
            },
            "syn_seconds": syn_seconds,
            "syn_rate": if syn_seconds > 0.0 { counters.syns as f64 / syn_seconds } else { 0.0 },
        });
        println!("{line}");
        drop(eal);
        Ok(())
    }
}
