//! Cross-module tests of the wire layer: real Linux frames (captured between two network namespaces on a veth pair
//! with checksum offload off, 198.18.0.1/2 and 2001:db8::1/2), builder round trips, template checksums against
//! full recomputation, truncation and seeded mutation.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use rand::{Rng, SeedableRng};

use super::checksum;
use super::*;

const MAC_A: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0a, 0x01]);
const MAC_B: MacAddr = MacAddr([0x02, 0, 0, 0, 0x0b, 0x02]);

/// ARP request from A for 198.18.0.2.
const LINUX_ARP_REQUEST: &str = "ffffffffffff020000000a0108060001080006040001020000000a01c6120001000000000000c6120002";
/// B's ARP reply.
const LINUX_ARP_REPLY: &str = "020000000a01020000000b0208060001080006040002020000000b02c6120002020000000a01c6120001";
/// SYN 198.18.0.1:54786 -> 198.18.0.2:8080 with MSS, SACK-permitted, timestamps, window scale.
const LINUX_SYN_V4: &str = "020000000b02020000000a0108004500003c6b83400040064311c6120001c6120002d6021f90a8cf1fa000000000a002faf0c0670000020405b40402080a7667cc12000000000103030a";
/// The SYN-ACK answering it.
const LINUX_SYNACK_V4: &str = "020000000a01020000000b0208004500003c000040004006ae94c6120002c61200011f90d602b24c9ccfa8cf1fa1a012fe88f5020000020405b40402080afe3b7a637667cc120103030a";
/// The server's PSH+ACK carrying "HTTP/1.0 200 OK\r\n\r\nhello" (odd length: 25 bytes).
const LINUX_DATA_V4: &str = "020000000a01020000000b0208004500004c044640004006aa3ec6120002c61200011f90d602b24c9cd0a8cf1fb38018004085d300000101080afe3b7a637667cc12485454502f312e3020323030204f4b0d0a0d0a68656c6c6f";
/// NS from 2001:db8::1 for 2001:db8::2 with a source link-layer option.
const LINUX_NS: &str = "3333ff000002020000000a0186dd6000000000203aff20010db8000000000000000000000001ff0200000000000000000001ff000002870012270000000020010db80000000000000000000000020101020000000a01";
/// B's NA (solicited, override) with a target link-layer option.
const LINUX_NA: &str = "020000000a01020000000b0286dd6000000000203aff20010db800000000000000000000000220010db800000000000000000000000188007f716000000020010db80000000000000000000000020201020000000b02";
/// Duplicate-address-detection NS from :: carrying a nonce option (type 14).
const LINUX_DAD_NS: &str = "3333ff000b02020000000b0286dd6000000000203aff00000000000000000000000000000000ff0200000000000000000001ff000b028700bdc600000000fe80000000000000000000fffe000b020e0109e3968afae5";
/// Router solicitation: ICMPv6 that is not neighbour discovery.
const LINUX_RS: &str = "333300000002020000000a0186dd6000000000103afffe80000000000000000000fffe000a01ff0200000000000000000000000000028500672c000000000101020000000a01";
/// SYN-ACK over IPv6 (flow label set).
const LINUX_SYNACK_V6: &str = "020000000a01020000000b0286dd60009f5a0028064020010db800000000000000000000000220010db80000000000000000000000011f9090ae580264ac6e578c86a012fb0439f30000020405a00402080ad4afbcde8a8833b20103030a";
/// The server's PSH+ACK over IPv6 carrying the same 25 bytes.
const LINUX_DATA_V6: &str = "020000000a01020000000b0286dd60009f5a0038064020010db800000000000000000000000220010db80000000000000000000000011f9090ae580264ad6e578c988018003fc72600000101080ad4afbce18a8833b5485454502f312e3020323030204f4b0d0a0d0a68656c6c6f";

const ALL_LINUX: [&str; 11] = [
    LINUX_ARP_REQUEST,
    LINUX_ARP_REPLY,
    LINUX_SYN_V4,
    LINUX_SYNACK_V4,
    LINUX_DATA_V4,
    LINUX_NS,
    LINUX_NA,
    LINUX_DAD_NS,
    LINUX_RS,
    LINUX_SYNACK_V6,
    LINUX_DATA_V6,
];

