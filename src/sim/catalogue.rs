//! The protocols a simulated host can speak, and what each says to each probe.
//!
//! Answers are real servers' bytes captured on the test bed (tests/corpus, one file per server and probe), with
//! a few short answers written here where the bed has no such server behaviour (a TLS alert, mongod's reply to
//! HTTP, Redis's error for a GET).
//!
//! Which probes a protocol answers follows the paper's Figure 10 (reference §11.2): the share of services of
//! each protocol that send data for the TLS ClientHello, `\n\n`, the HTTP GET, and for nothing at all (`wait`,
//! i.e. a banner right after the handshake). A host draws one number in [0, 1) once ([`super::Host`]'s
//! `answer_draw`) and answers a probe column when the number is below that column's share, so a host that
//! answers an unlikely probe also answers the likelier ones. A protocol's own probe is always answered.
//! Server-first protocols send their banner whatever the probe; their corpus answers to probes already start
//! with it. Probes of other protocols count as garbage and get the `\n\n` column's treatment.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::handshakes::{probe_bytes, registry, ProbeContext};

/// The columns of Figure 10: which kind of first bytes a host receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// Nothing (a bare ACK): only server-first hosts talk.
    Wait,
    /// A TLS ClientHello (the `tls` and `kubernetes` probes).
    Tls,
    /// An HTTP request (the `http` GET, the `ipp` POST).
    Http,
    /// Newlines, or any other protocol's probe (garbage to this host).
    Garbage,
}

/// What one protocol answers to one column: the share of hosts that answer, and the bytes.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    pub share: f32,
    pub bytes: &'static [u8],
}

const NONE: Answer = Answer {
    share: 0.0,
    bytes: b"",
};

const fn answer(share: f32, bytes: &'static [u8]) -> Answer {
    Answer { share, bytes }
}

/// One protocol a simulated host can speak.
#[derive(Debug)]
pub struct Protocol {
    /// Its lzr label (what a perfect fingerprint would say).
    pub label: &'static str,
    /// Handshake modules whose probe is this protocol's own: always answered with `own`.
    pub own_probes: &'static [&'static str],
    pub own: &'static [u8],
    /// Sent right after the handshake (server-first protocols), whatever the probe.
    pub banner: Answer,
    pub tls: Answer,
    pub http: Answer,
    pub garbage: Answer,
}

/// Protocols are equal when their labels are (each label is in the catalogue once).
impl PartialEq for Protocol {
    fn eq(&self, other: &Protocol) -> bool {
        self.label == other.label
    }
}

impl Eq for Protocol {}

impl Protocol {
    /// The bytes a host of this protocol sends for a probe (`name` = the handshake module recognised, if any),
    /// given its answer draw; None when it stays silent.
    pub fn answer(&self, column: Column, name: Option<&str>, draw: f32) -> Option<&'static [u8]> {
        if name.is_some_and(|n| self.own_probes.contains(&n)) {
            return Some(self.own);
        }
        let by_column = match column {
            Column::Wait => NONE,
            Column::Tls => self.tls,
            Column::Http => self.http,
            Column::Garbage => self.garbage,
        };
        [by_column, self.banner]
            .into_iter()
            .find(|a| draw < a.share && !a.bytes.is_empty())
            .map(|a| a.bytes)
    }

    /// True when the protocol talks first.
    pub fn server_first(&self) -> bool {
        self.banner.share > 0.0
    }
}

macro_rules! corpus {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/", $path))
    };
}

/// A fatal TLS alert (decode_error), what a TLS server sends for bytes that are no ClientHello.
const TLS_ALERT: &[u8] = &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32];
/// mongod's reply to an HTTP request on its driver port.
const MONGODB_HTTP: &[u8] = b"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 85\r\n\r\nIt looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n";
/// Redis reads the request line of a GET as an inline command.
const REDIS_HTTP: &[u8] = b"-ERR wrong number of arguments for 'get' command\r\n";
/// What an unidentifiable service sends: bytes no fingerprint rule names.
pub const UNIDENTIFIED_BANNER: &[u8] = &[
    0x00, 0x00, 0x00, 0x0c, 0x7f, 0x3a, 0x91, 0x05, 0x00, 0x00, 0x00, 0x00,
];

