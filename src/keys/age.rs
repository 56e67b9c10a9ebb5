//! The age master-key backend: recipients for `--age`, wrapping the data key
//! into an entry's `enc`, and unwrapping it with the identities sops 3.11
//! would find (cli.md §10.1, §2.3, §3.11; format.md §6.2).
//!
//! What is byte-for-byte sops: the `enc` text (one stanza, Go's armour), the
//! identity sources and their order, and every message of [`AgeError`]
//! that the "Failed to get the data key" report prints. Where this module
//! owns the format and where it leans on the `age` crate is explained in
//! `age/file.rs`.
//!
//! Recipients: X25519 (`age1…`), SSH public keys (`ssh-ed25519 …`,
//! `ssh-rsa …`) and plugin recipients (`age1NAME1…`, wrapped by running
//! `age-plugin-NAME` with the age plugin protocol). Identities: X25519
//! keys, SSH private keys (also passphrase-protected ones), plugin
//! identities and passphrase-protected identity files (`identities.rs`).
//! Post-quantum keys, which sops 3.11 does not have, are refused with a
//! clear message. The per-recipient cryptography of SSH keys and the plugin
//! protocol are the `age` crate's (features `ssh`, `plugin`).

mod armor;
mod b64;
mod bech32;
mod command;
mod file;
mod identities;
pub mod prompt;
mod ssh;

use std::fmt;
use std::str::FromStr as _;

use zeroize::Zeroizing;

use crate::gotext;

pub use identities::{AgeEnv, AgeIdentities};

use identities::Loaded;

/// A failure of the age backend, displayed exactly as sops 3.11 words it.
///
/// No variant holds secret material: recipients, paths, variable names and
/// the command line are configuration, and the parse errors name positions
/// and characters outside the key alphabet only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgeError {
    /// A recipient sops would reject, e.g. `failed to parse input, unknown
    /// recipient type: "notakey"` (cli.md §3.11). Holds the whole text.
    Recipient(String),
    /// A recipient or identity kind sops handles but rsops does not yet.
    Unsupported(String),
    /// Writing the age file failed. Holds the whole text.
    Encrypt(String),
    /// No identity was found for the key: `failed to load age identities`.
    NoIdentities {
        /// Errors met while loading, in sops's order.
        errors: Vec<String>,
        /// Locations that were not set, absent or empty, in sops's order.
        unused: Vec<String>,
    },
    /// Identities were found but none gave the data key: `failed to create
    /// reader for decrypting sops data key with age: <cause>`.
    Decrypt {
        /// Go age's error, e.g. `no identity matched any of the recipients`.
        cause: String,
        /// As in [`AgeError::NoIdentities`].
        errors: Vec<String>,
        /// As in [`AgeError::NoIdentities`].
        unused: Vec<String>,
    },
    /// The file key was found but the payload did not decrypt: `failed to
    /// copy age decrypted data into bytes.Buffer: <cause>`.
    Payload(String),
}

impl fmt::Display for AgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgeError::Recipient(text) | AgeError::Unsupported(text) | AgeError::Encrypt(text) => {
                f.write_str(text)
            }
            AgeError::NoIdentities { errors, unused } => {
                f.write_str("failed to load age identities")?;
                write_suffixes(f, errors, unused)
            }
            AgeError::Decrypt {
                cause,
                errors,
                unused,
            } => {
                write!(
                    f,
                    "failed to create reader for decrypting sops data key with age: {cause}"
                )?;
                write_suffixes(f, errors, unused)
            }
            AgeError::Payload(cause) => {
                write!(
                    f,
                    "failed to copy age decrypted data into bytes.Buffer: {cause}"
                )
            }
        }
    }
}

/// sops's `formatError` suffixes: the load errors joined by `; `, then the
/// unused locations as an English list (cli.md §2.3).
fn write_suffixes(f: &mut fmt::Formatter<'_>, errors: &[String], unused: &[String]) -> fmt::Result {
    if !errors.is_empty() {
        write!(
            f,
            ". Errors while loading age identities: {}",
            errors.join("; ")
        )?;
    }
    match unused {
        [] => Ok(()),
        [one] => write!(f, ". Did not find keys in location '{one}'."),
        [a, b] => write!(f, ". Did not find keys in locations '{a}' and '{b}'."),
        [init @ .., last] => write!(
            f,
            ". Did not find keys in locations '{}', and '{last}'.",
            init.join("', '")
        ),
    }
}

impl std::error::Error for AgeError {}

/// A parsed recipient, by the kinds sops tells apart (in its order).
enum Recipient {
    X25519(age::x25519::Recipient),
    Ssh(age::ssh::Recipient),
    Plugin(age::plugin::Recipient),
}

