//! Declarations of every flag and command of the sops 3.11 command line
//! (cli.md §1, §3.11–3.13, §4): clap derive structs and the value syntax of
//! Go's `flag` package, nothing else — no parsing policy, no I/O
//! (STYLE.md §5, stage 1).
//!
//! clap never sees the user's argv. `cli/mod.rs` first applies the rules of
//! Go `flag` + urfave/cli v1 (one or two dashes, `=` values, argument
//! reordering, env fallbacks, "two forms" errors) and hands clap a canonical
//! argv: `--long=value` for every flag that was given or read from the
//! environment, then `--`, then the positionals. The attributes below are
//! therefore also the flag tables of that pass, read back through clap's
//! introspection:
//!
//! * Go kind: a `bool` value parser ([`go_bool`]) is a Go boolean (never takes
//!   the next word); an `i64` one ([`go_int`]) a Go int; `ArgAction::Append` a
//!   repeatable string slice; anything else a string.
//! * Go names: the long name, then the short name or the visible alias, in
//!   the order of sops' `Name: "in-place, i"` (this order shows up in the
//!   "Cannot use two forms of the same flag: i in-place" message).
//! * `env`: the variable whose value is the default (cli.md §1.3). mod.rs
//!   applies it with urfave's rules and strips it before clap parses.
//! * `help`: sops' usage text verbatim; mod.rs renders urfave's help layout.
//! * Declaration order is sops' order (help listings, completion order).
//!
//! Strings follow sops' `c.String(..)`: a flag that was not given is the
//! empty string, and sops never tells "given empty" from "absent" (cli.md
//! §1.3: `SOPS_AGE_RECIPIENTS=""` means "empty"). `--indent` is the one
//! value whose presence matters (cli.md §3.8), hence `Option<i64>`.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

// ---------------------------------------------------------------------------
// Go value syntax

/// Go `strconv.ParseBool`, the syntax of boolean flag values
/// (`--enable-local-keyservice=false`) and boolean env vars (cli.md §1.2).
pub(crate) fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Why a Go int flag value was refused; `Display` is Go `flag`'s wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoNumError {
    Syntax,
    Range,
}

impl fmt::Display for GoNumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GoNumError::Syntax => "parse error",
            GoNumError::Range => "value out of range",
        })
    }
}

impl std::error::Error for GoNumError {}

/// Go `strconv.ParseInt(s, 0, 64)`, which Go's `flag` uses for int flags:
/// optional sign, `0x`/`0o`/`0b` prefixes, a leading `0` meaning octal, and
/// `_` digit separators (`--indent 0x2` is 2, verified with sops 3.11).
pub(crate) fn parse_go_int(s: &str) -> Result<i64, GoNumError> {
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_go_uint(unsigned)?;
    if negative {
        if magnitude > 1u64 << 63 {
            return Err(GoNumError::Range);
        }
        // Two's complement: -(2^63) is representable, the rest negate.
        Ok(0i64.wrapping_sub_unsigned(magnitude))
    } else {
        i64::try_from(magnitude).map_err(|_| GoNumError::Range)
    }
}

/// Go `strconv.ParseUint(s, 0, 64)` (the unsigned part of [`parse_go_int`]).
fn parse_go_uint(s: &str) -> Result<u64, GoNumError> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(GoNumError::Syntax);
    }
    let (base, digits): (u32, &[u8]) = if bytes[0] == b'0' {
        match bytes.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if bytes.len() >= 3 => (2, &bytes[2..]),
            Some(b'o') if bytes.len() >= 3 => (8, &bytes[2..]),
            Some(b'x') if bytes.len() >= 3 => (16, &bytes[2..]),
            _ => (8, &bytes[1..]),
        }
    } else {
        (10, bytes)
    };
    let mut underscores = false;
    let mut value: u64 = 0;
    let mut overflow = false;
    for &b in digits {
        if b == b'_' {
            underscores = true;
            continue;
        }
        let digit = match char::from(b).to_digit(36) {
            Some(d) if d < base => d,
            _ => return Err(GoNumError::Syntax),
        };
        match value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(digit)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if underscores && !rsops::tree::number::underscore_ok(s) {
        return Err(GoNumError::Syntax);
    }
    if overflow {
        return Err(GoNumError::Range);
    }
    Ok(value)
}

/// clap value parser of Go boolean flags. mod.rs has validated the value
/// already (with Go's error text); this only converts.
pub(crate) fn go_bool(s: &str) -> Result<bool, GoNumError> {
    parse_go_bool(s).ok_or(GoNumError::Syntax)
}

/// clap value parser of Go int flags (see [`go_bool`]).
pub(crate) fn go_int(s: &str) -> Result<i64, GoNumError> {
    parse_go_int(s)
}

/// A string that may hold secret plaintext (the value of `--set` and of
/// `sops set`): its `Debug` never shows the content.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Redacted(String);

impl Redacted {
    /// The secret text, for the one place that needs it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// True when nothing was given (sops treats `""` as absent).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Redacted {
    fn from(s: &str) -> Self {
        Redacted(s.to_owned())
    }
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("<redacted>")
        }
    }
}

/// clap value parser for [`Redacted`].
#[allow(clippy::unnecessary_wraps)] // the signature clap's value parsers take
fn redacted(s: &str) -> Result<Redacted, std::convert::Infallible> {
    Ok(Redacted(s.to_owned()))
}

// ---------------------------------------------------------------------------
// Usage texts shared by several declarations (sops repeats them verbatim)

