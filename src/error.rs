//! The one error type, its exit codes (sops's table, cli.md §2.1) and hints.
//!
//! Every failure a command can report is a variant here. `Display` gives the
//! exact text sops prints, because scripts grep for it; `hint()` adds what to do
//! next on a separate line. No variant carries a plaintext value or a key.

use std::fmt;

use crate::stores::StoreError;

#[derive(Debug)]
pub enum Error {
    /// Legacy form or a command without its file argument.
    NoFileSpecified,
    /// The input file does not exist (encrypt, decrypt, legacy -e/-d/-r).
    FileNotFound { path: String },
    /// `-i` given while reading stdin.
    InPlaceWithStdin,
    /// `encrypt` from stdin without `--filename-override`.
    StdinNeedsOverride,
    /// `-i` and `--output` together.
    OutputAndInPlace,
    /// Two encryption-selection settings after merging flags and rules.
    ConflictingRules,
    /// Reading the input failed (`source` is sops's wording of the OS error).
    ReadInput { message: String },
    /// A plaintext file failed to parse.
    ParsePlain(StoreError),
    /// An encrypted file failed to parse.
    ParseEncrypted { format: &'static str, err: StoreError },
    /// The file has no `sops` metadata.
    MetadataNotFound,
    /// The metadata is present but invalid (time, version, rules, no keys).
    Metadata(String),
    /// An empty document given to encrypt.
    EmptyDocument,
    /// The plaintext already has a top-level `sops` entry.
    AlreadyEncrypted,
    /// No master key could decrypt the data key; the report lists each.
    DataKeyRecovery(String),
    /// Wrapping the new data key failed for some master key.
    GenerateDataKey(Vec<String>),
    /// A value failed to decrypt; the text names the path, never the value.
    DecryptTree(String),
    /// A value failed to encrypt (non-string key, unsupported type).
    EncryptTree(String),
    /// The stored MAC does not decrypt.
    MacDecrypt(String),
    /// The stored MAC differs from the computed one.
    MacMismatch { stored: String, computed: String },
    /// The output store could not write the tree.
    DumpFile(String),
    /// `--extract` result the output store cannot write.
    DumpTree(String),
    /// A bad `--extract` path.
    ExtractPath(String),
    /// `--extract` path not in the tree.
    Truncate(String),
    /// Writing the output failed.
    WriteOutput(String),
    /// `.sops.yaml` problems and other configuration errors.
    Config(String),
    /// `--decryption-order` lists a type twice.
    DuplicateDecryptionKeyType(String),
    /// Invalid command line that the argument parser did not catch.
    Usage(String),
    /// `--encryption-context` with a pair that is not `key:value`.
    InvalidEncryptionContext,
    /// `edit`: the editor could not be found, started, or failed.
    Editor(String),
    /// `edit`: the text came back from the editor unchanged.
    FileNotChanged,
    /// `edit`: the tree could not be written for the editor or the file.
    MarshalTree(String),
    /// `edit` of a new file: the new data key could not be wrapped.
    EditDataKey(Vec<String>),
    /// `edit`: the file's `version` is not a semantic version.
    VersionCompare { file: String, program: String, err: String },
    /// `edit`: the editor wrote the same refused text again and nobody can
    /// answer the prompt (stdin at its end); carries the refusal.
    EditAbandoned(Box<Error>),
    /// `set`/`unset` with the wrong number of positionals (exit 100).
    MissingArguments(&'static str),
    /// `set`/`unset`/`--set`: a bad path or value (sops's exact text, exit 7).
    InvalidSet(&'static str),
    /// `rotate --add-*/--rm-*` on a missing file (exit 49); `legacy` picks
    /// the wording of the `-r` form.
    CannotChangeKeys { path: String, legacy: bool },
    /// An error sops reports through its fatal log line rather than as an
    /// exit error (`groups`): `main` prints it in logrus's format, exit 1.
    Fatal(String),
    /// A command or mode rsops does not provide yet.
    Unsupported(String),
    /// `exec-*`: an error sops reports through its `EXEC` logger's fatal
    /// line (`--user` lookup and switch), exit 1.
    ExecFatal(String),
    /// `exec-*`: the command did not exit 0. sops prints Go's text
    /// (`exit status 3`, `signal: killed`) and exits with the child's code
    /// (255 for a signal).
    ChildExit { status: u8, message: String },
    /// `exec-env --same-process --background`.
    SameProcessWithBackground,
    /// Anything else sops reports with exit status 1.
    Generic(String),
    /// The pre-3.3.0 KMS encryption-context repair found no data key
    /// (carries the first decryption error; exit 25, cli.md §2.1).
    KmsContextBug(String),
}

impl Error {
    /// The exit status sops uses for this condition (cli.md §2.1).
    #[allow(clippy::match_same_arms)] // grouped by meaning, as in cli.md §2.1's table
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::NoFileSpecified | Error::FileNotFound { .. } => 100,
            Error::InPlaceWithStdin
            | Error::StdinNeedsOverride
            | Error::OutputAndInPlace
            | Error::ConflictingRules => 8,
            Error::ReadInput { .. } | Error::ParsePlain(_) => 2,
            Error::WriteOutput(_) => 3,
            Error::DumpFile(_) | Error::DumpTree(_) => 4,
            Error::EncryptTree(_) => 23,
            Error::DecryptTree(_) | Error::KmsContextBug(_) => 25,
            Error::MacDecrypt(_) | Error::MacMismatch { .. } => 51,
            Error::ExtractPath(_) => 91,
            Error::EmptyDocument => 92,
            Error::InvalidEncryptionContext => 6,
            Error::InvalidSet(_) => 7,
            Error::MissingArguments(_) => 100,
            Error::CannotChangeKeys { .. } => 49,
            Error::Fatal(_) => 1,
            Error::DuplicateDecryptionKeyType(_) => 112,
            Error::DataKeyRecovery(_) => 128,
            Error::AlreadyEncrypted => 203,
            Error::Editor(_) => 201,
            Error::FileNotChanged => 200,
            Error::MarshalTree(_) => 4,
            Error::EditDataKey(_) => 128,
            Error::VersionCompare { .. } => 202,
            Error::EditAbandoned(inner) => inner.exit_code(),
            Error::ParseEncrypted { .. }
            | Error::MetadataNotFound
            | Error::Metadata(_)
            | Error::GenerateDataKey(_)
            | Error::Truncate(_)
            | Error::Config(_)
            | Error::Usage(_)
            | Error::Unsupported(_)
            | Error::ExecFatal(_)
            | Error::Generic(_) => 1,
            Error::ChildExit { status, .. } => *status,
            Error::SameProcessWithBackground => 8,
        }
    }

    /// A line saying what to do next, printed after the sops text.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::FileNotFound { .. } => Some("check the path; to create a new encrypted file use `rsops edit`"),
            Error::MetadataNotFound => Some("this file is not encrypted by sops; use `rsops encrypt` for plaintext"),
            Error::MacMismatch { .. } | Error::MacDecrypt(_) => {
                Some("the file was changed outside sops; `--ignore-mac` decrypts it anyway if you trust the change")
            }
            Error::EditAbandoned(_) => Some(
                "stdin is not a terminal and the editor wrote the same refused text again; sops would reopen the editor forever",
            ),
            Error::Editor(m) if m.starts_with("no editor") || m.starts_with("exec:") || m.starts_with("fork/exec") => {
                Some("set SOPS_EDITOR or EDITOR to the editor command, e.g. `code --wait`")
            }
            Error::StdinNeedsOverride => Some("add --filename-override NAME.yaml (or .json, .env, .ini) so the format and creation rule are known"),
            _ => None,
        }
    }
}

