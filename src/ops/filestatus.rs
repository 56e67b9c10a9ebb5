//! `filestatus`: does a file look sops-encrypted? (cli.md §4.11)
//!
//! The probe loads the file with the encrypted-file loader of its store and
//! reads the metadata the way sops's *loader* does, which is more lenient
//! than decryption: an empty `version`, no master keys or a version sops
//! cannot compare do not fail the load, they only make the answer `false`
//! or `true`. No key is touched and nothing is decrypted.
//!
//! Where it stops: choosing the store (resolve), printing (main).

use std::path::PathBuf;

use super::Outcome;
use crate::config::io_text;
use crate::context::Context;
use crate::error::Error;
use crate::metadata::{self, flat, time};
use crate::stores::{store_for, Format, StoreOptions};
use crate::tree::{self, Branch, Value};

/// Everything `filestatus` needs.
pub struct FilestatusRequest {
    /// The file argument exactly as given: sops reads it relative to the
    /// working directory and echoes it unchanged in errors.
    pub path: PathBuf,
    pub format: Format,
}

/// The one line sops prints (`encoding/json` of `{Encrypted bool}`).
pub fn status_line(encrypted: bool) -> &'static str {
    if encrypted {
        "{\"encrypted\":true}\n"
    } else {
        "{\"encrypted\":false}\n"
    }
}

fn fatal(err: &dyn std::fmt::Display) -> Error {
    Error::Fatal(format!("cannot check file status: cannot load encrypted file: {err}"))
}

/// Runs `filestatus`: the JSON line, or a fatal error for a file that cannot
/// be loaded at all (unreadable, unparsable, malformed metadata).
pub fn run(req: &FilestatusRequest, ctx: &Context) -> Result<Outcome, Error> {
    let bytes = std::fs::read(ctx.cwd.join(&req.path)).map_err(|e| {
        fatal(&format!("Error reading file: open {}: {}", req.path.display(), io_text(&e)))
    })?;
    let encrypted = is_encrypted(&bytes, req.format)?;
    Ok(Outcome { bytes: status_line(encrypted).as_bytes().to_vec(), warnings: Vec::new() })
}

/// The decision itself, on the file's bytes.
pub fn is_encrypted(bytes: &[u8], format: Format) -> Result<bool, Error> {
    let store = store_for(format, StoreOptions::default());
    let mut docs = store
        .load_encrypted(bytes)
        // The stores' texts already carry sops's `Error unmarshalling input
        // <format>: ` prefix (the binary store's says `json`, as sops's).
        .map_err(|err| fatal(&err))?;
    let Some(meta) = metadata_entry(&mut docs, format)? else {
        // sops.MetadataNotFound is the one load error that means "no".
        return Ok(false);
    };
    let Value::Map(items) = &meta else {
        // Go's decoder refuses a non-mapping `sops` entry outright.
        return Err(fatal(&format!("Error unmarshalling input {}: the sops entry is not a mapping", format.name())));
    };
    // What sops's `Metadata.ToInternal` checks at load time: the timestamp
    // and the number of selection rules. `from_value` reports both with
    // sops's wording; its stricter checks (version syntax, keys present)
    // belong to decryption and must not turn a "yes" into an error here.
    let last_modified = scalar(tree::get(items, "lastmodified")).unwrap_or_default();
    let rules = crate::crypt::rules::RULE_KEYS
        .iter()
        .filter(|k| scalar(tree::get(items, k)).is_some_and(|v| !v.is_empty()))
        .count();
    if time::parse_rfc3339(&last_modified).is_err() || rules > 1 {
        let err = metadata::from_value(&meta).err().unwrap_or_default();
        return Err(fatal(&err));
    }
    let present = |key: &str| scalar(tree::get(items, key)).is_some_and(|v| !v.is_empty());
    Ok(present("version") && present("mac"))
}

/// The metadata entry as the store holds it (flat stores unflattened), or
/// `None` when the file has none (format.md §6.5, §6.7).
fn metadata_entry(docs: &mut [Branch], format: Format) -> Result<Option<Value>, Error> {
    let pairs = if format == Format::Dotenv {
        flat::take_dotenv(docs)
    } else {
        // As `open_encrypted`: the first document that has one wins.
        let Some(found) = docs.iter_mut().find_map(|d| tree::take(d, "sops")) else { return Ok(None) };
        if format != Format::Ini {
            return Ok(Some(found));
        }
        flat::section_pairs(found)
    };
    pairs.map(|p| flat::unflatten(p).map_err(|e| fatal(&e))).transpose()
}

/// A scalar metadata field as text (1.x files store `version` as a number).
fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Str(s) | Value::Time(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::tree::number::format_float_g(*f)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = "sops:\n    age:\n        - recipient: age1x\n          enc: x\n    lastmodified: \"2024-01-01T00:00:00Z\"\n    mac: ENC[AES256_GCM,data:x,iv:x,tag:x,type:str]\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n";

    /// `text` without the lines containing `needle`.
    fn without(text: &str, needle: &str) -> String {
        text.lines().filter(|l| !l.contains(needle)).flat_map(|l| [l, "\n"]).collect()
    }

    fn yaml(text: &str) -> Result<bool, Error> {
        is_encrypted(text.as_bytes(), Format::Yaml)
    }

    #[test]
    fn metadata_with_version_and_mac_is_encrypted() {
        assert!(yaml(&format!("a: ENC[x]\n{META}")).unwrap());
    }

    #[test]
    fn no_metadata_is_not_encrypted() {
        assert!(!yaml("a: 1\n").unwrap());
        assert!(!is_encrypted(b"A=1\n", Format::Dotenv).unwrap());
        assert!(!is_encrypted(b"{\"a\": 1}", Format::Json).unwrap());
    }

    #[test]
    fn missing_mac_or_version_is_not_encrypted() {
        assert!(!yaml(&format!("a: 1\n{}", without(META, "mac:"))).unwrap());
        assert!(!yaml(&format!("a: 1\n{}", without(META, "version:"))).unwrap());
    }

    #[test]
    fn a_version_sops_cannot_compare_is_still_encrypted() {
        // Version syntax is checked at decryption, not by the loader.
        assert!(yaml(&format!("a: 1\n{}", META.replace("3.11.0", "banana"))).unwrap());
    }

    #[test]
    fn bad_lastmodified_is_a_load_error() {
        let err = yaml(&format!("a: 1\n{}", without(META, "lastmodified:"))).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert_eq!(
            err.to_string(),
            "cannot check file status: cannot load encrypted file: parsing time \"\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"\" as \"2006\""
        );
    }

    #[test]
    fn unparsable_input_is_a_load_error() {
        let err = yaml("a: [\n").unwrap_err();
        assert!(err.to_string().starts_with("cannot check file status: cannot load encrypted file: "), "{err}");
        assert!(is_encrypted(b"hello", Format::Binary).is_err());
    }

    #[test]
    fn status_line_is_go_json() {
        assert_eq!(status_line(true), "{\"encrypted\":true}\n");
        assert_eq!(status_line(false), "{\"encrypted\":false}\n");
    }
}
