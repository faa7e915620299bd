//! Labels per second on one core over a mix of answers like the paper's (mostly HTTP and TLS, some banners,
//! some binary noise). `cargo bench --no-default-features --bench fingerprint`; prints labels/s and ns/label of
//! the matcher (one scan of each answer for every needle) and of the reference path (each rule searching on its
//! own, [`Matches::of_each_rule`]), measured in the same run.
//!
//! `LZR_BENCH_ITERS=n` runs n passes over the mix per path instead of timing about a second (for
//! `valgrind --tool=callgrind`, whose instruction counts are repeatable on a noisy machine).

use std::hint::black_box;
use std::time::Instant;

use lzr::handshakes::matcher::Matches;
use lzr::handshakes::{HandshakeList, Matcher};

fn mix() -> Vec<(Vec<u8>, usize)> {
    let nginx = b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 615\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"6592ff00-267\"\r\nAccept-Ranges: bytes\r\n\r\n<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n<style>\nhtml { color-scheme: light dark; }\nbody { width: 35em; margin: 0 auto;\nfont-family: Tahoma, Verdana, Arial, sans-serif; }\n</style>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n".to_vec();
    let redirect = b"HTTP/1.1 301 Moved Permanently\r\nServer: openresty\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 166\r\nConnection: keep-alive\r\nLocation: https://example.org/\r\n\r\n<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n".to_vec();
    // A ServerHello + Certificate flight: ~1 KB of mostly binary data.
    let mut tls = vec![
        0x16, 0x03, 0x03, 0x03, 0xc0, 0x02, 0x00, 0x00, 0x4d, 0x03, 0x03,
    ];
    let mut x = 0x1234_5678u32;
    while tls.len() < 970 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        tls.push(x as u8);
    }
    let alert = vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
    let ssh = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n".to_vec();
    let ftp = b"220 (vsFTPd 3.0.3)\r\n".to_vec();
    let smtp = b"220 mail.example.org ESMTP Postfix (Ubuntu)\r\n".to_vec();
    let noise: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(97) ^ 0x5a).collect();
    vec![
        (nginx, 30),
        (redirect, 15),
        (tls, 30),
        (alert, 5),
        (ssh, 8),
        (ftp, 4),
        (smtp, 4),
        (noise, 4),
    ]
}

/// Labels per second and ns per label of `label` over `answers`.
fn time(answers: &[Vec<u8>], label: impl Fn(&[u8]) -> usize) -> (f64, f64) {
    if let Some(iters) = std::env::var("LZR_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        for _ in 0..iters {
            for a in answers {
                black_box(label(black_box(a)));
            }
        }
        return (0.0, 0.0);
    }
    // Warm up, then time whole passes over the mix for about a second.
    for a in answers {
        black_box(label(black_box(a)));
    }
    let start = Instant::now();
    let mut labels = 0u64;
    while start.elapsed().as_secs_f64() < 1.0 {
        for a in answers {
            black_box(label(black_box(a)));
        }
        labels += answers.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    (labels as f64 / secs, secs * 1e9 / labels as f64)
}

fn main() {
    let matcher = Matcher::new(&HandshakeList::parse("wait,http,tls").expect("valid list"));
    let mut answers = Vec::new();
    for (answer, weight) in mix() {
        answers.extend((0..weight).map(|_| answer.clone()));
    }
    let bytes: usize = answers.iter().map(Vec::len).sum();
    for a in &answers {
        assert_eq!(
            matcher.resolve(&Matches::of(a)),
            matcher.resolve(&Matches::of_each_rule(a)),
            "both paths agree"
        );
    }
    let only = std::env::var("LZR_BENCH_PATH").unwrap_or_default();
    let (fast_rate, fast_ns) = if only != "each" {
        time(&answers, |a| matcher.label(a).len())
    } else {
        (0.0, 0.0)
    };
    let (each_rate, each_ns) = if only != "scan" {
        time(&answers, |a| {
            matcher.resolve(&Matches::of_each_rule(a)).len()
        })
    } else {
        (0.0, 0.0)
    };
    println!(
        "fingerprint: {fast_rate:.0} labels/s, {fast_ns:.0} ns/label on one core (mix of {} answers, mean {} bytes)",
        answers.len(),
        bytes / answers.len()
    );
    println!(
        "  each rule searching on its own: {each_rate:.0} labels/s, {each_ns:.0} ns/label; one scan is {:.1}x faster",
        each_ns / fast_ns
    );
}
