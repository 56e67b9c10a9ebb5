//! `set` and `unset`: change one value of an encrypted file by its path
//! (cli.md §4.6, §4.7, legacy `--set` §4.1 step 8).
//!
//! The file is decrypted with an IV cache, the first document changed, and
//! the tree encrypted again with the same data key: only the touched values
//! get new ciphertext (format.md §2.6); `lastmodified` and the MAC are new,
//! `version` is kept (§5.4, §6.6). This module also owns the conversion of
//! the JSON value text into a tree value, sops's `jsonValueToTreeInsertableValue`.
//! Reading the value (argument, file, stdin) is the command line's job.

use std::path::{Path, PathBuf};

use super::{decrypt_tree, emit_opened, open_encrypted, reseal, Opened, Outcome};
use crate::context::Context;
use crate::crypt::DataKey;
use crate::error::Error;
use crate::io::{read_input, Input};
use crate::keys::KeyKind;
use crate::stores::{store_for, Format, StoreOptions};
use crate::tree::path::Component;
use crate::tree::{walk, Branch, Item, Value};

/// Everything `set` needs.
pub struct SetRequest {
    /// Absolute path of the file, rewritten in place.
    pub path: PathBuf,
    pub input_format: Format,
    pub output_format: Format,
    pub output_options: StoreOptions,
    pub tree_path: Vec<Component>,
    pub value: Value,
    pub ignore_mac: bool,
    pub decryption_order: Vec<KeyKind>,
    /// Skip the write when nothing changed (`--idempotent`).
    pub idempotent: bool,
}

/// Everything `unset` needs.
pub struct UnsetRequest {
    pub path: PathBuf,
    pub input_format: Format,
    pub output_format: Format,
    pub output_options: StoreOptions,
    pub tree_path: Vec<Component>,
    pub ignore_mac: bool,
    pub decryption_order: Vec<KeyKind>,
    /// A missing key or index is success without a write.
    pub idempotent: bool,
}

/// Runs `set`: the new file's bytes, or `None` when `--idempotent` found
/// nothing to change (nothing is written then, cli.md §4.6 step 9).
pub fn run_set(req: &SetRequest, ctx: &Context) -> Result<Option<Outcome>, Error> {
    let mut file = Decrypted::open(&req.path, req.input_format, req.ignore_mac, &req.decryption_order, ctx)?;
    let changed = match file.opened.docs.first_mut() {
        Some(doc) => set(doc, &req.tree_path, req.value.clone())?,
        None => false,
    };
    if req.idempotent && !changed {
        return Ok(None);
    }
    file.reseal(req.output_format, req.output_options).map(Some)
}

/// Runs `unset`: the new file's bytes, or `None` when `--idempotent` turned
/// a missing key into success (cli.md §4.7).
pub fn run_unset(req: &UnsetRequest, ctx: &Context) -> Result<Option<Outcome>, Error> {
    let mut file = Decrypted::open(&req.path, req.input_format, req.ignore_mac, &req.decryption_order, ctx)?;
    let mut none = Branch::new();
    let result = unset(file.opened.docs.first_mut().unwrap_or(&mut none), &req.tree_path);
    match result {
        Ok(()) => {}
        Err(UnsetError::NotFound(_)) if req.idempotent => return Ok(None),
        Err(UnsetError::NotFound(m) | UnsetError::Other(m)) => return Err(Error::Generic(m)),
    }
    file.reseal(req.output_format, req.output_options).map(Some)
}

/// An encrypted file opened and decrypted with an IV cache, so that
/// re-encrypting it gives new ciphertext only to the values a change
/// touched (format.md §2.6).
struct Decrypted {
    opened: Opened,
    key: DataKey,
    ivs: walk::IvCache,
    warnings: Vec<String>,
}

