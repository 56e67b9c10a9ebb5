//! Requests of the commands that change an encrypted file in place of its
//! keys or values: `rotate`, `set`, `unset`, `updatekeys`, `groups add|delete`,
//! and the legacy `-r` and `--set` forms (cli.md §4.1, §4.4, §4.6–4.8, §4.12).
//!
//! The order of the checks is sops's, so that the same bad command line gives
//! the same error. The value of `set` is read here (argument, `--value-file`
//! or `--value-stdin`), as sops reads it before touching the file. The
//! console `updatekeys` prints to and reads from lives here too.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use rsops::config::{self, io_text};
use rsops::context::Context;
use rsops::error::Error;
use rsops::io::Output;
use rsops::keys::{recover, KeyRef};
use rsops::ops::groups::{self, GroupsAction, GroupsRequest};
use rsops::ops::rotate::RotateRequest;
use rsops::ops::set_unset::{self, SetRequest, UnsetRequest};
use rsops::ops::updatekeys::{UpdatekeysRequest, UpdatekeysUi};
use rsops::stores::Format;
use rsops::tree::path::{self, Component};

use super::resolve::{
    absolute, encryption_context, flag_keys, formats, load_config, output_options, positional_warnings, Request,
    Resolved,
};
use super::{
    Cli, FileTypeArgs, GroupsAddArgs, GroupsArgs, GroupsCommand, GroupsDeleteArgs, KeySelectionArgs, RotateArgs,
    RotateKeyArgs, SetArgs, UnsetArgs, UpdatekeysArgs,
};

// ---------------------------------------------------------------------------
// rotate

/// What `rotate` and legacy `-r` read from their flags.
struct RotateInputs<'a> {
    file: &'a Path,
    in_place: bool,
    output: &'a str,
    types: &'a FileTypeArgs,
    filename_override: &'a str,
    encryption_context: &'a str,
    keys: &'a RotateKeyArgs,
    /// Only the legacy form has `--aws-profile` for added KMS keys.
    aws_profile: &'a str,
    ignore_mac: bool,
    decryption_order: &'a str,
    indent: Option<i64>,
    /// Legacy `-r` needs a matching creation rule (cli.md §4.1 step 6).
    legacy: bool,
}

fn any_key_change(k: &RotateKeyArgs) -> bool {
    [
        &k.add_kms,
        &k.add_pgp,
        &k.add_gcp_kms,
        &k.add_hckms,
        &k.add_hc_vault_transit,
        &k.add_azure_kv,
        &k.add_age,
        &k.rm_kms,
        &k.rm_pgp,
        &k.rm_gcp_kms,
        &k.rm_hckms,
        &k.rm_hc_vault_transit,
        &k.rm_azure_kv,
        &k.rm_age,
    ]
    .iter()
    .any(|v| !v.is_empty())
}

/// `--add-*` or `--rm-*` on a missing file (exit 49, cli.md §4.4 step 2).
pub(crate) fn check_key_change_target(keys: &RotateKeyArgs, file: &Path, legacy: bool) -> Result<(), Error> {
    if !file.exists() && any_key_change(keys) {
        return Err(Error::CannotChangeKeys { path: file.display().to_string(), legacy });
    }
    Ok(())
}

/// The keys one side of `--add-*`/`--rm-*` names, parsed as `--age`,
/// `--pgp`, ... are for new files (cli.md §4.4 step 3).
#[allow(clippy::too_many_arguments)]
fn rotate_keys(
    kms: &str,
    pgp: &str,
    gcp_kms: &str,
    hckms: &str,
    azure_kv: &str,
    vault: &str,
    age: &str,
    aws_profile: &str,
    context: &[(String, String)],
) -> Result<Vec<KeyRef>, Error> {
    let selection = KeySelectionArgs {
        kms: kms.to_owned(),
        aws_profile: aws_profile.to_owned(),
        gcp_kms: gcp_kms.to_owned(),
        hckms: hckms.to_owned(),
        azure_kv: azure_kv.to_owned(),
        hc_vault_transit: vault.to_owned(),
        pgp: pgp.to_owned(),
        age: age.to_owned(),
    };
    Ok(flag_keys(&selection, context)?.unwrap_or_default())
}

