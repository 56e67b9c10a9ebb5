//! The `sops` metadata block: reading every form sops accepts and writing the
//! exact field order and spelling of sops 3.11 (format.md §6).
//!
//! Metadata travels as an ordinary [`Value::Map`] inside the tree, so every
//! store writes it with its normal rules; this module converts between that
//! map and [`Metadata`]. Entries of key kinds rsops cannot use are parsed and
//! written back unchanged.

pub mod flat;
pub mod time;

use crate::crypt::rules::{CryptRule, RULE_KEYS};
use crate::keys::{KeyGroup, KeyKind, KeyRef, MasterKey};
use crate::tree::{Item, Value};

/// The version written into new files: every sops release reads 3.11 files.
pub const WRITTEN_VERSION: &str = "3.11.0";

/// Everything the `sops` entry holds.
#[derive(Clone, Debug)]
pub struct Metadata {
    pub key_groups: Vec<KeyGroup>,
    /// 0 when absent.
    pub shamir_threshold: usize,
    /// As stored; re-formatted through [`time`] wherever sops re-formats it.
    pub last_modified: String,
    pub mac: String,
    /// `None` when the file records no rule (binary store, format.md §4.5).
    pub rule: Option<CryptRule>,
    pub mac_only_encrypted: bool,
    pub version: String,
}

impl Metadata {
    /// The rule to apply: the recorded one, else the default suffix.
    pub fn effective_rule(&self) -> CryptRule {
        self.rule.clone().unwrap_or_else(CryptRule::default_rule)
    }

    /// The `lastmodified` string as the MAC's AAD (format.md §5.3).
    pub fn mac_aad(&self) -> Result<String, String> {
        let t = time::parse_rfc3339(&self.last_modified)?;
        Ok(time::format_rfc3339(&t))
    }
}

