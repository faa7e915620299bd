//! The project's test bed (`scripts/testbed`, docs/testbed.md) seen from a Rust test: a guard that brings a bed
//! up and always takes it down, its ground truth, and how lzr's records must compare with it.
//!
//! # Why scans come in groups
//! A record names the *first* handshake of the target's list that drew data (or the last one tried), and a
//! server may answer several probes (nginx's TLS ports answer a plain GET with a TLS alert). The ground truth
//! gives, per target, one handshake that draws the expected answer when it comes first. So the targets are
//! split into [`Group`]s, one scan each, whose handshake order makes every member's truth exact:
//! - `original`: the original's fixed list `wait,http` with HyperACKtive filtering (`-haf 5`): every
//!   middlebox (their truth assumes `wait`, then a probe with data), every server-first service (the banner
//!   answers the first handshake, whatever it is) and every HTTP service (`wait` draws nothing from it);
//! - `port-aware N`: `--plan port-aware` with a ports table written for the group, so each member's port
//!   starts with its truth handshake (redis on 80, TLS on an ephemeral port, kubernetes on 443...); members
//!   must share no port with a different handshake and no (address, port), hence several groups;
//! - `fixed H`: `-handshakes H` alone, for services whose truth is not data (Samba closes on the SMB probe):
//!   the record is the last attempt's, so H must be the only one.
//!
//! # What is compared
//! Every record of a scan is compared, by (address, port): with the member's truth (exactly: fingerprint,
//! outcome, handshake); for generator scans with the address's behaviour on any other port (closed, or the
//! middlebox's address-wide answer: SYNPROXY's zero window, the ACKing firewall, silence); a truth target of
//! another group that a generator scan reaches anyway must be there once and connected (it is compared
//! exactly in its own group). Absence is right only where nothing answers the SYN (in ZMap mode also where
//! the SYN draws an RST, since ZMap reports only SYN-ACKs).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::netns::run_bounded;

/// `scripts/testbed up` of a full bed takes ~7 s here; its own deadline is 50 s.
const BED_UP_LIMIT: Duration = Duration::from_secs(120);
const BED_DOWN_LIMIT: Duration = Duration::from_secs(60);

/// The repository root (where `scripts/testbed` lives).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One line of `truth.jsonl`.
#[derive(Clone, Debug)]
pub struct Truth {
    pub addr: String,
    pub port: u16,
    /// `service` or `middlebox`.
    pub kind: String,
    /// Services: the fingerprint label. Middleboxes: the outcome name (or `data`).
    pub expect: String,
    pub outcome: String,
    pub handshake: String,
    pub server: String,
    pub behaviour: Option<String>,
}

impl Truth {
    fn parse(line: &str) -> Result<Truth, String> {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("truth line {line:?}: {e}"))?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string).ok_or(format!("truth line without {k}: {line}"));
        let port = v.get("port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()).ok_or(format!("bad port: {line}"))?;
        Ok(Truth {
            addr: s("addr")?,
            port,
            kind: s("kind")?,
            expect: s("expect")?,
            outcome: s("outcome")?,
            handshake: s("handshake")?,
            server: s("server")?,
            behaviour: v.get("behaviour").and_then(Value::as_str).map(str::to_string),
        })
    }

    pub fn is_service(&self) -> bool {
        self.kind == "service"
    }

    pub fn pair(&self) -> (String, u16) {
        (self.addr.clone(), self.port)
    }

    pub fn describe(&self) -> String {
        format!("{}:{} ({}, truth: {} / {} via {})", self.addr, self.port, self.server, self.expect, self.outcome, self.handshake)
    }
}

/// A bed brought up for one test, taken down on drop (also when the test panics).
pub struct Bed {
    pub name: String,
    pub env: HashMap<String, String>,
    pub truth: Vec<Truth>,
    pub profile: String,
}

