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
//! Scope today: X25519 recipients (`age1…`) and identities
//! (`AGE-SECRET-KEY-1…`). SSH keys, plugins, post-quantum keys and
//! passphrase-protected identity files are recognised where sops recognises
//! them, keep their place in the failure report, and fail with a "not
//! supported yet" message; they slot in as new [`Recipient`] and
//! `identities::Loaded` variants (the crate's `ssh` feature provides the SSH
//! parsing).

mod armor;
mod b64;
mod bech32;
mod command;
mod file;
mod gotext;
mod identities;

use std::fmt;
use std::str::FromStr as _;

use zeroize::Zeroizing;

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
        return Err(AgeError::Unsupported(format!(
            "age plugin recipients are not supported by rsops yet: {}",
            gotext::quote(text.as_bytes())
        )));
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
        return Err(AgeError::Unsupported(format!(
            "SSH age recipients are not supported by rsops yet: {}",
            gotext::quote(text.as_bytes())
        )));
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
    let Recipient::X25519(recipient) = parse_recipient(recipient)?;
    let binary = file::encrypt(&recipient, data_key).map_err(AgeError::Encrypt)?;
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
    let file_key = match find_file_key(&view.identities, &header.stanzas) {
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
) -> Result<age_core::format::FileKey, String> {
    let native = identities
        .iter()
        .filter(|id| matches!(id, Loaded::X25519(_)));
    let others = identities
        .iter()
        .filter(|id| !matches!(id, Loaded::X25519(_)));
    let mut not_mine = 0;
    for identity in native.chain(others) {
        match identity {
            Loaded::X25519(id) => match age::Identity::unwrap_stanzas(id, stanzas) {
                Some(Ok(key)) => return Ok(key),
                Some(Err(_)) => return Err("invalid X25519 recipient block".to_owned()),
                None => not_mine += 1,
            },
            Loaded::Ssh(path) => {
                if stanzas
                    .iter()
                    .any(|s| s.tag == "ssh-ed25519" || s.tag == "ssh-rsa")
                {
                    return Err(format!(
                        "SSH identities are not supported by rsops yet ({})",
                        gotext::quote(path.as_bytes())
                    ));
                }
                not_mine += 1;
            }
            Loaded::Encrypted(location) => {
                return Err(format!(
                    "passphrase-protected age identities are not supported by rsops yet ('{location}')"
                ));
            }
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

#[cfg(test)]
mod tests;