/// Every protocol, by label. Shares are Figure 10's (rtsp and bgp are not in it: their columns are
/// assumptions, see docs/simulator.md).
static PROTOCOLS: &[Protocol] = &[
    Protocol {
        label: "http",
        own_probes: &["http", "ipp"],
        own: corpus!("nginx-http/http.bin"),
        banner: NONE,
        tls: answer(0.67, corpus!("nginx-http/tls.bin")),
        http: answer(1.0, corpus!("nginx-http/http.bin")),
        garbage: answer(0.21, corpus!("lighttpd/newlines.bin")),
    },
    Protocol {
        label: "tls",
        own_probes: &["tls"],
        own: corpus!("nginx-tls/tls.bin"),
        banner: NONE,
        tls: answer(1.0, corpus!("nginx-tls/tls.bin")),
        http: answer(0.41, corpus!("nginx-tls/http.bin")),
        garbage: answer(0.04, TLS_ALERT),
    },
    Protocol {
        label: "kubernetes",
        own_probes: &[],
        own: b"",
        banner: NONE,
        tls: answer(0.98, corpus!("nginx-kubernetes/kubernetes.bin")),
        http: answer(0.98, corpus!("nginx-kubernetes/http.bin")),
        garbage: answer(0.83, TLS_ALERT),
    },
    Protocol {
        label: "ssh",
        own_probes: &["ssh"],
        own: corpus!("openssh/wait.bin"),
        banner: answer(0.98, corpus!("openssh/wait.bin")),
        tls: answer(0.93, corpus!("openssh/tls.bin")),
        http: answer(0.96, corpus!("openssh/http.bin")),
        garbage: answer(0.96, corpus!("openssh/newlines.bin")),
    },
    Protocol {
        label: "ftp",
        own_probes: &[],
        own: b"",
        banner: answer(0.99, corpus!("vsftpd/wait.bin")),
        tls: answer(0.97, corpus!("vsftpd/tls.bin")),
        http: answer(0.99, corpus!("vsftpd/http.bin")),
        garbage: answer(0.99, corpus!("vsftpd/newlines.bin")),
    },
    Protocol {
        label: "smtp",
        own_probes: &["smtp"],
        own: corpus!("opensmtpd/wait.bin"),
        banner: answer(0.79, corpus!("opensmtpd/wait.bin")),
        tls: answer(0.99, corpus!("opensmtpd/tls.bin")),
        http: answer(1.0, corpus!("opensmtpd/http.bin")),
        garbage: answer(1.0, corpus!("opensmtpd/newlines.bin")),
    },
    Protocol {
        label: "imap",
        own_probes: &[],
        own: b"",
        banner: answer(1.0, corpus!("dovecot-imap/wait.bin")),
        tls: answer(1.0, corpus!("dovecot-imap/tls.bin")),
        http: answer(0.99, corpus!("dovecot-imap/http.bin")),
        garbage: answer(0.99, corpus!("dovecot-imap/newlines.bin")),
    },
    Protocol {
        label: "pop3",
        own_probes: &[],
        own: b"",
        banner: answer(0.99, corpus!("dovecot-pop3/wait.bin")),
        tls: answer(1.0, corpus!("dovecot-pop3/tls.bin")),
        http: answer(0.99, corpus!("dovecot-pop3/http.bin")),
        garbage: answer(1.0, corpus!("dovecot-pop3/newlines.bin")),
    },
    Protocol {
        label: "mysql",
        own_probes: &[],
        own: b"",
        banner: answer(1.0, corpus!("mariadb/wait.bin")),
        tls: answer(0.99, corpus!("mariadb/tls.bin")),
        http: answer(0.99, corpus!("mariadb/http.bin")),
        garbage: answer(0.99, corpus!("mariadb/newlines.bin")),
    },
    Protocol {
        label: "telnet",
        own_probes: &[],
        own: b"",
        banner: answer(0.97, corpus!("telnetd/wait.bin")),
        tls: answer(0.98, corpus!("telnetd/tls.bin")),
        http: answer(0.97, corpus!("telnetd/http.bin")),
        garbage: answer(0.97, corpus!("telnetd/newlines.bin")),
    },
    Protocol {
        label: "vnc",
        own_probes: &[],
        own: b"",
        banner: answer(0.96, corpus!("xvnc/wait.bin")),
        tls: answer(0.98, corpus!("xvnc/tls.bin")),
        http: answer(0.98, corpus!("xvnc/http.bin")),
        garbage: answer(0.99, corpus!("xvnc/newlines.bin")),
    },
    Protocol {
        label: "amqp",
        own_probes: &["amqp"],
        own: corpus!("rabbitmq/amqp.bin"),
        banner: NONE,
        tls: answer(0.95, corpus!("rabbitmq/tls.bin")),
        http: answer(0.94, corpus!("rabbitmq/http.bin")),
        garbage: answer(0.95, corpus!("rabbitmq/amqp.bin")),
    },
    Protocol {
        label: "mongodb",
        own_probes: &["mongodb"],
        own: corpus!("mongodb/mongodb.bin"),
        banner: NONE,
        tls: NONE,
        http: answer(0.90, MONGODB_HTTP),
        garbage: NONE,
    },
    Protocol {
        label: "redis",
        own_probes: &["redis"],
        own: corpus!("redis/redis.bin"),
        banner: NONE,
        tls: NONE,
        http: answer(0.76, REDIS_HTTP),
        garbage: NONE,
    },
    Protocol {
        label: "postgres",
        own_probes: &["postgres"],
        own: corpus!("postgresql/postgres.bin"),
        banner: NONE,
        tls: NONE,
        http: NONE,
        garbage: NONE,
    },
    Protocol {
        label: "mqtt",
        own_probes: &["mqtt"],
        own: corpus!("mosquitto/mqtt.bin"),
        banner: NONE,
        tls: NONE,
        http: NONE,
        garbage: NONE,
    },
    Protocol {
        label: "rtsp",
        own_probes: &["rtsp"],
        own: corpus!("rtsp/rtsp.bin"),
        banner: NONE,
        tls: answer(0.9, corpus!("rtsp/tls.bin")),
        http: answer(0.9, corpus!("rtsp/http.bin")),
        garbage: answer(0.9, corpus!("rtsp/newlines.bin")),
    },
    Protocol {
        label: "dns",
        own_probes: &["dns"],
        own: corpus!("dnsmasq/dns.bin"),
        banner: NONE,
        tls: NONE,
        http: NONE,
        garbage: NONE,
    },
    Protocol {
        label: "pptp",
        own_probes: &["pptp"],
        own: corpus!("pptpd/pptp.bin"),
        banner: NONE,
        tls: NONE,
        http: NONE,
        garbage: NONE,
    },
    Protocol {
        label: "modbus",
        own_probes: &["modbus"],
        own: corpus!("modbus/modbus.bin"),
        banner: NONE,
        tls: NONE,
        http: NONE,
        garbage: NONE,
    },
    Protocol {
        label: "siemens",
        own_probes: &["siemens"],
        own: corpus!("s7/siemens.bin"),
        banner: NONE,
        tls: NONE,
        http: NONE,
        garbage: NONE,
    },
    Protocol {
        label: "mssql",
        own_probes: &["mssql"],
        own: corpus!("tdspool/mssql.bin"),
        banner: NONE,
        tls: NONE,
        http: NONE,
        garbage: NONE,
    },
    Protocol {
        label: "dnp3",
        own_probes: &["dnp3"],
        own: corpus!("dnp3/dnp3.bin"),
        banner: NONE,
        tls: NONE,
        http: NONE,
        garbage: NONE,
    },
    Protocol {
        label: "bgp",
        own_probes: &["bgp"],
        own: corpus!("bird/wait.bin"),
        banner: answer(1.0, corpus!("bird/wait.bin")),
        tls: answer(1.0, corpus!("bird/tls.bin")),
        http: NONE,
        garbage: NONE,
    },
];