fn resolve_rotate(ctx: &Context, cli: &Cli, a: &RotateInputs<'_>) -> Result<Resolved, Error> {
    let mut warnings = Vec::new();
    let file = absolute(&ctx.cwd, a.file);
    if !a.legacy {
        check_key_change_target(a.keys, &file, false)?;
    }
    let type_path =
        if a.filename_override.is_empty() { file.clone() } else { absolute(&ctx.cwd, Path::new(a.filename_override)) };
    let cfg = load_config(ctx, cli, &mut warnings)?;
    // rotate takes no `--encryption-context` error: a bad one is dropped
    // with sops's warning (kms.ParseKMSContext).
    let context = encryption_context(a.encryption_context, &mut warnings).unwrap_or_default();
    if a.legacy {
        if let Some(c) = &cfg {
            super::resolve::validate_rule(ctx, c.creation_rule(&type_path, &context)?)?;
        }
    }
    let (input_format, output_format) = formats(a.types, &type_path.to_string_lossy());
    let decryption_order = recover::parse_order(a.decryption_order)?;
    let k = a.keys;
    let add = rotate_keys(
        &k.add_kms,
        &k.add_pgp,
        &k.add_gcp_kms,
        &k.add_hckms,
        &k.add_azure_kv,
        &k.add_hc_vault_transit,
        &k.add_age,
        a.aws_profile,
        &context,
    )?;
    let remove = rotate_keys(
        &k.rm_kms,
        &k.rm_pgp,
        &k.rm_gcp_kms,
        &k.rm_hckms,
        &k.rm_azure_kv,
        &k.rm_hc_vault_transit,
        &k.rm_age,
        a.aws_profile,
        &context,
    )?;
    let output = if a.in_place {
        Output::InPlace(file.clone())
    } else if a.output.is_empty() {
        Output::Stdout
    } else {
        Output::File(absolute(&ctx.cwd, Path::new(a.output)))
    };
    let req = RotateRequest {
        path: file,
        input_format,
        output_format,
        output_options: output_options(output_format, cfg.as_ref(), a.indent),
        add,
        remove,
        ignore_mac: a.ignore_mac,
        decryption_order,
    };
    Ok(Resolved { request: Request::Rotate(req, output), warnings })
}

/// `rotate file` (cli.md §4.4).
pub(crate) fn rotate(ctx: &Context, cli: &Cli, r: &RotateArgs) -> Result<Resolved, Error> {
    let Some(file) = &r.file else { return Err(Error::NoFileSpecified) };
    let mut early = Vec::new();
    positional_warnings(&r.extra, &mut early);
    if r.in_place && !r.output.is_empty() {
        return Err(Error::OutputAndInPlace);
    }
    let inputs = RotateInputs {
        file,
        in_place: r.in_place,
        output: &r.output,
        types: &r.types,
        filename_override: &r.filename_override,
        encryption_context: &r.encryption_context,
        keys: &r.rotate_keys,
        aws_profile: "",
        // The subcommand has no --ignore-mac (cli.md §4.4).
        ignore_mac: false,
        decryption_order: &r.order.decryption_order,
        indent: None,
        legacy: false,
    };
    let mut resolved = resolve_rotate(ctx, cli, &inputs)?;
    early.append(&mut resolved.warnings);
    resolved.warnings = early;
    Ok(resolved)
}

/// Legacy `-r FILE` with the global flags; the caller has made the
/// missing-file checks (cli.md §4.1 steps 2–3).
pub(crate) fn legacy_rotate(ctx: &Context, cli: &Cli, file: &Path) -> Result<Resolved, Error> {
    let g = &cli.global;
    let inputs = RotateInputs {
        file,
        in_place: g.in_place,
        output: &g.output,
        types: &g.types,
        filename_override: &g.filename_override,
        encryption_context: &g.encryption_context,
        keys: &g.rotate_keys,
        aws_profile: &g.keys.aws_profile,
        ignore_mac: g.ignore_mac,
        decryption_order: &g.order.decryption_order,
        indent: g.indent,
        legacy: true,
    };
    let mut resolved = resolve_rotate(ctx, cli, &inputs)?;
    let mut early = Vec::new();
    positional_warnings(&cli.extra, &mut early);
    early.append(&mut resolved.warnings);
    resolved.warnings = early;
    Ok(resolved)
}

// ---------------------------------------------------------------------------
// set and unset

fn tree_path(text: &str, error: &'static str) -> Result<Vec<Component>, Error> {
    // sops panics on an empty path (cli.md §3.6); here it is a bad index.
    path::parse(text).ok().filter(|p| !p.is_empty()).ok_or(Error::InvalidSet(error))
}

