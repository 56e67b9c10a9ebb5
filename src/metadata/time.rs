//! `lastmodified`, `created_at` and YAML timestamps, parsed and written the
//! way Go's `time` package does.
//!
//! sops seals the MAC with `lastmodified` as Go re-formats it, not as stored
//! (format.md §5.3): fractions are dropped and a zero offset becomes `Z`. A
//! date library would round or normalise differently, so the few rules are
//! written out here.

use std::fmt::Write as _;

/// A parsed RFC 3339 time, kept in its own offset as Go keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
    /// Offset east of UTC in seconds.
    pub offset: i32,
}

fn num(s: &[u8], range: std::ops::Range<usize>) -> Option<u32> {
    let part = s.get(range)?;
    if part.iter().all(u8::is_ascii_digit) {
        std::str::from_utf8(part).ok()?.parse().ok()
    } else {
        None
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Go `time.Parse(time.RFC3339, s)`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`,
/// upper-case `T` and `Z` only, fractional seconds accepted.
pub fn parse_rfc3339(s: &str) -> Result<GoTime, String> {
    let err = || format!("parsing time {s:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse {s:?} as \"2006\"");
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return Err(err());
    }
    let year = i32::try_from(num(b, 0..4).ok_or_else(err)?).map_err(|_| err())?;
    let month = num(b, 5..7).ok_or_else(err)?;
    let day = num(b, 8..10).ok_or_else(err)?;
    let hour = num(b, 11..13).ok_or_else(err)?;
    let minute = num(b, 14..16).ok_or_else(err)?;
    let second = num(b, 17..19).ok_or_else(err)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 59
    {
        return Err(format!("parsing time {s:?}: value out of range"));
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(err());
        }
        let frac = &s[start..i];
        let mut digits: String = frac.chars().take(9).collect();
        while digits.len() < 9 {
            digits.push('0');
        }
        nanos = digits.parse().map_err(|_| err())?;
    }
    let offset = match &b[i..] {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hh = num(&[*h1, *h2], 0..2).ok_or_else(err)?;
            let mm = num(&[*m1, *m2], 0..2).ok_or_else(err)?;
            if hh > 23 || mm > 59 {
                return Err(format!("parsing time {s:?}: time zone offset out of range"));
            }
            let secs = i32::try_from(hh * 3600 + mm * 60).expect("small");
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return Err(err()),
    };
    Ok(GoTime { year, month, day, hour, minute, second, nanos, offset })
}

fn push_offset(out: &mut String, offset: i32) {
    if offset == 0 {
        out.push('Z');
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.unsigned_abs();
        let _ = write!(out, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60);
    }
}

/// Go `t.Format(time.RFC3339)`: seconds precision, fraction dropped (not
/// rounded), `Z` for a zero offset.
pub fn format_rfc3339(t: &GoTime) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
    push_offset(&mut out, t.offset);
    out
}

/// Go `t.MarshalText()` (RFC 3339 with nanoseconds, trailing zeros trimmed),
/// the plaintext of a `type:time` value and the YAML output of a timestamp.
pub fn format_go_time_text(t: &GoTime) -> String {
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
    if t.nanos != 0 {
        let frac = format!("{:09}", t.nanos);
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    push_offset(&mut out, t.offset);
    out
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        i32::try_from(y).expect("year fits"),
        u32::try_from(m).expect("month fits"),
        u32::try_from(d).expect("day fits"),
    )
}

/// A time in UTC from seconds since the Unix epoch.
pub fn from_unix(secs: i64) -> GoTime {
    let days = secs.div_euclid(86_400);
    let rem = u32::try_from(secs.rem_euclid(86_400)).expect("seconds of a day");
    let (year, month, day) = civil_from_days(days);
    GoTime { year, month, day, hour: rem / 3600, minute: (rem % 3600) / 60, second: rem % 60, nanos: 0, offset: 0 }
}

/// The current UTC time at seconds precision, as `lastmodified` is written.
pub fn now_utc() -> GoTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    from_unix(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_drops_fraction_and_zero_offset() {
        // format.md §5.3 table.
        for (stored, canon) in [
            ("2026-11-22T20:08:39Z", "2026-11-22T20:08:39Z"),
            ("2026-11-22T20:08:39.000Z", "2026-11-22T20:08:39Z"),
            ("2026-11-22T20:08:39.999Z", "2026-11-22T20:08:39Z"),
            ("2026-11-22T20:08:39+00:00", "2026-11-22T20:08:39Z"),
            ("2026-11-22T21:08:39+01:00", "2026-11-22T21:08:39+01:00"),
        ] {
            assert_eq!(format_rfc3339(&parse_rfc3339(stored).unwrap()), canon);
        }
        assert!(parse_rfc3339("2026-11-22t20:08:39z").is_err());
        assert!(parse_rfc3339("").is_err());
    }

    #[test]
    fn marshal_text_trims_nanos() {
        let t = parse_rfc3339("2001-12-14T21:59:43.10-05:00").unwrap();
        assert_eq!(format_go_time_text(&t), "2001-12-14T21:59:43.1-05:00");
    }

    #[test]
    fn unix_to_civil() {
        assert_eq!(format_rfc3339(&from_unix(0)), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(&from_unix(1_795_378_119)), "2026-11-22T20:08:39Z");
    }
}
