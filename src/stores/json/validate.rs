//! The strict syntax check sops 3.11 applies to encrypted JSON files.
//!
//! Before walking the tokens, sops's `LoadEncryptedFile` calls
//! `json.Unmarshal` on the whole input to read the metadata, and Go checks
//! the complete text with its scanner first. So, unlike plaintext input, an
//! encrypted file must be exactly one JSON value with nothing but whitespace
//! after it, and errors carry the scanner's wording (`unexpected end of JSON
//! input`, `invalid character 'x' after top-level value`). This module is
//! that scanner: a pushdown automaton reporting the first bad byte.

use super::decode::{find_string_stop, MAX_DEPTH};
use super::go::{invalid_char, is_space, scan_number};

const UNEXPECTED_END: &str = "unexpected end of JSON input";

/// What an open container expects next (Go's `parseState`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parse {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

struct Scanner<'a> {
    buf: &'a [u8],
    pos: usize,
    stack: Vec<Parse>,
}

impl Scanner<'_> {
    /// The next non-space byte (consumed spaces only).
    fn skip_space(&mut self) -> Result<u8, String> {
        while let Some(&b) = self.buf.get(self.pos) {
            if !is_space(b) {
                return Ok(b);
            }
            self.pos += 1;
        }
        Err(UNEXPECTED_END.to_owned())
    }

    fn at(&self) -> Result<u8, String> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or_else(|| UNEXPECTED_END.to_owned())
    }

    fn push(&mut self, c: u8, p: Parse) -> Result<(), String> {
        self.stack.push(p);
        if self.stack.len() > MAX_DEPTH {
            return Err(invalid_char(c, " exceeded max depth"));
        }
        Ok(())
    }

    /// A string starting at its opening quote.
    fn string(&mut self) -> Result<(), String> {
        self.pos += 1;
        loop {
            // Skip the bytes that need no attention in one go.
            let rest = &self.buf[self.pos..];
            let n = find_string_stop(rest).unwrap_or(rest.len());
            self.pos += n;
            let b = self.at()?;
            self.pos += 1;
            match b {
                b'"' => return Ok(()),
                b'\\' => {
                    let e = self.at()?;
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            for _ in 0..4 {
                                let h = self.at()?;
                                if !h.is_ascii_hexdigit() {
                                    return Err(invalid_char(
                                        h,
                                        r" in \u hexadecimal character escape",
                                    ));
                                }
                                self.pos += 1;
                            }
                        }
                        _ => return Err(invalid_char(e, " in string escape code")),
                    }
                }
                _ => return Err(invalid_char(b, " in string literal")),
            }
        }
    }

    fn number(&mut self) -> Result<(), String> {
        self.pos = scan_number(self.buf, self.pos).map_err(|e| e.unwrap_or_else(|| UNEXPECTED_END.to_owned()))?;
        Ok(())
    }

    fn literal(&mut self, word: &str) -> Result<(), String> {
        for &expected in &word.as_bytes()[1..] {
            self.pos += 1;
            let b = self.at()?;
            if b != expected {
                let context = format!(" in literal {word} (expecting '{}')", char::from(expected));
                return Err(invalid_char(b, &context));
            }
        }
        self.pos += 1;
        Ok(())
    }

    /// Go's `stateBeginValue` at a non-space byte: a scalar is scanned
    /// whole; a container is opened. Returns whether a value is complete.
    fn begin_value(&mut self, c: u8) -> Result<bool, String> {
        match c {
            b'{' => {
                self.push(c, Parse::ObjectKey)?;
                self.pos += 1;
                // `stateBeginStringOrEmpty`
                match self.skip_space()? {
                    b'}' => {
                        self.pos += 1;
                        self.stack.pop();
                        Ok(true)
                    }
                    b'"' => self.string().map(|()| true),
                    b => Err(invalid_char(
                        b,
                        " looking for beginning of object key string",
                    )),
                }
            }
            b'[' => {
                self.push(c, Parse::ArrayValue)?;
                self.pos += 1;
                // `stateBeginValueOrEmpty`
                if self.skip_space()? == b']' {
                    self.pos += 1;
                    self.stack.pop();
                    return Ok(true);
                }
                Ok(false)
            }
            b'"' => self.string().map(|()| true),
            b'-' | b'0'..=b'9' => self.number().map(|()| true),
            b't' => self.literal("true").map(|()| true),
            b'f' => self.literal("false").map(|()| true),
            b'n' => self.literal("null").map(|()| true),
            _ => Err(invalid_char(c, " looking for beginning of value")),
        }
    }

    fn run(&mut self) -> Result<(), String> {
        'value: loop {
            let c = self.skip_space()?;
            if !self.begin_value(c)? {
                continue 'value;
            }
            // `stateEndValue`, repeated while containers close.
            loop {
                let Some(&top) = self.stack.last() else {
                    // `stateEndTop`: only whitespace may follow.
                    return match self.buf[self.pos..].iter().find(|&&b| !is_space(b)) {
                        Some(&b) => Err(invalid_char(b, " after top-level value")),
                        None => Ok(()),
                    };
                };
                let c = self.skip_space()?;
                self.pos += 1;
                match (top, c) {
                    (Parse::ObjectKey, b':') => {
                        *self.stack.last_mut().expect("non-empty") = Parse::ObjectValue;
                        continue 'value;
                    }
                    (Parse::ObjectKey, _) => return Err(invalid_char(c, " after object key")),
                    (Parse::ObjectValue, b',') => {
                        *self.stack.last_mut().expect("non-empty") = Parse::ObjectKey;
                        // `stateBeginString`
                        match self.skip_space()? {
                            b'"' => self.string()?,
                            b => {
                                return Err(invalid_char(
                                    b,
                                    " looking for beginning of object key string",
                                ))
                            }
                        }
                    }
                    (Parse::ObjectValue, b'}') | (Parse::ArrayValue, b']') => {
                        self.stack.pop();
                    }
                    (Parse::ObjectValue, _) => {
                        return Err(invalid_char(c, " after object key:value pair"))
                    }
                    (Parse::ArrayValue, b',') => continue 'value,
                    (Parse::ArrayValue, _) => return Err(invalid_char(c, " after array element")),
                }
            }
        }
    }
}

