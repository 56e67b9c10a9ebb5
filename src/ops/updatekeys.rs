//! `updatekeys`: make each file's key groups those of its creation rule
//! (cli.md §4.8, §5.6).
//!
//! The data key stays the same and is wrapped again for the rule's keys;
//! values, MAC and `lastmodified` are untouched (format.md §5.4). The
//! threshold is the file's, capped at the rule's number of groups (cli.md
//! §13.17). The planned change is shown as sops prints it and, unless `-y`,
//! confirmed on stdin; printing and reading go through [`UpdatekeysUi`] so
//! this module stays free of terminals.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{emit_opened, open_encrypted, rewrap};
use crate::config::{self, io_text};
use crate::context::Context;
use crate::error::Error;
use crate::io::{read_input, write_atomic, Input};
use crate::keys::{recover, KeyGroup, KeyRef, MasterKey};
use crate::stores::{Format, StoreOptions};

/// Everything `updatekeys` needs.
pub struct UpdatekeysRequest {
    /// The files as given on the command line.
    pub files: Vec<PathBuf>,
    /// The config file: `--config`/`SOPS_CONFIG`, else the one found;
    /// `None` when there is none (an error, checked before anything else).
    pub config_path: Option<PathBuf>,
    /// The config path as sops names it in messages (`.sops.yaml`, `../.sops.yaml`).
    pub config_shown: String,
    /// `--input-type`, when it names a format.
    pub input_type: Option<Format>,
    /// `-y`: no question asked.
    pub yes: bool,
    /// ANSI colours in the diff (stdout is a terminal, cli.md §1.5).
    pub color: bool,
}

/// Where `updatekeys` talks: stdout for the diff and the question, stdin
/// for the answer, stderr for its log lines.
pub trait UpdatekeysUi {
    /// Text for stdout, written as is and flushed.
    fn print(&mut self, text: &str);
    /// A line of Go's standard logger on stderr (`YYYY/MM/DD HH:MM:SS <msg>`).
    fn log(&mut self, msg: &str);
    /// One failed file of a multi-file run, at error level.
    fn log_error(&mut self, err: &Error);
    /// One line of stdin, with its newline if it had one; `None` at the end.
    fn read_line(&mut self) -> std::io::Result<Option<Vec<u8>>>;
}

/// Runs `updatekeys` over every file. One file: its error as is. Several:
/// each failure is logged and the run ends with `failed updating <n> key(s)`.
pub fn run(req: &UpdatekeysRequest, ctx: &Context, ui: &mut dyn UpdatekeysUi) -> Result<(), Error> {
    let Some(config_path) = &req.config_path else {
        return Err(Error::Generic("config file not found".to_owned()));
    };
    if req.files.is_empty() {
        return Err(Error::NoFileSpecified);
    }
    let mut failed = 0;
    for file in &req.files {
        match update_file(req, config_path, file, ctx, ui) {
            Ok(()) => {}
            Err(e) if req.files.len() == 1 => return Err(e),
            Err(e) => {
                failed += 1;
                ui.log_error(&e);
            }
        }
    }
    if failed > 0 {
        return Err(Error::Generic(format!("failed updating {failed} key(s)")));
    }
    Ok(())
}

/// One group's change, keys by id: common and added in the rule's order,
/// removed in the file's.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GroupDiff {
    pub common: Vec<String>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// sops's `DiffKeyGroups`, group by group up to the longer list.
pub fn diff_groups(file: &[Vec<KeyRef>], rule: &[Vec<KeyRef>]) -> Vec<GroupDiff> {
    let empty = Vec::new();
    (0..file.len().max(rule.len()))
        .map(|i| {
            let ours: Vec<String> = file.get(i).unwrap_or(&empty).iter().map(KeyRef::id).collect();
            let theirs: Vec<String> = rule.get(i).unwrap_or(&empty).iter().map(KeyRef::id).collect();
            let mut d = GroupDiff::default();
            for id in &theirs {
                if ours.contains(id) {
                    d.common.push(id.clone());
                } else {
                    d.added.push(id.clone());
                }
            }
            d.removed = ours.iter().filter(|id| !theirs.contains(id)).cloned().collect();
            d
        })
        .collect()
}