/// sops's `parseRecipient` (the 3.11 build we match), with its texts.
fn parse_recipient(text: &str) -> Result<Recipient, AgeError> {
    if text.starts_with("age1pq1") {
        return Err(AgeError::Unsupported(format!(
            "post-quantum age recipients are not supported by rsops yet: {}",
            gotext::quote(text.as_bytes())
        )));
    }
    if text.starts_with("age1") && text.matches('1').count() > 1 {
        // Go age's plugin.NewRecipient: any Bech32 text whose HRP starts
        // with `age1`; the plugin itself runs only when wrapping.
        let invalid = |cause: &str| {
            AgeError::Recipient(format!(
                "failed to parse input as age key from age plugin: invalid recipient encoding: {cause}"
            ))
        };
        bech32::decode(text).map_err(|e| invalid(&e))?;
        return age::plugin::Recipient::from_str(text)
            .map(Recipient::Plugin)
            .map_err(invalid);
    }
    if text.starts_with("age1") {
        let malformed = |cause: &str| {
            AgeError::Recipient(format!(
                "failed to parse input as Bech32-encoded age public key: malformed recipient {}: {cause}",
                gotext::quote(text.as_bytes())
            ))
        };
        let decoded = bech32::decode(text).map_err(|e| malformed(&e))?;
        if decoded.data.len() != 32 {
            return Err(malformed("invalid X25519 public key"));
        }
        return age::x25519::Recipient::from_str(text)
            .map(Recipient::X25519)
            .map_err(malformed);
    }
    if text.starts_with("ssh-") {
        return age::ssh::Recipient::from_str(text)
            .map(Recipient::Ssh)
            .map_err(|e| {
                // Go's ssh.ParseAuthorizedKey says "no key found" for every
                // unreadable line (observed with sops 3.11).
                let cause = match e {
                    age::ssh::ParseRecipientKeyError::Unsupported(t) => {
                        format!("SSH public key type {} is not supported", gotext::quote(t.as_bytes()))
                    }
                    _ => "ssh: no key found".to_owned(),
                };
                AgeError::Recipient(format!(
                    "failed to parse input as age-ssh public key: malformed SSH recipient: {}: {cause}",
                    gotext::quote(text.as_bytes())
                ))
            });
    }
    Err(AgeError::Recipient(format!(
        "failed to parse input, unknown recipient type: {}",
        gotext::quote(text.as_bytes())
    )))
}

/// Parses an `--age` / `SOPS_AGE_RECIPIENTS` value as sops's
/// `MasterKeysFromRecipients` does: an empty value is no recipients;
/// otherwise split on `,`, trim each part and parse it. Empty parts are not
/// skipped: `a,,b` fails with `unknown recipient type: ""` as in sops.
/// Returns the trimmed texts, which are what the metadata stores.
pub fn parse_recipients(list: &str) -> Result<Vec<String>, AgeError> {
    if list.is_empty() {
        return Ok(Vec::new());
    }
    list.split(',')
        .map(|part| {
            let part = part.trim();
            parse_recipient(part).map(|_| part.to_owned())
        })
        .collect()
}

/// Wraps a data key (or Shamir share) for one recipient and returns the
/// `enc` text exactly as sops writes it: an armoured age file with one
/// stanza (format.md §6.2). The recipient is used as given, untrimmed, as
/// sops does for keys read back from metadata.
pub fn wrap(recipient: &str, data_key: &[u8]) -> Result<String, AgeError> {
    wrap_with(recipient, data_key, &prompt::never)
}

/// [`wrap`], with a prompt for what a plugin may ask while wrapping.
pub fn wrap_with(recipient: &str, data_key: &[u8], ask: &'static prompt::Prompt) -> Result<String, AgeError> {
    let binary = match parse_recipient(recipient)? {
        Recipient::X25519(r) => file::encrypt(&r, data_key),
        Recipient::Ssh(r) => file::encrypt(&r, data_key),
        Recipient::Plugin(r) => {
            let ui = prompt::PluginUi {
                prompt: std::sync::Arc::new(Box::new(ask)),
                plugin: r.plugin().to_owned(),
            };
            let plugin = age::plugin::RecipientPluginV1::new(r.plugin(), std::slice::from_ref(&r), &[], ui)
                .map_err(|_| {
                    AgeError::Encrypt(format!(
                        "failed to create writer for encrypting sops data key with age: \
                         failed to wrap key for recipient #0: {}",
                        plugin_not_found(r.plugin())
                    ))
                })?;
            file::encrypt(&plugin, data_key)
        }
    }
    .map_err(AgeError::Encrypt)?;
    Ok(armor::encode(&binary))
}

