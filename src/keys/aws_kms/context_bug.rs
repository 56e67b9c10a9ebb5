//! sops's repair of files written before 3.3.0 with the AWS KMS
//! encryption-context bug (mozilla/sops#435; format.md §6.6, cli.md §10.3).
//!
//! Old sops built the context map from pointers to one loop variable, so
//! KMS saw every context key with the *same* value (one of the stored
//! values) while the file recorded the intended, different values. sops
//! 3.11 therefore checks every file it decrypts for `decrypt`, `edit`,
//! `rotate`, `set`, `unset` and `exec-*` (its `LoadEncryptedFileWithBugFixes`):
//! when the file's `version` is older than 3.3.0 and a `kms` entry has two
//! or more context pairs with more than one distinct value, it
//!
//! 1. prints an explanation (wrapped at 75 columns) on **stdout**;
//! 2. when stdout is a terminal, asks `Would you like sops to automatically
//!    fix this issue? (y/n): ` until the answer is `y` or `n` (`n` →
//!    `Exiting. User responded no`);
//! 3. tries to decrypt as the file stands, and if that fails, once per
//!    distinct context value with that value given to every context key of
//!    the first affected entry;
//! 4. with the data key found, restores the stored context, wraps the data
//!    key again for every master key (so the entry now matches its stored
//!    context), re-encrypts the tree (new IVs, `lastmodified`, MAC) and,
//!    when the user said `y`, writes the file back. The version becomes
//!    3.11.0 only when a context variation was needed.
//!
//! Nothing found → `Failed to decrypt, meaning there is likely another
//! problem from the encryption context bug: <first error>` (exit 25).
//! Files from 3.3.0 on, or without such an entry, cost one version
//! comparison and no KMS call.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use crate::context::Context;
use crate::error::Error;
use crate::io::write_atomic;
use crate::keys::recover::wrap;
use crate::keys::KeyRef;
use crate::metadata::{Metadata, WRITTEN_VERSION};
use crate::ops::{decrypt_tree, emit_opened, reseal, rewrap, Opened};
use crate::stores::{Format, StoreOptions};

/// The release that fixed the bug; older files are checked.
const FIXED_IN: [u64; 3] = [3, 3, 0];

/// sops's explanation, before wrapping (printed with a final newline).
const MESSAGE: &str = "Up until version 3.3.0 of sops there was a bug surrounding the use of encryption context with AWS KMS.\
\nYou can read the full description of the issue here:\
\nhttps://github.com/mozilla/sops/pull/435\
\n\nIf a TTY is detected, sops will ask you if you'd like for this issue to be automatically fixed, which will require re-encrypting the data keys used by each key.\
\n\nIf you are not using a TTY, sops will fix the issue for this run.\n\n";

const QUESTION: &str = "Would you like sops to automatically fix this issue? (y/n): ";

/// Whether `version` is older than 3.3.0 (blang/semver order: a
/// pre-release sorts before its release; `1.x` is always older). A version
/// that does not parse counts as not affected: metadata parsing has
/// already rejected those (format.md §6.6).
fn older_than_fix(version: &str) -> bool {
    let v = version.strip_prefix('v').unwrap_or(version);
    if v.starts_with("1.") {
        return true;
    }
    let v = v.split('+').next().unwrap_or(v);
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, !p.is_empty()),
        None => (v, false),
    };
    let parts: Vec<u64> = core.split('.').filter_map(|p| p.parse().ok()).collect();
    let Ok(parts) = <[u64; 3]>::try_from(parts) else { return false };
    parts < FIXED_IN || (parts == FIXED_IN && pre)
}

/// The first KMS entry the bug may have hit: `(group, index)` of an entry
/// with at least two context pairs holding more than one distinct value.
fn affected_entry(meta: &Metadata) -> Option<(usize, usize)> {
    for (g, group) in meta.key_groups.iter().enumerate() {
        for (k, key) in group.iter().enumerate() {
            if let KeyRef::AwsKms { context, .. } = &key.key {
                if context.len() >= 2 && distinct_values(context).len() > 1 {
                    return Some((g, k));
                }
            }
        }
    }
    None
}

