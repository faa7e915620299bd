//! Targets in: ZMap JSON lines, target lists, ZMap `--dryrun` text, and the built-in SYN generator.
//!
//! Readers are split in two layers so each is testable alone:
//! - a [`LineParser`] turns one line (a `&str`) into `Ok(Some(item))`, `Ok(None)` (a line with nothing to do:
//!   blank, comment, ZMap status noise) or a [`ParseError`] carrying the reason;
//! - a [`Reader`] drives a parser over any `BufRead` via [`LineReader`], one line at a time (streaming: an item
//!   is handed out as soon as its line arrives), attaching line numbers to errors. Over-long lines, invalid UTF-8
//!   and read errors become [`InputError`]s too. Errors are items of the stream, never fatal and never dropped:
//!   the caller counts them with [`InputErrorCounts`] and reports them.
//!
//! The generator ([`generator`]) and the rate pacer ([`pacer`]) serve the mode where lzr opens connections itself.

pub mod addrset;
pub mod dryrun;
pub mod generator;
pub mod lines;
pub mod list;
pub mod pacer;
pub mod zmap;

use std::fmt;
use std::io::BufRead;
use std::net::IpAddr;

pub use dryrun::DryRunParser;
pub use lines::LineReader;
pub use list::TargetListParser;
pub use zmap::{ZmapJsonParser, ZmapSynAck};

/// One host and port to connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub addr: IpAddr,
    pub port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

/// Why a line was rejected (for per-kind counts in the summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// Longer than the line cap.
    TooLong,
    /// Not UTF-8.
    InvalidUtf8,
    /// Not the expected shape (bad JSON, missing separator, ...).
    Syntax,
    /// A required field is absent.
    MissingField,
    /// A value of the wrong type or out of range.
    BadValue,
    /// Not an IP address.
    BadAddress,
    /// Not a port 1..=65535.
    BadPort,
    /// The input could not be read.
    Io,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::TooLong,
        ErrorKind::InvalidUtf8,
        ErrorKind::Syntax,
        ErrorKind::MissingField,
        ErrorKind::BadValue,
        ErrorKind::BadAddress,
        ErrorKind::BadPort,
        ErrorKind::Io,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::TooLong => "too_long",
            ErrorKind::InvalidUtf8 => "invalid_utf8",
            ErrorKind::Syntax => "syntax",
            ErrorKind::MissingField => "missing_field",
            ErrorKind::BadValue => "bad_value",
            ErrorKind::BadAddress => "bad_address",
            ErrorKind::BadPort => "bad_port",
            ErrorKind::Io => "io",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A line-level parse failure, before a line number is attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ErrorKind,
    pub detail: String,
}

impl ParseError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        ParseError { kind, detail: detail.into() }
    }

    pub fn at(self, line_no: u64) -> InputError {
        InputError { line_no, kind: self.kind, detail: self.detail }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for ParseError {}

/// A rejected input line: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub line_no: u64,
    pub kind: ErrorKind,
    pub detail: String,
}

impl InputError {
    pub fn new(line_no: u64, kind: ErrorKind, detail: impl Into<String>) -> Self {
        InputError { line_no, kind, detail: detail.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line_no, self.detail)
    }
}

impl std::error::Error for InputError {}

/// Running counts of rejected lines, per kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputErrorCounts {
    counts: [u64; ErrorKind::ALL.len()],
}

impl InputErrorCounts {
    pub fn add(&mut self, kind: ErrorKind) {
        self.counts[kind.index()] += 1;
    }
    pub fn get(&self, kind: ErrorKind) -> u64 {
        self.counts[kind.index()]
    }
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// Non-zero counts in a fixed order.
    pub fn nonzero(&self) -> impl Iterator<Item = (ErrorKind, u64)> + '_ {
        ErrorKind::ALL.into_iter().map(|k| (k, self.get(k))).filter(|&(_, n)| n > 0)
    }
}

/// Turns one line into an item. `finish` is called once at EOF (for parsers that pair lines).
pub trait LineParser {
    type Item;
    fn parse_line(&mut self, line: &str) -> Result<Option<Self::Item>, ParseError>;
    fn finish(&mut self) -> Result<Option<Self::Item>, ParseError> {
        Ok(None)
    }
}

/// Streams `(line_no, item or error)` from a `BufRead`, skipping lines that carry nothing.
pub struct Reader<R, P> {
    lines: LineReader<R>,
    parser: P,
    finished: bool,
}

impl<R: BufRead, P: LineParser> Reader<R, P> {
    pub fn new(input: R, parser: P) -> Self {
        Reader { lines: LineReader::new(input), parser, finished: false }
    }

    pub fn with_max_line(input: R, parser: P, max_line: usize) -> Self {
        Reader { lines: LineReader::with_max_line(input, max_line), parser, finished: false }
    }
}

impl<R: BufRead, P: LineParser> Iterator for Reader<R, P> {
    type Item = (u64, Result<P::Item, InputError>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.finished {
                return None;
            }
            let Some((line_no, line)) = self.lines.next_line() else {
                self.finished = true;
                let line_no = self.lines.line_no();
                return match self.parser.finish() {
                    Ok(Some(item)) => Some((line_no, Ok(item))),
                    Ok(None) => None,
                    Err(e) => Some((line_no, Err(e.at(line_no)))),
                };
            };
            match line {
                Err(e) => return Some((line_no, Err(e))),
                Ok(line) => match self.parser.parse_line(line) {
                    Ok(Some(item)) => return Some((line_no, Ok(item))),
                    Ok(None) => continue,
                    Err(e) => return Some((line_no, Err(e.at(line_no)))),
                },
            }
        }
    }
}

