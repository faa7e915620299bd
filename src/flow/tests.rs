//! Scripted-peer tests: a fake clock, a fake probe-length table, and a host played by hand, one test per
//! branch of the state machine and per outcome.

use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;

use super::*;
use crate::record::{Outcome, Stage};

const REMOTE: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 18, 0, 10));
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1));
const START_MS: u64 = 1_700_000_000_000;

fn config(handshakes: u8) -> FlowConfig {
    FlowConfig { handshakes, secret: [0x5eed, 0x1234], table_capacity: 64, ..FlowConfig::default() }
}

/// The shard, its clock and what it emitted.
struct Harness {
    shard: FlowShard,
    lens: Vec<usize>,
    out: Vec<Action>,
    ms: u64,
}

impl Harness {
    fn new(config: FlowConfig, lens: &[usize]) -> Harness {
        Harness { shard: FlowShard::new(config).unwrap(), lens: lens.to_vec(), out: Vec::new(), ms: START_MS }
    }

    fn event(&mut self, event: Event<'_>) {
        let lens = &self.lens;
        let probes = |h: u8, _: IpAddr, _: u16, _: u64| lens.get(usize::from(h)).copied().unwrap_or(0);
        let ns = self.ms * 1_000_000;
        self.shard.handle(event, ns, &probes, &mut self.out);
    }

    fn zmap(&mut self, remote_port: u16, local_port: u16, seq: u32, ack: u32, window: u16) {
        let f = SynAckFields { remote: REMOTE, remote_port, local: LOCAL, local_port, seq, ack, window, ttl: 0 };
        self.event(Event::ZmapSynAck(f));
    }

    fn open(&mut self, remote_port: u16) -> Transmit {
        self.event(Event::Open(Target { remote: REMOTE, remote_port, local: LOCAL }));
        let sent = self.sent();
        assert_eq!(sent.len(), 1);
        sent[0]
    }

    #[allow(clippy::too_many_arguments)]
    fn host(&mut self, remote_port: u16, local_port: u16, seq: u32, ack: u32, flags: TcpFlags, window: u16, payload: &[u8]) {
        let seg = Segment { remote: REMOTE, remote_port, local: LOCAL, local_port, seq, ack, window, flags, ttl: 57, payload };
        self.event(Event::Segment(seg));
    }

    fn end_burst(&mut self) {
        self.event(Event::EndOfBurst);
    }

    fn advance(&mut self, ms: u64) {
        self.ms += ms;
        self.event(Event::Tick);
    }

    fn take(&mut self) -> (Vec<Transmit>, Vec<Record>) {
        let mut sent = Vec::new();
        let mut records = Vec::new();
        for action in self.out.drain(..) {
            match action {
                Action::Transmit(t) => sent.push(t),
                Action::Finished(r) => records.push(r),
            }
        }
        (sent, records)
    }

    /// Transmits only; fails if a record was emitted.
    fn sent(&mut self) -> Vec<Transmit> {
        let (sent, records) = self.take();
        assert!(records.is_empty(), "unexpected records {records:?}");
        sent
    }

    /// The one record emitted, and the transmits.
    fn record(&mut self) -> (Record, Vec<Transmit>) {
        let (sent, mut records) = self.take();
        assert_eq!(records.len(), 1, "expected one record, got {records:?}");
        (records.remove(0), sent)
    }

    fn counters(&self) -> &FlowCounters {
        self.shard.counters()
    }
}

const SEQ: u32 = 1000; // the host's ISN
const ISN: u32 = 5000; // ZMap's ISN (ack = ISN + 1)
const ZPORT: u16 = 40000;
const PROBE: usize = 20;

/// A ZMap-opened flow with a 20-byte probe; returns the harness and our ACK.
fn zmap_flow(config: FlowConfig, lens: &[usize]) -> (Harness, Transmit) {
    let mut h = Harness::new(config, lens);
    h.zmap(80, ZPORT, SEQ, ISN + 1, 29200);
    let sent = h.sent();
    assert_eq!(sent.len(), 1);
    (h, sent[0])
}

fn rst(seq: u32) -> impl Fn(&Transmit) -> bool {
    move |t| t.flags == TcpFlags::RST && t.seq == seq && t.ack == 0 && t.payload == Payload::None
}

#[test]
fn zmap_flow_first_ack_carries_probe_without_psh_and_first_data_ends_it() {
    let (mut h, ack) = zmap_flow(config(2), &[PROBE, PROBE]);
    assert_eq!((ack.seq, ack.ack, ack.flags, ack.local_port, ack.window), (ISN + 1, SEQ + 1, TcpFlags::ACK, ZPORT, 65535));
    assert!(matches!(ack.payload, Payload::Probe { handshake: 0, .. }));
    let snd_nxt = ISN + 1 + PROBE as u32;
    h.host(80, ZPORT, SEQ + 1, snd_nxt, TcpFlags::ACK, 29200, b"");
    assert!(h.sent().is_empty());
    h.host(80, ZPORT, SEQ + 1, snd_nxt, TcpFlags::PSH_ACK, 29200, b"HTTP/1.1 200 OK\r\n");
    assert!(h.sent().is_empty(), "the flow ends with the burst, not before");
    h.end_burst();
    let (r, sent) = h.record();
    assert_eq!(sent.len(), 1);
    assert!(rst(snd_nxt)(&sent[0]));
    assert_eq!(r.outcome, Outcome::Data);
    assert_eq!(r.data, b"HTTP/1.1 200 OK\r\n");
    assert_eq!((r.saddr, r.daddr, r.sport, r.dport), (REMOTE, LOCAL, 80, ZPORT));
    assert_eq!((r.seqnum, r.acknum, r.flags, r.ttl), (SEQ + 1, snd_nxt, TcpFlags::PSH_ACK, 57));
    assert_eq!((r.handshake_num, r.stage, r.acked, r.counter), (0, Some(Stage::Data), true, 0));
    assert!(r.fingerprint.is_empty() && !r.acking_firewall);
    assert!(h.shard.is_idle(), "default: first data wins, no second handshake");
    assert_eq!(h.counters().records(Outcome::Data), 1);
    // The tombstone swallows the host's late segments, then goes.
    h.host(80, ZPORT, SEQ + 18, snd_nxt, TcpFlags::ACK, 29200, b"more");
    assert_eq!(h.counters().late_segments, 1);
    h.advance(20_000);
    assert_eq!(h.shard.table_len(), 0);
}

