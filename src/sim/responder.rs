//! The responder: plays every host of a [`Population`] on the wire, sans-IO.
//!
//! [`Responder::handle`] takes one received frame and writes the frames the hosts send back into a caller's
//! [`FrameSink`]; [`Responder::poll`] releases answers whose host delays them. Hosts keep no state: the ISN of a
//! connection is a keyed hash of its four-tuple, so the ACK that completes a handshake is checked against the
//! ISN recomputed from it, and an answer depends only on the host and the bytes received. Only delayed answers
//! are held, so memory grows with the answers in flight, never with the number of hosts.
//!
//! Per host ([`Behaviour`]):
//! - SYN: SYN-ACK (window 0 for zero-window hosts), RST+ACK from closed ports, nothing from silent addresses;
//! - the ACK completing the handshake (with or without our probe): RST from reset-after-handshake hosts; from
//!   services, their answer to the probe ([`super::catalogue`]) as one PSH+ACK segment that also acknowledges
//!   the probe, or a bare ACK of the probe when they have nothing to say; nothing from hosts that never ACK;
//! - an ACK that matches no handshake of ours: RST, as a real stack answers;
//! - ARP requests for any address of the space: a reply with the responder's MAC.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::port::TxQueue;
use crate::wire::{
    parse_frame, ArpOperation, ArpRepr, Endpoints, Frame, FrameTemplate, MacAddr, TcpFlags,
    TcpFrame, TemplateConfig,
};

use super::catalogue::ProbeClassifier;
use super::population::{Behaviour, Population};

/// Where the responder writes frames.
pub trait FrameSink {
    /// Queues one frame; false when it was refused (counted by the responder as a send failure).
    fn send(&mut self, frame: &[u8]) -> bool;
}

impl FrameSink for Vec<Vec<u8>> {
    fn send(&mut self, frame: &[u8]) -> bool {
        self.push(frame.to_vec());
        true
    }
}

/// A port's send queue as a sink.
pub struct TxSink<'a, T: TxQueue>(pub &'a mut T);

impl<T: TxQueue> FrameSink for TxSink<'_, T> {
    fn send(&mut self, frame: &[u8]) -> bool {
        self.0
            .push_frame(frame.len(), |buf| buf.copy_from_slice(frame))
    }
}

/// What the responder did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResponderCounters {
    pub frames_in: u64,
    /// Frames the parser refused, and TCP segments with a bad checksum.
    pub malformed: u64,
    /// Frames for addresses outside the space, IPv6, or other traffic.
    pub not_ours: u64,
    pub syns: u64,
    pub synacks: u64,
    pub zero_window_synacks: u64,
    pub refused: u64,
    pub handshake_rsts: u64,
    /// ACKs that match no handshake of ours (answered with RST).
    pub stray_acks: u64,
    pub acks: u64,
    pub answers: u64,
    pub arp_replies: u64,
    /// Frames dropped by the profile's loss share.
    pub lost: u64,
    /// Frames held for a host's delay.
    pub delayed: u64,
    /// Frames the sink refused.
    pub send_failed: u64,
    pub frames_out: u64,
}

impl ResponderCounters {
    pub fn merge(&mut self, o: &ResponderCounters) {
        self.frames_in += o.frames_in;
        self.malformed += o.malformed;
        self.not_ours += o.not_ours;
        self.syns += o.syns;
        self.synacks += o.synacks;
        self.zero_window_synacks += o.zero_window_synacks;
        self.refused += o.refused;
        self.handshake_rsts += o.handshake_rsts;
        self.stray_acks += o.stray_acks;
        self.acks += o.acks;
        self.answers += o.answers;
        self.arp_replies += o.arp_replies;
        self.lost += o.lost;
        self.delayed += o.delayed;
        self.send_failed += o.send_failed;
        self.frames_out += o.frames_out;
    }
}

/// Window the hosts advertise.
const WINDOW: u16 = 65535;
/// Templates kept (one per host address and next-hop MAC); the cache is emptied when full.
const TEMPLATE_CACHE: usize = 4096;

