//! `lzr selftest`: one TCP handshake through a real port, end to end.
//!
//! It starts EAL on the given device, answers ARP for its source address (an address no kernel owns), resolves
//! the target's MAC by ARP unless a gateway MAC is given, sends a SYN from a random port with a random ISN,
//! waits for the SYN-ACK on every queue (af_packet and tap spread frames by a kernel hash), checks that it
//! acknowledges ISN+1 and carries the expected MAC addresses, answers it with an RST, and prints one JSON line.
//! Exit code 0 when every check passed, 1 when one failed, 2 when the set-up (EAL, port) failed.
//!
//! The round trip itself ([`round_trip`]) is generic over the port interface, so unit tests drive it over the
//! in-memory port against a scripted peer. Frames are read and built with [`crate::wire`]. IPv4 only.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use serde_json::json;

use std::net::IpAddr;

use crate::port::{format_mac, MacAddr, QueuePair, RxQueue, TxQueue};
use crate::wire::{
    parse_frame, ArpFrame, ArpOperation, ArpRepr, BuildError, Endpoints, Frame, FrameTemplate,
    MacAddr as WireMac, TcpFlags, TemplateConfig,
};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// EAL arguments as one string, split on whitespace, e.g. "--no-huge -m 256 --vdev net_tap0,iface=t0".
    /// Arguments after `--` are added to these.
    #[arg(long, allow_hyphen_values = true)]
    pub eal: Option<String>,
    /// The port: `first` (the first device EAL found), a port id, a PCI address, or vdev devargs.
    #[arg(long, default_value = "first")]
    pub device: String,
    /// The scanner's IPv4 address (no kernel may own it: lzr answers ARP for it).
    #[arg(long)]
    pub source_ip: Ipv4Addr,
    /// The server to shake hands with, IP:PORT.
    #[arg(long)]
    pub target: SocketAddrV4,
    /// Next hop's MAC (aa:bb:cc:dd:ee:ff); without it the target's MAC is resolved by ARP.
    #[arg(long, value_parser = parse_mac)]
    pub gateway_mac: Option<MacAddr>,
    /// RX/TX queue pairs to open; all of them are polled.
    #[arg(long, default_value_t = 1)]
    pub queues: u16,
    /// Give up after this many milliseconds.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// EAL arguments (after `--`).
    #[arg(last = true, allow_hyphen_values = true)]
    pub eal_args: Vec<String>,
}

fn parse_mac(s: &str) -> Result<MacAddr, String> {
    s.parse::<WireMac>()
        .map(WireMac::octets)
        .map_err(|e| format!("{s:?}: {e}"))
}

/// What one round trip needs to know.
#[derive(Debug, Clone)]
pub struct Probe {
    pub our_mac: MacAddr,
    pub source_ip: Ipv4Addr,
    pub target: SocketAddrV4,
    pub gateway_mac: Option<MacAddr>,
    pub source_port: u16,
    pub isn: u32,
    pub timeout: Duration,
}

/// A completed handshake and what was checked on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The MAC the SYN went to (from ARP or the gateway option).
    pub peer_mac: MacAddr,
    pub peer_mac_from_arp: bool,
    /// Ethernet addresses of the SYN-ACK.
    pub syn_ack_src_mac: MacAddr,
    pub syn_ack_dst_mac: MacAddr,
    /// The server's ISN and its acknowledgement number.
    pub syn_ack_seq: u32,
    pub syn_ack_ack: u32,
    /// Queue the SYN-ACK arrived on.
    pub rx_queue: u16,
    pub rtt: Duration,
    pub arp_requests_answered: u32,
    pub syns_sent: u32,
}

/// Why a round trip failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("no ARP reply from {0} before the timeout")]
    NoArpReply(Ipv4Addr),
    #[error("no SYN-ACK before the timeout ({syns_sent} SYNs sent)")]
    NoSynAck { syns_sent: u32 },
    #[error("the target answered with RST (port closed)")]
    Refused,
    #[error("SYN-ACK acknowledges {got}, expected ISN+1 = {want}")]
    BadAck { got: u32, want: u32 },
    #[error("SYN-ACK went {got_src} -> {got_dst}, expected {want_src} -> {want_dst}")]
    BadMac {
        got_src: String,
        got_dst: String,
        want_src: String,
        want_dst: String,
    },
    #[error("the port refused a frame (no buffer)")]
    Send,
    #[error("cannot build a frame: {0}")]
    Build(String),
}

