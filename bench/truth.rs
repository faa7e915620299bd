//! `lzr-sim --truth`: what a loss-free scan of the simulated population should find, the cost of the
//! full-handshake baseline (ZMap then ZGrab) on the same hosts, and, with `--check FILE`, how lzr's records
//! compare with the truth host by host. Used by `scripts/bench` (docs/benchmarks.md); compiled into `lzr-sim`
//! (`src/bin/lzr-sim.rs` includes this file) so it shares the simulator's population code and needs no DPDK.
//!
//! With `--check-peer FILE` it also scores another tool's findings on the same hosts (bench/peers.py: ZMap +
//! nmap, ZGrab2, the original LZR): one JSON line per service the tool named, `{"saddr", "sport", "label"}`,
//! the label already mapped to lzr's names. A finding is correct when the label is the protocol the host
//! really speaks or the label lzr's rules give its answer (a Kubernetes API server named `tls` is right).
//!
//! Rows follow the paper's Table 4 (reference §11.3): SYN-ACK, zero window, RST, ACKs data, expected,
//! unexpected, unique unexpected. The expected protocol is the profile's `protocol`; any other label on a data
//! record (except `unknown`) is unexpected.
//!
//! ZGrab cost model (per SYN-ACKing host; the paper's baseline: ZMap finds the host, then ZGrab completes a full
//! L7 handshake with it, one connection per handshake of the list). Frames are counted as DPDK counts them:
//! Ethernet + IPv4 + TCP without options (54 bytes of headers, padded to 60), the same convention lzr's frames
//! use, so the comparison is not inflated by the kernel's TCP options. Linux timing: RTO 200 ms doubling,
//! ZGrab2's default 10 s timeout, so 5 retransmissions (or zero-window probes) fit before ZGrab gives up.
//!
//! | host | out (scanner → host) | in (host → scanner) |
//! |---|---|---|
//! | every host: ZMap | SYN, RST (the kernel's answer to the SYN-ACK) | SYN-ACK |
//! | zero window | SYN, ACK, 5 zero-window probes, RST | SYN-ACK |
//! | RST after handshake | SYN, ACK, request | SYN-ACK, RST |
//! | never ACKs data | SYN, ACK, request + 5 retransmissions, FIN | SYN-ACK |
//! | ACKs, says nothing | SYN, ACK, request, FIN, ACK | SYN-ACK, ACK of the request, FIN |
//! | answers | SYN, ACK, request, 1 ACK per 2 answer segments, FIN, ACK | SYN-ACK, answer (MSS 1460), FIN |
//! | answers TLS to `tls` | the same plus the client's second flight (126 bytes) | plus CCS + Finished (51 bytes) |
//!
//! "request" is the handshake's probe (none for server-first handshakes such as `ftp`); the answer is the
//! simulated host's answer to that probe, byte for byte. It is a lower bound on ZGrab's real cost: its modules
//! often do more than one round trip (SSH key exchange, HTTP redirects, MongoDB's buildInfo).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use lzr::handshakes::{registry, HandshakeList, Matcher, ProbeContext, UNKNOWN_LABEL};
use lzr::record::Outcome;
use lzr::sim::catalogue::column_of;
use lzr::sim::{Behaviour, Expected, Host, Population, Profile};

const HEADERS: u64 = 54;
const MIN_FRAME: u64 = 60;
const MSS: u64 = 1460;
/// Retransmissions (or zero-window probes) Linux sends within ZGrab2's 10 s timeout at RTO 200 ms doubling.
const RETRANSMISSIONS: u64 = 5;
/// TLS 1.2 client second flight (ClientKeyExchange, ChangeCipherSpec, Finished) and the server's answer.
const TLS_CLIENT_FLIGHT: u64 = 126;
const TLS_SERVER_FLIGHT: u64 = 51;

fn frame(payload: u64) -> u64 {
    (HEADERS + payload).max(MIN_FRAME)
}

/// Packets and bytes each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    pub packets_out: u64,
    pub bytes_out: u64,
    pub packets_in: u64,
    pub bytes_in: u64,
}

impl Cost {
    fn out(&mut self, payload: u64) {
        self.packets_out += 1;
        self.bytes_out += frame(payload);
    }
    fn inward(&mut self, payload: u64) {
        self.packets_in += 1;
        self.bytes_in += frame(payload);
    }
    fn add(&mut self, o: &Cost) {
        self.packets_out += o.packets_out;
        self.bytes_out += o.bytes_out;
        self.packets_in += o.packets_in;
        self.bytes_in += o.bytes_in;
    }
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "packets_out": self.packets_out, "bytes_out": self.bytes_out,
            "packets_in": self.packets_in, "bytes_in": self.bytes_in,
            "packets": self.packets_out + self.packets_in, "bytes": self.bytes_out + self.bytes_in,
        })
    }
}

