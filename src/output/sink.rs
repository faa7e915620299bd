//! Where records go: a buffered file (appended to, like the original) or stdout, and the [`RecordWriter`] that
//! puts encoder, ZGrab feed, `only_data_record` and the summary together for the runner's single writer.
//!
//! Semantics (reference §2, §8.3): every finished record is counted in the summary. With `only_data_record`,
//! records without data are not written. Each written record also gives one ZGrab feed line on stdout when
//! the feed is on. When records also go to stdout (`-f -`), both share one buffer so lines never interleave
//! mid-line. Nothing is flushed until the buffer fills or [`RecordWriter::flush`] is called.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::record_json::{encode_zgrab, RecordEncoder};
use super::summary::Summary;
use crate::record::Record;

const BUFFER: usize = 256 * 1024;

/// A buffered output stream.
pub struct Sink {
    inner: BufWriter<Box<dyn Write + Send>>,
    is_stdout: bool,
}

impl Sink {
    /// `-` is stdout; anything else a file opened for append (created if absent).
    pub fn open(path: &str) -> io::Result<Sink> {
        if path == "-" {
            return Ok(Sink::stdout());
        }
        let file = OpenOptions::new().create(true).append(true).open(Path::new(path))?;
        Ok(Sink { inner: BufWriter::with_capacity(BUFFER, Box::new(file)), is_stdout: false })
    }

    pub fn stdout() -> Sink {
        Sink { inner: BufWriter::with_capacity(BUFFER, Box::new(io::stdout())), is_stdout: true }
    }

    /// Any writer (tests, or a pipe the runner owns).
    pub fn from_writer(w: Box<dyn Write + Send>) -> Sink {
        Sink { inner: BufWriter::with_capacity(BUFFER, w), is_stdout: false }
    }

    pub fn is_stdout(&self) -> bool {
        self.is_stdout
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_all(bytes)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Where the ZGrab feed goes.
enum Feed {
    Off,
    /// Into the record sink (records go to stdout too).
    Shared,
    Own(Sink),
}

/// Writes finished records: JSON line, feed line, summary.
pub struct RecordWriter {
    encoder: RecordEncoder,
    records: Sink,
    feed: Feed,
    only_data: bool,
    summary: Summary,
    buf: Vec<u8>,
}

impl RecordWriter {
    /// `feed`: the sink for ZGrab lines (normally stdout), or None when the feed is off.
    pub fn new(encoder: RecordEncoder, records: Sink, feed: Option<Sink>, only_data: bool) -> RecordWriter {
        let feed = match feed {
            None => Feed::Off,
            Some(f) if f.is_stdout() && records.is_stdout() => Feed::Shared,
            Some(f) => Feed::Own(f),
        };
        RecordWriter { encoder, records, feed, only_data, summary: Summary::new(), buf: Vec::with_capacity(4096) }
    }

    /// Counts the record and writes it unless `only_data_record` holds it back.
    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        self.summary.add(r);
        if self.only_data && r.data.is_empty() {
            return Ok(());
        }
        self.buf.clear();
        self.encoder.encode(r, &mut self.buf);
        match &mut self.feed {
            Feed::Off => {}
            Feed::Shared => encode_zgrab(r, self.encoder.ipv6_style(), &mut self.buf),
            Feed::Own(sink) => {
                let start = self.buf.len();
                encode_zgrab(r, self.encoder.ipv6_style(), &mut self.buf);
                sink.write_all(&self.buf[start..])?;
                self.buf.truncate(start);
            }
        }
        self.records.write_all(&self.buf)?;
        self.summary.written += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.records.flush()?;
        if let Feed::Own(sink) = &mut self.feed {
            sink.flush()?;
        }
        Ok(())
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    pub fn summary_mut(&mut self) -> &mut Summary {
        &mut self.summary
    }
}

impl Drop for RecordWriter {
    fn drop(&mut self) {
        // Best effort: a record buffered at exit must not be lost silently. Errors were reported by explicit
        // flushes; there is nobody to report to here.
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::record_json::tests::issue14_record;
    use crate::output::record_json::{Ipv6Style, OutputFormat};
    use crate::output::timefmt::Zone;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn encoder() -> RecordEncoder {
        RecordEncoder::new(OutputFormat::Original, Ipv6Style::Exploded, Zone::Fixed(0))
    }

    #[test]
    fn only_data_record_counts_everything_writes_data_and_feeds_written_ones() {
        let (out, feed) = (Shared::default(), Shared::default());
        let mut w = RecordWriter::new(
            encoder(),
            Sink::from_writer(Box::new(out.clone())),
            Some(Sink::from_writer(Box::new(feed.clone()))),
            true,
        );
        let data = issue14_record();
        let mut empty = issue14_record();
        empty.data.clear();
        empty.fingerprint = "unknown".into();
        w.write(&data).unwrap();
        w.write(&empty).unwrap();
        assert!(out.0.lock().unwrap().is_empty(), "buffered until flush");
        w.flush().unwrap();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"data\":"));
        assert_eq!(&*feed.0.lock().unwrap(), b"198.18.0.13,,http,80\n");
        assert_eq!(w.summary().counters.total_responses, 2);
        assert_eq!(w.summary().written, 1);
    }

    #[test]
    fn file_sink_appends_and_drop_flushes() {
        let path = std::env::temp_dir().join(format!("lzr-io-sink-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let p = path.to_str().unwrap();
        std::fs::write(&path, "existing\n").unwrap();
        {
            let mut w = RecordWriter::new(encoder(), Sink::open(p).unwrap(), None, false);
            w.write(&issue14_record()).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(text.starts_with("existing\n{\"saddr\":\"198.18.0.13\""));
        assert_eq!(text.lines().count(), 2);
        assert!(Sink::open("/nonexistent-dir-lzr/x.json").is_err());
    }
}
