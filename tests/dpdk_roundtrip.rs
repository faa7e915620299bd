//! End to end: `lzr selftest` on real DPDK vdevs against a real kernel TCP server in a network namespace.
//! - af_packet with 2 queue pairs on a veth whose far end is the server's interface (the kernel fans frames
//!   out over both queues; the selftest polls them all);
//! - net_tap with 1 queue, the tap's kernel side being the server's interface.
//!
//! The scanner's address (198.18.x.2) is owned by no kernel: lzr answers ARP for it itself.
//! Needs root; skips with a message otherwise.
#![cfg(feature = "dpdk")]

#[path = "common/netns.rs"]
mod netns;

use std::time::Duration;

use netns::{ifname, is_root, run_bounded, veth_pair, Netns};
use serde_json::Value;

const EAL_COMMON: &str = "--no-pci --no-huge -m 256 --no-shconf --no-telemetry";
const SELFTEST_LIMIT: Duration = Duration::from_secs(60);

fn skip_unless_root(test: &str) -> bool {
    if !is_root() {
        eprintln!("SKIPPED {test}: needs root (network namespaces and DPDK vdevs)");
        return true;
    }
    false
}

/// Runs `lzr selftest` in `ns`; gives its exit code and JSON line (panics with stderr if there is none).
fn selftest_any(ns: &Netns, args: &[&str]) -> (Option<i32>, Value) {
    let mut command = ns.command(env!("CARGO_BIN_EXE_lzr"), &["selftest"]);
    command.args(args);
    let out = run_bounded(command, SELFTEST_LIMIT).expect("selftest ran");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "no JSON line from selftest ({}).\nstdout: {stdout}\nstderr: {stderr}",
                out.status
            )
        });
    let json: Value = serde_json::from_str(line).expect("selftest prints valid JSON");
    if !out.status.success() {
        eprintln!("selftest exited {}: {json}\nstderr: {stderr}", out.status);
    }
    (out.status.code(), json)
}

/// Runs `lzr selftest` in `ns` and returns its JSON line; it must succeed.
fn selftest(ns: &Netns, args: &[&str]) -> Value {
    let (code, json) = selftest_any(ns, args);
    assert_eq!(code, Some(0), "selftest failed: {json}");
    json
}

/// The checks both vdevs share: a real handshake, ISN+1 acknowledged, MACs as expected, orderly DPDK.
fn assert_handshake(json: &Value, port_mac: &str, peer_mac: &str, queues: u64, driver: &str) {
    assert_eq!(json["ok"], true, "{json}");
    assert_eq!(json["driver"], driver, "{json}");
    assert_eq!(json["queues"], queues, "{json}");
    let isn = json["isn"].as_u64().expect("isn");
    let ack = json["syn_ack_ack"].as_u64().expect("ack");
    assert_eq!(
        ack,
        (isn + 1) % (1 << 32),
        "SYN-ACK acknowledges ISN+1: {json}"
    );
    assert_eq!(json["ack_ok"], true);
    assert_eq!(json["port_mac"], port_mac, "{json}");
    assert_eq!(
        json["syn_ack_dst_mac"], port_mac,
        "SYN-ACK goes to the port's MAC: {json}"
    );
    assert_eq!(
        json["peer_mac"], peer_mac,
        "ARP resolved the server's MAC: {json}"
    );
    assert_eq!(
        json["syn_ack_src_mac"], peer_mac,
        "SYN-ACK comes from the server's MAC: {json}"
    );
    assert_eq!(json["peer_mac_from"], "arp");
    assert_eq!(json["mac_ok"], true);
    assert_eq!(json["rst_sent"], true);
    assert!(json["rx_queue"].as_u64().expect("rx_queue") < queues);
    assert_eq!(
        json["second_init_refused"], true,
        "a second EAL start is refused: {json}"
    );
    assert_eq!(
        json["workers_ok"], true,
        "worker lcores ran their jobs: {json}"
    );
    let stats = &json["port_stats"];
    assert!(
        stats["ipackets"].as_u64().unwrap_or(0) >= 2,
        "ARP reply and SYN-ACK counted: {json}"
    );
    assert!(
        stats["opackets"].as_u64().unwrap_or(0) >= 3,
        "ARP request, SYN and RST counted: {json}"
    );
}