/// Whether sops would run its repair on this file.
pub fn affected(meta: &Metadata) -> bool {
    older_than_fix(&meta.version) && affected_entry(meta).is_some()
}

fn distinct_values(context: &[(String, String)]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for (_, v) in context {
        if !out.contains(&v.as_str()) {
            out.push(v);
        }
    }
    out
}

/// The contexts old sops may have sent: one per distinct stored value,
/// that value under every key.
pub fn variations(context: &[(String, String)]) -> Vec<Vec<(String, String)>> {
    distinct_values(context)
        .into_iter()
        .map(|value| context.iter().map(|(k, _)| (k.clone(), value.to_owned())).collect())
        .collect()
}

/// Runs sops's repair when [`affected`] says so; otherwise does nothing.
/// On success `opened` holds the re-encrypted tree whose master keys all
/// match their stored contexts, ready for the command's own decryption.
/// `path` is the input file (relative to `ctx.cwd`; `None` for stdin, which
/// cannot be rewritten) and `format` its format, whose store writes the fix.
pub fn repair_if_needed(
    opened: &mut Opened,
    path: Option<&Path>,
    format: Format,
    ignore_mac: bool,
    ctx: &Context,
) -> Result<(), Error> {
    if !affected(&opened.meta) {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", wrap(MESSAGE, 75));
    let _ = stdout.flush();
    let persist = if stdout.is_terminal() {
        drop(stdout);
        ask_yes_no()?;
        true
    } else {
        false
    };

    // First as the file stands (another key may do), then the variations.
    let attempt = |meta: Metadata| -> Result<(Opened, crate::crypt::DataKey), Error> {
        let mut copy = Opened { docs: opened.docs.clone(), meta };
        let (key, _warnings) = decrypt_tree(&mut copy, &[], ignore_mac, ctx, None)?;
        Ok((copy, key))
    };
    let (mut fixed, key) = match attempt(opened.meta.clone()) {
        Ok(found) => found,
        Err(e) => recover_with_variations(&opened.meta, &attempt).ok_or_else(|| Error::KmsContextBug(e.to_string()))?,
    };

    rewrap(&mut fixed.meta, &key, ctx).map_err(|e| match e {
        Error::GenerateDataKey(errs) => Error::Generic(format!("Could not re-encrypt data key: [{}]", errs.join(" "))),
        other => other,
    })?;
    reseal(&mut fixed, &key, None)?;
    if persist {
        if let Some(path) = path {
            let copy = Opened { docs: fixed.docs.clone(), meta: fixed.meta.clone() };
            let bytes = emit_opened(copy, format, StoreOptions::default())?;
            write_atomic(&ctx.cwd.join(path), &bytes).map_err(|e| match e {
                Error::WriteOutput(m) => Error::WriteOutput(format!("Could not open file for writing: {m}")),
                other => other,
            })?;
        }
    }
    *opened = fixed;
    Ok(())
}

/// Tries each context variation on the first affected entry; on success
/// the entry gets its stored context back and the version becomes ours,
/// as in sops's `RecoverDataKeyFromBuggyKMS`.
fn recover_with_variations(
    meta: &Metadata,
    attempt: &dyn Fn(Metadata) -> Result<(Opened, crate::crypt::DataKey), Error>,
) -> Option<(Opened, crate::crypt::DataKey)> {
    let (g, k) = affected_entry(meta)?;
    let KeyRef::AwsKms { context, .. } = &meta.key_groups[g][k].key else { return None };
    for variation in variations(context) {
        let mut trial = meta.clone();
        if let KeyRef::AwsKms { context, .. } = &mut trial.key_groups[g][k].key {
            *context = variation;
        }
        if let Ok((mut found, key)) = attempt(trial) {
            found.meta.key_groups[g][k].key = meta.key_groups[g][k].key.clone();
            WRITTEN_VERSION.clone_into(&mut found.meta.version);
            return Some((found, key));
        }
    }
    None
}

/// sops's prompt on a terminal: asks until the answer is `y` or `n`.
fn ask_yes_no() -> Result<(), Error> {
    let stdin = std::io::stdin();
    loop {
        println!("{QUESTION}");
        let mut line = String::new();
        let n = stdin.lock().read_line(&mut line).map_err(|e| Error::Generic(e.to_string()))?;
        match scanln(&line, n == 0)? {
            "y" => return Ok(()),
            "n" => return Err(Error::Generic("Exiting. User responded no".to_owned())),
            _ => {}
        }
    }
}

/// Go's `fmt.Scanln` into one string: exactly one word on the line.
fn scanln(line: &str, eof: bool) -> Result<&str, Error> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next()) {
        (None, _) if eof => Err(Error::Generic("EOF".to_owned())),
        (None, _) => Err(Error::Generic("unexpected newline".to_owned())),
        (Some(w), None) => Ok(w),
        (Some(_), Some(_)) => Err(Error::Generic("expected newline".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;

    fn kms(context: &[(&str, &str)]) -> MasterKey {
        MasterKey {
            key: KeyRef::AwsKms {
                arn: "arn:aws:kms:us-east-1:1:key/a".to_owned(),
                role: String::new(),
                context: context.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
                aws_profile: String::new(),
            },
            enc: String::new(),
            created_at: None,
        }
    }

    fn meta(version: &str, groups: Vec<Vec<MasterKey>>) -> Metadata {
        Metadata {
            key_groups: groups,
            shamir_threshold: 0,
            last_modified: String::new(),
            mac: String::new(),
            rule: None,
            mac_only_encrypted: false,
            version: version.to_owned(),
        }
    }

    #[test]
    fn versions_before_the_fix() {
        for old in ["3.2.0", "v3.2.9", "1.14", "2.0.0", "3.3.0-rc.1", "0.1.0+b"] {
            assert!(older_than_fix(old), "{old}");
        }
        for new in ["3.3.0", "3.3.1", "3.11.0", "v4.0.0", "3.3.0+build", "garbage"] {
            assert!(!older_than_fix(new), "{new}");
        }
    }

    #[test]
    fn only_entries_with_different_values_are_affected() {
        let bad = kms(&[("a", "x"), ("b", "y")]);
        assert!(affected(&meta("3.2.0", vec![vec![kms(&[])], vec![kms(&[("a", "x")]), bad]])));
        assert_eq!(affected_entry(&meta("3.2.0", vec![vec![kms(&[("a", "x")]), kms(&[("a", "x"), ("b", "y")])]])), Some((0, 1)));
        assert!(!affected(&meta("3.3.0", vec![vec![kms(&[("a", "x"), ("b", "y")])]])));
        assert!(!affected(&meta("3.2.0", vec![vec![kms(&[("a", "x"), ("b", "x")])]])));
        assert!(!affected(&meta("3.2.0", vec![vec![kms(&[("a", "x")])]])));
    }

    #[test]
    fn each_value_under_every_key() {
        let ctx: Vec<(String, String)> =
            [("a", "x"), ("b", "y"), ("c", "x")].iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let got = variations(&ctx);
        let as_str: Vec<Vec<(&str, &str)>> =
            got.iter().map(|v| v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()).collect();
        assert_eq!(as_str, vec![vec![("a", "x"), ("b", "x"), ("c", "x")], vec![("a", "y"), ("b", "y"), ("c", "y")]]);
    }

    #[test]
    fn message_wraps_as_sops_prints_it() {
        let text = wrap(MESSAGE, 75);
        assert!(text.starts_with(
            "Up until version 3.3.0 of sops there was a bug surrounding the use of\nencryption context with AWS KMS.\n"
        ));
        assert!(text.contains("\nIf a TTY is detected, sops will ask you if you'd like for this issue to be\nautomatically fixed, which will require re-encrypting the data keys used by\neach key.\n"));
        assert!(text.ends_with("If you are not using a TTY, sops will fix the issue for this run.\n\n"));
    }

    #[test]
    fn answers_are_one_word() {
        assert_eq!(scanln("y\n", false).unwrap(), "y");
        assert_eq!(scanln("  n \n", false).unwrap(), "n");
        assert_eq!(scanln("\n", false).unwrap_err().to_string(), "unexpected newline");
        assert_eq!(scanln("y n\n", false).unwrap_err().to_string(), "expected newline");
        assert_eq!(scanln("", true).unwrap_err().to_string(), "EOF");
    }
}
