//! `publish file|dir`: send encrypted files to the destination their
//! `destination_rules` entry names (cli.md §4.14, §11).
//!
//! Per file, as sops does: the rule is looked up for the path as given or
//! walked; for S3 and GCS the file is re-encrypted for the rule's
//! `recreation_rule` keys (with a fresh data key) or, without keys, sent as
//! it is; Vault receives the decrypted data. Unless `-y`, each upload is
//! confirmed on stdin. Printing and reading go through [`PublishUi`], the
//! uploads through [`crate::publish`].

use std::path::PathBuf;

use regex::Regex;

use super::updatekeys::{diff_groups, render_changes, scan_answer};
use super::{attach_metadata, decrypt_tree, open_encrypted, rewrap, Opened};
use crate::config::destination::{destination_rule, Destination};
use crate::config::{self, io_text};
use crate::context::Context;
use crate::crypt::rules::CryptRule;
use crate::crypt::{mac, DataKey};
use crate::error::Error;
use crate::keys::{KeyGroup, KeyKind, KeyRef, MasterKey};
use crate::metadata::{self, Metadata};
use crate::publish::{self, go_clean, go_ext, go_rel, Payload};
use crate::stores::{store_for, Format, StoreOptions};
use crate::tree::walk;

/// Everything `publish` needs.
#[allow(clippy::struct_excessive_bools)] // sops's boolean flags, one field each
pub struct PublishRequest {
    /// The file or directory argument, as given.
    pub root: PathBuf,
    /// `--config`/`SOPS_CONFIG`, else the `.sops.yaml` found (required).
    pub config_path: PathBuf,
    /// `-y`: no question asked.
    pub yes: bool,
    /// `--omit-extensions` (a rule's `omit_extensions` also counts).
    pub omit_extensions: bool,
    /// `--recursive`: the argument may be a directory.
    pub recursive: bool,
    pub decryption_order: Vec<KeyKind>,
    /// ANSI colours in the key-group diff (stdout is a terminal).
    pub color: bool,
    /// `--keyservice` URIs as given: sops parses them again for every file
    /// (its warning for a bad one repeats per file).
    pub keyservice_uris: Vec<String>,
    /// `--verbose` (the command's or the global one): sops's info lines.
    pub verbose: bool,
}

/// Where `publish` talks: stdout for the diff, the question and (with
/// `--recursive`) a cancellation, stdin for answers, stderr for sops's
/// `PUBLISH` warnings.
pub trait PublishUi {
    /// Text for stdout, written as is and flushed.
    fn print(&mut self, text: &str);
    /// A warning of sops's `PUBLISH` logger.
    fn warn(&mut self, msg: &str);
    /// A line of another of sops's loggers, with logrus fields.
    fn log(&mut self, logger: &str, level: &str, msg: &str, fields: &[(&str, &str)]);
    /// One line of stdin, with its newline if it had one; `None` at the end.
    fn read_line(&mut self) -> std::io::Result<Option<Vec<u8>>>;
}

/// Runs `publish`. The argument was found to exist by the caller's `stat`.
pub fn run(req: &PublishRequest, ctx: &Context, ui: &mut dyn PublishUi) -> Result<(), Error> {
    let root = req.root.to_string_lossy().into_owned();
    let full = ctx.cwd.join(&req.root);
    let info = std::fs::metadata(&full).map_err(|e| Error::Generic(format!("stat {root}: {}", io_text(&e))))?;
    if info.is_dir() && !req.recursive {
        return Err(Error::Fatal("can't operate on a directory without --recursive flag.".to_owned()));
    }
    for file in walk_files(ctx, &root)? {
        key_service_lines(req, ui);
        publish_file(req, ctx, ui, &root, &file)?;
    }
    Ok(())
}

