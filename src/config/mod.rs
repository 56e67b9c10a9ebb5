//! `.sops.yaml`: finding it, reading it, and choosing the creation rule for a
//! file (cli.md §5).
//!
//! The file is parsed with our own YAML store (comments and order do not
//! matter here, but one parser means one set of YAML rules) and read
//! leniently: unknown keys are ignored, as sops does.

pub mod destination;

use std::path::{Component, Path, PathBuf};

use regex::Regex;

use crate::context::Env;
use crate::crypt::rules::{CryptRule, RULE_KEYS};
use crate::error::Error;
use crate::keys::KeyRef;
use crate::stores::yaml::YamlStore;
use crate::stores::{Store, StoreOptions};
use crate::tree::{Item, Value};

/// A parsed `.sops.yaml`.
#[derive(Debug, Default)]
pub struct Config {
    /// Absolute directory of the config file (rule paths are relative to it).
    pub dir: PathBuf,
    /// `None` when the file has no `creation_rules` key.
    pub creation_rules: Option<Vec<Item>>,
    pub stores: StoresConfig,
}

/// The `stores:` section: per-format output options.
#[derive(Debug, Default, Clone, Copy)]
pub struct StoresConfig {
    pub yaml_indent: Option<i64>,
    pub json_indent: Option<i64>,
    pub json_binary_indent: Option<i64>,
}

/// The settings a creation rule contributes to a new file.
#[derive(Debug, Default, Clone)]
pub struct CreationRule {
    pub key_groups: Vec<Vec<KeyRef>>,
    pub shamir_threshold: usize,
    /// The six selection settings by metadata key name (empty = unset).
    pub selection: [String; 6],
    pub mac_only_encrypted: bool,
}

/// Locates the config: `--config`/`SOPS_CONFIG`, else `.sops.yaml` searched
/// from the working directory upward (not from the file), 100 levels at most.
/// Returns the path and any warning to print (a `.sops.yml` seen on the way).
pub fn find(cwd: &Path, explicit: Option<&str>, env: &Env) -> (Option<PathBuf>, Option<String>) {
    if let Some(p) = explicit.filter(|p| !p.is_empty()).or_else(|| env.non_empty("SOPS_CONFIG")) {
        // Kept as given: sops names it so in errors, and a relative path is
        // relative to the working directory anyway.
        return (Some(PathBuf::from(p)), None);
    }
    let mut yml_seen: Option<String> = None;
    let mut rel = PathBuf::new();
    // sops climbs 100 levels; past the root every `..` names the root again,
    // so stopping there finds the same file while sparing ~200 `stat`s of
    // ever longer paths (a sixth of a tiny `exec-env`'s time).
    let plain = cwd.is_absolute() && cwd.components().all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    let levels = if plain { cwd.components().count().clamp(1, 100) } else { 100 };
    for _ in 0..levels {
        let candidate = cwd.join(&rel).join(".sops.yaml");
        if candidate.is_file() {
            let warning = yml_seen.map(|y| {
                format!(
                    "ignoring {y:?} when searching for config file; the config file must be called \".sops.yaml\"; using {:?} instead",
                    rel.join(".sops.yaml").display().to_string()
                )
            });
            return (Some(candidate), warning);
        }
        if yml_seen.is_none() && cwd.join(&rel).join(".sops.yml").is_file() {
            yml_seen = Some(rel.join(".sops.yml").display().to_string());
        }
        rel.push("..");
    }
    let warning = yml_seen.map(|y| {
        format!("ignoring {y:?} when searching for config file; the config file must be called \".sops.yaml\"")
    });
    (None, warning)
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        #[allow(clippy::cast_possible_truncation)]
        Value::Float(f) if f.fract() == 0.0 => Some(*f as i64),
        _ => None,
    }
}

