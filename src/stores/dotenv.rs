//! The dotenv store: `KEY=value` lines exactly as sops 3.11 reads and writes
//! them (format.md §8.3), and the text form sops gives typed values in the
//! line-based stores (shared with the INI store).
//!
//! The store knows nothing about metadata: in an encrypted file the
//! flattened `sops_…` lines are ordinary pairs of the tree, which
//! `ops::open_encrypted` takes out and `ops::attach_metadata` appends
//! (format.md §6.7).

use super::{Store, StoreError, StoreResult};
use crate::metadata::time;
use crate::tree::number::format_float_g;
use crate::tree::{Branch, Item, Value};

/// The dotenv store. It has no options (cli.md §5, `stores.dotenv`).
#[derive(Clone, Copy, Debug, Default)]
pub struct DotenvStore;

impl DotenvStore {
    pub fn new() -> Self {
        DotenvStore
    }
}

/// Replaces every `from` sequence in `bytes` by `to`, left to right and
/// without overlaps, as Go's `strings.ReplaceAll`.
fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// A string value: UTF-8 text stays a string; other bytes pass through
/// untouched as [`Value::Bytes`] (observed.md, store quirks).
pub(crate) fn text_value(bytes: Vec<u8>) -> Value {
    match String::from_utf8(bytes) {
        Ok(s) => Value::Str(s),
        Err(e) => Value::Bytes(e.into_bytes()),
    }
}

/// Parses dotenv lines (format.md §8.3.1): split at `\n` only (a `\r`
/// stays in the value), empty lines dropped, `#` in the first byte starts a
/// comment, otherwise the line is split at its first `=` with no quote or
/// `export` handling, and `\n` in a value becomes a newline.
fn parse(input: &[u8]) -> StoreResult<Branch> {
    let mut branch = Vec::new();
    for line in input.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        if line[0] == b'#' {
            branch.push(Item::Comment(String::from_utf8_lossy(&line[1..]).into_owned()));
            continue;
        }
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            // sops prints the whole line; a plaintext line has no secret
            // structure we could point to instead.
            return Err(StoreError(format!("invalid dotenv input line: {}", String::from_utf8_lossy(line))));
        };
        let key = String::from_utf8_lossy(&line[..eq]).into_owned();
        let value = replace_all(&line[eq + 1..], b"\\n", b"\n");
        branch.push(Item::Pair(key, text_value(value)));
    }
    Ok(branch)
}

/// Go `strconv.FormatFloat(v, 'G', -1, 64)` with `.0` added when the result
/// could be read as an integer (sops's `ValToString`, format.md §8.3.2).
fn float_text(v: f64) -> String {
    let g = format_float_g(v).replace('e', "E");
    if g.contains('.') || g.contains('E') || !v.is_finite() {
        g
    } else {
        format!("{g}.0")
    }
}

/// A time as Go's `t.Format(time.RFC3339)`: seconds only, in its own offset.
fn time_text(marshalled: &str) -> String {
    time::parse_rfc3339(marshalled).map_or_else(|_| marshalled.to_owned(), |t| time::format_rfc3339(&t))
}

/// Go's `Time.String()` (`2006-01-02 15:04:05.999999999 -0700 MST`), how a
/// time nested in a list or mapping prints. sops's YAML parser gives a time
/// with a zero offset the local zone, named `UTC` where Local is UTC (the
/// usual server setting, assumed here), and any other offset a zone without
/// a name, printed as the offset again.
fn go_time_string(marshalled: &str) -> String {
    let Ok(t) = time::parse_rfc3339(marshalled) else { return marshalled.to_owned() };
    let mut out = format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year, t.month, t.day, t.hour, t.minute, t.second);
    if t.nanos != 0 {
        out.push('.');
        out.push_str(format!("{:09}", t.nanos).trim_end_matches('0'));
    }
    let sign = if t.offset < 0 { '-' } else { '+' };
    let abs = t.offset.unsigned_abs();
    let offset = format!("{sign}{:02}{:02}", abs / 3600, abs % 3600 / 60);
    let zone = if t.offset == 0 { "UTC".to_owned() } else { offset.clone() };
    format!("{out} {offset} {zone}")
}