const H_IN_PLACE: &str = "write output back to the same file instead of stdout";
const H_ENCRYPTION_CONTEXT: &str = "comma separated list of KMS encryption context key:value pairs";
const H_SHAMIR: &str = "the number of master keys required to retrieve the data key with shamir";
const H_IGNORE_MAC: &str = "ignore Message Authentication Code during decryption";
const H_SHOW_MASTER_KEYS: &str = "display master encryption keys in the file during editing";
const H_AWS_PROFILE: &str = "The AWS profile to use for requests to AWS";
const H_VERBOSE: &str = "Enable verbose logging output";
const H_YES: &str = "pre-approve all changes and run non-interactively";
const H_BACKGROUND: &str = "background the process and don't wait for it to complete (DEPRECATED)";
const H_USER: &str = "the user to run the command as";
const H_FILENAME_OVERRIDE: &str = "Use this filename instead of the provided argument for loading configuration, and for determining input type and output type";
const H_INPUT_TYPE_INI: &str = "currently ini, json, yaml, dotenv and binary are supported. If not set, sops will use the file's extension to determine the type";
const H_OUTPUT_TYPE_INI: &str = "currently ini, json, yaml, dotenv and binary are supported. If not set, sops will use the input file's extension to determine the output format";
const H_GROUPS_FILE: &str = "the file to add the group to";

/// The app's usage line (`USAGE:` section of `sops --help`), verbatim.
pub(crate) const APP_USAGE: &str = "sops - encrypted file editor with AWS KMS, GCP KMS, HuaweiCloud KMS, Azure Key Vault, age, and GPG support";

/// The app's author line (`AUTHOR:` section of `sops --help`).
pub(crate) const APP_AUTHOR: &str = "CNCF Maintainers";

/// The app's `UsageText` (body of the `USAGE:` section of `sops --help`), verbatim.
pub(crate) const APP_USAGE_TEXT: &str = concat!(
    "sops is an editor of encrypted files that supports AWS KMS, GCP, HuaweiCloud KMS, AZKV,\n",
    "  PGP, and Age\n",
    "\n",
    "   To encrypt or decrypt a document with AWS KMS, specify the KMS ARN\n",
    "   in the -k flag or in the SOPS_KMS_ARN environment variable.\n",
    "   (you need valid credentials in ~/.aws/credentials or in your env)\n",
    "\n",
    "   To encrypt or decrypt a document with GCP KMS, specify the\n",
    "   GCP KMS resource ID in the --gcp-kms flag or in the SOPS_GCP_KMS_IDS\n",
    "   environment variable.\n",
    "   (You need to setup Google application default credentials. See\n",
    "    https://developers.google.com/identity/protocols/application-default-credentials)\n",
    "\n",
    "   To encrypt or decrypt a document with HuaweiCloud KMS, specify the\n",
    "   HuaweiCloud KMS key ID (format: region:key-uuid) in the --hckms flag or in the\n",
    "   SOPS_HUAWEICLOUD_KMS_IDS environment variable.\n",
    "   (You need to setup HuaweiCloud credentials via environment variables:\n",
    "    HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID, or\n",
    "    use credentials file at ~/.huaweicloud/credentials)\n",
    "\n",
    "   To encrypt or decrypt a document with HashiCorp Vault's Transit Secret\n",
    "   Engine, specify the Vault key URI name in the --hc-vault-transit flag\n",
    "   or in the SOPS_VAULT_URIS environment variable (for example\n",
    "   https://vault.example.org:8200/v1/transit/keys/dev, where\n",
    "   'https://vault.example.org:8200' is the vault server, 'transit' the\n",
    "   enginePath, and 'dev' is the name of the key).\n",
    "   (You need to enable the Transit Secrets Engine in Vault. See\n",
    "    https://www.vaultproject.io/docs/secrets/transit/index.html)\n",
    "\n",
    "   To encrypt or decrypt a document with Azure Key Vault, specify the\n",
    "   Azure Key Vault key URL in the --azure-kv flag or in the\n",
    "   SOPS_AZURE_KEYVAULT_URL environment variable.\n",
    "   (Authentication is based on environment variables, see\n",
    "    https://docs.microsoft.com/en-us/go/azure/azure-sdk-go-authorization#use-environment-based-authentication.\n",
    "    The user/sp needs the key/encrypt and key/decrypt permissions.)\n",
    "\n",
    "   To encrypt or decrypt using age, specify the recipient in the -a flag,\n",
    "   or in the SOPS_AGE_RECIPIENTS environment variable.\n",
    "\n",
    "   To encrypt or decrypt using PGP, specify the PGP fingerprint in the\n",
    "   -p flag or in the SOPS_PGP_FP environment variable.\n",
    "\n",
    "   To use multiple KMS or PGP keys, separate them by commas. For example:\n",
    "       $ sops -p \"10F2...0A, 85D...B3F21\" file.yaml\n",
    "\n",
    "   The -p, -k, --gcp-kms, --hckms, --hc-vault-transit, and --azure-kv flags are only\n",
    "   used to encrypt new documents. Editing or decrypting existing documents\n",
    "   can be done with \"sops file\" or \"sops decrypt file\" respectively. The KMS and\n",
    "   PGP keys listed in the encrypted documents are used then. To manage master\n",
    "   keys in existing documents, use the \"add-{kms,pgp,gcp-kms,hckms,azure-kv,hc-vault-transit}\"\n",
    "   and \"rm-{kms,pgp,gcp-kms,hckms,azure-kv,hc-vault-transit}\" flags with --rotate\n",
    "   or the updatekeys command.\n",
    "\n",
    "   To use a different GPG binary than the one in your PATH, set SOPS_GPG_EXEC.\n",
    "\n",
    "   To select a different editor than the default (vim), set SOPS_EDITOR or\n",
    "   EDITOR.\n",
    "\n",
    "   Note that flags must always be provided before the filename to operate on.\n",
    "   Otherwise, they will be ignored.\n",
    "\n",
    "   For more information, see the README at https://github.com/getsops/sops",
);

