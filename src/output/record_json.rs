//! One [`Record`] as one JSON line, byte-compatible with the original's records (reference §8.1).
//!
//! Keys, order, types and omission rules are the original's struct tags: `fingerprint` and `expectedRToLZR` and
//! `data` are omitted when empty, `ackingFirewall` when false. In the [`OutputFormat::Extended`] format (the
//! default) our fields follow: `outcome`, `handshake`, and `data_b64` (the lossless data, omitted when empty).
//! IPv6 addresses are written exploded by default, as the original wrote them (§3.5).
//!
//! The encoder is hand-written (no serde): it is on the output path and must reproduce Go's string escaping.

use std::io::Write as _;
use std::net::IpAddr;

use base64::Engine as _;

use super::gojson;
use super::timefmt::{TimeFormatter, Zone};
use crate::record::Record;

/// Which keys a record line carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// The original's keys, then `outcome`, `handshake`, `data_b64`.
    #[default]
    Extended,
    /// Only the original's keys: lines identical to the Go tool's.
    Original,
}

impl OutputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Extended => "extended",
            OutputFormat::Original => "original",
        }
    }
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "extended" => Some(OutputFormat::Extended),
            "original" => Some(OutputFormat::Original),
            _ => None,
        }
    }
}

/// How IPv6 addresses are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Ipv6Style {
    /// Eight groups of four lowercase hex digits, as the original writes them.
    #[default]
    Exploded,
    /// RFC 5952 (`2001:db8::1`).
    Compressed,
}

impl Ipv6Style {
    pub fn as_str(self) -> &'static str {
        match self {
            Ipv6Style::Exploded => "exploded",
            Ipv6Style::Compressed => "compressed",
        }
    }
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "exploded" => Some(Ipv6Style::Exploded),
            "compressed" => Some(Ipv6Style::Compressed),
            _ => None,
        }
    }
}

/// Writes an address in the chosen style.
pub fn write_addr(out: &mut Vec<u8>, addr: IpAddr, style: Ipv6Style) {
    // Writing into a Vec cannot fail.
    match (addr, style) {
        (IpAddr::V6(a), Ipv6Style::Exploded) => {
            let s = a.segments();
            let _ = write!(out, "{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}", s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
        }
        _ => {
            let _ = write!(out, "{addr}");
        }
    }
}

/// Appends `v` in decimal.
fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Encodes records as JSON lines.
#[derive(Clone, Debug)]
pub struct RecordEncoder {
    format: OutputFormat,
    ipv6: Ipv6Style,
    time: TimeFormatter,
}

impl RecordEncoder {
    pub fn new(format: OutputFormat, ipv6: Ipv6Style, zone: Zone) -> Self {
        RecordEncoder { format, ipv6, time: TimeFormatter::new(zone) }
    }

    pub fn ipv6_style(&self) -> Ipv6Style {
        self.ipv6
    }

    /// Appends the record and a trailing newline to `out`.
    pub fn encode(&mut self, r: &Record, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"saddr\":\"");
        write_addr(out, r.saddr, self.ipv6);
        out.extend_from_slice(b"\",\"daddr\":\"");
        write_addr(out, r.daddr, self.ipv6);
        // Field by field without `fmt`: this runs once per record.
        let fields: [(&[u8], u64); 7] = [
            (b"\",\"sport\":", u64::from(r.sport)),
            (b",\"dport\":", u64::from(r.dport)),
            (b",\"seqnum\":", u64::from(r.seqnum)),
            (b",\"acknum\":", u64::from(r.acknum)),
            (b",\"window\":", u64::from(r.window)),
            (b",\"ttl\":", u64::from(r.ttl)),
            (b",\"Counter\":", u64::from(r.counter)),
        ];
        for (key, value) in fields {
            out.extend_from_slice(key);
            push_u64(out, value);
        }
        let flags: [(&[u8], bool); 6] = [
            (b",\"ACK\":", r.flags.ack()),
            (b",\"ACKed\":", r.acked),
            (b",\"SYN\":", r.flags.syn()),
            (b",\"RST\":", r.flags.rst()),
            (b",\"FIN\":", r.flags.fin()),
            (b",\"PUSH\":", r.flags.psh()),
        ];
        for (key, value) in flags {
            out.extend_from_slice(key);
            out.extend_from_slice(if value { b"true" } else { b"false" });
        }
        out.extend_from_slice(b",\"HandshakeNum\":");
        push_u64(out, u64::from(r.handshake_num));
        if !r.fingerprint.is_empty() {
            out.extend_from_slice(b",\"fingerprint\":");
            gojson::write_string(out, r.fingerprint.as_bytes());
        }
        out.extend_from_slice(b",\"Timestamp\":\"");
        self.time.write(out, r.timestamp_ns);
        out.push(b'"');
        if let Some(stage) = r.stage {
            let _ = write!(out, ",\"expectedRToLZR\":\"{}\"", stage.as_str());
        }
        if !r.data.is_empty() {
            out.extend_from_slice(b",\"data\":");
            gojson::write_string(out, &r.data);
        }
        if r.acking_firewall {
            out.extend_from_slice(b",\"ackingFirewall\":true");
        }
        if self.format == OutputFormat::Extended {
            let _ = write!(out, ",\"outcome\":\"{}\",\"handshake\":", r.outcome.as_str());
            gojson::write_string(out, r.handshake.as_bytes());
            if !r.data.is_empty() {
                out.extend_from_slice(b",\"data_b64\":\"");
                let start = out.len();
                out.resize(start + r.data.len().div_ceil(3) * 4, 0);
                // The slice is sized exactly for padded base64, so encoding cannot run out of room.
                let written = base64::engine::general_purpose::STANDARD.encode_slice(&r.data, &mut out[start..]).unwrap_or(0);
                out.truncate(start + written);
                out.push(b'"');
            }
        }
        out.extend_from_slice(b"}\n");
    }
}

