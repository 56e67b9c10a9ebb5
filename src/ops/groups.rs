//! `groups add` and `groups delete`: append or remove a key group and wrap
//! the data key again for all groups (cli.md §4.12).
//!
//! The values are not decrypted and the MAC and `lastmodified` stay as they
//! are; only the key groups and the threshold change. sops reports most
//! failures here through its fatal log line, so they come back as
//! [`Error::Fatal`]. Two sops defects are fixed (cli.md §13.18): deleting a
//! group that does not exist is an error instead of a panic, and a failure
//! to wrap the data key (an empty group, a key this build cannot use) is an
//! error instead of a file nobody can open.

use std::path::PathBuf;

use super::{emit_opened, open_encrypted, rewrap, Outcome};
use crate::context::Context;
use crate::error::Error;
use crate::io::{read_input, Input};
use crate::keys::{recover, KeyRef, MasterKey};
use crate::stores::{Format, StoreOptions};

/// What to do to the groups.
pub enum GroupsAction {
    /// Append a group holding these keys.
    Add(Vec<KeyRef>),
    /// Remove the group at this zero-based index.
    Delete(usize),
}

/// Everything `groups add|delete` needs.
pub struct GroupsRequest {
    /// `--file` as given (sops reads it relative to the working directory).
    pub path: PathBuf,
    pub format: Format,
    pub options: StoreOptions,
    pub action: GroupsAction,
    /// `--shamir-secret-sharing-threshold`; 0 keeps the file's.
    pub threshold: usize,
}

/// The exit error sops keeps (reading the file) or its fatal log line.
fn fatal(e: Error) -> Error {
    match e {
        Error::ReadInput { .. } | Error::Fatal(_) => e,
        other => Error::Fatal(other.to_string()),
    }
}

/// sops's short form of a key recovery failure in this command:
/// `Error getting data key: <T> successful groups required, got <S>`.
fn short_key_error(e: Error, threshold: usize) -> Error {
    match e {
        Error::DataKeyRecovery(report) => {
            // The report has one `Group <i>: SUCCESS|FAILED` line per group.
            let got = report.lines().filter(|l| l.starts_with("Group ") && l.contains("SUCCESS")).count();
            Error::Fatal(format!("Error getting data key: {threshold} successful groups required, got {got}"))
        }
        other => fatal(other),
    }
}

/// Runs `groups add` or `groups delete`: the whole file for stdout or `-i`.
pub fn run(req: &GroupsRequest, ctx: &Context) -> Result<Outcome, Error> {
    let bytes = read_input(&Input::File(req.path.clone()))?;
    let mut opened = open_encrypted(&bytes, req.format, StoreOptions::default()).map_err(fatal)?;
    drop(bytes);
    // No decryption order here: keys are tried in file order (cli.md §3.10).
    let key = recover::recover(&opened.meta, &[], ctx).map_err(|e| short_key_error(e, opened.meta.shamir_threshold))?;
    let meta = &mut opened.meta;
    match &req.action {
        GroupsAction::Add(keys) => {
            meta.key_groups.push(
                keys.iter().map(|k| MasterKey { key: k.clone(), enc: String::new(), created_at: None }).collect(),
            );
        }
        GroupsAction::Delete(index) => {
            if *index >= meta.key_groups.len() {
                return Err(Error::Fatal(format!(
                    "cannot delete key group {index}: the file has {} key group(s), numbered from 0",
                    meta.key_groups.len()
                )));
            }
            meta.key_groups.remove(*index);
        }
    }
    if req.threshold != 0 {
        meta.shamir_threshold = req.threshold;
    }
    if let GroupsAction::Delete(_) = req.action {
        if meta.key_groups.len() < meta.shamir_threshold {
            return Err(Error::Fatal(format!(
                "removing this key group will make the Shamir threshold impossible to satisfy: Shamir threshold is {}, but we only have {} key groups",
                meta.shamir_threshold,
                meta.key_groups.len()
            )));
        }
    }
    rewrap(meta, &key, ctx).map_err(fatal)?;
    let bytes = emit_opened(opened, req.format, req.options).map_err(|e| match e {
        // sops prints the store's own text here, without a prefix.
        Error::MarshalTree(m) => Error::Fatal(m),
        other => fatal(other),
    })?;
    Ok(Outcome { bytes, warnings: Vec::new() })
}

/// Parses the `groups delete` index as Go's `strconv.ParseUint(s, 10, 32)`.
pub fn parse_index(s: &str) -> Result<usize, Error> {
    let err =
        |why: &str| Error::Fatal(format!("failed to parse [index] argument: strconv.ParseUint: parsing {s:?}: {why}"));
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("invalid syntax"));
    }
    let n: u32 = s.parse().map_err(|_| err("value out of range"))?;
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_parsing_uses_go_texts() {
        assert_eq!(parse_index("2").unwrap(), 2);
        assert_eq!(parse_index("007").unwrap(), 7);
        assert_eq!(
            parse_index("x").unwrap_err().to_string(),
            "failed to parse [index] argument: strconv.ParseUint: parsing \"x\": invalid syntax"
        );
        assert!(parse_index("-1").unwrap_err().to_string().ends_with("invalid syntax"));
        assert!(parse_index("4294967296").unwrap_err().to_string().ends_with("value out of range"));
        assert_eq!(parse_index("1").map_err(|e| e.exit_code()), Ok(1));
    }

    #[test]
    fn recovery_failures_take_the_short_form() {
        let report = "Failed to get the data key required to decrypt the SOPS file.\n\nGroup 0: SUCCESS\n\nGroup 1: FAILED\n  x: FAILED\n".to_owned();
        let e = short_key_error(Error::DataKeyRecovery(report), 2);
        assert_eq!(e.to_string(), "Error getting data key: 2 successful groups required, got 1");
        assert!(matches!(e, Error::Fatal(_)));
        assert!(matches!(fatal(Error::MetadataNotFound), Error::Fatal(m) if m == "sops metadata not found"));
    }
}