/// urfave's `ArgsUsage` of each command (the text after `[command options]`
/// in its help), by command path; `None` prints `[arguments...]`.
pub(crate) fn args_usage(path: &[&str]) -> Option<&'static str> {
    Some(match path {
        ["encrypt" | "decrypt"] => "[file]",
        ["rotate" | "edit" | "updatekeys" | "filestatus" | "publish"] => "file",
        ["set"] => "file index [ value ]",
        ["unset"] => "file index",
        ["exec-env" | "exec-file"] => "[file to decrypt] [command to run]",
        ["groups", "delete"] => "[index]",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// The application

/// The whole command line: global flags, then either a command or the legacy
/// form `sops [flags] FILE` (cli.md §1.1, §4.1).
#[derive(Debug, Clone, Parser)]
#[command(name = "sops", about = APP_USAGE)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    /// `None`: the legacy form, whose mode the global `-e/-d/-r/--set`
    /// flags choose (edit when none is set).
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Legacy form only: the file (first positional). `None` is sops'
    /// `Error: no file specified` (exit 100).
    pub(crate) file: Option<PathBuf>,

    /// Legacy form only: positionals after the file. sops ignores them with
    /// the warnings of cli.md §1.4; a flag written after the file lands here.
    pub(crate) extra: Vec<OsString>,
}

/// Global flags (cli.md §4.1). They are parsed before the command name and
/// stop at the first positional. sops 3.11 reads most of them only in the
/// legacy form; for subcommands it honours `--config` (and `--verbose` for
/// `publish`/`keyservice`) and silently ignores the rest, e.g. `--indent`
/// (interop README; 3.13 would apply `--indent`/`--mac-only-encrypted`).
#[derive(Debug, Clone, Args)]
#[allow(clippy::struct_excessive_bools)] // sops' boolean flags, one field each
pub(crate) struct GlobalArgs {
    #[arg(long, short = 'd', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "decrypt a file and output the result to stdout")]
    pub(crate) decrypt: bool,

    #[arg(long, short = 'e', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "encrypt a file and output the result to stdout")]
    pub(crate) encrypt: bool,

    #[arg(long, short = 'r', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "generate a new data encryption key and reencrypt all values with the new key")]
    pub(crate) rotate: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          env = "SOPS_DISABLE_VERSION_CHECK",
          help = "do not check whether the current version is latest during --version")]
    pub(crate) disable_version_check: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "do check whether the current version is latest during --version")]
    pub(crate) check_for_updates: bool,

    #[command(flatten)]
    pub(crate) keys: KeySelectionArgs,

    #[arg(long, short = 'i', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_IN_PLACE)]
    pub(crate) in_place: bool,

    #[arg(
        long,
        default_value = "",
        help = "extract a specific key or branch from the input document. Decrypt mode only. Example: --extract '[\"somekey\"][0]'"
    )]
    pub(crate) extract: String,

    #[command(flatten)]
    pub(crate) types: FileTypeArgs,

    #[arg(long, short = 's', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_SHOW_MASTER_KEYS)]
    pub(crate) show_master_keys: bool,

    #[command(flatten)]
    pub(crate) rotate_keys: RotateKeyArgs,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false", help = H_IGNORE_MAC)]
    pub(crate) ignore_mac: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "compute MAC only over values which end up encrypted")]
    pub(crate) mac_only_encrypted: bool,

    #[command(flatten)]
    pub(crate) selection: EncryptionSelectionArgs,

    #[arg(
        long,
        default_value = "",
        help = "set the unencrypted comment suffix. When specified, only keys that have comment matching the regex will be left unencrypted."
    )]
    pub(crate) unencrypted_comment_regex: String,

    #[arg(
        long,
        default_value = "",
        help = "set the encrypted comment suffix. When specified, only keys that have comment matching the regex will be encrypted."
    )]
    pub(crate) encrypted_comment_regex: String,

    #[arg(
        long,
        default_value = "",
        env = "SOPS_CONFIG",
        help = "path to sops' config file. If set, sops will not search for the config file recursively."
    )]
    pub(crate) config: String,

    #[arg(long, default_value = "", help = H_ENCRYPTION_CONTEXT)]
    pub(crate) encryption_context: String,

    /// Legacy `--set '<path> <json>'` (cli.md §4.1 step 8); the JSON may be
    /// a secret, hence [`Redacted`].
    #[arg(long, value_parser = redacted, default_value = "",
          help = "set a specific key or branch in the input document. value must be a json encoded string. (edit mode only). eg. --set '[\"somekey\"][0] {\"somevalue\":true}'")]
    pub(crate) set: Redacted,

    #[arg(long, value_parser = go_int, default_value = "0", help = H_SHAMIR)]
    pub(crate) shamir_secret_sharing_threshold: i64,

    /// `Some` when given, even `Some(0)` (cli.md §3.8).
    #[arg(long, value_parser = go_int,
          help = "the number of spaces to indent YAML or JSON encoded file")]
    pub(crate) indent: Option<i64>,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false", help = H_VERBOSE)]
    pub(crate) verbose: bool,

    #[arg(
        long,
        default_value = "",
        help = "Save the output after encryption or decryption to the file specified"
    )]
    pub(crate) output: String,

    #[arg(long, default_value = "", help = H_FILENAME_OVERRIDE)]
    pub(crate) filename_override: String,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,
}

