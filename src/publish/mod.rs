//! Uploading for `publish` (cli.md §11 step 8): the encrypted file to S3 or
//! GCS, the decrypted data to Vault KV v1/v2.
//!
//! This module owns what is the same for every build: what Vault receives
//! (sops's `EmitAsMap` of the decrypted tree, as JSON) and the dispatch to
//! one file per service. Each service file compiles its client only with
//! its feature (`aws`, `gcp`, `vault`); without it, publishing there says
//! the build lacks the feature. Nothing is started before an upload.

mod gcs;
mod s3;
mod vault_kv;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;

use crate::config::destination::Destination;
use crate::context::Context;
use crate::error::Error;
use crate::tree::number::format_float_json;
use crate::tree::{Branch, Item, Value};

/// What is uploaded.
pub enum Payload {
    /// The encrypted file (S3, GCS).
    File(Vec<u8>),
    /// The decrypted documents (Vault): sent as [`vault_json`] renders them.
    Data(Vec<Branch>),
}

/// Uploads `payload` as `name` to `dest`. `warn` receives the lines sops
/// logs at warning level on the way (its `PUBLISH` logger).
pub fn upload(dest: &Destination, name: &str, payload: Payload, ctx: &Context, warn: &mut dyn FnMut(&str)) -> Result<(), Error> {
    match (dest, payload) {
        (Destination::S3 { bucket, prefix }, Payload::File(bytes)) => s3::put(bucket, &format!("{prefix}{name}"), bytes),
        (Destination::Gcs { bucket, prefix }, Payload::File(bytes)) => {
            gcs::put(bucket, &format!("{prefix}{name}"), &bytes, ctx)
        }
        (Destination::Vault { .. }, Payload::Data(docs)) => vault_kv::write(dest, name, &docs, ctx, warn),
        // sops's NotImplementedError texts; `ops::publish` never pairs them so.
        (Destination::Vault { .. }, Payload::File(_)) => Err(Error::Generic(
            "NotImplementedError: Vault does not support uploading encrypted sops files directly.".to_owned(),
        )),
        (Destination::S3 { .. }, Payload::Data(_)) => Err(Error::Generic(
            "NotImplementedError: S3 does not support uploading the unencrypted file contents.".to_owned(),
        )),
        (Destination::Gcs { .. }, Payload::Data(_)) => Err(Error::Generic(
            "NotImplementedError: GCS does not support uploading the unencrypted file contents.".to_owned(),
        )),
    }
}

/// The Vault client's default address when a rule names none: `VAULT_ADDR`,
/// replaced by `VAULT_AGENT_ADDR` when set, else `https://127.0.0.1:8200`
/// (the Go client's `DefaultConfig`).
pub fn vault_default_address(ctx: &Context) -> String {
    ctx.env
        .non_empty("VAULT_AGENT_ADDR")
        .or_else(|| ctx.env.non_empty("VAULT_ADDR"))
        .unwrap_or("https://127.0.0.1:8200")
        .to_owned()
}

/// Go's `path/filepath.Clean` on a `/`-separated path (`ops::publish`,
/// `vault_kv` call it by this name).
pub use crate::gotext::clean as go_clean;

/// Go's `filepath.Rel(base, target)`, lexically; `None` where Go fails
/// (`Rel: can't make <target> relative to <base>`).
pub fn go_rel(base: &str, target: &str) -> Option<String> {
    let base = go_clean(base);
    let target = go_clean(target);
    if base == target {
        return Some(".".to_owned());
    }
    if base.starts_with('/') != target.starts_with('/') {
        return None;
    }
    let split = |s: &str| -> Vec<String> {
        if s == "." { Vec::new() } else { s.trim_start_matches('/').split('/').filter(|x| !x.is_empty()).map(str::to_owned).collect() }
    };
    let (b, t) = (split(&base), split(&target));
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    if b[common..].iter().any(|s| s == "..") {
        return None;
    }
    let mut out: Vec<String> = vec!["..".to_owned(); b.len() - common];
    out.extend(t[common..].iter().cloned());
    Some(if out.is_empty() { ".".to_owned() } else { out.join("/") })
}

/// Go's `filepath.Ext`: from the last `.` of the last element, or `""`.
pub fn go_ext(p: &str) -> &str {
    let last = p.rsplit('/').next().unwrap_or(p);
    last.rfind('.').map_or("", |i| &last[i..])
}

/// sops's `EmitAsMap`: the top-level pairs of every document (a later
/// document's key replaces an earlier one's), comments dropped; mappings
/// directly under a key become objects again, recursively.
pub fn emit_as_map(docs: &[Branch]) -> BTreeMap<&str, &Value> {
    let mut out = BTreeMap::new();
    for doc in docs {
        map_into(doc, &mut out);
    }
    out
}

