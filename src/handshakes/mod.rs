//! Handshakes: one module per protocol LZR knows, each giving the probe it sends and the rule that names an answer.
//!
//! Design (after ZGrab2's modules and ZMap's probe modules):
//! - every protocol lives in its own file (`amqp.rs` … `x11.rs`) behind the small [`Handshake`] trait;
//! - [`registry`] lists them in ONE place, in the sorted order the original runs its rules in (reference §7);
//! - [`matcher`] runs every rule over an answer, joins the labels and applies the preference list and the
//!   hierarchy of the original, returning one label;
//! - [`text`] holds the byte-search helpers the rules share (case-sensitive search, the original's Go
//!   lower-casing, the ASCII guard), so each rule reads like its one-line description in docs/fingerprints.md;
//! - [`options`] holds what the user may change in probes (User-Agent, the IPv6 `Host:` form).
//!
//! Probe bytes are byte-exact with the reference (§6.2, §6.3) including its quirks (SMB header, MSSQL offset);
//! the only probe bytes that change per connection are TLS's 32 random bytes, derived from [`ProbeContext::seed`]
//! so retransmissions resend identical bytes. Everything here is pure: no I/O, no clock, no global randomness.

use std::net::IpAddr;

pub mod matcher;
pub mod options;
pub mod registry;
pub mod text;

pub mod amqp;
pub mod bgp;
pub mod dnp3;
pub mod dns;
pub mod fox;
pub mod ftp;
pub mod http;
pub mod imap;
pub mod ipmi;
pub mod ipp;
pub mod kubernetes;
pub mod memcached_ascii;
pub mod memcached_binary;
pub mod modbus;
pub mod mongodb;
pub mod mqtt;
pub mod mssql;
pub mod mysql;
pub mod newlines;
pub mod newlines50;
pub mod oracle;
pub mod pop3;
pub mod postgres;
pub mod pptp;
pub mod rdp;
pub mod redis;
pub mod rtsp;
pub mod siemens;
pub mod smb;
pub mod smtp;
pub mod ssh;
pub mod telnet;
pub mod tls;
pub mod vnc;
pub mod wait;
pub mod x11;

pub use matcher::{Matcher, MatcherOptions, ECHO_LABEL, UNKNOWN_LABEL};
pub use options::{
    Ipv6HostForm, ProbeOptions, ProbeOptionsError, CHROME_USER_AGENT, ZGRAB_USER_AGENT,
};
pub use registry::{HandshakeList, HandshakeListError};

/// What a probe may depend on: the target, and a per-connection seed chosen by the flow engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeContext {
    /// The remote host (HTTP and IPP put it in `Host:`).
    pub dst: IpAddr,
    /// The remote port (no probe of the original uses it; kept so a module could).
    pub dst_port: u16,
    /// Per-connection value from a keyed PRF; TLS derives its ClientHello random from it.
    pub seed: u64,
}

/// One protocol: the probe we send and the rule that recognises its answers.
pub trait Handshake: Sync + Send {
    fn name(&self) -> &'static str;
    /// Append this handshake's probe for the target to `out` (empty for server-first ones). Deterministic
    /// given `ctx` (retransmissions must resend identical bytes): TLS's 32 random bytes derive from ctx.seed
    /// (a keyed-PRF output the flow engine picks per connection), so each ClientHello is fresh yet reproducible.
    fn write_probe(&self, ctx: &ProbeContext, out: &mut Vec<u8>);
    /// Length of the probe for ctx without building it (the flow engine needs it for sequence numbers).
    fn probe_len(&self, ctx: &ProbeContext) -> usize;
    /// The label this module gives to `data`, if any (rules of §6; `tls` can answer `ssl`).
    fn fingerprint(&self, data: &[u8]) -> Option<&'static str>;
}

/// Most probes do not depend on the target: a constant byte string and a rule. Implementing this gives
/// [`Handshake`] for free, so such a module is just its name, its bytes and its rule.
pub(crate) trait FixedProbe: Sync + Send {
    const NAME: &'static str;
    const PROBE: &'static [u8];
    fn rule(data: &[u8]) -> Option<&'static str>;
}

impl<T: FixedProbe> Handshake for T {
    fn name(&self) -> &'static str {
        T::NAME
    }

    fn write_probe(&self, _ctx: &ProbeContext, out: &mut Vec<u8>) {
        out.extend_from_slice(T::PROBE);
    }

    fn probe_len(&self, _ctx: &ProbeContext) -> usize {
        T::PROBE.len()
    }

    fn fingerprint(&self, data: &[u8]) -> Option<&'static str> {
        T::rule(data)
    }
}

/// The probe of `handshake` for `ctx` as a fresh vector (tests and the `fingerprint` command's echo check).
pub fn probe_bytes(handshake: &dyn Handshake, ctx: &ProbeContext) -> Vec<u8> {
    let mut out = Vec::with_capacity(handshake.probe_len(ctx));
    handshake.write_probe(ctx, &mut out);
    out
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use std::net::Ipv4Addr;

    pub fn ctx_v4(a: u8, b: u8, c: u8, d: u8) -> ProbeContext {
        ProbeContext {
            dst: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
            dst_port: 80,
            seed: 0,
        }
    }

    /// Build the probe and check that `probe_len` agrees with it.
    pub fn probe(h: &dyn Handshake, ctx: &ProbeContext) -> Vec<u8> {
        let bytes = probe_bytes(h, ctx);
        assert_eq!(
            bytes.len(),
            h.probe_len(ctx),
            "probe_len disagrees with write_probe for {}",
            h.name()
        );
        bytes
    }

    /// Decode hex with optional spaces (test vectors copied from the reference).
    pub fn hex(s: &str) -> Vec<u8> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        ::hex::decode(compact).expect("test vector is valid hex")
    }
}
