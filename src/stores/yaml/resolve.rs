//! Plain-scalar typing as go-yaml v3's `resolve` does it (format.md §8.1.1).
//!
//! The rules are Go's: `strconv.ParseInt(s, 0, 64)` after removing `_`,
//! `ParseUint` for the uint64 range, a YAML float regex plus `ParseFloat`, and
//! `time.Parse` with four layouts for timestamps.

use std::fmt::Write as _;

use crate::tree::number;

pub(super) const STR_TAG: &str = "!!str";
pub(super) const NULL_TAG: &str = "!!null";
pub(super) const BOOL_TAG: &str = "!!bool";
pub(super) const INT_TAG: &str = "!!int";
pub(super) const FLOAT_TAG: &str = "!!float";
pub(super) const TIMESTAMP_TAG: &str = "!!timestamp";
pub(super) const SEQ_TAG: &str = "!!seq";
pub(super) const MAP_TAG: &str = "!!map";
pub(super) const BINARY_TAG: &str = "!!binary";
pub(super) const MERGE_TAG: &str = "!!merge";

const LONG_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A resolved scalar.
#[derive(Clone, PartialEq)]
pub(super) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    /// Fits only in uint64: sops cannot walk it (format.md §2.4).
    Uint(u64),
    Float(f64),
    /// The input text itself.
    Str,
    /// RFC 3339 text as Go's `time.MarshalText` writes it.
    Time(String),
}

/// `tag:yaml.org,2002:x` → `!!x`; anything else unchanged.
pub(super) fn short_tag(tag: &str) -> String {
    match tag.strip_prefix(LONG_TAG_PREFIX) {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_owned(),
    }
}

fn resolvable(tag: &str) -> bool {
    matches!(
        tag,
        "" | STR_TAG | BOOL_TAG | INT_TAG | FLOAT_TAG | NULL_TAG | TIMESTAMP_TAG
    )
}

/// go-yaml `resolve(tag, in)`: the resolved tag and value. `tag` is in short
/// form. Fails (with go-yaml's text, without the `yaml: ` prefix) when an
/// explicit tag does not fit the text.
pub(super) fn resolve(tag: &str, input: &str) -> Result<(String, Resolved), String> {
    if !resolvable(tag) {
        return Ok((tag.to_owned(), Resolved::Str));
    }
    let (rtag, out) = resolve_plain(tag, input);
    if tag.is_empty() || tag == rtag || tag == STR_TAG {
        return Ok((rtag.to_owned(), out));
    }
    if tag == FLOAT_TAG && rtag == INT_TAG {
        if let Resolved::Int(i) = out {
            #[allow(clippy::cast_precision_loss)] // Go converts the same way
            return Ok((FLOAT_TAG.to_owned(), Resolved::Float(i as f64)));
        }
    }
    Err(format!("cannot decode {rtag} `{input}` as a {tag}"))
}

/// The tag a plain scalar resolves to (never fails without an explicit tag).
pub(super) fn resolve_tag(input: &str) -> &'static str {
    resolve_plain("", input).0
}

fn resolve_plain(tag: &str, input: &str) -> (&'static str, Resolved) {
    let hint = match input.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => 0,
    };
    if hint == 0 || tag == STR_TAG || tag == BINARY_TAG {
        return (STR_TAG, Resolved::Str);
    }
    match input {
        "true" | "True" | "TRUE" => return (BOOL_TAG, Resolved::Bool(true)),
        "false" | "False" | "FALSE" => return (BOOL_TAG, Resolved::Bool(false)),
        "" | "~" | "null" | "Null" | "NULL" => return (NULL_TAG, Resolved::Null),
        ".nan" | ".NaN" | ".NAN" => return (FLOAT_TAG, Resolved::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return (FLOAT_TAG, Resolved::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return (FLOAT_TAG, Resolved::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(input) {
                return (FLOAT_TAG, Resolved::Float(f));
            }
        }
        b'D' | b'S' => {
            if tag.is_empty() || tag == TIMESTAMP_TAG {
                if let Some(t) = parse_timestamp(input) {
                    return (TIMESTAMP_TAG, Resolved::Time(t));
                }
            }
            let plain: String = input.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return (INT_TAG, Resolved::Int(i));
            }
            if let Some(u) = go_parse_uint(&plain) {
                return (INT_TAG, Resolved::Uint(u));
            }
            if is_yaml_style_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return (FLOAT_TAG, Resolved::Float(f));
                }
            }
        }
        _ => {}
    }
    (STR_TAG, Resolved::Str)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub(super) fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go `strconv.ParseUint(s, 0, 64)` (no underscores: callers removed them).
pub(super) fn go_parse_uint(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    let (base, digits) = if b[0] == b'0' {
        if b.len() >= 3 && (b[1] | 0x20) == b'b' {
            (2, &s[2..])
        } else if b.len() >= 3 && (b[1] | 0x20) == b'o' {
            (8, &s[2..])
        } else if b.len() >= 3 && (b[1] | 0x20) == b'x' {
            (16, &s[2..])
        } else {
            (8, &s[1..])
        }
    } else {
        (10, s)
    };
    let mut n: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(base)?;
        n = n.checked_mul(u64::from(base))?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// Go `strconv.ParseInt(s, 0, 64)`.
pub(super) fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let u = go_parse_uint(body)?;
    if neg {
        if u > 1 << 63 {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(u))
    } else {
        i64::try_from(u).ok()
    }
}

