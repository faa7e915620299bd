//! Neighbour resolution for one port: ARP (IPv4) and neighbour discovery (IPv6), sans-IO.
//!
//! The appliance owns its NIC, so no kernel answers ARP or neighbour solicitations for the scan addresses and no
//! kernel resolves the gateway. [`Neighbor`] does both for one port:
//! - it answers ARP requests and neighbour solicitations for our own addresses (the reply comes back as a
//!   [`NeighborFrame`] to build and send);
//! - it resolves the gateway's MAC when the campaign did not give one, and on a flat test network any next hop's
//!   MAC ([`Neighbor::resolve`]): requests go out on a timer ([`Neighbor::poll_transmit`]) with a bounded number of
//!   attempts, after which the entry is [`Resolution::Failed`].
//!
//! It learns a MAC only for an address it is resolving (no table growth from unsolicited traffic) and never from a
//! frame whose Ethernet source or ARP sender is our own MAC: the original learned the gateway MAC from the first
//! frame it captured, which could be one it had sent itself (reference §3.2, §10.1 item 13).
//!
//! No I/O and no clock: time comes in as `now_ms` (any monotonic millisecond count). Entries do not age: a scan
//! outlives no gateway change worth the extra traffic, and a later reply or request from a tracked address
//! updates its MAC anyway.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::{ArpFrame, ArpOperation, ArpRepr, BuildError, Frame, MacAddr, NdpFrame, NdpRepr};

/// What the component was configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighborConfig {
    /// The port's MAC.
    pub our_mac: MacAddr,
    /// Our IPv4 source addresses (answered in ARP; the first one is the sender of our requests).
    pub our_v4: Vec<Ipv4Addr>,
    /// Our IPv6 source addresses (answered in ND; requests come from the first link-local one, else the first).
    pub our_v6: Vec<Ipv6Addr>,
    /// The gateway's MAC when the user gave it: nothing to resolve.
    pub gateway_mac: Option<MacAddr>,
    /// The gateway's address, resolved at start when `gateway_mac` is not given.
    pub gateway_ip: Option<IpAddr>,
    /// Time between two requests for the same address.
    pub retry_interval_ms: u64,
    /// Requests sent for one address before it is declared failed.
    pub max_attempts: u32,
    /// Most addresses tracked at once (bounds memory on a flat network).
    pub max_entries: usize,
}

impl NeighborConfig {
    pub const DEFAULT_RETRY_INTERVAL_MS: u64 = 1000;
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
    pub const DEFAULT_MAX_ENTRIES: usize = 65_536;

    /// A configuration with the default timers and no gateway.
    pub fn new(our_mac: MacAddr, our_v4: Vec<Ipv4Addr>, our_v6: Vec<Ipv6Addr>) -> NeighborConfig {
        NeighborConfig {
            our_mac,
            our_v4,
            our_v6,
            gateway_mac: None,
            gateway_ip: None,
            retry_interval_ms: Self::DEFAULT_RETRY_INTERVAL_MS,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            max_entries: Self::DEFAULT_MAX_ENTRIES,
        }
    }
}

/// Where resolution of one address stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Not being resolved (never asked for, or the table was full when it was).
    Untracked,
    /// Requests are going out.
    Pending,
    Resolved(MacAddr),
    /// Every attempt went unanswered (or there is no source address of that family to ask from).
    Failed,
}

/// A frame the component wants sent. Build it into a buffer with [`NeighborFrame::build`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeighborFrame {
    Arp(ArpRepr),
    Ndp(NdpFrame),
}