fn bytes(h: &str) -> Vec<u8> {
    hex::decode(h).unwrap()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn v6(s: &str) -> IpAddr {
    IpAddr::V6(s.parse().unwrap())
}

fn tcp(frame: &[u8]) -> TcpFrame<'_> {
    match parse_frame(frame) {
        Ok(Frame::Tcp(t)) => t,
        other => panic!("expected TCP, got {other:?}"),
    }
}

#[test]
fn linux_syn_ack_v4_fields() {
    let f = bytes(LINUX_SYNACK_V4);
    let t = tcp(&f);
    assert_eq!((t.src_mac, t.dst_mac, t.vlan), (MAC_B, MAC_A, None));
    assert_eq!((t.src_ip, t.dst_ip, t.ttl), (v4(198, 18, 0, 2), v4(198, 18, 0, 1), 64));
    assert_eq!((t.src_port, t.dst_port, t.seq, t.ack, t.window), (8080, 54786, 2991365327, 2832146337, 65160));
    assert_eq!(t.flags, TcpFlags::SYN_ACK);
    assert_eq!(
        t.options,
        TcpOptions { mss: Some(1460), window_scale: Some(10), sack_permitted: true, timestamps: Some((4265310819, 1986513938)), malformed: false }
    );
    assert!(t.payload.is_empty() && t.checksum_valid() && !t.is_ipv6());
}

#[test]
fn linux_data_segments_v4_v6() {
    for (h, src, dst) in [(LINUX_DATA_V4, v4(198, 18, 0, 2), v4(198, 18, 0, 1)), (LINUX_DATA_V6, v6("2001:db8::2"), v6("2001:db8::1"))] {
        let f = bytes(h);
        let t = tcp(&f);
        assert_eq!((t.src_ip, t.dst_ip, t.src_port), (src, dst, 8080));
        assert_eq!(t.flags, TcpFlags::PSH_ACK);
        assert_eq!(t.payload, b"HTTP/1.0 200 OK\r\n\r\nhello");
        assert!(t.checksum_valid(), "{h}");
        assert!(t.options.timestamps.is_some() && t.options.mss.is_none());
    }
    let f = bytes(LINUX_SYNACK_V6);
    let t = tcp(&f);
    assert_eq!((t.seq, t.ack, t.window, t.options.mss, t.ttl), (1476551852, 1851231366, 64260, Some(1440), 64));
    assert!(t.checksum_valid() && t.is_ipv6());
}

#[test]
fn linux_checksums_known_answers() {
    // Zero each checksum field and recompute: the result must be what the Linux kernel wrote.
    for h in [LINUX_SYN_V4, LINUX_SYNACK_V4, LINUX_DATA_V4] {
        let mut f = bytes(h);
        let linux_ip = u16::from_be_bytes([f[24], f[25]]);
        let linux_tcp = u16::from_be_bytes([f[50], f[51]]);
        let mut ip = Ipv4Packet::new_checked(&mut f[14..]).unwrap();
        ip.fill_checksum();
        assert_eq!(ip.checksum(), linux_ip);
        let (src, dst) = (ip.src(), ip.dst());
        let mut seg = TcpSegment::new_checked(&mut f[34..]).unwrap();
        seg.fill_checksum_v4(src, dst);
        assert_eq!(seg.checksum(), linux_tcp, "{h}");
    }
    for h in [LINUX_SYNACK_V6, LINUX_DATA_V6] {
        let mut f = bytes(h);
        let linux_tcp = u16::from_be_bytes([f[70], f[71]]);
        let ip = Ipv6Packet::new_checked(&f[14..]).unwrap();
        let (src, dst) = (ip.src(), ip.dst());
        let mut seg = TcpSegment::new_checked(&mut f[54..]).unwrap();
        seg.fill_checksum_v6(&src, &dst);
        assert_eq!(seg.checksum(), linux_tcp, "{h}");
    }
    for h in [LINUX_NS, LINUX_NA, LINUX_DAD_NS, LINUX_RS] {
        let mut f = bytes(h);
        let linux = u16::from_be_bytes([f[56], f[57]]);
        f[56..58].fill(0);
        let ip = Ipv6Packet::new_checked(&f[14..]).unwrap();
        assert_eq!(checksum::icmpv6_checksum(&ip.src(), &ip.dst(), ip.payload()), linux, "{h}");
    }
}

