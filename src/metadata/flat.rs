//! Flattened metadata for the line-based stores (format.md §6.7): the nested
//! `sops` map turned into single-level `key__map_x__list_0…` names and back.
//!
//! This module owns the names, the value spelling (integers in decimal,
//! booleans as `true`/`false`, newlines as the two characters `\n`) and the
//! order sops 3.11 writes. The `sops_` prefix (dotenv) and the `[sops]`
//! section (INI) belong to the callers; reading the unflattened map into
//! [`super::Metadata`] belongs to [`super::from_value`].

use crate::gotext;
use crate::tree::{Branch, Item, Value};

const MAP_SEPARATOR: &str = "__map_";
const LIST_SEPARATOR: &str = "__list_";

/// Flattens the metadata map (as [`super::to_value`] builds it) into the
/// `(name, value)` pairs sops 3.11 writes, sorted by name.
///
/// Empty lists and mappings give no pair and null values are skipped, as
/// sops's JSON round trip of its metadata struct does (§6.7). Newlines in
/// values are written as `\n` (sops's `EncodeNewLines`). 3.11 dotenv sorts
/// the names as byte strings; 3.11 INI writes them in Go map order, which
/// is random, so sorting is as valid there and deterministic.
pub fn flatten(meta: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Map(items) = meta {
        for item in items {
            if let Item::Pair(k, v) = item {
                flatten_into(k.clone(), v, &mut out);
            }
        }
    }
    for (_, v) in &mut out {
        if v.contains('\n') {
            *v = v.replace('\n', "\\n");
        }
    }
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out
}

fn flatten_into(name: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Map(items) => {
            for item in items {
                if let Item::Pair(k, v) = item {
                    flatten_into(format!("{name}{MAP_SEPARATOR}{k}"), v, out);
                }
            }
        }
        Value::Seq(values) => {
            // Comments are not list elements (§6.7).
            let elements = values.iter().filter(|v| !matches!(v, Value::Comment(_)));
            for (i, v) in elements.enumerate() {
                flatten_into(format!("{name}{LIST_SEPARATOR}{i}"), v, out);
            }
        }
        Value::Null | Value::Comment(_) => {}
        Value::Str(s) | Value::Time(s) => out.push((name, s.clone())),
        Value::Bytes(b) => out.push((name, String::from_utf8_lossy(b).into_owned())),
        Value::Int(i) => out.push((name, i.to_string())),
        // Only `shamir_threshold` is numeric; sops formats it with `%.0f`
        // after its JSON round trip turned it into a float.
        Value::Float(f) => out.push((name, format!("{f:.0}"))),
        Value::Bool(b) => out.push((name, b.to_string())),
    }
}

/// One piece of a flattened name.
enum Token {
    Key(String),
    Index(usize),
}

/// Splits a name at every `__map_` and `__list_` (sops's `tokenize`): the
/// first piece is a top-level key. An index that is not a number counts as
/// 0, as Go's ignored `strconv.Atoi` error gives.
fn tokenize(name: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = name;
    let mut is_index = false;
    loop {
        let next = [MAP_SEPARATOR, LIST_SEPARATOR]
            .iter()
            .filter_map(|sep| rest.find(sep).map(|at| (at, *sep)))
            .min_by_key(|&(at, _)| at);
        let (piece, after) = match next {
            Some((at, sep)) => (&rest[..at], Some((sep, &rest[at + sep.len()..]))),
            None => (rest, None),
        };
        tokens.push(if is_index { Token::Index(piece.parse().unwrap_or(0)) } else { Token::Key(piece.to_owned()) });
        match after {
            Some((sep, tail)) => {
                is_index = sep == LIST_SEPARATOR;
                rest = tail;
            }
            None => return tokens,
        }
    }
}

/// A position of the tree being rebuilt.
#[derive(Default)]
struct Node {
    value: Option<String>,
    keys: Vec<(String, Node)>,
    indices: Vec<(usize, Node)>,
}

impl Node {
    fn key(&mut self, k: String) -> &mut Node {
        let at = self.keys.iter().position(|(name, _)| *name == k).unwrap_or_else(|| {
            self.keys.push((k, Node::default()));
            self.keys.len() - 1
        });
        &mut self.keys[at].1
    }

    fn index(&mut self, i: usize) -> &mut Node {
        let at = self.indices.iter().position(|(n, _)| *n == i).unwrap_or_else(|| {
            self.indices.push((i, Node::default()));
            self.indices.len() - 1
        });
        &mut self.indices[at].1
    }