fn map_into<'a>(items: &'a [Item], out: &mut BTreeMap<&'a str, &'a Value>) {
    for item in items {
        if let Item::Pair(k, v) = item {
            out.insert(k.as_str(), v);
        }
    }
}

/// The JSON body Vault receives for `docs`, as Go's `json.Marshal` writes
/// sops's map (keys sorted). Values inside sequences keep sops's internal
/// types: a mapping there is a list of `{"Key":…,"Value":…}` objects and a
/// comment is `{"Value":…}` — that is what sops 3.11 stores (verified with
/// `OpenBao`), so rsops stores it too.
pub fn vault_json(docs: &[Branch]) -> Result<String, Error> {
    let mut out = String::new();
    write_object(&emit_as_map(docs), &mut out)?;
    Ok(out)
}

fn write_object(map: &BTreeMap<&str, &Value>, out: &mut String) -> Result<(), Error> {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(k, out);
        out.push(':');
        match v {
            Value::Map(items) => {
                let mut inner = BTreeMap::new();
                map_into(items, &mut inner);
                write_object(&inner, out)?;
            }
            other => write_raw(other, out)?,
        }
    }
    out.push('}');
    Ok(())
}

/// A value as Go marshals sops's tree types (`TreeBranch`, `TreeItem`,
/// `Comment`) where `EmitAsMap` does not convert them.
fn write_raw(v: &Value, out: &mut String) -> Result<(), Error> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            let Some(s) = format_float_json(*f) else {
                // Go: `json: unsupported value: NaN` from the Vault client.
                let shown = if f.is_nan() { "NaN".to_owned() } else { format!("{}Inf", if *f > 0.0 { "+" } else { "-" }) };
                return Err(Error::Generic(format!("json: unsupported value: {shown}")));
            };
            out.push_str(&s);
        }
        Value::Str(s) | Value::Time(s) => json_string(s, out),
        Value::Bytes(b) => json_string(&base64::engine::general_purpose::STANDARD.encode(b), out),
        Value::Comment(c) => {
            out.push_str("{\"Value\":");
            json_string(c, out);
            out.push('}');
        }
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_raw(item, out)?;
            }
            out.push(']');
        }
        Value::Map(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("{\"Key\":");
                match item {
                    Item::Pair(k, v) => {
                        json_string(k, out);
                        out.push_str(",\"Value\":");
                        write_raw(v, out)?;
                    }
                    Item::Comment(c) => {
                        out.push_str("{\"Value\":");
                        json_string(c, out);
                        out.push_str("},\"Value\":null");
                    }
                }
                out.push('}');
            }
            out.push(']');
        }
    }
    Ok(())
}

/// A JSON string literal with Go's escapes (`<`, `>`, `&` and U+2028/9 as
/// `\u` sequences, as `json.Marshal` writes them).
fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_helpers() {
        assert_eq!(go_rel("s3", "s3/d/b.yaml").as_deref(), Some("d/b.yaml"));
        assert_eq!(go_rel("./s3/", "s3/a.yaml").as_deref(), Some("a.yaml"));
        assert_eq!(go_rel("s3/a.yaml", "s3/a.yaml").as_deref(), Some("."));
        assert_eq!(go_rel("", "s3/a").as_deref(), Some("s3/a"));
        assert_eq!(go_rel("a", "b/c").as_deref(), Some("../b/c"));
        assert_eq!(go_rel("/abs", "rel"), None);
        assert_eq!(go_ext("/x/a.enc.yaml"), ".yaml");
        assert_eq!(go_ext("/x.d/a"), "");
    }

    #[test]
    fn vault_json_is_sops_emit_as_map() {
        let doc = vec![
            Item::Comment(" top".into()),
            Item::pair("name", Value::Str("a<b".into())),
            Item::pair("num", Value::Int(42)),
            Item::pair("flt", Value::Float(1e21)),
            Item::pair("nothing", Value::Null),
            Item::pair(
                "list",
                Value::Seq(vec![
                    Value::Str("a".into()),
                    Value::Map(vec![Item::pair("b", Value::Int(1)), Item::Comment(" c".into())]),
                    Value::Comment(" lc".into()),
                ]),
            ),
            Item::pair("nested", Value::Map(vec![Item::Comment(" x".into()), Item::pair("k", Value::Bool(true))])),
        ];
        let second = vec![Item::pair("num", Value::Int(7))];
        assert_eq!(
            vault_json(&[doc, second]).unwrap(),
            r#"{"flt":1e+21,"list":["a",[{"Key":"b","Value":1},{"Key":{"Value":" c"},"Value":null}],{"Value":" lc"}],"name":"a\u003cb","nested":{"k":true},"nothing":null,"num":7}"#
        );
        assert!(vault_json(&[vec![Item::pair("x", Value::Float(f64::NAN))]]).is_err());
    }
}
