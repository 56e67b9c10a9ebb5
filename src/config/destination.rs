//! `destination_rules` of `.sops.yaml`: where `publish` sends a file and
//! which keys it is re-encrypted for (cli.md §5.3, §11).
//!
//! sops reads the config file again for each published file and picks the
//! first rule whose `path_regex` is empty or matches the path as given or
//! walked — not the absolute path and not relative to the config, unlike
//! creation rules (cli.md §11 step 3). The rule's `recreation_rule` is an
//! ordinary creation rule object, parsed by [`Config::rule_settings`].
//!
//! sops decodes the file into typed Go structs first: wrong field types
//! fail with go-yaml's error list, and a string field takes any scalar by
//! its source text (`destination_schema.rs`, on the raw YAML events).

use std::path::Path;

use regex::Regex;

use super::{load, str_field, Config, CreationRule};
use crate::error::Error;
use crate::keys::KeyRef;
use crate::stores::yaml::YamlStore;
use crate::stores::{Store, StoreOptions};
use crate::tree::{Item, Value};

#[path = "destination_schema.rs"]
mod schema;

/// One place a file can be published to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    S3 { bucket: String, prefix: String },
    Gcs { bucket: String, prefix: String },
    /// Vault KV. `address` empty = the Vault client's default; `path` and
    /// `mount` end with `/`; `kv_version` is 1 or 2.
    Vault { address: String, path: String, mount: String, kv_version: u8 },
}

impl Destination {
    /// sops's `NewVaultDestination`: `/` appended to path and mount, mount
    /// `secret/` by default, any version other than 1 means 2.
    pub fn vault(address: &str, path: &str, mount: &str, kv_version: i64) -> Destination {
        let with_slash = |s: &str| if s.ends_with('/') { s.to_owned() } else { format!("{s}/") };
        let mount = if mount.is_empty() { "secret/".to_owned() } else { with_slash(mount) };
        Destination::Vault {
            address: address.to_owned(),
            path: with_slash(path),
            mount,
            kv_version: if kv_version == 1 { 1 } else { 2 },
        }
    }

    /// The secret's path below `/v1/` (KV v2 puts `data/` after the mount).
    pub fn vault_secret_path(&self, name: &str) -> Option<String> {
        match self {
            Destination::Vault { path, mount, kv_version: 1, .. } => Some(format!("{mount}{path}{name}")),
            Destination::Vault { path, mount, .. } => Some(format!("{mount}data/{path}{name}")),
            _ => None,
        }
    }

    /// The destination as the prompt names it (cli.md §11 step 7).
    /// `vault_default` is the Vault client's address when the rule sets none.
    pub fn display(&self, name: &str, vault_default: &str) -> String {
        match self {
            Destination::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}{name}"),
            Destination::Gcs { bucket, prefix } => format!("gcs://{bucket}/{prefix}{name}"),
            Destination::Vault { address, .. } => {
                let address = if address.is_empty() { vault_default } else { address };
                format!("{address}/v1/{}", self.vault_secret_path(name).unwrap_or_default())
            }
        }
    }
}

/// The destination rule chosen for one file.
#[derive(Debug, Clone)]
pub struct DestinationRule {
    /// `None` when the rule names no bucket or Vault path.
    pub destination: Option<Destination>,
    /// The `recreation_rule`: keys, threshold and suffixes to re-encrypt with.
    pub recreation: CreationRule,
    pub omit_extensions: bool,
}

fn int_field(m: &[Item], key: &str) -> i64 {
    match crate::tree::get(m, key) {
        Some(Value::Int(i)) => *i,
        // go-yaml stores a float into an int field truncated.
        #[allow(clippy::cast_possible_truncation)]
        Some(Value::Float(f)) => *f as i64,
        _ => 0,
    }
}

/// A Go `bool` field: go-yaml also takes YAML 1.1's `yes`/`on`/`y` forms.
fn bool_field(m: &[Item], key: &str) -> bool {
    match crate::tree::get(m, key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Str(s)) => schema::yaml11_bool(s) == Some(true),
        _ => false,
    }
}

