//! ZMap JSON lines (reference §1.1): one SYN-ACK that ZMap received per line.
//!
//! Matching follows Go's `encoding/json` as the original used it: keys match case-insensitively (with Go's
//! Unicode folds of `ſ`→s and `K`→k), unknown keys are ignored, `null` leaves a field unset, and when a key
//! appears twice the last one wins. Unlike the original, a missing required field or a value of the wrong type
//! is a counted error for that line, not the end of the run. `seqnum`/`acknum` are accepted both unsigned and as
//! the negative 32-bit values ZMap 2.1.1 prints. Addresses are parsed into `IpAddr`, so compressed and exploded
//! IPv6 forms compare equal (the original's §3.5 mismatch cannot happen).

use std::fmt;
use std::net::IpAddr;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{ErrorKind, LineParser, ParseError};

/// A SYN-ACK ZMap received, in the received orientation: `saddr`/`sport` is the scanned host, `daddr`/`dport`
/// is the scanner (the address and port LZR continues the connection from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZmapSynAck {
    pub saddr: IpAddr,
    pub daddr: IpAddr,
    pub sport: u16,
    pub dport: u16,
    /// The server's ISN.
    pub seqnum: u32,
    /// ZMap's ISN + 1.
    pub acknum: u32,
    pub window: u16,
    /// IP TTL / hop limit of the SYN-ACK, when ZMap was asked for it.
    pub ttl: Option<u8>,
}

/// Stateless parser for ZMap JSON lines.
#[derive(Clone, Copy, Debug, Default)]
pub struct ZmapJsonParser;

impl LineParser for ZmapJsonParser {
    type Item = ZmapSynAck;
    fn parse_line(&mut self, line: &str) -> Result<Option<ZmapSynAck>, ParseError> {
        parse_line(line)
    }
}

/// Parses one line. Blank lines give `Ok(None)`.
pub fn parse_line(line: &str) -> Result<Option<ZmapSynAck>, ParseError> {
    if line.trim().is_empty() {
        return Ok(None);
    }
    let raw: RawFields = serde_json::from_str(line).map_err(|e| classify(&e))?;
    raw.finish().map(Some)
}

fn classify(e: &serde_json::Error) -> ParseError {
    let text = e.to_string();
    // Our own messages (from the visitor) name a field; everything else is JSON syntax.
    let kind = if e.is_data() { ErrorKind::BadValue } else { ErrorKind::Syntax };
    ParseError::new(kind, text)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    Saddr,
    Daddr,
    Sport,
    Dport,
    Seqnum,
    Acknum,
    Window,
    Ttl,
}

const FIELDS: [(&str, Field); 8] = [
    ("saddr", Field::Saddr),
    ("daddr", Field::Daddr),
    ("sport", Field::Sport),
    ("dport", Field::Dport),
    ("seqnum", Field::Seqnum),
    ("acknum", Field::Acknum),
    ("window", Field::Window),
    ("ttl", Field::Ttl),
];

/// Go's case-insensitive key match: ASCII case plus the two non-ASCII simple folds onto ASCII letters.
fn field_for_key(key: &str) -> Option<Field> {
    FIELDS.iter().find(|(name, _)| fold_eq(key, name)).map(|&(_, f)| f)
}

fn fold_eq(key: &str, lower_ascii_name: &str) -> bool {
    let mut want = lower_ascii_name.bytes();
    for c in key.chars() {
        let folded = match c {
            '\u{017F}' => 's',
            '\u{212A}' => 'k',
            c => c.to_ascii_lowercase(),
        };
        match want.next() {
            Some(b) if folded.is_ascii() && folded as u8 == b => {}
            _ => return false,
        }
    }
    want.next().is_none()
}

#[derive(Default)]
struct RawFields {
    saddr: Option<Result<IpAddr, String>>,
    daddr: Option<Result<IpAddr, String>>,
    sport: Option<i64>,
    dport: Option<i64>,
    seqnum: Option<i64>,
    acknum: Option<i64>,
    window: Option<i64>,
    ttl: Option<i64>,
}