/// The text sops prints before asking: the threshold change, then each
/// group (`Group <n>` from 1) with `    `, `+++ ` and `--- ` lines. With
/// colours each line is wrapped as fatih/color does, newline included.
pub fn render_changes(old_threshold: usize, new_threshold: usize, diffs: &[GroupDiff], color: bool) -> String {
    let paint = |code: &str, text: String| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text
        }
    };
    let mut out = String::from("The following changes will be made to the file's groups:\n");
    if old_threshold > 0 && old_threshold == new_threshold {
        let _ = writeln!(out, "shamir_threshold: {new_threshold}");
    } else {
        if new_threshold > 0 {
            out.push_str(&paint("32", format!("+++ shamir_threshold: {new_threshold}\n")));
        }
        if old_threshold > 0 {
            out.push_str(&paint("31", format!("--- shamir_threshold: {old_threshold}\n")));
        }
    }
    for (i, d) in diffs.iter().enumerate() {
        out.push_str(&paint("4", format!("Group {}\n", i + 1)));
        for id in &d.common {
            let _ = writeln!(out, "    {id}");
        }
        for id in &d.added {
            out.push_str(&paint("32", format!("+++ {id}\n")));
        }
        for id in &d.removed {
            out.push_str(&paint("31", format!("--- {id}\n")));
        }
    }
    out
}

/// Go's `fmt.Scanln(&word)` on one line: the word, or its error text
/// (`EOF`, `unexpected newline`, `expected newline`).
pub fn scan_answer(line: Option<&[u8]>) -> Result<String, String> {
    let Some(line) = line else { return Err("EOF".to_owned()) };
    let ended = line.ends_with(b"\n");
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    let words: Vec<&[u8]> = body.split(u8::is_ascii_whitespace).filter(|w| !w.is_empty()).collect();
    match words.as_slice() {
        [] if ended => Err("unexpected newline".to_owned()),
        [] => Err("EOF".to_owned()),
        [word] => Ok(String::from_utf8_lossy(word).into_owned()),
        _ => Err("expected newline".to_owned()),
    }
}

