//! The command line: `lzr [scan flags]`, `lzr fingerprint …`, `lzr selftest …`.
//!
//! The original's flags keep working exactly as existing pipelines write them: Go's `flag` package accepts
//! `-name value`, `-name=value`, `--name value` and `--name=value`, and booleans as `-name` or `-name=false`.
//! Before clap sees argv, [`normalize_args`] rewrites every known flag written Go-style into clap's `--long`
//! form (renaming the original's camelCase flags to ours, e.g. `-sendSYNs` → `--send-syns`, `-rt` →
//! `--retransmit-delay`). Values are never rewritten. The scan flags become a [`CampaignLayer`] that is merged
//! over the `--config` file and validated into one [`Campaign`].

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::commands;
use crate::config::{Campaign, CampaignError, CampaignLayer};

const ABOUT: &str = "LZR on DPDK: finds the real services behind SYN-ACKs and names the protocol each one speaks";

const LONG_ABOUT: &str = "\
LZR on DPDK: finds the real services behind SYN-ACKs and names the protocol each one speaks.

Targets come from ZMap (JSON lines on stdin, the default), a target list on stdin (-sendSYNs), \
zmap --dryrun text (-dryrun), or the built-in generator (--targets/--ports). Results are JSON lines \
compatible with the original LZR, plus `outcome`, `handshake` and `data_b64`.";

const AFTER_HELP: &str = "\
Flags of the original LZR are accepted as written (-handshakes wait,http -sendSYNs -f out.json -t 5 ...).
Campaign files: --config FILE (TOML; flags override it). See docs/cli.md for every flag and key.

Examples:
  zmap -p 80 -O json -f saddr,daddr,sport,dport,seqnum,acknum,window ... | lzr -handshakes wait,http,tls -f out.json
  lzr -sendSYNs -sourceIP 192.0.2.1 --plan port-aware -f - < targets.txt
  lzr --targets 198.18.0.0/24 --ports 80,443 --allow 198.18.0.0/15 --source-ip 198.18.0.1 --print-config";

#[derive(Parser, Debug)]
#[command(name = "lzr", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
#[command(args_conflicts_with_subcommands = true, max_term_width = 110)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    scan: ScanArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fingerprint given data against every handshake module.
    Fingerprint(commands::fingerprint::Args),
    /// Check this machine and build: DPDK, ports, a loopback scan.
    Selftest(commands::selftest::Args),
}

/// Go's boolean syntax (`strconv.ParseBool`).
fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!("invalid boolean {s:?} (true/false)")),
    }
}