/// Go `strconv.ParseFloat(s, 64)` restricted to decimal notation, which is
/// all YAML resolution can reach (hex floats and `inf` words never get here).
/// `None` for a syntax or range error.
pub(super) fn go_parse_float(s: &str) -> Option<f64> {
    let cleaned: String;
    let s = if s.contains('_') {
        if !number::underscore_ok(s) {
            return None;
        }
        cleaned = s.chars().filter(|&c| c != '_').collect();
        &cleaned
    } else {
        s
    };
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty()
        || !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_infinite() {
        return None;
    }
    Some(v)
}

/// go-yaml `parseTimestamp`: four digits and `-`, then one of the layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`),
/// `2006-1-2 15:4:5.999999999` (UTC) and `2006-1-2` (UTC). Returns the
/// `MarshalText` form.
pub(super) fn parse_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if lead != 4 || lead == b.len() || b[lead] != b'-' {
        return None;
    }
    for layout in [
        Layout::Zoned(b'T'),
        Layout::Zoned(b't'),
        Layout::Spaced,
        Layout::DateOnly,
    ] {
        if let Some(t) = parse_layout(b, layout) {
            return Some(t);
        }
    }
    None
}

#[derive(Clone, Copy)]
enum Layout {
    Zoned(u8),
    Spaced,
    DateOnly,
}

/// Go `getnum(s, false)`: one or two digits.
fn getnum(s: &[u8]) -> Option<(u32, &[u8])> {
    let d0 = *s.first()?;
    if !d0.is_ascii_digit() {
        return None;
    }
    match s.get(1) {
        Some(d1) if d1.is_ascii_digit() => {
            Some((u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'), &s[2..]))
        }
        _ => Some((u32::from(d0 - b'0'), &s[1..])),
    }
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn parse_layout(b: &[u8], layout: Layout) -> Option<String> {
    let year: u32 = std::str::from_utf8(&b[..4]).ok()?.parse().ok()?;
    let rest = b[4..].strip_prefix(b"-")?;
    let (month, rest) = getnum(rest)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let rest = rest.strip_prefix(b"-")?;
    let (day, mut rest) = getnum(rest)?;
    let (mut hour, mut min, mut sec, mut nanos) = (0, 0, 0, 0u32);
    let mut offset: i32 = 0;
    if !matches!(layout, Layout::DateOnly) {
        let sep = match layout {
            Layout::Zoned(t) => t,
            _ => b' ',
        };
        rest = rest.strip_prefix(&[sep])?;
        (hour, rest) = getnum(rest)?;
        if hour >= 24 {
            return None;
        }
        rest = rest.strip_prefix(b":")?;
        (min, rest) = getnum(rest)?;
        if min >= 60 {
            return None;
        }
        rest = rest.strip_prefix(b":")?;
        (sec, rest) = getnum(rest)?;
        if sec >= 60 {
            return None;
        }
        // Optional fraction: '.' or ',' then digits; digits past the ninth
        // are ignored.
        if rest.len() >= 2 && (rest[0] == b'.' || rest[0] == b',') && rest[1].is_ascii_digit() {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let digits = &rest[1..=n.min(9)];
            let mut ns: u32 = 0;
            for d in digits {
                ns = ns * 10 + u32::from(d - b'0');
            }
            for _ in digits.len()..9 {
                ns *= 10;
            }
            nanos = ns;
            rest = &rest[1 + n..];
        }
        if let Layout::Zoned(_) = layout {
            if rest.first() == Some(&b'Z') {
                rest = &rest[1..];
            } else {
                if rest.len() < 6 || rest[3] != b':' {
                    return None;
                }
                let two = |s: &[u8]| -> Option<i32> {
                    if s[0].is_ascii_digit() && s[1].is_ascii_digit() {
                        Some(i32::from(s[0] - b'0') * 10 + i32::from(s[1] - b'0'))
                    } else {
                        None
                    }
                };
                let hh = two(&rest[1..3])?;
                let mm = two(&rest[4..6])?;
                if hh > 24 || mm > 60 {
                    return None;
                }
                offset = (hh * 60 + mm) * 60;
                match rest[0] {
                    b'+' => {}
                    b'-' => offset = -offset,
                    _ => return None,
                }
                rest = &rest[6..];
            }
        }
    }
    if !rest.is_empty() || day < 1 || day > days_in(month, year) {
        return None;
    }
    let mut out = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}");
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    if offset == 0 {
        out.push('Z');
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let a = offset.unsigned_abs() / 60;
        let _ = write!(out, "{sign}{:02}:{:02}", a / 60, a % 60);
    }
    Some(out)
}

/// YAML 1.1 sexagesimal numbers (`1:20`), which go-yaml quotes when writing.
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`
#[allow(clippy::many_single_char_names)] // a hand-written regex matcher
pub(super) fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&c) = b.first() else { return false };
    if !(c == b'+' || c == b'-' || c.is_ascii_digit()) || !s.contains(':') {
        return false;
    }
    let mut i = usize::from(c == b'+' || c == b'-');
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        // [0-5]?[0-9]: one digit, or two with the first in 0-5.
        let d1 = b.get(i).copied().filter(u8::is_ascii_digit);
        let d2 = b.get(i + 1).copied().filter(u8::is_ascii_digit);
        match (d1, d2) {
            (Some(a), Some(_)) if a <= b'5' => i += 2,
            (Some(_), _) => i += 1,
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// YAML 1.1 booleans go-yaml quotes when writing.
pub(super) fn is_old_bool(s: &str) -> bool {
    matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    )
}
