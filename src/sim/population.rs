//! The simulated population: which host sits at an address and port, computed on demand from a keyed hash so
//! that nothing is stored per host and the same host always behaves the same.
//!
//! For an address inside the space and a port with a profile, one SipHash-1-3 value of (address, port) picks the
//! host's leaf in the profile's tree of shares (see [`super::profile`]); further independent values pick its
//! unexpected protocol, its answer draw (Figure 10) and its answer delay. ACKing firewalls are a property of the
//! *address* (they SYN-ACK on every port, which HyperACKtive filtering probes for): an address is one when a
//! hash of the address alone falls below the firewall share, the largest one the loaded profiles give (a
//! single-port run gets exactly its profile's share); the other leaves are scaled by 1 / (1 - that share), so
//! their absolute shares stay what the profile says.

use std::net::{IpAddr, Ipv4Addr};

use siphasher::sip::SipHasher13;

use crate::handshakes::{HandshakeList, Matcher};
use crate::record::Outcome;

use super::catalogue::{self, Column, Protocol, UNIDENTIFIED_BANNER};
use super::profile::{Profile, ProfileError};

/// An IPv4 prefix the simulator owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    base: u32,
    prefix: u8,
}

impl Space {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Space> {
        if prefix > 32 {
            return None;
        }
        let mask = Self::mask(prefix);
        Some(Space {
            base: u32::from(addr) & mask,
            prefix,
        })
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & Self::mask(self.prefix) == self.base
    }

    /// Number of addresses.
    pub fn len(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `i`-th address (wrapping inside the prefix).
    pub fn nth(&self, i: u64) -> Ipv4Addr {
        Ipv4Addr::from(self.base | (i % self.len()) as u32)
    }
}

impl std::str::FromStr for Space {
    type Err = String;

    /// `a.b.c.d/len`.
    fn from_str(s: &str) -> Result<Space, String> {
        let (addr, len) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a prefix (a.b.c.d/len)"))?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("{addr:?} is not an IPv4 address"))?;
        let len: u8 = len
            .parse()
            .map_err(|_| format!("{len:?} is not a prefix length"))?;
        Space::new(addr, len).ok_or_else(|| format!("prefix length {len} is above 32"))
    }
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

/// How a host at one address and port behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// No answer to a SYN.
    Silent,
    /// RST+ACK to a SYN.
    Closed,
    /// SYN-ACK with a zero window; nothing after.
    ZeroWindow,
    /// SYN-ACK, then RST as soon as our ACK arrives.
    RstAfterHandshake,
    /// SYN-ACK, then never acknowledges anything.
    NeverAcks,
    /// Acknowledges our data and says nothing.
    AckedSilent,
    /// Acknowledges data on every port of the address and says nothing.
    AckingFirewall,
    /// Sends bytes no rule names, right after the handshake.
    Unidentified,
    /// Speaks this protocol.
    Speaks(&'static Protocol),
}

impl Behaviour {
    pub fn name(&self) -> &'static str {
        match self {
            Behaviour::Silent => "silent",
            Behaviour::Closed => "closed",
            Behaviour::ZeroWindow => "zero_window",
            Behaviour::RstAfterHandshake => "rst",
            Behaviour::NeverAcks => "never_acks",
            Behaviour::AckedSilent => "acked_silent",
            Behaviour::AckingFirewall => "acking_firewall",
            Behaviour::Unidentified => "unidentified",
            Behaviour::Speaks(p) => p.label,
        }
    }

    /// The host completes handshakes.
    pub fn synacks(&self) -> bool {
        !matches!(self, Behaviour::Silent | Behaviour::Closed)
    }
}

/// One simulated host at one port.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Host {
    pub addr: Ipv4Addr,
    pub port: u16,
    pub behaviour: Behaviour,
    /// True when the protocol spoken is the port's expected one.
    pub expected: bool,
    /// The host's Figure 10 draw in [0, 1): it answers a probe column whose share is above it.
    pub answer_draw: f32,
    /// Delay before each of its answers.
    pub delay_ms: u32,
}

