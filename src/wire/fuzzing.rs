//! Drives [`parse_frame`] and every view's accessors over arbitrary bytes. Shared by the libFuzzer target
//! (`fuzz/fuzz_targets/frame_parser.rs`) and the stable mutation test, so both exercise the same surface.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::tcp::TcpOptionIter;
use super::{parse_frame, ArpPacket, ArpRepr, EthernetFrame, Frame, Ipv4Packet, Ipv6Packet, NdpRepr, TcpSegment};

/// Parses `data` every way lzr can and folds what it read into a number (so nothing is optimised away).
/// Must never panic.
pub fn exercise(data: &[u8]) -> u64 {
    let mut acc = 0u64;
    match parse_frame(data) {
        Ok(Frame::Tcp(t)) => {
            acc += u64::from(t.checksum_valid()) + t.payload.len() as u64 + u64::from(t.seq) + u64::from(t.flags.bits());
            acc += u64::from(t.options.mss.unwrap_or(0)) + t.segment.len() as u64;
        }
        Ok(Frame::Arp(a)) => acc += u64::from(a.arp.sender_mac.0[5]),
        Ok(Frame::Ndp(n)) => acc += u64::from(n.message.target().octets()[15]),
        Ok(Frame::Other { ip_protocol }) => acc += u64::from(ip_protocol),
        Err(e) => acc += e.as_str().len() as u64,
    }
    if let Ok(eth) = EthernetFrame::new_checked(data) {
        acc += u64::from(eth.src().0[0]) + u64::from(eth.dst().0[5]) + u64::from(eth.ethertype()) + eth.payload().len() as u64;
        if let Ok(n) = eth.network() {
            acc += n.offset as u64 + u64::from(n.vlan.unwrap_or(0));
        }
    }
    // Every offset a network or transport header can start at in the frames lzr handles, and a few odd ones.
    for off in [0usize, 1, 14, 18, 22, 34, 54] {
        let Some(d) = data.get(off..) else { continue };
        if let Ok(ip) = Ipv4Packet::new_checked(d) {
            acc += u64::from(ip.version()) + ip.header_len() as u64 + u64::from(ip.total_len()) + u64::from(ip.ident());
            acc += u64::from(ip.frag_offset()) + u64::from(ip.is_fragment()) + u64::from(ip.dont_frag()) + u64::from(ip.more_frags());
            acc += u64::from(ip.ttl()) + u64::from(ip.protocol()) + u64::from(ip.checksum()) + u64::from(ip.dscp_ecn());
            acc += u64::from(u32::from(ip.src()) ^ u32::from(ip.dst())) + ip.payload().len() as u64 + ip.header().len() as u64;
            acc += u64::from(ip.verify_checksum());
        }
        if let Ok(ip) = Ipv6Packet::new_checked(d) {
            acc += u64::from(ip.traffic_class()) + u64::from(ip.flow_label()) + u64::from(ip.payload_len()) + u64::from(ip.next_header());
            acc += u64::from(ip.hop_limit()) + u64::from(ip.src().octets()[0]) + u64::from(ip.dst().octets()[15]) + ip.payload().len() as u64;
            if let Ok(u) = ip.upper_layer() {
                acc += u64::from(u.protocol) + u.offset as u64 + u.data.len() as u64;
            }
        }
        if let Ok(t) = TcpSegment::new_checked(d) {
            acc += u64::from(t.src_port()) + u64::from(t.dst_port()) + u64::from(t.seq()) + u64::from(t.ack()) + t.header_len() as u64;
            acc += u64::from(t.flags().bits()) + u64::from(t.window()) + u64::from(t.checksum()) + u64::from(t.urgent());
            acc += t.payload().len() as u64 + u64::from(t.options_summary().malformed);
            acc += TcpOptionIter::new(t.options()).count() as u64;
            acc += u64::from(t.verify_checksum_v4(Ipv4Addr::LOCALHOST, Ipv4Addr::BROADCAST));
            acc += u64::from(t.verify_checksum_v6(&Ipv6Addr::LOCALHOST, &Ipv6Addr::UNSPECIFIED));
        }
        if let Ok(a) = ArpPacket::new_checked(d) {
            acc += u64::from(a.operation()) + u64::from(a.hardware_type()) + u64::from(a.protocol_type());
            acc += u64::from(a.hardware_len()) + u64::from(a.protocol_len()) + u64::from(u32::from(a.target_ip()));
            acc += u64::from(ArpRepr::parse(&a).is_ok());
        }
        if let Ok(Some(n)) = NdpRepr::parse(d, &Ipv6Addr::LOCALHOST, 255) {
            acc += u64::from(n.target().octets()[0]) + n.message_len() as u64;
        }
        acc += u64::from(super::ndp::verify_icmpv6(&Ipv6Addr::LOCALHOST, &Ipv6Addr::LOCALHOST, d));
    }
    acc
}