/// Which text format stdin carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// ZMap JSON lines (SYN-ACKs ZMap received).
    Zmap,
    /// `ip:port` / `[v6]:port` / `ip;port` lines.
    List,
    /// `zmap --dryrun` text.
    DryRun,
}

/// What a line of input asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputItem {
    /// Continue a handshake ZMap opened.
    SynAck(ZmapSynAck),
    /// Open a connection ourselves.
    Target(Target),
}

/// Any of the three stdin formats behind one parser.
#[derive(Clone, Debug)]
pub enum AnyParser {
    Zmap(ZmapJsonParser),
    List(TargetListParser),
    DryRun(DryRunParser),
}

impl AnyParser {
    pub fn new(format: InputFormat) -> Self {
        match format {
            InputFormat::Zmap => AnyParser::Zmap(ZmapJsonParser),
            InputFormat::List => AnyParser::List(TargetListParser),
            InputFormat::DryRun => AnyParser::DryRun(DryRunParser::new()),
        }
    }
}

impl LineParser for AnyParser {
    type Item = InputItem;

    fn parse_line(&mut self, line: &str) -> Result<Option<InputItem>, ParseError> {
        Ok(match self {
            AnyParser::Zmap(p) => p.parse_line(line)?.map(InputItem::SynAck),
            AnyParser::List(p) => p.parse_line(line)?.map(InputItem::Target),
            AnyParser::DryRun(p) => p.parse_line(line)?.map(InputItem::Target),
        })
    }

    fn finish(&mut self) -> Result<Option<InputItem>, ParseError> {
        Ok(match self {
            AnyParser::Zmap(p) => p.finish()?.map(InputItem::SynAck),
            AnyParser::List(p) => p.finish()?.map(InputItem::Target),
            AnyParser::DryRun(p) => p.finish()?.map(InputItem::Target),
        })
    }
}

/// A streaming reader of `format` over `input`.
pub fn reader<R: BufRead>(input: R, format: InputFormat) -> Reader<R, AnyParser> {
    Reader::new(input, AnyParser::new(format))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor, Read};
    use std::sync::mpsc;

    #[test]
    fn reader_numbers_lines_counts_errors_and_keeps_going() {
        let text = b"1.2.3.4:80\n\n# c\nbad\n\xff\n[2001:db8::1]:443\n";
        let items: Vec<_> = reader(Cursor::new(&text[..]), InputFormat::List).collect();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].0, 1);
        assert!(matches!(items[0].1, Ok(InputItem::Target(Target { port: 80, .. }))));
        let e = items[1].1.as_ref().unwrap_err();
        assert_eq!((items[1].0, e.line_no, e.kind), (4, 4, ErrorKind::Syntax));
        assert!(e.to_string().starts_with("line 4: "));
        assert_eq!(items[2].1.as_ref().unwrap_err().kind, ErrorKind::InvalidUtf8);
        assert!(matches!(items[3].1, Ok(InputItem::Target(Target { port: 443, .. }))));
        let mut counts = InputErrorCounts::default();
        for (_, r) in &items {
            if let Err(e) = r {
                counts.add(e.kind);
            }
        }
        assert_eq!(counts.total(), 2);
        assert_eq!(counts.nonzero().collect::<Vec<_>>(), vec![(ErrorKind::InvalidUtf8, 1), (ErrorKind::Syntax, 1)]);
    }

    #[test]
    fn dryrun_finish_reports_trailing_half_packet() {
        let items: Vec<_> = reader(Cursor::new("tcp { dest: 80 }\n"), InputFormat::DryRun).collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].0, 1);
        assert_eq!(items[0].1.as_ref().unwrap_err().kind, ErrorKind::Syntax);
    }

    /// A pipe that hands out one line per read and blocks (on a channel) until the test sends the next one.
    struct Pipe(mpsc::Receiver<Vec<u8>>);
    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.recv() {
                Ok(chunk) => {
                    buf[..chunk.len()].copy_from_slice(&chunk);
                    Ok(chunk.len())
                }
                Err(_) => Ok(0),
            }
        }
    }

    #[test]
    fn items_stream_before_eof() {
        let (tx, rx) = mpsc::channel();
        let mut r = reader(BufReader::new(Pipe(rx)), InputFormat::Zmap);
        tx.send(br#"{"saddr":"1.2.3.4","daddr":"5.6.7.8","sport":80,"dport":4000,"seqnum":1,"acknum":2,"window":3}"#.to_vec())
            .unwrap();
        tx.send(b"\n".to_vec()).unwrap();
        // The sender is still open: the first item must be available without EOF.
        let (n, item) = r.next().unwrap();
        assert_eq!(n, 1);
        assert!(matches!(item, Ok(InputItem::SynAck(ZmapSynAck { sport: 80, .. }))));
        drop(tx);
        assert!(r.next().is_none());
    }
}
