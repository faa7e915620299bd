//! TCP flag bits, shared by the wire views, the flow state machine and the output records.

use std::fmt;

/// TCP flags as they appear in byte 13 of the TCP header.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: TcpFlags = TcpFlags(0x01);
    pub const SYN: TcpFlags = TcpFlags(0x02);
    pub const RST: TcpFlags = TcpFlags(0x04);
    pub const PSH: TcpFlags = TcpFlags(0x08);
    pub const ACK: TcpFlags = TcpFlags(0x10);
    pub const URG: TcpFlags = TcpFlags(0x20);
    pub const SYN_ACK: TcpFlags = TcpFlags(0x12);
    pub const RST_ACK: TcpFlags = TcpFlags(0x14);
    pub const PSH_ACK: TcpFlags = TcpFlags(0x18);

    pub const fn empty() -> Self {
        TcpFlags(0)
    }
    pub const fn bits(self) -> u8 {
        self.0
    }
    /// True when every bit of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }
    pub const fn union(self, other: TcpFlags) -> Self {
        TcpFlags(self.0 | other.0)
    }
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        self.union(rhs)
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(u8, &str); 6] = [(0x02, "SYN"), (0x10, "ACK"), (0x08, "PSH"), (0x01, "FIN"), (0x04, "RST"), (0x20, "URG")];
        let mut first = true;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_ack_is_both_bits() {
        assert!(TcpFlags::SYN_ACK.syn() && TcpFlags::SYN_ACK.ack());
        assert!(!TcpFlags::SYN_ACK.rst());
        assert_eq!(TcpFlags::SYN | TcpFlags::ACK, TcpFlags::SYN_ACK);
        assert_eq!(format!("{:?}", TcpFlags::RST_ACK), "ACK|RST");
    }
}