#[test]
fn af_packet_with_two_queue_pairs() {
    if skip_unless_root("af_packet_with_two_queue_pairs") {
        return;
    }
    let server = Netns::new("dpdk-afp-srv").expect("server namespace");
    let scanner = Netns::new("dpdk-afp-scn").expect("scanner namespace");
    let (srv_if, scn_if) = (ifname("ldp", "s"), ifname("ldp", "c"));
    veth_pair(&server, &srv_if, &scanner, &scn_if).expect("veth pair");
    server
        .up(&srv_if, Some("198.18.0.1/24"))
        .expect("server interface");
    scanner.up(&scn_if, None).expect("scanner interface");
    server.offloads_off(&srv_if).expect("offloads off (server)");
    scanner
        .offloads_off(&scn_if)
        .expect("offloads off (scanner)");
    let _http = server
        .spawn(
            "python3",
            &["-m", "http.server", "8080", "--bind", "198.18.0.1"],
        )
        .expect("http server");
    server
        .wait_listening("198.18.0.1:8080", Duration::from_secs(15))
        .expect("http server listens");

    let eal = format!(
        "-l 0-1 {EAL_COMMON} --file-prefix lzr-afp-{} --vdev net_af_packet0,iface={scn_if},qpairs=2",
        std::process::id()
    );
    let json = selftest(
        &scanner,
        &[
            "--eal",
            &eal,
            "--source-ip",
            "198.18.0.2",
            "--target",
            "198.18.0.1:8080",
            "--queues",
            "2",
            "--timeout-ms",
            "10000",
        ],
    );
    let port_mac = scanner.mac(&scn_if).expect("scanner MAC");
    let peer_mac = server.mac(&srv_if).expect("server MAC");
    assert_ne!(port_mac, peer_mac);
    assert_handshake(&json, &port_mac, &peer_mac, 2, "net_af_packet");
    assert_eq!(json["worker_lcores"], serde_json::json!([1]), "{json}");

    // A closed port answers RST: the selftest must say so and fail.
    let (code, json) = selftest_any(
        &scanner,
        &[
            "--eal",
            &eal,
            "--source-ip",
            "198.18.0.2",
            "--target",
            "198.18.0.1:8099",
            "--queues",
            "2",
            "--timeout-ms",
            "5000",
        ],
    );
    assert_eq!(code, Some(1), "{json}");
    assert_eq!(json["ok"], false);
    assert_eq!(json["stage"], "syn-ack", "{json}");
    assert!(
        json["error"].as_str().unwrap_or("").contains("RST"),
        "{json}"
    );
}

#[test]
fn tap_with_one_queue() {
    if skip_unless_root("tap_with_one_queue") {
        return;
    }
    // The tap's kernel side is the server's interface: the selftest runs in the server's namespace, where the
    // kernel owns only the server's address.
    let server = Netns::new("dpdk-tap-srv").expect("server namespace");
    let tap = ifname("ldt", "");
    server.tap(&tap).expect("tap device");
    server.up(&tap, Some("198.18.1.1/24")).expect("tap address");
    server.offloads_off(&tap).expect("offloads off");
    let _http = server
        .spawn(
            "python3",
            &["-m", "http.server", "8081", "--bind", "198.18.1.1"],
        )
        .expect("http server");
    server
        .wait_listening("198.18.1.1:8081", Duration::from_secs(15))
        .expect("http server listens");

    // The tap is not named to EAL: the port hot-plugs it from its devargs (rte_dev_probe).
    let eal = format!("-l 0 {EAL_COMMON} --file-prefix lzr-tap-{}", std::process::id());
    let device = format!("net_tap0,iface={tap}");
    let json = selftest(
        &server,
        &[
            "--eal",
            &eal,
            "--device",
            &device,
            "--source-ip",
            "198.18.1.2",
            "--target",
            "198.18.1.1:8081",
            "--queues",
            "1",
            "--timeout-ms",
            "10000",
        ],
    );
    // net_tap gives the kernel side of the tap the port's own MAC, so here the server's MAC is the port's.
    let kernel_mac = server.mac(&tap).expect("tap MAC");
    assert_handshake(&json, &kernel_mac, &kernel_mac, 1, "net_tap");
}
