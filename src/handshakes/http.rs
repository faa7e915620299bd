//! `http`: `GET / HTTP/1.1` with `Host:` set to the target (reference §6.3). IPP reuses the request writer.
//!
//! Request: request line, `Host`, then the other headers in alphabetical order, no body, no Content-Length:
//! `GET / HTTP/1.1\r\nHost: DST\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nUser-Agent: UA\r\n\r\n`
//! (186 + len(DST) bytes with the default User-Agent).
//!
//! Rule: the answer does not contain `HTTPS` and contains any of `HTTP`, `html`, `HTML`, `<h1>` → `http`.
//! (`HTTPS` is left to `tls`: "the plain HTTP request was sent to HTTPS port" means a TLS port.)

use std::fmt::Write as _;
use std::net::IpAddr;

use super::options::{Ipv6HostForm, ProbeOptions};
use super::text::{
    needle::{H1_TAG, HTML_LOWER_CASE, HTML_UPPER_CASE, HTTP, HTTPS},
    Haystack,
};
use super::{Handshake, ProbeContext};

/// The fixed parts of an HTTP request around the target and the User-Agent.
pub(crate) struct RequestTemplate {
    /// Up to and including `Host: `.
    pub before_host: &'static str,
    /// From the end of the host up to and including `User-Agent: `.
    pub before_user_agent: &'static str,
}

/// Ends every request: the User-Agent line's end and the empty line.
const REQUEST_END: &str = "\r\n\r\n";

impl RequestTemplate {
    pub(crate) fn write(&self, ctx: &ProbeContext, options: &ProbeOptions, out: &mut Vec<u8>) {
        let host = HostText::new(ctx.dst, options.ipv6_host());
        out.reserve(self.len_with(host.len(), options));
        out.extend_from_slice(self.before_host.as_bytes());
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(self.before_user_agent.as_bytes());
        out.extend_from_slice(options.user_agent().as_bytes());
        out.extend_from_slice(REQUEST_END.as_bytes());
    }

    pub(crate) fn len(&self, ctx: &ProbeContext, options: &ProbeOptions) -> usize {
        self.len_with(HostText::len_of(ctx.dst, options.ipv6_host()), options)
    }

    fn len_with(&self, host_len: usize, options: &ProbeOptions) -> usize {
        self.before_host.len()
            + host_len
            + self.before_user_agent.len()
            + options.user_agent().len()
            + REQUEST_END.len()
    }
}

/// The `Host:` value for a target, formatted on the stack (no allocation per probe).
///
/// IPv4 and the exploded IPv6 form are written by hand: `core::fmt` formatting of the address cost about 1,000
/// instructions per probe, 12% of the engine bench (tests compare both with std's `Display`). The bracketed
/// IPv6 form (compressed `::` notation) still uses std.
pub struct HostText {
    buf: [u8; HostText::CAPACITY],
    len: usize,
}

impl HostText {
    /// `[` + the longest IPv6 text (45, IPv4-mapped) + `]` fits with room to spare.
    const CAPACITY: usize = 64;

