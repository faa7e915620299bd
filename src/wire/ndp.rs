//! ICMPv6 neighbour discovery (RFC 4861): neighbour solicitations and advertisements with their link-layer
//! address options — parsing with the RFC's validity checks, and building complete frames.

use std::net::Ipv6Addr;

use super::checksum;
use super::error::{ensure_room, BuildError, ParseError};
use super::ethernet::{ethertype, EthernetRepr, MacAddr};
use super::ipv6::{next_header, Ipv6Repr};

/// ICMPv6 type of a neighbour solicitation.
pub const TYPE_NEIGHBOR_SOLICIT: u8 = 135;
/// ICMPv6 type of a neighbour advertisement.
pub const TYPE_NEIGHBOR_ADVERT: u8 = 136;
/// ND messages must arrive with this hop limit (proof they were not routed).
pub const ND_HOP_LIMIT: u8 = 255;

const OPT_SOURCE_LLADDR: u8 = 1;
const OPT_TARGET_LLADDR: u8 = 2;
/// Fixed part of an NS/NA: type, code, checksum, flags/reserved, target.
const FIXED_LEN: usize = 24;
/// A link-layer address option for Ethernet: type, length (1 × 8 bytes), MAC.
const LLADDR_OPT_LEN: usize = 8;

/// Neighbour advertisement flags (the top three bits of the first word after the checksum).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NaFlags(pub u8);

impl NaFlags {
    pub const ROUTER: NaFlags = NaFlags(0x80);
    pub const SOLICITED: NaFlags = NaFlags(0x40);
    pub const OVERRIDE: NaFlags = NaFlags(0x20);

    pub const fn contains(self, other: NaFlags) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn union(self, other: NaFlags) -> NaFlags {
        NaFlags(self.0 | other.0)
    }
}

/// A neighbour solicitation or advertisement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NdpRepr {
    Solicit { target: Ipv6Addr, source_lladdr: Option<MacAddr> },
    Advert { flags: NaFlags, target: Ipv6Addr, target_lladdr: Option<MacAddr> },
}

impl NdpRepr {
    /// Parses an ICMPv6 message (`icmp` = the ICMPv6 bytes) that is an NS or NA. Returns `Ok(None)` for other
    /// ICMPv6 types. Checks what RFC 4861 §7.1 asks except the checksum (see [`verify_icmpv6`]): hop limit 255,
    /// code 0, length, non-zero option lengths, non-multicast target, no source link-layer option from the
    /// unspecified address.
    pub fn parse(icmp: &[u8], src: &Ipv6Addr, hop_limit: u8) -> Result<Option<NdpRepr>, ParseError> {
        let Some(&ty) = icmp.first() else { return Err(ParseError::Truncated) };
        if ty != TYPE_NEIGHBOR_SOLICIT && ty != TYPE_NEIGHBOR_ADVERT {
            return Ok(None);
        }
        if icmp.len() < FIXED_LEN {
            return Err(ParseError::Truncated);
        }
        if hop_limit != ND_HOP_LIMIT || icmp[1] != 0 {
            return Err(ParseError::BadNdp);
        }
        let mut t = [0u8; 16];
        t.copy_from_slice(&icmp[8..24]);
        let target = Ipv6Addr::from(t);
        if target.is_multicast() {
            return Err(ParseError::BadNdp);
        }
        let want = if ty == TYPE_NEIGHBOR_SOLICIT { OPT_SOURCE_LLADDR } else { OPT_TARGET_LLADDR };
        let mut lladdr = None;
        let mut opts = &icmp[FIXED_LEN..];
        while let [kind, len, ..] = *opts {
            let len = usize::from(len) * 8;
            if len == 0 || len > opts.len() {
                return Err(ParseError::BadNdp);
            }
            if kind == want && len == LLADDR_OPT_LEN {
                lladdr = Some(MacAddr::from_bytes(&opts[2..8]));
            }
            opts = &opts[len..];
        }
        if !opts.is_empty() {
            // A single stray byte cannot be an option.
            return Err(ParseError::BadNdp);
        }
        if ty == TYPE_NEIGHBOR_SOLICIT {
            if src.is_unspecified() && lladdr.is_some() {
                return Err(ParseError::BadNdp);
            }
            Ok(Some(NdpRepr::Solicit { target, source_lladdr: lladdr }))
        } else {
            Ok(Some(NdpRepr::Advert { flags: NaFlags(icmp[4] & 0xe0), target, target_lladdr: lladdr }))
        }
    }