impl Host {
    /// The bytes this host sends in reply to a probe (see [`Protocol::answer`]); None: silent.
    pub fn answer(&self, column: Column, name: Option<&str>) -> Option<&'static [u8]> {
        match self.behaviour {
            Behaviour::Unidentified => Some(UNIDENTIFIED_BANNER),
            Behaviour::Speaks(p) => p.answer(column, name, self.answer_draw),
            _ => None,
        }
    }

    /// The protocol it really speaks.
    pub fn protocol(&self) -> Option<&'static str> {
        match self.behaviour {
            Behaviour::Speaks(p) => Some(p.label),
            _ => None,
        }
    }

    /// What a loss-free lzr run with handshake list `plan` (and lzr's default flow settings: one retransmission,
    /// stop when our data is never acknowledged, no force-all) should record for this host. `haf`: HyperACKtive
    /// filtering is on. `matcher` labels the answer as lzr would.
    pub fn expect(&self, plan: &HandshakeList, matcher: &Matcher, haf: bool) -> Expected {
        let none = |outcome| Expected {
            outcome,
            handshake: None,
            label: crate::handshakes::UNKNOWN_LABEL.to_string(),
        };
        let probes_sent = plan
            .names()
            .any(|n| catalogue::column_of(n) != Column::Wait);
        match self.behaviour {
            // A stateless SYN that is never answered leaves no record.
            Behaviour::Silent => none(None),
            Behaviour::Closed => none(Some(Outcome::Closed)),
            Behaviour::ZeroWindow => none(Some(Outcome::ZeroWindow)),
            Behaviour::RstAfterHandshake => none(Some(Outcome::RstAfterHandshake)),
            Behaviour::NeverAcks if probes_sent => none(Some(Outcome::DataNotAcked)),
            Behaviour::NeverAcks | Behaviour::AckedSilent => none(Some(Outcome::AckedNoData)),
            Behaviour::AckingFirewall if haf && plan.len() >= 2 => {
                none(Some(Outcome::AckingFirewall))
            }
            Behaviour::AckingFirewall => none(Some(Outcome::AckedNoData)),
            Behaviour::Unidentified | Behaviour::Speaks(_) => {
                for (i, name) in plan.names().enumerate() {
                    if let Some(bytes) = self.answer(catalogue::column_of(name), Some(name)) {
                        return Expected {
                            outcome: Some(Outcome::Data),
                            handshake: Some(i),
                            label: matcher.label(bytes).into_owned(),
                        };
                    }
                }
                none(Some(Outcome::AckedNoData))
            }
        }
    }
}

/// The record lzr should write for a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// None: no record (a SYN never answered).
    pub outcome: Option<Outcome>,
    /// The handshake whose probe drew the answer.
    pub handshake: Option<usize>,
    /// The fingerprint (`unknown` without data).
    pub label: String,
}

/// Leaves of a profile, as cumulative thresholds over [0, 1).
#[derive(Clone, Copy, Debug)]
enum Leaf {
    Closed,
    ZeroWindow,
    Rst,
    NeverAcks,
    Expected,
    Unexpected,
    Unidentified,
    AckedSilent,
}

#[derive(Clone, Debug)]
struct Compiled {
    profile: Profile,
    expected: &'static Protocol,
    /// (cumulative share, leaf), increasing.
    leaves: Vec<(f64, Leaf)>,
    /// (cumulative weight share, protocol), increasing to 1.
    unexpected: Vec<(f64, &'static Protocol)>,
}

/// Independent hash streams per host.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Salt {
    Leaf = 1,
    Unexpected = 2,
    Draw = 3,
    Delay = 4,
    Firewall = 5,
    Isn = 6,
    Loss = 7,
}

/// A simulated address space with per-port profiles. Cheap to share (`Arc`) between responder threads.
#[derive(Clone, Debug)]
pub struct Population {
    space: Space,
    profiles: Vec<Compiled>,
    /// Share of addresses that are ACKing firewalls.
    firewall: f64,
    keys: (u64, u64),
}

impl Population {
    /// A population over `space` with one profile per port (validated again here); `seed` keys every draw.
    pub fn new(
        space: Space,
        profiles: Vec<Profile>,
        seed: u64,
    ) -> Result<Population, ProfileError> {
        let mut compiled: Vec<Compiled> = Vec::with_capacity(profiles.len());
        let mut firewall: f64 = 0.0;
        for p in &profiles {
            p.validate()?;
            if compiled.iter().any(|c| c.profile.port == p.port) {
                return Err(ProfileError::DuplicatePort(p.port));
            }
            firewall = firewall.max(p.absolute().acking_firewall);
        }
        for p in profiles {
            compiled.push(Self::compile(p, firewall)?);
        }
        Ok(Population {
            space,
            profiles: compiled,
            firewall,
            keys: (seed ^ 0x6c7a_7273_696d_0001, seed.rotate_left(17)),
        })
    }

