//! The binary store: any file as the single string `data` (format.md §8.5).
//!
//! A plaintext file becomes one document `[data: <bytes>]`, UTF-8 or not.
//! The encrypted form is the JSON store's envelope
//! `{"data": "ENC[…]", "sops": {…}}` (indentation from `json_binary`);
//! decrypted output is the raw bytes of `data`, nothing added. The file is
//! copied once on load and once on output; nothing else holds it.

use super::dotenv::text_value;
use super::json::JsonStore;
use super::{Store, StoreError, StoreOptions, StoreResult};
use crate::tree::{Branch, Item, Value};

/// The key holding the whole file.
pub const DATA_KEY: &str = "data";

/// What sops's decrypt adds below an `error emitting binary store` failure
/// (after a blank line); cli.md §2.
pub const NOT_BINARY_HINT: &str =
    "This is likely not an encrypted binary file? If not, use --output-type to select the correct output type.";

/// The binary store.
pub struct BinaryStore {
    json: JsonStore,
}

impl BinaryStore {
    /// `options` are the `json_binary` settings of the envelope.
    pub fn new(options: StoreOptions) -> Self {
        BinaryStore { json: JsonStore::new(options, true) }
    }
}

/// sops's `BinaryStoreEmitPlainError` with decrypt's hint appended: the only
/// way to reach these errors is writing a decrypted tree as binary.
fn emit_plain_error(what: &str) -> StoreError {
    StoreError(format!("error emitting binary store: {what}\n\n{NOT_BINARY_HINT}"))
}

fn is_encrypted(doc: &[Item]) -> bool {
    doc.iter().any(|item| matches!(item, Item::Pair(k, _) if k == "sops"))
}

impl Store for BinaryStore {
    fn load_plain(&self, input: &[u8]) -> StoreResult<Vec<Branch>> {
        Ok(vec![vec![Item::pair(DATA_KEY, text_value(input.to_vec()))]])
    }

    fn load_encrypted(&self, input: &[u8]) -> StoreResult<Vec<Branch>> {
        self.json.load_encrypted(input)
    }

    /// A tree carrying metadata is an encrypted file: the JSON envelope.
    /// Otherwise the raw bytes of the first `data` entry.
    fn emit(&self, docs: &[Branch]) -> StoreResult<Vec<u8>> {
        if docs.first().is_some_and(|d| is_encrypted(d)) {
            return self.json.emit(docs);
        }
        let [doc] = docs else {
            return Err(emit_plain_error("there must be exactly one tree branch"));
        };
        match crate::tree::get(doc, DATA_KEY) {
            Some(Value::Str(s)) => Ok(s.as_bytes().to_vec()),
            Some(Value::Bytes(b)) => Ok(b.clone()),
            Some(_) => Err(emit_plain_error("'data' key in tree does not have a string value")),
            None => Err(emit_plain_error("no binary data found in tree")),
        }
    }

    fn emit_value(&self, _value: &Value) -> StoreResult<Vec<u8>> {
        Err(StoreError("Binary files are not structured and extracting a single value is not possible".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stores::dotenv::vectors::{cases, dir};
    use crate::stores::Format;

    fn store() -> BinaryStore {
        BinaryStore::new(StoreOptions::default())
    }

    /// Every vector of testdata/binary/: the decrypted bytes are the input,
    /// and sops's envelope is re-emitted byte for byte.
    #[test]
    fn sops_vectors() {
        let mut failures = Vec::new();
        for case in cases("binary", "bin") {
            let docs = store().load_plain(&case.plain).unwrap();
            if store().emit(&docs).unwrap() != case.plain || case.out.as_ref() != Some(&case.plain) {
                failures.push(format!("{}: plaintext not written back as sops decrypts it", case.name));
            }
            let enc = case.enc.expect("sops encrypts any file");
            if let Err(e) = envelope_round_trip(&enc) {
                failures.push(format!("{}: {e}", case.name));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    fn envelope_round_trip(enc: &[u8]) -> Result<(), String> {
        let docs = store().load_encrypted(enc).map_err(|e| e.to_string())?;
        if store().emit(&docs).map_err(|e| e.to_string())? != enc {
            return Err("envelope not re-emitted byte for byte".into());
        }
        let opened =
            crate::ops::open_encrypted(enc, Format::Binary, StoreOptions::default()).map_err(|e| e.to_string())?;
        if opened.meta.rule.is_some() {
            return Err("sops records no rule for binary files (§4.5)".into());
        }
        let mut docs = opened.docs;
        crate::ops::attach_metadata(&mut docs, &opened.meta, Format::Binary);
        if store().emit(&docs).map_err(|e| e.to_string())? != enc {
            return Err("metadata not re-emitted byte for byte".into());
        }
        Ok(())
    }

    /// The 1 MiB file of `gen_large_binary` in testdata/gen-flat-stores.py.
    fn large_plain() -> Vec<u8> {
        (0..1usize << 20).map(|i| u8::try_from((i * 7 + (i >> 8) * 13) & 0xff).expect("masked")).collect()
    }

    #[test]
    fn large_file() {
        let enc = std::fs::read(dir("binary").join("encrypted/large-1mib.bin")).unwrap();
        envelope_round_trip(&enc).unwrap();
        let plain = large_plain();
        let docs = store().load_plain(&plain).unwrap();
        assert!(matches!(&docs[0][0], Item::Pair(k, Value::Bytes(b)) if k == "data" && b.len() == 1 << 20));
        assert_eq!(store().emit(&docs).unwrap(), plain);
    }

    #[test]
    fn text_and_bytes() {
        let docs = store().load_plain(b"secret\n").unwrap();
        assert_eq!(docs, vec![vec![Item::pair("data", Value::Str("secret\n".into()))]]);
        let docs = store().load_plain(b"\xff").unwrap();
        assert_eq!(docs, vec![vec![Item::pair("data", Value::Bytes(vec![0xff]))]]);
        assert_eq!(store().emit(&docs).unwrap(), b"\xff");
    }

    #[test]
    fn refusals() {
        let hint = "\n\nThis is likely not an encrypted binary file? If not, use --output-type to select the correct output type.";
        let e = |docs: &[Branch]| store().emit(docs).unwrap_err().0;
        assert_eq!(
            e(&[vec![Item::pair("a", Value::Int(1))]]),
            format!("error emitting binary store: no binary data found in tree{hint}")
        );
        assert_eq!(
            e(&[vec![Item::pair("data", Value::Int(1))]]),
            format!("error emitting binary store: 'data' key in tree does not have a string value{hint}")
        );
        assert_eq!(
            e(&[vec![], vec![]]),
            format!("error emitting binary store: there must be exactly one tree branch{hint}")
        );
        assert_eq!(
            store().emit_value(&Value::Int(1)).unwrap_err().0,
            "Binary files are not structured and extracting a single value is not possible"
        );
    }
}