#[test]
fn zmap_zero_window_is_recorded_and_never_answered() {
    let mut h = Harness::new(config(1), &[PROBE]);
    h.zmap(80, ZPORT, SEQ, ISN + 1, 0);
    let (r, sent) = h.record();
    assert!(sent.is_empty());
    assert_eq!((r.outcome, r.window, r.flags, r.stage), (Outcome::ZeroWindow, 0, TcpFlags::SYN_ACK, None));
    assert_eq!(h.shard.table_len(), 0);
}

#[test]
fn retransmission_after_rt_has_psh_same_bytes_same_seq_then_data_not_acked_stops() {
    let (mut h, first) = zmap_flow(config(2), &[PROBE, PROBE]);
    h.advance(999);
    assert!(h.sent().is_empty());
    h.advance(1);
    let re = h.sent();
    assert_eq!(re.len(), 1);
    assert_eq!((re[0].seq, re[0].ack, re[0].flags), (first.seq, first.ack, TcpFlags::PSH_ACK));
    assert_eq!(re[0].payload, first.payload, "same handshake and seed: identical bytes");
    h.advance(4999);
    assert!(h.sent().is_empty());
    h.advance(1);
    let (r, sent) = h.record();
    assert_eq!(r.outcome, Outcome::DataNotAcked);
    assert_eq!((r.stage, r.counter, r.acked, r.flags), (Some(Stage::Ack), 1, false, TcpFlags::SYN_ACK));
    assert_eq!(sent.len(), 1, "RST only: the paper's rule tries no second handshake");
    assert!(rst(ISN + 1)(&sent[0]));
    assert!(h.shard.is_idle());
}

#[test]
fn original_behaviour_moves_on_from_an_unacked_host() {
    let cfg = FlowConfig { stop_when_unacked: false, ..config(2) };
    let (mut h, first) = zmap_flow(cfg, &[PROBE, PROBE]);
    h.advance(1000);
    h.sent();
    h.advance(5000);
    let sent = h.sent();
    assert_eq!(sent.len(), 2);
    assert!(rst(ISN + 1)(&sent[0]));
    let syn = sent[1];
    assert_eq!((syn.flags, syn.local_port, syn.ack, syn.payload), (TcpFlags::SYN, ZPORT + 1, 0, Payload::None));
    assert_ne!(syn.seq, first.seq.wrapping_sub(1), "a new ISN");
}

#[test]
fn acked_but_silent_host_gets_the_probe_again_at_the_original_seq() {
    let (mut h, first) = zmap_flow(config(1), &[PROBE]);
    let snd_nxt = ISN + 1 + PROBE as u32;
    h.advance(100);
    h.host(80, ZPORT, SEQ + 1, snd_nxt, TcpFlags::ACK, 29200, b"");
    h.advance(900); // the rt timer of the ack stage is stale now
    assert!(h.sent().is_empty());
    assert_eq!(h.counters().stale_timers, 1);
    h.advance(4100);
    let re = h.sent();
    assert_eq!((re[0].seq, re[0].ack, re[0].flags, re[0].payload), (ISN + 1, SEQ + 1, TcpFlags::PSH_ACK, first.payload));
    h.advance(5000);
    let (r, sent) = h.record();
    assert_eq!((r.outcome, r.stage, r.counter, r.acked), (Outcome::AckedNoData, Some(Stage::Data), 1, true));
    assert_eq!((r.seqnum, r.acknum, r.flags), (SEQ + 1, snd_nxt, TcpFlags::ACK));
    assert!(rst(snd_nxt)(&sent[0]));
}

#[test]
fn rst_right_after_the_handshake_is_not_answered() {
    let (mut h, _) = zmap_flow(config(2), &[PROBE, PROBE]);
    // An RST+ACK that covers only part of our data is still a valid RST (the original dropped it).
    h.host(80, ZPORT, SEQ + 1, ISN + 5, TcpFlags::RST_ACK, 0, b"");
    let (r, sent) = h.record();
    assert!(sent.is_empty(), "never answer an RST");
    assert_eq!((r.outcome, r.flags, r.acked, r.stage), (Outcome::RstAfterHandshake, TcpFlags::RST_ACK, true, Some(Stage::Ack)));
    assert!(h.shard.is_idle(), "never acknowledged our data: no service");
}

#[test]
fn rst_after_acknowledging_data_moves_on_to_the_next_handshake() {
    let (mut h, _) = zmap_flow(config(2), &[PROBE, PROBE]);
    let snd_nxt = ISN + 1 + PROBE as u32;
    h.host(80, ZPORT, SEQ + 1, snd_nxt, TcpFlags::ACK, 29200, b"");
    h.host(80, ZPORT, SEQ + 1, 0, TcpFlags::RST, 0, b"");
    let sent = h.sent();
    assert_eq!(sent.len(), 1, "no record yet: handshake 1 follows");
    assert_eq!((sent[0].flags, sent[0].local_port), (TcpFlags::SYN, ZPORT + 1));
}

#[test]
fn rst_after_acknowledging_data_is_a_teardown_not_a_silent_service() {
    let (mut h, _) = zmap_flow(config(1), &[PROBE]);
    let snd_nxt = ISN + 1 + PROBE as u32;
    h.host(80, ZPORT, SEQ + 1, snd_nxt, TcpFlags::RST_ACK, 0, b"");
    let (r, sent) = h.record();
    assert!(sent.is_empty(), "never answer an RST");
    assert_eq!((r.outcome, r.acked), (Outcome::RstAfterHandshake, true));
}

