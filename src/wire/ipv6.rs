//! IPv6 (RFC 8200): the header view, extension-header walking to the upper layer, and the repr lzr emits.

use std::net::Ipv6Addr;

use super::error::{ensure_room, BuildError, ParseError};

/// Extension header / next-header numbers lzr knows.
pub mod next_header {
    pub const HOP_BY_HOP: u8 = 0;
    pub const TCP: u8 = 6;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const ESP: u8 = 50;
    pub const AUTH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const NO_NEXT: u8 = 59;
    pub const DEST_OPTS: u8 = 60;
    pub const MOBILITY: u8 = 135;
    pub const HIP: u8 = 139;
    pub const SHIM6: u8 = 140;
}

/// How many extension headers [`Ipv6Packet::upper_layer`] walks before giving up (bounds work per packet).
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// The upper-layer protocol and its bytes, after the extension headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpperLayer<'a> {
    /// Protocol number (TCP, ICMPv6, ... or ESP / No Next Header, which cannot be walked further).
    pub protocol: u8,
    /// Offset of `data` from the start of the IPv6 header.
    pub offset: usize,
    /// The upper-layer bytes, up to the end of the IPv6 payload.
    pub data: &'a [u8],
}

/// Zero-copy view of an IPv6 packet. The buffer may extend beyond the packet (padding); the payload stops at
/// the payload length.
#[derive(Clone, Copy, Debug)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub const HEADER_LEN: usize = 40;

    /// Wraps `buffer` after checking the version and that the payload length fits, so no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        let b = buffer.as_ref();
        if b.len() < Self::HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(ParseError::BadIpVersion);
        }
        let payload_len = usize::from(u16::from_be_bytes([b[4], b[5]]));
        if Self::HEADER_LEN + payload_len > b.len() {
            return Err(ParseError::Truncated);
        }
        Ok(Ipv6Packet { buffer })
    }
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn version(&self) -> u8 {
        self.b()[0] >> 4
    }
    pub fn traffic_class(&self) -> u8 {
        (self.b()[0] << 4) | (self.b()[1] >> 4)
    }
    pub fn flow_label(&self) -> u32 {
        let b = self.b();
        u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]])
    }
    pub fn payload_len(&self) -> u16 {
        u16::from_be_bytes([self.b()[4], self.b()[5]])
    }
    pub fn next_header(&self) -> u8 {
        self.b()[6]
    }
    pub fn hop_limit(&self) -> u8 {
        self.b()[7]
    }
    pub fn src(&self) -> Ipv6Addr {
        addr_at(self.b(), 8)
    }
    pub fn dst(&self) -> Ipv6Addr {
        addr_at(self.b(), 24)
    }
    /// The bytes after the fixed header, up to the payload length.
    pub fn payload(&self) -> &[u8] {
        &self.b()[Self::HEADER_LEN..Self::HEADER_LEN + usize::from(self.payload_len())]
    }

    /// Walks Hop-by-Hop, Routing, Destination Options, Authentication, Mobility, HIP and Shim6 headers and
    /// atomic fragment headers to the upper layer. A real fragment is [`ParseError::Fragment`]; a chain longer
    /// than [`MAX_EXTENSION_HEADERS`] or running past the payload is [`ParseError::BadExtensionHeader`].
    pub fn upper_layer(&self) -> Result<UpperLayer<'_>, ParseError> {
        let payload = self.payload();
        let mut protocol = self.next_header();
        let mut at = 0usize;
        for _ in 0..=MAX_EXTENSION_HEADERS {
            let len = match protocol {
                next_header::HOP_BY_HOP
                | next_header::ROUTING
                | next_header::DEST_OPTS
                | next_header::MOBILITY
                | next_header::HIP
                | next_header::SHIM6 => {
                    let h = payload.get(at..at + 2).ok_or(ParseError::BadExtensionHeader)?;
                    (usize::from(h[1]) + 1) * 8
                }
                next_header::AUTH => {
                    let h = payload.get(at..at + 2).ok_or(ParseError::BadExtensionHeader)?;
                    (usize::from(h[1]) + 2) * 4
                }
                next_header::FRAGMENT => {
                    let h = payload.get(at..at + 8).ok_or(ParseError::BadExtensionHeader)?;
                    // Offset (13 bits) and M flag: anything but an atomic fragment needs reassembly.
                    if u16::from_be_bytes([h[2], h[3]]) & 0xfff9 != 0 {
                        return Err(ParseError::Fragment);
                    }
                    8
                }
                _ => {
                    return Ok(UpperLayer { protocol, offset: Self::HEADER_LEN + at, data: &payload[at..] });
                }
            };
            if at + len > payload.len() {
                return Err(ParseError::BadExtensionHeader);
            }
            protocol = payload[at];
            at += len;
        }
        Err(ParseError::BadExtensionHeader)
    }
}

