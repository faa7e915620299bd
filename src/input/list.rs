//! Target lists (reference §1.2): one `ip:port`, `[ipv6]:port` or `ip;port` per line.
//!
//! The original's README and GPS use `ip:port`; the original at HEAD only takes `ip;port` (PR #36). Both are
//! accepted, and bracketed IPv6. A bare IPv6 address with a `:port` is ambiguous and refused with a hint. Blank
//! lines and `#` comments are skipped.

use std::net::IpAddr;

use super::{ErrorKind, LineParser, ParseError, Target};

/// Stateless parser for target-list lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct TargetListParser;

impl LineParser for TargetListParser {
    type Item = Target;
    fn parse_line(&mut self, line: &str) -> Result<Option<Target>, ParseError> {
        parse_line(line)
    }
}

/// Parses one line; blank lines and comments give `Ok(None)`.
pub fn parse_line(line: &str) -> Result<Option<Target>, ParseError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    parse_target(line).map(Some)
}

/// Parses `ip:port`, `[ipv6]:port` or `ip;port` (no surrounding whitespace).
pub fn parse_target(text: &str) -> Result<Target, ParseError> {
    if text.starts_with('{') {
        // Issue #14: ZMap JSON fed to list mode.
        return Err(ParseError::new(ErrorKind::Syntax, "this is a JSON line: ZMap output needs ZMap input mode, not a target list"));
    }
    let (addr, port) = if let Some((addr, port)) = text.split_once(';') {
        (addr.trim(), port.trim())
    } else if let Some(rest) = text.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| ParseError::new(ErrorKind::Syntax, format!("missing `]` in {text:?}")))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| ParseError::new(ErrorKind::Syntax, format!("expected `:port` after `]` in {text:?}")))?;
        (addr, port)
    } else {
        let (addr, port) = text
            .rsplit_once(':')
            .ok_or_else(|| ParseError::new(ErrorKind::Syntax, format!("expected ip:port, [ipv6]:port or ip;port, got {text:?}")))?;
        if addr.contains(':') {
            return Err(ParseError::new(
                ErrorKind::Syntax,
                format!("ambiguous IPv6 target {text:?}: write [addr]:port or addr;port"),
            ));
        }
        (addr, port)
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| ParseError::new(ErrorKind::BadAddress, format!("not an IP address: {addr:?}")))?;
    let port = parse_port(port)?;
    Ok(Target { addr, port })
}

/// A TCP port 1..=65535 written in decimal.
pub fn parse_port(text: &str) -> Result<u16, ParseError> {
    match text.parse::<u16>() {
        Ok(0) => Err(ParseError::new(ErrorKind::BadPort, "port 0 is not a target port")),
        Ok(p) if text.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(ParseError::new(ErrorKind::BadPort, format!("not a port (1-65535): {text:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(addr: &str, port: u16) -> Target {
        Target { addr: addr.parse().unwrap(), port }
    }

    #[test]
    fn accepts_all_three_forms() {
        assert_eq!(parse_line("1.1.1.1:1234").unwrap(), Some(t("1.1.1.1", 1234)));
        assert_eq!(parse_line("1.1.1.1;1234").unwrap(), Some(t("1.1.1.1", 1234)));
        assert_eq!(parse_line("  198.18.0.9 ; 80 ").unwrap(), Some(t("198.18.0.9", 80)));
        assert_eq!(parse_line("[2001:db8::1]:443").unwrap(), Some(t("2001:db8::1", 443)));
        assert_eq!(parse_line("2001:db8::1;443").unwrap(), Some(t("2001:db8::1", 443)));
        // Exploded and compressed forms are the same target.
        assert_eq!(parse_line("2001:0db8:0000:0000:0000:0000:0000:0001;443").unwrap(), Some(t("2001:db8::1", 443)));
    }

    proptest::proptest! {
        #[test]
        fn every_target_round_trips_in_every_form(v4 in proptest::num::u32::ANY, v6 in proptest::num::u128::ANY, port in 1u16..) {
            for addr in [IpAddr::from(std::net::Ipv4Addr::from(v4)), IpAddr::from(std::net::Ipv6Addr::from(v6))] {
                let target = Target { addr, port };
                proptest::prop_assert_eq!(parse_line(&target.to_string()).unwrap(), Some(target));
                proptest::prop_assert_eq!(parse_line(&format!("{addr};{port}")).unwrap(), Some(target));
            }
        }
    }

    #[test]
    fn skips_blank_and_comment_lines() {
        assert_eq!(parse_line("").unwrap(), None);
        assert_eq!(parse_line("   \t").unwrap(), None);
        assert_eq!(parse_line("# 1.2.3.4:80").unwrap(), None);
    }

    #[test]
    fn rejects_bad_lines_with_reasons() {
        let cases: &[(&str, ErrorKind)] = &[
            ("1.2.3.4", ErrorKind::Syntax),
            ("1.2.3.4:", ErrorKind::BadPort),
            ("1.2.3.4:0", ErrorKind::BadPort),
            ("1.2.3.4:65536", ErrorKind::BadPort),
            ("1.2.3.4:+80", ErrorKind::BadPort),
            ("1.2.3.4:80:90", ErrorKind::Syntax),
            ("1.2.3.4;80;90", ErrorKind::BadPort),
            ("2001:db8::1:80", ErrorKind::Syntax),
            ("[2001:db8::1]80", ErrorKind::Syntax),
            ("[2001:db8::1:80", ErrorKind::Syntax),
            ("example.com:80", ErrorKind::BadAddress),
            ("{\"saddr\":\"1.2.3.4\"}", ErrorKind::Syntax),
        ];
        for (line, kind) in cases {
            let e = parse_line(line).unwrap_err();
            assert_eq!(e.kind, *kind, "{line}: {e}");
        }
    }
}