    /// The node as a value. A position holding both a value and children
    /// fails with 3.13.2's message (3.11 panics there); so does a list with
    /// a gap (3.11 fills it with an empty entry).
    fn into_value(mut self) -> Result<Value, String> {
        let kinds = usize::from(self.value.is_some())
            + usize::from(!self.keys.is_empty())
            + usize::from(!self.indices.is_empty());
        if kinds > 1 {
            return Err("Error while unflattening: Type mismatch".to_owned());
        }
        if let Some(v) = self.value {
            return Ok(Value::Str(v));
        }
        if !self.indices.is_empty() {
            self.indices.sort_by_key(|(i, _)| *i);
            if self.indices.iter().enumerate().any(|(want, (i, _))| want != *i) {
                return Err("Error while unflattening: Incomplete list".to_owned());
            }
            return self.indices.into_iter().map(|(_, n)| n.into_value()).collect::<Result<_, _>>().map(Value::Seq);
        }
        self.keys
            .into_iter()
            .map(|(k, n)| n.into_value().map(|v| Item::Pair(k, v)))
            .collect::<Result<_, _>>()
            .map(Value::Map)
    }
}

/// Rebuilds the nested metadata map from flattened pairs (prefix already
/// removed), ready for [`super::from_value`].
///
/// Every `\n` pair in a value becomes a newline first (sops's
/// `DecodeNewLines`, which also reads the real newlines 3.13.0/3.13.1 wrote
/// into INI files). A name given twice keeps its last value, as sops 3.11's
/// map did. `shamir_threshold` and `mac_only_encrypted` are typed the way
/// sops's `DecodeNonStrings` types them.
pub fn unflatten(pairs: Vec<(String, String)>) -> Result<Value, String> {
    let mut root = Node::default();
    for (name, value) in pairs {
        let value = match name.as_str() {
            "shamir_threshold" => check_threshold(&value)?,
            _ => value.replace("\\n", "\n"),
        };
        let mut node = &mut root;
        for token in tokenize(&name) {
            node = match token {
                Token::Key(k) => node.key(k),
                Token::Index(i) => node.index(i),
            };
        }
        // 3.11 assigns into a map: the last value wins.
        node.value = Some(value);
    }
    let mut value = root.into_value()?;
    if let Value::Map(items) = &mut value {
        for item in items {
            if let Item::Pair(k, v) = item {
                match (k.as_str(), &*v) {
                    ("mac_only_encrypted", Value::Str(s)) => *v = Value::Bool(s == "true"),
                    ("shamir_threshold", Value::Str(s)) => *v = Value::Int(s.parse().unwrap_or(0)),
                    _ => {}
                }
            }
        }
    }
    Ok(value)
}

/// sops reads `shamir_threshold` with `strconv.Atoi`, falling back to an
/// integral float for files of older releases; anything else is an error.
fn check_threshold(s: &str) -> Result<String, String> {
    if let Some(i) = parse_go_int(s) {
        return Ok(i.to_string());
    }
    match crate::tree::number::parse_float_go(s) {
        #[allow(clippy::cast_possible_truncation)]
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18 => Ok((f as i64).to_string()),
        _ => Err(format!("shamir_threshold is not an integer: strconv.Atoi: parsing {}: invalid syntax", gotext::quote(s))),
    }
}

/// Go `strconv.Atoi` for the values that matter: optional sign, digits.
fn parse_go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}


/// The prefix of dotenv's metadata keys (format.md §6.7).
pub const DOTENV_PREFIX: &str = "sops_";

/// The dotenv lines of the metadata map: `sops_<name>=<value>` pairs, in
/// the order sops 3.11 appends them after the data.
pub fn dotenv_items(meta: &Value) -> Vec<Item> {
    flatten(meta).into_iter().map(|(k, v)| Item::Pair(format!("{DOTENV_PREFIX}{k}"), Value::Str(v))).collect()
}

/// The INI `[sops]` section of the metadata map, as a top-level item.
pub fn ini_section(meta: &Value) -> Item {
    let keys = flatten(meta).into_iter().map(|(k, v)| Item::Pair(k, Value::Str(v))).collect();
    Item::Pair("sops".to_owned(), Value::Map(keys))
}

/// A value of a flat store as text: metadata values are strings there.
fn text_of(value: Value) -> String {
    match value {
        Value::Str(s) => s,
        Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
        other => String::from_utf8_lossy(&crate::stores::dotenv::value_text(&other)).into_owned(),
    }
}

fn pairs_of(items: Vec<Item>) -> Vec<(String, String)> {
    items
        .into_iter()
        .filter_map(|item| match item {
            Item::Pair(k, v) => Some((k, text_of(v))),
            Item::Comment(_) => None,
        })
        .collect()
}

/// The keys of an INI `[sops]` section's mapping as pairs for
/// [`unflatten`]; `None` when the value is not a mapping.
pub fn section_pairs(section: Value) -> Option<Vec<(String, String)>> {
    match section {
        Value::Map(items) => Some(pairs_of(items)),
        _ => None,
    }
}

