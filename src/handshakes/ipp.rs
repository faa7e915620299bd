//! `ipp`: `POST /ipp` with `Content-Type: application/ipp` and no body (reference §6.3), 221 + len(DST) bytes
//! with the default User-Agent. Shares the request writer and options with [`super::http`].
//!
//! Rule: contains `ipp` and `200 OK`, and contains `attributes-charset` or `print` → `ipp`.

use super::http::RequestTemplate;
use super::options::ProbeOptions;
use super::text::{
    needle::{ATTRIBUTES_CHARSET, IPP, OK_200, PRINT},
    Haystack,
};
use super::{Handshake, ProbeContext};

const POST: RequestTemplate = RequestTemplate {
    before_host: "POST /ipp HTTP/1.1\r\nHost: ",
    before_user_agent:
        "\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nContent-Type: application/ipp\r\nUser-Agent: ",
};

/// The `ipp` handshake. The registered one follows [`ProbeOptions::current`].
#[derive(Debug, Default)]
pub struct Ipp {
    options: Option<ProbeOptions>,
}

impl Ipp {
    pub const fn registered() -> Ipp {
        Ipp { options: None }
    }

    pub fn with_options(options: ProbeOptions) -> Ipp {
        Ipp {
            options: Some(options),
        }
    }

    fn options(&self) -> &ProbeOptions {
        self.options
            .as_ref()
            .unwrap_or_else(|| ProbeOptions::current())
    }
}

pub fn rule(data: &[u8]) -> Option<&'static str> {
    check(data)
}

/// The rule, on an answer or on a [`Scanned`](super::text::Scanned) one (the matcher's fast path).
pub(crate) fn check<H: Haystack + ?Sized>(h: &H) -> Option<&'static str> {
    let ipp = h.has(IPP) && h.has(OK_200) && (h.has(ATTRIBUTES_CHARSET) || h.has(PRINT));
    ipp.then_some("ipp")
}

impl Handshake for Ipp {
    fn name(&self) -> &'static str {
        "ipp"
    }

    fn write_probe(&self, ctx: &ProbeContext, out: &mut Vec<u8>) {
        POST.write(ctx, self.options(), out);
    }

    fn probe_len(&self, ctx: &ProbeContext) -> usize {
        POST.len(ctx, self.options())
    }

    fn fingerprint(&self, data: &[u8]) -> Option<&'static str> {
        rule(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::options::CHROME_USER_AGENT;
    use crate::handshakes::test_util::{ctx_v4, probe};

    #[test]
    fn probe_bytes_match_the_reference() {
        let ctx = ctx_v4(10, 0, 0, 255);
        let bytes = probe(&Ipp::with_options(ProbeOptions::reference()), &ctx);
        let expected = format!(
            "POST /ipp HTTP/1.1\r\nHost: 10.0.0.255\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nContent-Type: application/ipp\r\nUser-Agent: {CHROME_USER_AGENT}\r\n\r\n"
        );
        assert_eq!(bytes, expected.as_bytes());
        assert_eq!(bytes.len(), 221 + "10.0.0.255".len());
    }

    #[test]
    fn rule_edges() {
        // CUPS answering a body-less POST /ipp: HTTP 200 with an IPP error body naming the charset.
        let cups = b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\n\r\n\x01\x01\x04\x00\x00\x00\x00\x00\x01\x47\x00\x12attributes-charset\x00\x05utf-8";
        assert_eq!(rule(cups), Some("ipp"));
        assert_eq!(
            rule(b"HTTP/1.1 200 OK\r\nServer: ipp\r\n\r\nprint"),
            Some("ipp")
        );
        assert_eq!(rule(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/ipp\r\n\r\nattributes-charset"), None);
        assert_eq!(
            rule(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nprint"),
            None,
            "needs `ipp`"
        );
        assert_eq!(
            rule(b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\n\r\n"),
            None,
            "needs charset or print"
        );
    }
}