/// Plays a population's hosts. One per thread (or per queue); the population is shared.
pub struct Responder {
    population: Arc<Population>,
    mac: MacAddr,
    classifier: ProbeClassifier,
    templates: HashMap<(Ipv4Addr, [u8; 6]), FrameTemplate>,
    delayed: BinaryHeap<Reverse<(u64, u64)>>,
    held: HashMap<u64, Vec<u8>>,
    next_id: u64,
    buf: Vec<u8>,
    counters: ResponderCounters,
}

impl Responder {
    /// A responder answering from `mac` for every address of the population's space.
    pub fn new(population: Arc<Population>, mac: MacAddr) -> Responder {
        Responder {
            population,
            mac,
            classifier: ProbeClassifier::new(),
            templates: HashMap::new(),
            delayed: BinaryHeap::new(),
            held: HashMap::new(),
            next_id: 0,
            buf: vec![0u8; 2048],
            counters: ResponderCounters::default(),
        }
    }

    pub fn population(&self) -> &Population {
        &self.population
    }

    pub fn counters(&self) -> &ResponderCounters {
        &self.counters
    }

    /// Answers held for a delay.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// When the next delayed answer is due (ns), if any.
    pub fn next_due(&self) -> Option<u64> {
        self.delayed.peek().map(|Reverse((due, _))| *due)
    }

    /// Sends every delayed answer due at `now_ns`; returns how many.
    pub fn poll<S: FrameSink + ?Sized>(&mut self, now_ns: u64, sink: &mut S) -> usize {
        let mut sent = 0;
        while let Some(&Reverse((due, id))) = self.delayed.peek() {
            if due > now_ns {
                break;
            }
            self.delayed.pop();
            if let Some(frame) = self.held.remove(&id) {
                self.emit(&frame, sink);
                sent += 1;
            }
        }
        sent
    }

    /// One received frame at `now_ns`: the hosts' answers go to `sink` (or are held for their delay).
    pub fn handle<S: FrameSink + ?Sized>(&mut self, frame: &[u8], now_ns: u64, sink: &mut S) {
        self.counters.frames_in += 1;
        match parse_frame(frame) {
            Ok(Frame::Tcp(t)) => self.tcp(&t, now_ns, sink),
            Ok(Frame::Arp(a)) => self.arp(&a.arp, sink),
            Ok(_) => self.counters.not_ours += 1,
            Err(_) => self.counters.malformed += 1,
        }
    }

    fn arp<S: FrameSink + ?Sized>(&mut self, arp: &ArpRepr, sink: &mut S) {
        if arp.operation != ArpOperation::Request
            || !self.population.space().contains(arp.target_ip)
        {
            self.counters.not_ours += 1;
            return;
        }
        let reply = ArpRepr::reply_to(arp, self.mac);
        match reply.build_frame(&mut self.buf) {
            Ok(n) => {
                self.counters.arp_replies += 1;
                let frame = self.buf[..n].to_vec();
                self.emit(&frame, sink);
            }
            Err(_) => self.counters.send_failed += 1,
        }
    }

