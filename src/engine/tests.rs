//! The worker end to end on the in-memory port: a scripted host on the far end answers like a web server,
//! a silent middlebox, or a closed port; the records that come out are checked field by field.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

use super::*;
use crate::flow::{FlowConfig, Target};
use crate::handshakes::HandshakeList;
use crate::neighbor::NeighborConfig;
use crate::port::memory::{pair, MemoryConfig, MemoryQueue};
use crate::port::{Port, QueuePair, Steering};
use crate::record::{Outcome, Record};
use crate::wire::{parse_frame, Endpoints, Frame, FrameTemplate, MacAddr, TcpFlags, TemplateConfig};

const SCANNER: &str = "198.18.0.2";
pub(crate) const WEB: &str = "198.18.1.1";
const CLOSED: &str = "198.18.1.2";
const SILENT: &str = "198.18.1.3";
pub(crate) const HTTP_ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nServer: scripted\r\nContent-Length: 0\r\n\r\n";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Answers like three hosts: a web server, a closed port, and a host that ACKs the handshake but drops data.
pub(crate) fn script_host(frame: &[u8], scanner_mac: MacAddr, host_mac: MacAddr, out: &mut Vec<Vec<u8>>) {
    let Ok(Frame::Tcp(t)) = parse_frame(frame) else { return };
    let template = FrameTemplate::new(host_mac, scanner_mac, t.dst_ip, TemplateConfig::original());
    let to = Endpoints { dst_ip: t.src_ip, src_port: t.dst_port, dst_port: t.src_port };
    let mut buf = vec![0u8; 1514];
    let mut reply = |seq: u32, ack: u32, flags: TcpFlags, payload: &[u8]| {
        let n = template.segment(&mut buf, to, seq, ack, flags, 65535, payload).unwrap();
        out.push(buf[..n].to_vec());
    };
    let host_isn = 5000u32;
    if t.flags == TcpFlags::SYN {
        if t.dst_ip == ip(CLOSED) {
            reply(0, t.seq.wrapping_add(1), TcpFlags::RST_ACK, &[]);
        } else {
            reply(host_isn, t.seq.wrapping_add(1), TcpFlags::SYN_ACK, &[]);
        }
    } else if !t.payload.is_empty() && t.dst_ip != ip(SILENT) {
        let ack = t.seq.wrapping_add(t.payload.len() as u32);
        reply(host_isn + 1, ack, TcpFlags::PSH_ACK, HTTP_ANSWER);
    }
}

/// One worker on the near end of a memory pair, on its own thread; the far end is the test's to play.
struct Rig {
    host_queue: MemoryQueue,
    scanner_mac: MacAddr,
    host_mac: MacAddr,
    links: WorkerLinks,
    worker: std::thread::JoinHandle<WorkerReport>,
}

/// Starts a worker trying `handshakes` with `flow` (its handshake count set from the list), after queueing
/// `commands` on its command ring.
fn rig(handshakes: &str, flow: FlowConfig, commands: Vec<Command>) -> Rig {
    rig_on(handshakes, flow, commands, &MemoryConfig::default())
}

/// [`rig`] on a memory pair of the given shape.
fn rig_on(handshakes: &str, flow: FlowConfig, commands: Vec<Command>, memory: &MemoryConfig) -> Rig {
    let (mut scanner_port, mut host_port) = pair(memory);
    let queue = scanner_port.take_queues().pop().unwrap();
    let host_queue = host_port.take_queues().pop().unwrap();
    let (scanner_mac, host_mac) = (MacAddr(scanner_port.mac()), MacAddr(host_port.mac()));
    let list = HandshakeList::parse(handshakes).unwrap();
    let setup = WorkerSetup {
        index: 0,
        flow: FlowConfig { handshakes: list.len() as u8, ..flow },
        probes: Probes::fixed(list, None, Default::default()),
        neighbor: NeighborConfig::new(scanner_mac, vec![SCANNER.parse().unwrap()], vec![]),
        mac: scanner_mac,
        gateway: host_mac,
        original_syn: false,
        owner: Owner::new(&Steering::None, 1, [1, 2]),
        clock: Clock::new(),
    };
    let links = WorkerLinks {
        commands: Arc::new(ArrayQueue::new(64)),
        results: Arc::new(ArrayQueue::new(64)),
        inboxes: Arc::new(vec![ArrayQueue::new(16)]),
        stats: Arc::new(WorkerStats::default()),
        control: Arc::new(Control::default()),
        to_exception: None,
    };
    for command in commands {
        links.commands.push(command).unwrap();
    }
    let worker_links = links.clone();
    let worker = std::thread::spawn(move || run_worker(setup, queue, None, worker_links));
    Rig { host_queue, scanner_mac, host_mac, links, worker }
}

