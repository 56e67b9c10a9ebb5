//! Writing a tree as the indented JSON sops 3.11 produces.
//!
//! sops builds compact JSON by hand (`encodeTree`, `encodeArray`), marshals
//! leaves with Go's `encoding/json`, then re-indents the whole text with
//! `json.Indent` (format.md §8.2.2). The result is written here in one pass;
//! what the two Go steps imply is kept: comments are skipped, empty
//! containers stay `{}`/`[]`, and the errors keep their order (a value JSON
//! cannot hold is reported before a bad indent, which is reported before
//! nesting beyond Go's scanner limit).

use std::io::Write as _;

use super::decode::MAX_DEPTH;
use super::go::{find_byte, has_byte, has_less, utf8_chunks};
use crate::tree::number::{format_float_g, format_float_json};
use crate::tree::{Item, Value};

/// The unit of indentation.
#[derive(Clone, Copy)]
pub(super) enum Indent {
    Tab,
    Spaces(usize),
}

impl Indent {
    /// sops's `reindentJSON`: N ≥ 0 spaces, -1 (and the default) a tab.
    pub(super) fn from_option(indent: Option<i64>) -> Result<Indent, String> {
        match indent {
            None | Some(-1) => Ok(Indent::Tab),
            Some(n) if n >= 0 => Ok(Indent::Spaces(usize::try_from(n).unwrap_or(usize::MAX))),
            Some(_) => Err("JSON Indentation parameter smaller than -1 is not accepted".to_owned()),
        }
    }
}

struct Writer {
    out: Vec<u8>,
    /// `None` when the indent option is invalid: nothing is kept, but the
    /// tree is still walked for the errors sops reports first.
    indent: Option<Indent>,
    /// The first container nested deeper than Go's scanner allows.
    too_deep: Option<u8>,
}

/// Writes `value` as sops's `EmitValue`/`jsonFromTreeBranch` do, without a
/// trailing newline. The error is the text sops prints (before any prefix).
pub(super) fn encode(value: &Value, indent: Option<i64>) -> Result<Vec<u8>, String> {
    write_with(indent, |w| w.value(value, 0))
}

/// Writes the mapping `items` (a document), as [`encode`] does.
pub(super) fn encode_map(items: &[Item], indent: Option<i64>) -> Result<Vec<u8>, String> {
    write_with(indent, |w| w.map(items, 0))
}

/// Runs `write`, then reports what sops's `json.Indent` step would refuse.
fn write_with(
    indent: Option<i64>,
    write: impl FnOnce(&mut Writer) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    let parsed = Indent::from_option(indent);
    let mut w = Writer {
        out: Vec::new(),
        indent: parsed.as_ref().ok().copied(),
        too_deep: None,
    };
    write(&mut w)?;
    parsed?;
    match w.too_deep {
        Some(c) => Err(format!(
            "invalid character '{}' exceeded max depth",
            char::from(c)
        )),
        None => Ok(w.out),
    }
}

impl Writer {
    fn newline(&mut self, depth: usize) {
        self.out.push(b'\n');
        match self.indent {
            Some(Indent::Tab) => self.out.resize(self.out.len() + depth, b'\t'),
            Some(Indent::Spaces(n)) => self
                .out
                .resize(self.out.len() + depth.saturating_mul(n), b' '),
            None => {}
        }
    }

    /// Opens a container at `depth` (0 for the outermost). Returns false
    /// when it lies beyond Go's nesting limit and must not be descended.
    fn open(&mut self, c: u8, depth: usize) -> bool {
        if depth >= MAX_DEPTH {
            self.too_deep.get_or_insert(c);
            return false;
        }
        true
    }

    fn map(&mut self, items: &[Item], depth: usize) -> Result<(), String> {
        if !self.open(b'{', depth) {
            return Ok(());
        }
        let mut empty = true;
        for item in items {
            let Item::Pair(key, value) = item else {
                continue;
            };
            self.out.push(if empty { b'{' } else { b',' });
            empty = false;
            self.newline(depth + 1);
            write_str(&mut self.out, key);
            self.out.extend_from_slice(b": ");
            // sops wraps a failure once per enclosing mapping.
            self.value(value, depth + 1)
                .map_err(|e| format!("Error encoding value : {e}"))?;
        }
        if empty {
            self.out.extend_from_slice(b"{}");
        } else {
            self.newline(depth);
            self.out.push(b'}');
        }
        Ok(())
    }

    fn seq(&mut self, values: &[Value], depth: usize) -> Result<(), String> {
        if !self.open(b'[', depth) {
            return Ok(());
        }
        let mut empty = true;
        for value in values {
            if let Value::Comment(_) = value {
                continue;
            }
            self.out.push(if empty { b'[' } else { b',' });
            empty = false;
            self.newline(depth + 1);
            self.value(value, depth + 1)?;
        }
        if empty {
            self.out.extend_from_slice(b"[]");
        } else {
            self.newline(depth);
            self.out.push(b']');
        }
        Ok(())
    }

