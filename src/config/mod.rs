//! One validated campaign: what to scan, how, and where the results go.
//!
//! A campaign comes from up to two [`CampaignLayer`]s, a TOML file (`--config`) and the command line, merged
//! with the command line winning, then checked key by key into [`Campaign`]. Every error names the key it is
//! about (`timers.timeout_ms: must be at least 1`), including unknown keys in the file. Defaults are the
//! original's (reference §2, §12): `t=5s`, `rt=1s`, `rn=1`, `c=8s`, `http`, `-f default_<time>.json`.
//! The validated campaign serialises back to a layer (`--print-config`), which parses to the same campaign.

pub mod layer;
pub mod plan;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

pub use layer::{CampaignLayer, FilterLayer, GeneratorLayer, HafLayer, NetworkLayer, TimersLayer};
pub use plan::{handshake_index, handshake_name, HandshakePlan, PlanKind, PortTable};

use crate::input::addrset::{AddrSet, AddrSetBuilder, AddressPolicy};
use crate::input::generator::{parse_ports, Generator, GeneratorError, Shard, TargetSpace};
use crate::input::InputFormat;
use crate::output::{Ipv6Style, OutputFormat};

/// The original's User-Agent at HEAD (reference §6.3; yes, it ends in `537.3`).
pub const DEFAULT_USER_AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.3";

/// A campaign error: the key and what is wrong with its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CampaignError {
    /// Dotted key (`timers.timeout_ms`), or the file for a file that cannot be read or parsed.
    pub key: String,
    pub message: String,
}

impl CampaignError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        CampaignError { key: key.into(), message: message.into() }
    }
}

impl fmt::Display for CampaignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl std::error::Error for CampaignError {}

/// Where targets come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// ZMap JSON lines on stdin (the original's default).
    Zmap,
    /// Target list on stdin (`-sendSYNs`).
    List,
    /// `zmap --dryrun` text on stdin (`-dryrun`).
    DryRun,
    /// The built-in generator.
    Generator,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::Zmap, Mode::List, Mode::DryRun, Mode::Generator];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Zmap => "zmap",
            Mode::List => "list",
            Mode::DryRun => "dryrun",
            Mode::Generator => "generator",
        }
    }

    pub fn from_name(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The stdin format, for the modes that read stdin.
    pub fn input_format(self) -> Option<InputFormat> {
        match self {
            Mode::Zmap => Some(InputFormat::Zmap),
            Mode::List => Some(InputFormat::List),
            Mode::DryRun => Some(InputFormat::DryRun),
            Mode::Generator => None,
        }
    }

    /// True when lzr sends the first SYN itself.
    pub fn sends_syns(self) -> bool {
        self != Mode::Zmap
    }
}

/// When the live status line is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusMode {
    /// Every second when stderr is a terminal.
    Auto,
    On,
    Off,
}

impl StatusMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusMode::Auto => "auto",
            StatusMode::On => "on",
            StatusMode::Off => "off",
        }
    }
    pub fn from_name(s: &str) -> Option<StatusMode> {
        [StatusMode::Auto, StatusMode::On, StatusMode::Off].into_iter().find(|m| m.as_str() == s)
    }
}

/// Retransmission and expiry timers, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// The last wait: SYN timeouts and the wait after the data retransmission (`-t`).
    pub timeout_ms: u64,
    /// Delay before the first data retransmission (`-rt`).
    pub retransmit_delay_ms: u64,
    /// Retransmissions of data and SYNs (`-rn`).
    pub retransmits: u8,
    /// Wait after input ends before the run may finish (`-c`).
    pub cooldown_ms: u64,
}

/// HyperACKtive filtering (ACKing-firewall detection).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Haf {
    /// Random-port probes per host; 0 disables.
    pub probes: u8,
    /// Fraction of probes that must be answered: label when answered ≥ ceil(threshold × probes).
    pub threshold: f64,
}

impl Haf {
    /// The number of answered probes that labels a host (the fixed comparison of reference §5.6).
    pub fn needed(&self) -> u32 {
        // The epsilon keeps 0.7 × 10 (7.000000000000001 in binary) at 7.
        ((self.threshold * f64::from(self.probes) - 1e-9).ceil() as u32).max(1)
    }
}