/// Runs a `wait` attempt (no data) and then one probe, with a host whose answers the caller scripts: after our
/// data-less ACK (`synack_after_pure_ack`) and after our ACK with the probe (always: the probe is dropped).
fn wait_then_probe_with_dropped_data(synack_after_pure_ack: bool) -> Record {
    let mut h = Harness::new(config(2), &[0, PROBE]);
    h.zmap(80, ZPORT, SEQ, ISN + 1, 29200);
    assert_eq!(h.sent().len(), 1);
    if synack_after_pure_ack {
        h.host(80, ZPORT, SEQ, ISN + 1, TcpFlags::SYN_ACK, 29200, b"");
    }
    h.advance(1000);
    h.advance(5000);
    let syn = h.sent().into_iter().find(|t| t.flags == TcpFlags::SYN).expect("handshake 1 opens");
    let seq2 = 7000;
    h.host(80, syn.local_port, seq2, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 29200, b"");
    assert!(matches!(h.sent()[0].payload, Payload::Probe { handshake: 1, .. }));
    h.host(80, syn.local_port, seq2, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 29200, b"");
    h.advance(1000);
    h.advance(5000);
    h.record().0
}

#[test]
fn data_dropped_by_a_middlebox_is_data_not_acked_once_a_pure_ack_got_through() {
    assert_eq!(wait_then_probe_with_dropped_data(false).outcome, Outcome::DataNotAcked);
    // A host that also retransmits after our data-less ACK blocks ACKs altogether.
    assert_eq!(wait_then_probe_with_dropped_data(true).outcome, Outcome::SynAckRetransmitted);
}

#[test]
fn a_port_aware_plan_sets_each_target_s_number_of_handshakes() {
    struct ByPort;
    impl ProbeLengths for ByPort {
        fn probe_len(&self, _: u8, _: IpAddr, _: u16, _: u64) -> usize {
            PROBE
        }
        fn handshake_count(&self, remote_port: u16) -> Option<u8> {
            Some(if remote_port == 5432 { 1 } else { 3 })
        }
    }
    let mut shard = FlowShard::new(config(3)).unwrap();
    let mut out: Vec<Action> = Vec::new();
    let ns = START_MS * 1_000_000;
    for port in [5432u16, 80] {
        let f = SynAckFields { remote: REMOTE, remote_port: port, local: LOCAL, local_port: ZPORT, seq: SEQ, ack: ISN + 1, window: 100, ttl: 0 };
        shard.handle(Event::ZmapSynAck(f), ns, &ByPort, &mut out);
        let snd_nxt = ISN + 1 + PROBE as u32;
        let rst = Segment { remote: REMOTE, remote_port: port, local: LOCAL, local_port: ZPORT, seq: SEQ + 1, ack: snd_nxt, window: 0, flags: TcpFlags::RST_ACK, ttl: 9, payload: b"" };
        // The host acknowledges the probe in its RST, so the "never acknowledged" rule does not stop the flow.
        shard.handle(Event::Segment(rst), ns, &ByPort, &mut out);
    }
    let records: Vec<u16> = out.iter().filter_map(|a| if let Action::Finished(r) = a { Some(r.sport) } else { None }).collect();
    let syns = out.iter().filter(|a| matches!(a, Action::Transmit(t) if t.flags == TcpFlags::SYN)).count();
    assert_eq!(records, vec![5432], "one handshake on 5432: done; three on 80: the next one starts");
    assert_eq!(syns, 1);
}

#[test]
fn fin_is_recorded_and_answered_with_rst() {
    let (mut h, _) = zmap_flow(config(1), &[PROBE]);
    let snd_nxt = ISN + 1 + PROBE as u32;
    h.host(80, ZPORT, SEQ + 1, snd_nxt, TcpFlags::FIN | TcpFlags::ACK, 29200, b"");
    let (r, sent) = h.record();
    assert_eq!(r.outcome, Outcome::Fin);
    assert_eq!(sent.len(), 1);
    assert!(rst(snd_nxt)(&sent[0]));
}

#[test]
fn retransmitted_synack_means_our_ack_never_got_through() {
    let (mut h, _) = zmap_flow(config(1), &[PROBE]);
    h.advance(500);
    h.host(80, ZPORT, SEQ, ISN + 1, TcpFlags::SYN_ACK, 29200, b"");
    assert!(h.sent().is_empty(), "not answered; our own retransmission follows");
    assert_eq!(h.counters().synack_retransmissions, 1);
    h.advance(500);
    assert_eq!(h.sent().len(), 1);
    h.advance(5000);
    let (r, _) = h.record();
    assert_eq!(r.outcome, Outcome::SynAckRetransmitted);
}

#[test]
fn segments_that_fail_verification_are_counted_and_dropped() {
    let (mut h, _) = zmap_flow(config(1), &[PROBE]);
    let snd_nxt = ISN + 1 + PROBE as u32;
    h.host(80, ZPORT, SEQ + 1, snd_nxt + 1, TcpFlags::ACK, 100, b""); // acks beyond what we sent
    h.host(80, ZPORT, SEQ + 5, snd_nxt, TcpFlags::PSH_ACK, 100, b"late"); // data out of order
    h.host(80, ZPORT + 7, SEQ + 1, snd_nxt, TcpFlags::ACK, 100, b""); // another local port
    h.host(80, ZPORT, SEQ + 1, snd_nxt, TcpFlags::PSH, 100, b"x"); // data without ACK
    h.host(81, ZPORT, SEQ + 1, snd_nxt, TcpFlags::ACK, 100, b""); // no flow at all
    h.end_burst();
    assert!(h.take().0.is_empty());
    assert_eq!(h.counters().rejected_segments, 4);
    assert_eq!(h.counters().stray_segments, 1);
    assert_eq!(h.shard.active_flows(), 1);
}