/// The protocol with this label.
pub fn find(label: &str) -> Option<&'static Protocol> {
    PROTOCOLS.iter().find(|p| p.label == label)
}

/// Every label, in catalogue order.
pub fn labels() -> impl Iterator<Item = &'static str> {
    PROTOCOLS.iter().map(|p| p.label)
}

/// The column a handshake module's probe falls in.
pub fn column_of(handshake: &str) -> Column {
    match handshake {
        "wait" | "ftp" | "imap" | "pop3" | "mysql" | "telnet" | "vnc" => Column::Wait,
        "tls" | "kubernetes" => Column::Tls,
        "http" | "ipp" => Column::Http,
        _ => Column::Garbage,
    }
}

/// Names the probe in a received payload: its column and, when recognised, the handshake module that sends it.
/// Fixed probes are recognised byte for byte from the registry itself; HTTP requests and ClientHellos (which
/// carry the target's address or random bytes) by their framing.
#[derive(Clone, Debug)]
pub struct ProbeClassifier {
    fixed: HashMap<Vec<u8>, &'static str>,
}

impl ProbeClassifier {
    pub fn new() -> ProbeClassifier {
        let ctx = |addr: [u8; 4], seed| ProbeContext {
            dst: IpAddr::V4(Ipv4Addr::from(addr)),
            dst_port: 1,
            seed,
        };
        let mut fixed = HashMap::new();
        for h in registry::all() {
            let a = probe_bytes(*h, &ctx([198, 18, 0, 1], 1));
            let b = probe_bytes(*h, &ctx([203, 0, 113, 7], 2));
            // Only probes that never change; the first module in name order keeps a shared probe (`\n\n`: bgp).
            if a == b && !a.is_empty() {
                fixed.entry(a).or_insert(h.name());
            }
        }
        ProbeClassifier { fixed }
    }