impl Failure {
    /// Where the round trip stopped, for the JSON line.
    #[cfg_attr(not(feature = "dpdk"), allow(dead_code))]
    fn stage(&self) -> &'static str {
        match self {
            Failure::NoArpReply(_) => "arp",
            Failure::NoSynAck { .. } | Failure::Refused => "syn-ack",
            Failure::BadAck { .. } | Failure::BadMac { .. } => "check",
            Failure::Send | Failure::Build(_) => "send",
        }
    }
}

/// How often an unanswered ARP request and SYN are repeated.
const ARP_RETRY: Duration = Duration::from_millis(300);
const SYN_RETRY: Duration = Duration::from_millis(1000);
/// Pause between polls that found nothing, so a selftest does not hog a shared CPU.
const IDLE_PAUSE: Duration = Duration::from_micros(200);

/// Runs one handshake over `queues` (all polled; frames are sent on queue 0 and ARP replies on the queue the
/// request came in on). Bounded by `probe.timeout`.
pub fn round_trip<Q: QueuePair>(queues: &mut [Q], probe: &Probe) -> Result<Handshake, Failure> {
    let start = Instant::now();
    let deadline = start + probe.timeout;
    let our_mac = WireMac(probe.our_mac);
    let our_ip = probe.source_ip;
    let to = Endpoints {
        dst_ip: IpAddr::V4(*probe.target.ip()),
        src_port: probe.source_port,
        dst_port: probe.target.port(),
    };
    let mut peer_mac = probe.gateway_mac;
    let mut next_arp = start;
    let mut next_syn = start;
    let mut first_syn: Option<Instant> = None;
    let (mut syns_sent, mut arp_answered) = (0u32, 0u32);
    let mut answer: Option<(SynAck, u16, Instant)> = None;
    let mut refused = false;

    while Instant::now() < deadline && answer.is_none() && !refused {
        let now = Instant::now();
        if let Some(first) = queues.first_mut() {
            match peer_mac {
                None if now >= next_arp => {
                    let request = ArpRepr::request(our_mac, our_ip, *probe.target.ip());
                    push_built(first.split().1, ArpRepr::FRAME_LEN, |buf| {
                        request.build_frame(buf)
                    })?;
                    next_arp = now + ARP_RETRY;
                }
                Some(mac) if now >= next_syn => {
                    let template = FrameTemplate::new(
                        our_mac,
                        WireMac(mac),
                        IpAddr::V4(our_ip),
                        TemplateConfig::recommended(IpAddr::V4(our_ip)),
                    );
                    push_built(first.split().1, template.syn_len(), |buf| {
                        template.syn(buf, to, probe.isn)
                    })?;
                    first_syn.get_or_insert(now);
                    syns_sent += 1;
                    next_syn = now + SYN_RETRY;
                }
                _ => {}
            }
        }

        let mut received = 0;
        for queue in queues.iter_mut() {
            let index = queue.index();
            let (rx, tx) = queue.split();
            received += rx.recv_burst(|frame| match parse_frame(frame) {
                // Our own ARP frames (af_packet may show outgoing frames) are told apart by IP, not MAC: net_tap
                // gives the kernel side of the tap the port's own MAC.
                Ok(Frame::Arp(ArpFrame { arp, .. })) if arp.sender_ip != our_ip => {
                    if arp.operation == ArpOperation::Request && arp.target_ip == our_ip {
                        let reply = ArpRepr::reply_to(&arp, our_mac);
                        arp_answered += u32::from(
                            push_built(tx, ArpRepr::FRAME_LEN, |buf| reply.build_frame(buf))
                                .is_ok(),
                        );
                    }
                    if arp.operation == ArpOperation::Reply
                        && arp.sender_ip == *probe.target.ip()
                        && probe.gateway_mac.is_none()
                        && peer_mac.is_none()
                    {
                        peer_mac = Some(arp.sender_mac.octets());
                    }
                }
                Ok(Frame::Tcp(seg))
                    if seg.src_ip == to.dst_ip
                        && seg.src_port == to.dst_port
                        && seg.dst_ip == IpAddr::V4(our_ip)
                        && seg.dst_port == to.src_port =>
                {
                    if seg.flags.rst() {
                        refused = true;
                    } else if seg.flags.contains(TcpFlags::SYN_ACK) && answer.is_none() {
                        let syn_ack = SynAck {
                            src_mac: seg.src_mac.octets(),
                            dst_mac: seg.dst_mac.octets(),
                            seq: seg.seq,
                            ack: seg.ack,
                        };
                        answer = Some((syn_ack, index, Instant::now()));
                    }
                }
                _ => {}
            });
            tx.flush();
        }
        if received == 0 && answer.is_none() {
            std::thread::sleep(IDLE_PAUSE);
        }
    }

    if refused {
        return Err(Failure::Refused);
    }
    let Some(peer) = peer_mac else {
        return Err(Failure::NoArpReply(*probe.target.ip()));
    };
    let Some((syn_ack, rx_queue, at)) = answer else {
        return Err(Failure::NoSynAck { syns_sent });
    };

    // Close the half-open connection whatever the checks say: RST with the sequence number the server expects.
    if let Some(first) = queues.first_mut() {
        let template = FrameTemplate::new(
            our_mac,
            WireMac(peer),
            IpAddr::V4(our_ip),
            TemplateConfig::recommended(IpAddr::V4(our_ip)),
        );
        push_built(first.split().1, template.rst_len(), |buf| {
            template.rst(buf, to, probe.isn.wrapping_add(1))
        })?;
        first.flush();
    }

    let want_ack = probe.isn.wrapping_add(1);
    if syn_ack.ack != want_ack {
        return Err(Failure::BadAck {
            got: syn_ack.ack,
            want: want_ack,
        });
    }
    if syn_ack.src_mac != peer || syn_ack.dst_mac != probe.our_mac {
        return Err(Failure::BadMac {
            got_src: format_mac(&syn_ack.src_mac),
            got_dst: format_mac(&syn_ack.dst_mac),
            want_src: format_mac(&peer),
            want_dst: format_mac(&probe.our_mac),
        });
    }
    Ok(Handshake {
        peer_mac: peer,
        peer_mac_from_arp: probe.gateway_mac.is_none(),
        syn_ack_src_mac: syn_ack.src_mac,
        syn_ack_dst_mac: syn_ack.dst_mac,
        syn_ack_seq: syn_ack.seq,
        syn_ack_ack: syn_ack.ack,
        rx_queue,
        rtt: first_syn.map_or(Duration::ZERO, |t| at.saturating_duration_since(t)),
        arp_requests_answered: arp_answered,
        syns_sent,
    })
}

