//! The `rsops` binary: parse the command line, resolve it into a request,
//! run it, print the result or the error, and exit with sops's status.
#![forbid(unsafe_code)]

mod cli;

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use rsops::context::Context;
use rsops::error::Error;
use rsops::io::{write_output, Output};
use rsops::keyservice::KeyServices;
use rsops::ops;

use cli::resolve::{self, Request};
use cli::Parsed;

/// The sops release rsops is compatible with; `--version` reports it first so
/// scripts that check the sops version keep working.
const SOPS_VERSION: &str = "3.11.0";

/// Key sources compiled into this build, listed by `--version`.
const KEY_SOURCES: &[&str] = &[
    "age",
    #[cfg(feature = "pgp")]
    "pgp",
    #[cfg(feature = "aws")]
    "kms",
    #[cfg(feature = "vault")]
    "hc_vault",
    #[cfg(feature = "gcp")]
    "gcp_kms",
    #[cfg(feature = "azure")]
    "azure_kv",
    #[cfg(feature = "keyservice")]
    "keyservice",
];

/// One log line on stderr in logrus's text format (cli.md §1.5), the form
/// tools that merge stderr into stdout already expect from sops.
fn log(level: &str, msg: &str) {
    log_as("CMD", level, msg);
}

/// [`log`] for another of sops's loggers (`EXEC`, …).
fn log_as(logger: &str, level: &str, msg: &str) {
    log_fields(logger, level, msg, &[]);
}

/// [`log_as`] with logrus fields (` key=value` after the message; values
/// quoted as logrus quotes them).
fn log_fields(logger: &str, level: &str, msg: &str, fields: &[(&str, &str)]) {
    let now = rsops::metadata::time::format_rfc3339(&rsops::metadata::time::now_utc());
    let line = rsops::gotext::logrus_line(logger, level, msg, fields, std::io::stderr().is_terminal(), &now);
    let _ = std::io::stderr().write_all(line.as_bytes());
}