/// Go's `fmt.Sprintf("%v", v)` for a value inside a list or mapping, which
/// is how sops's `ValToString` prints nested values in INI output.
fn go_default_format(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"<nil>"),
        Value::Bool(b) => out.extend_from_slice(b.to_string().as_bytes()),
        Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::Float(f) => out.extend_from_slice(format_float_g(*f).as_bytes()),
        Value::Str(s) => out.extend_from_slice(s.as_bytes()),
        Value::Bytes(b) => out.extend_from_slice(b),
        Value::Time(t) => out.extend_from_slice(go_time_string(t).as_bytes()),
        Value::Comment(c) => {
            out.push(b'{');
            out.extend_from_slice(c.as_bytes());
            out.push(b'}');
        }
        Value::Seq(values) => {
            out.push(b'[');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                go_default_format(v, out);
            }
            out.push(b']');
        }
        Value::Map(items) => {
            // A sops TreeBranch is a slice of {Key Value} structs.
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.push(b'{');
                match item {
                    Item::Pair(k, v) => {
                        out.extend_from_slice(k.as_bytes());
                        out.push(b' ');
                        go_default_format(v, out);
                    }
                    Item::Comment(c) => {
                        out.extend_from_slice(b"{");
                        out.extend_from_slice(c.as_bytes());
                        out.extend_from_slice(b"} <nil>");
                    }
                }
                out.push(b'}');
            }
            out.push(b']');
        }
    }
}

/// sops's `ValToString`: the text a typed value gets in dotenv and INI
/// output (format.md §8.3.2): floats `5.0`/`1E+06`, times RFC 3339 seconds
/// only, null `<nil>`. Strings are returned as they are.
pub(crate) fn value_text(value: &Value) -> Vec<u8> {
    match value {
        Value::Float(f) => float_text(*f).into_bytes(),
        Value::Time(t) => time_text(t).into_bytes(),
        other => {
            let mut out = Vec::new();
            go_default_format(other, &mut out);
            out
        }
    }
}

impl Store for DotenvStore {
    fn load_plain(&self, input: &[u8]) -> StoreResult<Vec<Branch>> {
        Ok(vec![parse(input)?])
    }

    /// The same parse: the `sops_…` pairs stay in the tree for
    /// `ops::open_encrypted`.
    fn load_encrypted(&self, input: &[u8]) -> StoreResult<Vec<Branch>> {
        Ok(vec![parse(input)?])
    }

    /// Writes the first document (format.md §8.3.2): `#` + comment text,
    /// `key=value` with newlines in strings written as `\n`; lists and
    /// mappings are refused.
    fn emit(&self, docs: &[Branch]) -> StoreResult<Vec<u8>> {
        let mut out = Vec::new();
        let Some(first) = docs.first() else { return Ok(out) };
        for item in first {
            match item {
                Item::Comment(text) => {
                    out.push(b'#');
                    out.extend_from_slice(text.as_bytes());
                }
                Item::Pair(key, value) => {
                    out.extend_from_slice(key.as_bytes());
                    out.push(b'=');
                    match value {
                        Value::Map(_) | Value::Seq(_) => {
                            return Err(StoreError(format!(
                                "cannot use complex value in dotenv file; offending key {key}"
                            )))
                        }
                        Value::Str(s) => out.extend_from_slice(&replace_all(s.as_bytes(), b"\n", b"\\n")),
                        Value::Bytes(b) => out.extend_from_slice(&replace_all(b, b"\n", b"\\n")),
                        other => out.extend_from_slice(&value_text(other)),
                    }
                }
            }
            out.push(b'\n');
        }
        Ok(out)
    }

