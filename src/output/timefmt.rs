//! Time as Go prints it: `time.Time` in JSON (RFC 3339 with up to nine fractional digits, trailing zeros
//! dropped, and the local UTC offset or `Z`), and `time.Duration`'s `String()` for the summary's runtime.
//!
//! The local offset comes from the C library (`localtime_r`, which reads `TZ` and /etc/localtime like Go's
//! `time.Local`). It is cached per minute of wall time: offset changes happen on minute boundaries, and this keeps
//! a libc call (and its lock) off the per-record path.

use std::time::Duration;

/// Where the UTC offset comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// The process's local time zone.
    Local,
    /// A fixed offset east of UTC, in seconds (tests, or `TZ`-independent output).
    Fixed(i32),
}

/// Formats nanosecond Unix timestamps like Go's `time.Time.MarshalJSON` (without the quotes).
#[derive(Clone, Debug)]
pub struct TimeFormatter {
    zone: Zone,
    cached_minute: Option<i64>,
    cached_offset: i32,
}

impl TimeFormatter {
    pub fn new(zone: Zone) -> Self {
        TimeFormatter { zone, cached_minute: None, cached_offset: 0 }
    }

    fn offset_at(&mut self, secs: i64) -> i32 {
        match self.zone {
            Zone::Fixed(off) => off,
            Zone::Local => {
                let minute = secs.div_euclid(60);
                if self.cached_minute != Some(minute) {
                    self.cached_offset = local_offset(secs);
                    self.cached_minute = Some(minute);
                }
                self.cached_offset
            }
        }
    }

    /// Appends e.g. `2023-11-13T12:37:18.393362549+03:30` to `out`.
    pub fn write(&mut self, out: &mut Vec<u8>, unix_ns: u64) {
        let secs = (unix_ns / 1_000_000_000) as i64;
        let nanos = (unix_ns % 1_000_000_000) as u32;
        let offset = self.offset_at(secs);
        let local = secs + i64::from(offset);
        let days = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        push_num(out, y, 4);
        out.push(b'-');
        push_num(out, i64::from(m), 2);
        out.push(b'-');
        push_num(out, i64::from(d), 2);
        out.push(b'T');
        push_num(out, sod / 3600, 2);
        out.push(b':');
        push_num(out, sod / 60 % 60, 2);
        out.push(b':');
        push_num(out, sod % 60, 2);
        if nanos != 0 {
            let mut digits = [0u8; 9];
            let mut n = nanos;
            for slot in digits.iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
            let len = 9 - digits.iter().rev().take_while(|&&c| c == b'0').count();
            out.push(b'.');
            out.extend_from_slice(&digits[..len]);
        }
        if offset == 0 {
            out.push(b'Z');
        } else {
            out.push(if offset < 0 { b'-' } else { b'+' });
            let abs = i64::from(offset).abs();
            push_num(out, abs / 3600, 2);
            out.push(b':');
            push_num(out, abs / 60 % 60, 2);
        }
    }

    pub fn format(&mut self, unix_ns: u64) -> String {
        let mut out = Vec::with_capacity(35);
        self.write(&mut out, unix_ns);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Zero-padded decimal without going through `fmt` (this is on the per-record path).
fn push_num(out: &mut Vec<u8>, v: i64, width: usize) {
    if v < 0 {
        out.push(b'-');
    }
    let mut n = v.unsigned_abs();
    let mut digits = [b'0'; 20];
    let mut len = 0;
    while n > 0 || len < width {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
    }
    out.extend(digits[..len].iter().rev());
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The local zone's UTC offset at `secs`, in seconds east.
fn local_offset(secs: i64) -> i32 {
    let t = secs as libc::time_t;
    // SAFETY: `localtime_r` only writes the `tm` we own and reads `t`; a zeroed `tm` is a valid value.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff as i32
    }
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `2.5s`, `150ms`, `1.5µs`, `0s`.
pub fn go_duration(d: Duration) -> String {
    let mut u = d.as_nanos().min(u128::from(u64::MAX)) as u64;
    if u == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let frac = frac_digits(&mut u, prec);
        out.push_str(&u.to_string());
        out.push_str(&frac);
        out.push_str(unit);
        return out;
    }
    let frac = frac_digits(&mut u, 9);
    let secs = u % 60;
    u /= 60;
    if u > 0 {
        let mins = u % 60;
        u /= 60;
        if u > 0 {
            out.push_str(&format!("{u}h"));
        }
        out.push_str(&format!("{mins}m"));
    }
    out.push_str(&format!("{secs}{frac}s"));
    out
}

/// Splits off `prec` decimal digits of `v` as `.ddd` without trailing zeros (empty if all zero).
fn frac_digits(v: &mut u64, prec: u32) -> String {
    let mut digits = Vec::new();
    let mut printed = false;
    for _ in 0..prec {
        let digit = *v % 10;
        printed = printed || digit != 0;
        if printed {
            digits.push(b'0' + digit as u8);
        }
        *v /= 10;
    }
    if digits.is_empty() {
        return String::new();
    }
    digits.push(b'.');
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_rfc3339nano() {
        // 2023-11-13T09:07:18.393362549Z is 1699866438.393362549.
        let ns = 1_699_866_438_393_362_549;
        let mut f = TimeFormatter::new(Zone::Fixed(3 * 3600 + 1800));
        assert_eq!(f.format(ns), "2023-11-13T12:37:18.393362549+03:30");
        let mut f = TimeFormatter::new(Zone::Fixed(0));
        assert_eq!(f.format(ns), "2023-11-13T09:07:18.393362549Z");
        assert_eq!(f.format(1_699_866_438_100_000_000), "2023-11-13T09:07:18.1Z");
        assert_eq!(f.format(1_699_866_438_000_000_000), "2023-11-13T09:07:18Z");
        assert_eq!(f.format(0), "1970-01-01T00:00:00Z");
        let mut f = TimeFormatter::new(Zone::Fixed(-(7 * 3600)));
        assert_eq!(f.format(1_709_164_800_000_000_010), "2024-02-28T17:00:00.00000001-07:00");
        assert_eq!(f.format(1_709_251_199_000_000_000), "2024-02-29T16:59:59-07:00");
    }

    #[test]
    fn civil_dates_round_trip_across_leap_years() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(47_541), (2100, 3, 1));
    }

    #[test]
    fn local_zone_matches_libc() {
        let mut f = TimeFormatter::new(Zone::Local);
        let s = f.format(1_699_866_438_393_362_549);
        let off = local_offset(1_699_866_438);
        assert_eq!(s.ends_with('Z'), off == 0, "{s}");
        assert!(s.contains(".393362549"), "{s}");
    }

    #[test]
    fn durations_print_like_go() {
        let cases: &[(u64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (150_000_000, "150ms"),
            (1_234_567, "1.234567ms"),
            (2_500_000_000, "2.5s"),
            (61_000_000_000, "1m1s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_456_789_012, "1h2m3.456789012s"),
        ];
        for &(ns, want) in cases {
            assert_eq!(go_duration(Duration::from_nanos(ns)), want);
        }
    }
}