/// The `-feedZGrab` line for a record: `saddr,,fingerprint,sport` (ZGrab2's `ip,domain,tag,port` CSV).
pub fn encode_zgrab(r: &Record, ipv6: Ipv6Style, out: &mut Vec<u8>) {
    write_addr(out, r.saddr, ipv6);
    out.extend_from_slice(b",,");
    out.extend_from_slice(r.fingerprint.as_bytes());
    let _ = writeln!(out, ",{}", r.sport);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::record::{Outcome, Stage};
    use crate::wire::TcpFlags;

    /// Issue #14's record (reference §8.2), data shortened to what the issue shows around the escapes.
    pub(crate) fn issue14_record() -> Record {
        Record {
            saddr: "198.18.0.13".parse().unwrap(),
            daddr: "198.18.1.1".parse().unwrap(),
            sport: 80,
            dport: 56425,
            seqnum: 3014031342,
            acknum: 110,
            window: 29200,
            ttl: 60,
            counter: 0,
            flags: TcpFlags::PSH_ACK,
            acked: true,
            handshake_num: 1,
            handshake: "http",
            stage: Some(Stage::Data),
            data: b"HTTP/1.1 301 Moved Permanently\r\nServer: openresty\r\n\r\n<html>".to_vec(),
            fingerprint: "http".into(),
            acking_firewall: false,
            outcome: Outcome::Data,
            timestamp_ns: 1_699_866_438_393_362_549,
        }
    }

    fn encode(r: &Record, format: OutputFormat) -> String {
        let mut e = RecordEncoder::new(format, Ipv6Style::Exploded, Zone::Fixed(3 * 3600 + 1800));
        let mut out = Vec::new();
        e.encode(r, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn issue14_record_byte_for_byte() {
        let want = concat!(
            r#"{"saddr":"198.18.0.13","daddr":"198.18.1.1","sport":80,"dport":56425,"seqnum":3014031342,"acknum":110,"#,
            r#""window":29200,"ttl":60,"Counter":0,"ACK":true,"ACKed":true,"SYN":false,"RST":false,"FIN":false,"#,
            r#""PUSH":true,"HandshakeNum":1,"fingerprint":"http","Timestamp":"2023-11-13T12:37:18.393362549+03:30","#,
            r#""expectedRToLZR":"data","data":"HTTP/1.1 301 Moved Permanently\r\nServer: openresty\r\n\r\n\u003chtml\u003e"}"#,
            "\n"
        );
        assert_eq!(encode(&issue14_record(), OutputFormat::Original), want);
        let ext = encode(&issue14_record(), OutputFormat::Extended);
        let tail = r#","outcome":"data","handshake":"http","data_b64":"SFRUUC8xLjEgMzAxIE1vdmVkIFBlcm1hbmVudGx5DQpTZXJ2ZXI6IG9wZW5yZXN0eQ0KDQo8aHRtbD4="}"#;
        assert_eq!(ext, format!("{}{tail}\n", want.trim_end().trim_end_matches('}')));
    }

    #[test]
    fn issue16_no_synack_record_byte_for_byte() {
        let r = Record {
            saddr: "192.168.1.1".parse().unwrap(),
            daddr: "192.168.1.71".parse().unwrap(),
            sport: 22,
            dport: 42472,
            seqnum: 2052859966,
            acknum: 0,
            window: 65535,
            ttl: 0,
            counter: 1,
            flags: TcpFlags::SYN,
            acked: false,
            handshake_num: 0,
            handshake: "wait",
            stage: Some(Stage::SynAck),
            data: Vec::new(),
            fingerprint: "unknown".into(),
            acking_firewall: false,
            outcome: Outcome::NoSynAck,
            timestamp_ns: 1_699_866_438_000_000_000,
        };
        let want = concat!(
            r#"{"saddr":"192.168.1.1","daddr":"192.168.1.71","sport":22,"dport":42472,"seqnum":2052859966,"acknum":0,"#,
            r#""window":65535,"ttl":0,"Counter":1,"ACK":false,"ACKed":false,"SYN":true,"RST":false,"FIN":false,"#,
            r#""PUSH":false,"HandshakeNum":0,"fingerprint":"unknown","Timestamp":"2023-11-13T12:37:18+03:30","#,
            r#""expectedRToLZR":"sa"}"#,
            "\n"
        );
        assert_eq!(encode(&r, OutputFormat::Original), want);
        assert!(encode(&r, OutputFormat::Extended).ends_with("\"expectedRToLZR\":\"sa\",\"outcome\":\"no_synack\",\"handshake\":\"wait\"}\n"));
    }

    #[test]
    fn omissions_firewall_ipv6_and_binary_data() {
        let mut r = issue14_record();
        r.saddr = "2001:db8::1".parse().unwrap();
        r.daddr = "2001:db8::2".parse().unwrap();
        r.stage = None;
        r.fingerprint = "".into();
        r.data = vec![0x16, 0x03, 0xff];
        r.acking_firewall = true;
        let line = encode(&r, OutputFormat::Extended);
        assert!(line.starts_with(r#"{"saddr":"2001:0db8:0000:0000:0000:0000:0000:0001","daddr":"2001:0db8:0000:0000:0000:0000:0000:0002","#));
        assert!(!line.contains("expectedRToLZR") && !line.contains("fingerprint"));
        assert!(line.contains(r#""data":"\u0016\u0003\ufffd","ackingFirewall":true,"outcome":"data","handshake":"http","data_b64":"FgP/"}"#), "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["data_b64"], "FgP/");
        let mut e = RecordEncoder::new(OutputFormat::Extended, Ipv6Style::Compressed, Zone::Fixed(0));
        let mut out = Vec::new();
        e.encode(&r, &mut out);
        assert!(out.starts_with(br#"{"saddr":"2001:db8::1","daddr":"2001:db8::2""#));
        r.data.clear();
        r.acking_firewall = false;
        let line = encode(&r, OutputFormat::Extended);
        assert!(!line.contains("\"data\":") && !line.contains("data_b64") && !line.contains("ackingFirewall"));
    }

    #[test]
    fn zgrab_feed_line() {
        let mut out = Vec::new();
        encode_zgrab(&issue14_record(), Ipv6Style::Exploded, &mut out);
        assert_eq!(out, b"198.18.0.13,,http,80\n");
    }
}
