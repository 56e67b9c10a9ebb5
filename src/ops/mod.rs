//! One function per command. Each takes a typed request and a [`Context`],
//! never sees the command line and never prints: it returns the bytes to
//! write and any warnings, and `main` does the rest.

pub mod decrypt;
pub mod edit;
pub mod encrypt;
pub mod exec;
pub mod filestatus;
pub mod groups;
pub mod publish;
pub mod rotate;
pub mod set_unset;
pub mod updatekeys;

use std::fmt::Write as _;

use crate::context::Context;
use crate::crypt::{mac, DataKey};
use crate::error::Error;
use crate::keys::recover;
use crate::keys::KeyKind;
use crate::metadata::{self, EmptyList, Metadata};
use crate::stores::{store_for, Format, StoreOptions};
use crate::tree::{walk, Branch, Item, Value};

/// What a command produced.
#[derive(Default)]
pub struct Outcome {
    pub bytes: Vec<u8>,
    /// Lines for stderr (sops's log warnings), printed even on success.
    pub warnings: Vec<String>,
}

/// An encrypted file, opened: its documents (values still encrypted) and
/// metadata.
pub struct Opened {
    pub docs: Vec<Branch>,
    pub meta: Metadata,
}

/// Parses an encrypted file and takes its metadata out of the tree
/// (format.md §6.5): the `sops` entry of the first document is the
/// metadata, and `sops` entries are removed from every document.
pub fn open_encrypted(bytes: &[u8], format: Format, options: StoreOptions) -> Result<Opened, Error> {
    let store = store_for(format, options);
    let mut docs = store
        .load_encrypted(bytes)
        .map_err(|err| Error::ParseEncrypted { format: format.name(), err })?;
    // Flattened metadata (format.md §6.5, §6.7): dotenv's `sops_…` pairs.
    let meta_value = if format == Format::Dotenv {
        let pairs = metadata::flat::take_dotenv(&mut docs).ok_or(Error::MetadataNotFound)?;
        metadata::flat::unflatten(pairs).map_err(Error::Metadata)?
    } else {
        let mut found = None;
        for doc in &mut docs {
            let m = crate::tree::take(doc, "sops");
            if found.is_none() {
                found = m;
            }
        }
        let found = found.ok_or(Error::MetadataNotFound)?;
        if format == Format::Ini {
            // INI: the `[sops]` section holds the flattened keys.
            let pairs = metadata::flat::section_pairs(found).ok_or(Error::MetadataNotFound)?;
            metadata::flat::unflatten(pairs).map_err(Error::Metadata)?
        } else {
            found
        }
    };
    let meta = metadata::from_value(&meta_value).map_err(Error::Metadata)?;
    Ok(Opened { docs, meta })
}

/// Recovers the data key, decrypts the tree in place and checks the MAC
/// unless told not to (format.md §5.6, §11.1).
pub fn decrypt_tree(
    opened: &mut Opened,
    order: &[KeyKind],
    ignore_mac: bool,
    ctx: &Context,
    ivs: Option<&mut walk::IvCache>,
) -> Result<(DataKey, Vec<String>), Error> {
    let key = recover::recover(&opened.meta, order, ctx)?;
    let rule = opened.meta.effective_rule();
    let out = walk::decrypt(&mut opened.docs, &key, &rule, opened.meta.mac_only_encrypted, ivs).map_err(|e| {
        let mut m = e.message.clone();
        if !e.path.is_empty() {
            // sops's text first (scripts match it), then where it happened.
            let _ = write!(m, "\n(the value at {})", e.path_display());
        }
        Error::DecryptTree(m)
    })?;
    if !ignore_mac {
        let aad = opened.meta.mac_aad().map_err(Error::Metadata)?;
        let stored = mac::open(&key, &opened.meta.mac, &aad).map_err(|e| Error::MacDecrypt(e.0))?;
        if !mac::equal(&stored, &out.mac) {
            return Err(Error::MacMismatch { stored, computed: out.mac });
        }
    }
    Ok((key, out.warnings))
}

/// How `format` writes empty key lists inside key groups.
pub fn empty_list_style(format: Format) -> EmptyList {
    match format {
        Format::Json | Format::Binary => EmptyList::Null,
        _ => EmptyList::Seq,
    }
}