#[test]
fn arp_builder_reproduces_linux_bytes() {
    let (a_ip, b_ip) = (Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 2));
    let mut buf = [0u8; 64];
    let req = ArpRepr::request(MAC_A, a_ip, b_ip);
    let n = req.build_frame(&mut buf).unwrap();
    assert_eq!(hex::encode(&buf[..n]), LINUX_ARP_REQUEST);
    let n = ArpRepr::reply_to(&req, MAC_B).build_frame(&mut buf).unwrap();
    assert_eq!(hex::encode(&buf[..n]), LINUX_ARP_REPLY);
    let f = bytes(LINUX_ARP_REQUEST);
    assert_eq!(parse_frame(&f), Ok(Frame::Arp(ArpFrame { src_mac: MAC_A, dst_mac: MacAddr::BROADCAST, vlan: None, arp: req })));
    assert_eq!(req.build_frame(&mut buf[..41]), Err(BuildError::BufferTooSmall { needed: 42, available: 41 }));
}

#[test]
fn ndp_builder_reproduces_linux_bytes() {
    let (a_ip, b_ip): (Ipv6Addr, Ipv6Addr) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
    let mut buf = [0u8; 128];
    let ns = NdpFrame::solicit(MAC_A, a_ip, b_ip);
    let n = ns.build(&mut buf).unwrap();
    assert_eq!(hex::encode(&buf[..n]), LINUX_NS);
    let na = ns.advert_reply(MAC_B).unwrap();
    let n = na.build(&mut buf).unwrap();
    assert_eq!(hex::encode(&buf[..n]), LINUX_NA);
    // And the parser agrees with what was built.
    let f = bytes(LINUX_NS);
    assert_eq!(parse_frame(&f), Ok(Frame::Ndp(ns)));
    let f = bytes(LINUX_NA);
    assert_eq!(parse_frame(&f), Ok(Frame::Ndp(na)));
    assert!(na.advert_reply(MAC_A).is_none(), "an advertisement is not answered");
}

#[test]
fn dad_solicitation_and_other_icmpv6() {
    let f = bytes(LINUX_DAD_NS);
    let Ok(Frame::Ndp(ns)) = parse_frame(&f) else { panic!("DAD NS") };
    assert!(ns.src_ip.is_unspecified());
    assert_eq!(ns.message, NdpRepr::Solicit { target: "fe80::ff:fe00:b02".parse().unwrap(), source_lladdr: None });
    // DAD is answered to all-nodes without the solicited flag.
    let na = ns.advert_reply(MAC_A).unwrap();
    assert_eq!(na.dst_ip, "ff02::1".parse::<Ipv6Addr>().unwrap());
    assert_eq!(na.dst_mac, MacAddr([0x33, 0x33, 0, 0, 0, 1]));
    assert!(matches!(na.message, NdpRepr::Advert { flags: NaFlags::OVERRIDE, .. }));
    let f = bytes(LINUX_RS);
    assert_eq!(parse_frame(&f), Ok(Frame::Other { ip_protocol: 58 }));
}

#[test]
fn corrupted_checksums_are_caught() {
    let mut f = bytes(LINUX_DATA_V4);
    f[24] ^= 1; // IPv4 header checksum
    assert_eq!(parse_frame(&f), Err(ParseError::BadIpChecksum));
    let mut f = bytes(LINUX_DATA_V4);
    *f.last_mut().unwrap() ^= 0x40; // payload byte
    assert!(!tcp(&f).checksum_valid());
    let mut f = bytes(LINUX_DATA_V6);
    f[60] ^= 1; // TCP ack field
    assert!(!tcp(&f).checksum_valid());
    let mut f = bytes(LINUX_NA);
    f[70] ^= 1;
    assert_eq!(parse_frame(&f), Err(ParseError::BadIcmpv6Checksum));
}

