//! `publish file|dir` (cli.md §4.14, §11): the checks sops makes before
//! walking — the config must exist, then a file argument — and the
//! terminal side of the command ([`Console`]).

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use rsops::config;
use rsops::context::Context;
use rsops::error::Error;
use rsops::keys::recover;
use rsops::ops::publish::{PublishRequest, PublishUi};

use super::args::PublishArgs;
use super::resolve::{positional_warnings, Request, Resolved};
use super::Cli;

pub(crate) fn publish(ctx: &Context, cli: &Cli, a: &PublishArgs) -> Result<Resolved, Error> {
    let mut warnings = Vec::new();
    let explicit = (!cli.global.config.is_empty()).then_some(cli.global.config.as_str());
    let (found, warning) = config::find(&ctx.cwd, explicit, &ctx.env);
    warnings.extend(warning);
    let Some(config_path) = found else {
        return Err(Error::Generic("config file not found".to_owned()));
    };
    let Some(root) = a.file.clone() else { return Err(Error::NoFileSpecified) };
    positional_warnings(&a.extra, &mut warnings);
    // sops stats the argument before it reads --decryption-order.
    let shown = root.to_string_lossy();
    let info = std::fs::metadata(ctx.cwd.join(&root))
        .map_err(|e| Error::Generic(format!("stat {shown}: {}", config::io_text(&e))))?;
    if info.is_dir() && !a.recursive {
        return Err(Error::Fatal("can't operate on a directory without --recursive flag.".to_owned()));
    }
    let decryption_order = recover::parse_order(&a.order.decryption_order)?;
    let color =
        std::io::stdout().is_terminal() && ctx.env.get("TERM") != Some("dumb") && ctx.env.non_empty("NO_COLOR").is_none();
    let req = PublishRequest {
        root,
        config_path,
        yes: a.yes,
        omit_extensions: a.omit_extensions,
        recursive: a.recursive,
        decryption_order,
        color,
        keyservice_uris: super::resolve::key_service_args(cli).keyservice.clone(),
        verbose: a.verbose || cli.global.verbose,
    };
    Ok(Resolved { request: Request::Publish(req), warnings })
}

/// The terminal side of `publish`.
pub(crate) struct Console;

impl PublishUi for Console {
    fn print(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn warn(&mut self, msg: &str) {
        crate::log_as("PUBLISH", "warning", msg);
    }

    fn log(&mut self, logger: &str, level: &str, msg: &str, fields: &[(&str, &str)]) {
        crate::log_fields(logger, level, msg, fields);
    }

    fn read_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        let n = std::io::stdin().lock().read_until(b'\n', &mut buf)?;
        Ok((n > 0).then_some(buf))
    }
}
