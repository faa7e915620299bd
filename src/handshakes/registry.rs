//! The one place every handshake is registered, in ascending name order: the order the original runs the
//! fingerprint rules in (reference §7, deterministic since PR #39), so joined labels come out the same.
//!
//! Also [`HandshakeList`]: a user's ordered, validated list of handshake names (`-handshakes`, and
//! `-priorityFingerprint`, which the original validates against the same registry).

use std::fmt;
use std::str::FromStr;

use super::{
    amqp, bgp, dnp3, dns, fox, ftp, http, imap, ipmi, ipp, kubernetes, memcached_ascii,
    memcached_binary, modbus, mongodb, mqtt, mssql, mysql, newlines, newlines50, oracle, pop3,
    postgres, pptp, rdp, redis, rtsp, siemens, smb, smtp, ssh, telnet, tls, vnc, wait, x11,
    Handshake,
};

static AMQP: amqp::Amqp = amqp::Amqp;
static BGP: bgp::Bgp = bgp::Bgp;
static DNP3: dnp3::Dnp3 = dnp3::Dnp3;
static DNS: dns::Dns = dns::Dns;
static FOX: fox::Fox = fox::Fox;
static FTP: ftp::Ftp = ftp::Ftp;
static HTTP: http::Http = http::Http::registered();
static IMAP: imap::Imap = imap::Imap;
static IPMI: ipmi::Ipmi = ipmi::Ipmi;
static IPP: ipp::Ipp = ipp::Ipp::registered();
static KUBERNETES: kubernetes::Kubernetes = kubernetes::Kubernetes;
static MEMCACHED_ASCII: memcached_ascii::MemcachedAscii = memcached_ascii::MemcachedAscii;
static MEMCACHED_BINARY: memcached_binary::MemcachedBinary = memcached_binary::MemcachedBinary;
static MODBUS: modbus::Modbus = modbus::Modbus;
static MONGODB: mongodb::Mongodb = mongodb::Mongodb;
static MQTT: mqtt::Mqtt = mqtt::Mqtt;
static MSSQL: mssql::Mssql = mssql::Mssql;
static MYSQL: mysql::Mysql = mysql::Mysql;
static NEWLINES: newlines::Newlines = newlines::Newlines;
static NEWLINES50: newlines50::Newlines50 = newlines50::Newlines50;
static ORACLE: oracle::Oracle = oracle::Oracle;
static POP3: pop3::Pop3 = pop3::Pop3;
static POSTGRES: postgres::Postgres = postgres::Postgres;
static PPTP: pptp::Pptp = pptp::Pptp;
static RDP: rdp::Rdp = rdp::Rdp;
static REDIS: redis::Redis = redis::Redis;
static RTSP: rtsp::Rtsp = rtsp::Rtsp;
static SIEMENS: siemens::Siemens = siemens::Siemens;
static SMB: smb::Smb = smb::Smb;
static SMTP: smtp::Smtp = smtp::Smtp;
static SSH: ssh::Ssh = ssh::Ssh;
static TELNET: telnet::Telnet = telnet::Telnet;
static TLS: tls::Tls = tls::Tls;
static VNC: vnc::Vnc = vnc::Vnc;
static WAIT: wait::Wait = wait::Wait;
static X11: x11::X11 = x11::X11;

/// Number of registered handshakes.
pub const COUNT: usize = 36;

/// Sorted by name (a test checks it): rule order, and binary search in [`by_name`].
static ALL: [&'static dyn Handshake; COUNT] = [
    &AMQP,
    &BGP,
    &DNP3,
    &DNS,
    &FOX,
    &FTP,
    &HTTP,
    &IMAP,
    &IPMI,
    &IPP,
    &KUBERNETES,
    &MEMCACHED_ASCII,
    &MEMCACHED_BINARY,
    &MODBUS,
    &MONGODB,
    &MQTT,
    &MSSQL,
    &MYSQL,
    &NEWLINES,
    &NEWLINES50,
    &ORACLE,
    &POP3,
    &POSTGRES,
    &PPTP,
    &RDP,
    &REDIS,
    &RTSP,
    &SIEMENS,
    &SMB,
    &SMTP,
    &SSH,
    &TELNET,
    &TLS,
    &VNC,
    &WAIT,
    &X11,
];

/// Every registered handshake, sorted by name.
pub fn all() -> &'static [&'static dyn Handshake] {
    &ALL
}

/// The handshake called `name` and its index in [`all`].
pub fn by_name(name: &str) -> Option<(usize, &'static dyn Handshake)> {
    ALL.binary_search_by(|h| h.name().cmp(name))
        .ok()
        .map(|i| (i, ALL[i]))
}

/// Every registered name, sorted (for help texts and error messages).
pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|h| h.name())
}

/// Why a handshake list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeListError {
    #[error("the handshake list is empty")]
    Empty,
    #[error("empty handshake name at position {position} of the list")]
    EmptyName { position: usize },
    #[error("unknown handshake `{name}` (known: {})", names().collect::<Vec<_>>().join(", "))]
    Unknown { name: String },
}

/// An ordered, validated, non-empty list of registered handshakes. Duplicates are kept (the original tries a
/// handshake named twice twice). The order is the order handshakes are tried in, and the matcher's preference
/// order.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HandshakeList {
    /// Indices into [`all`].
    entries: Vec<usize>,
}

