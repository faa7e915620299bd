//! `lzr fingerprint`: label answers offline, with the same matcher the scanner uses.
//!
//! Input (a file, or stdin when absent or `-`):
//! - `--raw`: the whole input is one answer;
//! - `--hex`: one answer as hex digits, whitespace anywhere ignored;
//! - `--json`: JSON lines records of LZR or lzr; the answer is lzr's lossless `data_b64` (base64) when present,
//!   else `data` (LZR's Go-style string, lossy for binary answers: invalid UTF-8 became U+FFFD);
//! - no flag: JSON when the first line is a JSON object with `saddr`, `data` or `data_b64`; else hex when the
//!   input is only hex digits and whitespace (an even number of digits); else raw.
//!
//! Output: the label (raw, hex), or one `saddr:sport label` line per record (`[v6]:port` for IPv6), or with
//! `--rewrite` each record again with its `fingerprint` replaced (the rest of the line byte for byte).
//! `--handshakes`/`--priority` give the preference list as in a scan. When the probe that was sent is known
//! (a record's `handshake` name or `HandshakeNum` into `--handshakes`, or `--probe` for raw/hex input), answers
//! that reflect it are labelled `echo` unless `--original`. Bad input: a message on stderr and exit code 2 (for
//! JSON, after the good records were processed; a bad line is reported with its number and not re-emitted).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use base64::Engine as _;
use serde_json::Value;

use crate::handshakes::matcher::{Matcher, MatcherOptions, Matches};
use crate::handshakes::registry::{self, HandshakeList};
use crate::handshakes::tls::RANDOM_OFFSET;
use crate::handshakes::{probe_bytes, Handshake, ProbeContext, ProbeOptions};

/// Exit code for bad input or bad options.
const EXIT_BAD_INPUT: i32 = 2;
/// Exit code for an output failure (a closed pipe, a full disk).
const EXIT_IO: i32 = 1;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// File with the answer(s); stdin when absent or `-`.
    pub input: Option<PathBuf>,
    /// The input is one raw answer.
    #[arg(long, conflicts_with_all = ["hex", "json"])]
    pub raw: bool,
    /// The input is one answer in hex (whitespace ignored).
    #[arg(long, conflicts_with = "json")]
    pub hex: bool,
    /// The input is JSON lines records (LZR's or lzr's).
    #[arg(long)]
    pub json: bool,
    /// Re-emit each JSON record with the corrected fingerprint instead of `saddr:sport label`.
    #[arg(long)]
    pub rewrite: bool,
    /// Handshakes of the scan, in order (the preference list, and what `HandshakeNum` indexes).
    #[arg(long, default_value = "http")]
    pub handshakes: HandshakeList,
    /// Preference list replacing `--handshakes` for multi-matches (LZR's -priorityFingerprint).
    #[arg(long)]
    pub priority: Option<HandshakeList>,
    /// Exactly the original's labels (no `echo`).
    #[arg(long)]
    pub original: bool,
    /// For raw/hex input: the handshake whose probe was sent (enables echo detection).
    #[arg(long, value_parser = parse_handshake_name)]
    pub probe: Option<&'static str>,
    /// For raw/hex input with --probe: the target the probe was built for (HTTP/IPP `Host:`).
    #[arg(long)]
    pub dst: Option<IpAddr>,
    /// User-Agent the scan's HTTP/IPP probes carried (for echo detection); default the reference's.
    #[arg(long)]
    pub user_agent: Option<String>,
    /// Also print every rule that matched (`label (matched: a-b)`).
    #[arg(long)]
    pub explain: bool,
}

fn parse_handshake_name(name: &str) -> Result<&'static str, String> {
    registry::by_name(name)
        .map(|(_, h)| h.name())
        .ok_or_else(|| {
            format!(
                "unknown handshake `{name}` (known: {})",
                registry::names().collect::<Vec<_>>().join(", ")
            )
        })
}

