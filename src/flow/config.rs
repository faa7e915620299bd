//! What one flow shard needs to know about the campaign: the handshake count, timers, retransmissions, the
//! behaviour flags, HyperACKtive filtering, the data cap, the table size, our ephemeral port range and the
//! per-run secret behind the stateless cookies and the table hash.

use thiserror::Error;

/// Settings of one flow shard. Every worker gets a copy with the same `secret`, so any worker can check any
/// cookie. [`FlowConfig::default`] draws a fresh random secret (one per run).
#[derive(Clone, Debug, PartialEq)]
pub struct FlowConfig {
    /// How many handshakes are tried per target, in order (index 0 first). Which index is which protocol is
    /// the engine's business. 1..=255.
    pub handshakes: u8,
    /// `-rt`: delay before the first retransmission of our ACK + probe, in milliseconds (default 1000).
    pub retransmit_ms: u64,
    /// `-t`: every other wait (SYN answer, wait after a retransmission, wait for data after the host's ACK),
    /// in milliseconds (default 5000). Also the HyperACKtive decision window.
    pub timeout_ms: u64,
    /// `-rn`: retransmissions per stage (SYN, ACK + probe, and the wait for data). Default 1.
    pub retransmissions: u8,
    /// `-forceAllHandshakes`: try every handshake even after data arrived; each data answer is its own record.
    /// Disables HyperACKtive filtering, as in the original.
    pub force_all: bool,
    /// `-pushDataOnly`: the first ACK carries no payload; the probe only goes out on the PSH retransmission.
    pub push_data_only: bool,
    /// The paper's rule (default true): a host that never acknowledged any data we sent is no service, so no
    /// further handshake is tried for it. False gives the original code's behaviour (move on regardless).
    pub stop_when_unacked: bool,
    /// `-haf N`: SYNs to N random ephemeral ports of the host when its first handshake yields nothing. 0 = off.
    /// At most [`FlowConfig::MAX_HAF_PROBES`].
    pub haf_probes: u8,
    /// `-hafThreshold`: the host is an ACKing firewall when at least `ceil(threshold * N)` (and at least 1) of
    /// the probes are answered with a SYN-ACK. In (0, 1].
    pub haf_threshold: f64,
    /// Most response bytes kept per record (default 1024, the original's effective snaplen).
    pub data_cap: usize,
    /// Most flows (including lingering tombstones) one shard holds; a full table refuses, it never grows.
    pub table_capacity: usize,
    /// First port of our ephemeral range (self-opened SYNs and HyperACKtive probes; also where the probes'
    /// random remote ports are drawn). Default 32768.
    pub ephemeral_first: u16,
    /// Last port of that range, inclusive. Default 60999 (Linux's and LZR's range).
    pub ephemeral_last: u16,
    /// How long after our SYN an answer to a stateless SYN is still accepted, and how long a finished flow
    /// lingers as a tombstone that swallows late packets, in milliseconds (default 10000 = `t * (rn + 1)`,
    /// the original's SYN horizon). At most [`FlowConfig::MAX_ANSWER_WINDOW_MS`].
    pub answer_window_ms: u64,
    /// Window we advertise on every SYN and ACK (default 65535).
    pub window: u16,
    /// Per-run secret: keys the SYN cookies (SipHash-1-3) and seeds the table hash. Keep it the same on all
    /// workers of a run; draw it at random per run.
    pub secret: [u64; 2],
}

impl FlowConfig {
    /// HyperACKtive probe answers are tracked in a 16-bit mask per host.
    pub const MAX_HAF_PROBES: u8 = 16;
    /// The SYN cookie carries an 8-bit clock of 1024 ms ticks, so answers older than half its period
    /// (about 131 s) could not be told from fresh ones.
    pub const MAX_ANSWER_WINDOW_MS: u64 = 120_000;

    /// Number of ports in the ephemeral range.
    pub fn ephemeral_len(&self) -> u32 {
        u32::from(self.ephemeral_last) - u32::from(self.ephemeral_first) + 1
    }

    /// HyperACKtive probes actually sent: none under force-all or with a single handshake (there is no
    /// second handshake whose start triggers them).
    pub fn effective_haf_probes(&self) -> u8 {
        if self.force_all || self.handshakes < 2 {
            0
        } else {
            self.haf_probes
        }
    }

    /// Probe SYN-ACKs needed to label a host: `ceil(threshold * N)`, at least 1. The small epsilon keeps
    /// products such as 0.6 * 5 = 3.0000000000000004 from rounding up to 4.
    pub fn haf_needed(&self) -> u8 {
        let n = f64::from(self.effective_haf_probes());
        let needed = (self.haf_threshold * n - 1e-9).ceil();
        (needed.max(1.0) as u8).min(self.effective_haf_probes().max(1))
    }

