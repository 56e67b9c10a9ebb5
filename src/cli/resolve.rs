//! Parsed arguments + environment + `.sops.yaml` → one typed request.
//!
//! Every flag-conflict check and every "where does this setting come from"
//! decision lives here (cli.md §3, §4, §5), so `ops` receives plain data and
//! never sees the command line.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rsops::config::{self, Config, CreationRule};
use rsops::context::Context;
use rsops::crypt::rules::CryptRule;
use rsops::error::Error;
use rsops::io::{Input, Output};
use rsops::keys::{recover, KeyRef};
use rsops::ops::decrypt::DecryptRequest;
use rsops::ops::encrypt::EncryptRequest;
use rsops::stores::{Format, StoreOptions};
use rsops::tree::path;

use super::{Cli, Command, DecryptArgs, EncryptArgs, EncryptionSelectionArgs, FileTypeArgs, KeySelectionArgs};

/// What to run.
pub(crate) enum Request {
    Encrypt(EncryptRequest, Output),
    Decrypt(DecryptRequest, Output),
    Edit(rsops::ops::edit::EditRequest, Output),
    ExecEnv(rsops::ops::exec::ExecEnvRequest),
    ExecFile(rsops::ops::exec::ExecFileRequest),
    Filestatus(rsops::ops::filestatus::FilestatusRequest),
    Rotate(rsops::ops::rotate::RotateRequest, Output),
    Set(rsops::ops::set_unset::SetRequest, Output),
    Unset(rsops::ops::set_unset::UnsetRequest, Output),
    Updatekeys(rsops::ops::updatekeys::UpdatekeysRequest),
    Groups(rsops::ops::groups::GroupsRequest, Output),
    Publish(rsops::ops::publish::PublishRequest),
}

/// A resolved request and the warnings sops would log on the way.
pub(crate) struct Resolved {
    pub(crate) request: Request,
    pub(crate) warnings: Vec<String>,
}

/// Settings that only the legacy form reads from global flags (sops 3.11
/// ignores them before a subcommand, interop README).
#[derive(Default)]
pub(crate) struct LegacyOnly {
    pub(crate) indent: Option<i64>,
    pub(crate) mac_only_encrypted: bool,
    pub(crate) unencrypted_comment_regex: String,
    pub(crate) encrypted_comment_regex: String,
}

pub(crate) fn positional_warnings(extra: &[OsString], warnings: &mut Vec<String>) {
    if extra.is_empty() {
        return;
    }
    warnings.push("More than one positional argument provided. Only the first one will be used!".to_owned());
    if let Some(flag) = extra.iter().rev().find(|a| a.to_string_lossy().starts_with('-')) {
        warnings.push(format!(
            "Note that one of the ignored positional argument is {:?}, which looks like a flag. Flags must always be provided before the first positional argument!",
            flag.to_string_lossy()
        ));
    }
}

/// Where `encrypt`/`decrypt` write: back to the input file with `-i`, to
/// `--output`, else stdout (cli.md §3.4). `-i` with stdin is refused earlier.
fn destination(ctx: &Context, input: &Input, in_place: bool, output: &str) -> Output {
    match input {
        Input::File(p) if in_place => Output::InPlace(p.clone()),
        _ if output.is_empty() => Output::Stdout,
        _ => Output::File(absolute(&ctx.cwd, Path::new(output))),
    }
}

/// sops makes paths absolute lexically (`filepath.Abs`), without resolving links.
pub(crate) fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    config::clean(&cwd.join(p))
}

pub(crate) fn formats(types: &FileTypeArgs, path_for_type: &str) -> (Format, Format) {
    let by_path = Format::from_path(path_for_type);
    let input = Format::from_type_name(&types.input_type).unwrap_or(by_path);
    let output = Format::from_type_name(&types.output_type).unwrap_or(by_path);
    (input, output)
}

pub(crate) fn output_options(format: Format, cfg: Option<&Config>, cli_indent: Option<i64>) -> StoreOptions {
    let stores = cfg.map(|c| c.stores).unwrap_or_default();
    let from_config = match format {
        Format::Yaml => stores.yaml_indent,
        Format::Json => stores.json_indent,
        Format::Binary => stores.json_binary_indent,
        Format::Dotenv | Format::Ini => None,
    };
    StoreOptions { indent: cli_indent.or(from_config) }
}

