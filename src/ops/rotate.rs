//! `rotate` (and legacy `-r`): a fresh data key, every value encrypted
//! again, master keys optionally added or removed (cli.md §4.4).
//!
//! IVs are kept (format.md §2.6), so with the new key `data` and `tag`
//! change but the layout does not; `lastmodified` and the MAC are new and
//! `version` is kept (§5.4, §6.6). Keys of every kind can be added and
//! removed; an added key whose kind this build cannot wrap fails the run
//! with sops's `Could not generate data key` error rather than being written
//! without a usable `enc`.

use std::path::PathBuf;

use super::{decrypt_tree, emit_opened, open_encrypted, reseal, rewrap, Outcome};
use crate::context::Context;
use crate::crypt::DataKey;
use crate::error::Error;
use crate::io::{read_input, Input};
use crate::keys::{KeyKind, KeyRef, MasterKey};
use crate::stores::{Format, StoreOptions};
use crate::tree::walk;

/// Everything `rotate` needs.
pub struct RotateRequest {
    /// Absolute path of the encrypted file.
    pub path: PathBuf,
    pub input_format: Format,
    pub output_format: Format,
    pub output_options: StoreOptions,
    /// `--add-*` keys, appended to the first key group.
    pub add: Vec<KeyRef>,
    /// `--rm-*` keys, removed from every group by id.
    pub remove: Vec<KeyRef>,
    /// Only the legacy form has `--ignore-mac`.
    pub ignore_mac: bool,
    pub decryption_order: Vec<KeyKind>,
}

/// Runs `rotate`.
pub fn run(req: &RotateRequest, ctx: &Context) -> Result<Outcome, Error> {
    let bytes = read_input(&Input::File(req.path.clone()))?;
    let mut opened = open_encrypted(&bytes, req.input_format, StoreOptions::default())?;
    drop(bytes);
    crate::keys::aws_kms::context_bug::repair_if_needed(&mut opened, Some(&req.path), req.input_format, req.ignore_mac, ctx)?;
    let mut ivs = walk::IvCache::default();
    let (_old_key, warnings) = decrypt_tree(&mut opened, &req.decryption_order, req.ignore_mac, ctx, Some(&mut ivs))?;
    change_keys(&mut opened.meta.key_groups, &req.add, &req.remove);
    let key = DataKey::generate();
    rewrap(&mut opened.meta, &key, ctx)?;
    reseal(&mut opened, &key, Some(&ivs))?;
    let bytes = emit_opened(opened, req.output_format, req.output_options)?;
    Ok(Outcome { bytes, warnings })
}

/// Adds keys to group 0, then drops every key whose id (kind-specific,
/// including a KMS context and profile, cli.md §13.12) equals a removed
/// key's id, in every group.
fn change_keys(groups: &mut Vec<Vec<MasterKey>>, add: &[KeyRef], remove: &[KeyRef]) {
    if !add.is_empty() {
        if groups.is_empty() {
            groups.push(Vec::new());
        }
        groups[0].extend(add.iter().map(|k| MasterKey { key: k.clone(), enc: String::new(), created_at: None }));
    }
    let gone: Vec<String> = remove.iter().map(KeyRef::id).collect();
    for group in groups {
        group.retain(|m| !gone.contains(&m.key.id()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(r: &str) -> KeyRef {
        KeyRef::Age { recipient: r.into() }
    }

    fn entry(k: KeyRef) -> MasterKey {
        MasterKey { key: k, enc: "E".into(), created_at: Some("2024-01-01T00:00:00Z".into()) }
    }

    #[test]
    fn adds_to_the_first_group_and_removes_by_full_id() {
        let kms = |ctx: Vec<(String, String)>| KeyRef::AwsKms {
            arn: "arn:aws:kms:eu-west-1:1:key/k".into(),
            role: String::new(),
            context: ctx,
            aws_profile: String::new(),
        };
        let with_ctx = kms(vec![("a".into(), "b".into())]);
        let mut groups =
            vec![vec![entry(age("a1")), entry(with_ctx.clone())], vec![entry(age("a1")), entry(age("a2"))]];
        change_keys(&mut groups, &[age("a3")], &[age("a1"), kms(Vec::new())]);
        let ids: Vec<Vec<String>> = groups.iter().map(|g| g.iter().map(|m| m.key.id()).collect()).collect();
        // The context is part of the id, so a bare ARN does not remove it.
        assert_eq!(ids, vec![vec![with_ctx.id(), "a3".to_owned()], vec!["a2".to_owned()]]);
        assert!(groups[0][1].enc.is_empty() && groups[0][1].created_at.is_none());
    }
}