/// Scan flags. Booleans are `Option<bool>` so that an absent flag leaves the campaign file's value alone.
#[derive(clap::Args, Debug, Default)]
struct ScanArgs {
    // ----- The original's flags -----
    /// Handshakes to try, in order (comma list; original: -handshakes) [default: http]
    #[arg(long, value_name = "LIST", help_heading = "Original LZR flags")]
    handshakes: Option<String>,
    /// Preference list for multi-match fingerprints (original: -priorityFingerprint)
    #[arg(long, value_name = "LIST", help_heading = "Original LZR flags")]
    priority_fingerprint: Option<String>,
    /// Output file, `-` for stdout; appended to (original: -f) [default: default_<time>.json]
    #[arg(short = 'f', long, value_name = "PATH", help_heading = "Original LZR flags")]
    output: Option<String>,
    /// Print `saddr,,fingerprint,sport` lines for ZGrab2 on stdout (original: -feedZGrab)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Original LZR flags")]
    feed_zgrab: Option<bool>,
    /// Read a target list (ip:port, [v6]:port, ip;port) on stdin and send the SYNs (original: -sendSYNs)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Original LZR flags")]
    send_syns: Option<bool>,
    /// Read `zmap --dryrun` output on stdin and send the SYNs (original: -dryrun)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Original LZR flags")]
    dryrun: Option<bool>,
    /// Source address(es) for SYNs we send: one IPv4 and/or one IPv6, comma separated (original: -sourceIP)
    #[arg(long, value_name = "IP[,IP]", help_heading = "Original LZR flags")]
    source_ip: Option<String>,
    /// Next-hop MAC; resolved by ARP/NDP when absent (original: -gatewayMac)
    #[arg(long, value_name = "MAC", help_heading = "Original LZR flags")]
    gateway_mac: Option<String>,
    /// Gateway address to resolve by ARP/NDP when no gateway MAC is given
    #[arg(long, value_name = "IP", help_heading = "DPDK")]
    gateway_ip: Option<String>,
    /// ZMap pipe mode on a DPDK-bound NIC: create this tap for `zmap -i NAME` to send on
    #[arg(long, value_name = "NAME", help_heading = "DPDK")]
    zmap_tap: Option<String>,
    /// Kernel interface: lzr attaches DPDK's af_packet driver to it (original: -sendInterface; prefer --device)
    #[arg(long, value_name = "IFACE", help_heading = "Original LZR flags")]
    send_interface: Option<String>,
    /// New targets per second (original: -rate) [default: 10000]
    #[arg(long, value_name = "N", help_heading = "Original LZR flags")]
    rate: Option<u64>,
    /// HyperACKtive filtering: SYNs to this many random ports per host (original: -haf) [default: 0 = off]
    #[arg(long, value_name = "N", help_heading = "Original LZR flags")]
    haf: Option<u32>,
    /// Fraction of HAF probes that must answer to label an ACKing firewall (original: -hafThreshold) [default: 1]
    #[arg(long, value_name = "F", help_heading = "Original LZR flags")]
    haf_threshold: Option<f64>,
    /// Try every handshake even after data arrived; disables HAF (original: -forceAllHandshakes)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Original LZR flags")]
    force_all_handshakes: Option<bool>,
    /// Send the probe only on the retransmission, with PSH (original: -pushDataOnly)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Original LZR flags")]
    push_data_only: Option<bool>,
    /// Write only records that carry data; the summary still counts all (original: -onlyDataRecord)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Original LZR flags")]
    only_data_record: Option<bool>,
    /// Last-wait timeout in seconds (original: -t) [default: 5]
    #[arg(short = 't', long, value_name = "SECONDS", conflicts_with = "timeout_ms", help_heading = "Original LZR flags")]
    timeout: Option<u64>,
    /// Delay before the data retransmission, seconds (original: -rt) [default: 1]
    #[arg(long, value_name = "SECONDS", conflicts_with = "retransmit_delay_ms", help_heading = "Original LZR flags")]
    retransmit_delay: Option<u64>,
    /// Retransmissions of data and SYNs (original: -rn) [default: 1]
    #[arg(long, value_name = "N", help_heading = "Original LZR flags")]
    retransmits: Option<u32>,
    /// Cooldown after input ends, seconds (original: -c) [default: 8]
    #[arg(short = 'c', long, value_name = "SECONDS", conflicts_with = "cooldown_ms", help_heading = "Original LZR flags")]
    cooldown: Option<u64>,
    /// Worker cores (original: -w) [default: 1]
    #[arg(short = 'w', long, value_name = "N", help_heading = "Original LZR flags")]
    workers: Option<u32>,
    /// IPv6 mode: list/dry-run targets are IPv6 (original: -ipv6)
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Original LZR flags")]
    ipv6: Option<bool>,
    /// Debug logging, to stderr (original: -d, which wrote to stdout)
    #[arg(short = 'd', long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Original LZR flags")]
    debug: Option<bool>,
    /// Go profiling; accepted and ignored (use perf)
    #[arg(long, value_name = "FILE", hide_short_help = true, help_heading = "Original LZR flags")]
    cpuprofile: Option<String>,
    /// Go profiling; accepted and ignored
    #[arg(long, value_name = "FILE", hide_short_help = true, help_heading = "Original LZR flags")]
    memprofile: Option<String>,

