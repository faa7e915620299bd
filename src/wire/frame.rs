//! [`parse_frame`]: one pass over a received Ethernet frame, classifying it into what the engine acts on.
//!
//! The parser does every structural check (lengths, versions, data offset, fragments, ND validity) and the cheap
//! checksums that protect what lzr acts on without touching payloads (IPv4 header, ICMPv6 of ND messages). The TCP
//! checksum covers the payload, and NICs usually verify it already (DPDK reports it in the mbuf), so it is left to
//! [`TcpFrame::checksum_valid`] for the engine to call when the NIC did not. Allocation-free; never panics.
//!
//! Almost every frame lzr receives is untagged Ethernet + IPv4 without options + TCP: a fast path reads that
//! layout from one fixed-size header view and returns exactly what the layer-by-layer path would; any other
//! layout, and any frame failing a check, goes layer by layer (which also names the drop reason).

use std::net::{IpAddr, Ipv4Addr};

use super::arp::{ArpPacket, ArpRepr};
use super::checksum;
use super::error::ParseError;
use super::ethernet::{ethertype, EthernetFrame, MacAddr};
use super::ipv4::Ipv4Packet;
use super::ipv6::{next_header, Ipv6Packet};
use super::ndp::{verify_icmpv6, NdpFrame, NdpRepr};
use super::tcp::{TcpOptions, TcpSegment};
use super::TcpFlags;

/// A received frame, classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A TCP segment over IPv4 or IPv6.
    Tcp(TcpFrame<'a>),
    /// An ARP request or reply (IPv4 over Ethernet).
    Arp(ArpFrame),
    /// An IPv6 neighbour solicitation or advertisement (validated, checksum verified).
    Ndp(NdpFrame),
    /// A well-formed IP packet lzr has no use for (UDP, ICMP, other ICMPv6, ESP, ...).
    Other { ip_protocol: u8 },
}

/// A TCP segment with the fields the engine reads. Addresses and ports are as received: `src` is the remote host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFrame<'a> {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    /// VLAN id of the outermost 802.1Q/802.1ad tag, if any.
    pub vlan: Option<u16>,
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub flags: TcpFlags,
    pub options: TcpOptions,
    /// The segment's data (bounded by the IP length, so Ethernet padding is excluded).
    pub payload: &'a [u8],
    /// The whole TCP segment, header included (what the checksum covers); `payload` is its tail. Public so that
    /// tests elsewhere can script segments, but frames normally come from [`parse_frame`].
    pub segment: &'a [u8],
}

impl<'a> TcpFrame<'a> {
    /// True when the TCP checksum verifies (pseudo-header included).
    pub fn checksum_valid(&self) -> bool {
        let Ok(seg) = TcpSegment::new_checked(self.segment) else { return false };
        match (self.src_ip, self.dst_ip) {
            (IpAddr::V4(s), IpAddr::V4(d)) => seg.verify_checksum_v4(s, d),
            (IpAddr::V6(s), IpAddr::V6(d)) => seg.verify_checksum_v6(&s, &d),
            _ => false,
        }
    }
    pub fn is_ipv6(&self) -> bool {
        self.src_ip.is_ipv6()
    }
}

/// An ARP packet with its Ethernet addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpFrame {
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub vlan: Option<u16>,
    pub arp: ArpRepr,
}

/// Classifies one received Ethernet frame. See the module documentation for what is checked.
pub fn parse_frame(frame: &[u8]) -> Result<Frame<'_>, ParseError> {
    match plain_ipv4_tcp(frame) {
        Some(tcp) => Ok(Frame::Tcp(tcp)),
        None => parse_layers(frame),
    }
}

/// The general path of [`parse_frame`]: every layout, layer by layer.
pub(super) fn parse_layers(frame: &[u8]) -> Result<Frame<'_>, ParseError> {
    let eth = EthernetFrame::new_checked(frame)?;
    let net = eth.network()?;
    let l3 = frame.get(net.offset..).ok_or(ParseError::Truncated)?;
    let (src_mac, dst_mac, vlan) = (eth.src(), eth.dst(), net.vlan);
    match net.ethertype {
        ethertype::IPV4 => {
            let ip = Ipv4Packet::new_checked(l3)?;
            if ip.is_fragment() {
                return Err(ParseError::Fragment);
            }
            if !ip.verify_checksum() {
                return Err(ParseError::BadIpChecksum);
            }
            if ip.protocol() != next_header::TCP {
                return Ok(Frame::Other { ip_protocol: ip.protocol() });
            }
            // Re-slice from `l3` so the segment borrows the frame, not the view.
            let seg_bytes = l3.get(ip.header_len()..usize::from(ip.total_len())).ok_or(ParseError::Truncated)?;
            let seg = TcpSegment::new_checked(seg_bytes)?;
            Ok(Frame::Tcp(tcp_frame(src_mac, dst_mac, vlan, ip.src().into(), ip.dst().into(), ip.ttl(), seg)))
        }
        ethertype::IPV6 => {
            let ip = Ipv6Packet::new_checked(l3)?;
            let upper = ip.upper_layer()?;
            let upper_bytes = l3.get(upper.offset..upper.offset + upper.data.len()).ok_or(ParseError::Truncated)?;
            match upper.protocol {
                next_header::TCP => {
                    let seg = TcpSegment::new_checked(upper_bytes)?;
                    Ok(Frame::Tcp(tcp_frame(src_mac, dst_mac, vlan, ip.src().into(), ip.dst().into(), ip.hop_limit(), seg)))
                }
                next_header::ICMPV6 => {
                    let (src_ip, dst_ip) = (ip.src(), ip.dst());
                    match NdpRepr::parse(upper.data, &src_ip, ip.hop_limit())? {
                        None => Ok(Frame::Other { ip_protocol: next_header::ICMPV6 }),
                        Some(message) => {
                            if !verify_icmpv6(&src_ip, &dst_ip, upper.data) {
                                return Err(ParseError::BadIcmpv6Checksum);
                            }
                            Ok(Frame::Ndp(NdpFrame { src_mac, dst_mac, vlan, src_ip, dst_ip, message }))
                        }
                    }
                }
                other => Ok(Frame::Other { ip_protocol: other }),
            }
        }
        ethertype::ARP => {
            let arp = ArpRepr::parse(&ArpPacket::new_checked(l3)?)?;
            Ok(Frame::Arp(ArpFrame { src_mac, dst_mac, vlan, arp }))
        }
        _ => Err(ParseError::UnsupportedEthertype),
    }
}