pub fn run(args: Args) -> i32 {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = stderr.lock();
    let code = match args.input.as_deref() {
        None => run_with(&args, &mut io::stdin().lock(), &mut out, &mut err),
        Some(path) if path.as_os_str() == "-" => {
            run_with(&args, &mut io::stdin().lock(), &mut out, &mut err)
        }
        Some(path) => match File::open(path) {
            Ok(file) => run_with(&args, &mut BufReader::new(file), &mut out, &mut err),
            Err(e) => {
                let _ = writeln!(err, "lzr fingerprint: cannot open {}: {e}", path.display());
                EXIT_BAD_INPUT
            }
        },
    };
    match out.flush() {
        Ok(()) => code,
        Err(e) => {
            let _ = writeln!(err, "lzr fingerprint: cannot write output: {e}");
            EXIT_IO
        }
    }
}

/// The command on any reader and writers (what the tests drive). Returns the exit code.
pub fn run_with(
    args: &Args,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    match Command::new(args).and_then(|command| command.run(input, out, err)) {
        Ok(code) => code,
        Err(Failure::BadInput(message)) => {
            let _ = writeln!(err, "lzr fingerprint: {message}");
            EXIT_BAD_INPUT
        }
        Err(Failure::Io(e)) => {
            let _ = writeln!(err, "lzr fingerprint: {e}");
            EXIT_IO
        }
    }
}

enum Failure {
    BadInput(String),
    Io(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Raw,
    Hex,
    Json,
}

struct Command<'a> {
    args: &'a Args,
    matcher: Matcher,
    probe_options: ProbeOptions,
}