/// What sops's `keyservices(c)` logs each time it builds the list, which
/// `publish` does per file: a warning per URI that does not parse and,
/// at info level (shown only with `--verbose`), `Connecting to key
/// service` per URI that does (cli.md §3.9), in the URIs' order.
fn key_service_lines(req: &PublishRequest, ui: &mut dyn PublishUi) {
    for uri in &req.keyservice_uris {
        match crate::keyservice::log_address(uri) {
            None => ui.log("CMD", "warning", "Error parsing URI for keyservice, skipping", &[("uri", uri)]),
            Some(address) if req.verbose => ui.log("CMD", "info", "Connecting to key service", &[("address", &address)]),
            Some(_) => {}
        }
    }
}

/// The files `filepath.Walk` visits under `root`, in its order: names
/// sorted bytewise, children as `Join(dir, name)` (cleaned), the root as
/// given; links are not followed (a link is published as a file).
fn walk_files(ctx: &Context, root: &str) -> Result<Vec<String>, Error> {
    fn visit(ctx: &Context, path: &str, out: &mut Vec<String>) -> Result<(), Error> {
        let full = ctx.cwd.join(path);
        let meta = std::fs::symlink_metadata(&full)
            .map_err(|e| Error::Generic(format!("lstat {path}: {}", io_text(&e))))?;
        if !meta.is_dir() {
            out.push(path.to_owned());
            return Ok(());
        }
        let entries = std::fs::read_dir(&full).map_err(|e| Error::Generic(format!("open {path}: {}", io_text(&e))))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            visit(ctx, &go_clean(&format!("{path}/{name}")), out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(ctx, root, &mut out)?;
    Ok(out)
}

fn publish_file(req: &PublishRequest, ctx: &Context, ui: &mut dyn PublishUi, root: &str, file: &str) -> Result<(), Error> {
    let abs = go_clean(&ctx.cwd.join(file).to_string_lossy());
    let rule = destination_rule(&req.config_path, file)?;
    let Some(dest) = &rule.destination else {
        return Err(Error::Generic("no destination configured for this file".to_owned()));
    };
    let mut name = if req.recursive {
        // Relative to the argument (the reference sops has the later
        // "Fix recursive publish", cli.md §11 step 4).
        go_rel(root, file).ok_or_else(|| Error::Generic(format!("Rel: can't make {file} relative to {root}")))?
    } else {
        abs.rsplit('/').next().unwrap_or(&abs).to_owned()
    };
    if req.omit_extensions || rule.omit_extensions {
        let ext = go_ext(&abs);
        if let Some(stripped) = name.strip_suffix(ext) {
            name = stripped.to_owned();
        }
    }
    let bytes = std::fs::read(ctx.cwd.join(file))
        .map_err(|e| Error::ReadInput { message: format!("Error reading file: open {file}: {}", io_text(&e)) })?;
    let format = Format::from_path(file);
    let mut opened = open_encrypted(&bytes, format, StoreOptions::default())?;
    let payload = match dest {
        Destination::S3 { .. } | Destination::Gcs { .. } => {
            let keys = &rule.recreation.key_groups;
            if keys.first().is_some_and(|g| !g.is_empty()) {
                decrypt_tree(&mut opened, &req.decryption_order, false, ctx, None)?;
                let file_keys: Vec<Vec<KeyRef>> =
                    opened.meta.key_groups.iter().map(|g| g.iter().map(|m| m.key.clone()).collect()).collect();
                let diffs = diff_groups(&file_keys, keys);
                if diffs.iter().any(|d| !d.added.is_empty() || !d.removed.is_empty()) {
                    // render_changes without thresholds, under publish's own heading.
                    let text = render_changes(0, 0, &diffs, req.color);
                    let groups = text.split_once('\n').map_or("", |(_, rest)| rest);
                    ui.print(&format!("The following changes will be made to the file's key groups:\n{groups}"));
                }
                let cfg = config::load(&req.config_path)?;
                let indent = match format {
                    Format::Yaml => cfg.stores.yaml_indent,
                    Format::Json => cfg.stores.json_indent,
                    Format::Binary => cfg.stores.json_binary_indent,
                    Format::Dotenv | Format::Ini => None,
                };
                Payload::File(reencrypt(opened, &rule.recreation, format, StoreOptions { indent }, ctx)?)
            } else {
                Payload::File(bytes)
            }
        }
        Destination::Vault { .. } => {
            decrypt_tree(&mut opened, &req.decryption_order, false, ctx, None)?;
            Payload::Data(opened.docs)
        }
    };
    if !req.yes {
        let shown = dest.display(&name, &publish::vault_default_address(ctx));
        let answer = loop {
            ui.print(&format!("uploading {abs} to {shown} ? (y/n): "));
            let line = ui.read_line().map_err(|e| Error::Generic(io_text(&e)))?;
            let word = scan_answer(line.as_deref()).map_err(Error::Generic)?;
            if word == "y" || word == "n" {
                break word;
            }
        };
        if answer == "n" {
            let msg = format!("Publication of {abs} canceled");
            if req.recursive {
                ui.print(&format!("{msg}\n"));
                return Ok(());
            }
            return Err(Error::Generic(msg));
        }
    }
    publish::upload(dest, &name, payload, ctx, &mut |w| ui.warn(w))
}

/// sops replaces the metadata wholesale (cli.md §11 step 6): the rule's
/// key groups, threshold and suffixes, version 3.11.0, no other selection
/// setting and no `mac_only_encrypted`; a new data key; every value
/// encrypted under that rule. With neither suffix set, nothing is exempt —
/// not even `_unencrypted` keys — and no rule is recorded (sops's own
/// output then fails its MAC check on such keys; kept as sops does it).
fn reencrypt(
    mut opened: Opened,
    rule: &config::CreationRule,
    format: Format,
    options: StoreOptions,
    ctx: &Context,
) -> Result<Vec<u8>, Error> {
    let crypt_rule = if !rule.selection[0].is_empty() {
        Some(CryptRule::UnencryptedSuffix(rule.selection[0].clone()))
    } else if !rule.selection[1].is_empty() {
        Some(CryptRule::EncryptedSuffix(rule.selection[1].clone()))
    } else {
        None
    };
    let mut meta = Metadata {
        key_groups: rule
            .key_groups
            .iter()
            .map(|g| g.iter().map(|k| MasterKey { key: k.clone(), enc: String::new(), created_at: None }).collect())
            .collect::<Vec<KeyGroup>>(),
        shamir_threshold: rule.shamir_threshold,
        last_modified: String::new(),
        mac: String::new(),
        rule: crypt_rule.clone(),
        mac_only_encrypted: false,
        version: metadata::WRITTEN_VERSION.to_owned(),
    };
    let key = DataKey::generate();
    rewrap(&mut meta, &key, ctx)?;
    let walk_rule = crypt_rule.unwrap_or_else(|| {
        // Matches no key: every value and comment is encrypted.
        CryptRule::UnencryptedRegex(Regex::new(r"[^\s\S]").expect("valid pattern"))
    });
    let digest =
        walk::encrypt(&mut opened.docs, &key, &walk_rule, false, None).map_err(|e| Error::EncryptTree(e.message))?;
    meta.last_modified = metadata::time::format_rfc3339(&metadata::time::now_utc());
    meta.mac = mac::seal(&key, &digest, &meta.last_modified);
    attach_metadata(&mut opened.docs, &meta, format);
    store_for(format, options).emit(&opened.docs).map_err(|e| Error::MarshalTree(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_never_matching_rule_encrypts_everything() {
        let r = CryptRule::UnencryptedRegex(Regex::new(r"[^\s\S]").unwrap());
        assert!(!r.key_matches("secret_unencrypted") && !r.key_matches("") && !r.key_matches("\n"));
    }

    #[test]
    fn walk_order_is_bytewise_and_paths_are_joined_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("r/d")).unwrap();
        for f in ["r/b.yaml", "r/a.yaml", "r/d/c.yaml", "r/B.yaml"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let ctx = Context::new(crate::context::Env::default(), dir.path().to_path_buf());
        assert_eq!(walk_files(&ctx, "./r/").unwrap(), ["r/B.yaml", "r/a.yaml", "r/b.yaml", "r/d/c.yaml"]);
        assert_eq!(walk_files(&ctx, "./r/a.yaml").unwrap(), ["./r/a.yaml"]);
    }
}