    // ----- Ours -----
    /// Campaign file (TOML); flags override its keys
    #[arg(long, value_name = "FILE", help_heading = "Campaign")]
    config: Option<PathBuf>,
    /// Print the validated campaign as TOML and exit
    #[arg(long, action = ArgAction::SetTrue, help_heading = "Campaign")]
    print_config: bool,
    /// Where targets come from: zmap, list, dryrun, generator [default: zmap, or generator with --targets]
    #[arg(long, value_name = "MODE", help_heading = "Campaign")]
    mode: Option<String>,
    /// Handshake plan: fixed (--handshakes), assigned, ephemeral, port-aware [default: fixed]
    #[arg(long, value_name = "PLAN", help_heading = "Campaign")]
    plan: Option<String>,
    /// Port → protocol table for the port-aware plan [default: built in, see config/ports.toml]
    #[arg(long, value_name = "FILE", help_heading = "Campaign")]
    ports_table: Option<String>,
    /// Stop trying handshakes on a host that never acknowledged our data, as the paper does [default: true]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = parse_go_bool, help_heading = "Campaign")]
    stop_when_unacked: Option<bool>,
    /// Timeout in milliseconds (instead of -t)
    #[arg(long, value_name = "MS", help_heading = "Campaign")]
    timeout_ms: Option<u64>,
    /// Retransmission delay in milliseconds (instead of -rt)
    #[arg(long, value_name = "MS", help_heading = "Campaign")]
    retransmit_delay_ms: Option<u64>,
    /// Cooldown in milliseconds (instead of -c)
    #[arg(long, value_name = "MS", help_heading = "Campaign")]
    cooldown_ms: Option<u64>,
    /// Bytes of server data kept per record [default: 1024]
    #[arg(long, value_name = "BYTES", help_heading = "Campaign")]
    data_cap: Option<u32>,
    /// HTTP/IPP User-Agent [default: the original's]
    #[arg(long, value_name = "UA", help_heading = "Campaign")]
    user_agent: Option<String>,

    /// Generator targets: addresses, CIDRs, ranges a-b (comma list, repeatable)
    #[arg(long, value_name = "SPECS", action = ArgAction::Append, help_heading = "Generator")]
    targets: Vec<String>,
    /// File of generator targets, one spec per line
    #[arg(long, value_name = "FILE", help_heading = "Generator")]
    targets_file: Option<String>,
    /// Generator ports: 80,443,8000-8100
    #[arg(long, value_name = "LIST", help_heading = "Generator")]
    ports: Option<String>,
    /// This machine's part of the scan: i/n, 0-based (needs --seed)
    #[arg(long, value_name = "I/N", help_heading = "Generator")]
    shard: Option<String>,
    /// Permutation seed (same seed on every shard) [default: random]
    #[arg(long, value_name = "N", help_heading = "Generator")]
    seed: Option<u64>,
    /// Largest burst of SYNs the rate allows at once [default: 64]
    #[arg(long, value_name = "N", help_heading = "Generator")]
    burst: Option<u32>,
    /// Allowlist: only these ranges; lifts the default blocklist inside them (comma list, repeatable)
    #[arg(long, value_name = "SPECS", action = ArgAction::Append, help_heading = "Generator")]
    allow: Vec<String>,
    /// Allowlist file
    #[arg(long, value_name = "FILE", help_heading = "Generator")]
    allow_file: Option<String>,
    /// Blocklist, always excluded (comma list, repeatable)
    #[arg(long, value_name = "SPECS", action = ArgAction::Append, help_heading = "Generator")]
    block: Vec<String>,
    /// Blocklist file
    #[arg(long, value_name = "FILE", help_heading = "Generator")]
    block_file: Option<String>,