impl HandshakeList {
    /// Parse a comma-separated list such as `wait,http,tls`. Names are trimmed of surrounding whitespace.
    pub fn parse(list: &str) -> Result<HandshakeList, HandshakeListError> {
        if list.trim().is_empty() {
            return Err(HandshakeListError::Empty);
        }
        HandshakeList::from_names(list.split(','))
    }

    /// Build from separate names (a TOML array, say).
    pub fn from_names<I, S>(names: I) -> Result<HandshakeList, HandshakeListError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut entries = Vec::new();
        for (position, name) in names.into_iter().enumerate() {
            let name = name.as_ref().trim();
            if name.is_empty() {
                return Err(HandshakeListError::EmptyName { position });
            }
            let (index, _) = by_name(name).ok_or_else(|| HandshakeListError::Unknown {
                name: name.to_owned(),
            })?;
            entries.push(index);
        }
        if entries.is_empty() {
            return Err(HandshakeListError::Empty);
        }
        Ok(HandshakeList { entries })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: an empty list is refused at construction. Present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The handshake at `position` of the list.
    pub fn get(&self, position: usize) -> Option<&'static dyn Handshake> {
        self.entries.get(position).map(|&i| ALL[i])
    }

    /// Index in [`all`] of the handshake at `position`.
    pub fn registry_index(&self, position: usize) -> Option<usize> {
        self.entries.get(position).copied()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'static dyn Handshake> + '_ {
        self.entries.iter().map(|&i| ALL[i])
    }

    pub fn names(&self) -> impl ExactSizeIterator<Item = &'static str> + '_ {
        self.iter().map(|h| h.name())
    }
}

impl Default for HandshakeList {
    /// The original's default: `http`.
    fn default() -> Self {
        HandshakeList {
            entries: vec![by_name("http").map_or(0, |(i, _)| i)],
        }
    }
}

impl FromStr for HandshakeList {
    type Err = HandshakeListError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HandshakeList::parse(s)
    }
}

impl fmt::Display for HandshakeList {
    /// Comma-separated, as parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl fmt::Debug for HandshakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: [&str; COUNT] = [
        "amqp",
        "bgp",
        "dnp3",
        "dns",
        "fox",
        "ftp",
        "http",
        "imap",
        "ipmi",
        "ipp",
        "kubernetes",
        "memcached_ascii",
        "memcached_binary",
        "modbus",
        "mongodb",
        "mqtt",
        "mssql",
        "mysql",
        "newlines",
        "newlines50",
        "oracle",
        "pop3",
        "postgres",
        "pptp",
        "rdp",
        "redis",
        "rtsp",
        "siemens",
        "smb",
        "smtp",
        "ssh",
        "telnet",
        "tls",
        "vnc",
        "wait",
        "x11",
    ];

    #[test]
    fn registry_is_complete_and_sorted() {
        let names: Vec<_> = names().collect();
        assert_eq!(names, EXPECTED);
        assert!(names.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn lookup() {
        for (i, name) in EXPECTED.iter().enumerate() {
            let (index, h) = by_name(name).expect("registered");
            assert_eq!(index, i);
            assert_eq!(h.name(), *name);
        }
        assert!(by_name("ssl").is_none(), "a label, not a module");
        assert!(by_name("HTTP").is_none());
        assert!(by_name("").is_none());
    }

    #[test]
    fn list_parsing() {
        let list = HandshakeList::parse("wait,http,tls").expect("valid");
        assert_eq!(list.names().collect::<Vec<_>>(), ["wait", "http", "tls"]);
        assert_eq!(list.to_string(), "wait,http,tls");
        assert_eq!(list.get(1).map(|h| h.name()), Some("http"));
        assert_eq!(list.registry_index(2), Some(32));
        assert_eq!(list.len(), 3);
        assert_eq!(
            HandshakeList::parse(" http , tls ")
                .expect("trimmed")
                .to_string(),
            "http,tls"
        );
        assert_eq!(
            HandshakeList::parse("http,http")
                .expect("duplicates kept")
                .len(),
            2
        );
        assert_eq!(
            "tls".parse::<HandshakeList>().expect("FromStr").to_string(),
            "tls"
        );
        assert_eq!(HandshakeList::default().to_string(), "http");
    }

    #[test]
    fn list_errors() {
        assert_eq!(HandshakeList::parse(""), Err(HandshakeListError::Empty));
        assert_eq!(HandshakeList::parse("  "), Err(HandshakeListError::Empty));
        assert_eq!(
            HandshakeList::parse("http,,tls"),
            Err(HandshakeListError::EmptyName { position: 1 })
        );
        let err = HandshakeList::parse("http,ssl").expect_err("ssl is a label");
        assert_eq!(err, HandshakeListError::Unknown { name: "ssl".into() });
        let message = err.to_string();
        assert!(
            message.starts_with("unknown handshake `ssl` (known: amqp, bgp,"),
            "{message}"
        );
        assert_eq!(
            HandshakeList::from_names(Vec::<String>::new()),
            Err(HandshakeListError::Empty)
        );
    }
}