impl Bed {
    /// `scripts/testbed up --name NAME --profile PROFILE --print-env`. `tag`: 1-3 lower-case letters/digits.
    pub fn up(tag: &str, profile: &str) -> Result<Bed, String> {
        // Bed names: 1-13 lower-case letters/digits, starting with a letter; pid keeps concurrent runs apart.
        let name = format!("e{}{tag}", std::process::id() % 10_000_000);
        let script = repo_root().join("scripts/testbed");
        // A bed of the same name left by a crashed run (same pid) would make `up` fail.
        let mut down = Command::new(&script);
        down.args(["down", "--name", &name]);
        let _ = run_bounded(down, BED_DOWN_LIMIT);
        let mut cmd = Command::new(&script);
        cmd.args(["up", "--name", &name, "--profile", profile, "--print-env"]);
        let out = run_bounded(cmd, BED_UP_LIMIT)?;
        // From here on the guard owns the bed, so a failure below still tears it down.
        let mut bed = Bed { name, env: HashMap::new(), truth: Vec::new(), profile: profile.to_string() };
        if !out.status.success() {
            return Err(format!("testbed up failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((k, v)) = line.split_once('=') {
                // Values carry no quoting in --print-env; a trailing comment never appears there.
                bed.env.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        let truth_path = bed.var("TRUTH")?;
        let text = std::fs::read_to_string(&truth_path).map_err(|e| format!("{truth_path}: {e}"))?;
        bed.truth = text.lines().filter(|l| !l.trim().is_empty()).map(Truth::parse).collect::<Result<_, _>>()?;
        if bed.truth.is_empty() {
            return Err(format!("{truth_path} is empty"));
        }
        Ok(bed)
    }

    pub fn var(&self, key: &str) -> Result<String, String> {
        self.env.get(key).cloned().ok_or(format!("testbed --print-env gave no {key}"))
    }

    /// Middlebox behaviour of each bed address (services: none).
    pub fn behaviours(&self) -> HashMap<String, String> {
        self.truth.iter().filter_map(|t| t.behaviour.clone().map(|b| (t.addr.clone(), b))).collect()
    }

    /// Every address the bed serves (services and middleboxes), sorted.
    pub fn addresses(&self) -> Vec<String> {
        sorted_addrs(self.truth.iter().map(|t| t.addr.clone()))
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        let script = repo_root().join("scripts/testbed");
        let mut down = Command::new(script);
        down.args(["down", "--name", &self.name]);
        match run_bounded(down, BED_DOWN_LIMIT) {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!("testbed down {} failed: {}", self.name, String::from_utf8_lossy(&out.stderr)),
            Err(e) => eprintln!("testbed down {}: {e}", self.name),
        }
    }
}

fn sorted_addrs(addrs: impl Iterator<Item = String>) -> Vec<String> {
    let set: BTreeSet<std::net::Ipv4Addr> = addrs.filter_map(|a| a.parse().ok()).collect();
    set.into_iter().map(|a| a.to_string()).collect()
}

/// How a group's scan orders handshakes.
#[derive(Clone, Debug)]
pub enum Plan {
    /// `-handshakes LIST` for every port.
    Fixed(Vec<String>),
    /// `--plan port-aware --ports-table FILE` with this table.
    PortAware(BTreeMap<u16, String>),
}

/// The paper's order for IANA-assigned ports and for the rest (docs/cli.md, "Handshake plans").
const ASSIGNED_ORDER: [&str; 5] = ["wait", "tls", "http", "dns", "pptp"];
const EPHEMERAL_ORDER: [&str; 5] = ["wait", "http", "tls", "oracle", "pptp"];

impl Plan {
    /// The handshakes tried on a target on `port`, in order.
    pub fn list_for(&self, port: u16) -> Vec<String> {
        match self {
            Plan::Fixed(list) => list.clone(),
            Plan::PortAware(table) => match table.get(&port) {
                Some(first) => {
                    let mut list = vec![first.clone()];
                    list.extend(ASSIGNED_ORDER.iter().map(|s| s.to_string()).filter(|h| h != first));
                    list
                }
                None => EPHEMERAL_ORDER.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Plan::Fixed(list) => format!("-handshakes {}", list.join(",")),
            Plan::PortAware(table) => {
                let entries: Vec<String> = table.iter().map(|(p, h)| format!("{p}={h}")).collect();
                format!("--plan port-aware, table {}", entries.join(" "))
            }
        }
    }
}

/// One scan: a plan and the truth targets it checks exactly (indices into the bed's truth).
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub plan: Plan,
    /// HyperACKtive filtering probes (`-haf N`), 0 = off.
    pub haf: u8,
    pub members: Vec<usize>,
}

impl Group {
    /// Member addresses (sorted) and ports (sorted).
    pub fn addrs_and_ports(&self, truth: &[Truth]) -> (Vec<String>, Vec<u16>) {
        let addrs = sorted_addrs(self.members.iter().map(|&i| truth[i].addr.clone()));
        let ports: BTreeSet<u16> = self.members.iter().map(|&i| truth[i].port).collect();
        (addrs, ports.into_iter().collect())
    }

    /// The ports table file this group's scan needs (port-aware plans), in config/ports.toml's format.
    pub fn ports_table_text(&self) -> Option<String> {
        match &self.plan {
            Plan::PortAware(table) => {
                let mut text = String::from("# written by tests/e2e_testbed.rs for one scan group\n[ports]\n");
                for (port, handshake) in table {
                    text.push_str(&format!("{port} = \"{handshake}\"\n"));
                }
                Some(text)
            }
            Plan::Fixed(_) => None,
        }
    }
}

type Pairs = BTreeSet<(String, u16)>;
/// A port-aware group being packed: its ports table, the pairs it holds, its members.
type Packing = (BTreeMap<u16, String>, Pairs, Vec<usize>);

/// Splits the truth into scan groups (module docs): every truth line is a member of exactly one group.
pub fn plan_groups(truth: &[Truth]) -> Vec<Group> {
    let mut original = Group {
        name: "original".into(),
        plan: Plan::Fixed(vec!["wait".into(), "http".into()]),
        haf: 5,
        members: Vec::new(),
    };
    let mut port_aware: Vec<Packing> = Vec::new();
    let mut fixed: BTreeMap<String, (Pairs, Vec<usize>)> = BTreeMap::new();
    let mut fixed_extra: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, t) in truth.iter().enumerate() {
        let answers = t.outcome == "data";
        if !t.is_service() || (answers && (t.handshake == "wait" || t.handshake == "http")) {
            original.members.push(i);
        } else if answers {
            // First port-aware group whose table agrees on this port and that does not hold this pair yet.
            let slot = port_aware.iter_mut().find(|(table, pairs, _)| {
                table.get(&t.port).map_or(true, |h| *h == t.handshake) && !pairs.contains(&t.pair())
            });
            match slot {
                Some((table, pairs, members)) => {
                    table.insert(t.port, t.handshake.clone());
                    pairs.insert(t.pair());
                    members.push(i);
                }
                None => port_aware.push((
                    BTreeMap::from([(t.port, t.handshake.clone())]),
                    BTreeSet::from([t.pair()]),
                    vec![i],
                )),
            }
        } else {
            let entry = fixed.entry(t.handshake.clone()).or_default();
            if entry.0.insert(t.pair()) {
                entry.1.push(i);
            } else {
                fixed_extra.push((t.handshake.clone(), vec![i]));
            }
        }
    }
    let mut groups = vec![original];
    for (n, (table, _, members)) in port_aware.into_iter().enumerate() {
        groups.push(Group { name: format!("port-aware {}", n + 1), plan: Plan::PortAware(table), haf: 0, members });
    }
    for (handshake, members) in fixed.into_iter().map(|(h, (_, m))| (h, m)).chain(fixed_extra) {
        groups.push(Group { name: format!("fixed {handshake}"), plan: Plan::Fixed(vec![handshake]), haf: 0, members });
    }
    groups
}

/// How the targets reach lzr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `-sendSYNs`, `ip:port` lines on stdin.
    List,
    /// `--targets ADDRS --ports PORTS`: every pair of the group's addresses and ports.
    Generator,
    /// Debian's zmap opens the handshakes; its JSON lines are piped into lzr.
    Zmap,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::List => "list",
            Mode::Generator => "generator",
            Mode::Zmap => "zmap",
        }
    }
}