    /// NIC: PCI address (0000:01:00.0) or DPDK vdev (net_tap0,iface=lzr0)
    #[arg(long, value_name = "DEV", help_heading = "DPDK")]
    device: Option<String>,
    /// Extra EAL arguments, one string (e.g. "--no-huge -m 512")
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true, help_heading = "DPDK")]
    eal_args: Option<String>,
    /// Flows each worker can track [default: 1048576]
    #[arg(long, value_name = "N", help_heading = "DPDK")]
    flow_capacity: Option<u32>,

    /// Record keys: extended (original + outcome, handshake, data_b64) or original [default: extended]
    #[arg(long, value_name = "FORMAT", help_heading = "Output")]
    output_format: Option<String>,
    /// IPv6 addresses in output: exploded (as the original) or compressed [default: exploded]
    #[arg(long, value_name = "STYLE", help_heading = "Output")]
    ipv6_format: Option<String>,
    /// Live status line on stderr: auto (when a terminal), on, off [default: auto]
    #[arg(long, value_name = "WHEN", help_heading = "Output")]
    status: Option<String>,
}

/// The original's flag names (Go spelling) → our long names. Flags of ours are accepted single-dash too.
const GO_FLAGS: &[(&str, &str)] = &[
    ("handshakes", "handshakes"),
    ("priorityFingerprint", "priority-fingerprint"),
    ("f", "output"),
    ("feedZGrab", "feed-zgrab"),
    ("sendSYNs", "send-syns"),
    ("dryrun", "dryrun"),
    ("sourceIP", "source-ip"),
    ("gatewayMac", "gateway-mac"),
    ("sendInterface", "send-interface"),
    ("rate", "rate"),
    ("haf", "haf"),
    ("hafThreshold", "haf-threshold"),
    ("forceAllHandshakes", "force-all-handshakes"),
    ("pushDataOnly", "push-data-only"),
    ("onlyDataRecord", "only-data-record"),
    ("t", "timeout"),
    ("rt", "retransmit-delay"),
    ("rn", "retransmits"),
    ("c", "cooldown"),
    ("w", "workers"),
    ("ipv6", "ipv6"),
    ("d", "debug"),
    ("cpuprofile", "cpuprofile"),
    ("memprofile", "memprofile"),
];

/// Rewrites Go-style flags into clap's `--long` form. Subcommand invocations and everything after `--` are
/// left alone; values (the argument after a flag that takes one) are never rewritten.
pub fn normalize_args(args: Vec<OsString>) -> Vec<OsString> {
    let cmd = Cli::command();
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter();
    if let Some(prog) = iter.next() {
        out.push(prog);
    }
    let rest: Vec<OsString> = iter.collect();
    let is_subcommand = rest.first().and_then(|a| a.to_str()).is_some_and(|a| cmd.find_subcommand(a).is_some() || a == "help");
    if is_subcommand {
        out.extend(rest);
        return out;
    }
    // Long names of ours, and whether they take a separate value.
    let ours: Vec<(String, bool)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?.to_owned();
            let separate_value = a.get_action().takes_values() && !a.is_require_equals_set();
            Some((long, separate_value))
        })
        .collect();
    let lookup = |name: &str| -> Option<(String, bool)> {
        let long = GO_FLAGS.iter().find(|(go, _)| *go == name).map(|(_, l)| *l).unwrap_or(name);
        ours.iter().find(|(l, _)| l == long).cloned()
    };
    let mut rest = rest.into_iter();
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            out.push(arg);
            out.extend(rest.by_ref());
            break;
        }
        let stripped = text.strip_prefix("--").or_else(|| text.strip_prefix('-'));
        let Some(body) = stripped.filter(|b| !b.is_empty() && !b.starts_with('-')) else {
            out.push(arg);
            continue;
        };
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        match lookup(name) {
            Some((long, separate_value)) => {
                match value {
                    Some(v) => out.push(OsString::from(format!("--{long}={v}"))),
                    None => out.push(OsString::from(format!("--{long}"))),
                }
                if separate_value && value.is_none() {
                    if let Some(v) = rest.next() {
                        out.push(v);
                    }
                }
            }
            None => out.push(arg),
        }
    }
    out
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(|p| p.trim().to_owned()).collect()
}

