//! `kubernetes`: the `tls` ClientHello; the rule looks for `kubernetes` in the answer, which a TLS ≤ 1.2 server
//! carries in plaintext in its certificate (the API server's default certificate names `kubernetes`).

use super::text::{needle::KUBERNETES, Haystack};
use super::tls::{write_client_hello, CLIENT_HELLO_LEN};
use super::{Handshake, ProbeContext};

#[derive(Debug, Default)]
pub struct Kubernetes;

pub fn rule(data: &[u8]) -> Option<&'static str> {
    check(data)
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    h.has(KUBERNETES).then_some("kubernetes")
}

impl Handshake for Kubernetes {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn write_probe(&self, ctx: &ProbeContext, out: &mut Vec<u8>) {
        write_client_hello(ctx.seed, out);
    }

    fn probe_len(&self, _ctx: &ProbeContext) -> usize {
        CLIENT_HELLO_LEN
    }

    fn fingerprint(&self, data: &[u8]) -> Option<&'static str> {
        rule(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::test_util::{ctx_v4, probe};
    use crate::handshakes::tls::Tls;

    #[test]
    fn probe_is_the_tls_client_hello() {
        let mut ctx = ctx_v4(198, 18, 1, 2);
        ctx.seed = 42;
        assert_eq!(probe(&Kubernetes, &ctx), probe(&Tls, &ctx));
    }

    #[test]
    fn rule_edges() {
        assert_eq!(rule(b"\x16\x03\x03\x04\x00\x0b...0\x15\x31\x13\x30\x11\x06\x03U\x04\x03\x13\x0akubernetes"), Some("kubernetes"));
        assert_eq!(rule(b"Kubernetes"), None, "case-sensitive");
    }
}
