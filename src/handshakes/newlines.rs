//! `newlines`: sends `\n\n` (2 bytes) to make line-based services talk. No rule.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Newlines;

impl FixedProbe for Newlines {
    const NAME: &'static str = "newlines";
    const PROBE: &'static [u8] = b"\n\n";

    fn rule(_data: &[u8]) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_and_rule() {
        assert_eq!(Newlines::PROBE, b"\n\n");
        assert_eq!(Newlines::rule(b"\n\n"), None);
    }
}