/// Addresses, NIC and EAL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub source_ipv4: Option<Ipv4Addr>,
    pub source_ipv6: Option<Ipv6Addr>,
    /// Next-hop MAC; None = resolve by ARP/NDP.
    pub gateway_mac: Option<[u8; 6]>,
    /// The gateway's address, resolved by ARP/NDP at start when `gateway_mac` is absent.
    pub gateway_ip: Option<IpAddr>,
    /// ZMap pipe mode on a DPDK-bound NIC: name of the tap interface lzr creates for ZMap to send on.
    pub zmap_tap: Option<String>,
    /// PCI address or DPDK vdev string.
    pub device: Option<String>,
    pub eal_args: Vec<String>,
}

/// The generator's settings, checked and parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratorSpec {
    pub targets: Vec<String>,
    pub targets_file: Option<String>,
    /// As written (for printing), and parsed.
    pub ports_text: String,
    pub ports: Vec<u16>,
    pub shard: Shard,
    pub seed: Option<u64>,
    /// Targets after the allow and block lists.
    pub addresses: AddrSet,
}

/// The allow/block lists as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterSpec {
    pub allow: Vec<String>,
    pub allow_file: Option<String>,
    pub block: Vec<String>,
    pub block_file: Option<String>,
}

/// A validated campaign.
#[derive(Clone, Debug)]
pub struct Campaign {
    pub mode: Mode,
    /// The handshake list as given (`fixed` plan; the default preference list for fingerprint ties).
    pub handshakes: Vec<String>,
    pub plan: HandshakePlan,
    pub ports_table: Option<String>,
    /// Tie-break preference for fingerprints; empty = the handshakes being tried.
    pub priority_fingerprint: Vec<String>,
    pub timers: Timers,
    pub force_all: bool,
    pub push_data_only: bool,
    pub only_data_record: bool,
    /// Stop trying handshakes on a host that never acknowledged our data (the paper's rule).
    pub stop_when_unacked: bool,
    pub feed_zgrab: bool,
    pub haf: Haf,
    /// Output path, `-` for stdout.
    pub output: String,
    pub output_format: OutputFormat,
    pub ipv6_format: Ipv6Style,
    pub ipv6: bool,
    pub network: Network,
    pub workers: u16,
    /// New targets (first SYNs) per second.
    pub rate: u64,
    pub burst: u32,
    pub user_agent: String,
    /// Bytes of server data kept per record.
    pub data_cap: u16,
    /// Flows each worker can track at once.
    pub flow_capacity: u32,
    pub status: StatusMode,
    pub debug: bool,
    pub generator: Option<GeneratorSpec>,
    pub filter: FilterSpec,
    /// Allow/block lists and the default blocklist, ready for lookups.
    pub policy: AddressPolicy,
}

fn err<T>(key: &str, msg: impl Into<String>) -> Result<T, CampaignError> {
    Err(CampaignError::new(key, msg))
}

fn bool_or(v: Option<bool>, d: bool) -> bool {
    v.unwrap_or(d)
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (slot, p) in mac.iter_mut().zip(parts) {
        if p.len() != 2 {
            return None;
        }
        *slot = u8::from_str_radix(p, 16).ok()?;
    }
    Some(mac)
}

/// Formats a MAC as `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// `0000:01:00.0`, `01:00.0` (PCI), or a DPDK vdev (`net_tap0,iface=lzr0`, `net_af_packet0,iface=veth0`, ...).
fn valid_device(s: &str) -> bool {
    let is_pci = {
        let hexes = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_hexdigit());
        let (bus_dev, func) = s.split_once('.').unwrap_or((s, ""));
        let f_ok = func.len() == 1 && func.bytes().all(|b| (b'0'..=b'7').contains(&b));
        let parts: Vec<&str> = bus_dev.split(':').collect();
        f_ok && match parts.as_slice() {
            [dom, bus, dev] => hexes(dom, 4) && hexes(bus, 2) && hexes(dev, 2),
            [bus, dev] => hexes(bus, 2) && hexes(dev, 2),
            _ => false,
        }
    };
    let is_vdev = s.starts_with("net_") && s.len() > 4 && !s.contains(char::is_whitespace);
    is_pci || is_vdev
}

/// Reads a file of address specs (one per line, `#` comments), naming the file and line on error.
fn read_spec_file(key: &str, path: &str, into: &mut AddrSetBuilder) -> Result<(), CampaignError> {
    let text = std::fs::read_to_string(path).map_err(|e| CampaignError::new(key, format!("cannot read {path}: {e}")))?;
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        into.add_spec(line).map_err(|e| CampaignError::new(key, format!("{path}:{}: {e}", i + 1)))?;
    }
    Ok(())
}