/// The baseline's cost for one SYN-ACKing host (ZMap's discovery plus one ZGrab connection per handshake), and
/// whether ZGrab identifies its expected protocol on it (the host answers that protocol's own probe with it).
pub fn zgrab_cost(host: &Host, list: &HandshakeList, matcher: &Matcher) -> (Cost, bool) {
    let mut c = Cost::default();
    // ZMap: SYN, SYN-ACK, the kernel's RST.
    c.out(0);
    c.inward(0);
    c.out(0);
    let ctx = ProbeContext {
        dst: IpAddr::V4(host.addr),
        dst_port: host.port,
        seed: 0,
    };
    let mut identified = false;
    for name in list.names() {
        let request = registry::by_name(name).map_or(0, |(_, h)| h.probe_len(&ctx)) as u64;
        c.out(0); // SYN
        c.inward(0); // SYN-ACK
        c.out(0); // ACK
        match host.behaviour {
            Behaviour::Silent | Behaviour::Closed => {}
            Behaviour::ZeroWindow => {
                for _ in 0..RETRANSMISSIONS {
                    c.out(0);
                }
                c.out(0); // RST on close with unsent data
            }
            Behaviour::RstAfterHandshake => {
                if request > 0 {
                    c.out(request);
                }
                c.inward(0);
            }
            Behaviour::NeverAcks => {
                if request > 0 {
                    for _ in 0..=RETRANSMISSIONS {
                        c.out(request);
                    }
                }
                c.out(0); // FIN
            }
            _ => {
                if request > 0 {
                    c.out(request);
                }
                match host.answer(column_of(name), Some(name)) {
                    Some(answer) => {
                        let len = answer.len() as u64;
                        let segments = len.div_ceil(MSS).max(1);
                        for i in 0..segments {
                            c.inward((len - i * MSS).min(MSS));
                        }
                        for _ in 0..segments.div_ceil(2) {
                            c.out(0);
                        }
                        let label = matcher.label(answer);
                        if name == "tls" && label == "tls" {
                            c.out(TLS_CLIENT_FLIGHT);
                            c.inward(TLS_SERVER_FLIGHT);
                        }
                        identified |= host.expected && host.protocol() == Some(label.as_ref());
                    }
                    None if request > 0 => c.inward(0), // the ACK of the request
                    None => {}
                }
                c.out(0); // FIN
                c.inward(0); // FIN+ACK
                c.out(0); // last ACK
            }
        }
    }
    (c, identified)
}

/// Table 4's rows over a set of records (or expected records).
#[derive(Clone, Debug, Default)]
pub struct Rows {
    pub records: u64,
    pub synack: u64,
    pub zero_window: u64,
    pub rst: u64,
    pub acks_data: u64,
    pub data: u64,
    pub expected: u64,
    pub unexpected: u64,
    pub unexpected_labels: BTreeSet<String>,
    pub outcomes: BTreeMap<String, u64>,
    pub labels: BTreeMap<String, u64>,
}

impl Rows {
    /// Counts one record: its outcome and (for data) its label; `expected_protocol` is the profile's.
    pub fn add(&mut self, outcome: Outcome, label: &str, expected_protocol: &str) {
        self.records += 1;
        *self
            .outcomes
            .entry(outcome.as_str().to_string())
            .or_default() += 1;
        *self.labels.entry(label.to_string()).or_default() += 1;
        match outcome {
            Outcome::NoSynAck | Outcome::Closed => return,
            _ => self.synack += 1,
        }
        match outcome {
            Outcome::ZeroWindow => self.zero_window += 1,
            Outcome::RstAfterHandshake => self.rst += 1,
            Outcome::Data | Outcome::AckedNoData | Outcome::AckingFirewall => self.acks_data += 1,
            _ => {}
        }
        if outcome == Outcome::Data {
            self.data += 1;
            if label == expected_protocol {
                self.expected += 1;
            } else if label != UNKNOWN_LABEL {
                self.unexpected += 1;
                self.unexpected_labels.insert(label.to_string());
            }
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "records": self.records, "synack": self.synack, "zero_window": self.zero_window, "rst": self.rst,
            "acks_data": self.acks_data, "data": self.data, "expected": self.expected,
            "unexpected": self.unexpected, "unique_unexpected": self.unexpected_labels.len(),
            "unexpected_labels": self.unexpected_labels, "outcomes": self.outcomes, "labels": self.labels,
        })
    }
}

