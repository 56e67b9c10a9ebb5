//! Recovering the data key from a file's key groups, in sops's order, and
//! the report sops prints when that fails (cli.md §2.3, format.md §7).

use std::fmt::Write as _;
use zeroize::Zeroizing;

use super::{age, aws_kms, KeyGroup, KeyKind, KeyRef, MasterKey};
use crate::context::Context;
use crate::crypt::{shamir, DataKey};
use crate::error::Error;
use crate::metadata::Metadata;

/// sops's default decryption order (cli.md §3.10).
pub const DEFAULT_ORDER: [KeyKind; 2] = [KeyKind::Age, KeyKind::Pgp];

/// Parses `--decryption-order`: comma-separated type names; unknown names are
/// ignored and duplicates rejected, as sops does.
pub fn parse_order(s: &str) -> Result<Vec<KeyKind>, Error> {
    if s.is_empty() {
        return Ok(DEFAULT_ORDER.to_vec());
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for item in s.split(',') {
        if seen.contains(&item) {
            return Err(Error::DuplicateDecryptionKeyType(item.to_owned()));
        }
        seen.push(item);
        if let Some(k) = KeyKind::from_name(item) {
            out.push(k);
        }
    }
    Ok(out)
}

/// Keys of a group, stable-sorted by the position of their kind in `order`;
/// kinds not listed keep file order after the listed ones.
fn ordered<'a>(group: &'a KeyGroup, order: &[KeyKind]) -> Vec<&'a MasterKey> {
    let mut keys: Vec<&MasterKey> = group.iter().collect();
    keys.sort_by_key(|m| order.iter().position(|k| *k == m.key.kind()).unwrap_or(order.len()));
    keys
}

/// Unwraps one master key with the local key sources: the local key
/// service (also what `rsops keyservice` runs per request).
pub fn unwrap_one(key: &MasterKey, ctx: &Context) -> Result<Zeroizing<Vec<u8>>, String> {
    match &key.key {
        KeyRef::Age { recipient } => age::unwrap(ctx.age_identities(), recipient, &key.enc).map_err(|e| e.to_string()),
        KeyRef::Pgp { fingerprint } => ctx.pgp().unwrap(fingerprint, &key.enc).map_err(|e| e.to_string()),
        KeyRef::AwsKms { arn, role, context, aws_profile } => ctx
            .aws_kms()
            .unwrap(aws_kms::KmsKey { arn, role, context, aws_profile }, &key.enc)
            .map_err(|e| e.to_string()),
        KeyRef::GcpKms { resource_id } => ctx.gcp_kms().unwrap(resource_id, &key.enc).map_err(|e| e.to_string()),
        KeyRef::AzureKv { vault_url, name, version } => {
            ctx.azure_kv().unwrap(super::azure_kv::AzureKey { vault_url, name, version }, &key.enc)
        }
        KeyRef::Vault { address, engine_path, key_name } => {
            ctx.vault().unwrap(&crate::keys::vault::TransitKey { address, engine_path, key_name }, &key.enc)
        }
        // sops 3.13's Huawei Cloud KMS: kept in files, not usable yet.
        other @ KeyRef::Hckms { .. } => Err(format!(
            "rsops cannot use {} keys yet: this build has no {} key source",
            other.kind().name(),
            other.kind().name()
        )),
    }
}

enum GroupResult {
    Success(Zeroizing<Vec<u8>>),
    /// Per key tried: its id and one error per key service tried.
    Failed(Vec<(String, Vec<String>)>),
}

/// Tries every group and returns the data key, or sops's failure report.
pub fn recover(meta: &Metadata, order: &[KeyKind], ctx: &Context) -> Result<DataKey, Error> {
    let mut results = Vec::with_capacity(meta.key_groups.len());
    for group in &meta.key_groups {
        let mut failures = Vec::new();
        let mut found = None;
        for key in ordered(group, order) {
            match ctx.key_services().unwrap(key, ctx) {
                Ok(plain) => {
                    found = Some(plain);
                    break;
                }
                Err(e) => failures.push((key.key.id(), e)),
            }
        }
        results.push(match found {
            Some(p) => GroupResult::Success(p),
            None => GroupResult::Failed(failures),
        });
        // One group: its key is the data key; stop at the first success.
        if meta.key_groups.len() == 1 {
            break;
        }
    }
    let successes: Vec<Zeroizing<Vec<u8>>> = results
        .iter()
        .filter_map(|r| match r {
            GroupResult::Success(p) => Some(p.clone()),
            GroupResult::Failed(_) => None,
        })
        .collect();
    let threshold = meta.shamir_threshold;
    if meta.key_groups.len() == 1 {
        if let Some(plain) = successes.first() {
            return DataKey::from_slice(plain).ok_or_else(|| {
                Error::Generic("the data key recovered from the master key is not 32 bytes long".to_owned())
            });
        }
        return Err(Error::DataKeyRecovery(report(&results, None)));
    }
    if successes.len() < threshold.max(1) {
        let shamir = if threshold == 0 { None } else { Some((threshold, successes.len())) };
        return Err(Error::DataKeyRecovery(report(&results, shamir)));
    }
    let key = shamir::combine(&successes).map_err(|e| Error::Generic(format!("could not combine Shamir shares: {e}")))?;
    DataKey::from_slice(&key)
        .ok_or_else(|| Error::Generic("the data key recovered from the Shamir shares is not 32 bytes long".to_owned()))
}