#[test]
fn classification_errors() {
    let mut f = bytes(LINUX_SYNACK_V4);
    f[12..14].copy_from_slice(&0x88ccu16.to_be_bytes()); // LLDP
    assert_eq!(parse_frame(&f), Err(ParseError::UnsupportedEthertype));
    let mut f = bytes(LINUX_SYNACK_V4);
    f[14] = 0x65;
    assert_eq!(parse_frame(&f), Err(ParseError::BadIpVersion));
    let mut f = bytes(LINUX_SYNACK_V4);
    f[20] = 0x20; // MF: a first fragment
    assert_eq!(parse_frame(&f), Err(ParseError::Fragment));
    let mut f = bytes(LINUX_SYNACK_V4);
    f[46] = 0x10; // data offset 4
    assert_eq!(parse_frame(&f), Err(ParseError::BadTcpHeaderLength));
    let mut f = bytes(LINUX_SYNACK_V4);
    f[23] = 17; // UDP (header checksum fixed below)
    Ipv4Packet::new_checked(&mut f[14..]).unwrap().fill_checksum();
    assert_eq!(parse_frame(&f), Ok(Frame::Other { ip_protocol: 17 }));
    // Ethernet padding after a short IPv4 packet is not payload.
    let mut f = bytes(LINUX_SYNACK_V4);
    f.extend_from_slice(&[0xee; 6]);
    assert!(tcp(&f).payload.is_empty() && tcp(&f).checksum_valid());
}

#[test]
fn vlan_tagged_frame_parses() {
    let plain = bytes(LINUX_DATA_V4);
    let mut f = plain[..12].to_vec();
    f.extend_from_slice(&[0x81, 0x00, 0x00, 0x2a]);
    f.extend_from_slice(&plain[12..]);
    let t = tcp(&f);
    assert_eq!(t.vlan, Some(42));
    assert_eq!(t.payload, b"HTTP/1.0 200 OK\r\n\r\nhello");
    assert!(t.checksum_valid());
}

#[test]
fn every_truncation_is_an_error() {
    let mut frames: Vec<Vec<u8>> = ALL_LINUX.iter().map(|h| bytes(h)).collect();
    frames.extend(built_frames());
    for f in &frames {
        assert!(parse_frame(f).is_ok(), "{}", hex::encode(f));
        for cut in 0..f.len() {
            assert!(parse_frame(&f[..cut]).is_err(), "prefix {cut} of {}", hex::encode(f));
            super::fuzzing::exercise(&f[..cut]);
        }
    }
}

#[test]
fn seeded_mutations_never_panic() {
    let mut frames: Vec<Vec<u8>> = ALL_LINUX.iter().map(|h| bytes(h)).collect();
    frames.extend(built_frames());
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6c7a_7221);
    let mut outcomes = std::collections::HashMap::new();
    for i in 0..5000 {
        let mut f = frames[i % frames.len()].clone();
        for _ in 0..rng.gen_range(1..4) {
            match rng.gen_range(0..4) {
                0 => {
                    let at = rng.gen_range(0..f.len());
                    f[at] ^= 1 << rng.gen_range(0..8);
                }
                1 => {
                    let at = rng.gen_range(0..f.len());
                    f[at] = rng.gen();
                }
                2 => {
                    let at = rng.gen_range(0..=f.len());
                    f.truncate(at);
                }
                _ => {
                    let at = rng.gen_range(0..=f.len());
                    f.insert(at, rng.gen());
                }
            }
            if f.is_empty() {
                break;
            }
        }
        super::fuzzing::exercise(&f);
        assert_fast_path_agrees(&f);
        let key = match parse_frame(&f) {
            Ok(Frame::Tcp(_)) => "tcp",
            Ok(Frame::Arp(_)) => "arp",
            Ok(Frame::Ndp(_)) => "ndp",
            Ok(Frame::Other { .. }) => "other",
            Err(e) => e.as_str(),
        };
        *outcomes.entry(key).or_insert(0) += 1;
    }
    // The mutations reach both accepting and rejecting paths (a sanity check that they are not all trivially
    // rejected at the first byte).
    for k in ["tcp", "arp", "ndp", "truncated", "bad_ip_checksum"] {
        assert!(outcomes.get(k).copied().unwrap_or(0) > 0, "{k} never reached: {outcomes:?}");
    }
}

