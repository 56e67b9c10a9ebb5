//! The type check go-yaml does when sops unmarshals `.sops.yaml` into its
//! `configFile` struct before choosing a destination rule (cli.md §11 step 3).
//!
//! rsops reads the config as an untyped tree and picks fields leniently, but
//! sops fails the whole file when a field has the wrong YAML type (a list for
//! `s3_bucket`, text for `vault_kv_version`), listing every such field as
//! `line N: cannot unmarshal !!seq into string`. The tree has no line
//! numbers, so this check walks the raw YAML events (saphyr-parser) against
//! a table of sops 3.11's struct fields. Parse errors are not reported here:
//! the config loader has already reported them with go-yaml's wording.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

/// A Go type as go-yaml decodes into it.
enum Ty {
    Str,
    Int,
    Bool,
    /// `interface{}`: takes anything.
    Any,
    /// `map[string]*string`
    StrPtrMap,
    Slice(&'static Ty),
    Struct(&'static str, &'static [(&'static str, Ty)]),
}

impl Ty {
    fn name(&self) -> String {
        match self {
            Ty::Str => "string".to_owned(),
            Ty::Int => "int".to_owned(),
            Ty::Bool => "bool".to_owned(),
            Ty::Any => "interface {}".to_owned(),
            Ty::StrPtrMap => "map[string]*string".to_owned(),
            Ty::Slice(t) => format!("[]{}", t.name()),
            Ty::Struct(n, _) => (*n).to_owned(),
        }
    }
}

// sops 3.11 config/config.go: configFile and the structs below it.
static KEY_GROUP: Ty = Ty::Struct("config.keyGroup", &[
    ("merge", Ty::Slice(&KEY_GROUP)),
    ("kms", Ty::Slice(&KMS_KEY)),
    ("gcp_kms", Ty::Slice(&Ty::Struct("config.gcpKmsKey", &[("resource_id", Ty::Str)]))),
    ("hckms", Ty::Slice(&Ty::Struct("config.hckmsKey", &[("key_id", Ty::Str)]))),
    ("azure_keyvault", Ty::Slice(&Ty::Struct("config.azureKVKey", &[
        ("vaultUrl", Ty::Str),
        ("key", Ty::Str),
        ("version", Ty::Str),
    ]))),
    ("hc_vault", Ty::Slice(&Ty::Str)),
    ("age", Ty::Slice(&Ty::Str)),
    ("pgp", Ty::Slice(&Ty::Str)),
]);

static KMS_KEY: Ty = Ty::Struct("config.kmsKey", &[
    ("arn", Ty::Str),
    ("role", Ty::Str),
    ("context", Ty::StrPtrMap),
    ("aws_profile", Ty::Str),
]);

static CREATION_RULE: Ty = Ty::Struct("config.creationRule", CREATION_RULE_FIELDS);

const CREATION_RULE_FIELDS: &[(&str, Ty)] = &[
    ("path_regex", Ty::Str),
    ("kms", Ty::Any),
    ("aws_profile", Ty::Str),
    ("age", Ty::Any),
    ("pgp", Ty::Any),
    ("gcp_kms", Ty::Any),
    ("hckms", Ty::Slice(&Ty::Str)),
    ("azure_keyvault", Ty::Any),
    ("hc_vault_transit_uri", Ty::Any),
    ("key_groups", Ty::Slice(&KEY_GROUP)),
    ("shamir_threshold", Ty::Int),
    ("unencrypted_suffix", Ty::Str),
    ("encrypted_suffix", Ty::Str),
    ("unencrypted_regex", Ty::Str),
    ("encrypted_regex", Ty::Str),
    ("unencrypted_comment_regex", Ty::Str),
    ("encrypted_comment_regex", Ty::Str),
    ("mac_only_encrypted", Ty::Bool),
];

static DESTINATION_RULE: Ty = Ty::Struct("config.destinationRule", &[
    ("path_regex", Ty::Str),
    ("s3_bucket", Ty::Str),
    ("s3_prefix", Ty::Str),
    ("gcs_bucket", Ty::Str),
    ("gcs_prefix", Ty::Str),
    ("vault_path", Ty::Str),
    ("vault_address", Ty::Str),
    ("vault_kv_mount_name", Ty::Str),
    ("vault_kv_version", Ty::Int),
    ("recreation_rule", Ty::Struct("config.creationRule", CREATION_RULE_FIELDS)),
    ("omit_extensions", Ty::Bool),
]);

const INDENT: &[(&str, Ty)] = &[("indent", Ty::Int)];

static CONFIG_FILE: Ty = Ty::Struct("config.configFile", &[
    ("creation_rules", Ty::Slice(&CREATION_RULE)),
    ("destination_rules", Ty::Slice(&DESTINATION_RULE)),
    ("stores", Ty::Struct("config.StoresConfig", &[
        ("dotenv", Ty::Struct("config.DotenvStoreConfig", &[])),
        ("ini", Ty::Struct("config.INIStoreConfig", &[])),
        ("json_binary", Ty::Struct("config.JSONBinaryStoreConfig", INDENT)),
        ("json", Ty::Struct("config.JSONStoreConfig", INDENT)),
        ("yaml", Ty::Struct("config.YAMLStoreConfig", INDENT)),
    ])),
]);

#[derive(PartialEq, Eq)]
enum Kind {
    Scalar,
    Seq,
    Map,
}

struct Node {
    kind: Kind,
    line: usize,
    /// Explicit tag in go-yaml's short form (`!!str`), empty if none.
    tag: String,
    plain: bool,
    value: String,
    children: Vec<usize>,
}

/// The first document as nodes; aliases point at their anchor's node.
struct Doc {
    nodes: Vec<Node>,
    root: Option<usize>,
}

fn short_tag(t: &Tag) -> String {
    match t.handle.as_str() {
        "!!" | "tag:yaml.org,2002:" => format!("!!{}", t.suffix),
        h => format!("{h}{}", t.suffix),
    }
}

fn compose(text: &str) -> Doc {
    let mut doc = Doc { nodes: Vec::new(), root: None };
    let mut anchors: HashMap<usize, usize> = HashMap::new();
    // Open collections: node index.
    let mut stack: Vec<usize> = Vec::new();
    for ev in Parser::new_from_str(text) {
        let Ok((ev, span)) = ev else { break };
        let line = span.start.line();
        let new = |kind, tag: Option<Cow<'_, Tag>>, plain, value: String| Node {
            kind,
            line,
            tag: tag.map(|t| short_tag(&t)).unwrap_or_default(),
            plain,
            value,
            children: Vec::new(),
        };
        let is_seq = matches!(ev, Event::SequenceStart(..));
        let (id, opens) = match ev {
            Event::DocumentEnd => break,
            Event::Scalar(v, style, anchor, tag) => {
                doc.nodes.push(new(Kind::Scalar, tag, style == ScalarStyle::Plain, v.into_owned()));
                let id = doc.nodes.len() - 1;
                if anchor > 0 {
                    anchors.insert(anchor, id);
                }
                (id, false)
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                let kind = if is_seq { Kind::Seq } else { Kind::Map };
                doc.nodes.push(new(kind, tag, false, String::new()));
                let id = doc.nodes.len() - 1;
                if anchor > 0 {
                    anchors.insert(anchor, id);
                }
                (id, true)
            }
            Event::Alias(anchor) => match anchors.get(&anchor) {
                Some(&id) => (id, false),
                None => break,
            },
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                continue;
            }
            _ => continue,
        };
        match stack.last() {
            Some(&parent) => doc.nodes[parent].children.push(id),
            None => doc.root = Some(id),
        }
        if opens {
            stack.push(id);
        }
    }
    doc
}

/// What a plain scalar resolves to (go-yaml v3 `resolve`), as a short tag.
fn resolve(value: &str) -> &'static str {
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return "!!null",
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return "!!bool",
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN"
        | ".NAN" => return "!!float",
        _ => {}
    }
    let plain = value.replace('_', "");
    if go_int(&plain) {
        return "!!int";
    }
    let float = regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$").expect("valid regex");
    if float.is_match(&plain) {
        return "!!float";
    }
    "!!str"
}

