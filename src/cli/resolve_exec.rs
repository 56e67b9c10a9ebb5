//! `exec-env`, `exec-file` and `filestatus` arguments → requests
//! (cli.md §4.9–§4.11, §7), with sops's checks in sops's order: the
//! positional count, the config (its `stores` section), the decryption order.
//!
//! The file argument stays as given (not made absolute): these commands
//! read it relative to the working directory and echo it unchanged.

use std::ffi::OsString;
use std::path::PathBuf;

use rsops::context::Context;
use rsops::error::Error;
use rsops::keys::recover;
use rsops::ops::exec::{ChildOptions, ExecEnvRequest, ExecFileRequest};
use rsops::ops::filestatus::FilestatusRequest;
use rsops::stores::Format;

use super::resolve::{load_config, output_options, Request, Resolved};
use super::{Cli, ExecEnvArgs, ExecFileArgs, FilestatusArgs};

/// sops's text when an `exec-*` command does not get exactly two positionals.
const MISSING_FILE: &str = "error: missing file to decrypt";

/// The two positionals `exec-*` require (`c.NArg() != 2` in sops).
fn file_and_command(
    file: Option<&PathBuf>,
    command: Option<&OsString>,
    extra: &[OsString],
) -> Result<(PathBuf, OsString), Error> {
    match (file, command) {
        (Some(f), Some(c)) if extra.is_empty() => Ok((f.clone(), c.clone())),
        _ => Err(Error::Generic(MISSING_FILE.to_owned())),
    }
}

fn child_options(background: bool, user: &str) -> ChildOptions {
    ChildOptions { background, user: (!user.is_empty()).then(|| user.to_owned()) }
}

/// The store for a path as sops's `FormatForPathOrString` picks it: a
/// valid type name wins, else the extension.
fn format_for(path: &std::path::Path, type_name: &str) -> Format {
    Format::from_type_name(type_name).unwrap_or_else(|| Format::from_path(&path.to_string_lossy()))
}

/// `exec-env file command`.
pub(crate) fn exec_env(ctx: &Context, cli: &Cli, a: &ExecEnvArgs) -> Result<Resolved, Error> {
    let (path, command) = file_and_command(a.file.as_ref(), a.command.as_ref(), &a.extra)?;
    let mut warnings = Vec::new();
    // Loaded for its `stores` section only; a broken config fails here too.
    load_config(ctx, cli, &mut warnings)?;
    let decryption_order = recover::parse_order(&a.order.decryption_order)?;
    if a.background {
        // Before decryption, and before the --same-process conflict (ops).
        warnings.push(
            "exec-env's --background option is deprecated and will be removed in a future version of sops".to_owned(),
        );
    }
    let req = ExecEnvRequest {
        // No --input-type on exec-env: the extension decides (cli.md §3.1).
        format: format_for(&path, ""),
        path,
        decryption_order,
        command,
        pristine: a.pristine,
        same_process: a.same_process,
        child: child_options(a.background, &a.user),
    };
    Ok(Resolved { request: Request::ExecEnv(req), warnings })
}

/// `exec-file file command`.
pub(crate) fn exec_file(ctx: &Context, cli: &Cli, a: &ExecFileArgs) -> Result<Resolved, Error> {
    let (path, command) = file_and_command(a.file.as_ref(), a.command.as_ref(), &a.extra)?;
    let mut warnings = Vec::new();
    let cfg = load_config(ctx, cli, &mut warnings)?;
    let decryption_order = recover::parse_order(&a.order.decryption_order)?;
    let input_format = format_for(&path, &a.input_type);
    let output_format = format_for(&path, &a.output_type);
    let req = ExecFileRequest {
        input_format,
        output_format,
        // The global --indent does not reach exec-file (cli.md §1.2).
        output_options: output_options(output_format, cfg.as_ref(), None),
        path,
        decryption_order,
        command,
        fifo: !a.no_fifo,
        filename: (!a.filename.is_empty()).then(|| a.filename.clone()),
        child: child_options(a.background, &a.user),
    };
    Ok(Resolved { request: Request::ExecFile(req), warnings })
}