impl NeighborFrame {
    /// Writes the Ethernet frame into `buf`; returns its length.
    pub fn build(&self, buf: &mut [u8]) -> Result<usize, BuildError> {
        match self {
            NeighborFrame::Arp(a) => a.build_frame(buf),
            NeighborFrame::Ndp(n) => n.build(buf),
        }
    }
    /// Length of the frame [`build`](Self::build) writes.
    pub fn len(&self) -> usize {
        match self {
            NeighborFrame::Arp(_) => ArpRepr::FRAME_LEN,
            NeighborFrame::Ndp(n) => n.frame_len(),
        }
    }
    /// Always false (a frame has headers); present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Counters, for the engine's statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NeighborStats {
    /// ARP replies and neighbour advertisements produced for our addresses.
    pub answers: u64,
    /// ARP requests and neighbour solicitations produced to resolve an address.
    pub requests: u64,
    /// Addresses resolved (or re-learned with a new MAC).
    pub learned: u64,
    /// Frames ignored because they came from our own MAC.
    pub ignored_own: u64,
    /// Addresses declared failed.
    pub failed: u64,
    /// `resolve` calls refused because the table was full.
    pub table_full: u64,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    state: Resolution,
    attempts: u32,
    /// When the next request is due (or, after the last one, when the entry fails).
    next_at: u64,
}

/// Neighbour resolution and answering for one port. See the module documentation.
#[derive(Debug)]
pub struct Neighbor {
    cfg: NeighborConfig,
    entries: HashMap<IpAddr, Entry, ahash::RandomState>,
    /// No pending entry is due before this time (lets `poll_transmit` return at once between retries).
    next_deadline: u64,
    /// Requests found due by the last pass over the table, sent one per `poll_transmit` call.
    outbox: VecDeque<IpAddr>,
    stats: NeighborStats,
}

impl Neighbor {
    /// Starts the component; begins resolving the gateway if its address but not its MAC was configured.
    pub fn new(cfg: NeighborConfig, now_ms: u64) -> Neighbor {
        let gateway = if cfg.gateway_mac.is_none() { cfg.gateway_ip } else { None };
        let mut n = Neighbor {
            cfg,
            entries: HashMap::default(),
            next_deadline: u64::MAX,
            outbox: VecDeque::new(),
            stats: NeighborStats::default(),
        };
        if let Some(ip) = gateway {
            n.resolve(ip, now_ms);
        }
        n
    }

    pub fn config(&self) -> &NeighborConfig {
        &self.cfg
    }
    pub fn stats(&self) -> NeighborStats {
        self.stats
    }

