//! Which handshakes to try, in which order, for a target: the handshake plan.
//!
//! - `fixed`: the `handshakes` list, the same for every port (the original's only behaviour).
//! - `assigned` / `ephemeral`: the paper's best orders for IANA-assigned ports (wait, tls, http, dns, pptp) and
//!   for unassigned high ports (wait, http, tls, oracle, pptp).
//! - `port-aware`: for a port in the ports table, its protocol first and then the `assigned` order without
//!   repeats; for other ports the `ephemeral` order.
//!
//! Handshakes are referred to by their index in the handshake registry (its sorted order, which is also the
//! fingerprinting order), so a plan is a small slice of `u8`. The per-port lookup is one table read.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::handshakes::registry;

/// The paper's order for IANA-assigned ports.
pub const ASSIGNED_ORDER: [&str; 5] = ["wait", "tls", "http", "dns", "pptp"];
/// The paper's order for unassigned (ephemeral) ports.
pub const EPHEMERAL_ORDER: [&str; 5] = ["wait", "http", "tls", "oracle", "pptp"];

/// The built-in ports table (config/ports.toml).
pub const DEFAULT_PORTS_TABLE: &str = include_str!("../../config/ports.toml");

/// Index of a registered handshake (its place in [`registry::all`]).
pub fn handshake_index(name: &str) -> Option<u8> {
    registry::by_name(name).map(|(i, _)| i as u8)
}

/// Name of a handshake index (`"?"` for an index out of range).
pub fn handshake_name(index: u8) -> &'static str {
    registry::all().get(usize::from(index)).map_or("?", |h| h.name())
}

/// Indices of the names, or the first unknown name.
pub fn resolve_names<S: AsRef<str>>(names: &[S]) -> Result<Vec<u8>, String> {
    names.iter().map(|n| handshake_index(n.as_ref()).ok_or_else(|| n.as_ref().to_owned())).collect()
}

/// The kind of plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PlanKind {
    #[default]
    Fixed,
    Assigned,
    Ephemeral,
    PortAware,
}

impl PlanKind {
    pub const ALL: [PlanKind; 4] = [PlanKind::Fixed, PlanKind::Assigned, PlanKind::Ephemeral, PlanKind::PortAware];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanKind::Fixed => "fixed",
            PlanKind::Assigned => "assigned",
            PlanKind::Ephemeral => "ephemeral",
            PlanKind::PortAware => "port-aware",
        }
    }

    pub fn from_name(s: &str) -> Option<PlanKind> {
        PlanKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Port → handshake index, parsed and validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortTable(pub BTreeMap<u16, u8>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortTableFile {
    ports: BTreeMap<String, String>,
}

impl PortTable {
    /// Parses the TOML form (`[ports]` with `"5432" = "postgres"` entries).
    pub fn parse(text: &str) -> Result<PortTable, String> {
        let file: PortTableFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut map = BTreeMap::new();
        for (port, name) in file.ports {
            let p: u16 = port.parse().ok().filter(|&p| p != 0).ok_or_else(|| format!("ports.{port}: not a port (1-65535)"))?;
            let h = handshake_index(&name).ok_or_else(|| format!("ports.{port}: unknown handshake {name:?}"))?;
            map.insert(p, h);
        }
        Ok(PortTable(map))
    }

    /// The built-in table.
    pub fn builtin() -> PortTable {
        // A unit test parses the built-in table, so this cannot fail in a released build; fall back to empty.
        PortTable::parse(DEFAULT_PORTS_TABLE).unwrap_or(PortTable(BTreeMap::new()))
    }
}

/// The resolved plan: per port, the list of handshake indices to try in order.
#[derive(Clone, PartialEq, Eq)]
pub struct HandshakePlan {
    kind: PlanKind,
    plans: Vec<Vec<u8>>,
    /// Plan number per port; `None` when every port uses plan 0.
    by_port: Option<Box<[u8]>>,
}

impl fmt::Debug for HandshakePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakePlan").field("kind", &self.kind).field("plans", &self.plans.len()).finish()
    }
}

fn indices(names: &[&str]) -> Vec<u8> {
    names.iter().filter_map(|n| handshake_index(n)).collect()
}

impl HandshakePlan {
    /// The same list for every port.
    pub fn fixed(handshakes: Vec<u8>) -> HandshakePlan {
        HandshakePlan { kind: PlanKind::Fixed, plans: vec![handshakes], by_port: None }
    }

    pub fn assigned() -> HandshakePlan {
        HandshakePlan { kind: PlanKind::Assigned, plans: vec![indices(&ASSIGNED_ORDER)], by_port: None }
    }