/// One lzr record, as far as the comparison needs it.
struct Seen {
    addr: Ipv4Addr,
    port: u16,
    outcome: Outcome,
    label: String,
    handshake: String,
}

fn parse_record(line: &str) -> Result<Seen, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let text = |key: &str| -> Result<&str, String> {
        v.get(key)
            .and_then(|x| x.as_str())
            .ok_or_else(|| format!("no string {key:?}"))
    };
    let addr: Ipv4Addr = text("saddr")?.parse().map_err(|_| "saddr is not IPv4")?;
    let port = v
        .get("sport")
        .and_then(|x| x.as_u64())
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("no port in sport")?;
    let outcome_name = text("outcome")?;
    let outcome = Outcome::ALL
        .into_iter()
        .find(|o| o.as_str() == outcome_name)
        .ok_or_else(|| format!("unknown outcome {outcome_name:?}"))?;
    Ok(Seen {
        addr,
        port,
        outcome,
        label: text("fingerprint").unwrap_or(UNKNOWN_LABEL).to_string(),
        handshake: text("handshake").unwrap_or("").to_string(),
    })
}

fn matches(seen: &Seen, want: &Expected, list: &HandshakeList) -> bool {
    if want.outcome != Some(seen.outcome) {
        return false;
    }
    if seen.outcome != Outcome::Data {
        return true;
    }
    let handshake = want.handshake.and_then(|i| list.names().nth(i));
    seen.label == want.label && handshake == Some(seen.handshake.as_str())
}

/// What to compare with the truth: lzr's records and/or a peer's findings.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checks<'a> {
    pub records: Option<&'a Path>,
    pub peer: Option<&'a Path>,
}

/// The JSON report for one profile's port (see the module docs).
pub fn report(
    population: &Population,
    profile: &Profile,
    list: &HandshakeList,
    haf: bool,
    checks: Checks,
) -> Result<serde_json::Value, String> {
    let matcher = Matcher::new(list);
    let space = population.space();
    let port = profile.port;
    let mut truth = Rows::default();
    let mut zgrab = Cost::default();
    let mut zgrab_identified = 0u64;
    let mut behaviours: BTreeMap<&'static str, u64> = BTreeMap::new();
    for i in 0..space.len() {
        let host = population.host(space.nth(i), port);
        let kind = match host.behaviour {
            Behaviour::Speaks(_) if host.expected => "expected",
            Behaviour::Speaks(_) => "unexpected",
            b => b.name(),
        };
        *behaviours.entry(kind).or_default() += 1;
        let want = host.expect(list, &matcher, haf);
        if let Some(outcome) = want.outcome {
            truth.add(outcome, &want.label, &profile.protocol);
        }
        if host.behaviour.synacks() {
            let (cost, identified) = zgrab_cost(&host, list, &matcher);
            zgrab.add(&cost);
            zgrab_identified += u64::from(identified);
        }
    }
    let mut out = serde_json::json!({
        "port": port,
        "protocol": profile.protocol,
        "space": space.to_string(),
        "hosts": space.len(),
        "handshakes": list.names().collect::<Vec<_>>(),
        "haf": haf,
        "behaviours": behaviours,
        "truth": truth.json(),
        "zgrab_model": { "cost": zgrab.json(), "expected_identified": zgrab_identified },
    });
    if let Some(path) = checks.records {
        out["check"] = check(population, profile, list, haf, &matcher, path)?;
    }
    if let Some(path) = checks.peer {
        out["peer_check"] = check_peer(population, profile, list, haf, &matcher, path)?;
    }
    Ok(out)
}

/// One service a peer named.
struct PeerFinding {
    addr: Ipv4Addr,
    port: u16,
    label: String,
}

fn parse_peer_line(line: &str) -> Result<PeerFinding, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let addr = v
        .get("saddr")
        .and_then(|x| x.as_str())
        .ok_or("no string \"saddr\"")?
        .parse()
        .map_err(|_| "saddr is not IPv4")?;
    let port = v
        .get("sport")
        .and_then(|x| x.as_u64())
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("no port in sport")?;
    let label = v
        .get("label")
        .and_then(|x| x.as_str())
        .filter(|l| !l.is_empty())
        .ok_or("no string \"label\"")?
        .to_string();
    Ok(PeerFinding { addr, port, label })
}