/// The IPv4/TCP fast path of `parse_frame` gives exactly what the layer-by-layer path gives, or declines.
fn assert_fast_path_agrees(f: &[u8]) {
    let general = super::frame::parse_layers(f);
    assert_eq!(parse_frame(f), general, "{}", hex::encode(f));
    if let Some(fast) = super::frame::plain_ipv4_tcp(f) {
        assert_eq!(Ok(Frame::Tcp(fast)), general, "{}", hex::encode(f));
    }
}

#[test]
fn fast_path_takes_plain_ipv4_tcp_and_agrees_with_the_general_path() {
    let mut taken = 0;
    let mut frames: Vec<Vec<u8>> = ALL_LINUX.iter().map(|h| bytes(h)).collect();
    frames.extend(built_frames());
    for f in &frames {
        assert_fast_path_agrees(f);
        for cut in 0..f.len() {
            assert_fast_path_agrees(&f[..cut]);
        }
        // Ethernet padding after the IP packet is not part of the segment.
        let mut padded = f.clone();
        padded.extend_from_slice(&[0xee; 9]);
        assert_fast_path_agrees(&padded);
        taken += usize::from(super::frame::plain_ipv4_tcp(f).is_some());
    }
    // The Linux SYN, SYN-ACK, data and the built IPv4 SYN, ACK and RST.
    assert!(taken >= 6, "fast path taken {taken} times");
    // Layouts it leaves to the general path: DF set is fine, but a fragment, IP options or a bad IP checksum
    // are not taken (and the general path says why).
    let plain = bytes(LINUX_DATA_V4);
    assert!(super::frame::plain_ipv4_tcp(&plain).is_some());
    let mut fragment = plain.clone();
    fragment[21] = 0x01;
    assert!(super::frame::plain_ipv4_tcp(&fragment).is_none());
    assert!(parse_frame(&fragment).is_err());
    let mut more_fragments = plain.clone();
    more_fragments[20] |= 0x20;
    assert!(super::frame::plain_ipv4_tcp(&more_fragments).is_none());
    let mut bad_ip_sum = plain.clone();
    bad_ip_sum[24] ^= 0x40;
    assert!(super::frame::plain_ipv4_tcp(&bad_ip_sum).is_none());
    assert_eq!(parse_frame(&bad_ip_sum), Err(ParseError::BadIpChecksum));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random bytes behind a valid-looking IPv4/TCP prefix: the fast path and the general path agree.
    #[test]
    fn fast_path_agrees_on_random_headers(
        mut f in proptest::collection::vec(any::<u8>(), 0..120),
        pin_layout in any::<bool>(),
    ) {
        if pin_layout && f.len() >= 54 {
            f[12] = 0x08;
            f[13] = 0x00;
            f[14] = 0x45;
            f[23] = 6;
            f[20] &= 0x40;
            f[21] = 0;
            f[46] = (f[46] & 0x7f).max(0x50);
            let total = (f.len() - 14) as u16;
            f[16..18].copy_from_slice(&total.to_be_bytes());
            f[24..26].fill(0);
            let c = checksum::internet_checksum(&f[14..34]);
            f[24..26].copy_from_slice(&c.to_be_bytes());
        }
        assert_fast_path_agrees(&f);
    }
}

/// One of each frame lzr builds.
fn built_frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (src, dst) in [(v4(198, 18, 0, 1), v4(198, 19, 7, 9)), (v6("2001:db8::1"), v6("2001:db8:ff::42"))] {
        for cfg in [TemplateConfig::recommended(src), TemplateConfig::original()] {
            let t = FrameTemplate::new(MAC_A, MAC_B, src, cfg);
            let to = Endpoints { dst_ip: dst, src_port: 40000, dst_port: 443 };
            let mut buf = [0u8; 256];
            let n = t.syn(&mut buf, to, 7).unwrap();
            out.push(buf[..n].to_vec());
            let n = t.ack(&mut buf, to, &AckSegment { seq: 8, ack: 9, window: 100, psh: true, payload: b"GET / HTTP/1.1\r\n" }).unwrap();
            out.push(buf[..n].to_vec());
            let n = t.rst(&mut buf, to, 8).unwrap();
            out.push(buf[..n].to_vec());
        }
    }
    out
}

