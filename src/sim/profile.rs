//! A port's host mix: what share of a simulated address space answers a SYN on that port, and how those hosts
//! behave afterwards (the rows of the paper's Table 4 turned into shares, see docs/simulator.md).
//!
//! Shares are *conditional*, level by level, so each level sums to at most 1 and can be checked on its own:
//! ```text
//! address space ─ synack ─┬─ zero_window
//!               ─ closed  ├─ rst                       (reset right after the handshake)
//!               ─ rest: silent ├─ acks_data ─┬─ expected        (speaks `protocol`)
//!                         │             ├─ unexpected      (speaks one of `unexpected_protocols`, by weight)
//!                         │             ├─ unidentified    (sends bytes no rule names)
//!                         │             ├─ acking_firewall (SYN-ACKs and ACKs on every port, says nothing)
//!                         │             └─ rest: silent after ACKing our data
//!                         └─ rest: never ACKs our data
//! ```
//! Profiles load from TOML with every unknown key refused; [`Profile::validate`] checks every share and weight.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::catalogue;

/// One port's host mix. See the module documentation for how the shares nest.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The TCP port this mix is for.
    pub port: u16,
    /// The protocol expected on the port (a label of the simulator's catalogue: `http`, `tls`, `ftp`, ...).
    pub protocol: String,
    /// Share of the address space that SYN-ACKs on this port.
    pub synack: f64,
    /// Share of the address space that refuses the SYN with RST+ACK (not in Table 4; default 0).
    #[serde(default)]
    pub closed: f64,
    /// Share of SYN-ACKers whose SYN-ACK advertises a zero window.
    pub zero_window: f64,
    /// Share of SYN-ACKers that reset the connection right after the handshake.
    pub rst: f64,
    /// Share of SYN-ACKers that acknowledge our data (the rest never do).
    pub acks_data: f64,
    /// Share of data ACKers speaking the expected protocol.
    pub expected: f64,
    /// Share of data ACKers speaking another protocol (drawn from `unexpected_protocols`).
    pub unexpected: f64,
    /// Share of data ACKers that send bytes no fingerprint rule names (default 0).
    #[serde(default)]
    pub unidentified: f64,
    /// Share of data ACKers that are ACKing firewalls: they SYN-ACK and ACK data on every port, and say nothing.
    #[serde(default)]
    pub acking_firewall: f64,
    /// Relative weights of the unexpected protocols (catalogue labels). The number of entries is the table's
    /// "unique unexpected" count.
    #[serde(default)]
    pub unexpected_protocols: BTreeMap<String, f64>,
    /// Each host answers after a delay drawn once per host, uniformly in `[min, max]` milliseconds.
    #[serde(default)]
    pub delay_ms: [u32; 2],
    /// Share of the frames hosts send that are lost on the way (drawn per frame, from its content).
    #[serde(default)]
    pub loss: f64,
    /// The raw figures the shares were derived from (documentation; checked against the shares by tests).
    #[serde(default)]
    pub source: Option<Source>,
}

/// Table 4's column for the port, as counts.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Where the figures come from.
    pub table: String,
    /// Size of the address space the counts are out of (a full IPv4 scan less ZMap's blocklist).
    pub space: f64,
    pub synack: f64,
    pub zero_window: f64,
    pub rst: f64,
    pub acks_data: f64,
    pub expected: f64,
    pub unexpected: f64,
    pub unique_unexpected: u32,
}

/// Why a profile was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProfileError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("port {port}: share `{name}` = {value} is not in [0, 1]")]
    Share {
        port: u16,
        name: &'static str,
        value: f64,
    },
    #[error("port {port}: the shares of {level} add up to {sum} (more than 1)")]
    Sum {
        port: u16,
        level: &'static str,
        sum: f64,
    },
    #[error("port {1}: `{0}` is not a protocol the simulator can play (known: {known})", known = catalogue::labels().collect::<Vec<_>>().join(", "))]
    UnknownProtocol(String, u16),
    #[error(
        "port {port}: unexpected protocol `{name}` has weight {weight} (must be finite and > 0)"
    )]
    Weight {
        port: u16,
        name: String,
        weight: f64,
    },
    #[error("port {port}: unexpected share {share} but no unexpected protocols")]
    NoUnexpectedProtocols { port: u16, share: f64 },
    #[error("port {1}: unexpected protocol `{0}` is the expected protocol")]
    ExpectedIsUnexpected(String, u16),
    #[error("port {port}: delay_ms [{min}, {max}] is not an interval of at most 60000 ms")]
    Delay { port: u16, min: u32, max: u32 },
    #[error("port {0} has two profiles")]
    DuplicatePort(u16),
}

