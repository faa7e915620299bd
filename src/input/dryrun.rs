//! The text `zmap --dryrun` prints (reference §1.3), turned into targets.
//!
//! ZMap prints each packet as a `tcp { … | dest: PORT | … }` line, then `ip { … | daddr: ADDR | … }`, then an
//! `eth { … }` line and a dashed separator. The original paired each port with the *previous* packet's address
//! and lost the last one; here a packet's port and address are collected until both are known (in either order),
//! so every packet becomes exactly one target. A packet that ends (separator, or a second tcp/ip line) with only
//! one half is a counted error. ZMap's status lines, if interleaved, are ignored.

use std::net::IpAddr;

use super::list::parse_port;
use super::{ErrorKind, LineParser, ParseError, Target};

/// Stateful parser: feed it lines in order, then call `finish` at EOF.
#[derive(Clone, Debug, Default)]
pub struct DryRunParser {
    port: Option<u16>,
    addr: Option<IpAddr>,
}

impl DryRunParser {
    pub fn new() -> Self {
        Self::default()
    }

    fn emit_if_complete(&mut self) -> Option<Target> {
        match (self.port, self.addr) {
            (Some(port), Some(addr)) => {
                self.port = None;
                self.addr = None;
                Some(Target { addr, port })
            }
            _ => None,
        }
    }

    fn half_packet_error(&mut self) -> ParseError {
        let detail = match (self.port.take(), self.addr.take()) {
            (Some(port), None) => format!("packet to port {port} has no ip line"),
            (None, Some(addr)) => format!("packet to {addr} has no tcp line"),
            _ => "incomplete packet".to_owned(),
        };
        ParseError::new(ErrorKind::Syntax, detail)
    }
}

/// The token after `key` up to the next space or `|`.
fn token_after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(key)? + key.len();
    line[start..].split(|c: char| c.is_whitespace() || c == '|').find(|t| !t.is_empty())
}

impl LineParser for DryRunParser {
    type Item = Target;

    fn parse_line(&mut self, line: &str) -> Result<Option<Target>, ParseError> {
        let line = line.trim();
        if line.starts_with("---") {
            if self.port.is_some() || self.addr.is_some() {
                return Err(self.half_packet_error());
            }
            return Ok(None);
        }
        if line.contains("dest:") && !line.contains("daddr:") {
            if self.port.is_some() {
                let err = self.half_packet_error();
                // Keep this line's port for the next packet so one bad packet costs one error.
                self.port = token_after(line, "dest:").and_then(|t| parse_port(t).ok());
                return Err(err);
            }
            let token = token_after(line, "dest:").ok_or_else(|| ParseError::new(ErrorKind::Syntax, "no port after `dest:`"))?;
            self.port = Some(parse_port(token)?);
            return Ok(self.emit_if_complete());
        }
        if line.contains("daddr:") {
            let token = token_after(line, "daddr:").ok_or_else(|| ParseError::new(ErrorKind::Syntax, "no address after `daddr:`"))?;
            let addr: IpAddr = token
                .parse()
                .map_err(|_| ParseError::new(ErrorKind::BadAddress, format!("not an IP address: {token:?}")))?;
            if self.addr.is_some() {
                let err = self.half_packet_error();
                self.addr = Some(addr);
                return Err(err);
            }
            self.addr = Some(addr);
            return Ok(self.emit_if_complete());
        }
        // eth lines, status lines, blank lines.
        Ok(None)
    }

    fn finish(&mut self) -> Result<Option<Target>, ParseError> {
        if self.port.is_some() || self.addr.is_some() {
            return Err(self.half_packet_error());
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Vec<Result<Target, ErrorKind>> {
        let mut p = DryRunParser::new();
        let mut out = Vec::new();
        for line in text.lines() {
            match p.parse_line(line) {
                Ok(Some(t)) => out.push(Ok(t)),
                Ok(None) => {}
                Err(e) => out.push(Err(e.kind)),
            }
        }
        match p.finish() {
            Ok(Some(t)) => out.push(Ok(t)),
            Ok(None) => {}
            Err(e) => out.push(Err(e.kind)),
        }
        out
    }

    fn t(addr: &str, port: u16) -> Result<Target, ErrorKind> {
        Ok(Target { addr: addr.parse().unwrap(), port })
    }

    #[test]
    fn real_zmap_2_1_1_output_pairs_each_packet_with_its_own_address() {
        let got = run(include_str!("testdata/zmap-2.1.1-dryrun.txt"));
        assert_eq!(got, vec![t("198.18.5.2", 80), t("198.18.5.0", 80), t("198.18.5.3", 80)]);
    }

    #[test]
    fn ip_line_first_and_ipv6_also_work() {
        let text = "ip6 { saddr: 2001:db8::1 | daddr: 2001:db8::9 | }\ntcp { source: 1 | dest: 443 | seq: 5 }\n---\n";
        assert_eq!(run(text), vec![t("2001:db8::9", 443)]);
    }

    #[test]
    fn half_packets_are_errors_and_do_not_shift_the_pairing() {
        let text = "tcp { source: 1 | dest: 22 | seq: 1 }\n------\n\
                    tcp { source: 1 | dest: 80 | seq: 1 }\nip { saddr: 1.1.1.1 | daddr: 198.18.0.7 | }\n------\n\
                    ip { saddr: 1.1.1.1 | daddr: 198.18.0.8 | }\n";
        assert_eq!(run(text), vec![Err(ErrorKind::Syntax), t("198.18.0.7", 80), Err(ErrorKind::Syntax)]);
        let text = "tcp { source: 1 | dest: 22 | }\ntcp { source: 1 | dest: 23 | }\nip { daddr: 198.18.0.1 }\n";
        assert_eq!(run(text), vec![Err(ErrorKind::Syntax), t("198.18.0.1", 23)]);
        assert_eq!(run("tcp { dest: 0 }\n"), vec![Err(ErrorKind::BadPort)]);
        assert_eq!(run("ip { daddr: nope }\n"), vec![Err(ErrorKind::BadAddress)]);
    }
}
