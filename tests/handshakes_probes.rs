//! Every registered probe: its exact length for a target, `probe_len` agreeing with `write_probe`, and
//! determinism (a retransmission rebuilds the same bytes). Byte-level vectors live in each module's unit tests.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lzr::handshakes::{probe_bytes, registry, ProbeContext};

fn ctx(dst: IpAddr, seed: u64) -> ProbeContext {
    ProbeContext {
        dst,
        dst_port: 443,
        seed,
    }
}

/// (name, length for a 10-character IPv4 target such as 198.18.0.1) with the default options.
const LENGTHS: [(&str, usize); 36] = [
    ("amqp", 8),
    ("bgp", 2),
    ("dnp3", 1002),
    ("dns", 37),
    ("fox", 513),
    ("ftp", 0),
    ("http", 186 + 10),
    ("imap", 0),
    ("ipmi", 23),
    ("ipp", 221 + 10),
    ("kubernetes", 122),
    ("memcached_ascii", 7),
    ("memcached_binary", 24),
    ("modbus", 11),
    ("mongodb", 58),
    ("mqtt", 17),
    ("mssql", 47),
    ("mysql", 0),
    ("newlines", 2),
    ("newlines50", 50),
    ("oracle", 109),
    ("pop3", 0),
    ("postgres", 8),
    ("pptp", 156),
    ("rdp", 38),
    ("redis", 14),
    ("rtsp", 22),
    ("siemens", 22),
    ("smb", 43),
    ("smtp", 6),
    ("ssh", 12),
    ("telnet", 0),
    ("tls", 122),
    ("vnc", 0),
    ("wait", 0),
    ("x11", 12),
];

#[test]
fn every_probe_has_the_reference_length() {
    let target = ctx(IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)), 1);
    let names: Vec<_> = registry::names().collect();
    let expected: Vec<_> = LENGTHS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, expected, "table covers the registry in order");
    for (name, len) in LENGTHS {
        let (_, h) = registry::by_name(name).expect("registered");
        let bytes = probe_bytes(h, &target);
        assert_eq!(bytes.len(), len, "{name}");
        assert_eq!(h.probe_len(&target), len, "{name} probe_len");
    }
}

#[test]
fn probe_len_agrees_for_every_target_shape() {
    let targets = [
        IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)),
        IpAddr::V4(Ipv4Addr::new(255, 255, 255, 255)),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0x1234, 0x5678, 0x9abc, 0xdef0, 0x1111, 0x2222,
        )),
        IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xc612, 0x0001)),
    ];
    for dst in targets {
        for h in registry::all() {
            let c = ctx(dst, 7);
            assert_eq!(
                probe_bytes(*h, &c).len(),
                h.probe_len(&c),
                "{} to {dst}",
                h.name()
            );
        }
    }
}

#[test]
fn probes_are_deterministic_and_appended() {
    let c = ctx(
        IpAddr::V4(Ipv4Addr::new(198, 18, 3, 4)),
        0x1234_5678_9abc_def0,
    );
    for h in registry::all() {
        let first = probe_bytes(*h, &c);
        assert_eq!(
            first,
            probe_bytes(*h, &c),
            "{} retransmission differs",
            h.name()
        );
        let mut out = b"prefix".to_vec();
        h.write_probe(&c, &mut out);
        assert_eq!(&out[..6], b"prefix", "{} must append", h.name());
        assert_eq!(&out[6..], first.as_slice());
    }
}

#[test]
fn only_tls_probes_depend_on_the_seed() {
    let dst = IpAddr::V4(Ipv4Addr::new(198, 18, 3, 4));
    for h in registry::all() {
        let a = probe_bytes(*h, &ctx(dst, 1));
        let b = probe_bytes(*h, &ctx(dst, 2));
        let seeded = matches!(h.name(), "tls" | "kubernetes");
        assert_eq!(a != b, seeded, "{}", h.name());
        if seeded {
            assert_eq!(a[..11], b[..11]);
            assert_eq!(a[43..], b[43..]);
        }
    }
}