/// The interesting part of one output record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Got {
    pub fingerprint: String,
    pub outcome: String,
    pub handshake: String,
}

impl Got {
    pub fn from_record(v: &Value) -> Got {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let fingerprint = s("fingerprint");
        Got {
            // The original omits an empty fingerprint; treat it as `unknown`, which is what it means.
            fingerprint: if fingerprint.is_empty() { "unknown".into() } else { fingerprint },
            outcome: s("outcome"),
            handshake: s("handshake"),
        }
    }

    pub fn show(&self) -> String {
        format!("({}, {}, {})", self.fingerprint, self.outcome, self.handshake)
    }
}

/// What one (address, port) must show in one scan.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Exactly one record with these fields; `None` fields are checked by the general rules only.
    Record { fingerprint: Option<String>, outcome: String, handshake: Option<String> },
    /// No record, or one saying `no_synack` (nothing answers the SYN; lzr keeps no state for silence).
    Silent,
    /// No record at all (ZMap mode: ZMap reports only SYN-ACKs).
    Absent,
    /// A truth target of another group: one record of a connected flow (compared exactly in its group).
    Connected,
}

impl Expect {
    pub fn show(&self) -> String {
        match self {
            Expect::Record { fingerprint, outcome, handshake } => format!(
                "({}, {}, {})",
                fingerprint.as_deref().unwrap_or("*"),
                outcome,
                handshake.as_deref().unwrap_or("any of the list")
            ),
            Expect::Silent => "no record (or no_synack)".into(),
            Expect::Absent => "no record".into(),
            Expect::Connected => "one record of a connected flow (checked in its own group)".into(),
        }
    }
}