const ALREADY_ENCRYPTED: &str = "The file you have provided contains a top-level entry called 'sops', or for
flat file formats top-level entries starting with 'sops_'. This is
generally due to the file already being encrypted. SOPS uses a top-level
entry called 'sops' to store the metadata required to decrypt the file. For
this reason, SOPS can not encrypt files that already contain such an entry.

If this is an unencrypted file, rename the 'sops' entry.

If this is an encrypted file and you want to edit it, use the editor mode,
for example: `sops my_file.yaml`";

impl fmt::Display for Error {
    #[allow(clippy::match_same_arms)] // one arm per sops wording, in cli.md's order
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoFileSpecified => f.write_str("Error: no file specified"),
            Error::FileNotFound { path } => write!(f, "Error: cannot operate on non-existent file \"{path}\""),
            Error::InPlaceWithStdin => f.write_str("Error: cannot use --in-place when reading from stdin"),
            Error::StdinNeedsOverride => {
                f.write_str("Error: must specify --filename-override when reading from stdin")
            }
            Error::OutputAndInPlace => f.write_str("Error: cannot operate on both --output and --in-place"),
            Error::ConflictingRules => f.write_str(
                "Error: cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file",
            ),
            Error::ReadInput { message } => f.write_str(message),
            Error::ParsePlain(err) => write!(f, "Error unmarshalling file: {err}"),
            // Each store already words its message as sops does, prefix included.
            Error::ParseEncrypted { err, .. } => write!(f, "{err}"),
            Error::MetadataNotFound => f.write_str("sops metadata not found"),
            Error::Metadata(m)
            | Error::DataKeyRecovery(m)
            | Error::Truncate(m)
            | Error::Config(m)
            | Error::Usage(m)
            | Error::Unsupported(m)
            | Error::Generic(m)
            | Error::ExecFatal(m)
            | Error::ChildExit { message: m, .. } => f.write_str(m),
            Error::SameProcessWithBackground => {
                f.write_str("Error: The --same-process flag cannot be used with --background")
            }
            Error::InvalidEncryptionContext => f.write_str("Invalid KMS encryption context format"),
            Error::InvalidSet(m) | Error::MissingArguments(m) => f.write_str(m),
            Error::Fatal(m) => f.write_str(m),
            Error::CannotChangeKeys { path, legacy } => {
                let instead = if *legacy { "use `--kms` and `--pgp` instead." } else { "use the `edit` subcommand instead." };
                write!(f, "Error: cannot add or remove keys on non-existent file {path:?}, {instead}")
            }
            Error::EmptyDocument => {
                f.write_str("File cannot be completely empty, it must contain at least one document")
            }
            Error::AlreadyEncrypted => f.write_str(ALREADY_ENCRYPTED),
            Error::GenerateDataKey(errs) => write!(f, "Could not generate data key: [{}]", errs.join(" ")),
            Error::DecryptTree(m) => write!(f, "Error decrypting tree: {m}"),
            Error::KmsContextBug(m) => {
                write!(f, "Failed to decrypt, meaning there is likely another problem from the encryption context bug: {m}")
            }
            Error::EncryptTree(m) => write!(f, "Error encrypting tree: {m}"),
            Error::MacDecrypt(m) => write!(f, "Cannot decrypt MAC: {m}"),
            Error::MacMismatch { stored, computed } => {
                let stored = if stored.is_empty() { "no MAC" } else { stored };
                write!(f, "MAC mismatch. File has {stored}, computed {computed}")
            }
            Error::DumpFile(m) => write!(f, "Error dumping file: {m}"),
            Error::DumpTree(m) => write!(f, "Error dumping tree: {m}"),
            Error::ExtractPath(m) => write!(f, "error parsing --extract path: {m}"),
            Error::WriteOutput(m) => f.write_str(m),
            Error::DuplicateDecryptionKeyType(t) => write!(f, "Duplicate decryption key type: {t}"),
            Error::Editor(m) => write!(f, "Could not run editor: {m}"),
            Error::FileNotChanged => f.write_str("File has not changed, exiting."),
            Error::MarshalTree(m) => write!(f, "Could not marshal tree: {m}"),
            Error::EditDataKey(errs) => {
                write!(f, "Error encrypting the data key with one or more master keys: [{}]", errs.join(" "))
            }
            Error::VersionCompare { file, program, err } => {
                write!(f, "Failed to compare document version {file:?} with program version {program:?}: {err}")
            }
            Error::EditAbandoned(inner) => inner.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_sops_table() {
        assert_eq!(Error::NoFileSpecified.exit_code(), 100);
        assert_eq!(Error::MetadataNotFound.exit_code(), 1);
        assert_eq!(Error::AlreadyEncrypted.exit_code(), 203);
        assert_eq!(Error::DataKeyRecovery(String::new()).exit_code(), 128);
        assert_eq!(Error::DecryptTree(String::new()).exit_code(), 25);
        assert_eq!(Error::MacMismatch { stored: String::new(), computed: String::new() }.exit_code(), 51);
        assert_eq!(Error::ExtractPath(String::new()).exit_code(), 91);
        assert_eq!(Error::EmptyDocument.exit_code(), 92);
    }

    #[test]
    fn mac_mismatch_without_mac_says_so() {
        let e = Error::MacMismatch { stored: String::new(), computed: "AB".into() };
        assert_eq!(e.to_string(), "MAC mismatch. File has no MAC, computed AB");
    }
}