/// Go's `checkValid`: `Ok` if `input` is one JSON value followed only by
/// whitespace, else the scanner's message for the first offending byte.
pub(super) fn check_valid(input: &[u8]) -> Result<(), String> {
    Scanner {
        buf: input,
        pos: 0,
        stack: Vec::new(),
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::check_valid;

    #[test]
    fn accepts_valid_json() {
        for ok in [
            "{}",
            " {\"a\": [1, -0.5e+3, \"x\\u00e9\\n\", true, false, null, {}, []]} \r\n",
            "[]",
            "12",
            "null",
            "\"s\"",
            "[[[]]]",
        ] {
            assert_eq!(check_valid(ok.as_bytes()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn reports_like_go_scanner() {
        // Texts from sops 3.11 (`Error unmarshalling input json: …`) and
        // Go's scanner (stateBeginString and friends).
        for (bad, msg) in [
            ("", "unexpected end of JSON input"),
            ("  ", "unexpected end of JSON input"),
            ("{\"a\": 1", "unexpected end of JSON input"),
            (
                "{\"a\": 1} x",
                "invalid character 'x' after top-level value",
            ),
            ("{}{}", "invalid character '{' after top-level value"),
            (
                "{,}",
                "invalid character ',' looking for beginning of object key string",
            ),
            (
                "{\"a\": 1,}",
                "invalid character '}' looking for beginning of object key string",
            ),
            ("{\"a\" 1}", "invalid character '1' after object key"),
            (
                "{\"a\": 1 \"b\": 2}",
                "invalid character '\"' after object key:value pair",
            ),
            ("[1 2]", "invalid character '2' after array element"),
            (
                "[1,]",
                "invalid character ']' looking for beginning of value",
            ),
            ("[01]", "invalid character '1' after array element"),
            ("[-x]", "invalid character 'x' in numeric literal"),
            (
                "[1.]",
                "invalid character ']' after decimal point in numeric literal",
            ),
            (
                "[1e+]",
                "invalid character ']' in exponent of numeric literal",
            ),
            (
                "[tru]",
                "invalid character ']' in literal true (expecting 'e')",
            ),
            ("[\"\\x\"]", "invalid character 'x' in string escape code"),
            (
                "[\"\\u12g4\"]",
                r"invalid character 'g' in \u hexadecimal character escape",
            ),
            ("[\"a\tb\"]", r"invalid character '\t' in string literal"),
            (
                "\u{feff}{}",
                "invalid character 'ï' looking for beginning of value",
            ),
        ] {
            assert_eq!(check_valid(bad.as_bytes()), Err(msg.to_owned()), "{bad:?}");
        }
    }

    #[test]
    fn depth_limit_is_gos() {
        let ok = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(check_valid(ok.as_bytes()), Ok(()));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            check_valid(deep.as_bytes()),
            Err("invalid character '[' exceeded max depth".to_owned())
        );
    }
}