/// `set file index [value]` (cli.md §4.6).
pub(crate) fn set(ctx: &Context, cli: &Cli, s: &SetArgs) -> Result<Resolved, Error> {
    if s.value_file && s.value_stdin {
        return Err(Error::Generic("Error: cannot use both --value-file and --value-stdin".to_owned()));
    }
    let count = s.positional_count();
    if s.value_stdin && count != 2 {
        return Err(Error::MissingArguments(
            "Error: file specified, or index and value are missing. Need precisely 2 positional arguments since --value-stdin is used.",
        ));
    }
    if !s.value_stdin && count != 3 {
        return Err(Error::MissingArguments(
            "Error: no file specified, or index and value are missing. Need precisely 3 positional arguments.",
        ));
    }
    let (Some(file), Some(index)) = (&s.file, &s.index) else {
        return Err(Error::NoFileSpecified);
    };
    let mut warnings = Vec::new();
    let file = absolute(&ctx.cwd, file);
    let cfg = load_config(ctx, cli, &mut warnings)?;
    let (input_format, output_format) = formats(&s.types, &file.to_string_lossy());
    let tree_path = tree_path(index, "Invalid set index format")?;
    let text: Vec<u8> = if s.value_stdin {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| Error::Generic(format!("read /dev/stdin: {}", io_text(&e))))?;
        buf
    } else {
        let arg = s.value.as_ref().map_or("", |v| v.expose());
        if s.value_file {
            std::fs::read(ctx.cwd.join(arg)).map_err(|e| Error::Generic(format!("open {arg}: {}", io_text(&e))))?
        } else {
            arg.as_bytes().to_vec()
        }
    };
    let value = set_unset::value_from_json(&text)?;
    drop(text);
    let decryption_order = recover::parse_order(&s.order.decryption_order)?;
    let req = SetRequest {
        path: file.clone(),
        input_format,
        output_format,
        output_options: output_options(output_format, cfg.as_ref(), None),
        tree_path,
        value,
        ignore_mac: s.ignore_mac,
        decryption_order,
        idempotent: s.idempotent,
    };
    Ok(Resolved { request: Request::Set(req, Output::InPlace(file)), warnings })
}

/// Legacy `--set '<path> <json>' FILE`: needs a matching creation rule,
/// always writes in place, never idempotent (cli.md §4.1 steps 6, 8, 9).
pub(crate) fn legacy_set(ctx: &Context, cli: &Cli, file: &Path) -> Result<Resolved, Error> {
    let g = &cli.global;
    let mut warnings = Vec::new();
    positional_warnings(&cli.extra, &mut warnings);
    let file = absolute(&ctx.cwd, file);
    let type_path =
        if g.filename_override.is_empty() { file.clone() } else { absolute(&ctx.cwd, Path::new(&g.filename_override)) };
    let cfg = load_config(ctx, cli, &mut warnings)?;
    let context = encryption_context(&g.encryption_context, &mut warnings).unwrap_or_default();
    if let Some(c) = &cfg {
        super::resolve::validate_rule(ctx, c.creation_rule(&type_path, &context)?)?;
    }
    let (input_format, output_format) = formats(&g.types, &type_path.to_string_lossy());
    let decryption_order = recover::parse_order(&g.order.decryption_order)?;
    let (path_text, json) = set_unset::split_legacy_set(g.set.expose())?;
    let value = set_unset::value_from_json(json.as_bytes())?;
    let tree_path = tree_path(path_text, "Invalid --set format")?;
    let req = SetRequest {
        path: file.clone(),
        input_format,
        output_format,
        output_options: output_options(output_format, cfg.as_ref(), g.indent),
        tree_path,
        value,
        ignore_mac: g.ignore_mac,
        decryption_order,
        idempotent: false,
    };
    Ok(Resolved { request: Request::Set(req, Output::InPlace(file)), warnings })
}