pub(crate) fn load_config(ctx: &Context, cli: &Cli, warnings: &mut Vec<String>) -> Result<Option<Config>, Error> {
    let explicit = (!cli.global.config.is_empty()).then_some(cli.global.config.as_str());
    let (path, warning) = config::find(&ctx.cwd, explicit, &ctx.env);
    warnings.extend(warning);
    path.map(|p| config::load(&p)).transpose()
}

/// Parses `--encryption-context k1:v1,k2:v2` (exit 6 on a malformed pair).
pub(crate) fn encryption_context(s: &str, warnings: &mut Vec<String>) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    if s.is_empty() {
        return Ok(out);
    }
    for pair in s.split(',') {
        let parts: Vec<&str> = pair.split(':').collect();
        if parts.len() != 2 {
            warnings.push("Encryption context contains a non-string value, context will not be used".to_owned());
            return Err(Error::InvalidEncryptionContext);
        }
        out.push((parts[0].to_owned(), parts[1].to_owned()));
    }
    Ok(out)
}

fn split_clean(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(',').map(|p| p.chars().filter(|c| !c.is_whitespace()).collect::<String>()).filter(|p| !p.is_empty())
}

/// Keys from `--kms`, `--pgp`, `--age`, ... (one group), or `None` when no
/// key flag or variable is set (cli.md §3.11).
pub(crate) fn flag_keys(k: &KeySelectionArgs, context: &[(String, String)]) -> Result<Option<Vec<KeyRef>>, Error> {
    let any = [&k.kms, &k.pgp, &k.gcp_kms, &k.hckms, &k.azure_kv, &k.hc_vault_transit, &k.age]
        .iter()
        .any(|v| !v.is_empty());
    if !any {
        return Ok(None);
    }
    let mut keys = Vec::new();
    for arn in split_clean(&k.kms) {
        keys.push(config::kms_key(&arn, context, &k.aws_profile));
    }
    for id in split_clean(&k.gcp_kms) {
        keys.push(KeyRef::GcpKms { resource_id: id });
    }
    for id in k.hckms.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        keys.push(KeyRef::Hckms { key_id: id.to_owned() });
    }
    for url in k.azure_kv.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        keys.push(config::azure_key(url)?);
    }
    for fp in split_clean(&k.pgp) {
        keys.push(KeyRef::Pgp { fingerprint: fp });
    }
    for uri in k.hc_vault_transit.split(',').filter(|s| !s.is_empty()) {
        keys.push(config::vault_key(uri)?);
    }
    if !k.age.is_empty() {
        let recipients =
            rsops::keys::age::parse_recipients(&k.age).map_err(|e| Error::Generic(e.to_string()))?;
        keys.extend(recipients.into_iter().map(|recipient| KeyRef::Age { recipient }));
    }
    Ok(Some(keys))
}

pub(crate) struct EncryptInputs<'a> {
    pub(crate) file: Option<&'a PathBuf>,
    pub(crate) extra: &'a [OsString],
    pub(crate) in_place: bool,
    pub(crate) output: &'a str,
    pub(crate) filename_override: &'a str,
    pub(crate) types: &'a FileTypeArgs,
    pub(crate) keys: &'a KeySelectionArgs,
    pub(crate) selection: &'a EncryptionSelectionArgs,
    pub(crate) encryption_context: &'a str,
    pub(crate) shamir_threshold: i64,
    pub(crate) legacy: LegacyOnly,
}

