//! `lzr selftest`: one TCP handshake through a real port, end to end.
//!
//! It starts EAL on the given device, answers ARP for its source address (an address no kernel owns), resolves
//! the target's MAC by ARP unless a gateway MAC is given, sends a SYN from a random port with a random ISN,
//! waits for the SYN-ACK on every queue (af_packet and tap spread frames by a kernel hash), checks that it
//! acknowledges ISN+1 and carries the expected MAC addresses, answers it with an RST, and prints one JSON line.
//! Exit code 0 when every check passed, 1 when one failed, 2 when the set-up (EAL, port) failed.
//!
//! The round trip itself ([`round_trip`]) is generic over the port interface, so unit tests drive it over the
//! in-memory port against a scripted peer. IPv4 only.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::port::{format_mac, MacAddr, QueuePair, RxQueue, TxQueue};
use crate::wire::TcpFlags;

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
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return Err(format!("{s:?} is not a MAC address (aa:bb:cc:dd:ee:ff)"));
    }
    for (byte, part) in mac.iter_mut().zip(&parts) {
        *byte = u8::from_str_radix(part, 16).map_err(|_| format!("{s:?} is not a MAC address"))?;
    }
    Ok(mac)
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
}

impl Failure {
    /// Where the round trip stopped, for the JSON line.
    #[cfg_attr(not(feature = "dpdk"), allow(dead_code))]
    fn stage(&self) -> &'static str {
        match self {
            Failure::NoArpReply(_) => "arp",
            Failure::NoSynAck { .. } | Failure::Refused => "syn-ack",
            Failure::BadAck { .. } | Failure::BadMac { .. } => "check",
            Failure::Send => "send",
        }
    }
}

/// How often an unanswered ARP request and SYN are repeated.
const ARP_RETRY: Duration = Duration::from_millis(300);
const SYN_RETRY: Duration = Duration::from_millis(1000);
/// Pause between polls that found nothing, so a selftest does not hog a shared CPU.
const IDLE_PAUSE: Duration = Duration::from_micros(200);