    /// True when `ip` is one of our source addresses.
    pub fn is_ours(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.cfg.our_v4.contains(&a),
            IpAddr::V6(a) => self.cfg.our_v6.contains(&a),
        }
    }

    /// The gateway's MAC: configured, or resolved.
    pub fn gateway_mac(&self) -> Option<MacAddr> {
        match self.gateway_state() {
            Resolution::Resolved(m) => Some(m),
            _ => None,
        }
    }

    /// Where the gateway stands: `Resolved` when configured, `Untracked` when neither its MAC nor its address was
    /// given.
    pub fn gateway_state(&self) -> Resolution {
        if let Some(m) = self.cfg.gateway_mac {
            return Resolution::Resolved(m);
        }
        match self.cfg.gateway_ip {
            Some(ip) => self.lookup(ip),
            None => Resolution::Untracked,
        }
    }

    /// Where resolution of `ip` stands.
    pub fn lookup(&self, ip: IpAddr) -> Resolution {
        self.entries.get(&ip).map_or(Resolution::Untracked, |e| e.state)
    }

    /// Starts resolving `ip` (a no-op when it is already tracked) and returns its state. A failed entry is not
    /// retried until [`forget`](Self::forget) (a late genuine answer still resolves it).
    pub fn resolve(&mut self, ip: IpAddr, now_ms: u64) -> Resolution {
        if let Some(e) = self.entries.get(&ip) {
            return e.state;
        }
        if self.entries.len() >= self.cfg.max_entries {
            self.stats.table_full += 1;
            return Resolution::Untracked;
        }
        let can_ask = match ip {
            IpAddr::V4(_) => !self.cfg.our_v4.is_empty(),
            IpAddr::V6(_) => !self.cfg.our_v6.is_empty(),
        };
        let state = if can_ask { Resolution::Pending } else { Resolution::Failed };
        if !can_ask {
            self.stats.failed += 1;
        }
        self.entries.insert(ip, Entry { state, attempts: 0, next_at: now_ms });
        self.next_deadline = self.next_deadline.min(now_ms);
        state
    }

    /// Stops tracking `ip` (so that a failed address can be resolved again).
    pub fn forget(&mut self, ip: IpAddr) {
        self.entries.remove(&ip);
    }

    /// The earliest time [`poll_transmit`](Self::poll_transmit) has something to do, if anything is pending.
    pub fn next_timeout(&self) -> Option<u64> {
        if !self.outbox.is_empty() {
            return Some(0);
        }
        (self.next_deadline != u64::MAX).then_some(self.next_deadline)
    }

    /// The next request due at `now_ms`, if any; marks entries failed once their attempts are used up. Call until it
    /// returns `None`.
    pub fn poll_transmit(&mut self, now_ms: u64) -> Option<NeighborFrame> {
        if self.outbox.is_empty() && now_ms >= self.next_deadline {
            self.collect_due(now_ms);
        }
        while let Some(ip) = self.outbox.pop_front() {
            // Skip entries answered (or forgotten) since they were queued.
            if self.lookup(ip) != Resolution::Pending {
                continue;
            }
            if let Some(frame) = self.request_for(ip) {
                self.stats.requests += 1;
                return Some(frame);
            }
        }
        None
    }

    /// One pass over the table: queues every due request, fails exhausted entries, and finds the next deadline.
    fn collect_due(&mut self, now_ms: u64) {
        let (interval, max_attempts) = (self.cfg.retry_interval_ms.max(1), self.cfg.max_attempts);
        let mut next_deadline = u64::MAX;
        for (ip, e) in self.entries.iter_mut() {
            if e.state != Resolution::Pending {
                continue;
            }
            if e.next_at <= now_ms {
                if e.attempts >= max_attempts {
                    e.state = Resolution::Failed;
                    self.stats.failed += 1;
                    continue;
                }
                e.attempts += 1;
                e.next_at = now_ms.saturating_add(interval);
                self.outbox.push_back(*ip);
            }
            next_deadline = next_deadline.min(e.next_at);
        }
        self.next_deadline = next_deadline;
    }

    fn request_for(&self, ip: IpAddr) -> Option<NeighborFrame> {
        let mac = self.cfg.our_mac;
        match ip {
            IpAddr::V4(target) => {
                let our = *self.cfg.our_v4.first()?;
                Some(NeighborFrame::Arp(ArpRepr::request(mac, our, target)))
            }
            IpAddr::V6(target) => {
                let v6 = &self.cfg.our_v6;
                let our = *v6.iter().find(|a| a.segments()[0] & 0xffc0 == 0xfe80).or_else(|| v6.first())?;
                Some(NeighborFrame::Ndp(NdpFrame::solicit(mac, our, target)))
            }
        }
    }

    /// Feeds any parsed frame; ARP and ND frames are handled, others ignored. Returns the answer to send, if any.
    pub fn handle_frame(&mut self, frame: &Frame<'_>) -> Option<NeighborFrame> {
        match frame {
            Frame::Arp(a) => self.handle_arp(a),
            Frame::Ndp(n) => self.handle_ndp(n),
            Frame::Tcp(_) | Frame::Other { .. } => None,
        }
    }

    /// Handles a received ARP packet: learns the sender if we are resolving it, answers requests for our addresses.
    pub fn handle_arp(&mut self, f: &ArpFrame) -> Option<NeighborFrame> {
        let arp = &f.arp;
        if f.src_mac == self.cfg.our_mac || arp.sender_mac == self.cfg.our_mac {
            self.stats.ignored_own += 1;
            return None;
        }
        if !arp.sender_mac.is_unicast() {
            return None;
        }
        // A request from a tracked address also tells us where it is (RFC 826's merge step).
        self.learn(IpAddr::V4(arp.sender_ip), arp.sender_mac);
        if arp.operation == ArpOperation::Request && self.cfg.our_v4.contains(&arp.target_ip) {
            self.stats.answers += 1;
            return Some(NeighborFrame::Arp(ArpRepr::reply_to(arp, self.cfg.our_mac)));
        }
        None
    }

    /// Handles a received NS/NA: learns a tracked neighbour's MAC, answers solicitations for our addresses.
    pub fn handle_ndp(&mut self, f: &NdpFrame) -> Option<NeighborFrame> {
        if f.src_mac == self.cfg.our_mac {
            self.stats.ignored_own += 1;
            return None;
        }
        match f.message {
            NdpRepr::Advert { target, target_lladdr, .. } => {
                let mac = target_lladdr.unwrap_or(f.src_mac);
                if mac != self.cfg.our_mac && mac.is_unicast() {
                    self.learn(IpAddr::V6(target), mac);
                } else if mac == self.cfg.our_mac {
                    self.stats.ignored_own += 1;
                }
                None
            }
            NdpRepr::Solicit { target, source_lladdr } => {
                if let Some(mac) = source_lladdr {
                    if mac != self.cfg.our_mac && mac.is_unicast() && !f.src_ip.is_unspecified() {
                        self.learn(IpAddr::V6(f.src_ip), mac);
                    }
                }
                if !self.cfg.our_v6.contains(&target) {
                    return None;
                }
                let reply = f.advert_reply(self.cfg.our_mac)?;
                if reply.dst_mac == MacAddr::ZERO {
                    // No link-layer option and a zero Ethernet source: nowhere to send the answer.
                    return None;
                }
                self.stats.answers += 1;
                Some(NeighborFrame::Ndp(reply))
            }
        }
    }

    /// Records `mac` for `ip` if `ip` is being resolved (or was resolved: a newer answer wins).
    fn learn(&mut self, ip: IpAddr, mac: MacAddr) {
        let Some(e) = self.entries.get_mut(&ip) else { return };
        match e.state {
            Resolution::Resolved(old) if old == mac => {}
            Resolution::Pending | Resolution::Resolved(_) | Resolution::Failed => {
                e.state = Resolution::Resolved(mac);
                self.stats.learned += 1;
            }
            Resolution::Untracked => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{parse_frame, FrameTemplate, NaFlags, TemplateConfig};

    const OURS: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
    const GW: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xfe]);
    const OTHER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x33]);

    fn our_v4() -> Ipv4Addr {
        Ipv4Addr::new(198, 18, 0, 1)
    }
    fn gw_v4() -> Ipv4Addr {
        Ipv4Addr::new(198, 18, 0, 254)
    }
    fn our_v6() -> Ipv6Addr {
        "2001:db8::1".parse().unwrap()
    }
    fn our_ll() -> Ipv6Addr {
        "fe80::1".parse().unwrap()
    }
    fn gw_v6() -> Ipv6Addr {
        "fe80::fe".parse().unwrap()
    }

    fn cfg() -> NeighborConfig {
        NeighborConfig::new(OURS, vec![our_v4(), Ipv4Addr::new(198, 18, 0, 2)], vec![our_v6(), our_ll()])
    }

    /// Builds `frame` to bytes, parses them back and feeds the component: the path the engine takes.
    fn feed(n: &mut Neighbor, frame: NeighborFrame) -> Option<NeighborFrame> {
        let mut buf = [0u8; 128];
        let len = frame.build(&mut buf).unwrap();
        assert_eq!(len, frame.len());
        let parsed = parse_frame(&buf[..len]).unwrap();
        n.handle_frame(&parsed)
    }

    fn arp(op: ArpOperation, sender_mac: MacAddr, sender_ip: Ipv4Addr, target_mac: MacAddr, target_ip: Ipv4Addr) -> NeighborFrame {
        NeighborFrame::Arp(ArpRepr { operation: op, sender_mac, sender_ip, target_mac, target_ip })
    }

    #[test]
    fn answers_arp_for_each_of_our_addresses_only() {
        let mut n = Neighbor::new(cfg(), 0);
        for ours in [our_v4(), Ipv4Addr::new(198, 18, 0, 2)] {
            let req = ArpRepr::request(OTHER, Ipv4Addr::new(198, 18, 0, 9), ours);
            let reply = feed(&mut n, NeighborFrame::Arp(req)).unwrap();
            assert_eq!(reply, NeighborFrame::Arp(ArpRepr::reply_to(&req, OURS)));
            let NeighborFrame::Arp(r) = reply else { unreachable!() };
            assert_eq!((r.sender_ip, r.target_mac, r.target_ip), (ours, OTHER, Ipv4Addr::new(198, 18, 0, 9)));
        }
        // Not ours: silent.
        let req = ArpRepr::request(OTHER, Ipv4Addr::new(198, 18, 0, 9), Ipv4Addr::new(198, 18, 0, 3));
        assert_eq!(feed(&mut n, NeighborFrame::Arp(req)), None);
        // Our own request echoed back (e.g. by a tap or a promiscuous path): ignored, not answered.
        let own = ArpRepr::request(OURS, our_v4(), Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(feed(&mut n, NeighborFrame::Arp(own)), None);
        // A reply is never answered.
        assert_eq!(feed(&mut n, arp(ArpOperation::Reply, OTHER, Ipv4Addr::new(198, 18, 0, 9), OURS, our_v4())), None);
        assert_eq!((n.stats().answers, n.stats().ignored_own), (2, 1));
    }

    #[test]
    fn answers_neighbor_solicitations_for_our_addresses() {
        let mut n = Neighbor::new(cfg(), 0);
        let peer: Ipv6Addr = "2001:db8::9".parse().unwrap();
        let ns = NdpFrame::solicit(OTHER, peer, our_v6());
        let Some(NeighborFrame::Ndp(na)) = feed(&mut n, NeighborFrame::Ndp(ns)) else { panic!("no NA") };
        assert_eq!((na.src_mac, na.dst_mac, na.src_ip, na.dst_ip), (OURS, OTHER, our_v6(), peer));
        assert_eq!(
            na.message,
            NdpRepr::Advert { flags: NaFlags::SOLICITED.union(NaFlags::OVERRIDE), target: our_v6(), target_lladdr: Some(OURS) }
        );
        let ns = NdpFrame::solicit(OTHER, peer, "2001:db8::77".parse().unwrap());
        assert_eq!(feed(&mut n, NeighborFrame::Ndp(ns)), None);
        let own = NdpFrame::solicit(OURS, our_ll(), our_v6());
        assert_eq!(feed(&mut n, NeighborFrame::Ndp(own)), None);
    }

    #[test]
    fn resolves_the_ipv4_gateway_with_retries_and_never_learns_our_own_mac() {
        let mut c = cfg();
        c.gateway_ip = Some(IpAddr::V4(gw_v4()));
        let mut n = Neighbor::new(c, 10_000);
        assert_eq!(n.gateway_state(), Resolution::Pending);
        assert_eq!(n.gateway_mac(), None);
        assert_eq!(n.next_timeout(), Some(10_000));

        let req = n.poll_transmit(10_000).unwrap();
        assert_eq!(req, NeighborFrame::Arp(ArpRepr::request(OURS, our_v4(), gw_v4())));
        let mut buf = [0u8; 64];
        let len = req.build(&mut buf).unwrap();
        assert_eq!(&buf[..6], &[0xff; 6], "ARP requests are broadcast");
        assert_eq!(len, 42);
        assert_eq!(n.poll_transmit(10_000), None, "one request per interval");
        assert_eq!(n.poll_transmit(10_999), None);
        assert_eq!(n.next_timeout(), Some(11_000));
        assert!(n.poll_transmit(11_000).is_some(), "retry after the interval");

        // A reply claiming the gateway's address but carrying our MAC: a frame we sent (or a loop) — never learned.
        feed(&mut n, arp(ArpOperation::Reply, OURS, gw_v4(), OURS, our_v4()));
        assert_eq!(n.gateway_mac(), None);
        // Same with only the Ethernet source being ours.
        let mut own_eth = [0u8; 64];
        let len = ArpRepr { operation: ArpOperation::Reply, sender_mac: GW, sender_ip: gw_v4(), target_mac: OURS, target_ip: our_v4() }
            .build_frame(&mut own_eth)
            .unwrap();
        own_eth[6..12].copy_from_slice(&OURS.0);
        n.handle_frame(&parse_frame(&own_eth[..len]).unwrap());
        assert_eq!(n.gateway_mac(), None);
        // A reply from some other address does not resolve the gateway.
        feed(&mut n, arp(ArpOperation::Reply, OTHER, Ipv4Addr::new(198, 18, 0, 7), OURS, our_v4()));
        assert_eq!(n.gateway_mac(), None);

        feed(&mut n, arp(ArpOperation::Reply, GW, gw_v4(), OURS, our_v4()));
        assert_eq!(n.gateway_mac(), Some(GW));
        assert_eq!(n.poll_transmit(50_000), None, "resolved: no more requests");
        assert_eq!(n.next_timeout(), None);
        assert_eq!((n.stats().requests, n.stats().learned), (2, 1));
        assert!(n.stats().ignored_own >= 2);

        // The gateway moves to a new MAC and says so: the newer answer wins.
        feed(&mut n, arp(ArpOperation::Request, OTHER, gw_v4(), MacAddr::ZERO, our_v4()));
        assert_eq!(n.gateway_mac(), Some(OTHER));
    }

    #[test]
    fn resolution_fails_after_the_bounded_attempts() {
        let mut c = cfg();
        c.gateway_ip = Some(IpAddr::V4(gw_v4()));
        c.max_attempts = 3;
        c.retry_interval_ms = 500;
        let mut n = Neighbor::new(c, 0);
        let mut sent = 0;
        for now in (0..10_000).step_by(100) {
            while n.poll_transmit(now).is_some() {
                sent += 1;
            }
        }
        assert_eq!(sent, 3);
        assert_eq!(n.gateway_state(), Resolution::Failed);
        assert_eq!(n.gateway_mac(), None);
        assert_eq!(n.stats().failed, 1);
        assert_eq!(n.next_timeout(), None);
        // resolve() does not restart a failed entry, but a late genuine answer still resolves it.
        assert_eq!(n.resolve(IpAddr::V4(gw_v4()), 20_000), Resolution::Failed);
        feed(&mut n, arp(ArpOperation::Reply, GW, gw_v4(), OURS, our_v4()));
        assert_eq!(n.gateway_mac(), Some(GW));
    }

    #[test]
    fn resolves_an_ipv6_gateway_from_a_link_local_source() {
        let mut c = cfg();
        c.gateway_ip = Some(IpAddr::V6(gw_v6()));
        let mut n = Neighbor::new(c, 0);
        let Some(NeighborFrame::Ndp(ns)) = n.poll_transmit(0) else { panic!("no NS") };
        assert_eq!(ns, NdpFrame::solicit(OURS, our_ll(), gw_v6()));
        assert_eq!(ns.dst_ip, "ff02::1:ff00:fe".parse::<Ipv6Addr>().unwrap());
        // The router answers (as a router) with its link-layer address: we learn it.
        let mut na = ns.advert_reply(GW).unwrap();
        na.message = NdpRepr::Advert { flags: NaFlags::ROUTER.union(NaFlags::SOLICITED), target: gw_v6(), target_lladdr: Some(GW) };
        assert_eq!(feed(&mut n, NeighborFrame::Ndp(na)), None);
        assert_eq!(n.gateway_mac(), Some(GW));
    }

    #[test]
    fn na_without_link_layer_option_uses_the_ethernet_source() {
        let mut n = Neighbor::new(cfg(), 0);
        assert_eq!(n.resolve(IpAddr::V6(gw_v6()), 0), Resolution::Pending);
        let na = NdpFrame {
            src_mac: GW,
            dst_mac: OURS,
            vlan: None,
            src_ip: gw_v6(),
            dst_ip: our_ll(),
            message: NdpRepr::Advert { flags: NaFlags::SOLICITED, target: gw_v6(), target_lladdr: None },
        };
        feed(&mut n, NeighborFrame::Ndp(na));
        assert_eq!(n.lookup(IpAddr::V6(gw_v6())), Resolution::Resolved(GW));
    }

    #[test]
    fn flat_network_next_hops_and_a_bounded_table() {
        let mut c = cfg();
        c.max_entries = 3;
        let mut n = Neighbor::new(c, 0);
        let hosts: Vec<Ipv4Addr> = (10..13).map(|i| Ipv4Addr::new(198, 18, 0, i)).collect();
        for h in &hosts {
            assert_eq!(n.resolve(IpAddr::V4(*h), 0), Resolution::Pending);
        }
        assert_eq!(n.resolve(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 99)), 0), Resolution::Untracked, "table full");
        assert_eq!(n.stats().table_full, 1);
        let mut asked = Vec::new();
        while let Some(NeighborFrame::Arp(r)) = n.poll_transmit(0) {
            asked.push(r.target_ip);
        }
        asked.sort();
        assert_eq!(asked, hosts, "one request per next hop, all due at once");
        for (i, h) in hosts.iter().enumerate() {
            let mac = MacAddr([0x02, 0, 0, 0, 1, i as u8]);
            feed(&mut n, arp(ArpOperation::Reply, mac, *h, OURS, our_v4()));
            assert_eq!(n.lookup(IpAddr::V4(*h)), Resolution::Resolved(mac));
        }
        // Untracked addresses are not learned from unsolicited replies.
        feed(&mut n, arp(ArpOperation::Reply, OTHER, Ipv4Addr::new(198, 18, 0, 50), OURS, our_v4()));
        assert_eq!(n.lookup(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 50))), Resolution::Untracked);
        // A template can be pointed at each resolved next hop.
        let mut t = FrameTemplate::new(OURS, GW, IpAddr::V4(our_v4()), TemplateConfig::original());
        if let Resolution::Resolved(m) = n.lookup(IpAddr::V4(hosts[1])) {
            t.set_dst_mac(m);
        }
        let mut buf = [0u8; 64];
        let len = t.rst(&mut buf, crate::wire::Endpoints { dst_ip: IpAddr::V4(hosts[1]), src_port: 1, dst_port: 2 }, 0).unwrap();
        let Ok(Frame::Tcp(seg)) = parse_frame(&buf[..len]) else { panic!() };
        assert_eq!(seg.dst_mac, MacAddr([0x02, 0, 0, 0, 1, 1]));
    }

    #[test]
    fn configured_gateway_and_missing_source_family() {
        let mut c = cfg();
        c.gateway_mac = Some(GW);
        c.gateway_ip = Some(IpAddr::V4(gw_v4()));
        let mut n = Neighbor::new(c, 0);
        assert_eq!(n.gateway_mac(), Some(GW));
        assert_eq!(n.poll_transmit(0), None, "nothing to resolve");
        let mut n = Neighbor::new(NeighborConfig::new(OURS, vec![our_v4()], vec![]), 0);
        assert_eq!(n.resolve(IpAddr::V6(gw_v6()), 0), Resolution::Failed, "no IPv6 source to ask from");
        assert_eq!(n.gateway_state(), Resolution::Untracked);
        n.forget(IpAddr::V6(gw_v6()));
        assert_eq!(n.lookup(IpAddr::V6(gw_v6())), Resolution::Untracked);
    }
}
