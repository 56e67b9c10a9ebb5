//! Go standard-library text behaviours the JSON store inherits: which bytes
//! are JSON whitespace, how `encoding/json` names a bad byte in a syntax
//! error, and how Go turns invalid UTF-8 into U+FFFD.
//!
//! Nothing here knows about the tree; `decode`, `validate` and `encode` use
//! these helpers so their messages and replacements match sops 3.11 exactly.

/// JSON whitespace as Go's scanner defines it (`isSpace`).
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Where the JSON number starting at `start` ends, by the grammar Go's
/// scanner applies: the literal ends at the first byte that cannot continue
/// it (`01` is `0`, then `1` is the next token). A digit that must come but
/// does not is `Err(Some(message))` for another byte, `Err(None)` at the
/// end of the input (the callers word that differently).
pub(super) fn scan_number(buf: &[u8], start: usize) -> Result<usize, Option<String>> {
    let digits = |mut pos: usize| {
        while buf.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        pos
    };
    let required_digit = |pos: usize, context: &str| match buf.get(pos) {
        None => Err(None),
        Some(b) if b.is_ascii_digit() => Ok(()),
        Some(&b) => Err(Some(invalid_char(b, context))),
    };
    let mut pos = start;
    if buf.get(pos) == Some(&b'-') {
        pos += 1;
        required_digit(pos, " in numeric literal")?;
    }
    if buf.get(pos) == Some(&b'0') {
        pos += 1;
    } else {
        pos = digits(pos);
    }
    if buf.get(pos) == Some(&b'.') {
        pos += 1;
        required_digit(pos, " after decimal point in numeric literal")?;
        pos = digits(pos);
    }
    if matches!(buf.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(buf.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        required_digit(pos, " in exponent of numeric literal")?;
        pos = digits(pos);
    }
    Ok(pos)
}

/// A syntax error as Go's scanner words it: `invalid character 'x' <context>`.
/// `context` is empty or starts with a space, as in Go.
pub(super) fn invalid_char(c: u8, context: &str) -> String {
    format!("invalid character {}{context}", quote_char(c))
}

/// Go's `quoteChar`: the byte as the rune of the same number, quoted with
/// single quotes the way `strconv.Quote` escapes it (`'\x01'`, `'\u0080'`,
/// `'ï'` for 0xEF, the first byte of a BOM).
pub(super) fn quote_char(c: u8) -> String {
    let inner = match c {
        b'\'' => return r"'\''".to_owned(),
        b'"' => return "'\"'".to_owned(),
        b'\\' => r"\\".to_owned(),
        0x07 => r"\a".to_owned(),
        0x08 => r"\b".to_owned(),
        0x0c => r"\f".to_owned(),
        b'\n' => r"\n".to_owned(),
        b'\r' => r"\r".to_owned(),
        b'\t' => r"\t".to_owned(),
        0x0b => r"\v".to_owned(),
        0..=0x1f | 0x7f => format!(r"\x{c:02x}"),
        // C1 controls, NO-BREAK SPACE and SOFT HYPHEN are not printable for
        // strconv.IsPrint; the rest of Latin-1 is.
        0x80..=0xa0 | 0xad => format!(r"\u{c:04x}"),
        _ => char::from(c).to_string(),
    };
    format!("'{inner}'")
}

/// Appends `bytes` to `out`, replacing every byte of an invalid UTF-8
/// sequence by U+FFFD. Go's decoder gives up one byte at a time
/// (`utf8.DecodeRune` returns width 1 on error), so `E2 82` followed by `x`
/// gives two replacement characters where Rust's lossy conversion gives one.
pub(super) fn push_lossy(out: &mut String, mut bytes: &[u8]) {
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                // valid_up_to marks a UTF-8 boundary, so this cannot fail.
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for _ in 0..bad {
                    out.push(char::REPLACEMENT_CHARACTER);
                }
                bytes = &rest[bad..];
            }
        }
    }
}

/// Splits `bytes` into valid UTF-8 runs and counts of invalid bytes, the
/// units Go's encoder handles (one `\ufffd` per invalid byte).
pub(super) fn utf8_chunks(mut bytes: &[u8], mut f: impl FnMut(Result<&str, usize>)) {
    while !bytes.is_empty() {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                f(Ok(s));
                return;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                if !valid.is_empty() {
                    f(Ok(std::str::from_utf8(valid).unwrap_or_default()));
                }
                let bad = e.error_len().unwrap_or(rest.len());
                f(Err(bad));
                bytes = &rest[bad..];
            }
        }
    }
}