/// Reads and parses a config file.
pub fn load(path: &Path) -> Result<Config, Error> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Config(format!("could not read config file: open {}: {}", path.display(), io_text(&e))))?;
    let docs = YamlStore::new(StoreOptions::default())
        .load_encrypted(&bytes)
        .map_err(|e| {
            // sops decodes the config with yaml.Unmarshal: go-yaml's text alone.
            let text = e.0.strip_prefix("Error unmarshalling input yaml: ").unwrap_or(&e.0);
            Error::Config(format!("error loading config: Could not unmarshal config file: {text}"))
        })?;
    // `filepath.Abs(dir(configPath))`: relative to the working directory.
    let abs = clean(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    let dir = abs.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let mut cfg = Config { dir, ..Config::default() };
    let Some(doc) = docs.into_iter().next() else { return Ok(cfg) };
    for item in doc {
        let Item::Pair(k, v) = item else { continue };
        match k.as_str() {
            "creation_rules" => {
                cfg.creation_rules = Some(match v {
                    Value::Seq(rules) => rules.into_iter().filter_map(|r| match r {
                        Value::Map(m) => Some(Item::pair("rule", Value::Map(m))),
                        _ => None,
                    }).collect(),
                    Value::Null => Vec::new(),
                    _ => return Err(Error::Config("error loading config: Could not unmarshal config file: creation_rules must be a list".to_owned())),
                });
            }
            "stores" => {
                if let Value::Map(stores) = v {
                    let indent = |name: &str| match crate::tree::get(&stores, name) {
                        Some(Value::Map(m)) => crate::tree::get(m, "indent").and_then(int_of),
                        _ => None,
                    };
                    cfg.stores = StoresConfig {
                        yaml_indent: indent("yaml"),
                        json_indent: indent("json"),
                        json_binary_indent: indent("json_binary"),
                    };
                }
            }
            _ => {}
        }
    }
    Ok(cfg)
}

/// Lexical clean-up as Go's `filepath.Clean` does it: `.` dropped, `..`
/// removing the previous component, links not resolved.
pub fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Go's wording of common OS errors, for messages scripts compare.
pub fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
    }
}

/// Go's `%T` of a value go-yaml decoded into an `interface{}` field.
fn config_go_type(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "map[string]interface {}",
        other => other.go_type(),
    }
}

fn strings(v: &Value, field: &str) -> Result<Vec<String>, Error> {
    let outer = match field {
        "gcp_kms" => "gcpkms",
        "hc_vault_transit_uri" => "vault",
        f => f,
    };
    let joined = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Str(s) => s.clone(),
        Value::Seq(items) => {
            let mut parts = Vec::new();
            for i in items {
                match i {
                    Value::Str(s) => parts.push(s.clone()),
                    other => {
                        return Err(Error::Config(format!(
                            "invalid {outer} key configuration: invalid {field} key configuration: expected string in list, got {}",
                            config_go_type(other)
                        )))
                    }
                }
            }
            parts.join(",")
        }
        other => {
            return Err(Error::Config(format!(
                "invalid {outer} key configuration: invalid {field} key configuration: expected string, []string, or nil, got {}",
                config_go_type(other)
            )))
        }
    };
    Ok(joined.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
}

/// Parses `arn[+role_arn]` (split at the first `+arn:`).
pub fn kms_key(spec: &str, context: &[(String, String)], profile: &str) -> KeyRef {
    let spec: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    let (arn, role) = match spec.find("+arn:") {
        Some(i) => (spec[..i].to_owned(), spec[i + 1..].to_owned()),
        None => (spec, String::new()),
    };
    let mut context = context.to_vec();
    context.sort();
    KeyRef::AwsKms { arn, role, context, aws_profile: profile.to_owned() }
}

/// Parses `https://<vault>/keys/<name>[/<version>]`.
/// An empty version is looked up later, with the key source (cli.md §10.5).
pub fn azure_key(url: &str) -> Result<KeyRef, Error> {
    let (vault_url, name, version) = crate::keys::azure_kv::parse_url(url)
        .ok_or_else(|| Error::Generic(crate::keys::azure_kv::parse_error(url)))?;
    Ok(KeyRef::AzureKv { vault_url, name, version })
}

/// Parses `https://host:port/v1/<engine path>/keys/<name>`.
pub fn vault_key(uri: &str) -> Result<KeyRef, Error> {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err(Error::Generic(format!("missing scheme in Vault URL (should be like this: +https://vault.example.com:8200/v1/transit/keys/keyName), got: {uri}")));
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let bad = || Error::Generic("vault path does not seem to be formatted correctly: (eg. https://vault.example.com:8200/v1/transit/keys/keyName)".to_owned());
    let path = path.strip_prefix("v1/").ok_or_else(bad)?;
    let (engine, name) = path.rsplit_once("/keys/").ok_or_else(bad)?;
    if engine.is_empty() || name.is_empty() || name.contains('/') {
        return Err(bad());
    }
    Ok(KeyRef::Vault { address: format!("{scheme}://{host}"), engine_path: engine.to_owned(), key_name: name.to_owned() })
}