// ---------------------------------------------------------------------------
// Flag groups shared by the app and several commands

/// Keys for new files (cli.md §3.11): global, `encrypt`, `edit`. Each value
/// is the raw comma-separated list (splitting and trimming rules differ per
/// kind and belong to resolve).
#[derive(Debug, Clone, Args)]
pub(crate) struct KeySelectionArgs {
    #[arg(
        long,
        short = 'k',
        default_value = "",
        env = "SOPS_KMS_ARN",
        help = "comma separated list of KMS ARNs"
    )]
    pub(crate) kms: String,

    #[arg(long, default_value = "", help = H_AWS_PROFILE)]
    pub(crate) aws_profile: String,

    #[arg(
        long,
        default_value = "",
        env = "SOPS_GCP_KMS_IDS",
        help = "comma separated list of GCP KMS resource IDs"
    )]
    pub(crate) gcp_kms: String,

    #[arg(
        long,
        default_value = "",
        env = "SOPS_HUAWEICLOUD_KMS_IDS",
        help = "comma separated list of HuaweiCloud KMS key IDs (format: region:key-uuid)"
    )]
    pub(crate) hckms: String,

    #[arg(
        long,
        default_value = "",
        env = "SOPS_AZURE_KEYVAULT_URLS",
        help = "comma separated list of Azure Key Vault URLs"
    )]
    pub(crate) azure_kv: String,

    #[arg(
        long,
        default_value = "",
        env = "SOPS_VAULT_URIS",
        help = "comma separated list of vault's key URI (e.g. 'https://vault.example.org:8200/v1/transit/keys/dev')"
    )]
    pub(crate) hc_vault_transit: String,

    #[arg(
        long,
        short = 'p',
        default_value = "",
        env = "SOPS_PGP_FP",
        help = "comma separated list of PGP fingerprints"
    )]
    pub(crate) pgp: String,

    #[arg(
        long,
        short = 'a',
        default_value = "",
        env = "SOPS_AGE_RECIPIENTS",
        help = "comma separated list of age recipients"
    )]
    pub(crate) age: String,
}

/// `--input-type` / `--output-type` with sops' json/yaml/dotenv/binary usage
/// text (global, encrypt, decrypt, rotate, edit, set, unset). Values are kept
/// raw: unknown ones are ignored later, not rejected (cli.md §3.1).
#[derive(Debug, Clone, Args)]
pub(crate) struct FileTypeArgs {
    #[arg(
        long,
        default_value = "",
        help = "currently json, yaml, dotenv and binary are supported. If not set, sops will use the file's extension to determine the type"
    )]
    pub(crate) input_type: String,

    #[arg(
        long,
        default_value = "",
        help = "currently json, yaml, dotenv and binary are supported. If not set, sops will use the input file's extension to determine the output format"
    )]
    pub(crate) output_type: String,
}

/// Which values get encrypted (cli.md §3.12): global, encrypt, edit.
#[derive(Debug, Clone, Args)]
pub(crate) struct EncryptionSelectionArgs {
    #[arg(
        long,
        default_value = "",
        help = "override the unencrypted key suffix."
    )]
    pub(crate) unencrypted_suffix: String,

    #[arg(
        long,
        default_value = "",
        help = "override the encrypted key suffix. When empty, all keys will be encrypted, unless otherwise marked with unencrypted-suffix."
    )]
    pub(crate) encrypted_suffix: String,

    #[arg(
        long,
        default_value = "",
        help = "set the unencrypted key regex. When specified, only keys matching the regex will be left unencrypted."
    )]
    pub(crate) unencrypted_regex: String,

    #[arg(
        long,
        default_value = "",
        help = "set the encrypted key regex. When specified, only keys matching the regex will be encrypted."
    )]
    pub(crate) encrypted_regex: String,
}

