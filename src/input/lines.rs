//! A streaming line reader over any `BufRead` that never trusts its input.
//!
//! Each call hands back the next line as soon as its newline (or EOF) arrives, so a pipe from ZMap is acted on
//! while ZMap is still running. A line longer than the cap is skipped (its bytes are consumed without being
//! buffered) and reported; a line that is not UTF-8 is reported; neither stops the stream. `\r\n` endings are
//! accepted.

use std::io::{BufRead, ErrorKind as IoKind};

use super::{ErrorKind, InputError};

/// Lines longer than this (without the newline) are reported as errors: the cap of Go's `bufio.Scanner`.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// Reads lines one at a time; `next_line` lends the line out until the next call.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max_line: usize,
    line_no: u64,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_max_line(inner, DEFAULT_MAX_LINE)
    }

    pub fn with_max_line(inner: R, max_line: usize) -> Self {
        LineReader { inner, buf: Vec::new(), max_line, line_no: 0, done: false }
    }

    /// Number of the last line returned (1-based; 0 before the first).
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next line without its line ending, or the reason it cannot be used. `None` at EOF (or after a read
    /// error, which is reported once).
    pub fn next_line(&mut self) -> Option<(u64, Result<&str, InputError>)> {
        if self.done {
            return None;
        }
        self.buf.clear();
        let mut too_long = false;
        let mut saw_any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    self.line_no += 1;
                    let err = InputError::new(self.line_no, ErrorKind::Io, e.to_string());
                    return Some((self.line_no, Err(err)));
                }
            };
            if chunk.is_empty() {
                self.done = true;
                if !saw_any {
                    return None;
                }
                break;
            }
            saw_any = true;
            let (take, found_newline) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                if self.buf.len() + take > self.max_line {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            let consumed = if found_newline { take + 1 } else { take };
            self.inner.consume(consumed);
            if found_newline {
                break;
            }
        }
        self.line_no += 1;
        let line_no = self.line_no;
        if too_long {
            let err = InputError::new(line_no, ErrorKind::TooLong, format!("line longer than {} bytes", self.max_line));
            return Some((line_no, Err(err)));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        match std::str::from_utf8(&self.buf) {
            Ok(line) => Some((line_no, Ok(line))),
            Err(e) => {
                let err = InputError::new(line_no, ErrorKind::InvalidUtf8, format!("invalid UTF-8 at byte {}", e.valid_up_to()));
                Some((line_no, Err(err)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor, Read};

    fn collect(input: &[u8], cap: usize) -> Vec<(u64, Result<String, ErrorKind>)> {
        // A tiny BufReader capacity exercises lines that straddle buffer refills.
        let mut r = LineReader::with_max_line(BufReader::with_capacity(3, Cursor::new(input.to_vec())), cap);
        let mut out = Vec::new();
        while let Some((n, res)) = r.next_line() {
            out.push((n, res.map(str::to_owned).map_err(|e| e.kind)));
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        let got = collect(b"a\r\nbc\n\nlast", 100);
        assert_eq!(
            got,
            vec![(1, Ok("a".into())), (2, Ok("bc".into())), (3, Ok(String::new())), (4, Ok("last".into()))]
        );
        assert!(collect(b"", 10).is_empty());
        assert_eq!(collect(b"x\n", 10), vec![(1, Ok("x".into()))]);
    }

    #[test]
    fn over_long_line_is_reported_and_stream_continues() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nok\n");
        let got = collect(&input, 10);
        assert_eq!(got, vec![(1, Err(ErrorKind::TooLong)), (2, Ok("ok".into()))]);
        // Exactly at the cap is fine.
        assert_eq!(collect(b"0123456789\n", 10), vec![(1, Ok("0123456789".into()))]);
    }

    #[test]
    fn invalid_utf8_is_reported_and_stream_continues() {
        let got = collect(b"\xff\xfe\nfine\n", 100);
        assert_eq!(got, vec![(1, Err(ErrorKind::InvalidUtf8)), (2, Ok("fine".into()))]);
    }

    struct FailAfter(usize);
    impl Read for FailAfter {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("boom"));
            }
            self.0 -= 1;
            buf[0] = b'a';
            buf[1] = b'\n';
            Ok(2)
        }
    }

    #[test]
    fn read_error_is_reported_once() {
        let mut r = LineReader::new(BufReader::new(FailAfter(1)));
        assert_eq!(r.next_line().map(|(n, l)| (n, l.map(str::to_owned).map_err(|e| e.kind))), Some((1, Ok("a".into()))));
        let (n, res) = r.next_line().expect("error item");
        assert_eq!((n, res.map_err(|e| e.kind).err()), (2, Some(ErrorKind::Io)));
        assert!(r.next_line().is_none());
    }
}