impl RawFields {
    fn finish(self) -> Result<ZmapSynAck, ParseError> {
        let saddr = addr("saddr", self.saddr)?;
        let daddr = addr("daddr", self.daddr)?;
        if saddr.is_ipv4() != daddr.is_ipv4() {
            return Err(ParseError::new(ErrorKind::BadAddress, "saddr and daddr are of different IP versions"));
        }
        Ok(ZmapSynAck {
            saddr,
            daddr,
            sport: ranged("sport", self.sport, 0, 65535)? as u16,
            dport: ranged("dport", self.dport, 0, 65535)? as u16,
            seqnum: seq("seqnum", self.seqnum)?,
            acknum: seq("acknum", self.acknum)?,
            window: ranged("window", self.window, 0, 65535)? as u16,
            ttl: match self.ttl {
                None => None,
                Some(_) => Some(ranged("ttl", self.ttl, 0, 255)? as u8),
            },
        })
    }
}

fn missing(name: &str) -> ParseError {
    ParseError::new(ErrorKind::MissingField, format!("missing field `{name}`"))
}

fn addr(name: &str, value: Option<Result<IpAddr, String>>) -> Result<IpAddr, ParseError> {
    value
        .ok_or_else(|| missing(name))?
        .map_err(|text| ParseError::new(ErrorKind::BadAddress, format!("`{name}` is not an IP address: {text:?}")))
}

fn ranged(name: &str, value: Option<i64>, lo: i64, hi: i64) -> Result<i64, ParseError> {
    let v = value.ok_or_else(|| missing(name))?;
    if v < lo || v > hi {
        return Err(ParseError::new(ErrorKind::BadValue, format!("`{name}` out of range {lo}..={hi}: {v}")));
    }
    Ok(v)
}

/// Sequence numbers: unsigned 32-bit, or the signed 32-bit rendering ZMap 2.1.1 uses.
fn seq(name: &str, value: Option<i64>) -> Result<u32, ParseError> {
    let v = ranged(name, value, i64::from(i32::MIN), i64::from(u32::MAX))?;
    Ok(v as u32)
}

impl<'de> de::Deserialize<'de> for RawFields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawFields;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a ZMap JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFields, A::Error> {
        let mut raw = RawFields::default();
        while let Some(FieldKey(field)) = map.next_key::<FieldKey>()? {
            let Some(field) = field else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            // `null` leaves the field as it was, like Go.
            match field {
                Field::Saddr | Field::Daddr => {
                    let v: Option<AddrValue> = map.next_value()?;
                    if let Some(AddrValue(s)) = v {
                        if field == Field::Saddr {
                            raw.saddr = Some(s);
                        } else {
                            raw.daddr = Some(s);
                        }
                    }
                }
                _ => {
                    let v: Option<IntValue> = map.next_value()?;
                    if let Some(IntValue(n)) = v {
                        let slot = match field {
                            Field::Sport => &mut raw.sport,
                            Field::Dport => &mut raw.dport,
                            Field::Seqnum => &mut raw.seqnum,
                            Field::Acknum => &mut raw.acknum,
                            Field::Window => &mut raw.window,
                            _ => &mut raw.ttl,
                        };
                        *slot = Some(n);
                    }
                }
            }
        }
        Ok(raw)
    }
}

/// An object key, matched without allocating.
struct FieldKey(Option<Field>);

