//! Prebuilt frames for what lzr sends — SYN, ACK(+PSH) with payload, RST — over IPv4 and IPv6.
//!
//! A [`FrameTemplate`] is built once per (source MAC, next-hop MAC, source IP). It holds the header bytes of each
//! frame kind with every constant field already in place (Ethernet, IP version/TTL/protocol/source, TCP data
//! offset and options) and the one's-complement sums of those constant fields (the IPv4 header's, and the TCP
//! checksum's including the constant half of the pseudo-header). Filling a frame for one flow copies the header,
//! writes the per-flow fields (destination IP, ports, seq, ack, flags, window, lengths, payload) and finishes both
//! checksums by adding only those fields to the precomputed sums — it never re-reads the constant bytes.
//!
//! Layout follows the original (reference §3.2): IPv4 with TTL 64, ID 0, DF clear, no IP options; IPv6 with hop
//! limit 64, zero traffic class and flow label; TCP urgent pointer 0; no options on ACK and RST.
//!
//! **SYN options.** The original sends SYNs without any TCP option. A host that sees no MSS option must assume
//! the RFC 9293 default of 536 bytes, so some servers cut their answers into small segments, and a few middleboxes
//! treat option-less SYNs as suspicious. lzr therefore adds one MSS option by default (1460 over IPv4, 1440 over
//! IPv6: a 1500-byte MTU minus headers) — [`SynOptions::Mss`]. [`SynOptions::None`] keeps the original's exact
//! layout. SYNs advertise a constant window (65535 by default) where the original re-sent the last window it had
//! received (reference §3.2 note).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::checksum::{fold, sum, PROTO_TCP};
use super::error::{ensure_room, BuildError};
use super::ethernet::{ethertype, EthernetRepr, MacAddr};
use super::ipv4::Ipv4Repr;
use super::ipv6::Ipv6Repr;
use super::tcp::option_kind;
use super::TcpFlags;

const ETH_LEN: usize = EthernetRepr::LEN;
const TCP_LEN: usize = 20;
const MAX_HEADERS: usize = ETH_LEN + Ipv6Repr::HEADER_LEN + TCP_LEN + 4;

/// Which TCP options a SYN carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynOptions {
    /// No options (data offset 5): the original's exact SYN.
    None,
    /// One maximum-segment-size option (data offset 6).
    Mss(u16),
}

impl SynOptions {
    fn len(self) -> usize {
        match self {
            SynOptions::None => 0,
            SynOptions::Mss(_) => 4,
        }
    }
}

/// The constant choices baked into a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateConfig {
    pub syn_options: SynOptions,
    /// Window advertised on SYNs.
    pub syn_window: u16,
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
}

impl TemplateConfig {
    pub const DEFAULT_TTL: u8 = 64;
    pub const DEFAULT_SYN_WINDOW: u16 = 65535;
    pub const MSS_V4: u16 = 1460;
    pub const MSS_V6: u16 = 1440;

    /// lzr's default: a SYN with an MSS option suited to a 1500-byte MTU for the source address's family.
    pub fn recommended(src_ip: IpAddr) -> TemplateConfig {
        let mss = if src_ip.is_ipv6() { Self::MSS_V6 } else { Self::MSS_V4 };
        TemplateConfig { syn_options: SynOptions::Mss(mss), syn_window: Self::DEFAULT_SYN_WINDOW, ttl: Self::DEFAULT_TTL }
    }
    /// The original's frames byte for byte (SYNs without options), with the constant SYN window.
    pub fn original() -> TemplateConfig {
        TemplateConfig { syn_options: SynOptions::None, syn_window: Self::DEFAULT_SYN_WINDOW, ttl: Self::DEFAULT_TTL }
    }
}

/// Where a frame goes, in sending orientation: the remote address, our port, the remote port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoints {
    pub dst_ip: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
}

/// The per-flow part of an ACK (+PSH) segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckSegment<'p> {
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    /// Set PSH as well as ACK (the original sets it on retransmissions).
    pub psh: bool,
    pub payload: &'p [u8],
}

/// Headers of one frame kind with their constant sums.
#[derive(Clone, Debug)]
struct Image {
    bytes: [u8; MAX_HEADERS],
    len: usize,
    /// IPv4 header sum of the constant fields (zero for IPv6).
    ip_sum: u32,
    /// TCP checksum sum of the constant fields: source address, protocol, data offset, options.
    tcp_sum: u32,
}

/// The per-flow fields of any segment.
struct Fields<'p> {
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    window: u16,
    payload: &'p [u8],
}