/// go-wordwrap's `WrapString`: break at whitespace so lines stay within
/// `lim` where possible, never inside a word, keeping existing newlines.
pub fn wrap(s: &str, lim: usize) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let (mut current, mut word, mut space) = (0usize, String::new(), String::new());
    let (mut word_len, mut space_len) = (0usize, 0usize);
    for c in s.chars() {
        if c == '\n' {
            if word.is_empty() {
                if current + space_len <= lim {
                    out.push_str(&space);
                }
            } else {
                out.push_str(&space);
                out.push_str(&word);
                word.clear();
                word_len = 0;
            }
            space.clear();
            space_len = 0;
            out.push(c);
            current = 0;
        } else if c.is_whitespace() && c != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                out.push_str(&space);
                out.push_str(&word);
                space.clear();
                word.clear();
                space_len = 0;
                word_len = 0;
            }
            space.push(c);
            space_len += 1;
        } else {
            word.push(c);
            word_len += 1;
            if current + space_len + word_len > lim && word_len < lim {
                out.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if word.is_empty() {
        if current + space_len <= lim {
            out.push_str(&space);
        }
    } else {
        out.push_str(&space);
        out.push_str(&word);
    }
    out
}

/// The `prefixer` package sops uses: `prefix` before every line, including
/// empty ones, but not after a final newline.
fn prefix_lines(s: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(s.len() + prefix.len() * 4);
    for line in s.split_inclusive('\n') {
        out.push_str(prefix);
        out.push_str(line);
    }
    out
}

fn report(results: &[GroupResult], shamir: Option<(usize, usize)>) -> String {
    let mut out = String::from("Failed to get the data key required to decrypt the SOPS file.\n\n");
    for (i, r) in results.iter().enumerate() {
        match r {
            GroupResult::Success(_) => { let _ = writeln!(out, "Group {i}: SUCCESS"); },
            GroupResult::Failed(failures) => {
                let _ = writeln!(out, "Group {i}: FAILED");
                // sops's decryptKeyError.UserError: each service's error
                // wrapped and prefixed "  | " with its first byte made "-",
                // joined by blank lines and indented; keys joined by blank
                // lines and indented again. A key no service was asked for
                // ends in a newline, hence the extra lines (cli.md §2.3).
                let keys: Vec<String> = failures
                    .iter()
                    .map(|(id, errs)| {
                        let entries: Vec<String> = errs
                            .iter()
                            .map(|e| {
                                let mut entry = prefix_lines(&wrap(e, 60), "  | ");
                                if !entry.is_empty() {
                                    entry.replace_range(..1, "-");
                                }
                                entry
                            })
                            .collect();
                        format!("{id}: FAILED\n{}", prefix_lines(&entries.join("\n\n"), "  "))
                    })
                    .collect();
                out.push_str(&prefix_lines(&keys.join("\n\n"), "  "));
                out.push('\n');
            }
        }
        out.push('\n');
    }
    let trailer = match shamir {
        None => "Recovery failed because no master key was able to decrypt the file. In order for SOPS to recover the file, at least one key has to be successful, but none were.".to_owned(),
        Some((t, got)) => format!(
            "Recovery failed because the file was encrypted with a Shamir threshold of {t}, but only {got} part(s) were successfully recovered, one for each successful key group. In order for SOPS to recover the file, at least {t} groups have to be successful. In order for a group to be successful, decryption has to succeed with any of the keys in that key group."
        ),
    };
    out.push_str(&wrap(&trailer, 75));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_like_go_wordwrap() {
        let t = "Recovery failed because no master key was able to decrypt the file. In order for SOPS to recover the file, at least one key has to be successful, but none were.";
        assert_eq!(
            wrap(t, 75),
            "Recovery failed because no master key was able to decrypt the file. In\norder for SOPS to recover the file, at least one key has to be successful,\nbut none were."
        );
    }

    #[test]
    fn report_layout_matches_sops() {
        let results = vec![GroupResult::Failed(vec![
            ("age1x".to_owned(), vec!["first error".to_owned()]),
            ("age1y".to_owned(), vec!["second".to_owned()]),
        ])];
        let r = report(&results, None);
        assert!(r.starts_with("Failed to get the data key required to decrypt the SOPS file.\n\nGroup 0: FAILED\n  age1x: FAILED\n    - | first error\n  \n  age1y: FAILED\n    - | second\n\nRecovery failed"));
    }

    #[test]
    fn report_lists_every_key_service() {
        let long = "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:5999: connect: connection refused\"";
        let results = vec![GroupResult::Failed(vec![("age1x".to_owned(), vec!["local".to_owned(), long.to_owned()])])];
        let r = report(&results, None);
        assert!(r.starts_with("Failed to get the data key required to decrypt the SOPS file.\n\nGroup 0: FAILED\n  age1x: FAILED\n    - | local\n    \n    - | rpc error: code = Unavailable desc = connection error: desc\n      | = \"transport: Error while dialing: dial tcp 127.0.0.1:5999:\n      | connect: connection refused\"\n\nRecovery failed"), "{r}");
    }

    #[test]
    fn report_without_key_services() {
        // `--enable-local-keyservice=false` and no `--keyservice`: sops 3.11's bytes.
        let results = vec![GroupResult::Failed(vec![("age1x".to_owned(), vec![]), ("age1y".to_owned(), vec![])])];
        let r = report(&results, None);
        assert!(r.starts_with("Failed to get the data key required to decrypt the SOPS file.\n\nGroup 0: FAILED\n  age1x: FAILED\n  \n  \n  age1y: FAILED\n\n\nRecovery failed"), "{r:?}");
    }

    #[test]
    fn order_parsing() {
        assert_eq!(parse_order("").unwrap(), DEFAULT_ORDER.to_vec());
        assert_eq!(parse_order("pgp,bogus,age").unwrap(), vec![KeyKind::Pgp, KeyKind::Age]);
        assert!(matches!(parse_order("age,age"), Err(Error::DuplicateDecryptionKeyType(t)) if t == "age"));
    }
}