impl<'de> de::Deserialize<'de> for FieldKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FieldKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldKey, E> {
                Ok(FieldKey(field_for_key(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON string holding an address, kept as parsed or as the text for the error message (numbers are
/// refused, as Go refuses them for a string field).
struct AddrValue(Result<IpAddr, String>);

impl<'de> de::Deserialize<'de> for AddrValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AddrValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AddrValue, E> {
                Ok(AddrValue(v.parse::<IpAddr>().map_err(|_| v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON integer literal (Go refuses fractions and exponents for an int field).
struct IntValue(i64);

impl<'de> de::Deserialize<'de> for IntValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntValue, E> {
                Ok(IntValue(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntValue, E> {
                i64::try_from(v).map(IntValue).map_err(|_| E::custom(format!("integer too large: {v}")))
            }
        }
        d.deserialize_i64(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"saddr":"198.18.0.5","daddr":"198.18.0.1","sport":80,"dport":41000,"seqnum":3014031342,"acknum":110,"window":29200}"#;

    #[test]
    fn parses_the_recommended_pipeline_line() {
        let s = parse_line(LINE).unwrap().unwrap();
        assert_eq!(s.saddr, "198.18.0.5".parse::<IpAddr>().unwrap());
        assert_eq!(s.daddr, "198.18.0.1".parse::<IpAddr>().unwrap());
        assert_eq!((s.sport, s.dport, s.seqnum, s.acknum, s.window, s.ttl), (80, 41000, 3014031342, 110, 29200, None));
    }

    #[test]
    fn keys_are_case_insensitive_extra_fields_ignored_ttl_optional() {
        let line = r#"{"SADDR":"1.2.3.4","Daddr":"5.6.7.8","sPort":1,"DPORT":2,"SeqNum":3,"ACKNUM":4,"Window":5,"TTL":60,"classification":"synack","success":1,"nested":{"a":[1,2]}}"#;
        let s = parse_line(line).unwrap().unwrap();
        assert_eq!((s.sport, s.dport, s.seqnum, s.acknum, s.window, s.ttl), (1, 2, 3, 4, 5, Some(60)));
        // Go's Unicode folds: long s and the Kelvin sign.
        let line = "{\"\u{17F}addr\":\"1.2.3.4\",\"daddr\":\"5.6.7.8\",\"sport\":1,\"dport\":2,\"seqnum\":3,\"ac\u{212A}num\":9,\"window\":5}";
        let s = parse_line(line).unwrap().unwrap();
        assert_eq!((s.saddr.to_string().as_str(), s.acknum), ("1.2.3.4", 9));
    }

    #[test]
    fn negative_sequence_numbers_wrap_to_u32() {
        let line = LINE.replace("3014031342", "-1280935954").replace("\"acknum\":110", "\"acknum\":-1");
        let s = parse_line(&line).unwrap().unwrap();
        assert_eq!(s.seqnum, 3014031342);
        assert_eq!(s.acknum, u32::MAX);
        let line = LINE.replace("3014031342", "4294967296");
        assert_eq!(parse_line(&line).unwrap_err().kind, ErrorKind::BadValue);
        let line = LINE.replace("3014031342", "-2147483649");
        assert_eq!(parse_line(&line).unwrap_err().kind, ErrorKind::BadValue);
    }

    #[test]
    fn ipv6_forms_normalise() {
        let a = r#"{"saddr":"2001:db8::1","daddr":"2001:db8::2","sport":80,"dport":1,"seqnum":1,"acknum":1,"window":1}"#;
        let b = r#"{"saddr":"2001:0db8:0000:0000:0000:0000:0000:0001","daddr":"2001:db8:0:0:0:0:0:2","sport":80,"dport":1,"seqnum":1,"acknum":1,"window":1}"#;
        assert_eq!(parse_line(a).unwrap(), parse_line(b).unwrap());
    }

    #[test]
    fn last_duplicate_wins_and_null_is_ignored() {
        let line = LINE.replace("\"sport\":80", "\"sport\":80,\"SPORT\":81,\"sport\":null");
        assert_eq!(parse_line(&line).unwrap().unwrap().sport, 81);
    }

    #[test]
    fn bad_lines_are_errors_with_reasons() {
        let cases: &[(&str, ErrorKind, &str)] = &[
            ("{", ErrorKind::Syntax, "EOF"),
            ("not json", ErrorKind::Syntax, "expected"),
            ("[1,2]", ErrorKind::BadValue, "ZMap JSON object"),
            (r#"{"saddr":"1.2.3.4"}"#, ErrorKind::MissingField, "daddr"),
            (&LINE.replace("\"window\":29200", "\"window\":70000"), ErrorKind::BadValue, "window"),
            (&LINE.replace("\"sport\":80", "\"sport\":\"80\""), ErrorKind::BadValue, "integer"),
            (&LINE.replace("\"sport\":80", "\"sport\":80.5"), ErrorKind::BadValue, "integer"),
            (&LINE.replace("198.18.0.5", "198.18.0.500"), ErrorKind::BadAddress, "saddr"),
            (&LINE.replace("198.18.0.5", "::1"), ErrorKind::BadAddress, "versions"),
        ];
        for (line, kind, needle) in cases {
            let e = parse_line(line).unwrap_err();
            assert_eq!(e.kind, *kind, "{line}: {e}");
            assert!(e.detail.contains(needle), "{line}: {e}");
        }
        assert_eq!(parse_line("   ").unwrap(), None);
    }
}
