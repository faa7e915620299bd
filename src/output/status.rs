//! The live status line for stderr: a pure function of two counter snapshots and the time between them.
//! The runner decides when to print (once a second when stderr is a terminal, unless configured otherwise).
//!
//! Example: ` 0:05 sent 12.3K (2.47 Kp/s); synack 100; acked 80; data 60 (http 30, tls 20, ssh 5);
//! pkts in 3.10 Kp/s out 2.50 Kp/s; drops 0; bad input 0`

use std::time::Duration;

/// Cumulative counters at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusSnapshot {
    /// First SYNs / targets started.
    pub sent: u64,
    /// SYN-ACKs received (or taken from ZMap).
    pub synacks: u64,
    /// Hosts that acknowledged our data.
    pub acked: u64,
    /// Records with data.
    pub data: u64,
    /// Packets received and sent on the port.
    pub pkts_in: u64,
    pub pkts_out: u64,
    /// Packets dropped (NIC misses, full rings, full flow table).
    pub drops: u64,
    /// Rejected input lines.
    pub input_errors: u64,
    /// Fingerprint label counts (any order; `unknown` is not shown).
    pub labels: Vec<(String, u64)>,
}

/// How many labels the line shows.
pub const TOP_LABELS: usize = 3;

fn rate(delta: u64, interval: Duration) -> f64 {
    let secs = interval.as_secs_f64();
    if secs <= 0.0 {
        0.0
    } else {
        delta as f64 / secs
    }
}

/// `1234` → `1234`, `12345` → `12.3K`, `1234567` → `1.23M`.
fn count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}K", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.2}M", n as f64 / 1e6),
        _ => format!("{:.2}G", n as f64 / 1e9),
    }
}

/// `850` → `850 p/s`, `2470` → `2.47 Kp/s`, `3.1e6` → `3.10 Mp/s`.
fn pps(r: f64) -> String {
    if r < 1e3 {
        format!("{r:.0} p/s")
    } else if r < 1e6 {
        format!("{:.2} Kp/s", r / 1e3)
    } else {
        format!("{:.2} Mp/s", r / 1e6)
    }
}

/// One status line (no newline). `interval` is the time between `prev` and `cur`; `runtime` the time since start.
pub fn status_line(prev: &StatusSnapshot, cur: &StatusSnapshot, interval: Duration, runtime: Duration) -> String {
    let secs = runtime.as_secs();
    let mut top: Vec<&(String, u64)> = cur.labels.iter().filter(|(l, n)| l != "unknown" && !l.is_empty() && *n > 0).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let labels: Vec<String> = top.iter().take(TOP_LABELS).map(|(l, n)| format!("{l} {}", count(*n))).collect();
    let labels = if labels.is_empty() { String::new() } else { format!(" ({})", labels.join(", ")) };
    format!(
        "{:2}:{:02} sent {} ({}); synack {}; acked {}; data {}{}; pkts in {} out {}; drops {}; bad input {}",
        secs / 60,
        secs % 60,
        count(cur.sent),
        pps(rate(cur.sent.saturating_sub(prev.sent), interval)),
        count(cur.synacks),
        count(cur.acked),
        count(cur.data),
        labels,
        pps(rate(cur.pkts_in.saturating_sub(prev.pkts_in), interval)),
        pps(rate(cur.pkts_out.saturating_sub(prev.pkts_out), interval)),
        count(cur.drops),
        count(cur.input_errors),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rates_counts_and_top_labels() {
        let prev = StatusSnapshot { sent: 10_000, pkts_in: 1000, pkts_out: 5000, ..Default::default() };
        let cur = StatusSnapshot {
            sent: 22_345,
            synacks: 100,
            acked: 80,
            data: 60,
            pkts_in: 4100,
            pkts_out: 3_005_000,
            drops: 2,
            input_errors: 1,
            labels: vec![("tls".into(), 20), ("unknown".into(), 900), ("http".into(), 30), ("ssh".into(), 5), ("ftp".into(), 5)],
        };
        let line = status_line(&prev, &cur, Duration::from_secs(5), Duration::from_secs(65));
        assert_eq!(
            line,
            " 1:05 sent 22.3K (2.47 Kp/s); synack 100; acked 80; data 60 (http 30, tls 20, ftp 5); pkts in 620 p/s out 600.00 Kp/s; drops 2; bad input 1"
        );
    }

    #[test]
    fn zero_interval_and_counter_reset_do_not_panic() {
        let prev = StatusSnapshot { sent: 10, ..Default::default() };
        let cur = StatusSnapshot::default();
        let line = status_line(&prev, &cur, Duration::ZERO, Duration::ZERO);
        assert_eq!(line, " 0:00 sent 0 (0 p/s); synack 0; acked 0; data 0; pkts in 0 p/s out 0 p/s; drops 0; bad input 0");
        assert_eq!(count(1_234_567), "1.23M");
        assert_eq!(pps(3.1e6), "3.10 Mp/s");
    }
}