/// `--add-*` / `--rm-*` master key lists (cli.md §4.4): global (legacy
/// `-r`) and `rotate`. Raw comma-separated lists.
#[derive(Debug, Clone, Args)]
pub(crate) struct RotateKeyArgs {
    #[arg(
        long,
        default_value = "",
        help = "add the provided comma-separated list of GCP KMS key resource IDs to the list of master keys on the given file"
    )]
    pub(crate) add_gcp_kms: String,

    #[arg(
        long,
        default_value = "",
        help = "remove the provided comma-separated list of GCP KMS key resource IDs from the list of master keys on the given file"
    )]
    pub(crate) rm_gcp_kms: String,

    #[arg(
        long,
        default_value = "",
        help = "add the provided comma-separated list of HuaweiCloud KMS key IDs (format: region:key-uuid) to the list of master keys on the given file"
    )]
    pub(crate) add_hckms: String,

    #[arg(
        long,
        default_value = "",
        help = "remove the provided comma-separated list of HuaweiCloud KMS key IDs (format: region:key-uuid) from the list of master keys on the given file"
    )]
    pub(crate) rm_hckms: String,

    #[arg(
        long,
        default_value = "",
        help = "add the provided comma-separated list of Azure Key Vault key URLs to the list of master keys on the given file"
    )]
    pub(crate) add_azure_kv: String,

    #[arg(
        long,
        default_value = "",
        help = "remove the provided comma-separated list of Azure Key Vault key URLs from the list of master keys on the given file"
    )]
    pub(crate) rm_azure_kv: String,

    #[arg(
        long,
        default_value = "",
        help = "add the provided comma-separated list of KMS ARNs to the list of master keys on the given file"
    )]
    pub(crate) add_kms: String,

    #[arg(
        long,
        default_value = "",
        help = "remove the provided comma-separated list of KMS ARNs from the list of master keys on the given file"
    )]
    pub(crate) rm_kms: String,

    #[arg(
        long,
        default_value = "",
        help = "add the provided comma-separated list of Vault's URI key to the list of master keys on the given file ( eg. https://vault.example.org:8200/v1/transit/keys/dev)"
    )]
    pub(crate) add_hc_vault_transit: String,

    #[arg(
        long,
        default_value = "",
        help = "remove the provided comma-separated list of Vault's URI key from the list of master keys on the given file ( eg. https://vault.example.org:8200/v1/transit/keys/dev)"
    )]
    pub(crate) rm_hc_vault_transit: String,

    #[arg(
        long,
        default_value = "",
        help = "add the provided comma-separated list of age recipients fingerprints to the list of master keys on the given file"
    )]
    pub(crate) add_age: String,

    #[arg(
        long,
        default_value = "",
        help = "remove the provided comma-separated list of age recipients from the list of master keys on the given file"
    )]
    pub(crate) rm_age: String,

    #[arg(
        long,
        default_value = "",
        help = "add the provided comma-separated list of PGP fingerprints to the list of master keys on the given file"
    )]
    pub(crate) add_pgp: String,

    #[arg(
        long,
        default_value = "",
        help = "remove the provided comma-separated list of PGP fingerprints from the list of master keys on the given file"
    )]
    pub(crate) rm_pgp: String,
}

/// `--decryption-order` (cli.md §3.10): global and every command that
/// decrypts with an order. Raw comma-separated list (items not trimmed).
#[derive(Debug, Clone, Args)]
pub(crate) struct DecryptionOrderArgs {
    #[arg(
        long,
        default_value = "",
        env = "SOPS_DECRYPTION_ORDER",
        help = "comma separated list of decryption key types"
    )]
    pub(crate) decryption_order: String,
}

/// Key services (cli.md §3.9): global and every command that touches keys.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyServiceArgs {
    /// Default true; `SOPS_ENABLE_LOCAL_KEYSERVICE=""` makes it false
    /// (cli.md §1.3).
    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "true",
          env = "SOPS_ENABLE_LOCAL_KEYSERVICE", help = "use local key service")]
    pub(crate) enable_local_keyservice: bool,

    /// URIs in order. From `SOPS_KEYSERVICE`: split on `,`, each item
    /// trimmed, empty items kept; command-line values replace the variable's.
    #[arg(long, action = ArgAction::Append, env = "SOPS_KEYSERVICE",
          help = "Specify the key services to use in addition to the local one. Can be specified more than once. Syntax: protocol://address. Example: tcp://myserver.com:5000")]
    pub(crate) keyservice: Vec<String>,
}

// ---------------------------------------------------------------------------
// Commands

/// The subcommands (cli.md §4). `help`/`h` is not here: mod.rs answers it
/// with [`super::Parsed::Help`].
#[derive(Debug, Clone, Subcommand)]
#[allow(clippy::large_enum_variant)] // built once per process
pub(crate) enum Command {
    #[command(name = "completion", about = "Generate shell completion scripts")]
    Completion(CompletionArgs),

    #[command(
        name = "exec-env",
        about = "execute a command with decrypted values inserted into the environment"
    )]
    ExecEnv(ExecEnvArgs),

    #[command(
        name = "exec-file",
        about = "execute a command with the decrypted contents as a temporary file"
    )]
    ExecFile(ExecFileArgs),

    #[command(
        name = "publish",
        about = "Publish sops file or directory to a configured destination"
    )]
    Publish(PublishArgs),

    #[command(name = "keyservice", about = "start a SOPS key service server")]
    Keyservice(KeyserviceArgs),

    #[command(
        name = "filestatus",
        about = "check the status of the file, returning encryption status"
    )]
    Filestatus(FilestatusArgs),

    #[command(name = "groups", about = "modify the groups on a SOPS file")]
    Groups(GroupsArgs),

    #[command(
        name = "updatekeys",
        about = "update the keys of SOPS files using the config file"
    )]
    Updatekeys(UpdatekeysArgs),

    #[command(
        name = "decrypt",
        about = "decrypt a file, and output the results to stdout. If no filename is provided, stdin will be used."
    )]
    Decrypt(DecryptArgs),

    #[command(
        name = "encrypt",
        about = "encrypt a file, and output the results to stdout. If no filename is provided, stdin will be used."
    )]
    Encrypt(EncryptArgs),

    #[command(
        name = "rotate",
        about = "generate a new data encryption key and reencrypt all values with the new key"
    )]
    Rotate(RotateArgs),

    #[command(name = "edit", about = "edit an encrypted file")]
    Edit(EditArgs),

    #[command(
        name = "set",
        about = "set a specific key or branch in the input document. value must be a JSON encoded string, for example '/path/to/file [\"somekey\"][0] {\"somevalue\":true}', or a path if --value-file is used, or omitted if --value-stdin is used"
    )]
    Set(SetArgs),

    #[command(
        name = "unset",
        about = "unset a specific key or branch in the input document."
    )]
    Unset(UnsetArgs),
}