    fn compile(profile: Profile, firewall: f64) -> Result<Compiled, ProfileError> {
        let port = profile.port;
        let expected = catalogue::find(&profile.protocol).ok_or(ProfileError::UnknownProtocol(
            profile.protocol.clone(),
            port,
        ))?;
        let a = profile.absolute();
        // Addresses that are not firewalls draw from the rest, so the leaves keep their absolute shares.
        let scale = if firewall < 1.0 {
            1.0 / (1.0 - firewall)
        } else {
            0.0
        };
        let mut sum = 0.0;
        let mut leaves = Vec::new();
        for (share, leaf) in [
            (a.closed, Leaf::Closed),
            (a.zero_window, Leaf::ZeroWindow),
            (a.rst, Leaf::Rst),
            (a.never_acks, Leaf::NeverAcks),
            (a.expected, Leaf::Expected),
            (a.unexpected, Leaf::Unexpected),
            (a.unidentified, Leaf::Unidentified),
            (a.acked_silent, Leaf::AckedSilent),
        ] {
            sum += share * scale;
            leaves.push((sum, leaf));
        }
        let total: f64 = profile.unexpected_protocols.values().sum();
        let mut cum = 0.0;
        let mut unexpected = Vec::new();
        for (name, weight) in &profile.unexpected_protocols {
            let p =
                catalogue::find(name).ok_or(ProfileError::UnknownProtocol(name.clone(), port))?;
            cum += weight / total;
            unexpected.push((cum, p));
        }
        Ok(Compiled {
            profile,
            expected,
            leaves,
            unexpected,
        })
    }

