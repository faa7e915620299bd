//! `wait`: sends nothing (a plain ACK) and waits for a server-first banner. It has no rule of its own: the
//! banner is named by the other modules' rules.

use super::FixedProbe;

#[derive(Debug, Default)]
pub struct Wait;

impl FixedProbe for Wait {
    const NAME: &'static str = "wait";
    const PROBE: &'static [u8] = b"";

    fn rule(_data: &[u8]) -> Option<&'static str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, probe};

    #[test]
    fn empty_probe_and_no_label() {
        assert!(probe(&Wait, &ctx_v4(1, 1, 1, 1)).is_empty());
        assert_eq!(Wait::rule(b"SSH-2.0-OpenSSH_9.6\r\n"), None);
    }
}
