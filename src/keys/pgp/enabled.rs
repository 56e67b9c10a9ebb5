//! The built-in OpenPGP path (feature `pgp`), on sequoia-openpgp: no `gpg`
//! process is started here.
//!
//! Where the keys come from, in the GnuPG home (`GNUPGHOME` or
//! `~/.gnupg`):
//!
//! - public keys: `pubring.kbx` (GnuPG ≥ 2.1, see `keybox.rs`), and the
//!   legacy `pubring.gpg` and `secring.gpg` that sops reads;
//! - secret keys: `secring.gpg` entries without passphrase, and the agent's
//!   `private-keys-v1.d/*.key` files whose secret is in clear (`sexp.rs`);
//!   a key the agent holds protected or on a smartcard is used through a
//!   running gpg-agent (`agent.rs`), never by starting one.
//!
//! Keys are matched to files by their public values (RSA modulus, ECC
//! point), so no keygrip needs computing. Everything is read once, on the
//! first PGP key of the run.
//!
//! The output matches what sops stores from `gpg --encrypt -a`: one
//! public-key packet for the newest valid encryption subkey, a binary
//! literal packet with the data key, armoured with a CRC line, surrounding
//! whitespace trimmed (format.md §6.2).

use std::cell::RefCell;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::crypto::{mpi, SessionKey};
use openpgp::packet::key::{PublicParts, SecretParts, UnspecifiedRole};
use openpgp::packet::{Key, PKESK, SKESK};
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper,
};
use openpgp::parse::Parse as _;
use openpgp::policy::{AsymmetricAlgorithm, StandardPolicy};
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message};
use openpgp::types::{DataFormat, HashAlgorithm, KeyFlags, SymmetricAlgorithm};
use openpgp::{Cert, KeyHandle};
use zeroize::Zeroizing;

use super::sexp::{self, AgentKey};
use super::{agent, keybox, PgpEnv};

/// The keys of one GnuPG home, read on first use.
pub(super) struct Keys {
    home: PathBuf,
    agent: agent::Location,
    ring: OnceLock<Ring>,
    key_files: OnceLock<Vec<AgentKey>>,
}

/// The certificates of the keyring files, and whether any file existed.
struct Ring {
    certs: Vec<Cert>,
    any_file: bool,
}

/// What gpg accepts for a key it has imported, so a key gpg encrypts to is
/// one rsops encrypts to: sequoia's standard policy, plus the old
/// algorithms gpg 2.2 still uses (RSA 1024, as in sops's own test key 2)
/// and SHA-1 self-signatures of older keys. Only public-key encryption to
/// a key the user named is at stake here, never signature trust.
fn policy() -> StandardPolicy<'static> {
    let mut p = StandardPolicy::new();
    for a in [
        AsymmetricAlgorithm::RSA1024,
        AsymmetricAlgorithm::ElGamal1024,
        AsymmetricAlgorithm::DSA1024,
    ] {
        p.accept_asymmetric_algo(a);
    }
    p.accept_hash(HashAlgorithm::SHA1);
    p
}

fn encryption_flags() -> KeyFlags {
    KeyFlags::empty()
        .set_transport_encryption()
        .set_storage_encryption()
}

