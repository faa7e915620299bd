//! `x11`: an LSB-first X11 connection setup (`l`, version 11.0, no authorisation; 12 bytes). No rule.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct X11;

impl FixedProbe for X11 {
    const NAME: &'static str = "x11";
    const PROBE: &'static [u8] = &[
        0x6c, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    fn rule(_data: &[u8]) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_and_rule() {
        assert_eq!(X11::PROBE.len(), 12);
        assert_eq!(X11::rule(&[0x01, 0x00, 0x0b, 0x00]), None);
    }
}
