//! `bgp`: sends `\n\n` (2 bytes): garbage on purpose, to provoke a NOTIFICATION without touching a real BGP
//! session (BGP speakers usually open first anyway).
//!
//! Rule: length ≥ 16 and the first 16 bytes are all 0xff (the BGP marker) → `bgp`.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Bgp;

impl FixedProbe for Bgp {
    const NAME: &'static str = "bgp";
    const PROBE: &'static [u8] = b"\n\n";

    fn rule(data: &[u8]) -> Option<&'static str> {
        data.get(..16)
            .is_some_and(|marker| marker.iter().all(|&b| b == 0xff))
            .then_some("bgp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::hex;

    #[test]
    fn probe_and_rule() {
        assert_eq!(Bgp::PROBE, b"\n\n");
        // NOTIFICATION (type 3), Message Header Error / Connection Not Synchronized.
        let notification = hex("ffffffffffffffffffffffffffffffff 0015 03 0101");
        assert_eq!(Bgp::rule(&notification), Some("bgp"));
        assert_eq!(Bgp::rule(&[0xff; 16]), Some("bgp"), "exactly the marker");
        assert_eq!(Bgp::rule(&[0xff; 15]), None);
        let mut broken = [0xff; 19];
        broken[15] = 0xfe;
        assert_eq!(Bgp::rule(&broken), None);
    }
}