#[test]
fn template_round_trips() {
    for (src, dst) in [(v4(198, 18, 0, 1), v4(198, 19, 7, 9)), (v6("2001:db8::1"), v6("2001:db8:ff::42"))] {
        let t = FrameTemplate::new(MAC_A, MAC_B, src, TemplateConfig::recommended(src));
        let to = Endpoints { dst_ip: dst, src_port: 40001, dst_port: 80 };
        let mut buf = [0u8; 256];

        let n = t.syn(&mut buf, to, 0xdead_beef).unwrap();
        assert_eq!(n, t.syn_len());
        let s = tcp(&buf[..n]);
        assert_eq!((s.src_mac, s.dst_mac, s.src_ip, s.dst_ip, s.ttl), (MAC_A, MAC_B, src, dst, 64));
        assert_eq!((s.src_port, s.dst_port, s.seq, s.ack, s.window, s.flags), (40001, 80, 0xdead_beef, 0, 65535, TcpFlags::SYN));
        let mss = if src.is_ipv6() { 1440 } else { 1460 };
        assert_eq!(s.options, TcpOptions { mss: Some(mss), ..TcpOptions::default() });
        assert!(s.checksum_valid());

        let payload = b"\x16\x03\x01 odd-length payload";
        let seg = AckSegment { seq: 1, ack: u32::MAX, window: 0, psh: false, payload };
        let n = t.ack(&mut buf, to, &seg).unwrap();
        assert_eq!(n, t.ack_len(payload.len()));
        let a = tcp(&buf[..n]);
        assert_eq!((a.seq, a.ack, a.window, a.flags, a.payload), (1, u32::MAX, 0, TcpFlags::ACK, &payload[..]));
        assert!(a.checksum_valid() && a.options == TcpOptions::default());
        let n = t.ack(&mut buf, to, &AckSegment { psh: true, ..seg }).unwrap();
        assert_eq!(tcp(&buf[..n]).flags, TcpFlags::PSH_ACK);

        let n = t.rst(&mut buf, to, 12345).unwrap();
        let r = tcp(&buf[..n]);
        assert_eq!((r.seq, r.ack, r.window, r.flags, n), (12345, 0, 0, TcpFlags::RST, t.rst_len()));
        assert!(r.checksum_valid());

        // Errors: buffer too small, wrong family, payload that cannot fit one IP packet.
        assert!(matches!(t.syn(&mut buf[..n - 1], to, 1), Err(BuildError::BufferTooSmall { .. })));
        let other = if dst.is_ipv6() { v4(1, 2, 3, 4) } else { v6("::1") };
        assert_eq!(t.rst(&mut buf, Endpoints { dst_ip: other, ..to }, 1), Err(BuildError::AddressFamilyMismatch));
        let huge = vec![0u8; 65_536];
        let mut big = vec![0u8; 70_000];
        assert_eq!(t.ack(&mut big, to, &AckSegment { payload: &huge, ..seg }), Err(BuildError::PayloadTooLarge(65_536)));
    }
}

#[test]
fn original_layout_ipv4_syn_bytes() {
    // The original's SYN: 54 bytes, IPv4 ID 0, no DF, TTL 64, data offset 5, no options, window 65535. Both
    // checksums computed by hand from the words: IP 4500+0028+4006+c612+0001+c613+0709 = 0x2185d -> 0x185f,
    // ~ = 0xe7a0; TCP likewise over the pseudo-header and the 20 header bytes = 0x801b.
    let src = v4(198, 18, 0, 1);
    let t = FrameTemplate::new(MAC_A, MAC_B, src, TemplateConfig::original());
    let mut buf = [0u8; 64];
    let n = t.syn(&mut buf, Endpoints { dst_ip: v4(198, 19, 7, 9), src_port: 0x9c40, dst_port: 80 }, 7).unwrap();
    let expect = concat!(
        "020000000b02020000000a010800",
        "45000028000000004006e7a0c6120001c6130709",
        "9c40005000000007000000005002ffff801b0000",
    );
    assert_eq!(hex::encode(&buf[..n]), expect);
    assert_full_recompute_matches(&buf[..n]);
}

