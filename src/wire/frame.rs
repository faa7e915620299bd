//! [`parse_frame`]: one pass over a received Ethernet frame, classifying it into what the engine acts on.
//!
//! The parser does every structural check (lengths, versions, data offset, fragments, ND validity) and the cheap
//! checksums that protect what lzr acts on without touching payloads (IPv4 header, ICMPv6 of ND messages). The TCP
//! checksum covers the payload, and NICs usually verify it already (DPDK reports it in the mbuf), so it is left to
//! [`TcpFrame::checksum_valid`] for the engine to call when the NIC did not. Allocation-free; never panics.

use std::net::IpAddr;

use super::arp::{ArpPacket, ArpRepr};
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
