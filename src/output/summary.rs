//! The exit summary (reference §8.4): the original's counters and per-label counts, then ours (outcomes and
//! rejected input lines). Fed every finished record, whether or not it was written.
//!
//! Counting follows the original: a HyperACKtive (ACKing-firewall) record counts only toward `HyperACKtive`;
//! every other record counts toward `TotalResponses` and each counter whose condition it meets (`ZeroWindow`:
//! window 0, `ACKed`, `Data`: data present, `No_SYNACK`: stage `sa`, `Rst`, `Fin`, `Resp_ack`: ACK without SYN).
//! Label counts cover every record, as the original fingerprints every record.

use std::fmt::Write as _;
use std::time::Duration;

use ahash::AHashMap;

use super::timefmt::go_duration;
use crate::input::InputErrorCounts;
use crate::record::{Outcome, Record, Stage};

/// The original's counters, in its JSON order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub total_responses: u64,
    pub zero_window: u64,
    pub acked: u64,
    pub data: u64,
    pub no_synack: u64,
    pub rst: u64,
    pub fin: u64,
    pub resp_ack: u64,
    pub hyperacktive: u64,
}

/// Accumulates the summary.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub counters: Counters,
    labels: AHashMap<String, u64>,
    outcomes: [u64; Outcome::ALL.len()],
    pub input_errors: InputErrorCounts,
    /// Records written to the output (the rest were held back by `only_data_record`).
    pub written: u64,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one finished record.
    pub fn add(&mut self, r: &Record) {
        if let Some(n) = self.labels.get_mut(&*r.fingerprint) {
            *n += 1;
        } else {
            self.labels.insert(r.fingerprint.to_string(), 1);
        }
        self.outcomes[r.outcome.index()] += 1;
        let c = &mut self.counters;
        if r.acking_firewall {
            c.hyperacktive += 1;
            return;
        }
        c.total_responses += 1;
        c.zero_window += u64::from(r.window == 0);
        c.acked += u64::from(r.acked);
        c.data += u64::from(!r.data.is_empty());
        c.no_synack += u64::from(r.stage == Some(Stage::SynAck));
        c.rst += u64::from(r.flags.rst());
        c.fin += u64::from(r.flags.fin());
        c.resp_ack += u64::from(r.flags.ack() && !r.flags.syn());
    }

    pub fn outcome(&self, o: Outcome) -> u64 {
        self.outcomes[o.index()]
    }

    pub fn label(&self, label: &str) -> u64 {
        self.labels.get(label).copied().unwrap_or(0)
    }

    /// Labels by descending count, then name.
    pub fn labels_by_count(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.labels.iter().map(|(k, &n)| (k.as_str(), n)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    /// The original's JSON object line.
    pub fn counters_json(&self) -> String {
        let c = &self.counters;
        format!(
            "{{\"TotalResponses\":{},\"ZeroWindow\":{},\"ACKed\":{},\"Data\":{},\"No_SYNACK\":{},\"Rst\":{},\"Fin\":{},\"Resp_ack\":{},\"HyperACKtive\":{}}}",
            c.total_responses, c.zero_window, c.acked, c.data, c.no_synack, c.rst, c.fin, c.resp_ack, c.hyperacktive
        )
    }

    /// The whole summary as printed to stderr at exit.
    pub fn render(&self, runtime: Duration) -> String {
        let mut s = format!("Runtime: {}\n{}\n", go_duration(runtime), self.counters_json());
        for (label, n) in self.labels_by_count() {
            let _ = writeln!(s, "{label}: {n}");
        }
        s.push_str("-- outcomes --\n");
        for o in Outcome::ALL {
            let n = self.outcome(o);
            if n > 0 {
                let _ = writeln!(s, "{}: {n}", o.as_str());
            }
        }
        let _ = writeln!(s, "records written: {}", self.written);
        let _ = writeln!(s, "input errors: {}", self.input_errors.total());
        for (kind, n) in self.input_errors.nonzero() {
            let _ = writeln!(s, "  {}: {n}", kind.as_str());
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::ErrorKind;
    use crate::output::record_json::tests::issue14_record;
    use crate::wire::TcpFlags;

    #[test]
    fn counts_like_the_original() {
        let mut s = Summary::new();
        let data = issue14_record();
        s.add(&data);
        let mut zero = issue14_record();
        zero.window = 0;
        zero.flags = TcpFlags::SYN_ACK;
        zero.acked = false;
        zero.data.clear();
        zero.stage = None;
        zero.fingerprint = "unknown".into();
        zero.outcome = Outcome::ZeroWindow;
        s.add(&zero);
        let mut rst = zero.clone();
        rst.flags = TcpFlags::RST_ACK;
        rst.outcome = Outcome::RstAfterHandshake;
        s.add(&rst);
        let mut sa = zero.clone();
        sa.window = 65535;
        sa.flags = TcpFlags::SYN;
        sa.stage = Some(Stage::SynAck);
        sa.outcome = Outcome::NoSynAck;
        s.add(&sa);
        let mut haf = data.clone();
        haf.acking_firewall = true;
        haf.outcome = Outcome::AckingFirewall;
        s.add(&haf);
        assert_eq!(
            s.counters_json(),
            r#"{"TotalResponses":4,"ZeroWindow":2,"ACKed":1,"Data":1,"No_SYNACK":1,"Rst":1,"Fin":0,"Resp_ack":2,"HyperACKtive":1}"#
        );
        assert_eq!(s.labels_by_count(), vec![("unknown", 3), ("http", 2)]);
        assert_eq!(s.outcome(Outcome::ZeroWindow), 1);
        s.input_errors.add(ErrorKind::Syntax);
        s.written = 5;
        let text = s.render(Duration::from_millis(61_500));
        assert!(text.starts_with("Runtime: 1m1.5s\n{\"TotalResponses\":4,"), "{text}");
        assert!(text.contains("\nunknown: 3\nhttp: 2\n-- outcomes --\n"), "{text}");
        assert!(text.contains("zero_window: 1\n") && text.contains("acking_firewall: 1\n"), "{text}");
        assert!(text.ends_with("records written: 5\ninput errors: 1\n  syntax: 1\n"), "{text}");
    }
}