impl<'a> Command<'a> {
    fn new(args: &'a Args) -> Result<Command<'a>, Failure> {
        if args.rewrite && (args.raw || args.hex) {
            return Err(Failure::BadInput("--rewrite needs JSON records".into()));
        }
        if args.dst.is_some() && args.probe.is_none() {
            return Err(Failure::BadInput(
                "--dst only makes sense with --probe".into(),
            ));
        }
        let options = if args.original {
            MatcherOptions::ORIGINAL
        } else {
            MatcherOptions::IMPROVED
        };
        let probe_options = match &args.user_agent {
            Some(ua) => ProbeOptions::reference()
                .with_user_agent(ua.clone())
                .map_err(|e| Failure::BadInput(e.to_string()))?,
            None => ProbeOptions::reference(),
        };
        Ok(Command {
            args,
            matcher: Matcher::for_scan(&args.handshakes, args.priority.as_ref(), options),
            probe_options,
        })
    }

    fn run(
        &self,
        input: &mut dyn BufRead,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<i32, Failure> {
        let mut first_line = Vec::new();
        input.read_until(b'\n', &mut first_line)?;
        let format = if self.args.raw {
            Format::Raw
        } else if self.args.hex {
            Format::Hex
        } else if self.args.json || looks_like_record(&first_line) {
            Format::Json
        } else {
            // Decided once the whole input is read.
            Format::Raw
        };
        if format == Format::Json {
            return self.run_json(first_line, input, out, err);
        }
        if self.args.rewrite {
            return Err(Failure::BadInput(
                "--rewrite needs JSON records, and the input is not JSON lines".into(),
            ));
        }
        let mut all = first_line;
        input.read_to_end(&mut all)?;
        let explicit = self.args.raw || self.args.hex;
        let data = match format {
            Format::Hex => decode_hex(&all).map_err(Failure::BadInput)?,
            _ if !explicit => decode_hex(&all)
                .ok()
                .filter(|_| is_hex_text(&all))
                .unwrap_or(all),
            _ => all,
        };
        let sent = self.args.probe.and_then(registry::by_name).map(|(_, h)| {
            let dst = self.args.dst.unwrap_or(IpAddr::from([0, 0, 0, 0]));
            self.sent_probe(h, dst, &data)
        });
        self.write_label(out, None, &data, sent.as_deref())?;
        Ok(0)
    }

    fn run_json(
        &self,
        first_line: Vec<u8>,
        input: &mut dyn BufRead,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<i32, Failure> {
        let mut bad = 0usize;
        let mut line = first_line;
        let mut number = 1usize;
        loop {
            if line.is_empty() {
                break;
            }
            if !line.iter().all(u8::is_ascii_whitespace) {
                if let Err(message) = self.process_record(&line, out)? {
                    bad += 1;
                    writeln!(err, "lzr fingerprint: line {number}: {message}")?;
                }
            }
            line.clear();
            number += 1;
            input.read_until(b'\n', &mut line)?;
        }
        if bad > 0 {
            writeln!(err, "lzr fingerprint: {bad} bad record(s) skipped")?;
            return Ok(EXIT_BAD_INPUT);
        }
        Ok(0)
    }

    /// One JSON line: `Ok(Err(message))` for a bad record, `Err` only for output failures.
    fn process_record(
        &self,
        line: &[u8],
        out: &mut dyn Write,
    ) -> Result<Result<(), String>, Failure> {
        let text = match std::str::from_utf8(line) {
            Ok(text) => text.trim_end_matches(['\n', '\r']),
            Err(e) => return Ok(Err(format!("not UTF-8 ({e})"))),
        };
        let record: Value = match serde_json::from_str(text) {
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => return Ok(Err("not a JSON object".into())),
            Err(e) => return Ok(Err(format!("invalid JSON ({e})"))),
        };
        let data = match record_data(&record) {
            Ok(data) => data,
            Err(message) => return Ok(Err(message)),
        };
        let saddr = record
            .get("saddr")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok());
        let sent = saddr.and_then(|dst| {
            let handshake = self.record_handshake(&record)?;
            Some(self.sent_probe(handshake, dst, &data))
        });
        let label = self.matcher.label_with_probe(&data, sent.as_deref());
        if self.args.rewrite {
            let Some(rewritten) = replace_fingerprint(text, &label) else {
                return Ok(Err("cannot locate the record's top-level object".into()));
            };
            writeln!(out, "{rewritten}")?;
            return Ok(Ok(()));
        }
        let endpoint = endpoint(&record);
        self.write_label(out, Some(&endpoint), &data, sent.as_deref())?;
        Ok(Ok(()))
    }

    /// The handshake that produced a record: lzr's `handshake` name, else `HandshakeNum` into `--handshakes`.
    fn record_handshake(&self, record: &Value) -> Option<&'static dyn Handshake> {
        if let Some(name) = record.get("handshake").and_then(Value::as_str) {
            return registry::by_name(name).map(|(_, h)| h);
        }
        let index = record.get("HandshakeNum").and_then(Value::as_u64)?;
        self.args.handshakes.get(usize::try_from(index).ok()?)
    }

    /// The probe `handshake` sent to `dst`. TLS's random cannot be known offline, so the answer's own bytes at
    /// that place stand in for it (a reflected ClientHello still compares equal; any other answer still differs
    /// in its first 11 bytes).
    fn sent_probe(&self, handshake: &dyn Handshake, dst: IpAddr, answer: &[u8]) -> Vec<u8> {
        let ctx = ProbeContext {
            dst,
            dst_port: 0,
            seed: 0,
        };
        let mut probe = match handshake.name() {
            "http" => probe_bytes(
                &crate::handshakes::http::Http::with_options(self.probe_options.clone()),
                &ctx,
            ),
            "ipp" => probe_bytes(
                &crate::handshakes::ipp::Ipp::with_options(self.probe_options.clone()),
                &ctx,
            ),
            _ => probe_bytes(handshake, &ctx),
        };
        if matches!(handshake.name(), "tls" | "kubernetes") {
            let end = answer.len().min(RANDOM_OFFSET + 32);
            if end > RANDOM_OFFSET {
                probe[RANDOM_OFFSET..end].copy_from_slice(&answer[RANDOM_OFFSET..end]);
            }
        }
        probe
    }

    fn write_label(
        &self,
        out: &mut dyn Write,
        endpoint: Option<&str>,
        data: &[u8],
        sent: Option<&[u8]>,
    ) -> io::Result<()> {
        let label = self.matcher.label_with_probe(data, sent);
        if let Some(endpoint) = endpoint {
            write!(out, "{endpoint} ")?;
        }
        write!(out, "{label}")?;
        if self.args.explain {
            write!(out, " (matched: {})", Matches::of(data).joined())?;
        }
        writeln!(out)
    }
}

/// The first line is a JSON object that looks like a record.
fn looks_like_record(line: &[u8]) -> bool {
    let trimmed = line.trim_ascii();
    if !trimmed.starts_with(b"{") {
        return false;
    }
    match serde_json::from_slice::<Value>(trimmed) {
        Ok(Value::Object(map)) => ["saddr", "data", "data_b64"]
            .iter()
            .any(|k| map.contains_key(*k)),
        _ => false,
    }
}

/// The answer bytes of a record: `data_b64` when present, else `data`, else none.
fn record_data(record: &Value) -> Result<Vec<u8>, String> {
    match record.get("data_b64") {
        Some(Value::String(b64)) => {
            return base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("`data_b64` is not base64 ({e})"));
        }
        Some(Value::Null) | None => {}
        Some(_) => return Err("`data_b64` is not a string".into()),
    }
    match record.get("data") {
        Some(Value::String(text)) => Ok(text.as_bytes().to_vec()),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(_) => Err("`data` is not a string".into()),
    }
}