/// `unset file index` (cli.md §4.7).
pub(crate) fn unset(ctx: &Context, cli: &Cli, u: &UnsetArgs) -> Result<Resolved, Error> {
    if u.positional_count() != 2 {
        return Err(Error::MissingArguments("Error: no file specified, or index is missing"));
    }
    let (Some(file), Some(index)) = (&u.file, &u.index) else {
        return Err(Error::NoFileSpecified);
    };
    let mut warnings = Vec::new();
    let file = absolute(&ctx.cwd, file);
    let cfg = load_config(ctx, cli, &mut warnings)?;
    let (input_format, output_format) = formats(&u.types, &file.to_string_lossy());
    let tree_path = tree_path(index, "Invalid unset index format")?;
    let decryption_order = recover::parse_order(&u.order.decryption_order)?;
    let req = UnsetRequest {
        path: file.clone(),
        input_format,
        output_format,
        output_options: output_options(output_format, cfg.as_ref(), None),
        tree_path,
        ignore_mac: u.ignore_mac,
        decryption_order,
        idempotent: u.idempotent,
    };
    Ok(Resolved { request: Request::Unset(req, Output::InPlace(file)), warnings })
}

// ---------------------------------------------------------------------------
// updatekeys

/// Colours as fatih/color decides: stdout a terminal, `TERM` not `dumb`,
/// `NO_COLOR` unset or empty (cli.md §1.5).
fn stdout_colors(ctx: &Context) -> bool {
    std::io::stdout().is_terminal() && ctx.env.get("TERM") != Some("dumb") && ctx.env.non_empty("NO_COLOR").is_none()
}

/// `updatekeys file [file…]` (cli.md §4.8): the config must exist before
/// the file count is even checked.
#[allow(clippy::unnecessary_wraps)] // one signature for every command's resolver
pub(crate) fn updatekeys(ctx: &Context, cli: &Cli, u: &UpdatekeysArgs) -> Result<Resolved, Error> {
    let mut warnings = Vec::new();
    let explicit = (!cli.global.config.is_empty()).then_some(cli.global.config.as_str());
    let (found, warning) = config::find(&ctx.cwd, explicit, &ctx.env);
    warnings.extend(warning);
    // sops names the config as it found it: the flag's text, or the
    // relative search path (`.sops.yaml`, `../.sops.yaml`).
    let config_shown = match (&found, explicit.or_else(|| ctx.env.non_empty("SOPS_CONFIG"))) {
        (_, Some(e)) => e.to_owned(),
        (Some(p), None) => p.strip_prefix(&ctx.cwd).unwrap_or(p).display().to_string(),
        (None, None) => String::new(),
    };
    let req = UpdatekeysRequest {
        files: u.files.clone(),
        config_path: found,
        config_shown,
        input_type: Format::from_type_name(&u.input_type),
        yes: u.yes,
        color: stdout_colors(ctx),
    };
    Ok(Resolved { request: Request::Updatekeys(req), warnings })
}

/// The terminal side of `updatekeys`.
pub(crate) struct Console;

impl UpdatekeysUi for Console {
    fn print(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    fn log(&mut self, msg: &str) {
        let line = format!("{} {msg}\n", go_log_time());
        let _ = std::io::stderr().write_all(line.as_bytes());
    }

    fn log_error(&mut self, err: &Error) {
        crate::log("error", &err.to_string());
    }

    fn read_line(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        let n = std::io::stdin().lock().read_until(b'\n', &mut buf)?;
        Ok((n > 0).then_some(buf))
    }
}

/// `YYYY/MM/DD HH:MM:SS` in local time, the prefix of Go's standard logger.
fn go_log_time() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let t = rsops::metadata::time::from_unix(now + local_offset(now));
    format!("{:04}/{:02}/{:02} {:02}:{:02}:{:02}", t.year, t.month, t.day, t.hour, t.minute, t.second)
}

/// The local UTC offset in seconds at `now`, found as Go finds it: `TZ`
/// (empty means UTC), else `/etc/localtime`. Reads the `TZif` transitions;
/// after the last one, a fixed-offset footer rule is honoured and a DST
/// rule falls back to the last transition's offset. Anything unreadable is UTC.
fn local_offset(now: i64) -> i64 {
    let file = match std::env::var("TZ") {
        Ok(tz) if tz.is_empty() || tz == "UTC" => return 0,
        Ok(tz) => {
            let name = tz.trim_start_matches(':');
            if name.starts_with('/') {
                PathBuf::from(name)
            } else {
                Path::new("/usr/share/zoneinfo").join(name)
            }
        }
        Err(_) => PathBuf::from("/etc/localtime"),
    };
    std::fs::read(file).ok().and_then(|b| tzif_offset(&b, now)).unwrap_or(0)
}