/// Recomputes every checksum of a built frame from scratch and compares with what the template wrote.
fn assert_full_recompute_matches(frame: &[u8]) {
    let mut f = frame.to_vec();
    let eth = EthernetFrame::new_checked(&f[..]).unwrap();
    match eth.ethertype() {
        0x0800 => {
            let mut ip = Ipv4Packet::new_checked(&mut f[14..]).unwrap();
            let (src, dst) = (ip.src(), ip.dst());
            ip.fill_checksum();
            let hl = 14 + ip.header_len();
            let mut seg = TcpSegment::new_checked(&mut f[hl..]).unwrap();
            seg.fill_checksum_v4(src, dst);
        }
        _ => {
            let ip = Ipv6Packet::new_checked(&f[14..]).unwrap();
            let (src, dst) = (ip.src(), ip.dst());
            let mut seg = TcpSegment::new_checked(&mut f[54..]).unwrap();
            seg.fill_checksum_v6(&src, &dst);
        }
    }
    assert_eq!(hex::encode(frame), hex::encode(&f));
}

fn any_v4() -> impl Strategy<Value = IpAddr> {
    any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)))
}

fn any_v6() -> impl Strategy<Value = IpAddr> {
    any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn template_checksums_equal_full_recomputation(
        (src, dst) in prop_oneof![(any_v4(), any_v4()), (any_v6(), any_v6())],
        original in any::<bool>(),
        mss in any::<u16>(),
        ttl in any::<u8>(),
        ports in any::<(u16, u16)>(),
        seq in any::<u32>(),
        ack in any::<u32>(),
        window in any::<u16>(),
        psh in any::<bool>(),
        payload in proptest::collection::vec(any::<u8>(), 0..1500),
    ) {
        let cfg = if original { TemplateConfig { ttl, ..TemplateConfig::original() } }
                  else { TemplateConfig { syn_options: SynOptions::Mss(mss), syn_window: window, ttl } };
        let t = FrameTemplate::new(MAC_A, MAC_B, src, cfg);
        let to = Endpoints { dst_ip: dst, src_port: ports.0, dst_port: ports.1 };
        let mut buf = vec![0u8; 1600];
        let n = t.syn(&mut buf, to, seq).unwrap();
        assert_full_recompute_matches(&buf[..n]);
        let n = t.ack(&mut buf, to, &AckSegment { seq, ack, window, psh, payload: &payload }).unwrap();
        assert_full_recompute_matches(&buf[..n]);
        let parsed = tcp(&buf[..n]);
        prop_assert_eq!(parsed.payload, &payload[..]);
        prop_assert!(parsed.checksum_valid());
        let n = t.rst(&mut buf, to, seq).unwrap();
        assert_full_recompute_matches(&buf[..n]);
    }

    #[test]
    fn rfc1624_field_patches_equal_full_recomputation(
        src in any_v4(), dst in any_v4(), dst2 in any_v4(), seq in any::<u32>(), seq2 in any::<u32>(),
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        // Patch a built frame in place (new sequence number, new destination address) with the RFC 1624 helpers.
        let t = FrameTemplate::new(MAC_A, MAC_B, src, TemplateConfig::original());
        let mut buf = vec![0u8; 200];
        let n = t.ack(&mut buf, Endpoints { dst_ip: dst, src_port: 1, dst_port: 2 }, &AckSegment { seq, ack: 3, window: 4, psh: false, payload: &payload }).unwrap();
        let (IpAddr::V4(d1), IpAddr::V4(d2)) = (dst, dst2) else { unreachable!() };
        let ip_c = u16::from_be_bytes([buf[24], buf[25]]);
        let tcp_c = u16::from_be_bytes([buf[50], buf[51]]);
        let ip_c = checksum::update_u32(ip_c, u32::from(d1), u32::from(d2));
        let tcp_c = checksum::update_u32(checksum::update_u32(tcp_c, u32::from(d1), u32::from(d2)), seq, seq2);
        buf[30..34].copy_from_slice(&d2.octets());
        buf[38..42].copy_from_slice(&seq2.to_be_bytes());
        buf[24..26].copy_from_slice(&ip_c.to_be_bytes());
        buf[50..52].copy_from_slice(&tcp_c.to_be_bytes());
        assert_full_recompute_matches(&buf[..n]);
    }
}
