//! `edit FILE` and the legacy `sops [flags] FILE` (no mode flag) → an
//! [`EditRequest`] (cli.md §4.1, §4.5, §6).
//!
//! The two forms differ only in where settings come from: the subcommand
//! has its own flags, does not consult creation rules for an existing file
//! and has no `--filename-override`/`--indent`; the legacy form reads the
//! global flags, honours both, and requires a matching creation rule even
//! for an existing file when a config has rules (§4.1 step 6, verified).
//! A missing file gets keys and settings exactly as `encrypt` would
//! ([`new_file_settings`]). The result is always written back in place.

use std::path::{Path, PathBuf};

use rsops::context::Context;
use rsops::error::Error;
use rsops::io::Output;
use rsops::keys::recover;
use rsops::ops::edit::{EditRequest, NewFile};

use super::resolve::{
    absolute, encryption_context, formats, load_config, new_file_settings, output_options, positional_warnings,
    EncryptInputs, LegacyOnly, NewFileSettings, Request, Resolved,
};
use super::{Cli, EditArgs};

fn new_file(s: NewFileSettings) -> NewFile {
    NewFile {
        key_groups: s.key_groups,
        shamir_threshold: s.shamir_threshold,
        rule: s.rule,
        mac_only_encrypted: s.mac_only_encrypted,
    }
}

/// `edit FILE` (cli.md §4.5), in sops's order of checks.
pub(crate) fn edit(ctx: &Context, cli: &Cli, a: &EditArgs) -> Result<Resolved, Error> {
    let mut warnings = Vec::new();
    let Some(file) = &a.file else { return Err(Error::NoFileSpecified) };
    positional_warnings(&a.extra, &mut warnings);
    let path = absolute(&ctx.cwd, file);
    let (input_format, output_format) = formats(&a.types, &path.to_string_lossy());
    // Read for the stores section even when no rule is needed (§5.2).
    let cfg = load_config(ctx, cli, &mut warnings)?;
    let decryption_order = recover::parse_order(&a.order.decryption_order)?;
    let new = if path.exists() {
        None
    } else {
        let inputs = EncryptInputs {
            file: Some(file),
            extra: &a.extra,
            in_place: false,
            output: "",
            filename_override: "",
            types: &a.types,
            keys: &a.keys,
            selection: &a.selection,
            encryption_context: &a.encryption_context,
            shamir_threshold: a.shamir_secret_sharing_threshold,
            // The comment regexes and --mac-only-encrypted are global flags
            // that sops 3.11 reads only in the legacy form.
            legacy: LegacyOnly::default(),
        };
        Some(new_file(new_file_settings(ctx, cfg.as_ref(), &path, input_format, &inputs, &mut warnings)?))
    };
    let req = EditRequest {
        path: path.clone(),
        input_format,
        output_format,
        output_options: output_options(output_format, cfg.as_ref(), None),
        ignore_mac: a.ignore_mac,
        decryption_order,
        show_master_keys: a.show_master_keys,
        new_file: new,
    };
    Ok(Resolved { request: Request::Edit(req, Output::InPlace(path)), warnings })
}