/// What is kept of the SYN-ACK.
#[derive(Debug, Clone, Copy)]
struct SynAck {
    src_mac: MacAddr,
    dst_mac: MacAddr,
    seq: u32,
    ack: u32,
}

/// Queues a frame of `len` bytes written by a wire builder. The lengths come from the same builders, so a build
/// error is a bug; it is reported (and the buffer zeroed, so no half-built frame leaves) rather than panicking.
fn push_built<T: TxQueue>(
    tx: &mut T,
    len: usize,
    build: impl FnOnce(&mut [u8]) -> Result<usize, BuildError>,
) -> Result<(), Failure> {
    let mut outcome = Ok(());
    let pushed = tx.push_frame(len, |buf| match build(buf) {
        Ok(n) if n == buf.len() => {}
        Ok(n) => {
            buf.fill(0);
            outcome = Err(Failure::Build(format!(
                "built {n} bytes for a {len}-byte buffer"
            )));
        }
        Err(e) => {
            buf.fill(0);
            outcome = Err(Failure::Build(e.to_string()));
        }
    });
    if !pushed {
        return Err(Failure::Send);
    }
    outcome
}

/// The JSON line for a run.
#[cfg_attr(not(feature = "dpdk"), allow(dead_code))]
fn report(
    probe: &Probe,
    result: &Result<Handshake, Failure>,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut line = match result {
        Ok(h) => json!({
            "ok": true,
            "source": SocketAddrV4::new(probe.source_ip, probe.source_port).to_string(),
            "target": probe.target.to_string(),
            "port_mac": format_mac(&probe.our_mac),
            "peer_mac": format_mac(&h.peer_mac),
            "peer_mac_from": if h.peer_mac_from_arp { "arp" } else { "gateway" },
            "isn": probe.isn,
            "syn_ack_seq": h.syn_ack_seq,
            "syn_ack_ack": h.syn_ack_ack,
            "ack_ok": h.syn_ack_ack == probe.isn.wrapping_add(1),
            "syn_ack_src_mac": format_mac(&h.syn_ack_src_mac),
            "syn_ack_dst_mac": format_mac(&h.syn_ack_dst_mac),
            "mac_ok": h.syn_ack_src_mac == h.peer_mac && h.syn_ack_dst_mac == probe.our_mac,
            "rx_queue": h.rx_queue,
            "rtt_us": h.rtt.as_micros() as u64,
            "syns_sent": h.syns_sent,
            "arp_requests_answered": h.arp_requests_answered,
            "rst_sent": true,
        }),
        Err(e) => json!({
            "ok": false,
            "stage": e.stage(),
            "error": e.to_string(),
            "source": SocketAddrV4::new(probe.source_ip, probe.source_port).to_string(),
            "target": probe.target.to_string(),
            "port_mac": format_mac(&probe.our_mac),
        }),
    };
    if let (Some(line), Some(extra)) = (line.as_object_mut(), extra.as_object()) {
        line.extend(extra.clone());
    }
    line
}