#[test]
fn self_opened_syn_keeps_no_state_until_its_cookie_checks_out() {
    let mut h = Harness::new(config(1), &[PROBE]);
    let syn = h.open(80);
    assert_eq!((syn.flags, syn.ack, syn.window, syn.payload), (TcpFlags::SYN, 0, 65535, Payload::None));
    assert!((32768..=60999).contains(&syn.local_port));
    assert_eq!(h.shard.table_len(), 0, "stateless until answered");
    // Forged: wrong ack, wrong port.
    h.host(80, syn.local_port, 7, syn.seq.wrapping_add(2), TcpFlags::SYN_ACK, 1000, b"");
    h.host(80, syn.local_port ^ 1, 7, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 1000, b"");
    assert_eq!(h.counters().stray_synacks, 2);
    assert_eq!(h.shard.table_len(), 0);
    h.advance(40);
    h.host(80, syn.local_port, 7, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 1000, b"");
    let ack = h.sent();
    assert_eq!((ack[0].seq, ack[0].ack, ack[0].flags), (syn.seq.wrapping_add(1), 8, TcpFlags::ACK));
    assert_eq!((h.counters().cookie_flows, h.shard.active_flows()), (1, 1));
    // A second open for a target with a flow is a counted duplicate.
    h.event(Event::Open(Target { remote: REMOTE, remote_port: 80, local: LOCAL }));
    assert!(h.sent().is_empty());
    assert_eq!(h.counters().duplicate_targets, 1);
}

#[test]
fn every_stateless_syn_is_answered_or_counted_unanswered() {
    let mut h = Harness::new(config(1), &[PROBE]);
    let synack = h.open(80);
    let closed = h.open(81);
    let zero = h.open(82);
    let _silent = h.open(83);
    h.host(80, synack.local_port, 7, synack.seq.wrapping_add(1), TcpFlags::SYN_ACK, 1000, b"");
    h.host(81, closed.local_port, 0, closed.seq.wrapping_add(1), TcpFlags::RST_ACK, 0, b"");
    h.host(82, zero.local_port, 7, zero.seq.wrapping_add(1), TcpFlags::SYN_ACK, 0, b"");
    // A forged answer for the silent host is stray, not an answer.
    h.host(83, 40000, 7, 1, TcpFlags::SYN_ACK, 1000, b"");
    let c = h.counters();
    assert_eq!((c.syns_opened, c.syns_answered, c.cookie_flows, c.syns_unanswered()), (4, 3, 1, 1));
    assert_eq!(c.stray_synacks, 1);
}

#[test]
fn answers_after_the_window_are_stray() {
    let mut h = Harness::new(config(1), &[PROBE]);
    let syn = h.open(80);
    h.advance(13_000);
    h.host(80, syn.local_port, 7, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 1000, b"");
    assert!(h.sent().is_empty());
    assert_eq!(h.counters().stray_synacks, 1);
}

#[test]
fn rst_ack_to_our_syn_is_closed_at_once_and_recorded_once() {
    let mut h = Harness::new(config(2), &[PROBE, PROBE]);
    let syn = h.open(81);
    h.host(81, syn.local_port, 0, syn.seq.wrapping_add(1), TcpFlags::RST_ACK, 0, b"");
    let (r, sent) = h.record();
    assert!(sent.is_empty());
    assert_eq!((r.outcome, r.stage, r.flags, r.acked), (Outcome::Closed, Some(Stage::SynAck), TcpFlags::RST_ACK, false));
    h.host(81, syn.local_port, 0, syn.seq.wrapping_add(1), TcpFlags::RST_ACK, 0, b"");
    assert!(h.take().1.is_empty());
    assert_eq!(h.counters().late_segments, 1);
    assert!(h.shard.is_idle());
    h.advance(20_000);
    assert_eq!(h.shard.table_len(), 0);
}

#[test]
fn zero_window_synack_to_our_syn_is_recorded_once_and_never_answered() {
    let mut h = Harness::new(config(2), &[PROBE, PROBE]);
    let syn = h.open(80);
    for _ in 0..3 {
        h.host(80, syn.local_port, 7, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 0, b"");
        h.advance(1000);
    }
    let (r, sent) = h.record();
    assert!(sent.is_empty());
    assert_eq!(r.outcome, Outcome::ZeroWindow);
    assert_eq!(h.counters().records(Outcome::ZeroWindow), 1);
}

/// Handshake 0 is "wait" (empty probe) and yields nothing, so handshake 1 starts: returns its SYN.
fn second_handshake(config: FlowConfig) -> (Harness, Transmit) {
    let (mut h, first) = zmap_flow(config, &[0, PROBE]);
    assert_eq!(first.payload, Payload::None);
    h.advance(1000);
    let re = h.sent();
    assert_eq!((re[0].flags, re[0].payload), (TcpFlags::PSH_ACK, Payload::None));
    h.advance(5000);
    let sent = h.sent();
    assert!(rst(ISN + 1)(&sent[0]));
    let syn = sent[1];
    assert_eq!((syn.flags, syn.local_port, syn.remote_port), (TcpFlags::SYN, ZPORT + 1, 80));
    (h, syn)
}

#[test]
fn later_syn_is_retransmitted_then_no_synack() {
    let (mut h, syn) = second_handshake(config(2));
    h.advance(5000);
    let re = h.sent();
    assert_eq!(re, vec![syn]);
    h.advance(5000);
    let (r, sent) = h.record();
    assert!(sent.is_empty(), "no connection, no RST");
    assert_eq!((r.outcome, r.handshake_num, r.stage, r.dport), (Outcome::NoSynAck, 1, Some(Stage::SynAck), ZPORT + 1));
    assert_eq!((r.seqnum, r.acknum, r.flags, r.window, r.ttl, r.counter), (syn.seq, 0, TcpFlags::SYN, 65535, 0, 1));
}

#[test]
fn later_syn_refused_is_closed_at_once() {
    let (mut h, syn) = second_handshake(config(3));
    h.host(80, ZPORT + 1, 0, syn.seq.wrapping_add(1), TcpFlags::RST_ACK, 0, b"");
    let (r, sent) = h.record();
    assert!(sent.is_empty());
    assert_eq!((r.outcome, r.handshake_num), (Outcome::Closed, 1));
}

