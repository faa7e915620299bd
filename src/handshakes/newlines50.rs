//! `newlines50`: sends 50 × `\n`. No rule.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Newlines50;

impl FixedProbe for Newlines50 {
    const NAME: &'static str = "newlines50";
    const PROBE: &'static [u8] = &[b'\n'; 50];

    fn rule(_data: &[u8]) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_and_rule() {
        assert_eq!(Newlines50::PROBE.len(), 50);
        assert!(Newlines50::PROBE.iter().all(|&b| b == b'\n'));
        assert_eq!(Newlines50::rule(b"\n"), None);
    }
}
