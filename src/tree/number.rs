//! Number formatting exactly as Go's `strconv` writes it.
//!
//! sops's bytes depend on three Go float forms: the plaintext of an encrypted
//! float (`FormatFloat(v, 'f', -1, 64)`, format.md §2.4), YAML output
//! (`FormatFloat(v, 'g', -1, 64)`, §8.1.3) and JSON output (`encoding/json`'s
//! rule, §8.2.2). All three start from the shortest digits that round-trip,
//! which Rust's `{:e}` formatting gives us; only the layout differs.

/// Shortest round-trip digits and decimal exponent of a finite `v`:
/// `v = 0.d1d2d3… × 10^point` is *not* used; instead `v = d1.d2d3… × 10^exp`.
fn shortest(v: f64) -> (bool, String, i32) {
    let s = format!("{:e}", v.abs());
    let (mantissa, exp) = s.split_once('e').expect("LowerExp always has an exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    (v.is_sign_negative(), digits, exp)
}

fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("NaN")
    } else if v == f64::INFINITY {
        Some("+Inf")
    } else if v == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// Positional layout of `digits × 10^(exp - len + 1)`.
fn positional(neg: bool, digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let n = i32::try_from(digits.len()).expect("short digit string");
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else if exp + 1 >= n {
        out.push_str(digits);
        for _ in 0..(exp + 1 - n) {
            out.push('0');
        }
    } else {
        let split = usize::try_from(exp + 1).expect("non-negative");
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    }
    out
}

/// Exponent layout `d.ddde±XX` with at least two exponent digits (Go `%e`).
fn exponent(neg: bool, digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
    out
}

/// Go `strconv.FormatFloat(v, 'f', -1, 64)`: the plaintext sops encrypts for a
/// float (`1e10` → `10000000000`, `1.0` → `1`, `-0.0` → `-0`).
pub fn format_float_f(v: f64) -> String {
    if let Some(s) = special(v) {
        return s.to_owned();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (neg, digits, exp) = shortest(v);
    positional(neg, &digits, exp)
}

/// Go `strconv.FormatFloat(v, 'g', -1, 64)`: exponent form when the decimal
/// exponent is below -4 or at least 6 (with shortest precision Go decides
/// with precision 6, hence `1.2345678901234568e+20`).
pub fn format_float_g(v: f64) -> String {
    if let Some(s) = special(v) {
        return s.to_owned();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (neg, digits, exp) = shortest(v);
    if (-4..6).contains(&exp) {
        positional(neg, &digits, exp)
    } else {
        exponent(neg, &digits, exp)
    }
}

/// Go `encoding/json`'s float form: positional for 1e-6 ≤ |v| < 1e21,
/// otherwise exponent form with `e-07` shortened to `e-7`.
/// Returns `None` for ±Inf and NaN, which JSON cannot hold.
pub fn format_float_json(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (neg, digits, exp) = shortest(v);
        let mut s = exponent(neg, &digits, exp);
        let n = s.len();
        let b = s.as_bytes();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            s.remove(n - 2);
        }
        Some(s)
    } else {
        Some(format_float_f(v))
    }
}

/// Go's `strconv.underscoreOK`: in a number literal with an optional sign,
/// `_` only between digits, or between a base prefix and a digit.
pub fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        i = 1;
    }
    let mut hex = false;
    if b.len() >= i + 2 && b[i] == b'0' && matches!(b[i + 1] | 0x20, b'b' | b'o' | b'x') {
        hex = (b[i + 1] | 0x20) == b'x';
        i += 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || hex && c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go `strconv.ParseFloat(s, 64)` for the forms sops's own files contain:
/// decimal and exponent notation, `inf`/`infinity`/`nan` in any case with an
/// optional sign. Returns `None` where Go reports a syntax or range error.
pub fn parse_float_go(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" || lower == "nan" {
        let v: f64 = s.to_ascii_lowercase().parse().ok()?;
        return Some(v);
    }
    // Go accepts `_` only between digits of a base-prefixed literal; sops never
    // writes one, so plain decimal syntax is enough. Rust accepts the same
    // decimal grammar, but also rejects nothing Go accepts here.
    if !body.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    if v.is_infinite() {
        return None; // Go: "value out of range"
    }
    Some(v)
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.14 is a formatting sample, not pi
mod tests {
    use super::*;

    #[test]
    fn underscores_only_between_digits() {
        for ok in ["1_000", "0x_ff", "-0b_1", "+1_2", "0o7_7", "1_2.3_4", "12"] {
            assert!(underscore_ok(ok), "{ok}");
        }
        for bad in ["_1", "1_", "1__2", "-_1", "1_.5", "1._5", "0x__f"] {
            assert!(!underscore_ok(bad), "{bad}");
        }
    }

    #[test]
    fn f_format_matches_go() {
        for (v, s) in [
            (3.14, "3.14"),
            (1.0, "1"),
            (1e10, "10000000000"),
            (0.000_001, "0.000001"),
            (6.02e23, "602000000000000000000000"),
            (0.000_000_15, "0.00000015"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (9_007_199_254_740_993.0, "9007199254740992"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ] {
            assert_eq!(format_float_f(v), s, "{v}");
        }
        assert_eq!(format_float_f(1e300).len(), 301);
    }

    #[test]
    fn g_format_matches_go() {
        for (v, s) in [
            (3.14, "3.14"),
            (1.0, "1"),
            (100_000.0, "100000"),
            (123_456.5, "123456.5"),
            (0.0001, "0.0001"),
            (0.000_01, "1e-05"),
            (1_234_567.0, "1.234567e+06"),
            (1e10, "1e+10"),
            (1e-6, "1e-06"),
            (1.5e-7, "1.5e-07"),
            (123_456_789_012_345_678_901.0, "1.2345678901234568e+20"),
            (123_456_789.0, "1.23456789e+08"),
            (-0.0, "-0"),
            (1e100, "1e+100"),
        ] {
            assert_eq!(format_float_g(v), s, "{v}");
        }
    }

    #[test]
    fn json_format_matches_go() {
        for (v, s) in [
            (1.5, "1.5"),
            (1.0, "1"),
            (1000.0, "1000"),
            (1e20, "100000000000000000000"),
            (123_456_789.0, "123456789"),
            (0.000_001, "0.000001"),
            (-0.0, "-0"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (1.5e-10, "1.5e-10"),
        ] {
            assert_eq!(format_float_json(v).unwrap(), s, "{v}");
        }
        assert!(format_float_json(f64::NAN).is_none());
    }

    #[test]
    fn parse_accepts_go_forms() {
        assert_eq!(parse_float_go("1e10"), Some(1e10));
        assert_eq!(parse_float_go("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_float_go("-inf"), Some(f64::NEG_INFINITY));
        assert!(parse_float_go("NaN").unwrap().is_nan());
        assert_eq!(parse_float_go("abc"), None);
        assert_eq!(parse_float_go("1e400"), None);
    }
}