fn endpoint(record: &Value) -> String {
    let saddr = record.get("saddr").and_then(Value::as_str).unwrap_or("?");
    let sport = record
        .get("sport")
        .and_then(Value::as_u64)
        .map_or_else(|| "?".to_owned(), |p| p.to_string());
    if saddr.contains(':') {
        format!("[{saddr}]:{sport}")
    } else {
        format!("{saddr}:{sport}")
    }
}

/// True when `text` holds only hex digits and whitespace, with at least one digit.
fn is_hex_text(text: &[u8]) -> bool {
    text.iter().any(u8::is_ascii_hexdigit)
        && text
            .iter()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
}

fn decode_hex(text: &[u8]) -> Result<Vec<u8>, String> {
    let mut digits = Vec::with_capacity(text.len());
    for (offset, &b) in text.iter().enumerate() {
        if b.is_ascii_whitespace() {
            continue;
        }
        if !b.is_ascii_hexdigit() {
            return Err(format!("not hex: byte 0x{b:02x} at offset {offset}"));
        }
        digits.push(b);
    }
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    hex::decode(&digits).map_err(|e| format!("not hex: {e}"))
}

/// The record line with its top-level `fingerprint` value replaced by `label` (added before the closing brace
/// when absent). Everything else is kept byte for byte. `text` must be one valid JSON object.
fn replace_fingerprint(text: &str, label: &str) -> Option<String> {
    let quoted = serde_json::to_string(label).ok()?;
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut last_close = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let end = string_end(bytes, i)?;
                // A top-level key: a string at depth 1 followed by `:`.
                if depth == 1 && &text[i..=end] == "\"fingerprint\"" {
                    let mut j = end + 1;
                    while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
                        j += 1;
                    }
                    if bytes.get(j) == Some(&b':') {
                        j += 1;
                        while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
                            j += 1;
                        }
                        let value_end = value_end(bytes, j)?;
                        return Some(format!("{}{}{}", &text[..j], quoted, &text[value_end..]));
                    }
                }
                i = end + 1;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    last_close = Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    let close = last_close?;
    let head = text[..close].trim_end();
    let separator = if head.ends_with('{') { "" } else { "," };
    Some(format!(
        "{head}{separator}\"fingerprint\":{quoted}{}",
        &text[close..]
    ))
}