    pub fn target(&self) -> Ipv6Addr {
        match *self {
            NdpRepr::Solicit { target, .. } | NdpRepr::Advert { target, .. } => target,
        }
    }

    /// Length of the ICMPv6 message this repr emits.
    pub fn message_len(&self) -> usize {
        let has_opt = match self {
            NdpRepr::Solicit { source_lladdr, .. } => source_lladdr.is_some(),
            NdpRepr::Advert { target_lladdr, .. } => target_lladdr.is_some(),
        };
        FIXED_LEN + if has_opt { LLADDR_OPT_LEN } else { 0 }
    }

    /// Writes the ICMPv6 message with a zero checksum at the start of `buf`; returns its length.
    fn emit_without_checksum(&self, buf: &mut [u8]) -> Result<usize, BuildError> {
        let len = self.message_len();
        ensure_room(buf, len)?;
        let m = &mut buf[..len];
        m.fill(0);
        let (ty, flags, target, opt) = match *self {
            NdpRepr::Solicit { target, source_lladdr } => (TYPE_NEIGHBOR_SOLICIT, 0, target, source_lladdr.map(|m| (OPT_SOURCE_LLADDR, m))),
            NdpRepr::Advert { flags, target, target_lladdr } => (TYPE_NEIGHBOR_ADVERT, flags.0 & 0xe0, target, target_lladdr.map(|m| (OPT_TARGET_LLADDR, m))),
        };
        m[0] = ty;
        m[4] = flags;
        m[8..24].copy_from_slice(&target.octets());
        if let Some((kind, mac)) = opt {
            m[24] = kind;
            m[25] = 1;
            m[26..32].copy_from_slice(&mac.0);
        }
        Ok(len)
    }
}

/// True when the ICMPv6 checksum of `icmp` verifies.
pub fn verify_icmpv6(src: &Ipv6Addr, dst: &Ipv6Addr, icmp: &[u8]) -> bool {
    let Ok(len) = u32::try_from(icmp.len()) else { return false };
    checksum::verifies(checksum::combine(
        checksum::pseudo_header_v6(src, dst, checksum::PROTO_ICMPV6, len),
        checksum::sum(icmp),
    ))
}

/// The solicited-node multicast address of `ip` (ff02::1:ffXX:XXXX), where NS for `ip` are sent.
pub fn solicited_node(ip: &Ipv6Addr) -> Ipv6Addr {
    let o = ip.octets();
    Ipv6Addr::from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15]])
}

/// The Ethernet address an IPv6 multicast address maps to (33:33 + its last 32 bits, RFC 2464 §7).
pub fn multicast_mac(ip: &Ipv6Addr) -> MacAddr {
    let o = ip.octets();
    MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// An ND message with its Ethernet and IPv6 addresses: what the parser returns and what the builder writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdpFrame {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    /// VLAN id of a received frame; the builder always writes untagged frames and ignores it.
    pub vlan: Option<u16>,
    pub src_ip: Ipv6Addr,
    pub dst_ip: Ipv6Addr,
    pub message: NdpRepr,
}

impl NdpFrame {
    /// A multicast solicitation for `target` from `our_ip` carrying our link-layer address.
    pub fn solicit(our_mac: MacAddr, our_ip: Ipv6Addr, target: Ipv6Addr) -> NdpFrame {
        let group = solicited_node(&target);
        NdpFrame {
            src_mac: our_mac,
            dst_mac: multicast_mac(&group),
            vlan: None,
            src_ip: our_ip,
            dst_ip: group,
            message: NdpRepr::Solicit { target, source_lladdr: Some(our_mac) },
        }
    }