    pub fn space(&self) -> Space {
        self.space
    }

    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter().map(|c| &c.profile)
    }

    /// Share of addresses that are ACKing firewalls (on every port).
    pub fn firewall_share(&self) -> f64 {
        self.firewall
    }

    fn hash(&self, addr: Ipv4Addr, port: u16, salt: Salt, extra: &[u8]) -> u64 {
        use std::hash::Hasher;
        let mut h = SipHasher13::new_with_keys(self.keys.0, self.keys.1);
        let mut block = [0u8; 7];
        block[..4].copy_from_slice(&addr.octets());
        block[4..6].copy_from_slice(&port.to_be_bytes());
        block[6] = salt as u8;
        h.write(&block);
        h.write(extra);
        h.finish()
    }

    /// A uniform number in [0, 1) from the top 53 bits of a hash.
    fn unit(h: u64) -> f64 {
        (h >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The host at `addr:port` (Silent outside the space, and on ports without a profile unless the address is
    /// an ACKing firewall).
    pub fn host(&self, addr: Ipv4Addr, port: u16) -> Host {
        let mut host = Host {
            addr,
            port,
            behaviour: Behaviour::Silent,
            expected: false,
            answer_draw: 1.0,
            delay_ms: 0,
        };
        if !self.space.contains(addr) {
            return host;
        }
        let profile = self.profiles.iter().find(|c| c.profile.port == port);
        if let Some(c) = profile {
            let [min, max] = c.profile.delay_ms;
            let span = u64::from(max - min) + 1;
            host.delay_ms = min + (self.hash(addr, port, Salt::Delay, &[]) % span) as u32;
        }
        if self.firewall > 0.0
            && Self::unit(self.hash(addr, 0, Salt::Firewall, &[])) < self.firewall
        {
            host.behaviour = Behaviour::AckingFirewall;
            return host;
        }
        let Some(c) = profile else { return host };
        let u = Self::unit(self.hash(addr, port, Salt::Leaf, &[]));
        let Some(&(_, leaf)) = c.leaves.iter().find(|(cum, _)| u < *cum) else {
            return host;
        };
        host.answer_draw = Self::unit(self.hash(addr, port, Salt::Draw, &[])) as f32;
        host.behaviour = match leaf {
            Leaf::Closed => Behaviour::Closed,
            Leaf::ZeroWindow => Behaviour::ZeroWindow,
            Leaf::Rst => Behaviour::RstAfterHandshake,
            Leaf::NeverAcks => Behaviour::NeverAcks,
            Leaf::Expected => {
                host.expected = true;
                Behaviour::Speaks(c.expected)
            }
            Leaf::Unexpected => {
                let v = Self::unit(self.hash(addr, port, Salt::Unexpected, &[]));
                // Validation guarantees at least one entry; the last one catches rounding at 1.0.
                match c
                    .unexpected
                    .iter()
                    .find(|(cum, _)| v < *cum)
                    .or(c.unexpected.last())
                {
                    Some(&(_, p)) => Behaviour::Speaks(p),
                    None => Behaviour::AckedSilent,
                }
            }
            Leaf::Unidentified => Behaviour::Unidentified,
            Leaf::AckedSilent => Behaviour::AckedSilent,
        };
        host
    }

    /// The ground truth for `addr:port` (IPv6 addresses are never in the space).
    pub fn truth(&self, addr: IpAddr, port: u16) -> Host {
        match addr {
            IpAddr::V4(a) => self.host(a, port),
            IpAddr::V6(_) => Host {
                addr: Ipv4Addr::UNSPECIFIED,
                port,
                behaviour: Behaviour::Silent,
                expected: false,
                answer_draw: 1.0,
                delay_ms: 0,
            },
        }
    }

    /// The host's initial sequence number for a connection from `client:client_port` (stateless: the same SYN
    /// always gets the same ISN, another client port another one).
    pub fn isn(&self, addr: Ipv4Addr, port: u16, client: IpAddr, client_port: u16) -> u32 {
        let mut extra = [0u8; 18];
        match client {
            IpAddr::V4(c) => extra[..4].copy_from_slice(&c.octets()),
            IpAddr::V6(c) => extra[..16].copy_from_slice(&c.octets()),
        }
        extra[16..].copy_from_slice(&client_port.to_be_bytes());
        self.hash(addr, port, Salt::Isn, &extra) as u32
    }

    /// True when the host's frame described by `fields` is lost (drawn from the frame's content, so the same
    /// frame is always lost or always delivered; a retransmission differs in its flags or sequence numbers).
    pub fn lost(&self, addr: Ipv4Addr, port: u16, fields: &[u8]) -> bool {
        let Some(c) = self.profiles.iter().find(|c| c.profile.port == port) else {
            return false;
        };
        c.profile.loss > 0.0
            && Self::unit(self.hash(addr, port, Salt::Loss, fields)) < c.profile.loss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile::from_toml(
            r#"
            port = 80
            protocol = "http"
            synack = 0.5
            closed = 0.1
            zero_window = 0.1
            rst = 0.1
            acks_data = 0.7
            expected = 0.6
            unexpected = 0.2
            unidentified = 0.05
            acking_firewall = 0.05
            delay_ms = [2, 9]
            [unexpected_protocols]
            tls = 3
            ssh = 1
            "#,
            "test",
        )
        .unwrap()
    }

    fn space() -> Space {
        "10.0.0.0/12".parse().unwrap()
    }

    #[test]
    fn spaces_parse_and_contain() {
        let s: Space = "198.18.128.7/17".parse().unwrap();
        assert_eq!(s.to_string(), "198.18.128.0/17");
        assert_eq!(s.len(), 32768);
        assert!(s.contains("198.18.255.255".parse().unwrap()));
        assert!(!s.contains("198.18.127.255".parse().unwrap()));
        assert_eq!(s.nth(32769), "198.18.128.1".parse::<Ipv4Addr>().unwrap());
        assert!("198.18.0.0".parse::<Space>().is_err());
        assert!("198.18.0.0/33".parse::<Space>().is_err());
        assert!("0.0.0.0/0"
            .parse::<Space>()
            .unwrap()
            .contains("1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn hosts_are_stable_and_follow_the_shares() {
        let pop = Population::new(space(), vec![profile()], 7).unwrap();
        let n = 200_000u64;
        let mut counts = std::collections::BTreeMap::<&str, u64>::new();
        for i in 0..n {
            let addr = pop.space().nth(i * 5);
            let h = pop.host(addr, 80);
            assert_eq!(h, pop.host(addr, 80), "same host, same behaviour");
            assert!((2..=9).contains(&h.delay_ms));
            *counts.entry(h.behaviour.name()).or_default() += 1;
        }
        let share = |k: &str| *counts.get(k).unwrap_or(&0) as f64 / n as f64;
        let a = profile().absolute();
        let near = |got: f64, want: f64| (got - want).abs() < 0.006;
        assert!(near(share("closed"), a.closed), "{counts:?}");
        assert!(near(share("zero_window"), a.zero_window), "{counts:?}");
        assert!(near(share("rst"), a.rst), "{counts:?}");
        assert!(near(share("never_acks"), a.never_acks), "{counts:?}");
        assert!(near(share("http"), a.expected), "{counts:?}");
        assert!(
            near(share("tls") + share("ssh"), a.unexpected),
            "{counts:?}"
        );
        assert!(share("tls") > 2.0 * share("ssh"), "weights 3:1 {counts:?}");
        assert!(
            near(share("acking_firewall"), a.acking_firewall),
            "{counts:?}"
        );
        assert!(near(share("unidentified"), a.unidentified), "{counts:?}");
        assert!(near(share("silent"), 1.0 - 0.5 - 0.1), "{counts:?}");
    }

    #[test]
    fn firewalls_answer_every_port_and_outsiders_are_silent() {
        let pop = Population::new(space(), vec![profile()], 7).unwrap();
        let fw = (0..100_000)
            .map(|i| pop.space().nth(i))
            .find(|a| pop.host(*a, 80).behaviour == Behaviour::AckingFirewall)
            .unwrap();
        for port in [1, 443, 40000, 65535] {
            assert_eq!(pop.host(fw, port).behaviour, Behaviour::AckingFirewall);
        }
        let other = (0..100_000)
            .map(|i| pop.space().nth(i))
            .find(|a| pop.host(*a, 80).behaviour == Behaviour::ZeroWindow)
            .unwrap();
        assert_eq!(
            pop.host(other, 443).behaviour,
            Behaviour::Silent,
            "no profile for 443"
        );
        assert_eq!(
            pop.host("192.0.2.1".parse().unwrap(), 80).behaviour,
            Behaviour::Silent
        );
        assert_eq!(
            pop.truth("2001:db8::1".parse().unwrap(), 80).behaviour,
            Behaviour::Silent
        );
    }

    #[test]
    fn seeds_change_the_population_and_isns_depend_on_the_client_port() {
        let a = Population::new(space(), vec![profile()], 1).unwrap();
        let b = Population::new(space(), vec![profile()], 2).unwrap();
        let differ = (0..1000)
            .filter(|i| a.host(a.space().nth(*i), 80) != b.host(b.space().nth(*i), 80))
            .count();
        assert!(differ > 100, "{differ}");
        let h = a.space().nth(3);
        let c: IpAddr = "198.18.0.2".parse().unwrap();
        assert_eq!(a.isn(h, 80, c, 40000), a.isn(h, 80, c, 40000));
        assert_ne!(a.isn(h, 80, c, 40000), a.isn(h, 80, c, 40001));
    }

    #[test]
    fn expectations_follow_the_plan() {
        let pop = Population::new(space(), vec![profile().among_synack()], 3).unwrap();
        let find = |pred: &dyn Fn(&Host) -> bool| {
            (0..100_000)
                .map(|i| pop.host(pop.space().nth(i), 80))
                .find(|h| pred(h))
                .unwrap()
        };
        let http_plan = HandshakeList::parse("http").unwrap();
        let m = Matcher::new(&http_plan);
        let web = find(&|h| h.expected);
        assert_eq!(
            web.expect(&http_plan, &m, false),
            Expected {
                outcome: Some(Outcome::Data),
                handshake: Some(0),
                label: "http".into()
            }
        );
        let ssh = find(&|h| h.protocol() == Some("ssh") && h.answer_draw < 0.9);
        assert_eq!(ssh.expect(&http_plan, &m, false).label, "ssh");
        let never = find(&|h| h.behaviour == Behaviour::NeverAcks);
        assert_eq!(
            never.expect(&http_plan, &m, false).outcome,
            Some(Outcome::DataNotAcked)
        );
        let wait_plan = HandshakeList::parse("wait").unwrap();
        assert_eq!(
            never
                .expect(&wait_plan, &Matcher::new(&wait_plan), false)
                .outcome,
            Some(Outcome::AckedNoData)
        );
        // A TLS host that ignores GETs answers the second handshake.
        let tls = find(&|h| h.protocol() == Some("tls") && h.answer_draw > 0.5);
        let two = HandshakeList::parse("http,tls").unwrap();
        let e = tls.expect(&two, &Matcher::new(&two), false);
        assert_eq!(
            (e.outcome, e.handshake, e.label.as_str()),
            (Some(Outcome::Data), Some(1), "tls")
        );
        let fw = find(&|h| h.behaviour == Behaviour::AckingFirewall);
        assert_eq!(
            fw.expect(&two, &m, true).outcome,
            Some(Outcome::AckingFirewall)
        );
        assert_eq!(
            fw.expect(&http_plan, &m, true).outcome,
            Some(Outcome::AckedNoData)
        );
    }
}
