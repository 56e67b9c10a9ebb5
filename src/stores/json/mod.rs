//! The JSON store: sops 3.11's reading and writing of JSON, byte for byte.
//!
//! Reading follows sops's walk over Go's token stream (`decode`): duplicate
//! keys and order are kept, every number is a float64, bytes after the
//! top-level object are ignored, and a truncated file may still load
//! (format.md §8.2.1). Encrypted files are first checked whole by Go's
//! scanner (`validate`), as sops's metadata unmarshalling does. Writing
//! (`encode`) reproduces `json.Indent` output with Go's string escaping and
//! float forms (§8.2.2). Metadata is an ordinary `sops` entry here; this
//! store never interprets it.

mod decode;
mod encode;
mod go;
mod validate;

use super::{Store, StoreError, StoreOptions, StoreResult};
use crate::tree::{Branch, Item, Value};

/// The JSON store, also the envelope of the binary store.
pub struct JsonStore {
    options: StoreOptions,
    binary: bool,
}

impl JsonStore {
    /// `binary`: the store writes a binary file's envelope, so `options`
    /// come from the `json_binary` settings; the layout is the same.
    pub fn new(options: StoreOptions, binary: bool) -> Self {
        Self { options, binary }
    }

    /// Whether this store was made for the binary format's envelope.
    pub fn is_binary(&self) -> bool {
        self.binary
    }
}

/// `json: cannot unmarshal <kind> into Go value of type stores.SopsFile`:
/// the kind of a non-object top-level value, by its first byte.
fn go_kind(first: u8) -> &'static str {
    match first {
        b'[' => "array",
        b'"' => "string",
        b't' | b'f' => "bool",
        _ => "number",
    }
}

/// Whether Go's `json.Unmarshal` would find metadata: the last top-level
/// key matching `sops` (Go matches field names ignoring case) is not null.
fn has_metadata(items: &[Item]) -> bool {
    items
        .iter()
        .rev()
        .find_map(|item| match item {
            Item::Pair(k, v) if k.eq_ignore_ascii_case("sops") => Some(!matches!(v, Value::Null)),
            _ => None,
        })
        .unwrap_or(false)
}

impl Store for JsonStore {
    fn load_plain(&self, input: &[u8]) -> StoreResult<Vec<Branch>> {
        match decode::parse_document(input) {
            Ok(branch) => Ok(vec![branch]),
            Err(e) => Err(StoreError(format!("Could not unmarshal input data: {e}"))),
        }
    }

    fn load_encrypted(&self, input: &[u8]) -> StoreResult<Vec<Branch>> {
        validate::check_valid(input)
            .map_err(|e| StoreError(format!("Error unmarshalling input json: {e}")))?;
        // Valid JSON has a first non-space byte.
        let first = input
            .iter()
            .copied()
            .find(|&b| !go::is_space(b))
            .unwrap_or(b'{');
        match first {
            b'{' => {}
            // Unmarshalling `null` leaves the metadata unset: an empty tree
            // makes the caller report `sops metadata not found` as sops does.
            b'n' => return Ok(vec![Vec::new()]),
            other => {
                return Err(StoreError(format!(
                    "Error unmarshalling input json: json: cannot unmarshal {} into Go value of type stores.SopsFile",
                    go_kind(other)
                )))
            }
        }
        match decode::parse_document(input) {
            Ok(branch) => Ok(vec![branch]),
            Err(e) => {
                // After the scanner's check only a number beyond float64 can
                // fail here. sops reads the metadata before the tree, so
                // without metadata it reports the missing metadata instead.
                match decode::parse_document_lenient(input) {
                    Ok(branch) if !has_metadata(&branch) => Ok(vec![branch]),
                    _ => Err(StoreError(format!("Could not unmarshal input data: {e}"))),
                }
            }
        }
    }

    fn emit(&self, docs: &[Branch]) -> StoreResult<Vec<u8>> {
        // JSON holds one document: sops writes the first (§8.2.2).
        let first = docs.first().map_or(&[][..], Vec::as_slice);
        let mut out = encode::encode_map(first, self.options.indent)
            .map_err(|e| StoreError(format!("Error marshaling to json: {e}")))?;
        out.push(b'\n');
        Ok(out)
    }

