//! `dnp3`: 1002 bytes: `00 00`, then 100 DNP3 link-layer "request link status" frames, one per destination
//! address 0..=99 (reference §6.3). Each frame is `05 64` (start), `05` (length), `c9` (DIR=1, PRM=1, function 9),
//! destination (u16 LE), source 0 (u16 LE), and the CRC-16/DNP of those 8 bytes (LE). The original ships the
//! bytes as a hex constant; here they are generated at compile time from that recipe, and a test pins the first
//! frame to the reference's `056405c900000000364c`.
//!
//! Rule: length ≥ 10 and the answer starts with `05 64` → `dnp3`.

use super::FixedProbe;

/// Frames in the probe (destinations 0..FRAMES).
const FRAMES: usize = 100;
const FRAME_LEN: usize = 10;
pub const PROBE_LEN: usize = 2 + FRAMES * FRAME_LEN;

/// CRC-16/DNP: reflected polynomial 0xA6BC (0x3D65 reversed), init 0, final XOR 0xFFFF.
pub const fn crc16_dnp(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    let mut i = 0;
    while i < bytes.len() {
        crc ^= bytes[i] as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xa6bc
            } else {
                crc >> 1
            };
            bit += 1;
        }
        i += 1;
    }
    !crc
}

const fn build_probe() -> [u8; PROBE_LEN] {
    let mut out = [0u8; PROBE_LEN];
    let mut d = 0;
    while d < FRAMES {
        let at = 2 + d * FRAME_LEN;
        let dest = (d as u16).to_le_bytes();
        let header = [0x05, 0x64, 0x05, 0xc9, dest[0], dest[1], 0x00, 0x00];
        let crc = crc16_dnp(&header).to_le_bytes();
        let mut i = 0;
        while i < 8 {
            out[at + i] = header[i];
            i += 1;
        }
        out[at + 8] = crc[0];
        out[at + 9] = crc[1];
        d += 1;
    }
    out
}

static PROBE: [u8; PROBE_LEN] = build_probe();

#[derive(Debug, Default)]
pub struct Dnp3;

impl FixedProbe for Dnp3 {
    const NAME: &'static str = "dnp3";
    const PROBE: &'static [u8] = &PROBE;

    fn rule(data: &[u8]) -> Option<&'static str> {
        (data.len() >= 10 && data.starts_with(&[0x05, 0x64])).then_some("dnp3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, hex, probe};

    #[test]
    fn probe_matches_the_reference_recipe() {
        let bytes = probe(&Dnp3, &ctx_v4(1, 2, 3, 4));
        assert_eq!(bytes.len(), 1002);
        assert_eq!(&bytes[..2], &[0, 0]);
        assert_eq!(&bytes[2..12], hex("056405c900000000364c").as_slice());
        for (d, frame) in bytes[2..].chunks_exact(10).enumerate() {
            assert_eq!(&frame[..4], &[0x05, 0x64, 0x05, 0xc9]);
            assert_eq!(u16::from_le_bytes([frame[4], frame[5]]) as usize, d);
            assert_eq!(&frame[6..8], &[0, 0]);
            assert_eq!(
                u16::from_le_bytes([frame[8], frame[9]]),
                crc16_dnp(&frame[..8])
            );
        }
    }

    #[test]
    fn crc_check_value() {
        // The catalogue check value of CRC-16/DNP over "123456789".
        assert_eq!(crc16_dnp(b"123456789"), 0xea82);
    }

    #[test]
    fn rule_edges() {
        // Link status response (function 11) from outstation 1 to master 0.
        assert_eq!(Dnp3::rule(&hex("0564050b00000100 ffff")), Some("dnp3"));
        assert_eq!(
            Dnp3::rule(&hex("0564050b000001000000")[..9]),
            None,
            "9 bytes"
        );
        assert_eq!(Dnp3::rule(&hex("0565050b000001000000")), None);
    }
}