/// Reads a file, treating "absent" as `None`.
fn read_optional(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

impl Keys {
    pub(super) fn new(env: &PgpEnv) -> Keys {
        let home = env.gnupg_home();
        Keys {
            agent: agent::Location::new(env, &home),
            home,
            ring: OnceLock::new(),
            key_files: OnceLock::new(),
        }
    }

    fn ring(&self) -> &Ring {
        self.ring.get_or_init(|| {
            let mut certs = Vec::new();
            let mut any_file = false;
            if let Some(kbx) = read_optional(&self.home.join("pubring.kbx")) {
                any_file = true;
                certs.extend(
                    keybox::keyblocks(&kbx)
                        .into_iter()
                        .filter_map(|block| Cert::from_bytes(block).ok()),
                );
            }
            for name in ["pubring.gpg", "secring.gpg"] {
                if let Some(bytes) = read_optional(&self.home.join(name)) {
                    any_file = true;
                    if let Ok(parser) = CertParser::from_bytes(&bytes) {
                        certs.extend(parser.filter_map(Result::ok));
                    }
                }
            }
            Ring { certs, any_file }
        })
    }

    fn key_files(&self) -> &[AgentKey] {
        self.key_files.get_or_init(|| {
            let dir = self.home.join("private-keys-v1.d");
            let Ok(entries) = std::fs::read_dir(&dir) else {
                return Vec::new();
            };
            let mut keys = Vec::new();
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().and_then(|e| e.to_str()) != Some("key") {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path).map(Zeroizing::new) else {
                    continue;
                };
                if let Ok(mut key) = sexp::key_file_sexp(&bytes).and_then(|s| sexp::agent_key(&s)) {
                    key.keygrip = path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    keys.push(key);
                }
            }
            keys
        })
    }

    /// Encrypts `data` for `fingerprint` with the keyring's public key.
    pub(super) fn encrypt(&self, fingerprint: &str, data: &[u8]) -> Result<String, String> {
        let not_available = || format!("key with fingerprint '{fingerprint}' is not available in keyring");
        // `FP!` names one (sub)key exactly, as gpg's `-r FP!` does.
        let exact = fingerprint.strip_suffix('!');
        let wanted = exact.unwrap_or(fingerprint);
        let policy = policy();
        let cert = self
            .ring()
            .certs
            .iter()
            .find(|c| c.keys().any(|k| k.key().fingerprint().to_hex().eq_ignore_ascii_case(wanted)))
            .ok_or_else(not_available)?;
        let valid = cert
            .with_policy(&policy, None)
            .map_err(|e| format!("key with fingerprint '{fingerprint}' is not usable: {e}"))?;
        let recipient = valid
            .keys()
            .supported()
            .alive()
            .revoked(false)
            .key_flags(encryption_flags())
            .filter(|k| exact.is_none_or(|fp| k.key().fingerprint().to_hex().eq_ignore_ascii_case(fp)))
            // gpg encrypts to the newest usable encryption subkey only.
            .max_by_key(|k| k.key().creation_time())
            .ok_or_else(|| format!("key with fingerprint '{fingerprint}' has no usable encryption key"))?;

        let mut out = Vec::new();
        let write = |out: &mut Vec<u8>| -> openpgp::Result<()> {
            let message = Message::new(out);
            let message = Armorer::new(message).build()?;
            let message = Encryptor::for_recipients(message, [recipient]).build()?;
            let mut message = LiteralWriter::new(message).format(DataFormat::Binary).build()?;
            message.write_all(data)?;
            message.finalize()?;
            Ok(())
        };
        write(&mut out).map_err(|e| format!("encrypting to '{fingerprint}' failed: {e}"))?;
        // sops stores gpg's armour with surrounding whitespace trimmed.
        let text = String::from_utf8(out).map_err(|_| "armour is not text".to_owned())?;
        Ok(text.trim().to_owned())
    }

    /// Decrypts an `enc` with the secret keys at hand.
    pub(super) fn decrypt(&self, _fingerprint: &str, enc: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let ring = self.ring();
        if !ring.any_file && self.key_files().is_empty() {
            // sops's text for a home without keyrings (cli.md §2.3).
            return Err(format!(
                "could not load secring: open {}: no such file or directory",
                self.home.join("pubring.gpg").display()
            ));
        }
        let policy = policy();
        let failures = RefCell::new(Vec::new());
        let helper = Helper { keys: self, failures: &failures };
        let result = (|| -> openpgp::Result<Zeroizing<Vec<u8>>> {
            let mut decryptor =
                DecryptorBuilder::from_bytes(enc.as_bytes())?.with_policy(&policy, None, helper)?;
            let mut plain = Zeroizing::new(Vec::new());
            std::io::copy(&mut decryptor, &mut *plain)?;
            Ok(plain)
        })();
        match result {
            Ok(plain) => Ok(plain),
            Err(e) => {
                let reasons = failures.into_inner();
                if reasons.is_empty() {
                    Err(format!("reading PGP message failed: {e}"))
                } else {
                    Err(reasons.join("; "))
                }
            }
        }
    }

    /// The cert and key of the keyring that `handle` names.
    fn find_key(&self, handle: &KeyHandle) -> Option<(&Cert, Key<PublicParts, UnspecifiedRole>)> {
        self.ring().certs.iter().find_map(|cert| {
            cert.keys()
                .find(|k| handle.aliases(k.key().key_handle()))
                .map(|k| (cert, k.key().clone().role_into_unspecified()))
        })
    }

    /// The key with its secret in clear, from `secring.gpg` or a key file.
    fn clear_secret(&self, key: &Key<PublicParts, UnspecifiedRole>) -> Option<Key<SecretParts, UnspecifiedRole>> {
        let fp = key.fingerprint();
        for cert in &self.ring().certs {
            for k in cert.keys().secret() {
                if k.key().fingerprint() == fp && !k.key().secret().is_encrypted() {
                    return Some(k.key().clone().role_into_unspecified());
                }
            }
        }
        let file = self.agent_key_for(key)?;
        let values = file.secret.as_ref()?;
        let get = |name: &str| -> Option<mpi::ProtectedMPI> {
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| mpi::ProtectedMPI::from(v.to_vec()))
        };
        let material = match key.mpis() {
            mpi::PublicKey::RSA { .. } => mpi::SecretKeyMaterial::RSA {
                d: get("d")?,
                p: get("p")?,
                q: get("q")?,
                u: get("u")?,
            },
            mpi::PublicKey::ECDH { .. } => mpi::SecretKeyMaterial::ECDH { scalar: get("d")? },
            mpi::PublicKey::ElGamal { .. } => mpi::SecretKeyMaterial::ElGamal { x: get("x")? },
            _ => return None,
        };
        let (with_secret, _) = key.clone().add_secret(material.into());
        Some(with_secret)
    }

    /// The agent key file whose public value is this key's.
    fn agent_key_for(&self, key: &Key<PublicParts, UnspecifiedRole>) -> Option<&AgentKey> {
        let public = public_value(key)?;
        self.key_files().iter().find(|k| k.public == public)
    }
}