/// `filestatus file`: extra positionals are ignored without a warning.
pub(crate) fn filestatus(ctx: &Context, cli: &Cli, a: &FilestatusArgs) -> Result<Resolved, Error> {
    let Some(path) = a.file.clone() else { return Err(Error::NoFileSpecified) };
    let mut warnings = Vec::new();
    load_config(ctx, cli, &mut warnings)?;
    let req = FilestatusRequest { format: format_for(&path, &a.input_type), path };
    Ok(Resolved { request: Request::Filestatus(req), warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let dir = std::env::temp_dir().join("rsops-resolve-exec-no-config");
        let _ = std::fs::create_dir_all(&dir);
        Context::new(rsops::context::Env::default(), dir)
    }

    fn parsed(argv: &[&str]) -> Cli {
        let mut full = vec![OsString::from("sops")];
        full.extend(argv.iter().map(OsString::from));
        match super::super::parse_with_env(full, &|_| None) {
            Ok(super::super::Parsed::Run(c)) => c,
            _ => panic!("not a run: {argv:?}"),
        }
    }

    fn resolve(argv: &[&str]) -> Result<Resolved, Error> {
        super::super::resolve::resolve(&parsed(argv), &ctx())
    }

    #[test]
    fn exec_needs_exactly_two_positionals() {
        for argv in [&["exec-env", "f.yaml"][..], &["exec-env", "f.yaml", "a", "b"], &["exec-file"]] {
            let err = resolve(argv).err().expect("refused");
            assert_eq!((err.exit_code(), err.to_string()), (1, MISSING_FILE.to_owned()), "{argv:?}");
        }
    }

    #[test]
    fn exec_env_takes_the_store_from_the_extension() {
        let r = resolve(&["exec-env", "--pristine", "s.json", "env"]).unwrap();
        let Request::ExecEnv(req) = r.request else { panic!("not exec-env") };
        assert_eq!(req.format, Format::Json);
        assert_eq!(req.path, PathBuf::from("s.json"));
        assert!(req.pristine && !req.same_process && !req.child.background);
        assert!(r.warnings.is_empty());
    }

    #[test]
    fn background_warns_before_anything_runs() {
        let r = resolve(&["exec-env", "--background", "s.yaml", "true"]).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].starts_with("exec-env's --background option is deprecated"));
    }

    #[test]
    fn exec_file_types_fifo_and_filename() {
        let r = resolve(&["exec-file", "--no-fifo", "--output-type", "json", "--filename", "x.json", "s.yaml", "cat {}"])
            .unwrap();
        let Request::ExecFile(req) = r.request else { panic!("not exec-file") };
        assert_eq!((req.input_format, req.output_format), (Format::Yaml, Format::Json));
        assert!(!req.fifo);
        assert_eq!(req.filename.as_deref(), Some("x.json"));
        let r = resolve(&["exec-file", "--output-type", "YAML", "s.env", "cat {}"]).unwrap();
        let Request::ExecFile(req) = r.request else { panic!("not exec-file") };
        // An unknown type name is ignored, as in sops (cli.md §3.1).
        assert_eq!(req.output_format, Format::Dotenv);
        assert!(req.fifo && req.filename.is_none());
    }

    #[test]
    fn duplicate_decryption_order_is_112() {
        let err = resolve(&["exec-env", "--decryption-order", "age,age", "s.yaml", "true"]).err().expect("refused");
        assert_eq!(err.exit_code(), 112);
    }

    #[test]
    fn filestatus_needs_a_file_and_honours_input_type() {
        let err = resolve(&["filestatus"]).err().expect("refused");
        assert_eq!((err.exit_code(), err.to_string()), (100, "Error: no file specified".to_owned()));
        let r = resolve(&["filestatus", "--input-type", "json", "x.yaml", "ignored"]).unwrap();
        let Request::Filestatus(req) = r.request else { panic!("not filestatus") };
        assert_eq!(req.format, Format::Json);
        assert!(r.warnings.is_empty());
    }
}
