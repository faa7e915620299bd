//! The record of one finished flow: what the flow engine produces, what the fingerprinter labels and what the
//! output layer writes. Fields follow LZR's record (reference §8.1) in the *received* orientation: `saddr`/`sport`
//! are the remote host, `daddr`/`dport` are ours.

use std::borrow::Cow;
use std::net::IpAddr;

use crate::wire::TcpFlags;

/// The stage a flow was in when its record was taken (LZR's `expectedRToLZR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// We sent a SYN and wait for the SYN-ACK (`"sa"`).
    SynAck,
    /// We sent ACK + probe and wait for the host to acknowledge it (`"ack"`).
    Ack,
    /// The host acknowledged our probe; we wait for its data (`"data"`).
    Data,
}

impl Stage {
    /// The original's string for this stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SynAck => "sa",
            Stage::Ack => "ack",
            Stage::Data => "data",
        }
    }
}

/// What became of a target: the paper's taxonomy of TCP behaviours (§2.3-§2.7), one per finished flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Our SYN was never answered (filtered, or the host is gone).
    NoSynAck,
    /// Our SYN was answered with an RST (closed port).
    Closed,
    /// The SYN-ACK advertised a zero window; we never answered it.
    ZeroWindow,
    /// The host reset the connection right after the handshake, before acknowledging our data.
    RstAfterHandshake,
    /// The host closed with a FIN before sending any data.
    Fin,
    /// The host retransmitted its SYN-ACK: our ACK never got through.
    SynAckRetransmitted,
    /// The handshake completed but our data was never acknowledged (no service: middlebox or dropped data).
    DataNotAcked,
    /// Our data was acknowledged but the host sent nothing back.
    AckedNoData,
    /// The host sent data; the record carries it and its fingerprint.
    Data,
    /// HyperACKtive filtering: the host answers on random ephemeral ports too (an ACKing firewall).
    AckingFirewall,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::NoSynAck,
        Outcome::Closed,
        Outcome::ZeroWindow,
        Outcome::RstAfterHandshake,
        Outcome::Fin,
        Outcome::SynAckRetransmitted,
        Outcome::DataNotAcked,
        Outcome::AckedNoData,
        Outcome::Data,
        Outcome::AckingFirewall,
    ];

    /// Stable snake_case name used in JSON output and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NoSynAck => "no_synack",
            Outcome::Closed => "closed",
            Outcome::ZeroWindow => "zero_window",
            Outcome::RstAfterHandshake => "rst_after_handshake",
            Outcome::Fin => "fin",
            Outcome::SynAckRetransmitted => "synack_retransmitted",
            Outcome::DataNotAcked => "data_not_acked",
            Outcome::AckedNoData => "acked_no_data",
            Outcome::Data => "data",
            Outcome::AckingFirewall => "acking_firewall",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == name)
    }
}

/// One finished flow. `data` is the first data the host sent (reassembled in order, up to the configured cap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Remote host.
    pub saddr: IpAddr,
    /// Our address.
    pub daddr: IpAddr,
    /// Remote port.
    pub sport: u16,
    /// Our port of the last handshake tried (it moves by one per handshake).
    pub dport: u16,
    /// Sequence number of the recorded packet (our ISN for a SYN never answered).
    pub seqnum: u32,
    /// Acknowledgment number of the recorded packet (0 for a SYN never answered).
    pub acknum: u32,
    /// Window of the recorded packet.
    pub window: u16,
    /// TTL or hop limit of the recorded received packet (0 when none was received).
    pub ttl: u8,
    /// Retransmissions done in the final stage.
    pub counter: u8,
    /// Flags of the recorded packet.
    pub flags: TcpFlags,
    /// The host acknowledged something of ours (a non-SYN segment with ACK arrived).
    pub acked: bool,
    /// Index into the handshake list at which the flow finished.
    pub handshake_num: u8,
    /// Name of that handshake (ours; the original only gives the index).
    pub handshake: &'static str,
    /// Stage at the end, when there was one.
    pub stage: Option<Stage>,
    /// First data from the host, possibly empty.
    pub data: Vec<u8>,
    /// Fingerprint label (`unknown` when nothing matched or there is no data). Borrowed when it is a registry
    /// name, as almost every label is: no allocation per record.
    pub fingerprint: Cow<'static, str>,
    /// HyperACKtive filtering labelled this host an ACKing firewall.
    pub acking_firewall: bool,
    /// What became of the target.
    pub outcome: Outcome,
    /// When the recorded packet arrived (or the state was last touched), nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
}