fn spec_set(key: &str, specs: &[String], file_key: &str, file: Option<&str>) -> Result<AddrSet, CampaignError> {
    let mut b = AddrSetBuilder::default();
    for (i, s) in specs.iter().enumerate() {
        b.add_spec(s).map_err(|e| CampaignError::new(format!("{key}[{i}]"), e.to_string()))?;
    }
    if let Some(path) = file {
        read_spec_file(file_key, path, &mut b)?;
    }
    Ok(b.build())
}

fn default_output_name() -> String {
    // The original's `default_YYYYMMDDhhmmss.json`, in local time.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let stamp = crate::output::TimeFormatter::new(crate::output::Zone::Local).format(now);
    let digits: String = stamp.chars().take(19).filter(char::is_ascii_digit).collect();
    format!("default_{digits}.json")
}

impl Campaign {
    /// Reads and parses a campaign file; relative input paths in it are taken relative to its folder.
    pub fn load_file(path: &Path) -> Result<CampaignLayer, CampaignError> {
        let key = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| CampaignError::new(&key, format!("cannot read: {e}")))?;
        let mut layer = CampaignLayer::from_toml(&text).map_err(|e| CampaignError::new(&key, e.to_string().trim_end().to_owned()))?;
        if let Some(dir) = path.parent() {
            layer.rebase_paths(dir);
        }
        Ok(layer)
    }

    /// Merges the file layer (if any) under the command-line layer and validates.
    pub fn from_layers(file: Option<CampaignLayer>, flags: CampaignLayer) -> Result<Campaign, CampaignError> {
        let merged = match file {
            Some(f) => f.merge(flags),
            None => flags,
        };
        Campaign::validate(merged)
    }

    /// Validates one layer, filling defaults.
    pub fn validate(l: CampaignLayer) -> Result<Campaign, CampaignError> {
        let has_generator_targets = l.generator.targets.is_some() || l.generator.targets_file.is_some();
        let mode = match l.mode.as_deref() {
            Some(m) => Mode::from_name(m).ok_or_else(|| CampaignError::new("mode", format!("unknown mode {m:?} (zmap, list, dryrun, generator)")))?,
            None if has_generator_targets => Mode::Generator,
            None => Mode::Zmap,
        };

        let plan_kind = match l.plan.as_deref() {
            Some(p) => PlanKind::from_name(p)
                .ok_or_else(|| CampaignError::new("plan", format!("unknown plan {p:?} (fixed, assigned, ephemeral, port-aware)")))?,
            None => PlanKind::Fixed,
        };
        let handshakes = match (&l.handshakes, plan_kind) {
            (Some(h), _) => h.clone(),
            (None, PlanKind::Fixed) => vec!["http".to_owned()],
            (None, PlanKind::Assigned | PlanKind::PortAware) => plan::ASSIGNED_ORDER.iter().map(|s| s.to_string()).collect(),
            (None, PlanKind::Ephemeral) => plan::EPHEMERAL_ORDER.iter().map(|s| s.to_string()).collect(),
        };
        if handshakes.is_empty() {
            return err("handshakes", "at least one handshake is needed");
        }
        if handshakes.len() > 64 {
            return err("handshakes", "at most 64 handshakes");
        }
        let indices = plan::resolve_names(&handshakes)
            .map_err(|bad| CampaignError::new("handshakes", format!("handshake not found: {bad:?} (known: {})", crate::handshakes::registry::names().collect::<Vec<_>>().join(" "))))?;
        if l.handshakes.is_some() && matches!(plan_kind, PlanKind::Assigned | PlanKind::Ephemeral | PlanKind::PortAware) {
            return err("plan", format!("plan {:?} sets its own handshakes; drop `handshakes` or use plan \"fixed\"", plan_kind.as_str()));
        }
        if l.ports_table.is_some() && plan_kind != PlanKind::PortAware {
            return err("ports_table", "only used by plan \"port-aware\"");
        }
        let plan = match plan_kind {
            PlanKind::Fixed => HandshakePlan::fixed(indices),
            PlanKind::Assigned => HandshakePlan::assigned(),
            PlanKind::Ephemeral => HandshakePlan::ephemeral(),
            PlanKind::PortAware => {
                let table = match &l.ports_table {
                    Some(path) => {
                        let text = std::fs::read_to_string(path)
                            .map_err(|e| CampaignError::new("ports_table", format!("cannot read {path}: {e}")))?;
                        PortTable::parse(&text).map_err(|e| CampaignError::new("ports_table", format!("{path}: {e}")))?
                    }
                    None => PortTable::builtin(),
                };
                HandshakePlan::port_aware(&table)
            }
        };

        let priority_fingerprint = l.priority_fingerprint.clone().unwrap_or_default();
        plan::resolve_names(&priority_fingerprint)
            .map_err(|bad| CampaignError::new("priority_fingerprint", format!("handshake not found: {bad:?}")))?;

        let t = &l.timers;
        let timers = Timers {
            timeout_ms: t.timeout_ms.unwrap_or(5000),
            retransmit_delay_ms: t.retransmit_delay_ms.unwrap_or(1000),
            retransmits: u8::try_from(t.retransmits.unwrap_or(1))
                .ok()
                .filter(|&n| n <= 10)
                .ok_or_else(|| CampaignError::new("timers.retransmits", "must be 0-10"))?,
            cooldown_ms: t.cooldown_ms.unwrap_or(8000),
        };
        if timers.timeout_ms == 0 {
            return err("timers.timeout_ms", "must be at least 1");
        }
        if timers.retransmit_delay_ms == 0 {
            return err("timers.retransmit_delay_ms", "must be at least 1");
        }
        for (key, v) in [("timers.timeout_ms", timers.timeout_ms), ("timers.retransmit_delay_ms", timers.retransmit_delay_ms), ("timers.cooldown_ms", timers.cooldown_ms)] {
            if v > 3_600_000 {
                return err(key, "must be at most one hour (3600000 ms)");
            }
        }

        let force_all = bool_or(l.force_all, false);
        let threshold = l.haf.threshold.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&threshold) {
            return err("haf.threshold", "must be between 0 and 1");
        }
        let probes = u8::try_from(l.haf.probes.unwrap_or(0))
            .ok()
            .filter(|&n| n <= 64)
            .ok_or_else(|| CampaignError::new("haf.probes", "must be 0-64"))?;
        // As the original: trying every handshake disables HyperACKtive filtering.
        let haf = if force_all { Haf { probes: 0, threshold: 0.0 } } else { Haf { probes, threshold } };

        let output = l.output.clone().unwrap_or_else(default_output_name);
        if output.is_empty() {
            return err("output", "must be a path or - for stdout");
        }
        let output_format = match l.output_format.as_deref() {
            None => OutputFormat::default(),
            Some(s) => OutputFormat::from_name(s).ok_or_else(|| CampaignError::new("output_format", format!("unknown format {s:?} (extended, original)")))?,
        };
        let ipv6_format = match l.ipv6_format.as_deref() {
            None => Ipv6Style::default(),
            Some(s) => Ipv6Style::from_name(s).ok_or_else(|| CampaignError::new("ipv6_format", format!("unknown style {s:?} (exploded, compressed)")))?,
        };
        let ipv6 = bool_or(l.ipv6, false);

        let n = &l.network;
        let source_ipv4 = match &n.source_ipv4 {
            None => None,
            Some(s) => Some(s.parse::<Ipv4Addr>().map_err(|_| CampaignError::new("network.source_ipv4", format!("not an IPv4 address: {s:?}")))?),
        };
        let source_ipv6 = match &n.source_ipv6 {
            None => None,
            Some(s) => Some(s.parse::<Ipv6Addr>().map_err(|_| CampaignError::new("network.source_ipv6", format!("not an IPv6 address: {s:?}")))?),
        };
        let gateway_mac = match &n.gateway_mac {
            None => None,
            Some(s) => Some(parse_mac(s).ok_or_else(|| CampaignError::new("network.gateway_mac", format!("not a MAC address: {s:?}")))?),
        };
        let gateway_ip = match &n.gateway_ip {
            None => None,
            Some(s) => Some(s.parse::<IpAddr>().map_err(|_| CampaignError::new("network.gateway_ip", format!("not an IP address: {s:?}")))?),
        };
        if let Some(d) = &n.device {
            if !valid_device(d) {
                return err("network.device", format!("{d:?} is neither a PCI address (0000:01:00.0) nor a DPDK vdev (net_...)"));
            }
        }
        if let Some(t) = &n.zmap_tap {
            if t.is_empty() || t.len() > 15 || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                return err("network.zmap_tap", format!("{t:?} is not an interface name (1-15 letters, digits, - or _)"));
            }
        }
        let network = Network { source_ipv4, source_ipv6, gateway_mac, gateway_ip, zmap_tap: n.zmap_tap.clone(), device: n.device.clone(), eal_args: n.eal_args.clone().unwrap_or_default() };

        let workers = u16::try_from(l.workers.unwrap_or(1)).ok().filter(|w| (1..=128).contains(w)).ok_or_else(|| CampaignError::new("workers", "must be 1-128"))?;
        let rate = l.rate.unwrap_or(10_000);
        if rate == 0 {
            return err("rate", "must be at least 1 target per second");
        }
        let burst = l.burst.unwrap_or(64);
        if burst == 0 {
            return err("burst", "must be at least 1");
        }
        let data_cap = u16::try_from(l.data_cap.unwrap_or(1024)).ok().filter(|&c| c >= 1).ok_or_else(|| CampaignError::new("data_cap", "must be 1-65535 bytes"))?;
        let flow_capacity = l.flow_capacity.unwrap_or(1 << 20);
        if flow_capacity < 16 {
            return err("flow_capacity", "must be at least 16");
        }
        let user_agent = l.user_agent.clone().unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned());
        if user_agent.contains(['\r', '\n']) {
            return err("user_agent", "must not contain line breaks");
        }
        let status = match l.status.as_deref() {
            None => StatusMode::Auto,
            Some(s) => StatusMode::from_name(s).ok_or_else(|| CampaignError::new("status", format!("unknown value {s:?} (auto, on, off)")))?,
        };

        let f = &l.filter;
        let filter = FilterSpec {
            allow: f.allow.clone().unwrap_or_default(),
            allow_file: f.allow_file.clone(),
            block: f.block.clone().unwrap_or_default(),
            block_file: f.block_file.clone(),
        };
        let allow = spec_set("filter.allow", &filter.allow, "filter.allow_file", filter.allow_file.as_deref())?;
        let block = spec_set("filter.block", &filter.block, "filter.block_file", filter.block_file.as_deref())?;
        let policy = AddressPolicy::new(allow, block);

        let g = &l.generator;
        let generator = if mode == Mode::Generator {
            let targets = g.targets.clone().unwrap_or_default();
            if targets.is_empty() && g.targets_file.is_none() {
                return err("generator.targets", "generator mode needs targets (or generator.targets_file)");
            }
            let ports_text = g.ports.clone().ok_or_else(|| CampaignError::new("generator.ports", "generator mode needs ports, e.g. \"80,443\""))?;
            let ports = parse_ports(&ports_text).map_err(|e| CampaignError::new("generator.ports", e.0))?;
            let shard = match &g.shard {
                None => Shard::default(),
                Some(s) => s.parse::<Shard>().map_err(|e| CampaignError::new("generator.shard", e.0))?,
            };
            if shard.count > 1 && g.seed.is_none() {
                return err("generator.seed", "sharded scans need the same explicit seed on every shard");
            }
            let raw = spec_set("generator.targets", &targets, "generator.targets_file", g.targets_file.as_deref())?;
            let addresses = policy.filter(&raw);
            if addresses.is_empty() {
                return err(
                    "generator.targets",
                    "no target is left after the allow and block lists (reserved ranges such as 198.18.0.0/15 must be allowed explicitly in filter.allow)",
                );
            }
            TargetSpace::new(&addresses, &ports).map_err(|e| CampaignError::new("generator.targets", e.0))?;
            Some(GeneratorSpec { targets, targets_file: g.targets_file.clone(), ports_text, ports, shard, seed: g.seed, addresses })
        } else {
            let stray = [("generator.targets", g.targets.is_some()), ("generator.targets_file", g.targets_file.is_some()), ("generator.ports", g.ports.is_some()), ("generator.shard", g.shard.is_some()), ("generator.seed", g.seed.is_some())];
            if let Some((key, _)) = stray.iter().find(|(_, set)| *set) {
                return err(key, format!("only used in generator mode (mode is {:?})", mode.as_str()));
            }
            None
        };

        // Sources for the SYNs we send ourselves. In ZMap mode the scanner address comes from each line.
        if mode.sends_syns() {
            match &generator {
                Some(spec) => {
                    if !spec.addresses.v4.is_empty() && network.source_ipv4.is_none() {
                        return err("network.source_ipv4", "IPv4 targets need a source IPv4 address (-sourceIP)");
                    }
                    if !spec.addresses.v6.is_empty() && network.source_ipv6.is_none() {
                        return err("network.source_ipv6", "IPv6 targets need a source IPv6 address (-sourceIP)");
                    }
                }
                None if ipv6 && network.source_ipv6.is_none() => {
                    return err("network.source_ipv6", format!("mode {:?} with ipv6 needs a source IPv6 address (-sourceIP)", mode.as_str()));
                }
                None if !ipv6 && network.source_ipv4.is_none() => {
                    return err("network.source_ipv4", format!("mode {:?} needs a source IPv4 address (-sourceIP)", mode.as_str()));
                }
                None => {}
            }
        }

        Ok(Campaign {
            mode,
            handshakes,
            plan,
            ports_table: l.ports_table.clone(),
            priority_fingerprint,
            timers,
            force_all,
            push_data_only: bool_or(l.push_data_only, false),
            only_data_record: bool_or(l.only_data_record, false),
            stop_when_unacked: bool_or(l.stop_when_unacked, true),
            feed_zgrab: bool_or(l.feed_zgrab, false),
            haf,
            output,
            output_format,
            ipv6_format,
            ipv6,
            network,
            workers,
            rate,
            burst,
            user_agent,
            data_cap,
            flow_capacity,
            status,
            debug: bool_or(l.debug, false),
            generator,
            filter,
            policy,
        })
    }

    /// The campaign as a complete layer (every key set), for printing or saving.
    pub fn to_layer(&self) -> CampaignLayer {
        let some_list = |v: &Vec<String>| if v.is_empty() { None } else { Some(v.clone()) };
        let plan_sets_handshakes = self.plan.kind() != PlanKind::Fixed;
        CampaignLayer {
            mode: Some(self.mode.as_str().into()),
            handshakes: if plan_sets_handshakes { None } else { Some(self.handshakes.clone()) },
            plan: Some(self.plan.kind().as_str().into()),
            ports_table: self.ports_table.clone(),
            priority_fingerprint: some_list(&self.priority_fingerprint),
            force_all: Some(self.force_all),
            push_data_only: Some(self.push_data_only),
            only_data_record: Some(self.only_data_record),
            stop_when_unacked: Some(self.stop_when_unacked),
            feed_zgrab: Some(self.feed_zgrab),
            output: Some(self.output.clone()),
            output_format: Some(self.output_format.as_str().into()),
            ipv6_format: Some(self.ipv6_format.as_str().into()),
            ipv6: Some(self.ipv6),
            workers: Some(u32::from(self.workers)),
            rate: Some(self.rate),
            burst: Some(self.burst),
            user_agent: Some(self.user_agent.clone()),
            data_cap: Some(u32::from(self.data_cap)),
            flow_capacity: Some(self.flow_capacity),
            status: Some(self.status.as_str().into()),
            debug: Some(self.debug),
            timers: TimersLayer {
                timeout_ms: Some(self.timers.timeout_ms),
                retransmit_delay_ms: Some(self.timers.retransmit_delay_ms),
                retransmits: Some(u32::from(self.timers.retransmits)),
                cooldown_ms: Some(self.timers.cooldown_ms),
            },
            haf: HafLayer { probes: Some(u32::from(self.haf.probes)), threshold: Some(self.haf.threshold) },
            network: NetworkLayer {
                source_ipv4: self.network.source_ipv4.map(|a| a.to_string()),
                source_ipv6: self.network.source_ipv6.map(|a| a.to_string()),
                gateway_mac: self.network.gateway_mac.as_ref().map(format_mac),
                gateway_ip: self.network.gateway_ip.map(|a| a.to_string()),
                zmap_tap: self.network.zmap_tap.clone(),
                device: self.network.device.clone(),
                eal_args: some_list(&self.network.eal_args),
            },
            generator: match &self.generator {
                None => GeneratorLayer::default(),
                Some(g) => GeneratorLayer {
                    targets: some_list(&g.targets),
                    targets_file: g.targets_file.clone(),
                    ports: Some(g.ports_text.clone()),
                    shard: Some(g.shard.to_string()),
                    seed: g.seed,
                },
            },
            filter: FilterLayer {
                allow: some_list(&self.filter.allow),
                allow_file: self.filter.allow_file.clone(),
                block: some_list(&self.filter.block),
                block_file: self.filter.block_file.clone(),
            },
        }
    }

    /// The campaign as TOML (a valid campaign file).
    pub fn to_toml(&self) -> String {
        toml::to_string(&self.to_layer()).unwrap_or_else(|e| format!("# cannot render campaign: {e}\n"))
    }

    /// The generator for this campaign (None unless in generator mode). `seed` is used when the campaign has
    /// none (the runner passes a random one).
    pub fn build_generator(&self, seed: u64) -> Option<Result<Generator, GeneratorError>> {
        let spec = self.generator.as_ref()?;
        Some(TargetSpace::new(&spec.addresses, &spec.ports).and_then(|space| Generator::new(space, spec.shard, spec.seed.unwrap_or(seed))))
    }

    /// The source address for a target of this family, if configured.
    pub fn source_for(&self, target: IpAddr) -> Option<IpAddr> {
        match target {
            IpAddr::V4(_) => self.network.source_ipv4.map(IpAddr::V4),
            IpAddr::V6(_) => self.network.source_ipv6.map(IpAddr::V6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(toml_text: &str) -> CampaignLayer {
        CampaignLayer::from_toml(toml_text).unwrap()
    }

    fn check(toml_text: &str) -> Result<Campaign, CampaignError> {
        Campaign::validate(layer(toml_text))
    }

    fn key_of(toml_text: &str) -> String {
        check(toml_text).unwrap_err().key
    }

    #[test]
    fn defaults_are_the_originals() {
        let c = check("output = \"-\"").unwrap();
        assert_eq!(c.mode, Mode::Zmap);
        assert_eq!(c.handshakes, ["http"]);
        assert_eq!(c.timers, Timers { timeout_ms: 5000, retransmit_delay_ms: 1000, retransmits: 1, cooldown_ms: 8000 });
        assert_eq!((c.haf.probes, c.haf.threshold), (0, 1.0));
        assert!(c.stop_when_unacked && !c.force_all && !c.feed_zgrab);
        assert_eq!(c.user_agent, DEFAULT_USER_AGENT);
        let c = check("").unwrap();
        assert!(c.output.starts_with("default_") && c.output.ends_with(".json") && c.output.len() == "default_20231113123718.json".len(), "{}", c.output);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let e = CampaignLayer::from_toml("handshake = [\"http\"]").unwrap_err().to_string();
        assert!(e.contains("unknown field `handshake`"), "{e}");
        let e = CampaignLayer::from_toml("[timers]\ntimeout = 5").unwrap_err().to_string();
        assert!(e.contains("unknown field `timeout`"), "{e}");
        let e = CampaignLayer::from_toml("rate = \"fast\"").unwrap_err().to_string();
        assert!(e.contains("rate"), "{e}");
        assert_eq!(key_of("handshakes = [\"http\", \"ssl\"]"), "handshakes");
        assert_eq!(key_of("handshakes = []"), "handshakes");
        assert_eq!(key_of("priority_fingerprint = [\"ssl\"]"), "priority_fingerprint");
        assert_eq!(key_of("mode = \"pcap\""), "mode");
        assert_eq!(key_of("plan = \"best\""), "plan");
        assert_eq!(key_of("plan = \"assigned\"\nhandshakes = [\"http\"]"), "plan");
        assert_eq!(key_of("ports_table = \"x.toml\""), "ports_table");
        assert_eq!(key_of("[timers]\ntimeout_ms = 0"), "timers.timeout_ms");
        assert_eq!(key_of("[timers]\nretransmits = 11"), "timers.retransmits");
        assert_eq!(key_of("[haf]\nthreshold = 1.5"), "haf.threshold");
        assert_eq!(key_of("[haf]\nprobes = 300"), "haf.probes");
        assert_eq!(key_of("workers = 0"), "workers");
        assert_eq!(key_of("rate = 0"), "rate");
        assert_eq!(key_of("data_cap = 70000"), "data_cap");
        assert_eq!(key_of("status = \"loud\""), "status");
        assert_eq!(key_of("output_format = \"csv\""), "output_format");
        assert_eq!(key_of("[network]\nsource_ipv4 = \"::1\""), "network.source_ipv4");
        assert_eq!(key_of("[network]\ngateway_mac = \"aa:bb:cc\""), "network.gateway_mac");
        assert_eq!(key_of("[network]\ndevice = \"eth0\""), "network.device");
        assert_eq!(key_of("[filter]\nallow = [\"198.18.0.0/33\"]"), "filter.allow[0]");
        assert_eq!(key_of("[generator]\nports = \"80\""), "generator.ports");
        assert_eq!(key_of("mode = \"list\""), "network.source_ipv4");
        assert_eq!(key_of("mode = \"list\"\nipv6 = true\n[network]\nsource_ipv4 = \"198.18.0.1\""), "network.source_ipv6");
    }

    const GEN: &str = "[network]\nsource_ipv4 = \"198.18.0.1\"\n[generator]\ntargets = [\"198.18.1.0/24\"]\nports = \"80,443\"\n";

    #[test]
    fn generator_needs_reserved_ranges_allowed_explicitly() {
        let e = check(GEN).unwrap_err();
        assert_eq!(e.key, "generator.targets");
        assert!(e.message.contains("filter.allow"), "{e}");
        let c = check(&format!("{GEN}[filter]\nallow = [\"198.18.0.0/15\"]\nblock = [\"198.18.1.128/25\"]\n")).unwrap();
        assert_eq!(c.mode, Mode::Generator);
        let g = c.build_generator(9).unwrap().unwrap();
        assert_eq!(g.space().len(), 128 * 2);
        let all: Vec<_> = g.collect();
        assert_eq!(all.len(), 256);
        assert!(all.iter().all(|t| c.policy.permits(t.addr)));
        let e = check(&format!("{GEN}[filter]\nallow = [\"198.18.0.0/15\"]\n")
            .replace("[generator]", "[generator]\nshard = \"1/4\"")).unwrap_err();
        assert_eq!(e.key, "generator.seed");
        let e = check(&format!("{GEN}[filter]\nallow = [\"2001:db8::/32\"]\n").replace("198.18.1.0/24", "2001:db8::/120")).unwrap_err();
        assert_eq!(e.key, "network.source_ipv6");
        assert_eq!(key_of("[generator]\nseed = 5"), "generator.seed");
    }

    #[test]
    fn plans_resolve() {
        let c = check("plan = \"port-aware\"\noutput = \"-\"").unwrap();
        assert_eq!(c.plan.names_for_port(5432)[0], "postgres");
        assert_eq!(c.handshakes, plan::ASSIGNED_ORDER);
        let c = check("plan = \"ephemeral\"\noutput = \"-\"").unwrap();
        assert_eq!(c.plan.names_for_port(80), plan::EPHEMERAL_ORDER);
        let c = check("handshakes = [\"wait\", \"http\", \"tls\"]\noutput = \"-\"").unwrap();
        assert_eq!(c.plan.names_for_port(80), ["wait", "http", "tls"]);
    }

    #[test]
    fn flags_override_file_and_force_all_disables_haf() {
        let file = layer("handshakes = [\"tls\"]\nforce_all = false\n[haf]\nprobes = 5\n[timers]\ntimeout_ms = 3000");
        let flags = CampaignLayer {
            handshakes: Some(vec!["wait".into(), "http".into()]),
            force_all: Some(true),
            output: Some("-".into()),
            ..Default::default()
        };
        let c = Campaign::from_layers(Some(file), flags).unwrap();
        assert_eq!(c.handshakes, ["wait", "http"]);
        assert!(c.force_all);
        assert_eq!((c.haf.probes, c.haf.threshold), (0, 0.0));
        assert_eq!(c.timers.timeout_ms, 3000);
    }

    #[test]
    fn printed_campaign_parses_back_to_the_same_campaign() {
        let text = format!(
            "{GEN}shard = \"1/3\"\nseed = 77\n[filter]\nallow = [\"198.18.0.0/15\"]\n[haf]\nprobes = 5\nthreshold = 0.8\n"
        )
        .replace("[network]", "plan = \"port-aware\"\noutput = \"out.json\"\nworkers = 2\n[network]\ngateway_mac = \"AA-bb-cc-dd-ee-ff\"\ndevice = \"net_tap0,iface=lzr0\"\neal_args = [\"--no-huge\", \"-m\", \"256\"]");
        let c = check(&text).unwrap();
        let printed = c.to_toml();
        let again = check(&printed).unwrap();
        assert_eq!(again.to_toml(), printed);
        assert!(printed.contains("gateway_mac = \"aa:bb:cc:dd:ee:ff\""), "{printed}");
        assert_eq!(again.haf.needed(), 4);
        assert_eq!(Haf { probes: 10, threshold: 0.7 }.needed(), 7);
        assert_eq!(Haf { probes: 5, threshold: 1.0 }.needed(), 5);
        assert_eq!(Haf { probes: 5, threshold: 0.0 }.needed(), 1);
        assert_eq!(again.generator.as_ref().unwrap().shard, Shard { index: 1, count: 3 });
    }

    #[test]
    fn devices() {
        for ok in ["0000:01:00.0", "01:00.1", "net_tap0,iface=lzr0", "net_af_packet0,iface=veth1"] {
            assert!(valid_device(ok), "{ok}");
        }
        for bad in ["eth0", "0000:01:00", "01:00.8", "net_", "net_tap0 iface"] {
            assert!(!valid_device(bad), "{bad}");
        }
    }

    #[test]
    fn example_campaigns_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("campaign-") || !name.ends_with(".toml") {
                continue;
            }
            let layer = Campaign::load_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            Campaign::from_layers(Some(layer), CampaignLayer::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
            seen += 1;
        }
        assert!(seen >= 3, "expected the example campaigns in config/");
    }
}