    fn tcp<S: FrameSink + ?Sized>(&mut self, t: &TcpFrame<'_>, now_ns: u64, sink: &mut S) {
        let IpAddr::V4(addr) = t.dst_ip else {
            self.counters.not_ours += 1;
            return;
        };
        if !self.population.space().contains(addr) {
            self.counters.not_ours += 1;
            return;
        }
        if !t.checksum_valid() {
            self.counters.malformed += 1;
            return;
        }
        let host = self.population.host(addr, t.dst_port);
        let flags = t.flags;
        if flags.rst() {
            return;
        }
        let data_len = t.payload.len() as u32;
        let reply = if flags.syn() && !flags.ack() {
            self.counters.syns += 1;
            match host.behaviour {
                Behaviour::Silent => None,
                Behaviour::Closed => {
                    self.counters.refused += 1;
                    Some((0, t.seq.wrapping_add(1), TcpFlags::RST_ACK, 0, &[][..]))
                }
                b => {
                    let isn = self.population.isn(addr, t.dst_port, t.src_ip, t.src_port);
                    self.counters.synacks += 1;
                    let window = if b == Behaviour::ZeroWindow {
                        self.counters.zero_window_synacks += 1;
                        0
                    } else {
                        WINDOW
                    };
                    Some((
                        isn,
                        t.seq.wrapping_add(1),
                        TcpFlags::SYN_ACK,
                        window,
                        &[][..],
                    ))
                }
            }
        } else if flags.ack() && !flags.syn() {
            if !host.behaviour.synacks() {
                return;
            }
            let isn = self.population.isn(addr, t.dst_port, t.src_ip, t.src_port);
            let next = isn.wrapping_add(1);
            let ack_data = t.seq.wrapping_add(data_len);
            if t.ack != next {
                self.counters.stray_acks += 1;
                Some((t.ack, 0, TcpFlags::RST, 0, &[][..]))
            } else {
                match host.behaviour {
                    Behaviour::RstAfterHandshake => {
                        self.counters.handshake_rsts += 1;
                        Some((next, 0, TcpFlags::RST, 0, &[][..]))
                    }
                    Behaviour::ZeroWindow | Behaviour::NeverAcks => None,
                    _ => {
                        let (column, name) = self.classifier.classify(t.payload);
                        match host.answer(column, name) {
                            Some(bytes) => {
                                self.counters.answers += 1;
                                Some((next, ack_data, TcpFlags::PSH_ACK, WINDOW, bytes))
                            }
                            None if data_len > 0 => {
                                self.counters.acks += 1;
                                Some((next, ack_data, TcpFlags::ACK, WINDOW, &[][..]))
                            }
                            None => None,
                        }
                    }
                }
            }
        } else {
            None
        };
        let Some((seq, ack, flags, window, payload)) = reply else {
            return;
        };
        let mut fields = [0u8; 15];
        fields[..2].copy_from_slice(&t.src_port.to_be_bytes());
        fields[2..6].copy_from_slice(&seq.to_be_bytes());
        fields[6..10].copy_from_slice(&ack.to_be_bytes());
        fields[10] = flags.bits();
        fields[11..15].copy_from_slice(&(payload.len() as u32).to_be_bytes());
        if self.population.lost(addr, t.dst_port, &fields) {
            self.counters.lost += 1;
            return;
        }
        let key = (addr, t.src_mac.0);
        if !self.templates.contains_key(&key) && self.templates.len() >= TEMPLATE_CACHE {
            self.templates.clear();
        }
        let mac = self.mac;
        let template = self.templates.entry(key).or_insert_with(|| {
            FrameTemplate::new(mac, t.src_mac, IpAddr::V4(addr), TemplateConfig::original())
        });
        let to = Endpoints {
            dst_ip: t.src_ip,
            src_port: t.dst_port,
            dst_port: t.src_port,
        };
        let n = match template.segment(&mut self.buf, to, seq, ack, flags, window, payload) {
            Ok(n) => n,
            Err(_) => {
                self.counters.send_failed += 1;
                return;
            }
        };
        if host.delay_ms == 0 {
            let frame = std::mem::take(&mut self.buf);
            self.emit(&frame[..n], sink);
            self.buf = frame;
        } else {
            let id = self.next_id;
            self.next_id += 1;
            self.held.insert(id, self.buf[..n].to_vec());
            self.delayed
                .push(Reverse((now_ns + u64::from(host.delay_ms) * 1_000_000, id)));
            self.counters.delayed += 1;
        }
    }