impl Decrypted {
    fn open(path: &Path, format: Format, ignore_mac: bool, order: &[KeyKind], ctx: &Context) -> Result<Decrypted, Error> {
        let bytes = read_input(&Input::File(path.to_path_buf()))?;
        let mut opened = open_encrypted(&bytes, format, StoreOptions::default())?;
        drop(bytes);
        crate::keys::aws_kms::context_bug::repair_if_needed(&mut opened, Some(path), format, ignore_mac, ctx)?;
        let mut ivs = walk::IvCache::default();
        let (key, warnings) = decrypt_tree(&mut opened, order, ignore_mac, ctx, Some(&mut ivs))?;
        Ok(Decrypted { opened, key, ivs, warnings })
    }

    /// Encrypts the changed tree again with the same data key and emits it.
    fn reseal(mut self, format: Format, options: StoreOptions) -> Result<Outcome, Error> {
        reseal(&mut self.opened, &self.key, Some(&self.ivs))?;
        let bytes = emit_opened(self.opened, format, options)?;
        Ok(Outcome { bytes, warnings: self.warnings })
    }
}

// ---------------------------------------------------------------------------
// The value

/// Turns the value text of `set`/`--set` into a tree value as sops does:
/// it must be JSON (`Value for --set is not valid JSON`); a number becomes a
/// float (cli.md §13.16), an object is parsed again by the JSON store (order
/// kept) and an array, which that store refuses at the top level, is
/// `Invalid --set value format`. Both exit 7.
pub fn value_from_json(text: &[u8]) -> Result<Value, Error> {
    const NOT_JSON: Error = Error::InvalidSet("Value for --set is not valid JSON");
    let mut p = JsonScan { s: text, i: 0, depth: 0 };
    p.skip_ws();
    let start = p.i;
    let value = p.value().ok_or(NOT_JSON)?;
    p.skip_ws();
    if p.i != text.len() {
        return Err(NOT_JSON);
    }
    match text[start] {
        b'{' | b'[' => {
            let docs = store_for(Format::Json, StoreOptions::default())
                .load_plain(text)
                .map_err(|_| Error::InvalidSet("Invalid --set value format"))?;
            Ok(Value::Map(docs.into_iter().next().unwrap_or_default()))
        }
        _ => Ok(value),
    }
}

