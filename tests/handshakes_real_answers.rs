//! Real servers' answers (shapes as the servers send them) through the full matcher, with the handshake lists a
//! user would scan with. Each case names the rules that fire and the final label.

use lzr::handshakes::matcher::Matches;
use lzr::handshakes::{HandshakeList, Matcher, MatcherOptions};

fn label(list: &str, data: &[u8]) -> String {
    Matcher::with_options(
        &HandshakeList::parse(list).expect("valid list"),
        MatcherOptions::ORIGINAL,
    )
    .label(data)
    .into_owned()
}

fn rules(data: &[u8]) -> Vec<&'static str> {
    Matches::of(data).labels().to_vec()
}

const NGINX_200: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0 (Ubuntu)\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 615\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"6592ff00-267\"\r\nAccept-Ranges: bytes\r\n\r\n<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n";
const NGINX_400_PLAIN_ON_TLS: &[u8] = b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 248\r\nConnection: close\r\n\r\n<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
const NGINX_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 150\r\nConnection: close\r\n\r\n<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

#[test]
fn http_servers() {
    assert_eq!(rules(NGINX_200), ["http"]);
    assert_eq!(label("wait,http,tls", NGINX_200), "http");
    // The 400 an HTTPS port gives to plain HTTP: the port speaks TLS.
    assert_eq!(rules(NGINX_400_PLAIN_ON_TLS), ["tls"]);
    assert_eq!(label("http", NGINX_400_PLAIN_ON_TLS), "tls");
    assert_eq!(label("http", NGINX_400), "http");
    // An SSH port answering our HTTP GET: the banner comes first.
    assert_eq!(
        label("http", b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n"),
        "ssh"
    );
}

#[test]
fn tls_records() {
    // ServerHello (TLS 1.2) head: record, handshake type 2, version, random...
    let mut hello = vec![
        0x16, 0x03, 0x03, 0x00, 0x51, 0x02, 0x00, 0x00, 0x4d, 0x03, 0x03,
    ];
    hello.extend((0u8..32).map(|i| i.wrapping_mul(37)));
    hello.extend_from_slice(&[0x20]);
    hello.extend((0u8..32).map(|i| i.wrapping_mul(11)));
    hello.extend_from_slice(&[0xc0, 0x2f, 0x00, 0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00]);
    assert_eq!(rules(&hello), ["tls"]);
    assert_eq!(label("http", &hello), "tls");
    // Alert: fatal handshake_failure (what TLS 1.3-only servers answer to our 1.2 hello).
    assert_eq!(
        label("tls", &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]),
        "tls"
    );
    // SSL 3.0 alert.
    assert_eq!(
        label("tls", &[0x15, 0x03, 0x00, 0x00, 0x02, 0x02, 0x28]),
        "ssl"
    );
}

#[test]
fn databases_and_caches() {
    assert_eq!(
        label(
            "redis",
            b"-ERR unknown command 'GET', with args beginning with: '/' \r\n"
        ),
        "redis"
    );
    let pong = b"+PONG\r\n";
    assert_eq!(pong.len(), 7);
    assert_eq!(label("redis", pong), "redis");
    assert_eq!(label("postgres", b"N"), "postgres");
    assert_eq!(label("mqtt", &[0x20, 0x02, 0x00, 0x00]), "mqtt");
    let stats = b"STAT pid 4242\r\nSTAT uptime 100\r\nSTAT time 1763719200\r\nSTAT version 1.6.21\r\nSTAT libevent 2.1.12-stable\r\n";
    assert_eq!(label("memcached_ascii", stats), "memcached_ascii");
    // MySQL 8 greeting: length 0x4a, seq 0, protocol 10, "8.0.36", ...
    let mut greeting = vec![0x4a, 0x00, 0x00, 0x00, 0x0a];
    greeting.extend_from_slice(b"8.0.36\0");
    greeting.extend_from_slice(&[
        0x0b, 0, 0, 0, 0x13, 0x2a, 0x5f, 0x3c, 0x48, 0x21, 0x60, 0x01, 0x00, 0xff, 0xff, 0xff,
        0x02, 0x00, 0xff, 0xdf, 0x15,
    ]);
    greeting.extend_from_slice(&[0; 10]);
    greeting.extend_from_slice(
        b"\x4c\x18\x2f\x74\x06\x53\x33\x41\x63\x1d\x3c\x51\0caching_sha2_password\0",
    );
    assert_eq!(rules(&greeting), ["mysql"]);
    assert_eq!(label("wait", &greeting), "mysql");
    // MongoDB answering the HTTP GET on its port.
    assert_eq!(label("http", b"HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 85\r\n\r\nIt looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n"), "http");
    assert_eq!(rules(b"It looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n"), ["http", "mongodb"]);
}

#[test]
fn mail_and_file_transfer() {
    assert_eq!(label("wait", b"220 (vsFTPd 3.0.3)\r\n"), "ftp");
    assert_eq!(
        label("wait", b"220 ProFTPD Server (Debian) [198.18.0.2]\r\n"),
        "ftp"
    );
    assert_eq!(
        label("wait", b"220 mail.example.org ESMTP Postfix (Ubuntu)\r\n"),
        "smtp"
    );
    assert_eq!(
        label(
            "wait",
            b"220 mx.example.org ESMTP Exim 4.97 Sat, 21 Nov 2026 10:00:00 +0000\r\n"
        ),
        "smtp"
    );
    // A bare banner matches both rules; the hierarchy says so.
    assert_eq!(rules(b"220 \r\n"), ["ftp", "smtp"]);
    assert_eq!(label("wait", b"220 \r\n"), "smtp-ftp");
    assert_eq!(label("wait", b"220 Service ready\r\n"), "smtp-ftp");
    let dovecot_imap = b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Ubuntu) ready.\r\n";
    assert_eq!(rules(dovecot_imap), ["imap"]);
    assert_eq!(label("wait", dovecot_imap), "imap");
    assert_eq!(rules(b"+OK Dovecot (Ubuntu) ready.\r\n"), ["pop3"]);
    assert_eq!(label("wait", b"+OK Dovecot (Ubuntu) ready.\r\n"), "pop3");
    // SSH banner mentioning sftp: ftp and ssh both fire, ssh wins.
    assert_eq!(rules(b"SSH-2.0-sftpgo_2.5.4\r\n"), ["ftp", "ssh"]);
    assert_eq!(label("wait", b"SSH-2.0-sftpgo_2.5.4\r\n"), "ssh");
}

#[test]
fn industrial_and_misc() {
    // BGP OPEN from a speaker: marker, then telnet's second-byte rule also fires.
    let mut open = vec![0xff; 16];
    open.extend_from_slice(&[
        0x00, 0x1d, 0x01, 0x04, 0xfd, 0xe8, 0x00, 0xb4, 0xc6, 0x12, 0x00, 0x01, 0x00,
    ]);
    assert_eq!(rules(&open), ["bgp", "telnet"]);
    assert_eq!(label("wait", &open), "bgp");
    // Telnet negotiation (busybox telnetd).
    assert_eq!(
        label(
            "wait",
            &[0xff, 0xfd, 0x01, 0xff, 0xfd, 0x1f, 0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03]
        ),
        "telnet"
    );
    assert_eq!(label("wait", b"RFB 003.008\n"), "vnc");
    assert_eq!(label("amqp", b"AMQP\x00\x00\x09\x01"), "amqp");
    assert_eq!(label("rtsp", b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE\r\n\r\n"), "rtsp");
}