/// The public value key files are matched by, leading zeros stripped.
fn public_value(key: &Key<PublicParts, UnspecifiedRole>) -> Option<Vec<u8>> {
    let v = match key.mpis() {
        mpi::PublicKey::RSA { n, .. } => n.value(),
        mpi::PublicKey::ECDH { q, .. } | mpi::PublicKey::ECDSA { q, .. } | mpi::PublicKey::EdDSA { q, .. } => {
            q.value()
        }
        mpi::PublicKey::ElGamal { y, .. } => y.value(),
        _ => return None,
    };
    Some(sexp::strip(v).to_vec())
}

/// Finds and uses the secret key for each public-key packet; records why
/// each one could not be used.
struct Helper<'a> {
    keys: &'a Keys,
    failures: &'a RefCell<Vec<String>>,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(Vec::new())
    }

    fn check(&mut self, _structure: MessageStructure) -> openpgp::Result<()> {
        // sops's data key messages are not signed; nothing to verify.
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        let mut failures = self.failures.borrow_mut();
        for pkesk in pkesks {
            let Some(handle) = pkesk.recipient() else {
                failures.push("the message is encrypted to an anonymous recipient".to_owned());
                continue;
            };
            let id = openpgp::KeyID::from(&handle).to_hex();
            let Some((cert, key)) = self.keys.find_key(&handle) else {
                failures.push(format!(
                    "no public key for key ID {id} in {}",
                    self.keys.home.display()
                ));
                continue;
            };
            let outcome = if let Some(secret) = self.keys.clear_secret(&key) {
                match secret.into_keypair() {
                    Ok(mut pair) => pkesk.decrypt(&mut pair, sym_algo).ok_or_else(|| {
                        format!("the secret key for key ID {id} did not decrypt the session key")
                    }),
                    Err(e) => Err(format!("the secret key for key ID {id} is unusable: {e}")),
                }
            } else if let Some(file) = self.keys.agent_key_for(&key) {
                // Protected or on a smartcard: only the agent can use it.
                agent::decrypt(&self.keys.agent, &file.keygrip, &key, pkesk, sym_algo)
                    .map_err(|e| format!("the secret key for key ID {id} is held by gpg-agent: {e}"))
            } else {
                Err(format!(
                    "no secret key for key ID {id} in {}",
                    self.keys.home.join("private-keys-v1.d").display()
                ))
            };
            match outcome {
                Ok((algo, session_key)) => {
                    if decrypt(algo, &session_key) {
                        return Ok(Some(cert.clone()));
                    }
                    failures.push(format!("the session key for key ID {id} did not decrypt the message"));
                }
                Err(e) => failures.push(e),
            }
        }
        Err(openpgp::Error::MissingSessionKey("no key to decrypt the message".into()).into())
    }
}
