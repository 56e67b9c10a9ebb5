//! SSH private keys as age identities, as Go age's `agessh` uses them for
//! sops 3.11: an unencrypted key unwraps `ssh-ed25519`/`ssh-rsa` stanzas
//! directly; a passphrase-protected one is unlocked only when a stanza
//! carries its tag (the first four bytes of SHA-256 of the public key), so
//! files for other recipients never prompt (cli.md §10.1).

use age::secrecy::ExposeSecret as _;
use age_core::format::{FileKey, Stanza};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::gotext::quote;
use super::prompt::Prompt;

/// The stanza tag of an SSH public key line (`ssh-ed25519 AAAA…`).
fn tag(recipient: &age::ssh::Recipient) -> Option<String> {
    let line = recipient.to_string();
    let wire = base64::engine::general_purpose::STANDARD
        .decode(line.split(' ').nth(1)?)
        .ok()?;
    let digest = Sha256::digest(&wire);
    Some(base64::engine::general_purpose::STANDARD_NO_PAD.encode(&digest[..4]))
}

/// Unwraps with one SSH key; `None` when no stanza is for it.
pub(super) fn unwrap(
    path: &str,
    key: &age::ssh::Identity,
    stanzas: &[Stanza],
    ask: &Prompt,
) -> Option<Result<FileKey, String>> {
    let age::ssh::Identity::Encrypted(encrypted) = key else {
        return age::Identity::unwrap_stanzas(key, stanzas).map(|r| r.map_err(|e| e.to_string()));
    };
    let recipient = age::ssh::Recipient::try_from(key.clone()).ok()?;
    let tag = tag(&recipient)?;
    let mine = stanzas
        .iter()
        .any(|s| (s.tag == "ssh-ed25519" || s.tag == "ssh-rsa") && s.args.first() == Some(&tag));
    if !mine {
        return None;
    }
    let shown = quote(path.as_bytes());
    let passphrase = match ask(&format!("Enter passphrase for {shown}:")) {
        Ok(p) => p,
        Err(e) => {
            return Some(Err(format!(
                "failed to obtain passphrase: could not read passphrase for {shown}: {e}"
            )))
        }
    };
    if passphrase.expose_secret().is_empty() {
        return Some(Err("failed to decrypt SSH key file: x509: decryption password incorrect".to_owned()));
    }
    match encrypted.decrypt(passphrase) {
        Ok(unlocked) => age::Identity::unwrap_stanzas(&age::ssh::Identity::from(unlocked), stanzas)
            .map(|r| r.map_err(|e| e.to_string())),
        // Go's x/crypto/ssh text for a wrong passphrase (agessh wraps it).
        Err(_) => Some(Err("failed to decrypt SSH key file: x509: decryption password incorrect".to_owned())),
    }
}