/// Prints a set-up failure and gives exit code 2.
fn setup_failed(stage: &str, error: impl std::fmt::Display) -> i32 {
    println!(
        "{}",
        json!({ "ok": false, "stage": stage, "error": error.to_string() })
    );
    2
}

pub fn run(args: Args) -> i32 {
    let mut eal_args: Vec<String> = args
        .eal
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    eal_args.extend(args.eal_args.iter().cloned());
    run_on_dpdk(&args, &eal_args)
}

#[cfg(not(feature = "dpdk"))]
fn run_on_dpdk(_args: &Args, _eal_args: &[String]) -> i32 {
    setup_failed("eal", "this lzr was built without the `dpdk` feature")
}

#[cfg(feature = "dpdk")]
fn run_on_dpdk(args: &Args, eal_args: &[String]) -> i32 {
    use crate::port::dpdk::{Device, DpdkPort, Eal, PortConfig, PortError};
    use crate::port::{Port, Steering};

    let device: Device = match args.device.parse() {
        Ok(d) => d,
        Err(e) => return setup_failed("args", e),
    };
    let started = Instant::now();
    let eal = match Eal::init(eal_args) {
        Ok(eal) => eal,
        Err(e) => return setup_failed("eal", e),
    };
    let eal_ms = started.elapsed().as_millis() as u64;
    // EAL starts once per process: a second start must be refused, not attempted.
    let second_init_refused = matches!(Eal::init(eal_args), Err(PortError::EalAlreadyInitialised));
    // Every worker lcore runs a job that reports the lcore it ran on.
    let workers = eal.worker_lcores().to_vec();
    let workers_ok = match eal.launch_workers(
        workers
            .iter()
            .map(|_| || Eal::current_lcore().map_or(-1, |l| l as i32))
            .collect(),
    ) {
        Ok(jobs) => jobs
            .into_iter()
            .zip(&workers)
            .all(|(job, lcore)| job.wait() == *lcore as i32),
        Err(e) => return setup_failed("launch", e),
    };

    let config = PortConfig {
        device,
        queues: args.queues,
        ..PortConfig::default()
    };
    let mut port = match DpdkPort::open(&eal, &config) {
        Ok(p) => p,
        Err(e) => return setup_failed("port", e),
    };
    // Frames sent before the link is up are lost (a memif peer still accepting us, a NIC negotiating).
    let link_up = port.wait_link_up(Duration::from_secs(5));
    let mut queues = port.take_queues();
    let probe = Probe {
        our_mac: port.mac(),
        source_ip: args.source_ip,
        target: args.target,
        gateway_mac: args.gateway_mac,
        source_port: rand::Rng::gen_range(&mut rand::thread_rng(), 32768..=60999),
        isn: rand::random(),
        timeout: Duration::from_millis(args.timeout_ms),
    };
    let result = round_trip(&mut queues, &probe);
    let queue_stats: Vec<_> = queues.iter().map(QueuePair::stats).collect();
    drop(queues);
    let info = port.info().clone();
    let stats = port.close();
    drop(eal);
    let extra = json!({
        "device": info.name,
        "driver": info.driver,
        "queues": info.queues,
        "rss": matches!(info.steering, Steering::Rss(_)),
        "rss_offered": format!("{:#x}", info.rss_offered),
        "eal_ms": eal_ms,
        "link_up": link_up,
        "second_init_refused": second_init_refused,
        "worker_lcores": workers,
        "workers_ok": workers_ok,
        "port_stats": stats,
        "queue_stats": queue_stats,
    });
    println!("{}", report(&probe, &result, extra));
    let all_ok = result.is_ok() && second_init_refused && workers_ok;
    if all_ok {
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::memory::{pair, Delivery, MemoryConfig, MemoryQueue};
    use crate::port::Port;
    use crate::wire::{AckSegment, TcpSegment};

    const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const SERVER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
    const SERVER_ISN: u32 = 7777;

    /// How the scripted server answers a SYN.
    #[derive(Clone, Copy, PartialEq)]
    enum Answer {
        SynAck,
        WrongAck,
        Rst,
        Silent,
    }

    /// What the scripted server saw.
    #[derive(Default, Debug)]
    struct Seen {
        arp_requests: u32,
        arp_replies_to_us: u32,
        syns: u32,
        rst_seq: Option<u32>,
        bad_checksums: u32,
    }

    /// Writes a segment from the server with any flags: wire's template builds an ACK, then the flags and the
    /// checksum are rewritten.
    fn server_segment(
        buf: &mut [u8],
        mac: MacAddr,
        to_mac: WireMac,
        to: Endpoints,
        ack: u32,
        flags: TcpFlags,
    ) {
        let server = IpAddr::V4(SERVER);
        let template = FrameTemplate::new(
            WireMac(mac),
            to_mac,
            server,
            TemplateConfig::recommended(server),
        );
        let seg = AckSegment {
            seq: SERVER_ISN,
            ack,
            window: 65535,
            psh: false,
            payload: &[],
        };
        let len = template.ack(buf, to, &seg).expect("room for the reply");
        let mut tcp = TcpSegment::new_checked(&mut buf[34..len]).expect("a TCP header");
        tcp.set_flags(flags);
        tcp.fill_checksum_v4(SERVER, US);
    }

    /// A server on end B: answers ARP for SERVER, answers SYNs to port 80 as told, asks once for our MAC.
    fn serve(mut queues: Vec<MemoryQueue>, mac: MacAddr, answer: Answer, for_ms: u64) -> Seen {
        let mut seen = Seen::default();
        let deadline = Instant::now() + Duration::from_millis(for_ms);
        let mut asked = false;
        while Instant::now() < deadline && seen.rst_seq.is_none() {
            for q in queues.iter_mut() {
                let (rx, tx) = q.split();
                if !asked {
                    let request = ArpRepr::request(WireMac(mac), SERVER, US);
                    asked = tx.push_frame(ArpRepr::FRAME_LEN, |b| {
                        request.build_frame(b).expect("room");
                    });
                }
                rx.recv_burst(|frame| match parse_frame(frame) {
                    Ok(Frame::Arp(ArpFrame { arp, .. })) => {
                        if arp.operation == ArpOperation::Request && arp.target_ip == SERVER {
                            seen.arp_requests += 1;
                            if answer != Answer::Silent {
                                let reply = ArpRepr::reply_to(&arp, WireMac(mac));
                                tx.push_frame(ArpRepr::FRAME_LEN, |b| {
                                    reply.build_frame(b).expect("room");
                                });
                            }
                        } else if arp.operation == ArpOperation::Reply && arp.sender_ip == US {
                            seen.arp_replies_to_us += 1;
                        }
                    }
                    Ok(Frame::Tcp(s)) if s.dst_port == 80 => {
                        if !s.checksum_valid() {
                            seen.bad_checksums += 1;
                        }
                        if s.flags == TcpFlags::SYN {
                            seen.syns += 1;
                            let (flags, ack) = match answer {
                                Answer::SynAck => (TcpFlags::SYN_ACK, s.seq.wrapping_add(1)),
                                Answer::WrongAck => (TcpFlags::SYN_ACK, s.seq.wrapping_add(2)),
                                Answer::Rst => (TcpFlags::RST_ACK, s.seq.wrapping_add(1)),
                                Answer::Silent => return,
                            };
                            let to = Endpoints {
                                dst_ip: s.src_ip,
                                src_port: s.dst_port,
                                dst_port: s.src_port,
                            };
                            let len = FrameTemplate::new(
                                WireMac(mac),
                                s.src_mac,
                                IpAddr::V4(SERVER),
                                TemplateConfig::recommended(IpAddr::V4(SERVER)),
                            )
                            .ack_len(0);
                            tx.push_frame(len, |b| {
                                server_segment(b, mac, s.src_mac, to, ack, flags)
                            });
                        } else if s.flags.rst() {
                            seen.rst_seq = Some(s.seq);
                        }
                    }
                    _ => {}
                });
                tx.flush();
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        seen
    }

    fn run_against(
        answer: Answer,
        gateway: bool,
        timeout_ms: u64,
    ) -> (Result<Handshake, Failure>, Seen, Probe, MacAddr) {
        let config = MemoryConfig {
            queues: 2,
            delivery: Delivery::FlowHash,
            ..MemoryConfig::default()
        };
        let (mut scanner, mut server) = pair(&config);
        let server_mac = server.mac();
        let server_queues = server.take_queues();
        let peer =
            std::thread::spawn(move || serve(server_queues, server_mac, answer, timeout_ms + 500));
        let probe = Probe {
            our_mac: scanner.mac(),
            source_ip: US,
            target: SocketAddrV4::new(SERVER, 80),
            gateway_mac: gateway.then_some(server_mac),
            source_port: 40001,
            isn: u32::MAX, // ISN+1 wraps
            timeout: Duration::from_millis(timeout_ms),
        };
        let mut queues = scanner.take_queues();
        let result = round_trip(&mut queues, &probe);
        (result, peer.join().unwrap(), probe, server_mac)
    }

    #[test]
    fn a_handshake_through_arp_is_checked_and_closed() {
        let (result, seen, probe, server_mac) = run_against(Answer::SynAck, false, 3000);
        let h = result.expect("handshake");
        assert_eq!(h.peer_mac, server_mac);
        assert!(h.peer_mac_from_arp);
        assert_eq!(h.syn_ack_ack, 0, "ISN u32::MAX + 1 wraps to 0");
        assert_eq!(h.syn_ack_seq, SERVER_ISN);
        assert_eq!(
            (h.syn_ack_src_mac, h.syn_ack_dst_mac),
            (server_mac, probe.our_mac)
        );
        assert!(seen.arp_requests >= 1);
        assert_eq!(seen.arp_replies_to_us, 1, "our address was answered for");
        assert_eq!(h.arp_requests_answered, 1);
        assert_eq!(seen.rst_seq, Some(0), "RST carries ISN+1");
        assert_eq!(seen.bad_checksums, 0);
        assert!(h.rx_queue < 2);
    }

    #[test]
    fn a_gateway_mac_skips_arp() {
        let (result, seen, _, _) = run_against(Answer::SynAck, true, 3000);
        let h = result.expect("handshake");
        assert!(!h.peer_mac_from_arp);
        assert_eq!(seen.arp_requests, 0);
    }

    #[test]
    fn a_wrong_ack_fails_the_check_but_still_resets() {
        let (result, seen, _, _) = run_against(Answer::WrongAck, false, 3000);
        assert_eq!(result, Err(Failure::BadAck { got: 1, want: 0 }));
        assert_eq!(seen.rst_seq, Some(0));
    }

    #[test]
    fn a_closed_port_is_reported() {
        let (result, seen, _, _) = run_against(Answer::Rst, false, 3000);
        assert_eq!(result, Err(Failure::Refused));
        assert_eq!(seen.syns, 1);
    }

    #[test]
    fn silence_ends_at_the_timeout() {
        let started = Instant::now();
        let (result, seen, _, _) = run_against(Answer::Silent, false, 700);
        assert_eq!(result, Err(Failure::NoArpReply(SERVER)));
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(seen.arp_requests >= 2, "ARP is retried: {seen:?}");
    }

    #[test]
    fn macs_parse() {
        assert_eq!(parse_mac("02:00:0a:0B:ff:01"), Ok([2, 0, 10, 11, 255, 1]));
        assert!(parse_mac("02:00:0a:0b:ff").is_err());
        assert!(parse_mac("zz:00:0a:0b:ff:01").is_err());
    }
}
