//! TCP (RFC 9293): the segment view, option parsing (MSS, window scale, SACK-permitted, timestamps) and the
//! checksum checks for IPv4 and IPv6.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::checksum;
use super::error::ParseError;
use super::TcpFlags;

/// TCP option kinds lzr reads or writes.
pub mod option_kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
}

/// Zero-copy view of a TCP segment: header, options, payload. The buffer must end where the segment ends (the IP
/// layer bounds it).
#[derive(Clone, Copy, Debug)]
pub struct TcpSegment<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpSegment<T> {
    pub const MIN_HEADER_LEN: usize = 20;

    /// Wraps `buffer` after checking the data offset (at least 5 words, within the segment), so no accessor can
    /// panic.
    pub fn new_checked(buffer: T) -> Result<Self, ParseError> {
        let b = buffer.as_ref();
        if b.len() < Self::MIN_HEADER_LEN {
            return Err(ParseError::Truncated);
        }
        let header_len = usize::from(b[12] >> 4) * 4;
        if header_len < Self::MIN_HEADER_LEN || header_len > b.len() {
            return Err(ParseError::BadTcpHeaderLength);
        }
        Ok(TcpSegment { buffer })
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
    fn u32_at(&self, at: usize) -> u32 {
        let b = self.b();
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }
    pub fn src_port(&self) -> u16 {
        self.u16_at(0)
    }
    pub fn dst_port(&self) -> u16 {
        self.u16_at(2)
    }
    pub fn seq(&self) -> u32 {
        self.u32_at(4)
    }
    pub fn ack(&self) -> u32 {
        self.u32_at(8)
    }
    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[12] >> 4) * 4
    }
    /// The flag byte (CWR, ECE, URG, ACK, PSH, RST, SYN, FIN).
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.b()[13])
    }
    pub fn window(&self) -> u16 {
        self.u16_at(14)
    }
    pub fn checksum(&self) -> u16 {
        self.u16_at(16)
    }
    pub fn urgent(&self) -> u16 {
        self.u16_at(18)
    }
    /// The raw option bytes.
    pub fn options(&self) -> &[u8] {
        &self.b()[Self::MIN_HEADER_LEN..self.header_len()]
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
    /// The options lzr cares about.
    pub fn options_summary(&self) -> TcpOptions {
        TcpOptions::parse(self.options())
    }
    /// True when the checksum verifies over IPv4.
    pub fn verify_checksum_v4(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        // A segment above 64 KiB (which no IPv4 packet carries) does not verify.
        checksum::tcp_verifies_v4(src, dst, self.b())
    }
    /// True when the checksum verifies over IPv6.
    pub fn verify_checksum_v6(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        let Ok(len) = u32::try_from(self.b().len()) else { return false };
        checksum::verifies(checksum::combine(
            checksum::pseudo_header_v6(src, dst, checksum::PROTO_TCP, len),
            checksum::sum(self.b()),
        ))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpSegment<T> {
    fn put(&mut self, at: usize, bytes: &[u8]) {
        self.buffer.as_mut()[at..at + bytes.len()].copy_from_slice(bytes);
    }
    pub fn set_src_port(&mut self, v: u16) {
        self.put(0, &v.to_be_bytes());
    }
    pub fn set_dst_port(&mut self, v: u16) {
        self.put(2, &v.to_be_bytes());
    }
    pub fn set_seq(&mut self, v: u32) {
        self.put(4, &v.to_be_bytes());
    }
    pub fn set_ack(&mut self, v: u32) {
        self.put(8, &v.to_be_bytes());
    }
    pub fn set_flags(&mut self, f: TcpFlags) {
        self.buffer.as_mut()[13] = f.bits();
    }
    pub fn set_window(&mut self, v: u16) {
        self.put(14, &v.to_be_bytes());
    }
    pub fn set_checksum(&mut self, v: u16) {
        self.put(16, &v.to_be_bytes());
    }
    /// Recomputes the checksum from scratch over IPv4.
    pub fn fill_checksum_v4(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = checksum::tcp_checksum_v4(src, dst, self.buffer.as_ref());
        self.set_checksum(c);
    }
    /// Recomputes the checksum from scratch over IPv6.
    pub fn fill_checksum_v6(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        self.set_checksum(0);
        let c = checksum::tcp_checksum_v6(src, dst, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// One TCP option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// SACK blocks, raw (pairs of 32-bit edges).
    Sack(&'a [u8]),
    Timestamps { value: u32, echo: u32 },
    Unknown { kind: u8, data: &'a [u8] },
}

/// Iterator over the options of a segment. Stops at End-of-Options; yields `Err` once (then stops) on an option
/// whose length is invalid or runs past the header.
#[derive(Clone, Debug)]
pub struct TcpOptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptionIter<'a> {
    pub fn new(options: &'a [u8]) -> Self {
        TcpOptionIter { rest: options }
    }
}

/// An option whose length field is invalid for its kind or runs past the options area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedOption;

impl<'a> Iterator for TcpOptionIter<'a> {
    type Item = Result<TcpOption<'a>, MalformedOption>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&kind, after_kind) = self.rest.split_first()?;
            match kind {
                option_kind::END => {
                    self.rest = &[];
                    return None;
                }
                option_kind::NOP => {
                    self.rest = after_kind;
                    continue;
                }
                _ => {}
            }
            let len = match after_kind.first() {
                Some(&l) if l >= 2 && usize::from(l) <= self.rest.len() => usize::from(l),
                _ => {
                    self.rest = &[];
                    return Some(Err(MalformedOption));
                }
            };
            let data = &self.rest[2..len];
            self.rest = &self.rest[len..];
            let opt = match (kind, data) {
                (option_kind::MSS, &[a, b]) => TcpOption::Mss(u16::from_be_bytes([a, b])),
                (option_kind::WINDOW_SCALE, &[s]) => TcpOption::WindowScale(s),
                (option_kind::SACK_PERMITTED, &[]) => TcpOption::SackPermitted,
                (option_kind::SACK, d) if d.len() % 8 == 0 && !d.is_empty() => TcpOption::Sack(d),
                (option_kind::TIMESTAMPS, &[a, b, c, d, e, f, g, h]) => TcpOption::Timestamps {
                    value: u32::from_be_bytes([a, b, c, d]),
                    echo: u32::from_be_bytes([e, f, g, h]),
                },
                (option_kind::MSS | option_kind::WINDOW_SCALE | option_kind::SACK_PERMITTED | option_kind::SACK | option_kind::TIMESTAMPS, _) => {
                    self.rest = &[];
                    return Some(Err(MalformedOption));
                }
                (kind, data) => TcpOption::Unknown { kind, data },
            };
            return Some(Ok(opt));
        }
    }
}

/// What a segment's options say, as far as lzr cares. `malformed` is set when an option could not be parsed
/// (parsing stops there; what came before is kept). Real stacks ignore such options rather than drop the segment,
/// and so does lzr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    /// (TSval, TSecr)
    pub timestamps: Option<(u32, u32)>,
    pub malformed: bool,
}

impl TcpOptions {
    pub fn parse(options: &[u8]) -> TcpOptions {
        let mut out = TcpOptions::default();
        for opt in TcpOptionIter::new(options) {
            match opt {
                Ok(TcpOption::Mss(m)) => out.mss = Some(m),
                Ok(TcpOption::WindowScale(s)) => out.window_scale = Some(s),
                Ok(TcpOption::SackPermitted) => out.sack_permitted = true,
                Ok(TcpOption::Timestamps { value, echo }) => out.timestamps = Some((value, echo)),
                Ok(TcpOption::Sack(_) | TcpOption::Unknown { .. }) => {}
                Err(MalformedOption) => out.malformed = true,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_linux_syn_option_block() {
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7: the 20 bytes a Linux SYN carries.
        let opts = hex::decode("020405b40402080a0001e2400000000001030307").unwrap();
        let o = TcpOptions::parse(&opts);
        assert_eq!(
            o,
            TcpOptions { mss: Some(1460), window_scale: Some(7), sack_permitted: true, timestamps: Some((0x1e240, 0)), malformed: false }
        );
    }

    #[test]
    fn malformed_options_stop_parsing_without_panicking() {
        // Zero length, length past the end, wrong length for MSS, length 1.
        for opts in [&[2u8, 0][..], &[3, 3][..], &[2, 3, 5][..], &[8, 1, 0, 0][..], &[0x42][..]] {
            assert!(TcpOptions::parse(opts).malformed, "{opts:?}");
        }
        // What precedes the bad option is kept; End-of-Options ends the list even if garbage follows.
        let o = TcpOptions::parse(&[1, 3, 3, 9, 2, 4]);
        assert_eq!((o.window_scale, o.malformed), (Some(9), true));
        let o = TcpOptions::parse(&[4, 2, 0, 0xff, 0xff]);
        assert!(o.sack_permitted && !o.malformed);
        let unknown: Vec<_> = TcpOptionIter::new(&[0x22, 4, 1, 2]).collect();
        assert_eq!(unknown, vec![Ok(TcpOption::Unknown { kind: 0x22, data: &[1, 2] })]);
    }

    #[test]
    fn data_offset_is_validated() {
        let mut b = [0u8; 24];
        b[12] = 0x40;
        assert_eq!(TcpSegment::new_checked(&b[..]).err(), Some(ParseError::BadTcpHeaderLength));
        b[12] = 0x70;
        assert_eq!(TcpSegment::new_checked(&b[..]).err(), Some(ParseError::BadTcpHeaderLength));
        b[12] = 0x60;
        let s = TcpSegment::new_checked(&b[..]).unwrap();
        assert_eq!((s.header_len(), s.options().len(), s.payload().len()), (24, 4, 0));
        assert_eq!(TcpSegment::new_checked(&b[..19]).err(), Some(ParseError::Truncated));
    }
}