/// Removes the `sops_…` pairs from every document and returns the first
/// document's, prefix removed (sops 3.11's dotenv `LoadEncryptedFile`);
/// `None` when it has none, which sops reports as missing metadata.
pub fn take_dotenv(docs: &mut [Branch]) -> Option<Vec<(String, String)>> {
    let mut found = Vec::new();
    for (i, doc) in docs.iter_mut().enumerate() {
        let (meta, data): (Vec<Item>, Vec<Item>) = std::mem::take(doc)
            .into_iter()
            .partition(|item| matches!(item, Item::Pair(k, _) if k.starts_with(DOTENV_PREFIX)));
        *doc = data;
        if i == 0 {
            found = pairs_of(meta);
        }
    }
    for (k, _) in &mut found {
        k.drain(..DOTENV_PREFIX.len());
    }
    (!found.is_empty()).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata;

    fn map(pairs: Vec<(&str, Value)>) -> Value {
        Value::Map(pairs.into_iter().map(|(k, v)| Item::pair(k, v)).collect())
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_owned())
    }

    fn age(enc: &str, recipient: &str) -> Value {
        map(vec![("recipient", s(recipient)), ("enc", s(enc))])
    }

    const R1: &str = "age1kp8l9t8uak2xq6cn3ynw20ru7c9u0wp964udfqw0eeggpu8apvwqwxq422";
    const R2: &str = "age1e9scglk3fpekws4mc0ywcrgveh9f4s3r2ykfr925h3zdj0y63v7s7jpdmr";
    const R3: &str = "age1dmzws4zrwmg0xyn523pv050hsnutqejl9vgfsu9yjzeag67llfus64rfy3";
    const FP: &str = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
    const AGE_ENC: &str = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n";
    const PGP_ENC: &str = "-----BEGIN PGP MESSAGE-----\n\nhQEMAyUp\n-----END PGP MESSAGE-----";

    /// The two-key-group example of format.md §6.7, as `to_value` builds it
    /// (YAML order, empty `hc_vault` lists present).
    fn example() -> Value {
        let group = |age_keys: Vec<Value>, pgp: Option<Value>| {
            let mut items = Vec::new();
            if let Some(p) = pgp {
                items.push(Item::pair("pgp", Value::Seq(vec![p])));
            }
            items.push(Item::pair("hc_vault", Value::Seq(vec![])));
            items.push(Item::pair("age", if age_keys.is_empty() { Value::Null } else { Value::Seq(age_keys) }));
            Value::Map(items)
        };
        let pgp = map(vec![("created_at", s("2026-11-22T20:22:05Z")), ("enc", s(PGP_ENC)), ("fp", s(FP))]);
        map(vec![
            ("shamir_threshold", Value::Int(2)),
            (
                "key_groups",
                Value::Seq(vec![
                    group(vec![age(AGE_ENC, R1), age(AGE_ENC, R2)], None),
                    group(vec![age(AGE_ENC, R3)], None),
                    group(vec![], Some(pgp)),
                ]),
            ),
            ("lastmodified", s("2026-11-22T20:22:05Z")),
            ("mac", s("ENC[AES256_GCM,data:x,type:str]")),
            ("unencrypted_suffix", s("_unencrypted")),
            ("version", s("3.11.0")),
        ])
    }

    #[test]
    fn flattens_the_spec_example_in_sops_order() {
        let lines: Vec<String> = flatten(&example()).into_iter().map(|(k, v)| format!("sops_{k}={v}")).collect();
        let enc = "-----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n-----END AGE ENCRYPTED FILE-----\\n";
        let expected = [
            format!("sops_key_groups__list_0__map_age__list_0__map_enc={enc}"),
            format!("sops_key_groups__list_0__map_age__list_0__map_recipient={R1}"),
            format!("sops_key_groups__list_0__map_age__list_1__map_enc={enc}"),
            format!("sops_key_groups__list_0__map_age__list_1__map_recipient={R2}"),
            format!("sops_key_groups__list_1__map_age__list_0__map_enc={enc}"),
            format!("sops_key_groups__list_1__map_age__list_0__map_recipient={R3}"),
            "sops_key_groups__list_2__map_pgp__list_0__map_created_at=2026-11-22T20:22:05Z".to_owned(),
            "sops_key_groups__list_2__map_pgp__list_0__map_enc=-----BEGIN PGP MESSAGE-----\\n\\nhQEMAyUp\\n-----END PGP MESSAGE-----".to_owned(),
            format!("sops_key_groups__list_2__map_pgp__list_0__map_fp={FP}"),
            "sops_lastmodified=2026-11-22T20:22:05Z".to_owned(),
            "sops_mac=ENC[AES256_GCM,data:x,type:str]".to_owned(),
            "sops_shamir_threshold=2".to_owned(),
            "sops_unencrypted_suffix=_unencrypted".to_owned(),
            "sops_version=3.11.0".to_owned(),
        ];
        assert_eq!(lines, expected);
    }

    #[test]
    fn sorting_is_by_bytes_not_by_index() {
        let keys: Vec<Value> = (0..11).map(|i| age("e", &format!("r{i}"))).collect();
        let flat = flatten(&map(vec![("age", Value::Seq(keys))]));
        // 3.11 sorts the strings: `__list_10` comes before `__list_2` (§6.7).
        let names: Vec<&str> = flat.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names[..6],
            [
                "age__list_0__map_enc",
                "age__list_0__map_recipient",
                "age__list_10__map_enc",
                "age__list_10__map_recipient",
                "age__list_1__map_enc",
                "age__list_1__map_recipient",
            ]
        );
    }

    #[test]
    fn kms_context_and_empty_profile() {
        let kms = map(vec![
            ("arn", s("arn:aws:kms:x")),
            ("context", map(vec![("alpha", s("b")), ("zeta", s("1"))])),
            ("created_at", s("2024-01-01T00:00:00Z")),
            ("enc", s("QUJD")),
            ("aws_profile", s("")),
        ]);
        let flat = flatten(&map(vec![("kms", Value::Seq(vec![kms])), ("mac_only_encrypted", Value::Bool(true))]));
        let names: Vec<String> = flat.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            names,
            [
                "kms__list_0__map_arn=arn:aws:kms:x",
                "kms__list_0__map_aws_profile=",
                "kms__list_0__map_context__map_alpha=b",
                "kms__list_0__map_context__map_zeta=1",
                "kms__list_0__map_created_at=2024-01-01T00:00:00Z",
                "kms__list_0__map_enc=QUJD",
                "mac_only_encrypted=true",
            ]
        );
    }

    #[test]
    fn round_trip_through_metadata() {
        let flat = flatten(&example());
        let back = unflatten(flat).unwrap();
        let meta = metadata::from_value(&back).unwrap();
        assert_eq!(meta.key_groups.len(), 3);
        assert_eq!(meta.key_groups[0].len(), 2);
        assert_eq!(meta.shamir_threshold, 2);
        assert_eq!(meta.key_groups[2][0].enc, PGP_ENC);
        // Writing the read metadata again gives the same lines.
        let again = metadata::to_value(&meta, metadata::EmptyList::Seq);
        assert_eq!(flatten(&again), flatten(&example()));
    }

    #[test]
    fn reads_real_and_escaped_newlines() {
        let escaped = unflatten(vec![("age__list_0__map_enc".into(), "a\\nb\\n".into())]).unwrap();
        let real = unflatten(vec![("age__list_0__map_enc".into(), "a\nb\n".into())]).unwrap();
        assert!(escaped == real);
        let Value::Map(items) = escaped else { panic!() };
        let Some(Value::Seq(list)) = crate::tree::get(&items, "age") else { panic!() };
        let Value::Map(entry) = &list[0] else { panic!() };
        assert_eq!(crate::tree::get(entry, "enc").unwrap().as_str(), Some("a\nb\n"));
    }

    #[test]
    fn typed_fields_and_duplicates() {
        let v = unflatten(vec![
            ("mac_only_encrypted".into(), "true".into()),
            ("shamir_threshold".into(), "2.0".into()),
            ("version".into(), "1".into()),
            ("version".into(), "3.11.0".into()),
        ])
        .unwrap();
        let Value::Map(items) = v else { panic!() };
        assert!(matches!(crate::tree::get(&items, "mac_only_encrypted"), Some(Value::Bool(true))));
        assert!(matches!(crate::tree::get(&items, "shamir_threshold"), Some(Value::Int(2))));
        assert_eq!(crate::tree::get(&items, "version").unwrap().as_str(), Some("3.11.0"));
        let err = unflatten(vec![("shamir_threshold".into(), "x".into())]).unwrap_err();
        assert_eq!(err, "shamir_threshold is not an integer: strconv.Atoi: parsing \"x\": invalid syntax");
    }

    #[test]
    fn structural_errors() {
        let mismatch = unflatten(vec![("age".into(), "x".into()), ("age__list_0__map_enc".into(), "y".into())]);
        assert_eq!(mismatch.unwrap_err(), "Error while unflattening: Type mismatch");
        let gap = unflatten(vec![("age__list_1__map_enc".into(), "y".into())]);
        assert_eq!(gap.unwrap_err(), "Error while unflattening: Incomplete list");
    }
}