/// `encrypt [file]` (cli.md §4.2). No file: stdin.
#[derive(Debug, Clone, Args)]
pub(crate) struct EncryptArgs {
    #[arg(long, short = 'i', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_IN_PLACE)]
    pub(crate) in_place: bool,

    #[arg(
        long,
        default_value = "",
        help = "Save the output after encryption to the file specified"
    )]
    pub(crate) output: String,

    #[command(flatten)]
    pub(crate) keys: KeySelectionArgs,

    #[command(flatten)]
    pub(crate) types: FileTypeArgs,

    #[command(flatten)]
    pub(crate) selection: EncryptionSelectionArgs,

    #[arg(long, default_value = "", help = H_ENCRYPTION_CONTEXT)]
    pub(crate) encryption_context: String,

    #[arg(long, value_parser = go_int, default_value = "0", help = H_SHAMIR)]
    pub(crate) shamir_secret_sharing_threshold: i64,

    #[arg(
        long,
        default_value = "",
        help = "Use this filename instead of the provided argument for loading configuration, and for determining input type and output type. Required when reading from stdin."
    )]
    pub(crate) filename_override: String,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    /// Ignored positionals (cli.md §1.4 warnings).
    pub(crate) extra: Vec<OsString>,
}

/// `decrypt [file]` (cli.md §4.3). No file: stdin.
#[derive(Debug, Clone, Args)]
pub(crate) struct DecryptArgs {
    #[arg(long, short = 'i', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_IN_PLACE)]
    pub(crate) in_place: bool,

    #[arg(
        long,
        default_value = "",
        help = "extract a specific key or branch from the input document. Example: --extract '[\"somekey\"][0]'"
    )]
    pub(crate) extract: String,

    #[arg(
        long,
        default_value = "",
        help = "Save the output after decryption to the file specified"
    )]
    pub(crate) output: String,

    #[command(flatten)]
    pub(crate) types: FileTypeArgs,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false", help = H_IGNORE_MAC)]
    pub(crate) ignore_mac: bool,

    #[arg(
        long,
        default_value = "",
        help = "Use this filename instead of the provided argument for loading configuration, and for determining input type and output type. Should be provided when reading from stdin."
    )]
    pub(crate) filename_override: String,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    /// Ignored positionals (cli.md §1.4 warnings).
    pub(crate) extra: Vec<OsString>,
}

/// `rotate file` (cli.md §4.4).
#[derive(Debug, Clone, Args)]
pub(crate) struct RotateArgs {
    #[arg(long, short = 'i', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_IN_PLACE)]
    pub(crate) in_place: bool,

    #[arg(
        long,
        default_value = "",
        help = "Save the output after decryption to the file specified"
    )]
    pub(crate) output: String,

    #[command(flatten)]
    pub(crate) types: FileTypeArgs,

    #[arg(long, default_value = "", help = H_ENCRYPTION_CONTEXT)]
    pub(crate) encryption_context: String,

    #[command(flatten)]
    pub(crate) rotate_keys: RotateKeyArgs,

    #[arg(long, default_value = "", help = H_FILENAME_OVERRIDE)]
    pub(crate) filename_override: String,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    /// Ignored positionals (cli.md §1.4 warnings).
    pub(crate) extra: Vec<OsString>,
}

/// `edit file` (cli.md §4.5, §6).
#[derive(Debug, Clone, Args)]
pub(crate) struct EditArgs {
    #[command(flatten)]
    pub(crate) keys: KeySelectionArgs,

    #[command(flatten)]
    pub(crate) types: FileTypeArgs,

    #[command(flatten)]
    pub(crate) selection: EncryptionSelectionArgs,

    #[arg(long, default_value = "", help = H_ENCRYPTION_CONTEXT)]
    pub(crate) encryption_context: String,

    #[arg(long, value_parser = go_int, default_value = "0", help = H_SHAMIR)]
    pub(crate) shamir_secret_sharing_threshold: i64,

    #[arg(long, short = 's', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_SHOW_MASTER_KEYS)]
    pub(crate) show_master_keys: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false", help = H_IGNORE_MAC)]
    pub(crate) ignore_mac: bool,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    /// Ignored positionals (cli.md §1.4 warnings).
    pub(crate) extra: Vec<OsString>,
}

/// `set file index [value]` (cli.md §4.6). The positional count rules
/// (exactly 3, or 2 with `--value-stdin`) belong to resolve; see
/// [`SetArgs::positional_count`].
#[derive(Debug, Clone, Args)]
#[allow(clippy::struct_excessive_bools)] // sops' boolean flags, one field each
pub(crate) struct SetArgs {
    #[command(flatten)]
    pub(crate) types: FileTypeArgs,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "treat 'value' as a file to read the actual value from (avoids leaking secrets in process listings). Mutually exclusive with --value-stdin")]
    pub(crate) value_file: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "read the value from stdin; the 'value' argument to 'set' is not needed in this case (avoids leaking secrets in process listings). Mutually exclusive with --value-file")]
    pub(crate) value_stdin: bool,

    /// Declared by sops but unused (cli.md §3.13).
    #[arg(long, value_parser = go_int, default_value = "0", help = H_SHAMIR)]
    pub(crate) shamir_secret_sharing_threshold: i64,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false", help = H_IGNORE_MAC)]
    pub(crate) ignore_mac: bool,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "do nothing if the given index already has the given value")]
    pub(crate) idempotent: bool,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    pub(crate) index: Option<String>,

    /// The JSON value, or a file name with `--value-file`; with
    /// `--value-stdin` a third positional is an error, not a value.
    #[arg(value_parser = redacted)]
    pub(crate) value: Option<Redacted>,

    pub(crate) extra: Vec<OsString>,
}