fn split_specs(v: &[String]) -> Option<Vec<String>> {
    if v.is_empty() {
        return None;
    }
    Some(v.iter().flat_map(|s| s.split(',')).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
}

fn secs_to_ms(flag: &str, secs: u64) -> Result<u64, CampaignError> {
    secs.checked_mul(1000).ok_or_else(|| CampaignError::new(flag, "too large"))
}

impl ScanArgs {
    /// The command line as a campaign layer. Notes about flags that mean something else on DPDK go to stderr.
    fn to_layer(&self) -> Result<CampaignLayer, CampaignError> {
        let mut l = CampaignLayer::default();
        let mode_from_flags = match (self.dryrun, self.send_syns) {
            (Some(true), _) => Some("dryrun"),
            (_, Some(true)) => Some("list"),
            _ => None,
        };
        l.mode = match (&self.mode, mode_from_flags) {
            (Some(m), Some(f)) if m != f => {
                return Err(CampaignError::new("mode", format!("--mode {m} contradicts -{}", if f == "list" { "sendSYNs" } else { "dryrun" })));
            }
            (Some(m), _) => Some(m.clone()),
            (None, f) => f.map(str::to_owned),
        };
        l.handshakes = self.handshakes.as_deref().map(split_list);
        l.plan = self.plan.clone();
        l.ports_table = self.ports_table.clone();
        l.priority_fingerprint = self.priority_fingerprint.as_deref().map(split_list);
        l.force_all = self.force_all_handshakes;
        l.push_data_only = self.push_data_only;
        l.only_data_record = self.only_data_record;
        l.stop_when_unacked = self.stop_when_unacked;
        l.feed_zgrab = self.feed_zgrab;
        l.output = self.output.clone();
        l.output_format = self.output_format.clone();
        l.ipv6_format = self.ipv6_format.clone();
        l.ipv6 = self.ipv6;
        l.workers = self.workers;
        l.rate = self.rate;
        l.burst = self.burst;
        l.user_agent = self.user_agent.clone();
        l.data_cap = self.data_cap;
        l.flow_capacity = self.flow_capacity;
        l.status = self.status.clone();
        l.debug = self.debug;

        l.timers.timeout_ms = match self.timeout {
            Some(s) => Some(secs_to_ms("timers.timeout_ms", s)?),
            None => self.timeout_ms,
        };
        l.timers.retransmit_delay_ms = match self.retransmit_delay {
            Some(s) => Some(secs_to_ms("timers.retransmit_delay_ms", s)?),
            None => self.retransmit_delay_ms,
        };
        l.timers.retransmits = self.retransmits;
        l.timers.cooldown_ms = match self.cooldown {
            Some(s) => Some(secs_to_ms("timers.cooldown_ms", s)?),
            None => self.cooldown_ms,
        };
        l.haf.probes = self.haf;
        l.haf.threshold = self.haf_threshold;

        if let Some(list) = &self.source_ip {
            for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.parse::<IpAddr>() {
                    Ok(IpAddr::V4(a)) => l.network.source_ipv4 = Some(a.to_string()),
                    Ok(IpAddr::V6(a)) => l.network.source_ipv6 = Some(a.to_string()),
                    Err(_) => return Err(CampaignError::new("network.source_ip", format!("not an IP address: {part:?}"))),
                }
            }
        }
        l.network.gateway_mac = self.gateway_mac.clone();
        l.network.gateway_ip = self.gateway_ip.clone();
        l.network.zmap_tap = self.zmap_tap.clone();
        l.network.device = self.device.clone();
        if let Some(iface) = &self.send_interface {
            if self.device.is_none() {
                let dev = format!("net_af_packet0,iface={iface}");
                eprintln!("lzr: note: -sendInterface {iface} means --device {dev} (DPDK's af_packet driver on that interface); a NIC bound to DPDK is faster: --device <PCI address>");
                l.network.device = Some(dev);
            } else {
                eprintln!("lzr: note: -sendInterface ignored, --device is given");
            }
        }
        for (flag, v) in [("-cpuprofile", &self.cpuprofile), ("-memprofile", &self.memprofile)] {
            if v.is_some() {
                eprintln!("lzr: note: {flag} (Go pprof) is ignored; profile with perf instead");
            }
        }
        l.network.eal_args = self.eal_args.as_deref().map(|s| s.split_whitespace().map(str::to_owned).collect());

        l.generator.targets = split_specs(&self.targets);
        l.generator.targets_file = self.targets_file.clone();
        l.generator.ports = self.ports.clone();
        l.generator.shard = self.shard.clone();
        l.generator.seed = self.seed;
        l.filter.allow = split_specs(&self.allow);
        l.filter.allow_file = self.allow_file.clone();
        l.filter.block = split_specs(&self.block);
        l.filter.block_file = self.block_file.clone();
        Ok(l)
    }
}

