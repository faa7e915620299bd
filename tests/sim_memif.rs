//! End to end over DPDK: `lzr-sim` serves the port-80 population on a net_memif server, and `lzr selftest` as
//! the memif client resolves a simulated host by ARP and shakes hands with it. A host the population says is
//! silent must not answer. On SIGINT the simulator prints its counters, which must show the ARP reply, both
//! SYNs and the one SYN-ACK. Needs root (DPDK vdevs); skips with a message otherwise.
#![cfg(feature = "dpdk")]

use std::io::Read;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use lzr::sim::{Behaviour, Population, Profile, Space};
use serde_json::Value;

const EAL: &str = "--no-pci --no-huge -m 256 --no-shconf --no-telemetry";
const SEED: u64 = 5;
const SPACE: &str = "198.18.128.0/17";

/// Kills the child (by its pid) if the test ends early.
struct ChildGuard(Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn run_bounded(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn last_json(bytes: &[u8], what: &str, stderr: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no JSON line from {what}.\nstdout: {text}\nstderr: {}",
                String::from_utf8_lossy(stderr)
            )
        });
    serde_json::from_str(line).expect("valid JSON")
}

fn selftest(socket: &str, target: Ipv4Addr, timeout_ms: u64) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lzr"));
    cmd.args([
        "selftest",
        "--device",
        &format!("net_memif0,role=client,socket={socket}"),
    ]);
    cmd.args([
        "--source-ip",
        "198.18.0.2",
        "--target",
        &format!("{target}:80"),
        "--timeout-ms",
        &timeout_ms.to_string(),
    ]);
    cmd.arg("--");
    cmd.args(EAL.split_whitespace());
    cmd.args([
        "-l",
        "0",
        "--file-prefix",
        &format!("lzrsimc{}", std::process::id()),
    ]);
    let out = run_bounded(cmd, Duration::from_secs(60));
    last_json(&out.stdout, "selftest", &out.stderr)
}

#[test]
fn selftest_shakes_hands_with_a_simulated_host_over_memif() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED selftest_shakes_hands_with_a_simulated_host_over_memif: needs root (DPDK vdevs)");
        return;
    }
    let profile_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/populations/port80.toml");
    let space: Space = SPACE.parse().unwrap();
    let population =
        Population::new(space, vec![Profile::load(&profile_path).unwrap()], SEED).unwrap();
    let hosts: Vec<_> = (0..space.len())
        .map(|i| population.host(space.nth(i), 80))
        .collect();
    let web = hosts
        .iter()
        .find(|h| h.expected)
        .expect("a web server in the space")
        .addr;
    let silent = hosts
        .iter()
        .find(|h| h.behaviour == Behaviour::Silent)
        .expect("a silent address")
        .addr;

    let socket = format!("/tmp/lzr-sim-test-{}.sock", std::process::id());
    let _ = std::fs::remove_file(&socket);
    let mut sim = Command::new(env!("CARGO_BIN_EXE_lzr-sim"));
    sim.args([
        "--device",
        &format!("net_memif0,role=server,socket={socket}"),
    ]);
    sim.args([
        "--profile",
        profile_path.to_str().unwrap(),
        "--space",
        SPACE,
        "--seed",
        &SEED.to_string(),
    ]);
    sim.args(["--duration", "90", "--"]);
    sim.args(EAL.split_whitespace());
    sim.args([
        "-l",
        "0-1",
        "--file-prefix",
        &format!("lzrsims{}", std::process::id()),
    ]);
    let child = sim
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lzr-sim starts");
    let mut guard = ChildGuard(Some(child));
    std::thread::sleep(Duration::from_millis(1500));

    let ok = selftest(&socket, web, 8000);
    let quiet = selftest(&socket, silent, 1500);

    // Stop the simulator with SIGINT, as a user would, and read its counters.
    let mut child = guard.0.take().expect("child");
    // SAFETY: kill with the pid of the child we started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if child.try_wait().expect("wait").is_none() {
        let _ = child.kill();
    }
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let _ = child.stdout.take().map(|mut s| s.read_to_end(&mut out));
    let _ = child.stderr.take().map(|mut s| s.read_to_end(&mut err));
    let status = child.wait().expect("exit status");
    let _ = std::fs::remove_file(&socket);
    let counters = last_json(&out, "lzr-sim", &err);

    assert_eq!(
        ok["ok"], true,
        "handshake with {web}: {ok}\nsim: {counters}"
    );
    assert_eq!(ok["ack_ok"], true, "{ok}");
    assert_eq!(ok["peer_mac_from"], "arp", "{ok}");
    assert_eq!(
        ok["peer_mac"], counters["mac"],
        "the simulator answered ARP with its MAC: {ok} {counters}"
    );
    assert_eq!(
        quiet["ok"], false,
        "the silent address {silent} must not answer: {quiet}"
    );
    assert_eq!(quiet["stage"], "syn-ack", "{quiet}");

    assert!(
        status.success(),
        "lzr-sim exits cleanly on SIGINT: {status}\n{}",
        String::from_utf8_lossy(&err)
    );
    assert_eq!(counters["workers_ok"], true, "{counters}");
    let r = &counters["responder"];
    assert!(
        r["arp_replies"].as_u64().unwrap() >= 2,
        "both selftests resolved their target: {counters}"
    );
    assert!(r["syns"].as_u64().unwrap() >= 2, "{counters}");
    assert!(r["synacks"].as_u64().unwrap() >= 1, "{counters}");
    assert_eq!(r["malformed"], 0, "{counters}");
}