/// The expectation for a member `t` of `group` scanned in `mode`.
pub fn expect_member(t: &Truth, group: &Group, mode: Mode) -> Expect {
    let list = group.plan.list_for(t.port);
    let first = list.first().cloned();
    match t.outcome.as_str() {
        "no_synack" if mode == Mode::Zmap => Expect::Absent,
        "no_synack" => Expect::Silent,
        "closed" if mode == Mode::Zmap => Expect::Absent,
        outcome if t.is_service() => Expect::Record {
            fingerprint: Some(t.expect.clone()),
            outcome: outcome.to_string(),
            // A banner answers whichever handshake comes first; a client-first server answers its probe,
            // which the group put first (or after `wait`, which draws nothing from it).
            handshake: if t.handshake == "wait" { first } else { Some(t.handshake.clone()) },
        },
        // Middleboxes: the outcome is the truth; the handshake that ends the flow depends on the behaviour
        // (a silent sink goes through the whole list), so only membership of the list is checked.
        outcome => Expect::Record { fingerprint: None, outcome: outcome.to_string(), handshake: None },
    }
}

/// The expectation for a pair no truth line names, on an address with `behaviour` (None: a real server).
pub fn expect_other(behaviour: Option<&str>, group: &Group, port: u16, mode: Mode) -> Expect {
    let first = group.plan.list_for(port).first().cloned();
    match behaviour {
        Some("filtered" | "icmp_prohibited" | "absent") => Expect::Silent,
        // SYNPROXY answers every port's SYN itself, with window 0.
        Some("synproxy") => Expect::Record { fingerprint: Some("unknown".into()), outcome: "zero_window".into(), handshake: first },
        // Every port SYN-ACKs and acknowledges data: labelled once HyperACKtive probes go out (second handshake).
        Some("acking_firewall") if group.haf > 0 && group.plan.list_for(port).len() > 1 => {
            Expect::Record { fingerprint: Some("unknown".into()), outcome: "acking_firewall".into(), handshake: None }
        }
        Some("acking_firewall") => Expect::Record { fingerprint: Some("unknown".into()), outcome: "acked_no_data".into(), handshake: None },
        _ if mode == Mode::Zmap => Expect::Absent,
        _ => Expect::Record { fingerprint: Some("unknown".into()), outcome: "closed".into(), handshake: first },
    }
}

/// One comparison that failed.
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub target: String,
    pub expected: String,
    pub got: String,
}

