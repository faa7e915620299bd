//! IPv4 (RFC 791): the header view and the repr lzr emits (no options).
//!
//! Options are skipped using IHL. Fragments are reported by [`Ipv4Packet::is_fragment`]; lzr drops them
//! (first fragments included: lzr does not reassemble).

use std::net::Ipv4Addr;

use super::checksum;
use super::error::{ensure_room, BuildError, ParseError};

/// Zero-copy view of an IPv4 packet. The buffer may extend beyond the packet (Ethernet padding):
/// [`payload`](Self::payload) stops at the total length.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Length of a header without options.
    pub const MIN_HEADER_LEN: usize = 20;

    /// Wraps `buffer` after checking version, IHL and total length against the buffer, so no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        let b = buffer.as_ref();
        if b.len() < Self::MIN_HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(ParseError::BadIpVersion);
        }
        let header_len = usize::from(b[0] & 0x0f) * 4;
        if header_len < Self::MIN_HEADER_LEN {
            return Err(ParseError::BadIpHeaderLength);
        }
        let total_len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if total_len < header_len {
            return Err(ParseError::BadIpLength);
        }
        if header_len > b.len() || total_len > b.len() {
            return Err(ParseError::Truncated);
        }
        Ok(Ipv4Packet { buffer })
    }
    pub fn into_inner(self) -> T {
        self.buffer
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    fn u16_at(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.b()[at], self.b()[at + 1]])
    }
    pub fn version(&self) -> u8 {
        self.b()[0] >> 4
    }
    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[0] & 0x0f) * 4
    }
    pub fn dscp_ecn(&self) -> u8 {
        self.b()[1]
    }
    pub fn total_len(&self) -> u16 {
        self.u16_at(2)
    }
    pub fn ident(&self) -> u16 {
        self.u16_at(4)
    }
    pub fn dont_frag(&self) -> bool {
        self.b()[6] & 0x40 != 0
    }
    pub fn more_frags(&self) -> bool {
        self.b()[6] & 0x20 != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (self.u16_at(6) & 0x1fff) << 3
    }
    /// True for any fragment, first or not.
    pub fn is_fragment(&self) -> bool {
        self.u16_at(6) & 0x3fff != 0
    }
    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }
    pub fn protocol(&self) -> u8 {
        self.b()[9]
    }
    pub fn checksum(&self) -> u16 {
        self.u16_at(10)
    }
    pub fn src(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }
    pub fn dst(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }
    /// The header, options included.
    pub fn header(&self) -> &[u8] {
        &self.b()[..self.header_len()]
    }
    /// True when the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::data_verifies(self.header())
    }
    /// The bytes after the header, up to the total length.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.buffer.as_mut()[at..at + bytes.len()].copy_from_slice(bytes);
    }
    pub fn set_total_len(&mut self, len: u16) {
        self.put(2, &len.to_be_bytes());
    }
    pub fn set_ttl(&mut self, ttl: u8) {
        self.buffer.as_mut()[8] = ttl;
    }
    pub fn set_checksum(&mut self, c: u16) {
        self.put(10, &c.to_be_bytes());
    }
    pub fn set_src(&mut self, ip: Ipv4Addr) {
        self.put(12, &ip.octets());
    }
    pub fn set_dst(&mut self, ip: Ipv4Addr) {
        self.put(16, &ip.octets());
    }
    /// Recomputes the header checksum from scratch.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::internet_checksum(self.header());
        self.set_checksum(c);
    }
}

/// An IPv4 header as lzr sends it: no options, DSCP/ECN 0, ID 0, no flags (DF clear) — the original's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    /// Length of what follows the header.
    pub payload_len: u16,
}

impl Ipv4Repr {
    pub const HEADER_LEN: usize = 20;

    /// Writes the header, checksum included, at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), BuildError> {
        ensure_room(buf, Self::HEADER_LEN)?;
        let total = usize::from(self.payload_len) + Self::HEADER_LEN;
        let total = u16::try_from(total).map_err(|_| BuildError::PayloadTooLarge(usize::from(self.payload_len)))?;
        let h = &mut buf[..Self::HEADER_LEN];
        h.fill(0);
        h[0] = 0x45;
        let mut p = Ipv4Packet { buffer: h };
        p.set_total_len(total);
        p.set_ttl(self.ttl);
        p.buffer[9] = self.protocol;
        p.set_src(self.src);
        p.set_dst(self.dst);
        p.fill_checksum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(total: u16) -> Vec<u8> {
        let mut b = vec![0u8; 60];
        Ipv4Repr { src: Ipv4Addr::new(198, 18, 0, 1), dst: Ipv4Addr::new(198, 19, 1, 2), protocol: 6, ttl: 64, payload_len: total - 20 }
            .emit(&mut b)
            .unwrap();
        b
    }

    #[test]
    fn emitted_header_parses_and_verifies() {
        let b = header(40);
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.version(), p.header_len(), p.total_len(), p.ttl(), p.protocol()), (4, 20, 40, 64, 6));
        assert!(!p.dont_frag() && !p.is_fragment() && p.ident() == 0);
        assert!(p.verify_checksum());
        assert_eq!(p.payload().len(), 20, "Ethernet padding beyond total length is not payload");
    }

    #[test]
    fn rejects_bad_headers() {
        let good = header(40);
        let check = |f: &dyn Fn(&mut Vec<u8>), e: ParseError| {
            let mut b = good.clone();
            f(&mut b);
            assert_eq!(Ipv4Packet::new_checked(&b[..]).err(), Some(e));
        };
        check(&|b| b[0] = 0x65, ParseError::BadIpVersion);
        check(&|b| b[0] = 0x44, ParseError::BadIpHeaderLength);
        check(&|b| b[2..4].copy_from_slice(&19u16.to_be_bytes()), ParseError::BadIpLength);
        check(&|b| b[2..4].copy_from_slice(&61u16.to_be_bytes()), ParseError::Truncated);
        check(&|b| b.truncate(19), ParseError::Truncated);
        check(&|b| { b[0] = 0x4f; b[2..4].copy_from_slice(&60u16.to_be_bytes()); b.truncate(59) }, ParseError::Truncated);
    }

    #[test]
    fn fragment_bits() {
        let mut b = header(40);
        b[6] = 0x20; // MF, offset 0: a first fragment
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert!(p.is_fragment() && p.more_frags() && p.frag_offset() == 0);
        b[6] = 0x00;
        b[7] = 0x03;
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert!(p.is_fragment() && p.frag_offset() == 24);
        b[6] = 0x40;
        b[7] = 0;
        assert!(!Ipv4Packet::new_checked(&b[..]).unwrap().is_fragment());
    }
}