impl Profile {
    /// Parses and validates a profile.
    pub fn from_toml(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|e| ProfileError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        profile.validate()?;
        Ok(profile)
    }

    /// Reads, parses and validates a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Profile::from_toml(&text, &path.display().to_string())
    }

    /// Checks every share, sum, weight and protocol name.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let port = self.port;
        let shares: [(&'static str, f64); 10] = [
            ("synack", self.synack),
            ("closed", self.closed),
            ("zero_window", self.zero_window),
            ("rst", self.rst),
            ("acks_data", self.acks_data),
            ("expected", self.expected),
            ("unexpected", self.unexpected),
            ("unidentified", self.unidentified),
            ("acking_firewall", self.acking_firewall),
            ("loss", self.loss),
        ];
        for (name, value) in shares {
            if !(0.0..=1.0).contains(&value) {
                return Err(ProfileError::Share { port, name, value });
            }
        }
        // A little slack for shares rounded in the file.
        const SLACK: f64 = 1e-9;
        let levels = [
            (
                "the address space (synack + closed)",
                self.synack + self.closed,
            ),
            (
                "SYN-ACKers (zero_window + rst + acks_data)",
                self.zero_window + self.rst + self.acks_data,
            ),
            (
                "data ACKers (expected + unexpected + unidentified + acking_firewall)",
                self.expected + self.unexpected + self.unidentified + self.acking_firewall,
            ),
        ];
        for (level, sum) in levels {
            if sum > 1.0 + SLACK {
                return Err(ProfileError::Sum { port, level, sum });
            }
        }
        if catalogue::find(&self.protocol).is_none() {
            return Err(ProfileError::UnknownProtocol(self.protocol.clone(), port));
        }
        for (name, &weight) in &self.unexpected_protocols {
            if catalogue::find(name).is_none() {
                return Err(ProfileError::UnknownProtocol(name.clone(), port));
            }
            if *name == self.protocol {
                return Err(ProfileError::ExpectedIsUnexpected(name.clone(), port));
            }
            if !(weight.is_finite() && weight > 0.0) {
                return Err(ProfileError::Weight {
                    port,
                    name: name.clone(),
                    weight,
                });
            }
        }
        if self.unexpected > 0.0 && self.unexpected_protocols.is_empty() {
            return Err(ProfileError::NoUnexpectedProtocols {
                port,
                share: self.unexpected,
            });
        }
        let [min, max] = self.delay_ms;
        if min > max || max > 60_000 {
            return Err(ProfileError::Delay { port, min, max });
        }
        Ok(())
    }

    /// The same mix seen only among hosts that SYN-ACK: every address answers (the benchmark's view, where
    /// ZMap has already found the SYN-ACKers). Nothing refuses.
    pub fn among_synack(&self) -> Profile {
        Profile {
            synack: 1.0,
            closed: 0.0,
            ..self.clone()
        }
    }

    /// Absolute shares of the address space: (zero window, rst, never acks, expected, unexpected, unidentified,
    /// acking firewall, silent after ACK).
    pub fn absolute(&self) -> AbsoluteShares {
        let ackers = self.synack * self.acks_data;
        let expected = ackers * self.expected;
        let unexpected = ackers * self.unexpected;
        let unidentified = ackers * self.unidentified;
        let acking_firewall = ackers * self.acking_firewall;
        AbsoluteShares {
            closed: self.closed,
            zero_window: self.synack * self.zero_window,
            rst: self.synack * self.rst,
            never_acks: self.synack * (1.0 - self.zero_window - self.rst - self.acks_data).max(0.0),
            expected,
            unexpected,
            unidentified,
            acking_firewall,
            acked_silent: (ackers - expected - unexpected - unidentified - acking_firewall)
                .max(0.0),
        }
    }
}