fn print_error(err: &Error) {
    match err {
        Error::Fatal(m) => return log("fatal", m),
        Error::ExecFatal(m) => return log_as("EXEC", "fatal", m),
        _ => {}
    }
    let mut text = err.to_string();
    text.push('\n');
    if let Some(hint) = err.hint() {
        // Only where stderr is a person: scripts that compare sops's exact
        // text see it unchanged.
        if std::io::stderr().is_terminal() {
            let _ = writeln!(text, "hint: {hint}");
        }
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}

fn version_text(check_disabled: bool) -> String {
    if check_disabled {
        // Exactly what sops prints with --disable-version-check.
        format!("sops {SOPS_VERSION}\n")
    } else {
        format!(
            "sops {SOPS_VERSION} (rsops {})\nkey sources: {}\nrsops never checks for updates over the network.\n",
            env!("CARGO_PKG_VERSION"),
            KEY_SOURCES.join(", ")
        )
    }
}

fn run(parsed: &cli::Cli) -> Result<(), Error> {
    if let Some(cli::Command::Keyservice(a)) = &parsed.command {
        return run_keyservice(a, parsed.global.verbose);
    }
    let mut ctx = Context::from_process();
    let resolved = resolve::resolve(parsed, &ctx)?;
    for w in &resolved.warnings {
        log("warning", w);
    }
    let flags = resolve::key_service_args(parsed);
    let (services, skipped) = KeyServices::from_flags(flags.enable_local_keyservice, &flags.keyservice)?;
    // `publish` builds the list again for every file and warns there.
    if !matches!(resolved.request, Request::Publish(_)) {
        for uri in &skipped {
            log_fields("CMD", "warning", "Error parsing URI for keyservice, skipping", &[("uri", uri)]);
        }
    }
    ctx.set_key_services(services);
    let (outcome, output) = match &resolved.request {
        Request::Encrypt(req, out) => (ops::encrypt::run(req, &ctx)?, out),
        Request::Decrypt(req, out) => (ops::decrypt::run(req, &ctx)?, out),
        Request::Edit(req, out) => (ops::edit::run(req, &ctx)?, out),
        Request::ExecEnv(req) => return run_exec(ops::exec::prepare_env(req, &ctx)?),
        Request::ExecFile(req) => return run_exec(ops::exec::prepare_file(req, &ctx)?),
        Request::Filestatus(req) => (ops::filestatus::run(req, &ctx)?, &Output::Stdout),
        Request::Rotate(req, out) => (ops::rotate::run(req, &ctx)?, out),
        Request::Groups(req, out) => (ops::groups::run(req, &ctx)?, out),
        Request::Set(req, out) => match ops::set_unset::run_set(req, &ctx)? {
            Some(outcome) => (outcome, out),
            None => return Ok(()),
        },
        Request::Unset(req, out) => match ops::set_unset::run_unset(req, &ctx)? {
            Some(outcome) => (outcome, out),
            None => return Ok(()),
        },
        Request::Updatekeys(req) => {
            return ops::updatekeys::run(req, &ctx, &mut cli::resolve_mutate::Console);
        }
        Request::Publish(req) => return ops::publish::run(req, &ctx, &mut cli::resolve_publish::Console),
    };
    for w in &outcome.warnings {
        log("warning", w);
    }
    write_output(output, &outcome.bytes)
}

/// `keyservice` (cli.md §4.13): serves until SIGINT/SIGTERM. A listen
/// failure is logged as sops logs it, then fatal (exit 1).
fn run_keyservice(a: &cli::KeyserviceArgs, global_verbose: bool) -> Result<(), Error> {
    let opts = rsops::keyservice::ServeOptions {
        network: a.network.clone(),
        address: a.address.clone(),
        prompt: a.prompt,
        verbose: a.verbose || global_verbose,
    };
    let ctx = Context::from_process();
    rsops::keyservice::serve(&opts, ctx.env.clone(), ctx.cwd.clone(), std::sync::Arc::new(StderrLog)).map_err(|e| {
        log("error", &format!("Error running keyservice: {e}"));
        Error::Fatal(e)
    })
}

/// The key service's log lines, in sops's format on stderr.
struct StderrLog;

impl rsops::keyservice::Log for StderrLog {
    fn log(&self, logger: &str, level: &str, msg: &str, fields: &[(&str, &str)]) {
        log_fields(logger, level, msg, fields);
    }
}

/// `exec-env`/`exec-file`: the warnings sops logs before the command
/// starts, then the command; its failure status comes back as the error.
fn run_exec(job: ops::exec::Prepared) -> Result<(), Error> {
    for w in &job.warnings {
        log("warning", w);
    }
    job.run()
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = match cli::parse(args) {
        Ok(p) => p,
        Err(e) => {
            let out = e.stdout(SOPS_VERSION);
            let _ = std::io::stdout().write_all(out.as_bytes());
            if e.is_exit_error() {
                let _ = writeln!(std::io::stderr(), "{}", e.message());
            } else {
                log("fatal", e.message());
            }
            return ExitCode::from(e.exit_code());
        }
    };
    let text = match parsed {
        Parsed::Help(h) => h.render(SOPS_VERSION),
        Parsed::Version(g) => version_text(g.disable_version_check && !g.check_for_updates),
        Parsed::Complete(lines) => lines.iter().flat_map(|l| [l.as_str(), "\n"]).collect(),
        Parsed::Run(c) if matches!(c.command, Some(cli::Command::Completion(_))) => match &c.command {
            Some(cli::Command::Completion(a)) => cli::completion_script(&a.shell).to_owned(),
            _ => unreachable!("matched above"),
        },
        Parsed::Run(c) => {
            return match run(&c) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    print_error(&e);
                    ExitCode::from(e.exit_code())
                }
            }
        }
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::SUCCESS
}