#[test]
fn later_zero_window_is_recorded_once_with_its_handshake() {
    let (mut h, syn) = second_handshake(config(2));
    h.host(80, ZPORT + 1, 9000, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 0, b"");
    h.host(80, ZPORT + 1, 9000, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 0, b"");
    let (r, sent) = h.record();
    assert!(sent.is_empty());
    assert_eq!((r.outcome, r.handshake_num, r.window), (Outcome::ZeroWindow, 1, 0));
}

#[test]
fn later_handshake_sends_its_own_probe_and_records_its_data() {
    let (mut h, syn) = second_handshake(config(2));
    // Answers on the old port are not for this attempt.
    h.host(80, ZPORT, 9000, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 100, b"");
    assert!(h.sent().is_empty());
    h.host(80, ZPORT + 1, 9000, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 100, b"");
    let ack = h.sent();
    assert_eq!((ack[0].seq, ack[0].ack, ack[0].flags), (syn.seq.wrapping_add(1), 9001, TcpFlags::ACK));
    assert!(matches!(ack[0].payload, Payload::Probe { handshake: 1, .. }));
    h.host(80, ZPORT + 1, 9001, syn.seq.wrapping_add(1 + PROBE as u32), TcpFlags::PSH_ACK, 100, b"SSH-2.0-x\r\n");
    h.end_burst();
    let (r, _) = h.record();
    assert_eq!((r.outcome, r.handshake_num, r.dport, r.stage), (Outcome::Data, 1, ZPORT + 1, Some(Stage::Ack)));
}

#[test]
fn next_port_wraps_inside_the_range_and_outside_like_the_original() {
    for (zport, next) in [(60999u16, 32768u16), (65535, 1)] {
        let mut h = Harness::new(config(2), &[0, PROBE]);
        h.zmap(80, zport, SEQ, ISN + 1, 100);
        h.advance(1000);
        h.advance(5000);
        let sent = h.take().0;
        assert_eq!(sent.last().map(|t| (t.flags, t.local_port)), Some((TcpFlags::SYN, next)));
    }
}

#[test]
fn force_all_records_each_data_answer_and_suppresses_a_dataless_end() {
    let cfg = FlowConfig { force_all: true, ..config(2) };
    let (mut h, _) = zmap_flow(cfg, &[PROBE, PROBE]);
    let snd_nxt = ISN + 1 + PROBE as u32;
    h.host(80, ZPORT, SEQ + 1, snd_nxt, TcpFlags::PSH_ACK, 100, b"hello");
    h.end_burst();
    let (r, sent) = h.record();
    assert_eq!((r.outcome, r.handshake_num, r.data.as_slice()), (Outcome::Data, 0, &b"hello"[..]));
    assert!(rst(snd_nxt)(&sent[0]));
    assert_eq!((sent[1].flags, sent[1].local_port), (TcpFlags::SYN, ZPORT + 1));
    let syn = sent[1];
    h.host(80, ZPORT + 1, 20, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 100, b"");
    h.host(80, ZPORT + 1, 21, 0, TcpFlags::RST, 0, b"");
    assert!(h.take().1.is_empty());
    assert_eq!(h.counters().force_all_suppressed, 1);
    assert!(h.shard.is_idle());
}

#[test]
fn force_all_continues_after_a_syn_timeout_and_records_later_data() {
    let cfg = FlowConfig { force_all: true, retransmissions: 0, ..config(3) };
    let (mut h, _) = zmap_flow(cfg, &[0, PROBE, PROBE]);
    h.advance(1000); // no retransmissions: the ack stage ends at rt
    let sent = h.sent();
    assert!(rst(ISN + 1)(&sent[0]));
    let syn = sent[1];
    assert_eq!((syn.flags, syn.local_port), (TcpFlags::SYN, ZPORT + 1));
    h.advance(5000);
    let sent = h.sent();
    assert_eq!((sent[0].flags, sent[0].local_port), (TcpFlags::SYN, ZPORT + 2), "no stop on a SYN timeout");
    assert_ne!(sent[0].seq, syn.seq);
    let syn = sent[0];
    h.host(80, ZPORT + 2, 50, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 100, b"");
    h.sent();
    h.host(80, ZPORT + 2, 51, syn.seq.wrapping_add(1), TcpFlags::PSH_ACK, 100, b"x");
    h.end_burst();
    let (r, _) = h.record();
    assert_eq!((r.outcome, r.handshake_num), (Outcome::Data, 2));
}

#[test]
fn in_order_data_of_the_same_burst_is_reassembled_up_to_the_cap() {
    let (mut h, _) = zmap_flow(config(1), &[PROBE]);
    let a = ISN + 1 + PROBE as u32;
    h.host(80, ZPORT, SEQ + 1, a, TcpFlags::ACK, 100, b"abc");
    h.host(80, ZPORT, SEQ + 7, a, TcpFlags::ACK, 100, b"ghi"); // out of order: dropped
    h.host(80, ZPORT, SEQ + 3, a, TcpFlags::ACK, 100, b"cdef"); // overlaps one byte
    h.end_burst();
    let (r, _) = h.record();
    assert_eq!(r.data, b"abcdef");
    assert_eq!((r.seqnum, r.flags), (SEQ + 1, TcpFlags::ACK));

    let (mut h, _) = zmap_flow(FlowConfig { data_cap: 4, ..config(1) }, &[PROBE]);
    h.host(80, ZPORT, SEQ + 1, a, TcpFlags::ACK, 100, b"abc");
    h.host(80, ZPORT, SEQ + 4, a, TcpFlags::ACK, 100, b"def");
    h.host(80, ZPORT, SEQ + 7, a, TcpFlags::ACK, 100, b"ghi");
    h.advance(1); // a tick also ends the burst
    let (r, sent) = h.record();
    assert_eq!(r.data, b"abcd");
    assert_eq!(h.counters().data_truncated, 1);
    assert!(rst(a)(&sent[0]));
}