/// Go `encoding/json` validity and scalar decoding: whitespace, nesting up
/// to 10000, numbers as float64 (out of range is an error), strings with
/// invalid UTF-8 and lone surrogates replaced by U+FFFD. Containers are only
/// checked here; their values come from the JSON store.
struct JsonScan<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl JsonScan<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'{' => self.container(b'}', true),
            b'[' => self.container(b']', false),
            b'"' => self.string().map(Value::Str),
            b't' => self.eat(b"true").then_some(Value::Bool(true)),
            b'f' => self.eat(b"false").then_some(Value::Bool(false)),
            b'n' => self.eat(b"null").then_some(Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn container(&mut self, close: u8, object: bool) -> Option<Value> {
        self.depth += 1;
        if self.depth > 10_000 {
            return None;
        }
        self.i += 1;
        self.skip_ws();
        if self.peek()? == close {
            self.i += 1;
            self.depth -= 1;
            return Some(Value::Null);
        }
        loop {
            if object {
                if self.peek()? != b'"' {
                    return None;
                }
                self.string()?;
                self.skip_ws();
                if self.peek()? != b':' {
                    return None;
                }
                self.i += 1;
                self.skip_ws();
            }
            self.value()?;
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.skip_ws();
                }
                c if c == close => {
                    self.i += 1;
                    self.depth -= 1;
                    return Some(Value::Null);
                }
                _ => return None,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        // Go's ParseFloat fails on overflow; json.Unmarshal reports it.
        let f: f64 = text.parse().ok()?;
        f.is_finite().then_some(Value::Float(f))
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        self.i += 4;
        Some(v)
    }

    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let c = self.peek()?;
            match c {
                b'"' => {
                    self.i += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.i += 1;
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let u = self.hex4()?;
                            if (0xD800..0xDC00).contains(&u) && self.s[self.i..].starts_with(b"\\u") {
                                let save = self.i;
                                self.i += 2;
                                match self.hex4() {
                                    Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                                        let cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                                        out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                                        continue;
                                    }
                                    Some(_) => self.i = save,
                                    None => return None,
                                }
                            }
                            out.push(char::from_u32(u).unwrap_or('\u{FFFD}'));
                        }
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => {
                    // One UTF-8 sequence, or U+FFFD for each invalid byte.
                    let rest = &self.s[self.i..];
                    let len = match c {
                        0xC2..=0xDF => 2,
                        0xE0..=0xEF => 3,
                        0xF0..=0xF4 => 4,
                        _ => 1,
                    };
                    if let Some(ch) = rest.get(..len).and_then(|b| std::str::from_utf8(b).ok()) {
                        out.push_str(ch);
                        self.i += len;
                    } else {
                        out.push('\u{FFFD}');
                        self.i += 1;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The tree

/// sops's `TreeBranch.Set` (cli.md §4.6 step 6): replaces or creates the
/// value at `path` in a document and says whether the stored value changed
/// (deep comparison; an `int` and a `float` are never equal).
///
/// sops panics on an empty path and on a key used on a list (§13.18); both
/// are errors here.
pub fn set(doc: &mut Branch, path: &[Component], value: Value) -> Result<bool, Error> {
    if path.is_empty() {
        return Err(Error::InvalidSet("Invalid set index format"));
    }
    set_in_map(doc, path, value)
}

fn set_in_map(items: &mut Vec<Item>, path: &[Component], value: Value) -> Result<bool, Error> {
    let Component::Key(key) = &path[0] else {
        // An index never names a mapping entry: nothing is set, yet sops
        // counts it as a change (cli.md §13.18).
        return Ok(true);
    };
    for item in items.iter_mut() {
        if let Item::Pair(k, v) = item {
            if k == key {
                if path.len() == 1 {
                    let changed = *v != value;
                    *v = value;
                    return Ok(changed);
                }
                return set_in_value(v, &path[1..], value);
            }
        }
    }
    // Not there: a new entry at the end, with whatever the rest of the path needs.
    items.push(Item::Pair(key.clone(), from_path(&path[1..], value)));
    Ok(true)
}

fn set_in_value(node: &mut Value, path: &[Component], value: Value) -> Result<bool, Error> {
    match node {
        Value::Map(items) => set_in_map(items, path, value),
        Value::Seq(list) => {
            let pos = match &path[0] {
                Component::Index(i) => *i,
                Component::Key(k) => return Err(key_on_list(k)),
            };
            if pos >= list.len() {
                // Past the end appends, without padding.
                list.push(from_path(&path[1..], value));
                return Ok(true);
            }
            if path.len() == 1 {
                let changed = list[pos] != value;
                list[pos] = value;
                Ok(changed)
            } else {
                set_in_value(&mut list[pos], &path[1..], value)
            }
        }
        scalar => {
            let new = from_path(path, value);
            let changed = *scalar != new;
            *scalar = new;
            Ok(changed)
        }
    }
}

fn key_on_list(key: &str) -> Error {
    Error::Generic(format!("component ['{key}'] is a string, but tree part is a slice"))
}

/// The structure `path` describes around `leaf` (sops's `valueFromPathAndLeaf`).
fn from_path(path: &[Component], leaf: Value) -> Value {
    match path.split_first() {
        None => leaf,
        Some((Component::Index(_), rest)) => Value::Seq(vec![from_path(rest, leaf)]),
        Some((Component::Key(k), rest)) => Value::Map(vec![Item::Pair(k.clone(), from_path(rest, leaf))]),
    }
}

/// Why `unset` failed: `NotFound` is what `--idempotent` forgives.
#[derive(Debug, PartialEq, Eq)]
pub enum UnsetError {
    NotFound(String),
    Other(String),
}

/// sops's `TreeBranch.Unset` (cli.md §4.7), with its messages.
pub fn unset(doc: &mut Branch, path: &[Component]) -> Result<(), UnsetError> {
    if path.is_empty() {
        return Err(UnsetError::Other("Invalid unset index format".to_owned()));
    }
    unset_in_map(doc, path)
}

/// Go's `%s` of a path component.
fn component_text(c: &Component) -> String {
    match c {
        Component::Key(k) => k.clone(),
        Component::Index(i) => format!("%!s(int={i})"),
    }
}

fn not_found_in_map(c: &Component) -> String {
    format!("Key not found: {}", component_text(c))
}

fn unset_in_map(items: &mut Vec<Item>, path: &[Component]) -> Result<(), UnsetError> {
    if let Component::Key(key) = &path[0] {
        let found = items.iter().position(|i| matches!(i, Item::Pair(k, _) if k == key));
        if let Some(at) = found {
            if path.len() == 1 {
                items.remove(at);
                return Ok(());
            }
            if let Item::Pair(_, v) = &mut items[at] {
                return unset_in_value(v, &path[1..]);
            }
        }
    }
    Err(UnsetError::NotFound(not_found_in_map(&path[0])))
}

fn unset_in_value(node: &mut Value, path: &[Component]) -> Result<(), UnsetError> {
    match node {
        Value::Map(items) => unset_in_map(items, path),
        Value::Seq(list) => {
            let pos = match &path[0] {
                Component::Index(i) => *i,
                Component::Key(k) => return Err(UnsetError::Other(key_on_list(k).to_string())),
            };
            if pos >= list.len() {
                return Err(UnsetError::NotFound(format!("Index {pos} out of bounds")));
            }
            if path.len() == 1 {
                list.remove(pos);
                Ok(())
            } else {
                unset_in_value(&mut list[pos], &path[1..])
            }
        }
        leaf => Err(UnsetError::Other(format!(
            "Unsupported type: {} for item '{}'",
            leaf.go_type(),
            component_text(&path[0])
        ))),
    }
}

/// Splits the legacy `--set '<path> <json>'` value (cli.md §4.1 step 8):
/// after the first `] `, the path part losing trailing spaces.
pub fn split_legacy_set(arg: &str) -> Result<(&str, &str), Error> {
    let at = arg.find("] ").ok_or(Error::InvalidSet("Invalid --set format"))?;
    Ok((arg[..=at].trim_end_matches(' '), &arg[at + 2..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::path::parse;

    fn p(s: &str) -> Vec<Component> {
        parse(s).unwrap()
    }

    fn doc() -> Branch {
        vec![
            Item::pair("a", Value::Int(1)),
            Item::Comment(" c".into()),
            Item::pair("l", Value::Seq(vec![Value::Str("x".into()), Value::Str("y".into())])),
            Item::pair("m", Value::Map(vec![Item::pair("k", Value::Str("v".into()))])),
        ]
    }

    #[test]
    fn json_values_follow_encoding_json() {
        assert!(value_from_json(b"8080").unwrap() == Value::Float(8080.0));
        assert!(value_from_json(b" \"x\" ").unwrap() == Value::Str("x".into()));
        assert!(value_from_json(b"null").unwrap() == Value::Null);
        assert!(value_from_json(b"true").unwrap() == Value::Bool(true));
        assert!(value_from_json(br#""\ud83d\ude00\ud800""#).unwrap() == Value::Str("\u{1F600}\u{FFFD}".into()));
        assert!(value_from_json(b"\"a\xffb\"").unwrap() == Value::Str("a\u{FFFD}b".into()));
        let not_json = "Value for --set is not valid JSON";
        for bad in [&b"abc"[..], b"", b"1e400", b"01", b"1.", b"[1,2", b"{\"a\":1,}", b"\"\x01\"", b"1 2", b"\"\\x\""] {
            assert_eq!(value_from_json(bad).unwrap_err().to_string(), not_json, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(value_from_json(b"[1, 2]").unwrap_err().to_string(), "Invalid --set value format");
        assert_eq!(value_from_json(b"[1, 2]").unwrap_err().exit_code(), 7);
    }

    #[test]
    fn json_objects_keep_their_order() {
        let v = value_from_json(br#"{"user": "u", "pass": "p", "ports": [1, 2]}"#).unwrap();
        let Value::Map(items) = v else { panic!("not a map") };
        let keys: Vec<&str> = items
            .iter()
            .filter_map(|i| match i {
                Item::Pair(k, _) => Some(k.as_str()),
                Item::Comment(_) => None,
            })
            .collect();
        assert_eq!(keys, ["user", "pass", "ports"]);
        assert!(value_from_json(b"{}").unwrap() == Value::Map(Vec::new()));
    }

    #[test]
    fn set_replaces_appends_and_builds() {
        let mut d = doc();
        assert!(set(&mut d, &p(r#"["a"]"#), Value::Float(1.0)).unwrap(), "int 1 and float 1 differ");
        assert!(!set(&mut d, &p(r#"["m"]["k"]"#), Value::Str("v".into())).unwrap());
        assert!(set(&mut d, &p(r#"["l"][7]"#), Value::Null).unwrap());
        assert!(matches!(&d[2], Item::Pair(_, Value::Seq(l)) if l.len() == 3));
        assert!(set(&mut d, &p(r#"["n"][2]["z"][0]"#), Value::Str("v".into())).unwrap());
        let want = Value::Seq(vec![Value::Map(vec![Item::pair("z", Value::Seq(vec![Value::Str("v".into())]))])]);
        assert!(d.last().unwrap() == &Item::pair("n", want));
        // A scalar on the way is replaced by the structure.
        assert!(set(&mut d, &p(r#"["a"]["x"]"#), Value::Bool(true)).unwrap());
        assert!(d[0] == Item::pair("a", Value::Map(vec![Item::pair("x", Value::Bool(true))])));
        // An index on a mapping does nothing but counts as a change.
        let before = d.clone();
        assert!(set(&mut d, &p("[0]"), Value::Null).unwrap());
        assert!(d == before);
        assert!(set(&mut d, &p(r#"["l"]["k"]"#), Value::Null).is_err());
        assert_eq!(set(&mut d, &[], Value::Null).unwrap_err().exit_code(), 7);
    }

    #[test]
    fn unset_messages_are_sops_texts() {
        let mut d = doc();
        assert_eq!(unset(&mut d, &p(r#"["zz"]"#)), Err(UnsetError::NotFound("Key not found: zz".into())));
        assert_eq!(unset(&mut d, &p("[0]")), Err(UnsetError::NotFound("Key not found: %!s(int=0)".into())));
        assert_eq!(unset(&mut d, &p(r#"["l"][5]"#)), Err(UnsetError::NotFound("Index 5 out of bounds".into())));
        assert_eq!(
            unset(&mut d, &p(r#"["m"]["k"]["b"]"#)),
            Err(UnsetError::Other("Unsupported type: string for item 'b'".into()))
        );
        unset(&mut d, &p(r#"["l"][0]"#)).unwrap();
        unset(&mut d, &p(r#"["m"]["k"]"#)).unwrap();
        unset(&mut d, &p(r#"["a"]"#)).unwrap();
        assert!(d[0] == Item::Comment(" c".into()));
        assert!(d[1] == Item::pair("l", Value::Seq(vec![Value::Str("y".into())])));
        assert!(d[2] == Item::pair("m", Value::Map(Vec::new())));
    }

    #[test]
    fn legacy_set_splits_after_the_first_bracket_space() {
        assert_eq!(split_legacy_set(r#"["a"]["b"]   {"x": 1}"#).unwrap(), (r#"["a"]["b"]"#, r#"  {"x": 1}"#));
        assert_eq!(split_legacy_set(r#"["a"] "] x""#).unwrap(), (r#"["a"]"#, r#""] x""#));
        assert_eq!(split_legacy_set(r#"["a"]{"x":1}"#).unwrap_err().to_string(), "Invalid --set format");
    }
}