    fn value(&mut self, value: &Value, depth: usize) -> Result<(), String> {
        match value {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => {
                // Writing to a Vec cannot fail.
                let _ = write!(self.out, "{i}");
            }
            Value::Float(f) => match format_float_json(*f) {
                Some(s) => self.out.extend_from_slice(s.as_bytes()),
                None => return Err(format!("json: unsupported value: {}", format_float_g(*f))),
            },
            Value::Str(s) | Value::Time(s) => write_str(&mut self.out, s),
            Value::Bytes(b) => write_string(&mut self.out, b),
            Value::Map(items) => self.map(items, depth)?,
            Value::Seq(values) => self.seq(values, depth)?,
            // A comment outside a sequence reaches Go's marshaller as the
            // struct `sops.Comment{Value}`.
            Value::Comment(text) => {
                let fields = [Item::Pair("Value".to_owned(), Value::Str(text.clone()))];
                self.map(&fields, depth)?;
            }
        }
        Ok(())
    }
}

/// The first byte of valid UTF-8 `s` that Go's encoder (with HTML
/// escaping) does not copy as is: controls, `"`, `\`, `<`, `>`, `&`, and
/// 0xE2, the lead byte of U+2028/U+2029.
fn find_special(s: &[u8]) -> Option<usize> {
    find_byte(
        s,
        |w| {
            has_less(w, 0x20)
                || has_byte(w, b'"')
                || has_byte(w, b'\\')
                || has_byte(w, b'<')
                || has_byte(w, b'>')
                || has_byte(w, b'&')
                || has_byte(w, 0xe2)
        },
        |b| b < 0x20 || matches!(b, b'"' | b'\\' | b'<' | b'>' | b'&' | 0xe2),
    )
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A JSON string as Go's `encoding/json` writes it with HTML escaping:
/// `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls and `<>&` as
/// `\u00xx`, U+2028/U+2029 escaped, each invalid UTF-8 byte as `\ufffd`.
pub(super) fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    utf8_chunks(bytes, |chunk| match chunk {
        Ok(s) => write_valid(out, s),
        Err(n) => {
            for _ in 0..n {
                out.extend_from_slice(br"\ufffd");
            }
        }
    });
    out.push(b'"');
}

/// [`write_string`] for text already known to be UTF-8.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_valid(out, s);
    out.push(b'"');
}

fn write_valid(out: &mut Vec<u8>, s: &str) {
    let s = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(n) = find_special(&s[i..]) {
        i += n;
        let b = s[i];
        let escape: &[u8] = match b {
            b'"' => br#"\""#,
            b'\\' => br"\\",
            0x08 => br"\b",
            0x0c => br"\f",
            b'\n' => br"\n",
            b'\r' => br"\r",
            b'\t' => br"\t",
            // In valid UTF-8, E2 80 A8/A9 are U+2028/U+2029.
            0xe2 if s[i + 1] == 0x80 && s[i + 2] == 0xa8 => br"\u2028",
            0xe2 if s[i + 1] == 0x80 && s[i + 2] == 0xa9 => br"\u2029",
            0xe2 => {
                i += 1;
                continue;
            }
            _ => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ],
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(escape);
        i += if b == 0xe2 { 3 } else { 1 };
        start = i;
    }
    out.extend_from_slice(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_string(&mut out, bytes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_like_go() {
        // Expected texts from sops 3.11 output.
        assert_eq!(
            string(b"q\"b\\s/n\nr\rt\tb\x08f\x0cend"),
            r#""q\"b\\s/n\nr\rt\tb\bf\fend""#
        );
        assert_eq!(
            string("\u{1}\u{1f}\u{7f}\u{80}ÿ".as_bytes()),
            "\"\\u0001\\u001f\u{7f}\u{80}ÿ\""
        );
        assert_eq!(string(b"<>&"), r#""\u003c\u003e\u0026""#);
        assert_eq!(
            string("\u{2028}\u{2029}\u{2027}".as_bytes()),
            "\"\\u2028\\u2029\u{2027}\""
        );
        assert_eq!(string(b"\x00x"), r#""\u0000x""#);
        assert_eq!(string(b"a\xe2\x82b\xff"), r#""a\ufffd\ufffdb\ufffd""#);
        assert_eq!(string("\u{fffd}".as_bytes()), "\"\u{fffd}\"");
    }

    #[test]
    fn indent_option() {
        assert!(matches!(Indent::from_option(None), Ok(Indent::Tab)));
        assert!(matches!(Indent::from_option(Some(-1)), Ok(Indent::Tab)));
        assert!(matches!(
            Indent::from_option(Some(0)),
            Ok(Indent::Spaces(0))
        ));
        assert!(matches!(
            Indent::from_option(Some(3)),
            Ok(Indent::Spaces(3))
        ));
        assert_eq!(
            Indent::from_option(Some(-2)).err().as_deref(),
            Some("JSON Indentation parameter smaller than -1 is not accepted")
        );
    }
}