#[test]
fn sequence_numbers_wrap_at_2_pow_32() {
    let mut h = Harness::new(config(1), &[PROBE]);
    let our_isn = u32::MAX - 10;
    h.zmap(80, ZPORT, u32::MAX, our_isn.wrapping_add(1), 100);
    let ack = h.sent();
    assert_eq!((ack[0].seq, ack[0].ack), (u32::MAX - 9, 0));
    let snd_nxt = our_isn.wrapping_add(1 + PROBE as u32);
    assert_eq!(snd_nxt, 10);
    h.host(80, ZPORT, 0, snd_nxt, TcpFlags::ACK, 100, b"");
    h.host(80, ZPORT, 0, snd_nxt, TcpFlags::PSH_ACK, 100, b"wrapped");
    h.host(80, ZPORT, 7, snd_nxt, TcpFlags::PSH_ACK, 100, b"!");
    h.end_burst();
    let (r, sent) = h.record();
    assert_eq!((r.outcome, r.data.as_slice(), r.stage), (Outcome::Data, &b"wrapped!"[..], Some(Stage::Data)));
    assert!(rst(10)(&sent[0]));
}

#[test]
fn push_data_only_sends_the_probe_only_on_the_psh_retransmission() {
    let cfg = FlowConfig { push_data_only: true, ..config(1) };
    let (mut h, first) = zmap_flow(cfg, &[PROBE]);
    assert_eq!((first.flags, first.payload), (TcpFlags::ACK, Payload::None));
    h.advance(1000);
    let re = h.sent();
    assert_eq!(re[0].flags, TcpFlags::PSH_ACK);
    assert!(matches!(re[0].payload, Payload::Probe { handshake: 0, .. }));
    h.host(80, ZPORT, SEQ + 1, ISN + 1 + PROBE as u32, TcpFlags::ACK, 100, b"");
    h.advance(5000);
    assert_eq!(h.sent()[0].flags, TcpFlags::PSH_ACK);
    h.advance(5000);
    let (r, _) = h.record();
    assert_eq!(r.outcome, Outcome::AckedNoData);
}

#[test]
fn full_table_is_a_counted_refusal_and_duplicates_are_counted() {
    let mut h = Harness::new(FlowConfig { table_capacity: 1, ..config(1) }, &[PROBE]);
    h.zmap(80, ZPORT, SEQ, ISN + 1, 100);
    h.zmap(80, ZPORT, SEQ, ISN + 1, 100);
    h.zmap(81, ZPORT, SEQ, ISN + 1, 100);
    assert_eq!(h.sent().len(), 1);
    assert_eq!((h.counters().duplicate_targets, h.counters().table_full), (1, 1));
}

#[test]
fn expire_all_ends_every_flow_with_its_record() {
    let mut h = Harness::new(config(2), &[0, PROBE]);
    h.zmap(80, ZPORT, SEQ, ISN + 1, 100); // ack stage, empty probe
    h.zmap(81, ZPORT, SEQ, ISN + 1, 100);
    h.host(81, ZPORT, SEQ + 1, ISN + 1, TcpFlags::ACK, 100, b""); // data stage
    h.zmap(82, ZPORT, SEQ, ISN + 1, 100);
    h.host(82, ZPORT, SEQ + 1, ISN + 1, TcpFlags::PSH_ACK, 100, b"banner"); // collecting
    h.zmap(83, ZPORT, SEQ, ISN + 1, 100);
    h.advance(1000); // 82's burst ends: its data record
    let (_, records) = h.take();
    assert_eq!(records.iter().map(|r| (r.sport, r.outcome)).collect::<Vec<_>>(), vec![(82, Outcome::Data)]);
    h.advance(5000); // 80 and 83 move on to handshake 1; 81 retransmits in its data stage
    assert!(h.take().1.is_empty());
    h.event(Event::ExpireAll);
    let (_, records) = h.take();
    let mut outcomes: Vec<_> = records.iter().map(|r| (r.sport, r.outcome, r.handshake_num)).collect();
    outcomes.sort();
    assert_eq!(outcomes, vec![(80, Outcome::NoSynAck, 1), (81, Outcome::AckedNoData, 0), (83, Outcome::NoSynAck, 1)]);
    assert_eq!(h.shard.table_len(), 0);
    assert!(h.shard.is_idle());

    let (mut h, _) = zmap_flow(config(1), &[PROBE]);
    h.event(Event::ExpireAll);
    let (r, sent) = h.record();
    assert_eq!(r.outcome, Outcome::DataNotAcked);
    assert!(rst(ISN + 1)(&sent[0]));
}

// ---- HyperACKtive filtering ---------------------------------------------------------------------

fn haf_config(n: u8, threshold: f64) -> FlowConfig {
    FlowConfig { haf_probes: n, haf_threshold: threshold, ..config(2) }
}

/// Runs handshake 0 (wait, silent) to its end: returns the parent's handshake-1 SYN and the probe SYNs.
fn haf_started(config: FlowConfig) -> (Harness, Transmit, Vec<Transmit>) {
    let (mut h, _) = zmap_flow(config, &[0, PROBE]);
    h.advance(1000);
    h.sent();
    h.advance(5000);
    let sent = h.sent();
    assert!(rst(ISN + 1)(&sent[0]));
    let syn = sent[1];
    assert_eq!((syn.remote_port, syn.local_port), (80, ZPORT + 1));
    let probes = sent[2..].to_vec();
    (h, syn, probes)
}

fn answer_probe(h: &mut Harness, probe: &Transmit, flags: TcpFlags) {
    h.host(probe.remote_port, probe.local_port, 4242, probe.seq.wrapping_add(1), flags, 100, b"");
}