/// How the writing store spells an empty key list inside a key group: sops
/// 3.11 writes `[]` in YAML and `null` in JSON (format.md §6.4).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum EmptyList {
    Seq,
    Null,
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) | Value::Time(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::tree::number::format_float_g(*f)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn field(items: &[Item], key: &str) -> Option<String> {
    crate::tree::get(items, key).and_then(str_of)
}

fn time_error(s: &str) -> String {
    time::parse_rfc3339(s).err().unwrap_or_default()
}

fn list<'a>(items: &'a [Item], key: &str) -> Vec<&'a [Item]> {
    match crate::tree::get(items, key) {
        Some(Value::Seq(values)) => values
            .iter()
            .filter_map(|v| match v {
                Value::Map(m) => Some(m.as_slice()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn entries(items: &[Item], kind: KeyKind) -> Result<Vec<MasterKey>, String> {
    let mut out = Vec::new();
    let name = match kind {
        KeyKind::AzureKv => "azure_kv",
        other => other.name(),
    };
    for e in list(items, name) {
        let s = |k: &str| field(e, k).unwrap_or_default();
        let key = match kind {
            KeyKind::Age => KeyRef::Age { recipient: s("recipient") },
            KeyKind::Pgp => KeyRef::Pgp { fingerprint: s("fp") },
            KeyKind::AwsKms => {
                let mut context: Vec<(String, String)> = match crate::tree::get(e, "context") {
                    Some(Value::Map(m)) => m
                        .iter()
                        .filter_map(|i| match i {
                            Item::Pair(k, v) => Some((k.clone(), str_of(v).unwrap_or_default())),
                            Item::Comment(_) => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                context.sort();
                KeyRef::AwsKms { arn: s("arn"), role: s("role"), context, aws_profile: s("aws_profile") }
            }
            KeyKind::GcpKms => KeyRef::GcpKms { resource_id: s("resource_id") },
            KeyKind::AzureKv => KeyRef::AzureKv { vault_url: s("vault_url"), name: s("name"), version: s("version") },
            KeyKind::Vault => KeyRef::Vault {
                address: s("vault_address"),
                engine_path: s("engine_path"),
                key_name: s("key_name"),
            },
            KeyKind::Hckms => KeyRef::Hckms { key_id: s("key_id") },
        };
        let created_at = if kind == KeyKind::Age {
            None
        } else {
            // sops requires created_at on every non-age entry (format.md §6.2).
            let c = s("created_at");
            if time::parse_rfc3339(&c).is_err() {
                return Err(time_error(&c));
            }
            Some(c)
        };
        out.push(MasterKey { key, enc: s("enc"), created_at });
    }
    Ok(out)
}

/// Group order after loading: `kms`, `gcp_kms`, `hckms`, `azure_kv`, `hc_vault`, `pgp`, `age`.
const LOAD_ORDER: [KeyKind; 7] = [
    KeyKind::AwsKms,
    KeyKind::GcpKms,
    KeyKind::Hckms,
    KeyKind::AzureKv,
    KeyKind::Vault,
    KeyKind::Pgp,
    KeyKind::Age,
];

fn group(items: &[Item]) -> Result<KeyGroup, String> {
    let mut g = Vec::new();
    for kind in LOAD_ORDER {
        g.extend(entries(items, kind)?);
    }
    Ok(g)
}

/// Reads the metadata map (format.md §6.5). Errors carry sops's text.
pub fn from_value(value: &Value) -> Result<Metadata, String> {
    let Value::Map(items) = value else {
        return Err("sops metadata not found".to_owned());
    };
    let last_modified = field(items, "lastmodified").unwrap_or_default();
    if time::parse_rfc3339(&last_modified).is_err() {
        return Err(time_error(&last_modified));
    }
    let top = group(items)?;
    let key_groups = if top.is_empty() {
        let mut groups = Vec::new();
        for g in list(items, "key_groups") {
            groups.push(group(g)?);
        }
        groups
    } else {
        vec![top]
    };
    if key_groups.iter().all(Vec::is_empty) {
        return Err("No keys found in file".to_owned());
    }
    let mut rule = None;
    for key in RULE_KEYS {
        if let Some(v) = field(items, key).filter(|v| !v.is_empty()) {
            if rule.is_some() {
                return Err("Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file".to_owned());
            }
            rule = Some(CryptRule::from_key(key, &v)?);
        }
    }
    // Go's yaml/json decode a number into the `int` field the same way:
    // fractional parts dropped, negatives read as no threshold.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let shamir_threshold = field(items, "shamir_threshold")
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(0, |f| if f > 0.0 { f as usize } else { 0 });
    let mac_only_encrypted = matches!(crate::tree::get(items, "mac_only_encrypted"), Some(Value::Bool(true)))
        || field(items, "mac_only_encrypted").is_some_and(|s| s == "true");
    let version = field(items, "version").unwrap_or_default();
    check_version(&version)?;
    Ok(Metadata {
        key_groups,
        shamir_threshold,
        last_modified,
        mac: field(items, "mac").unwrap_or_default(),
        rule,
        mac_only_encrypted,
        version,
    })
}

/// sops parses `version` as a semantic version (format.md §6.6).
fn check_version(v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err("Version string empty".to_owned());
    }
    let body = v.strip_prefix('v').unwrap_or(v);
    if body.starts_with("1.") {
        return Ok(());
    }
    let core = body.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        Ok(())
    } else {
        Err("No Major.Minor.Patch elements found".to_owned())
    }
}

fn s(v: &str) -> Value {
    Value::Str(v.to_owned())
}

fn created(c: Option<&String>) -> Value {
    // Re-emitted as parsed and re-formatted (format.md §6.2).
    let c = c.map_or("", String::as_str);
    s(&time::parse_rfc3339(c).map_or_else(|_| c.to_owned(), |t| time::format_rfc3339(&t)))
}

fn entry_value(m: &MasterKey) -> Value {
    let mut e = Vec::new();
    match &m.key {
        KeyRef::Age { recipient } => {
            e.push(Item::pair("recipient", s(recipient)));
            e.push(Item::pair("enc", s(&m.enc)));
        }
        KeyRef::Pgp { fingerprint } => {
            e.push(Item::pair("created_at", created(m.created_at.as_ref())));
            e.push(Item::pair("enc", s(&m.enc)));
            e.push(Item::pair("fp", s(fingerprint)));
        }
        KeyRef::AwsKms { arn, role, context, aws_profile } => {
            e.push(Item::pair("arn", s(arn)));
            if !role.is_empty() {
                e.push(Item::pair("role", s(role)));
            }
            if !context.is_empty() {
                let ctx = context.iter().map(|(k, v)| Item::pair(k.clone(), s(v))).collect();
                e.push(Item::pair("context", Value::Map(ctx)));
            }
            e.push(Item::pair("created_at", created(m.created_at.as_ref())));
            e.push(Item::pair("enc", s(&m.enc)));
            e.push(Item::pair("aws_profile", s(aws_profile)));
        }
        KeyRef::GcpKms { resource_id } => {
            e.push(Item::pair("resource_id", s(resource_id)));
            e.push(Item::pair("created_at", created(m.created_at.as_ref())));
            e.push(Item::pair("enc", s(&m.enc)));
        }
        KeyRef::AzureKv { vault_url, name, version } => {
            e.push(Item::pair("vault_url", s(vault_url)));
            e.push(Item::pair("name", s(name)));
            e.push(Item::pair("version", s(version)));
            e.push(Item::pair("created_at", created(m.created_at.as_ref())));
            e.push(Item::pair("enc", s(&m.enc)));
        }
        KeyRef::Vault { address, engine_path, key_name } => {
            e.push(Item::pair("vault_address", s(address)));
            e.push(Item::pair("engine_path", s(engine_path)));
            e.push(Item::pair("key_name", s(key_name)));
            e.push(Item::pair("created_at", created(m.created_at.as_ref())));
            e.push(Item::pair("enc", s(&m.enc)));
        }
        KeyRef::Hckms { key_id } => {
            e.push(Item::pair("key_id", s(key_id)));
            e.push(Item::pair("created_at", created(m.created_at.as_ref())));
            e.push(Item::pair("enc", s(&m.enc)));
        }
    }
    Value::Map(e)
}

fn kind_list(group: &KeyGroup, kind: KeyKind) -> Vec<Value> {
    group.iter().filter(|m| m.key.kind() == kind).map(entry_value).collect()
}

fn metadata_name(kind: KeyKind) -> &'static str {
    kind.name()
}

/// Writes the metadata map in sops 3.11's order (format.md §6.4):
/// `shamir_threshold`, `key_groups`, `kms`, `gcp_kms`, `azure_kv`, `hc_vault`, `age`,
/// `lastmodified`, `mac`, `pgp`, the rule, `mac_only_encrypted`, `version`.
pub fn to_value(meta: &Metadata, empty: EmptyList) -> Value {
    let mut out = Vec::new();
    if meta.shamir_threshold != 0 {
        out.push(Item::pair("shamir_threshold", Value::Int(i64::try_from(meta.shamir_threshold).unwrap_or(i64::MAX))));
    }
    let single = meta.key_groups.len() <= 1;
    let flat: &[MasterKey] = if single { meta.key_groups.first().map_or(&[], Vec::as_slice) } else { &[] };
    let flat_group: KeyGroup = flat.to_vec();
    if !single {
        let groups = meta
            .key_groups
            .iter()
            .map(|g| {
                let mut gm = Vec::new();
                for kind in [KeyKind::Pgp, KeyKind::AwsKms, KeyKind::GcpKms, KeyKind::Hckms, KeyKind::AzureKv] {
                    let l = kind_list(g, kind);
                    if !l.is_empty() {
                        gm.push(Item::pair(metadata_name(kind), Value::Seq(l)));
                    }
                }
                // hc_vault and age are always present in a group mapping.
                for kind in [KeyKind::Vault, KeyKind::Age] {
                    let l = kind_list(g, kind);
                    let v = if l.is_empty() && empty == EmptyList::Null { Value::Null } else { Value::Seq(l) };
                    gm.push(Item::pair(metadata_name(kind), v));
                }
                Value::Map(gm)
            })
            .collect();
        out.push(Item::pair("key_groups", Value::Seq(groups)));
    }
    for kind in [KeyKind::AwsKms, KeyKind::GcpKms, KeyKind::Hckms, KeyKind::AzureKv, KeyKind::Vault, KeyKind::Age] {
        let l = kind_list(&flat_group, kind);
        if !l.is_empty() {
            out.push(Item::pair(metadata_name(kind), Value::Seq(l)));
        }
    }
    out.push(Item::pair("lastmodified", s(&meta.last_modified)));
    out.push(Item::pair("mac", s(&meta.mac)));
    let pgp = kind_list(&flat_group, KeyKind::Pgp);
    if !pgp.is_empty() {
        out.push(Item::pair("pgp", Value::Seq(pgp)));
    }
    if let Some(rule) = &meta.rule {
        out.push(Item::pair(rule.key(), s(rule.value())));
    }
    if meta.mac_only_encrypted {
        out.push(Item::pair("mac_only_encrypted", Value::Bool(true)));
    }
    out.push(Item::pair("version", s(&meta.version)));
    Value::Map(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(groups: Vec<KeyGroup>) -> Metadata {
        Metadata {
            key_groups: groups,
            shamir_threshold: 0,
            last_modified: "2026-11-22T20:24:27Z".into(),
            mac: "ENC[x]".into(),
            rule: Some(CryptRule::default_rule()),
            mac_only_encrypted: false,
            version: WRITTEN_VERSION.into(),
        }
    }

    fn age(r: &str) -> MasterKey {
        MasterKey { key: KeyRef::Age { recipient: r.into() }, enc: "E".into(), created_at: None }
    }

    fn keys_of(v: &Value) -> Vec<String> {
        v.as_map()
            .unwrap()
            .iter()
            .filter_map(|i| match i {
                Item::Pair(k, _) => Some(k.clone()),
                Item::Comment(_) => None,
            })
            .collect()
    }

    #[test]
    fn writes_311_field_order() {
        let pgp = MasterKey {
            key: KeyRef::Pgp { fingerprint: "FP".into() },
            enc: "P".into(),
            created_at: Some("2026-11-22T20:11:14Z".into()),
        };
        let v = to_value(&meta(vec![vec![pgp, age("age1x")]]), EmptyList::Seq);
        assert_eq!(keys_of(&v), ["age", "lastmodified", "mac", "pgp", "unencrypted_suffix", "version"]);
        let back = from_value(&v).unwrap();
        assert_eq!(back.key_groups[0].len(), 2);
        // Load order puts pgp before age.
        assert_eq!(back.key_groups[0][0].key.kind(), KeyKind::Pgp);
    }

    #[test]
    fn key_groups_always_have_hc_vault_and_age() {
        let mut m = meta(vec![vec![age("a1")], vec![age("a2")]]);
        m.shamir_threshold = 2;
        let v = to_value(&m, EmptyList::Null);
        assert_eq!(keys_of(&v)[..2], ["shamir_threshold".to_owned(), "key_groups".to_owned()]);
        let Some(Value::Seq(groups)) = crate::tree::get(v.as_map().unwrap(), "key_groups") else { panic!() };
        assert_eq!(keys_of(&groups[0]), ["hc_vault", "age"]);
        let back = from_value(&v).unwrap();
        assert_eq!(back.key_groups.len(), 2);
        assert_eq!(back.shamir_threshold, 2);
    }

    #[test]
    fn rejects_bad_version_and_time() {
        let mut m = meta(vec![vec![age("a")]]);
        m.version = "3.7".into();
        assert_eq!(from_value(&to_value(&m, EmptyList::Seq)).unwrap_err(), "No Major.Minor.Patch elements found");
        m.version = "v3.9.0".into();
        assert!(from_value(&to_value(&m, EmptyList::Seq)).is_ok());
        m.last_modified = String::new();
        assert!(from_value(&to_value(&m, EmptyList::Seq)).unwrap_err().starts_with("parsing time \"\""));
    }

    #[test]
    fn foreign_key_kinds_survive() {
        let kms = MasterKey {
            key: KeyRef::AwsKms {
                arn: "arn:aws:kms:us-east-1:1:key/k".into(),
                role: String::new(),
                context: vec![("alpha".into(), "b".into())],
                aws_profile: String::new(),
            },
            enc: "QUJD".into(),
            created_at: Some("2024-01-01T00:00:00Z".into()),
        };
        let v = to_value(&meta(vec![vec![kms.clone()]]), EmptyList::Seq);
        let back = from_value(&v).unwrap();
        assert_eq!(back.key_groups[0][0], kms);
    }
}
