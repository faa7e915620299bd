//! JSON string encoding exactly as Go's `encoding/json` writes it (Go 1.22+, HTML escaping on).
//!
//! The original wrote its records with `json.Marshal`, so byte-compatible output needs Go's choices, which
//! `serde_json` does not make:
//! - each byte that is not part of valid UTF-8 becomes the six characters `\ufffd` (one per byte, as Go's
//!   decoder consumes invalid input one byte at a time);
//! - `<`, `>`, `&` become `\u003c`, `\u003e`, `\u0026`;
//! - `\b \f \n \r \t` use their short escapes, other controls below 0x20 are `\u00xx` (lowercase hex); DEL stays;
//! - U+2028 and U+2029 are escaped as `\u2028`, `\u2029`.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` to `out` as a quoted JSON string, Go style.
pub fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        write_valid(out, chunk.valid());
        for _ in chunk.invalid() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

fn write_valid(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0x08 => Some(b"\\b"),
            0x0c => Some(b"\\f"),
            _ => None,
        };
        if let Some(esc) = escape {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(esc);
            i += 1;
            start = i;
        } else if b < 0x20 || b == b'<' || b == b'>' || b == b'&' {
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
            i += 1;
            start = i;
        } else if b == 0xE2 && bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9)) {
            // U+2028 / U+2029 (E2 80 A8 / E2 80 A9).
            out.extend_from_slice(&bytes[start..i]);
            out.extend_from_slice(if bytes.get(i + 2) == Some(&0xA8) { b"\\u2028" } else { b"\\u2029" });
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// `write_string` into a new `String` (for tests and one-off uses).
pub fn to_string(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    write_string(&mut out, bytes);
    // Only ASCII escapes and valid UTF-8 runs were written.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        // Expected values are what Go 1.22's json.Marshal(string(b)) prints.
        let cases: &[(&[u8], &str)] = &[
            (b"", r#""""#),
            (b"plain text", r#""plain text""#),
            (b"a\"b\\c", r#""a\"b\\c""#),
            (b"\r\n\t\x08\x0c", r#""\r\n\t\b\f""#),
            (b"\x00\x01\x1f\x7f", "\"\\u0000\\u0001\\u001f\x7f\""),
            (b"<html>&amp;", r#""\u003chtml\u003e\u0026amp;""#),
            ("é€😀".as_bytes(), "\"é€😀\""),
            ("\u{2028}x\u{2029}".as_bytes(), r#""\u2028x\u2029""#),
            ("\u{fffd}".as_bytes(), "\"\u{fffd}\""),
            (b"\xff", r#""\ufffd""#),
            // A truncated 4-byte sequence is three invalid bytes to Go: three replacements.
            (b"a\xf0\x9f\x98b", r#""a\ufffd\ufffd\ufffdb""#),
            // Surrogates encoded in UTF-8 and overlong forms are invalid byte by byte.
            (b"\xed\xa0\x80", r#""\ufffd\ufffd\ufffd""#),
            (b"\xc0\xaf", r#""\ufffd\ufffd""#),
            (b"\x16\x03\x01\x00\x2a\x02", r#""\u0016\u0003\u0001\u0000*\u0002""#),
        ];
        for (input, want) in cases {
            assert_eq!(to_string(input), *want, "{input:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_round_trips_through_a_json_parser(s in "\\PC*|[\u{0}-\u{7f}\u{2028}\u{2029}]*") {
            let back: String = serde_json::from_str(&to_string(s.as_bytes())).unwrap();
            proptest::prop_assert_eq!(back, s);
        }

        #[test]
        fn any_bytes_give_valid_json_without_raw_controls_or_html(b in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let encoded = to_string(&b);
            let back: String = serde_json::from_str(&encoded).unwrap();
            // Each invalid byte becomes exactly one U+FFFD.
            let invalid: usize = b.utf8_chunks().map(|c| c.invalid().len()).sum();
            let valid_fffd = b.utf8_chunks().map(|c| c.valid().matches('\u{fffd}').count()).sum::<usize>();
            proptest::prop_assert_eq!(back.matches('\u{fffd}').count(), invalid + valid_fffd);
            proptest::prop_assert!(!encoded.bytes().any(|c| c < 0x20 || c == b'<' || c == b'>' || c == b'&'));
        }
    }

    #[test]
    fn output_is_valid_json_that_round_trips_valid_utf8() {
        let s = "HTTP/1.1 200 OK\r\nServer: x<y>&z\u{2028}\u{1}\"\\";
        let encoded = to_string(s.as_bytes());
        let back: String = serde_json::from_str(&encoded).unwrap();
        assert_eq!(back, s);
    }
}