/// Go's `strconv.ParseInt(s, 0, 64)` syntax (range not checked).
fn go_int(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (body, radix) = match digits.get(..2) {
        Some("0x" | "0X") => (&digits[2..], 16),
        Some("0o" | "0O") => (&digits[2..], 8),
        Some("0b" | "0B") => (&digits[2..], 2),
        _ if digits.len() > 1 && digits.starts_with('0') => (&digits[1..], 8),
        _ => (digits, 10),
    };
    !body.is_empty() && body.chars().all(|c| c.is_digit(radix))
}

/// go-yaml's YAML 1.1 booleans, accepted only when decoding into a `bool`.
pub(super) fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

struct Checker<'d> {
    doc: &'d Doc,
    errors: Vec<String>,
    depth: usize,
}

impl Checker<'_> {
    /// The node's tag as go-yaml reports it.
    fn tag(&self, id: usize) -> String {
        let n = &self.doc.nodes[id];
        if !n.tag.is_empty() {
            return n.tag.clone();
        }
        match n.kind {
            Kind::Seq => "!!seq".to_owned(),
            Kind::Map => "!!map".to_owned(),
            Kind::Scalar if n.plain => resolve(&n.value).to_owned(),
            Kind::Scalar => "!!str".to_owned(),
        }
    }

    /// go-yaml `terror`: the value is quoted for scalars, cut at 7 bytes
    /// when longer than 10.
    fn terror(&mut self, id: usize, ty: &Ty) {
        let n = &self.doc.nodes[id];
        let tag = self.tag(id);
        let value = if n.kind == Kind::Scalar { crate::stores::yaml::terror_value(&n.value) } else { String::new() };
        self.errors.push(format!("line {}: cannot unmarshal {tag}{value} into {}", n.line, ty.name()));
    }

    fn check(&mut self, id: usize, ty: &Ty) {
        // An alias cycle cannot come from saphyr (an anchor is defined
        // before use), but a deep self-referencing config must not recurse
        // without end.
        if self.depth > 200 {
            return;
        }
        self.depth += 1;
        self.check_inner(id, ty);
        self.depth -= 1;
    }

    fn check_inner(&mut self, id: usize, ty: &Ty) {
        let doc = self.doc;
        let n = &doc.nodes[id];
        if n.kind == Kind::Scalar && self.tag(id) == "!!null" {
            return;
        }
        match (ty, &n.kind) {
            (Ty::Any, _) | (Ty::Str, Kind::Scalar) => {}
            (Ty::Int, Kind::Scalar) => {
                if !matches!(self.tag(id).as_str(), "!!int" | "!!float") {
                    self.terror(id, ty);
                }
            }
            (Ty::Bool, Kind::Scalar) => {
                let tag = self.tag(id);
                if tag != "!!bool" && !(tag == "!!str" && yaml11_bool(&n.value).is_some()) {
                    self.terror(id, ty);
                }
            }
            (Ty::Slice(elem), Kind::Seq) => {
                for &c in &n.children {
                    self.check(c, elem);
                }
            }
            (Ty::StrPtrMap, Kind::Map) => {
                for pair in n.children.chunks(2) {
                    if let [_, v] = pair {
                        self.check(*v, &Ty::Str);
                    }
                }
            }
            (Ty::Struct(_, fields), Kind::Map) => {
                for pair in n.children.chunks(2) {
                    let [k, v] = pair else { continue };
                    let key = &doc.nodes[*k];
                    if key.kind == Kind::Scalar && key.plain && key.value == "<<" {
                        // A merge: its mappings fill the same struct.
                        let merged = &doc.nodes[*v];
                        if merged.kind == Kind::Seq {
                            for &m in &merged.children {
                                self.check(m, ty);
                            }
                        } else {
                            self.check(*v, ty);
                        }
                        continue;
                    }
                    if let Some((_, fty)) = fields.iter().find(|(name, _)| key.kind == Kind::Scalar && *name == key.value) {
                        self.check(*v, fty);
                    }
                }
            }
            _ => self.terror(id, ty),
        }
    }
}