#[test]
fn haf_probes_go_to_distinct_ephemeral_ports_and_a_full_answer_labels_at_once() {
    let (mut h, _, probes) = haf_started(haf_config(3, 1.0));
    assert_eq!(probes.len(), 3);
    let mut ports: Vec<u16> = probes.iter().map(|p| p.remote_port).collect();
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 3);
    for p in &probes {
        assert_eq!((p.flags, p.remote), (TcpFlags::SYN, REMOTE));
        assert!((32768..=60999).contains(&p.remote_port) && (32768..=60999).contains(&p.local_port));
    }
    answer_probe(&mut h, &probes[0], TcpFlags::SYN_ACK);
    answer_probe(&mut h, &probes[0], TcpFlags::SYN_ACK); // a repeat counts once
    answer_probe(&mut h, &probes[1], TcpFlags::SYN_ACK);
    let sent = h.sent();
    assert_eq!(sent.len(), 3, "each probe SYN-ACK is reset");
    assert!(sent.iter().all(|t| t.flags == TcpFlags::RST));
    assert_eq!(h.counters().haf_ignored, 1);
    answer_probe(&mut h, &probes[2], TcpFlags::SYN_ACK);
    let (r, sent) = h.record();
    assert_eq!(sent.len(), 1, "the probe's RST; the parent has no connection to reset");
    assert_eq!((r.outcome, r.acking_firewall, r.handshake_num, r.stage), (Outcome::AckingFirewall, true, 1, Some(Stage::SynAck)));
    assert!(h.shard.is_idle());
    assert_eq!(h.counters().records(Outcome::AckingFirewall), 1);
}

#[test]
fn haf_label_does_not_depend_on_who_answers_first() {
    // Parent data first: its record is held until the probes decide.
    let (mut h, syn, probes) = haf_started(haf_config(3, 1.0));
    let a = syn.seq.wrapping_add(1);
    h.host(80, ZPORT + 1, 9000, a, TcpFlags::SYN_ACK, 100, b"");
    h.host(80, ZPORT + 1, 9001, a.wrapping_add(PROBE as u32), TcpFlags::PSH_ACK, 100, b"HTTP/1.0 200\r\n");
    h.end_burst();
    assert_eq!(h.take().1, vec![], "held for the decision");
    assert_eq!(h.shard.active_flows(), 1);
    for p in &probes {
        answer_probe(&mut h, p, TcpFlags::SYN_ACK);
    }
    let (held, _) = h.record();
    // Probes first: the parent is labelled before it answers.
    let (mut h2, _, probes2) = haf_started(haf_config(3, 1.0));
    for p in &probes2 {
        answer_probe(&mut h2, p, TcpFlags::SYN_ACK);
    }
    let (early, _) = h2.record();
    assert_eq!((held.outcome, early.outcome), (Outcome::AckingFirewall, Outcome::AckingFirewall));
    assert!(held.acking_firewall && early.acking_firewall);
    assert_eq!(held.data, b"HTTP/1.0 200\r\n", "the held record keeps its data for the fingerprint");
}

#[test]
fn haf_labels_a_connected_parent_and_resets_it() {
    let (mut h, syn, probes) = haf_started(haf_config(2, 1.0));
    h.host(80, ZPORT + 1, 9000, syn.seq.wrapping_add(1), TcpFlags::SYN_ACK, 100, b"");
    h.sent();
    answer_probe(&mut h, &probes[0], TcpFlags::SYN_ACK);
    answer_probe(&mut h, &probes[1], TcpFlags::SYN_ACK);
    let (r, sent) = h.record();
    assert_eq!((r.outcome, r.stage), (Outcome::AckingFirewall, Some(Stage::Ack)));
    assert!(sent.iter().any(|t| t.remote_port == 80 && t.flags == TcpFlags::RST && t.seq == syn.seq.wrapping_add(1)));
}

#[test]
fn haf_cleared_by_probe_rsts_releases_the_held_record() {
    let (mut h, syn, probes) = haf_started(haf_config(3, 0.6));
    let a = syn.seq.wrapping_add(1);
    h.host(80, ZPORT + 1, 9000, a, TcpFlags::SYN_ACK, 100, b"");
    h.host(80, ZPORT + 1, 9001, a.wrapping_add(PROBE as u32), TcpFlags::PSH_ACK, 100, b"x");
    h.end_burst();
    h.take();
    answer_probe(&mut h, &probes[0], TcpFlags::SYN_ACK);
    answer_probe(&mut h, &probes[1], TcpFlags::RST_ACK);
    assert!(h.take().1.is_empty(), "1 yes, 1 no of 3 with 2 needed: still open");
    answer_probe(&mut h, &probes[2], TcpFlags::RST_ACK);
    let (r, sent) = h.record();
    assert!(sent.is_empty(), "RSTs are not answered");
    assert_eq!((r.outcome, r.acking_firewall), (Outcome::Data, false));
    assert_eq!((h.counters().haf_synacks, h.counters().haf_rsts), (1, 2));
}

#[test]
fn haf_window_closing_releases_the_held_record_and_later_answers_are_ignored() {
    let (mut h, syn, probes) = haf_started(haf_config(2, 1.0));
    h.advance(100);
    h.host(80, ZPORT + 1, 9000, syn.seq.wrapping_add(1), TcpFlags::RST_ACK, 0, b"");
    assert!(h.take().1.is_empty(), "held");
    h.advance(4899);
    assert!(h.take().1.is_empty());
    h.advance(1);
    let (r, _) = h.record();
    assert_eq!((r.outcome, r.handshake_num), (Outcome::Closed, 1));
    answer_probe(&mut h, &probes[0], TcpFlags::SYN_ACK);
    answer_probe(&mut h, &probes[1], TcpFlags::SYN_ACK);
    assert!(h.take().1.is_empty());
    assert_eq!(h.counters().haf_ignored, 2);
}

#[test]
fn forged_probe_answers_are_stray() {
    let (mut h, _, probes) = haf_started(haf_config(2, 1.0));
    h.host(probes[0].remote_port, probes[0].local_port, 1, probes[0].seq.wrapping_add(3), TcpFlags::SYN_ACK, 100, b"");
    h.host(probes[0].remote_port, probes[0].local_port.wrapping_add(1), 1, probes[0].seq.wrapping_add(1), TcpFlags::SYN_ACK, 100, b"");
    assert!(h.take().0.is_empty());
    assert_eq!(h.counters().stray_synacks, 2);
}