impl<'a> EncryptInputs<'a> {
    /// The inputs of the legacy form `sops [flags] FILE` (cli.md §4.1): all
    /// from the global flags, but `-i` and `--output`, which legacy edit
    /// does not take.
    pub(crate) fn legacy(cli: &'a Cli, file: &'a PathBuf, in_place: bool, output: &'a str) -> EncryptInputs<'a> {
        let g = &cli.global;
        EncryptInputs {
            file: Some(file),
            extra: &cli.extra,
            in_place,
            output,
            filename_override: &g.filename_override,
            types: &g.types,
            keys: &g.keys,
            selection: &g.selection,
            encryption_context: &g.encryption_context,
            shamir_threshold: g.shamir_secret_sharing_threshold,
            legacy: LegacyOnly {
                indent: g.indent,
                mac_only_encrypted: g.mac_only_encrypted,
                unencrypted_comment_regex: g.unencrypted_comment_regex.clone(),
                encrypted_comment_regex: g.encrypted_comment_regex.clone(),
            },
        }
    }
}

/// The input file of `encrypt` / `decrypt`, checked as sops does, in its
/// order: stdin refuses `-i` (and for `encrypt`, which passes
/// `stdin_override`, needs `--filename-override`); then the positional
/// warnings, `-i` with `--output`, and a missing file.
fn checked_input(
    ctx: &Context,
    file: Option<&PathBuf>,
    in_place: bool,
    output: &str,
    extra: &[OsString],
    stdin_override: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<Input, Error> {
    let input = match file {
        None => {
            if in_place {
                return Err(Error::InPlaceWithStdin);
            }
            if stdin_override.is_some_and(str::is_empty) {
                return Err(Error::StdinNeedsOverride);
            }
            Input::Stdin
        }
        Some(f) => Input::File(absolute(&ctx.cwd, f)),
    };
    positional_warnings(extra, warnings);
    if in_place && !output.is_empty() {
        return Err(Error::OutputAndInPlace);
    }
    if let Input::File(p) = &input {
        if !p.exists() {
            return Err(Error::FileNotFound { path: p.display().to_string() });
        }
    }
    Ok(input)
}

fn resolve_encrypt(ctx: &Context, cli: &Cli, a: &EncryptInputs<'_>) -> Result<Resolved, Error> {
    let mut warnings = Vec::new();
    let stdin_override = Some(a.filename_override);
    let input = checked_input(ctx, a.file, a.in_place, a.output, a.extra, stdin_override, &mut warnings)?;
    let rule_path = if a.filename_override.is_empty() {
        match &input {
            Input::File(p) => p.clone(),
            Input::Stdin => PathBuf::new(),
        }
    } else {
        absolute(&ctx.cwd, Path::new(a.filename_override))
    };
    let (input_format, output_format) = formats(a.types, &rule_path.to_string_lossy());
    let cfg = load_config(ctx, cli, &mut warnings)?;
    let settings = new_file_settings(ctx, cfg.as_ref(), &rule_path, input_format, a, &mut warnings)?;
    let output = destination(ctx, &input, a.in_place, a.output);
    let req = EncryptRequest {
        input,
        input_format,
        output_format,
        output_options: output_options(output_format, cfg.as_ref(), a.legacy.indent),
        key_groups: settings.key_groups,
        shamir_threshold: settings.shamir_threshold,
        rule: settings.rule,
        mac_only_encrypted: settings.mac_only_encrypted,
    };
    Ok(Resolved { request: Request::Encrypt(req, output), warnings })
}

/// Keys, Shamir threshold and value selection for a new file (cli.md
/// §3.11–3.13, §5.5): key flags replace the keys of the creation rule for
/// `rule_path`, which must still match. Shared by `encrypt`, the new-file
/// `edit` and the legacy form.
pub(crate) struct NewFileSettings {
    pub(crate) key_groups: Vec<Vec<KeyRef>>,
    pub(crate) shamir_threshold: usize,
    /// `None` for the binary store, which records no rule.
    pub(crate) rule: Option<CryptRule>,
    pub(crate) mac_only_encrypted: bool,
}

/// Reads only `a`'s key, selection, context, threshold and legacy fields.
pub(crate) fn new_file_settings(
    ctx: &Context,
    cfg: Option<&Config>,
    rule_path: &Path,
    input_format: Format,
    a: &EncryptInputs<'_>,
    warnings: &mut Vec<String>,
) -> Result<NewFileSettings, Error> {
    let context = encryption_context(a.encryption_context, warnings)?;
    let rule: Option<CreationRule> = match cfg {
        Some(c) => c.creation_rule(rule_path, &context)?,
        None => None,
    };
    let flags = flag_keys(a.keys, &context);
    if !matches!(flags, Ok(None)) {
        // Key flags replace the rule's keys, but sops has loaded the rule
        // first (getEncryptConfig → loadConfig), looking up its Azure key
        // versions; without flags they are looked up with the request's.
        validate_rule(ctx, rule.clone())?;
    }
    let key_groups = match flags? {
        Some(keys) => vec![keys],
        None => match &rule {
            Some(r) => r.key_groups.clone(),
            None => {
                return Err(Error::Config(
                    "config file not found, or has no creation rules, and no keys provided through command line options"
                        .to_owned(),
                ))
            }
        },
    };
    let rule = rule.unwrap_or_default();
    let cli_selection: [String; 6] = [
        a.selection.unencrypted_suffix.clone(),
        a.selection.encrypted_suffix.clone(),
        a.selection.unencrypted_regex.clone(),
        a.selection.encrypted_regex.clone(),
        a.legacy.unencrypted_comment_regex.clone(),
        a.legacy.encrypted_comment_regex.clone(),
    ];
    let (crypt_rule, mac_only) = if input_format == Format::Binary {
        binary_rule_warnings(&cli_selection, &rule.selection, warnings);
        (None, false)
    } else {
        let chosen = config::merge_selection(&cli_selection, &rule.selection)?;
        (Some(chosen.unwrap_or_else(CryptRule::default_rule)), a.legacy.mac_only_encrypted || rule.mac_only_encrypted)
    };
    let threshold = if a.shamir_threshold != 0 {
        usize::try_from(a.shamir_threshold).unwrap_or(0)
    } else {
        rule.shamir_threshold
    };
    Ok(NewFileSettings { key_groups, shamir_threshold: threshold, rule: crypt_rule, mac_only_encrypted: mac_only })
}

/// The binary store ignores every selection setting, with a warning each
/// (cli.md §3.12).
fn binary_rule_warnings(cli: &[String; 6], rule: &[String; 6], warnings: &mut Vec<String>) {
    let names = [
        "an unencrypted suffix",
        "an encrypted suffix",
        "an unencrypted regex",
        "an encrypted regex",
        "",
        "an encrypted comment regex",
    ];
    for i in 0..6 {
        if names[i].is_empty() || (cli[i].is_empty() && rule[i].is_empty()) {
            continue;
        }
        warnings.push(if i == 5 {
            "Using an encrypted comment regex does not make sense with the input store (the binary store never produces comments) and will be ignored.".to_owned()
        } else {
            format!("Using {} does not make sense with the input store (the binary store produces one key that should always be encrypted) and will be ignored.", names[i])
        });
    }
}

struct DecryptInputs<'a> {
    file: Option<&'a PathBuf>,
    extra: &'a [OsString],
    in_place: bool,
    output: &'a str,
    filename_override: &'a str,
    types: &'a FileTypeArgs,
    extract: &'a str,
    ignore_mac: bool,
    decryption_order: &'a str,
    indent: Option<i64>,
}

fn resolve_decrypt(ctx: &Context, cli: &Cli, a: &DecryptInputs<'_>) -> Result<Resolved, Error> {
    let mut warnings = Vec::new();
    let input = checked_input(ctx, a.file, a.in_place, a.output, a.extra, None, &mut warnings)?;
    let type_path = if a.filename_override.is_empty() {
        match &input {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => String::new(),
        }
    } else {
        absolute(&ctx.cwd, Path::new(a.filename_override)).display().to_string()
    };
    let (input_format, output_format) = formats(a.types, &type_path);
    // The stores section is always read, so a broken config breaks decrypt
    // too (cli.md §5.2).
    let cfg = load_config(ctx, cli, &mut warnings)?;
    let decryption_order = recover::parse_order(a.decryption_order)?;
    let extract = if a.extract.is_empty() {
        None
    } else {
        Some(path::parse(a.extract).map_err(Error::ExtractPath)?)
    };
    let output = destination(ctx, &input, a.in_place, a.output);
    let req = DecryptRequest {
        input,
        input_format,
        output_format,
        output_options: output_options(output_format, cfg.as_ref(), a.indent),
        extract,
        ignore_mac: a.ignore_mac,
        decryption_order,
    };
    Ok(Resolved { request: Request::Decrypt(req, output), warnings })
}

fn encrypt_inputs(e: &EncryptArgs) -> EncryptInputs<'_> {
    EncryptInputs {
        file: e.file.as_ref(),
        extra: &e.extra,
        in_place: e.in_place,
        output: &e.output,
        filename_override: &e.filename_override,
        types: &e.types,
        keys: &e.keys,
        selection: &e.selection,
        encryption_context: &e.encryption_context,
        shamir_threshold: e.shamir_secret_sharing_threshold,
        legacy: LegacyOnly::default(),
    }
}