/// Which flags set a campaign key (for error messages).
fn flags_for_key(key: &str) -> Option<&'static str> {
    let base = key.split('[').next().unwrap_or(key);
    Some(match base {
        "mode" => "--mode, -sendSYNs, -dryrun",
        "handshakes" => "-handshakes",
        "priority_fingerprint" => "-priorityFingerprint",
        "plan" => "--plan",
        "ports_table" => "--ports-table",
        "output" => "-f",
        "output_format" => "--output-format",
        "ipv6_format" => "--ipv6-format",
        "workers" => "-w",
        "rate" => "-rate",
        "burst" => "--burst",
        "data_cap" => "--data-cap",
        "flow_capacity" => "--flow-capacity",
        "user_agent" => "--user-agent",
        "status" => "--status",
        "timers.timeout_ms" => "-t, --timeout-ms",
        "timers.retransmit_delay_ms" => "-rt, --retransmit-delay-ms",
        "timers.retransmits" => "-rn",
        "timers.cooldown_ms" => "-c, --cooldown-ms",
        "haf.probes" => "-haf",
        "haf.threshold" => "-hafThreshold",
        "network.source_ipv4" | "network.source_ipv6" | "network.source_ip" => "-sourceIP",
        "network.gateway_mac" => "-gatewayMac",
        "network.device" => "--device, -sendInterface",
        "generator.targets" => "--targets",
        "generator.targets_file" => "--targets-file",
        "generator.ports" => "--ports",
        "generator.shard" => "--shard",
        "generator.seed" => "--seed",
        "filter.allow" => "--allow",
        "filter.allow_file" => "--allow-file",
        "filter.block" => "--block",
        "filter.block_file" => "--block-file",
        _ => return None,
    })
}

fn report(e: &CampaignError) -> i32 {
    match flags_for_key(&e.key) {
        Some(flags) => eprintln!("lzr: {} ({flags}): {}", e.key, e.message),
        None => eprintln!("lzr: {}: {}", e.key, e.message),
    }
    2
}

/// Parses argv into a validated campaign (or a subcommand). Exposed for tests.
fn build_campaign(scan: &ScanArgs) -> Result<Campaign, CampaignError> {
    let file = match &scan.config {
        Some(path) => Some(Campaign::load_file(path)?),
        None => None,
    };
    Campaign::from_layers(file, scan.to_layer()?)
}