    /// The advertisement answering this solicitation with `our_mac` (RFC 4861 §7.2.4): to the solicitor, or to
    /// all-nodes when it solicited from the unspecified address (duplicate address detection). `None` when `self`
    /// is not a solicitation.
    pub fn advert_reply(&self, our_mac: MacAddr) -> Option<NdpFrame> {
        let NdpRepr::Solicit { target, source_lladdr } = self.message else { return None };
        let (dst_ip, dst_mac, flags) = if self.src_ip.is_unspecified() {
            let all_nodes = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
            (all_nodes, multicast_mac(&all_nodes), NaFlags::OVERRIDE)
        } else {
            (self.src_ip, source_lladdr.unwrap_or(self.src_mac), NaFlags::SOLICITED.union(NaFlags::OVERRIDE))
        };
        Some(NdpFrame {
            src_mac: our_mac,
            dst_mac,
            vlan: None,
            src_ip: target,
            dst_ip,
            message: NdpRepr::Advert { flags, target, target_lladdr: Some(our_mac) },
        })
    }

    /// Length of the frame [`build`](Self::build) writes.
    pub fn frame_len(&self) -> usize {
        EthernetRepr::LEN + Ipv6Repr::HEADER_LEN + self.message.message_len()
    }

    /// Writes the untagged Ethernet + IPv6 (hop limit 255) + ICMPv6 frame; returns its length.
    pub fn build(&self, buf: &mut [u8]) -> Result<usize, BuildError> {
        let len = self.frame_len();
        ensure_room(buf, len)?;
        EthernetRepr { src: self.src_mac, dst: self.dst_mac, ethertype: ethertype::IPV6 }.emit(buf)?;
        let msg_len = self.message.message_len();
        Ipv6Repr {
            src: self.src_ip,
            dst: self.dst_ip,
            next_header: next_header::ICMPV6,
            hop_limit: ND_HOP_LIMIT,
            payload_len: msg_len as u16,
        }
        .emit(&mut buf[EthernetRepr::LEN..])?;
        let icmp = &mut buf[EthernetRepr::LEN + Ipv6Repr::HEADER_LEN..len];
        self.message.emit_without_checksum(icmp)?;
        let c = checksum::icmpv6_checksum(&self.src_ip, &self.dst_ip, icmp);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solicited_node_and_multicast_mac() {
        let ip: Ipv6Addr = "2001:db8::aa:bbcc:ddee".parse().unwrap();
        assert_eq!(solicited_node(&ip), "ff02::1:ffcc:ddee".parse::<Ipv6Addr>().unwrap());
        assert_eq!(multicast_mac(&solicited_node(&ip)), MacAddr([0x33, 0x33, 0xff, 0xcc, 0xdd, 0xee]));
    }

    #[test]
    fn validity_checks() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let mut ns = [0u8; 32];
        ns[0] = TYPE_NEIGHBOR_SOLICIT;
        ns[8] = 0x20;
        ns[24] = OPT_SOURCE_LLADDR;
        ns[25] = 1;
        ns[26..32].copy_from_slice(&[2, 0, 0, 0, 0, 9]);
        let ok = NdpRepr::parse(&ns, &src, 255).unwrap().unwrap();
        assert_eq!(ok, NdpRepr::Solicit { target: "2000::".parse().unwrap(), source_lladdr: Some(MacAddr([2, 0, 0, 0, 0, 9])) });
        assert_eq!(NdpRepr::parse(&ns, &src, 64), Err(ParseError::BadNdp), "routed ND");
        assert_eq!(NdpRepr::parse(&ns, &Ipv6Addr::UNSPECIFIED, 255), Err(ParseError::BadNdp), "DAD with SLLA");
        let mut bad = ns;
        bad[1] = 1;
        assert_eq!(NdpRepr::parse(&bad, &src, 255), Err(ParseError::BadNdp), "code");
        let mut bad = ns;
        bad[25] = 0;
        assert_eq!(NdpRepr::parse(&bad, &src, 255), Err(ParseError::BadNdp), "zero option length");
        let mut bad = ns;
        bad[25] = 2;
        assert_eq!(NdpRepr::parse(&bad, &src, 255), Err(ParseError::BadNdp), "option past the end");
        let mut bad = ns;
        bad[8] = 0xff;
        assert_eq!(NdpRepr::parse(&bad, &src, 255), Err(ParseError::BadNdp), "multicast target");
        assert_eq!(NdpRepr::parse(&ns[..23], &src, 255), Err(ParseError::Truncated));
        assert_eq!(NdpRepr::parse(&ns[..25], &src, 255), Err(ParseError::BadNdp), "stray option byte");
        assert_eq!(NdpRepr::parse(&[128, 0, 0, 0], &src, 64), Ok(None), "echo request is not ND");
    }
}