    pub fn ephemeral() -> HandshakePlan {
        HandshakePlan { kind: PlanKind::Ephemeral, plans: vec![indices(&EPHEMERAL_ORDER)], by_port: None }
    }

    /// Port's protocol first, then the assigned order; unlisted ports get the ephemeral order.
    pub fn port_aware(table: &PortTable) -> HandshakePlan {
        let mut plans = vec![indices(&EPHEMERAL_ORDER)];
        let mut plan_of_protocol: BTreeMap<u8, u8> = BTreeMap::new();
        let mut by_port = vec![0u8; 65536].into_boxed_slice();
        for (&port, &proto) in &table.0 {
            let id = *plan_of_protocol.entry(proto).or_insert_with(|| {
                let mut plan = vec![proto];
                plan.extend(indices(&ASSIGNED_ORDER).into_iter().filter(|&h| h != proto));
                plans.push(plan);
                // At most 36 protocols, so the plan number fits.
                (plans.len() - 1) as u8
            });
            by_port[usize::from(port)] = id;
        }
        HandshakePlan { kind: PlanKind::PortAware, plans, by_port: Some(by_port) }
    }

    pub fn kind(&self) -> PlanKind {
        self.kind
    }

    /// Handshake indices to try, in order, for a target on `port`.
    #[inline]
    pub fn plan_for_port(&self, port: u16) -> &[u8] {
        let id = self.by_port.as_ref().and_then(|t| t.get(usize::from(port)).copied()).unwrap_or(0);
        self.plans.get(usize::from(id)).or_else(|| self.plans.first()).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Names for a port's plan (for display).
    pub fn names_for_port(&self, port: u16) -> Vec<&'static str> {
        self.plan_for_port(port).iter().map(|&i| handshake_name(i)).collect()
    }

    /// The longest plan (bounds the number of source ports a target may use).
    pub fn max_len(&self) -> usize {
        self.plans.iter().map(Vec::len).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_the_registry_s() {
        assert_eq!(handshake_index("amqp"), Some(0));
        assert_eq!(handshake_index("x11"), Some(35));
        assert_eq!(handshake_index("ssl"), None);
        assert_eq!(handshake_name(32), "tls");
        assert_eq!(resolve_names(&["http", "nope"]), Err("nope".to_owned()));
    }

    #[test]
    fn presets_are_the_papers_orders() {
        assert_eq!(HandshakePlan::assigned().names_for_port(80), ASSIGNED_ORDER);
        assert_eq!(HandshakePlan::ephemeral().names_for_port(45000), EPHEMERAL_ORDER);
        let fixed = HandshakePlan::fixed(resolve_names(&["wait", "http", "tls"]).unwrap());
        assert_eq!(fixed.names_for_port(1), ["wait", "http", "tls"]);
        assert_eq!(fixed.names_for_port(65535), ["wait", "http", "tls"]);
    }

    #[test]
    fn builtin_table_parses_and_port_aware_plans_follow_it() {
        let table = PortTable::parse(DEFAULT_PORTS_TABLE).unwrap();
        assert_eq!(table.0.get(&5432), Some(&handshake_index("postgres").unwrap()));
        assert_eq!(table.0.len(), 41);
        let plan = HandshakePlan::port_aware(&table);
        assert_eq!(plan.names_for_port(5432), ["postgres", "wait", "tls", "http", "dns", "pptp"]);
        assert_eq!(plan.names_for_port(443), ["tls", "wait", "http", "dns", "pptp"]);
        assert_eq!(plan.names_for_port(993), ["tls", "wait", "http", "dns", "pptp"]);
        assert_eq!(plan.names_for_port(53), ["dns", "wait", "tls", "http", "pptp"]);
        assert_eq!(plan.names_for_port(47001), EPHEMERAL_ORDER);
        assert_eq!(plan.max_len(), 6);
        // One plan per protocol, shared by its ports.
        assert!(std::ptr::eq(plan.plan_for_port(443), plan.plan_for_port(8443)));
    }

    #[test]
    fn bad_tables_name_the_entry() {
        assert!(PortTable::parse("[ports]\n80 = \"htp\"\n").unwrap_err().contains("ports.80"));
        assert!(PortTable::parse("[ports]\n0 = \"http\"\n").unwrap_err().contains("ports.0"));
        assert!(PortTable::parse("[ports]\nx = \"http\"\n").unwrap_err().contains("ports.x"));
        assert!(PortTable::parse("[port]\n80 = \"http\"\n").unwrap_err().contains("unknown field"));
    }
}
