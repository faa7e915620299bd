//! What a user may change in the probes: the HTTP/IPP `User-Agent` and how an IPv6 target is written in `Host:`.
//!
//! The registered HTTP and IPP handshakes are `'static` values shared by every worker, so the campaign's choice is
//! installed once per process ([`ProbeOptions::install`]) before scanning starts; until then (and in tests) the
//! reference's defaults apply. A module can also be built with its own options (`http::Http::with_options`) when a
//! caller needs several settings in one process.

use std::borrow::Cow;
use std::sync::OnceLock;

/// The User-Agent of LZR at HEAD (PR #39). It really ends in `Safari/537.3`.
pub const CHROME_USER_AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.3";

/// The User-Agent of the paper-era LZR (before PR #39), for paper-faithful runs.
pub const ZGRAB_USER_AGENT: &str = "Mozilla/5.0 zgrab/0.x";

/// How an IPv6 target appears in the `Host:` header of the HTTP and IPP probes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ipv6HostForm {
    /// `[2001:db8::1]`: an IP-literal as RFC 7230 §5.4 / RFC 3986 §3.2.2 require; what real servers accept.
    #[default]
    Bracketed,
    /// `2001:0db8:0000:0000:0000:0000:0000:0001`: the original's form (exploded, no brackets). Many servers
    /// answer it with `400 Bad Request`, which still fingerprints as `http`, but a strict server may close.
    ExplodedBare,
}

impl Ipv6HostForm {
    pub fn from_name(name: &str) -> Option<Ipv6HostForm> {
        match name {
            "bracketed" => Some(Ipv6HostForm::Bracketed),
            "exploded" | "original" => Some(Ipv6HostForm::ExplodedBare),
            _ => None,
        }
    }
}

/// A User-Agent that would break the request (control characters could inject headers).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeOptionsError {
    #[error("User-Agent must not be empty")]
    EmptyUserAgent,
    #[error("User-Agent must be printable ASCII (byte 0x{byte:02x} at offset {offset})")]
    BadUserAgentByte { byte: u8, offset: usize },
    #[error("probe options were already installed for this process")]
    AlreadyInstalled,
}

/// Options for the probes that carry text chosen by the user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProbeOptions {
    user_agent: Cow<'static, str>,
    ipv6_host: Ipv6HostForm,
}

static INSTALLED: OnceLock<ProbeOptions> = OnceLock::new();
static DEFAULT: ProbeOptions = ProbeOptions::reference();

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions::reference()
    }
}

impl ProbeOptions {
    /// The reference's defaults: Chrome User-Agent, bracketed IPv6 hosts.
    pub const fn reference() -> ProbeOptions {
        ProbeOptions {
            user_agent: Cow::Borrowed(CHROME_USER_AGENT),
            ipv6_host: Ipv6HostForm::Bracketed,
        }
    }

    /// The paper-era probe: `Mozilla/5.0 zgrab/0.x` and the original's exploded IPv6 host.
    pub const fn paper() -> ProbeOptions {
        ProbeOptions {
            user_agent: Cow::Borrowed(ZGRAB_USER_AGENT),
            ipv6_host: Ipv6HostForm::ExplodedBare,
        }
    }

    /// Replace the User-Agent; printable ASCII (0x20..=0x7e) only, so it cannot end the header line.
    pub fn with_user_agent(
        mut self,
        user_agent: impl Into<String>,
    ) -> Result<ProbeOptions, ProbeOptionsError> {
        let user_agent = user_agent.into();
        if user_agent.is_empty() {
            return Err(ProbeOptionsError::EmptyUserAgent);
        }
        if let Some((offset, &byte)) = user_agent
            .as_bytes()
            .iter()
            .enumerate()
            .find(|(_, b)| !(0x20..=0x7e).contains(*b))
        {
            return Err(ProbeOptionsError::BadUserAgentByte { byte, offset });
        }
        self.user_agent = Cow::Owned(user_agent);
        Ok(self)
    }

    pub fn with_ipv6_host(mut self, form: Ipv6HostForm) -> ProbeOptions {
        self.ipv6_host = form;
        self
    }

    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    pub fn ipv6_host(&self) -> Ipv6HostForm {
        self.ipv6_host
    }

    /// Make these the options of the registered HTTP/IPP handshakes for the rest of the process. Call once,
    /// before the first probe is built.
    pub fn install(self) -> Result<(), ProbeOptionsError> {
        INSTALLED
            .set(self)
            .map_err(|_| ProbeOptionsError::AlreadyInstalled)
    }

    /// The installed options, or the reference's defaults when none were installed.
    pub fn current() -> &'static ProbeOptions {
        INSTALLED.get().unwrap_or(&DEFAULT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_validation() {
        assert_eq!(ProbeOptions::reference().user_agent(), CHROME_USER_AGENT);
        assert_eq!(CHROME_USER_AGENT.len(), 110);
        assert!(ProbeOptions::default().with_user_agent("lzr/0.1").is_ok());
        assert_eq!(
            ProbeOptions::default().with_user_agent(""),
            Err(ProbeOptionsError::EmptyUserAgent)
        );
        assert_eq!(
            ProbeOptions::default().with_user_agent("a\r\nX-Injected: 1"),
            Err(ProbeOptionsError::BadUserAgentByte {
                byte: b'\r',
                offset: 1
            })
        );
        assert!(ProbeOptions::default()
            .with_user_agent("caf\u{e9}")
            .is_err());
    }

    #[test]
    fn host_form_names() {
        assert_eq!(
            Ipv6HostForm::from_name("bracketed"),
            Some(Ipv6HostForm::Bracketed)
        );
        assert_eq!(
            Ipv6HostForm::from_name("exploded"),
            Some(Ipv6HostForm::ExplodedBare)
        );
        assert_eq!(Ipv6HostForm::from_name("x"), None);
    }
}