    fn emit_value(&self, value: &Value) -> StoreResult<Vec<u8>> {
        match value {
            Value::Str(s) => Ok(s.as_bytes().to_vec()),
            Value::Bytes(b) => Ok(b.clone()),
            other => {
                Err(StoreError(format!("the dotenv store only supports emitting strings, got {}", other.go_type())))
            }
        }
    }
}

/// The sops-written vectors of testdata/{dotenv,ini,binary}/ (see each
/// folder's README.md), shared by the three flat stores' table tests.
#[cfg(test)]
pub(crate) mod vectors {
    use std::path::PathBuf;

    use crate::stores::{Format, Store, StoreResult};
    use crate::tree::Branch;

    /// One input and what sops made of it.
    pub(crate) struct Case {
        pub(crate) name: String,
        pub(crate) plain: Vec<u8>,
        /// What `sops decrypt` printed for the encrypted input.
        pub(crate) out: Option<Vec<u8>>,
        /// What `sops encrypt` printed when it refused the input.
        pub(crate) err: Option<Vec<u8>>,
        /// The file `sops encrypt` wrote.
        pub(crate) enc: Option<Vec<u8>>,
    }

    pub(crate) fn dir(store: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata").join(store)
    }

    /// Every `plain/NAME.<ext>` of a store's folder, sorted by name.
    pub(crate) fn cases(store: &str, ext: &str) -> Vec<Case> {
        let root = dir(store);
        let mut names: Vec<String> = std::fs::read_dir(root.join("plain"))
            .expect("testdata folder")
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(&format!(".{ext}")).map(str::to_owned)
            })
            .collect();
        names.sort();
        let read = |p: PathBuf| std::fs::read(p).ok();
        names
            .into_iter()
            .map(|name| Case {
                plain: read(root.join("plain").join(format!("{name}.{ext}"))).expect("plain input"),
                out: read(root.join("plain").join(format!("{name}.out"))),
                err: read(root.join("plain").join(format!("{name}.err"))),
                enc: read(root.join("encrypted").join(format!("{name}.{ext}"))),
                name,
            })
            .collect()
    }

    /// Runs `check` on every vector of a store (there must be at least
    /// `min`), then fails listing every vector that failed.
    pub(crate) fn check_all(store: &str, ext: &str, min: usize, check: impl Fn(&Case) -> Result<(), String>) {
        let all = cases(store, ext);
        assert!(all.len() >= min, "only {} {store} vectors", all.len());
        let failures: Vec<String> =
            all.iter().filter_map(|case| check(case).err().map(|e| format!("{}: {e}", case.name))).collect();
        assert!(failures.is_empty(), "{} failing vectors:\n{}", failures.len(), failures.join("\n"));
    }

    /// The documents loaded from a plain vector, emitted: what `decrypt`
    /// prints, which must be what sops printed (`want`), byte for byte.
    pub(crate) fn same_output(store: &dyn Store, docs: &[Branch], want: &[u8]) -> Result<Vec<u8>, String> {
        let got = store.emit(docs).map_err(|e| format!("emit failed: {e}"))?;
        if got != want {
            return Err(format!(
                "decrypt output differs:\n got {:?}\nwant {:?}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want)
            ));
        }
        Ok(got)
    }

    /// sops refused the input after parsing it, as encrypted already: the
    /// loaded input must carry metadata keys.
    pub(crate) fn refused_as_encrypted(loaded: StoreResult<Vec<Branch>>, format: Format) -> Result<(), String> {
        let docs = loaded.map_err(|e| e.to_string())?;
        if !crate::ops::has_metadata(&docs, format) {
            return Err("sops refused it as encrypted; has_metadata says no".into());
        }
        Ok(())
    }

    /// The encrypted vector opened through its metadata (flattened keys out
    /// and back in) and emitted again.
    pub(crate) fn through_metadata(store: &dyn Store, enc: &[u8], format: Format) -> Result<Vec<u8>, String> {
        let opened = crate::ops::open_encrypted(enc, format, crate::stores::StoreOptions::default())
            .map_err(|e| format!("open_encrypted failed: {e}"))?;
        let mut docs = opened.docs;
        crate::ops::attach_metadata(&mut docs, &opened.meta, format);
        store.emit(&docs).map_err(|e| e.to_string())
    }

    /// The load refused the input with sops's `Error unmarshalling file: …`
    /// text (`err`, the whole line sops printed).
    pub(crate) fn same_refusal<T>(loaded: Result<T, crate::stores::StoreError>, err: &[u8]) -> Result<(), String> {
        let e = loaded.err().ok_or("load_plain accepted what sops refused")?;
        let want = String::from_utf8_lossy(err);
        if format!("Error unmarshalling file: {e}\n") != want {
            return Err(format!("error {e:?}, sops said {want:?}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::vectors::{cases, check_all, refused_as_encrypted, same_output, same_refusal, through_metadata, Case};
    use super::*;
    use proptest::prelude::*;

    fn load(input: &[u8]) -> Branch {
        DotenvStore.load_plain(input).unwrap().remove(0)
    }

    fn emit(doc: Branch) -> Vec<u8> {
        DotenvStore.emit(&[doc]).unwrap()
    }

    /// Every vector of testdata/dotenv/ (written by sops 3.11, see its README).
    #[test]
    fn sops_vectors() {
        check_all("dotenv", "env", 40, check);
    }

    fn check(case: &Case) -> Result<(), String> {
        let store = DotenvStore;
        let loaded = store.load_plain(&case.plain);
        match (&case.out, &case.err) {
            (Some(out), _) => {
                let docs = loaded.map_err(|e| format!("load_plain failed: {e}"))?;
                let got = same_output(&store, &docs, out)?;
                // parse → emit → parse is stable.
                if store.load_plain(&got).map_err(|e| e.to_string())? != docs {
                    return Err("re-parsing the output gives another tree".into());
                }
            }
            (None, Some(err)) if err.starts_with(b"Error unmarshalling file: ") => same_refusal(loaded, err)?,
            (None, Some(_)) => refused_as_encrypted(loaded, crate::stores::Format::Dotenv)?,
            (None, None) => return Err("vector has neither .out nor .err".into()),
        }
        if let Some(enc) = &case.enc {
            let docs = store.load_encrypted(enc).map_err(|e| format!("load_encrypted failed: {e}"))?;
            if &store.emit(&docs).map_err(|e| e.to_string())? != enc {
                return Err("encrypted file not re-emitted byte for byte".into());
            }
            if &through_metadata(&store, enc, crate::stores::Format::Dotenv)? != enc {
                return Err("metadata not re-emitted byte for byte".into());
            }
        }
        Ok(())
    }

    #[test]
    fn values_are_verbatim_but_for_newlines() {
        let doc = load(b"export A=\"q\" \nB=x\\ny\r\n#c\n  #k=v\n");
        assert_eq!(
            doc,
            vec![
                Item::pair("export A", Value::Str("\"q\" ".into())),
                Item::pair("B", Value::Str("x\ny\r".into())),
                Item::Comment("c".into()),
                Item::pair("  #k", Value::Str("v".into())),
            ]
        );
    }

    #[test]
    fn non_utf8_values_pass_through() {
        let doc = load(b"A=\xff\\n\n");
        assert_eq!(doc, vec![Item::pair("A", Value::Bytes(b"\xff\n".to_vec()))]);
        assert_eq!(emit(doc), b"A=\xff\\n\n");
    }

    #[test]
    fn typed_values_as_sops_writes_them() {
        let doc = vec![
            Item::pair("i", Value::Int(-7)),
            Item::pair("f1", Value::Float(5.0)),
            Item::pair("f2", Value::Float(100_000.0)),
            Item::pair("f3", Value::Float(1e-5)),
            Item::pair("f4", Value::Float(1_234_567.0)),
            Item::pair("f5", Value::Float(-0.0)),
            Item::pair("f6", Value::Float(0.0001)),
            Item::pair("f7", Value::Float(1e21)),
            Item::pair("b", Value::Bool(true)),
            Item::pair("n", Value::Null),
            Item::pair("t", Value::Time("2024-01-01T00:00:00.5Z".into())),
            Item::pair("t2", Value::Time("2024-01-01T10:00:00.123+01:00".into())),
        ];
        let out = String::from_utf8(emit(doc)).unwrap();
        assert_eq!(
            out,
            "i=-7\nf1=5.0\nf2=100000.0\nf3=1E-05\nf4=1.234567E+06\nf5=-0.0\nf6=0.0001\nf7=1E+21\nb=true\nn=<nil>\n\
             t=2024-01-01T00:00:00Z\nt2=2024-01-01T10:00:00+01:00\n"
        );
    }

    #[test]
    fn complex_values_and_single_values_are_refused() {
        let doc = vec![Item::pair("a", Value::Str("1".into())), Item::pair("m", Value::Map(vec![]))];
        assert_eq!(DotenvStore.emit(&[doc]).unwrap_err().0, "cannot use complex value in dotenv file; offending key m");
        let seq = vec![Item::pair("l", Value::Seq(vec![]))];
        assert_eq!(DotenvStore.emit(&[seq]).unwrap_err().0, "cannot use complex value in dotenv file; offending key l");
        let refusal = |v: Value| DotenvStore.emit_value(&v).unwrap_err().0;
        assert_eq!(refusal(Value::Int(1)), "the dotenv store only supports emitting strings, got int");
        assert_eq!(refusal(Value::Float(1.0)), "the dotenv store only supports emitting strings, got float64");
        assert_eq!(refusal(Value::Null), "the dotenv store only supports emitting strings, got <nil>");
        assert_eq!(refusal(Value::Seq(vec![])), "the dotenv store only supports emitting strings, got []interface {}");
        assert_eq!(DotenvStore.emit_value(&Value::Str("x\ny".into())).unwrap(), b"x\ny");
    }

    #[test]
    fn only_the_first_document_is_written() {
        let docs = vec![vec![Item::pair("a", Value::Str("1".into()))], vec![Item::pair("b", Value::Str("2".into()))]];
        assert_eq!(DotenvStore.emit(&docs).unwrap(), b"a=1\n");
        assert_eq!(DotenvStore.emit(&[]).unwrap(), b"");
    }

    /// Flux finds encrypted dotenv files by the bytes `sops_mac=ENC[`
    /// (issue 4): what rsops writes must hold them at the start of a line.
    #[test]
    fn flux_marker() {
        use crate::stores::{Format, StoreOptions};
        let case = cases("dotenv", "env").into_iter().find(|c| c.name == "basic").unwrap();
        let opened = crate::ops::open_encrypted(&case.enc.unwrap(), Format::Dotenv, StoreOptions::default()).unwrap();
        let mut docs = opened.docs;
        crate::ops::attach_metadata(&mut docs, &opened.meta, Format::Dotenv);
        let out = DotenvStore.emit(&docs).unwrap();
        let marker = b"\nsops_mac=ENC[AES256_GCM,";
        assert!(out.windows(marker.len()).any(|w| w == marker));
    }

    fn line() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..20),
            "[a-zA-Z_ #]{0,6}=[ -~\\\\]{0,12}".prop_map(String::into_bytes),
            "#[ -~]{0,10}".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        /// Whatever parses re-emits to bytes that parse to the same tree,
        /// and that second emission is a fixed point.
        #[test]
        fn parse_emit_parse_is_stable(lines in proptest::collection::vec(line(), 0..8)) {
            let input = lines.join(&b'\n');
            if let Ok(docs) = DotenvStore.load_plain(&input) {
                let out = DotenvStore.emit(&docs).unwrap();
                let again = DotenvStore.load_plain(&out).unwrap();
                prop_assert_eq!(&again, &docs);
                prop_assert_eq!(DotenvStore.emit(&again).unwrap(), out);
            }
        }
    }
}