impl SetArgs {
    /// How many positionals were given (sops' `c.NArg()`).
    pub(crate) fn positional_count(&self) -> usize {
        usize::from(self.file.is_some())
            + usize::from(self.index.is_some())
            + usize::from(self.value.is_some())
            + self.extra.len()
    }
}

/// `unset file index` (cli.md §4.7).
#[derive(Debug, Clone, Args)]
pub(crate) struct UnsetArgs {
    #[command(flatten)]
    pub(crate) types: FileTypeArgs,

    /// Declared by sops but unused (cli.md §3.13).
    #[arg(long, value_parser = go_int, default_value = "0", help = H_SHAMIR)]
    pub(crate) shamir_secret_sharing_threshold: i64,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false", help = H_IGNORE_MAC)]
    pub(crate) ignore_mac: bool,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "do nothing if the given index does not exist")]
    pub(crate) idempotent: bool,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    pub(crate) index: Option<String>,

    pub(crate) extra: Vec<OsString>,
}

impl UnsetArgs {
    /// How many positionals were given (sops' `c.NArg()`; must be 2).
    pub(crate) fn positional_count(&self) -> usize {
        usize::from(self.file.is_some()) + usize::from(self.index.is_some()) + self.extra.len()
    }
}

/// `updatekeys file [file…]` (cli.md §4.8).
#[derive(Debug, Clone, Args)]
pub(crate) struct UpdatekeysArgs {
    #[arg(long, short = 'y', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_YES)]
    pub(crate) yes: bool,

    #[arg(long, default_value = "", help = H_INPUT_TYPE_INI)]
    pub(crate) input_type: String,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) files: Vec<PathBuf>,
}

/// `exec-env file command` (cli.md §4.9, §7). Exactly two positionals are
/// required (`error: missing file to decrypt` otherwise, exit 1): check
/// `file`, `command` and `extra`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ExecEnvArgs {
    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_BACKGROUND)]
    pub(crate) background: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "insert only the decrypted values into the environment without forwarding existing environment variables")]
    pub(crate) pristine: bool,

    #[arg(long, default_value = "", help = H_USER)]
    pub(crate) user: String,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "run command in the current process instead of in a child process")]
    pub(crate) same_process: bool,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    pub(crate) command: Option<OsString>,

    pub(crate) extra: Vec<OsString>,
}

/// `exec-file file command` (cli.md §4.10, §7); positional rule as
/// [`ExecEnvArgs`].
#[derive(Debug, Clone, Args)]
pub(crate) struct ExecFileArgs {
    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_BACKGROUND)]
    pub(crate) background: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "use a regular file instead of a fifo to temporarily hold the decrypted contents")]
    pub(crate) no_fifo: bool,

    #[arg(long, default_value = "", help = H_USER)]
    pub(crate) user: String,

    #[arg(long, default_value = "", help = H_INPUT_TYPE_INI)]
    pub(crate) input_type: String,

    #[arg(long, default_value = "", help = H_OUTPUT_TYPE_INI)]
    pub(crate) output_type: String,

    /// Empty means sops' fallback `tmp-file` (the default lives in sops'
    /// usage text, not in the flag, so `--filename ""` also means it).
    #[arg(
        long,
        default_value = "",
        help = "filename for the temporarily file (default: tmp-file)"
    )]
    pub(crate) filename: String,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    pub(crate) command: Option<OsString>,

    pub(crate) extra: Vec<OsString>,
}

/// `filestatus file` (cli.md §4.11).
#[derive(Debug, Clone, Args)]
pub(crate) struct FilestatusArgs {
    #[arg(long, default_value = "", help = H_INPUT_TYPE_INI)]
    pub(crate) input_type: String,

    pub(crate) file: Option<PathBuf>,

    pub(crate) extra: Vec<OsString>,
}

/// `keyservice` (cli.md §4.13). Positionals are accepted and ignored.
#[derive(Debug, Clone, Args)]
pub(crate) struct KeyserviceArgs {
    #[arg(
        long,
        visible_alias = "net",
        default_value = "tcp",
        help = "network to listen on, e.g. 'tcp' or 'unix'"
    )]
    pub(crate) network: String,

    #[arg(
        long,
        visible_alias = "addr",
        default_value = "127.0.0.1:5000",
        help = "address to listen on, e.g. '127.0.0.1:5000' or '/tmp/sops.sock'"
    )]
    pub(crate) address: String,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "Prompt user to confirm every incoming request")]
    pub(crate) prompt: bool,

    /// The command's own `--verbose`; the global one also counts here.
    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false", help = H_VERBOSE)]
    pub(crate) verbose: bool,

    pub(crate) args: Vec<OsString>,
}