impl Rig {
    fn stop(self) -> WorkerReport {
        self.links.control.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.worker.join().unwrap()
    }
}

fn run(targets: &[(&str, u16)], handshakes: &str) -> (Vec<Record>, WorkerReport) {
    let commands = targets
        .iter()
        .map(|(addr, port)| Command::Open(Target { remote: ip(addr), remote_port: *port, local: ip(SCANNER) }))
        .collect();
    run_commands(commands, handshakes)
}

/// The worker on its own thread, fed `commands`, until every command gave its record.
fn run_commands(commands: Vec<Command>, handshakes: &str) -> (Vec<Record>, WorkerReport) {
    run_commands_on(commands, handshakes, &MemoryConfig::default(), false)
}

/// [`run_commands`] on a memory pair of the given shape; `corrupt_data`: the host's data segments reach the
/// wire with a broken TCP checksum (the last payload byte flipped after the checksum was computed).
fn run_commands_on(
    commands: Vec<Command>,
    handshakes: &str,
    memory: &MemoryConfig,
    corrupt_data: bool,
) -> (Vec<Record>, WorkerReport) {
    let expected = commands.len();
    let flow = FlowConfig { retransmit_ms: 20, timeout_ms: 60, table_capacity: 1024, ..FlowConfig::default() };
    let Rig { mut host_queue, scanner_mac, host_mac, links, worker } = rig_on(handshakes, flow, commands, memory);
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut replies = Vec::new();
    while records.len() < expected && Instant::now() < deadline {
        host_queue.recv_burst(|f| script_host(f, scanner_mac, host_mac, &mut replies));
        for mut r in replies.drain(..) {
            if corrupt_data && r.ends_with(HTTP_ANSWER) {
                if let Some(last) = r.last_mut() {
                    *last ^= 0x01;
                }
            }
            assert!(host_queue.push_frame(r.len(), |b| b.copy_from_slice(&r)));
        }
        host_queue.flush();
        while let Some(r) = links.results.pop() {
            records.push(r);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    links.control.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let report = worker.join().unwrap();
    while let Some(r) = links.results.pop() {
        records.push(r);
    }
    records.sort_by_key(|r| r.saddr);
    (records, report)
}

#[test]
fn zmap_synacks_are_continued_in_order_around_opens() {
    // ZMap saw these SYN-ACKs (host ISN 5000, as the scripted host uses); an Open sits between two of them.
    let synack = |addr: &str, local_port: u16| {
        Command::ZmapSynAck(crate::flow::SynAckFields {
            remote: ip(addr),
            remote_port: 80,
            local: ip(SCANNER),
            local_port,
            seq: 5000,
            ack: 777,
            window: 65535,
            ttl: 60,
        })
    };
    let open = Command::Open(Target { remote: ip(CLOSED), remote_port: 80, local: ip(SCANNER) });
    let (records, report) = run_commands(vec![synack(WEB, 40000), open, synack(SILENT, 40001)], "http");
    assert_eq!(records.len(), 3, "{records:#?}");
    let web = records.iter().find(|r| r.saddr == ip(WEB)).unwrap();
    assert_eq!((web.outcome, &*web.fingerprint, web.data.as_slice()), (Outcome::Data, "http", HTTP_ANSWER));
    let closed = records.iter().find(|r| r.saddr == ip(CLOSED)).unwrap();
    assert_eq!(closed.outcome, Outcome::Closed);
    let silent = records.iter().find(|r| r.saddr == ip(SILENT)).unwrap();
    assert_ne!(silent.outcome, Outcome::Data);
    assert_eq!(report.engine.commands, 3);
}

#[test]
fn web_server_closed_port_and_silent_host_each_get_their_record() {
    let (records, report) = run(&[(WEB, 80), (CLOSED, 80), (SILENT, 80)], "http");
    assert_eq!(records.len(), 3, "{records:#?}");

    let web = &records[0];
    assert_eq!(web.saddr, ip(WEB));
    assert_eq!(web.outcome, Outcome::Data);
    assert_eq!(web.fingerprint, "http");
    assert_eq!(web.handshake, "http");
    assert_eq!(web.data, HTTP_ANSWER);
    assert!(web.acked && web.flags.psh());

    assert_eq!(records[1].outcome, Outcome::Closed);
    assert_eq!(records[1].fingerprint, "unknown");
    assert_eq!(records[2].outcome, Outcome::DataNotAcked);

    assert_eq!(report.flow.syns_opened, 3);
    assert_eq!(report.engine.bad_tcp_checksum, 0);
    assert_eq!(report.engine.tx_build_errors, 0);
    assert!(report.flow.ack_retransmissions >= 1, "the silent host gets the PSH retransmission");
}

#[test]
fn arp_requests_for_our_address_are_answered() {
    use crate::wire::{ArpOperation, ArpRepr};
    let flow = FlowConfig { table_capacity: 64, ..FlowConfig::default() };
    let mut rig = rig("http", flow, Vec::new());
    let (scanner_mac, host_mac) = (rig.scanner_mac, rig.host_mac);
    let host_queue = &mut rig.host_queue;
    let request = ArpRepr {
        operation: ArpOperation::Request,
        sender_mac: host_mac,
        sender_ip: WEB.parse().unwrap(),
        target_mac: MacAddr([0; 6]),
        target_ip: SCANNER.parse().unwrap(),
    };
    assert!(host_queue.push_frame(ArpRepr::FRAME_LEN, |b| {
        request.build_frame(b).unwrap();
    }));
    host_queue.flush();
    let mut answer = None;
    let deadline = Instant::now() + Duration::from_secs(5);
    while answer.is_none() && Instant::now() < deadline {
        host_queue.recv_burst(|f| {
            if let Ok(Frame::Arp(a)) = parse_frame(f) {
                answer = Some(a);
            }
        });
        std::thread::sleep(Duration::from_millis(1));
    }
    let report = rig.stop();
    let a = answer.expect("an ARP reply");
    assert_eq!(a.arp.operation, ArpOperation::Reply);
    assert_eq!(a.arp.sender_mac, scanner_mac);
    assert_eq!(a.arp.target_ip, WEB.parse::<std::net::Ipv4Addr>().unwrap());
    assert_eq!(report.engine.neighbor_replies, 1);
}

/// The device's checksum verdict decides when it gives one; the software check runs only without one.
#[test]
fn the_devices_checksum_verdict_replaces_the_software_check() {
    use crate::port::memory::RxChecksumOffload;
    use crate::port::L4Checksum;
    let web = || vec![Command::Open(Target { remote: ip(WEB), remote_port: 80, local: ip(SCANNER) })];
    let on = |offload| MemoryConfig { rx_checksum: offload, ..MemoryConfig::default() };
    let mut corrupted = HTTP_ANSWER.to_vec();
    if let Some(last) = corrupted.last_mut() {
        *last ^= 0x01;
    }

    // No offload, or a device that verifies: the broken data segment is dropped and counted.
    for offload in [RxChecksumOffload::None, RxChecksumOffload::Verify] {
        let (records, report) = run_commands_on(web(), "http", &on(offload), true);
        assert_eq!(records.len(), 1, "{offload:?}");
        assert_ne!(records[0].outcome, Outcome::Data, "{offload:?}");
        assert!(report.engine.bad_tcp_checksum >= 1, "{offload:?}");
    }
    // A device that says Good is trusted: no software check, so even this broken segment is taken.
    let (records, report) = run_commands_on(web(), "http", &on(RxChecksumOffload::Claim(L4Checksum::Good)), true);
    assert_eq!((records[0].outcome, records[0].data.as_slice()), (Outcome::Data, corrupted.as_slice()));
    assert_eq!(report.engine.bad_tcp_checksum, 0);
    // A device that says Bad is trusted too: the host's valid answers to the handshake ZMap saw are dropped and
    // counted, so our data is never seen acknowledged.
    let synack = Command::ZmapSynAck(crate::flow::SynAckFields {
        remote: ip(WEB),
        remote_port: 80,
        local: ip(SCANNER),
        local_port: 40000,
        seq: 5000,
        ack: 777,
        window: 65535,
        ttl: 60,
    });
    let (records, report) =
        run_commands_on(vec![synack], "http", &on(RxChecksumOffload::Claim(L4Checksum::Bad)), false);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::DataNotAcked);
    assert!(report.engine.bad_tcp_checksum >= 1);
    assert_eq!(report.engine.rx_segments, 0);
}
