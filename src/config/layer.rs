//! The campaign as written: a TOML file or the command line, every key optional. Layers are merged (the
//! command line over the file) and then validated into a [`Campaign`](super::Campaign).
//!
//! Unknown keys are errors (`deny_unknown_fields`), so a typo never silently falls back to a default. The same
//! type serialises the validated campaign back (`--print-config`), so printed output is a valid campaign file.

use serde::{Deserialize, Serialize};

/// Top-level keys.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshakes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports_table: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_fingerprint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_all: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_data_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_data_record: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_when_unacked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed_zgrab: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_cap: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_capacity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug: Option<bool>,
    // Tables last: TOML needs plain keys before tables.
    #[serde(default, skip_serializing_if = "TimersLayer::is_empty")]
    pub timers: TimersLayer,
    #[serde(default, skip_serializing_if = "HafLayer::is_empty")]
    pub haf: HafLayer,
    #[serde(default, skip_serializing_if = "NetworkLayer::is_empty")]
    pub network: NetworkLayer,
    #[serde(default, skip_serializing_if = "GeneratorLayer::is_empty")]
    pub generator: GeneratorLayer,
    #[serde(default, skip_serializing_if = "FilterLayer::is_empty")]
    pub filter: FilterLayer,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimersLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retransmit_delay_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retransmits: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown_ms: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HafLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ipv4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ipv6: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_mac: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zmap_tap: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eal_args: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FilterLayer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_file: Option<String>,
}

/// `over` wins field by field.
fn pick<T>(base: Option<T>, over: Option<T>) -> Option<T> {
    over.or(base)
}

impl TimersLayer {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
    fn merge(self, o: Self) -> Self {
        TimersLayer {
            timeout_ms: pick(self.timeout_ms, o.timeout_ms),
            retransmit_delay_ms: pick(self.retransmit_delay_ms, o.retransmit_delay_ms),
            retransmits: pick(self.retransmits, o.retransmits),
            cooldown_ms: pick(self.cooldown_ms, o.cooldown_ms),
        }
    }
}

impl HafLayer {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
    fn merge(self, o: Self) -> Self {
        HafLayer { probes: pick(self.probes, o.probes), threshold: pick(self.threshold, o.threshold) }
    }
}

impl NetworkLayer {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
    fn merge(self, o: Self) -> Self {
        NetworkLayer {
            source_ipv4: pick(self.source_ipv4, o.source_ipv4),
            source_ipv6: pick(self.source_ipv6, o.source_ipv6),
            gateway_mac: pick(self.gateway_mac, o.gateway_mac),
            gateway_ip: pick(self.gateway_ip, o.gateway_ip),
            zmap_tap: pick(self.zmap_tap, o.zmap_tap),
            device: pick(self.device, o.device),
            eal_args: pick(self.eal_args, o.eal_args),
        }
    }
}

impl GeneratorLayer {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
    fn merge(self, o: Self) -> Self {
        GeneratorLayer {
            targets: pick(self.targets, o.targets),
            targets_file: pick(self.targets_file, o.targets_file),
            ports: pick(self.ports, o.ports),
            shard: pick(self.shard, o.shard),
            seed: pick(self.seed, o.seed),
        }
    }
}

impl FilterLayer {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
    fn merge(self, o: Self) -> Self {
        FilterLayer {
            allow: pick(self.allow, o.allow),
            allow_file: pick(self.allow_file, o.allow_file),
            block: pick(self.block, o.block),
            block_file: pick(self.block_file, o.block_file),
        }
    }
}

impl CampaignLayer {
    /// `over`'s set keys replace ours.
    pub fn merge(self, o: CampaignLayer) -> CampaignLayer {
        CampaignLayer {
            mode: pick(self.mode, o.mode),
            handshakes: pick(self.handshakes, o.handshakes),
            plan: pick(self.plan, o.plan),
            ports_table: pick(self.ports_table, o.ports_table),
            priority_fingerprint: pick(self.priority_fingerprint, o.priority_fingerprint),
            force_all: pick(self.force_all, o.force_all),
            push_data_only: pick(self.push_data_only, o.push_data_only),
            only_data_record: pick(self.only_data_record, o.only_data_record),
            stop_when_unacked: pick(self.stop_when_unacked, o.stop_when_unacked),
            feed_zgrab: pick(self.feed_zgrab, o.feed_zgrab),
            output: pick(self.output, o.output),
            output_format: pick(self.output_format, o.output_format),
            ipv6_format: pick(self.ipv6_format, o.ipv6_format),
            ipv6: pick(self.ipv6, o.ipv6),
            workers: pick(self.workers, o.workers),
            rate: pick(self.rate, o.rate),
            burst: pick(self.burst, o.burst),
            user_agent: pick(self.user_agent, o.user_agent),
            data_cap: pick(self.data_cap, o.data_cap),
            flow_capacity: pick(self.flow_capacity, o.flow_capacity),
            status: pick(self.status, o.status),
            debug: pick(self.debug, o.debug),
            timers: self.timers.merge(o.timers),
            haf: self.haf.merge(o.haf),
            network: self.network.merge(o.network),
            generator: self.generator.merge(o.generator),
            filter: self.filter.merge(o.filter),
        }
    }

    /// Parses a campaign file's text.
    pub fn from_toml(text: &str) -> Result<CampaignLayer, toml::de::Error> {
        toml::from_str(text)
    }

    /// Makes relative input-file paths relative to `dir` (the campaign file's folder), so a campaign can name
    /// files beside it. The output path stays relative to the working directory, like `-f`.
    pub fn rebase_paths(&mut self, dir: &std::path::Path) {
        let fix = |p: &mut Option<String>| {
            if let Some(path) = p {
                if std::path::Path::new(path.as_str()).is_relative() {
                    *path = dir.join(path.as_str()).to_string_lossy().into_owned();
                }
            }
        };
        fix(&mut self.ports_table);
        fix(&mut self.generator.targets_file);
        fix(&mut self.filter.allow_file);
        fix(&mut self.filter.block_file);
    }
}