    /// The column and module of `payload` (the data our ACK carried).
    pub fn classify(&self, payload: &[u8]) -> (Column, Option<&'static str>) {
        if payload.is_empty() {
            return (Column::Wait, None);
        }
        if let Some(name) = self.fixed.get(payload) {
            return (column_of(name), Some(name));
        }
        if payload.starts_with(b"GET ") {
            return (Column::Http, Some("http"));
        }
        if payload.starts_with(b"POST /ipp ") {
            return (Column::Http, Some("ipp"));
        }
        // TLS handshake record carrying a ClientHello.
        if payload.len() > 5 && payload[0] == 0x16 && payload[1] == 0x03 && payload[5] == 0x01 {
            return (Column::Tls, Some("tls"));
        }
        (Column::Garbage, None)
    }
}

impl Default for ProbeClassifier {
    fn default() -> Self {
        ProbeClassifier::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshakes::{HandshakeList, Matcher};

    #[test]
    fn every_registered_probe_is_classified_as_its_module() {
        let c = ProbeClassifier::new();
        let ctx = ProbeContext {
            dst: "198.18.200.9".parse().unwrap(),
            dst_port: 80,
            seed: 77,
        };
        for h in registry::all() {
            let bytes = probe_bytes(*h, &ctx);
            let (column, name) = c.classify(&bytes);
            match h.name() {
                "wait" | "ftp" | "imap" | "pop3" | "mysql" | "telnet" | "vnc" => {
                    assert_eq!(column, Column::Wait)
                }
                "kubernetes" => assert_eq!(name, Some("tls")),
                "newlines" | "bgp" => assert_eq!(name, Some("bgp"), "both send \\n\\n"),
                other => assert_eq!(name, Some(other), "{other}"),
            }
            assert_eq!(column, column_of(h.name()), "{}", h.name());
        }
        assert_eq!(c.classify(b"\x01\x02garbage"), (Column::Garbage, None));
    }

    #[test]
    fn answers_carry_the_protocols_label() {
        // Each protocol's answer to its own probe (or its banner) is named as that protocol by lzr's rules.
        for p in PROTOCOLS {
            let (bytes, plan) = match p.own_probes.first() {
                Some(own) => (p.own, *own),
                None if p.server_first() => (p.banner.bytes, "wait"),
                None => (p.tls.bytes, p.label),
            };
            let matcher = Matcher::new(&HandshakeList::parse(plan).unwrap());
            assert_eq!(matcher.label(bytes), p.label, "{}", p.label);
        }
        let m = Matcher::new(&HandshakeList::parse("wait").unwrap());
        assert_eq!(m.label(UNIDENTIFIED_BANNER), "unknown");
    }

    #[test]
    fn answer_draws_follow_the_column_shares() {
        let tls = find("tls").unwrap();
        assert!(tls.answer(Column::Http, None, 0.40).is_some());
        assert!(tls.answer(Column::Http, None, 0.42).is_none());
        assert!(
            tls.answer(Column::Wait, None, 0.0).is_none(),
            "client-first: silent without a probe"
        );
        let postgres = find("postgres").unwrap();
        assert_eq!(
            postgres.answer(Column::Garbage, Some("postgres"), 0.99),
            Some(&b"N"[..])
        );
        assert!(postgres.answer(Column::Http, Some("http"), 0.0).is_none());
        let ssh = find("ssh").unwrap();
        assert!(ssh
            .answer(Column::Wait, None, 0.5)
            .unwrap()
            .starts_with(b"SSH-2.0-"));
        // A server-first host past its column share still sends its banner.
        let bgp = find("bgp").unwrap();
        assert_eq!(
            bgp.answer(Column::Http, Some("http"), 0.5),
            Some(bgp.banner.bytes)
        );
        assert!(find("gopher").is_none());
    }
}
