//! Stores turn bytes into a [`Branch`] list and back, one per file format.
//!
//! A store knows its syntax and sops's byte layout for it (format.md §8) and
//! nothing about encryption: the same code writes encrypted files (a tree of
//! `ENC[…]` strings plus the metadata entry) and decrypted output. Metadata is
//! an ordinary entry of the tree here; `metadata/` puts it in and takes it out.

pub mod binary;
pub mod dotenv;
pub mod ini;
pub mod json;
pub mod yaml;

use crate::tree::{Branch, Value};

/// Which store handles a file. Chosen by extension, `--input-type` or
/// `--output-type` (cli.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// The store sops picks for a path: by its (case-sensitive) extension,
    /// binary for anything else, including the empty path used for stdin.
    #[allow(clippy::case_sensitive_file_extension_comparisons)] // `x.YAML` is binary to sops too
    pub fn from_path(path: &str) -> Format {
        if path.ends_with(".yaml") || path.ends_with(".yml") {
            Format::Yaml
        } else if path.ends_with(".json") {
            Format::Json
        } else if path.ends_with(".env") {
            Format::Dotenv
        } else if path.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    /// `--input-type`/`--output-type` values sops accepts; any other value is
    /// silently ignored by sops (cli.md §3.1), so this returns `None` for it.
    pub fn from_type_name(name: &str) -> Option<Format> {
        match name {
            "yaml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" => Some(Format::Dotenv),
            "ini" => Some(Format::Ini),
            "binary" => Some(Format::Binary),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }
}

/// Output options of a store (`--indent`, `stores:` in `.sops.yaml`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// `None`: the store's default (YAML 4 spaces, JSON one tab).
    pub indent: Option<i64>,
}

/// A store failure, carrying the text sops prints after its prefix
/// (`Error unmarshalling file: <text>`, `Error dumping file: <text>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// The operations sops's `Store` interface has, split the same way.
pub trait Store {
    /// Parse a plaintext file. Stores apply sops's extra sanity checks for
    /// plaintext here (YAML: duplicate keys, top-level sequence, §8.1.1).
    fn load_plain(&self, input: &[u8]) -> StoreResult<Vec<Branch>>;

    /// Parse an encrypted file; the metadata entry is still in the tree.
    fn load_encrypted(&self, input: &[u8]) -> StoreResult<Vec<Branch>>;

    /// Write whole documents.
    fn emit(&self, docs: &[Branch]) -> StoreResult<Vec<u8>>;

    /// Write a single non-mapping value (`--extract` of a number or list,
    /// format.md §9.2).
    fn emit_value(&self, value: &Value) -> StoreResult<Vec<u8>>;
}

/// The store for a format with its options.
pub fn store_for(format: Format, options: StoreOptions) -> Box<dyn Store> {
    match format {
        Format::Yaml => Box::new(yaml::YamlStore::new(options)),
        Format::Json => Box::new(json::JsonStore::new(options, false)),
        Format::Dotenv => Box::new(dotenv::DotenvStore::new()),
        Format::Ini => Box::new(ini::IniStore::new()),
        Format::Binary => Box::new(binary::BinaryStore::new(options)),
    }
}