fn group_from_rule_fields(m: &[Item], context: &[(String, String)]) -> Result<Vec<KeyRef>, Error> {
    let get = |k: &str| crate::tree::get(m, k).cloned().unwrap_or(Value::Null);
    let profile = match get("aws_profile") {
        Value::Str(s) => s,
        _ => String::new(),
    };
    let mut keys = Vec::new();
    for r in strings(&get("age"), "age")? {
        keys.push(KeyRef::Age { recipient: r });
    }
    for fp in strings(&get("pgp"), "pgp")? {
        keys.push(KeyRef::Pgp { fingerprint: fp.replace(' ', "") });
    }
    for arn in strings(&get("kms"), "kms")? {
        keys.push(kms_key(&arn, context, &profile));
    }
    for id in strings(&get("gcp_kms"), "gcp_kms")? {
        keys.push(KeyRef::GcpKms { resource_id: id.replace(' ', "") });
    }
    for id in strings(&get("hckms"), "hckms")? {
        keys.push(KeyRef::Hckms { key_id: id });
    }
    for url in strings(&get("azure_keyvault"), "azure_keyvault")? {
        keys.push(azure_key(&url)?);
    }
    for uri in strings(&get("hc_vault_transit_uri"), "hc_vault_transit_uri")? {
        keys.push(vault_key(&uri)?);
    }
    Ok(keys)
}