/// Entry point of the `lzr` binary; returns the exit code.
pub fn main() -> i32 {
    let args = normalize_args(std::env::args_os().collect());
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return code;
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return 2;
        }
    };
    match cli.command {
        Some(Command::Fingerprint(args)) => commands::fingerprint::run(args),
        Some(Command::Selftest(args)) => commands::selftest::run(args),
        None => {
            let campaign = match build_campaign(&cli.scan) {
                Ok(c) => c,
                Err(e) => return report(&e),
            };
            if cli.scan.print_config {
                print!("{}", campaign.to_toml());
                return 0;
            }
            commands::scan::run(campaign)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        let v: Vec<OsString> = std::iter::once("lzr").chain(args.iter().copied()).map(OsString::from).collect();
        normalize_args(v).into_iter().skip(1).map(|s| s.into_string().unwrap()).collect()
    }

    fn parse(args: &[&str]) -> Result<Campaign, String> {
        let v: Vec<OsString> = std::iter::once("lzr").chain(args.iter().copied()).map(OsString::from).collect();
        let m = Cli::command().try_get_matches_from(normalize_args(v)).map_err(|e| e.to_string())?;
        let cli = Cli::from_arg_matches(&m).map_err(|e| e.to_string())?;
        build_campaign(&cli.scan).map_err(|e| e.to_string())
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn go_flags_are_rewritten_values_are_not() {
        assert_eq!(
            norm(&["-handshakes", "wait,http", "-sendSYNs", "-f", "-", "-t=3", "--rt", "1", "-feedZGrab=false", "-d"]),
            ["--handshakes", "wait,http", "--send-syns", "--output", "-", "--timeout=3", "--retransmit-delay", "1", "--feed-zgrab=false", "--debug"]
        );
        // A value that looks like a flag stays a value; unknown flags are left for clap to reject.
        assert_eq!(norm(&["-f", "-rate", "-bogus"]), ["--output", "-rate", "-bogus"]);
        assert_eq!(norm(&["--eal-args", "-m 256", "--", "-t"]), ["--eal-args", "-m 256", "--", "-t"]);
        assert_eq!(norm(&["-config", "x.toml", "-print-config"]), ["--config", "x.toml", "--print-config"]);
        assert_eq!(norm(&["fingerprint", "-t"]), ["fingerprint", "-t"]);
    }

    #[test]
    fn original_pipeline_flags_build_a_campaign() {
        let c = parse(&[
            "-handshakes", "wait,http,tls", "-sendSYNs", "-sourceIP", "198.18.0.1", "-gatewayMac", "aa:bb:cc:dd:ee:ff",
            "-haf", "5", "-hafThreshold", "0.8", "-f", "out.json", "-feedZGrab", "-t", "3", "-rt", "2", "-rn", "2",
            "-c", "4", "-w", "2", "-pushDataOnly", "-onlyDataRecord", "-priorityFingerprint", "http,tls", "-rate", "10",
        ])
        .unwrap();
        assert_eq!(c.mode, crate::config::Mode::List);
        assert_eq!(c.handshakes, ["wait", "http", "tls"]);
        assert_eq!((c.timers.timeout_ms, c.timers.retransmit_delay_ms, c.timers.retransmits, c.timers.cooldown_ms), (3000, 2000, 2, 4000));
        assert_eq!((c.haf.probes, c.haf.threshold), (5, 0.8));
        assert_eq!((c.workers, c.rate, c.output.as_str()), (2, 10, "out.json"));
        assert!(c.feed_zgrab && c.push_data_only && c.only_data_record && !c.force_all);
        assert_eq!(c.network.gateway_mac, Some([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]));
        assert_eq!(c.priority_fingerprint, ["http", "tls"]);
        let c = parse(&["-dryrun", "-sourceIP", "198.18.0.1,2001:db8::1", "-ipv6", "-forceAllHandshakes", "-f", "-"]).unwrap();
        assert_eq!(c.mode, crate::config::Mode::DryRun);
        assert!(c.ipv6 && c.force_all && c.network.source_ipv6.is_some() && c.network.source_ipv4.is_some());
    }

    #[test]
    fn errors_name_flags_and_keys() {
        assert!(parse(&["-handshakes", "http,ssl", "-f", "-"]).unwrap_err().contains("handshakes"));
        assert!(parse(&["-t", "soon"]).unwrap_err().contains("--timeout"));
        assert!(parse(&["-t", "1", "--timeout-ms", "5"]).unwrap_err().contains("cannot be used with"));
        assert!(parse(&["-sendSYNs", "-f", "-"]).unwrap_err().contains("network.source_ipv4"));
        assert!(parse(&["-sourceIP", "nope", "-f", "-"]).unwrap_err().contains("network.source_ip"));
        assert!(parse(&["--mode", "zmap", "-sendSYNs"]).unwrap_err().contains("contradicts"));
        assert!(parse(&["-feedZGrab=maybe"]).unwrap_err().contains("invalid boolean"));
        assert!(parse(&["-nosuchflag"]).is_err());
        assert_eq!(flags_for_key("filter.allow[2]"), Some("--allow"));
    }
}