#[test]
fn single_handshake_or_force_all_sends_no_haf_probes() {
    let cfg = FlowConfig { force_all: true, ..haf_config(3, 1.0) };
    let (mut h, _) = zmap_flow(cfg, &[0, PROBE]);
    h.advance(1000);
    h.advance(5000);
    let sent = h.sent();
    assert_eq!(sent.iter().filter(|t| t.flags == TcpFlags::SYN).count(), 1);
    assert_eq!(h.counters().haf_probes_sent, 0);
}

#[test]
fn flow_state_size_matches_the_documented_figure() {
    // The module docs state the measured size; keep them honest (64-bit targets).
    if cfg!(target_pointer_width = "64") {
        assert_eq!(state::FLOW_STATE_BYTES, 112);
    }
}

// ---- whole-population property: one record or one counted drop per target -----------------------

/// What a scripted host does with our connection.
#[derive(Clone, Copy, Debug)]
enum Host {
    Silent,
    Refuses,
    ZeroWindow,
    ResetsAfterHandshake,
    Fins,
    AcksOnly,
    AcksAndAnswers,
    AnswersOnly,
}

fn host_behaviour() -> impl Strategy<Value = Host> {
    prop_oneof![
        Just(Host::Silent),
        Just(Host::Refuses),
        Just(Host::ZeroWindow),
        Just(Host::ResetsAfterHandshake),
        Just(Host::Fins),
        Just(Host::AcksOnly),
        Just(Host::AcksAndAnswers),
        Just(Host::AnswersOnly),
    ]
}

/// Plays every host against whatever the shard sent it, for a few rounds of simulated time.
fn play(h: &mut Harness, hosts: &[Host], sent: Vec<Transmit>, answered: &mut [bool]) {
    for t in sent {
        let Some(&behaviour) = hosts.get(usize::from(t.remote_port.wrapping_sub(1000))) else { continue };
        let (rp, lp) = (t.remote_port, t.local_port);
        if t.flags == TcpFlags::SYN {
            let a = t.seq.wrapping_add(1);
            match behaviour {
                Host::Silent => {}
                Host::Refuses => h.host(rp, lp, 0, a, TcpFlags::RST_ACK, 0, b""),
                Host::ZeroWindow => h.host(rp, lp, 77, a, TcpFlags::SYN_ACK, 0, b""),
                _ => h.host(rp, lp, 77, a, TcpFlags::SYN_ACK, 1000, b""),
            }
        } else if t.flags.ack() && !answered[usize::from(rp - 1000)] {
            answered[usize::from(rp - 1000)] = true;
            let their = t.ack;
            let ours = t.seq.wrapping_add(PROBE as u32);
            match behaviour {
                Host::ResetsAfterHandshake => h.host(rp, lp, their, 0, TcpFlags::RST, 0, b""),
                Host::Fins => h.host(rp, lp, their, t.seq, TcpFlags::FIN | TcpFlags::ACK, 1000, b""),
                Host::AcksOnly => h.host(rp, lp, their, ours, TcpFlags::ACK, 1000, b""),
                Host::AcksAndAnswers => h.host(rp, lp, their, ours, TcpFlags::PSH_ACK, 1000, b"220 hi\r\n"),
                Host::AnswersOnly => h.host(rp, lp, their, t.seq, TcpFlags::PSH_ACK, 1000, b"SSH-2.0\r\n"),
                _ => {}
            }
        }
    }
    h.end_burst();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_target_ends_in_exactly_one_record(hosts in proptest::collection::vec(host_behaviour(), 1..30),
                                               handshakes in 1u8..4, capacity in 8usize..40) {
        let cfg = FlowConfig { table_capacity: capacity, ..config(handshakes) };
        let mut h = Harness::new(cfg, &[PROBE, PROBE, PROBE]);
        let mut records = Vec::new();
        for i in 0..hosts.len() {
            h.event(Event::Open(Target { remote: REMOTE, remote_port: 1000 + i as u16, local: LOCAL }));
        }
        for _round in 0..12 {
            let (sent, mut done) = h.take();
            records.append(&mut done);
            let mut answered = vec![false; hosts.len()];
            play(&mut h, &hosts, sent, &mut answered);
            h.advance(2500);
        }
        h.event(Event::ExpireAll);
        records.append(&mut h.take().1);
        let c = h.counters().clone();
        // Silent hosts never answer a stateless SYN, so they leave no record; everyone else leaves one
        // record, or a counted refusal when the table was full.
        let answering = hosts.iter().filter(|b| !matches!(b, Host::Silent)).count() as u64;
        prop_assert_eq!(records.len() as u64 + c.table_full, answering);
        let mut ports: Vec<u16> = records.iter().map(|r| r.sport).collect();
        ports.sort();
        ports.dedup();
        prop_assert_eq!(ports.len(), records.len(), "no target recorded twice");
        for r in &records {
            let expected = match hosts[usize::from(r.sport - 1000)] {
                Host::Silent => unreachable!(),
                Host::Refuses => vec![Outcome::Closed],
                Host::ZeroWindow => vec![Outcome::ZeroWindow],
                Host::ResetsAfterHandshake => vec![Outcome::RstAfterHandshake],
                Host::Fins => vec![Outcome::Fin],
                Host::AcksOnly => vec![Outcome::AckedNoData, Outcome::NoSynAck, Outcome::Closed],
                Host::AcksAndAnswers | Host::AnswersOnly => vec![Outcome::Data],
            };
            prop_assert!(expected.contains(&r.outcome), "{:?} gave {:?}", hosts[usize::from(r.sport - 1000)], r);
        }
        prop_assert_eq!(c.total_records(), records.len() as u64);
        prop_assert!(h.shard.is_idle());
    }
}