/// Appends the metadata entry to every document (format.md §8.1.5); for
/// the flat stores the flattened metadata (§6.7): `sops_…` lines after the
/// data of the (only written) first dotenv document, a last `[sops]`
/// section after the sections of every document in INI.
pub fn attach_metadata(docs: &mut [Branch], meta: &Metadata, format: Format) {
    let value = metadata::to_value(meta, empty_list_style(format));
    match format {
        Format::Dotenv => {
            if let Some(first) = docs.first_mut() {
                first.extend(metadata::flat::dotenv_items(&value));
            }
        }
        Format::Ini => {
            if let Some(last) = docs.last_mut() {
                last.push(metadata::flat::ini_section(&value));
            }
        }
        _ => {
            for doc in docs {
                doc.push(Item::Pair("sops".to_owned(), value.clone()));
            }
        }
    }
}

/// Whether a plaintext tree already carries sops metadata (cli.md §3.5):
/// a top-level `sops` entry (an INI `[sops]` section is one), or in dotenv
/// any key starting with `sops_`.
pub fn has_metadata(docs: &[Branch], format: Format) -> bool {
    let Some(first) = docs.first() else { return false };
    first.iter().any(|i| match i {
        Item::Pair(k, _) if format == Format::Dotenv => k.starts_with("sops_"),
        Item::Pair(k, _) => k == "sops",
        Item::Comment(_) => false,
    })
}

/// The single-value writers of `--extract` (format.md §9.2).
pub fn emit_extracted(value: &Value, docs: &mut [Branch], format: Format, options: StoreOptions) -> Result<Vec<u8>, Error> {
    match value {
        Value::Str(s) => Ok(s.as_bytes().to_vec()),
        Value::Bytes(b) => Ok(b.clone()),
        Value::Map(items) => {
            let mut out_docs: Vec<Branch> = docs.to_vec();
            if let Some(first) = out_docs.first_mut() {
                first.clone_from(items);
            }
            store_for(format, options).emit(&out_docs).map_err(|e| Error::DumpFile(e.0))
        }
        other => store_for(format, options).emit_value(other).map_err(|e| Error::DumpTree(e.0)),
    }
}

/// Encrypts the decrypted tree of `opened` with `key` and stamps a new
/// `lastmodified` and MAC, as every command that re-encrypts does
/// (format.md §5.4). With `ivs`, a value seen during decryption keeps its IV
/// (§2.6), so `set`/`unset` change only the touched values.
pub fn reseal(opened: &mut Opened, key: &DataKey, ivs: Option<&walk::IvCache>) -> Result<(), Error> {
    let rule = opened.meta.effective_rule();
    let digest = walk::encrypt(&mut opened.docs, key, &rule, opened.meta.mac_only_encrypted, ivs)
        .map_err(|e| Error::EncryptTree(e.message))?;
    opened.meta.last_modified = metadata::time::format_rfc3339(&metadata::time::now_utc());
    opened.meta.mac = mac::seal(key, &digest, &opened.meta.last_modified);
    Ok(())
}

/// Writes an opened (encrypted) file back with `format`'s store. sops makes
/// the default rule explicit when it loads metadata, so a file that recorded
/// none (binary) comes back with `unencrypted_suffix: _unencrypted`
/// (format.md §4.5).
pub fn emit_opened(mut opened: Opened, format: Format, options: StoreOptions) -> Result<Vec<u8>, Error> {
    if opened.meta.rule.is_none() {
        opened.meta.rule = Some(crate::crypt::rules::CryptRule::default_rule());
    }
    attach_metadata(&mut opened.docs, &opened.meta, format);
    store_for(format, options).emit(&opened.docs).map_err(|e| Error::MarshalTree(e.0))
}

/// Wraps `key` (or, with several groups, its Shamir shares) for every master
/// key of `meta`, replacing each `enc`. An entry that already had a
/// `created_at` keeps it: sops sets it only when a key is created. With
/// several groups a threshold of 0 becomes their number (cli.md §4.12).
pub fn rewrap(meta: &mut Metadata, key: &DataKey, ctx: &Context) -> Result<(), Error> {
    if meta.key_groups.is_empty() {
        return Err(Error::GenerateDataKey(vec!["no key groups provided".to_owned()]));
    }
    let refs: Vec<Vec<crate::keys::KeyRef>> =
        meta.key_groups.iter().map(|g| g.iter().map(|m| m.key.clone()).collect()).collect();
    let mut groups = encrypt::wrap_data_key(key, &refs, meta.shamir_threshold, ctx)?;
    for (new, old) in groups.iter_mut().zip(&meta.key_groups) {
        for (n, o) in new.iter_mut().zip(old) {
            if n.created_at.is_some() && o.created_at.is_some() {
                n.created_at.clone_from(&o.created_at);
            }
        }
    }
    if groups.len() > 1 && meta.shamir_threshold == 0 {
        meta.shamir_threshold = groups.len();
    }
    meta.key_groups = groups;
    Ok(())
}