fn addr_at(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(a)
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.buffer.as_mut()[at..at + bytes.len()].copy_from_slice(bytes);
    }
    pub fn set_payload_len(&mut self, len: u16) {
        self.put(4, &len.to_be_bytes());
    }
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[6] = nh;
    }
    pub fn set_hop_limit(&mut self, hl: u8) {
        self.buffer.as_mut()[7] = hl;
    }
    pub fn set_src(&mut self, ip: &Ipv6Addr) {
        self.put(8, &ip.octets());
    }
    pub fn set_dst(&mut self, ip: &Ipv6Addr) {
        self.put(24, &ip.octets());
    }
}

/// An IPv6 header as lzr sends it: traffic class and flow label zero, no extension headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub hop_limit: u8,
    pub payload_len: u16,
}

impl Ipv6Repr {
    pub const HEADER_LEN: usize = 40;

    /// Writes the header at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), BuildError> {
        ensure_room(buf, Self::HEADER_LEN)?;
        let h = &mut buf[..Self::HEADER_LEN];
        h.fill(0);
        h[0] = 0x60;
        let mut p = Ipv6Packet { buffer: h };
        p.set_payload_len(self.payload_len);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src(&self.src);
        p.set_dst(&self.dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv6 packet whose payload is `chain` (extension headers then upper layer).
    fn packet(first: u8, chain: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 40];
        Ipv6Repr {
            src: "2001:db8::1".parse().unwrap(),
            dst: "2001:db8::2".parse().unwrap(),
            next_header: first,
            hop_limit: 64,
            payload_len: chain.len() as u16,
        }
        .emit(&mut b)
        .unwrap();
        b.extend_from_slice(chain);
        b
    }

    #[test]
    fn walks_extension_headers_to_tcp() {
        let mut chain = Vec::new();
        chain.extend_from_slice(&[next_header::DEST_OPTS, 0, 1, 4, 0, 0, 0, 0]); // hop-by-hop, PadN
        chain.extend_from_slice(&[next_header::FRAGMENT, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // dest opts, 16 bytes
        chain.extend_from_slice(&[next_header::AUTH, 0, 0, 0, 0, 0, 0, 0]); // atomic fragment
        chain.extend_from_slice(&[next_header::TCP, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // AH, (1+2)*4 = 12 bytes
        chain.extend_from_slice(b"tcp!");
        let b = packet(next_header::HOP_BY_HOP, &chain);
        let p = Ipv6Packet::new_checked(&b[..]).unwrap();
        let u = p.upper_layer().unwrap();
        assert_eq!((u.protocol, u.offset, u.data), (next_header::TCP, 40 + 44, &b"tcp!"[..]));
    }

    #[test]
    fn fragments_and_bad_chains_are_errors() {
        let frag = |off_m: u16| {
            let mut c = vec![next_header::TCP, 0];
            c.extend_from_slice(&off_m.to_be_bytes());
            c.extend_from_slice(&[0, 0, 0, 1]);
            packet(next_header::FRAGMENT, &c)
        };
        assert_eq!(Ipv6Packet::new_checked(&frag(1)[..]).unwrap().upper_layer(), Err(ParseError::Fragment));
        assert_eq!(Ipv6Packet::new_checked(&frag(8)[..]).unwrap().upper_layer(), Err(ParseError::Fragment));
        assert_eq!(Ipv6Packet::new_checked(&frag(6)[..]).unwrap().upper_layer().unwrap().protocol, next_header::TCP);
        // Header longer than the payload.
        let b = packet(next_header::ROUTING, &[next_header::TCP, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(Ipv6Packet::new_checked(&b[..]).unwrap().upper_layer(), Err(ParseError::BadExtensionHeader));
        // A loop of destination-options headers longer than the walk bound.
        let chain: Vec<u8> = (0..MAX_EXTENSION_HEADERS + 1).flat_map(|_| [next_header::DEST_OPTS, 0, 0, 0, 0, 0, 0, 0]).collect();
        let b = packet(next_header::DEST_OPTS, &chain);
        assert_eq!(Ipv6Packet::new_checked(&b[..]).unwrap().upper_layer(), Err(ParseError::BadExtensionHeader));
        // ESP cannot be walked: reported as the upper layer.
        let b = packet(next_header::ESP, &[0; 8]);
        assert_eq!(Ipv6Packet::new_checked(&b[..]).unwrap().upper_layer().unwrap().protocol, next_header::ESP);
    }

    #[test]
    fn header_checks() {
        let mut b = packet(next_header::TCP, &[0; 4]);
        assert_eq!(Ipv6Packet::new_checked(&b[..43]).err(), Some(ParseError::Truncated));
        b[0] = 0x40;
        assert_eq!(Ipv6Packet::new_checked(&b[..]).err(), Some(ParseError::BadIpVersion));
        b[0] = 0x6a;
        b[1] = 0xbc;
        b[2] = 0xde;
        b[3] = 0xf1;
        let p = Ipv6Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.traffic_class(), p.flow_label(), p.hop_limit()), (0xab, 0xcdef1, 64));
    }
}