/// Prebuilt SYN / ACK / RST frames for one source. See the module documentation.
#[derive(Clone, Debug)]
pub struct FrameTemplate {
    src_ip: IpAddr,
    config: TemplateConfig,
    /// Offset of the TCP header (34 for IPv4, 54 for IPv6).
    tcp_at: usize,
    syn: Image,
    /// ACK and RST share one layout (no options).
    plain: Image,
}

impl FrameTemplate {
    /// Prebuilds the frames sent from `src_mac`/`src_ip` to `dst_mac` (the gateway's, or the next hop's on a flat
    /// network).
    pub fn new(src_mac: MacAddr, dst_mac: MacAddr, src_ip: IpAddr, config: TemplateConfig) -> FrameTemplate {
        let tcp_at = ETH_LEN + if src_ip.is_ipv6() { Ipv6Repr::HEADER_LEN } else { Ipv4Repr::HEADER_LEN };
        let image = |options: SynOptions| {
            let mut bytes = [0u8; MAX_HEADERS];
            let len = tcp_at + TCP_LEN + options.len();
            let eth = match src_ip {
                IpAddr::V4(_) => ethertype::IPV4,
                IpAddr::V6(_) => ethertype::IPV6,
            };
            // Emitting into a fixed array of sufficient size cannot fail.
            let _ = EthernetRepr { src: src_mac, dst: dst_mac, ethertype: eth }.emit(&mut bytes);
            // Addresses/lengths are left zero here: they are per flow and added to the sums at fill time.
            let ip_sum = match src_ip {
                IpAddr::V4(src) => {
                    let _ = Ipv4Repr { src, dst: Ipv4Addr::UNSPECIFIED, protocol: PROTO_TCP, ttl: config.ttl, payload_len: 0 }
                        .emit(&mut bytes[ETH_LEN..]);
                    // emit wrote a total length of 20 and its checksum: zero both, then sum the constant fields.
                    bytes[ETH_LEN + 2..ETH_LEN + 4].fill(0);
                    bytes[ETH_LEN + 10..ETH_LEN + 12].fill(0);
                    sum(&bytes[ETH_LEN..tcp_at])
                }
                IpAddr::V6(src) => {
                    let _ = Ipv6Repr { src, dst: Ipv6Addr::UNSPECIFIED, next_header: PROTO_TCP, hop_limit: config.ttl, payload_len: 0 }
                        .emit(&mut bytes[ETH_LEN..]);
                    0
                }
            };
            let tcp = &mut bytes[tcp_at..len];
            tcp[12] = ((TCP_LEN + options.len()) / 4) as u8 * 16;
            if let SynOptions::Mss(mss) = options {
                tcp[20] = option_kind::MSS;
                tcp[21] = 4;
                tcp[22..24].copy_from_slice(&mss.to_be_bytes());
            }
            let src_sum = match src_ip {
                IpAddr::V4(s) => sum(&s.octets()),
                IpAddr::V6(s) => sum(&s.octets()),
            };
            let tcp_sum = fold(u64::from(src_sum) + u64::from(PROTO_TCP) + u64::from(sum(tcp)));
            Image { bytes, len, ip_sum, tcp_sum }
        };
        FrameTemplate { src_ip, config, tcp_at, syn: image(config.syn_options), plain: image(SynOptions::None) }
    }

    #[inline]
    pub fn src_ip(&self) -> IpAddr {
        self.src_ip
    }
    pub fn config(&self) -> TemplateConfig {
        self.config
    }
    /// Points the template at another next hop (the Ethernet destination is outside every checksum).
    pub fn set_dst_mac(&mut self, mac: MacAddr) {
        self.syn.bytes[0..6].copy_from_slice(&mac.0);
        self.plain.bytes[0..6].copy_from_slice(&mac.0);
    }
    /// Length of a SYN frame.
    pub fn syn_len(&self) -> usize {
        self.syn.len
    }
    /// Length of an ACK frame carrying `payload_len` bytes.
    pub fn ack_len(&self, payload_len: usize) -> usize {
        self.plain.len + payload_len
    }
    /// Length of an RST frame.
    pub fn rst_len(&self) -> usize {
        self.plain.len
    }

    /// Writes a SYN (ack 0, the configured window and options) into `buf`; returns the frame length.
    pub fn syn(&self, buf: &mut [u8], to: Endpoints, seq: u32) -> Result<usize, BuildError> {
        let f = Fields { seq, ack: 0, flags: TcpFlags::SYN, window: self.config.syn_window, payload: &[] };
        self.fill(&self.syn, buf, to, &f)
    }

    /// Writes an ACK (or PSH+ACK) carrying `seg.payload`; returns the frame length.
    pub fn ack(&self, buf: &mut [u8], to: Endpoints, seg: &AckSegment<'_>) -> Result<usize, BuildError> {
        let flags = if seg.psh { TcpFlags::PSH_ACK } else { TcpFlags::ACK };
        let f = Fields { seq: seg.seq, ack: seg.ack, flags, window: seg.window, payload: seg.payload };
        self.fill(&self.plain, buf, to, &f)
    }