/// The legacy form without `-e/-d/-r/--set` (cli.md §4.1). The caller has
/// already checked the file argument, `-i` with `--output` and the
/// `--add-*`/`--rm-*` flags on a missing file.
pub(crate) fn legacy_edit(ctx: &Context, cli: &Cli, file: &PathBuf) -> Result<Resolved, Error> {
    let g = &cli.global;
    let mut warnings = Vec::new();
    positional_warnings(&cli.extra, &mut warnings);
    let path = absolute(&ctx.cwd, file);
    let rule_path =
        if g.filename_override.is_empty() { path.clone() } else { absolute(&ctx.cwd, Path::new(&g.filename_override)) };
    let cfg = load_config(ctx, cli, &mut warnings)?;
    let exists = path.exists();
    if exists {
        // Step 6: a config with creation rules must have one for this file,
        // even though an existing file's keys come from its metadata. sops
        // drops a malformed --encryption-context here (it only matters for
        // new files, which report it below).
        if let Some(c) = &cfg {
            let context = encryption_context(&g.encryption_context, &mut Vec::new()).unwrap_or_default();
            super::resolve::validate_rule(ctx, c.creation_rule(&rule_path, &context)?)?;
        }
    }
    let (input_format, output_format) = formats(&g.types, &rule_path.to_string_lossy());
    let decryption_order = recover::parse_order(&g.order.decryption_order)?;
    let new = if exists {
        None
    } else {
        let inputs = EncryptInputs::legacy(cli, file, false, "");
        Some(new_file(new_file_settings(ctx, cfg.as_ref(), &rule_path, input_format, &inputs, &mut warnings)?))
    };
    let req = EditRequest {
        path: path.clone(),
        input_format,
        output_format,
        output_options: output_options(output_format, cfg.as_ref(), g.indent),
        ignore_mac: g.ignore_mac,
        decryption_order,
        show_master_keys: g.show_master_keys,
        new_file: new,
    };
    Ok(Resolved { request: Request::Edit(req, Output::InPlace(path)), warnings })
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use rsops::context::Env;
    use rsops::keys::KeyRef;
    use rsops::stores::Format;

    use super::super::{parse, resolve::resolve, Parsed};
    use super::*;

    const RECIPIENT: &str = "age1l7u8326zfw2ve9jzfu8ndz0g4xhntlwlrq0w0wv3pfv7kv9ql3lsussgnk";

    /// A working directory with an existing `old.yaml` and, optionally, a
    /// `.sops.yaml`.
    fn dir(config: Option<&str>) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("old.yaml"), "a: b\n").unwrap();
        if let Some(c) = config {
            std::fs::write(d.path().join(".sops.yaml"), c).unwrap();
        }
        d
    }

    fn run(d: &tempfile::TempDir, argv: &[&str]) -> Result<(EditRequest, Output, Vec<String>), Error> {
        let mut full: Vec<OsString> = vec!["sops".into()];
        full.extend(argv.iter().map(OsString::from));
        let Ok(Parsed::Run(cli)) = parse(full) else { panic!("{argv:?} did not parse to a run") };
        let ctx = Context::new(Env::from_pairs([("PATH", "/usr/bin")]), d.path().to_owned());
        let resolved = resolve(&cli, &ctx)?;
        match resolved.request {
            Request::Edit(req, out) => Ok((req, out, resolved.warnings)),
            _ => panic!("{argv:?} is not an edit"),
        }
    }

    fn code(r: Result<(EditRequest, Output, Vec<String>), Error>) -> (u8, String) {
        let e = r.err().expect("an error");
        (e.exit_code(), e.to_string())
    }

    #[test]
    fn existing_file_needs_no_keys() {
        let d = dir(None);
        for argv in [&["edit", "old.yaml"][..], &["old.yaml"]] {
            let (req, out, warnings) = run(&d, argv).unwrap();
            assert!(req.new_file.is_none());
            assert_eq!(req.path, d.path().join("old.yaml"));
            assert_eq!(out, Output::InPlace(d.path().join("old.yaml")));
            assert_eq!((req.input_format, req.output_format), (Format::Yaml, Format::Yaml));
            assert!(!req.show_master_keys && !req.ignore_mac);
            assert!(warnings.is_empty());
        }
        let (req, ..) = run(&d, &["edit", "-s", "--ignore-mac", "old.yaml"]).unwrap();
        assert!(req.show_master_keys && req.ignore_mac);
        let (req, ..) = run(&d, &["-s", "old.yaml"]).unwrap();
        assert!(req.show_master_keys);
    }

    #[test]
    fn new_file_takes_flag_keys_or_fails_like_encrypt() {
        let d = dir(None);
        let (req, ..) = run(&d, &["edit", "--age", RECIPIENT, "new.json"]).unwrap();
        let new = req.new_file.expect("a new file");
        assert_eq!(new.key_groups, vec![vec![KeyRef::Age { recipient: RECIPIENT.to_owned() }]]);
        assert_eq!(req.input_format, Format::Json);
        let (c, text) = code(run(&d, &["edit", "new.yaml"]));
        assert_eq!(c, 1);
        assert_eq!(
            text,
            "config file not found, or has no creation rules, and no keys provided through command line options"
        );
        let (req, ..) = run(&d, &["--age", RECIPIENT, "--shamir-secret-sharing-threshold", "2", "new.env"]).unwrap();
        assert_eq!(req.new_file.unwrap().shamir_threshold, 2);
    }

    #[test]
    fn new_file_takes_the_creation_rule() {
        let d = dir(Some(&format!(
            "creation_rules:\n  - path_regex: \\.yaml$\n    encrypted_regex: ^secret\n    age: {RECIPIENT}\n"
        )));
        let (req, ..) = run(&d, &["edit", "new.yaml"]).unwrap();
        let new = req.new_file.unwrap();
        assert_eq!(new.key_groups.len(), 1);
        assert_eq!(new.rule.unwrap().key(), "encrypted_regex");
        let (c, text) = code(run(&d, &["edit", "new.json"]));
        assert_eq!((c, text.as_str()), (1, "error loading config: no matching creation rules found"));
        // Conflicting selection settings, as for encrypt.
        let (c, _) = code(run(&d, &["edit", "--unencrypted-suffix", "_u", "new.yaml"]));
        assert_eq!(c, 8);
    }

    #[test]
    fn legacy_form_needs_a_rule_even_for_existing_files() {
        let d = dir(Some(&format!("creation_rules:\n  - path_regex: nomatch\n    age: {RECIPIENT}\n")));
        let (c, text) = code(run(&d, &["old.yaml"]));
        assert_eq!((c, text.as_str()), (1, "error loading config: no matching creation rules found"));
        // The subcommand does not ask for one.
        assert!(run(&d, &["edit", "old.yaml"]).is_ok());
        // A config without creation rules is fine for an existing file.
        let d = dir(Some("stores:\n  yaml:\n    indent: 2\n"));
        let (req, ..) = run(&d, &["old.yaml"]).unwrap();
        assert_eq!(req.output_options.indent, Some(2));
        let (req, ..) = run(&d, &["--indent", "6", "old.yaml"]).unwrap();
        assert_eq!(req.output_options.indent, Some(6));
    }

    #[test]
    fn legacy_override_picks_format_and_rule() {
        let d = dir(Some(&format!("creation_rules:\n  - path_regex: \\.json$\n    age: {RECIPIENT}\n")));
        let (req, out, _) = run(&d, &["--filename-override", "x.json", "old.yaml"]).unwrap();
        assert_eq!(req.input_format, Format::Json);
        assert_eq!(out, Output::InPlace(d.path().join("old.yaml")));
        let (req, ..) = run(&d, &["--filename-override", "x.json", "brand-new"]).unwrap();
        assert!(req.new_file.is_some());
        assert_eq!(req.path, d.path().join("brand-new"));
    }

    #[test]
    fn legacy_conflicts_and_order_errors() {
        let d = dir(None);
        let (c, _) = code(run(&d, &["-i", "--output", "x", "old.yaml"]));
        assert_eq!(c, 8);
        let (c, _) = code(run(&d, &["--decryption-order", "age,age", "old.yaml"]));
        assert_eq!(c, 112);
        let (c, _) = code(run(&d, &["edit", "--decryption-order", "age,age", "old.yaml"]));
        assert_eq!(c, 112);
        let r = run(&d, &["old.yaml", "extra"]).unwrap();
        assert_eq!(r.2, ["More than one positional argument provided. Only the first one will be used!"]);
    }
}