fn tzif_offset(b: &[u8], now: i64) -> Option<i64> {
    let be32 = |at: usize| -> Option<usize> {
        b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    // Header: magic, version, 15 unused bytes, then six counts.
    let counts = |at: usize| -> Option<[usize; 6]> {
        if b.get(at..at + 4)? != b"TZif" {
            return None;
        }
        Some([be32(at + 20)?, be32(at + 24)?, be32(at + 28)?, be32(at + 32)?, be32(at + 36)?, be32(at + 40)?])
    };
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(0)?;
    let (header, width) = if *b.get(4)? >= b'2' {
        // Version 2+: skip the 32-bit block, read the 64-bit one after it.
        (44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut, 8)
    } else {
        (0, 4)
    };
    let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(header)?;
    let at = header + 44;
    let time = |i: usize| -> Option<i64> {
        let s = b.get(at + i * width..at + (i + 1) * width)?;
        Some(if width == 8 {
            i64::from_be_bytes(s.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(s.try_into().ok()?))
        })
    };
    let idx_at = at + timecnt * width;
    let types_at = idx_at + timecnt;
    let mut current = 0;
    let mut past_last = true;
    for i in 0..timecnt {
        if time(i)? <= now {
            current = usize::from(*b.get(idx_at + i)?);
        } else {
            past_last = false;
        }
    }
    if width == 8 && past_last {
        // After the last transition the footer rule applies; use it when it
        // is a plain offset such as `UTC0` or `JST-9`.
        let footer_at = types_at + typecnt * 6 + charcnt + leap * (width + 4) + isstd + isut;
        if let Some(off) = b.get(footer_at..).and_then(posix_fixed_offset) {
            return Some(off);
        }
    }
    let s = b.get(types_at + current * 6..types_at + current * 6 + 4)?;
    Some(i64::from(i32::from_be_bytes(s.try_into().ok()?)))
}

/// The offset of a `TZif` footer `\n<TZ string>\n` without a DST part.
fn posix_fixed_offset(footer: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(footer).ok()?;
    let rule = text.strip_prefix('\n')?.split('\n').next()?;
    let rest = if let Some(r) = rule.strip_prefix('<') {
        r.split_once('>')?.1
    } else {
        rule.trim_start_matches(|c: char| c.is_ascii_alphabetic())
    };
    let (sign, digits) = match rest.as_bytes().first()? {
        b'-' => (1, &rest[1..]),
        b'+' => (-1, &rest[1..]),
        _ => (-1, rest),
    };
    if digits.contains(|c: char| c.is_ascii_alphabetic() || c == ',') {
        return None;
    }
    let mut parts = digits.split(':').map(|p| p.parse::<i64>().ok());
    let h = parts.next()??;
    let m = parts.next().unwrap_or(Some(0))?;
    let s = parts.next().unwrap_or(Some(0))?;
    // POSIX offsets are west of UTC: `JST-9` is +9 hours.
    Some(sign * (h * 3600 + m * 60 + s))
}

// ---------------------------------------------------------------------------
// groups

/// `groups add|delete` (cli.md §4.12).
pub(crate) fn groups(ctx: &Context, cli: &Cli, g: &GroupsArgs) -> Result<Resolved, Error> {
    match &g.command {
        GroupsCommand::Add(a) => groups_add(ctx, cli, a),
        GroupsCommand::Delete(d) => groups_delete(ctx, cli, d),
    }
}

fn groups_request(
    ctx: &Context,
    cli: &Cli,
    file: &str,
    in_place: bool,
    threshold: i64,
    action: GroupsAction,
    mut warnings: Vec<String>,
) -> Result<Resolved, Error> {
    let cfg = load_config(ctx, cli, &mut warnings)?;
    // The store comes from the file name alone; there are no type flags.
    let format = Format::from_path(file);
    let threshold = usize::try_from(threshold)
        .map_err(|_| Error::Fatal(format!("invalid Shamir threshold {threshold}: it must be a positive number")))?;
    let path = PathBuf::from(file);
    let output = if in_place { Output::InPlace(path.clone()) } else { Output::Stdout };
    let req = GroupsRequest { path, format, options: output_options(format, cfg.as_ref(), None), action, threshold };
    Ok(Resolved { request: Request::Groups(req, output), warnings })
}

fn groups_add(ctx: &Context, cli: &Cli, a: &GroupsAddArgs) -> Result<Resolved, Error> {
    if !a.args.is_empty() {
        return Err(Error::Generic("error: no positional arguments allowed".to_owned()));
    }
    // Each flag occurrence is one key; `--hckms` is declared but ignored by
    // sops (cli.md §4.12). Keys that do not parse are logged and skipped.
    let skipped = |e: &Error| log_failed_key(&e.to_string());
    // An invalid context is dropped silently here (no exit 6).
    let context = encryption_context(&a.encryption_context, &mut Vec::new()).unwrap_or_default();
    let mut keys = Vec::new();
    for fp in &a.pgp {
        keys.push(KeyRef::Pgp { fingerprint: fp.replace(' ', "") });
    }
    for arn in &a.kms {
        keys.push(config::kms_key(arn, &context, &a.aws_profile));
    }
    for id in &a.gcp_kms {
        keys.push(KeyRef::GcpKms { resource_id: id.replace(' ', "") });
    }
    for uri in &a.hc_vault_transit {
        match config::vault_key(uri) {
            Ok(k) => keys.push(k),
            Err(e) => skipped(&e),
        }
    }
    for url in &a.azure_kv {
        // A version lookup that fails is skipped the same way (sops's
        // `azkv.NewMasterKeyFromURL` looks it up while parsing).
        let resolved = config::azure_key(url).and_then(|mut k| {
            ctx.azure_kv().resolve_versions(std::iter::once(&mut k)).map_err(Error::Generic)?;
            Ok(k)
        });
        match resolved {
            Ok(k) => keys.push(k),
            Err(e) => skipped(&e),
        }
    }
    for recipients in &a.age {
        match rsops::keys::age::parse_recipients(recipients) {
            Ok(list) => keys.extend(list.into_iter().map(|recipient| KeyRef::Age { recipient })),
            Err(e) => skipped(&Error::Generic(e.to_string())),
        }
    }
    groups_request(
        ctx,
        cli,
        &a.file,
        a.in_place,
        a.shamir_secret_sharing_threshold,
        GroupsAction::Add(keys),
        Vec::new(),
    )
}

/// sops's `log.WithError(err).Error("Failed to add key")`: a logrus line
/// with an `error` field, written when the key is parsed, as sops does.
fn log_failed_key(err: &str) {
    if std::io::stderr().is_terminal() {
        crate::log_as("CMD", "error", &format!("Failed to add key error={err:?}"));
    } else {
        let now = rsops::metadata::time::format_rfc3339(&rsops::metadata::time::now_utc());
        let line = format!("[CMD]\t time=\"{now}\" level=error msg=\"Failed to add key\" error={err:?}\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}

fn groups_delete(ctx: &Context, cli: &Cli, d: &GroupsDeleteArgs) -> Result<Resolved, Error> {
    if d.args.len() != 1 {
        return Err(Error::Generic("error: exactly one positional argument (index) required".to_owned()));
    }
    let index = groups::parse_index(&d.args[0].to_string_lossy())?;
    groups_request(
        ctx,
        cli,
        &d.file,
        d.in_place,
        d.shamir_secret_sharing_threshold,
        GroupsAction::Delete(index),
        Vec::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_footers_with_fixed_offsets() {
        assert_eq!(posix_fixed_offset(b"\nUTC0\n"), Some(0));
        assert_eq!(posix_fixed_offset(b"\nJST-9\n"), Some(9 * 3600));
        assert_eq!(posix_fixed_offset(b"\n<-03>3\n"), Some(-3 * 3600));
        assert_eq!(posix_fixed_offset(b"\nIST-5:30\n"), Some(5 * 3600 + 1800));
        assert_eq!(posix_fixed_offset(b"\nCET-1CEST,M3.5.0,M10.5.0/3\n"), None);
    }

    #[test]
    fn zoneinfo_files_give_their_offset() {
        // Whatever the machine has: UTC must read as 0 when present.
        if let Ok(b) = std::fs::read("/usr/share/zoneinfo/Etc/UTC") {
            assert_eq!(tzif_offset(&b, 1_800_000_000), Some(0));
        }
        if let Ok(b) = std::fs::read("/usr/share/zoneinfo/Asia/Tokyo") {
            assert_eq!(tzif_offset(&b, 1_800_000_000), Some(9 * 3600));
        }
        assert_eq!(tzif_offset(b"nope", 0), None);
    }
}