/// Unwraps the data key from an age entry's `enc` with the identities
/// available, following Go age's `Decrypt` step by step so the failure is
/// the one sops reports. `recipient` is the entry's `recipient` field (may
/// be empty: sops decrypts without it, observed.md); it only feeds
/// `SOPS_AGE_RECIPIENT` for `SOPS_AGE_KEY_CMD`.
pub fn unwrap(
    identities: &AgeIdentities,
    recipient: &str,
    enc: &str,
) -> Result<Zeroizing<Vec<u8>>, AgeError> {
    let cmd = identities.command_outcome(recipient);
    let view = identities.view(cmd.as_deref());
    if view.identities.is_empty() {
        return Err(AgeError::NoIdentities {
            errors: view.errors,
            unused: view.unused,
        });
    }
    let fail = |cause: String, view: identities::View<'_>| AgeError::Decrypt {
        cause,
        errors: view.errors,
        unused: view.unused,
    };

    let decoded = armor::decode(enc.as_bytes());
    let mut input = file::Input::new(&decoded);
    let header = match file::parse_header(&mut input) {
        Ok(header) => header,
        Err(cause) => return Err(fail(cause, view)),
    };
    let file_key = match find_file_key(&view.identities, &header.stanzas, identities.prompt()) {
        Ok(key) => key,
        Err(cause) => return Err(fail(cause, view)),
    };
    if let Err(cause) = file::verify_mac(&header, &file_key) {
        return Err(fail(cause, view));
    }
    let nonce = match file::read_nonce(&mut input) {
        Ok(nonce) => nonce,
        Err(cause) => return Err(fail(cause, view)),
    };
    file::decrypt_payload(&mut input, &file_key, &nonce).map_err(AgeError::Payload)
}

/// Go age 1.3's `decryptHdr`: native identities first, then the others,
/// each in load order; the first that unwraps a stanza wins, one that fails
/// otherwise than "not mine" ends the search.
fn find_file_key(
    identities: &[&Loaded],
    stanzas: &[age_core::format::Stanza],
    ask: &std::sync::Arc<Box<prompt::Prompt>>,
) -> Result<age_core::format::FileKey, String> {
    let native = identities
        .iter()
        .filter(|id| matches!(id, Loaded::X25519(_)));
    let others = identities
        .iter()
        .filter(|id| !matches!(id, Loaded::X25519(_)));
    let mut not_mine = 0;
    for identity in native.chain(others) {
        match unwrap_with(identity, stanzas, ask) {
            Some(Ok(key)) => return Ok(key),
            Some(Err(e)) => return Err(e),
            None => not_mine += 1,
        }
    }
    // Go's NoIdentityMatchError quotes the cause when exactly one identity
    // was tried (age 1.3, observed with sops 3.11).
    Err(if not_mine == 1 {
        "identity did not match any of the recipients: incorrect identity for recipient block"
            .to_owned()
    } else {
        "no identity matched any of the recipients".to_owned()
    })
}

/// Go age's error when `age-plugin-NAME` is not on `PATH` (observed with
/// sops 3.11).
fn plugin_not_found(name: &str) -> String {
    format!(
        "{name} plugin: couldn't start plugin: \"{name}\" plugin not found: exec: \
         \"age-plugin-{name}\": executable file not found in $PATH"
    )
}

/// One identity against the stanzas: `None` is "not mine" (Go's
/// `ErrIncorrectIdentity`), `Some(Err)` ends the search with that text.
fn unwrap_with(
    identity: &Loaded,
    stanzas: &[age_core::format::Stanza],
    ask: &std::sync::Arc<Box<prompt::Prompt>>,
) -> Option<Result<age_core::format::FileKey, String>> {
    match identity {
        Loaded::X25519(id) => age::Identity::unwrap_stanzas(id, stanzas)
            .map(|r| r.map_err(|_| "invalid X25519 recipient block".to_owned())),
        Loaded::Ssh { path, key } => ssh::unwrap(path, key, stanzas, ask.as_ref()),
        Loaded::Plugin(id) => {
            let ui = prompt::PluginUi { prompt: std::sync::Arc::clone(ask), plugin: id.plugin().to_owned() };
            match age::plugin::IdentityPluginV1::new(id.plugin(), std::slice::from_ref(id), ui) {
                Ok(plugin) => age::Identity::unwrap_stanzas(&plugin, stanzas)
                    .map(|r| r.map_err(|e| e.to_string())),
                Err(_) => Some(Err(plugin_not_found(id.plugin()))),
            }
        }
        Loaded::Encrypted { location, contents, unlocked } => {
            let inner = unlocked.get_or_init(|| identities::unlock_identity_file(location, contents, ask.as_ref()));
            let inner = match inner {
                Ok(ids) => ids,
                Err(e) => return Some(Err(e.clone())),
            };
            for id in inner {
                if let Some(result) = unwrap_with(id, stanzas, ask) {
                    return Some(result);
                }
            }
            // sops also logs a warning here (cli.md §10.1); rsops's library
            // does not print, and the report names the outcome.
            None
        }
    }
}

#[cfg(test)]
mod tests;
