//! The matcher never panics and only ever produces known labels: seeded random inputs and mutations of real
//! answers (the stable counterpart of fuzz/fuzz_targets/fingerprint.rs).

use lzr::handshakes::matcher::is_reflection;
use lzr::handshakes::{
    registry, HandshakeList, Matcher, MatcherOptions, ECHO_LABEL, UNKNOWN_LABEL,
};

const LABELS: [&str; 33] = [
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
    "ssl",
    "vnc",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vec![
        b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n<html>".to_vec(),
        b"SSH-2.0-OpenSSH_9.6\r\n".to_vec(),
        b"220 (vsFTPd 3.0.3)\r\n".to_vec(),
        b"* OK Dovecot ready.\r\n".to_vec(),
        b"+OK Dovecot ready.\r\n".to_vec(),
        vec![0x16, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28],
        vec![0xff; 19],
        vec![
            0x03, 0x00, 0x00, 0x16, 0x11, 0xd0, 0, 4, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2,
            2, 2, 0,
        ],
        b"telne\xc5\xb4".to_vec(),
    ];
    let ctx = lzr::handshakes::ProbeContext {
        dst: "198.18.0.1".parse().expect("ip"),
        dst_port: 80,
        seed: 3,
    };
    seeds.extend(
        registry::all()
            .iter()
            .map(|h| lzr::handshakes::probe_bytes(*h, &ctx)),
    );
    seeds
}

fn mutate(rng: &mut Rng, mut data: Vec<u8>) -> Vec<u8> {
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.truncate(rng.below(data.len() + 1)),
            2 => {
                let at = rng.below(data.len() + 1);
                data.insert(at, rng.next() as u8);
            }
            3 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = [0x00, 0xff, 0x80, b'-', b'\n', 0xc5][rng.below(6)];
            }
            _ => data.extend_from_slice(&rng.next().to_le_bytes()),
        }
    }
    data
}

fn assert_known(label: &str, input: &[u8]) {
    let known = label == UNKNOWN_LABEL
        || label == ECHO_LABEL
        || label == "smtp-ftp"
        || label.split('-').all(|part| LABELS.contains(&part));
    assert!(known, "label {label:?} for input {input:02x?}");
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let lists = ["http", "wait,http,tls", "ftp,smtp", "tls"];
    let matchers: Vec<Matcher> = lists
        .iter()
        .map(|l| Matcher::new(&HandshakeList::parse(l).expect("valid")))
        .chain([Matcher::with_options(
            &HandshakeList::default(),
            MatcherOptions::ORIGINAL,
        )])
        .collect();
    let seeds = seeds();
    let mut rng = Rng(0x5eed_1a2b);
    for round in 0..30_000 {
        let input = if round % 3 == 0 {
            let len = rng.below(1100);
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            let seed = seeds[rng.below(seeds.len())].clone();
            mutate(&mut rng, seed)
        };
        let matcher = &matchers[round % matchers.len()];
        let probe = &seeds[rng.below(seeds.len())];
        assert_known(&matcher.label(&input), &input);
        assert_known(&matcher.label_with_probe(&input, Some(probe)), &input);
        let _ = is_reflection(&input, probe);
        for h in registry::all() {
            let _ = h.fingerprint(&input);
        }
    }
}