/// Reads `config_path` as sops's `LoadDestinationRuleForFile` does and
/// returns the rule for `file` (the path as given or walked).
pub fn destination_rule(config_path: &Path, file: &str) -> Result<DestinationRule, Error> {
    // The whole file is decoded first, so a broken creation rule or stores
    // section fails here too, as in sops.
    load(config_path)?;
    let bytes = std::fs::read(config_path).map_err(|e| {
        Error::Config(format!("could not read config file: open {}: {}", config_path.display(), super::io_text(&e)))
    })?;
    // sops unmarshals into typed structs: a field of the wrong type fails
    // the whole file with go-yaml's error list (checked on the raw YAML,
    // which still has the line numbers).
    let text = String::from_utf8_lossy(&bytes);
    schema::check(&text).map_err(|e| {
        Error::Config(format!("error loading config: Could not unmarshal config file: {e}"))
    })?;
    let docs = YamlStore::new(StoreOptions::default()).load_encrypted(&bytes).unwrap_or_default();
    let mut rules = rule_maps(docs.first().map_or(&[][..], Vec::as_slice));
    // A Go string field holds any scalar's source text (`123`, `0x10`,
    // `2001-01-01`), which the decoded tree no longer has.
    for (rule, texts) in rules.iter_mut().zip(schema::destination_scalars(&text)) {
        for item in rule.iter_mut() {
            let Item::Pair(key, value) = item else { continue };
            if !STRING_FIELDS.contains(&key.as_str()) || matches!(value, Value::Map(_) | Value::Seq(_)) {
                continue;
            }
            if let Some((_, t)) = texts.iter().rev().find(|(k, _)| k == key) {
                *value = Value::Str(t.clone());
            }
        }
    }
    choose(&rules, file)
}

/// The `string` fields of sops's `destinationRule`.
const STRING_FIELDS: [&str; 8] =
    ["path_regex", "s3_bucket", "s3_prefix", "gcs_bucket", "gcs_prefix", "vault_path", "vault_address", "vault_kv_mount_name"];