/// Index of the first byte of `s` for which `stop` holds. `word_may_stop`
/// must be true for every 8-byte little-endian word containing such a byte;
/// words for which it is false are skipped whole (string bodies are long
/// runs of ordinary bytes, and this is the hot loop of both directions).
pub(super) fn find_byte(
    s: &[u8],
    word_may_stop: impl Fn(u64) -> bool,
    stop: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        if word_may_stop(word) {
            break;
        }
        i += 8;
    }
    s[i..].iter().position(|&b| stop(b)).map(|p| i + p)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether some byte of `word` is below `n` (n ≤ 0x80), exactly.
pub(super) fn has_less(word: u64, n: u8) -> bool {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS != 0
}

/// Whether some byte of `word` equals `b`, exactly.
pub(super) fn has_byte(word: u64, b: u8) -> bool {
    has_less(word ^ (ONES * u64::from(b)), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_end_where_go_scanner_stops() {
        let end = |s: &str| scan_number(s.as_bytes(), 0);
        assert_eq!(end("0"), Ok(1));
        assert_eq!(end("01"), Ok(1));
        assert_eq!(end("-12.5e+3,"), Ok(8));
        assert_eq!(end("7E2]"), Ok(3));
        assert_eq!(end("1.x"), Err(Some("invalid character 'x' after decimal point in numeric literal".to_owned())));
        assert_eq!(end("-a"), Err(Some("invalid character 'a' in numeric literal".to_owned())));
        assert_eq!(end("1e}"), Err(Some("invalid character '}' in exponent of numeric literal".to_owned())));
        assert_eq!(end("-"), Err(None));
        assert_eq!(end("2.5e"), Err(None));
        assert_eq!(scan_number(b"[10]", 1), Ok(3));
    }

    #[test]
    fn word_tests_are_exact() {
        let words: [[u8; 8]; 5] = [
            *b"abcdefgh",
            *b"abc\\efgh",
            *b"abcdefg\\",
            [0x7f, 0x80, 0xff, 0x20, 0x21, 0x5b, 0x5d, 0x1f],
            [0xff; 8],
        ];
        for w in words {
            let word = u64::from_le_bytes(w);
            assert_eq!(has_less(word, 0x20), w.iter().any(|&b| b < 0x20), "{w:?}");
            assert_eq!(has_byte(word, b'\\'), w.contains(&b'\\'), "{w:?}");
            assert_eq!(has_byte(word, 0xff), w.contains(&0xff), "{w:?}");
        }
        let s = b"0123456789abcdef\\xyz";
        assert_eq!(
            find_byte(s, |w| has_byte(w, b'\\'), |b| b == b'\\'),
            Some(16)
        );
        assert_eq!(
            find_byte(b"short", |w| has_byte(w, b'\\'), |b| b == b'\\'),
            None
        );
    }

    #[test]
    fn quote_char_matches_go() {
        // Texts observed in sops 3.11 error messages.
        for (c, s) in [
            (b'x', "'x'"),
            (b'\'', r"'\''"),
            (b'"', "'\"'"),
            (b'\\', r"'\\'"),
            (0x01, r"'\x01'"),
            (0x07, r"'\a'"),
            (0x0b, r"'\v'"),
            (0x1b, r"'\x1b'"),
            (b'\t', r"'\t'"),
            (b'\n', r"'\n'"),
            (0x7f, r"'\x7f'"),
            (0x80, r"'\u0080'"),
            (0xa0, r"'\u00a0'"),
            (0xad, r"'\u00ad'"),
            (0xc3, "'Ã'"),
            (0xef, "'ï'"),
            (0xff, "'ÿ'"),
        ] {
            assert_eq!(quote_char(c), s, "byte {c:#04x}");
        }
    }

    #[test]
    fn lossy_replaces_each_bad_byte() {
        let mut s = String::new();
        push_lossy(
            &mut s,
            b"x\xe2\x82y\xff\xfe\xed\xa0\x80\xf4\x90\x80\x80ok\xe2\x82",
        );
        assert_eq!(s, "x\u{fffd}\u{fffd}y\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}ok\u{fffd}\u{fffd}");
        let mut t = String::new();
        push_lossy(&mut t, "héllo \u{fffd}".as_bytes());
        assert_eq!(t, "héllo \u{fffd}");
    }

    #[test]
    fn chunks_count_bad_bytes() {
        let mut parts = Vec::new();
        utf8_chunks(b"a\xe2\x82b\xff", |p| parts.push(p.map(str::to_owned)));
        assert_eq!(
            parts,
            vec![Ok("a".to_owned()), Err(2), Ok("b".to_owned()), Err(1)]
        );
    }
}