/// Compares the records of one group's scan. `scanned`: every (address, port) the scan reached.
/// Returns (pairs compared, mismatches).
pub fn compare(
    bed: &Bed,
    group: &Group,
    mode: Mode,
    scanned: &BTreeSet<(String, u16)>,
    records: &[Value],
) -> (usize, Vec<Mismatch>) {
    let members: HashMap<(String, u16), usize> = group.members.iter().map(|&i| (bed.truth[i].pair(), i)).collect();
    let all_truth: HashMap<(String, u16), usize> = bed.truth.iter().enumerate().map(|(i, t)| (t.pair(), i)).collect();
    let behaviours = bed.behaviours();
    let mut by_pair: BTreeMap<(String, u16), Vec<Got>> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for r in records {
        let addr = r.get("saddr").and_then(Value::as_str).unwrap_or("?").to_string();
        let port = r.get("sport").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()).unwrap_or(0);
        by_pair.entry((addr, port)).or_default().push(Got::from_record(r));
    }
    for pair in by_pair.keys() {
        if !scanned.contains(pair) {
            mismatches.push(Mismatch {
                target: format!("{}:{}", pair.0, pair.1),
                expected: "nothing (not a scanned target)".into(),
                got: by_pair[pair].iter().map(Got::show).collect::<Vec<_>>().join(" "),
            });
        }
    }
    for pair in scanned {
        let (expect, label) = match (members.get(pair), all_truth.get(pair)) {
            (Some(&i), _) => (expect_member(&bed.truth[i], group, mode), bed.truth[i].describe()),
            (None, Some(&i)) => (Expect::Connected, bed.truth[i].describe()),
            (None, None) => {
                let behaviour = behaviours.get(&pair.0).map(String::as_str);
                (
                    expect_other(behaviour, group, pair.1, mode),
                    format!("{}:{} (not in truth; address: {})", pair.0, pair.1, behaviour.unwrap_or("real server")),
                )
            }
        };
        let got = by_pair.get(pair).cloned().unwrap_or_default();
        let list = group.plan.list_for(pair.1);
        if let Some(why) = judge(&expect, &got, &list) {
            mismatches.push(Mismatch {
                target: label,
                expected: expect.show(),
                got: if got.is_empty() { "no record".into() } else { format!("{} [{why}]", got.iter().map(Got::show).collect::<Vec<_>>().join(" ")) },
            });
        }
    }
    (scanned.len(), mismatches)
}

/// None when `got` satisfies `expect`; otherwise why not.
fn judge(expect: &Expect, got: &[Got], list: &[String]) -> Option<String> {
    // Rules every record obeys: one record per target, a handshake of the target's list, and a label only
    // when there is data.
    if got.len() > 1 {
        return Some(format!("{} records for one target", got.len()));
    }
    if let Some(g) = got.first() {
        if !list.contains(&g.handshake) {
            return Some(format!("handshake {:?} is not in the target's list {list:?}", g.handshake));
        }
        if g.outcome != "data" && g.fingerprint != "unknown" {
            return Some("a label without data".into());
        }
    }
    match (expect, got.first()) {
        (Expect::Absent, None) | (Expect::Silent, None) => None,
        (Expect::Silent, Some(g)) if g.outcome == "no_synack" => None,
        (Expect::Absent | Expect::Silent, Some(_)) => Some("unexpected record".into()),
        (Expect::Record { .. } | Expect::Connected, None) => Some("missing".into()),
        (Expect::Connected, Some(g)) => {
            (matches!(g.outcome.as_str(), "no_synack" | "closed" | "zero_window")).then(|| "not connected".into())
        }
        (Expect::Record { fingerprint, outcome, handshake }, Some(g)) => {
            let mut wrong = Vec::new();
            if fingerprint.as_ref().is_some_and(|f| *f != g.fingerprint) {
                wrong.push("fingerprint");
            }
            if *outcome != g.outcome {
                wrong.push("outcome");
            }
            if handshake.as_ref().is_some_and(|h| *h != g.handshake) {
                wrong.push("handshake");
            }
            (!wrong.is_empty()).then(|| format!("wrong {}", wrong.join(", ")))
        }
    }
}

/// Numbers from lzr's exit summary (stderr): targets read and records written.
pub fn summary_counts(stderr: &str) -> (Option<u64>, Option<u64>) {
    let after = |prefix: &str| {
        stderr.lines().find_map(|l| l.trim().strip_prefix(prefix).and_then(|rest| rest.split_whitespace().next()?.parse().ok()))
    };
    (after("targets:"), after("records written:"))
}

/// The summary part of lzr's stderr (from the original's `Runtime:` line on), for failure messages.
pub fn summary_tail(stderr: &str) -> String {
    match stderr.find("Runtime:") {
        Some(at) => stderr[at..].to_string(),
        None => stderr.to_string(),
    }
}

/// Reads an output file of JSON lines; a line that is not JSON is an error (lzr must write valid lines).
pub fn read_records(path: &Path) -> Result<Vec<Value>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("bad record line {l:?}: {e}")))
        .collect()
}

/// Waits (bounded) until `probe` returns true.
pub fn wait_until(timeout: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if probe() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