fn object_list(m: &[Item], key: &str) -> Vec<Vec<Item>> {
    match crate::tree::get(m, key) {
        Some(Value::Seq(v)) => v
            .iter()
            .filter_map(|x| match x {
                Value::Map(m) => Some(m.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn str_field(m: &[Item], key: &str) -> String {
    match crate::tree::get(m, key) {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

/// A `key_groups` element, with `merge` groups flattened first (cli.md §5.3).
fn key_group(m: &[Item]) -> Result<Vec<KeyRef>, Error> {
    let mut keys = Vec::new();
    for merged in object_list(m, "merge") {
        keys.extend(key_group(&merged)?);
    }
    for r in strings(crate::tree::get(m, "age").unwrap_or(&Value::Null), "age")? {
        keys.push(KeyRef::Age { recipient: r });
    }
    if let Some(Value::Seq(fps)) = crate::tree::get(m, "pgp") {
        for fp in fps.iter().filter_map(Value::as_str) {
            keys.push(KeyRef::Pgp { fingerprint: fp.replace(' ', "") });
        }
    }
    for k in object_list(m, "kms") {
        let mut context: Vec<(String, String)> = match crate::tree::get(&k, "context") {
            Some(Value::Map(c)) => c
                .iter()
                .filter_map(|i| match i {
                    Item::Pair(a, Value::Str(b)) => Some((a.clone(), b.clone())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        context.sort();
        keys.push(KeyRef::AwsKms {
            arn: str_field(&k, "arn"),
            role: str_field(&k, "role"),
            context,
            aws_profile: str_field(&k, "aws_profile"),
        });
    }
    for k in object_list(m, "gcp_kms") {
        keys.push(KeyRef::GcpKms { resource_id: str_field(&k, "resource_id") });
    }
    for k in object_list(m, "hckms") {
        keys.push(KeyRef::Hckms { key_id: str_field(&k, "key_id") });
    }
    for k in object_list(m, "azure_keyvault") {
        keys.push(KeyRef::AzureKv {
            vault_url: str_field(&k, "vaultUrl"),
            name: str_field(&k, "key"),
            version: str_field(&k, "version"),
        });
    }
    if let Some(Value::Seq(uris)) = crate::tree::get(m, "hc_vault") {
        for u in uris.iter().filter_map(Value::as_str) {
            keys.push(vault_key(u)?);
        }
    }
    let mut unique: Vec<KeyRef> = Vec::with_capacity(keys.len());
    for k in keys {
        if !unique.contains(&k) {
            unique.push(k);
        }
    }
    Ok(unique)
}

impl Config {
    /// The first creation rule whose `path_regex` matches `file` (absolute),
    /// matched relative to the config directory when the file is below it.
    pub fn creation_rule(&self, file: &Path, kms_context: &[(String, String)]) -> Result<Option<CreationRule>, Error> {
        let Some(rules) = &self.creation_rules else { return Ok(None) };
        let file_s = file.to_string_lossy();
        let prefix = format!("{}{}", self.dir.display(), std::path::MAIN_SEPARATOR);
        let matched_path = file_s.strip_prefix(&prefix).unwrap_or(&file_s);
        for item in rules {
            let Item::Pair(_, Value::Map(m)) = item else { continue };
            let regex = str_field(m, "path_regex");
            if !regex.is_empty() {
                let re = Regex::new(&regex).map_err(|e| Error::Config(format!("can not compile regexp: {e}")))?;
                if !re.is_match(matched_path) {
                    continue;
                }
            }
            return Ok(Some(Self::rule_settings(m, kms_context)?));
        }
        Err(Error::Config("error loading config: no matching creation rules found".to_owned()))
    }

    fn rule_settings(m: &[Item], kms_context: &[(String, String)]) -> Result<CreationRule, Error> {
        let mut rule = CreationRule::default();
        let groups = object_list(m, "key_groups");
        if groups.is_empty() {
            rule.key_groups = vec![group_from_rule_fields(m, kms_context)?];
        } else {
            for g in groups {
                rule.key_groups.push(key_group(&g)?);
            }
        }
        rule.shamir_threshold = crate::tree::get(m, "shamir_threshold")
            .and_then(int_of)
            .and_then(|i| usize::try_from(i).ok())
            .unwrap_or(0);
        let mut set = 0;
        for (i, key) in RULE_KEYS.iter().enumerate() {
            rule.selection[i] = str_field(m, key);
            if !rule.selection[i].is_empty() {
                set += 1;
            }
        }
        if set > 1 {
            return Err(Error::Config("error loading config: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex for the same rule".to_owned()));
        }
        rule.mac_only_encrypted = matches!(crate::tree::get(m, "mac_only_encrypted"), Some(Value::Bool(true)));
        Ok(rule)
    }
}

/// Merges CLI selection settings over a rule's (cli.md §3.12): a non-empty
/// CLI value wins; more than one non-empty setting afterwards is exit 8.
pub fn merge_selection(cli: &[String; 6], rule: &[String; 6]) -> Result<Option<CryptRule>, Error> {
    let mut chosen = None;
    for i in 0..6 {
        let v = if cli[i].is_empty() { &rule[i] } else { &cli[i] };
        if v.is_empty() {
            continue;
        }
        if chosen.is_some() {
            return Err(Error::ConflictingRules);
        }
        chosen = Some(CryptRule::from_key(RULE_KEYS[i], v).map_err(Error::Config)?);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_climbs_to_an_ancestor_config() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.path().join("a/.sops.yaml"), "creation_rules: []\n").unwrap();
        let (found, warning) = find(&deep, None, &Env::default());
        assert_eq!(found, Some(deep.join("../../.sops.yaml")));
        assert!(warning.is_none());
        let (found, _) = find(&root.path().join("a/b/c/../c"), None, &Env::default());
        assert!(found.is_some(), "a lexical path still climbs");
    }

    #[test]
    fn kms_role_split() {
        let k = kms_key("arn:aws:kms:us-east-1:1:key/a+arn:aws:iam::1:role/r", &[], "");
        assert_eq!(k, KeyRef::AwsKms {
            arn: "arn:aws:kms:us-east-1:1:key/a".into(),
            role: "arn:aws:iam::1:role/r".into(),
            context: vec![],
            aws_profile: String::new()
        });
    }

    #[test]
    fn vault_and_azure_uris() {
        assert_eq!(vault_key("https://v:8200/v1/transit/keys/k").unwrap(), KeyRef::Vault {
            address: "https://v:8200".into(),
            engine_path: "transit".into(),
            key_name: "k".into()
        });
        assert!(vault_key("v:8200/v1/transit/keys/k").is_err());
        assert_eq!(azure_key("https://v.vault.azure.net/keys/key/abc").unwrap(), KeyRef::AzureKv {
            vault_url: "https://v.vault.azure.net".into(),
            name: "key".into(),
            version: "abc".into()
        });
    }

    #[test]
    fn selection_merge_conflicts() {
        let mut cli: [String; 6] = Default::default();
        let mut rule: [String; 6] = Default::default();
        cli[3] = "^x".into();
        rule[0] = "_u".into();
        assert!(matches!(merge_selection(&cli, &rule), Err(Error::ConflictingRules)));
        rule[0].clear();
        rule[3] = "^y".into();
        assert_eq!(merge_selection(&cli, &rule).unwrap().unwrap().value(), "^x");
    }
}