    fn emit<S: FrameSink + ?Sized>(&mut self, frame: &[u8], sink: &mut S) {
        if sink.send(frame) {
            self.counters.frames_out += 1;
        } else {
            self.counters.send_failed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::{probe_bytes, registry, ProbeContext};
    use crate::sim::population::Space;
    use crate::sim::profile::Profile;
    use crate::wire::{TcpFrame, TemplateConfig};

    const SCANNER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xa]);
    const SIM_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0xb]);

    fn scanner() -> IpAddr {
        "198.18.0.2".parse().unwrap()
    }

    fn population(text_extra: &str) -> Arc<Population> {
        let text = format!(
            r#"
            port = 80
            protocol = "http"
            synack = 1.0
            zero_window = 0.1
            rst = 0.1
            acks_data = 0.7
            expected = 0.5
            unexpected = 0.3
            acking_firewall = 0.05
            {text_extra}
            [unexpected_protocols]
            tls = 1
            ssh = 1
            postgres = 1
            "#
        );
        let p = Profile::from_toml(&text, "t").unwrap();
        Arc::new(Population::new("198.18.128.0/17".parse::<Space>().unwrap(), vec![p], 11).unwrap())
    }

    fn send(
        r: &mut Responder,
        dst: Ipv4Addr,
        sport: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        payload: &[u8],
    ) -> Vec<Vec<u8>> {
        let t = FrameTemplate::new(SCANNER_MAC, SIM_MAC, scanner(), TemplateConfig::original());
        let mut buf = vec![0u8; 2048];
        let n = t
            .segment(
                &mut buf,
                Endpoints {
                    dst_ip: IpAddr::V4(dst),
                    src_port: sport,
                    dst_port: 80,
                },
                seq,
                ack,
                flags,
                65535,
                payload,
            )
            .unwrap();
        let mut out = Vec::new();
        r.handle(&buf[..n], 0, &mut out);
        out
    }

    /// The fields of a TCP frame the tests look at (owned, so frames can be temporaries).
    struct Seg {
        src_mac: MacAddr,
        dst_mac: MacAddr,
        src_ip: IpAddr,
        dst_ip: IpAddr,
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        payload: Vec<u8>,
    }

    fn tcp(frame: &[u8]) -> Seg {
        let t: TcpFrame<'_> = match parse_frame(frame) {
            Ok(Frame::Tcp(t)) => t,
            other => panic!("not TCP: {other:?}"),
        };
        assert!(t.checksum_valid());
        Seg {
            src_mac: t.src_mac,
            dst_mac: t.dst_mac,
            src_ip: t.src_ip,
            dst_ip: t.dst_ip,
            src_port: t.src_port,
            dst_port: t.dst_port,
            seq: t.seq,
            ack: t.ack,
            flags: t.flags,
            window: t.window,
            payload: t.payload.to_vec(),
        }
    }

    fn find(pop: &Population, pred: impl Fn(&super::super::Host) -> bool) -> Ipv4Addr {
        (0..32768)
            .map(|i| pop.space().nth(i))
            .find(|a| pred(&pop.host(*a, 80)))
            .expect("such a host")
    }

    #[test]
    fn a_web_host_shakes_hands_and_answers_a_get() {
        let pop = population("");
        let mut r = Responder::new(pop.clone(), SIM_MAC);
        let web = find(&pop, |h| h.expected);
        let out = send(&mut r, web, 40000, 1000, 0, TcpFlags::SYN, &[]);
        assert_eq!(out.len(), 1);
        let sa = tcp(&out[0]);
        assert_eq!(
            (sa.flags, sa.ack, sa.window),
            (TcpFlags::SYN_ACK, 1001, 65535)
        );
        assert_eq!((sa.src_mac, sa.dst_mac), (SIM_MAC, SCANNER_MAC));
        assert_eq!(
            (sa.src_ip, sa.dst_ip, sa.src_port, sa.dst_port),
            (IpAddr::V4(web), scanner(), 80, 40000)
        );
        let again = send(&mut r, web, 40000, 1000, 0, TcpFlags::SYN, &[]);
        assert_eq!(
            tcp(&again[0]).seq,
            sa.seq,
            "stateless: the same SYN gets the same ISN"
        );

        let get = probe_bytes(
            registry::by_name("http").unwrap().1,
            &ProbeContext {
                dst: IpAddr::V4(web),
                dst_port: 80,
                seed: 0,
            },
        );
        let out = send(
            &mut r,
            web,
            40000,
            1001,
            sa.seq.wrapping_add(1),
            TcpFlags::ACK,
            &get,
        );
        let data = tcp(&out[0]);
        assert_eq!(data.flags, TcpFlags::PSH_ACK);
        assert_eq!(data.seq, sa.seq.wrapping_add(1));
        assert_eq!(data.ack, 1001 + get.len() as u32);
        assert!(data.payload.starts_with(b"HTTP/1.1 200 OK"));

        // An ACK for a handshake that never happened gets an RST.
        let out = send(&mut r, web, 40001, 1001, 12345, TcpFlags::ACK, &[]);
        assert_eq!(tcp(&out[0]).flags, TcpFlags::RST);
        assert_eq!(r.counters().stray_acks, 1);
    }

    #[test]
    fn client_first_hosts_answer_only_their_probe() {
        let pop = population("");
        let mut r = Responder::new(pop.clone(), SIM_MAC);
        let pg = find(&pop, |h| h.protocol() == Some("postgres"));
        let sa = tcp(&send(&mut r, pg, 41000, 5, 0, TcpFlags::SYN, &[])[0]);
        let get = probe_bytes(
            registry::by_name("http").unwrap().1,
            &ProbeContext {
                dst: IpAddr::V4(pg),
                dst_port: 80,
                seed: 0,
            },
        );
        let out = send(
            &mut r,
            pg,
            41000,
            6,
            sa.seq.wrapping_add(1),
            TcpFlags::ACK,
            &get,
        );
        let ack = tcp(&out[0]);
        assert_eq!(
            (ack.flags, ack.payload.len()),
            (TcpFlags::ACK, 0),
            "acknowledges the GET, says nothing"
        );
        let ssl = probe_bytes(
            registry::by_name("postgres").unwrap().1,
            &ProbeContext {
                dst: IpAddr::V4(pg),
                dst_port: 80,
                seed: 0,
            },
        );
        let out = send(
            &mut r,
            pg,
            41000,
            6,
            sa.seq.wrapping_add(1),
            TcpFlags::PSH_ACK,
            &ssl,
        );
        assert_eq!(tcp(&out[0]).payload, b"N");
        // A bare ACK (the wait handshake) gets nothing from a client-first host.
        assert!(send(
            &mut r,
            pg,
            41000,
            6,
            sa.seq.wrapping_add(1),
            TcpFlags::ACK,
            &[]
        )
        .is_empty());
        // ... and a banner from a server-first one.
        let ssh = find(&pop, |h| h.protocol() == Some("ssh") && h.answer_draw < 0.9);
        let sa = tcp(&send(&mut r, ssh, 41001, 5, 0, TcpFlags::SYN, &[])[0]);
        let out = send(
            &mut r,
            ssh,
            41001,
            6,
            sa.seq.wrapping_add(1),
            TcpFlags::ACK,
            &[],
        );
        assert!(tcp(&out[0]).payload.starts_with(b"SSH-2.0-OpenSSH"));
    }

    #[test]
    fn middlebox_behaviours() {
        let pop = population("");
        let mut r = Responder::new(pop.clone(), SIM_MAC);
        let zw = find(&pop, |h| h.behaviour == Behaviour::ZeroWindow);
        assert_eq!(
            tcp(&send(&mut r, zw, 42000, 1, 0, TcpFlags::SYN, &[])[0]).window,
            0
        );
        let rst = find(&pop, |h| h.behaviour == Behaviour::RstAfterHandshake);
        let sa = tcp(&send(&mut r, rst, 42000, 1, 0, TcpFlags::SYN, &[])[0]);
        let out = send(
            &mut r,
            rst,
            42000,
            2,
            sa.seq.wrapping_add(1),
            TcpFlags::ACK,
            b"hello",
        );
        let reset = tcp(&out[0]);
        assert_eq!(
            (reset.flags, reset.seq),
            (TcpFlags::RST, sa.seq.wrapping_add(1))
        );
        let never = find(&pop, |h| h.behaviour == Behaviour::NeverAcks);
        let sa = tcp(&send(&mut r, never, 42000, 1, 0, TcpFlags::SYN, &[])[0]);
        assert!(send(
            &mut r,
            never,
            42000,
            2,
            sa.seq.wrapping_add(1),
            TcpFlags::ACK,
            b"hello"
        )
        .is_empty());
        let fw = find(&pop, |h| h.behaviour == Behaviour::AckingFirewall);
        let t = FrameTemplate::new(SCANNER_MAC, SIM_MAC, scanner(), TemplateConfig::original());
        let mut buf = vec![0u8; 128];
        let n = t
            .segment(
                &mut buf,
                Endpoints {
                    dst_ip: IpAddr::V4(fw),
                    src_port: 42000,
                    dst_port: 51234,
                },
                1,
                0,
                TcpFlags::SYN,
                65535,
                &[],
            )
            .unwrap();
        let mut out = Vec::new();
        r.handle(&buf[..n], 0, &mut out);
        assert_eq!(
            tcp(&out[0]).flags,
            TcpFlags::SYN_ACK,
            "a firewall answers an ephemeral port"
        );
        // Outside the space, and a corrupted frame: nothing.
        assert!(send(
            &mut r,
            "198.18.0.9".parse().unwrap(),
            42000,
            1,
            0,
            TcpFlags::SYN,
            &[]
        )
        .is_empty());
        let mut bad = buf[..n].to_vec();
        bad[n - 1] ^= 0xff;
        let mut out = Vec::new();
        r.handle(&bad, 0, &mut out);
        r.handle(&bad[..20], 0, &mut out);
        assert!(out.is_empty());
        assert_eq!(r.counters().malformed, 2);
    }

    #[test]
    fn delays_hold_answers_and_loss_drops_them() {
        let pop = population("delay_ms = [5, 5]");
        let mut r = Responder::new(pop.clone(), SIM_MAC);
        let web = find(&pop, |h| h.expected);
        assert!(send(&mut r, web, 43000, 1, 0, TcpFlags::SYN, &[]).is_empty());
        assert_eq!(r.held(), 1);
        assert_eq!(r.next_due(), Some(5_000_000));
        let mut out = Vec::new();
        assert_eq!(r.poll(4_999_999, &mut out), 0);
        assert_eq!(r.poll(5_000_000, &mut out), 1);
        assert_eq!(tcp(&out[0]).flags, TcpFlags::SYN_ACK);

        let lossy = population("loss = 0.5");
        let mut r = Responder::new(lossy.clone(), SIM_MAC);
        let mut answered = 0;
        for i in 0..400u32 {
            let a = lossy.space().nth(u64::from(i));
            if lossy.host(a, 80).behaviour.synacks() {
                answered += send(&mut r, a, 44000, i, 0, TcpFlags::SYN, &[]).len();
            }
        }
        let lost = r.counters().lost as usize;
        assert!(
            lost > 100 && answered > 100,
            "lost {lost}, answered {answered}"
        );
    }

    #[test]
    fn arp_is_answered_for_the_space_only() {
        let pop = population("");
        let mut r = Responder::new(pop, SIM_MAC);
        let mut buf = [0u8; 64];
        let mut out = Vec::new();
        for (target, answered) in [("198.18.0.1", false), ("198.18.200.1", true)] {
            let req = ArpRepr::request(
                SCANNER_MAC,
                "198.18.0.2".parse().unwrap(),
                target.parse().unwrap(),
            );
            let n = req.build_frame(&mut buf).unwrap();
            out.clear();
            r.handle(&buf[..n], 0, &mut out);
            assert_eq!(out.len(), usize::from(answered), "{target}");
        }
        let Ok(Frame::Arp(a)) = parse_frame(&out[0]) else {
            panic!("no ARP")
        };
        assert_eq!(a.arp.operation, ArpOperation::Reply);
        assert_eq!((a.arp.sender_mac, a.dst_mac), (SIM_MAC, SCANNER_MAC));
        assert_eq!(a.arp.sender_ip, "198.18.200.1".parse::<Ipv4Addr>().unwrap());
    }
}