    /// Writes a bare RST (ack 0, window 0) with sequence number `seq`; returns the frame length.
    pub fn rst(&self, buf: &mut [u8], to: Endpoints, seq: u32) -> Result<usize, BuildError> {
        let f = Fields { seq, ack: 0, flags: TcpFlags::RST, window: 0, payload: &[] };
        self.fill(&self.plain, buf, to, &f)
    }

    /// Writes any option-less segment with the given fields (a responder's SYN-ACK or data, in the simulator
    /// and in tests); returns the frame length, [`ack_len`](Self::ack_len)`(payload.len())`.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &self,
        buf: &mut [u8],
        to: Endpoints,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        window: u16,
        payload: &[u8],
    ) -> Result<usize, BuildError> {
        let f = Fields { seq, ack, flags, window, payload };
        self.fill(&self.plain, buf, to, &f)
    }

    fn fill(&self, img: &Image, buf: &mut [u8], to: Endpoints, f: &Fields<'_>) -> Result<usize, BuildError> {
        let total = img.len + f.payload.len();
        let tcp_len = total - self.tcp_at;
        let ip_len = match self.src_ip {
            IpAddr::V4(_) => tcp_len + Ipv4Repr::HEADER_LEN,
            IpAddr::V6(_) => tcp_len,
        };
        let ip_len = u16::try_from(ip_len).map_err(|_| BuildError::PayloadTooLarge(f.payload.len()))?;
        ensure_room(buf, total)?;
        let (headers, payload) = buf[..total].split_at_mut(img.len);
        headers.copy_from_slice(&img.bytes[..img.len]);
        payload.copy_from_slice(f.payload);
        // Both checksums are finished from 64-bit accumulators of the per-flow fields, folded once at the end.
        let dst_sum: u64 = match (self.src_ip, to.dst_ip) {
            (IpAddr::V4(_), IpAddr::V4(d)) => {
                buf[ETH_LEN + 16..ETH_LEN + 20].copy_from_slice(&d.octets());
                halves(u32::from(d))
            }
            (IpAddr::V6(_), IpAddr::V6(d)) => {
                buf[ETH_LEN + 24..ETH_LEN + 40].copy_from_slice(&d.octets());
                u64::from(sum(&d.octets()))
            }
            _ => return Err(BuildError::AddressFamilyMismatch),
        };
        if self.src_ip.is_ipv4() {
            buf[ETH_LEN + 2..ETH_LEN + 4].copy_from_slice(&ip_len.to_be_bytes());
            let ip_sum = fold(u64::from(img.ip_sum) + dst_sum + u64::from(ip_len));
            buf[ETH_LEN + 10..ETH_LEN + 12].copy_from_slice(&(!(ip_sum as u16)).to_be_bytes());
        } else {
            buf[ETH_LEN + 4..ETH_LEN + 6].copy_from_slice(&ip_len.to_be_bytes());
        }

        // A fixed-size view of the TCP header: the field writes below need no bounds checks.
        let room = buf.len();
        let t: &mut [u8; TCP_LEN] = buf
            .get_mut(self.tcp_at..self.tcp_at + TCP_LEN)
            .and_then(|t| t.try_into().ok())
            .ok_or(BuildError::BufferTooSmall { needed: total, available: room })?;
        t[0..2].copy_from_slice(&to.src_port.to_be_bytes());
        t[2..4].copy_from_slice(&to.dst_port.to_be_bytes());
        t[4..8].copy_from_slice(&f.seq.to_be_bytes());
        t[8..12].copy_from_slice(&f.ack.to_be_bytes());
        t[13] = f.flags.bits();
        t[14..16].copy_from_slice(&f.window.to_be_bytes());
        let payload_sum = if f.payload.is_empty() { 0 } else { u64::from(sum(f.payload)) };
        let tcp_sum = u64::from(img.tcp_sum)
            + dst_sum
            + tcp_len as u64
            + u64::from(to.src_port)
            + u64::from(to.dst_port)
            + halves(f.seq)
            + halves(f.ack)
            + u64::from(f.flags.bits())
            + u64::from(f.window)
            + payload_sum;
        t[16..18].copy_from_slice(&(!(fold(tcp_sum) as u16)).to_be_bytes());
        Ok(total)
    }
}

/// The two 16-bit words of a 32-bit field, added (unfolded: the caller folds its accumulator once).
#[inline]
fn halves(v: u32) -> u64 {
    u64::from(v >> 16) + u64::from(v & 0xffff)
}
