//! Records out: JSON lines compatible with the original, the ZGrab2 feed, the exit summary and the live
//! status line.
//!
//! - [`gojson`]: Go's `encoding/json` string escaping (the original's records are Go-encoded).
//! - [`timefmt`]: Go's `time.Time` JSON form and `Duration` string.
//! - [`record_json`]: one record → one line (original keys, order and omissions; our fields appended).
//! - [`summary`]: the exit summary accumulator.
//! - [`status`]: the live status line (pure formatting).
//! - [`sink`]: buffered file/stdout output and the [`RecordWriter`] the runner feeds.

pub mod gojson;
pub mod record_json;
pub mod sink;
pub mod status;
pub mod summary;
pub mod timefmt;

pub use record_json::{encode_zgrab, Ipv6Style, OutputFormat, RecordEncoder};
pub use sink::{RecordWriter, Sink};
pub use status::{status_line, StatusSnapshot};
pub use summary::{Counters, Summary};
pub use timefmt::{go_duration, TimeFormatter, Zone};