/// True when `label` names what `host` speaks: its protocol, or the label lzr's rules give its answer
/// (`want_label`), with TLS accepted for the TLS-wrapped Kubernetes API.
fn peer_label_right(host: &Host, want_label: &str, label: &str) -> bool {
    match host.protocol() {
        Some(p) => label == p || label == want_label || (p == "kubernetes" && label == "tls"),
        None => false,
    }
}

/// Scores a peer's findings (see the module docs). `speaking` = hosts of the space that speak a protocol
/// (whether or not they answer a given probe); `identifiable` = those lzr's truth gives a label.
fn check_peer(
    population: &Population,
    profile: &Profile,
    list: &HandshakeList,
    haf: bool,
    matcher: &Matcher,
    path: &Path,
) -> Result<serde_json::Value, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut seen: HashSet<(Ipv4Addr, u16)> = HashSet::new();
    let (mut correct, mut correct_expected, mut wrong) = (0u64, 0u64, 0u64);
    let (mut duplicates, mut foreign, mut bad_lines) = (0u64, 0u64, 0u64);
    let mut labels: BTreeMap<String, u64> = BTreeMap::new();
    let mut examples: Vec<String> = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let found = match parse_peer_line(&line) {
            Ok(f) => f,
            Err(e) => {
                bad_lines += 1;
                if examples.len() < 5 {
                    examples.push(format!("line {}: {e}", n + 1));
                }
                continue;
            }
        };
        if found.port != profile.port || !population.space().contains(found.addr) {
            foreign += 1;
            continue;
        }
        if !seen.insert((found.addr, found.port)) {
            duplicates += 1;
            continue;
        }
        *labels.entry(found.label.clone()).or_default() += 1;
        let host = population.host(found.addr, found.port);
        let want = host.expect(list, matcher, haf);
        if peer_label_right(&host, &want.label, &found.label) {
            correct += 1;
            correct_expected += u64::from(host.expected);
        } else {
            wrong += 1;
            if examples.len() < 5 {
                examples.push(format!(
                    "{}:{} named {:?}, host speaks {:?} (lzr's label {:?})",
                    found.addr,
                    found.port,
                    found.label,
                    host.protocol(),
                    want.label
                ));
            }
        }
    }
    let space = population.space();
    let (mut speaking, mut identifiable) = (0u64, 0u64);
    for i in 0..space.len() {
        let host = population.host(space.nth(i), profile.port);
        speaking += u64::from(host.protocol().is_some());
        let want = host.expect(list, matcher, haf);
        identifiable +=
            u64::from(want.outcome == Some(Outcome::Data) && want.label != UNKNOWN_LABEL);
    }
    Ok(serde_json::json!({
        "named": seen.len(), "correct": correct, "correct_expected": correct_expected, "wrong": wrong,
        "duplicates": duplicates, "foreign": foreign, "bad_lines": bad_lines,
        "speaking": speaking, "identifiable": identifiable, "labels": labels, "examples": examples,
    }))
}

/// Compares lzr's records with the truth host by host.
fn check(
    population: &Population,
    profile: &Profile,
    list: &HandshakeList,
    haf: bool,
    matcher: &Matcher,
    path: &Path,
) -> Result<serde_json::Value, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut seen_rows = Rows::default();
    let mut seen_hosts: HashSet<(Ipv4Addr, u16)> = HashSet::new();
    let (mut matched, mut mismatched, mut duplicates, mut foreign, mut bad_lines) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut found, mut found_expected) = (0u64, 0u64);
    let mut examples: Vec<String> = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let seen = match parse_record(&line) {
            Ok(s) => s,
            Err(e) => {
                bad_lines += 1;
                if examples.len() < 5 {
                    examples.push(format!("line {}: {e}", n + 1));
                }
                continue;
            }
        };
        if seen.port != profile.port || !population.space().contains(seen.addr) {
            foreign += 1;
            continue;
        }
        if !seen_hosts.insert((seen.addr, seen.port)) {
            duplicates += 1;
            continue;
        }
        seen_rows.add(seen.outcome, &seen.label, &profile.protocol);
        let host = population.host(seen.addr, seen.port);
        let want = host.expect(list, matcher, haf);
        if matches(&seen, &want, list) {
            matched += 1;
            if seen.outcome == Outcome::Data && seen.label != UNKNOWN_LABEL {
                found += 1;
                found_expected += u64::from(seen.label == profile.protocol);
            }
        } else {
            mismatched += 1;
            if examples.len() < 5 {
                examples.push(format!(
                    "{}:{} got {} {} via {:?}, want {:?} {} via {:?}",
                    seen.addr,
                    seen.port,
                    seen.outcome.as_str(),
                    seen.label,
                    seen.handshake,
                    want.outcome.map(Outcome::as_str),
                    want.label,
                    want.handshake
                ));
            }
        }
    }
    // Hosts the truth gives a record and lzr did not write.
    let space = population.space();
    let mut missing = 0u64;
    for i in 0..space.len() {
        let addr = space.nth(i);
        let port = profile.port;
        if !seen_hosts.contains(&(addr, port))
            && population
                .host(addr, port)
                .expect(list, matcher, haf)
                .outcome
                .is_some()
        {
            missing += 1;
        }
    }
    Ok(serde_json::json!({
        "rows": seen_rows.json(),
        "matched": matched, "mismatched": mismatched, "missing": missing, "duplicates": duplicates,
        "foreign": foreign, "bad_lines": bad_lines,
        "found": found, "found_expected": found_expected,
        "examples": examples,
    }))
}