fn update_file(
    req: &UpdatekeysRequest,
    config_path: &Path,
    file: &Path,
    ctx: &Context,
    ui: &mut dyn UpdatekeysUi,
) -> Result<(), Error> {
    let path = config::clean(&ctx.cwd.join(file));
    let shown = path.display().to_string();
    let info = std::fs::metadata(&path).map_err(|e| Error::Generic(format!("stat {shown}: {}", io_text(&e))))?;
    if info.is_dir() {
        return Err(Error::Generic("can't operate on a directory".to_owned()));
    }
    let cfg = config::load(config_path)?;
    let format = req.input_type.unwrap_or_else(|| Format::from_path(&shown));
    let indent = match format {
        Format::Yaml => cfg.stores.yaml_indent,
        Format::Json => cfg.stores.json_indent,
        Format::Binary => cfg.stores.json_binary_indent,
        Format::Dotenv | Format::Ini => None,
    };
    ui.log(&format!("Syncing keys for file {shown}"));
    let bytes = read_input(&Input::File(path.clone()))?;
    let mut opened = open_encrypted(&bytes, format, StoreOptions::default())?;
    drop(bytes);
    // The --encryption-context flag does not exist here (cli.md §4.8).
    let mut rule = cfg.creation_rule(&path, &[])?.ok_or_else(|| {
        Error::Generic(format!("The config file {} does not contain any creation rule", req.config_shown))
    })?;
    // Azure keys without a version: sops looks the latest one up while
    // loading the rule (cli.md §10.5).
    ctx.azure_kv().resolve_versions(rule.key_groups.iter_mut().flatten()).map_err(Error::Generic)?;
    let file_keys: Vec<Vec<KeyRef>> =
        opened.meta.key_groups.iter().map(|g| g.iter().map(|m| m.key.clone()).collect()).collect();
    let diffs = diff_groups(&file_keys, &rule.key_groups);
    let keys_change = diffs.iter().any(|d| !d.added.is_empty() || !d.removed.is_empty());
    // The file's threshold, not the rule's, capped at the rule's group count.
    let old_threshold = opened.meta.shamir_threshold;
    let new_threshold = old_threshold.min(rule.key_groups.len());
    if !keys_change && old_threshold == new_threshold {
        ui.log(&format!("File {shown} already up to date"));
        return Ok(());
    }
    ui.print(&render_changes(old_threshold, new_threshold, &diffs, req.color));
    if !req.yes {
        let answer = loop {
            ui.print("Is this okay? (y/n):");
            let line = ui.read_line().map_err(|e| Error::Generic(io_text(&e)))?;
            let word = scan_answer(line.as_deref()).map_err(Error::Generic)?;
            if word == "y" || word == "n" {
                break word;
            }
        };
        if answer == "n" {
            ui.log(&format!("File {shown} left unchanged"));
            return Ok(());
        }
    }
    // No decryption order: file order (cli.md §3.10).
    let key = recover::recover(&opened.meta, &[], ctx)?;
    opened.meta.key_groups = rule
        .key_groups
        .iter()
        .map(|g| g.iter().map(|k| MasterKey { key: k.clone(), enc: String::new(), created_at: None }).collect())
        .collect::<Vec<KeyGroup>>();
    opened.meta.shamir_threshold = new_threshold;
    rewrap(&mut opened.meta, &key, ctx).map_err(|e| match e {
        Error::GenerateDataKey(errs) => {
            Error::Generic(format!("error updating one or more master keys: [{}]", errs.join(" ")))
        }
        other => other,
    })?;
    let out = emit_opened(opened, format, StoreOptions { indent })?;
    write_atomic(&path, &out)?;
    ui.log(&format!("File {shown} synced with new keys"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(r: &str) -> KeyRef {
        KeyRef::Age { recipient: r.into() }
    }

    #[test]
    fn diff_orders_like_sops() {
        let file = vec![vec![age("a"), age("b"), age("c")]];
        let rule = vec![vec![age("d"), age("b")], vec![age("e")]];
        let d = diff_groups(&file, &rule);
        assert_eq!(
            d[0],
            GroupDiff { common: vec!["b".into()], added: vec!["d".into()], removed: vec!["a".into(), "c".into()] }
        );
        assert_eq!(d[1], GroupDiff { common: vec![], added: vec!["e".into()], removed: vec![] });
    }

    #[test]
    fn changes_render_as_sops_prints_them() {
        let d = vec![GroupDiff { common: vec!["k1".into()], added: vec!["k3".into()], removed: vec!["k2".into()] }];
        assert_eq!(
            render_changes(0, 0, &d, false),
            "The following changes will be made to the file's groups:\nGroup 1\n    k1\n+++ k3\n--- k2\n"
        );
        assert_eq!(
            render_changes(0, 0, &d, true),
            "The following changes will be made to the file's groups:\n\x1b[4mGroup 1\n\x1b[0m    k1\n\x1b[32m+++ k3\n\x1b[0m\x1b[31m--- k2\n\x1b[0m"
        );
        assert!(render_changes(2, 2, &[], false).ends_with("groups:\nshamir_threshold: 2\n"));
        assert!(
            render_changes(3, 2, &[], false).ends_with("groups:\n+++ shamir_threshold: 2\n--- shamir_threshold: 3\n")
        );
    }

    #[test]
    fn answers_scan_like_go_scanln() {
        assert_eq!(scan_answer(Some(b"y\n")), Ok("y".into()));
        assert_eq!(scan_answer(Some(b"  n \r\n")), Ok("n".into()));
        assert_eq!(scan_answer(Some(b"Y\n")), Ok("Y".into()));
        assert_eq!(scan_answer(Some(b"y")), Ok("y".into()));
        assert_eq!(scan_answer(None), Err("EOF".into()));
        assert_eq!(scan_answer(Some(b"\n")), Err("unexpected newline".into()));
        assert_eq!(scan_answer(Some(b"yes no\n")), Err("expected newline".into()));
    }
}