    pub fn validate(&self) -> Result<(), FlowConfigError> {
        if self.handshakes == 0 {
            return Err(FlowConfigError::NoHandshakes);
        }
        if self.retransmit_ms == 0 || self.timeout_ms == 0 {
            return Err(FlowConfigError::ZeroTimer);
        }
        if self.haf_probes > Self::MAX_HAF_PROBES {
            return Err(FlowConfigError::TooManyHafProbes(self.haf_probes));
        }
        if !(self.haf_threshold > 0.0 && self.haf_threshold <= 1.0) {
            return Err(FlowConfigError::HafThreshold(self.haf_threshold));
        }
        if self.table_capacity == 0 || self.table_capacity > (1 << 30) {
            return Err(FlowConfigError::TableCapacity(self.table_capacity));
        }
        if self.ephemeral_first == 0 || self.ephemeral_first > self.ephemeral_last {
            return Err(FlowConfigError::EphemeralRange(self.ephemeral_first, self.ephemeral_last));
        }
        if self.answer_window_ms > Self::MAX_ANSWER_WINDOW_MS {
            return Err(FlowConfigError::AnswerWindow(self.answer_window_ms));
        }
        Ok(())
    }
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            handshakes: 1,
            retransmit_ms: 1000,
            timeout_ms: 5000,
            retransmissions: 1,
            force_all: false,
            push_data_only: false,
            stop_when_unacked: true,
            haf_probes: 0,
            haf_threshold: 1.0,
            data_cap: 1024,
            table_capacity: 1 << 20,
            ephemeral_first: 32768,
            ephemeral_last: 60999,
            answer_window_ms: 10_000,
            window: 65535,
            secret: [rand::random(), rand::random()],
        }
    }
}

/// A flow configuration that cannot run.
#[derive(Debug, Error, PartialEq)]
pub enum FlowConfigError {
    #[error("at least one handshake is needed")]
    NoHandshakes,
    #[error("retransmit and timeout delays must be at least 1 ms")]
    ZeroTimer,
    #[error("haf probes: {0} is more than the supported {max}", max = FlowConfig::MAX_HAF_PROBES)]
    TooManyHafProbes(u8),
    #[error("haf threshold must be in (0, 1], got {0}")]
    HafThreshold(f64),
    #[error("flow table capacity must be in 1..=2^30, got {0}")]
    TableCapacity(usize),
    #[error("ephemeral port range {0}..={1} is empty or starts at 0")]
    EphemeralRange(u16, u16),
    #[error("answer window {0} ms is above the supported {max} ms", max = FlowConfig::MAX_ANSWER_WINDOW_MS)]
    AnswerWindow(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_original() {
        let c = FlowConfig::default();
        c.validate().unwrap();
        assert_eq!((c.retransmit_ms, c.timeout_ms, c.retransmissions), (1000, 5000, 1));
        assert_eq!(c.ephemeral_len(), 28232);
        assert!(c.stop_when_unacked);
    }

    #[test]
    fn haf_needed_is_ceiling_at_least_one() {
        let mut c = FlowConfig { handshakes: 2, haf_probes: 5, ..FlowConfig::default() };
        assert_eq!(c.haf_needed(), 5);
        c.haf_threshold = 0.6;
        assert_eq!(c.haf_needed(), 3);
        c.haf_threshold = 0.61;
        assert_eq!(c.haf_needed(), 4);
        c.haf_threshold = 0.01;
        assert_eq!(c.haf_needed(), 1);
        c.force_all = true;
        assert_eq!(c.effective_haf_probes(), 0);
    }

    #[test]
    fn bad_settings_are_refused() {
        let ok = FlowConfig::default();
        assert_eq!(FlowConfig { handshakes: 0, ..ok.clone() }.validate(), Err(FlowConfigError::NoHandshakes));
        assert!(FlowConfig { haf_probes: 17, ..ok.clone() }.validate().is_err());
        assert!(FlowConfig { haf_threshold: 0.0, ..ok.clone() }.validate().is_err());
        assert!(FlowConfig { haf_threshold: f64::NAN, ..ok.clone() }.validate().is_err());
        assert!(FlowConfig { table_capacity: 0, ..ok.clone() }.validate().is_err());
        assert!(FlowConfig { ephemeral_first: 5000, ephemeral_last: 4000, ..ok.clone() }.validate().is_err());
        assert!(FlowConfig { answer_window_ms: 500_000, ..ok.clone() }.validate().is_err());
        assert!(FlowConfig { timeout_ms: 0, ..ok }.validate().is_err());
    }
}