/// The `destination_rules` entries of a decoded config document.
fn rule_maps(doc: &[Item]) -> Vec<Vec<Item>> {
    match crate::tree::get(doc, "destination_rules") {
        Some(Value::Seq(rules)) => rules
            .iter()
            .map(|r| match r {
                Value::Map(m) => m.clone(),
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn choose(rules: &[Vec<Item>], file: &str) -> Result<DestinationRule, Error> {
    let chosen = rules.iter().find(|m| {
        let re = str_field(m, "path_regex");
        // sops ignores the compile error of a destination `path_regex`: the
        // rule just does not match (regexp.MatchString's error is dropped).
        re.is_empty() || Regex::new(&re).is_ok_and(|r| r.is_match(file))
    });
    let Some(m) = chosen else {
        return Err(Error::Config("error loading config: no matching destination found in config".to_owned()));
    };
    let s3 = str_field(m, "s3_bucket");
    let gcs = str_field(m, "gcs_bucket");
    let vault_path = str_field(m, "vault_path");
    if [&s3, &gcs, &vault_path].iter().filter(|s| !s.is_empty()).count() > 1 {
        return Err(Error::Config(
            "error loading config: more than one destinations were found in a single destination rule, you can only use one per rule"
                .to_owned(),
        ));
    }
    let destination = if !s3.is_empty() {
        Some(Destination::S3 { bucket: s3, prefix: str_field(m, "s3_prefix") })
    } else if !gcs.is_empty() {
        Some(Destination::Gcs { bucket: gcs, prefix: str_field(m, "gcs_prefix") })
    } else if !vault_path.is_empty() {
        Some(Destination::vault(
            &str_field(m, "vault_address"),
            &vault_path,
            &str_field(m, "vault_kv_mount_name"),
            int_field(m, "vault_kv_version"),
        ))
    } else {
        None
    };
    let recreation = match crate::tree::get(m, "recreation_rule") {
        Some(Value::Map(r)) => Config::rule_settings(r, &[])?,
        _ => Config::rule_settings(&[], &[])?,
    };
    // sops parses age recipients while reading the rule
    // (`age.MasterKeysFromRecipients`), so a bad one fails with the age
    // parser's text before anything is decrypted or uploaded.
    for key in recreation.key_groups.iter().flatten() {
        if let KeyRef::Age { recipient } = key {
            crate::keys::age::parse_recipients(recipient).map_err(|e| Error::Generic(e.to_string()))?;
        }
    }
    let omit_extensions = bool_field(m, "omit_extensions");
    Ok(DestinationRule { destination, recreation, omit_extensions })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(yaml: &str) -> Vec<Vec<Item>> {
        let docs = YamlStore::new(StoreOptions::default()).load_encrypted(yaml.as_bytes()).unwrap();
        rule_maps(&docs[0])
    }

    const CONFIG: &str = "destination_rules:
  - path_regex: '['
    s3_bucket: never
  - path_regex: ^s3/
    s3_bucket: b
    s3_prefix: p/
    recreation_rule:
      age: age1hl95ejdn6uar99slf2upchm5hs2cujwftlyrtre9fhhxtum2x4zsdu8a5t
      unencrypted_suffix: _plain
  - path_regex: v1/
    vault_path: team
    vault_kv_mount_name: kv
    vault_kv_version: 1
    omit_extensions: true
  - path_regex: both/
    gcs_bucket: g
    vault_path: x
  - path_regex: none/
  - vault_path: fallback/
";

    #[test]
    fn first_matching_rule_wins_and_bad_regexes_never_match() {
        let r = rules(CONFIG);
        let s3 = choose(&r, "s3/a.yaml").unwrap();
        assert_eq!(s3.destination, Some(Destination::S3 { bucket: "b".into(), prefix: "p/".into() }));
        assert_eq!(s3.recreation.key_groups, vec![vec![KeyRef::Age {
            recipient: "age1hl95ejdn6uar99slf2upchm5hs2cujwftlyrtre9fhhxtum2x4zsdu8a5t".into()
        }]]);
        assert_eq!(s3.recreation.selection[0], "_plain");
        assert!(!s3.omit_extensions);
        // Matched against the path as given: `./s3/…` does not start with `s3/`.
        let other = choose(&r, "./s3/a.yaml").unwrap();
        assert_eq!(other.destination, Some(Destination::vault("", "fallback/", "", 0)));
    }

    #[test]
    fn vault_defaults_and_paths() {
        let r = rules(CONFIG);
        let v1 = choose(&r, "v1/a.yaml").unwrap();
        assert!(v1.omit_extensions);
        let d = v1.destination.unwrap();
        assert_eq!(d.display("a", "https://127.0.0.1:8200"), "https://127.0.0.1:8200/v1/kv/team/a");
        let v2 = Destination::vault("http://v:1", "p", "", 7);
        assert_eq!(v2.display("a.yaml", "x"), "http://v:1/v1/secret/data/p/a.yaml");
        assert_eq!(
            Destination::S3 { bucket: "b".into(), prefix: "p/".into() }.display("d/a.yaml", ""),
            "s3://b/p/d/a.yaml"
        );
        assert_eq!(Destination::Gcs { bucket: "g".into(), prefix: String::new() }.display("a", ""), "gcs://g/a");
    }

    #[test]
    fn rule_errors_read_as_sops() {
        let r = rules(CONFIG);
        let e = choose(&r, "both/a").unwrap_err().to_string();
        assert!(e.starts_with("error loading config: more than one destinations"), "{e}");
        assert!(choose(&r, "none/a").unwrap().destination.is_none());
        let e = choose(&rules("destination_rules:\n  - path_regex: x\n    s3_bucket: b\n"), "y").unwrap_err();
        assert_eq!(e.to_string(), "error loading config: no matching destination found in config");
        assert!(choose(&[], "y").is_err());
        let bad_age = rules("destination_rules:\n  - s3_bucket: b\n    recreation_rule:\n      age: nope\n");
        assert_eq!(
            choose(&bad_age, "a").unwrap_err().to_string(),
            r#"failed to parse input, unknown recipient type: "nope""#
        );
    }
}