/// Runs one handshake over `queues` (all polled; frames are sent on queue 0 and replies on the queue the
/// request came in on). Bounded by `probe.timeout`.
pub fn round_trip<Q: QueuePair>(queues: &mut [Q], probe: &Probe) -> Result<Handshake, Failure> {
    let start = Instant::now();
    let deadline = start + probe.timeout;
    let mut peer_mac = probe.gateway_mac;
    let mut next_arp = start;
    let mut next_syn = start;
    let mut first_syn: Option<Instant> = None;
    let (mut syns_sent, mut arp_answered) = (0u32, 0u32);
    let mut answer: Option<(Segment, u16, Instant)> = None;
    let mut refused = false;

    while Instant::now() < deadline && answer.is_none() && !refused {
        let now = Instant::now();
        if let Some(first) = queues.first_mut() {
            match peer_mac {
                None if now >= next_arp => {
                    let (target_ip, our_mac, our_ip) =
                        (*probe.target.ip(), probe.our_mac, probe.source_ip);
                    if !first.push_frame(frames::ARP_LEN, |buf| {
                        frames::arp(
                            buf,
                            frames::ARP_REQUEST,
                            our_mac,
                            our_ip,
                            frames::BROADCAST,
                            [0; 6],
                            target_ip,
                        )
                    }) {
                        return Err(Failure::Send);
                    }
                    next_arp = now + ARP_RETRY;
                }
                Some(mac) if now >= next_syn => {
                    let seg = Segment {
                        src_mac: probe.our_mac,
                        dst_mac: mac,
                        src: SocketAddrV4::new(probe.source_ip, probe.source_port),
                        dst: probe.target,
                        seq: probe.isn,
                        ack: 0,
                        flags: TcpFlags::SYN,
                    };
                    if !first.push_frame(frames::TCP_LEN, |buf| frames::tcp(buf, &seg)) {
                        return Err(Failure::Send);
                    }
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
            received += rx.recv_burst(|frame| match frames::parse(frame) {
                // Our own ARP frames (af_packet may show outgoing frames) are told apart by IP, not MAC: net_tap gives
                // the kernel side of the tap the port's own MAC.
                Some(frames::Parsed::Arp(arp)) if arp.sender_ip != probe.source_ip => {
                    if arp.oper == frames::ARP_REQUEST && arp.target_ip == probe.source_ip {
                        let pushed = tx.push_frame(frames::ARP_LEN, |buf| {
                            frames::arp(
                                buf,
                                frames::ARP_REPLY,
                                probe.our_mac,
                                probe.source_ip,
                                arp.sender_mac,
                                arp.sender_mac,
                                arp.sender_ip,
                            )
                        });
                        arp_answered += u32::from(pushed);
                    }
                    if arp.oper == frames::ARP_REPLY
                        && arp.sender_ip == *probe.target.ip()
                        && probe.gateway_mac.is_none()
                        && peer_mac.is_none()
                    {
                        peer_mac = Some(arp.sender_mac);
                    }
                }
                Some(frames::Parsed::Tcp(seg))
                    if seg.src == probe.target
                        && seg.dst == SocketAddrV4::new(probe.source_ip, probe.source_port) =>
                {
                    if seg.flags.rst() {
                        refused = true;
                    } else if seg.flags.contains(TcpFlags::SYN_ACK) && answer.is_none() {
                        answer = Some((seg, index, Instant::now()));
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
    let rst = Segment {
        src_mac: probe.our_mac,
        dst_mac: peer,
        src: syn_ack.dst,
        dst: syn_ack.src,
        seq: probe.isn.wrapping_add(1),
        ack: 0,
        flags: TcpFlags::RST,
    };
    if let Some(first) = queues.first_mut() {
        if !first.push_frame(frames::TCP_LEN, |buf| frames::tcp(buf, &rst)) {
            return Err(Failure::Send);
        }
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

/// A TCP segment without payload, as sent or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
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

/// Frame bytes for the selftest (Ethernet, ARP, IPv4, TCP without options but MSS).
///
/// Written here because `crate::wire` was not merged yet when this command was; it is to be replaced by wire's
/// views and builders.
mod frames {
    use std::net::{Ipv4Addr, SocketAddrV4};

    use super::Segment;
    use crate::port::MacAddr;
    use crate::wire::TcpFlags;

    pub const BROADCAST: MacAddr = [0xff; 6];
    pub const ARP_REQUEST: u16 = 1;
    pub const ARP_REPLY: u16 = 2;
    /// Ethernet minimum (60 bytes without FCS): ARP (42) and TCP (58) frames are padded to it.
    pub const ARP_LEN: usize = 60;
    pub const TCP_LEN: usize = 60;
    const ETHERTYPE_IPV4: u16 = 0x0800;
    const ETHERTYPE_ARP: u16 = 0x0806;
    const MSS: u16 = 1460;

    #[derive(Debug, Clone, Copy)]
    pub struct Arp {
        pub oper: u16,
        pub sender_mac: MacAddr,
        pub sender_ip: Ipv4Addr,
        pub target_ip: Ipv4Addr,
    }

    pub enum Parsed {
        Arp(Arp),
        Tcp(Segment),
    }

    fn ethernet(buf: &mut [u8], dst: MacAddr, src: MacAddr, ethertype: u16) {
        buf[0..6].copy_from_slice(&dst);
        buf[6..12].copy_from_slice(&src);
        buf[12..14].copy_from_slice(&ethertype.to_be_bytes());
    }

    /// Writes an ARP frame into `buf` (ARP_LEN bytes).
    pub fn arp(
        buf: &mut [u8],
        oper: u16,
        sha: MacAddr,
        spa: Ipv4Addr,
        eth_dst: MacAddr,
        tha: MacAddr,
        tpa: Ipv4Addr,
    ) {
        buf.fill(0);
        ethernet(buf, eth_dst, sha, ETHERTYPE_ARP);
        let a = &mut buf[14..42];
        a[0..2].copy_from_slice(&1u16.to_be_bytes()); // Ethernet
        a[2..4].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        a[4] = 6;
        a[5] = 4;
        a[6..8].copy_from_slice(&oper.to_be_bytes());
        a[8..14].copy_from_slice(&sha);
        a[14..18].copy_from_slice(&spa.octets());
        a[18..24].copy_from_slice(&tha);
        a[24..28].copy_from_slice(&tpa.octets());
    }

    /// One's-complement sum of 16-bit words, folded, starting from `sum`.
    fn checksum(data: &[u8], mut sum: u32) -> u16 {
        let mut chunks = data.chunks_exact(2);
        for c in &mut chunks {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u32::from(*last) << 8;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// Writes a TCP segment (with an MSS option when SYN is set) into `buf` (TCP_LEN bytes).
    pub fn tcp(buf: &mut [u8], s: &Segment) {
        buf.fill(0);
        ethernet(buf, s.dst_mac, s.src_mac, ETHERTYPE_IPV4);
        let options = if s.flags.syn() { 4 } else { 0 };
        let tcp_len = 20 + options;
        let ip = &mut buf[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        ip[6] = 0x40; // don't fragment
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&s.src.ip().octets());
        ip[16..20].copy_from_slice(&s.dst.ip().octets());
        let c = checksum(ip, 0);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let t = &mut buf[34..34 + tcp_len];
        t[0..2].copy_from_slice(&s.src.port().to_be_bytes());
        t[2..4].copy_from_slice(&s.dst.port().to_be_bytes());
        t[4..8].copy_from_slice(&s.seq.to_be_bytes());
        t[8..12].copy_from_slice(&s.ack.to_be_bytes());
        t[12] = ((tcp_len / 4) as u8) << 4;
        t[13] = s.flags.bits();
        let window: u16 = if s.flags.rst() { 0 } else { 65535 };
        t[14..16].copy_from_slice(&window.to_be_bytes());
        if options > 0 {
            t[20] = 2;
            t[21] = 4;
            t[22..24].copy_from_slice(&MSS.to_be_bytes());
        }
        let pseudo = pseudo_sum(*s.src.ip(), *s.dst.ip(), tcp_len as u16);
        let c = checksum(t, pseudo);
        t[16..18].copy_from_slice(&c.to_be_bytes());
    }

    fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, tcp_len: u16) -> u32 {
        let (s, d) = (src.octets(), dst.octets());
        [
            u16::from_be_bytes([s[0], s[1]]),
            u16::from_be_bytes([s[2], s[3]]),
            u16::from_be_bytes([d[0], d[1]]),
            u16::from_be_bytes([d[2], d[3]]),
            6,
            tcp_len,
        ]
        .iter()
        .map(|w| u32::from(*w))
        .sum()
    }

    fn be16(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
    }

    fn be32(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }

    fn mac_at(b: &[u8], at: usize) -> Option<MacAddr> {
        b.get(at..at + 6)?.try_into().ok()
    }

    fn ip_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
        let o: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(o))
    }

    /// Reads an Ethernet/IPv4 ARP or Ethernet/IPv4/TCP frame; anything else, or anything truncated, is None.
    pub fn parse(frame: &[u8]) -> Option<Parsed> {
        let dst_mac = mac_at(frame, 0)?;
        let src_mac = mac_at(frame, 6)?;
        match be16(frame, 12)? {
            ETHERTYPE_ARP => {
                let a = frame.get(14..42)?;
                if be16(a, 0)? != 1 || be16(a, 2)? != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4 {
                    return None;
                }
                Some(Parsed::Arp(Arp {
                    oper: be16(a, 6)?,
                    sender_mac: mac_at(a, 8)?,
                    sender_ip: ip_at(a, 14)?,
                    target_ip: ip_at(a, 24)?,
                }))
            }
            ETHERTYPE_IPV4 => {
                let ip = frame.get(14..)?;
                let header_len = usize::from(ip.first()? & 0x0f) * 4;
                if ip.first()? >> 4 != 4 || header_len < 20 || *ip.get(9)? != 6 {
                    return None;
                }
                let total = usize::from(be16(ip, 2)?);
                let t = ip.get(header_len..total.max(header_len))?;
                if t.len() < 20 {
                    return None;
                }
                Some(Parsed::Tcp(Segment {
                    src_mac,
                    dst_mac,
                    src: SocketAddrV4::new(ip_at(ip, 12)?, be16(t, 0)?),
                    dst: SocketAddrV4::new(ip_at(ip, 16)?, be16(t, 2)?),
                    seq: be32(t, 4)?,
                    ack: be32(t, 8)?,
                    flags: TcpFlags(*t.get(13)?),
                }))
            }
            _ => None,
        }
    }

    #[cfg(test)]
    pub fn tcp_checksum_ok(frame: &[u8]) -> bool {
        let Some(Parsed::Tcp(s)) = parse(frame) else {
            return false;
        };
        let total = usize::from(u16::from_be_bytes([frame[16], frame[17]]));
        let t = &frame[34..14 + total];
        checksum(&frame[14..34], 0) == 0
            && checksum(t, pseudo_sum(*s.src.ip(), *s.dst.ip(), t.len() as u16)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::memory::{pair, Delivery, MemoryConfig, MemoryQueue};
    use crate::port::Port;
    use proptest::prelude::*;

    const US: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const SERVER: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);

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

    /// A server on end B: answers ARP for SERVER, answers SYNs to port 80 as told, asks once for our MAC.
    fn serve(mut queues: Vec<MemoryQueue>, mac: MacAddr, answer: Answer, for_ms: u64) -> Seen {
        let mut seen = Seen::default();
        let deadline = Instant::now() + Duration::from_millis(for_ms);
        let mut asked = false;
        while Instant::now() < deadline && seen.rst_seq.is_none() {
            for q in queues.iter_mut() {
                let (rx, tx) = q.split();
                if !asked {
                    asked = tx.push_frame(frames::ARP_LEN, |b| {
                        frames::arp(
                            b,
                            frames::ARP_REQUEST,
                            mac,
                            SERVER,
                            frames::BROADCAST,
                            [0; 6],
                            US,
                        )
                    });
                }
                rx.recv_burst(|frame| match frames::parse(frame) {
                    Some(frames::Parsed::Arp(a))
                        if a.oper == frames::ARP_REQUEST && a.target_ip == SERVER =>
                    {
                        seen.arp_requests += 1;
                        if answer != Answer::Silent {
                            tx.push_frame(frames::ARP_LEN, |b| {
                                frames::arp(
                                    b,
                                    frames::ARP_REPLY,
                                    mac,
                                    SERVER,
                                    a.sender_mac,
                                    a.sender_mac,
                                    a.sender_ip,
                                )
                            });
                        }
                    }
                    Some(frames::Parsed::Arp(a))
                        if a.oper == frames::ARP_REPLY && a.sender_ip == US =>
                    {
                        seen.arp_replies_to_us += 1;
                    }
                    Some(frames::Parsed::Tcp(s)) if s.dst.port() == 80 => {
                        if !frames::tcp_checksum_ok(frame) {
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
                            let reply = Segment {
                                src_mac: mac,
                                dst_mac: s.src_mac,
                                src: s.dst,
                                dst: s.src,
                                seq: 7777,
                                ack,
                                flags,
                            };
                            tx.push_frame(frames::TCP_LEN, |b| frames::tcp(b, &reply));
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
        assert_eq!(h.syn_ack_seq, 7777);
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

    proptest! {
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = frames::parse(&bytes);
        }

        #[test]
        fn built_segments_parse_back(seq in any::<u32>(), ack in any::<u32>(), sport in 1u16.., flags in 0u8..0x40) {
            let s = Segment {
                src_mac: [2, 0, 0, 0, 0, 1],
                dst_mac: [2, 0, 0, 0, 0, 2],
                src: SocketAddrV4::new(US, sport),
                dst: SocketAddrV4::new(SERVER, 443),
                seq,
                ack,
                flags: TcpFlags(flags),
            };
            let mut buf = [0u8; frames::TCP_LEN];
            frames::tcp(&mut buf, &s);
            prop_assert!(frames::tcp_checksum_ok(&buf));
            match frames::parse(&buf) {
                Some(frames::Parsed::Tcp(back)) => prop_assert_eq!(back, s),
                _ => prop_assert!(false, "not parsed as TCP"),
            }
            for cut in 0..buf.len() {
                let _ = frames::parse(&buf[..cut]);
            }
        }
    }
}