/// Offsets of the fast path's frame: untagged Ethernet, then IPv4 without options, then TCP.
const IP_AT: usize = 14;
const TCP_AT: usize = IP_AT + 20;
const PLAIN_LEN: usize = TCP_AT + 20;

/// Fast path for almost every frame lzr receives: an untagged Ethernet frame with an IPv4 header without
/// options carrying an unfragmented TCP segment, every check passed. Gives exactly what the general path gives
/// for such a frame; `None` for anything else (other layouts, and every frame the general path rejects), which
/// then takes the general path. Hand-written: the general path's per-layer views cost ~6% of the engine bench.
#[inline]
pub(super) fn plain_ipv4_tcp(frame: &[u8]) -> Option<TcpFrame<'_>> {
    // A fixed-size view of the headers: every index below is checked at compile time.
    let h: &[u8; PLAIN_LEN] = frame.get(..PLAIN_LEN)?.try_into().ok()?;
    let is_ipv4_tcp = h[12] == 0x08 && h[13] == 0x00 && h[IP_AT] == 0x45 && h[IP_AT + 9] == next_header::TCP;
    // Fragment offset and MF clear (DF may be set).
    if !is_ipv4_tcp || h[IP_AT + 6] & 0x3f != 0 || h[IP_AT + 7] != 0 {
        return None;
    }
    let total_len = usize::from(u16::from_be_bytes([h[IP_AT + 2], h[IP_AT + 3]]));
    let tcp_header_len = usize::from(h[TCP_AT + 12] >> 4) * 4;
    // The segment (IP total length minus the 20-byte IP header) must hold the TCP header it announces.
    let segment = frame.get(TCP_AT..IP_AT + total_len)?;
    if tcp_header_len < 20 || tcp_header_len > segment.len() {
        return None;
    }
    let ip_header: &[u8; 20] = h[IP_AT..TCP_AT].try_into().ok()?;
    if !checksum::data_verifies(ip_header) {
        return None;
    }
    let options = if tcp_header_len == 20 {
        TcpOptions::default()
    } else {
        TcpOptions::parse(segment.get(20..tcp_header_len).unwrap_or(&[]))
    };
    let mac = |at: usize| MacAddr([h[at], h[at + 1], h[at + 2], h[at + 3], h[at + 4], h[at + 5]]);
    let ip = |at: usize| IpAddr::V4(Ipv4Addr::new(h[at], h[at + 1], h[at + 2], h[at + 3]));
    let u16_at = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]);
    let u32_at = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    Some(TcpFrame {
        src_mac: mac(6),
        dst_mac: mac(0),
        vlan: None,
        src_ip: ip(IP_AT + 12),
        dst_ip: ip(IP_AT + 16),
        ttl: h[IP_AT + 8],
        src_port: u16_at(TCP_AT),
        dst_port: u16_at(TCP_AT + 2),
        seq: u32_at(TCP_AT + 4),
        ack: u32_at(TCP_AT + 8),
        window: u16_at(TCP_AT + 14),
        flags: TcpFlags(h[TCP_AT + 13]),
        options,
        payload: segment.get(tcp_header_len..).unwrap_or(&[]),
        segment,
    })
}

fn tcp_frame<'a>(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    vlan: Option<u16>,
    src_ip: IpAddr,
    dst_ip: IpAddr,
    ttl: u8,
    seg: TcpSegment<&'a [u8]>,
) -> TcpFrame<'a> {
    let header_len = seg.header_len();
    let options = if header_len == TcpSegment::<&[u8]>::MIN_HEADER_LEN { TcpOptions::default() } else { seg.options_summary() };
    let (src_port, dst_port, seq, ack, window, flags) =
        (seg.src_port(), seg.dst_port(), seg.seq(), seg.ack(), seg.window(), seg.flags());
    let segment = seg.into_inner();
    TcpFrame {
        src_mac,
        dst_mac,
        vlan,
        src_ip,
        dst_ip,
        ttl,
        src_port,
        dst_port,
        seq,
        ack,
        window,
        flags,
        // Most segments lzr sees (ACKs, data) carry no options: the walk is skipped then (see above).
        options,
        payload: segment.get(header_len..).unwrap_or(&[]),
        segment,
    }
}