/// `publish file|dir` (cli.md §4.14, §11).
#[derive(Debug, Clone, Args)]
#[allow(clippy::struct_excessive_bools)] // sops' boolean flags, one field each
pub(crate) struct PublishArgs {
    #[arg(long, short = 'y', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_YES)]
    pub(crate) yes: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "Omit file extensions in destination path when publishing sops file to configured destinations")]
    pub(crate) omit_extensions: bool,

    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = "If the source path is a directory, publish all its content recursively")]
    pub(crate) recursive: bool,

    /// The command's own `--verbose`; the global one also counts here.
    #[arg(long, action = ArgAction::Set, value_parser = go_bool, default_value = "false", help = H_VERBOSE)]
    pub(crate) verbose: bool,

    #[command(flatten)]
    pub(crate) order: DecryptionOrderArgs,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) file: Option<PathBuf>,

    pub(crate) extra: Vec<OsString>,
}

/// `groups add|delete` (cli.md §4.12). `sops groups` alone is answered with
/// help by mod.rs and never reaches this type.
#[derive(Debug, Clone, Args)]
pub(crate) struct GroupsArgs {
    #[command(subcommand)]
    pub(crate) command: GroupsCommand,
}

#[derive(Debug, Clone, Subcommand)]
#[allow(clippy::large_enum_variant)] // built once per process
pub(crate) enum GroupsCommand {
    #[command(name = "add", about = "add a new group to a SOPS file")]
    Add(GroupsAddArgs),

    #[command(name = "delete", about = "delete a key group from a SOPS file")]
    Delete(GroupsDeleteArgs),
}

/// `groups add`: every key flag is repeatable, one key per occurrence
/// (`--age` values may also be comma lists). Any positional is an error
/// (`error: no positional arguments allowed`, exit 1).
#[derive(Debug, Clone, Args)]
pub(crate) struct GroupsAddArgs {
    /// Empty when not given (sops then fails reading the empty path, exit 2).
    #[arg(long, short = 'f', default_value = "", help = H_GROUPS_FILE)]
    pub(crate) file: String,

    #[arg(long, action = ArgAction::Append,
          help = "the PGP fingerprints the new group should contain. Can be specified more than once")]
    pub(crate) pgp: Vec<String>,

    #[arg(long, action = ArgAction::Append,
          help = "the KMS ARNs the new group should contain. Can be specified more than once")]
    pub(crate) kms: Vec<String>,

    #[arg(long, default_value = "", help = H_AWS_PROFILE)]
    pub(crate) aws_profile: String,

    #[arg(long, action = ArgAction::Append,
          help = "the GCP KMS Resource ID the new group should contain. Can be specified more than once")]
    pub(crate) gcp_kms: Vec<String>,

    /// Declared but ignored by sops (cli.md §4.12).
    #[arg(long, action = ArgAction::Append,
          help = "the HuaweiCloud KMS key ID (format: region:key-uuid) the new group should contain. Can be specified more than once")]
    pub(crate) hckms: Vec<String>,

    #[arg(long, action = ArgAction::Append,
          help = "the Azure Key Vault key URL the new group should contain. Can be specified more than once")]
    pub(crate) azure_kv: Vec<String>,

    #[arg(long, action = ArgAction::Append,
          help = "the full vault path to the key used to encrypt/decrypt. Make you choose and configure a key with encryption/decryption enabled (e.g. 'https://vault.example.org:8200/v1/transit/keys/dev'). Can be specified more than once")]
    pub(crate) hc_vault_transit: Vec<String>,

    #[arg(long, action = ArgAction::Append,
          help = "the age recipient the new group should contain. Can be specified more than once")]
    pub(crate) age: Vec<String>,

    #[arg(long, short = 'i', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_IN_PLACE)]
    pub(crate) in_place: bool,

    #[arg(long, value_parser = go_int, default_value = "0", help = H_SHAMIR)]
    pub(crate) shamir_secret_sharing_threshold: i64,

    #[arg(long, default_value = "", help = H_ENCRYPTION_CONTEXT)]
    pub(crate) encryption_context: String,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    /// Must be empty.
    pub(crate) args: Vec<OsString>,
}

/// `groups delete [index]`: exactly one positional, the zero-based group
/// index, parsed by resolve (Go `strconv.ParseUint` wording on error).
#[derive(Debug, Clone, Args)]
pub(crate) struct GroupsDeleteArgs {
    #[arg(long, short = 'f', default_value = "", help = H_GROUPS_FILE)]
    pub(crate) file: String,

    #[arg(long, short = 'i', action = ArgAction::Set, value_parser = go_bool, default_value = "false",
          help = H_IN_PLACE)]
    pub(crate) in_place: bool,

    #[arg(long, value_parser = go_int, default_value = "0", help = H_SHAMIR)]
    pub(crate) shamir_secret_sharing_threshold: i64,

    #[command(flatten)]
    pub(crate) key_services: KeyServiceArgs,

    pub(crate) args: Vec<OsString>,
}

/// `completion bash|zsh` (cli.md §1.6). `completion` alone is answered with
/// help by mod.rs.
#[derive(Debug, Clone, Args)]
pub(crate) struct CompletionArgs {
    #[command(subcommand)]
    pub(crate) shell: Shell,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum Shell {
    #[command(
        name = "bash",
        about = "Generate bash completions. To load completions: `$ source <(sops completion bash)`"
    )]
    Bash(ScriptArgs),

    #[command(
        name = "zsh",
        about = "Generate zsh completions. To load completions: `$ source <(sops completion zsh)`"
    )]
    Zsh(ScriptArgs),
}

/// Positionals after `completion bash|zsh`: accepted and ignored by sops.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct ScriptArgs {
    pub(crate) args: Vec<OsString>,
}