/// go-yaml's `unmarshal errors` text for `.sops.yaml` decoded into sops's
/// `configFile`, or `Ok` when every field has a fitting type.
pub(super) fn check(text: &str) -> Result<(), String> {
    let doc = compose(text);
    let Some(root) = doc.root else { return Ok(()) };
    let mut c = Checker { doc: &doc, errors: Vec::new(), depth: 0 };
    c.check(root, &CONFIG_FILE);
    if c.errors.is_empty() {
        Ok(())
    } else {
        Err(format!("yaml: unmarshal errors:\n  {}", c.errors.join("\n  ")))
    }
}

/// Each `destination_rules` entry's scalar fields with their source text,
/// which is what go-yaml stores into a Go `string` (`123`, `0x10`,
/// `2001-01-01` stay as written; null is empty). Entries that are not
/// mappings give an empty list, so indexes match the rule list.
pub(super) fn destination_scalars(text: &str) -> Vec<Vec<(String, String)>> {
    let doc = compose(text);
    let nodes = &doc.nodes;
    let Some(root) = doc.root.filter(|&r| nodes[r].kind == Kind::Map) else { return Vec::new() };
    let value_of = |map: usize, key: &str| {
        nodes[map].children.chunks(2).rev().find_map(|pair| match pair {
            [k, v] if nodes[*k].kind == Kind::Scalar && nodes[*k].value == key => Some(*v),
            _ => None,
        })
    };
    let Some(rules) = value_of(root, "destination_rules").filter(|&r| nodes[r].kind == Kind::Seq) else {
        return Vec::new();
    };
    let checker = Checker { doc: &doc, errors: Vec::new(), depth: 0 };
    nodes[rules]
        .children
        .iter()
        .map(|&rule| {
            if nodes[rule].kind != Kind::Map {
                return Vec::new();
            }
            nodes[rule]
                .children
                .chunks(2)
                .filter_map(|pair| match pair {
                    [k, v] if nodes[*k].kind == Kind::Scalar && nodes[*v].kind == Kind::Scalar => {
                        let text = if checker.tag(*v) == "!!null" { String::new() } else { nodes[*v].value.clone() };
                        Some((nodes[*k].value.clone(), text))
                    }
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{check, destination_scalars};

    #[test]
    fn scalars_keep_their_source_text() {
        let rules = destination_scalars("destination_rules:\n  - s3_bucket: 0x10\n    s3_prefix: ~\n  - 3\n  - vault_kv_mount_name: 2001-01-01\n");
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0], [("s3_bucket".to_owned(), "0x10".to_owned()), ("s3_prefix".to_owned(), String::new())]);
        assert!(rules[1].is_empty());
        assert_eq!(rules[2][0].1, "2001-01-01");
        assert!(destination_scalars("a: 1\n").is_empty());
    }

    #[test]
    fn wrong_types_are_listed_with_lines() {
        let e = check("destination_rules:\n  - path_regex: x\n    s3_bucket: [a]\n    s3_prefix: {b: 1}\n").unwrap_err();
        assert_eq!(
            e,
            "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into string\n  line 4: cannot unmarshal !!map into string"
        );
        let e = check("destination_rules:\n  - vault_kv_version: abcdefghijkl\n    omit_extensions: 3\n").unwrap_err();
        assert!(e.ends_with("line 2: cannot unmarshal !!str `abcdefg...` into int\n  line 3: cannot unmarshal !!int `3` into bool"), "{e}");
        let e = check("destination_rules: 3\n").unwrap_err();
        assert!(e.ends_with("line 1: cannot unmarshal !!int `3` into []config.destinationRule"), "{e}");
        let e = check("destination_rules:\n  - recreation_rule:\n      key_groups: x\n      shamir_threshold: '2'\n")
            .unwrap_err();
        assert!(e.contains("line 3: cannot unmarshal !!str `x` into []config.keyGroup\n  line 4: cannot unmarshal !!str `2` into int"), "{e}");
    }

    #[test]
    fn fitting_types_pass() {
        check(
            "creation_rules:\n  - age: [a, b]\n    key_groups:\n      - kms: [{arn: a, context: {k: 1}}]\n        merge: [{age: [x]}]\n\
             destination_rules:\n  - s3_bucket: 123\n    vault_kv_version: 1.0\n    omit_extensions: yes\n    unknown: [1]\n    recreation_rule: ~\n\
             stores:\n  json: {indent: 2}\n",
        )
        .unwrap();
        check("").unwrap();
        check("a: *undefined\n").unwrap();
    }
}
