//! Ethernet II: MAC addresses, the header view, and 802.1Q / 802.1ad tag skipping.

use std::fmt;
use std::str::FromStr;

use super::error::{BuildError, ParseError};

/// A 48-bit Ethernet address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    pub const fn octets(self) -> [u8; 6] {
        self.0
    }
    pub fn is_broadcast(self) -> bool {
        self == Self::BROADCAST
    }
    /// Group bit set (multicast or broadcast).
    pub fn is_multicast(self) -> bool {
        self.0[0] & 0x01 != 0
    }
    /// An address a single station can own: not group, not all-zero.
    pub fn is_unicast(self) -> bool {
        !self.is_multicast() && self != Self::ZERO
    }
    /// Reads a MAC from the first six bytes of `b` (callers check the length).
    pub(crate) fn from_bytes(b: &[u8]) -> MacAddr {
        let mut m = [0u8; 6];
        m.copy_from_slice(&b[..6]);
        MacAddr(m)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Error from parsing a MAC address string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address (expected six hex octets separated by ':' or '-')")]
pub struct MacParseError;

impl FromStr for MacAddr {
    type Err = MacParseError;
    /// Accepts `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff` (case-insensitive, one or two digits per octet).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut parts = s.split(sep);
        for o in out.iter_mut() {
            let p = parts.next().ok_or(MacParseError)?;
            if p.is_empty() || p.len() > 2 {
                return Err(MacParseError);
            }
            *o = u8::from_str_radix(p, 16).map_err(|_| MacParseError)?;
        }
        if parts.next().is_some() {
            return Err(MacParseError);
        }
        Ok(MacAddr(out))
    }
}

/// EtherType values lzr looks at.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const IPV6: u16 = 0x86dd;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service VLAN tag (QinQ outer tag).
    pub const QINQ: u16 = 0x88a8;
}

/// How many stacked VLAN tags [`EthernetFrame::network`] skips (QinQ: one S-tag plus one C-tag).
pub const MAX_VLAN_TAGS: usize = 2;

/// Where the network layer of a frame starts, after any VLAN tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkLayer {
    /// EtherType of the network layer.
    pub ethertype: u16,
    /// Offset of the network header in the frame.
    pub offset: usize,
    /// VLAN id (12 bits) of the outermost tag, if the frame was tagged.
    pub vlan: Option<u16>,
}

/// Zero-copy view of an Ethernet II header.
#[derive(Clone, Copy, Debug)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Length of an untagged header.
    pub const HEADER_LEN: usize = 14;

    /// Wraps `buffer`, checking it holds at least an untagged header, so no accessor can panic.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        if buffer.as_ref().len() < Self::HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        Ok(EthernetFrame { buffer })
    }
    pub fn into_inner(self) -> T {
        self.buffer
    }
    pub fn dst(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[0..6])
    }
    pub fn src(&self) -> MacAddr {
        MacAddr::from_bytes(&self.buffer.as_ref()[6..12])
    }
    /// The EtherType field right after the addresses (a TPID when the frame is tagged).
    pub fn ethertype(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[12], b[13]])
    }
    /// Bytes after the untagged header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[Self::HEADER_LEN..]
    }
    /// Finds the network layer, skipping up to [`MAX_VLAN_TAGS`] 802.1Q/802.1ad tags.
    pub fn network(&self) -> Result<NetworkLayer, ParseError> {
        let b = self.buffer.as_ref();
        let mut ethertype = self.ethertype();
        let mut offset = Self::HEADER_LEN;
        let mut vlan = None;
        for _ in 0..MAX_VLAN_TAGS {
            if ethertype != ethertype::VLAN && ethertype != ethertype::QINQ {
                break;
            }
            // A tag is TCI (2 bytes) then the next EtherType (2 bytes), in place of the EtherType.
            let tag = b.get(offset..offset + 4).ok_or(ParseError::Truncated)?;
            if vlan.is_none() {
                vlan = Some(u16::from_be_bytes([tag[0], tag[1]]) & 0x0fff);
            }
            ethertype = u16::from_be_bytes([tag[2], tag[3]]);
            offset += 4;
        }
        Ok(NetworkLayer { ethertype, offset, vlan })
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[0..6].copy_from_slice(&mac.0);
    }
    pub fn set_src(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[6..12].copy_from_slice(&mac.0);
    }
    pub fn set_ethertype(&mut self, ethertype: u16) {
        self.buffer.as_mut()[12..14].copy_from_slice(&ethertype.to_be_bytes());
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[Self::HEADER_LEN..]
    }
}

/// An untagged Ethernet II header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthernetRepr {
    pub src: MacAddr,
    pub dst: MacAddr,
    pub ethertype: u16,
}

impl EthernetRepr {
    pub const LEN: usize = 14;

    /// Writes the header at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), BuildError> {
        super::error::ensure_room(buf, Self::LEN)?;
        let mut f = EthernetFrame { buffer: buf };
        f.set_dst(self.dst);
        f.set_src(self.src);
        f.set_ethertype(self.ethertype);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parse_and_display_round_trip() {
        let m: MacAddr = "02:00:5E:10:00:0a".parse().unwrap();
        assert_eq!(m.0, [0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a]);
        assert_eq!(m.to_string(), "02:00:5e:10:00:0a");
        assert_eq!("2-0-5e-10-0-a".parse::<MacAddr>().unwrap(), m);
        for bad in ["", "02:00:5e:10:00", "02:00:5e:10:00:0a:0b", "02:00:5e:10:00:0g", "020:00:5e:10:00:0a", "02::5e:10:00:0a"] {
            assert!(bad.parse::<MacAddr>().is_err(), "{bad}");
        }
        assert!(MacAddr::BROADCAST.is_multicast() && !MacAddr::BROADCAST.is_unicast());
        assert!(!MacAddr::ZERO.is_unicast() && m.is_unicast());
    }

    #[test]
    fn skips_stacked_vlan_tags() {
        let mut f = [0u8; 14 + 8 + 4];
        f[12..14].copy_from_slice(&ethertype::QINQ.to_be_bytes());
        f[14..16].copy_from_slice(&0x2064u16.to_be_bytes()); // PCP 1, VID 0x064
        f[16..18].copy_from_slice(&ethertype::VLAN.to_be_bytes());
        f[18..20].copy_from_slice(&0x0005u16.to_be_bytes());
        f[20..22].copy_from_slice(&ethertype::IPV6.to_be_bytes());
        let n = EthernetFrame::new_checked(&f[..]).unwrap().network().unwrap();
        assert_eq!(n, NetworkLayer { ethertype: ethertype::IPV6, offset: 22, vlan: Some(0x064) });
        // A third tag is not skipped: it surfaces as the (unsupported) EtherType 0x8100.
        f[20..22].copy_from_slice(&ethertype::VLAN.to_be_bytes());
        assert_eq!(EthernetFrame::new_checked(&f[..]).unwrap().network().unwrap().ethertype, ethertype::VLAN);
        // A tag cut short is a truncation.
        assert_eq!(EthernetFrame::new_checked(&f[..17]).unwrap().network(), Err(ParseError::Truncated));
        assert_eq!(EthernetFrame::new_checked(&f[..13]).err(), Some(ParseError::Truncated));
    }
}
