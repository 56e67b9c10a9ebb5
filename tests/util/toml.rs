//! A reader for the flat TOML subset our sidecars use: `key = value` lines
//! with basic strings, string arrays, integers and booleans; `#` comments.
//!
//! The sidecars (`testdata/vectors/*/case.toml`, `tests/cmd/*.toml`) never
//! need tables or multi-line values, and a full TOML crate is not worth a
//! dependency for that. Anything outside the subset is an error, so a
//! hand-edited sidecar cannot be silently misread.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
}

/// One parsed file: keys to values, with typed getters that name the file
/// and key in their panics.
#[derive(Debug)]
pub(crate) struct Table {
    origin: String,
    values: BTreeMap<String, Value>,
}

impl Table {
    pub(crate) fn parse(origin: &str, text: &str) -> Result<Table, String> {
        let mut values = BTreeMap::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line
                .split_once('=')
                .ok_or_else(|| format!("{origin}:{}: expected `key = value`", n + 1))?;
            let key = key.trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("{origin}:{}: bad key {key:?}", n + 1));
            }
            let mut p = Parser {
                s: rest.trim().as_bytes(),
                i: 0,
            };
            let value = p.value().map_err(|e| format!("{origin}:{}: {e}", n + 1))?;
            p.skip_ws();
            if p.i < p.s.len() && p.s[p.i] != b'#' {
                return Err(format!(
                    "{origin}:{}: trailing characters after the value",
                    n + 1
                ));
            }
            if values.insert(key.to_owned(), value).is_some() {
                return Err(format!("{origin}:{}: duplicate key {key}", n + 1));
            }
        }
        Ok(Table {
            origin: origin.to_owned(),
            values,
        })
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    pub(crate) fn opt_str(&self, key: &str) -> Option<String> {
        match self.values.get(key) {
            None => None,
            Some(Value::Str(s)) => Some(s.clone()),
            Some(other) => panic!("{}: {key} must be a string, is {other:?}", self.origin),
        }
    }

    pub(crate) fn str(&self, key: &str) -> String {
        self.opt_str(key).unwrap_or_default()
    }

    pub(crate) fn list(&self, key: &str) -> Vec<String> {
        match self.values.get(key) {
            None => Vec::new(),
            Some(Value::List(l)) => l.clone(),
            Some(other) => panic!(
                "{}: {key} must be a list of strings, is {other:?}",
                self.origin
            ),
        }
    }

    pub(crate) fn opt_int(&self, key: &str) -> Option<i64> {
        match self.values.get(key) {
            None => None,
            Some(Value::Int(i)) => Some(*i),
            Some(other) => panic!("{}: {key} must be an integer, is {other:?}", self.origin),
        }
    }

    pub(crate) fn bool(&self, key: &str, default: bool) -> bool {
        match self.values.get(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(other) => panic!("{}: {key} must be a boolean, is {other:?}", self.origin),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t') {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        match self.s.get(self.i) {
            Some(b'"') => self.string().map(Value::Str),
            Some(b'[') => self.list().map(Value::List),
            Some(_) => {
                let start = self.i;
                while self.i < self.s.len() && !matches!(self.s[self.i], b' ' | b'\t' | b'#') {
                    self.i += 1;
                }
                let word =
                    std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
                match word {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    _ => word
                        .parse()
                        .map(Value::Int)
                        .map_err(|_| format!("unsupported value {word:?}")),
                }
            }
            None => Err("missing value".to_owned()),
        }
    }

    fn list(&mut self) -> Result<Vec<String>, String> {
        self.i += 1; // [
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            match self.s.get(self.i) {
                Some(b']') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'"') => out.push(self.string()?),
                _ => return Err("lists may hold only strings".to_owned()),
            }
            self.skip_ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {}
                _ => return Err("expected `,` or `]` in a list".to_owned()),
            }
        }
    }

    /// A TOML basic string: `"` ... `"` with `\" \\ \n \t \r \b \f \e \uXXXX \UXXXXXXXX`.
    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err("unterminated string".to_owned());
            };
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        return Err("unterminated escape".to_owned());
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'e' => '\u{1b}',
                        b'u' => self.hex(4)?,
                        b'U' => self.hex(8)?,
                        other => return Err(format!("unknown escape \\{}", other as char)),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(c),
            }
        }
    }

    fn hex(&mut self, n: usize) -> Result<char, String> {
        let digits = self.s.get(self.i..self.i + n).ok_or("short \\u escape")?;
        self.i += n;
        let text = std::str::from_utf8(digits).map_err(|e| e.to_string())?;
        let code = u32::from_str_radix(text, 16).map_err(|e| e.to_string())?;
        char::from_u32(code).ok_or_else(|| format!("invalid code point {code:x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::{Table, Value};

    #[test]
    fn parses_the_subset() {
        let t = Table::parse(
            "t",
            "# c\na = \"x \\\"q\\\" \\\\ \\n \\u00e9\"\nb = [\"1\", \"2\"]\nc = -3\nd = true # note\ne = []\n",
        )
        .unwrap();
        assert_eq!(t.str("a"), "x \"q\" \\ \n é");
        assert_eq!(t.list("b"), vec!["1", "2"]);
        assert_eq!(t.opt_int("c"), Some(-3));
        assert!(t.bool("d", false));
        assert_eq!(t.values.get("e"), Some(&Value::List(vec![])));
        assert!(!t.has("zzz"));
    }

    #[test]
    fn rejects_what_it_does_not_know() {
        assert!(Table::parse("t", "[table]\n").is_err());
        assert!(Table::parse("t", "a = 1.5\n").is_err());
        assert!(Table::parse("t", "a = \"open\n").is_err());
        assert!(Table::parse("t", "a = 1\na = 2\n").is_err());
        assert!(Table::parse("t", "a = [1]\n").is_err());
        assert!(Table::parse("t", "a = \"x\" y\n").is_err());
    }
}