/// A profile's leaves as shares of the whole address space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AbsoluteShares {
    pub closed: f64,
    pub zero_window: f64,
    pub rst: f64,
    pub never_acks: f64,
    pub expected: f64,
    pub unexpected: f64,
    pub unidentified: f64,
    pub acking_firewall: f64,
    pub acked_silent: f64,
}

/// Loads every `*.toml` profile of a directory, sorted by port; refuses two profiles for one port.
pub fn load_dir(dir: &Path) -> Result<Vec<Profile>, ProfileError> {
    let read_err = |e: std::io::Error| ProfileError::Read {
        path: dir.display().to_string(),
        message: e.to_string(),
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut profiles = paths
        .iter()
        .map(|p| Profile::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    profiles.sort_by_key(|p| p.port);
    if let Some(w) = profiles.windows(2).find(|w| w[0].port == w[1].port) {
        return Err(ProfileError::DuplicatePort(w[0].port));
    }
    Ok(profiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        port = 80
        protocol = "http"
        synack = 0.5
        zero_window = 0.1
        rst = 0.1
        acks_data = 0.7
        expected = 0.9
        unexpected = 0.05
        [unexpected_protocols]
        tls = 3
        ssh = 1
    "#;

    #[test]
    fn a_minimal_profile_loads_with_defaults() {
        let p = Profile::from_toml(MINIMAL, "inline").unwrap();
        assert_eq!(p.port, 80);
        assert_eq!(p.closed, 0.0);
        assert_eq!(p.delay_ms, [0, 0]);
        assert_eq!(p.unexpected_protocols.len(), 2);
        let a = p.absolute();
        assert!((a.expected - 0.5 * 0.7 * 0.9).abs() < 1e-12);
        assert!((a.never_acks - 0.5 * 0.1).abs() < 1e-12);
        let total = a.closed
            + a.zero_window
            + a.rst
            + a.never_acks
            + a.expected
            + a.unexpected
            + a.unidentified
            + a.acking_firewall
            + a.acked_silent;
        assert!(
            (total - 0.5).abs() < 1e-12,
            "leaves add up to the SYN-ACK share: {total}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = format!("surprise = 1\n{MINIMAL}");
        assert!(matches!(
            Profile::from_toml(&text, "x"),
            Err(ProfileError::Parse { .. })
        ));
        let text = MINIMAL.replace("port = 80", "port = 80\nsynack_share = 0.1");
        assert!(matches!(
            Profile::from_toml(&text, "x"),
            Err(ProfileError::Parse { .. })
        ));
    }

    #[test]
    fn bad_shares_sums_and_names_are_refused() {
        let bad =
            |from: &str, to: &str| Profile::from_toml(&MINIMAL.replace(from, to), "x").unwrap_err();
        assert!(matches!(
            bad("synack = 0.5", "synack = 1.5"),
            ProfileError::Share { name: "synack", .. }
        ));
        assert!(matches!(
            bad("rst = 0.1", "rst = -0.1"),
            ProfileError::Share { name: "rst", .. }
        ));
        assert!(matches!(
            bad("rst = 0.1", "rst = 0.3"),
            ProfileError::Sum { .. }
        ));
        assert!(matches!(
            bad("expected = 0.9", "expected = 0.96"),
            ProfileError::Sum { .. }
        ));
        assert!(matches!(
            bad("protocol = \"http\"", "protocol = \"gopher\""),
            ProfileError::UnknownProtocol(..)
        ));
        assert!(matches!(
            bad("tls = 3", "http = 3"),
            ProfileError::ExpectedIsUnexpected(..)
        ));
        assert!(matches!(
            bad("tls = 3", "tls = 0"),
            ProfileError::Weight { .. }
        ));
        assert!(matches!(
            bad("synack = 0.5", "synack = 0.5\ndelay_ms = [5, 1]"),
            ProfileError::Delay { .. }
        ));
        assert!(matches!(
            bad("synack = 0.5", "synack = nan"),
            ProfileError::Share { .. }
        ));
        let no_protocols = MINIMAL.split("[unexpected_protocols]").next().unwrap();
        assert!(matches!(
            Profile::from_toml(no_protocols, "x"),
            Err(ProfileError::NoUnexpectedProtocols { .. })
        ));
    }
}
