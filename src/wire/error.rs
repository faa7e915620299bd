//! Why a received frame was dropped, and why a frame could not be built.
//!
//! [`ParseError`] has one variant per reason so the engine can keep one drop counter per reason
//! (`ParseError::ALL`, `err as usize`, `err.as_str()`).

use thiserror::Error;

/// Why [`parse_frame`](super::parse_frame) (or a view constructor) rejected a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
#[repr(u8)]
pub enum ParseError {
    /// The frame ends before a header (or the length a header announces) does.
    #[error("frame truncated")]
    Truncated,
    /// An EtherType that is neither IPv4, IPv6 nor ARP (after at most two VLAN tags).
    #[error("unsupported EtherType")]
    UnsupportedEthertype,
    /// The IP version nibble does not match the EtherType.
    #[error("bad IP version")]
    BadIpVersion,
    /// IPv4 IHL below 5 or beyond the packet.
    #[error("bad IPv4 header length")]
    BadIpHeaderLength,
    /// IPv4 total length shorter than its own header.
    #[error("bad IP total length")]
    BadIpLength,
    /// IPv4 header checksum does not verify.
    #[error("bad IPv4 header checksum")]
    BadIpChecksum,
    /// An IP fragment. lzr never reassembles: servers set DF on the segments lzr looks at, and a fragment of
    /// anything else is not worth the memory.
    #[error("IP fragment")]
    Fragment,
    /// An IPv6 extension header chain that is malformed or longer than lzr walks.
    #[error("bad IPv6 extension headers")]
    BadExtensionHeader,
    /// TCP data offset below 5 or beyond the segment.
    #[error("bad TCP header length")]
    BadTcpHeaderLength,
    /// ARP for something other than IPv4 over Ethernet, or an operation other than request/reply.
    #[error("unsupported ARP packet")]
    UnsupportedArp,
    /// A neighbour solicitation/advertisement failing RFC 4861 validation (hop limit, code, length, options).
    #[error("bad neighbour discovery message")]
    BadNdp,
    /// ICMPv6 checksum does not verify.
    #[error("bad ICMPv6 checksum")]
    BadIcmpv6Checksum,
}

impl ParseError {
    /// Every variant, in discriminant order (`ALL[e as usize] == e`).
    pub const ALL: [ParseError; 12] = [
        ParseError::Truncated,
        ParseError::UnsupportedEthertype,
        ParseError::BadIpVersion,
        ParseError::BadIpHeaderLength,
        ParseError::BadIpLength,
        ParseError::BadIpChecksum,
        ParseError::Fragment,
        ParseError::BadExtensionHeader,
        ParseError::BadTcpHeaderLength,
        ParseError::UnsupportedArp,
        ParseError::BadNdp,
        ParseError::BadIcmpv6Checksum,
    ];

    /// Stable snake_case name for counters and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            ParseError::Truncated => "truncated",
            ParseError::UnsupportedEthertype => "unsupported_ethertype",
            ParseError::BadIpVersion => "bad_ip_version",
            ParseError::BadIpHeaderLength => "bad_ip_header_length",
            ParseError::BadIpLength => "bad_ip_length",
            ParseError::BadIpChecksum => "bad_ip_checksum",
            ParseError::Fragment => "fragment",
            ParseError::BadExtensionHeader => "bad_extension_header",
            ParseError::BadTcpHeaderLength => "bad_tcp_header_length",
            ParseError::UnsupportedArp => "unsupported_arp",
            ParseError::BadNdp => "bad_ndp",
            ParseError::BadIcmpv6Checksum => "bad_icmpv6_checksum",
        }
    }
}

/// Why a frame could not be written into the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum BuildError {
    /// The buffer is shorter than the frame.
    #[error("buffer too small: frame needs {needed} bytes, buffer has {available}")]
    BufferTooSmall { needed: usize, available: usize },
    /// The payload does not fit in one IP packet (IPv4 total length / IPv6 payload length are 16 bits).
    #[error("payload of {0} bytes does not fit in one IP packet")]
    PayloadTooLarge(usize),
    /// An IPv4 destination given to an IPv6 template or the other way round.
    #[error("destination address family does not match the template")]
    AddressFamilyMismatch,
}

/// Checks that `buf` can hold `needed` bytes.
pub(crate) fn ensure_room(buf: &[u8], needed: usize) -> Result<(), BuildError> {
    if buf.len() < needed {
        Err(BuildError::BufferTooSmall { needed, available: buf.len() })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_discriminant_order_and_names_are_unique() {
        for (i, e) in ParseError::ALL.iter().enumerate() {
            assert_eq!(*e as usize, i);
        }
        let mut names: Vec<_> = ParseError::ALL.iter().map(|e| e.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ParseError::ALL.len());
    }
}