    pub fn new(dst: IpAddr, form: Ipv6HostForm) -> HostText {
        let mut text = HostText {
            buf: [0; HostText::CAPACITY],
            len: 0,
        };
        match (dst, form) {
            (IpAddr::V4(v4), _) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        text.push(b'.');
                    }
                    text.push_decimal(octet);
                }
            }
            (IpAddr::V6(v6), Ipv6HostForm::Bracketed) => {
                // Writing into the fixed buffer cannot fail: the form is at most 47 bytes.
                let _ = write!(text, "[{v6}]");
            }
            (IpAddr::V6(v6), Ipv6HostForm::ExplodedBare) => {
                for (i, segment) in v6.segments().into_iter().enumerate() {
                    if i > 0 {
                        text.push(b':');
                    }
                    for shift in [12, 8, 4, 0] {
                        text.push(HEX_DIGITS[usize::from((segment >> shift) & 0xf)]);
                    }
                }
            }
        }
        text
    }

    /// The length of [`HostText::new`]'s text without writing it (IPv4: digits of each octet plus 3 dots).
    pub fn len_of(dst: IpAddr, form: Ipv6HostForm) -> usize {
        match (dst, form) {
            (IpAddr::V4(v4), _) => 3 + v4.octets().into_iter().map(decimal_len).sum::<usize>(),
            // 8 groups of 4 digits and 7 colons.
            (IpAddr::V6(_), Ipv6HostForm::ExplodedBare) => 39,
            (IpAddr::V6(_), Ipv6HostForm::Bracketed) => HostText::new(dst, form).len(),
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one byte; callers write at most 47 bytes, so the buffer never fills.
    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    /// Appends `n` in decimal without leading zeros.
    fn push_decimal(&mut self, n: u8) {
        if n >= 100 {
            self.push(b'0' + n / 100);
        }
        if n >= 10 {
            self.push(b'0' + n / 10 % 10);
        }
        self.push(b'0' + n % 10);
    }
}

/// Decimal digits of `n`.
fn decimal_len(n: u8) -> usize {
    1 + usize::from(n >= 10) + usize::from(n >= 100)
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

impl std::fmt::Write for HostText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

const GET: RequestTemplate = RequestTemplate {
    before_host: "GET / HTTP/1.1\r\nHost: ",
    before_user_agent: "\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nUser-Agent: ",
};

/// The `http` handshake. The registered one follows [`ProbeOptions::current`].
#[derive(Debug, Default)]
pub struct Http {
    options: Option<ProbeOptions>,
}

impl Http {
    /// The registry's instance: options from [`ProbeOptions::current`].
    pub const fn registered() -> Http {
        Http { options: None }
    }

    /// An instance with its own options, independent of the process-wide ones.
    pub fn with_options(options: ProbeOptions) -> Http {
        Http {
            options: Some(options),
        }
    }

    fn options(&self) -> &ProbeOptions {
        self.options
            .as_ref()
            .unwrap_or_else(|| ProbeOptions::current())
    }
}

/// The `http` rule on its own (the matcher and `tls` share nothing with it, but tests call it directly).
pub fn rule(data: &[u8]) -> Option<&'static str> {
    check(data)
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    if h.has(HTTPS) {
        return None;
    }
    let looks_http =
        h.has(HTTP) || h.has(HTML_LOWER_CASE) || h.has(HTML_UPPER_CASE) || h.has(H1_TAG);
    looks_http.then_some("http")
}

impl Handshake for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn write_probe(&self, ctx: &ProbeContext, out: &mut Vec<u8>) {
        GET.write(ctx, self.options(), out);
    }

    fn probe_len(&self, ctx: &ProbeContext) -> usize {
        GET.len(ctx, self.options())
    }

    fn fingerprint(&self, data: &[u8]) -> Option<&'static str> {
        rule(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::options::{CHROME_USER_AGENT, ZGRAB_USER_AGENT};
    use crate::handshakes::test_util::{ctx_v4, probe};
    use std::net::Ipv6Addr;

    #[test]
    fn probe_bytes_match_the_reference() {
        let ctx = ctx_v4(198, 18, 0, 1);
        let bytes = probe(&Http::with_options(ProbeOptions::reference()), &ctx);
        let expected = format!(
            "GET / HTTP/1.1\r\nHost: 198.18.0.1\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nUser-Agent: {CHROME_USER_AGENT}\r\n\r\n"
        );
        assert_eq!(bytes, expected.as_bytes());
        assert_eq!(bytes.len(), 186 + "198.18.0.1".len());
    }

    #[test]
    fn paper_user_agent() {
        let ctx = ctx_v4(1, 2, 3, 4);
        let bytes = probe(&Http::with_options(ProbeOptions::paper()), &ctx);
        assert_eq!(
            bytes,
            format!("GET / HTTP/1.1\r\nHost: 1.2.3.4\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nUser-Agent: {ZGRAB_USER_AGENT}\r\n\r\n")
                .as_bytes()
        );
    }

    #[test]
    fn ipv6_hosts() {
        let dst = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        let ctx = ProbeContext {
            dst,
            dst_port: 8080,
            seed: 7,
        };
        let bracketed = probe(&Http::with_options(ProbeOptions::reference()), &ctx);
        assert!(bracketed.starts_with(b"GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\nAccept"));
        let original = probe(
            &Http::with_options(
                ProbeOptions::reference().with_ipv6_host(Ipv6HostForm::ExplodedBare),
            ),
            &ctx,
        );
        assert!(original.starts_with(
            b"GET / HTTP/1.1\r\nHost: 2001:0db8:0000:0000:0000:0000:0000:0001\r\nAccept"
        ));
        assert_eq!(original.len(), 186 + 39);
        let longest = IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff));
        assert_eq!(
            HostText::new(longest, Ipv6HostForm::Bracketed).as_bytes(),
            b"[::ffff:255.255.255.255]"
        );
        let full = IpAddr::V6(Ipv6Addr::new(
            0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xfffe,
        ));
        assert_eq!(HostText::new(full, Ipv6HostForm::Bracketed).len(), 41);
    }

    /// std's formatting, the reference for the hand-written one.
    fn std_host(dst: IpAddr, form: Ipv6HostForm) -> String {
        match (dst, form) {
            (IpAddr::V4(v4), _) => v4.to_string(),
            (IpAddr::V6(v6), Ipv6HostForm::Bracketed) => format!("[{v6}]"),
            (IpAddr::V6(v6), Ipv6HostForm::ExplodedBare) => {
                let s = v6.segments();
                format!(
                    "{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}",
                    s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
                )
            }
        }
    }

    fn assert_host_like_std(dst: IpAddr) {
        for form in [Ipv6HostForm::Bracketed, Ipv6HostForm::ExplodedBare] {
            let text = HostText::new(dst, form);
            let expected = std_host(dst, form);
            assert_eq!(text.as_bytes(), expected.as_bytes(), "{dst} {form:?}");
            assert_eq!(HostText::len_of(dst, form), expected.len(), "{dst} {form:?}");
        }
    }

    #[test]
    fn host_text_agrees_with_std_on_every_octet() {
        for n in 0..=255u8 {
            assert_host_like_std(IpAddr::V4(std::net::Ipv4Addr::new(n, 255 - n, n / 3, n % 7)));
            assert_host_like_std(IpAddr::V4(std::net::Ipv4Addr::new(n, n, n, n)));
        }
        for addr in ["0.0.0.0", "255.255.255.255", "10.0.100.9", "::", "::1", "2001:db8::1", "::ffff:1.2.3.4"] {
            assert_host_like_std(addr.parse().expect("address"));
        }
    }

    proptest::proptest! {
        #[test]
        fn host_text_agrees_with_std(v4 in proptest::prelude::any::<u32>(), v6 in proptest::prelude::any::<u128>()) {
            assert_host_like_std(IpAddr::V4(std::net::Ipv4Addr::from(v4)));
            assert_host_like_std(IpAddr::V6(Ipv6Addr::from(v6)));
            let ctx = ProbeContext { dst: IpAddr::V4(std::net::Ipv4Addr::from(v4)), dst_port: 80, seed: 0 };
            let http = Http::with_options(ProbeOptions::reference());
            proptest::prop_assert_eq!(http.probe_len(&ctx), probe(&http, &ctx).len());
        }
    }

    #[test]
    fn rule_edges() {
        assert_eq!(rule(b"HTTP/1.1 200 OK\r\n"), Some("http"));
        assert_eq!(rule(b"<html>"), Some("http"));
        assert_eq!(rule(b"<HTML>"), Some("http"));
        assert_eq!(rule(b"<h1>It works"), Some("http"));
        assert_eq!(rule(b"<H1>"), None);
        assert_eq!(rule(b"http/1.1"), None, "case-sensitive");
        assert_eq!(
            rule(b"HTTP/1.1 400 The plain HTTP request was sent to HTTPS port"),
            None
        );
        assert_eq!(rule(b""), None);
    }
}