fn decrypt_inputs(d: &DecryptArgs) -> DecryptInputs<'_> {
    DecryptInputs {
        file: d.file.as_ref(),
        extra: &d.extra,
        in_place: d.in_place,
        output: &d.output,
        filename_override: &d.filename_override,
        types: &d.types,
        extract: &d.extract,
        ignore_mac: d.ignore_mac,
        decryption_order: &d.order.decryption_order,
        indent: None,
    }
}

/// Resolves a parsed command line into a request.
pub(crate) fn resolve(cli: &Cli, ctx: &Context) -> Result<Resolved, Error> {
    let mut resolved = resolve_command(cli, ctx)?;
    azure_versions(&mut resolved.request, ctx)?;
    Ok(resolved)
}

/// sops loads the file's creation rule even where it only validates it
/// (the legacy form editing an existing file, `-r`, `--set`: sops 3.11
/// main.go `needsCreationRule`; key flags replacing the rule's keys:
/// `getEncryptConfig`), and loading a rule looks up the version of
/// every Azure key it names without one (config.go: `MasterKeysFromURLs`,
/// `NewMasterKeyWithOptionalVersion`); a failure exits 1 (cli.md §10.5).
pub(crate) fn validate_rule(ctx: &Context, rule: Option<CreationRule>) -> Result<(), Error> {
    let Some(mut rule) = rule else { return Ok(()) };
    let unresolved = |k: &KeyRef| matches!(k, KeyRef::AzureKv { version, .. } if version.is_empty());
    // No Azure source is made for a rule without such keys (issue 7 item 7).
    if rule.key_groups.iter().flatten().any(unresolved) {
        ctx.azure_kv().resolve_versions(rule.key_groups.iter_mut().flatten()).map_err(Error::Generic)?;
    }
    Ok(())
}

