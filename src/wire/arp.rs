//! ARP for IPv4 over Ethernet (RFC 826): the packet view, its repr, and the frame builder.

use std::net::Ipv4Addr;

use super::error::{ensure_room, BuildError, ParseError};
use super::ethernet::{ethertype, EthernetRepr, MacAddr};

/// ARP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    Request,
    Reply,
}

impl ArpOperation {
    pub const fn code(self) -> u16 {
        match self {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
        }
    }
}

/// Zero-copy view of an ARP packet (the Ethernet/IPv4 form: 28 bytes).
#[derive(Clone, Copy, Debug)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Length of an Ethernet/IPv4 ARP packet.
    pub const LEN: usize = 28;

    /// Wraps `buffer`, checking it holds 28 bytes, so no accessor can panic. Does not check the
    /// hardware/protocol types: [`ArpRepr::parse`] does.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        if buffer.as_ref().len() < Self::LEN {
            return Err(ParseError::Truncated);
        }
        Ok(ArpPacket { buffer })
    }
    fn u16_at(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }
    fn ip_at(&self, at: usize) -> Ipv4Addr {
        let b = self.buffer.as_ref();
        Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
    }
    pub fn hardware_type(&self) -> u16 {
        self.u16_at(0)
    }
    pub fn protocol_type(&self) -> u16 {
        self.u16_at(2)
    }
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[4]
    }
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[5]
    }
    pub fn operation(&self) -> u16 {
        self.u16_at(6)
    }
    pub fn sender_mac(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[8..14])
    }
    pub fn sender_ip(&self) -> Ipv4Addr {
        self.ip_at(14)
    }
    pub fn target_mac(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[18..24])
    }
    pub fn target_ip(&self) -> Ipv4Addr {
        self.ip_at(24)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.buffer.as_mut()[at..at + bytes.len()].copy_from_slice(bytes);
    }
    /// Writes the fixed Ethernet/IPv4 type and length fields.
    pub fn set_ethernet_ipv4_types(&mut self) {
        self.put(0, &1u16.to_be_bytes());
        self.put(2, &ethertype::IPV4.to_be_bytes());
        self.put(4, &[6, 4]);
    }
    pub fn set_operation(&mut self, op: u16) {
        self.put(6, &op.to_be_bytes());
    }
    pub fn set_sender_mac(&mut self, mac: MacAddr) {
        self.put(8, &mac.0);
    }
    pub fn set_sender_ip(&mut self, ip: Ipv4Addr) {
        self.put(14, &ip.octets());
    }
    pub fn set_target_mac(&mut self, mac: MacAddr) {
        self.put(18, &mac.0);
    }
    pub fn set_target_ip(&mut self, ip: Ipv4Addr) {
        self.put(24, &ip.octets());
    }
}

/// A parsed ARP packet (IPv4 over Ethernet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpRepr {
    pub operation: ArpOperation,
    pub sender_mac: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// Validates the types and the operation.
    pub fn parse<T: AsRef<[u8]>>(p: &ArpPacket<T>) -> Result<ArpRepr, ParseError> {
        if p.hardware_type() != 1 || p.protocol_type() != ethertype::IPV4 || p.hardware_len() != 6 || p.protocol_len() != 4 {
            return Err(ParseError::UnsupportedArp);
        }
        let operation = match p.operation() {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            _ => return Err(ParseError::UnsupportedArp),
        };
        Ok(ArpRepr {
            operation,
            sender_mac: p.sender_mac(),
            sender_ip: p.sender_ip(),
            target_mac: p.target_mac(),
            target_ip: p.target_ip(),
        })
    }

    /// "Who has `target_ip`? Tell `our_ip`."
    pub fn request(our_mac: MacAddr, our_ip: Ipv4Addr, target_ip: Ipv4Addr) -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Request,
            sender_mac: our_mac,
            sender_ip: our_ip,
            target_mac: MacAddr::ZERO,
            target_ip,
        }
    }

    /// The reply to `request` saying that its target address is at `our_mac`.
    pub fn reply_to(request: &ArpRepr, our_mac: MacAddr) -> ArpRepr {
        ArpRepr {
            operation: ArpOperation::Reply,
            sender_mac: our_mac,
            sender_ip: request.target_ip,
            target_mac: request.sender_mac,
            target_ip: request.sender_ip,
        }
    }

    /// Writes the 28-byte packet at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), BuildError> {
        ensure_room(buf, ArpPacket::<&[u8]>::LEN)?;
        let mut p = ArpPacket { buffer: buf };
        p.set_ethernet_ipv4_types();
        p.set_operation(self.operation.code());
        p.set_sender_mac(self.sender_mac);
        p.set_sender_ip(self.sender_ip);
        p.set_target_mac(self.target_mac);
        p.set_target_ip(self.target_ip);
        Ok(())
    }

    /// Length of the Ethernet frame [`build_frame`](Self::build_frame) writes (no padding to 60 bytes: NICs pad).
    pub const FRAME_LEN: usize = EthernetRepr::LEN + ArpPacket::<&[u8]>::LEN;

    /// Writes an Ethernet frame carrying this packet: source MAC = `sender_mac`; destination = broadcast for a
    /// request, `target_mac` for a reply. Returns the frame length.
    pub fn build_frame(&self, buf: &mut [u8]) -> Result<usize, BuildError> {
        ensure_room(buf, Self::FRAME_LEN)?;
        let dst = match self.operation {
            ArpOperation::Request => MacAddr::BROADCAST,
            ArpOperation::Reply => self.target_mac,
        };
        EthernetRepr { src: self.sender_mac, dst, ethertype: ethertype::ARP }.emit(buf)?;
        self.emit(&mut buf[EthernetRepr::LEN..])?;
        Ok(Self::FRAME_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_other_types_and_operations() {
        let req = ArpRepr::request(MacAddr([2, 0, 0, 0, 0, 1]), Ipv4Addr::new(198, 18, 0, 1), Ipv4Addr::new(198, 18, 0, 254));
        let mut b = [0u8; 28];
        req.emit(&mut b).unwrap();
        assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&b[..]).unwrap()), Ok(req));
        for (at, v) in [(1usize, 6u8), (3, 0xdd), (4, 8), (5, 16), (7, 3)] {
            let mut bad = b;
            bad[at] = v;
            assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&bad[..]).unwrap()), Err(ParseError::UnsupportedArp));
        }
        assert_eq!(ArpPacket::new_checked(&b[..27]).err(), Some(ParseError::Truncated));
    }
}