    fn emit_value(&self, value: &Value) -> StoreResult<Vec<u8>> {
        encode::encode(value, self.options.indent).map_err(StoreError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn store(indent: Option<i64>) -> JsonStore {
        JsonStore::new(StoreOptions { indent }, false)
    }

    fn vectors(dir: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/json")
            .join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
    }

    fn read_text(path: &Path) -> Option<String> {
        std::fs::read(path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn show(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    /// Every `plain/` vector: `load_plain` + `emit` equals sops's decrypted
    /// output at each recorded indent, or fails with sops's message.
    #[test]
    fn plain_vectors_match_sops() {
        let mut failures = Vec::new();
        let mut checked = 0;
        for input_path in vectors("plain") {
            let input = std::fs::read(&input_path).expect("vector");
            let name = input_path.display().to_string();
            if let Some(expected) = read_text(&input_path.with_extension("err")) {
                checked += 1;
                match store(None).load_plain(&input) {
                    Err(StoreError(got)) if got == expected => {}
                    Err(StoreError(got)) => {
                        failures.push(format!("{name}: error {got:?}, sops: {expected:?}"));
                    }
                    Ok(_) => failures.push(format!("{name}: loaded, sops: {expected:?}")),
                }
                continue;
            }
            for (ext, indent) in [
                ("out", None),
                ("out0", Some(0)),
                ("out2", Some(2)),
                ("out3", Some(3)),
            ] {
                let Ok(expected) = std::fs::read(input_path.with_extension(ext)) else {
                    continue;
                };
                checked += 1;
                let store = store(indent);
                match store.load_plain(&input).and_then(|docs| store.emit(&docs)) {
                    Ok(got) if got == expected => {}
                    Ok(got) => failures.push(format!(
                        "{name} ({ext}):\n{}\nsops:\n{}",
                        show(&got),
                        show(&expected)
                    )),
                    Err(e) => failures.push(format!("{name} ({ext}): {e}")),
                }
            }
        }
        assert!(checked > 100, "only {checked} plain vectors found");
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    /// Every `encrypted/` vector: `load_encrypted` + `emit` reproduces the file
    /// sops wrote, metadata layout included, or fails as sops decrypt does.
    #[test]
    fn encrypted_vectors_round_trip() {
        let mut failures = Vec::new();
        let mut checked = 0;
        for path in vectors("encrypted") {
            checked += 1;
            let input = std::fs::read(&path).expect("vector");
            let name = path.display().to_string();
            if let Some(expected) = read_text(&path.with_extension("err")) {
                match store(None).load_encrypted(&input) {
                    Err(StoreError(got)) if got == expected => {}
                    Err(StoreError(got)) => {
                        failures.push(format!("{name}: error {got:?}, sops: {expected:?}"));
                    }
                    Ok(_) => failures.push(format!("{name}: loaded, sops: {expected:?}")),
                }
                continue;
            }
            // `NAME.iN.json` was written with indent N.
            let indent = path
                .file_stem()
                .and_then(|s| Path::new(s).extension())
                .and_then(|e| e.to_str()?.strip_prefix('i')?.parse().ok());
            let store = store(indent);
            match store
                .load_encrypted(&input)
                .and_then(|docs| store.emit(&docs))
            {
                Ok(got) if got == input => {}
                Ok(got) => failures.push(format!("{name}:\n{}", show(&got))),
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
        assert!(checked > 20, "only {checked} encrypted vectors found");
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    fn load(json: &str) -> Vec<Item> {
        let mut docs = store(None).load_plain(json.as_bytes()).expect("loads");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    fn emit_str(items: Vec<Item>, indent: Option<i64>) -> Result<String, String> {
        store(indent)
            .emit(&[items])
            .map(|b| show(&b))
            .map_err(|e| e.0)
    }

    fn pair(k: &str, v: Value) -> Item {
        Item::pair(k, v)
    }

    #[test]
    fn keeps_duplicate_keys_in_order_and_reads_numbers_as_floats() {
        let items = load(r#"{"b": 8080, "a": "x", "b": [1.5, -0], "a": {"c": null}}"#);
        let expected = vec![
            pair("b", Value::Float(8080.0)),
            pair("a", Value::Str("x".into())),
            pair("b", Value::Seq(vec![Value::Float(1.5), Value::Float(-0.0)])),
            pair("a", Value::Map(vec![pair("c", Value::Null)])),
        ];
        assert_eq!(items, expected);
        let Item::Pair(_, Value::Seq(seq)) = &items[2] else {
            unreachable!()
        };
        assert!(matches!(seq[1], Value::Float(z) if z.is_sign_negative()));
    }

    #[test]
    fn truncated_input_loads_like_sops() {
        // sops's walk swallows io.EOF in an object's value position and
        // inside arrays (observed with 3.11, format.md §8.2.1).
        assert_eq!(load(r#"{"a": 1, "b""#), vec![pair("a", Value::Float(1.0))]);
        assert_eq!(
            load(r#"{"a": 1, "b": [[], {"c": [{}"#),
            vec![pair("a", Value::Float(1.0))]
        );
        assert_eq!(load(r#"{"a": [[1, [2"#), vec![]);
        assert_eq!(
            load(r#"{"a": 1} trailing [ garbage"#),
            vec![pair("a", Value::Float(1.0))]
        );
        let err = store(None).load_plain(br#"{"a": {"b": 1"#).unwrap_err();
        assert_eq!(err.0, "Could not unmarshal input data: Expected JSON object key, got %!s(<nil>) of type <nil> instead");
    }

    #[test]
    fn strings_decode_like_go() {
        let items = load(r#"{"s": "\ud83d\ude00|\ud83dx|\ude00|\ud83d\u0041|\u00e9\/\b"}"#);
        assert_eq!(
            items,
            vec![pair(
                "s",
                Value::Str("😀|\u{fffd}x|\u{fffd}|\u{fffd}A|é/\u{8}".into())
            )]
        );
        let items = store(None)
            .load_plain(b"{\"k\xff\": \"x\xe2\x82y\"}")
            .unwrap()
            .remove(0);
        assert_eq!(
            items,
            vec![pair("k\u{fffd}", Value::Str("x\u{fffd}\u{fffd}y".into()))]
        );
    }

    #[test]
    fn top_level_string_is_not_echoed() {
        // sops prints the string (`got "secret" of type string`); rsops
        // keeps plaintext out of messages.
        let err = store(None).load_plain(br#""hunter2""#).unwrap_err();
        assert_eq!(err.0, "Could not unmarshal input data: Expected JSON object start, got a string of type string instead");
        let err = store(None).load_plain(b"1e6").unwrap_err();
        assert_eq!(err.0, "Could not unmarshal input data: Expected JSON object start, got 1e+06 of type float64 instead");
    }

    #[test]
    fn encrypted_load_is_strict_and_keeps_metadata() {
        let file = br#"{"a": "ENC[x]", "sops": {"shamir_threshold": 2, "age": null}}"#;
        let docs = store(None).load_encrypted(file).unwrap();
        assert_eq!(
            docs,
            vec![vec![
                pair("a", Value::Str("ENC[x]".into())),
                pair(
                    "sops",
                    Value::Map(vec![
                        pair("shamir_threshold", Value::Float(2.0)),
                        pair("age", Value::Null)
                    ])
                ),
            ]]
        );
        // Whitespace may follow, nothing else.
        let mut spaced = file.to_vec();
        spaced.extend_from_slice(b" \r\n\t");
        assert_eq!(store(None).load_encrypted(&spaced).unwrap(), docs);
        // `null` and a tree without metadata load; the caller reports the
        // missing metadata as sops does.
        assert_eq!(store(None).load_encrypted(b"null").unwrap(), vec![vec![]]);
        assert_eq!(
            store(None).load_encrypted(br#"{"a": 1e400}"#).unwrap(),
            vec![vec![pair("a", Value::Float(f64::INFINITY))]]
        );
    }

    #[test]
    fn emits_go_json_layout() {
        let items = vec![
            Item::Comment(" dropped".into()),
            pair("i", Value::Int(-42)),
            pair("f", Value::Float(1e21)),
            pair("small", Value::Float(1e-7)),
            pair("t", Value::Time("2024-01-02T03:04:05.5Z".into())),
            pair("bytes", Value::Bytes(b"a\xffb<".to_vec())),
            pair(
                "seq",
                Value::Seq(vec![
                    Value::Comment(" c".into()),
                    Value::Bool(true),
                    Value::Null,
                ]),
            ),
            pair(
                "only_comments",
                Value::Seq(vec![Value::Comment(" c".into())]),
            ),
            pair("m", Value::Map(vec![Item::Comment(" c".into())])),
        ];
        let expected = "{\n\t\"i\": -42,\n\t\"f\": 1e+21,\n\t\"small\": 1e-7,\n\t\"t\": \"2024-01-02T03:04:05.5Z\",\n\t\"bytes\": \"a\\ufffdb\\u003c\",\n\t\"seq\": [\n\t\ttrue,\n\t\tnull\n\t],\n\t\"only_comments\": [],\n\t\"m\": {}\n}\n";
        assert_eq!(emit_str(items, None).unwrap(), expected);
        assert_eq!(emit_str(vec![], Some(4)).unwrap(), "{}\n");
    }

    #[test]
    fn emits_only_the_first_document() {
        let docs = vec![
            vec![pair("a", Value::Int(1))],
            vec![pair("b", Value::Int(2))],
        ];
        assert_eq!(
            show(&store(None).emit(&docs).unwrap()),
            "{\n\t\"a\": 1\n}\n"
        );
        assert_eq!(show(&store(None).emit(&[]).unwrap()), "{}\n");
    }

    #[test]
    fn emit_errors_match_sops() {
        // Observed with 3.11 decrypting YAML `a: {b: [.inf]}` etc. to JSON.
        let nested = vec![pair(
            "a",
            Value::Map(vec![pair(
                "b",
                Value::Seq(vec![Value::Float(f64::INFINITY)]),
            )]),
        )];
        assert_eq!(
            emit_str(nested, None).unwrap_err(),
            "Error marshaling to json: Error encoding value : Error encoding value : json: unsupported value: +Inf"
        );
        assert_eq!(
            emit_str(vec![pair("c", Value::Float(f64::NEG_INFINITY))], None).unwrap_err(),
            "Error marshaling to json: Error encoding value : json: unsupported value: -Inf"
        );
        assert_eq!(
            emit_str(vec![pair("a", Value::Int(1))], Some(-2)).unwrap_err(),
            "Error marshaling to json: JSON Indentation parameter smaller than -1 is not accepted"
        );
        // An unsupported value is reported before a bad indent.
        assert_eq!(
            emit_str(vec![pair("c", Value::Float(f64::NAN))], Some(-2)).unwrap_err(),
            "Error marshaling to json: Error encoding value : json: unsupported value: NaN"
        );
        let s = store(Some(-2));
        assert_eq!(
            s.emit_value(&Value::Int(1)).unwrap_err().0,
            "JSON Indentation parameter smaller than -1 is not accepted"
        );
        assert_eq!(
            store(None)
                .emit_value(&Value::Seq(vec![Value::Float(f64::NAN)]))
                .unwrap_err()
                .0,
            "json: unsupported value: NaN"
        );
    }

    #[test]
    fn emit_value_matches_extract_output() {
        // `sops decrypt --extract` output of 3.11 (format.md §9.2).
        let s = store(None);
        let list = Value::Seq(vec![
            Value::Str("alpha".into()),
            Value::Seq(vec![Value::Str("nested".into())]),
        ]);
        assert_eq!(
            show(&s.emit_value(&list).unwrap()),
            "[\n\t\"alpha\",\n\t[\n\t\t\"nested\"\n\t]\n]"
        );
        assert_eq!(
            show(&store(Some(2)).emit_value(&list).unwrap()),
            "[\n  \"alpha\",\n  [\n    \"nested\"\n  ]\n]"
        );
        assert_eq!(show(&s.emit_value(&Value::Float(42.0)).unwrap()), "42");
        assert_eq!(show(&s.emit_value(&Value::Float(1e21)).unwrap()), "1e+21");
        assert_eq!(show(&s.emit_value(&Value::Bool(true)).unwrap()), "true");
        assert_eq!(show(&s.emit_value(&Value::Null).unwrap()), "null");
        assert_eq!(show(&s.emit_value(&Value::Seq(vec![])).unwrap()), "[]");
        let maps = Value::Seq(vec![
            Value::Map(vec![pair("k", Value::Str("v".into()))]),
            Value::Map(vec![]),
        ]);
        assert_eq!(
            show(&s.emit_value(&maps).unwrap()),
            "[\n\t{\n\t\t\"k\": \"v\"\n\t},\n\t{}\n]"
        );
    }

    /// Runs `f` on a thread with room for 10 000 levels of recursion in
    /// unoptimised builds.
    fn with_big_stack(f: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn nesting_limit_is_gos() {
        with_big_stack(|| {
            // Go's scanner allows 10 000 open containers, the top object included.
            let ok = format!("{{\"a\": {}{}}}", "[".repeat(9_999), "]".repeat(9_999));
            let s = store(None);
            let docs = s.load_plain(ok.as_bytes()).unwrap();
            let out = s.emit(&docs).unwrap();
            assert!(out.ends_with(b"]\n}\n"));
            let deep = format!("{{\"a\": {}{}}}", "[".repeat(10_000), "]".repeat(10_000));
            assert_eq!(
                s.load_plain(deep.as_bytes()).unwrap_err().0,
                "Could not unmarshal input data: invalid character '[' exceeded max depth"
            );
            // Deeper trees from other stores fail at emission, as in sops
            // (`Error marshaling to json: invalid character '[' exceeded max depth`).
            let mut v = Value::Seq(vec![]);
            for _ in 0..10_000 {
                v = Value::Seq(vec![v]);
            }
            assert_eq!(
                s.emit(&[vec![pair("a", v)]]).unwrap_err().0,
                "Error marshaling to json: invalid character '[' exceeded max depth"
            );
        });
    }
}