/// sops looks up the latest version of every Azure key named without one
/// while parsing the key lists, before any file is read, and stores it
/// (cli.md §10.5, §14 item 13); a failure exits 1.
fn azure_versions(request: &mut Request, ctx: &Context) -> Result<(), Error> {
    let keys: Vec<&mut KeyRef> = match request {
        Request::Encrypt(r, _) => r.key_groups.iter_mut().flatten().collect(),
        Request::Edit(r, _) => r.new_file.iter_mut().flat_map(|n| n.key_groups.iter_mut().flatten()).collect(),
        Request::Rotate(r, _) => r.add.iter_mut().chain(r.remove.iter_mut()).collect(),
        Request::Groups(r, _) => match &mut r.action {
            rsops::ops::groups::GroupsAction::Add(keys) => keys.iter_mut().collect(),
            rsops::ops::groups::GroupsAction::Delete(_) => Vec::new(),
        },
        _ => Vec::new(),
    };
    let unresolved = keys.iter().any(|k| matches!(k, KeyRef::AzureKv { version, .. } if version.is_empty()));
    if unresolved {
        ctx.azure_kv().resolve_versions(keys).map_err(Error::Generic)?;
    }
    Ok(())
}

fn resolve_command(cli: &Cli, ctx: &Context) -> Result<Resolved, Error> {
    match &cli.command {
        Some(Command::Encrypt(e)) => resolve_encrypt(ctx, cli, &encrypt_inputs(e)),
        Some(Command::Decrypt(d)) => resolve_decrypt(ctx, cli, &decrypt_inputs(d)),
        Some(Command::Edit(a)) => super::resolve_edit::edit(ctx, cli, a),
        Some(Command::ExecEnv(a)) => super::resolve_exec::exec_env(ctx, cli, a),
        Some(Command::ExecFile(a)) => super::resolve_exec::exec_file(ctx, cli, a),
        Some(Command::Filestatus(a)) => super::resolve_exec::filestatus(ctx, cli, a),
        Some(Command::Rotate(a)) => super::resolve_mutate::rotate(ctx, cli, a),
        Some(Command::Set(a)) => super::resolve_mutate::set(ctx, cli, a),
        Some(Command::Unset(a)) => super::resolve_mutate::unset(ctx, cli, a),
        Some(Command::Updatekeys(a)) => super::resolve_mutate::updatekeys(ctx, cli, a),
        Some(Command::Groups(a)) => super::resolve_mutate::groups(ctx, cli, a),
        Some(Command::Publish(a)) => super::resolve_publish::publish(ctx, cli, a),
        Some(other) => Err(Error::Unsupported(format!(
            "rsops does not implement the `{}` command yet",
            command_name(other)
        ))),
        None => resolve_legacy(cli, ctx),
    }
}

fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Completion(_) => "completion",
        Command::ExecEnv(_) => "exec-env",
        Command::ExecFile(_) => "exec-file",
        Command::Publish(_) => "publish",
        Command::Keyservice(_) => "keyservice",
        Command::Filestatus(_) => "filestatus",
        Command::Groups(_) => "groups",
        Command::Updatekeys(_) => "updatekeys",
        Command::Decrypt(_) => "decrypt",
        Command::Encrypt(_) => "encrypt",
        Command::Rotate(_) => "rotate",
        Command::Edit(_) => "edit",
        Command::Set(_) => "set",
        Command::Unset(_) => "unset",
    }
}

/// The legacy form `sops [flags] FILE` (cli.md §4.1).
fn resolve_legacy(cli: &Cli, ctx: &Context) -> Result<Resolved, Error> {
    let g = &cli.global;
    let Some(file) = &cli.file else { return Err(Error::NoFileSpecified) };
    // Every legacy mode, edit included (cli.md §4.1 step 2).
    if g.in_place && !g.output.is_empty() {
        return Err(Error::OutputAndInPlace);
    }
    let abs = absolute(&ctx.cwd, file);
    super::resolve_mutate::check_key_change_target(&g.rotate_keys, &abs, true)?;
    let modes = [g.encrypt, g.decrypt, g.rotate, !g.set.is_empty()].iter().filter(|m| **m).count();
    if (g.encrypt || g.decrypt || g.rotate)
        && !abs.exists() {
            return Err(Error::FileNotFound { path: abs.display().to_string() });
        }
    if modes > 1 {
        return Err(Error::Unsupported(
            "rsops does not combine several of --encrypt, --decrypt, --rotate and --set in one run; sops's result there is only the last one's, so run them separately".to_owned(),
        ));
    }
    if g.encrypt {
        return resolve_encrypt(ctx, cli, &EncryptInputs::legacy(cli, file, g.in_place, &g.output));
    }
    if g.decrypt {
        let inputs = DecryptInputs {
            file: Some(file),
            extra: &cli.extra,
            in_place: g.in_place,
            output: &g.output,
            filename_override: &g.filename_override,
            types: &g.types,
            extract: &g.extract,
            ignore_mac: g.ignore_mac,
            decryption_order: &g.order.decryption_order,
            indent: g.indent,
        };
        return resolve_decrypt(ctx, cli, &inputs);
    }
    if g.rotate {
        return super::resolve_mutate::legacy_rotate(ctx, cli, file);
    }
    if !g.set.is_empty() {
        return super::resolve_mutate::legacy_set(ctx, cli, file);
    }
    super::resolve_edit::legacy_edit(ctx, cli, file)
}

/// The `--enable-local-keyservice`/`--keyservice` flags that apply: the
/// command's own (command flags do not inherit global ones, cli.md §1.2),
/// or the global ones for the legacy form.
pub(crate) fn key_service_args(cli: &Cli) -> &super::KeyServiceArgs {
    match &cli.command {
        Some(Command::Encrypt(a)) => &a.key_services,
        Some(Command::Decrypt(a)) => &a.key_services,
        Some(Command::Rotate(a)) => &a.key_services,
        Some(Command::Edit(a)) => &a.key_services,
        Some(Command::Set(a)) => &a.key_services,
        Some(Command::Unset(a)) => &a.key_services,
        Some(Command::Updatekeys(a)) => &a.key_services,
        Some(Command::ExecEnv(a)) => &a.key_services,
        Some(Command::ExecFile(a)) => &a.key_services,
        Some(Command::Publish(a)) => &a.key_services,
        Some(Command::Groups(g)) => match &g.command {
            super::GroupsCommand::Add(a) => &a.key_services,
            super::GroupsCommand::Delete(a) => &a.key_services,
        },
        Some(Command::Completion(_) | Command::Keyservice(_) | Command::Filestatus(_)) | None => {
            &cli.global.key_services
        }
    }
}