/// `lzr-sim --truth`: one JSON line per profile. `handshakes`: the list scanned (default: the profile's
/// protocol); `checks`: lzr's output and/or a peer's findings to compare (one profile only).
pub fn run(
    population: &Population,
    handshakes: Option<&str>,
    haf: bool,
    checks: Checks,
) -> Result<(), String> {
    let profiles: Vec<&Profile> = population.profiles().collect();
    if (checks.records.is_some() || checks.peer.is_some()) && profiles.len() != 1 {
        return Err("--check and --check-peer need exactly one profile".into());
    }
    for profile in profiles {
        let list_text = handshakes.unwrap_or(&profile.protocol);
        let list = HandshakeList::parse(list_text)
            .map_err(|e| format!("--handshakes {list_text}: {e}"))?;
        let line = report(population, profile, &list, haf, checks)?;
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn population(port: u16) -> Population {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("config/populations/port{port}.toml"));
        let profile = Profile::load(&path).expect("profile").among_synack();
        Population::new("198.18.128.0/22".parse().expect("space"), vec![profile], 3)
            .expect("population")
    }

    #[test]
    fn zgrab_costs_more_for_a_host_that_never_acks_than_for_a_reset() {
        let pop = population(27017);
        let list = HandshakeList::parse("mongodb").expect("list");
        let matcher = Matcher::new(&list);
        let space = pop.space();
        let hosts: Vec<Host> = (0..space.len())
            .map(|i| pop.host(space.nth(i), 27017))
            .collect();
        let find = |b: fn(&Behaviour) -> bool| {
            hosts
                .iter()
                .find(|h| b(&h.behaviour))
                .copied()
                .expect("host")
        };
        let never = zgrab_cost(&find(|b| *b == Behaviour::NeverAcks), &list, &matcher).0;
        let rst = zgrab_cost(
            &find(|b| *b == Behaviour::RstAfterHandshake),
            &list,
            &matcher,
        )
        .0;
        // ZMap 2 out + 1 in; connection SYN, ACK, 6 × request, FIN out; SYN-ACK in.
        assert_eq!(
            (never.packets_out, never.packets_in),
            (2 + 2 + 6 + 1, 1 + 1)
        );
        assert_eq!((rst.packets_out, rst.packets_in), (2 + 3, 1 + 2));
        assert_eq!(never.bytes_out, 4 * 60 + 6 * (54 + 58) + 60);
        let (speaks, identified) = zgrab_cost(
            &find(|b| matches!(b, Behaviour::Speaks(_))),
            &list,
            &matcher,
        );
        assert!(
            speaks.bytes_in > 3 * 60,
            "the answer's bytes are counted: {speaks:?}"
        );
        assert!(identified || !find(|b| matches!(b, Behaviour::Speaks(_))).expected);
    }

    #[test]
    fn rows_follow_table4_and_truth_has_every_synacker() {
        let pop = population(80);
        let profile = pop.profiles().next().expect("profile").clone();
        let list = HandshakeList::parse("http").expect("list");
        let r = report(&pop, &profile, &list, false, Checks::default()).expect("report");
        let t = &r["truth"];
        assert_eq!(
            t["synack"], 1024,
            "every address of the /22 SYN-ACKs among SYN-ACKers: {r}"
        );
        let parts = t["zero_window"].as_u64().unwrap()
            + t["rst"].as_u64().unwrap()
            + t["acks_data"].as_u64().unwrap();
        assert!(parts <= 1024);
        assert!(t["expected"].as_u64().unwrap() > 800, "{r}");
        assert!(
            r["zgrab_model"]["expected_identified"].as_u64().unwrap() > 800,
            "{r}"
        );
    }

    #[test]
    fn check_counts_matches_mismatches_missing_and_bad_lines() {
        let pop = population(80);
        let profile = pop.profiles().next().expect("profile").clone();
        let list = HandshakeList::parse("http").expect("list");
        let matcher = Matcher::new(&list);
        let space = pop.space();
        let web = (0..space.len())
            .map(|i| pop.host(space.nth(i), 80))
            .find(|h| h.expected && h.expect(&list, &matcher, false).outcome == Some(Outcome::Data))
            .expect("a web server");
        let dir = std::env::temp_dir().join(format!("lzr-truth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("records.json");
        let good = format!(
            r#"{{"saddr":"{}","sport":80,"outcome":"data","fingerprint":"http","handshake":"http"}}"#,
            web.addr
        );
        let other = if space.nth(0) == web.addr {
            space.nth(1)
        } else {
            space.nth(0)
        };
        let wrong = format!(
            r#"{{"saddr":"{other}","sport":80,"outcome":"data","fingerprint":"tls","handshake":"http"}}"#
        );
        std::fs::write(&path, format!("{good}\n{good}\nnot json\n{wrong}\n")).expect("write");
        let c = check(&pop, &profile, &list, false, &matcher, &path).expect("check");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(c["duplicates"], 1, "{c}");
        assert_eq!(c["bad_lines"], 1, "{c}");
        assert_eq!(c["found_expected"], 1, "{c}");
        let want = pop.host(other, 80).expect(&list, &matcher, false);
        let other_right =
            want.outcome == Some(Outcome::Data) && want.label == "tls" && want.handshake == Some(0);
        assert_eq!(c["matched"], 1 + u64::from(other_right), "{c}");
        assert_eq!(c["mismatched"], u64::from(!other_right), "{c}");
        // Every address SYN-ACKs (among SYN-ACKers), so every host but the two written is missing.
        assert_eq!(c["missing"], 1024 - 2, "{c}");
    }

    #[test]
    fn peer_check_scores_right_wrong_foreign_and_bad_lines() {
        let pop = population(80);
        let profile = pop.profiles().next().expect("profile").clone();
        let list = HandshakeList::parse("http").expect("list");
        let matcher = Matcher::new(&list);
        let space = pop.space();
        let hosts: Vec<Host> = (0..space.len())
            .map(|i| pop.host(space.nth(i), 80))
            .collect();
        let web = hosts
            .iter()
            .find(|h| h.expected)
            .expect("an expected web server");
        let mute = hosts
            .iter()
            .find(|h| h.protocol().is_none())
            .expect("a host that speaks nothing");
        let dir = std::env::temp_dir().join(format!("lzr-peer-truth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("peer.json");
        let line = |addr: Ipv4Addr, label: &str| {
            format!(r#"{{"saddr":"{addr}","sport":80,"label":"{label}"}}"#)
        };
        let text = [
            line(web.addr, "http"),
            line(web.addr, "http"),
            line(mute.addr, "http"),
            r#"{"saddr":"10.0.0.1","sport":80,"label":"http"}"#.to_string(),
            r#"{"saddr":"198.18.128.1","sport":80}"#.to_string(),
            "garbage".to_string(),
        ]
        .join("\n");
        std::fs::write(&path, text).expect("write");
        let c = check_peer(&pop, &profile, &list, false, &matcher, &path).expect("check");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(c["correct"], 1, "{c}");
        assert_eq!(c["correct_expected"], 1, "{c}");
        assert_eq!(c["wrong"], 1, "a host that speaks nothing named http: {c}");
        assert_eq!(c["duplicates"], 1, "{c}");
        assert_eq!(c["foreign"], 1, "{c}");
        assert_eq!(
            c["bad_lines"], 2,
            "a line without a label and one not JSON: {c}"
        );
        let speaking = hosts.iter().filter(|h| h.protocol().is_some()).count() as u64;
        assert_eq!(c["speaking"], speaking, "{c}");
        assert!(
            c["identifiable"].as_u64().expect("identifiable") <= speaking,
            "{c}"
        );
    }
}