/// Index of the closing quote of the string starting at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of the scalar or string value starting at `start` (a fingerprint is a string, or null).
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start) == Some(&b'"') {
        return string_end(bytes, start).map(|e| e + 1);
    }
    let mut i = start;
    while i < bytes.len()
        && !matches!(bytes[i], b',' | b'}' | b']')
        && !bytes[i].is_ascii_whitespace()
    {
        i += 1;
    }
    (i > start).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn args(argv: &[&str]) -> Args {
        let mut full = vec!["fingerprint"];
        full.extend_from_slice(argv);
        Cli::try_parse_from(full).expect("valid arguments").args
    }

    fn run_on(argv: &[&str], input: &[u8]) -> (i32, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = run_with(&args(argv), &mut &input[..], &mut out, &mut err);
        (
            code,
            String::from_utf8(out).expect("utf-8 output"),
            String::from_utf8(err).expect("utf-8 errors"),
        )
    }

    #[test]
    fn raw_input() {
        assert_eq!(
            run_on(&["--raw"], b"SSH-2.0-OpenSSH_9.6\r\n"),
            (0, "ssh\n".into(), String::new())
        );
        assert_eq!(
            run_on(&[], b"HTTP/1.1 200 OK\r\n\r\n").1,
            "http\n",
            "auto-detected raw"
        );
        assert_eq!(run_on(&["--raw"], b"").1, "unknown\n");
        assert_eq!(run_on(&["--raw"], b"\x00\x01\x10").1, "unknown\n");
    }

    #[test]
    fn hex_input() {
        assert_eq!(
            run_on(&["--hex"], b"20 02 00 00\n"),
            (0, "mqtt\n".into(), String::new())
        );
        assert_eq!(run_on(&[], b"4e").1, "postgres\n", "auto-detected hex");
        let (code, out, err) = run_on(&["--hex"], b"4e 5");
        assert_eq!((code, out.as_str()), (2, ""));
        assert!(err.contains("odd number of hex digits"), "{err}");
        let (code, _, err) = run_on(&["--hex"], b"zz");
        assert_eq!(code, 2);
        assert!(err.contains("not hex: byte 0x7a at offset 0"), "{err}");
        // Odd-length hex-looking text in auto mode is a raw answer.
        assert_eq!(run_on(&[], b"220 ").1, "smtp-ftp\n");
    }

    #[test]
    fn json_records() {
        let input = concat!(
            r#"{"saddr":"198.18.0.2","daddr":"198.18.0.1","sport":22,"dport":40000,"fingerprint":"unknown","data":"SSH-2.0-OpenSSH_9.6\r\n"}"#,
            "\n",
            r#"{"saddr":"2001:db8::5","sport":6379,"data_b64":"K1BPTkcNCg==","data":"+PONG\r\n"}"#,
            "\n\n",
            r#"{"saddr":"198.18.0.3","sport":80,"window":0}"#,
            "\n",
        );
        let (code, out, err) = run_on(&[], input.as_bytes());
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            "198.18.0.2:22 ssh\n[2001:db8::5]:6379 redis\n198.18.0.3:80 unknown\n"
        );
    }

    #[test]
    fn json_prefers_the_lossless_field() {
        // Go's encoder turned the binary ServerHello into U+FFFD; data_b64 keeps the bytes.
        let input = r#"{"saddr":"198.18.0.9","sport":443,"data":"\u0016\u0003\u0003\u0000J\u0002\ufffd","data_b64":"FgMDAEoC"}"#;
        assert_eq!(
            run_on(&["--json"], input.as_bytes()).1,
            "198.18.0.9:443 tls\n"
        );
    }

    #[test]
    fn json_bad_lines_are_reported_and_skipped() {
        let input = "{\"saddr\":\"198.18.0.2\",\"sport\":21,\"data\":\"220 (vsFTPd 3.0.3)\\r\\n\"}\nnot json\n{\"saddr\":\"x\",\"data_b64\":\"!!\"}\n[1]\n";
        let (code, out, err) = run_on(&["--json"], input.as_bytes());
        assert_eq!(code, 2);
        assert_eq!(out, "198.18.0.2:21 ftp\n");
        assert!(err.contains("line 2: invalid JSON"), "{err}");
        assert!(err.contains("line 3: `data_b64` is not base64"), "{err}");
        assert!(err.contains("line 4: not a JSON object"), "{err}");
        assert!(err.contains("3 bad record(s) skipped"), "{err}");
    }

    #[test]
    fn rewrite_keeps_the_line_and_fixes_the_label() {
        let line = r#"{"saddr":"198.18.0.2","sport":110,"HandshakeNum":0,"fingerprint":"unknown","Timestamp":"t","data":"+OK Dovecot ready.\r\n","note":{"fingerprint":"x"}}"#;
        let (code, out, _) = run_on(
            &["--json", "--rewrite", "--handshakes", "wait"],
            line.as_bytes(),
        );
        assert_eq!(code, 0);
        assert_eq!(
            out,
            line.replace(r#""fingerprint":"unknown""#, r#""fingerprint":"pop3""#) + "\n"
        );
        // LZR omits an empty fingerprint: it is added.
        let (_, out, _) = run_on(
            &["--rewrite"],
            br#"{"saddr":"198.18.0.2","sport":5432,"data":"N"}"#,
        );
        assert_eq!(out, "{\"saddr\":\"198.18.0.2\",\"sport\":5432,\"data\":\"N\",\"fingerprint\":\"postgres\"}\n");
        let (code, _, err) = run_on(&["--rewrite"], b"SSH-2.0-x\r\n");
        assert_eq!(code, 2);
        assert!(err.contains("--rewrite needs JSON"), "{err}");
    }

    #[test]
    fn preference_and_priority() {
        let both = b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\n\r\nattributes-charset";
        assert_eq!(run_on(&["--raw", "--handshakes", "http"], both).1, "http\n");
        assert_eq!(
            run_on(
                &["--raw", "--handshakes", "http", "--priority", "ipp"],
                both
            )
            .1,
            "ipp\n"
        );
        assert_eq!(
            run_on(&["--raw", "--handshakes", "wait", "--explain"], both).1,
            "ipp (matched: http-ipp)\n"
        );
        let bad = Cli::try_parse_from(["fingerprint", "--handshakes", "http,ssl"])
            .err()
            .expect("rejected");
        assert!(bad.to_string().contains("unknown handshake `ssl`"), "{bad}");
    }

    #[test]
    fn echo_detection_with_known_probe() {
        let probe = crate::handshakes::probe_bytes(
            &crate::handshakes::http::Http::with_options(ProbeOptions::reference()),
            &ProbeContext {
                dst: "198.18.0.7".parse().expect("ip"),
                dst_port: 7,
                seed: 0,
            },
        );
        assert_eq!(
            run_on(&["--raw", "--probe", "http", "--dst", "198.18.0.7"], &probe).1,
            "echo\n"
        );
        assert_eq!(
            run_on(
                &[
                    "--raw",
                    "--probe",
                    "http",
                    "--dst",
                    "198.18.0.7",
                    "--original"
                ],
                &probe
            )
            .1,
            "http\n"
        );
        assert_eq!(run_on(&["--raw"], &probe).1, "http\n", "no probe known");
        // A reflected ClientHello, random and all.
        let mut hello = Vec::new();
        crate::handshakes::tls::write_client_hello(99, &mut hello);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&hello);
        let record =
            format!(r#"{{"saddr":"198.18.0.8","sport":7,"HandshakeNum":1,"data_b64":"{b64}"}}"#);
        assert_eq!(
            run_on(&["--handshakes", "http,tls"], record.as_bytes()).1,
            "198.18.0.8:7 echo\n"
        );
        assert_eq!(
            run_on(
                &["--handshakes", "http,tls", "--original"],
                record.as_bytes()
            )
            .1,
            "198.18.0.8:7 tls\n"
        );
        let named =
            format!(r#"{{"saddr":"198.18.0.8","sport":7,"handshake":"tls","data_b64":"{b64}"}}"#);
        assert_eq!(run_on(&[], named.as_bytes()).1, "198.18.0.8:7 echo\n");
    }

    #[test]
    fn option_errors() {
        let (code, _, err) = run_on(&["--raw", "--dst", "198.18.0.1"], b"x");
        assert_eq!(code, 2);
        assert!(err.contains("--dst only makes sense with --probe"), "{err}");
        let (code, _, err) = run_on(&["--raw", "--probe", "http", "--user-agent", "a\nb"], b"x");
        assert_eq!(code, 2);
        assert!(err.contains("User-Agent"), "{err}");
        assert!(Cli::try_parse_from(["fingerprint", "--raw", "--hex"]).is_err());
        assert!(Cli::try_parse_from(["fingerprint", "--probe", "nope"]).is_err());
    }

    #[test]
    fn fingerprint_replacement_edges() {
        assert_eq!(
            replace_fingerprint(r#"{"fingerprint" : null}"#, "ssh").as_deref(),
            Some(r#"{"fingerprint" : "ssh"}"#)
        );
        assert_eq!(
            replace_fingerprint("{}", "ssh").as_deref(),
            Some(r#"{"fingerprint":"ssh"}"#)
        );
        assert_eq!(
            replace_fingerprint(r#"{"data":"\"fingerprint\":1","fingerprint":"a"}"#, "b")
                .as_deref(),
            Some(r#"{"data":"\"fingerprint\":1","fingerprint":"b"}"#)
        );
    }
}
